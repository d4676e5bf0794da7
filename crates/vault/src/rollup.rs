//! Rollups: 1-minute, 15-minute, hourly, daily and monthly buckets maintained as readings
//! arrive. Each bucket holds the energy used in it per register (from the cumulative registers,
//! so it is exact across gaps), the mean of every instantaneous value, the minimum and maximum
//! import and export power, and the last state values (tariff, monthly peak).
//!
//! Rules (design.md §2 "registers beat samples"):
//! - Energy between two consecutive readings belongs to the time between them; where that time
//!   crosses a bucket boundary it is split in proportion to time, with integer arithmetic that
//!   never loses or invents a watt-hour.
//! - A gap longer than [`GAP_SECONDS`] is still filled from the registers, spread the same way,
//!   and every bucket it touches is flagged `estimated`.
//! - A register that goes down is a meter swap or reset: that step books nothing (never
//!   negative consumption, never a spike) and the next step starts a new segment.
//!
//! Minute buckets are built from readings; every coarser level is folded from the level below
//! when a bucket closes, so each reading is touched once.

use crate::resolution::{Resolution, bucket_of};
use crate::wire::{self, Malformed, Reader};
use hearth_meter::reading::Kind;
use hearth_meter::{Quantity, Reading};
use jiff::tz::TimeZone;

/// A step between readings longer than this many seconds is a gap: its energy is spread and
/// flagged estimated.
pub const GAP_SECONDS: i64 = 60;

/// A step longer than this (about two years) is taken for a clock jump, not a gap: its
/// energy is not spread (that would invent a flat line over years) and a new segment starts.
pub const MAX_SPREAD_SECONDS: i64 = 2 * 366 * 86_400;

const N: usize = Quantity::COUNT;
const IMPORT_W: usize = Quantity::ImportW as usize;
const EXPORT_W: usize = Quantity::ExportW as usize;

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
        }
    }

    #[inline]
    fn add_energy(&mut self, i: usize, wh: i64) {
        self.val[i] = self.val[i].saturating_add(wh);
        self.mask |= 1 << i;
    }

    fn add_sample(&mut self, r: &Reading) {
        self.samples += 1;
        for (q, v) in r.quantities() {
            let i = q as usize;
            match KINDS[i] {
                Kind::Register => {}
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
                Kind::Register | Kind::Instant => {
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

/// The register values of the previous reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Prev {
    pub t: i64,
    mask: u64,
    val: [i64; N],
}

impl Prev {
    pub(crate) fn of(r: &Reading, t: i64) -> Prev {
        let mut p = Prev {
            t,
            mask: 0,
            val: [0; N],
        };
        for (q, v) in r.quantities() {
            if KINDS[q as usize] == Kind::Register {
                p.mask |= 1 << q as u8;
                p.val[q as usize] = v;
            }
        }
        p
    }
}

/// One rollup series being built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Level {
    pub res: Resolution,
    pub acc: Option<Acc>,
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
}

/// Maintains all five rollup levels from a time-ordered stream of readings.
pub(crate) struct Builder {
    tz: TimeZone,
    pub levels: Vec<Level>,
    pub prev: Option<Prev>,
    /// Nothing before this instant is booked (used when rebuilding from a month start).
    pub clip: i64,
    pub counts: RollupCounts,
    /// Chunks whose window is complete, to be written by the vault.
    pub closed: Vec<ClosedChunk>,
    deltas: Vec<(usize, i64)>,
}

impl Builder {
    pub(crate) fn new(tz: TimeZone) -> Self {
        Builder {
            tz,
            levels: Resolution::ROLLUPS
                .iter()
                .map(|&res| Level {
                    res,
                    acc: None,
                    window: i64::MIN,
                    chunk: Vec::new(),
                })
                .collect(),
            prev: None,
            clip: i64::MIN,
            counts: RollupCounts::default(),
            closed: Vec::new(),
            deltas: Vec::with_capacity(N),
        }
    }

    /// Adds a reading at `t`, strictly later than the previous one.
    pub(crate) fn push(&mut self, r: &Reading, t: i64) {
        if let Some(prev) = self.prev.take() {
            self.deltas.clear();
            let mut swapped = false;
            for (q, v) in r.quantities() {
                let i = q as usize;
                if KINDS[i] == Kind::Register && prev.mask & (1 << i) != 0 {
                    let d = v.saturating_sub(prev.val[i]);
                    if d < 0 {
                        swapped = true;
                    }
                    self.deltas.push((i, d.max(0)));
                }
            }
            if swapped {
                self.counts.meter_swaps += 1;
            }
            let mut estimated = t - prev.t > GAP_SECONDS;
            if t - prev.t > MAX_SPREAD_SECONDS {
                self.counts.clock_jumps += 1;
                self.deltas.clear();
                estimated = false;
            } else if estimated {
                self.counts.gaps += 1;
            }
            let deltas = std::mem::take(&mut self.deltas);
            self.book(prev.t, t, &deltas, estimated);
            self.deltas = deltas;
        }
        if t >= self.clip {
            self.ensure(0, t).add_sample(r);
        }
        self.prev = Some(Prev::of(r, t));
    }

    /// Books register deltas for the time `[t0, t1)`, split over minute buckets.
    fn book(&mut self, t0: i64, t1: i64, deltas: &[(usize, i64)], estimated: bool) {
        if deltas.is_empty() {
            return;
        }
        // Fast path: the whole step lies in the open minute bucket.
        if let Some(acc) = &mut self.levels[0].acc
            && acc.start <= t0
            && t1 <= acc.end
        {
            if t0 >= self.clip {
                for &(i, d) in deltas {
                    acc.add_energy(i, d);
                }
                acc.estimated |= estimated;
            }
            return;
        }
        let span = i128::from(t1 - t0);
        let mut s = t0;
        while s < t1 {
            let (_, end) = bucket_of(Resolution::Minute, &self.tz, s);
            let e = end.min(t1);
            if s >= self.clip {
                let clip = self.clip;
                let acc = self.ensure(0, s);
                for &(i, d) in deltas {
                    // Cumulative share up to e minus cumulative share up to s: parts sum to d.
                    let upto = |x: i64| (i128::from(d) * i128::from(x - t0) / span) as i64;
                    acc.add_energy(i, upto(e) - upto(s));
                }
                acc.estimated |= estimated;
                debug_assert!(s >= clip);
            }
            s = e;
        }
    }

    /// The open bucket of level `i` containing `t`, closing (and folding) earlier ones.
    fn ensure(&mut self, i: usize, t: i64) -> &mut Acc {
        let stale = match &self.levels[i].acc {
            Some(a) => t >= a.end || t < a.start,
            None => true,
        };
        if stale {
            self.close(i);
            let (s, e) = bucket_of(self.levels[i].res, &self.tz, t);
            self.levels[i].acc = Some(Acc::new(s, e));
        }
        let res = self.levels[i].res;
        self.levels[i]
            .acc
            .get_or_insert_with(|| Acc::new(t, t + res.nominal_seconds()))
    }

    /// Finishes the open bucket of level `i`, files it and folds it into level `i + 1`.
    fn close(&mut self, i: usize) {
        let Some(acc) = self.levels[i].acc.take() else {
            return;
        };
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

    /// Every level's current chunk plus its open bucket for a checkpoint. Open buckets of
    /// finer levels are not folded into coarser ones until they close, so each level's
    /// snapshot folds in copies of everything still open below it.
    pub(crate) fn snapshot(&self) -> Vec<ClosedChunk> {
        let mut out = Vec::new();
        let mut carry: Vec<Acc> = Vec::new();
        for level in &self.levels {
            let mut pending: Vec<Acc> = level.acc.iter().cloned().collect();
            for c in &carry {
                match pending.last_mut() {
                    Some(p) if p.start <= c.start && c.start < p.end => p.absorb(c),
                    _ => {
                        let (s, e) = bucket_of(level.res, &self.tz, c.start);
                        let mut p = Acc::new(s, e);
                        p.absorb(c);
                        pending.push(p);
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

    /// Serialises the resumable state (previous registers, open buckets, current chunks).
    #[allow(clippy::needless_range_loop)] // parallel per-quantity arrays
    pub(crate) fn encode_state(&self, out: &mut Vec<u8>) {
        out.push(1);
        wire::put_i64(out, self.clip);
        wire::put_u64(out, self.counts.meter_swaps);
        wire::put_u64(out, self.counts.gaps);
        wire::put_u64(out, self.counts.clock_jumps);
        match &self.prev {
            None => out.push(0),
            Some(p) => {
                out.push(1);
                wire::put_i64(out, p.t);
                wire::put_u64(out, p.mask);
                put_masked(out, p.mask, &p.val);
            }
        }
        for level in &self.levels {
            // The finished buckets themselves are the first `len` buckets of the level's
            // stored chunk for `window` (written by the same checkpoint).
            wire::put_i64(out, level.window);
            wire::put_u64(out, level.chunk.len() as u64);
            match &level.acc {
                None => out.push(0),
                Some(a) => {
                    out.push(1);
                    wire::put_i64(out, a.start);
                    wire::put_i64(out, a.end);
                    wire::put_u64(out, u64::from(a.samples));
                    out.push(u8::from(a.estimated));
                    wire::put_u64(out, a.mask);
                    put_masked(out, a.mask, &a.val);
                    for i in 0..N {
                        if a.mask & (1 << i) != 0 {
                            wire::put_u64(out, u64::from(a.cnt[i]));
                        }
                    }
                    for m in a.minmax {
                        wire::put_i64(out, m);
                    }
                }
            }
        }
    }

    /// Restores what [`Builder::encode_state`] wrote. `chunk(res, window, len)` must give
    /// the first `len` buckets of the stored rollup chunk.
    #[allow(clippy::needless_range_loop)] // parallel per-quantity arrays
    pub(crate) fn decode_state(
        tz: TimeZone,
        buf: &[u8],
        mut chunk: impl FnMut(Resolution, i64, usize) -> Result<Vec<Bucket>, Malformed>,
    ) -> Result<Builder, Malformed> {
        let mut b = Builder::new(tz);
        let mut r = Reader::new(buf);
        if r.byte()? != 1 {
            return Err(Malformed);
        }
        b.clip = r.i64()?;
        b.counts.meter_swaps = r.u64()?;
        b.counts.gaps = r.u64()?;
        b.counts.clock_jumps = r.u64()?;
        if r.byte()? == 1 {
            let t = r.i64()?;
            let mask = r.u64()?;
            let val = get_masked(&mut r, mask)?;
            b.prev = Some(Prev { t, mask, val });
        }
        for level in &mut b.levels {
            level.window = r.i64()?;
            let len = usize::try_from(r.u64()?).map_err(|_| Malformed)?;
            level.chunk = if len == 0 {
                Vec::new()
            } else {
                chunk(level.res, level.window, len)?
            };
            if r.byte()? == 1 {
                let mut a = Acc::new(r.i64()?, r.i64()?);
                a.samples = r.u32()?;
                a.estimated = r.byte()? != 0;
                a.mask = r.u64()?;
                a.val = get_masked(&mut r, a.mask)?;
                for i in 0..N {
                    if a.mask & (1 << i) != 0 {
                        a.cnt[i] = r.u32()?;
                    }
                }
                for m in &mut a.minmax {
                    *m = r.i64()?;
                }
                level.acc = Some(a);
            }
        }
        Ok(b)
    }
}

fn put_masked(out: &mut Vec<u8>, mask: u64, val: &[i64; N]) {
    for (i, v) in val.iter().enumerate() {
        if mask & (1 << i) != 0 {
            wire::put_i64(out, *v);
        }
    }
}

fn get_masked(r: &mut Reader<'_>, mask: u64) -> Result<[i64; N], Malformed> {
    if mask >> N != 0 {
        return Err(Malformed);
    }
    let mut val = [0; N];
    for (i, v) in val.iter_mut().enumerate() {
        if mask & (1 << i) != 0 {
            *v = r.i64()?;
        }
    }
    Ok(val)
}

/// Columnar coding of buckets: start deltas, sample counts, flags, masks, then one column per
/// quantity (delta from the previous bucket that had it), then min/max power.
#[allow(clippy::needless_range_loop)] // parallel per-quantity arrays
fn encode_buckets_plain(buckets: &[Bucket]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + buckets.len() * 16);
    wire::put_u64(&mut out, buckets.len() as u64);
    let mut last = 0i64;
    for b in buckets {
        wire::put_i64(&mut out, b.start.wrapping_sub(last));
        last = b.start;
    }
    for b in buckets {
        wire::put_u64(&mut out, u64::from(b.samples));
    }
    for b in buckets {
        out.push(u8::from(b.estimated));
    }
    for b in buckets {
        wire::put_u64(&mut out, b.mask);
    }
    for i in 0..N {
        let mut last = 0i64;
        for b in buckets.iter().filter(|b| b.mask & (1 << i) != 0) {
            wire::put_i64(&mut out, b.values[i].wrapping_sub(last));
            last = b.values[i];
        }
    }
    for (k, bit) in [(0usize, IMPORT_W), (2, EXPORT_W)] {
        for b in buckets.iter().filter(|b| b.mask & (1 << bit) != 0) {
            wire::put_i64(&mut out, b.minmax[k]);
            wire::put_i64(&mut out, b.minmax[k + 1].wrapping_sub(b.minmax[k]));
        }
    }
    out
}

#[allow(clippy::needless_range_loop)] // parallel per-quantity arrays
fn decode_buckets_plain(buf: &[u8]) -> Result<Vec<Bucket>, Malformed> {
    let mut r = Reader::new(buf);
    let n = r.count()?;
    let mut buckets = Vec::with_capacity(n);
    let mut last = 0i64;
    for _ in 0..n {
        last = last.wrapping_add(r.i64()?);
        buckets.push(Bucket {
            start: last,
            samples: 0,
            estimated: false,
            mask: 0,
            values: [0; N],
            minmax: [0; 4],
        });
    }
    for b in &mut buckets {
        b.samples = r.u32()?;
    }
    for b in &mut buckets {
        b.estimated = r.byte()? != 0;
    }
    for b in &mut buckets {
        b.mask = r.u64()?;
        if b.mask >> N != 0 {
            return Err(Malformed);
        }
    }
    for i in 0..N {
        let mut last = 0i64;
        for b in buckets.iter_mut().filter(|b| b.mask & (1 << i) != 0) {
            last = last.wrapping_add(r.i64()?);
            b.values[i] = last;
        }
    }
    for (k, bit) in [(0usize, IMPORT_W), (2, EXPORT_W)] {
        for b in buckets.iter_mut().filter(|b| b.mask & (1 << bit) != 0) {
            b.minmax[k] = r.i64()?;
            b.minmax[k + 1] = b.minmax[k].wrapping_add(r.i64()?);
        }
    }
    if !r.is_empty() {
        return Err(Malformed);
    }
    Ok(buckets)
}

/// Encodes a chunk of buckets for sealing: the columnar form, zstd-compressed when it pays.
pub(crate) fn encode_buckets(buckets: &[Bucket]) -> Vec<u8> {
    let plain = encode_buckets_plain(buckets);
    match zstd::bulk::compress(&plain, 3) {
        Ok(z) if z.len() + 4 < plain.len() => {
            let mut out = Vec::with_capacity(z.len() + 5);
            out.push(1);
            out.extend_from_slice(&(plain.len() as u32).to_le_bytes());
            out.extend_from_slice(&z);
            out
        }
        _ => {
            let mut out = Vec::with_capacity(plain.len() + 1);
            out.push(0);
            out.extend_from_slice(&plain);
            out
        }
    }
}

/// Decodes what [`encode_buckets`] wrote.
pub(crate) fn decode_buckets(buf: &[u8]) -> Result<Vec<Bucket>, Malformed> {
    match buf.split_first() {
        Some((0, rest)) => decode_buckets_plain(rest),
        Some((1, rest)) if rest.len() >= 4 => {
            let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            // A chunk holds at most a few thousand buckets; refuse absurd sizes.
            if len > 64 << 20 {
                return Err(Malformed);
            }
            let plain = zstd::bulk::decompress(&rest[4..], len).map_err(|_| Malformed)?;
            decode_buckets_plain(&plain)
        }
        _ => Err(Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_meter::{MeterTime, Protocol};

    fn reading(t: i64, import_wh: i64, watts: i64) -> Reading {
        let mut r = Reading::new(Protocol::Dsmr);
        r.time = Some(MeterTime::utc(t));
        r.set(Quantity::ImportWh, import_wh);
        r.set(Quantity::ImportW, watts);
        r
    }

    fn utc() -> TimeZone {
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
    fn a_register_going_down_is_a_new_segment_not_negative_energy() {
        let mut b = Builder::new(utc());
        let t = 1_767_268_800;
        b.push(&reading(t, 5_000_000, 100), t);
        b.push(&reading(t + 10, 5_000_004, 100), t + 10);
        // New meter: register restarts near zero.
        b.push(&reading(t + 20, 12, 100), t + 20);
        b.push(&reading(t + 30, 15, 100), t + 30);
        let m = all_buckets(&b, Resolution::Minute);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].get(Quantity::ImportWh), Some(4 + 3));
        assert_eq!(b.counts.meter_swaps, 1);
    }

    #[test]
    fn buckets_and_state_round_trip_and_garbage_is_rejected() {
        let mut b = Builder::new(TimeZone::get("Europe/Amsterdam").unwrap());
        let t = 1_767_268_800;
        for k in 0..5000 {
            b.push(&reading(t + k * 7, 1_000 + k * 3, 100 + k % 50), t + k * 7);
        }
        let snap = b.snapshot();
        for c in &snap {
            let enc = encode_buckets(&c.buckets);
            assert_eq!(decode_buckets(&enc).unwrap(), c.buckets);
            assert!(decode_buckets(&enc[..enc.len() / 2]).is_err());
        }
        assert!(decode_buckets(&[]).is_err());
        assert!(decode_buckets(&[0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
        let mut state = Vec::new();
        b.encode_state(&mut state);
        let stored = |res: Resolution, window: i64, len: usize| {
            snap.iter()
                .find(|c| c.res == res && c.window == window)
                .map(|c| c.buckets[..len].to_vec())
                .ok_or(Malformed)
        };
        let back = Builder::decode_state(b.tz.clone(), &state, stored).unwrap();
        assert_eq!(back.prev, b.prev);
        assert_eq!(back.levels, b.levels);
        assert!(Builder::decode_state(utc(), &state[..state.len() - 3], stored).is_err());
    }
}
