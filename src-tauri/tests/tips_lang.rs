//! The Tips command in the window's language: the same household's tips worded in English,
//! Dutch and German, through Tauri's IPC with the mock runtime.

mod common;
use common::{Scratch, app_in, call, created};

use hearth_desktop::state::AppState;
use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use serde_json::{Value, json};
use tauri::test::MockRuntime;
use tauri::{App, Manager};

/// Ten days and six hours of minute readings (the vault estimates across longer steps) of a
/// steady 200 W household: 10/3 Wh a minute, exactly 50 Wh a quarter hour; ending on a quarter
/// hour an hour ago.
fn store_ten_days_at_200_w(app: &App<MockRuntime>) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let end = (now / 900) * 900 - 3600;
    let start = end - 10 * 86_400 - 6 * 3600;
    let rs: Vec<Reading> = (0..=(end - start) / 60)
        .map(|k| {
            let mut r = Reading::new(Protocol::Dsmr);
            r.time = Some(MeterTime::utc(start + k * 60));
            r.set(Quantity::ImportWh, 2_000_000 + k * 10 / 3);
            r.set(Quantity::ExportWh, 0);
            r.set(Quantity::ImportW, 200);
            r
        })
        .collect();
    let state = app.state::<AppState>();
    let mut store = state.store.lock().expect("lock");
    store
        .append(&mut rs.to_vec(), 0, false, std::time::Instant::now())
        .expect("append");
    store.vault_mut().expect("open").flush().expect("flush");
}

/// Two flat contracts without tax, fixed charge or VAT. The base load is 200 W × 8760 h =
/// 1752 kWh a year, × 0.30 = 525.60. The contract comparison annualises the range's cost: 984
/// quarter hours of 50 Wh = 49.2 kWh over the 984 quarter hours the readings cover (10 days 6
/// hours = 885 600 s; the quarter hour that starts at the last reading covers no time yet), so
/// a year (35 040 quarter hours) at 0.25 is 12.30 × 35040 / 984 = 438.00 and at 0.30 14.76 ×
/// 35040 / 984 = 525.60 (exactly the base load's figure: the load is constant); the
/// difference 87.60 is shown as 88 whole euros. (Counting that last quarter hour as covered,
/// 985 of them, gave 437.56, 525.07 and 87.51.)
const FLAT_30: &str = "name = \"Flat 0.30\"\ncurrency = \"EUR\"\ntime_zone = \"Europe/Amsterdam\"\nvat_percent = 0\n\n[import]\nprice_per_kwh = 0.30\n";
const FLAT_25: &str = "name = \"Flat 0.25\"\ncurrency = \"EUR\"\ntime_zone = \"Europe/Amsterdam\"\nvat_percent = 0\n\n[import]\nprice_per_kwh = 0.25\n";

/// (summary, evidence lines) of each tip, by kind.
fn by_kind(tips: &Value, kind: &str) -> (String, Vec<String>) {
    let tip = tips
        .as_array()
        .expect("array")
        .iter()
        .find(|t| t["kind"] == json!(kind))
        .unwrap_or_else(|| panic!("no {kind} tip in {tips}"));
    let evidence = tip["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .map(|e| e.as_str().expect("line").to_owned())
        .collect();
    (
        tip["summary"].as_str().expect("summary").to_owned(),
        evidence,
    )
}

/// The points of a series line whose every point is `<month> <year>: 200 W`, with `months`
/// the language's short month names.
fn assert_monthly_200_w(line: &str, months: &[&str]) {
    for point in line.split(" · ") {
        let (label, value) = point.split_once(": ").unwrap_or_else(|| panic!("{line}"));
        assert_eq!(value, "200 W", "{line}");
        let (month, year) = label.split_once(' ').unwrap_or_else(|| panic!("{line}"));
        assert!(months.contains(&month), "{line}");
        assert!(year.parse::<u16>().is_ok_and(|y| y >= 2025), "{line}");
    }
}

#[test]
fn tips_speak_dutch_and_german() {
    let dir = Scratch::new("lang");
    let (app, w) = app_in(&dir.0, false);
    created(&w, &dir.0);
    store_ten_days_at_200_w(&app);
    let flat30 = call(&w, "save_contract", json!({ "toml": FLAT_30 })).expect("saved");
    let flat25 = call(&w, "save_contract", json!({ "toml": FLAT_25 })).expect("saved");
    let tips = |lang: Option<&str>| {
        let mut args = json!({ "contracts": [flat30.clone(), flat25.clone()] });
        if let Some(l) = lang {
            args["lang"] = json!(l);
        }
        let t = call(&w, "tips", args).expect("tips");
        let kinds: Vec<&str> = t
            .as_array()
            .expect("array")
            .iter()
            .filter_map(|t| t["kind"].as_str())
            .collect();
        assert_eq!(kinds, ["base_load", "cheapest_contract"], "{t}");
        t
    };

    // English, asked for or by default, is the CLI's text word for word.
    let en = tips(None);
    assert_eq!(tips(Some("en")), en);
    assert_eq!(
        tips(Some("es")),
        en,
        "an unknown language falls back to English"
    );
    // French (one of the five languages added beside these three) through the same command.
    let (summary, evidence) = by_kind(&tips(Some("fr")), "base_load");
    assert_eq!(
        summary,
        "Votre logement ne consomme jamais moins d’environ 200 W, même la nuit : environ \
         1\u{202f}752 kWh par an (526 €). Cette consommation permanente vient des appareils en \
         veille, du routeur, du frigo et des pompes."
    );
    assert_eq!(evidence[0], "Environ 200 W");
    let (summary, evidence) = by_kind(&en, "base_load");
    assert_eq!(
        summary,
        "Your home never uses less than about 200 W, even at night: about 1752 kWh a year (€526 a year). \
         Devices on standby, routers, fridges and pumps make up this always-on load."
    );
    assert_eq!(evidence[0], "About 200 W");
    let (summary, evidence) = by_kind(&en, "cheapest_contract");
    assert_eq!(
        summary,
        "Over your last 10 days of use, \"Flat 0.25\" would have cost about €88 a year less than \"Flat 0.30\"."
    );
    assert_eq!(
        evidence,
        ["Flat 0.25: 438.00 a year", "Flat 0.30: 525.60 a year"]
    );

    // Dutch: decimal comma and thousands point, euro sign before the amount.
    let nl = tips(Some("nl"));
    let (summary, evidence) = by_kind(&nl, "base_load");
    assert_eq!(
        summary,
        "Je huis verbruikt altijd minstens zo'n 200 W, ook 's nachts: ongeveer 1.752 kWh per jaar (€ 526). \
         Dit sluipverbruik komt van apparaten op stand-by, de router, de koelkast en pompen."
    );
    assert_eq!(evidence.len(), 2, "{evidence:?}");
    assert_eq!(evidence[0], "Ongeveer 200 W");
    assert_monthly_200_w(
        &evidence[1],
        &[
            "jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec",
        ],
    );
    let (summary, evidence) = by_kind(&nl, "cheapest_contract");
    assert_eq!(
        summary,
        "Met je verbruik van de afgelopen 10 dagen was “Flat 0.25” ongeveer € 88 per jaar goedkoper \
         geweest dan “Flat 0.30”."
    );
    assert_eq!(
        evidence,
        [
            "Flat 0.25: EUR 438,00 per jaar",
            "Flat 0.30: EUR 525,60 per jaar"
        ]
    );

    // German: formal address, amount before the euro sign.
    let de = tips(Some("de"));
    let (summary, evidence) = by_kind(&de, "base_load");
    assert_eq!(
        summary,
        "Ihr Haushalt braucht nie weniger als etwa 200 W, auch nachts nicht: rund 1.752 kWh bzw. 526 € im Jahr. \
         Diese Grundlast kommt von Geräten im Stand-by, dem Router, dem Kühlschrank und Pumpen."
    );
    assert_eq!(evidence[0], "Etwa 200 W");
    assert_monthly_200_w(
        &evidence[1],
        &[
            "Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez",
        ],
    );
    let (summary, evidence) = by_kind(&de, "cheapest_contract");
    assert_eq!(
        summary,
        "Bei Ihrem Verbrauch der letzten 10 Tage wäre „Flat 0.25“ etwa 88 € im Jahr günstiger gewesen \
         als „Flat 0.30“."
    );
    assert_eq!(
        evidence,
        [
            "Flat 0.25: EUR 438,00 im Jahr",
            "Flat 0.30: EUR 525,60 im Jahr"
        ]
    );

    // The figures beside the sentence do not depend on the language.
    for t in [&en, &nl, &de] {
        let base = &t[0];
        assert_eq!(base["kwh_per_year"], json!(1752.0));
        assert_eq!(base["money_per_year"], json!(525.6));
        assert_eq!(t[1]["money_per_year"], json!(87.6));
        assert_eq!(t[1]["currency"], json!("EUR"));
    }
}
