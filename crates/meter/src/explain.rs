//! What `hearth decode --explain` prints, for every protocol: one [`Explanation`] per frame
//! (framing, checksum, security, and each value the meter sent with the field it went to, or
//! "unmapped", and any value plausibility dropped), and [`explain_capture`], which picks the
//! protocol's own explainer.
//!
//! Each protocol explains itself beside its decoder (`dlms::explain`, `dsmr::explain`,
//! `sml::explain`, `iec62056_21::explain`, `raven::explain`), on a path of its own: the
//! decoders' fast paths are not touched, and the verdict printed is the one the decoder
//! reaches. Identifiers are personal data: a meter id is shown masked to its last four
//! characters ([`mask`]), also where the raw value holds it (a DSMR `0-0:96.1.1` line in hex,
//! an SML server id).

use crate::decoder::{Decoded, Rejection};
use crate::glo::Key;
use crate::plausible::{self, Implausible};
use crate::reading::{Protocol, write_fixed};
use jiff::tz::TimeZone;
use std::fmt::{self, Write as _};

pub use crate::dlms::explain::{ApduTrace, ElementTrace, ListTrace};

/// Largest capture `--explain` reads (it is for a few frames, not a year).
pub const MAX_CAPTURE: usize = 4 * 1024 * 1024;

/// The last four characters of an identifier, the rest masked.
pub fn mask(id: &str) -> String {
    let n = id.chars().count();
    let keep: String = id.chars().skip(n.saturating_sub(4)).collect();
    format!("…{keep}")
}

/// One value of a text or SML frame as the meter sent it (a DSMR or IEC 62056-21 line, an SML
/// list entry, a RAVEn element).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Item {
    /// Where it is: `line 5`, `entry 3`, `#2`.
    pub place: String,
    /// Its name: the OBIS code as sent, or the element's name.
    pub code: String,
    /// The raw value with its unit, identifiers masked.
    pub raw: String,
    /// The decimal scaler the meter sent with it (SML).
    pub scaler: Option<i8>,
    /// Where it went: canonical field names (design §3), or `unmapped`.
    pub field: String,
    /// The canonical fields it filled, to tell which a dropped value came from.
    pub fields: Vec<&'static str>,
    /// Why the value was not kept: not readable, or dropped by plausibility.
    pub notes: Vec<String>,
}

impl Item {
    /// An item mapped to nothing yet.
    pub fn new(place: String, code: String, raw: String) -> Self {
        Item {
            place,
            code,
            raw,
            ..Item::default()
        }
    }
}

/// The explanation of one frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    /// 1-based frame number in the capture.
    pub frame: u64,
    /// How the frame came (`HDLC frame, 131 bytes, checksums good`, `DSMR telegram, …`).
    pub framing: String,
    /// The checksum sent and the one computed, and whether they match.
    pub checksum: Option<String>,
    /// `none`, or the ciphering header and whether it was decrypted.
    pub security: Option<String>,
    /// The APDU type (`data-notification, invoke id …`, `general-block-transfer block 2`).
    pub apdu: Option<String>,
    /// The body of a DLMS data-notification, when one was reached.
    pub trace: Option<ApduTrace>,
    /// The values of a text or SML frame.
    pub items: Vec<Item>,
    /// The decoder's verdict: a reading (plausibility-checked, as `hearth decode` stores it)
    /// or the rejection; `None` for a block of a longer transfer, or a frame skipped.
    pub outcome: Option<Result<Decoded, Rejection>>,
    /// Why a well-formed frame carries no reading (a RAVEn price or device fragment).
    pub skipped: Option<String>,
}

impl Explanation {
    /// A frame with nothing explained yet.
    pub fn new(frame: u64, framing: String) -> Self {
        Explanation {
            frame,
            framing,
            checksum: None,
            security: None,
            apdu: None,
            trace: None,
            items: Vec::new(),
            outcome: None,
            skipped: None,
        }
    }

    /// Sets the verdict on `decoded`: checks it for plausibility as `hearth decode` does (a
    /// dropped field told on the reading and on the item it came from).
    pub(crate) fn conclude(&mut self, decoded: Result<Decoded, Rejection>) {
        let mut decoded = decoded;
        if let Ok(d) = &mut decoded {
            let dropped = plausible::check(&mut d.reading);
            self.mark_dropped(&dropped);
            for i in dropped {
                d.diagnostics.push(i.diagnostic());
            }
        }
        self.outcome = Some(decoded);
    }

    /// Tells each dropped value on the last item that filled its field.
    fn mark_dropped(&mut self, dropped: &[Implausible]) {
        for d in dropped {
            let name = d.field.name();
            if let Some(item) = self
                .items
                .iter_mut()
                .rev()
                .find(|i| i.fields.contains(&name))
            {
                item.notes.push(format!(
                    "{name} dropped, {} is implausible: {}",
                    d.value,
                    d.rule.explain()
                ));
            }
        }
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "frame {}: {}", self.frame, self.framing)?;
        if let Some(s) = &self.security {
            writeln!(f, "  security: {s}")?;
        }
        if let Some(c) = &self.checksum {
            writeln!(f, "  checksum: {c}")?;
        }
        if let Some(a) = &self.apdu {
            writeln!(f, "  APDU: {a}")?;
        }
        if let Some(t) = &self.trace {
            for (i, l) in t.lists.iter().enumerate() {
                writeln!(f, "  list {}: {}", i + 1, l.shape)?;
                if let Some(layout) = &l.layout {
                    writeln!(f, "  layout: {layout}")?;
                }
                for e in &l.elements {
                    let scaler = e.scaler.map_or("-".to_string(), |s| format!("10^{s}"));
                    writeln!(
                        f,
                        "    #{:<3} {:<21} {:<28} {:<6} -> {}",
                        e.index, e.type_name, e.raw, scaler, e.field
                    )?;
                }
            }
        }
        let scalers = self.items.iter().any(|i| i.scaler.is_some());
        for i in &self.items {
            write!(f, "    {:<8} {:<16} {:<30} ", i.place, i.code, i.raw)?;
            if scalers {
                let s = i.scaler.map_or("-".to_string(), |s| format!("10^{s}"));
                write!(f, "{s:<6} ")?;
            }
            write!(f, "-> {}", i.field)?;
            for n in &i.notes {
                write!(f, "; {n}")?;
            }
            writeln!(f)?;
        }
        match &self.outcome {
            None => match &self.skipped {
                Some(why) => writeln!(f, "  result: skipped, {why}"),
                None => writeln!(f, "  result: waiting for the next block"),
            },
            Some(Err(r)) => writeln!(f, "  result: rejected, {}: {}", r.reason.name(), r.detail),
            Some(Ok(d)) => {
                let mut s = String::new();
                if let Some(id) = &d.reading.meter_id {
                    let _ = write!(s, " meter_id={}", id.redacted());
                }
                for (q, v) in d.reading.quantities() {
                    s.push(' ');
                    s.push_str(q.name());
                    s.push('=');
                    let _ = write_fixed(&mut s, v, q.decimals());
                }
                writeln!(f, "  result: reading{s}")?;
                for dg in &d.diagnostics {
                    writeln!(f, "  note: #{} ({}): {}", dg.line, dg.code, dg.message)?;
                }
                Ok(())
            }
        }
    }
}

/// The keys `--explain` may use for an encrypted capture.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExplainKeys<'a> {
    /// The encryption key (DLMS, Luxembourg Smarty).
    pub key: Option<&'a Key>,
    /// The authentication key; `None` leaves the tag unchecked (for DSMR, Smarty's default
    /// authentication key is used when `smarty_default_auth` is set).
    pub auth_key: Option<&'a Key>,
    /// Whether an encrypted DSMR telegram's tag is checked with Smarty's published
    /// authentication key when no other was given.
    pub smarty_default_auth: bool,
}

/// Explains every frame of a capture in `protocol`; `None` recognises it from the bytes (a
/// capture nothing recognises is read as DLMS, whose bare APDUs carry no signature).
/// Glow MQTT payloads are not explained (an empty answer).
pub fn explain_capture(
    protocol: Option<Protocol>,
    bytes: &[u8],
    keys: ExplainKeys<'_>,
    tz: &TimeZone,
) -> Vec<Explanation> {
    let protocol = protocol.unwrap_or_else(|| match crate::auto::sniff(bytes) {
        crate::auto::Sniff::Found { detected, .. } => detected.protocol(),
        _ => Protocol::Dlms,
    });
    match protocol {
        Protocol::Dsmr => crate::dsmr::explain::explain_capture(bytes, keys),
        Protocol::Sml => crate::sml::explain::explain_capture(bytes),
        Protocol::Iec62056_21 => crate::iec62056_21::explain::explain_capture(bytes, tz),
        Protocol::Raven => crate::raven::explain::explain_capture(bytes),
        Protocol::Dlms => crate::dlms::explain::explain_capture(bytes, keys.key, keys.auth_key, tz),
        _ => Vec::new(),
    }
}

/// Each item's field in words (the meter id masked), what was not read, and the meter id
/// masked wherever a raw value still holds it.
///
/// An item's place ends in the number the decoder's diagnostics carry (`line 5`, `entry 3`);
/// with `by_code` a diagnostic must also name the item's code (SML numbers its messages and
/// its entries apart).
pub(crate) fn finish_items(items: &mut [Item], decoded: &Decoded, by_code: bool) {
    let id = decoded.reading.meter_id.as_ref();
    for item in items.iter_mut() {
        if item.field.is_empty() {
            item.field = item
                .fields
                .iter()
                .map(|f| match (*f, id) {
                    ("meter_id", Some(id)) => format!("meter_id {}", id.redacted()),
                    (f, _) => f.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", ");
        }
        let index = item
            .place
            .rsplit(' ')
            .next()
            .and_then(|i| i.parse::<u32>().ok());
        for d in &decoded.diagnostics {
            if Some(d.line) == index && (!by_code || d.code == item.code) {
                item.notes.push(format!("not read: {}", d.message));
            }
        }
        if let Some(id) = id {
            mask_id(item, id.as_str());
        }
    }
}

/// Text a meter sent, cut to `max` characters (`…` marks the cut).
pub(crate) fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// `(4B38…3037)` → `(…3037)`, group by group.
pub(crate) fn mask_groups(raw: &str) -> String {
    let mut out = String::new();
    for g in raw.split_inclusive(')') {
        match g.strip_prefix('(').and_then(|g| g.strip_suffix(')')) {
            Some("") => out.push_str("()"),
            Some(inner) => {
                out.push('(');
                out.push_str(&mask(inner));
                out.push(')');
            }
            None => out.push_str(&mask(g)),
        }
    }
    out
}

/// Masks the meter id wherever a raw value holds it, in clear or as hex of its text.
pub(crate) fn mask_id(item: &mut Item, id: &str) {
    if id.len() < 5 {
        return;
    }
    let hex: String = id.bytes().map(|b| format!("{b:02X}")).collect();
    for whole in [id.to_string(), hex.clone(), hex.to_lowercase()] {
        if item.raw.contains(&whole) {
            item.raw = item.raw.replace(&whole, &mask(&whole));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_clipped_and_ids_masked() {
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
        assert_eq!(mask("ISK1030712345678"), "…5678");
        assert_eq!(mask("ab"), "…ab");
        assert_eq!(mask_groups("(4B384547303034303436333935353037)"), "(…3037)");
        assert_eq!(mask_groups("()"), "()");
        assert_eq!(mask_groups("(ab)(123456)"), "(…ab)(…3456)");
        let mut item = Item::new("line 1".into(), "x".into(), "(K8EG004046395507)".into());
        mask_id(&mut item, "K8EG004046395507");
        assert_eq!(item.raw, "(…5507)");
        let mut item = Item::new("line 1".into(), "x".into(), "(4b38454730)".into());
        mask_id(&mut item, "K8EG0");
        assert_eq!(item.raw, "(…4730)");
    }
}
