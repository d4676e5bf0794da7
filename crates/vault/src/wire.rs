//! Little byte-level building blocks for the vault's own records (rollup chunks, writer
//! state): LEB128 varints, zigzag for signed values, and a bounds-checked reader that turns
//! truncated or garbage input into an error instead of a panic.

/// Appends `v` as an unsigned LEB128 varint.
#[inline]
pub(crate) fn put_u64(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `v` zigzag-encoded (small magnitudes, either sign, stay short).
#[inline]
pub(crate) fn put_i64(out: &mut Vec<u8>, v: i64) {
    put_u64(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// The input ended early or held an impossible value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed;

/// A cursor over a byte slice; every read is bounds-checked.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub(crate) fn u64(&mut self) -> Result<u64, Malformed> {
        let mut v: u64 = 0;
        let mut shift = 0u32;
        loop {
            let b = *self.buf.get(self.pos).ok_or(Malformed)?;
            self.pos += 1;
            if shift >= 64 {
                return Err(Malformed);
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
            shift += 7;
        }
    }

    pub(crate) fn i64(&mut self) -> Result<i64, Malformed> {
        let u = self.u64()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, Malformed> {
        u32::try_from(self.u64()?).map_err(|_| Malformed)
    }

    pub(crate) fn byte(&mut self) -> Result<u8, Malformed> {
        let b = *self.buf.get(self.pos).ok_or(Malformed)?;
        self.pos += 1;
        Ok(b)
    }

    /// A count of items that each need at least one byte: bounded by what is left, so a
    /// corrupted count cannot make us allocate gigabytes.
    pub(crate) fn count(&mut self) -> Result<usize, Malformed> {
        let n = usize::try_from(self.u64()?).map_err(|_| Malformed)?;
        if n > self.buf.len().saturating_sub(self.pos).saturating_mul(8) + 8 {
            return Err(Malformed);
        }
        Ok(n)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_truncation_is_an_error() {
        let mut out = Vec::new();
        for v in [0i64, 1, -1, 63, -64, 64, 1 << 40, i64::MIN, i64::MAX] {
            put_i64(&mut out, v);
        }
        put_u64(&mut out, 300);
        // 300 = 0b1_0010_1100 -> 0xAC 0x02 (LEB128).
        assert_eq!(&out[out.len() - 2..], &[0xAC, 0x02]);
        let mut r = Reader::new(&out);
        for v in [0i64, 1, -1, 63, -64, 64, 1 << 40, i64::MIN, i64::MAX] {
            assert_eq!(r.i64(), Ok(v));
        }
        assert_eq!(r.u64(), Ok(300));
        assert!(r.is_empty());
        assert_eq!(r.u64(), Err(Malformed));
        let mut r = Reader::new(&[0x80, 0x80]);
        assert_eq!(r.u64(), Err(Malformed));
        let mut r = Reader::new(&[0xff; 12]);
        assert_eq!(r.u64(), Err(Malformed));
        // A count larger than the bytes left could ever hold is refused before allocating.
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0x7f, 1]);
        assert_eq!(r.count(), Err(Malformed));
    }
}
