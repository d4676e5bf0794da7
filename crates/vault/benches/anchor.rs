//! Anchor: what the servers Hearth replaces do — one plain SQLite row per reading (an
//! INTEGER column per field, WAL, one transaction per batch) — measured on the same simulated
//! day of 1-s DSMR 5 readings as the vault's store bench, in the same run: insert speed and
//! bytes per reading on disk. Unencrypted and uncompressed, so it is the generous baseline.
//!
//! `cargo bench -p hearth-vault --bench anchor -- --warm-up-time 1 --measurement-time 3`

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use hearth_meter::{Quantity, Reading};
use hearth_meter_io::simulator::Simulator;
use rusqlite::Connection;

/// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600;
const DAY: usize = 86_400;

fn simulated(seed: u64, start: i64, n: usize) -> Vec<Reading> {
    let mut sim = Simulator::new(seed, start);
    (0..n)
        .map(|_| {
            sim.step();
            sim.reading()
        })
        .collect()
}

fn create(conn: &Connection) {
    let cols: Vec<String> = Quantity::ALL
        .iter()
        .map(|q| format!("{} INTEGER", q.name()))
        .collect();
    conn.execute_batch(&format!(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
         CREATE TABLE reading (time INTEGER PRIMARY KEY, offset INTEGER, meter_id TEXT, {});",
        cols.join(", ")
    ))
    .expect("schema");
}

fn insert(conn: &mut Connection, readings: &[Reading]) {
    let names: Vec<&str> = Quantity::ALL.iter().map(|q| q.name()).collect();
    let marks = vec!["?"; names.len() + 3].join(", ");
    let sql = format!(
        "INSERT OR IGNORE INTO reading (time, offset, meter_id, {}) VALUES ({marks})",
        names.join(", ")
    );
    let tx = conn.transaction().expect("tx");
    {
        let mut stmt = tx.prepare_cached(&sql).expect("prepare");
        for r in readings {
            let t = r.time.expect("timed");
            let mut values: Vec<rusqlite::types::Value> = vec![
                t.unix.into(),
                i64::from(t.offset_s).into(),
                r.meter_id.as_ref().map(|m| m.as_str().to_owned()).into(),
            ];
            values.extend(Quantity::ALL.iter().map(|q| r.get(*q).into()));
            stmt.execute(rusqlite::params_from_iter(values))
                .expect("insert");
        }
    }
    tx.commit().expect("commit");
}

fn anchor(c: &mut Criterion) {
    let day = simulated(7, T0, DAY);
    {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("rows.sqlite");
        let mut conn = Connection::open(&path).expect("open");
        create(&conn);
        insert(&mut conn, &day);
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;")
            .expect("vacuum");
        drop(conn);
        let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        eprintln!(
            "plain SQLite rows: {bytes} bytes for {DAY} readings = {:.2} bytes/reading",
            bytes as f64 / DAY as f64
        );
    }
    let mut g = c.benchmark_group("anchor_sqlite_rows");
    g.sample_size(10);
    g.throughput(Throughput::Elements(DAY as u64));
    g.bench_function("insert_day_1s", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("tempdir");
                let conn = Connection::open(dir.path().join("rows.sqlite")).expect("open");
                create(&conn);
                (dir, conn)
            },
            |(dir, mut conn)| {
                insert(&mut conn, &day);
                (dir, conn)
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, anchor);
criterion_main!(benches);
