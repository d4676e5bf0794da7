//! SML 1.04 (German meters): transport escapes, TL fields, CRC16/X-25, GetList responses.
//!
//! A transport frame (SML 1.04 §8, "SML Transport Protocol Version 1"):
//!
//! ```text
//! 1B1B1B1B 01010101 | messages, 1B1B1B1B escaped as 1B1B1B1B 1B1B1B1B | 00 padding
//! 1B1B1B1B 1A pp cc cc
//! ```
//!
//! `pp` is the number of padding bytes, `cc cc` the CRC-16/X-25 of everything from the first
//! escape up to `pp`, least significant byte first. Each message is a TL-encoded list
//! (type/length bytes: high nibble type, low nibble length, bit 7 = another TL byte follows).
//! The decoder reads every `SML_GetList.Res` of a frame into one [`Reading`]: values with
//! their OBIS code, unit and decimal scaler (see [`crate::dlms::obis`] for the mapping), the
//! server id as meter id, and the sensor time when the meter sends a real timestamp (most
//! send only seconds since power-up; the caller then uses the receive time).

use crate::checksum::crc16_x25;
use crate::decoder::{Decoded, Decoder, RejectReason, Rejection, Stats};
use crate::dlms::obis::{Obis, ReadingBuilder, id_text};
use crate::reading::Protocol;
use crate::time::MeterTime;
use std::borrow::Cow;

pub mod explain;

const ESC: [u8; 4] = [0x1B; 4];
const START: [u8; 8] = [0x1B, 0x1B, 0x1B, 0x1B, 0x01, 0x01, 0x01, 0x01];
/// Largest transport frame kept (real meters send 200 bytes to 2 KiB).
pub const MAX_FRAME_LEN: usize = 16 * 1024;
/// Deepest list nesting accepted.
const MAX_DEPTH: usize = 12;

/// Streaming SML decoder. See the module documentation.
#[derive(Debug, Default)]
pub struct SmlDecoder {
    buf: Vec<u8>,
    /// Offset of the frame start (the start escape) in `buf`, once found.
    in_frame: bool,
    /// Where to continue scanning for the end escape.
    scan: usize,
    stats: Stats,
}

impl SmlDecoder {
    /// An empty decoder.
    pub fn new() -> Self {
        SmlDecoder::default()
    }

    /// Drops bytes that cannot be part of a frame, keeping a possible split start sequence.
    fn hunt(&mut self) {
        if self.in_frame {
            return;
        }
        match find(&self.buf, &START) {
            Some(i) => {
                self.drop_front(i, true);
                self.in_frame = true;
                self.scan = START.len();
            }
            None => {
                let keep = partial_suffix(&self.buf, &START);
                let n = self.buf.len() - keep;
                self.drop_front(n, true);
            }
        }
    }

    fn drop_front(&mut self, n: usize, noise: bool) {
        if noise {
            self.stats.skipped_bytes += n as u64;
        }
        self.buf.drain(..n);
    }

    /// Finds the end of the frame that starts at `buf[0]`.
    fn frame_end(&mut self) -> Option<Result<usize, Rejection>> {
        let mut i = self.scan;
        loop {
            let Some(rel) = find(&self.buf[i..], &ESC) else {
                self.scan = self.buf.len().saturating_sub(3).max(i);
                return None;
            };
            let at = i + rel;
            let Some(next) = self.buf.get(at + 4..at + 8) else {
                self.scan = at;
                return None;
            };
            if next == ESC {
                i = at + 8;
                continue;
            }
            if next[0] == 0x1A {
                return Some(Ok(at + 8));
            }
            if next == [1, 1, 1, 1] {
                // A new frame starts before this one ended.
                self.drop_front(at, false);
                self.scan = START.len();
                return Some(Err(reject(
                    RejectReason::Framing,
                    "SML frame cut short by the next frame",
                )));
            }
            i = at + 1;
        }
    }
}

impl Decoder for SmlDecoder {
    fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        self.hunt();
    }

    fn next(&mut self) -> Option<Result<Decoded, Rejection>> {
        self.hunt();
        if !self.in_frame {
            return None;
        }
        match self.frame_end() {
            None => {
                if self.buf.len() > MAX_FRAME_LEN {
                    // Drop the start escape and hunt for the next frame.
                    self.drop_front(START.len(), false);
                    self.in_frame = false;
                    self.stats.count_rejection(RejectReason::Oversized);
                    return Some(Err(reject(
                        RejectReason::Oversized,
                        format!("SML frame longer than {MAX_FRAME_LEN} bytes without an end"),
                    )));
                }
                None
            }
            Some(Err(r)) => {
                self.stats.count_rejection(r.reason);
                Some(Err(r))
            }
            Some(Ok(end)) => {
                let result = decode_frame(&self.buf[..end]);
                self.drop_front(end, false);
                self.in_frame = false;
                match &result {
                    Ok(_) => self.stats.accepted += 1,
                    Err(r) => self.stats.count_rejection(r.reason),
                }
                Some(result)
            }
        }
    }

    fn stats(&self) -> &Stats {
        &self.stats
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if hay.len() < needle.len() {
        return None;
    }
    let first = needle[0];
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        let rel = hay[i..=hay.len() - needle.len()]
            .iter()
            .position(|&b| b == first)?;
        i += rel;
        if &hay[i..i + needle.len()] == needle {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// How many bytes at the end of `hay` could be the start of `needle`.
fn partial_suffix(hay: &[u8], needle: &[u8]) -> usize {
    (1..needle.len().min(hay.len() + 1))
        .rev()
        .find(|&k| hay[hay.len() - k..] == needle[..k])
        .unwrap_or(0)
}

fn reject(reason: RejectReason, detail: impl Into<String>) -> Rejection {
    Rejection {
        reason,
        detail: detail.into(),
    }
}

/// Checks and decodes one complete transport frame (start escape to CRC).
pub fn decode_frame(frame: &[u8]) -> Result<Decoded, Rejection> {
    let n = frame.len();
    if n < 16 {
        return Err(reject(RejectReason::Framing, "SML frame too short"));
    }
    let crc = u16::from_le_bytes([frame[n - 2], frame[n - 1]]);
    let computed = crc16_x25(&frame[..n - 2]);
    if crc != computed {
        return Err(reject(
            RejectReason::Checksum,
            format!("SML CRC 0x{computed:04X} expected, frame says 0x{crc:04X}"),
        ));
    }
    let padding = usize::from(frame[n - 3]);
    let body = &frame[8..n - 8];
    if padding > 3 || padding > body.len() {
        return Err(reject(
            RejectReason::Framing,
            format!("SML padding of {padding} bytes"),
        ));
    }
    let body = unescape(&body[..body.len() - padding]);
    decode_messages(&body)
}

/// Replaces each escaped `1B1B1B1B 1B1B1B1B` by `1B1B1B1B` (borrowing when there is none).
fn unescape(body: &[u8]) -> Cow<'_, [u8]> {
    if find(body, &[0x1B; 8]).is_none() {
        return Cow::Borrowed(body);
    }
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while let Some(rel) = body[i..].iter().position(|&b| b == 0x1B) {
        let at = i + rel;
        out.extend_from_slice(&body[i..at]);
        if body[at..].starts_with(&[0x1B; 8]) {
            out.extend_from_slice(&ESC);
            i = at + 8;
        } else {
            out.push(0x1B);
            i = at + 1;
        }
    }
    out.extend_from_slice(&body[i..]);
    Cow::Owned(out)
}

/// One TL-encoded SML value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmlValue<'a> {
    /// Octet string (an absent optional value is an empty one).
    Bytes(&'a [u8]),
    /// Boolean.
    Bool(bool),
    /// Unsigned integer.
    Int(i128),
    /// Signed integer, with the number of bytes it was sent in (a meter fault is known by it).
    Signed(i128, u8),
    /// List.
    List(Vec<SmlValue<'a>>),
    /// `endOfSmlMsg` (a single 0x00).
    End,
}

impl SmlValue<'_> {
    /// The number, signed or unsigned.
    pub fn int(&self) -> Option<i128> {
        match self {
            SmlValue::Int(v) | SmlValue::Signed(v, _) => Some(*v),
            _ => None,
        }
    }
}

/// Why a TL-encoded value could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmlError(pub &'static str);

/// Reads one TL-encoded value; returns it and the bytes after it.
pub fn parse_value(bytes: &[u8]) -> Result<(SmlValue<'_>, &[u8]), SmlError> {
    parse_at(bytes, 0)
}

fn parse_at(bytes: &[u8], depth: usize) -> Result<(SmlValue<'_>, &[u8]), SmlError> {
    let (&first, _) = bytes.split_first().ok_or(SmlError("value missing"))?;
    if first == 0x00 {
        return Ok((SmlValue::End, &bytes[1..]));
    }
    let ty = (first >> 4) & 0x07;
    let mut len = usize::from(first & 0x0F);
    let mut tl = 1;
    let mut more = first & 0x80 != 0;
    while more {
        let &b = bytes.get(tl).ok_or(SmlError("TL field cut short"))?;
        if tl >= 4 {
            return Err(SmlError("TL field too long"));
        }
        more = b & 0x80 != 0;
        len = len << 4 | usize::from(b & 0x0F);
        tl += 1;
    }
    let rest = &bytes[tl..];
    if ty == 7 {
        if depth >= MAX_DEPTH {
            return Err(SmlError("lists nested too deep"));
        }
        if len > rest.len() {
            return Err(SmlError("list longer than the frame"));
        }
        let mut items = Vec::with_capacity(len);
        let mut rest = rest;
        for _ in 0..len {
            let (v, r) = parse_at(rest, depth + 1)?;
            items.push(v);
            rest = r;
        }
        return Ok((SmlValue::List(items), rest));
    }
    let data_len = len
        .checked_sub(tl)
        .ok_or(SmlError("length shorter than its TL field"))?;
    if rest.len() < data_len {
        return Err(SmlError("value cut short"));
    }
    let (data, rest) = rest.split_at(data_len);
    let v = match ty {
        0 => SmlValue::Bytes(data),
        4 => SmlValue::Bool(data.first().is_some_and(|&b| b != 0)),
        5 | 6 => {
            if data.len() > 8 {
                return Err(SmlError("integer longer than 8 bytes"));
            }
            let mut v: i128 = 0;
            for &b in data {
                v = v << 8 | i128::from(b);
            }
            if ty == 5 {
                if data.first().is_some_and(|b| b & 0x80 != 0) {
                    v -= 1i128 << (8 * data.len());
                }
                // At most 8 bytes (checked above).
                SmlValue::Signed(v, data.len() as u8)
            } else {
                SmlValue::Int(v)
            }
        }
        _ => return Err(SmlError("unknown TL type")),
    };
    Ok((v, rest))
}

/// Message body tags (SML 1.04 table "SML_MessageBody").
const OPEN_RESPONSE: i128 = 0x0101;
const GET_LIST_RESPONSE: i128 = 0x0701;

/// Decodes the unescaped messages of a frame into one reading.
pub fn decode_messages(mut body: &[u8]) -> Result<Decoded, Rejection> {
    let mut b = ReadingBuilder::new(Protocol::Sml);
    let mut lists = 0;
    let mut message = 0u32;
    let mut entry_index = 0u32;
    loop {
        while let [0x00, rest @ ..] = body {
            body = rest;
        }
        if body.is_empty() {
            break;
        }
        message += 1;
        let (msg, rest) = match parse_value(body) {
            Ok(x) => x,
            Err(e) => {
                b.diagnose(
                    message,
                    "message",
                    format!(
                        "SML message unreadable ({}); the rest of the frame is skipped",
                        e.0
                    ),
                );
                break;
            }
        };
        body = rest;
        let SmlValue::List(fields) = msg else {
            b.diagnose(message, "message", "SML message is not a list; skipped");
            continue;
        };
        let Some(SmlValue::List(choice)) = fields.get(3) else {
            b.diagnose(message, "message", "SML message without a body; skipped");
            continue;
        };
        match choice.as_slice() {
            [SmlValue::Int(GET_LIST_RESPONSE), SmlValue::List(res)] => {
                lists += 1;
                get_list(&mut b, res, &mut entry_index);
            }
            [SmlValue::Int(OPEN_RESPONSE), SmlValue::List(res)] => {
                // refTime (index 4) when the meter sends a real timestamp.
                if let Some(t) = res.get(4).and_then(sml_time) {
                    b.time(t);
                }
            }
            _ => {}
        }
    }
    if lists == 0 {
        return Err(reject(
            RejectReason::Payload,
            "SML frame without a GetList response (no values)",
        ));
    }
    Ok(b.finish())
}

/// An `SML_Time` that is a real timestamp (choice 2 or 3), not seconds since power-up.
fn sml_time(v: &SmlValue<'_>) -> Option<MeterTime> {
    let SmlValue::List(t) = v else { return None };
    match (t.first().and_then(SmlValue::int), t.get(1)) {
        (Some(2), Some(ts)) if t.len() == 2 => Some(MeterTime::utc(i64::try_from(ts.int()?).ok()?)),
        (Some(3), Some(SmlValue::List(local))) if t.len() == 2 => match local
            .iter()
            .map(SmlValue::int)
            .collect::<Option<Vec<i128>>>()
            .as_deref()
        {
            Some(&[ts, local_min, season_min]) => {
                let offset_s = i32::try_from((local_min + season_min) * 60).ok()?;
                if offset_s.abs() > 15 * 3600 {
                    return None;
                }
                Some(MeterTime {
                    unix: i64::try_from(ts).ok()?,
                    offset_s,
                })
            }
            _ => None,
        },
        _ => None,
    }
}

/// Whether a server id or serial number (`0A 01 'D' 'Z' 'G'` and five bytes of number) names
/// a DZG DVS74 of the serial ranges whose firmware sends the total power (16.7.0) wrongly:
/// values of 1 to 3 bytes that are positive are marked signed, so 356.24 W (`8B 28`) reads as
/// −299.12 W; negative values come in 4 bytes. From volkszaehler's libsml (its issue 59, the
/// capture `DZG_DVS-7412.2_jmberg` of libsml-testing): serials 42 000 000–48 999 999 and
/// 55 000 000–58 999 999; from 60 000 000 on the fault is fixed.
fn is_faulty_dvs74(id: &[u8]) -> bool {
    let Some(number) = id.strip_prefix(&[0x0A, 0x01, b'D', b'Z', b'G'][..]) else {
        return false;
    };
    if number.len() != 5 {
        return false;
    }
    let serial = number.iter().fold(0u64, |n, b| n << 8 | u64::from(*b));
    (42_000_000..=48_999_999).contains(&serial) || (55_000_000..=58_999_999).contains(&serial)
}

/// The total power (16.7.0), 1-0:16.7.0*255.
const TOTAL_POWER: Obis = Obis([1, 0, 16, 7, 0, 255]);
/// The serial number, 1-0:96.1.0*255.
const SERIAL: Obis = Obis([1, 0, 96, 1, 0, 255]);

fn get_list(b: &mut ReadingBuilder, res: &[SmlValue<'_>], entry_index: &mut u32) {
    // clientId, serverId, listName, actSensorTime, valList, listSignature, actGatewayTime
    let mut faulty_dvs74 = false;
    if let Some(SmlValue::Bytes(server_id)) = res.get(1) {
        b.meter_id(1, id_text(server_id));
        faulty_dvs74 = is_faulty_dvs74(server_id);
    }
    if let Some(t) = res
        .get(3)
        .and_then(sml_time)
        .or_else(|| res.get(6).and_then(sml_time))
    {
        b.time(t);
    }
    let Some(SmlValue::List(entries)) = res.get(4) else {
        b.diagnose(0, "valList", "GetList response without a value list");
        return;
    };
    for e in entries {
        *entry_index += 1;
        let i = *entry_index;
        let SmlValue::List(f) = e else {
            b.diagnose(i, "valList", "list entry is not a list; skipped");
            continue;
        };
        // objName, status, valTime, unit, scaler, value, valueSignature
        let Some(obis) = (match f.first() {
            Some(SmlValue::Bytes(o)) => Obis::from_bytes(o),
            _ => None,
        }) else {
            b.diagnose(
                i,
                "valList",
                "list entry without a 6-byte OBIS code; skipped",
            );
            continue;
        };
        let unit = f
            .get(3)
            .and_then(SmlValue::int)
            .and_then(|u| u8::try_from(u).ok());
        let scaler = f
            .get(4)
            .and_then(SmlValue::int)
            .and_then(|s| i8::try_from(s).ok())
            .unwrap_or(0);
        match f.get(5) {
            Some(SmlValue::Signed(v, width @ 1..=3))
                if faulty_dvs74 && obis == TOTAL_POWER && *v < 0 =>
            {
                let meant = v + (1i128 << (8 * u32::from(*width)));
                b.diagnose(
                    i,
                    obis,
                    format!(
                        "a DZG DVS74 of a faulty firmware sent {v} as a signed number; read as \
                         {meant}, as the meter meant"
                    ),
                );
                b.number(i, obis, meant, scaler, unit);
            }
            Some(SmlValue::Int(v) | SmlValue::Signed(v, _)) => b.number(i, obis, *v, scaler, unit),
            Some(SmlValue::Bytes(v)) => {
                if obis == SERIAL && is_faulty_dvs74(v) {
                    faulty_dvs74 = true;
                }
                b.bytes(i, obis, v);
            }
            _ => {}
        }
    }
}

/// Wraps SML messages (already TL-encoded) in a transport frame with escapes, padding and
/// CRC. For tests, benches and the simulated meter.
pub fn encode_frame(messages: &[u8]) -> Vec<u8> {
    let mut out = START.to_vec();
    let mut i = 0;
    while i < messages.len() {
        if messages[i..].starts_with(&ESC) {
            out.extend_from_slice(&[0x1B; 8]);
            i += 4;
        } else {
            out.push(messages[i]);
            i += 1;
        }
    }
    let padding = (4 - out.len() % 4) % 4;
    out.extend(std::iter::repeat_n(0u8, padding));
    out.extend_from_slice(&ESC);
    out.push(0x1A);
    out.push(padding as u8);
    let crc = crc16_x25(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_faulty_dvs74_serial_ranges_are_read_as_unsigned() {
        let id = |serial: u64| {
            let mut v = vec![0x0A, 0x01, b'D', b'Z', b'G'];
            v.extend_from_slice(&serial.to_be_bytes()[3..]);
            v
        };
        for faulty in [42_000_000, 42_082_910, 48_999_999, 55_000_000, 58_999_999] {
            assert!(is_faulty_dvs74(&id(faulty)), "{faulty}");
        }
        for fine in [
            41_999_999, 49_000_000, 54_999_999, 59_000_000, 60_694_611, 40_051_478,
        ] {
            assert!(!is_faulty_dvs74(&id(fine)), "{fine}");
        }
        // Another maker, or a serial of another length.
        assert!(!is_faulty_dvs74(b"\x0a\x01EMH\x00\x02\x82\x22\x5e"));
        assert!(!is_faulty_dvs74(&id(42_082_910)[..9]));
    }

    #[test]
    fn tl_fields() {
        // 0x62 0x1E: unsigned, TL + 1 data byte = 30.
        assert_eq!(parse_value(&[0x62, 0x1E]).unwrap().0, SmlValue::Int(30));
        // 0x52 0xFF: signed -1.
        assert_eq!(
            parse_value(&[0x52, 0xFF]).unwrap().0,
            SmlValue::Signed(-1, 1)
        );
        // Optional absent: 0x01 is an empty octet string.
        assert_eq!(parse_value(&[0x01]).unwrap().0, SmlValue::Bytes(&[]));
        // Two TL bytes: 0x83 0x02 = octet string, length 0x32 = 50 including the 2 TL bytes.
        let mut long = vec![0x83, 0x02];
        long.extend(std::iter::repeat_n(0xAA, 48));
        assert_eq!(parse_value(&long).unwrap().0, SmlValue::Bytes(&[0xAA; 48]));
        assert!(parse_value(&[0x65, 0x00]).is_err());
        assert!(parse_value(&[0x71]).is_err());
        assert!(parse_value(&[0x30]).is_err());
        let deep = [0x71u8].repeat(50);
        assert!(parse_value(&deep).is_err());
    }

    #[test]
    fn escapes_round_trip() {
        let frame = encode_frame(&[0x1B, 0x1B, 0x1B, 0x1B, 0x00]);
        assert_eq!(&frame[8..16], &[0x1B; 8]);
        assert_eq!(&*unescape(&frame[8..17]), &[0x1B, 0x1B, 0x1B, 0x1B, 0x00]);
        assert_eq!(&*unescape(&[1, 0x1B, 0x1B, 2]), &[1, 0x1B, 0x1B, 2]);
        assert_eq!(
            &*unescape(&[0x1B, 0x1B, 0x1B, 0x1B, 0x1B, 0x1B, 0x1B, 0x1B, 0x1B, 7]),
            &[0x1B, 0x1B, 0x1B, 0x1B, 0x1B, 7]
        );
    }

    #[test]
    fn split_start_sequence_is_kept() {
        assert_eq!(partial_suffix(b"xx\x1B\x1B\x1B", &START), 3);
        assert_eq!(partial_suffix(b"xx\x1B\x1B\x1B\x1B\x01", &START), 5);
        assert_eq!(partial_suffix(b"xx", &START), 0);
        assert_eq!(find(b"ab\x1B\x1B\x1B\x1B\x01\x01\x01\x01", &START), Some(2));
    }
}
