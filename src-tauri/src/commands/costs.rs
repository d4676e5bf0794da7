//! Commands of the Costs and Tips screens: contracts, the cost report and the savings tips.

use super::*;

use crate::collector::{self, lock};
use crate::costs::{self, CostPeriod};
use crate::dto::{ContractDto, CostReportDto, TipDto};
use crate::error::{Code, ShellError};
use crate::state::AppState;
use hearth_insight::Lang;
use tauri::State;

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
pub async fn cost_report(
    state: State<'_, AppState>,
    period: String,
    contracts: Vec<String>,
) -> Result<CostReportDto, ShellError> {
    let p = CostPeriod::from_name(&period)
        .ok_or_else(|| ShellError::new(Code::BadRequest, format!("unknown period {period:?}")))?;
    let vault = state.reader()?;
    off_the_runtime(move || {
        let chosen = costs::load(&vault, &contracts)?;
        costs::report(&vault, &chosen, p, collector::now_unix())
    })
    .await
}

/// Savings tips over the last 12 months; `contracts` are ids, the first valid now is current.
/// `lang` (`en`, `nl`, `de`; English when absent) words the sentences and evidence.
#[tauri::command]
pub async fn tips(
    state: State<'_, AppState>,
    contracts: Vec<String>,
    lang: Option<String>,
) -> Result<Vec<TipDto>, ShellError> {
    let lang = Lang::from_code(lang.as_deref().unwrap_or("en"));
    let vault = state.reader()?;
    off_the_runtime(move || {
        let chosen = costs::load(&vault, &contracts)?;
        costs::tips(&vault, &chosen, collector::now_unix(), lang)
    })
    .await
}
