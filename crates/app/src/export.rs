//! The CSV export use case, one for both faces (`hearth export` and the desktop's Export
//! screen): a range in the vault's time zone, rows streamed from the vault to a writer or a
//! file (years of one-second readings never sit in memory), progress now and then through a
//! callback. A file is never the vault itself or one of its working files, and an existing
//! file is replaced only when the caller says so.

use crate::period::{DateError, parse_bound};
use hearth_vault::{CsvOptions, Resolution, Vault, VaultError, write_csv};
use jiff::tz::TimeZone;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Why an export did not happen, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A bound is not a date or a time.
    #[error(transparent)]
    Date(#[from] DateError),
    /// The end is not after the start.
    #[error("The end date must be after the start date.")]
    EmptyRange,
    /// The file chosen is the vault, or a file the vault's database keeps beside it.
    #[error(
        "{} is your Hearth vault (or one of its working files). Writing the export there would \
         destroy your readings; choose another file.",
        .0.display()
    )]
    VaultFile(PathBuf),
    /// The file exists and the caller did not ask to replace it.
    #[error(
        "{} already exists. Choose another file, or replace it on purpose (hearth export \
         --force).",
        .0.display()
    )]
    Exists(PathBuf),
    /// The file could not be created or written.
    #[error("Cannot write {}: {source}", .path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The vault could not be read (a damaged chunk, IO), or the output failed while writing.
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// Start, unix seconds (inclusive).
    pub from: i64,
    /// End, unix seconds (exclusive).
    pub to: i64,
    /// Every reading (`Raw`) or energy per interval.
    pub resolution: Resolution,
    /// Decimal comma and `;` between fields, for spreadsheets in such locales.
    pub decimal_comma: bool,
}

/// The start used when none is given: before any reading.
pub const BEGINNING: i64 = i64::MIN / 2;
/// The end used when none is given: after any reading.
pub const NO_END: i64 = i64::MAX / 2;

/// The range `[from, to)` from bounds typed by the user (local dates, midnight in `tz`, or
/// RFC 3339 times); a missing start is the beginning, a missing end none. The end must be after
/// the start.
pub fn range(
    from: Option<&str>,
    to: Option<&str>,
    tz: &TimeZone,
) -> Result<(i64, i64), ExportError> {
    let from = from
        .map(|s| parse_bound(s, tz))
        .transpose()?
        .unwrap_or(BEGINNING);
    let to = to
        .map(|s| parse_bound(s, tz))
        .transpose()?
        .unwrap_or(NO_END);
    if to <= from {
        return Err(ExportError::EmptyRange);
    }
    Ok((from, to))
}

/// How far an export has got.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Rows written so far.
    pub rows: u64,
    /// Share of the time range done, 0 to 1.
    pub fraction: f64,
}

/// Counts exported rows and says, now and then, how far through the range they are: every
/// 50 000 rows at most, and at most four times a second.
#[derive(Debug)]
pub struct Throttle {
    from: i64,
    to: i64,
    rows: u64,
    last: Instant,
}

impl Throttle {
    /// Rows this far apart at least between reports (and a quarter second).
    const EVERY_ROWS: u64 = 50_000;
    const EVERY: Duration = Duration::from_millis(250);

    /// Progress through `[from, to)`, starting at `now`.
    pub fn new(from: i64, to: i64, now: Instant) -> Self {
        Throttle {
            from,
            to,
            rows: 0,
            last: now,
        }
    }

    /// Counts a row starting at `start`, at the instant `now`; returns a report when one is due.
    pub fn step(&mut self, start: i64, now: Instant) -> Option<Progress> {
        self.rows += 1;
        if !self.rows.is_multiple_of(Self::EVERY_ROWS)
            || now.saturating_duration_since(self.last) < Self::EVERY
        {
            return None;
        }
        self.last = now;
        let span = (self.to - self.from).max(1) as f64;
        Some(Progress {
            rows: self.rows,
            fraction: ((start - self.from) as f64 / span).clamp(0.0, 1.0),
        })
    }
}

/// Streams the rows of `req` from `vault` as CSV into `out`, flushes it, and returns how many
/// data lines were written (the header not counted). `progress` hears now and then how far it
/// got, and once more with a fraction of 1 at the end.
pub fn to_writer<W: Write>(
    vault: &Vault,
    req: &Request,
    mut out: W,
    mut progress: impl FnMut(Progress),
) -> Result<u64, ExportError> {
    let tz = vault.time_zone();
    let mut throttle = Throttle::new(req.from, req.to, Instant::now());
    let rows = vault
        .readings(req.from, req.to, req.resolution)?
        .inspect(|row| {
            if let Some(p) = row
                .as_ref()
                .ok()
                .and_then(|r| throttle.step(r.start(), Instant::now()))
            {
                progress(p);
            }
        });
    let options = CsvOptions {
        decimal_comma: req.decimal_comma,
    };
    let written = write_csv(rows, req.resolution, tz, &mut out, &options)?;
    out.flush().map_err(VaultError::from)?;
    progress(Progress {
        rows: written,
        fraction: 1.0,
    });
    Ok(written)
}

/// Exports `req` from `vault` to the file at `path`, as [`to_writer`] does. Refuses (writing
/// nothing at all) when `path` is the vault or one of its working files, under any name (a
/// symbolic or hard link, `..` in the path), and when the file exists unless `force` is set.
pub fn to_file(
    vault: &Vault,
    req: &Request,
    path: &Path,
    force: bool,
    progress: impl FnMut(Progress),
) -> Result<u64, ExportError> {
    check_target(vault.path(), path)?;
    let cannot = |source| ExportError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        // Atomic: a file that appears between the check and here is not replaced either.
        options.create_new(true);
    }
    let file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => ExportError::Exists(path.to_path_buf()),
        _ => cannot(e),
    })?;
    to_writer(vault, req, BufWriter::new(file), progress).map_err(|e| match e {
        ExportError::Vault(VaultError::Io(io)) => cannot(io),
        other => other,
    })
}

/// The files SQLite and the vault keep beside the vault file (name + suffix): the write-ahead
/// log and its index, a rollback journal, and the single-writer lock with its own.
const SIDE_FILES: [&str; 7] = [
    "-wal",
    "-shm",
    "-journal",
    ".writer-lock",
    ".writer-lock-journal",
    ".writer-lock-wal",
    ".writer-lock-shm",
];

/// Refuses `out` when it names the vault at `vault` or one of its side files.
fn check_target(vault: &Path, out: &Path) -> Result<(), ExportError> {
    let refuse = || Err(ExportError::VaultFile(out.to_path_buf()));
    let vault_real = resolve(vault);
    let out_real = resolve(out);
    let protected = std::iter::once(vault_real.clone()).chain(SIDE_FILES.iter().map(|suffix| {
        let mut p = vault_real.clone().into_os_string();
        p.push(suffix);
        PathBuf::from(p)
    }));
    let out_id = file_id(&out_real);
    for p in protected {
        if p == out_real || (out_id.is_some() && file_id(&p) == out_id) {
            return refuse();
        }
    }
    Ok(())
}

/// Where `path` really leads: symbolic links followed (also one whose target does not exist
/// yet), `.` and `..` gone. A path that cannot be resolved is taken as given.
fn resolve(path: &Path) -> PathBuf {
    let mut path = path.to_path_buf();
    // Enough for any sane chain of links; a loop ends here too.
    for _ in 0..40 {
        if let Ok(real) = std::fs::canonicalize(&path) {
            return real;
        }
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        match std::fs::symlink_metadata(&path) {
            // A link to a file not there yet: follow it by hand.
            Ok(m) if m.file_type().is_symlink() => match std::fs::read_link(&path) {
                Ok(target) => path = parent.join(target),
                Err(_) => return path,
            },
            // No such file: its directory resolved, and its name.
            _ => {
                return match (std::fs::canonicalize(&parent), path.file_name()) {
                    (Ok(dir), Some(name)) => dir.join(name),
                    _ => path,
                };
            }
        }
    }
    path
}

/// The file's identity (device and inode), which hard links share.
#[cfg(unix)]
fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Without inodes only the resolved paths are compared.
#[cfg(not(unix))]
fn file_id(_: &Path) -> Option<(u64, u64)> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_reports_every_50000_rows_at_most_4_times_a_second() {
        // A day of one-second rows from 2026-01-01T00:00Z.
        let (from, to) = (1_767_225_600, 1_767_225_600 + 86_400);
        let t0 = Instant::now();
        let mut p = Throttle::new(from, to, t0);
        let mut reports = Vec::new();
        for i in 0..86_400i64 {
            // The clock advances 10 µs a row: 0.5 s per 50 000 rows.
            let now = t0 + Duration::from_micros(10 * (i as u64 + 1));
            if let Some(r) = p.step(from + i, now) {
                reports.push((r.rows, r.fraction));
            }
        }
        // Row 50 000 starts at second 49 999 of 86 400: 49 999 / 86 400 of the range.
        assert_eq!(reports, vec![(50_000, 49_999.0 / 86_400.0)]);
        // Rows that come faster than 4 reports a second are not reported.
        let mut q = Throttle::new(from, to, t0);
        let fast = (0..100_000).filter_map(|i| q.step(from + i, t0)).count();
        assert_eq!(fast, 0);
    }

    #[test]
    fn ranges_from_dates_and_times() {
        let tz = TimeZone::get("Europe/Amsterdam").expect("tz");
        // 2026-01-15T00:00+01:00 and 2026-01-16T00:00+01:00.
        assert_eq!(
            range(Some("2026-01-15"), Some("2026-01-16"), &tz).expect("range"),
            (1_768_431_600, 1_768_518_000)
        );
        assert_eq!(
            range(None, Some("2026-01-15T12:00:00Z"), &tz).expect("open start"),
            (BEGINNING, 1_768_478_400)
        );
        assert_eq!(range(None, None, &tz).expect("all"), (BEGINNING, NO_END));
        assert!(matches!(
            range(Some("2026-01-16"), Some("2026-01-15"), &tz),
            Err(ExportError::EmptyRange)
        ));
        assert!(matches!(
            range(Some("2026-01-15"), Some("2026-01-15"), &tz),
            Err(ExportError::EmptyRange)
        ));
        assert!(matches!(
            range(Some("15/01/2026"), None, &tz),
            Err(ExportError::Date(DateError::NotADate(s))) if s == "15/01/2026"
        ));
    }
}
