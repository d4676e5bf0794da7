//! The energy and cost report for a range under several contracts (`hearth report`).

use crate::contract::Contract;
use crate::cost::{Cost, PricingError, price};
use crate::usage::{Usage, UsageStats};
use jiff::Timestamp;

/// One contract's line in a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractCost {
    /// Contract name.
    pub name: String,
    /// Currency code.
    pub currency: String,
    /// The cost.
    pub cost: Cost,
}

/// Energy and costs over `[from, to)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Start (unix seconds).
    pub from: i64,
    /// End, exclusive.
    pub to: i64,
    /// Imported energy, mWh.
    pub import_mwh: i64,
    /// Exported energy, mWh.
    pub export_mwh: i64,
    /// Imported energy spread over gaps (included in `import_mwh`), mWh.
    pub estimated_mwh: i64,
    /// Exported energy spread over gaps, mWh.
    pub estimated_export_mwh: i64,
    /// Gas used, cm³ (a million per m³).
    pub gas_cm3: i64,
    /// Seconds of the range with no reading on either side.
    pub missing_s: i64,
    /// One entry per contract, in the order given.
    pub contracts: Vec<ContractCost>,
    /// What happened to the readings.
    pub stats: UsageStats,
}

/// Builds the report; each contract prices only the part of the range it was valid for.
pub fn report(
    usage: &Usage,
    contracts: &[Contract],
    from: Timestamp,
    to: Timestamp,
) -> Result<Report, PricingError> {
    let (a, b) = (
        usage.slot_index(from.as_second()),
        usage.slot_index(to.as_second()),
    );
    let (import_mwh, export_mwh, estimated_mwh, estimated_export_mwh) = usage.totals(a..b);
    let covered: i64 = usage.slots()[a..b]
        .iter()
        .map(|s| i64::from(s.measured_s) + i64::from(s.estimated_s))
        .sum();
    let mut out = Vec::with_capacity(contracts.len());
    for c in contracts {
        out.push(ContractCost {
            name: c.name.clone(),
            currency: c.currency.clone(),
            cost: price(usage, c, from, to)?,
        });
    }
    Ok(Report {
        from: from.as_second(),
        to: to.as_second(),
        import_mwh,
        export_mwh,
        estimated_mwh,
        estimated_export_mwh,
        gas_cm3: usage.gas_cm3(a..b),
        missing_s: ((b - a) as i64 * crate::usage::SLOT_S - covered).max(0),
        contracts: out,
        stats: usage.stats,
    })
}
