//! Meter time: an instant in UTC plus the local offset the meter reported, and the DSMR
//! `YYMMDDhhmmssX` timestamp format (X = `S` summer, `W` winter, Europe/Amsterdam rules).
//!
//! Also the workspace's one calendar helper: [`days_from_civil`] and its inverse
//! [`civil_from_days`], for code that counts days without a time-zone library call (the DSMR
//! timestamp fast path, chart axes, the simulated meter).

use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};
use jiff::{Timestamp, ZonedDateTime};
use std::fmt;

/// An instant as the meter saw it: seconds since the Unix epoch (UTC) and the meter's local
/// UTC offset in seconds, so the time can be shown as the meter showed it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MeterTime {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub unix: i64,
    /// The meter's local offset from UTC, in seconds (3600 for CET, 7200 for CEST).
    pub offset_s: i32,
}

/// Why a timestamp could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeError {
    /// Not 12 digits followed by an optional `S`/`W` flag.
    #[error("timestamp is not YYMMDDhhmmss[S|W]")]
    Format,
    /// Digits that name no real date or time (month 13, 25 o'clock, ...).
    #[error("timestamp names no real date or time")]
    Range,
}

impl MeterTime {
    /// A UTC instant shown with offset +00:00.
    pub const fn utc(unix: i64) -> Self {
        MeterTime { unix, offset_s: 0 }
    }

    /// The same instant shown with another offset.
    pub const fn with_offset(self, offset_s: i32) -> Self {
        MeterTime {
            unix: self.unix,
            offset_s,
        }
    }

    /// The instant as a `jiff` timestamp.
    pub fn timestamp(self) -> Timestamp {
        Timestamp::from_second(self.unix).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// The instant in the meter's own fixed offset.
    pub fn zoned(self) -> ZonedDateTime {
        let offset = Offset::from_seconds(self.offset_s).unwrap_or(Offset::UTC);
        self.timestamp().to_zoned_datetime(TimeZone::fixed(offset))
    }

    /// The instant shown in `tz` (the offset follows that zone's rules).
    pub fn in_zone(unix: i64, tz: &TimeZone) -> Self {
        let ts = Timestamp::from_second(unix).unwrap_or(Timestamp::UNIX_EPOCH);
        MeterTime {
            unix,
            offset_s: tz.to_offset(ts).seconds(),
        }
    }

    /// Reads RFC 3339 with an offset or `Z` (`2017-01-02T19:20:02+01:00`), as [`fmt::Display`]
    /// writes it. Fractions of a second are not kept.
    pub fn parse_rfc3339(s: &str) -> Result<MeterTime, TimeError> {
        let s = s.trim();
        let (civil, offset_s) = if let Some(civil) = s.strip_suffix(['Z', 'z']) {
            (civil, 0)
        } else {
            let split = s.len().checked_sub(6).ok_or(TimeError::Format)?;
            let (civil, off) = (s.get(..split), s.get(split..));
            let (Some(civil), Some(off)) = (civil, off) else {
                return Err(TimeError::Format);
            };
            let b = off.as_bytes();
            let sign = match b[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return Err(TimeError::Format),
            };
            let digits = |i: usize| -> Result<i32, TimeError> {
                match (b[i], b[i + 1]) {
                    (a @ b'0'..=b'9', c @ b'0'..=b'9') => {
                        Ok(i32::from(a - b'0') * 10 + i32::from(c - b'0'))
                    }
                    _ => Err(TimeError::Format),
                }
            };
            if b[3] != b':' {
                return Err(TimeError::Format);
            }
            (civil, sign * (digits(1)? * 3600 + digits(4)? * 60))
        };
        let civil: DateTime = civil.parse().map_err(|_| TimeError::Format)?;
        let offset = Offset::from_seconds(offset_s).map_err(|_| TimeError::Range)?;
        let ts = offset.to_timestamp(civil).map_err(|_| TimeError::Range)?;
        Ok(MeterTime {
            unix: ts.as_second(),
            offset_s,
        })
    }

    /// Reads a DSMR timestamp `YYMMDDhhmmssX`. `S` means summer time (UTC+2), `W` winter time
    /// (UTC+1); without a flag (DSMR 2.2/3) the local time is resolved with Europe/Amsterdam
    /// rules, taking the earlier instant in the repeated autumn hour.
    pub fn from_dsmr(s: &[u8]) -> Result<MeterTime, TimeError> {
        let (digits, flag) = match s.len() {
            12 => (s, None),
            13 => (&s[..12], Some(s[12])),
            _ => return Err(TimeError::Format),
        };
        let mut n = [0i8; 6];
        for (i, pair) in digits.chunks_exact(2).enumerate() {
            let (a, b) = (pair[0], pair[1]);
            if !a.is_ascii_digit() || !b.is_ascii_digit() {
                return Err(TimeError::Format);
            }
            n[i] = ((a - b'0') * 10 + (b - b'0')) as i8;
        }
        let civil = DateTime::new(2000 + i16::from(n[0]), n[1], n[2], n[3], n[4], n[5], 0)
            .map_err(|_| TimeError::Range)?;
        let offset_s = match flag {
            Some(b'S' | b's') => 7200,
            Some(b'W' | b'w') => 3600,
            Some(_) => return Err(TimeError::Format),
            None => {
                let tz = amsterdam();
                let ts = tz
                    .to_ambiguous_timestamp(civil)
                    .earlier()
                    .map_err(|_| TimeError::Range)?;
                return Ok(MeterTime::in_zone(ts.as_second(), &tz));
            }
        };
        let offset = Offset::from_seconds(offset_s).map_err(|_| TimeError::Range)?;
        let ts = offset.to_timestamp(civil).map_err(|_| TimeError::Range)?;
        Ok(MeterTime {
            unix: ts.as_second(),
            offset_s,
        })
    }
}

/// The Europe/Amsterdam zone (DSMR's reference), from the bundled or system tz database,
/// falling back to the fixed EU rule when no database is available.
pub fn amsterdam() -> TimeZone {
    TimeZone::get("Europe/Amsterdam").unwrap_or_else(|_| {
        TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap_or(TimeZone::fixed(Offset::UTC))
    })
}

/// The first moment of local date `d` in `tz`: its midnight or, where a clock change skips
/// midnight, the first moment after the gap. `None` only outside jiff's range (years beyond
/// ±9999). The one "local date to instant" every crate uses for days, months and periods.
pub fn local_midnight(d: jiff::civil::Date, tz: &TimeZone) -> Option<Timestamp> {
    d.to_zoned_datetime(tz.clone()).ok().map(|z| z.timestamp())
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's
/// `days_from_civil`): `month` 1..=12, `day` 1..=31; negative before 1970. The date is not
/// checked: an impossible one (30 February) counts on into the next month.
#[inline]
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    // Years start in March so the leap day ends the year.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `(year, month 1..=12, day 1..=31)` that is `days` days after 1970-01-01 (before it
/// when negative): the inverse of [`days_from_civil`].
#[inline]
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl fmt::Display for MeterTime {
    /// RFC 3339 with the meter's offset, e.g. `2026-03-29T03:00:00+02:00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let z = self.zoned();
        let off = self.offset_s;
        let sign = if off < 0 { '-' } else { '+' };
        let off = off.unsigned_abs();
        write!(
            f,
            "{}{}{:02}:{:02}",
            z.datetime().strftime("%Y-%m-%dT%H:%M:%S"),
            sign,
            off / 3600,
            off % 3600 / 60
        )
    }
}

impl fmt::Debug for MeterTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_midnight_is_the_first_moment_of_the_local_day() {
        let d = |s: &str| s.parse::<jiff::civil::Date>().expect("date");
        let amsterdam = TimeZone::get("Europe/Amsterdam").expect("bundled tzdb");
        // 2026-01-15 00:00 +01:00 = 2026-01-14T23:00Z (checked with Python's datetime).
        assert_eq!(
            local_midnight(d("2026-01-15"), &amsterdam).map(|t| t.as_second()),
            Some(1_768_431_600)
        );
        // Chile moves its clocks at midnight: 2024-09-08 starts at 01:00 -03:00 = 04:00Z.
        let santiago = TimeZone::get("America/Santiago").expect("bundled tzdb");
        assert_eq!(
            local_midnight(d("2024-09-08"), &santiago).map(|t| t.as_second()),
            Some(1_725_768_000)
        );
    }

    /// Day numbers from Python, independently: `(date(y, m, d) - date(1970, 1, 1)).days`.
    const KNOWN_DAYS: [((i64, u32, u32), i64); 10] = [
        ((1970, 1, 1), 0),
        ((1969, 12, 31), -1),
        ((2000, 2, 29), 11_016),
        ((2000, 3, 1), 11_017),
        ((2024, 2, 29), 19_782),
        ((2026, 1, 1), 20_454),
        ((2026, 12, 7), 20_794),
        ((1900, 3, 1), -25_508),
        ((2100, 3, 1), 47_541),
        ((1600, 1, 1), -135_140),
    ];

    #[test]
    fn day_numbers_of_known_dates() {
        for ((y, m, d), days) in KNOWN_DAYS {
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
            assert_eq!(civil_from_days(days), (y, m, d), "day {days}");
        }
    }

    #[test]
    fn day_numbers_round_trip_and_agree_with_jiff() {
        for days in (-800_000..800_000).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
            // Within jiff's range (years -9999..=9999), the same date as jiff's own arithmetic.
            if (-9999..=9999).contains(&y) {
                let date = jiff::civil::date(1970, 1, 1)
                    .checked_add(jiff::Span::new().days(days))
                    .unwrap();
                assert_eq!(
                    (
                        i64::from(date.year()),
                        date.month() as u32,
                        date.day() as u32
                    ),
                    (y, m, d)
                );
            }
        }
    }

    #[test]
    fn rfc3339_round_trips() {
        for text in [
            "2017-01-02T19:20:02+01:00",
            "2026-10-25T02:30:00+02:00",
            "2026-10-25T02:30:00+01:00",
            "1999-12-31T23:59:59-05:30",
        ] {
            assert_eq!(MeterTime::parse_rfc3339(text).unwrap().to_string(), text);
        }
        assert_eq!(
            MeterTime::parse_rfc3339("2017-01-02T18:20:02Z").unwrap(),
            MeterTime::from_dsmr(b"170102192002W")
                .unwrap()
                .with_offset(0)
        );
        for bad in [
            "",
            "Z",
            "2017-01-02",
            "2017-01-02T19:20:02+0100",
            "2017-13-02T19:20:02+01:00",
            "2017-01-02T19:20:02+x1:00",
        ] {
            assert!(MeterTime::parse_rfc3339(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn winter_and_summer_flags() {
        // 2017-01-02 19:20:02 CET = 18:20:02Z
        let t = MeterTime::from_dsmr(b"170102192002W").unwrap();
        assert_eq!(t.unix, 1_483_381_202);
        assert_eq!(t.to_string(), "2017-01-02T19:20:02+01:00");
        let t = MeterTime::from_dsmr(b"190814142536S").unwrap();
        assert_eq!(t.to_string(), "2019-08-14T14:25:36+02:00");
        assert_eq!(t.unix, 1_565_785_536);
    }

    #[test]
    fn dst_nights_by_flag() {
        // Spring 2026: 02:00 CET becomes 03:00 CEST on 29 March.
        let before = MeterTime::from_dsmr(b"260329015959W").unwrap();
        let after = MeterTime::from_dsmr(b"260329030000S").unwrap();
        assert_eq!(after.unix - before.unix, 1);
        // Autumn 2026: 02:00-03:00 happens twice on 25 October; the flag tells them apart.
        let first = MeterTime::from_dsmr(b"261025023000S").unwrap();
        let second = MeterTime::from_dsmr(b"261025023000W").unwrap();
        assert_eq!(second.unix - first.unix, 3600);
        assert_eq!(first.to_string(), "2026-10-25T02:30:00+02:00");
        assert_eq!(second.to_string(), "2026-10-25T02:30:00+01:00");
    }

    #[test]
    fn no_flag_uses_amsterdam_rules() {
        let t = MeterTime::from_dsmr(b"260701120000").unwrap();
        assert_eq!(t.offset_s, 7200);
        let t = MeterTime::from_dsmr(b"260101120000").unwrap();
        assert_eq!(t.offset_s, 3600);
    }

    #[test]
    fn bad_timestamps_are_errors_not_panics() {
        assert_eq!(MeterTime::from_dsmr(b""), Err(TimeError::Format));
        assert_eq!(MeterTime::from_dsmr(b"17010219200"), Err(TimeError::Format));
        assert_eq!(
            MeterTime::from_dsmr(b"1701021920x2W"),
            Err(TimeError::Format)
        );
        assert_eq!(
            MeterTime::from_dsmr(b"170102192002X"),
            Err(TimeError::Format)
        );
        assert_eq!(
            MeterTime::from_dsmr(b"171302192002W"),
            Err(TimeError::Range)
        );
        assert_eq!(
            MeterTime::from_dsmr(b"170102252002W"),
            Err(TimeError::Range)
        );
    }
}
