//! `hearth report` prices gas (design §5 `[gas]`): from the vault and from JSON Lines, the
//! top-level `gas_m3` and each contract's `cost.gas`, against a hand calculation.

use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const AMS: &str = "Europe/Amsterdam";

fn at(local: &str) -> i64 {
    let dt: DateTime = local.parse().unwrap();
    TimeZone::get(AMS)
        .unwrap()
        .to_ambiguous_timestamp(dt)
        .earlier()
        .unwrap()
        .as_second()
}

/// Monday 5 January 2026 (Amsterdam) and an hour on each side: electricity every 15 minutes at
/// 400 W, and the gas register on the readings at half past each hour, from 23:30 on the 4th
/// to 00:30 on the 6th, except 12:30 on the 5th (a missing hour). Gas used, dm³:
///   4th 23:30 -> 5th 00:30   200   (half, 100, inside the 5th)
///   each hour 00:30 -> 23:30 100, but 07:30-08:30 600 and 18:30-19:30 800; 11:30 -> 13:30
///                            (no 12:30 reading) 200 for its two hours
///   5th 23:30 -> 6th 00:30   300   (half, 150, inside the 5th)
/// Inside the 5th: 100 + (21 × 100 + 600 + 800) + 150 = 3 750 dm³ = 3.750 m³.
fn readings() -> Vec<Reading> {
    let tz = TimeZone::get(AMS).unwrap();
    let (from, to) = (at("2026-01-04T23:00"), at("2026-01-06T01:00"));
    let first_gas = at("2026-01-04T23:30");
    let (missing, edge) = (at("2026-01-05T12:30"), at("2026-01-05T23:30"));
    let (morning, evening) = (at("2026-01-05T08:30"), at("2026-01-05T19:30"));
    let mut out = Vec::new();
    let mut wh = 5_000_000i64;
    let mut dm3 = 2_000_000i64;
    let mut t = from;
    while t <= to {
        let mut r = Reading::new(Protocol::Dsmr);
        r.time = Some(MeterTime::in_zone(t, &tz));
        r.set(Quantity::ImportWh, wh);
        r.set(Quantity::ExportWh, 0);
        if t >= first_gas && (t - first_gas) % 3_600 == 0 && t != missing {
            r.set(Quantity::GasDm3, dm3);
        }
        // The gas used in the hour that starts here (booked at the next gas reading).
        if t >= first_gas && (t - first_gas) % 3_600 == 0 {
            dm3 += match t + 3_600 {
                x if x == first_gas + 3_600 => 200,
                x if x == morning => 600,
                x if x == evening => 800,
                x if x == edge + 3_600 => 300,
                _ => 100,
            };
        }
        out.push(r);
        wh += 100; // 400 W for 15 minutes
        t += 900;
    }
    out
}

/// The Day/night contract of `report.rs` with Dutch-style gas prices.
const WITH_GAS: &str = r#"
name = "Day/night with gas"
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
[gas]
price_per_m3 = 1.05
tax_per_m3 = 0.70
per_day = 0.20
per_month = 6.20
"#;

/// The same contract without `[gas]`.
fn without_gas() -> String {
    WITH_GAS
        .split("[gas]")
        .next()
        .unwrap()
        .replace("Day/night with gas", "Day/night")
}

fn run(vault: Option<&Path>, args: &[&str]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hearth"));
    cmd.env("HEARTH_INSECURE_TEST_KDF", "1")
        .env_remove("HEARTH_VAULT")
        .env("HEARTH_PASSPHRASE", "correct horse");
    if let Some(v) = vault {
        cmd.args(["--vault", v.to_str().unwrap()]);
    }
    let out = cmd
        .args(["report", "--from", "2026-01-05", "--to", "2026-01-06"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The hand calculation, for JSON from the vault or from a readings file.
fn check(json: &str) {
    let v: Value = serde_json::from_str(json).unwrap();
    // Every key of design §5, and no other.
    let keys = |o: &Value| -> Vec<String> {
        let mut k: Vec<String> = o.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(
        keys(&v),
        [
            "contracts",
            "estimated_kwh",
            "export_kwh",
            "from",
            "gas_m3",
            "import_kwh",
            "to"
        ]
    );
    assert_eq!(v["import_kwh"], 9.6);
    assert_eq!(v["gas_m3"], 3.75);
    // With gas: electricity as in report.rs, energy 2.56, tax 0.96, fixed 0.50 + 3.10/31 = 0.60
    // (4.12). Gas: 3.75 m³ × (1.05 + 0.70) = 6.5625, per day 0.20, per month 6.20/31 = 0.20:
    // 6.9625. VAT 21 % of 11.0825 = 2.327325; total 13.409825.
    let c = &v["contracts"][0];
    assert_eq!(c["name"], "Day/night with gas");
    assert_eq!(
        keys(&c["cost"]),
        [
            "capacity",
            "energy",
            "export_credit",
            "fixed",
            "gas",
            "tax",
            "total",
            "vat"
        ]
    );
    for (k, want) in [
        ("energy", 2.56),
        ("tax", 0.96),
        ("fixed", 0.6),
        ("capacity", 0.0),
        ("gas", 6.96),
        ("export_credit", 0.0),
        ("vat", 2.33),
        ("total", 13.41),
    ] {
        assert_eq!(c["cost"][k], want, "{k}");
    }
    // Without [gas]: gas 0, and the bill of report.rs (VAT 0.8652, total 4.9852).
    let c = &v["contracts"][1];
    for (k, want) in [("gas", 0.0), ("vat", 0.87), ("total", 4.99)] {
        assert_eq!(c["cost"][k], want, "{k}");
    }
}

#[test]
fn gas_is_priced_from_the_vault_and_from_readings_alike() {
    use hearth_vault::{CreateOptions, KdfParams, Vault};
    let dir = tempfile::tempdir().unwrap();
    let with = dir.path().join("with-gas.toml");
    let without = dir.path().join("without-gas.toml");
    std::fs::write(&with, WITH_GAS).unwrap();
    std::fs::write(&without, without_gas()).unwrap();
    let tariffs = [
        "--tariff",
        with.to_str().unwrap(),
        "--tariff",
        without.to_str().unwrap(),
    ];
    let readings = readings();

    // From the vault's quarter-hour rollups.
    let vault_path = dir.path().join("v.hearth");
    let opts = CreateOptions {
        kdf: KdfParams::MINIMUM,
        time_zone: Some(AMS.into()),
    };
    let mut v = Vault::create(&vault_path, "correct horse", &opts).unwrap();
    v.append(&readings).unwrap();
    v.close().unwrap();
    let mut json_args = tariffs.to_vec();
    json_args.extend(["--format", "json"]);
    check(&run(Some(&vault_path), &json_args));

    // From JSON Lines, as `hearth decode` prints them.
    let jsonl = dir.path().join("r.jsonl");
    let lines: String = readings.iter().map(|r| r.to_json() + "\n").collect();
    std::fs::write(&jsonl, lines).unwrap();
    let mut file_args = json_args.clone();
    file_args.extend(["--readings", jsonl.to_str().unwrap()]);
    check(&run(None, &file_args));

    // The text report shows the gas used and the gas line of each contract that prices it.
    let mut text_args = tariffs.to_vec();
    text_args.extend(["--readings", jsonl.to_str().unwrap()]);
    let text = run(None, &text_args);
    assert!(text.contains("Gas                3.750 m³"), "{text}");
    assert!(text.contains("  gas                    6.96"), "{text}");
    assert!(text.contains("13.41"), "{text}");
    assert_eq!(text.matches("  gas  ").count(), 1, "{text}");
}

#[test]
fn a_gas_meter_swap_is_said_and_never_negative() {
    // Readings every 15 minutes with the gas register every hour: 10.000 m³ at 00:00, 10.500
    // at 01:00, then a new gas meter at 0.000 (02:00), 0.300 from 03:00 on. Over the 5th:
    // 500 dm³ + 0 (the swap) + 300 dm³ = 0.800 m³, and the swap is said.
    let tz = TimeZone::get(AMS).unwrap();
    let (from, to) = (at("2026-01-05T00:00"), at("2026-01-06T00:00"));
    let gas = |h: i64| match h {
        0 => Some(10_000),
        1 => Some(10_500),
        2 => Some(0),
        _ => Some(300),
    };
    let mut lines = String::new();
    let mut t = from;
    while t <= to {
        let mut r = Reading::new(Protocol::Dsmr);
        r.time = Some(MeterTime::in_zone(t, &tz));
        r.set(Quantity::ImportWh, 1_000);
        if (t - from) % 3_600 == 0
            && let Some(dm3) = gas((t - from) / 3_600)
        {
            r.set(Quantity::GasDm3, dm3);
        }
        lines.push_str(&(r.to_json() + "\n"));
        t += 900;
    }
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("r.jsonl");
    std::fs::write(&jsonl, lines).unwrap();
    let tariff = dir.path().join("c.toml");
    std::fs::write(&tariff, WITH_GAS).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .args(["report", "--from", "2026-01-05", "--to", "2026-01-06"])
        .args(["--tariff", tariff.to_str().unwrap(), "--format", "json"])
        .args(["--readings", jsonl.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["gas_m3"], 0.8);
    // 0.8 × 1.75 = 1.40 + 0.20 + 0.20 = 1.80 of gas.
    assert_eq!(v["contracts"][0]["cost"]["gas"], 1.8);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("1 gas register reset(s) or gas meter change(s)"),
        "{err}"
    );
}

/// DSMR telegrams every 10 s from 22:00 on 5 January to 01:30 (Amsterdam), 1 Wh each (360 W),
/// and the gas register as a DSMR 4 meter sends it: captured on the hour (23:00 1.000 m³,
/// 00:00 1.500, 01:00 1.700) and repeated in every telegram from 5 s after the capture.
fn dsmr_telegrams() -> Vec<Reading> {
    let tz = TimeZone::get(AMS).unwrap();
    let (from, to) = (at("2026-01-05T22:00"), at("2026-01-06T01:30"));
    let captures = [
        (at("2026-01-05T23:00"), 1_000),
        (at("2026-01-06T00:00"), 1_500),
        (at("2026-01-06T01:00"), 1_700),
    ];
    let mut out = Vec::new();
    let (mut t, mut wh) = (from, 1_000);
    while t <= to {
        let mut r = Reading::new(Protocol::Dsmr);
        r.time = Some(MeterTime::in_zone(t, &tz));
        r.set(Quantity::ImportWh, wh);
        r.set(Quantity::ExportWh, 0);
        if let Some(&(c, dm3)) = captures.iter().rev().find(|c| c.0 + 5 <= t) {
            r.gas_time = Some(MeterTime::in_zone(c, &tz));
            r.set(Quantity::GasDm3, dm3);
        }
        out.push(r);
        wh += 1;
        t += 10;
    }
    out
}

/// The hand calculation for [`dsmr_telegrams`] on 5 January: the gas between the 23:00 and
/// 00:00 captures, 0.500 m³, was used on the 5th. Electricity 22:00-23:00 0.36 kWh by day at
/// 0.30 = 0.108 and 23:00-24:00 0.36 kWh by night at 0.20 = 0.072: energy 0.18, tax 0.072,
/// fixed 0.60; gas 0.5 × 1.75 = 0.875 + 0.20 + 0.20 = 1.275; VAT 21 % of 2.127 = 0.44667;
/// total 2.57367.
fn check_dsmr(json: &str) {
    let v: Value = serde_json::from_str(json).unwrap();
    assert_eq!(v["import_kwh"], 0.72);
    assert_eq!(v["gas_m3"], 0.5);
    let cost = &v["contracts"][0]["cost"];
    for (k, want) in [
        ("energy", 0.18),
        ("gas", 1.28),
        ("vat", 0.45),
        ("total", 2.57),
    ] {
        assert_eq!(cost[k], want, "{k}");
    }
}

#[test]
fn dsmr_gas_belongs_to_the_hour_before_its_capture() {
    // From JSON Lines: each capture (gas_time) is one gas reading, whatever the telegrams.
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("c.toml");
    std::fs::write(&c, WITH_GAS).unwrap();
    let jsonl = dir.path().join("r.jsonl");
    let lines: String = dsmr_telegrams()
        .iter()
        .map(|r| r.to_json() + "\n")
        .collect();
    std::fs::write(&jsonl, lines).unwrap();
    let args = ["--format", "json", "--tariff", c.to_str().unwrap()];
    let mut file_args = args.to_vec();
    file_args.extend(["--readings", jsonl.to_str().unwrap()]);
    check_dsmr(&run(None, &file_args));
}

#[test]
#[ignore = "the vault's rollups book a DSMR gas step at the telegram that first shows it, not \
            over the hour before its capture (gas_time): 0.0 m³ on the 5th instead of 0.5"]
fn dsmr_gas_from_the_vault_belongs_to_the_hour_before_its_capture() {
    use hearth_vault::{CreateOptions, KdfParams, Vault};
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("c.toml");
    std::fs::write(&c, WITH_GAS).unwrap();
    let vault_path = dir.path().join("v.hearth");
    let opts = CreateOptions {
        kdf: KdfParams::MINIMUM,
        time_zone: Some(AMS.into()),
    };
    let mut v = Vault::create(&vault_path, "correct horse", &opts).unwrap();
    v.append(&dsmr_telegrams()).unwrap();
    v.close().unwrap();
    let args = ["--format", "json", "--tariff", c.to_str().unwrap()];
    check_dsmr(&run(Some(&vault_path), &args));
}
