//! Supplier downloads (UK half-hourly consumption CSV, Green Button XML) into the vault.
//! Their intervals are merged with every download imported before (kept sealed in the vault
//! as [`Setting::SupplierIntervals`]): duplicates and overlaps count once, in this run or any
//! later one. Each new interval is stored as what it is, interval energy
//! ([`Quantity::IntervalImportWh`] over [`Quantity::IntervalS`] from its start), never as
//! made-up register values: the vault's rollups book it beside the meter's own registers,
//! and where the meter measured a minute its registers count. Files imported in separate
//! runs, in any order, before or after meter readings, the same file twice or overlapping
//! files all give the same sums.

use super::{Event, ImportError, Kind, Nothing, Source, TITLE_LINES, Unusable};
use crate::bounded_read::{Cap, Capped, Lines};
use crate::settings::Setting;
use hearth_meter::Quantity;
use hearth_meter::supplier::{self, IntervalSet};
use hearth_vault::{Resolution, Vault};
use std::io::{BufRead, BufReader};

/// What the supplier downloads of one import added.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SupplierReport {
    /// Supplier files read.
    pub files: usize,
    /// Intervals no earlier import held.
    pub new: usize,
    /// New intervals stored.
    pub accepted: usize,
    /// New intervals during which the vault holds meter readings: there the meter's own
    /// registers count, the interval fills only what the meter did not measure.
    pub overlapping: usize,
    /// Energy of the stored intervals, thousandths of a Wh.
    pub added_milli_wh: i64,
    /// Interval readings offered to the vault.
    pub readings: u64,
}

/// Imports supplier downloads: merges their intervals with those of earlier imports (kept in
/// the vault), and stores the new ones as interval readings.
pub(super) fn import(
    vault: &mut Vault,
    files: Vec<Source>,
    on: &mut dyn FnMut(Event<'_>),
    unusable: &mut Vec<Unusable>,
) -> Result<SupplierReport, ImportError> {
    let tz = vault.time_zone().clone();
    let known = match Setting::SupplierIntervals.get(vault)? {
        Some(bytes) => IntervalSet::decode(&bytes).map_err(ImportError::Stored)?,
        None => IntervalSet::new(),
    };
    let count = files.len();
    let mut merged = known.clone();
    for source in files {
        let path = source.path.as_path();
        let before = merged.diagnostics.len();
        // A download is read whole into intervals: capped at 256 MiB, and a CSV row at 1 MiB.
        let reader = BufReader::new(Capped::new(source.reader, Cap::SUPPLIER_FILE));
        let summary = match source.kind {
            Kind::GreenButton => {
                supplier::read_green_button(reader, supplier::Flow::Forward, &mut merged)
            }
            _ => read_csv(reader, &tz, &mut merged),
        };
        let summary = match summary {
            Ok(summary) => summary,
            Err(supplier::ImportError::Empty) => {
                unusable.push(Unusable {
                    path: path.to_path_buf(),
                    why: Nothing::Empty,
                });
                continue;
            }
            Err(source) => {
                return Err(ImportError::Supplier {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let told = &merged.diagnostics[before..];
        on(Event::SupplierFile {
            path,
            summary: &summary,
            diagnostics: told,
        });
        if summary.added + summary.duplicates + summary.conflicts == 0 {
            unusable.push(Unusable {
                path: path.to_path_buf(),
                why: Nothing::NoIntervals {
                    rows: summary.rows,
                    first: told.first().map(|d| (d.line, d.message.clone())),
                },
            });
        }
    }
    let mut report = SupplierReport {
        files: count,
        ..SupplierReport::default()
    };
    let new = merged.added_since(&known);
    if new.is_empty() {
        return Ok(report);
    }
    report.new = new.len();
    report.overlapping = overlapping(vault, &new)?;
    let readings = supplier::interval_readings(
        &new,
        Quantity::IntervalImportWh,
        merged.meter_id.as_ref(),
        &tz,
    );
    vault.append(&readings)?;
    let mut stored = known;
    for iv in &new {
        stored.insert(*iv, 0);
    }
    // The readings reach the disk first: a crash in between leaves them stored, and the next
    // import offers the same readings again, which the vault takes as duplicates.
    vault.flush()?;
    Setting::SupplierIntervals.put(vault, &stored.encode())?;
    report.accepted = new.len();
    report.added_milli_wh = new.iter().map(|iv| iv.energy_milli_wh).sum();
    report.readings = readings.len() as u64;
    Ok(report)
}

/// How many of `intervals` (sorted by start) hold meter readings with an import register.
fn overlapping(vault: &mut Vault, intervals: &[supplier::Interval]) -> Result<usize, ImportError> {
    let (Some(first), Some(last)) = (intervals.first(), intervals.last()) else {
        return Ok(0);
    };
    vault.flush()?;
    let mut hit = vec![false; intervals.len()];
    for row in vault.readings(first.start, last.end, Resolution::Raw)? {
        let row = row.map_err(ImportError::Around)?;
        let r = &row.reading;
        let (Some(t), Some(_)) = (r.time, r.get(Quantity::ImportWh)) else {
            continue;
        };
        let k = intervals.partition_point(|iv| iv.start <= t.unix);
        if k > 0 && t.unix < intervals[k - 1].end {
            hit[k - 1] = true;
        }
    }
    Ok(hit.iter().filter(|h| **h).count())
}

/// Reads a consumption CSV (see [`supplier::read_csv`]) whose header may follow a few title
/// lines (a file name, a meter number): lines before the header that name no columns are
/// passed over, up to [`TITLE_LINES`]; with no header among them, the first one is refused.
/// A line longer than [`Cap::SUPPLIER_LINE`] is refused with its number.
fn read_csv(
    reader: impl BufRead,
    tz: &jiff::tz::TimeZone,
    set: &mut IntervalSet,
) -> Result<supplier::ImportSummary, supplier::ImportError> {
    let mut csv = supplier::CsvReader::new(tz.clone());
    let mut summary = supplier::ImportSummary::default();
    let mut header = false;
    let mut titles = 0usize;
    let mut first_refusal = None;
    for line in Lines::new(reader, Cap::SUPPLIER_LINE) {
        let line = line.map_err(|e| supplier::ImportError::Io(e.to_string()))?;
        let blank = line.trim_start_matches('\u{feff}').trim().is_empty();
        match csv.push_line(&line, set, &mut summary) {
            Ok(()) => header |= !blank,
            Err(e @ supplier::ImportError::Columns { .. }) if !header => {
                titles += 1;
                let first = first_refusal.get_or_insert(e);
                if titles >= TITLE_LINES {
                    return Err(first.clone());
                }
            }
            Err(e) => return Err(e),
        }
    }
    match first_refusal {
        Some(e) if !header => Err(e),
        _ if !header => Err(supplier::ImportError::Empty),
        _ => Ok(summary),
    }
}
