//! HDLC framing (ISO/IEC 13239 type 3) with HCS/FCS checks, as DLMS push meters use it.
//!
//! A frame on the wire (no byte stuffing: meters on the M-Bus HAN port rely on the length
//! field, so `0x7E` may appear inside a frame):
//!
//! ```text
//! 7E | A0+S+len (2) | dest addr (1-4) | src addr (1-4) | control | HCS (2) | info | FCS (2) | 7E
//! ```
//!
//! `len` (11 bits) counts every byte between the flags. HCS covers the format field up to the
//! control byte, FCS everything between the flags before it; both are CRC-16/X-25 sent least
//! significant byte first. The segmentation bit `S` (0x08 in the first format byte) says more
//! segments of the same information field follow; [`HdlcFramer`] joins them.
//!
//! The framer is sans-IO: [`HdlcFramer::push`] bytes in any split, [`HdlcFramer::next_frame`]
//! until it returns `None`. Memory stays bounded: bytes outside a frame are dropped at once,
//! a frame is at most 2,049 bytes, and a segmented information field at most
//! [`MAX_INFO_LEN`] bytes.

use crate::checksum::crc16_x25;
use crate::decoder::{RejectReason, Rejection};

/// The frame delimiter.
pub const FLAG: u8 = 0x7E;
/// Largest joined information field (all segments together) the framer keeps.
pub const MAX_INFO_LEN: usize = 16 * 1024;
/// Largest frame on the wire: 11-bit length plus the two flags.
const MAX_FRAME_LEN: usize = 0x7FF + 2;

/// One complete HDLC information field (segments joined), borrowed from the framer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HdlcFrame<'a> {
    /// Destination address, as sent (1 to 4 bytes, low bit set on the last).
    pub dest: &'a [u8],
    /// Source address, as sent.
    pub src: &'a [u8],
    /// Control byte of the last segment (0x13 = UI frame with poll/final bit, what push
    /// meters send).
    pub control: u8,
    /// The information field (for DLMS: LLC header `E6 E7 00` then the APDU).
    pub info: &'a [u8],
}

/// Streaming HDLC framer. See the module documentation.
#[derive(Debug, Default)]
pub struct HdlcFramer {
    buf: Vec<u8>,
    /// Offset of the first unconsumed byte in `buf`.
    start: usize,
    /// Information field of the segments received so far (and of the last complete frame).
    info: Vec<u8>,
    /// Whether `info` holds the first segments of a not yet finished information field.
    joining: bool,
    addr: [u8; 8],
    dest_len: usize,
    src_len: usize,
    control: u8,
    skipped: u64,
    /// Whether `buf[start]` is the closing flag of the last frame (not noise when dropped).
    after_frame: bool,
}

/// What one step of the framer produced.
enum Step {
    /// Need more bytes.
    More,
    /// A complete information field is in `self.info`.
    Frame,
    /// A segment was added; keep going.
    Segment,
    /// A bad frame.
    Reject(Rejection),
}

impl HdlcFramer {
    /// An empty framer.
    pub fn new() -> Self {
        HdlcFramer::default()
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && (self.start == self.buf.len() || self.start > 4096) {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
        self.discard_noise();
    }

    /// Bytes dropped so far outside any frame (noise, a wrong baud rate, idle flags).
    pub fn skipped_bytes(&self) -> u64 {
        self.skipped
    }

    /// Drops everything before the next flag, so garbage never accumulates.
    fn discard_noise(&mut self) {
        let rest = &self.buf[self.start..];
        let n = rest.iter().position(|&b| b == FLAG).unwrap_or(rest.len());
        self.skip(n);
    }

    fn skip(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        let closing = usize::from(std::mem::take(&mut self.after_frame));
        self.start += n;
        self.skipped += (n - closing) as u64;
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
    }

    /// The next complete information field, or a rejected frame, or `None` when more bytes
    /// are needed. The returned frame borrows the framer until the next call.
    pub fn next_frame(&mut self) -> Option<Result<HdlcFrame<'_>, Rejection>> {
        loop {
            match self.step() {
                Step::More => return None,
                Step::Segment => continue,
                Step::Reject(r) => return Some(Err(r)),
                Step::Frame => {
                    return Some(Ok(HdlcFrame {
                        dest: &self.addr[..self.dest_len],
                        src: &self.addr[self.dest_len..self.dest_len + self.src_len],
                        control: self.control,
                        info: &self.info,
                    }));
                }
            }
        }
    }

    fn step(&mut self) -> Step {
        loop {
            self.discard_noise();
            let rest = &self.buf[self.start..];
            if rest.len() < 3 {
                return Step::More;
            }
            // rest[0] is a flag. Repeated flags (idle line, or a closing flag shared as the
            // next opening flag) are not frames.
            if rest[1] == FLAG {
                self.skip_consumed(1);
                continue;
            }
            if rest[1] & 0xF0 != 0xA0 {
                // Not frame format type 3: a 0x7E inside noise.
                self.skip(1);
                continue;
            }
            let len = usize::from(rest[1] & 0x07) << 8 | usize::from(rest[2]);
            let total = len + 2;
            if len < 7 {
                self.skip(1);
                return Step::Reject(reject(
                    RejectReason::Framing,
                    format!("HDLC frame length {len} is too short for a header"),
                ));
            }
            if rest.len() < total {
                debug_assert!(total <= MAX_FRAME_LEN);
                return Step::More;
            }
            if rest[total - 1] != FLAG {
                self.skip(1);
                return Step::Reject(reject(
                    RejectReason::Framing,
                    format!("HDLC frame of {len} bytes does not end with a flag"),
                ));
            }
            let body = &rest[1..total - 1];
            let segmented = body[0] & 0x08 != 0;
            // Addresses: each ends with a byte whose low bit is set.
            let Some(dest_len) = address_len(&body[2..]) else {
                self.skip(1);
                return Step::Reject(reject(
                    RejectReason::Framing,
                    "bad HDLC destination address",
                ));
            };
            let Some(src_len) = address_len(&body[2 + dest_len..]) else {
                self.skip(1);
                return Step::Reject(reject(RejectReason::Framing, "bad HDLC source address"));
            };
            let ctrl_at = 2 + dest_len + src_len;
            let fcs_at = body.len() - 2;
            let fcs = u16::from_le_bytes([body[fcs_at], body[fcs_at + 1]]);
            let computed = crc16_x25(&body[..fcs_at]);
            if fcs != computed {
                // The length led to a closing flag, so drop the whole frame but keep that
                // flag: it may open the next frame.
                self.skip_consumed(total - 1);
                return Step::Reject(reject(
                    RejectReason::Checksum,
                    format!("HDLC FCS 0x{computed:04X} expected, frame says 0x{fcs:04X}"),
                ));
            }
            if ctrl_at >= fcs_at {
                self.skip_consumed(total - 1);
                return Step::Reject(reject(
                    RejectReason::Framing,
                    "HDLC header longer than the frame",
                ));
            }
            let control = body[ctrl_at];
            let info: &[u8] = if ctrl_at + 1 == fcs_at {
                &[]
            } else {
                let hcs_at = ctrl_at + 1;
                if hcs_at + 2 > fcs_at {
                    self.skip_consumed(total - 1);
                    return Step::Reject(reject(
                        RejectReason::Framing,
                        "HDLC header check sequence cut short",
                    ));
                }
                let hcs = u16::from_le_bytes([body[hcs_at], body[hcs_at + 1]]);
                let computed = crc16_x25(&body[..hcs_at]);
                if hcs != computed {
                    self.skip_consumed(total - 1);
                    return Step::Reject(reject(
                        RejectReason::Checksum,
                        format!("HDLC HCS 0x{computed:04X} expected, frame says 0x{hcs:04X}"),
                    ));
                }
                &body[hcs_at + 2..fcs_at]
            };
            if !self.joining {
                self.info.clear();
            }
            if self.info.len() + info.len() > MAX_INFO_LEN {
                self.info.clear();
                self.joining = false;
                self.skip_consumed(total - 1);
                return Step::Reject(reject(
                    RejectReason::Oversized,
                    format!("segmented HDLC message longer than {MAX_INFO_LEN} bytes"),
                ));
            }
            self.info.extend_from_slice(info);
            self.addr[..dest_len.min(4)].copy_from_slice(&body[2..2 + dest_len.min(4)]);
            self.addr[dest_len.min(4)..dest_len.min(4) + src_len.min(4)]
                .copy_from_slice(&body[2 + dest_len..2 + dest_len + src_len.min(4)]);
            self.dest_len = dest_len.min(4);
            self.src_len = src_len.min(4);
            self.control = control;
            self.skip_consumed(total - 1);
            self.after_frame = true;
            if segmented {
                self.joining = true;
                return Step::Segment;
            }
            self.joining = false;
            return Step::Frame;
        }
    }

    /// Consumes frame bytes (not counted as skipped noise).
    fn skip_consumed(&mut self, n: usize) {
        self.after_frame = false;
        self.start += n;
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
    }
}

/// Length of an HDLC address (1, 2 or 4 bytes; the last has its low bit set).
fn address_len(bytes: &[u8]) -> Option<usize> {
    let n = bytes.iter().take(4).position(|b| b & 1 == 1)? + 1;
    (n != 3).then_some(n)
}

fn reject(reason: RejectReason, detail: impl Into<String>) -> Rejection {
    Rejection {
        reason,
        detail: detail.into(),
    }
}

/// Wraps `info` in one HDLC frame type 3 (address `41 08 83`, control `13`, as Nordic meters
/// send), with correct HCS and FCS. For tests, benches and the simulated meter.
pub fn encode_frame(info: &[u8]) -> Vec<u8> {
    let header = [0x41u8, 0x08, 0x83, 0x13];
    let len = 2 + header.len() + 2 + info.len() + 2;
    let mut out = Vec::with_capacity(len + 2);
    out.push(FLAG);
    out.push(0xA0 | ((len >> 8) & 0x07) as u8);
    out.push((len & 0xFF) as u8);
    out.extend_from_slice(&header);
    let hcs = crc16_x25(&out[1..]);
    out.extend_from_slice(&hcs.to_le_bytes());
    out.extend_from_slice(info);
    let fcs = crc16_x25(&out[1..]);
    out.extend_from_slice(&fcs.to_le_bytes());
    out.push(FLAG);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(framer: &mut HdlcFramer) -> Vec<Result<Vec<u8>, RejectReason>> {
        let mut out = Vec::new();
        while let Some(f) = framer.next_frame() {
            out.push(f.map(|f| f.info.to_vec()).map_err(|r| r.reason));
        }
        out
    }

    #[test]
    fn round_trip_byte_by_byte() {
        let frame = encode_frame(b"\xE6\xE7\x00hello");
        let mut f = HdlcFramer::new();
        let mut got = Vec::new();
        for b in &frame {
            f.push(std::slice::from_ref(b));
            got.extend(frames(&mut f));
        }
        assert_eq!(got, vec![Ok(b"\xE6\xE7\x00hello".to_vec())]);
        assert_eq!(f.skipped_bytes(), 0);
    }

    #[test]
    fn fcs_error_is_a_checksum_rejection_and_the_next_frame_survives() {
        let mut bad = encode_frame(b"abc");
        let n = bad.len();
        bad[n - 4] ^= 0x01; // last info byte... the FCS covers it
        let good = encode_frame(b"xyz");
        let mut f = HdlcFramer::new();
        f.push(&bad);
        f.push(&good);
        assert_eq!(
            frames(&mut f),
            vec![Err(RejectReason::Checksum), Ok(b"xyz".to_vec())]
        );
    }

    #[test]
    fn missing_closing_flag_is_framing() {
        let mut bad = encode_frame(b"abc");
        let n = bad.len();
        bad[n - 1] = 0x00;
        let good = encode_frame(b"xyz");
        let mut f = HdlcFramer::new();
        f.push(&bad);
        f.push(&good);
        assert_eq!(
            frames(&mut f),
            vec![Err(RejectReason::Framing), Ok(b"xyz".to_vec())]
        );
    }

    #[test]
    fn garbage_does_not_grow_the_buffer() {
        let mut f = HdlcFramer::new();
        for i in 0..100_000u32 {
            f.push(&[(i % 126) as u8]);
            assert!(frames(&mut f).is_empty());
        }
        assert!(f.buf.len() < 3);
        assert_eq!(f.skipped_bytes(), 100_000);
    }

    #[test]
    fn segments_are_joined() {
        let mut first = encode_frame(b"one-");
        first[1] |= 0x08;
        // Recompute HCS and FCS after setting the segmentation bit.
        let n = first.len();
        let hcs = crc16_x25(&first[1..7]);
        first[7..9].copy_from_slice(&hcs.to_le_bytes());
        let fcs = crc16_x25(&first[1..n - 3]);
        first[n - 3..n - 1].copy_from_slice(&fcs.to_le_bytes());
        let second = encode_frame(b"two");
        let mut f = HdlcFramer::new();
        f.push(&first);
        f.push(&second);
        assert_eq!(frames(&mut f), vec![Ok(b"one-two".to_vec())]);
    }
}
