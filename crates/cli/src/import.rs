//! `hearth import FILE...`: raw meter captures of any supported protocol (recognised from the
//! bytes) and JSON Lines written by `hearth decode`, into the vault. Readings already stored
//! are skipped, older ones are merged into place, so importing twice changes nothing.
//! Progress goes to stderr for long imports.
//!
//! Supplier downloads (UK half-hourly consumption CSV, `.csv`; Green Button XML, `.xml`) are
//! read as intervals and merged with every download imported before (kept sealed in the
//! vault as [`SUPPLIER_SETTING`]): duplicates and overlaps count once, in this run or any
//! later one. Only new intervals are stored, as import register readings placed around what
//! the vault already holds so that nothing stored changes: files imported in separate runs,
//! in any order, the same file twice or overlapping files all give exact sums. Intervals the
//! vault already has meter readings for are left out (they would count twice).

use crate::Global;
use crate::unlock::open_writer;
use anyhow::Context as _;
use hearth_meter::supplier::{self, IntervalSet, Stored};
use hearth_meter::{Decoder, Quantity, Reading, RejectReason};
use hearth_vault::{Resolution, Vault};
use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Options of `hearth import`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Capture files (raw bytes of any protocol), JSON Lines from `hearth decode`, or supplier
    /// half-hourly downloads (`.csv`, Green Button `.xml`; in any order, over any number of runs).
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Keys of a meter that encrypts its frames (remembered in the vault).
    #[command(flatten)]
    pub keys: crate::meter_keys::KeyArgs,
}

const BATCH: usize = 8192;

/// Where the merged intervals of every supplier download imported so far are kept (sealed),
/// so later imports know what is new and where its register must start.
pub const SUPPLIER_SETTING: &str = "supplier.intervals";

/// Runs the command.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let mut vault = open_writer(global)?;
    let keys = args.keys.for_vault(&mut vault)?;
    let started = Instant::now();
    let mut total = 0u64;
    let mut rejected = 0u64;
    let mut supplier_files = Vec::new();
    for path in &args.files {
        if supplier_kind(path).is_some() {
            supplier_files.push(path.as_path());
            continue;
        }
        let (n, bad) = import_file(&mut vault, path, started, keys)
            .with_context(|| format!("cannot import {}", path.display()))?;
        total += n;
        rejected += bad;
    }
    if !supplier_files.is_empty() {
        total += import_supplier(&mut vault, &supplier_files)?;
    }
    vault.flush()?;
    let stats = vault.stats();
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    eprintln!(
        "imported {total} readings in {secs:.1} s ({:.0}/s): {} stored, {} already present, \
         {} merged into earlier hours, {} without a time, {rejected} frames rejected",
        total as f64 / secs,
        stats.stored + stats.late,
        stats.duplicates,
        stats.late,
        stats.untimed
    );
    vault.close()?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SupplierKind {
    Csv,
    GreenButton,
}

/// Supplier downloads are told by their extension: `.csv`, or `.xml` (Green Button).
fn supplier_kind(path: &Path) -> Option<SupplierKind> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "csv" => Some(SupplierKind::Csv),
        "xml" => Some(SupplierKind::GreenButton),
        _ => None,
    }
}

/// Imports supplier downloads: merges their intervals with those of earlier imports (kept in
/// the vault), and stores register readings for the new ones only, placed by
/// [`supplier::plan_registers`] around what the vault already holds so nothing stored
/// changes. Returns the number of readings offered to the vault.
fn import_supplier(vault: &mut Vault, files: &[&Path]) -> anyhow::Result<u64> {
    let tz = vault.time_zone().clone();
    let known = match vault.get_setting(SUPPLIER_SETTING)? {
        Some(bytes) => IntervalSet::decode(&bytes)?,
        None => IntervalSet::new(),
    };
    let mut merged = known.clone();
    for path in files {
        let before = merged.diagnostics.len();
        let reader = BufReader::new(
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?,
        );
        let summary = match supplier_kind(path) {
            Some(SupplierKind::GreenButton) => {
                supplier::read_green_button(reader, supplier::Flow::Forward, &mut merged)
            }
            _ => supplier::read_csv(reader, &tz, &mut merged),
        }
        .with_context(|| format!("cannot import {}", path.display()))?;
        eprintln!(
            "{}: {} intervals read: {} new, {} already imported, {} disagreeing with earlier \
             ones (kept the earlier), {} unreadable",
            path.display(),
            summary.rows,
            summary.added,
            summary.duplicates,
            summary.conflicts,
            summary.skipped
        );
        for d in merged.diagnostics[before..].iter().take(5) {
            eprintln!("  line {}: {}", d.line, d.message);
        }
    }
    let new = merged.added_since(&known);
    let (Some(first), Some(last)) = (new.first(), new.last()) else {
        eprintln!(
            "{} supplier file(s): nothing new, 0.000000 kWh added",
            files.len()
        );
        return Ok(0);
    };
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
        return Err(e).context("cannot read the stored readings around the supplier data");
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
    vault.put_setting(SUPPLIER_SETTING, &stored.encode())?;
    let added_milli: i64 = plan.accepted.iter().map(|iv| iv.energy_milli_wh).sum();
    let mut kwh = String::new();
    let _ = hearth_meter::reading::write_fixed(&mut kwh, added_milli, 6);
    eprintln!(
        "{} supplier file(s): {} new intervals, {kwh} kWh added",
        files.len(),
        plan.accepted.len()
    );
    if !plan.covered.is_empty() {
        eprintln!(
            "  {} interval(s) left out: the vault already holds meter readings for that time",
            plan.covered.len()
        );
    }
    Ok(readings.len() as u64)
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
fn last_register_before(vault: &Vault, t: i64) -> anyhow::Result<Option<Stored>> {
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
fn first_register_after(vault: &Vault, t: i64) -> anyhow::Result<Option<Stored>> {
    for row in vault.readings(t.saturating_add(1), i64::MAX, Resolution::Raw)? {
        if let Some(s) = stored_register(&row?.reading) {
            return Ok(Some(s));
        }
    }
    Ok(None)
}

fn is_json_lines(path: &Path) -> anyhow::Result<bool> {
    let mut head = [0u8; 64];
    let n = std::fs::File::open(path)?.read(&mut head)?;
    Ok(head[..n]
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{'))
}

fn import_file(
    vault: &mut Vault,
    path: &Path,
    started: Instant,
    keys: Option<hearth_meter::auto::Keys>,
) -> anyhow::Result<(u64, u64)> {
    let mut batch: Vec<Reading> = Vec::with_capacity(BATCH);
    let mut n = 0u64;
    let mut next_report = 1_000_000u64;
    let mut progress = |n: u64| {
        if n >= next_report {
            let secs = started.elapsed().as_secs_f64().max(1e-9);
            eprintln!("  {} readings ({:.0}/s)", n, n as f64 / secs);
            next_report += 1_000_000;
        }
    };
    if is_json_lines(path)? {
        let file = BufReader::new(std::fs::File::open(path)?);
        let mut bad = 0u64;
        for (i, line) in file.lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            match Reading::from_json(&line) {
                Ok(r) => batch.push(r),
                Err(e) => {
                    bad += 1;
                    eprintln!("{}:{}: {e}", path.display(), i + 1);
                }
            }
            if batch.len() >= BATCH {
                vault.append(&batch)?;
                n += batch.len() as u64;
                batch.clear();
                progress(n);
            }
        }
        vault.append(&batch)?;
        n += batch.len() as u64;
        return Ok((n, bad));
    }
    let mut decoder = crate::meter_keys::auto_decoder(keys);
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let got = file.read(&mut buf)?;
        if got == 0 {
            break;
        }
        decoder.push(&buf[..got]);
        while let Some(item) = decoder.next() {
            if let Ok(decoded) = item {
                batch.push(decoded.reading);
                if batch.len() >= BATCH {
                    vault.append(&batch)?;
                    n += batch.len() as u64;
                    batch.clear();
                    progress(n);
                }
            }
        }
    }
    vault.append(&batch)?;
    n += batch.len() as u64;
    let stats = decoder.stats();
    for reason in RejectReason::ALL {
        let k = stats.rejected_for(reason);
        if k > 0 {
            eprintln!(
                "{}: {k} frames rejected ({})",
                path.display(),
                reason.name()
            );
        }
    }
    Ok((n, stats.rejected()))
}
