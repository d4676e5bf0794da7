//! The stored form of an [`IntervalSet`]: a version byte, then gap, length and energy of each
//! interval as zigzag LEB128 varints, about five bytes per half hour. The vault keeps every
//! import's merged set in this form.

use super::intervals::{ImportError, Interval, IntervalSet};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supplier::intervals::tests::iv;

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
}
