//! M-Bus channels `0-n:…` (n = 1..4): the gas, water or heat meter behind the electricity
//! meter, its device type, identifier and last value with its time (also the legacy DSMR 2.2/3
//! gas object whose value comes on the next line), and which channel fills which quantity.

use super::obis::{
    O_0_0_24_1_0, O_0_0_24_2_1, O_0_0_24_2_3, O_0_0_24_3_0, O_0_0_96_1_0, O_0_0_96_1_1,
};
use super::telegram::Parser;
use super::time::dsmr_time;
use super::value::{Family, value};
use crate::reading::Quantity;

/// What one M-Bus channel (`0-n:...`, n = 1..4) reported.
#[derive(Clone, Copy, Default)]
pub(super) struct Channel<'a> {
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

impl<'a> Parser<'a> {
    /// A line of channel `ch` (its code without the channel, `cde` = `C.D.E`), with its first
    /// value groups `g` out of `count`.
    pub(super) fn channel_line(
        &mut self,
        n: u32,
        code_text: &[u8],
        ch: usize,
        cde: u64,
        g: &[&'a [u8]],
        count: usize,
    ) {
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
    }

    /// A line that starts with `(`: the value of the legacy gas object on the line before.
    pub(super) fn continuation(&mut self, n: u32, line: &'a [u8]) {
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

    /// The first channel of `medium` with a value, preferring ones with a device.
    #[inline]
    fn pick(&self, medium: Medium) -> Option<Channel<'a>> {
        self.channels[1..]
            .iter()
            .filter(|c| c.value.is_some() && c.medium() == medium)
            .min_by_key(|c| c.empty_id)
            .copied()
    }

    /// The line each of gas, water and heat is read from at the end (what
    /// [`Parser::channel_readings`] picks) and the fields it fills, for `--explain`.
    pub(super) fn channel_lines(&self) -> Vec<(u32, [&'static str; 2])> {
        [
            (Medium::Gas, ["gas_m3", "gas_time"]),
            (Medium::Water, ["water_m3", "water_time"]),
            (Medium::Heat, ["heat_gj", "heat_time"]),
        ]
        .into_iter()
        .filter_map(|(m, names)| self.pick(m).map(|c| (c.line, names)))
        .collect()
    }

    /// Gas, water and heat from the channels, once all lines are read.
    pub(super) fn channel_readings(&mut self) {
        for medium in [Medium::Gas, Medium::Water, Medium::Heat] {
            let Some(c) = self.pick(medium) else { continue };
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
                match dsmr_time(t) {
                    Ok(t) => match medium {
                        Medium::Gas => self.reading.gas_time = Some(t),
                        Medium::Water => self.reading.water_time = Some(t),
                        _ => self.reading.heat_time = Some(t),
                    },
                    Err(e) => self.diag(c.line, code, e.to_string()),
                }
            }
        }
    }
}
