//! What the DSMR decoder makes of each telegram, line by line, for `hearth decode --explain`:
//! the header, the CRC sent and the one computed, and each line's OBIS code, raw value with
//! its unit and the canonical field it filled (or "unmapped", or why it was not read), and any
//! value plausibility dropped.
//!
//! A slow path of its own: the lines are read by the decoder's own parser, one at a time, and
//! the reading compared before and after each; the verdict comes from the decoder's own
//! layout-and-CRC check. The streaming decoder is not touched. Meter ids (`0-0:96.1.1`, sent
//! as hex of their text, and the M-Bus devices' ids) are masked to their last four characters,
//! text messages are not shown.

use super::framer::{Frame, Framer};
use super::layout::Layout;
use super::meter_id::IdCache;
use super::obis::{
    O_0_0_24_1_0, O_0_0_24_2_1, O_0_0_24_2_3, O_0_0_24_3_0, O_0_0_96_1_0, O_0_0_96_1_1,
    O_0_0_96_1_4, O_0_0_96_13_0, O_0_0_96_13_1, O_0_0_98_1_0, O_1_0_99_97_0, parse_obis,
};
use super::telegram::Parser;
use crate::decoder::{Decoded, RejectReason, Rejection};
use crate::dlms::explain::security_text;
use crate::explain::{ExplainKeys, Explanation, Item, clip, mask_groups, mask_id};
use crate::glo::{self, GloError};
use crate::reading::{Quantity, Reading};

/// The longest raw value shown (a power-failure log or a peak history is cut).
const RAW_MAX: usize = 48;

/// Explains every telegram of a capture (plain, or Luxembourg Smarty frames opened with the
/// key given).
pub fn explain_capture(bytes: &[u8], keys: ExplainKeys<'_>) -> Vec<Explanation> {
    let mut out = Vec::new();
    let mut framer = Framer::leaving_crc_to_caller();
    // One layout across the capture, as in the decoder: a telegram without a CRC under the
    // header of one with a CRC is judged as the decoder judges it.
    let mut layout = Layout::default();
    framer.push(bytes);
    let mut n = 0u64;
    for last in [false, true] {
        if last {
            // A last telegram without a CRC waits for a line end after its `!`.
            framer.push(b"\r\n");
        }
        while let Some(frame) = framer.next_frame() {
            n += 1;
            out.push(match frame {
                Err(r) => {
                    let mut e = Explanation::new(n, "DSMR telegram, unreadable".into());
                    e.outcome = Some(Err(r));
                    e
                }
                Ok(Frame::Telegram { text, crc }) => {
                    explain_telegram(n, text, crc, &mut layout, None)
                }
                Ok(Frame::Encrypted(apdu)) => explain_encrypted(n, apdu, keys),
            });
        }
    }
    out
}

/// An encrypted (Smarty) frame: its header, and the telegram inside when the key opens it.
fn explain_encrypted(n: u64, apdu: &[u8], keys: ExplainKeys<'_>) -> Explanation {
    let mut sec = security_text(apdu);
    let framing = format!("Luxembourg Smarty frame, {} bytes", apdu.len());
    let failed = |sec: String, reason: RejectReason, detail: String| {
        let mut e = Explanation::new(n, framing.clone());
        e.security = Some(sec);
        e.outcome = Some(Err(Rejection { reason, detail }));
        e
    };
    let Some(key) = keys.key else {
        sec.push_str(": key missing");
        return failed(
            sec,
            RejectReason::MissingKey,
            "the meter sends encrypted telegrams: enter the key from your utility".into(),
        );
    };
    let auth = keys
        .auth_key
        .copied()
        .or(keys.smarty_default_auth.then_some(glo::SMARTY_AUTH_KEY));
    let plain = match glo::decrypt(apdu, key, auth.as_ref()) {
        Ok(p) => p,
        Err(e) => {
            sec.push_str(": not decrypted (wrong key?)");
            let reason = match e {
                GloError::Authentication => RejectReason::Authentication,
                _ => RejectReason::Framing,
            };
            return failed(sec, reason, e.to_string());
        }
    };
    sec.push_str(if auth.is_some() {
        ": decrypted, tag checked"
    } else {
        ": decrypted (no authentication key: tag not checked)"
    });
    let mut framer = Framer::leaving_crc_to_caller();
    framer.push(&plain);
    framer.push(b"\r\n");
    let mut e = match framer.next_frame() {
        Some(Ok(Frame::Telegram { text, crc })) => {
            let mut e = explain_telegram(n, text, crc, &mut Layout::default(), Some(sec));
            e.framing = format!("{framing}, holding a telegram of {} bytes", text.len());
            e
        }
        _ => {
            let mut e = Explanation::new(n, framing.clone());
            e.security = Some(sec);
            e.outcome = Some(Err(Rejection {
                reason: RejectReason::Framing,
                detail: "the decrypted frame holds no telegram ('/' … '!')".into(),
            }));
            e
        }
    };
    // Without a tag check, a wrong key shows up as a damaged telegram: say so, as the
    // decoder does.
    if auth.is_none()
        && let Some(Err(r)) = &mut e.outcome
        && matches!(r.reason, RejectReason::Framing | RejectReason::Checksum)
    {
        r.reason = RejectReason::Authentication;
        r.detail = format!(
            "decrypted frame is not a valid telegram (wrong key?): {}",
            r.detail
        );
    }
    e
}

/// Explains one telegram (`text` from `/` to `!`, `crc` the one the meter sent).
fn explain_telegram(
    n: u64,
    text: &[u8],
    crc: Option<u16>,
    layout: &mut Layout,
    security: Option<String>,
) -> Explanation {
    let header_end = text
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(text.len());
    let header = String::from_utf8_lossy(&text[..header_end]);
    let mut e = Explanation::new(
        n,
        format!(
            "DSMR telegram, {} bytes from '/' to '!', header {}",
            text.len(),
            clip(&header, 40)
        ),
    );
    e.security = security;
    let computed = super::crc16(text);
    e.checksum = Some(match crc {
        Some(sent) if sent == computed => {
            format!("CRC-16/ARC sent {sent:04X}, computed {computed:04X}: good")
        }
        Some(sent) => format!(
            "CRC-16/ARC sent {sent:04X}, computed {computed:04X}: mismatch (the telegram was \
             damaged in transit; nothing of it is stored)"
        ),
        None => "none sent (only DSMR 2.2 and 3 send none)".into(),
    });
    let (items, _) = trace_lines(text);
    e.items = items;
    // The verdict as the decoder reaches it; its reading equals the one traced.
    let verdict = layout.decode(text, crc).unwrap_or_else(|| {
        Err(Rejection {
            reason: RejectReason::Framing,
            detail: "no complete telegram".into(),
        })
    });
    e.conclude(verdict);
    e
}

/// Reads the lines one at a time with the decoder's parser, noting what each filled.
fn trace_lines(text: &[u8]) -> (Vec<Item>, Decoded) {
    let mut ids = IdCache::default();
    let mut p = Parser::new(&mut ids);
    let mut items: Vec<(u32, Item)> = Vec::new();
    let mut rest = text;
    let mut line_no = 0u32;
    while !rest.is_empty() {
        line_no += 1;
        let before = p.reading.clone();
        let Some(len) = p.line_at(line_no, rest) else {
            break;
        };
        let line = &rest[..len];
        rest = &rest[len..];
        if let Some(mut item) = line_item(line_no, line) {
            item.fields = changed(&before, &p.reading);
            items.push((line_no, item));
        }
    }
    let channels = p.channel_lines();
    let before = p.reading.clone();
    let decoded = p.finish();
    // What the end of the telegram filled: the M-Bus channels' values (on the lines they came
    // from) and an eMUCS version standing in for the DSMR version.
    let at_end = changed(&before, &decoded.reading);
    for (line, names) in channels {
        if let Some((_, item)) = items.iter_mut().find(|(n, _)| *n == line) {
            item.fields
                .extend(names.into_iter().filter(|f| at_end.contains(f)));
        }
    }
    if at_end.contains(&"dsmr_version") {
        for (_, item) in &mut items {
            if parse_obis(item.code.as_bytes()).0 == Some(O_0_0_96_1_4) {
                item.fields.push("dsmr_version");
            }
        }
    }
    let id = decoded.reading.meter_id.as_ref();
    let items = items
        .into_iter()
        .map(|(line, mut item)| {
            item.field = field_text(&item, id.map(|i| i.redacted()));
            for d in decoded.diagnostics.iter().filter(|d| d.line == line) {
                if item.fields.is_empty() {
                    item.field = "nothing kept".into();
                }
                item.notes.push(format!("not read: {}", d.message));
            }
            if let Some(id) = id {
                mask_id(&mut item, id.as_str());
            }
            item
        })
        .collect();
    (items, decoded)
}

/// One line as sent: its code and raw value (`None` for the header and blank lines).
fn line_item(n: u32, line: &[u8]) -> Option<Item> {
    let mut line = line;
    while let [rest @ .., b'\r' | b'\n'] = line {
        line = rest;
    }
    if line.is_empty() || line[0] == b'/' {
        return None;
    }
    let (code, raw) = if line[0] == b'(' {
        ("(value)".to_string(), line)
    } else {
        let (_, open) = parse_obis(line);
        (
            String::from_utf8_lossy(&line[..open]).into_owned(),
            &line[open..],
        )
    };
    let raw = String::from_utf8_lossy(raw);
    let raw = match parse_obis(code.as_bytes()).0 {
        // Identifiers: the meter's and its M-Bus devices'.
        Some(c) if is_id_code(c) => mask_groups(&raw),
        // Text messages may say anything.
        Some(O_0_0_96_13_0 | O_0_0_96_13_1) => {
            let len = raw.len().saturating_sub(2);
            if len == 0 {
                raw.into_owned()
            } else {
                format!("({len} characters, not shown)")
            }
        }
        _ => clip(&raw, RAW_MAX),
    };
    Some(Item::new(format!("line {n}"), code, raw))
}

/// Whether a code names an identifier: `0-n:96.1.x` of any channel, or `1-0:0.0.0`.
fn is_id_code(code: u64) -> bool {
    let (c, d) = ((code >> 16) as u8, (code >> 8) as u8);
    (c == 96 && d == 1 && code & 0xFF != 4) || code & 0xFF_FFFF == 0
}

/// The canonical fields that changed from `a` to `b`.
fn changed(a: &Reading, b: &Reading) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Quantity::ALL
        .into_iter()
        .filter(|q| a.get(*q) != b.get(*q))
        .map(Quantity::name)
        .collect();
    if a.time != b.time {
        out.push("time");
    }
    if a.meter_id != b.meter_id {
        out.push("meter_id");
    }
    if a.dsmr_version != b.dsmr_version {
        out.push("dsmr_version");
    }
    for (name, x, y) in [
        (
            "demand_peak_month_time",
            a.demand_peak_month_time,
            b.demand_peak_month_time,
        ),
        ("gas_time", a.gas_time, b.gas_time),
        ("water_time", a.water_time, b.water_time),
        ("heat_time", a.heat_time, b.heat_time),
    ] {
        if x != y {
            out.push(name);
        }
    }
    let none = crate::reading::Extras::default();
    let (x, y) = (
        a.extras.as_deref().unwrap_or(&none),
        b.extras.as_deref().unwrap_or(&none),
    );
    for (name, differs) in [
        ("import_kwh_t3", x.import_t3_wh != y.import_t3_wh),
        ("import_kwh_t4", x.import_t4_wh != y.import_t4_wh),
        ("export_kwh_t3", x.export_t3_wh != y.export_t3_wh),
        ("export_kwh_t4", x.export_t4_wh != y.export_t4_wh),
        (
            "reactive_q1_kvarh",
            x.reactive_quadrant_varh[0] != y.reactive_quadrant_varh[0],
        ),
        (
            "reactive_q2_kvarh",
            x.reactive_quadrant_varh[1] != y.reactive_quadrant_varh[1],
        ),
        (
            "reactive_q3_kvarh",
            x.reactive_quadrant_varh[2] != y.reactive_quadrant_varh[2],
        ),
        (
            "reactive_q4_kvarh",
            x.reactive_quadrant_varh[3] != y.reactive_quadrant_varh[3],
        ),
        (
            "power_failure_log",
            x.power_failure_log != y.power_failure_log,
        ),
        (
            "demand_peak_history",
            x.demand_peak_history != y.demand_peak_history,
        ),
        ("text_message", x.text_message != y.text_message),
        (
            "text_message_code",
            x.text_message_code != y.text_message_code,
        ),
    ] {
        if differs {
            out.push(name);
        }
    }
    out
}

/// Where a line went, in words: its fields (the meter id masked), what an M-Bus line is for,
/// or `unmapped`.
fn field_text(item: &Item, id: Option<String>) -> String {
    if !item.fields.is_empty() {
        return item
            .fields
            .iter()
            .map(|f| match (*f, &id) {
                ("meter_id", Some(id)) => format!("meter_id {id}"),
                (f, _) => f.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ");
    }
    let Some(code) = parse_obis(item.code.as_bytes()).0 else {
        return if item.code == "(value)" {
            "unmapped (a value line after no object that takes one)".into()
        } else {
            "unmapped (not an OBIS code)".into()
        };
    };
    let empty = match code {
        O_1_0_99_97_0 => Some("power_failure_log"),
        O_0_0_98_1_0 => Some("demand_peak_history"),
        O_0_0_96_13_0 => Some("text_message"),
        O_0_0_96_13_1 => Some("text_message_code"),
        _ => None,
    };
    if let Some(name) = empty {
        return format!("{name} (empty: nothing to keep)");
    }
    let (a, b) = ((code >> 32) as u8, (code >> 24) as u8);
    if a == 0 && (1..=4).contains(&b) {
        // The channel's codes are those of channel 0 with B set: match on `C.D.E`.
        let what = match code & 0xFF_FFFF {
            O_0_0_24_1_0 => "device type (tells gas, water or heat)",
            O_0_0_96_1_0 | O_0_0_96_1_1 => "equipment id (not stored)",
            O_0_0_24_2_1 | O_0_0_24_2_3 => "value not used (another channel of the same kind was)",
            O_0_0_24_3_0 => "gas object, its value on the next line",
            _ => return "unmapped".into(),
        };
        return format!("M-Bus channel {b}: {what}");
    }
    "unmapped".into()
}
