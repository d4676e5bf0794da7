//! Intervals of consumption from any number of supplier files, merged by start: duplicates
//! ignored, conflicts and overlaps kept out with a diagnostic, and one interval reading per interval.

use crate::decoder::Diagnostic;
use crate::reading::{MeterId, Protocol, Quantity, Reading};
use crate::time::MeterTime;
use jiff::tz::TimeZone;
use std::collections::BTreeMap;

/// One interval of consumption: `[start, end)` in Unix seconds, energy in thousandths of a Wh
/// (so a kWh figure with six decimals is exact).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Interval {
    /// Start, Unix seconds (UTC).
    pub start: i64,
    /// End (exclusive), Unix seconds.
    pub end: i64,
    /// Energy in the interval, thousandths of a Wh (1 kWh = 1,000,000).
    pub energy_milli_wh: i64,
}

/// The most average power an interval may imply, W: more than a household connection carries
/// (3 × 63 A at 230 V is 43 kW; a large farm or a home with two fast EV chargers stays under
/// 60 kW). An interval above it (20 kWh in 15 minutes is 80 kW) is a wrong unit, a register
/// put where a delta belongs, or a damaged file; it is refused by line, not booked.
pub const MAX_AVERAGE_W: i64 = 60_000;

impl Interval {
    /// Why no household could have used this energy in this interval, if so: more than
    /// [`MAX_AVERAGE_W`] on average, a negative amount, or dated outside the years a meter
    /// reading can carry ([`crate::plausible::EARLIEST_UNIX`] to
    /// [`crate::plausible::LATEST_UNIX`]: a damaged file or a misread date format). `None`
    /// for a plausible interval.
    pub fn implausible(&self) -> Option<String> {
        use crate::plausible::{EARLIEST_UNIX, LATEST_UNIX};
        if self.start < EARLIEST_UNIX || self.end > LATEST_UNIX {
            return Some(format!(
                "the interval {} – {} lies outside 2000–2099 (a damaged file or a misread \
                 date?); refused",
                show(self.start),
                show(self.end)
            ));
        }
        let seconds = i128::from(self.end - self.start);
        let energy = i128::from(self.energy_milli_wh);
        if energy < 0 {
            return Some(format!(
                "negative consumption {} Wh (is this an export file?)",
                milli(self.energy_milli_wh)
            ));
        }
        // Average W = mWh / 1000 × 3600 / s; refused above MAX_AVERAGE_W, exactly.
        if seconds <= 0 || energy * 3600 <= i128::from(MAX_AVERAGE_W) * 1000 * seconds {
            return None;
        }
        // Tenths of a kW (mWh × 3600 / s / 1000 W, / 100 for tenths), rounded up so that a
        // refused interval never reads as the limit itself.
        let tenths_kw = (energy * 36 + 1000 * seconds - 1) / (1000 * seconds);
        let mut kwh = String::new();
        let _ = crate::reading::write_fixed(&mut kwh, self.energy_milli_wh, 6);
        Some(format!(
            "{kwh} kWh in {} is {}.{} kW on average, more than the {} kW a household connection \
             carries (a wrong unit or a damaged file?); refused",
            duration(self.end - self.start),
            tenths_kw / 10,
            tenths_kw % 10,
            MAX_AVERAGE_W / 1000
        ))
    }
}

/// `15 min`, `2 h 30 min`, `45 s`.
fn duration(seconds: i64) -> String {
    match (seconds / 3600, seconds % 3600 / 60, seconds % 60) {
        (0, 0, s) => format!("{s} s"),
        (0, m, 0) => format!("{m} min"),
        (h, 0, 0) => format!("{h} h"),
        (h, m, 0) => format!("{h} h {m} min"),
        _ => format!("{seconds} s"),
    }
}

/// What happened to an interval offered to an [`IntervalSet`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Merge {
    /// A new interval.
    Added,
    /// The same interval with the same energy was already there; ignored.
    Duplicate,
    /// An interval with the same start but another value or length, or one overlapping it,
    /// was already there; the first is kept.
    Conflict,
}

/// Counts for one imported file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Data rows or interval readings read.
    pub rows: u64,
    /// New intervals.
    pub added: u64,
    /// Intervals already known with the same value.
    pub duplicates: u64,
    /// Intervals that contradict known ones (kept the first; see the diagnostics).
    pub conflicts: u64,
    /// Rows that could not be read or were refused (see the diagnostics).
    pub skipped: u64,
    /// Of the `skipped`, intervals refused as impossible for a household: negative, or more
    /// than [`MAX_AVERAGE_W`] on average (diagnostic code `implausible`).
    pub implausible: u64,
}

impl ImportSummary {
    pub(super) fn count(&mut self, m: Merge) {
        match m {
            Merge::Added => self.added += 1,
            Merge::Duplicate => self.duplicates += 1,
            Merge::Conflict => self.conflicts += 1,
        }
    }
}

/// Why a file could not be imported at all. Problems with single rows are diagnostics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The file could not be read.
    #[error("cannot read the file: {0}")]
    Io(String),
    /// The file holds nothing.
    #[error("the file is empty")]
    Empty,
    /// The header names no time and consumption columns.
    #[error(
        "no start time and kWh columns in the header {header}; expected e.g. \
         \"Consumption (kWh), Start, End\" or \"start,end,kwh\""
    )]
    Columns {
        /// The header line as read, quoted, cut short and with meter ids masked
        /// ([`crate::quote::quoted`]).
        header: String,
    },
    /// The supplier intervals kept in the vault could not be read back.
    #[error(
        "the supplier downloads kept in the vault are damaged; run `hearth verify` and restore \
         a backup"
    )]
    Stored,
    /// The XML is not well formed.
    #[error("the Green Button file is not valid XML near byte {position}: {message}")]
    Xml {
        /// Byte offset of the problem.
        position: u64,
        /// What the parser said.
        message: String,
    },
}

/// Intervals from any number of files, merged by start time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IntervalSet {
    pub(super) intervals: BTreeMap<i64, Interval>,
    /// What could not be read or did not agree, with file line numbers.
    pub diagnostics: Vec<Diagnostic>,
    /// The meter the intervals belong to, if a file said (MPAN; personal data).
    pub meter_id: Option<MeterId>,
}

/// At most this many diagnostics are kept; the counts in [`ImportSummary`] stay exact.
pub const MAX_DIAGNOSTICS: usize = 1000;

impl IntervalSet {
    /// An empty set.
    pub fn new() -> Self {
        IntervalSet::default()
    }

    /// The intervals, by start.
    pub fn intervals(&self) -> impl Iterator<Item = &Interval> + '_ {
        self.intervals.values()
    }

    /// How many intervals there are.
    pub fn len(&self) -> usize {
        self.intervals.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.intervals.is_empty()
    }

    /// The total energy, thousandths of a Wh.
    pub fn total_milli_wh(&self) -> i64 {
        // Saturating: absurd files (or a damaged stored set) must not overflow into a panic.
        self.intervals
            .values()
            .fold(0i64, |sum, i| sum.saturating_add(i.energy_milli_wh))
    }

    pub(super) fn note(&mut self, line: u32, code: &str, message: String) {
        if self.diagnostics.len() < MAX_DIAGNOSTICS {
            self.diagnostics.push(Diagnostic {
                line,
                code: code.to_owned(),
                message,
            });
        }
    }

    /// Adds one interval (from line `line` of its file, for diagnostics).
    pub fn insert(&mut self, iv: Interval, line: u32) -> Merge {
        if let Some(known) = self.intervals.get(&iv.start).copied() {
            if known == iv {
                return Merge::Duplicate;
            }
            self.note(
                line,
                "conflict",
                format!(
                    "the interval starting {} is already known with {} Wh over {} min; \
                     this file says {} Wh over {} min; the first is kept",
                    show(iv.start),
                    milli(known.energy_milli_wh),
                    (known.end - known.start) / 60,
                    milli(iv.energy_milli_wh),
                    (iv.end - iv.start) / 60
                ),
            );
            return Merge::Conflict;
        }
        let before = self
            .intervals
            .range(..iv.start)
            .next_back()
            .map(|(_, v)| *v);
        let after = self.intervals.range(iv.start..).next().map(|(_, v)| *v);
        let overlap = before
            .filter(|b| b.end > iv.start)
            .or(after.filter(|a| a.start < iv.end));
        if let Some(other) = overlap {
            self.note(
                line,
                "overlap",
                format!(
                    "the interval {} – {} overlaps the known one {} – {}; the known one is kept",
                    show(iv.start),
                    show(iv.end),
                    show(other.start),
                    show(other.end)
                ),
            );
            return Merge::Conflict;
        }
        self.intervals.insert(iv.start, iv);
        Merge::Added
    }

    /// One interval reading per interval, oldest first: see [`interval_readings`], with the
    /// set's meter id. `quantity` is [`Quantity::IntervalImportWh`] (or
    /// [`Quantity::IntervalExportWh`] for an export download); times are shown in `tz`.
    pub fn readings(&self, quantity: Quantity, tz: &TimeZone) -> Vec<Reading> {
        let intervals: Vec<Interval> = self.intervals.values().copied().collect();
        interval_readings(&intervals, quantity, self.meter_id.as_ref(), tz)
    }

    /// Holes between consecutive intervals: `(end of one, start of the next)`.
    pub fn holes(&self) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        let mut prev: Option<i64> = None;
        for iv in self.intervals.values() {
            if let Some(end) = prev
                && end < iv.start
            {
                out.push((end, iv.start));
            }
            prev = Some(iv.end);
        }
        out
    }
}

/// One reading ([`Protocol::Supplier`]) per interval, at its start (shown in `tz`): its
/// energy as `quantity` ([`Quantity::IntervalImportWh`] or [`Quantity::IntervalExportWh`],
/// Wh) and its length as [`Quantity::IntervalS`] (seconds). No register is made up: a hole
/// between intervals simply has no reading.
///
/// Energies are kept in thousandths of a Wh and rounded cumulatively over `intervals` (in the
/// order given, which should be time order): each reading's Wh is the running total rounded
/// to Wh (half away from zero) minus the running total rounded at the interval before. So the
/// readings of a run sum exactly to its rounded total and nothing drifts: five intervals of
/// 0.4 Wh are 0, 1, 0, 1, 0 Wh (running totals 0.4, 0.8, 1.2, 1.6, 2.0 round to 0, 1, 1, 2,
/// 2). Never panics: sums are exact (`i128`), and only a Wh figure beyond `i64` (no household
/// file) saturates.
pub fn interval_readings(
    intervals: &[Interval],
    quantity: Quantity,
    meter_id: Option<&MeterId>,
    tz: &TimeZone,
) -> Vec<Reading> {
    let mut total_milli: i128 = 0;
    let mut booked_wh: i128 = 0;
    intervals
        .iter()
        .map(|iv| {
            total_milli += i128::from(iv.energy_milli_wh);
            let upto = round_milli(total_milli);
            let wh = upto - booked_wh;
            booked_wh = upto;
            let mut r = Reading::new(Protocol::Supplier);
            r.time = Some(MeterTime::in_zone(iv.start, tz));
            r.meter_id = meter_id.cloned();
            // Within a Wh of the interval's own energy (an i64 of mWh), so it always fits.
            r.set(quantity, i64::try_from(wh).unwrap_or(0));
            r.set(Quantity::IntervalS, iv.end.saturating_sub(iv.start));
            r
        })
        .collect()
}

/// Rounds thousandths of a Wh to Wh, half away from zero.
fn round_milli(milli: i128) -> i128 {
    (milli.abs() + 500) / 1000 * milli.signum()
}

fn milli(v: i64) -> String {
    let mut s = String::new();
    let _ = crate::reading::write_fixed(&mut s, v, 3);
    s
}

pub(super) fn show(unix: i64) -> String {
    MeterTime::utc(unix).to_string()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An interval of `wh` watt-hours.
    pub(crate) fn iv(start: i64, end: i64, wh: i64) -> Interval {
        Interval {
            start,
            end,
            energy_milli_wh: wh * 1000,
        }
    }

    fn milli_iv(start: i64, end: i64, energy_milli_wh: i64) -> Interval {
        Interval {
            start,
            end,
            energy_milli_wh,
        }
    }

    /// `(time, Wh, seconds)` of each reading, for `quantity`.
    fn booked(readings: &[Reading], quantity: Quantity) -> Vec<(i64, i64, i64)> {
        readings
            .iter()
            .map(|r| {
                (
                    r.time.unwrap().unix,
                    r.get(quantity).unwrap(),
                    r.get(Quantity::IntervalS).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn one_reading_per_interval_at_its_start_and_none_in_a_hole() {
        let utc = TimeZone::UTC;
        let meter = MeterId::new("E0047000123456726");
        let new = [iv(0, 1800, 100), iv(1800, 3600, 200), iv(5400, 6300, 50)];
        let r = interval_readings(&new, Quantity::IntervalImportWh, Some(&meter), &utc);
        assert_eq!(
            booked(&r, Quantity::IntervalImportWh),
            [(0, 100, 1800), (1800, 200, 1800), (5400, 50, 900)]
        );
        for reading in &r {
            assert_eq!(reading.protocol, Protocol::Supplier);
            assert_eq!(reading.meter_id.as_ref(), Some(&meter));
            // Nothing made up: no register, and no export figure on an import download.
            assert_eq!(reading.get(Quantity::ImportWh), None);
            assert_eq!(reading.get(Quantity::ExportWh), None);
            assert_eq!(reading.get(Quantity::IntervalExportWh), None);
        }
        let r = interval_readings(&new[2..], Quantity::IntervalExportWh, None, &utc);
        assert_eq!(booked(&r, Quantity::IntervalExportWh), [(5400, 50, 900)]);
        assert_eq!(r[0].get(Quantity::IntervalImportWh), None);
        assert_eq!(r[0].meter_id, None);
        assert!(interval_readings(&[], Quantity::IntervalImportWh, None, &utc).is_empty());
    }

    #[test]
    fn fractions_of_a_watt_hour_are_rounded_cumulatively() {
        let utc = TimeZone::UTC;
        // Running totals 0.4, 0.8, 1.2, 1.6, 2.0 Wh round to 0, 1, 1, 2, 2.
        let new: Vec<Interval> = (0..5)
            .map(|k| milli_iv(k * 1800, k * 1800 + 1800, 400))
            .collect();
        let r = interval_readings(&new, Quantity::IntervalImportWh, None, &utc);
        let wh: Vec<i64> = booked(&r, Quantity::IntervalImportWh)
            .iter()
            .map(|b| b.1)
            .collect();
        assert_eq!(wh, [0, 1, 0, 1, 0]);
        // Halves round away from zero: 0.5 → 1, 1.0 → 1, 1.5 → 2; −0.5 → −1, −1.0 → −1.
        let halves = [
            milli_iv(0, 60, 500),
            milli_iv(60, 120, 500),
            milli_iv(120, 180, 500),
        ];
        let r = interval_readings(&halves, Quantity::IntervalImportWh, None, &utc);
        let wh: Vec<i64> = r
            .iter()
            .map(|r| r.get(Quantity::IntervalImportWh).unwrap())
            .collect();
        assert_eq!(wh, [1, 0, 1]);
        let minus = [milli_iv(0, 60, -500), milli_iv(60, 120, -500)];
        let r = interval_readings(&minus, Quantity::IntervalExportWh, None, &utc);
        let wh: Vec<i64> = r
            .iter()
            .map(|r| r.get(Quantity::IntervalExportWh).unwrap())
            .collect();
        assert_eq!(wh, [-1, 0]);
    }

    #[test]
    fn intervals_before_2000_or_from_2100_are_refused() {
        // 1999-12-31T23:00Z – 23:30Z and 2100-01-01T00:00Z – 00:30Z.
        let early = iv(946_681_200, 946_683_000, 500);
        assert_eq!(
            early.implausible().as_deref(),
            Some(
                "the interval 1999-12-31T23:00:00+00:00 – 1999-12-31T23:30:00+00:00 lies \
                 outside 2000–2099 (a damaged file or a misread date?); refused"
            )
        );
        assert!(
            iv(4_102_444_800, 4_102_446_600, 500)
                .implausible()
                .is_some()
        );
        // The first half hour of 2000 and the last of 2099 are fine.
        assert_eq!(iv(946_684_800, 946_686_600, 500).implausible(), None);
        assert_eq!(iv(4_102_443_000, 4_102_444_800, 500).implausible(), None);
    }

    #[test]
    fn absurd_energies_and_lengths_do_not_overflow() {
        let utc = TimeZone::UTC;
        let new = [
            milli_iv(0, 1800, i64::MAX),
            milli_iv(1800, 3600, i64::MAX),
            milli_iv(3600, 5400, i64::MIN),
        ];
        let r = interval_readings(&new, Quantity::IntervalImportWh, None, &utc);
        let wh: Vec<i64> = r
            .iter()
            .map(|r| r.get(Quantity::IntervalImportWh).unwrap())
            .collect();
        // Running totals (beyond i64 in mWh): 9,223,372,036,854,775.807 Wh rounds to
        // ...776; 18,446,744,073,709,551.614 Wh to ...552 (+ ...776 again); adding i64::MIN
        // mWh leaves 9,223,372,036,854,775.806 Wh, rounded ...776 (− ...776).
        assert_eq!(
            wh,
            [
                9_223_372_036_854_776,
                9_223_372_036_854_776,
                -9_223_372_036_854_776
            ]
        );
        let long = [milli_iv(i64::MIN / 2, i64::MAX / 2, 0)];
        let r = interval_readings(&long, Quantity::IntervalImportWh, None, &utc);
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn an_absurd_total_saturates_instead_of_overflowing() {
        let mut set = IntervalSet::new();
        for (start, end) in [(0, 1800), (1800, 3600)] {
            let huge = Interval {
                start,
                end,
                energy_milli_wh: i64::MAX / 2 + 1,
            };
            set.insert(huge, 1);
        }
        assert_eq!(set.total_milli_wh(), i64::MAX);
    }
}
