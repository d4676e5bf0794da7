//! Vault figures: append (import) speed in readings per second, chart-query latency for a
//! day, week, month and year view of ~1000 points, and bytes per reading on disk (printed
//! once at start, everything included: raw chunks, rollups, SQLite overhead).
//!
//! `cargo bench -p hearth-vault --bench store -- --warm-up-time 1 --measurement-time 3`
//!
//! The query vault holds three years of readings at one per minute: the rollup chunks a chart
//! query reads are exactly those of one-second data (every minute bucket is filled), and the
//! raw chunks it does not read are only looked up by key.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use hearth_meter_io::simulator::Simulator;
use hearth_vault::{CreateOptions, KdfParams, Resolution, Vault};
use std::hint::black_box;
use std::path::Path;

/// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600;
const DAY: i64 = 86_400;

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

fn file_bytes(path: &Path) -> u64 {
    let c = rusqlite::Connection::open(path).expect("open");
    c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;")
        .expect("vacuum");
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn print_sizes(day: &[Reading]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("size.hearth");
    let mut v = Vault::create(&path, "pw", &options()).expect("create");
    v.append(day).expect("append");
    v.close().expect("close");
    let total = file_bytes(&path);
    let c = rusqlite::Connection::open(&path).expect("open");
    let mut stmt = c
        .prepare("SELECT res, count(*), sum(length(sealed)) FROM chunk GROUP BY res ORDER BY res")
        .expect("prepare");
    let per_res: Vec<(u8, i64, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let n = day.len() as f64;
    eprintln!(
        "size: one simulated day of 1-s DSMR 5 readings ({} readings): file {} bytes = {:.2} B/reading",
        day.len(),
        total,
        total as f64 / n
    );
    for (res, chunks, bytes) in per_res {
        let name = Resolution::ALL
            .get(usize::from(res))
            .map_or("?", |r| r.name());
        eprintln!(
            "size:   {name:>4}: {chunks} chunks, {bytes} sealed bytes = {:.3} B/reading",
            bytes as f64 / n
        );
    }
}

/// Three years at one reading per minute, with a daily load shape and solar export.
fn build_query_vault(path: &Path) {
    let mut v = Vault::create(path, "pw", &options()).expect("create");
    let mut import_wh = 1_000_000i64;
    let mut export_wh = 200_000i64;
    let mut batch = Vec::with_capacity(10_000);
    let minutes = 3 * 365 * 1440;
    for m in 0..minutes {
        let t = T0 + m * 60;
        let minute_of_day = m % 1440;
        let load = 250
            + (minute_of_day * 37 % 900)
            + if (1080..1200).contains(&minute_of_day) {
                2000
            } else {
                0
            };
        let solar = if (480..1080).contains(&minute_of_day) {
            (minute_of_day - 480) * (1080 - minute_of_day) / 60
        } else {
            0
        };
        let net = load - solar;
        let (imp, exp) = if net >= 0 { (net, 0) } else { (0, -net) };
        import_wh += imp / 60;
        export_wh += exp / 60;
        let mut r = Reading::new(Protocol::Dsmr);
        r.time = Some(MeterTime::utc(t));
        r.set(Quantity::ImportWh, import_wh);
        r.set(Quantity::ExportWh, export_wh);
        r.set(Quantity::ImportW, imp);
        r.set(Quantity::ExportW, exp);
        r.set(Quantity::L1Dv, 2300 + m % 7);
        batch.push(r);
        if batch.len() == batch.capacity() {
            v.append(&batch).expect("append");
            batch.clear();
        }
    }
    v.append(&batch).expect("append");
    v.close().expect("close");
}

fn store(c: &mut Criterion) {
    let day = simulated(11, T0, DAY as usize);
    print_sizes(&day);

    let mut group = c.benchmark_group("append");
    let hour = &day[..3600];
    group.throughput(Throughput::Elements(day.len() as u64));
    group.sample_size(10);
    group.bench_function("one_day_1s_dsmr5", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("tempdir");
                let v =
                    Vault::create(&dir.path().join("a.hearth"), "pw", &options()).expect("create");
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
    group.throughput(Throughput::Elements(hour.len() as u64));
    group.bench_function("one_hour_1s_dsmr5_rollups_only", |b| {
        // The rollup builder alone, through a vault that is never flushed in the loop.
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("r.hearth");
        let mut v = Vault::create(&path, "pw", &options()).expect("create");
        let mut offset = 0i64;
        b.iter(|| {
            offset += 3600;
            let shifted: Vec<Reading> = hour
                .iter()
                .map(|r| {
                    let mut r = r.clone();
                    r.time = r.time.map(|t| MeterTime::utc(t.unix + offset));
                    r
                })
                .collect();
            v.append(black_box(&shifted)).expect("append");
        })
    });
    group.finish();

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("q.hearth");
    build_query_vault(&path);
    eprintln!(
        "query vault: three years at one reading per minute, {} bytes",
        file_bytes(&path)
    );
    let v = Vault::open_read_only(&path, "pw").expect("open");
    let mut group = c.benchmark_group("query_1000_points");
    // Views ending in the third year.
    let end = T0 + 3 * 365 * DAY - DAY;
    for (name, span) in [
        ("day", DAY),
        ("week", 7 * DAY),
        ("month", 30 * DAY),
        ("year", 365 * DAY),
    ] {
        let res = Resolution::for_points(end - span, end, 1000);
        group.bench_function(format!("{name}_{res}"), |b| {
            b.iter(|| {
                let n = v
                    .readings_for_points(end - span, end, 1000)
                    .expect("query")
                    .filter(Result::is_ok)
                    .count();
                black_box(n)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, store);
criterion_main!(benches);
