//! Remembers the layout of a stream's telegrams so the next one with the same layout is read
//! without finding its lines and OBIS codes again.
//!
//! A meter sends the same lines every second, in the same order and the same widths; only
//! the digits of its values change. After a telegram is read in full, [`Layout`] keeps its
//! bytes, marks which bytes are value digits ("slots"), and lists what each line did. A new
//! telegram of the same length whose bytes equal the remembered ones everywhere except at
//! slots (which must hold digits) has the same line breaks, the same OBIS codes, the same
//! number shapes and units. Its plain number lines are then read straight from the known
//! digit positions; every other line is read again in full by the same code as always. So the
//! result is identical to [`super::parse_text`] by construction (and tested against it), and a
//! telegram that differs in any other byte is simply read in full and becomes the new layout.

use super::crc::{self, crc16_arc};
use super::framer::crc_mismatch;
use super::meter_id::IdCache;
use super::obis::{fast_obis, parse_obis, simple_quantity};
use super::telegram::Parser;
use super::value::{Family, digit_run};
use super::{end_mark_inside_line, without_crc_checked};
use crate::decoder::{Decoded, RejectReason, Rejection};
use crate::reading::Quantity;

/// What one line of the remembered telegram did, and how to do it again.
#[derive(Clone, Copy, Debug)]
enum Step {
    /// A line holding one plain number for one field (`1-0:1.7.0(00.244*kW)`).
    Number(NumberLine),
    /// A line the one-pass reader may take depending on its digits: read again in full,
    /// starting at `at`.
    Line { n: u32, at: u32 },
    /// Any other line not starting with `(`, `len` bytes without its line end, whose code
    /// (before its first `(`, so fixed) is known.
    Coded {
        n: u32,
        at: u32,
        len: u32,
        code: Option<u64>,
        open: u32,
    },
    /// A line starting with `(` (the legacy gas value), `len` bytes without its line end.
    Continuation { n: u32, at: u32, len: u32 },
}

/// Where a plain number line keeps its digits, and how to scale them.
#[derive(Clone, Copy, Debug)]
struct NumberLine {
    /// Line number.
    n: u32,
    /// Where the line (its OBIS code) starts, and where its `(` is.
    at: u32,
    open: u32,
    quantity: Quantity,
    family: Family,
    /// The value is negative (`-` before the digits).
    neg: bool,
    /// The integer digits start at `digits`; the fraction digits, if any, start at `frac_at`.
    digits: u32,
    int_len: u8,
    frac_at: u32,
    frac_len: u8,
    /// Power of ten from the unit in the telegram to the stored integer.
    exp: u8,
    /// Whether the digits (and decimal mark) fit in the eight bytes ending at the last digit.
    packed: Option<Packed>,
}

/// Eight bytes ending at a value's last digit, and which of them are digits: below the
/// decimal mark (`lo`, moved up one byte to close the gap) and above it (`hi`).
#[derive(Clone, Copy, Debug)]
struct Packed {
    last: u32,
    lo: u64,
    hi: u64,
}

impl Packed {
    /// The digits as one number, eight at a time without a loop.
    #[inline]
    fn value(self, text: &[u8]) -> i64 {
        let last = self.last as usize;
        let mut w = [0u8; 8];
        w.copy_from_slice(&text[last - 7..=last]);
        let w = u64::from_le_bytes(w);
        let sel = self.lo | self.hi;
        // Digit values, only where digits are (so no borrow crosses bytes), gap closed: the
        // digits end up in the top bytes, the first one lowest, zeros below.
        let d = (w & sel).wrapping_sub(0x3030_3030_3030_3030 & sel);
        let d = ((d & self.lo) << 8) | (d & self.hi);
        let d = d.wrapping_mul(10).wrapping_add(d >> 8);
        let d = ((d & 0x0000_00FF_0000_00FF)
            .wrapping_mul(100 + (1_000_000 << 32))
            .wrapping_add(((d >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(1 + (10_000 << 32))))
            >> 32;
        d as i64
    }

    /// The layout for digits from `first` to `last` (inclusive) with the decimal mark at
    /// `mark`, if they fit eight bytes ending at `last`.
    fn new(first: usize, mark: Option<usize>, last: usize) -> Option<Packed> {
        if last < 7 || last - first >= 8 {
            return None;
        }
        let base = last - 7;
        let bytes = |from: usize, to: usize| -> u64 {
            (from..to).fold(0u64, |m, i| m | 0xFF << (8 * (i - base)))
        };
        let (lo, hi) = match mark {
            Some(mark) => (bytes(first, mark), bytes(mark + 1, last + 1)),
            None => (0, bytes(first, last + 1)),
        };
        Some(Packed {
            last: last as u32,
            lo,
            hi,
        })
    }
}

impl NumberLine {
    /// The stored integer, computed as [`super::telegram`]'s one-pass reader does for the same
    /// bytes: digits into a mantissa, then scaled, rounding half away from zero.
    #[inline]
    fn value(&self, text: &[u8]) -> i64 {
        let m = match self.packed {
            Some(p) => p.value(text),
            None => {
                let int = run(text, self.digits as usize, self.int_len);
                if self.frac_len == 0 {
                    int
                } else {
                    int * POW10[usize::from(self.frac_len)]
                        + run(text, self.frac_at as usize, self.frac_len)
                }
            }
        };
        let (frac, exp) = (u32::from(self.frac_len), u32::from(self.exp));
        let v = if frac <= exp {
            // No overflow: a line only becomes a NumberLine when all nines would still fit.
            m * 10i64.pow(exp - frac)
        } else {
            let drop = frac - exp;
            let kept = m / 10i64.pow(drop);
            let first_dropped = m / 10i64.pow(drop - 1) % 10;
            kept + i64::from(first_dropped >= 5)
        };
        if self.neg { -v } else { v }
    }
}

/// Powers of ten up to 10^18.
const POW10: [i64; 19] = {
    let mut t = [1i64; 19];
    let mut i = 1;
    while i < 19 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// The value of `len` digits at `at`, which are known to be digits followed by a non-digit,
/// eight at a time.
#[inline]
fn run(text: &[u8], at: usize, len: u8) -> i64 {
    let (mut v, k) = digit_run(text, at);
    let mut done = k;
    while done < usize::from(len) && k > 0 {
        let (w, k) = digit_run(text, at + done);
        if k == 0 {
            break;
        }
        v = v * POW10[k] + w;
        done += k;
    }
    v
}

/// The remembered layout of the previous telegram of a stream.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    /// The previous telegram's bytes.
    text: Vec<u8>,
    /// 1 where that telegram had a value digit that may change, 0 where bytes must repeat.
    slot: Vec<u8>,
    steps: Vec<Step>,
    /// Whether `text`/`slot`/`steps` describe a telegram read to its end.
    valid: bool,
    ids: IdCache,
    /// The CRC of `text`, when it was computed.
    crc: Option<u16>,
    /// For each position of a telegram of this length, what a change of bit 0…3 of its byte
    /// changes in the CRC (see [`Layout::crc_by_difference`]).
    crc_basis: Vec<[u16; 4]>,
    /// The header line (`/` up to its line end) of the last telegram whose CRC was checked:
    /// a telegram without a CRC under the same header lost it in transit.
    checked_header: Vec<u8>,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            text: Vec::new(),
            slot: Vec::new(),
            steps: Vec::new(),
            valid: false,
            ids: IdCache::remembering(),
            crc: None,
            crc_basis: Vec::new(),
            checked_header: Vec::new(),
        }
    }
}

impl Layout {
    /// Checks the CRC the meter sent for one telegram's text (`/` … `!`; `None` for DSMR 2.2
    /// and 3, which send none) and decodes it exactly as [`super::parse_telegram`] does, as
    /// the decoder returns it; a telegram without a CRC is also rejected when a CRC-checked
    /// telegram before it had the same header line. Kept out of line so the decoder's
    /// per-push path (most pushes end no telegram) stays small.
    #[inline(never)]
    pub(crate) fn decode(
        &mut self,
        text: &[u8],
        sent: Option<u16>,
    ) -> Option<Result<Decoded, Rejection>> {
        let header = header_line(text);
        if sent.is_none()
            && let Some(r) = end_mark_inside_line(text)
        {
            return Some(Err(r));
        }
        if sent.is_none() && !self.checked_header.is_empty() && header == self.checked_header {
            return Some(Err(Rejection {
                reason: RejectReason::Checksum,
                detail: "a telegram without a CRC from a meter that sends one (its earlier \
                         telegrams had one): damaged in transit"
                    .into(),
            }));
        }
        let matched = self.matches(text);
        let crc = match sent {
            None => None,
            Some(sent) => {
                let actual = if matched {
                    // Also makes `text` the remembered telegram, with its CRC: the next one
                    // then differs from it in few digits.
                    self.crc_by_difference(text)
                } else {
                    crc16_arc(text)
                };
                if actual != sent {
                    return Some(Err(crc_mismatch(actual, sent)));
                }
                if header != self.checked_header {
                    self.checked_header.clear();
                    self.checked_header.extend_from_slice(header);
                }
                Some(actual)
            }
        };
        let decoded = if matched {
            self.replay(text)
        } else {
            let d = self.record(text);
            self.crc = crc;
            d
        };
        Some(without_crc_checked(decoded, text, sent))
    }

    /// The CRC of `text`, which has the remembered layout, from the CRC of the remembered
    /// telegram; `text` becomes the remembered telegram. CRC-16/ARC (no initial value, no
    /// final xor) is linear: the CRC of `text` is the remembered CRC xor the CRC of the
    /// difference, and a difference byte `d` at position `i` adds the CRC of `d` followed by
    /// `len - 1 - i` zero bytes. Only value digits can differ, and two digits differ in their
    /// low four bits only, so four precomputed values per position cover every case. Equal to
    /// [`crc16_arc`] always.
    fn crc_by_difference(&mut self, text: &[u8]) -> u16 {
        let crc = match self.crc {
            Some(crc) => self.difference(text, crc),
            None => None,
        };
        let crc = crc.unwrap_or_else(|| {
            self.text.copy_from_slice(text);
            crc16_arc(text)
        });
        self.crc = Some(crc);
        crc
    }

    /// [`Layout::crc_by_difference`] when the remembered CRC is `crc`, copying the words that
    /// differ; `None` if a difference is not one between digits.
    fn difference(&mut self, text: &[u8], mut crc: u16) -> Option<u16> {
        if self.crc_basis.len() != text.len() {
            self.build_crc_basis(text.len());
        }
        let basis = &self.crc_basis;
        let (new, new_rest) = text.as_chunks::<8>();
        let (old, old_rest) = self.text.as_chunks_mut::<8>();
        for (w, (a, b)) in new.iter().zip(old).enumerate() {
            let mut x = u64::from_le_bytes(*a) ^ u64::from_le_bytes(*b);
            if x == 0 {
                continue;
            }
            *b = *a;
            while x != 0 {
                let byte = x.trailing_zeros() / 8;
                let d = (x >> (8 * byte)) as u8;
                x &= !(0xFF << (8 * byte));
                crc ^= contribution(basis, w * 8 + byte as usize, d)?;
            }
        }
        let done = new.len() * 8;
        for (i, (a, b)) in new_rest.iter().zip(old_rest).enumerate() {
            crc ^= contribution(basis, done + i, *a ^ *b)?;
            *b = *a;
        }
        Some(crc)
    }

    /// For a telegram of `len` bytes: the CRC of byte `1 << k` at position `i` followed by
    /// zeros to the end, built from the end backwards (one zero byte per step).
    fn build_crc_basis(&mut self, len: usize) {
        self.crc_basis.clear();
        self.crc_basis.resize(len, [0; 4]);
        let mut b = [1u8, 2, 4, 8].map(|bit| crc::update_byte(0, bit));
        for slot in self.crc_basis.iter_mut().rev() {
            *slot = b;
            b = b.map(|x| crc::update_byte(x, 0));
        }
    }

    /// Whether `text` has the remembered layout: the same length, the same bytes outside the
    /// slots, digits in the slots.
    fn matches(&self, text: &[u8]) -> bool {
        if !self.valid || text.len() != self.text.len() {
            return false;
        }
        const BLOCK: usize = 128;
        let blocks = text
            .chunks(BLOCK)
            .zip(self.text.chunks(BLOCK))
            .zip(self.slot.chunks(BLOCK));
        for ((new, old), slot) in blocks {
            let mut bad = 0u8;
            for ((&b, &t), &s) in new.iter().zip(old).zip(slot) {
                let digit = u8::from(b.wrapping_sub(b'0') < 10);
                bad |= u8::from(b != t) & !(s & digit);
            }
            if bad != 0 {
                return false;
            }
        }
        true
    }

    /// Reads a telegram known to have the remembered layout.
    fn replay(&mut self, text: &[u8]) -> Decoded {
        let mut p = Parser::new(&mut self.ids);
        for step in &self.steps {
            match *step {
                Step::Number(l) => {
                    let at = l.at as usize;
                    let code = &text[at..at + l.open as usize];
                    p.number(l.n, code, l.quantity, l.family, l.value(text));
                }
                Step::Line { n, at } => {
                    // Never the `!` line: recording stopped there.
                    let _ = p.line_at(n, &text[at as usize..]);
                }
                Step::Coded {
                    n,
                    at,
                    len,
                    code,
                    open,
                } => {
                    let line = &text[at as usize..][..len as usize];
                    p.coded_line(n, line, code, open as usize);
                }
                Step::Continuation { n, at, len } => {
                    p.continuation(n, &text[at as usize..][..len as usize]);
                }
            }
        }
        p.finish()
    }

    /// Reads a telegram in full and remembers its layout.
    fn record(&mut self, text: &[u8]) -> Decoded {
        self.valid = false;
        self.steps.clear();
        self.text.clear();
        self.text.extend_from_slice(text);
        self.slot.clear();
        self.slot.resize(text.len(), 0);
        // Positions are kept as u32 (frames are at most MAX_FRAME bytes).
        if u32::try_from(text.len()).is_err() {
            return super::parse_text(text);
        }
        let mut p = Parser::new(&mut self.ids);
        let mut at = 0usize;
        let mut n = 0u32;
        let mut ended = false;
        while at < text.len() {
            n += 1;
            let rest = &text[at..];
            // The one-pass reader first, as `line_at` does; when it declines it has done
            // nothing, and `line_at` reads the line the general way.
            let (len, number) = match p.quick_line(n, rest) {
                Some(len) => (len, number_line(n, at, &rest[..len])),
                None => match p.line_at(n, rest) {
                    Some(len) => (len, None),
                    None => {
                        ended = true;
                        break;
                    }
                },
            };
            let line = &rest[..len];
            let content = line.strip_suffix(b"\n").unwrap_or(line);
            let content = content.strip_suffix(b"\r").unwrap_or(content);
            match number {
                Some(l) => {
                    let int = l.digits as usize..l.digits as usize + usize::from(l.int_len);
                    let frac = l.frac_at as usize..l.frac_at as usize + usize::from(l.frac_len);
                    self.slot[int].fill(1);
                    self.slot[frac].fill(1);
                    self.steps.push(Step::Number(l));
                }
                // Blank lines and the header do nothing whatever their bytes.
                None if matches!(content.first(), None | Some(b'/')) => {}
                None => {
                    // Read again in full: any digit after the first `(` may change.
                    if let Some(open) = line.iter().position(|&b| b == b'(') {
                        for (s, b) in self.slot[at + open..at + len].iter_mut().zip(&line[open..]) {
                            *s = u8::from(b.is_ascii_digit());
                        }
                    }
                    self.steps.push(general_step(n, at, content));
                }
            }
            at += len;
        }
        // A telegram always ends at its `!`; without one, do not trust the layout.
        self.valid = ended;
        p.finish()
    }
}

/// The header line of a telegram's text: from its `/` up to (without) the first line end.
fn header_line(text: &[u8]) -> &[u8] {
    let end = text
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(text.len());
    &text[..end]
}

/// How to read again a line the one-pass reader declined: `content` is the line without its
/// line end, `at` where it starts.
fn general_step(n: u32, at: usize, content: &[u8]) -> Step {
    let (at, len) = (at as u32, content.len() as u32);
    if content.first() == Some(&b'(') {
        return Step::Continuation { n, at, len };
    }
    let (code, open) = match fast_obis(content) {
        // Digits after the `(` decide whether the one-pass reader takes such a line.
        Some((code, _)) if simple_quantity(code).is_some() => return Step::Line { n, at },
        Some((code, open)) => (Some(code), open),
        None => parse_obis(content),
    };
    Step::Coded {
        n,
        at,
        len,
        code,
        open: open as u32,
    }
}

/// What a difference `d` (below 16) at position `i` adds to the CRC (`None` for 16 and
/// more, which two digits never differ by).
#[inline]
fn contribution(basis: &[[u16; 4]], i: usize, d: u8) -> Option<u16> {
    if d >= 16 {
        return None;
    }
    let b = &basis[i];
    let bit = |k: u32| 0u16.wrapping_sub(u16::from(d >> k & 1));
    Some((b[0] & bit(0)) ^ (b[1] & bit(1)) ^ (b[2] & bit(2)) ^ (b[3] & bit(3)))
}

/// The [`NumberLine`] of a line the one-pass reader takes (`code(number*unit)` and a line
/// end), or `None` for any other line. `line` is the line with its line end; `at` is where it
/// starts in the telegram.
fn number_line(n: u32, at: usize, line: &[u8]) -> Option<NumberLine> {
    let (code, open) = fast_obis(line)?;
    let (quantity, family) = simple_quantity(code)?;
    let body = &line[open + 1..];
    let (neg, sign) = match body.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let int_len = body[sign..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let after_int = sign + int_len;
    let (frac_start, frac_len) = match body.get(after_int) {
        Some(b'.' | b',') => {
            let f = body[after_int + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            (after_int + 1, f)
        }
        _ => (after_int, 0),
    };
    let end = frac_start + frac_len;
    let unit = match body.get(end)? {
        b')' => &body[end..end],
        b'*' => {
            let u = &body[end + 1..];
            &u[..u.iter().position(|&b| b == b')')?]
        }
        _ => return None,
    };
    // The line must be exactly this value and a line end (as the one-pass reader requires).
    let close = end + usize::from(!unit.is_empty()) + unit.len();
    let eol = &body[close + 1..];
    if !matches!(eol, b"" | b"\n" | b"\r\n") {
        return None;
    }
    let exp = family.exponent(unit)?;
    let digits = int_len + frac_len;
    // Only where all nines still fit an i64 after scaling: then no digits can overflow.
    let scale = exp.saturating_sub(frac_len as u32) as usize;
    if digits == 0 || digits + scale > 18 {
        return None;
    }
    let base = at + open + 1;
    let first = base + sign;
    let packed = if frac_len > 0 {
        Packed::new(first, Some(base + after_int), base + end - 1)
    } else {
        Packed::new(first, None, first + int_len - 1)
    };
    Some(NumberLine {
        n,
        at: at as u32,
        open: open as u32,
        quantity,
        family,
        neg,
        digits: (base + sign) as u32,
        int_len: int_len as u8,
        frac_at: (base + frac_start) as u32,
        frac_len: frac_len as u8,
        exp: exp as u8,
        packed,
    })
}
