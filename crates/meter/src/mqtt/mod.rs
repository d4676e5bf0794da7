//! MQTT JSON payloads from any bridge, mapped into readings.
//!
//! Bridges that read a meter and publish it over MQTT (Tasmota, ESPHome, Wi-Fi P1 dongles,
//! Glow) each have their own JSON shape. A [`Mapping`] says where one canonical field lives
//! (topic filter + JSON pointer + unit), an [`MqttMapping`] gathers a bridge's mappings (with
//! presets for the common ones), and [`MappedDecoder`] applies them, one message at a time or
//! as lines of `TOPIC PAYLOAD` as `mosquitto_sub -v` prints them.
//!
//! The pieces every MQTT decoder here shares live in this module too: topic filters
//! ([`topic_matches`]), exact JSON numbers ([`json_to_scaled`]) and the line splitter
//! (`lines`). [`crate::glow`] reads Glow's richer payloads (prices, gas, timestamps) with them.

mod decoder;
mod lines;
mod mapping;

pub use decoder::MappedDecoder;
pub use lines::MAX_LINE;
pub(crate) use lines::{Line, Lines, split_topic};
pub use mapping::{Mapping, MqttMapping, unit_shift};

use crate::decoder::{RejectReason, Rejection};
use crate::supplier::{decimal_to_scaled, looks_numeric};
use serde_json::Value;

/// The largest register accepted, in kWh (and m³ for gas): 10⁹. Anything above is a broken
/// payload, not a household.
pub const MAX_REGISTER_KWH: i64 = 1_000_000_000;

/// A [`RejectReason::Payload`] rejection with `detail`.
pub(crate) fn payload_reject(detail: impl Into<String>) -> Rejection {
    Rejection {
        reason: RejectReason::Payload,
        detail: detail.into(),
    }
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
        if looks_numeric(s) {
            ValueProblem::OutOfRange
        } else {
            ValueProblem::NotANumber
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::glow::TOPIC_FILTER;

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
