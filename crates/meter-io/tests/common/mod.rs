//! Test helpers shared by the integration tests: an independent DSMR telegram reader (bitwise
//! CRC, line splitter) to check the simulator's bytes, and a small DSMR decoder implementing
//! `hearth_meter::Decoder` so the reader can be tested on its own.
#![allow(dead_code)] // Each test binary uses a different part of this module.

use hearth_meter::{Decoded, Decoder, MeterTime, Protocol, Quantity, Reading};
use hearth_meter::{RejectReason, Rejection, Stats};
use std::collections::HashMap;

/// CRC-16/ARC bit by bit (poly 0x8005 reflected = 0xA001, init 0), written independently of the
/// crate's table-driven version.
pub fn crc16_arc_bitwise(bytes: &[u8]) -> u16 {
    let mut crc = 0u16;
    for &b in bytes {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
        }
    }
    crc
}

/// A telegram split into its header and `OBIS -> [values]`.
#[derive(Debug)]
pub struct Telegram {
    pub header: String,
    pub lines: HashMap<String, Vec<String>>,
}

/// Checks framing and CRC of one complete telegram and splits its lines.
pub fn parse(t: &[u8]) -> Result<Telegram, String> {
    let text = std::str::from_utf8(t).map_err(|e| e.to_string())?;
    if !text.starts_with('/') {
        return Err("no / at start".into());
    }
    let bang = text.rfind('!').ok_or("no !")?;
    let tail = &text[bang + 1..];
    if tail.len() != 6 || !tail.ends_with("\r\n") {
        return Err(format!("bad tail {tail:?}"));
    }
    let crc = u16::from_str_radix(&tail[..4], 16).map_err(|e| e.to_string())?;
    let computed = crc16_arc_bitwise(&t[..=bang]);
    if crc != computed {
        return Err(format!("CRC {crc:04X} but computed {computed:04X}"));
    }
    let body = &text[..bang];
    let mut it = body.split("\r\n");
    let header = it.next().unwrap_or_default().to_owned();
    let mut lines = HashMap::new();
    for line in it {
        if line.is_empty() {
            continue;
        }
        if line.contains('\n') || line.contains('\r') {
            return Err(format!("bare CR or LF in {line:?}"));
        }
        let open = line.find('(').ok_or_else(|| format!("no ( in {line:?}"))?;
        let obis = line[..open].to_owned();
        let values: Vec<String> = line[open + 1..line.len() - 1]
            .split(")(")
            .map(str::to_owned)
            .collect();
        if !line.ends_with(')') {
            return Err(format!("no ) at end of {line:?}"));
        }
        lines.insert(obis, values);
    }
    Ok(Telegram { header, lines })
}

impl Telegram {
    pub fn value(&self, obis: &str) -> &str {
        self.values(obis)[0].as_str()
    }

    pub fn values(&self, obis: &str) -> &[String] {
        self.lines
            .get(obis)
            .unwrap_or_else(|| panic!("{obis} missing"))
    }

    /// `000123.456*kWh` -> 123456 (the digits without the point, unit dropped).
    pub fn fixed(&self, obis: &str) -> i64 {
        fixed(self.value(obis))
    }

    pub fn time(&self) -> MeterTime {
        MeterTime::from_dsmr(self.value("0-0:1.0.0").as_bytes()).expect("telegram time")
    }
}

pub fn fixed(v: &str) -> i64 {
    let number = v.split('*').next().unwrap_or_default().replace('.', "");
    number
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {v}"))
}

/// A small DSMR decoder for reader tests: frames `/`..`!CRC\r\n`, checks the CRC, and reads
/// the time and `1-0:1.7.0`. Rejections: `Checksum`, `Oversized` (no `!` within 8 KiB).
#[derive(Default)]
pub struct TestDecoder {
    buf: Vec<u8>,
    stats: Stats,
    out: std::collections::VecDeque<Result<Decoded, Rejection>>,
}

impl Decoder for TestDecoder {
    fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        loop {
            let Some(start) = self.buf.iter().position(|&b| b == b'/') else {
                self.stats.skipped_bytes += self.buf.len() as u64;
                self.buf.clear();
                return;
            };
            if start > 0 {
                self.stats.skipped_bytes += start as u64;
                self.buf.drain(..start);
            }
            let Some(bang) = self.buf.iter().position(|&b| b == b'!') else {
                if self.buf.len() > 8192 {
                    self.buf.clear();
                    self.stats.count_rejection(RejectReason::Oversized);
                    self.out.push_back(Err(Rejection {
                        reason: RejectReason::Oversized,
                        detail: "no end".into(),
                    }));
                }
                return;
            };
            if self.buf.len() < bang + 7 {
                return;
            }
            let frame: Vec<u8> = self.buf.drain(..bang + 7).collect();
            match parse(&frame) {
                Ok(t) => {
                    let mut r = Reading::new(Protocol::Dsmr);
                    r.time = Some(t.time());
                    r.set(Quantity::ImportW, t.fixed("1-0:1.7.0"));
                    r.set(Quantity::ImportT1Wh, t.fixed("1-0:1.8.1"));
                    r.set(Quantity::ImportT2Wh, t.fixed("1-0:1.8.2"));
                    self.stats.accepted += 1;
                    self.out.push_back(Ok(Decoded {
                        reading: r,
                        diagnostics: Vec::new(),
                    }));
                }
                Err(e) => {
                    self.stats.count_rejection(RejectReason::Checksum);
                    self.out.push_back(Err(Rejection {
                        reason: RejectReason::Checksum,
                        detail: e,
                    }));
                }
            }
        }
    }

    fn next(&mut self) -> Option<Result<Decoded, Rejection>> {
        self.out.pop_front()
    }

    fn stats(&self) -> &Stats {
        &self.stats
    }
}
