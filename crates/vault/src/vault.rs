//! The vault handle: what an open vault holds, its accessors and reading its sealed chunks.
//! Opening and creating live in `open`, the OS-keyring slot and passphrase in `key_slots`,
//! replacing the data key in `rekey`,
//! appending and checkpoints in `writer`, settings in `settings`, the integrity check in
//! `verify`; queries in `crate::query`, backups in `crate::backup`.

mod key_slots;
mod open;
mod rekey;
mod settings;
mod verify;
mod writer;

pub use open::{CreateOptions, VaultInfo};
pub(crate) use open::{reader_connection, writer_connection};
pub use rekey::RekeyReport;
pub use verify::VerifyReport;
pub use writer::{FLUSH_INTERVAL, FUTURE_GRACE_SECONDS, IngestStats};

use crate::codec;
use crate::error::{Result, VaultError};
use crate::manifest::{self, Entry, Integrity, Manifest};
use crate::resolution::Resolution;
use crate::rollup::{self, RollupCounts};
use crate::schema::Header;
use crate::seal::{Aad, RecordKind, Sealer};
use hearth_meter::Reading;
use jiff::tz::TimeZone;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};
use writer::Writer;
use zeroize::Zeroizing;

/// The only series so far: the household's main meter.
pub(crate) const SERIES_MAIN: u32 = 0;

/// An open vault. Open it once as the writer ([`Vault::open`]) and as often as needed for
/// reading ([`Vault::open_read_only`]); readers see what the writer last flushed.
pub struct Vault {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    pub(crate) header: Header,
    pub(crate) sealer: Sealer,
    data_key: crate::keys::Key,
    /// Format 2: the key that names setting rows (`settings::keyed_name`).
    names_key: Option<crate::keys::Key>,
    /// Format 2: the integrity manifest (kept up to date by the writer).
    pub(crate) manifest: Option<Manifest>,
    integrity: Integrity,
    pub(crate) tz: TimeZone,
    pub(crate) writer: Option<Writer>,
    writer_state_rebuilt: bool,
    /// What the writer open took in from the inbox (`crate::write_only`).
    pub(crate) inbox: crate::write_only::InboxReport,
}

impl Vault {
    /// Whether opening found the writer's checkpoint state unreadable and rebuilt it from the
    /// stored chunks (nothing stored was lost; callers may tell the user).
    pub fn writer_state_rebuilt(&self) -> bool {
        self.writer_state_rebuilt
    }

    /// How the integrity manifest checked out when this handle opened the vault (see
    /// [`Integrity`]); `verify` checks every record against it.
    pub fn integrity(&self) -> &Integrity {
        &self.integrity
    }

    /// The integrity manifest's generation as this handle last sealed or read it: one more at
    /// every commit that changed a record (`None` for a format-1 vault). A copy of it kept
    /// outside the file (the OS keyring) would show a whole file put back to an older copy.
    pub fn manifest_generation(&self) -> Option<u64> {
        self.manifest.as_ref().map(Manifest::generation)
    }

    /// The vault's time zone (local days and months of the rollups).
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// Where the vault file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The vault's random id as 32 lowercase hex digits (the OS-keyring entry's user name).
    pub fn id_hex(&self) -> String {
        hex(&self.header.vault_id)
    }

    /// Whether this handle is the vault's writer (not opened read-only).
    pub fn is_writer(&self) -> bool {
        self.writer.is_some()
    }

    /// Ingest counters of this writer session.
    pub fn stats(&self) -> IngestStats {
        self.writer.as_ref().map(|w| w.stats).unwrap_or_default()
    }

    /// Meter swaps, register glitches and gaps seen by the rollups (all sessions; glitches and
    /// swaps each once, however often their month is rebuilt).
    pub fn rollup_counts(&self) -> RollupCounts {
        self.writer
            .as_ref()
            .map(|w| w.builder.counts())
            .unwrap_or_default()
    }

    /// The newest stored reading time (writer only; includes unflushed readings).
    pub fn last_time(&self) -> Option<i64> {
        self.writer.as_ref().and_then(|w| w.last_time)
    }

    pub(crate) fn aad<'a>(
        &'a self,
        kind: RecordKind,
        resolution: u8,
        window_start: i64,
        name: &'a [u8],
    ) -> Aad<'a> {
        Aad {
            format: self.header.format,
            vault_id: &self.header.vault_id,
            kind,
            series: SERIES_MAIN,
            resolution,
            window_start,
            name,
        }
    }

    /// Runs `read` on one snapshot of the file, so a reader beside a writer takes records and
    /// their manifest rows from the same commit (never one from the next, which would look
    /// like a rollback). The writer, the only one to change the file, needs none; nor does a
    /// caller already in a transaction.
    pub(crate) fn snapshot<T>(&self, read: impl FnOnce() -> Result<T>) -> Result<T> {
        if self.writer.is_some() || !self.conn.is_autocommit() {
            return read();
        }
        let tx = self.conn.unchecked_transaction()?;
        let out = read();
        // Rolled back on drop: it only read.
        drop(tx);
        out
    }

    /// The opened payload of one chunk, if stored.
    pub(crate) fn chunk_payload(
        &self,
        res: Resolution,
        window: i64,
    ) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let sealed = if self.manifest.is_some() {
            // The chunk and its manifest row in one statement: one snapshot of the file.
            let Some((sealed, tag)) =
                manifest::chunk_with_tag(&self.conn, SERIES_MAIN, res.code(), window)?
            else {
                return Ok(None);
            };
            if !manifest::tag_matches(&sealed, tag.as_deref()) {
                return Err(VaultError::Damaged {
                    what: format!(
                        "{} is not the version Hearth last wrote (rolled back)",
                        chunk_name(res.code(), window)
                    ),
                });
            }
            sealed
        } else {
            let sealed: Option<Vec<u8>> = self
                .conn
                .prepare_cached(
                    "SELECT sealed FROM chunk WHERE series = ?1 AND res = ?2 AND window_start = ?3",
                )?
                .query_row(params![SERIES_MAIN, res.code(), window], |r| r.get(0))
                .optional()?;
            let Some(sealed) = sealed else {
                return Ok(None);
            };
            sealed
        };
        self.sealer
            .open(
                &self.aad(RecordKind::Chunk, res.code(), window, b""),
                &sealed,
            )
            .map(Some)
            .ok_or_else(|| damaged(res, window))
    }

    /// The readings of one raw chunk.
    pub(crate) fn raw_chunk(&self, window: i64) -> Result<Option<Vec<Reading>>> {
        match self.chunk_payload(Resolution::Raw, window)? {
            None => Ok(None),
            Some(p) => codec::decode(&p)
                .map(Some)
                .map_err(|_| damaged(Resolution::Raw, window)),
        }
    }

    /// The buckets of one rollup chunk.
    pub(crate) fn rollup_chunk(
        &self,
        res: Resolution,
        window: i64,
    ) -> Result<Option<Vec<rollup::Bucket>>> {
        match self.chunk_payload(res, window)? {
            None => Ok(None),
            Some(p) => rollup::decode_buckets(&p)
                .map(Some)
                .map_err(|_| damaged(res, window)),
        }
    }

    /// Chunk windows of a series in `[from, to)`, oldest first.
    pub(crate) fn windows(&self, res: Resolution, from: i64, to: i64) -> Result<Vec<i64>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT window_start FROM chunk WHERE series = ?1 AND res = ?2
             AND window_start >= ?3 AND window_start < ?4 ORDER BY window_start",
        )?;
        let rows = stmt.query_map(params![SERIES_MAIN, res.code(), from, to], |r| r.get(0))?;
        Ok(rows.collect::<Result<Vec<i64>, _>>()?)
    }

    /// A record was sealed and stored: the manifest (format 2) takes its tag.
    pub(crate) fn note_written(&mut self, e: &Entry<'_>, sealed: &[u8]) -> Result<()> {
        match self.manifest.as_mut() {
            Some(m) => m.record(&self.conn, e, manifest::tag_of(sealed)),
            None => Ok(()),
        }
    }

    /// A fresh manifest for a copy of this vault's records (a backup), built from what the
    /// copy `conn` holds and sealed there; `None` for a format-1 vault.
    pub(crate) fn manifest_for_copy(&self, conn: &Connection) -> Result<()> {
        if self.manifest.is_none() {
            return Ok(());
        }
        conn.execute_batch(manifest::TABLES)?;
        Manifest::build(conn, manifest::key_for(&self.data_key))?.save_root(
            conn,
            &self.sealer,
            &self.header.vault_id,
        )
    }

    /// Seals the manifest's root if records changed: call before every commit.
    pub(crate) fn save_manifest(&mut self) -> Result<()> {
        match self.manifest.as_mut() {
            Some(m) => m.save_root(&self.conn, &self.sealer, &self.header.vault_id),
            None => Ok(()),
        }
    }

    pub(super) fn newest_raw_window(&self) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row(
                "SELECT max(window_start) FROM chunk WHERE series = ?1 AND res = 0",
                params![SERIES_MAIN],
                |r| r.get::<_, Option<i64>>(0),
            )
            .optional()?
            .flatten())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn damaged(res: Resolution, window: i64) -> VaultError {
    VaultError::Damaged {
        what: chunk_name(res.code(), window),
    }
}

/// "raw chunk starting 2026-01-01T00:00:00Z", for messages.
pub(crate) fn chunk_name(res: u8, window: i64) -> String {
    let when = jiff::Timestamp::from_second(window)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| window.to_string());
    let name = Resolution::ALL
        .into_iter()
        .find(|r| r.code() == res)
        .map_or("unknown", |r| r.name());
    format!("{name} chunk starting {when}")
}
