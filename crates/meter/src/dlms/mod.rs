//! DLMS/COSEM push (data-notification APDUs) as Nordic and Austrian HAN ports send it.
//!
//! The meter pushes one HDLC frame (see [`crate::hdlc`]) every few seconds; its information
//! field holds the LLC header `E6 E7 00` and a data-notification APDU (tag `0x0F`):
//!
//! ```text
//! 0F | invoke id (4) | date-time (0C + 12 bytes, or 00) | notification body (A-XDR Data)
//! ```
//!
//! Austrian meters send the same APDUs in wired M-Bus long frames instead (see [`mbus`]);
//! the decoder recognises either framing.
//!
//! Encrypted meters wrap that APDU in general-glo-ciphering (`0xDB`, AES-128-GCM, see
//! [`crate::glo`]); give the keys with [`DlmsDecoder::with_key`]. An APDU too long for one
//! frame may come in general-block-transfer blocks (`0xE0`, see [`block_transfer`]), joined
//! by the decoder before decrypting and decoding.
//!
//! The body comes in four shapes, all handled here:
//! - **A push object list** (Landis+Gyr E450/E360, IDIS pushes): a structure whose first
//!   element is the push setup's list of capture objects (`{class, OBIS, attribute, data
//!   index}`), the rest one value per object. Values are mapped by those OBIS codes, scaled by
//!   the scaler-unit attribute when the push carries it; energy and power registers without
//!   one are in Wh, varh, W and var, and any other value without one is not stored.
//! - **OBIS structures** (Aidon): an array of `{OBIS, value, {scaler, unit}}`.
//! - **OBIS pairs** (Kamstrup, Kaifa in Sweden): one structure of `OBIS, value, OBIS, value…`,
//!   with no scaler: the vendor's fixed resolution applies (Kamstrup: 0.01 A, 1 V, 10 Wh, but
//!   1 mA in its 65-element long list, see [`layout::KAMSTRUP_MILLIAMP_LIST_LEN`]; Kaifa:
//!   1 mA, 0.1 V, 1 Wh).
//! - **Positional** (Kaifa in Norway, Iskra in Slovenia): a structure of bare values whose
//!   meaning only the family's documentation gives. Such a list is mapped only when its
//!   signature (value count and types, list identifier or logical device name) matches one
//!   known layout (see [`layout`]); any other is refused as
//!   [`RejectReason::UnknownLayout`], never guessed.
//!
//! The meter clock (`0-0:1.0.0`) becomes [`Reading::time`]; when the meter leaves the UTC
//! deviation unspecified, the local time is resolved in the decoder's time zone
//! (Europe/Oslo rules by default, the same as Stockholm's and Vienna's).

pub mod axdr;
pub mod block_transfer;
pub mod dump;
pub mod explain;
pub mod layout;
pub mod mbus;
pub mod obis;

use crate::decoder::{Decoded, Decoder, RejectReason, Rejection, Stats};
use crate::glo::{self, GloError, Key};
use crate::hdlc::HdlcFramer;
use crate::reading::Protocol;
use axdr::Value;
use block_transfer::Joiner;
use jiff::tz::TimeZone;
use mbus::MbusFramer;
use obis::{Dimension, Obis, ReadingBuilder, Target};

/// Streaming decoder for DLMS/COSEM push meters: HDLC frames (Nordic HAN ports) or wired
/// M-Bus long frames (Austrian customer interfaces, see [`mbus`]). The framing is recognised
/// from the first good frame and kept from then on.
#[derive(Debug)]
pub struct DlmsDecoder {
    framer: HdlcFramer,
    mbus: MbusFramer,
    link: Option<Link>,
    key: Option<Key>,
    auth_key: Option<Key>,
    tz: TimeZone,
    stats: Stats,
    /// Joins general-block-transfer blocks.
    blocks: Joiner,
    /// A result due after the one just returned (a block transfer that broke off another).
    queued: Option<Result<Decoded, Rejection>>,
}

impl Default for DlmsDecoder {
    fn default() -> Self {
        DlmsDecoder::new()
    }
}

/// The default zone for meter clocks without a UTC deviation (Norway, Sweden, Austria all
/// follow the same Central European rules).
pub fn default_time_zone() -> TimeZone {
    TimeZone::get("Europe/Oslo").unwrap_or_else(|_| {
        TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3")
            .unwrap_or(TimeZone::fixed(jiff::tz::Offset::UTC))
    })
}

impl DlmsDecoder {
    /// A decoder for unencrypted meters, resolving local meter clocks in Europe/Oslo rules.
    pub fn new() -> Self {
        DlmsDecoder {
            framer: HdlcFramer::new(),
            mbus: MbusFramer::new(),
            link: None,
            key: None,
            auth_key: None,
            tz: default_time_zone(),
            stats: Stats::default(),
            blocks: Joiner::new(),
            queued: None,
        }
    }

    /// Decrypts general-glo-ciphering frames with the utility's encryption key and, if it gave
    /// one, the authentication key (without it the GCM tag is not checked, and a wrong key
    /// shows up as an unreadable frame).
    pub fn with_key(mut self, key: Key, auth_key: Option<Key>) -> Self {
        self.key = Some(key);
        self.auth_key = auth_key;
        self
    }

    /// Resolves meter clocks sent without a UTC deviation in `tz`.
    pub fn with_time_zone(mut self, tz: TimeZone) -> Self {
        self.tz = tz;
        self
    }

    /// Decodes one HDLC information field (LLC header optional, then the APDU, possibly
    /// ciphered). Useful for sources that deliver APDUs without HDLC framing.
    pub fn decode_info(&self, info: &[u8]) -> Result<Decoded, Rejection> {
        decode_info(info, self.key.as_ref(), self.auth_key.as_ref(), &self.tz)
    }
}

/// The link layer a meter uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    Hdlc,
    Mbus,
}

impl DlmsDecoder {
    /// The next frame's result on `link`; blocks of a general-block-transfer are joined
    /// (frames holding a block other than the last give nothing).
    fn next_from(&mut self, link: Link) -> Option<Result<Decoded, Rejection>> {
        if let Some(queued) = self.queued.take() {
            return Some(queued);
        }
        let (key, ak, tz) = (self.key.as_ref(), self.auth_key.as_ref(), &self.tz);
        loop {
            let info = match link {
                Link::Hdlc => self.framer.next_frame()?.map(|f| f.info),
                Link::Mbus => self.mbus.next_apdu()?,
            };
            let info = match info {
                Err(r) => return Some(Err(r)),
                Ok(info) => info,
            };
            let apdu = strip_llc(info);
            if apdu.first() != Some(&block_transfer::TAG) {
                return Some(decode_info(apdu, key, ak, tz));
            }
            let block = match block_transfer::parse_block(apdu) {
                Ok(b) => b,
                Err(e) => {
                    return Some(Err(reject(
                        RejectReason::Framing,
                        format!("block transfer: {}", e.0),
                    )));
                }
            };
            let joined = self.blocks.push(&block);
            let decoded = joined.apdu.map(|apdu| decode_joined(&apdu, key, ak, tz));
            match (joined.lost, decoded) {
                (None, None) => continue,
                (Some(lost), None) => return Some(Err(lost)),
                (None, Some(d)) => return Some(d),
                (Some(lost), Some(d)) => {
                    self.queued = Some(d);
                    return Some(Err(lost));
                }
            }
        }
    }
}

impl Decoder for DlmsDecoder {
    fn push(&mut self, bytes: &[u8]) {
        if self.link != Some(Link::Mbus) {
            self.framer.push(bytes);
        }
        if self.link != Some(Link::Hdlc) {
            self.mbus.push(bytes);
        }
        self.stats.skipped_bytes = match self.link {
            Some(Link::Mbus) => self.mbus.skipped_bytes(),
            _ => self.framer.skipped_bytes(),
        };
    }

    fn next(&mut self) -> Option<Result<Decoded, Rejection>> {
        let result = match self.link {
            Some(link) => self.next_from(link),
            None => {
                // Until one framing has produced a good frame, try both; the first success
                // decides. Rejections of either are reported meanwhile.
                let mut found = None;
                for link in [Link::Hdlc, Link::Mbus] {
                    if let Some(r) = self.next_from(link) {
                        if r.is_ok() {
                            self.link = Some(link);
                        }
                        found = Some(r);
                        break;
                    }
                }
                found
            }
        };
        self.stats.skipped_bytes = match self.link {
            Some(Link::Mbus) => self.mbus.skipped_bytes(),
            _ => self.framer.skipped_bytes(),
        };
        match &result {
            Some(Ok(_)) => self.stats.accepted += 1,
            Some(Err(r)) => self.stats.count_rejection(r.reason),
            None => {}
        }
        result
    }

    fn stats(&self) -> &Stats {
        &self.stats
    }
}

fn reject(reason: RejectReason, detail: impl Into<String>) -> Rejection {
    Rejection {
        reason,
        detail: detail.into(),
    }
}

/// See [`DlmsDecoder::decode_info`].
pub fn decode_info(
    info: &[u8],
    key: Option<&Key>,
    auth_key: Option<&Key>,
    tz: &TimeZone,
) -> Result<Decoded, Rejection> {
    let apdu = strip_llc(info);
    if apdu.first() == Some(&block_transfer::TAG) {
        // Stateless: only a transfer of one block can be read here.
        return match block_transfer::parse_block(apdu) {
            Ok(b) if b.number == 1 && b.last => decode_joined(b.data, key, auth_key, tz),
            Ok(_) => Err(reject(
                RejectReason::Framing,
                "one block of a longer block transfer (feed whole frames to DlmsDecoder)",
            )),
            Err(e) => Err(reject(
                RejectReason::Framing,
                format!("block transfer: {}", e.0),
            )),
        };
    }
    decode_apdu(apdu, key, auth_key, tz)
}

/// The APDU after an optional LLC header (`E6 E7 00` from the meter, `E6 E6 00` echoed).
fn strip_llc(info: &[u8]) -> &[u8] {
    match info {
        [0xE6, 0xE7 | 0xE6, 0x00, rest @ ..] => rest,
        _ => info,
    }
}

/// Decodes the APDU a block transfer carried (never another block transfer).
fn decode_joined(
    apdu: &[u8],
    key: Option<&Key>,
    auth_key: Option<&Key>,
    tz: &TimeZone,
) -> Result<Decoded, Rejection> {
    if apdu.first() == Some(&block_transfer::TAG) {
        return Err(reject(
            RejectReason::Payload,
            "a block transfer inside a block transfer",
        ));
    }
    decode_apdu(apdu, key, auth_key, tz)
}

/// Decodes a data-notification, deciphering general-glo-ciphering first.
fn decode_apdu(
    apdu: &[u8],
    key: Option<&Key>,
    auth_key: Option<&Key>,
    tz: &TimeZone,
) -> Result<Decoded, Rejection> {
    if apdu.first() == Some(&glo::TAG_GENERAL_GLO_CIPHERING) {
        let Some(key) = key else {
            return Err(reject(
                RejectReason::MissingKey,
                "the meter encrypts its data; enter the encryption key from your grid operator",
            ));
        };
        let plain = glo::decrypt(apdu, key, auth_key).map_err(|e| match e {
            GloError::Authentication => reject(
                RejectReason::Authentication,
                "the frame failed authentication: the encryption or authentication key is wrong, or the bytes were damaged",
            ),
            GloError::Truncated { .. } | GloError::Header(_) => {
                reject(RejectReason::Framing, format!("encrypted frame: {e}"))
            }
            other => reject(RejectReason::Payload, other.to_string()),
        })?;
        if plain.first() != Some(&0x0F) {
            // Without an authentication key there is no tag to check: a wrong encryption key
            // shows up as plaintext that is no APDU.
            return Err(reject(
                RejectReason::Authentication,
                "the decrypted frame makes no sense: the encryption key is probably wrong",
            ));
        }
        return decode_notification(&plain, tz);
    }
    decode_notification(apdu, tz)
}

/// Decodes a plaintext data-notification APDU (tag `0x0F`).
pub fn decode_notification(apdu: &[u8], tz: &TimeZone) -> Result<Decoded, Rejection> {
    decode_notification_traced(apdu, tz, None)
}

/// [`decode_notification`], recording what it read into `trace` when given (`--explain`).
pub(crate) fn decode_notification_traced(
    apdu: &[u8],
    tz: &TimeZone,
    mut trace: Option<&mut explain::ApduTrace>,
) -> Result<Decoded, Rejection> {
    let Some((&tag, rest)) = apdu.split_first() else {
        return Err(reject(RejectReason::Payload, "empty DLMS message"));
    };
    if tag != 0x0F {
        return Err(reject(
            RejectReason::Payload,
            format!("not a DLMS data-notification (tag 0x{tag:02X})"),
        ));
    }
    let Some(rest) = rest.get(4..) else {
        return Err(reject(RejectReason::Framing, "data-notification cut short"));
    };
    if let Some(t) = trace.as_deref_mut() {
        t.invoke_id = apdu
            .get(1..5)
            .map(|b| b.iter().fold(0u32, |acc, &x| acc << 8 | u32::from(x)));
    }
    let (header_time, mut body) = match rest {
        [0x00, body @ ..] => (None, body),
        [0x0C, body @ ..] if body.len() >= 12 => (Some(&body[..12]), &body[12..]),
        [0x09, 0x0C, body @ ..] if body.len() >= 12 => (Some(&body[..12]), &body[12..]),
        _ => {
            return Err(reject(
                RejectReason::Payload,
                "data-notification without a readable date-time field",
            ));
        }
    };
    if let (Some(t), Some(h)) = (trace.as_deref_mut(), header_time) {
        t.header_time = Some(explain::date_time_text(h));
    }
    let mut items = Vec::new();
    while !body.is_empty() {
        match axdr::parse_value(body) {
            Ok((v, r)) => {
                items.push((v, &body[..body.len() - r.len()]));
                body = r;
            }
            Err(e) => {
                return Err(reject(
                    RejectReason::Payload,
                    format!("data-notification body unreadable: {}", e.0),
                ));
            }
        }
    }
    let mut b = ReadingBuilder::new(Protocol::Dlms);
    if let Some(t) = header_time {
        clock(&mut b, 0, Obis([0, 0, 1, 0, 0, 255]), t, tz);
    }
    let mut any_list = false;
    for (item, bytes) in &items {
        match item {
            Value::Octets(t) | Value::DateTime(t) if t.len() == 12 => {
                clock(&mut b, 0, Obis([0, 0, 1, 0, 0, 255]), t, tz);
            }
            Value::List(list) => {
                any_list = true;
                let mut lt = trace.as_ref().map(|_| explain::ListTrace::default());
                let r = interpret(&mut b, list, bytes, tz, lt.as_mut());
                if let (Some(t), Some(lt)) = (trace.as_deref_mut(), lt) {
                    t.lists.push(lt);
                }
                r?;
            }
            _ => b.diagnose(0, "body", "unexpected value outside the list; ignored"),
        }
    }
    if !any_list {
        return Err(reject(
            RejectReason::Payload,
            "data-notification carries no list of values",
        ));
    }
    Ok(b.finish())
}

/// Sets the reading time from a COSEM date-time, or records why it could not.
fn clock(b: &mut ReadingBuilder, index: u32, obis: Obis, bytes: &[u8], tz: &TimeZone) {
    match axdr::date_time(bytes, tz) {
        Ok(t) => b.time(t),
        Err(axdr::DateTimeError::Unspecified) => {
            b.diagnose(index, obis, "the meter clock is not set");
        }
        Err(_) => b.diagnose(index, obis, "the meter clock names no real date and time"),
    }
}

/// Meter families whose lists carry no scaler: their fixed resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Vendor {
    Kamstrup,
    /// Kamstrup's long list with per-phase energies and power factors, whose currents come in
    /// mA (see [`layout::KAMSTRUP_MILLIAMP_LIST_LEN`]).
    KamstrupMilliamp,
    Kaifa,
    Aidon,
    Unknown,
}

impl Vendor {
    fn from_list_id(s: &[u8]) -> Option<Vendor> {
        if s.starts_with(b"Kamstrup") {
            Some(Vendor::Kamstrup)
        } else if s.starts_with(b"KFM") {
            Some(Vendor::Kaifa)
        } else if s.starts_with(b"AIDON") {
            Some(Vendor::Aidon)
        } else {
            None
        }
    }

    /// The scaler a value without `{scaler, unit}` has, for this vendor and dimension.
    fn default_scaler(self, dim: Dimension) -> i8 {
        match (self, dim) {
            (Vendor::Kamstrup, Dimension::Energy | Dimension::ReactiveEnergy) => 1,
            (Vendor::Kamstrup, Dimension::Current) => -2,
            (Vendor::KamstrupMilliamp, Dimension::Energy | Dimension::ReactiveEnergy) => 1,
            (Vendor::KamstrupMilliamp, Dimension::Current) => -3,
            (Vendor::KamstrupMilliamp, Dimension::Ratio) => -2,
            (Vendor::Kaifa, Dimension::Current) => -3,
            (Vendor::Kaifa, Dimension::Voltage) => -1,
            (Vendor::Aidon, Dimension::Current | Dimension::Voltage) => -1,
            _ => 0,
        }
    }
}

fn detect_vendor(list: &[Value<'_>]) -> Vendor {
    list.iter()
        .take(4)
        .find_map(|v| match v {
            Value::Octets(s) | Value::Text(s) => Vendor::from_list_id(s),
            Value::List(inner) => inner.get(1).and_then(|v| match v {
                Value::Octets(s) | Value::Text(s) => Vendor::from_list_id(s),
                _ => None,
            }),
            _ => None,
        })
        .unwrap_or(Vendor::Unknown)
}

fn is_obis(v: &Value<'_>) -> Option<Obis> {
    match v {
        Value::Octets(s) if s.len() == 6 && s[0] <= 1 && s[5] == 0xFF => Obis::from_bytes(s),
        _ => None,
    }
}

/// Places the value after the top-level OBIS code at `i` (with the scaler and unit after it,
/// if sent) and records it in the trace (`tag`: the value's A-XDR type); how many elements the
/// pair took (2, or 3 with a scaler and unit).
#[allow(clippy::too_many_arguments)]
fn place_pair(
    b: &mut ReadingBuilder,
    list: &[Value<'_>],
    i: usize,
    code: Obis,
    vendor: Vendor,
    tz: &TimeZone,
    trace: Option<&mut explain::ListTrace>,
    tag: Option<u8>,
) -> usize {
    let su = scaler_unit(list.get(i + 2));
    let (scaler, unit) = scaler_or_default(code, su, vendor);
    place(b, index(i + 1), code, &list[i + 1], scaler, unit, tz);
    if let Some(t) = trace {
        t.push(
            index(i + 1),
            tag,
            &list[i + 1],
            Some(scaler),
            Some(code),
            None,
        );
    }
    if su.is_some() { 3 } else { 2 }
}

/// How `--explain` names the meter number that ends a Netz NÖ list.
const METER_NUMBER: &str =
    "meter id (the meter number: the last value, after the power factor, without OBIS code)";

/// Whether `v`, the last value of a list of OBIS-value pairs that follows the power factor
/// (`1-0:13.7.0`), is the meter number the Austrian Kaifa MA309 and Sagemcom T210-D of Netz
/// Niederösterreich end their push with: 12 letters and digits, without an OBIS code (Netz NÖ,
/// "Smart Meter Kundenschnittstelle", 3rd edition, March 2022; read the same way by
/// esphome-dlms-meter's EVN variant, which names it the meter number).
fn is_meter_number(last_code: Option<Obis>, v: &Value<'_>) -> bool {
    matches!(last_code, Some(c) if c.0[0] == 1 && c.cde() == (13, 7, 0))
        && matches!(v, Value::Octets(b) if b.len() == 12 && b.iter().all(u8::is_ascii_alphanumeric))
}

/// Whether `list` is structures of `{OBIS, value, {scaler, unit}}` mixed with top-level OBIS
/// codes each followed by its value (and its scaler and unit), as the Kaifa MA309 of
/// Vorarlberg Netz pushes (its clock as a top-level pair, then structures): every element
/// accounted for, at most a name first, at least one of each. A value that belongs to no OBIS
/// code makes it no such list (it is then read, or refused, as before).
fn mixed_shape(list: &[Value<'_>]) -> bool {
    let (mut structures, mut pairs, mut i) = (0, 0, 0);
    while i < list.len() {
        match &list[i] {
            Value::List(s) if s.first().and_then(is_obis).is_some() && s.len() >= 2 => {
                structures += 1;
                i += 1;
            }
            v if is_obis(v).is_some() && i + 1 < list.len() => {
                pairs += 1;
                i += if scaler_unit(list.get(i + 2)).is_some() {
                    3
                } else {
                    2
                };
            }
            Value::Text(_) | Value::Octets(_) if i == 0 => i += 1,
            _ => return false,
        }
    }
    structures > 0 && pairs > 0
}

fn scaler_unit(v: Option<&Value<'_>>) -> Option<(i8, u8)> {
    match v {
        Some(Value::List(su)) => match su.as_slice() {
            [Value::Int(s), Value::Int(u)] => {
                Some((i8::try_from(*s).ok()?, u8::try_from(*u).ok()?))
            }
            _ => None,
        },
        _ => None,
    }
}

/// The scaler and unit of a value: those the meter sent, else the vendor's fixed resolution.
fn scaler_or_default(code: Obis, su: Option<(i8, u8)>, vendor: Vendor) -> (i8, Option<u8>) {
    match su {
        Some((s, u)) => (s, Some(u)),
        None => {
            let dim = match obis::target(code) {
                Target::Quantity(_, dim) => dim,
                _ => Dimension::Power,
            };
            (vendor.default_scaler(dim), None)
        }
    }
}

/// Reads one list of the body in whichever of the three shapes it has; `bytes` is the list's
/// A-XDR encoding (for the value types of a positional list). A positional list in no known
/// layout is refused ([`RejectReason::UnknownLayout`]).
fn interpret(
    b: &mut ReadingBuilder,
    list: &[Value<'_>],
    bytes: &[u8],
    tz: &TimeZone,
    mut trace: Option<&mut explain::ListTrace>,
) -> Result<(), Rejection> {
    let vendor = detect_vendor(list);
    let vendor = match vendor {
        Vendor::Kamstrup if list.len() == layout::KAMSTRUP_MILLIAMP_LIST_LEN => {
            Vendor::KamstrupMilliamp
        }
        v => v,
    };
    if let Some(descriptors) = push_object_list(list) {
        if let Some(t) = trace.as_deref_mut() {
            t.shape = "push object list (capture objects, then their values)";
        }
        let spans = match trace {
            Some(_) => layout::element_spans(bytes),
            None => None,
        };
        for (i, (d, value)) in descriptors.iter().zip(list).enumerate().skip(1) {
            let tag = spans
                .as_ref()
                .and_then(|s| s.get(i))
                .and_then(|x| x.first().copied());
            if d.attribute != 2 {
                // The logical name (1) of the push setup, scalers (3) read with their value.
                if let Some(t) = trace.as_deref_mut() {
                    let what = match d.attribute {
                        1 => format!("logical name of {}", d.obis),
                        3 => format!("scaler and unit of {}", d.obis),
                        a => format!("attribute {a} of {}", d.obis),
                    };
                    t.push(index(i), tag, value, None, None, Some(&what));
                }
                continue;
            }
            let sent = descriptors
                .iter()
                .zip(list)
                .find(|(e, _)| e.obis == d.obis && e.attribute == 3)
                .and_then(|(_, v)| scaler_unit(Some(v)));
            let scaler = match (sent, obis::target(d.obis)) {
                (Some((s, u)), _) => Some((s, Some(u))),
                // Energy and power registers of IDIS pushes are in Wh, varh, W and var.
                (
                    None,
                    Target::Quantity(
                        _,
                        Dimension::Energy
                        | Dimension::ReactiveEnergy
                        | Dimension::Power
                        | Dimension::ReactivePower,
                    )
                    | Target::NetPower
                    | Target::NetPhasePower(_)
                    | Target::AbsolutePower,
                ) => Some((0, None)),
                (None, Target::Quantity(..)) => None,
                (None, _) => Some((0, None)),
            };
            match scaler {
                Some((s, u)) => {
                    place(b, index(i), d.obis, value, s, u, tz);
                    if let Some(t) = trace.as_deref_mut() {
                        t.push(index(i), tag, value, Some(s), Some(d.obis), None);
                    }
                }
                None => {
                    b.diagnose(
                        index(i),
                        d.obis,
                        "the meter sent no scaler for this value and its resolution is not known; not stored",
                    );
                    if let Some(t) = trace.as_deref_mut() {
                        t.push(
                            index(i),
                            tag,
                            value,
                            None,
                            None,
                            Some("no scaler sent, not stored"),
                        );
                    }
                }
            }
        }
        return Ok(());
    }
    let structures = !list.is_empty()
        && list.iter().all(|v| match v {
            Value::List(s) => s.first().and_then(is_obis).is_some(),
            _ => false,
        });
    if !structures && mixed_shape(list) {
        if let Some(t) = trace.as_deref_mut() {
            t.shape = "structures of {OBIS code, value, scaler and unit} and OBIS-value pairs";
        }
        let spans = match trace {
            Some(_) => layout::element_spans(bytes),
            None => None,
        };
        let mut i = 0;
        while i < list.len() {
            let tag = spans
                .as_ref()
                .and_then(|s| s.get(i))
                .and_then(|x| x.first().copied());
            match &list[i] {
                Value::List(s) => {
                    if let (Some(code), Some(value)) = (s.first().and_then(is_obis), s.get(1)) {
                        let (scaler, unit) = scaler_or_default(code, scaler_unit(s.get(2)), vendor);
                        place(b, index(i), code, value, scaler, unit, tz);
                        if let Some(t) = trace.as_deref_mut() {
                            t.push(index(i), tag, value, Some(scaler), Some(code), None);
                        }
                    }
                    i += 1;
                }
                v => match is_obis(v) {
                    Some(code) => {
                        let tag = spans
                            .as_ref()
                            .and_then(|s| s.get(i + 1))
                            .and_then(|x| x.first().copied());
                        i += place_pair(b, list, i, code, vendor, tz, trace.as_deref_mut(), tag);
                    }
                    // The list's name (checked by `mixed_shape`).
                    None => {
                        if let Some(t) = trace.as_deref_mut() {
                            t.push(index(i), tag, v, None, None, Some("list name"));
                        }
                        i += 1;
                    }
                },
            }
        }
        return Ok(());
    }
    // The byte span of each element, only for the trace (value types).
    let spans = match trace {
        Some(_) => layout::element_spans(bytes),
        None => None,
    };
    let span = |i: usize| spans.as_ref().and_then(|s| s.get(i).copied());
    if structures {
        if let Some(t) = trace.as_deref_mut() {
            t.shape = "structures of {OBIS code, value, scaler and unit}";
        }
        for (i, v) in list.iter().enumerate() {
            if let Value::List(s) = v
                && let (Some(code), Some(value)) = (s.first().and_then(is_obis), s.get(1))
            {
                let su = scaler_unit(s.get(2));
                let (scaler, unit) = scaler_or_default(code, su, vendor);
                place(b, index(i), code, value, scaler, unit, tz);
                if let Some(t) = trace.as_deref_mut() {
                    let tag = span(i)
                        .and_then(layout::element_spans)
                        .and_then(|inner| inner.get(1).and_then(|x| x.first().copied()));
                    t.push(index(i), tag, value, Some(scaler), Some(code), None);
                }
            }
        }
        return Ok(());
    }
    let pairs = list.iter().filter(|v| is_obis(v).is_some()).count() >= 2;
    if pairs {
        if let Some(t) = trace.as_deref_mut() {
            t.shape = "pairs of OBIS code and value";
        }
        let mut i = 0;
        let mut last_code = None;
        while i < list.len() {
            match is_obis(&list[i]) {
                Some(code) if i + 1 < list.len() => {
                    last_code = Some(code);
                    let tag = span(i + 1).and_then(|x| x.first().copied());
                    i += place_pair(b, list, i, code, vendor, tz, trace.as_deref_mut(), tag);
                }
                _ => {
                    let number =
                        i > 0 && i + 1 == list.len() && is_meter_number(last_code, &list[i]);
                    match &list[i] {
                        Value::Null => {}
                        Value::Text(_) | Value::Octets(_) if i == 0 => {} // the list's name
                        Value::Octets(id) if number => b.meter_id(1, obis::id_text(id)),
                        _ => b.diagnose(index(i), "list", "value without an OBIS code; ignored"),
                    }
                    if let Some(t) = trace.as_deref_mut() {
                        let tag = span(i).and_then(|x| x.first().copied());
                        let what = match (i, number) {
                            (0, _) => "list name",
                            (_, true) => METER_NUMBER,
                            _ => "no OBIS code",
                        };
                        t.push(index(i), tag, &list[i], None, None, Some(what));
                    }
                    i += 1;
                }
            }
        }
        return Ok(());
    }
    if let Some(t) = trace.as_deref_mut() {
        t.shape = "positional (values without OBIS codes)";
    }
    let types = layout::element_types(bytes).unwrap_or_default();
    let chosen = if types.len() == list.len() {
        layout::identify(&types, list)
    } else {
        Err(format!(
            "a list of {} values without OBIS codes whose types cannot be read",
            list.len()
        ))
    };
    let layout = match chosen {
        Ok(l) => l,
        Err(detail) => {
            if let Some(t) = trace.as_deref_mut() {
                t.layout = Some(format!("unknown layout: {}", layout::Signature(&types)));
                for (i, v) in list.iter().enumerate() {
                    t.push(index(i), types.get(i).copied(), v, None, None, None);
                }
            }
            return Err(reject(RejectReason::UnknownLayout, detail));
        }
    };
    if let Some(t) = trace.as_deref_mut() {
        t.layout = Some(format!("{} ({})", layout.id, layout.family));
    }
    for (i, (field, value)) in layout.fields.iter().zip(list).enumerate() {
        if let Some(code) = field.obis {
            place(b, index(i), code, value, field.scaler, None, tz);
        }
        if let Some(t) = trace.as_deref_mut() {
            let scaler = field.obis.map(|_| field.scaler);
            t.push(
                index(i),
                types.get(i).copied(),
                value,
                scaler,
                field.obis,
                Some(field.name),
            );
        }
    }
    Ok(())
}

/// One capture object of a push setup's object list: `{class id, logical name, attribute
/// index, data index}`.
struct CaptureObject {
    attribute: i128,
    obis: Obis,
}

/// The capture objects when `list` is a self-describing push (Landis+Gyr E450/E360, IDIS):
/// its first element is the push setup's object list (an array of capture objects, the first
/// of which is that list itself), the other elements the values of the others, in order.
fn push_object_list(list: &[Value<'_>]) -> Option<Vec<CaptureObject>> {
    let Some(Value::List(first)) = list.first() else {
        return None;
    };
    if first.len() != list.len() || first.len() < 2 {
        return None;
    }
    first
        .iter()
        .map(|d| match d {
            Value::List(f) => match f.as_slice() {
                [
                    Value::Int(_class),
                    Value::Octets(code),
                    Value::Int(attribute),
                    Value::Int(_),
                ] => Some(CaptureObject {
                    attribute: *attribute,
                    obis: Obis::from_bytes(code)?,
                }),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn index(i: usize) -> u32 {
    u32::try_from(i + 1).unwrap_or(u32::MAX)
}

/// Places one OBIS value into the reading: an integer as `raw × 10^scaler` in `unit` (`None`:
/// the quantity's own unit), strings as identifiers or the clock.
fn place(
    b: &mut ReadingBuilder,
    i: u32,
    code: Obis,
    value: &Value<'_>,
    scaler: i8,
    unit: Option<u8>,
    tz: &TimeZone,
) {
    match value {
        Value::Int(raw) => b.number(i, code, *raw, scaler, unit),
        Value::Octets(bytes) | Value::Text(bytes) | Value::DateTime(bytes) => {
            if obis::target(code) == Target::Clock {
                clock(b, i, code, bytes, tz);
            } else {
                b.bytes(i, code, bytes);
            }
        }
        Value::Null | Value::Other => {}
        Value::Bool(_) | Value::Float(_) | Value::List(_) => {
            if obis::target(code) != Target::Other {
                b.diagnose(i, code, "value of an unexpected type; ignored");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Quantity;
    use crate::hdlc::encode_frame;

    /// The encrypted Kaifa capture and its published test keys
    /// (`tests/fixtures/han/kaifa_no_list_2.gcm.*`).
    const KAIFA_GCM: &[u8] = include_bytes!("../../tests/fixtures/han/kaifa_no_list_2.gcm.hdlc");
    const EK: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
    const AK: [u8; 16] = [
        0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA, 0xDB, 0xDC, 0xDD, 0xDE,
        0xDF,
    ];

    fn keyed() -> DlmsDecoder {
        DlmsDecoder::new().with_key(Key::new(EK), Some(Key::new(AK)))
    }

    fn decode_all(
        d: &mut DlmsDecoder,
        wire: &[u8],
        chunk: usize,
    ) -> Vec<Result<Decoded, Rejection>> {
        let mut out = Vec::new();
        for piece in wire.chunks(chunk) {
            d.push(piece);
            while let Some(r) = d.next() {
                out.push(r);
            }
        }
        out
    }

    /// Each block in its own HDLC frame, after the LLC header, as a meter pushes them.
    fn frames(blocks: &[Vec<u8>]) -> Vec<Vec<u8>> {
        blocks
            .iter()
            .map(|b| {
                let mut info = vec![0xE6, 0xE7, 0x00];
                info.extend_from_slice(b);
                encode_frame(&info)
            })
            .collect()
    }

    #[test]
    fn general_block_transfer_of_a_ciphered_apdu_is_joined() {
        // HDLC: 7E, format (2), dest 41, src 08 83, control 13, HCS (2), LLC E6 E7 00, the
        // general-glo-ciphering APDU (DB ...), FCS (2), 7E.
        let apdu = &KAIFA_GCM[12..KAIFA_GCM.len() - 3];
        assert_eq!(apdu[0], glo::TAG_GENERAL_GLO_CIPHERING);
        let expected = decode_all(&mut keyed(), KAIFA_GCM, KAIFA_GCM.len());
        assert_eq!(expected.len(), 1);
        let expected = expected[0].clone().unwrap();
        assert!(expected.reading.get(Quantity::ImportW).is_some());

        let blocks = block_transfer::encode_blocks(apdu, 64);
        assert!(blocks.len() >= 3, "{} blocks", blocks.len());
        let wire: Vec<u8> = frames(&blocks).concat();
        for chunk in [1, 7, wire.len()] {
            let mut d = keyed();
            let got = decode_all(&mut d, &wire, chunk);
            assert_eq!(got, vec![Ok(expected.clone())], "chunk {chunk}");
            assert_eq!((d.stats().accepted, d.stats().rejected()), (1, 0));
        }

        // The middle frame lost: one counted framing rejection, then the next transfer reads.
        let f = frames(&blocks);
        let mut lossy: Vec<u8> = f
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 1)
            .flat_map(|(_, x)| x.clone())
            .collect();
        lossy.extend(&wire);
        let mut d = keyed();
        let got = decode_all(&mut d, &lossy, 5);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].as_ref().unwrap_err().reason, RejectReason::Framing);
        assert_eq!(got[1], Ok(expected.clone()));
        assert_eq!(d.stats().rejected_for(RejectReason::Framing), 1);

        // Without the keys: the joined APDU is refused for the missing key, once.
        let got = decode_all(&mut DlmsDecoder::new(), &wire, 9);
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].as_ref().unwrap_err().reason,
            RejectReason::MissingKey
        );
    }

    #[test]
    fn one_block_transfers_decode_without_state() {
        let apdu = &KAIFA_GCM[12..KAIFA_GCM.len() - 3];
        let one = block_transfer::encode_blocks(apdu, apdu.len());
        assert_eq!(one.len(), 1);
        let d = keyed();
        let direct = d.decode_info(apdu).unwrap();
        assert_eq!(d.decode_info(&one[0]), Ok(direct.clone()));
        // With the LLC header in front, as in a frame.
        let mut info = vec![0xE6, 0xE7, 0x00];
        info.extend(&one[0]);
        assert_eq!(d.decode_info(&info), Ok(direct));
        // A block of a longer transfer cannot be read alone.
        let many = block_transfer::encode_blocks(apdu, 50);
        let r = d.decode_info(&many[0]).unwrap_err();
        assert_eq!(r.reason, RejectReason::Framing);
        // A block transfer inside a block transfer is refused.
        let nested = block_transfer::encode_blocks(&one[0], 1000);
        assert_eq!(
            d.decode_info(&nested[0]).unwrap_err().reason,
            RejectReason::Payload
        );
    }

    #[test]
    fn compact_array_notification_fills_the_reading() {
        // Data-notification: 0F | invoke id 00000001 | no date-time (00) | body: a compact
        // array (13) whose elements are structures (02 03) of {octet-string (09) OBIS,
        // double-long-unsigned (06) value, structure (02 02) {integer (0F) scaler,
        // enum (16) unit}}, 13 bytes each, contents 26 bytes (1A):
        //   06 0100010700FF | 000003E8 (1000) | 00 (10^0) | 1B (27 = W)
        //   06 0100010800FF | 0001E240 (123456) | 00 | 1E (30 = Wh)
        let apdu = [
            0x0F, 0x00, 0x00, 0x00, 0x01, 0x00, //
            0x13, 0x02, 0x03, 0x09, 0x06, 0x02, 0x02, 0x0F, 0x16, 0x1A, //
            0x06, 0x01, 0x00, 0x01, 0x07, 0x00, 0xFF, 0x00, 0x00, 0x03, 0xE8, 0x00, 0x1B, //
            0x06, 0x01, 0x00, 0x01, 0x08, 0x00, 0xFF, 0x00, 0x01, 0xE2, 0x40, 0x00, 0x1E,
        ];
        let d = DlmsDecoder::new().decode_info(&apdu).unwrap();
        assert_eq!(d.reading.get(Quantity::ImportW), Some(1000));
        assert_eq!(d.reading.get(Quantity::ImportWh), Some(123_456));
        assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
        // And through HDLC framing in a stream.
        let mut info = vec![0xE6, 0xE7, 0x00];
        info.extend(apdu);
        let got = decode_all(&mut DlmsDecoder::new(), &encode_frame(&info), 3);
        assert_eq!(got, vec![Ok(d)]);
    }
}
