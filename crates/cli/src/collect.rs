//! `hearth collect --source ...`: reads a meter continuously and stores every reading in the
//! vault, checkpointing at least every 10 seconds, so stopping it any way (Ctrl-C, a kill, a
//! power cut) loses at most those seconds of shape and never the register totals.
//!
//! Readings without a meter time (SML, some DLMS lists) get the time they were received.

use crate::Global;
use crate::init::open_writer;
use anyhow::{Context as _, bail};
use hearth_meter::auto::AutoDecoder;
use hearth_meter::{Decoder, MeterTime, Reading};
use hearth_meter_io::simulator::Simulator;
use hearth_meter_io::{Pace, Source};
use hearth_vault::Vault;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Options of `hearth collect`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where the meter's bytes come from: `serial:/dev/ttyUSB0[:BAUD[:8N1]]`,
    /// `tcp:HOST:PORT`, `file:PATH`, or `demo[:SEED][?pace=fast][&count=N]`.
    #[arg(long, value_name = "SOURCE")]
    pub source: String,
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Runs the command.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let source: Source = args.source.parse()?;
    let mut vault = open_writer(global)?;
    eprintln!(
        "collecting from {} into {} (checkpoint every {} s; stop with Ctrl-C)",
        source.describe(),
        vault.path().display(),
        hearth_vault::FLUSH_INTERVAL.as_secs()
    );
    match source {
        Source::Demo {
            seed,
            pace,
            start,
            count,
        } => collect_demo(&mut vault, seed, pace, start, count)?,
        Source::File { path, .. } => {
            let mut file = std::fs::File::open(&path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            collect_stream(&mut vault, &mut file)?;
        }
        other => bail!(
            "collecting from {} is not wired into this build yet (demo and file: work)",
            other.describe()
        ),
    }
    let stats = vault.stats();
    vault.close()?;
    eprintln!(
        "stopped: {} readings stored, {} duplicates, {} late, {} dated in the future (refused)",
        stats.stored, stats.duplicates, stats.late, stats.future
    );
    Ok(ExitCode::SUCCESS)
}

/// Stores a batch. `live`: the readings are happening now, so readings dated far in the
/// future (a meter clock gone wrong) are refused; a fast replay or demo runs ahead of the
/// wall clock legitimately.
fn store(vault: &mut Vault, batch: &mut Vec<Reading>, live: bool) -> anyhow::Result<()> {
    let received = now_unix();
    let tz = vault.time_zone().clone();
    for r in batch.iter_mut() {
        r.time
            .get_or_insert_with(|| MeterTime::in_zone(received, &tz));
    }
    if live {
        vault.set_clock(received)?;
    }
    vault.append(batch)?;
    batch.clear();
    vault.flush_due(Instant::now())?;
    Ok(())
}

fn collect_demo(
    vault: &mut Vault,
    seed: u64,
    pace: Pace,
    start: Option<i64>,
    count: Option<u64>,
) -> anyhow::Result<()> {
    // Continue after what the vault already has, so a restarted demo never repeats itself.
    let start = start
        .unwrap_or_else(now_unix)
        .max(vault.last_time().map_or(i64::MIN, |t| t + 1));
    let mut sim = Simulator::new(seed, start);
    let mut decoder = AutoDecoder::new();
    let mut batch = Vec::new();
    let mut sent = 0u64;
    let began = Instant::now();
    while count.is_none_or(|c| sent < c) {
        decoder.push(&sim.next_telegram());
        sent += 1;
        while let Some(item) = decoder.next() {
            match item {
                Ok(d) => batch.push(d.reading),
                Err(e) => eprintln!("rejected: {e}"),
            }
        }
        if pace == Pace::Real {
            store(vault, &mut batch, true)?;
            let due = began + Duration::from_secs(sent);
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
        } else if batch.len() >= 1000 {
            store(vault, &mut batch, false)?;
        }
    }
    store(vault, &mut batch, pace == Pace::Real)
}

fn collect_stream(vault: &mut Vault, input: &mut impl std::io::Read) -> anyhow::Result<()> {
    let mut decoder = AutoDecoder::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut batch = Vec::new();
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        decoder.push(&buf[..n]);
        while let Some(item) = decoder.next() {
            match item {
                Ok(d) => batch.push(d.reading),
                Err(e) => eprintln!("rejected: {e}"),
            }
        }
        store(vault, &mut batch, false)?;
    }
    Ok(())
}
