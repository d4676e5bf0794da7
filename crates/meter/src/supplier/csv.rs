//! Consumption CSV files in the dialects suppliers write: the header decides which column is
//! the value, the start and the end, the delimiter and the unit; times are RFC 3339 or local
//! wall time, with October's repeated hour told apart by the file's order. A date column with
//! separate times of day (`Date,From,To,kWh`, `Date,Start,End,kWh`, `Date,Time,kWh`) is read
//! as date + start to date + end, an end of 00:00 (or 24:00) being the next midnight.
//! Intervals no household can use (more than [`MAX_AVERAGE_W`](super::MAX_AVERAGE_W) on average, or negative) are
//! refused by line and counted.

use super::decimal::decimal_to_scaled;
use super::intervals::{ImportError, ImportSummary, Interval, IntervalSet, Merge, show};
use crate::quote::quoted;
use crate::time::MeterTime;
use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, TimeZone};
use std::io::BufRead;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Columns {
    value: usize,
    start: usize,
    /// A separate time-of-day column when `start` holds only the date (`Date, Time, kWh`,
    /// `Date, From, To, kWh`); the end column then holds a time of day on that date too.
    time: Option<usize>,
    end: Option<usize>,
    /// Power of ten from the value column's unit to thousandths of a Wh (kWh: 6, Wh: 3).
    shift: i32,
    delimiter: u8,
}

fn split_fields(line: &str, delimiter: u8) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    cur.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            } else {
                cur.push(c);
            }
        } else if c == '"' {
            quoted = true;
        } else if c as u32 == u32::from(delimiter) {
            out.push(cur.trim().to_owned());
            cur.clear();
        } else {
            cur.push(c);
        }
    }
    out.push(cur.trim().to_owned());
    out
}

fn find_columns(header: &str) -> Option<Columns> {
    let delimiter = [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| header.bytes().filter(|b| b == d).count())
        .filter(|d| header.bytes().any(|b| b == *d))
        .unwrap_or(b',');
    let names: Vec<String> = split_fields(header, delimiter)
        .into_iter()
        .map(|s| s.to_ascii_lowercase())
        .collect();
    let find = |want: &[&str], not: &[&str]| {
        names
            .iter()
            .position(|n| want.iter().any(|w| n.contains(w)) && !not.iter().any(|x| n.contains(x)))
    };
    let not_value = [
        "cost", "price", "charge", "tax", "export", "generat", "£", "(p)",
    ];
    let value = find(&["consumption", "usage", "import"], &not_value)
        .or_else(|| find(&["kwh", "wh", "energy", "value"], &not_value))?;
    let start = find(
        &["start", "from", "time", "date"],
        &["end", "kwh", "consumption"],
    )?;
    let end = find(&["end", "to"], &["start", "kwh", "consumption", "total"])
        .filter(|i| *i != start && *i != value);
    if start == value {
        return None;
    }
    // A date column with the start's time of day apart: `Date, Time`, `Date, From, To`,
    // `Date, Start, End`, `Date, Start Time, End Time`.
    let date_only = names[start].contains("date") && !names[start].contains("time");
    let time = names
        .iter()
        .position(|n| {
            ["time", "from", "start"].iter().any(|w| n.contains(w))
                && !["date", "stamp", "end"].iter().any(|x| n.contains(x))
        })
        .filter(|i| *i != start && *i != value && Some(*i) != end && date_only);
    let unit = &names[value];
    let shift = if unit.contains("kwh") || !unit.contains("wh") {
        6
    } else {
        3
    };
    Some(Columns {
        value,
        start,
        time,
        end,
        shift,
        delimiter,
    })
}

/// A time cell: an exact instant (offset given) or UK-style local wall time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stamp {
    Exact(i64),
    Local(DateTime),
}

fn num(s: &str) -> Option<i32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_stamp(cell: &str) -> Option<Stamp> {
    let s = cell.trim();
    if let Ok(t) = MeterTime::parse_rfc3339(s) {
        return Some(Stamp::Exact(t.unix));
    }
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Some(Stamp::Exact(ts.as_second()));
    }
    // Local: `YYYY-MM-DD[T ]HH:MM[:SS]` or `DD/MM/YYYY HH:MM[:SS]`.
    let (date, time) = s.split_once(['T', ' '])?;
    let time = time.trim();
    let (y, m, d) = if date.contains('-') {
        let mut p = date.split('-');
        (num(p.next()?)?, num(p.next()?)?, num(p.next()?)?)
    } else if date.contains('/') {
        let mut p = date.split('/');
        let (d, m, y) = (num(p.next()?)?, num(p.next()?)?, num(p.next()?)?);
        (y, m, d)
    } else {
        return None;
    };
    let mut t = time.split(':');
    let hh = num(t.next()?)?;
    let mm = num(t.next()?)?;
    let ss = match t.next() {
        Some(x) => num(x.split('.').next()?)?,
        None => 0,
    };
    let dt = DateTime::new(
        i16::try_from(y).ok()?,
        i8::try_from(m).ok()?,
        i8::try_from(d).ok()?,
        i8::try_from(hh).ok()?,
        i8::try_from(mm).ok()?,
        i8::try_from(ss).ok()?,
        0,
    )
    .ok()?;
    Some(Stamp::Local(dt))
}

/// Both instants a local wall time can name (equal when unambiguous); `None` in a spring gap.
fn local_candidates(dt: DateTime, tz: &TimeZone) -> Option<(i64, i64)> {
    let amb = tz.to_ambiguous_timestamp(dt);
    if matches!(amb.offset(), AmbiguousOffset::Gap { .. }) {
        return None;
    }
    let earlier = amb.earlier().ok()?.as_second();
    let later = amb.later().ok()?.as_second();
    Some((earlier, later))
}

fn civil_seconds(a: DateTime, b: DateTime) -> Option<i64> {
    let ta = a
        .to_zoned_datetime(TimeZone::UTC)
        .ok()?
        .timestamp()
        .as_second();
    let tb = b
        .to_zoned_datetime(TimeZone::UTC)
        .ok()?
        .timestamp()
        .as_second();
    Some(tb - ta)
}

/// Why a data row is not used.
enum Refusal {
    /// It cannot be read (a cell is not a time or an amount, the end is not after the start).
    Unreadable(String),
    /// It reads, but no household uses that energy (negative, or more than
    /// [`MAX_AVERAGE_W`](super::MAX_AVERAGE_W) on average).
    Implausible(String),
}

impl From<String> for Refusal {
    fn from(message: String) -> Self {
        Refusal::Unreadable(message)
    }
}

impl From<&str> for Refusal {
    fn from(message: &str) -> Self {
        Refusal::Unreadable(message.to_owned())
    }
}

/// `HH:MM` or `HH:MM:SS` (one-digit hours too), with no date.
fn is_time_of_day(cell: &str) -> bool {
    let s = cell.trim();
    let mut parts = s.split(':');
    let ok = |p: Option<&str>, max: usize| {
        p.is_some_and(|p| !p.is_empty() && p.len() <= max && p.bytes().all(|b| b.is_ascii_digit()))
    };
    let hh = parts.next();
    let (h, m) = (ok(hh, 2), ok(parts.next(), 2));
    let rest = parts.next();
    h && m
        && (rest.is_none() || ok(rest.and_then(|r| r.split('.').next()), 2))
        && parts.next().is_none()
}

/// The end of a row whose times are times of day on `date`: `time` on that date, the next
/// day's midnight for `00:00` or `24:00`.
fn end_on_date(date: &str, time: &str) -> Option<Stamp> {
    let time = time.trim();
    let midnight = matches!(time, "24:00" | "24:00:00");
    let text = format!("{} {}", date.trim(), if midnight { "00:00" } else { time });
    match parse_stamp(&text)? {
        Stamp::Local(dt) if dt.time() == jiff::civil::Time::midnight() => Some(Stamp::Local(
            dt.checked_add(jiff::Span::new().days(1)).ok()?,
        )),
        other => Some(other),
    }
}

/// Reads a consumption CSV line by line into `set`. Times without an offset are wall time in
/// `tz` (pass [`london`](super::london) for UK files).
pub fn read_csv(
    reader: impl BufRead,
    tz: &TimeZone,
    set: &mut IntervalSet,
) -> Result<ImportSummary, ImportError> {
    let mut csv = CsvReader::new(tz.clone());
    let mut summary = ImportSummary::default();
    for line in reader.lines() {
        let line = line.map_err(|e| ImportError::Io(e.to_string()))?;
        csv.push_line(&line, set, &mut summary)?;
    }
    if !csv.saw_header {
        return Err(ImportError::Empty);
    }
    Ok(summary)
}

/// The CSV reader's state, for callers that feed lines themselves.
#[derive(Clone, Debug)]
pub struct CsvReader {
    tz: TimeZone,
    columns: Option<Columns>,
    saw_header: bool,
    line: u32,
    /// Resolved start of the previous row (orders October's repeated hour).
    prev_start: Option<i64>,
    descending: bool,
    /// The length of a row without an end: the file's step, learned from the starts of
    /// consecutive such rows (15 minutes for quarter-hour data), 30 minutes until then.
    step: i64,
    /// Start of the previous row without an end.
    prev_open_start: Option<i64>,
    /// The interval the previous row without an end added (its length the step then known).
    prev_open_added: Option<(Interval, u32)>,
    /// Whether the current row had no end.
    open: bool,
}

/// A row without an end lasts at most this long (a half hour) until the file shows its step.
const DEFAULT_STEP: i64 = 1800;

impl CsvReader {
    /// A reader for local times in `tz`.
    pub fn new(tz: TimeZone) -> Self {
        CsvReader {
            tz,
            columns: None,
            saw_header: false,
            line: 0,
            prev_start: None,
            descending: false,
            step: DEFAULT_STEP,
            prev_open_start: None,
            prev_open_added: None,
            open: false,
        }
    }

    /// Reads one line (the first non-empty one is the header).
    pub fn push_line(
        &mut self,
        line: &str,
        set: &mut IntervalSet,
        summary: &mut ImportSummary,
    ) -> Result<(), ImportError> {
        self.line += 1;
        let line = line
            .trim_start_matches('\u{feff}')
            .trim_end_matches(['\r', '\n']);
        if line.trim().is_empty() {
            return Ok(());
        }
        let Some(cols) = self.columns else {
            self.saw_header = true;
            self.columns = Some(find_columns(line).ok_or_else(|| ImportError::Columns {
                header: quoted(line),
            })?);
            return Ok(());
        };
        summary.rows += 1;
        let open_before = self.prev_open_added.take();
        let step_before = self.step;
        let row = self.row(line, cols);
        if self.step < step_before
            && let Some((prev, line)) = open_before
        {
            // The file's step shows only now: the previous row without an end was taken as
            // longer than it is.
            self.shorten(prev, line, set, summary);
        }
        match row {
            Ok(iv) if self.open => {
                let same_row_again = set.intervals.get(&iv.start).is_some_and(|known| {
                    known.energy_milli_wh == iv.energy_milli_wh
                        && known.end > known.start
                        && known.end <= iv.end
                });
                if same_row_again {
                    // Imported before, when the step was known (a shorter interval).
                    summary.count(Merge::Duplicate);
                } else {
                    let merge = set.insert(iv, self.line);
                    if merge == Merge::Added {
                        self.prev_open_added = Some((iv, self.line));
                    }
                    summary.count(merge);
                }
            }
            Ok(iv) => summary.count(set.insert(iv, self.line)),
            Err(Refusal::Unreadable(message)) => {
                summary.skipped += 1;
                set.note(self.line, "row", message);
            }
            Err(Refusal::Implausible(message)) => {
                summary.skipped += 1;
                summary.implausible += 1;
                set.note(self.line, "implausible", message);
            }
        }
        Ok(())
    }

    /// Cuts `prev` (added by this file from a row without an end, at `line`) to the step
    /// the file shows now; refused after all if that makes it implausible.
    fn shorten(
        &mut self,
        prev: Interval,
        line: u32,
        set: &mut IntervalSet,
        summary: &mut ImportSummary,
    ) {
        if set.intervals.get(&prev.start) != Some(&prev) {
            return;
        }
        let cut = Interval {
            end: prev.start + self.step,
            ..prev
        };
        match cut.implausible() {
            None => {
                set.intervals.insert(prev.start, cut);
            }
            Some(why) => {
                set.intervals.remove(&prev.start);
                summary.added = summary.added.saturating_sub(1);
                summary.skipped += 1;
                summary.implausible += 1;
                set.note(line, "implausible", why);
            }
        }
    }

    fn resolve_start(&mut self, stamp: Stamp) -> Result<i64, String> {
        match stamp {
            Stamp::Exact(t) => Ok(t),
            Stamp::Local(dt) => {
                let (earlier, later) = local_candidates(dt, &self.tz).ok_or_else(|| {
                    format!("{dt} does not exist in local time (the clocks went forward)")
                })?;
                if earlier == later {
                    return Ok(earlier);
                }
                // October's repeated hour: the file's order says which one it is.
                Ok(match (self.prev_start, self.descending) {
                    (Some(prev), false) if earlier <= prev => later,
                    (Some(prev), true) if later >= prev => earlier,
                    (_, false) => earlier,
                    (_, true) => later,
                })
            }
        }
    }

    fn row(&mut self, line: &str, cols: Columns) -> Result<Interval, Refusal> {
        let fields = split_fields(line, cols.delimiter);
        let cell = |i: usize| fields.get(i).map(String::as_str).unwrap_or("");
        let joined;
        let start_text = match cols.time {
            Some(t) => {
                joined = format!("{} {}", cell(cols.start), cell(t));
                joined.as_str()
            }
            None => cell(cols.start),
        };
        let start_stamp = parse_stamp(start_text)
            .ok_or_else(|| format!("{} is not a date and time", quoted(start_text)))?;
        let start = self.resolve_start(start_stamp)?;
        let end_cell = cols.end.map(cell).filter(|s| !s.is_empty());
        self.open = end_cell.is_none();
        let end = match end_cell {
            None => {
                // Rows closer together than the step so far show the file's step (in either
                // order: some portals write the newest row first).
                if let Some(prev) = self.prev_open_start {
                    let apart = (start - prev).abs();
                    if apart > 0 && apart < self.step {
                        self.step = apart;
                    }
                }
                self.prev_open_start = Some(start);
                start + self.step
            }
            Some(text) => {
                let stamp = match cols.time {
                    // A time of day on the row's date; 00:00 or 24:00 is the next midnight.
                    Some(_) if is_time_of_day(text) => end_on_date(cell(cols.start), text),
                    _ => parse_stamp(text),
                }
                .ok_or_else(|| format!("{} is not a date and time", quoted(text)))?;
                match (start_stamp, stamp) {
                    (_, Stamp::Exact(t)) => t,
                    (Stamp::Local(a), Stamp::Local(b)) => {
                        // The shorter of wall-clock and elapsed length is right on both DST
                        // nights (01:30 BST → 02:00 is 30 min, not 90).
                        // (01:30 BST → 01:00 GMT, as a wall-clock file writes it, is 30 min too.)
                        let civil = civil_seconds(a, b).filter(|x| *x > 0);
                        let elapsed = local_candidates(b, &self.tz)
                            .map(|(e, l)| if e > start { e } else { l } - start)
                            .filter(|x| *x > 0);
                        let len = match (civil, elapsed) {
                            (Some(c), Some(e)) => c.min(e),
                            (Some(x), None) | (None, Some(x)) => x,
                            (None, None) => return Err(format!("{b} is not after {a}").into()),
                        };
                        start + len
                    }
                    (Stamp::Exact(_), Stamp::Local(b)) => {
                        let (e, l) = local_candidates(b, &self.tz)
                            .ok_or_else(|| format!("{b} does not exist in local time"))?;
                        if e > start { e } else { l }
                    }
                }
            }
        };
        if end <= start {
            return Err(format!("ends ({}) before it starts ({})", show(end), show(start)).into());
        }
        if end - start > 31 * 86_400 {
            return Err("an interval longer than a month is not half-hourly data".into());
        }
        let raw = cell(cols.value);
        let text = if cols.delimiter != b',' {
            raw.replace(',', ".")
        } else {
            raw.to_owned()
        };
        let energy = decimal_to_scaled(&text, cols.shift)
            .ok_or_else(|| format!("{} is not an amount of energy", quoted(raw)))?;
        if energy < 0 {
            return Err(Refusal::Implausible(format!(
                "negative consumption {} (is this an export file?)",
                quoted(raw)
            )));
        }
        let interval = Interval {
            start,
            end,
            energy_milli_wh: energy,
        };
        if let Some(why) = interval.implausible() {
            return Err(Refusal::Implausible(why));
        }
        if let Some(prev) = self.prev_start
            && (!matches!(start_stamp, Stamp::Local(_)) || start != prev)
        {
            self.descending = start < prev;
        }
        self.prev_start = Some(start);
        Ok(interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_choose_columns() {
        let c = find_columns("Consumption (kWh), Start, End").unwrap();
        assert_eq!((c.value, c.start, c.end, c.shift), (0, 1, Some(2), 6));
        let c = find_columns(
            "Consumption (kWh), Estimated Cost Inc. Tax (p), Standing Charge Inc. Tax (p), Start, End",
        )
        .unwrap();
        assert_eq!((c.value, c.start, c.end), (0, 3, Some(4)));
        let c = find_columns("start,end,kwh").unwrap();
        assert_eq!((c.value, c.start, c.end, c.time), (2, 0, Some(1), None));
        let c = find_columns("Date, Time, Consumption (kWh)").unwrap();
        assert_eq!((c.value, c.start, c.time, c.end), (2, 0, Some(1), None));
        let c = find_columns("Start;Wh").unwrap();
        assert_eq!(
            (c.value, c.start, c.end, c.shift, c.delimiter),
            (1, 0, None, 3, b';')
        );
        assert_eq!(find_columns("0.25,2026-06-01T00:00:00+01:00"), None);
        assert_eq!(find_columns("a,b,c"), None);
    }

    #[test]
    fn stamps() {
        assert_eq!(
            parse_stamp("2024-10-27T01:00:00+01:00"),
            Some(Stamp::Exact(1_729_987_200))
        );
        assert_eq!(
            parse_stamp("2024-10-27T01:00:00Z"),
            Some(Stamp::Exact(1_729_990_800))
        );
        assert!(matches!(
            parse_stamp("27/10/2024 01:30"),
            Some(Stamp::Local(_))
        ));
        assert!(matches!(
            parse_stamp("2024-10-27 01:30:00"),
            Some(Stamp::Local(_))
        ));
        assert_eq!(parse_stamp("31/02/2024 01:30"), None);
        assert_eq!(parse_stamp("yesterday"), None);
    }
}
