//! Tauri commands: each one a few lines from the UI's request to a library call and back.

use crate::collector::{self, lock};
use crate::costs::{self, CostPeriod};
use crate::dto::{
    AppInfoDto, ContractDto, CostReportDto, ExportDto, ExportProgressDto, HistoryDto, LiveDto,
    PortDto, PreferencesDto, StatusDto, TipDto,
};
use crate::error::{Code, ShellError};
use crate::state::{AppState, prefs_path};
use hearth_app::export;
use hearth_app::history::{self, ChartId, Format, Image, Request};
use hearth_app::period::PeriodKind;
use hearth_app::preferences::Preferences;
use hearth_app::session::{self, Access};
use hearth_app::{Setting, Status};
use hearth_insight::Lang;
use hearth_meter_io::source::Source;
use hearth_vault::{Resolution, Vault};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use tauri::{AppHandle, Emitter, Manager, Runtime, State};

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

fn live_image(
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
        keyring: match store.vault() {
            Some(v) => v.secret_slot_enabled().unwrap_or(false),
            None => store.path().exists() && Vault::has_secret_slot(store.path()).unwrap_or(false),
        },
        preparing: *lock(&state.preparing),
        pending: store.pending(),
    }
}

/// What the first-run wizard sets up besides the passphrase and source; all optional.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SetupExtras {
    /// The meter's encryption key (32 hex digits), for encrypted meters.
    pub key: String,
    /// Its authentication key (32 hex digits), `none`, or empty for the usual one.
    pub auth_key: String,
    /// The MQTT broker's password (sealed in the vault, never in the source).
    pub mqtt_password: String,
    /// A contract to adopt as the user's own (`preset:uk-flat`).
    pub contract: String,
}

/// Refuses a LAN bridge or broker given as an IP address outside the home network (host
/// names are checked when connecting, on every address they resolve to).
fn check_local(source: &Source) -> Result<(), ShellError> {
    let (host, allow_public) = match source {
        Source::Tcp {
            host, allow_public, ..
        } => (host, *allow_public),
        Source::Mqtt(m) => (&m.host, m.allow_public),
        _ => return Ok(()),
    };
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) if !allow_public && !hearth_meter_io::network::is_local_network(ip) => {
            Err(ShellError::new(
                Code::BadRequest,
                format!(
                    "{ip} is not on your home network. Hearth only talks to devices on your own \
                     network (addresses like 192.168.x.x or 10.x.x.x)."
                ),
            ))
        }
        _ => Ok(()),
    }
}

/// First run: creates the vault with `passphrase`, remembers the meter `source` (empty for
/// none, e.g. when only supplier downloads will be imported) with its keys or broker password
/// and the chosen contract, and starts collecting. Everything is checked before the vault is
/// created, so a typo leaves no half-made vault behind.
#[tauri::command]
pub async fn create_vault<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    passphrase: String,
    source: String,
    extras: Option<SetupExtras>,
) -> Result<StatusDto, ShellError> {
    let extras = extras.unwrap_or_default();
    if passphrase.chars().count() < MIN_PASSPHRASE {
        return Err(ShellError::new(
            Code::BadRequest,
            format!("Choose a passphrase of at least {MIN_PASSPHRASE} characters."),
        ));
    }
    let parsed: Option<Source> = match source.trim() {
        "" => None,
        s => Some(
            s.parse()
                .map_err(|e: hearth_meter_io::source::SourceError| {
                    ShellError::new(Code::BadRequest, e.to_string())
                })?,
        ),
    };
    if let Some(s) = &parsed {
        check_local(s)?;
    }
    hearth_app::meter_keys::parse(&extras.key, &extras.auth_key)
        .map_err(|e| ShellError::new(Code::BadRequest, e.to_string()))?;
    let path = lock(&state.store).path().to_path_buf();
    if lock(&state.store).status() != Status::Setup {
        return Err(ShellError::new(
            Code::BadRequest,
            "A vault already exists here.",
        ));
    }
    let kdf = state.kdf;
    let mut vault =
        tauri::async_runtime::spawn_blocking(move || session::create(&path, &passphrase, kdf))
            .await
            .map_err(|e| ShellError::new(Code::Internal, e.to_string()))??;
    if let Some(s) = &parsed {
        Setting::Source.put(&mut vault, s.to_string().as_bytes())?;
    }
    hearth_app::meter_keys::store(&mut vault, &extras.key, &extras.auth_key)
        .map_err(|e| ShellError::new(Code::Internal, e.to_string()))?;
    if !extras.mqtt_password.is_empty() {
        Setting::MqttPassword.put(&mut vault, extras.mqtt_password.as_bytes())?;
    }
    if !extras.contract.is_empty() {
        costs::adopt(&mut vault, &extras.contract)?;
    }
    lock(&state.store).install(vault)?;
    if let Some(s) = &parsed {
        start_collecting(&app, &state, s);
    }
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
    let vault = tauri::async_runtime::spawn_blocking(move || {
        session::open_with_passphrase(&path, &passphrase, Access::Writer)
    })
    .await
    .map_err(|e| ShellError::new(Code::Internal, e.to_string()))??;
    install_and_collect(&app, &state, vault)
}

/// Puts an unlocked vault in place and starts collecting from its saved source.
fn install_and_collect<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    vault: Vault,
) -> Result<StatusDto, ShellError> {
    let source = Setting::Source
        .get_text(&vault)?
        .and_then(|s| s.parse::<Source>().ok());
    // The Now chart draws the last stored minutes until the meter's first telegram.
    let recent = hearth_app::collect::recent_readings(
        &vault,
        collector::now_unix(),
        hearth_app::live::KEEP_S,
    );
    lock(&state.store).install(vault)?;
    lock(&state.live).seed(&recent);
    if let Some(source) = source {
        start_collecting(app, state, &source);
    }
    Ok(status_of(state))
}

fn keyring_error(e: hearth_keyring::KeyringError) -> ShellError {
    ShellError::new(Code::Keyring, e.to_string())
}

/// Unlocks with the secret kept in the OS keyring (the vault's keyring slot); the keyring may
/// ask the desktop to unlock itself first. Without a slot or an entry, `Keyring`.
#[tauri::command]
pub async fn unlock_with_keyring<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<StatusDto, ShellError> {
    let path = lock(&state.store).path().to_path_buf();
    let vault = tauri::async_runtime::spawn_blocking(move || {
        open_with_keyring(&path, &hearth_keyring::Keyring::interactive())
    })
    .await
    .map_err(|e| ShellError::new(Code::Internal, e.to_string()))??;
    state.auto_unlock.store(false, Ordering::SeqCst);
    install_and_collect(&app, &state, vault)
}

/// Opens the vault at `path` as its writer with the secret `keyring` holds for it.
fn open_with_keyring(
    path: &std::path::Path,
    keyring: &hearth_keyring::Keyring,
) -> Result<Vault, ShellError> {
    Ok(session::open_with_keyring(path, keyring, Access::Writer)?)
}

/// Quits Hearth (as the tray's "Quit" does): the collector stops and what it holds is written.
/// The page offers it because a desktop may show no tray icon at all.
#[tauri::command]
pub fn quit<R: Runtime>(app: AppHandle<R>) {
    app.exit(0);
}

/// Whether the page should open the vault with the OS keyring by itself now: once per run, at
/// start. A window opened again later (from the tray, after the user or the auto-lock locked)
/// shows the lock screen instead: locking means it.
#[tauri::command]
pub fn take_auto_unlock(state: State<'_, AppState>) -> bool {
    state.auto_unlock.swap(false, Ordering::SeqCst)
}

/// A start without a window (`--minimized`, the login entry): opens a vault kept in the OS
/// keyring without asking (no unlock prompt), so collection starts at login. Returns whether it
/// opened; when it cannot, the first window that opens tries again (and may ask).
pub fn unlock_at_login<R: Runtime>(app: &AppHandle<R>) -> Result<bool, ShellError> {
    let state = app.state::<AppState>();
    let path = {
        let store = lock(&state.store);
        if store.status() != Status::Locked {
            return Ok(false);
        }
        store.path().to_path_buf()
    };
    if !Vault::inspect(&path)?.secret_slot {
        return Ok(false);
    }
    let vault = open_with_keyring(&path, &hearth_keyring::Keyring::unattended())?;
    state.auto_unlock.store(false, Ordering::SeqCst);
    install_and_collect(app, &state, vault)?;
    Ok(true)
}

/// Keeps a key to the vault in the OS keyring (so Hearth opens without the passphrase after
/// login), or removes it. The vault must be unlocked. Turning it on when the keyring cannot
/// take the key leaves it off.
#[tauri::command]
pub async fn set_keyring(state: State<'_, AppState>, on: bool) -> Result<StatusDto, ShellError> {
    let (id, path, secret) = {
        let mut store = lock(&state.store);
        let path = store.path().to_path_buf();
        let vault = open_vault_mut(&mut store)?;
        let secret = if on {
            Some(vault.enable_secret_slot()?)
        } else {
            vault.disable_secret_slot()?;
            None
        };
        (vault.id_hex(), path, secret)
    };
    // The keyring may show its unlock dialog: no store lock is held meanwhile.
    let result = tauri::async_runtime::spawn_blocking(move || {
        let keyring = hearth_keyring::Keyring::interactive();
        match &secret {
            Some(s) => keyring.store(&id, &path, s),
            // The slot is gone, so a leftover entry opens nothing; removing it is tidiness.
            None => keyring.delete(&id).map(drop).or(Ok(())),
        }
    })
    .await
    .map_err(|e| ShellError::new(Code::Internal, e.to_string()))?;
    if let Err(e) = result {
        if let Some(v) = lock(&state.store).vault_mut() {
            v.disable_secret_slot()?;
        }
        return Err(keyring_error(e));
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
            let (setup, tz) = {
                let store = lock(&state.store);
                let setup = store.vault().map(|v| {
                    let keys = hearth_app::meter_keys::load(v).unwrap_or_else(|e| {
                        eprintln!("hearth-desktop: the stored meter key is not used: {e}");
                        None
                    });
                    hearth_app::collect::SourceSetup::from_vault(v, keys)
                });
                (setup, store.time_zone().clone())
            };
            let setup = match setup.transpose() {
                Ok(setup) => setup.unwrap_or_default(),
                Err(e) => {
                    eprintln!("hearth-desktop: the vault's source settings are unreadable: {e}");
                    Default::default()
                }
            };
            let running = collector::spawn_reader(
                app.clone(),
                state.live.clone(),
                state.store.clone(),
                other.clone(),
                setup,
                tz,
            );
            *lock(&state.reader) = Some(running);
        }
    }
    true
}

/// How long switching sources waits for the running collection to stop.
const STOP_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

fn open_vault_mut(store: &mut hearth_app::Session) -> Result<&mut Vault, ShellError> {
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
    costs::report(vault, &chosen, p, collector::now_unix())
}

/// Savings tips over the last 12 months; `contracts` are ids, the first valid now is current.
/// `lang` (`en`, `nl`, `de`; English when absent) words the sentences and evidence.
#[tauri::command]
pub fn tips(
    state: State<'_, AppState>,
    contracts: Vec<String>,
    lang: Option<String>,
) -> Result<Vec<TipDto>, ShellError> {
    let lang = Lang::from_code(lang.as_deref().unwrap_or("en"));
    let store = lock(&state.store);
    let vault = store.vault().ok_or_else(ShellError::locked)?;
    let chosen = costs::load(vault, &contracts)?;
    costs::tips(vault, &chosen, collector::now_unix(), lang)
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
    Ok(Setting::Source.get_text(vault)?.unwrap_or_default())
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
    check_local(&parsed)?;
    Setting::Source.put(
        open_vault_mut(&mut lock(&state.store))?,
        parsed.to_string().as_bytes(),
    )?;
    // A real source being read is closed and the new one opened; the simulated meter's
    // thread cannot be stopped, so switching away from it waits for the next start.
    let running = lock(&state.reader).take();
    if let Some(running) = running {
        running.stop(STOP_WAIT);
        state.collecting.store(false, Ordering::SeqCst);
    }
    Ok(if start_collecting(&app, &state, &parsed) {
        format!("Saved. Reading from {parsed} now.")
    } else {
        format!("Saved. Hearth reads from {parsed} from its next start.")
    })
}

/// Saves the meter's decryption keys (32 hex digits each; `auth_key` may be empty for the
/// usual one, or `none`) and, when a real source is being read, reads it again with them.
#[tauri::command]
pub fn set_meter_keys<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    key: String,
    auth_key: String,
) -> Result<(), ShellError> {
    let bad =
        |e: hearth_app::meter_keys::KeyError| ShellError::new(Code::BadRequest, e.to_string());
    if hearth_app::meter_keys::parse(&key, &auth_key)
        .map_err(bad)?
        .is_none()
    {
        return Err(ShellError::new(
            Code::BadRequest,
            "Type the meter key (32 hexadecimal digits) your grid operator sent.",
        ));
    }
    let source = {
        let mut store = lock(&state.store);
        let vault = open_vault_mut(&mut store)?;
        hearth_app::meter_keys::store(vault, &key, &auth_key).map_err(|e| match e {
            hearth_app::meter_keys::StoreError::Key(k) => bad(k),
            hearth_app::meter_keys::StoreError::Vault(v) => v.into(),
        })?;
        Setting::Source
            .get_text(vault)?
            .and_then(|s| s.parse::<Source>().ok())
    };
    // Taken out first: `start_collecting` locks the reader slot again.
    let running = lock(&state.reader).take();
    if let Some(running) = running {
        running.stop(STOP_WAIT);
        state.collecting.store(false, Ordering::SeqCst);
        if let Some(source) = source {
            start_collecting(&app, &state, &source);
        }
    }
    Ok(())
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
    let store = lock(&state.store);
    let vault = store.vault().ok_or_else(ShellError::locked)?;
    Ok(history::page(vault, &req, collector::now_unix())?)
}

fn history_request(
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
/// `path`, an absolute path the user chose. Returns the path written.
#[tauri::command]
pub fn save_chart(
    state: State<'_, AppState>,
    request: ChartRequest,
    format: String,
    path: String,
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
    let path = output_path(&path)?;
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
        let store = lock(&state.store);
        let vault = store.vault().ok_or_else(ShellError::locked)?;
        history::chart(vault, &req, collector::now_unix(), id, format)?.ok_or_else(|| {
            ShellError::new(Code::NoData, "This period has no such chart to save.")
        })?
    };
    let bytes = match &image {
        Image::Svg(s) => s.as_bytes(),
        Image::Png(b) => b.as_slice(),
    };
    std::fs::write(&path, bytes)
        .map_err(|e| ShellError::new(Code::Io, format!("Cannot write {}: {e}", path.display())))?;
    Ok(path.display().to_string())
}

/// An absolute file path the user chose to write to.
fn output_path(path: &str) -> Result<PathBuf, ShellError> {
    let path = PathBuf::from(path.trim());
    if !path.is_absolute() || path.file_name().is_none() {
        return Err(ShellError::new(
            Code::BadRequest,
            "Give the full path of the file to write, e.g. /home/me/hearth.csv.",
        ));
    }
    Ok(path)
}

/// The event carrying an export's progress ([`ExportProgressDto`]).
pub const EXPORT_PROGRESS_EVENT: &str = "export-progress";

/// Writes readings of `[from, to)` (local dates `YYYY-MM-DD`, `to` exclusive) at `resolution`
/// (`raw`, `1m`, `15m`, `1h`, `1d`, `1mo`) as CSV to `path`, an absolute path the user chose.
/// Runs off the UI thread; a big export reports its progress as [`EXPORT_PROGRESS_EVENT`]s.
#[tauri::command]
pub async fn export_csv<R: Runtime>(
    app: AppHandle<R>,
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
    let path = output_path(&path)?;
    let store = state.store.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let store = lock(&store);
        let vault = store.vault().ok_or_else(ShellError::locked)?;
        let (from, to) = export::range(Some(&from), Some(&to), vault.time_zone())?;
        let req = export::Request {
            from,
            to,
            resolution: res,
            decimal_comma,
        };
        // The save dialog already asked before replacing a file: force.
        let rows = export::to_file(vault, &req, &path, true, |p| {
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
            path: path.display().to_string(),
        })
    })
    .await
    .map_err(|e| ShellError::new(Code::Internal, e.to_string()))?
}

/// Asks for a file to write with the desktop's own save dialog, starting at `suggested` (a
/// file name or a full path), offering files ending in `.extension`. `None` when cancelled.
/// The dialog is opened from here, so the window itself needs no dialog or file permission.
#[tauri::command]
pub async fn pick_save_path<R: Runtime>(
    app: AppHandle<R>,
    suggested: String,
    extension: String,
    title: String,
) -> Result<Option<String>, ShellError> {
    let Some(dialog) = app.try_state::<tauri_plugin_dialog::Dialog<R>>() else {
        return Err(ShellError::new(
            Code::Internal,
            "The save dialog is not available; type the path instead.",
        ));
    };
    let mut builder = dialog
        .file()
        .set_title(title)
        .add_filter(extension.to_uppercase(), &[extension.as_str()]);
    let suggested = PathBuf::from(suggested);
    if let Some(dir) = suggested.parent().filter(|_| suggested.is_absolute()) {
        builder = builder.set_directory(dir);
    }
    if let Some(name) = suggested.file_name() {
        builder = builder.set_file_name(name.to_string_lossy());
    }
    let picked = tauri::async_runtime::spawn_blocking(move || builder.blocking_save_file())
        .await
        .map_err(|e| ShellError::new(Code::Internal, e.to_string()))?;
    match picked {
        None => Ok(None),
        Some(p) => p
            .into_path()
            .map(|p| Some(p.display().to_string()))
            .map_err(|e| ShellError::new(Code::Io, e.to_string())),
    }
}

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

/// Saves language (`en`, `nl`, `de`, or empty for the system's), theme (`system`, `light`,
/// `dark`) and auto-lock minutes (0, 5, 15, 30, 60); an unknown value is `BadRequest`.
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
    p.save(&prefs_path(&state.config_home))?;
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
