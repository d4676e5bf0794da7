//! Overlapping time-of-use periods (issue 17, finding 12): the first period that matches still
//! wins, as designed, but the overlap is reported as a warning on the parsed contract with
//! both periods' names, lines, days and hours and where they overlap; a gap stays an error,
//! and a catch-all listed last (the usual way to cover the rest) is not an overlap.

use hearth_insight::contract::find_period;
use hearth_insight::{Contract, ContractWarning, PeriodAt, Price, Pricing, Tag};

const WEEKDAYS: u8 = 0b0001_1111;

/// An overlap as (first, later, day bits, windows).
type Overlap<'a> = (&'a str, &'a str, u8, Vec<(u16, u16)>);

fn contract(import_periods: &str) -> Contract {
    let text = format!(
        "name = \"overlaps\"\ntime_zone = \"Europe/Brussels\"\n\n[import]\n{import_periods}"
    );
    Contract::parse(&text).unwrap_or_else(|e| panic!("{e}"))
}

/// The issue's repro: an evening period that also covers the first hour of the night.
const EVENING_OVER_NIGHT: &str = r#"[[import.period]]
name = "night"
days = ["mon", "tue", "wed", "thu", "fri"]
from = "22:00"
to = "07:00"
price_per_kwh = 0.21
[[import.period]]
name = "evening"
from = "18:00"
to = "23:00"
price_per_kwh = 0.35
[[import.period]]
name = "day"
price_per_kwh = 0.31
"#;

#[test]
fn an_overlap_is_a_warning_naming_both_periods_and_the_first_still_wins() {
    let c = contract(EVENING_OVER_NIGHT);
    assert_eq!(
        c.warnings,
        [ContractWarning::OverlappingPeriods {
            side: "import",
            first: PeriodAt {
                name: "night".into(),
                line: 6,
                days: WEEKDAYS,
                window: Some((1320, 420)),
            },
            second: PeriodAt {
                name: "evening".into(),
                line: 12,
                days: 0xff,
                window: Some((1080, 1380)),
            },
            days: WEEKDAYS,
            times: vec![(1320, 1380)],
        }]
    );
    assert_eq!(
        c.warnings[0].to_string(),
        "contract file, line 12: [[import.period]] \"evening\" (line 12: every day 18:00-23:00) \
         overlaps \"night\" (line 6: Mon, Tue, Wed, Thu, Fri 22:00-07:00) on Mon, Tue, Wed, Thu, \
         Fri 22:00-23:00; there \"night\" applies, since the first period that matches wins \
         (change their days or hours if your contract says otherwise)"
    );
    // Behaviour is unchanged: Monday 22:30 is night, Saturday 22:30 is evening.
    let Pricing::Periods(periods) = &c.import else {
        panic!("periods");
    };
    let name = |day: u8, minute: u16| {
        let i = find_period(periods, day, minute, Tag::Untagged).expect("covered");
        (periods[i].name.as_str(), periods[i].price)
    };
    assert_eq!(name(0, 22 * 60 + 30), ("night", Price(210_000_000_000)));
    assert_eq!(name(5, 22 * 60 + 30), ("evening", Price(350_000_000_000)));
    assert_eq!(name(0, 19 * 60), ("evening", Price(350_000_000_000)));
}

#[test]
fn overlaps_through_midnight_and_in_two_pieces_are_given_exactly() {
    // A hidden variant: windows that both wrap midnight.
    let c = contract(
        r#"[[import.period]]
name = "late"
from = "23:00"
to = "06:00"
price_per_kwh = 0.18
[[import.period]]
name = "night"
days = ["sat", "sun", "hol"]
from = "22:00"
to = "07:00"
price_per_kwh = 0.20
[[import.period]]
name = "shoulder"
days = ["mon"]
from = "05:45"
to = "23:15"
price_per_kwh = 0.25
[[import.period]]
name = "rest"
price_per_kwh = 0.30
"#,
    );
    let found: Vec<Overlap<'_>> = c
        .warnings
        .iter()
        .map(|w| match w {
            ContractWarning::OverlappingPeriods {
                first,
                second,
                days,
                times,
                ..
            } => (
                first.name.as_str(),
                second.name.as_str(),
                *days,
                times.clone(),
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        found,
        [
            ("late", "night", 0b1110_0000, vec![(1380, 360)]),
            (
                "late",
                "shoulder",
                0b0000_0001,
                vec![(345, 360), (1380, 1395)]
            ),
        ]
    );
    assert!(
        c.warnings[0]
            .to_string()
            .contains("on Sat, Sun, holidays 23:00-06:00;"),
        "{}",
        c.warnings[0]
    );
    assert!(
        c.warnings[1]
            .to_string()
            .contains("on Mon 05:45-06:00 and 23:00-23:15;"),
        "{}",
        c.warnings[1]
    );
}

#[test]
fn a_catch_all_first_shadows_every_later_period() {
    let c = contract(
        r#"[[import.period]]
name = "standard"
price_per_kwh = 0.30
[[import.period]]
name = "weekend"
days = ["sat", "sun"]
price_per_kwh = 0.20
"#,
    );
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    assert_eq!(
        c.warnings[0].to_string(),
        "contract file, line 9: [[import.period]] \"weekend\" (line 9: Sat, Sun all day) overlaps \
         \"standard\" (line 6: every day all day) on Sat, Sun all day; there \"standard\" \
         applies, since the first period that matches wins (change their days or hours if your \
         contract says otherwise)"
    );
}

#[test]
fn export_periods_are_checked_too_and_meter_tariffs_apart_do_not_overlap() {
    let text = r#"name = "meter tariffs"
time_zone = "Europe/Amsterdam"

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
name = "evening"
from = "17:00"
to = "21:00"
price_per_kwh = 0.10
[[export.period]]
name = "normal"
meter_tariff = 2
price_per_kwh = 0.07
"#;
    let c = Contract::parse(text).unwrap_or_else(|e| panic!("{e}"));
    // Import: tariff 1 and tariff 2 energy never meet. Export: "evening" is shadowed by
    // "low" on tariff 1 from 17:00 to 21:00; "normal" is tariff 2's catch-all, listed last.
    let pairs: Vec<(&str, &str, &str)> = c
        .warnings
        .iter()
        .map(|w| match w {
            ContractWarning::OverlappingPeriods {
                side,
                first,
                second,
                ..
            } => (*side, first.name.as_str(), second.name.as_str()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(pairs, [("export", "low", "evening")]);
    assert!(
        c.warnings[0]
            .to_string()
            .starts_with("contract file, line 20: [[export.period]] \"evening\""),
        "{}",
        c.warnings[0]
    );
}

#[test]
fn the_presets_and_a_catch_all_listed_last_give_no_warning() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/tariffs");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("assets/tariffs") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).expect("preset");
            let mut files = hearth_insight::PriceFiles::new();
            for f in Contract::price_files(&text).expect("names") {
                let csv = std::fs::read_to_string(dir.join(&f.name)).expect("prices");
                files.insert(f.name, csv);
            }
            let c = Contract::parse_with_prices(&text, &files)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(c.warnings, [], "{}", path.display());
            checked += 1;
        }
    }
    assert!(checked >= 8, "{checked} presets");
    // Gaps are still an error, not a warning.
    let gap = "name = \"gap\"\ntime_zone = \"UTC\"\n[import]\n[[import.period]]\nname = \"day\"\nfrom = \"07:00\"\nto = \"23:00\"\nprice_per_kwh = 0.3\n";
    assert!(Contract::parse(gap).is_err());
}
