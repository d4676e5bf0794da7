//! `hearth import FILE...`: raw meter captures of any supported protocol (recognised from the
//! bytes) and JSON Lines written by `hearth decode`, into the vault. Readings already stored
//! are skipped, older ones are merged into place, so importing twice changes nothing.
//! Progress goes to stderr for long imports.
//!
//! Supplier downloads (UK half-hourly consumption CSV, `.csv`; Green Button XML, `.xml`) are
//! read as intervals, merged across all files given (duplicates and overlaps once), and stored
//! as a running import register, so importing the same files again changes nothing.

use crate::Global;
use crate::unlock::open_writer;
use anyhow::Context as _;
use hearth_meter::supplier::{self, IntervalSet};
use hearth_meter::{Decoder, Quantity, Reading, RejectReason};
use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Options of `hearth import`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Capture files (raw bytes of any protocol) or JSON Lines from `hearth decode`.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Keys of a meter that encrypts its frames (remembered in the vault).
    #[command(flatten)]
    pub keys: crate::meter_keys::KeyArgs,
}

const BATCH: usize = 8192;

/// Runs the command.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let mut vault = open_writer(global)?;
    let keys = args.keys.for_vault(&mut vault)?;
    let started = Instant::now();
    let mut total = 0u64;
    let mut rejected = 0u64;
    let tz = vault.time_zone().clone();
    let mut intervals = IntervalSet::new();
    let mut supplier_files = 0;
    for path in &args.files {
        if read_supplier_file(path, &tz, &mut intervals)
            .with_context(|| format!("cannot import {}", path.display()))?
        {
            supplier_files += 1;
            continue;
        }
        let (n, bad) = import_file(&mut vault, path, started, keys)
            .with_context(|| format!("cannot import {}", path.display()))?;
        total += n;
        rejected += bad;
    }
    if supplier_files > 0 {
        for d in intervals.diagnostics.iter().take(5) {
            eprintln!("hearth: {d:?}");
        }
        let readings = intervals.readings(Quantity::ImportWh, 0, &tz);
        vault.append(&readings)?;
        total += readings.len() as u64;
        let mut kwh = String::new();
        let _ = hearth_meter::reading::write_fixed(&mut kwh, intervals.total_milli_wh(), 6);
        eprintln!(
            "{supplier_files} supplier file(s): {} intervals, {kwh} kWh",
            intervals.len()
        );
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

/// Reads a supplier download into `intervals` if `path` is one (`.csv`, or `.xml` Green
/// Button); `false` for anything else (a meter capture or JSON Lines).
fn read_supplier_file(
    path: &Path,
    tz: &jiff::tz::TimeZone,
    intervals: &mut IntervalSet,
) -> anyhow::Result<bool> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let reader = || -> anyhow::Result<_> { Ok(BufReader::new(std::fs::File::open(path)?)) };
    match ext.as_deref() {
        Some("csv") => {
            supplier::read_csv(reader()?, tz, intervals)?;
            Ok(true)
        }
        Some("xml") => {
            supplier::read_green_button(reader()?, supplier::Flow::Forward, intervals)?;
            Ok(true)
        }
        _ => Ok(false),
    }
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
    vault: &mut hearth_vault::Vault,
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
