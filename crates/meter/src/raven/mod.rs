//! Rainforest RAVEn / EMU-2 XML fragments.
//!
//! The stick (USB serial, 115200 8N1) writes one small XML element per event, each field a
//! child element with hexadecimal integers:
//!
//! ```text
//! <InstantaneousDemand>
//!   <DeviceMacId>0x…</DeviceMacId> <MeterMacId>0x…</MeterMacId>
//!   <TimeStamp>0x29bd58a7</TimeStamp> <Demand>0x00000010</Demand>
//!   <Multiplier>0x00000004</Multiplier> <Divisor>0x00000002</Divisor> …
//! </InstantaneousDemand>
//! ```
//!
//! `Demand` (kW, signed 32-bit: negative is export) and `SummationDelivered` /
//! `SummationReceived` (kWh, unsigned) are `raw × Multiplier / Divisor` (a zero multiplier or
//! divisor means 1); `TimeStamp` counts seconds since 2000-01-01T00:00:00Z. The decoder turns
//! `InstantaneousDemand` and `CurrentSummationDelivered` fragments into readings; the other
//! fragments (prices, messages, device information) are skipped and counted in
//! [`RavenDecoder::ignored_fragments`]. [`START_COMMANDS`] are what to write to the stick so
//! it starts reporting.

use crate::decoder::{Decoded, Decoder, Diagnostic, RejectReason, Rejection, Stats};
use crate::reading::{MeterId, Protocol, Quantity, Reading};
use crate::time::MeterTime;

pub mod explain;

/// Largest fragment kept (real ones are under 600 bytes).
pub const MAX_FRAGMENT_LEN: usize = 4096;
/// Seconds between 1970-01-01 and 2000-01-01 (the RAVEn epoch), both UTC.
pub const EPOCH_2000: i64 = 946_684_800;

/// Commands that make a RAVEn or EMU-2 report demand and summation on its own: initialise
/// the stick, then schedule demand every 8 s and summation every 60 s.
pub const START_COMMANDS: [&str; 3] = [
    "<Command><Name>initialize</Name></Command>\r\n",
    "<Command><Name>set_schedule</Name><Event>demand</Event><Frequency>0x08</Frequency><Enabled>Y</Enabled></Command>\r\n",
    "<Command><Name>set_schedule</Name><Event>summation</Event><Frequency>0x3C</Frequency><Enabled>Y</Enabled></Command>\r\n",
];

/// A command asking the stick for one fragment now (`get_instantaneous_demand`,
/// `get_current_summation_delivered`, `get_device_info`, ...).
pub fn command(name: &str) -> String {
    format!("<Command><Name>{name}</Name></Command>\r\n")
}

/// Streaming RAVEn decoder. See the module documentation.
#[derive(Debug, Default)]
pub struct RavenDecoder {
    buf: Vec<u8>,
    stats: Stats,
    ignored: u64,
}

impl RavenDecoder {
    /// An empty decoder.
    pub fn new() -> Self {
        RavenDecoder::default()
    }

    /// Well-formed fragments that carry no reading (prices, messages, device information).
    pub fn ignored_fragments(&self) -> u64 {
        self.ignored
    }

    /// Drops bytes before the next `<`.
    fn hunt(&mut self) {
        let n = self
            .buf
            .iter()
            .position(|&b| b == b'<')
            .unwrap_or(self.buf.len());
        self.stats.skipped_bytes += n as u64;
        self.buf.drain(..n);
    }
}

impl Decoder for RavenDecoder {
    fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        self.hunt();
    }

    fn next(&mut self) -> Option<Result<Decoded, Rejection>> {
        loop {
            self.hunt();
            // buf starts with '<': read the element name.
            let name_end = self.buf.iter().position(|&b| b == b'>');
            let Some(name_end) = name_end else {
                if self.buf.len() > 64 {
                    self.stats.skipped_bytes += 1;
                    self.buf.drain(..1);
                    continue;
                }
                return None;
            };
            let name = &self.buf[1..name_end];
            if name.is_empty() || name.len() > 40 || !name.iter().all(u8::is_ascii_alphanumeric) {
                // A closing tag or noise: not the start of a fragment.
                self.stats.skipped_bytes += 1;
                self.buf.drain(..1);
                continue;
            }
            let mut close = Vec::with_capacity(name.len() + 3);
            close.extend_from_slice(b"</");
            close.extend_from_slice(name);
            close.push(b'>');
            let Some(at) = find(&self.buf, &close) else {
                if self.buf.len() > MAX_FRAGMENT_LEN {
                    self.buf.drain(..1);
                    self.stats.count_rejection(RejectReason::Oversized);
                    return Some(Err(Rejection {
                        reason: RejectReason::Oversized,
                        detail: format!("RAVEn fragment longer than {MAX_FRAGMENT_LEN} bytes"),
                    }));
                }
                return None;
            };
            let end = at + close.len();
            let fragment: Vec<u8> = self.buf.drain(..end).collect();
            let name_len = close.len() - 3;
            let inner = &fragment[name_len + 2..at];
            let kind = &fragment[1..1 + name_len];
            let result = match kind {
                b"InstantaneousDemand" | b"CurrentSummationDelivered" => {
                    decode_fragment(kind, inner)
                }
                _ => {
                    self.ignored += 1;
                    continue;
                }
            };
            match &result {
                Ok(_) => self.stats.accepted += 1,
                Err(r) => self.stats.count_rejection(r.reason),
            }
            return Some(result);
        }
    }

    fn stats(&self) -> &Stats {
        &self.stats
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The text of child element `name`, if present.
fn field<'a>(inner: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = find(inner, open.as_bytes())? + open.len();
    let len = find(&inner[start..], close.as_bytes())?;
    Some(trim(&inner[start..start + len]))
}

fn trim(s: &[u8]) -> &[u8] {
    let a = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len());
    let b = s
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(a, |i| i + 1);
    &s[a..b]
}

fn hex(s: &[u8]) -> Option<u64> {
    let digits = s.strip_prefix(b"0x").or_else(|| s.strip_prefix(b"0X"))?;
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    let text = std::str::from_utf8(digits).ok()?;
    u64::from_str_radix(text, 16).ok()
}

/// `raw × multiplier / divisor` kilo-units in the stored unit (×1000), floored for registers
/// and rounded half away from zero for demand.
fn kilo(raw: i128, multiplier: u64, divisor: u64, register: bool) -> Option<i64> {
    let m = i128::from(multiplier.max(1));
    let d = i128::from(divisor.max(1));
    let n = raw.checked_mul(m)?.checked_mul(1000)?;
    let v = if register {
        n.div_euclid(d)
    } else {
        let (q, r) = (n / d, n % d);
        if 2 * r.abs() >= d { q + n.signum() } else { q }
    };
    i64::try_from(v).ok()
}

/// Decodes the children of an `InstantaneousDemand` or `CurrentSummationDelivered` fragment.
pub fn decode_fragment(kind: &[u8], inner: &[u8]) -> Result<Decoded, Rejection> {
    let mut reading = Reading::new(Protocol::Raven);
    let mut diagnostics = Vec::new();
    let mut diag = |code: &str, message: &str| {
        diagnostics.push(Diagnostic {
            line: 0,
            code: code.to_string(),
            message: message.to_string(),
        });
    };
    let number = |name: &str| field(inner, name).map(|v| (v, hex(v)));
    let mut factor = |name: &str| match number(name) {
        None => 1,
        Some((_, Some(v))) => v,
        Some((_, None)) => {
            diag(name, "not a hexadecimal number; taken as 1");
            1
        }
    };
    let multiplier = factor("Multiplier");
    let divisor = factor("Divisor");
    if let Some(id) = field(inner, "MeterMacId") {
        let id = id.strip_prefix(b"0x").unwrap_or(id);
        if !id.is_empty() && id.iter().all(u8::is_ascii_hexdigit) {
            reading.meter_id = Some(MeterId::new(String::from_utf8_lossy(id).to_uppercase()));
        }
    }
    match number("TimeStamp") {
        Some((_, Some(ts))) => {
            reading.time = i64::try_from(ts)
                .ok()
                .map(|ts| MeterTime::utc(EPOCH_2000 + ts));
        }
        Some((_, None)) => diag("TimeStamp", "not a hexadecimal number; receive time used"),
        None => {}
    }
    let bad = |field: &str| Rejection {
        reason: RejectReason::Payload,
        detail: format!("RAVEn fragment without a readable {field}"),
    };
    if kind == b"InstantaneousDemand" {
        let raw = number("Demand")
            .and_then(|(_, v)| v)
            .ok_or_else(|| bad("Demand"))?;
        // Demand is a signed 32-bit number: 0xFFFFFFF0 is -16.
        let raw = i128::from(u32::try_from(raw).map_err(|_| bad("Demand"))? as i32);
        let w = kilo(raw, multiplier, divisor, false).ok_or_else(|| bad("Demand"))?;
        reading.set(Quantity::ImportW, w.max(0));
        reading.set(Quantity::ExportW, w.min(0).saturating_neg());
    } else {
        let delivered = number("SummationDelivered").and_then(|(_, v)| v);
        let received = number("SummationReceived").and_then(|(_, v)| v);
        if delivered.is_none() && received.is_none() {
            return Err(bad("SummationDelivered"));
        }
        for (v, q) in [
            (delivered, Quantity::ImportWh),
            (received, Quantity::ExportWh),
        ] {
            if let Some(v) = v {
                match kilo(i128::from(v), multiplier, divisor, true) {
                    Some(wh) => reading.set(q, wh),
                    None => diag(q.name(), "value out of range"),
                }
            }
        }
    }
    Ok(Decoded {
        reading,
        diagnostics,
    })
}
