//! What the IEC 62056-21 decoder makes of each readout, for `hearth decode --explain`: the
//! identification line, the mode (C with STX, ETX and a BCC, sent and computed; D without),
//! and each data line's address, raw value with its unit and the canonical field it went to
//! (or "unmapped", or why it was not read), and any value plausibility dropped.
//!
//! A slow path beside the decoder: readouts are found here the way the decoder finds them,
//! and each block is read by the decoder's own [`super::decode_block`].

use super::{ETX, STX, decode_block, find_end_mark, trim_eol};
use crate::decoder::{RejectReason, Rejection};
use crate::dlms::obis::{self, Obis, Target};
use crate::explain::{Explanation, Item, clip, finish_items, mask_groups};
use jiff::tz::TimeZone;

/// Explains every readout of a capture (meter clocks read in `tz`).
pub fn explain_capture(bytes: &[u8], tz: &TimeZone) -> Vec<Explanation> {
    let mut out = Vec::new();
    let mut rest = bytes;
    let mut n = 0u64;
    let mut ident: Option<String> = None;
    while let Some(at) = rest.iter().position(|&b| b == b'/' || b == STX) {
        rest = &rest[at..];
        if rest[0] == b'/' {
            let Some(eol) = rest.iter().position(|&b| b == b'\n') else {
                break;
            };
            let line = trim_eol(&rest[1..eol]);
            rest = &rest[eol + 1..];
            if line.starts_with(b"?") || line.len() < 5 {
                continue;
            }
            ident = Some(String::from_utf8_lossy(line).into_owned());
            let first = rest.iter().position(|b| !matches!(b, b'\r' | b'\n'));
            match first.map(|i| rest[i]) {
                None => break,
                Some(STX | b'/') => continue,
                Some(_) => {}
            }
            // Mode D: the block runs to the `!` line, unless the next readout starts first.
            n += 1;
            let end = find_end_mark(rest);
            let next = rest.windows(2).position(|w| w == b"\n/").map(|i| i + 1);
            let mut e = Explanation::new(
                n,
                format!(
                    "IEC 62056-21 readout, mode D (no STX, ETX or BCC), identification /{}",
                    clip(ident.as_deref().unwrap_or(""), 40)
                ),
            );
            match (end.filter(|e| next.is_none_or(|i| *e < i)), next) {
                (Some(end), _) => {
                    let block = &rest[..end];
                    e.checksum = Some("none (mode D sends no BCC)".into());
                    e.items = items(block);
                    let d = decode_block(block, tz);
                    finish_items(&mut e.items, &d, false);
                    e.conclude(Ok(d));
                    rest = &rest[end..];
                }
                (_, Some(i)) => {
                    e.outcome = Some(Err(Rejection {
                        reason: RejectReason::Framing,
                        detail: "readout without its '!' end line".into(),
                    }));
                    rest = &rest[i..];
                }
                (None, None) => {
                    e.outcome = Some(Err(Rejection {
                        reason: RejectReason::Framing,
                        detail: "readout without its '!' end line (cut short)".into(),
                    }));
                    out.push(e);
                    break;
                }
            }
            out.push(e);
        } else {
            // STX: the block runs to ETX, then the BCC.
            n += 1;
            let mut e = Explanation::new(
                n,
                format!(
                    "IEC 62056-21 readout, mode C (STX … ETX BCC), identification /{}",
                    clip(ident.as_deref().unwrap_or("(none seen)"), 40)
                ),
            );
            let (Some(etx), true) = (
                rest.iter().position(|&b| b == ETX),
                rest.iter()
                    .position(|&b| b == ETX)
                    .is_some_and(|i| i + 1 < rest.len()),
            ) else {
                e.outcome = Some(Err(Rejection {
                    reason: RejectReason::Framing,
                    detail: "data block without ETX and BCC (cut short)".into(),
                }));
                out.push(e);
                break;
            };
            let sent = rest[etx + 1];
            let computed = rest[1..=etx].iter().fold(0u8, |a, b| a ^ b);
            let block = &rest[1..etx];
            rest = &rest[etx + 2..];
            if sent != computed {
                e.checksum = Some(format!(
                    "BCC sent {sent:02X}, computed {computed:02X}: mismatch (the readout was \
                     damaged in transit; nothing of it is stored)"
                ));
                e.items = items(block);
                e.conclude(Err(Rejection {
                    reason: RejectReason::Checksum,
                    detail: format!("BCC 0x{computed:02X} expected, readout says 0x{sent:02X}"),
                }));
            } else {
                e.checksum = Some(format!(
                    "BCC sent {sent:02X}, computed {computed:02X}: good"
                ));
                match find_end_mark(block) {
                    Some(end) => {
                        e.items = items(&block[..end]);
                        let d = decode_block(&block[..end], tz);
                        finish_items(&mut e.items, &d, false);
                        e.conclude(Ok(d));
                    }
                    None => e.conclude(Err(Rejection {
                        reason: RejectReason::Framing,
                        detail: "data block without its '!' end line".into(),
                    })),
                }
            }
            out.push(e);
        }
    }
    out
}

/// The data lines of a block as sent, numbered as the decoder numbers them.
fn items(block: &[u8]) -> Vec<Item> {
    let mut out = Vec::new();
    for (i, line) in block.split(|&c| c == b'\n').enumerate() {
        let line = trim_eol(line);
        if line.is_empty() {
            continue;
        }
        let place = format!("line {}", i + 1);
        let Some(open) = line.iter().position(|&c| c == b'(') else {
            out.push(Item::new(
                place,
                clip(&String::from_utf8_lossy(line), 16),
                String::new(),
            ));
            continue;
        };
        let address = String::from_utf8_lossy(&line[..open]).trim().to_string();
        let raw = String::from_utf8_lossy(&line[open..]).into_owned();
        let Some(mut code) = Obis::parse_text(&address) else {
            out.push(Item::new(place, address, clip(&raw, 48)));
            continue;
        };
        if code.0[4] == 255 {
            code.0[4] = 0;
        }
        let target = obis::target(code);
        let raw = if matches!(target, Target::MeterId(_)) {
            mask_groups(&raw)
        } else {
            clip(&raw, 48)
        };
        let mut item = Item::new(place, address, raw);
        match code.0[2..5] {
            [0, 9, 1] => {
                item.fields.push("time");
                item.field = "time (the time of day, with 0.9.2's date)".into();
            }
            [0, 9, 2] => {
                item.fields.push("time");
                item.field = "time (the date, with 0.9.1's time of day)".into();
            }
            _ => match target {
                Target::Quantity(q, _) => item.fields.push(q.name()),
                Target::NetPower => {
                    item.fields.extend(["import_w", "export_w"]);
                    item.field = "import_w / export_w (signed total power)".into();
                }
                Target::NetPhasePower(p) => {
                    const PHASES: [[&str; 2]; 3] = [
                        ["l1_import_w", "l1_export_w"],
                        ["l2_import_w", "l2_export_w"],
                        ["l3_import_w", "l3_export_w"],
                    ];
                    item.fields.extend(PHASES[p]);
                    item.field = format!("l{0}_import_w / l{0}_export_w (signed)", p + 1);
                }
                Target::MeterId(_) => item.fields.push("meter_id"),
                Target::AbsolutePower => {
                    item.field = "not stored: power without a direction".into();
                }
                Target::Clock => item.fields.push("time"),
                Target::Other => item.field = "unmapped".into(),
            },
        }
        out.push(item);
    }
    out
}
