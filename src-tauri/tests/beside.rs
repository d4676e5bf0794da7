//! The app beside a collector, through IPC on the mock runtime: a second writer in the test
//! holds the vault's writer lock (as `hearth collect` does); the app unlocks read-only,
//! follows what that writer stores (live view and history), and takes over writing once it
//! closes.

mod common;
use common::{PASS, Scratch, call};

use hearth_app::Setting;
use hearth_desktop::state::AppState;
use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use hearth_vault::{CreateOptions, KdfParams, Vault, VaultError};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tauri::Manager;
use tauri::WebviewWindow;
use tauri::test::MockRuntime;

/// Where the collector's readings start: 1300 s ago, or at the start of today (UTC, the
/// vault's zone) if that is later. Its readings (one every 10 s, up to 1210 s on) then lie in
/// today, and the newest within the live view's half hour of now.
fn today() -> i64 {
    let now = hearth_desktop::collector::now_unix();
    (now - 1300).max(now - now.rem_euclid(86_400))
}

/// Reading `m` from `day`, 10 s apart: 3000 W and more, 50 Wh each.
fn reading(day: i64, m: i64) -> Reading {
    let mut r = Reading::new(Protocol::Dsmr);
    r.time = Some(MeterTime::utc(day + m * 10));
    r.set(Quantity::ImportWh, 1_000_000 + m * 50);
    r.set(Quantity::ImportW, 3000 + m);
    r
}

/// A vault (UTC) whose saved source is a capture file that does not exist (a collector on it
/// retries quietly; no port is opened), and the collector's writer on it.
fn vault_with_collector(dir: &Path) -> (PathBuf, Vault) {
    let path = dir.join("vault.hearth");
    let options = CreateOptions {
        kdf: KdfParams::INSECURE_FOR_TESTS,
        time_zone: Some("UTC".into()),
    };
    let mut v = Vault::create(&path, PASS, &options).expect("create");
    let source = format!("file:{}", dir.join("no-such-capture.txt").display());
    Setting::Source
        .put(&mut v, source.as_bytes())
        .expect("source");
    v.close().expect("close");
    (path.clone(), Vault::open(&path, PASS).expect("collector"))
}

/// The collector stores readings `ms` and checkpoints.
fn collect(collector: &mut Vault, day: i64, ms: std::ops::RangeInclusive<i64>) {
    let rs: Vec<Reading> = ms.map(|m| reading(day, m)).collect();
    collector.append(&rs).expect("append");
    collector.flush().expect("flush");
}

/// Polls `f` until it gives a value (the follower looks every 2 s), at most 20 s.
fn wait<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn live_unix(w: &WebviewWindow<MockRuntime>) -> Option<i64> {
    call(w, "live_now", json!({})).expect("live")["unix"].as_i64()
}

fn status(w: &WebviewWindow<MockRuntime>) -> Value {
    call(w, "status", json!({})).expect("status")
}

/// Today's imported energy on the History screen.
fn history_kwh(w: &WebviewWindow<MockRuntime>) -> f64 {
    let args = json!({ "kind": "day", "shift": 0, "width": 600, "height": 200,
                       "dark": false, "compare": false });
    call(w, "history", args).expect("history")["import_kwh"]
        .as_f64()
        .expect("kWh")
}

#[test]
fn beside_a_collector_the_app_follows_then_takes_over() {
    let dir = Scratch::new("beside-follow");
    let day = today();
    let (path, mut collector) = vault_with_collector(&dir.0);
    collect(&mut collector, day, 0..=60);
    let (app, w) = common::app_in(&dir.0, false);

    // The writer lock is taken: the passphrase opens the vault read-only, and it says so.
    let s = call(&w, "unlock", json!({ "passphrase": PASS })).expect("unlock");
    assert_eq!(
        (s["vault"].clone(), s["following"].clone()),
        (json!("open"), json!(true))
    );
    let state = app.state::<AppState>();
    assert!(
        !state.collecting.load(Ordering::SeqCst),
        "the meter is the collector's"
    );
    // Now shows the newest stored reading, and History today's 60 x 50 Wh.
    wait("the newest stored reading", || {
        live_unix(&w).filter(|t| *t == day + 600)
    });
    let live = call(&w, "live_now", json!({})).expect("live");
    assert_eq!(live["net_w"], json!(3060));
    assert_eq!(live["import_kwh"], json!(1003.0));
    assert_eq!(history_kwh(&w), 3.0);
    // Settings cannot change under another writer: the page says another process writes.
    let e = call(&w, "set_meter_source", json!({ "source": "demo" })).expect_err("read-only");
    assert_eq!(e["code"], json!("Busy"));

    // The collector stores another hour: the live view and History follow.
    collect(&mut collector, day, 61..=120);
    wait("the collector's new readings", || {
        live_unix(&w).filter(|t| *t == day + 1200)
    });
    assert_eq!(
        call(&w, "live_now", json!({})).expect("live")["net_w"],
        json!(3120)
    );
    assert_eq!(history_kwh(&w), 6.0);

    // The collector stops: the app takes over writing with the key it holds (no passphrase)
    // and collects from the saved source.
    collect(&mut collector, day, 121..=121);
    collector.close().expect("close");
    wait("the take-over", || {
        (status(&w)["following"] == json!(false)).then_some(())
    });
    assert_eq!(status(&w)["vault"], json!("open"));
    assert_eq!(live_unix(&w), Some(day + 1210), "its last reading shown");
    assert!(
        state.collecting.load(Ordering::SeqCst),
        "the app collects now"
    );
    assert!(matches!(Vault::open(&path, PASS), Err(VaultError::Busy)));
    assert_eq!(history_kwh(&w), 6.05);
    // Locking closes the app's writer: a collector may start again.
    call(&w, "lock_vault", json!({})).expect("lock");
    Vault::open(&path, PASS).expect("the lock is free again");
}

#[test]
fn locked_while_following_then_unlocked_follows_again() {
    let dir = Scratch::new("beside-lock");
    let day = today();
    let (_path, mut collector) = vault_with_collector(&dir.0);
    collect(&mut collector, day, 0..=10);
    let (app, w) = common::app_in(&dir.0, false);
    let s = call(&w, "unlock", json!({ "passphrase": PASS })).expect("unlock");
    assert_eq!(s["following"], json!(true));
    wait("the newest reading", || {
        live_unix(&w).filter(|t| *t == day + 100)
    });

    // Locked: no more following; the collector goes on alone.
    let s = call(&w, "lock_vault", json!({})).expect("lock");
    assert_eq!(
        (s["vault"].clone(), s["following"].clone()),
        (json!("locked"), json!(false))
    );
    collect(&mut collector, day, 11..=20);
    // A wrong passphrase is still refused beside a writer.
    let e = call(&w, "unlock", json!({ "passphrase": "not the passphrase" })).expect_err("wrong");
    assert_eq!(e["code"], json!("WrongPassphrase"));
    let s = call(&w, "unlock", json!({ "passphrase": PASS })).expect("unlock again");
    assert_eq!(s["following"], json!(true));
    wait("the readings stored while locked", || {
        live_unix(&w).filter(|t| *t == day + 200)
    });
    // One follower at a time: the second unlock's.
    assert_eq!(app.state::<AppState>().follower.load(Ordering::SeqCst), 2);
    drop(collector);
    wait("the take-over", || {
        (status(&w)["following"] == json!(false)).then_some(())
    });
    assert_eq!(status(&w)["vault"], json!("open"));
}

/// The OS-keyring paths (the login start, the keyring button) beside a collector, run in a
/// child process on a private Secret Service (as tests/background.rs does): never the user's
/// own keyring.
#[cfg(target_os = "linux")]
#[test]
fn beside_a_collector_the_keyring_opens_read_only_too() {
    use hearth_keyring::test_support::PrivateSecretService;
    let dir = Scratch::new("beside-keyring-bus");
    let bus = PrivateSecretService::start(&dir.0, "login password")
        .unwrap_or_else(|e| panic!("no private Secret Service: {e}"));
    let out = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "keyring_beside_a_collector_inside_the_private_secret_service",
            "--exact",
            "--include-ignored",
            "--test-threads=1",
        ])
        .envs(bus.env())
        .env(PRIVATE_BUS, bus.address())
        .output()
        .expect("test binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Names the private bus the child process must be on.
#[cfg(target_os = "linux")]
const PRIVATE_BUS: &str = "HEARTH_TEST_PRIVATE_SECRET_SERVICE";

#[cfg(target_os = "linux")]
#[test]
#[ignore = "run by beside_a_collector_the_keyring_opens_read_only_too on its private bus"]
fn keyring_beside_a_collector_inside_the_private_secret_service() {
    let private = std::env::var(PRIVATE_BUS).expect("started by the parent test");
    assert_eq!(
        std::env::var("DBUS_SESSION_BUS_ADDRESS").ok(),
        Some(private)
    );
    let dir = Scratch::new("beside-keyring");
    let day = today();
    // A vault kept in the keyring; then a collector holds its writer lock.
    let (path, collector) = vault_with_collector(&dir.0);
    collector.close().expect("close");
    let mut v = Vault::open(&path, PASS).expect("open");
    let secret = v.enable_secret_slot().expect("slot");
    hearth_keyring::Keyring::unattended()
        .store(&v.id_hex(), &path, &secret)
        .expect("kept in the keyring");
    v.close().expect("close");
    let mut collector = Vault::open(&path, PASS).expect("collector");
    collect(&mut collector, day, 0..=5);
    let (app, w) = common::app_in(&dir.0, false);

    // A start at login opens it read-only with the keyring's key, and follows.
    assert_eq!(
        hearth_desktop::commands::session::unlock_at_login(app.handle()).map_err(|e| e.message),
        Ok(true)
    );
    assert_eq!(status(&w)["following"], json!(true));
    wait("the newest reading", || {
        live_unix(&w).filter(|t| *t == day + 50)
    });
    // Locked and opened again with the keyring button: still beside the collector.
    call(&w, "lock_vault", json!({})).expect("lock");
    let s = call(&w, "unlock_with_keyring", json!({})).expect("keyring");
    assert_eq!(
        (s["vault"].clone(), s["following"].clone()),
        (json!("open"), json!(true))
    );
    collect(&mut collector, day, 6..=6);
    wait("the next reading", || {
        live_unix(&w).filter(|t| *t == day + 60)
    });
    // The collector stops: the key the keyring gave is enough to take over.
    collector.close().expect("close");
    wait("the take-over", || {
        (status(&w)["following"] == json!(false)).then_some(())
    });
    assert!(matches!(Vault::open(&path, PASS), Err(VaultError::Busy)));
}
