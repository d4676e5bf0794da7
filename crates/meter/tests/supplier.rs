//! Supplier half-hourly downloads: exact sums, both DST nights, merging and re-importing.
//!
//! The expected totals below were computed independently (Python `decimal`) when the fixtures
//! were written; see `fixtures/supplier/README.md` for how each file was built.

use hearth_meter::supplier::{
    Flow, ImportError, Interval, IntervalSet, Merge, london, read_csv, read_green_button,
};
use hearth_meter::{Protocol, Quantity, Reading};
use std::io::Cursor;

const OCT: &str = include_str!("fixtures/supplier/octopus_2024-10-27.csv");
const MAR: &str = include_str!("fixtures/supplier/octopus_2024-03-31.csv");
const LOCAL: &str = include_str!("fixtures/supplier/generic_local_2024-10-27.csv");
const GB_UK: &str = include_str!("fixtures/supplier/green_button_2024-10-27.xml");
const GB_GBA: &str = include_str!("fixtures/supplier/green_button_gba_excerpt.xml");

/// 2024-10-27T00:00:00+01:00, the start of the UK day when BST ends.
const OCT_DAY_START: i64 = 1_729_983_600;
/// 2024-03-31T00:00:00+00:00, the start of the UK day when BST starts.
const MAR_DAY_START: i64 = 1_711_843_200;

fn csv(text: &str, set: &mut IntervalSet) -> hearth_meter::supplier::ImportSummary {
    read_csv(Cursor::new(text), &london(), set).unwrap()
}

/// The interval energies (Wh) of `readings`, which must all carry one.
fn energies(readings: &[Reading], quantity: Quantity) -> Vec<i64> {
    readings.iter().map(|r| r.get(quantity).unwrap()).collect()
}

fn imported(set: &IntervalSet) -> Vec<Reading> {
    set.readings(Quantity::IntervalImportWh, &london())
}

#[test]
fn octopus_file_on_the_25_hour_day() {
    let mut set = IntervalSet::new();
    let s = csv(OCT, &mut set);
    // 50 half-hours in the day; Octopus left out one zero half-hour (02:30 GMT).
    assert_eq!((s.rows, s.added, s.skipped, s.conflicts), (49, 49, 0, 0));
    let first = set.intervals().next().unwrap();
    let last = set.intervals().last().unwrap();
    assert_eq!(first.start, OCT_DAY_START);
    assert_eq!(last.end - first.start, 25 * 3600);
    assert_eq!(
        set.holes(),
        [(OCT_DAY_START + 7 * 1800, OCT_DAY_START + 8 * 1800)]
    );
    // Σ of the 48 non-zero values = 11.361 kWh (one row is `0E-20`).
    assert_eq!(set.total_milli_wh(), 11_361_000);
    let readings = imported(&set);
    // One reading per interval, at its start; none in the hole.
    assert_eq!(readings.len(), 49);
    assert_eq!(
        readings[0].time.unwrap().to_string(),
        "2024-10-27T00:00:00+01:00"
    );
    assert_eq!(
        readings.last().unwrap().time.unwrap().to_string(),
        "2024-10-27T23:30:00+00:00"
    );
    let starts: Vec<i64> = readings.iter().map(|r| r.time.unwrap().unix).collect();
    let expected: Vec<i64> = (0..50)
        .filter(|&k| k != 7)
        .map(|k| OCT_DAY_START + k * 1800)
        .collect();
    assert_eq!(starts, expected);
    let wh = energies(&readings, Quantity::IntervalImportWh);
    assert_eq!(
        wh.iter().sum::<i64>(),
        11_361,
        "the energies sum to the total"
    );
    assert!(wh.iter().all(|&w| w >= 0), "no negative energy");
    // The first two values are 0.050 and 0.292 kWh; the `0E-20` half-hour is 0.
    assert_eq!(&wh[..2], &[50, 292]);
    assert_eq!(wh[7], 0);
    assert!(readings.iter().all(|r| r.protocol == Protocol::Supplier));
    assert!(
        readings
            .iter()
            .all(|r| r.get(Quantity::IntervalS) == Some(1800)),
        "every interval is a half hour, the 25-hour day too"
    );
    assert!(
        readings.iter().all(|r| r.get(Quantity::ImportWh).is_none()),
        "no made-up register"
    );
}

#[test]
fn octopus_file_with_cost_columns_on_the_23_hour_day() {
    let mut set = IntervalSet::new();
    let s = csv(MAR, &mut set);
    assert_eq!((s.rows, s.added), (46, 46));
    let first = set.intervals().next().unwrap().start;
    let end = set.intervals().last().unwrap().end;
    assert_eq!(first, MAR_DAY_START);
    assert_eq!(end - first, 23 * 3600);
    assert!(set.holes().is_empty());
    // Σ = 11.054 kWh; the cost and standing-charge columns are not energy.
    assert_eq!(set.total_milli_wh(), 11_054_000);
    let readings = imported(&set);
    assert_eq!(readings.len(), 46);
    let wh = energies(&readings, Quantity::IntervalImportWh);
    assert_eq!(wh.iter().sum::<i64>(), 11_054);
    assert_eq!(
        readings[0].time.unwrap().to_string(),
        "2024-03-31T00:00:00+00:00"
    );
    assert_eq!(
        readings.last().unwrap().time.unwrap().to_string(),
        "2024-03-31T23:30:00+01:00"
    );
}

#[test]
fn wall_clock_file_resolves_the_repeated_hour_by_order() {
    let mut set = IntervalSet::new();
    let s = csv(LOCAL, &mut set);
    assert_eq!(
        (s.rows, s.added, s.skipped),
        (50, 50, 0),
        "{:?}",
        set.diagnostics
    );
    let starts: Vec<i64> = set.intervals().map(|i| i.start).collect();
    let expected: Vec<i64> = (0..50).map(|k| OCT_DAY_START + k * 1800).collect();
    assert_eq!(
        starts, expected,
        "01:00 and 01:30 BST, then 01:00 and 01:30 GMT"
    );
    assert!(set.intervals().all(|i| i.end - i.start == 1800));
    // Σ of all 50 values = 11.911 kWh.
    assert_eq!(set.total_milli_wh(), 11_911_000);
}

#[test]
fn wall_clock_and_offset_files_agree_where_they_overlap() {
    let mut octopus = IntervalSet::new();
    csv(OCT, &mut octopus);
    let mut local = IntervalSet::new();
    csv(LOCAL, &mut local);
    // Same values except the half-hours Octopus wrote as absent (k = 7) or `0E-20` (k = 8).
    let o: Vec<&Interval> = octopus.intervals().collect();
    let l: Vec<&Interval> = local.intervals().collect();
    for iv in &o {
        let same = l.iter().find(|x| x.start == iv.start).unwrap();
        if iv.start != OCT_DAY_START + 8 * 1800 {
            assert_eq!(*iv, *same);
        }
    }
}

#[test]
fn re_importing_changes_nothing() {
    let mut set = IntervalSet::new();
    csv(OCT, &mut set);
    let before = imported(&set);
    let s = csv(OCT, &mut set);
    assert_eq!((s.added, s.duplicates, s.conflicts), (0, 49, 0));
    assert_eq!(imported(&set), before);
    assert!(set.diagnostics.is_empty());
}

#[test]
fn overlapping_files_merge() {
    let lines: Vec<&str> = OCT.lines().collect();
    let header = lines[0];
    let a = std::iter::once(header)
        .chain(lines[1..31].iter().copied())
        .collect::<Vec<_>>()
        .join("\n");
    let b = std::iter::once(header)
        .chain(lines[20..].iter().copied())
        .collect::<Vec<_>>()
        .join("\n");
    let mut whole = IntervalSet::new();
    csv(OCT, &mut whole);
    let mut merged = IntervalSet::new();
    let sa = csv(&a, &mut merged);
    let sb = csv(&b, &mut merged);
    assert_eq!((sa.added, sb.added, sb.duplicates), (30, 19, 11));
    assert_eq!(imported(&merged), imported(&whole));
}

#[test]
fn conflicting_values_keep_the_first_and_say_so() {
    let mut set = IntervalSet::new();
    csv(OCT, &mut set);
    let changed = "Consumption (kWh), Start, End\n 9.999, 2024-10-27T00:00:00+01:00, 2024-10-27T00:30:00+01:00\n 1.000, 2024-10-27T00:15:00+01:00, 2024-10-27T00:45:00+01:00\n";
    let s = csv(changed, &mut set);
    assert_eq!((s.added, s.conflicts), (0, 2));
    assert_eq!(set.total_milli_wh(), 11_361_000, "the first values stay");
    let codes: Vec<_> = set
        .diagnostics
        .iter()
        .map(|d| (d.line, d.code.as_str()))
        .collect();
    assert_eq!(codes, [(2, "conflict"), (3, "overlap")]);
    assert_eq!(
        set.insert(
            Interval {
                start: OCT_DAY_START,
                end: OCT_DAY_START + 1800,
                energy_milli_wh: 50_000
            },
            0
        ),
        Merge::Duplicate
    );
}

#[test]
fn sums_do_not_drift() {
    // 1000 half-hours of 0.001 kWh are exactly 1 kWh; 0.0005 kWh rows are kept to the mWh
    // and rounded cumulatively: running totals 0.5 → 1, 1.0 → 1, 1.5 → 2 Wh book 1, 0, 1.
    let mut text = String::from("start,kwh\n");
    for k in 0..1000 {
        text.push_str(&format!(
            "{},0.001\n",
            hearth_meter::MeterTime::utc(1_700_000_000 + k * 1800)
        ));
    }
    let mut set = IntervalSet::new();
    csv(&text, &mut set);
    assert_eq!(set.total_milli_wh(), 1_000_000);
    let wh = energies(&imported(&set), Quantity::IntervalImportWh);
    assert_eq!(wh.len(), 1000);
    assert!(wh.iter().all(|&w| w == 1));
    let halves = "start,end,kwh\n2024-01-01T00:00:00Z,2024-01-01T00:30:00Z,0.0005\n2024-01-01T00:30:00Z,2024-01-01T01:00:00Z,0.0005\n2024-01-01T01:00:00Z,2024-01-01T01:30:00Z,0.0005\n";
    let mut set = IntervalSet::new();
    csv(halves, &mut set);
    assert_eq!(
        energies(&imported(&set), Quantity::IntervalImportWh),
        [1, 0, 1]
    );
}

#[test]
fn bad_rows_are_diagnostics_bad_files_are_errors() {
    let text = "start,end,kwh\n\
        31/03/2024 01:30,31/03/2024 02:00,0.1\n\
        not a time,2024-01-01T00:30:00Z,0.1\n\
        2024-01-01T00:00:00Z,2024-01-01T00:30:00Z,lots\n\
        2024-01-01T01:00:00Z,2024-01-01T01:30:00Z,-0.2\n\
        2024-01-01T02:00:00Z,2024-01-01T01:30:00Z,0.2\n\
        2024-01-01T03:00:00Z,2024-01-01T03:30:00Z,0.25\n";
    let mut set = IntervalSet::new();
    let s = csv(text, &mut set);
    assert_eq!((s.rows, s.added, s.skipped), (6, 1, 5));
    let lines: Vec<u32> = set.diagnostics.iter().map(|d| d.line).collect();
    assert_eq!(lines, [2, 3, 4, 5, 6]);
    assert!(set.diagnostics[0].message.contains("clocks went forward"));
    assert!(set.diagnostics[3].message.contains("negative"));
    assert_eq!(set.total_milli_wh(), 250_000);

    let mut set = IntervalSet::new();
    assert_eq!(
        read_csv(Cursor::new(""), &london(), &mut set),
        Err(ImportError::Empty)
    );
    assert!(matches!(
        read_csv(
            Cursor::new("0.25,2026-06-01T00:00:00+01:00\n"),
            &london(),
            &mut set
        ),
        Err(ImportError::Columns { .. })
    ));
    assert!(matches!(
        read_green_button(Cursor::new("<feed><entry></feed>"), Flow::Forward, &mut set),
        Err(ImportError::Xml { .. })
    ));
    assert_eq!(
        read_green_button(Cursor::new(""), Flow::Forward, &mut set),
        Err(ImportError::Empty)
    );
}

#[test]
fn separate_date_and_time_columns() {
    // Wall time on the BST-start night: 00:30 GMT then 02:00 BST (01:00-02:00 does not exist).
    let text =
        "Date, Time, Consumption (kWh)\n31/03/2024, 00:30, 0.100\n31/03/2024, 02:00, 0.200\n";
    let mut set = IntervalSet::new();
    let s = csv(text, &mut set);
    assert_eq!(s.added, 2, "{:?}", set.diagnostics);
    let starts: Vec<i64> = set.intervals().map(|i| i.start).collect();
    // 00:30 GMT = MAR_DAY_START + 1800; 02:00 BST = 01:00 UTC = MAR_DAY_START + 3600.
    assert_eq!(starts, [MAR_DAY_START + 1800, MAR_DAY_START + 3600]);
    assert!(set.holes().is_empty(), "back to back across the lost hour");
    assert_eq!(set.total_milli_wh(), 300_000);
}

#[test]
fn semicolons_and_decimal_commas() {
    let text = "Start;End;Verbrauch kWh\n2024-01-01T00:00:00Z;2024-01-01T00:30:00Z;0,125\n";
    let mut set = IntervalSet::new();
    csv(text, &mut set);
    assert_eq!(set.total_milli_wh(), 125_000);
}

#[test]
fn green_button_uk_day_hourly() {
    let mut set = IntervalSet::new();
    let s = read_green_button(Cursor::new(GB_UK), Flow::Forward, &mut set).unwrap();
    // 25 import readings on the 25-hour day; the export block's one reading is not import.
    assert_eq!((s.rows, s.added), (26, 25));
    assert_eq!(set.intervals().next().unwrap().start, OCT_DAY_START);
    assert_eq!(
        set.intervals().last().unwrap().end - OCT_DAY_START,
        25 * 3600
    );
    // Values are Wh × 10^-3: Σ = 9,555,305 → 9555.305 Wh → 9555 Wh over the day.
    assert_eq!(set.total_milli_wh(), 9_555_305);
    let readings = imported(&set);
    assert_eq!(readings.len(), 25);
    let wh = energies(&readings, Quantity::IntervalImportWh);
    assert_eq!(wh.iter().sum::<i64>(), 9_555);
    assert!(
        readings
            .iter()
            .all(|r| r.get(Quantity::IntervalS) == Some(3600))
    );

    let mut export = IntervalSet::new();
    let s = read_green_button(Cursor::new(GB_UK), Flow::Reverse, &mut export).unwrap();
    assert_eq!(s.added, 1);
    assert_eq!(export.total_milli_wh(), 999_999);
    let r = export.readings(Quantity::IntervalExportWh, &london());
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].get(Quantity::IntervalExportWh), Some(1_000));
    assert_eq!(r[0].get(Quantity::IntervalImportWh), None);
    assert_eq!(r[0].get(Quantity::ExportWh), None);
}

#[test]
fn green_button_alliance_sample() {
    let mut set = IntervalSet::new();
    let s = read_green_button(Cursor::new(GB_GBA), Flow::Forward, &mut set).unwrap();
    assert_eq!((s.rows, s.added), (8, 8));
    let first = set.intervals().next().unwrap();
    assert_eq!((first.start, first.end), (1_330_578_000, 1_330_578_900));
    // 282 + 323 + 294 + 331 + 321 + 316 + 299 + 325 = 2491 Wh (uom 72, multiplier 0).
    assert_eq!(set.total_milli_wh(), 2_491_000);
    assert!(set.diagnostics.is_empty());
}

mod robustness {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn csv_rows_of_anything_never_panic(rows in proptest::collection::vec(".{0,80}", 0..30)) {
            let text = format!("Consumption (kWh), Start, End\n{}", rows.join("\n"));
            let mut set = IntervalSet::new();
            let s = read_csv(Cursor::new(text), &london(), &mut set).unwrap();
            prop_assert_eq!(s.rows, s.added + s.duplicates + s.conflicts + s.skipped);
            let wh = energies(&imported(&set), Quantity::IntervalImportWh);
            prop_assert_eq!(wh.len(), set.len());
            prop_assert!(wh.iter().all(|&w| w >= 0));
            // Σ of the readings is the total rounded half up (no negative interval is kept).
            prop_assert_eq!(wh.iter().sum::<i64>(), (set.total_milli_wh() + 500) / 1000);
        }

        #[test]
        fn xml_of_anything_never_panics(cut in 0usize..4000, byte in any::<u8>(), at in 0usize..4000) {
            let mut x = GB_UK.as_bytes().to_vec();
            if at < x.len() { x[at] = byte; }
            x.truncate(cut);
            let mut set = IntervalSet::new();
            let _ = read_green_button(Cursor::new(x), Flow::Forward, &mut set);
        }
    }
}
