//! The main window: opened at start (unless Hearth starts minimised at login) and from the tray,
//! and closed for real when the user closes it, so the web view's processes and their memory go
//! back to the system while Hearth keeps collecting in the background.

use tauri::{AppHandle, Manager, Runtime, WebviewWindowBuilder};

/// The main window's label, as in `tauri.conf.json` (which marks it `"create": false`: the app
/// opens it itself, or not at all when it starts minimised).
pub const MAIN: &str = "main";

/// Shows the main window, creating it from the app's configuration when it is not open.
pub fn open<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
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

/// Whether an exit request should be refused so that collection goes on in the tray: the last
/// window closing asks to exit without a code; "Quit" (`AppHandle::exit`) gives one.
pub fn keep_running(exit_code: Option<i32>) -> bool {
    exit_code.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tauri::test::{mock_builder, mock_context, noop_assets};

    #[test]
    fn closing_the_window_keeps_collecting_and_quit_quits() {
        assert!(keep_running(None));
        assert!(!keep_running(Some(0)));
    }

    #[test]
    fn opens_the_configured_window_once() {
        let mut context = mock_context(noop_assets());
        context.config_mut().app.windows = vec![tauri::utils::config::WindowConfig {
            label: MAIN.into(),
            create: false,
            ..Default::default()
        }];
        let app = mock_builder().build(context).expect("mock app");
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
