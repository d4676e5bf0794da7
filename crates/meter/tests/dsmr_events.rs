//! The DSMR objects outside the canonical record, kept as a reading's extras: the power-failure
//! event log, text messages, the eMUCS monthly peak history, tariff 3/4 and reactive quadrant
//! registers. Exact values from real captures and the DSMR 5.0.2 example telegram; instants
//! computed independently (Python `datetime` with the offset the flag names).

use hearth_meter::checksum::crc16_arc;
use hearth_meter::dsmr::{DsmrDecoder, parse_telegram};
use hearth_meter::reading::{DemandPeak, Extras, PowerFailure};
use hearth_meter::{Decoded, Decoder, MeterTime, Quantity as Q, Reading};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/dsmr/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn decode(name: &str) -> Decoded {
    parse_telegram(&crc_restored(&fixture(name))).unwrap_or_else(|r| panic!("{name}: {r}"))
}

/// The capture with the CRC its text calls for when it lost it: `amshan_b.p1` (DSMR 4.2) was
/// published without one, and DSMR 4 and 5 telegrams without a CRC are rejected.
fn crc_restored(capture: &[u8]) -> Vec<u8> {
    match capture.strip_suffix(b"!\r\n") {
        Some(text) if text.windows(12).any(|w| w == b"1-3:0.2.8(42") => {
            let mut t = text.to_vec();
            t.push(b'!');
            let crc = crc16_arc(&t);
            t.extend_from_slice(format!("{crc:04X}\r\n").as_bytes());
            t
        }
        _ => capture.to_vec(),
    }
}

/// A telegram from lines, with a correct CRC (the shared reference CRC).
fn telegram(lines: &[&str]) -> Vec<u8> {
    let mut t = String::from("/ISk5\\2MT382-1000\r\n\r\n");
    for l in lines {
        t.push_str(l);
        t.push_str("\r\n");
    }
    t.push('!');
    let crc = crc16_arc(t.as_bytes());
    format!("{t}{crc:04X}\r\n").into_bytes()
}

fn at(unix: i64, offset_s: i32) -> MeterTime {
    MeterTime { unix, offset_s }
}

/// `json` reads back as `reading`, extras included (`==` compares the canonical record only).
fn round_trip(json: &str, reading: &Reading) {
    let back = Reading::from_json(json).unwrap();
    assert_eq!(&back, reading);
    assert_eq!(back.extras, reading.extras);
}

fn extras(d: &Decoded) -> &Extras {
    d.reading.extras.as_deref().expect("extras present")
}

/// The DSMR 5.0.2 P1 companion standard's example telegram (§6.12), as printed there.
const SPEC_EXAMPLE: [&str; 36] = [
    "1-3:0.2.8(50)",
    "0-0:1.0.0(101209113020W)",
    "0-0:96.1.1(4B384547303034303436333935353037)",
    "1-0:1.8.1(123456.789*kWh)",
    "1-0:1.8.2(123456.789*kWh)",
    "1-0:2.8.1(123456.789*kWh)",
    "1-0:2.8.2(123456.789*kWh)",
    "0-0:96.14.0(0002)",
    "1-0:1.7.0(01.193*kW)",
    "1-0:2.7.0(00.000*kW)",
    "0-0:96.7.21(00004)",
    "0-0:96.7.9(00002)",
    "1-0:99.97.0(2)(0-0:96.7.19)(101208152415W)(0000000240*s)(101208151004W)(0000000301*s)",
    "1-0:32.32.0(00002)",
    "1-0:52.32.0(00001)",
    "1-0:72.32.0(00000)",
    "1-0:32.36.0(00000)",
    "1-0:52.36.0(00003)",
    "1-0:72.36.0(00000)",
    "0-0:96.13.0(303132333435363738393A3B3C3D3E3F303132333435363738393A3B3C3D3E3F303132333435363738393A3B3C3D3E3F303132333435363738393A3B3C3D3E3F303132333435363738393A3B3C3D3E3F)",
    "1-0:32.7.0(220.1*V)",
    "1-0:52.7.0(220.2*V)",
    "1-0:72.7.0(220.3*V)",
    "1-0:31.7.0(001*A)",
    "1-0:51.7.0(002*A)",
    "1-0:71.7.0(003*A)",
    "1-0:21.7.0(01.111*kW)",
    "1-0:41.7.0(02.222*kW)",
    "1-0:61.7.0(03.333*kW)",
    "1-0:22.7.0(04.444*kW)",
    "1-0:42.7.0(05.555*kW)",
    "1-0:62.7.0(06.666*kW)",
    "0-1:24.1.0(003)",
    "0-1:96.1.0(3232323241424344313233343536373839)",
    "0-1:24.2.1(101209112500W)(12785.123*m3)",
    "",
];

/// "0123456789:;<=>?" five times: the hex 30…3F repeated.
const SPEC_TEXT: &str =
    "0123456789:;<=>?0123456789:;<=>?0123456789:;<=>?0123456789:;<=>?0123456789:;<=>?";

#[test]
fn the_spec_example_log_and_message() {
    let d = parse_telegram(&telegram(&SPEC_EXAMPLE[..35])).unwrap();
    assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
    let x = extras(&d);
    // 101208152415W = 2010-12-08 15:24:15 +01:00 = 1291818255; 101208151004W = 1291817404.
    assert_eq!(
        x.power_failure_log,
        vec![
            PowerFailure {
                end: at(1_291_818_255, 3600),
                duration_s: 240
            },
            PowerFailure {
                end: at(1_291_817_404, 3600),
                duration_s: 301
            },
        ]
    );
    assert_eq!(x.text_message.as_deref(), Some(SPEC_TEXT));
    assert_eq!(x.text_message_code, None);
    assert!(x.demand_peak_history.is_empty());
    // The canonical fields are untouched by the extras.
    assert_eq!(d.reading.get(Q::LongPowerFailures), Some(2));
    assert_eq!(d.reading.get(Q::ImportWh), Some(246_913_578));
    // JSON: the extras come after every §3 field.
    let json = d.reading.to_json();
    assert!(
        json.ends_with(&format!(
            r#""gas_time":"2010-12-09T11:25:00+01:00","power_failure_log":[{{"end":"2010-12-08T15:24:15+01:00","duration_s":240}},{{"end":"2010-12-08T15:10:04+01:00","duration_s":301}}],"text_message":"{SPEC_TEXT}"}}"#
        )),
        "{json}"
    );
    round_trip(&json, &d.reading);
}

#[test]
fn an_empty_log_and_message_leave_no_extras() {
    // v5.p1: `1-0:99.97.0(0)(0-0:96.7.19)` and `0-0:96.13.0()`.
    let d = decode("v5.p1");
    assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
    assert_eq!(d.reading.extras, None);
    assert!(!d.reading.to_json().contains("power_failure_log"));
}

#[test]
fn dsmr_4_2_log_with_three_entries() {
    // (000104180320W)(0000237126*s)(000101000001W)(2147583646*s)(000102000003W)(2317482647*s)
    let d = decode("v4_2.p1");
    assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
    let x = extras(&d);
    assert_eq!(
        x.power_failure_log,
        vec![
            PowerFailure {
                end: at(947_005_400, 3600),
                duration_s: 237_126
            },
            PowerFailure {
                end: at(946_681_201, 3600),
                duration_s: 2_147_583_646
            },
            PowerFailure {
                end: at(946_767_603, 3600),
                duration_s: 2_317_482_647
            },
        ]
    );
    // `0-0:96.13.1()` and `0-0:96.13.0()` are empty.
    assert_eq!(x.text_message, None);
    assert_eq!(x.text_message_code, None);
}

#[test]
fn two_mbus_fixture_logs_one_failure() {
    // (190326095015W)(0000002014*s): 2019-03-26 09:50:15 +01:00 = 1553590215.
    let d = decode("v5_two_mbus.p1");
    assert_eq!(
        extras(&d).power_failure_log,
        vec![PowerFailure {
            end: at(1_553_590_215, 3600),
            duration_s: 2014
        }]
    );
}

#[test]
fn austrian_log_counts_more_than_it_lists_and_mixes_summer_and_winter() {
    // `(5)(0-0:96.7.19)(170520130938S)(0000005627*s)(170325044014W)(0043178677*s)`: the pairs
    // decide, without a diagnostic. 2017-05-20 13:09:38 +02:00 = 1495278578;
    // 2017-03-25 04:40:14 +01:00 = 1490413214.
    let d = decode("amshan_b.p1");
    assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
    assert_eq!(
        extras(&d).power_failure_log,
        vec![
            PowerFailure {
                end: at(1_495_278_578, 7200),
                duration_s: 5627
            },
            PowerFailure {
                end: at(1_490_413_214, 3600),
                duration_s: 43_178_677
            },
        ]
    );
}

#[test]
fn dsmr_3_message_and_message_code() {
    let d = decode("v3.p1");
    let x = extras(&d);
    assert_eq!(x.text_message.as_deref(), Some(SPEC_TEXT));
    // 0-0:96.13.1(303132333435363738)
    assert_eq!(x.text_message_code.as_deref(), Some("012345678"));
    let json = d.reading.to_json();
    assert!(
        json.ends_with(&format!(
            r#""text_message":"{SPEC_TEXT}","text_message_code":"012345678"}}"#
        )),
        "{json}"
    );
    round_trip(&json, &d.reading);
}

#[test]
fn fluvius_monthly_peak_history() {
    // (3)(1-0:1.6.0)(1-0:1.6.0)(200501000000S)(200423192538S)(03.695*kW)
    //   (200401000000S)(200305122139S)(05.980*kW)(200301000000S)(200210035421W)(04.318*kW)
    // The meter flags 2020-03-05 as summer time; the flag is what it says.
    let d = decode("fluvius_v171.p1");
    assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
    assert_eq!(
        extras(&d).demand_peak_history,
        vec![
            DemandPeak {
                month: Some(at(1_588_284_000, 7200)),
                time: Some(at(1_587_662_738, 7200)),
                w: 3695
            },
            DemandPeak {
                month: Some(at(1_585_692_000, 7200)),
                time: Some(at(1_583_403_699, 7200)),
                w: 5980
            },
            DemandPeak {
                month: Some(at(1_583_013_600, 7200)),
                time: Some(at(1_581_303_261, 3600)),
                w: 4318
            },
        ]
    );
    let json = d.reading.to_json();
    assert!(
        json.contains(
            r#""demand_peak_history":[{"month":"2020-05-01T00:00:00+02:00","time":"2020-04-23T19:25:38+02:00","w":3695},"#
        ),
        "{json}"
    );
    round_trip(&json, &d.reading);
}

#[test]
fn a_month_without_a_peak_has_no_peak_time() {
    // The first month: (230801000000S)(632525252525W)(00.000*kW), a placeholder time.
    let d = decode("fluvius_v171_alt.p1");
    assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
    let h = &extras(&d).demand_peak_history;
    assert_eq!(h.len(), 4);
    assert_eq!(
        h[0],
        DemandPeak {
            month: Some(at(1_690_840_800, 7200)),
            time: None,
            w: 0
        }
    );
    // (231101000000W)(231016130000S)(04.927*kW)
    assert_eq!(
        h[3],
        DemandPeak {
            month: Some(at(1_698_793_200, 3600)),
            time: Some(at(1_697_454_000, 7200)),
            w: 4927
        }
    );
    let json = d.reading.to_json();
    assert!(
        json.contains(r#"{"month":"2023-08-01T00:00:00+02:00","w":0}"#),
        "{json}"
    );
    round_trip(&json, &d.reading);
}

#[test]
fn eon_tariffs_3_4_and_reactive_quadrants() {
    let d = decode("v5_eon_hu.p1");
    let x = extras(&d);
    // 1-0:1.8.3 … 2.8.4 are all 000000.000*kWh.
    assert_eq!(
        (
            x.import_t3_wh,
            x.import_t4_wh,
            x.export_t3_wh,
            x.export_t4_wh
        ),
        (Some(0), Some(0), Some(0), Some(0))
    );
    // 1-0:5.8.0(000000.668*kvarh) … 1-0:8.8.0(000143.346*kvarh).
    assert_eq!(
        x.reactive_quadrant_varh,
        [Some(668), Some(71), Some(160_487), Some(143_346)]
    );
    // Its 0-0:98.1.0 holds billing-period registers, not an eMUCS peak history.
    assert!(x.demand_peak_history.is_empty());
    // The meter sends its totals; they stay as sent.
    assert_eq!(d.reading.get(Q::ImportWh), Some(173_640));
    let json = d.reading.to_json();
    assert!(
        json.ends_with(
            r#""import_kwh_t3":0.000,"import_kwh_t4":0.000,"export_kwh_t3":0.000,"export_kwh_t4":0.000,"reactive_q1_kvarh":0.668,"reactive_q2_kvarh":0.071,"reactive_q3_kvarh":160.487,"reactive_q4_kvarh":143.346}"#
        ),
        "{json}"
    );
    round_trip(&json, &d.reading);
}

#[test]
fn tariffs_3_and_4_are_summed_into_the_total_when_it_is_missing() {
    let d = parse_telegram(&telegram(&[
        "1-0:1.8.1(000100.000*kWh)",
        "1-0:1.8.2(000020.000*kWh)",
        "1-0:1.8.3(000003.000*kWh)",
        "1-0:1.8.4(000000.400*kWh)",
        "1-0:2.8.3(000001.250*kWh)",
    ]))
    .unwrap();
    assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
    // 100000 + 20000 + 3000 + 400 Wh; export from tariff 3 alone.
    assert_eq!(d.reading.get(Q::ImportWh), Some(123_400));
    assert_eq!(d.reading.get(Q::ExportWh), Some(1250));
}

#[test]
fn odd_log_and_message_lines_are_diagnostics_not_failures() {
    let d = parse_telegram(&telegram(&[
        // A bad month, then a good entry, then an end without a duration.
        "1-0:99.97.0(3)(0-0:96.7.19)(101308152415W)(0000000240*s)(101208151004W)(0000000301*s)(101208151004W)",
        // Not hex: kept as sent. Hex of bytes that are not UTF-8: replaced.
        "0-0:96.13.0(Hello)",
        "0-0:96.13.1(FF41)",
        // A history whose count is not a number.
        "0-0:98.1.0(x)(1-0:1.6.0)(1-0:1.6.0)",
        "1-0:1.8.3(12*Hz)",
    ]))
    .unwrap();
    let messages: Vec<(u32, &str, &str)> = d
        .diagnostics
        .iter()
        .map(|g| (g.line, g.code.as_str(), g.message.as_str()))
        .collect();
    assert_eq!(
        messages,
        vec![
            (3, "1-0:99.97.0", "timestamp names no real date or time"),
            (3, "1-0:99.97.0", "power failure without a duration"),
            (6, "0-0:98.1.0", "value is not a number"),
            (7, "1-0:1.8.3", "unexpected unit 'Hz'"),
        ]
    );
    let x = extras(&d);
    assert_eq!(
        x.power_failure_log,
        vec![PowerFailure {
            end: at(1_291_817_404, 3600),
            duration_s: 301
        }]
    );
    assert_eq!(x.text_message.as_deref(), Some("Hello"));
    assert_eq!(x.text_message_code.as_deref(), Some("\u{FFFD}A"));
    assert_eq!(x.import_t3_wh, None);
    let json = d.reading.to_json();
    round_trip(&json, &d.reading);
}

#[test]
fn the_streaming_decoder_reads_extras_the_same_every_telegram() {
    // Twice in a row: the second is read from the remembered layout.
    let t = telegram(&SPEC_EXAMPLE[..35]);
    let mut d = DsmrDecoder::new();
    d.push(&t);
    d.push(&t);
    let first = d.next().unwrap().unwrap();
    let second = d.next().unwrap().unwrap();
    assert_eq!(first, second);
    assert_eq!(first.reading.extras, second.reading.extras);
    assert_eq!(extras(&second).power_failure_log.len(), 2);
}

#[test]
fn bad_extras_in_json_are_errors() {
    for (line, field) in [
        (r#"{"power_failure_log":5}"#, "power_failure_log"),
        (
            r#"{"power_failure_log":[{"duration_s":1}]}"#,
            "power_failure_log",
        ),
        (
            r#"{"demand_peak_history":[{"month":"nope","w":1}]}"#,
            "demand_peak_history",
        ),
        (r#"{"text_message":1}"#, "text_message"),
        (r#"{"import_kwh_t3":"x"}"#, "import_kwh_t3"),
    ] {
        match Reading::from_json(line) {
            Err(hearth_meter::record::RecordError::Field { field: f, .. }) => {
                assert_eq!(f, field, "{line}")
            }
            other => panic!("{line}: {other:?}"),
        }
    }
    // Null extras are absent.
    let r = Reading::from_json(r#"{"text_message":null,"import_w":1}"#).unwrap();
    assert_eq!(r.extras, None);
}
