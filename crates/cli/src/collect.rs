//! `hearth collect --source ...`: reads a meter continuously and stores every reading in the
//! vault, checkpointing at least every 10 seconds, so stopping it any way (Ctrl-C, a kill, a
//! power cut) loses at most those seconds of shape and never the register totals.
//!
//! Readings without a meter time (SML, some DLMS lists) get the time they were received.
//!
//! Status lines go to stderr as they happen (connected, disconnected, retrying, each
//! rejected frame or payload); on stopping, a summary of what was stored and rejected (by
//! reason), and for a pulse sensor the pulses counted and the register reached.

use crate::Global;
use crate::unlock::open_writer;
use anyhow::{Context as _, bail};
use hearth_meter::auto::AutoDecoder;
use hearth_meter::{Decoder, MeterTime, Quantity, Reading, RejectReason, Stats};
use hearth_meter_io::simulator::Simulator;
use hearth_meter_io::{Event, Pace, Reader, ReaderOptions, Source, Status};
use hearth_vault::Vault;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Options of `hearth collect`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where the meter's bytes come from: `serial:/dev/ttyUSB0[:BAUD[:8N1]]`,
    /// `serial:/dev/ttyUSB0?protocol=iec62056-21[&mode=a|c|d][&interval=S]` (optical eye),
    /// `tcp:HOST:PORT`, `file:PATH[?pace=recorded]`, `mqtt://[USER@]HOST[:PORT]/TOPIC[?preset=glow|tasmota|esphome]`,
    /// `pulse:/dev/ttyUSB0[?imp_per_kwh=1000]`, or `demo[:SEED][?pace=fast][&count=N]`.
    /// An MQTT password is read from the vault setting `mqtt/password`.
    #[arg(long, value_name = "SOURCE")]
    pub source: String,
    /// Keys of a meter that encrypts its frames (remembered in the vault).
    #[command(flatten)]
    pub keys: crate::meter_keys::KeyArgs,
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
    let keys = args.keys.for_vault(&mut vault)?;
    eprintln!(
        "collecting from {} into {} (checkpoint every {} s; stop with Ctrl-C)",
        source.describe(),
        vault.path().display(),
        hearth_vault::FLUSH_INTERVAL.as_secs()
    );
    // One runtime for the sources and for noticing Ctrl-C / SIGTERM: a stop request ends
    // every kind of collection through a checkpoint, never mid-write.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("cannot start the reader")?;
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        runtime.spawn(async move {
            stop_requested().await;
            stop.store(true, Ordering::SeqCst);
        });
    }
    let frames = match source {
        Source::Demo {
            seed,
            pace,
            start,
            count,
        } => collect_demo(&mut vault, seed, pace, start, count, &stop)?,
        Source::File {
            path,
            pace: Pace::Fast,
        } => {
            let mut file = std::fs::File::open(&path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            collect_stream(&mut vault, &mut file, &stop, keys)?
        }
        live => collect_live(&mut vault, live, &runtime, keys)?,
    };
    if stop.load(Ordering::SeqCst) {
        eprintln!("stopping: saved what was collected");
    }
    // Late readings are merged at the checkpoint: count them after it.
    vault.flush()?;
    let stats = vault.stats();
    vault.close()?;
    eprintln!(
        "stopped: {} readings stored, {} duplicates, {} late (merged into place), {} dated in \
         the future (refused)",
        stats.stored + stats.late,
        stats.duplicates,
        stats.late,
        stats.future
    );
    if let Some(line) = rejections(&frames) {
        eprintln!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

/// `3 rejected (payload 2, checksum 1)`, or `None` when nothing was rejected.
fn rejections(stats: &Stats) -> Option<String> {
    let total = stats.rejected();
    if total == 0 {
        return None;
    }
    let reasons: Vec<String> = RejectReason::ALL
        .iter()
        .filter_map(|&r| {
            let n = stats.rejected_for(r);
            (n > 0).then(|| format!("{} {n}", r.name()))
        })
        .collect();
    Some(format!("{total} rejected ({})", reasons.join(", ")))
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
    stop: &AtomicBool,
) -> anyhow::Result<Stats> {
    // Continue after what the vault already has, so a restarted demo never repeats itself.
    let start = start
        .unwrap_or_else(now_unix)
        .max(vault.last_time().map_or(i64::MIN, |t| t + 1));
    let mut sim = Simulator::new(seed, start);
    let mut decoder = AutoDecoder::new();
    let mut batch = Vec::new();
    let mut sent = 0u64;
    let began = Instant::now();
    while count.is_none_or(|c| sent < c) && !stop.load(Ordering::SeqCst) {
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
    store(vault, &mut batch, pace == Pace::Real)?;
    Ok(decoder.stats().clone())
}

fn collect_stream(
    vault: &mut Vault,
    input: &mut impl std::io::Read,
    stop: &AtomicBool,
    keys: Option<hearth_meter::auto::Keys>,
) -> anyhow::Result<Stats> {
    let mut decoder = crate::meter_keys::auto_decoder(keys);
    let mut buf = vec![0u8; 64 * 1024];
    let mut batch = Vec::new();
    while !stop.load(Ordering::SeqCst) {
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
    Ok(decoder.stats().clone())
}

/// Serial ports, LAN bridges, MQTT brokers and pulse sensors: runs the source's [`Reader`]
/// (reconnecting with backoff on its own) and stores readings as they come, until the source
/// fails for good or the process is stopped. A pulse sensor's register is stored once more
/// on stopping, so pulses counted since its last once-a-second reading are kept.
fn collect_live(
    vault: &mut Vault,
    source: Source,
    runtime: &tokio::runtime::Runtime,
    keys: Option<hearth_meter::auto::Keys>,
) -> anyhow::Result<Stats> {
    let tz = vault.time_zone().clone();
    let clock = move || MeterTime::in_zone(now_unix(), &tz);
    let options = ReaderOptions::default();
    // A capture replayed at its recorded pace is not happening now: its times are the meter's.
    let live = !matches!(source, Source::File { .. });
    let mut reader = match source {
        Source::Pulse(p) => {
            // Continue the register where the vault left it, so a restart books no drop.
            let start_wh = last_register(vault, Quantity::ImportWh)?.unwrap_or(0);
            // Where counting starts is a reading too, so the first pulses count as use.
            store_pulse_register(vault, start_wh)?;
            Reader::pulse(p, start_wh, options)?
        }
        Source::Mqtt(m) => {
            let password = vault
                .get_setting("mqtt/password")?
                .map(|p| String::from_utf8_lossy(&p).into_owned());
            Reader::for_source(Source::Mqtt(m), options).with_password(password)
        }
        other => Reader::with_options(other, crate::meter_keys::auto_decoder(keys), options),
    }
    .with_clock(clock);
    let mut batch = Vec::with_capacity(1);
    runtime.block_on(async {
        let mut stop = std::pin::pin!(stop_requested());
        loop {
            let event = tokio::select! {
                event = reader.next() => event,
                () = &mut stop => break,
            };
            let Some(event) = event else { break };
            match event {
                Event::Decoded(d) => {
                    batch.push(d.reading);
                    store(vault, &mut batch, live)?;
                }
                Event::Rejected(r) => eprintln!("rejected: {r}"),
                Event::Status(status @ Status::Failed { .. }) => bail!("{status}"),
                Event::Status(Status::Finished) => break,
                Event::Status(status) => eprintln!("{status}"),
            }
        }
        Ok(())
    })?;
    if let (Some(wh), Some(pulses)) = (reader.pulse_register_wh(), reader.pulse_stats()) {
        store_pulse_register(vault, wh)?;
        let mut kwh = String::new();
        let _ = hearth_meter::reading::write_fixed(&mut kwh, wh, 3);
        eprintln!(
            "pulse sensor: {} pulses counted, {} ignored as bounce, {} sensor restarts, \
             {} implausible counts; register {kwh} kWh",
            pulses.accepted, pulses.debounced, pulses.resets, pulses.implausible
        );
    }
    Ok(reader.stats().clone())
}

/// Stores a pulse sensor's register (on starting and on stopping) unless the last stored
/// reading already has it: at the current time, or one second after the last stored reading
/// when that is the same second (a reading at an already stored time would be ignored).
fn store_pulse_register(vault: &mut Vault, wh: i64) -> anyhow::Result<()> {
    vault.flush()?;
    if last_register(vault, Quantity::ImportWh)? == Some(wh) {
        return Ok(());
    }
    let now = now_unix();
    let at = vault.last_time().map_or(now, |last| now.max(last + 1));
    let mut r = Reading::new(hearth_meter::Protocol::Pulse);
    r.time = Some(MeterTime::in_zone(at, vault.time_zone()));
    r.set(Quantity::ImportWh, wh);
    vault.set_clock(now)?;
    vault.append(std::slice::from_ref(&r))?;
    Ok(())
}

/// Resolves when the user asks the collector to stop (Ctrl-C, or SIGTERM from a service
/// manager), so the last seconds are checkpointed before exit.
async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The newest stored value of a register (a meter total), if any.
fn last_register(vault: &Vault, q: Quantity) -> anyhow::Result<Option<i64>> {
    let Some(last) = vault.last_time() else {
        return Ok(None);
    };
    let mut newest = None;
    for row in vault.readings(last - 3600, last + 1, hearth_vault::Resolution::Raw)? {
        if let Some(v) = row?.reading.get(q) {
            newest = Some(v);
        }
    }
    Ok(newest)
}
