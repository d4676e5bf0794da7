//! Rekeying: a new random data key for the whole vault. Every sealed record (chunks of every
//! resolution, settings, the writer state) is opened with the old key and sealed again with the
//! new one, the passphrase wraps the new key under a new salt, and every key slot is removed,
//! all in one SQLite transaction: a process killed halfway leaves the vault as it was (old
//! key), a finished one leaves only the new key. Old copies of the header, of a key slot or of
//! the OS keyring's secret then open nothing written since, nor anything still in the file.

use super::Vault;
use crate::error::{Result, VaultError};
use crate::keys::{self, KdfParams};
use crate::seal::{Aad, RecordKind, Sealer};
use rusqlite::{Connection, params};

/// What [`Vault::rekey`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RekeyReport {
    /// Records sealed again under the new key (chunks, settings, writer state).
    pub resealed: u64,
    /// Records that could not be opened with the old key either (already damaged); they are
    /// left as they were and stay reported as damaged by `verify`.
    pub damaged: u64,
    /// Whether an OS-keyring slot was removed (turn it on again for a new secret).
    pub keyring_slot_removed: bool,
}

/// One sealed record and the identity its associated data names.
struct Record {
    table: Table,
    series: u32,
    resolution: u8,
    window_start: i64,
    name: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Table {
    Chunk,
    Setting,
    WriterState,
}

impl Record {
    fn aad<'a>(&'a self, vault_id: &'a [u8; 16]) -> Aad<'a> {
        let kind = match self.table {
            Table::Chunk => RecordKind::Chunk,
            Table::Setting => RecordKind::Setting,
            Table::WriterState => RecordKind::WriterState,
        };
        Aad {
            vault_id,
            kind,
            series: self.series,
            resolution: self.resolution,
            window_start: self.window_start,
            name: self.name.as_bytes(),
        }
    }

    fn read(&self, conn: &Connection) -> rusqlite::Result<Vec<u8>> {
        match self.table {
            Table::Chunk => conn.query_row(
                "SELECT sealed FROM chunk WHERE series = ?1 AND res = ?2 AND window_start = ?3",
                params![self.series, self.resolution, self.window_start],
                |r| r.get(0),
            ),
            Table::Setting => conn.query_row(
                "SELECT sealed FROM setting WHERE name = ?1",
                params![self.name],
                |r| r.get(0),
            ),
            Table::WriterState => {
                conn.query_row("SELECT sealed FROM writer_state WHERE id = 1", [], |r| {
                    r.get(0)
                })
            }
        }
    }

    fn write(&self, conn: &Connection, sealed: &[u8]) -> rusqlite::Result<usize> {
        match self.table {
            Table::Chunk => conn.execute(
                "UPDATE chunk SET sealed = ?4 WHERE series = ?1 AND res = ?2 AND window_start = ?3",
                params![self.series, self.resolution, self.window_start, sealed],
            ),
            Table::Setting => conn.execute(
                "UPDATE setting SET sealed = ?2 WHERE name = ?1",
                params![self.name, sealed],
            ),
            Table::WriterState => conn.execute(
                "UPDATE writer_state SET sealed = ?1 WHERE id = 1",
                params![sealed],
            ),
        }
    }
}

/// The tables rekeying knows: the header and key slots (rewritten and emptied) and the three
/// tables of sealed records. Any other table (a newer build's) stops the rekey before
/// anything is written, rather than leaving records sealed under a key that is then gone.
const KNOWN_TABLES: [&str; 6] = [
    "header",
    "key_slot",
    "chunk",
    "setting",
    "writer_state",
    "write_key",
];

/// Refuses a vault with tables rekeying does not know.
fn only_known_tables(conn: &Connection) -> Result<()> {
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )?;
    let names = stmt.query_map([], |r| r.get::<_, String>(0))?;
    for name in names {
        let name = name?;
        if !KNOWN_TABLES.contains(&name.as_str()) {
            return Err(VaultError::UnknownRecords(name));
        }
    }
    Ok(())
}

/// Every sealed record of the vault, keys only (a few bytes each, even for years of data).
fn records(conn: &Connection) -> rusqlite::Result<Vec<Record>> {
    let mut out = Vec::new();
    let mut stmt = conn.prepare(
        "SELECT series, res, window_start FROM chunk ORDER BY series, res, window_start",
    )?;
    let chunks = stmt.query_map([], |r| {
        Ok(Record {
            table: Table::Chunk,
            series: r.get(0)?,
            resolution: r.get(1)?,
            window_start: r.get(2)?,
            name: String::new(),
        })
    })?;
    for c in chunks {
        out.push(c?);
    }
    let mut stmt = conn.prepare("SELECT name FROM setting ORDER BY name")?;
    let settings = stmt.query_map([], |r| {
        Ok(Record {
            table: Table::Setting,
            series: 0,
            resolution: 0,
            window_start: 0,
            name: r.get(0)?,
        })
    })?;
    for s in settings {
        out.push(s?);
    }
    let state: i64 = conn.query_row("SELECT count(*) FROM writer_state", [], |r| r.get(0))?;
    if state > 0 {
        out.push(Record {
            table: Table::WriterState,
            series: 0,
            resolution: 0,
            window_start: 0,
            name: String::new(),
        });
    }
    Ok(out)
}

impl Vault {
    /// Replaces the data key: draws a new random key, seals every record again under it,
    /// wraps it under `passphrase` (the current one, or a new one: `hearth passwd --rekey`)
    /// with a new salt and `kdf` (default: the vault's settings if within bounds, else
    /// [`KdfParams::default`]), and removes every key slot (the OS keyring must be turned on
    /// again, with a new secret). One transaction: killed halfway, the vault opens with the
    /// old key as before; done, only the new one opens it. `progress(done, total)` is called
    /// after each record. Writer only; other handles on this vault (readers) must be opened
    /// again afterwards.
    pub fn rekey(
        &mut self,
        passphrase: &str,
        kdf: Option<KdfParams>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<RekeyReport> {
        self.writer()?;
        self.flush()?;
        let kdf = match kdf {
            Some(k) => k,
            None if self.header.kdf.check().is_ok() => self.header.kdf,
            None => KdfParams::default(),
        };
        kdf.check()?;
        let new_key = keys::random_key()?;
        let salt: [u8; 16] = keys::random()?;
        let wrapped = keys::wrap(&self.header.vault_id, &new_key, passphrase, &kdf, &salt)?;
        let mut header = self.header.clone();
        header.kdf = kdf;
        header.salt = salt;
        header.wrapped_key = wrapped;
        let new_sealer = Sealer::new(&new_key);
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let resealed = reseal_all(&self.conn, &self.sealer, &new_sealer, &header, progress)
            .and_then(|report| {
                self.conn.execute_batch("COMMIT")?;
                Ok(report)
            });
        if resealed.is_err() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        let report = resealed?;
        // The old records' pages leave the write-ahead log; `secure_delete` zeroes freed ones.
        self.truncate_wal()?;
        self.header = header;
        self.sealer = new_sealer;
        self.data_key = new_key;
        Ok(report)
    }
}

/// The body of the rekey transaction.
fn reseal_all(
    conn: &Connection,
    old: &Sealer,
    new: &Sealer,
    header: &crate::schema::Header,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<RekeyReport> {
    only_known_tables(conn)?;
    let mut report = RekeyReport::default();
    let all = records(conn)?;
    let total = all.len() as u64;
    for (i, record) in all.iter().enumerate() {
        let aad = record.aad(&header.vault_id);
        let sealed = record.read(conn)?;
        match old.open(&aad, &sealed) {
            Some(plain) => {
                let again = new.seal(&aad, &plain)?;
                record.write(conn, &again)?;
                report.resealed += 1;
            }
            None => report.damaged += 1,
        }
        progress(i as u64 + 1, total);
    }
    header.write(conn)?;
    report.keyring_slot_removed = crate::schema::read_slot(conn, keys::KEYRING_SLOT)?.is_some();
    let has_slots: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'key_slot'",
        [],
        |r| r.get(0),
    )?;
    if has_slots {
        conn.execute("DELETE FROM key_slot", [])?;
    }
    Ok(report)
}
