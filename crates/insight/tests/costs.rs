//! Costs against hand calculations: time of use, DST days, a month boundary, a gap, a meter
//! swap, holidays, capacity tariffs, dynamic prices, export and net metering.

mod household;

use hearth_insight::cost::price;
use hearth_insight::{Cost, PricingError, report};
use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use household::{at, contract, meter, ts, usage};

const AMS: &str = "Europe/Amsterdam";

/// Day/night for weekdays, cheap weekends and holidays; tax, VAT and fixed charges.
const DAY_NIGHT: &str = r#"
name = "Day/night"
currency = "EUR"
time_zone = "Europe/Amsterdam"
vat_percent = 21
holidays = [2026-12-25]

[fixed]
per_day = 0.50
per_month = 3.10

[import]
tax_per_kwh = 0.10
[[import.period]]
name = "night"
days = ["mon", "tue", "wed", "thu", "fri"]
from = "23:00"
to = "07:00"
price_per_kwh = 0.20
[[import.period]]
name = "weekend"
days = ["sat", "sun", "hol"]
price_per_kwh = 0.20
[[import.period]]
name = "day"
price_per_kwh = 0.30
"#;

fn bill(
    toml: &str,
    zone: &str,
    from: &str,
    to: &str,
    power: impl FnMut(i64) -> (i64, i64),
) -> Cost {
    let (f, t) = (at(zone, from), at(zone, to));
    let readings = meter(f - 3600, t + 3600, 900, power);
    let u = usage(&readings, f, t);
    price(&u, &contract(toml), ts(f), ts(t)).unwrap()
}

fn cents(m: hearth_insight::Money) -> i64 {
    m.cents()
}

#[test]
fn weekday_day_night_with_tax_fixed_and_vat() {
    // Monday 5 Jan 2026, 400 W all day = 9.6 kWh.
    // night 00-07 + 23-24 = 8 h = 3.2 kWh × 0.20 = 0.64; day 16 h = 6.4 kWh × 0.30 = 1.92.
    // energy 2.56; tax 9.6 × 0.10 = 0.96; fixed 0.50 + 3.10 × 1/31 = 0.60.
    // before VAT 4.12; VAT 21 % = 0.8652; total 4.9852.
    let c = bill(
        DAY_NIGHT,
        AMS,
        "2026-01-05T00:00",
        "2026-01-06T00:00",
        |_| (400, 0),
    );
    assert_eq!(c.import_mwh, 9_600_000);
    assert_eq!(c.energy, hearth_insight::Money::parse("2.56").unwrap());
    assert_eq!(c.tax, hearth_insight::Money::parse("0.96").unwrap());
    assert_eq!(c.fixed, hearth_insight::Money::parse("0.60").unwrap());
    assert_eq!(c.vat, hearth_insight::Money::parse("0.8652").unwrap());
    assert_eq!(c.total, hearth_insight::Money::parse("4.9852").unwrap());
    assert_eq!(cents(c.total), 499);
    let names: Vec<_> = c
        .periods
        .iter()
        .map(|p| (p.name.as_str(), p.import_mwh))
        .collect();
    assert_eq!(
        names,
        vec![("night", 3_200_000), ("weekend", 0), ("day", 6_400_000)]
    );
}

const SUNDAY_NIGHT: &str = r#"
name = "Sunday night"
time_zone = "Europe/Amsterdam"
[import]
[[import.period]]
name = "night"
from = "00:00"
to = "07:00"
price_per_kwh = 0.20
[[import.period]]
name = "day"
price_per_kwh = 0.30
"#;

#[test]
fn spring_dst_day_has_23_hours() {
    // Sunday 29 March 2026: 02:00 -> 03:00. 1 kW all day = 23 kWh.
    // Local 00:00-07:00 is 6 real hours: 6 kWh × 0.20 = 1.20; 07:00-24:00 = 17 kWh × 0.30 = 5.10.
    let c = bill(
        SUNDAY_NIGHT,
        AMS,
        "2026-03-29T00:00",
        "2026-03-30T00:00",
        |_| (1_000, 0),
    );
    assert_eq!(c.import_mwh, 23_000_000);
    assert_eq!(c.periods[0].import_mwh, 6_000_000);
    assert_eq!(c.energy, hearth_insight::Money::parse("6.30").unwrap());
}

#[test]
fn autumn_dst_day_has_25_hours() {
    // Sunday 25 October 2026: 03:00 -> 02:00. 1 kW all day = 25 kWh.
    // Local 00:00-07:00 is 8 real hours: 8 × 0.20 = 1.60; 07:00-24:00 = 17 × 0.30 = 5.10.
    let c = bill(
        SUNDAY_NIGHT,
        AMS,
        "2026-10-25T00:00",
        "2026-10-26T00:00",
        |_| (1_000, 0),
    );
    assert_eq!(c.import_mwh, 25_000_000);
    assert_eq!(c.periods[0].import_mwh, 8_000_000);
    assert_eq!(c.energy, hearth_insight::Money::parse("6.70").unwrap());
}

#[test]
fn dst_day_fixed_charges_are_whole_days() {
    // The 23-hour day still pays one whole day: 0.50 + 3.10/31 = 0.60.
    let c = bill(
        DAY_NIGHT,
        AMS,
        "2026-03-29T00:00",
        "2026-03-30T00:00",
        |_| (0, 0),
    );
    assert_eq!(c.fixed, hearth_insight::Money::parse("0.60").unwrap());
}

#[test]
fn month_boundary_pays_each_month_pro_rata() {
    const T: &str = "name = \"m\"\ntime_zone = \"Europe/Amsterdam\"\n[fixed]\nper_month = 2.80\n[import]\nprice_per_kwh = 0.25\n";
    // 31 Jan + 1 Feb 2026: 2.80/31 + 2.80/28 = 0.0903225806… + 0.10 = 0.1903225806…
    let c = bill(T, AMS, "2026-01-31T00:00", "2026-02-02T00:00", |_| (0, 0));
    assert_eq!(cents(c.fixed), 19);
    assert!(c.fixed > hearth_insight::Money::parse("0.190322580645").unwrap());
    assert!(c.fixed < hearth_insight::Money::parse("0.190322580646").unwrap());
}

#[test]
fn holiday_counts_as_hol_not_as_its_weekday() {
    // Friday 25 Dec 2026 is a holiday: 500 W × 24 h = 12 kWh all at the weekend price 0.20.
    let hol = bill(
        DAY_NIGHT,
        AMS,
        "2026-12-25T00:00",
        "2026-12-26T00:00",
        |_| (500, 0),
    );
    assert_eq!(hol.energy, hearth_insight::Money::parse("2.40").unwrap());
    // Friday 18 Dec is a plain weekday: 8 h night (4 kWh × 0.20) + 16 h day (8 kWh × 0.30) = 3.20.
    let fri = bill(
        DAY_NIGHT,
        AMS,
        "2026-12-18T00:00",
        "2026-12-19T00:00",
        |_| (500, 0),
    );
    assert_eq!(fri.energy, hearth_insight::Money::parse("3.20").unwrap());
}

#[test]
fn gap_is_exact_in_total_and_reported_as_estimated() {
    // Monday 5 Jan 2026: 1 kW, but no readings from 10:00 to 14:00 while the register grows
    // by 8 kWh (2 kW on average). Day total = 20 h × 1 kW + 8 kWh = 28 kWh, 8 of it estimated.
    let (f, t) = (at(AMS, "2026-01-05T00:00"), at(AMS, "2026-01-06T00:00"));
    let (g0, g1) = (at(AMS, "2026-01-05T10:00"), at(AMS, "2026-01-05T14:00"));
    let readings: Vec<Reading> = meter(f, t, 900, |u| {
        if (g0..g1).contains(&u) {
            (2_000, 0)
        } else {
            (1_000, 0)
        }
    })
    .into_iter()
    .filter(|r| {
        let u = r.time.unwrap().unix;
        u <= g0 || u >= g1
    })
    .collect();
    let u = usage(&readings, f, t);
    let r = report(&u, &[contract(DAY_NIGHT)], ts(f), ts(t)).unwrap();
    assert_eq!(r.import_mwh, 28_000_000);
    assert_eq!(r.estimated_mwh, 8_000_000);
    assert_eq!(u.stats.gaps, 1);
    // All of it is day energy except 8 h of night at 1 kW: 8 × 0.20 + 20 × 0.30 = 7.60.
    assert_eq!(
        r.contracts[0].cost.energy,
        hearth_insight::Money::parse("7.60").unwrap()
    );
}

#[test]
fn meter_swap_never_books_negative_energy() {
    // 1 kW on Monday 5 Jan 2026; at 12:00 the meter is replaced and its register restarts
    // at 0. The quarter hour across the swap is unknown (not booked): 24 kWh - 0.25 kWh.
    let (f, t) = (at(AMS, "2026-01-05T00:00"), at(AMS, "2026-01-06T00:00"));
    let swap = at(AMS, "2026-01-05T12:00");
    let mut readings = meter(f, t, 900, |_| (1_000, 0));
    for r in readings.iter_mut() {
        let u = r.time.unwrap().unix;
        if u >= swap {
            // The new meter starts at 0 at the swap.
            let wh = (u - swap) * 1_000 / 3600;
            r.set(Quantity::ImportWh, wh);
        }
    }
    let u = usage(&readings, f, t);
    assert_eq!(u.stats.resets, 1);
    let c = price(&u, &contract(DAY_NIGHT), ts(f), ts(t)).unwrap();
    assert_eq!(c.import_mwh, 23_750_000);
}

const BELGIAN: &str = r#"
name = "Belgian capacity"
time_zone = "Europe/Brussels"
[import]
price_per_kwh = 0.30
[capacity]
kind = "monthly-15min-peak"
price_per_kw_year = 53.26
min_kw = 2.5
"#;

#[test]
fn belgian_monthly_peak_and_minimum() {
    const BXL: &str = "Europe/Brussels";
    let spike = at(BXL, "2026-01-10T18:00");
    // January: 400 W base and one quarter hour at 5 kW mean -> peak 5.0 kW.
    // capacity = 53.26 / 12 × 5.0 = 22.191666… -> 22.19.
    let c = bill(BELGIAN, BXL, "2026-01-01T00:00", "2026-02-01T00:00", |u| {
        (if u == spike { 5_000 } else { 400 }, 0)
    });
    assert_eq!(c.months.len(), 1);
    assert_eq!(c.months[0].demand_w, 5_000);
    assert_eq!(c.months[0].peaks, vec![spike]);
    assert_eq!(cents(c.capacity), 2_219);
    // February below the minimum: 2.5 kW × 53.26 / 12 = 11.095833… -> 11.10.
    let c = bill(BELGIAN, BXL, "2026-02-01T00:00", "2026-03-01T00:00", |_| {
        (400, 0)
    });
    assert_eq!(c.months[0].demand_w, 400);
    assert_eq!(
        c.capacity,
        hearth_insight::Money::parse("11.095833333333333333").unwrap()
    );
    // Half of February (14 of 28 days) pays half: 5.5479166… -> 5.55.
    let c = bill(BELGIAN, BXL, "2026-02-01T00:00", "2026-02-15T00:00", |_| {
        (400, 0)
    });
    assert_eq!(cents(c.capacity), 555);
}

const NORWAY: &str = r#"
name = "Norwegian grid"
currency = "NOK"
time_zone = "Europe/Oslo"
[import]
price_per_kwh = 1.00
[capacity]
kind = "top3-daily-hourly-peaks"
steps = [{ up_to_kw = 2, per_month = 130 }, { up_to_kw = 5, per_month = 190 }, { up_to_kw = 10, per_month = 300 }]
"#;

#[test]
fn norwegian_top3_on_different_days() {
    const OSL: &str = "Europe/Oslo";
    let hours = [
        (at(OSL, "2026-01-05T17:00"), 6_000),
        (at(OSL, "2026-01-05T19:00"), 5_000), // same day as the 6 kW hour: does not count
        (at(OSL, "2026-01-12T18:00"), 4_000),
        (at(OSL, "2026-01-20T07:00"), 3_500),
        (at(OSL, "2026-01-21T07:00"), 3_000), // fourth day: not in the top 3
    ];
    let p = move |u: i64| {
        let w = hours
            .iter()
            .find(|(h, _)| (*h..*h + 3600).contains(&u))
            .map_or(1_000, |x| x.1);
        (w, 0)
    };
    // Mean of 6, 4 and 3.5 kW = 4.5 kW -> step up to 5 kW: 190 NOK.
    let c = bill(NORWAY, OSL, "2026-01-01T00:00", "2026-02-01T00:00", p);
    assert_eq!(c.months[0].demand_w, 4_500);
    assert_eq!(c.months[0].peaks, vec![hours[0].0, hours[2].0, hours[3].0]);
    assert_eq!(c.capacity, hearth_insight::Money::units(190));
    // A mean above every step pays the last one: 12 kW all month -> 300.
    let c = bill(NORWAY, OSL, "2026-01-01T00:00", "2026-02-01T00:00", |_| {
        (12_000, 0)
    });
    assert_eq!(c.capacity, hearth_insight::Money::units(300));
}

#[test]
fn dynamic_prices_with_markup_and_a_missing_price() {
    let mut files = hearth_insight::PriceFiles::new();
    files.insert(
        "prices.csv",
        "start,price_per_kwh\n2026-01-05T00:00:00+01:00,0.10\n2026-01-05T01:00:00+01:00,-0.05\n",
    );
    let toml = "name = \"Dynamic\"\ntime_zone = \"Europe/Amsterdam\"\n[import]\nprices_csv = \"prices.csv\"\nmarkup_per_kwh = 0.02\n";
    let c = hearth_insight::Contract::parse_with_prices(toml, &files).unwrap();
    let (f, t) = (at(AMS, "2026-01-05T00:00"), at(AMS, "2026-01-05T02:00"));
    let readings = meter(f, t, 900, |_| (1_000, 0));
    // 1 kWh × (0.10 + 0.02) + 1 kWh × (-0.05 + 0.02) = 0.12 - 0.03 = 0.09.
    let cost = price(&usage(&readings, f, t), &c, ts(f), ts(t)).unwrap();
    assert_eq!(cost.energy, hearth_insight::Money::parse("0.09").unwrap());
    // One more hour has energy but no price.
    let readings = meter(f, t + 3600, 900, |_| (1_000, 0));
    let err = price(&usage(&readings, f, t + 3600), &c, ts(f), ts(t + 3600)).unwrap_err();
    assert_eq!(
        err,
        PricingError::NoPrice {
            contract: "Dynamic".into(),
            side: "import",
            at: "2026-01-05T02:00:00+01:00".into()
        }
    );
}

const SOLAR: &str = r#"
name = "Solar"
time_zone = "Europe/Amsterdam"
[import]
tax_per_kwh = 0.10
[[import.period]]
name = "night"
from = "23:00"
to = "07:00"
price_per_kwh = 0.20
[[import.period]]
name = "day"
price_per_kwh = 0.30
[export]
price_per_kwh = 0.04
net_metering = NET
"#;

#[test]
fn export_credit_and_net_metering_by_period_name() {
    // Monday 5 Jan 2026. 10:00-15:00 export 600 W (3 kWh); 15:00-20:00 import 1 kW (5 kWh);
    // 00:00-02:00 import 1 kW (2 kWh, night).
    let p = |u: i64| {
        let h = (u - at(AMS, "2026-01-05T00:00")) / 3600;
        match h {
            0..=1 => (1_000, 0),
            10..=14 => (0, 600),
            15..=19 => (1_000, 0),
            _ => (0, 0),
        }
    };
    // Without net metering: energy 2 × 0.20 + 5 × 0.30 = 1.90; tax 7 × 0.10 = 0.70; credit 3 × 0.04 = 0.12.
    let c = bill(
        &SOLAR.replace("NET", "false"),
        AMS,
        "2026-01-05T00:00",
        "2026-01-06T00:00",
        p,
    );
    assert_eq!(c.energy, hearth_insight::Money::parse("1.90").unwrap());
    assert_eq!(c.tax, hearth_insight::Money::parse("0.70").unwrap());
    assert_eq!(
        c.export_credit,
        hearth_insight::Money::parse("0.12").unwrap()
    );
    assert_eq!(c.total, hearth_insight::Money::parse("2.48").unwrap());
    // Net metering: the 3 kWh exported in "day" cancel 3 of the 5 day kWh; night is untouched.
    // energy 2 × 0.20 + 2 × 0.30 = 1.00; tax 4 × 0.10 = 0.40; credit 0.
    let c = bill(
        &SOLAR.replace("NET", "true"),
        AMS,
        "2026-01-05T00:00",
        "2026-01-06T00:00",
        p,
    );
    assert_eq!(c.energy, hearth_insight::Money::parse("1.00").unwrap());
    assert_eq!(c.tax, hearth_insight::Money::parse("0.40").unwrap());
    assert_eq!(c.export_credit, hearth_insight::Money::ZERO);
    assert_eq!(c.total, hearth_insight::Money::parse("1.40").unwrap());
}

#[test]
fn meter_tariff_periods_follow_the_registers() {
    let toml = r#"
name = "Meter switch"
time_zone = "Europe/Amsterdam"
[import]
[[import.period]]
name = "low"
meter_tariff = 1
price_per_kwh = 0.20
[[import.period]]
name = "normal"
meter_tariff = 2
price_per_kwh = 0.30
"#;
    let (f, t) = (at(AMS, "2026-01-05T00:00"), at(AMS, "2026-01-05T02:00"));
    // First hour registers 1 kWh on tariff 1, the second 2 kWh on tariff 2.
    let mk = |u: i64, t1: i64, t2: i64| {
        let mut r = Reading::new(Protocol::Dsmr);
        r.time = Some(MeterTime::utc(u));
        r.set(Quantity::ImportT1Wh, t1);
        r.set(Quantity::ImportT2Wh, t2);
        r
    };
    let readings = [
        mk(f, 500, 700),
        mk(f + 3600, 1_500, 700),
        mk(t, 1_500, 2_700),
    ];
    // 1 × 0.20 + 2 × 0.30 = 0.80.
    let c = price(&usage(&readings, f, t), &contract(toml), ts(f), ts(t)).unwrap();
    assert_eq!(c.energy, hearth_insight::Money::parse("0.80").unwrap());
    assert_eq!(c.untagged_mwh, 0);
    // Readings with only a total: priced by the first period ("low", 2 kWh × 0.20), and said so.
    let readings = meter(f, t, 900, |_| (1_000, 0));
    let c = price(&usage(&readings, f, t), &contract(toml), ts(f), ts(t)).unwrap();
    assert_eq!(c.untagged_mwh, 2_000_000);
    assert_eq!(c.energy, hearth_insight::Money::parse("0.40").unwrap());
}

#[test]
fn validity_clips_the_priced_range() {
    // Valid from 6 Jan: of a two-day range at 1 kW only the second day (24 kWh × 0.25 = 6.00) is priced.
    let toml = "name = \"New\"\ntime_zone = \"Europe/Amsterdam\"\nvalid_from = 2026-01-06\n[import]\nprice_per_kwh = 0.25\n";
    let c = bill(toml, AMS, "2026-01-05T00:00", "2026-01-07T00:00", |_| {
        (1_000, 0)
    });
    assert_eq!(
        c.priced,
        (at(AMS, "2026-01-06T00:00"), at(AMS, "2026-01-07T00:00"))
    );
    assert_eq!(c.energy, hearth_insight::Money::units(6));
    let old = "name = \"Old\"\ntime_zone = \"Europe/Amsterdam\"\nvalid_to = 2026-01-01\n[import]\nprice_per_kwh = 0.25\n";
    let c = bill(old, AMS, "2026-01-05T00:00", "2026-01-07T00:00", |_| {
        (1_000, 0)
    });
    assert_eq!(c.total, hearth_insight::Money::ZERO);
}
