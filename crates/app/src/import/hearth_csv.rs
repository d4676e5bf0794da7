//! Hearth's own CSV export (`hearth export`, design.md §3 column names and `estimated`) read
//! back, recognised by its header, in both its variants (`,` between fields, or `;` with a
//! decimal comma). A raw export's rows become readings again, exactly as stored, so export,
//! import into an empty vault and export again gives the same bytes. An interval export
//! (`--resolution 1m`, `15m`, `1h`, `1d`) holds energy per interval, some of it spread over
//! gaps: those are not meter readings, and are refused whole with the resolution named,
//! never turned into made-up register values.

use super::table::{self, Line, Lines};
use super::{FileError, IMPLAUSIBLE_TOLD, pipeline::Sink};
use hearth_meter::plausible;
use hearth_meter::reading::{MeterId, Protocol, Quantity, Reading};
use hearth_meter::record::{COLUMNS, Column, RecordError};
use hearth_meter::time::MeterTime;
use std::io::BufRead;

/// The columns an interval export adds after `estimated`.
const INTERVAL_EXTRA: [&str; 4] = [
    "import_w_min",
    "import_w_max",
    "export_w_min",
    "export_w_max",
];

/// What a Hearth CSV export holds, from its header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Export {
    /// Every reading (`--resolution raw`): imported.
    Raw,
    /// Energy per interval, the seconds between its closest two rows in the file's first
    /// bytes (`None`: fewer than two). Refused.
    Summary(Option<i64>),
}

/// The header of a raw export in order (the design.md §3 names, then `estimated`).
fn raw_header() -> impl Iterator<Item = &'static str> {
    COLUMNS
        .iter()
        .map(|c| c.name())
        .chain(std::iter::once("estimated"))
}

/// Whether the text `head` (a file's first bytes) starts with a Hearth CSV export's header,
/// and which kind.
pub fn recognise(head: &str) -> Option<Export> {
    let mut lines = head.lines();
    let header = lines.next()?;
    let delimiter = table::delimiter_of(header);
    let names = table::fields(header, delimiter)?;
    let raw: Vec<&str> = raw_header().collect();
    if names.len() < raw.len() || names[..raw.len()] != raw[..] {
        return None;
    }
    if names.len() == raw.len() {
        return Some(Export::Raw);
    }
    if names[raw.len()..] != INTERVAL_EXTRA[..] {
        return None;
    }
    let starts: Vec<i64> = lines
        .filter_map(|l| {
            let first = table::fields(l, delimiter)?.into_iter().next()?;
            MeterTime::parse_rfc3339(&first).ok().map(|t| t.unix)
        })
        .collect();
    // The closest two rows in the head: rows of a summary may be far apart where the vault
    // holds nothing between them.
    let step = starts
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| *d > 0)
        .min();
    Some(Export::Summary(step))
}

/// The words for an interval export's resolution, from the seconds between its rows.
pub fn resolution_words(step: Option<i64>) -> &'static str {
    match step {
        Some(60) => "a one-minute summary",
        Some(900) => "a 15-minute summary",
        Some(3600) => "an hourly summary",
        // A day is 23 or 25 hours on the days the clocks change.
        Some(82_800..=90_000) => "a daily summary",
        _ => "a summary per interval",
    }
}

/// What reading an export gave besides its readings.
#[derive(Debug, Default)]
pub(super) struct Read {
    /// Rows that were not readings (each told with its line).
    pub unreadable: u64,
    /// Implausible fields dropped from its readings.
    pub implausible: u64,
    /// Rows marked `estimated` (spread over a gap, not measured): refused, never stored as
    /// measured readings.
    pub estimated_refused: u64,
    /// Supplier or interval readings among the rows (energy over an interval, spread).
    pub intervals: u64,
    /// Bytes read.
    pub bytes: u64,
}

/// Reads a raw export's rows as readings into `sink`. A row that cannot be read exactly (a
/// field count unlike the header's, a number with too many places, a time without its
/// offset, a last line cut short) is told with its line number and skipped; nothing in it
/// is stored.
pub(super) fn read(file: impl BufRead, sink: &mut Sink) -> Result<Read, FileError> {
    let mut out = Read::default();
    let mut lines = Lines::new(file);
    let Some((delimiter, columns)) =
        table::header(&mut lines, &mut out.bytes).map_err(FileError::from_line)?
    else {
        return Ok(out);
    };
    let comma = delimiter == ';';
    let width = columns.len();
    while let Some(line) = lines.next_line().map_err(FileError::from_line)? {
        out.bytes += line.bytes;
        if line.utf8 && line.text.trim().is_empty() {
            continue;
        }
        let open = match row(&line, &columns, width, delimiter, comma) {
            Ok(Row::Estimated) => {
                out.estimated_refused += 1;
                sink.unreadable(
                    line.number,
                    problem(
                        "estimated",
                        "the row is an estimate (spread over a gap), not a measured reading; \
                         not imported",
                    ),
                )
            }
            Ok(Row::Reading(mut r)) => {
                if r.get(Quantity::IntervalS).is_some() {
                    out.intervals += 1;
                }
                let mut open = true;
                for found in plausible::check(&mut r) {
                    out.implausible += 1;
                    if open && out.implausible <= IMPLAUSIBLE_TOLD {
                        open = sink.implausible(line.number, found);
                    }
                }
                open && sink.reading(*r)
            }
            Err(e) => {
                out.unreadable += 1;
                sink.unreadable(line.number, e)
            }
        };
        if !open {
            break;
        }
    }
    Ok(out)
}

/// A problem with one field (or `line` for the whole row).
fn problem(field: &str, what: &str) -> RecordError {
    RecordError::Field {
        field: field.to_owned(),
        problem: what.to_owned(),
    }
}

/// One row read.
enum Row {
    Reading(Box<Reading>),
    Estimated,
}

/// Reads one data row against the header's `columns`.
fn row(
    line: &Line,
    columns: &[String],
    width: usize,
    delimiter: char,
    comma: bool,
) -> Result<Row, RecordError> {
    if !line.utf8 {
        return Err(problem("line", "not text (UTF-8)"));
    }
    if !line.ended {
        return Err(problem(
            "line",
            "the last line is cut short (no line end): the file was still being written or \
             copied; not imported",
        ));
    }
    let fields = table::fields(&line.text, delimiter)
        .ok_or_else(|| problem("line", "a quote is left open"))?;
    if fields.len() != width {
        return Err(problem(
            "line",
            &format!("{} fields where the header has {width}", fields.len()),
        ));
    }
    let mut reading = Reading::new(Protocol::Unknown);
    for (name, cell) in columns.iter().zip(&fields) {
        if cell.is_empty() {
            continue;
        }
        if name == "estimated" {
            match cell.as_str() {
                "false" => continue,
                "true" => return Ok(Row::Estimated),
                _ => return Err(problem(name, "expected true or false")),
            }
        }
        let Some(column) = Column::from_name(name) else {
            continue;
        };
        let time = || MeterTime::parse_rfc3339(cell).map_err(|e| problem(name, &e.to_string()));
        match column {
            Column::Time => reading.time = Some(time()?),
            Column::MeterId => reading.meter_id = Some(MeterId::new(cell)),
            Column::Protocol => {
                reading.protocol = Protocol::from_name(cell)
                    .filter(|p| *p != Protocol::Unknown)
                    .ok_or_else(|| problem(name, "unknown protocol"))?;
            }
            Column::DsmrVersion => reading.dsmr_version = Some(cell.clone()),
            Column::DemandPeakMonthTime => reading.demand_peak_month_time = Some(time()?),
            Column::GasTime => reading.gas_time = Some(time()?),
            Column::WaterTime => reading.water_time = Some(time()?),
            Column::HeatTime => reading.heat_time = Some(time()?),
            Column::Value(q) => {
                let v = table::fixed(cell, q.decimals(), comma).ok_or_else(|| {
                    problem(
                        name,
                        &format!("expected a number with at most {} decimals", q.decimals()),
                    )
                })?;
                reading.set(q, v);
            }
        }
    }
    if reading.time.is_none() {
        return Err(problem(
            "time",
            "missing: a reading without a time cannot be placed",
        ));
    }
    Ok(Row::Reading(Box::new(reading)))
}
