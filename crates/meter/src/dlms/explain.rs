//! What the DLMS decoder makes of each frame, step by step, for `hearth decode --explain`:
//! framing, security, APDU type, the list's shape and layout, and every element with its
//! A-XDR type, raw value, scaler and the field it went to (or "unmapped").
//!
//! A homeowner whose meter Hearth does not know can send this as a report. Identifiers are
//! personal data: the meter id, the logical device name, the system title's serial number and
//! any string not known to be harmless are masked to their last four characters.

use super::axdr::Value;
use super::dump;
use super::layout;
use super::mbus::MbusFramer;
use super::obis::{self, Obis, Target};
use super::{block_transfer, decode_notification_traced, strip_llc};
use crate::decoder::{RejectReason, Rejection};
use crate::glo::{self, GloError, Key};
use crate::hdlc::HdlcFramer;
use crate::plausible;
use jiff::tz::TimeZone;
use std::fmt::Write as _;

pub use crate::explain::{Explanation, MAX_CAPTURE, mask};

/// One element of a list as the decoder read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElementTrace {
    /// 1-based position in the list.
    pub index: u32,
    /// The A-XDR type, when known.
    pub type_name: &'static str,
    /// The raw value (strings masked unless known to be harmless).
    pub raw: String,
    /// The decimal scaler applied, for a mapped value.
    pub scaler: Option<i8>,
    /// Where it went (`1-0:1.7.0 import_w`) or `unmapped …`.
    pub field: String,
}

/// One list of a data-notification body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListTrace {
    /// How the list names its values.
    pub shape: &'static str,
    /// For a positional list: the layout chosen, or `unknown layout: signature`.
    pub layout: Option<String>,
    /// Each element.
    pub elements: Vec<ElementTrace>,
}

impl ListTrace {
    pub(crate) fn push(
        &mut self,
        index: u32,
        tag: Option<u8>,
        value: &Value<'_>,
        scaler: Option<i8>,
        code: Option<Obis>,
        name: Option<&str>,
    ) {
        let clear = match code {
            Some(c) => matches!(c.cde(), (0, 2, 129) | (96, 1, 7)),
            None => matches!(name, Some("list identifier" | "list name")),
        } || name == Some("list identifier");
        let is_clock = is_clock(code);
        self.elements.push(ElementTrace {
            index,
            type_name: tag.map_or_else(|| variant_name(value), layout::type_name),
            raw: raw_text(value, clear, is_clock),
            scaler: if matches!(value, Value::Int(_)) {
                scaler
            } else {
                None
            },
            field: field_text(code, name),
        });
    }
}

/// What the notification held, besides its lists' values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApduTrace {
    /// The long-invoke-id-and-priority field.
    pub invoke_id: Option<u32>,
    /// The date-time in the APDU header.
    pub header_time: Option<String>,
    /// Each list of the body.
    pub lists: Vec<ListTrace>,
}

fn is_clock(code: Option<Obis>) -> bool {
    code.is_some_and(|c| obis::target(c) == Target::Clock)
}

fn variant_name(v: &Value<'_>) -> &'static str {
    match v {
        Value::Null => "null-data",
        Value::Bool(_) => "boolean",
        Value::Int(_) => "integer",
        Value::Octets(_) => "octet-string",
        Value::Text(_) => "visible-string",
        Value::DateTime(_) => "date-time",
        Value::Float(_) => "float",
        Value::List(_) => "structure",
        Value::Other => "other",
    }
}

pub(crate) fn raw_text(v: &Value<'_>, clear: bool, clock: bool) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::DateTime(b) => date_time_text(b),
        Value::Octets(b) | Value::Text(b) if clock || (b.len() == 12 && !clear && is_date(b)) => {
            date_time_text(b)
        }
        Value::Octets(b) if b.len() == 6 && b[0] <= 1 && b[5] == 0xFF => {
            // An OBIS code (a logical name), not an identifier.
            Obis::from_bytes(b).map_or_else(String::new, |o| o.to_string())
        }
        Value::Octets(b) | Value::Text(b) => {
            let text = obis::id_text(b);
            if clear {
                format!("\"{text}\"")
            } else {
                format!("\"{}\" ({} bytes)", mask(&text), b.len())
            }
        }
        Value::List(items) => {
            let simple: Option<Vec<String>> = items
                .iter()
                .map(|v| match v {
                    Value::Int(i) => Some(i.to_string()),
                    _ => None,
                })
                .collect();
            match simple {
                Some(parts) if !parts.is_empty() => format!("{{{}}}", parts.join(", ")),
                _ => format!("{} values", items.len()),
            }
        }
        Value::Other => "(not shown)".into(),
    }
}

/// Whether 12 bytes look like a COSEM date-time (a year from 2000 to 2099 and a month).
fn is_date(b: &[u8]) -> bool {
    let year = u16::from_be_bytes([b[0], b[1]]);
    (2000..2100).contains(&year) && (1..=12).contains(&b[2])
}

/// A COSEM date-time as the meter sent it: `2024-11-17 21:26:44` (fields the meter left
/// unspecified as `??`), and the UTC deviation when given.
pub fn date_time_text(b: &[u8]) -> String {
    let [y0, y1, mo, d, _dow, h, mi, s, _hs, dv0, dv1, _status, ..] = b else {
        return format!("{} bytes (no date-time)", b.len());
    };
    let year = u16::from_be_bytes([*y0, *y1]);
    let f2 = |x: u8| {
        if x == 0xFF {
            "??".to_string()
        } else {
            format!("{x:02}")
        }
    };
    let y = if year == 0xFFFF {
        "????".to_string()
    } else {
        format!("{year:04}")
    };
    let mut out = format!(
        "{y}-{}-{} {}:{}:{}",
        f2(*mo),
        f2(*d),
        f2(*h),
        f2(*mi),
        f2(*s)
    );
    let dev = i16::from_be_bytes([*dv0, *dv1]);
    if dev == i16::MIN {
        out.push_str(" (local, no UTC deviation)");
    } else {
        // The deviation is local time minus UTC counted the other way round (Blue Book):
        // -60 means UTC+01:00.
        let m = -i32::from(dev);
        let sign = if m < 0 { '-' } else { '+' };
        let _ = write!(out, " (UTC{sign}{:02}:{:02})", m.abs() / 60, m.abs() % 60);
    }
    out
}

pub(crate) fn field_text(code: Option<Obis>, name: Option<&str>) -> String {
    let Some(code) = code else {
        return match name {
            // Not a value of its own: it scales another.
            Some(n) if n.starts_with("scaler and unit of") => format!("{n} (applied to its value)"),
            Some(n) if n.starts_with("meter id") => n.to_string(),
            Some(n) => format!("unmapped: {n}"),
            None => "unmapped".into(),
        };
    };
    match obis::target(code) {
        Target::Quantity(q, _) => format!("{code} {}", q.name()),
        Target::NetPower => format!("{code} net power (import_w / export_w)"),
        Target::NetPhasePower(p) => format!("{code} net power of L{}", p + 1),
        Target::AbsolutePower => format!("{code} power without direction (not stored)"),
        Target::MeterId(_) => format!("{code} meter id"),
        Target::Clock => format!("{code} time"),
        Target::Other => match name {
            Some(n) => format!("{code} unmapped: {n}"),
            None => format!("{code} unmapped"),
        },
    }
}

/// The security of a general-glo-ciphering APDU in words, the system title's serial masked.
pub(crate) fn security_text(apdu: &[u8]) -> String {
    match glo::parse(apdu) {
        Ok(f) => {
            let maker: String = f.system_title[..3]
                .iter()
                .map(|&b| {
                    if b.is_ascii_graphic() {
                        char::from(b)
                    } else {
                        '?'
                    }
                })
                .collect();
            let serial: String = f.system_title[3..]
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect();
            format!(
                "general-glo-ciphering, system title {maker} {}, security control 0x{:02X}, frame counter {}",
                mask(&serial),
                f.security_control,
                f.frame_counter
            )
        }
        Err(e) => format!("general-glo-ciphering, header unreadable ({e})"),
    }
}

fn reject(reason: RejectReason, detail: impl Into<String>) -> Rejection {
    Rejection {
        reason,
        detail: detail.into(),
    }
}

/// Explains one APDU (after its framing; an LLC header is allowed), as the decoder with these
/// keys reads it. `framing` describes how it came.
pub fn explain_apdu(
    frame: u64,
    framing: String,
    info: &[u8],
    key: Option<&Key>,
    auth_key: Option<&Key>,
    tz: &TimeZone,
) -> Explanation {
    let mut e = Explanation::new(frame, framing);
    let apdu = strip_llc(info);
    let plain: Vec<u8>;
    let apdu: &[u8] = match apdu.first() {
        Some(&glo::TAG_GENERAL_GLO_CIPHERING) => {
            let mut sec = security_text(apdu);
            let Some(key) = key else {
                sec.push_str(": key missing");
                e.security = Some(sec);
                e.outcome = Some(Err(reject(
                    RejectReason::MissingKey,
                    "the meter encrypts its data; enter the encryption key from your grid operator",
                )));
                return e;
            };
            match glo::decrypt(apdu, key, auth_key) {
                Ok(p) if p.first() == Some(&0x0F) => {
                    sec.push_str(if auth_key.is_some() {
                        ": decrypted, tag checked"
                    } else {
                        ": decrypted (no authentication key: tag not checked)"
                    });
                    e.security = Some(sec);
                    plain = p;
                    &plain
                }
                Ok(_) | Err(GloError::Authentication) => {
                    sec.push_str(": not decrypted (wrong key?)");
                    e.security = Some(sec);
                    e.outcome = Some(Err(reject(
                        RejectReason::Authentication,
                        "the frame failed authentication or decrypts to nonsense: the key is wrong, or the bytes were damaged",
                    )));
                    return e;
                }
                Err(err) => {
                    sec.push_str(&format!(": not decrypted ({err})"));
                    e.security = Some(sec);
                    e.outcome = Some(Err(reject(RejectReason::Framing, err.to_string())));
                    return e;
                }
            }
        }
        _ => {
            e.security = Some("none".into());
            apdu
        }
    };
    match apdu.first() {
        Some(0x0F) => {}
        Some(&t) => {
            e.apdu = Some(format!(
                "tag 0x{t:02X}, not a data-notification (a push meter sends 0x0F)"
            ));
            e.outcome = Some(Err(reject(
                RejectReason::Payload,
                format!("not a DLMS data-notification (tag 0x{t:02X})"),
            )));
            return e;
        }
        None => {
            e.apdu = Some("empty".into());
            e.outcome = Some(Err(reject(RejectReason::Payload, "empty DLMS message")));
            return e;
        }
    }
    let mut trace = ApduTrace::default();
    let mut outcome = decode_notification_traced(apdu, tz, Some(&mut trace));
    if let Ok(d) = &mut outcome {
        for i in plausible::check(&mut d.reading) {
            d.diagnostics.push(i.diagnostic());
        }
    }
    let mut a = "data-notification".to_string();
    if let Some(id) = trace.invoke_id {
        let _ = write!(a, ", invoke id 0x{id:08X}");
    }
    match &trace.header_time {
        Some(t) => {
            let _ = write!(a, ", date-time {t}");
        }
        None => a.push_str(", no date-time"),
    }
    e.apdu = Some(a);
    e.trace = Some(trace);
    e.outcome = Some(outcome);
    e
}

/// Explains every DLMS frame of a capture: HDLC frames (general-block-transfer blocks joined),
/// wired M-Bus long frames, or one bare APDU (`0F`, `DB`, `E0`, or after an LLC header
/// `E6 E7 00`).
pub fn explain_capture(
    bytes: &[u8],
    key: Option<&Key>,
    auth_key: Option<&Key>,
    tz: &TimeZone,
) -> Vec<Explanation> {
    if let Some(records) = hex_text(bytes) {
        let mut out = Vec::new();
        for record in records {
            for mut e in explain_capture(&record, key, auth_key, tz) {
                e.frame = out.len() as u64 + 1;
                e.framing.push_str(", read from hex text");
                out.push(e);
            }
        }
        return out;
    }
    let mut out = Vec::new();
    let mut n = 0u64;
    let first = bytes.iter().position(|b| !b.is_ascii_whitespace());
    let start = first.map_or(&[][..], |i| &bytes[i..]);
    if matches!(start.first(), Some(0x0F | 0xDB | 0xE0 | 0xE6)) {
        n += 1;
        let apdu = strip_llc(start);
        if apdu.first() == Some(&block_transfer::TAG) {
            out.push(explain_blocks(
                n,
                "bare APDU".into(),
                &[apdu],
                key,
                auth_key,
                tz,
            ));
        } else {
            out.push(explain_apdu(
                n,
                format!("bare APDU, {} bytes", start.len()),
                start,
                key,
                auth_key,
                tz,
            ));
        }
        return out;
    }
    if start.first() == Some(&0x68) {
        let mut mbus = MbusFramer::new();
        mbus.push(start);
        while let Some(r) = mbus.next_apdu() {
            n += 1;
            match r {
                Err(rej) => out.push(Explanation {
                    frame: n,
                    framing: "M-Bus long frame, unreadable".into(),
                    security: None,
                    apdu: None,
                    trace: None,
                    checksum: None,
                    items: Vec::new(),
                    skipped: None,
                    outcome: Some(Err(rej)),
                }),
                Ok(apdu) => {
                    let framing = format!("M-Bus long frame(s), APDU {} bytes", apdu.len());
                    let apdu = apdu.to_vec();
                    if strip_llc(&apdu).first() == Some(&block_transfer::TAG) {
                        let a = strip_llc(&apdu);
                        out.push(explain_blocks(n, framing, &[a], key, auth_key, tz));
                    } else {
                        out.push(explain_apdu(n, framing, &apdu, key, auth_key, tz));
                    }
                }
            }
        }
        if !out.is_empty() {
            return out;
        }
    }
    let mut framer = HdlcFramer::new();
    framer.push(bytes);
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    while let Some(r) = framer.next_frame() {
        n += 1;
        match r {
            Err(rej) => out.push(Explanation {
                frame: n,
                framing: "HDLC frame, unreadable".into(),
                security: None,
                apdu: None,
                trace: None,
                checksum: None,
                items: Vec::new(),
                skipped: None,
                outcome: Some(Err(rej)),
            }),
            Ok(f) => {
                let framing = format!(
                    "HDLC frame, information field {} bytes, checksums good",
                    f.info.len()
                );
                let apdu = strip_llc(f.info);
                if apdu.first() == Some(&block_transfer::TAG) {
                    blocks.push(apdu.to_vec());
                    let last = block_transfer::parse_block(apdu).map_or(true, |b| b.last);
                    if last {
                        let refs: Vec<&[u8]> = blocks.iter().map(Vec::as_slice).collect();
                        out.push(explain_blocks(n, framing, &refs, key, auth_key, tz));
                        blocks.clear();
                    } else {
                        out.push(Explanation {
                            frame: n,
                            framing,
                            security: None,
                            apdu: Some(block_text(apdu)),
                            trace: None,
                            checksum: None,
                            items: Vec::new(),
                            skipped: None,
                            outcome: None,
                        });
                    }
                } else {
                    out.push(explain_apdu(n, framing, f.info, key, auth_key, tz));
                }
            }
        }
    }
    out
}

/// The bytes of a capture written as hex text (a reader's log: frames or APDUs over one or
/// more lines each, a time stamp or tag before the hex set aside), when it is one: printable
/// text holding a line that starts a frame or an APDU. Each bare APDU is a record of its own
/// (it carries no length the next one could be told by); framed bytes run on in one record,
/// their framer tells them apart.
fn hex_text(bytes: &[u8]) -> Option<Vec<Vec<u8>>> {
    if !bytes
        .iter()
        .all(|c| c.is_ascii_graphic() || c.is_ascii_whitespace())
    {
        return None;
    }
    let mut records: Vec<Vec<u8>> = Vec::new();
    let mut bare = false;
    for line in bytes.split(|&b| b == b'\n') {
        let Some(words) = dump::hex_line(line) else {
            continue;
        };
        match (dump::line_start(&words), records.last_mut()) {
            (Some((i, is_bare)), last) => {
                let bytes = words[i..].iter().flatten().copied();
                // A line of a bare APDU's dump may itself begin like one: it starts a new
                // record only once the APDU before it is whole.
                let whole = |r: &[u8]| matches!(dump::apdu_len(r), Ok(Some(n)) if n <= r.len());
                match last {
                    Some(r) if (!is_bare && !bare) || (bare && !whole(r)) => r.extend(bytes),
                    _ => records.push(bytes.collect()),
                }
                bare = is_bare;
            }
            // A continuation line, once a frame has started.
            (None, Some(r)) => r.extend(words.iter().flatten()),
            (None, None) => {}
        }
    }
    (!records.is_empty()).then_some(records)
}

fn block_text(apdu: &[u8]) -> String {
    match block_transfer::parse_block(apdu) {
        Ok(b) => format!(
            "general-block-transfer block {}{}, {} bytes",
            b.number,
            if b.last { " (last)" } else { "" },
            b.data.len()
        ),
        Err(e) => format!("general-block-transfer, unreadable ({})", e.0),
    }
}

/// Joins general-block-transfer blocks (the last one given last) and explains the APDU.
fn explain_blocks(
    frame: u64,
    framing: String,
    blocks: &[&[u8]],
    key: Option<&Key>,
    auth_key: Option<&Key>,
    tz: &TimeZone,
) -> Explanation {
    let mut joiner = block_transfer::Joiner::new();
    let mut joined = None;
    let mut lost = None;
    for raw in blocks {
        match block_transfer::parse_block(raw) {
            Ok(b) => {
                let j = joiner.push(&b);
                if j.lost.is_some() {
                    lost = j.lost;
                }
                if j.apdu.is_some() {
                    joined = j.apdu;
                }
            }
            Err(e) => {
                lost = Some(reject(
                    RejectReason::Framing,
                    format!("block transfer: {}", e.0),
                ))
            }
        }
    }
    let last = blocks.last().map(|b| block_text(b)).unwrap_or_default();
    match (joined, lost) {
        (Some(apdu), None) => {
            let mut e = explain_apdu(frame, framing, &apdu, key, auth_key, tz);
            e.apdu = Some(match e.apdu {
                Some(a) => format!("{last}, joined to {} bytes: {a}", apdu.len()),
                None => format!("{last}, joined to {} bytes", apdu.len()),
            });
            e
        }
        (_, lost) => Explanation {
            frame,
            framing,
            security: None,
            apdu: Some(last),
            trace: None,
            checksum: None,
            items: Vec::new(),
            skipped: None,
            outcome: Some(Err(lost.unwrap_or_else(|| {
                reject(RejectReason::Framing, "block transfer never completed")
            }))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_keep_only_their_last_four_characters() {
        assert_eq!(mask("ISK1030712345678"), "…5678");
        assert_eq!(mask("ab"), "…ab");
        assert_eq!(
            raw_text(&Value::Octets(b"7359992892587665"), false, false),
            "\"…7665\" (16 bytes)"
        );
        assert_eq!(
            raw_text(&Value::Octets(b"KFM_001"), true, false),
            "\"KFM_001\""
        );
        assert_eq!(
            raw_text(&Value::Octets(&[0, 0, 96, 1, 0, 255]), false, false),
            "0-0:96.1.0"
        );
    }

    #[test]
    fn cosem_date_times_as_sent() {
        // 2024-03-10 (Sunday) 14:05:30, deviation -60 (UTC+01:00).
        let b = [0x07, 0xE8, 3, 10, 7, 14, 5, 30, 0, 0xFF, 0xC4, 0];
        assert_eq!(date_time_text(&b), "2024-03-10 14:05:30 (UTC+01:00)");
        let b = [0x07, 0xE8, 3, 10, 7, 14, 5, 30, 0xFF, 0x80, 0x00, 0];
        assert_eq!(
            date_time_text(&b),
            "2024-03-10 14:05:30 (local, no UTC deviation)"
        );
        let b = [
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x80, 0x00, 0,
        ];
        assert_eq!(
            date_time_text(&b),
            "????-??-?? ??:??:?? (local, no UTC deviation)"
        );
        assert_eq!(date_time_text(&[1, 2]), "2 bytes (no date-time)");
    }

    #[test]
    fn a_bare_apdu_is_explained_and_a_wrong_tag_named() {
        let tz = super::super::default_time_zone();
        let e = explain_capture(&[0xC4, 0x01], None, None, &tz);
        assert!(e.is_empty());
        // 0F, invoke id, no date-time, a structure of one u32: Kaifa list 1.
        let apdu = [0x0F, 0, 0, 0, 1, 0x00, 0x02, 0x01, 0x06, 0, 0, 0x03, 0xE8];
        let e = explain_capture(&apdu, None, None, &tz);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].framing, "bare APDU, 13 bytes");
        let text = e[0].to_string();
        assert!(text.contains("  layout: kaifa-no-list-1 "), "{text}");
        assert!(text.contains("  result: reading import_w=1000\n"), "{text}");
    }
}
