//! Wired M-Bus long frames (EN 13757-2) carrying DLMS APDUs in segments, as Austrian meters
//! (Kaifa MA309, Sagemcom on the customer interface) push them at 2400 8E1.
//!
//! ```text
//! 68 | L | L | 68 | C | A | CI | STSAP | DTSAP | APDU segment | CS | 16
//! ```
//!
//! `L` counts C through the last segment byte; `CS` is their sum modulo 256. The CI field
//! carries the DLMS transport layer's segmentation (EN 13757-1): bit 0x10 marks the last
//! segment, the low nibble counts segments. The segments of one APDU (usually a 0xDB
//! general-glo-ciphering APDU split over two frames) are joined before decoding.
//!
//! Sagemcom T210-D meters (Netz Niederösterreich and other Austrian DSOs) send a first frame
//! whose body is 257 bytes long, one more than the length byte holds, and write `L` as `01`:
//! a length below the 5-byte minimum is read as that plus 256. The checksum, the stop byte
//! and the segment numbering still have to match.

use crate::decoder::{RejectReason, Rejection};

/// Largest joined APDU kept.
pub const MAX_APDU_LEN: usize = 16 * 1024;

/// Streaming M-Bus long-frame framer that joins DLMS segments.
#[derive(Debug, Default)]
pub struct MbusFramer {
    buf: Vec<u8>,
    apdu: Vec<u8>,
    joining: bool,
    next_seq: u8,
    skipped: u64,
}

fn reject(reason: RejectReason, detail: impl Into<String>) -> Rejection {
    Rejection {
        reason,
        detail: detail.into(),
    }
}

impl MbusFramer {
    /// An empty framer.
    pub fn new() -> Self {
        MbusFramer::default()
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        self.hunt();
    }

    /// Bytes dropped outside any frame.
    pub fn skipped_bytes(&self) -> u64 {
        self.skipped
    }

    fn hunt(&mut self) {
        let n = self
            .buf
            .iter()
            .position(|&b| b == 0x68)
            .unwrap_or(self.buf.len());
        self.skip(n, true);
    }

    fn skip(&mut self, n: usize, noise: bool) {
        if noise {
            self.skipped += n as u64;
        }
        self.buf.drain(..n);
    }

    /// The next complete APDU (segments joined), a rejected frame, or `None` for more bytes.
    pub fn next_apdu(&mut self) -> Option<Result<&[u8], Rejection>> {
        loop {
            self.hunt();
            let b = &self.buf;
            if b.len() < 4 {
                return None;
            }
            if b[1] != b[2] || b[3] != 0x68 {
                self.skip(1, true);
                continue;
            }
            // Sagemcom T210-D meters send 257-byte bodies and write their length as `01`
            // (the length byte overflows): a length below the 5-byte minimum is read + 256.
            let l = usize::from(b[1]) + if b[1] < 5 { 256 } else { 0 };
            let total = l + 6;
            if b.len() < total {
                return None;
            }
            if b[total - 1] != 0x16 {
                self.skip(1, true);
                return Some(Err(reject(
                    RejectReason::Framing,
                    "M-Bus frame does not end with 0x16",
                )));
            }
            let body = &b[4..4 + l];
            let sum = body.iter().fold(0u8, |a, &x| a.wrapping_add(x));
            let cs = b[4 + l];
            if sum != cs {
                self.skip(total, false);
                self.joining = false;
                return Some(Err(reject(
                    RejectReason::Checksum,
                    format!("M-Bus checksum 0x{sum:02X} expected, frame says 0x{cs:02X}"),
                )));
            }
            // C, A, CI, STSAP, DTSAP, then the segment.
            let ci = body[2];
            let last = ci & 0x10 != 0;
            let seq = ci & 0x0F;
            let segment = body[5..].to_vec();
            self.skip(total, false);
            if !self.joining {
                self.apdu.clear();
                self.next_seq = seq;
            } else if seq != self.next_seq {
                self.apdu.clear();
                self.joining = false;
                return Some(Err(reject(
                    RejectReason::Framing,
                    "M-Bus segment out of order",
                )));
            }
            if self.apdu.len() + segment.len() > MAX_APDU_LEN {
                self.apdu.clear();
                self.joining = false;
                return Some(Err(reject(
                    RejectReason::Oversized,
                    "segmented M-Bus message too long",
                )));
            }
            self.apdu.extend_from_slice(&segment);
            self.next_seq = (seq + 1) & 0x0F;
            if last {
                self.joining = false;
                return Some(Ok(&self.apdu));
            }
            self.joining = true;
        }
    }
}

/// Splits `apdu` into M-Bus long frames of at most `max_segment` APDU bytes each (C = 0x53,
/// A = 0xFF, STSAP 0x01, DTSAP 0x67, as Austrian meters send). Segments of 251 to 255 bytes
/// overflow the length byte as Sagemcom T210-D meters write it (252 gives their `L = 01`).
/// For tests and benches.
pub fn encode_frames(apdu: &[u8], max_segment: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let chunks: Vec<&[u8]> = apdu.chunks(max_segment.clamp(1, 255)).collect();
    let n = chunks.len();
    for (i, chunk) in chunks.into_iter().enumerate() {
        let ci = (i as u8 & 0x0F) | if i + 1 == n { 0x10 } else { 0 };
        let mut body = vec![0x53, 0xFF, ci, 0x01, 0x67];
        body.extend_from_slice(chunk);
        let l = (body.len() % 256) as u8;
        out.extend_from_slice(&[0x68, l, l, 0x68]);
        let cs = body.iter().fold(0u8, |a, &x| a.wrapping_add(x));
        out.extend_from_slice(&body);
        out.push(cs);
        out.push(0x16);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_join_any_split() {
        let apdu: Vec<u8> = (0..=255u8).chain(0..100).collect();
        let wire = encode_frames(&apdu, 200);
        for chunk in [1, 7, wire.len()] {
            let mut f = MbusFramer::new();
            let mut got = Vec::new();
            for piece in wire.chunks(chunk) {
                f.push(piece);
                while let Some(r) = f.next_apdu() {
                    got.push(r.map(<[u8]>::to_vec).map_err(|e| e.reason));
                }
            }
            assert_eq!(got, vec![Ok(apdu.clone())]);
        }
    }

    #[test]
    fn bad_checksum_and_missing_end() {
        let mut wire = encode_frames(b"abcdef", 250);
        let n = wire.len();
        wire[n - 2] ^= 1;
        let mut f = MbusFramer::new();
        f.push(&wire);
        assert_eq!(
            f.next_apdu().map(|r| r.map(|_| ()).map_err(|e| e.reason)),
            Some(Err(RejectReason::Checksum))
        );
        let mut wire = encode_frames(b"abcdef", 250);
        let n = wire.len();
        wire[n - 1] = 0;
        f.push(&wire);
        f.push(&encode_frames(b"xyz", 250));
        let got: Vec<_> = std::iter::from_fn(|| {
            f.next_apdu()
                .map(|r| r.map(<[u8]>::to_vec).map_err(|e| e.reason))
        })
        .collect();
        assert_eq!(got, vec![Err(RejectReason::Framing), Ok(b"xyz".to_vec())]);
    }
}
