//! Hearth's desktop shell: Tauri commands, DTOs and app state over the library crates.
//!
//! The shell holds no domain logic. Meter sources and decoding come from `hearth-meter-io` and
//! `hearth-meter`, charts from `hearth-charts`. Everything here is generic over the Tauri
//! [`tauri::Runtime`] so the commands are unit-tested with the mock runtime, without a display.

pub mod autostart;
pub mod collector;
pub mod commands;
pub mod costs;
pub mod dto;
pub mod error;
#[cfg(target_os = "linux")]
pub mod instance;
pub mod state;
pub mod tray;
pub mod webview;
pub mod window;

use dto::AppInfoDto;
use hearth_app::Session;
use hearth_app::live::Live;
use hearth_vault::KdfParams;
use state::AppState;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

/// The demo vault's passphrase (its data is simulated and thrown away on exit).
pub const DEMO_PASSPHRASE: &str = "demo";

/// Command-line options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Start with the simulated meter and a throwaway data directory.
    pub demo: bool,
    /// Days of simulated history the demo starts with.
    pub demo_days: u32,
    /// Start hidden in the tray (how the login autostart entry starts Hearth).
    pub minimized: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            demo: false,
            demo_days: 90,
            minimized: false,
        }
    }
}

impl Options {
    /// Parses the arguments after the program name: `--demo`, `--demo-days N`.
    pub fn from_args(args: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut o = Options::default();
        let mut args = args.peekable();
        while let Some(a) = args.next() {
            match a.as_str() {
                "--demo" => o.demo = true,
                autostart::MINIMIZED_ARG => o.minimized = true,
                // The normal start (first-run wizard when no vault exists yet), spelled out
                // so a launcher can ask for it explicitly.
                "--setup" => o.demo = false,
                "--demo-days" => {
                    let n = args.next().ok_or("--demo-days needs a number of days")?;
                    o.demo_days = n
                        .parse()
                        .ok()
                        .filter(|d| *d <= 3660)
                        .ok_or_else(|| format!("--demo-days takes 0 to 3660, not {n:?}"))?;
                }
                other => return Err(format!("unknown option {other:?}; try --demo or --setup")),
            }
        }
        Ok(o)
    }
}

/// Registers state and commands on a builder (generic so tests can use the mock runtime).
pub fn setup<R: tauri::Runtime>(b: tauri::Builder<R>, state: AppState) -> tauri::Builder<R> {
    b.manage(state)
        .on_window_event(window::on_event)
        .invoke_handler(tauri::generate_handler![
            commands::session::app_info,
            commands::live::live_now,
            commands::live::live_chart,
            commands::session::status,
            commands::session::create_vault,
            commands::session::unlock,
            commands::session::lock_vault,
            commands::history::history,
            commands::history::export_csv,
            commands::costs::contracts,
            commands::costs::save_contract,
            commands::costs::cost_report,
            commands::costs::tips,
            commands::session::change_passphrase,
            commands::session::rekey,
            commands::meter::meter_source,
            commands::meter::set_meter_source,
            commands::meter::find_meters,
            commands::meter::stop_finding,
            commands::meter::check_found_key,
            commands::meter::preview_source,
            commands::settings::preferences,
            commands::settings::set_preferences,
            commands::settings::set_start_at_login,
            commands::history::save_chart,
            commands::history::pick_save_path,
            commands::session::unlock_with_keyring,
            commands::session::set_keyring,
            commands::meter::set_meter_keys,
            commands::session::take_auto_unlock,
            commands::session::quit,
            commands::data::pick_open_files,
            commands::data::import_files,
            commands::data::backup_vault,
            commands::data::restore_backup,
            commands::data::pick_folder,
            commands::data::merge_folder,
            commands::data::verify_vault,
        ])
}

/// A fresh throwaway directory for a demo run.
fn demo_dir() -> std::io::Result<PathBuf> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!("hearth-demo-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// App state for a data directory: the vault file inside it, locked or absent. Preferences
/// and the autostart entry go under `data_dir/config` until [`AppState::config_home`] is set
/// to the user's config directory (as [`run`] does).
pub fn state_for(data_dir: PathBuf, demo: bool, kdf: KdfParams) -> AppState {
    let config_home = data_dir.join("config");
    let prefs_path = hearth_app::preferences::Preferences::path(&config_home);
    AppState {
        prefs: Arc::new(Mutex::new(hearth_app::preferences::Preferences::load(
            &prefs_path,
        ))),
        config_home,
        live: Arc::new(Mutex::new(Live::default())),
        store: Arc::new(Mutex::new(Session::new(data_dir.join("vault.hearth")))),
        preparing: Arc::default(),
        collecting: Arc::new(AtomicBool::new(false)),
        reader: Arc::default(),
        window_closed_at: Arc::default(),
        follower: Arc::default(),
        chosen: Arc::default(),
        save_dialog_stand_in: None,
        opened: Arc::default(),
        open_dialog_stand_in: None,
        probed: Arc::default(),
        finding: Arc::default(),
        test_ports: Vec::new(),
        auto_unlock: Arc::new(AtomicBool::new(true)),
        kdf,
        info: AppInfoDto {
            version: env!("CARGO_PKG_VERSION").to_string(),
            demo,
            source: if demo {
                "Demo meter (simulated)".to_string()
            } else {
                String::new()
            },
            data_dir: data_dir.display().to_string(),
            prefs_path: prefs_path.display().to_string(),
            auto_lock_seconds: None,
        },
    }
}

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("hearth-desktop: {msg}");
    std::process::exit(1)
}

/// Runs the app until the user quits.
pub fn run(options: Options) {
    let data_dir = if options.demo {
        demo_dir().unwrap_or_else(|e| fail(format!("cannot create a demo data directory: {e}")))
    } else {
        match dirs::data_dir() {
            Some(d) => d.join("hearth"),
            None => fail("no data directory (set XDG_DATA_HOME or HOME)"),
        }
    };
    // A demo has its own throwaway directory, so it never meets another Hearth.
    #[cfg(target_os = "linux")]
    let (show_requests, quitting) = if options.demo {
        (None, None)
    } else {
        match instance::claim(&data_dir, None, !options.minimized) {
            instance::Claim::First { requests, quitting } => (Some(requests), Some(quitting)),
            instance::Claim::Running => {
                eprintln!(
                    "hearth-desktop: Hearth is already running for {}",
                    data_dir.display()
                );
                std::process::exit(0)
            }
            instance::Claim::Alone(why) => {
                // No session bus is normal on a headless machine; say anything else.
                if !why.starts_with("no session bus") {
                    eprintln!("hearth-desktop: not checked for another Hearth: {why}");
                }
                (None, None)
            }
        }
    };
    let mut state = state_for(data_dir.clone(), options.demo, KdfParams::default());
    if let Some(config_home) = dirs::config_dir() {
        state.prefs = Arc::new(Mutex::new(hearth_app::preferences::Preferences::load(
            &hearth_app::preferences::Preferences::path(&config_home),
        )));
        state.info.prefs_path = hearth_app::preferences::Preferences::path(&config_home)
            .display()
            .to_string();
        state.config_home = config_home;
    }
    // End-to-end tests cannot drive the native save dialog: it "returns" files in this directory
    // (debug builds only: a release build always asks the user).
    #[cfg(debug_assertions)]
    {
        state.save_dialog_stand_in = std::env::var_os("HEARTH_TEST_SAVE_DIR").map(PathBuf::from);
        state.open_dialog_stand_in = std::env::var_os("HEARTH_TEST_OPEN_DIR").map(PathBuf::from);
        state.test_ports = std::env::var("HEARTH_TEST_PORTS")
            .map(|p| p.split(':').map(str::to_owned).collect())
            .unwrap_or_default();
    }
    // Tests shorten the idle time before auto-lock to seconds.
    state.info.auto_lock_seconds = std::env::var("HEARTH_AUTO_LOCK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|s| *s > 0);
    if options.demo {
        // The demo vault holds simulated data and is deleted on exit: the cheapest key
        // derivation the vault accepts keeps start-up instant.
        let vault_path = collector::lock(&state.store).path().to_path_buf();
        let mut vault =
            hearth_app::session::create(&vault_path, DEMO_PASSPHRASE, KdfParams::MINIMUM)
                .unwrap_or_else(|e| fail(format!("cannot create the demo vault: {e}")));
        if let Err(e) = hearth_app::Setting::Source.put(&mut vault, b"demo") {
            fail(format!("cannot set up the demo vault: {e}"));
        }
        if let Err(e) = collector::lock(&state.store).install(vault) {
            fail(format!("cannot open the demo vault: {e}"));
        }
        state
            .collecting
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }
    let (live, store, preparing) = (
        state.live.clone(),
        state.store.clone(),
        state.preparing.clone(),
    );
    let exit_store = state.store.clone();
    let exit_reader = state.reader.clone();
    let demo_days = options.demo_days;
    let demo = options.demo;
    let minimized = options.minimized;
    let app = setup(tauri::Builder::default(), state)
        .plugin(tauri_plugin_dialog::init())
        .setup(move |app| {
            tray::install(app)?;
            // Started minimised at login: collect in the tray (a vault kept in the OS keyring
            // opens by itself); the window opens from there.
            if !minimized {
                window::open(app.handle())?;
            } else if !demo {
                let handle = app.handle().clone();
                std::thread::spawn(move || {
                    if let Err(e) = commands::session::unlock_at_login(&handle) {
                        eprintln!("hearth-desktop: the keyring did not open the vault: {e}");
                    }
                });
            }
            #[cfg(target_os = "linux")]
            if let Some(requests) = show_requests {
                let app = app.handle().clone();
                // Each later start of Hearth for this directory brings the window up.
                std::thread::spawn(move || {
                    for () in requests {
                        let handle = app.clone();
                        let _ = app.run_on_main_thread(move || {
                            if let Err(e) = window::open(&handle) {
                                eprintln!("hearth-desktop: cannot open the window: {e}");
                            }
                        });
                    }
                });
            }
            if demo {
                collector::spawn_demo(
                    app.handle().clone(),
                    live,
                    store,
                    preparing,
                    hearth_meter_io::source::DEFAULT_DEMO_SEED,
                    demo_days,
                );
            }
            Ok(())
        })
        .build(tauri::generate_context!())
        .unwrap_or_else(|e| fail(e));
    // `run` ends the process itself when the user quits, so clean-up happens on `Exit`.
    app.run(move |_, event| match event {
        tauri::RunEvent::ExitRequested { code, api, .. } if window::keep_running(code) => {
            api.prevent_exit();
        }
        tauri::RunEvent::ExitRequested { .. } => {
            // Quitting: a second start from now on waits for this one to be gone.
            #[cfg(target_os = "linux")]
            if let Some(q) = &quitting {
                q.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
        tauri::RunEvent::Exit => {
            // The collection ends through its last checkpoint (a pulse sensor's register is
            // stored once more), then what the session holds since the last flush (up to
            // 10 s) reaches the disk.
            let running = collector::lock(&exit_reader).take();
            if let Some(running) = running {
                running.stop(std::time::Duration::from_secs(2));
            }
            if let Err(e) = collector::lock(&exit_store).lock() {
                eprintln!("hearth-desktop: the last readings were not stored: {e}");
            }
            if demo {
                let _ = std::fs::remove_dir_all(&data_dir);
            }
        }
        _ => {}
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::from_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn options() {
        assert_eq!(
            parse(&[]),
            Ok(Options {
                demo: false,
                demo_days: 90,
                minimized: false,
            })
        );
        assert_eq!(
            parse(&["--demo", "--demo-days", "7"]),
            Ok(Options {
                demo: true,
                demo_days: 7,
                minimized: false,
            })
        );
        assert!(parse(&["--minimized"]).is_ok_and(|o| o.minimized && !o.demo));
        assert!(parse(&["--demo-days"]).is_err());
        assert!(parse(&["--demo-days", "x"]).is_err());
        assert!(parse(&["--demo-days", "99999"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
    }
}
