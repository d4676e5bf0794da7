//! Plausibility: what a household connection can really report (issue 19, item 2). A value
//! outside these bounds is a decoding error (a wrong scaler, a layout read from the wrong
//! position, a damaged line) or a typing error in an import, never a measurement: the field is
//! dropped from the reading, with an [`Implausible`] naming the field, its value and the rule,
//! and the rest of the reading is kept.
//!
//! The rules, each a constant below:
//!
//! - a voltage is 0 (a phase that is down) or 80–300 V ([`VOLTAGE_MIN_DV`], [`VOLTAGE_MAX_DV`]);
//! - a current is within ±500 A ([`CURRENT_MAX_MA`]);
//! - a power (active, reactive, per phase, the capacity-tariff demand) is within ±60 kW
//!   ([`POWER_MAX_W`]);
//! - a phase's power is what its voltage and current can carry: active power never exceeds
//!   V × A (allowing [`CURRENT_ROUNDING_MA`] of rounding on the current, which most meters
//!   send in whole amperes, and [`APPARENT_TOLERANCE_PCT`] for values sampled a moment apart),
//!   and a current is not far larger than the power needs (a power factor of at least
//!   [`POWER_FACTOR_FLOOR_MILLI`], plus [`REACTIVE_SLACK_MA`] of current that draws no active
//!   power at all: stand-by supplies, a heat pump's start). Where only the total power is
//!   given, it must not exceed what all phases together can carry. (A total far *below* the
//!   phases' currents is no contradiction: one phase may import what another exports.) When
//!   power and current contradict each other, neither is kept;
//! - a meter id is not an OBIS code (`1-0:96.1.0*255`, or six dotted bytes `1.0.96.1.0.255`):
//!   such an id is the code of the field, read where its value should have been;
//! - a time lies from [`EARLIEST_UNIX`] (2000-01-01) up to [`LATEST_UNIX`] (2100-01-01). The
//!   upper bound is fixed because this crate reads no clock; the vault refuses readings after
//!   the caller's own clock. An implausible reading time is dropped, so the reading counts as
//!   untimed; capture times (gas, water, heat, demand peak) likewise.
//!
//! Registers are not judged here: whether they only go up is the vault's question. The check
//! is cheap: a few comparisons, and no allocation unless something is implausible.

use crate::decoder::{Decoded, Decoder, Diagnostic, Rejection, Stats};
use crate::reading::{Quantity, Reading, write_fixed};
use crate::time::MeterTime;
use std::fmt;

/// The lowest voltage of a live phase, dV (80.0 V).
pub const VOLTAGE_MIN_DV: i64 = 800;
/// The highest voltage, dV (300.0 V).
pub const VOLTAGE_MAX_DV: i64 = 3_000;
/// The largest current either way, mA (500 A).
pub const CURRENT_MAX_MA: i64 = 500_000;
/// The largest power either way, W (60 kW).
pub const POWER_MAX_W: i64 = 60_000;
/// Rounding allowed on a current, mA: DSMR sends whole amperes (a 0.9 A load reads 0 A).
pub const CURRENT_ROUNDING_MA: i64 = 1_000;
/// How far active power may exceed V × A, in percent (values sampled a moment apart).
pub const APPARENT_TOLERANCE_PCT: i64 = 10;
/// The lowest power factor a phase's current is held to, in thousandths (0.1).
pub const POWER_FACTOR_FLOOR_MILLI: i64 = 100;
/// Current allowed beyond what the power factor floor explains, mA (5 A).
pub const REACTIVE_SLACK_MA: i64 = 5_000;
/// The earliest plausible time: 2000-01-01T00:00:00Z.
pub const EARLIEST_UNIX: i64 = 946_684_800;
/// The first implausible time: 2100-01-01T00:00:00Z.
pub const LATEST_UNIX: i64 = 4_102_444_800;

const VOLTAGES: [Quantity; 3] = [Quantity::L1Dv, Quantity::L2Dv, Quantity::L3Dv];
const CURRENTS: [Quantity; 3] = [Quantity::L1Ma, Quantity::L2Ma, Quantity::L3Ma];
const PHASE_IMPORT: [Quantity; 3] = [
    Quantity::L1ImportW,
    Quantity::L2ImportW,
    Quantity::L3ImportW,
];
const PHASE_EXPORT: [Quantity; 3] = [
    Quantity::L1ExportW,
    Quantity::L2ExportW,
    Quantity::L3ExportW,
];
const POWERS: [Quantity; 12] = [
    Quantity::ImportW,
    Quantity::ExportW,
    Quantity::L1ImportW,
    Quantity::L2ImportW,
    Quantity::L3ImportW,
    Quantity::L1ExportW,
    Quantity::L2ExportW,
    Quantity::L3ExportW,
    Quantity::ReactiveImportVar,
    Quantity::ReactiveExportVar,
    Quantity::DemandCurrentW,
    Quantity::DemandPeakMonthW,
];

/// The field of a reading found implausible.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// A numeric quantity.
    Quantity(Quantity),
    /// The meter id.
    MeterId,
    /// The reading's time.
    Time,
    /// The time of the monthly demand peak.
    DemandPeakMonthTime,
    /// The capture time of the gas register.
    GasTime,
    /// The capture time of the water register.
    WaterTime,
    /// The capture time of the heat register.
    HeatTime,
}

impl Field {
    /// The canonical (JSON) name of the field.
    pub const fn name(self) -> &'static str {
        match self {
            Field::Quantity(q) => q.name(),
            Field::MeterId => "meter_id",
            Field::Time => "time",
            Field::DemandPeakMonthTime => "demand_peak_month_time",
            Field::GasTime => "gas_time",
            Field::WaterTime => "water_time",
            Field::HeatTime => "heat_time",
        }
    }
}

/// Which rule a field broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rule {
    /// A voltage is 0 or 80–300 V.
    Voltage,
    /// A current is within ±500 A.
    Current,
    /// A power is within ±60 kW.
    Power,
    /// Active power exceeds what the voltage and current can carry.
    PowerBeyondVoltsTimesAmps,
    /// A current far larger than the power needs.
    CurrentBeyondPower,
    /// The meter id is an OBIS code.
    MeterIdIsObisCode,
    /// A time before 2000 or from 2100.
    Year,
}

impl Rule {
    /// A short stable name (logs, tests).
    pub const fn name(self) -> &'static str {
        match self {
            Rule::Voltage => "voltage",
            Rule::Current => "current",
            Rule::Power => "power",
            Rule::PowerBeyondVoltsTimesAmps => "power-beyond-volts-times-amps",
            Rule::CurrentBeyondPower => "current-beyond-power",
            Rule::MeterIdIsObisCode => "meter-id-is-obis-code",
            Rule::Year => "year",
        }
    }

    /// The rule, in words a homeowner understands.
    pub const fn explain(self) -> &'static str {
        match self {
            Rule::Voltage => "a household voltage is 0 or between 80 and 300 V",
            Rule::Current => "a household current is within ±500 A",
            Rule::Power => "a household connection carries at most ±60 kW",
            Rule::PowerBeyondVoltsTimesAmps => {
                "the power is more than the phase's voltage and current can carry"
            }
            Rule::CurrentBeyondPower => "the current is far larger than the power needs",
            Rule::MeterIdIsObisCode => "a meter id is not an OBIS code",
            Rule::Year => "a meter time lies between the years 2000 and 2100",
        }
    }
}

/// A field dropped from a reading: which, its value as it came, and the rule it broke.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Implausible {
    /// The field.
    pub field: Field,
    /// Its value in the field's canonical unit (`4000.0` for `l1_v`), or the text of a meter
    /// id (an OBIS code, nothing personal) or a time.
    pub value: String,
    /// The rule it broke.
    pub rule: Rule,
}

impl fmt::Display for Implausible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} dropped: {}",
            self.field.name(),
            self.value,
            self.rule.explain()
        )
    }
}

impl Implausible {
    /// The finding as a reading's diagnostic (line 0: the reading as a whole).
    pub fn diagnostic(&self) -> Diagnostic {
        Diagnostic {
            line: 0,
            code: self.field.name().to_owned(),
            message: self.to_string(),
        }
    }
}

/// Checks `reading` against the rules (see the module docs), drops every implausible field
/// and returns what was dropped (empty, without allocating, when all is plausible).
pub fn check(reading: &mut Reading) -> Vec<Implausible> {
    let mut found = Vec::new();
    for q in VOLTAGES {
        if let Some(v) = reading.get(q)
            && v != 0
            && !(VOLTAGE_MIN_DV..=VOLTAGE_MAX_DV).contains(&v)
        {
            drop_quantity(reading, q, Rule::Voltage, &mut found);
        }
    }
    for q in CURRENTS {
        if let Some(v) = reading.get(q)
            && !(-CURRENT_MAX_MA..=CURRENT_MAX_MA).contains(&v)
        {
            drop_quantity(reading, q, Rule::Current, &mut found);
        }
    }
    for q in POWERS {
        if let Some(v) = reading.get(q)
            && !(-POWER_MAX_W..=POWER_MAX_W).contains(&v)
        {
            drop_quantity(reading, q, Rule::Power, &mut found);
        }
    }
    check_phases(reading, &mut found);
    check_total(reading, &mut found);
    if let Some(id) = &reading.meter_id
        && is_obis_code(id.as_str())
    {
        found.push(Implausible {
            field: Field::MeterId,
            value: id.as_str().to_owned(),
            rule: Rule::MeterIdIsObisCode,
        });
        reading.meter_id = None;
    }
    for (field, time) in [
        (Field::Time, &mut reading.time),
        (
            Field::DemandPeakMonthTime,
            &mut reading.demand_peak_month_time,
        ),
        (Field::GasTime, &mut reading.gas_time),
        (Field::WaterTime, &mut reading.water_time),
        (Field::HeatTime, &mut reading.heat_time),
    ] {
        if let Some(t) = *time
            && !(EARLIEST_UNIX..LATEST_UNIX).contains(&t.unix)
        {
            found.push(Implausible {
                field,
                value: time_text(t),
                rule: Rule::Year,
            });
            *time = None;
        }
    }
    found
}

/// The most active power that `dv` and `ma` can carry, with rounding and tolerance, in
/// µW (W × 10⁶: dV × mA is 10⁻⁴ W, and the tolerance is in percent). Compared in these small
/// units rather than divided down: no division on the decoding path, and no rounding.
fn carried_uw(dv: i64, ma: i64) -> i64 {
    dv.saturating_mul(ma.saturating_abs().saturating_add(CURRENT_ROUNDING_MA))
        .saturating_mul(100 + APPARENT_TOLERANCE_PCT)
}

/// A power in W as µW (see [`carried_uw`]).
fn uw(w: i64) -> i64 {
    w.saturating_mul(1_000_000)
}

/// A phase's net active power, W, if the phase's import or export power is given.
fn phase_power(reading: &Reading, phase: usize) -> Option<i64> {
    match (
        reading.get(PHASE_IMPORT[phase]),
        reading.get(PHASE_EXPORT[phase]),
    ) {
        (None, None) => None,
        (i, e) => Some(i.unwrap_or(0).saturating_sub(e.unwrap_or(0))),
    }
}

/// Per phase, where voltage (not 0), current and power are all given: power within what
/// V × A carries, and current not far beyond what the power needs.
fn check_phases(reading: &mut Reading, found: &mut Vec<Implausible>) {
    for phase in 0..3 {
        let (Some(dv), Some(ma), Some(w)) = (
            reading.get(VOLTAGES[phase]).filter(|v| *v != 0),
            reading.get(CURRENTS[phase]),
            phase_power(reading, phase),
        ) else {
            continue;
        };
        let w = w.saturating_abs();
        let rule = if uw(w) > carried_uw(dv, ma) {
            Rule::PowerBeyondVoltsTimesAmps
        } else {
            // The current beyond the slack, at the power factor floor, draws more than `w`:
            // (|A| - slack) × V × PF > W, in dV × mA × thousandths = 10⁻⁷ W.
            let beyond_ma = ma.saturating_abs().saturating_sub(REACTIVE_SLACK_MA);
            let drawn = beyond_ma
                .saturating_mul(dv)
                .saturating_mul(POWER_FACTOR_FLOOR_MILLI);
            if drawn <= w.saturating_mul(10_000_000) {
                continue;
            }
            Rule::CurrentBeyondPower
        };
        for q in [CURRENTS[phase], PHASE_IMPORT[phase], PHASE_EXPORT[phase]] {
            if reading.get(q).is_some() {
                drop_quantity(reading, q, rule, found);
            }
        }
    }
}

/// The total power within what the phases together carry, where every phase that reports
/// anything reports its voltage (not 0) and current.
fn check_total(reading: &mut Reading, found: &mut Vec<Implausible>) {
    let (i, e) = (
        reading.get(Quantity::ImportW),
        reading.get(Quantity::ExportW),
    );
    if i.is_none() && e.is_none() {
        return;
    }
    let total = i
        .unwrap_or(0)
        .saturating_sub(e.unwrap_or(0))
        .saturating_abs();
    let mut carried = 0i64;
    let mut phases = 0;
    for phase in 0..3 {
        let dv = reading.get(VOLTAGES[phase]).filter(|v| *v != 0);
        let ma = reading.get(CURRENTS[phase]);
        match (dv, ma) {
            (Some(dv), Some(ma)) => {
                carried = carried.saturating_add(carried_uw(dv, ma));
                phases += 1;
            }
            (None, None) if phase_power(reading, phase).is_none() => {}
            // A phase half reported (or one that is down): nothing to compare with.
            _ => return,
        }
    }
    if phases == 0 || uw(total) <= carried {
        return;
    }
    let rule = Rule::PowerBeyondVoltsTimesAmps;
    for q in [Quantity::ImportW, Quantity::ExportW]
        .into_iter()
        .chain(CURRENTS)
    {
        if reading.get(q).is_some() {
            drop_quantity(reading, q, rule, found);
        }
    }
}

fn drop_quantity(reading: &mut Reading, q: Quantity, rule: Rule, found: &mut Vec<Implausible>) {
    let Some(v) = reading.get(q) else {
        return;
    };
    let mut value = String::new();
    let _ = write_fixed(&mut value, v, q.decimals());
    found.push(Implausible {
        field: Field::Quantity(q),
        value,
        rule,
    });
    reading.clear(q);
}

fn time_text(t: MeterTime) -> String {
    // Far outside jiff's range, the seconds are all there is to show.
    if jiff::Timestamp::from_second(t.unix).is_ok() {
        t.to_string()
    } else {
        format!("{} s after 1970", t.unix)
    }
}

/// Whether `id` is an OBIS code: `A-B:C.D.E` (with `*F`, `.F` or `&F`), or three to six
/// dotted numbers of at most 255 (`1.0.96.1.0.255`, `96.1.0`).
pub fn is_obis_code(id: &str) -> bool {
    let id = id.trim();
    // Most ids start with a letter (DSMR's `E0044…`, `K8EG…`): settled at the first byte.
    if !id
        .bytes()
        .all(|b| b.is_ascii_digit() || b"-:.*&".contains(&b))
    {
        return false;
    }
    let byte = |s: &str| !s.is_empty() && s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit());
    let small = |s: &str| byte(s) && s.parse::<u16>().is_ok_and(|n| n <= 255);
    if let Some((a, rest)) = id.split_once('-')
        && let Some((b, cde)) = rest.split_once(':')
    {
        let cde = cde.split(['*', '&']).collect::<Vec<_>>();
        let (cde, f) = match cde.as_slice() {
            [cde] => (*cde, None),
            [cde, f] => (*cde, Some(*f)),
            _ => return false,
        };
        let parts: Vec<&str> = cde.split('.').collect();
        let dotted = matches!(parts.len(), 3 | 4) && parts.iter().all(|p| small(p));
        return small(a) && small(b) && dotted && f.is_none_or(small);
    }
    let parts = id.split('.');
    let n = parts.clone().count();
    (3..=6).contains(&n) && parts.into_iter().all(small)
}

/// A decoder whose every reading is checked ([`check`]): implausible fields are dropped, each
/// told as a diagnostic of its frame and counted in [`Stats::implausible`].
#[derive(Debug)]
pub struct Checked<D> {
    inner: D,
    implausible: u64,
    stats: Stats,
}

impl<D: Decoder> Checked<D> {
    /// Checks what `inner` decodes.
    pub fn new(inner: D) -> Self {
        Checked {
            inner,
            implausible: 0,
            stats: Stats::default(),
        }
    }

    /// The decoder inside.
    pub fn inner(&self) -> &D {
        &self.inner
    }

    /// Keeps the counts with the fields dropped up to date. While nothing was dropped,
    /// [`Decoder::stats`] gives the inner decoder's own counts and nothing is copied, so a
    /// plausible stream pays only the check itself.
    #[inline]
    fn refresh_stats(&mut self) {
        if self.implausible > 0 {
            self.stats.clone_from(self.inner.stats());
            self.stats.implausible += self.implausible;
        }
    }

    /// Checks what the inner decoder gave, telling and counting what was dropped.
    ///
    /// A reading is large: the `None` most calls give is returned as a new `None` before
    /// anything else, and only a decoded frame is moved on. (Passing the whole `Option`
    /// through copies it at the size of a reading on every call, which cost more than the
    /// check itself.)
    #[inline]
    fn checked(
        &mut self,
        out: Option<Result<Decoded, Rejection>>,
    ) -> Option<Result<Decoded, Rejection>> {
        let Some(out) = out else {
            self.refresh_stats();
            return None;
        };
        let out = match out {
            Ok(mut d) => {
                let found = check(&mut d.reading);
                if !found.is_empty() {
                    self.implausible += found.len() as u64;
                    d.diagnostics
                        .extend(found.iter().map(Implausible::diagnostic));
                }
                Ok(d)
            }
            Err(rejection) => Err(rejection),
        };
        self.refresh_stats();
        Some(out)
    }
}

impl<D: Decoder> Decoder for Checked<D> {
    #[inline]
    fn push(&mut self, bytes: &[u8]) {
        self.inner.push(bytes);
        self.refresh_stats();
    }

    #[inline]
    fn next(&mut self) -> Option<Result<Decoded, Rejection>> {
        let out = self.inner.next();
        self.checked(out)
    }

    #[inline]
    fn stats(&self) -> &Stats {
        if self.implausible == 0 {
            self.inner.stats()
        } else {
            &self.stats
        }
    }

    #[inline]
    fn finish(&mut self) -> Option<Result<Decoded, Rejection>> {
        let out = self.inner.finish();
        self.checked(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reading::{MeterId, Protocol};

    /// Checks a reading holding only `q = v`; `Some(rule)` when it was dropped.
    fn one(q: Quantity, v: i64) -> Option<Rule> {
        let mut r = Reading::new(Protocol::Dsmr);
        r.set(q, v);
        let found = check(&mut r);
        assert_eq!(found.len() as i64, i64::from(r.get(q).is_none()));
        found.first().map(|f| {
            assert_eq!(f.field, Field::Quantity(q));
            f.rule
        })
    }

    #[test]
    fn voltages_are_zero_or_80_to_300_v() {
        for q in VOLTAGES {
            assert_eq!(one(q, 0), None, "a phase that is down");
            assert_eq!(one(q, -1), Some(Rule::Voltage));
            assert_eq!(one(q, 1), Some(Rule::Voltage));
            assert_eq!(one(q, 799), Some(Rule::Voltage));
            assert_eq!(one(q, 800), None);
            assert_eq!(one(q, 3_000), None);
            assert_eq!(one(q, 3_001), Some(Rule::Voltage));
            assert_eq!(one(q, 40_000), Some(Rule::Voltage));
        }
    }

    #[test]
    fn currents_are_within_500_a_either_way() {
        for q in CURRENTS {
            assert_eq!(one(q, 500_000), None);
            assert_eq!(one(q, -500_000), None);
            assert_eq!(one(q, 500_001), Some(Rule::Current));
            assert_eq!(one(q, -500_001), Some(Rule::Current));
            assert_eq!(one(q, 0), None);
        }
    }

    #[test]
    fn powers_are_within_60_kw_either_way() {
        for q in POWERS {
            assert_eq!(one(q, 60_000), None, "{q:?}");
            assert_eq!(one(q, -60_000), None, "{q:?}");
            assert_eq!(one(q, 60_001), Some(Rule::Power), "{q:?}");
            assert_eq!(one(q, -60_001), Some(Rule::Power), "{q:?}");
            assert_eq!(one(q, 900_000), Some(Rule::Power), "{q:?}");
        }
        // Registers are the vault's to judge.
        assert_eq!(one(Quantity::ImportWh, i64::MAX), None);
        assert_eq!(one(Quantity::ImportWh, -5), None);
    }

    /// L1 at 230.0 V and `ma`, importing `w`: what was dropped, by name.
    fn phase(ma: i64, w: i64) -> Vec<(&'static str, Rule)> {
        let mut r = Reading::new(Protocol::Dsmr);
        r.set(Quantity::L1Dv, 2_300);
        r.set(Quantity::L1Ma, ma);
        r.set(Quantity::L1ImportW, w);
        r.set(Quantity::L1ExportW, 0);
        let found = check(&mut r);
        assert_eq!(r.get(Quantity::L1Dv), Some(2_300), "the voltage stays");
        found.iter().map(|f| (f.field.name(), f.rule)).collect()
    }

    #[test]
    fn a_phase_power_is_what_its_volts_and_amps_carry() {
        // 230 V × (2 A + 1 A rounding) × 1.1 = 759 W.
        assert_eq!(phase(2_000, 759), []);
        let beyond = Rule::PowerBeyondVoltsTimesAmps;
        assert_eq!(
            phase(2_000, 760),
            [
                ("l1_a", beyond),
                ("l1_import_w", beyond),
                ("l1_export_w", beyond)
            ]
        );
        // A 0.9 A load that the meter sends as 0 A: 230 × 1 × 1.1 = 253 W.
        assert_eq!(phase(0, 207), []);
        assert_eq!(phase(0, 253), []);
        assert_eq!(phase(0, 254).len(), 3);
        // Exporting counts the same: 2 kW out at 8 A.
        let mut r = Reading::new(Protocol::Dsmr);
        r.set(Quantity::L2Dv, 2_300);
        r.set(Quantity::L2Ma, -8_000);
        r.set(Quantity::L2ExportW, 2_000);
        assert_eq!(check(&mut r), []);
    }

    #[test]
    fn a_phase_current_is_not_far_beyond_what_its_power_needs() {
        // 362 W at 230 V and a power factor of 0.1 needs 15.739 A, plus 5 A of slack.
        assert_eq!(phase(20_739, 362), []);
        let beyond = Rule::CurrentBeyondPower;
        assert_eq!(
            phase(20_740, 362),
            [
                ("l1_a", beyond),
                ("l1_import_w", beyond),
                ("l1_export_w", beyond)
            ]
        );
        // The E450 of issue 19: 34.7 A while the house draws 362 W.
        assert_eq!(phase(34_700, 362).len(), 3);
        // Stand-by: 5 A drawing nothing is still plausible.
        assert_eq!(phase(5_000, 0), []);
        assert_eq!(phase(5_001, 0).len(), 3);
    }

    #[test]
    fn phases_without_a_voltage_or_with_a_phase_down_are_not_compared() {
        let mut r = Reading::new(Protocol::Dsmr);
        r.set(Quantity::L1Dv, 0);
        r.set(Quantity::L1Ma, 0);
        r.set(Quantity::L1ImportW, 1_500);
        r.set(Quantity::L2Ma, 40_000);
        r.set(Quantity::L2ImportW, 10);
        assert_eq!(check(&mut r), []);
    }

    /// Three phases at 230.0 V with currents `ma` and a total import of `w`.
    fn total(ma: [i64; 3], w: i64) -> Vec<(&'static str, Rule)> {
        let mut r = Reading::new(Protocol::Dlms);
        for p in 0..3 {
            r.set(VOLTAGES[p], 2_300);
            r.set(CURRENTS[p], ma[p]);
        }
        r.set(Quantity::ImportW, w);
        check(&mut r)
            .iter()
            .map(|f| (f.field.name(), f.rule))
            .collect()
    }

    #[test]
    fn the_total_power_is_what_all_phases_carry() {
        // 230 V × (1 + 2 + 3 A, plus 1 A each) × 1.1 = 2277 W.
        assert_eq!(total([1_000, 2_000, 3_000], 2_277), []);
        let b = Rule::PowerBeyondVoltsTimesAmps;
        assert_eq!(
            total([1_000, 2_000, 3_000], 2_278),
            [("import_w", b), ("l1_a", b), ("l2_a", b), ("l3_a", b)]
        );
        // One phase exporting what another imports: a small total is no contradiction.
        assert_eq!(total([13_000, -13_000, 0], 0), []);
        // A single-phase meter: only L1 is compared.
        let mut r = Reading::new(Protocol::Dlms);
        r.set(Quantity::L1Dv, 2_300);
        r.set(Quantity::L1Ma, 1_000);
        r.set(Quantity::ImportW, 506);
        assert_eq!(check(&mut r), []);
        r.set(Quantity::ImportW, 507);
        assert_eq!(check(&mut r).len(), 2);
        // A phase with a voltage but no current: nothing to compare.
        let mut r = Reading::new(Protocol::Dlms);
        r.set(Quantity::L1Dv, 2_300);
        r.set(Quantity::L1Ma, 1_000);
        r.set(Quantity::L2Dv, 2_300);
        r.set(Quantity::ImportW, 5_000);
        assert_eq!(check(&mut r), []);
    }

    #[test]
    fn a_meter_id_is_not_an_obis_code() {
        for obis in [
            "1-0:96.1.0*255",
            "0-0:96.1.1",
            "1-0:96.1.0.255",
            "1.0.96.1.0.255",
            "0.0.96.1.0.255",
            "96.1.0",
            " 1-0:0.0.0*255 ",
        ] {
            let mut r = Reading::new(Protocol::Dlms);
            r.meter_id = Some(MeterId::new(obis));
            let found = check(&mut r);
            assert_eq!(r.meter_id, None, "{obis}");
            assert_eq!(
                found,
                [Implausible {
                    field: Field::MeterId,
                    value: obis.to_owned(),
                    rule: Rule::MeterIdIsObisCode
                }]
            );
        }
        for real in [
            "E0044007123456789",
            "4530303434303037313331363530363138",
            "7359992890939316",
            "1.0.96.1.0.256",
            "1.0.96.1.0.255.7",
            "12.3",
            "1-0:96.1.0*2555",
            "ISK5\\2M550T-1012",
        ] {
            let mut r = Reading::new(Protocol::Dlms);
            r.meter_id = Some(MeterId::new(real));
            assert_eq!(check(&mut r), [], "{real}");
            assert!(r.meter_id.is_some());
        }
    }

    #[test]
    fn times_lie_from_2000_up_to_2100() {
        let at = |unix: i64| {
            let mut r = Reading::new(Protocol::Dsmr);
            r.time = Some(MeterTime::utc(unix).with_offset(3600));
            r.gas_time = r.time;
            r.set(Quantity::ImportWh, 1);
            let found = check(&mut r);
            assert_eq!(r.get(Quantity::ImportWh), Some(1), "the rest is kept");
            assert_eq!(r.time.is_none(), r.gas_time.is_none());
            found
        };
        assert_eq!(at(EARLIEST_UNIX), []);
        assert_eq!(at(LATEST_UNIX - 1), []);
        let before = at(EARLIEST_UNIX - 1);
        assert_eq!(
            before,
            [
                Implausible {
                    field: Field::Time,
                    value: "2000-01-01T00:59:59+01:00".into(),
                    rule: Rule::Year
                },
                Implausible {
                    field: Field::GasTime,
                    value: "2000-01-01T00:59:59+01:00".into(),
                    rule: Rule::Year
                }
            ]
        );
        assert_eq!(at(LATEST_UNIX).len(), 2);
        assert_eq!(at(0).len(), 2);
        assert_eq!(at(i64::MAX)[0].value, "9223372036854775807 s after 1970");
    }

    #[test]
    fn the_diagnostic_names_field_value_and_rule() {
        let mut r = Reading::new(Protocol::Dsmr);
        r.set(Quantity::L1Dv, 40_000);
        r.set(Quantity::ImportW, 900_000);
        let found = check(&mut r);
        assert_eq!(
            found
                .iter()
                .map(Implausible::diagnostic)
                .collect::<Vec<_>>(),
            [
                Diagnostic {
                    line: 0,
                    code: "l1_v".into(),
                    message: "l1_v 4000.0 dropped: a household voltage is 0 or between 80 \
                              and 300 V"
                        .into()
                },
                Diagnostic {
                    line: 0,
                    code: "import_w".into(),
                    message: "import_w 900000 dropped: a household connection carries at \
                              most ±60 kW"
                        .into()
                }
            ]
        );
        assert!(r.is_empty());
    }

    #[test]
    fn a_plausible_reading_is_untouched() {
        let mut r = Reading::new(Protocol::Dsmr);
        r.time = Some(MeterTime::utc(1_768_478_400));
        r.meter_id = Some(MeterId::new("E0044007123456789"));
        for (q, v) in [
            (Quantity::ImportWh, 123_456),
            (Quantity::ImportW, 1_200),
            (Quantity::L1Dv, 2_301),
            (Quantity::L1Ma, 5_000),
            (Quantity::L1ImportW, 1_200),
        ] {
            r.set(q, v);
        }
        let before = r.clone();
        assert_eq!(check(&mut r), []);
        assert_eq!(r, before);
    }
}
