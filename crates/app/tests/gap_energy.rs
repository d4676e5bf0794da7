//! Issue 17, finding 13: energy spread over a gap adds up to the register delta in every view.
//! A month of minute readings with tariff registers (import and export, T1 and T2) and three
//! five-hour gaps ending at odd seconds: one across local midnight and a tariff switch, one
//! across a tariff switch with export on both tariffs, one across the clock change. The report
//! (`hearth_app::usage::from_vault`, as `hearth report`, the desktop's Costs and Tips read it),
//! the costs per meter tariff, the desktop's history and the export at every resolution must
//! all equal the register deltas, per day and per month.

use hearth_app::costs::local_midnight;
use hearth_app::history::Request;
use hearth_app::period::PeriodKind;
use hearth_app::usage::from_vault;
use hearth_insight::{Contract, Lang};
use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use hearth_vault::{CreateOptions, KdfParams, Resolution, Vault};
use jiff::Timestamp;
use jiff::civil::{Date, date};
use jiff::tz::TimeZone;

const ZONE: &str = "Europe/Amsterdam";

/// Day/night by the meter's own switch, export credited the same way; no net metering, so
/// each period's energy is what the meter registered on that tariff.
const DAY_NIGHT: &str = r#"
name = "Day/night"
currency = "EUR"
time_zone = "Europe/Amsterdam"
vat_percent = 0
[import]
[[import.period]]
name = "low"
meter_tariff = 1
price_per_kwh = 0.22
[[import.period]]
name = "normal"
meter_tariff = 2
price_per_kwh = 0.25
[export]
[[export.period]]
name = "low"
meter_tariff = 1
price_per_kwh = 0.07
[[export.period]]
name = "normal"
meter_tariff = 2
price_per_kwh = 0.07
"#;

/// The meter's registers at one moment, Wh: import T1, import T2, export T1, export T2.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Registers([i64; 4]);

impl Registers {
    fn import(&self) -> i64 {
        self.0[0] + self.0[1]
    }
    fn export(&self) -> i64 {
        self.0[2] + self.0[3]
    }
}

/// A DSMR-like reading: tariff registers, their totals, the active tariff.
fn reading(unix: i64, regs: Registers, tariff: i64) -> Reading {
    let mut r = Reading::new(Protocol::Dsmr);
    r.time = Some(MeterTime::utc(unix));
    r.set(Quantity::ImportT1Wh, regs.0[0]);
    r.set(Quantity::ImportT2Wh, regs.0[1]);
    r.set(Quantity::ImportWh, regs.import());
    r.set(Quantity::ExportT1Wh, regs.0[2]);
    r.set(Quantity::ExportT2Wh, regs.0[3]);
    r.set(Quantity::ExportWh, regs.export());
    r.set(Quantity::Tariff, tariff);
    r
}

fn ts(s: i64) -> Timestamp {
    Timestamp::from_second(s).expect("time")
}

fn midnight(d: Date, tz: &TimeZone) -> i64 {
    local_midnight(d, tz).expect("midnight").as_second()
}

/// The household: what the meter counts, a reading every minute (on the minute) except inside
/// the gaps, each of which ends with a reading at an odd second. The meter keeps counting
/// through a gap. Returns the readings and the registers at every local midnight from 1 March
/// to 1 April (each a reading).
struct Household {
    readings: Vec<Reading>,
    at_midnight: Vec<(Date, Registers)>,
}

fn household(tz: &TimeZone, gaps: &[(i64, i64)]) -> Household {
    let start = midnight(date(2026, 2, 28), tz);
    let end = midnight(date(2026, 4, 2), tz);
    let mut regs = Registers([5_123_457, 3_210_989, 1_002_003, 2_004_005]);
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    // Tariff 1 (low) at night and at weekends, tariff 2 (normal) 07:00-23:00 on weekdays.
    let tariff = |t: i64| {
        let local = ts(t).to_zoned_datetime(tz.clone());
        let weekend = local.weekday().to_monday_one_offset() >= 6;
        if weekend || !(7..23).contains(&local.hour()) {
            1
        } else {
            2
        }
    };
    let mut readings = Vec::new();
    let mut at_midnight = Vec::new();
    let mut t = start;
    while t <= end {
        // The minute ending at t: 0..=70 Wh imported (up to 4.2 kW), some export by day.
        let tag = tariff(t - 60) as usize - 1;
        let hour = ts(t).to_zoned_datetime(tz.clone()).hour();
        let import = (next() % 71) as i64;
        let export = if (6..16).contains(&hour) {
            (next() % 41) as i64
        } else {
            0
        };
        let before = regs;
        regs.0[tag] += import;
        regs.0[2 + tag] += export;
        match gaps.iter().find(|(a, b)| *a < t && t <= *b + 60) {
            // Inside a gap: no reading.
            Some((_, b)) if t <= *b => {}
            // The first minute after the gap's end: a reading at the odd second first, with
            // the part of this minute's energy counted by then.
            Some((_, b)) => {
                let part = t - b;
                let mut mid = before;
                mid.0[tag] += import * (60 - part) / 60;
                mid.0[2 + tag] += export * (60 - part) / 60;
                readings.push(reading(*b, mid, tariff(*b) as i64));
                readings.push(reading(t, regs, tariff(t) as i64));
            }
            None => readings.push(reading(t, regs, tariff(t) as i64)),
        }
        let local = ts(t).to_zoned_datetime(tz.clone());
        if t == midnight(local.date(), tz) {
            at_midnight.push((local.date(), regs));
        }
        t += 60;
    }
    let first = date(2026, 3, 1);
    let last = date(2026, 4, 1);
    at_midnight.retain(|(d, _)| *d >= first && *d <= last);
    Household {
        readings,
        at_midnight,
    }
}

/// The energy of `q` per row of `res` over `[from, to)`, Wh, by row start.
fn exported(v: &Vault, from: i64, to: i64, res: Resolution, q: Quantity) -> Vec<(i64, i64)> {
    v.readings(from, to, res)
        .expect("rows")
        .map(|r| {
            let r = r.expect("row");
            (r.start(), r.used(q).unwrap_or(0))
        })
        .collect()
}

/// Sum of `rows` starting in `[a, b)`.
fn sum_in(rows: &[(i64, i64)], a: i64, b: i64) -> i64 {
    rows.iter()
        .filter(|(s, _)| (a..b).contains(s))
        .map(|(_, wh)| wh)
        .sum()
}

/// The household of March 2026 in a vault: its two gaps, the vault (in `dir`), the registers at
/// every local midnight.
fn march(dir: &std::path::Path, tz: &TimeZone) -> (Household, Vault) {
    // Gap 1: Tuesday 10 March 22:16:00 to Wednesday 11 March 03:16:37 local (CET, +01:00):
    // across midnight and the 23:00 switch to tariff 1. Gap 2: Friday 20 March 05:31:00 to
    // 10:31:43: across the 07:00 switch to tariff 2, with solar export (from 06:00) on both.
    let g1 = midnight(date(2026, 3, 10), tz) + 22 * 3_600 + 16 * 60;
    let g2 = midnight(date(2026, 3, 20), tz) + 5 * 3_600 + 31 * 60;
    // Gap 3: Sunday 29 March 00:52:00 CET to 06:52:29 CEST, five hours across the clock change.
    let g3 = midnight(date(2026, 3, 29), tz) + 52 * 60;
    let gaps = [
        (g1, g1 + 5 * 3_600 + 37),
        (g2, g2 + 5 * 3_600 + 43),
        (g3, g3 + 5 * 3_600 + 29),
    ];
    let h = household(tz, &gaps);
    assert_eq!(
        h.at_midnight.len(),
        32,
        "1 March to 1 April, each midnight a reading"
    );
    let options = CreateOptions {
        kdf: KdfParams::INSECURE_FOR_TESTS,
        time_zone: Some(ZONE.into()),
    };
    let mut v = Vault::create(&dir.join("v.hearth"), "pw", &options).expect("create");
    v.append(&h.readings).expect("append");
    v.flush().expect("flush");
    (h, v)
}

#[test]
fn energy_spread_over_gaps_adds_up_to_the_registers_in_every_view() {
    let tz = TimeZone::get(ZONE).expect("zone");
    let dir = tempfile::tempdir().expect("dir");
    let (h, v) = march(dir.path(), &tz);

    let (mar1, apr1) = (h.at_midnight[0], h.at_midnight[31]);
    let (from, to) = (midnight(mar1.0, &tz), midnight(apr1.0, &tz));
    let usage = from_vault(&v, ts(from), ts(to)).expect("usage");
    let day_rows = |q| exported(&v, from, to, Resolution::Day, q);
    let (imp_days, exp_days) = (day_rows(Quantity::ImportWh), day_rows(Quantity::ExportWh));

    // Per day: the report's quarter hours, the daily export, the hourly and quarter-hour
    // exports summed, and the register delta where both midnights are readings.
    let gap_days = [date(2026, 3, 10), date(2026, 3, 11)];
    for w in h.at_midnight.windows(2) {
        let ((day, r0), (_, r1)) = (w[0], w[1]);
        let (a, b) = (midnight(day, &tz), midnight(w[1].0, &tz));
        let report = hearth_insight::report(&usage, &[], ts(a), ts(b)).expect("report");
        let export_day = (sum_in(&imp_days, a, b), sum_in(&exp_days, a, b));
        assert_eq!(
            (report.import_mwh, report.export_mwh),
            (export_day.0 * 1_000, export_day.1 * 1_000),
            "{day}: report and daily export"
        );
        for res in [Resolution::Hour, Resolution::Quarter, Resolution::Minute] {
            let finer = (
                sum_in(&exported(&v, a, b, res, Quantity::ImportWh), a, b),
                sum_in(&exported(&v, a, b, res, Quantity::ExportWh), a, b),
            );
            assert_eq!(finer, export_day, "{day}: {res:?} and daily export");
        }
        if !gap_days.contains(&day) {
            assert_eq!(
                export_day,
                (r1.import() - r0.import(), r1.export() - r0.export()),
                "{day}: register delta"
            );
        }
    }
    // The two days the first gap's midnight splits add up to their register delta.
    let (a, c) = (
        midnight(date(2026, 3, 10), &tz),
        midnight(date(2026, 3, 12), &tz),
    );
    let regs_at = |d: Date| h.at_midnight.iter().find(|x| x.0 == d).expect("midnight").1;
    let (r0, r2) = (regs_at(date(2026, 3, 10)), regs_at(date(2026, 3, 12)));
    let report = hearth_insight::report(&usage, &[], ts(a), ts(c)).expect("report");
    assert_eq!(
        (report.import_mwh, report.export_mwh),
        (
            (r2.import() - r0.import()) * 1_000,
            (r2.export() - r0.export()) * 1_000
        ),
        "the first gap's two days"
    );

    // The month: report, costs per meter tariff, monthly export, registers.
    let (r0, r1) = (mar1.1, apr1.1);
    let contract = Contract::parse(DAY_NIGHT).expect("contract");
    let costs = hearth_app::costs::report(&v, &[contract], ts(from), ts(to)).expect("costs");
    let month = &costs.report;
    assert_eq!(
        (month.import_mwh, month.export_mwh),
        (
            (r1.import() - r0.import()) * 1_000,
            (r1.export() - r0.export()) * 1_000
        ),
        "March: report and registers"
    );
    assert!(month.estimated_mwh > 0 && month.estimated_export_mwh > 0);
    let monthly = (
        sum_in(
            &exported(&v, from, to, Resolution::Month, Quantity::ImportWh),
            from,
            to,
        ),
        sum_in(
            &exported(&v, from, to, Resolution::Month, Quantity::ExportWh),
            from,
            to,
        ),
    );
    assert_eq!(
        monthly,
        (r1.import() - r0.import(), r1.export() - r0.export()),
        "March: monthly export and registers"
    );
    // Each meter tariff's energy is its own register's delta, and nothing is left untagged.
    let cost = &month.contracts[0].cost;
    let periods: Vec<(&str, i64, i64)> = cost
        .periods
        .iter()
        .map(|p| (p.name.as_str(), p.import_mwh, p.export_mwh))
        .collect();
    let delta = |k: usize| (r1.0[k] - r0.0[k]) * 1_000;
    assert_eq!(
        periods,
        [("low", delta(0), delta(2)), ("normal", delta(1), delta(3))]
    );
    assert_eq!(cost.untagged_mwh, 0);
}

#[test]
fn history_bars_add_up_to_the_registers_over_gaps() {
    // The desktop's history of March, a bar a day: each day's import is the daily export's,
    // and the month's is the register delta.
    let tz = TimeZone::get(ZONE).expect("zone");
    let dir = tempfile::tempdir().expect("dir");
    let (h, v) = march(dir.path(), &tz);
    let (from, to) = (
        midnight(date(2026, 3, 1), &tz),
        midnight(date(2026, 4, 1), &tz),
    );
    let req = Request {
        kind: PeriodKind::Month,
        shift: 0,
        width: 600,
        height: 300,
        dark: false,
        compare: false,
        lang: Lang::En,
    };
    let page = hearth_app::history::page(&v, &req, from + 15 * 86_400).expect("history");
    let wh = |kwh: f64| (kwh * 1_000.0).round() as i64;
    let days = exported(&v, from, to, Resolution::Day, Quantity::ImportWh);
    let bars: Vec<(usize, i64)> = page
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| (i, wh(r.import_kwh)))
        .collect();
    let want: Vec<(usize, i64)> = days.iter().enumerate().map(|(i, d)| (i, d.1)).collect();
    assert_eq!(bars, want);
    let (r0, r1) = (h.at_midnight[0].1, h.at_midnight[31].1);
    assert_eq!(wh(page.import_kwh), r1.import() - r0.import());
    // The gaps' days, a bar an hour: each hour's import is the hourly export's.
    for d in [date(2026, 3, 10), date(2026, 3, 11), date(2026, 3, 20)] {
        let (a, b) = (midnight(d, &tz), midnight(d.tomorrow().expect("day"), &tz));
        let req = Request {
            kind: PeriodKind::Day,
            ..req
        };
        let page = hearth_app::history::page(&v, &req, a + 3_600).expect("history");
        let bars: Vec<i64> = page.rows.iter().map(|r| wh(r.import_kwh)).collect();
        let hours = exported(&v, a, b, Resolution::Hour, Quantity::ImportWh);
        let want: Vec<i64> = hours.iter().map(|x| x.1).collect();
        assert_eq!(bars, want, "{d}");
    }
}
