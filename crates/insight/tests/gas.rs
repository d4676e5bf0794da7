//! Gas priced as on the bill (`[gas]`, design §5) against hand calculations: hourly gas
//! readings split by time across a price boundary, a missing hour, a gas meter swap and an
//! impossible jump, standing charges per day and per month pro rata, VAT on the sum, a
//! contract without `[gas]`, gas from vault rollups, and contract files that are refused.

mod household;

use hearth_insight::cost::price;
use hearth_insight::{
    Contract, ContractError, Money, ReadingSpan, Rollup, RollupRow, Usage, UsageOptions, report,
};
use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use household::{at, contract, ts};

const AMS: &str = "Europe/Amsterdam";

/// A DSMR telegram at `t`: electricity registers, and the gas register `dm3` as captured at
/// `gas_at` (a DSMR meter repeats its last gas capture in every telegram).
fn telegram(t: i64, import_wh: i64, gas_at: i64, dm3: i64) -> Reading {
    let mut r = Reading::new(Protocol::Dsmr);
    r.time = Some(MeterTime::utc(t));
    r.set(Quantity::ImportWh, import_wh);
    r.set(Quantity::ExportWh, 0);
    r.gas_time = Some(MeterTime::utc(gas_at));
    r.set(Quantity::GasDm3, dm3);
    r
}

/// A reading with only a gas register, captured at `t`.
fn gas(t: i64, dm3: i64) -> Reading {
    let mut r = Reading::new(Protocol::Dsmr);
    r.time = Some(MeterTime::utc(t));
    r.set(Quantity::GasDm3, dm3);
    r
}

fn money(s: &str) -> Money {
    Money::parse(s).unwrap()
}

/// Before 6 January 2026: gas at 1.00 + 0.50 tax per m³.
const GAS_OLD: &str = r#"
name = "Gas 2025"
time_zone = "Europe/Amsterdam"
valid_to = 2026-01-06
[import]
price_per_kwh = 0.25
[gas]
price_per_m3 = 1.00
tax_per_m3 = 0.50
"#;

/// From 6 January 2026: gas at 1.50 + 0.50 tax per m³.
const GAS_NEW: &str = r#"
name = "Gas 2026"
time_zone = "Europe/Amsterdam"
valid_from = 2026-01-06
[import]
price_per_kwh = 0.25
[gas]
price_per_m3 = 1.50
tax_per_m3 = 0.50
"#;

#[test]
fn hourly_gas_is_split_by_time_across_a_price_boundary() {
    // Gas captured every hour on the half hour (local): 22:30 1000.000 m³, 23:30 1000.600,
    // 00:30 1001.400, 01:30 1001.800. Telegrams every 5 minutes repeat the last capture.
    let cap = |h: &str| at(AMS, h);
    let captures = [
        (cap("2026-01-05T22:30"), 1_000_000),
        (cap("2026-01-05T23:30"), 1_000_600),
        (cap("2026-01-06T00:30"), 1_001_400),
        (cap("2026-01-06T01:30"), 1_001_800),
    ];
    let (from, to) = (cap("2026-01-05T22:00"), cap("2026-01-06T02:00"));
    let mut readings = Vec::new();
    let mut t = captures[0].0 + 10;
    while t < to + 3_600 {
        let &(gas_at, dm3) = captures.iter().rev().find(|c| c.0 <= t).unwrap();
        readings.push(telegram(t, 5_000, gas_at, dm3));
        t += 300;
    }
    let u = Usage::from_readings(&readings, ts(from), ts(to), UsageOptions::default());
    // Per quarter hour from 22:00: nothing before the first capture; 22:30-23:30 holds 600 dm³
    // (150 each), 23:30-00:30 800 dm³ (200 each), 00:30-01:30 400 dm³ (100 each), and nothing
    // after the last capture.
    let per_q: Vec<i64> = u.slots().iter().map(|s| s.gas_cm3 / 1_000).collect();
    assert_eq!(
        per_q,
        [
            0, 0, 150, 150, 150, 150, 200, 200, 200, 200, 100, 100, 100, 100, 0, 0
        ]
    );
    let (old, new) = (contract(GAS_OLD), contract(GAS_NEW));
    let r = report(&u, &[old, new], ts(from), ts(to)).unwrap();
    assert_eq!(r.gas_cm3, 1_800_000, "600 + 800 + 400 dm³");
    // Before midnight: 600 + 400 (half of the 23:30-00:30 hour) = 1.000 m³ × 1.50 = 1.50.
    let c = &r.contracts[0].cost;
    assert_eq!((c.gas_cm3, c.gas), (1_000_000, money("1.50")));
    // After midnight: 400 + 400 = 0.800 m³ × 2.00 = 1.60.
    let c = &r.contracts[1].cost;
    assert_eq!((c.gas_cm3, c.gas), (800_000, money("1.60")));
    // No electricity was used (a constant register): the totals are the gas; no VAT.
    assert_eq!(c.total, money("1.60"));
    assert_eq!(c.electricity_total, Money::ZERO);
}

const GAS_FLAT: &str = r#"
name = "Gas flat"
time_zone = "Europe/Amsterdam"
[import]
price_per_kwh = 0.25
[gas]
price_per_m3 = 1.00
"#;

#[test]
fn a_missing_hour_is_split_by_time() {
    // Hourly readings at 10:00 (500.000 m³), 11:00 (500.300) and 13:00 (501.200): the 12:00
    // reading is missing, so the 900 dm³ of 11:00-13:00 are 450 dm³ an hour, 112.5 dm³ (112 500
    // cm³) a quarter hour.
    let h = |x: &str| at(AMS, &format!("2026-03-02T{x}"));
    let readings = [
        gas(h("10:00"), 500_000),
        gas(h("11:00"), 500_300),
        gas(h("13:00"), 501_200),
    ];
    let (from, to) = (h("10:00"), h("13:00"));
    let u = Usage::from_readings(readings, ts(from), ts(to), UsageOptions::default());
    let per_q: Vec<i64> = u.slots().iter().map(|s| s.gas_cm3).collect();
    let mut want = vec![75_000; 4];
    want.extend([112_500; 8]);
    assert_eq!(per_q, want);
    // 1.200 m³ × 1.00.
    let c = price(&u, &contract(GAS_FLAT), ts(from), ts(to)).unwrap();
    assert_eq!(
        (c.gas_cm3, c.gas, c.total),
        (1_200_000, money("1.2"), money("1.2"))
    );
    // A range that ends at 12:30 gets 300 + 1.5 × 450 = 975 dm³.
    let c = price(&u, &contract(GAS_FLAT), ts(from), ts(h("12:30"))).unwrap();
    assert_eq!(c.gas, money("0.975"));
}

#[test]
fn a_gas_meter_swap_and_an_impossible_jump_book_nothing() {
    // 10:00 5000.000 m³ -> 11:00 5000.500 (500 dm³); 12:00 3.000: the register went down (a new
    // gas meter), nothing booked; 13:00 3.200 (200 dm³); 14:00 103.200: 100 m³ in an hour is
    // more than a household meter passes (40 m³/h), refused; 15:00 103.300 (100 dm³).
    let h = |x: &str| at(AMS, &format!("2026-03-02T{x}"));
    let readings = [
        gas(h("10:00"), 5_000_000),
        gas(h("11:00"), 5_000_500),
        gas(h("12:00"), 3_000),
        gas(h("13:00"), 3_200),
        gas(h("14:00"), 103_200),
        gas(h("15:00"), 103_300),
    ];
    let (from, to) = (h("10:00"), h("15:00"));
    let u = Usage::from_readings(readings, ts(from), ts(to), UsageOptions::default());
    let hourly: Vec<i64> = u
        .slots()
        .chunks(4)
        .map(|q| q.iter().map(|s| s.gas_cm3).sum::<i64>() / 1_000)
        .collect();
    assert_eq!(hourly, [500, 0, 200, 0, 100]);
    assert!(u.slots().iter().all(|s| s.gas_cm3 >= 0));
    assert_eq!((u.stats.gas_resets, u.stats.gas_implausible), (1, 1));
    // 0.800 m³ × 1.00.
    let c = price(&u, &contract(GAS_FLAT), ts(from), ts(to)).unwrap();
    assert_eq!(c.gas, money("0.8"));
}

/// Gas with standing charges per day and per month, VAT 21 %; electricity without charges.
const GAS_STANDING: &str = r#"
name = "Gas with standing charges"
time_zone = "Europe/Amsterdam"
vat_percent = 21
[import]
price_per_kwh = 0.25
[gas]
price_per_m3 = 1.05
tax_per_m3 = 0.70
per_day = 0.20
per_month = 6.20
"#;

#[test]
fn standing_charges_per_day_and_month_pro_rata_and_vat_on_the_sum() {
    // Two gas readings 72 hours apart, local midnights 30 January and 2 February 2026: 7.200 m³
    // split by time, 2.400 m³ a day. Priced over 30 January to 2 February (3 days):
    //   gas m³     7.2 × (1.05 + 0.70)                     = 12.60
    //   per day    3 × 0.20                                =  0.60
    //   per month  6.20 × 2/31 (January) = 0.40, 6.20 × 1/28 (February) = 0.22142857142857142857…
    //              rounded at 10⁻¹⁸                        =  0.221428571428571429
    //   gas                                                = 13.821428571428571429
    //   VAT 21 %   2.90250000000000000009 rounded          =  2.9025
    //   total                                              = 16.723928571428571429
    let (from, to) = (at(AMS, "2026-01-30T00:00"), at(AMS, "2026-02-02T00:00"));
    let readings = [gas(from, 10_000), gas(to, 17_200)];
    let u = Usage::from_readings(readings, ts(from), ts(to), UsageOptions::default());
    let daily: Vec<i64> = u
        .slots()
        .chunks(96)
        .map(|d| d.iter().map(|s| s.gas_cm3).sum())
        .collect();
    assert_eq!(daily, [2_400_000; 3]);
    let c = price(&u, &contract(GAS_STANDING), ts(from), ts(to)).unwrap();
    assert_eq!(c.gas, money("13.821428571428571429"));
    assert_eq!(c.vat, money("2.9025"));
    assert_eq!(c.total, money("16.723928571428571429"));
    assert_eq!(
        (c.gas.cents(), c.vat.cents(), c.total.cents()),
        (1382, 290, 1672)
    );
    assert_eq!(
        c.fixed,
        Money::ZERO,
        "gas standing charges are gas, not [fixed]"
    );
    // The last 12 hours of 1 February alone: 1.2 m³ × 1.75 = 2.10, half a day 0.10, half of
    // February's 1/28: 6.20/56 = 0.110714285714285714285… -> 0.110714285714285714; 2.310714…
    let c = price(
        &u,
        &contract(GAS_STANDING),
        ts(at(AMS, "2026-02-01T12:00")),
        ts(to),
    )
    .unwrap();
    assert_eq!(c.gas, money("2.310714285714285714"));
}

#[test]
fn a_contract_without_gas_prices_none_but_the_gas_is_reported() {
    // The electricity: 10 000 Wh -> 10 400 Wh over the hour, 0.4 kWh × 0.25 = 0.10; gas 250 dm³.
    let (from, to) = (at(AMS, "2026-03-02T10:00"), at(AMS, "2026-03-02T11:00"));
    let readings = [
        telegram(from, 10_000, from, 1_000),
        telegram(to, 10_400, to, 1_250),
    ];
    let u = Usage::from_readings(readings, ts(from), ts(to), UsageOptions::default());
    let no_gas = contract(
        "name = \"Electricity\"\ntime_zone = \"Europe/Amsterdam\"\n[import]\nprice_per_kwh = 0.25\n",
    );
    assert!(no_gas.gas.is_none());
    let r = report(&u, &[no_gas], ts(from), ts(to)).unwrap();
    assert_eq!(r.gas_cm3, 250_000);
    let c = &r.contracts[0].cost;
    assert_eq!((c.gas, c.total), (Money::ZERO, money("0.10")));
    assert_eq!(c.electricity_total, c.total);
}

#[test]
fn gas_from_vault_rollups_stays_in_its_quarter_hour() {
    // Rows as the vault keeps them: gas dm³ per quarter hour, already split by time between gas
    // readings. The electricity readings span only the first two quarter hours; gas after them
    // still counts. A negative row (never written by the vault) is a reset, not booked.
    let row = |start: i64, wh: Option<i64>, dm3: Option<i64>| {
        let mut used_wh = [None; 6];
        used_wh[0] = wh;
        Rollup::Row(RollupRow {
            start,
            used_wh,
            estimated: false,
            gas_dm3: dm3,
        })
    };
    let rows = [
        row(0, Some(100), Some(30)),
        row(900, Some(100), None),
        row(1_800, None, Some(45)),
        row(2_700, None, Some(-5)),
    ];
    let span = ReadingSpan::Known {
        first: 0,
        last: 1_800,
    };
    let u = Usage::from_rollups(ts(0), ts(3_600), span, rows);
    let got: Vec<i64> = u.slots().iter().map(|s| s.gas_cm3).collect();
    assert_eq!(got, [30_000, 0, 45_000, 0]);
    assert_eq!(u.stats.gas_resets, 1);
    assert_eq!(u.totals(0..4).0, 200_000, "the electricity is as before");
}

fn refused(toml: &str) -> String {
    match Contract::parse(toml) {
        Err(e @ (ContractError::Invalid { .. } | ContractError::Syntax { .. })) => e.to_string(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

const HEAD: &str =
    "name = \"G\"\ntime_zone = \"Europe/Amsterdam\"\n[import]\nprice_per_kwh = 0.25\n[gas]\n";

#[test]
fn gas_sections_that_cannot_be_right_are_refused_with_their_line() {
    // Line 6 is the first line of [gas].
    assert_eq!(
        refused(&format!("{HEAD}price_per_m3 = -1.05\n")),
        "contract file, line 6: price_per_m3 = -1.05 in [gas] must not be negative"
    );
    assert_eq!(
        refused(&format!("{HEAD}price_per_m3 = 1.05\ntax_per_m3 = -0.1\n")),
        "contract file, line 7: tax_per_m3 = -0.1 in [gas] must not be negative"
    );
    assert_eq!(
        refused(&format!("{HEAD}price_per_m3 = 1\nper_day = -0.18\n")),
        "contract file, line 7: per_day = -0.18 in [gas] must not be negative"
    );
    assert_eq!(
        refused(&format!("{HEAD}price_per_m3 = 1\nper_month = -3\n")),
        "contract file, line 7: per_month = -3 in [gas] must not be negative"
    );
    let e = refused(&format!("{HEAD}price_per_m3 = 1\nprice_per_kwh = 0.1\n"));
    assert!(
        e.starts_with("contract file, line 7:") && e.contains("unknown field `price_per_kwh`"),
        "{e}"
    );
    let e = refused(&format!("{HEAD}per_day = 0.18\n"));
    assert!(e.contains("[gas] needs price_per_m3"), "{e}");
    let e = refused(&format!("{HEAD}price_per_m3 = \"1.05\"\n"));
    assert_eq!(e, "contract file, line 6: price_per_m3 must be a number");
    // A good one reads exactly.
    let c = contract(&format!(
        "{HEAD}price_per_m3 = 1.05\ntax_per_m3 = 0.32\nper_day = 0.18\nper_month = 3.5\n"
    ));
    let g = c.gas.unwrap();
    assert_eq!(
        (g.price_per_m3, g.tax_per_m3, g.per_day, g.per_month),
        (
            hearth_insight::Price::parse("1.05").unwrap(),
            hearth_insight::Price::parse("0.32").unwrap(),
            money("0.18"),
            money("3.5")
        )
    );
}
