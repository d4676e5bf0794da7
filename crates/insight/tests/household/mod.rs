//! Synthetic households for tests: a meter whose registers integrate a power profile.

#![allow(dead_code, unreachable_pub)]

use hearth_insight::{Contract, Usage, UsageOptions};
use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

/// Unix seconds of a local wall time like "2026-01-05T13:00" in `zone`.
pub fn at(zone: &str, local: &str) -> i64 {
    let tz = TimeZone::get(zone).unwrap();
    let dt: DateTime = local.parse().unwrap();
    tz.to_ambiguous_timestamp(dt).earlier().unwrap().as_second()
}

pub fn ts(unix: i64) -> Timestamp {
    Timestamp::from_second(unix).unwrap()
}

/// Readings every `step` seconds over `[from, to]`, with registers integrating
/// `power(unix) -> (import W, export W)` held constant over each step.
pub fn meter(
    from: i64,
    to: i64,
    step: i64,
    mut power: impl FnMut(i64) -> (i64, i64),
) -> Vec<Reading> {
    let mut out = Vec::new();
    let (mut imp_ws, mut exp_ws) = (10_000_000i64 * 3600, 0i64);
    let mut t = from;
    loop {
        let mut r = Reading::new(Protocol::Dsmr);
        r.time = Some(MeterTime::utc(t));
        r.set(Quantity::ImportWh, imp_ws / 3600);
        r.set(Quantity::ExportWh, exp_ws / 3600);
        out.push(r);
        if t >= to {
            break;
        }
        let (pi, pe) = power(t);
        imp_ws += pi * step;
        exp_ws += pe * step;
        t += step;
    }
    out
}

pub fn contract(toml: &str) -> Contract {
    Contract::parse(toml).unwrap_or_else(|e| panic!("{e}"))
}

pub fn usage(readings: &[Reading], from: i64, to: i64) -> Usage {
    Usage::from_readings(readings, ts(from), ts(to), UsageOptions::default())
}
