//! Write-only collection figures (issue 21): the write-only append rate beside today's writer
//! append rate in the same run (goal: at least 80 %), and taking a day of one-second
//! write-only readings in at unlock (goal: under 1 s).
//!
//! `cargo bench -p hearth-vault --bench write_only -- --warm-up-time 1 --measurement-time 3`

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use hearth_meter::Reading;
use hearth_meter_io::simulator::Simulator;
use hearth_vault::{CreateOptions, KdfParams, Vault};
use std::hint::black_box;
use std::path::Path;

/// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600;
const DAY: usize = 86_400;

fn options() -> CreateOptions {
    CreateOptions {
        kdf: KdfParams::INSECURE_FOR_TESTS,
        time_zone: Some("Europe/Amsterdam".into()),
    }
}

fn simulated(seed: u64, start: i64, n: usize) -> Vec<Reading> {
    let mut sim = Simulator::new(seed, start);
    (0..n)
        .map(|_| {
            sim.step();
            sim.reading()
        })
        .collect()
}

fn created(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("a.hearth");
    Vault::create(&path, "pw", &options())
        .expect("create")
        .close()
        .expect("close");
    path
}

fn write_only(c: &mut Criterion) {
    let day = simulated(11, T0, DAY);
    let mut group = c.benchmark_group("write_only");
    group.throughput(Throughput::Elements(day.len() as u64));
    group.sample_size(10);
    // Today's writer: codec, seal, rollups, SQLite (as `store`'s `append/one_day_1s_dsmr5`).
    group.bench_function("writer_append_one_day_1s_dsmr5", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("tempdir");
                let v = Vault::open(&created(dir.path()), "pw").expect("open");
                (dir, v)
            },
            |(dir, mut v)| {
                v.append(black_box(&day)).expect("append");
                v.close().expect("close");
                dir
            },
            BatchSize::PerIteration,
        )
    });
    // The write-only handle: codec, pad, X25519 + HKDF + XChaCha20-Poly1305 per block, SQLite.
    group.bench_function("write_only_append_one_day_1s_dsmr5", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("tempdir");
                let w = Vault::open_write_only(&created(dir.path())).expect("write-only");
                (dir, w)
            },
            |(dir, mut w)| {
                w.append(black_box(&day)).expect("append");
                w.close().expect("close");
                dir
            },
            BatchSize::PerIteration,
        )
    });
    // Unlock with a day of one-second readings waiting in the inbox: open every block, store
    // the readings through the writer, book the rollups, delete the rows, commit.
    let prepared = tempfile::tempdir().expect("tempdir");
    let source = created(prepared.path());
    {
        // What a live collector leaves after a day (its open block sealed again every 10 s
        // ends as the same closed blocks).
        let mut w = Vault::open_write_only(&source).expect("write-only");
        w.append(&day).expect("append");
        w.close().expect("close");
    }
    let blocks = Vault::inbox_waiting(&source).expect("count");
    let bytes = std::fs::metadata(&source).map(|m| m.len()).unwrap_or(0);
    eprintln!("take_in: a day of 1-s readings in {blocks} blocks, file {bytes} bytes");
    group.throughput(Throughput::Elements(day.len() as u64));
    group.bench_function("unlock_taking_in_one_day", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("tempdir");
                let path = dir.path().join("a.hearth");
                for suffix in ["", "-wal"] {
                    let mut from = source.as_os_str().to_owned();
                    from.push(suffix);
                    let mut to = path.as_os_str().to_owned();
                    to.push(suffix);
                    if Path::new(&from).exists() {
                        std::fs::copy(&from, &to).expect("copy");
                    }
                }
                (dir, path)
            },
            |(dir, path)| {
                let v = Vault::open(&path, "pw").expect("unlock");
                assert_eq!(v.inbox_report().added, DAY as u64);
                v.close().expect("close");
                dir
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, write_only);
criterion_main!(benches);
