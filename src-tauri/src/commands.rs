//! Tauri commands: each one a few lines from the UI's request to a library call and back.

use crate::collector::{self, lock};
use crate::costs::{self, CostPeriod};
use crate::dto::{
    AppInfoDto, ContractDto, CostReportDto, ExportDto, HistoryDto, LiveDto, PortDto, StatusDto,
    TipDto,
};
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

/// Starts collecting from `source` unless a collector already runs; returns whether it started.
fn start_collecting<R: Runtime>(app: &AppHandle<R>, state: &AppState, source: &Source) -> bool {
    // Only the first call starts a collector (the swap claims it).
    if state.collecting.swap(true, Ordering::SeqCst) {
        return false;
    }
    match source {
        Source::Demo { seed, .. } => collector::spawn_demo(
            app.clone(),
            state.live.clone(),
            state.store.clone(),
            state.preparing.clone(),
            *seed,
            0,
        ),
        other => {
            let (password, start_wh) = {
                let store = lock(&state.store);
                let v = store.vault();
                (
                    v.and_then(|v| v.get_setting(MQTT_PASSWORD_SETTING).ok().flatten())
                        .map(|p| String::from_utf8_lossy(&p).into_owned()),
                    v.map_or(0, collector::last_import_wh),
                )
            };
            let task = collector::spawn_reader(
                app.clone(),
                state.live.clone(),
                state.store.clone(),
                other.clone(),
                password,
                start_wh,
            );
            *lock(&state.reader) = Some(task);
        }
    }
    true
}

/// The vault setting holding an MQTT broker's password (the CLI's convention).
pub const MQTT_PASSWORD_SETTING: &str = "mqtt/password";

fn open_vault_mut(store: &mut Store) -> Result<&mut Vault, ShellError> {
    store.vault_mut().ok_or_else(ShellError::locked)
}

/// The contracts to choose from: shipped presets, then those stored in the vault.
#[tauri::command]
pub fn contracts(state: State<'_, AppState>) -> Result<Vec<ContractDto>, ShellError> {
    let store = lock(&state.store);
    costs::list(store.vault().ok_or_else(ShellError::locked)?)
}

/// Checks contract TOML (a parse error names the line) and stores it in the vault; returns
/// its id.
#[tauri::command]
pub fn save_contract(state: State<'_, AppState>, toml: String) -> Result<String, ShellError> {
    let mut store = lock(&state.store);
    costs::save(open_vault_mut(&mut store)?, &toml)
}

/// Energy and cost of `period` (`this-month`, `last-month`, `last-12-months`) under each
/// contract in `contracts` (ids from [`contracts`]).
#[tauri::command]
pub fn cost_report(
    state: State<'_, AppState>,
    period: String,
    contracts: Vec<String>,
) -> Result<CostReportDto, ShellError> {
    let p = CostPeriod::from_name(&period)
        .ok_or_else(|| ShellError::new(Code::BadRequest, format!("unknown period {period:?}")))?;
    let store = lock(&state.store);
    let vault = store.vault().ok_or_else(ShellError::locked)?;
    let chosen = costs::load(vault, &contracts)?;
    let (from, to) = p.range(collector::now_unix(), vault.time_zone())?;
    costs::report(vault, &chosen, from, to)
}

/// Savings tips over the last 12 months; `contracts` are ids, the first valid now is current.
#[tauri::command]
pub fn tips(state: State<'_, AppState>, contracts: Vec<String>) -> Result<Vec<TipDto>, ShellError> {
    let store = lock(&state.store);
    let vault = store.vault().ok_or_else(ShellError::locked)?;
    let chosen = costs::load(vault, &contracts)?;
    costs::tips(vault, &chosen, collector::now_unix())
}

/// Changes the passphrase after checking the current one (a wrong one is `WrongPassphrase`).
/// The data is not re-encrypted.
#[tauri::command]
pub async fn change_passphrase(
    state: State<'_, AppState>,
    current: String,
    new: String,
) -> Result<(), ShellError> {
    if new.chars().count() < MIN_PASSPHRASE {
        return Err(ShellError::new(
            Code::BadRequest,
            format!("Choose a passphrase of at least {MIN_PASSPHRASE} characters."),
        ));
    }
    let path = lock(&state.store).path().to_path_buf();
    if lock(&state.store).vault().is_none() {
        return Err(ShellError::locked());
    }
    // The slow key derivation runs off the UI thread, without holding the store.
    tauri::async_runtime::spawn_blocking(move || Vault::open_read_only(&path, &current).map(drop))
        .await
        .map_err(|e| ShellError::new(Code::Internal, e.to_string()))??;
    let store = state.store.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let mut store = lock(&store);
        // The vault keeps its key-derivation cost.
        open_vault_mut(&mut store)?
            .change_passphrase(&new, None)
            .map_err(ShellError::from)
    })
    .await
    .map_err(|e| ShellError::new(Code::Internal, e.to_string()))?
}

/// The saved meter source (`demo`, `serial:/dev/ttyUSB0`, `tcp:HOST:PORT`, `mqtt://...`).
#[tauri::command]
pub fn meter_source(state: State<'_, AppState>) -> Result<String, ShellError> {
    let store = lock(&state.store);
    let vault = store.vault().ok_or_else(ShellError::locked)?;
    Ok(vault
        .get_setting(SOURCE_SETTING)?
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default())
}

/// Saves a new meter source and reads from it now, closing the previous real source (a
/// running simulated meter gives way only at the next start). Returns what happened.
#[tauri::command]
pub fn set_meter_source<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    source: String,
) -> Result<String, ShellError> {
    let parsed: Source =
        source
            .trim()
            .parse()
            .map_err(|e: hearth_meter_io::source::SourceError| {
                ShellError::new(Code::BadRequest, e.to_string())
            })?;
    if state.info.demo {
        return Err(ShellError::new(
            Code::BadRequest,
            "The demo always uses the simulated meter; start Hearth without --demo to use yours.",
        ));
    }
    open_vault_mut(&mut lock(&state.store))?
        .put_setting(SOURCE_SETTING, parsed.to_string().as_bytes())?;
    // A real source being read is closed and the new one opened; the simulated meter's
    // thread cannot be stopped, so switching away from it waits for the next start.
    if let Some(task) = lock(&state.reader).take() {
        task.abort();
        state.collecting.store(false, Ordering::SeqCst);
    }
    Ok(if start_collecting(&app, &state, &parsed) {
        format!("Saved. Reading from {parsed} now.")
    } else {
        format!("Saved. Hearth reads from {parsed} from its next start.")
    })
}

/// Serial ports on this computer.
#[tauri::command]
pub fn list_ports() -> Result<Vec<PortDto>, ShellError> {
    let ports = hearth_meter_io::detect::list_ports()
        .map_err(|e| ShellError::new(Code::Io, e.to_string()))?;
    Ok(ports
        .into_iter()
        .map(|p| PortDto {
            source: format!("serial:{}", p.path),
            description: p.description(),
        })
        .collect())
}

/// Listens on a serial port at the usual settings and says what it heard (takes seconds).
#[tauri::command]
pub async fn probe_port(path: String) -> Result<String, ShellError> {
    tauri::async_runtime::spawn_blocking(move || {
        hearth_meter_io::detect::probe(&path, std::time::Duration::from_secs(3)).verdict()
    })
    .await
    .map_err(|e| ShellError::new(Code::Internal, e.to_string()))
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
