//! DSMR objects outside the canonical record, kept in the reading's [`crate::reading::Extras`]:
//! tariff 3/4 registers, the four reactive quadrant registers, text messages, the power-failure
//! event log and the eMUCS monthly peak history.

use super::obis::{O_0_0_96_13_0, O_1_0_1_8_3, O_1_0_1_8_4, O_1_0_2_8_3};
use super::telegram::Parser;
use super::time::dsmr_time;
use super::value::{Family, hex_digit, value};
use crate::reading::{DemandPeak, PowerFailure};

impl<'a> Parser<'a> {
    /// Tariff 3 or 4 energy (`1-0:1.8.3`, `1-0:1.8.4`, `1-0:2.8.3`, `1-0:2.8.4`).
    pub(super) fn tariff_register(&mut self, n: u32, code_text: &[u8], code: u64, text: &[u8]) {
        match value(text, Family::Energy) {
            Ok(v) => {
                let x = self.reading.extras_mut();
                *match code {
                    O_1_0_1_8_3 => &mut x.import_t3_wh,
                    O_1_0_1_8_4 => &mut x.import_t4_wh,
                    O_1_0_2_8_3 => &mut x.export_t3_wh,
                    _ => &mut x.export_t4_wh,
                } = Some(v);
            }
            Err((e, unit)) => self.diag(n, code_text, e.message(unit)),
        }
    }

    /// Reactive energy of one quadrant (`1-0:5.8.0` … `1-0:8.8.0`).
    pub(super) fn reactive_quadrant(&mut self, n: u32, code_text: &[u8], code: u64, text: &[u8]) {
        match value(text, Family::ReactiveEnergy) {
            Ok(v) => {
                let quadrant = usize::from((code >> 16) as u8 - 5);
                self.reading.extras_mut().reactive_quadrant_varh[quadrant] = Some(v);
            }
            Err((e, unit)) => self.diag(n, code_text, e.message(unit)),
        }
    }

    /// A text message (`0-0:96.13.0`) or its code (`0-0:96.13.1`), not empty.
    pub(super) fn store_text_message(&mut self, code: u64, text: &[u8]) {
        let text = text_message(text);
        let x = self.reading.extras_mut();
        if code == O_0_0_96_13_0 {
            x.text_message = Some(text);
        } else {
            x.text_message_code = Some(text);
        }
    }

    /// The power-failure event log: `(count)(0-0:96.7.19)` and pairs `(end YYMMDDhhmmssX)
    /// (duration*s)`. The count may exceed the pairs listed (the Austrian XMX5 counts 5 and
    /// lists its last 2), so the pairs decide. An empty log leaves no trace.
    pub(super) fn power_failure_log(&mut self, n: u32, code: &[u8], groups: &'a [u8]) {
        let mut g = Groups(groups);
        match g.next().map(|c| value(c, Family::Count)) {
            Some(Ok(_)) => {}
            Some(Err((e, unit))) => return self.diag(n, code, e.message(unit)),
            None => return,
        }
        let _event_code = g.next();
        let mut log = Vec::new();
        while let Some(end) = g.next() {
            let Some(duration) = g.next() else {
                self.diag(n, code, "power failure without a duration".into());
                break;
            };
            match (dsmr_time(end), value(duration, Family::Seconds)) {
                (Ok(end), Ok(duration_s)) => log.push(PowerFailure { end, duration_s }),
                (Err(e), _) => self.diag(n, code, e.to_string()),
                (_, Err((e, unit))) => self.diag(n, code, e.message(unit)),
            }
        }
        if !log.is_empty() {
            self.reading.extras_mut().power_failure_log = log;
        }
    }

    /// The eMUCS monthly peak history: `(count)(1-0:1.6.0)(1-0:1.6.0)` and triples
    /// `(month start)(peak time)(peak*kW)`. Other meters use `0-0:98.1.0` for billing-period
    /// registers (`(time)(value)…`, E.ON Hungary); those are left alone.
    pub(super) fn demand_peak_history(&mut self, n: u32, code: &[u8], groups: &'a [u8]) {
        let mut g = Groups(groups);
        let (Some(count), Some(first_code)) = (g.next(), g.next()) else {
            return;
        };
        if !first_code.contains(&b':') {
            return;
        }
        if let Err((e, unit)) = value(count, Family::Count) {
            return self.diag(n, code, e.message(unit));
        }
        let _second_code = g.next();
        let mut history = Vec::new();
        while let Some(month) = g.next() {
            let (Some(time), Some(peak)) = (g.next(), g.next()) else {
                self.diag(n, code, "monthly peak without its time and value".into());
                break;
            };
            match value(peak, Family::Power) {
                // A month without a peak comes with a placeholder time (`632525252525W`).
                Ok(w) => history.push(DemandPeak {
                    month: dsmr_time(month).ok(),
                    time: dsmr_time(time).ok(),
                    w,
                }),
                Err((e, unit)) => self.diag(n, code, e.message(unit)),
            }
        }
        if !history.is_empty() {
            self.reading.extras_mut().demand_peak_history = history;
        }
    }
}

/// A text message: hex of its bytes (DSMR 4+), or the text itself when it is not hex (older
/// meters); bytes that are not UTF-8 become U+FFFD.
fn text_message(text: &[u8]) -> String {
    if text.len().is_multiple_of(2) {
        let bytes: Option<Vec<u8>> = text
            .chunks_exact(2)
            .map(|p| Some(hex_digit(p[0])? << 4 | hex_digit(p[1])?))
            .collect();
        if let Some(bytes) = bytes {
            return String::from_utf8_lossy(&bytes).into_owned();
        }
    }
    String::from_utf8_lossy(text).into_owned()
}

/// The `(…)` groups of a line, in order (the line is known to close each one).
struct Groups<'a>(&'a [u8]);

impl<'a> Iterator for Groups<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.0.strip_prefix(b"(")?;
        let close = rest.iter().position(|&b| b == b')')?;
        self.0 = &rest[close + 1..];
        Some(&rest[..close])
    }
}
