//! What the shell keeps between commands: the live view, the vault, and how the app was started.

use crate::dto::AppInfoDto;
use crate::live::Live;
use crate::store::Store;
use hearth_vault::KdfParams;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

/// Demo history generation progress: (days done, days in total).
pub type Progress = Arc<Mutex<Option<(u32, u32)>>>;

/// State shared by commands and the collector.
pub struct AppState {
    /// Latest reading and recent power.
    pub live: Arc<Mutex<Live>>,
    /// The vault (locked or open).
    pub store: Arc<Mutex<Store>>,
    /// Demo history being prepared.
    pub preparing: Progress,
    /// Set once a collector runs (there is only ever one).
    pub collecting: Arc<AtomicBool>,
    /// The task reading a real meter source, when one runs (aborted to switch sources).
    pub reader: Arc<Mutex<Option<tauri::async_runtime::JoinHandle<()>>>>,
    /// Key-derivation cost for new vaults and passphrase changes.
    pub kdf: KdfParams,
    /// How the app was started.
    pub info: AppInfoDto,
}
