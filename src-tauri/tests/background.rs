//! Hearth in the background: the main window is opened from the configuration, its closing counts
//! as the start of idle time, and the auto-lock locks the vault once that time has passed with
//! the window still closed; a start at login opens a vault kept in the OS keyring (a real
//! gnome-keyring on a private session bus) without the passphrase (mock runtime: no display,
//! no WebKit).

mod common;
use common::{PASS, Scratch, call, created};

use hearth_app::Status;
use hearth_desktop::state::AppState;
use hearth_desktop::window::{self, MAIN};
#[cfg(target_os = "linux")]
use hearth_keyring::test_support::PrivateSecretService;
use hearth_vault::KdfParams;
use serde_json::json;
use std::time::{Duration, Instant};
use tauri::test::{MockRuntime, mock_builder, mock_context, noop_assets};
use tauri::{App, Manager};

/// The app over a fresh data directory with an auto-lock of `seconds`, its main window opened
/// the way the app opens it, and a vault created through the window.
fn app(dir: &Scratch, seconds: u32) -> App<MockRuntime> {
    let mut state = hearth_desktop::state_for(dir.0.clone(), false, KdfParams::INSECURE_FOR_TESTS);
    state.info.auto_lock_seconds = Some(seconds);
    let mut context = mock_context(noop_assets());
    context.config_mut().app.windows = vec![tauri::utils::config::WindowConfig {
        label: MAIN.into(),
        create: false,
        ..Default::default()
    }];
    let app = hearth_desktop::setup(mock_builder(), state)
        .build(context)
        .expect("mock app");
    window::open(app.handle()).expect("window");
    let w = app.get_webview_window(MAIN).expect("main window");
    created(&w, &dir.0);
    assert_eq!(
        call(&w, "status", json!({})).expect("status")["vault"],
        "open"
    );
    app
}

fn status(app: &App<MockRuntime>) -> Status {
    let state = app.state::<AppState>();
    hearth_desktop::collector::lock(&state.store).status()
}

/// Polls until the vault's status is `want` or `limit` has passed; returns how long it took.
fn wait_for(app: &App<MockRuntime>, want: Status, limit: Duration) -> Option<Duration> {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        if status(app) == want {
            return Some(t0.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[test]
fn a_closed_window_locks_the_vault_after_the_auto_lock_time() {
    let dir = Scratch::new("closed-locks");
    let app = app(&dir, 1);
    // The mock runtime does not run an event loop, so it never reports the window destroyed:
    // say so as `window::on_event` does (the E2E suite checks that wiring on the real runtime).
    window::closed(app.handle());
    // Not at once: the user may be back within the auto-lock time...
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(status(&app), Status::Open);
    // ...but after it, the key leaves memory.
    let took = wait_for(&app, Status::Locked, Duration::from_secs(5)).expect("locked");
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn a_window_opened_again_in_time_keeps_the_vault_open() {
    let dir = Scratch::new("reopened-stays-open");
    let app = app(&dir, 1);
    // The mock runtime does not run an event loop, so it never reports the window destroyed:
    // say so as `window::on_event` does (the E2E suite checks that wiring on the real runtime).
    window::closed(app.handle());
    std::thread::sleep(Duration::from_millis(300));
    window::open(app.handle()).expect("opened again");
    assert_eq!(
        wait_for(&app, Status::Locked, Duration::from_millis(2000)),
        None,
        "the earlier closing no longer counts"
    );
}

/// The keyring, for real: a private session bus with gnome-keyring's Secret Service (the E2E
/// suite's kind), never the user's own. The bus address is process environment and tests never
/// change their own, so the test runs [`keyring_inside_the_private_secret_service`] in a child
/// process of this test binary with the private bus's environment. Without `dbus-daemon` and
/// `gnome-keyring` installed (scripts/setup.sh installs them) it fails, naming the package.
#[cfg(target_os = "linux")]
#[test]
fn the_keyring_turned_on_in_settings_opens_the_vault_at_login() {
    let dir = Scratch::new("keyring-bus");
    let bus = PrivateSecretService::start(&dir.0, "login password")
        .unwrap_or_else(|e| panic!("no private Secret Service: {e}"));
    let out = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "keyring_inside_the_private_secret_service",
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

#[cfg(target_os = "linux")]
/// Names the private bus the child process must be on.
const PRIVATE_BUS: &str = "HEARTH_TEST_PRIVATE_SECRET_SERVICE";

#[cfg(target_os = "linux")]
#[test]
#[ignore = "run by the_keyring_turned_on_in_settings_opens_the_vault_at_login on its private bus"]
fn keyring_inside_the_private_secret_service() {
    // Refuses any bus but the parent's private one: never the user's own keyring.
    let private = std::env::var(PRIVATE_BUS).expect("started by the parent test");
    assert_eq!(
        std::env::var("DBUS_SESSION_BUS_ADDRESS").ok(),
        Some(private)
    );
    let dir = Scratch::new("keyring-login");
    let app = app(&dir, 0);
    let w = app.get_webview_window(MAIN).expect("window");
    let vault_path = hearth_desktop::collector::lock(&app.state::<AppState>().store)
        .path()
        .to_path_buf();
    let id = hearth_vault::Vault::inspect(&vault_path)
        .expect("vault")
        .id_hex;
    let keyring = hearth_keyring::Keyring::unattended();
    assert_eq!(keyring.contains(&id).map_err(|e| e.to_string()), Ok(false));

    // Settings: keep a key in the keyring.
    let on =
        call(&w, "set_keyring", json!({ "on": true, "passphrase": PASS })).expect("keyring on");
    assert_eq!(
        (&on["vault"], &on["keyring"]),
        (&json!("open"), &json!(true))
    );
    assert_eq!(keyring.contains(&id).map_err(|e| e.to_string()), Ok(true));
    call(&w, "lock_vault", json!({})).expect("locked");
    assert_eq!(status(&app), Status::Locked);

    // A start at login opens it with the keyring's key, no passphrase, and the first window
    // then has nothing left to open by itself.
    assert_eq!(
        hearth_desktop::commands::session::unlock_at_login(app.handle()).map_err(|e| e.message),
        Ok(true)
    );
    assert_eq!(status(&app), Status::Open);
    assert_eq!(call(&w, "take_auto_unlock", json!({})), Ok(json!(false)));

    // It is the keyring's key that opens it: with the entry removed behind Hearth's back (as
    // Seahorse or `secret-tool clear` would), a login start cannot open the vault.
    call(&w, "lock_vault", json!({})).expect("locked");
    assert_eq!(keyring.delete(&id).map_err(|e| e.to_string()), Ok(true));
    assert_eq!(
        hearth_desktop::commands::session::unlock_at_login(app.handle()).map_err(|e| e.message),
        Err(
            "Your keyring has no key for this vault (it may have been removed). Unlock with \
             your passphrase, then turn the keyring on again in Settings."
                .to_owned()
        )
    );
    assert_eq!(status(&app), Status::Locked);
    call(&w, "unlock", json!({ "passphrase": PASS })).expect("passphrase");
    call(&w, "set_keyring", json!({ "on": true, "passphrase": PASS })).expect("keyring on again");
    assert_eq!(keyring.contains(&id).map_err(|e| e.to_string()), Ok(true));

    // Turned off again, the entry is gone and a login start leaves the vault locked.
    let off = call(&w, "set_keyring", json!({ "on": false })).expect("keyring off");
    assert_eq!(off["keyring"], json!(false));
    assert_eq!(keyring.contains(&id).map_err(|e| e.to_string()), Ok(false));
    call(&w, "lock_vault", json!({})).expect("locked");
    assert_eq!(
        hearth_desktop::commands::session::unlock_at_login(app.handle()).map_err(|e| e.message),
        Ok(false)
    );
    assert_eq!(status(&app), Status::Locked);
}

#[test]
fn a_login_start_leaves_a_vault_without_a_keyring_slot_locked() {
    let dir = Scratch::new("login-no-slot");
    let app = app(&dir, 0);
    let w = app.get_webview_window(MAIN).expect("window");
    call(&w, "lock_vault", json!({})).expect("locked");
    assert_eq!(
        hearth_desktop::commands::session::unlock_at_login(app.handle()).map_err(|e| e.message),
        Ok(false)
    );
    assert_eq!(status(&app), Status::Locked);
    // Not used up: the first window may still try (and say why it cannot).
    assert_eq!(call(&w, "take_auto_unlock", json!({})), Ok(json!(true)));
}
