//! Pulse LED counting: impulses from an optical sensor into an energy register and power.
//!
//! Every electricity meter blinks an LED once per fixed amount of energy: SMETS2 meters
//! 1000 times per kWh (the constant is printed on the meter as `imp/kWh`). A USB optical
//! sensor taped over the LED reports each flash on a serial port, as one byte, one line, or a
//! line with its running count (`count=1234`). [`PulseParser`] reads those bytes and feeds a
//! [`PulseCounter`], which keeps the energy register and the power:
//!
//! - **Register**: `start_register_wh + pulses × 1000 / imp_per_kwh` (rounded down), computed
//!   from the pulse count each time, so it never drifts.
//! - **Debounce**: a flash seen twice (optical bounce) is one pulse; pulses closer than
//!   [`PulseCounter::debounce_ms`] to the last accepted one are ignored and counted.
//! - **Power**: from the interval between pulses, `W = 3.6e9 / (imp_per_kwh × interval_ms)`
//!   in exact integer arithmetic; when pulses stop, the power decays toward 0 as the bound
//!   that time since the last pulse allows (less than one pulse since then).
//! - **Running counts**: a sensor that reports its own counter restarts at 0 when it is
//!   unplugged; the counter books the pulses after the restart and never negative energy.
//!
//! Times are milliseconds from any monotonic clock the caller owns; this module reads none.
//!
//! ```
//! use hearth_meter::pulse::PulseCounter;
//! let mut c = PulseCounter::new(1000, 5_000_000).unwrap();
//! c.on_pulse(0);
//! c.on_pulse(1_000); // one pulse per second at 1000 imp/kWh is 3600 W
//! assert_eq!(c.register_wh(), 5_000_002);
//! assert_eq!(c.power_w(1_000), Some(3_600));
//! assert_eq!(c.power_w(4_000), Some(1_200)); // silent for 3 s: at most 1 Wh / 3 s
//! ```

use crate::reading::{Protocol, Quantity, Reading};
use crate::time::MeterTime;

/// The largest constant accepted (imp/kWh). Real meters use 100 to 10,000.
pub const MAX_IMP_PER_KWH: u32 = 100_000;

/// The highest household power assumed when judging pulse timing, W (100 A at 400 V × 1.5).
pub const MAX_POWER_W: u64 = 60_000;

/// Milliseconds × W per pulse at 1 imp/kWh: 1 kWh = 3.6e9 W·ms.
const WMS_PER_KWH: u128 = 3_600_000_000;

/// Why a counter cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PulseError {
    /// `imp_per_kwh` is 0.
    #[error("the meter constant must be at least 1 imp/kWh (see the label on the meter)")]
    ZeroConstant,
    /// `imp_per_kwh` is implausibly high.
    #[error("{0} imp/kWh is not a meter constant (at most {MAX_IMP_PER_KWH})")]
    ConstantTooLarge(u32),
}

/// Counts of what the counter did with its input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PulseStats {
    /// Pulses booked (including those from running counts).
    pub accepted: u64,
    /// Pulses ignored as bounce (closer than the debounce interval).
    pub debounced: u64,
    /// Running counts that went down (sensor unplugged or restarted).
    pub resets: u64,
    /// Running counts that jumped further than any household could in the time, not booked.
    pub implausible: u64,
}

/// What [`PulseCounter::on_count`] did with a running count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CountEvent {
    /// The first count seen: it only sets the baseline.
    Baseline,
    /// The count rose by this many pulses, all booked.
    Added(u64),
    /// The count went down (the sensor restarted); this many pulses since its restart were
    /// booked.
    Reset(u64),
    /// The count jumped by more than [`MAX_POWER_W`] allows; it became the new baseline and
    /// nothing was booked.
    Implausible,
}

/// An energy register and power meter driven by LED pulses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PulseCounter {
    imp_per_kwh: u32,
    start_register_wh: i64,
    pulses: u64,
    debounce_ms: u64,
    /// Time of the last booked pulse (or count increase).
    last_pulse_ms: Option<u64>,
    /// The last measured rate: `pulses` over `ms`.
    rate: Option<(u64, u64)>,
    /// The last running count and when it came.
    last_count: Option<(u64, u64)>,
    stats: PulseStats,
}

impl PulseCounter {
    /// A counter for a meter blinking `imp_per_kwh` times per kWh, whose register read
    /// `start_register_wh` when counting started.
    pub fn new(imp_per_kwh: u32, start_register_wh: i64) -> Result<Self, PulseError> {
        if imp_per_kwh == 0 {
            return Err(PulseError::ZeroConstant);
        }
        if imp_per_kwh > MAX_IMP_PER_KWH {
            return Err(PulseError::ConstantTooLarge(imp_per_kwh));
        }
        // Half the pulse interval at MAX_POWER_W: 60 ms at 1000 imp/kWh.
        let debounce_ms =
            (WMS_PER_KWH / (u128::from(imp_per_kwh) * u128::from(MAX_POWER_W))).max(1) as u64;
        Ok(PulseCounter {
            imp_per_kwh,
            start_register_wh,
            pulses: 0,
            debounce_ms,
            last_pulse_ms: None,
            rate: None,
            last_count: None,
            stats: PulseStats::default(),
        })
    }

    /// The same counter with another debounce interval (0 turns debouncing off).
    pub fn with_debounce_ms(mut self, ms: u64) -> Self {
        self.debounce_ms = ms;
        self
    }

    /// Pulses closer than this to the last accepted one are ignored.
    pub fn debounce_ms(&self) -> u64 {
        self.debounce_ms
    }

    /// The meter constant.
    pub fn imp_per_kwh(&self) -> u32 {
        self.imp_per_kwh
    }

    /// Pulses booked since counting started.
    pub fn pulses(&self) -> u64 {
        self.pulses
    }

    /// What the counter did so far.
    pub fn stats(&self) -> &PulseStats {
        &self.stats
    }

    /// The energy register, Wh: the start value plus the booked pulses, rounded down.
    pub fn register_wh(&self) -> i64 {
        let wh = u128::from(self.pulses) * 1000 / u128::from(self.imp_per_kwh);
        self.start_register_wh
            .saturating_add(i64::try_from(wh).unwrap_or(i64::MAX))
    }

    fn book(&mut self, n: u64, at_ms: u64, since_ms: Option<u64>) {
        self.pulses = self.pulses.saturating_add(n);
        self.stats.accepted = self.stats.accepted.saturating_add(n);
        self.rate = match since_ms.and_then(|s| at_ms.checked_sub(s)) {
            Some(interval) if interval > 0 && n > 0 => Some((n, interval)),
            // A clock that went backwards or no earlier pulse: no interval to measure.
            _ => None,
        };
        self.last_pulse_ms = Some(at_ms);
    }

    /// One flash seen at `at_ms`. Returns whether it was booked (false: bounce).
    pub fn on_pulse(&mut self, at_ms: u64) -> bool {
        if let Some(last) = self.last_pulse_ms
            && at_ms >= last
            && at_ms - last < self.debounce_ms
        {
            self.stats.debounced += 1;
            return false;
        }
        let since = self.last_pulse_ms;
        self.book(1, at_ms, since);
        true
    }

    /// The most pulses a household could cause in `ms` milliseconds, plus slack for timing.
    fn plausible_pulses(&self, ms: u64) -> u64 {
        let n =
            u128::from(ms) * u128::from(self.imp_per_kwh) * u128::from(MAX_POWER_W) / WMS_PER_KWH;
        u64::try_from(n).unwrap_or(u64::MAX).saturating_add(2)
    }

    /// A running count reported by the sensor at `at_ms`.
    pub fn on_count(&mut self, count: u64, at_ms: u64) -> CountEvent {
        let Some((last, last_at)) = self.last_count else {
            self.last_count = Some((count, at_ms));
            return CountEvent::Baseline;
        };
        self.last_count = Some((count, at_ms));
        let elapsed = at_ms.saturating_sub(last_at);
        let plausible = self.plausible_pulses(elapsed);
        if count < last {
            // The sensor restarted from 0: the pulses since then are real, if plausible.
            self.stats.resets += 1;
            if count <= plausible {
                if count > 0 {
                    self.book(count, at_ms, None);
                }
                return CountEvent::Reset(count);
            }
            self.stats.implausible += 1;
            return CountEvent::Implausible;
        }
        let delta = count - last;
        if delta > plausible {
            self.stats.implausible += 1;
            return CountEvent::Implausible;
        }
        if delta > 0 {
            self.book(delta, at_ms, Some(last_at));
        }
        CountEvent::Added(delta)
    }

    /// Power at `now_ms`, W: from the last measured interval, capped by what the time since
    /// the last pulse allows (less than one pulse since then), so it falls toward 0 when the
    /// pulses stop. `None` before an interval could be measured.
    pub fn power_w(&self, now_ms: u64) -> Option<i64> {
        let (n, interval) = self.rate?;
        let imp = u128::from(self.imp_per_kwh);
        let denom = imp * u128::from(interval);
        let measured = (u128::from(n) * WMS_PER_KWH + denom / 2) / denom;
        let mut w = measured;
        if let Some(last) = self.last_pulse_ms {
            let silent = now_ms.saturating_sub(last);
            // Silent for longer than the measured spacing between pulses: cap it.
            if u128::from(silent) * u128::from(n) > u128::from(interval) {
                w = w.min(WMS_PER_KWH / (imp * u128::from(silent)));
            }
        }
        i64::try_from(w).ok()
    }

    /// A reading at `now_ms`: the register and the power, with `time` (meter time is the
    /// receive time for a pulse sensor).
    pub fn reading(&self, now_ms: u64, time: Option<MeterTime>) -> Reading {
        let mut r = Reading::new(Protocol::Pulse);
        r.time = time;
        r.set(Quantity::ImportWh, self.register_wh());
        if let Some(w) = self.power_w(now_ms) {
            r.set(Quantity::ImportW, w);
        }
        r
    }
}

/// How a sensor reports pulses on its serial port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PulseFormat {
    /// Decide from the bytes: a newline means lines (with `count=N` lines as running
    /// counts), more than [`AUTO_BYTES`] bytes without one means one byte per pulse.
    #[default]
    Auto,
    /// Every byte (but CR and LF) is one pulse.
    Byte,
    /// Every non-empty line is one pulse; `count=N` lines are running counts.
    Line,
    /// Every line holds a running count: `N`, `count=N` or `count: N`.
    Count,
}

impl PulseFormat {
    /// Reads `auto`, `byte`, `line` or `count` (as in `pulse:/dev/ttyUSB0?format=line`).
    pub fn from_name(name: &str) -> Option<PulseFormat> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "auto" => PulseFormat::Auto,
            "byte" => PulseFormat::Byte,
            "line" => PulseFormat::Line,
            "count" => PulseFormat::Count,
            _ => return None,
        })
    }
}

/// Bytes without a newline after which [`PulseFormat::Auto`] decides on one byte per pulse.
pub const AUTO_BYTES: usize = 16;

/// The longest line read; longer ones are noise and dropped.
pub const MAX_PULSE_LINE: usize = 128;

/// What one [`PulseParser::push`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PushSummary {
    /// Pulse markers seen (booked or debounced).
    pub pulses: u64,
    /// Running counts read.
    pub counts: u64,
    /// Lines that were neither (too long, or a count that was not a number).
    pub ignored_lines: u64,
}

/// Reads a pulse sensor's serial bytes into a [`PulseCounter`]. Bounded memory: at most
/// [`MAX_PULSE_LINE`] bytes are held.
#[derive(Clone, Debug, Default)]
pub struct PulseParser {
    format: PulseFormat,
    line: Vec<u8>,
    overlong: bool,
    /// Auto mode, undecided: chunks seen so far, `(at_ms, bytes)`.
    pending: Vec<(u64, usize)>,
}

enum LineKind {
    Pulse,
    Count(u64),
    Ignored,
}

fn parse_count(text: &str) -> Option<u64> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("count")
        .or_else(|| lower.strip_prefix("total"))
        .map(|r| r.trim_start_matches([' ', '=', ':']).trim())
        .unwrap_or(lower.as_str());
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok()
}

impl PulseParser {
    /// A parser for one sensor format.
    pub fn new(format: PulseFormat) -> Self {
        PulseParser {
            format,
            ..PulseParser::default()
        }
    }

    /// The format in use (after [`PulseFormat::Auto`] decided, the decided one).
    pub fn format(&self) -> PulseFormat {
        self.format
    }

    fn classify(&self, line: &str) -> LineKind {
        let t = line.trim();
        if t.is_empty() {
            return LineKind::Ignored;
        }
        let is_count_line = t.to_ascii_lowercase().starts_with("count")
            || t.to_ascii_lowercase().starts_with("total");
        match self.format {
            PulseFormat::Count => parse_count(t).map_or(LineKind::Ignored, LineKind::Count),
            _ if is_count_line => parse_count(t).map_or(LineKind::Ignored, LineKind::Count),
            _ => LineKind::Pulse,
        }
    }

    fn end_line(&mut self, at_ms: u64, counter: &mut PulseCounter, s: &mut PushSummary) {
        let overlong = std::mem::take(&mut self.overlong);
        let line = std::mem::take(&mut self.line);
        if overlong {
            s.ignored_lines += 1;
            return;
        }
        let text = String::from_utf8_lossy(&line);
        match self.classify(&text) {
            LineKind::Pulse => {
                s.pulses += 1;
                counter.on_pulse(at_ms);
            }
            LineKind::Count(n) => {
                s.counts += 1;
                counter.on_count(n, at_ms);
            }
            LineKind::Ignored => {
                if !text.trim().is_empty() {
                    s.ignored_lines += 1;
                }
            }
        }
    }

    fn line_bytes(
        &mut self,
        bytes: &[u8],
        at_ms: u64,
        counter: &mut PulseCounter,
        s: &mut PushSummary,
    ) {
        for &b in bytes {
            if b == b'\n' || b == b'\r' {
                if !self.line.is_empty() || self.overlong {
                    self.end_line(at_ms, counter, s);
                }
            } else if self.line.len() >= MAX_PULSE_LINE {
                self.overlong = true;
                self.line.clear();
            } else if !self.overlong {
                self.line.push(b);
            }
        }
    }

    /// Feeds bytes that arrived at `at_ms` into `counter`.
    pub fn push(&mut self, bytes: &[u8], at_ms: u64, counter: &mut PulseCounter) -> PushSummary {
        let mut s = PushSummary::default();
        match self.format {
            PulseFormat::Byte => {
                for &b in bytes {
                    if b != b'\n' && b != b'\r' {
                        s.pulses += 1;
                        counter.on_pulse(at_ms);
                    }
                }
            }
            PulseFormat::Line | PulseFormat::Count => {
                self.line_bytes(bytes, at_ms, counter, &mut s)
            }
            PulseFormat::Auto => {
                if bytes.iter().any(|b| *b == b'\n' || *b == b'\r') {
                    self.format = PulseFormat::Line;
                    self.pending.clear();
                    let held = std::mem::take(&mut self.line);
                    self.line_bytes(&held, at_ms, counter, &mut s);
                    self.line_bytes(bytes, at_ms, counter, &mut s);
                } else {
                    self.pending.push((at_ms, bytes.len()));
                    self.line.extend_from_slice(bytes);
                    if self.line.len() > AUTO_BYTES {
                        self.format = PulseFormat::Byte;
                        self.line.clear();
                        for (t, n) in std::mem::take(&mut self.pending) {
                            for _ in 0..n {
                                s.pulses += 1;
                                counter.on_pulse(t);
                            }
                        }
                    }
                }
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_parse() {
        assert_eq!(parse_count("count=12"), Some(12));
        assert_eq!(parse_count("COUNT: 7"), Some(7));
        assert_eq!(parse_count("total 99"), Some(99));
        assert_eq!(parse_count("123"), Some(123));
        assert_eq!(parse_count("count=-1"), None);
        assert_eq!(parse_count("count=99999999999999999999999"), None);
        assert_eq!(parse_count("pulse"), None);
    }

    #[test]
    fn default_debounce_follows_the_constant() {
        // 3.6e9 / (1000 × 60000) = 60 ms; 3.6e9 / (100 × 60000) = 600 ms.
        assert_eq!(PulseCounter::new(1000, 0).unwrap().debounce_ms(), 60);
        assert_eq!(PulseCounter::new(100, 0).unwrap().debounce_ms(), 600);
        assert_eq!(PulseCounter::new(100_000, 0).unwrap().debounce_ms(), 1);
    }
}
