//! Encrypted backups: a backup file is itself a vault in the same format, holding the raw
//! chunks (all of them, or the hours overlapping a range) and the settings, sealed exactly as
//! in the source, with the source's header. It opens with the source's passphrase at the time
//! of the backup. Restoring merges its readings into any vault (readings already present are
//! skipped, so restoring twice changes nothing) and rebuilds the affected rollups.

use crate::error::{Result, VaultError};
use crate::resolution::Resolution;
use crate::schema::SCHEMA;
use crate::vault::{SERIES_MAIN, Vault};
use rusqlite::{Connection, params};
use std::path::Path;

/// What [`Vault::backup`] wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BackupReport {
    /// Raw chunks (hours) copied.
    pub chunks: u64,
    /// Settings copied.
    pub settings: u64,
}

/// What [`Vault::restore`] merged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RestoreReport {
    /// Readings read from the backup.
    pub read: u64,
    /// Readings that were new to this vault.
    pub added: u64,
    /// Readings this vault already had.
    pub already_present: u64,
    /// Settings this vault did not have yet.
    pub settings_added: u64,
}

impl Vault {
    /// Writes an encrypted backup to `out` (which must not exist): every raw hour, or those
    /// overlapping `[from, to)`, plus all settings. A writer flushes first; a reader copies
    /// what the writer last flushed.
    pub fn backup(&mut self, out: &Path, range: Option<(i64, i64)>) -> Result<BackupReport> {
        if self.writer.is_some() {
            self.flush()?;
        }
        if out.exists() {
            return Err(VaultError::AlreadyExists(out.to_path_buf()));
        }
        let (from, to) = range.unwrap_or((i64::MIN, i64::MAX));
        let mut dst = Connection::open(out)?;
        dst.execute_batch(SCHEMA)?;
        let tx = dst.transaction()?;
        self.header.write(&tx)?;
        let mut report = BackupReport::default();
        {
            let mut stmt = self.conn.prepare(
                "SELECT window_start, sealed FROM chunk WHERE series = ?1 AND res = 0
                 AND window_start >= ?2 AND window_start < ?3 ORDER BY window_start",
            )?;
            let mut rows =
                stmt.query(params![SERIES_MAIN, Resolution::Raw.chunk_start(from), to])?;
            let mut insert = tx.prepare(
                "INSERT INTO chunk (series, res, window_start, sealed) VALUES (?1, 0, ?2, ?3)",
            )?;
            while let Some(row) = rows.next()? {
                let window: i64 = row.get(0)?;
                let sealed: Vec<u8> = row.get(1)?;
                insert.execute(params![SERIES_MAIN, window, sealed])?;
                report.chunks += 1;
            }
            let mut stmt = self.conn.prepare("SELECT name, sealed FROM setting")?;
            let mut rows = stmt.query([])?;
            let mut insert = tx.prepare("INSERT INTO setting (name, sealed) VALUES (?1, ?2)")?;
            while let Some(row) = rows.next()? {
                let name: String = row.get(0)?;
                let sealed: Vec<u8> = row.get(1)?;
                insert.execute(params![name, sealed])?;
                report.settings += 1;
            }
        }
        tx.commit()?;
        Ok(report)
    }

    /// Merges a backup (made by any vault) into this one. `passphrase` is the one that
    /// protected the backup's source vault when the backup was made.
    pub fn restore(&mut self, backup: &Path, passphrase: &str) -> Result<RestoreReport> {
        if self.writer.is_none() {
            return Err(VaultError::ReadOnly);
        }
        let src = Vault::open_read_only(backup, passphrase)?;
        self.flush()?;
        let before = self.stats();
        let mut report = RestoreReport::default();
        for window in src.windows(Resolution::Raw, i64::MIN, i64::MAX)? {
            let readings = src.raw_chunk(window)?.unwrap_or_default();
            report.read += readings.len() as u64;
            self.append(&readings)?;
        }
        let mine = self.setting_names()?;
        for name in src.setting_names()? {
            if !mine.contains(&name)
                && let Some(value) = src.get_setting(&name)?
            {
                self.put_setting(&name, &value)?;
                report.settings_added += 1;
            }
        }
        self.flush()?;
        let after = self.stats();
        report.already_present = after.duplicates - before.duplicates;
        report.added = report.read - report.already_present;
        Ok(report)
    }
}
