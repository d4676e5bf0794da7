//! Raw DLMS dumps: bare APDUs and hex text, as readers' logs and MQTT raw dumps hold them.
//!
//! Besides whole HDLC and M-Bus frames (see [`super::DlmsDecoder`]), readers log what they
//! received in other shapes, and [`DumpDecoder`] reads them all:
//!
//! - **bare APDUs**, back to back in a binary file: a data-notification (`0F …`), a
//!   general-glo-ciphering APDU (`DB 08 …`), either behind the LLC header (`E6 E7 00 …`), or
//!   general-block-transfer blocks (`E0 …`) that are joined;
//! - **hex text**: the same bytes, or whole HDLC (`7E A0 …`) and M-Bus (`68 L L 68 …`) frames,
//!   written as pairs of hex digits, with or without spaces, or `:` between bytes (as
//!   ESPHome's UART debug prints them), or as `xxd` (`00000010: 7ea0 2a01 …  ~.*.`) and
//!   `hexdump -C` (`00000010  7e a0 2a 01 …  |~.*.|`) print a file, their offset and text
//!   columns set aside. A frame may fill one line or run over several consecutive lines. Text before the hex on a line (a time stamp, a log tag, `<<<`) is
//!   ignored when it ends in a character that is no hex digit or is a word of its own; lines
//!   without hex are skipped (their bytes counted as skipped).
//!
//! The input's first line (or first byte) decides: hex text whose first frame is a bare APDU
//! is read as APDU records; hex text whose first frame is HDLC or M-Bus is converted to bytes
//! and framed as a binary capture; binary input starting with `0F`, `DB`, `E6` or `E0` is read
//! as bare APDUs back to back; anything else is a binary HDLC or M-Bus capture.
//!
//! A bare APDU has no frame checksum, so it is held to a stricter rule than a framed one
//! ("never a wrong number"): it is read only when it parses completely and exactly (the
//! notification body is one A-XDR value that ends where the record ends: at the end of its
//! hex line(s), or, in a binary file, where the next APDU starts or the input ends), and a
//! ciphered one only when its authentication tag checks out (the authentication key given,
//! the meter authenticating its frames). Anything else is rejected with its reason.

use super::axdr;
use super::block_transfer::{self, Joiner};
use super::{DlmsDecoder, decode_notification, default_time_zone};
use crate::decoder::{Decoded, Decoder, RejectReason, Rejection, Stats};
use crate::glo::{self, GloError, Key};
use jiff::tz::TimeZone;
use std::collections::VecDeque;

/// Largest bare APDU kept (as for joined M-Bus segments and block transfers).
pub const MAX_APDU_LEN: usize = 16 * 1024;
/// Longest hex text line kept; a longer one is dropped as noise.
pub const MAX_LINE_LEN: usize = 64 * 1024;
/// Bytes looked at before deciding that printable input without a line end is no hex text.
const DECIDE_LIMIT: usize = 512;

fn reject(reason: RejectReason, detail: impl Into<String>) -> Rejection {
    Rejection {
        reason,
        detail: detail.into(),
    }
}

/// Whether `b` starts a bare APDU: data-notification, general-glo-ciphering (with its 8-byte
/// system title), the LLC header, or a general-block-transfer block.
pub fn bare_start(b: &[u8]) -> bool {
    matches!(
        b,
        [0x0F, ..] | [0xDB, 0x08, ..] | [0xE6, 0xE7 | 0xE6, 0x00, ..] | [block_transfer::TAG, ..]
    )
}

/// Whether `b` starts an HDLC type-3 frame or an M-Bus long frame.
fn frame_start(b: &[u8]) -> bool {
    match b {
        [0x7E, f, ..] => f & 0xF0 == 0xA0,
        [0x68, l1, l2, 0x68, ..] => l1 == l2,
        _ => false,
    }
}

/// Whether `b`, the first bytes of an input, is bare APDUs back to back (for
/// auto-detection): its first APDU (`0F`, `E0`, or any behind `E6 E7 00`) reads exactly and
/// the next one starts right after it. A leading `DB` is left to the caller (a Luxembourg
/// Smarty DSMR telegram is sealed the same way). `None`: more bytes are needed.
pub fn sniff_bare(b: &[u8]) -> Option<bool> {
    sniff_bare_in(b, false)
}

/// [`sniff_bare`] for a whole input: a single APDU with nothing after it counts.
pub fn sniff_bare_at_end(b: &[u8]) -> bool {
    sniff_bare_in(b, true) == Some(true)
}

fn sniff_bare_in(b: &[u8], at_end: bool) -> Option<bool> {
    if !at_end && matches!(b, [] | [0xE6] | [0xE6, 0xE7 | 0xE6]) {
        return None;
    }
    if !bare_start(b) || b[0] == glo::TAG_GENERAL_GLO_CIPHERING {
        return Some(false);
    }
    match apdu_len(b) {
        Ok(Some(n)) => followed(&b[n..], at_end),
        Ok(None) if b.len() <= MAX_APDU_LEN && !at_end => None,
        _ => Some(false),
    }
}

/// How long the bare APDU at the start of `b` is: `Ok(None)` when `b` ends before it does.
/// A data-notification is `0F`, the invoke id (4), the date-time (`00`, `0C` + 12 bytes or
/// `09 0C` + 12 bytes) and one A-XDR value; the LLC header adds 3.
pub fn apdu_len(b: &[u8]) -> Result<Option<usize>, String> {
    Ok(declared_len(b)?.filter(|&n| n <= b.len()))
}

fn declared_len(b: &[u8]) -> Result<Option<usize>, String> {
    match b {
        [0xE6, 0xE7 | 0xE6, 0x00, rest @ ..] => Ok(declared_len(rest)?.map(|n| n + 3)),
        [0xE6] | [0xE6, 0xE7 | 0xE6] => Ok(None),
        [0x0F, ..] => notification_len(b),
        [0xDB, ..] => glo::frame_len(b).map_err(|e| e.to_string()),
        [block_transfer::TAG, ..] => {
            let Some(len_at) = b.get(6..) else {
                return Ok(None);
            };
            match axdr::parse_len(len_at) {
                Ok((len, rest)) => Ok(Some(b.len() - rest.len() + len)),
                Err(_) if len_at.len() < 4 => Ok(None),
                Err(e) => Err(format!("block transfer: {}", e.0)),
            }
        }
        [] => Ok(None),
        [tag, ..] => Err(format!("0x{tag:02X} starts no DLMS APDU")),
    }
}

/// Whether the bytes after a binary bare APDU show that it ended where its parse says: the
/// next APDU starts there (or, `at_end`, the input ends). `None`: too few bytes to tell.
fn followed(after: &[u8], at_end: bool) -> Option<bool> {
    match after {
        [] => at_end.then_some(true),
        [0xE6] | [0xE6, 0xE7 | 0xE6] | [0xDB] if !at_end => None,
        _ => Some(bare_start(after)),
    }
}

fn notification_len(b: &[u8]) -> Result<Option<usize>, String> {
    let Some(&dt) = b.get(5) else {
        return Ok(None);
    };
    let body_at = match dt {
        0x00 => 6,
        0x0C => 18,
        0x09 => match b.get(6) {
            Some(0x0C) => 19,
            Some(_) => return Err("data-notification without a readable date-time field".into()),
            None => return Ok(None),
        },
        _ => return Err("data-notification without a readable date-time field".into()),
    };
    let Some(body) = b.get(body_at..) else {
        return Ok(None);
    };
    match axdr::parse_value(body) {
        Ok((_, rest)) => Ok(Some(b.len() - rest.len())),
        Err(_) if cut_short(body) => Ok(None),
        Err(e) => Err(format!("data-notification body unreadable: {}", e.0)),
    }
}

/// Whether more bytes could complete a value that failed to parse: it parses once padded
/// (with `null-data` bytes) up to the largest APDU.
fn cut_short(body: &[u8]) -> bool {
    if body.len() >= MAX_APDU_LEN {
        return false;
    }
    let mut padded = body.to_vec();
    padded.resize(MAX_APDU_LEN, 0);
    axdr::parse_value(&padded).is_ok()
}

/// The bytes a line of hex text holds, one vector per word (words are separated by white
/// space; `:` between bytes is allowed). Text before the hex is ignored when it ends in a
/// character that is no hex digit; a first word of odd length (an offset column) is
/// skipped. `None` when the line holds no hex bytes or is not printable text.
pub fn hex_line(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let line = dump_columns(line.strip_suffix(b"\r").unwrap_or(line));
    if line
        .iter()
        .any(|&b| !(b == b'\t' || (0x20..0x7F).contains(&b)))
    {
        return None;
    }
    let is_hexish = |b: &u8| b.is_ascii_hexdigit() || matches!(b, b' ' | b'\t' | b':');
    let start = line
        .iter()
        .rposition(|b| !is_hexish(b))
        .map_or(0, |i| i + 1);
    let mut words = Vec::new();
    for word in line[start..].split(|b| *b == b' ' || *b == b'\t') {
        let mut bytes = Vec::new();
        for piece in word.split(|b| *b == b':').filter(|p| !p.is_empty()) {
            if piece.len() % 2 == 1 {
                if words.is_empty() && bytes.is_empty() {
                    continue; // an offset column (`0000010`)
                }
                return None;
            }
            bytes.extend(
                piece
                    .chunks(2)
                    .map(|p| hex_digit(p[0]) << 4 | hex_digit(p[1])),
            );
        }
        if !bytes.is_empty() {
            words.push(bytes);
        }
    }
    (!words.is_empty()).then_some(words)
}

/// The hex bytes of a line as `xxd` (`00000010: 7ea0 2a01 …  ~.*.`) or `hexdump -C`
/// (`00000010  7e a0 2a 01 …  7f 00  |~.*.|`) prints it: without its offset column and its
/// text column (which may hold anything, hex digits too). Any other line as it is.
fn dump_columns(line: &[u8]) -> &[u8] {
    let offset = line.len() > 10 && line[..8].iter().all(u8::is_ascii_hexdigit);
    let until = |rest: &'static [u8], from: usize| {
        let hex = &line[from..];
        let end = hex.windows(rest.len()).position(|w| w == rest);
        end.map(|e| &hex[..e])
    };
    if offset && &line[8..10] == b": " {
        // xxd: the text column starts after two spaces.
        return until(b"  ", 10).unwrap_or(&line[10..]);
    }
    if offset && &line[8..10] == b"  " {
        // hexdump -C: two spaces also part the two halves; the text column opens with `|`.
        if let Some(hex) = until(b"  |", 10) {
            return hex;
        }
    }
    line
}

fn hex_digit(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c.wrapping_sub(b'A').wrapping_add(10) & 0x0F,
    }
}

/// Where in a hex line's `words` a frame or APDU starts, and whether it is a bare APDU.
/// Leading words of more than one byte (a time stamp in digits, `12:00:01`) may be dropped;
/// a word of one byte is part of a spaced dump and never is.
pub(crate) fn line_start(words: &[Vec<u8>]) -> Option<(usize, bool)> {
    for i in 0..words.len() {
        let head: Vec<u8> = words[i..].iter().flatten().take(4).copied().collect();
        if bare_start(&head) {
            return Some((i, true));
        }
        if frame_start(&head) {
            return Some((i, false));
        }
        if words[i].len() == 1 {
            return None;
        }
    }
    None
}

/// What a line at the start of `b` is, for deciding how to read an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    /// No line end yet, and what is there may still become a hex frame.
    Incomplete,
    /// Bytes that are no text: a binary capture.
    Binary,
    /// A line of text holding no frame (a log header, a comment), this long with its end.
    Text(usize),
    /// A line of hex text holding a frame or a bare APDU.
    HexFrame,
}

/// Classifies the line at the start of `b` (see [`LineKind`]).
pub fn classify_line(b: &[u8]) -> LineKind {
    let window = &b[..b.len().min(MAX_LINE_LEN)];
    let printable = |c: &u8| *c == b'\t' || *c == b'\r' || (0x20..0x7F).contains(c);
    match window.iter().position(|&c| c == b'\n') {
        Some(eol) => {
            if !window[..eol].iter().all(printable) {
                return LineKind::Binary;
            }
            let frame = hex_line(&window[..eol])
                .and_then(|w| line_start(&w).map(|(i, _)| w[i..].iter().map(Vec::len).sum()))
                .is_some_and(|n: usize| n >= 6);
            if frame {
                LineKind::HexFrame
            } else {
                LineKind::Text(eol + 1)
            }
        }
        None if !window.iter().all(printable) => LineKind::Binary,
        None if window.len() == MAX_LINE_LEN => LineKind::Text(window.len()),
        None => {
            // Hex may be starting: the text after the last character no hex digit holds
            // some digits already.
            let hexish = |c: &u8| c.is_ascii_hexdigit() || matches!(c, b' ' | b'\t' | b':' | b'\r');
            let tail = window.iter().rev().take_while(|c| hexish(c));
            if tail.filter(|c| c.is_ascii_hexdigit()).count() >= 2 {
                LineKind::Incomplete
            } else {
                LineKind::Text(0)
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Nothing but white space seen yet.
    Undecided,
    /// Binary HDLC or M-Bus frames: everything goes to the frame decoder.
    Frames,
    /// Binary bare APDUs back to back.
    BareBinary,
    /// Hex text whose first frame is not known yet.
    Hex,
    /// Hex text of bare APDU records.
    HexBare,
    /// Hex text of HDLC or M-Bus frames, converted to bytes for the frame decoder.
    HexFrames,
}

/// Streaming decoder for DLMS captures in any of the shapes in the module documentation.
#[derive(Debug)]
pub struct DumpDecoder {
    frames: DlmsDecoder,
    mode: Mode,
    key: Option<Key>,
    auth_key: Option<Key>,
    tz: TimeZone,
    /// Binary: bytes not yet read. Hex: the current line so far.
    buf: Vec<u8>,
    /// Hex: the bare APDU gathered over lines.
    record: Vec<u8>,
    /// Hex: bytes on each line of `record` when all its lines so far hold the same number
    /// of a dump's wrap width (8, 16, 32 or 64): only then may it go on on the next line.
    wrap: Option<usize>,
    blocks: Joiner,
    out: VecDeque<Result<Decoded, Rejection>>,
    /// Counts of what this layer decided itself.
    own: Stats,
    /// `own` and the frame decoder's counts together.
    stats: Stats,
    /// Binary bare APDUs: the last APDU read well, so the next failure is told (then quiet
    /// until the stream is back in step).
    in_step: bool,
}

impl Default for DumpDecoder {
    fn default() -> Self {
        DumpDecoder::new()
    }
}

impl DumpDecoder {
    /// A decoder for unencrypted meters.
    pub fn new() -> Self {
        DumpDecoder {
            frames: DlmsDecoder::new(),
            mode: Mode::Undecided,
            key: None,
            auth_key: None,
            tz: default_time_zone(),
            buf: Vec::new(),
            record: Vec::new(),
            wrap: None,
            blocks: Joiner::new(),
            out: VecDeque::new(),
            own: Stats::default(),
            stats: Stats::default(),
            in_step: true,
        }
    }

    /// Opens general-glo-ciphering APDUs with `key`; a bare one (no frame checksum) is read
    /// only when `auth_key` is given and its tag checks out.
    pub fn with_key(mut self, key: Key, auth_key: Option<Key>) -> Self {
        self.frames = self.frames.with_key(key, auth_key);
        self.key = Some(key);
        self.auth_key = auth_key;
        self
    }

    /// Resolves meter clocks sent without a UTC deviation in `tz`.
    pub fn with_time_zone(mut self, tz: TimeZone) -> Self {
        self.frames = self.frames.with_time_zone(tz.clone());
        self.tz = tz;
        self
    }

    fn decide(&mut self) {
        let Some(first) = self.buf.iter().position(|b| !b.is_ascii_whitespace()) else {
            if self.buf.len() > DECIDE_LIMIT {
                self.read_as_frames();
            }
            return;
        };
        let rest = &self.buf[first..];
        if bare_start(rest) || matches!(rest, [0xE6] | [0xE6, 0xE7 | 0xE6] | [0xDB]) {
            // Bare APDUs only if the first one reads exactly; else a capture that started
            // mid-frame.
            let verdict = match apdu_len(rest) {
                Ok(Some(n)) => followed(&rest[n..], false),
                Ok(None) if rest.len() <= MAX_APDU_LEN => None,
                _ => Some(false),
            };
            match verdict {
                None => {}
                Some(true) => {
                    self.own.skipped_bytes += first as u64;
                    self.buf.drain(..first);
                    self.mode = Mode::BareBinary;
                    self.read_binary(false);
                }
                Some(false) => self.read_as_frames(),
            }
            return;
        }
        // Text lines (a log's header) before the first hex frame are skipped.
        let mut at = first;
        loop {
            match classify_line(&self.buf[at..]) {
                LineKind::HexFrame => {
                    self.mode = Mode::Hex;
                    let bytes = std::mem::take(&mut self.buf);
                    self.own.skipped_bytes += at as u64;
                    self.read_hex(&bytes[at..]);
                    return;
                }
                LineKind::Text(n) if n > 0 && at + n < DECIDE_LIMIT * 8 => at += n,
                LineKind::Incomplete | LineKind::Text(0) if self.buf.len() < DECIDE_LIMIT * 8 => {
                    return;
                }
                _ => return self.read_as_frames(),
            }
        }
    }

    fn read_as_frames(&mut self) {
        self.mode = Mode::Frames;
        let bytes = std::mem::take(&mut self.buf);
        self.frames.push(&bytes);
        self.drain_frames();
    }

    /// Moves the frame decoder's results to the queue (modes other than [`Mode::Frames`]).
    fn drain_frames(&mut self) {
        if self.mode == Mode::Frames {
            return;
        }
        while let Some(r) = self.frames.next() {
            self.out.push_back(r);
        }
    }

    fn told(&mut self, r: Result<Decoded, Rejection>) {
        match &r {
            Ok(_) => self.own.accepted += 1,
            Err(e) => self.own.count_rejection(e.reason),
        }
        self.out.push_back(r);
    }

    /// Binary bare APDUs: reads every APDU that is complete and followed by the next one's
    /// start (or, `at_end`, by the end of the input).
    fn read_binary(&mut self, at_end: bool) {
        while !self.buf.is_empty() {
            if !bare_start(&self.buf) {
                if !at_end && matches!(self.buf[..], [0xE6] | [0xE6, 0xE7 | 0xE6] | [0xDB]) {
                    return;
                }
                let skip = 1 + self.buf[1..]
                    .iter()
                    .position(|&b| matches!(b, 0x0F | 0xDB | 0xE6 | 0xE0))
                    .unwrap_or(self.buf.len() - 1);
                self.own.skipped_bytes += skip as u64;
                self.buf.drain(..skip);
                continue;
            }
            match apdu_len(&self.buf) {
                Ok(None) if self.buf.len() > MAX_APDU_LEN => self.lost_step(reject(
                    RejectReason::Oversized,
                    format!("an APDU longer than {MAX_APDU_LEN} bytes"),
                )),
                Ok(None) if at_end => self.lost_step(reject(
                    RejectReason::Framing,
                    "the input ends inside an APDU",
                )),
                Ok(None) => return,
                Ok(Some(n)) => match followed(&self.buf[n..], at_end) {
                    None => return,
                    Some(true) => {
                        let apdu: Vec<u8> = self.buf.drain(..n).collect();
                        self.in_step = true;
                        self.read_apdu(&apdu, true);
                    }
                    Some(false) => self.lost_step(reject(
                        RejectReason::Framing,
                        "an APDU not followed by the next one: its length or contents are \
                         damaged, or there are bytes between APDUs",
                    )),
                },
                Err(e) => self.lost_step(reject(RejectReason::Framing, e)),
            }
        }
    }

    /// A binary APDU that could not be read: told when the stream was in step, then the
    /// search for the next APDU starts one byte on.
    fn lost_step(&mut self, r: Rejection) {
        if self.in_step {
            self.told(Err(r));
            self.in_step = false;
        } else {
            self.own.skipped_bytes += 1;
        }
        self.buf.drain(..1);
    }

    /// Reads one bare APDU whose length is exact.
    fn read_apdu(&mut self, apdu: &[u8], blocks_allowed: bool) {
        let apdu = match apdu {
            [0xE6, 0xE7 | 0xE6, 0x00, rest @ ..] => rest,
            _ => apdu,
        };
        match apdu.first() {
            Some(&0x0F) => {
                let r = decode_notification(apdu, &self.tz);
                self.told(r);
            }
            Some(&glo::TAG_GENERAL_GLO_CIPHERING) => {
                let r = self.open(apdu);
                self.told(r);
            }
            Some(&block_transfer::TAG) if blocks_allowed => {
                let block = match block_transfer::parse_block(apdu) {
                    Ok(b) => b,
                    Err(e) => {
                        self.told(Err(reject(
                            RejectReason::Framing,
                            format!("block transfer: {}", e.0),
                        )));
                        return;
                    }
                };
                let joined = self.blocks.push(&block);
                if let Some(lost) = joined.lost {
                    self.told(Err(lost));
                }
                if let Some(whole) = joined.apdu {
                    match apdu_len(&whole) {
                        Ok(Some(n)) if n == whole.len() => self.read_apdu(&whole, false),
                        _ => self.told(Err(reject(
                            RejectReason::Payload,
                            "the joined block transfer is no complete APDU",
                        ))),
                    }
                }
            }
            Some(&block_transfer::TAG) => self.told(Err(reject(
                RejectReason::Payload,
                "a block transfer inside a block transfer",
            ))),
            _ => self.told(Err(reject(RejectReason::Payload, "no DLMS APDU"))),
        }
    }

    /// Checks and opens a bare general-glo-ciphering APDU: only an authenticated one is read.
    fn open(&self, apdu: &[u8]) -> Result<Decoded, Rejection> {
        let frame = glo::parse(apdu)
            .map_err(|e| reject(RejectReason::Framing, format!("encrypted APDU: {e}")))?;
        let Some(key) = self.key.as_ref() else {
            return Err(reject(
                RejectReason::MissingKey,
                "the meter encrypts its data; enter the encryption key from your grid operator",
            ));
        };
        if frame.security_control & glo::SC_AUTHENTICATED == 0 {
            return Err(reject(
                RejectReason::Authentication,
                "an encrypted APDU without its M-Bus or HDLC frame has no checksum, and this \
                 meter does not authenticate its data: log whole frames to read it",
            ));
        }
        let Some(ak) = self.auth_key.as_ref() else {
            return Err(reject(
                RejectReason::MissingKey,
                "an encrypted APDU without its M-Bus or HDLC frame has no checksum: enter the \
                 authentication key too, so that its tag can be checked",
            ));
        };
        let plain = frame.decrypt(key, Some(ak)).map_err(|e| match e {
            GloError::Authentication => reject(
                RejectReason::Authentication,
                "the APDU failed authentication: the encryption or authentication key is \
                 wrong, or the bytes were damaged",
            ),
            other => reject(RejectReason::Payload, other.to_string()),
        })?;
        match notification_len(&plain) {
            Ok(Some(n)) if plain.first() == Some(&0x0F) && n == plain.len() => {
                decode_notification(&plain, &self.tz)
            }
            _ => Err(reject(
                RejectReason::Payload,
                "the decrypted APDU is no complete data-notification",
            )),
        }
    }

    /// Hex text: reads every complete line of `bytes` (and keeps a partial last line).
    fn read_hex(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while let Some(eol) = rest.iter().position(|&b| b == b'\n') {
            if self.buf.is_empty() {
                self.hex_line_end(&rest[..eol]);
            } else {
                let mut line = std::mem::take(&mut self.buf);
                line.extend_from_slice(&rest[..eol]);
                self.hex_line_end(&line);
            }
            rest = &rest[eol + 1..];
        }
        self.buf.extend_from_slice(rest);
        if self.buf.len() > MAX_LINE_LEN {
            self.own.skipped_bytes += self.buf.len() as u64;
            self.buf.clear();
        }
        self.drain_frames();
    }

    fn hex_line_end(&mut self, line: &[u8]) {
        let skipped = line.len() as u64 + 1;
        let Some(words) = hex_line(line) else {
            // Not hex: ends a bare APDU gathered over lines.
            self.cut_record();
            self.own.skipped_bytes += skipped;
            return;
        };
        if !self.record.is_empty() {
            let n: usize = words.iter().map(Vec::len).sum();
            if self.wrap.is_none() {
                // The APDU's line ended before it did, and the line is no wrapped dump's.
                self.cut_record();
            } else {
                if self.wrap != Some(n) {
                    self.wrap = None;
                }
                self.record.extend(words.iter().flatten());
                self.try_record();
                return;
            }
        }
        let start = line_start(&words);
        if self.mode == Mode::Hex {
            match start {
                Some((_, true)) => self.mode = Mode::HexBare,
                Some((_, false)) => self.mode = Mode::HexFrames,
                None => {
                    self.own.skipped_bytes += skipped;
                    return;
                }
            }
        }
        match (self.mode, start) {
            (Mode::HexBare, Some((i, true))) => {
                self.record.extend(words[i..].iter().flatten());
                self.wrap = Some(self.record.len()).filter(|n| matches!(n, 8 | 16 | 32 | 64));
                self.try_record();
            }
            (Mode::HexBare, Some((i, false))) => {
                let bytes: Vec<u8> = words[i..].iter().flatten().copied().collect();
                self.frames.push(&bytes);
            }
            (Mode::HexBare, None) => self.own.skipped_bytes += skipped,
            _ => {
                let bytes: Vec<u8> = words.iter().flatten().copied().collect();
                self.frames.push(&bytes);
            }
        }
    }

    /// A bare APDU gathered over lines: read when complete at this line's end.
    fn try_record(&mut self) {
        match apdu_len(&self.record) {
            Ok(Some(n)) if n == self.record.len() => {
                let apdu = std::mem::take(&mut self.record);
                self.read_apdu(&apdu, true);
            }
            Ok(Some(n)) => {
                let extra = self.record.len().saturating_sub(n);
                self.record.clear();
                self.told(Err(reject(
                    RejectReason::Framing,
                    format!(
                        "{extra} byte(s) after the end of the APDU on its line: its length or \
                         contents are damaged"
                    ),
                )));
            }
            Ok(None) if self.record.len() > MAX_APDU_LEN => {
                self.record.clear();
                self.told(Err(reject(
                    RejectReason::Oversized,
                    format!("an APDU longer than {MAX_APDU_LEN} bytes"),
                )));
            }
            Ok(None) if self.wrap.is_none() => self.cut_record(),
            Ok(None) => {}
            Err(e) => {
                self.record.clear();
                self.told(Err(reject(RejectReason::Framing, e)));
            }
        }
    }

    /// A bare APDU that was still incomplete when its lines ended.
    fn cut_record(&mut self) {
        if !self.record.is_empty() {
            self.record.clear();
            self.told(Err(reject(
                RejectReason::Framing,
                "the APDU ends before its contents do (cut short)",
            )));
        }
    }

    fn refresh(&mut self) {
        let inner = self.frames.stats();
        self.stats = self.own.clone();
        self.stats.accepted += inner.accepted;
        for (a, b) in self.stats.rejected_by.iter_mut().zip(inner.rejected_by) {
            *a += b;
        }
        self.stats.skipped_bytes += inner.skipped_bytes;
        self.stats.implausible += inner.implausible;
    }
}

impl Decoder for DumpDecoder {
    fn push(&mut self, bytes: &[u8]) {
        match self.mode {
            Mode::Frames => return self.frames.push(bytes),
            Mode::Undecided => {
                self.buf.extend_from_slice(bytes);
                self.decide();
            }
            Mode::BareBinary => {
                self.buf.extend_from_slice(bytes);
                self.read_binary(false);
            }
            Mode::Hex | Mode::HexBare | Mode::HexFrames => self.read_hex(bytes),
        }
        self.refresh();
    }

    fn next(&mut self) -> Option<Result<Decoded, Rejection>> {
        if self.mode == Mode::Frames {
            return self.frames.next();
        }
        let r = self.out.pop_front();
        self.refresh();
        r
    }

    fn stats(&self) -> &Stats {
        match self.mode {
            Mode::Frames => self.frames.stats(),
            _ => &self.stats,
        }
    }

    fn finish(&mut self) -> Option<Result<Decoded, Rejection>> {
        match self.mode {
            Mode::Undecided if !self.buf.is_empty() => {
                if bare_start(&self.buf) {
                    self.mode = Mode::BareBinary;
                    self.read_binary(true);
                } else {
                    self.read_as_frames();
                }
            }
            Mode::BareBinary => self.read_binary(true),
            Mode::Hex | Mode::HexBare | Mode::HexFrames => {
                if !self.buf.is_empty() {
                    let line = std::mem::take(&mut self.buf);
                    self.hex_line_end(&line);
                }
                self.cut_record();
                self.drain_frames();
            }
            _ => {}
        }
        let r = self.out.pop_front();
        self.refresh();
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dump_tools_columns_are_set_aside() {
        // xxd: the text column holds hex digits (`6970`) and is never read as bytes.
        let xxd = b"00000020: 0d09 074b 464d 5f30 3031 0910 3639 3730  ...KFM_001..6970";
        assert_eq!(
            hex_line(xxd).expect("hex").concat(),
            [
                0x0d, 0x09, 0x07, 0x4b, 0x46, 0x4d, 0x5f, 0x30, 0x30, 0x31, 0x09, 0x10, 0x36, 0x39,
                0x37, 0x30
            ]
        );
        // xxd's short last line, its hex padded out with spaces.
        assert_eq!(
            hex_line(b"00000070: 9e51 7e                                  .Q~")
                .expect("hex")
                .concat(),
            [0x9e, 0x51, 0x7e]
        );
        // hexdump -C: two halves, then the text between bars (a `|` inside it too).
        let hd = b"00000100  ff 12 09 04 02 02 0f ff  16 23 9e 51 7e           |...|.....#.Q~|";
        assert_eq!(
            hex_line(hd).expect("hex").concat(),
            [
                0xff, 0x12, 0x09, 0x04, 0x02, 0x02, 0x0f, 0xff, 0x16, 0x23, 0x9e, 0x51, 0x7e
            ]
        );
        // Other lines are read as before: a spaced dump, an offset of odd length skipped.
        assert_eq!(
            hex_line(b"0000010 7e a0").expect("hex").concat(),
            [0x7e, 0xa0]
        );
    }
}
