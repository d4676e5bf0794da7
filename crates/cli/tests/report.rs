//! `hearth report` end to end: JSON Lines readings and contract files in, the design §5 JSON
//! out, with amounts checked against hand calculations.

use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn at(zone: &str, local: &str) -> i64 {
    let dt: DateTime = local.parse().unwrap();
    TimeZone::get(zone)
        .unwrap()
        .to_ambiguous_timestamp(dt)
        .earlier()
        .unwrap()
        .as_second()
}

/// JSON Lines readings every 15 minutes over `[from, to]`, registers integrating `watts(t)`.
fn write_readings(path: &Path, from: i64, to: i64, watts: impl Fn(i64) -> i64) {
    let mut ws = 5_000_000i64 * 3600;
    let mut out = String::new();
    let mut t = from;
    let tz = TimeZone::get("Europe/Amsterdam").unwrap();
    while t <= to {
        let mut r = Reading::new(Protocol::Dsmr);
        r.time = Some(MeterTime::in_zone(t, &tz));
        r.set(Quantity::ImportWh, ws / 3600);
        r.set(Quantity::ExportWh, 0);
        out.push_str(&r.to_json());
        out.push('\n');
        ws += watts(t) * 900;
        t += 900;
    }
    std::fs::write(path, out).unwrap();
}

fn presets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/tariffs")
}

fn hearth(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hearth"))
        .env("HEARTH_INSECURE_TEST_KDF", "1")
        .args(args)
        .env_remove("HEARTH_VAULT")
        .env_remove("HEARTH_PASSPHRASE")
        .output()
        .unwrap()
}

const DAY_NIGHT: &str = r#"
name = "Day/night"
currency = "EUR"
time_zone = "Europe/Amsterdam"
vat_percent = 21
[fixed]
per_day = 0.50
per_month = 3.10
[import]
tax_per_kwh = 0.10
[[import.period]]
name = "night"
days = ["mon", "tue", "wed", "thu", "fri"]
from = "23:00"
to = "07:00"
price_per_kwh = 0.20
[[import.period]]
name = "day"
price_per_kwh = 0.30
"#;

#[test]
fn json_report_matches_hand_calculation_for_two_contracts() {
    let dir = tempfile::tempdir().unwrap();
    let readings = dir.path().join("readings.jsonl");
    let (f, t) = (
        at("Europe/Amsterdam", "2026-01-05T00:00"),
        at("Europe/Amsterdam", "2026-01-06T00:00"),
    );
    write_readings(&readings, f - 3600, t + 3600, |_| 400);
    let tariff = dir.path().join("day-night.toml");
    std::fs::write(&tariff, DAY_NIGHT).unwrap();
    let be = presets().join("be-day-night-capacity.toml");
    let out = hearth(&[
        "report",
        "--from",
        "2026-01-05",
        "--to",
        "2026-01-06",
        "--tariff",
        tariff.to_str().unwrap(),
        "--tariff",
        be.to_str().unwrap(),
        "--readings",
        readings.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["from"], "2026-01-05");
    assert_eq!(v["to"], "2026-01-06");
    // 400 W × 24 h.
    assert_eq!(v["import_kwh"], 9.6);
    assert_eq!(v["export_kwh"], 0.0);
    assert_eq!(v["estimated_kwh"], 0.0);
    // Day/night: night 8 h (3.2 kWh × 0.20 = 0.64) + day 16 h (6.4 kWh × 0.30 = 1.92) = 2.56;
    // tax 9.6 × 0.10 = 0.96; fixed 0.50 + 3.10/31 = 0.60; VAT 21 % of 4.12 = 0.8652; total 4.9852.
    let c = &v["contracts"][0];
    assert_eq!(c["name"], "Day/night");
    assert_eq!(c["currency"], "EUR");
    let cost = &c["cost"];
    for (k, want) in [
        ("energy", 2.56),
        ("tax", 0.96),
        ("fixed", 0.6),
        ("capacity", 0.0),
        ("export_credit", 0.0),
        ("vat", 0.87),
        ("total", 4.99),
    ] {
        assert_eq!(cost[k], want, "{k}");
    }
    // Belgian preset: night 22-07 (9 h, 3.6 kWh × 0.21 = 0.756) + day 15 h (6 kWh × 0.31 = 1.86)
    // = 2.616; tax 9.6 × 0.0503 = 0.48288; fixed 3.50/31 = 0.112903; capacity at the 2.5 kW
    // minimum 53.26/12 × 2.5 / 31 = 0.357930; VAT 6 % of 3.569713 = 0.214183; total 3.783896.
    let c = &v["contracts"][1];
    assert_eq!(c["name"], "BE day/night with capacity tariff (example)");
    let cost = &c["cost"];
    for (k, want) in [
        ("energy", 2.62),
        ("tax", 0.48),
        ("fixed", 0.11),
        ("capacity", 0.36),
        ("vat", 0.21),
        ("total", 3.78),
    ] {
        assert_eq!(cost[k], want, "{k}");
    }
}

#[test]
fn text_report_shows_periods_and_total() {
    let dir = tempfile::tempdir().unwrap();
    let readings = dir.path().join("r.jsonl");
    let (f, t) = (
        at("Europe/Amsterdam", "2026-01-05T00:00"),
        at("Europe/Amsterdam", "2026-01-06T00:00"),
    );
    write_readings(&readings, f - 3600, t + 3600, |_| 400);
    let tariff = dir.path().join("c.toml");
    std::fs::write(&tariff, DAY_NIGHT).unwrap();
    let out = hearth(&[
        "report",
        "--from",
        "2026-01-05",
        "--to",
        "2026-01-06",
        "--tariff",
        tariff.to_str().unwrap(),
        "--readings",
        readings.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("night"), "{text}");
    assert!(text.contains("4.99"), "{text}");
}

#[test]
fn mistakes_exit_non_zero_with_a_useful_message() {
    let dir = tempfile::tempdir().unwrap();
    let readings = dir.path().join("r.jsonl");
    std::fs::write(&readings, "").unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"x\"\ntime_zone = \"UTC\"\n[import]\nprice_per_kwh = 0.2\nprice = 1\n",
    )
    .unwrap();
    let out = hearth(&[
        "report",
        "--from",
        "2026-01-05",
        "--to",
        "2026-01-06",
        "--tariff",
        bad.to_str().unwrap(),
        "--readings",
        readings.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 5"), "{err}");
    let out = hearth(&[
        "report",
        "--from",
        "2026-01-06",
        "--to",
        "2026-01-05",
        "--readings",
        readings.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("must be after"));
    // Without --readings and no passphrase: a clear locked-vault message, not a prompt.
    let out = hearth(&[
        "--vault",
        dir.path().join("none.hearth").to_str().unwrap(),
        "report",
        "--from",
        "2026-01-05",
        "--to",
        "2026-01-06",
    ]);
    assert!(!out.status.success());
}

#[test]
fn garbage_lines_are_skipped_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let readings = dir.path().join("r.jsonl");
    let (f, t) = (
        at("Europe/Amsterdam", "2026-01-05T00:00"),
        at("Europe/Amsterdam", "2026-01-06T00:00"),
    );
    write_readings(&readings, f - 3600, t + 3600, |_| 400);
    let mut text = std::fs::read_to_string(&readings).unwrap();
    text.insert_str(0, "not json\n{\"protocol\": \"martian\"}\n");
    std::fs::write(&readings, text).unwrap();
    let out = hearth(&[
        "report",
        "--from",
        "2026-01-05",
        "--to",
        "2026-01-06",
        "--readings",
        readings.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["import_kwh"], 9.6);
    assert_eq!(v["contracts"], Value::Array(vec![]));
    assert!(String::from_utf8_lossy(&out.stderr).contains("skipped"));
}

#[test]
fn report_from_the_vault_matches_the_hand_calculation() {
    use hearth_vault::{CreateOptions, KdfParams, Vault};
    let dir = tempfile::tempdir().unwrap();
    let vault_path = dir.path().join("v.hearth");
    let (f, t) = (
        at("Europe/Amsterdam", "2026-01-05T00:00"),
        at("Europe/Amsterdam", "2026-01-06T00:00"),
    );
    let jsonl = dir.path().join("r.jsonl");
    write_readings(&jsonl, f - 3600, t + 3600, |_| 400);
    let readings: Vec<Reading> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(|l| Reading::from_json(l).unwrap())
        .collect();
    let opts = CreateOptions {
        kdf: KdfParams::MINIMUM,
        time_zone: Some("Europe/Amsterdam".into()),
    };
    let mut v = Vault::create(&vault_path, "correct horse", &opts).unwrap();
    v.append(&readings).unwrap();
    v.close().unwrap();
    let tariff = dir.path().join("c.toml");
    std::fs::write(&tariff, DAY_NIGHT).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .env("HEARTH_INSECURE_TEST_KDF", "1")
        .args([
            "--vault",
            vault_path.to_str().unwrap(),
            "report",
            "--from",
            "2026-01-05",
            "--to",
            "2026-01-06",
            "--tariff",
            tariff.to_str().unwrap(),
            "--format",
            "json",
        ])
        .env("HEARTH_PASSPHRASE", "correct horse")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // Same day as json_report_matches_hand_calculation_for_two_contracts: 9.6 kWh, total 4.99.
    assert_eq!(v["import_kwh"], 9.6);
    assert_eq!(v["contracts"][0]["cost"]["energy"], 2.56);
    assert_eq!(v["contracts"][0]["cost"]["total"], 4.99);
    // A wrong passphrase is an error, not garbage.
    let out = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .env("HEARTH_INSECURE_TEST_KDF", "1")
        .args([
            "--vault",
            vault_path.to_str().unwrap(),
            "report",
            "--from",
            "2026-01-05",
            "--to",
            "2026-01-06",
        ])
        .env("HEARTH_PASSPHRASE", "wrong")
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// A dynamic contract whose prices are in `prices.csv` beside it: 0.10 before noon on Monday
/// 5 January (Amsterdam) and 0.40 from noon, plus a markup of 0.02.
const DYNAMIC: &str = "name = \"Dynamic\"\ncurrency = \"EUR\"\ntime_zone = \"Europe/Amsterdam\"\n\
                       vat_percent = 0\n[import]\nprices_csv = \"prices.csv\"\nmarkup_per_kwh = 0.02\n";
const PRICES: &str = "start,price_per_kwh\n2026-01-05T00:00:00+01:00,0.10\n\
                      2026-01-05T12:00:00+01:00,0.40\n2026-01-06T00:00:00+01:00,0.40\n";

#[test]
fn a_stored_dynamic_contract_prices_from_the_vault_in_any_working_directory() {
    use hearth_vault::{CreateOptions, KdfParams, Vault};
    // 400 W all day: 4.8 kWh before noon at 0.12 = 0.576, 4.8 kWh after at 0.42 = 2.016;
    // 2.592 in all, shown 2.59.
    let dir = tempfile::tempdir().unwrap();
    let (contract_dir, elsewhere) = (dir.path().join("contract"), dir.path().join("elsewhere"));
    std::fs::create_dir_all(&contract_dir).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    let tariff = contract_dir.join("dynamic.toml");
    std::fs::write(&tariff, DYNAMIC).unwrap();
    std::fs::write(contract_dir.join("prices.csv"), PRICES).unwrap();
    let (f, t) = (
        at("Europe/Amsterdam", "2026-01-05T00:00"),
        at("Europe/Amsterdam", "2026-01-06T00:00"),
    );
    let jsonl = dir.path().join("r.jsonl");
    write_readings(&jsonl, f - 3600, t + 3600, |_| 400);
    let readings: Vec<Reading> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(|l| Reading::from_json(l).unwrap())
        .collect();
    let vault_path = dir.path().join("v.hearth");
    let opts = CreateOptions {
        kdf: KdfParams::MINIMUM,
        time_zone: Some("Europe/Amsterdam".into()),
    };
    let mut v = Vault::create(&vault_path, "correct horse", &opts).unwrap();
    v.append(&readings).unwrap();
    let id = hearth_app::contracts::save_file(&mut v, &tariff).unwrap();
    assert_eq!(id, "tariff/dynamic");
    v.close().unwrap();
    let report = |cwd: &Path, tariff: Option<&Path>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hearth"));
        cmd.env("HEARTH_INSECURE_TEST_KDF", "1");
        cmd.current_dir(cwd)
            .args(["--vault", vault_path.to_str().unwrap(), "report"])
            .args([
                "--from",
                "2026-01-05",
                "--to",
                "2026-01-06",
                "--format",
                "json",
            ])
            .env("HEARTH_PASSPHRASE", "correct horse");
        if let Some(t) = tariff {
            cmd.args(["--tariff", t.to_str().unwrap()]);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    // The file's prices are found beside the file, wherever hearth runs.
    let from_file = report(&elsewhere, Some(&tariff));
    let v: Value = serde_json::from_str(&from_file).unwrap();
    assert_eq!(v["import_kwh"], 9.6);
    assert_eq!(v["contracts"][0]["name"], "Dynamic");
    assert_eq!(v["contracts"][0]["cost"]["energy"], 2.59);
    assert_eq!(v["contracts"][0]["cost"]["total"], 2.59);
    // The stored contract gives the same report from any working directory, also once the
    // original price file is gone: its prices are sealed in the vault beside it.
    assert_eq!(report(&elsewhere, None), from_file);
    assert_eq!(report(&contract_dir, None), from_file);
    std::fs::remove_file(contract_dir.join("prices.csv")).unwrap();
    assert_eq!(report(&elsewhere, None), from_file);
    assert_eq!(report(&contract_dir, None), from_file);
    // The file itself now names a missing price file, with its path beside the file.
    let out = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .env("HEARTH_INSECURE_TEST_KDF", "1")
        .current_dir(&elsewhere)
        .args(["report", "--readings", jsonl.to_str().unwrap()])
        .args(["--from", "2026-01-05", "--to", "2026-01-06"])
        .args(["--tariff", tariff.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let missing = contract_dir.join("prices.csv");
    assert!(
        err.contains(&format!(
            "contract file, line 6: price file {}: cannot read it:",
            missing.display()
        )),
        "{err}"
    );
}
