//! Data sent to the UI. Domain types stay plain Rust; these serializable shapes are built from
//! them by hand here, so the IPC format changes only when this file does. `ui/src/dto.ts` is
//! generated from these types (feature `ts`, ts-rs) by `tests/dto_ts.rs`, which fails on drift.

use serde::Serialize;

/// The latest reading (with the values dropped as implausible), for the Now screen and the
/// `live` event (read back by the tray).
pub use hearth_app::live::{
    LiveDropped as DroppedDto, LivePhase as PhaseDto, LiveReading as LiveDto,
};

/// What the app is running with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AppInfoDto {
    /// App version.
    pub version: String,
    /// Started with `--demo`.
    pub demo: bool,
    /// Where readings come from, for a human.
    pub source: String,
    /// The data directory in use.
    pub data_dir: String,
    /// The preferences file (language, theme, auto-lock), for the privacy page.
    pub prefs_path: String,
    /// Idle seconds before auto-lock when a test shortened it (`HEARTH_AUTO_LOCK_SECONDS`).
    pub auto_lock_seconds: Option<u32>,
}

/// The window preferences, and whether Hearth starts at login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PreferencesDto {
    /// `en`, `nl`, `de`, or empty to follow the system.
    pub language: String,
    /// `system`, `light` or `dark`.
    pub theme: String,
    /// Idle minutes before the app locks itself (0 = never).
    pub auto_lock_minutes: u32,
    /// An autostart entry starts Hearth (in the tray) at login.
    pub start_at_login: bool,
}

// The history page's shape is the history use case's own (it serializes exactly as the window
// expects); the shell hands it over as is.
pub use hearth_app::history::{
    DurationPoint as DurationPointDto, HistoryPage as HistoryDto, HistoryRow as HistoryRowDto,
};

// A merged sync folder's shape is the sync use case's own.
pub use hearth_app::sync::{Merged as MergedDto, MergedFile as MergedFileDto};

/// Where the vault stands, for the start-up screen choice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StatusDto {
    /// `setup`, `locked` or `open`.
    #[cfg_attr(feature = "ts", ts(type = r#""setup" | "locked" | "open""#))]
    pub vault: &'static str,
    /// The vault file.
    pub vault_path: String,
    /// The vault can also be opened with a key kept in the OS keyring.
    pub keyring: bool,
    /// Demo history being prepared: days done and total, when it is.
    pub preparing: Option<(u32, u32)>,
    /// Readings waiting in memory for an unlock.
    pub pending: usize,
    /// Another process (`hearth collect`) writes the vault: the app reads beside it, follows
    /// its readings, and takes over writing when it stops.
    pub following: bool,
    /// Readings stored since the lock, sealed in the vault file so that only the unlocked
    /// vault reads them (counted when sealed, at least every 10 s).
    pub stored_locked: u64,
    /// What the unlock took in of the readings stored sealed while locked (by this app or by
    /// `hearth collect --write-only`); `None` when locked, or when nothing waited.
    pub took_in: Option<TookInDto>,
}

/// Readings stored write-only that an unlock opened and stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TookInDto {
    /// Readings opened.
    pub readings: u64,
    /// Of those, readings the vault did not have yet.
    pub added: u64,
    /// Blocks refused (changed or foreign), each with why.
    pub refused: Vec<String>,
}

impl TookInDto {
    /// The shape of what a writer open took in; `None` when nothing waited.
    pub fn of(report: &hearth_vault::InboxReport) -> Option<Self> {
        (report.readings > 0 || !report.refused.is_empty()).then(|| TookInDto {
            readings: report.readings,
            added: report.added,
            refused: report.refused.clone(),
        })
    }
}

/// A finished CSV export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExportDto {
    /// Data lines written (the header not counted).
    pub rows: u64,
    /// The file written.
    pub path: String,
}

/// A file chosen in the save dialog: the token `save_chart` or `export_csv` takes, and its path.
pub use hearth_app::export::Chosen as SaveChoiceDto;

/// How far an export has got.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExportProgressDto {
    /// Rows written so far.
    pub rows: u64,
    /// Share of the time range done, 0 to 1.
    pub fraction: f64,
}

/// A contract the Costs screen can price with: a shipped preset or one stored in the vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ContractDto {
    /// `preset:nl-flat` or the vault setting name `tariff/<name>`.
    pub id: String,
    /// The contract's own name (the id when it does not parse).
    pub name: String,
    /// Stored in the vault (editable) rather than shipped.
    pub stored: bool,
    /// The contract TOML.
    pub toml: String,
    /// Why it cannot be used, with the line, if it cannot.
    pub error: Option<String>,
}

/// One contract's bill for the period (amounts in its currency, rounded to cents).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ContractCostDto {
    /// Contract name.
    pub name: String,
    /// Currency code.
    pub currency: String,
    /// False when the contract was not valid in any part of the period.
    pub applies: bool,
    /// Energy at its prices.
    pub energy: f64,
    /// Energy tax.
    pub tax: f64,
    /// Fixed charges.
    pub fixed: f64,
    /// Capacity (demand) charges.
    pub capacity: f64,
    /// Credit for exported energy (subtracted).
    pub export_credit: f64,
    /// Gas: m³ at the contract's gas price and tax, and its gas standing charges (0 for a
    /// contract without `[gas]`).
    pub gas: f64,
    /// VAT.
    pub vat: f64,
    /// What the bill comes to.
    pub total: f64,
}

/// The Costs screen: energy in a period and its cost under each chosen contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CostReportDto {
    /// Period start (RFC 3339, the vault's zone).
    pub from: String,
    /// Period end, exclusive.
    pub to: String,
    /// Imported energy (kWh).
    pub import_kwh: f64,
    /// Exported energy (kWh).
    pub export_kwh: f64,
    /// Of the import, spread over gaps in the readings (kWh).
    pub estimated_kwh: f64,
    /// Gas used in the period (m³), from the gas meter's register.
    pub gas_m3: f64,
    /// Hours of the period with no readings at all.
    pub missing_hours: f64,
    /// One entry per contract, in the order asked.
    pub contracts: Vec<ContractCostDto>,
}

/// One savings tip.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TipDto {
    /// Kind of advice (`base_load`, ...).
    pub kind: String,
    /// One or two sentences, in the language the window asked for.
    pub summary: String,
    /// Energy involved per year (kWh).
    pub kwh_per_year: f64,
    /// Money per year under the current contract, if one is known.
    pub money_per_year: Option<f64>,
    /// Currency of `money_per_year`.
    pub currency: Option<String>,
    /// How sure the tip is, 0..1.
    pub confidence: f64,
    /// The numbers behind it, as short lines in the same language.
    pub evidence: Vec<String>,
}

/// A port the meter search probed, a step of the search, and what a meter shows before it is
/// saved: the setup use case's own shapes.
pub use hearth_app::setup::{
    PortView as FoundPortDto, Preview as PreviewDto, ProbeStep as ProbeStepDto,
};

/// Files chosen in the open dialog or dropped on the window: the token that reads them, once,
/// and their names to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OpenChoiceDto {
    /// Given back to import or restore them.
    pub token: String,
    /// The files' names.
    pub names: Vec<String>,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportDto {
    /// Readings new to the vault.
    pub added: u64,
    /// Readings the vault already had (skipped).
    pub duplicates: u64,
    /// Interval readings among them (supplier downloads): energy spread over a range.
    pub estimated: u64,
    /// Frames rejected and lines unreadable.
    pub refused: u64,
    /// Implausible values dropped from readings.
    pub implausible: u64,
    /// Files of which nothing could be used: `name: why`.
    pub unusable: Vec<String>,
}

/// A backup written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BackupDto {
    /// Hours of readings in it.
    pub hours: u64,
    /// Settings in it.
    pub settings: u64,
    /// The file written.
    pub path: String,
}

/// A backup merged into the vault.
pub use hearth_app::backup::Restored as RestoreDto;

/// What the vault check found.
pub use hearth_app::verify::Verdict as VerifyDto;
