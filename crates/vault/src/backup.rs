//! Encrypted backups: a backup file is itself a vault in the same format, holding the raw
//! chunks (all of them, or the hours overlapping a range) and the settings, sealed exactly as
//! in the source, with the source's header. It opens with the source's passphrase at the time
//! of the backup. Restoring merges its readings into any vault (readings already present are
//! skipped, so restoring twice changes nothing) and rebuilds the affected rollups. It trusts
//! nothing in the file it did not check: a reading outside the hour its chunk is sealed for,
//! or dated after the caller's clock, is refused and counted; settings are taken only where
//! the caller says so (credentials and the meter source are the user's call). A backup of a
//! format-2 vault carries an integrity manifest of its own: one whose records were swapped for
//! other versions, removed or added after it was made is refused.

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
    /// Settings this vault did not have, left out because the caller did not take them.
    pub settings_skipped: u64,
    /// Readings refused: dated outside the hour their chunk is sealed for.
    pub outside_window: u64,
    /// Readings refused: dated more than [`crate::FUTURE_GRACE_SECONDS`] after the clock.
    pub future: u64,
}

/// What [`Vault::restore`] takes from a backup besides its readings.
pub struct RestoreOptions<'a> {
    /// The caller's clock (Unix seconds): readings dated after it (beyond the grace) are
    /// refused, so one forged reading in 2036 cannot make every later one look late.
    pub now: i64,
    /// Whether to take a setting this vault does not have, by name.
    pub take_setting: &'a dyn Fn(&str) -> bool,
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
        crate::private::create_file(out)?;
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
        // The backup gets an integrity manifest of its own, over what it holds.
        self.manifest_for_copy(&tx)?;
        tx.commit()?;
        Ok(report)
    }

    /// Merges a backup (made by any vault) into this one. `passphrase` is the one that
    /// protected the backup's source vault when the backup was made. Readings outside their
    /// chunk's hour or after `options.now` are refused and counted; settings this vault lacks
    /// are taken where `options.take_setting` says so.
    pub fn restore(
        &mut self,
        backup: &Path,
        passphrase: &str,
        options: &RestoreOptions<'_>,
    ) -> Result<RestoreReport> {
        if self.writer.is_none() {
            return Err(VaultError::ReadOnly);
        }
        let src = Vault::open_read_only(backup, passphrase)?;
        // A backup is never this build's own file: only Hearth's tables are read from it.
        crate::schema::check_objects(&src.conn, backup, true)?;
        // Nor a backup whose records were swapped, removed or added since it was made.
        if let crate::Integrity::Broken(why) = src.integrity() {
            return Err(VaultError::Backup(format!(
                "this backup was altered after it was made ({why}); nothing was restored"
            )));
        }
        self.flush()?;
        self.set_clock(options.now)?;
        let before = self.stats();
        let mut report = RestoreReport::default();
        for window in src.windows(Resolution::Raw, i64::MIN, i64::MAX)? {
            let mut readings = src.raw_chunk(window)?.unwrap_or_default();
            report.read += readings.len() as u64;
            let hour = window..window.saturating_add(Resolution::Raw.chunk_seconds());
            let n = readings.len();
            readings.retain(|r| r.time.is_some_and(|t| hour.contains(&t.unix)));
            report.outside_window += (n - readings.len()) as u64;
            self.append(&readings)?;
        }
        let mine = self.setting_names()?;
        for name in src.setting_names()? {
            if mine.contains(&name) {
                continue;
            }
            if !(options.take_setting)(&name) {
                report.settings_skipped += 1;
            } else if let Some(value) = src.get_setting(&name)? {
                self.put_setting(&name, &value)?;
                report.settings_added += 1;
            }
        }
        self.flush()?;
        let after = self.stats();
        report.already_present = after.duplicates - before.duplicates;
        report.future = after.future - before.future;
        report.added = report.read - report.already_present - report.future - report.outside_window;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CreateOptions, KdfParams};
    use hearth_meter::{MeterTime, Protocol, Quantity, Reading};

    fn reading(t: i64, wh: i64) -> Reading {
        let mut r = Reading::new(Protocol::Dsmr);
        r.time = Some(MeterTime::utc(t));
        r.set(Quantity::ImportWh, wh);
        r
    }

    /// Issue 18, finding 6: a chunk sealed for one hour whose readings are dated in another
    /// (a forged or damaged backup) gives up those readings, counted.
    #[test]
    fn readings_outside_the_hour_their_chunk_is_sealed_for_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let options = CreateOptions {
            kdf: KdfParams::INSECURE_FOR_TESTS,
            time_zone: None,
        };
        let hour = 1_767_225_600; // 2026-01-01T00:00Z
        let mut a = Vault::create(&dir.path().join("a.hearth"), "pw", &options).unwrap();
        a.write_raw(hour, &[reading(hour + 60, 100), reading(hour + 7200, 200)])
            .unwrap();
        a.flush().unwrap();
        let out = dir.path().join("a.backup");
        a.backup(&out, None).unwrap();
        let mut b = Vault::create(&dir.path().join("b.hearth"), "pw", &options).unwrap();
        let take = |_: &str| true;
        let options = RestoreOptions {
            now: hour + 86_400,
            take_setting: &take,
        };
        let report = b.restore(&out, "pw", &options).unwrap();
        assert_eq!(
            (report.read, report.added, report.outside_window),
            (2, 1, 1)
        );
        let kept: Vec<i64> = b
            .readings(i64::MIN, i64::MAX, Resolution::Raw)
            .unwrap()
            .map(|r| r.unwrap().start())
            .collect();
        assert_eq!(kept, [hour + 60]);
    }
}
