//! Preferences (language, theme, auto-lock), start at login and saving charts, through Tauri's
//! IPC with the mock runtime: what the Settings screen and the "Save as" buttons call.

mod common;
use common::{Scratch, app_in, app_saving_in, call, choose};

use hearth_desktop::state::AppState;
use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use serde_json::{Value, json};
use tauri::Manager;

#[test]
fn preferences_are_saved_outside_the_vault_and_checked() {
    let dir = Scratch::new("prefs");
    let (_app, w) = app_in(&dir.0, false);
    // Defaults, readable with no vault at all (the first-run wizard and lock screen need them).
    assert_eq!(
        call(&w, "preferences", json!({})).expect("prefs"),
        json!({ "language": "", "theme": "system", "auto_lock_minutes": 15, "start_at_login": false })
    );
    let saved = call(
        &w,
        "set_preferences",
        json!({ "language": "nl", "theme": "dark", "autoLockMinutes": 30 }),
    )
    .expect("saved");
    assert_eq!(saved["language"], json!("nl"));
    let file = dir.0.join("config/hearth/preferences.json");
    let on_disk: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("file")).expect("json");
    assert_eq!(
        on_disk,
        json!({ "language": "nl", "theme": "dark", "auto_lock_minutes": 30 })
    );
    // A second app over the same directories starts with them.
    let (_app2, w2) = app_in(&dir.0, false);
    assert_eq!(
        call(&w2, "preferences", json!({})).expect("prefs")["theme"],
        json!("dark")
    );
    // Values the window does not offer are refused and nothing changes.
    for bad in [
        json!({ "language": "es", "theme": "dark", "autoLockMinutes": 30 }),
        json!({ "language": "nl", "theme": "sepia", "autoLockMinutes": 30 }),
        json!({ "language": "nl", "theme": "dark", "autoLockMinutes": 1 }),
    ] {
        let e = call(&w, "set_preferences", bad.clone()).expect_err("refused");
        assert_eq!(e["code"], json!("BadRequest"), "{bad}");
    }
    assert_eq!(
        serde_json::from_str::<Value>(&std::fs::read_to_string(&file).expect("file"))
            .expect("json"),
        on_disk
    );
    // app_info names the file for the privacy page.
    let info = call(&w, "app_info", json!({})).expect("info");
    assert_eq!(info["prefs_path"], json!(file.display().to_string()));
    assert_eq!(info["auto_lock_seconds"], Value::Null);
}

#[test]
fn start_at_login_writes_and_removes_the_xdg_autostart_entry() {
    let dir = Scratch::new("login");
    let (_app, w) = app_in(&dir.0, false);
    let entry = dir.0.join("config/autostart/hearth.desktop");
    let on = call(&w, "set_start_at_login", json!({ "on": true })).expect("on");
    assert_eq!(on["start_at_login"], json!(true));
    let text = std::fs::read_to_string(&entry).expect("entry");
    // Exec is this very program (the test binary here), started in the tray.
    let exe = std::env::current_exe().expect("exe");
    let exec = text
        .lines()
        .find_map(|l| l.strip_prefix("Exec="))
        .expect("Exec line");
    assert!(exec.ends_with(" --minimized"), "{exec}");
    assert!(
        exec.contains(&*exe.file_name().expect("name").to_string_lossy()),
        "{exec}"
    );
    assert!(text.contains("\nType=Application\n"), "{text}");
    let off = call(&w, "set_start_at_login", json!({ "on": false })).expect("off");
    assert_eq!(off["start_at_login"], json!(false));
    assert!(!entry.exists());
}

#[test]
fn charts_are_saved_as_png_and_svg_and_bad_requests_refused() {
    let dir = Scratch::new("charts");
    let (app, w) = app_saving_in(&dir.0);
    call(
        &w,
        "create_vault",
        json!({ "passphrase": "long enough pass", "source": "serial:/dev/hearth-test-no-such-port" }),
    )
    .expect("created");
    // Readings a minute apart at 1200 W over the last hour (history is "now"-relative).
    {
        let state = app.state::<AppState>();
        let mut store = state.store.lock().expect("lock");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs() as i64;
        let start = now - now % 60 - 3600;
        let readings: Vec<Reading> = (0..=60)
            .map(|m| {
                let mut r = Reading::new(Protocol::Dsmr);
                r.time = Some(MeterTime::utc(start + m * 60));
                r.set(Quantity::ImportWh, 1_000_000 + m * 20);
                r.set(Quantity::ImportW, 1200);
                r
            })
            .collect();
        store
            .append(&mut readings.to_vec(), 0, false, std::time::Instant::now())
            .expect("append");
        store.vault_mut().expect("open").flush().expect("flush");
    }
    let request = |chart: &str| {
        json!({ "chart": chart, "kind": "week", "shift": 0, "compare": false,
                "width": 500, "height": 200, "dark": false, "lang": "de" })
    };
    let png = dir.0.join("d.png");
    let written = call(
        &w,
        "save_chart",
        json!({ "request": request("duration"), "format": "png", "token": choose(&w, "d.png") }),
    )
    .expect("png");
    assert_eq!(written, json!(png.display().to_string()));
    let bytes = std::fs::read(&png).expect("png file");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    // IHDR width and height: twice 500 x 200.
    assert_eq!(&bytes[16..24], &[0, 0, 3, 232, 0, 0, 1, 144]);
    let svg = dir.0.join("b.svg");
    call(
        &w,
        "save_chart",
        json!({ "request": request("bars"), "format": "svg", "token": choose(&w, "b.svg") }),
    )
    .expect("svg");
    let text = std::fs::read_to_string(&svg).expect("svg file");
    assert!(
        text.contains("<title>Energieverbrauch, Woche ab "),
        "{}",
        &text[..200]
    );
    // No gas in these readings: there is no gas chart to save.
    let e = call(
        &w,
        "save_chart",
        json!({ "request": request("gas"), "format": "svg", "token": choose(&w, "b.svg") }),
    )
    .expect_err("no gas");
    assert_eq!(e["code"], json!("NoData"));
    for (req, format, token) in [
        (request("pie"), "png", choose(&w, "d.png")),
        (request("bars"), "gif", choose(&w, "d.png")),
        (request("bars"), "png", png.display().to_string()),
    ] {
        let e = call(
            &w,
            "save_chart",
            json!({ "request": req, "format": format, "token": token }),
        )
        .expect_err("refused");
        assert_eq!(e["code"], json!("BadRequest"), "{format} {token}");
    }
}
