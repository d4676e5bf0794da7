//! Civil dates from day counts (Howard Hinnant's `civil_from_days` / `days_from_civil`
//! algorithms, defined once in [`hearth_meter::time`]), so the simulator can stamp a telegram
//! every second without a time-zone library call per field.

use hearth_meter::time::{civil_from_days, days_from_civil};

/// A local calendar date and time of day, with derived fields the household model uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub(crate) year: i64,
    pub(crate) month: u32,
    pub(crate) day: u32,
    /// Seconds since local midnight.
    pub(crate) second_of_day: u32,
    /// Days since 1970-01-01 (local).
    pub(crate) day_number: i64,
    /// 0 = Monday .. 6 = Sunday.
    pub(crate) weekday: u32,
    /// 1 = 1 January.
    pub(crate) day_of_year: u32,
}

impl Civil {
    /// The civil fields of a local time given as seconds since 1970-01-01T00:00 local.
    pub(crate) fn from_local_seconds(local: i64) -> Civil {
        let day_number = local.div_euclid(86_400);
        let second_of_day = local.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(day_number);
        let day_of_year = (day_number - days_from_civil(year, 1, 1) + 1) as u32;
        // 1970-01-01 was a Thursday (3 when Monday is 0).
        let weekday = (day_number + 3).rem_euclid(7) as u32;
        Civil {
            year,
            month,
            day,
            second_of_day,
            day_number,
            weekday,
            day_of_year,
        }
    }

    pub(crate) fn is_weekend(&self) -> bool {
        self.weekday >= 5
    }

    pub(crate) fn hour(&self) -> u32 {
        self.second_of_day / 3600
    }

    pub(crate) fn minute(&self) -> u32 {
        self.second_of_day / 60 % 60
    }

    pub(crate) fn second(&self) -> u32 {
        self.second_of_day % 60
    }

    /// Local time of day in fractional hours.
    pub(crate) fn hours(&self) -> f64 {
        f64::from(self.second_of_day) / 3600.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        // 2026-01-01 is 20454 days after the epoch (Python: date(2026,1,1) - date(1970,1,1)).
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
        assert_eq!(civil_from_days(20_818), (2026, 12, 31));
        // 2024-02-29 (leap day) = 19782.
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn round_trip_over_centuries() {
        for d in (-200_000..200_000).step_by(37) {
            let (y, m, day) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, day), d);
        }
    }

    #[test]
    fn fields_of_a_local_time() {
        // 2026-11-26 (a Thursday) 14:05:09 local = day 20783.
        let c = Civil::from_local_seconds(20_783 * 86_400 + 14 * 3600 + 5 * 60 + 9);
        assert_eq!((c.year, c.month, c.day), (2026, 11, 26));
        assert_eq!((c.hour(), c.minute(), c.second()), (14, 5, 9));
        assert_eq!(c.weekday, 3);
        assert_eq!(c.day_of_year, 330);
        assert!(!c.is_weekend());
    }
}
