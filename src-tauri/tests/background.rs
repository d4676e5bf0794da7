//! Hearth in the background: the main window is opened from the configuration, its closing counts
//! as the start of idle time, and the auto-lock locks the vault once that time has passed with
//! the window still closed (mock runtime: no display, no WebKit).

mod common;
use common::{Scratch, call, created};

use hearth_app::Status;
use hearth_desktop::state::AppState;
use hearth_desktop::window::{self, MAIN};
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

#[test]
fn the_keyring_opens_the_vault_by_itself_once_per_run() {
    let dir = Scratch::new("auto-unlock-once");
    let app = app(&dir, 0);
    let w = app.get_webview_window(MAIN).expect("window");
    // The first page of the run may open a keyring vault by itself; a page opened again later
    // (after a lock) may not.
    assert_eq!(call(&w, "take_auto_unlock", json!({})), Ok(json!(true)));
    assert_eq!(call(&w, "take_auto_unlock", json!({})), Ok(json!(false)));
}

#[test]
fn a_login_start_leaves_a_vault_without_a_keyring_slot_locked() {
    let dir = Scratch::new("login-no-slot");
    let app = app(&dir, 0);
    let w = app.get_webview_window(MAIN).expect("window");
    call(&w, "lock_vault", json!({})).expect("locked");
    assert_eq!(
        hearth_desktop::commands::unlock_at_login(app.handle()).map_err(|e| e.message),
        Ok(false)
    );
    assert_eq!(status(&app), Status::Locked);
    // Not used up: the first window may still try (and say why it cannot).
    assert_eq!(call(&w, "take_auto_unlock", json!({})), Ok(json!(true)));
}
