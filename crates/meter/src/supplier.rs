//! Supplier half-hourly downloads (consumption CSV, Green Button XML) into register readings.
//!
//! UK suppliers let their customers download the smart meter's half-hourly consumption from
//! their account page. Two shapes are common:
//!
//! - **CSV**: Octopus's `Consumption (kWh), Start, End` (a space after each comma, times in
//!   RFC 3339 with the UK offset, newer files add cost columns, zero half-hours may be left out
//!   and a zero may read `0E-20`), and generic `start,end,kwh` files. The header decides which
//!   column is which: the value column is the first whose name says consumption, usage,
//!   import or kWh (never cost, price, charge, tax or export); the start column says start,
//!   from, time or date; the end column (optional: a half hour when absent) says end or to.
//!   Times without an offset are UK wall time ([`london`]): in October's repeated hour the
//!   first `01:xx` is BST and the second GMT, as the file's order says.
//! - **Green Button** (ESPI) XML: `IntervalReading`s with `timePeriod/start` (Unix seconds),
//!   `timePeriod/duration` and `value`, scaled by the `ReadingType`'s `powerOfTenMultiplier`
//!   and `uom` (72 = Wh).
//!
//! Both go into an [`IntervalSet`], keyed by interval start, which merges any number of files:
//! the same interval with the same energy again is ignored, a different value for an interval
//! already known (or one overlapping it) keeps the first and adds a [`Diagnostic`]. So
//! re-importing a file changes nothing and overlapping downloads merge. [`IntervalSet::readings`]
//! then gives one register [`Reading`] ([`Protocol::Supplier`]) at each interval end, plus one at
//! the start of the first interval and after every hole, with exact sums: values are kept in
//! thousandths of a Wh and the register is the rounded running total, so nothing drifts.
//!
//! Files are read line by line (CSV) or event by event (XML); only the intervals are kept,
//! 17,520 a year.
//!
//! Across separate imports, [`IntervalSet::encode`] keeps the merged set (in the vault), and
//! [`plan_registers`] places the register readings of only the new intervals around what is
//! already stored, so nothing stored changes and every sum stays exact whatever the order of
//! the downloads.

use crate::decoder::Diagnostic;
use crate::reading::{MeterId, Protocol, Quantity, Reading};
use crate::time::MeterTime;
use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, Offset, TimeZone};
use std::collections::BTreeMap;
use std::io::BufRead;

/// The UK zone (Europe/London) from the bundled tz database, falling back to the fixed
/// GMT/BST rule when no database is available.
pub fn london() -> TimeZone {
    TimeZone::get("Europe/London").unwrap_or_else(|_| {
        TimeZone::posix("GMT0BST,M3.5.0/1,M10.5.0").unwrap_or(TimeZone::fixed(Offset::UTC))
    })
}

/// A decimal number (`-12.5`, `0.123000`, `0E-20`, `1.5e3`) times 10^`shift`, rounded half
/// away from zero, computed exactly in integers. `None` if the text is not such a number or
/// the result does not fit an `i64`.
pub fn decimal_to_scaled(text: &str, shift: i32) -> Option<i64> {
    let s = text.trim();
    let (negative, s) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], s[i + 1..].parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    // value = digits × 10^(exp − frac.len()); at most 36 significant digits are kept, the
    // rest only shift the exponent (they cannot change a result that fits an i64).
    let mut digits: u128 = 0;
    let mut significant = 0u32;
    let mut dropped: i32 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        if significant < 36 {
            digits = digits * 10 + u128::from(b - b'0');
            if digits != 0 {
                significant += 1;
            }
        } else {
            dropped += 1;
        }
    }
    let frac_len = i32::try_from(frac.len()).ok()?;
    let e = exp
        .checked_sub(frac_len)?
        .checked_add(dropped)?
        .checked_add(shift)?;
    let magnitude: u128 = if digits == 0 {
        0
    } else if e >= 0 {
        if e > 38 {
            return None;
        }
        digits.checked_mul(10u128.pow(e.unsigned_abs()))?
    } else {
        let k = e.unsigned_abs();
        if k > 38 {
            0
        } else {
            let p = 10u128.pow(k);
            let (q, r) = (digits / p, digits % p);
            q + u128::from(r * 2 >= p)
        }
    };
    let m = i64::try_from(magnitude).ok()?;
    Some(if negative { -m } else { m })
}

/// Whether text has the shape of a decimal number (so a failed conversion means "too big").
pub(crate) fn looks_numeric(s: &str) -> bool {
    let s = s.trim().trim_start_matches(['-', '+']);
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && s.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'.')
}

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
    /// Rows that could not be read (see the diagnostics).
    pub skipped: u64,
}

impl ImportSummary {
    fn count(&mut self, m: Merge) {
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
        "no start time and kWh columns in the header \"{header}\"; expected e.g. \
         \"Consumption (kWh), Start, End\" or \"start,end,kwh\""
    )]
    Columns {
        /// The header line as read.
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
    intervals: BTreeMap<i64, Interval>,
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

    fn note(&mut self, line: u32, code: &str, message: String) {
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

    /// Register readings: `quantity` (usually [`Quantity::ImportWh`], or
    /// [`Quantity::ExportWh`] for an export download) starts at `base_wh` at the first
    /// interval's start and rises by each interval's energy, read at each interval's end;
    /// after a hole, a reading at the next start repeats the register, so the hole gets no
    /// energy (Octopus leaves zero half-hours out). Times are shown in `tz`.
    pub fn readings(&self, quantity: Quantity, base_wh: i64, tz: &TimeZone) -> Vec<Reading> {
        let mut out = Vec::with_capacity(self.intervals.len() + 1);
        let mut sum_milli: i128 = 0;
        let mut prev_end: Option<i64> = None;
        let register = |sum: i128| -> i64 { base_wh.saturating_add(round_milli(sum)) };
        for iv in self.intervals.values() {
            if prev_end != Some(iv.start) {
                out.push(self.reading(quantity, iv.start, register(sum_milli), tz));
            }
            sum_milli += i128::from(iv.energy_milli_wh);
            out.push(self.reading(quantity, iv.end, register(sum_milli), tz));
            prev_end = Some(iv.end);
        }
        out
    }

    fn reading(&self, quantity: Quantity, at: i64, wh: i64, tz: &TimeZone) -> Reading {
        let mut r = Reading::new(Protocol::Supplier);
        r.time = Some(MeterTime::in_zone(at, tz));
        r.meter_id = self.meter_id.clone();
        r.set(quantity, wh);
        r
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

/// Where a register starts when nothing stored is near: 1 GWh, so that counting backwards
/// for earlier downloads imported later stays positive for centuries of household use.
pub const FIRST_REGISTER_WH: i64 = 1_000_000_000;

/// A register reading the vault already holds (from a supplier download or a meter): its
/// time (Unix seconds) and import register (Wh).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stored {
    /// Unix seconds.
    pub time: i64,
    /// The import register, Wh.
    pub wh: i64,
}

/// What [`plan_registers`] decided for the new intervals of one import.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegisterPlan {
    /// New intervals whose energy the readings in `points` carry.
    pub accepted: Vec<Interval>,
    /// New intervals left out because the vault already holds readings inside them: a
    /// meter's own readings are finer than a supplier's half hours, and booking both would
    /// count the energy twice.
    pub covered: Vec<Interval>,
    /// Register readings to store, `(time, Wh)`, oldest first.
    pub points: Vec<(i64, i64)>,
}

/// Register readings for intervals imported after others are already stored, such that
/// nothing stored has to change and every step between neighbouring stored readings books
/// exactly the energy of the intervals it spans.
///
/// `new` are the intervals not imported before (by start, not overlapping). `before` is the
/// last stored reading earlier than the first new start, `span` the stored readings from the
/// first new start to the last new end (both included, oldest first), `after` the first
/// stored reading later than the last new end. Readings without an import register do not
/// count.
///
/// New intervals with no stored reading between them form a chain whose register rises by
/// their energy (a rounded running total, so nothing drifts) and stays flat over holes (Octopus
/// leaves zero half hours out), with a reading at each interval's end and at the start of each
/// contiguous run. Where a chain starts:
/// - continuing a stored reading at its start (it follows stored data directly);
/// - else ending exactly at a stored reading at its end (an earlier download imported after a
///   later one, or supplier history before a meter's own readings, counts backwards from it);
/// - else continuing the last stored reading before it (the hole between books nothing);
/// - else counting backwards from the next stored reading after it;
/// - else at [`FIRST_REGISTER_WH`].
///
/// A stored reading exactly on a boundary between new intervals cuts the chain there.
///
/// A chain that fills a hole between stored readings on both sides cannot also end at the
/// right-hand stored value, which was chosen before the chain's energy was known. It ends one
/// second early at its own total, and the step to the stored reading goes down (the vault's
/// rollups book nothing for a register that goes down; next to a meter's own readings it may
/// go up by what the meter counted beyond the supplier's figures): the last interval's energy falls
/// into its first 1,799 seconds instead of all 1,800; the sums of every half hour, day and
/// month stay exact.
pub fn plan_registers(
    new: &[Interval],
    before: Option<Stored>,
    span: impl IntoIterator<Item = Stored>,
    after: Option<Stored>,
) -> RegisterPlan {
    let n = new.len();
    // For each new interval: the last stored reading at or before its start, the first at or
    // after its end, whether one lies strictly inside it, and whether one is exactly at its
    // start (a run is cut there and continues from it).
    let mut left: Vec<Option<Stored>> = vec![None; n];
    let mut right: Vec<Option<Stored>> = vec![None; n];
    let mut covered = vec![false; n];
    let mut stored_at_start = vec![false; n];
    let (mut i_left, mut i_right, mut i_in) = (0, 0, 0);
    let mut last = before;
    for s in span {
        while i_left < n && new[i_left].start < s.time {
            left[i_left] = last;
            i_left += 1;
        }
        if i_left < n && new[i_left].start == s.time {
            stored_at_start[i_left] = true;
        }
        while i_right < n && new[i_right].end <= s.time {
            right[i_right] = Some(s);
            i_right += 1;
        }
        while i_in < n && new[i_in].end <= s.time {
            i_in += 1;
        }
        if i_in < n && new[i_in].start < s.time {
            covered[i_in] = true;
        }
        last = Some(s);
    }
    left[i_left..].fill(last);
    right[i_right..].fill(after);

    // Runs of contiguous new intervals that no stored reading lies inside.
    let mut plan = RegisterPlan::default();
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < n {
        if covered[i] {
            plan.covered.push(new[i]);
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < n && !covered[j] && !stored_at_start[j] && new[j].start == new[j - 1].end {
            j += 1;
        }
        runs.push((i, j));
        i = j;
    }
    // Runs with no stored reading between them form one chain, flat across their holes.
    let mut g = 0;
    while g < runs.len() {
        let mut h = g + 1;
        while h < runs.len()
            && right[runs[h - 1].1 - 1].is_none_or(|r| r.time > new[runs[h].0].start)
        {
            h += 1;
        }
        let chain = &runs[g..h];
        let (first, last) = (chain[0].0, chain[chain.len() - 1].1 - 1);
        let (s, e) = (new[first].start, new[last].end);
        let total: i128 = chain
            .iter()
            .flat_map(|&(i, j)| &new[i..j])
            .map(|iv| i128::from(iv.energy_milli_wh))
            .sum();
        let (l, r) = (left[first], right[last]);
        let left_abuts = l.is_some_and(|l| l.time == s);
        let right_abuts = r.is_some_and(|r| r.time == e);
        let base = match (l, r) {
            (Some(l), _) if left_abuts => l.wh,
            (_, Some(r)) if right_abuts => r.wh.saturating_sub(round_milli(total)),
            (Some(l), _) => l.wh,
            (None, Some(r)) => r.wh.saturating_sub(round_milli(total)),
            (None, None) => FIRST_REGISTER_WH,
        };
        let mut cum: i128 = 0;
        for &(i, j) in chain {
            if !(i == first && left_abuts) {
                plan.points
                    .push((new[i].start, base.saturating_add(round_milli(cum))));
            }
            for (k, iv) in new[i..j].iter().enumerate() {
                cum += i128::from(iv.energy_milli_wh);
                let wh = base.saturating_add(round_milli(cum));
                match r {
                    Some(r) if right_abuts && i + k == last => {
                        if wh != r.wh && iv.end - 1 > iv.start {
                            plan.points.push((iv.end - 1, wh));
                        }
                    }
                    _ => plan.points.push((iv.end, wh)),
                }
            }
            plan.accepted.extend_from_slice(&new[i..j]);
        }
        g = h;
    }
    plan
}

/// Readings ([`Protocol::Supplier`]) for planned `(time, Wh)` points of `quantity`, times
/// shown in `tz`.
pub fn plan_readings(
    points: &[(i64, i64)],
    quantity: Quantity,
    meter_id: Option<&MeterId>,
    tz: &TimeZone,
) -> Vec<Reading> {
    points
        .iter()
        .map(|&(t, wh)| {
            let mut r = Reading::new(Protocol::Supplier);
            r.time = Some(MeterTime::in_zone(t, tz));
            r.meter_id = meter_id.cloned();
            r.set(quantity, wh);
            r
        })
        .collect()
}

/// Version byte of [`IntervalSet::encode`].
const ENCODING_VERSION: u8 = 1;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn take_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at)?;
        *at += 1;
        v |= u64::from(b & 0x7f).checked_shl(shift)?;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

impl IntervalSet {
    /// The intervals in a compact binary form, for keeping every import in the vault: a
    /// version byte, the count, then per interval the gap after the previous one (the first:
    /// its start), its length in seconds and its energy in thousandths of a Wh, as LEB128
    /// varints (zigzag for the signed ones): about five bytes per half hour.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.intervals.len() * 6);
        out.push(ENCODING_VERSION);
        put_varint(&mut out, self.intervals.len() as u64);
        let mut prev_end = 0i64;
        for iv in self.intervals.values() {
            put_varint(&mut out, zigzag(iv.start.wrapping_sub(prev_end)));
            put_varint(&mut out, zigzag(iv.end.wrapping_sub(iv.start)));
            put_varint(&mut out, zigzag(iv.energy_milli_wh));
            prev_end = iv.end;
        }
        out
    }

    /// Reads what [`IntervalSet::encode`] wrote. Anything else (another version, truncated,
    /// overlapping or empty intervals, trailing bytes) is [`ImportError::Stored`].
    pub fn decode(bytes: &[u8]) -> Result<IntervalSet, ImportError> {
        let bad = || ImportError::Stored;
        if bytes.first() != Some(&ENCODING_VERSION) {
            return Err(bad());
        }
        let mut at = 1;
        let count = take_varint(bytes, &mut at).ok_or_else(bad)?;
        if count > (bytes.len() as u64) / 3 {
            return Err(bad());
        }
        let mut set = IntervalSet::new();
        let mut prev_end = 0i64;
        for k in 0..count {
            let mut field = || take_varint(bytes, &mut at).map(unzigzag).ok_or_else(bad);
            let (gap, len, energy) = (field()?, field()?, field()?);
            if (k > 0 && gap < 0) || len <= 0 || energy < 0 {
                return Err(bad());
            }
            let start = prev_end.checked_add(gap).ok_or_else(bad)?;
            let end = start.checked_add(len).ok_or_else(bad)?;
            set.intervals.insert(
                start,
                Interval {
                    start,
                    end,
                    energy_milli_wh: energy,
                },
            );
            prev_end = end;
        }
        if at != bytes.len() {
            return Err(bad());
        }
        Ok(set)
    }

    /// The intervals of `self` that `earlier` does not hold (by start), oldest first.
    pub fn added_since(&self, earlier: &IntervalSet) -> Vec<Interval> {
        self.intervals
            .values()
            .filter(|iv| !earlier.intervals.contains_key(&iv.start))
            .copied()
            .collect()
    }
}

/// Rounds thousandths of a Wh to Wh, half away from zero.
fn round_milli(sum: i128) -> i64 {
    let q = (sum.abs() + 500) / 1000;
    i64::try_from(q * sum.signum()).unwrap_or(if sum < 0 { i64::MIN } else { i64::MAX })
}

fn milli(v: i64) -> String {
    let mut s = String::new();
    let _ = crate::reading::write_fixed(&mut s, v, 3);
    s
}

fn show(unix: i64) -> String {
    MeterTime::utc(unix).to_string()
}

// ---------------------------------------------------------------------------------------
// CSV

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Columns {
    value: usize,
    start: usize,
    /// A separate time-of-day column when `start` holds only the date (`Date, Time, kWh`).
    time: Option<usize>,
    end: Option<usize>,
    /// Power of ten from the value column's unit to thousandths of a Wh (kWh: 6, Wh: 3).
    shift: i32,
    delimiter: u8,
}

fn split_fields(line: &str, delimiter: u8) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    cur.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            } else {
                cur.push(c);
            }
        } else if c == '"' {
            quoted = true;
        } else if c as u32 == u32::from(delimiter) {
            out.push(cur.trim().to_owned());
            cur.clear();
        } else {
            cur.push(c);
        }
    }
    out.push(cur.trim().to_owned());
    out
}

fn find_columns(header: &str) -> Option<Columns> {
    let delimiter = [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| header.bytes().filter(|b| b == d).count())
        .filter(|d| header.bytes().any(|b| b == *d))
        .unwrap_or(b',');
    let names: Vec<String> = split_fields(header, delimiter)
        .into_iter()
        .map(|s| s.to_ascii_lowercase())
        .collect();
    let find = |want: &[&str], not: &[&str]| {
        names
            .iter()
            .position(|n| want.iter().any(|w| n.contains(w)) && !not.iter().any(|x| n.contains(x)))
    };
    let not_value = [
        "cost", "price", "charge", "tax", "export", "generat", "£", "(p)",
    ];
    let value = find(&["consumption", "usage", "import"], &not_value)
        .or_else(|| find(&["kwh", "wh", "energy", "value"], &not_value))?;
    let start = find(
        &["start", "from", "time", "date"],
        &["end", "kwh", "consumption"],
    )?;
    let end = find(&["end", "to"], &["start", "kwh", "consumption", "total"])
        .filter(|i| *i != start && *i != value);
    if start == value {
        return None;
    }
    let time = names
        .iter()
        .position(|n| n.contains("time") && !n.contains("date") && !n.contains("stamp"))
        .filter(|i| *i != start && *i != value && Some(*i) != end && names[start].contains("date"));
    let unit = &names[value];
    let shift = if unit.contains("kwh") || !unit.contains("wh") {
        6
    } else {
        3
    };
    Some(Columns {
        value,
        start,
        time,
        end,
        shift,
        delimiter,
    })
}

/// A time cell: an exact instant (offset given) or UK-style local wall time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stamp {
    Exact(i64),
    Local(DateTime),
}

fn num(s: &str) -> Option<i32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_stamp(cell: &str) -> Option<Stamp> {
    let s = cell.trim();
    if let Ok(t) = MeterTime::parse_rfc3339(s) {
        return Some(Stamp::Exact(t.unix));
    }
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Some(Stamp::Exact(ts.as_second()));
    }
    // Local: `YYYY-MM-DD[T ]HH:MM[:SS]` or `DD/MM/YYYY HH:MM[:SS]`.
    let (date, time) = s.split_once(['T', ' '])?;
    let time = time.trim();
    let (y, m, d) = if date.contains('-') {
        let mut p = date.split('-');
        (num(p.next()?)?, num(p.next()?)?, num(p.next()?)?)
    } else if date.contains('/') {
        let mut p = date.split('/');
        let (d, m, y) = (num(p.next()?)?, num(p.next()?)?, num(p.next()?)?);
        (y, m, d)
    } else {
        return None;
    };
    let mut t = time.split(':');
    let hh = num(t.next()?)?;
    let mm = num(t.next()?)?;
    let ss = match t.next() {
        Some(x) => num(x.split('.').next()?)?,
        None => 0,
    };
    let dt = DateTime::new(
        i16::try_from(y).ok()?,
        i8::try_from(m).ok()?,
        i8::try_from(d).ok()?,
        i8::try_from(hh).ok()?,
        i8::try_from(mm).ok()?,
        i8::try_from(ss).ok()?,
        0,
    )
    .ok()?;
    Some(Stamp::Local(dt))
}

/// Both instants a local wall time can name (equal when unambiguous); `None` in a spring gap.
fn local_candidates(dt: DateTime, tz: &TimeZone) -> Option<(i64, i64)> {
    let amb = tz.to_ambiguous_timestamp(dt);
    if matches!(amb.offset(), AmbiguousOffset::Gap { .. }) {
        return None;
    }
    let earlier = amb.earlier().ok()?.as_second();
    let later = amb.later().ok()?.as_second();
    Some((earlier, later))
}

fn civil_seconds(a: DateTime, b: DateTime) -> Option<i64> {
    let ta = a
        .to_zoned_datetime(TimeZone::UTC)
        .ok()?
        .timestamp()
        .as_second();
    let tb = b
        .to_zoned_datetime(TimeZone::UTC)
        .ok()?
        .timestamp()
        .as_second();
    Some(tb - ta)
}

/// Reads a consumption CSV line by line into `set`. Times without an offset are wall time in
/// `tz` (pass [`london`] for UK files).
pub fn read_csv(
    reader: impl BufRead,
    tz: &TimeZone,
    set: &mut IntervalSet,
) -> Result<ImportSummary, ImportError> {
    let mut csv = CsvReader::new(tz.clone());
    let mut summary = ImportSummary::default();
    for line in reader.lines() {
        let line = line.map_err(|e| ImportError::Io(e.to_string()))?;
        csv.push_line(&line, set, &mut summary)?;
    }
    if !csv.saw_header {
        return Err(ImportError::Empty);
    }
    Ok(summary)
}

/// The CSV reader's state, for callers that feed lines themselves.
#[derive(Clone, Debug)]
pub struct CsvReader {
    tz: TimeZone,
    columns: Option<Columns>,
    saw_header: bool,
    line: u32,
    /// Resolved start of the previous row (orders October's repeated hour).
    prev_start: Option<i64>,
    descending: bool,
}

impl CsvReader {
    /// A reader for local times in `tz`.
    pub fn new(tz: TimeZone) -> Self {
        CsvReader {
            tz,
            columns: None,
            saw_header: false,
            line: 0,
            prev_start: None,
            descending: false,
        }
    }

    /// Reads one line (the first non-empty one is the header).
    pub fn push_line(
        &mut self,
        line: &str,
        set: &mut IntervalSet,
        summary: &mut ImportSummary,
    ) -> Result<(), ImportError> {
        self.line += 1;
        let line = line
            .trim_start_matches('\u{feff}')
            .trim_end_matches(['\r', '\n']);
        if line.trim().is_empty() {
            return Ok(());
        }
        let Some(cols) = self.columns else {
            self.saw_header = true;
            self.columns = Some(find_columns(line).ok_or_else(|| ImportError::Columns {
                header: line.chars().take(200).collect(),
            })?);
            return Ok(());
        };
        summary.rows += 1;
        match self.row(line, cols) {
            Ok(iv) => summary.count(set.insert(iv, self.line)),
            Err(message) => {
                summary.skipped += 1;
                set.note(self.line, "row", message);
            }
        }
        Ok(())
    }

    fn resolve_start(&mut self, stamp: Stamp) -> Result<i64, String> {
        match stamp {
            Stamp::Exact(t) => Ok(t),
            Stamp::Local(dt) => {
                let (earlier, later) = local_candidates(dt, &self.tz).ok_or_else(|| {
                    format!("{dt} does not exist in local time (the clocks went forward)")
                })?;
                if earlier == later {
                    return Ok(earlier);
                }
                // October's repeated hour: the file's order says which one it is.
                Ok(match (self.prev_start, self.descending) {
                    (Some(prev), false) if earlier <= prev => later,
                    (Some(prev), true) if later >= prev => earlier,
                    (_, false) => earlier,
                    (_, true) => later,
                })
            }
        }
    }

    fn row(&mut self, line: &str, cols: Columns) -> Result<Interval, String> {
        let fields = split_fields(line, cols.delimiter);
        let cell = |i: usize| fields.get(i).map(String::as_str).unwrap_or("");
        let joined;
        let start_text = match cols.time {
            Some(t) => {
                joined = format!("{} {}", cell(cols.start), cell(t));
                joined.as_str()
            }
            None => cell(cols.start),
        };
        let start_stamp = parse_stamp(start_text)
            .ok_or_else(|| format!("\"{start_text}\" is not a date and time"))?;
        let start = self.resolve_start(start_stamp)?;
        let end = match cols.end.map(cell).filter(|s| !s.is_empty()) {
            None => start + 1800,
            Some(text) => {
                let stamp = parse_stamp(text)
                    .ok_or_else(|| format!("\"{text}\" is not a date and time"))?;
                match (start_stamp, stamp) {
                    (_, Stamp::Exact(t)) => t,
                    (Stamp::Local(a), Stamp::Local(b)) => {
                        // The shorter of wall-clock and elapsed length is right on both DST
                        // nights (01:30 BST → 02:00 is 30 min, not 90).
                        // (01:30 BST → 01:00 GMT, as a wall-clock file writes it, is 30 min too.)
                        let civil = civil_seconds(a, b).filter(|x| *x > 0);
                        let elapsed = local_candidates(b, &self.tz)
                            .map(|(e, l)| if e > start { e } else { l } - start)
                            .filter(|x| *x > 0);
                        let len = match (civil, elapsed) {
                            (Some(c), Some(e)) => c.min(e),
                            (Some(x), None) | (None, Some(x)) => x,
                            (None, None) => return Err(format!("{b} is not after {a}")),
                        };
                        start + len
                    }
                    (Stamp::Exact(_), Stamp::Local(b)) => {
                        let (e, l) = local_candidates(b, &self.tz)
                            .ok_or_else(|| format!("{b} does not exist in local time"))?;
                        if e > start { e } else { l }
                    }
                }
            }
        };
        if end <= start {
            return Err(format!(
                "ends ({}) before it starts ({})",
                show(end),
                show(start)
            ));
        }
        if end - start > 31 * 86_400 {
            return Err("an interval longer than a month is not half-hourly data".into());
        }
        let raw = cell(cols.value);
        let text = if cols.delimiter != b',' {
            raw.replace(',', ".")
        } else {
            raw.to_owned()
        };
        let energy = decimal_to_scaled(&text, cols.shift)
            .ok_or_else(|| format!("\"{raw}\" is not an amount of energy"))?;
        if energy < 0 {
            return Err(format!(
                "negative consumption \"{raw}\" (is this an export file?)"
            ));
        }
        if let Some(prev) = self.prev_start
            && (!matches!(start_stamp, Stamp::Local(_)) || start != prev)
        {
            self.descending = start < prev;
        }
        self.prev_start = Some(start);
        Ok(Interval {
            start,
            end,
            energy_milli_wh: energy,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Green Button (ESPI) XML

/// Which direction of energy flow to take from a Green Button file (ESPI `flowDirection`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// `1`: delivered to the customer (import).
    Forward,
    /// `19`: received from the customer (export).
    Reverse,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ReadingType {
    /// Power of ten from the value to thousandths of a Wh.
    shift: i32,
    flow: Option<u32>,
    energy: bool,
}

impl Default for ReadingType {
    fn default() -> Self {
        ReadingType {
            shift: 3,
            flow: None,
            energy: true,
        }
    }
}

/// Reads the `IntervalReading`s of a Green Button file into `set`, taking only readings whose
/// `ReadingType` has the given flow (a file without `flowDirection` counts as forward) and
/// measures energy in Wh (`uom` 72; others are skipped with a diagnostic).
pub fn read_green_button(
    reader: impl BufRead,
    flow: Flow,
    set: &mut IntervalSet,
) -> Result<ImportSummary, ImportError> {
    use quick_xml::events::Event;
    let mut xml = quick_xml::Reader::from_reader(reader);
    let mut buf = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let mut summary = ImportSummary::default();
    let mut current = ReadingType::default();
    let mut pending_type = ReadingType::default();
    let mut saw_type = false;
    let mut unit_warned = false;
    let (mut start, mut duration, mut value): (Option<i64>, Option<i64>, Option<String>) =
        (None, None, None);
    let mut reading_no: u32 = 0;
    let want_flow = match flow {
        Flow::Forward => 1,
        Flow::Reverse => 19,
    };
    let mut any = false;
    loop {
        let position = xml.buffer_position();
        let event = xml
            .read_event_into(&mut buf)
            .map_err(|e| ImportError::Xml {
                position,
                message: e.to_string(),
            })?;
        match event {
            Event::Start(e) => {
                any = true;
                let name = e.local_name().as_ref().to_owned();
                match name.as_str() {
                    "ReadingType" => pending_type = ReadingType::default(),
                    "IntervalReading" => {
                        reading_no += 1;
                        (start, duration, value) = (None, None, None);
                    }
                    _ => {}
                }
                path.push(name);
            }
            Event::Empty(_) => any = true,
            Event::Text(t) => {
                let text = t.trim();
                if text.is_empty() {
                    buf.clear();
                    continue;
                }
                let n = path.len();
                let leaf = path.last().map(String::as_str).unwrap_or("");
                let parent = if n >= 2 { path[n - 2].as_str() } else { "" };
                let in_type = path.iter().any(|p| p == "ReadingType");
                let in_reading = path.iter().any(|p| p == "IntervalReading");
                if in_type {
                    match leaf {
                        "powerOfTenMultiplier" => {
                            if let Ok(p) = text.parse::<i32>() {
                                pending_type.shift = p.saturating_add(3);
                            }
                        }
                        "uom" => pending_type.energy = text == "72",
                        "flowDirection" => pending_type.flow = text.parse().ok(),
                        _ => {}
                    }
                } else if in_reading {
                    match (parent, leaf) {
                        ("timePeriod", "start") => start = text.parse().ok(),
                        ("timePeriod", "duration") => duration = text.parse().ok(),
                        ("IntervalReading", "value") => value = Some(text.to_owned()),
                        _ => {}
                    }
                }
            }
            Event::End(e) => {
                let name = e.local_name().as_ref().to_owned();
                path.pop();
                match name.as_str() {
                    "ReadingType" => {
                        current = pending_type;
                        saw_type = true;
                    }
                    "IntervalReading" => {
                        summary.rows += 1;
                        if current.flow.unwrap_or(1) != want_flow {
                            buf.clear();
                            continue;
                        }
                        if !current.energy {
                            summary.skipped += 1;
                            if !unit_warned {
                                unit_warned = true;
                                set.note(
                                    reading_no,
                                    "uom",
                                    "readings not in Wh (uom 72) are skipped".into(),
                                );
                            }
                            buf.clear();
                            continue;
                        }
                        let parsed = match (start, duration, value.as_deref()) {
                            (Some(s), Some(d), Some(v)) if d > 0 && d <= 31 * 86_400 => {
                                decimal_to_scaled(v, current.shift).map(|e| (s, d, e))
                            }
                            _ => None,
                        };
                        match parsed {
                            Some((s, d, e)) if e >= 0 => summary.count(set.insert(
                                Interval {
                                    start: s,
                                    end: s + d,
                                    energy_milli_wh: e,
                                },
                                reading_no,
                            )),
                            Some(_) => {
                                summary.skipped += 1;
                                set.note(
                                    reading_no,
                                    "value",
                                    "a negative value in a consumption reading".into(),
                                );
                            }
                            None => {
                                summary.skipped += 1;
                                set.note(
                                    reading_no,
                                    "IntervalReading",
                                    "needs timePeriod/start, timePeriod/duration and value".into(),
                                );
                            }
                        }
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !any {
        return Err(ImportError::Empty);
    }
    if !saw_type && summary.added > 0 {
        set.note(
            0,
            "ReadingType",
            "the file has no ReadingType; values were read as Wh".into(),
        );
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_scale_exactly() {
        assert_eq!(decimal_to_scaled("0.123", 6), Some(123_000));
        assert_eq!(decimal_to_scaled("0.123000", 3), Some(123));
        assert_eq!(decimal_to_scaled("0E-20", 6), Some(0));
        assert_eq!(decimal_to_scaled("1.5e3", 0), Some(1500));
        assert_eq!(
            decimal_to_scaled("-2.5", 0),
            Some(-3),
            "half away from zero"
        );
        assert_eq!(decimal_to_scaled("2.4999", 0), Some(2));
        assert_eq!(decimal_to_scaled(".5", 1), Some(5));
        assert_eq!(decimal_to_scaled("12.", 1), Some(120));
        assert_eq!(decimal_to_scaled("9223372036854775807", 0), Some(i64::MAX));
        assert_eq!(decimal_to_scaled("9223372036854775808", 0), None);
        assert_eq!(decimal_to_scaled("1e400", 0), None);
        assert_eq!(decimal_to_scaled("1e-400", 0), Some(0));
        for bad in ["", "-", ".", "1.2.3", "abc", "1,5", "1e", "--1", "١"] {
            assert_eq!(decimal_to_scaled(bad, 3), None, "{bad:?}");
        }
    }

    #[test]
    fn headers_choose_columns() {
        let c = find_columns("Consumption (kWh), Start, End").unwrap();
        assert_eq!((c.value, c.start, c.end, c.shift), (0, 1, Some(2), 6));
        let c = find_columns(
            "Consumption (kWh), Estimated Cost Inc. Tax (p), Standing Charge Inc. Tax (p), Start, End",
        )
        .unwrap();
        assert_eq!((c.value, c.start, c.end), (0, 3, Some(4)));
        let c = find_columns("start,end,kwh").unwrap();
        assert_eq!((c.value, c.start, c.end, c.time), (2, 0, Some(1), None));
        let c = find_columns("Date, Time, Consumption (kWh)").unwrap();
        assert_eq!((c.value, c.start, c.time, c.end), (2, 0, Some(1), None));
        let c = find_columns("Start;Wh").unwrap();
        assert_eq!(
            (c.value, c.start, c.end, c.shift, c.delimiter),
            (1, 0, None, 3, b';')
        );
        assert_eq!(find_columns("0.25,2026-06-01T00:00:00+01:00"), None);
        assert_eq!(find_columns("a,b,c"), None);
    }

    #[test]
    fn stamps() {
        assert_eq!(
            parse_stamp("2024-10-27T01:00:00+01:00"),
            Some(Stamp::Exact(1_729_987_200))
        );
        assert_eq!(
            parse_stamp("2024-10-27T01:00:00Z"),
            Some(Stamp::Exact(1_729_990_800))
        );
        assert!(matches!(
            parse_stamp("27/10/2024 01:30"),
            Some(Stamp::Local(_))
        ));
        assert!(matches!(
            parse_stamp("2024-10-27 01:30:00"),
            Some(Stamp::Local(_))
        ));
        assert_eq!(parse_stamp("31/02/2024 01:30"), None);
        assert_eq!(parse_stamp("yesterday"), None);
    }

    fn iv(start: i64, end: i64, wh: i64) -> Interval {
        Interval {
            start,
            end,
            energy_milli_wh: wh * 1000,
        }
    }

    fn at(time: i64, wh: i64) -> Stored {
        Stored { time, wh }
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

    #[test]
    fn encoding_is_compact_and_exact() {
        let one = Interval {
            start: 1800,
            end: 3600,
            energy_milli_wh: 150,
        };
        let mut set = IntervalSet::new();
        set.insert(one, 1);
        // version 1, count 1, gap 1800 → zigzag 3600 = 0x90 0x1C, length the same,
        // energy 150 → zigzag 300 = 0xAC 0x02.
        let bytes = set.encode();
        assert_eq!(bytes, [1, 1, 0x90, 0x1C, 0x90, 0x1C, 0xAC, 0x02]);
        let back = IntervalSet::decode(&bytes).unwrap();
        assert_eq!(back.intervals().copied().collect::<Vec<_>>(), [one]);

        let mut big = IntervalSet::new();
        for k in 0..17_520 {
            big.insert(
                iv(-86_400 + k * 1800, -86_400 + k * 1800 + 1800, k % 997),
                0,
            );
        }
        big.insert(iv(40_000_000, 40_000_900, 0), 0);
        let bytes = big.encode();
        assert!(bytes.len() < 17_521 * 6, "{} bytes", bytes.len());
        assert_eq!(
            IntervalSet::decode(&bytes).unwrap().intervals,
            big.intervals
        );
    }

    #[test]
    fn damaged_encodings_are_errors() {
        let good = [1u8, 2, 0x90, 0x1C, 0x90, 0x1C, 0xAC, 0x02, 0, 2, 4];
        assert!(IntervalSet::decode(&good).is_ok());
        let cases: [&[u8]; 8] = [
            &[],
            &[2, 0],                                     // another version
            &good[..7],                                  // truncated
            &[1, 2, 0x90, 0x1C, 0x90, 0x1C, 0, 1, 2, 0], // second starts before the first ends
            &[1, 1, 0, 0, 0],                            // zero length
            &[1, 1, 0, 2, 1],                            // negative energy
            &[1, 1, 0, 2, 0, 0],                         // trailing byte
            &[1, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F],          // count beyond the bytes
        ];
        for bytes in cases {
            assert_eq!(
                IntervalSet::decode(bytes),
                Err(ImportError::Stored),
                "{bytes:?}"
            );
        }
        // Eleven continuation bytes overflow a u64.
        let mut long = vec![1u8];
        long.extend([0x80; 11]);
        assert_eq!(IntervalSet::decode(&long), Err(ImportError::Stored));
    }

    #[test]
    fn nothing_stored_starts_at_the_fixed_register_flat_over_holes() {
        let new = [iv(0, 1800, 100), iv(1800, 3600, 200), iv(5400, 7200, 50)];
        let plan = plan_registers(&new, None, [], None);
        let b = FIRST_REGISTER_WH;
        assert_eq!(
            plan.points,
            [
                (0, b),
                (1800, b + 100),
                (3600, b + 300),
                (5400, b + 300),
                (7200, b + 350)
            ]
        );
        assert_eq!(plan.accepted, new);
        assert!(plan.covered.is_empty());
    }

    #[test]
    fn an_earlier_chain_counts_back_from_the_stored_reading_it_ends_at() {
        let new = [iv(0, 1800, 100), iv(1800, 3600, 200)];
        let plan = plan_registers(&new, None, [], Some(at(3600, 5000)));
        // 5000 − (100 + 200) = 4700; the reading at 3600 is the stored one.
        assert_eq!(plan.points, [(0, 4700), (1800, 4800)]);
        // Not abutting: it still counts back, and the hole before the stored one is flat.
        let plan = plan_registers(&new, None, [], Some(at(9000, 5000)));
        assert_eq!(plan.points, [(0, 4700), (1800, 4800), (3600, 5000)]);
    }

    #[test]
    fn a_later_chain_continues_the_stored_reading() {
        let plan = plan_registers(&[iv(3600, 5400, 100)], None, [at(3600, 777)], None);
        assert_eq!(plan.points, [(5400, 877)]);
        let plan = plan_registers(&[iv(3600, 5400, 100)], Some(at(10, 777)), [], None);
        assert_eq!(plan.points, [(3600, 777), (5400, 877)]);
    }

    #[test]
    fn a_filled_hole_ends_one_second_early_and_steps_down() {
        let new = [iv(1800, 3600, 100), iv(3600, 5400, 200)];
        let span = [at(1800, 1000), at(5400, 900)];
        let plan = plan_registers(&new, None, span, None);
        // From 1000: 1100 at 3600, then 1300 one second before the stored 900.
        assert_eq!(plan.points, [(3600, 1100), (5399, 1300)]);
        // When the totals happen to meet, no extra reading.
        let span = [at(1800, 1000), at(5400, 1300)];
        assert_eq!(
            plan_registers(&new, None, span, None).points,
            [(3600, 1100)]
        );
    }

    #[test]
    fn a_stored_reading_on_a_boundary_cuts_the_run() {
        let new = [iv(0, 1800, 100), iv(1800, 3600, 200)];
        let plan = plan_registers(&new, None, [at(1800, 5000)], None);
        // Before it: counting back to 5000 − 100; after it: from 5000.
        assert_eq!(plan.points, [(0, 4900), (3600, 5200)]);
        assert_eq!(plan.accepted, new);
    }

    #[test]
    fn intervals_with_stored_readings_inside_are_left_out() {
        let new = [iv(0, 1800, 100), iv(1800, 3600, 200), iv(3600, 5400, 300)];
        let span = [at(2000, 50), at(2500, 60)];
        let plan = plan_registers(&new, None, span, None);
        assert_eq!(plan.covered, [new[1]]);
        assert_eq!(plan.accepted, [new[0], new[2]]);
        // Before the meter: 50 − 100; after it: from the meter's last reading, 60.
        assert_eq!(
            plan.points,
            [(0, -50), (1800, -50 + 100), (3600, 60), (5400, 360)]
        );
    }

    #[test]
    fn fractions_of_a_watt_hour_do_not_drift() {
        let new: Vec<Interval> = (0..5)
            .map(|k| Interval {
                start: k * 1800,
                end: k * 1800 + 1800,
                energy_milli_wh: 400,
            })
            .collect();
        let b = FIRST_REGISTER_WH;
        let plan = plan_registers(&new, None, [], None);
        // Running totals 0.4, 0.8, 1.2, 1.6, 2.0 Wh, rounded.
        let wh: Vec<i64> = plan.points.iter().map(|p| p.1 - b).collect();
        assert_eq!(wh, [0, 0, 1, 1, 2, 2]);
    }
}
