//! DSMR-reader's data, for people moving from it. Its readings table
//! (`dsmr_datalogger_dsmrreading`, one row per telegram, as PostgreSQL's or MySQL's CSV export
//! of the table writes it, with a header of DsmrReading's field names) becomes readings:
//! the tariff registers, the powers, the phases' powers, voltages and currents, and the gas
//! meter with its own time. Its Export page's CSV (day or hour statistics: consumption per
//! day or hour, costs) is not meter readings and is refused with the reason.

use super::table::{self, Lines};
use super::{FileError, pipeline::Sink};
use hearth_meter::reading::{Protocol, Quantity, Reading};
use hearth_meter::record::RecordError;
use hearth_meter::time::MeterTime;
use std::io::BufRead;

/// What a DSMR-reader file holds, from its header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Export {
    /// Its readings table: imported.
    Readings,
    /// The Export page's day statistics: refused.
    DayStatistics,
    /// The Export page's hour statistics: refused.
    HourStatistics,
}

/// Which DSMR-reader file the header line `header` starts, if one.
pub fn recognise(header: &str) -> Option<Export> {
    let names = table::fields(header, table::delimiter_of(header))?;
    let has = |n: &str| names.iter().any(|x| x.trim() == n);
    if has("timestamp") && has("electricity_delivered_1") && has("electricity_delivered_2") {
        return Some(Export::Readings);
    }
    // The Export page writes the fields' verbose names in title case.
    let first = names.first()?.trim();
    let electricity = names
        .get(1)
        .is_some_and(|n| n.starts_with("Electricity 1 (Low Tariff)"));
    match first {
        "Date" if electricity => Some(Export::DayStatistics),
        "Hour Start" if electricity => Some(Export::HourStatistics),
        _ => None,
    }
}

/// A register, power or phase field of DsmrReading: its quantity and the decimals of the
/// field's unit that make one of the quantity's stored units (kWh with 3 places is Wh, kW
/// with 3 places is W, A with 3 places is mA, V with 1 place is dV, m³ with 3 places is dm³).
const FIELDS: [(&str, Quantity, u8); 19] = [
    ("electricity_delivered_1", Quantity::ImportT1Wh, 3),
    ("electricity_delivered_2", Quantity::ImportT2Wh, 3),
    ("electricity_returned_1", Quantity::ExportT1Wh, 3),
    ("electricity_returned_2", Quantity::ExportT2Wh, 3),
    ("electricity_currently_delivered", Quantity::ImportW, 3),
    ("electricity_currently_returned", Quantity::ExportW, 3),
    ("phase_currently_delivered_l1", Quantity::L1ImportW, 3),
    ("phase_currently_delivered_l2", Quantity::L2ImportW, 3),
    ("phase_currently_delivered_l3", Quantity::L3ImportW, 3),
    ("phase_currently_returned_l1", Quantity::L1ExportW, 3),
    ("phase_currently_returned_l2", Quantity::L2ExportW, 3),
    ("phase_currently_returned_l3", Quantity::L3ExportW, 3),
    ("phase_voltage_l1", Quantity::L1Dv, 1),
    ("phase_voltage_l2", Quantity::L2Dv, 1),
    ("phase_voltage_l3", Quantity::L3Dv, 1),
    ("phase_power_current_l1", Quantity::L1Ma, 3),
    ("phase_power_current_l2", Quantity::L2Ma, 3),
    ("phase_power_current_l3", Quantity::L3Ma, 3),
    ("extra_device_delivered", Quantity::GasDm3, 3),
];

/// What reading the table gave besides its readings.
#[derive(Debug, Default)]
pub(super) struct Read {
    /// Rows that were not readings (each told with its line).
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

/// A database's time: `2021-03-28 01:00:00+00`, `2021-03-28T03:00:00.000000+02:00`,
/// `...Z`: with its offset, whole seconds. A time without an offset is refused (the hour
/// the clocks go back happens twice).
pub(super) fn database_time(text: &str) -> Option<MeterTime> {
    let text = text.trim().replacen(' ', "T", 1);
    let (civil, offset) = if let Some(c) = text.strip_suffix(['Z', 'z']) {
        (c.to_owned(), "+00:00".to_owned())
    } else {
        let at = text.rfind(['+', '-']).filter(|&i| i > 10)?;
        let (c, off) = text.split_at(at);
        let digits: String = off[1..].chars().filter(|c| *c != ':').collect();
        let off = match digits.len() {
            2 => format!("{}{digits}:00", &off[..1]),
            4 => format!("{}{}:{}", &off[..1], &digits[..2], &digits[2..]),
            _ => return None,
        };
        (c.to_owned(), off)
    };
    let civil = match civil.split_once('.') {
        Some((whole, frac)) if frac.bytes().all(|b| b == b'0') => whole.to_owned(),
        Some(_) => return None,
        None => civil,
    };
    MeterTime::parse_rfc3339(&format!("{civil}{offset}")).ok()
}

/// Reads the readings table's rows into `sink`.
pub(super) fn read(file: impl BufRead, sink: &mut Sink) -> Result<Read, FileError> {
    let mut out = Read::default();
    let mut lines = Lines::new(file);
    let Some((delimiter, names)) =
        table::header(&mut lines, &mut out.bytes).map_err(FileError::from_line)?
    else {
        return Ok(out);
    };
    while let Some(line) = lines.next_line().map_err(FileError::from_line)? {
        out.bytes += line.bytes;
        if line.utf8 && line.text.trim().is_empty() {
            continue;
        }
        let open = match row(&line, &names, delimiter) {
            Ok(r) => sink.reading(r),
            Err(e) => {
                out.unreadable += 1;
                sink.unreadable(line.number, e)
            }
        };
        if !open {
            break;
        }
    }
    Ok(out)
}

fn row(line: &table::Line, names: &[String], delimiter: char) -> Result<Reading, RecordError> {
    if !line.utf8 {
        return Err(problem("line", "not text (UTF-8)"));
    }
    if !line.ended {
        return Err(problem(
            "line",
            "the last line is cut short (no line end); not imported",
        ));
    }
    let fields = table::fields(&line.text, delimiter)
        .ok_or_else(|| problem("line", "a quote is left open"))?;
    if fields.len() != names.len() {
        return Err(problem(
            "line",
            &format!(
                "{} fields where the header has {}",
                fields.len(),
                names.len()
            ),
        ));
    }
    let mut r = Reading::new(Protocol::Dsmr);
    for (name, cell) in names.iter().zip(&fields) {
        let cell = cell.trim();
        // PostgreSQL writes NULL as an empty field, MySQL as \N.
        if cell.is_empty() || cell == "\\N" || cell.eq_ignore_ascii_case("null") {
            continue;
        }
        match name.as_str() {
            "timestamp" => {
                r.time = Some(database_time(cell).ok_or_else(|| {
                    problem(name, "expected a time with its offset, whole seconds")
                })?);
            }
            "extra_device_timestamp" => {
                r.gas_time = Some(database_time(cell).ok_or_else(|| {
                    problem(name, "expected a time with its offset, whole seconds")
                })?);
            }
            _ => {
                if let Some((_, q, places)) = FIELDS.iter().find(|(n, _, _)| n == name) {
                    let v = table::fixed(cell, *places, false).ok_or_else(|| {
                        problem(
                            name,
                            &format!("expected a number with at most {places} decimals"),
                        )
                    })?;
                    r.set(*q, v);
                }
            }
        }
    }
    if r.time.is_none() {
        return Err(problem("timestamp", "missing"));
    }
    // A DSMR meter has no total register: the total is the tariffs' sum, as Hearth's own
    // DSMR decoder gives it.
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
        if let (Some(a), Some(b)) = (r.get(t1), r.get(t2)) {
            r.set(total, a + b);
        }
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_times_keep_their_offset_and_refuse_none() {
        let t = database_time("2021-03-28 01:00:00+00").unwrap();
        assert_eq!((t.unix, t.offset_s), (1_616_893_200, 0));
        let t = database_time("2021-03-28T03:00:00.000000+02:00").unwrap();
        assert_eq!((t.unix, t.offset_s), (1_616_893_200, 7200));
        let t = database_time("2021-10-31 02:30:00+0100").unwrap();
        assert_eq!(t.offset_s, 3600);
        assert_eq!(database_time("2021-03-28 01:00:00"), None);
        assert_eq!(database_time("2021-03-28 01:00:00.5+00"), None);
    }
}
