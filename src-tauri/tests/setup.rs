//! The first-run wizard's `create_vault` with its extras (meter keys, broker password, UK
//! tariff, no live source) through Tauri's IPC with the mock runtime.

mod common;
use common::{PASS, Scratch, app_in, call};

use hearth_desktop::state::AppState;
use serde_json::json;
use tauri::test::MockRuntime;
use tauri::{App, Manager};

const KEY: &str = "00112233445566778899AABBCCDDEEFF";

fn setting(app: &App<MockRuntime>, name: &str) -> Option<String> {
    let state = app.state::<AppState>();
    let store = state.store.lock().expect("lock");
    store
        .vault()
        .expect("open")
        .get_setting(name)
        .expect("setting")
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

#[test]
fn bad_keys_and_public_brokers_make_no_vault() {
    let dir = Scratch::new("refused");
    let (_app, w) = app_in(&dir.0, false);
    let cases = [
        (
            "serial:/dev/hearth-test-none",
            json!({ "key": "1234" }),
            "32 hexadecimal digits",
        ),
        (
            "serial:/dev/hearth-test-none",
            json!({ "key": KEY, "authKey": "xyz" }),
            "authentication key",
        ),
        (
            "serial:/dev/hearth-test-none",
            json!({ "authKey": KEY }),
            "needs the meter key",
        ),
        (
            "mqtt://8.8.8.8/glow/#",
            json!({}),
            "not on your home network",
        ),
        ("tcp:1.1.1.1:23", json!({}), "not on your home network"),
        ("mqtt://user:pw@192.168.1.2/x", json!({}), "password"),
    ];
    for (source, extras, says) in cases {
        let e = call(
            &w,
            "create_vault",
            json!({ "passphrase": PASS, "source": source, "extras": extras }),
        )
        .expect_err("refused");
        assert_eq!(e["code"], json!("BadRequest"), "{source}");
        assert!(
            e["message"].as_str().is_some_and(|m| m.contains(says)),
            "{source}: {e}"
        );
        assert_eq!(
            call(&w, "status", json!({})).expect("status")["vault"],
            json!("setup")
        );
    }
}

#[test]
fn keys_password_and_uk_tariff_are_sealed_in_the_vault() {
    let dir = Scratch::new("stored");
    let (app, w) = app_in(&dir.0, false);
    let st = call(
        &w,
        "create_vault",
        json!({ "passphrase": PASS, "source": "tcp:192.168.1.20:2001",
                "extras": { "key": KEY, "authKey": "none" } }),
    )
    .expect("created");
    assert_eq!(st["vault"], json!("open"));
    assert_eq!(st["keyring"], json!(false));
    // The CLI's setting names and encoding, so `hearth collect` decrypts the same vault.
    assert_eq!(setting(&app, "meter/key").as_deref(), Some(KEY));
    assert_eq!(setting(&app, "meter/auth_key").as_deref(), Some("none"));
    assert_eq!(
        setting(&app, "source").as_deref(),
        Some("tcp:192.168.1.20:2001")
    );

    let dir2 = Scratch::new("uk");
    let (app2, w2) = app_in(&dir2.0, false);
    call(
        &w2,
        "create_vault",
        json!({ "passphrase": PASS, "source": "mqtt://glow@127.0.0.1:1/",
                "extras": { "mqttPassword": "broker secret", "contract": "preset:uk-flat" } }),
    )
    .expect("created");
    assert_eq!(
        setting(&app2, "mqtt/password").as_deref(),
        Some("broker secret")
    );
    let source = setting(&app2, "source").expect("source");
    assert!(
        source.starts_with("mqtt://glow@127.0.0.1:1/") && !source.contains("secret"),
        "{source}"
    );
    assert!(setting(&app2, "meter/key").is_none());
    // The UK preset is now the user's own contract (listed as stored).
    let contracts = call(&w2, "contracts", json!({})).expect("contracts");
    let mine: Vec<&str> = contracts
        .as_array()
        .expect("list")
        .iter()
        .filter(|c| c["stored"] == json!(true))
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(mine, vec!["UK single rate (example)"]);

    // Supplier downloads only: a vault with no live source.
    let dir3 = Scratch::new("none");
    let (app3, w3) = app_in(&dir3.0, false);
    call(
        &w3,
        "create_vault",
        json!({ "passphrase": PASS, "source": "", "extras": { "contract": "preset:uk-economy7" } }),
    )
    .expect("created");
    assert!(setting(&app3, "source").is_none());
    assert_eq!(
        call(&w3, "meter_source", json!({})).expect("source"),
        json!("")
    );
}

#[test]
fn meter_keys_can_be_given_later_in_settings() {
    let dir = Scratch::new("later");
    let (app, w) = app_in(&dir.0, false);
    let args = |key: &str, auth: &str| json!({ "key": key, "authKey": auth });
    assert_eq!(
        call(&w, "set_meter_keys", args(KEY, "")).expect_err("locked")["code"],
        json!("Locked")
    );
    call(
        &w,
        "create_vault",
        json!({ "passphrase": PASS, "source": "serial:/dev/hearth-test-none" }),
    )
    .expect("created");
    assert!(setting(&app, "meter/key").is_none());
    for (key, auth) in [("", ""), ("abc", ""), (KEY, "12")] {
        assert_eq!(
            call(&w, "set_meter_keys", args(key, auth)).expect_err("refused")["code"],
            json!("BadRequest"),
            "{key:?} {auth:?}"
        );
    }
    assert!(setting(&app, "meter/key").is_none());
    call(&w, "set_meter_keys", args(KEY, KEY)).expect("saved");
    assert_eq!(setting(&app, "meter/key").as_deref(), Some(KEY));
    assert_eq!(setting(&app, "meter/auth_key").as_deref(), Some(KEY));
}
