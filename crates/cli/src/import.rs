//! `hearth import FILE...`: raw meter captures of any supported protocol (recognised from the
//! bytes), JSON Lines written by `hearth decode`, Hearth's own raw CSV export, DSMR-reader's
//! readings table, Home Assistant's statistics (CSV files recognised by their header), and
//! supplier downloads (UK half-hourly consumption CSV; Green Button XML, `.xml`) into the
//! vault, by the import use case
//! the desktop shares (`hearth_app::import`). This file parses the arguments and prints what
//! the import tells: progress and rejections to stderr as they happen, then the totals. `-`
//! reads standard input. A file of which nothing could be used is named with why, and the
//! command then exits 1 (the other files are imported), except for a capture in which not a
//! single frame was found (noise from a serial line at the wrong speed), which is only told.

use crate::Global;
use crate::unlock::open_writer;
use hearth_app::import::{self, Event};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Options of `hearth import`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Capture files (raw bytes of any protocol), JSON Lines from `hearth decode`, Hearth's own
    /// CSV export (raw), DSMR-reader's readings table, Home Assistant's statistics, or supplier
    /// half-hourly downloads (`.csv`, Green Button `.xml`; in any order, over any number of
    /// runs). `-` reads standard input.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Keys of a meter that encrypts its frames (remembered in the vault).
    #[command(flatten)]
    pub keys: crate::meter_keys::KeyArgs,
}

/// Runs the command.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let mut vault = open_writer(global)?;
    let keys = args.keys.for_vault(&mut vault)?;
    let counted = vault.rollup_counts();
    let started = Instant::now();
    let rate = |n: u64| n as f64 / started.elapsed().as_secs_f64().max(1e-9);
    let summary = import::import(&mut vault, &args.files, keys, &mut |event| {
        print_event(&event, &rate);
    })?;
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    let stats = summary.stats;
    eprintln!(
        "imported {} readings in {secs:.1} s ({:.0}/s): {} stored, {} already present, \
         {} merged into earlier hours, {} without a time, {} frames rejected",
        summary.readings,
        summary.readings as f64 / secs,
        stats.stored + stats.late,
        stats.duplicates,
        stats.late,
        stats.untimed,
        summary.refused
    );
    eprintln!(
        "in total: {} reading(s) added, {} skipped (already stored), {} estimated range(s) \
         (supplier or interval data, spread)",
        summary.added, summary.duplicates, summary.estimated
    );
    if summary.implausible > 0 {
        eprintln!(
            "{} implausible field(s) dropped from readings",
            summary.implausible
        );
    }
    vault.flush()?;
    let found = vault.rollup_counts();
    let glitches = found.glitches.saturating_sub(counted.glitches);
    let swaps = found.meter_swaps.saturating_sub(counted.meter_swaps);
    if glitches > 0 {
        eprintln!(
            "{glitches} register glitch(es) not booked: a register fell or jumped for a moment \
             and came back to its series"
        );
    }
    if swaps > 0 {
        eprintln!(
            "{swaps} meter swap(s) or register reset(s): each new series counts from its start"
        );
    }
    vault.close()?;
    for u in &summary.unusable {
        eprintln!("hearth: {}: nothing imported: {}", u.path.display(), u.why);
    }
    Ok(if !summary.unusable.iter().any(|u| u.why.fails()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Says on stderr what the import just did.
fn print_event(event: &Event<'_>, rate: &dyn Fn(u64) -> f64) {
    match event {
        Event::Progress { readings, .. } => {
            eprintln!("  {} readings ({:.0}/s)", readings, rate(*readings));
        }
        // Bytes read are for a progress bar; the terminal hears readings.
        Event::Read { .. } => {}
        Event::UnreadableLine { path, line, error } => {
            eprintln!("{}:{line}: {error}", path.display());
        }
        Event::ImplausibleField { path, line, found } => {
            eprintln!("{}:{line}: {found}", path.display());
        }
        Event::File(report) if report.kind.refusal().is_some() => {}
        Event::File(report) => {
            eprintln!(
                "{}: {} reading(s) added, {} skipped (already stored), {} estimated range(s)",
                report.path.display(),
                report.added,
                report.duplicates,
                report.estimated
            );
            if report.estimated_refused > 0 {
                eprintln!(
                    "{}: {} estimated row(s) (spread over a gap) not imported as readings",
                    report.path.display(),
                    report.estimated_refused
                );
            }
            for (reason, k) in &report.rejected {
                eprintln!(
                    "{}: {k} frames rejected ({})",
                    report.path.display(),
                    reason.name()
                );
            }
            if report.implausible > 0 {
                eprintln!(
                    "{}: {} implausible field(s) dropped (the rest of each reading kept)",
                    report.path.display(),
                    report.implausible
                );
            }
        }
        Event::SupplierFile {
            path,
            summary,
            diagnostics,
        } => {
            eprintln!(
                "{}: {} intervals read: {} new, {} already imported, {} disagreeing with \
                 earlier ones (kept the earlier), {} unreadable, {} impossible for a household",
                path.display(),
                summary.rows,
                summary.added,
                summary.duplicates,
                summary.conflicts,
                summary.skipped - summary.implausible,
                summary.implausible
            );
            for d in diagnostics.iter().take(5) {
                eprintln!("  line {}: {}", d.line, d.message);
            }
        }
        Event::Supplier(report) if report.new == 0 => {
            eprintln!(
                "{} supplier file(s): nothing new, 0.000000 kWh added",
                report.files
            );
        }
        Event::Supplier(report) => {
            let mut kwh = String::new();
            let _ = hearth_meter::reading::write_fixed(&mut kwh, report.added_milli_wh, 6);
            eprintln!(
                "{} supplier file(s): {} new intervals, {kwh} kWh added",
                report.files, report.accepted
            );
            if report.overlapping > 0 {
                eprintln!(
                    "  {} interval(s) overlap meter readings: there the meter's own registers \
                     count, the supplier's data fills only what the meter did not measure",
                    report.overlapping
                );
            }
        }
    }
}
