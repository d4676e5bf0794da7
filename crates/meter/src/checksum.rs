//! The frame checksums meters use: CRC-16/ARC (DSMR P1) and CRC-16/X-25 (HDLC FCS, SML).
//!
//! Table-driven, one table per polynomial built at compile time.

const fn reflected_table(poly: u16) -> [u16; 256] {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u16;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ poly
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// Reflected 0x8005 (CRC-16/ARC, as DSMR 4+ uses over `/`..`!`).
static ARC_TABLE: [u16; 256] = reflected_table(0xA001);
/// Reflected 0x1021 (CRC-16/X-25, alias IBM-SDLC: HDLC frame check sequence, SML).
static X25_TABLE: [u16; 256] = reflected_table(0x8408);

/// Continues a CRC-16/ARC over more bytes (start with `0`).
#[inline]
pub fn crc16_arc_update(mut crc: u16, bytes: &[u8]) -> u16 {
    for &b in bytes {
        crc = (crc >> 8) ^ ARC_TABLE[usize::from((crc ^ u16::from(b)) as u8)];
    }
    crc
}

/// CRC-16/ARC of `bytes`: poly 0x8005 reflected, init 0, no final xor.
#[inline]
pub fn crc16_arc(bytes: &[u8]) -> u16 {
    crc16_arc_update(0, bytes)
}

/// CRC-16/X-25 of `bytes`: poly 0x1021 reflected, init 0xFFFF, final xor 0xFFFF.
/// On the wire (HDLC FCS, SML) it is sent least significant byte first.
#[inline]
pub fn crc16_x25(bytes: &[u8]) -> u16 {
    let mut crc = 0xFFFFu16;
    for &b in bytes {
        crc = (crc >> 8) ^ X25_TABLE[usize::from((crc ^ u16::from(b)) as u8)];
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    // Check values from the CRC catalogue (reveng.sourceforge.io/crc-catalogue) for "123456789".
    #[test]
    fn arc_check_value() {
        assert_eq!(crc16_arc(b"123456789"), 0xBB3D);
        assert_eq!(crc16_arc(b""), 0);
    }

    #[test]
    fn arc_update_equals_one_shot() {
        let a = crc16_arc_update(crc16_arc_update(0, b"1234"), b"56789");
        assert_eq!(a, 0xBB3D);
    }

    #[test]
    fn x25_check_value() {
        assert_eq!(crc16_x25(b"123456789"), 0x906E);
    }
}
