//! Savings tips from the vault: the last 12 months up to now (or a chosen period), under the
//! household's contracts (the first valid now is the current one). The desktop's Tips screen
//! and `hearth tips` both look through here; each words the tips in the user's language
//! with [`hearth_insight::Lang`].

use crate::costs::{CostPeriod, CostsError};
use crate::usage;
use hearth_insight::{Contract, Tip, UsageStats};
use hearth_vault::Vault;
use jiff::Timestamp;
use jiff::tz::TimeZone;

/// The period tips look at by default for the moment `now` in zone `tz`: from midnight a
/// year ago to the end of the current quarter hour.
pub fn window(now: Timestamp, tz: &TimeZone) -> Result<(Timestamp, Timestamp), CostsError> {
    CostPeriod::Last12Months.range(now, tz)
}

/// Tips found and what the readings behind them were like.
#[derive(Debug, Clone)]
pub struct Tips {
    /// The tips, in the order insight finds them.
    pub tips: Vec<Tip>,
    /// Damaged parts skipped, gaps, resets: what a front end may warn about.
    pub stats: UsageStats,
}

/// The tips for `[from, to)` (`to` is taken as "now") under `contracts`, with local days and
/// hours in `tz`.
pub fn tips(
    vault: &Vault,
    contracts: &[Contract],
    from: Timestamp,
    to: Timestamp,
    tz: &TimeZone,
) -> Result<Tips, CostsError> {
    let usage = usage::from_vault(vault, from, to)?;
    Ok(Tips {
        tips: hearth_insight::tips::tips(&usage, contracts, &[], to, tz),
        stats: usage.stats,
    })
}
