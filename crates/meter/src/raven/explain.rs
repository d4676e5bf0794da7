//! What the RAVEn decoder makes of each XML fragment, for `hearth decode --explain`: every
//! child element with its raw text and the canonical field it went to (or "unmapped"), why a
//! fragment carries no reading, and any value plausibility dropped.
//!
//! A slow path beside the decoder: fragments are found here the way the decoder finds them,
//! and read by the decoder's own [`super::decode_fragment`]. The meter's and the stick's MAC
//! ids are masked to their last four characters; keys and passwords are not shown.

use super::{MAX_FRAGMENT_LEN, decode_fragment, find, trim};
use crate::decoder::{RejectReason, Rejection};
use crate::explain::{Explanation, Item, clip, finish_items, mask};

/// Explains every fragment of a capture.
pub fn explain_capture(bytes: &[u8]) -> Vec<Explanation> {
    let mut out = Vec::new();
    let mut rest = bytes;
    let mut n = 0u64;
    while let Some(lt) = rest.iter().position(|&b| b == b'<') {
        rest = &rest[lt..];
        let Some(gt) = rest.iter().position(|&b| b == b'>') else {
            break;
        };
        let name = &rest[1..gt];
        if name.is_empty() || name.len() > 40 || !name.iter().all(u8::is_ascii_alphanumeric) {
            rest = &rest[1..];
            continue;
        }
        let mut close = b"</".to_vec();
        close.extend_from_slice(name);
        close.push(b'>');
        let Some(at) = find(rest, &close).filter(|at| at + close.len() <= MAX_FRAGMENT_LEN) else {
            n += 1;
            let mut e = Explanation::new(
                n,
                format!(
                    "RAVEn <{}> fragment, unreadable",
                    String::from_utf8_lossy(name)
                ),
            );
            e.outcome = Some(Err(Rejection {
                reason: RejectReason::Framing,
                detail: "the fragment never ends (cut short, or longer than 4096 bytes)".into(),
            }));
            out.push(e);
            break;
        };
        n += 1;
        let end = at + close.len();
        let kind = name;
        let inner = &rest[gt + 1..at];
        let mut e = Explanation::new(
            n,
            format!(
                "RAVEn <{}> fragment, {end} bytes (XML carries no checksum)",
                String::from_utf8_lossy(kind)
            ),
        );
        let reads = matches!(kind, b"InstantaneousDemand" | b"CurrentSummationDelivered");
        e.items = children(inner, reads);
        if reads {
            let verdict = decode_fragment(kind, inner);
            if let Ok(d) = &verdict {
                finish_items(&mut e.items, d, false);
            }
            e.conclude(verdict);
        } else {
            for i in &mut e.items {
                i.field = "unmapped".into();
            }
            e.skipped = Some(
                "this fragment carries no reading (only InstantaneousDemand and \
                 CurrentSummationDelivered do)"
                    .into(),
            );
        }
        out.push(e);
        rest = &rest[end..];
    }
    out
}

/// The child elements of a fragment, each with what it becomes.
fn children(inner: &[u8], reads: bool) -> Vec<Item> {
    let mut out = Vec::new();
    let mut rest = inner;
    let mut k = 0;
    while let Some(lt) = rest.iter().position(|&b| b == b'<') {
        rest = &rest[lt..];
        let Some(gt) = rest.iter().position(|&b| b == b'>') else {
            break;
        };
        let name = String::from_utf8_lossy(&rest[1..gt]).into_owned();
        let close = format!("</{name}>");
        let Some(len) = find(&rest[gt + 1..], close.as_bytes()) else {
            rest = &rest[gt + 1..];
            continue;
        };
        let text = String::from_utf8_lossy(trim(&rest[gt + 1..gt + 1 + len])).into_owned();
        rest = &rest[gt + 1 + len + close.len()..];
        k += 1;
        let raw = match name.as_str() {
            n if n.ends_with("MacId") => mask(&text),
            "InstallCode" | "LinkKey" | "Auth" | "Account" => "(not shown)".into(),
            _ => clip(&text, 30),
        };
        let mut item = Item::new(format!("#{k}"), name.clone(), raw);
        if reads {
            let (fields, field): (&[&'static str], &str) = match name.as_str() {
                "MeterMacId" => (&["meter_id"], ""),
                "TimeStamp" => (&["time"], "time (seconds since 2000-01-01 UTC)"),
                "Demand" => (
                    &["import_w", "export_w"],
                    "import_w / export_w (signed kW × Multiplier / Divisor)",
                ),
                "SummationDelivered" => {
                    (&["import_kwh"], "import_kwh (kWh × Multiplier / Divisor)")
                }
                "SummationReceived" => (&["export_kwh"], "export_kwh (kWh × Multiplier / Divisor)"),
                "Multiplier" | "Divisor" => (&[], "scales Demand and the summations"),
                _ => (&[], "unmapped"),
            };
            item.fields = fields.to_vec();
            item.field = field.to_string();
        }
        out.push(item);
    }
    out
}
