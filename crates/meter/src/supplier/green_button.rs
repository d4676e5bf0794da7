//! Green Button (ESPI) XML downloads: `IntervalReading`s scaled by their `ReadingType`, read
//! as a stream of events, one flow direction at a time.

use super::decimal::decimal_to_scaled;
use super::intervals::{ImportError, ImportSummary, Interval, IntervalSet};
use std::io::BufRead;

/// Which direction of energy flow to take from a Green Button file (ESPI `flowDirection`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// `1`: delivered to the customer (import).
    Forward,
    /// `19`: received from the customer (export).
    Reverse,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ReadingType {
    /// Power of ten from the value to thousandths of a Wh.
    shift: i32,
    flow: Option<u32>,
    energy: bool,
}

impl Default for ReadingType {
    fn default() -> Self {
        ReadingType {
            shift: 3,
            flow: None,
            energy: true,
        }
    }
}

/// Reads the `IntervalReading`s of a Green Button file into `set`, taking only readings whose
/// `ReadingType` has the given flow (a file without `flowDirection` counts as forward) and
/// measures energy in Wh (`uom` 72; others are skipped with a diagnostic).
pub fn read_green_button(
    reader: impl BufRead,
    flow: Flow,
    set: &mut IntervalSet,
) -> Result<ImportSummary, ImportError> {
    use quick_xml::events::Event;
    let mut xml = quick_xml::Reader::from_reader(reader);
    let mut buf = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let mut summary = ImportSummary::default();
    let mut current = ReadingType::default();
    let mut pending_type = ReadingType::default();
    let mut saw_type = false;
    let mut unit_warned = false;
    let (mut start, mut duration, mut value): (Option<i64>, Option<i64>, Option<String>) =
        (None, None, None);
    let mut reading_no: u32 = 0;
    let want_flow = match flow {
        Flow::Forward => 1,
        Flow::Reverse => 19,
    };
    let mut any = false;
    loop {
        let position = xml.buffer_position();
        let event = xml
            .read_event_into(&mut buf)
            .map_err(|e| ImportError::Xml {
                position,
                message: e.to_string(),
            })?;
        match event {
            Event::Start(e) => {
                any = true;
                let name = e.local_name().as_ref().to_owned();
                match name.as_str() {
                    "ReadingType" => pending_type = ReadingType::default(),
                    "IntervalReading" => {
                        reading_no += 1;
                        (start, duration, value) = (None, None, None);
                    }
                    _ => {}
                }
                path.push(name);
            }
            Event::Empty(_) => any = true,
            Event::Text(t) => {
                let text = t.trim();
                if text.is_empty() {
                    buf.clear();
                    continue;
                }
                let n = path.len();
                let leaf = path.last().map(String::as_str).unwrap_or("");
                let parent = if n >= 2 { path[n - 2].as_str() } else { "" };
                let in_type = path.iter().any(|p| p == "ReadingType");
                let in_reading = path.iter().any(|p| p == "IntervalReading");
                if in_type {
                    match leaf {
                        "powerOfTenMultiplier" => {
                            if let Ok(p) = text.parse::<i32>() {
                                pending_type.shift = p.saturating_add(3);
                            }
                        }
                        "uom" => pending_type.energy = text == "72",
                        "flowDirection" => pending_type.flow = text.parse().ok(),
                        _ => {}
                    }
                } else if in_reading {
                    match (parent, leaf) {
                        ("timePeriod", "start") => start = text.parse().ok(),
                        ("timePeriod", "duration") => duration = text.parse().ok(),
                        ("IntervalReading", "value") => value = Some(text.to_owned()),
                        _ => {}
                    }
                }
            }
            Event::End(e) => {
                let name = e.local_name().as_ref().to_owned();
                path.pop();
                match name.as_str() {
                    "ReadingType" => {
                        current = pending_type;
                        saw_type = true;
                    }
                    "IntervalReading" => {
                        summary.rows += 1;
                        if current.flow.unwrap_or(1) != want_flow {
                            buf.clear();
                            continue;
                        }
                        if !current.energy {
                            summary.skipped += 1;
                            if !unit_warned {
                                unit_warned = true;
                                set.note(
                                    reading_no,
                                    "uom",
                                    "readings not in Wh (uom 72) are skipped".into(),
                                );
                            }
                            buf.clear();
                            continue;
                        }
                        let parsed = match (start, duration, value.as_deref()) {
                            (Some(s), Some(d), Some(v)) if d > 0 && d <= 31 * 86_400 => {
                                decimal_to_scaled(v, current.shift).map(|e| (s, d, e))
                            }
                            _ => None,
                        };
                        let parsed = parsed.map(|(s, d, e)| Interval {
                            start: s,
                            end: s + d,
                            energy_milli_wh: e,
                        });
                        match parsed {
                            Some(iv) => match iv.implausible() {
                                None => summary.count(set.insert(iv, reading_no)),
                                Some(why) => {
                                    summary.skipped += 1;
                                    summary.implausible += 1;
                                    set.note(reading_no, "implausible", why);
                                }
                            },
                            None => {
                                summary.skipped += 1;
                                set.note(
                                    reading_no,
                                    "IntervalReading",
                                    "needs timePeriod/start, timePeriod/duration and value".into(),
                                );
                            }
                        }
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !any {
        return Err(ImportError::Empty);
    }
    if !saw_type && summary.added > 0 {
        set.note(
            0,
            "ReadingType",
            "the file has no ReadingType; values were read as Wh".into(),
        );
    }
    Ok(summary)
}
