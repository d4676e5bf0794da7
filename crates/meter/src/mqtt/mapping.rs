//! Where a bridge puts each canonical field: [`Mapping`] (topic filter, JSON pointer, unit) and
//! [`MqttMapping`], a bridge's set of them, with presets for Tasmota SML, ESPHome DSMR and Glow.

use crate::reading::{Protocol, Quantity};

/// Where one canonical field lives in another bridge's MQTT messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// The canonical field it fills.
    pub quantity: Quantity,
    /// MQTT topic filter (`+` and `#` wildcards allowed).
    pub topic: String,
    /// RFC 6901 JSON pointer into the payload (`/SML/Total_in`); empty for a payload that is
    /// the bare number (ESPHome's `…/state` topics).
    pub pointer: String,
    /// Power of ten from the payload's unit to the stored integer (`kWh` into `import_kwh`,
    /// stored in Wh: 3). See [`unit_shift`].
    pub shift: i32,
    /// The value is net power or energy flow: positive fills `quantity`, negative fills its
    /// export counterpart (`import_w` → `export_w`) with the magnitude.
    pub net: bool,
}

impl Mapping {
    /// A mapping from a unit name (`kWh`, `W`, `kW`, `V`, `A`, `m3`, …); `None` when the
    /// unit does not measure that quantity.
    pub fn new(quantity: Quantity, topic: &str, pointer: &str, unit: &str) -> Option<Mapping> {
        Some(Mapping {
            quantity,
            topic: topic.to_owned(),
            pointer: pointer.to_owned(),
            shift: unit_shift(quantity, unit)?,
            net: false,
        })
    }

    /// The same mapping, reading a signed net value (see [`Mapping::net`]).
    pub fn net(mut self) -> Mapping {
        self.net = true;
        self
    }
}

/// The power of ten that turns a value in `unit` into `quantity`'s stored integer, or `None`
/// if the unit does not fit the quantity.
pub fn unit_shift(quantity: Quantity, unit: &str) -> Option<i32> {
    use Quantity as Q;
    let u = unit.trim().to_ascii_lowercase();
    let u = u.as_str();
    match quantity {
        Q::ImportWh
        | Q::ImportT1Wh
        | Q::ImportT2Wh
        | Q::ExportWh
        | Q::ExportT1Wh
        | Q::ExportT2Wh => match u {
            "wh" => Some(0),
            "kwh" => Some(3),
            "mwh" => Some(6),
            _ => None,
        },
        Q::ImportW
        | Q::ExportW
        | Q::L1ImportW
        | Q::L2ImportW
        | Q::L3ImportW
        | Q::L1ExportW
        | Q::L2ExportW
        | Q::L3ExportW
        | Q::DemandCurrentW
        | Q::DemandPeakMonthW => match u {
            "w" => Some(0),
            "kw" => Some(3),
            _ => None,
        },
        Q::L1Dv | Q::L2Dv | Q::L3Dv => (u == "v").then_some(1),
        Q::L1Ma | Q::L2Ma | Q::L3Ma => match u {
            "a" => Some(3),
            "ma" => Some(0),
            _ => None,
        },
        Q::ReactiveImportVarh | Q::ReactiveExportVarh => match u {
            "varh" => Some(0),
            "kvarh" => Some(3),
            _ => None,
        },
        Q::ReactiveImportVar | Q::ReactiveExportVar => match u {
            "var" => Some(0),
            "kvar" => Some(3),
            _ => None,
        },
        Q::PowerFactorMilli => match u {
            "" | "pf" => Some(3),
            "%" => Some(1),
            _ => None,
        },
        Q::GasDm3 | Q::WaterDm3 => match u {
            "m3" | "m³" => Some(3),
            "l" | "dm3" => Some(0),
            _ => None,
        },
        Q::HeatMj => match u {
            "gj" => Some(3),
            "mj" => Some(0),
            _ => None,
        },
        Q::Tariff
        | Q::PowerFailures
        | Q::LongPowerFailures
        | Q::VoltageSagsL1
        | Q::VoltageSagsL2
        | Q::VoltageSagsL3
        | Q::VoltageSwellsL1
        | Q::VoltageSwellsL2
        | Q::VoltageSwellsL3 => (u.is_empty() || u == "count").then_some(0),
        // Supplier interval energy is imported from downloads, never read from a broker.
        Q::IntervalImportWh | Q::IntervalExportWh | Q::IntervalS => None,
    }
}

pub(super) fn export_counterpart(q: Quantity) -> Option<Quantity> {
    use Quantity as Q;
    Some(match q {
        Q::ImportW => Q::ExportW,
        Q::L1ImportW => Q::L1ExportW,
        Q::L2ImportW => Q::L2ExportW,
        Q::L3ImportW => Q::L3ExportW,
        Q::ImportWh => Q::ExportWh,
        Q::ReactiveImportVar => Q::ReactiveExportVar,
        _ => return None,
    })
}

/// A set of [`Mapping`]s for one bridge, plus where its meter id lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MqttMapping {
    /// Shown to the user (`"Tasmota SML"`).
    pub name: String,
    /// The protocol the bridge decoded (readings are marked with it).
    pub protocol: Protocol,
    /// The fields.
    pub fields: Vec<Mapping>,
    /// Topic filter and JSON pointer of the meter id, if the bridge sends one.
    pub meter_id: Option<(String, String)>,
}

impl MqttMapping {
    /// The topic filters to subscribe to (deduplicated, in first-use order).
    pub fn topics(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let all = self
            .fields
            .iter()
            .map(|m| &m.topic)
            .chain(self.meter_id.as_ref().map(|(t, _)| t));
        for t in all {
            if !out.contains(t) {
                out.push(t.clone());
            }
        }
        out
    }

    /// Tasmota's Smart Meter Interface reading an SML meter, with the JSON names evcc and most
    /// guides use: `tele/<device>/SENSOR` → `{"SML":{"Total_in":kWh,"Total_out":kWh,
    /// "Power_curr":W (negative = export),"power_l1..3":W,"voltage_l1..3":V,"current_l1..3":A,
    /// "Meter_Id":…}}`.
    pub fn tasmota_sml() -> MqttMapping {
        let t = "tele/+/SENSOR";
        let m = |q, p: &str, u: &str| Mapping::new(q, t, p, u);
        let fields = [
            m(Quantity::ImportWh, "/SML/Total_in", "kWh"),
            m(Quantity::ExportWh, "/SML/Total_out", "kWh"),
            m(Quantity::ImportW, "/SML/Power_curr", "W").map(Mapping::net),
            m(Quantity::L1ImportW, "/SML/power_l1", "W").map(Mapping::net),
            m(Quantity::L2ImportW, "/SML/power_l2", "W").map(Mapping::net),
            m(Quantity::L3ImportW, "/SML/power_l3", "W").map(Mapping::net),
            m(Quantity::L1Dv, "/SML/voltage_l1", "V"),
            m(Quantity::L2Dv, "/SML/voltage_l2", "V"),
            m(Quantity::L3Dv, "/SML/voltage_l3", "V"),
            m(Quantity::L1Ma, "/SML/current_l1", "A"),
            m(Quantity::L2Ma, "/SML/current_l2", "A"),
            m(Quantity::L3Ma, "/SML/current_l3", "A"),
        ];
        MqttMapping {
            name: "Tasmota SML".into(),
            protocol: Protocol::Sml,
            fields: fields.into_iter().flatten().collect(),
            meter_id: Some((t.into(), "/SML/Meter_Id".into())),
        }
    }

    /// An ESPHome P1 dongle (the `dsmr` component) publishing one sensor per topic,
    /// `<node>/sensor/<name>/state` with a bare number, when the sensors are named after the
    /// component's keys (`energy_delivered_tariff1`, `power_delivered`, …). `node` is the
    /// ESPHome topic prefix (its node name by default); `+` matches every node.
    pub fn esphome_dsmr(node: &str) -> MqttMapping {
        let topic = |name: &str| format!("{node}/sensor/{name}/state");
        let m = |q, name: &str, u: &str| Mapping::new(q, &topic(name), "", u);
        let fields = [
            m(Quantity::ImportT1Wh, "energy_delivered_tariff1", "kWh"),
            m(Quantity::ImportT2Wh, "energy_delivered_tariff2", "kWh"),
            m(Quantity::ExportT1Wh, "energy_returned_tariff1", "kWh"),
            m(Quantity::ExportT2Wh, "energy_returned_tariff2", "kWh"),
            m(Quantity::ImportW, "power_delivered", "kW"),
            m(Quantity::ExportW, "power_returned", "kW"),
            m(Quantity::L1Dv, "voltage_l1", "V"),
            m(Quantity::L2Dv, "voltage_l2", "V"),
            m(Quantity::L3Dv, "voltage_l3", "V"),
            m(Quantity::L1Ma, "current_l1", "A"),
            m(Quantity::L2Ma, "current_l2", "A"),
            m(Quantity::L3Ma, "current_l3", "A"),
            m(Quantity::L1ImportW, "power_delivered_l1", "kW"),
            m(Quantity::L2ImportW, "power_delivered_l2", "kW"),
            m(Quantity::L3ImportW, "power_delivered_l3", "kW"),
            m(Quantity::GasDm3, "gas_delivered", "m3"),
        ];
        MqttMapping {
            name: "ESPHome DSMR".into(),
            protocol: Protocol::Dsmr,
            fields: fields.into_iter().flatten().collect(),
            meter_id: None,
        }
    }

    /// The Glow electricity payload as plain mappings (what [`GlowDecoder`](crate::glow::GlowDecoder) reads, minus gas,
    /// prices and the timestamp), as an example of a nested JSON shape.
    pub fn glow_electricity() -> MqttMapping {
        let t = "glow/+/SENSOR/electricitymeter";
        let m = |q, p: &str, u: &str| Mapping::new(q, t, p, u);
        let fields = [
            m(
                Quantity::ImportWh,
                "/electricitymeter/energy/import/cumulative",
                "kWh",
            ),
            m(
                Quantity::ExportWh,
                "/electricitymeter/energy/export/cumulative",
                "kWh",
            ),
            m(Quantity::ImportW, "/electricitymeter/power/value", "kW").map(Mapping::net),
        ];
        MqttMapping {
            name: "Glow (electricity)".into(),
            protocol: Protocol::Glow,
            fields: fields.into_iter().flatten().collect(),
            meter_id: Some((t.into(), "/electricitymeter/energy/import/mpan".into())),
        }
    }
}
