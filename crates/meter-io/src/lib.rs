//! Meter sources: where bytes come from (serial ports, LAN bridges, recorded files, a simulated
//! household meter) and how a port's settings and protocol are detected.
//!
//! - [`Source`]: what to read, parsed from `serial:/dev/ttyUSB0[:115200:8N1]`,
//!   `tcp:HOST:PORT[?allow_public]`, `file:PATH[?pace=recorded]`, `demo[:SEED]`,
//!   `mqtt://[USER@]HOST[:PORT]/TOPIC[?preset=…]` (a broker a Glow CAD or a Tasmota/ESPHome
//!   bridge publishes to), `pulse:/dev/ttyUSB0[?imp_per_kwh=1000]` (an LED pulse sensor) or
//!   `serial:/dev/ttyUSB0?protocol=iec62056-21[&mode=c]` (an IEC 62056-21 meter behind an
//!   optical head, asked for a readout every 10 s).
//! - [`homewizard`]: a HomeWizard Wi-Fi P1 meter read through its local HTTP API (our own
//!   minimal HTTP/1.1 client, no HTTP crate), `homewizard:HOST`.
//! - [`mqtt`]: the MQTT client link and the decoder for each bridge preset.
//! - [`Reader`]: opens a source, feeds a [`hearth_meter::Decoder`], yields [`Event`]s (readings,
//!   rejections, connection status), reconnects with backoff, watches for silence.
//!   [`Connection`] gives a source's raw bytes when they are wanted undecoded.
//! - [`simulator`]: a deterministic simulated household with a DSMR 5.0.2 meter, also behind a
//!   pseudo-terminal ([`simulator::PtyMeter`]) for trying the serial path without hardware.
//! - [`detect`]: list serial ports and find which one speaks which protocol at which settings.
//!
//! This is the only Hearth crate that opens ports and sockets. It never listens on a port, and
//! it connects only to addresses on the local network ([`network`]) unless the user explicitly
//! allows more.
#![forbid(unsafe_code)]

pub mod clock;
pub mod detect;
pub mod homewizard;
pub mod mqtt;
pub mod network;
mod optical;
pub mod reader;
pub mod settings;
pub mod simulator;
pub mod source;

pub use reader::{Clock, Connection, Event, OpenError, Reader, ReaderOptions, Status};
pub use settings::{Parity, SerialSettings};
pub use source::{
    HomeWizardSource, IecMode, IecSource, MqttPreset, MqttSource, Pace, PulseSource, Source,
    SourceError,
};
