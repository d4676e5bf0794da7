//! The CSV export use case, one for both faces (`hearth export` and the desktop's Export
//! screen): a range in the vault's time zone, rows streamed from the vault to a writer or a
//! file (years of one-second readings never sit in memory), progress now and then through a
//! callback. A file is never the vault itself or one of its working files, never written
//! through a symbolic link, and an existing file is replaced only when the caller says so: the
//! CLI's `--force`, or the desktop's save dialog, whose choice stays here (a [`Destination`]
//! held by [`Choices`]) while the page gets an opaque single-use token.

use crate::held::Held;
use crate::period::{DateError, parse_bound};
use hearth_vault::{CsvOptions, Resolution, Vault, VaultError, write_csv};
use jiff::tz::TimeZone;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{BufWriter, ErrorKind, Write};
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
    /// The path names a symbolic link: Hearth never writes through one.
    #[error(
        "{} is a symbolic link. Hearth does not write through links; choose the file itself.",
        .0.display()
    )]
    Link(PathBuf),
    /// The path names a directory, a device or a pipe rather than a regular file.
    #[error("{} is not a regular file; choose another file.", .0.display())]
    NotAFile(PathBuf),
    /// Since the user chose to replace the file, another file took its place.
    #[error("{} changed since you chose it; choose the file again.", .0.display())]
    Changed(PathBuf),
    /// The page asked to write with a token the save dialog did not give it, one already used,
    /// or one that expired.
    #[error(
        "Choose the file in the save dialog first: each choice is good for one save, within 15 \
         minutes."
    )]
    NotChosen,
    /// The system's random number generator failed (no token could be made).
    #[error("The system's random number generator failed; try again.")]
    Random,
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
/// symbolic or hard link, `..` in the path), when it is a symbolic link, and when the file
/// exists unless `force` is set (then only a regular file is replaced).
pub fn to_file(
    vault: &Vault,
    req: &Request,
    path: &Path,
    force: bool,
    progress: impl FnMut(Progress),
) -> Result<u64, ExportError> {
    to_destination(vault, req, &Destination::new(path, force), progress)
}

/// Exports `req` from `vault` to `dest` (see [`Destination::create`]), as [`to_writer`] does.
pub fn to_destination(
    vault: &Vault,
    req: &Request,
    dest: &Destination,
    progress: impl FnMut(Progress),
) -> Result<u64, ExportError> {
    let file = dest.create(vault.path())?;
    to_writer(vault, req, BufWriter::new(file), progress).map_err(|e| match e {
        ExportError::Vault(VaultError::Io(io)) => dest.cannot(io),
        other => other,
    })
}

/// A file to write an export or a saved chart to, and which file already there (if any) the
/// write may replace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    path: PathBuf,
    replace: Replace,
}

/// Which existing file a [`Destination`] may replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Replace {
    /// None: the file must be new.
    Nothing,
    /// Any regular file (`hearth export --force`).
    AnyFile,
    /// Only the regular file that was there when the user chose it (its device and inode).
    TheFile((u64, u64)),
}

impl Destination {
    /// `path`, replacing a regular file there only when `force` is set.
    pub fn new(path: &Path, force: bool) -> Destination {
        Destination {
            path: path.to_path_buf(),
            replace: if force {
                Replace::AnyFile
            } else {
                Replace::Nothing
            },
        }
    }

    /// The file the user just chose in the save dialog (which asked before replacing one): a
    /// new file, or the regular file there now and no other. A symbolic link or anything but a
    /// regular file is refused at once.
    pub fn chosen(path: &Path) -> Result<Destination, ExportError> {
        let replace = match std::fs::symlink_metadata(path) {
            Err(e) if e.kind() == ErrorKind::NotFound => Replace::Nothing,
            Err(e) => return Err(cannot(path, e)),
            Ok(m) => Replace::TheFile(identity(&regular(path, &m)?)),
        };
        Ok(Destination {
            path: path.to_path_buf(),
            replace,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the file for writing, empty. Refuses the vault at `vault` and its working files
    /// (under any name), a symbolic link (never followed, also one swapped in meanwhile), and
    /// anything but a regular file; an existing file only when it may be replaced, and only
    /// then is it truncated. A new file is created readable by its owner alone (0600).
    pub fn create(&self, vault: &Path) -> Result<File, ExportError> {
        check_target(vault, &self.path)?;
        let existing = match std::fs::symlink_metadata(&self.path) {
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(e) => return Err(self.cannot(e)),
            Ok(m) => Some(regular(&self.path, &m)?),
        };
        let Some(existing) = existing else {
            // Atomic, and `O_EXCL` follows no link: a file or a link that appears between the
            // look and here is not replaced either.
            let mut options = OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            return options.open(&self.path).map_err(|e| match e.kind() {
                ErrorKind::AlreadyExists => ExportError::Exists(self.path.clone()),
                _ => self.cannot(e),
            });
        };
        match self.replace {
            Replace::Nothing => return Err(ExportError::Exists(self.path.clone())),
            Replace::TheFile(id) if id != identity(&existing) => {
                return Err(ExportError::Changed(self.path.clone()));
            }
            Replace::TheFile(_) | Replace::AnyFile => {}
        }
        // Opened without creating or truncating; the file opened must be the one looked at,
        // so a link put in its place meanwhile is refused before anything is written.
        let file = OpenOptions::new()
            .write(true)
            .open(&self.path)
            .map_err(|e| self.cannot(e))?;
        let opened = file.metadata().map_err(|e| self.cannot(e))?;
        if !opened.is_file() || identity(&opened) != identity(&existing) {
            return Err(ExportError::Changed(self.path.clone()));
        }
        file.set_len(0).map_err(|e| self.cannot(e))?;
        Ok(file)
    }

    fn cannot(&self, source: std::io::Error) -> ExportError {
        cannot(&self.path, source)
    }
}

fn cannot(path: &Path, source: std::io::Error) -> ExportError {
    ExportError::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// `m` (of `path`, not followed) when it is a regular file; a link or anything else refused.
fn regular(path: &Path, m: &Metadata) -> Result<Metadata, ExportError> {
    if m.file_type().is_symlink() {
        Err(ExportError::Link(path.to_path_buf()))
    } else if !m.is_file() {
        Err(ExportError::NotAFile(path.to_path_buf()))
    } else {
        Ok(m.clone())
    }
}

/// A file's device and inode.
#[cfg(unix)]
fn identity(m: &Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt as _;
    (m.dev(), m.ino())
}

/// Without inodes a replaced file cannot be told from the one chosen.
#[cfg(not(unix))]
fn identity(_: &Metadata) -> (u64, u64) {
    (0, 0)
}

/// Files the user chose in the desktop's save dialog, kept on this side of the window
/// ([`Held`]): the page gets a token for each ([`Choices::hold`]) and writes by giving it back
/// ([`Choices::take`]), once, within [`Choices::FOR`]. A path the page makes up opens nothing.
#[derive(Debug, Default)]
pub struct Choices(Held<Destination>);

/// A file chosen in the save dialog, as the page sees it: the token that writes to it, once,
/// and its path to show.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "SaveChoiceDto"))]
pub struct Chosen {
    /// Given back to write the file.
    pub token: String,
    /// The file chosen.
    pub path: String,
}

impl Choices {
    /// How long a choice stays good.
    pub const FOR: Duration = Held::<Destination>::FOR;
    /// Choices held at most: a new one pushes out the oldest.
    pub const MOST: usize = Held::<Destination>::MOST;

    /// Holds the file at `path`, just chosen in the save dialog (see [`Destination::chosen`]),
    /// at `now`: its token and its path, for the page.
    pub fn choose(&mut self, path: &Path, now: Instant) -> Result<Chosen, ExportError> {
        let token = self.hold(Destination::chosen(path)?, now)?;
        Ok(Chosen {
            token,
            path: path.display().to_string(),
        })
    }

    /// Holds `dest`, chosen at `now`; returns its token (32 hex digits).
    pub fn hold(&mut self, dest: Destination, now: Instant) -> Result<String, ExportError> {
        self.0.hold(dest, now).map_err(|_| ExportError::Random)
    }

    /// The destination `token` stands for, given up (a token works once); a token never given,
    /// already used or older than [`Choices::FOR`] at `now` is [`ExportError::NotChosen`].
    pub fn take(&mut self, token: &str, now: Instant) -> Result<Destination, ExportError> {
        self.0.take(token, now).ok_or(ExportError::NotChosen)
    }
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

    /// A scratch directory with a file `mine.txt` holding "my notes", and where the vault
    /// would be.
    fn scratch() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().expect("dir");
        let mine = dir.path().join("mine.txt");
        std::fs::write(&mine, "my notes").expect("write");
        let vault = dir.path().join("vault.hearth");
        (dir, mine, vault)
    }

    #[test]
    fn a_link_is_never_written_through() {
        let (dir, mine, vault) = scratch();
        let link = dir.path().join("out.csv");
        std::os::unix::fs::symlink(&mine, &link).expect("link");
        let dangling = dir.path().join("dangling.csv");
        let target = dir.path().join("not-yet.txt");
        std::os::unix::fs::symlink(&target, &dangling).expect("link");
        for path in [&link, &dangling] {
            for force in [false, true] {
                let err = Destination::new(path, force)
                    .create(&vault)
                    .expect_err("a link");
                assert!(matches!(&err, ExportError::Link(p) if p == path), "{err:?}");
            }
            let err = Destination::chosen(path).expect_err("a link");
            assert_eq!(
                err.to_string(),
                format!(
                    "{} is a symbolic link. Hearth does not write through links; choose the \
                     file itself.",
                    path.display()
                )
            );
        }
        assert_eq!(std::fs::read_to_string(&mine).expect("kept"), "my notes");
        assert!(!target.exists());
        let err = Destination::chosen(dir.path()).expect_err("a directory");
        assert!(matches!(&err, ExportError::NotAFile(p) if p == dir.path()));
    }

    #[test]
    fn a_chosen_file_is_replaced_only_while_it_is_the_file_chosen() {
        let (dir, mine, vault) = scratch();
        // Chosen to replace, and still the same file: emptied, then written.
        let mut f = Destination::chosen(&mine)
            .expect("chosen")
            .create(&vault)
            .expect("replaced");
        f.write_all(b"csv").expect("write");
        drop(f);
        assert_eq!(std::fs::read_to_string(&mine).expect("read"), "csv");
        // Chosen, then another file put in its place (renamed over it: a new inode).
        let chosen = Destination::chosen(&mine).expect("chosen");
        let other = dir.path().join("other.txt");
        std::fs::write(&other, "someone else's").expect("write");
        std::fs::rename(&other, &mine).expect("rename");
        let err = chosen.create(&vault).expect_err("changed");
        assert!(
            matches!(&err, ExportError::Changed(p) if *p == mine),
            "{err:?}"
        );
        // ... or a link put there.
        std::fs::remove_file(&mine).expect("rm");
        std::os::unix::fs::symlink(&vault, &mine).expect("link");
        let err = chosen
            .create(&dir.path().join("elsewhere"))
            .expect_err("link");
        assert!(matches!(&err, ExportError::Link(_)), "{err:?}");
        // A new name chosen, and a file appears there before the write: not replaced.
        let new = dir.path().join("new.csv");
        let chosen = Destination::chosen(&new).expect("chosen");
        std::fs::write(&new, "appeared").expect("write");
        let err = chosen.create(&vault).expect_err("exists");
        assert!(
            matches!(&err, ExportError::Exists(p) if *p == new),
            "{err:?}"
        );
        assert_eq!(std::fs::read_to_string(&new).expect("kept"), "appeared");
        // A new file is its owner's alone, whatever the umask.
        let fresh = dir.path().join("fresh.csv");
        Destination::chosen(&fresh)
            .expect("chosen")
            .create(&vault)
            .expect("created");
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&fresh)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_token_opens_its_choice_once_and_only_for_a_while() {
        let (dir, mine, _) = scratch();
        let t0 = Instant::now();
        let mut choices = Choices::default();
        let token = choices
            .hold(Destination::chosen(&mine).expect("chosen"), t0)
            .expect("token");
        assert_eq!(token.len(), 32);
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
        // Made up, malformed, or a path: nothing.
        let forged = if token.starts_with('0') { "1" } else { "0" }.to_string() + &token[1..];
        let path = mine.display().to_string();
        for bad in [
            forged.as_str(),
            "",
            "+f",
            path.as_str(),
            &token.to_uppercase()[..31],
        ] {
            assert!(
                matches!(choices.take(bad, t0), Err(ExportError::NotChosen)),
                "{bad}"
            );
        }
        let dest = choices.take(&token, t0).expect("taken");
        assert_eq!(dest.path(), mine);
        // Once only.
        assert!(matches!(
            choices.take(&token, t0),
            Err(ExportError::NotChosen)
        ));
        // Good for 15 minutes.
        let late = choices
            .hold(Destination::chosen(&mine).expect("chosen"), t0)
            .expect("token");
        let expired = choices.take(&late, t0 + Duration::from_secs(15 * 60));
        assert!(matches!(expired, Err(ExportError::NotChosen)));
        let tokens: Vec<String> = (0..=Choices::MOST)
            .map(|i| {
                let d = Destination::chosen(&dir.path().join(format!("{i}.csv")));
                choices.hold(d.expect("chosen"), t0).expect("token")
            })
            .collect();
        // At most 8 held: the oldest gave way.
        assert!(matches!(
            choices.take(&tokens[0], t0),
            Err(ExportError::NotChosen)
        ));
        let last = choices.take(&tokens[8], t0).expect("the newest");
        assert_eq!(last.path(), dir.path().join("8.csv"));
    }

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
