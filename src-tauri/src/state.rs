//! What the shell keeps between commands: the live view, the vault, and how the app was started.

use crate::dto::AppInfoDto;
use hearth_app::Session;
use hearth_app::live::Live;
use hearth_app::preferences::Preferences;
use hearth_vault::KdfParams;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};

/// Demo history generation progress: (days done, days in total).
pub type Progress = Arc<Mutex<Option<(u32, u32)>>>;

/// State shared by commands and the collector.
pub struct AppState {
    /// Latest reading and recent power.
    pub live: Arc<Mutex<Live>>,
    /// The vault (locked or open).
    pub store: Arc<Mutex<Session>>,
    /// Demo history being prepared.
    pub preparing: Progress,
    /// Set once a collector runs (there is only ever one).
    pub collecting: Arc<AtomicBool>,
    /// The task reading a real meter source, when one runs (aborted to switch sources).
    pub reader: Arc<Mutex<Option<crate::collector::Collecting>>>,
    /// Key-derivation cost for new vaults and passphrase changes.
    pub kdf: KdfParams,
    /// How the app was started.
    pub info: AppInfoDto,
    /// The user's config directory (`$XDG_CONFIG_HOME`): preferences and the autostart entry.
    pub config_home: PathBuf,
    /// Language, theme and auto-lock (readable while locked).
    pub prefs: Arc<Mutex<Preferences>>,
    /// The OS keyring may still open the vault by itself: once per run, at start (see
    /// [`crate::commands::session::take_auto_unlock`]).
    pub auto_unlock: Arc<AtomicBool>,
    /// Files chosen in the save dialog, held for the page's tokens.
    pub chosen: Arc<Mutex<hearth_app::export::Choices>>,
    /// A directory standing in for the save dialog (`HEARTH_TEST_SAVE_DIR`, end-to-end tests;
    /// debug builds only).
    pub save_dialog_stand_in: Option<PathBuf>,
    /// Files chosen in the open dialog or dropped on the window, held for the page's tokens.
    pub opened: Arc<Mutex<hearth_app::held::Held<Vec<PathBuf>>>>,
    /// A directory standing in for the open dialog (`HEARTH_TEST_OPEN_DIR`, end-to-end tests;
    /// debug builds only): its files are the ones "chosen".
    pub open_dialog_stand_in: Option<PathBuf>,
    /// What the last meter search found (an encrypted meter's frame, for its key check).
    pub probed: Arc<Mutex<Vec<hearth_app::setup::PortResult>>>,
    /// Set to end a running meter search.
    pub finding: Arc<AtomicBool>,
    /// The ports a meter search probes instead of this machine's (`HEARTH_TEST_PORTS`,
    /// end-to-end tests with pseudo-terminal meters; debug builds only); empty: all.
    pub test_ports: Vec<String>,
    /// When the main window was last closed, while it stays closed (see [`crate::window`]).
    pub window_closed_at: Arc<Mutex<Option<std::time::Instant>>>,
    /// Which follower of another process's writing may run (see
    /// [`crate::collector::spawn_follower`]): each start counts one up, and an older one ends.
    pub follower: Arc<AtomicU64>,
}

impl AppState {
    /// A read-only handle on the open vault, its checkpoint brought up to date first: history,
    /// costs, tips and exports read through it off the async runtime without holding the
    /// session, so the collector keeps storing (and the Now view keeps moving) meanwhile.
    pub fn reader(&self) -> Result<hearth_vault::Vault, crate::error::ShellError> {
        let mut store = crate::collector::lock(&self.store);
        let vault = store
            .vault_mut()
            .ok_or_else(crate::error::ShellError::locked)?;
        // Beside a collector the vault is read-only: the collector checkpoints.
        if vault.is_writer() {
            vault.flush()?;
        }
        Ok(vault.reader()?)
    }

    /// The idle time after which the app locks itself, `None` for never: the test override in
    /// [`AppInfoDto::auto_lock_seconds`], else the user's preference.
    pub fn auto_lock_after(&self) -> Option<std::time::Duration> {
        let seconds = match self.info.auto_lock_seconds {
            Some(s) => u64::from(s),
            None => u64::from(crate::collector::lock(&self.prefs).auto_lock_minutes) * 60,
        };
        (seconds > 0).then(|| std::time::Duration::from_secs(seconds))
    }
}
