//! CRC-16/ARC over a whole telegram, sixteen bytes per step ("slicing-by-16").
//!
//! DSMR 4+ puts a CRC-16/ARC over `/`..`!` at the end of every telegram. The one-byte table
//! loop in [`crate::checksum`] is bound by one table lookup per byte in a dependency chain;
//! sixteen tables (8 KiB, fits the L1 cache) let the CPU do sixteen independent lookups per
//! step, only the first two of which depend on the previous step: several times faster on a
//! ~900-byte telegram. Results equal [`crate::checksum::crc16_arc`] bit for bit.

/// Bytes consumed per step of the main loop.
const STEP: usize = 16;

/// `TABLES[k][i]`: the CRC register after byte `i` followed by `k` zero bytes.
static TABLES: [[u16; 256]; STEP] = build_tables();

const fn build_tables() -> [[u16; 256]; STEP] {
    let mut t = [[0u16; 256]; STEP];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u16;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
            bit += 1;
        }
        t[0][i] = crc;
        i += 1;
    }
    let mut k = 1;
    while k < STEP {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = (prev >> 8) ^ t[0][(prev & 0xFF) as usize];
            i += 1;
        }
        k += 1;
    }
    t
}

/// CRC-16/ARC of `bytes` (poly 0x8005 reflected, init 0, no final xor).
#[inline]
pub fn crc16_arc(bytes: &[u8]) -> u16 {
    update(0, bytes)
}

/// The CRC register `crc` after `bytes` (so `update(update(0, a), b)` is the CRC of `a ++ b`).
#[inline]
pub fn update(mut crc: u16, bytes: &[u8]) -> u16 {
    let (blocks, rest) = bytes.as_chunks::<STEP>();
    for c in blocks {
        crc = update_block(crc, c);
    }
    for &b in rest {
        crc = update_byte(crc, b);
    }
    crc
}

/// The register after one byte.
#[inline(always)]
pub fn update_byte(crc: u16, b: u8) -> u16 {
    (crc >> 8) ^ TABLES[0][usize::from((crc ^ u16::from(b)) as u8)]
}

/// The register after sixteen bytes. The block is read as two words and split with shifts,
/// so the load ports only serve the sixteen table lookups.
#[inline(always)]
pub fn update_block(crc: u16, c: &[u8; STEP]) -> u16 {
    let (a, b) = c.split_at(8);
    let mut wa = [0u8; 8];
    let mut wb = [0u8; 8];
    wa.copy_from_slice(a);
    wb.copy_from_slice(b);
    let (a, b) = (u64::from_le_bytes(wa), u64::from_le_bytes(wb));
    let t = |k: usize, w: u64, byte: u32| TABLES[k][usize::from((w >> (8 * byte)) as u8)];
    // The fourteen lookups that do not depend on `crc` run while the previous step ends.
    let tail = (t(13, a, 2) ^ t(12, a, 3) ^ t(11, a, 4) ^ t(10, a, 5))
        ^ (t(9, a, 6) ^ t(8, a, 7) ^ t(7, b, 0) ^ t(6, b, 1))
        ^ (t(5, b, 2) ^ t(4, b, 3) ^ t(3, b, 4))
        ^ (t(2, b, 5) ^ t(1, b, 6) ^ t(0, b, 7));
    let lo = crc ^ (a as u16);
    TABLES[15][usize::from(lo as u8)] ^ TABLES[14][usize::from(lo >> 8)] ^ tail
}

/// One pass over `hay` for a telegram's end: the index of the first `!` or `/`, and the
/// register `crc` after the bytes before it (after all of `hay` when there is neither).
/// Sixteen bytes per step while there is no match; the check runs beside the CRC lookups.
#[inline]
pub fn scan(hay: &[u8], mut crc: u16) -> (Option<usize>, u16) {
    let (blocks, _) = hay.as_chunks::<STEP>();
    let mut i = 0;
    for c in blocks {
        if c.iter()
            .fold(false, |acc, &x| acc | (x == b'!') | (x == b'/'))
        {
            break;
        }
        crc = update_block(crc, c);
        i += STEP;
    }
    for (k, &x) in hay[i..].iter().enumerate() {
        if x == b'!' || x == b'/' {
            return (Some(i + k), crc);
        }
        crc = update_byte(crc, x);
    }
    (None, crc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equals_the_reference_implementation() {
        assert_eq!(crc16_arc(b"123456789"), 0xBB3D);
        let data: Vec<u8> = (0u32..2000).map(|i| (i * 7 + i / 3) as u8).collect();
        for len in 0..80 {
            assert_eq!(
                crc16_arc(&data[..len]),
                crate::checksum::crc16_arc(&data[..len])
            );
        }
        assert_eq!(crc16_arc(&data), crate::checksum::crc16_arc(&data));
        // Any split continues the same register.
        for cut in [0, 1, 15, 16, 17, 100, 1999] {
            assert_eq!(
                update(update(0, &data[..cut]), &data[cut..]),
                crate::checksum::crc16_arc(&data)
            );
        }
    }

    #[test]
    fn scanning_stops_at_the_first_mark_with_the_crc_before_it() {
        let mut t = vec![b'x'; 100];
        for at in [0, 5, 15, 16, 17, 40, 99] {
            t.fill(b'a');
            t[at] = b'!';
            if at + 3 < t.len() {
                t[at + 3] = b'/';
            }
            assert_eq!(scan(&t, 0), (Some(at), crc16_arc(&t[..at])), "{at}");
            t[at] = b'/';
            assert_eq!(scan(&t, 0), (Some(at), crc16_arc(&t[..at])), "{at}");
        }
        t.fill(b'a');
        assert_eq!(scan(&t, 0), (None, crc16_arc(&t)));
        // Continuing from a register.
        assert_eq!(scan(&t[40..], crc16_arc(&t[..40])), (None, crc16_arc(&t)));
    }
}
