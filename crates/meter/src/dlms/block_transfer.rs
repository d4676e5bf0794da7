//! DLMS general-block-transfer (GBT, APDU tag `0xE0`): an APDU too long for one frame, pushed
//! in numbered blocks that are joined before decoding.
//!
//! Each block (Green Book, "general-block-transfer"):
//!
//! ```text
//! E0 | block-control (1) | block-number (2) | block-number-ack (2) | length (A-XDR) | data
//! ```
//!
//! `block-control` bit 7 marks the last block, bit 6 streaming, bits 0-5 the window size;
//! blocks are numbered from 1. The data of blocks 1..n, joined, is the APDU the meter meant
//! to send (a data-notification `0F…`, or general-glo-ciphering `DB…` around one). A push
//! meter streams the blocks without waiting for acknowledgements, so [`Joiner`] only checks
//! that they arrive in order; a gap (a lost frame) rejects the message, and a block seen
//! before any block 1 (the decoder started mid-message) is rejected too.

use super::axdr::{AxdrError, parse_len};
use crate::decoder::{RejectReason, Rejection};

/// The APDU tag.
pub const TAG: u8 = 0xE0;
/// Largest joined APDU kept (as for segmented HDLC and M-Bus frames).
pub const MAX_JOINED_LEN: usize = 16 * 1024;

/// One block, borrowed from its frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block<'a> {
    /// The last block of the APDU.
    pub last: bool,
    /// The sender streams blocks without waiting for acknowledgements.
    pub streaming: bool,
    /// Window size (blocks sent before an acknowledgement is awaited).
    pub window: u8,
    /// Block number, from 1.
    pub number: u16,
    /// Last block number the sender saw acknowledged.
    pub acknowledged: u16,
    /// This block's part of the APDU.
    pub data: &'a [u8],
}

/// Reads one block (starting with the tag `E0`).
pub fn parse_block(apdu: &[u8]) -> Result<Block<'_>, AxdrError> {
    let [TAG, control, n1, n2, a1, a2, rest @ ..] = apdu else {
        return Err(AxdrError("general-block-transfer header cut short"));
    };
    let (len, rest) = parse_len(rest)?;
    let data = rest
        .get(..len)
        .ok_or(AxdrError("general-block-transfer block cut short"))?;
    Ok(Block {
        last: control & 0x80 != 0,
        streaming: control & 0x40 != 0,
        window: control & 0x3F,
        number: u16::from_be_bytes([*n1, *n2]),
        acknowledged: u16::from_be_bytes([*a1, *a2]),
        data,
    })
}

/// Joins the blocks of one APDU. Feed every block in arrival order.
#[derive(Debug, Default)]
pub struct Joiner {
    buf: Vec<u8>,
    /// The block number expected next, while joining.
    next: Option<u16>,
}

fn reject(reason: RejectReason, detail: impl Into<String>) -> Rejection {
    Rejection {
        reason,
        detail: detail.into(),
    }
}

/// What one block did to a [`Joiner`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Joined {
    /// A message given up: a block missing or out of order, or the APDU too long.
    pub lost: Option<Rejection>,
    /// A complete APDU (this block was its last).
    pub apdu: Option<Vec<u8>>,
}

impl Joiner {
    /// An idle joiner.
    pub fn new() -> Self {
        Joiner::default()
    }

    /// Adds a block. A block 1 always starts a new APDU (a message broken off before it is
    /// reported lost); any other block must be the one expected next, or the message is lost
    /// and the joiner waits for the next block 1. Both may happen at once: a single-block
    /// APDU that breaks off a longer one.
    pub fn push(&mut self, block: &Block<'_>) -> Joined {
        let mut out = Joined::default();
        let expected = self.next.take().unwrap_or(1);
        if block.number != expected {
            self.buf.clear();
            out.lost = Some(reject(
                RejectReason::Framing,
                if expected > 1 {
                    format!(
                        "block transfer: block {} arrived where {expected} was expected (a frame was lost)",
                        block.number
                    )
                } else {
                    format!(
                        "block transfer: block {} without the blocks before it",
                        block.number
                    )
                },
            ));
            if block.number != 1 {
                return out;
            }
        }
        if block.number == 1 {
            self.buf.clear();
        }
        if self.buf.len() + block.data.len() > MAX_JOINED_LEN {
            self.buf.clear();
            out.lost = Some(reject(
                RejectReason::Oversized,
                format!("block transfer longer than {MAX_JOINED_LEN} bytes"),
            ));
            return out;
        }
        self.buf.extend_from_slice(block.data);
        if block.last {
            out.apdu = Some(std::mem::take(&mut self.buf));
        } else {
            self.next = Some(block.number.wrapping_add(1));
        }
        out
    }
}

/// Splits `apdu` into streamed blocks of at most `max_block` bytes each (block-control
/// `0x40` = streaming, `0xC0` on the last, window 0, acknowledged 0). For tests, benches and
/// the fuzz targets.
pub fn encode_blocks(apdu: &[u8], max_block: usize) -> Vec<Vec<u8>> {
    let chunks: Vec<&[u8]> = apdu.chunks(max_block.max(1)).collect();
    let n = chunks.len();
    let mut out = Vec::with_capacity(n);
    for (i, chunk) in chunks.into_iter().enumerate() {
        let control = if i + 1 == n { 0xC0 } else { 0x40 };
        let number = u16::try_from(i + 1).unwrap_or(u16::MAX).to_be_bytes();
        let mut b = vec![TAG, control, number[0], number[1], 0, 0];
        match chunk.len() {
            l @ 0..=0x7F => b.push(l as u8),
            l @ 0x80..=0xFF => b.extend_from_slice(&[0x81, l as u8]),
            l => b.extend_from_slice(&[0x82, (l >> 8) as u8, l as u8]),
        }
        b.extend_from_slice(chunk);
        out.push(b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_header_fields() {
        // E0 | control 0x80 (last, not streaming, window 0) | block 1 | ack 0 | 2 bytes AA BB.
        let b = parse_block(&[0xE0, 0x80, 0x00, 0x01, 0x00, 0x00, 0x02, 0xAA, 0xBB]).unwrap();
        assert_eq!(
            b,
            Block {
                last: true,
                streaming: false,
                window: 0,
                number: 1,
                acknowledged: 0,
                data: &[0xAA, 0xBB],
            }
        );
        // Control 0x41: streaming, window 1, more to come; block 0x0102, ack 0x0003;
        // a two-byte A-XDR length 0x81 0x80 = 128 bytes.
        let mut bytes = vec![0xE0, 0x41, 0x01, 0x02, 0x00, 0x03, 0x81, 0x80];
        bytes.extend([7u8; 128]);
        let b = parse_block(&bytes).unwrap();
        assert_eq!(
            (b.last, b.streaming, b.window, b.number, b.acknowledged),
            (false, true, 1, 0x0102, 3)
        );
        assert_eq!(b.data.len(), 128);
        // Cut short: the header, then the data.
        assert!(parse_block(&[0xE0, 0x80, 0x00, 0x01, 0x00]).is_err());
        assert!(parse_block(&bytes[..100]).is_err());
        assert!(parse_block(&[0x0F, 0x80, 0x00, 0x01, 0x00, 0x00, 0x00]).is_err());
    }

    fn join(joiner: &mut Joiner, blocks: &[Vec<u8>]) -> Vec<Joined> {
        blocks
            .iter()
            .map(|b| joiner.push(&parse_block(b).unwrap()))
            .collect()
    }

    #[test]
    fn blocks_join_in_order_and_a_gap_loses_the_message() {
        let apdu: Vec<u8> = (0..=255u8).collect();
        let blocks = encode_blocks(&apdu, 100); // 100 + 100 + 56 bytes
        assert_eq!(blocks.len(), 3);
        // The second block: E0 40 0002 0000, then length 100 (one byte), then the data.
        assert_eq!(blocks[1][..7], [0xE0, 0x40, 0x00, 0x02, 0x00, 0x00, 100]);
        assert_eq!(blocks[2][1], 0xC0);
        let mut j = Joiner::new();
        let out = join(&mut j, &blocks);
        assert_eq!(out[0], Joined::default());
        assert_eq!(out[1], Joined::default());
        assert_eq!(out[2].apdu.as_deref(), Some(&apdu[..]));
        assert_eq!(out[2].lost, None);

        // Block 2 lost: block 3 is refused, and the next transfer reads again.
        let out = join(&mut j, &[blocks[0].clone(), blocks[2].clone()]);
        assert_eq!(out[0], Joined::default());
        let lost = out[1].lost.as_ref().unwrap();
        assert_eq!(lost.reason, RejectReason::Framing);
        assert!(
            lost.detail.contains("block 3 arrived where 2"),
            "{}",
            lost.detail
        );
        let out = join(&mut j, &blocks);
        assert_eq!(out[2].apdu.as_deref(), Some(&apdu[..]));

        // Started mid-message: block 2 without block 1.
        let mut j = Joiner::new();
        let out = join(&mut j, &blocks[1..]);
        assert!(
            out[0]
                .lost
                .as_ref()
                .unwrap()
                .detail
                .contains("without the blocks")
        );
        assert_eq!(out[1].lost.as_ref().unwrap().reason, RejectReason::Framing);
        assert_eq!(out[1].apdu, None);

        // A one-block transfer breaking off a longer one: both outcomes at once.
        let single = encode_blocks(b"\x0F\x00", 100);
        let mut j = Joiner::new();
        let out = join(&mut j, &[blocks[0].clone(), single[0].clone()]);
        assert!(out[1].lost.is_some());
        assert_eq!(out[1].apdu.as_deref(), Some(&b"\x0F\x00"[..]));
    }

    #[test]
    fn a_transfer_longer_than_the_limit_is_oversized() {
        // 16,385 bytes in blocks of 1,000: blocks 1-16 hold 16,000, block 17 the last 385,
        // one byte over the limit.
        let apdu = vec![0u8; MAX_JOINED_LEN + 1];
        let blocks = encode_blocks(&apdu, 1000);
        assert_eq!(blocks.len(), 17);
        let mut j = Joiner::new();
        let out = join(&mut j, &blocks);
        assert!(out[..16].iter().all(|o| *o == Joined::default()));
        assert_eq!(
            out[16].lost.as_ref().unwrap().reason,
            RejectReason::Oversized
        );
        assert_eq!(out[16].apdu, None);
        // The joiner starts afresh: a short transfer after it reads.
        let out = join(&mut j, &encode_blocks(b"\x0F\x01", 1));
        assert_eq!(out[1].apdu.as_deref(), Some(&b"\x0F\x01"[..]));
    }
}
