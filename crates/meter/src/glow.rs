//! Hildebrand Glow consumer access device: MQTT JSON payloads (SENSOR/electricitymeter, gasmeter) into readings.
//!
//! UK smart meters (SMETS1/SMETS2) have no wired consumer port; their data reaches the home
//! over the meter's Zigbee network. A Glow IHD, CAD or Glow Stick paired with the meter can
//! publish it to an MQTT broker the user runs, on two topics:
//!
//! - `glow/<device>/SENSOR/electricitymeter`:
//!   `{"electricitymeter":{"timestamp":"2022-12-26T14:02:28Z","energy":{"export":{"cumulative":0.000,
//!   "units":"kWh"},"import":{"cumulative":5071.527,"day":14.652,"week":…,"month":…,"units":"kWh",
//!   "mpan":"…","supplier":"SSE","price":{"unitrate":0.37880,"standingcharge":0.44580}}},
//!   "power":{"value":0.902,"units":"kW"}}}`
//! - `glow/<device>/SENSOR/gasmeter`: the same shape under `gasmeter`, plus the volume register
//!   `cumulativevol` with `cumulativevolunits` (`m3`, or `ft3` on imperial meters) and `mprn`.
//!
//! (`glow/<device>/STATE` carries the device's firmware and radio state: not a reading, ignored.)
//!
//! [`GlowDecoder`] turns one payload into one [`Reading`] with [`Protocol::Glow`]: the import
//! and export registers (kWh → Wh, exactly from the decimal text), power (kW → W; a negative
//! value is export), the gas volume (m³ → dm³), the payload's UTC timestamp shown in UK time,
//! and the MPAN or MPRN as the meter id (personal data: it is never logged). The supplier's
//! unit rate and standing charge come out alongside, in [`GlowMessage::price`].
//!
//! Bad payloads (not JSON, no register, a negative or absurd register) are counted rejections
//! with [`RejectReason::Payload`], never a panic. As a [`Decoder`] it reads one payload per line,
//! optionally preceded by its topic and a space as `mosquitto_sub -v` prints them, which is
//! what `hearth decode --protocol glow FILE` feeds it.
//!
//! Other MQTT bridges (Tasmota, ESPHome, Wi-Fi P1 dongles) publish other shapes; the generic
//! mapping in [`crate::mqtt`] reads them ([`Mapping`], [`MqttMapping`], [`MappedDecoder`]). Those
//! names and the MQTT helpers this decoder shares with them are re-exported here, so
//! `hearth_meter::glow::…` paths keep working.
//!
//! ```
//! use hearth_meter::{Decoder, Quantity, glow::GlowDecoder};
//! let mut d = GlowDecoder::new();
//! d.push(br#"{"electricitymeter":{"timestamp":"2022-12-26T14:02:28Z","energy":{"import":{"cumulative":5071.527,"units":"kWh"}},"power":{"value":0.902,"units":"kW"}}}"#);
//! d.push(b"\n");
//! let reading = d.next().unwrap().unwrap().reading;
//! assert_eq!(reading.get(Quantity::ImportWh), Some(5_071_527));
//! assert_eq!(reading.get(Quantity::ImportW), Some(902));
//! ```

pub use crate::mqtt::{
    MAX_LINE, MAX_REGISTER_KWH, MappedDecoder, Mapping, MqttMapping, ValueProblem, json_to_scaled,
    topic_matches, unit_shift,
};

use crate::decoder::{Decoded, Decoder, Diagnostic, RejectReason, Rejection, Stats};
use crate::mqtt::{Line, Lines, payload_reject, split_topic};
use crate::quote::{cut, quoted};
use crate::reading::{MeterId, Protocol, Quantity, Reading};
use crate::supplier::london;
use crate::time::MeterTime;
use jiff::tz::TimeZone;
use serde_json::Value;

/// The topic filter that catches both Glow meter topics of every device.
pub const TOPIC_FILTER: &str = "glow/+/SENSOR/+";

/// The largest power accepted, in W (10 MW): far above any home, far below a broken value.
pub const MAX_POWER_W: i64 = 10_000_000;

/// Which meter a Glow payload describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GlowMeter {
    /// `electricitymeter`: import/export registers in kWh, power in kW.
    Electricity,
    /// `gasmeter`: the volume register in m³ (or ft³).
    Gas,
}

/// The supplier's prices as programmed into the meter, in millionths of the supplier's
/// currency (GBP for every Glow device): `unit_rate_micro` per kWh, `standing_charge_micro`
/// per day. `0.37880` GBP/kWh is `378_800`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct GlowPrice {
    /// Price per kWh, millionths of the currency.
    pub unit_rate_micro: i64,
    /// Standing charge per day, millionths of the currency.
    pub standing_charge_micro: i64,
}

/// One Glow payload, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlowMessage {
    /// Which meter it describes.
    pub meter: GlowMeter,
    /// The canonical reading and what could not be read.
    pub decoded: Decoded,
    /// The supplier's name as the meter knows it (`"---"` and empty are dropped).
    pub supplier: Option<String>,
    /// Unit rate and standing charge, when both were present and sensible.
    pub price: Option<GlowPrice>,
}

/// Reads one Glow payload. `Ok(None)` is a payload that carries no meter data (the device's
/// `STATE` message); the caller ignores it. `tz` is the zone readings are shown in (UK time).
pub fn parse_payload(payload: &[u8], tz: &TimeZone) -> Result<Option<GlowMessage>, Rejection> {
    let value: Value = serde_json::from_slice(payload)
        .map_err(|e| payload_reject(format!("not a JSON payload ({e})")))?;
    let Value::Object(top) = &value else {
        return Err(payload_reject("the payload is not a JSON object"));
    };
    let (meter, body) = if let Some(b) = top.get("electricitymeter") {
        (GlowMeter::Electricity, b)
    } else if let Some(b) = top.get("gasmeter") {
        (GlowMeter::Gas, b)
    } else if top.contains_key("han") || top.contains_key("software") {
        return Ok(None);
    } else {
        return Err(payload_reject(
            "neither \"electricitymeter\" nor \"gasmeter\" in the payload",
        ));
    };
    if !body.is_object() {
        return Err(payload_reject(format!(
            "\"{}\" is not a JSON object",
            meter_key(meter)
        )));
    }
    let mut out = Parsed {
        reading: Reading::new(Protocol::Glow),
        diagnostics: Vec::new(),
    };
    let time = out.timestamp(body, tz);
    out.reading.time = time;
    let import = body.pointer("/energy/import");
    let supplier = import
        .and_then(|i| i.get("supplier"))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty() && !s.chars().all(|c| matches!(c, '-' | '—' | '–')))
        .map(str::to_owned);
    let price = import.and_then(|i| out.price(i));
    match meter {
        GlowMeter::Electricity => out.electricity(body)?,
        GlowMeter::Gas => {
            out.gas(body)?;
            out.reading.gas_time = time;
        }
    }
    Ok(Some(GlowMessage {
        meter,
        decoded: Decoded {
            reading: out.reading,
            diagnostics: out.diagnostics,
        },
        supplier,
        price,
    }))
}

fn meter_key(meter: GlowMeter) -> &'static str {
    match meter {
        GlowMeter::Electricity => "electricitymeter",
        GlowMeter::Gas => "gasmeter",
    }
}

/// The power of ten from an energy unit to Wh, if the unit is one.
fn energy_shift(unit: &str) -> Option<i32> {
    match unit.trim().to_ascii_lowercase().as_str() {
        "wh" => Some(0),
        "kwh" | "" => Some(3),
        "mwh" => Some(6),
        _ => None,
    }
}

/// The power of ten from a power unit to W, if the unit is one.
fn power_shift(unit: &str) -> Option<i32> {
    match unit.trim().to_ascii_lowercase().as_str() {
        "w" => Some(0),
        "kw" | "" => Some(3),
        "mw" => Some(6),
        _ => None,
    }
}

struct Parsed {
    reading: Reading,
    diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    fn note(&mut self, code: &str, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic {
            line: 1,
            code: code.to_owned(),
            message: message.into(),
        });
    }

    fn timestamp(&mut self, body: &Value, tz: &TimeZone) -> Option<MeterTime> {
        match body.get("timestamp") {
            None => {
                self.note("timestamp", "missing; the receive time will be used");
                None
            }
            Some(Value::String(s)) => match MeterTime::parse_rfc3339(s) {
                Ok(t) => Some(MeterTime::in_zone(t.unix, tz)),
                Err(e) => {
                    self.note("timestamp", format!("{}: {e}", quoted(s)));
                    None
                }
            },
            Some(_) => {
                self.note("timestamp", "not a string");
                None
            }
        }
    }

    fn price(&mut self, import: &Value) -> Option<GlowPrice> {
        let price = import.get("price")?;
        let mut read = |key: &str| -> Option<i64> {
            let v = price.get(key)?;
            match json_to_scaled(v, 6) {
                // A unit rate above 100 per kWh or a negative standing charge is no tariff.
                Ok(x) if (0..=100_000_000).contains(&x) => Some(x),
                Ok(_) | Err(_) => {
                    self.note(
                        &format!("price.{key}"),
                        format!("{v} is not a plausible price; ignored"),
                    );
                    None
                }
            }
        };
        let unit_rate_micro = read("unitrate")?;
        let standing_charge_micro = read("standingcharge")?;
        Some(GlowPrice {
            unit_rate_micro,
            standing_charge_micro,
        })
    }

    /// A register in kWh under `obj[key]` with `obj["units"]`, as Wh; `Ok(None)` when absent.
    fn energy_register(
        &mut self,
        obj: Option<&Value>,
        path: &str,
        key: &str,
    ) -> Result<Option<i64>, Rejection> {
        let Some(obj) = obj else { return Ok(None) };
        let Some(v) = obj.get(key) else {
            return Ok(None);
        };
        let unit = obj.get("units").and_then(Value::as_str).unwrap_or("kWh");
        let Some(shift) = energy_shift(unit) else {
            return Err(payload_reject(format!(
                "{path}.{key}: unknown energy unit {}",
                quoted(unit)
            )));
        };
        let wh = json_to_scaled(v, shift).map_err(|p| bad_value(path, key, v, p))?;
        check_register(wh, 1_000, &format!("{path}.{key}"), v)?;
        Ok(Some(wh))
    }

    fn electricity(&mut self, body: &Value) -> Result<(), Rejection> {
        let import = body.pointer("/energy/import");
        let export = body.pointer("/energy/export");
        let Some(import_wh) = self.energy_register(import, "energy.import", "cumulative")? else {
            return Err(payload_reject(
                "electricitymeter has no import register (energy.import.cumulative)",
            ));
        };
        self.reading.set(Quantity::ImportWh, import_wh);
        // Glow firmware has been seen spelling it "cummulative".
        let export_wh = match self.energy_register(export, "energy.export", "cumulative")? {
            Some(x) => Some(x),
            None => self.energy_register(export, "energy.export", "cummulative")?,
        };
        if let Some(wh) = export_wh {
            self.reading.set(Quantity::ExportWh, wh);
        }
        if let Some(power) = body.get("power") {
            let unit = power.get("units").and_then(Value::as_str).unwrap_or("kW");
            match (power.get("value"), power_shift(unit)) {
                (None, _) => self.note("power.value", "missing"),
                (Some(_), None) => {
                    self.note("power.units", format!("unknown unit {}", quoted(unit)))
                }
                (Some(v), Some(shift)) => {
                    let w =
                        json_to_scaled(v, shift).map_err(|p| bad_value("power", "value", v, p))?;
                    if w.abs() > MAX_POWER_W {
                        return Err(payload_reject(format!(
                            "power.value {v} {unit} is not a household's power"
                        )));
                    }
                    if w >= 0 {
                        self.reading.set(Quantity::ImportW, w);
                    } else {
                        self.reading.set(Quantity::ImportW, 0);
                        self.reading.set(Quantity::ExportW, -w);
                    }
                }
            }
        }
        self.meter_id(import, "mpan");
        Ok(())
    }

    fn gas(&mut self, body: &Value) -> Result<(), Rejection> {
        let import = body.pointer("/energy/import");
        let Some(vol) = import.and_then(|i| i.get("cumulativevol")) else {
            return Err(payload_reject(
                "gasmeter has no volume register (energy.import.cumulativevol); \
                 newer Glow firmware sends it",
            ));
        };
        let unit = import
            .and_then(|i| i.get("cumulativevolunits"))
            .and_then(Value::as_str)
            .unwrap_or("m3");
        let dm3 = match unit.trim().to_ascii_lowercase().as_str() {
            "m3" | "m³" | "" => json_to_scaled(vol, 3),
            "dm3" | "l" => json_to_scaled(vol, 0),
            // 1 ft³ = 28.316846592 dm³ exactly; read ft³ to a thousandth, then convert.
            "ft3" | "ft³" => json_to_scaled(vol, 3).and_then(|milli_ft3| {
                let num = i128::from(milli_ft3) * 28_316_846_592;
                let den = 1_000_000_000_000i128;
                let q = (num.abs() + den / 2) / den;
                i64::try_from(q * num.signum()).map_err(|_| ValueProblem::OutOfRange)
            }),
            _ => {
                return Err(payload_reject(format!(
                    "energy.import.cumulativevolunits: unknown volume unit {}",
                    quoted(unit)
                )));
            }
        }
        .map_err(|p| bad_value("energy.import", "cumulativevol", vol, p))?;
        check_register(dm3, 1_000, "energy.import.cumulativevol", vol)?;
        self.reading.set(Quantity::GasDm3, dm3);
        self.meter_id(import, "mprn");
        Ok(())
    }

    fn meter_id(&mut self, import: Option<&Value>, key: &str) {
        let id = import
            .and_then(|i| i.get(key))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| plausible_id(s));
        if let Some(id) = id {
            self.reading.meter_id = Some(MeterId::new(id));
        }
    }
}

/// MPANs are 13 digits and MPRNs 6 to 10; devices send `EMPTY`, `---` or a masked value when
/// they do not know it. Anything without a digit is not an id.
fn plausible_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 32 && s.chars().any(|c| c.is_ascii_digit())
}

fn bad_value(path: &str, key: &str, v: &Value, p: ValueProblem) -> Rejection {
    let what = match p {
        ValueProblem::NotANumber => "is not a number",
        ValueProblem::OutOfRange => "is out of range",
    };
    payload_reject(format!("{path}.{key} {} {what}", cut(&v.to_string())))
}

fn check_register(stored: i64, per_unit: i64, field: &str, v: &Value) -> Result<(), Rejection> {
    if stored < 0 {
        return Err(payload_reject(format!(
            "{field} is negative ({}); a register never is",
            cut(&v.to_string())
        )));
    }
    if stored > MAX_REGISTER_KWH.saturating_mul(per_unit) {
        return Err(payload_reject(format!(
            "{field} {v} is absurd (above {MAX_REGISTER_KWH})"
        )));
    }
    Ok(())
}

/// The streaming Glow decoder: one payload per line (optionally `TOPIC PAYLOAD`), or one
/// MQTT message at a time through [`GlowDecoder::decode_message`].
#[derive(Debug, Clone)]
pub struct GlowDecoder {
    lines: Lines,
    tz: TimeZone,
    stats: Stats,
    electricity_price: Option<GlowPrice>,
    gas_price: Option<GlowPrice>,
}

impl Default for GlowDecoder {
    fn default() -> Self {
        GlowDecoder::new()
    }
}

impl GlowDecoder {
    /// A decoder showing times in UK time (Europe/London).
    pub fn new() -> Self {
        GlowDecoder::with_time_zone(london())
    }

    /// A decoder showing times in another zone.
    pub fn with_time_zone(tz: TimeZone) -> Self {
        GlowDecoder {
            lines: Lines::default(),
            tz,
            stats: Stats::default(),
            electricity_price: None,
            gas_price: None,
        }
    }

    /// Decodes one MQTT message. `None` for a topic or payload that carries no meter data
    /// (the device's `STATE`, another device's topic); otherwise a reading or a counted
    /// rejection. With `topic` given, only `glow/<device>/SENSOR/<meter>` is read.
    pub fn decode_message(
        &mut self,
        topic: Option<&str>,
        payload: &[u8],
    ) -> Option<Result<Decoded, Rejection>> {
        if let Some(topic) = topic
            && !topic_matches(TOPIC_FILTER, topic)
        {
            return None;
        }
        match parse_payload(payload, &self.tz) {
            Ok(None) => None,
            Ok(Some(m)) => {
                match m.meter {
                    GlowMeter::Electricity => {
                        self.electricity_price = m.price.or(self.electricity_price)
                    }
                    GlowMeter::Gas => self.gas_price = m.price.or(self.gas_price),
                }
                self.stats.accepted += 1;
                Some(Ok(m.decoded))
            }
            Err(r) => {
                self.stats.count_rejection(r.reason);
                Some(Err(r))
            }
        }
    }

    /// The latest unit rate and standing charge seen for a meter.
    pub fn price(&self, meter: GlowMeter) -> Option<GlowPrice> {
        match meter {
            GlowMeter::Electricity => self.electricity_price,
            GlowMeter::Gas => self.gas_price,
        }
    }

    /// Decodes a last line that ended without a newline (end of a file).
    pub fn finish(&mut self) -> Option<Result<Decoded, Rejection>> {
        let line = self.lines.finish()?;
        self.line(line)
    }

    fn line(&mut self, line: Line) -> Option<Result<Decoded, Rejection>> {
        match line {
            Line::Oversized(n) => {
                let r = Rejection {
                    reason: RejectReason::Oversized,
                    detail: format!(
                        "a line of {n} bytes is longer than any MQTT payload read here ({MAX_LINE})"
                    ),
                };
                self.stats.count_rejection(r.reason);
                Some(Err(r))
            }
            Line::Complete(bytes) => {
                let (topic, payload) = split_topic(&bytes);
                if payload.is_empty() || payload.first() == Some(&b'#') {
                    self.stats.skipped_bytes += bytes.len() as u64 + 1;
                    return None;
                }
                let out = self.decode_message(topic, payload);
                if out.is_none() {
                    self.stats.skipped_bytes += bytes.len() as u64 + 1;
                }
                out
            }
        }
    }
}

impl Decoder for GlowDecoder {
    fn push(&mut self, bytes: &[u8]) {
        self.lines.push(bytes);
    }

    fn next(&mut self) -> Option<Result<Decoded, Rejection>> {
        loop {
            let line = self.lines.next(true)?;
            if let Some(out) = self.line(line) {
                return Some(out);
            }
        }
    }

    fn stats(&self) -> &Stats {
        &self.stats
    }
}
