//! Finding the meter: list the serial ports (with USB vendor, product and names where the
//! system knows them), and probe them with each setting meters use until a frame passes its
//! checks ([`probe_ports`]: every port at once, with progress events; see [`probe`] for the
//! order and the windows). The ports are opened through [`Ports`], so tests can probe fakes.
//!
//! Meters on a P1, HAN or SML port push data on their own, so probing mostly listens. A port
//! that stays completely silent at the first setting is silent at every push setting (the baud
//! rate does not make a meter talk), so those are skipped; only the IEC 62056-21 optical
//! readout, which answers a request, is still tried: at 300 baud 7E1 the probe sends the
//! standard sign-on `/?!` CR LF and listens for the meter's identification line. (The probe
//! stops there: it does not acknowledge or change speed, so the meter drops back to waiting.)
//! [`Found::source`] turns what was found into the [`Source`] to read it with: for a meter that
//! answered the sign-on, the reader's sign-on conversation
//! (`serial:PATH?protocol=iec62056-21&mode=c`), which asks for a readout every 10 s.
//!
//! Detection is blocking (it runs once, in a setup step); call it from a blocking thread in an
//! async program.

mod line;
mod probe;

pub use line::{Holder, Line, OpenFailure, Ports, SerialPorts, holder, holder_named, open_failure};
pub use probe::{
    Capture, Evidence, Meter, Plan, PortProblem, PortReport, ProbeEvent, probe_port, probe_ports,
};

use crate::settings::SerialSettings;
use crate::source::{IecSource, Source};
use hearth_meter::auto::Detected;
use serialport::SerialPortType;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// What kind of port a device is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PortKind {
    /// A USB serial adapter (most P1 and HAN cables, optical heads).
    Usb {
        /// USB vendor id.
        vid: u16,
        /// USB product id.
        pid: u16,
        /// Manufacturer name, if the device reports one.
        manufacturer: Option<String>,
        /// Product name, if the device reports one.
        product: Option<String>,
    },
    /// A port on the PCI bus (a built-in UART).
    Pci,
    /// A Bluetooth serial link.
    Bluetooth,
    /// Anything else (a Raspberry Pi's GPIO UART, a virtual port).
    Other,
}

/// A serial port found on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortInfo {
    /// Device path, e.g. `/dev/ttyUSB0`.
    pub path: String,
    /// What it is.
    pub kind: PortKind,
}

impl PortInfo {
    /// A one-line description: `USB 0403:6001 FTDI FT232R USB UART`, `built-in (PCI)`, ...
    pub fn description(&self) -> String {
        match &self.kind {
            PortKind::Usb {
                vid,
                pid,
                manufacturer,
                product,
            } => {
                let mut s = format!("USB {vid:04x}:{pid:04x}");
                for name in [manufacturer, product].into_iter().flatten() {
                    s.push(' ');
                    s.push_str(name);
                }
                s
            }
            PortKind::Pci => "built-in (PCI)".to_owned(),
            PortKind::Bluetooth => "Bluetooth".to_owned(),
            PortKind::Other => "serial port".to_owned(),
        }
    }
}

/// Why detection could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DetectError {
    /// The system's port list could not be read.
    #[error("could not list serial ports: {0}")]
    List(String),
}

/// The serial ports on this machine, USB adapters first, then by path.
pub fn list_ports() -> Result<Vec<PortInfo>, DetectError> {
    let ports = serialport::available_ports().map_err(|e| DetectError::List(e.to_string()))?;
    let mut list: Vec<PortInfo> = ports
        .into_iter()
        .map(|p| PortInfo {
            path: p.port_name,
            kind: match p.port_type {
                SerialPortType::UsbPort(u) => PortKind::Usb {
                    vid: u.vid,
                    pid: u.pid,
                    manufacturer: u.manufacturer,
                    product: u.product,
                },
                SerialPortType::PciPort => PortKind::Pci,
                SerialPortType::BluetoothPort => PortKind::Bluetooth,
                SerialPortType::Unknown => PortKind::Other,
            },
        })
        .collect();
    list.sort_by_key(|p| (!matches!(p.kind, PortKind::Usb { .. }), p.path.clone()));
    Ok(list)
}

/// A protocol recognised on a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// The settings it was heard at.
    pub settings: SerialSettings,
    /// What was recognised (DSMR, encrypted Smarty, DLMS, SML, IEC 62056-21, RAVEn).
    pub detected: Detected,
}

impl Found {
    /// The source that reads what was found on `path`: the sign-on conversation for an
    /// IEC 62056-21 meter that answered the sign-on at 300 baud, the port at the settings it
    /// was heard at for every meter that pushes (DSMR, HAN, SML, IEC 62056-21 mode D, RAVEn).
    pub fn source(&self, path: &str) -> Source {
        if self.detected == Detected::Iec62056_21 && self.settings == SerialSettings::IEC_START {
            Source::Iec62056(IecSource::sign_on(path))
        } else {
            Source::Serial {
                path: path.to_owned(),
                settings: self.settings,
            }
        }
    }
}

/// One setting tried on a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The setting.
    pub settings: SerialSettings,
    /// Bytes received while listening.
    pub bytes: usize,
    /// What was found, if anything (a frame that passed its checks, an encrypted frame, or
    /// an IEC 62056-21 identification).
    pub detected: Option<Detected>,
    /// Why the attempt could not listen (the port could not be opened or read).
    pub error: Option<String>,
    /// A protocol whose start was seen in the bytes, whether or not a frame passed.
    pub sniffed: Option<Detected>,
    /// Frames rejected at this setting (checksum, framing).
    pub rejected: u64,
}

/// What probing one port found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The port.
    pub path: String,
    /// The protocol and settings, when recognised.
    pub found: Option<Found>,
    /// Every setting tried, in order.
    pub attempts: Vec<Attempt>,
}

impl Probe {
    /// A one-line verdict: `dsmr at 115200 8N1`, `nothing heard`, `unrecognised bytes`, or
    /// the error that stopped the probe.
    pub fn verdict(&self) -> String {
        if let Some(f) = &self.found {
            return format!("{} at {}", detected_name(f.detected), f.settings);
        }
        if let Some(e) = self.attempts.iter().find_map(|a| a.error.as_ref()) {
            return e.clone();
        }
        if self.attempts.iter().any(|a| a.bytes > 0) {
            "bytes heard but no protocol recognised".to_owned()
        } else {
            "nothing heard".to_owned()
        }
    }
}

/// A short name for what was detected (`dsmr`, `dsmr (encrypted)`, `dlms`, ...).
pub fn detected_name(d: Detected) -> &'static str {
    match d {
        Detected::Smarty => "dsmr (encrypted)",
        other => other.protocol().name(),
    }
}

/// Probes `path` with each of [`SerialSettings::COMMON`], listening `per_setting` at each,
/// and stops at the first setting where a frame passes its checks. (The wizard's probe,
/// with a long first window and early ends at wrong settings, is [`probe_ports`].)
pub fn probe(path: &str, per_setting: Duration) -> Probe {
    probe_with(path, &SerialSettings::COMMON, per_setting)
}

/// Like [`probe`] with a chosen list of settings.
pub fn probe_with(path: &str, settings: &[SerialSettings], per_setting: Duration) -> Probe {
    let plan = Plan {
        settings: settings.to_vec(),
        window: per_setting,
        sign_on_window: per_setting,
        wrong_after_bursts: 0,
        burst_grace: Duration::ZERO,
        ..Plan::default()
    };
    let report = probe_port(path, &SerialPorts, &plan, &AtomicBool::new(false), &|_| {});
    Probe {
        path: report.path,
        found: report.result.ok().map(|m| Found {
            settings: m.settings,
            detected: m.detected,
        }),
        attempts: report.attempts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions() {
        let usb = PortInfo {
            path: "/dev/ttyUSB0".into(),
            kind: PortKind::Usb {
                vid: 0x0403,
                pid: 0x6001,
                manufacturer: Some("FTDI".into()),
                product: Some("FT232R USB UART".into()),
            },
        };
        assert_eq!(usb.description(), "USB 0403:6001 FTDI FT232R USB UART");
        let probe = Probe {
            path: "/dev/ttyUSB0".into(),
            found: Some(Found {
                settings: SerialSettings::DSMR2,
                detected: Detected::Dsmr,
            }),
            attempts: Vec::new(),
        };
        assert_eq!(probe.verdict(), "dsmr at 9600 7E1");
    }

    #[test]
    fn a_missing_port_is_an_error_not_a_panic() {
        let p = probe("/dev/hearth-no-such-port", Duration::from_millis(50));
        assert_eq!(p.found, None);
        assert_eq!(p.attempts.len(), 1);
        assert_eq!(
            p.verdict(),
            "/dev/hearth-no-such-port is not there: is the meter cable plugged in?"
        );
    }
}
