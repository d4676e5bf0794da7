//! Home Assistant's data, for people moving from it. Its long-term statistics exported as
//! CSV (rows of the recorder's `statistics` table: `statistic_id`, `unit`, `start` or
//! `start_ts`, `state`, `sum`, ...) become register readings where the statistic is
//! unambiguous: an energy unit (kWh, Wh, MWh) and a name that says import or export (a
//! DSMR or P1 sensor's `..._consumption_tarif_1`, `..._returned_2`), or m³ of gas. A
//! statistic's `state` is the sensor's last value in the hour, so the meter showed it at the
//! hour's end: that is the reading's time. `sum` is Home Assistant's own running total since
//! it started counting, not the meter's register, and is never used. Statistics that are
//! ambiguous (no direction, both directions, a daily or cost counter, another unit) are
//! refused with the reason, once each. The History panel's "Download data" CSV
//! (`entity_id,state,last_changed`) carries no unit, so whether a number is kWh or Wh, a
//! meter's total or a daily counter cannot be told: it is refused whole, with the reason.

use super::table::{self, Lines};
use super::{FileError, pipeline::Sink};
use hearth_meter::reading::{Protocol, Quantity, Reading};
use hearth_meter::record::RecordError;
use hearth_meter::time::MeterTime;
use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;

/// What a Home Assistant file holds, from its header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Export {
    /// Long-term statistics rows: imported where unambiguous.
    Statistics,
    /// The History panel's download: refused.
    History,
}

/// Which Home Assistant file the header line `header` starts, if one.
pub fn recognise(header: &str) -> Option<Export> {
    let names = table::fields(header, table::delimiter_of(header))?;
    let names: Vec<&str> = names.iter().map(|n| n.trim()).collect();
    if names == ["entity_id", "state", "last_changed"] {
        return Some(Export::History);
    }
    let has = |n: &str| names.contains(&n);
    if has("statistic_id") && has("state") && (has("start") || has("start_ts")) {
        return Some(Export::Statistics);
    }
    None
}

/// Where a statistic's values go, or why they cannot.
fn target(id: &str, unit: &str) -> Result<(Quantity, u8), String> {
    let id = id.to_ascii_lowercase();
    let any = |words: &[&str]| words.iter().any(|w| id.contains(w));
    if any(&[
        "today",
        "daily",
        "yesterday",
        "week",
        "month",
        "year",
        "cost",
        "price",
        "compensation",
    ]) {
        return Err("a counter that restarts, or money, not the meter's register".into());
    }
    let places = match unit.trim() {
        "kWh" => 3,
        "Wh" => 0,
        "MWh" => 6,
        "m³" | "m3" if any(&["gas"]) => return Ok((Quantity::GasDm3, 3)),
        "m³" | "m3" => return Err("m³ of what (gas, water) cannot be told from its name".into()),
        "" => return Err("it has no unit".into()),
        other => return Err(format!("its unit {other} is not an energy register's")),
    };
    let import = any(&["consumption", "import", "delivered", "from_grid", "usage"]);
    let export = any(&["production", "export", "returned", "to_grid", "injection"]);
    let (t1, t2) = (
        any(&["tarif_1", "tariff_1", "_t1", "delivered_1", "returned_1"]),
        any(&["tarif_2", "tariff_2", "_t2", "delivered_2", "returned_2"]),
    );
    if t1 && t2 {
        return Err("its name names two tariffs".into());
    }
    let q = match (import, export, t1, t2) {
        (true, false, false, false) => Quantity::ImportWh,
        (true, false, true, _) => Quantity::ImportT1Wh,
        (true, false, _, true) => Quantity::ImportT2Wh,
        (false, true, false, false) => Quantity::ExportWh,
        (false, true, true, _) => Quantity::ExportT1Wh,
        (false, true, _, true) => Quantity::ExportT2Wh,
        (true, true, _, _) => return Err("its name says both import and export".into()),
        _ => {
            return Err(
                "its name says neither import (consumption, delivered) nor export \
                 (production, returned)"
                    .into(),
            );
        }
    };
    Ok((q, places))
}

/// What reading the statistics gave besides their readings.
#[derive(Debug, Default)]
pub(super) struct Read {
    /// Rows not imported (of refused statistics, or unreadable): the first of each refused
    /// statistic and every unreadable row told with its line.
    pub unreadable: u64,
    /// Bytes read.
    pub bytes: u64,
}

fn problem(field: &str, what: &str) -> RecordError {
    RecordError::Field {
        field: field.to_owned(),
        problem: what.to_owned(),
    }
}

/// A statistics time: `start_ts` seconds (`1711846800.0`), or `start` as the recorder keeps
/// it, in UTC (`2024-03-31 01:00:00`, with `+00:00` or `Z` or without).
fn start_time(text: &str, epoch: bool) -> Option<i64> {
    let text = text.trim();
    if epoch {
        let whole = match text.split_once('.') {
            Some((w, f)) if f.bytes().all(|b| b == b'0') => w,
            Some(_) => return None,
            None => text,
        };
        return whole.parse().ok();
    }
    if let Some(t) = super::dsmr_reader::database_time(text) {
        return Some(t.unix);
    }
    // The recorder's `start` column is UTC.
    super::dsmr_reader::database_time(&format!("{text}+00")).map(|t| t.unix)
}

/// Reads statistics rows into `sink`: all rows first (a statistics export is hours, not
/// seconds), then one reading per hour's end with every register known for it, in time
/// order.
pub(super) fn read(file: impl BufRead, sink: &mut Sink) -> Result<Read, FileError> {
    let mut out = Read::default();
    let mut lines = Lines::new(file);
    let Some((delimiter, names)) =
        table::header(&mut lines, &mut out.bytes).map_err(FileError::from_line)?
    else {
        return Ok(out);
    };
    let col = |n: &str| names.iter().position(|x| x == n);
    let (Some(id_col), Some(state_col)) = (col("statistic_id"), col("state")) else {
        return Ok(out);
    };
    let unit_col = col("unit").or_else(|| col("unit_of_measurement"));
    let (start_col, epoch) = match col("start_ts") {
        Some(c) => (c, true),
        None => (col("start").unwrap_or(0), false),
    };
    // (statistic, start) -> stored value, per statistic its target.
    let mut values: BTreeMap<(String, i64), (i64, u64)> = BTreeMap::new();
    let mut targets: HashMap<String, Option<(Quantity, u8)>> = HashMap::new();
    let mut open = true;
    while let Some(line) = lines.next_line().map_err(FileError::from_line)? {
        out.bytes += line.bytes;
        if !open || (line.utf8 && line.text.trim().is_empty()) {
            continue;
        }
        let fields = match (line.utf8, line.ended) {
            (false, _) => Err(problem("line", "not text (UTF-8)")),
            (_, false) => Err(problem("line", "the last line is cut short; not imported")),
            _ => table::fields(&line.text, delimiter)
                .filter(|f| f.len() == names.len())
                .ok_or_else(|| problem("line", "its fields do not match the header")),
        };
        let fields = match fields {
            Ok(f) => f,
            Err(e) => {
                out.unreadable += 1;
                open = sink.unreadable(line.number, e);
                continue;
            }
        };
        let id = fields[id_col].trim().to_owned();
        let unit = unit_col.map_or("", |c| fields[c].trim());
        let found = match targets.get(&id) {
            Some(t) => *t,
            None => {
                let t = target(&id, unit);
                if let Err(why) = &t {
                    open =
                        sink.unreadable(line.number, problem(&id, &format!("not imported: {why}")));
                }
                let t = t.ok();
                targets.insert(id.clone(), t);
                t
            }
        };
        let Some((_, places)) = found else {
            out.unreadable += 1;
            continue;
        };
        let state = fields[state_col].trim();
        if state.is_empty() {
            continue;
        }
        let (Some(start), Some(v)) = (
            start_time(&fields[start_col], epoch),
            table::fixed(state, places, false),
        ) else {
            out.unreadable += 1;
            open = sink.unreadable(
                line.number,
                problem(&id, "its start or state is not an exact time or number"),
            );
            continue;
        };
        values.insert((id, start), (v, line.number));
    }
    // The period of each statistic: an hour for `statistics`, five minutes for
    // `statistics_short_term`, told by the closest two starts.
    let mut period: HashMap<&str, i64> = HashMap::new();
    let mut last: Option<(&str, i64)> = None;
    for (id, start) in values.keys() {
        if let Some((prev_id, prev)) = last
            && prev_id == id
        {
            let gap = start - prev;
            let p = period.entry(id).or_insert(gap);
            *p = (*p).min(gap);
        }
        last = Some((id, *start));
    }
    let mut readings: BTreeMap<i64, Reading> = BTreeMap::new();
    for ((id, start), (v, line)) in &values {
        let Some(Some((q, _))) = targets.get(id) else {
            continue;
        };
        let p = match period.get(id.as_str()) {
            Some(p @ (300 | 3600)) => *p,
            // One row, or rows whose spacing is neither: the hour's end cannot be told.
            _ => {
                out.unreadable += 1;
                if open {
                    open = sink.unreadable(
                        *line,
                        problem(id, "its rows are not an hour or five minutes apart"),
                    );
                }
                continue;
            }
        };
        let end = start + p;
        let r = readings.entry(end).or_insert_with(|| {
            let mut r = Reading::new(Protocol::Unknown);
            r.time = Some(MeterTime {
                unix: end,
                offset_s: 0,
            });
            r
        });
        r.set(*q, *v);
    }
    for (_, mut r) in readings {
        for (total, t1, t2) in [
            (
                Quantity::ImportWh,
                Quantity::ImportT1Wh,
                Quantity::ImportT2Wh,
            ),
            (
                Quantity::ExportWh,
                Quantity::ExportT1Wh,
                Quantity::ExportT2Wh,
            ),
        ] {
            if r.get(total).is_none()
                && let (Some(a), Some(b)) = (r.get(t1), r.get(t2))
            {
                r.set(total, a + b);
            }
        }
        if !open || !sink.reading(r) {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unambiguous_statistics_have_a_register() {
        assert_eq!(
            target("sensor.electricity_meter_energy_consumption_tarif_1", "kWh"),
            Ok((Quantity::ImportT1Wh, 3))
        );
        assert_eq!(
            target("sensor.dsmr_reading_electricity_returned_2", "kWh"),
            Ok((Quantity::ExportT2Wh, 3))
        );
        assert_eq!(
            target("sensor.p1_energy_import", "Wh"),
            Ok((Quantity::ImportWh, 0))
        );
        assert_eq!(
            target("sensor.gas_meter_gas_consumption", "m³"),
            Ok((Quantity::GasDm3, 3))
        );
        assert!(target("sensor.energy_today", "kWh").is_err());
        assert!(target("sensor.house_energy", "kWh").is_err());
        assert!(target("sensor.energy_import_export", "kWh").is_err());
        assert!(target("sensor.energy_consumption", "W").is_err());
        assert!(target("sensor.water_meter", "m³").is_err());
    }
}
