//! Commands of the vault session: where it stands, the first-run set-up, unlocking with the
//! passphrase or the OS keyring, locking, the keyring switch, the passphrase change and
//! replacing the data key.

use super::*;

use crate::collector::{self, lock};
use crate::costs::{self};
use crate::dto::{AppInfoDto, StatusDto};
use crate::error::{Code, ShellError};
use crate::state::AppState;
use hearth_app::follow;
use hearth_app::passphrase::{self as use_case, PassphraseError, Rekeyed};
use hearth_app::session::{self, Access};
use hearth_app::{Setting, Status};
use hearth_meter_io::source::Source;
use hearth_vault::Vault;
use std::sync::atomic::Ordering;
use tauri::{AppHandle, Emitter, Manager, Runtime, State};
use zeroize::Zeroizing;

/// A passphrase, password or meter key from the page, wiped from memory when dropped.
pub type Secret = Zeroizing<String>;

/// The event carrying a rekey's progress, `[records done, records in total]`.
pub const REKEY_EVENT: &str = "rekey-progress";

/// A refused passphrase change or rekey for the page: the vault's own errors keep their codes.
fn passphrase_error(e: PassphraseError) -> ShellError {
    match e {
        PassphraseError::Vault(v) => v.into(),
        PassphraseError::Locked => ShellError::locked(),
        other => ShellError::new(Code::BadRequest, other.to_string()),
    }
}

/// What the app is running with.
#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> AppInfoDto {
    state.info.clone()
}

/// Where the vault stands: `setup` (first run), `locked` or `open`. Off the main thread (as
/// `lock_vault`): a rekey holds the session for a while, and the window must keep drawing.
#[tauri::command(async)]
pub fn status(state: State<'_, AppState>) -> StatusDto {
    status_of(&state)
}

pub(crate) fn status_of(state: &AppState) -> StatusDto {
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
        following: store.following(),
        stored_locked: store.stored_while_locked(),
        took_in: store
            .vault()
            .and_then(|v| crate::dto::TookInDto::of(v.inbox_report())),
    }
}

/// What the first-run wizard sets up besides the passphrase and source; all optional.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SetupExtras {
    /// The meter's encryption key (32 hex digits), for encrypted meters.
    pub key: Secret,
    /// Its authentication key (32 hex digits), `none`, or empty for the usual one.
    pub auth_key: Secret,
    /// The MQTT broker's password (sealed in the vault, never in the source).
    pub mqtt_password: Secret,
    /// A contract to adopt as the user's own (`preset:uk-flat`).
    pub contract: String,
}

/// First run: creates the vault with `passphrase`, remembers the meter `source` (empty for
/// none, e.g. when only supplier downloads will be imported) with its keys or broker password
/// and the chosen contract, and starts collecting. Everything is checked before the vault is
/// created, so a typo leaves no half-made vault behind.
#[tauri::command]
pub async fn create_vault<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    passphrase: Secret,
    source: String,
    extras: Option<SetupExtras>,
) -> Result<StatusDto, ShellError> {
    let extras = extras.unwrap_or_default();
    use_case::check_new(&passphrase).map_err(passphrase_error)?;
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
    let mut vault = off_the_runtime(move || Ok(session::create(&path, &passphrase, kdf)?)).await?;
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
    passphrase: Secret,
) -> Result<StatusDto, ShellError> {
    let (vault, access) = open_for_unlock(&state, move |path| {
        Ok(follow::open_or_follow(|access| {
            session::open_with_passphrase(&path, &passphrase, access)
        })?)
    })
    .await?;
    install_opened(&app, &state, vault, access)
}

/// Opens the vault for an unlock with `open`, off the runtime, once the session has released
/// the writer lock its write-only handle holds while locked (the readings stored that way are
/// taken in by the open); if the open fails, readings are stored write-only again.
async fn open_for_unlock(
    state: &AppState,
    open: impl FnOnce(std::path::PathBuf) -> Result<(Vault, Access), ShellError> + Send + 'static,
) -> Result<(Vault, Access), ShellError> {
    let path = release_for_unlock(state);
    let opened = off_the_runtime(move || open(path)).await;
    if opened.is_err() {
        lock(&state.store).unlock_failed();
    }
    opened
}

/// [`hearth_app::Session::release_for_unlock`]; returns the vault's path.
fn release_for_unlock(state: &AppState) -> std::path::PathBuf {
    let mut store = lock(&state.store);
    if let Err(e) = store.release_for_unlock() {
        eprintln!("hearth-desktop: the last readings collected while locked were not sealed: {e}");
    }
    store.path().to_path_buf()
}

/// Puts a vault an unlock opened in place: as the writer, collecting from its saved source;
/// read-only beside another process that writes, following it ([`follow_beside`]).
fn install_opened<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    vault: Vault,
    access: Access,
) -> Result<StatusDto, ShellError> {
    let installed = match access {
        Access::Writer => install_and_collect(app, state, vault),
        Access::ReadOnly => follow_beside(app, state, vault),
    };
    if installed.is_err() {
        lock(&state.store).unlock_failed();
    }
    installed
}

/// Another process (`hearth collect`) writes the vault: the session reads beside it, this
/// app's own collection stops (the meter is that process's), and a follower shows what it
/// stores until it stops, then takes over (see [`collector::spawn_follower`]).
fn follow_beside<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    vault: Vault,
) -> Result<StatusDto, ShellError> {
    let running = lock(&state.reader).take();
    if let Some(running) = running {
        running.stop(std::time::Duration::from_secs(2));
        state.collecting.store(false, Ordering::SeqCst);
    }
    lock(&state.store).follow(vault);
    collector::spawn_follower(app.clone());
    Ok(status_of(state))
}

/// The meter source the open vault remembers.
fn saved_source(vault: &Vault) -> Result<Option<Source>, ShellError> {
    Ok(Setting::Source
        .get_text(vault)?
        .and_then(|s| s.parse::<Source>().ok()))
}

/// Starts collecting from the source the open vault remembers (after taking over writing).
pub(crate) fn collect_saved_source<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    let source = lock(&state.store).vault().map(saved_source);
    match source {
        Some(Ok(Some(source))) => drop(start_collecting(app, &state, &source)),
        Some(Err(e)) => eprintln!("hearth-desktop: the saved meter source is unreadable: {e}"),
        _ => {}
    }
}

/// Puts an unlocked vault in place and starts collecting from its saved source.
pub(crate) fn install_and_collect<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    vault: Vault,
) -> Result<StatusDto, ShellError> {
    let source = saved_source(&vault)?;
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
    let (vault, access) = open_for_unlock(&state, move |path| {
        open_with_keyring(&path, &hearth_keyring::Keyring::interactive())
    })
    .await?;
    state.auto_unlock.store(false, Ordering::SeqCst);
    install_opened(&app, &state, vault, access)
}

/// Opens the vault at `path` with the secret `keyring` holds for it: as its writer, or
/// read-only beside another process that writes.
fn open_with_keyring(
    path: &std::path::Path,
    keyring: &hearth_keyring::Keyring,
) -> Result<(Vault, Access), ShellError> {
    Ok(follow::open_or_follow(|access| {
        session::open_with_keyring(path, keyring, access)
    })?)
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
    release_for_unlock(&state);
    let opened = open_with_keyring(&path, &hearth_keyring::Keyring::unattended());
    if opened.is_err() {
        lock(&state.store).unlock_failed();
    }
    let (vault, access) = opened?;
    state.auto_unlock.store(false, Ordering::SeqCst);
    install_opened(app, &state, vault, access)?;
    Ok(true)
}

/// Keeps a key to the vault in the OS keyring (so Hearth opens without the passphrase after
/// login), or removes it. The vault must be unlocked, and turning it on takes the `passphrase`
/// (as `hearth keyring on` does): an open window alone is not enough. Turning it on when the
/// keyring cannot take the key leaves it off.
#[tauri::command]
pub async fn set_keyring(
    state: State<'_, AppState>,
    on: bool,
    passphrase: Option<Secret>,
) -> Result<StatusDto, ShellError> {
    if on {
        let passphrase = passphrase.filter(|p| !p.is_empty()).ok_or_else(|| {
            ShellError::new(
                Code::BadRequest,
                "Type your passphrase to keep a key in the OS keyring.",
            )
        })?;
        let store = state.store.clone();
        off_the_runtime(move || {
            use_case::check_current(&store, &passphrase).map_err(passphrase_error)
        })
        .await?;
    }
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
    let Some(secret) = secret else {
        forget_keyring_entry(id).await;
        return Ok(status_of(&state));
    };
    // The keyring may show its unlock dialog: no store lock is held meanwhile.
    let result = off_the_runtime(move || {
        Ok(hearth_keyring::Keyring::interactive().store(&id, &path, &secret))
    })
    .await?;
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
#[tauri::command(async)]
pub fn lock_vault(state: State<'_, AppState>) -> Result<StatusDto, ShellError> {
    lock(&state.store).lock()?;
    Ok(status_of(&state))
}

pub(crate) fn open_vault_mut(store: &mut hearth_app::Session) -> Result<&mut Vault, ShellError> {
    store.vault_mut().ok_or_else(ShellError::locked)
}

/// Removes the OS-keyring entry of the vault `id` once its slot is gone: the entry opens
/// nothing any more, so removing it is tidiness, and a keyring that refuses is no error.
async fn forget_keyring_entry(id: String) {
    let _ = off_the_runtime(move || {
        let _ = hearth_keyring::Keyring::interactive().delete(&id);
        Ok(())
    })
    .await;
}

/// Changes the passphrase after checking the current one (a wrong one is `WrongPassphrase`).
/// The data key stays (see [`rekey`]).
#[tauri::command]
pub async fn change_passphrase(
    state: State<'_, AppState>,
    current: Secret,
    new: Secret,
) -> Result<(), ShellError> {
    let store = state.store.clone();
    off_the_runtime(move || {
        use_case::change_open(&store, &current, &new).map_err(passphrase_error)?;
        Ok(())
    })
    .await
}

/// Replaces the vault's data key after checking the current passphrase, and with `new` sets
/// that as the passphrase too (see `hearth_app::passphrase::rekey_open`); the vault stays
/// open. Progress goes to the page as [`REKEY_EVENT`]s. The keyring slot is removed with the
/// old key, and its OS-keyring entry with it.
#[tauri::command]
pub async fn rekey<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    current: Secret,
    new: Option<Secret>,
) -> Result<Rekeyed, ShellError> {
    let store = state.store.clone();
    let done = off_the_runtime(move || {
        let new = new.as_ref().map(|n| n.as_str());
        let mut progress = |done: u64, total: u64| drop(app.emit(REKEY_EVENT, [done, total]));
        use_case::rekey_open(&store, &current, new, &mut progress).map_err(passphrase_error)
    })
    .await?;
    if done.keyring_slot_removed {
        forget_keyring_entry(done.vault_id.clone()).await;
    }
    Ok(done)
}
