//! Costs and tips for the window: the contract store, cost reports and tips of `hearth_app`
//! (the same functions `hearth report` and `hearth tips` call), turned into the DTOs the UI
//! reads and `{code, message}` errors.

use crate::dto::{ContractCostDto, ContractDto, CostReportDto, TipDto};
use crate::error::{Code, ShellError};
use hearth_app::contracts::{self, ContractsError};
use hearth_app::costs::{CostsError, kwh, m3};
use hearth_insight::{Contract, Lang, Money, PriceFiles, Report, Tip, TipKind};
use hearth_meter::MeterTime;
use hearth_vault::Vault;
use jiff::Timestamp;
use jiff::tz::TimeZone;

pub use hearth_app::costs::CostPeriod;

impl From<ContractsError> for ShellError {
    fn from(e: ContractsError) -> Self {
        match e {
            ContractsError::Vault(v) => v.into(),
            other => ShellError::new(Code::BadRequest, other.to_string()),
        }
    }
}

impl From<CostsError> for ShellError {
    fn from(e: CostsError) -> Self {
        match e {
            CostsError::Vault(v) => v.into(),
            other => ShellError::new(Code::BadRequest, other.to_string()),
        }
    }
}

/// The presets, then the contracts stored in the vault (each with its error, if any).
pub fn list(vault: &Vault) -> Result<Vec<ContractDto>, ShellError> {
    Ok(contracts::list(vault)?
        .into_iter()
        .map(|c| ContractDto {
            id: c.id,
            name: c.name,
            stored: c.stored,
            toml: c.toml,
            error: c.error,
        })
        .collect())
}

/// Stores a copy of a preset (or another contract) as the user's own, so it becomes the
/// contract costs are priced with; returns the stored id.
pub fn adopt(vault: &mut Vault, id: &str) -> Result<String, ShellError> {
    Ok(contracts::adopt(vault, id)?)
}

/// Loads contracts by id, in the order given.
pub fn load(vault: &Vault, ids: &[String]) -> Result<Vec<Contract>, ShellError> {
    Ok(contracts::load(vault, ids)?)
}

/// Checks contract TOML and stores it under `tariff/<slug of its name>`; returns its id. The
/// window sends text only: a dynamic contract keeps the price files already stored with it.
pub fn save(vault: &mut Vault, text: &str) -> Result<String, ShellError> {
    Ok(contracts::save(vault, text, &PriceFiles::new())?)
}

fn money(m: Money) -> f64 {
    m.to_f64_cents()
}

fn timestamp(unix: i64) -> Result<Timestamp, ShellError> {
    Timestamp::from_second(unix).map_err(|_| CostsError::OutOfRange.into())
}

/// The cost report of `period` at the moment `now` (the vault's time zone) under `contracts`.
pub fn report(
    vault: &Vault,
    contracts: &[Contract],
    period: CostPeriod,
    now: i64,
) -> Result<CostReportDto, ShellError> {
    let (from, to) = period.range(timestamp(now)?, vault.time_zone())?;
    let r = hearth_app::costs::report(vault, contracts, from, to)?.report;
    Ok(report_dto(&r, vault.time_zone()))
}

/// The report for the window, times in `tz`.
fn report_dto(r: &Report, tz: &TimeZone) -> CostReportDto {
    CostReportDto {
        from: MeterTime::in_zone(r.from, tz).to_string(),
        to: MeterTime::in_zone(r.to, tz).to_string(),
        import_kwh: kwh(r.import_mwh),
        export_kwh: kwh(r.export_mwh),
        estimated_kwh: kwh(r.estimated_mwh),
        gas_m3: m3(r.gas_cm3),
        missing_hours: r.missing_s as f64 / 3600.0,
        contracts: r
            .contracts
            .iter()
            .map(|c| {
                let k = &c.cost;
                ContractCostDto {
                    name: c.name.clone(),
                    currency: c.currency.clone(),
                    applies: k.priced.0 < k.priced.1,
                    energy: money(k.energy),
                    tax: money(k.tax),
                    fixed: money(k.fixed),
                    capacity: money(k.capacity),
                    export_credit: money(k.export_credit),
                    gas: money(k.gas),
                    vat: money(k.vat),
                    total: money(k.total),
                }
            })
            .collect(),
    }
}

/// Savings tips over the year up to `now` with `contracts` (the first valid now is current),
/// worded in `lang`.
pub fn tips(
    vault: &Vault,
    contracts: &[Contract],
    now: i64,
    lang: Lang,
) -> Result<Vec<TipDto>, ShellError> {
    let tz = vault.time_zone().clone();
    let (from, to) = hearth_app::tips::window(timestamp(now)?, &tz)?;
    Ok(hearth_app::tips::tips(vault, contracts, from, to, &tz)?
        .tips
        .into_iter()
        .map(|t| tip_dto(t, lang, &tz))
        .collect())
}

/// One tip for the window: its sentences and evidence lines in `lang`, times in `tz`.
pub fn tip_dto(t: Tip, lang: Lang, tz: &TimeZone) -> TipDto {
    let e = &t.evidence;
    let mut evidence = Vec::new();
    if let Some(s) = e.since {
        evidence.push(lang.tip_since(s));
    }
    if let Some(w) = e.watts {
        evidence.push(lang.tip_watts(w));
    }
    if !e.times.is_empty() {
        let times: Vec<MeterTime> = e
            .times
            .iter()
            .take(5)
            .map(|u| MeterTime::in_zone(*u, tz))
            .collect();
        evidence.push(lang.tip_times(&times));
    }
    let currency = t.currency.as_deref().unwrap_or_default();
    for c in &e.contracts {
        evidence.push(lang.tip_contract(&c.name, c.per_year, currency));
    }
    if !e.series.is_empty() {
        // Solar's series is energy exported per hour of the day (Wh); the others are power (W).
        let unit = if t.kind == TipKind::Solar { "Wh" } else { "W" };
        let s: Vec<String> = e
            .series
            .iter()
            .map(|(l, v)| lang.tip_point(l, *v, unit))
            .collect();
        evidence.push(s.join(" · "));
    }
    TipDto {
        kind: t.kind.name().to_string(),
        summary: lang.tip_summary(&t.message),
        kwh_per_year: kwh(t.wh_per_year.saturating_mul(1000)),
        money_per_year: t.money_per_year.map(money),
        currency: t.currency,
        confidence: t.confidence,
        evidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_contract_names_its_line() {
        let e: ShellError = ContractsError::from(
            Contract::parse("name = \"x\"\ncurrency = \"EUR\"\nbogus = [\n").unwrap_err(),
        )
        .into();
        assert_eq!(e.code, Code::BadRequest);
        assert!(e.message.contains("line"), "{}", e.message);
    }

    #[test]
    fn unknown_contracts_and_dates_are_bad_requests() {
        let e: ShellError = ContractsError::Unknown("preset:nope".into()).into();
        assert_eq!(
            e,
            ShellError::new(Code::BadRequest, "There is no contract \"preset:nope\".")
        );
        let e: ShellError = CostsError::OutOfRange.into();
        assert_eq!(
            e,
            ShellError::new(Code::BadRequest, "That date is out of range.")
        );
    }
}
