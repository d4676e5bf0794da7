//! The simulated household: what it owns, and second by second what it draws per phase and how
//! much gas it burns. Appliance runs are planned per local day from the seed, so a seed always
//! replays the same life: fridge and freezer cycles on an always-on base load, breakfast and a
//! cooking peak around 18:00, a washing machine and a dishwasher on some days, evening light and
//! screens, optionally an EV and a heat pump, solar panels that follow the sun and the clouds,
//! and gas heating that follows the season.

use super::calendar::Civil;
use super::prng::Prng;
use super::sky::{outdoor_temp_c, sun_elevation_sin};

/// Gas: upper heating value 35.17 MJ/m³ (Groningen gas, 9.77 kWh/m³), boiler efficiency 90 %.
const GAS_WH_PER_M3: f64 = 9_769.0 * 0.9;
/// Indoor set point by day and the night set-back (°C).
const INDOOR_DAY_C: f64 = 20.0;
const INDOOR_NIGHT_C: f64 = 16.0;
/// Heat from people, appliances and the sun through the windows, W.
const INTERNAL_GAINS_W: f64 = 400.0;

/// What the simulated home owns. [`Household::typical`] picks a plausible Dutch home from a
/// seed; change fields to try other homes (an EV, a heat pump, a bigger roof).
#[derive(Debug, Clone, PartialEq)]
pub struct Household {
    /// Always-on load (router, standby, ventilation), W.
    pub base_load_w: u32,
    /// Solar panel peak power, kWp (0 for none).
    pub solar_kwp: f64,
    /// Whether an electric car is charged at home (11 kW, three phases) on weekday evenings.
    pub ev: bool,
    /// Whether a heat pump heats the home instead of the gas boiler.
    pub heat_pump: bool,
    /// How much heat the house loses per kelvin of indoor-outdoor difference, W/K.
    pub heat_loss_w_per_k: f64,
}

impl Household {
    /// A plausible home drawn from the seed: base load 120-250 W, solar panels on six homes out
    /// of ten (2.4-5.4 kWp), gas heating, no EV, no heat pump.
    pub fn typical(seed: u64) -> Household {
        let mut p = Prng::derive(seed, 0x0048_6F75_7365);
        let base_load_w = p.int(120, 250) as u32;
        let solar_kwp = if p.chance(0.6) {
            // 8 to 18 panels of 300 Wp.
            p.int(8, 18) as f64 * 0.3
        } else {
            0.0
        };
        Household {
            base_load_w,
            solar_kwp,
            ev: false,
            heat_pump: false,
            heat_loss_w_per_k: p.range(110.0, 200.0),
        }
    }
}

/// What the household drew in one second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Draw {
    /// Net active power per phase, W: positive imports, negative exports.
    pub(crate) phase_w: [i32; 3],
    /// Gas burnt in this second, millilitres.
    pub(crate) gas_ml: u32,
}

/// A planned appliance run: consecutive (seconds, watts) segments from `start` (unix seconds).
#[derive(Debug, Clone)]
struct Run {
    start: i64,
    phase: usize,
    /// Three-phase loads draw `watts` on every phase.
    all_phases: bool,
    segments: Vec<(u32, u32)>,
}

impl Run {
    fn end(&self) -> i64 {
        self.start + self.segments.iter().map(|s| i64::from(s.0)).sum::<i64>()
    }

    fn watts_at(&self, unix: i64) -> u32 {
        if unix < self.start {
            return 0;
        }
        let mut t = unix - self.start;
        for &(dur, w) in &self.segments {
            if t < i64::from(dur) {
                return w;
            }
            t -= i64::from(dur);
        }
        0
    }
}

/// One local day's plan, drawn from (seed, day number).
#[derive(Debug, Clone)]
struct DayPlan {
    day_number: i64,
    temp_offset_c: f64,
    /// Clear-sky fraction of the day (0.15 overcast .. 1 clear).
    clearness: f64,
    wake_s: u32,
    sleep_s: u32,
    home_office: bool,
    shower_s: u32,
}

/// A fridge-like thermostat cycle: on for a while (with a start-up surge), off for a while.
#[derive(Debug, Clone)]
struct Cycle {
    on: bool,
    left_s: u32,
    surge_s: u32,
    watts: u32,
    on_range: (i64, i64),
    off_range: (i64, i64),
}

impl Cycle {
    fn step(&mut self, p: &mut Prng) -> u32 {
        if self.left_s == 0 {
            self.on = !self.on;
            let (lo, hi) = if self.on {
                self.surge_s = 2;
                self.on_range
            } else {
                self.off_range
            };
            self.left_s = p.int(lo, hi) as u32;
        }
        self.left_s -= 1;
        if !self.on {
            return 0;
        }
        if self.surge_s > 0 {
            self.surge_s -= 1;
            return self.watts * 3;
        }
        self.watts
    }
}

/// The household model's running state.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    seed: u64,
    home: Household,
    noise: Prng,
    fridge: Cycle,
    freezer: Cycle,
    plan: Option<DayPlan>,
    runs: Vec<Run>,
    /// Passing-cloud factor (0..1], a slow random walk.
    cloud: f64,
    /// Heat pump compressor state.
    heat_pump_left_s: u32,
    heat_pump_on: bool,
    /// EV energy still to charge, Wh.
    ev_need_wh: f64,
    /// Sub-millilitre gas carried to the next second.
    gas_carry_ml: f64,
}

impl Model {
    pub(crate) fn new(seed: u64, home: Household) -> Model {
        let mut p = Prng::derive(seed, 0x4672_6964);
        let fridge = Cycle {
            on: p.chance(0.35),
            left_s: p.int(60, 900) as u32,
            surge_s: 0,
            watts: p.int(70, 110) as u32,
            on_range: (600, 1100),
            off_range: (1300, 2400),
        };
        let freezer = Cycle {
            on: p.chance(0.3),
            left_s: p.int(60, 900) as u32,
            surge_s: 0,
            watts: p.int(60, 95) as u32,
            on_range: (700, 1300),
            off_range: (1800, 3000),
        };
        Model {
            seed,
            home,
            noise: Prng::derive(seed, 0x004E_6F69_7365),
            fridge,
            freezer,
            plan: None,
            runs: Vec::new(),
            cloud: 1.0,
            heat_pump_left_s: 0,
            heat_pump_on: false,
            ev_need_wh: 0.0,
            gas_carry_ml: 0.0,
        }
    }

    pub(crate) fn household(&self) -> &Household {
        &self.home
    }

    /// Plans a new local day: its weather, its people's rhythm, its appliance runs.
    fn plan_day(&mut self, unix: i64, civil: &Civil) {
        let mut p = Prng::derive(self.seed, civil.day_number as u64 ^ 0x4461_7900_0000_0000);
        let midnight = unix - i64::from(civil.second_of_day);
        let weekend = civil.is_weekend();
        let wake_s = if weekend {
            p.int(7 * 3600 + 1800, 9 * 3600 + 1800)
        } else {
            p.int(6 * 3600, 7 * 3600 + 900)
        } as u32;
        let sleep_s = p.int(22 * 3600 + 1800, 23 * 3600 + 3000) as u32;
        let plan = DayPlan {
            day_number: civil.day_number,
            temp_offset_c: p.range(-3.0, 3.0),
            clearness: if p.chance(0.3) {
                p.range(0.85, 1.0)
            } else {
                p.range(0.15, 0.8)
            },
            wake_s,
            sleep_s,
            home_office: !weekend && p.chance(0.45),
            shower_s: wake_s + p.int(600, 2400) as u32,
        };
        // Drop finished runs from earlier days; keep ones still running across midnight.
        self.runs.retain(|r| r.end() > unix);

        // Breakfast: the kettle and the coffee machine.
        let breakfast = midnight + i64::from(plan.wake_s) + p.int(900, 1800);
        self.runs.push(Run {
            start: breakfast,
            phase: 1,
            all_phases: false,
            segments: vec![(p.int(120, 200) as u32, 2200), (60, 0), (90, 1300)],
        });
        // Weekend lunch in the microwave.
        if weekend {
            self.runs.push(Run {
                start: midnight + p.int(12 * 3600, 13 * 3600 + 1800),
                phase: 1,
                all_phases: false,
                segments: vec![(p.int(180, 420) as u32, 1100)],
            });
        }
        // Dinner: the induction hob cycles for 30-50 minutes from around 18:00, the oven on
        // some days.
        let dinner = midnight + p.int(17 * 3600 + 1800, 18 * 3600 + 2400);
        let mut hob = Vec::new();
        let cook_s = p.int(1800, 3000);
        let mut t = 0;
        while t < cook_s {
            let on = p.int(40, 150);
            let off = p.int(10, 60);
            hob.push((on as u32, p.int(1200, 3400) as u32));
            hob.push((off as u32, p.int(0, 400) as u32));
            t += on + off;
        }
        self.runs.push(Run {
            start: dinner,
            phase: 1,
            all_phases: false,
            segments: hob,
        });
        if p.chance(if weekend { 0.6 } else { 0.25 }) {
            let mut oven = vec![(600, 2400)];
            for _ in 0..8 {
                oven.push((p.int(60, 120) as u32, 0));
                oven.push((p.int(90, 180) as u32, 2400));
            }
            self.runs.push(Run {
                start: dinner - p.int(600, 1800),
                phase: 2,
                all_phases: false,
                segments: oven,
            });
        }
        // Washing machine on some days: fill, heat, wash, rinse, spin.
        if p.chance(if weekend { 0.6 } else { 0.35 }) {
            let start = midnight + p.int(9 * 3600, 19 * 3600);
            self.runs.push(Run {
                start,
                phase: 2,
                all_phases: false,
                segments: vec![
                    (p.int(240, 420) as u32, 30),
                    (p.int(600, 1200) as u32, 2050),
                    (p.int(2400, 3600) as u32, 180),
                    (p.int(600, 900) as u32, 90),
                    (p.int(420, 720) as u32, 480),
                ],
            });
        }
        // Dishwasher after dinner on most days.
        if p.chance(0.6) {
            let start = midnight + p.int(20 * 3600 + 1800, 22 * 3600);
            self.runs.push(Run {
                start,
                phase: 2,
                all_phases: false,
                segments: vec![
                    (300, 40),
                    (p.int(900, 1300) as u32, 1900),
                    (p.int(1800, 2700) as u32, 120),
                    (p.int(600, 900) as u32, 1900),
                    (1200, 10),
                ],
            });
        }
        // An electric car plugged in on weekday evenings (three phases, 16 A each).
        if self.home.ev && (!weekend || p.chance(0.3)) {
            self.ev_need_wh += p.range(6_000.0, 14_000.0);
            let plug = midnight + p.int(17 * 3600 + 1800, 19 * 3600);
            self.runs.push(Run {
                start: plug,
                phase: 0,
                all_phases: true,
                // The charge stops once the car's need is met (see `step`).
                segments: vec![(6 * 3600, 3680)],
            });
        }
        self.plan = Some(plan);
    }

    /// Advances one second ending at `unix`, with `civil` its local date and time.
    pub(crate) fn step(&mut self, unix: i64, civil: &Civil) -> Draw {
        if self.plan.as_ref().map(|p| p.day_number) != Some(civil.day_number) {
            self.plan_day(unix, civil);
        }
        let Some(plan) = self.plan.clone() else {
            return Draw::default();
        };
        let n = &mut self.noise;
        let sod = civil.second_of_day;
        let awake = sod >= plan.wake_s && sod < plan.sleep_s;
        let hours = civil.hours();

        let mut w = [0f64; 3];
        // Always-on base load, spread over the phases, with a little jitter.
        let base = f64::from(self.home.base_load_w);
        w[0] += base * 0.5 + n.range(-3.0, 3.0);
        w[1] += base * 0.3 + n.range(-2.0, 2.0);
        w[2] += base * 0.2 + n.range(-2.0, 2.0);
        w[0] += f64::from(self.fridge.step(n));
        w[2] += f64::from(self.freezer.step(n));

        // Light when awake and dark (sun below ~5°), screens in the evening, a home office.
        let sun = sun_elevation_sin(unix);
        if awake && sun < 0.09 {
            w[1] += 110.0;
        }
        if awake && sod >= 19 * 3600 {
            w[0] += 135.0;
        }
        if plan.home_office && (9 * 3600..17 * 3600 + 1800).contains(&sod) && sod % 3600 > 300 {
            w[0] += 95.0;
        }

        // Planned runs; the EV charger stops when the car is full.
        for run in &self.runs {
            let mut watts = f64::from(run.watts_at(unix));
            if run.all_phases && watts > 0.0 {
                if self.ev_need_wh <= 0.0 {
                    watts = 0.0;
                } else {
                    self.ev_need_wh -= watts * 3.0 / 3600.0;
                }
            }
            if run.all_phases {
                for phase in &mut w {
                    *phase += watts;
                }
            } else {
                w[run.phase] += watts;
            }
        }

        // Heating: the boiler (gas plus its pump) or the heat pump, against the outdoor
        // temperature, set back at night.
        let outdoor = outdoor_temp_c(civil.day_of_year, hours, plan.temp_offset_c);
        let indoor = if awake { INDOOR_DAY_C } else { INDOOR_NIGHT_C };
        // Heating season only (a daily mean below 15 °C, the Dutch "stookgrens"); people,
        // appliances and sun through the windows cover the first 400 W.
        let day_mean = outdoor_temp_c(civil.day_of_year, 9.0, plan.temp_offset_c);
        let heat_w = if day_mean < 15.0 {
            (self.home.heat_loss_w_per_k * (indoor - outdoor) - INTERNAL_GAINS_W).max(0.0)
        } else {
            0.0
        };
        let mut gas_wh = 0.0;
        if self.home.heat_pump {
            // A compressor that runs in bursts; COP falls as it gets colder.
            let cop = (3.0 + 0.08 * outdoor).clamp(2.2, 4.8);
            let duty = (heat_w / 5_000.0).min(1.0);
            if self.heat_pump_left_s == 0 {
                self.heat_pump_on = !self.heat_pump_on && duty > 0.02;
                let cycle = 1800.0;
                let part = if self.heat_pump_on { duty } else { 1.0 - duty };
                self.heat_pump_left_s = (cycle * part).max(60.0) as u32;
            }
            self.heat_pump_left_s -= 1;
            if self.heat_pump_on {
                let elec = 5_000.0 / cop;
                for phase in &mut w {
                    *phase += elec / 3.0;
                }
            }
        } else if heat_w > 0.0 {
            // A modulating boiler follows the demand.
            gas_wh += heat_w / 3600.0;
            w[0] += 55.0; // circulation pump
        }
        // Morning shower: hot water from the boiler (no gas with a heat pump's tank).
        if !self.home.heat_pump && (plan.shower_s..plan.shower_s + 480).contains(&sod) {
            gas_wh += 18_000.0 / 3600.0;
        }

        // Solar: peak power times the sun's height, the day's clearness and passing clouds.
        if self.home.solar_kwp > 0.0 {
            self.cloud = (self.cloud + n.range(-0.02, 0.02)).clamp(plan.clearness, 1.0);
            if sun > 0.0 {
                let pv = self.home.solar_kwp * 1000.0 * 0.85 * sun.powf(1.15) * self.cloud;
                if self.home.solar_kwp < 4.6 {
                    w[0] -= pv;
                } else {
                    for phase in &mut w {
                        *phase -= pv / 3.0;
                    }
                }
            }
        }

        let gas = gas_wh / GAS_WH_PER_M3 * 1_000_000.0 + self.gas_carry_ml;
        let gas_ml = gas.floor().max(0.0);
        self.gas_carry_ml = gas - gas_ml;
        Draw {
            phase_w: [
                w[0].round() as i32,
                w[1].round() as i32,
                w[2].round() as i32,
            ],
            gas_ml: gas_ml as u32,
        }
    }
}
