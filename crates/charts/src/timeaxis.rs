//! Time-axis labels: unix seconds shown as local wall time, with a format that suits the span.
//!
//! The caller passes the UTC offset to show (the charts crate reads no clock and no time zone
//! database); for a range that crosses a DST change the offset at its end is a fine choice.

/// Days from a civil date and back, re-exported from `hearth-meter` where they are defined once.
pub use hearth_meter::time::{civil_from_days, days_from_civil};

/// Which parts of a moment a label shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelFormat {
    /// `14:05:09`, for spans up to 3 minutes.
    Seconds,
    /// `14:05`, up to two days.
    Minutes,
    /// `26 Nov`, up to about four months.
    Day,
    /// `Nov 2026`, beyond.
    Month,
}

impl LabelFormat {
    /// The format that suits a visible span of `span_s` seconds.
    pub fn for_span(span_s: i64) -> Self {
        match span_s {
            s if s <= 180 => LabelFormat::Seconds,
            s if s <= 2 * 86_400 => LabelFormat::Minutes,
            s if s <= 120 * 86_400 => LabelFormat::Day,
            _ => LabelFormat::Month,
        }
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The label for unix time `t` shown at `offset_s` from UTC.
pub fn label(t: i64, offset_s: i32, format: LabelFormat) -> String {
    let local = t.saturating_add(i64::from(offset_s));
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (secs / 3600, secs / 60 % 60, secs % 60);
    let month = MONTHS[(m as usize).saturating_sub(1) % 12];
    match format {
        LabelFormat::Seconds => format!("{hh:02}:{mm:02}:{ss:02}"),
        LabelFormat::Minutes => format!("{hh:02}:{mm:02}"),
        LabelFormat::Day => format!("{d} {month}"),
        LabelFormat::Month => format!("{month} {y}"),
    }
}

/// Tick steps in seconds, from 1 s to 4 weeks, that read well on a clock or a calendar.
const STEPS: [i64; 19] = [
    1,
    2,
    5,
    10,
    15,
    30,
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    7200,
    10_800,
    21_600,
    43_200,
    86_400,
    7 * 86_400,
];

/// Tick positions for `[from, to)`: at most `max_ticks`, on round local times (whole minutes,
/// quarter hours, local midnights, ...) as seen at `offset_s`. Spans longer than ~`max_ticks`
/// weeks get ticks on the first of each local month (every n months).
pub fn ticks(from: i64, to: i64, offset_s: i32, max_ticks: usize) -> Vec<i64> {
    let max_ticks = max_ticks.max(2) as i64;
    let span = to.saturating_sub(from);
    if span <= 0 {
        return Vec::new();
    }
    let off = i64::from(offset_s);
    if let Some(&step) = STEPS.iter().find(|&&s| span / s < max_ticks) {
        // First multiple of `step` in local time at or after `from`; weeks start on Monday
        // (1970-01-05 was a Monday).
        let phase = if step == 7 * 86_400 { 4 * 86_400 } else { 0 };
        let local = from + off - phase;
        let first =
            local.div_euclid(step) * step + if local.rem_euclid(step) == 0 { 0 } else { step };
        return (0..)
            .map(|i| first + i * step - off + phase)
            .take_while(|t| *t < to)
            .collect();
    }
    // Month ticks: every n-th local month start.
    let months = span / (30 * 86_400);
    let every = [1i64, 2, 3, 6, 12, 24, 60]
        .into_iter()
        .find(|n| months / n < max_ticks)
        .unwrap_or(120);
    let (mut y, mut m, _) = civil_from_days((from + off).div_euclid(86_400));
    let mut out = Vec::new();
    loop {
        let t = days_from_civil(y, m, 1) * 86_400 - off;
        if t >= to {
            break;
        }
        if t >= from && (y * 12 + i64::from(m) - 1) % every == 0 {
            out.push(t);
        }
        m += 1;
        if m > 12 {
            m = 1;
            y += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        // 2024-02-29 is day 19782 (54 years: 13 leap days -> 54*365+13 = 19723, +31+28).
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn labels_in_local_time() {
        // 1_764_165_909 = 2025-11-26T14:05:09Z; Amsterdam in winter is +01:00.
        let t = 1_764_165_909;
        assert_eq!(label(t, 0, LabelFormat::Seconds), "14:05:09");
        assert_eq!(label(t, 3600, LabelFormat::Seconds), "15:05:09");
        assert_eq!(label(t, 3600, LabelFormat::Minutes), "15:05");
        assert_eq!(label(t, 3600, LabelFormat::Day), "26 Nov");
        assert_eq!(label(t, 3600, LabelFormat::Month), "Nov 2025");
        // Crossing midnight through the offset: 23:30Z at +02:00 is 01:30 the next day.
        assert_eq!(label(1_764_199_800, 7200, LabelFormat::Day), "27 Nov");
    }

    #[test]
    fn civil_round_trip() {
        for d in [-800_000, -1, 0, 59, 19_782, 20_000, 2_000_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn ticks_fall_on_round_local_times() {
        // 10 minutes from 14:05:09Z with 6 ticks at most: 2-minute steps (600/120 = 5 < 6),
        // at 14:06, 14:08, 14:10, 14:12, 14:14 UTC (offset +1 h keeps minutes round).
        let from = 1_764_165_909;
        let t = ticks(from, from + 600, 3600, 6);
        let labels: Vec<String> = t
            .iter()
            .map(|t| label(*t, 3600, LabelFormat::Minutes))
            .collect();
        assert_eq!(labels, vec!["15:06", "15:08", "15:10", "15:12", "15:14"]);
        // A week at +01:00 with 8 ticks: daily, at local midnight.
        let day0 = 1_764_111_600; // 2025-11-26T00:00:00+01:00
        let t = ticks(day0 - 3600, day0 + 7 * 86_400, 3600, 8);
        assert_eq!(t.first(), Some(&day0));
        assert_eq!(t.len(), 7);
        assert!(t.iter().all(|t| (t + 3600) % 86_400 == 0));
        // Two years (24 "months" of 30 days) with 9 ticks at most: 24/3 = 8 < 9, so every 3
        // months on the 1st of Jan/Apr/Jul/Oct, local midnight, 2026-01 to 2027-10.
        let t = ticks(day0, day0 + 730 * 86_400, 3600, 9);
        let labels: Vec<String> = t
            .iter()
            .map(|t| label(*t, 3600, LabelFormat::Day))
            .collect();
        assert_eq!(
            labels,
            vec![
                "1 Jan", "1 Apr", "1 Jul", "1 Oct", "1 Jan", "1 Apr", "1 Jul", "1 Oct"
            ]
        );
        // With 8 at most, 24/3 = 8 is not < 8: every 6 months.
        assert_eq!(ticks(day0, day0 + 730 * 86_400, 3600, 8).len(), 4);
        assert!(ticks(5, 5, 0, 6).is_empty());
    }

    #[test]
    fn format_follows_span() {
        assert_eq!(LabelFormat::for_span(120), LabelFormat::Seconds);
        assert_eq!(LabelFormat::for_span(600), LabelFormat::Minutes);
        assert_eq!(LabelFormat::for_span(86_400), LabelFormat::Minutes);
        assert_eq!(LabelFormat::for_span(30 * 86_400), LabelFormat::Day);
        assert_eq!(LabelFormat::for_span(365 * 86_400), LabelFormat::Month);
    }
}
