//! Reads the lines of one DSMR telegram (OBIS code, values in parentheses) into a [`Reading`].
//!
//! Parsing never fails as a whole: a line that cannot be read becomes a [`Diagnostic`] and
//! the rest of the telegram is kept. Objects outside the canonical record (the power-failure
//! log, text messages, the eMUCS peak history, tariff 3/4 and reactive quadrant registers)
//! go to the reading's [`crate::reading::Extras`]; codes Hearth has no use for (breaker
//! state, thresholds, ...) are skipped silently. Numbers are read as decimal text straight
//! into integers in the stored unit (Wh, W, dV, mA, dm³, MJ): no floats.
//!
//! This module walks the lines and dispatches each code; the parts live beside it: OBIS codes
//! and the code-to-quantity table (`obis`), numbers and units (`value`), timestamps (`time`),
//! the meter id (`meter_id`), M-Bus channels (`channels`) and the extras (`extras`).

use super::channels::Channel;
use super::meter_id::IdCache;
use super::obis::*;
use super::time::dsmr_time;
use super::value::{Family, fast_value, value};
use crate::decoder::{Decoded, Diagnostic};
use crate::reading::{Protocol, Quantity, Reading};

/// Collects a telegram's lines into a reading.
pub(super) struct Parser<'a> {
    pub(super) reading: Reading,
    diagnostics: Vec<Diagnostic>,
    pub(super) channels: [Channel<'a>; 5],
    /// Rank of the source of `meter_id` (lower wins): 96.1.1, 96.1.0, 96.1.255, 0.0.0.
    id_rank: u8,
    emucs_version: Option<&'a [u8]>,
    /// Legacy gas (`0-n:24.3.0`): the channel whose value is on the next line.
    pub(super) legacy_gas: Option<usize>,
    /// The meter id of the previous telegram, reused when its bytes repeat.
    ids: &'a mut IdCache,
}

/// Parses the text of one telegram (`/` header, lines, optionally the `!CRC` line) into a
/// reading with per-line diagnostics. Does not check the CRC: see [`super::parse_telegram`].
pub fn parse_text(text: &[u8]) -> Decoded {
    let mut ids = IdCache::default();
    let mut p = Parser::new(&mut ids);
    let mut rest = text;
    let mut n = 0u32;
    while !rest.is_empty() {
        n += 1;
        match p.line_at(n, rest) {
            Some(len) => rest = &rest[len..],
            None => break,
        }
    }
    p.finish()
}

impl<'a> Parser<'a> {
    pub(super) fn new(ids: &'a mut IdCache) -> Self {
        Parser {
            reading: Reading::new(Protocol::Dsmr),
            diagnostics: Vec::new(),
            channels: [Channel::default(); 5],
            id_rank: u8::MAX,
            emucs_version: None,
            legacy_gas: None,
            ids,
        }
    }

    /// Reads the line that starts `rest` (line `n` of the telegram). Returns the bytes taken,
    /// line end included, or `None` at the `!` line that ends the telegram.
    #[inline]
    pub(super) fn line_at(&mut self, n: u32, rest: &'a [u8]) -> Option<usize> {
        // The code once: `fast_obis` of the rest equals `fast_obis` of the line alone, as a
        // code cannot run over a line end.
        let obis = fast_obis(rest);
        if let Some((code, open)) = obis
            && let Some(len) = self.quick_number(n, rest, code, open)
        {
            return Some(len);
        }
        let (line, taken) = match find_newline(rest) {
            Some(i) => (&rest[..i], i + 1),
            None => (rest, rest.len()),
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match line.first() {
            None | Some(b'/') => {}
            Some(b'!') => return None,
            Some(b'(') => self.continuation(n, line),
            Some(_) => {
                let (code, open) = match obis {
                    Some((code, open)) => (Some(code), open),
                    None => parse_obis(line),
                };
                self.coded_line(n, line, code, open);
            }
        }
        Some(taken)
    }

    pub(super) fn diag(&mut self, line: u32, code: &[u8], message: String) {
        // Bound the diagnostics a hostile telegram can produce.
        if self.diagnostics.len() < 64 {
            self.diagnostics.push(Diagnostic {
                line,
                code: String::from_utf8_lossy(&code[..code.len().min(24)]).into_owned(),
                message,
            });
        }
    }

    /// The common line (`1-0:1.8.1(000004.426*kWh)`: one plain number for one field) read
    /// straight from the telegram in one pass, without first looking for its end. Returns the
    /// bytes taken (line end included), or `None` to read the line the general way, which
    /// gives the same result for the lines taken here.
    #[inline]
    pub(super) fn quick_line(&mut self, n: u32, rest: &'a [u8]) -> Option<usize> {
        let (code, open) = fast_obis(rest)?;
        self.quick_number(n, rest, code, open)
    }

    /// [`Parser::quick_line`] once the code is read.
    #[inline]
    fn quick_number(&mut self, n: u32, rest: &'a [u8], code: u64, open: usize) -> Option<usize> {
        let (q, family) = simple_quantity(code)?;
        let (v, len) = fast_value(&rest[open + 1..], family)?;
        let end = open + 1 + len;
        let after = &rest[end..];
        let eol = if after.starts_with(b"\r\n") {
            2
        } else if after.first() == Some(&b'\n') || after.is_empty() {
            usize::from(!after.is_empty())
        } else {
            return None;
        };
        self.number(n, &rest[..open], q, family, v);
        Some(end + eol)
    }

    /// What [`Parser::quick_line`] does with the number it read.
    #[inline]
    pub(super) fn number(&mut self, n: u32, code: &[u8], q: Quantity, family: Family, v: i64) {
        self.legacy_gas = None;
        self.store(n, code, q, family, v);
    }

    /// A line that does not start with `(`, its code read already (by [`fast_obis`], else
    /// [`parse_obis`]): `open` is where its first `(` is, or its length.
    pub(super) fn coded_line(&mut self, n: u32, line: &'a [u8], code: Option<u64>, open: usize) {
        self.legacy_gas = None;
        let code_text = &line[..open];
        let Some(code) = code else {
            self.diag(n, code_text, "not an OBIS line".into());
            return;
        };
        // The common line: one plain number for one field, read in a single pass.
        if let Some((q, family)) = simple_quantity(code)
            && let Some((b'(', body)) = line[open..].split_first()
            && let Some((v, len)) = fast_value(body, family)
            && len == body.len()
        {
            self.store(n, code_text, q, family, v);
            return;
        }
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
        // M-Bus channels 1..4, matched on `C.D.E` alone.
        if a == 0 && (1..=4).contains(&b) {
            self.channel_line(n, code_text, usize::from(b), code & 0xFF_FFFF, g, count);
            return;
        }
        if let Some((q, family)) = simple_quantity(code) {
            self.set(n, code_text, q, family, g[0]);
            return;
        }
        match code {
            O_1_0_1_6_0 => {
                // Monthly peak: (time)(value).
                if count < 2 {
                    self.diag(n, code_text, "expected (time)(value)".into());
                    return;
                }
                match dsmr_time(g[0]) {
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
            }
            O_0_0_1_0_0 => match dsmr_time(g[0]) {
                Ok(t) => self.reading.time = Some(t),
                Err(e) => self.diag(n, code_text, e.to_string()),
            },
            O_1_3_0_2_8 => {
                self.reading.dsmr_version = Some(String::from_utf8_lossy(g[0]).into_owned());
            }
            O_0_0_96_1_4 => self.emucs_version = Some(g[0]),
            O_0_0_96_1_1 => self.meter_id(0, g[0]),
            O_0_0_96_1_0 => self.meter_id(1, g[0]),
            O_0_0_96_1_255 => self.meter_id(2, g[0]),
            O_1_0_0_0_0 => self.meter_id(3, g[0]),
            O_1_0_1_8_3 | O_1_0_1_8_4 | O_1_0_2_8_3 | O_1_0_2_8_4 => {
                self.tariff_register(n, code_text, code, g[0]);
            }
            O_1_0_5_8_0 | O_1_0_6_8_0 | O_1_0_7_8_0 | O_1_0_8_8_0 => {
                self.reactive_quadrant(n, code_text, code, g[0]);
            }
            O_1_0_99_97_0 => self.power_failure_log(n, code_text, &line[open..]),
            O_0_0_98_1_0 => self.demand_peak_history(n, code_text, &line[open..]),
            O_0_0_96_13_0 | O_0_0_96_13_1 if !g[0].is_empty() => {
                self.store_text_message(code, g[0]);
            }
            _ => {}
        }
    }

    pub(super) fn set(&mut self, n: u32, code: &[u8], q: Quantity, family: Family, text: &[u8]) {
        match value(text, family) {
            Ok(v) => self.store(n, code, q, family, v),
            Err((e, unit)) => self.diag(n, code, e.message(unit)),
        }
    }

    /// Stores a value read for `q`, unless it is a power factor outside -1..1.
    #[inline]
    fn store(&mut self, n: u32, code: &[u8], q: Quantity, family: Family, v: i64) {
        if family == Family::PowerFactor && !(-1000..=1000).contains(&v) {
            self.diag(n, code, "power factor outside -1..1".into());
        } else {
            self.reading.set(q, v);
        }
    }

    fn meter_id(&mut self, rank: u8, text: &[u8]) {
        if !text.is_empty() && rank < self.id_rank {
            self.id_rank = rank;
            self.reading.meter_id = Some(self.ids.get(text));
        }
    }

    pub(super) fn finish(mut self) -> Decoded {
        if self.reading.dsmr_version.is_none()
            && let Some(v) = self.emucs_version
        {
            self.reading.dsmr_version = Some(String::from_utf8_lossy(v).into_owned());
        }
        self.channel_readings();
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
    super::framer::find2_swar(hay, b'\n', b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_lines_end_any_way_and_odd_ones_take_the_general_path() {
        let d = parse_text(
            b"/ISk5\\2MT382-1000\r\n\r\n1-0:1.8.1(000004.426*kWh)\n1-0:1.8.2(000002.399*kWh)\r\n\
              1-0:1.7.0(00.244*kW)(junk)\r\n1-0:32.7.0(0230.0*V)\r1-0:2.7.0(00.000*kW)\r\n\
              1-0:31.7.0(001*Hz)\r\n1-0:51.7.0(0.44*A)",
        );
        let r = &d.reading;
        assert_eq!(r.get(Quantity::ImportT1Wh), Some(4426));
        assert_eq!(r.get(Quantity::ImportT2Wh), Some(2399));
        // A second group: the first one still counts (general path).
        assert_eq!(r.get(Quantity::ImportW), Some(244));
        // `\r` alone does not end a line: `(0230.0*V)\r1-0:2.7.0(...)` is one line whose first
        // group is the voltage.
        assert_eq!(r.get(Quantity::L1Dv), Some(2300));
        assert_eq!(r.get(Quantity::ExportW), None);
        // A wrong unit is a diagnostic on its line (the 7th: header, blank, five more), no value.
        assert_eq!(r.get(Quantity::L1Ma), None);
        assert_eq!(d.diagnostics.len(), 1);
        assert_eq!(d.diagnostics[0].line, 7);
        // The last line has no line end at all.
        assert_eq!(r.get(Quantity::L2Ma), Some(440));
    }
}
