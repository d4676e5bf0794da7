//! Simulated meter speed: telegrams per second from the household model alone, model plus
//! DSMR 5.0.2 formatting and CRC, and the whole fast demo path (simulator -> Reader ->
//! DsmrDecoder -> Reading) as `hearth import`/benchmarks use it.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hearth_meter::dsmr::DsmrDecoder;
use hearth_meter_io::simulator::Simulator;
use hearth_meter_io::{Event, Reader, Source};
use std::hint::black_box;

/// 2026-01-15T18:00:00+01:00, around the evening cooking peak.
const START: i64 = 1_768_496_400;

fn simulator(c: &mut Criterion) {
    let mut g = c.benchmark_group("simulator");
    g.throughput(Throughput::Elements(1));
    let mut sim = Simulator::new(42, START);
    g.bench_function("step (household model + registers)", |b| {
        b.iter(|| black_box(sim.step().import_w))
    });
    let mut sim = Simulator::new(42, START);
    let mut out = Vec::with_capacity(1024);
    g.bench_function("telegram (step + DSMR 5 text + CRC)", |b| {
        b.iter(|| {
            out.clear();
            sim.next_telegram_into(&mut out);
            black_box(out.len())
        })
    });
    g.finish();

    const N: u64 = 10_000;
    let mut g = c.benchmark_group("demo source");
    g.throughput(Throughput::Elements(N));
    g.sample_size(10);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    g.bench_function("fast demo -> Reader -> DsmrDecoder (10k telegrams)", |b| {
        b.iter(|| {
            rt.block_on(async {
                let source = Source::Demo {
                    seed: 42,
                    pace: hearth_meter_io::Pace::Fast,
                    start: Some(START),
                    count: Some(N),
                };
                let mut reader = Reader::new(source, DsmrDecoder::new());
                let mut n = 0u64;
                while let Some(e) = reader.next().await {
                    if let Event::Decoded(d) = e {
                        n += d
                            .reading
                            .get(hearth_meter::Quantity::ImportW)
                            .map_or(0, |_| 1);
                    }
                }
                assert_eq!(n, N);
                n
            })
        })
    });
    g.finish();
}

criterion_group!(benches, simulator);
criterion_main!(benches);
