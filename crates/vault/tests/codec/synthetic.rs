//! Realistic meter streams for the codec's tests and bench, simulated second by second from a
//! fixed seed: a household's loads per phase (always-on base, fridge and freezer cycles,
//! kettle, oven, washing machine, noisy electronics), optional three-phase solar with passing
//! clouds, a grid voltage that drifts and sags under load, energy registers that integrate the
//! power, and a gas meter reported every few minutes. Independent of `hearth-meter-io`'s
//! simulator on purpose (it is written concurrently, and the codec's numbers must not move
//! when it changes). Also a tiny reader for the `OBIS(value*unit)` lines of a DSMR fixture.
#![allow(dead_code)]

use Quantity::*;
use hearth_meter::{MeterId, MeterTime, Protocol, Quantity, Reading};

/// splitmix64: small, fast and the same on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly standard normal (Irwin-Hall: the sum of 12 uniforms, minus 6).
    pub fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.uniform()).sum::<f64>() - 6.0
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }
}

/// An appliance running on one phase.
struct Load {
    phase: usize,
    watts: f64,
    seconds_left: u32,
    /// Thermostat: on for this many seconds out of every `cycle` (0 = always on).
    duty_on: u32,
    cycle: u32,
}

/// How the stream is shaped beyond what the start reading says.
#[derive(Clone, Copy)]
pub struct Profile {
    /// Seconds between readings.
    pub step_s: i64,
    /// Peak output of a three-phase solar inverter, W (0 = none).
    pub solar_peak_w: f64,
    /// Seconds between gas register updates (DSMR 5: 300, DSMR 4: 3600).
    pub gas_period_s: i64,
    /// Standard deviation of the per-phase measurement noise at no load, W (0.3 % of the load
    /// is added on top: a 2 kW kettle wobbles by about 6 W, as 0.1 % voltage ripple makes it).
    pub noise_w: f64,
}

impl Profile {
    pub const DSMR5: Profile = Profile {
        step_s: 1,
        solar_peak_w: 4_500.0,
        gas_period_s: 300,
        noise_w: 3.0,
    };
    pub const DSMR4: Profile = Profile {
        step_s: 10,
        solar_peak_w: 0.0,
        gas_period_s: 3600,
        noise_w: 3.0,
    };
}

/// A plausible DSMR 5 three-phase reading to start from: all fields a Dutch DSMR 5 meter with
/// gas sends, at 2026-06-15 11:00:00 CEST.
pub fn dsmr5_start() -> Reading {
    let mut r = Reading::new(Protocol::Dsmr);
    r.time = Some(MeterTime {
        unix: 1_781_514_000,
        offset_s: 7200,
    });
    r.meter_id = Some(MeterId::new("E0031003000012345"));
    r.dsmr_version = Some("50".into());
    for (q, v) in [
        (Tariff, 2),
        (ImportT1Wh, 8_123_456),
        (ImportT2Wh, 7_654_321),
        (ExportT1Wh, 1_234_567),
        (ExportT2Wh, 2_345_678),
        (ImportW, 0),
        (ExportW, 0),
        (L1Dv, 2_310),
        (L2Dv, 2_325),
        (L3Dv, 2_318),
        (L1Ma, 0),
        (L2Ma, 0),
        (L3Ma, 0),
        (L1ImportW, 60),
        (L2ImportW, 90),
        (L3ImportW, 45),
        (L1ExportW, 0),
        (L2ExportW, 0),
        (L3ExportW, 0),
        (PowerFailures, 7),
        (LongPowerFailures, 2),
        (VoltageSagsL1, 1),
        (VoltageSagsL2, 0),
        (VoltageSagsL3, 3),
        (VoltageSwellsL1, 0),
        (VoltageSwellsL2, 0),
        (VoltageSwellsL3, 0),
        (GasDm3, 4_321_987),
    ] {
        r.set(q, v);
    }
    r.gas_time = Some(MeterTime {
        unix: 1_781_514_000,
        offset_s: 7200,
    });
    r.fill_totals();
    r
}

/// [`dsmr5_start`] at the start of that day, 2026-06-15 00:00:00 CEST, for whole days.
pub fn dsmr5_midnight() -> Reading {
    let mut r = dsmr5_start();
    r.time = Some(MeterTime {
        unix: 1_781_474_400,
        offset_s: 7200,
    });
    r.gas_time = r.time;
    r
}

/// A DSMR 4.2 three-phase reading (no voltages; currents in whole amperes; hourly gas), as
/// the Kaifa fixture sends, at 2026-01-12 18:00:00 CET.
pub fn dsmr4_start() -> Reading {
    let mut r = dsmr5_start();
    r.dsmr_version = Some("42".into());
    r.time = Some(MeterTime {
        unix: 1_768_237_200,
        offset_s: 3600,
    });
    r.gas_time = r.time;
    for q in [L1Dv, L2Dv, L3Dv] {
        r.clear(q);
    }
    r
}

/// Energy registers only (an older or minimal meter): time, id, tariff registers, totals, gas.
pub fn registers_start() -> Reading {
    let full = dsmr5_start();
    let mut r = Reading::new(Protocol::Dsmr);
    r.time = full.time;
    r.meter_id = full.meter_id.clone();
    r.gas_time = full.gas_time;
    for q in [
        ImportT1Wh, ImportT2Wh, ExportT1Wh, ExportT2Wh, ImportWh, ExportWh, GasDm3,
    ] {
        if let Some(v) = full.get(q) {
            r.set(q, v);
        }
    }
    r
}

/// Simulates `n` readings continuing from `start`: every field `start` has evolves the way a
/// real meter's would, fields it lacks stay absent. The first reading is one step after
/// `start`.
pub fn stream(seed: u64, start: &Reading, profile: Profile, n: usize) -> Vec<Reading> {
    let mut rng = Rng::new(seed);
    let t0 = start.time.unwrap_or(MeterTime::utc(1_781_514_000));
    let g = |q| start.get(q).unwrap_or(0) as f64;
    // Always-on base per phase, from the start reading's phase powers.
    let base = [
        g(L1ImportW).max(30.0),
        g(L2ImportW).max(30.0),
        g(L3ImportW).max(30.0),
    ];
    let nominal_dv = [
        start.get(L1Dv).unwrap_or(2_300) as f64,
        start.get(L2Dv).unwrap_or(2_300) as f64,
        start.get(L3Dv).unwrap_or(2_300) as f64,
    ];
    let whole_amps = [L1Ma, L2Ma, L3Ma]
        .iter()
        .all(|&q| start.get(q).is_none_or(|v| v % 1000 == 0));
    let mut loads = vec![
        // Fridge on L1, freezer on L2: thermostat cycles.
        Load {
            phase: 0,
            watts: 85.0,
            seconds_left: u32::MAX,
            duty_on: 1_200,
            cycle: 3_300,
        },
        Load {
            phase: 1,
            watts: 70.0,
            seconds_left: u32::MAX,
            duty_on: 900,
            cycle: 2_700,
        },
    ];
    let mut grid = 0.0f64; // common voltage drift, dV
    let mut cloud = 1.0f64;
    let mut reg = [g(ImportT1Wh), g(ImportT2Wh), g(ExportT1Wh), g(ExportT2Wh)];
    let mut gas = g(GasDm3);
    let mut gas_reported = gas;
    let mut gas_time = start.gas_time;
    let mut out = Vec::with_capacity(n);
    for i in 1..=n as i64 {
        let unix = t0.unix + i * profile.step_s;
        let local_s = (unix + i64::from(t0.offset_s)).rem_euclid(86_400);
        let hour = local_s as f64 / 3600.0;
        // New appliances switch on now and then (one per ~10 minutes on average).
        for _ in 0..profile.step_s {
            if rng.chance(1.0 / 600.0) {
                let kind = rng.next_u64() % 5;
                let (phase, watts, secs, duty_on, cycle) = match kind {
                    0 => (0, 2_000.0, 150, 0, 0),                  // kettle
                    1 => (1, 1_100.0, 180, 0, 0),                  // microwave
                    2 => (2, 2_200.0, 1_800, 35, 60),              // oven thermostat
                    3 => (2, 1_900.0, 900, 0, 0),                  // washing machine heating
                    _ => (rng.next_u64() % 3, 120.0, 5_400, 0, 0), // TV, computer
                };
                loads.push(Load {
                    phase: phase as usize,
                    watts: watts * rng.range(0.9, 1.1),
                    seconds_left: secs,
                    duty_on,
                    cycle,
                });
            }
        }
        let mut load = base;
        for l in &mut loads {
            let on = l.cycle == 0 || (unix as u64 % u64::from(l.cycle)) < u64::from(l.duty_on);
            if on {
                load[l.phase] += l.watts;
            }
            l.seconds_left = l.seconds_left.saturating_sub(profile.step_s as u32);
        }
        loads.retain(|l| l.seconds_left > 0);
        // Solar between 06:00 and 21:00 local, with clouds drifting and sometimes passing fast.
        cloud = (cloud + 0.01 * rng.normal()).clamp(0.15, 1.0);
        if rng.chance(profile.step_s as f64 / 900.0) {
            cloud = rng.range(0.2, 1.0);
        }
        let sun = (std::f64::consts::PI * (hour - 6.0) / 15.0).sin().max(0.0);
        let solar = profile.solar_peak_w * sun * cloud;
        let mut net = [0.0f64; 3];
        for p in 0..3 {
            let noise = (profile.noise_w + 0.003 * load[p]) * rng.normal();
            let solar_p = if solar > 0.0 {
                solar / 3.0 + 2.0 * rng.normal()
            } else {
                0.0
            };
            net[p] = load[p] + noise - solar_p;
        }
        let imp: Vec<i64> = net.iter().map(|w| w.max(0.0).round() as i64).collect();
        let exp: Vec<i64> = net.iter().map(|w| (-w).max(0.0).round() as i64).collect();
        let total = imp.iter().sum::<i64>() - exp.iter().sum::<i64>();
        let (import_w, export_w) = (total.max(0), (-total).max(0));
        // Registers: tariff 2 (normal) on weekdays 07:00-23:00, tariff 1 (low) otherwise.
        let weekday = ((unix + i64::from(t0.offset_s)).div_euclid(86_400) + 3).rem_euclid(7) < 5;
        let tariff = if weekday && (7.0..23.0).contains(&hour) {
            2
        } else {
            1
        };
        let dt_h = profile.step_s as f64 / 3600.0;
        reg[tariff - 1] += import_w as f64 * dt_h;
        reg[tariff + 1] += export_w as f64 * dt_h;
        // Voltage: a common drift, per-phase noise, and a drop under load.
        grid = 0.995 * grid + 0.8 * rng.normal();
        let mut dv = [0i64; 3];
        for p in 0..3 {
            let v = nominal_dv[p] + grid + 0.7 * rng.normal() - 0.004 * (net[p]);
            dv[p] = v.round() as i64;
        }
        let ma: Vec<i64> = (0..3)
            .map(|p| {
                let amps = net[p].abs() / (dv[p] as f64 / 10.0);
                if whole_amps {
                    amps.round() as i64 * 1000
                } else {
                    (amps * 100.0).round() as i64 * 10
                }
            })
            .collect();
        // Gas: summer hot water now and then; reported at period boundaries.
        if rng.chance(profile.step_s as f64 / 1_800.0) {
            gas += rng.range(5.0, 60.0);
        }
        if unix % profile.gas_period_s == 0 {
            gas_reported = gas;
            gas_time = Some(MeterTime {
                unix,
                offset_s: t0.offset_s,
            });
        }

        let mut r = Reading::new(start.protocol);
        r.time = Some(MeterTime {
            unix,
            offset_s: t0.offset_s,
        });
        r.meter_id = start.meter_id.clone();
        r.dsmr_version = start.dsmr_version.clone();
        let values: [(Quantity, i64); 27] = [
            (Tariff, tariff as i64),
            (ImportT1Wh, reg[0] as i64),
            (ImportT2Wh, reg[1] as i64),
            (ExportT1Wh, reg[2] as i64),
            (ExportT2Wh, reg[3] as i64),
            (ImportW, import_w),
            (ExportW, export_w),
            (L1Dv, dv[0]),
            (L2Dv, dv[1]),
            (L3Dv, dv[2]),
            (L1Ma, ma[0]),
            (L2Ma, ma[1]),
            (L3Ma, ma[2]),
            (L1ImportW, imp[0]),
            (L2ImportW, imp[1]),
            (L3ImportW, imp[2]),
            (L1ExportW, exp[0]),
            (L2ExportW, exp[1]),
            (L3ExportW, exp[2]),
            (PowerFailures, g(PowerFailures) as i64),
            (LongPowerFailures, g(LongPowerFailures) as i64),
            (VoltageSagsL1, g(VoltageSagsL1) as i64),
            (VoltageSagsL2, g(VoltageSagsL2) as i64),
            (VoltageSagsL3, g(VoltageSagsL3) as i64),
            (VoltageSwellsL1, g(VoltageSwellsL1) as i64),
            (VoltageSwellsL2, g(VoltageSwellsL2) as i64),
            (VoltageSwellsL3, g(VoltageSwellsL3) as i64),
        ];
        for (q, v) in values {
            if start.get(q).is_some() {
                r.set(q, v);
            }
        }
        if start.get(GasDm3).is_some() {
            r.set(GasDm3, gas_reported as i64);
            r.gas_time = gas_time;
        }
        if start.get(ImportWh).is_some() || start.get(ExportWh).is_some() {
            r.fill_totals();
        }
        out.push(r);
    }
    out
}

/// Reads the data lines of a DSMR telegram the way the fixture spells them
/// (`OBIS(value*unit)`), for the fields the codec cares about. Test-only and deliberately
/// simple: the real decoder lives in `hearth-meter`.
pub fn reading_from_telegram(text: &str) -> Reading {
    let mut r = Reading::new(Protocol::Dsmr);
    for line in text.lines() {
        let Some((obis, rest)) = line.split_once('(') else {
            continue;
        };
        let fields: Vec<&str> = rest.trim_end().trim_end_matches(')').split(")(").collect();
        let value = fields.last().copied().unwrap_or("");
        let number = value.split('*').next().unwrap_or("");
        // (quantity, how many decimal places the stored integer has beyond the telegram unit)
        let target = match obis {
            "1-3:0.2.8" => {
                r.dsmr_version = Some(value.to_owned());
                continue;
            }
            "0-0:1.0.0" => {
                r.time = MeterTime::from_dsmr(value.as_bytes()).ok();
                continue;
            }
            "0-0:96.1.1" => {
                r.meter_id = Some(MeterId::new(unhex(value)));
                continue;
            }
            "0-1:24.2.1" => {
                r.gas_time = MeterTime::from_dsmr(fields[0].as_bytes()).ok();
                (GasDm3, 3)
            }
            "1-0:1.8.1" => (ImportT1Wh, 3),
            "1-0:1.8.2" => (ImportT2Wh, 3),
            "1-0:2.8.1" => (ExportT1Wh, 3),
            "1-0:2.8.2" => (ExportT2Wh, 3),
            "0-0:96.14.0" => (Tariff, 0),
            "1-0:1.7.0" => (ImportW, 3),
            "1-0:2.7.0" => (ExportW, 3),
            "0-0:96.7.21" => (PowerFailures, 0),
            "0-0:96.7.9" => (LongPowerFailures, 0),
            "1-0:32.32.0" => (VoltageSagsL1, 0),
            "1-0:52.32.0" => (VoltageSagsL2, 0),
            "1-0:72.32.0" => (VoltageSagsL3, 0),
            "1-0:32.36.0" => (VoltageSwellsL1, 0),
            "1-0:52.36.0" => (VoltageSwellsL2, 0),
            "1-0:72.36.0" => (VoltageSwellsL3, 0),
            "1-0:32.7.0" => (L1Dv, 1),
            "1-0:52.7.0" => (L2Dv, 1),
            "1-0:72.7.0" => (L3Dv, 1),
            "1-0:31.7.0" => (L1Ma, 3),
            "1-0:51.7.0" => (L2Ma, 3),
            "1-0:71.7.0" => (L3Ma, 3),
            "1-0:21.7.0" => (L1ImportW, 3),
            "1-0:41.7.0" => (L2ImportW, 3),
            "1-0:61.7.0" => (L3ImportW, 3),
            "1-0:22.7.0" => (L1ExportW, 3),
            "1-0:42.7.0" => (L2ExportW, 3),
            "1-0:62.7.0" => (L3ExportW, 3),
            _ => continue,
        };
        if let Some(v) = fixed(number, target.1) {
            r.set(target.0, v);
        }
    }
    r.fill_totals();
    r
}

/// `"000004.426"` with scale 3 → 4426; `"0230.0"` with scale 1 → 2300.
fn fixed(s: &str, scale: u32) -> Option<i64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > scale as usize {
        return None;
    }
    let digits = format!("{int}{frac}");
    let v: i64 = digits.parse().ok()?;
    Some(v * 10i64.pow(scale - frac.len() as u32))
}

fn unhex(s: &str) -> String {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok())
        .map(char::from)
        .collect()
}
