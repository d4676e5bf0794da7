//! Supplier half-hourly downloads (consumption CSV, Green Button XML) into interval readings.
//!
//! UK suppliers let their customers download the smart meter's half-hourly consumption from
//! their account page. Two shapes are common:
//!
//! - **CSV**: Octopus's `Consumption (kWh), Start, End` (a space after each comma, times in
//!   RFC 3339 with the UK offset, newer files add cost columns, zero half-hours may be left out
//!   and a zero may read `0E-20`), and generic `start,end,kwh` files. The header decides which
//!   column is which: the value column is the first whose name says consumption, usage,
//!   import or kWh (never cost, price, charge, tax or export); the start column says start,
//!   from, time or date; the end column says end or to (optional: without it a row lasts the
//!   file's step, the time between consecutive rows' starts, at most a half hour; so
//!   quarter-hour files keep every quarter hour).
//!   Times without an offset are wall time in the zone the caller gives (the vault's;
//!   [`london`] for UK files): in October's repeated hour the first `01:xx` is summer time and
//!   the second winter time, as the file's order says. A date column with the times of day
//!   apart (`Date,From,To,kWh`, `Date,Start,End,kWh` as Irish, UK and Belgian portals write,
//!   or `Date,Time,kWh` with the start only) runs from date + start to date + end, an end of
//!   00:00 or 24:00 being the next midnight; a row whose end is not after its start is refused.
//!
//! Every interval must be one a household can use: at most [`MAX_AVERAGE_W`] on average and
//! not negative. Others (20 kWh in 15 minutes: a wrong unit, a damaged file) are refused by
//! line with a diagnostic (`implausible`) and counted in [`ImportSummary::implausible`]; the
//! rest of the file is kept.
//! - **Green Button** (ESPI) XML: `IntervalReading`s with `timePeriod/start` (Unix seconds),
//!   `timePeriod/duration` and `value`, scaled by the `ReadingType`'s `powerOfTenMultiplier`
//!   and `uom` (72 = Wh).
//!
//! Both go into an [`IntervalSet`], keyed by interval start, which merges any number of files:
//! the same interval with the same energy again is ignored, a different value for an interval
//! already known (or one overlapping it) keeps the first and adds a
//! [`Diagnostic`](crate::Diagnostic). So re-importing a file changes nothing and overlapping
//! downloads merge.
//!
//! Intervals are stored as what they are, interval energy, never as made-up registers:
//! [`interval_readings`] (and [`IntervalSet::readings`] over a whole set) gives one
//! [`Reading`](crate::Reading) ([`Protocol::Supplier`](crate::Protocol::Supplier)) per
//! interval, at its start, with its energy
//! ([`Quantity::IntervalImportWh`](crate::Quantity::IntervalImportWh), or
//! [`IntervalExportWh`](crate::Quantity::IntervalExportWh) for an export download) and its
//! length ([`Quantity::IntervalS`](crate::Quantity::IntervalS)); a hole has no reading.
//! Values are kept in thousandths of a Wh and rounded cumulatively over a run, so the Wh of a
//! run's readings sum exactly to its rounded total and nothing drifts. The vault books them
//! beside the meter's own registers, so supplier and meter data imported in any order give
//! the same sums.
//!
//! Files are read line by line (CSV) or event by event (XML); only the intervals are kept,
//! 17,520 a year.
//!
//! Across separate imports, [`IntervalSet::encode`] keeps the merged set (in the vault) and
//! [`IntervalSet::added_since`] says which intervals are new, so each import stores readings
//! for only those.
//!
//! The parts: [`IntervalSet`], its merging and its readings (`intervals`), its stored form
//! (`encoding`), the CSV dialects (`csv`), Green Button XML (`green_button`) and exact decimal
//! numbers (`decimal`).

mod csv;
mod decimal;
mod encoding;
mod green_button;
mod intervals;

pub use csv::{CsvReader, read_csv};
pub use decimal::decimal_to_scaled;
pub(crate) use decimal::looks_numeric;
pub use green_button::{Flow, read_green_button};
pub use intervals::{
    ImportError, ImportSummary, Interval, IntervalSet, MAX_AVERAGE_W, MAX_DIAGNOSTICS, Merge,
    interval_readings,
};

use jiff::tz::{Offset, TimeZone};

/// The UK zone (Europe/London) from the bundled tz database, falling back to the fixed
/// GMT/BST rule when no database is available.
pub fn london() -> TimeZone {
    TimeZone::get("Europe/London").unwrap_or_else(|_| {
        TimeZone::posix("GMT0BST,M3.5.0/1,M10.5.0").unwrap_or(TimeZone::fixed(Offset::UTC))
    })
}
