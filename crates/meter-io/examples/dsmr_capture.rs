//! Writes a capture file of simulated DSMR 5.0.2 telegrams, one per second, as a meter's P1
//! port would send them: the input of the whole-process import benchmark in
//! docs/PERFORMANCE.md ("Import, whole process").
//!
//! `cargo run --release -p hearth-meter-io --example dsmr_capture -- OUT [SECONDS] [SEED] [START]`
//! (defaults: 86400 s = one day, seed 42, start 2026-01-15T00:00:00Z). Deterministic: the same
//! arguments always give the same bytes.

use hearth_meter_io::simulator::Simulator;
use std::io::{BufWriter, Write as _};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first() else {
        eprintln!("usage: dsmr_capture OUT [SECONDS] [SEED] [START_UNIX]");
        std::process::exit(2);
    };
    let arg = |i: usize, default: i64| args.get(i).map_or(Ok(default), |s| s.parse::<i64>());
    let (Ok(seconds), Ok(seed), Ok(start)) = (arg(1, 86_400), arg(2, 42), arg(3, 1_768_435_200))
    else {
        eprintln!("SECONDS, SEED and START_UNIX are whole numbers");
        std::process::exit(2);
    };
    let mut sim = Simulator::new(seed as u64, start);
    let mut file = BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    let mut telegram = Vec::with_capacity(1024);
    for _ in 0..seconds {
        telegram.clear();
        sim.next_telegram_into(&mut telegram);
        file.write_all(&telegram)?;
    }
    file.flush()
}
