//! Serial line settings (`115200:8N1`, `9600:7E1`, ...) and the ones smart meters use.

use std::fmt;
use std::str::FromStr;

/// Parity bit of a serial frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Parity {
    /// No parity bit (`N`).
    None,
    /// Even parity (`E`).
    Even,
    /// Odd parity (`O`).
    Odd,
}

/// Baud rate and character frame of a serial line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SerialSettings {
    /// Bits per second.
    pub baud: u32,
    /// Data bits per character (5-8).
    pub data_bits: u8,
    /// Parity bit.
    pub parity: Parity,
    /// Stop bits (1 or 2).
    pub stop_bits: u8,
}

impl SerialSettings {
    /// DSMR 4 and 5, eMUCS, Smarty, most HAN ports: 115200 baud, 8N1.
    pub const DSMR4: SerialSettings = SerialSettings::new(115_200, 8, Parity::None, 1);
    /// DSMR 2.2 and 3: 9600 baud, 7E1.
    pub const DSMR2: SerialSettings = SerialSettings::new(9_600, 7, Parity::Even, 1);
    /// Norwegian and Swedish HAN (M-Bus) ports: 2400 baud, 8E1.
    pub const HAN_MBUS: SerialSettings = SerialSettings::new(2_400, 8, Parity::Even, 1);
    /// SML optical heads and some HAN adapters: 9600 baud, 8N1.
    pub const SML: SerialSettings = SerialSettings::new(9_600, 8, Parity::None, 1);
    /// IEC 62056-21 optical readout, start of the exchange: 300 baud, 7E1.
    pub const IEC_START: SerialSettings = SerialSettings::new(300, 7, Parity::Even, 1);

    /// The settings detection tries, most common first.
    pub const COMMON: [SerialSettings; 5] = [
        SerialSettings::DSMR4,
        SerialSettings::DSMR2,
        SerialSettings::HAN_MBUS,
        SerialSettings::SML,
        SerialSettings::IEC_START,
    ];

    /// Settings from their parts.
    pub const fn new(baud: u32, data_bits: u8, parity: Parity, stop_bits: u8) -> Self {
        SerialSettings {
            baud,
            data_bits,
            parity,
            stop_bits,
        }
    }

    /// The character frame alone, e.g. `8N1`.
    pub fn frame(&self) -> String {
        let p = match self.parity {
            Parity::None => 'N',
            Parity::Even => 'E',
            Parity::Odd => 'O',
        };
        format!("{}{}{}", self.data_bits, p, self.stop_bits)
    }

    /// Reads a character frame such as `8N1` or `7e1`.
    pub fn parse_frame(frame: &str) -> Result<(u8, Parity, u8), SettingsError> {
        let b = frame.as_bytes();
        let bad = || SettingsError::Frame(frame.to_owned());
        if b.len() != 3 {
            return Err(bad());
        }
        let data_bits = match b[0] {
            b'5'..=b'8' => b[0] - b'0',
            _ => return Err(bad()),
        };
        let parity = match b[1].to_ascii_uppercase() {
            b'N' => Parity::None,
            b'E' => Parity::Even,
            b'O' => Parity::Odd,
            _ => return Err(bad()),
        };
        let stop_bits = match b[2] {
            b'1' => 1,
            b'2' => 2,
            _ => return Err(bad()),
        };
        Ok((data_bits, parity, stop_bits))
    }

    pub(crate) fn data_bits_sp(&self) -> serialport::DataBits {
        match self.data_bits {
            5 => serialport::DataBits::Five,
            6 => serialport::DataBits::Six,
            7 => serialport::DataBits::Seven,
            _ => serialport::DataBits::Eight,
        }
    }

    pub(crate) fn parity_sp(&self) -> serialport::Parity {
        match self.parity {
            Parity::None => serialport::Parity::None,
            Parity::Even => serialport::Parity::Even,
            Parity::Odd => serialport::Parity::Odd,
        }
    }

    pub(crate) fn stop_bits_sp(&self) -> serialport::StopBits {
        if self.stop_bits == 2 {
            serialport::StopBits::Two
        } else {
            serialport::StopBits::One
        }
    }

    /// A `serialport` builder for `path` with these settings.
    pub(crate) fn builder(&self, path: &str) -> serialport::SerialPortBuilder {
        serialport::new(path, self.baud)
            .data_bits(self.data_bits_sp())
            .parity(self.parity_sp())
            .stop_bits(self.stop_bits_sp())
            .flow_control(serialport::FlowControl::None)
    }
}

impl Default for SerialSettings {
    fn default() -> Self {
        SerialSettings::DSMR4
    }
}

/// Why serial settings could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// The baud rate is not a positive whole number.
    #[error("'{0}' is not a baud rate (try 115200 or 9600)")]
    Baud(String),
    /// The character frame is not like `8N1`.
    #[error("'{0}' is not a character frame (try 8N1 or 7E1: data bits, parity N/E/O, stop bits)")]
    Frame(String),
}

impl FromStr for SerialSettings {
    type Err = SettingsError;

    /// Reads `BAUD` (8N1 implied) or `BAUD:FRAME`, e.g. `9600:7E1`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (baud, frame) = match s.split_once(':') {
            Some((b, f)) => (b, Some(f)),
            None => (s, None),
        };
        let baud: u32 = baud
            .parse()
            .ok()
            .filter(|b| *b > 0)
            .ok_or_else(|| SettingsError::Baud(baud.to_owned()))?;
        let (data_bits, parity, stop_bits) = match frame {
            Some(f) => SerialSettings::parse_frame(f)?,
            None => (8, Parity::None, 1),
        };
        Ok(SerialSettings::new(baud, data_bits, parity, stop_bits))
    }
}

impl fmt::Display for SerialSettings {
    /// `115200 8N1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.baud, self.frame())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let s: SerialSettings = "9600:7E1".parse().unwrap();
        assert_eq!(s, SerialSettings::DSMR2);
        assert_eq!(s.to_string(), "9600 7E1");
        assert_eq!(
            "115200".parse::<SerialSettings>().unwrap(),
            SerialSettings::DSMR4
        );
        assert_eq!(
            "2400:8e1".parse::<SerialSettings>().unwrap(),
            SerialSettings::HAN_MBUS
        );
    }

    #[test]
    fn rejects_nonsense_with_a_reason() {
        assert_eq!(
            "fast".parse::<SerialSettings>(),
            Err(SettingsError::Baud("fast".into()))
        );
        assert_eq!(
            "0".parse::<SerialSettings>(),
            Err(SettingsError::Baud("0".into()))
        );
        assert_eq!(
            "9600:9N1".parse::<SerialSettings>(),
            Err(SettingsError::Frame("9N1".into()))
        );
        assert_eq!(
            "9600:8X1".parse::<SerialSettings>(),
            Err(SettingsError::Frame("8X1".into()))
        );
        assert_eq!(
            "9600:8N".parse::<SerialSettings>(),
            Err(SettingsError::Frame("8N".into()))
        );
    }
}
