//! Commands of the Settings screen: preferences and starting at login.

use crate::collector::lock;
use crate::dto::PreferencesDto;
use crate::error::{Code, ShellError};
use crate::state::AppState;
use hearth_app::preferences::Preferences;
use tauri::{AppHandle, Runtime, State};

fn preferences_of(state: &AppState) -> PreferencesDto {
    let p = lock(&state.prefs).clone();
    PreferencesDto {
        language: p.language,
        theme: p.theme,
        auto_lock_minutes: p.auto_lock_minutes,
        start_at_login: crate::autostart::is_enabled(&state.config_home),
    }
}

/// Language, theme, auto-lock and start-at-login (works while locked: the lock screen needs them).
#[tauri::command]
pub fn preferences(state: State<'_, AppState>) -> PreferencesDto {
    preferences_of(&state)
}

/// Saves language (`en`, `nl`, `de`, `fr`, `nb`, `sv`, `da`, `fi`, or empty for the system's),
/// theme (`system`, `light`, `dark`) and auto-lock minutes (0, 5, 15, 30, 60); an unknown value
/// is `BadRequest`.
#[tauri::command]
pub fn set_preferences<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    language: String,
    theme: String,
    auto_lock_minutes: u32,
) -> Result<PreferencesDto, ShellError> {
    let p = Preferences {
        language,
        theme,
        auto_lock_minutes,
    };
    p.save(&Preferences::path(&state.config_home))?;
    crate::tray::relabel(&app, crate::tray::language(&p.language));
    *lock(&state.prefs) = p;
    Ok(preferences_of(&state))
}

/// Starts Hearth in the tray at login (an XDG autostart entry for this program), or stops it.
#[tauri::command]
pub fn set_start_at_login(
    state: State<'_, AppState>,
    on: bool,
) -> Result<PreferencesDto, ShellError> {
    let io = |e: std::io::Error| {
        ShellError::new(
            Code::Io,
            format!("Cannot change the login start-up entry: {e}"),
        )
    };
    if on {
        let exe = std::env::current_exe().map_err(io)?;
        crate::autostart::enable(&state.config_home, &exe).map_err(io)?;
    } else {
        crate::autostart::disable(&state.config_home).map_err(io)?;
    }
    Ok(preferences_of(&state))
}
