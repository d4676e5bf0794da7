//! Finds DSMR telegrams (`/` … `!CRC`) and Smarty ciphered frames (0xDB …) in a byte stream.
//!
//! Push bytes in any split, then take frames out. The framer checks the CRC of each text
//! telegram (DSMR 2.2 and 3 send none), skips noise between frames, resynchronises when a new
//! `/` starts a line before the current telegram ended, and never holds more than
//! [`MAX_FRAME`] bytes of one frame: a stream of garbage cannot grow its buffer.

use super::crc;
use crate::decoder::{RejectReason, Rejection};
use crate::glo;

/// The longest frame accepted, in bytes. A DSMR 5 telegram is about 1 KB; an eMUCS one with
/// thirteen months of peak history about 2.5 KB; 16 KiB leaves room for any real meter.
pub const MAX_FRAME: usize = 16 * 1024;

/// One complete frame, borrowed from the framer's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A text telegram from `/` to `!` inclusive, its CRC already checked (except inside
    /// [`super::DsmrDecoder`], which checks it itself).
    Telegram {
        /// The bytes the CRC covers: `/` … `!`.
        text: &'a [u8],
        /// The CRC the meter sent (`None` for DSMR 2.2 / 3, which send none).
        crc: Option<u16>,
    },
    /// A general-glo-ciphering APDU (Luxembourg Smarty), still encrypted.
    Encrypted(&'a [u8]),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Looking for `/` or 0xDB.
    Hunting,
    /// Inside a text telegram starting at `pos`; `scanned` bytes after `pos` hold no `!`,
    /// and `crc` is the CRC register after them.
    Text { scanned: usize, crc: u16 },
    /// A ciphered frame of `len` bytes starts at `pos`.
    Ciphered { len: usize },
}

impl State {
    /// Just past the `/` that starts a telegram.
    fn text_start() -> State {
        State::Text {
            scanned: 1,
            crc: crc::update_byte(0, b'/'),
        }
    }
}

/// The streaming DSMR framer.
#[derive(Debug, Clone)]
pub struct Framer {
    buf: Vec<u8>,
    pos: usize,
    state: State,
    skipped: u64,
    /// Whether the framer checks CRCs itself (the default). [`super::DsmrDecoder`] checks
    /// them from the remembered layout instead, faster; then telegrams come out unchecked.
    check_crc: bool,
}

impl Default for Framer {
    fn default() -> Self {
        Framer::new()
    }
}

impl Framer {
    /// An empty framer.
    pub fn new() -> Self {
        Framer {
            buf: Vec::with_capacity(2048),
            pos: 0,
            state: State::Hunting,
            skipped: 0,
            check_crc: true,
        }
    }

    /// A framer whose [`Frame::Telegram`]s carry the CRC the meter sent *unchecked*: the
    /// caller must check it (and reject with [`crc_mismatch`] when it differs).
    pub(crate) fn leaving_crc_to_caller() -> Self {
        Framer {
            check_crc: false,
            ..Framer::new()
        }
    }

    /// Bytes discarded so far outside any frame (line ends between telegrams not counted).
    pub fn skipped_bytes(&self) -> u64 {
        self.skipped
    }

    /// Bytes held, waiting for the rest of a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos >= 4096 || self.pos * 2 >= self.buf.len() {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    fn skip(&mut self, to: usize) {
        let noise = &self.buf[self.pos..to];
        self.skipped += noise.iter().filter(|&&b| b != b'\r' && b != b'\n').count() as u64;
        self.pos = to;
    }

    /// The next complete frame or rejected frame, or `None` when more bytes are needed.
    pub fn next_frame(&mut self) -> Option<Result<Frame<'_>, Rejection>> {
        loop {
            match self.state {
                State::Hunting => {
                    let rest = &self.buf[self.pos..];
                    match find2(rest, b'/', glo::TAG_GENERAL_GLO_CIPHERING) {
                        None => {
                            let end = self.buf.len();
                            self.skip(end);
                            return None;
                        }
                        Some(i) => {
                            let at = self.pos + i;
                            self.skip(at);
                            if self.buf[at] == b'/' {
                                self.state = State::text_start();
                            } else {
                                match glo::frame_len(&self.buf[at..]) {
                                    Ok(None) => return None,
                                    Ok(Some(len)) if len <= MAX_FRAME => {
                                        self.state = State::Ciphered { len };
                                    }
                                    // Not a plausible frame: a stray 0xDB in noise.
                                    Ok(Some(_)) | Err(_) => self.skip(at + 1),
                                }
                            }
                        }
                    }
                }
                State::Ciphered { len } => {
                    if self.buf.len() - self.pos < len {
                        return None;
                    }
                    let start = self.pos;
                    self.pos += len;
                    self.state = State::Hunting;
                    return Some(Ok(Frame::Encrypted(&self.buf[start..start + len])));
                }
                State::Text { scanned, crc } => {
                    let start = self.pos;
                    let from = start + scanned;
                    // Looking for the end and computing the CRC in the same pass.
                    let (hit, crc) = if self.check_crc {
                        crc::scan(&self.buf[from..], crc)
                    } else {
                        (find2(&self.buf[from..], b'!', b'/'), 0)
                    };
                    let Some(i) = hit else {
                        let have = self.buf.len() - start;
                        if have > MAX_FRAME {
                            self.state = State::Hunting;
                            self.pos = start + 1;
                            return Some(Err(Rejection {
                                reason: RejectReason::Oversized,
                                detail: format!(
                                    "telegram longer than {MAX_FRAME} bytes without an end mark"
                                ),
                            }));
                        }
                        self.state = State::Text { scanned: have, crc };
                        return None;
                    };
                    let at = from + i;
                    if self.buf[at] == b'/' {
                        // A `/` starting a line, or one that looks like a header (`/XXX5`),
                        // begins a new telegram. Others (in a text value) are content.
                        let header = match self.buf.get(at + 1..at + 5) {
                            Some(h) => looks_like_header(h),
                            None if self.buf[at - 1] != b'\n' => {
                                self.state = State::Text {
                                    scanned: at - start,
                                    crc,
                                };
                                return None;
                            }
                            None => false,
                        };
                        if self.buf[at - 1] == b'\n' || header {
                            // A new telegram began before this one ended: bytes were lost.
                            self.state = State::text_start();
                            self.pos = at;
                            return Some(Err(Rejection {
                                reason: RejectReason::Framing,
                                detail:
                                    "telegram cut short: the next one began before its end mark"
                                        .into(),
                            }));
                        }
                        self.state = State::Text {
                            scanned: at + 1 - start,
                            crc: crc::update_byte(crc, b'/'),
                        };
                        continue;
                    }
                    if at + 1 - start > MAX_FRAME {
                        self.state = State::Hunting;
                        self.pos = start + 1;
                        return Some(Err(Rejection {
                            reason: RejectReason::Oversized,
                            detail: format!("telegram longer than {MAX_FRAME} bytes"),
                        }));
                    }
                    // The CRC: up to four hex digits after `!`, ended by anything else.
                    let trailer = &self.buf[at + 1..];
                    let digits = trailer
                        .iter()
                        .take(4)
                        .take_while(|b| b.is_ascii_hexdigit())
                        .count();
                    if digits < 4 && trailer.len() == digits {
                        // Wait for the byte that tells whether more digits follow.
                        self.state = State::Text {
                            scanned: at - start,
                            crc,
                        };
                        return None;
                    }
                    let mut end = at + 1 + digits;
                    let sent = parse_hex(&self.buf[at + 1..end]);
                    if self.buf.get(end) == Some(&b'\r') {
                        end += 1;
                    }
                    if self.buf.get(end) == Some(&b'\n') {
                        end += 1;
                    }
                    self.pos = end;
                    self.state = State::Hunting;
                    let text = &self.buf[start..=at];
                    if digits > 0 {
                        let actual = crc::update_byte(crc, b'!');
                        if self.check_crc && actual != sent {
                            return Some(Err(crc_mismatch(actual, sent)));
                        }
                        return Some(Ok(Frame::Telegram {
                            text,
                            crc: Some(sent),
                        }));
                    }
                    return Some(Ok(Frame::Telegram { text, crc: None }));
                }
            }
        }
    }
}

/// The rejection of a telegram whose CRC is `actual` while the meter sent `sent`.
pub(crate) fn crc_mismatch(actual: u16, sent: u16) -> Rejection {
    Rejection {
        reason: RejectReason::Checksum,
        detail: format!("CRC {actual:04X} computed, telegram says {sent:04X}"),
    }
}

/// `XXXZ` after a `/`: three letters (the manufacturer) and a baud-rate digit.
fn looks_like_header(h: &[u8]) -> bool {
    h[..3].iter().all(u8::is_ascii_alphabetic) && h[3].is_ascii_digit()
}

fn parse_hex(digits: &[u8]) -> u16 {
    digits.iter().fold(0u16, |acc, &d| {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            _ => d.wrapping_sub(b'A').wrapping_add(10) & 0x0F,
        };
        acc << 4 | u16::from(v)
    })
}

/// The first index of `a` or `b` in `hay`: 32 bytes per step while there is no match (a
/// comparison the compiler turns into vector instructions), then eight bytes per step.
#[inline]
pub(crate) fn find2(hay: &[u8], a: u8, b: u8) -> Option<usize> {
    let mut base = 0;
    let (blocks, _) = hay.as_chunks::<32>();
    for block in blocks {
        let hit = block
            .iter()
            .fold(false, |acc, &x| acc | (x == a) | (x == b));
        if hit {
            break;
        }
        base += 32;
    }
    find2_swar(&hay[base..], a, b).map(|i| base + i)
}

/// [`find2`] eight bytes per step.
#[inline]
pub(crate) fn find2_swar(hay: &[u8], a: u8, b: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let (ma, mb) = (LO * u64::from(a), LO * u64::from(b));
    let mut chunks = hay.chunks_exact(8);
    let mut base = 0;
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        let (xa, xb) = (w ^ ma, w ^ mb);
        let hit = ((xa.wrapping_sub(LO) & !xa) | (xb.wrapping_sub(LO) & !xb)) & HI;
        if hit != 0 {
            // The lowest flagged byte is always a true match (borrows only run upwards).
            return Some(base + (hit.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&x| x == a || x == b)
        .map(|i| base + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find2_matches_a_plain_search() {
        let hay: Vec<u8> = (0u32..300).map(|i| (i * 31 % 251) as u8).collect();
        for start in 0..40 {
            let h = &hay[start..];
            let want = h.iter().position(|&x| x == b'!' || x == 0xDB);
            assert_eq!(find2(h, b'!', 0xDB), want);
        }
        assert_eq!(find2(b"abc", b'!', b'/'), None);
        // Around the 32-byte blocks.
        for at in [0, 7, 8, 31, 32, 33, 63, 64, 100] {
            let mut h = vec![b'x'; 130];
            h[at] = b'/';
            h[at + 5] = b'!';
            assert_eq!(find2(&h, b'!', b'/'), Some(at), "{at}");
            assert_eq!(find2(&h[at + 1..], b'!', b'/'), Some(4), "{at}");
        }
        assert_eq!(find2(b"0123456789/!", b'!', b'/'), Some(10));
        // 0x80 and 0x01 around a match must not produce a false earlier hit.
        assert_eq!(
            find2(&[0x80, 0x01, 0x20, 0x21, 0, 0, 0, 0], b'!', b'/'),
            Some(3)
        );
    }

    #[test]
    fn hex_digits() {
        assert_eq!(parse_hex(b"6EEE"), 0x6EEE);
        assert_eq!(parse_hex(b"6eee"), 0x6EEE);
        assert_eq!(parse_hex(b"B9F"), 0xB9F);
        assert_eq!(parse_hex(b""), 0);
    }
}
