//! Finding the meter: list the serial ports (with USB vendor, product and names where the
//! system knows them), and probe a port with each setting meters use until the bytes that come
//! in are recognised as a protocol ([`hearth_meter::auto::sniff`]).
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

use crate::settings::SerialSettings;
use crate::source::{IecSource, Source};
use hearth_meter::auto::{Detected, Sniff, sniff};
use serialport::SerialPortType;
use std::io::{Read as _, Write as _};
use std::time::{Duration, Instant};

/// Bytes kept per attempt for sniffing.
const SNIFF_WINDOW: usize = 16 * 1024;

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
    /// What was recognised, if anything.
    pub detected: Option<Detected>,
    /// Why the attempt could not listen (the port could not be opened or read).
    pub error: Option<String>,
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

/// Probes `path` with each of [`SerialSettings::COMMON`], listening up to `per_setting` for
/// each, and stops at the first setting whose bytes are recognised.
pub fn probe(path: &str, per_setting: Duration) -> Probe {
    probe_with(path, &SerialSettings::COMMON, per_setting)
}

/// Like [`probe`] with a chosen list of settings.
pub fn probe_with(path: &str, settings: &[SerialSettings], per_setting: Duration) -> Probe {
    let mut probe = Probe {
        path: path.to_owned(),
        found: None,
        attempts: Vec::new(),
    };
    let mut silent = false;
    for &s in settings {
        let asks = s == SerialSettings::IEC_START;
        if silent && !asks {
            continue;
        }
        let attempt = listen(path, s, per_setting);
        let fatal = attempt.error.is_some();
        silent |= attempt.bytes == 0 && !asks && !fatal;
        if let Some(detected) = attempt.detected {
            probe.found = Some(Found {
                settings: s,
                detected,
            });
        }
        probe.attempts.push(attempt);
        if probe.found.is_some() || fatal {
            break;
        }
    }
    probe
}

/// Opens `path` at `settings` and listens until a protocol is recognised or `window` passes.
fn listen(path: &str, settings: SerialSettings, window: Duration) -> Attempt {
    let mut attempt = Attempt {
        settings,
        bytes: 0,
        detected: None,
        error: None,
    };
    let mut port = match settings
        .builder(path)
        .timeout(Duration::from_millis(100))
        .open()
    {
        Ok(p) => p,
        Err(e) => {
            attempt.error = Some(port_error(path, &e));
            return attempt;
        }
    };
    if settings == SerialSettings::IEC_START {
        // IEC 62056-21 sign-on: request the identification of any meter on the line.
        let _ = port.write_all(b"/?!\r\n");
        let _ = port.flush();
    }
    let deadline = Instant::now() + window;
    let mut seen: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = [0u8; 1024];
    while Instant::now() < deadline {
        match port.read(&mut chunk) {
            Ok(0) => std::thread::sleep(Duration::from_millis(20)),
            Ok(n) => {
                attempt.bytes += n;
                seen.extend_from_slice(&chunk[..n]);
                if seen.len() > SNIFF_WINDOW {
                    let cut = seen.len() - SNIFF_WINDOW;
                    seen.drain(..cut);
                }
                match sniff(&seen) {
                    Sniff::Found { detected, .. } => {
                        attempt.detected = Some(detected);
                        break;
                    }
                    Sniff::NeedMore { .. } | Sniff::Unknown => {}
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                attempt.error = Some(format!("{path} stopped answering: {e}"));
                break;
            }
        }
    }
    // An IEC 62056-21 meter answers the sign-on with its identification line only.
    if attempt.detected.is_none()
        && settings == SerialSettings::IEC_START
        && let Some(line) = seen.split(|&b| b == b'\n').next()
        && seen.contains(&b'\n')
        && is_iec_identification(line)
    {
        attempt.detected = Some(Detected::Iec62056_21);
    }
    attempt
}

/// `/XXXZident` CR: `/`, three maker characters, a baud-rate character, an identification.
fn is_iec_identification(line: &[u8]) -> bool {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line.len() >= 6
        && line.len() <= 40
        && line[0] == b'/'
        && line[1..4].iter().all(u8::is_ascii_alphabetic)
        && line[4].is_ascii_alphanumeric()
        && line[5..].iter().all(|b| b.is_ascii_graphic() || *b == b' ')
}

fn port_error(path: &str, e: &serialport::Error) -> String {
    match e.kind() {
        serialport::ErrorKind::NoDevice
        | serialport::ErrorKind::Io(std::io::ErrorKind::NotFound) => {
            format!("{path} is not there")
        }
        serialport::ErrorKind::Io(std::io::ErrorKind::PermissionDenied) => format!(
            "no permission to open {path} (add your user to the 'dialout' group and log in again)"
        ),
        _ => format!("cannot open {path}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iec_identification_lines() {
        assert!(is_iec_identification(b"/ISK5ME162-0033\r"));
        assert!(is_iec_identification(b"/LGZ4ZMD3104100.B23"));
        assert!(!is_iec_identification(b"/?!\r"));
        assert!(!is_iec_identification(b"1-0:1.8.0(000123.456*kWh)"));
        assert!(!is_iec_identification(b"/A\x80CD5xyz"));
    }

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
        assert_eq!(p.verdict(), "/dev/hearth-no-such-port is not there");
    }
}
