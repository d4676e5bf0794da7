//! OBIS references on DSMR lines (`A-B:C.D.E`): packed into integers, read from the start of a
//! line (a quick reader for the usual form and a general one), and the table of codes whose one
//! value maps straight to one [`Quantity`].

use super::value::Family;
use crate::reading::Quantity;

/// An OBIS code `A-B:C.D.E` packed into an integer for fast matching.
pub(super) const fn obis(a: u8, b: u8, c: u8, d: u8, e: u8) -> u64 {
    (a as u64) << 32 | (b as u64) << 24 | (c as u64) << 16 | (d as u64) << 8 | e as u64
}

// OBIS codes matched below, as packed integers (`O_A_B_C_D_E`).
pub(super) const O_0_0_1_0_0: u64 = obis(0, 0, 1, 0, 0);
pub(super) const O_0_0_24_1_0: u64 = obis(0, 0, 24, 1, 0);
pub(super) const O_0_0_24_2_1: u64 = obis(0, 0, 24, 2, 1);
pub(super) const O_0_0_24_2_3: u64 = obis(0, 0, 24, 2, 3);
pub(super) const O_0_0_24_3_0: u64 = obis(0, 0, 24, 3, 0);
pub(super) const O_0_0_96_14_0: u64 = obis(0, 0, 96, 14, 0);
pub(super) const O_0_0_96_1_0: u64 = obis(0, 0, 96, 1, 0);
pub(super) const O_0_0_96_1_1: u64 = obis(0, 0, 96, 1, 1);
pub(super) const O_0_0_96_1_255: u64 = obis(0, 0, 96, 1, 255);
pub(super) const O_0_0_96_1_4: u64 = obis(0, 0, 96, 1, 4);
pub(super) const O_0_0_96_7_21: u64 = obis(0, 0, 96, 7, 21);
pub(super) const O_0_0_96_7_9: u64 = obis(0, 0, 96, 7, 9);
pub(super) const O_1_0_0_0_0: u64 = obis(1, 0, 0, 0, 0);
pub(super) const O_1_0_13_7_0: u64 = obis(1, 0, 13, 7, 0);
pub(super) const O_1_0_1_4_0: u64 = obis(1, 0, 1, 4, 0);
pub(super) const O_1_0_1_6_0: u64 = obis(1, 0, 1, 6, 0);
pub(super) const O_1_0_1_7_0: u64 = obis(1, 0, 1, 7, 0);
pub(super) const O_1_0_1_8_0: u64 = obis(1, 0, 1, 8, 0);
pub(super) const O_1_0_1_8_1: u64 = obis(1, 0, 1, 8, 1);
pub(super) const O_1_0_1_8_2: u64 = obis(1, 0, 1, 8, 2);
pub(super) const O_1_0_21_7_0: u64 = obis(1, 0, 21, 7, 0);
pub(super) const O_1_0_22_7_0: u64 = obis(1, 0, 22, 7, 0);
pub(super) const O_1_0_2_7_0: u64 = obis(1, 0, 2, 7, 0);
pub(super) const O_1_0_2_8_0: u64 = obis(1, 0, 2, 8, 0);
pub(super) const O_1_0_2_8_1: u64 = obis(1, 0, 2, 8, 1);
pub(super) const O_1_0_2_8_2: u64 = obis(1, 0, 2, 8, 2);
pub(super) const O_1_0_31_7_0: u64 = obis(1, 0, 31, 7, 0);
pub(super) const O_1_0_32_32_0: u64 = obis(1, 0, 32, 32, 0);
pub(super) const O_1_0_32_36_0: u64 = obis(1, 0, 32, 36, 0);
pub(super) const O_1_0_32_7_0: u64 = obis(1, 0, 32, 7, 0);
pub(super) const O_1_0_3_7_0: u64 = obis(1, 0, 3, 7, 0);
pub(super) const O_1_0_3_8_0: u64 = obis(1, 0, 3, 8, 0);
pub(super) const O_1_0_41_7_0: u64 = obis(1, 0, 41, 7, 0);
pub(super) const O_1_0_42_7_0: u64 = obis(1, 0, 42, 7, 0);
pub(super) const O_1_0_4_7_0: u64 = obis(1, 0, 4, 7, 0);
pub(super) const O_1_0_4_8_0: u64 = obis(1, 0, 4, 8, 0);
pub(super) const O_1_0_51_7_0: u64 = obis(1, 0, 51, 7, 0);
pub(super) const O_1_0_52_32_0: u64 = obis(1, 0, 52, 32, 0);
pub(super) const O_1_0_52_36_0: u64 = obis(1, 0, 52, 36, 0);
pub(super) const O_1_0_52_7_0: u64 = obis(1, 0, 52, 7, 0);
pub(super) const O_1_0_61_7_0: u64 = obis(1, 0, 61, 7, 0);
pub(super) const O_1_0_62_7_0: u64 = obis(1, 0, 62, 7, 0);
pub(super) const O_1_0_71_7_0: u64 = obis(1, 0, 71, 7, 0);
pub(super) const O_1_0_72_32_0: u64 = obis(1, 0, 72, 32, 0);
pub(super) const O_1_0_72_36_0: u64 = obis(1, 0, 72, 36, 0);
pub(super) const O_1_0_72_7_0: u64 = obis(1, 0, 72, 7, 0);
pub(super) const O_1_3_0_2_8: u64 = obis(1, 3, 0, 2, 8);
pub(super) const O_1_0_1_8_3: u64 = obis(1, 0, 1, 8, 3);
pub(super) const O_1_0_1_8_4: u64 = obis(1, 0, 1, 8, 4);
pub(super) const O_1_0_2_8_3: u64 = obis(1, 0, 2, 8, 3);
pub(super) const O_1_0_2_8_4: u64 = obis(1, 0, 2, 8, 4);
pub(super) const O_1_0_5_8_0: u64 = obis(1, 0, 5, 8, 0);
pub(super) const O_1_0_6_8_0: u64 = obis(1, 0, 6, 8, 0);
pub(super) const O_1_0_7_8_0: u64 = obis(1, 0, 7, 8, 0);
pub(super) const O_1_0_8_8_0: u64 = obis(1, 0, 8, 8, 0);
pub(super) const O_1_0_99_97_0: u64 = obis(1, 0, 99, 97, 0);
pub(super) const O_0_0_96_13_0: u64 = obis(0, 0, 96, 13, 0);
pub(super) const O_0_0_96_13_1: u64 = obis(0, 0, 96, 13, 1);
pub(super) const O_0_0_98_1_0: u64 = obis(0, 0, 98, 1, 0);

/// The quantity and unit family of a code whose one value maps straight to one field.
#[inline]
pub(super) fn simple_quantity(code: u64) -> Option<(Quantity, Family)> {
    Some(match code {
        O_1_0_1_8_0 => (Quantity::ImportWh, Family::Energy),
        O_1_0_1_8_1 => (Quantity::ImportT1Wh, Family::Energy),
        O_1_0_1_8_2 => (Quantity::ImportT2Wh, Family::Energy),
        O_1_0_2_8_0 => (Quantity::ExportWh, Family::Energy),
        O_1_0_2_8_1 => (Quantity::ExportT1Wh, Family::Energy),
        O_1_0_2_8_2 => (Quantity::ExportT2Wh, Family::Energy),
        O_1_0_1_7_0 => (Quantity::ImportW, Family::Power),
        O_1_0_2_7_0 => (Quantity::ExportW, Family::Power),
        O_1_0_32_7_0 => (Quantity::L1Dv, Family::Voltage),
        O_1_0_52_7_0 => (Quantity::L2Dv, Family::Voltage),
        O_1_0_72_7_0 => (Quantity::L3Dv, Family::Voltage),
        O_1_0_31_7_0 => (Quantity::L1Ma, Family::Current),
        O_1_0_51_7_0 => (Quantity::L2Ma, Family::Current),
        O_1_0_71_7_0 => (Quantity::L3Ma, Family::Current),
        O_1_0_21_7_0 => (Quantity::L1ImportW, Family::Power),
        O_1_0_41_7_0 => (Quantity::L2ImportW, Family::Power),
        O_1_0_61_7_0 => (Quantity::L3ImportW, Family::Power),
        O_1_0_22_7_0 => (Quantity::L1ExportW, Family::Power),
        O_1_0_42_7_0 => (Quantity::L2ExportW, Family::Power),
        O_1_0_62_7_0 => (Quantity::L3ExportW, Family::Power),
        O_1_0_3_8_0 => (Quantity::ReactiveImportVarh, Family::ReactiveEnergy),
        O_1_0_4_8_0 => (Quantity::ReactiveExportVarh, Family::ReactiveEnergy),
        O_1_0_3_7_0 => (Quantity::ReactiveImportVar, Family::ReactivePower),
        O_1_0_4_7_0 => (Quantity::ReactiveExportVar, Family::ReactivePower),
        O_1_0_13_7_0 => (Quantity::PowerFactorMilli, Family::PowerFactor),
        O_0_0_96_7_21 => (Quantity::PowerFailures, Family::Count),
        O_0_0_96_7_9 => (Quantity::LongPowerFailures, Family::Count),
        O_1_0_32_32_0 => (Quantity::VoltageSagsL1, Family::Count),
        O_1_0_52_32_0 => (Quantity::VoltageSagsL2, Family::Count),
        O_1_0_72_32_0 => (Quantity::VoltageSagsL3, Family::Count),
        O_1_0_32_36_0 => (Quantity::VoltageSwellsL1, Family::Count),
        O_1_0_52_36_0 => (Quantity::VoltageSwellsL2, Family::Count),
        O_1_0_72_36_0 => (Quantity::VoltageSwellsL3, Family::Count),
        O_0_0_96_14_0 => (Quantity::Tariff, Family::Count),
        O_1_0_1_4_0 => (Quantity::DemandCurrentW, Family::Power),
        _ => return None,
    })
}

/// The common case of [`parse_obis`]: `A-B:C.D.E(` with one to three digits per part, each at
/// most 255. Returns the packed code and the index of the `(`; `None` for anything else
/// (which [`parse_obis`] then reads, to the same result when this one answers).
#[inline]
pub(super) fn fast_obis(line: &[u8]) -> Option<(u64, usize)> {
    // Nearly every line starts `0-0:` or `1-0:`.
    let (a, b, at) = match line.first_chunk::<4>() {
        Some(&[a @ b'0'..=b'9', b'-', b'0', b':']) => (a - b'0', 0, 4),
        _ => {
            let (a, at) = obis_part(line, 0, b'-')?;
            let (b, at) = obis_part(line, at, b':')?;
            (a, b, at)
        }
    };
    let (c, at) = obis_part(line, at, b'.')?;
    let (d, at) = obis_part(line, at, b'.')?;
    let (e, at) = obis_part(line, at, b'(')?;
    Some((obis(a, b, c, d, e), at - 1))
}

/// One part of [`fast_obis`]: one to three digits at `at` (at most 255), then `sep`. Returns
/// the number and the index after `sep`.
#[inline(always)]
fn obis_part(line: &[u8], at: usize, sep: u8) -> Option<(u8, usize)> {
    let d0 = line.get(at)?.wrapping_sub(b'0');
    if d0 > 9 {
        return None;
    }
    let b1 = *line.get(at + 1)?;
    if b1 == sep {
        return Some((d0, at + 2));
    }
    let d1 = b1.wrapping_sub(b'0');
    if d1 > 9 {
        return None;
    }
    let v = d0 * 10 + d1;
    let b2 = *line.get(at + 2)?;
    if b2 == sep {
        return Some((v, at + 3));
    }
    let d2 = b2.wrapping_sub(b'0');
    if d2 > 9 || *line.get(at + 3)? != sep {
        return None;
    }
    let v = u8::try_from(u16::from(v) * 10 + u16::from(d2)).ok()?;
    Some((v, at + 4))
}

/// Reads the `A-B:C.D.E` code at the start of a line (optionally followed by `*F`, as
/// EasyMeter sends) into a packed code, and says where the first `(` is (or the line length).
pub(super) fn parse_obis(line: &[u8]) -> (Option<u64>, usize) {
    let mut parts = [0u8; 5];
    let mut i = 0usize;
    let mut have_digit = false;
    let mut acc: u16 = 0;
    let mut ok = true;
    let mut at = 0usize;
    while at < line.len() {
        let b = line[at];
        match b {
            b'0'..=b'9' => {
                acc = acc * 10 + u16::from(b - b'0');
                if acc > 255 {
                    ok = false;
                    break;
                }
                have_digit = true;
            }
            b'-' | b':' | b'.' => {
                let expected = match i {
                    0 => b'-',
                    1 => b':',
                    2 | 3 => b'.',
                    _ => 0,
                };
                if b != expected || !have_digit {
                    ok = false;
                    break;
                }
                parts[i] = acc as u8;
                i += 1;
                acc = 0;
                have_digit = false;
            }
            b'(' | b'*' => break,
            _ => {
                ok = false;
                break;
            }
        }
        at += 1;
    }
    let open = match line[at..].iter().position(|&b| b == b'(') {
        Some(p) => at + p,
        None => line.len(),
    };
    if !ok || i != 4 || !have_digit {
        return (None, open);
    }
    parts[4] = acc as u8;
    (
        Some(obis(parts[0], parts[1], parts[2], parts[3], parts[4])),
        open,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quick_obis_reader_agrees_with_the_general_one() {
        assert_eq!(fast_obis(b"1-0:1.8.1(1)"), Some((obis(1, 0, 1, 8, 1), 9)));
        assert_eq!(
            fast_obis(b"0-0:96.7.21(00013)"),
            Some((obis(0, 0, 96, 7, 21), 11))
        );
        for line in [
            &b"0-0:96.1.255*255(x)"[..],
            b"1-0:1.8.256(1)",
            b"1-0:1.8(1)",
            b"1-0:1.8.0001(1)",
            b"1:0-1.8.0(1)",
            b"",
            b"1-0:.8.0(1)",
            b"1-0:1.8.0",
        ] {
            assert_eq!(fast_obis(line), None, "{line:?}");
        }
    }

    proptest::proptest! {
        /// Whenever the quick OBIS reader answers, the general one says the same.
        #[test]
        fn the_quick_obis_reader_never_disagrees(
            line in proptest::collection::vec(
                proptest::sample::select(b"0123456789012345678901234567890123456789-:.(*)".to_vec()),
                0..20,
            ),
        ) {
            if let Some((code, open)) = fast_obis(&line) {
                proptest::prop_assert_eq!(parse_obis(&line), (Some(code), open));
            }
        }
    }

    #[test]
    fn obis_codes() {
        assert_eq!(parse_obis(b"1-0:1.8.1(1)"), (Some(obis(1, 0, 1, 8, 1)), 9));
        assert_eq!(
            parse_obis(b"0-0:96.1.255*255(x)"),
            (Some(obis(0, 0, 96, 1, 255)), 16)
        );
        assert_eq!(parse_obis(b"1-0:1.8(1)").0, None);
        assert_eq!(parse_obis(b"1-0:1.8.256(1)").0, None);
        assert_eq!(parse_obis(b"1:0-1.8.0(1)"), (None, 9));
        assert_eq!(parse_obis(b""), (None, 0));
        assert_eq!(parse_obis(b"1-0:.8.0").0, None);
        assert_eq!(parse_obis(b"this is not obis"), (None, 16));
    }
}
