//! Sans-IO smart-meter decoders: bytes in, frames out, frames into canonical [`Reading`]s.
//!
//! Nothing in this crate opens a port, reads a clock or blocks. Sources (serial, TCP, files)
//! live in `hearth-meter-io`; storage lives in `hearth-vault`. Every protocol decoder has the
//! same shape ([`Decoder`]): push bytes in, take frames out, each parsed into a [`Reading`]
//! plus per-line diagnostics. A bad line never discards a good frame; only framing, CRC and
//! authentication failures reject a frame, each with a counted reason. Every reading a
//! decoder built by [`auto`] yields is checked for plausibility ([`plausible`]): a field no
//! household meter can report is dropped, told and counted, and the rest kept.
#![forbid(unsafe_code)]

pub mod auto;
pub mod checksum;
pub mod decoder;
pub mod dlms;
pub mod dsmr;
pub mod explain;
pub mod glo;
pub mod glow;
pub mod hdlc;
pub mod iec62056_21;
pub mod mqtt;
pub mod plausible;
pub mod pulse;
pub mod quote;
pub mod raven;
pub mod reading;
pub mod record;
pub mod sml;
pub mod supplier;
pub mod time;

pub use decoder::{Decoded, Decoder, Diagnostic, RejectReason, Rejection, Stats};
pub use reading::{
    DemandPeak, ENERGY_REGISTERS, Extras, MeterId, PowerFailure, Protocol, Quantity, Reading,
};
pub use time::MeterTime;
