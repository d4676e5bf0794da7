//! The calendar in the vault's time zone: a local date's midnight (defined here once, for every
//! use case), a date or instant typed by the user, and the history screen's periods: the local
//! day, week (Monday first), month or year that holds a moment, stepped back and forth, as
//! unix-second ranges.

use hearth_insight::Lang;
use jiff::civil::{Date, DateTime, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{Span, Timestamp};

/// Why a date or time could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// The text is neither a date nor a time.
    #[error("{0:?} is not a date like 2026-01-31 (or a time like 2026-01-31T12:00:00+01:00)")]
    NotADate(String),
    /// The date is beyond the calendar's range (years past 9999).
    #[error("{0} is out of range")]
    OutOfRange(Date),
    /// A range whose end is not after its start (it would hold nothing).
    #[error(
        "the range ends ({to}) before it starts ({from}); --to is the first moment not included"
    )]
    Backwards {
        /// The start as typed.
        from: String,
        /// The end as typed.
        to: String,
    },
    /// A time where only a whole local day can be used (report and tips periods).
    #[error(
        "{0:?} has a time of day, but periods here are whole local days: give a date like 2026-02-01"
    )]
    TimeInDay(String),
    /// A local time the clocks skip (the hour lost when summer time starts).
    #[error(
        "{text:?} does not exist in {zone}: the clocks skip that time; give an offset, like {text}+01:00"
    )]
    Skipped {
        /// The time as typed.
        text: String,
        /// The vault's time zone.
        zone: String,
    },
    /// A local time that happens twice (the hour repeated when summer time ends).
    #[error(
        "{text:?} happens twice in {zone}: the clocks repeat that hour; give an offset, like {text}+02:00 (the first) or {text}+01:00 (the second)"
    )]
    Repeated {
        /// The time as typed.
        text: String,
        /// The vault's time zone.
        zone: String,
    },
}

/// The first moment of local date `d` in `tz`, as unix seconds: its midnight, or, where a
/// clock change skips midnight, the first moment after the gap.
pub fn local_midnight(d: Date, tz: &TimeZone) -> Result<i64, DateError> {
    hearth_meter::time::local_midnight(d, tz)
        .map(|t| t.as_second())
        .ok_or(DateError::OutOfRange(d))
}

/// Whether `s` (trimmed) carries a time of day: jiff reads `2026-01-31T12:00` as a date too,
/// dropping the time, so a date is only text without a time separator or a colon.
fn has_time(s: &str) -> bool {
    s.contains(['T', 't', ' ', ':'])
}

/// A whole local day typed by the user (`2026-01-31`), for periods made of whole days
/// (report, tips). Text with a time of day is refused, never cut to its date.
pub fn parse_day(s: &str) -> Result<Date, DateError> {
    let s = s.trim();
    if has_time(s) {
        return Err(DateError::TimeInDay(s.to_string()));
    }
    s.parse().map_err(|_| DateError::NotADate(s.to_string()))
}

/// A bound typed by the user, as unix seconds: a local date (`2026-01-31`, its midnight in
/// `tz`), an RFC 3339 instant (`2026-01-31T12:00:00+01:00`, `2026-01-31T11:00:00Z`), or a
/// local time without an offset (`2026-01-31T12:00:30`, taken in `tz` to the second). A local
/// time the clocks skip or repeat in `tz` is refused (it names no single moment) with the
/// offsets to choose from; a date whose midnight is skipped starts when the day does.
pub fn parse_bound(s: &str, tz: &TimeZone) -> Result<i64, DateError> {
    let s = s.trim();
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Ok(ts.as_second());
    }
    if !has_time(s) {
        return local_midnight(parse_day(s)?, tz);
    }
    let dt: DateTime = s.parse().map_err(|_| DateError::NotADate(s.to_string()))?;
    let zone = || {
        tz.iana_name()
            .unwrap_or("the vault's time zone")
            .to_string()
    };
    let at = tz.to_ambiguous_zoned_datetime(dt);
    match at.offset() {
        AmbiguousOffset::Gap { .. } => {
            return Err(DateError::Skipped {
                text: s.to_string(),
                zone: zone(),
            });
        }
        AmbiguousOffset::Fold { .. } => {
            return Err(DateError::Repeated {
                text: s.to_string(),
                zone: zone(),
            });
        }
        AmbiguousOffset::Unambiguous { .. } => {}
    }
    at.unambiguous()
        .map(|z| z.timestamp().as_second())
        .map_err(|_| DateError::OutOfRange(dt.date()))
}

/// How long one history page is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodKind {
    /// A local calendar day.
    Day,
    /// Monday to Sunday.
    Week,
    /// A calendar month.
    Month,
    /// A calendar year.
    Year,
}

impl PeriodKind {
    /// Parses `day`, `week`, `month`, `year`.
    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "day" => Some(PeriodKind::Day),
            "week" => Some(PeriodKind::Week),
            "month" => Some(PeriodKind::Month),
            "year" => Some(PeriodKind::Year),
            _ => None,
        }
    }
}

/// One period: `[from, to)` in unix seconds, and its first local date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// What kind of period.
    pub kind: PeriodKind,
    /// First local date of the period.
    pub first: Date,
    /// Start (local midnight), unix seconds.
    pub from: i64,
    /// End (exclusive), unix seconds.
    pub to: i64,
}

fn midnight(d: Date, tz: &TimeZone) -> Option<i64> {
    local_midnight(d, tz).ok()
}

fn add(d: Date, span: Span) -> Option<Date> {
    d.checked_add(span).ok()
}

impl Period {
    /// The period of `kind` holding `now`, moved `shift` periods (negative = back in time).
    /// `None` only for dates outside jiff's range (years beyond ±9999).
    pub fn around(kind: PeriodKind, now: i64, shift: i32, tz: &TimeZone) -> Option<Period> {
        let today = Timestamp::from_second(now)
            .ok()?
            .to_zoned_datetime(tz.clone())
            .date();
        let (first, next) = match kind {
            PeriodKind::Day => {
                let d = add(today, Span::new().days(shift))?;
                (d, add(d, Span::new().days(1))?)
            }
            PeriodKind::Week => {
                let back = Weekday::Monday.until(today.weekday());
                let monday = add(
                    today,
                    Span::new().days(i64::from(shift) * 7 - i64::from(back)),
                )?;
                (monday, add(monday, Span::new().days(7))?)
            }
            PeriodKind::Month => {
                let d = add(today.first_of_month(), Span::new().months(shift))?;
                (d, add(d, Span::new().months(1))?)
            }
            PeriodKind::Year => {
                let d = add(today.first_of_year(), Span::new().years(shift))?;
                (d, add(d, Span::new().years(1))?)
            }
        };
        Some(Period {
            kind,
            first,
            from: midnight(first, tz)?,
            to: midnight(next, tz)?,
        })
    }

    /// Start of every bar slot in the period: its hours (a day), days (a week or month) or
    /// months (a year), on local boundaries. A DST day has 23 or 25 hour slots.
    pub fn slots(&self, tz: &TimeZone) -> Vec<i64> {
        let mut out = Vec::new();
        match self.kind {
            PeriodKind::Day => out.extend((self.from..self.to).step_by(3600)),
            PeriodKind::Week | PeriodKind::Month | PeriodKind::Year => {
                let step = if self.kind == PeriodKind::Year {
                    Span::new().months(1)
                } else {
                    Span::new().days(1)
                };
                let mut d = self.first;
                while let Some(t) = midnight(d, tz).filter(|t| *t < self.to) {
                    out.push(t);
                    match add(d, step) {
                        Some(next) => d = next,
                        None => break,
                    }
                }
            }
        }
        out
    }

    /// The same kind of period just before this one.
    pub fn previous(&self, tz: &TimeZone) -> Option<Period> {
        Period::around(self.kind, self.from - 1, 0, tz)
    }

    /// A title for the page (`Wed 26 Nov 2025`, `Week of 24 Nov 2025`, `November 2025`, `2025`).
    pub fn title(&self) -> String {
        self.title_in(Lang::En)
    }

    /// The page title in `lang` (`wo 26 nov 2025`, `Woche ab 24. Nov 2025`, ...).
    pub fn title_in(&self, lang: Lang) -> String {
        let (d, m, y) = (self.first.day(), self.first.month(), self.first.year());
        match self.kind {
            PeriodKind::Day => {
                let wd = Weekday::Monday.until(self.first.weekday()) as usize;
                lang.day_title(wd, d, m, y)
            }
            PeriodKind::Week => lang.week_title(d, m, y),
            PeriodKind::Month => format!("{} {y}", lang.month(m)),
            PeriodKind::Year => format!("{y}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ams() -> TimeZone {
        TimeZone::get("Europe/Amsterdam").unwrap_or(TimeZone::UTC)
    }

    // 2025-11-26T14:05:09Z is a Wednesday, 15:05 in Amsterdam (+01:00).
    const NOW: i64 = 1_764_165_909;
    // 2025-11-26T00:00:00+01:00.
    const MIDNIGHT: i64 = 1_764_111_600;

    #[test]
    fn day_week_month_year() {
        let tz = ams();
        let d = Period::around(PeriodKind::Day, NOW, 0, &tz).unwrap();
        assert_eq!((d.from, d.to), (MIDNIGHT, MIDNIGHT + 86_400));
        assert_eq!(d.title(), "Wed 26 Nov 2025");
        let w = Period::around(PeriodKind::Week, NOW, 0, &tz).unwrap();
        // Monday 24 Nov to Monday 1 Dec.
        assert_eq!(
            (w.from, w.to),
            (MIDNIGHT - 2 * 86_400, MIDNIGHT + 5 * 86_400)
        );
        assert_eq!(w.title(), "Week of 24 Nov 2025");
        let m = Period::around(PeriodKind::Month, NOW, 0, &tz).unwrap();
        // 1 Nov .. 1 Dec: 30 days, all at +01:00 (DST ended 26 Oct).
        assert_eq!(
            (m.from, m.to),
            (MIDNIGHT - 25 * 86_400, MIDNIGHT + 5 * 86_400)
        );
        assert_eq!(m.title(), "November 2025");
        let y = Period::around(PeriodKind::Year, NOW, 0, &tz).unwrap();
        // 2025-01-01T00:00+01:00 = 1735686000; 2026-01-01T00:00+01:00 = 1767222000.
        assert_eq!((y.from, y.to), (1_735_686_000, 1_767_222_000));
    }

    #[test]
    fn stepping_back_crosses_dst() {
        let tz = ams();
        // One month back from November: October 2025, which has 31 days and the DST change on
        // the 26th, so it is 31 * 24 + 1 hours long: from 2025-10-01T00:00+02:00 = 1759269600.
        let oct = Period::around(PeriodKind::Month, NOW, -1, &tz).unwrap();
        assert_eq!(oct.from, 1_759_269_600);
        assert_eq!(oct.to - oct.from, (31 * 24 + 1) * 3600);
        assert_eq!(
            Period::around(PeriodKind::Month, NOW, 0, &tz)
                .unwrap()
                .previous(&tz),
            Some(oct)
        );
        // The DST day itself is 25 hours long.
        let dst = Period::around(PeriodKind::Day, NOW, -31, &tz).unwrap();
        assert_eq!(dst.title(), "Sun 26 Oct 2025");
        assert_eq!(dst.to - dst.from, 25 * 3600);
    }

    #[test]
    fn slots_follow_the_calendar() {
        let tz = ams();
        let slots = |k, shift| {
            Period::around(k, NOW, shift, &tz)
                .map(|p| p.slots(&tz))
                .unwrap_or_default()
        };
        assert_eq!(slots(PeriodKind::Day, 0).len(), 24);
        assert_eq!(
            slots(PeriodKind::Day, -31).len(),
            25,
            "26 Oct 2025: DST ends"
        );
        assert_eq!(slots(PeriodKind::Week, 0).len(), 7);
        assert_eq!(slots(PeriodKind::Month, 0).len(), 30);
        assert_eq!(slots(PeriodKind::Month, -9).len(), 28, "February 2025");
        let year = slots(PeriodKind::Year, 0);
        assert_eq!(year.len(), 12);
        // 2025-04-01T00:00+02:00 = 1743458400.
        assert_eq!(year[3], 1_743_458_400);
    }

    #[test]
    fn local_midnight_and_bounds() {
        let tz = ams();
        let d = |s: &str| s.parse::<Date>().unwrap();
        // 2026-01-15T00:00+01:00 = 2026-01-14T23:00Z.
        assert_eq!(local_midnight(d("2026-01-15"), &tz), Ok(1_768_431_600));
        assert_eq!(parse_bound(" 2026-01-15 ", &tz), Ok(1_768_431_600));
        assert_eq!(parse_bound("2026-01-15T12:00:00Z", &tz), Ok(1_768_478_400));
        assert_eq!(
            parse_bound("2026-01-15T13:00:00+01:00", &tz),
            Ok(1_768_478_400)
        );
        // Finding 6 of issue 17: a local time is taken to the second, never cut to its date.
        assert_eq!(parse_bound("2026-01-15T18:00:30", &tz), Ok(1_768_496_430));
        assert_eq!(parse_bound("2026-01-15 18:00", &tz), Ok(1_768_496_400));
        assert!(matches!(
            parse_bound("2026-03-29T02:30", &tz),
            Err(DateError::Skipped { .. })
        ));
        assert!(matches!(
            parse_bound("2025-10-26T02:30", &tz),
            Err(DateError::Repeated { .. })
        ));
        assert_eq!(
            parse_bound("2025-10-26T02:30+01:00", &tz),
            Ok(1_761_442_200)
        );
        assert_eq!(parse_day("2026-02-01"), Ok(d("2026-02-01")));
        assert_eq!(
            parse_day("2026-02-01T12:00"),
            Err(DateError::TimeInDay("2026-02-01T12:00".into()))
        );
        assert_eq!(
            parse_bound("yesterday", &tz),
            Err(DateError::NotADate("yesterday".into()))
        );
        // Chile moves its clocks at midnight: 2024-09-08 starts at 01:00 -03:00 = 04:00Z.
        let santiago = TimeZone::get("America/Santiago").expect("bundled tzdb");
        assert_eq!(
            local_midnight(d("2024-09-08"), &santiago),
            Ok(1_725_768_000)
        );
    }

    #[test]
    fn names() {
        assert_eq!(PeriodKind::from_name("week"), Some(PeriodKind::Week));
        assert_eq!(PeriodKind::from_name("fortnight"), None);
    }
}
