//! `hearth_app::usage::from_vault`: the vault's quarter-hour rollups into usage, with the first and last
//! quarter hour of the data booked over the seconds their readings cover, so time covered and
//! every yearly figure are exact. All expectations are computed by hand in the comments.

use hearth_app::usage::from_vault;
use hearth_insight::tips::{TipKind, TipMessage, tips};
use hearth_insight::{Contract, Money, report};
use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use hearth_vault::{CreateOptions, KdfParams, Vault};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::path::Path;

/// 2026-01-05T00:00 in Amsterdam (CET, +01:00), a quarter-hour boundary.
const MON_5_JAN: i64 = 1_767_567_600;
const DAY: i64 = 86_400;

const FLAT_30: &str = "name = \"Flat 0.30\"\ncurrency = \"EUR\"\ntime_zone = \"Europe/Amsterdam\"\nvat_percent = 0\n[import]\nprice_per_kwh = 0.30\n";
const FLAT_25: &str = "name = \"Flat 0.25\"\ncurrency = \"EUR\"\ntime_zone = \"Europe/Amsterdam\"\nvat_percent = 0\n[import]\nprice_per_kwh = 0.25\n";

fn reading(unix: i64, import_wh: i64) -> Reading {
    let mut r = Reading::new(Protocol::Dsmr);
    r.time = Some(MeterTime::utc(unix));
    r.set(Quantity::ImportWh, import_wh);
    r.set(Quantity::ExportWh, 0);
    r.set(Quantity::ImportW, 240);
    r
}

/// A vault in Amsterdam time holding `readings`, flushed.
fn vault_with(dir: &Path, readings: &[Reading]) -> Vault {
    let options = CreateOptions {
        kdf: KdfParams::INSECURE_FOR_TESTS,
        time_zone: Some("Europe/Amsterdam".into()),
    };
    let mut v = Vault::create(&dir.join("v.hearth"), "pw", &options).expect("create");
    v.append(readings).expect("append");
    v.flush().expect("flush");
    v
}

fn ts(s: i64) -> Timestamp {
    Timestamp::from_second(s).expect("time")
}

fn contract(text: &str) -> Contract {
    Contract::parse(text).expect("contract")
}

#[test]
fn data_starting_and_ending_mid_quarter_hour_gives_exact_yearly_figures() {
    // A steady 240 W (4 Wh a minute) read every minute from 00:07:30 on Monday 5 January
    // (local) for 11 525 minutes, to 00:12:30 on Tuesday 13 January: 691 500 s covered,
    // 11 525 × 4 = 46 100 Wh used.
    let first = MON_5_JAN + 450;
    let readings: Vec<Reading> = (0..=11_525)
        .map(|k| reading(first + 60 * k, 1_000_000 + 4 * k))
        .collect();
    let last = first + 691_500;
    assert_eq!(last, MON_5_JAN + 8 * DAY + 750);
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("v.hearth");
    vault_with(dir.path(), &readings).close().expect("close");
    // Read the way `hearth report` does: read-only, beside a collector.
    let vault = Vault::open_read_only(&path, "pw").expect("reader");
    let (from, to) = (MON_5_JAN, MON_5_JAN + 9 * DAY);
    let u = from_vault(&vault, ts(from), ts(to)).expect("usage");

    let slots = u.slots();
    assert_eq!(slots.len(), 864, "9 days of quarter hours");
    // The first quarter hour holds 00:07:30-00:15: 450 s and 450 × 4/60 = 30 Wh.
    assert_eq!((slots[0].measured_s, slots[0].import()), (450, 30_000));
    // 767 whole quarter hours of 60 Wh in between.
    for s in &slots[1..768] {
        assert_eq!((s.measured_s, s.import(), s.estimated_s), (900, 60_000, 0));
    }
    // The last holds 00:00-00:12:30 on the 13th: 750 s and 50 Wh; nothing after it.
    assert_eq!((slots[768].measured_s, slots[768].import()), (750, 50_000));
    assert!(slots[769..].iter().all(|s| !s.has_data()));
    let covered: i64 = slots.iter().map(|s| i64::from(s.measured_s)).sum();
    assert_eq!(covered, 691_500, "450 + 767 × 900 + 750 = last - first");
    assert_eq!(u.totals(0..864).0, 46_100_000, "30 + 767 × 60 + 50 Wh");
    assert_eq!((u.stats.damaged, u.stats.gaps), (0, 0));

    // The report misses 9 × 86 400 - 691 500 = 86 100 s (was 85 500 with both edge quarter
    // hours counted whole).
    let (flat30, flat25) = (contract(FLAT_30), contract(FLAT_25));
    let r = report(&u, &[flat30.clone(), flat25.clone()], ts(from), ts(to)).expect("report");
    assert_eq!((r.import_mwh, r.missing_s), (46_100_000, 86_100));

    // A year is 31 536 000 s: 46 100 Wh × 31 536 000 / 691 500 = 2 102 400 Wh = 240 W × 8760 h.
    // At 0.25: 46.1 × 0.25 = 11.525 over the data, × 31 536 000 / 691 500 = 525.60 a year; at
    // 0.30: 13.83 -> 630.72; the saving is 105.12. (With the edge quarter hours counted whole,
    // 769 × 900 = 692 100 s: 525.144… and 630.173…, shown 525.14 and 630.17.)
    let tz = TimeZone::get("Europe/Amsterdam").expect("tz");
    let found = tips(&u, &[flat30, flat25], &[], ts(to), &tz);
    let kinds: Vec<TipKind> = found.iter().map(|t| t.kind).collect();
    assert_eq!(kinds, [TipKind::BaseLoad, TipKind::CheapestContract]);
    let eur = |m: &str| Money::parse(m).expect("money");
    // Base load: 240 W × 8760 h = 2 102 400 Wh at the current (first) contract's 0.30 = 630.72.
    assert_eq!(found[0].wh_per_year, 2_102_400);
    assert_eq!(found[0].money_per_year, Some(eur("630.72")));
    let cheapest = &found[1];
    let per_year: Vec<(&str, Money)> = cheapest
        .evidence
        .contracts
        .iter()
        .map(|c| (c.name.as_str(), c.per_year))
        .collect();
    assert_eq!(
        per_year,
        [("Flat 0.25", eur("525.60")), ("Flat 0.30", eur("630.72"))]
    );
    assert_eq!(cheapest.money_per_year, Some(eur("105.12")));
    // 691 500 s is 8 whole days.
    let TipMessage::CheapestContract { days, .. } = &cheapest.message else {
        panic!("{:?}", cheapest.message)
    };
    assert_eq!(*days, 8);
}

/// 10:00 local on Monday 5 January (09:00Z).
const TEN_AM: i64 = MON_5_JAN + 10 * 3600;

/// 240 W read every minute from 10:05 to 11:00 (local), Hearth off until 13:00 (the vault
/// spreads the 2 h × 240 W = 480 Wh over the gap and flags it estimated), then every minute
/// to 13:20 and a last reading at 13:20:30.
fn readings_around_a_gap() -> Vec<Reading> {
    let q = TEN_AM;
    let mut readings: Vec<Reading> = (0..=55)
        .map(|k| reading(q + 300 + 60 * k, 1_000_000 + 4 * k))
        .collect();
    readings.extend((0..=20).map(|k| reading(q + 10_800 + 60 * k, 1_000_700 + 4 * k)));
    readings.push(reading(q + 12_030, 1_000_782));
    readings
}

#[test]
fn a_gap_inside_stays_estimated_and_only_the_edges_are_trimmed() {
    let q = TEN_AM;
    let dir = tempfile::tempdir().expect("dir");
    // Read the way the desktop does: through the writer's own handle.
    let vault = vault_with(dir.path(), &readings_around_a_gap());
    let u = from_vault(&vault, ts(q), ts(q + 4 * 3600)).expect("usage");

    // Per quarter hour from 10:00: 10:05-10:15 (600 s, 40 Wh); three whole ones (60 Wh); eight
    // estimated from 11:00 to 13:00 (60 Wh each); 13:00-13:15 (60 Wh); 13:15-13:20:30 (330 s,
    // 20 × 0 + 5 × 4 + 2 = 22 Wh); then nothing.
    let got: Vec<(u16, u16, i64)> = u
        .slots()
        .iter()
        .map(|s| (s.measured_s, s.estimated_s, s.import() / 1000))
        .collect();
    let mut want = vec![(600, 0, 40), (900, 0, 60), (900, 0, 60), (900, 0, 60)];
    want.extend([(0, 900, 60); 8]);
    want.extend([(900, 0, 60), (330, 0, 22), (0, 0, 0), (0, 0, 0)]);
    assert_eq!(got, want);
    assert_eq!(u.stats.gaps, 8, "each estimated quarter-hour row");
    // Covered: 600 + 3 × 900 + 8 × 900 + 900 + 330 = 11 730 s = 13:20:30 - 10:05; missing
    // 4 h - 11 730 s = 2 670 s. Used: 40 + 180 + 480 + 60 + 22 = 782 Wh, 480 of it estimated.
    let r = report(&u, &[], ts(q), ts(q + 4 * 3600)).expect("report");
    assert_eq!(
        (r.import_mwh, r.estimated_mwh, r.missing_s),
        (782_000, 480_000, 2_670)
    );
}

#[test]
fn an_empty_vault_gives_empty_usage() {
    let dir = tempfile::tempdir().expect("dir");
    let vault = vault_with(dir.path(), &[]);
    let u = from_vault(&vault, ts(MON_5_JAN), ts(MON_5_JAN + DAY)).expect("usage");
    assert_eq!(u.slots().len(), 96);
    assert!(u.slots().iter().all(|s| !s.has_data()));
    assert_eq!(u.stats, Default::default());
}

/// Flips one byte of the sealed chunk of resolution code `res` (0 raw, 2 quarter hours) whose
/// window is the newest, as a bad disk sector would.
fn damage_newest_chunk(path: &Path, res: u8) {
    hearth_vault::damage::flip_newest_chunk(path, res).expect("damaged");
}

#[test]
fn damaged_chunks_are_skipped_and_counted() {
    let q = TEN_AM;
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("v.hearth");
    vault_with(dir.path(), &readings_around_a_gap())
        .close()
        .expect("close");
    let usage = || {
        let vault = Vault::open_read_only(&path, "pw").expect("reader");
        from_vault(&vault, ts(q), ts(q + 4 * 3600)).expect("usage")
    };
    // The newest raw hour (12:00Z) is damaged: `reading_span` skips it and ends at the newest
    // intact reading (11:00 local), as if that hour were missing: the first quarter hour is
    // still trimmed to 10:05-10:15 (600 s), the rows after the span count whole (900 s), no
    // damage is counted (the rollups are intact) and the energy is unchanged: 782 Wh.
    damage_newest_chunk(&path, 0);
    let u = usage();
    assert_eq!(u.stats.damaged, 0);
    assert_eq!(
        (u.slots()[0].measured_s, u.slots()[13].measured_s),
        (600, 900)
    );
    assert_eq!(u.totals(0..16).0, 782_000);
    // The quarter-hour rollups' only chunk is damaged too: nothing to book, that part skipped,
    // every quarter hour missing.
    damage_newest_chunk(&path, 2);
    let u = usage();
    assert_eq!(u.stats.damaged, 1);
    assert!(u.slots().iter().all(|s| !s.has_data()));
    let r = report(&u, &[], ts(q), ts(q + 4 * 3600)).expect("report");
    assert_eq!((r.import_mwh, r.missing_s), (0, 4 * 3600));
}

#[test]
fn rollups_newer_than_the_stored_readings_count_whole() {
    // As when the collector checkpoints between reading the span and the rows: here the newest
    // raw hour (12:00Z, the readings from 13:00 local on) is simply gone, so the stored
    // readings end at 11:00 local. Rows after that still hold energy and are booked over
    // their whole quarter hour; the first one is still trimmed to 10:05-10:15 (600 s).
    let q = TEN_AM;
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("v.hearth");
    vault_with(dir.path(), &readings_around_a_gap())
        .close()
        .expect("close");
    let gone = hearth_vault::damage::delete_chunk(&path, 0, q + 10_800).expect("delete");
    assert_eq!(gone, 1, "the raw hour 12:00Z");
    let vault = Vault::open_read_only(&path, "pw").expect("reader");
    assert_eq!(
        vault.reading_span().expect("span"),
        Some((q + 300, q + 3600))
    );
    let u = from_vault(&vault, ts(q), ts(q + 4 * 3600)).expect("usage");
    let covered: Vec<(u16, u16)> = u
        .slots()
        .iter()
        .map(|s| (s.measured_s, s.estimated_s))
        .collect();
    let mut want = vec![(600, 0), (900, 0), (900, 0), (900, 0)];
    want.extend([(0, 900); 8]);
    want.extend([(900, 0), (900, 0), (0, 0), (0, 0)]);
    assert_eq!(covered, want);
    assert_eq!(u.totals(0..16).0, 782_000, "40 + 180 + 480 + 60 + 22 Wh");
}
