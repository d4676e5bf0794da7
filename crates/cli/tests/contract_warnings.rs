//! Overlapping contract periods through the real `hearth` binary (issue 17, finding 12): the
//! contract still prices as before (the first period that matches wins), and `hearth report`
//! and `hearth tips` say on stderr which periods overlap where, for a contract file and for a
//! contract stored in the vault.

use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use std::path::Path;
use std::process::{Command, Output};

/// Night on weekdays 22:00-07:00, then an evening 18:00-23:00 every day that overlaps it.
const OVERLAPPING: &str = r#"name = "Evening"
time_zone = "Europe/Brussels"
[import]
[[import.period]]
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

const WARNING: &str = "contract file, line 11: [[import.period]] \"evening\" (line 11: every day \
    18:00-23:00) overlaps \"night\" (line 5: Mon, Tue, Wed, Thu, Fri 22:00-07:00) on Mon, Tue, \
    Wed, Thu, Fri 22:00-23:00; there \"night\" applies, since the first period that matches wins \
    (change their days or hours if your contract says otherwise)";

/// 2026-01-05T00:00:00+01:00 (a Monday in Brussels).
const MONDAY: i64 = 1_767_567_600;

/// Readings every 15 minutes for Monday 5 January in Brussels: 100 Wh each quarter hour, and
/// 1 kWh in the quarter hour from 22:00 (where night and evening overlap).
fn readings() -> Vec<Reading> {
    let tz = jiff::tz::TimeZone::get("Europe/Brussels").expect("zone");
    let mut wh = 1_000_000;
    (0..=96)
        .map(|q| {
            let mut r = Reading::new(Protocol::Dsmr);
            r.time = Some(MeterTime::in_zone(MONDAY + 900 * q, &tz));
            r.set(Quantity::ImportWh, wh);
            r.set(Quantity::ExportWh, 0);
            wh += if q == 88 { 1000 } else { 100 };
            r
        })
        .collect()
}

fn run(args: &[&str], vault: Option<&Path>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hearth"));
    if let Some(v) = vault {
        c.arg("--vault").arg(v);
    }
    c.args(args)
        .env_remove("HEARTH_VAULT")
        .env("HEARTH_PASSPHRASE", "pw-words")
        .env("HEARTH_INSECURE_TEST_KDF", "1")
        .env("CI", "true")
        .output()
        .expect("run hearth")
}

fn stderr_lines(out: &Output, what: &str) -> Vec<String> {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{what}: {err}");
    err.lines().map(str::to_owned).collect()
}

const REPORT: [&str; 7] = [
    "report",
    "--from",
    "2026-01-05",
    "--to",
    "2026-01-06",
    "--format",
    "json",
];

/// The energy cost of the day in the JSON report, and the day's import in kWh.
fn energy_cost(out: &Output) -> (f64, f64) {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let cost = v["contracts"][0]["cost"]["energy"].as_f64();
    let kwh = v["import_kwh"].as_f64();
    (
        cost.unwrap_or_else(|| panic!("no energy cost in {v}")),
        kwh.unwrap_or_else(|| panic!("no import in {v}")),
    )
}

#[test]
fn report_and_tips_say_which_periods_of_a_contract_file_overlap() {
    let dir = tempfile::tempdir().expect("dir");
    let tariff = dir.path().join("evening.toml");
    std::fs::write(&tariff, OVERLAPPING).expect("toml");
    let jsonl = dir.path().join("day.jsonl");
    let text: String = readings().iter().map(|r| r.to_json() + "\n").collect();
    std::fs::write(&jsonl, text).expect("readings");
    let (t, r) = (
        tariff.to_str().expect("path"),
        jsonl.to_str().expect("path"),
    );
    let expected = format!("hearth: warning: in {t}: {WARNING}");

    let mut args = REPORT.to_vec();
    args.extend(["--tariff", t, "--readings", r]);
    let out = run(&args, None);
    let lines = stderr_lines(&out, "report");
    assert_eq!(
        lines.iter().filter(|l| l.contains("warning")).count(),
        1,
        "{lines:?}"
    );
    assert!(lines.contains(&expected), "{lines:?}");
    // Priced as before, the first period winning: night 00:00-07:00 and 22:00-24:00 is 35
    // quarter hours of 0.1 kWh and the 1 kWh one at 22:00 (4.5 kWh at 0.21 = 0.945), evening
    // 18:00-22:00 16 of them (1.6 kWh at 0.35 = 0.56), day 07:00-18:00 44 (4.4 kWh at 0.31 =
    // 1.364): 2.869, 2.87 to the cent (3.05 if evening won from 22:00 to 23:00).
    assert_eq!(energy_cost(&out), (2.87, 10.5));

    let out = run(
        &[
            "tips",
            "--tariff",
            t,
            "--readings",
            r,
            "--from",
            "2026-01-05",
            "--to",
            "2026-01-06",
        ],
        None,
    );
    let lines = stderr_lines(&out, "tips");
    assert!(lines.contains(&expected), "{lines:?}");
}

#[test]
fn a_stored_contract_with_overlapping_periods_is_named_in_the_warning() {
    use hearth_vault::{CreateOptions, KdfParams, Vault};
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("v.hearth");
    let options = CreateOptions {
        kdf: KdfParams::MINIMUM,
        time_zone: Some("Europe/Brussels".into()),
    };
    let mut v = Vault::create(&path, "pw-words", &options).expect("vault");
    v.append(&readings()).expect("readings");
    let tariff = dir.path().join("evening.toml");
    std::fs::write(&tariff, OVERLAPPING).expect("toml");
    hearth_app::contracts::save_file(&mut v, &tariff).expect("stored");
    v.close().expect("close");
    std::fs::remove_file(&tariff).expect("the stored copy is used");

    let expected = format!("hearth: warning: in stored contract \"Evening\": {WARNING}");
    let out = run(&REPORT, Some(&path));
    let lines = stderr_lines(&out, "report");
    assert!(lines.contains(&expected), "{lines:?}");
    let out = run(
        &["tips", "--from", "2026-01-05", "--to", "2026-01-06"],
        Some(&path),
    );
    let lines = stderr_lines(&out, "tips");
    assert!(lines.contains(&expected), "{lines:?}");
}
