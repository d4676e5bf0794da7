//! [`MappedDecoder`]: applies an [`MqttMapping`] to MQTT messages, one at a time or as lines.

use super::lines::{Line, Lines, MAX_LINE, split_topic};
use super::mapping::{Mapping, MqttMapping, export_counterpart};
use super::{MAX_REGISTER_KWH, ValueProblem, json_to_scaled, payload_reject, topic_matches};
use crate::decoder::{Decoded, Decoder, Diagnostic, RejectReason, Rejection, Stats};
use crate::reading::{MeterId, Reading};
use serde_json::Value;

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
