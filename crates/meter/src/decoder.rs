//! The shape every protocol decoder shares: push bytes in, take decoded frames or counted
//! rejections out. Parsing never fails as a whole: a frame that passes framing, CRC and
//! authentication always yields a [`Reading`], with per-line [`Diagnostic`]s for what was odd.

use crate::reading::Reading;
use std::fmt;

/// A frame that passed framing, checksum and authentication, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The canonical reading.
    pub reading: Reading,
    /// What could not be read in the frame (the rest was kept).
    pub diagnostics: Vec<Diagnostic>,
}

/// One line or object of a frame that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// 1-based line number within the frame (or object index for binary protocols).
    pub line: u32,
    /// The OBIS code or field name concerned, if known (`1-0:32.7.0`).
    pub code: String,
    /// What was wrong, for a human.
    pub message: String,
}

/// Why a frame was rejected. Each reason is counted separately in [`Stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectReason {
    /// The frame's checksum (CRC, FCS, BCC) did not match its bytes.
    Checksum,
    /// The frame ended early or its structure is broken (missing end, bad length).
    Framing,
    /// The frame grew past the decoder's size limit without ending.
    Oversized,
    /// Encrypted frame that failed authentication: wrong key, or damaged bytes.
    Authentication,
    /// Encrypted frame but no key was given.
    MissingKey,
    /// The frame is well formed but its payload could not be interpreted at all.
    Payload,
    /// A list of values without OBIS codes in no layout known for a meter family: which value
    /// is which cannot be told, so nothing of it is stored (`hearth decode --explain` shows
    /// its signature for a report).
    UnknownLayout,
}

impl RejectReason {
    /// Every reason, in a stable order.
    pub const ALL: [RejectReason; 7] = [
        RejectReason::Checksum,
        RejectReason::Framing,
        RejectReason::Oversized,
        RejectReason::Authentication,
        RejectReason::MissingKey,
        RejectReason::Payload,
        RejectReason::UnknownLayout,
    ];

    /// A short stable name (for stats output and logs).
    pub const fn name(self) -> &'static str {
        match self {
            RejectReason::Checksum => "checksum",
            RejectReason::Framing => "framing",
            RejectReason::Oversized => "oversized",
            RejectReason::Authentication => "authentication",
            RejectReason::MissingKey => "missing-key",
            RejectReason::Payload => "payload",
            RejectReason::UnknownLayout => "unknown-layout",
        }
    }

    /// What the reason means, for a homeowner.
    pub const fn description(self) -> &'static str {
        match self {
            RejectReason::Checksum => {
                "the frame's checksum did not match: bytes damaged on the way"
            }
            RejectReason::Framing => "the frame was cut short or its structure is broken",
            RejectReason::Oversized => "the frame grew too long without ending",
            RejectReason::Authentication => {
                "an encrypted frame failed its check: wrong key, or damaged bytes"
            }
            RejectReason::MissingKey => "the meter encrypts its data and no key was given",
            RejectReason::Payload => "the frame is whole but its contents could not be read",
            RejectReason::UnknownLayout => {
                "the meter sends its values without names in an order Hearth does not know \
                 for that meter, so none of them is stored (`hearth decode --explain` shows \
                 what it sent, for a report)"
            }
        }
    }
}

/// A rejected frame: the reason and a human explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The counted reason.
    pub reason: RejectReason,
    /// What exactly was wrong (`CRC 0x1234 expected, frame says 0xABCD`).
    pub detail: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason.name(), self.detail)
    }
}

/// Counts of accepted and rejected frames, and bytes skipped while hunting for a frame start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Frames decoded into readings.
    pub accepted: u64,
    /// Rejected frames, indexed like [`RejectReason::ALL`].
    pub rejected_by: [u64; RejectReason::ALL.len()],
    /// Bytes discarded outside any frame (noise, garbage, a wrong baud rate).
    pub skipped_bytes: u64,
    /// Implausible fields dropped from accepted readings (a voltage of 4000 V, a meter id
    /// that is an OBIS code; see [`crate::plausible`]). The rest of each reading was kept.
    pub implausible: u64,
}

impl Stats {
    /// Total rejected frames.
    pub fn rejected(&self) -> u64 {
        self.rejected_by.iter().sum()
    }

    /// Counts one rejection.
    pub fn count_rejection(&mut self, reason: RejectReason) {
        let i = RejectReason::ALL
            .iter()
            .position(|r| *r == reason)
            .unwrap_or(0);
        self.rejected_by[i] += 1;
    }

    /// Rejections for one reason.
    pub fn rejected_for(&self, reason: RejectReason) -> u64 {
        RejectReason::ALL
            .iter()
            .position(|r| *r == reason)
            .map_or(0, |i| self.rejected_by[i])
    }
}

/// A streaming, sans-IO decoder for one protocol.
///
/// Feed bytes in any split with [`Decoder::push`], then call [`Decoder::next`] until it returns
/// `None`. Memory stays bounded whatever the input.
pub trait Decoder {
    /// Appends received bytes.
    fn push(&mut self, bytes: &[u8]);
    /// The next decoded frame or rejection, or `None` when more bytes are needed.
    fn next(&mut self) -> Option<Result<Decoded, Rejection>>;
    /// Counts so far.
    fn stats(&self) -> &Stats;
    /// Called once at the end of the input: yields a last frame that needs no terminator
    /// (a final JSON line without a newline), or `None`. A frame cut off by the end of input
    /// stays incomplete and is not counted as accepted.
    fn finish(&mut self) -> Option<Result<Decoded, Rejection>> {
        None
    }
}

/// A boxed decoder decodes as the decoder inside (so a chosen-at-run-time decoder can be
/// wrapped, e.g. checked for plausibility).
impl<D: Decoder + ?Sized> Decoder for Box<D> {
    fn push(&mut self, bytes: &[u8]) {
        (**self).push(bytes);
    }
    fn next(&mut self) -> Option<Result<Decoded, Rejection>> {
        (**self).next()
    }
    fn stats(&self) -> &Stats {
        (**self).stats()
    }
    fn finish(&mut self) -> Option<Result<Decoded, Rejection>> {
        (**self).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejections_are_counted_per_reason() {
        let mut s = Stats::default();
        s.count_rejection(RejectReason::Checksum);
        s.count_rejection(RejectReason::Checksum);
        s.count_rejection(RejectReason::Authentication);
        assert_eq!(s.rejected(), 3);
        assert_eq!(s.rejected_for(RejectReason::Checksum), 2);
        assert_eq!(s.rejected_for(RejectReason::Authentication), 1);
        assert_eq!(s.rejected_for(RejectReason::Framing), 0);
    }
}
