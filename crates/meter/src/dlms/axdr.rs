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
        0x13 => compact_array(rest, depth),
        _ => parse_body(tag, rest, depth),
    }
}

/// Reads the value of type `tag` whose tag has already been read (a compact array's
/// contents carry no tags).
fn parse_body(tag: u8, rest: &[u8], depth: usize) -> Result<(Value<'_>, &[u8]), AxdrError> {
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

/// Most values one compact array may unpack to (a load profile of a month of quarter hours
/// with a few columns fits; bounds what a small hostile description can make us allocate).
const MAX_COMPACT_VALUES: usize = 1 << 16;

/// A compact array's `contents-description` (Blue Book `TypeDescription`).
#[derive(Clone, Debug, PartialEq, Eq)]
enum TypeDescription {
    /// A simple type, by its `Data` tag.
    Simple(u8),
    /// `array`: a fixed number of elements of one type.
    Array(u16, Box<TypeDescription>),
    /// `structure`: one element of each type, in order.
    Structure(Vec<TypeDescription>),
}

impl TypeDescription {
    /// Fewest bytes one value of this type takes in the contents (0 for `null-data` only).
    fn min_len(&self) -> usize {
        match self {
            TypeDescription::Simple(0x00) => 0,
            TypeDescription::Simple(_) => 1,
            TypeDescription::Array(n, t) => usize::from(*n).saturating_mul(t.min_len()),
            TypeDescription::Structure(ts) => {
                ts.iter().fold(0usize, |a, t| a.saturating_add(t.min_len()))
            }
        }
    }
}

/// Reads a `TypeDescription`: the `Data` tag, then for `array` the element count
/// (`long-unsigned`, 2 bytes) and the element type, for `structure` the element count (an
/// A-XDR length) and each element's type.
fn type_description(bytes: &[u8], depth: usize) -> Result<(TypeDescription, &[u8]), AxdrError> {
    if depth >= MAX_DEPTH {
        return Err(AxdrError("compact-array types nested too deep"));
    }
    let (&tag, rest) = bytes
        .split_first()
        .ok_or(AxdrError("type description missing"))?;
    match tag {
        0x01 => {
            let (n, rest) = take(rest, 2)?;
            let n = u16::from_be_bytes([n[0], n[1]]);
            let (t, rest) = type_description(rest, depth + 1)?;
            Ok((TypeDescription::Array(n, Box::new(t)), rest))
        }
        0x02 => {
            let (n, mut rest) = parse_len(rest)?;
            if n > rest.len() {
                return Err(AxdrError("structure description longer than the frame"));
            }
            let mut types = Vec::with_capacity(n);
            for _ in 0..n {
                let (t, r) = type_description(rest, depth + 1)?;
                types.push(t);
                rest = r;
            }
            Ok((TypeDescription::Structure(types), rest))
        }
        0x00 | 0x03..=0x06 | 0x09 | 0x0A | 0x0C | 0x0D | 0x0F..=0x12 | 0x14..=0x1B => {
            Ok((TypeDescription::Simple(tag), rest))
        }
        _ => Err(AxdrError("unknown type in a compact-array description")),
    }
}

/// Reads one untagged value of type `t` from a compact array's contents, counting values
/// against `budget`.
fn untagged<'a>(
    t: &TypeDescription,
    bytes: &'a [u8],
    depth: usize,
    budget: &mut usize,
) -> Result<(Value<'a>, &'a [u8]), AxdrError> {
    *budget = budget
        .checked_sub(1)
        .ok_or(AxdrError("compact array unpacks to too many values"))?;
    match t {
        TypeDescription::Simple(tag) => parse_body(*tag, bytes, depth),
        TypeDescription::Array(n, t) => {
            let n = usize::from(*n);
            if n.saturating_mul(t.min_len()) > bytes.len() || n > *budget {
                return Err(AxdrError("compact-array element longer than its contents"));
            }
            let mut items = Vec::with_capacity(n);
            let mut rest = bytes;
            for _ in 0..n {
                let (v, r) = untagged(t, rest, depth + 1, budget)?;
                items.push(v);
                rest = r;
            }
            Ok((Value::List(items), rest))
        }
        TypeDescription::Structure(ts) => {
            let mut items = Vec::with_capacity(ts.len());
            let mut rest = bytes;
            for t in ts {
                let (v, r) = untagged(t, rest, depth + 1, budget)?;
                items.push(v);
                rest = r;
            }
            Ok((Value::List(items), rest))
        }
    }
}

/// `compact-array` (tag 0x13, Blue Book 4.1.6.1): `contents-description` (a
/// [`TypeDescription`] of one element) then `array-contents`, an octet string (A-XDR length)
/// holding the elements back to back without tags. Unpacked into a [`Value::List`] of the
/// elements, exactly as the same array sent with tags would read.
fn compact_array(bytes: &[u8], depth: usize) -> Result<(Value<'_>, &[u8]), AxdrError> {
    if depth >= MAX_DEPTH {
        return Err(AxdrError("lists nested too deep"));
    }
    let (t, rest) = type_description(bytes, depth + 1)?;
    if t.min_len() == 0 {
        return Err(AxdrError("compact-array elements of no bytes"));
    }
    let (n, rest) = parse_len(rest)?;
    let (mut contents, rest) = take(rest, n)?;
    let mut budget = MAX_COMPACT_VALUES;
    let mut items = Vec::new();
    while !contents.is_empty() {
        let (v, r) = untagged(&t, contents, depth + 1, &mut budget)?;
        items.push(v);
        contents = r;
    }
    Ok((Value::List(items), rest))
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
    fn compact_array_of_structures_reads_like_the_tagged_array() {
        // 13 compact-array | 02 02 12 11: each element a structure {long-unsigned, unsigned}
        // | 06 contents length | 0001 05 | 0002 07: two elements {1, 5} and {2, 7}.
        let compact = [
            0x13, 0x02, 0x02, 0x12, 0x11, 0x06, 0x00, 0x01, 0x05, 0x00, 0x02, 0x07,
        ];
        // The same array with tags: 01 02 | 02 02 12 0001 11 05 | 02 02 12 0002 11 07.
        let tagged = [
            0x01, 0x02, 0x02, 0x02, 0x12, 0x00, 0x01, 0x11, 0x05, 0x02, 0x02, 0x12, 0x00, 0x02,
            0x11, 0x07,
        ];
        let (v, rest) = parse_value(&compact).unwrap();
        assert!(rest.is_empty());
        assert_eq!(v, parse_value(&tagged).unwrap().0);
        let pair = |a, b| Value::List(vec![Value::Int(a), Value::Int(b)]);
        assert_eq!(v, Value::List(vec![pair(1, 5), pair(2, 7)]));
    }

    #[test]
    fn compact_array_with_arrays_and_strings() {
        // Elements: array of 2 long (01 0002 10); contents 8 bytes: FFFE 0003 | 0004 0005.
        let v = parse_value(&[
            0x13, 0x01, 0x00, 0x02, 0x10, 0x08, 0xFF, 0xFE, 0x00, 0x03, 0x00, 0x04, 0x00, 0x05,
        ])
        .unwrap()
        .0;
        let pair = |a, b| Value::List(vec![Value::Int(a), Value::Int(b)]);
        assert_eq!(v, Value::List(vec![pair(-2, 3), pair(4, 5)]));
        // Elements: structure {octet-string, double-long-unsigned}; an octet string keeps its
        // length byte in the contents: 06 0100010800FF | 00003039 (12345), 11 bytes, then a
        // trailing 00 that belongs to whatever follows the array.
        let (v, rest) = parse_value(&[
            0x13, 0x02, 0x02, 0x09, 0x06, 0x0B, 0x06, 0x01, 0x00, 0x01, 0x08, 0x00, 0xFF, 0x00,
            0x00, 0x30, 0x39, 0x00,
        ])
        .unwrap();
        assert_eq!(rest, [0x00]);
        assert_eq!(
            v,
            Value::List(vec![Value::List(vec![
                Value::Octets(&[1, 0, 1, 8, 0, 0xFF]),
                Value::Int(12_345)
            ])])
        );
        // Empty contents: an empty array.
        assert_eq!(
            parse_value(&[0x13, 0x11, 0x00]).unwrap().0,
            Value::List(vec![])
        );
    }

    #[test]
    fn hostile_compact_arrays_are_errors() {
        // Elements of null-data take no bytes: refused rather than looping.
        assert!(parse_value(&[0x13, 0x00, 0x00]).is_err());
        assert!(parse_value(&[0x13, 0x02, 0x02, 0x00, 0x00, 0x01, 0x05]).is_err());
        // Contents announced longer than the frame.
        assert!(parse_value(&[0x13, 0x11, 0x05, 0x01, 0x02]).is_err());
        // The last element cut short: 3 bytes of long-unsigned pairs.
        assert!(parse_value(&[0x13, 0x12, 0x03, 0x00, 0x01, 0x02]).is_err());
        // Arrays of 65,535 arrays of 65,535 unsigned in one byte of contents: refused before
        // anything is allocated for them.
        assert!(
            parse_value(&[0x13, 0x01, 0xFF, 0xFF, 0x01, 0xFF, 0xFF, 0x11, 0x01, 0x00]).is_err()
        );
        // Arrays of 1,000 structures of 100 nulls and one unsigned: 101,000 values from
        // 1,000 bytes, over the unpacking limit.
        let mut b = vec![0x13, 0x01, 0x03, 0xE8, 0x02, 101];
        b.extend([0x00; 100]);
        b.extend([0x11, 0x82, 0x03, 0xE8]);
        b.extend([0u8; 1000]);
        assert!(parse_value(&b).is_err());
        // Unknown type and a compact array described inside a compact array.
        assert!(parse_value(&[0x13, 0x42, 0x00]).is_err());
        assert!(parse_value(&[0x13, 0x13, 0x00]).is_err());
        // Descriptions nested past the depth limit.
        let mut deep = vec![0x13];
        deep.extend([0x02, 0x01].repeat(20));
        deep.extend([0x11, 0x00]);
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
