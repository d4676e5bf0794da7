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
//! [`crate::glo`]); give the keys with [`DlmsDecoder::with_key`].
//!
//! The body comes in three shapes, all handled here:
//! - **OBIS structures** (Aidon): an array of `{OBIS, value, {scaler, unit}}`.
//! - **OBIS pairs** (Kamstrup, Kaifa in Sweden): one structure of `OBIS, value, OBIS, value…`,
//!   with no scaler: the vendor's fixed resolution applies (Kamstrup: 0.01 A, 1 V, 10 Wh;
//!   Kaifa: 1 mA, 0.1 V, 1 Wh).
//! - **Positional** (Kaifa in Norway): a structure of bare values whose meaning follows from
//!   their count (1, 9, 13, 14 or 18 values, the Norwegian NEK list 1/2/3 layouts).
//!
//! The meter clock (`0-0:1.0.0`) becomes [`Reading::time`]; when the meter leaves the UTC
//! deviation unspecified, the local time is resolved in the decoder's time zone
//! (Europe/Oslo rules by default, the same as Stockholm's and Vienna's).

pub mod axdr;
pub mod mbus;
pub mod obis;

use crate::decoder::{Decoded, Decoder, RejectReason, Rejection, Stats};
use crate::glo::{self, GloError, Key};
use crate::hdlc::HdlcFramer;
use crate::reading::Protocol;
use axdr::Value;
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
    fn next_from(&mut self, link: Link) -> Option<Result<Decoded, Rejection>> {
        let (key, ak, tz) = (self.key.as_ref(), self.auth_key.as_ref(), &self.tz);
        match link {
            Link::Hdlc => Some(match self.framer.next_frame()? {
                Err(r) => Err(r),
                Ok(frame) => decode_info(frame.info, key, ak, tz),
            }),
            Link::Mbus => Some(match self.mbus.next_apdu()? {
                Err(r) => Err(r),
                Ok(apdu) => decode_info(apdu, key, ak, tz),
            }),
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
    let apdu = match info {
        [0xE6, 0xE7 | 0xE6, 0x00, rest @ ..] => rest,
        _ => info,
    };
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
    let mut items = Vec::new();
    while !body.is_empty() {
        match axdr::parse_value(body) {
            Ok((v, r)) => {
                items.push(v);
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
    for item in &items {
        match item {
            Value::Octets(t) | Value::DateTime(t) if t.len() == 12 => {
                clock(&mut b, 0, Obis([0, 0, 1, 0, 0, 255]), t, tz);
            }
            Value::List(list) => {
                any_list = true;
                interpret(&mut b, list, tz);
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

/// The Norwegian Kaifa list layouts, by value count (NEK "HAN" lists 1, 2 and 3, single and
/// three phase), as OBIS codes.
fn kaifa_layout(n: usize) -> Option<&'static [[u8; 6]]> {
    const ID: [u8; 6] = [1, 1, 0, 2, 129, 255];
    const METER: [u8; 6] = [0, 0, 96, 1, 0, 255];
    const TYPE: [u8; 6] = [0, 0, 96, 1, 7, 255];
    const P_IMP: [u8; 6] = [1, 0, 1, 7, 0, 255];
    const P_EXP: [u8; 6] = [1, 0, 2, 7, 0, 255];
    const Q_IMP: [u8; 6] = [1, 0, 3, 7, 0, 255];
    const Q_EXP: [u8; 6] = [1, 0, 4, 7, 0, 255];
    const I1: [u8; 6] = [1, 0, 31, 7, 0, 255];
    const I2: [u8; 6] = [1, 0, 51, 7, 0, 255];
    const I3: [u8; 6] = [1, 0, 71, 7, 0, 255];
    const U1: [u8; 6] = [1, 0, 32, 7, 0, 255];
    const U2: [u8; 6] = [1, 0, 52, 7, 0, 255];
    const U3: [u8; 6] = [1, 0, 72, 7, 0, 255];
    const CLOCK: [u8; 6] = [0, 0, 1, 0, 0, 255];
    const A_IMP: [u8; 6] = [1, 0, 1, 8, 0, 255];
    const A_EXP: [u8; 6] = [1, 0, 2, 8, 0, 255];
    const R_IMP: [u8; 6] = [1, 0, 3, 8, 0, 255];
    const R_EXP: [u8; 6] = [1, 0, 4, 8, 0, 255];
    const L1: [[u8; 6]; 1] = [P_IMP];
    const L2_1PH: [[u8; 6]; 9] = [ID, METER, TYPE, P_IMP, P_EXP, Q_IMP, Q_EXP, I1, U1];
    const L2_3PH: [[u8; 6]; 13] = [
        ID, METER, TYPE, P_IMP, P_EXP, Q_IMP, Q_EXP, I1, I2, I3, U1, U2, U3,
    ];
    const L3_1PH: [[u8; 6]; 14] = [
        ID, METER, TYPE, P_IMP, P_EXP, Q_IMP, Q_EXP, I1, U1, CLOCK, A_IMP, A_EXP, R_IMP, R_EXP,
    ];
    const L3_3PH: [[u8; 6]; 18] = [
        ID, METER, TYPE, P_IMP, P_EXP, Q_IMP, Q_EXP, I1, I2, I3, U1, U2, U3, CLOCK, A_IMP, A_EXP,
        R_IMP, R_EXP,
    ];
    match n {
        1 => Some(&L1),
        9 => Some(&L2_1PH),
        13 => Some(&L2_3PH),
        14 => Some(&L3_1PH),
        18 => Some(&L3_3PH),
        _ => None,
    }
}

/// Reads one list of the body in whichever of the three shapes it has.
fn interpret(b: &mut ReadingBuilder, list: &[Value<'_>], tz: &TimeZone) {
    let vendor = detect_vendor(list);
    let structures = !list.is_empty()
        && list.iter().all(|v| match v {
            Value::List(s) => s.first().and_then(is_obis).is_some(),
            _ => false,
        });
    if structures {
        for (i, v) in list.iter().enumerate() {
            if let Value::List(s) = v
                && let (Some(code), Some(value)) = (s.first().and_then(is_obis), s.get(1))
            {
                place(b, index(i), code, value, scaler_unit(s.get(2)), vendor, tz);
            }
        }
        return;
    }
    let pairs = list.iter().filter(|v| is_obis(v).is_some()).count() >= 2;
    if pairs {
        let mut i = 0;
        while i < list.len() {
            match is_obis(&list[i]) {
                Some(code) if i + 1 < list.len() => {
                    let su = scaler_unit(list.get(i + 2));
                    place(b, index(i), code, &list[i + 1], su, vendor, tz);
                    i += if su.is_some() { 3 } else { 2 };
                }
                _ => {
                    match &list[i] {
                        Value::Null => {}
                        Value::Text(_) | Value::Octets(_) if i == 0 => {} // the list's name
                        _ => b.diagnose(index(i), "list", "value without an OBIS code; ignored"),
                    }
                    i += 1;
                }
            }
        }
        return;
    }
    let Some(layout) = kaifa_layout(list.len()) else {
        b.diagnose(
            0,
            "list",
            format!(
                "a list of {} values without OBIS codes in no known layout",
                list.len()
            ),
        );
        return;
    };
    let vendor = if vendor == Vendor::Unknown {
        Vendor::Kaifa
    } else {
        vendor
    };
    for (i, (code, value)) in layout.iter().zip(list).enumerate() {
        place(b, index(i), Obis(*code), value, None, vendor, tz);
    }
}

fn index(i: usize) -> u32 {
    u32::try_from(i + 1).unwrap_or(u32::MAX)
}

/// Places one OBIS value into the reading.
fn place(
    b: &mut ReadingBuilder,
    i: u32,
    code: Obis,
    value: &Value<'_>,
    su: Option<(i8, u8)>,
    vendor: Vendor,
    tz: &TimeZone,
) {
    match value {
        Value::Int(raw) => {
            let (scaler, unit) = match su {
                Some((s, u)) => (s, Some(u)),
                None => {
                    let dim = match obis::target(code) {
                        Target::Quantity(_, dim) => dim,
                        _ => Dimension::Power,
                    };
                    (vendor.default_scaler(dim), None)
                }
            };
            b.number(i, code, *raw, scaler, unit);
        }
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
