//! The main window: opened at start (unless Hearth starts minimised at login) and from the tray,
//! and closed for real when the user closes it, so the web view's processes and their memory go
//! back to the system while Hearth keeps collecting in the background.
//!
//! The page locks the app after the user's auto-lock time without keyboard or mouse use. With no
//! window nobody is using Hearth, so the same time counted from the window's closing locks it
//! too (the vault closes and its key leaves memory; collection goes on into memory), and the
//! window that opens next shows the lock screen.

use crate::collector::lock;
use crate::state::AppState;
use std::time::Instant;
use tauri::{
    AppHandle, DragDropEvent, Manager, Runtime, WebviewWindowBuilder, Window, WindowEvent,
};

/// The main window's label, as in `tauri.conf.json` (which marks it `"create": false`: the app
/// opens it itself, or not at all when it starts minimised).
pub const MAIN: &str = "main";

/// Shows the main window, creating it from the app's configuration when it is not open.
pub fn open<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    if let Some(state) = app.try_state::<AppState>() {
        *lock(&state.window_closed_at) = None;
    }
    if let Some(w) = app.get_webview_window(MAIN) {
        w.unminimize()?;
        w.show()?;
        return w.set_focus();
    }
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == MAIN)
        .ok_or_else(|| tauri::Error::WindowNotFound)?;
    WebviewWindowBuilder::from_config(app, config)?.build()?;
    Ok(())
}

/// Window events of every window (registered on the builder): when the main window is gone,
/// the auto-lock starts counting; files dropped on it are offered for import.
pub fn on_event<R: Runtime>(window: &Window<R>, event: &WindowEvent) {
    match event {
        WindowEvent::Destroyed if window.label() == MAIN => closed(window.app_handle()),
        WindowEvent::DragDrop(DragDropEvent::Drop { paths, .. }) if !paths.is_empty() => {
            crate::commands::data::dropped(window.app_handle(), paths.clone());
        }
        _ => {}
    }
}

/// Notes that the main window closed now and, if the user has an auto-lock time, locks the app
/// when that time has passed with the window still closed.
pub fn closed<R: Runtime>(app: &AppHandle<R>) {
    let Some(state) = app.try_state::<AppState>() else {
        return;
    };
    let at = Instant::now();
    *lock(&state.window_closed_at) = Some(at);
    let Some(after) = state.auto_lock_after() else {
        return;
    };
    let app = app.clone();
    let spawned = std::thread::Builder::new()
        .name("hearth-auto-lock".into())
        .spawn(move || {
            std::thread::sleep(after);
            let state = app.state::<AppState>();
            // Opened (or closed again, which counts anew) meanwhile: not this timer's to lock.
            if *lock(&state.window_closed_at) != Some(at) {
                return;
            }
            if let Err(e) = lock(&state.store).lock() {
                eprintln!("hearth-desktop: cannot lock the vault: {e}");
            }
        });
    if let Err(e) = spawned {
        eprintln!("hearth-desktop: no auto-lock while the window is closed: {e}");
    }
}

/// Whether an exit request should be refused so that collection goes on in the tray: the last
/// window closing asks to exit without a code; "Quit" (`AppHandle::exit`) gives one.
pub fn keep_running(exit_code: Option<i32>) -> bool {
    exit_code.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;
    use tauri::test::{MockRuntime, mock_builder, mock_context, noop_assets};
    use tauri::{App, RunEvent};

    /// An app on the mock runtime whose configuration holds the main window, not yet created.
    fn app() -> App<MockRuntime> {
        let mut context = mock_context(noop_assets());
        context.config_mut().app.windows = vec![tauri::utils::config::WindowConfig {
            label: MAIN.into(),
            create: false,
            ..Default::default()
        }];
        mock_builder().build(context).expect("mock app")
    }

    #[test]
    fn closing_the_last_window_keeps_the_app_running_and_quit_quits() {
        // "Quit" is `AppHandle::exit(0)`: an exit request with a code, which is let through.
        // (The mock runtime cannot deliver that request; the E2E suite quits the real app.)
        assert!(!keep_running(Some(0)));
        let app = app();
        open(app.handle()).expect("opened");
        let log = Rc::new(RefCell::new(Vec::<String>::new()));
        let seen = Rc::clone(&log);
        // The run loop the app runs (lib.rs), on the mock runtime: the user closes the main
        // window, the last one. The event loop must keep running (collection goes on in the
        // tray); a helper window closed afterwards ends this test's loop.
        app.run(move |handle, event| match event {
            RunEvent::Ready => {
                let w = handle.get_webview_window(MAIN).expect("main window");
                w.destroy().expect("closed");
            }
            RunEvent::ExitRequested { code, api, .. } => {
                let first = seen.borrow().is_empty();
                seen.borrow_mut()
                    .push(format!("exit requested, code {code:?}"));
                if first && keep_running(code) {
                    api.prevent_exit();
                }
            }
            RunEvent::MainEventsCleared if seen.borrow().len() == 1 => {
                seen.borrow_mut().push("still running".into());
                WebviewWindowBuilder::new(handle, "helper", Default::default())
                    .build()
                    .expect("helper window")
                    .destroy()
                    .expect("helper closed");
            }
            RunEvent::Exit => seen.borrow_mut().push("exit".into()),
            _ => {}
        });
        assert_eq!(
            *log.borrow(),
            [
                "exit requested, code None",
                "still running",
                "exit requested, code None",
                "exit"
            ]
        );
    }

    #[test]
    fn opens_the_configured_window_once() {
        let app = app();
        assert!(
            app.get_webview_window(MAIN).is_none(),
            "not created at start"
        );
        open(app.handle()).expect("opened");
        assert_eq!(app.webview_windows().len(), 1);
        assert!(
            app.get_webview_window(MAIN).is_some(),
            "created from the configuration"
        );
        // Opening again shows the same window instead of a second one.
        open(app.handle()).expect("shown");
        assert_eq!(app.webview_windows().len(), 1);
    }
}
