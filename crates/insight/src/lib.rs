//! Insight: tariffs, costs and savings tips as pure functions of readings, contracts and `now`.
//!
//! The flow is: stream register readings into quarter hours ([`Usage`]), read contracts from
//! their TOML files ([`Contract`]), then price any range ([`cost::price`], [`report::report`])
//! or look for savings ([`tips::tips`]). Nothing here reads a clock: `now` is passed in. Amounts
//! are exact scaled integers ([`Money`], [`Price`]); they are rounded to cents only for display.
//! Nothing here reads files or storage either: a contract's price file is handed over as text
//! ([`PriceFiles`]), and a store's quarter-hour rollups as rows ([`Usage::from_rollups`],
//! module [`rollups`]; `hearth_app::usage` reads them from the vault for the app and the CLI).
//!
//! ```
//! use hearth_insight::{Contract, Usage, UsageOptions, cost};
//! use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
//! use jiff::Timestamp;
//!
//! let contract = Contract::parse(
//!     "name = \"Flat\"\ntime_zone = \"Europe/Amsterdam\"\n[import]\nprice_per_kwh = 0.25\n",
//! )?;
//! // Two readings an hour apart, 1.5 kWh imported in between.
//! let readings = [(0, 10_000), (3_600, 11_500)].map(|(t, wh)| {
//!     let mut r = Reading::new(Protocol::Dsmr);
//!     r.time = Some(MeterTime::utc(1_767_225_600 + t));
//!     r.set(Quantity::ImportWh, wh);
//!     r
//! });
//! let (from, to) = (Timestamp::from_second(1_767_225_600)?, Timestamp::from_second(1_767_229_200)?);
//! let usage = Usage::from_readings(readings, from, to, UsageOptions::default());
//! let bill = cost::price(&usage, &contract, from, to)?;
//! assert_eq!(bill.total.to_string(), "0.38"); // 1.5 kWh × 0.25 = 0.375, shown rounded
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod contract;
pub mod cost;
pub mod locale;
pub mod money;
pub mod prices;
pub mod report;
pub mod rollups;
pub mod tips;
pub mod usage;

pub use contract::{
    Capacity, Contract, ContractError, ContractWarning, Gas, Period, PeriodAt, PriceFileRef,
    PriceFiles, Pricing, Step, Tag,
};
pub use cost::{Cost, PricingError};
pub use locale::Lang;
pub use money::{Money, Percent, Price};
pub use prices::{PriceError, PriceSeries};
pub use report::{ContractCost, Report, report};
pub use rollups::{ReadingSpan, Rollup, RollupRow};
pub use tips::{Amount, PeakBasis, Tip, TipKind, TipMessage};
pub use usage::{Slot, Usage, UsageBuilder, UsageOptions, UsageStats};
