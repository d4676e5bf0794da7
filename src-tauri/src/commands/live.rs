//! Commands of the Now screen: the latest reading and the live power chart.

use crate::collector::{self, lock};
use crate::dto::LiveDto;
use crate::error::{Code, ShellError};
use crate::state::AppState;
use hearth_app::history::{Format, Image};
use hearth_insight::Lang;
use tauri::State;

/// The latest reading, or `null` before the first one.
#[tauri::command]
pub fn live_now(state: State<'_, AppState>) -> Option<LiveDto> {
    lock(&state.live).latest().cloned()
}

/// The live power chart over the last `minutes`, as SVG sized `width` x `height` pixels, its
/// words in `lang` (`en`, `nl`, `de`; English when absent).
#[tauri::command]
pub fn live_chart(
    state: State<'_, AppState>,
    width: u32,
    height: u32,
    minutes: u32,
    dark: bool,
    lang: Option<String>,
) -> Result<String, ShellError> {
    let lang = Lang::from_code(lang.as_deref().unwrap_or("en"));
    match live_image(&state, minutes, (width, height), dark, lang, Format::Svg)? {
        Image::Svg(s) => Ok(s),
        Image::Png(_) => Err(ShellError::new(Code::Internal, "expected SVG")),
    }
}

pub(crate) fn live_image(
    state: &AppState,
    minutes: u32,
    size: (u32, u32),
    dark: bool,
    lang: Lang,
    format: Format,
) -> Result<Image, ShellError> {
    let live = lock(&state.live);
    if live.is_empty() {
        return Err(ShellError::new(
            Code::NoData,
            "No reading from the meter yet.",
        ));
    }
    let offset = collector::local_offset(live.latest().map_or(0, |l| l.unix));
    Ok(live.chart_in(minutes, size, dark, offset, lang, format)?)
}
