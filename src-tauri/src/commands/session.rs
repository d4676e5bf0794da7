//! Commands of the vault session: where it stands, the first-run set-up, unlocking with the
//! passphrase or the OS keyring, locking, the keyring switch and the passphrase change.

use super::*;

use crate::collector::{self, lock};
use crate::costs::{self};
use crate::dto::{AppInfoDto, StatusDto};
use crate::error::{Code, ShellError};
use crate::state::AppState;
use hearth_app::session::{self, Access};
use hearth_app::{Setting, Status};
use hearth_meter_io::source::Source;
use hearth_vault::Vault;
use std::sync::atomic::Ordering;
use tauri::{AppHandle, Manager, Runtime, State};
use zeroize::Zeroizing;

/// A passphrase, password or meter key from the page, wiped from memory when dropped.
pub type Secret = Zeroizing<String>;

/// Shortest passphrase the wizard accepts.
pub const MIN_PASSPHRASE: usize = hearth_app::passphrase::MIN_CHARS;

/// What the app is running with.
#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> AppInfoDto {
    state.info.clone()
}

/// Where the vault stands: `setup` (first run), `locked` or `open`.
#[tauri::command]
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
    passphrase: Secret,
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
pub(crate) fn install_and_collect<R: Runtime>(
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
        check_passphrase(&state, passphrase).await?;
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

pub(crate) fn open_vault_mut(store: &mut hearth_app::Session) -> Result<&mut Vault, ShellError> {
    store.vault_mut().ok_or_else(ShellError::locked)
}

/// Whether `passphrase` opens the open vault (a wrong one is `WrongPassphrase`); the slow key
/// derivation runs off the UI thread, without holding the store.
async fn check_passphrase(state: &AppState, passphrase: Secret) -> Result<(), ShellError> {
    let path = lock(&state.store).path().to_path_buf();
    if lock(&state.store).vault().is_none() {
        return Err(ShellError::locked());
    }
    tauri::async_runtime::spawn_blocking(move || {
        Vault::open_read_only(&path, &passphrase).map(drop)
    })
    .await
    .map_err(|e| ShellError::new(Code::Internal, e.to_string()))??;
    Ok(())
}

/// Changes the passphrase after checking the current one (a wrong one is `WrongPassphrase`).
/// The data is not re-encrypted.
#[tauri::command]
pub async fn change_passphrase(
    state: State<'_, AppState>,
    current: Secret,
    new: Secret,
) -> Result<(), ShellError> {
    if new.chars().count() < MIN_PASSPHRASE {
        return Err(ShellError::new(
            Code::BadRequest,
            format!("Choose a passphrase of at least {MIN_PASSPHRASE} characters."),
        ));
    }
    check_passphrase(&state, current).await?;
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
