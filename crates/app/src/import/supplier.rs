//! Supplier downloads (UK half-hourly consumption CSV, Green Button XML) into the vault.
//! Their intervals are merged with every download imported before (kept sealed in the vault
//! as [`Setting::SupplierIntervals`]): duplicates and overlaps count once, in this run or any
//! later one. Only new intervals are stored, as import register readings placed around what
//! the vault already holds so that nothing stored changes: files imported in separate runs,
//! in any order, the same file twice or overlapping files all give exact sums. Intervals the
//! vault already has meter readings for are left out (they would count twice).

use super::{Event, ImportError, Kind, Nothing, Source, TITLE_LINES, Unusable};
use crate::bounded_read::{Cap, Capped, Lines};
use crate::settings::Setting;
use hearth_meter::supplier::{self, IntervalSet, Stored};
use hearth_meter::{Quantity, Reading};
use hearth_vault::{Resolution, Vault, VaultError};
use std::io::{BufRead, BufReader};

/// What the supplier downloads of one import added.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SupplierReport {
    /// Supplier files read.
    pub files: usize,
    /// Intervals no earlier import held.
    pub new: usize,
    /// New intervals stored (the others are left out, see `covered`).
    pub accepted: usize,
    /// New intervals left out because the vault holds meter readings for their time.
    pub covered: usize,
    /// Energy of the stored intervals, thousandths of a Wh.
    pub added_milli_wh: i64,
    /// Register readings offered to the vault.
    pub readings: u64,
}

/// Imports supplier downloads: merges their intervals with those of earlier imports (kept in
/// the vault), and stores register readings for the new ones only, placed by
/// [`supplier::plan_registers`] around what the vault already holds so nothing stored
/// changes.
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
    let (Some(first), Some(last)) = (new.first(), new.last()) else {
        return Ok(report);
    };
    report.new = new.len();
    // The planner needs what is on disk around the new intervals.
    vault.flush()?;
    let before = last_register_before(vault, first.start)?;
    let after = first_register_after(vault, last.end)?;
    let mut failure = None;
    let span = vault
        .readings(first.start, last.end.saturating_add(1), Resolution::Raw)?
        .map_while(|row| match row {
            Ok(row) => Some(row),
            Err(e) => {
                failure = Some(e);
                None
            }
        })
        .filter_map(|row| stored_register(&row.reading));
    let plan = supplier::plan_registers(&new, before, span, after);
    if let Some(e) = failure {
        return Err(ImportError::Around(e));
    }
    let readings = supplier::plan_readings(
        &plan.points,
        Quantity::ImportWh,
        merged.meter_id.as_ref(),
        &tz,
    );
    vault.append(&readings)?;
    let mut stored = known;
    for iv in &plan.accepted {
        stored.insert(*iv, 0);
    }
    // The readings reach the disk first: a crash in between leaves them stored and the next
    // import places the same intervals on the same registers again.
    vault.flush()?;
    Setting::SupplierIntervals.put(vault, &stored.encode())?;
    report.accepted = plan.accepted.len();
    report.covered = plan.covered.len();
    report.added_milli_wh = plan.accepted.iter().map(|iv| iv.energy_milli_wh).sum();
    report.readings = readings.len() as u64;
    Ok(report)
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

/// The import register of a stored reading, if it has one.
fn stored_register(r: &Reading) -> Option<Stored> {
    Some(Stored {
        time: r.time?.unix,
        wh: r.get(Quantity::ImportWh)?,
    })
}

/// The last stored reading with an import register earlier than `t`: looks back an hour,
/// then twice as far each time (a few empty range lookups when nothing is near).
fn last_register_before(vault: &Vault, t: i64) -> Result<Option<Stored>, VaultError> {
    let mut reach: i64 = 3600;
    for _ in 0..24 {
        let from = t.saturating_sub(reach);
        let mut found = None;
        for row in vault.readings(from, t, Resolution::Raw)? {
            if let Some(s) = stored_register(&row?.reading) {
                found = Some(s);
            }
        }
        if found.is_some() {
            return Ok(found);
        }
        reach = reach.saturating_mul(2);
    }
    Ok(None)
}

/// The first stored reading with an import register later than `t`.
fn first_register_after(vault: &Vault, t: i64) -> Result<Option<Stored>, VaultError> {
    for row in vault.readings(t.saturating_add(1), i64::MAX, Resolution::Raw)? {
        if let Some(s) = stored_register(&row?.reading) {
            return Ok(Some(s));
        }
    }
    Ok(None)
}
