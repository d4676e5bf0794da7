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
//! Other MQTT bridges (Tasmota, ESPHome, Wi-Fi P1 dongles) publish other shapes; [`Mapping`]
//! says where each canonical field lives (topic filter + JSON pointer + unit), [`MqttMapping`]
//! has presets for the common ones, and [`MappedDecoder`] applies them.
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

use crate::decoder::{Decoded, Decoder, Diagnostic, RejectReason, Rejection, Stats};
use crate::reading::{MeterId, Protocol, Quantity, Reading};
use crate::supplier::{decimal_to_scaled, london};
use crate::time::MeterTime;
use jiff::tz::TimeZone;
use serde_json::Value;

/// The topic filter that catches both Glow meter topics of every device.
pub const TOPIC_FILTER: &str = "glow/+/SENSOR/+";

/// The longest payload line accepted, in bytes. A Glow payload is about 600 bytes.
pub const MAX_LINE: usize = 64 * 1024;

/// The largest register accepted, in kWh (and m³ for gas): 10⁹. Anything above is a broken
/// payload, not a household.
pub const MAX_REGISTER_KWH: i64 = 1_000_000_000;

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

fn payload_reject(detail: impl Into<String>) -> Rejection {
    Rejection {
        reason: RejectReason::Payload,
        detail: detail.into(),
    }
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

/// Why a JSON value could not become a stored integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueProblem {
    /// Not a number, nor a string holding one.
    NotANumber,
    /// A number too large for the stored integer.
    OutOfRange,
}

/// A JSON number (or a string holding a decimal number) times 10^`shift`, rounded half away
/// from zero, exactly: `5071.527` with shift 3 is `5_071_527`. JSON numbers are read through
/// the shortest decimal that gives back the same `f64`, which is the text the device sent for
/// every number of up to 15 significant digits.
pub fn json_to_scaled(value: &Value, shift: i32) -> Result<i64, ValueProblem> {
    let text;
    let s = match value {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                text = i.to_string();
            } else if let Some(u) = n.as_u64() {
                text = u.to_string();
            } else {
                let f = n.as_f64().ok_or(ValueProblem::NotANumber)?;
                if !f.is_finite() {
                    return Err(ValueProblem::OutOfRange);
                }
                if f.abs() >= 1e30 {
                    return Err(ValueProblem::OutOfRange);
                }
                text = format!("{f}");
            }
            text.as_str()
        }
        Value::String(s) => s.as_str(),
        _ => return Err(ValueProblem::NotANumber),
    };
    let s = s.trim();
    if s.is_empty() {
        return Err(ValueProblem::NotANumber);
    }
    decimal_to_scaled(s, shift).ok_or_else(|| {
        if crate::supplier::looks_numeric(s) {
            ValueProblem::OutOfRange
        } else {
            ValueProblem::NotANumber
        }
    })
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
                    self.note("timestamp", format!("\"{s}\": {e}"));
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
                "{path}.{key}: unknown energy unit \"{unit}\""
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
                (Some(_), None) => self.note("power.units", format!("unknown unit \"{unit}\"")),
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
                    "energy.import.cumulativevolunits: unknown volume unit \"{unit}\""
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
    payload_reject(format!("{path}.{key} {v} {what}"))
}

fn check_register(stored: i64, per_unit: i64, field: &str, v: &Value) -> Result<(), Rejection> {
    if stored < 0 {
        return Err(payload_reject(format!(
            "{field} is negative ({v}); a register never is"
        )));
    }
    if stored > MAX_REGISTER_KWH.saturating_mul(per_unit) {
        return Err(payload_reject(format!(
            "{field} {v} is absurd (above {MAX_REGISTER_KWH})"
        )));
    }
    Ok(())
}

/// Whether an MQTT topic matches a filter with `+` (one level) and `#` (the rest) wildcards.
pub fn topic_matches(filter: &str, topic: &str) -> bool {
    let mut f = filter.split('/');
    let mut t = topic.split('/');
    loop {
        match (f.next(), t.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// Splits `TOPIC PAYLOAD` (as `mosquitto_sub -v` prints) from a bare JSON payload.
fn split_topic(line: &[u8]) -> (Option<&str>, &[u8]) {
    let trimmed = trim_ascii(line);
    match trimmed.first() {
        Some(b'{') | Some(b'[') | None => (None, trimmed),
        Some(_) => match trimmed.iter().position(|b| *b == b' ' || *b == b'\t') {
            Some(i) => match std::str::from_utf8(&trimmed[..i]) {
                Ok(topic) if topic.contains('/') => (Some(topic), trim_ascii(&trimmed[i + 1..])),
                _ => (None, trimmed),
            },
            None => (None, trimmed),
        },
    }
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &b[start..end.max(start)]
}

/// Splits a byte stream into lines of at most [`MAX_LINE`] bytes. A longer line is reported
/// once and discarded up to its newline, so garbage cannot grow the buffer.
#[derive(Debug, Clone, Default)]
struct Lines {
    buf: Vec<u8>,
    start: usize,
    discarding: bool,
    scanned: usize,
}

enum Line {
    Complete(Vec<u8>),
    Oversized(usize),
}

impl Lines {
    fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
            self.scanned = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete line. `object_end` lets a final line without a newline through when
    /// it already holds one complete JSON object.
    fn next(&mut self, object_end: bool) -> Option<Line> {
        loop {
            let pending = &self.buf[self.start..];
            if let Some(i) = pending[self.scanned.min(pending.len())..]
                .iter()
                .position(|b| *b == b'\n')
            {
                let end = self.scanned + i;
                let line = pending[..end].to_vec();
                self.start += end + 1;
                self.scanned = 0;
                self.compact();
                if self.discarding {
                    self.discarding = false;
                    continue;
                }
                if line.len() > MAX_LINE {
                    return Some(Line::Oversized(line.len()));
                }
                return Some(Line::Complete(line));
            }
            self.scanned = pending.len();
            if self.discarding {
                self.start = self.buf.len();
                self.scanned = 0;
                self.compact();
                return None;
            }
            if pending.len() > MAX_LINE {
                let n = pending.len();
                self.discarding = true;
                self.start = self.buf.len();
                self.scanned = 0;
                self.compact();
                return Some(Line::Oversized(n));
            }
            if object_end && trim_ascii(pending).last() == Some(&b'}') {
                let (_, payload) = split_topic(pending);
                if serde_json::from_slice::<Value>(payload).is_ok() {
                    let line = pending.to_vec();
                    self.start = self.buf.len();
                    self.scanned = 0;
                    self.compact();
                    return Some(Line::Complete(line));
                }
            }
            return None;
        }
    }

    /// The unterminated rest, for the end of a file.
    fn finish(&mut self) -> Option<Line> {
        let pending = &self.buf[self.start..];
        let out = if self.discarding || trim_ascii(pending).is_empty() {
            None
        } else if pending.len() > MAX_LINE {
            Some(Line::Oversized(pending.len()))
        } else {
            Some(Line::Complete(pending.to_vec()))
        };
        self.buf.clear();
        self.start = 0;
        self.scanned = 0;
        self.discarding = false;
        out
    }

    fn compact(&mut self) {
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start > 4096 && self.start * 2 > self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
    }
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

/// Where one canonical field lives in another bridge's MQTT messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// The canonical field it fills.
    pub quantity: Quantity,
    /// MQTT topic filter (`+` and `#` wildcards allowed).
    pub topic: String,
    /// RFC 6901 JSON pointer into the payload (`/SML/Total_in`); empty for a payload that is
    /// the bare number (ESPHome's `…/state` topics).
    pub pointer: String,
    /// Power of ten from the payload's unit to the stored integer (`kWh` into `import_kwh`,
    /// stored in Wh: 3). See [`unit_shift`].
    pub shift: i32,
    /// The value is net power or energy flow: positive fills `quantity`, negative fills its
    /// export counterpart (`import_w` → `export_w`) with the magnitude.
    pub net: bool,
}

impl Mapping {
    /// A mapping from a unit name (`kWh`, `W`, `kW`, `V`, `A`, `m3`, …); `None` when the
    /// unit does not measure that quantity.
    pub fn new(quantity: Quantity, topic: &str, pointer: &str, unit: &str) -> Option<Mapping> {
        Some(Mapping {
            quantity,
            topic: topic.to_owned(),
            pointer: pointer.to_owned(),
            shift: unit_shift(quantity, unit)?,
            net: false,
        })
    }

    /// The same mapping, reading a signed net value (see [`Mapping::net`]).
    pub fn net(mut self) -> Mapping {
        self.net = true;
        self
    }
}

/// The power of ten that turns a value in `unit` into `quantity`'s stored integer, or `None`
/// if the unit does not fit the quantity.
pub fn unit_shift(quantity: Quantity, unit: &str) -> Option<i32> {
    use Quantity as Q;
    let u = unit.trim().to_ascii_lowercase();
    let u = u.as_str();
    match quantity {
        Q::ImportWh
        | Q::ImportT1Wh
        | Q::ImportT2Wh
        | Q::ExportWh
        | Q::ExportT1Wh
        | Q::ExportT2Wh => match u {
            "wh" => Some(0),
            "kwh" => Some(3),
            "mwh" => Some(6),
            _ => None,
        },
        Q::ImportW
        | Q::ExportW
        | Q::L1ImportW
        | Q::L2ImportW
        | Q::L3ImportW
        | Q::L1ExportW
        | Q::L2ExportW
        | Q::L3ExportW
        | Q::DemandCurrentW
        | Q::DemandPeakMonthW => match u {
            "w" => Some(0),
            "kw" => Some(3),
            _ => None,
        },
        Q::L1Dv | Q::L2Dv | Q::L3Dv => (u == "v").then_some(1),
        Q::L1Ma | Q::L2Ma | Q::L3Ma => match u {
            "a" => Some(3),
            "ma" => Some(0),
            _ => None,
        },
        Q::ReactiveImportVarh | Q::ReactiveExportVarh => match u {
            "varh" => Some(0),
            "kvarh" => Some(3),
            _ => None,
        },
        Q::ReactiveImportVar | Q::ReactiveExportVar => match u {
            "var" => Some(0),
            "kvar" => Some(3),
            _ => None,
        },
        Q::PowerFactorMilli => match u {
            "" | "pf" => Some(3),
            "%" => Some(1),
            _ => None,
        },
        Q::GasDm3 | Q::WaterDm3 => match u {
            "m3" | "m³" => Some(3),
            "l" | "dm3" => Some(0),
            _ => None,
        },
        Q::HeatMj => match u {
            "gj" => Some(3),
            "mj" => Some(0),
            _ => None,
        },
        Q::Tariff
        | Q::PowerFailures
        | Q::LongPowerFailures
        | Q::VoltageSagsL1
        | Q::VoltageSagsL2
        | Q::VoltageSagsL3
        | Q::VoltageSwellsL1
        | Q::VoltageSwellsL2
        | Q::VoltageSwellsL3 => (u.is_empty() || u == "count").then_some(0),
    }
}

fn export_counterpart(q: Quantity) -> Option<Quantity> {
    use Quantity as Q;
    Some(match q {
        Q::ImportW => Q::ExportW,
        Q::L1ImportW => Q::L1ExportW,
        Q::L2ImportW => Q::L2ExportW,
        Q::L3ImportW => Q::L3ExportW,
        Q::ImportWh => Q::ExportWh,
        Q::ReactiveImportVar => Q::ReactiveExportVar,
        _ => return None,
    })
}

/// A set of [`Mapping`]s for one bridge, plus where its meter id lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MqttMapping {
    /// Shown to the user (`"Tasmota SML"`).
    pub name: String,
    /// The protocol the bridge decoded (readings are marked with it).
    pub protocol: Protocol,
    /// The fields.
    pub fields: Vec<Mapping>,
    /// Topic filter and JSON pointer of the meter id, if the bridge sends one.
    pub meter_id: Option<(String, String)>,
}

impl MqttMapping {
    /// The topic filters to subscribe to (deduplicated, in first-use order).
    pub fn topics(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let all = self
            .fields
            .iter()
            .map(|m| &m.topic)
            .chain(self.meter_id.as_ref().map(|(t, _)| t));
        for t in all {
            if !out.contains(t) {
                out.push(t.clone());
            }
        }
        out
    }

    /// Tasmota's Smart Meter Interface reading an SML meter, with the JSON names evcc and most
    /// guides use: `tele/<device>/SENSOR` → `{"SML":{"Total_in":kWh,"Total_out":kWh,
    /// "Power_curr":W (negative = export),"power_l1..3":W,"voltage_l1..3":V,"current_l1..3":A,
    /// "Meter_Id":…}}`.
    pub fn tasmota_sml() -> MqttMapping {
        let t = "tele/+/SENSOR";
        let m = |q, p: &str, u: &str| Mapping::new(q, t, p, u);
        let fields = [
            m(Quantity::ImportWh, "/SML/Total_in", "kWh"),
            m(Quantity::ExportWh, "/SML/Total_out", "kWh"),
            m(Quantity::ImportW, "/SML/Power_curr", "W").map(Mapping::net),
            m(Quantity::L1ImportW, "/SML/power_l1", "W").map(Mapping::net),
            m(Quantity::L2ImportW, "/SML/power_l2", "W").map(Mapping::net),
            m(Quantity::L3ImportW, "/SML/power_l3", "W").map(Mapping::net),
            m(Quantity::L1Dv, "/SML/voltage_l1", "V"),
            m(Quantity::L2Dv, "/SML/voltage_l2", "V"),
            m(Quantity::L3Dv, "/SML/voltage_l3", "V"),
            m(Quantity::L1Ma, "/SML/current_l1", "A"),
            m(Quantity::L2Ma, "/SML/current_l2", "A"),
            m(Quantity::L3Ma, "/SML/current_l3", "A"),
        ];
        MqttMapping {
            name: "Tasmota SML".into(),
            protocol: Protocol::Sml,
            fields: fields.into_iter().flatten().collect(),
            meter_id: Some((t.into(), "/SML/Meter_Id".into())),
        }
    }

    /// An ESPHome P1 dongle (the `dsmr` component) publishing one sensor per topic,
    /// `<node>/sensor/<name>/state` with a bare number, when the sensors are named after the
    /// component's keys (`energy_delivered_tariff1`, `power_delivered`, …). `node` is the
    /// ESPHome topic prefix (its node name by default); `+` matches every node.
    pub fn esphome_dsmr(node: &str) -> MqttMapping {
        let topic = |name: &str| format!("{node}/sensor/{name}/state");
        let m = |q, name: &str, u: &str| Mapping::new(q, &topic(name), "", u);
        let fields = [
            m(Quantity::ImportT1Wh, "energy_delivered_tariff1", "kWh"),
            m(Quantity::ImportT2Wh, "energy_delivered_tariff2", "kWh"),
            m(Quantity::ExportT1Wh, "energy_returned_tariff1", "kWh"),
            m(Quantity::ExportT2Wh, "energy_returned_tariff2", "kWh"),
            m(Quantity::ImportW, "power_delivered", "kW"),
            m(Quantity::ExportW, "power_returned", "kW"),
            m(Quantity::L1Dv, "voltage_l1", "V"),
            m(Quantity::L2Dv, "voltage_l2", "V"),
            m(Quantity::L3Dv, "voltage_l3", "V"),
            m(Quantity::L1Ma, "current_l1", "A"),
            m(Quantity::L2Ma, "current_l2", "A"),
            m(Quantity::L3Ma, "current_l3", "A"),
            m(Quantity::L1ImportW, "power_delivered_l1", "kW"),
            m(Quantity::L2ImportW, "power_delivered_l2", "kW"),
            m(Quantity::L3ImportW, "power_delivered_l3", "kW"),
            m(Quantity::GasDm3, "gas_delivered", "m3"),
        ];
        MqttMapping {
            name: "ESPHome DSMR".into(),
            protocol: Protocol::Dsmr,
            fields: fields.into_iter().flatten().collect(),
            meter_id: None,
        }
    }

    /// The Glow electricity payload as plain mappings (what [`GlowDecoder`] reads, minus gas,
    /// prices and the timestamp), as an example of a nested JSON shape.
    pub fn glow_electricity() -> MqttMapping {
        let t = "glow/+/SENSOR/electricitymeter";
        let m = |q, p: &str, u: &str| Mapping::new(q, t, p, u);
        let fields = [
            m(
                Quantity::ImportWh,
                "/electricitymeter/energy/import/cumulative",
                "kWh",
            ),
            m(
                Quantity::ExportWh,
                "/electricitymeter/energy/export/cumulative",
                "kWh",
            ),
            m(Quantity::ImportW, "/electricitymeter/power/value", "kW").map(Mapping::net),
        ];
        MqttMapping {
            name: "Glow (electricity)".into(),
            protocol: Protocol::Glow,
            fields: fields.into_iter().flatten().collect(),
            meter_id: Some((t.into(), "/electricitymeter/energy/import/mpan".into())),
        }
    }
}

/// Applies an [`MqttMapping`] to MQTT messages: each message that matches at least one field's
/// topic becomes a reading holding the fields it carries.
#[derive(Debug, Clone)]
pub struct MappedDecoder {
    mapping: MqttMapping,
    lines: Lines,
    stats: Stats,
}

impl MappedDecoder {
    /// A decoder for one bridge.
    pub fn new(mapping: MqttMapping) -> Self {
        MappedDecoder {
            mapping,
            lines: Lines::default(),
            stats: Stats::default(),
        }
    }

    /// The mapping in use.
    pub fn mapping(&self) -> &MqttMapping {
        &self.mapping
    }

    /// Decodes one MQTT message; `None` when no field's topic matches it.
    pub fn decode_message(
        &mut self,
        topic: &str,
        payload: &[u8],
    ) -> Option<Result<Decoded, Rejection>> {
        let out = self.map(topic, payload)?;
        match &out {
            Ok(_) => self.stats.accepted += 1,
            Err(r) => self.stats.count_rejection(r.reason),
        }
        Some(out)
    }

    fn map(&self, topic: &str, payload: &[u8]) -> Option<Result<Decoded, Rejection>> {
        let fields: Vec<&Mapping> = self
            .mapping
            .fields
            .iter()
            .filter(|m| topic_matches(&m.topic, topic))
            .collect();
        let id = self
            .mapping
            .meter_id
            .as_ref()
            .filter(|(t, _)| topic_matches(t, topic));
        if fields.is_empty() && id.is_none() {
            return None;
        }
        let value: Value = match serde_json::from_slice(payload) {
            Ok(v) => v,
            Err(e) => {
                return Some(Err(payload_reject(format!(
                    "{topic}: not a JSON payload ({e})"
                ))));
            }
        };
        let mut reading = Reading::new(self.mapping.protocol);
        let mut diagnostics = Vec::new();
        for m in fields {
            let Some(v) = value.pointer(&m.pointer) else {
                continue;
            };
            if v.is_null() {
                continue;
            }
            let stored = match json_to_scaled(v, m.shift) {
                Ok(x) => x,
                Err(p) => {
                    diagnostics.push(Diagnostic {
                        line: 1,
                        code: m.quantity.name().to_owned(),
                        message: format!(
                            "{} {v} {}",
                            m.pointer,
                            match p {
                                ValueProblem::NotANumber => "is not a number",
                                ValueProblem::OutOfRange => "is out of range",
                            }
                        ),
                    });
                    continue;
                }
            };
            let kind = m.quantity.kind();
            if kind == crate::reading::Kind::Register && stored < 0 && !m.net {
                return Some(Err(payload_reject(format!(
                    "{topic}{}: {} is negative ({v}); a register never is",
                    m.pointer,
                    m.quantity.name()
                ))));
            }
            if kind == crate::reading::Kind::Register
                && stored > MAX_REGISTER_KWH.saturating_mul(1_000)
            {
                return Some(Err(payload_reject(format!(
                    "{topic}{}: {} {v} is absurd",
                    m.pointer,
                    m.quantity.name()
                ))));
            }
            match (m.net, stored < 0, export_counterpart(m.quantity)) {
                (true, true, Some(export)) => {
                    reading.set(m.quantity, 0);
                    reading.set(export, -stored);
                }
                _ => reading.set(m.quantity, stored),
            }
        }
        if let Some((_, pointer)) = id {
            let id = value.pointer(pointer).and_then(|v| match v {
                Value::String(s) => Some(s.trim().to_owned()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
            if let Some(id) = id.filter(|s| !s.is_empty()) {
                reading.meter_id = Some(MeterId::new(id));
            }
        }
        if reading.is_empty() {
            let detail = match diagnostics.first() {
                Some(d) => format!("{topic}: no readable value ({})", d.message),
                None => format!("{topic}: none of the mapped fields is in the payload"),
            };
            return Some(Err(payload_reject(detail)));
        }
        reading.fill_totals();
        Some(Ok(Decoded {
            reading,
            diagnostics,
        }))
    }
}

impl Decoder for MappedDecoder {
    /// Lines of `TOPIC PAYLOAD`, as `mosquitto_sub -v` prints them.
    fn push(&mut self, bytes: &[u8]) {
        self.lines.push(bytes);
    }

    fn next(&mut self) -> Option<Result<Decoded, Rejection>> {
        loop {
            match self.lines.next(false)? {
                Line::Oversized(n) => {
                    self.stats.count_rejection(RejectReason::Oversized);
                    return Some(Err(Rejection {
                        reason: RejectReason::Oversized,
                        detail: format!("a line of {n} bytes is longer than {MAX_LINE}"),
                    }));
                }
                Line::Complete(bytes) => {
                    let (topic, payload) = split_topic(&bytes);
                    let Some(topic) = topic else {
                        self.stats.skipped_bytes += bytes.len() as u64 + 1;
                        continue;
                    };
                    let topic = topic.to_owned();
                    match self.decode_message(&topic, payload) {
                        Some(out) => return Some(out),
                        None => self.stats.skipped_bytes += bytes.len() as u64 + 1,
                    }
                }
            }
        }
    }

    fn stats(&self) -> &Stats {
        &self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_filters() {
        assert!(topic_matches(TOPIC_FILTER, "glow/ABC123/SENSOR/gasmeter"));
        assert!(!topic_matches(TOPIC_FILTER, "glow/ABC123/STATE"));
        assert!(!topic_matches(
            TOPIC_FILTER,
            "glow/ABC123/SENSOR/gasmeter/x"
        ));
        assert!(topic_matches("tele/#", "tele/a/b/c"));
        assert!(topic_matches("a/+/c", "a/b/c"));
        assert!(!topic_matches("a/+/c", "a/b/d"));
    }

    #[test]
    fn split_topic_forms() {
        assert_eq!(split_topic(b" {\"a\":1} "), (None, &b"{\"a\":1}"[..]));
        assert_eq!(
            split_topic(b"glow/X/SENSOR/gasmeter {\"a\":1}"),
            (Some("glow/X/SENSOR/gasmeter"), &b"{\"a\":1}"[..])
        );
        assert_eq!(
            split_topic(b"esp/sensor/p/state 523.4"),
            (Some("esp/sensor/p/state"), &b"523.4"[..])
        );
    }

    #[test]
    fn json_numbers_scale_exactly() {
        let v = |s: &str| serde_json::from_str::<Value>(s).unwrap();
        assert_eq!(json_to_scaled(&v("5071.527"), 3), Ok(5_071_527));
        assert_eq!(json_to_scaled(&v("0.37880"), 6), Ok(378_800));
        assert_eq!(json_to_scaled(&v("\"1357.208\""), 3), Ok(1_357_208));
        assert_eq!(json_to_scaled(&v("0.1"), 3), Ok(100));
        assert_eq!(json_to_scaled(&v("-0.481"), 3), Ok(-481));
        assert_eq!(json_to_scaled(&v("12"), 3), Ok(12_000));
        assert_eq!(
            json_to_scaled(&v("1e300"), 3),
            Err(ValueProblem::OutOfRange)
        );
        assert_eq!(json_to_scaled(&v("true"), 3), Err(ValueProblem::NotANumber));
        assert_eq!(
            json_to_scaled(&v("\"n/a\""), 3),
            Err(ValueProblem::NotANumber)
        );
    }
}
