//! The chunk format's byte-level primitives: LEB128 varints, zigzag for signed integers, and a
//! bounds-checked reader that turns truncated or garbage input into a [`CodecError`].

use super::CodecError;

/// Maps a signed integer to an unsigned one so small magnitudes of either sign stay small
/// (0 → 0, -1 → 1, 1 → 2, -2 → 3, ...). A bijection on all of `i64`.
#[inline]
pub(super) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// The inverse of [`zigzag`].
#[inline]
pub(super) fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

/// Appends `v` as an unsigned LEB128 varint (1 to 10 bytes).
#[inline]
pub(super) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    if v < 0x80 {
        out.push(v as u8);
        return;
    }
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// How many bytes [`put_varint`] writes for `v`.
#[inline]
pub(super) fn varint_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Reads the chunk's bytes front to back; every read is bounds-checked.
pub(super) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes }
    }

    /// How many bytes are left.
    pub(super) fn remaining(&self) -> usize {
        self.bytes.len()
    }

    /// Takes one byte.
    pub(super) fn u8(&mut self) -> Result<u8, CodecError> {
        let (&b, rest) = self.bytes.split_first().ok_or(CodecError::Truncated)?;
        self.bytes = rest;
        Ok(b)
    }

    /// Takes `n` bytes.
    pub(super) fn bytes(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        if n > self.bytes.len() {
            return Err(CodecError::Truncated);
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    /// Takes the rest.
    pub(super) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.bytes)
    }

    /// Takes an unsigned LEB128 varint of at most 10 bytes that fits in 64 bits.
    pub(super) fn varint(&mut self) -> Result<u64, CodecError> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = self.u8()?;
            if i == 9 && b > 1 {
                return Err(CodecError::Corrupt("a number is too large"));
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(CodecError::Corrupt("a number is too long"))
    }

    /// Takes a varint that counts something, checked against `max`.
    pub(super) fn count(&mut self, max: usize, what: &'static str) -> Result<usize, CodecError> {
        let v = self.varint()?;
        match usize::try_from(v) {
            Ok(v) if v <= max => Ok(v),
            _ => Err(CodecError::Corrupt(what)),
        }
    }

    /// Takes a zigzag varint.
    pub(super) fn signed(&mut self) -> Result<i64, CodecError> {
        self.varint().map(unzigzag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zigzag_is_a_bijection_at_the_edges() {
        for (v, z) in [
            (0i64, 0u64),
            (-1, 1),
            (1, 2),
            (-2, 3),
            (i64::MAX, u64::MAX - 1),
            (i64::MIN, u64::MAX),
        ] {
            assert_eq!(zigzag(v), z);
            assert_eq!(unzigzag(z), v);
        }
    }

    #[test]
    fn varints_round_trip_and_have_the_right_length() {
        // 127 fits 7 bits (1 byte), 128 needs 2, u64::MAX needs ceil(64 / 7) = 10.
        for (v, len) in [
            (0u64, 1),
            (127, 1),
            (128, 2),
            (16_383, 2),
            (16_384, 3),
            (u64::MAX, 10),
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(out.len(), len, "{v}");
            assert_eq!(varint_len(v), len, "{v}");
            let mut r = Reader::new(&out);
            assert_eq!(r.varint(), Ok(v));
            assert_eq!(r.remaining(), 0);
        }
    }

    #[test]
    fn bad_varints_are_errors() {
        assert_eq!(Reader::new(&[]).varint(), Err(CodecError::Truncated));
        assert_eq!(
            Reader::new(&[0x80, 0x80]).varint(),
            Err(CodecError::Truncated)
        );
        // Ten bytes whose last carries more than the 64th bit.
        let too_big = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert!(matches!(
            Reader::new(&too_big).varint(),
            Err(CodecError::Corrupt(_))
        ));
        let too_long = [0x80; 11];
        assert!(matches!(
            Reader::new(&too_long).varint(),
            Err(CodecError::Corrupt(_))
        ));
    }
}
