//! What the page may not do on its own (issue 18), through Tauri's IPC with the mock runtime:
//! write to a file the save dialog did not give it, turn the OS keyring on without the
//! passphrase, or let the collector reach a public host.

mod common;
use common::{PASS, Scratch, app_saving_in, call, choose, created};

use serde_json::json;

/// An export of everything, at hourly resolution, to the file `token` stands for.
fn export(token: &str) -> serde_json::Value {
    json!({ "from": "2020-01-01", "to": "2040-01-01", "resolution": "1h",
            "decimalComma": false, "token": token })
}

const NOT_CHOSEN: &str = "Choose the file in the save dialog first: each choice is good for one save, within 15 minutes.";

#[test]
fn a_file_is_written_only_with_the_dialogs_token_once() {
    let dir = Scratch::new("page-token");
    let (_app, w) = app_saving_in(&dir.0);
    created(&w, &dir.0);
    let notes = dir.0.join("notes.txt");
    std::fs::write(&notes, "my notes").expect("write");
    let path = notes.display().to_string();

    // A path from the page, as the commands took before: refused, the file untouched.
    let e = call(
        &w,
        "export_csv",
        json!({ "from": "2020-01-01", "to": "2040-01-01",
        "resolution": "1h", "decimalComma": false, "path": path }),
    )
    .expect_err("a path is no token");
    assert!(e.to_string().contains("token"), "{e}");
    // A path, a made-up token, a malformed one: refused.
    for forged in [path.as_str(), "0123456789abcdef0123456789abcdef", ""] {
        let e = call(&w, "export_csv", export(forged)).expect_err("not chosen");
        assert_eq!(
            e,
            json!({ "code": "BadRequest", "message": NOT_CHOSEN }),
            "{forged}"
        );
        let e = call(
            &w,
            "save_chart",
            json!({ "request": { "chart": "live", "width": 400, "height": 200, "dark": false },
                    "format": "svg", "token": forged }),
        )
        .expect_err("not chosen");
        assert_eq!(e["message"], json!(NOT_CHOSEN));
    }
    assert_eq!(std::fs::read_to_string(&notes).expect("kept"), "my notes");

    // The dialog's choice, once: the page sees the path but writes only through the token.
    let args = json!({ "suggested": "/etc/../readings.csv", "extension": "csv", "title": "t" });
    let choice = call(&w, "pick_save_path", args).expect("chosen");
    let out = dir.0.join("readings.csv");
    assert_eq!(choice["path"], json!(out.display().to_string()));
    let token = choice["token"].as_str().expect("token");
    let done = call(&w, "export_csv", export(token)).expect("exported");
    assert_eq!(
        done,
        json!({ "rows": 0, "path": out.display().to_string() })
    );
    assert!(
        std::fs::read_to_string(&out)
            .expect("csv")
            .starts_with("time,meter_id,protocol,")
    );
    std::fs::write(&out, "edited").expect("write");
    let e = call(&w, "export_csv", export(token)).expect_err("used");
    assert_eq!(e["message"], json!(NOT_CHOSEN));
    assert_eq!(std::fs::read_to_string(&out).expect("kept"), "edited");
}

#[test]
fn a_symbolic_link_is_never_written_through() {
    let dir = Scratch::new("page-link");
    let (_app, w) = app_saving_in(&dir.0);
    created(&w, &dir.0);
    let notes = dir.0.join("notes.txt");
    std::fs::write(&notes, "my notes").expect("write");
    // A link where the dialog points: refused when chosen.
    let link = dir.0.join("link.csv");
    std::os::unix::fs::symlink(&notes, &link).expect("link");
    let args = json!({ "suggested": "link.csv", "extension": "csv", "title": "t" });
    let e = call(&w, "pick_save_path", args).expect_err("a link");
    assert_eq!(
        e,
        json!({ "code": "Io", "message": format!("{} is a symbolic link. Hearth does not write \
            through links; choose the file itself.", link.display()) })
    );
    // A link put in place of the chosen file before the write: refused, nothing written.
    let token = choose(&w, "later.csv");
    let later = dir.0.join("later.csv");
    std::os::unix::fs::symlink(&notes, &later).expect("link");
    let e = call(&w, "export_csv", export(&token)).expect_err("a link");
    assert_eq!(e["code"], json!("Io"));
    assert_eq!(std::fs::read_to_string(&notes).expect("kept"), "my notes");
}

#[test]
fn turning_the_keyring_on_takes_the_passphrase() {
    let dir = Scratch::new("page-keyring");
    let (_app, w) = app_saving_in(&dir.0);
    created(&w, &dir.0);
    let asked = json!({ "code": "BadRequest",
                        "message": "Type your passphrase to keep a key in the OS keyring." });
    for args in [
        json!({ "on": true }),
        json!({ "on": true, "passphrase": "" }),
    ] {
        assert_eq!(call(&w, "set_keyring", args), Err(asked.clone()));
    }
    let wrong = call(
        &w,
        "set_keyring",
        json!({ "on": true, "passphrase": "not the passphrase" }),
    )
    .expect_err("wrong");
    assert_eq!(wrong["code"], json!("WrongPassphrase"));
    // Refused before the keyring is asked: the vault has no keyring slot.
    assert_eq!(
        call(&w, "status", json!({})).expect("status")["keyring"],
        json!(false)
    );
    let vault = dir.0.join("vault.hearth");
    assert_eq!(
        hearth_vault::Vault::has_secret_slot(&vault).ok(),
        Some(false)
    );
    // Locked, the passphrase alone does not do it either.
    call(&w, "lock_vault", json!({})).expect("locked");
    let e = call(&w, "set_keyring", json!({ "on": true, "passphrase": PASS })).expect_err("locked");
    assert_eq!(e["code"], json!("Locked"));
}

#[test]
fn a_public_host_is_allowed_by_the_cli_alone() {
    let dir = Scratch::new("page-public");
    let (_app, w) = app_saving_in(&dir.0);
    let public = [
        "tcp:192.168.1.5:23?allow_public",
        "tcp:203.0.113.7:23?allow_public",
        "mqtt://glow@203.0.113.7/glow/#?allow_public",
        "mqtt://broker.lan/tele/+/SENSOR?preset=tasmota&allow_public",
        "homewizard:192.168.1.50?allow_public",
        "homewizard:203.0.113.7?allow_public",
    ];
    let refusal = json!({ "code": "BadRequest", "message": "Only the hearth command can let \
        Hearth reach a meter outside your home network (allow_public); here, give an address on \
        your home network." });
    // Not in the first-run wizard ...
    for source in public {
        let e = call(
            &w,
            "create_vault",
            json!({ "passphrase": PASS, "source": source }),
        )
        .expect_err("refused");
        assert_eq!(e, refusal, "{source}");
    }
    assert_eq!(
        call(&w, "status", json!({})).expect("status")["vault"],
        json!("setup")
    );
    // ... nor in Settings: the saved source stays.
    created(&w, &dir.0);
    let before = call(&w, "meter_source", json!({})).expect("source");
    for source in public {
        let e = call(&w, "set_meter_source", json!({ "source": source })).expect_err("refused");
        assert_eq!(e, refusal, "{source}");
    }
    assert_eq!(call(&w, "meter_source", json!({})), Ok(before));
}
