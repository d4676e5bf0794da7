//! Contract files: the design's example parses into exact values; mistakes are errors that
//! name the line and say what to change.

use hearth_insight::contract::{HOLIDAY, find_period};
use hearth_insight::{
    Capacity, Contract, ContractError, Money, Price, PriceError, PriceFileRef, PriceFiles, Pricing,
    Tag,
};
use std::path::Path;

const DESIGN_EXAMPLE: &str = r#"name = "Day/night, Belgian capacity"   # shown to the user
currency = "EUR"
time_zone = "Europe/Brussels"          # periods, days and months are local time here
valid_from = 2026-01-01                # optional; valid_to is exclusive
vat_percent = 6.0
holidays = [2026-12-25, 2026-12-26]

[fixed]
per_day = 0.12
per_month = 3.50

[import]
tax_per_kwh = 0.0503
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
net_metering = false

[capacity]
kind = "monthly-15min-peak"
price_per_kw_year = 53.26
min_kw = 2.5
"#;

fn parse(s: &str) -> Result<Contract, ContractError> {
    Contract::parse(s)
}

fn err_of(s: &str) -> (usize, String) {
    match parse(s) {
        Err(ContractError::Invalid { line, message } | ContractError::Syntax { line, message }) => {
            (line, message)
        }
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn design_example_parses_exactly() {
    let c = parse(DESIGN_EXAMPLE).unwrap();
    assert_eq!(c.name, "Day/night, Belgian capacity");
    assert_eq!(c.currency, "EUR");
    assert_eq!(c.valid_from, Some(jiff::civil::date(2026, 1, 1)));
    assert_eq!(c.vat.0, 6_000_000);
    assert_eq!(c.fixed_per_day, Money::parse("0.12").unwrap());
    assert_eq!(c.fixed_per_month, Money::parse("3.5").unwrap());
    assert_eq!(c.tax_per_kwh, Price(50_300_000_000));
    let Pricing::Periods(ps) = &c.import else {
        panic!("periods")
    };
    assert_eq!(ps.len(), 3);
    assert_eq!(ps[0].window, Some((22 * 60, 7 * 60)));
    assert_eq!(ps[0].days, 0b0001_1111);
    assert_eq!(ps[1].days, 0b1110_0000);
    assert_eq!(ps[2].price, Price::parse("0.31").unwrap());
    // Christmas (a Friday) is a holiday; a weekday night wraps midnight.
    assert_eq!(c.day_type(jiff::civil::date(2026, 12, 25)), HOLIDAY);
    assert_eq!(c.day_type(jiff::civil::date(2026, 12, 24)), 3);
    assert_eq!(find_period(ps, 3, 23 * 60, Tag::Untagged), Some(0));
    assert_eq!(find_period(ps, 3, 6 * 60 + 45, Tag::Untagged), Some(0));
    assert_eq!(find_period(ps, 3, 7 * 60, Tag::Untagged), Some(2));
    assert_eq!(find_period(ps, HOLIDAY, 12 * 60, Tag::Untagged), Some(1));
    assert!(matches!(c.export, Pricing::Flat(p) if p == Price::parse("0.04").unwrap()));
    assert_eq!(
        c.capacity,
        Some(Capacity::MonthlyPeak {
            price_per_kw_year: Price::parse("53.26").unwrap(),
            min_w: 2_500
        })
    );
}

#[test]
fn presets_in_assets_all_parse() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/tariffs");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            // The caller reads the price files a contract names, beside the contract file.
            let text = std::fs::read_to_string(&path).unwrap();
            let mut prices = PriceFiles::new();
            for f in Contract::price_files(&text).unwrap() {
                prices.insert(&f.name, std::fs::read_to_string(dir.join(&f.name)).unwrap());
            }
            Contract::parse_with_prices(&text, &prices)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            n += 1;
        }
    }
    assert!(n >= 4, "expected at least 4 presets, found {n}");
}

#[test]
fn unknown_field_names_its_line() {
    let (line, msg) = err_of("name = \"x\"\ntime_zone = \"UTC\"\n[import]\nprice_per_kwhh = 0.2\n");
    assert_eq!(line, 4);
    assert!(msg.contains("price_per_kwhh"), "{msg}");
}

#[test]
fn holes_in_periods_are_refused() {
    let s = "name = \"x\"\ntime_zone = \"UTC\"\n[import]\n[[import.period]]\nname = \"wk\"\ndays = [\"mon\"]\nprice_per_kwh = 0.2\n";
    let (line, msg) = err_of(s);
    assert_eq!(line, 3);
    assert!(msg.contains("Tuesday 00:00"), "{msg}");
    // Meter-tariff periods must cover both tariffs.
    let s = "name = \"x\"\ntime_zone = \"UTC\"\n[import]\n[[import.period]]\nname = \"t1\"\nmeter_tariff = 1\nprice_per_kwh = 0.2\n";
    assert!(err_of(s).1.contains("meter tariff 2"));
}

#[test]
fn bad_values_say_what_to_change() {
    let base = |extra: &str| format!("name = \"x\"\ntime_zone = \"UTC\"\n{extra}");
    let cases = [
        (base("[import]\n[[import.period]]\nname = \"n\"\nfrom = \"22:10\"\nto = \"07:00\"\nprice_per_kwh = 0.2\n"), 6, "quarter hour"),
        (base("[import]\n[[import.period]]\nname = \"n\"\nfrom = \"22:00\"\nprice_per_kwh = 0.2\n"), 6, "both from and to"),
        (base("[import]\n[[import.period]]\nname = \"n\"\ndays = [\"monday\"]\nprice_per_kwh = 0.2\n"), 6, "not a day"),
        (base("[import]\nprice_per_kwh = 0.2\nprices_csv = \"p.csv\"\n"), 3, "exactly one"),
        (base("vat_percent = 150\n[import]\nprice_per_kwh = 0.2\n"), 3, "between 0 and 100"),
        (base("[import]\nprice_per_kwh = \"cheap\"\n"), 4, "must be a number"),
        (base("[import]\nprice_per_kwh = 0.0000000000001\n"), 4, "at most 12 decimals"),
        (base("[import]\nprice_per_kwh = 0.2\n[capacity]\nkind = \"peak\"\n"), 6, "unknown"),
        (base("[import]\nprice_per_kwh = 0.2\n[capacity]\nkind = \"top3-daily-hourly-peaks\"\nsteps = [{ up_to_kw = 5, per_month = 1 }, { up_to_kw = 2, per_month = 2 }]\n"), 7, "increasing"),
        (base("valid_from = 2026-02-01\nvalid_to = 2026-01-01\n[import]\nprice_per_kwh = 0.2\n"), 4, "after valid_from"),
        ("name = \"x\"\ntime_zone = \"Mars/Olympus\"\n[import]\nprice_per_kwh = 0.2\n".to_owned(), 2, "not a known zone"),
        ("name = \"x\"\ncurrency = \"euro\"\ntime_zone = \"UTC\"\n[import]\nprice_per_kwh = 0.2\n".to_owned(), 2, "three-letter"),
        ("name = \"x\"\ntime_zone = \"UTC\"\n[import\nprice_per_kwh = 0.2\n".to_owned(), 3, ""),
    ];
    for (text, line, needle) in cases {
        let (l, msg) = err_of(&text);
        assert_eq!(l, line, "{msg}\n{text}");
        assert!(msg.contains(needle), "{msg}");
    }
}

#[test]
fn a_price_file_not_given_is_a_clear_error() {
    let s = "name = \"x\"\ntime_zone = \"UTC\"\n[import]\nprices_csv = \"does-not-exist.csv\"\n";
    let e = parse(s).unwrap_err();
    assert!(
        matches!(
            &e,
            ContractError::Prices { line: 4, path, source: PriceError::NotGiven }
                if path.as_path() == Path::new("does-not-exist.csv")
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "contract file, line 4: price file does-not-exist.csv: it is not stored with this \
         contract; save the contract again from its file, with the price file beside it"
    );
}

#[test]
fn parsing_names_the_price_files_and_reads_none() {
    // Import and export name files; the same file twice is listed once.
    let s = "name = \"x\"\ntime_zone = \"UTC\"\n[import]\nprices_csv = \"p.csv\"\n[export]\nprices_csv = \"p.csv\"\n";
    assert_eq!(
        Contract::price_files(s).unwrap(),
        [PriceFileRef {
            name: "p.csv".into(),
            line: 4
        }]
    );
    let s = "name = \"x\"\ntime_zone = \"UTC\"\n[import]\nprices_csv = \"in.csv\"\n[export]\nprices_csv = \"out.csv\"\n";
    let names: Vec<(String, usize)> = Contract::price_files(s)
        .unwrap()
        .into_iter()
        .map(|f| (f.name, f.line))
        .collect();
    assert_eq!(names, [("in.csv".into(), 4), ("out.csv".into(), 6)]);
    assert!(Contract::price_files(DESIGN_EXAMPLE).unwrap().is_empty());
    // A syntax error is the same error parsing gives.
    assert!(matches!(
        Contract::price_files("name = \"x\"\n[import\n"),
        Err(ContractError::Syntax { line: 2, .. })
    ));
    // The text given is what is priced; no file of that name needs to exist anywhere.
    let mut prices = PriceFiles::new();
    prices.insert(
        "in.csv",
        "start,price_per_kwh\n2026-01-05T00:00:00Z,0.10\n2026-01-05T01:00:00Z,0.20\n",
    );
    prices.insert(
        "out.csv",
        "start,price_per_kwh\n2026-01-05T00:00:00Z,0.05\n2026-01-05T01:00:00Z,0.06\n",
    );
    let c = Contract::parse_with_prices(s, &prices).unwrap();
    let (Pricing::Dynamic { prices: i, .. }, Pricing::Dynamic { prices: o, .. }) =
        (&c.import, &c.export)
    else {
        panic!("{c:?}")
    };
    // 2026-01-05T01:00Z = 1_767_574_800.
    assert_eq!(i.at(1_767_574_800), Some(Price::parse("0.20").unwrap()));
    assert_eq!(o.at(1_767_574_800), Some(Price::parse("0.06").unwrap()));
    // A price file's own error names the file as the contract names it.
    let mut bad = PriceFiles::new();
    bad.insert("in.csv", "");
    bad.insert("out.csv", "");
    assert_eq!(
        Contract::parse_with_prices(s, &bad)
            .unwrap_err()
            .to_string(),
        "contract file, line 4: price file in.csv: it has no prices"
    );
}
