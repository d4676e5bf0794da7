//! Reading a year of quarter hours from a vault, as the Costs and Tips screens and `hearth
//! report` do ([`hearth_app::usage::from_vault`]), and the span of stored readings alone.

use criterion::{Criterion, criterion_group, criterion_main};
use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use hearth_vault::{CreateOptions, KdfParams, Vault};
use jiff::Timestamp;
use std::hint::black_box;
use std::path::Path;

/// 2026-01-01T00:00:00+01:00.
const START: i64 = 1_767_222_000;

/// Readings every `step` seconds for `seconds`: 250 W base, an evening load, midday export
/// in the summer half of the year (the same shape as insight's report bench).
fn readings(step: i64, seconds: i64) -> Vec<Reading> {
    let mut out = Vec::with_capacity((seconds / step + 1) as usize);
    let (mut imp, mut exp) = (0i64, 0i64);
    let mut t = START;
    while t <= START + seconds {
        let mut r = Reading::new(Protocol::Dsmr);
        r.time = Some(MeterTime::utc(t));
        r.set(Quantity::ImportWh, imp / 3600);
        r.set(Quantity::ExportWh, exp / 3600);
        out.push(r);
        let h = (t - START).rem_euclid(86_400) / 3600;
        let day = (t - START) / 86_400;
        let w = 250 + if (18..22).contains(&h) { 1_200 } else { 0 } + (t % 7) * 10;
        let e = if (90..270).contains(&day) && (10..15).contains(&h) {
            1_500
        } else {
            0
        };
        imp += w * step;
        exp += e * step;
        t += step;
    }
    out
}

/// A scratch vault in Brussels time holding `rs`, flushed.
fn vault_with(dir: &Path, rs: &[Reading]) -> Vault {
    let options = CreateOptions {
        kdf: KdfParams::INSECURE_FOR_TESTS,
        time_zone: Some("Europe/Brussels".into()),
    };
    let mut v = Vault::create(&dir.join("v.hearth"), "pw", &options).unwrap();
    v.append(rs).unwrap();
    v.flush().unwrap();
    v
}

fn vault(c: &mut Criterion) {
    // What the Costs and Tips screens and `hearth report` read: a year of quarter-hour
    // rollups, plus the span of stored readings (one raw chunk decoded at each end).
    let year_s = 365 * 86_400;
    let dir = tempfile::tempdir().unwrap();
    let v = vault_with(dir.path(), &readings(900, year_s));
    let (from, to) = (
        Timestamp::from_second(START).unwrap(),
        Timestamp::from_second(START + year_s).unwrap(),
    );
    c.bench_function("from_vault: a year of quarter-hour rollups", |b| {
        b.iter(|| hearth_app::usage::from_vault(black_box(&v), from, to).unwrap())
    });
    // The span alone where it costs most: full hours of 1-second readings at both ends.
    let dir = tempfile::tempdir().unwrap();
    let v = vault_with(dir.path(), &readings(1, 86_400));
    c.bench_function(
        "reading_span: 1-s raw hours (3600 readings) at both ends",
        |b| b.iter(|| black_box(&v).reading_span().unwrap()),
    );
}

criterion_group!(benches, vault);
criterion_main!(benches);
