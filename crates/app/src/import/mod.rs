//! The import use case, one for both faces (`hearth import` and, later, the desktop's import
//! screen): files of readings into the vault. Each file is recognised, then read:
//!
//! - CSV files by their header, whatever their name: Hearth's own export ([`hearth_csv`]:
//!   raw rows become readings again, interval summaries are refused), DSMR-reader's readings
//!   table and Export page ([`dsmr_reader`]), Home Assistant's statistics and History
//!   download ([`home_assistant`]), a supplier's consumption download;
//! - supplier downloads (`.csv` half-hourly consumption with a consumption header, `.xml`
//!   Green Button), merged as intervals with every download imported before ([`supplier`]);
//! - Hearth's own JSON Lines (as `hearth decode` writes them) by their first byte, `{`;
//! - files of a kind that holds no readings (a PDF, a photo, a Hearth vault or backup, a
//!   CSV of no kind above) by their first bytes: refused with what they are, nothing stored;
//! - anything else as a raw meter capture of any protocol, recognised from the bytes by the
//!   auto-detecting decoder (DLMS hex dumps and bare APDUs from readers' logs included).
//!
//! Every reading, decoded or read from JSON Lines, is checked for plausibility
//! ([`hearth_meter::plausible`]): a field no household meter reports (a voltage of 4000 V, an
//! import of 900 kW) is dropped from it, told and counted, and the rest kept.
//!
//! Readings already stored are skipped and older ones merged into place, so importing twice
//! changes nothing. Meter files are decoded on a thread of their own while this one stores
//! ([`pipeline`]). What happens is told through [`Event`]s as it happens and summed up in the
//! returned [`Summary`]; nothing here prints.

pub mod dsmr_reader;
pub mod hearth_csv;
pub mod home_assistant;
mod pipeline;
pub mod supplier;
mod table;

use crate::bounded_read::{Cap, Lines};
use hearth_meter::auto::Keys;
use hearth_meter::plausible::{self, Implausible};
use hearth_meter::record::RecordError;
use hearth_meter::{Decoder as _, Diagnostic, Reading, RejectReason, Stats};
use hearth_vault::{IngestStats, Vault, VaultError};
use pipeline::Sink;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

pub use supplier::SupplierReport;

/// What a file holds, as recognised before it is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Raw bytes from a meter, any protocol (recognised from the bytes while decoding).
    Capture,
    /// JSON Lines readings, as `hearth decode` writes them.
    JsonLines,
    /// A supplier's half-hourly consumption download (`.csv`).
    SupplierCsv,
    /// A Green Button (ESPI) download (`.xml`).
    GreenButton,
    /// Hearth's own CSV export of every reading (`hearth export --resolution raw`).
    HearthCsv,
    /// Hearth's own CSV export of energy per interval, the seconds between its rows if it has
    /// two: not readings, refused.
    HearthSummary(Option<i64>),
    /// DSMR-reader's readings table (`dsmr_datalogger_dsmrreading` as CSV).
    DsmrReader,
    /// DSMR-reader's Export page CSV, day (`true`) or hour statistics: refused.
    DsmrReaderStatistics(bool),
    /// Home Assistant's long-term statistics rows as CSV.
    HomeAssistantStatistics,
    /// Home Assistant's History panel download (`entity_id,state,last_changed`): refused.
    HomeAssistantHistory,
    /// A file that holds no readings, named (`a PDF document`, `a JPEG photo`): refused.
    Foreign(&'static str),
}

impl Kind {
    /// Whether the file is a supplier download (intervals, merged with earlier downloads).
    pub fn is_supplier(self) -> bool {
        matches!(self, Kind::SupplierCsv | Kind::GreenButton)
    }

    /// Why a file of this kind is refused whole, nothing of it read, if it is.
    pub fn refusal(self) -> Option<Nothing> {
        let why = |what: &str, advice: &str| Some(Nothing::WrongKind(format!("{what}; {advice}")));
        match self {
            Kind::HearthSummary(step) => why(
                &format!(
                    "this is {} exported by Hearth (energy per interval, partly spread over \
                     gaps), not meter readings",
                    hearth_csv::resolution_words(step)
                ),
                "import a raw export (hearth export --resolution raw) or the meter capture",
            ),
            Kind::DsmrReaderStatistics(day) => why(
                &format!(
                    "this is DSMR-reader's {} statistics export (consumption and costs per {}), \
                     not meter readings",
                    if day { "day" } else { "hour" },
                    if day { "day" } else { "hour" }
                ),
                "export DSMR-reader's readings table (dsmr_datalogger_dsmrreading) as CSV and \
                 import that",
            ),
            Kind::HomeAssistantHistory => why(
                "this is Home Assistant's History download (entity_id, state, last_changed): it \
                 carries no units, so kWh cannot be told from Wh, a meter's total from a daily \
                 counter, or import from export",
                "export the long-term statistics (statistic_id, unit, start, state) instead",
            ),
            Kind::Foreign(what) => why(
                &format!("this is {what}, not readings"),
                "Hearth imports raw meter captures, JSON Lines from `hearth decode`, Hearth's \
                 own CSV export, DSMR-reader's readings, Home Assistant's statistics and \
                 supplier CSV or Green Button downloads",
            ),
            _ => None,
        }
    }
}

/// Supplier downloads are told by their extension: `.csv`, or `.xml` (Green Button).
pub fn supplier_kind(path: &Path) -> Option<Kind> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "csv" => Some(Kind::SupplierCsv),
        "xml" => Some(Kind::GreenButton),
        _ => None,
    }
}

/// The name that stands for standard input (`hearth import -`).
pub const STDIN: &str = "-";

/// Bytes read ahead to recognise a file; they are kept and read again as the file's start.
const HEAD: usize = 8192;

/// A UTF-8 byte-order mark, which some editors put before text; dropped.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Implausible fields told one by one per JSON Lines file ([`Event::ImplausibleField`]);
/// the others are only counted, so a file written with a wrong unit does not flood the user.
pub const IMPLAUSIBLE_TOLD: u64 = 20;

/// How many lines may stand before a supplier CSV's header (a title, a meter number).
const TITLE_LINES: usize = 5;

/// Compression formats a download or capture may come in, by their first bytes.
const COMPRESSED: [(&[u8], &str); 5] = [
    (b"\x1F\x8B", "gzip"),
    (b"PK\x03\x04", "zip"),
    (b"\xFD7zXZ\x00", "xz"),
    (b"BZh", "bzip2"),
    (b"\x28\xB5\x2F\xFD", "zstd"),
];

/// A file opened for import: what it holds, and all its bytes, the ones read to recognise it
/// included (read once, so pipes, `<(...)` and standard input lose nothing and are never
/// opened twice).
pub struct Source {
    /// The file as named (`-` for standard input).
    pub path: PathBuf,
    /// What it holds.
    pub kind: Kind,
    /// Its compression, if its first bytes say it is compressed (nothing is read from it).
    pub compressed: Option<&'static str>,
    /// Its bytes from the first (a byte-order mark dropped).
    reader: Box<dyn BufRead + Send>,
    /// Bytes read of it so far, and its size.
    counted: pipeline::Counted,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("path", &self.path)
            .field("kind", &self.kind)
            .field("compressed", &self.compressed)
            .finish_non_exhaustive()
    }
}

impl Source {
    /// Opens `path` (`-`: standard input) and recognises it from its name and first bytes
    /// (see [`recognise_bytes`]), keeping those bytes.
    pub fn open(path: &Path) -> std::io::Result<Source> {
        let (file, total): (Box<dyn Read + Send>, Option<u64>) = if path.as_os_str() == STDIN {
            (Box::new(std::io::stdin()), None)
        } else {
            let file = std::fs::File::open(path)?;
            let total = file
                .metadata()
                .ok()
                .filter(|m| m.is_file())
                .map(|m| m.len());
            (Box::new(file), total)
        };
        let counted = pipeline::Counted::new(total);
        let mut file = counted.reader(file);
        let mut head = Vec::with_capacity(HEAD);
        (&mut file).take(HEAD as u64).read_to_end(&mut head)?;
        if head.starts_with(BOM) {
            head.drain(..BOM.len());
        }
        let kind = recognise_bytes(path, &head);
        let compressed = COMPRESSED
            .iter()
            .find(|(magic, _)| head.starts_with(magic))
            .map(|(_, name)| *name);
        Ok(Source {
            path: path.to_path_buf(),
            kind,
            compressed,
            reader: Box::new(BufReader::with_capacity(
                1 << 16,
                std::io::Cursor::new(head).chain(file),
            )),
            counted,
        })
    }
}

/// What `path` holds (see [`recognise_bytes`]); reads its first bytes. A file that cannot be
/// opened is told by its extension when that names a supplier download.
pub fn recognise(path: &Path) -> std::io::Result<Kind> {
    match Source::open(path) {
        Ok(source) => Ok(source.kind),
        Err(e) => supplier_kind(path).ok_or(e),
    }
}

/// Files that hold no readings, by their first bytes.
const FOREIGN: [(&[u8], &str); 7] = [
    (b"%PDF", "a PDF document"),
    (b"\xFF\xD8\xFF", "a JPEG photo"),
    (b"\x89PNG\r\n\x1A\n", "a PNG image"),
    (b"GIF8", "a GIF image"),
    (
        b"SQLite format 3\x00",
        "a database: a Hearth vault or backup (restore a backup with `hearth restore`), or \
         another program's",
    ),
    (b"\xD0\xCF\x11\xE0", "an old Office document"),
    (b"%!PS", "a PostScript document"),
];

/// What a file holds, from its name and its first bytes `head` (a byte-order mark dropped):
/// a file that holds no readings by its magic bytes; a CSV by its header line, whatever its
/// name (Hearth's export, DSMR-reader's, Home Assistant's); then a supplier download by its
/// extension (`.xml`; `.csv` with a consumption header, any other `.csv` is refused); else
/// JSON Lines when its first byte that is not white space is `{`; else Green Button XML when
/// it is XML naming ESPI interval readings; else a supplier CSV when one of its first lines
/// is a consumption header (a time column and a kWh column); else a meter capture.
pub fn recognise_bytes(path: &Path, head: &[u8]) -> Kind {
    let head = head.strip_prefix(BOM).unwrap_or(head);
    if let Some((_, what)) = FOREIGN.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Kind::Foreign(what);
    }
    if let Some(kind) = export_kind(head) {
        return kind;
    }
    match supplier_kind(path) {
        Some(Kind::SupplierCsv) if !supplier_header_within(head) && text_within(head) => {
            return Kind::Foreign("a CSV file of no kind Hearth knows (no consumption header)");
        }
        Some(kind) => return kind,
        None => {}
    }
    let first = head.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        return Kind::JsonLines;
    }
    let contains = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
    if first == Some(&b'<') && (contains(b"IntervalReading") || contains(b"IntervalBlock")) {
        return Kind::GreenButton;
    }
    if supplier_header_within(head) {
        return Kind::SupplierCsv;
    }
    Kind::Capture
}

/// The text of `head` up to a character cut at its end, if it is text.
fn head_text(head: &[u8]) -> Option<&str> {
    match std::str::from_utf8(head) {
        Ok(t) => Some(t),
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()]).ok(),
        Err(_) => None,
    }
}

/// Whether `head` is text with at least one whole line (a `.csv` worth telling apart).
fn text_within(head: &[u8]) -> bool {
    head_text(head).is_some_and(|t| t.contains('\n'))
}

/// A CSV export of Hearth, DSMR-reader or Home Assistant, by its header line.
fn export_kind(head: &[u8]) -> Option<Kind> {
    let text = head_text(head)?;
    let header = text.lines().next()?.trim_end_matches('\r');
    if !text.contains('\n') {
        return None;
    }
    if let Some(export) = hearth_csv::recognise(text) {
        return Some(match export {
            hearth_csv::Export::Raw => Kind::HearthCsv,
            hearth_csv::Export::Summary(step) => Kind::HearthSummary(step),
        });
    }
    if let Some(export) = dsmr_reader::recognise(header) {
        return Some(match export {
            dsmr_reader::Export::Readings => Kind::DsmrReader,
            dsmr_reader::Export::DayStatistics => Kind::DsmrReaderStatistics(true),
            dsmr_reader::Export::HourStatistics => Kind::DsmrReaderStatistics(false),
        });
    }
    home_assistant::recognise(header).map(|export| match export {
        home_assistant::Export::Statistics => Kind::HomeAssistantStatistics,
        home_assistant::Export::History => Kind::HomeAssistantHistory,
    })
}

/// Whether one of the first lines of `head` is a supplier consumption header, with only
/// printable text before it.
fn supplier_header_within(head: &[u8]) -> bool {
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        // Cut mid-character at the end of the head: what is before is still text.
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => return false,
    };
    let lines = complete.lines().filter(|l| !l.trim().is_empty());
    for line in lines.take(TITLE_LINES) {
        if line
            .chars()
            .any(|c| c.is_control() && c != '\t' && c != '\r')
        {
            return false;
        }
        let mut csv = hearth_meter::supplier::CsvReader::new(jiff::tz::TimeZone::UTC);
        let mut set = hearth_meter::supplier::IntervalSet::new();
        let mut summary = hearth_meter::supplier::ImportSummary::default();
        if csv.push_line(line, &mut set, &mut summary).is_ok() {
            return true;
        }
    }
    false
}

/// What happened, as it happens (on the importing thread).
#[derive(Debug)]
pub enum Event<'a> {
    /// Another million readings of a meter file offered to the vault.
    Progress {
        /// The file.
        path: &'a Path,
        /// Readings of this file offered so far.
        readings: u64,
    },
    /// A line of a JSON Lines file that is not a reading (skipped).
    UnreadableLine {
        /// The file.
        path: &'a Path,
        /// 1-based line number.
        line: u64,
        /// Why.
        error: &'a RecordError,
    },
    /// A field of a JSON Lines reading dropped as implausible (the rest of the reading is
    /// kept); told for the first [`IMPLAUSIBLE_TOLD`] of a file, all counted in
    /// [`FileReport::implausible`].
    ImplausibleField {
        /// The file.
        path: &'a Path,
        /// 1-based line number.
        line: u64,
        /// The field, its value and the rule it broke.
        found: &'a Implausible,
    },
    /// Bytes of a meter file read so far (told about every MiB, and at its end).
    Read {
        /// The file.
        path: &'a Path,
        /// Bytes read so far.
        bytes: u64,
        /// Its size, when it is a regular file (not standard input or a pipe).
        total: Option<u64>,
    },
    /// A meter file (capture, JSON Lines or an export) is imported, or refused.
    File(&'a FileReport),
    /// A supplier download is read and merged with the earlier ones (nothing stored yet).
    SupplierFile {
        /// The file.
        path: &'a Path,
        /// Its counts.
        summary: &'a hearth_meter::supplier::ImportSummary,
        /// What could not be read or disagreed, in this file (line numbers of the file).
        diagnostics: &'a [Diagnostic],
    },
    /// The new supplier intervals are stored.
    Supplier(&'a SupplierReport),
}

/// What one meter file gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileReport {
    /// The file.
    pub path: PathBuf,
    /// What it held.
    pub kind: Kind,
    /// Readings offered to the vault (stored, or found already present).
    pub readings: u64,
    /// Frames rejected by the decoder, by reason (only reasons that occurred, in the order of
    /// [`RejectReason::ALL`]); empty for JSON Lines.
    pub rejected: Vec<(RejectReason, u64)>,
    /// Lines of a JSON Lines file that were not readings.
    pub unreadable_lines: u64,
    /// Implausible fields dropped from its readings (the rest of each reading was kept).
    pub implausible: u64,
    /// The file held no bytes at all.
    pub empty: bool,
    /// Readings stored or found already present (not those without a time or in the future).
    pub kept: u64,
    /// Readings new to the vault (stored now, or merged into earlier hours).
    pub added: u64,
    /// Readings skipped because the vault already held a reading at their time.
    pub duplicates: u64,
    /// Interval readings among those offered (a supplier's or spread data: energy over a
    /// range, not a register read at an instant).
    pub estimated: u64,
    /// Rows of an export marked as estimated (spread over a gap), refused rather than stored
    /// as measured readings.
    pub estimated_refused: u64,
}

impl FileReport {
    /// Why nothing of this file could be used, if nothing could.
    pub fn nothing(&self) -> Option<Nothing> {
        if let Some(why) = self.kind.refusal() {
            Some(why)
        } else if self.kept > 0 {
            None
        } else if self.readings > 0 {
            Some(Nothing::NotStored(self.readings))
        } else if self.empty {
            Some(Nothing::Empty)
        } else if self.kind != Kind::Capture {
            Some(Nothing::NoLines(self.unreadable_lines))
        } else {
            Some(Nothing::NoReadings {
                rejected: self.rejected.iter().map(|(_, n)| n).sum(),
            })
        }
    }

    /// Frames rejected and lines unreadable together.
    pub fn refused(&self) -> u64 {
        self.rejected.iter().map(|(_, n)| n).sum::<u64>() + self.unreadable_lines
    }
}

/// What an import did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Each meter file, in the order given.
    pub files: Vec<FileReport>,
    /// The supplier downloads, if any were given.
    pub supplier: Option<SupplierReport>,
    /// Readings offered to the vault, from every file.
    pub readings: u64,
    /// Frames rejected and JSON lines unreadable, in every file.
    pub refused: u64,
    /// Implausible fields dropped from readings, in every meter file.
    pub implausible: u64,
    /// Files of which nothing could be used, in the order given, with why: the import as a
    /// whole failed for those that [`Nothing::fails`] for (`hearth import` exits non-zero),
    /// though the others are stored.
    pub unusable: Vec<Unusable>,
    /// What the vault made of the readings since it was opened (stored, already present,
    /// merged into earlier hours, without a time, in the future).
    pub stats: IngestStats,
    /// Readings new to the vault in this import, from every file (supplier intervals too).
    pub added: u64,
    /// Readings skipped in this import because the vault already held them.
    pub duplicates: u64,
    /// Interval readings in this import (supplier downloads, interval rows of an export):
    /// ranges whose energy is spread, not registers read at an instant.
    pub estimated: u64,
}

/// A file of which nothing could be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unusable {
    /// The file (`-` for standard input).
    pub path: PathBuf,
    /// Why.
    pub why: Nothing,
}

impl Nothing {
    /// Whether the import fails for it: always. Nothing usable in a file the user named is a
    /// failure to report, also a capture in which not a single frame was found (a serial line
    /// read at the wrong speed: `hearth detect` finds the right one), so scripts notice (#17).
    pub fn fails(&self) -> bool {
        true
    }
}

/// Why nothing of a file could be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Nothing {
    /// The file is empty.
    #[error("the file is empty")]
    Empty,
    /// The file is compressed (named by its format); nothing was read from it.
    #[error("it is compressed ({0}); unpack it first")]
    Compressed(&'static str),
    /// A meter capture in which no reading was found.
    #[error(
        "no meter reading found in it ({rejected} frame(s) rejected); Hearth reads raw meter \
         captures, JSON Lines from `hearth decode` and supplier CSV or Green Button downloads"
    )]
    NoReadings {
        /// Frames the decoder rejected.
        rejected: u64,
    },
    /// JSON Lines or CSV rows none of which is a reading.
    #[error("none of its {0} line(s) is a reading")]
    NoLines(u64),
    /// A file of a kind that holds no readings Hearth may store, with what it is and what to
    /// import instead.
    #[error("{0}")]
    WrongKind(String),
    /// Readings none of which could be stored.
    #[error(
        "none of its {0} reading(s) could be stored: they have no time or are dated in the future"
    )]
    NotStored(u64),
    /// A supplier download without a single usable interval.
    #[error("none of its {rows} row(s) could be read{}", first_problem(.first))]
    NoIntervals {
        /// Data rows read.
        rows: u64,
        /// The first row's problem: line number and what was wrong.
        first: Option<(u32, String)>,
    },
}

/// ` (line N: what was wrong)`, or nothing when no row was there.
fn first_problem(first: &Option<(u32, String)>) -> String {
    first
        .as_ref()
        .map(|(line, message)| format!(" (line {line}: {message})"))
        .unwrap_or_default()
}

/// Why an import stopped. Files before the failing one stay imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A meter file could not be read or stored.
    #[error("cannot import {}", .path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: FileError,
    },
    /// A supplier download could not be opened.
    #[error("cannot open {}", .path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// A supplier download could not be read.
    #[error("cannot import {}", .path.display())]
    Supplier {
        /// The file.
        path: PathBuf,
        /// What was wrong with it.
        #[source]
        source: hearth_meter::supplier::ImportError,
    },
    /// The supplier downloads kept in the vault could not be read back.
    #[error(transparent)]
    Stored(hearth_meter::supplier::ImportError),
    /// The readings around new supplier intervals could not be read.
    #[error("cannot read the stored readings around the supplier data")]
    Around(#[source] VaultError),
    /// The vault failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// Why one meter file could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file could not be read.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The vault could not store its readings.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The decoding thread stopped unexpectedly (a bug).
    #[error("the decoding thread failed")]
    DecoderFailed,
}

impl FileError {
    fn from_line(e: table::LineError) -> FileError {
        match e {
            table::LineError::Io(e) => FileError::Io(e),
            e @ table::LineError::TooLong(_) => FileError::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                e.to_string(),
            )),
        }
    }
}

/// Imports `files` into `vault` (its writer), in the order given, supplier downloads last
/// and together; `keys` decrypt encrypted meter captures. `-` is standard input. Each file is
/// opened once and recognised from its name and first bytes (kept, so pipes lose nothing).
/// A file of which nothing could be used is told in [`Summary::unusable`] and the others are
/// still imported. Flushes the vault at the end but leaves it open. `on` hears each step as
/// it happens.
pub fn import(
    vault: &mut Vault,
    files: &[PathBuf],
    keys: Option<Keys>,
    on: &mut dyn FnMut(Event<'_>),
) -> Result<Summary, ImportError> {
    let mut reports = Vec::new();
    let mut readings = 0u64;
    let mut refused = 0u64;
    let mut implausible = 0u64;
    let mut unusable = Vec::new();
    let mut supplier_files = Vec::new();
    let at_start = vault.stats();
    for path in files {
        let source = Source::open(path).map_err(|source| ImportError::File {
            path: path.clone(),
            source: FileError::Io(source),
        })?;
        if let Some(format) = source.compressed {
            unusable.push(Unusable {
                path: path.clone(),
                why: Nothing::Compressed(format),
            });
            continue;
        }
        if source.kind.is_supplier() {
            supplier_files.push(source);
            continue;
        }
        let report =
            import_source(vault, source, keys, on).map_err(|source| ImportError::File {
                path: path.clone(),
                source,
            })?;
        readings += report.readings;
        refused += report.refused();
        implausible += report.implausible;
        on(Event::File(&report));
        if let Some(why) = report.nothing() {
            unusable.push(Unusable {
                path: path.clone(),
                why,
            });
        }
        reports.push(report);
    }
    let supplier = if supplier_files.is_empty() {
        None
    } else {
        let report = supplier::import(vault, supplier_files, on, &mut unusable)?;
        readings += report.readings;
        on(Event::Supplier(&report));
        Some(report)
    };
    vault.flush()?;
    // In the order given.
    unusable.sort_by_key(|u| files.iter().position(|f| *f == u.path));
    let stats = vault.stats();
    let estimated =
        reports.iter().map(|r| r.estimated).sum::<u64>() + supplier.map_or(0, |s| s.readings);
    Ok(Summary {
        files: reports,
        supplier,
        readings,
        refused,
        implausible,
        unusable,
        added: (stats.stored + stats.late) - (at_start.stored + at_start.late),
        duplicates: stats.duplicates - at_start.duplicates,
        estimated,
        stats,
    })
}

/// Imports one meter file (a capture or JSON Lines, recognised from its first bytes).
pub fn import_file(
    vault: &mut Vault,
    path: &Path,
    keys: Option<Keys>,
    on: &mut dyn FnMut(Event<'_>),
) -> Result<FileReport, FileError> {
    import_source(vault, Source::open(path)?, keys, on)
}

/// Imports one opened meter file: JSON Lines, an export and a readings table as such, a
/// refused kind not at all (nothing of it read), anything else as a capture. The vault is
/// flushed after it, so what it added and what was already there are its own.
fn import_source(
    vault: &mut Vault,
    source: Source,
    keys: Option<Keys>,
    on: &mut dyn FnMut(Event<'_>),
) -> Result<FileReport, FileError> {
    let kind = match source.kind {
        Kind::SupplierCsv | Kind::GreenButton => Kind::Capture,
        other => other,
    };
    let path = source.path.as_path();
    let mut report = FileReport {
        path: path.to_path_buf(),
        kind,
        readings: 0,
        rejected: Vec::new(),
        unreadable_lines: 0,
        implausible: 0,
        empty: false,
        kept: 0,
        added: 0,
        duplicates: 0,
        estimated: 0,
        estimated_refused: 0,
    };
    if kind.refusal().is_some() {
        return Ok(report);
    }
    let counted = source.counted.clone();
    let file = source.reader;
    let before = vault.stats();
    let bytes = match kind {
        Kind::JsonLines => {
            let (n, lines) = pipeline::run(vault, path, &counted, on, |sink| {
                read_json_lines(file, sink)
            })?;
            report.readings = n;
            report.unreadable_lines = lines.unreadable;
            report.implausible = lines.implausible;
            lines.bytes
        }
        Kind::HearthCsv => {
            let (n, read) = pipeline::run(vault, path, &counted, on, |sink| {
                hearth_csv::read(file, sink)
            })?;
            report.readings = n;
            report.unreadable_lines = read.unreadable + read.estimated_refused;
            report.implausible = read.implausible;
            report.estimated = read.intervals;
            report.estimated_refused = read.estimated_refused;
            read.bytes
        }
        Kind::DsmrReader => {
            let (n, read) = pipeline::run(vault, path, &counted, on, |sink| {
                dsmr_reader::read(file, sink)
            })?;
            report.readings = n;
            report.unreadable_lines = read.unreadable;
            read.bytes
        }
        Kind::HomeAssistantStatistics => {
            let (n, read) = pipeline::run(vault, path, &counted, on, |sink| {
                home_assistant::read(file, sink)
            })?;
            report.readings = n;
            report.unreadable_lines = read.unreadable;
            read.bytes
        }
        _ => {
            let (n, (stats, bytes)) = pipeline::run(vault, path, &counted, on, |sink| {
                decode_capture(file, keys, sink)
            })?;
            report.readings = n;
            report.rejected = RejectReason::ALL
                .iter()
                .map(|&r| (r, stats.rejected_for(r)))
                .filter(|(_, k)| *k > 0)
                .collect();
            report.implausible = stats.implausible;
            bytes
        }
    };
    vault.flush()?;
    let after = vault.stats();
    // Readings the vault could not keep: without a time, or dated in the future.
    let dropped = (after.untimed + after.future) - (before.untimed + before.future);
    report.empty = bytes == 0;
    report.kept = report.readings.saturating_sub(dropped);
    report.added = (after.stored + after.late) - (before.stored + before.late);
    report.duplicates = after.duplicates - before.duplicates;
    counted.tell(path, on);
    Ok(report)
}

/// What reading a JSON Lines file gave besides its readings.
struct JsonLines {
    /// Lines that were not readings.
    unreadable: u64,
    /// Implausible fields dropped from its readings.
    implausible: u64,
    /// Bytes read.
    bytes: u64,
}

/// Readings from JSON Lines (as `hearth decode` writes them), each checked for plausibility
/// as a decoded one is; returns how many lines were not readings (each told to the sink with
/// its line number), how many implausible fields were dropped (the first
/// [`IMPLAUSIBLE_TOLD`] told) and how many bytes were read. A line longer than
/// [`Cap::JSON_LINE`] stops the file with an error naming it.
fn read_json_lines(file: impl BufRead, sink: &mut Sink) -> Result<JsonLines, FileError> {
    let mut out = JsonLines {
        unreadable: 0,
        implausible: 0,
        bytes: 0,
    };
    for (i, line) in Lines::new(file, Cap::JSON_LINE).enumerate() {
        let line = line?;
        out.bytes += line.len() as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let number = i as u64 + 1;
        let open = match Reading::from_json(&line) {
            Ok(mut r) => {
                let mut open = true;
                for found in plausible::check(&mut r) {
                    out.implausible += 1;
                    if open && out.implausible <= IMPLAUSIBLE_TOLD {
                        open = sink.implausible(number, found);
                    }
                }
                open && sink.reading(r)
            }
            Err(e) => {
                out.unreadable += 1;
                sink.unreadable(number, e)
            }
        };
        if !open {
            break;
        }
    }
    Ok(out)
}

/// Decodes a raw capture (any protocol, recognised from the bytes); returns the decoder's
/// counts of accepted and rejected frames and how many bytes were read.
fn decode_capture(
    mut file: impl std::io::Read,
    keys: Option<Keys>,
    sink: &mut Sink,
) -> Result<(Stats, u64), FileError> {
    let mut decoder = crate::meter_keys::auto_decoder(keys);
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    'input: loop {
        let got = file.read(&mut buf)?;
        if got == 0 {
            break;
        }
        bytes += got as u64;
        decoder.push(&buf[..got]);
        while let Some(item) = decoder.next() {
            if let Ok(decoded) = item
                && !sink.reading(decoded.reading)
            {
                break 'input;
            }
        }
    }
    // The end of the input completes what needs no terminator (a last hex line, a bare
    // APDU at the end of a dump).
    while let Some(item) = decoder.finish() {
        if let Ok(decoded) = item
            && !sink.reading(decoded.reading)
        {
            break;
        }
    }
    Ok((decoder.stats().clone(), bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_meter_io::simulator::Simulator;
    use hearth_vault::{CreateOptions, KdfParams, Resolution};

    /// Two hours of simulated DSMR 5 telegrams with what real captures hold: telegrams with
    /// a broken checksum (rejected), a repeated telegram (duplicate) and one that arrives
    /// ten minutes late (merged into place).
    fn capture() -> Vec<u8> {
        let mut sim = Simulator::new(7, 1_768_478_400);
        let telegrams: Vec<Vec<u8>> = (0..7200).map(|_| sim.next_telegram()).collect();
        let mut bytes = Vec::new();
        for (i, t) in telegrams.iter().enumerate() {
            if i == 3400 {
                continue;
            }
            let mut t = t.clone();
            if i % 997 == 500 {
                // A flipped digit in the first data line: the CRC no longer matches.
                let at = t.iter().position(|&b| b == b'(').expect("a value") + 1;
                t[at] ^= 0x01;
            }
            bytes.extend_from_slice(&t);
            if i == 4000 {
                bytes.extend_from_slice(&t);
                bytes.extend_from_slice(&telegrams[3400]);
            }
        }
        bytes
    }

    fn vault(dir: &tempfile::TempDir, name: &str) -> Vault {
        let options = CreateOptions {
            kdf: KdfParams::INSECURE_FOR_TESTS,
            time_zone: Some("Europe/Amsterdam".into()),
        };
        Vault::create(&dir.path().join(name), "pw", &options).expect("vault")
    }

    /// The import loop as it was before decoding moved to a thread of its own: decode, then
    /// append every 8192 readings, all on one thread.
    fn import_on_one_thread(vault: &mut Vault, bytes: &[u8]) -> (u64, u64) {
        let mut decoder = crate::meter_keys::auto_decoder(None);
        let mut batch = Vec::new();
        let mut n = 0u64;
        for chunk in bytes.chunks(1 << 20) {
            decoder.push(chunk);
            while let Some(item) = decoder.next() {
                if let Ok(decoded) = item {
                    batch.push(decoded.reading);
                    if batch.len() >= 8192 {
                        vault.append(&batch).expect("append");
                        n += batch.len() as u64;
                        batch.clear();
                    }
                }
            }
        }
        vault.append(&batch).expect("append");
        n += batch.len() as u64;
        (n, decoder.stats().rejected())
    }

    fn stored(vault: &Vault, res: Resolution) -> Vec<hearth_vault::Row> {
        vault
            .readings(i64::MIN, i64::MAX, res)
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("intact")
    }

    #[test]
    fn the_pipelined_import_stores_exactly_what_the_one_thread_import_stored() {
        let dir = tempfile::tempdir().expect("dir");
        let bytes = capture();
        let file = dir.path().join("day.dsmr");
        std::fs::write(&file, &bytes).expect("capture");

        let mut old = vault(&dir, "old.hearth");
        let (old_n, old_rejected) = import_on_one_thread(&mut old, &bytes);
        old.flush().expect("flush");

        let mut new = vault(&dir, "new.hearth");
        let report = import_file(&mut new, &file, None, &mut |_| {}).expect("import");
        new.flush().expect("flush");

        // 7201 frames (7200 telegrams, one of them twice), 7 with a broken checksum
        // (telegrams 500, 1497, ... 6482).
        assert_eq!((old_n, old_rejected), (7194, 7));
        assert_eq!(
            report,
            FileReport {
                path: file.clone(),
                kind: Kind::Capture,
                readings: old_n,
                rejected: vec![(RejectReason::Checksum, 7)],
                unreadable_lines: 0,
                implausible: 0,
                empty: false,
                kept: old_n,
                added: 7193,
                duplicates: 1,
                estimated: 0,
                estimated_refused: 0,
            }
        );
        let expected = IngestStats {
            stored: 7192,
            duplicates: 1,
            late: 1,
            untimed: 0,
            future: 0,
        };
        assert_eq!(old.stats(), expected);
        assert_eq!(new.stats(), old.stats());
        // Every second but the 7 rejected ones, the late one in its place.
        let raw = stored(&new, Resolution::Raw);
        assert_eq!(raw.len(), 7193);
        assert_eq!(raw, stored(&old, Resolution::Raw));
        for res in Resolution::ROLLUPS {
            assert_eq!(stored(&new, res), stored(&old, res), "{res:?}");
        }
    }

    #[test]
    fn implausible_json_lines_fields_are_dropped_told_and_counted() {
        let dir = tempfile::tempdir().expect("dir");
        let jl = dir.path().join("readings.jsonl");
        // 25 readings with a voltage of 4000 V (a unit error); the 2nd also has 900 kW.
        let mut text = String::new();
        for i in 0..25 {
            let power = if i == 1 { ",\"import_w\":900000" } else { "" };
            text.push_str(&format!(
                "{{\"time\":\"2026-01-15T12:00:{i:02}+01:00\",\"import_kwh\":1.000,\
                 \"l1_v\":4000.0{power}}}\n"
            ));
        }
        std::fs::write(&jl, text).expect("file");
        let mut v = vault(&dir, "v.hearth");
        let mut told = Vec::new();
        let summary = import(&mut v, std::slice::from_ref(&jl), None, &mut |e| {
            if let Event::ImplausibleField { line, found, .. } = e {
                told.push(format!("{line} {found}"));
            }
        })
        .expect("import");
        // Every field counted, the first IMPLAUSIBLE_TOLD told with their lines.
        assert_eq!(summary.implausible, 26);
        assert_eq!(summary.files[0].implausible, 26);
        assert_eq!(told.len() as u64, IMPLAUSIBLE_TOLD);
        assert_eq!(
            told[..3],
            [
                "1 l1_v 4000.0 dropped: a household voltage is 0 or between 80 and 300 V",
                "2 l1_v 4000.0 dropped: a household voltage is 0 or between 80 and 300 V",
                "2 import_w 900000 dropped: a household connection carries at most ±60 kW",
            ]
        );
        // The readings are stored without the implausible fields.
        assert_eq!(summary.stats.stored, 25);
        let rows = stored(&v, Resolution::Raw);
        assert_eq!(rows.len(), 25);
        for row in &rows {
            assert_eq!(row.reading.get(hearth_meter::Quantity::L1Dv), None);
            assert_eq!(row.reading.get(hearth_meter::Quantity::ImportW), None);
            assert_eq!(
                row.reading.get(hearth_meter::Quantity::ImportWh),
                Some(1_000)
            );
        }
    }

    #[test]
    fn json_lines_are_recognised_and_lines_that_are_not_readings_are_told_by_number() {
        let dir = tempfile::tempdir().expect("dir");
        let jl = dir.path().join("readings.txt");
        std::fs::write(
            &jl,
            "\n  {\"time\":\"2026-01-15T12:00:00+01:00\",\"import_kwh\":1.000}\n\
             not json\n\
             \n\
             {\"time\":\"2026-01-15T12:00:10+01:00\",\"import_kwh\":1.002}\n",
        )
        .expect("file");
        assert_eq!(recognise(&jl).expect("recognise"), Kind::JsonLines);
        assert_eq!(
            recognise(Path::new("no/such/dir/octopus.CSV")).expect("by name"),
            Kind::SupplierCsv
        );
        assert_eq!(
            recognise(Path::new("no/such/dir/usage.xml")).expect("by name"),
            Kind::GreenButton
        );
        let mut v = vault(&dir, "v.hearth");
        let mut told = Vec::new();
        let summary = import(&mut v, std::slice::from_ref(&jl), None, &mut |e| match e {
            Event::UnreadableLine { line, .. } => told.push(format!("line {line}")),
            Event::File(r) => told.push(format!("file {} {}", r.readings, r.refused())),
            Event::Read { bytes, total, .. } => told.push(format!("read {bytes} of {total:?}")),
            other => told.push(format!("{other:?}")),
        })
        .expect("import");
        // The whole file read, told with its size (a progress bar's two numbers).
        assert_eq!(told, ["line 3", "read 125 of Some(125)", "file 2 1"]);
        assert_eq!((summary.readings, summary.refused), (2, 1));
        assert_eq!(summary.supplier, None);
        assert_eq!(summary.stats.stored, 2);
        assert_eq!(
            summary.files[0].kind,
            Kind::JsonLines,
            "a JSON Lines file whatever its name"
        );
    }
}
