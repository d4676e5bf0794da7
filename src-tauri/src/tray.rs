//! Background collection: a tray icon shows the live power with "Show Hearth" and "Quit".
//! Closing the window closes it (see [`crate::window`]); collection runs on its own threads, so it
//! never stops while the app process lives.

use crate::collector::{LIVE_EVENT, lock};
use crate::dto::LiveDto;
use crate::state::AppState;
use hearth_insight::Lang;
use std::sync::{Arc, Mutex};
use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{Listener, Manager, Runtime};

/// Text of the tray's power line.
pub fn power_text(dto: &LiveDto) -> String {
    power_text_in(dto, Lang::En)
}

/// The power line in `lang`.
pub fn power_text_in(dto: &LiveDto, lang: Lang) -> String {
    lang.tray_power(dto.net_w.unsigned_abs(), dto.net_w < 0)
}

/// The menu's fixed lines in `lang`: waiting, show, quit.
fn menu_words(lang: Lang) -> [&'static str; 3] {
    lang.tray_menu()
}

/// The language of the tray: the saved preference, else the system's (`LANGUAGE`, `LC_ALL`,
/// `LC_MESSAGES`, `LANG`, as gettext reads them).
pub fn language(preference: &str) -> Lang {
    hearth_app::preferences::language_here(preference)
}

/// The tray's menu lines, kept to be relabelled when the language changes.
pub struct TrayMenu<R: Runtime> {
    power: MenuItem<R>,
    show: MenuItem<R>,
    quit: MenuItem<R>,
    lang: Arc<Mutex<Lang>>,
}

/// Says the tray's menu in `lang` (no-op without a tray, as in tests).
pub fn relabel<R: Runtime>(app: &tauri::AppHandle<R>, lang: Lang) {
    if let Some(menu) = app.try_state::<TrayMenu<R>>() {
        *lock(&menu.lang) = lang;
        let [waiting, show, quit] = menu_words(lang);
        if menu.power.text().is_ok_and(|t| menu_words_any(&t)) {
            let _ = menu.power.set_text(waiting);
        }
        let _ = menu.show.set_text(show);
        let _ = menu.quit.set_text(quit);
    }
}

fn menu_words_any(text: &str) -> bool {
    Lang::ALL.iter().any(|l| menu_words(*l)[0] == text)
}

/// Adds the tray icon with the live power, "Show Hearth" and "Quit".
pub fn install<R: Runtime>(app: &tauri::App<R>) -> tauri::Result<()> {
    let lang = app
        .try_state::<AppState>()
        .map_or(Lang::En, |s| language(&lock(&s.prefs).language));
    let [waiting, show_text, quit_text] = menu_words(lang);
    let power = MenuItem::with_id(app, "power", waiting, false, None::<&str>)?;
    let show = MenuItem::with_id(app, "show", show_text, true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", quit_text, true, None::<&str>)?;
    let shared_lang = Arc::new(Mutex::new(lang));
    app.manage(TrayMenu {
        power: power.clone(),
        show: show.clone(),
        quit: quit.clone(),
        lang: shared_lang.clone(),
    });
    let menu = Menu::with_items(app, &[&power, &show, &quit])?;
    let mut tray = TrayIconBuilder::with_id("hearth")
        .tooltip("Hearth")
        .menu(&menu)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "show" => {
                if let Err(e) = crate::window::open(app) {
                    eprintln!("hearth-desktop: cannot open the window: {e}");
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
            let text = power_text_in(&dto, *lock(&shared_lang));
            let _ = power.set_text(&text);
            let _ = tray.set_tooltip(Some(format!("Hearth: {text}")));
        }
    });
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
            ..Default::default()
        };
        assert_eq!(power_text(&d), "Exporting 350 W");
        assert_eq!(power_text_in(&d, Lang::Nl), "Levert 350 W terug");
        assert_eq!(power_text_in(&d, Lang::De), "Speist 350 W ein");
        d.net_w = 1234;
        assert_eq!(power_text(&d), "Using 1234 W");
        assert_eq!(power_text_in(&d, Lang::Nl), "Verbruikt 1234 W");
        assert_eq!(language("de"), Lang::De);
        assert_eq!(menu_words(Lang::Nl)[2], "Hearth afsluiten");
    }
}
