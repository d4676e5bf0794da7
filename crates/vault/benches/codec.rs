//! Chunk codec speed (readings per second, encode and decode) and size (bytes per reading),
//! on the same simulated streams the codec tests use. Sizes are printed once at start:
//! `cargo bench -p hearth-vault --bench codec -- --warm-up-time 1 --measurement-time 3`.

#[path = "../tests/codec/synthetic.rs"]
mod synthetic;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hearth_meter::Reading;
use hearth_vault::codec::{decode, encode};
use std::hint::black_box;
use synthetic::Profile;

const V5: &str = include_str!("../tests/fixtures/dsmr/v5.p1");

fn cases() -> Vec<(&'static str, Vec<Reading>)> {
    vec![
        (
            "dsmr5_1s_hour",
            synthetic::stream(1, &synthetic::dsmr5_start(), Profile::DSMR5, 3600),
        ),
        (
            "dsmr4_10s_hour",
            synthetic::stream(4, &synthetic::dsmr4_start(), Profile::DSMR4, 360),
        ),
        (
            "dsmr4_10s_day",
            synthetic::stream(4, &synthetic::dsmr4_start(), Profile::DSMR4, 8640),
        ),
        (
            "registers_1s_hour",
            synthetic::stream(5, &synthetic::registers_start(), Profile::DSMR5, 3600),
        ),
        (
            "v5_fixture_1s_hour",
            synthetic::stream(
                6,
                &synthetic::reading_from_telegram(V5),
                Profile {
                    solar_peak_w: 0.0,
                    ..Profile::DSMR5
                },
                3600,
            ),
        ),
    ]
}

fn codec(c: &mut Criterion) {
    // The figure of issue 4 at the codec level: a day stored as the vault stores it, in
    // hour chunks (the codec tests hold it to 4 B/reading).
    let day = synthetic::stream(1, &synthetic::dsmr5_midnight(), Profile::DSMR5, 86_400);
    let bytes: usize = day.chunks(3600).map(|hour| encode(hour).len()).sum();
    eprintln!(
        "size dsmr5_1s_day in hour chunks: {} readings -> {bytes} bytes = {:.3} B/reading",
        day.len(),
        bytes as f64 / day.len() as f64
    );
    let cases = cases();
    for (name, readings) in &cases {
        let chunk = encode(readings);
        eprintln!(
            "size {name}: {} readings -> {} bytes = {:.3} B/reading",
            readings.len(),
            chunk.len(),
            chunk.len() as f64 / readings.len() as f64
        );
    }
    let mut group = c.benchmark_group("codec");
    for (name, readings) in &cases {
        if !name.ends_with("hour") || name.starts_with("dsmr4") {
            continue;
        }
        let chunk = encode(readings);
        group.throughput(Throughput::Elements(readings.len() as u64));
        group.bench_function(format!("encode/{name}"), |b| {
            b.iter(|| encode(black_box(readings)))
        });
        group.bench_function(format!("decode/{name}"), |b| {
            b.iter(|| decode(black_box(&chunk)))
        });
    }
    group.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
