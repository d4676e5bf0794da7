//! Backups, one use case for both faces (`hearth backup` / `hearth restore` and, later, the
//! desktop's backup screen): an encrypted backup file of the whole vault or of a range given
//! as local dates, and merging a backup into a vault (readings already present are skipped,
//! so restoring twice changes nothing).

use crate::export::{Destination, ExportError};
use crate::period::{DateError, parse_bound};
use crate::settings::Setting;
use hearth_vault::{BackupReport, RestoreOptions, RestoreReport, Vault, VaultError};
use jiff::tz::TimeZone;
use std::path::{Path, PathBuf};

/// Why a backup was not written.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// A bound is not a date or a time.
    #[error(transparent)]
    Date(#[from] DateError),
    /// The vault could not be read or the file not written (it must not exist yet).
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The file chosen cannot take the backup (the vault itself, a link, changed since).
    #[error(transparent)]
    Destination(#[from] ExportError),
    /// The finished backup could not take its name.
    #[error("Cannot name the backup {}: {source}", .path.display())]
    Name {
        /// The file chosen.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

/// Why a backup was not restored.
#[derive(Debug, thiserror::Error)]
#[error("cannot restore {}", .path.display())]
pub struct RestoreError {
    /// The backup file.
    pub path: PathBuf,
    /// What went wrong (a wrong passphrase, a file that is not a backup, the vault).
    #[source]
    pub source: VaultError,
}

/// A backup merged into a vault, as the desktop's window receives it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "RestoreDto"))]
pub struct Restored {
    /// Readings read from the backup.
    pub read: u64,
    /// Readings new to this vault.
    pub added: u64,
    /// Readings this vault already had.
    pub already_present: u64,
    /// Readings refused (outside their hour, or in the future).
    pub refused: u64,
    /// Settings taken.
    pub settings_added: u64,
}

impl From<&RestoreReport> for Restored {
    fn from(r: &RestoreReport) -> Self {
        Restored {
            read: r.read,
            added: r.added,
            already_present: r.already_present,
            refused: r.outside_window + r.future,
            settings_added: r.settings_added,
        }
    }
}

/// The range a backup covers, from bounds typed by the user (local dates, midnight in `tz`,
/// or RFC 3339 times): `None` when neither is given (the whole vault); a missing start is
/// the beginning, a missing end none. A range that ends before it starts (or where it
/// starts) holds nothing and is refused.
pub fn range(
    from: Option<&str>,
    to: Option<&str>,
    tz: &TimeZone,
) -> Result<Option<(i64, i64)>, DateError> {
    if from.is_none() && to.is_none() {
        return Ok(None);
    }
    let start = from.map(|s| parse_bound(s, tz)).transpose()?;
    let end = to.map(|s| parse_bound(s, tz)).transpose()?;
    if let (Some(a), Some(b), Some(from), Some(to)) = (start, end, from, to)
        && b <= a
    {
        return Err(DateError::Backwards {
            from: from.trim().to_string(),
            to: to.trim().to_string(),
        });
    }
    Ok(Some((start.unwrap_or(i64::MIN), end.unwrap_or(i64::MAX))))
}

/// Writes an encrypted backup of `vault` to `out` (which must not exist), sealed under the
/// vault's passphrase: every hour of readings, or those overlapping the range `from`..`to`
/// (see [`range`]), and every setting. A reader copies what the writer last flushed, so a
/// backup can run beside a collector. The backup is written beside `out` under a hidden name
/// and takes its name only when complete, so an interrupted backup (a full disk, a killed
/// process) never passes for a whole one.
pub fn write(
    vault: &mut Vault,
    out: &Path,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<BackupReport, BackupError> {
    let range = range(from, to, vault.time_zone())?;
    if out.exists() {
        return Err(VaultError::AlreadyExists(out.to_path_buf()).into());
    }
    whole_or_nothing(vault, out, range)
}

/// Like [`write`], to the file the user chose in the desktop's save dialog (which asked before
/// replacing one): never the vault or one of its working files, a link or anything but a
/// regular file ([`Destination::create`]).
pub fn to_destination(
    vault: &mut Vault,
    vault_path: &Path,
    dest: &Destination,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<BackupReport, BackupError> {
    let range = range(from, to, vault.time_zone())?;
    drop(dest.create(vault_path)?);
    whole_or_nothing(vault, dest.path(), range)
}

/// The backup written to a hidden sibling of `out`, renamed over `out` when complete.
fn whole_or_nothing(
    vault: &mut Vault,
    out: &Path,
    range: Option<(i64, i64)>,
) -> Result<BackupReport, BackupError> {
    let name = out.file_name().unwrap_or(out.as_os_str()).to_string_lossy();
    let partial = out.with_file_name(format!(".{name}.partial"));
    // A leftover of an interrupted backup to the same name (never a link followed).
    if std::fs::symlink_metadata(&partial).is_ok_and(|m| m.is_file()) {
        std::fs::remove_file(&partial).map_err(VaultError::Io)?;
    }
    let report = match vault.backup(&partial, range) {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e.into());
        }
    };
    std::fs::rename(&partial, out).map_err(|source| {
        let _ = std::fs::remove_file(&partial);
        BackupError::Name {
            path: out.to_path_buf(),
            source,
        }
    })?;
    Ok(report)
}

/// Merges the backup at `file`, which opens with `passphrase`, into `vault` (its writer).
/// Readings dated after `now` (the caller's clock, Unix seconds) are refused and counted. The
/// backup's contracts and preferences are taken where this vault has none; its meter source,
/// MQTT password and meter keys only with `credentials`.
pub fn restore(
    vault: &mut Vault,
    file: &Path,
    passphrase: &str,
    now: i64,
    credentials: bool,
) -> Result<RestoreReport, RestoreError> {
    let take = |name: &str| credentials || !Setting::is_credential(name);
    let options = RestoreOptions {
        now,
        take_setting: &take,
    };
    vault
        .restore(file, passphrase, &options)
        .map_err(|source| RestoreError {
            path: file.to_path_buf(),
            source: match source {
                VaultError::NotAVault(_) => VaultError::Backup(
                    "this file is not a whole Hearth backup (cut short while it was written or \
                     copied, or not a backup at all); nothing was restored"
                        .into(),
                ),
                other => other,
            },
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
    use hearth_vault::{CreateOptions, KdfParams};

    fn vault(dir: &tempfile::TempDir, name: &str, pass: &str) -> Vault {
        let options = CreateOptions {
            kdf: KdfParams::INSECURE_FOR_TESTS,
            time_zone: Some("Europe/Amsterdam".into()),
        };
        Vault::create(&dir.path().join(name), pass, &options).expect("vault")
    }

    /// 2026-12-07T00:00:00Z, the clock of these tests.
    const NOW: i64 = 1_796_601_600;

    /// One reading a minute from 2026-01-14T23:00Z (midnight in Amsterdam) for two days.
    fn two_days(v: &mut Vault) {
        let readings: Vec<Reading> = (0..2 * 24 * 60)
            .map(|i| {
                let mut r = Reading::new(Protocol::Dsmr);
                r.time = Some(MeterTime::utc(1_768_431_600 + i * 60));
                r.set(Quantity::ImportWh, 1_000_000 + i);
                r
            })
            .collect();
        v.append(&readings).expect("append");
        v.flush().expect("flush");
    }

    #[test]
    fn a_range_of_local_dates_is_backed_up_and_restores_into_another_vault_once() {
        let dir = tempfile::tempdir().expect("dir");
        let mut a = vault(&dir, "a.hearth", "pw");
        two_days(&mut a);
        let out = dir.path().join("day.backup");
        let report = write(&mut a, &out, Some("2026-01-16"), None).expect("backup");
        // The second local day: 24 hours.
        assert_eq!(report.chunks, 24);
        let mut b = vault(&dir, "b.hearth", "other");
        let first = restore(&mut b, &out, "pw", NOW, false).expect("restore");
        assert_eq!(
            (first.read, first.added, first.already_present),
            (1440, 1440, 0)
        );
        let again = restore(&mut b, &out, "pw", NOW, false).expect("restore again");
        assert_eq!((again.added, again.already_present), (0, 1440));
        let wrong = restore(&mut b, &out, "nope", NOW, false).expect_err("wrong passphrase");
        assert_eq!(wrong.path, out);
        assert_eq!(
            wrong.to_string(),
            format!("cannot restore {}", out.display())
        );
    }

    /// Issue 18, finding 6: a backup's reading dated in 2036 is refused (it would make every
    /// later reading "late"), and its meter source, MQTT password and meter key are left out
    /// unless asked for; its contracts come along.
    #[test]
    fn restore_refuses_readings_from_the_future_and_takes_credentials_only_when_asked() {
        let dir = tempfile::tempdir().expect("dir");
        let mut a = vault(&dir, "a.hearth", "pw");
        two_days(&mut a);
        let mut r = Reading::new(Protocol::Dsmr);
        r.time = Some(MeterTime::utc(2_082_758_400)); // 2036-01-01
        r.set(Quantity::ImportWh, 9_000_000);
        a.append(&[r]).expect("append");
        for (s, v) in [
            (Setting::Source, "tcp:203.0.113.9:23?allow_public"),
            (Setting::MqttPassword, "hunter2"),
            (Setting::MeterKey, "00112233445566778899aabbccddeeff"),
            (Setting::Contract("flat"), "name = \"flat\""),
        ] {
            s.put(&mut a, v.as_bytes()).expect("setting");
        }
        let out = dir.path().join("all.backup");
        write(&mut a, &out, None, None).expect("backup");

        let mut b = vault(&dir, "b.hearth", "other");
        let report = restore(&mut b, &out, "pw", NOW, false).expect("restore");
        assert_eq!((report.read, report.added, report.future), (2881, 2880, 1));
        assert_eq!((report.settings_added, report.settings_skipped), (1, 3));
        assert!(Setting::Source.get(&b).expect("read").is_none());
        assert!(Setting::MqttPassword.get(&b).expect("read").is_none());
        assert!(Setting::Contract("flat").get(&b).expect("read").is_some());
        // A reading of today after the restore is not "late": the 2036 one is not there.
        let mut today = Reading::new(Protocol::Dsmr);
        today.time = Some(MeterTime::utc(NOW - 60));
        today.set(Quantity::ImportWh, 1_100_000);
        b.append(&[today]).expect("append");
        b.flush().expect("flush");
        assert_eq!(b.stats().late, 0);

        let mut c = vault(&dir, "c.hearth", "other");
        let report = restore(&mut c, &out, "pw", NOW, true).expect("restore");
        assert_eq!((report.settings_added, report.settings_skipped), (4, 0));
        assert_eq!(
            Setting::MqttPassword.get_text(&c).expect("read").as_deref(),
            Some("hunter2")
        );
    }

    #[test]
    fn no_bounds_mean_the_whole_vault_and_a_bad_date_is_refused() {
        let tz = TimeZone::get("Europe/Amsterdam").expect("zone");
        assert_eq!(range(None, None, &tz).expect("whole"), None);
        // 2026-01-15T00:00+01:00.
        assert_eq!(
            range(None, Some("2026-01-15"), &tz).expect("to"),
            Some((i64::MIN, 1_768_431_600))
        );
        assert!(matches!(
            range(Some("15/01/2026"), None, &tz),
            Err(DateError::NotADate(s)) if s == "15/01/2026"
        ));
    }

    #[test]
    fn an_unfinished_backup_never_takes_the_name_and_a_leftover_is_replaced() {
        let dir = tempfile::tempdir().expect("dir");
        let mut a = vault(&dir, "a.hearth", "pw");
        two_days(&mut a);
        let out = dir.path().join("home.backup");
        // Writing fails (a directory stands where the backup is written first): no file
        // named home.backup appears.
        let partial = dir.path().join(".home.backup.partial");
        std::fs::create_dir(&partial).expect("dir");
        assert!(write(&mut a, &out, None, None).is_err());
        assert!(!out.exists());
        std::fs::remove_dir(&partial).expect("rmdir");
        // A half-written leftover of an interrupted run is replaced by the whole backup.
        std::fs::write(&partial, b"SQLite format 3\0half").expect("leftover");
        let report = write(&mut a, &out, None, None).expect("backup");
        assert_eq!(report.chunks, 48);
        assert!(!partial.exists());
        let mut b = vault(&dir, "b.hearth", "other");
        let merged = restore(&mut b, &out, "pw", NOW, false).expect("restore");
        assert_eq!((merged.read, merged.added), (2880, 2880));
        // The CLI's backup never replaces a file.
        assert!(matches!(
            write(&mut a, &out, None, None),
            Err(BackupError::Vault(VaultError::AlreadyExists(p))) if p == out
        ));
    }

    #[test]
    fn a_backup_to_a_chosen_file_replaces_it_but_never_the_vault() {
        let dir = tempfile::tempdir().expect("dir");
        let mut a = vault(&dir, "a.hearth", "pw");
        two_days(&mut a);
        let vault_path = dir.path().join("a.hearth");
        // The file chosen in the save dialog, there already: replaced by the backup.
        let out = dir.path().join("chosen.backup");
        std::fs::write(&out, b"an old file").expect("old");
        let dest = Destination::chosen(&out).expect("chosen");
        let report =
            to_destination(&mut a, &vault_path, &dest, Some("2026-01-16"), None).expect("backup");
        assert_eq!(report.chunks, 24);
        let mut b = vault(&dir, "b.hearth", "other");
        assert_eq!(
            restore(&mut b, &out, "pw", NOW, false)
                .expect("restore")
                .added,
            1440
        );
        // The vault itself, chosen by mistake: refused, and the vault still opens whole.
        let dest = Destination::chosen(&vault_path).expect("chosen");
        assert!(matches!(
            to_destination(&mut a, &vault_path, &dest, None, None),
            Err(BackupError::Destination(ExportError::VaultFile(_)))
        ));
        drop(a);
        let again = Vault::open_read_only(&vault_path, "pw").expect("vault intact");
        assert!(again.verify().expect("verify").damaged.is_empty());
        assert_eq!(again.verify().expect("verify").readings, 2880);
    }

    #[test]
    fn a_half_written_backup_is_refused_with_a_reason_and_changes_nothing() {
        let dir = tempfile::tempdir().expect("dir");
        let mut a = vault(&dir, "a.hearth", "pw");
        two_days(&mut a);
        let out = dir.path().join("whole.backup");
        write(&mut a, &out, None, None).expect("backup");
        let bytes = std::fs::read(&out).expect("read");
        let mut b = vault(&dir, "b.hearth", "other");
        let mut today = Reading::new(Protocol::Dsmr);
        today.time = Some(MeterTime::utc(NOW - 60));
        today.set(Quantity::ImportWh, 2_000_000);
        b.append(&[today]).expect("append");
        b.flush().expect("flush");
        // Cut at half, at a tenth, and to its header page: each refused, nothing merged.
        for keep in [bytes.len() / 2, bytes.len() / 10, 4096] {
            let half = dir.path().join(format!("cut-{keep}.backup"));
            std::fs::write(&half, &bytes[..keep]).expect("cut");
            let err = restore(&mut b, &half, "pw", NOW, false).expect_err("a cut backup");
            assert_eq!(err.path, half);
            let why = err.source.to_string();
            assert_eq!(
                why,
                "backup: this file is not a whole Hearth backup (cut short while it was written \
                 or copied, or not a backup at all); nothing was restored",
                "{keep}"
            );
            let check = b.verify().expect("verify");
            assert!(check.damaged.is_empty(), "{keep}: {:?}", check.damaged);
            assert_eq!(check.readings, 1, "{keep}: {why}");
        }
        // The whole one still merges.
        assert_eq!(
            restore(&mut b, &out, "pw", NOW, false)
                .expect("restore")
                .added,
            2880
        );
    }
}
