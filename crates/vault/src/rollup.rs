//! Rollups: 1-minute, 15-minute, hourly, daily and monthly buckets maintained as readings
//! arrive. Each bucket holds the energy used in it per register (from the cumulative registers,
//! so it is exact across gaps), the mean of every instantaneous value, the minimum and maximum
//! import and export power, and the last state values (tariff, monthly peak).
//!
//! Rules (design.md §2 "registers beat samples"):
//! - Readings need not all carry the same registers (RAVEn: demand every few seconds, the
//!   summation every few minutes; Glow: gas every 30 minutes). Each register's energy belongs
//!   to its own interval: from the previous reading that carried it to this one. Where that
//!   interval crosses a bucket boundary it is split in proportion to time, with integer
//!   arithmetic that never loses or invents a watt-hour. Minute buckets since the oldest
//!   register's previous value stay open (up to [`HOLD_SECONDS`]) so the interval can be
//!   booked where it belongs.
//! - A step between readings longer than the source's own interval (its cadence, the
//!   shortest of its recent steps, plus half; at least [`GAP_SECONDS`]) is a gap: register
//!   intervals that span it are still filled from the registers, spread the same way, and
//!   every bucket they touch is flagged `estimated`. Readings 15 minutes apart are a
//!   quarter-hour source, not a run of gaps; an interval that is long only because the meter
//!   sends that register rarely is not a gap either.
//! - A register that goes down, or up faster than a household can use ([`max_rise`]), is
//!   suspect: nothing is booked for it until it settles. If it comes back to its old series
//!   within [`GLITCH_SECONDS`] the odd readings were a glitch: the energy from the last good
//!   value to the returning one is booked and the glitch counted. If it never comes back it
//!   was a meter swap or reset: that step books nothing (never negative consumption, never a
//!   spike) and the new series counts from the suspect reading on.
//! - Supplier intervals (a download's half-hourly energy, [`Kind::Interval`]) are booked
//!   beside the registers, never as registers: a minute the meter measured keeps the meter's
//!   energy; a minute it did not measure (no readings, or a gap it spread) takes the
//!   interval's share instead. Which data arrived first never matters.
//!
//! Minute buckets are built from readings; every coarser level is folded from the level below
//! when a bucket closes, so each reading is touched once.
//!
//! This file holds the state (buckets being filled, each register's previous value); how
//! finished buckets and the resumable state are stored is in `format`.

mod format;

pub(crate) use format::{decode_buckets, encode_buckets};

use crate::resolution::{Resolution, bucket_of};
use hearth_meter::reading::Kind;
use hearth_meter::{Protocol, Quantity, Reading};
use jiff::tz::TimeZone;
use std::collections::{BTreeSet, VecDeque};

/// A step between readings longer than this many seconds is a gap: its energy is spread and
/// flagged estimated.
pub const GAP_SECONDS: i64 = 60;

/// A step longer than this (about two years) is taken for a clock jump, not a gap: its
/// energy is not spread (that would invent a flat line over years) and a new segment starts.
pub const MAX_SPREAD_SECONDS: i64 = 2 * 366 * 86_400;

const N: usize = Quantity::COUNT;
const IMPORT_W: usize = Quantity::ImportW as usize;
const EXPORT_W: usize = Quantity::ExportW as usize;
const INTERVAL_S: usize = Quantity::IntervalS as usize;

/// A register that drops, or rises faster than [`max_rise`], and comes back to its old series
/// within this many seconds was a glitch; one that does not was a meter swap or reset.
pub const GLITCH_SECONDS: i64 = 3600;

/// A suspect register that has gone on as a series of its own for this many readings (each
/// step plausible, at least one a rise) is a new meter or a reset without waiting for
/// [`GLITCH_SECONDS`]: a glitch is a reading or a few, not a counting register.
pub const SWAP_READINGS: u32 = 10;

/// How many glitches and meter swaps the builder remembers (the newest).
const MAX_EVENTS: usize = 4096;

/// The longest supplier interval booked (Green Button daily values).
pub const MAX_INTERVAL_SECONDS: i64 = 86_400;

/// How many recent steps between meter readings set the cadence.
const STEPS: usize = 8;

/// One direction of energy: the supplier interval quantity, and the meter's registers it
/// stands in for (total, tariff 1, tariff 2).
struct Direction {
    interval: usize,
    registers: [usize; 3],
}

const DIRECTIONS: [Direction; 2] = [
    Direction {
        interval: Quantity::IntervalImportWh as usize,
        registers: [
            Quantity::ImportWh as usize,
            Quantity::ImportT1Wh as usize,
            Quantity::ImportT2Wh as usize,
        ],
    },
    Direction {
        interval: Quantity::IntervalExportWh as usize,
        registers: [
            Quantity::ExportWh as usize,
            Quantity::ExportT1Wh as usize,
            Quantity::ExportT2Wh as usize,
        ],
    },
];

/// Per quantity: `(direction, slot)` for the energy registers of [`DIRECTIONS`].
const fn slots() -> [Option<(u8, u8)>; N] {
    let mut out = [None; N];
    let mut k = 0;
    while k < DIRECTIONS.len() {
        let mut j = 0;
        while j < 3 {
            out[DIRECTIONS[k].registers[j]] = Some((k as u8, j as u8));
            j += 1;
        }
        k += 1;
    }
    out
}
const SLOTS: [Option<(u8, u8)>; N] = slots();

/// Per register: how fast it can plausibly rise on a household connection, per hour, and the
/// slack of one coarse register step. `None`: event counters, never judged.
const fn rise_limits() -> [Option<(i64, i64)>; N] {
    let mut out = [None; N];
    let mut i = 0;
    while i < N {
        out[i] = match Quantity::ALL[i] {
            // 100 kW, and a register that counts in whole kWh.
            Quantity::ImportWh
            | Quantity::ImportT1Wh
            | Quantity::ImportT2Wh
            | Quantity::ExportWh
            | Quantity::ExportT1Wh
            | Quantity::ExportT2Wh
            | Quantity::ReactiveImportVarh
            | Quantity::ReactiveExportVarh => Some((100_000, 1_000)),
            // 40 m³/h of gas (a G25 meter), 20 m³/h of water, in dm³; whole m³ registers.
            Quantity::GasDm3 => Some((40_000, 1_000)),
            Quantity::WaterDm3 => Some((20_000, 1_000)),
            // 100 kW of heat (360 MJ/h), and 10 MJ of register resolution.
            Quantity::HeatMj => Some((360, 10)),
            _ => None,
        };
        i += 1;
    }
    out
}
const RISE_LIMITS: [Option<(i64, i64)>; N] = rise_limits();

/// The most register `i` can plausibly rise in `dt` seconds (`i64::MAX` for counters).
pub(crate) fn max_rise(i: usize, dt: i64) -> i64 {
    match RISE_LIMITS[i] {
        Some((per_hour, slack)) => per_hour
            .saturating_mul(dt.max(0))
            .saturating_div(3600)
            .saturating_add(slack),
        None => i64::MAX,
    }
}

const fn kinds() -> [Kind; N] {
    let mut out = [Kind::State; N];
    let mut i = 0;
    while i < N {
        out[i] = Quantity::ALL[i].kind();
        i += 1;
    }
    out
}
const KINDS: [Kind; N] = kinds();

/// One finished bucket of a rollup series.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bucket {
    /// Start of the bucket (Unix seconds, UTC).
    pub start: i64,
    /// Readings that fell into the bucket.
    pub samples: u32,
    /// Part of the bucket's energy was spread over a gap.
    pub estimated: bool,
    /// Which quantities have a value (bit = `Quantity as u8`).
    pub mask: u64,
    /// Per quantity: registers hold the energy used in the bucket; instantaneous values the
    /// mean; states the last value.
    pub values: [i64; N],
    /// Minimum and maximum import power, then minimum and maximum export power, in W (valid
    /// when `import_w` / `export_w` are in `mask`).
    pub minmax: [i64; 4],
}

impl Bucket {
    /// The value of a quantity, if present.
    pub fn get(&self, q: Quantity) -> Option<i64> {
        (self.mask & (1 << q as u8) != 0).then(|| self.values[q as usize])
    }
}

/// A bucket being filled: sums rather than means, so levels fold exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Acc {
    pub start: i64,
    pub end: i64,
    samples: u32,
    estimated: bool,
    mask: u64,
    val: [i64; N],
    cnt: [u32; N],
    minmax: [i64; 4],
    /// Minute level: the registers that received energy spread over a gap.
    est: u64,
    /// Minute level, per [`DIRECTIONS`] register (total, tariff 1, tariff 2): the part of its
    /// energy spread over a gap, Wh.
    est_wh: [[i64; 3]; 2],
    /// Minute level, per direction: seconds of the bucket the meter's registers measured.
    measured_s: [i64; 2],
}

impl Acc {
    fn new(start: i64, end: i64) -> Self {
        Acc {
            start,
            end,
            samples: 0,
            estimated: false,
            mask: 0,
            val: [0; N],
            cnt: [0; N],
            minmax: [i64::MAX, i64::MIN, i64::MAX, i64::MIN],
            est: 0,
            est_wh: [[0; 3]; 2],
            measured_s: [0; 2],
        }
    }

    /// Books `wh` of register `i`'s delta, spread over a gap or not.
    #[inline]
    fn add_energy(&mut self, i: usize, wh: i64, estimated: bool) {
        self.val[i] = self.val[i].saturating_add(wh);
        self.mask |= 1 << i;
        if estimated {
            self.est |= 1 << i;
            self.estimated = true;
            if let Some((k, j)) = SLOTS[i] {
                let e = &mut self.est_wh[usize::from(k)][usize::from(j)];
                *e = e.saturating_add(wh);
            }
        }
    }

    /// Notes that the registers of `deltas` measured `secs` seconds of this bucket.
    #[inline]
    fn add_measured(&mut self, deltas: &[(i64, usize, i64)], secs: i64) {
        let mut seen = [false; 2];
        for &(_, i, _) in deltas {
            if let Some((k, _)) = SLOTS[i] {
                seen[usize::from(k)] = true;
            }
        }
        for (k, seen) in seen.into_iter().enumerate() {
            if seen {
                self.measured_s[k] = self.measured_s[k].saturating_add(secs);
            }
        }
    }

    /// Books `wh` of supplier interval energy (quantity `i`).
    fn add_interval(&mut self, i: usize, wh: i64) {
        self.val[i] = self.val[i].saturating_add(wh);
        self.mask |= 1 << i;
    }

    /// Settles a minute bucket's supplier intervals against the meter's registers: where the
    /// meter measured the whole minute its energy stands; otherwise what it spread over a gap
    /// gives way to the interval's share of the unmeasured seconds. The interval quantities
    /// leave the bucket, so every coarser level and every reader sees one energy per register.
    fn resolve(&mut self) {
        for (k, dir) in DIRECTIONS.iter().enumerate() {
            let bit = 1u64 << dir.interval;
            if self.mask & bit == 0 {
                continue;
            }
            let energy = std::mem::take(&mut self.val[dir.interval]);
            self.mask &= !bit;
            let len = (self.end - self.start).max(1);
            let measured = self.measured_s[k].clamp(0, len);
            if measured == len {
                continue;
            }
            let share = if measured == 0 {
                energy
            } else {
                rounded_div(energy.saturating_mul(len - measured), len)
            };
            for (j, &q) in dir.registers.iter().enumerate() {
                let qb = 1u64 << q;
                if self.mask & qb == 0 {
                    continue;
                }
                let spread = std::mem::take(&mut self.est_wh[k][j]);
                self.val[q] = self.val[q].saturating_sub(spread);
                self.est &= !qb;
                if measured == 0 {
                    self.mask &= !qb;
                    self.val[q] = 0;
                }
            }
            let total = dir.registers[0];
            self.val[total] = self.val[total].saturating_add(share);
            self.mask |= 1 << total;
        }
        self.mask &= !(1 << INTERVAL_S);
        self.estimated = self.est != 0;
    }

    fn add_sample(&mut self, r: &Reading, new_reading: bool) {
        self.samples += u32::from(new_reading);
        for (q, v) in r.quantities() {
            let i = q as usize;
            match KINDS[i] {
                Kind::Register | Kind::Interval => {}
                Kind::Instant => {
                    self.val[i] = self.val[i].saturating_add(v);
                    self.cnt[i] += 1;
                    self.mask |= 1 << i;
                    if i == IMPORT_W {
                        self.minmax[0] = self.minmax[0].min(v);
                        self.minmax[1] = self.minmax[1].max(v);
                    } else if i == EXPORT_W {
                        self.minmax[2] = self.minmax[2].min(v);
                        self.minmax[3] = self.minmax[3].max(v);
                    }
                }
                Kind::State => {
                    self.val[i] = v;
                    self.mask |= 1 << i;
                }
            }
        }
    }

    /// Folds a finished finer bucket (which lies later than anything already folded).
    #[allow(clippy::needless_range_loop)] // parallel per-quantity arrays
    fn absorb(&mut self, o: &Acc) {
        self.samples += o.samples;
        self.estimated |= o.estimated;
        for i in 0..N {
            if o.mask & (1 << i) == 0 {
                continue;
            }
            match KINDS[i] {
                Kind::Register | Kind::Instant | Kind::Interval => {
                    self.val[i] = self.val[i].saturating_add(o.val[i]);
                    self.cnt[i] += o.cnt[i];
                }
                Kind::State => self.val[i] = o.val[i],
            }
        }
        self.mask |= o.mask;
        self.minmax[0] = self.minmax[0].min(o.minmax[0]);
        self.minmax[1] = self.minmax[1].max(o.minmax[1]);
        self.minmax[2] = self.minmax[2].min(o.minmax[2]);
        self.minmax[3] = self.minmax[3].max(o.minmax[3]);
    }

    #[allow(clippy::needless_range_loop)] // parallel per-quantity arrays
    fn finish(&self) -> Bucket {
        let mut values = self.val;
        for i in 0..N {
            if KINDS[i] == Kind::Instant && self.cnt[i] > 0 {
                values[i] = rounded_div(self.val[i], i64::from(self.cnt[i]));
            }
        }
        let mut minmax = self.minmax;
        for m in &mut minmax {
            if *m == i64::MAX || *m == i64::MIN {
                *m = 0;
            }
        }
        Bucket {
            start: self.start,
            samples: self.samples,
            estimated: self.estimated,
            mask: self.mask,
            values,
            minmax,
        }
    }
}

/// `a / b` rounded half away from zero (b > 0).
fn rounded_div(a: i64, b: i64) -> i64 {
    let (a, b) = (i128::from(a), i128::from(b));
    let q = if a >= 0 {
        (2 * a + b) / (2 * b)
    } else {
        (2 * a - b) / (2 * b)
    };
    q as i64
}

/// How long (seconds) a register that has gone quiet keeps the minute buckets since its last
/// value open, waiting for its next value to be spread over them. Covers meters that send
/// their registers less often than their power (RAVEn summations every few minutes, Glow gas
/// every 30 minutes, HAN list 3 every hour). A register silent for longer no longer holds
/// buckets back: when it does come back, its delta is spread from the oldest bucket still
/// open (flagged estimated) instead of from its previous value.
pub const HOLD_SECONDS: i64 = 3 * 3600;

/// Readings older than this before a rebuild's start are not read to find each register's
/// previous value (covers registers sent as rarely as once a day).
pub(crate) const PRIME_SECONDS: i64 = 26 * 3600;

/// A register that went down, or up implausibly fast, and has not settled yet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Suspect {
    /// The last good value, and when it was read.
    pub val: i64,
    pub at: i64,
    /// The first suspect value, and when it was read.
    pub first: i64,
    pub since: i64,
    /// Readings of the suspect series so far, each step plausible from the one before.
    pub readings: u32,
    /// Whether the suspect series has risen.
    pub rose: bool,
}

/// What the builder remembers of the readings so far: each register's last value and the
/// time of the reading that carried it (readings need not all carry the same registers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Prev {
    /// Time of the previous reading, whatever it carried.
    pub t: i64,
    /// Time of the reading that ended the latest gap in the stream (`i64::MIN`: none known).
    gap_end: i64,
    mask: u64,
    val: [i64; N],
    /// Per register: the time of the reading its value in `val` came from.
    at: [i64; N],
    /// Time of the previous meter reading (one with more than supplier intervals;
    /// `i64::MIN`: none).
    meter_t: i64,
    /// The latest steps between meter readings (0: none yet), newest at `step_k - 1`.
    steps: [i64; STEPS],
    step_k: usize,
    /// Registers under suspicion, and what is known of each.
    sus_mask: u64,
    sus: [Suspect; N],
}

impl Prev {
    fn new(t: i64) -> Prev {
        Prev {
            t,
            gap_end: i64::MIN,
            mask: 0,
            val: [0; N],
            at: [0; N],
            meter_t: i64::MIN,
            steps: [0; STEPS],
            step_k: 0,
            sus_mask: 0,
            sus: [Suspect::default(); N],
        }
    }

    /// The earliest instant a later reading may still book energy from: the oldest register
    /// time (or last good time of a suspect register) not older than [`HOLD_SECONDS`], at
    /// most the previous reading's time.
    fn horizon(&self) -> i64 {
        let mut h = self.t;
        let oldest = self.t.saturating_sub(HOLD_SECONDS);
        let mut m = self.mask;
        while m != 0 {
            let i = m.trailing_zeros() as usize;
            m &= m - 1;
            let at = if self.sus_mask & (1 << i) != 0 {
                self.sus[i].at
            } else {
                self.at[i]
            };
            if at >= oldest {
                h = h.min(at);
            }
        }
        h
    }

    /// The source's own interval: the shortest of its recent steps, if any is known.
    fn cadence(&self) -> Option<i64> {
        self.steps.iter().copied().filter(|&s| s > 0).min()
    }

    /// A step between meter readings longer than this is a gap.
    fn gap_threshold(&self) -> i64 {
        match self.cadence() {
            Some(c) => GAP_SECONDS.max(c.saturating_add(c / 2)),
            None => GAP_SECONDS,
        }
    }

    fn learn_step(&mut self, step: i64) {
        if step > 0 {
            self.steps[self.step_k % STEPS] = step;
            self.step_k = (self.step_k + 1) % STEPS;
        }
    }
}

/// Whether a reading is a meter's (only meter readings set the cadence and make gaps): not a
/// supplier download's, and more than interval energy.
fn is_meter(r: &Reading) -> bool {
    r.protocol != Protocol::Supplier
        && r.quantities()
            .any(|(q, _)| KINDS[q as usize] != Kind::Interval)
}

/// The slot of [`Prev`] that follows the import registers builds before interval energy made
/// up for supplier downloads (a supplier reading with `import_kwh` and no `interval_s`): their
/// steps are booked as interval energy, never as the meter's register.
const LEGACY_SUPPLIER: usize = Quantity::IntervalImportWh as usize;

/// Whether a reading is a supplier register made up by builds before interval energy.
fn is_legacy_supplier(r: &Reading) -> bool {
    r.protocol == Protocol::Supplier && r.get(Quantity::IntervalS).is_none()
}

/// The registers a reading carries (bit = `Quantity as u8`).
pub(crate) fn register_mask(r: &Reading) -> u64 {
    r.quantities()
        .filter(|(q, _)| KINDS[*q as usize] == Kind::Register)
        .fold(0, |m, (q, _)| m | 1 << q as u8)
}

/// Finds each register's previous value from the readings before a point, visited newest
/// first (used when rebuilding rollups from a month start).
pub(crate) struct PrevScan {
    prev: Option<Prev>,
    /// The newest meter readings' times, newest first (up to [`STEPS`] + 1: the cadence).
    meter_times: Vec<i64>,
    /// The time of the meter reading visited last (the next newer one).
    newer: i64,
    /// The newest gap older than the steps in `meter_times`: the reading that ended it.
    older_gap_end: i64,
    /// The gap threshold of the newest steps, once `meter_times` is full.
    threshold: Option<i64>,
}

impl PrevScan {
    pub(crate) fn new() -> Self {
        PrevScan {
            prev: None,
            meter_times: Vec::with_capacity(STEPS + 1),
            newer: i64::MIN,
            older_gap_end: i64::MIN,
            threshold: None,
        }
    }

    /// Takes the next older reading (strictly older than the one visited before).
    pub(crate) fn visit(&mut self, r: &Reading, t: i64) {
        let p = self.prev.get_or_insert_with(|| Prev::new(t));
        if is_meter(r) {
            if self.meter_times.len() <= STEPS {
                self.meter_times.push(t);
            } else if self.older_gap_end == i64::MIN {
                // The cadence is known from the newest steps: older gaps are judged by it.
                let times = &self.meter_times;
                let threshold = *self.threshold.get_or_insert_with(|| {
                    let mut cadence = Prev::new(t);
                    for w in times.windows(2) {
                        cadence.learn_step(w[0].saturating_sub(w[1]));
                    }
                    cadence.gap_threshold()
                });
                if self.newer.saturating_sub(t) > threshold {
                    self.older_gap_end = self.newer;
                }
            }
            self.newer = t;
        }
        let legacy = is_legacy_supplier(r);
        for (q, v) in r.quantities() {
            let mut i = q as usize;
            if legacy && i == Quantity::ImportWh as usize {
                i = LEGACY_SUPPLIER;
            } else if KINDS[i] != Kind::Register || legacy {
                continue;
            }
            if p.mask & (1 << i) == 0 {
                p.mask |= 1 << i;
                p.val[i] = v;
                p.at[i] = t;
            }
        }
    }

    /// Whether readings older than `t` can no longer matter.
    pub(crate) fn done_before(&self, t: i64) -> bool {
        self.prev
            .as_ref()
            .is_some_and(|p| t < p.t.saturating_sub(PRIME_SECONDS))
    }

    pub(crate) fn finish(self) -> Option<Prev> {
        let mut p = self.prev?;
        let times = &self.meter_times;
        p.meter_t = times.first().copied().unwrap_or(i64::MIN);
        // Oldest step first, so the newest ends at `step_k - 1`.
        for w in times.windows(2).rev() {
            p.learn_step(w[0].saturating_sub(w[1]));
        }
        // The newest gap: among the newest steps, else the one found further back.
        let threshold = p.gap_threshold();
        p.gap_end = times
            .windows(2)
            .find(|w| w[0].saturating_sub(w[1]) > threshold)
            .map_or(self.older_gap_end, |w| w[0]);
        Some(p)
    }
}

/// One rollup series being built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Level {
    pub res: Resolution,
    /// Open buckets, oldest first: several minute buckets while a register's next value is
    /// awaited, at most one for coarser levels.
    pub open: VecDeque<Acc>,
    /// The chunk window the finished buckets below belong to.
    pub window: i64,
    /// Finished buckets of the current chunk window, oldest first.
    pub chunk: Vec<Bucket>,
}

/// A chunk of finished buckets ready to be sealed and stored.
pub(crate) struct ClosedChunk {
    pub res: Resolution,
    pub window: i64,
    pub buckets: Vec<Bucket>,
}

/// Counters the builder keeps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RollupCounts {
    /// Steps where a register went down (meter swap or reset): a new segment started.
    pub meter_swaps: u64,
    /// Steps longer than [`GAP_SECONDS`], filled by spreading the register delta.
    pub gaps: u64,
    /// Steps longer than [`MAX_SPREAD_SECONDS`]: a clock jump, booked as a new segment.
    pub clock_jumps: u64,
    /// Registers that went down (or jumped up) and came back to their series within
    /// [`GLITCH_SECONDS`]: the odd readings booked nothing.
    pub glitches: u64,
}

/// Maintains all five rollup levels from a time-ordered stream of readings.
pub(crate) struct Builder {
    tz: TimeZone,
    pub levels: Vec<Level>,
    pub prev: Option<Prev>,
    /// Nothing before this instant is booked (used when rebuilding from a month start).
    pub clip: i64,
    /// Gaps, clock jumps and (from builds before [`Builder::events`]) meter swaps.
    pub counts: RollupCounts,
    /// Glitches and meter swaps found, by (first suspect time, register, swap): a rebuild
    /// finds those after its start again, so each is counted once however often its month
    /// is rebuilt. The newest [`MAX_EVENTS`] are kept.
    pub events: BTreeSet<(i64, u8, bool)>,
    /// Chunks whose window is complete, to be written by the vault.
    pub closed: Vec<ClosedChunk>,
    /// End of the newest minute bucket that was closed: nothing earlier can be booked.
    settled: i64,
    /// Restored from a version-1 checkpoint, written when the rollups only booked registers
    /// present in two consecutive readings.
    pub legacy: bool,
    /// (interval start, quantity, delta) of the reading being pushed.
    deltas: Vec<(i64, usize, i64)>,
}

impl Builder {
    pub(crate) fn new(tz: TimeZone) -> Self {
        Builder {
            tz,
            levels: Resolution::ROLLUPS
                .iter()
                .map(|&res| Level {
                    res,
                    open: VecDeque::new(),
                    window: i64::MIN,
                    chunk: Vec::new(),
                })
                .collect(),
            prev: None,
            clip: i64::MIN,
            counts: RollupCounts::default(),
            events: BTreeSet::new(),
            closed: Vec::new(),
            settled: i64::MIN,
            legacy: false,
            deltas: Vec::with_capacity(N),
        }
    }

    /// The counters, glitches and meter swaps included.
    pub(crate) fn counts(&self) -> RollupCounts {
        let swaps = self.events.iter().filter(|e| e.2).count() as u64;
        RollupCounts {
            meter_swaps: self.counts.meter_swaps + swaps,
            glitches: self.events.len() as u64 - swaps,
            ..self.counts
        }
    }

    /// Starts from register values found before the first reading to push (a rebuild).
    pub(crate) fn set_prev(&mut self, prev: Option<Prev>) {
        self.prev = prev;
    }

    /// Adds a reading at `t`, strictly later than the previous one. Each register it carries
    /// books its delta over its own interval: from the previous reading that carried it.
    /// Supplier intervals it carries are booked over `[t, t + interval_s)`.
    pub(crate) fn push(&mut self, r: &Reading, t: i64) {
        self.push_inner(r, t, false);
    }

    /// Adds quantities that arrived in a second reading at the time of the last one pushed
    /// (`t` equal to it): what the stored reading lacked, so it is not counted as a sample
    /// again.
    pub(crate) fn push_extra(&mut self, r: &Reading, t: i64) {
        self.push_inner(r, t, true);
    }

    fn push_inner(&mut self, r: &Reading, t: i64, extra: bool) {
        let had_prev = self.prev.is_some();
        let prev = self.prev.get_or_insert_with(|| Prev::new(t));
        let counts = &mut self.counts;
        let events = &mut self.events;
        let deltas = &mut self.deltas;
        let meter = is_meter(r);
        let mut jumped = false;
        if had_prev && meter && prev.meter_t != i64::MIN {
            let step = t.saturating_sub(prev.meter_t);
            if step > MAX_SPREAD_SECONDS {
                jumped = true;
            } else {
                if step > prev.gap_threshold() {
                    counts.gaps += 1;
                    prev.gap_end = t;
                }
                prev.learn_step(step);
            }
        }
        deltas.clear();
        let mut legacy_interval = None;
        let legacy = is_legacy_supplier(r);
        if legacy && let Some(v) = r.get(Quantity::ImportWh) {
            let bit = 1u64 << LEGACY_SUPPLIER;
            let (t0, before) = (prev.at[LEGACY_SUPPLIER], prev.val[LEGACY_SUPPLIER]);
            if prev.mask & bit != 0
                && (0..=MAX_INTERVAL_SECONDS).contains(&t.saturating_sub(t0))
                && (0..=max_rise(Quantity::ImportWh as usize, t - t0)).contains(&(v - before))
            {
                legacy_interval = Some((t0, v - before));
            }
            prev.mask |= bit;
            prev.val[LEGACY_SUPPLIER] = v;
            prev.at[LEGACY_SUPPLIER] = t;
        }
        for (q, v) in r.quantities() {
            let i = q as usize;
            if KINDS[i] != Kind::Register || legacy {
                continue;
            }
            let bit = 1u64 << i;
            if prev.mask & bit != 0 {
                let t0 = prev.at[i];
                if t.saturating_sub(t0) > MAX_SPREAD_SECONDS {
                    jumped = true;
                    prev.sus_mask &= !bit;
                } else if prev.sus_mask & bit != 0 {
                    let s = &mut prev.sus[i];
                    let step = v.saturating_sub(prev.val[i]);
                    if step >= 0 && step <= max_rise(i, t.saturating_sub(t0)) {
                        s.readings += 1;
                        s.rose |= step > 0;
                    } else {
                        // Not a series either: the suspicion starts again from here.
                        s.first = v;
                        s.since = t;
                        s.readings = 1;
                        s.rose = false;
                    }
                    let s = *s;
                    if v >= s.val && v - s.val <= max_rise(i, t.saturating_sub(s.at)) {
                        // Back on the old series: the readings in between were a glitch.
                        events.insert((s.since, i as u8, false));
                        deltas.push((s.at, i, v - s.val));
                        prev.sus_mask &= !bit;
                    } else if t.saturating_sub(s.since) > GLITCH_SECONDS
                        || (s.readings >= SWAP_READINGS && s.rose)
                    {
                        // It never came back, or counts on as a series of its own: a new
                        // meter or a reset, counting from the first suspect reading on.
                        events.insert((s.since, i as u8, true));
                        deltas.push((s.since, i, v.saturating_sub(s.first).max(0)));
                        prev.sus_mask &= !bit;
                    }
                } else {
                    let d = v.saturating_sub(prev.val[i]);
                    if d < 0 || d > max_rise(i, t.saturating_sub(t0)) {
                        prev.sus_mask |= bit;
                        prev.sus[i] = Suspect {
                            val: prev.val[i],
                            at: t0,
                            first: v,
                            since: t,
                            readings: 1,
                            rose: false,
                        };
                    } else {
                        deltas.push((t0, i, d));
                    }
                }
            }
            prev.mask |= bit;
            prev.val[i] = v;
            prev.at[i] = t;
        }
        if jumped {
            counts.clock_jumps += 1;
        }
        while events.len() > MAX_EVENTS {
            events.pop_first();
        }
        if meter {
            prev.meter_t = t;
        }
        prev.t = t;
        let horizon = prev.horizon();
        let gap_end = prev.gap_end;

        let mut deltas = std::mem::take(&mut self.deltas);
        if deltas.windows(2).any(|w| w[0].0 != w[1].0) {
            deltas.sort_by_key(|d| d.0);
        }
        let mut g = 0;
        while g < deltas.len() {
            let t0 = deltas[g].0;
            let end = deltas[g..]
                .iter()
                .position(|d| d.0 != t0)
                .map_or(deltas.len(), |k| g + k);
            let limit = deltas.get(end).map_or(horizon, |d| d.0.min(horizon));
            // Energy of a register silent for longer than HOLD_SECONDS: its buckets have
            // closed, so it is spread from the oldest one still open.
            let from = t0.max(self.settled);
            let estimated = gap_end > t0 || from > t0;
            self.book(from, t, &deltas[g..end], estimated, limit);
            g = end;
        }
        self.deltas = deltas;
        self.book_intervals(r, t);
        if let Some((t0, wh)) = legacy_interval {
            self.book_interval(t0, t, 0, wh);
        }
        if t >= self.clip {
            self.minute(t).add_sample(r, !extra);
        }
        self.settle(horizon);
    }

    /// Books the supplier intervals a reading at `t` carries over `[t, t + interval_s)`
    /// (parts before `clip` are left out). An interval that is not positive or is longer than
    /// [`MAX_INTERVAL_SECONDS`], or negative energy, is not booked.
    pub(crate) fn book_intervals(&mut self, r: &Reading, t: i64) {
        let Some(len) = r.get(Quantity::IntervalS) else {
            return;
        };
        if len <= 0 || len > MAX_INTERVAL_SECONDS {
            return;
        }
        let t1 = t.saturating_add(len);
        for (k, dir) in DIRECTIONS.iter().enumerate() {
            if let Some(wh) = r.get(Quantity::ALL[dir.interval])
                && wh >= 0
            {
                self.book_interval(t, t1, k, wh);
            }
        }
    }

    /// Books `wh` of direction `k`'s interval energy over `[t0, t1)`, split over minute
    /// buckets in proportion to time (from the oldest open one if `t0` has closed).
    fn book_interval(&mut self, t0: i64, t1: i64, k: usize, wh: i64) {
        let t0 = t0.max(self.settled);
        let span = i128::from((t1 - t0).max(1));
        let mut s = t0;
        let interval = DIRECTIONS[k].interval;
        while s < t1 {
            let (_, end) = bucket_of(Resolution::Minute, &self.tz, s);
            let e = end.min(t1);
            if s >= self.clip {
                let upto = |x: i64| (i128::from(wh) * i128::from(x - t0) / span) as i64;
                self.minute(s).add_interval(interval, upto(e) - upto(s));
            }
            s = e;
        }
    }

    /// Books register deltas for the time `[t0, t1)`, split over minute buckets; minute
    /// buckets ending by `limit` may close on the way (long gaps stay in bounded memory).
    fn book(
        &mut self,
        t0: i64,
        t1: i64,
        deltas: &[(i64, usize, i64)],
        estimated: bool,
        limit: i64,
    ) {
        if deltas.is_empty() || t1 <= t0 {
            return;
        }
        // Fast path: the whole step lies in the newest open minute bucket.
        if let Some(acc) = self.levels[0].open.back_mut()
            && acc.start <= t0
            && t1 <= acc.end
        {
            if t0 >= self.clip {
                for &(_, i, d) in deltas {
                    acc.add_energy(i, d, estimated);
                }
                if !estimated {
                    acc.add_measured(deltas, t1 - t0);
                }
            }
            return;
        }
        let span = i128::from(t1 - t0);
        let mut s = t0;
        while s < t1 {
            let (_, end) = bucket_of(Resolution::Minute, &self.tz, s);
            let e = end.min(t1);
            if s >= self.clip {
                let acc = self.minute(s);
                for &(_, i, d) in deltas {
                    // Cumulative share up to e minus cumulative share up to s: parts sum to d.
                    let upto = |x: i64| (i128::from(d) * i128::from(x - t0) / span) as i64;
                    acc.add_energy(i, upto(e) - upto(s), estimated);
                }
                if !estimated {
                    acc.add_measured(deltas, e - s);
                }
            }
            self.settle(e.min(limit));
            s = e;
        }
    }

    /// The open minute bucket containing `t` (at or after `settled`), created if needed.
    fn minute(&mut self, t: i64) -> &mut Acc {
        let open = &mut self.levels[0].open;
        let k = match open.back() {
            Some(a) if a.start <= t && t < a.end => open.len() - 1,
            _ => {
                let k = open.partition_point(|a| a.end <= t);
                if !(k < open.len() && open[k].start <= t) {
                    let (s, e) = bucket_of(Resolution::Minute, &self.tz, t);
                    open.insert(k, Acc::new(s, e));
                }
                k
            }
        };
        &mut open[k]
    }

    /// Closes the open minute buckets that end by `upto`, oldest first.
    fn settle(&mut self, upto: i64) {
        while self.levels[0].open.front().is_some_and(|a| a.end <= upto) {
            if let Some(acc) = self.levels[0].open.pop_front() {
                self.settled = acc.end;
                self.file(0, acc);
            }
        }
    }

    /// The open bucket of coarser level `i` containing `t`, closing (and folding) earlier
    /// ones.
    fn ensure(&mut self, i: usize, t: i64) -> &mut Acc {
        let stale = match self.levels[i].open.back() {
            Some(a) => t >= a.end || t < a.start,
            None => true,
        };
        if stale {
            while let Some(acc) = self.levels[i].open.pop_front() {
                self.file(i, acc);
            }
            let (s, e) = bucket_of(self.levels[i].res, &self.tz, t);
            self.levels[i].open.push_back(Acc::new(s, e));
        }
        let res = self.levels[i].res;
        let open = &mut self.levels[i].open;
        if open.is_empty() {
            open.push_back(Acc::new(t, t + res.nominal_seconds()));
        }
        let k = open.len() - 1;
        &mut open[k]
    }

    /// Finishes an open bucket of level `i`, files it and folds it into level `i + 1`.
    fn file(&mut self, i: usize, mut acc: Acc) {
        if i == 0 {
            acc.resolve();
        }
        let bucket = acc.finish();
        let level = &mut self.levels[i];
        let window = level.res.chunk_start(bucket.start);
        if window != level.window {
            if !level.chunk.is_empty() {
                self.closed.push(ClosedChunk {
                    res: level.res,
                    window: level.window,
                    buckets: std::mem::take(&mut level.chunk),
                });
            }
            level.window = window;
        }
        level.chunk.push(bucket);
        if i + 1 < self.levels.len() {
            self.ensure(i + 1, acc.start).absorb(&acc);
        }
    }

    /// Every level's current chunk plus its open buckets for a checkpoint. Open buckets of
    /// finer levels are not folded into coarser ones until they close, so each level's
    /// snapshot folds in copies of everything still open below it.
    pub(crate) fn snapshot(&self) -> Vec<ClosedChunk> {
        let mut out = Vec::new();
        let mut carry: Vec<Acc> = Vec::new();
        for level in &self.levels {
            let mut pending: Vec<Acc> = level.open.iter().cloned().collect();
            if level.res == Resolution::Minute {
                pending.iter_mut().for_each(Acc::resolve);
            }
            for c in &carry {
                match pending
                    .iter_mut()
                    .rev()
                    .find(|p| p.start <= c.start && c.start < p.end)
                {
                    Some(p) => p.absorb(c),
                    None => {
                        let (s, e) = bucket_of(level.res, &self.tz, c.start);
                        let mut p = Acc::new(s, e);
                        p.absorb(c);
                        let k = pending.partition_point(|x| x.start < s);
                        pending.insert(k, p);
                    }
                }
            }
            let mut groups: Vec<ClosedChunk> = vec![ClosedChunk {
                res: level.res,
                window: level.window,
                buckets: level.chunk.clone(),
            }];
            for p in &pending {
                let w = level.res.chunk_start(p.start);
                match groups.last_mut() {
                    Some(g) if g.window == w => g.buckets.push(p.finish()),
                    _ => groups.push(ClosedChunk {
                        res: level.res,
                        window: w,
                        buckets: vec![p.finish()],
                    }),
                }
            }
            out.extend(groups.into_iter().filter(|g| !g.buckets.is_empty()));
            carry = pending;
        }
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::wire::Malformed;
    use hearth_meter::{MeterTime, Protocol};

    /// A DSMR reading at `t` (UTC) with its import register and power.
    pub(crate) fn reading(t: i64, import_wh: i64, watts: i64) -> Reading {
        let mut r = Reading::new(Protocol::Dsmr);
        r.time = Some(MeterTime::utc(t));
        r.set(Quantity::ImportWh, import_wh);
        r.set(Quantity::ImportW, watts);
        r
    }

    pub(crate) fn utc() -> TimeZone {
        TimeZone::UTC
    }

    fn all_buckets(b: &Builder, res: Resolution) -> Vec<Bucket> {
        let mut out = Vec::new();
        for c in b.closed.iter().filter(|c| c.res == res) {
            out.extend(c.buckets.iter().cloned());
        }
        for c in b.snapshot().into_iter().filter(|c| c.res == res) {
            out.extend(c.buckets);
        }
        out
    }

    #[test]
    fn energy_is_split_in_proportion_to_time_and_gaps_are_estimated() {
        let mut b = Builder::new(utc());
        // 12:00:30 -> 12:02:30 (120 s, a gap) with 1200 Wh: 30 s in minute 12:00 (300 Wh),
        // 60 s in 12:01 (600 Wh), 30 s in 12:02 (300 Wh).
        let t = 1_767_268_800; // 2026-01-01T12:00:00Z
        b.push(&reading(t + 30, 10_000, 500), t + 30);
        b.push(&reading(t + 150, 11_200, 700), t + 150);
        b.push(&reading(t + 151, 11_201, 900), t + 151);
        let m = all_buckets(&b, Resolution::Minute);
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].start, t);
        assert_eq!(m[0].get(Quantity::ImportWh), Some(300));
        assert_eq!(m[1].get(Quantity::ImportWh), Some(600));
        assert_eq!(m[2].get(Quantity::ImportWh), Some(301));
        assert!(m[0].estimated && m[1].estimated && m[2].estimated);
        assert_eq!(m[1].samples, 0);
        // Minute 12:02 holds the samples at :30 (700 W) and :31 (900 W): mean 800, min 700.
        assert_eq!(m[2].get(Quantity::ImportW), Some(800));
        assert_eq!(m[2].minmax[..2], [700, 900]);
        assert_eq!(b.counts.gaps, 1);
        let h = all_buckets(&b, Resolution::Hour);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].get(Quantity::ImportWh), Some(1201));
        assert_eq!(h[0].samples, 3);
        // (500 + 700 + 900) / 3 = 700.
        assert_eq!(h[0].get(Quantity::ImportW), Some(700));
    }

    #[test]
    fn uneven_splits_never_lose_a_watt_hour() {
        let mut b = Builder::new(utc());
        let t = 1_767_268_800;
        // 7 Wh over 7 minutes and 3 seconds: parts must sum to exactly 7.
        b.push(&reading(t + 1, 0, 0), t + 1);
        b.push(&reading(t + 424, 7, 0), t + 424);
        let m = all_buckets(&b, Resolution::Minute);
        let total: i64 = m.iter().filter_map(|x| x.get(Quantity::ImportWh)).sum();
        assert_eq!(total, 7);
        assert_eq!(m.len(), 8);
    }

    #[test]
    fn a_register_going_down_for_good_is_a_new_segment_not_negative_energy() {
        let mut b = Builder::new(utc());
        let t = 1_767_268_800;
        b.push(&reading(t, 5_000_000, 100), t);
        b.push(&reading(t + 10, 5_000_004, 100), t + 10);
        // New meter: the register restarts near zero and counts 1 Wh every 10 s from there.
        for k in 0..=40 {
            b.push(&reading(t + 20 + 10 * k, 12 + k, 100), t + 20 + 10 * k);
            if k == 8 {
                // Nine readings of a series of its own could still be a glitch.
                assert_eq!(b.counts().meter_swaps, 0);
            }
        }
        // Confirmed at the tenth (+110 s): the new series' 9 Wh since the swap are spread
        // over [+20 s, +110 s), and the 31 steps after it follow.
        assert_eq!((b.counts().meter_swaps, b.counts().glitches), (1, 0));
        let m = all_buckets(&b, Resolution::Minute);
        let total: i64 = m.iter().filter_map(|x| x.get(Quantity::ImportWh)).sum();
        assert_eq!(total, 4 + 40);
        // Minute 12:00 holds the old meter's 4 Wh and 40 s of the 90 s spread: 9 * 40/90 = 4.
        assert_eq!(m[0].get(Quantity::ImportWh), Some(4 + 4));
        assert!(m.iter().all(|x| !x.estimated));
    }

    #[test]
    fn a_register_that_stays_down_without_counting_is_a_swap_after_the_window() {
        let t = 1_767_268_800;
        // Down to 12 and flat (a new meter in a house using nothing, or a stuck register):
        // not a series of its own that rises, so it waits out GLITCH_SECONDS.
        let mut b = Builder::new(utc());
        b.push(&reading(t, 5_000_000, 0), t);
        let mut x = t + 10;
        while x <= t + 10 + GLITCH_SECONDS {
            b.push(&reading(x, 12, 0), x);
            x += 10;
        }
        assert_eq!(b.counts().meter_swaps, 0);
        b.push(&reading(x, 15, 0), x);
        assert_eq!((b.counts().meter_swaps, b.counts().glitches), (1, 0));
        let d = all_buckets(&b, Resolution::Day);
        assert_eq!(d[0].get(Quantity::ImportWh), Some(3));
    }

    /// Register readings every 10 s from `t`, 1 Wh a step from 10 kWh, except the given
    /// (step, value) replacements.
    fn series_with(t: i64, steps: i64, odd: &[(i64, i64)]) -> Builder {
        let mut b = Builder::new(utc());
        for k in 0..steps {
            let v = odd.iter().find(|o| o.0 == k).map_or(10_000 + k, |o| o.1);
            b.push(&reading(t + 10 * k, v, 360), t + 10 * k);
        }
        b
    }

    #[test]
    fn a_register_that_drops_or_jumps_and_comes_back_is_a_glitch_never_booked() {
        let t = 1_767_268_800;
        // 120 readings: 119 Wh from 10,000 to 10,119, whatever the odd readings say.
        for odd in [
            vec![(50, 0)],                      // drops to zero for one reading
            vec![(50, -7)],                     // negative (JSON Lines)
            vec![(50, 9_000)],                  // any lower value
            vec![(50, 0), (51, 0), (52, 3)],    // several readings
            vec![(50, 1_000_000_000)],          // a million kWh for one reading
            vec![(50, 10_000 + 50 + 2_000)],    // 2 kWh in 10 s: 720 kW, impossible
            vec![(50, 0), (51, 1_000_000_000)], // down, then up too far, then back
        ] {
            let b = series_with(t, 120, &odd);
            let m = all_buckets(&b, Resolution::Minute);
            let used: Vec<i64> = m.iter().filter_map(|x| x.get(Quantity::ImportWh)).collect();
            assert_eq!(used.iter().sum::<i64>(), 119, "{odd:?}");
            // No minute books more than the 6 Wh of its six steps plus the odd ones' share.
            assert!(used.iter().all(|&wh| wh <= 12), "{odd:?}: {used:?}");
            assert_eq!(b.counts().glitches, 1, "{odd:?}");
            assert_eq!(b.counts().meter_swaps, 0, "{odd:?}");
            let d = all_buckets(&b, Resolution::Day);
            assert_eq!(d[0].get(Quantity::ImportWh), Some(119), "{odd:?}");
        }
    }

    #[test]
    fn supplier_registers_made_up_by_earlier_builds_count_as_intervals_beside_the_meter() {
        let t = 1_767_268_800; // 12:00
        let supplier = |x: i64, wh: i64| {
            let mut r = Reading::new(Protocol::Supplier);
            r.time = Some(MeterTime::utc(t + x));
            r.set(Quantity::ImportWh, wh);
            (r, t + x)
        };
        // Half hours 12:00-13:00 as an earlier build stored them: registers from 1 GWh.
        // Then the meter's own readings from 13:00, a register near 5,000 kWh, 1 Wh a second.
        let mut all = vec![
            supplier(0, 1_000_000_000),
            supplier(1800, 1_000_000_300),
            supplier(3600, 1_000_000_500),
        ];
        for k in 0..=600 {
            all.push((reading(t + 3600 + k, 5_000_000 + k, 3600), t + 3600 + k));
        }
        let b = build(&all);
        let h = all_buckets(&b, Resolution::Hour);
        // 12:00 holds the two half hours (300 + 200 Wh), 13:00 the meter's 600 Wh: no jump of
        // a million kWh, no swap, no glitch.
        assert_eq!(energy(&h, Quantity::ImportWh), [Some(500), Some(600)]);
        assert_eq!(b.counts(), RollupCounts::default());
    }

    #[test]
    fn a_plausible_step_is_never_suspect() {
        let t = 1_767_268_800;
        // 270 Wh in 10 s is 97.2 kW: under 100 kW, booked as it comes (a kettle, an oven and
        // a heat pump on a big connection).
        let mut b = Builder::new(utc());
        for k in 0..60 {
            let v = 10_000 + k + if k >= 30 { 269 } else { 0 };
            b.push(&reading(t + 10 * k, v, 360), t + 10 * k);
        }
        assert_eq!(b.counts(), RollupCounts::default());
        let m = all_buckets(&b, Resolution::Minute);
        assert_eq!(m[4].get(Quantity::ImportWh), Some(5 + 270));
    }

    fn only(t: i64, q: Quantity, v: i64) -> Reading {
        let mut r = Reading::new(Protocol::Raven);
        r.time = Some(MeterTime::utc(t));
        r.set(q, v);
        r
    }

    fn energy(buckets: &[Bucket], q: Quantity) -> Vec<Option<i64>> {
        buckets.iter().map(|b| b.get(q)).collect()
    }

    fn build(readings: &[(Reading, i64)]) -> Builder {
        let mut b = Builder::new(utc());
        for (r, t) in readings {
            b.push(r, *t);
        }
        b
    }

    /// A RAVEn-shaped stream over two hours from `t`: demand (power only) every 8 s at
    /// `t + 4 + 8j`, summation (the import register only) every 240 s at `t + 240k`.
    fn raven_readings(t: i64) -> Vec<(Reading, i64)> {
        // Register steps of the 15 summation intervals of each hour (Wh).
        let d = [
            40, 80, 120, 200, 60, 20, 100, 160, 240, 40, 80, 120, 200, 60, 20,
        ];
        let mut wh = 10_000;
        let mut out = vec![(only(t, Quantity::ImportWh, wh), t)];
        for j in 0..900 {
            let tp = t + 4 + 8 * j;
            out.push((only(tp, Quantity::ImportW, 300 + j % 7), tp));
            let ts = tp + 4;
            if (ts - t) % 240 == 0 {
                wh += d[((ts - t) / 240 - 1) as usize % 15];
                out.push((only(ts, Quantity::ImportWh, wh), ts));
            }
        }
        out
    }

    #[test]
    fn registers_sent_less_often_than_power_are_booked_over_their_own_interval() {
        let t = 1_767_268_800; // 2026-01-01T12:00:00Z
        let b = build(&raven_readings(t));
        // Interval k covers [240k, 240k + 240) s after the hour; quarter boundaries are at
        // 900, 1800 and 2700 s, so per hour:
        // Q0 = 40 + 80 + 120 + 200 * 180/240 = 390
        // Q1 = 200 * 60/240 + 60 + 20 + 100 + 160 * 120/240 = 50 + 180 + 80 = 310
        // Q2 = 80 + 240 + 40 + 80 + 120 * 60/240 = 470
        // Q3 = 120 * 180/240 + 200 + 60 + 20 = 370; the hour 1540 = the sum of the 15 steps.
        // (Before the fix every bucket held 0 Wh: no two consecutive readings had a register.)
        // The summation at 14:00 opens a quarter and an hour with a sample but no energy.
        let q = all_buckets(&b, Resolution::Quarter);
        let starts: Vec<i64> = q.iter().map(|x| x.start).collect();
        assert_eq!(starts, (0..9).map(|k| t + 900 * k).collect::<Vec<_>>());
        let hour = [Some(390), Some(310), Some(470), Some(370)];
        assert_eq!(
            energy(&q, Quantity::ImportWh),
            [&hour[..], &hour[..], &[None]].concat()
        );
        let h = all_buckets(&b, Resolution::Hour);
        assert_eq!(
            energy(&h, Quantity::ImportWh),
            [Some(1540), Some(1540), None]
        );
        let d = all_buckets(&b, Resolution::Day);
        assert_eq!(energy(&d, Quantity::ImportWh), [Some(3080)]);
        // Minute 12:00 holds 60/240 of the first step: 10 Wh.
        let m = all_buckets(&b, Resolution::Minute);
        assert_eq!(m[0].get(Quantity::ImportWh), Some(10));
        assert_eq!(m.len(), 121, "12:00 to 14:00");
        // Readings every 4 s: no gap, nothing estimated.
        assert!(q.iter().all(|x| !x.estimated));
        assert_eq!(b.counts(), RollupCounts::default());
        // Power is still the mean of the samples: Q0 holds demand j = 0..=111 (16 weeks of
        // 300 + j % 7, mean 300 + 21/7 = 303) and the summations at 0, 240, 480, 720 s.
        assert_eq!(q[0].samples, 112 + 4);
        assert_eq!(q[0].get(Quantity::ImportW), Some(303));
    }

    /// A Glow-shaped stream over two hours from `t`: electricity (registers and power) every
    /// 10 s at `t + 5 + 10j`, 2 Wh per step; gas only, every 30 min at `t + 900 + 1800k`.
    fn glow_readings(t: i64) -> Vec<(Reading, i64)> {
        let gas_steps = [0, 120, 60, 300];
        let mut gas = 1_357_208;
        let mut out = Vec::new();
        for j in 0..720 {
            let te = t + 5 + 10 * j;
            let mut r = only(te, Quantity::ImportWh, 5_071_527 + 2 * j);
            r.set(Quantity::ExportWh, 0);
            r.set(Quantity::ImportW, 720);
            out.push((r, te));
            let tg = te + 5;
            if tg >= t + 900 && (tg - t - 900) % 1800 == 0 && tg < t + 7200 {
                gas += gas_steps[((tg - t - 900) / 1800) as usize];
                out.push((only(tg, Quantity::GasDm3, gas), tg));
            }
        }
        out
    }

    #[test]
    fn gas_every_half_hour_and_electricity_every_ten_seconds_are_both_whole() {
        let t = 1_767_268_800;
        let b = build(&glow_readings(t));
        let q = all_buckets(&b, Resolution::Quarter);
        assert_eq!(q.len(), 8);
        // Electricity: 0.2 Wh/s from 12:00:05 to 13:59:55: Q0 = 895 s = 179 Wh, then 180 per
        // quarter, Q7 = 895 s = 179; hours 719 + 719 = 1438 = 719 steps of 2 Wh. (Before the
        // fix the electricity step across each gas reading was dropped.)
        assert_eq!(
            energy(&q, Quantity::ImportWh),
            [179, 180, 180, 180, 180, 180, 180, 179].map(Some)
        );
        assert_eq!(energy(&q, Quantity::ExportWh), [Some(0); 8]);
        // Gas: 120 dm3 over [12:15, 12:45), 60 over [12:45, 13:15), 300 over [13:15, 13:45),
        // half of each in each quarter. (Before the fix: 0 everywhere.)
        assert_eq!(
            energy(&q, Quantity::GasDm3),
            [
                None,
                Some(60),
                Some(60),
                Some(30),
                Some(30),
                Some(150),
                Some(150),
                None
            ]
        );
        let h = all_buckets(&b, Resolution::Hour);
        assert_eq!(energy(&h, Quantity::ImportWh), [Some(719), Some(719)]);
        assert_eq!(energy(&h, Quantity::GasDm3), [Some(150), Some(330)]);
        let d = all_buckets(&b, Resolution::Day);
        assert_eq!(energy(&d, Quantity::ImportWh), [Some(1438)]);
        assert_eq!(energy(&d, Quantity::GasDm3), [Some(480)]);
        // Half-hourly gas is how the meter reports, not a gap in the readings.
        assert!(q.iter().all(|x| !x.estimated));
        assert_eq!(b.counts(), RollupCounts::default());
    }

    #[test]
    fn a_register_sent_on_its_own_has_its_interval_flagged_by_a_stream_gap() {
        let t = 1_767_268_800;
        let elec = |x: i64, wh: i64| (only(t + x, Quantity::ImportWh, wh), t + x);
        let gas = |x: i64, dm3: i64| (only(t + x, Quantity::GasDm3, dm3), t + x);
        let b = build(&[
            elec(10, 100),
            elec(20, 104),
            gas(30, 7),
            elec(40, 110),
            // Readings stop for 200 s (a gap); gas comes back after it, so its interval
            // [12:00:30, 12:04:20) crosses the gap and is estimated.
            elec(240, 150),
            gas(260, 30),
            elec(270, 151),
            elec(330, 152),
        ]);
        assert_eq!(b.counts().meter_swaps, 0);
        assert_eq!(b.counts.gaps, 1);
        let m = all_buckets(&b, Resolution::Minute);
        assert_eq!(m.len(), 6);
        let total = |q| m.iter().filter_map(|x| x.get(q)).sum::<i64>();
        assert_eq!(total(Quantity::ImportWh), 152 - 100);
        assert_eq!(total(Quantity::GasDm3), 30 - 7);
        // Gas: 23 dm3 over 230 s from 12:00:30; 12:00 gets 23 * 30/230 = 3, 12:01 gets
        // 23 * 90/230 - 3 = 6.
        assert_eq!(energy(&m[..2], Quantity::GasDm3), [Some(3), Some(6)]);
        // Minutes 12:00 to 12:04 hold parts of the steps across the gap; 12:05 only the step
        // [12:04:30, 12:05:30) after it.
        assert!(m[..5].iter().all(|x| x.estimated));
        assert!(!m[5].estimated);
    }

    #[test]
    fn a_register_silent_for_longer_than_the_hold_is_spread_from_the_oldest_open_bucket() {
        let t = 1_767_268_800;
        let mut b = Builder::new(utc());
        b.push(&only(t, Quantity::GasDm3, 1_000), t);
        // Power every 10 s for 4 hours; gas again only at 16:00:00 (silent 4 h > the hold).
        let mut x = t + 10;
        while x < t + 4 * 3600 {
            b.push(&only(x, Quantity::ImportW, 100), x);
            x += 10;
        }
        assert_eq!(
            b.levels[0].open.len(),
            1,
            "only the current minute stays open"
        );
        b.push(&only(x, Quantity::GasDm3, 1_240), x);
        let m = all_buckets(&b, Resolution::Minute);
        // 240 dm3 over [15:59, 16:00), the oldest open minute, flagged estimated.
        let with_gas: Vec<&Bucket> = m
            .iter()
            .filter(|b| b.get(Quantity::GasDm3).is_some())
            .collect();
        assert_eq!(with_gas.len(), 1);
        assert_eq!(with_gas[0].start, x - 60);
        assert_eq!(with_gas[0].get(Quantity::GasDm3), Some(240));
        assert!(with_gas[0].estimated);
        let d = all_buckets(&b, Resolution::Day);
        assert_eq!(d[0].get(Quantity::GasDm3), Some(240));
    }

    #[test]
    fn a_checkpoint_in_the_middle_of_a_register_interval_resumes_exactly() {
        let t = 1_767_268_800;
        let readings = glow_readings(t);
        let whole = build(&readings);
        // The same stream through a checkpoint (snapshot, encode, decode) every 97 readings,
        // most of them while gas minutes are held open.
        let mut b = Builder::new(utc());
        let mut stored: Vec<ClosedChunk> = Vec::new();
        for (n, (r, x)) in readings.iter().enumerate() {
            b.push(r, *x);
            if n % 97 == 96 {
                stored.append(&mut b.closed);
                let snap = b.snapshot();
                let mut state = Vec::new();
                b.encode_state(&mut state);
                let open = b.levels[0].open.len();
                let chunk = |res: Resolution, window: i64, len: usize| {
                    snap.iter()
                        .find(|c| c.res == res && c.window == window)
                        .map(|c| c.buckets[..len].to_vec())
                        .ok_or(Malformed)
                };
                b = Builder::decode_state(utc(), &state, chunk).unwrap();
                assert!(!b.legacy);
                assert_eq!(b.levels[0].open.len(), open);
            }
        }
        for res in Resolution::ROLLUPS {
            let mut got: Vec<Bucket> = stored
                .iter()
                .filter(|c| c.res == res)
                .flat_map(|c| c.buckets.clone())
                .collect();
            got.extend(all_buckets(&b, res));
            assert!(!got.is_empty());
            assert_eq!(got, all_buckets(&whole, res), "{res:?}");
        }
    }
}
