//! Issue 17, finding 13 through the real binary: `hearth report` and `hearth export
//! --resolution 1d` agree with each other and with the registers over a month with five-hour
//! gaps (the report used to book 480.696 kWh where the export and the registers said 480.690).
//! The readings go in as a user's would: `hearth import` of a JSON Lines file.

use hearth_meter::time::local_midnight;
use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use jiff::Timestamp;
use jiff::civil::{Date, date};
use jiff::tz::TimeZone;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};

const ZONE: &str = "Europe/Amsterdam";

/// Runs `hearth --vault v.hearth ARGS` in `dir` and returns its stdout; it must succeed.
fn hearth(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .env("HEARTH_INSECURE_TEST_KDF", "1")
        .current_dir(dir)
        .args(["--vault", "v.hearth"])
        .args(args)
        .env("HEARTH_PASSPHRASE", "pw-words")
        .env_remove("HEARTH_VAULT")
        .env("CI", "true")
        .stdin(Stdio::null())
        .output()
        .expect("run hearth");
    assert!(
        out.status.success(),
        "hearth {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn midnight(d: Date, tz: &TimeZone) -> i64 {
    local_midnight(d, tz).expect("midnight").as_second()
}

/// kWh with three decimals as Wh.
fn wh(kwh: &str) -> i64 {
    let (whole, frac) = kwh.split_once('.').unwrap_or((kwh, "0"));
    let frac = format!("{frac:0<3}");
    whole.parse::<i64>().expect("kWh") * 1_000 + frac[..3].parse::<i64>().expect("kWh")
}

/// Minute readings from 28 February to 2 April 2026 with import and export on two tariff
/// registers (tariff 1 at night and at weekends), none inside `gaps`, each gap ending with a
/// reading at an odd second; the meter counts on through a gap. Returns the JSON Lines and the
/// import total register at each local midnight of March and on 1 April.
fn household(tz: &TimeZone, gaps: &[(i64, i64)]) -> (String, Vec<(Date, i64)>) {
    let mut regs = [7_340_111i64, 6_120_987, 402_003, 1_204_005];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let tariff = |t: i64| {
        let z = Timestamp::from_second(t)
            .expect("t")
            .to_zoned_datetime(tz.clone());
        let weekend = z.weekday().to_monday_one_offset() >= 6;
        if weekend || !(7..23).contains(&z.hour()) {
            1
        } else {
            2
        }
    };
    let line = |t: i64, r: [i64; 4]| {
        let mut x = Reading::new(Protocol::Dsmr);
        x.time = Some(MeterTime::in_zone(t, tz));
        x.set(Quantity::ImportT1Wh, r[0]);
        x.set(Quantity::ImportT2Wh, r[1]);
        x.set(Quantity::ImportWh, r[0] + r[1]);
        x.set(Quantity::ExportT1Wh, r[2]);
        x.set(Quantity::ExportT2Wh, r[3]);
        x.set(Quantity::ExportWh, r[2] + r[3]);
        x.set(Quantity::Tariff, tariff(t));
        x.to_json() + "\n"
    };
    let mut out = String::new();
    let mut at_midnight = Vec::new();
    let (start, end) = (
        midnight(date(2026, 2, 28), tz),
        midnight(date(2026, 4, 2), tz),
    );
    let mut t = start;
    while t <= end {
        let k = tariff(t - 60) as usize - 1;
        let hour = Timestamp::from_second(t)
            .expect("t")
            .to_zoned_datetime(tz.clone())
            .hour();
        let import = (next() % 67) as i64;
        let export = if (6..16).contains(&hour) {
            (next() % 37) as i64
        } else {
            0
        };
        let before = regs;
        regs[k] += import;
        regs[2 + k] += export;
        match gaps.iter().find(|(a, b)| *a < t && t <= *b + 60) {
            Some((_, b)) if t <= *b => {}
            Some((_, b)) => {
                let mut mid = before;
                mid[k] += import * (60 - (t - b)) / 60;
                mid[2 + k] += export * (60 - (t - b)) / 60;
                out.push_str(&line(*b, mid));
                out.push_str(&line(t, regs));
            }
            None => out.push_str(&line(t, regs)),
        }
        let d = Timestamp::from_second(t)
            .expect("t")
            .to_zoned_datetime(tz.clone())
            .date();
        if t == midnight(d, tz) && d >= date(2026, 3, 1) && d <= date(2026, 4, 1) {
            at_midnight.push((d, regs[0] + regs[1]));
        }
        t += 60;
    }
    (out, at_midnight)
}

#[test]
fn report_and_daily_export_agree_with_the_registers_over_gaps() {
    let tz = TimeZone::get(ZONE).expect("zone");
    // Five hours from Thursday 12 March 22:41:00 to Friday 03:41:19 (across midnight and the
    // 23:00 switch), and from Monday 23 March 06:13:00 to 11:13:53 (across the 07:00 switch,
    // with export on both tariffs).
    let g1 = midnight(date(2026, 3, 12), &tz) + 22 * 3_600 + 41 * 60;
    let g2 = midnight(date(2026, 3, 23), &tz) + 6 * 3_600 + 13 * 60;
    let gaps = [(g1, g1 + 5 * 3_600 + 19), (g2, g2 + 5 * 3_600 + 53)];
    let (jsonl, at_midnight) = household(&tz, &gaps);
    assert_eq!(at_midnight.len(), 32);

    let dir = tempfile::tempdir().expect("dir");
    let dir = dir.path();
    std::fs::write(dir.join("march.jsonl"), jsonl).expect("write");
    hearth(
        dir,
        &[
            "init",
            "--time-zone",
            ZONE,
            "--kdf-memory-kib",
            "8",
            "--kdf-iterations",
            "1",
        ],
    );
    hearth(dir, &["import", "march.jsonl"]);

    // The daily export: one row a day, `import_kwh` read by its header.
    let csv = hearth(
        dir,
        &[
            "export",
            "--resolution",
            "1d",
            "--from",
            "2026-03-01",
            "--to",
            "2026-04-01",
        ],
    );
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (time, import) = (col("time"), col("import_kwh"));
    let days: Vec<(String, i64)> = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[time][..10].to_string(), wh(f[import]))
        })
        .collect();
    assert_eq!(days.len(), 31);

    let report = |from: Date, to: Date| -> i64 {
        let out = hearth(
            dir,
            &[
                "report",
                "--from",
                &from.to_string(),
                "--to",
                &to.to_string(),
                "--format",
                "json",
            ],
        );
        let v: Value = serde_json::from_str(&out).expect("json");
        wh(&v["import_kwh"].to_string())
    };
    // March: the report, the daily export and the registers.
    let delta = at_midnight[31].1 - at_midnight[0].1;
    let exported: i64 = days.iter().map(|d| d.1).sum();
    assert_eq!(
        (report(date(2026, 3, 1), date(2026, 4, 1)), exported),
        (delta, delta)
    );
    // The gaps' days, one by one, as the export has them; the first gap's two days add up to
    // their register delta.
    for d in [
        date(2026, 3, 12),
        date(2026, 3, 13),
        date(2026, 3, 23),
        date(2026, 3, 24),
    ] {
        let row = days.iter().find(|x| x.0 == d.to_string()).expect("day row");
        assert_eq!(report(d, d.tomorrow().expect("day")), row.1, "{d}");
    }
    let regs = |d: Date| at_midnight.iter().find(|x| x.0 == d).expect("midnight").1;
    assert_eq!(
        report(date(2026, 3, 12), date(2026, 3, 14)),
        regs(date(2026, 3, 14)) - regs(date(2026, 3, 12))
    );
}
