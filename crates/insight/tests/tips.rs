//! Tips on synthetic households with known ground truth: a 60 W load added on a date, an
//! evening washing-machine cycle at peak price, a constant base load, a cheaper contract, a
//! capacity peak, solar export, an unusual week, DST nights and a missing week.

mod household;

use hearth_insight::tips::tips;
use hearth_insight::{Money, Tip, TipKind};
use hearth_meter::Reading;
use household::{at, contract, meter, ts, usage};
use jiff::tz::TimeZone;

const AMS: &str = "Europe/Amsterdam";

/// Day/night with a cheap weekend; tax 0.05; no VAT so the arithmetic stays short.
const DAY_NIGHT: &str = r#"
name = "Day/night"
time_zone = "Europe/Amsterdam"
[import]
tax_per_kwh = 0.05
[[import.period]]
name = "night"
days = ["mon", "tue", "wed", "thu", "fri"]
from = "22:00"
to = "07:00"
price_per_kwh = 0.21
[[import.period]]
name = "weekend"
days = ["sat", "sun", "hol"]
price_per_kwh = 0.21
[[import.period]]
name = "day"
price_per_kwh = 0.31
[export]
price_per_kwh = 0.04
"#;

const FLAT_30: &str =
    "name = \"Flat 0.30\"\ntime_zone = \"Europe/Amsterdam\"\n[import]\nprice_per_kwh = 0.30\n";
const FLAT_25: &str =
    "name = \"Flat 0.25\"\ntime_zone = \"Europe/Amsterdam\"\n[import]\nprice_per_kwh = 0.25\n";

/// Deterministic noise in `-amp..=amp` W.
fn noise(seed: i64, amp: i64) -> i64 {
    let x = (seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407)
        >> 33)
        .rem_euclid(2 * amp + 1);
    x - amp
}

/// Local hour of day in Amsterdam of a unix time.
fn hour(u: i64) -> i64 {
    let tz = TimeZone::get(AMS).unwrap();
    i64::from(tz.to_datetime(ts(u)).hour())
}

fn run(
    readings: &[Reading],
    from: i64,
    to: i64,
    contracts: &[&str],
    alternatives: &[&str],
    now: i64,
) -> Vec<Tip> {
    let u = usage(readings, from, to);
    let cs: Vec<_> = contracts.iter().map(|c| contract(c)).collect();
    let alts: Vec<_> = alternatives.iter().map(|c| contract(c)).collect();
    tips(&u, &cs, &alts, ts(now), &TimeZone::get(AMS).unwrap())
}

fn find(tips: &[Tip], kind: TipKind) -> Option<&Tip> {
    tips.iter().find(|t| t.kind == kind)
}

#[test]
fn constant_base_load_costs_what_a_hand_calculation_says() {
    // 200 W all the time for 4 weeks: 200 W × 8760 h = 1752 kWh a year; at 0.25 = 438.00.
    let (f, t) = (at(AMS, "2026-01-05T00:00"), at(AMS, "2026-02-02T00:00"));
    let r = meter(f - 3600, t + 3600, 900, |_| (200, 0));
    let tips = run(&r, f, t, &[FLAT_25], &[], t);
    let base = find(&tips, TipKind::BaseLoad).expect("base load tip");
    assert_eq!(base.evidence.watts, Some(200));
    assert_eq!(base.wh_per_year, 1_752_000);
    assert_eq!(base.money_per_year, Some(Money::units(438)));
    assert_eq!(
        base.evidence.series,
        vec![("2026-01".to_owned(), 200), ("2026-02".to_owned(), 200)]
    );
    // Nothing else to say about a perfectly flat household with one contract.
    assert_eq!(tips.len(), 1, "{tips:#?}");
}

#[test]
fn new_60_w_constant_load_is_found_with_its_date() {
    // 90 days from 5 Jan 2026: 150 W base with ±30 W noise, 800 W extra 18:00-22:00, and
    // from 19 Feb a 60 W device that never switches off.
    // Expected: about 60 W, 60 × 8760 = 525.6 kWh a year.
    let (f, t) = (at(AMS, "2026-01-05T00:00"), at(AMS, "2026-04-05T00:00"));
    let since = at(AMS, "2026-02-19T00:00");
    let r = meter(f - 3600, t + 3600, 900, |u| {
        let evening = if (18..22).contains(&hour(u)) { 800 } else { 0 };
        let extra = if u >= since { 60 } else { 0 };
        (150 + noise(u, 30) + evening + extra, 0)
    });
    let tips = run(&r, f, t, &[FLAT_25], &[], t);
    let tip = find(&tips, TipKind::NewConstantLoad).expect("new constant load tip");
    let w = tip.evidence.watts.unwrap();
    assert!((55..=65).contains(&w), "{w} W");
    assert_eq!(tip.wh_per_year, w * 8_760);
    assert!((480_000..=570_000).contains(&tip.wh_per_year));
    let found = tip.evidence.since.unwrap();
    let days_off = (found - jiff::civil::date(2026, 2, 19)).get_days().abs();
    assert!(days_off <= 2, "since {found}");
    // Money follows the flat price exactly: Wh × 0.25 / 1000.
    assert_eq!(
        tip.money_per_year,
        Some(
            Money::parse("0.00025")
                .unwrap()
                .mul_ratio(i128::from(tip.wh_per_year), 1)
        )
    );
}

#[test]
fn no_new_load_no_tip() {
    let (f, t) = (at(AMS, "2026-01-05T00:00"), at(AMS, "2026-04-05T00:00"));
    let r = meter(f - 3600, t + 3600, 900, |u| (150 + noise(u, 30), 0));
    let tips = run(&r, f, t, &[FLAT_25], &[], t);
    assert!(find(&tips, TipKind::NewConstantLoad).is_none(), "{tips:#?}");
    assert!(find(&tips, TipKind::Unusual).is_none(), "{tips:#?}");
}

#[test]
fn evening_washing_machine_shift_saving_is_exact() {
    // Mon 5 Jan - Mon 2 Feb 2026 (28 days): 200 W base and a 2 kW cycle 19:00-20:00 every day.
    // On the 20 weekdays it runs at day price (0.31 + 0.05 tax) and could run from 22:00 at
    // night price (0.21 + 0.05): 2 kWh × 0.10 = 0.20 each; weekends are already cheap.
    // Saving 20 × 0.20 = 4.00 in 28 days = 4.00 × 365 / 28 = 52.142857142857142857… a year.
    let (f, t) = (at(AMS, "2026-01-05T00:00"), at(AMS, "2026-02-02T00:00"));
    let r = meter(f - 3600, t + 3600, 900, |u| {
        (if hour(u) == 19 { 2_200 } else { 200 }, 0)
    });
    let tips = run(&r, f, t, &[DAY_NIGHT], &[], t);
    let shift: Vec<_> = tips
        .iter()
        .filter(|t| t.kind == TipKind::LoadShift)
        .collect();
    assert_eq!(shift.len(), 1, "{tips:#?}");
    let s = shift[0];
    assert_eq!(
        s.money_per_year,
        Some(Money::parse("52.142857142857142857").unwrap())
    );
    assert_eq!(s.evidence.watts, Some(2_000));
    // 28 cycles of 2 kWh in 28 days -> 730 kWh a year moved.
    assert_eq!(s.wh_per_year, 730_000);
    assert!(s.summary.contains("22:00"), "{}", s.summary);
    assert!(s.summary.contains("€52"), "{}", s.summary);
    // Under a flat price there is nothing to gain: silent.
    let tips = run(&r, f, t, &[FLAT_25], &[], t);
    assert!(find(&tips, TipKind::LoadShift).is_none());
}

#[test]
fn cheaper_contract_is_ranked_with_the_saving() {
    // 200 W for 28 days = 134.4 kWh; a year = 1752 kWh. 0.30 vs 0.25: 525.60 vs 438.00 a year.
    let (f, t) = (at(AMS, "2026-01-05T00:00"), at(AMS, "2026-02-02T00:00"));
    let r = meter(f - 3600, t + 3600, 900, |_| (200, 0));
    let tips = run(&r, f, t, &[FLAT_30], &[FLAT_25], t);
    let tip = find(&tips, TipKind::CheapestContract).expect("cheapest contract tip");
    assert_eq!(tip.money_per_year, Some(Money::parse("87.60").unwrap()));
    let names: Vec<_> = tip
        .evidence
        .contracts
        .iter()
        .map(|c| (c.name.as_str(), c.per_year))
        .collect();
    assert_eq!(
        names,
        vec![
            ("Flat 0.25", Money::units(438)),
            ("Flat 0.30", Money::parse("525.60").unwrap())
        ]
    );
    // Already on the cheapest: silent.
    let tips = run(&r, f, t, &[FLAT_25], &[FLAT_30], t);
    assert!(find(&tips, TipKind::CheapestContract).is_none());
}

#[test]
fn capacity_peak_saving_from_shaving_the_top_quarter_hours() {
    // January 2026 in Brussels: 400 W base, a 3 kW quarter hour at 18:00 every day, and once
    // (10 Jan) 6 kW. Of 2976 quarter hours the 99th percentile (rank 2947, i.e. the 30th
    // highest) is 3 kW. Charge at 6 kW: 53.26 / 12 × 6 = 26.63; at 3 kW: 13.315.
    // Saving 13.315 in 31 days = 13.315 × 365 / 31 = 156.77… a year.
    const BE: &str = "name = \"BE\"\ntime_zone = \"Europe/Brussels\"\n[import]\nprice_per_kwh = 0.30\n[capacity]\nkind = \"monthly-15min-peak\"\nprice_per_kw_year = 53.26\nmin_kw = 2.5\n";
    const BXL: &str = "Europe/Brussels";
    let (f, t) = (at(BXL, "2026-01-01T00:00"), at(BXL, "2026-02-01T00:00"));
    let big = at(BXL, "2026-01-10T18:00");
    let tz = TimeZone::get(BXL).unwrap();
    let r = meter(f - 3600, t + 3600, 900, |u| {
        let dt = tz.to_datetime(ts(u));
        let w = if u == big {
            6_000
        } else if dt.hour() == 18 && dt.minute() == 0 {
            3_000
        } else {
            400
        };
        (w, 0)
    });
    let u = usage(&r, f, t);
    let tips = tips(&u, &[contract(BE)], &[], ts(t), &tz);
    let tip = find(&tips, TipKind::CapacityPeak).expect("capacity tip");
    assert_eq!(tip.money_per_year.map(Money::cents), Some(15_677));
    assert_eq!(tip.evidence.watts, Some(6_000));
    assert_eq!(tip.evidence.times, vec![big]);
}

#[test]
fn solar_export_and_evening_loads() {
    // 28 days: export 1.5 kW 10:00-15:00 (7.5 kWh/day at 0.04), 200 W base otherwise and a
    // 2 kW cycle at 19:00. Moving the 2 kWh into sunny hours saves its import price minus the
    // export credit: weekdays 2 × (0.36 - 0.04) = 0.64, weekends 2 × (0.26 - 0.04) = 0.44.
    // 20 × 0.64 + 8 × 0.44 = 16.32 in 28 days = 212.742857142857142857… a year.
    let (f, t) = (at(AMS, "2026-01-05T00:00"), at(AMS, "2026-02-02T00:00"));
    let r = meter(f - 3600, t + 3600, 900, |u| match hour(u) {
        10..=14 => (0, 1_500),
        19 => (2_200, 0),
        _ => (200, 0),
    });
    let tips = run(&r, f, t, &[DAY_NIGHT], &[], t);
    let tip = find(&tips, TipKind::Solar).expect("solar tip");
    assert_eq!(
        tip.money_per_year,
        Some(Money::parse("212.742857142857142857").unwrap())
    );
    assert!(
        tip.summary.contains("between 10:00 and 15:00"),
        "{}",
        tip.summary
    );
    // With net metering exporting already earns the import price: silent.
    let net = DAY_NIGHT.replace(
        "price_per_kwh = 0.04",
        "price_per_kwh = 0.04\nnet_metering = true",
    );
    let tips = run(&r, f, t, &[&net], &[], t);
    assert!(find(&tips, TipKind::Solar).is_none());
}

#[test]
fn unusual_week_is_flagged_and_quantified() {
    // Six ordinary weeks (300 W ± 100 W noise, 1 kW extra 18:00-22:00), then a week with
    // 1.5 kW more from 08:00 to 16:00: 12 kWh a day, 84 kWh in the week.
    let (f, t) = (at(AMS, "2026-01-05T00:00"), at(AMS, "2026-02-23T00:00"));
    let odd = at(AMS, "2026-02-16T00:00");
    let r = meter(f - 3600, t + 3600, 900, |u| {
        let h = hour(u);
        let evening = if (18..22).contains(&h) { 1_000 } else { 0 };
        let extra = if u >= odd && (8..16).contains(&h) {
            1_500
        } else {
            0
        };
        (300 + noise(u, 100) + evening + extra, 0)
    });
    let tips = run(&r, f, t, &[FLAT_25], &[], t);
    let tip = find(&tips, TipKind::Unusual).expect("unusual tip");
    // About 84 kWh more in the week (noise moves it a little): 84 × 365/7 = 4380 kWh a year.
    assert!(
        (4_200_000..=4_560_000).contains(&tip.wh_per_year),
        "{}",
        tip.wh_per_year
    );
    assert!(tip.confidence >= 0.5);
    // Every flagged hour is one of the extra daytime hours.
    for time in &tip.evidence.times {
        assert!((8..16).contains(&hour(*time)));
    }
}

#[test]
fn dst_nights_and_a_missing_week_do_not_invent_anything() {
    // 8 weeks over the spring DST change (29 March 2026), 250 W ± 20 W, with no readings at
    // all from 1 to 8 April. The base load stays 250 W-ish, nothing new or unusual appears.
    let (f, t) = (at(AMS, "2026-03-02T00:00"), at(AMS, "2026-04-27T00:00"));
    let (g0, g1) = (at(AMS, "2026-04-01T00:00"), at(AMS, "2026-04-08T00:00"));
    let r: Vec<Reading> = meter(f - 3600, t + 3600, 900, |u| (250 + noise(u, 20), 0))
        .into_iter()
        .filter(|r| {
            let u = r.time.unwrap().unix;
            u <= g0 || u >= g1
        })
        .collect();
    let u = usage(&r, f, t);
    assert_eq!(u.stats.gaps, 1);
    let tips = tips(
        &u,
        &[contract(FLAT_25)],
        &[],
        ts(t),
        &TimeZone::get(AMS).unwrap(),
    );
    let kinds: Vec<_> = tips.iter().map(|t| t.kind).collect();
    assert_eq!(kinds, vec![TipKind::BaseLoad], "{tips:#?}");
    let w = tips[0].evidence.watts.unwrap();
    assert!((230..=250).contains(&w), "{w}");
}

#[test]
fn norwegian_capacity_step_saving() {
    // January 2026 in Oslo: 1 kW base, 2 kW from 18:00 to 19:00 every day, and 6 kW for one
    // hour on 5, 12 and 20 January. Top-3 mean 6 kW -> step "up to 10 kW" = 300 NOK. With no
    // day's peak above a typical day's (the median daily peak, 2 kW) it would be "up to 2 kW"
    // = 130 NOK: 170 NOK a month, 170 × 365 / 31 = 2001.61 NOK a year.
    const NO: &str = "name = \"NO\"\ncurrency = \"NOK\"\ntime_zone = \"Europe/Oslo\"\n[import]\nprice_per_kwh = 1.0\n[capacity]\nkind = \"top3-daily-hourly-peaks\"\nsteps = [{ up_to_kw = 2, per_month = 130 }, { up_to_kw = 5, per_month = 190 }, { up_to_kw = 10, per_month = 300 }]\n";
    const OSL: &str = "Europe/Oslo";
    let tz = TimeZone::get(OSL).unwrap();
    let (f, t) = (at(OSL, "2026-01-01T00:00"), at(OSL, "2026-02-01T00:00"));
    let big = [
        at(OSL, "2026-01-05T08:00"),
        at(OSL, "2026-01-12T08:00"),
        at(OSL, "2026-01-20T08:00"),
    ];
    let r = meter(f - 3600, t + 3600, 900, |u| {
        let w = if big.iter().any(|b| (*b..*b + 3600).contains(&u)) {
            6_000
        } else if tz.to_datetime(ts(u)).hour() == 18 {
            2_000
        } else {
            1_000
        };
        (w, 0)
    });
    let u = usage(&r, f, t);
    let tips = tips(&u, &[contract(NO)], &[], ts(t), &tz);
    let tip = find(&tips, TipKind::CapacityPeak).expect("capacity tip");
    assert_eq!(tip.money_per_year.map(Money::cents), Some(200_161));
    assert_eq!(tip.currency.as_deref(), Some("NOK"));
    assert_eq!(tip.evidence.times, big.to_vec());
    assert_eq!(tip.evidence.watts, Some(6_000));
}

#[test]
fn too_little_data_gives_no_tips() {
    // Six days of a household that would otherwise earn a base-load and a contract tip.
    let (f, t) = (at(AMS, "2026-01-05T00:00"), at(AMS, "2026-01-11T00:00"));
    let r = meter(f - 3600, t + 3600, 900, |_| (200, 0));
    assert!(run(&r, f, t, &[FLAT_30], &[FLAT_25], t).is_empty());
    // No readings at all over a year: nothing, not an absurd yearly figure.
    let (f, t) = (at(AMS, "2025-01-01T00:00"), at(AMS, "2026-01-01T00:00"));
    assert!(run(&[], f, t, &[FLAT_30], &[FLAT_25], t).is_empty());
}
