//! DSMR timestamps `YYMMDDhhmmssX`: the usual `S` (summer, +02:00) / `W` (winter, +01:00) form
//! read directly, everything else left to [`MeterTime::from_dsmr`] and its zone rules.

use crate::time::{MeterTime, TimeError, days_from_civil};

/// [`MeterTime::from_dsmr`], with the common `YYMMDDhhmmssS` / `W` form read directly: the
/// flag gives the offset (CEST +2 h, CET +1 h), so no zone rules are needed. Anything else
/// (no flag, an impossible date, a bad character) goes to `from_dsmr`, which then decides.
#[inline]
pub(super) fn dsmr_time(s: &[u8]) -> Result<MeterTime, TimeError> {
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
    let days = days_from_civil(i64::from(year), month, day);
    let secs = i64::from(hour * 3600 + minute * 60 + second);
    Some(MeterTime {
        unix: days * 86_400 + secs - i64::from(offset_s),
        offset_s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
