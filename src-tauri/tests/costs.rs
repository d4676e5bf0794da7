//! The Costs, Tips and Settings commands through Tauri's IPC with the mock runtime.

mod common;
use common::{PASS, Scratch, app_in, call, created};

use hearth_desktop::state::AppState;
use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use serde_json::{Value, json};
use tauri::test::MockRuntime;
use tauri::{App, Manager};

/// Two readings an hour apart, ending on a quarter hour at least an hour ago: 1000 Wh imported.
fn store_one_kwh(app: &App<MockRuntime>) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let t0 = (now / 900) * 900 - 7200;
    let state = app.state::<AppState>();
    let mut store = state.store.lock().expect("lock");
    // And half a cubic metre of gas over the hour.
    let rs: Vec<Reading> = [
        (t0, 2_000_000, 1_000_000),
        (t0 + 3600, 2_001_000, 1_000_500),
    ]
    .into_iter()
    .map(|(t, wh, dm3)| {
        let mut r = Reading::new(Protocol::Dsmr);
        r.time = Some(MeterTime::utc(t));
        r.set(Quantity::ImportWh, wh);
        r.set(Quantity::GasDm3, dm3);
        r.set(Quantity::ExportWh, 0);
        r.set(Quantity::ImportW, 1000);
        r
    })
    .collect();
    store
        .append(&mut rs.to_vec(), 0, false, std::time::Instant::now())
        .expect("append");
    store.vault_mut().expect("open").flush().expect("flush");
}

/// 0.30 a kWh, no tax, no fixed charge, no VAT: one kWh costs exactly 0.30.
const PLAIN: &str = "name = \"My plain contract\"\ncurrency = \"EUR\"\ntime_zone = \"Europe/Amsterdam\"\nvat_percent = 0\n\n[import]\nprice_per_kwh = 0.30\n";

#[test]
fn contracts_are_listed_saved_and_priced() {
    let dir = Scratch::new("report");
    let (app, w) = app_in(&dir.0, false);
    let args = json!({ "period": "last-12-months", "contracts": ["preset:nl-flat"] });
    assert_eq!(
        call(&w, "contracts", json!({})).expect_err("locked")["code"],
        json!("Locked")
    );
    assert_eq!(
        call(&w, "cost_report", args.clone()).expect_err("locked")["code"],
        json!("Locked")
    );
    created(&w, &dir.0);
    store_one_kwh(&app);
    let list = call(&w, "contracts", json!({})).expect("list");
    let ids: Vec<&str> = list
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "preset:nl-flat",
            "preset:nl-day-night",
            "preset:be-day-night-capacity",
            "preset:uk-flat",
            "preset:uk-economy7",
            "preset:no-top3-steps"
        ]
    );
    assert_eq!(list[0]["name"], json!("NL single rate (example)"));
    assert_eq!(list[0]["error"], Value::Null);

    // A broken contract is refused with its line; nothing is stored.
    let e = call(
        &w,
        "save_contract",
        json!({ "toml": PLAIN.replace("vat_percent = 0", "vat_percent = \"lots\"") }),
    )
    .expect_err("broken");
    assert_eq!(e["code"], json!("BadRequest"));
    assert!(
        e["message"].as_str().is_some_and(|m| m.contains("line 4")),
        "{e}"
    );
    let id = call(&w, "save_contract", json!({ "toml": PLAIN })).expect("saved");
    assert_eq!(id, json!("tariff/my-plain-contract"));
    let list = call(&w, "contracts", json!({})).expect("list");
    assert_eq!(list[6]["id"], json!("tariff/my-plain-contract"));
    assert_eq!(list[6]["stored"], json!(true));
    assert_eq!(list[6]["toml"], json!(PLAIN));

    let r = call(&w, "cost_report", json!({ "period": "last-12-months", "contracts": ["tariff/my-plain-contract", "preset:nl-flat"] }))
        .expect("report");
    assert_eq!(r["import_kwh"], json!(1.0));
    assert_eq!(r["export_kwh"], json!(0.0));
    assert_eq!(r["gas_m3"], json!(0.5), "{r}");
    // The readings cover exactly one hour of the period: the quarter hour that starts at the
    // last reading holds no time yet (counted whole, as before, 0.25 h too little was missing).
    let at = |k: &str| {
        r[k].as_str()
            .and_then(|s| s.parse::<jiff::Timestamp>().ok())
            .unwrap_or_else(|| panic!("{k} in {r}"))
            .as_second()
    };
    let period_s = at("to") - at("from");
    assert_eq!(
        r["missing_hours"],
        json!((period_s - 3600) as f64 / 3600.0),
        "{r}"
    );
    let plain = &r["contracts"][0];
    assert_eq!(plain["name"], json!("My plain contract"));
    assert_eq!(
        (
            plain["energy"].clone(),
            plain["vat"].clone(),
            plain["total"].clone()
        ),
        (json!(0.3), json!(0.0), json!(0.3))
    );
    assert_eq!(
        plain["gas"],
        json!(0.0),
        "a contract without [gas] prices no gas"
    );
    // nl-flat: 1 kWh at 0.24 energy and 0.0916 tax (rounds to 0.09).
    let flat = &r["contracts"][1];
    assert_eq!(
        (flat["energy"].clone(), flat["tax"].clone()),
        (json!(0.24), json!(0.09))
    );
    assert!(
        flat["fixed"].as_f64().is_some_and(|f| f >= 0.25 * 365.0),
        "{flat}"
    );

    let bad = |args: Value| call(&w, "cost_report", args).expect_err("bad")["code"].clone();
    assert_eq!(
        bad(json!({ "period": "fortnight", "contracts": [] })),
        json!("BadRequest")
    );
    assert_eq!(
        bad(json!({ "period": "this-month", "contracts": ["preset:nope"] })),
        json!("BadRequest")
    );
    assert_eq!(
        bad(json!({ "period": "this-month", "contracts": ["source"] })),
        json!("BadRequest")
    );

    // Tips come back as a list (an hour of data shows nothing worth a tip).
    let tips = call(
        &w,
        "tips",
        json!({ "contracts": ["tariff/my-plain-contract"] }),
    )
    .expect("tips");
    assert_eq!(tips, json!([]));
}

#[test]
fn passphrase_change_needs_the_current_one() {
    let dir = Scratch::new("passphrase");
    let (_app, w) = app_in(&dir.0, false);
    created(&w, &dir.0);
    let change = |current: &str, new: &str| {
        call(
            &w,
            "change_passphrase",
            json!({ "current": current, "new": new }),
        )
    };
    assert_eq!(
        change("wrong passphrase", "a new passphrase").expect_err("wrong")["code"],
        json!("WrongPassphrase")
    );
    assert_eq!(
        change(PASS, "short").expect_err("short")["code"],
        json!("BadRequest")
    );
    change(PASS, "a new passphrase").expect("changed");
    call(&w, "lock_vault", json!({})).expect("lock");
    assert_eq!(
        change(PASS, "another one!").expect_err("locked")["code"],
        json!("Locked")
    );
    assert_eq!(
        call(&w, "unlock", json!({ "passphrase": PASS })).expect_err("old")["code"],
        json!("WrongPassphrase")
    );
    assert_eq!(
        call(&w, "unlock", json!({ "passphrase": "a new passphrase" })).expect("new")["vault"],
        json!("open")
    );
}

#[test]
fn rekey_needs_the_current_passphrase_and_tells_the_page_its_progress() {
    use tauri::Listener;
    let dir = Scratch::new("rekey");
    let (app, w) = app_in(&dir.0, false);
    created(&w, &dir.0);
    store_one_kwh(&app);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let into = seen.clone();
    app.listen_any("rekey-progress", move |e| {
        into.lock().expect("seen").push(e.payload().to_string())
    });
    let rekey = |args: Value| call(&w, "rekey", args);
    assert_eq!(
        rekey(json!({ "current": "wrong passphrase" })).expect_err("wrong")["code"],
        json!("WrongPassphrase")
    );
    assert_eq!(
        rekey(json!({ "current": PASS, "new": "short" })).expect_err("short")["code"],
        json!("BadRequest")
    );
    assert!(seen.lock().expect("seen").is_empty());
    // The page's shape exactly: no vault id, no key material.
    let done = rekey(json!({ "current": PASS })).expect("rekeyed");
    let n = done["resealed"].as_u64().expect("resealed");
    assert_eq!(
        done,
        json!({ "resealed": n, "damaged": 0, "keyringSlotRemoved": false })
    );
    assert_eq!(
        seen.lock().expect("seen").last(),
        Some(&format!("[{n},{n}]"))
    );
    // Still open, and the same passphrase opens it after locking.
    assert_eq!(
        call(&w, "status", json!({})).expect("status")["vault"],
        json!("open")
    );
    call(&w, "lock_vault", json!({})).expect("lock");
    assert_eq!(
        rekey(json!({ "current": PASS })).expect_err("locked")["code"],
        json!("Locked")
    );
    assert_eq!(
        call(&w, "unlock", json!({ "passphrase": PASS })).expect("same")["vault"],
        json!("open")
    );
}

#[test]
fn meter_source_is_saved_switched_and_refused_when_invalid() {
    let dir = Scratch::new("source");
    let (_app, w) = app_in(&dir.0, false);
    created(&w, &dir.0);
    let file = format!("file:{}", dir.0.join("no-such-capture.txt").display());
    assert_eq!(
        call(&w, "meter_source", json!({})).expect("source"),
        json!(file)
    );
    let e = call(&w, "set_meter_source", json!({ "source": "modem:1" })).expect_err("bad");
    assert_eq!(e["code"], json!("BadRequest"));
    // The wizard's reader (of a missing file) is closed and the new source read at once.
    let capture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dsmr/v5.p1");
    let source = format!("file:{}", capture.display());
    let msg = call(&w, "set_meter_source", json!({ "source": source })).expect("saved");
    assert_eq!(msg, json!(format!("Saved. Reading from {source} now.")));
    assert_eq!(
        call(&w, "meter_source", json!({})).expect("source"),
        json!(source)
    );
    // The capture's telegram (2017-01-02T19:20:02+01:00) arrives from the new source.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while call(&w, "live_now", json!({})).expect("live").is_null()
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(
        call(&w, "live_now", json!({})).expect("live")["unix"],
        json!(1_483_381_202)
    );

    // The demo keeps its simulated meter.
    let demo_dir = Scratch::new("source-demo");
    let (_app2, w2) = app_in(&demo_dir.0, true);
    call(
        &w2,
        "create_vault",
        json!({ "passphrase": PASS, "source": "demo" }),
    )
    .expect("created");
    assert_eq!(
        call(
            &w2,
            "set_meter_source",
            json!({ "source": "tcp:192.168.1.50:23" })
        )
        .expect_err("demo")["code"],
        json!("BadRequest")
    );
}

#[test]
fn a_saved_file_source_is_really_collected() {
    // The wizard's source is read through hearth_meter_io's Reader (not the demo): the
    // DSMR 5 capture's one telegram reaches the live view and the vault.
    let dir = Scratch::new("collect");
    let (app, w) = app_in(&dir.0, false);
    let capture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dsmr/v5.p1");
    let source = format!("file:{}", capture.display());
    call(
        &w,
        "create_vault",
        json!({ "passphrase": PASS, "source": source }),
    )
    .expect("created");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let live = loop {
        let v = call(&w, "live_now", json!({})).expect("live");
        if !v.is_null() || std::time::Instant::now() > deadline {
            break v;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    // From the telegram: 0-0:1.0.0(170102192002W) = 2017-01-02T19:20:02+01:00 = 1483381202;
    // 1.7.0 0.244 kW; 1.8.1 + 1.8.2 = 4.426 + 2.399 = 6.825 kWh.
    assert_eq!(live["unix"], json!(1_483_381_202));
    assert_eq!(live["import_w"], json!(244));
    assert_eq!(live["import_kwh"], json!(6.825));
    let state = app.state::<AppState>();
    let store = state.store.lock().expect("lock");
    assert_eq!(
        store.vault().and_then(|v| v.last_time()),
        Some(1_483_381_202)
    );
}
