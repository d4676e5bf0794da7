//! Reads the lines of one DSMR telegram (OBIS code, values in parentheses) into a [`Reading`].
//!
//! Parsing never fails as a whole: a line that cannot be read becomes a [`Diagnostic`] and
//! the rest of the telegram is kept. Objects outside the canonical record (the power-failure
//! log, text messages, the eMUCS peak history, tariff 3/4 and reactive quadrant registers)
//! go to the reading's [`crate::reading::Extras`]; codes Hearth has no use for (breaker
//! state, thresholds, ...) are skipped silently. Numbers are read as decimal text straight
//! into integers in the stored unit (Wh, W, dV, mA, dm³, MJ): no floats.

use crate::decoder::{Decoded, Diagnostic};
use crate::reading::{DemandPeak, MeterId, PowerFailure, Protocol, Quantity, Reading};
use crate::time::{MeterTime, TimeError};

/// An OBIS code `A-B:C.D.E` packed into an integer for fast matching.
const fn obis(a: u8, b: u8, c: u8, d: u8, e: u8) -> u64 {
    (a as u64) << 32 | (b as u64) << 24 | (c as u64) << 16 | (d as u64) << 8 | e as u64
}

// OBIS codes matched below, as packed integers (`O_A_B_C_D_E`).
const O_0_0_1_0_0: u64 = obis(0, 0, 1, 0, 0);
const O_0_0_24_1_0: u64 = obis(0, 0, 24, 1, 0);
const O_0_0_24_2_1: u64 = obis(0, 0, 24, 2, 1);
const O_0_0_24_2_3: u64 = obis(0, 0, 24, 2, 3);
const O_0_0_24_3_0: u64 = obis(0, 0, 24, 3, 0);
const O_0_0_96_14_0: u64 = obis(0, 0, 96, 14, 0);
const O_0_0_96_1_0: u64 = obis(0, 0, 96, 1, 0);
const O_0_0_96_1_1: u64 = obis(0, 0, 96, 1, 1);
const O_0_0_96_1_255: u64 = obis(0, 0, 96, 1, 255);
const O_0_0_96_1_4: u64 = obis(0, 0, 96, 1, 4);
const O_0_0_96_7_21: u64 = obis(0, 0, 96, 7, 21);
const O_0_0_96_7_9: u64 = obis(0, 0, 96, 7, 9);
const O_1_0_0_0_0: u64 = obis(1, 0, 0, 0, 0);
const O_1_0_13_7_0: u64 = obis(1, 0, 13, 7, 0);
const O_1_0_1_4_0: u64 = obis(1, 0, 1, 4, 0);
const O_1_0_1_6_0: u64 = obis(1, 0, 1, 6, 0);
const O_1_0_1_7_0: u64 = obis(1, 0, 1, 7, 0);
const O_1_0_1_8_0: u64 = obis(1, 0, 1, 8, 0);
const O_1_0_1_8_1: u64 = obis(1, 0, 1, 8, 1);
const O_1_0_1_8_2: u64 = obis(1, 0, 1, 8, 2);
const O_1_0_21_7_0: u64 = obis(1, 0, 21, 7, 0);
const O_1_0_22_7_0: u64 = obis(1, 0, 22, 7, 0);
const O_1_0_2_7_0: u64 = obis(1, 0, 2, 7, 0);
const O_1_0_2_8_0: u64 = obis(1, 0, 2, 8, 0);
const O_1_0_2_8_1: u64 = obis(1, 0, 2, 8, 1);
const O_1_0_2_8_2: u64 = obis(1, 0, 2, 8, 2);
const O_1_0_31_7_0: u64 = obis(1, 0, 31, 7, 0);
const O_1_0_32_32_0: u64 = obis(1, 0, 32, 32, 0);
const O_1_0_32_36_0: u64 = obis(1, 0, 32, 36, 0);
const O_1_0_32_7_0: u64 = obis(1, 0, 32, 7, 0);
const O_1_0_3_7_0: u64 = obis(1, 0, 3, 7, 0);
const O_1_0_3_8_0: u64 = obis(1, 0, 3, 8, 0);
const O_1_0_41_7_0: u64 = obis(1, 0, 41, 7, 0);
const O_1_0_42_7_0: u64 = obis(1, 0, 42, 7, 0);
const O_1_0_4_7_0: u64 = obis(1, 0, 4, 7, 0);
const O_1_0_4_8_0: u64 = obis(1, 0, 4, 8, 0);
const O_1_0_51_7_0: u64 = obis(1, 0, 51, 7, 0);
const O_1_0_52_32_0: u64 = obis(1, 0, 52, 32, 0);
const O_1_0_52_36_0: u64 = obis(1, 0, 52, 36, 0);
const O_1_0_52_7_0: u64 = obis(1, 0, 52, 7, 0);
const O_1_0_61_7_0: u64 = obis(1, 0, 61, 7, 0);
const O_1_0_62_7_0: u64 = obis(1, 0, 62, 7, 0);
const O_1_0_71_7_0: u64 = obis(1, 0, 71, 7, 0);
const O_1_0_72_32_0: u64 = obis(1, 0, 72, 32, 0);
const O_1_0_72_36_0: u64 = obis(1, 0, 72, 36, 0);
const O_1_0_72_7_0: u64 = obis(1, 0, 72, 7, 0);
const O_1_3_0_2_8: u64 = obis(1, 3, 0, 2, 8);
const O_1_0_1_8_3: u64 = obis(1, 0, 1, 8, 3);
const O_1_0_1_8_4: u64 = obis(1, 0, 1, 8, 4);
const O_1_0_2_8_3: u64 = obis(1, 0, 2, 8, 3);
const O_1_0_2_8_4: u64 = obis(1, 0, 2, 8, 4);
const O_1_0_5_8_0: u64 = obis(1, 0, 5, 8, 0);
const O_1_0_6_8_0: u64 = obis(1, 0, 6, 8, 0);
const O_1_0_7_8_0: u64 = obis(1, 0, 7, 8, 0);
const O_1_0_8_8_0: u64 = obis(1, 0, 8, 8, 0);
const O_1_0_99_97_0: u64 = obis(1, 0, 99, 97, 0);
const O_0_0_96_13_0: u64 = obis(0, 0, 96, 13, 0);
const O_0_0_96_13_1: u64 = obis(0, 0, 96, 13, 1);
const O_0_0_98_1_0: u64 = obis(0, 0, 98, 1, 0);

/// The unit family a value is converted within; the number is the power of ten to go from the
/// family's default unit to the stored integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Family {
    /// Active energy: kWh (default) or Wh → Wh.
    Energy,
    /// Active power: kW (default) or W → W.
    Power,
    /// Voltage: V → dV.
    Voltage,
    /// Current: A → mA.
    Current,
    /// Reactive energy: kvarh (default) or varh → varh.
    ReactiveEnergy,
    /// Reactive power: kvar (default) or var → var.
    ReactivePower,
    /// Power factor (no unit) → thousandths.
    PowerFactor,
    /// A plain count or index.
    Count,
    /// Volume: m³ (default) or dm³ → dm³.
    Volume,
    /// Heat: GJ (default) or MJ → MJ.
    Heat,
    /// A duration: seconds (default) → s.
    Seconds,
}

/// A unit of at most seven bytes, ASCII-lowercased and packed with its length into an integer,
/// so one `match` replaces a chain of case-insensitive string comparisons.
const fn unit_key(unit: &[u8]) -> u64 {
    let mut key = (unit.len() as u64) << 56;
    let mut i = 0;
    while i < unit.len() && i < 7 {
        key |= (unit[i].to_ascii_lowercase() as u64) << (8 * i);
        i += 1;
    }
    key
}

const U_NONE: u64 = unit_key(b"");
const U_KWH: u64 = unit_key(b"kWh");
const U_WH: u64 = unit_key(b"Wh");
const U_MWH: u64 = unit_key(b"MWh");
const U_KW: u64 = unit_key(b"kW");
const U_W: u64 = unit_key(b"W");
const U_MW: u64 = unit_key(b"MW");
const U_V: u64 = unit_key(b"V");
const U_A: u64 = unit_key(b"A");
const U_MA: u64 = unit_key(b"mA");
const U_KVARH: u64 = unit_key(b"kvarh");
const U_VARH: u64 = unit_key(b"varh");
const U_KVAR: u64 = unit_key(b"kvar");
const U_VAR: u64 = unit_key(b"var");
const U_M3: u64 = unit_key(b"m3");
const U_DM3: u64 = unit_key(b"dm3");
const U_L: u64 = unit_key(b"l");
const U_GJ: u64 = unit_key(b"GJ");
const U_MJ: u64 = unit_key(b"MJ");
const U_S: u64 = unit_key(b"s");

impl Family {
    /// Decimal exponent from `unit` to the stored unit, or `None` if the unit does not fit.
    /// Units compare ASCII-case-insensitively (`kWh`, `KWH`, `kwh` are the same; so are `MWh`
    /// and `mWh`, as they always were).
    pub(super) fn exponent(self, unit: &[u8]) -> Option<u32> {
        if unit.len() > 7 {
            return None;
        }
        match (self, unit_key(unit)) {
            (Family::Energy, U_NONE | U_KWH) => Some(3),
            (Family::Energy, U_WH) => Some(0),
            (Family::Energy, U_MWH) => Some(6),
            (Family::Power, U_NONE | U_KW) => Some(3),
            (Family::Power, U_W) => Some(0),
            (Family::Power, U_MW) => Some(6),
            (Family::Voltage, U_NONE | U_V) => Some(1),
            (Family::Current, U_NONE | U_A) => Some(3),
            (Family::Current, U_MA) => Some(0),
            (Family::ReactiveEnergy, U_NONE | U_KVARH) => Some(3),
            (Family::ReactiveEnergy, U_VARH) => Some(0),
            (Family::ReactivePower, U_NONE | U_KVAR) => Some(3),
            (Family::ReactivePower, U_VAR) => Some(0),
            (Family::PowerFactor, U_NONE) => Some(3),
            (Family::Count, U_NONE) => Some(0),
            (Family::Volume, U_NONE | U_M3) => Some(3),
            (Family::Volume, U_DM3 | U_L) => Some(0),
            (Family::Heat, U_NONE | U_GJ) => Some(3),
            (Family::Heat, U_MJ) => Some(0),
            (Family::Seconds, U_NONE | U_S) => Some(0),
            _ => None,
        }
    }
}

/// A value that could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueError {
    Empty,
    NotANumber,
    Unit,
    TooLarge,
}

impl ValueError {
    fn message(self, unit: &[u8]) -> String {
        match self {
            ValueError::Empty => "no value".into(),
            ValueError::NotANumber => "value is not a number".into(),
            ValueError::Unit => format!(
                "unexpected unit '{}'",
                String::from_utf8_lossy(unit)
                    .chars()
                    .take(16)
                    .collect::<String>()
            ),
            ValueError::TooLarge => "value too large".into(),
        }
    }
}

/// Reads `digits[.digits][*unit]` into the stored integer of `family`, rounding half away from
/// zero when the meter sends more decimals than Hearth keeps.
fn value(text: &[u8], family: Family) -> Result<i64, (ValueError, &[u8])> {
    let (num, unit) = match text.iter().position(|&b| b == b'*') {
        Some(i) => (&text[..i], &text[i + 1..]),
        None => (text, &text[text.len()..]),
    };
    let Some(exp) = family.exponent(unit) else {
        return Err((ValueError::Unit, unit));
    };
    let (neg, num) = match num.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, num),
    };
    if num.is_empty() {
        return Err((ValueError::Empty, unit));
    }
    let mut mantissa: i64 = 0;
    let mut decimals: Option<u32> = None;
    let mut digits = 0u32;
    // The first digit dropped by rounding, if any.
    let mut dropped: Option<u8> = None;
    for &b in num {
        match b {
            b'0'..=b'9' => {
                digits += 1;
                if let Some(d) = decimals.as_mut() {
                    if *d >= exp {
                        if dropped.is_none() {
                            dropped = Some(b - b'0');
                        }
                        continue;
                    }
                    *d += 1;
                }
                mantissa = mantissa
                    .checked_mul(10)
                    .and_then(|m| m.checked_add(i64::from(b - b'0')))
                    .ok_or((ValueError::TooLarge, unit))?;
            }
            b'.' | b',' if decimals.is_none() => decimals = Some(0),
            _ => return Err((ValueError::NotANumber, unit)),
        }
    }
    if digits == 0 {
        return Err((ValueError::NotANumber, unit));
    }
    let shift = exp - decimals.unwrap_or(0);
    let mut v = mantissa
        .checked_mul(10i64.pow(shift))
        .ok_or((ValueError::TooLarge, unit))?;
    if dropped.is_some_and(|d| d >= 5) {
        v = v.checked_add(1).ok_or((ValueError::TooLarge, unit))?;
    }
    Ok(if neg { -v } else { v })
}

/// Powers of ten up to 10^18 (the largest that fits an `i64`).
const POW10: [i64; 19] = {
    let mut t = [1i64; 19];
    let mut i = 1;
    while i < 19 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// The common case of [`value`] in one pass: `body` starts after the `(` that opens a value
/// group, `[sign]digits[.digits][*unit])`. Returns what [`value`] returns for that group when
/// it is a plain number in a known unit, and the length up to and including the `)`; `None`
/// for anything else (errors, more than 18 digits), which the caller then reads the general
/// way. Same rounding: half away from zero on the first dropped digit.
#[inline(never)]
fn fast_value(body: &[u8], family: Family) -> Option<(i64, usize)> {
    let (neg, start) = match body.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let mut i = start;
    let mut mantissa: i64 = 0;
    // Index of the decimal mark, if any.
    let mut mark = usize::MAX;
    let end = loop {
        let (run, k) = digit_run(body, i);
        if k > 0 {
            // Wraps only past 18 digits, which are refused below.
            mantissa = mantissa.wrapping_mul(POW10[k]).wrapping_add(run);
            i += k;
            if k == 8 {
                continue;
            }
        }
        let b = *body.get(i)?;
        if (b == b'.' || b == b',') && mark == usize::MAX {
            mark = i;
        } else if b == b'*' || b == b')' {
            break b;
        } else {
            return None;
        }
        i += 1;
    };
    let (digits, frac) = if mark == usize::MAX {
        (i - start, 0)
    } else {
        (i - start - 1, i - mark - 1)
    };
    if digits == 0 || digits > 18 {
        return None;
    }
    let unit = if end == b'*' {
        let u = &body[i + 1..];
        let close = u.iter().position(|&b| b == b')')?;
        i += 1 + close;
        &u[..close]
    } else {
        &body[i..i]
    };
    let exp = family.exponent(unit)? as usize;
    let v = if frac <= exp {
        mantissa.checked_mul(POW10[exp - frac])?
    } else {
        let drop = frac - exp;
        let kept = mantissa / POW10[drop];
        let first_dropped = mantissa / POW10[drop - 1] % 10;
        kept + i64::from(first_dropped >= 5)
    };
    Some((if neg { -v } else { v }, i + 1))
}

/// The decimal digits at the start of `body[i..]`, at most eight, read eight bytes at a time:
/// their value and how many there are.
#[inline]
pub(super) fn digit_run(body: &[u8], i: usize) -> (i64, usize) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let tail = body.get(i..).unwrap_or_default();
    let w = match tail.first_chunk::<8>() {
        Some(w) => *w,
        None => {
            // Pad with NUL bytes, which are not digits.
            let mut w = [0u8; 8];
            w[..tail.len()].copy_from_slice(tail);
            w
        }
    };
    let v = u64::from_le_bytes(w);
    // A byte is a digit when its high nibble is 3 and stays 3 after adding 6. Carries only run
    // towards later bytes, so everything up to the first non-digit is judged exactly.
    let hi = ONES * 0xF0;
    let x = ((v & hi) ^ (ONES * 0x30)) | ((v.wrapping_add(ONES * 6) & hi) ^ (ONES * 0x30));
    // Bit 7 of each byte of `x` that is not zero.
    let nonzero = (((x & (ONES * 0x7F)) + ONES * 0x7F) | x) & (ONES * 0x80);
    let k = (nonzero.trailing_zeros() / 8) as usize;
    if k == 0 {
        return (0, 0);
    }
    // The k digits as values 0..9, moved up so that missing leading digits read as zeros.
    let d = v.wrapping_sub(ONES * 0x30) << (8 * (8 - k));
    // Pairs, then quads, then all eight (the first byte is the most significant digit).
    let d = d.wrapping_mul(10).wrapping_add(d >> 8);
    let d = ((d & 0x0000_00FF_0000_00FF)
        .wrapping_mul(100 + (1_000_000 << 32))
        .wrapping_add(((d >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(1 + (10_000 << 32))))
        >> 32;
    (d as i64, k)
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

/// [`MeterTime::from_dsmr`], with the common `YYMMDDhhmmssS` / `W` form read directly: the
/// flag gives the offset (CEST +2 h, CET +1 h), so no zone rules are needed. Anything else
/// (no flag, an impossible date, a bad character) goes to `from_dsmr`, which then decides.
#[inline]
pub(crate) fn dsmr_time(s: &[u8]) -> Result<MeterTime, TimeError> {
    match quick_time(s) {
        Some(t) => Ok(t),
        None => MeterTime::from_dsmr(s),
    }
}

/// The `S`/`W` case of [`dsmr_time`]; `None` whenever `from_dsmr` has to look.
#[inline]
fn quick_time(s: &[u8]) -> Option<MeterTime> {
    let s: &[u8; 13] = s.try_into().ok()?;
    let offset_s = match s[12] {
        b'S' | b's' => 7200,
        b'W' | b'w' => 3600,
        _ => return None,
    };
    let mut n = [0u32; 6];
    for (i, v) in n.iter_mut().enumerate() {
        let (a, b) = (s[2 * i].wrapping_sub(b'0'), s[2 * i + 1].wrapping_sub(b'0'));
        if a > 9 || b > 9 {
            return None;
        }
        *v = u32::from(a) * 10 + u32::from(b);
    }
    let [yy, month, day, hour, minute, second] = n;
    let year = 2000 + yy;
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let month_days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    if day == 0 || day > month_days || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = i64::from(hour * 3600 + minute * 60 + second);
    Some(MeterTime {
        unix: days * 86_400 + secs - i64::from(offset_s),
        offset_s,
    })
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's `days_from_civil`), for
/// years from 2000 to 2099 as DSMR timestamps have.
#[inline]
fn days_from_civil(year: u32, month: u32, day: u32) -> i64 {
    // Years start in March so the leap day ends the year.
    let y = i64::from(if month <= 2 { year - 1 } else { year });
    let (era, yoe) = (y / 400, y % 400);
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Decodes an equipment identifier: DSMR 4+ send it as hex of ASCII; older meters and some
/// variants send it in clear.
fn equipment_id(text: &[u8]) -> String {
    if text.len().is_multiple_of(2) && !text.is_empty() {
        let mut out = Vec::with_capacity(text.len() / 2);
        let printable = text
            .chunks_exact(2)
            .all(|p| match (hex_digit(p[0]), hex_digit(p[1])) {
                (Some(h), Some(l)) if (0x20..0x7F).contains(&(h << 4 | l)) => {
                    out.push(h << 4 | l);
                    true
                }
                _ => false,
            });
        if printable && let Ok(s) = String::from_utf8(out) {
            return s;
        }
    }
    String::from_utf8_lossy(text).into_owned()
}

/// A text message: hex of its bytes (DSMR 4+), or the text itself when it is not hex (older
/// meters); bytes that are not UTF-8 become U+FFFD.
fn text_message(text: &[u8]) -> String {
    if text.len().is_multiple_of(2) {
        let bytes: Option<Vec<u8>> = text
            .chunks_exact(2)
            .map(|p| Some(hex_digit(p[0])? << 4 | hex_digit(p[1])?))
            .collect();
        if let Some(bytes) = bytes {
            return String::from_utf8_lossy(&bytes).into_owned();
        }
    }
    String::from_utf8_lossy(text).into_owned()
}

/// The `(…)` groups of a line, in order (the line is known to close each one).
struct Groups<'a>(&'a [u8]);

impl<'a> Iterator for Groups<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.0.strip_prefix(b"(")?;
        let close = rest.iter().position(|&b| b == b')')?;
        self.0 = &rest[close + 1..];
        Some(&rest[..close])
    }
}

/// The value of one hex digit (either case).
#[inline]
fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// What one M-Bus channel (`0-n:...`, n = 1..4) reported.
#[derive(Clone, Copy, Default)]
struct Channel<'a> {
    device_type: Option<u8>,
    /// Equipment identifier present but empty: the channel has no device.
    empty_id: bool,
    time: Option<&'a [u8]>,
    value: Option<&'a [u8]>,
    line: u32,
}

/// What a channel measures, from its device type (EN 13757-3) or else its unit.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Medium {
    Gas,
    Water,
    Heat,
    Other,
}

impl Channel<'_> {
    fn medium(&self) -> Medium {
        match self.device_type {
            Some(3) => Medium::Gas,
            Some(6 | 7 | 0x15 | 0x16) => Medium::Water,
            Some(4 | 0x0A | 0x0B | 0x0C | 0x0D) => Medium::Heat,
            Some(_) => Medium::Other,
            None => {
                let unit = self
                    .value
                    .and_then(|v| v.iter().position(|&b| b == b'*').map(|i| &v[i + 1..]))
                    .unwrap_or(b"");
                if unit.eq_ignore_ascii_case(b"GJ") || unit.eq_ignore_ascii_case(b"MJ") {
                    Medium::Heat
                } else {
                    Medium::Gas
                }
            }
        }
    }
}

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

/// Collects a telegram's lines into a reading.
pub(super) struct Parser<'a> {
    reading: Reading,
    diagnostics: Vec<Diagnostic>,
    channels: [Channel<'a>; 5],
    /// Rank of the source of `meter_id` (lower wins): 96.1.1, 96.1.0, 96.1.255, 0.0.0.
    id_rank: u8,
    emucs_version: Option<&'a [u8]>,
    /// Legacy gas (`0-n:24.3.0`): the channel whose value is on the next line.
    legacy_gas: Option<usize>,
    /// The meter id of the previous telegram, reused when its bytes repeat.
    ids: &'a mut IdCache,
}

/// Parses the text of one telegram (`/` header, lines, optionally the `!CRC` line) into a
/// reading with per-line diagnostics. Does not check the CRC: see [`super::parse_telegram`].
pub fn parse_text(text: &[u8]) -> Decoded {
    let mut ids = IdCache::default();
    let mut p = Parser::new(&mut ids);
    let mut rest = text;
    let mut n = 0u32;
    while !rest.is_empty() {
        n += 1;
        match p.line_at(n, rest) {
            Some(len) => rest = &rest[len..],
            None => break,
        }
    }
    p.finish()
}

/// The last meter id read and the bytes it came from: a stream repeats the same id every
/// telegram, so decoding it (and allocating for it) once is enough.
#[derive(Clone, Debug, Default)]
pub(super) struct IdCache {
    bytes: Vec<u8>,
    id: Option<MeterId>,
    /// Whether to remember ids (not for one telegram alone).
    remember: bool,
}

impl IdCache {
    /// A cache that remembers the last id, for a stream.
    pub(super) fn remembering() -> Self {
        IdCache {
            remember: true,
            ..IdCache::default()
        }
    }

    fn get(&mut self, text: &[u8]) -> MeterId {
        if let Some(id) = &self.id
            && self.bytes == text
        {
            return id.clone();
        }
        let id = meter_id_of(text);
        if self.remember {
            self.bytes.clear();
            self.bytes.extend_from_slice(text);
            self.id = Some(id.clone());
        }
        id
    }
}

/// [`equipment_id`] as a [`MeterId`], with one allocation for the usual hex of up to 64
/// printable characters.
fn meter_id_of(text: &[u8]) -> MeterId {
    let mut buf = [0u8; 64];
    if !text.is_empty() && text.len().is_multiple_of(2) && text.len() <= 2 * buf.len() {
        let printable = text.chunks_exact(2).zip(buf.iter_mut()).all(|(p, out)| {
            match (hex_digit(p[0]), hex_digit(p[1])) {
                (Some(h), Some(l)) if (0x20..0x7F).contains(&(h << 4 | l)) => {
                    *out = h << 4 | l;
                    true
                }
                _ => false,
            }
        });
        if printable && let Ok(s) = std::str::from_utf8(&buf[..text.len() / 2]) {
            return MeterId::from(s);
        }
    }
    MeterId::new(equipment_id(text))
}

impl<'a> Parser<'a> {
    pub(super) fn new(ids: &'a mut IdCache) -> Self {
        Parser {
            reading: Reading::new(Protocol::Dsmr),
            diagnostics: Vec::new(),
            channels: [Channel::default(); 5],
            id_rank: u8::MAX,
            emucs_version: None,
            legacy_gas: None,
            ids,
        }
    }

    /// Reads the line that starts `rest` (line `n` of the telegram). Returns the bytes taken,
    /// line end included, or `None` at the `!` line that ends the telegram.
    #[inline]
    pub(super) fn line_at(&mut self, n: u32, rest: &'a [u8]) -> Option<usize> {
        // The code once: `fast_obis` of the rest equals `fast_obis` of the line alone, as a
        // code cannot run over a line end.
        let obis = fast_obis(rest);
        if let Some((code, open)) = obis
            && let Some(len) = self.quick_number(n, rest, code, open)
        {
            return Some(len);
        }
        let (line, taken) = match find_newline(rest) {
            Some(i) => (&rest[..i], i + 1),
            None => (rest, rest.len()),
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match line.first() {
            None | Some(b'/') => {}
            Some(b'!') => return None,
            Some(b'(') => self.continuation(n, line),
            Some(_) => {
                let (code, open) = match obis {
                    Some((code, open)) => (Some(code), open),
                    None => parse_obis(line),
                };
                self.coded_line(n, line, code, open);
            }
        }
        Some(taken)
    }

    fn diag(&mut self, line: u32, code: &[u8], message: String) {
        // Bound the diagnostics a hostile telegram can produce.
        if self.diagnostics.len() < 64 {
            self.diagnostics.push(Diagnostic {
                line,
                code: String::from_utf8_lossy(&code[..code.len().min(24)]).into_owned(),
                message,
            });
        }
    }

    /// The common line (`1-0:1.8.1(000004.426*kWh)`: one plain number for one field) read
    /// straight from the telegram in one pass, without first looking for its end. Returns the
    /// bytes taken (line end included), or `None` to read the line the general way, which
    /// gives the same result for the lines taken here.
    #[inline]
    pub(super) fn quick_line(&mut self, n: u32, rest: &'a [u8]) -> Option<usize> {
        let (code, open) = fast_obis(rest)?;
        self.quick_number(n, rest, code, open)
    }

    /// [`Parser::quick_line`] once the code is read.
    #[inline]
    fn quick_number(&mut self, n: u32, rest: &'a [u8], code: u64, open: usize) -> Option<usize> {
        let (q, family) = simple_quantity(code)?;
        let (v, len) = fast_value(&rest[open + 1..], family)?;
        let end = open + 1 + len;
        let after = &rest[end..];
        let eol = if after.starts_with(b"\r\n") {
            2
        } else if after.first() == Some(&b'\n') || after.is_empty() {
            usize::from(!after.is_empty())
        } else {
            return None;
        };
        self.number(n, &rest[..open], q, family, v);
        Some(end + eol)
    }

    /// What [`Parser::quick_line`] does with the number it read.
    #[inline]
    pub(super) fn number(&mut self, n: u32, code: &[u8], q: Quantity, family: Family, v: i64) {
        self.legacy_gas = None;
        self.store(n, code, q, family, v);
    }

    pub(super) fn continuation(&mut self, n: u32, line: &'a [u8]) {
        if let Some(ch) = self.legacy_gas.take() {
            match line.strip_prefix(b"(").and_then(|l| l.strip_suffix(b")")) {
                Some(v) => {
                    self.channels[ch].value = Some(v);
                    self.channels[ch].line = n;
                }
                None => self.diag(n, b"", "gas value line is not '(value)'".into()),
            }
        }
    }

    /// A line that does not start with `(`, its code read already (by [`fast_obis`], else
    /// [`parse_obis`]): `open` is where its first `(` is, or its length.
    pub(super) fn coded_line(&mut self, n: u32, line: &'a [u8], code: Option<u64>, open: usize) {
        self.legacy_gas = None;
        let code_text = &line[..open];
        let Some(code) = code else {
            self.diag(n, code_text, "not an OBIS line".into());
            return;
        };
        // The common line: one plain number for one field, read in a single pass.
        if let Some((q, family)) = simple_quantity(code)
            && let Some((b'(', body)) = line[open..].split_first()
            && let Some((v, len)) = fast_value(body, family)
            && len == body.len()
        {
            self.store(n, code_text, q, family, v);
            return;
        }
        // Split `(a)(b)(c)` into up to 4 groups; longer lines keep their count only.
        let mut groups: [&'a [u8]; 4] = [b""; 4];
        let mut count = 0usize;
        let mut rest = &line[open..];
        while let Some(r) = rest.strip_prefix(b"(") {
            let Some(close) = r.iter().position(|&b| b == b')') else {
                self.diag(n, code_text, "value not closed with ')'".into());
                return;
            };
            if count < groups.len() {
                groups[count] = &r[..close];
            }
            count += 1;
            rest = &r[close + 1..];
        }
        if count == 0 {
            self.diag(n, code_text, "no value in parentheses".into());
            return;
        }
        let g = &groups[..count.min(groups.len())];
        let (a, b) = ((code >> 32) as u8, (code >> 24) as u8);
        let cde = code & 0xFF_FFFF;
        // M-Bus channels 1..4.
        if a == 0 && (1..=4).contains(&b) {
            let ch = usize::from(b);
            match cde {
                O_0_0_24_1_0 => match value(g[0], Family::Count) {
                    Ok(t) => self.channels[ch].device_type = u8::try_from(t).ok(),
                    Err((e, u)) => self.diag(n, code_text, e.message(u)),
                },
                O_0_0_96_1_0 | O_0_0_96_1_1 => {
                    self.channels[ch].empty_id = g[0].is_empty();
                }
                O_0_0_24_2_1 | O_0_0_24_2_3 => {
                    if count < 2 {
                        self.diag(n, code_text, "expected (time)(value)".into());
                        return;
                    }
                    let c = &mut self.channels[ch];
                    c.time = Some(g[0]);
                    c.value = Some(g[1]);
                    c.line = n;
                }
                O_0_0_24_3_0 => {
                    // Legacy gas: (time)(..)(..)(..)(code)(unit), value on the next line.
                    self.channels[ch].time = Some(g[0]);
                    self.legacy_gas = Some(ch);
                }
                _ => {}
            }
            return;
        }
        if let Some((q, family)) = simple_quantity(code) {
            self.set(n, code_text, q, family, g[0]);
            return;
        }
        match code {
            O_1_0_1_6_0 => {
                // Monthly peak: (time)(value).
                if count < 2 {
                    self.diag(n, code_text, "expected (time)(value)".into());
                    return;
                }
                match dsmr_time(g[0]) {
                    Ok(t) => self.reading.demand_peak_month_time = Some(t),
                    Err(e) => self.diag(n, code_text, e.to_string()),
                }
                self.set(
                    n,
                    code_text,
                    Quantity::DemandPeakMonthW,
                    Family::Power,
                    g[1],
                );
            }
            O_0_0_1_0_0 => match dsmr_time(g[0]) {
                Ok(t) => self.reading.time = Some(t),
                Err(e) => self.diag(n, code_text, e.to_string()),
            },
            O_1_3_0_2_8 => {
                self.reading.dsmr_version = Some(String::from_utf8_lossy(g[0]).into_owned());
            }
            O_0_0_96_1_4 => self.emucs_version = Some(g[0]),
            O_0_0_96_1_1 => self.meter_id(0, g[0]),
            O_0_0_96_1_0 => self.meter_id(1, g[0]),
            O_0_0_96_1_255 => self.meter_id(2, g[0]),
            O_1_0_0_0_0 => self.meter_id(3, g[0]),
            O_1_0_1_8_3 | O_1_0_1_8_4 | O_1_0_2_8_3 | O_1_0_2_8_4 => {
                let family = Family::Energy;
                match value(g[0], family) {
                    Ok(v) => {
                        let x = self.reading.extras_mut();
                        *match code {
                            O_1_0_1_8_3 => &mut x.import_t3_wh,
                            O_1_0_1_8_4 => &mut x.import_t4_wh,
                            O_1_0_2_8_3 => &mut x.export_t3_wh,
                            _ => &mut x.export_t4_wh,
                        } = Some(v);
                    }
                    Err((e, unit)) => self.diag(n, code_text, e.message(unit)),
                }
            }
            O_1_0_5_8_0 | O_1_0_6_8_0 | O_1_0_7_8_0 | O_1_0_8_8_0 => {
                match value(g[0], Family::ReactiveEnergy) {
                    Ok(v) => {
                        let quadrant = usize::from((code >> 16) as u8 - 5);
                        self.reading.extras_mut().reactive_quadrant_varh[quadrant] = Some(v);
                    }
                    Err((e, unit)) => self.diag(n, code_text, e.message(unit)),
                }
            }
            O_1_0_99_97_0 => self.power_failure_log(n, code_text, &line[open..]),
            O_0_0_98_1_0 => self.demand_peak_history(n, code_text, &line[open..]),
            O_0_0_96_13_0 | O_0_0_96_13_1 if !g[0].is_empty() => {
                let text = text_message(g[0]);
                let x = self.reading.extras_mut();
                if code == O_0_0_96_13_0 {
                    x.text_message = Some(text);
                } else {
                    x.text_message_code = Some(text);
                }
            }
            _ => {}
        }
    }

    /// The power-failure event log: `(count)(0-0:96.7.19)` and pairs `(end YYMMDDhhmmssX)
    /// (duration*s)`. The count may exceed the pairs listed (the Austrian XMX5 counts 5 and
    /// lists its last 2), so the pairs decide. An empty log leaves no trace.
    fn power_failure_log(&mut self, n: u32, code: &[u8], groups: &'a [u8]) {
        let mut g = Groups(groups);
        match g.next().map(|c| value(c, Family::Count)) {
            Some(Ok(_)) => {}
            Some(Err((e, unit))) => return self.diag(n, code, e.message(unit)),
            None => return,
        }
        let _event_code = g.next();
        let mut log = Vec::new();
        while let Some(end) = g.next() {
            let Some(duration) = g.next() else {
                self.diag(n, code, "power failure without a duration".into());
                break;
            };
            match (dsmr_time(end), value(duration, Family::Seconds)) {
                (Ok(end), Ok(duration_s)) => log.push(PowerFailure { end, duration_s }),
                (Err(e), _) => self.diag(n, code, e.to_string()),
                (_, Err((e, unit))) => self.diag(n, code, e.message(unit)),
            }
        }
        if !log.is_empty() {
            self.reading.extras_mut().power_failure_log = log;
        }
    }

    /// The eMUCS monthly peak history: `(count)(1-0:1.6.0)(1-0:1.6.0)` and triples
    /// `(month start)(peak time)(peak*kW)`. Other meters use `0-0:98.1.0` for billing-period
    /// registers (`(time)(value)…`, E.ON Hungary); those are left alone.
    fn demand_peak_history(&mut self, n: u32, code: &[u8], groups: &'a [u8]) {
        let mut g = Groups(groups);
        let (Some(count), Some(first_code)) = (g.next(), g.next()) else {
            return;
        };
        if !first_code.contains(&b':') {
            return;
        }
        if let Err((e, unit)) = value(count, Family::Count) {
            return self.diag(n, code, e.message(unit));
        }
        let _second_code = g.next();
        let mut history = Vec::new();
        while let Some(month) = g.next() {
            let (Some(time), Some(peak)) = (g.next(), g.next()) else {
                self.diag(n, code, "monthly peak without its time and value".into());
                break;
            };
            match value(peak, Family::Power) {
                // A month without a peak comes with a placeholder time (`632525252525W`).
                Ok(w) => history.push(DemandPeak {
                    month: dsmr_time(month).ok(),
                    time: dsmr_time(time).ok(),
                    w,
                }),
                Err((e, unit)) => self.diag(n, code, e.message(unit)),
            }
        }
        if !history.is_empty() {
            self.reading.extras_mut().demand_peak_history = history;
        }
    }

    fn set(&mut self, n: u32, code: &[u8], q: Quantity, family: Family, text: &[u8]) {
        match value(text, family) {
            Ok(v) => self.store(n, code, q, family, v),
            Err((e, unit)) => self.diag(n, code, e.message(unit)),
        }
    }

    /// Stores a value read for `q`, unless it is a power factor outside -1..1.
    #[inline]
    fn store(&mut self, n: u32, code: &[u8], q: Quantity, family: Family, v: i64) {
        if family == Family::PowerFactor && !(-1000..=1000).contains(&v) {
            self.diag(n, code, "power factor outside -1..1".into());
        } else {
            self.reading.set(q, v);
        }
    }

    fn meter_id(&mut self, rank: u8, text: &[u8]) {
        if !text.is_empty() && rank < self.id_rank {
            self.id_rank = rank;
            self.reading.meter_id = Some(self.ids.get(text));
        }
    }

    pub(super) fn finish(mut self) -> Decoded {
        if self.reading.dsmr_version.is_none()
            && let Some(v) = self.emucs_version
        {
            self.reading.dsmr_version = Some(String::from_utf8_lossy(v).into_owned());
        }
        for medium in [Medium::Gas, Medium::Water, Medium::Heat] {
            // The first channel of this medium with a value, preferring ones with a device.
            let pick = self.channels[1..]
                .iter()
                .filter(|c| c.value.is_some() && c.medium() == medium)
                .min_by_key(|c| c.empty_id)
                .copied();
            let Some(c) = pick else { continue };
            let (q, family) = match medium {
                Medium::Gas => (Quantity::GasDm3, Family::Volume),
                Medium::Water => (Quantity::WaterDm3, Family::Volume),
                _ => (Quantity::HeatMj, Family::Heat),
            };
            let code: &[u8] = b"0-n:24.2.1";
            if let Some(v) = c.value {
                self.set(c.line, code, q, family, v);
            }
            if let Some(t) = c.time {
                match dsmr_time(t) {
                    Ok(t) => match medium {
                        Medium::Gas => self.reading.gas_time = Some(t),
                        Medium::Water => self.reading.water_time = Some(t),
                        _ => self.reading.heat_time = Some(t),
                    },
                    Err(e) => self.diag(c.line, code, e.to_string()),
                }
            }
        }
        self.reading.fill_totals();
        Decoded {
            reading: self.reading,
            diagnostics: self.diagnostics,
        }
    }
}

/// The first `\n` in `hay`, eight bytes per step.
#[inline]
fn find_newline(hay: &[u8]) -> Option<usize> {
    super::framer::find2_swar(hay, b'\n', b'\n')
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
    fn values_scale_into_stored_units() {
        assert_eq!(value(b"000004.426*kWh", Family::Energy), Ok(4426));
        assert_eq!(value(b"006545766*Wh", Family::Energy), Ok(6_545_766));
        assert_eq!(value(b"0230.0*V", Family::Voltage), Ok(2300));
        assert_eq!(value(b"0.48*A", Family::Current), Ok(480));
        assert_eq!(value(b"001*A", Family::Current), Ok(1000));
        assert_eq!(value(b"00.244*kW", Family::Power), Ok(244));
        assert_eq!(value(b"001688.21*W", Family::Power), Ok(1688));
        // 32549.5061662 kWh = 32549506.1662 Wh, rounded to 32549506.
        assert_eq!(
            value(b"00032549.5061662*kWh", Family::Energy),
            Ok(32_549_506)
        );
        // 19949.3221493 kWh -> .3221493 rounds down; 52185.7825309 -> .5309 rounds up.
        assert_eq!(
            value(b"00052185.7825309*kWh", Family::Energy),
            Ok(52_185_783)
        );
        assert_eq!(value(b"00000000", Family::Volume), Ok(0));
        assert_eq!(value(b"240.860*GJ", Family::Heat), Ok(240_860));
        assert_eq!(value(b"0000.308*kVAr", Family::ReactivePower), Ok(308));
        assert_eq!(value(b"0002", Family::Count), Ok(2));
        assert_eq!(
            value(b"", Family::Power).map_err(|e| e.0),
            Err(ValueError::Empty)
        );
        assert_eq!(
            value(b"1.2.3*kW", Family::Power).map_err(|e| e.0),
            Err(ValueError::NotANumber)
        );
        assert_eq!(
            value(b"12*Hz", Family::Power).map_err(|e| e.0),
            Err(ValueError::Unit)
        );
        assert_eq!(
            value(b"99999999999999999999*kWh", Family::Energy).map_err(|e| e.0),
            Err(ValueError::TooLarge)
        );
        assert_eq!(value(b"-1.5*kW", Family::Power), Ok(-1500));
    }

    const FAMILIES: [Family; 11] = [
        Family::Energy,
        Family::Power,
        Family::Voltage,
        Family::Current,
        Family::ReactiveEnergy,
        Family::ReactivePower,
        Family::PowerFactor,
        Family::Count,
        Family::Volume,
        Family::Heat,
        Family::Seconds,
    ];

    #[test]
    fn the_one_pass_reader_takes_the_common_lines() {
        // (body after '(', family, stored integer): hand-scaled as in the test above.
        let cases: [(&[u8], Family, i64); 8] = [
            (b"000004.426*kWh)", Family::Energy, 4426),
            (b"0230.0*V)", Family::Voltage, 2300),
            (b"0.48*A)", Family::Current, 480),
            (b"00.244*kW)", Family::Power, 244),
            (b"00013)", Family::Count, 13),
            // 52185.7825309 kWh = 52185782.5309 Wh, rounds up.
            (b"00052185.7825309*kWh)", Family::Energy, 52_185_783),
            (b"-1,5*KW)", Family::Power, -1500),
            (b"00000.107*m3)", Family::Volume, 107),
        ];
        for (body, family, want) in cases {
            assert_eq!(
                fast_value(body, family),
                Some((want, body.len())),
                "{body:?}"
            );
        }
        // A second group is left to the caller.
        assert_eq!(fast_value(b"1*kW)(2)", Family::Power), Some((1000, 5)));
        // Left to the general reader: errors, no closing parenthesis.
        for body in [
            &b"*kWh)"[..],
            b"1.2.3*kW)",
            b"12*Hz)",
            b"1*kW",
            b"99999999999999999999*kWh)",
        ] {
            assert_eq!(fast_value(body, Family::Energy), None, "{body:?}");
        }
    }

    #[test]
    fn quick_lines_end_any_way_and_odd_ones_take_the_general_path() {
        let d = parse_text(
            b"/ISk5\\2MT382-1000\r\n\r\n1-0:1.8.1(000004.426*kWh)\n1-0:1.8.2(000002.399*kWh)\r\n\
              1-0:1.7.0(00.244*kW)(junk)\r\n1-0:32.7.0(0230.0*V)\r1-0:2.7.0(00.000*kW)\r\n\
              1-0:31.7.0(001*Hz)\r\n1-0:51.7.0(0.44*A)",
        );
        let r = &d.reading;
        assert_eq!(r.get(Quantity::ImportT1Wh), Some(4426));
        assert_eq!(r.get(Quantity::ImportT2Wh), Some(2399));
        // A second group: the first one still counts (general path).
        assert_eq!(r.get(Quantity::ImportW), Some(244));
        // `\r` alone does not end a line: `(0230.0*V)\r1-0:2.7.0(...)` is one line whose first
        // group is the voltage.
        assert_eq!(r.get(Quantity::L1Dv), Some(2300));
        assert_eq!(r.get(Quantity::ExportW), None);
        // A wrong unit is a diagnostic on its line (the 7th: header, blank, five more), no value.
        assert_eq!(r.get(Quantity::L1Ma), None);
        assert_eq!(d.diagnostics.len(), 1);
        assert_eq!(d.diagnostics[0].line, 7);
        // The last line has no line end at all.
        assert_eq!(r.get(Quantity::L2Ma), Some(440));
    }

    #[test]
    fn digit_runs_are_read_eight_at_a_time() {
        assert_eq!(digit_run(b"12345678", 0), (12_345_678, 8));
        assert_eq!(digit_run(b"000004.426*kWh)", 0), (4, 6));
        assert_eq!(digit_run(b"000004.426*kWh)", 7), (426, 3));
        assert_eq!(digit_run(b"987654321", 1), (87_654_321, 8));
        assert_eq!(digit_run(b"12", 0), (12, 2));
        assert_eq!(digit_run(b"12", 2), (0, 0));
        assert_eq!(digit_run(b"12", 5), (0, 0));
        assert_eq!(digit_run(b"9:", 0), (9, 1));
        assert_eq!(digit_run(b"/0", 0), (0, 0));
        assert_eq!(digit_run(b"1\xFA\xFF", 0), (1, 1));
    }

    proptest::proptest! {
        /// The eight-at-a-time digit reader equals reading byte by byte.
        #[test]
        fn digit_runs_equal_a_plain_loop(
            bytes in proptest::collection::vec(
                proptest::sample::select(b"0123456789/:.)*\x00\x06\xFA\xFF\x3F\x2F".to_vec()),
                0..12,
            ),
            at in 0usize..12,
        ) {
            let tail = bytes.get(at..).unwrap_or_default();
            let k = tail.iter().take(8).take_while(|b| b.is_ascii_digit()).count();
            let v = tail[..k].iter().fold(0i64, |a, &b| a * 10 + i64::from(b - b'0'));
            proptest::prop_assert_eq!(digit_run(&bytes, at), (v, k));
        }

        /// Whenever the one-pass reader answers, the general reader gives the same integer.
        #[test]
        fn the_one_pass_reader_agrees_with_the_general_one(
            body in proptest::collection::vec(
                proptest::sample::select(b"0123456789012345678901234567890123456789.,*+-)kKwWhHvVaAmM3lgGjJr ".to_vec()),
                0..28,
            ),
            f in 0usize..11,
        ) {
            let family = FAMILIES[f];
            if let Some((v, len)) = fast_value(&body, family) {
                let close = body.iter().position(|&b| b == b')').unwrap();
                proptest::prop_assert_eq!(close + 1, len);
                proptest::prop_assert_eq!(value(&body[..close], family), Ok(v));
            }
        }

        /// Every well-formed number in a known unit takes the one-pass path.
        #[test]
        fn the_one_pass_reader_reads_every_plain_number(
            int in 0u64..1_000_000_000,
            frac in proptest::option::of(0u64..10_000_000),
            neg in proptest::bool::ANY,
            unit in proptest::sample::select(vec!["", "*kWh", "*Wh", "*kW", "*W", "*V", "*A", "*m3"]),
        ) {
            let text = format!(
                "{}{int}{}{unit}",
                if neg { "-" } else { "" },
                frac.map(|f| format!(".{f}")).unwrap_or_default()
            );
            for family in FAMILIES {
                let slow = value(text.as_bytes(), family).ok();
                let body = format!("{text})");
                proptest::prop_assert_eq!(fast_value(body.as_bytes(), family).map(|r| r.0), slow);
            }
        }
    }

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

    #[test]
    fn flagged_timestamps_are_read_directly() {
        // 170102192002W = 2017-01-02 19:20:02 CET = 18:20:02Z = 1483381202.
        assert_eq!(
            quick_time(b"170102192002W"),
            Some(MeterTime {
                unix: 1_483_381_202,
                offset_s: 3600
            })
        );
        // 2000-02-29T00:00:00+02:00 = 2000-02-28T22:00:00Z = 951775200.
        assert_eq!(
            quick_time(b"000229000000S").map(|t| t.unix),
            Some(951_775_200)
        );
        // Not a leap year, no flag, a bad flag, a bad digit: left to `from_dsmr`.
        for s in [
            &b"010229000000W"[..],
            b"170102192002",
            b"170102192002X",
            b"17010219200aW",
            b"170102192002WW",
        ] {
            assert_eq!(quick_time(s), None, "{s:?}");
        }
        assert_eq!(dsmr_time(b"010229000000W"), Err(TimeError::Range));
    }

    proptest::proptest! {
        /// Every 13-byte timestamp reads the same through the direct path and `from_dsmr`.
        #[test]
        fn the_direct_timestamp_path_agrees_with_from_dsmr(
            digits in proptest::collection::vec(
                proptest::sample::select(b"0123456789012345678901234567890123456789x".to_vec()),
                12..=12,
            ),
            flag in proptest::sample::select(b"SWswX".to_vec()),
            year in 0u8..100,
            month in 0u8..14,
            day in 0u8..33,
        ) {
            let mut s = digits.clone();
            s.push(flag);
            proptest::prop_assert_eq!(dsmr_time(&s), MeterTime::from_dsmr(&s));
            // Mostly plausible dates, including the ends of months and leap days.
            let plausible = format!("{year:02}{month:02}{day:02}{}{}", String::from_utf8_lossy(&digits[6..]), flag as char);
            proptest::prop_assert_eq!(
                dsmr_time(plausible.as_bytes()),
                MeterTime::from_dsmr(plausible.as_bytes())
            );
        }
    }

    #[test]
    fn meter_ids_equal_the_equipment_id_text() {
        for id in [
            &b"4B384547303034303436333935353037"[..],
            b"00000000000000",
            b"ADC3100000158491",
            b"09610",
            b"",
            b"4B",
            b"4b38",
        ] {
            assert_eq!(meter_id_of(id).as_str(), equipment_id(id), "{id:?}");
        }
        // Longer than the stack buffer: the general path, same text.
        let long = b"41".repeat(70);
        assert_eq!(meter_id_of(&long).as_str(), "A".repeat(70));
    }

    #[test]
    fn equipment_ids_are_hex_decoded_when_printable() {
        assert_eq!(
            equipment_id(b"4B384547303034303436333935353037"),
            "K8EG004046395507"
        );
        assert_eq!(equipment_id(b"00000000000000"), "00000000000000");
        assert_eq!(equipment_id(b"ADC3100000158491"), "ADC3100000158491");
        assert_eq!(equipment_id(b"09610"), "09610");
    }
}
