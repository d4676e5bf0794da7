//! Report and tips over a year of quarter-hour readings; streaming one day of 1-second
//! readings into quarter hours. (Reading a year of quarter hours from a vault is benched in
//! `hearth-app`, `benches/usage.rs`.)

use criterion::{Criterion, criterion_group, criterion_main};
use hearth_insight::{Contract, Usage, UsageOptions, cost, report, tips::tips};
use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::hint::black_box;
use std::path::Path;

/// 2026-01-01T00:00:00+01:00.
const START: i64 = 1_767_222_000;

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
        // A day shape: 250 W base, evening load, midday export in summer-ish half of the year.
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

fn contracts() -> Vec<Contract> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/tariffs");
    [
        "be-day-night-capacity.toml",
        "no-top3-steps.toml",
        "nl-day-night.toml",
        "nl-flat.toml",
    ]
    .iter()
    .map(|f| Contract::parse(&std::fs::read_to_string(dir.join(f)).unwrap()).unwrap())
    .collect()
}

fn year(c: &mut Criterion) {
    let year_s = 365 * 86_400;
    let rs = readings(900, year_s);
    let (from, to) = (
        Timestamp::from_second(START).unwrap(),
        Timestamp::from_second(START + year_s).unwrap(),
    );
    let contracts = contracts();
    let usage = Usage::from_readings(&rs, from, to, UsageOptions::default());
    let tz = TimeZone::get("Europe/Brussels").unwrap();

    c.bench_function("usage: year of 15-min readings -> quarter hours", |b| {
        b.iter(|| Usage::from_readings(black_box(&rs), from, to, UsageOptions::default()))
    });
    c.bench_function("price: year under BE day/night + capacity", |b| {
        b.iter(|| cost::price(black_box(&usage), &contracts[0], from, to).unwrap())
    });
    c.bench_function("report: year under 4 contracts", |b| {
        b.iter(|| report(black_box(&usage), &contracts, from, to).unwrap())
    });
    c.bench_function(
        "report end to end: year of 15-min readings, 4 contracts",
        |b| {
            b.iter(|| {
                let u = Usage::from_readings(black_box(&rs), from, to, UsageOptions::default());
                report(&u, &contracts, from, to).unwrap()
            })
        },
    );
    c.bench_function("tips: year, 4 contracts", |b| {
        b.iter(|| tips(black_box(&usage), &contracts, &[], to, &tz))
    });
}

fn seconds(c: &mut Criterion) {
    let rs = readings(1, 86_400);
    let (from, to) = (
        Timestamp::from_second(START).unwrap(),
        Timestamp::from_second(START + 86_400).unwrap(),
    );
    c.bench_function("usage: one day of 1-s readings (86 400)", |b| {
        b.iter(|| Usage::from_readings(black_box(&rs), from, to, UsageOptions::default()))
    });
}

criterion_group!(benches, year, seconds);
criterion_main!(benches);
