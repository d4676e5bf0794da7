//! The vault end to end: keys, append and query, rollups, gaps, swaps, late data, settings,
//! tampering, passphrase change, backups, CSV, concurrent reading and a real SIGKILL.

use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use hearth_meter_io::simulator::Simulator;
use hearth_vault::{
    CreateOptions, CsvOptions, KdfParams, Resolution, RestoreOptions, Row, Vault, VaultError,
    write_csv,
};
use std::path::{Path, PathBuf};

/// 2026-01-01T00:00:00Z (01:00 in Amsterdam).
const T0: i64 = 1_767_225_600;
const PW: &str = "correct horse battery staple";

fn options() -> CreateOptions {
    CreateOptions {
        kdf: KdfParams::INSECURE_FOR_TESTS,
        time_zone: Some("Europe/Amsterdam".into()),
    }
}

fn new_vault(dir: &Path) -> (Vault, PathBuf) {
    let path = dir.join("v.hearth");
    (Vault::create(&path, PW, &options()).unwrap(), path)
}

/// A reading with an import register and import power.
fn r(t: i64, import_wh: i64, watts: i64) -> Reading {
    let mut r = Reading::new(Protocol::Dsmr);
    r.time = Some(MeterTime::utc(t));
    r.set(Quantity::ImportWh, import_wh);
    r.set(Quantity::ImportW, watts);
    r
}

/// Restore options that take every setting, with a clock far after any test reading.
fn take_all() -> RestoreOptions<'static> {
    RestoreOptions {
        now: 4_102_444_800, // 2100-01-01
        take_setting: &|_| true,
    }
}

fn rows(v: &Vault, from: i64, to: i64, res: Resolution) -> Vec<Row> {
    v.readings(from, to, res)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

fn used(rows: &[Row], q: Quantity) -> i64 {
    rows.iter().filter_map(|r| r.reading.get(q)).sum()
}

fn sim_readings(seed: u64, start: i64, n: usize) -> Vec<Reading> {
    let mut sim = Simulator::new(seed, start);
    (0..n)
        .map(|_| {
            sim.step();
            sim.reading()
        })
        .collect()
}

#[test]
fn wrong_passphrase_missing_and_foreign_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (v, path) = new_vault(dir.path());
    drop(v);
    assert!(matches!(
        Vault::open(&path, "wrong"),
        Err(VaultError::WrongPassphrase)
    ));
    assert_eq!(
        Vault::open(&path, "wrong").err().unwrap().to_string(),
        "wrong passphrase: it does not unlock this vault"
    );
    assert!(matches!(
        Vault::open(&dir.path().join("nope.hearth"), PW),
        Err(VaultError::Missing(_))
    ));
    assert!(matches!(
        Vault::create(&path, PW, &options()),
        Err(VaultError::AlreadyExists(_))
    ));
    let junk = dir.path().join("junk.hearth");
    std::fs::write(&junk, b"this is not sqlite at all, just text").unwrap();
    assert!(Vault::open(&junk, PW).is_err());
    let empty_db = dir.path().join("empty.sqlite");
    rusqlite::Connection::open(&empty_db)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    assert!(matches!(
        Vault::open(&empty_db, PW),
        Err(VaultError::NotAVault(_))
    ));
    // The real passphrase still works.
    assert!(Vault::open(&path, PW).is_ok());
}

#[test]
fn one_writer_at_a_time_and_readers_alongside() {
    let dir = tempfile::tempdir().unwrap();
    let (mut w, path) = new_vault(dir.path());
    assert!(matches!(Vault::open(&path, PW), Err(VaultError::Busy)));
    let reader = Vault::open_read_only(&path, PW).unwrap();
    w.append(&(0..100).map(|i| r(T0 + i, i, 3600)).collect::<Vec<_>>())
        .unwrap();
    // Nothing visible before the checkpoint, everything after it.
    assert_eq!(rows(&reader, T0, T0 + 100, Resolution::Raw).len(), 0);
    w.flush().unwrap();
    assert_eq!(rows(&reader, T0, T0 + 100, Resolution::Raw).len(), 100);
    w.append(&[r(T0 + 100, 100, 3600)]).unwrap();
    w.flush().unwrap();
    assert_eq!(rows(&reader, T0, T0 + 200, Resolution::Raw).len(), 101);
    assert!(matches!(
        Vault::open_read_only(&path, "nope"),
        Err(VaultError::WrongPassphrase)
    ));
}

#[test]
fn raw_readings_come_back_exactly_and_rollups_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let (mut v, _) = new_vault(dir.path());
    // Two hours at one reading per second, 1 Wh per second (3600 W).
    let readings: Vec<Reading> = (0..7200).map(|i| r(T0 + i, 1_000_000 + i, 3600)).collect();
    v.append(&readings).unwrap();
    v.flush().unwrap();
    let raw = rows(&v, T0, T0 + 7200, Resolution::Raw);
    assert_eq!(raw.len(), 7200);
    for (row, orig) in raw.iter().zip(&readings) {
        assert_eq!(&row.reading, orig);
    }
    // Range edges: [from, to) in seconds.
    assert_eq!(rows(&v, T0 + 10, T0 + 20, Resolution::Raw).len(), 10);
    let minutes = rows(&v, T0, T0 + 7200, Resolution::Minute);
    assert_eq!(minutes.len(), 120);
    // Every minute but the last holds 60 steps of 1 Wh; the last one has 59 steps so far.
    assert!(
        minutes[..119]
            .iter()
            .all(|m| m.reading.get(Quantity::ImportWh) == Some(60))
    );
    assert_eq!(minutes[119].reading.get(Quantity::ImportWh), Some(59));
    assert!(
        minutes
            .iter()
            .all(|m| m.reading.get(Quantity::ImportW) == Some(3600))
    );
    assert!(minutes.iter().all(|m| !m.estimated && m.samples == 60));
    let hours = rows(&v, T0, T0 + 7200, Resolution::Hour);
    assert_eq!(hours.len(), 2);
    assert_eq!(hours[0].reading.get(Quantity::ImportWh), Some(3600));
    assert_eq!(hours[1].reading.get(Quantity::ImportWh), Some(3599));
    // Shown in Amsterdam time: 2026-01-01T01:00:00+01:00.
    assert_eq!(
        hours[0].reading.time.unwrap().to_string(),
        "2026-01-01T01:00:00+01:00"
    );
    // The local day started at 2025-12-31T23:00Z.
    let days = rows(&v, T0 - 3600, T0 + 86_400, Resolution::Day);
    assert_eq!(days.len(), 1);
    assert_eq!(days[0].start(), T0 - 3600);
    assert_eq!(used(&days, Quantity::ImportWh), 7199);
    let months = rows(&v, T0 - 3600, T0 + 86_400, Resolution::Month);
    assert_eq!(used(&months, Quantity::ImportWh), 7199);
    assert_eq!(months[0].samples, 7200);
}

#[test]
fn gaps_are_spread_and_flagged_swaps_never_go_negative_duplicates_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let (mut v, _) = new_vault(dir.path());
    let mut input = vec![r(T0, 500, 100), r(T0 + 1, 501, 100), r(T0 + 1, 999, 1)];
    // Hearth was off for 10 minutes; the meter counted 600 Wh meanwhile.
    input.push(r(T0 + 601, 1101, 100));
    // Meter swap: the new meter starts at 20 Wh and counts 5 Wh a minute. It proves a swap
    // (not a glitch) once it has counted on as a series of its own for SWAP_READINGS.
    input.push(r(T0 + 602, 20, 100));
    for k in 0..=9 {
        input.push(r(T0 + 603 + 60 * k, 25 + 5 * k, 100));
    }
    // A reading without any time cannot be placed: counted, not stored.
    input.push(Reading::new(Protocol::Sml));
    v.append(&input).unwrap();
    v.flush().unwrap();
    assert_eq!(v.stats().untimed, 1);
    assert_eq!(v.stats().duplicates, 1);
    assert_eq!(v.stats().stored, 14);
    assert_eq!(v.rollup_counts().meter_swaps, 1);
    assert_eq!(v.rollup_counts().glitches, 0);
    assert_eq!(v.rollup_counts().gaps, 1);
    let minutes = rows(&v, T0, T0 + 660, Resolution::Minute);
    assert_eq!(minutes.len(), 11);
    // Minute 0: 1 Wh measured + 59/600 of the 600 Wh gap = 60. Minutes 1..9: 60 each.
    // Minute 10: 1 s of gap (1 Wh), the swap step (0), then 58 s of the new meter's first
    // readings, spread once they proved a swap (the tenth, at 1083 s, 65 Wh): 45 Wh over
    // [602 s, 1083 s), 45 * 58/481 = 5.
    let expect: Vec<i64> = [vec![60], vec![60; 9], vec![6]].concat();
    let got: Vec<i64> = minutes
        .iter()
        .map(|m| m.reading.get(Quantity::ImportWh).unwrap())
        .collect();
    assert_eq!(got, expect);
    assert!(minutes.iter().all(|m| m.estimated));
    assert_eq!(minutes[5].samples, 0);
    // Mean power ignores the gap: minute 10 saw three 100 W samples.
    assert_eq!(minutes[10].reading.get(Quantity::ImportW), Some(100));
}

#[test]
fn late_readings_are_merged_and_rollups_match_in_order_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let all = sim_readings(7, T0, 3 * 3600);
    let (mut ordered, _) = new_vault(dir.path());
    ordered.append(&all).unwrap();
    ordered.flush().unwrap();

    let other = dir.path().join("late.hearth");
    let mut late = Vault::create(&other, PW, &options()).unwrap();
    // Second and third hours first, then the first hour (a backfill), then a repeat.
    late.append(&all[3600..]).unwrap();
    late.flush().unwrap();
    late.append(&all[..3600]).unwrap();
    late.append(&all[100..200]).unwrap();
    late.flush().unwrap();
    assert_eq!(late.stats().late, 3600);
    assert_eq!(late.stats().duplicates, 100);
    for res in Resolution::ALL {
        assert_eq!(
            rows(&late, T0 - 86_400, T0 + 86_400, res),
            rows(&ordered, T0 - 86_400, T0 + 86_400, res),
            "{res}"
        );
    }
    // The register difference over the whole span equals the sum of minute energy.
    let first = all[0].get(Quantity::ImportWh).unwrap();
    let last = all.last().unwrap().get(Quantity::ImportWh).unwrap();
    let minutes = rows(&late, T0, T0 + 4 * 3600, Resolution::Minute);
    assert_eq!(used(&minutes, Quantity::ImportWh), last - first);
}

#[test]
fn settings_are_sealed_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (mut v, path) = new_vault(dir.path());
    v.put_setting("tariffs", b"name = \"flat\"").unwrap();
    v.put_setting("meter_key.smarty", &[0xAA; 16]).unwrap();
    drop(v);
    let v = Vault::open_read_only(&path, PW).unwrap();
    assert_eq!(
        v.get_setting("tariffs")
            .unwrap()
            .as_deref()
            .map(|b| b.to_vec()),
        Some(b"name = \"flat\"".to_vec())
    );
    assert_eq!(v.get_setting("absent").unwrap(), None);
    assert_eq!(v.time_zone().iana_name(), Some("Europe/Amsterdam"));
    // The key bytes are nowhere in the file in clear.
    let bytes = std::fs::read(&path).unwrap();
    assert!(!bytes.windows(13).any(|w| w == b"name = \"flat\""));
}

#[test]
fn tampering_is_detected_and_verify_reports_without_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let (mut v, path) = new_vault(dir.path());
    v.append(&sim_readings(1, T0, 3 * 3600)).unwrap();
    v.close().unwrap();
    let v = Vault::open_read_only(&path, PW).unwrap();
    let clean = v.verify().unwrap();
    assert!(clean.damaged.is_empty(), "{:?}", clean.damaged);
    assert_eq!(clean.readings, 3 * 3600);
    drop(v);
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        // Swap the sealed blobs of hours 0 and 1, and flip a byte in hour 2.
        let get = |w: i64| -> Vec<u8> {
            c.query_row(
                "SELECT sealed FROM chunk WHERE res = 0 AND window_start = ?1",
                [w],
                |r| r.get(0),
            )
            .unwrap()
        };
        let (a, b, mut z) = (get(T0), get(T0 + 3600), get(T0 + 7200));
        z[40] ^= 1;
        for (w, blob) in [(T0, &b), (T0 + 3600, &a), (T0 + 7200, &z)] {
            c.execute(
                "UPDATE chunk SET sealed = ?1 WHERE res = 0 AND window_start = ?2",
                rusqlite::params![blob, w],
            )
            .unwrap();
        }
    }
    let v = Vault::open_read_only(&path, PW).unwrap();
    let report = v.verify().unwrap();
    assert_eq!(report.damaged.len(), 3, "{:?}", report.damaged);
    assert_eq!(report.ok, clean.ok - 3);
    // A query over the damaged hours yields errors, not garbage or a panic.
    let items: Vec<_> = v
        .readings(T0, T0 + 3 * 3600, Resolution::Raw)
        .unwrap()
        .collect();
    assert_eq!(items.len(), 3);
    assert!(
        items
            .iter()
            .all(|i| matches!(i, Err(VaultError::Damaged { .. })))
    );
}

fn all_chunks(path: &Path) -> Vec<(i64, i64, Vec<u8>)> {
    let c = rusqlite::Connection::open(path).unwrap();
    let mut stmt = c
        .prepare("SELECT res, window_start, sealed FROM chunk ORDER BY res, window_start")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn passwd_rewraps_only_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let (mut v, path) = new_vault(dir.path());
    v.append(&[r(T0, 1, 1), r(T0 + 1, 2, 1), r(T0 + 3600, 3, 1)])
        .unwrap();
    v.flush().unwrap();
    let before = all_chunks(&path);
    assert_eq!(before.iter().filter(|c| c.0 == 0).count(), 2);
    v.change_passphrase("new one", None).unwrap();
    drop(v);
    assert!(matches!(
        Vault::open(&path, PW),
        Err(VaultError::WrongPassphrase)
    ));
    let v = Vault::open(&path, "new one").unwrap();
    assert_eq!(rows(&v, T0, T0 + 3601, Resolution::Raw).len(), 3);
    drop(v);
    // Not one sealed chunk was rewritten.
    assert_eq!(before, all_chunks(&path));
}

#[test]
fn backups_restore_into_another_vault_and_repeat_safely() {
    let dir = tempfile::tempdir().unwrap();
    let all = sim_readings(3, T0, 4 * 3600);
    let (mut a, _) = new_vault(dir.path());
    a.append(&all).unwrap();
    a.put_setting("tariffs", b"flat").unwrap();
    let whole = dir.path().join("whole.backup");
    let report = a.backup(&whole, None).unwrap();
    assert_eq!(report.chunks, 4);
    // A range backup holds only the hours overlapping it.
    let part = dir.path().join("part.backup");
    assert_eq!(
        a.backup(&part, Some((T0 + 3600, T0 + 7200)))
            .unwrap()
            .chunks,
        1
    );

    // The laptop already has hour 2 and 3 (from its own collector).
    let b_path = dir.path().join("b.hearth");
    let mut b = Vault::create(&b_path, "laptop pw", &options()).unwrap();
    b.append(&all[7200..10_800]).unwrap();
    b.flush().unwrap();
    assert!(matches!(
        b.restore(&whole, "laptop pw", &take_all()),
        Err(VaultError::WrongPassphrase)
    ));
    let first = b.restore(&whole, PW, &take_all()).unwrap();
    assert_eq!(first.read, 4 * 3600);
    assert_eq!(first.already_present, 3600);
    assert_eq!(first.added, 3 * 3600);
    assert_eq!(first.settings_added, 1);
    let again = b.restore(&whole, PW, &take_all()).unwrap();
    assert_eq!(again.added, 0);
    assert_eq!(again.already_present, 4 * 3600);
    for res in Resolution::ALL {
        assert_eq!(
            rows(&b, T0 - 86_400, T0 + 86_400, res),
            rows(&a, T0 - 86_400, T0 + 86_400, res),
            "{res}"
        );
    }
    assert_eq!(
        b.get_setting("tariffs")
            .unwrap()
            .as_deref()
            .map(|s| s.to_vec()),
        Some(b"flat".to_vec())
    );
}

#[test]
fn csv_export_has_the_design_header_and_exact_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let (mut v, _) = new_vault(dir.path());
    let mut a = r(T0, 1_234_567, 250);
    a.set(Quantity::L1Dv, 2301);
    let b = r(T0 + 1, 1_234_568, 260);
    v.append(&[a, b, r(T0 + 400, 1_234_600, 0)]).unwrap();
    v.flush().unwrap();
    let mut out = Vec::new();
    let n = write_csv(
        v.readings(T0, T0 + 2, Resolution::Raw).unwrap(),
        Resolution::Raw,
        v.time_zone(),
        &mut out,
        &CsvOptions::default(),
    )
    .unwrap();
    assert_eq!(n, 2);
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("time,meter_id,protocol,dsmr_version,tariff,import_kwh,"));
    assert!(lines[0].ends_with(
        ",heat_gj,heat_time,interval_import_kwh,interval_export_kwh,interval_s,estimated"
    ));
    let header: Vec<&str> = lines[0].split(',').collect();
    let cells: Vec<&str> = lines[1].split(',').collect();
    let col = |name: &str| cells[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(col("time"), "2026-01-01T01:00:00+01:00");
    assert_eq!(col("import_kwh"), "1234.567");
    assert_eq!(col("l1_v"), "230.1");
    assert_eq!(col("import_w"), "250");
    assert_eq!(col("estimated"), "false");

    let mut out = Vec::new();
    write_csv(
        v.readings(T0, T0 + 600, Resolution::Minute).unwrap(),
        Resolution::Minute,
        v.time_zone(),
        &mut out,
        &CsvOptions {
            decimal_comma: true,
        },
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let header: Vec<&str> = lines[0].split(';').collect();
    assert_eq!(
        &header[header.len() - 5..],
        [
            "estimated",
            "import_w_min",
            "import_w_max",
            "export_w_min",
            "export_w_max"
        ]
    );
    let cells: Vec<&str> = lines[1].split(';').collect();
    let col = |name: &str| cells[header.iter().position(|h| *h == name).unwrap()];
    // Minute 0: 1 Wh measured + 59 s of the 399 s gap carrying 32 Wh: floor(32*59/399) = 4.
    assert_eq!(col("import_kwh"), "0,005");
    assert_eq!(col("import_w"), "255");
    assert_eq!(col("import_w_max"), "260");
    assert_eq!(col("estimated"), "true");
    assert_eq!(col("protocol"), "");
}

#[test]
fn bytes_per_reading_stay_small_on_a_realistic_day() {
    let dir = tempfile::tempdir().unwrap();
    let (mut v, path) = new_vault(dir.path());
    let day = sim_readings(11, T0, 86_400);
    v.append(&day).unwrap();
    v.close().unwrap();
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;")
        .unwrap();
    drop(c);
    let size = std::fs::metadata(&path).unwrap().len();
    let per = size as f64 / 86_400.0;
    eprintln!("vault file after one simulated day: {size} bytes, {per:.2} bytes/reading");
    assert!(per <= 4.0, "{per} bytes per reading (goal 4, ceiling 8)");
}

#[test]
fn clock_jumps_neither_invent_energy_nor_block_later_readings() {
    let dir = tempfile::tempdir().unwrap();
    let (mut v, _) = new_vault(dir.path());
    // A live collector: a reading dated a year ahead of its clock is refused.
    v.set_clock(T0 + 10).unwrap();
    v.append(&[
        r(T0, 100, 1),
        r(T0 + 1, 101, 1),
        r(T0 + 365 * 86_400, 5000, 1),
        r(T0 + 2, 102, 1),
    ])
    .unwrap();
    assert_eq!(v.stats().future, 1);
    assert_eq!(v.stats().stored, 3);
    assert_eq!(v.last_time(), Some(T0 + 2));
    // An import (no clock) with a three-year jump: a new segment, no energy spread over it.
    let far = T0 + 3 * 366 * 86_400;
    let other = dir.path().join("jump.hearth");
    let mut w = Vault::create(&other, PW, &options()).unwrap();
    w.append(&[
        r(T0, 100, 1),
        r(T0 + 1, 101, 1),
        r(far, 900, 1),
        r(far + 1, 902, 1),
    ])
    .unwrap();
    w.flush().unwrap();
    assert_eq!(w.rollup_counts().clock_jumps, 1);
    assert_eq!(w.rollup_counts().gaps, 0);
    let months = rows(&w, T0 - 86_400, far + 86_400, Resolution::Month);
    assert_eq!(months.len(), 2);
    assert_eq!(used(&months, Quantity::ImportWh), 1 + 2);
}

#[test]
fn a_spring_forward_day_has_23_hours() {
    let dir = tempfile::tempdir().unwrap();
    let (mut v, _) = new_vault(dir.path());
    // Local midnight 2026-03-29 in Amsterdam is 2026-03-28T23:00Z; the next one 22:00Z.
    let start = 1_774_738_800;
    let readings: Vec<Reading> = (0..=25 * 60).map(|m| r(start + m * 60, m, 60)).collect();
    v.append(&readings).unwrap();
    v.flush().unwrap();
    let days = rows(&v, start, start + 25 * 3600, Resolution::Day);
    assert_eq!(days[0].start(), start);
    assert_eq!(days[1].start(), start + 23 * 3600);
    // One Wh per minute step: 23 hours = 1380 Wh.
    assert_eq!(days[0].reading.get(Quantity::ImportWh), Some(1380));
    assert_eq!(
        days[0].reading.time.unwrap().to_string(),
        "2026-03-29T00:00:00+01:00"
    );
    assert_eq!(
        days[1].reading.time.unwrap().to_string(),
        "2026-03-30T00:00:00+02:00"
    );
    let hours = rows(&v, start, start + 23 * 3600, Resolution::Hour);
    assert_eq!(hours.len(), 23);
    assert_eq!(
        hours[2].reading.time.unwrap().to_string(),
        "2026-03-29T03:00:00+02:00"
    );
}

#[test]
fn a_fall_back_day_has_25_hours_and_the_repeated_hour_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (mut v, _) = new_vault(dir.path());
    // Local midnight 2026-10-25 in Amsterdam is 2026-10-24T22:00Z; the next one 23:00Z.
    let start = 1_792_879_200;
    let readings: Vec<Reading> = (0..=26 * 60)
        .map(|m| r(start + m * 60, 2 * m, 120))
        .collect();
    v.append(&readings).unwrap();
    v.flush().unwrap();
    let days = rows(&v, start, start + 26 * 3600, Resolution::Day);
    assert_eq!(days[1].start() - days[0].start(), 25 * 3600);
    // Two Wh per minute step: 25 hours = 3000 Wh.
    assert_eq!(days[0].reading.get(Quantity::ImportWh), Some(3000));
    let hours = rows(&v, start, start + 25 * 3600, Resolution::Hour);
    assert_eq!(hours.len(), 25);
    let shown: Vec<String> = hours[2..4]
        .iter()
        .map(|h| h.reading.time.unwrap().to_string())
        .collect();
    assert_eq!(
        shown,
        ["2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00"]
    );
}

#[test]
fn a_failed_write_stops_the_writer_and_reopening_resumes_at_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let (mut v, path) = new_vault(dir.path());
    v.append(&[r(T0, 10, 1), r(T0 + 1, 11, 1)]).unwrap();
    v.flush().unwrap();
    // Another connection holds the database's write lock: the checkpoint cannot commit.
    let blocker = rusqlite::Connection::open(&path).unwrap();
    blocker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    v.append(&[r(T0 + 2, 12, 1)]).unwrap();
    assert!(matches!(v.flush(), Err(VaultError::Sqlite(_))));
    assert!(matches!(
        v.append(&[r(T0 + 3, 13, 1)]),
        Err(VaultError::Poisoned)
    ));
    blocker.execute_batch("ROLLBACK").unwrap();
    drop(v);
    let mut v = Vault::open(&path, PW).unwrap();
    assert_eq!(v.last_time(), Some(T0 + 1));
    v.append(&[r(T0 + 2, 12, 1)]).unwrap();
    v.flush().unwrap();
    assert_eq!(rows(&v, T0, T0 + 10, Resolution::Raw).len(), 3);
    assert_eq!(v.verify().unwrap().damaged, Vec::<String>::new());
}

#[test]
fn a_damaged_writer_state_is_rebuilt_from_the_chunks_and_collection_continues() {
    let dir = tempfile::tempdir().unwrap();
    let (mut v, path) = new_vault(dir.path());
    let day = sim_readings(3, T0, 5400); // an hour and a half: one closed raw hour, one open
    v.append(&day[..4000]).unwrap();
    v.close().unwrap();
    // Flip one byte of the sealed checkpoint state.
    let c = rusqlite::Connection::open(&path).unwrap();
    let mut state: Vec<u8> = c
        .query_row("SELECT sealed FROM writer_state WHERE id = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    let mid = state.len() / 2;
    state[mid] ^= 0x40;
    c.execute("UPDATE writer_state SET sealed = ?1 WHERE id = 1", [&state])
        .unwrap();
    drop(c);

    let mut v = Vault::open(&path, PW).unwrap();
    assert!(
        v.writer_state_rebuilt(),
        "the damage is noticed and repaired"
    );
    assert_eq!(
        v.last_time(),
        Some(T0 + 3999),
        "resumes after the last stored reading"
    );
    v.append(&day[4000..]).unwrap();
    v.close().unwrap();

    let v = Vault::open_read_only(&path, PW).unwrap();
    let raw = rows(&v, T0, T0 + 5400, Resolution::Raw);
    assert_eq!(
        raw.len(),
        5400,
        "nothing stored before or after the damage is lost"
    );
    assert_eq!(raw[4321].reading, day[4321]);
    // The rollups still add up to the register difference over the whole span.
    let minutes = rows(&v, T0, T0 + 5400, Resolution::Minute);
    let first = day[0].get(Quantity::ImportWh).unwrap();
    let last = day[5399].get(Quantity::ImportWh).unwrap();
    assert_eq!(used(&minutes, Quantity::ImportWh), last - first);
    let report = v.verify().unwrap();
    assert!(report.damaged.is_empty(), "{:?}", report.damaged);
}

#[test]
fn a_reader_beside_the_writer_sees_what_was_checkpointed_and_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let (mut v, _path) = new_vault(dir.path());
    v.append(&[r(T0, 1_000, 100), r(T0 + 1, 1_001, 100)])
        .unwrap();
    v.flush().unwrap();
    // No passphrase and no key derivation: the writer's own key.
    let mut reader = v.reader().unwrap();
    assert_eq!(rows(&reader, T0, T0 + 10, Resolution::Raw).len(), 2);
    assert_eq!(reader.time_zone(), v.time_zone());
    // The writer goes on; the reader sees the next checkpoint, not the open chunk before it.
    v.append(&[r(T0 + 2, 1_002, 100)]).unwrap();
    assert_eq!(rows(&reader, T0, T0 + 10, Resolution::Raw).len(), 2);
    v.flush().unwrap();
    let seen = rows(&reader, T0, T0 + 10, Resolution::Raw);
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[2].reading.get(Quantity::ImportWh), Some(1_002));
    // It reads only.
    assert!(matches!(
        reader.append(&[r(T0 + 3, 1_003, 100)]),
        Err(VaultError::ReadOnly)
    ));
    // And outlives the writer.
    v.close().unwrap();
    assert_eq!(rows(&reader, T0, T0 + 10, Resolution::Raw).len(), 3);
}

/// A second reading at the time of the newest one that brings what the first lacked (a meter's
/// gas list in the same second, a supplier interval beside a meter reading) is merged into it,
/// live, without a rebuild: raw data and every rollup are as if one reading had come.
#[test]
fn a_second_reading_at_the_same_time_is_merged_as_if_one_had_come() {
    let dir = tempfile::tempdir().unwrap();
    let with_gas = |t: i64, gas: i64| {
        let mut g = Reading::new(Protocol::Dsmr);
        g.time = Some(MeterTime::utc(t));
        g.set(Quantity::GasDm3, gas);
        g
    };
    let mut split = Vault::create(&dir.path().join("split.hearth"), PW, &options()).unwrap();
    let mut whole = Vault::create(&dir.path().join("whole.hearth"), PW, &options()).unwrap();
    for k in 0..600 {
        let t = T0 + 10 * k;
        let elec = r(t, 1_000_000 + 3 * k, 1080);
        split.append(std::slice::from_ref(&elec)).unwrap();
        let mut one = elec.clone();
        if k % 30 == 0 {
            // Gas every five minutes, 40 dm³ a step, in its own reading at the same second.
            let gas = with_gas(t, 5_000 + 4 * k);
            split.append(&[gas.clone(), gas]).unwrap();
            one.set(Quantity::GasDm3, 5_000 + 4 * k);
        }
        whole.append(&[one]).unwrap();
    }
    split.flush().unwrap();
    whole.flush().unwrap();
    // 20 gas readings merged, 20 more were the same again.
    assert_eq!(split.stats().late, 20);
    assert_eq!(split.stats().duplicates, 20);
    assert_eq!(split.stats().stored, 600);
    let (a, z) = (T0 - 86_400, T0 + 86_400);
    assert_eq!(
        rows(&split, a, z, Resolution::Raw),
        rows(&whole, a, z, Resolution::Raw)
    );
    for res in Resolution::ROLLUPS {
        assert_eq!(rows(&split, a, z, res), rows(&whole, a, z, res), "{res:?}");
    }
    let hours = rows(&whole, a, z, Resolution::Hour);
    assert_eq!(used(&hours, Quantity::GasDm3), 19 * 120);
}
