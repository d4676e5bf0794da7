//! Rekeying: a new random data key for the whole vault. Every sealed record (chunks of every
//! resolution, settings, the writer state) is opened with the old key and sealed again with the
//! new one, the passphrase wraps the new key under a new salt, and every key slot is removed,
//! all in one SQLite transaction: a process killed halfway leaves the vault as it was (old
//! key), a finished one leaves only the new key. Old copies of the header, of a key slot or of
//! the OS keyring's secret then open nothing written since, nor anything still in the file.
//!
//! The same re-sealing upgrades a format-1 vault to format 2 (same key, the format-2 domain,
//! keyed setting names, a new integrity manifest), and both end with the manifest built anew
//! from the records as they are.

use super::Vault;
use super::settings::{self, decode_named, encode_named, keyed_name};
use crate::error::{Result, VaultError};
use crate::keys::{self, KdfParams};
use crate::manifest::{self, Integrity, Manifest};
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

/// One sealed record and the identity its associated data names (for a setting, its row).
struct Record {
    table: Table,
    series: u32,
    resolution: u8,
    window_start: i64,
    row: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Table {
    Chunk,
    Setting,
    WriterState,
}

/// How records are sealed: the cipher, the format's domain, and (format 2) the key that
/// names setting rows.
pub(super) struct Sealing<'a> {
    pub sealer: &'a Sealer,
    pub format: u32,
    pub names_key: Option<&'a [u8; 32]>,
}

impl Record {
    fn aad<'a>(&'a self, vault_id: &'a [u8; 16], format: u32, row: &'a str) -> Aad<'a> {
        let kind = match self.table {
            Table::Chunk => RecordKind::Chunk,
            Table::Setting => RecordKind::Setting,
            Table::WriterState => RecordKind::WriterState,
        };
        Aad {
            format,
            vault_id,
            kind,
            series: self.series,
            resolution: self.resolution,
            window_start: self.window_start,
            name: row.as_bytes(),
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
                params![self.row],
                |r| r.get(0),
            ),
            Table::WriterState => {
                conn.query_row("SELECT sealed FROM writer_state WHERE id = 1", [], |r| {
                    r.get(0)
                })
            }
        }
    }

    /// Stores the re-sealed record, under row `row` for a setting (renamed if it changed).
    fn write(&self, conn: &Connection, row: &str, sealed: &[u8]) -> rusqlite::Result<usize> {
        match self.table {
            Table::Chunk => conn.execute(
                "UPDATE chunk SET sealed = ?4 WHERE series = ?1 AND res = ?2 AND window_start = ?3",
                params![self.series, self.resolution, self.window_start, sealed],
            ),
            Table::Setting if row != self.row => {
                conn.execute("DELETE FROM setting WHERE name = ?1", params![self.row])?;
                conn.execute(
                    "INSERT OR REPLACE INTO setting (name, sealed) VALUES (?1, ?2)",
                    params![row, sealed],
                )
            }
            Table::Setting => conn.execute(
                "UPDATE setting SET sealed = ?2 WHERE name = ?1",
                params![self.row, sealed],
            ),
            Table::WriterState => conn.execute(
                "UPDATE writer_state SET sealed = ?1 WHERE id = 1",
                params![sealed],
            ),
        }
    }

    /// The record opened under `from` and sealed again under `to`, with its new row name;
    /// `None` when it does not open under `from`.
    fn reseal(
        &self,
        sealed: &[u8],
        vault_id: &[u8; 16],
        from: &Sealing<'_>,
        to: &Sealing<'_>,
    ) -> Result<Option<(String, Vec<u8>)>> {
        let Some(plain) = from
            .sealer
            .open(&self.aad(vault_id, from.format, &self.row), sealed)
        else {
            return Ok(None);
        };
        if self.table != Table::Setting {
            let again = to
                .sealer
                .seal(&self.aad(vault_id, to.format, &self.row), &plain)?;
            return Ok(Some((self.row.clone(), again)));
        }
        let (name, value) = match from.names_key {
            Some(key) => match decode_named(&plain) {
                Some((name, value)) if keyed_name(key, &name) == self.row => (name, value),
                _ => return Ok(None),
            },
            None => (self.row.clone(), &plain[..]),
        };
        let (row, again) = match to.names_key {
            Some(key) => {
                let row = keyed_name(key, &name);
                let payload = encode_named(&name, value);
                let again = to
                    .sealer
                    .seal(&self.aad(vault_id, to.format, &row), &payload)?;
                (row, again)
            }
            None => {
                let again = to
                    .sealer
                    .seal(&self.aad(vault_id, to.format, &name), value)?;
                (name, again)
            }
        };
        Ok(Some((row, again)))
    }
}

/// The tables rekeying knows: the header and key slots (rewritten and emptied), the three
/// tables of sealed records, the manifest (built anew) and the clear write-only public key. Any other table (a newer build's)
/// stops the rekey before anything is written, rather than leaving records sealed under a key
/// that is then gone.
const KNOWN_TABLES: [&str; 8] = [
    "header",
    "key_slot",
    "chunk",
    "setting",
    "writer_state",
    "manifest",
    "manifest_root",
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
            row: String::new(),
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
            row: r.get(0)?,
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
            row: String::new(),
        });
    }
    Ok(out)
}

/// What re-sealing every record found.
#[derive(Default)]
struct Resealed {
    resealed: u64,
    damaged: u64,
    /// Records of a format-1 vault that open only as format 2: its header was set back.
    newer: u64,
}

/// Opens every record under `from` and seals it under `to`; the manifest is then built anew
/// from the records as they are, under `manifest_key`. Inside the caller's transaction.
fn reseal_all(
    conn: &Connection,
    vault_id: &[u8; 16],
    from: &Sealing<'_>,
    to: &Sealing<'_>,
    manifest_key: keys::Key,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(Resealed, Manifest)> {
    only_known_tables(conn)?;
    conn.execute_batch(manifest::TABLES)?;
    let mut report = Resealed::default();
    let all = records(conn)?;
    let total = all.len() as u64;
    for (i, record) in all.iter().enumerate() {
        let sealed = record.read(conn)?;
        match record.reseal(&sealed, vault_id, from, to)? {
            Some((row, again)) => {
                record.write(conn, &row, &again)?;
                report.resealed += 1;
            }
            None => {
                let as_format_2 = Sealing {
                    sealer: from.sealer,
                    format: 2,
                    names_key: None,
                };
                if from.format < 2
                    && from
                        .sealer
                        .open(
                            &record.aad(vault_id, as_format_2.format, &record.row),
                            &sealed,
                        )
                        .is_some()
                {
                    report.newer += 1;
                }
                report.damaged += 1;
            }
        }
        progress(i as u64 + 1, total);
    }
    let manifest = Manifest::build(conn, manifest_key)?;
    Ok((report, manifest))
}

impl Vault {
    /// Replaces the data key: draws a new random key, seals every record again under it,
    /// wraps it under `passphrase` (the current one, or a new one: `hearth passwd --rekey`)
    /// with a new salt and `kdf` (default: the vault's settings if within bounds, else
    /// [`KdfParams::default`]), and removes every key slot (the OS keyring must be turned on
    /// again, with a new secret). The integrity manifest is built anew from the records as
    /// they are, which also clears an integrity alarm. One transaction: killed halfway, the
    /// vault opens with the old key as before; done, only the new one opens it.
    /// `progress(done, total)` is called after each record. Writer only; other handles on
    /// this vault (readers) must be opened again afterwards.
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
        header.format = crate::FORMAT_VERSION;
        let new_sealer = Sealer::new(&new_key);
        let new_names = settings::names_key(&new_key);
        let from = Sealing {
            sealer: &self.sealer,
            format: self.header.format,
            names_key: self.names_key.as_deref().map(|k| &**k),
        };
        let to = Sealing {
            sealer: &new_sealer,
            format: header.format,
            names_key: Some(&new_names),
        };
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let vault_id = self.header.vault_id;
        let resealed = reseal_all(
            &self.conn,
            &vault_id,
            &from,
            &to,
            manifest::key_for(&new_key),
            progress,
        )
        .and_then(|(report, mut manifest)| {
            manifest.save_root(&self.conn, &new_sealer, &vault_id)?;
            header.write(&self.conn)?;
            let keyring_slot_removed = remove_slots(&self.conn)?;
            self.conn.execute_batch("COMMIT")?;
            Ok((
                RekeyReport {
                    resealed: report.resealed,
                    damaged: report.damaged,
                    keyring_slot_removed,
                },
                manifest,
            ))
        });
        if resealed.is_err() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        let (report, manifest) = resealed?;
        // The old records' pages leave the write-ahead log; `secure_delete` zeroes freed ones.
        self.truncate_wal()?;
        self.header = header;
        self.sealer = new_sealer;
        self.names_key = Some(new_names);
        self.manifest = Some(manifest);
        self.integrity = Integrity::Intact;
        self.data_key = new_key;
        Ok(report)
    }

    /// Upgrades a format-1 vault (opened as the writer, before it resumes): every record
    /// sealed again with the same key under the format-2 domain, setting rows renamed by
    /// their keyed names, the integrity manifest built, the header set to format 2; one
    /// transaction. Refused (nothing changed) when records already open only as format 2:
    /// the header was set back to shed the manifest, which is reported as damage.
    pub(super) fn upgrade_to_format_2(&mut self) -> Result<()> {
        let mut header = self.header.clone();
        header.format = 2;
        let names = settings::names_key(&self.data_key);
        let from = Sealing {
            sealer: &self.sealer,
            format: self.header.format,
            names_key: None,
        };
        let to = Sealing {
            sealer: &self.sealer,
            format: 2,
            names_key: Some(&names),
        };
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let vault_id = self.header.vault_id;
        let upgraded = reseal_all(
            &self.conn,
            &vault_id,
            &from,
            &to,
            manifest::key_for(&self.data_key),
            &mut |_, _| {},
        )
        .and_then(|(report, mut manifest)| {
            if report.newer > 0 {
                return Err(VaultError::Damaged {
                    what: format!(
                        "the vault's header says an older Hearth made it, but {} of its records \
                         were sealed by this one: its integrity manifest was removed outside \
                         Hearth",
                        report.newer
                    ),
                });
            }
            manifest.save_root(&self.conn, &self.sealer, &vault_id)?;
            header.write(&self.conn)?;
            self.conn.execute_batch("COMMIT")?;
            Ok(manifest)
        });
        if upgraded.is_err() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        let manifest = upgraded?;
        self.header = header;
        self.names_key = Some(names);
        self.manifest = Some(manifest);
        self.integrity = Integrity::Intact;
        Ok(())
    }
}

/// Removes every key slot; whether the OS-keyring one was there.
fn remove_slots(conn: &Connection) -> Result<bool> {
    let removed = crate::schema::read_slot(conn, keys::KEYRING_SLOT)?.is_some();
    let has_slots: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'key_slot'",
        [],
        |r| r.get(0),
    )?;
    if has_slots {
        conn.execute("DELETE FROM key_slot", [])?;
    }
    Ok(removed)
}
