//! The commands exercised through Tauri's IPC with the mock runtime (no display, no WebKit).

mod common;
use common::{Scratch, call, choose};

use hearth_app::live::Live;
use hearth_desktop::state::AppState;
use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use hearth_vault::KdfParams;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use tauri::test::MockRuntime;
use tauri::{App, Manager, WebviewWindow};

fn app_in(
    dir: &std::path::Path,
) -> (
    App<MockRuntime>,
    WebviewWindow<MockRuntime>,
    Arc<Mutex<Live>>,
) {
    let state = hearth_desktop::state_for(dir.to_path_buf(), true, KdfParams::INSECURE_FOR_TESTS);
    let live = state.live.clone();
    let (app, webview) = common::app_with(state);
    (app, webview, live)
}

fn app(live: Arc<Mutex<Live>>) -> (App<MockRuntime>, WebviewWindow<MockRuntime>) {
    common::app_with(AppState {
        live,
        ..hearth_desktop::state_for("/nonexistent".into(), true, KdfParams::INSECURE_FOR_TESTS)
    })
}

/// A DSMR-like reading: 1234 W import, 0 W export, L1 230.1 V / 5.36 A, 3 phases of power.
fn reading(unix: i64) -> Reading {
    let mut r = Reading::new(Protocol::Dsmr);
    r.time = Some(MeterTime {
        unix,
        offset_s: 3600,
    });
    r.set(Quantity::ImportW, 1234);
    r.set(Quantity::ExportW, 0);
    r.set(Quantity::L1ImportW, 1234);
    r.set(Quantity::L1Dv, 2301);
    r.set(Quantity::L1Ma, 5360);
    r.set(Quantity::ImportWh, 4_567_891);
    r.set(Quantity::GasDm3, 1_234_567);
    r.set(Quantity::Tariff, 2);
    r
}

#[test]
fn app_info_reports_demo() {
    let (_app, w) = app(Arc::default());
    let v = call(&w, "app_info", json!({})).expect("ok");
    assert_eq!(v["demo"], json!(true));
    assert_eq!(v["source"], json!("Demo meter (simulated)"));
}

#[test]
fn live_now_is_null_then_the_latest_reading() {
    let live: Arc<Mutex<Live>> = Arc::default();
    let (_app, w) = app(live.clone());
    assert_eq!(call(&w, "live_now", json!({})), Ok(Value::Null));
    live.lock()
        .expect("lock")
        .record(&reading(1_764_165_900), 0);
    let v = call(&w, "live_now", json!({})).expect("ok");
    assert_eq!(v["net_w"], json!(1234));
    assert_eq!(v["unix"], json!(1_764_165_900));
    assert_eq!(v["time"], json!("2025-11-26T15:05:00+01:00"));
    assert_eq!(v["import_kwh"], json!(4567.891));
    assert_eq!(v["gas_m3"], json!(1234.567));
    assert_eq!(v["tariff"], json!(2));
    assert_eq!(v["accepted"], json!(1));
    // Only L1 carries values; 230.1 V and 5.36 A scaled from dV and mA.
    assert_eq!(
        v["phases"],
        json!([{ "name": "L1", "import_w": 1234, "export_w": null, "voltage_v": 230.1, "current_a": 5.36 }])
    );
}

#[test]
fn live_chart_errors_are_coded_and_svg_comes_back() {
    let live: Arc<Mutex<Live>> = Arc::default();
    let (_app, w) = app(live.clone());
    let args = json!({ "width": 600, "height": 240, "minutes": 10, "dark": false });
    let err = call(&w, "live_chart", args.clone()).expect_err("no data yet");
    assert_eq!(err["code"], json!("NoData"));
    assert_eq!(err["message"], json!("No reading from the meter yet."));

    for t in 0..30 {
        live.lock()
            .expect("lock")
            .record(&reading(1_764_165_900 + t), 0);
    }
    let svg = call(&w, "live_chart", args).expect("svg");
    let svg = svg.as_str().unwrap_or_default();
    assert!(svg.starts_with("<svg"), "{svg:.60}");
    assert!(svg.contains("<title>Power, last 10 minutes</title>"));

    let err = call(
        &w,
        "live_chart",
        json!({ "width": 5, "height": 240, "minutes": 10, "dark": true }),
    )
    .expect_err("too small");
    assert_eq!(err["code"], json!("BadRequest"));
    // A missing argument is refused by IPC itself, not a panic.
    assert!(call(&w, "live_chart", json!({ "width": 600 })).is_err());
}

#[test]
fn wizard_lock_and_unlock_through_ipc() {
    let dir = Scratch::new("wizard");
    let (_app, w, _) = app_in(&dir.0);
    let st = call(&w, "status", json!({})).expect("status");
    assert_eq!(st["vault"], json!("setup"));
    assert_eq!(
        st["vault_path"],
        json!(dir.0.join("vault.hearth").display().to_string())
    );
    // Locked before anything exists: history is refused with a code.
    let hist = json!({ "kind": "day", "shift": 0, "width": 600, "height": 240, "dark": false, "compare": false });
    assert_eq!(
        call(&w, "history", hist.clone()).expect_err("locked")["code"],
        json!("Locked")
    );
    // Too short a passphrase, and a source that is not one.
    let e = call(
        &w,
        "create_vault",
        json!({ "passphrase": "short", "source": "demo" }),
    )
    .expect_err("short");
    assert_eq!(e["code"], json!("BadRequest"));
    let e = call(
        &w,
        "create_vault",
        json!({ "passphrase": "long enough pass", "source": "modem:1" }),
    )
    .expect_err("bad source");
    assert_eq!(e["code"], json!("BadRequest"));
    // A serial source is stored (and read: the port does not exist, so the reader retries).
    let st = call(
        &w,
        "create_vault",
        json!({ "passphrase": "long enough pass", "source": "serial:/dev/hearth-test-no-such-port" }),
    )
    .expect("created");
    assert_eq!(st["vault"], json!("open"));
    assert!(dir.0.join("vault.hearth").exists());
    assert_eq!(
        call(
            &w,
            "create_vault",
            json!({ "passphrase": "long enough pass", "source": "demo" })
        )
        .expect_err("exists")["code"],
        json!("BadRequest")
    );
    assert_eq!(
        call(&w, "lock_vault", json!({})).expect("lock")["vault"],
        json!("locked")
    );
    let e = call(&w, "unlock", json!({ "passphrase": "wrong passphrase" })).expect_err("wrong");
    assert_eq!(e["code"], json!("WrongPassphrase"));
    assert_eq!(
        e["message"],
        json!("That passphrase does not unlock this vault. Check it and try again.")
    );
    assert_eq!(
        call(&w, "unlock", json!({ "passphrase": "long enough pass" })).expect("unlock")["vault"],
        json!("open")
    );
    // Open and empty: a day page with no rows.
    let page = call(&w, "history", hist).expect("page");
    assert_eq!(page["rows"], json!([]));
    assert_eq!(page["import_kwh"], json!(0.0));
    assert!(
        page["bars_svg"]
            .as_str()
            .is_some_and(|s| s.starts_with("<svg"))
    );
    let e = call(&w, "history", json!({ "kind": "decade", "shift": 0, "width": 600, "height": 240, "dark": false, "compare": false }))
        .expect_err("bad kind");
    assert_eq!(e["code"], json!("BadRequest"));
}

#[test]
fn export_writes_csv_of_what_was_stored() {
    let dir = Scratch::new("export");
    let (app, w) = common::app_saving_in(&dir.0);
    call(
        &w,
        "create_vault",
        json!({ "passphrase": "long enough pass", "source": "serial:/dev/hearth-test-no-such-port" }),
    )
    .expect("created");
    // Two readings a minute apart, 2026-01-15T09:00Z and 09:01Z: 50 Wh used.
    {
        let state = app.state::<AppState>();
        let mut store = state.store.lock().expect("lock");
        let t0 = 1_768_467_600;
        let mut a = reading(t0);
        a.set(Quantity::ImportWh, 1_000_000);
        let mut b = reading(t0 + 60);
        b.set(Quantity::ImportWh, 1_000_050);
        store
            .append(&mut [a, b].to_vec(), 0, false, std::time::Instant::now())
            .expect("append");
        store.vault_mut().expect("open").flush().expect("flush");
    }
    let out = dir.0.join("out.csv");
    let args = |res: &str, token: &str| json!({ "from": "2026-01-14", "to": "2026-01-16", "resolution": res, "decimalComma": false, "token": token });
    let r = call(&w, "export_csv", args("raw", &choose(&w, "out.csv"))).expect("export");
    assert_eq!(r["rows"], json!(2));
    let csv = std::fs::read_to_string(&out).expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(
        lines[0].starts_with("time,meter_id,protocol,"),
        "{}",
        lines[0]
    );
    let header: Vec<&str> = lines[0].split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "import_kwh")
        .expect("import_kwh column");
    assert_eq!(lines[1].split(',').nth(col), Some("1000.000"));
    assert_eq!(lines[2].split(',').nth(col), Some("1000.050"));
    // Refusals: a path instead of the dialog's token, unknown resolution, reversed dates.
    assert_eq!(
        call(&w, "export_csv", args("raw", &out.display().to_string())).expect_err("path")["code"],
        json!("BadRequest")
    );
    assert_eq!(
        call(&w, "export_csv", args("5s", &choose(&w, "out.csv"))).expect_err("res")["code"],
        json!("BadRequest")
    );
    let rev = json!({ "from": "2026-01-16", "to": "2026-01-14", "resolution": "raw", "decimalComma": false, "token": choose(&w, "out.csv") });
    assert_eq!(
        call(&w, "export_csv", rev).expect_err("reversed")["code"],
        json!("BadRequest")
    );
    // The save dialog asked before replacing: the file written above is replaced.
    let again = call(&w, "export_csv", args("1h", &choose(&w, "out.csv"))).expect("again");
    assert_eq!(again["rows"], json!(1));
    // Never the vault itself (issue 17): refused, and it still holds both readings.
    let vault = call(&w, "status", json!({})).expect("status")["vault_path"].clone();
    let vault = vault.as_str().expect("vault path");
    let vault_name = std::path::Path::new(vault).file_name().expect("name");
    let err = call(
        &w,
        "export_csv",
        args("raw", &choose(&w, &vault_name.to_string_lossy())),
    )
    .expect_err("the vault");
    assert_eq!(err["code"], json!("BadRequest"));
    assert_eq!(
        err["message"],
        json!(format!(
            "{vault} is your Hearth vault (or one of its working files). Writing the export \
             there would destroy your readings; choose another file."
        ))
    );
    let r = call(&w, "export_csv", args("raw", &choose(&w, "out.csv"))).expect("export");
    assert_eq!(r["rows"], json!(2));
}

#[test]
fn after_unlock_the_now_chart_shows_the_last_stored_minutes() {
    // A meter that has not sent its first telegram yet (the port does not exist): after
    // unlocking, the Now chart draws the readings stored in the last half hour, while the
    // numbers stay empty; readings older than that are not drawn.
    let dir = Scratch::new("seed");
    let (app, w, live) = app_in(&dir.0);
    call(
        &w,
        "create_vault",
        json!({ "passphrase": "long enough pass", "source": "serial:/dev/hearth-test-no-such-port" }),
    )
    .expect("created");
    let now = hearth_desktop::collector::now_unix();
    {
        let state = app.state::<AppState>();
        let mut store = state.store.lock().expect("lock");
        // An hour of readings every 10 s, ending a minute ago: 180 of them in the last 30 min.
        let stored: Vec<Reading> = (0..360).map(|i| reading(now - 3660 + i * 10)).collect();
        store
            .append(&mut stored.to_vec(), 0, false, std::time::Instant::now())
            .expect("append");
        store.vault_mut().expect("open").flush().expect("flush");
    }
    call(&w, "lock_vault", json!({})).expect("lock");
    *live.lock().expect("live") = Live::default();
    let chart = json!({ "width": 600, "height": 240, "minutes": 10, "dark": false });
    assert_eq!(
        call(&w, "live_chart", chart.clone()).expect_err("nothing yet")["code"],
        json!("NoData")
    );
    call(&w, "unlock", json!({ "passphrase": "long enough pass" })).expect("unlock");
    let svg = call(&w, "live_chart", chart).expect("chart from stored minutes");
    assert!(svg.as_str().is_some_and(|s| s.starts_with("<svg")));
    let held = live.lock().expect("live").len();
    // Newest stored at now - 70; drawn: the half hour up to it, (now - 1870, now - 70], i.e.
    // i = 180..359, 180 samples.
    assert_eq!(held, 180);
    assert_eq!(
        call(&w, "live_now", json!({})).expect("live_now"),
        json!(null)
    );
}
