//! Supplier downloads (UK half-hourly consumption CSV, Green Button XML) into the vault.
//! Their intervals are merged with every download imported before (kept sealed in the vault
//! as [`Setting::SupplierIntervals`]): duplicates and overlaps count once, in this run or any
//! later one. Only new intervals are stored, as import register readings placed around what
//! the vault already holds so that nothing stored changes: files imported in separate runs,
//! in any order, the same file twice or overlapping files all give exact sums. Intervals the
//! vault already has meter readings for are left out (they would count twice).

use super::{Event, ImportError, Kind};
use crate::settings::Setting;
use hearth_meter::supplier::{self, IntervalSet, Stored};
use hearth_meter::{Quantity, Reading};
use hearth_vault::{Resolution, Vault, VaultError};
use std::io::BufReader;
use std::path::Path;

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
    files: &[(&Path, Kind)],
    on: &mut dyn FnMut(Event<'_>),
) -> Result<SupplierReport, ImportError> {
    let tz = vault.time_zone().clone();
    let known = match Setting::SupplierIntervals.get(vault)? {
        Some(bytes) => IntervalSet::decode(&bytes).map_err(ImportError::Stored)?,
        None => IntervalSet::new(),
    };
    let mut merged = known.clone();
    for &(path, kind) in files {
        let before = merged.diagnostics.len();
        let reader =
            BufReader::new(
                std::fs::File::open(path).map_err(|source| ImportError::Open {
                    path: path.to_path_buf(),
                    source,
                })?,
            );
        let summary = match kind {
            Kind::GreenButton => {
                supplier::read_green_button(reader, supplier::Flow::Forward, &mut merged)
            }
            _ => supplier::read_csv(reader, &tz, &mut merged),
        }
        .map_err(|source| ImportError::Supplier {
            path: path.to_path_buf(),
            source,
        })?;
        on(Event::SupplierFile {
            path,
            summary: &summary,
            diagnostics: &merged.diagnostics[before..],
        });
    }
    let mut report = SupplierReport {
        files: files.len(),
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
