//! Fuzzes the MQTT JSON decoders: the Glow payload parser and [`GlowDecoder`] (one payload per
//! line, optionally after its topic), and [`MappedDecoder`] with the presets and with a
//! generic mapping the input chooses (any quantity, unit, JSON pointer, net or not, under the
//! `#` topic filter). No panic on any bytes. The mapped decoders give the same readings
//! whatever the split; the Glow decoder too when the cut falls at a line end (mid-line, a
//! cut may legitimately end a payload that is already one complete JSON object).
//!
//! Input: byte 0 = where to cut, byte 1 = which generic mapping, the rest = the stream.
#![no_main]

#[path = "split.rs"]
mod split;

use hearth_meter::Quantity;
use hearth_meter::glow::{GlowDecoder, MappedDecoder, Mapping, MqttMapping, parse_payload};
use hearth_meter::supplier::london;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const UNITS: [&str; 8] = ["kWh", "W", "kW", "V", "A", "m3", "", "varh"];
const POINTERS: [&str; 8] = [
    "",
    "/SML/Total_in",
    "/SML/Power_curr",
    "/electricitymeter/energy/import/cumulative",
    "/electricitymeter/power/value",
    "/gasmeter/energy/import/cumulativevol",
    "/0",
    "/a~1b/~0c",
];

/// A one-field mapping under `#` chosen by `sel` (`None` when the unit does not fit).
fn generic(sel: u8) -> Option<MqttMapping> {
    let q = Quantity::ALL[usize::from(sel) % Quantity::COUNT];
    let unit = UNITS[usize::from(sel >> 2) % UNITS.len()];
    let pointer = POINTERS[usize::from(sel >> 5)];
    let mut m = Mapping::new(q, "#", pointer, unit)?;
    if sel & 1 == 1 {
        m = m.net();
    }
    Some(MqttMapping {
        name: "fuzz".into(),
        protocol: hearth_meter::Protocol::Mqtt,
        fields: vec![m],
        meter_id: Some(("#".into(), pointer.into())),
    })
}

/// Like `split::run`, with the Glow decoder's own end-of-input step (a last line without
/// a newline).
fn glow_run(parts: &[&[u8]]) -> split::Outcomes {
    let mut d = GlowDecoder::new();
    let mut out = split::run(&mut d, parts);
    out.extend(d.finish());
    out
}

fuzz_target!(|data: &[u8]| {
    let [split, sel, data @ ..] = data else {
        return;
    };
    let (split, sel) = (*split, *sel);

    // Glow decoder: cut moved to just after a newline (or the start).
    let at = split::cut(split, data.len());
    let at = data[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let whole = glow_run(&[data]);
    let parts = glow_run(&[&data[..at], &data[at..]]);
    assert_eq!(whole, parts, "cut at line end {at}");

    // Mapped decoders: any cut.
    let presets = [
        MqttMapping::tasmota_sml(),
        MqttMapping::esphome_dsmr("+"),
        MqttMapping::glow_electricity(),
    ];
    for mapping in presets.into_iter().chain(generic(sel)) {
        split::same_whatever_the_split(
            || Box::new(MappedDecoder::new(mapping.clone())),
            split,
            data,
        );
    }

    // The payload parser on the bytes as one payload.
    static TZ: OnceLock<jiff::tz::TimeZone> = OnceLock::new();
    let _ = parse_payload(data, TZ.get_or_init(london));
    if let Some(mapping) = generic(sel) {
        let _ = MappedDecoder::new(mapping).decode_message("x", data);
    }
});
