//! DSMR decoding speed: frame + CRC + decode to `Reading`, on the realistic three-phase DSMR 5
//! telegram with gas (`v5.p1`, 890 bytes; the same TELEGRAM_V5 the Python anchor
//! `/work/shared/tools/bench_dsmr_parser.py` times). Issue 3's target: >= 1,000,000 telegrams/s.

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use hearth_meter::Decoder;
use hearth_meter::dsmr::{DsmrDecoder, crc16, parse_text};
use hearth_meter::glo::Key;
use std::hint::black_box;

const V5: &[u8] = include_bytes!("../tests/fixtures/dsmr/v5.p1");
/// 60 telegrams of one minute whose values change every second (the simulated household,
/// DSMR 5 three-phase with gas): the decoder cannot gain from identical input.
const DEMO: &[u8] = include_bytes!("../../../assets/demo/hearth-demo-60s.p1");
const FLUVIUS: &[u8] = include_bytes!("../tests/fixtures/dsmr/fluvius_v171.p1");
const SMARTY: &[u8] = include_bytes!("../tests/fixtures/dsmr/sagemcom_t210_d_r.encrypted.bin");

/// CPU time of this thread (Linux: `/proc/thread-self/schedstat`, nanoseconds on the CPU), so
/// figures stay meaningful on a machine shared with other work; wall time is the default
/// group. Elsewhere it reads 0 and the CPU-time group is meaningless.
struct CpuTime;

fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

static WALL: WallTime = WallTime;

impl Measurement for CpuTime {
    type Intermediate = u64;
    type Value = u64;
    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, start: u64) -> u64 {
        thread_cpu_ns().saturating_sub(start)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        WALL.formatter()
    }
}

fn cpu_time(c: &mut Criterion<CpuTime>) {
    // Batches of 1000 telegrams: the CPU-time clock ticks too coarsely for one telegram.
    stream_group(c, "dsmr stream (cpu time)");
}

fn decode_one(c: &mut Criterion) {
    let mut g = c.benchmark_group("dsmr");
    g.throughput(Throughput::Elements(1));
    let mut d = DsmrDecoder::new();
    g.bench_function("frame+crc+decode v5 telegram", |b| {
        b.iter(|| {
            d.push(black_box(V5));
            let r = d.next();
            black_box(r)
        })
    });
    let mut d = DsmrDecoder::new();
    g.bench_function("frame+crc+decode fluvius 1.7.1 telegram", |b| {
        b.iter(|| {
            d.push(black_box(FLUVIUS));
            black_box(d.next())
        })
    });
    g.bench_function("crc16 alone (v5)", |b| b.iter(|| crc16(black_box(V5))));
    g.bench_function("checksum::crc16_arc (byte table, v5)", |b| {
        b.iter(|| hearth_meter::checksum::crc16_arc(black_box(V5)))
    });
    let text = &V5[..V5.iter().position(|&x| x == b'!').unwrap_or(V5.len()) + 1];
    g.bench_function("parse lines alone (v5)", |b| {
        b.iter(|| parse_text(black_box(text)))
    });
    let key = Key::from_hex("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap();
    let ak = Key::from_hex("BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB").unwrap();
    let mut d = DsmrDecoder::with_keys(key, Some(ak));
    g.bench_function("smarty: decrypt+frame+crc+decode", |b| {
        b.iter(|| {
            d.push(black_box(SMARTY));
            black_box(d.next())
        })
    });
    g.finish();
}

fn stream(c: &mut Criterion) {
    stream_group(c, "dsmr stream");
}

fn stream_group<M: Measurement>(c: &mut Criterion<M>, name: &str) {
    // 1000 telegrams cut into 64-byte reads, as a serial port hands them over.
    const N: usize = 1000;
    let stream: Vec<u8> = V5.repeat(N);
    let mut g = c.benchmark_group(name);
    // Equal samples of many iterations: the CPU-time clock advances only at scheduler ticks,
    // so the one-iteration first sample of linear sampling could read zero.
    g.sampling_mode(SamplingMode::Flat);
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("1000 v5 telegrams in 64 B chunks", |b| {
        b.iter(|| chunked(&stream, N))
    });
    // The same 1000 telegrams, each arriving whole in one push (a TCP bridge, a file).
    g.bench_function("1000 v5 telegrams, one push each", |b| {
        b.iter(|| {
            let mut d = DsmrDecoder::new();
            let mut ok = 0usize;
            for _ in 0..N {
                d.push(black_box(V5));
                while let Some(r) = d.next() {
                    ok += usize::from(r.is_ok());
                }
            }
            assert_eq!(ok, N);
            ok
        })
    });
    // The demo minute repeated: 1020 telegrams, every one with other values than the last.
    let demo: Vec<u8> = DEMO.repeat(17);
    g.throughput(Throughput::Elements(60 * 17));
    g.bench_function("1020 changing demo telegrams in 64 B chunks", |b| {
        b.iter(|| chunked(&demo, 60 * 17))
    });
    g.finish();
}

/// Decodes `stream` pushed in 64-byte reads; all `n` telegrams must be accepted.
fn chunked(stream: &[u8], n: usize) -> usize {
    let mut d = DsmrDecoder::new();
    let mut ok = 0usize;
    for chunk in stream.chunks(64) {
        d.push(chunk);
        while let Some(r) = d.next() {
            ok += usize::from(r.is_ok());
        }
    }
    assert_eq!(ok, n);
    ok
}

criterion_group!(benches, decode_one, stream);
criterion_group! {
    name = cpu;
    config = Criterion::default().with_measurement(CpuTime);
    targets = cpu_time
}
criterion_main!(benches, cpu);
