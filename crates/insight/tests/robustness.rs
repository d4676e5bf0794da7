//! Bad input never panics: garbage contract files and price files are errors, and any
//! sequence of readings (clock jumps, resets, garbage registers) books only non-negative
//! energy that never exceeds what the registers allow.

mod household;

use hearth_insight::{Contract, PriceSeries, Usage, UsageOptions};
use hearth_meter::{MeterId, MeterTime, Protocol, Quantity, Reading};
use household::ts;
use proptest::prelude::*;
use std::path::Path;

proptest! {
    #[test]
    fn garbage_contracts_are_errors(text in "\\PC{0,300}") {
        let _ = Contract::parse(&text, Path::new("/nonexistent"));
    }

    #[test]
    fn mangled_design_example_is_an_error_or_a_contract(cut in 0usize..400, junk in "[\\[\\]=\"a-z0-9:._ \n-]{0,12}") {
        let base = "name = \"x\"\ntime_zone = \"Europe/Brussels\"\nvat_percent = 6\n[fixed]\nper_month = 3.5\n[import]\n[[import.period]]\nname = \"night\"\nfrom = \"22:00\"\nto = \"07:00\"\nprice_per_kwh = 0.21\n[[import.period]]\nname = \"day\"\nprice_per_kwh = 0.31\n[capacity]\nkind = \"monthly-15min-peak\"\nprice_per_kw_year = 53.26\n";
        let at = base.char_indices().map(|(i, _)| i).nth(cut % base.len()).unwrap_or(0);
        let text = format!("{}{}{}", &base[..at], junk, &base[at..]);
        let _ = Contract::parse(&text, Path::new("/nonexistent"));
    }

    #[test]
    fn garbage_price_files_are_errors(text in "\\PC{0,300}") {
        let _ = PriceSeries::parse(&text, &jiff::tz::TimeZone::UTC);
    }

    #[test]
    fn any_readings_book_sane_energy(
        steps in proptest::collection::vec((-400i64..2_000, -50_000i64..50_000, 0u8..4), 1..200)
    ) {
        let mut t = 1_767_225_600i64;
        let mut reg = 1_000_000i64;
        let mut readings = Vec::new();
        for (dt, d_wh, flags) in steps {
            t += dt;
            reg += d_wh;
            let mut r = Reading::new(Protocol::Dsmr);
            r.time = Some(MeterTime::utc(t));
            r.set(Quantity::ImportWh, reg);
            if flags == 1 {
                r.meter_id = Some(MeterId::new(format!("m{}", d_wh.rem_euclid(2))));
            }
            if flags == 2 {
                r.set(Quantity::ImportT1Wh, reg / 2);
                r.set(Quantity::ImportT2Wh, reg / 3);
            }
            readings.push(r);
        }
        let (from, to) = (1_767_225_600 - 86_400, 1_767_225_600 + 2 * 86_400);
        let u = Usage::from_readings(&readings, ts(from), ts(to), UsageOptions::default());
        let total: i64 = u.slots().iter().map(|s| s.import()).sum();
        for s in u.slots() {
            prop_assert!(s.import_mwh.iter().all(|v| *v >= 0));
            prop_assert!(s.estimated_import_mwh <= s.import());
            prop_assert!(i64::from(s.measured_s) + i64::from(s.estimated_s) <= 900);
        }
        // Never more than the sum of the register's rises.
        let rises: i64 = readings.windows(2).map(|w| {
            (w[1].get(Quantity::ImportWh).unwrap() - w[0].get(Quantity::ImportWh).unwrap()).max(0)
        }).sum();
        prop_assert!(total <= rises * 1000);
    }
}
