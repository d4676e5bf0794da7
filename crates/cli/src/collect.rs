//! `hearth collect --source ...`: reads a meter continuously and stores every reading in the
//! vault, checkpointing at least every 10 seconds, so stopping it any way (Ctrl-C, a kill, a
//! power cut) loses at most those seconds of shape and never the register totals.
//!
//! Readings without a meter time (SML, some DLMS lists) get the time they were received.
//!
//! `--write-only`: no passphrase, no keyring, no terminal. Readings are sealed to the vault's
//! write-only key ([`hearth_vault::write_only`]): this process can store them but never read
//! them back; the next unlocked Hearth takes them in. Meter keys come from `--key` only (the
//! ones remembered in the vault are sealed), an MQTT broker's password from
//! `--mqtt-password-file` only, and a pulse sensor (which continues from the register the
//! vault holds) is refused.
//!
//! `--write-only --folder DIR`: a collector box with no vault file at all. Readings are sealed
//! the same way into increment files in DIR, a folder a file sync carries to the computer that
//! holds the vault, where `hearth merge DIR` takes them in ([`hearth_app::sync`]). The box
//! needs only the folder's card (the vault's public write-only key, written there by the first
//! `hearth merge`); it pins the card the first time and refuses a changed one unless
//! `--accept-new-card`.
//!
//! `--mqtt-password-file FILE` (first line): the broker's password from a file rather than the
//! vault's sealed setting (which a write-only collector cannot read). A file rather than an
//! environment variable: a variable is inherited by every child and readable in
//! `/proc/PID/environ`, while a file can be the owner's alone (or a systemd credential).
//!
//! Status lines go to stderr as they happen (connected, disconnected, retrying, each
//! rejected frame or payload); on stopping, a summary of what was stored and rejected (by
//! reason), and for a pulse sensor the pulses counted and the register reached.

use crate::Global;
use crate::unlock::open_writer;
use anyhow::{Context as _, bail};
use hearth_app::Clock as _;
use hearth_app::collect::{self, End, Keeper, SourceSetup, Watcher};
use hearth_meter::auto::AutoDecoder;
use hearth_meter::{Decoder, Reading, RejectReason, Rejection, Stats};
use hearth_meter_io::simulator::Simulator;
use hearth_meter_io::{Pace, ReaderOptions, Source, Status};
use hearth_vault::{Vault, VaultError, WriteOnly};
use jiff::tz::TimeZone;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Options of `hearth collect`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where the meter's bytes come from: `serial:/dev/ttyUSB0[:BAUD[:8N1]]`,
    /// `serial:/dev/ttyUSB0?protocol=iec62056-21[&mode=a|c|d][&interval=S]` (optical eye),
    /// `tcp:HOST:PORT`, `homewizard:HOST` (a HomeWizard Wi-Fi P1 meter), `file:PATH[?pace=recorded]`, `mqtt://[USER@]HOST[:PORT]/TOPIC[?preset=glow|tasmota|esphome]`,
    /// `pulse:/dev/ttyUSB0[?imp_per_kwh=1000]`, or `demo[:SEED][?pace=fast][&count=N]`.
    /// An MQTT password is read from the vault setting `mqtt/password`, or from
    /// --mqtt-password-file.
    #[arg(long, value_name = "SOURCE")]
    pub source: String,
    /// Keys of a meter that encrypts its frames (remembered in the vault).
    #[command(flatten)]
    pub keys: crate::meter_keys::KeyArgs,
    /// Store without the passphrase or the keyring: readings are sealed so that only the
    /// unlocked vault reads them (taken in the next time Hearth unlocks it). Meter keys come
    /// from `--key` only; a pulse sensor needs the unlocked vault.
    #[arg(long)]
    pub write_only: bool,
    /// With --write-only: no vault here; readings go as sealed increment files into this
    /// folder (synced to the computer that holds the vault, which takes them in with `hearth
    /// merge DIR`). The folder must hold the vault's card, written by `hearth merge`.
    #[arg(long, value_name = "DIR", requires = "write_only")]
    pub folder: Option<PathBuf>,
    /// With --folder: accept a changed card in the folder (after checking its key against
    /// what `hearth merge` shows on the vault's computer).
    #[arg(long, requires = "folder")]
    pub accept_new_card: bool,
    /// Read the MQTT broker's password from this file (first line), instead of the vault's
    /// setting `mqtt/password` (which a write-only collector cannot read).
    #[arg(long, value_name = "FILE")]
    pub mqtt_password_file: Option<PathBuf>,
}

/// Where `collect` stores: the unlocked vault, or its inbox without any key.
enum Target {
    Unlocked(Box<Vault>),
    WriteOnly(Box<WriteOnly>),
}

impl Keeper for Target {
    fn keep(
        &mut self,
        readings: &mut [Reading],
        received_unix: i64,
        live: bool,
    ) -> Result<(), VaultError> {
        match self {
            Target::Unlocked(v) => v.keep(readings, received_unix, live),
            Target::WriteOnly(w) => w.keep(readings, received_unix, live),
        }
    }

    fn keep_pulse_register(&mut self, wh: i64, now_unix: i64) -> Result<(), VaultError> {
        match self {
            Target::Unlocked(v) => v.keep_pulse_register(wh, now_unix),
            Target::WriteOnly(w) => w.keep_pulse_register(wh, now_unix),
        }
    }
}

impl Target {
    fn path(&self) -> &std::path::Path {
        match self {
            Target::Unlocked(v) => v.path(),
            Target::WriteOnly(w) => w.path(),
        }
    }

    fn time_zone(&self) -> TimeZone {
        match self {
            Target::Unlocked(v) => v.time_zone().clone(),
            // The vault's own zone is sealed: the system's.
            Target::WriteOnly(_) => collect::write_only_time_zone(),
        }
    }
}

/// A collector box's handle: the folder's card checked against this box's pin (trust on
/// first use), increment files written into the folder.
fn box_collector(folder: &std::path::Path, accept_new_card: bool) -> anyhow::Result<WriteOnly> {
    let pins = hearth_app::sync::default_pins()
        .context("cannot find your data directory to remember the folder's card in")?;
    let (w, pinned) = hearth_app::sync::collector(folder, &pins, accept_new_card)?;
    match pinned {
        hearth_vault::Pinned::First(card) => eprintln!(
            "this box now trusts the collector card in {} (key {}); `hearth merge` on the \
             vault's computer shows the same key",
            folder.display(),
            card.fingerprint()
        ),
        hearth_vault::Pinned::Accepted(card) => eprintln!(
            "accepted the new collector card in {} (key {})",
            folder.display(),
            card.fingerprint()
        ),
        hearth_vault::Pinned::Same(_) => {}
    }
    Ok(w)
}

/// The first line of the MQTT password file.
fn mqtt_password(file: &std::path::Path) -> anyhow::Result<String> {
    let text = zeroize::Zeroizing::new(
        hearth_app::bounded_read::read_text(file, hearth_app::bounded_read::Cap::PASSPHRASE_FILE)
            .with_context(|| format!("cannot read the MQTT password file {}", file.display()))?,
    );
    Ok(text.lines().next().unwrap_or("").to_string())
}

/// The wall clock (the CLI is an edge: it reads the system clock here only).
fn now_unix() -> i64 {
    hearth_app::SystemClock.now_unix()
}

/// Runs the command.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let source: Source = args.source.parse()?;
    let (mut target, keys) = if args.write_only {
        if matches!(source, Source::Pulse(_)) {
            bail!(
                "a pulse sensor cannot be collected write-only: it continues from the register \
                 the vault holds, which only the unlocked vault reads; collect without \
                 --write-only"
            );
        }
        let w = match &args.folder {
            Some(folder) => box_collector(folder, args.accept_new_card)?,
            None => {
                let path = crate::unlock::vault_path(global)?;
                Vault::open_write_only(&path).with_context(|| {
                    format!("cannot open the vault {} write-only", path.display())
                })?
            }
        };
        (Target::WriteOnly(Box::new(w)), args.keys.keys()?)
    } else {
        let mut vault = open_writer(global)?;
        let keys = args.keys.for_vault(&mut vault)?;
        (Target::Unlocked(Box::new(vault)), keys)
    };
    eprintln!(
        "collecting from {} into {}{} (checkpoint every {} s; stop with Ctrl-C)",
        source.describe(),
        target.path().display(),
        if args.write_only {
            " write-only: sealed for the unlocked vault, unreadable here"
        } else {
            ""
        },
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
        } => {
            // Continue after what the vault already has, so a restarted demo never repeats
            // itself (a write-only collector cannot know: it starts where it is told).
            let after = match &target {
                Target::Unlocked(v) => v.last_time().map_or(i64::MIN, |t| t + 1),
                Target::WriteOnly(_) => i64::MIN,
            };
            let start = start.unwrap_or_else(now_unix).max(after);
            collect_demo(&mut target, seed, pace, start, count, &stop)?
        }
        Source::File {
            path,
            pace: Pace::Fast,
        } => {
            let mut file = std::fs::File::open(&path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            collect_stream(&mut target, &mut file, &stop, keys)?
        }
        live => {
            let password = args
                .mqtt_password_file
                .as_deref()
                .map(mqtt_password)
                .transpose()?;
            collect_live(&mut target, live, &runtime, keys, password)?
        }
    };
    if stop.load(Ordering::SeqCst) {
        eprintln!("stopping: saved what was collected");
    }
    match target {
        Target::Unlocked(mut vault) => {
            // Late readings are merged at the checkpoint: count them after it.
            vault.flush()?;
            let stats = vault.stats();
            (*vault).close()?;
            eprintln!(
                "stopped: {} readings stored, {} duplicates, {} late (merged into place), {} \
                 dated in the future (refused)",
                stats.stored + stats.late,
                stats.duplicates,
                stats.late,
                stats.future
            );
        }
        Target::WriteOnly(mut w) => {
            w.flush()?;
            let stats = w.stats();
            (*w).close()?;
            let taken = match &args.folder {
                Some(dir) => format!("`hearth merge {}` takes them in", dir.display()),
                None => "the next unlock takes them in".into(),
            };
            eprintln!(
                "stopped: {} readings sealed for the vault in {} blocks ({taken}), {} dated in \
                 the future (refused)",
                stats.stored, stats.blocks, stats.future
            );
        }
    }
    if let Some(line) = rejections(&frames) {
        eprintln!("{line}");
    }
    if frames.implausible > 0 {
        eprintln!(
            "{} implausible field(s) dropped from readings",
            frames.implausible
        );
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

/// Stores a batch received now (see [`collect::store`]). `live`: the readings are happening
/// now, so readings dated far in the future (a meter clock gone wrong) are refused; a fast
/// replay or demo runs ahead of the wall clock legitimately.
fn store(target: &mut Target, batch: &mut Vec<Reading>, live: bool) -> anyhow::Result<()> {
    target.keep(batch, now_unix(), live)?;
    batch.clear();
    Ok(())
}

fn collect_demo(
    vault: &mut Target,
    seed: u64,
    pace: Pace,
    start: i64,
    count: Option<u64>,
    stop: &AtomicBool,
) -> anyhow::Result<Stats> {
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
    vault: &mut Target,
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

/// Serial ports, LAN bridges, MQTT brokers and pulse sensors: runs the source's reader
/// (reconnecting with backoff on its own) through [`collect::run`], storing readings as they
/// come, until the source fails for good or the process is stopped. A pulse sensor's register
/// is stored when counting starts and once more on stopping, so pulses counted since its last
/// once-a-second reading are kept.
fn collect_live(
    vault: &mut Target,
    source: Source,
    runtime: &tokio::runtime::Runtime,
    keys: Option<hearth_meter::auto::Keys>,
    mqtt_password: Option<String>,
) -> anyhow::Result<Stats> {
    // A capture replayed at its recorded pace is not happening now: its times are the meter's.
    let live = collect::is_live(&source);
    let mut setup = match vault {
        Target::Unlocked(v) => SourceSetup::from_vault(v, keys)?,
        // What the vault remembers is sealed: the keys and the password given now.
        Target::WriteOnly(_) => SourceSetup {
            keys,
            ..SourceSetup::default()
        },
    };
    if mqtt_password.is_some() {
        setup.mqtt_password = mqtt_password;
    }
    let mut reader = collect::reader(
        source,
        setup,
        vault.time_zone(),
        hearth_app::clock::system(),
        ReaderOptions::default(),
    )?;
    let end = runtime.block_on(collect::run(
        &mut reader,
        vault,
        &mut StatusLines,
        live,
        &hearth_app::SystemClock,
        stop_requested(),
    ))?;
    if let (Some(wh), Some(pulses)) = (reader.pulse_register_wh(), reader.pulse_stats()) {
        let mut kwh = String::new();
        let _ = hearth_meter::reading::write_fixed(&mut kwh, wh, 3);
        eprintln!(
            "pulse sensor: {} pulses counted, {} ignored as bounce, {} sensor restarts, \
             {} implausible counts; register {kwh} kWh",
            pulses.accepted, pulses.debounced, pulses.resets, pulses.implausible
        );
    }
    if let End::Failed(reason) = end {
        bail!("{}", Status::Failed { reason });
    }
    Ok(reader.stats().clone())
}

/// What the user sees while collecting: each rejected frame and each change of the
/// connection, on stderr.
struct StatusLines;

impl Watcher for StatusLines {
    fn rejected(&mut self, rejection: &Rejection) {
        eprintln!("rejected: {rejection}");
    }

    fn status(&mut self, status: &Status) {
        // A failure ends the command with it as the error.
        if !matches!(status, Status::Failed { .. } | Status::Finished) {
            eprintln!("{status}");
        }
    }
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
