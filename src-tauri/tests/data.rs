//! The household's files from the window, through IPC: backup to the file chosen in the save
//! dialog, the vault check, restore and merge of a backup chosen in the open dialog, and import
//! of captures chosen there, twice (the second time changes nothing).

mod common;

use common::{PASS, Scratch, call, choose};
use hearth_desktop::state::AppState;
use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use hearth_vault::KdfParams;
use serde_json::json;
use std::path::Path;
use tauri::Manager as _;

/// An app in `dir` whose save dialog "returns" files in `dir` and whose open dialog "returns"
/// the files in `open`.
fn app(
    dir: &Path,
    open: &Path,
) -> (
    tauri::App<tauri::test::MockRuntime>,
    tauri::WebviewWindow<tauri::test::MockRuntime>,
) {
    let mut state =
        hearth_desktop::state_for(dir.to_path_buf(), false, KdfParams::INSECURE_FOR_TESTS);
    state.save_dialog_stand_in = Some(dir.to_path_buf());
    state.open_dialog_stand_in = Some(open.to_path_buf());
    common::app_with(state)
}

fn create(w: &tauri::WebviewWindow<tauri::test::MockRuntime>, pass: &str) {
    let source = "serial:/dev/hearth-test-no-such-port";
    call(
        w,
        "create_vault",
        json!({ "passphrase": pass, "source": source }),
    )
    .expect("created");
}

fn pick(w: &tauri::WebviewWindow<tauri::test::MockRuntime>, many: bool) -> String {
    let r = call(
        w,
        "pick_open_files",
        json!({ "many": many, "title": "Open" }),
    )
    .expect("picked");
    r["token"].as_str().expect("token").to_string()
}

#[test]
fn a_backup_restores_into_another_vault_once_and_the_check_counts_its_readings() {
    let a_dir = Scratch::new("data-backup-a");
    let b_dir = Scratch::new("data-backup-b");
    let (a_app, a) = app(&a_dir.0, &a_dir.0.join("nothing"));
    create(&a, PASS);
    // 90 readings a minute apart from 2026-01-15T09:00Z: two hours.
    {
        let state = a_app.state::<AppState>();
        let mut store = state.store.lock().expect("lock");
        let mut readings: Vec<Reading> = (0..90)
            .map(|i| {
                let mut r = Reading::new(Protocol::Dsmr);
                r.time = Some(MeterTime::utc(1_768_467_600 + i * 60));
                r.set(Quantity::ImportWh, 1_000_000 + i);
                r
            })
            .collect();
        store
            .append(&mut readings, 0, false, std::time::Instant::now())
            .expect("append");
    }
    let check = call(&a, "verify_vault", json!({})).expect("verify");
    assert_eq!(check["readings"], json!(90));
    assert_eq!(check["damaged"], json!([]));
    let args = |token: String| json!({ "from": "", "to": "", "token": token });
    let made = call(&a, "backup_vault", args(choose(&a, "home.backup"))).expect("backup");
    assert_eq!(made["hours"], json!(2));
    assert_eq!(
        made["path"],
        json!(a_dir.0.join("home.backup").display().to_string())
    );
    // A path instead of the dialog's token writes nothing.
    let forged = a_dir.0.join("x.backup").display().to_string();
    assert_eq!(
        call(&a, "backup_vault", args(forged)).expect_err("path")["code"],
        json!("BadRequest")
    );

    // Another household's vault, under another passphrase; its open dialog sees the backup.
    let (_b_app, b) = app(&b_dir.0, &a_dir.0);
    create(&b, "another passphrase");
    let restore = |pass: &str| {
        let token = pick(&b, false);
        call(
            &b,
            "restore_backup",
            json!({ "token": token, "passphrase": pass, "credentials": false }),
        )
    };
    let wrong = restore("not the one").expect_err("wrong passphrase");
    assert_eq!(wrong["code"], json!("WrongPassphrase"));
    assert_eq!(
        wrong["message"],
        json!(
            "That passphrase does not open this backup. Use the passphrase Hearth had when the backup was made."
        )
    );
    let first = restore(PASS).expect("restore");
    assert_eq!(
        (first["read"].clone(), first["added"].clone()),
        (json!(90), json!(90))
    );
    let second = restore(PASS).expect("again");
    assert_eq!(
        (second["added"].clone(), second["already_present"].clone()),
        (json!(0), json!(90))
    );
    assert_eq!(
        call(&b, "verify_vault", json!({})).expect("verify")["readings"],
        json!(90)
    );
}

#[test]
fn captures_chosen_in_the_open_dialog_are_imported_once() {
    let dir = Scratch::new("data-import");
    let files = dir.0.join("chosen");
    std::fs::create_dir_all(&files).expect("dir");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dsmr");
    std::fs::copy(fixtures.join("v5.p1"), files.join("a-meter.p1")).expect("copy");
    // Not a meter file: nothing from it, told by name.
    std::fs::write(files.join("b-photo.png"), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").expect("png");
    let (_app, w) = app(&dir.0, &files);
    create(&w, PASS);
    let first = call(&w, "import_files", json!({ "token": pick(&w, true) })).expect("import");
    assert_eq!(
        (first["added"].clone(), first["duplicates"].clone()),
        (json!(1), json!(0))
    );
    let unusable = first["unusable"].as_array().expect("list");
    assert_eq!(unusable.len(), 1, "{first}");
    assert!(
        unusable[0].as_str().expect("text").contains("b-photo.png"),
        "{first}"
    );
    let again = call(&w, "import_files", json!({ "token": pick(&w, true) })).expect("again");
    assert_eq!(
        (again["added"].clone(), again["duplicates"].clone()),
        (json!(0), json!(1))
    );
    // A token works once.
    let token = pick(&w, true);
    call(&w, "import_files", json!({ "token": token })).expect("once");
    assert_eq!(
        call(&w, "import_files", json!({ "token": token })).expect_err("twice")["code"],
        json!("BadRequest")
    );
}

#[test]
fn a_collector_box_s_sync_folder_is_merged_once_and_its_card_written_first() {
    let dir = Scratch::new("data-merge-folder");
    let folder = dir.0.join("Sync");
    std::fs::create_dir_all(&folder).expect("dir");
    let (_app, w) = app(&dir.0, &folder);
    create(&w, PASS);
    let merge = || {
        let choice = call(&w, "pick_folder", json!({ "title": "Merge" })).expect("picked");
        assert_eq!(choice["names"], json!(["Sync"]));
        call(&w, "merge_folder", json!({ "token": choice["token"] }))
    };
    // The first merge of an empty folder writes the card the box needs.
    let first = merge().expect("merged");
    assert_eq!(
        (first["card"].clone(), first["files"].clone()),
        (json!("written"), json!(0))
    );
    assert!(folder.join("hearth-write-key.txt").is_file());
    let fingerprint = first["fingerprint"]
        .as_str()
        .expect("fingerprint")
        .to_string();

    // The box, with no vault and no key: 90 readings a minute apart, sealed into the folder.
    let pins = dir.0.join("box-pins");
    let (mut collector, pinned) =
        hearth_app::sync::collector(&folder, &pins, false).expect("the box's collector");
    assert_eq!(pinned.card().fingerprint(), fingerprint);
    let readings: Vec<Reading> = (0..90)
        .map(|i| {
            let mut r = Reading::new(Protocol::Dsmr);
            r.time = Some(MeterTime::utc(1_768_467_600 + i * 60));
            r.set(Quantity::ImportWh, 2_000_000 + i);
            r
        })
        .collect();
    collector.append(&readings).expect("appended");
    collector.close().expect("sealed");

    let second = merge().expect("merged");
    assert_eq!(
        (
            second["card"].clone(),
            second["readings"].clone(),
            second["added"].clone(),
            second["refused"].clone()
        ),
        (json!("kept"), json!(90), json!(90), json!([]))
    );
    // Again: nothing new, the file is not even opened.
    let third = merge().expect("merged");
    assert_eq!(
        (
            third["files"].clone(),
            third["unchanged"].clone(),
            third["added"].clone()
        ),
        (json!(0), second["files"].clone(), json!(0))
    );
    assert_eq!(
        call(&w, "verify_vault", json!({})).expect("verify")["readings"],
        json!(90)
    );
    // Locked: refused, nothing merged.
    call(&w, "lock_vault", json!({})).expect("locked");
    let choice = call(&w, "pick_folder", json!({ "title": "Merge" })).expect("picked");
    let locked = call(&w, "merge_folder", json!({ "token": choice["token"] })).expect_err("locked");
    assert_eq!(locked["code"], json!("Locked"));
}
