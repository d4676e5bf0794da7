//! What the SML decoder makes of each transport frame, for `hearth decode --explain`: the CRC
//! sent and the one computed, and per GetList response its server id (masked) and every list
//! entry with its OBIS code, raw value and unit, scaler, and the canonical field it went to
//! (or "unmapped", or why it was not read), and any value plausibility dropped.
//!
//! A slow path beside the decoder: the frame is walked here for the display, and the verdict
//! is [`super::decode_frame`]'s, the decoder's own.

use super::{ESC, START, SmlValue, find, parse_value, sml_time, unescape};
use crate::checksum::crc16_x25;
use crate::decoder::{RejectReason, Rejection};
use crate::dlms::axdr::Value;
use crate::dlms::explain::raw_text;
use crate::dlms::obis::{self, Obis, Target, id_text};
use crate::explain::{Explanation, Item, finish_items, mask};

/// Explains every transport frame of a capture.
pub fn explain_capture(bytes: &[u8]) -> Vec<Explanation> {
    let mut out = Vec::new();
    let mut rest = bytes;
    let mut n = 0u64;
    while let Some(start) = find(rest, &START) {
        n += 1;
        rest = &rest[start..];
        match frame_len(rest) {
            Some(len) => {
                out.push(explain_frame(n, &rest[..len]));
                rest = &rest[len..];
            }
            None => {
                // As in the decoder: a frame cut short by the next one is rejected; one the
                // capture ends inside waits for bytes that never come.
                let mut e = Explanation::new(n, "SML transport frame, unfinished".into());
                match find(&rest[START.len()..], &START) {
                    Some(next) => {
                        e.outcome = Some(Err(Rejection {
                            reason: RejectReason::Framing,
                            detail: "SML frame cut short by the next frame".into(),
                        }));
                        out.push(e);
                        rest = &rest[START.len() + next..];
                        continue;
                    }
                    None => {
                        e.skipped = Some("the capture ends inside this frame".into());
                        out.push(e);
                        break;
                    }
                }
            }
        }
    }
    out
}

/// The length of the frame that starts `bytes` (start escape to CRC), if it ends in them: a
/// new start escape before the end cuts it short.
fn frame_len(bytes: &[u8]) -> Option<usize> {
    let mut i = START.len();
    loop {
        let at = i + find(&bytes[i..], &ESC)?;
        let next = bytes.get(at + 4..at + 8)?;
        if next == ESC {
            i = at + 8;
        } else if next[0] == 0x1A {
            return Some(at + 8);
        } else if next == [1, 1, 1, 1] {
            return None;
        } else {
            i = at + 1;
        }
    }
}

fn explain_frame(n: u64, frame: &[u8]) -> Explanation {
    let mut e = Explanation::new(n, format!("SML transport frame, {} bytes", frame.len()));
    let len = frame.len();
    if len >= 16 {
        let sent = u16::from_le_bytes([frame[len - 2], frame[len - 1]]);
        let computed = crc16_x25(&frame[..len - 2]);
        e.checksum = Some(if sent == computed {
            format!("CRC-16/X-25 sent {sent:04X}, computed {computed:04X}: good")
        } else {
            format!(
                "CRC-16/X-25 sent {sent:04X}, computed {computed:04X}: mismatch (the frame was \
                 damaged in transit; nothing of it is stored)"
            )
        });
        let padding = usize::from(frame[len - 3]);
        let body = &frame[8..len - 8];
        if sent == computed && padding <= 3 && padding <= body.len() {
            e.items = entries(&unescape(&body[..body.len() - padding]));
        }
    }
    let verdict = super::decode_frame(frame);
    if let Ok(d) = &verdict {
        finish_items(&mut e.items, d, true);
    }
    e.conclude(verdict);
    e
}

/// The server id and list entries of every GetList response, as sent.
fn entries(mut body: &[u8]) -> Vec<Item> {
    let mut items = Vec::new();
    let mut index = 0u32;
    let mut lists = 0u32;
    loop {
        while let [0x00, rest @ ..] = body {
            body = rest;
        }
        let Ok((SmlValue::List(fields), rest)) = parse_value(body) else {
            break;
        };
        body = rest;
        let Some(SmlValue::List(choice)) = fields.get(3) else {
            continue;
        };
        let [SmlValue::Int(0x0701), SmlValue::List(res)] = choice.as_slice() else {
            continue;
        };
        lists += 1;
        if let Some(SmlValue::Bytes(id)) = res.get(1) {
            let mut item = Item::new(
                format!("list {lists}"),
                "server id".into(),
                format!("\"{}\" ({} bytes)", mask(&id_text(id)), id.len()),
            );
            item.fields.push("meter_id");
            items.push(item);
        }
        if res.get(3).and_then(sml_time).is_some() {
            let mut item = Item::new(
                format!("list {lists}"),
                "actSensorTime".into(),
                "a date and time".into(),
            );
            item.fields.push("time");
            items.push(item);
        }
        let Some(SmlValue::List(list)) = res.get(4) else {
            continue;
        };
        for entry in list {
            index += 1;
            let place = format!("entry {index}");
            let Some((code, f)) = (match entry {
                SmlValue::List(f) => match f.first() {
                    Some(SmlValue::Bytes(o)) => Obis::from_bytes(o).map(|c| (c, f)),
                    _ => None,
                },
                _ => None,
            }) else {
                items.push(Item::new(place, "?".into(), "no OBIS code".into()));
                continue;
            };
            let unit = f.get(3).and_then(SmlValue::int);
            let target = obis::target(code);
            let raw = match f.get(5) {
                Some(SmlValue::Int(v) | SmlValue::Signed(v, _)) => {
                    let v = if matches!(target, Target::MeterId(_)) {
                        mask(&v.to_string())
                    } else {
                        v.to_string()
                    };
                    match unit.and_then(|u| u8::try_from(u).ok()) {
                        Some(u) => format!("{v} {}", unit_symbol(u)),
                        None => v,
                    }
                }
                Some(SmlValue::Bytes(b)) => raw_text(&Value::Octets(b), false, false),
                Some(SmlValue::Bool(b)) => b.to_string(),
                _ => "(no value)".into(),
            };
            let mut item = Item::new(place, code.to_string(), raw);
            item.scaler = f
                .get(4)
                .and_then(SmlValue::int)
                .and_then(|s| i8::try_from(s).ok());
            item.fields = fields_of(target);
            item.field = match target {
                Target::NetPower => "import_w / export_w (signed total power)".into(),
                Target::NetPhasePower(p) => {
                    format!("l{0}_import_w / l{0}_export_w (signed)", p + 1)
                }
                Target::AbsolutePower => "not stored: power without a direction".into(),
                Target::Other => "unmapped".into(),
                _ => String::new(),
            };
            items.push(item);
        }
    }
    items
}

/// The canonical fields an OBIS code fills.
fn fields_of(target: Target) -> Vec<&'static str> {
    const PHASES: [[&str; 2]; 3] = [
        ["l1_import_w", "l1_export_w"],
        ["l2_import_w", "l2_export_w"],
        ["l3_import_w", "l3_export_w"],
    ];
    match target {
        Target::Quantity(q, _) => vec![q.name()],
        Target::NetPower => vec!["import_w", "export_w"],
        Target::NetPhasePower(p) => PHASES[p].to_vec(),
        Target::MeterId(_) => vec!["meter_id"],
        Target::Clock => vec!["time"],
        Target::AbsolutePower | Target::Other => Vec::new(),
    }
}

/// A DLMS/SML unit code's symbol (IEC 62056-62), or its number.
pub(crate) fn unit_symbol(u: u8) -> String {
    match u {
        27 => "W".into(),
        28 => "VA".into(),
        29 => "var".into(),
        30 => "Wh".into(),
        31 => "VAh".into(),
        32 => "varh".into(),
        33 => "A".into(),
        35 => "V".into(),
        44 => "Hz".into(),
        8 => "°".into(),
        255 => "(no unit)".into(),
        u => format!("(unit {u})"),
    }
}
