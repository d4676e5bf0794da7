//! Costs and tips: feeds the vault's quarter-hour rows to `hearth_insight` under the preset or
//! stored contracts (vault settings `tariff/<name>` holding contract TOML, as the CLI does).

use crate::dto::{ContractCostDto, ContractDto, CostReportDto, TipDto};
use crate::error::{Code, ShellError};
use hearth_insight::Lang;
use hearth_insight::usage::SLOT_S;
use hearth_insight::{Contract, Money, Tip, TipKind, Usage};
use hearth_meter::MeterTime;
use hearth_vault::{Vault, VaultError};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::path::Path;

/// Prefix of the vault settings that hold contracts.
pub const TARIFF_PREFIX: &str = "tariff/";

/// Prefix of preset ids.
pub const PRESET_PREFIX: &str = "preset:";

/// The example contracts shipped in `assets/tariffs/` (the ones that need no price file).
pub const PRESETS: &[(&str, &str)] = &[
    ("nl-flat", include_str!("../../assets/tariffs/nl-flat.toml")),
    (
        "nl-day-night",
        include_str!("../../assets/tariffs/nl-day-night.toml"),
    ),
    (
        "be-day-night-capacity",
        include_str!("../../assets/tariffs/be-day-night-capacity.toml"),
    ),
    ("uk-flat", include_str!("../../assets/tariffs/uk-flat.toml")),
    (
        "uk-economy7",
        include_str!("../../assets/tariffs/uk-economy7.toml"),
    ),
    (
        "no-top3-steps",
        include_str!("../../assets/tariffs/no-top3-steps.toml"),
    ),
];

/// A period the Costs screen offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CostPeriod {
    /// From the first of this month to now.
    ThisMonth,
    /// The whole previous month.
    LastMonth,
    /// From this date a year ago to now.
    Last12Months,
}

impl CostPeriod {
    /// `this-month`, `last-month`, `last-12-months`.
    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "this-month" => Some(CostPeriod::ThisMonth),
            "last-month" => Some(CostPeriod::LastMonth),
            "last-12-months" => Some(CostPeriod::Last12Months),
            _ => None,
        }
    }

    /// `[from, to)` in unix seconds for the moment `now` in zone `tz`. "Now" is rounded up to
    /// the next quarter hour so the current one counts.
    pub fn range(self, now: i64, tz: &TimeZone) -> Result<(i64, i64), ShellError> {
        let bad = || ShellError::new(Code::BadRequest, "That date is out of range.");
        let end = (now.div_euclid(SLOT_S) + 1) * SLOT_S;
        let today = Timestamp::from_second(now)
            .map_err(|_| bad())?
            .to_zoned_datetime(tz.clone())
            .date();
        let first = today.first_of_month();
        let midnight = |d: jiff::civil::Date| -> Result<i64, ShellError> {
            Ok(d.to_zoned_datetime(tz.clone())
                .map_err(|_| bad())?
                .timestamp()
                .as_second())
        };
        Ok(match self {
            CostPeriod::ThisMonth => (midnight(first)?, end),
            CostPeriod::LastMonth => {
                let prev = first
                    .checked_sub(jiff::Span::new().months(1))
                    .map_err(|_| bad())?;
                (midnight(prev)?, midnight(first)?)
            }
            CostPeriod::Last12Months => {
                let ago = today.saturating_sub(jiff::Span::new().years(1));
                (midnight(ago)?, end)
            }
        })
    }
}

/// Streams the vault's quarter hours of `[from, to)` into usage with the function `hearth
/// report` uses ([`Usage::from_vault`]): the first and last quarter hour of the data count only
/// the seconds their readings cover; a damaged chunk is skipped and its quarter hours count as
/// missing.
pub fn usage(vault: &Vault, from: i64, to: i64) -> Result<Usage, VaultError> {
    let ts = |s: i64| Timestamp::from_second(s).unwrap_or(Timestamp::UNIX_EPOCH);
    Usage::from_vault(vault, ts(from), ts(to))
}

/// Parses contract TOML; the error names the line.
pub fn parse(text: &str) -> Result<Contract, ShellError> {
    Contract::parse(text, Path::new("."))
        .map_err(|e| ShellError::new(Code::BadRequest, e.to_string()))
}

/// The presets, then the contracts stored in the vault (each with its parse error, if any).
pub fn list(vault: &Vault) -> Result<Vec<ContractDto>, ShellError> {
    let mut out: Vec<ContractDto> = PRESETS
        .iter()
        .map(|(id, text)| dto(format!("{PRESET_PREFIX}{id}"), false, text))
        .collect();
    for name in vault
        .setting_names()?
        .into_iter()
        .filter(|n| n.starts_with(TARIFF_PREFIX))
    {
        if let Some(bytes) = vault.get_setting(&name)? {
            out.push(dto(name, true, &String::from_utf8_lossy(&bytes)));
        }
    }
    Ok(out)
}

fn dto(id: String, stored: bool, text: &str) -> ContractDto {
    let (name, error) = match parse(text) {
        Ok(c) => (c.name, None),
        Err(e) => (id.clone(), Some(e.message)),
    };
    ContractDto {
        id,
        name,
        stored,
        toml: text.to_string(),
        error,
    }
}

/// The text of a preset or stored contract.
fn text_of(vault: &Vault, id: &str) -> Result<String, ShellError> {
    if let Some(p) = id.strip_prefix(PRESET_PREFIX) {
        return PRESETS
            .iter()
            .find(|(n, _)| *n == p)
            .map(|(_, t)| (*t).to_string())
            .ok_or_else(|| unknown(id));
    }
    if id.starts_with(TARIFF_PREFIX) {
        return vault
            .get_setting(id)?
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .ok_or_else(|| unknown(id));
    }
    Err(unknown(id))
}

fn unknown(id: &str) -> ShellError {
    ShellError::new(Code::BadRequest, format!("There is no contract {id:?}."))
}

/// Stores a copy of a preset (or another contract) as the user's own, so it becomes the
/// contract costs are priced with; returns the stored id.
pub fn adopt(vault: &mut Vault, id: &str) -> Result<String, ShellError> {
    let text = text_of(vault, id)?;
    save(vault, &text)
}

/// Loads contracts by id, in the order given.
pub fn load(vault: &Vault, ids: &[String]) -> Result<Vec<Contract>, ShellError> {
    ids.iter().map(|id| parse(&text_of(vault, id)?)).collect()
}

/// Checks contract TOML and stores it under `tariff/<slug of its name>`; returns its id.
pub fn save(vault: &mut Vault, text: &str) -> Result<String, ShellError> {
    let c = parse(text)?;
    let slug: String = c
        .name
        .chars()
        .map(|ch| {
            if ch.is_alphanumeric() {
                ch.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let id = format!(
        "{TARIFF_PREFIX}{}",
        if slug.is_empty() { "contract" } else { &slug }
    );
    vault.put_setting(&id, text.as_bytes())?;
    Ok(id)
}

/// kWh with 3 decimals from mWh (rounded to the Wh).
pub fn kwh(mwh: i64) -> f64 {
    let wh = (mwh + if mwh >= 0 { 500 } else { -500 }) / 1000;
    wh as f64 / 1000.0
}

fn money(m: Money) -> f64 {
    m.to_f64_cents()
}

/// The cost report of `[from, to)` under `contracts`.
pub fn report(
    vault: &Vault,
    contracts: &[Contract],
    from: i64,
    to: i64,
) -> Result<CostReportDto, ShellError> {
    let u = usage(vault, from, to)?;
    let ts = |s: i64| Timestamp::from_second(s).unwrap_or(Timestamp::UNIX_EPOCH);
    let r = hearth_insight::report(&u, contracts, ts(from), ts(to))
        .map_err(|e| ShellError::new(Code::BadRequest, e.to_string()))?;
    let tz = vault.time_zone();
    Ok(CostReportDto {
        from: MeterTime::in_zone(from, tz).to_string(),
        to: MeterTime::in_zone(to, tz).to_string(),
        import_kwh: kwh(r.import_mwh),
        export_kwh: kwh(r.export_mwh),
        estimated_kwh: kwh(r.estimated_mwh),
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
                    vat: money(k.vat),
                    total: money(k.total),
                }
            })
            .collect(),
    })
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
    let (from, to) = CostPeriod::Last12Months.range(now, &tz)?;
    let u = usage(vault, from, to)?;
    let to_ts = Timestamp::from_second(to).unwrap_or(Timestamp::UNIX_EPOCH);
    Ok(hearth_insight::tips::tips(&u, contracts, &[], to_ts, &tz)
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
    fn every_preset_parses() {
        for (id, text) in PRESETS {
            let c = parse(text).unwrap_or_else(|e| panic!("{id}: {}", e.message));
            assert!(c.name.contains("(example)"), "{id}: {}", c.name);
        }
    }

    #[test]
    fn a_broken_contract_names_its_line() {
        let e = parse("name = \"x\"\ncurrency = \"EUR\"\nbogus = [\n").unwrap_err();
        assert_eq!(e.code, Code::BadRequest);
        assert!(e.message.contains("line"), "{}", e.message);
    }

    #[test]
    fn periods() {
        let tz = TimeZone::get("Europe/Amsterdam").expect("tz");
        // 2026-03-15T10:07:00Z = 11:07 CET.
        let now = 1_773_569_220;
        // 2026-03-01T00:00+01:00 = 1_772_319_600; next quarter hour after now = 10:15Z.
        assert_eq!(
            CostPeriod::ThisMonth.range(now, &tz).expect("range"),
            (1_772_319_600, 1_773_569_700)
        );
        // 2026-02-01T00:00+01:00 = 1_769_900_400.
        assert_eq!(
            CostPeriod::LastMonth.range(now, &tz).expect("range"),
            (1_769_900_400, 1_772_319_600)
        );
        // 2025-03-15T00:00+01:00 = 1_741_993_200.
        assert_eq!(
            CostPeriod::Last12Months.range(now, &tz).expect("range"),
            (1_741_993_200, 1_773_569_700)
        );
        assert_eq!(CostPeriod::from_name("bogus"), None);
    }
}
