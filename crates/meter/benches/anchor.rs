//! Anchor: the published `dsmr5` crate (0.4) against our DSMR reader on the same inputs, in the
//! same run, so docs/PERFORMANCE.md can put the figures side by side. Both do frame + CRC +
//! parse into a typed reading.
//!
//! Our decoder remembers the previous telegram's layout and, when the next one differs only in
//! value digits, reads the numbers from known positions (the layout fast path); `dsmr5` keeps
//! nothing between telegrams. So each input is measured three ways for Hearth:
//! - **cold**: a fresh `DsmrDecoder` per telegram (never the fast path), like `dsmr5`;
//! - **stream**: one decoder over a day of changing telegrams, as the collector runs (the fast
//!   path whenever the layout stays, the full path when it changes);
//! - **same telegram again**: one decoder fed a byte-identical telegram (always the fast path;
//!   the best case, no meter sends this).
//!
//! Inputs: the first telegram of the demo recording (`dsmr5` rejects several real captures we
//! read, the DSMR 5.0.2 fixture `v5.p1` among them; this one both accept), and a day of 1-s
//! telegrams from the simulated household (`hearth_meter_io::simulator::Simulator`, DSMR 5.0.2
//! three-phase with gas; 86,400 telegrams, every one with other values than the last).

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use hearth_meter::Decoder as _;
use hearth_meter::dsmr::DsmrDecoder;
use hearth_meter_io::simulator::Simulator;
use std::hint::black_box;

/// 2026-01-15 00:00 CET: the simulated day starts at local midnight.
const DAY_START: i64 = 1_768_431_600;
const DAY: usize = 86_400;

/// The first telegram of `assets/demo/hearth-demo-60s.p1` (up to `!XXXX\r\n`).
fn shared_telegram() -> Vec<u8> {
    let demo = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../assets/demo/hearth-demo-60s.p1"
    ))
    .unwrap();
    let bang = demo.iter().position(|&b| b == b'!').unwrap();
    demo[..bang + 7].to_vec()
}

/// A day of the simulated household's telegrams, one per second. With `HEARTH_ANCHOR_DAY=FILE`
/// they are also written to FILE, for the Python anchor (`dsmr_parser_stream.py`).
fn simulated_day() -> Vec<Vec<u8>> {
    let mut sim = Simulator::new(1, DAY_START);
    let day: Vec<Vec<u8>> = (0..DAY).map(|_| sim.next_telegram()).collect();
    if let Some(file) = std::env::var_os("HEARTH_ANCHOR_DAY") {
        std::fs::write(file, day.concat()).expect("HEARTH_ANCHOR_DAY is writable");
    }
    day
}

fn dsmr5_parse(bytes: &[u8]) -> bool {
    let reader = dsmr5::Reader::new(bytes.iter().map(|b| Ok::<u8, ()>(*b)));
    let mut ok = false;
    for readout in reader {
        let Ok(readout) = readout else { return false };
        let Ok(telegram) = readout.to_telegram() else {
            return false;
        };
        ok = dsmr5::Result::<dsmr5::state::State>::from(&telegram).is_ok();
    }
    ok
}

fn hearth_parse(d: &mut DsmrDecoder, bytes: &[u8]) -> bool {
    d.push(bytes);
    d.next().is_some_and(|r| r.is_ok())
}

fn hearth_cold(bytes: &[u8]) -> bool {
    hearth_parse(&mut DsmrDecoder::new(), bytes)
}

fn one_telegram(c: &mut Criterion) {
    let t = shared_telegram();
    assert!(dsmr5_parse(&t), "dsmr5 accepts the shared telegram");
    assert!(hearth_cold(&t), "we accept it");
    let mut g = c.benchmark_group("anchor_dsmr5_telegram");
    g.throughput(Throughput::Elements(1));
    g.bench_function("dsmr5_crate", |b| b.iter(|| dsmr5_parse(black_box(&t))));
    g.bench_function("hearth_dsmr cold (fresh decoder)", |b| {
        b.iter(|| hearth_cold(black_box(&t)))
    });
    g.bench_function("hearth_dsmr same telegram again (fast path)", |b| {
        let mut d = DsmrDecoder::new();
        b.iter(|| hearth_parse(&mut d, black_box(&t)))
    });
    g.finish();
}

fn simulated(c: &mut Criterion) {
    let day = simulated_day();
    let accepted = |f: &mut dyn FnMut(&[u8]) -> bool| day.iter().filter(|t| f(t)).count();
    assert_eq!(
        accepted(&mut |t| dsmr5_parse(t)),
        DAY,
        "dsmr5 accepts the day"
    );
    assert_eq!(accepted(&mut hearth_cold), DAY, "we accept the day cold");
    let mut d = DsmrDecoder::new();
    assert_eq!(
        accepted(&mut |t| hearth_parse(&mut d, t)),
        DAY,
        "and as a stream"
    );
    let mut g = c.benchmark_group("anchor_dsmr5_simulated_day");
    // One iteration is a whole day (86,400 telegrams): equal samples of one iteration each.
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.throughput(Throughput::Elements(DAY as u64));
    g.bench_function("dsmr5_crate", |b| {
        b.iter(|| day.iter().filter(|t| dsmr5_parse(black_box(t))).count())
    });
    g.bench_function("hearth_dsmr cold (fresh decoder per telegram)", |b| {
        b.iter(|| day.iter().filter(|t| hearth_cold(black_box(t))).count())
    });
    g.bench_function("hearth_dsmr stream (one decoder)", |b| {
        b.iter(|| {
            let mut d = DsmrDecoder::new();
            day.iter()
                .filter(|t| hearth_parse(&mut d, black_box(t)))
                .count()
        })
    });
    g.finish();
}

criterion_group!(benches, one_telegram, simulated);
criterion_main!(benches);
