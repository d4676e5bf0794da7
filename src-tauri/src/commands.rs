//! Tauri commands: each one a few lines from the UI's request to a library call and back.

use crate::collector::{self, lock};
use crate::dto::{AppInfoDto, ExportDto, HistoryDto, LiveDto, StatusDto};
use crate::error::{Code, ShellError};
use crate::history::{self, Request};
use crate::period::PeriodKind;
use crate::state::AppState;
use crate::store::{Status, Store};
use hearth_meter_io::source::Source;
use hearth_vault::{CsvOptions, Resolution, Vault};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use tauri::{AppHandle, Runtime, State};

/// The vault setting holding the meter source (`demo`, `serial:/dev/ttyUSB0`, ...).
pub const SOURCE_SETTING: &str = "source";

/// Shortest passphrase the wizard accepts.
pub const MIN_PASSPHRASE: usize = 8;

/// What the app is running with.
#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> AppInfoDto {
    state.info.clone()
}

/// The latest reading, or `null` before the first one.
#[tauri::command]
pub fn live_now(state: State<'_, AppState>) -> Option<LiveDto> {
    lock(&state.live).latest().cloned()
}

/// The live power chart over the last `minutes`, as SVG sized `width` x `height` pixels.
#[tauri::command]
pub fn live_chart(
    state: State<'_, AppState>,
    width: u32,
    height: u32,
    minutes: u32,
    dark: bool,
) -> Result<String, ShellError> {
    let live = lock(&state.live);
    if live.is_empty() {
        return Err(ShellError::new(
            Code::NoData,
            "No reading from the meter yet.",
        ));
    }
    let offset = collector::local_offset(live.latest().map_or(0, |l| l.unix));
    Ok(live.chart(minutes, width, height, dark, offset)?)
}

/// Where the vault stands: `setup` (first run), `locked` or `open`.
#[tauri::command]
pub fn status(state: State<'_, AppState>) -> StatusDto {
    status_of(&state)
}

fn status_of(state: &AppState) -> StatusDto {
    let store = lock(&state.store);
    StatusDto {
        vault: match store.status() {
            Status::Setup => "setup",
            Status::Locked => "locked",
            Status::Open => "open",
        },
        vault_path: store.path().display().to_string(),
        preparing: *lock(&state.preparing),
        pending: store.pending(),
    }
}

/// First run: creates the vault with `passphrase`, remembers the meter `source` and starts
/// collecting.
#[tauri::command]
pub async fn create_vault<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    passphrase: String,
    source: String,
) -> Result<StatusDto, ShellError> {
    if passphrase.chars().count() < MIN_PASSPHRASE {
        return Err(ShellError::new(
            Code::BadRequest,
            format!("Choose a passphrase of at least {MIN_PASSPHRASE} characters."),
        ));
    }
    let parsed: Source = source
        .parse()
        .map_err(|e: hearth_meter_io::source::SourceError| {
            ShellError::new(Code::BadRequest, e.to_string())
        })?;
    let path = lock(&state.store).path().to_path_buf();
    if lock(&state.store).status() != Status::Setup {
        return Err(ShellError::new(
            Code::BadRequest,
            "A vault already exists here.",
        ));
    }
    let kdf = state.kdf;
    let mut vault =
        tauri::async_runtime::spawn_blocking(move || Store::create_vault(&path, &passphrase, kdf))
            .await
            .map_err(|e| ShellError::new(Code::Internal, e.to_string()))??;
    vault.put_setting(SOURCE_SETTING, parsed.to_string().as_bytes())?;
    lock(&state.store).install(vault)?;
    start_collecting(&app, &state, &parsed);
    Ok(status_of(&state))
}

/// Unlocks the vault; a wrong passphrase is `WrongPassphrase`.
#[tauri::command]
pub async fn unlock<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    passphrase: String,
) -> Result<StatusDto, ShellError> {
    let path = lock(&state.store).path().to_path_buf();
    let vault = tauri::async_runtime::spawn_blocking(move || Vault::open(&path, &passphrase))
        .await
        .map_err(|e| ShellError::new(Code::Internal, e.to_string()))??;
    let source = vault
        .get_setting(SOURCE_SETTING)?
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .and_then(|s| s.parse::<Source>().ok());
    lock(&state.store).install(vault)?;
    if let Some(source) = source {
        start_collecting(&app, &state, &source);
    }
    Ok(status_of(&state))
}

/// Locks: the vault is flushed and closed and its key leaves memory. Collection goes on into
/// memory and is written on unlock.
#[tauri::command]
pub fn lock_vault(state: State<'_, AppState>) -> Result<StatusDto, ShellError> {
    lock(&state.store).lock()?;
    Ok(status_of(&state))
}

fn start_collecting<R: Runtime>(app: &AppHandle<R>, state: &AppState, source: &Source) {
    // Only the first call starts a collector (the swap claims it).
    match source {
        Source::Demo { seed, .. } if !state.collecting.swap(true, Ordering::SeqCst) => {
            collector::spawn_demo(
                app.clone(),
                state.live.clone(),
                state.store.clone(),
                state.preparing.clone(),
                *seed,
                0,
            );
        }
        _ => {}
    }
    // Serial and LAN sources are stored; reading them waits for hearth_meter_io's reader.
}

/// One history page: energy bars (by tariff), power with its min/max band, a heatmap and a
/// table. `kind` is `day`, `week`, `month` or `year`; `shift` counts periods back (negative).
#[tauri::command]
#[allow(clippy::too_many_arguments)]
pub fn history(
    state: State<'_, AppState>,
    kind: String,
    shift: i32,
    width: u32,
    height: u32,
    dark: bool,
    compare: bool,
) -> Result<HistoryDto, ShellError> {
    let kind = PeriodKind::from_name(&kind)
        .ok_or_else(|| ShellError::new(Code::BadRequest, format!("unknown period {kind:?}")))?;
    let store = lock(&state.store);
    let vault = store.vault().ok_or_else(ShellError::locked)?;
    let req = Request {
        kind,
        shift: shift.clamp(-10_000, 0),
        width,
        height,
        dark,
        compare,
    };
    Ok(history::page(vault, &req, collector::now_unix())?)
}

/// Writes readings of `[from, to)` (local dates `YYYY-MM-DD`, `to` exclusive) at `resolution`
/// (`raw`, `1m`, `15m`, `1h`, `1d`, `1mo`) as CSV to `path`, an absolute path the user chose.
#[tauri::command]
pub fn export_csv(
    state: State<'_, AppState>,
    from: String,
    to: String,
    resolution: String,
    decimal_comma: bool,
    path: String,
) -> Result<ExportDto, ShellError> {
    let res: Resolution = resolution.parse().map_err(|_| {
        ShellError::new(
            Code::BadRequest,
            format!("unknown resolution {resolution:?}"),
        )
    })?;
    let path = PathBuf::from(path.trim());
    if !path.is_absolute() || path.file_name().is_none() {
        return Err(ShellError::new(
            Code::BadRequest,
            "Give the full path of the file to write, e.g. /home/me/hearth.csv.",
        ));
    }
    let store = lock(&state.store);
    let vault = store.vault().ok_or_else(ShellError::locked)?;
    let tz = vault.time_zone().clone();
    let day = |s: &str| -> Result<i64, ShellError> {
        let d: jiff::civil::Date = s.trim().parse().map_err(|_| {
            ShellError::new(
                Code::BadRequest,
                format!("{s:?} is not a date like 2026-01-31"),
            )
        })?;
        d.to_zoned_datetime(tz.clone())
            .map(|z| z.timestamp().as_second())
            .map_err(|_| ShellError::new(Code::BadRequest, format!("{s:?} is out of range")))
    };
    let (from_s, to_s) = (day(&from)?, day(&to)?);
    if to_s <= from_s {
        return Err(ShellError::new(
            Code::BadRequest,
            "The end date must be after the start date.",
        ));
    }
    let file = std::fs::File::create(&path)
        .map_err(|e| ShellError::new(Code::Io, format!("Cannot write {}: {e}", path.display())))?;
    let mut out = std::io::BufWriter::new(file);
    let rows = hearth_vault::write_csv(
        vault.readings(from_s, to_s, res)?,
        res,
        &tz,
        &mut out,
        &CsvOptions { decimal_comma },
    )?;
    out.flush()
        .map_err(|e| ShellError::new(Code::Io, format!("Cannot write {}: {e}", path.display())))?;
    Ok(ExportDto {
        rows,
        path: path.display().to_string(),
    })
}
