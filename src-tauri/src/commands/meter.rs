//! Commands about the meter: its source and keys (starting the collector on them), and finding
//! it: every serial port searched at once, a preview of any source, a key checked against a
//! frame the meter sent.

use super::*;

use crate::collector::{self, lock};
use crate::dto::{FoundPortDto, PreviewDto, ProbeStepDto};
use crate::error::{Code, ShellError};
use crate::state::AppState;
use hearth_app::collect::SourceSetup;
use hearth_app::{Setting, setup};
use hearth_meter_io::detect::{Plan, ProbeEvent};
use hearth_meter_io::source::Source;
use std::sync::atomic::Ordering;
use tauri::{AppHandle, Emitter as _, Runtime, State};

/// Refuses a LAN bridge or broker outside the home network ([`hearth_app::collect::outside_home`]),
/// and any source carrying `allow_public`: only the CLI may let the collector (and the stored
/// MQTT password) reach a public host, never the page.
pub(crate) fn check_local(source: &Source) -> Result<(), ShellError> {
    if source.allows_public() {
        return Err(ShellError::new(
            Code::BadRequest,
            "Only the hearth command can let Hearth reach a meter outside your home network \
             (allow_public); here, give an address on your home network.",
        ));
    }
    match hearth_app::collect::outside_home(source) {
        Some(refusal) => Err(ShellError::new(Code::BadRequest, refusal.to_string())),
        None => Ok(()),
    }
}

/// Starts collecting from `source` unless a collector already runs; returns whether it started.
pub(crate) fn start_collecting<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    source: &Source,
) -> bool {
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
    key: super::session::Secret,
    auth_key: super::session::Secret,
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

/// The event carrying the meter search's steps ([`ProbeStepDto`]).
pub const PROBE_EVENT: &str = "probe-progress";

/// Finds the meter on every serial port at once (in tests, the ports `HEARTH_TEST_PORTS`
/// names), telling each step as a [`PROBE_EVENT`]; what each port gave, with the source to
/// save. Up to about half a minute; [`stop_finding`] ends it.
#[tauri::command]
pub async fn find_meters<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<Vec<FoundPortDto>, ShellError> {
    let (stop, only, probed) = (
        state.finding.clone(),
        state.test_ports.clone(),
        state.probed.clone(),
    );
    stop.store(false, Ordering::SeqCst);
    off_the_runtime(move || {
        let on = |e: &ProbeEvent| drop(app.emit(PROBE_EVENT, ProbeStepDto::from(e)));
        let found = setup::find_meters(&only, &Plan::default(), &stop, &on)
            .map_err(|e| ShellError::new(Code::Io, e.to_string()))?;
        let shown = found.iter().map(FoundPortDto::from).collect();
        *lock(&probed) = found;
        Ok(shown)
    })
    .await
}

/// Ends a meter search at once.
#[tauri::command]
pub fn stop_finding(state: State<'_, AppState>) {
    state.finding.store(true, Ordering::SeqCst);
}

/// Checks a meter key (and authentication key) against the frame the encrypted meter found on
/// `path` sent: what the frame shows when they open it.
#[tauri::command]
pub fn check_found_key(
    state: State<'_, AppState>,
    path: String,
    key: String,
    auth_key: String,
) -> Result<PreviewDto, ShellError> {
    let probed = lock(&state.probed);
    let capture = probed
        .iter()
        .filter(|r| r.port.path == path)
        .find_map(|r| r.outcome.as_ref().ok()?.capture.as_ref())
        .ok_or_else(|| ShellError::new(Code::BadRequest, "Search for the meter again first."))?;
    setup::check_key(capture, &key, &auth_key).map_err(preview_error)
}

/// What a source shows now (a LAN bridge, a HomeWizard meter, a port typed by hand): its
/// protocol, the meter id's last four characters and the power, within 15 s.
#[tauri::command]
pub async fn preview_source(
    source: String,
    key: String,
    auth_key: String,
) -> Result<PreviewDto, ShellError> {
    let parsed: Source = source
        .parse()
        .map_err(|e: hearth_meter_io::source::SourceError| {
            ShellError::new(Code::BadRequest, e.to_string())
        })?;
    check_local(&parsed)?;
    let keys = hearth_app::meter_keys::parse(&key, &auth_key)
        .map_err(|e| ShellError::new(Code::BadRequest, e.to_string()))?;
    let setup = SourceSetup {
        keys,
        ..SourceSetup::default()
    };
    setup::preview(&parsed, setup, std::time::Duration::from_secs(15))
        .await
        .map_err(preview_error)
}

fn preview_error(e: setup::PreviewError) -> ShellError {
    use setup::PreviewError as P;
    let code = match e {
        P::KeyFormat(_) | P::NoKey | P::NeedsKey => Code::BadRequest,
        P::WrongKey | P::WrongAuthKey => Code::WrongKey,
        _ => Code::NoData,
    };
    ShellError::new(code, e.to_string())
}
