//! Resolutions and their buckets: raw readings, then 1 minute, 15 minutes, 1 hour, 1 day and
//! 1 month. Every bucket starts on a local wall-clock boundary of the vault's time zone (so a
//! day is a local calendar day, 23 or 25 hours long on DST nights, and hours follow half-hour
//! zones too). Each series is stored in chunks covering a fixed UTC window.

use hearth_meter::time::local_midnight;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::fmt;
use std::str::FromStr;

/// A series the vault keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resolution {
    /// Every reading as received.
    Raw,
    /// One-minute buckets.
    Minute,
    /// Quarter-hour buckets (the capacity-tariff interval).
    Quarter,
    /// Hourly buckets.
    Hour,
    /// Local calendar days.
    Day,
    /// Local calendar months.
    Month,
}

impl Resolution {
    /// Every resolution, finest first.
    pub const ALL: [Resolution; 6] = [
        Resolution::Raw,
        Resolution::Minute,
        Resolution::Quarter,
        Resolution::Hour,
        Resolution::Day,
        Resolution::Month,
    ];

    /// The rollup resolutions, finest first.
    pub const ROLLUPS: [Resolution; 5] = [
        Resolution::Minute,
        Resolution::Quarter,
        Resolution::Hour,
        Resolution::Day,
        Resolution::Month,
    ];

    /// The name used on the command line (`raw`, `1m`, `15m`, `1h`, `1d`, `1mo`).
    pub const fn name(self) -> &'static str {
        match self {
            Resolution::Raw => "raw",
            Resolution::Minute => "1m",
            Resolution::Quarter => "15m",
            Resolution::Hour => "1h",
            Resolution::Day => "1d",
            Resolution::Month => "1mo",
        }
    }

    /// The code stored in the database and bound into each chunk's associated data.
    pub(crate) const fn code(self) -> u8 {
        self as u8
    }

    /// Nominal bucket length in seconds (a day is 86 400 even on DST nights; a month 30 days).
    pub const fn nominal_seconds(self) -> i64 {
        match self {
            Resolution::Raw => 1,
            Resolution::Minute => 60,
            Resolution::Quarter => 900,
            Resolution::Hour => 3600,
            Resolution::Day => 86_400,
            Resolution::Month => 30 * 86_400,
        }
    }

    /// Length of the UTC window one stored chunk of this series covers.
    pub const fn chunk_seconds(self) -> i64 {
        match self {
            Resolution::Raw => 3600,
            Resolution::Minute => 86_400,
            Resolution::Quarter => 864_000,
            Resolution::Hour => 2_592_000,
            Resolution::Day => 31_536_000,
            Resolution::Month => 315_360_000,
        }
    }

    /// The chunk window a bucket (or reading) starting at `t` is stored in.
    pub(crate) const fn chunk_start(self, t: i64) -> i64 {
        t.div_euclid(self.chunk_seconds())
            .saturating_mul(self.chunk_seconds())
    }

    /// The coarsest resolution that still gives at least `points` buckets over
    /// `[from, to)`; raw when even one-minute buckets would be too few.
    pub fn for_points(from: i64, to: i64, points: u32) -> Resolution {
        let span = to.saturating_sub(from).max(0);
        let want = i64::from(points.max(1));
        Resolution::ROLLUPS
            .iter()
            .rev()
            .copied()
            .find(|r| span / r.nominal_seconds() >= want)
            .unwrap_or(Resolution::Raw)
    }
}

impl fmt::Display for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A resolution name that is not one of `raw|1m|15m|1h|1d|1mo`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown resolution '{0}': use raw, 1m, 15m, 1h, 1d or 1mo")]
pub struct UnknownResolution(pub String);

impl FromStr for Resolution {
    type Err = UnknownResolution;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Resolution::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| UnknownResolution(s.to_string()))
    }
}

/// The local offset of `tz` at `t`, in seconds.
pub(crate) fn offset_at(tz: &TimeZone, t: i64) -> i32 {
    let ts = Timestamp::from_second(t).unwrap_or(Timestamp::UNIX_EPOCH);
    tz.to_offset(ts).seconds()
}

/// The bucket `[start, end)` of a rollup resolution that contains instant `t`.
pub(crate) fn bucket_of(res: Resolution, tz: &TimeZone, t: i64) -> (i64, i64) {
    match res {
        Resolution::Raw => (t, t + 1),
        Resolution::Minute | Resolution::Quarter | Resolution::Hour => {
            // Whole-hour (and half-hour) DST shifts keep these boundaries on the same UTC
            // grid, so a bucket is always `len` seconds of real time.
            let len = res.nominal_seconds();
            let off = i64::from(offset_at(tz, t));
            let start = (t + off).div_euclid(len) * len - off;
            (start, start + len)
        }
        Resolution::Day | Resolution::Month => civil_bucket(res, tz, t).unwrap_or_else(|| {
            let len = res.nominal_seconds();
            let s = t.div_euclid(len) * len;
            (s, s + len)
        }),
    }
}

fn civil_bucket(res: Resolution, tz: &TimeZone, t: i64) -> Option<(i64, i64)> {
    let ts = Timestamp::from_second(t).ok()?;
    let date = ts.to_zoned_datetime(tz.clone()).date();
    let (first, next) = if res == Resolution::Day {
        (date, date.tomorrow().ok()?)
    } else {
        let first = date.first_of_month();
        (first, first.last_of_month().tomorrow().ok()?)
    };
    let start = local_midnight(first, tz)?.as_second();
    let end = local_midnight(next, tz)?.as_second();
    (start <= t && t < end).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ams() -> TimeZone {
        TimeZone::get("Europe/Amsterdam").unwrap()
    }

    #[test]
    fn names_parse_back() {
        for r in Resolution::ALL {
            assert_eq!(r.name().parse::<Resolution>(), Ok(r));
        }
        assert!("2h".parse::<Resolution>().is_err());
    }

    #[test]
    fn buckets_follow_local_days_and_dst() {
        let tz = ams();
        // 2026-03-29 is the spring-forward day in Amsterdam: 00:00 CET = 2026-03-28T23:00Z,
        // next midnight 00:00 CEST = 2026-03-29T22:00Z -> a 23-hour day.
        let t = 1_774_774_800; // 2026-03-29T09:00:00Z
        let (s, e) = bucket_of(Resolution::Day, &tz, t);
        assert_eq!(s, 1_774_738_800); // 2026-03-28T23:00:00Z
        assert_eq!(e - s, 23 * 3600);
        // Month of March 2026: 2026-02-28T23:00Z .. 2026-03-31T22:00Z.
        let (s, e) = bucket_of(Resolution::Month, &tz, t);
        assert_eq!(s, 1_772_319_600);
        assert_eq!(e, 1_774_994_400);
        // Quarter hour: 09:07:30Z lies in 09:00..09:15Z.
        let (s, e) = bucket_of(Resolution::Quarter, &tz, t + 450);
        assert_eq!((s, e), (t, t + 900));
        // Half-hour zone: Kolkata hours start at :30 UTC.
        let kol = TimeZone::get("Asia/Kolkata").unwrap();
        let (s, _) = bucket_of(Resolution::Hour, &kol, t);
        assert_eq!(s, t - 1800);
    }

    #[test]
    fn coarsest_resolution_that_fills_the_points() {
        let day = 86_400;
        assert_eq!(Resolution::for_points(0, day, 1000), Resolution::Minute);
        assert_eq!(Resolution::for_points(0, day, 90), Resolution::Quarter);
        assert_eq!(Resolution::for_points(0, 365 * day, 1000), Resolution::Hour);
        assert_eq!(
            Resolution::for_points(0, 3 * 365 * day, 1000),
            Resolution::Day
        );
        assert_eq!(Resolution::for_points(0, 600, 1000), Resolution::Raw);
    }
}
