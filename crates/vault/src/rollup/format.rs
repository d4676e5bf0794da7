//! The rollups' wire formats: how a chunk of finished buckets is stored (columnar, then
//! zstd when it pays) and how the builder's resumable state is written at a checkpoint
//! (version 3; reading version 2 from builds before glitches, cadences and supplier intervals,
//! and version 1 from builds before registers were tracked one by one).

use super::{Acc, Bucket, Builder, EXPORT_W, IMPORT_W, KINDS, N, Prev, STEPS, Suspect};
use crate::resolution::Resolution;
use crate::wire::{self, Malformed, Reader};
use hearth_meter::reading::Kind;
use jiff::tz::TimeZone;

/// The registers (bit = `Quantity as u8`).
fn register_bits() -> u64 {
    (0..N)
        .filter(|&i| KINDS[i] == Kind::Register)
        .fold(0, |m, i| m | 1 << i)
}

impl Acc {
    /// An open bucket in the writer state (versions 1 and 2 lay it out the same way; version
    /// 3 adds what a minute bucket knows of gaps and measured seconds).
    fn encode(&self, out: &mut Vec<u8>, version: u8) {
        wire::put_i64(out, self.start);
        wire::put_i64(out, self.end);
        wire::put_u64(out, u64::from(self.samples));
        out.push(u8::from(self.estimated));
        wire::put_u64(out, self.mask);
        put_masked(out, self.mask, &self.val);
        for (i, cnt) in self.cnt.iter().enumerate() {
            if self.mask & (1 << i) != 0 {
                wire::put_u64(out, u64::from(*cnt));
            }
        }
        for m in self.minmax {
            wire::put_i64(out, m);
        }
        if version < 3 {
            return;
        }
        wire::put_u64(out, self.est);
        for e in self.est_wh.iter().flatten() {
            wire::put_i64(out, *e);
        }
        for s in self.measured_s {
            wire::put_i64(out, s);
        }
    }
}

impl Builder {
    /// Serialises the resumable state (previous registers, open buckets, current chunks):
    /// version 2 (version 1 kept one time for all registers and one open bucket per level).
    #[allow(clippy::needless_range_loop)] // parallel per-quantity arrays
    pub(crate) fn encode_state(&self, out: &mut Vec<u8>) {
        out.push(3);
        wire::put_i64(out, self.clip);
        wire::put_u64(out, self.counts.meter_swaps);
        wire::put_u64(out, self.counts.gaps);
        wire::put_u64(out, self.counts.clock_jumps);
        wire::put_u64(out, self.events.len() as u64);
        for &(t, i, swap) in &self.events {
            wire::put_i64(out, t);
            out.push(i);
            out.push(u8::from(swap));
        }
        wire::put_i64(out, self.settled);
        match &self.prev {
            None => out.push(0),
            Some(p) => {
                out.push(1);
                wire::put_i64(out, p.t);
                wire::put_i64(out, p.gap_end);
                wire::put_u64(out, p.mask);
                put_masked(out, p.mask, &p.val);
                put_masked(out, p.mask, &p.at);
                wire::put_i64(out, p.meter_t);
                for s in p.steps {
                    wire::put_i64(out, s);
                }
                wire::put_u64(out, p.step_k as u64);
                wire::put_u64(out, p.sus_mask);
                for (i, s) in p.sus.iter().enumerate() {
                    if p.sus_mask & (1 << i) != 0 {
                        for v in [s.val, s.at, s.first, s.since] {
                            wire::put_i64(out, v);
                        }
                        wire::put_u64(out, u64::from(s.readings));
                        out.push(u8::from(s.rose));
                    }
                }
            }
        }
        for level in &self.levels {
            // The finished buckets themselves are the first `len` buckets of the level's
            // stored chunk for `window` (written by the same checkpoint).
            wire::put_i64(out, level.window);
            wire::put_u64(out, level.chunk.len() as u64);
            wire::put_u64(out, level.open.len() as u64);
            for a in &level.open {
                a.encode(out, 3);
            }
        }
    }

    /// The version-1 state as builds before per-register tracking wrote it (one time for all
    /// registers, at most one open bucket per level), for tests of reading it back.
    #[cfg(test)]
    #[allow(clippy::needless_range_loop)] // parallel per-quantity arrays
    pub(crate) fn encode_state_v1(&self, out: &mut Vec<u8>) {
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
            wire::put_i64(out, level.window);
            wire::put_u64(out, level.chunk.len() as u64);
            match level.open.back() {
                None => out.push(0),
                Some(a) => {
                    out.push(1);
                    a.encode(out, 1);
                }
            }
        }
    }

    /// Restores what [`Builder::encode_state`] wrote (version 2, or version 1 from builds
    /// before registers were tracked one by one: then `legacy` is set). `chunk(res, window,
    /// len)` must give the first `len` buckets of the stored rollup chunk.
    #[allow(clippy::needless_range_loop)] // parallel per-quantity arrays
    pub(crate) fn decode_state(
        tz: TimeZone,
        buf: &[u8],
        mut chunk: impl FnMut(Resolution, i64, usize) -> Result<Vec<Bucket>, Malformed>,
    ) -> Result<Builder, Malformed> {
        let mut b = Builder::new(tz);
        let mut r = Reader::new(buf);
        let version = r.byte()?;
        if !(1..=3).contains(&version) {
            return Err(Malformed);
        }
        b.legacy = version == 1;
        b.clip = r.i64()?;
        b.counts.meter_swaps = r.u64()?;
        b.counts.gaps = r.u64()?;
        b.counts.clock_jumps = r.u64()?;
        if version >= 3 {
            for _ in 0..r.count()? {
                let t = r.i64()?;
                let i = r.byte()?;
                let swap = r.byte()?;
                if usize::from(i) >= N || swap > 1 {
                    return Err(Malformed);
                }
                b.events.insert((t, i, swap == 1));
            }
        }
        if version >= 2 {
            b.settled = r.i64()?;
        }
        if r.byte()? == 1 {
            let t = r.i64()?;
            let mut p = Prev::new(t);
            if version >= 2 {
                p.gap_end = r.i64()?;
            }
            p.mask = r.u64()?;
            p.val = get_masked(&mut r, p.mask)?;
            if version >= 2 {
                p.at = get_masked(&mut r, p.mask)?;
                if (0..N).any(|i| p.mask & (1 << i) != 0 && p.at[i] > t) {
                    return Err(Malformed);
                }
            }
            if version >= 3 {
                p.meter_t = r.i64()?;
                for s in &mut p.steps {
                    *s = r.i64()?;
                }
                p.step_k = usize::try_from(r.u64()?).map_err(|_| Malformed)?;
                p.sus_mask = r.u64()?;
                if p.step_k >= STEPS || p.sus_mask & !p.mask != 0 {
                    return Err(Malformed);
                }
                for i in 0..N {
                    if p.sus_mask & (1 << i) != 0 {
                        let mut v = [0i64; 4];
                        for x in &mut v {
                            *x = r.i64()?;
                        }
                        p.sus[i] = Suspect {
                            val: v[0],
                            at: v[1],
                            first: v[2],
                            since: v[3],
                            readings: r.u32()?,
                            rose: r.byte()? != 0,
                        };
                    }
                }
            } else {
                // Older builds knew every reading as a meter reading, and no cadence: the
                // first steps after them are judged by GAP_SECONDS alone.
                p.meter_t = t;
            }
            if version == 1 {
                for i in 0..N {
                    if p.mask & (1 << i) != 0 {
                        p.at[i] = t;
                    }
                }
            }
            b.prev = Some(p);
        }
        for level in &mut b.levels {
            level.window = r.i64()?;
            let len = usize::try_from(r.u64()?).map_err(|_| Malformed)?;
            level.chunk = if len == 0 {
                Vec::new()
            } else {
                chunk(level.res, level.window, len)?
            };
            let open = if version >= 2 {
                r.count()?
            } else {
                usize::from(r.byte()? == 1)
            };
            let mut last_end = i64::MIN;
            for _ in 0..open {
                let mut a = Acc::new(r.i64()?, r.i64()?);
                if a.start >= a.end || a.start < last_end {
                    return Err(Malformed);
                }
                last_end = a.end;
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
                if version >= 3 {
                    a.est = r.u64()?;
                    for e in a.est_wh.iter_mut().flatten() {
                        *e = r.i64()?;
                    }
                    for s in &mut a.measured_s {
                        *s = r.i64()?;
                    }
                } else if a.estimated {
                    a.est = a.mask & register_bits();
                }
                level.open.push_back(a);
            }
            if level.res != Resolution::Minute && level.open.len() > 1 {
                return Err(Malformed);
            }
        }
        if version == 1 {
            // Version 1 kept no record of the closed minutes: nothing before the open one.
            b.settled = b.levels[0].open.front().map_or(i64::MIN, |a| a.start);
        }
        if !r.is_empty() {
            return Err(Malformed);
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
    use crate::rollup::tests::{reading, utc};

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

    #[test]
    fn a_version_1_state_is_read_with_every_register_at_the_previous_reading() {
        let t = 1_767_268_800;
        let mut old = Builder::new(utc());
        for k in 0..200 {
            old.push(&reading(t + k * 7, 1_000 + k * 3, 100), t + k * 7);
        }
        let snap = old.snapshot();
        let mut state = Vec::new();
        old.encode_state_v1(&mut state);
        let stored = |res: Resolution, window: i64, len: usize| {
            snap.iter()
                .find(|c| c.res == res && c.window == window)
                .map(|c| c.buckets[..len].to_vec())
                .ok_or(Malformed)
        };
        let mut back = Builder::decode_state(utc(), &state, stored).unwrap();
        assert!(back.legacy);
        // Version 1 kept each register's value, not the cadence or the steps.
        let kept = |p: &Option<Prev>| p.as_ref().map(|p| (p.t, p.mask, p.val, p.at));
        assert_eq!(kept(&back.prev), kept(&old.prev));
        // Nor what an open minute knew of measured seconds: the buckets it gives are the same.
        let shown = |b: &Builder| {
            b.levels
                .iter()
                .map(|l| {
                    let open: Vec<Bucket> = l.open.iter().map(Acc::finish).collect();
                    (l.res, l.window, l.chunk.clone(), open)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(shown(&back), shown(&old));
        assert_eq!(back.settled, old.levels[0].open[0].start);
        // Both go on alike: 3 Wh over the next 7 s.
        let last = t + 199 * 7;
        old.push(&reading(last + 7, 1_600, 100), last + 7);
        back.push(&reading(last + 7, 1_600, 100), last + 7);
        assert_eq!(shown(&back), shown(&old));
        // Written back as version 3.
        let mut again = Vec::new();
        back.encode_state(&mut again);
        assert_eq!(again[0], 3);
        assert!(!Builder::decode_state(utc(), &again, stored).unwrap().legacy);
        assert!(Builder::decode_state(utc(), &[3], stored).is_err());
    }
}
