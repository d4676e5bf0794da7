//! A-XDR encoded DLMS `Data` values (IEC 62056-6-2 / Green Book): the tagged values inside a
//! data-notification body, and the 12-byte COSEM date-time.

use crate::time::MeterTime;
use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};

/// Deepest nesting of arrays/structures accepted (real lists nest 2 or 3 deep).
const MAX_DEPTH: usize = 8;

/// One decoded `Data` value, borrowing strings from the APDU.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    /// `null-data` (tag 0).
    Null,
    /// `boolean`.
    Bool(bool),
    /// Any integer type (int8 .. uint64, enum).
    Int(i128),
    /// `octet-string` (tag 9), including the OBIS codes and date-times many meters send so.
    Octets(&'a [u8]),
    /// `visible-string` / `utf8-string`.
    Text(&'a [u8]),
    /// `date-time` sent with its own tag (0x19).
    DateTime(&'a [u8]),
    /// `float32` / `float64` (not used by the lists we know; kept for diagnostics).
    Float(f64),
    /// `array` or `structure`.
    List(Vec<Value<'a>>),
    /// Types we skip over (bit-string, bcd, date, time).
    Other,
}

/// Why a `Data` value could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AxdrError(pub &'static str);

/// Reads one `Data` value from the start of `bytes`; returns it and the bytes after it.
pub fn parse_value(bytes: &[u8]) -> Result<(Value<'_>, &[u8]), AxdrError> {
    parse_at(bytes, 0)
}

fn take(bytes: &[u8], n: usize) -> Result<(&[u8], &[u8]), AxdrError> {
    if bytes.len() < n {
        Err(AxdrError("value cut short"))
    } else {
        Ok(bytes.split_at(n))
    }
}

/// A-XDR length: one byte below 0x80, else 0x8N and N length bytes.
pub fn parse_len(bytes: &[u8]) -> Result<(usize, &[u8]), AxdrError> {
    let (&first, rest) = bytes.split_first().ok_or(AxdrError("length missing"))?;
    if first < 0x80 {
        return Ok((usize::from(first), rest));
    }
    let n = usize::from(first & 0x7F);
    if n == 0 || n > 3 {
        return Err(AxdrError("length field too long"));
    }
    let (len_bytes, rest) = take(rest, n)?;
    let len = len_bytes
        .iter()
        .fold(0usize, |acc, &b| acc << 8 | usize::from(b));
    Ok((len, rest))
}

fn int(bytes: &[u8], n: usize, signed: bool) -> Result<(Value<'_>, &[u8]), AxdrError> {
    let (b, rest) = take(bytes, n)?;
    let mut v: i128 = 0;
    for &x in b {
        v = v << 8 | i128::from(x);
    }
    if signed && b.first().is_some_and(|x| x & 0x80 != 0) {
        v -= 1i128 << (8 * n);
    }
    Ok((Value::Int(v), rest))
}

fn parse_at(bytes: &[u8], depth: usize) -> Result<(Value<'_>, &[u8]), AxdrError> {
    let (&tag, rest) = bytes.split_first().ok_or(AxdrError("value missing"))?;
    match tag {
        0x00 => Ok((Value::Null, rest)),
        0x01 | 0x02 => {
            if depth >= MAX_DEPTH {
                return Err(AxdrError("lists nested too deep"));
            }
            let (n, mut rest) = parse_len(rest)?;
            // Each element takes at least one byte: refuse counts the APDU cannot hold.
            if n > rest.len() {
                return Err(AxdrError("list longer than the frame"));
            }
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                let (v, r) = parse_at(rest, depth + 1)?;
                items.push(v);
                rest = r;
            }
            Ok((Value::List(items), rest))
        }
        0x03 => {
            let (b, rest) = take(rest, 1)?;
            Ok((Value::Bool(b[0] != 0), rest))
        }
        0x04 => {
            let (bits, rest) = parse_len(rest)?;
            let (_, rest) = take(rest, bits.div_ceil(8))?;
            Ok((Value::Other, rest))
        }
        0x05 => int(rest, 4, true),
        0x06 => int(rest, 4, false),
        0x09 => {
            let (n, rest) = parse_len(rest)?;
            let (s, rest) = take(rest, n)?;
            Ok((Value::Octets(s), rest))
        }
        0x0A | 0x0C => {
            let (n, rest) = parse_len(rest)?;
            let (s, rest) = take(rest, n)?;
            Ok((Value::Text(s), rest))
        }
        0x0D => {
            let (_, rest) = take(rest, 1)?;
            Ok((Value::Other, rest))
        }
        0x0F => int(rest, 1, true),
        0x10 => int(rest, 2, true),
        0x11 | 0x16 => int(rest, 1, false),
        0x12 => int(rest, 2, false),
        0x14 => int(rest, 8, true),
        0x15 => int(rest, 8, false),
        0x17 => {
            let (b, rest) = take(rest, 4)?;
            let v = f32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            Ok((Value::Float(f64::from(v)), rest))
        }
        0x18 => {
            let (b, rest) = take(rest, 8)?;
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            Ok((Value::Float(f64::from_be_bytes(a)), rest))
        }
        0x19 => {
            let (b, rest) = take(rest, 12)?;
            Ok((Value::DateTime(b), rest))
        }
        0x1A => {
            let (_, rest) = take(rest, 5)?;
            Ok((Value::Other, rest))
        }
        0x1B => {
            let (_, rest) = take(rest, 4)?;
            Ok((Value::Other, rest))
        }
        _ => Err(AxdrError("unknown data type")),
    }
}

/// Why a COSEM date-time could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateTimeError {
    /// Not 12 bytes.
    Length,
    /// Year, month, day, hour, minute or second left unspecified (0xFF).
    Unspecified,
    /// Fields that name no real date or time.
    Range,
}

/// Reads a 12-byte COSEM date-time:
/// `year(2) month day weekday hour minute second hundredths deviation(2, signed) status`.
///
/// `deviation` is minutes of UTC minus local time (the Blue Book convention, so CET is -60);
/// `0x8000` means unspecified: the local time is then resolved in `tz`, using the status
/// byte's daylight-saving bit (0x80) to pick between the two instants of the repeated
/// autumn hour.
pub fn date_time(b: &[u8], tz: &TimeZone) -> Result<MeterTime, DateTimeError> {
    let b: &[u8; 12] = b.try_into().map_err(|_| DateTimeError::Length)?;
    let year = u16::from_be_bytes([b[0], b[1]]);
    let (month, day, hour, minute, second) = (b[2], b[3], b[5], b[6], b[7]);
    if year == 0xFFFF || [month, day, hour, minute, second].contains(&0xFF) {
        return Err(DateTimeError::Unspecified);
    }
    let year = i16::try_from(year).map_err(|_| DateTimeError::Range)?;
    let field = |x: u8| i8::try_from(x).map_err(|_| DateTimeError::Range);
    let civil = DateTime::new(
        year,
        field(month)?,
        field(day)?,
        field(hour)?,
        field(minute)?,
        field(second)?,
        0,
    )
    .map_err(|_| DateTimeError::Range)?;
    let deviation = i16::from_be_bytes([b[9], b[10]]);
    let status = b[11];
    if deviation != i16::MIN {
        if !(-900..=900).contains(&deviation) {
            return Err(DateTimeError::Range);
        }
        let offset_s = -i32::from(deviation) * 60;
        let offset = Offset::from_seconds(offset_s).map_err(|_| DateTimeError::Range)?;
        let ts = offset
            .to_timestamp(civil)
            .map_err(|_| DateTimeError::Range)?;
        return Ok(MeterTime {
            unix: ts.as_second(),
            offset_s,
        });
    }
    let amb = tz.to_ambiguous_timestamp(civil);
    let ts = if amb.is_ambiguous() && status != 0xFF && status & 0x80 == 0 {
        amb.later()
    } else {
        amb.compatible()
    }
    .map_err(|_| DateTimeError::Range)?;
    Ok(MeterTime::in_zone(ts.as_second(), tz))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_of_every_width() {
        assert_eq!(parse_value(&[0x10, 0xFF, 0xFE]).unwrap().0, Value::Int(-2));
        assert_eq!(
            parse_value(&[0x12, 0xFF, 0xFE]).unwrap().0,
            Value::Int(65_534)
        );
        assert_eq!(parse_value(&[0x0F, 0x80]).unwrap().0, Value::Int(-128));
        assert_eq!(
            parse_value(&[0x15, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
                .unwrap()
                .0,
            Value::Int(i128::from(u64::MAX))
        );
        assert_eq!(
            parse_value(&[0x05, 0xFF, 0xFF, 0xFF, 0xFF]).unwrap().0,
            Value::Int(-1)
        );
    }

    #[test]
    fn truncated_and_hostile_input_is_an_error() {
        assert!(parse_value(&[0x06, 0x00, 0x01]).is_err());
        assert!(parse_value(&[0x09, 0x05, 0x01]).is_err());
        assert!(parse_value(&[0x01, 0x82, 0xFF, 0xFF]).is_err());
        assert!(parse_value(&[0x42]).is_err());
        assert!(parse_value(&[]).is_err());
        // 100 nested structures: refused, not a stack overflow.
        let deep = [0x02u8, 0x01].repeat(100);
        assert!(parse_value(&deep).is_err());
    }

    #[test]
    fn date_time_with_and_without_deviation() {
        let oslo = TimeZone::get("Europe/Oslo").unwrap();
        // 2021-09-22 17:35:30, deviation -60 (UTC is local minus one hour): +01:00.
        let t = date_time(
            &[
                0x07, 0xE5, 0x09, 0x16, 0x03, 0x11, 0x23, 0x1E, 0xFF, 0xFF, 0xC4, 0x00,
            ],
            &oslo,
        )
        .unwrap();
        assert_eq!(t.to_string(), "2021-09-22T17:35:30+01:00");
        // 2019-02-04 23:52:22, deviation unspecified: Oslo winter time.
        let t = date_time(
            &[
                0x07, 0xE3, 0x02, 0x04, 0x01, 0x17, 0x34, 0x16, 0xFF, 0x80, 0x00, 0x00,
            ],
            &oslo,
        )
        .unwrap();
        assert_eq!(t.to_string(), "2019-02-04T23:52:22+01:00");
        // 2026-10-25 02:30 happens twice in Oslo; the DST bit picks the summer one.
        let mut b = [
            0x07, 0xEA, 0x0A, 0x19, 0x07, 0x02, 0x1E, 0x00, 0xFF, 0x80, 0x00, 0x80,
        ];
        assert_eq!(
            date_time(&b, &oslo).unwrap().to_string(),
            "2026-10-25T02:30:00+02:00"
        );
        b[11] = 0x00;
        assert_eq!(
            date_time(&b, &oslo).unwrap().to_string(),
            "2026-10-25T02:30:00+01:00"
        );
        b[2] = 13;
        assert_eq!(date_time(&b, &oslo), Err(DateTimeError::Range));
        b[2] = 0xFF;
        assert_eq!(date_time(&b, &oslo), Err(DateTimeError::Unspecified));
        assert_eq!(date_time(&b[..5], &oslo), Err(DateTimeError::Length));
    }
}
