//! The canonical reading: one flat record every protocol decodes into (design.md §3).
//!
//! Values are integers in small units so nothing drifts: energy in Wh, power in W, voltage in
//! dV (0.1 V), current in mA, gas and water in dm³ (litres), heat in MJ, reactive energy in
//! varh, power factor in thousandths. The canonical *names* (used by JSON and CSV) carry the
//! user-facing unit (`import_kwh`, `l1_v`, `gas_m3`); [`Quantity::decimals`] says how many
//! decimal places separate the stored integer from that unit, so `import_kwh` = Wh / 10³.

use crate::time::MeterTime;
use std::fmt;
use std::sync::Arc;

/// Which wire protocol a reading was decoded from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Protocol {
    /// DSMR / eMUCS P1 text telegrams (NL, BE, LU, SE, ...).
    #[default]
    Dsmr,
    /// DLMS/COSEM push over HDLC (Nordic and Austrian HAN ports).
    Dlms,
    /// SML 1.04 (German meters, optical head).
    Sml,
    /// IEC 62056-21 optical data readout.
    Iec62056_21,
    /// Rainforest RAVEn / EMU-2 XML fragments.
    Raven,
    /// A Glow (Hildebrand) consumer access device publishing JSON over MQTT.
    Glow,
    /// Pulses from a meter's LED, counted by an optical sensor.
    Pulse,
    /// Half-hourly consumption imported from a supplier download.
    Supplier,
    /// A generic MQTT bridge (Tasmota, ESPHome, Wi-Fi P1 dongles) read through a field mapping.
    Mqtt,
    /// Not recorded: a JSON Lines reading without `protocol`. Written as absent (no JSON key,
    /// an empty CSV cell), so such a reading round-trips as it came; named `unknown` only
    /// where a name is required (the vault).
    Unknown,
}

impl Protocol {
    /// The name used in JSON, CSV and on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Protocol::Dsmr => "dsmr",
            Protocol::Dlms => "dlms",
            Protocol::Sml => "sml",
            Protocol::Iec62056_21 => "iec62056-21",
            Protocol::Raven => "raven",
            Protocol::Glow => "glow",
            Protocol::Pulse => "pulse",
            Protocol::Supplier => "supplier",
            Protocol::Mqtt => "mqtt",
            Protocol::Unknown => "unknown",
        }
    }

    /// Parses the name written by [`Protocol::name`].
    pub fn from_name(name: &str) -> Option<Protocol> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Every protocol, in a stable order (the order is part of the vault format).
    pub const ALL: [Protocol; 10] = [
        Protocol::Dsmr,
        Protocol::Dlms,
        Protocol::Sml,
        Protocol::Iec62056_21,
        Protocol::Raven,
        Protocol::Glow,
        Protocol::Pulse,
        Protocol::Supplier,
        Protocol::Mqtt,
        Protocol::Unknown,
    ];
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What kind of value a quantity is; decides how it is aggregated and compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A cumulative register (energy, volume, event counters): only goes up, except on a
    /// meter swap or reset. Energy between two readings is the difference.
    Register,
    /// An instantaneous measurement (power, voltage, current, power factor).
    Instant,
    /// A state or an index (active tariff, latest monthly peak).
    State,
    /// Energy measured over an interval that starts at the reading's time and lasts
    /// [`Quantity::IntervalS`] seconds (a supplier's half-hourly download): not a register, so
    /// it never mixes with the meter's own register series.
    Interval,
}

macro_rules! quantities {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $decimals:literal, $kind:ident; )*) => {
        /// One numeric field of the canonical reading. The discriminant order is part of the
        /// vault format: append new quantities at the end, never reorder.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Quantity {
            $( $(#[$doc])* $variant, )*
        }

        impl Quantity {
            /// Every quantity in canonical (design.md §3) order.
            pub const ALL: [Quantity; Quantity::COUNT] = [ $( Quantity::$variant, )* ];
            /// How many quantities there are.
            pub const COUNT: usize = [ $( $name, )* ].len();

            /// The canonical JSON/CSV name, unit included.
            pub const fn name(self) -> &'static str {
                match self { $( Quantity::$variant => $name, )* }
            }

            /// Decimal places between the stored integer and the unit in the name
            /// (`import_kwh`: stored in Wh, so 3).
            pub const fn decimals(self) -> u8 {
                match self { $( Quantity::$variant => $decimals, )* }
            }

            /// Whether the quantity is a register, an instantaneous value or a state.
            pub const fn kind(self) -> Kind {
                match self { $( Quantity::$variant => Kind::$kind, )* }
            }
        }
    };
}

quantities! {
    /// Active tariff index, 1-based (DSMR `0-0:96.14.0`).
    Tariff = "tariff", 0, State;
    /// Imported active energy over all tariffs, Wh.
    ImportWh = "import_kwh", 3, Register;
    /// Imported active energy, tariff 1, Wh.
    ImportT1Wh = "import_kwh_t1", 3, Register;
    /// Imported active energy, tariff 2, Wh.
    ImportT2Wh = "import_kwh_t2", 3, Register;
    /// Exported active energy over all tariffs, Wh.
    ExportWh = "export_kwh", 3, Register;
    /// Exported active energy, tariff 1, Wh.
    ExportT1Wh = "export_kwh_t1", 3, Register;
    /// Exported active energy, tariff 2, Wh.
    ExportT2Wh = "export_kwh_t2", 3, Register;
    /// Imported active power, W.
    ImportW = "import_w", 0, Instant;
    /// Exported active power, W.
    ExportW = "export_w", 0, Instant;
    /// Phase 1 voltage, dV.
    L1Dv = "l1_v", 1, Instant;
    /// Phase 2 voltage, dV.
    L2Dv = "l2_v", 1, Instant;
    /// Phase 3 voltage, dV.
    L3Dv = "l3_v", 1, Instant;
    /// Phase 1 current, mA.
    L1Ma = "l1_a", 3, Instant;
    /// Phase 2 current, mA.
    L2Ma = "l2_a", 3, Instant;
    /// Phase 3 current, mA.
    L3Ma = "l3_a", 3, Instant;
    /// Phase 1 imported power, W.
    L1ImportW = "l1_import_w", 0, Instant;
    /// Phase 2 imported power, W.
    L2ImportW = "l2_import_w", 0, Instant;
    /// Phase 3 imported power, W.
    L3ImportW = "l3_import_w", 0, Instant;
    /// Phase 1 exported power, W.
    L1ExportW = "l1_export_w", 0, Instant;
    /// Phase 2 exported power, W.
    L2ExportW = "l2_export_w", 0, Instant;
    /// Phase 3 exported power, W.
    L3ExportW = "l3_export_w", 0, Instant;
    /// Imported reactive energy, varh.
    ReactiveImportVarh = "reactive_import_kvarh", 3, Register;
    /// Exported reactive energy, varh.
    ReactiveExportVarh = "reactive_export_kvarh", 3, Register;
    /// Imported reactive power, var.
    ReactiveImportVar = "reactive_import_var", 0, Instant;
    /// Exported reactive power, var.
    ReactiveExportVar = "reactive_export_var", 0, Instant;
    /// Power factor in thousandths.
    PowerFactorMilli = "power_factor", 3, Instant;
    /// Number of power failures in any phase.
    PowerFailures = "power_failures", 0, Register;
    /// Number of long power failures in any phase.
    LongPowerFailures = "long_power_failures", 0, Register;
    /// Voltage sags on phase 1.
    VoltageSagsL1 = "voltage_sags_l1", 0, Register;
    /// Voltage sags on phase 2.
    VoltageSagsL2 = "voltage_sags_l2", 0, Register;
    /// Voltage sags on phase 3.
    VoltageSagsL3 = "voltage_sags_l3", 0, Register;
    /// Voltage swells on phase 1.
    VoltageSwellsL1 = "voltage_swells_l1", 0, Register;
    /// Voltage swells on phase 2.
    VoltageSwellsL2 = "voltage_swells_l2", 0, Register;
    /// Voltage swells on phase 3.
    VoltageSwellsL3 = "voltage_swells_l3", 0, Register;
    /// Current average demand (Belgian capacity tariff, `1-0:1.4.0`), W.
    DemandCurrentW = "demand_current_w", 0, Instant;
    /// Highest 15-minute average demand this month (`1-0:1.6.0`), W.
    DemandPeakMonthW = "demand_peak_month_w", 0, State;
    /// Gas volume register, dm³.
    GasDm3 = "gas_m3", 3, Register;
    /// Water volume register, dm³.
    WaterDm3 = "water_m3", 3, Register;
    /// Heat energy register, MJ.
    HeatMj = "heat_gj", 3, Register;
    /// Imported energy over the interval `[time, time + interval_s)`, Wh (supplier downloads).
    IntervalImportWh = "interval_import_kwh", 3, Interval;
    /// Exported energy over the interval `[time, time + interval_s)`, Wh.
    IntervalExportWh = "interval_export_kwh", 3, Interval;
    /// Length of the interval the `interval_*` energies cover, seconds.
    IntervalS = "interval_s", 0, Interval;
}

/// The energy registers: import and export, totals and the two tariffs. The vault bounds a
/// reading span by the readings that carry one; usage and costs read them.
pub const ENERGY_REGISTERS: [Quantity; 6] = [
    Quantity::ImportWh,
    Quantity::ImportT1Wh,
    Quantity::ImportT2Wh,
    Quantity::ExportWh,
    Quantity::ExportT1Wh,
    Quantity::ExportT2Wh,
];

/// A meter's equipment identifier. It is personal data: `Display` and `Debug` show only the
/// last four characters; [`MeterId::as_str`] gives the whole value where it must be stored.
/// Cloning is cheap (shared text), so a decoder can hand the same meter's id to every reading
/// without allocating.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct MeterId(Arc<str>);

impl MeterId {
    /// Wraps an identifier (already decoded from hex where the protocol sends hex).
    pub fn new(id: impl Into<String>) -> Self {
        MeterId(Arc::from(id.into()))
    }

    /// The full identifier, for storage and export only. Never log it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The identifier with all but its last four characters masked, safe to log.
    pub fn redacted(&self) -> String {
        let n = self.0.chars().count();
        let keep: String = self.0.chars().skip(n.saturating_sub(4)).collect();
        format!("…{keep}")
    }
}

impl From<&str> for MeterId {
    /// Wraps an identifier (one allocation).
    fn from(id: &str) -> Self {
        MeterId(Arc::from(id))
    }
}

impl fmt::Display for MeterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for MeterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MeterId({})", self.redacted())
    }
}

/// One end of a long power failure from the meter's event log (DSMR `1-0:99.97.0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PowerFailure {
    /// When power came back.
    pub end: MeterTime,
    /// How long the failure lasted, in seconds.
    pub duration_s: i64,
}

/// One month of the Belgian capacity-tariff peak history (eMUCS `0-0:98.1.0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DemandPeak {
    /// Start of the month the peak belongs to (`None` if the meter sent no real date).
    pub month: Option<MeterTime>,
    /// When the highest 15-minute average demand happened (`None` when the meter sent a
    /// placeholder, as it does for a month without a peak).
    pub time: Option<MeterTime>,
    /// The peak, W.
    pub w: i64,
}

/// What some meters send beyond the canonical record (design.md §3): shown in JSON after the
/// §3 fields, not in CSV nor in the vault. Empty logs and messages are left out, so a
/// typical telegram has no extras at all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extras {
    /// Imported active energy, tariff 3 (`1-0:1.8.3`), Wh.
    pub import_t3_wh: Option<i64>,
    /// Imported active energy, tariff 4 (`1-0:1.8.4`), Wh.
    pub import_t4_wh: Option<i64>,
    /// Exported active energy, tariff 3 (`1-0:2.8.3`), Wh.
    pub export_t3_wh: Option<i64>,
    /// Exported active energy, tariff 4 (`1-0:2.8.4`), Wh.
    pub export_t4_wh: Option<i64>,
    /// Reactive energy in quadrants I to IV (`1-0:5.8.0` … `1-0:8.8.0`), varh.
    pub reactive_quadrant_varh: [Option<i64>; 4],
    /// The long power failures the meter logged (`1-0:99.97.0`), as it lists them.
    pub power_failure_log: Vec<PowerFailure>,
    /// Monthly capacity-tariff peaks (eMUCS `0-0:98.1.0`), as the meter lists them.
    pub demand_peak_history: Vec<DemandPeak>,
    /// The text message (`0-0:96.13.0`), decoded from hex.
    pub text_message: Option<String>,
    /// The message code of DSMR 2.2/3 (`0-0:96.13.1`), decoded from hex when it is hex.
    pub text_message_code: Option<String>,
}

impl Extras {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == Extras::default()
    }
}

/// One decoded reading. Absent fields are `None`; numeric fields live in a small fixed array
/// indexed by [`Quantity`] so storage and export can iterate them generically.
///
/// Equality (`==`) compares the canonical record (design.md §3), what the vault stores and
/// imports compare; the [`Reading::extras`] are not part of it (compare them with
/// `a.extras == b.extras` where they matter).
#[derive(Clone)]
pub struct Reading {
    /// Meter time (authoritative when present), as UTC plus the meter's local offset.
    pub time: Option<MeterTime>,
    /// Electricity meter identifier.
    pub meter_id: Option<MeterId>,
    /// Protocol the reading was decoded from.
    pub protocol: Protocol,
    /// DSMR version as sent in `1-3:0.2.8` (e.g. `50` for 5.0), or the eMUCS version.
    pub dsmr_version: Option<String>,
    /// When the monthly demand peak happened (`1-0:1.6.0`).
    pub demand_peak_month_time: Option<MeterTime>,
    /// Capture time of the gas register.
    pub gas_time: Option<MeterTime>,
    /// Capture time of the water register.
    pub water_time: Option<MeterTime>,
    /// Capture time of the heat register.
    pub heat_time: Option<MeterTime>,
    /// What the meter sent beyond the canonical record, if anything (JSON only; not compared
    /// by `==`, not stored in the vault).
    pub extras: Option<Box<Extras>>,
    values: [i64; Quantity::COUNT],
    present: u64,
}

impl PartialEq for Reading {
    fn eq(&self, other: &Self) -> bool {
        // Every field but `extras`, spelled out so a new field is not forgotten.
        let Reading {
            time,
            meter_id,
            protocol,
            dsmr_version,
            demand_peak_month_time,
            gas_time,
            water_time,
            heat_time,
            extras: _,
            values,
            present,
        } = self;
        *time == other.time
            && *meter_id == other.meter_id
            && *protocol == other.protocol
            && *dsmr_version == other.dsmr_version
            && *demand_peak_month_time == other.demand_peak_month_time
            && *gas_time == other.gas_time
            && *water_time == other.water_time
            && *heat_time == other.heat_time
            && *present == other.present
            && *values == other.values
    }
}

impl Eq for Reading {}

impl Default for Reading {
    fn default() -> Self {
        Reading::new(Protocol::default())
    }
}

const _: () = assert!(Quantity::COUNT <= 64, "presence mask is a u64");

impl Reading {
    /// An empty reading for a protocol.
    pub fn new(protocol: Protocol) -> Self {
        Reading {
            time: None,
            meter_id: None,
            protocol,
            dsmr_version: None,
            demand_peak_month_time: None,
            gas_time: None,
            water_time: None,
            heat_time: None,
            extras: None,
            values: [0; Quantity::COUNT],
            present: 0,
        }
    }

    /// The stored integer for a quantity, if the meter sent it.
    #[inline]
    pub fn get(&self, q: Quantity) -> Option<i64> {
        if self.present & (1 << q as u8) != 0 {
            Some(self.values[q as usize])
        } else {
            None
        }
    }

    /// Sets a quantity (stored integer in the unit documented on the variant).
    #[inline]
    pub fn set(&mut self, q: Quantity, value: i64) {
        self.values[q as usize] = value;
        self.present |= 1 << q as u8;
    }

    /// Removes a quantity.
    #[inline]
    pub fn clear(&mut self, q: Quantity) {
        self.values[q as usize] = 0;
        self.present &= !(1 << q as u8);
    }

    /// Whether no numeric quantity is present.
    pub fn is_empty(&self) -> bool {
        self.present == 0
    }

    /// The present quantities with their stored integers, in canonical order.
    pub fn quantities(&self) -> impl Iterator<Item = (Quantity, i64)> + '_ {
        Quantity::ALL
            .into_iter()
            .filter_map(|q| self.get(q).map(|v| (q, v)))
    }

    /// The extras, created empty if there were none.
    pub fn extras_mut(&mut self) -> &mut Extras {
        self.extras.get_or_insert_with(Box::default)
    }

    /// Fills `import_kwh` / `export_kwh` from the tariff registers when the meter sends only
    /// those (design.md §3: the total is given, or summed), tariffs 3 and 4 included.
    pub fn fill_totals(&mut self) {
        let (import34, export34) = match self.extras.as_deref() {
            None => ([None; 2], [None; 2]),
            Some(x) => (
                [x.import_t3_wh, x.import_t4_wh],
                [x.export_t3_wh, x.export_t4_wh],
            ),
        };
        self.fill_total(
            Quantity::ImportWh,
            [Quantity::ImportT1Wh, Quantity::ImportT2Wh],
            import34,
        );
        self.fill_total(
            Quantity::ExportWh,
            [Quantity::ExportT1Wh, Quantity::ExportT2Wh],
            export34,
        );
    }

    #[inline]
    fn fill_total(&mut self, total: Quantity, t12: [Quantity; 2], t34: [Option<i64>; 2]) {
        if self.get(total).is_some() {
            return;
        }
        let mut sum: Option<i64> = None;
        for v in [self.get(t12[0]), self.get(t12[1]), t34[0], t34[1]]
            .into_iter()
            .flatten()
        {
            sum = Some(sum.map_or(v, |s| s.saturating_add(v)));
        }
        if let Some(sum) = sum {
            self.set(total, sum);
        }
    }
}

impl fmt::Debug for Reading {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Reading");
        d.field("time", &self.time)
            .field("meter_id", &self.meter_id)
            .field("protocol", &self.protocol);
        if let Some(v) = &self.dsmr_version {
            d.field("dsmr_version", v);
        }
        for (q, v) in self.quantities() {
            d.field(q.name(), &v);
        }
        for (name, t) in [
            ("demand_peak_month_time", self.demand_peak_month_time),
            ("gas_time", self.gas_time),
            ("water_time", self.water_time),
            ("heat_time", self.heat_time),
        ] {
            if let Some(t) = t {
                d.field(name, &t);
            }
        }
        if let Some(x) = &self.extras {
            d.field("extras", x);
        }
        d.finish()
    }
}

/// Writes a stored integer in its canonical unit with exactly `decimals` places
/// (`fixed(1234567, 3)` is `1234.567`, `fixed(-5, 3)` is `-0.005`). No floats involved.
pub fn write_fixed(out: &mut impl fmt::Write, value: i64, decimals: u8) -> fmt::Result {
    if decimals == 0 {
        return write!(out, "{value}");
    }
    let scale = 10u64.pow(u32::from(decimals));
    let abs = value.unsigned_abs();
    let sign = if value < 0 { "-" } else { "" };
    write!(
        out,
        "{sign}{}.{:0width$}",
        abs / scale,
        abs % scale,
        width = usize::from(decimals)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_design_names_in_order() {
        let names: Vec<_> = Quantity::ALL.iter().map(|q| q.name()).collect();
        assert_eq!(names[0], "tariff");
        assert_eq!(names[1], "import_kwh");
        // Appended after the first wave's last quantity, never before it (vault format).
        assert_eq!(names[38], "heat_gj");
        assert_eq!(names.last(), Some(&"interval_s"));
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len(), "names are unique");
        for (i, q) in Quantity::ALL.iter().enumerate() {
            assert_eq!(*q as usize, i);
        }
    }

    #[test]
    fn set_get_clear() {
        let mut r = Reading::new(Protocol::Dsmr);
        assert!(r.is_empty());
        r.set(Quantity::HeatMj, 42);
        r.set(Quantity::Tariff, 2);
        assert_eq!(r.get(Quantity::HeatMj), Some(42));
        assert_eq!(r.get(Quantity::ImportWh), None);
        assert_eq!(
            r.quantities().collect::<Vec<_>>(),
            vec![(Quantity::Tariff, 2), (Quantity::HeatMj, 42)]
        );
        r.clear(Quantity::HeatMj);
        assert_eq!(r.get(Quantity::HeatMj), None);
    }

    #[test]
    fn totals_are_summed_only_when_absent() {
        let mut r = Reading::new(Protocol::Dsmr);
        r.set(Quantity::ImportT1Wh, 1_000);
        r.set(Quantity::ImportT2Wh, 2_500);
        r.set(Quantity::ExportT2Wh, 7);
        r.fill_totals();
        assert_eq!(r.get(Quantity::ImportWh), Some(3_500));
        assert_eq!(r.get(Quantity::ExportWh), Some(7));
        r.set(Quantity::ImportWh, 9);
        r.fill_totals();
        assert_eq!(r.get(Quantity::ImportWh), Some(9));
    }

    #[test]
    fn equality_is_the_canonical_record() {
        let mut a = Reading::new(Protocol::Dsmr);
        a.set(Quantity::ImportW, 5);
        let mut b = a.clone();
        b.extras_mut().text_message = Some("hello".into());
        assert_eq!(a, b, "extras are not compared");
        b.set(Quantity::ImportW, 6);
        assert_ne!(a, b);
        b.set(Quantity::ImportW, 5);
        b.time = Some(MeterTime::utc(1));
        assert_ne!(a, b);
    }

    #[test]
    fn tariffs_3_and_4_count_in_the_totals() {
        let mut r = Reading::new(Protocol::Dsmr);
        r.set(Quantity::ImportT1Wh, 1_000);
        r.set(Quantity::ImportT2Wh, 2_000);
        r.extras_mut().import_t3_wh = Some(300);
        r.extras_mut().import_t4_wh = Some(40);
        r.extras_mut().export_t4_wh = Some(5);
        r.fill_totals();
        // 1000 + 2000 + 300 + 40; export only from tariff 4.
        assert_eq!(r.get(Quantity::ImportWh), Some(3_340));
        assert_eq!(r.get(Quantity::ExportWh), Some(5));
        assert!(!r.extras.as_deref().is_some_and(Extras::is_empty));
        assert!(Extras::default().is_empty());
    }

    #[test]
    fn fixed_point_formatting() {
        let f = |v, d| {
            let mut s = String::new();
            write_fixed(&mut s, v, d).unwrap();
            s
        };
        assert_eq!(f(1_234_567, 3), "1234.567");
        assert_eq!(f(5, 3), "0.005");
        assert_eq!(f(-5, 3), "-0.005");
        assert_eq!(f(2301, 1), "230.1");
        assert_eq!(f(-17, 0), "-17");
        assert_eq!(f(i64::MIN, 3), "-9223372036854775.808");
    }

    #[test]
    fn meter_id_never_shows_in_full() {
        let id = MeterId::new("E0044007123456789");
        assert_eq!(id.to_string(), "…6789");
        assert_eq!(format!("{id:?}"), "MeterId(…6789)");
        assert_eq!(id.as_str(), "E0044007123456789");
        assert_eq!(MeterId::new("12").to_string(), "…12");
    }
}
