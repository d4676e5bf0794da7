//! The canonical record on the outside: JSON Lines objects and CSV rows with design.md §3 names.
//!
//! Numbers are written from the stored integers with exactly [`Quantity::decimals`] places, so
//! `import_kwh` is `1234.567` and never `1234.5670000001`. Absent fields are omitted from JSON and
//! empty in CSV. [`Reading::from_json`] reads back what [`Reading::to_json`] writes (and what
//! `hearth decode` prints), so decoded captures can be imported later.

use crate::reading::{
    DemandPeak, Extras, MeterId, PowerFailure, Protocol, Quantity, Reading, write_fixed,
};
use crate::time::MeterTime;
use std::fmt::Write as _;

/// One column of the canonical record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    /// `time`
    Time,
    /// `meter_id`
    MeterId,
    /// `protocol`
    Protocol,
    /// `dsmr_version`
    DsmrVersion,
    /// A numeric quantity.
    Value(Quantity),
    /// `demand_peak_month_time`
    DemandPeakMonthTime,
    /// `gas_time`
    GasTime,
    /// `water_time`
    WaterTime,
    /// `heat_time`
    HeatTime,
}

const fn build_columns() -> [Column; Quantity::COUNT + 8] {
    let mut out = [Column::Time; Quantity::COUNT + 8];
    out[1] = Column::MeterId;
    out[2] = Column::Protocol;
    out[3] = Column::DsmrVersion;
    let mut i = 4;
    let mut q = 0;
    while q < Quantity::COUNT {
        let quantity = Quantity::ALL[q];
        out[i] = Column::Value(quantity);
        i += 1;
        // Each capture time follows the value it belongs to (§3 order).
        let time = match quantity {
            Quantity::DemandPeakMonthW => Some(Column::DemandPeakMonthTime),
            Quantity::GasDm3 => Some(Column::GasTime),
            Quantity::WaterDm3 => Some(Column::WaterTime),
            Quantity::HeatMj => Some(Column::HeatTime),
            _ => None,
        };
        if let Some(t) = time {
            out[i] = t;
            i += 1;
        }
        q += 1;
    }
    out
}

/// Every column in design.md §3 order.
pub const COLUMNS: [Column; Quantity::COUNT + 8] = build_columns();

impl Column {
    /// The JSON key and CSV header name.
    pub const fn name(self) -> &'static str {
        match self {
            Column::Time => "time",
            Column::MeterId => "meter_id",
            Column::Protocol => "protocol",
            Column::DsmrVersion => "dsmr_version",
            Column::Value(q) => q.name(),
            Column::DemandPeakMonthTime => "demand_peak_month_time",
            Column::GasTime => "gas_time",
            Column::WaterTime => "water_time",
            Column::HeatTime => "heat_time",
        }
    }

    /// The column whose name is `name`.
    pub fn from_name(name: &str) -> Option<Column> {
        COLUMNS.into_iter().find(|c| c.name() == name)
    }
}

/// The header names, in order (for CSV).
pub fn header() -> impl Iterator<Item = &'static str> {
    COLUMNS.into_iter().map(Column::name)
}

/// Why a JSON line could not be read as a reading.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordError {
    /// Not a JSON object at all.
    #[error("not a JSON object: {0}")]
    NotJson(String),
    /// The same key twice in one object: which value is meant cannot be known.
    #[error("the field `{0}` appears twice in one reading; keep one of them")]
    DuplicateKey(String),
    /// A field has the wrong type or an unreadable value.
    #[error("field `{field}`: {problem}")]
    Field {
        /// The JSON key.
        field: String,
        /// What was wrong.
        problem: String,
    },
}

/// A JSON value read with the members of a top-level object kept in order, duplicates
/// included (`serde_json::Value` keeps only the last of two equal keys); `None` for any
/// other value.
struct Members(Option<Vec<(String, serde_json::Value)>>);

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Members, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = m.next_entry::<String, serde_json::Value>()? {
                    out.push(entry);
                }
                Ok(Members(Some(out)))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut s: A,
            ) -> Result<Members, A::Error> {
                while s.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Members(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Members, E> {
                Ok(Members(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Members, E> {
                Ok(Members(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Members, E> {
                Ok(Members(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Members, E> {
                Ok(Members(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Members, E> {
                Ok(Members(None))
            }
            fn visit_unit<E>(self) -> Result<Members, E> {
                Ok(Members(None))
            }
        }
        d.deserialize_any(Visit)
    }
}

/// The text of one column for a reading, if present. Numbers use `.`.
enum Cell<'a> {
    Text(&'a str),
    Time(MeterTime),
    Number(i64, u8),
}

impl Reading {
    fn cell(&self, column: Column) -> Option<Cell<'_>> {
        Some(match column {
            Column::Time => Cell::Time(self.time?),
            Column::MeterId => Cell::Text(self.meter_id.as_ref()?.as_str()),
            Column::Protocol if self.protocol == Protocol::Unknown => return None,
            Column::Protocol => Cell::Text(self.protocol.name()),
            Column::DsmrVersion => Cell::Text(self.dsmr_version.as_deref()?),
            Column::Value(q) => Cell::Number(self.get(q)?, q.decimals()),
            Column::DemandPeakMonthTime => Cell::Time(self.demand_peak_month_time?),
            Column::GasTime => Cell::Time(self.gas_time?),
            Column::WaterTime => Cell::Time(self.water_time?),
            Column::HeatTime => Cell::Time(self.heat_time?),
        })
    }

    /// One JSON object with the present fields in §3 order (no trailing newline).
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(512);
        self.write_json(&mut out);
        out
    }

    /// Appends the JSON object of [`Reading::to_json`] to `out`.
    pub fn write_json(&self, out: &mut String) {
        out.push('{');
        let mut first = true;
        for column in COLUMNS {
            let Some(cell) = self.cell(column) else {
                continue;
            };
            if !first {
                out.push(',');
            }
            first = false;
            out.push('"');
            out.push_str(column.name());
            out.push_str("\":");
            // Writing into a String cannot fail.
            let _ = match cell {
                Cell::Text(s) => {
                    write_json_string(out, s);
                    Ok(())
                }
                Cell::Time(t) => write!(out, "\"{t}\""),
                Cell::Number(v, d) => write_fixed(out, v, d),
            };
        }
        if let Some(x) = &self.extras {
            write_extras(out, x, first);
        }
        out.push('}');
    }

    /// The CSV fields aligned with [`COLUMNS`]; empty where absent. With `decimal_comma`,
    /// numbers use `,` as the decimal separator (for spreadsheets in such locales; the caller
    /// then separates fields with `;`).
    pub fn csv_row(&self, decimal_comma: bool) -> Vec<String> {
        COLUMNS
            .into_iter()
            .map(|column| match self.cell(column) {
                None => String::new(),
                Some(Cell::Text(s)) => s.to_owned(),
                Some(Cell::Time(t)) => t.to_string(),
                Some(Cell::Number(v, d)) => {
                    let mut s = String::new();
                    let _ = write_fixed(&mut s, v, d);
                    if decimal_comma {
                        s = s.replace('.', ",");
                    }
                    s
                }
            })
            .collect()
    }

    /// Reads one JSON object as written by [`Reading::to_json`] (`hearth decode` output).
    /// Unknown keys are ignored so newer files still import.
    pub fn from_json(line: &str) -> Result<Reading, RecordError> {
        let members: Members =
            serde_json::from_str(line).map_err(|e| RecordError::NotJson(e.to_string()))?;
        let Some(members) = members.0 else {
            return Err(RecordError::NotJson("expected an object".into()));
        };
        let mut map = serde_json::Map::with_capacity(members.len());
        for (key, value) in members {
            if map.contains_key(&key) {
                return Err(RecordError::DuplicateKey(crate::quote::cut(&key)));
            }
            map.insert(key, value);
        }
        let field_err = |field: &str, problem: &str| RecordError::Field {
            field: field.to_owned(),
            problem: problem.to_owned(),
        };
        let protocol = match map.get("protocol") {
            // Absent (or null): not recorded, and written back as absent.
            None | Some(serde_json::Value::Null) => Protocol::Unknown,
            Some(v) => v
                .as_str()
                .and_then(Protocol::from_name)
                .filter(|p| *p != Protocol::Unknown)
                .ok_or_else(|| field_err("protocol", "unknown protocol"))?,
        };
        let mut reading = Reading::new(protocol);
        let mut extras = Extras::default();
        for (key, value) in &map {
            let Some(column) = Column::from_name(key) else {
                read_extra(&mut extras, key, value)?;
                continue;
            };
            if value.is_null() {
                continue;
            }
            let text = || {
                value
                    .as_str()
                    .ok_or_else(|| field_err(key, "expected a string"))
            };
            let time = || {
                text().and_then(|s| {
                    MeterTime::parse_rfc3339(s).map_err(|e| field_err(key, &e.to_string()))
                })
            };
            match column {
                Column::Protocol => {}
                Column::Time => reading.time = Some(time()?),
                Column::MeterId => reading.meter_id = Some(MeterId::new(text()?)),
                Column::DsmrVersion => reading.dsmr_version = Some(text()?.to_owned()),
                Column::DemandPeakMonthTime => reading.demand_peak_month_time = Some(time()?),
                Column::GasTime => reading.gas_time = Some(time()?),
                Column::WaterTime => reading.water_time = Some(time()?),
                Column::HeatTime => reading.heat_time = Some(time()?),
                Column::Value(q) => {
                    let stored = json_number_to_stored(value, q.decimals())
                        .ok_or_else(|| field_err(key, "expected a number in range"))?;
                    reading.set(q, stored);
                }
            }
        }
        if !extras.is_empty() {
            reading.extras = Some(Box::new(extras));
        }
        Ok(reading)
    }
}

/// The JSON names of the extra registers, in output order, with their place in [`Extras`].
const EXTRA_REGISTERS: [&str; 8] = [
    "import_kwh_t3",
    "import_kwh_t4",
    "export_kwh_t3",
    "export_kwh_t4",
    "reactive_q1_kvarh",
    "reactive_q2_kvarh",
    "reactive_q3_kvarh",
    "reactive_q4_kvarh",
];

fn extra_register(x: &mut Extras, i: usize) -> &mut Option<i64> {
    match i {
        0 => &mut x.import_t3_wh,
        1 => &mut x.import_t4_wh,
        2 => &mut x.export_t3_wh,
        3 => &mut x.export_t4_wh,
        _ => &mut x.reactive_quadrant_varh[(i - 4) % 4],
    }
}

/// Appends the extras' members (after `first` members, so a comma goes first unless there
/// were none). Registers are kWh / kvarh with three decimals like the §3 registers.
fn write_extras(out: &mut String, x: &Extras, first: bool) {
    let mut first = first;
    let mut key = |out: &mut String, name: &str| {
        if !first {
            out.push(',');
        }
        first = false;
        out.push('"');
        out.push_str(name);
        out.push_str("\":");
    };
    let [q1, q2, q3, q4] = x.reactive_quadrant_varh;
    let registers = [
        x.import_t3_wh,
        x.import_t4_wh,
        x.export_t3_wh,
        x.export_t4_wh,
        q1,
        q2,
        q3,
        q4,
    ];
    for (name, v) in EXTRA_REGISTERS.iter().zip(registers) {
        if let Some(v) = v {
            key(out, name);
            let _ = write_fixed(out, v, 3);
        }
    }
    if !x.power_failure_log.is_empty() {
        key(out, "power_failure_log");
        out.push('[');
        for (i, f) in x.power_failure_log.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                "{{\"end\":\"{}\",\"duration_s\":{}}}",
                f.end, f.duration_s
            );
        }
        out.push(']');
    }
    if !x.demand_peak_history.is_empty() {
        key(out, "demand_peak_history");
        out.push('[');
        for (i, p) in x.demand_peak_history.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('{');
            if let Some(m) = p.month {
                let _ = write!(out, "\"month\":\"{m}\",");
            }
            if let Some(t) = p.time {
                let _ = write!(out, "\"time\":\"{t}\",");
            }
            let _ = write!(out, "\"w\":{}}}", p.w);
        }
        out.push(']');
    }
    if let Some(t) = &x.text_message {
        key(out, "text_message");
        write_json_string(out, t);
    }
    if let Some(t) = &x.text_message_code {
        key(out, "text_message_code");
        write_json_string(out, t);
    }
}

/// Reads one extra member written by [`write_extras`]; other unknown keys are ignored.
fn read_extra(x: &mut Extras, key: &str, value: &serde_json::Value) -> Result<(), RecordError> {
    let err = |problem: &str| RecordError::Field {
        field: key.to_owned(),
        problem: problem.to_owned(),
    };
    let time = |v: Option<&serde_json::Value>| -> Result<Option<MeterTime>, RecordError> {
        match v {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(v) => {
                let s = v.as_str().ok_or_else(|| err("expected a time string"))?;
                MeterTime::parse_rfc3339(s)
                    .map(Some)
                    .map_err(|e| err(&e.to_string()))
            }
        }
    };
    let int = |v: Option<&serde_json::Value>| v.and_then(serde_json::Value::as_i64);
    if value.is_null() {
        return Ok(());
    }
    if let Some(i) = EXTRA_REGISTERS.iter().position(|n| *n == key) {
        let v = json_number_to_stored(value, 3).ok_or_else(|| err("expected a number in range"))?;
        *extra_register(x, i) = Some(v);
        return Ok(());
    }
    match key {
        "power_failure_log" | "demand_peak_history" => {
            let items = value.as_array().ok_or_else(|| err("expected a list"))?;
            for item in items {
                let item = item.as_object().ok_or_else(|| err("expected objects"))?;
                if key == "power_failure_log" {
                    let end = time(item.get("end"))?.ok_or_else(|| err("entry without `end`"))?;
                    let duration_s = int(item.get("duration_s"))
                        .ok_or_else(|| err("entry without `duration_s`"))?;
                    x.power_failure_log.push(PowerFailure { end, duration_s });
                } else {
                    x.demand_peak_history.push(DemandPeak {
                        month: time(item.get("month"))?,
                        time: time(item.get("time"))?,
                        w: int(item.get("w")).ok_or_else(|| err("entry without `w`"))?,
                    });
                }
            }
        }
        "text_message" | "text_message_code" => {
            let t = value
                .as_str()
                .ok_or_else(|| err("expected a string"))?
                .to_owned();
            if key == "text_message" {
                x.text_message = Some(t);
            } else {
                x.text_message_code = Some(t);
            }
        }
        _ => {}
    }
    Ok(())
}

/// Converts a JSON number in the column's unit back to the stored integer.
fn json_number_to_stored(value: &serde_json::Value, decimals: u8) -> Option<i64> {
    let scale = 10i64.pow(u32::from(decimals));
    if let Some(i) = value.as_i64() {
        return i.checked_mul(scale);
    }
    let f = value.as_f64()?;
    let scaled = (f * scale as f64).round();
    // Beyond 2^53 an f64 no longer holds every integer; such readings cannot be exact.
    (scaled.is_finite() && scaled.abs() < 9.007_199_254_740_992e15).then_some(scaled as i64)
}

fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Reading {
        let mut r = Reading::new(Protocol::Dsmr);
        r.time = Some(MeterTime::from_dsmr(b"170102192002W").unwrap());
        r.meter_id = Some(MeterId::new("4B384547303034303436333935353037"));
        r.dsmr_version = Some("50".into());
        r.set(Quantity::Tariff, 2);
        r.set(Quantity::ImportT1Wh, 4_426_613);
        r.set(Quantity::ImportT2Wh, 2_341_506);
        r.set(Quantity::ImportW, 2_744);
        r.set(Quantity::L1Dv, 2_301);
        r.set(Quantity::L1Ma, 12_000);
        r.set(Quantity::GasDm3, 6_513_250);
        r.gas_time = Some(MeterTime::from_dsmr(b"170102161005W").unwrap());
        r.fill_totals();
        r
    }

    #[test]
    fn columns_follow_the_design_order() {
        let names: Vec<_> = header().collect();
        assert_eq!(
            &names[..6],
            &[
                "time",
                "meter_id",
                "protocol",
                "dsmr_version",
                "tariff",
                "import_kwh"
            ]
        );
        let peak = names
            .iter()
            .position(|n| *n == "demand_peak_month_w")
            .unwrap();
        assert_eq!(names[peak + 1], "demand_peak_month_time");
        assert_eq!(
            &names[names.len() - 9..],
            &[
                "gas_m3",
                "gas_time",
                "water_m3",
                "water_time",
                "heat_gj",
                "heat_time",
                "interval_import_kwh",
                "interval_export_kwh",
                "interval_s"
            ]
        );
        assert_eq!(names.len(), 50);
    }

    #[test]
    fn json_has_exact_decimals_and_local_offsets() {
        assert_eq!(
            sample().to_json(),
            concat!(
                r#"{"time":"2017-01-02T19:20:02+01:00","meter_id":"4B384547303034303436333935353037","#,
                r#""protocol":"dsmr","dsmr_version":"50","tariff":2,"import_kwh":6768.119,"#,
                r#""import_kwh_t1":4426.613,"import_kwh_t2":2341.506,"import_w":2744,"l1_v":230.1,"#,
                r#""l1_a":12.000,"gas_m3":6513.250,"gas_time":"2017-01-02T16:10:05+01:00"}"#
            )
        );
    }

    #[test]
    fn json_round_trips() {
        let r = sample();
        assert_eq!(Reading::from_json(&r.to_json()).unwrap(), r);
        let mut neg = Reading::new(Protocol::Sml);
        neg.set(Quantity::ImportW, -512);
        neg.set(Quantity::PowerFactorMilli, -5);
        neg.meter_id = Some(MeterId::new("a\"b\\c\n"));
        assert_eq!(Reading::from_json(&neg.to_json()).unwrap(), neg);
    }

    #[test]
    fn extras_follow_the_record_in_json_and_round_trip() {
        let mut r = sample();
        let x = r.extras_mut();
        x.import_t3_wh = Some(1_500);
        x.reactive_quadrant_varh[2] = Some(-7);
        x.power_failure_log = vec![PowerFailure {
            end: MeterTime::utc(1_291_814_655),
            duration_s: 240,
        }];
        x.demand_peak_history = vec![DemandPeak {
            month: Some(MeterTime::utc(1_588_284_000)),
            time: None,
            w: 3_695,
        }];
        x.text_message = Some("a \"quoted\" line\n".into());
        x.text_message_code = Some(String::new());
        let json = r.to_json();
        assert!(
            json.ends_with(concat!(
                r#""gas_time":"2017-01-02T16:10:05+01:00","import_kwh_t3":1.500,"#,
                r#""reactive_q3_kvarh":-0.007,"#,
                r#""power_failure_log":[{"end":"2010-12-08T13:24:15+00:00","duration_s":240}],"#,
                r#""demand_peak_history":[{"month":"2020-04-30T22:00:00+00:00","w":3695}],"#,
                r#""text_message":"a \"quoted\" line\n","text_message_code":""}"#
            )),
            "{json}"
        );
        let back = Reading::from_json(&json).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.extras, r.extras);
        // CSV is the §3 record alone.
        assert_eq!(r.csv_row(false), sample().csv_row(false));
        // A reading with nothing but extras still writes a valid object.
        let mut only = Reading::new(Protocol::Dsmr);
        only.extras_mut().text_message = Some("x".into());
        assert_eq!(only.to_json(), r#"{"protocol":"dsmr","text_message":"x"}"#);
    }

    #[test]
    fn csv_row_aligns_with_header() {
        let row = sample().csv_row(false);
        assert_eq!(row.len(), COLUMNS.len());
        assert_eq!(row[0], "2017-01-02T19:20:02+01:00");
        assert_eq!(row[5], "6768.119");
        assert_eq!(row[6], "4426.613");
        assert_eq!(row[8], "", "export_kwh is absent");
        let comma = sample().csv_row(true);
        assert_eq!(comma[5], "6768,119");
    }

    #[test]
    fn bad_json_is_an_error() {
        assert!(matches!(
            Reading::from_json("nope"),
            Err(RecordError::NotJson(_))
        ));
        assert!(matches!(
            Reading::from_json("[1]"),
            Err(RecordError::NotJson(_))
        ));
        assert_eq!(
            Reading::from_json(r#"{"import_kwh":"x"}"#),
            Err(RecordError::Field {
                field: "import_kwh".into(),
                problem: "expected a number in range".into()
            })
        );
        assert!(Reading::from_json(r#"{"time":"yesterday"}"#).is_err());
        assert!(Reading::from_json(r#"{"protocol":"morse"}"#).is_err());
        assert!(Reading::from_json(r#"{"import_w":1e300}"#).is_err());
        // Unknown keys are ignored, nulls are absent.
        let r = Reading::from_json(r#"{"future":1,"import_w":null,"export_w":5}"#).unwrap();
        assert_eq!(r.get(Quantity::ImportW), None);
        assert_eq!(r.get(Quantity::ExportW), Some(5));
    }
}
