//! Background collection: closing the window hides it, and a tray icon shows the live power
//! with "Show Hearth" and "Quit". Collection runs on its own threads, so it never stops while
//! the app process lives.

use crate::collector::LIVE_EVENT;
use crate::dto::LiveDto;
use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{Listener, Manager, Runtime, WindowEvent};

/// Text of the tray's power line.
pub fn power_text(dto: &LiveDto) -> String {
    if dto.net_w < 0 {
        format!("Exporting {} W", -dto.net_w)
    } else {
        format!("Using {} W", dto.net_w)
    }
}

/// Adds the tray icon and keeps the app alive when its window is closed.
pub fn install<R: Runtime>(app: &tauri::App<R>) -> tauri::Result<()> {
    let power = MenuItem::with_id(app, "power", "Waiting for the meter…", false, None::<&str>)?;
    let show = MenuItem::with_id(app, "show", "Show Hearth", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit Hearth", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&power, &show, &quit])?;
    let mut tray = TrayIconBuilder::with_id("hearth")
        .tooltip("Hearth")
        .menu(&menu)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "show" => {
                if let Some(w) = app.get_webview_window("main") {
                    let _ = w.show();
                    let _ = w.set_focus();
                }
            }
            "quit" => app.exit(0),
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    let tray = tray.build(app)?;
    app.listen_any(LIVE_EVENT, move |event| {
        if let Ok(dto) = serde_json::from_str::<LiveDto>(event.payload()) {
            let text = power_text(&dto);
            let _ = power.set_text(&text);
            let _ = tray.set_tooltip(Some(format!("Hearth: {text}")));
        }
    });
    if let Some(w) = app.get_webview_window("main") {
        let hide = w.clone();
        w.on_window_event(move |e| {
            if let WindowEvent::CloseRequested { api, .. } = e {
                api.prevent_close();
                let _ = hide.hide();
            }
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_line() {
        let mut d = LiveDto {
            time: None,
            unix: 0,
            import_w: Some(0),
            export_w: Some(350),
            net_w: -350,
            phases: vec![],
            import_kwh: None,
            export_kwh: None,
            gas_m3: None,
            tariff: None,
            accepted: 1,
            rejected: 0,
        };
        assert_eq!(power_text(&d), "Exporting 350 W");
        d.net_w = 1234;
        assert_eq!(power_text(&d), "Using 1234 W");
    }
}
