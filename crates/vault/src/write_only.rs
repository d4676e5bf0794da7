//! Write-only collection: a collector that holds no passphrase and no keyring secret appends
//! readings to the vault sealed to its write-only key ([`crate::write_key`]), and the next
//! unlocked writer open takes them in (opens them, stores them through the writer, books
//! their rollups, deletes them).
//!
//! # The inbox
//!
//! One table, `inbox` (`id`, `received`, `sealed`): each row one block of up to
//! [`BLOCK_READINGS`] readings, coded by [`crate::codec`], padded like every sealed record
//! (`length u32 LE | codec bytes | zeros` up to the size class) and sealed to the vault's
//! public write-only key under the label [`LABEL`]. `received` is the UTC hour of the block's
//! newest reading. The open block's row is replaced at every flush (at least every
//! [`FLUSH_INTERVAL`]) by a new sealing of all its readings so far, each with a fresh
//! ephemeral key and nonce; a closed block's row never changes.
//!
//! A [`WriteOnly`] handle takes the writer lock (so it never writes beside another collector
//! or an unlocked writer), reads the clear public key, and can append but never read: it has
//! no data key and no API that reads. A kill loses only what arrived since the last flush (at
//! most [`FLUSH_INTERVAL`] of readings); registers are in every reading, so no energy is lost.
//! In memory in the clear: the open block's readings, at most [`BLOCK_READINGS`].
//!
//! The same blocks, gathered and flushed the same way, go to a sync folder instead when the
//! collector has no vault at all ([`WriteOnly::to_folder`]): one increment file per block
//! ([`crate::increment`]), replaced at every flush while the block is open.
//!
//! # Taking in
//!
//! Every writer open with the data key ([`Vault::open`], [`Vault::open_with_secret`]) opens
//! the inbox's blocks, oldest first, in groups: a group's readings are appended through the
//! writer (late ones merged into their hours, equal ones dropped as duplicates), then its rows
//! are deleted in the same transaction as the checkpoint that stores the readings. A crash
//! before that commit leaves the rows, and taking them in again adds nothing that is already
//! stored. A block that does not open (another key, changed bytes, garbage) or does not decode
//! is refused with a reason, counted ([`InboxReport`]) and deleted; the rest are taken in.

use crate::codec;
use crate::error::{Result, VaultError};
use crate::increment::FolderSink;
use crate::resolution::Resolution;
use crate::schema::{self, Header};
use crate::seal::size_class;
use crate::vault::{FLUSH_INTERVAL, Vault};
use crate::write_key::{PublicKey, seal_to};
use hearth_meter::Reading;
use rusqlite::{Connection, params};
use std::path::{Path, PathBuf};
use std::time::Instant;
use zeroize::Zeroizing;

/// The label of inbox blocks (part of their associated data, with the vault id).
pub const LABEL: &str = "vault.inbox";
/// A block is closed when it holds this many readings (an hour at one a second, as the
/// writer's open raw chunk): until then, every flush seals the readings gathered so far again
/// and replaces the block's row, so a kill loses at most [`FLUSH_INTERVAL`] while unlocking
/// opens one block per hour (one X25519 agreement each), not one per ten seconds. Measured
/// (`benches/write_only.rs`): blocks of 600 readings appended at 62 % of the writer's rate
/// (the codec's cost per chunk), blocks of 3600 at 141 %.
pub const BLOCK_READINGS: usize = 3600;
/// Readings taken in per transaction (at most; a group ends after the block that passes it):
/// a day of one-second readings is one group, which the writer stores with one checkpoint.
const GROUP_READINGS: usize = 100_000;
/// Rows read from the inbox at a time.
const FETCH_ROWS: i64 = 256;

/// The inbox table; created by the first write-only open.
pub(crate) const TABLE: &str = "
CREATE TABLE IF NOT EXISTS inbox (
    id INTEGER PRIMARY KEY,
    received INTEGER NOT NULL,
    sealed BLOB NOT NULL
);
";

/// What a write-only handle has done since it was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteOnlyStats {
    /// Readings sealed into the inbox (blocks committed).
    pub stored: u64,
    /// Blocks written.
    pub blocks: u64,
    /// Readings without any time, which cannot be stored.
    pub untimed: u64,
    /// Readings dated too far after the caller's clock ([`WriteOnly::set_clock`]).
    pub future: u64,
}

/// A vault opened to append only: no passphrase, no keyring, no data key. See the module.
/// Its blocks go to the vault's inbox ([`Vault::open_write_only`]) or, on a collector box
/// with no vault, to a sync folder as increment files ([`WriteOnly::to_folder`],
/// [`crate::increment`]); gathering and flushing are the same.
pub struct WriteOnly {
    sink: Sink,
    public: PublicKey,
    /// The readings of the open block (at most [`BLOCK_READINGS`]).
    open: Vec<Reading>,
    /// How many of them the open block's row holds (sealed at the last flush).
    sealed: usize,
    last_flush: Instant,
    not_after: i64,
    stats: WriteOnlyStats,
    /// A write failed: nothing more is written (the block in memory is given up).
    poisoned: bool,
}

/// Where sealed blocks go.
enum Sink {
    /// The vault's inbox table, under the writer lock.
    Inbox {
        conn: Connection,
        path: PathBuf,
        /// The open block's row, once it has one.
        open_row: Option<i64>,
        _lock: Connection,
    },
    /// Increment files in a folder.
    Folder(FolderSink),
}

impl Vault {
    /// Opens the vault at `path` to append readings without any key (see [`WriteOnly`]).
    /// [`VaultError::Busy`] while another process writes; [`VaultError::NoWriteKey`] for a
    /// vault not yet unlocked by a build with write-only keys.
    pub fn open_write_only(path: &Path) -> Result<WriteOnly> {
        let (conn, lock) = crate::vault::writer_connection(path)?;
        Header::read(&conn, path)?;
        schema::check_objects(&conn, path, false)?;
        let public = Vault::write_key_public(path)?.ok_or(VaultError::NoWriteKey)?;
        conn.execute_batch(TABLE)?;
        Ok(WriteOnly::new(
            Sink::Inbox {
                conn,
                path: path.to_path_buf(),
                open_row: None,
                _lock: lock,
            },
            public,
        ))
    }

    /// How many blocks wait in the inbox, read without any key (0 when there is no inbox).
    pub fn inbox_waiting(path: &Path) -> Result<u64> {
        let conn = crate::vault::reader_connection(path)?;
        if !has_inbox(&conn)? {
            return Ok(0);
        }
        Ok(conn.query_row("SELECT count(*) FROM inbox", [], |r| r.get::<_, i64>(0))? as u64)
    }

    /// What the writer open took in from the inbox (all zero for a reader, or with nothing
    /// waiting).
    pub fn inbox_report(&self) -> &InboxReport {
        &self.inbox
    }
}

impl WriteOnly {
    fn new(sink: Sink, public: PublicKey) -> WriteOnly {
        WriteOnly {
            sink,
            public,
            open: Vec::new(),
            sealed: 0,
            last_flush: Instant::now(),
            not_after: i64::MAX,
            stats: WriteOnlyStats::default(),
            poisoned: false,
        }
    }

    /// A collector with no vault: blocks sealed to `public` (from the folder's card,
    /// [`crate::increment::Card`]) are written as increment files into `dir`, which the
    /// unlocked vault merges ([`Vault::merge_folder`]). Takes no lock: each handle writes
    /// files of its own (a random run id in their names).
    pub fn to_folder(dir: &Path, public: PublicKey) -> Result<WriteOnly> {
        let sink = FolderSink::new(dir, public.vault_id())?;
        Ok(WriteOnly::new(Sink::Folder(sink), public))
    }

    /// Where the blocks go: the vault file, or the folder.
    pub fn path(&self) -> &Path {
        match &self.sink {
            Sink::Inbox { path, .. } => path,
            Sink::Folder(f) => f.dir(),
        }
    }

    /// The key this handle seals to (the vault file's clear copy, read at open).
    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    /// What this handle has stored so far.
    pub fn stats(&self) -> WriteOnlyStats {
        self.stats
    }

    /// As [`Vault::set_clock`]: readings dated more than
    /// [`FUTURE_GRACE_SECONDS`](crate::FUTURE_GRACE_SECONDS) after `now_unix` are refused.
    pub fn set_clock(&mut self, now_unix: i64) {
        self.not_after = now_unix.saturating_add(crate::FUTURE_GRACE_SECONDS);
    }

    /// Gathers readings for the next block; seals one when [`BLOCK_READINGS`] are gathered.
    /// Call [`WriteOnly::flush_due`] after each append when collecting live.
    pub fn append(&mut self, readings: &[Reading]) -> Result<()> {
        if self.poisoned {
            return Err(VaultError::Poisoned);
        }
        for r in readings {
            let Some(t) = r.time.map(|t| t.unix) else {
                self.stats.untimed += 1;
                continue;
            };
            if t > self.not_after {
                self.stats.future += 1;
                continue;
            }
            self.open.push(r.clone());
            if self.open.len() >= BLOCK_READINGS {
                self.flush()?;
            }
        }
        Ok(())
    }

    /// Seals the gathered readings as a block if [`FLUSH_INTERVAL`] has passed since the last
    /// block (`now` from the caller's monotonic clock). Returns whether it did.
    pub fn flush_due(&mut self, now: Instant) -> Result<bool> {
        if now.saturating_duration_since(self.last_flush) >= FLUSH_INTERVAL {
            self.flush()?;
            self.last_flush = now;
            return Ok(true);
        }
        Ok(false)
    }

    /// Seals the open block's readings and commits them: a new row, or the open block's row
    /// replaced by one holding these readings and those it held. A block of
    /// [`BLOCK_READINGS`] is closed: the next reading starts a new one.
    pub fn flush(&mut self) -> Result<()> {
        if self.poisoned {
            return Err(VaultError::Poisoned);
        }
        if self.open.len() > self.sealed {
            let result = self.write_block();
            if result.is_err() {
                self.poisoned = true;
                return result;
            }
        }
        if self.open.len() >= BLOCK_READINGS {
            // Plain readings are not kept once their block is closed.
            self.open.clear();
            self.sealed = 0;
            match &mut self.sink {
                Sink::Inbox { open_row, .. } => *open_row = None,
                Sink::Folder(f) => f.close_block(),
            }
        }
        Ok(())
    }

    fn write_block(&mut self) -> Result<()> {
        let newest = self
            .open
            .iter()
            .filter_map(|r| r.time.map(|t| t.unix))
            .max()
            .unwrap_or(0);
        let received = Resolution::Raw.chunk_start(newest);
        let code = Zeroizing::new(codec::encode(&self.open));
        let sealed = seal_to(&self.public, LABEL, &pad(&code)?)?;
        let new_block = match &mut self.sink {
            Sink::Inbox { conn, open_row, .. } => match *open_row {
                Some(id) => {
                    conn.prepare_cached(
                        "UPDATE inbox SET received = ?1, sealed = ?2 WHERE id = ?3",
                    )?
                    .execute(params![received, sealed, id])?;
                    false
                }
                None => {
                    conn.prepare_cached("INSERT INTO inbox (received, sealed) VALUES (?1, ?2)")?
                        .execute(params![received, sealed])?;
                    *open_row = Some(conn.last_insert_rowid());
                    true
                }
            },
            Sink::Folder(f) => f.write(&sealed)?,
        };
        if new_block {
            self.stats.blocks += 1;
        }
        self.stats.stored += (self.open.len() - self.sealed) as u64;
        self.sealed = self.open.len();
        Ok(())
    }

    /// Seals what is gathered and releases the writer lock (also done, errors ignored, when
    /// the handle is dropped).
    pub fn close(mut self) -> Result<()> {
        self.flush()
    }
}

impl Drop for WriteOnly {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// `length (u32 LE) | payload | zeros` up to the payload's size class.
fn pad(payload: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let len = u32::try_from(payload.len()).map_err(|_| VaultError::Damaged {
        what: "block larger than 4 GiB".into(),
    })?;
    let mut padded = Zeroizing::new(Vec::with_capacity(size_class(payload.len())));
    padded.extend_from_slice(&len.to_le_bytes());
    padded.extend_from_slice(payload);
    padded.resize(size_class(payload.len()), 0);
    Ok(padded)
}

/// The payload inside a padded block; `None` when the length does not fit or the padding is
/// not zeros.
fn unpad(padded: &[u8]) -> Option<&[u8]> {
    let len = u32::from_le_bytes(padded.get(..4)?.try_into().ok()?) as usize;
    let end = len.checked_add(4)?;
    let payload = padded.get(4..end)?;
    padded[end..].iter().all(|&b| b == 0).then_some(payload)
}

/// What a writer open took in from the inbox.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InboxReport {
    /// Blocks opened and taken in.
    pub blocks: u64,
    /// Readings in them.
    pub readings: u64,
    /// Of those, readings the vault did not have yet (stored or merged into their hours).
    pub added: u64,
    /// Of those, readings the vault already had (a block taken in twice after a crash).
    pub duplicates: u64,
    /// Blocks refused, each with why (deleted; their readings are not stored).
    pub refused: Vec<String>,
}

fn has_inbox(conn: &Connection) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'inbox'",
        [],
        |r| r.get(0),
    )?)
}

/// Takes the inbox in (see the module); called by writer opens with the data key.
pub(crate) fn take_in(vault: &mut Vault) -> Result<InboxReport> {
    let mut report = InboxReport::default();
    if !has_inbox(&vault.conn)? {
        return Ok(report);
    }
    // Without the private half nothing opens: the rows wait (a later open may have it).
    if vault.write_key().ok().flatten().is_none() {
        return Ok(report);
    }
    let before = vault.stats();
    let mut after_id = i64::MIN;
    loop {
        // One group: blocks oldest first until GROUP_READINGS readings.
        let mut readings = Vec::new();
        let mut last_id = after_id;
        let mut more = true;
        while more && readings.len() < GROUP_READINGS {
            let rows: Vec<(i64, Vec<u8>)> = {
                let mut stmt = vault.conn.prepare_cached(
                    "SELECT id, sealed FROM inbox WHERE id > ?1 ORDER BY id LIMIT ?2",
                )?;
                stmt.query_map(params![last_id, FETCH_ROWS], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<_>>()?
            };
            more = rows.len() as i64 == FETCH_ROWS;
            for (id, sealed) in &rows {
                match open_block(vault, sealed) {
                    Ok(mut rs) => {
                        report.blocks += 1;
                        report.readings += rs.len() as u64;
                        readings.append(&mut rs);
                    }
                    Err(why) => report.refused.push(format!("inbox block {id}: {why}")),
                }
                last_id = *id;
                if readings.len() >= GROUP_READINGS {
                    more = true;
                    break;
                }
            }
        }
        if last_id == after_id {
            break;
        }
        // Oldest first: the writer's fast path for what is newer than the vault, one merge
        // per hour for the rest.
        readings.sort_by_key(|r| r.time.map_or(i64::MIN, |t| t.unix));
        vault.append(&readings)?;
        drop(readings);
        vault.begin()?;
        vault.conn.execute(
            "DELETE FROM inbox WHERE id > ?1 AND id <= ?2",
            params![after_id, last_id],
        )?;
        if let Some(w) = vault.writer.as_mut() {
            w.dirty = true;
        }
        vault.flush()?;
        after_id = last_id;
        if !more {
            break;
        }
    }
    let after = vault.stats();
    report.added = (after.stored + after.late) - (before.stored + before.late);
    report.duplicates = after.duplicates - before.duplicates;
    // The session's counters are the collector's, not the inbox's.
    if let Some(w) = vault.writer.as_mut() {
        w.stats = before;
    }
    Ok(report)
}

/// The readings of one inbox block, or why it is refused.
pub(crate) fn open_block(
    vault: &Vault,
    sealed: &[u8],
) -> std::result::Result<Vec<Reading>, &'static str> {
    let padded = vault
        .open_sealed_block(LABEL, sealed)
        .map_err(|_| "it does not open with this vault's write-only key (changed or foreign)")?;
    let payload = unpad(&padded).ok_or("its padding is malformed")?;
    let readings = codec::decode(payload).map_err(|_| "its readings do not decode")?;
    if readings.iter().any(|r| r.time.is_none()) {
        return Err("it holds a reading without a time");
    }
    Ok(readings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_round_trips_and_hides_small_differences() {
        for n in [0usize, 1, 60, 61, 1000, 5000] {
            let payload: Vec<u8> = (0..n).map(|i| (i % 251) as u8 + 1).collect();
            let padded = pad(&payload).unwrap();
            assert_eq!(padded.len(), size_class(n));
            assert_eq!(unpad(&padded), Some(&payload[..]));
        }
        assert_eq!(
            pad(&[1; 1000]).unwrap().len(),
            pad(&[1; 1010]).unwrap().len()
        );
        let mut bad = pad(&[7; 10]).unwrap().to_vec();
        bad[20] = 1;
        assert_eq!(unpad(&bad), None, "padding that is not zeros");
        let mut long = pad(&[7; 10]).unwrap().to_vec();
        long[..4].copy_from_slice(&1000u32.to_le_bytes());
        assert_eq!(unpad(&long), None, "a length past the end");
        assert_eq!(unpad(&[1, 0]), None);
    }
}
