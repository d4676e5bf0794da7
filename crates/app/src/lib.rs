//! Hearth's use cases, the one place both faces share: the `hearth` CLI and the desktop app
//! parse their input, call in here, and present what comes back. Plain Rust with typed
//! errors: no Tauri, no clap, no printing.
//!
//! Dependency direction: `app` wires `meter-io` (sources), `vault` (the sealed store),
//! `insight` (costs, tips, words) and `charts` (pictures) into use cases; nothing below it
//! knows it exists.

pub mod backup;
pub mod bounded_read;
pub mod collect;
pub mod contracts;
pub mod costs;
pub mod demo;
pub mod export;
pub mod follow;
pub mod held;
pub mod history;
pub mod import;
pub mod live;
pub mod meter_keys;
pub mod passphrase;
mod pending;
pub mod period;
pub mod preferences;
pub mod secrets;
pub mod service;
pub mod session;
pub mod settings;
pub mod setup;
pub mod sync;
pub mod tips;
pub mod usage;
pub mod verify;

pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
/// The one wall clock (defined in the IO crate, the edge that reads it).
pub use hearth_meter_io::clock;
pub use session::{Access, OpenError, Session, Status};
pub use settings::Setting;
