//! Protocol auto-detection: recognise which protocol a byte stream speaks and decode it.
//!
//! [`sniff`] looks at the first bytes of a stream for each protocol's signature:
//!
//! | bytes | protocol |
//! |---|---|
//! | `/XXXZ…` header, blank line, `A-B:C.D.E(` lines, `!` (+ CRC) | DSMR P1 |
//! | `DB 08` + system title (general-glo-ciphering, no HDLC) | Luxembourg Smarty (DSMR) |
//! | `7E A…` with a matching closing flag | DLMS/COSEM over HDLC |
//! | `68 L L 68 … CS 16` with a matching checksum | DLMS/COSEM over wired M-Bus |
//! | at the start: `0F …`, `E6 E7 00 …`, `E0 …` read exactly; `DB …` opening to `0F` | bare DLMS APDUs |
//! | a line of hex text holding one of the DLMS frames or APDUs above | DLMS hex dump |
//! | `1B 1B 1B 1B 01 01 01 01` | SML 1.04 |
//! | `/XXXZ…` header then STX, short OBIS forms (`1.8.0(`), `*F` forms (`1-0:1.8.0*255(`) or an EasyMeter (`/ESY`) | IEC 62056-21 |
//! | `<Element>` | Rainforest RAVEn / EMU-2 XML |
//!
//! [`AutoDecoder`] buffers at most [`SNIFF_LIMIT`] bytes until one signature is certain, then
//! hands everything to that protocol's decoder and stays with it. [`decoder`] builds the
//! decoder for a protocol chosen by the user. Both check every reading for plausibility
//! ([`crate::plausible`]), so no protocol's reading escapes the check.

use crate::decoder::{Decoded, Decoder, Rejection, Stats};
use crate::dlms;
use crate::dlms::dump::{self, DumpDecoder, LineKind};
use crate::dsmr::DsmrDecoder;
use crate::glo::{self, Key};
use crate::glow::GlowDecoder;
use crate::iec62056_21::Iec62056Decoder;
use crate::plausible::Checked;
use crate::raven::RavenDecoder;
use crate::reading::Protocol;
use crate::sml::SmlDecoder;

/// Bytes kept while no protocol is recognised; older bytes are dropped (and counted as
/// skipped), so a silent or garbled line never grows memory.
pub const SNIFF_LIMIT: usize = 4096;
/// How long a candidate line of hex text at the start of a line may grow before it is given up
/// (a 1 KiB frame printed with separators is about 3 KiB).
const HEX_LINE_LIMIT: usize = 2 * SNIFF_LIMIT;

/// What [`sniff`] recognised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Detected {
    /// DSMR P1 text telegrams.
    Dsmr,
    /// DSMR telegrams sealed with AES-128-GCM (Luxembourg Smarty).
    Smarty,
    /// DLMS/COSEM push over HDLC.
    Dlms,
    /// SML 1.04.
    Sml,
    /// IEC 62056-21 data readout.
    Iec62056_21,
    /// RAVEn / EMU-2 XML.
    Raven,
}

impl Detected {
    /// The protocol readings from this stream carry.
    pub const fn protocol(self) -> Protocol {
        match self {
            Detected::Dsmr | Detected::Smarty => Protocol::Dsmr,
            Detected::Dlms => Protocol::Dlms,
            Detected::Sml => Protocol::Sml,
            Detected::Iec62056_21 => Protocol::Iec62056_21,
            Detected::Raven => Protocol::Raven,
        }
    }
}

/// The outcome of looking at a stream's first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sniff {
    /// A protocol signature starts at byte `at`.
    Found {
        /// The protocol.
        detected: Detected,
        /// Where its first frame starts.
        at: usize,
    },
    /// A signature may be starting at byte `at`; more bytes are needed to tell.
    NeedMore {
        /// Where the undecided candidate starts.
        at: usize,
    },
    /// Nothing recognisable in these bytes.
    Unknown,
}

/// Looks for the earliest protocol signature in `bytes`.
pub fn sniff(bytes: &[u8]) -> Sniff {
    sniff_from(bytes, true)
}

/// [`sniff`] of a buffer whose first byte starts a line (`line_start`) or is the middle of
/// one (the earlier bytes were dropped): a line of hex text is only recognised from its start.
fn sniff_from(bytes: &[u8], line_start: bool) -> Sniff {
    let mut need_more = false;
    for at in 0..bytes.len() {
        let rest = &bytes[at..];
        let verdict = match rest[0] {
            b'/' => sniff_text(rest, &mut need_more),
            glo::TAG_GENERAL_GLO_CIPHERING => match glo::frame_len(rest) {
                Ok(Some(len)) if len <= crate::dsmr::MAX_FRAME => {
                    // Title and length are plausible; the security byte must be too.
                    let sc_at = if rest.get(10) == Some(&0x82) {
                        13
                    } else if rest.get(10) == Some(&0x81) {
                        12
                    } else {
                        11
                    };
                    match rest.get(sc_at) {
                        Some(sc) if sc & 0x30 != 0 && sc & 0x80 == 0 => Some(Detected::Smarty),
                        Some(_) => None,
                        None => return_need(&mut need_more),
                    }
                }
                Ok(None) => return_need(&mut need_more),
                _ => None,
            },
            0x7E => sniff_hdlc(rest, &mut need_more),
            0x68 => sniff_mbus(rest, &mut need_more),
            0x1B => {
                const START: [u8; 8] = [0x1B, 0x1B, 0x1B, 0x1B, 1, 1, 1, 1];
                if rest.len() >= 8 {
                    (rest[..8] == START).then_some(Detected::Sml)
                } else if START.starts_with(rest) {
                    return_need(&mut need_more)
                } else {
                    None
                }
            }
            b'<' => sniff_xml(rest, &mut need_more),
            _ => None,
        };
        // A line of hex text (a reader's log) holding a DLMS frame or APDU.
        let verdict = match verdict {
            None if (if at == 0 {
                line_start
            } else {
                bytes[at - 1] == b'\n'
            }) && (0x20..0x7F).contains(&rest[0]) =>
            {
                match dump::classify_line(rest) {
                    LineKind::HexFrame => Some(Detected::Dlms),
                    LineKind::Incomplete => return_need(&mut need_more),
                    _ => None,
                }
            }
            v => v,
        };
        if let Some(detected) = verdict {
            return Sniff::Found { detected, at };
        }
        // An undecided candidate earlier in the buffer must be settled before a later one.
        if need_more {
            return Sniff::NeedMore { at };
        }
    }
    Sniff::Unknown
}

fn return_need(flag: &mut bool) -> Option<Detected> {
    *flag = true;
    None
}

/// `/XXXZ…` header: DSMR or IEC 62056-21, told apart by what follows the header line.
fn sniff_text(rest: &[u8], need_more: &mut bool) -> Option<Detected> {
    // Header: `/` and three maker characters (letters; a few heat meters use other text).
    let Some(head) = rest.get(1..4) else {
        return return_need(need_more);
    };
    if !head.iter().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    // EasyMeter (`/ESY5Q3D…`) sends IEC 62056-21 mode D (total power as `16.7.0`), never
    // DSMR, though its lines look like DSMR's.
    if head == b"ESY" {
        return Some(Detected::Iec62056_21);
    }
    let Some(eol) = rest.iter().take(128).position(|&b| b == b'\n') else {
        return if rest.len() < 128 {
            return_need(need_more)
        } else {
            None
        };
    };
    let body = &rest[eol + 1..];
    // Skip blank lines.
    let Some(first) = body.iter().position(|&b| b != b'\r' && b != b'\n') else {
        return return_need(need_more);
    };
    let body = &body[first..];
    if body[0] == 0x02 {
        return Some(Detected::Iec62056_21);
    }
    // A DSMR line: `A-B:C.D.E(`; IEC short forms (`1.8.0(`, `C.1.0(`, `F.F(`) otherwise.
    let Some(open) = body.iter().take(64).position(|&b| b == b'(') else {
        return if body.len() < 64 {
            return_need(need_more)
        } else {
            None
        };
    };
    let code = &body[..open];
    // `1-0:1.8.0*255(`: the `*F` group DSMR never writes, German mode-D meters always do.
    if code.contains(&b'-') && code.contains(&b':') && !code.contains(&b'*') {
        Some(Detected::Dsmr)
    } else {
        Some(Detected::Iec62056_21)
    }
}

/// `7E Ax LL … 7E`: an HDLC type-3 frame whose length lands on a closing flag.
fn sniff_hdlc(rest: &[u8], need_more: &mut bool) -> Option<Detected> {
    let (Some(&f0), Some(&f1)) = (rest.get(1), rest.get(2)) else {
        return return_need(need_more);
    };
    if f0 & 0xF0 != 0xA0 {
        return None;
    }
    let len = usize::from(f0 & 0x07) << 8 | usize::from(f1);
    if len < 7 {
        return None;
    }
    match rest.get(len + 1) {
        Some(0x7E) => Some(Detected::Dlms),
        Some(_) => None,
        None => return_need(need_more),
    }
}

/// `68 L L 68 … CS 16`: a wired M-Bus long frame whose checksum matches. Sagemcom T210-D
/// meters write the length of a 257-byte body as `01` (it overflows the length byte): a
/// length below the 5-byte minimum is read as that plus 256.
fn sniff_mbus(rest: &[u8], need_more: &mut bool) -> Option<Detected> {
    let Some(head) = rest.get(..4) else {
        return match rest {
            [_] | [_, _] => return_need(need_more),
            [_, a, b] if a == b => return_need(need_more),
            _ => None,
        };
    };
    if head[1] != head[2] || head[3] != 0x68 {
        return None;
    }
    let len = usize::from(head[1]) + if head[1] < 5 { 256 } else { 0 };
    let Some(frame) = rest.get(..len + 6) else {
        return return_need(need_more);
    };
    let sum = frame[4..4 + len]
        .iter()
        .fold(0u8, |a, &x| a.wrapping_add(x));
    (frame[len + 5] == 0x16 && frame[len + 4] == sum).then_some(Detected::Dlms)
}

/// `<Name>` with a letter-only element name, as RAVEn fragments start.
fn sniff_xml(rest: &[u8], need_more: &mut bool) -> Option<Detected> {
    let window = &rest[1..rest.len().min(48)];
    for (i, &b) in window.iter().enumerate() {
        match b {
            b'>' if i > 0 => return Some(Detected::Raven),
            b if b.is_ascii_alphanumeric() => {}
            _ => return None,
        }
    }
    if rest.len() < 48 {
        return_need(need_more)
    } else {
        None
    }
}

/// How the authentication tag of encrypted frames is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthKey {
    /// The protocol's usual choice: the Smarty key for DSMR, no tag check for DLMS.
    Default,
    /// Do not check the tag (only the encryption key is known).
    Skip,
    /// Check the tag with this key.
    Key(Key),
}

/// The keys of a meter that encrypts its frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keys {
    /// The encryption key (GUEK).
    pub key: Key,
    /// The authentication key (GAK).
    pub auth_key: AuthKey,
}

/// A decoder for `protocol`, with keys for those that may encrypt (DSMR/Smarty, DLMS).
/// `None` for protocols that have no streaming decoder here. Every reading it yields is
/// checked for plausibility ([`Checked`]): implausible fields are dropped, told as
/// diagnostics and counted in [`Stats::implausible`].
pub fn decoder(protocol: Protocol, keys: Option<&Keys>) -> Option<Box<dyn Decoder + Send>> {
    Some(match protocol {
        Protocol::Dsmr => Box::new(Checked::new(match keys {
            None => DsmrDecoder::new(),
            Some(k) => match k.auth_key {
                AuthKey::Default => DsmrDecoder::with_keys(k.key, Some(glo::SMARTY_AUTH_KEY)),
                AuthKey::Skip => DsmrDecoder::with_keys(k.key, None),
                AuthKey::Key(ak) => DsmrDecoder::with_keys(k.key, Some(ak)),
            },
        })),
        Protocol::Dlms => Box::new(Checked::new(match keys {
            None => DumpDecoder::new(),
            Some(k) => DumpDecoder::new().with_key(
                k.key,
                match k.auth_key {
                    AuthKey::Key(ak) => Some(ak),
                    AuthKey::Default | AuthKey::Skip => None,
                },
            ),
        })),
        Protocol::Sml => Box::new(Checked::new(SmlDecoder::new())),
        Protocol::Iec62056_21 => Box::new(Checked::new(Iec62056Decoder::new())),
        Protocol::Raven => Box::new(Checked::new(RavenDecoder::new())),
        Protocol::Glow => Box::new(Checked::new(GlowDecoder::new())),
        _ => return None,
    })
}

/// A decoder that recognises the protocol from the stream, then decodes with it.
pub struct AutoDecoder {
    buf: Vec<u8>,
    keys: Option<Keys>,
    inner: Option<(Detected, Box<dyn Decoder + Send>)>,
    /// Bytes dropped before a protocol was recognised.
    skipped_before: u64,
    /// Whether `buf` starts a line (nothing dropped yet, or dropped up to a newline).
    line_start: bool,
    stats: Stats,
}

impl std::fmt::Debug for AutoDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AutoDecoder")
            .field("detected", &self.detected())
            .field("buffered", &self.buf.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Default for AutoDecoder {
    fn default() -> Self {
        AutoDecoder::new()
    }
}

impl AutoDecoder {
    /// An auto-detecting decoder for unencrypted meters.
    pub fn new() -> Self {
        AutoDecoder {
            buf: Vec::new(),
            keys: None,
            inner: None,
            skipped_before: 0,
            line_start: true,
            stats: Stats::default(),
        }
    }

    /// An auto-detecting decoder that opens encrypted frames (Smarty, DLMS) with `keys`.
    pub fn with_keys(keys: Keys) -> Self {
        AutoDecoder {
            keys: Some(keys),
            ..AutoDecoder::new()
        }
    }

    /// The protocol recognised so far, if any.
    pub fn detected(&self) -> Option<Detected> {
        self.inner.as_ref().map(|(d, _)| *d)
    }

    fn settle(&mut self) {
        loop {
            let found = if self.skipped_before == 0 {
                // Bare APDUs back to back: only from the stream's very first byte.
                match dump::sniff_bare(&self.buf) {
                    Some(true) => Sniff::Found {
                        detected: Detected::Dlms,
                        at: 0,
                    },
                    None if self.buf.len() <= SNIFF_LIMIT => return,
                    _ => sniff_from(&self.buf, self.line_start),
                }
            } else {
                sniff_from(&self.buf, self.line_start)
            };
            let found = match found {
                Sniff::Found {
                    detected: Detected::Smarty,
                    at,
                } => match self.sealed(&self.buf[at..]) {
                    Some(detected) => Sniff::Found { detected, at },
                    None => Sniff::NeedMore { at },
                },
                other => other,
            };
            match found {
                Sniff::Found { detected, at } => {
                    if let Some(mut dec) = decoder(detected.protocol(), self.keys.as_ref()) {
                        self.skipped_before += at as u64;
                        dec.push(&self.buf[at..]);
                        self.buf = Vec::new();
                        self.inner = Some((detected, dec));
                    }
                    return;
                }
                Sniff::NeedMore { at } => {
                    // A line of hex text from a reader's log waits for its newline longer: an
                    // M-Bus or HDLC frame printed as `68:01:…` is three characters a byte.
                    let limit = if at == 0 && self.line_start {
                        HEX_LINE_LIMIT
                    } else {
                        SNIFF_LIMIT
                    };
                    if self.buf.len() <= limit {
                        // Noise before the candidate's line can go now (its line stays: it
                        // may be a line of hex text, recognised only from its start; and a
                        // split input is then counted as a whole one).
                        let cut = self.buf[..at]
                            .iter()
                            .rposition(|&b| b == b'\n')
                            .map_or(0, |i| i + 1);
                        self.drop_front(cut);
                        return;
                    }
                    // The candidate never settled: drop it and look further.
                    self.drop_front(at + 1);
                }
                Sniff::Unknown => {
                    // Keep a short tail: a signature may straddle the next push; and the
                    // unfinished last line from its start (it may turn out to be hex text,
                    // which is recognised from the start of its line only).
                    let tail = self.buf.len().saturating_sub(16);
                    let last_line = match self.buf.iter().rposition(|&b| b == b'\n') {
                        Some(i) => i + 1,
                        None if self.line_start => 0,
                        None => tail,
                    };
                    let printable = |b: &u8| matches!(b, b'\t' | b'\r' | 0x20..=0x7E);
                    let drop = if self.buf.len() - last_line <= HEX_LINE_LIMIT
                        && self.buf[last_line..].iter().all(printable)
                    {
                        tail.min(last_line)
                    } else {
                        tail
                    };
                    self.drop_front(drop);
                    return;
                }
            }
        }
    }

    /// Drops the first `n` buffered bytes as skipped, noting whether the rest starts a line.
    fn drop_front(&mut self, n: usize) {
        if n > 0 {
            self.line_start = self.buf[n - 1] == b'\n';
            self.skipped_before += n as u64;
            self.buf.drain(..n);
        }
    }

    /// What a general-glo-ciphering APDU holds: a DSMR telegram (Smarty) or a DLMS APDU. Told
    /// by its first decrypted byte when the key is known; Smarty otherwise (both need the
    /// key). `None`: the APDU is not complete yet.
    fn sealed(&self, rest: &[u8]) -> Option<Detected> {
        let Some(keys) = &self.keys else {
            return Some(Detected::Smarty);
        };
        match glo::frame_len(rest) {
            Ok(Some(n)) if n <= rest.len() => {
                match glo::decrypt(&rest[..n], &keys.key, None).as_deref() {
                    Ok([0x0F | dlms::block_transfer::TAG, ..]) => Some(Detected::Dlms),
                    _ => Some(Detected::Smarty),
                }
            }
            Ok(Some(n)) if n > rest.len() && self.buf.len() < SNIFF_LIMIT => None,
            Ok(None) if self.buf.len() < SNIFF_LIMIT => None,
            _ => Some(Detected::Smarty),
        }
    }

    fn refresh_stats(&mut self) {
        match &self.inner {
            Some((_, dec)) => {
                self.stats = dec.stats().clone();
                self.stats.skipped_bytes += self.skipped_before;
            }
            None => self.stats.skipped_bytes = self.skipped_before,
        }
    }
}

impl Decoder for AutoDecoder {
    fn push(&mut self, bytes: &[u8]) {
        match &mut self.inner {
            Some((_, dec)) => dec.push(bytes),
            None => {
                self.buf.extend_from_slice(bytes);
                self.settle();
            }
        }
        self.refresh_stats();
    }

    fn next(&mut self) -> Option<Result<Decoded, Rejection>> {
        let out = self.inner.as_mut()?.1.next();
        self.refresh_stats();
        // The `None` most calls give is returned anew rather than passed through, which
        // copies it at the size of a whole reading (see `plausible::Checked`).
        let out = out?;
        Some(out)
    }

    fn stats(&self) -> &Stats {
        &self.stats
    }

    fn finish(&mut self) -> Option<Result<Decoded, Rejection>> {
        if self.inner.is_none() && !self.buf.is_empty() && self.skipped_before == 0 {
            // A single bare APDU (nothing after it to show where it ends) is a whole input.
            if dump::sniff_bare_at_end(&self.buf)
                && let Some(mut dec) = decoder(Protocol::Dlms, self.keys.as_ref())
            {
                dec.push(&std::mem::take(&mut self.buf));
                self.inner = Some((Detected::Dlms, dec));
            }
        }
        let (_, dec) = self.inner.as_mut()?;
        let out = match dec.next() {
            Some(r) => Some(r),
            None => dec.finish(),
        };
        self.refresh_stats();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures() {
        let found = |b: &[u8]| match sniff(b) {
            Sniff::Found { detected, at } => Some((detected, at)),
            _ => None,
        };
        assert_eq!(
            found(b"\r\n/KFM5KAIFA\r\n\r\n1-3:0.2.8(42)\r\n"),
            Some((Detected::Dsmr, 2))
        );
        assert_eq!(
            found(b"/ISK5ME162-0033\r\n\x021.8.0(001234.567*kWh)\r\n"),
            Some((Detected::Iec62056_21, 0))
        );
        assert_eq!(
            found(b"/ISK5ME162\r\n\r\n1.8.0(001234.567*kWh)\r\n"),
            Some((Detected::Iec62056_21, 0))
        );
        assert_eq!(
            found(&[0, 0x1B, 0x1B, 0x1B, 0x1B, 1, 1, 1, 1, 0x76]),
            Some((Detected::Sml, 1))
        );
        assert_eq!(
            found(b"xx<InstantaneousDemand>"),
            Some((Detected::Raven, 2))
        );
        assert_eq!(sniff(b"/KFM5KAI"), Sniff::NeedMore { at: 0 });
        assert_eq!(sniff(b"..\x1B\x1B"), Sniff::NeedMore { at: 2 });
        assert_eq!(sniff(b"hello world"), Sniff::Unknown);
        assert_eq!(sniff(b"a < b"), Sniff::Unknown);
        // HDLC: 7E A0 08 + 7 bytes + 7E at index len + 1 = 9.
        let hdlc = [0x7E, 0xA0, 0x08, 1, 2, 3, 4, 5, 6, 0x7E];
        assert_eq!(found(&hdlc), Some((Detected::Dlms, 0)));
        assert_eq!(sniff(&hdlc[..5]), Sniff::NeedMore { at: 0 });
        // M-Bus: 68 L L 68, C A CI, checksum, 16; and the T210-D's overflowed length.
        let mbus = crate::dlms::mbus::encode_frames(b"\x0F\x00\x00\x00\x01\x00", 250);
        assert_eq!(
            found(&[b"..".as_slice(), &mbus].concat()),
            Some((Detected::Dlms, 2))
        );
        assert_eq!(sniff(&mbus[..6]), Sniff::NeedMore { at: 0 });
        let long = crate::dlms::mbus::encode_frames(&[0x55; 252], 252);
        assert_eq!(&long[..4], [0x68, 0x01, 0x01, 0x68]);
        assert_eq!(found(&long), Some((Detected::Dlms, 0)));
        let mut bad = mbus.clone();
        bad[6] ^= 1;
        assert_eq!(sniff(&bad), Sniff::Unknown);
        // A line of hex text holding a frame, after a log line; EasyMeter and `*F` forms.
        assert_eq!(
            found(b"log started\n[12:00:01] <<< 7E A0 08 01 02 03 04 05 06 7E\n"),
            Some((Detected::Dlms, 12))
        );
        assert_eq!(sniff(b"0F 40 00 00"), Sniff::NeedMore { at: 0 });
        assert_eq!(
            found(b"/ESY5Q3DA1024 V3.04\r\n\r\n1-0:0.0.0*255(1)\r\n"),
            Some((Detected::Iec62056_21, 0))
        );
        assert_eq!(
            found(b"/EBZ5DD3\r\n\r\n1-0:1.8.0*255(1*kWh)\r\n"),
            Some((Detected::Iec62056_21, 0))
        );
    }
}
