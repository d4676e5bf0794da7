//! Crash test (harness-less, so the same executable is both the killer and the victim):
//! a child process ingests simulated one-second readings as fast as it can, checkpointing
//! every 100 ms, and the parent kills it with SIGKILL at varying moments, five times. After
//! every kill the vault must open, verify clean, hold everything the child reported as
//! flushed, hold exactly the simulator's readings with no hole (each new child resumes where
//! the vault ends), and its minute rollups must add up to the exact register difference.

use hearth_meter::Quantity;
use hearth_meter_io::simulator::Simulator;
use hearth_vault::{CreateOptions, KdfParams, Resolution, Vault};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const T0: i64 = 1_767_225_600;
const SEED: u64 = 5;
const PW: &str = "crash test";
const CHILD_ENV: &str = "HEARTH_VAULT_CRASH_CHILD";

fn main() -> ExitCode {
    match std::env::var(CHILD_ENV) {
        Ok(path) => child(Path::new(&path)),
        Err(_) => parent(),
    }
}

/// The victim: resume, then append and checkpoint until killed.
fn child(path: &Path) -> ExitCode {
    let mut v = match Vault::open(path, PW) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("child: {e}");
            return ExitCode::FAILURE;
        }
    };
    let _ = v.set_flush_interval(Duration::from_millis(100));
    let resume_after = v.last_time().unwrap_or(i64::MIN);
    let mut sim = Simulator::new(SEED, T0);
    while sim.next_unix() <= resume_after {
        sim.step();
    }
    println!("ready");
    loop {
        let batch: Vec<_> = (0..200)
            .map(|_| {
                sim.step();
                sim.reading()
            })
            .collect();
        let last = sim.next_unix() - 1;
        if let Err(e) = v.append(&batch) {
            eprintln!("child: {e}");
            return ExitCode::FAILURE;
        }
        match v.flush_due(Instant::now()) {
            Ok(true) => println!("flushed {last}"),
            Ok(false) => {}
            Err(e) => {
                eprintln!("child: {e}");
                return ExitCode::FAILURE;
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn parent() -> ExitCode {
    match run_parent() {
        Ok(()) => {
            println!("crash test: ok");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("crash test FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_parent() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("crash.hearth");
    let options = CreateOptions {
        kdf: KdfParams::INSECURE_FOR_TESTS,
        time_zone: Some("Europe/Amsterdam".into()),
    };
    Vault::create(&path, PW, &options)
        .and_then(Vault::close)
        .map_err(|e| e.to_string())?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    for (round, run_ms) in [450u64, 700, 300, 900, 550].into_iter().enumerate() {
        let mut child = Command::new(&exe)
            .env(CHILD_ENV, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| e.to_string())?;
        let stdout = child.stdout.take().ok_or("no child stdout")?;
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Wait until the child has resumed, then let it run.
        let ready = rx
            .recv_timeout(Duration::from_secs(60))
            .map_err(|_| format!("round {round}: child never became ready"))?;
        if ready != "ready" {
            return Err(format!("round {round}: child said {ready:?}"));
        }
        std::thread::sleep(Duration::from_millis(run_ms));
        child.kill().map_err(|e| e.to_string())?; // SIGKILL on Unix
        let status = child.wait().map_err(|e| e.to_string())?;
        if status.success() {
            return Err(format!("round {round}: child exited on its own"));
        }
        let _ = reader.join();
        let flushed = rx
            .try_iter()
            .filter_map(|l| l.strip_prefix("flushed ")?.parse::<i64>().ok())
            .max();
        check(&path, round, flushed)?;
    }
    Ok(())
}

fn check(path: &Path, round: usize, flushed: Option<i64>) -> Result<(), String> {
    let v = Vault::open(path, PW).map_err(|e| format!("round {round}: reopen: {e}"))?;
    let report = v.verify().map_err(|e| e.to_string())?;
    if !report.damaged.is_empty() {
        return Err(format!(
            "round {round}: damaged after kill: {:?}",
            report.damaged
        ));
    }
    let last = v
        .last_time()
        .ok_or(format!("round {round}: vault is empty"))?;
    if let Some(f) = flushed
        && last < f
    {
        return Err(format!(
            "round {round}: flushed up to {f} but vault ends at {last}"
        ));
    }
    // Every stored reading is exactly the simulator's, with no hole.
    let mut sim = Simulator::new(SEED, T0);
    let mut n = 0i64;
    for row in v
        .readings(T0, last + 1, Resolution::Raw)
        .map_err(|e| e.to_string())?
    {
        let row = row.map_err(|e| e.to_string())?;
        sim.step();
        if row.reading != sim.reading() {
            return Err(format!(
                "round {round}: reading {n} differs from the simulator"
            ));
        }
        n += 1;
    }
    if n != last - T0 + 1 {
        return Err(format!(
            "round {round}: {n} readings for {} seconds",
            last - T0 + 1
        ));
    }
    // Register totals are exact: the minute rollups add up to the register difference.
    let mut sim = Simulator::new(SEED, T0);
    sim.step();
    let first = sim.reading();
    let mut first_total = 0;
    let mut last_total = 0;
    for row in v
        .readings(T0, last + 1, Resolution::Raw)
        .map_err(|e| e.to_string())?
        .flatten()
    {
        let wh = row.reading.get(Quantity::ImportWh).unwrap_or(0);
        if row.start() == T0 {
            first_total = wh;
        }
        last_total = wh;
    }
    if first.get(Quantity::ImportWh) != Some(first_total) {
        return Err(format!("round {round}: first register differs"));
    }
    let minutes: i64 = v
        .readings(T0 - 86_400, last + 86_400, Resolution::Minute)
        .map_err(|e| e.to_string())?
        .flatten()
        .filter_map(|r| r.reading.get(Quantity::ImportWh))
        .sum();
    if minutes != last_total - first_total {
        return Err(format!(
            "round {round}: minutes sum to {minutes} Wh, registers say {}",
            last_total - first_total
        ));
    }
    eprintln!("round {round}: {n} readings intact, {minutes} Wh in minute rollups");
    Ok(())
}
