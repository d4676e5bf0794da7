//! Energy per quarter hour, streamed from register readings.
//!
//! Energy between two consecutive readings comes from the registers (the difference of
//! `import_kwh`, or of the sum of tariff registers), so it is exact however far apart the
//! readings are. It belongs to the time between them and is split across quarter hours in
//! proportion to time, with cumulative rounding at 1 mWh so the pieces add up to the register
//! difference exactly. Each piece is the total's own share of its time; the meter tariffs share
//! it, so rounding them one by one never adds to or takes from the total, in any quarter hour,
//! day or month. An interval longer than [`UsageOptions::gap_s`] is a gap: its energy is spread
//! the same way but also counted as *estimated*. A register that goes down (meter swap
//! or reset), a change of meter, a clock that goes backwards or an impossible jump books
//! nothing for that interval and is counted instead; consumption is never negative.
//!
//! Gas is booked beside the electricity, from the gas register: the m³ between two
//! consecutive gas readings (their capture times, `gas_time`, when the meter gives them: a DSMR
//! meter repeats the same hourly or 5-minute capture in every telegram) belong to the time
//! between them and are split across quarter hours in proportion to time, at 1 cm³ with
//! cumulative rounding. A gas register that goes down (a gas meter swap or reset) starts a new
//! segment and books nothing; a rise faster than [`MAX_GAS_DM3_PER_H`] is refused; both are
//! counted.
//!
//! Only the quarter-hour totals are kept (a year is 35 040 slots of 80 bytes, about 2.8 MB), so
//! any number of 1-second readings can be streamed through [`UsageBuilder::push`].

use crate::contract::Tag;
use hearth_meter::{MeterId, Quantity, Reading};
use jiff::Timestamp;

/// Seconds in one slot.
pub const SLOT_S: i64 = 900;

/// The fastest a household gas register can plausibly rise, dm³ per hour: 40 m³/h, a G25
/// meter's maximum (the vault judges its rollups by the same limit).
pub const MAX_GAS_DM3_PER_H: i64 = 40_000;

/// Energy in one quarter hour. Energy is in mWh, split by the meter tariff it was registered
/// on (index by [`Tag`] as `usize`: untagged, tariff 1, tariff 2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Slot {
    /// Imported energy by meter tariff, mWh.
    pub import_mwh: [i64; 3],
    /// Exported energy by meter tariff, mWh.
    pub export_mwh: [i64; 3],
    /// The part of the import that was spread over a gap, mWh.
    pub estimated_import_mwh: i64,
    /// The part of the export that was spread over a gap, mWh.
    pub estimated_export_mwh: i64,
    /// Seconds covered by consecutive readings at most a gap apart.
    pub measured_s: u16,
    /// Seconds covered only by a gap.
    pub estimated_s: u16,
    /// Gas used, cm³ (thousandths of a dm³; a million per m³, as mWh per kWh).
    pub gas_cm3: i64,
}

impl Slot {
    /// All imported energy, mWh.
    pub fn import(&self) -> i64 {
        self.import_mwh.iter().sum()
    }

    /// All exported energy, mWh.
    pub fn export(&self) -> i64 {
        self.export_mwh.iter().sum()
    }

    /// Mean import power over the slot, W (mWh per 15 min × 4 / 1000).
    pub fn import_w(&self) -> i64 {
        self.import() * 4 / 1000
    }

    /// Mean export power over the slot, W.
    pub fn export_w(&self) -> i64 {
        self.export() * 4 / 1000
    }

    /// Whether readings covered the whole slot without a gap.
    pub fn is_measured(&self) -> bool {
        i64::from(self.measured_s) == SLOT_S
    }

    /// Whether any reading data covers the slot.
    pub fn has_data(&self) -> bool {
        self.measured_s > 0 || self.estimated_s > 0
    }
}

impl Tag {
    /// Index into [`Slot::import_mwh`].
    pub const fn index(self) -> usize {
        match self {
            Tag::Untagged => 0,
            Tag::T1 => 1,
            Tag::T2 => 2,
        }
    }

    /// All tags in index order.
    pub const ALL: [Tag; 3] = [Tag::Untagged, Tag::T1, Tag::T2];
}

/// How readings are turned into quarter hours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsageOptions {
    /// Readings further apart than this (seconds) leave a gap whose energy is estimated.
    pub gap_s: i64,
    /// A mean power above this (W) between two readings is impossible for a household: the
    /// interval is rejected as a register glitch.
    pub max_w: i64,
}

impl Default for UsageOptions {
    /// Gaps longer than 16 minutes (so 15-minute rollups are not gaps); at most 1 MW.
    fn default() -> Self {
        UsageOptions {
            gap_s: 960,
            max_w: 1_000_000,
        }
    }
}

/// What happened to the readings pushed in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UsageStats {
    /// Readings pushed.
    pub readings: u64,
    /// Readings without a time (skipped).
    pub no_time: u64,
    /// Readings without an import or export register (skipped).
    pub no_register: u64,
    /// Readings not later than the previous one (skipped: clock went back or duplicate).
    pub out_of_order: u64,
    /// Registers that went down or a different meter: a new segment, nothing booked.
    pub resets: u64,
    /// Intervals with an impossible mean power (nothing booked).
    pub implausible: u64,
    /// Intervals longer than the gap threshold (energy spread and marked estimated).
    pub gaps: u64,
    /// Parts of the source that could not be read (damaged vault chunks): their quarter hours
    /// count as missing.
    pub damaged: u64,
    /// Gas registers that went down (a gas meter swap or reset): a new segment, nothing booked.
    pub gas_resets: u64,
    /// Gas intervals faster than [`MAX_GAS_DM3_PER_H`] (nothing booked).
    pub gas_implausible: u64,
}

/// Quarter-hour energy over `[start, end)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Usage {
    start: i64,
    end: i64,
    slots: Vec<Slot>,
    /// Counters of skipped and odd readings.
    pub stats: UsageStats,
}

impl Usage {
    /// Streams readings (in time order) into quarter hours over `[from, to)`. Readings just
    /// outside the range still contribute the part of their interval inside it.
    pub fn from_readings<I>(
        readings: I,
        from: Timestamp,
        to: Timestamp,
        opts: UsageOptions,
    ) -> Usage
    where
        I: IntoIterator,
        I::Item: std::borrow::Borrow<Reading>,
    {
        let mut b = UsageBuilder::new(from, to, opts);
        for r in readings {
            b.push(std::borrow::Borrow::borrow(&r));
        }
        b.finish()
    }

    /// Start of the first slot (unix seconds, a multiple of 900).
    pub fn start(&self) -> i64 {
        self.start
    }

    /// End of the last slot.
    pub fn end(&self) -> i64 {
        self.end
    }

    /// The slots, one per quarter hour from [`Usage::start`].
    pub fn slots(&self) -> &[Slot] {
        &self.slots
    }

    /// Start (unix seconds) of slot `i`.
    pub fn slot_start(&self, i: usize) -> i64 {
        self.start + i as i64 * SLOT_S
    }

    /// Index of the slot containing `unix`, clamped to `0..=len`.
    pub fn slot_index(&self, unix: i64) -> usize {
        let i = (unix - self.start).div_euclid(SLOT_S).max(0) as usize;
        i.min(self.slots.len())
    }

    /// Gas used over slots `range`, cm³.
    pub fn gas_cm3(&self, range: std::ops::Range<usize>) -> i64 {
        let end = range.end.min(self.slots.len());
        let start = range.start.min(end);
        self.slots[start..end].iter().map(|s| s.gas_cm3).sum()
    }

    /// Totals over slots `range`: (import, export, estimated import, estimated export) in mWh.
    pub fn totals(&self, range: std::ops::Range<usize>) -> (i64, i64, i64, i64) {
        let end = range.end.min(self.slots.len());
        let start = range.start.min(end);
        self.slots[start..end].iter().fold((0, 0, 0, 0), |a, s| {
            (
                a.0 + s.import(),
                a.1 + s.export(),
                a.2 + s.estimated_import_mwh,
                a.3 + s.estimated_export_mwh,
            )
        })
    }
}

/// The register values of one reading that matter here.
#[derive(Clone, Debug)]
struct Snapshot {
    t: i64,
    import: Option<i64>,
    import_t: [Option<i64>; 2],
    export: Option<i64>,
    export_t: [Option<i64>; 2],
    tariff: Option<i64>,
}

impl Snapshot {
    fn of(r: &Reading, t: i64) -> Snapshot {
        let total = |q, t1, t2| {
            r.get(q).or_else(|| match (r.get(t1), r.get(t2)) {
                (Some(a), Some(b)) => a.checked_add(b),
                (Some(a), None) | (None, Some(a)) => Some(a),
                (None, None) => None,
            })
        };
        Snapshot {
            t,
            import: total(
                Quantity::ImportWh,
                Quantity::ImportT1Wh,
                Quantity::ImportT2Wh,
            ),
            import_t: [r.get(Quantity::ImportT1Wh), r.get(Quantity::ImportT2Wh)],
            export: total(
                Quantity::ExportWh,
                Quantity::ExportT1Wh,
                Quantity::ExportT2Wh,
            ),
            export_t: [r.get(Quantity::ExportT1Wh), r.get(Quantity::ExportT2Wh)],
            tariff: r.get(Quantity::Tariff),
        }
    }
}

/// Accumulates readings into a [`Usage`], one reading at a time.
#[derive(Debug)]
pub struct UsageBuilder {
    usage: Usage,
    opts: UsageOptions,
    prev: Option<Snapshot>,
    /// The meter of the latest accepted reading that named one.
    meter: Option<MeterId>,
    /// Per side (import, export) and meter tariff (T1, T2): register energy held back from the
    /// tariff (positive) or booked ahead of it (negative), in the unit booked; see
    /// [`by_tariff`].
    owed: [[i64; 2]; 2],
    /// The latest accepted gas reading: (capture time, register dm³).
    gas: Option<(i64, i64)>,
}

/// What a side (import or export) contributes over one interval, in mWh by tag.
type Split = Option<[i64; 3]>;

impl UsageBuilder {
    /// An empty accumulator for `[from, to)` (widened to whole quarter hours).
    pub fn new(from: Timestamp, to: Timestamp, opts: UsageOptions) -> UsageBuilder {
        let start = from.as_second().div_euclid(SLOT_S) * SLOT_S;
        let end = to.as_second().max(start);
        let end = (end + SLOT_S - 1).div_euclid(SLOT_S) * SLOT_S;
        let n = ((end - start) / SLOT_S) as usize;
        UsageBuilder {
            usage: Usage {
                start,
                end,
                slots: vec![Slot::default(); n],
                stats: UsageStats::default(),
            },
            opts,
            prev: None,
            meter: None,
            owed: [[0; 2]; 2],
            gas: None,
        }
    }

    /// Adds the next reading (readings must come in time order; others are counted and
    /// skipped).
    pub fn push(&mut self, r: &Reading) {
        self.usage.stats.readings += 1;
        if let Some(dm3) = r.get(Quantity::GasDm3)
            && let Some(at) = r.gas_time.or(r.time)
        {
            self.push_gas(at.unix, dm3);
        }
        let stats = &mut self.usage.stats;
        let Some(time) = r.time else {
            stats.no_time += 1;
            return;
        };
        let cur = Snapshot::of(r, time.unix);
        if cur.import.is_none() && cur.export.is_none() {
            stats.no_register += 1;
            return;
        }
        let Some(prev) = self.prev.take() else {
            self.prev = Some(cur);
            self.meter.clone_from(&r.meter_id);
            return;
        };
        if cur.t <= prev.t {
            stats.out_of_order += 1;
            self.prev = Some(prev);
            return;
        }
        let Some(dt) = cur.t.checked_sub(prev.t) else {
            stats.out_of_order += 1;
            self.prev = Some(prev);
            return;
        };
        // Compare without cloning the identifier on every reading; clone only on a change.
        let other_meter = matches!((&self.meter, &r.meter_id), (Some(a), Some(b)) if a != b);
        if r.meter_id.is_some() && self.meter != r.meter_id {
            self.meter.clone_from(&r.meter_id);
        }
        if other_meter {
            stats.resets += 1;
        } else {
            let import = self.side(
                dt,
                prev.import,
                cur.import,
                prev.import_t,
                cur.import_t,
                prev.tariff,
            );
            let export = self.side(
                dt,
                prev.export,
                cur.export,
                prev.export_t,
                cur.export_t,
                prev.tariff,
            );
            if import.is_some() || export.is_some() {
                let gap = dt > self.opts.gap_s;
                if gap {
                    self.usage.stats.gaps += 1;
                }
                self.spread(
                    prev.t,
                    cur.t,
                    import.unwrap_or_default(),
                    export.unwrap_or_default(),
                    gap,
                );
            }
        }
        self.prev = Some(cur);
    }

    /// The energy of one side over an interval, by tag; `None` when nothing can be booked.
    fn side(
        &mut self,
        dt: i64,
        prev: Option<i64>,
        cur: Option<i64>,
        prev_t: [Option<i64>; 2],
        cur_t: [Option<i64>; 2],
        tariff: Option<i64>,
    ) -> Split {
        let (Some(a), Some(b)) = (prev, cur) else {
            return None;
        };
        let d = b.checked_sub(a)?;
        if d < 0 {
            self.usage.stats.resets += 1;
            return None;
        }
        // Wh over dt seconds above max_w W: d × 3600 / dt > max_w.
        if i128::from(d) * 3600 > i128::from(self.opts.max_w) * i128::from(dt) {
            self.usage.stats.implausible += 1;
            return None;
        }
        let mwh = d.saturating_mul(1000);
        let deltas = [
            prev_t[0].zip(cur_t[0]).map(|(x, y)| y - x),
            prev_t[1].zip(cur_t[1]).map(|(x, y)| y - x),
        ];
        let mut split = [mwh, 0, 0];
        match deltas {
            [Some(d1), Some(d2)] if d1 >= 0 && d2 >= 0 && d1 + d2 <= d => {
                split = [(d - d1 - d2) * 1000, d1 * 1000, d2 * 1000];
            }
            _ => match tariff {
                Some(1) => split = [0, mwh, 0],
                Some(2) => split = [0, 0, mwh],
                _ => {}
            },
        }
        Some(split)
    }

    /// Spreads an interval's energy over the slots it crosses, in proportion to time.
    fn spread(&mut self, t0: i64, t1: i64, import: [i64; 3], export: [i64; 3], gap: bool) {
        let u = &mut self.usage;
        let a0 = t0.max(u.start);
        let b0 = t1.min(u.end);
        if a0 >= b0 {
            return;
        }
        // Fast path (most 1-second readings): the whole interval inside one slot of the range.
        if a0 == t0
            && b0 == t1
            && (t0 - u.start) / SLOT_S == (t1 - 1 - u.start) / SLOT_S
            && let Some(slot) = u.slots.get_mut(((t0 - u.start) / SLOT_S) as usize)
        {
            let secs = (t1 - t0) as u16;
            for k in 0..3 {
                slot.import_mwh[k] += import[k];
                slot.export_mwh[k] += export[k];
            }
            if gap {
                slot.estimated_import_mwh += import.iter().sum::<i64>();
                slot.estimated_export_mwh += export.iter().sum::<i64>();
                slot.estimated_s = slot.estimated_s.saturating_add(secs);
            } else {
                slot.measured_s = slot.measured_s.saturating_add(secs);
            }
            return;
        }
        let dt = i128::from(t1 - t0);
        let cum = |v: i64, at: i64| -> i64 { (i128::from(v) * i128::from(at - t0) / dt) as i64 };
        // Each side's total is split first, so every piece is the total's own share of its
        // time (as the vault splits the total register); the meter tariffs then share it.
        let piece = |v: [i64; 3], a: i64, b: i64, owed: &mut [i64; 2]| -> [i64; 3] {
            let part = |x: i64| cum(x, b) - cum(x, a);
            let t = Tag::T1.index();
            let u = Tag::T2.index();
            by_tariff(part(v.iter().sum()), [part(v[t]), part(v[u])], owed)
        };
        let mut a = a0;
        while a < b0 {
            let idx = ((a - u.start) / SLOT_S) as usize;
            let b = (u.start + (idx as i64 + 1) * SLOT_S).min(b0);
            let Some(slot) = u.slots.get_mut(idx) else {
                break;
            };
            let pi = piece(import, a, b, &mut self.owed[0]);
            let pe = piece(export, a, b, &mut self.owed[1]);
            for k in 0..3 {
                slot.import_mwh[k] += pi[k];
                slot.export_mwh[k] += pe[k];
            }
            let est_i: i64 = pi.iter().sum();
            let est_e: i64 = pe.iter().sum();
            let secs = (b - a) as u16;
            if gap {
                slot.estimated_import_mwh += est_i;
                slot.estimated_export_mwh += est_e;
                slot.estimated_s = slot.estimated_s.saturating_add(secs);
            } else {
                slot.measured_s = slot.measured_s.saturating_add(secs);
            }
            a = b;
        }
    }

    /// Adds a rollup interval given as register deltas: `used(q)` is the energy used in
    /// `[start, end)` for a register quantity (what a vault rollup row holds). Import and
    /// export are the total registers' energy (or the tariff registers' sum without one),
    /// split by meter tariff (T1, T2, and what the totals hold beyond them) with a carry
    /// between rows: the vault rounds each register's share of a gap on its own, so a row's
    /// tariff registers may hold a watt-hour more or less than its total.
    pub fn push_rollup(
        &mut self,
        start: i64,
        end: i64,
        used: impl Fn(Quantity) -> Option<i64>,
        estimated: bool,
    ) {
        // The total register's energy is the row's energy; the tariff registers share it.
        let side = |total, t1, t2, owed: &mut [i64; 2]| {
            let (a, b) = (used(t1).unwrap_or(0), used(t2).unwrap_or(0));
            let all = used(total).unwrap_or(a + b);
            by_tariff(all, [a, b], owed)
        };
        let import = side(
            Quantity::ImportWh,
            Quantity::ImportT1Wh,
            Quantity::ImportT2Wh,
            &mut self.owed[0],
        );
        let export = side(
            Quantity::ExportWh,
            Quantity::ExportT1Wh,
            Quantity::ExportT2Wh,
            &mut self.owed[1],
        );
        self.push_interval(start, end, import, export, estimated);
    }

    /// Adds energy already summed over `[start, end)` (a rollup row from the vault): import
    /// and export in Wh by [`Tag`] index, spread in proportion to time like a register
    /// difference; `estimated` marks energy the vault spread over a gap. Negative amounts are
    /// counted as resets and not booked.
    pub fn push_interval(
        &mut self,
        start: i64,
        end: i64,
        import_wh: [i64; 3],
        export_wh: [i64; 3],
        estimated: bool,
    ) {
        self.usage.stats.readings += 1;
        if end <= start {
            self.usage.stats.out_of_order += 1;
            return;
        }
        if import_wh.iter().chain(&export_wh).any(|v| *v < 0) {
            self.usage.stats.resets += 1;
            return;
        }
        let limit = i128::from(self.opts.max_w) * i128::from(end - start);
        let side_wh = |v: &[i64; 3]| v.iter().map(|x| i128::from(*x)).sum::<i128>();
        if side_wh(&import_wh) * 3600 > limit || side_wh(&export_wh) * 3600 > limit {
            self.usage.stats.implausible += 1;
            return;
        }
        let to_mwh = |v: [i64; 3]| v.map(|x| x.saturating_mul(1000));
        if estimated {
            self.usage.stats.gaps += 1;
        }
        self.spread(start, end, to_mwh(import_wh), to_mwh(export_wh), estimated);
    }

    /// Adds a gas register reading: `dm3` on the register, captured at `t` (unix seconds).
    /// The m³ since the previous gas reading are split over the time between them; a repeated
    /// capture (same time) or an older one adds nothing; a register that went down starts a new
    /// segment. [`UsageBuilder::push`] calls this for every reading with a gas register.
    pub fn push_gas(&mut self, t: i64, dm3: i64) {
        let Some((t0, v0)) = self.gas else {
            self.gas = Some((t, dm3));
            return;
        };
        if t <= t0 {
            // The same capture repeated in the next telegram, or a clock that went back.
            return;
        }
        self.gas = Some((t, dm3));
        let Some(d) = dm3.checked_sub(v0) else {
            self.usage.stats.gas_resets += 1;
            return;
        };
        if d < 0 {
            self.usage.stats.gas_resets += 1;
            return;
        }
        if i128::from(d) * 3600 > i128::from(MAX_GAS_DM3_PER_H) * i128::from(t - t0) {
            self.usage.stats.gas_implausible += 1;
            return;
        }
        self.spread_gas(t0, t, d.saturating_mul(1000));
    }

    /// Adds the gas a vault rollup row holds for the quarter hour starting at `start`, dm³
    /// (already booked by time between the gas readings by the vault). A negative amount is
    /// counted as a reset and not booked.
    pub fn push_gas_rollup(&mut self, start: i64, dm3: i64) {
        if dm3 < 0 {
            self.usage.stats.gas_resets += 1;
            return;
        }
        if i128::from(dm3) * 3600 > i128::from(MAX_GAS_DM3_PER_H) * i128::from(SLOT_S) {
            self.usage.stats.gas_implausible += 1;
            return;
        }
        self.spread_gas(start, start + SLOT_S, dm3.saturating_mul(1000));
    }

    /// Splits `cm3` over `[t0, t1)` in proportion to time, cumulatively rounded so the pieces
    /// add up to the whole; only the part inside the range is kept.
    fn spread_gas(&mut self, t0: i64, t1: i64, cm3: i64) {
        let u = &mut self.usage;
        let (a0, b0) = (t0.max(u.start), t1.min(u.end));
        if a0 >= b0 || cm3 == 0 {
            return;
        }
        let dt = i128::from(t1 - t0);
        let cum = |at: i64| -> i64 { (i128::from(cm3) * i128::from(at - t0) / dt) as i64 };
        let mut a = a0;
        while a < b0 {
            let idx = ((a - u.start) / SLOT_S) as usize;
            let b = (u.start + (idx as i64 + 1) * SLOT_S).min(b0);
            let Some(slot) = u.slots.get_mut(idx) else {
                break;
            };
            slot.gas_cm3 += cum(b) - cum(a);
            a = b;
        }
    }

    /// Counts a part of the source that could not be read (a damaged vault chunk); its
    /// quarter hours stay empty and count as missing.
    pub fn skip_damaged(&mut self) {
        self.usage.stats.damaged += 1;
    }

    /// The accumulated quarter hours.
    pub fn finish(self) -> Usage {
        self.usage
    }
}

/// How far the meter tariffs may be booked ahead of their registers by [`by_tariff`], in the
/// unit booked (Wh or mWh): the most that rounding can put between a total and its parts.
const TARIFF_LEAD: i64 = 2;

/// Splits `total`, a side's energy over a piece of time, by meter tariff (by [`Tag`] index)
/// given the tariff registers' shares `tariffs` (T1, T2) of the same time. The total is kept
/// exactly: it is what the total register counted, what every export shows, and what the
/// pieces of an interval add up to.
///
/// Each register's share of an interval is rounded on its own, so over one piece the tariff
/// shares can add up to a little less than the total's, and a piece later a little more.
/// `owed` (per tariff) keeps the difference between what a tariff was booked and its register
/// shares: positive when held back, negative when booked ahead. A shortfall first repays what
/// is owed, then (up to [`TARIFF_LEAD`]) books the larger share ahead; only the rest is
/// untagged. An excess is first taken back from a tariff booked ahead, then held back from the
/// larger share. So each piece adds up to the total, no part is negative, and over an interval
/// each tariff gets its register's energy. A negative amount is passed on as it is (its
/// interval is then refused).
fn by_tariff(total: i64, tariffs: [i64; 2], owed: &mut [i64; 2]) -> [i64; 3] {
    let (t1, t2, untagged) = (Tag::T1.index(), Tag::T2.index(), Tag::Untagged.index());
    let mut out = [0i64; 3];
    let mut rest = total - tariffs[0] - tariffs[1];
    let mut shares = tariffs;
    if total < 0 || tariffs.iter().any(|t| *t < 0) {
        out[t1] = tariffs[0];
        out[t2] = tariffs[1];
        out[untagged] = rest;
        return out;
    }
    let larger = |shares: &[i64; 2]| usize::from(shares[1] > shares[0]);
    if rest < 0 {
        // The excess is at most the tariffs' sum (the total is not negative).
        let mut excess = -rest;
        for k in 0..2 {
            let take = excess.min((-owed[k]).max(0)).min(shares[k]);
            shares[k] -= take;
            owed[k] += take;
            excess -= take;
        }
        while excess > 0 && shares.iter().any(|s| *s > 0) {
            let k = larger(&shares);
            let take = excess.min(shares[k]);
            shares[k] -= take;
            owed[k] += take;
            excess -= take;
        }
        rest = 0;
    } else if rest > 0 {
        for k in 0..2 {
            let pay = rest.min(owed[k].max(0));
            shares[k] += pay;
            owed[k] -= pay;
            rest -= pay;
        }
        let ahead: i64 = owed.iter().map(|o| (-o).max(0)).sum();
        let k = larger(&shares);
        if shares[k] > 0 {
            let lead = rest.min(TARIFF_LEAD - ahead).max(0);
            shares[k] += lead;
            owed[k] -= lead;
            rest -= lead;
        }
    }
    out[t1] = shares[0];
    out[t2] = shares[1];
    out[untagged] = rest;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_80_bytes() {
        // What the module's memory figure for a year of quarter hours rests on.
        assert_eq!(std::mem::size_of::<Slot>(), 80);
    }
    use hearth_meter::{MeterTime, Protocol};

    fn reading(unix: i64, import_wh: i64) -> Reading {
        let mut r = Reading::new(Protocol::Dsmr);
        r.time = Some(MeterTime::utc(unix));
        r.set(Quantity::ImportWh, import_wh);
        r
    }

    fn ts(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    #[test]
    fn interval_is_split_by_time_and_rounding_keeps_the_total() {
        // 100 Wh from 00:10 to 00:40 (1800 s): 300 s in slot 0, 900 s in slot 1, 600 s in
        // slot 2 -> 100 000 mWh × 300/1800 = 16 666.67, × 1200/1800 = 66 666.67 cumulative.
        // Pieces: floor(16 666.67) = 16 666; 66 666 - 16 666 = 50 000; 100 000 - 66 666 = 33 334.
        let u = Usage::from_readings(
            [reading(600, 1_000), reading(2_400, 1_100)],
            ts(0),
            ts(3_600),
            UsageOptions {
                gap_s: 3_600,
                ..UsageOptions::default()
            },
        );
        let imp: Vec<i64> = u.slots().iter().map(Slot::import).collect();
        assert_eq!(imp, vec![16_666, 50_000, 33_334, 0]);
        assert_eq!(u.totals(0..4).0, 100_000);
        assert_eq!(u.slots()[1].measured_s, 900);
        assert_eq!(u.slots()[0].measured_s, 300);
        assert_eq!(u.stats.gaps, 0);
    }

    #[test]
    fn gap_is_spread_and_marked_estimated() {
        // Readings at 00:00 and 02:00 (a 2 h gap) with 800 Wh between: 100 Wh per slot, all
        // estimated; the range ends at 01:00, so only 4 slots (400 Wh) fall inside.
        let u = Usage::from_readings(
            [reading(0, 5_000), reading(7_200, 5_800)],
            ts(0),
            ts(3_600),
            UsageOptions::default(),
        );
        assert_eq!(u.totals(0..4), (400_000, 0, 400_000, 0));
        assert_eq!(u.slots()[3].estimated_s, 900);
        assert_eq!(u.stats.gaps, 1);
    }

    #[test]
    fn meter_swap_books_nothing_and_never_negative() {
        // 1000 -> 1010 Wh (10 Wh), swap to a new meter at 3 Wh, then 3 -> 8 Wh (5 Wh).
        let u = Usage::from_readings(
            [
                reading(0, 1_000),
                reading(300, 1_010),
                reading(600, 3),
                reading(900, 8),
            ],
            ts(0),
            ts(900),
            UsageOptions::default(),
        );
        assert_eq!(u.totals(0..1).0, 15_000);
        assert_eq!(u.stats.resets, 1);
    }

    #[test]
    fn clock_jumps_garbage_and_missing_fields_are_counted() {
        let mut no_time = reading(0, 0);
        no_time.time = None;
        let mut other_meter = reading(700, 2_000);
        other_meter.meter_id = Some(MeterId::new("B"));
        let mut first = reading(0, 1_000);
        first.meter_id = Some(MeterId::new("A"));
        let mut second = reading(300, 1_001);
        second.meter_id = Some(MeterId::new("A"));
        let mut empty = Reading::new(Protocol::Dsmr);
        empty.time = Some(MeterTime::utc(0));
        let mut garbage = reading(400, 9_000_000);
        garbage.meter_id = Some(MeterId::new("A"));
        let readings = vec![
            no_time,
            empty, // no register
            first,
            second,
            reading(200, 1_002), // clock went back
            garbage,             // 9 MWh in 100 s: impossible
            other_meter,
        ];
        let u = Usage::from_readings(readings, ts(0), ts(900), UsageOptions::default());
        assert_eq!(u.totals(0..1).0, 1_000, "only the 1 Wh from 0 to 300 s");
        let s = u.stats;
        assert_eq!(
            (s.readings, s.no_time, s.no_register, s.out_of_order),
            (7, 1, 1, 1)
        );
        assert_eq!((s.implausible, s.resets), (1, 1));
    }

    #[test]
    fn rollup_intervals_keep_their_estimated_flag() {
        // Two vault quarter-hour rows: 100 Wh measured, then 50 Wh spread over a gap; a third
        // row claims 10 MWh in 15 minutes (40 MW) and is refused; a negative one too.
        let mut b = UsageBuilder::new(ts(0), ts(2_700), UsageOptions::default());
        b.push_interval(0, 900, [100, 0, 0], [0; 3], false);
        b.push_interval(900, 1_800, [0, 20, 30], [5, 0, 0], true);
        b.push_interval(1_800, 2_700, [10_000_000, 0, 0], [0; 3], false);
        b.push_interval(1_800, 2_700, [-1, 0, 0], [0; 3], false);
        let u = b.finish();
        assert_eq!(u.slots()[0].import_mwh, [100_000, 0, 0]);
        assert_eq!(u.slots()[1].import_mwh, [0, 20_000, 30_000]);
        assert_eq!(u.slots()[1].estimated_import_mwh, 50_000);
        assert_eq!(u.slots()[1].estimated_export_mwh, 5_000);
        assert_eq!(u.slots()[2], Slot::default());
        assert_eq!(
            (u.stats.implausible, u.stats.resets, u.stats.gaps),
            (1, 1, 1)
        );
    }

    /// A vault rollup row of quarter hour `q`: import total and tariff registers, Wh.
    fn push_row(b: &mut UsageBuilder, q: i64, total: Option<i64>, t1: i64, t2: i64) {
        b.push_rollup(
            q * SLOT_S,
            (q + 1) * SLOT_S,
            |r| match r {
                Quantity::ImportWh => total,
                Quantity::ImportT1Wh => Some(t1),
                Quantity::ImportT2Wh => Some(t2),
                _ => None,
            },
            true,
        );
    }

    #[test]
    fn rollup_rows_book_the_total_register_and_the_tariffs_share_it() {
        // Issue 17, finding 13: each register's share of a gap is rounded on its own, so a row's
        // tariff registers can hold 1 Wh more or less than its total. The total is booked
        // (5 Wh, not 6, over rows 0-1; 5 Wh, not 6, over rows 2-3), and each tariff still gets
        // its register's energy: T1 1 + 2 and T2 1 + 1 over rows 0-1, T1 1 + 1 and T2 2 + 1
        // over rows 2-3.
        let mut b = UsageBuilder::new(ts(0), ts(6 * SLOT_S), UsageOptions::default());
        // Short first: the 1 Wh goes to the larger share (a tie: T1) ahead of its register...
        push_row(&mut b, 0, Some(3), 1, 1);
        // ...and is taken back from it when the tariffs are over.
        push_row(&mut b, 1, Some(2), 2, 1);
        // Over first: held back from the larger share (T2), repaid when the tariffs are short.
        push_row(&mut b, 2, Some(2), 1, 2);
        push_row(&mut b, 3, Some(3), 1, 1);
        // A total with nothing on the tariffs is untagged; without a total, the tariffs'
        // sum.
        push_row(&mut b, 4, Some(10), 0, 0);
        push_row(&mut b, 5, None, 4, 3);
        let u = b.finish();
        let got: Vec<[i64; 3]> = u.slots().iter().map(|s| s.import_mwh).collect();
        assert_eq!(
            got,
            [
                [0, 2_000, 1_000],
                [0, 1_000, 1_000],
                [0, 1_000, 1_000],
                [0, 1_000, 2_000],
                [10_000, 0, 0],
                [0, 4_000, 3_000],
            ]
        );
        assert_eq!(u.totals(0..6).0, 27_000);
        assert_eq!(u.totals(0..6).2, 27_000, "all estimated, as flagged");
    }

    #[test]
    fn a_gap_with_tariff_registers_is_split_as_its_total() {
        // 1 Wh on T1 and 2 Wh on T2 over [100, 1_900): 800 s in slot 0, 900 s in slot 1, 100 s in
        // slot 2. The total's 3 000 mWh splits cumulatively into floor(1 333.3) = 1 333,
        // floor(2 833.3) - 1 333 = 1 500 and 167; T1's alone into 444, 500, 56 and T2's into
        // 888, 1 000, 112 (1 332 in slot 0). T2, the larger, takes slot 0's missing 1 mWh
        // ahead and gives it back in slot 2.
        let mk = |t, t1, t2| {
            let mut r = Reading::new(Protocol::Dsmr);
            r.time = Some(MeterTime::utc(t));
            r.set(Quantity::ImportT1Wh, t1);
            r.set(Quantity::ImportT2Wh, t2);
            r
        };
        let u = Usage::from_readings(
            [mk(100, 10, 20), mk(1_900, 11, 22)],
            ts(0),
            ts(2_700),
            UsageOptions::default(),
        );
        let got: Vec<[i64; 3]> = u.slots().iter().map(|s| s.import_mwh).collect();
        assert_eq!(got, [[0, 444, 889], [0, 500, 1_000], [0, 56, 111]]);
        let est: Vec<i64> = u.slots().iter().map(|s| s.estimated_import_mwh).collect();
        assert_eq!(est, [1_333, 1_500, 167]);
    }

    #[test]
    fn tariff_registers_tag_the_energy() {
        let mk = |t, t1, t2| {
            let mut r = Reading::new(Protocol::Dsmr);
            r.time = Some(MeterTime::utc(t));
            r.set(Quantity::ImportT1Wh, t1);
            r.set(Quantity::ImportT2Wh, t2);
            r.set(Quantity::ExportWh, 0);
            r
        };
        let u = Usage::from_readings(
            [mk(0, 100, 200), mk(900, 130, 210)],
            ts(0),
            ts(900),
            UsageOptions::default(),
        );
        assert_eq!(u.slots()[0].import_mwh, [0, 30_000, 10_000]);
        // Only the tariff index: everything is booked on the previous reading's tariff.
        let mk2 = |t, total, tariff| {
            let mut r = reading(t, total);
            r.set(Quantity::Tariff, tariff);
            r
        };
        let u = Usage::from_readings(
            [mk2(0, 0, 2), mk2(900, 40, 1)],
            ts(0),
            ts(900),
            UsageOptions::default(),
        );
        assert_eq!(u.slots()[0].import_mwh, [0, 0, 40_000]);
    }
}
