//! Exact decimal numbers as supplier files write them (`0.123000`, `0E-20`, `1.5e3`), scaled
//! to integers without floats.

/// A decimal number (`-12.5`, `0.123000`, `0E-20`, `1.5e3`) times 10^`shift`, rounded half
/// away from zero, computed exactly in integers. `None` if the text is not such a number or
/// the result does not fit an `i64`.
pub fn decimal_to_scaled(text: &str, shift: i32) -> Option<i64> {
    let s = text.trim();
    let (negative, s) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], s[i + 1..].parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    // value = digits × 10^(exp − frac.len()); at most 36 significant digits are kept, the
    // rest only shift the exponent (they cannot change a result that fits an i64).
    let mut digits: u128 = 0;
    let mut significant = 0u32;
    let mut dropped: i32 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        if significant < 36 {
            digits = digits * 10 + u128::from(b - b'0');
            if digits != 0 {
                significant += 1;
            }
        } else {
            dropped += 1;
        }
    }
    let frac_len = i32::try_from(frac.len()).ok()?;
    let e = exp
        .checked_sub(frac_len)?
        .checked_add(dropped)?
        .checked_add(shift)?;
    let magnitude: u128 = if digits == 0 {
        0
    } else if e >= 0 {
        if e > 38 {
            return None;
        }
        digits.checked_mul(10u128.pow(e.unsigned_abs()))?
    } else {
        let k = e.unsigned_abs();
        if k > 38 {
            0
        } else {
            let p = 10u128.pow(k);
            let (q, r) = (digits / p, digits % p);
            q + u128::from(r * 2 >= p)
        }
    };
    let m = i64::try_from(magnitude).ok()?;
    Some(if negative { -m } else { m })
}

/// Whether text has the shape of a decimal number (so a failed conversion means "too big").
pub(crate) fn looks_numeric(s: &str) -> bool {
    let s = s.trim().trim_start_matches(['-', '+']);
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && s.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_scale_exactly() {
        assert_eq!(decimal_to_scaled("0.123", 6), Some(123_000));
        assert_eq!(decimal_to_scaled("0.123000", 3), Some(123));
        assert_eq!(decimal_to_scaled("0E-20", 6), Some(0));
        assert_eq!(decimal_to_scaled("1.5e3", 0), Some(1500));
        assert_eq!(
            decimal_to_scaled("-2.5", 0),
            Some(-3),
            "half away from zero"
        );
        assert_eq!(decimal_to_scaled("2.4999", 0), Some(2));
        assert_eq!(decimal_to_scaled(".5", 1), Some(5));
        assert_eq!(decimal_to_scaled("12.", 1), Some(120));
        assert_eq!(decimal_to_scaled("9223372036854775807", 0), Some(i64::MAX));
        assert_eq!(decimal_to_scaled("9223372036854775808", 0), None);
        assert_eq!(decimal_to_scaled("1e400", 0), None);
        assert_eq!(decimal_to_scaled("1e-400", 0), Some(0));
        for bad in ["", "-", ".", "1.2.3", "abc", "1,5", "1e", "--1", "١"] {
            assert_eq!(decimal_to_scaled(bad, 3), None, "{bad:?}");
        }
    }
}
