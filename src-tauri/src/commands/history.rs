//! Commands of the History and Export screens: history pages, saving a chart, CSV export and
//! the native save dialog. The file chosen there stays on this side: the page gets a
//! single-use token for it ([`hearth_app::export::Choices`]) and writes only by giving it back.

use super::*;

use crate::collector::{self};
use crate::dto::{ExportDto, ExportProgressDto, HistoryDto, SaveChoiceDto};
use crate::error::{Code, ShellError};
use crate::state::AppState;
use hearth_app::export::{self, Destination};
use hearth_app::history::{self, ChartId, Format, Image, Request};
use hearth_app::period::PeriodKind;
use hearth_insight::Lang;
use hearth_vault::Resolution;
use std::path::PathBuf;
use tauri::{AppHandle, Emitter, Manager, Runtime, State};

/// One history page: energy bars (by tariff), power with its min/max band, a heatmap and a
/// table. `kind` is `day`, `week`, `month` or `year`; `shift` counts periods back (negative).
/// Async so the vault read and the drawing run off the window's main thread: a long year page
/// never freezes the event loop.
#[tauri::command]
#[allow(clippy::too_many_arguments)]
pub async fn history(
    state: State<'_, AppState>,
    kind: String,
    shift: i32,
    width: u32,
    height: u32,
    dark: bool,
    compare: bool,
    lang: Option<String>,
) -> Result<HistoryDto, ShellError> {
    let req = history_request(&kind, shift, (width, height), dark, compare, lang)?;
    let vault = state.reader()?;
    off_the_runtime(move || Ok(history::page(&vault, &req, collector::now_unix())?)).await
}

pub(crate) fn history_request(
    kind: &str,
    shift: i32,
    (width, height): (u32, u32),
    dark: bool,
    compare: bool,
    lang: Option<String>,
) -> Result<Request, ShellError> {
    let kind = PeriodKind::from_name(kind)
        .ok_or_else(|| ShellError::new(Code::BadRequest, format!("unknown period {kind:?}")))?;
    Ok(Request {
        kind,
        shift: shift.clamp(-10_000, 0),
        width,
        height,
        dark,
        compare,
        lang: Lang::from_code(lang.as_deref().unwrap_or("en")),
    })
}

/// Where a chart to save comes from: the live chart or one of a history page's.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartRequest {
    /// `live`, or a history chart: `bars`, `power`, `heatmap`, `gas`, `export`, `duration`.
    pub chart: String,
    /// History period (`day`, `week`, `month`, `year`).
    #[serde(default)]
    pub kind: String,
    /// Periods back.
    #[serde(default)]
    pub shift: i32,
    /// Mark the previous period.
    #[serde(default)]
    pub compare: bool,
    /// Size in pixels (as shown).
    pub width: u32,
    /// Size in pixels (as shown).
    pub height: u32,
    /// Dark theme.
    pub dark: bool,
    /// `en`, `nl`, `de`.
    #[serde(default)]
    pub lang: String,
}

/// Saves a chart as `png` (twice the shown size, sharp on high-density screens) or `svg` to
/// the file the user chose in the save dialog, named by its `token` ([`pick_save_path`]).
/// Returns the path written.
#[tauri::command]
pub fn save_chart(
    state: State<'_, AppState>,
    request: ChartRequest,
    format: String,
    token: String,
) -> Result<String, ShellError> {
    let format = match format.as_str() {
        "svg" => Format::Svg,
        "png" => Format::Png(2),
        other => {
            return Err(ShellError::new(
                Code::BadRequest,
                format!("charts are saved as png or svg, not {other:?}"),
            ));
        }
    };
    let dest = chosen(&state, &token)?;
    let lang = Lang::from_code(&request.lang);
    let size = (request.width, request.height);
    let image = if request.chart == "live" {
        live_image(&state, 10, size, request.dark, lang, format)?
    } else {
        let id = ChartId::from_name(&request.chart).ok_or_else(|| {
            ShellError::new(
                Code::BadRequest,
                format!("unknown chart {:?}", request.chart),
            )
        })?;
        let req = history_request(
            &request.kind,
            request.shift,
            size,
            request.dark,
            request.compare,
            Some(request.lang.clone()),
        )?;
        let vault = state.reader()?;
        history::chart(&vault, &req, collector::now_unix(), id, format)?.ok_or_else(|| {
            ShellError::new(Code::NoData, "This period has no such chart to save.")
        })?
    };
    let bytes = match &image {
        Image::Svg(s) => s.as_bytes(),
        Image::Png(b) => b.as_slice(),
    };
    let vault_path = collector::lock(&state.store).path().to_path_buf();
    std::io::Write::write_all(&mut dest.create(&vault_path)?, bytes).map_err(|e| {
        ShellError::new(
            Code::Io,
            format!("Cannot write {}: {e}", dest.path().display()),
        )
    })?;
    Ok(dest.path().display().to_string())
}

/// The file the save dialog gave `token` for, given up (a token works once).
fn chosen(state: &AppState, token: &str) -> Result<Destination, ShellError> {
    let mut choices = collector::lock(&state.chosen);
    Ok(choices.take(token, std::time::Instant::now())?)
}

/// The event carrying an export's progress ([`ExportProgressDto`]).
pub const EXPORT_PROGRESS_EVENT: &str = "export-progress";

/// Writes readings of `[from, to)` (local dates `YYYY-MM-DD`, `to` exclusive) at `resolution`
/// (`raw`, `1m`, `15m`, `1h`, `1d`, `1mo`) as CSV to the file the user chose in the save dialog,
/// named by its `token` ([`pick_save_path`]).
/// Runs off the UI thread; a big export reports its progress as [`EXPORT_PROGRESS_EVENT`]s.
#[tauri::command]
pub async fn export_csv<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    from: String,
    to: String,
    resolution: String,
    decimal_comma: bool,
    token: String,
) -> Result<ExportDto, ShellError> {
    let res: Resolution = resolution.parse().map_err(|_| {
        ShellError::new(
            Code::BadRequest,
            format!("unknown resolution {resolution:?}"),
        )
    })?;
    let vault = state.reader()?;
    let dest = chosen(&state, &token)?;
    tauri::async_runtime::spawn_blocking(move || {
        let (from, to) = export::range(Some(&from), Some(&to), vault.time_zone())?;
        let req = export::Request {
            from,
            to,
            resolution: res,
            decimal_comma,
        };
        // The save dialog already asked before replacing the file it returned.
        let rows = export::to_destination(&vault, &req, &dest, |p| {
            let _ = app.emit(
                EXPORT_PROGRESS_EVENT,
                ExportProgressDto {
                    rows: p.rows,
                    fraction: p.fraction,
                },
            );
        })?;
        Ok(ExportDto {
            rows,
            path: dest.path().display().to_string(),
        })
    })
    .await
    .map_err(|e| ShellError::new(Code::Internal, e.to_string()))?
}

/// Asks for a file to write with the desktop's own save dialog, starting at `suggested` (a
/// file name or a full path), offering files ending in `.extension`. `None` when cancelled.
/// The dialog is opened from here, so the window itself needs no dialog or file permission,
/// and the path chosen stays here: the page gets a token for it (and the path, to show).
/// Where [`AppState::save_dialog_stand_in`] names a directory (end-to-end tests, which cannot
/// drive the native dialog), the "chosen" file is `suggested`'s name in it.
#[tauri::command]
pub async fn pick_save_path<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    suggested: String,
    extension: String,
    title: String,
) -> Result<Option<SaveChoiceDto>, ShellError> {
    let suggested = PathBuf::from(suggested);
    let picked = match (&state.save_dialog_stand_in, suggested.file_name()) {
        (Some(dir), Some(name)) => Some(dir.join(name)),
        (Some(_), None) => None,
        (None, _) => dialog(&app, &suggested, &extension, title).await?,
    };
    let Some(path) = picked else { return Ok(None) };
    let mut choices = collector::lock(&state.chosen);
    Ok(Some(choices.choose(&path, std::time::Instant::now())?))
}

/// The native save dialog's choice.
async fn dialog<R: Runtime>(
    app: &AppHandle<R>,
    suggested: &std::path::Path,
    extension: &str,
    title: String,
) -> Result<Option<PathBuf>, ShellError> {
    let Some(dialog) = app.try_state::<tauri_plugin_dialog::Dialog<R>>() else {
        return Err(ShellError::new(
            Code::Internal,
            "The save dialog is not available.",
        ));
    };
    let mut builder = dialog
        .file()
        .set_title(title)
        .add_filter(extension.to_uppercase(), &[extension]);
    if let Some(dir) = suggested.parent().filter(|_| suggested.is_absolute()) {
        builder = builder.set_directory(dir);
    }
    if let Some(name) = suggested.file_name() {
        builder = builder.set_file_name(name.to_string_lossy());
    }
    let picked = tauri::async_runtime::spawn_blocking(move || builder.blocking_save_file())
        .await
        .map_err(|e| ShellError::new(Code::Internal, e.to_string()))?;
    picked
        .map(|p| p.into_path())
        .transpose()
        .map_err(|e| ShellError::new(Code::Io, e.to_string()))
}
