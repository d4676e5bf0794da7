//! Where a meter's bytes come from, as the user writes it on the command line or in settings:
//! `serial:/dev/ttyUSB0[:115200[:8N1]]`,
//! `serial:/dev/ttyUSB0?protocol=iec62056-21[&mode=a|b|c|d][&address=ID][&interval=SECONDS][&baud=N]`
//! (an IEC 62056-21 meter behind an optical head: the reader signs on and asks for a readout
//! every `interval`, see [`IecSource`]), `tcp:HOST:PORT[?allow_public]`,
//! `homewizard:HOST[:PORT][?allow_public]` (a HomeWizard Wi-Fi P1 meter's local API, see
//! [`HomeWizardSource`]),
//! `file:PATH[?pace=recorded]`, `demo[:SEED][?pace=fast][&start=UNIX][&count=N]`,
//! `mqtt://[USER@]HOST[:PORT]/TOPIC-FILTER[?preset=glow|tasmota|esphome][&tls][&ca=FILE][&allow_public]`
//! and `pulse:/dev/ttyUSB0[?imp_per_kwh=1000][&format=auto|byte|line|count][&debounce_ms=60][&baud=9600]`.
//!
//! [`Source`] parses with [`str::parse`] and prints back in the same form, so a source can be
//! stored as text. Opening and reading it is the job of [`crate::reader::Reader`].

use crate::settings::{Parity, SerialSettings, SettingsError};
use hearth_meter::pulse::PulseFormat;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// How fast recorded or simulated telegrams are delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Pace {
    /// As fast as the reader takes them (imports, benchmarks, tests).
    #[default]
    Fast,
    /// As the meter sent them: a file at the pace of its telegram timestamps, the demo meter
    /// one telegram per second.
    Real,
}

/// A source of meter bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// A serial port (a P1 or HAN cable, an optical head).
    Serial {
        /// Device path, e.g. `/dev/ttyUSB0` or `/dev/serial/by-id/usb-FTDI_...`.
        path: String,
        /// Baud rate and frame (default 115200 8N1).
        settings: SerialSettings,
    },
    /// A TCP connection to a bridge on the local network (ser2net, a Wi-Fi P1 dongle) that
    /// streams the meter's raw bytes.
    Tcp {
        /// Host name or IP address (IPv6 in brackets on the command line).
        host: String,
        /// TCP port.
        port: u16,
        /// Allow addresses outside the local network. Off unless the user asks for it.
        allow_public: bool,
    },
    /// A recorded capture.
    File {
        /// The capture file.
        path: PathBuf,
        /// As fast as possible, or at the pace of the telegram timestamps.
        pace: Pace,
    },
    /// The simulated household meter ([`crate::simulator::Simulator`]).
    Demo {
        /// Seed of the household (the same seed replays the same household).
        seed: u64,
        /// One telegram per second, or as fast as possible.
        pace: Pace,
        /// Time of the first telegram (unix seconds); the current time when absent.
        start: Option<i64>,
        /// Stop after this many telegrams; endless when absent.
        count: Option<u64>,
    },
    /// An MQTT broker on the local network that a consumer access device (Hildebrand Glow) or
    /// a Tasmota/ESPHome bridge publishes to. Hearth connects as a client; it never listens.
    Mqtt(MqttSource),
    /// An optical pulse sensor over the meter's LED on a serial port.
    Pulse(PulseSource),
    /// An IEC 62056-21 meter on a serial port (an optical head on the meter's eye): modes A-C
    /// answer a sign-on request with a readout, mode D pushes on its own.
    Iec62056(IecSource),
    /// A HomeWizard Wi-Fi P1 meter on the local network, asked for the meter's telegram once a
    /// second through its local API ([`crate::homewizard`]).
    HomeWizard(HomeWizardSource),
}

/// A HomeWizard Wi-Fi P1 meter (`HWE-P1`): `homewizard:HOST[:PORT][?allow_public]`, its local
/// API v1 over plain HTTP (port 80 unless given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HomeWizardSource {
    /// Host name or IP address (IPv6 in brackets in the source string).
    pub host: String,
    /// HTTP port (80 when not given).
    pub port: u16,
    /// Allow addresses outside the local network. Off unless the user asks for it.
    pub allow_public: bool,
}

/// The HTTP port of a HomeWizard device's local API v1.
pub const HOMEWIZARD_PORT: u16 = 80;

/// How an IEC 62056-21 meter is read (IEC 62056-21 §6.4 protocol modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum IecMode {
    /// Sign on and read at 300 baud: never ask for a faster speed (for optical heads that
    /// only manage 300 baud). A meter that switches on its own (mode B) is still followed.
    A,
    /// Sign on at 300 baud and follow the speed the meter's identification offers (the same
    /// conversation as [`IecMode::C`]: the identification says which the meter speaks).
    B,
    /// Sign on at 300 baud, acknowledge with the option select message and switch to the
    /// speed the identification offers (capped by [`IecSource::baud`]). The usual mode.
    #[default]
    C,
    /// No conversation: the meter pushes a readout every few seconds (2400 baud 7E1 unless
    /// [`IecSource::baud`] says otherwise).
    D,
}

impl IecMode {
    /// The letter used in a source string (`mode=c`).
    pub fn letter(self) -> char {
        match self {
            IecMode::A => 'a',
            IecMode::B => 'b',
            IecMode::C => 'c',
            IecMode::D => 'd',
        }
    }

    /// Reads `a`, `b`, `c` or `d` (either case).
    pub fn from_letter(s: &str) -> Option<IecMode> {
        match s.to_ascii_lowercase().as_str() {
            "a" => Some(IecMode::A),
            "b" => Some(IecMode::B),
            "c" => Some(IecMode::C),
            "d" => Some(IecMode::D),
            _ => None,
        }
    }
}

/// An IEC 62056-21 meter on a serial port.
///
/// Modes A-C: the reader opens the port at 300 baud 7E1, sends the sign-on request
/// `/?!` CR LF (`/?ADDRESS!` CR LF with an address), reads the identification line
/// `/XXXZident` CR LF, and then, as the identification's baud character `Z` says:
/// `0`-`6` (mode C) sends the option select `ACK 0 Z 0` CR LF (normal protocol, data readout)
/// and switches to that speed (0 = 300, 1 = 600, 2 = 1200, 3 = 2400, 4 = 4800, 5 = 9600,
/// 6 = 19200 baud); `A`-`F` (mode B) switches at once (600 to 19200 baud); anything else
/// (mode A) stays at 300. The readout (`STX` data `!` CR LF `ETX BCC`) goes to the decoder,
/// the port returns to 300 baud, and the cycle repeats every `interval`.
///
/// Mode D: the port is simply read (the meter pushes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IecSource {
    /// Device path, e.g. `/dev/ttyUSB0`.
    pub path: String,
    /// How the meter is read.
    pub mode: IecMode,
    /// The meter's device address for the sign-on (`/?ADDRESS!`), when several meters share
    /// a bus or the meter insists; up to 32 letters, digits and spaces.
    pub address: Option<String>,
    /// Time from one sign-on to the next (modes A-C), whole seconds, at least 1.
    pub interval_s: u32,
    /// Modes A-C: the fastest speed to ask for (the meter's offer is lowered to it); mode D:
    /// the line speed (2400 when absent).
    pub baud: Option<u32>,
}

/// Seconds between two readouts of an IEC 62056-21 meter when the source says nothing.
pub const DEFAULT_IEC_INTERVAL_S: u32 = 10;
/// The speed a mode D meter pushes at unless `baud=` says otherwise.
pub const DEFAULT_IEC_PUSH_BAUD: u32 = 2400;
/// Longest device address in a sign-on request (IEC 62056-21 §6.3).
pub const MAX_IEC_ADDRESS_LEN: usize = 32;

impl IecSource {
    /// Modes A-C of an optical head on `path` with the defaults (mode C, no address, every 10 s).
    pub fn sign_on(path: impl Into<String>) -> IecSource {
        IecSource {
            path: path.into(),
            mode: IecMode::C,
            address: None,
            interval_s: DEFAULT_IEC_INTERVAL_S,
            baud: None,
        }
    }

    /// The port settings the exchange starts with: 300 baud 7E1 for a sign-on, the push speed
    /// (7E1) for mode D.
    pub fn start_settings(&self) -> SerialSettings {
        match self.mode {
            IecMode::D => SerialSettings::new(
                self.baud.unwrap_or(DEFAULT_IEC_PUSH_BAUD),
                7,
                Parity::Even,
                1,
            ),
            _ => SerialSettings::IEC_START,
        }
    }

    /// The sign-on request: `/?!` CR LF, or `/?ADDRESS!` CR LF.
    pub fn sign_on_request(&self) -> Vec<u8> {
        let mut r = b"/?".to_vec();
        if let Some(a) = &self.address {
            r.extend_from_slice(a.as_bytes());
        }
        r.extend_from_slice(b"!\r\n");
        r
    }
}

/// Which bridge publishes on the broker, so which payload shape to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MqttPreset {
    /// Hildebrand Glow IHD/CAD/Glow Stick: `glow/<device>/SENSOR/electricitymeter|gasmeter`.
    #[default]
    Glow,
    /// Tasmota's Smart Meter Interface: `tele/<device>/SENSOR` with an `SML` object.
    Tasmota,
    /// An ESPHome P1 dongle: `<node>/sensor/<name>/state` with a bare number.
    Esphome,
}

impl MqttPreset {
    /// The name used in a source string (`preset=glow`).
    pub fn name(self) -> &'static str {
        match self {
            MqttPreset::Glow => "glow",
            MqttPreset::Tasmota => "tasmota",
            MqttPreset::Esphome => "esphome",
        }
    }

    /// Reads `glow`, `tasmota` or `esphome`.
    pub fn from_name(name: &str) -> Option<MqttPreset> {
        match name.to_ascii_lowercase().as_str() {
            "glow" => Some(MqttPreset::Glow),
            "tasmota" => Some(MqttPreset::Tasmota),
            "esphome" => Some(MqttPreset::Esphome),
            _ => None,
        }
    }

    /// The topic filter subscribed to when the source names none.
    pub fn default_topic(self) -> &'static str {
        match self {
            MqttPreset::Glow => hearth_meter::glow::TOPIC_FILTER,
            MqttPreset::Tasmota => "tele/+/SENSOR",
            MqttPreset::Esphome => "+/sensor/+/state",
        }
    }
}

/// An MQTT broker to subscribe to. The password is not part of it: it lives sealed in the
/// vault and is handed to the reader ([`crate::Reader::with_password`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqttSource {
    /// Broker host name or IP address (IPv6 in brackets in the source string).
    pub host: String,
    /// Broker port (1883, or 8883 with TLS, when not given).
    pub port: u16,
    /// User name, if the broker wants one.
    pub user: Option<String>,
    /// Topic filter subscribed to (`+` and `#` wildcards).
    pub topic: String,
    /// The payload shape.
    pub preset: MqttPreset,
    /// Connect with TLS.
    pub tls: bool,
    /// A PEM file with the CA that signed the broker's certificate (self-signed home brokers);
    /// the system's trusted roots when absent.
    pub ca: Option<PathBuf>,
    /// Allow addresses outside the local network. Off unless the user asks for it.
    pub allow_public: bool,
}

/// The default MQTT port without TLS.
pub const MQTT_PORT: u16 = 1883;
/// The default MQTT port with TLS.
pub const MQTTS_PORT: u16 = 8883;

/// A pulse sensor on a serial port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulseSource {
    /// Device path, e.g. `/dev/ttyUSB0`.
    pub path: String,
    /// Port settings (9600 8N1 unless `baud=` says otherwise).
    pub settings: SerialSettings,
    /// The meter constant printed on the meter (`imp/kWh`, 1000 on SMETS2 meters).
    pub imp_per_kwh: u32,
    /// How the sensor reports pulses.
    pub format: PulseFormat,
    /// Pulses closer than this are optical bounce; the counter's default (half the interval
    /// at 60 kW) when absent.
    pub debounce_ms: Option<u64>,
}

/// The meter constant of SMETS2 electricity meters.
pub const DEFAULT_IMP_PER_KWH: u32 = 1000;
/// The baud rate of common USB pulse sensors.
pub const DEFAULT_PULSE_BAUD: u32 = 9600;

/// The demo meter's seed when none is given.
pub const DEFAULT_DEMO_SEED: u64 = 2026;

impl Source {
    /// The demo meter, one telegram per second from now, endless.
    pub fn demo(seed: u64) -> Source {
        Source::Demo {
            seed,
            pace: Pace::Real,
            start: None,
            count: None,
        }
    }

    /// Whether the source lets Hearth reach a host outside the home network (`?allow_public`
    /// on a TCP bridge, an MQTT broker or a HomeWizard meter): only the CLI may say so.
    pub fn allows_public(&self) -> bool {
        match self {
            Source::Tcp { allow_public, .. } => *allow_public,
            Source::Mqtt(m) => m.allow_public,
            Source::HomeWizard(h) => h.allow_public,
            _ => false,
        }
    }

    /// A human description safe to show and log (paths and hosts, no secrets).
    pub fn describe(&self) -> String {
        match self {
            Source::Serial { path, settings } => format!("serial port {path} ({settings})"),
            Source::Tcp { host, port, .. } => format!("LAN bridge {}", host_port(host, *port)),
            Source::HomeWizard(h) => {
                format!("HomeWizard P1 meter {}", host_port(&h.host, h.port))
            }
            Source::File { path, .. } => format!("file {}", path.display()),
            Source::Demo { seed, .. } => format!("demo meter (seed {seed})"),
            Source::Mqtt(m) => format!(
                "MQTT broker {}{} ({} on {})",
                host_port(&m.host, m.port),
                if m.tls { " over TLS" } else { "" },
                m.preset.name(),
                m.topic
            ),
            Source::Pulse(p) => format!("pulse sensor on {} ({} imp/kWh)", p.path, p.imp_per_kwh),
            Source::Iec62056(m) => match m.mode {
                IecMode::D => format!(
                    "IEC 62056-21 meter on {} (mode D, {})",
                    m.path,
                    m.start_settings()
                ),
                mode => format!(
                    "IEC 62056-21 meter on {} (mode {}, a readout every {} s)",
                    m.path,
                    mode.letter().to_ascii_uppercase(),
                    m.interval_s
                ),
            },
        }
    }
}

pub(crate) fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Why a source string could not be read. Each message says what a valid one looks like.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// Not one of the known kinds.
    #[error(
        "unknown source '{0}': use serial:/dev/ttyUSB0, \
         serial:/dev/ttyUSB0?protocol=iec62056-21 (an optical head), tcp:HOST:PORT, \
         homewizard:HOST (a HomeWizard P1 meter), file:PATH, demo, mqtt://HOST/TOPIC or \
         pulse:/dev/ttyUSB0"
    )]
    Kind(String),
    /// `serial:` or `file:` without a path.
    #[error("'{0}' needs a path, e.g. serial:/dev/ttyUSB0 or file:meter.p1")]
    MissingPath(String),
    /// Bad baud rate or frame after a serial path.
    #[error("serial settings: {0}")]
    Settings(#[from] SettingsError),
    /// `tcp:` without a host or a port.
    #[error("'{0}' needs a host and a port, e.g. tcp:192.168.1.20:2001")]
    HostPort(String),
    /// `homewizard:` without a host, or a bare IPv6 address.
    #[error(
        "'{0}' needs the P1 meter's address, e.g. homewizard:192.168.1.50 \
         (an IPv6 address in brackets: homewizard:[fd00::50])"
    )]
    Host(String),
    /// The TCP port is not 1-65535.
    #[error("'{0}' is not a TCP port (1-65535)")]
    Port(String),
    /// The demo seed is not a whole number.
    #[error("'{0}' is not a demo seed (a whole number, e.g. demo:42)")]
    Seed(String),
    /// `mqtt://` without a broker host.
    #[error("'{0}' needs a broker, e.g. mqtt://192.168.1.10/glow/+/SENSOR/+")]
    Broker(String),
    /// A password written into an `mqtt://` source.
    #[error(
        "do not put the MQTT password in the source (it would be stored in plain text); \
         give only the user name (mqtt://USER@HOST/...) and Hearth keeps the password sealed in the vault"
    )]
    PasswordInSource,
    /// An option after `?` that this kind of source does not have, or a bad value.
    #[error("'{option}' is not an option of a {kind} source (it takes: {valid})")]
    Option {
        /// The offending option.
        option: String,
        /// `serial`, `tcp`, `file`, `demo`, `mqtt`, `pulse` or `IEC 62056-21 serial`.
        kind: &'static str,
        /// What the kind accepts.
        valid: &'static str,
    },
}

fn options<'a>(
    query: Option<&'a str>,
    kind: &'static str,
    valid: &'static str,
) -> impl Iterator<Item = Result<(&'a str, &'a str), SourceError>> + 'a {
    query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter(|o| !o.is_empty())
        .map(move |o| {
            let (k, v) = o.split_once('=').unwrap_or((o, ""));
            if valid.split(", ").any(|name| name.starts_with(k)) && !k.is_empty() {
                Ok((k, v))
            } else {
                Err(SourceError::Option {
                    option: o.to_owned(),
                    kind,
                    valid,
                })
            }
        })
}

fn bad_option(option: &str, kind: &'static str, valid: &'static str) -> SourceError {
    SourceError::Option {
        option: option.to_owned(),
        kind,
        valid,
    }
}

impl FromStr for Source {
    type Err = SourceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Some(rest) = s.strip_prefix("mqtt://") {
            return parse_mqtt(rest, s);
        }
        let (kind, rest) = s.split_once(':').unwrap_or((s, ""));
        match kind {
            "pulse" => parse_pulse(rest, s),
            "serial" => parse_serial(rest, s),
            "tcp" => parse_tcp(rest, s),
            "homewizard" => parse_homewizard(rest, s),
            "file" => parse_file(rest, s),
            "demo" => parse_demo(rest),
            _ if s.starts_with("demo?") => parse_demo(&s[4..]),
            _ => Err(SourceError::Kind(s.to_owned())),
        }
    }
}

fn parse_serial(rest: &str, whole: &str) -> Result<Source, SourceError> {
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let mut settings = SerialSettings::default();
    let mut explicit_settings = false;
    let mut path = rest;
    // From the right: `:FRAME` after `:BAUD`, or `:BAUD` alone.
    if let Some((head, last)) = rest.rsplit_once(':') {
        if SerialSettings::parse_frame(last).is_ok() {
            let (p, baud) = head
                .rsplit_once(':')
                .ok_or_else(|| SourceError::MissingPath(whole.to_owned()))?;
            settings = format!("{baud}:{last}").parse()?;
            path = p;
            explicit_settings = true;
        } else if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) {
            settings = last.parse()?;
            path = head;
            explicit_settings = true;
        }
    }
    if path.is_empty() {
        return Err(SourceError::MissingPath(whole.to_owned()));
    }
    if query.is_some_and(|q| !q.is_empty()) {
        if explicit_settings {
            // The conversation sets the speeds itself; `baud=` is the way to limit them.
            return Err(bad_option(
                &format!("{}:{}", settings.baud, settings.frame()),
                IEC_KIND,
                IEC_VALID,
            ));
        }
        return parse_iec(path, query);
    }
    Ok(Source::Serial {
        path: path.to_owned(),
        settings,
    })
}

const IEC_KIND: &str = "serial";
const IEC_VALID: &str = "protocol=iec62056-21, mode=a|b|c|d, address=ID, interval=SECONDS, baud=N";

/// `serial:PATH?protocol=iec62056-21&...`: the options of an IEC 62056-21 meter.
fn parse_iec(path: &str, query: Option<&str>) -> Result<Source, SourceError> {
    let mut m = IecSource::sign_on(path);
    let mut protocol = false;
    for o in options(query, IEC_KIND, IEC_VALID) {
        let (k, v) = o?;
        let bad = || bad_option(&format!("{k}={v}"), IEC_KIND, IEC_VALID);
        match k {
            "protocol" if v.eq_ignore_ascii_case("iec62056-21") => protocol = true,
            "mode" => m.mode = IecMode::from_letter(v).ok_or_else(bad)?,
            "address"
                if !v.is_empty()
                    && v.len() <= MAX_IEC_ADDRESS_LEN
                    && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ') =>
            {
                m.address = Some(v.to_owned());
            }
            "interval" => {
                m.interval_s = v
                    .parse()
                    .ok()
                    .filter(|s| (1..=86_400).contains(s))
                    .ok_or_else(bad)?
            }
            "baud" => {
                m.baud = Some(
                    v.parse()
                        .ok()
                        .filter(|b| IEC_SPEEDS.contains(b))
                        .ok_or_else(bad)?,
                )
            }
            _ => return Err(bad()),
        }
    }
    if !protocol {
        // Options on a serial port only mean something to the IEC 62056-21 conversation.
        return Err(bad_option(
            query.unwrap_or_default(),
            IEC_KIND,
            "protocol=iec62056-21 first (other serial meters take serial:PATH[:BAUD[:FRAME]])",
        ));
    }
    Ok(Source::Iec62056(m))
}

/// The speeds of IEC 62056-21 (§6.3, baud rate identification).
pub const IEC_SPEEDS: [u32; 7] = [300, 600, 1200, 2400, 4800, 9600, 19_200];

fn parse_tcp(rest: &str, whole: &str) -> Result<Source, SourceError> {
    const VALID: &str = "allow_public";
    let (addr, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    };
    let mut allow_public = false;
    for o in options(query, "tcp", VALID) {
        let (k, v) = o?;
        if k != "allow_public" {
            return Err(bad_option(k, "tcp", VALID));
        }
        allow_public = match v {
            "" | "true" | "yes" | "1" => true,
            "false" | "no" | "0" => false,
            _ => return Err(bad_option(&format!("{k}={v}"), "tcp", VALID)),
        };
    }
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| SourceError::HostPort(whole.to_owned()))?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() || port.is_empty() {
        return Err(SourceError::HostPort(whole.to_owned()));
    }
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| SourceError::Port(port.to_owned()))?;
    Ok(Source::Tcp {
        host: host.to_owned(),
        port,
        allow_public,
    })
}

fn parse_homewizard(rest: &str, whole: &str) -> Result<Source, SourceError> {
    const VALID: &str = "allow_public";
    let (addr, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    };
    let mut allow_public = false;
    for o in options(query, "homewizard", VALID) {
        let (k, v) = o?;
        let bad = || bad_option(&format!("{k}={v}"), "homewizard", VALID);
        match k {
            "allow_public" => allow_public = parse_flag(v).ok_or_else(bad)?,
            _ => return Err(bad()),
        }
    }
    let missing = || SourceError::Host(whole.to_owned());
    // `[v6]:port`, `[v6]`, `host:port`, `host` (a bare IPv6 address needs the brackets).
    let (host, port) = if let Some(inner) = addr.strip_prefix('[') {
        let (h, after) = inner.split_once(']').ok_or_else(missing)?;
        match after {
            "" => (h, None),
            _ => (h, Some(after.strip_prefix(':').ok_or_else(missing)?)),
        }
    } else {
        match addr.split_once(':') {
            Some((h, p)) if !p.contains(':') => (h, Some(p)),
            Some(_) => return Err(missing()),
            None => (addr, None),
        }
    };
    if host.is_empty() || host.contains(['/', '@', ' ']) {
        return Err(missing());
    }
    let port = match port {
        None => HOMEWIZARD_PORT,
        Some(p) => p
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| SourceError::Port(p.to_owned()))?,
    };
    Ok(Source::HomeWizard(HomeWizardSource {
        host: host.to_owned(),
        port,
        allow_public,
    }))
}

fn parse_pace(v: &str, kind: &'static str, valid: &'static str) -> Result<Pace, SourceError> {
    match v {
        "fast" => Ok(Pace::Fast),
        "recorded" | "real" | "realtime" => Ok(Pace::Real),
        _ => Err(bad_option(&format!("pace={v}"), kind, valid)),
    }
}

fn parse_file(rest: &str, whole: &str) -> Result<Source, SourceError> {
    const VALID: &str = "pace=fast|recorded";
    let (path, query) = match rest.rsplit_once("?pace=") {
        Some((p, v)) => (p, Some(v)),
        None => (rest, None),
    };
    if path.is_empty() {
        return Err(SourceError::MissingPath(whole.to_owned()));
    }
    let pace = match query {
        Some(v) => parse_pace(v, "file", VALID)?,
        None => Pace::Fast,
    };
    Ok(Source::File {
        path: PathBuf::from(path),
        pace,
    })
}

fn parse_demo(rest: &str) -> Result<Source, SourceError> {
    const VALID: &str = "pace=fast|real, start=UNIX, count=N";
    let (seed, query) = match rest.split_once('?') {
        Some((s, q)) => (s, Some(q)),
        None => (rest, None),
    };
    let seed = if seed.is_empty() {
        DEFAULT_DEMO_SEED
    } else {
        seed.parse()
            .map_err(|_| SourceError::Seed(seed.to_owned()))?
    };
    let (mut pace, mut start, mut count) = (Pace::Real, None, None);
    for o in options(query, "demo", VALID) {
        let (k, v) = o?;
        let bad = || bad_option(&format!("{k}={v}"), "demo", VALID);
        match k {
            "pace" => pace = parse_pace(v, "demo", VALID)?,
            "start" => start = Some(v.parse().map_err(|_| bad())?),
            "count" => count = Some(v.parse().map_err(|_| bad())?),
            _ => return Err(bad()),
        }
    }
    Ok(Source::Demo {
        seed,
        pace,
        start,
        count,
    })
}

fn parse_flag(v: &str) -> Option<bool> {
    match v {
        "" | "true" | "yes" | "1" => Some(true),
        "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

fn parse_mqtt(rest: &str, whole: &str) -> Result<Source, SourceError> {
    const VALID: &str = "preset=glow|tasmota|esphome, tls, ca=FILE, allow_public";
    let (main, query) = match rest.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (rest, None),
    };
    let (authority, topic) = main.split_once('/').unwrap_or((main, ""));
    let (user, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    if let Some(u) = user {
        if u.contains(':') {
            return Err(SourceError::PasswordInSource);
        }
        if u.is_empty() {
            return Err(SourceError::Broker(whole.to_owned()));
        }
    }
    let mut preset = MqttPreset::Glow;
    let mut tls = false;
    let mut ca = None;
    let mut allow_public = false;
    for o in options(query, "mqtt", VALID) {
        let (k, v) = o?;
        let bad = || bad_option(&format!("{k}={v}"), "mqtt", VALID);
        match k {
            "preset" => preset = MqttPreset::from_name(v).ok_or_else(bad)?,
            "tls" => tls = parse_flag(v).ok_or_else(bad)?,
            "allow_public" => allow_public = parse_flag(v).ok_or_else(bad)?,
            "ca" if !v.is_empty() => {
                ca = Some(PathBuf::from(v));
                tls = true;
            }
            _ => return Err(bad()),
        }
    }
    // `[v6]:port`, `[v6]`, `host:port`, `host`.
    let (host, port) = if let Some(inner) = hostport.strip_prefix('[') {
        let (h, after) = inner
            .split_once(']')
            .ok_or_else(|| SourceError::Broker(whole.to_owned()))?;
        (h, after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err(SourceError::Broker(whole.to_owned()));
    }
    let port = match port {
        None => {
            if tls {
                MQTTS_PORT
            } else {
                MQTT_PORT
            }
        }
        Some(p) => p
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| SourceError::Port(p.to_owned()))?,
    };
    let topic = if topic.is_empty() {
        preset.default_topic().to_owned()
    } else {
        topic.to_owned()
    };
    Ok(Source::Mqtt(MqttSource {
        host: host.to_owned(),
        port,
        user: user.map(str::to_owned),
        topic,
        preset,
        tls,
        ca,
        allow_public,
    }))
}

fn parse_pulse(rest: &str, whole: &str) -> Result<Source, SourceError> {
    const VALID: &str = "imp_per_kwh=N, format=auto|byte|line|count, debounce_ms=N, baud=N";
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    if path.is_empty() {
        return Err(SourceError::MissingPath(whole.to_owned()));
    }
    let mut p = PulseSource {
        path: path.to_owned(),
        settings: SerialSettings::new(DEFAULT_PULSE_BAUD, 8, Parity::None, 1),
        imp_per_kwh: DEFAULT_IMP_PER_KWH,
        format: PulseFormat::Auto,
        debounce_ms: None,
    };
    for o in options(query, "pulse", VALID) {
        let (k, v) = o?;
        let bad = || bad_option(&format!("{k}={v}"), "pulse", VALID);
        match k {
            "imp_per_kwh" => {
                p.imp_per_kwh = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=hearth_meter::pulse::MAX_IMP_PER_KWH).contains(n))
                    .ok_or_else(bad)?
            }
            "format" => p.format = PulseFormat::from_name(v).ok_or_else(bad)?,
            "debounce_ms" => p.debounce_ms = Some(v.parse().map_err(|_| bad())?),
            "baud" => p.settings = v.parse()?,
            _ => return Err(bad()),
        }
    }
    Ok(Source::Pulse(p))
}

fn format_name(f: PulseFormat) -> &'static str {
    match f {
        PulseFormat::Auto => "auto",
        PulseFormat::Byte => "byte",
        PulseFormat::Line => "line",
        PulseFormat::Count => "count",
    }
}

impl fmt::Display for Source {
    /// The same text [`Source::from_str`] reads.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Serial { path, settings } => {
                write!(f, "serial:{path}:{}:{}", settings.baud, settings.frame())
            }
            Source::Tcp {
                host,
                port,
                allow_public,
            } => {
                write!(f, "tcp:{}", host_port(host, *port))?;
                if *allow_public {
                    f.write_str("?allow_public")?;
                }
                Ok(())
            }
            Source::HomeWizard(h) => {
                if h.port == HOMEWIZARD_PORT {
                    match h.host.contains(':') {
                        true => write!(f, "homewizard:[{}]", h.host)?,
                        false => write!(f, "homewizard:{}", h.host)?,
                    }
                } else {
                    write!(f, "homewizard:{}", host_port(&h.host, h.port))?;
                }
                if h.allow_public {
                    f.write_str("?allow_public")?;
                }
                Ok(())
            }
            Source::File { path, pace } => {
                write!(f, "file:{}", path.display())?;
                if *pace == Pace::Real {
                    f.write_str("?pace=recorded")?;
                }
                Ok(())
            }
            Source::Demo {
                seed,
                pace,
                start,
                count,
            } => {
                write!(f, "demo:{seed}")?;
                let mut sep = '?';
                if *pace == Pace::Fast {
                    write!(f, "{sep}pace=fast")?;
                    sep = '&';
                }
                if let Some(s) = start {
                    write!(f, "{sep}start={s}")?;
                    sep = '&';
                }
                if let Some(c) = count {
                    write!(f, "{sep}count={c}")?;
                }
                Ok(())
            }
            Source::Mqtt(m) => {
                f.write_str("mqtt://")?;
                if let Some(u) = &m.user {
                    write!(f, "{u}@")?;
                }
                write!(f, "{}/{}", host_port(&m.host, m.port), m.topic)?;
                let mut sep = '?';
                if m.preset != MqttPreset::Glow {
                    write!(f, "{sep}preset={}", m.preset.name())?;
                    sep = '&';
                }
                if let Some(ca) = &m.ca {
                    write!(f, "{sep}ca={}", ca.display())?;
                    sep = '&';
                } else if m.tls {
                    write!(f, "{sep}tls")?;
                    sep = '&';
                }
                if m.allow_public {
                    write!(f, "{sep}allow_public")?;
                }
                Ok(())
            }
            Source::Pulse(p) => {
                write!(
                    f,
                    "pulse:{}?imp_per_kwh={}&format={}",
                    p.path,
                    p.imp_per_kwh,
                    format_name(p.format)
                )?;
                if let Some(d) = p.debounce_ms {
                    write!(f, "&debounce_ms={d}")?;
                }
                if p.settings.baud != DEFAULT_PULSE_BAUD {
                    write!(f, "&baud={}", p.settings.baud)?;
                }
                Ok(())
            }
            Source::Iec62056(m) => {
                write!(
                    f,
                    "serial:{}?protocol=iec62056-21&mode={}",
                    m.path,
                    m.mode.letter()
                )?;
                if let Some(a) = &m.address {
                    write!(f, "&address={a}")?;
                }
                if m.interval_s != DEFAULT_IEC_INTERVAL_S {
                    write!(f, "&interval={}", m.interval_s)?;
                }
                if let Some(b) = m.baud {
                    write!(f, "&baud={b}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Parity;

    fn parse(s: &str) -> Result<Source, SourceError> {
        s.parse()
    }

    #[test]
    fn serial_forms() {
        assert_eq!(
            parse("serial:/dev/ttyUSB0"),
            Ok(Source::Serial {
                path: "/dev/ttyUSB0".into(),
                settings: SerialSettings::DSMR4
            })
        );
        assert_eq!(
            parse("serial:/dev/ttyUSB0:9600:7E1"),
            Ok(Source::Serial {
                path: "/dev/ttyUSB0".into(),
                settings: SerialSettings::new(9600, 7, Parity::Even, 1)
            })
        );
        assert_eq!(
            parse("serial:/dev/ttyAMA0:2400"),
            Ok(Source::Serial {
                path: "/dev/ttyAMA0".into(),
                settings: SerialSettings::new(2400, 8, Parity::None, 1)
            })
        );
        assert_eq!(
            parse("serial:"),
            Err(SourceError::MissingPath("serial:".into()))
        );
        assert_eq!(
            parse("serial:/dev/ttyUSB0:fast:8N1"),
            Err(SourceError::Settings(SettingsError::Baud("fast".into())))
        );
    }

    #[test]
    fn tcp_forms() {
        assert_eq!(
            parse("tcp:192.168.1.20:2001"),
            Ok(Source::Tcp {
                host: "192.168.1.20".into(),
                port: 2001,
                allow_public: false
            })
        );
        assert_eq!(
            parse("tcp:[fe80::1]:23?allow_public"),
            Ok(Source::Tcp {
                host: "fe80::1".into(),
                port: 23,
                allow_public: true
            })
        );
        assert_eq!(
            parse("tcp:p1dongle.local:8088"),
            Ok(Source::Tcp {
                host: "p1dongle.local".into(),
                port: 8088,
                allow_public: false
            })
        );
        assert_eq!(
            parse("tcp:host"),
            Err(SourceError::HostPort("tcp:host".into()))
        );
        assert_eq!(parse("tcp:host:0"), Err(SourceError::Port("0".into())));
        assert_eq!(
            parse("tcp:host:70000"),
            Err(SourceError::Port("70000".into()))
        );
        assert!(matches!(
            parse("tcp:host:23?open_sesame"),
            Err(SourceError::Option { kind: "tcp", .. })
        ));
    }

    #[test]
    fn homewizard_forms() {
        let hw = |host: &str, port, allow_public| {
            Ok(Source::HomeWizard(HomeWizardSource {
                host: host.into(),
                port,
                allow_public,
            }))
        };
        assert_eq!(
            parse("homewizard:192.168.1.50"),
            hw("192.168.1.50", 80, false)
        );
        assert_eq!(
            parse("homewizard:p1meter.local:8080"),
            hw("p1meter.local", 8080, false)
        );
        assert_eq!(parse("homewizard:[fe80::1]"), hw("fe80::1", 80, false));
        assert_eq!(
            parse("homewizard:[fd00::50]:81?allow_public"),
            hw("fd00::50", 81, true)
        );
        assert_eq!(
            parse("homewizard:8.8.8.8?allow_public=no"),
            hw("8.8.8.8", 80, false)
        );
        for bad in ["homewizard:", "homewizard:fd00::50", "homewizard:[fd00::50"] {
            assert_eq!(parse(bad), Err(SourceError::Host(bad.into())), "{bad}");
        }
        assert_eq!(
            parse("homewizard:host:0"),
            Err(SourceError::Port("0".into()))
        );
        assert!(matches!(
            parse("homewizard:host?token=ABC"),
            Err(SourceError::Option {
                kind: "homewizard",
                ..
            })
        ));
        assert_eq!(
            parse("homewizard:192.168.1.50").unwrap().describe(),
            "HomeWizard P1 meter 192.168.1.50:80"
        );
    }

    #[test]
    fn file_and_demo_forms() {
        assert_eq!(
            parse("file:/tmp/x.p1?pace=recorded"),
            Ok(Source::File {
                path: "/tmp/x.p1".into(),
                pace: Pace::Real
            })
        );
        assert_eq!(
            parse("file:x.p1"),
            Ok(Source::File {
                path: "x.p1".into(),
                pace: Pace::Fast
            })
        );
        assert!(matches!(
            parse("file:x.p1?pace=slow"),
            Err(SourceError::Option { kind: "file", .. })
        ));
        assert_eq!(parse("demo"), Ok(Source::demo(DEFAULT_DEMO_SEED)));
        assert_eq!(parse("demo:7"), Ok(Source::demo(7)));
        assert_eq!(
            parse("demo:7?pace=fast&start=1768478400&count=86400"),
            Ok(Source::Demo {
                seed: 7,
                pace: Pace::Fast,
                start: Some(1_768_478_400),
                count: Some(86_400)
            })
        );
        assert_eq!(parse("demo:x"), Err(SourceError::Seed("x".into())));
        assert_eq!(parse("modem:1"), Err(SourceError::Kind("modem:1".into())));
    }

    #[test]
    fn mqtt_forms() {
        assert_eq!(
            parse("mqtt://192.168.1.10/glow/+/SENSOR/+"),
            Ok(Source::Mqtt(MqttSource {
                host: "192.168.1.10".into(),
                port: 1883,
                user: None,
                topic: "glow/+/SENSOR/+".into(),
                preset: MqttPreset::Glow,
                tls: false,
                ca: None,
                allow_public: false,
            }))
        );
        assert_eq!(
            parse("mqtt://hearth@[fd00::5]:8884/tele/meter/SENSOR?preset=tasmota&ca=/etc/ca.pem"),
            Ok(Source::Mqtt(MqttSource {
                host: "fd00::5".into(),
                port: 8884,
                user: Some("hearth".into()),
                topic: "tele/meter/SENSOR".into(),
                preset: MqttPreset::Tasmota,
                tls: true,
                ca: Some("/etc/ca.pem".into()),
                allow_public: false,
            }))
        );
        // No topic: the preset's; TLS without a port: 8883.
        let Ok(Source::Mqtt(m)) = parse("mqtt://broker.lan?preset=esphome&tls&allow_public") else {
            panic!("not parsed")
        };
        assert_eq!(
            (m.topic.as_str(), m.port, m.tls, m.allow_public),
            ("+/sensor/+/state", 8883, true, true)
        );
        assert_eq!(
            parse("mqtt://user:hunter2@broker/glow/#"),
            Err(SourceError::PasswordInSource)
        );
        assert_eq!(
            parse("mqtt:///glow/#"),
            Err(SourceError::Broker("mqtt:///glow/#".into()))
        );
        assert_eq!(
            parse("mqtt://broker:0/x"),
            Err(SourceError::Port("0".into()))
        );
        assert!(matches!(
            parse("mqtt://broker/x?preset=zigbee"),
            Err(SourceError::Option { kind: "mqtt", .. })
        ));
        assert!(matches!(
            parse("mqtt://broker/x?websocket"),
            Err(SourceError::Option { kind: "mqtt", .. })
        ));
        // What is shown names the broker and topic, never the user.
        let shown = parse("mqtt://alice@192.168.1.10/glow/#")
            .unwrap()
            .describe();
        assert_eq!(shown, "MQTT broker 192.168.1.10:1883 (glow on glow/#)");
    }

    #[test]
    fn pulse_forms() {
        assert_eq!(
            parse("pulse:/dev/ttyUSB0"),
            Ok(Source::Pulse(PulseSource {
                path: "/dev/ttyUSB0".into(),
                settings: SerialSettings::new(9600, 8, Parity::None, 1),
                imp_per_kwh: 1000,
                format: PulseFormat::Auto,
                debounce_ms: None,
            }))
        );
        assert_eq!(
            parse("pulse:/dev/ttyACM0?imp_per_kwh=800&format=count&debounce_ms=20&baud=115200"),
            Ok(Source::Pulse(PulseSource {
                path: "/dev/ttyACM0".into(),
                settings: SerialSettings::new(115200, 8, Parity::None, 1),
                imp_per_kwh: 800,
                format: PulseFormat::Count,
                debounce_ms: Some(20),
            }))
        );
        for bad in [
            "pulse:/dev/ttyUSB0?imp_per_kwh=0",
            "pulse:/dev/ttyUSB0?imp_per_kwh=100001",
            "pulse:/dev/ttyUSB0?format=morse",
            "pulse:/dev/ttyUSB0?debounce_ms=-1",
            "pulse:/dev/ttyUSB0?colour=red",
        ] {
            assert!(
                matches!(parse(bad), Err(SourceError::Option { kind: "pulse", .. })),
                "{bad}"
            );
        }
        assert_eq!(
            parse("pulse:?imp_per_kwh=1000"),
            Err(SourceError::MissingPath("pulse:?imp_per_kwh=1000".into()))
        );
    }

    #[test]
    fn iec62056_21_forms() {
        assert_eq!(
            parse("serial:/dev/ttyUSB0?protocol=iec62056-21"),
            Ok(Source::Iec62056(IecSource {
                path: "/dev/ttyUSB0".into(),
                mode: IecMode::C,
                address: None,
                interval_s: 10,
                baud: None,
            }))
        );
        assert_eq!(
            parse(
                "serial:/dev/ttyUSB0?protocol=iec62056-21&mode=a&address=12345678&interval=60&baud=2400"
            ),
            Ok(Source::Iec62056(IecSource {
                path: "/dev/ttyUSB0".into(),
                mode: IecMode::A,
                address: Some("12345678".into()),
                interval_s: 60,
                baud: Some(2400),
            }))
        );
        let Ok(Source::Iec62056(d)) = parse("serial:/dev/ttyAMA0?mode=D&protocol=IEC62056-21")
        else {
            panic!("not parsed")
        };
        assert_eq!(d.mode, IecMode::D);
        assert_eq!(
            d.start_settings(),
            SerialSettings::new(2400, 7, Parity::Even, 1)
        );
        assert_eq!(
            IecSource::sign_on("/dev/x").start_settings(),
            SerialSettings::IEC_START
        );
        // The sign-on request of IEC 62056-21 §6.3, with and without a device address.
        assert_eq!(IecSource::sign_on("/dev/x").sign_on_request(), b"/?!\r\n");
        let Ok(Source::Iec62056(a)) = parse("serial:/dev/x?protocol=iec62056-21&address=42") else {
            panic!("not parsed")
        };
        assert_eq!(a.sign_on_request(), b"/?42!\r\n");
        for bad in [
            "serial:/dev/ttyUSB0?mode=c",
            "serial:/dev/ttyUSB0?protocol=dsmr",
            "serial:/dev/ttyUSB0?protocol=iec62056-21&mode=e",
            "serial:/dev/ttyUSB0?protocol=iec62056-21&interval=0",
            "serial:/dev/ttyUSB0?protocol=iec62056-21&interval=ten",
            "serial:/dev/ttyUSB0?protocol=iec62056-21&baud=115200",
            "serial:/dev/ttyUSB0?protocol=iec62056-21&address=a!b",
            "serial:/dev/ttyUSB0?protocol=iec62056-21&address=",
            "serial:/dev/ttyUSB0?protocol=iec62056-21&address=123456789012345678901234567890123",
            "serial:/dev/ttyUSB0:9600:7E1?protocol=iec62056-21",
            "serial:/dev/ttyUSB0?protocol=iec62056-21&colour=red",
        ] {
            assert!(
                matches!(parse(bad), Err(SourceError::Option { kind: "serial", .. })),
                "{bad}: {:?}",
                parse(bad)
            );
        }
        assert_eq!(
            parse("serial:?protocol=iec62056-21"),
            Err(SourceError::MissingPath(
                "serial:?protocol=iec62056-21".into()
            ))
        );
        assert_eq!(
            parse("serial:/dev/ttyUSB0?protocol=iec62056-21")
                .unwrap()
                .describe(),
            "IEC 62056-21 meter on /dev/ttyUSB0 (mode C, a readout every 10 s)"
        );
        assert_eq!(
            parse("serial:/dev/ttyUSB0?protocol=iec62056-21&mode=d&baud=9600")
                .unwrap()
                .describe(),
            "IEC 62056-21 meter on /dev/ttyUSB0 (mode D, 9600 7E1)"
        );
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "serial:/dev/ttyUSB0:115200:8N1",
            "serial:/dev/serial/by-id/usb-FTDI:9600:7E1",
            "tcp:192.168.1.20:2001",
            "tcp:[fd00::5]:23?allow_public",
            "homewizard:192.168.1.50",
            "homewizard:p1meter.local:8080",
            "homewizard:[fd00::50]?allow_public",
            "homewizard:[fd00::50]:81",
            "file:/tmp/a.p1",
            "file:/tmp/a.p1?pace=recorded",
            "demo:42",
            "demo:42?pace=fast&start=100&count=5",
            "mqtt://192.168.1.10:1883/glow/+/SENSOR/+",
            "mqtt://hearth@[fd00::5]:8883/tele/+/SENSOR?preset=tasmota&tls&allow_public",
            "mqtt://broker.lan:8883/+/sensor/+/state?preset=esphome&ca=/etc/ca.pem",
            "pulse:/dev/ttyUSB0?imp_per_kwh=1000&format=auto",
            "pulse:/dev/ttyACM0?imp_per_kwh=800&format=count&debounce_ms=20&baud=115200",
            "serial:/dev/ttyUSB0?protocol=iec62056-21&mode=c",
            "serial:/dev/ttyUSB0?protocol=iec62056-21&mode=a&address=0042&interval=60&baud=2400",
            "serial:/dev/ttyAMA0?protocol=iec62056-21&mode=d&baud=9600",
        ] {
            assert_eq!(parse(s).unwrap().to_string(), s);
        }
    }
}
