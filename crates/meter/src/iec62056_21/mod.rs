//! IEC 62056-21 optical data readout (modes A, C and D).
//!
//! After the sign-on request `/?!` (modes A–C, 300 baud first) or on its own every few
//! seconds (mode D, 2400 or 9600 baud), the meter sends an identification line and a data
//! block:
//!
//! ```text
//! /ISK5ME162-0033 CR LF          identification: '/', maker (3 letters), baud letter, text
//! STX                            modes A–C only
//! 1.8.0(001234.567*kWh) CR LF    data sets: address(value*unit), one or more per line
//! …
//! ! CR LF                        end of the data block
//! ETX BCC                        modes A–C only: BCC = XOR of every byte after STX up to ETX
//! ```
//!
//! Mode D sends the same block without STX, ETX and BCC (and usually an empty line after the
//! identification). Addresses are OBIS codes in any of their text forms (`1.8.0`,
//! `1-0:1.8.0*255`, `C.1.0`); values are decimals, turned into the stored integers exactly
//! (`001234.567*kWh` is 1,234,567 Wh). Meter time comes from `0.9.1` (hhmmss) and `0.9.2`
//! (YYMMDD) and is resolved in the decoder's time zone (Central European rules by default).

use crate::decoder::{Decoded, Decoder, RejectReason, Rejection, Stats};
use crate::dlms::default_time_zone;
use crate::dlms::obis::{Obis, ReadingBuilder};
use crate::quote::cut;
use crate::reading::Protocol;
use crate::time::MeterTime;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

pub mod explain;

const STX: u8 = 0x02;
const ETX: u8 = 0x03;
/// Largest data block kept.
pub const MAX_BLOCK_LEN: usize = 16 * 1024;
/// Longest identification line (the standard allows 16 characters of text after `/XXXZ`).
const MAX_IDENT_LEN: usize = 64;

/// Streaming IEC 62056-21 decoder. See the module documentation.
#[derive(Debug)]
pub struct Iec62056Decoder {
    buf: Vec<u8>,
    ident: Option<String>,
    tz: TimeZone,
    stats: Stats,
}

impl Default for Iec62056Decoder {
    fn default() -> Self {
        Iec62056Decoder::new()
    }
}

impl Iec62056Decoder {
    /// A decoder resolving meter clocks in Central European rules.
    pub fn new() -> Self {
        Iec62056Decoder {
            buf: Vec::new(),
            ident: None,
            tz: default_time_zone(),
            stats: Stats::default(),
        }
    }

    /// Resolves the meter's local clock (`0.9.1`/`0.9.2`) in `tz`.
    pub fn with_time_zone(mut self, tz: TimeZone) -> Self {
        self.tz = tz;
        self
    }

    /// The identification line of the last readout (`ISK5ME162-0033`), without `/`.
    pub fn identification(&self) -> Option<&str> {
        self.ident.as_deref()
    }

    fn drop_front(&mut self, n: usize, noise: bool) {
        if noise {
            self.stats.skipped_bytes += n as u64;
        }
        self.buf.drain(..n);
    }

    fn reject(&mut self, reason: RejectReason, detail: impl Into<String>) -> Rejection {
        self.stats.count_rejection(reason);
        Rejection {
            reason,
            detail: detail.into(),
        }
    }
}

/// The sign-on request a reader sends to a mode A–C meter at 300 baud.
pub const SIGN_ON: &[u8] = b"/?!\r\n";

impl Decoder for Iec62056Decoder {
    fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        let n = self
            .buf
            .iter()
            .position(|&b| b == b'/' || b == STX)
            .unwrap_or(self.buf.len());
        self.drop_front(n, true);
    }

    fn next(&mut self) -> Option<Result<Decoded, Rejection>> {
        loop {
            let n = self
                .buf
                .iter()
                .position(|&b| b == b'/' || b == STX)
                .unwrap_or(self.buf.len());
            self.drop_front(n, true);
            match self.buf.first()? {
                b'/' => {
                    let Some(eol) = self.buf.iter().position(|&b| b == b'\n') else {
                        if self.buf.len() > MAX_IDENT_LEN {
                            self.drop_front(1, true);
                            continue;
                        }
                        return None;
                    };
                    if eol > MAX_IDENT_LEN {
                        self.drop_front(1, true);
                        continue;
                    }
                    let line = trim_eol(&self.buf[1..eol]);
                    if line.starts_with(b"?") || line.len() < 5 {
                        // A sign-on request (ours, echoed) or noise.
                        self.drop_front(eol + 1, true);
                        continue;
                    }
                    self.ident = Some(String::from_utf8_lossy(line).into_owned());
                    // Mode D: the data block follows without STX. Look past blank lines.
                    let after = eol + 1;
                    let rest = &self.buf[after..];
                    let first = rest.iter().position(|b| !matches!(b, b'\r' | b'\n'));
                    match first.map(|i| rest[i]) {
                        None => return None,
                        Some(STX) | Some(b'/') => {
                            self.drop_front(after, false);
                            continue;
                        }
                        Some(_) => {
                            // What comes first after the identification decides, so the
                            // outcome never depends on how the bytes arrived: an STX (modes
                            // A-C: an acknowledgement or other chatter came first), the next
                            // identification line (a '/' at the start of a line, never inside
                            // a value: this readout broke off), or the end mark.
                            let end = find_end_mark(rest);
                            let next_ident =
                                rest.windows(2).position(|w| w == b"\n/").map(|i| i + 1);
                            let boundary = match (end, next_ident) {
                                (Some(e), Some(i)) => Some(e.min(i)),
                                (e, i) => e.or(i),
                            };
                            let stx = rest.iter().position(|&b| b == STX);
                            if stx.is_some_and(|stx| boundary.is_none_or(|b| stx < b)) {
                                self.drop_front(after, false);
                                continue;
                            }
                            if let Some(at) = next_ident
                                && end.is_none_or(|end| at < end)
                            {
                                self.drop_front(after + at, false);
                                let r = self.reject(
                                    RejectReason::Framing,
                                    "readout without its '!' end line",
                                );
                                return Some(Err(r));
                            }
                            match end {
                                Some(end) => {
                                    let block = rest[..end].to_vec();
                                    self.drop_front(after + end, false);
                                    let d = decode_block(&block, &self.tz);
                                    self.stats.accepted += 1;
                                    return Some(Ok(d));
                                }
                                None => {
                                    if rest.len() > MAX_BLOCK_LEN {
                                        self.drop_front(1, false);
                                        let r = self.reject(
                                        RejectReason::Oversized,
                                        format!("readout longer than {MAX_BLOCK_LEN} bytes without '!'"),
                                    );
                                        return Some(Err(r));
                                    }
                                    return None;
                                }
                            }
                        }
                    }
                }
                _ => {
                    // STX: the block runs to ETX, followed by the BCC.
                    let Some(etx) = self.buf.iter().position(|&b| b == ETX) else {
                        if self.buf.len() > MAX_BLOCK_LEN {
                            self.drop_front(1, false);
                            let r = self.reject(
                                RejectReason::Oversized,
                                format!("data block longer than {MAX_BLOCK_LEN} bytes without ETX"),
                            );
                            return Some(Err(r));
                        }
                        return None;
                    };
                    let &bcc = self.buf.get(etx + 1)?;
                    let computed = self.buf[1..=etx].iter().fold(0u8, |a, b| a ^ b);
                    let block = self.buf[1..etx].to_vec();
                    self.drop_front(etx + 2, false);
                    if bcc != computed {
                        let r = self.reject(
                            RejectReason::Checksum,
                            format!("BCC 0x{computed:02X} expected, readout says 0x{bcc:02X}"),
                        );
                        return Some(Err(r));
                    }
                    let Some(end) = find_end_mark(&block) else {
                        let r = self
                            .reject(RejectReason::Framing, "data block without its '!' end line");
                        return Some(Err(r));
                    };
                    let d = decode_block(&block[..end], &self.tz);
                    self.stats.accepted += 1;
                    return Some(Ok(d));
                }
            }
        }
    }

    fn stats(&self) -> &Stats {
        &self.stats
    }
}

fn trim_eol(s: &[u8]) -> &[u8] {
    let mut s = s;
    while let [rest @ .., b'\r' | b'\n'] = s {
        s = rest;
    }
    s
}

/// Offset of the `!` end line in a data block (the block before it), if present.
fn find_end_mark(block: &[u8]) -> Option<usize> {
    let mut start = 0;
    for line in block.split_inclusive(|&b| b == b'\n') {
        if trim_eol(line) == b"!" && line.ends_with(b"\n") {
            return Some(start);
        }
        start += line.len();
    }
    None
}

/// Decodes the data sets of a block (without STX and the `!` line).
pub fn decode_block(block: &[u8], tz: &TimeZone) -> Decoded {
    let mut b = ReadingBuilder::new(Protocol::Iec62056_21);
    let mut time_of_day: Option<(i8, i8, i8)> = None;
    let mut date: Option<(i16, i8, i8)> = None;
    for (n, line) in block.split(|&c| c == b'\n').enumerate() {
        let line = trim_eol(line);
        let line_no = u32::try_from(n + 1).unwrap_or(u32::MAX);
        if line.is_empty() {
            continue;
        }
        let Some(open) = line.iter().position(|&c| c == b'(') else {
            b.diagnose(line_no, "line", "a line without '(value)'; ignored");
            continue;
        };
        let address = String::from_utf8_lossy(&line[..open]);
        let Some(mut obis) = Obis::parse_text(address.trim()) else {
            b.diagnose(line_no, address.trim(), "not an OBIS address; ignored");
            continue;
        };
        // EasyMeter and others write E = 255 for the current value (`1.8.0*255` is F; but
        // `21.7.255`): treat it as E = 0.
        if obis.0[4] == 255 {
            obis.0[4] = 0;
        }
        let Some(close) = line[open..].iter().position(|&c| c == b')') else {
            b.diagnose(line_no, obis, "value without ')'; ignored");
            continue;
        };
        let inside = &line[open + 1..open + close];
        let (value, unit) = match inside.iter().position(|&c| c == b'*') {
            Some(star) => (&inside[..star], Some(&inside[star + 1..])),
            None => (inside, None),
        };
        match obis.0[2..5] {
            [0, 9, 1] => {
                time_of_day = parse_hhmmss(value);
                if time_of_day.is_none() {
                    b.diagnose(line_no, obis, "time is not hhmmss");
                }
                continue;
            }
            [0, 9, 2] => {
                date = parse_yymmdd(value);
                if date.is_none() {
                    b.diagnose(line_no, obis, "date is not YYMMDD");
                }
                continue;
            }
            _ => {}
        }
        match (parse_decimal(value), unit) {
            (Some((raw, decimals)), unit) => {
                let (prefix, code) = match unit.map(unit_code) {
                    None => (0, None),
                    Some(Some((p, c))) => (p, Some(c)),
                    Some(None) => {
                        b.diagnose(
                            line_no,
                            obis,
                            format!(
                                "unknown unit '{}'; value ignored",
                                cut(&String::from_utf8_lossy(unit.unwrap_or_default()))
                            ),
                        );
                        continue;
                    }
                };
                let scaler = i8::try_from(prefix - i32::from(decimals)).unwrap_or(i8::MIN);
                b.number(line_no, obis, raw, scaler, code);
            }
            (None, _) => b.bytes(line_no, obis, value),
        }
    }
    if let (Some((y, mo, d)), Some((h, mi, s))) = (date, time_of_day)
        && let Ok(civil) = DateTime::new(y, mo, d, h, mi, s, 0)
        && let Ok(ts) = tz.to_ambiguous_timestamp(civil).compatible()
    {
        b.time(MeterTime::in_zone(ts.as_second(), tz));
    }
    b.finish()
}

/// A decimal `-001234.567` as (1234567 with its sign, 3 decimals).
fn parse_decimal(s: &[u8]) -> Option<(i128, u8)> {
    let (neg, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 30 {
        return None;
    }
    let mut v: i128 = 0;
    let mut decimals: Option<u8> = None;
    let mut any = false;
    for &c in digits {
        match c {
            b'0'..=b'9' => {
                v = v * 10 + i128::from(c - b'0');
                any = true;
                if let Some(d) = decimals.as_mut() {
                    *d += 1;
                }
            }
            b'.' | b',' if decimals.is_none() => decimals = Some(0),
            _ => return None,
        }
    }
    any.then_some((if neg { -v } else { v }, decimals.unwrap_or(0)))
}

/// A unit text as (power of ten, DLMS unit code).
fn unit_code(u: &[u8]) -> Option<(i32, u8)> {
    Some(match u {
        b"Wh" => (0, 30),
        b"kWh" => (3, 30),
        b"MWh" => (6, 30),
        b"varh" => (0, 32),
        b"kvarh" => (3, 32),
        b"W" => (0, 27),
        b"kW" => (3, 27),
        b"var" => (0, 29),
        b"kvar" => (3, 29),
        b"V" => (0, 35),
        b"A" => (0, 33),
        _ => return None,
    })
}

fn two(s: &[u8]) -> Option<i8> {
    match s {
        [a @ b'0'..=b'9', b @ b'0'..=b'9'] => Some(((a - b'0') * 10 + (b - b'0')) as i8),
        _ => None,
    }
}

fn parse_hhmmss(s: &[u8]) -> Option<(i8, i8, i8)> {
    if s.len() != 6 {
        return None;
    }
    Some((two(&s[0..2])?, two(&s[2..4])?, two(&s[4..6])?))
}

/// `YYMMDD`, or `CYYMMDD` with a leading century digit (0 = 1900s, 1 = 2000s).
fn parse_yymmdd(s: &[u8]) -> Option<(i16, i8, i8)> {
    let (century, s) = match s.len() {
        6 => (2000, s),
        7 if s[0] == b'0' => (1900, &s[1..]),
        7 if s[0] == b'1' => (2000, &s[1..]),
        _ => return None,
    };
    Some((
        century + i16::from(two(&s[0..2])?),
        two(&s[2..4])?,
        two(&s[4..6])?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact() {
        assert_eq!(parse_decimal(b"001234.567"), Some((1_234_567, 3)));
        assert_eq!(parse_decimal(b"-0.5"), Some((-5, 1)));
        assert_eq!(parse_decimal(b"42"), Some((42, 0)));
        assert_eq!(parse_decimal(b"1.2.3"), None);
        assert_eq!(parse_decimal(b"."), None);
        assert_eq!(parse_decimal(b""), None);
        assert_eq!(parse_decimal(b"12a"), None);
    }

    #[test]
    fn dates_and_times() {
        assert_eq!(parse_yymmdd(b"260329"), Some((2026, 3, 29)));
        assert_eq!(parse_yymmdd(b"1260329"), Some((2026, 3, 29)));
        assert_eq!(parse_yymmdd(b"26032"), None);
        assert_eq!(parse_hhmmss(b"235959"), Some((23, 59, 59)));
        assert_eq!(parse_hhmmss(b"23:59"), None);
    }

    fn decode(parts: &[&[u8]]) -> Vec<Result<Decoded, Rejection>> {
        let mut d = Iec62056Decoder::new();
        let mut out = Vec::new();
        for part in parts {
            d.push(part);
            while let Some(r) = d.next() {
                out.push(r);
            }
        }
        out
    }

    /// Found by the `iec62056_21` fuzz target: a '/' inside a value (here a unit) was taken
    /// for the next identification line when the readout arrived in two pieces, giving a
    /// rejection and a second, bogus reading; whole, the same bytes gave one reading.
    #[test]
    fn a_slash_inside_a_value_is_no_new_readout_whatever_the_split() {
        let stream =
            b"/ESY5Q3DA1004 V3.04\r\n\r\n1.8.1(000800.000*k/Wh)\r\n1.8.2(000434.567*kWh)\r\n!\r\n";
        let whole = decode(&[stream]);
        assert_eq!(whole.len(), 1);
        let d = whole[0].as_ref().unwrap();
        assert_eq!(d.reading.get(crate::Quantity::ImportT2Wh), Some(434_567));
        assert_eq!(d.reading.get(crate::Quantity::ImportT1Wh), None); // unit "k/Wh": ignored
        for cut in 1..stream.len() {
            assert_eq!(
                decode(&[&stream[..cut], &stream[cut..]]),
                whole,
                "cut at {cut}"
            );
        }
    }

    /// A readout broken off by the next identification line is one framing rejection, and
    /// the next readout reads, whatever the split.
    #[test]
    fn a_readout_broken_off_by_the_next_is_rejected_whatever_the_split() {
        let stream = b"/ESY5Q3DA1004 V3.04\r\n\r\n1.8.1(000800.000*kWh)\r\n/ESY5Q3DA1004 V3.04\r\n\r\n1.8.2(000434.567*kWh)\r\n!\r\n";
        let whole = decode(&[stream]);
        assert_eq!(whole.len(), 2, "{whole:?}");
        assert_eq!(whole[0].as_ref().unwrap_err().reason, RejectReason::Framing);
        let d = whole[1].as_ref().unwrap();
        assert_eq!(d.reading.get(crate::Quantity::ImportT2Wh), Some(434_567));
        assert_eq!(d.reading.get(crate::Quantity::ImportT1Wh), None);
        for cut in 1..stream.len() {
            assert_eq!(
                decode(&[&stream[..cut], &stream[cut..]]),
                whole,
                "cut at {cut}"
            );
        }

        // Also found by the fuzzer: the next readout is a mode C one, with an STX further on.
        // The STX after the next identification line must not make the first readout look
        // like mode C chatter (it did only when the bytes arrived whole).
        let mut stream = b"/ESY5Q3DA1004 V3.04\r\n\r\n1.8.1(000800.000*kWh)\r\n".to_vec();
        stream.extend(b"/ISK5ME162-0033\r\n\x02");
        let block = b"1.8.2(000434.567*kWh)\r\n!\r\n\x03";
        stream.extend(block);
        stream.push(block.iter().fold(0, |a, b| a ^ b)); // BCC: XOR after STX up to ETX
        let whole = decode(&[&stream]);
        assert_eq!(whole.len(), 2, "{whole:?}");
        assert_eq!(whole[0].as_ref().unwrap_err().reason, RejectReason::Framing);
        let d = whole[1].as_ref().unwrap();
        assert_eq!(d.reading.get(crate::Quantity::ImportT2Wh), Some(434_567));
        for cut in 1..stream.len() {
            assert_eq!(
                decode(&[&stream[..cut], &stream[cut..]]),
                whole,
                "cut at {cut}"
            );
        }
    }
}
