//! Glow MQTT payloads (and other bridges through mappings) into readings, on real payloads.

use hearth_meter::glow::{
    GlowDecoder, GlowMeter, GlowPrice, MappedDecoder, Mapping, MqttMapping, parse_payload,
};
use hearth_meter::supplier::london;
use hearth_meter::{Decoder, Protocol, Quantity, RejectReason};

const FIXTURE: &[u8] = include_bytes!("fixtures/glow/eventhub_to_timescale.jsonl");

/// The fixture's electricity payload (second field of its first line).
fn electricity_payload() -> String {
    let text = std::str::from_utf8(FIXTURE).unwrap();
    let line = text.lines().next().unwrap();
    line.split_once(' ').unwrap().1.to_owned()
}

fn decode_all(d: &mut impl Decoder) -> Vec<Result<hearth_meter::Decoded, hearth_meter::Rejection>> {
    std::iter::from_fn(|| d.next()).collect()
}

#[test]
fn real_payloads_decode_exactly() {
    let mut d = GlowDecoder::new();
    d.push(FIXTURE);
    let out = decode_all(&mut d);
    assert_eq!(out.len(), 2);
    let e = out[0].as_ref().unwrap();
    let r = &e.reading;
    assert_eq!(r.protocol, Protocol::Glow);
    // "timestamp":"2022-12-26T14:02:28Z"; December is GMT, so UK time shows +00:00.
    assert_eq!(r.time.unwrap().to_string(), "2022-12-26T14:02:28+00:00");
    // "cumulative":5071.527 kWh, export "cumulative":0.000, "power":{"value":0.902,"units":"kW"}.
    assert_eq!(r.get(Quantity::ImportWh), Some(5_071_527));
    assert_eq!(r.get(Quantity::ExportWh), Some(0));
    assert_eq!(r.get(Quantity::ImportW), Some(902));
    assert_eq!(r.get(Quantity::ExportW), None);
    let id = r.meter_id.as_ref().unwrap();
    assert_eq!(id.as_str(), "1013000046890");
    assert_eq!(id.to_string(), "…6890", "the MPAN is redacted when shown");
    assert!(e.diagnostics.is_empty(), "{:?}", e.diagnostics);

    let g = &out[1].as_ref().unwrap().reading;
    // "timestamp":"2022-12-26T14:02:13Z", "cumulativevol":1357.208 m3.
    assert_eq!(g.get(Quantity::GasDm3), Some(1_357_208));
    assert_eq!(g.gas_time.unwrap().to_string(), "2022-12-26T14:02:13+00:00");
    assert_eq!(g.time, g.gas_time);
    assert_eq!(g.meter_id.as_ref().unwrap().as_str(), "3057817410");
    assert_eq!(
        g.get(Quantity::ImportWh),
        None,
        "gas kWh is not electricity"
    );

    assert_eq!(d.stats().accepted, 2);
    assert_eq!(d.stats().rejected(), 0);
    // "unitrate":0.37880, "standingcharge":0.44580 (GBP) and 0.11090 / 0.32030 for gas.
    assert_eq!(
        d.price(GlowMeter::Electricity),
        Some(GlowPrice {
            unit_rate_micro: 378_800,
            standing_charge_micro: 445_800
        })
    );
    assert_eq!(
        d.price(GlowMeter::Gas),
        Some(GlowPrice {
            unit_rate_micro: 110_900,
            standing_charge_micro: 320_300
        })
    );
}

#[test]
fn supplier_and_price_come_alongside() {
    let m = parse_payload(electricity_payload().as_bytes(), &london())
        .unwrap()
        .unwrap();
    assert_eq!(m.meter, GlowMeter::Electricity);
    assert_eq!(m.supplier.as_deref(), Some("SSE"));
    let text = std::str::from_utf8(FIXTURE).unwrap();
    let gas = text.lines().nth(1).unwrap().split_once(' ').unwrap().1;
    let g = parse_payload(gas.as_bytes(), &london()).unwrap().unwrap();
    assert_eq!(g.supplier, None, "\"---\" is no supplier name");
}

#[test]
fn any_split_gives_the_same_readings() {
    let mut whole = GlowDecoder::new();
    whole.push(FIXTURE);
    let expected = decode_all(&mut whole);
    let mut d = GlowDecoder::new();
    let mut got = Vec::new();
    for b in FIXTURE {
        d.push(std::slice::from_ref(b));
        got.extend(decode_all(&mut d));
    }
    assert_eq!(got, expected);
}

#[test]
fn a_last_line_without_newline_is_read() {
    let payload = electricity_payload();
    let mut d = GlowDecoder::new();
    d.push(payload.as_bytes());
    let r = d.next().unwrap().unwrap().reading;
    assert_eq!(r.get(Quantity::ImportWh), Some(5_071_527));
    assert!(d.next().is_none());
    // A half payload waits for the rest; finish() rejects what never completed.
    d.push(&payload.as_bytes()[..100]);
    assert!(d.next().is_none());
    let r = d.finish().unwrap().unwrap_err();
    assert_eq!(r.reason, RejectReason::Payload);
}

#[test]
fn state_messages_and_other_topics_are_ignored() {
    let mut d = GlowDecoder::new();
    let state = br#"{"software":"v1.8.13","timestamp":"2023-01-07T23:24:15Z","hardware":"GLOW-IHD-01-1v4-SMETS2","han":{"rssi":-47,"status":"joined","lqi":212}}"#;
    assert!(d.decode_message(Some("glow/ABC/STATE"), state).is_none());
    assert!(d.decode_message(None, state).is_none());
    let e = electricity_payload();
    assert!(
        d.decode_message(Some("other/ABC/SENSOR"), e.as_bytes())
            .is_none()
    );
    assert!(
        d.decode_message(Some("glow/ABC/SENSOR/electricitymeter"), e.as_bytes())
            .is_some()
    );
    let mut lines = GlowDecoder::new();
    lines.push(b"# a comment\n\nglow/ABC/STATE ");
    lines.push(state);
    lines.push(b"\n");
    assert!(lines.next().is_none());
    assert_eq!(lines.stats().accepted + lines.stats().rejected(), 0);
}

#[test]
fn summer_time_export_and_imperial_gas() {
    let tz = london();
    let p = br#"{"electricitymeter":{"timestamp":"2023-07-01T12:00:00Z","energy":{"export":{"cumulative":12.5,"units":"kWh"},"import":{"cumulative":100,"units":"kWh","mpan":"***********"}},"power":{"value":-1.25,"units":"kW"}}}"#;
    let r = parse_payload(p, &tz).unwrap().unwrap().decoded.reading;
    assert_eq!(r.time.unwrap().to_string(), "2023-07-01T13:00:00+01:00");
    assert_eq!(r.get(Quantity::ImportWh), Some(100_000));
    assert_eq!(r.get(Quantity::ExportWh), Some(12_500));
    assert_eq!(r.get(Quantity::ImportW), Some(0));
    assert_eq!(r.get(Quantity::ExportW), Some(1_250));
    assert_eq!(r.meter_id, None, "a masked MPAN is no id");
    // 100.000 ft3 × 28.316846592 dm3/ft3 = 2831.6846592 dm3, rounded to 2832.
    let g = br#"{"gasmeter":{"timestamp":"2023-07-01T12:00:00Z","energy":{"import":{"cumulativevol":100.000,"cumulativevolunits":"ft3","mprn":"EMPTY"}}}}"#;
    let r = parse_payload(g, &tz).unwrap().unwrap().decoded.reading;
    assert_eq!(r.get(Quantity::GasDm3), Some(2_832));
    assert_eq!(r.meter_id, None);
}

#[test]
fn bad_payloads_are_counted_rejections() {
    let good = electricity_payload();
    let cases: Vec<(String, &str)> = vec![
        ("not json at all".into(), "not a JSON payload"),
        (good[..good.len() - 3].to_owned(), "not a JSON payload"),
        ("[1,2,3]".into(), "not a JSON object"),
        (r#"{"something":"else"}"#.into(), "neither"),
        (r#"{"electricitymeter":42}"#.into(), "not a JSON object"),
        (
            good.replace("\"cumulative\":5071.527,", ""),
            "no import register",
        ),
        (
            good.replace("5071.527", "-5071.527"),
            "negative",
        ),
        (good.replace("5071.527", "1000000000.001"), "absurd"),
        (good.replace("5071.527", "1e308"), "out of range"),
        (good.replace("5071.527", "\"lots\""), "is not a number"),
        (good.replace("5071.527", "null"), "is not a number"),
        (
            good.replacen("\"units\":\"kWh\"", "\"units\":\"BTU\"", 1),
            "unknown energy unit",
        ),
        (good.replace("0.902", "99999"), "not a household's power"),
        (
            r#"{"gasmeter":{"timestamp":"2022-06-24T13:13:30Z","energy":{"import":{"cumulative":6728.026,"units":"kWh","mprn":"EMPTY"}}}}"#.into(),
            "no volume register",
        ),
        (
            r#"{"gasmeter":{"energy":{"import":{"cumulativevol":1.5,"cumulativevolunits":"barrels"}}}}"#.into(),
            "unknown volume unit",
        ),
    ];
    let mut d = GlowDecoder::new();
    for (payload, expected) in &cases {
        d.push(payload.as_bytes());
        d.push(b"\n");
        let r = d.next().expect("one result per line").unwrap_err();
        assert_eq!(r.reason, RejectReason::Payload, "{payload}");
        assert!(r.detail.contains(expected), "{payload}: {}", r.detail);
        assert!(d.next().is_none());
    }
    assert_eq!(
        d.stats().rejected_for(RejectReason::Payload),
        cases.len() as u64
    );
    assert_eq!(d.stats().accepted, 0);
    // The decoder keeps working after all that.
    d.push(FIXTURE);
    assert_eq!(decode_all(&mut d).iter().filter(|r| r.is_ok()).count(), 2);
}

#[test]
fn odd_fields_are_diagnostics_not_rejections() {
    let good = electricity_payload();
    let p = good
        .replace("\"timestamp\":\"2022-12-26T14:02:28Z\",", "")
        .replace("0.37880", "-1");
    let m = parse_payload(p.as_bytes(), &london()).unwrap().unwrap();
    assert_eq!(m.decoded.reading.time, None);
    assert_eq!(m.decoded.reading.get(Quantity::ImportWh), Some(5_071_527));
    assert_eq!(m.price, None);
    let codes: Vec<_> = m
        .decoded
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect();
    assert_eq!(codes, ["timestamp", "price.unitrate"]);
}

#[test]
fn garbage_cannot_grow_the_buffer() {
    let mut d = GlowDecoder::new();
    let junk = vec![b'x'; 10_000];
    for _ in 0..20 {
        d.push(&junk);
        while d.next().is_some() {}
    }
    d.push(b"\n");
    assert!(d.next().is_none());
    assert_eq!(d.stats().rejected_for(RejectReason::Oversized), 1);
    d.push(FIXTURE);
    assert_eq!(decode_all(&mut d).len(), 2);
}

#[test]
fn tasmota_sml_mapping() {
    let mut d = MappedDecoder::new(MqttMapping::tasmota_sml());
    assert_eq!(d.mapping().topics(), ["tele/+/SENSOR"]);
    // Shape from the evcc Tasmota SML guide: Total_in/Total_out kWh (4 decimals), Power_curr W.
    let p = br#"{"Time":"2024-01-15T12:00:00","SML":{"Total_in":1234.5678,"Total_out":12.3456,"Power_curr":-523,"Meter_Id":"1EBZ0100507409"}}"#;
    let r = d
        .decode_message("tele/tasmota_1A2B3C/SENSOR", p)
        .unwrap()
        .unwrap();
    let r = r.reading;
    assert_eq!(r.protocol, Protocol::Sml);
    // 1234.5678 kWh = 1234567.8 Wh → 1234568; 12.3456 kWh = 12345.6 Wh → 12346.
    assert_eq!(r.get(Quantity::ImportWh), Some(1_234_568));
    assert_eq!(r.get(Quantity::ExportWh), Some(12_346));
    assert_eq!(r.get(Quantity::ImportW), Some(0));
    assert_eq!(r.get(Quantity::ExportW), Some(523));
    assert_eq!(r.meter_id.as_ref().unwrap().as_str(), "1EBZ0100507409");
    assert!(d.decode_message("tele/tasmota_1A2B3C/STATE", p).is_none());
    let bad = d
        .decode_message("tele/x/SENSOR", br#"{"SML":{"Total_in":-5}}"#)
        .unwrap()
        .unwrap_err();
    assert!(bad.detail.contains("negative"), "{}", bad.detail);
    let none = d
        .decode_message("tele/x/SENSOR", br#"{"ENERGY":{"Total":5}}"#)
        .unwrap()
        .unwrap_err();
    assert!(
        none.detail.contains("none of the mapped fields"),
        "{}",
        none.detail
    );
    assert_eq!(d.stats().accepted, 1);
    assert_eq!(d.stats().rejected_for(RejectReason::Payload), 2);
}

#[test]
fn esphome_mapping_reads_bare_numbers_per_topic() {
    let mut d = MappedDecoder::new(MqttMapping::esphome_dsmr("slimmelezer"));
    d.push(b"slimmelezer/sensor/energy_delivered_tariff1/state 1234.567\n");
    d.push(b"slimmelezer/sensor/power_delivered/state 0.523\n");
    d.push(b"slimmelezer/sensor/power_delivered/state nan\n");
    d.push(b"slimmelezer/status online\n");
    d.push(b"slimmelezer/sensor/gas_delivered/state 2345.678\n");
    let out = decode_all(&mut d);
    assert_eq!(out.len(), 4);
    let r0 = &out[0].as_ref().unwrap().reading;
    assert_eq!(r0.get(Quantity::ImportT1Wh), Some(1_234_567));
    assert_eq!(
        r0.get(Quantity::ImportWh),
        Some(1_234_567),
        "total filled from T1"
    );
    assert_eq!(
        out[1].as_ref().unwrap().reading.get(Quantity::ImportW),
        Some(523)
    );
    assert_eq!(out[2].as_ref().unwrap_err().reason, RejectReason::Payload);
    assert_eq!(
        out[3].as_ref().unwrap().reading.get(Quantity::GasDm3),
        Some(2_345_678)
    );
}

#[test]
fn glow_shape_through_mappings_agrees_with_the_decoder() {
    let payload = electricity_payload();
    let mut mapped = MappedDecoder::new(MqttMapping::glow_electricity());
    let m = mapped
        .decode_message(
            "glow/BCDDC2C4ABD0/SENSOR/electricitymeter",
            payload.as_bytes(),
        )
        .unwrap()
        .unwrap()
        .reading;
    let g = parse_payload(payload.as_bytes(), &london())
        .unwrap()
        .unwrap()
        .decoded
        .reading;
    for q in [Quantity::ImportWh, Quantity::ExportWh, Quantity::ImportW] {
        assert_eq!(m.get(q), g.get(q), "{}", q.name());
    }
    assert_eq!(m.meter_id, g.meter_id);
}

#[test]
fn mappings_check_units() {
    assert!(Mapping::new(Quantity::ImportWh, "t", "/a", "kWh").is_some());
    assert!(Mapping::new(Quantity::ImportWh, "t", "/a", "W").is_none());
    assert_eq!(
        Mapping::new(Quantity::L1Dv, "t", "/v", "V").unwrap().shift,
        1
    );
    assert_eq!(
        Mapping::new(Quantity::L1Ma, "t", "/a", "A").unwrap().shift,
        3
    );
    assert_eq!(
        Mapping::new(Quantity::GasDm3, "t", "/g", "m3")
            .unwrap()
            .shift,
        3
    );
}

mod robustness {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_bytes_any_split_never_panic(
            chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..20)
        ) {
            let mut d = GlowDecoder::new();
            let mut m = MappedDecoder::new(MqttMapping::tasmota_sml());
            for c in &chunks {
                d.push(c);
                m.push(c);
                while d.next().is_some() {}
                while m.next().is_some() {}
            }
            let _ = d.finish();
        }

        #[test]
        fn mangled_payloads_never_panic(cut in 0usize..600, byte in any::<u8>(), at in 0usize..600) {
            let mut p = electricity_payload().into_bytes();
            if at < p.len() { p[at] = byte; }
            p.truncate(cut.max(1));
            let _ = parse_payload(&p, &london());
        }
    }
}
