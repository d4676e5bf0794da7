//! The simulated meter: a household that lives second by second and a DSMR 5.0.2 meter that
//! reports it, one valid telegram per simulated second. [`OpticalMeter`] plays an
//! IEC 62056-21 meter that answers sign-on requests through a pseudo-terminal.
//!
//! Deterministic from a seed: the same seed and start time always give the same bytes. The
//! energy registers are exactly the integral of the reported power: every second adds the
//! reported import (or export) watts as watt-seconds to the register of the active tariff, and
//! the register shows the whole watt-hours of that sum (the sub-Wh remainder is carried, never
//! rounded away). The gas register follows the same rule in millilitres and, as on a real
//! DSMR 5 meter, is captured every five minutes.
//!
//! ```
//! use hearth_meter_io::simulator::Simulator;
//!
//! // 2026-01-15T12:00:00Z, a Thursday.
//! let mut meter = Simulator::new(42, 1_768_478_400);
//! let telegram = meter.next_telegram();
//! assert!(telegram.starts_with(b"/HTH5"));
//! assert!(telegram.ends_with(b"\r\n"));
//! assert_eq!(meter.last().time.to_string(), "2026-01-15T13:00:00+01:00");
//! ```

mod calendar;
mod household;
mod optical;
mod prng;
mod pty;
mod sky;

pub use household::Household;
pub use optical::{Exchange, OpticalMeter};
pub use pty::{PtyError, PtyMeter};

use calendar::Civil;
use hearth_meter::dsmr::crc16;
use hearth_meter::time::amsterdam;
use hearth_meter::{MeterId, MeterTime, Protocol, Quantity, Reading};
use household::Model;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use prng::Prng;
use std::io::Write as _;

/// What the simulated meter measured in one second: the numbers its telegram carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// The telegram time (the end of the second), with the Amsterdam offset of that moment.
    pub time: MeterTime,
    /// Active tariff: 1 (low: nights 23:00-07:00 and weekends) or 2 (normal).
    pub tariff: u8,
    /// Net active power per phase, W: positive imported, negative exported.
    pub phase_w: [i32; 3],
    /// Total imported power (the net over the phases when positive), W.
    pub import_w: i32,
    /// Total exported power (the net over the phases when negative), W.
    pub export_w: i32,
    /// Import registers, tariff 1 and 2, Wh.
    pub import_wh: [i64; 2],
    /// Export registers, tariff 1 and 2, Wh.
    pub export_wh: [i64; 2],
    /// Phase voltages, dV (0.1 V).
    pub voltage_dv: [i32; 3],
    /// Phase currents, whole amperes (DSMR 5 sends integers).
    pub current_a: [i32; 3],
    /// Gas register as last captured (every five minutes), dm³.
    pub gas_dm3: i64,
    /// When the gas register was captured.
    pub gas_time: MeterTime,
    /// Gas consumed during this second, millilitres (the captured register lags it).
    pub gas_ml: u32,
}

impl Sample {
    /// The canonical reading this sample's telegram encodes (what a DSMR decoder must produce
    /// from it): registers, totals, power, per-phase values, counters, gas, meter id.
    pub fn reading(&self, meter: &MeterIdentity) -> Reading {
        let mut r = Reading::new(Protocol::Dsmr);
        r.time = Some(self.time);
        r.meter_id = Some(MeterId::new(meter.equipment_id.clone()));
        r.dsmr_version = Some("50".to_owned());
        r.set(Quantity::Tariff, i64::from(self.tariff));
        r.set(Quantity::ImportT1Wh, self.import_wh[0]);
        r.set(Quantity::ImportT2Wh, self.import_wh[1]);
        r.set(Quantity::ExportT1Wh, self.export_wh[0]);
        r.set(Quantity::ExportT2Wh, self.export_wh[1]);
        r.set(Quantity::ImportW, i64::from(self.import_w));
        r.set(Quantity::ExportW, i64::from(self.export_w));
        let volts = [Quantity::L1Dv, Quantity::L2Dv, Quantity::L3Dv];
        let amps = [Quantity::L1Ma, Quantity::L2Ma, Quantity::L3Ma];
        let imports = [
            Quantity::L1ImportW,
            Quantity::L2ImportW,
            Quantity::L3ImportW,
        ];
        let exports = [
            Quantity::L1ExportW,
            Quantity::L2ExportW,
            Quantity::L3ExportW,
        ];
        for i in 0..3 {
            r.set(volts[i], i64::from(self.voltage_dv[i]));
            r.set(amps[i], i64::from(self.current_a[i]) * 1000);
            r.set(imports[i], i64::from(self.phase_w[i].max(0)));
            r.set(exports[i], i64::from((-self.phase_w[i]).max(0)));
        }
        r.set(Quantity::PowerFailures, i64::from(meter.power_failures));
        r.set(
            Quantity::LongPowerFailures,
            i64::from(meter.long_power_failures),
        );
        let sags = [
            Quantity::VoltageSagsL1,
            Quantity::VoltageSagsL2,
            Quantity::VoltageSagsL3,
        ];
        let swells = [
            Quantity::VoltageSwellsL1,
            Quantity::VoltageSwellsL2,
            Quantity::VoltageSwellsL3,
        ];
        for i in 0..3 {
            r.set(sags[i], i64::from(meter.sags[i]));
            r.set(swells[i], i64::from(meter.swells[i]));
        }
        r.set(Quantity::GasDm3, self.gas_dm3);
        r.gas_time = Some(self.gas_time);
        r.fill_totals();
        r
    }
}

/// The simulated meter's fixed identity and counters, drawn from the seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeterIdentity {
    /// Electricity equipment identifier (sent hex-encoded in `0-0:96.1.1`). Personal data on a
    /// real meter; this one is made up.
    pub equipment_id: String,
    /// Gas meter identifier (sent hex-encoded in `0-1:96.1.0`).
    pub gas_id: String,
    /// Power failures in any phase (`0-0:96.7.21`).
    pub power_failures: u32,
    /// Long power failures in any phase (`0-0:96.7.9`).
    pub long_power_failures: u32,
    /// The long failures logged in `1-0:99.97.0`: end time (unix) and duration (s).
    pub failure_log: Vec<(i64, u32)>,
    /// Voltage sags per phase (`1-0:32.32.0`, ...).
    pub sags: [u32; 3],
    /// Voltage swells per phase (`1-0:32.36.0`, ...).
    pub swells: [u32; 3],
}

/// A simulated household with a DSMR 5.0.2 meter (three phases, gas on M-Bus channel 1).
#[derive(Debug, Clone)]
pub struct Simulator {
    model: Model,
    identity: MeterIdentity,
    tz: TimeZone,
    /// The UTC hour the cached offset belongs to, and the offset.
    offset_cache: (i64, i32),
    next_unix: i64,
    /// Import and export per tariff in watt-seconds (register Wh × 3600 + remainder).
    import_ws: [i64; 2],
    export_ws: [i64; 2],
    gas_ml_total: i64,
    gas_captured: (i64, i64),
    volts_base: [f64; 3],
    volt_noise: Prng,
    /// The `1-0:99.97.0` line, fixed for the meter's life.
    failure_log_line: Vec<u8>,
    last: Sample,
}

impl Simulator {
    /// A typical household ([`Household::typical`]) whose first telegram is stamped
    /// `start_unix` (seconds since the epoch, UTC); each later telegram is one second later.
    pub fn new(seed: u64, start_unix: i64) -> Simulator {
        Simulator::with_household(seed, start_unix, Household::typical(seed))
    }

    /// A chosen household (an EV, a heat pump, a different roof).
    pub fn with_household(seed: u64, start_unix: i64, household: Household) -> Simulator {
        let mut p = Prng::derive(seed, 0x004D_6574_6572);
        let digits = |p: &mut Prng, n: usize| -> String {
            (0..n)
                .map(|_| char::from(b'0' + p.int(0, 9) as u8))
                .collect()
        };
        let equipment_id = format!("E00{}", digits(&mut p, 14));
        let gas_id = format!("G00{}", digits(&mut p, 14));
        let power_failures = p.int(0, 12) as u32;
        let long_power_failures = p.int(0, 3) as u32;
        let mut failure_log = Vec::new();
        let mut when = start_unix - p.int(20, 400) * 86_400;
        for _ in 0..long_power_failures {
            failure_log.push((when, p.int(181, 7_200) as u32));
            when -= p.int(30, 700) * 86_400;
        }
        let sags = [0; 3].map(|_: u32| p.int(0, 3) as u32);
        let swells = [0; 3].map(|_: u32| p.int(0, 1) as u32);
        let has_solar = household.solar_kwp > 0.0;
        let import_wh = [p.int(2_500_000, 9_000_000), p.int(2_500_000, 9_000_000)];
        let export_wh = if has_solar {
            [p.int(500_000, 5_000_000), p.int(500_000, 5_000_000)]
        } else {
            [0, 0]
        };
        let gas_ml_total = p.int(800_000, 9_000_000) * 1000;
        let volts_base = [
            p.range(228.5, 233.0),
            p.range(228.5, 233.0),
            p.range(228.5, 233.0),
        ];
        let tz = amsterdam();
        let gas_capture = start_unix.div_euclid(300) * 300;
        let offset = tz.to_offset(ts(start_unix)).seconds();
        let first = Sample {
            time: MeterTime {
                unix: start_unix,
                offset_s: offset,
            },
            tariff: 1,
            phase_w: [0; 3],
            import_w: 0,
            export_w: 0,
            import_wh,
            export_wh,
            voltage_dv: [2300; 3],
            current_a: [0; 3],
            gas_dm3: gas_ml_total / 1000,
            gas_time: MeterTime::in_zone(gas_capture, &tz),
            gas_ml: 0,
        };
        let mut failure_log_line = Vec::new();
        let _ = write!(
            failure_log_line,
            "1-0:99.97.0({})(0-0:96.7.19)",
            failure_log.len()
        );
        for &(end, dur) in &failure_log {
            failure_log_line.push(b'(');
            failure_log_line.extend_from_slice(&dsmr_time(MeterTime::in_zone(end, &tz)));
            let _ = write!(failure_log_line, ")({dur:010}*s)");
        }
        failure_log_line.extend_from_slice(b"\r\n");
        Simulator {
            model: Model::new(seed, household),
            identity: MeterIdentity {
                equipment_id,
                gas_id,
                power_failures,
                long_power_failures,
                failure_log,
                sags,
                swells,
            },
            offset_cache: (start_unix.div_euclid(3600), offset),
            tz,
            next_unix: start_unix,
            import_ws: import_wh.map(|wh| wh * 3600),
            export_ws: export_wh.map(|wh| wh * 3600),
            gas_ml_total,
            gas_captured: (gas_capture, gas_ml_total / 1000),
            volts_base,
            volt_noise: Prng::derive(seed, 0x566F_6C74),
            failure_log_line,
            last: first,
        }
    }

    /// The household being simulated.
    pub fn household(&self) -> &Household {
        self.model.household()
    }

    /// The meter's identity and event counters.
    pub fn identity(&self) -> &MeterIdentity {
        &self.identity
    }

    /// The time the next telegram will carry.
    pub fn next_unix(&self) -> i64 {
        self.next_unix
    }

    /// The most recent sample (before the first step: the starting registers, zero power).
    pub fn last(&self) -> &Sample {
        &self.last
    }

    /// Simulates the next second and returns its sample.
    pub fn step(&mut self) -> &Sample {
        let unix = self.next_unix;
        self.next_unix += 1;
        let hour = unix.div_euclid(3600);
        if self.offset_cache.0 != hour {
            self.offset_cache = (hour, self.tz.to_offset(ts(unix)).seconds());
        }
        let offset_s = self.offset_cache.1;
        let civil = Civil::from_local_seconds(unix + i64::from(offset_s));
        let draw = self.model.step(unix, &civil);

        let tariff: u8 = if !civil.is_weekend() && (7..23).contains(&civil.hour()) {
            2
        } else {
            1
        };
        let net: i32 = draw.phase_w.iter().sum();
        let import_w = net.max(0);
        let export_w = (-net).max(0);
        let t = usize::from(tariff - 1);
        self.import_ws[t] += i64::from(import_w);
        self.export_ws[t] += i64::from(export_w);

        self.gas_ml_total += i64::from(draw.gas_ml);
        if unix.rem_euclid(300) == 0 {
            self.gas_captured = (unix, self.gas_ml_total / 1000);
        }

        // Voltage: the grid's level, an evening dip, a midday rise where the street has solar,
        // and the drop over the house's own cable (0.25 Ω).
        let hours = civil.hours();
        let evening_dip = if (17.0..21.0).contains(&hours) {
            -2.0
        } else {
            0.0
        };
        let midday = 2.5 * (-(hours - 13.0).powi(2) / 8.0).exp();
        let mut voltage_dv = [0; 3];
        let mut current_a = [0; 3];
        for i in 0..3 {
            let amps = f64::from(draw.phase_w[i]) / 230.0;
            let v = self.volts_base[i] + evening_dip + midday - 0.25 * amps
                + self.volt_noise.range(-0.3, 0.3);
            voltage_dv[i] = (v * 10.0).round() as i32;
            current_a[i] = (f64::from(draw.phase_w[i].unsigned_abs()) / v).round() as i32;
        }

        self.last = Sample {
            time: MeterTime { unix, offset_s },
            tariff,
            phase_w: draw.phase_w,
            import_w,
            export_w,
            import_wh: self.import_ws.map(|ws| ws.div_euclid(3600)),
            export_wh: self.export_ws.map(|ws| ws.div_euclid(3600)),
            voltage_dv,
            current_a,
            gas_dm3: self.gas_captured.1,
            gas_time: MeterTime::in_zone(self.gas_captured.0, &self.tz),
            gas_ml: draw.gas_ml,
        };
        &self.last
    }

    /// Simulates the next second and returns its DSMR 5.0.2 telegram (`/` to `!CRC\r\n`).
    pub fn next_telegram(&mut self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1024);
        self.next_telegram_into(&mut out);
        out
    }

    /// Like [`Simulator::next_telegram`], appending to `out` (no allocation once it is big
    /// enough).
    pub fn next_telegram_into(&mut self, out: &mut Vec<u8>) {
        self.step();
        write_telegram(&self.last, &self.identity, &self.failure_log_line, out);
    }

    /// The canonical reading of the most recent telegram (what a DSMR decoder must produce).
    pub fn reading(&self) -> Reading {
        self.last.reading(&self.identity)
    }

    /// The current sample's telegram again (without advancing time).
    pub fn telegram(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1024);
        write_telegram(&self.last, &self.identity, &self.failure_log_line, &mut out);
        out
    }
}

fn ts(unix: i64) -> Timestamp {
    Timestamp::from_second(unix).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// `YYMMDDhhmmssX` in the time's own offset (`S` for summer time, `W` for winter time).
fn dsmr_time(t: MeterTime) -> [u8; 13] {
    let c = Civil::from_local_seconds(t.unix + i64::from(t.offset_s));
    let mut s = [0u8; 13];
    let parts = [
        c.year.rem_euclid(100) as u32,
        c.month,
        c.day,
        c.hour(),
        c.minute(),
        c.second(),
    ];
    for (i, v) in parts.into_iter().enumerate() {
        s[2 * i] = b'0' + (v / 10) as u8;
        s[2 * i + 1] = b'0' + (v % 10) as u8;
    }
    s[12] = if t.offset_s == 7200 { b'S' } else { b'W' };
    s
}

fn push_hex(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in text.bytes() {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 15)]);
    }
}

/// Appends `value` as `int_digits` zero-padded digits, and `dec_digits` more after a point
/// when `dec_digits > 0` (`push_fixed(out, 1234, 2, 3)` writes `01.234`). Negative values are
/// written as 0; values too large keep their low digits, like a meter's wrapping register.
fn push_fixed(out: &mut Vec<u8>, value: i64, int_digits: usize, dec_digits: usize) {
    let mut digits = [b'0'; 20];
    let n = int_digits + dec_digits;
    let mut v = value.max(0) as u64;
    for d in digits[..n].iter_mut().rev() {
        *d = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out.extend_from_slice(&digits[..int_digits]);
    if dec_digits > 0 {
        out.push(b'.');
        out.extend_from_slice(&digits[int_digits..n]);
    }
}

/// `OBIS(value*unit)` CR LF.
fn push_line(out: &mut Vec<u8>, obis: &[u8], value: i64, digits: (usize, usize), unit: &[u8]) {
    out.extend_from_slice(obis);
    out.push(b'(');
    push_fixed(out, value, digits.0, digits.1);
    if !unit.is_empty() {
        out.push(b'*');
        out.extend_from_slice(unit);
    }
    out.extend_from_slice(b")\r\n");
}

/// Writes one DSMR 5.0.2 telegram for `s` (formats as in DSMR 5.0.2 P1 companion standard
/// §6.12: energy F9(3,3) kWh, power F5(3,3) kW, voltage F4(1,1) V, current F3(0,0) A, gas
/// F8(2,3) m³ with its capture time) and its CRC-16/ARC over `/`..`!`.
fn write_telegram(s: &Sample, id: &MeterIdentity, failure_log_line: &[u8], out: &mut Vec<u8>) {
    const KWH: (usize, usize) = (6, 3);
    const KW: (usize, usize) = (2, 3);
    const COUNT: (usize, usize) = (5, 0);
    let start = out.len();
    out.extend_from_slice(b"/HTH5\\2HEARTH-SIMULATED\r\n\r\n1-3:0.2.8(50)\r\n0-0:1.0.0(");
    out.extend_from_slice(&dsmr_time(s.time));
    out.extend_from_slice(b")\r\n0-0:96.1.1(");
    push_hex(out, &id.equipment_id);
    out.extend_from_slice(b")\r\n");
    push_line(out, b"1-0:1.8.1", s.import_wh[0], KWH, b"kWh");
    push_line(out, b"1-0:1.8.2", s.import_wh[1], KWH, b"kWh");
    push_line(out, b"1-0:2.8.1", s.export_wh[0], KWH, b"kWh");
    push_line(out, b"1-0:2.8.2", s.export_wh[1], KWH, b"kWh");
    push_line(out, b"0-0:96.14.0", i64::from(s.tariff), (4, 0), b"");
    push_line(out, b"1-0:1.7.0", i64::from(s.import_w), KW, b"kW");
    push_line(out, b"1-0:2.7.0", i64::from(s.export_w), KW, b"kW");
    push_line(
        out,
        b"0-0:96.7.21",
        i64::from(id.power_failures),
        COUNT,
        b"",
    );
    push_line(
        out,
        b"0-0:96.7.9",
        i64::from(id.long_power_failures),
        COUNT,
        b"",
    );
    out.extend_from_slice(failure_log_line);
    for (obis, n) in [b"1-0:32.32.0", b"1-0:52.32.0", b"1-0:72.32.0"]
        .into_iter()
        .zip(id.sags)
    {
        push_line(out, obis, i64::from(n), COUNT, b"");
    }
    for (obis, n) in [b"1-0:32.36.0", b"1-0:52.36.0", b"1-0:72.36.0"]
        .into_iter()
        .zip(id.swells)
    {
        push_line(out, obis, i64::from(n), COUNT, b"");
    }
    out.extend_from_slice(b"0-0:96.13.0()\r\n");
    for (obis, dv) in [b"1-0:32.7.0", b"1-0:52.7.0", b"1-0:72.7.0"]
        .into_iter()
        .zip(s.voltage_dv)
    {
        push_line(out, obis, i64::from(dv), (3, 1), b"V");
    }
    for (obis, a) in [b"1-0:31.7.0", b"1-0:51.7.0", b"1-0:71.7.0"]
        .into_iter()
        .zip(s.current_a)
    {
        push_line(out, obis, i64::from(a), (3, 0), b"A");
    }
    for (obis, w) in [b"1-0:21.7.0", b"1-0:41.7.0", b"1-0:61.7.0"]
        .into_iter()
        .zip(s.phase_w)
    {
        push_line(out, obis, i64::from(w.max(0)), KW, b"kW");
    }
    for (obis, w) in [b"1-0:22.7.0", b"1-0:42.7.0", b"1-0:62.7.0"]
        .into_iter()
        .zip(s.phase_w)
    {
        push_line(out, obis, i64::from((-w).max(0)), KW, b"kW");
    }
    out.extend_from_slice(b"0-1:24.1.0(003)\r\n0-1:96.1.0(");
    push_hex(out, &id.gas_id);
    out.extend_from_slice(b")\r\n0-1:24.2.1(");
    out.extend_from_slice(&dsmr_time(s.gas_time));
    out.extend_from_slice(b")(");
    push_fixed(out, s.gas_dm3, 5, 3);
    out.extend_from_slice(b"*m3)\r\n!");
    let crc = crc16(&out[start..]);
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for shift in [12, 8, 4, 0] {
        out.push(HEX[usize::from((crc >> shift) & 15)]);
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_point_fields() {
        let mut out = Vec::new();
        push_fixed(&mut out, 1234, 2, 3);
        push_fixed(&mut out, 5, 3, 0);
        push_fixed(&mut out, -7, 2, 3);
        push_fixed(&mut out, 123_456_789_012, 6, 3);
        assert_eq!(
            out,
            b"01.234005"
                .iter()
                .chain(b"00.000456789.012")
                .copied()
                .collect::<Vec<u8>>()
        );
    }
}
