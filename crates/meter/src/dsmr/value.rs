//! Value groups of a DSMR line: `digits[.digits][*unit]` read into the stored integer of a unit
//! family (Wh, W, dV, mA, varh, var, thousandths, dm³, MJ, s), without floats, and hex text.
//!
//! Two readers give the same integer: [`value`], the general one with a reason when it fails,
//! and [`fast_value`], one pass over the common plain number that leaves the rest to `value`.

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
pub(super) enum ValueError {
    Empty,
    NotANumber,
    Unit,
    TooLarge,
}

impl ValueError {
    pub(super) fn message(self, unit: &[u8]) -> String {
        match self {
            ValueError::Empty => "no value".into(),
            ValueError::NotANumber => "value is not a number".into(),
            ValueError::Unit => format!(
                "unexpected unit '{}'",
                crate::quote::cut(&String::from_utf8_lossy(unit))
            ),
            ValueError::TooLarge => "value too large".into(),
        }
    }
}

/// Reads `digits[.digits][*unit]` into the stored integer of `family`, rounding half away from
/// zero when the meter sends more decimals than Hearth keeps.
pub(super) fn value(text: &[u8], family: Family) -> Result<i64, (ValueError, &[u8])> {
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
pub(super) fn fast_value(body: &[u8], family: Family) -> Option<(i64, usize)> {
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

/// The value of one hex digit (either case).
#[inline]
pub(super) fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
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
}
