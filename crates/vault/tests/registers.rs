//! Meters whose readings do not all carry the same registers, through the real decoders into
//! a vault: RAVEn (demand every 8 s, the summation every 240 s) and Glow (electricity every
//! 10 s, gas every 30 min). Every rollup holds the register differences, `reading_span` ends
//! at readings that carry energy, and a late reading that rebuilds a month finds each
//! register's previous value.

use hearth_meter::glow::GlowDecoder;
use hearth_meter::raven::{EPOCH_2000, RavenDecoder};
use hearth_meter::{Decoder, MeterTime, Protocol, Quantity, Reading};
use hearth_vault::{CreateOptions, KdfParams, Resolution, Row, Vault};
use std::path::{Path, PathBuf};

const PW: &str = "pw";
/// 2026-01-05T10:00:00Z (11:00 in Amsterdam: quarters and hours align with UTC).
const T: i64 = 1_767_607_200;

fn new_vault(dir: &Path) -> (Vault, PathBuf) {
    let path = dir.join("v.hearth");
    let options = CreateOptions {
        kdf: KdfParams::INSECURE_FOR_TESTS,
        time_zone: Some("Europe/Amsterdam".into()),
    };
    (Vault::create(&path, PW, &options).expect("create"), path)
}

fn rows(v: &Vault, from: i64, to: i64, res: Resolution) -> Vec<Row> {
    v.readings(from, to, res)
        .expect("rows")
        .collect::<Result<Vec<_>, _>>()
        .expect("intact")
}

fn used(rows: &[Row], q: Quantity) -> Vec<Option<i64>> {
    rows.iter().map(|r| r.used(q)).collect()
}

fn decode_all(d: &mut impl Decoder, input: &[u8]) -> Vec<Reading> {
    d.push(input);
    let mut out = Vec::new();
    while let Some(x) = d.next() {
        out.push(x.expect("decodes").reading);
    }
    out
}

/// The fixture line that starts with `start` and contains `with`.
fn template(fixture: &[u8], start: &str, with: &str) -> String {
    fixture
        .split(|&b| b == b'\n')
        .map(String::from_utf8_lossy)
        .find(|l| l.starts_with(start) && l.contains(with))
        .expect("template line")
        .into_owned()
}

/// RAVEn fragments for two hours from `T`: summation at `T + 240k` (k = 0..=30; the fixture's
/// Multiplier 2 / Divisor 200 make one unit 10 Wh), demand at `T + 4 + 8j` (j = 0..=900, the
/// last one after the last summation).
fn raven_input() -> Vec<u8> {
    let fixture = std::fs::read("tests/fixtures/raven/aioraven_responses.xml").expect("fixture");
    let sum = template(&fixture, "<CurrentSummationDelivered>", "0x00000C7B");
    let demand = template(&fixture, "<InstantaneousDemand>", "<SuppressLeadingZero>Y");
    let at = |line: &str, t: i64| line.replace("0x29bd58a7", &format!("{:#010x}", t - EPOCH_2000));
    // The 15 register steps of each hour, in units of 10 Wh.
    let steps = [4, 8, 12, 20, 6, 2, 10, 16, 24, 4, 8, 12, 20, 6, 2];
    let mut units = 0xC7B;
    let mut out = String::new();
    for j in 0..=900 {
        let t = T + 8 * j;
        if j % 30 == 0 {
            if j > 0 {
                units += steps[(j / 30 - 1) as usize % 15];
            }
            let line = at(&sum, t).replace("0x00000C7B", &format!("{units:#010X}"));
            out.push_str(&line.replace("0X", "0x"));
            out.push('\n');
        }
        out.push_str(&at(&demand, t + 4));
        out.push('\n');
    }
    out.into_bytes()
}

#[test]
fn raven_summations_every_four_minutes_fill_every_rollup() {
    let readings = decode_all(&mut RavenDecoder::new(), &raven_input());
    assert_eq!(readings.len(), 31 + 901);
    assert_eq!(readings[0].get(Quantity::ImportWh), Some(31_950));
    assert_eq!(readings[1].get(Quantity::ImportWh), None, "demand only");
    let dir = tempfile::tempdir().expect("dir");
    let (mut v, _) = new_vault(dir.path());
    v.append(&readings).expect("append");
    v.flush().expect("flush");
    // Per hour, in Wh (interval k = [240k, 240k + 240) s, quarter boundaries 900/1800/2700):
    // Q0 = 40 + 80 + 120 + 200 * 180/240 = 390
    // Q1 = 200 * 60/240 + 60 + 20 + 100 + 160 * 120/240 = 310
    // Q2 = 160 * 120/240 + 240 + 40 + 80 + 120 * 60/240 = 470
    // Q3 = 120 * 180/240 + 200 + 60 + 20 = 370; the hour 1540 = the 15 steps.
    // Before the fix every one of them was 0 Wh.
    let q = rows(&v, T, T + 7200, Resolution::Quarter);
    let hour = [Some(390), Some(310), Some(470), Some(370)];
    assert_eq!(used(&q, Quantity::ImportWh), [hour, hour].concat());
    assert_eq!(used(&q, Quantity::ExportWh), [Some(0); 8]);
    assert!(q.iter().all(|r| !r.estimated));
    let h = rows(&v, T, T + 7200, Resolution::Hour);
    assert_eq!(used(&h, Quantity::ImportWh), [Some(1540), Some(1540)]);
    // The last reading (demand at 12:00:04Z) carries no energy: the span ends at the last
    // summation, 12:00:00Z.
    assert_eq!(v.reading_span().expect("span"), Some((T, T + 7200)));
}

/// Glow messages for two hours from `T`: electricity at `T + 5 + 10j` (j = 0..720, 2 Wh per
/// step), gas at `T + 900 + 1800k` (k = 0..=3, steps of 120, 60 and 300 dm3).
fn glow_input() -> Vec<u8> {
    let fixture =
        std::fs::read("tests/fixtures/glow/eventhub_to_timescale.jsonl").expect("fixture");
    let elec = template(&fixture, "glow/", "electricitymeter {");
    let gas = template(&fixture, "glow/", "gasmeter {");
    // All times lie on 2026-01-05.
    let stamp = |t: i64| {
        let s = t - 1_767_571_200;
        format!(
            "2026-01-05T{:02}:{:02}:{:02}Z",
            s / 3600,
            s / 60 % 60,
            s % 60
        )
    };
    let mut gas_dm3 = 1_357_208;
    let gas_steps = [0, 120, 60, 300];
    let mut out = String::new();
    for j in 0..720 {
        let t = T + 5 + 10 * j;
        let wh = 5_071_527 + 2 * j;
        let line = elec
            .replace("2022-12-26T14:02:28Z", &stamp(t))
            .replace("5071.527", &format!("{}.{:03}", wh / 1000, wh % 1000));
        out.push_str(&line);
        out.push('\n');
        let tg = t + 5;
        if tg >= T + 900 && (tg - T - 900) % 1800 == 0 && tg < T + 7200 {
            gas_dm3 += gas_steps[((tg - T - 900) / 1800) as usize];
            let line = gas.replace("2022-12-26T14:02:13Z", &stamp(tg)).replace(
                "1357.208",
                &format!("{}.{:03}", gas_dm3 / 1000, gas_dm3 % 1000),
            );
            out.push_str(&line);
            out.push('\n');
        }
    }
    out.into_bytes()
}

#[test]
fn glow_gas_every_half_hour_and_electricity_every_ten_seconds_are_both_whole() {
    let readings = decode_all(&mut GlowDecoder::new(), &glow_input());
    assert_eq!(readings.len(), 720 + 4);
    let dir = tempfile::tempdir().expect("dir");
    let (mut v, _) = new_vault(dir.path());
    v.append(&readings).expect("append");
    v.flush().expect("flush");
    let q = rows(&v, T, T + 7200, Resolution::Quarter);
    // Electricity 0.2 Wh/s from 10:00:05Z to 11:59:55Z: 895 s = 179 Wh in the first and last
    // quarter, 180 in the others; 719 steps of 2 Wh = 1438. Before the fix each step across a
    // gas reading was dropped (715 of 719 Wh in the first hour).
    assert_eq!(
        used(&q, Quantity::ImportWh),
        [179, 180, 180, 180, 180, 180, 180, 179].map(Some)
    );
    // Gas: 120 dm3 over [10:15, 10:45), 60 over [10:45, 11:15), 300 over [11:15, 11:45)
    // (before the fix: 0).
    assert_eq!(
        used(&q, Quantity::GasDm3),
        [
            None,
            Some(60),
            Some(60),
            Some(30),
            Some(30),
            Some(150),
            Some(150),
            None
        ]
    );
    assert!(q.iter().all(|r| !r.estimated));
    let h = rows(&v, T, T + 7200, Resolution::Hour);
    assert_eq!(used(&h, Quantity::ImportWh), [Some(719), Some(719)]);
    assert_eq!(used(&h, Quantity::GasDm3), [Some(150), Some(330)]);
    let d = rows(&v, T - 86_400, T + 86_400, Resolution::Day);
    assert_eq!(used(&d, Quantity::ImportWh), [Some(1438)]);
    assert_eq!(used(&d, Quantity::GasDm3), [Some(480)]);
    assert_eq!(v.reading_span().expect("span"), Some((T + 5, T + 7195)));
}

#[test]
fn reading_span_skips_a_damaged_raw_chunk() {
    let readings = decode_all(&mut RavenDecoder::new(), &raven_input());
    let dir = tempfile::tempdir().expect("dir");
    let (v, path) = new_vault(dir.path());
    let mut v = v;
    v.append(&readings).expect("append");
    v.close().expect("close");
    // Flip a bit in the newest raw hour (12:00Z: the summation at 12:00:00 and a demand).
    let db = rusqlite::Connection::open(&path).expect("sqlite");
    let mut sealed: Vec<u8> = db
        .query_row(
            "SELECT sealed FROM chunk WHERE res = 0 AND window_start = ?1",
            [T + 7200],
            |r| r.get(0),
        )
        .expect("the 12:00Z hour");
    let mid = sealed.len() / 2;
    sealed[mid] ^= 0x20;
    db.execute(
        "UPDATE chunk SET sealed = ?1 WHERE res = 0 AND window_start = ?2",
        rusqlite::params![sealed, T + 7200],
    )
    .expect("damage");
    drop(db);
    let v = Vault::open_read_only(&path, PW).expect("reader");
    // The newest intact hour's last summation is at 11:56:00Z.
    assert_eq!(v.reading_span().expect("span"), Some((T, T + 6960)));
}

#[test]
fn a_vault_of_power_only_readings_spans_its_readings() {
    let dir = tempfile::tempdir().expect("dir");
    let (mut v, _) = new_vault(dir.path());
    let power: Vec<Reading> = (0..10)
        .map(|k| {
            let mut r = Reading::new(Protocol::Raven);
            r.time = Some(MeterTime::utc(T + 8 * k));
            r.set(Quantity::ImportW, 500);
            r
        })
        .collect();
    v.append(&power).expect("append");
    v.flush().expect("flush");
    // No reading carries energy: the span falls back to the readings themselves.
    assert_eq!(v.reading_span().expect("span"), Some((T, T + 72)));
}

#[test]
fn a_late_reading_rebuilds_a_month_from_each_registers_previous_value() {
    // Local midnight 2026-02-01 in Amsterdam (23:00Z): a month boundary for the rollups.
    let m = 1_769_900_400;
    let reading = |t: i64, q: Quantity, v: i64| {
        let mut r = Reading::new(Protocol::Raven);
        r.time = Some(MeterTime::utc(t));
        r.set(q, v);
        r
    };
    // Summation every 240 s at m - 3480 + 240k (k = 0..=29), 48 Wh per step, so the step
    // [m - 120, m + 120) crosses the month boundary; demand every 8 s at m - 3596 + 8j.
    let mut rs = Vec::new();
    for j in 0..900 {
        let t = m - 3596 + 8 * j;
        rs.push(reading(t, Quantity::ImportW, 720));
        let ts = t + 4;
        if ts >= m - 3480 && (ts - (m - 3480)) % 240 == 0 && ts <= m + 3480 {
            let k = (ts - (m - 3480)) / 240;
            rs.push(reading(ts, Quantity::ImportWh, 100_000 + 48 * k));
        }
    }
    let dir = tempfile::tempdir().expect("dir");
    let (mut v, _) = new_vault(dir.path());
    v.append(&rs).expect("append");
    v.flush().expect("flush");
    let all = |v: &Vault, res| {
        used(
            &rows(v, m - 86_400 * 40, m + 86_400 * 40, res),
            Quantity::ImportWh,
        )
    };
    // 0.2 Wh/s from m - 3480 to m + 3480: the edge quarters hold 780 s (156 Wh), the others
    // 180; each side of the boundary 3480 s = 696 Wh.
    let quarters = [156, 180, 180, 180, 180, 180, 180, 156].map(Some);
    assert_eq!(all(&v, Resolution::Quarter), quarters);
    assert_eq!(all(&v, Resolution::Month), [Some(696), Some(696)]);
    // A late demand reading at m + 602 (a time not stored yet): the rollups are rebuilt from
    // February (the month of the reading before it), starting from the summation at m - 120
    // found in January's raw hours, so the step across midnight is still booked.
    v.append(&[reading(m + 602, Quantity::ImportW, 700)])
        .expect("late");
    v.flush().expect("flush");
    assert_eq!(all(&v, Resolution::Quarter), quarters);
    assert_eq!(all(&v, Resolution::Hour), [Some(696), Some(696)]);
    assert_eq!(all(&v, Resolution::Day), [Some(696), Some(696)]);
    assert_eq!(all(&v, Resolution::Month), [Some(696), Some(696)]);
}
