//! Issue 17, findings 3 and 14, through the `hearth` binary: a register that drops (to 0, to a
//! low value, negative) or jumps for a reading or a few and comes back is a glitch, never
//! booked, counted, and the report agrees with the export; readings a quarter hour apart (a
//! Belgian meter's quarter-hour data) and a supplier's half hours are measured data, not
//! "estimated", while a missing quarter hour in them is.

mod system;

use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use serde_json::Value;
use system::{Env, T0, column, csv_rows, fixed};

fn write(env: &Env, name: &str, text: &str) -> String {
    let path = env.path(name);
    std::fs::write(&path, text).expect("file written");
    path.to_str().expect("utf-8 path").to_string()
}

/// JSON Lines of import registers (Wh) at `T0 + step * i`.
fn series(step: i64, registers: impl IntoIterator<Item = i64>) -> String {
    let mut out = String::new();
    for (i, wh) in registers.into_iter().enumerate() {
        let mut r = Reading::new(Protocol::Dsmr);
        r.time = Some(MeterTime::utc(T0 + step * i as i64));
        r.set(Quantity::ImportWh, wh);
        out.push_str(&r.to_json());
        out.push('\n');
    }
    out
}

/// `hearth report` of the days `[from, to)` as JSON.
fn report(env: &Env, from: &str, to: &str) -> Value {
    let out = env.ok(&["report", "--from", from, "--to", to, "--format", "json"]);
    serde_json::from_str(&out).expect("report JSON")
}

/// `import_kwh` of every row of an export at `resolution`, in Wh.
fn exported(env: &Env, resolution: &str) -> Vec<i64> {
    let rows = csv_rows(&env.ok(&["export", "--resolution", resolution]));
    rows.iter()
        .filter(|r| !r[column("import_kwh")].is_empty())
        .map(|r| fixed(&r[column("import_kwh")], 3))
        .collect()
}

#[test]
fn a_register_that_drops_or_jumps_and_comes_back_books_nothing_and_is_counted() {
    // Two hours, a reading every 10 s, 2 Wh a step (720 W) from 12,345 kWh: 719 steps =
    // 1438 Wh, whatever the odd readings at step 300 and after say.
    let good = |k: i64| 12_345_000 + 2 * k;
    for (what, odd) in [
        ("a drop to 0", vec![(300, 0)]),
        ("a negative register", vec![(300, -5_000)]),
        ("a low value", vec![(300, 12_000_000)]),
        ("three readings of 0", vec![(300, 0), (301, 0), (302, 0)]),
        ("a million kWh", vec![(300, 1_000_000_000_000)]),
        ("1000 kWh in 10 s", vec![(300, good(300) + 1_000_000)]),
    ] {
        let env = Env::new();
        env.init();
        let regs = (0..720).map(|k| odd.iter().find(|o| o.0 == k).map_or(good(k), |o| o.1));
        let file = write(&env, "glitch.jsonl", &series(10, regs));
        let out = env.run(&["import", &file]);
        system::assert_success(&out, &["import", what]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("1 register glitch(es) not booked"),
            "{what}: {err}"
        );
        assert!(!err.contains("meter swap"), "{what}: {err}");
        let minutes = exported(&env, "1m");
        assert_eq!(minutes.iter().sum::<i64>(), 1438, "{what}");
        // No minute holds more than its six steps and the glitch's few seconds.
        assert!(
            minutes.iter().all(|&wh| wh <= 12 + 8),
            "{what}: {minutes:?}"
        );
        assert_eq!(exported(&env, "1d"), [1438], "{what}");
        let v = report(&env, "2026-01-15", "2026-01-16");
        assert_eq!(v["import_kwh"], 1.438, "{what}: {v}");
        assert_eq!(v["estimated_kwh"], 0.0, "{what}: {v}");
    }
}

#[test]
fn quarter_hour_readings_are_measured_and_only_a_missing_one_is_estimated() {
    let env = Env::new();
    env.init();
    // 28 days of readings every 15 minutes from T0 (12:00Z on the 15th of January), the
    // register rising 50 + 10 (k mod 7) Wh a quarter; the reading k = 1000 is missing.
    let n = 28 * 96;
    let mut wh = 5_000_000;
    let mut regs = Vec::new();
    for k in 0..n {
        regs.push(wh);
        wh += 50 + 10 * (k % 7);
    }
    let mut text = String::new();
    for (k, line) in series(900, regs.iter().copied()).lines().enumerate() {
        if k != 1000 {
            text.push_str(line);
            text.push('\n');
        }
    }
    let file = write(&env, "quarters.jsonl", &text);
    env.ok(&["import", &file]);
    // The whole of the 16th to the 11th of February: every quarter hour is measured, but the
    // two around the missing reading (k = 999..1001: 50 + 10 × (999 mod 7 = 5) + 50 + 10 ×
    // (1000 mod 7 = 6) = 210 Wh) are spread over a step of twice the meter's own interval.
    let v = report(&env, "2026-01-16", "2026-02-11");
    let first = (0..n).find(|&k| T0 + 900 * k >= 1_768_518_000).unwrap(); // 16th 00:00+01
    let last = (0..n).find(|&k| T0 + 900 * k >= 1_770_764_400).unwrap(); // 11 Feb 00:00+01
    let want = regs[last as usize] - regs[first as usize];
    assert_eq!(v["import_kwh"], want as f64 / 1000.0, "{v}");
    assert_eq!(v["estimated_kwh"], 0.21, "{v}");
    // The export agrees: only the two quarter hours of the missing reading are estimated,
    // and the very first step, before the meter's own interval is known.
    let rows = csv_rows(&env.ok(&["export", "--resolution", "15m"]));
    let estimated = hearth_meter::record::COLUMNS.len();
    let flagged: Vec<&str> = rows
        .iter()
        .filter(|r| r[estimated] == "true")
        .map(|r| r[0].as_str())
        .collect();
    assert_eq!(
        flagged,
        [
            "2026-01-15T13:00:00+01:00",
            "2026-01-25T22:45:00+01:00",
            "2026-01-25T23:00:00+01:00"
        ]
    );
}
