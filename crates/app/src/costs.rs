//! Costs for a period: the household's energy and what it cost under each chosen contract,
//! from the vault's quarter hours. The desktop's Costs screen (this month, last month, the
//! last 12 months in the vault's time zone) and `hearth report` both price through here.
//! Gas comes with it: [`Report::gas_cm3`] is the gas used, and each contract's
//! [`Cost::gas`](hearth_insight::Cost::gas) what its `[gas]` makes of it (inside `vat` and
//! `total`; [`Cost::electricity_total`](hearth_insight::Cost::electricity_total) is the rest).

use crate::usage;
use hearth_insight::usage::SLOT_S;
use hearth_insight::{Contract, PricingError, Report, UsageStats};
use hearth_vault::{Vault, VaultError};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// Why costs cannot be computed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CostsError {
    /// The vault could not be read.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// A contract cannot price the period (e.g. a dynamic price is missing).
    #[error(transparent)]
    Pricing(#[from] PricingError),
    /// A date outside what the calendar can hold.
    #[error("That date is out of range.")]
    OutOfRange,
}

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

    /// `[from, to)` for the moment `now` in zone `tz`. "Now" is rounded up to the next quarter
    /// hour so the current one counts.
    pub fn range(
        self,
        now: Timestamp,
        tz: &TimeZone,
    ) -> Result<(Timestamp, Timestamp), CostsError> {
        let now_s = now.as_second();
        let end = Timestamp::from_second((now_s.div_euclid(SLOT_S) + 1) * SLOT_S)
            .map_err(|_| CostsError::OutOfRange)?;
        let today = now.to_zoned_datetime(tz.clone()).date();
        let first = today.first_of_month();
        let midnight = |d: Date| local_midnight(d, tz).ok_or(CostsError::OutOfRange);
        Ok(match self {
            CostPeriod::ThisMonth => (midnight(first)?, end),
            CostPeriod::LastMonth => {
                let prev = first
                    .checked_sub(jiff::Span::new().months(1))
                    .map_err(|_| CostsError::OutOfRange)?;
                (midnight(prev)?, midnight(first)?)
            }
            CostPeriod::Last12Months => {
                let ago = today.saturating_sub(jiff::Span::new().years(1));
                (midnight(ago)?, end)
            }
        })
    }
}

pub use hearth_meter::time::local_midnight;

/// A cost report and what the readings behind it were like.
#[derive(Debug, Clone)]
pub struct CostReport {
    /// Energy and costs, one entry per contract in the order given.
    pub report: Report,
    /// Damaged parts skipped, gaps, resets: what a front end may warn about.
    pub stats: UsageStats,
}

/// The energy and costs of `[from, to)` under `contracts`, from the vault's quarter hours.
pub fn report(
    vault: &Vault,
    contracts: &[Contract],
    from: Timestamp,
    to: Timestamp,
) -> Result<CostReport, CostsError> {
    let usage = usage::from_vault(vault, from, to)?;
    let report = hearth_insight::report(&usage, contracts, from, to)?;
    Ok(CostReport {
        report,
        stats: usage.stats,
    })
}

/// kWh with 3 decimals from mWh (rounded to the Wh), as both faces show energy.
pub fn kwh(mwh: i64) -> f64 {
    let wh = (mwh + if mwh >= 0 { 500 } else { -500 }) / 1000;
    wh as f64 / 1000.0
}

/// m³ with 3 decimals from cm³ (rounded to the dm³), as both faces show gas.
pub fn m3(cm3: i64) -> f64 {
    // A m³ is a million cm³ as a kWh is a million mWh: the same rounding.
    kwh(cm3)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    #[test]
    fn periods() {
        let tz = TimeZone::get("Europe/Amsterdam").expect("tz");
        // 2026-03-15T10:07:00Z = 11:07 CET.
        let now = ts(1_773_569_220);
        // 2026-03-01T00:00+01:00 = 1_772_319_600; next quarter hour after now = 10:15Z.
        assert_eq!(
            CostPeriod::ThisMonth.range(now, &tz).expect("range"),
            (ts(1_772_319_600), ts(1_773_569_700))
        );
        // 2026-02-01T00:00+01:00 = 1_769_900_400.
        assert_eq!(
            CostPeriod::LastMonth.range(now, &tz).expect("range"),
            (ts(1_769_900_400), ts(1_772_319_600))
        );
        // 2025-03-15T00:00+01:00 = 1_741_993_200.
        assert_eq!(
            CostPeriod::Last12Months.range(now, &tz).expect("range"),
            (ts(1_741_993_200), ts(1_773_569_700))
        );
        assert_eq!(CostPeriod::from_name("bogus"), None);
        assert_eq!(
            CostPeriod::from_name("last-month"),
            Some(CostPeriod::LastMonth)
        );
    }

    #[test]
    fn kwh_rounds_to_the_wh() {
        assert_eq!(kwh(1_234_499), 1.234);
        assert_eq!(kwh(1_234_500), 1.235);
        assert_eq!(kwh(-1_234_500), -1.235);
        assert_eq!(kwh(0), 0.0);
        assert_eq!(m3(2_345_500), 2.346);
        assert_eq!(m3(999), 0.001);
    }
}
