//! Reads the lines of one DSMR telegram (OBIS code, values in parentheses) into a [`Reading`].
//!
//! Parsing never fails as a whole: a line that cannot be read becomes a [`Diagnostic`] and
//! the rest of the telegram is kept. Codes Hearth has no field for (text messages, the
//! power-failure log, breaker state, ...) are skipped silently. Numbers are read as decimal
//! text straight into integers in the stored unit (Wh, W, dV, mA, dm³, MJ): no floats.

use crate::decoder::{Decoded, Diagnostic};
use crate::reading::{MeterId, Protocol, Quantity, Reading};
use crate::time::MeterTime;

/// An OBIS code `A-B:C.D.E` packed into an integer for fast matching.
const fn obis(a: u8, b: u8, c: u8, d: u8, e: u8) -> u64 {
    (a as u64) << 32 | (b as u64) << 24 | (c as u64) << 16 | (d as u64) << 8 | e as u64
}

// OBIS codes matched below, as packed integers (`O_A_B_C_D_E`).
const O_0_0_1_0_0: u64 = obis(0, 0, 1, 0, 0);
const O_0_0_24_1_0: u64 = obis(0, 0, 24, 1, 0);
const O_0_0_24_2_1: u64 = obis(0, 0, 24, 2, 1);
const O_0_0_24_2_3: u64 = obis(0, 0, 24, 2, 3);
const O_0_0_24_3_0: u64 = obis(0, 0, 24, 3, 0);
const O_0_0_96_14_0: u64 = obis(0, 0, 96, 14, 0);
const O_0_0_96_1_0: u64 = obis(0, 0, 96, 1, 0);
const O_0_0_96_1_1: u64 = obis(0, 0, 96, 1, 1);
const O_0_0_96_1_255: u64 = obis(0, 0, 96, 1, 255);
const O_0_0_96_1_4: u64 = obis(0, 0, 96, 1, 4);
const O_0_0_96_7_21: u64 = obis(0, 0, 96, 7, 21);
const O_0_0_96_7_9: u64 = obis(0, 0, 96, 7, 9);
const O_1_0_0_0_0: u64 = obis(1, 0, 0, 0, 0);
const O_1_0_13_7_0: u64 = obis(1, 0, 13, 7, 0);
const O_1_0_1_4_0: u64 = obis(1, 0, 1, 4, 0);
const O_1_0_1_6_0: u64 = obis(1, 0, 1, 6, 0);
const O_1_0_1_7_0: u64 = obis(1, 0, 1, 7, 0);
const O_1_0_1_8_0: u64 = obis(1, 0, 1, 8, 0);
const O_1_0_1_8_1: u64 = obis(1, 0, 1, 8, 1);
const O_1_0_1_8_2: u64 = obis(1, 0, 1, 8, 2);
const O_1_0_21_7_0: u64 = obis(1, 0, 21, 7, 0);
const O_1_0_22_7_0: u64 = obis(1, 0, 22, 7, 0);
const O_1_0_2_7_0: u64 = obis(1, 0, 2, 7, 0);
const O_1_0_2_8_0: u64 = obis(1, 0, 2, 8, 0);
const O_1_0_2_8_1: u64 = obis(1, 0, 2, 8, 1);
const O_1_0_2_8_2: u64 = obis(1, 0, 2, 8, 2);
const O_1_0_31_7_0: u64 = obis(1, 0, 31, 7, 0);
const O_1_0_32_32_0: u64 = obis(1, 0, 32, 32, 0);
const O_1_0_32_36_0: u64 = obis(1, 0, 32, 36, 0);
const O_1_0_32_7_0: u64 = obis(1, 0, 32, 7, 0);
const O_1_0_3_7_0: u64 = obis(1, 0, 3, 7, 0);
const O_1_0_3_8_0: u64 = obis(1, 0, 3, 8, 0);
const O_1_0_41_7_0: u64 = obis(1, 0, 41, 7, 0);
const O_1_0_42_7_0: u64 = obis(1, 0, 42, 7, 0);
const O_1_0_4_7_0: u64 = obis(1, 0, 4, 7, 0);
const O_1_0_4_8_0: u64 = obis(1, 0, 4, 8, 0);
const O_1_0_51_7_0: u64 = obis(1, 0, 51, 7, 0);
const O_1_0_52_32_0: u64 = obis(1, 0, 52, 32, 0);
const O_1_0_52_36_0: u64 = obis(1, 0, 52, 36, 0);
const O_1_0_52_7_0: u64 = obis(1, 0, 52, 7, 0);
const O_1_0_61_7_0: u64 = obis(1, 0, 61, 7, 0);
const O_1_0_62_7_0: u64 = obis(1, 0, 62, 7, 0);
const O_1_0_71_7_0: u64 = obis(1, 0, 71, 7, 0);
const O_1_0_72_32_0: u64 = obis(1, 0, 72, 32, 0);
const O_1_0_72_36_0: u64 = obis(1, 0, 72, 36, 0);
const O_1_0_72_7_0: u64 = obis(1, 0, 72, 7, 0);
const O_1_3_0_2_8: u64 = obis(1, 3, 0, 2, 8);

/// The unit family a value is converted within; the number is the power of ten to go from the
/// family's default unit to the stored integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    /// Active energy: kWh (default) or Wh → Wh.
    Energy,
    /// Active power: kW (default) or W → W.
    Power,
    /// Voltage: V → dV.
    Voltage,
    /// Current: A → mA.
    Current,
    /// Reactive energy: kvarh (default) or varh → varh.
    ReactiveEnergy,
    /// Reactive power: kvar (default) or var → var.
    ReactivePower,
    /// Power factor (no unit) → thousandths.
    PowerFactor,
    /// A plain count or index.
    Count,
    /// Volume: m³ (default) or dm³ → dm³.
    Volume,
    /// Heat: GJ (default) or MJ → MJ.
    Heat,
}

impl Family {
    /// Decimal exponent from `unit` to the stored unit, or `None` if the unit does not fit.
    fn exponent(self, unit: &[u8]) -> Option<u32> {
        let eq = |s: &str| unit.eq_ignore_ascii_case(s.as_bytes());
        match self {
            Family::Energy if unit.is_empty() || eq("kWh") => Some(3),
            Family::Energy if eq("Wh") => Some(0),
            Family::Energy if eq("MWh") => Some(6),
            Family::Power if unit.is_empty() || eq("kW") => Some(3),
            Family::Power if eq("W") => Some(0),
            Family::Power if eq("MW") => Some(6),
            Family::Voltage if unit.is_empty() || eq("V") => Some(1),
            Family::Current if unit.is_empty() || eq("A") => Some(3),
            Family::Current if eq("mA") => Some(0),
            Family::ReactiveEnergy if unit.is_empty() || eq("kvarh") => Some(3),
            Family::ReactiveEnergy if eq("varh") => Some(0),
            Family::ReactivePower if unit.is_empty() || eq("kvar") => Some(3),
            Family::ReactivePower if eq("var") => Some(0),
            Family::PowerFactor if unit.is_empty() => Some(3),
            Family::Count if unit.is_empty() => Some(0),
            Family::Volume if unit.is_empty() || eq("m3") => Some(3),
            Family::Volume if eq("dm3") || eq("l") => Some(0),
            Family::Heat if unit.is_empty() || eq("GJ") => Some(3),
            Family::Heat if eq("MJ") => Some(0),
            _ => None,
        }
    }
}

/// A value that could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueError {
    Empty,
    NotANumber,
    Unit,
    TooLarge,
}

impl ValueError {
    fn message(self, unit: &[u8]) -> String {
        match self {
            ValueError::Empty => "no value".into(),
            ValueError::NotANumber => "value is not a number".into(),
            ValueError::Unit => format!(
                "unexpected unit '{}'",
                String::from_utf8_lossy(unit)
                    .chars()
                    .take(16)
                    .collect::<String>()
            ),
            ValueError::TooLarge => "value too large".into(),
        }
    }
}

/// Reads `digits[.digits][*unit]` into the stored integer of `family`, rounding half away from
/// zero when the meter sends more decimals than Hearth keeps.
fn value(text: &[u8], family: Family) -> Result<i64, (ValueError, &[u8])> {
    let (num, unit) = match text.iter().position(|&b| b == b'*') {
        Some(i) => (&text[..i], &text[i + 1..]),
        None => (text, &text[text.len()..]),
    };
    let Some(exp) = family.exponent(unit) else {
        return Err((ValueError::Unit, unit));
    };
    let (neg, num) = match num.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, num),
    };
    if num.is_empty() {
        return Err((ValueError::Empty, unit));
    }
    let mut mantissa: i64 = 0;
    let mut decimals: Option<u32> = None;
    let mut digits = 0u32;
    // The first digit dropped by rounding, if any.
    let mut dropped: Option<u8> = None;
    for &b in num {
        match b {
            b'0'..=b'9' => {
                digits += 1;
                if let Some(d) = decimals.as_mut() {
                    if *d >= exp {
                        if dropped.is_none() {
                            dropped = Some(b - b'0');
                        }
                        continue;
                    }
                    *d += 1;
                }
                mantissa = mantissa
                    .checked_mul(10)
                    .and_then(|m| m.checked_add(i64::from(b - b'0')))
                    .ok_or((ValueError::TooLarge, unit))?;
            }
            b'.' | b',' if decimals.is_none() => decimals = Some(0),
            _ => return Err((ValueError::NotANumber, unit)),
        }
    }
    if digits == 0 {
        return Err((ValueError::NotANumber, unit));
    }
    let shift = exp - decimals.unwrap_or(0);
    let mut v = mantissa
        .checked_mul(10i64.pow(shift))
        .ok_or((ValueError::TooLarge, unit))?;
    if dropped.is_some_and(|d| d >= 5) {
        v = v.checked_add(1).ok_or((ValueError::TooLarge, unit))?;
    }
    Ok(if neg { -v } else { v })
}

/// Decodes an equipment identifier: DSMR 4+ send it as hex of ASCII; older meters and some
/// variants send it in clear.
fn equipment_id(text: &[u8]) -> String {
    if text.len().is_multiple_of(2) && !text.is_empty() && text.iter().all(u8::is_ascii_hexdigit) {
        let decoded: Option<String> = text
            .chunks_exact(2)
            .map(|p| {
                let h = (p[0] as char).to_digit(16)? as u8;
                let l = (p[1] as char).to_digit(16)? as u8;
                let c = h << 4 | l;
                (0x20..0x7F).contains(&c).then_some(c as char)
            })
            .collect();
        if let Some(s) = decoded {
            return s;
        }
    }
    String::from_utf8_lossy(text).into_owned()
}

/// What one M-Bus channel (`0-n:...`, n = 1..4) reported.
#[derive(Clone, Copy, Default)]
struct Channel<'a> {
    device_type: Option<u8>,
    /// Equipment identifier present but empty: the channel has no device.
    empty_id: bool,
    time: Option<&'a [u8]>,
    value: Option<&'a [u8]>,
    line: u32,
}

/// What a channel measures, from its device type (EN 13757-3) or else its unit.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Medium {
    Gas,
    Water,
    Heat,
    Other,
}

impl Channel<'_> {
    fn medium(&self) -> Medium {
        match self.device_type {
            Some(3) => Medium::Gas,
            Some(6 | 7 | 0x15 | 0x16) => Medium::Water,
            Some(4 | 0x0A | 0x0B | 0x0C | 0x0D) => Medium::Heat,
            Some(_) => Medium::Other,
            None => {
                let unit = self
                    .value
                    .and_then(|v| v.iter().position(|&b| b == b'*').map(|i| &v[i + 1..]))
                    .unwrap_or(b"");
                if unit.eq_ignore_ascii_case(b"GJ") || unit.eq_ignore_ascii_case(b"MJ") {
                    Medium::Heat
                } else {
                    Medium::Gas
                }
            }
        }
    }
}

/// Collects a telegram's lines into a reading.
struct Parser<'a> {
    reading: Reading,
    diagnostics: Vec<Diagnostic>,
    channels: [Channel<'a>; 5],
    /// Rank of the source of `meter_id` (lower wins): 96.1.1, 96.1.0, 96.1.255, 0.0.0.
    id_rank: u8,
    emucs_version: Option<&'a [u8]>,
    /// Legacy gas (`0-n:24.3.0`): the channel whose value is on the next line.
    legacy_gas: Option<usize>,
}

/// Parses the text of one telegram (`/` header, lines, optionally the `!CRC` line) into a
/// reading with per-line diagnostics. Does not check the CRC: see [`super::parse_telegram`].
pub fn parse_text(text: &[u8]) -> Decoded {
    let mut p = Parser {
        reading: Reading::new(Protocol::Dsmr),
        diagnostics: Vec::new(),
        channels: [Channel::default(); 5],
        id_rank: u8::MAX,
        emucs_version: None,
        legacy_gas: None,
    };
    let mut rest = text;
    let mut n = 0u32;
    while !rest.is_empty() {
        let (line, next) = match find_newline(rest) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        n += 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match line.first() {
            None | Some(b'/') => {}
            Some(b'!') => break,
            Some(b'(') => p.continuation(n, line),
            Some(_) => p.line(n, line),
        }
    }
    p.finish()
}

impl<'a> Parser<'a> {
    fn diag(&mut self, line: u32, code: &[u8], message: String) {
        // Bound the diagnostics a hostile telegram can produce.
        if self.diagnostics.len() < 64 {
            self.diagnostics.push(Diagnostic {
                line,
                code: String::from_utf8_lossy(&code[..code.len().min(24)]).into_owned(),
                message,
            });
        }
    }

    fn continuation(&mut self, n: u32, line: &'a [u8]) {
        if let Some(ch) = self.legacy_gas.take() {
            match line.strip_prefix(b"(").and_then(|l| l.strip_suffix(b")")) {
                Some(v) => {
                    self.channels[ch].value = Some(v);
                    self.channels[ch].line = n;
                }
                None => self.diag(n, b"", "gas value line is not '(value)'".into()),
            }
        }
    }

    fn line(&mut self, n: u32, line: &'a [u8]) {
        self.legacy_gas = None;
        let (code, open) = parse_obis(line);
        let code_text = &line[..open];
        let Some(code) = code else {
            self.diag(n, code_text, "not an OBIS line".into());
            return;
        };
        // Split `(a)(b)(c)` into up to 4 groups; longer lines keep their count only.
        let mut groups: [&'a [u8]; 4] = [b""; 4];
        let mut count = 0usize;
        let mut rest = &line[open..];
        while let Some(r) = rest.strip_prefix(b"(") {
            let Some(close) = r.iter().position(|&b| b == b')') else {
                self.diag(n, code_text, "value not closed with ')'".into());
                return;
            };
            if count < groups.len() {
                groups[count] = &r[..close];
            }
            count += 1;
            rest = &r[close + 1..];
        }
        if count == 0 {
            self.diag(n, code_text, "no value in parentheses".into());
            return;
        }
        let g = &groups[..count.min(groups.len())];
        let (a, b) = ((code >> 32) as u8, (code >> 24) as u8);
        let cde = code & 0xFF_FFFF;
        // M-Bus channels 1..4.
        if a == 0 && (1..=4).contains(&b) {
            let ch = usize::from(b);
            match cde {
                O_0_0_24_1_0 => match value(g[0], Family::Count) {
                    Ok(t) => self.channels[ch].device_type = u8::try_from(t).ok(),
                    Err((e, u)) => self.diag(n, code_text, e.message(u)),
                },
                O_0_0_96_1_0 | O_0_0_96_1_1 => {
                    self.channels[ch].empty_id = g[0].is_empty();
                }
                O_0_0_24_2_1 | O_0_0_24_2_3 => {
                    if count < 2 {
                        self.diag(n, code_text, "expected (time)(value)".into());
                        return;
                    }
                    let c = &mut self.channels[ch];
                    c.time = Some(g[0]);
                    c.value = Some(g[1]);
                    c.line = n;
                }
                O_0_0_24_3_0 => {
                    // Legacy gas: (time)(..)(..)(..)(code)(unit), value on the next line.
                    self.channels[ch].time = Some(g[0]);
                    self.legacy_gas = Some(ch);
                }
                _ => {}
            }
            return;
        }
        let q = match code {
            O_1_0_1_8_0 => (Quantity::ImportWh, Family::Energy),
            O_1_0_1_8_1 => (Quantity::ImportT1Wh, Family::Energy),
            O_1_0_1_8_2 => (Quantity::ImportT2Wh, Family::Energy),
            O_1_0_2_8_0 => (Quantity::ExportWh, Family::Energy),
            O_1_0_2_8_1 => (Quantity::ExportT1Wh, Family::Energy),
            O_1_0_2_8_2 => (Quantity::ExportT2Wh, Family::Energy),
            O_1_0_1_7_0 => (Quantity::ImportW, Family::Power),
            O_1_0_2_7_0 => (Quantity::ExportW, Family::Power),
            O_1_0_32_7_0 => (Quantity::L1Dv, Family::Voltage),
            O_1_0_52_7_0 => (Quantity::L2Dv, Family::Voltage),
            O_1_0_72_7_0 => (Quantity::L3Dv, Family::Voltage),
            O_1_0_31_7_0 => (Quantity::L1Ma, Family::Current),
            O_1_0_51_7_0 => (Quantity::L2Ma, Family::Current),
            O_1_0_71_7_0 => (Quantity::L3Ma, Family::Current),
            O_1_0_21_7_0 => (Quantity::L1ImportW, Family::Power),
            O_1_0_41_7_0 => (Quantity::L2ImportW, Family::Power),
            O_1_0_61_7_0 => (Quantity::L3ImportW, Family::Power),
            O_1_0_22_7_0 => (Quantity::L1ExportW, Family::Power),
            O_1_0_42_7_0 => (Quantity::L2ExportW, Family::Power),
            O_1_0_62_7_0 => (Quantity::L3ExportW, Family::Power),
            O_1_0_3_8_0 => (Quantity::ReactiveImportVarh, Family::ReactiveEnergy),
            O_1_0_4_8_0 => (Quantity::ReactiveExportVarh, Family::ReactiveEnergy),
            O_1_0_3_7_0 => (Quantity::ReactiveImportVar, Family::ReactivePower),
            O_1_0_4_7_0 => (Quantity::ReactiveExportVar, Family::ReactivePower),
            O_1_0_13_7_0 => (Quantity::PowerFactorMilli, Family::PowerFactor),
            O_0_0_96_7_21 => (Quantity::PowerFailures, Family::Count),
            O_0_0_96_7_9 => (Quantity::LongPowerFailures, Family::Count),
            O_1_0_32_32_0 => (Quantity::VoltageSagsL1, Family::Count),
            O_1_0_52_32_0 => (Quantity::VoltageSagsL2, Family::Count),
            O_1_0_72_32_0 => (Quantity::VoltageSagsL3, Family::Count),
            O_1_0_32_36_0 => (Quantity::VoltageSwellsL1, Family::Count),
            O_1_0_52_36_0 => (Quantity::VoltageSwellsL2, Family::Count),
            O_1_0_72_36_0 => (Quantity::VoltageSwellsL3, Family::Count),
            O_0_0_96_14_0 => (Quantity::Tariff, Family::Count),
            O_1_0_1_4_0 => (Quantity::DemandCurrentW, Family::Power),
            O_1_0_1_6_0 => {
                // Monthly peak: (time)(value).
                if count < 2 {
                    self.diag(n, code_text, "expected (time)(value)".into());
                    return;
                }
                match MeterTime::from_dsmr(g[0]) {
                    Ok(t) => self.reading.demand_peak_month_time = Some(t),
                    Err(e) => self.diag(n, code_text, e.to_string()),
                }
                self.set(
                    n,
                    code_text,
                    Quantity::DemandPeakMonthW,
                    Family::Power,
                    g[1],
                );
                return;
            }
            O_0_0_1_0_0 => {
                match MeterTime::from_dsmr(g[0]) {
                    Ok(t) => self.reading.time = Some(t),
                    Err(e) => self.diag(n, code_text, e.to_string()),
                }
                return;
            }
            O_1_3_0_2_8 => {
                self.reading.dsmr_version = Some(String::from_utf8_lossy(g[0]).into_owned());
                return;
            }
            O_0_0_96_1_4 => {
                self.emucs_version = Some(g[0]);
                return;
            }
            O_0_0_96_1_1 => return self.meter_id(0, g[0]),
            O_0_0_96_1_0 => return self.meter_id(1, g[0]),
            O_0_0_96_1_255 => return self.meter_id(2, g[0]),
            O_1_0_0_0_0 => return self.meter_id(3, g[0]),
            _ => return,
        };
        self.set(n, code_text, q.0, q.1, g[0]);
    }

    fn set(&mut self, n: u32, code: &[u8], q: Quantity, family: Family, text: &[u8]) {
        match value(text, family) {
            Ok(v) if family == Family::PowerFactor && !(-1000..=1000).contains(&v) => {
                self.diag(n, code, "power factor outside -1..1".into());
            }
            Ok(v) => self.reading.set(q, v),
            Err((e, unit)) => self.diag(n, code, e.message(unit)),
        }
    }

    fn meter_id(&mut self, rank: u8, text: &[u8]) {
        if !text.is_empty() && rank < self.id_rank {
            self.id_rank = rank;
            self.reading.meter_id = Some(MeterId::new(equipment_id(text)));
        }
    }

    fn finish(mut self) -> Decoded {
        if self.reading.dsmr_version.is_none()
            && let Some(v) = self.emucs_version
        {
            self.reading.dsmr_version = Some(String::from_utf8_lossy(v).into_owned());
        }
        for medium in [Medium::Gas, Medium::Water, Medium::Heat] {
            // The first channel of this medium with a value, preferring ones with a device.
            let channels = self.channels;
            let pick = channels[1..]
                .iter()
                .filter(|c| c.value.is_some() && c.medium() == medium)
                .min_by_key(|c| c.empty_id);
            let Some(c) = pick else { continue };
            let (q, family) = match medium {
                Medium::Gas => (Quantity::GasDm3, Family::Volume),
                Medium::Water => (Quantity::WaterDm3, Family::Volume),
                _ => (Quantity::HeatMj, Family::Heat),
            };
            let code: &[u8] = b"0-n:24.2.1";
            if let Some(v) = c.value {
                self.set(c.line, code, q, family, v);
            }
            if let Some(t) = c.time {
                match MeterTime::from_dsmr(t) {
                    Ok(t) => match medium {
                        Medium::Gas => self.reading.gas_time = Some(t),
                        Medium::Water => self.reading.water_time = Some(t),
                        _ => self.reading.heat_time = Some(t),
                    },
                    Err(e) => self.diag(c.line, code, e.to_string()),
                }
            }
        }
        self.reading.fill_totals();
        Decoded {
            reading: self.reading,
            diagnostics: self.diagnostics,
        }
    }
}

/// The first `\n` in `hay`, eight bytes per step.
#[inline]
fn find_newline(hay: &[u8]) -> Option<usize> {
    super::framer::find2(hay, b'\n', b'\n')
}

/// Reads the `A-B:C.D.E` code at the start of a line (optionally followed by `*F`, as
/// EasyMeter sends) into a packed code, and says where the first `(` is (or the line length).
fn parse_obis(line: &[u8]) -> (Option<u64>, usize) {
    let mut parts = [0u8; 5];
    let mut i = 0usize;
    let mut have_digit = false;
    let mut acc: u16 = 0;
    let mut ok = true;
    let mut at = 0usize;
    while at < line.len() {
        let b = line[at];
        match b {
            b'0'..=b'9' => {
                acc = acc * 10 + u16::from(b - b'0');
                if acc > 255 {
                    ok = false;
                    break;
                }
                have_digit = true;
            }
            b'-' | b':' | b'.' => {
                let expected = match i {
                    0 => b'-',
                    1 => b':',
                    2 | 3 => b'.',
                    _ => 0,
                };
                if b != expected || !have_digit {
                    ok = false;
                    break;
                }
                parts[i] = acc as u8;
                i += 1;
                acc = 0;
                have_digit = false;
            }
            b'(' | b'*' => break,
            _ => {
                ok = false;
                break;
            }
        }
        at += 1;
    }
    let open = match line[at..].iter().position(|&b| b == b'(') {
        Some(p) => at + p,
        None => line.len(),
    };
    if !ok || i != 4 || !have_digit {
        return (None, open);
    }
    parts[4] = acc as u8;
    (
        Some(obis(parts[0], parts[1], parts[2], parts[3], parts[4])),
        open,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_scale_into_stored_units() {
        assert_eq!(value(b"000004.426*kWh", Family::Energy), Ok(4426));
        assert_eq!(value(b"006545766*Wh", Family::Energy), Ok(6_545_766));
        assert_eq!(value(b"0230.0*V", Family::Voltage), Ok(2300));
        assert_eq!(value(b"0.48*A", Family::Current), Ok(480));
        assert_eq!(value(b"001*A", Family::Current), Ok(1000));
        assert_eq!(value(b"00.244*kW", Family::Power), Ok(244));
        assert_eq!(value(b"001688.21*W", Family::Power), Ok(1688));
        // 32549.5061662 kWh = 32549506.1662 Wh, rounded to 32549506.
        assert_eq!(
            value(b"00032549.5061662*kWh", Family::Energy),
            Ok(32_549_506)
        );
        // 19949.3221493 kWh -> .3221493 rounds down; 52185.7825309 -> .5309 rounds up.
        assert_eq!(
            value(b"00052185.7825309*kWh", Family::Energy),
            Ok(52_185_783)
        );
        assert_eq!(value(b"00000000", Family::Volume), Ok(0));
        assert_eq!(value(b"240.860*GJ", Family::Heat), Ok(240_860));
        assert_eq!(value(b"0000.308*kVAr", Family::ReactivePower), Ok(308));
        assert_eq!(value(b"0002", Family::Count), Ok(2));
        assert_eq!(
            value(b"", Family::Power).map_err(|e| e.0),
            Err(ValueError::Empty)
        );
        assert_eq!(
            value(b"1.2.3*kW", Family::Power).map_err(|e| e.0),
            Err(ValueError::NotANumber)
        );
        assert_eq!(
            value(b"12*Hz", Family::Power).map_err(|e| e.0),
            Err(ValueError::Unit)
        );
        assert_eq!(
            value(b"99999999999999999999*kWh", Family::Energy).map_err(|e| e.0),
            Err(ValueError::TooLarge)
        );
        assert_eq!(value(b"-1.5*kW", Family::Power), Ok(-1500));
    }

    #[test]
    fn obis_codes() {
        assert_eq!(parse_obis(b"1-0:1.8.1(1)"), (Some(obis(1, 0, 1, 8, 1)), 9));
        assert_eq!(
            parse_obis(b"0-0:96.1.255*255(x)"),
            (Some(obis(0, 0, 96, 1, 255)), 16)
        );
        assert_eq!(parse_obis(b"1-0:1.8(1)").0, None);
        assert_eq!(parse_obis(b"1-0:1.8.256(1)").0, None);
        assert_eq!(parse_obis(b"1:0-1.8.0(1)"), (None, 9));
        assert_eq!(parse_obis(b""), (None, 0));
        assert_eq!(parse_obis(b"1-0:.8.0").0, None);
        assert_eq!(parse_obis(b"this is not obis"), (None, 16));
    }

    #[test]
    fn equipment_ids_are_hex_decoded_when_printable() {
        assert_eq!(
            equipment_id(b"4B384547303034303436333935353037"),
            "K8EG004046395507"
        );
        assert_eq!(equipment_id(b"00000000000000"), "00000000000000");
        assert_eq!(equipment_id(b"ADC3100000158491"), "ADC3100000158491");
        assert_eq!(equipment_id(b"09610"), "09610");
    }
}
