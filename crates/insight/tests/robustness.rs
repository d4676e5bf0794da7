//! Bad input never panics: garbage contract files and price files are errors, and any
//! sequence of readings (clock jumps, resets, garbage registers) books only non-negative
//! energy that never exceeds what the registers allow.

mod household;

use hearth_insight::{Contract, ContractError, PriceError, PriceSeries, Usage, UsageOptions};
use hearth_meter::{MeterId, MeterTime, Protocol, Quantity, Reading};
use household::ts;
use proptest::prelude::*;

/// The last line an error can name in `text`: one more than its newlines (an error at the
/// very end, after a last newline, names the empty line there).
fn lines(text: &str) -> usize {
    text.matches('\n').count() + 1
}

/// The line a price-file error names, if any.
fn price_error_line(e: &PriceError) -> Option<usize> {
    match e {
        PriceError::Time { line, .. }
        | PriceError::Price { line, .. }
        | PriceError::Order { line }
        | PriceError::QuarterHour { line }
        | PriceError::Csv { line, .. } => Some(*line),
        _ => None,
    }
}

#[test]
fn known_garbage_gives_the_exact_error() {
    // Not TOML at all: a syntax error on the line where it goes wrong.
    match Contract::parse("name = \"x\"\n%%%\n") {
        Err(ContractError::Syntax { line: 2, message }) => {
            assert_eq!(message, "key with no value, expected `=`")
        }
        other => panic!("{other:?}"),
    }
    // TOML, but not a contract: the unknown field, and then the missing one, named.
    match Contract::parse("a = 1\n") {
        Err(ContractError::Syntax { line: 1, message }) => assert_eq!(
            message,
            "unknown field `a`, expected one of `name`, `currency`, `time_zone`, `valid_from`, \
             `valid_to`, `vat_percent`, `holidays`, `fixed`, `import`, `export`, `capacity`, \
             `gas`"
        ),
        other => panic!("{other:?}"),
    }
    match Contract::parse("time_zone = \"UTC\"\n") {
        Err(ContractError::Syntax { line: 1, message }) => {
            assert_eq!(message, "missing field `name`")
        }
        other => panic!("{other:?}"),
    }
    // Empty text and a file that is no price list.
    let utc = jiff::tz::TimeZone::UTC;
    assert_eq!(PriceSeries::parse("", &utc), Err(PriceError::Empty));
    assert_eq!(
        PriceSeries::parse("\u{0}\u{1}garbage\n1;2\n", &utc),
        Err(PriceError::Columns)
    );
}

proptest! {
    #[test]
    fn garbage_contracts_are_errors(text in "\\PC{0,300}") {
        // Arbitrary text is never a contract: it is a syntax error (malformed TOML or a
        // missing field) naming a line of the text, and listing its price files fails the same.
        match Contract::parse(&text) {
            Err(ContractError::Syntax { line, message }) => {
                prop_assert!((1..=lines(&text)).contains(&line), "line {line}: {message}");
                prop_assert!(!message.is_empty());
                match Contract::price_files(&text) {
                    Err(ContractError::Syntax { line: l, message: m }) => {
                        prop_assert_eq!((l, m), (line, message));
                    }
                    other => prop_assert!(false, "{other:?}"),
                }
            }
            other => prop_assert!(false, "{other:?}"),
        }
    }

    #[test]
    fn mangled_design_example_is_an_error_or_a_contract(cut in 0usize..400, junk in "[\\[\\]=\"a-z0-9:._ \n-]{0,12}") {
        let base = "name = \"x\"\ntime_zone = \"Europe/Brussels\"\nvat_percent = 6\n[fixed]\nper_month = 3.5\n[import]\n[[import.period]]\nname = \"night\"\nfrom = \"22:00\"\nto = \"07:00\"\nprice_per_kwh = 0.21\n[[import.period]]\nname = \"day\"\nprice_per_kwh = 0.31\n[capacity]\nkind = \"monthly-15min-peak\"\nprice_per_kw_year = 53.26\n";
        let at = base.char_indices().map(|(i, _)| i).nth(cut % base.len()).unwrap_or(0);
        let text = format!("{}{}{}", &base[..at], junk, &base[at..]);
        match Contract::parse(&text) {
            // Still a contract: the junk landed somewhere harmless (a name, a comment-free
            // value it extends validly); the name survives.
            Ok(c) => prop_assert!(!c.name.is_empty()),
            // Otherwise an error naming a line of the text and saying what is wrong.
            Err(ContractError::Syntax { line, message } | ContractError::Invalid { line, message }) => {
                prop_assert!((1..=lines(&text)).contains(&line), "line {line}: {message}");
                prop_assert!(!message.is_empty());
            }
            // Junk that spells `prices_csv = ...`: that file was not given (nothing is read).
            Err(ContractError::Prices { line, source: PriceError::NotGiven, .. }) => {
                prop_assert!((1..=lines(&text)).contains(&line));
            }
            Err(other) => prop_assert!(false, "{other:?}"),
        }
    }

    #[test]
    fn garbage_price_files_are_errors(text in "(\\PC{0,40}[,;\t\n]){0,12}") {
        // Arbitrary text is never a price list: no rows, no time and price columns, or a row
        // that names its line in the text. Never a read error: parsing reads nothing.
        let e = PriceSeries::parse(&text, &jiff::tz::TimeZone::UTC)
            .expect_err("garbage is not a price list");
        match price_error_line(&e) {
            Some(line) => prop_assert!((1..=lines(&text)).contains(&line), "{e}"),
            None => prop_assert!(matches!(e, PriceError::Empty | PriceError::Columns), "{e}"),
        }
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
