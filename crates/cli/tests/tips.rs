//! `hearth tips` end to end: a household with an evening washing-machine cycle at peak price.

use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

const DAY_NIGHT: &str = r#"
name = "Day/night"
time_zone = "Europe/Amsterdam"
[import]
tax_per_kwh = 0.05
[[import.period]]
name = "night"
days = ["mon", "tue", "wed", "thu", "fri"]
from = "22:00"
to = "07:00"
price_per_kwh = 0.21
[[import.period]]
name = "weekend"
days = ["sat", "sun", "hol"]
price_per_kwh = 0.21
[[import.period]]
name = "day"
price_per_kwh = 0.31
"#;

#[test]
fn json_tips_for_an_evening_cycle() {
    let tz = TimeZone::get("Europe/Amsterdam").unwrap();
    let at = |s: &str| {
        tz.to_ambiguous_timestamp(s.parse::<DateTime>().unwrap())
            .earlier()
            .unwrap()
            .as_second()
    };
    let (f, t) = (at("2026-01-05T00:00"), at("2026-02-02T00:00"));
    // 200 W base and a 2 kW cycle 19:00-20:00 every day, readings every 15 minutes.
    let mut ws = 0i64;
    let mut lines = String::new();
    let mut u = f - 3600;
    while u <= t + 3600 {
        let mut r = Reading::new(Protocol::Dsmr);
        r.time = Some(MeterTime::in_zone(u, &tz));
        r.set(Quantity::ImportWh, ws / 3600);
        lines.push_str(&r.to_json());
        lines.push('\n');
        let hour = tz
            .to_datetime(jiff::Timestamp::from_second(u).unwrap())
            .hour();
        ws += if hour == 19 { 2_200 } else { 200 } * 900;
        u += 900;
    }
    let dir = tempfile::tempdir().unwrap();
    let readings = dir.path().join("r.jsonl");
    std::fs::write(&readings, lines).unwrap();
    let tariff = dir.path().join("c.toml");
    std::fs::write(&tariff, DAY_NIGHT).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .env("HEARTH_INSECURE_TEST_KDF", "1")
        .args([
            "tips",
            "--from",
            "2026-01-05",
            "--to",
            "2026-02-02",
            "--tariff",
            tariff.to_str().unwrap(),
            "--readings",
            readings.to_str().unwrap(),
            "--format",
            "json",
        ])
        .env_remove("HEARTH_VAULT")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let tips = v.as_array().unwrap();
    let kinds: Vec<&str> = tips.iter().map(|t| t["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["base_load", "load_shift"]);
    // Base load 200 W: 1752 kWh a year.
    assert_eq!(tips[0]["kwh_per_year"], 1752.0);
    assert_eq!(tips[0]["evidence"]["watts"], 200);
    // 20 weekday cycles × 2 kWh × 0.10 = 4.00 in 28 days -> 4.00 × 365/28 = 52.14 a year;
    // 28 cycles × 2 kWh -> 730 kWh a year moved.
    let shift = &tips[1];
    assert_eq!(shift["money_per_year"], 52.14);
    assert_eq!(shift["currency"], "EUR");
    assert_eq!(shift["kwh_per_year"], 730.0);
    assert_eq!(shift["evidence"]["watts"], 2000);
    assert_eq!(shift["evidence"]["times"].as_array().unwrap().len(), 10);
    assert_eq!(shift["evidence"]["times"][9], "2026-02-01T19:00:00+01:00");
    let c = shift["confidence"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&c));
}

/// A vault (passphrase `correct horse`) in Amsterdam time holding a steady 240 W (4 Wh a
/// minute) read every minute from 00:07:30 on Monday 5 January (2026-01-04T23:07:30Z) for
/// 11 525 minutes, to 00:12:30 on 13 January: 691 500 s covered, 46 100 Wh used. Also writes
/// two flat contracts, at 0.30 and 0.25 a kWh. Returns the vault and the contract files.
fn steady_240_w_vault(dir: &std::path::Path) -> (PathBuf, PathBuf, PathBuf) {
    use hearth_vault::{CreateOptions, KdfParams, Vault};
    let first = 1_767_567_600 + 450;
    let readings: Vec<Reading> = (0..=11_525)
        .map(|k| {
            let mut r = Reading::new(Protocol::Dsmr);
            r.time = Some(MeterTime::utc(first + 60 * k));
            r.set(Quantity::ImportWh, 1_000_000 + 4 * k);
            r.set(Quantity::ExportWh, 0);
            r.set(Quantity::ImportW, 240);
            r
        })
        .collect();
    let vault = dir.join("v.hearth");
    let opts = CreateOptions {
        kdf: KdfParams::MINIMUM,
        time_zone: Some("Europe/Amsterdam".into()),
    };
    let mut v = Vault::create(&vault, "correct horse", &opts).unwrap();
    v.append(&readings).unwrap();
    v.close().unwrap();
    let flat = |price: &str| {
        let path = dir.join(format!("flat-{price}.toml"));
        std::fs::write(
            &path,
            format!(
                "name = \"Flat {price}\"\ncurrency = \"EUR\"\ntime_zone = \"Europe/Amsterdam\"\n\
                 vat_percent = 0\n[import]\nprice_per_kwh = {price}\n"
            ),
        )
        .unwrap();
        path
    };
    (vault, flat("0.30"), flat("0.25"))
}

/// `hearth tips` over 5..14 January of [`steady_240_w_vault`] with both contracts, in `format`
/// and `lang` (none: the default).
fn tips_of_the_steady_vault(dir: &std::path::Path, format: &str, lang: Option<&str>) -> String {
    let (vault, flat30, flat25) = steady_240_w_vault(dir);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hearth"));
    cmd.env("HEARTH_INSECURE_TEST_KDF", "1");
    cmd.args(["--vault", vault.to_str().unwrap(), "tips"])
        .args([
            "--from",
            "2026-01-05",
            "--to",
            "2026-01-14",
            "--format",
            format,
        ])
        .args(["--tariff", flat30.to_str().unwrap()])
        .args(["--tariff", flat25.to_str().unwrap()])
        .env("HEARTH_PASSPHRASE", "correct horse");
    if let Some(l) = lang {
        cmd.args(["--lang", l]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn yearly_figures_from_a_vault_are_exact_when_data_starts_and_ends_mid_quarter_hour() {
    // The first quarter hour holds 450 s of data and the last 750 s; counted whole they made
    // 769 × 900 = 692 100 s.
    let dir = tempfile::tempdir().unwrap();
    let v: Value =
        serde_json::from_str(&tips_of_the_steady_vault(dir.path(), "json", None)).unwrap();
    let tips = v.as_array().unwrap();
    let kinds: Vec<&str> = tips.iter().map(|t| t["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["base_load", "cheapest_contract"]);
    // 240 W × 8760 h = 2102.4 kWh a year, at the current contract's 0.30 = 630.72.
    assert_eq!(tips[0]["kwh_per_year"], 2102.4);
    assert_eq!(tips[0]["money_per_year"], 630.72);
    // 46.1 kWh × 0.25 = 11.525 over 691 500 s, × 31 536 000 / 691 500 = 525.60 a year; at
    // 0.30, 13.83 -> 630.72; the saving 105.12. (Over 692 100 s: 525.14 and 630.17.)
    let contracts = &tips[1]["evidence"]["contracts"];
    assert_eq!(contracts[0]["name"], "Flat 0.25");
    assert_eq!(contracts[0]["per_year"], 525.6);
    assert_eq!(contracts[1]["name"], "Flat 0.30");
    assert_eq!(contracts[1]["per_year"], 630.72);
    assert_eq!(tips[1]["money_per_year"], 105.12);
}

#[test]
fn tips_speak_dutch_and_german_with_the_same_figures() {
    // The figures of the test above, worded as the desktop words them: 240 W, 2102.4 kWh a
    // year (2.102 whole), 630.72 a year (€ 631); 8 whole days, 105.12 a year (€ 105).
    let dir = tempfile::tempdir().unwrap();
    let text = tips_of_the_steady_vault(dir.path(), "text", Some("nl"));
    // The confidences are the JSON's (0.53 and 0.30 below), as whole percentages.
    assert_eq!(
        text,
        "* Je huis verbruikt altijd minstens zo'n 240 W, ook 's nachts: ongeveer 2.102 kWh per \
         jaar (€ 631). Dit sluipverbruik komt van apparaten op stand-by, de router, de koelkast \
         en pompen. (zekerheid 53%)\n\
         * Met je verbruik van de afgelopen 8 dagen was “Flat 0.25” ongeveer € 105 per jaar \
         goedkoper geweest dan “Flat 0.30”. (zekerheid 30%)\n"
    );
    // JSON: the same field names and figures; only the summary is in the language.
    let dir = tempfile::tempdir().unwrap();
    let de: Value =
        serde_json::from_str(&tips_of_the_steady_vault(dir.path(), "json", Some("de"))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let en: Value =
        serde_json::from_str(&tips_of_the_steady_vault(dir.path(), "json", Some("en"))).unwrap();
    assert_eq!(
        de[1]["summary"],
        "Bei Ihrem Verbrauch der letzten 8 Tage wäre „Flat 0.25“ etwa 105 € im Jahr günstiger \
         gewesen als „Flat 0.30“."
    );
    assert_eq!(
        en[1]["summary"],
        "Over your last 8 days of use, \"Flat 0.25\" would have cost about €105 a year less than \
         \"Flat 0.30\"."
    );
    assert_eq!(
        (en[0]["confidence"].as_f64(), en[1]["confidence"].as_f64()),
        (Some(0.53), Some(0.3))
    );
    let (mut de, mut en) = (de, en);
    for t in de
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .chain(en.as_array_mut().unwrap())
    {
        t["summary"] = Value::Null;
    }
    assert_eq!(de, en);
}
