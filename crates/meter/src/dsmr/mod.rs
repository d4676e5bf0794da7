//! DSMR P1 telegrams (NL 2.2-5.0.2, Belgian eMUCS, Luxembourg Smarty, Nordic variants).
//!
//! A P1 port sends a text telegram every second (DSMR 5) or ten (DSMR 4): a header line
//! `/XXX5Ident`, an empty line, one OBIS-coded line per value (`1-0:1.8.1(000004.426*kWh)`), and
//! `!` followed by a CRC-16/ARC of everything from `/` to `!` (DSMR 2.2 and 3 send no CRC).
//! A telegram without a CRC is accepted only when it may come from a DSMR 2.2 or 3 meter: one
//! that declares version 4 or later (`1-3:0.2.8(42)`, `1-3:0.2.8(50)`, eMUCS
//! `0-0:96.1.4(50217)`) lost its CRC in transit (cut short, or a bit flip turned a `)` into
//! `!`), and is rejected as [`RejectReason::Checksum`]; one whose `!` is not at the start of
//! a line was cut short, whatever its version, and is rejected as [`RejectReason::Framing`].
//! Luxembourg Smarty meters wrap the same telegram in an AES-128-GCM frame ([`crate::glo`]).
//!
//! # Public API (stable names; other crates rely on them)
//!
//! - [`DsmrDecoder`]: the streaming [`Decoder`]: [`DsmrDecoder::new`], [`DsmrDecoder::with_key`]
//!   (Smarty, the default Smarty authentication key), [`DsmrDecoder::with_keys`] (explicit AK,
//!   or none to skip the tag check).
//! - [`parse_telegram`]: one complete telegram (bytes from `/` to `!CRC`) → [`Decoded`], CRC
//!   checked; [`parse_text`]: the lines alone, no CRC check.
//! - [`Framer`] / [`Frame`]: the framing layer alone; [`MAX_FRAME`].
//!
//! # Speed
//!
//! [`DsmrDecoder`] remembers the layout of the last telegram (`layout.rs`): a telegram whose
//! bytes equal it except for value digits is read from the known digit positions, and its
//! CRC is derived from the last one's by the digits that changed. The result is identical to
//! [`parse_telegram`] in every case (tested against it on changing streams); anything else is
//! read in full and becomes the new layout. One thing only a stream can know: a telegram
//! without a CRC whose header line equals that of a CRC-checked telegram before it comes from
//! a meter that sends CRCs, so the decoder rejects it (as [`RejectReason::Checksum`]) even
//! when it declares no version.
//!
//! ```
//! use hearth_meter::{Decoder, Quantity, dsmr::DsmrDecoder};
//! let mut d = DsmrDecoder::new();
//! d.push(b"/ISk5\\2MT382-1000\r\n\r\n1-0:1.7.0(00.244*kW)\r\n!");
//! d.push(b"\r\n");
//! let reading = d.next().unwrap().unwrap().reading;
//! assert_eq!(reading.get(Quantity::ImportW), Some(244));
//! ```

mod channels;
mod crc;
pub mod explain;
mod extras;
mod framer;
mod layout;
mod meter_id;
mod obis;
mod telegram;
mod time;
mod value;

pub use framer::{Frame, Framer, MAX_FRAME};
pub use telegram::parse_text;

use crate::decoder::{Decoded, Decoder, RejectReason, Rejection, Stats};
use crate::glo::{self, GloError, Key};
use layout::Layout;

/// CRC-16/ARC as DSMR computes it (same result as [`crate::checksum::crc16_arc`], faster on
/// whole telegrams).
pub fn crc16(bytes: &[u8]) -> u16 {
    crc::crc16_arc(bytes)
}

/// Which keys open encrypted (Smarty) frames.
#[derive(Clone, Copy, Debug)]
struct Keys {
    key: Key,
    auth_key: Option<Key>,
}

/// The streaming DSMR decoder: push bytes as they arrive, take readings out.
#[derive(Debug, Clone)]
pub struct DsmrDecoder {
    framer: Framer,
    keys: Option<Keys>,
    stats: Stats,
    skipped_seen: u64,
    /// The previous telegram's layout, to read the next one faster (same result).
    layout: Layout,
}

impl Default for DsmrDecoder {
    fn default() -> Self {
        DsmrDecoder {
            // The CRC is checked here, from the remembered layout where it applies.
            framer: Framer::leaving_crc_to_caller(),
            keys: None,
            stats: Stats::default(),
            skipped_seen: 0,
            layout: Layout::default(),
        }
    }
}

impl DsmrDecoder {
    /// A decoder for plain telegrams. Encrypted frames are rejected as
    /// [`RejectReason::MissingKey`].
    pub fn new() -> Self {
        DsmrDecoder::default()
    }

    /// A decoder that also opens Luxembourg Smarty frames with the user's 16-byte key,
    /// checking their tag with the Smarty authentication key ([`glo::SMARTY_AUTH_KEY`]).
    pub fn with_key(key: [u8; 16]) -> Self {
        DsmrDecoder::with_keys(Key::new(key), Some(glo::SMARTY_AUTH_KEY))
    }

    /// A decoder with an explicit authentication key; `None` decrypts without checking the
    /// tag, relying on the telegram's own CRC (for utilities that hand out only the key).
    pub fn with_keys(key: Key, auth_key: Option<Key>) -> Self {
        DsmrDecoder {
            keys: Some(Keys { key, auth_key }),
            ..DsmrDecoder::default()
        }
    }

    /// Bytes held while waiting for the rest of a frame (at most [`MAX_FRAME`] plus the last
    /// push).
    pub fn buffered(&self) -> usize {
        self.framer.buffered()
    }

    fn sync_skipped(&mut self) {
        let now = self.framer.skipped_bytes();
        self.stats.skipped_bytes += now - self.skipped_seen;
        self.skipped_seen = now;
    }
}

impl Decoder for DsmrDecoder {
    fn push(&mut self, bytes: &[u8]) {
        self.framer.push(bytes);
    }

    fn next(&mut self) -> Option<Result<Decoded, Rejection>> {
        let keys = self.keys;
        let out = match self.framer.next_frame() {
            None => None,
            Some(Err(r)) => Some(Err(r)),
            Some(Ok(Frame::Telegram { text, crc })) => {
                // Built once, straight into the value returned: a reading is a few hundred
                // bytes, not worth moving around.
                let out = self.layout.decode(text, crc);
                match &out {
                    Some(Err(r)) => self.stats.count_rejection(r.reason),
                    _ => self.stats.accepted += 1,
                }
                self.sync_skipped();
                return out;
            }
            Some(Ok(Frame::Encrypted(apdu))) => Some(open(apdu, keys.as_ref())),
        };
        self.sync_skipped();
        match &out {
            None => {}
            Some(Ok(_)) => self.stats.accepted += 1,
            Some(Err(r)) => self.stats.count_rejection(r.reason),
        }
        out
    }

    fn stats(&self) -> &Stats {
        &self.stats
    }
}

/// Decrypts a Smarty frame and decodes the telegram inside.
fn open(apdu: &[u8], keys: Option<&Keys>) -> Result<Decoded, Rejection> {
    let Some(keys) = keys else {
        return Err(Rejection {
            reason: RejectReason::MissingKey,
            detail: "the meter sends encrypted telegrams: enter the key from your utility".into(),
        });
    };
    let plain = glo::decrypt(apdu, &keys.key, keys.auth_key.as_ref()).map_err(|e| Rejection {
        reason: match e {
            GloError::Authentication => RejectReason::Authentication,
            _ => RejectReason::Framing,
        },
        detail: e.to_string(),
    })?;
    parse_telegram(&plain).map_err(|r| match (keys.auth_key, r.reason) {
        // Without tag check, a wrong key shows up as garbage: say so.
        (None, RejectReason::Framing | RejectReason::Checksum) => Rejection {
            reason: RejectReason::Authentication,
            detail: format!(
                "decrypted frame is not a valid telegram (wrong key?): {}",
                r.detail
            ),
        },
        _ => r,
    })
}

/// Decodes one complete telegram: `/` … `!CRC` (leading noise and a trailing line end are
/// allowed). The CRC is checked when present. For the simulator and for tests.
pub fn parse_telegram(bytes: &[u8]) -> Result<Decoded, Rejection> {
    let mut framer = Framer::new();
    framer.push(bytes);
    match framer.next_frame() {
        Some(Ok(Frame::Telegram { text, crc })) => without_crc_checked(parse_text(text), text, crc),
        Some(Ok(Frame::Encrypted(_))) => Err(Rejection {
            reason: RejectReason::MissingKey,
            detail: "an encrypted frame: use DsmrDecoder::with_key".into(),
        }),
        Some(Err(r)) => Err(r),
        None => {
            // No line end after a CRC-less `!`: the framer waits for one; add it.
            let mut framer = Framer::new();
            framer.push(bytes);
            framer.push(b"\r\n");
            match framer.next_frame() {
                Some(Ok(Frame::Telegram { text, crc })) => {
                    without_crc_checked(parse_text(text), text, crc)
                }
                Some(Err(r)) => Err(r),
                _ => Err(Rejection {
                    reason: RejectReason::Framing,
                    detail: "no complete telegram ('/' … '!')".into(),
                }),
            }
        }
    }
}

/// `decoded` (read from `text`, `/` … `!`) unless it lacks a CRC (`crc` is the one the meter
/// sent) and shows it lost it. Only DSMR 2.2 and 3 send none, and neither declares a version:
/// a telegram declaring version 4 or later without a CRC is damaged. And a meter ends every
/// telegram with `!` at the start of a line: a `!` inside a line (a bit flip turns `)` into
/// `!`) cut the telegram short, which nothing else would catch without a CRC.
pub(crate) fn without_crc_checked(
    decoded: Decoded,
    text: &[u8],
    crc: Option<u16>,
) -> Result<Decoded, Rejection> {
    if crc.is_some() {
        return Ok(decoded);
    }
    if let Some(r) = end_mark_inside_line(text) {
        return Err(r);
    }
    match decoded.reading.dsmr_version.as_deref() {
        Some(v) if matches!(v.as_bytes().first(), Some(b'4'..=b'9')) => Err(Rejection {
            reason: RejectReason::Checksum,
            detail: format!(
                "the telegram declares DSMR version {} but has no CRC (only DSMR 2.2 and 3 \
                 send none): damaged in transit",
                crate::quote::cut(v)
            ),
        }),
        _ => Ok(decoded),
    }
}

/// The rejection of a CRC-less telegram `text` (`/` … `!`) whose `!` does not start a line.
pub(crate) fn end_mark_inside_line(text: &[u8]) -> Option<Rejection> {
    (text.len() >= 2 && text[text.len() - 2] != b'\n').then(|| Rejection {
        reason: RejectReason::Framing,
        detail: "the end mark '!' is inside a line and no CRC follows: the telegram was \
                 damaged or cut short"
            .into(),
    })
}
