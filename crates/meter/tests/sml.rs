//! SML 1.04 on the 37 real captures of the libsml-testing collection (36 meters, some with
//! errors on purpose), checked against what another decoder (smllib) reads from the same
//! bytes: the number of frames and every value of the first frame.

use hearth_meter::sml::{self, SmlDecoder};
use hearth_meter::{Decoded, Decoder, Quantity as Q, RejectReason, Rejection};
use serde_json::Value;
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sml")
}

fn names() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().into_string().unwrap();
            n.strip_suffix(".bin").map(str::to_string)
        })
        .collect();
    v.sort();
    v
}

fn decode(bytes: &[u8], chunk: usize) -> (Vec<Result<Decoded, Rejection>>, SmlDecoder) {
    let mut dec = SmlDecoder::new();
    let mut out = Vec::new();
    for piece in bytes.chunks(chunk.max(1)) {
        dec.push(piece);
        while let Some(r) = dec.next() {
            out.push(r);
        }
    }
    (out, dec)
}

/// `value × 10^(scaler + shift)` computed independently of the decoder: exact when the
/// exponent is positive, otherwise floored for registers and rounded half away from zero
/// for instantaneous values.
fn expect(value: i128, exp: i32, register: bool) -> i64 {
    let v = if exp >= 0 {
        value * 10i128.pow(exp as u32)
    } else {
        let d = 10i128.pow((-exp) as u32);
        if register {
            value.div_euclid(d)
        } else {
            let (q, r) = (value / d, value % d);
            if 2 * r.abs() >= d {
                q + value.signum()
            } else {
                q
            }
        }
    };
    i64::try_from(v).unwrap()
}

fn check_first_frame(name: &str, d: &Decoded, values: &[Value]) {
    let r = &d.reading;
    let mut ids: Vec<(u8, String)> = Vec::new();
    let mut net = None;
    let mut phase_net = [None; 3];
    let mut abs = None;
    for v in values {
        let obis = v["obis"].as_str().unwrap();
        let scaler = v["scaler"].as_i64().unwrap_or(0) as i32;
        let raw = &v["value"];
        let num = || raw.as_i64().map(i128::from).unwrap();
        let (q, shift, register) = match obis {
            "1.8.0" => (Q::ImportWh, 0, true),
            "1.8.1" => (Q::ImportT1Wh, 0, true),
            "1.8.2" => (Q::ImportT2Wh, 0, true),
            "2.8.0" => (Q::ExportWh, 0, true),
            "2.8.1" => (Q::ExportT1Wh, 0, true),
            "2.8.2" => (Q::ExportT2Wh, 0, true),
            "1.7.0" => (Q::ImportW, 0, false),
            "32.7.0" => (Q::L1Dv, 1, false),
            "52.7.0" => (Q::L2Dv, 1, false),
            "72.7.0" => (Q::L3Dv, 1, false),
            "31.7.0" => (Q::L1Ma, 3, false),
            "51.7.0" => (Q::L2Ma, 3, false),
            "71.7.0" => (Q::L3Ma, 3, false),
            "16.7.0" => {
                net = Some(expect(num(), scaler, false));
                continue;
            }
            "15.7.0" => {
                abs = Some(expect(num(), scaler, false));
                continue;
            }
            "36.7.0" | "56.7.0" | "76.7.0" => {
                let p = usize::from(obis.as_bytes()[0] - b'3') / 2;
                phase_net[p] = Some(expect(num(), scaler, false));
                continue;
            }
            "96.1.0" => {
                ids.push((5, raw.as_str().unwrap().to_string()));
                continue;
            }
            "0.0.0" => {
                ids.push((3, raw.as_str().unwrap().to_string()));
                continue;
            }
            "0.0.9" => {
                ids.push((2, raw.as_str().unwrap().to_string()));
                continue;
            }
            _ => continue, // manufacturer, firmware, phase angles, frequency, status words
        };
        assert_eq!(
            r.get(q),
            Some(expect(num(), scaler + shift, register)),
            "{name}: {obis}"
        );
    }
    // This DZG DVS74's firmware sends 356.24 W as the signed 16-bit −299.12 W; the reference
    // decoder reads the sign as sent, Hearth reads what the meter meant (`sml.rs`,
    // `is_faulty_dvs74`): 0x8B28 = 35624 × 0.01 W.
    if name == "DZG_DVS-7412.2_jmberg" {
        assert_eq!(
            net,
            Some(-299),
            "{name}: the reference reads the faulty sign"
        );
        net = Some(356);
    }
    // Signed power: positive imports, negative exports.
    if let Some(w) = net {
        assert_eq!(r.get(Q::ImportW), Some(w.max(0)), "{name}: import_w");
        assert_eq!(r.get(Q::ExportW), Some((-w).max(0)), "{name}: export_w");
    } else if abs.is_some() {
        // A power without direction is not stored (import or export is not known).
        assert_eq!(r.get(Q::ImportW), None, "{name}: no import_w from 15.7.0");
        assert_eq!(r.get(Q::ExportW), None, "{name}");
    }
    let phases = [
        (Q::L1ImportW, Q::L1ExportW),
        (Q::L2ImportW, Q::L2ExportW),
        (Q::L3ImportW, Q::L3ExportW),
    ];
    for (w, (imp, exp)) in phase_net.into_iter().zip(phases) {
        if let Some(w) = w {
            assert_eq!(r.get(imp), Some(w.max(0)), "{name}: phase import");
            assert_eq!(r.get(exp), Some((-w).max(0)), "{name}: phase export");
        }
    }
    ids.sort();
    match ids.last() {
        Some((_, id)) => assert_eq!(
            r.meter_id.as_ref().unwrap().as_str(),
            id,
            "{name}: meter id"
        ),
        None => panic!("{name}: every capture names its meter"),
    }
}

#[test]
fn every_capture_matches_the_reference() {
    let names = names();
    assert_eq!(names.len(), 37);
    for name in &names {
        let bytes = std::fs::read(dir().join(format!("{name}.bin"))).unwrap();
        let reference: Value = serde_json::from_str(
            &std::fs::read_to_string(dir().join(format!("{name}.reference.json"))).unwrap(),
        )
        .unwrap();
        let (out, dec) = decode(&bytes, bytes.len());
        let accepted: Vec<&Decoded> = out.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(
            accepted.len() as u64,
            reference["frames_read_by_smllib"].as_u64().unwrap(),
            "{name}: frames; rejections {:?}",
            out.iter()
                .filter_map(|r| r.as_ref().err())
                .collect::<Vec<_>>()
        );
        assert_eq!(dec.stats().accepted, accepted.len() as u64);
        if let Some(values) = reference["first_frame_values"].as_array() {
            check_first_frame(name, accepted[0], values);
        }
        // Any split gives the same frames.
        for chunk in [1, 5, 64] {
            let (again, _) = decode(&bytes, chunk);
            assert_eq!(again, out, "{name}: chunk {chunk}");
        }
    }
}

fn reasons(out: &[Result<Decoded, Rejection>]) -> Vec<Result<(), RejectReason>> {
    out.iter()
        .map(|r| r.as_ref().map(|_| ()).map_err(|e| e.reason))
        .collect()
}

fn capture(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(format!("{name}.bin"))).unwrap()
}

#[test]
fn captures_with_errors_are_counted_rejections() {
    // DZG mtr1_error: every frame is cut off by the next start sequence.
    let (out, dec) = decode(&capture("DZG_DVS-7420.2V.G2_mtr1_error"), 4096);
    assert_eq!(reasons(&out), vec![Err(RejectReason::Framing); 7]);
    assert_eq!(dec.stats().rejected_for(RejectReason::Framing), 7);
    // EasyMeter Q3A: three frames whose CRC does not match, between four good ones.
    let (out, dec) = decode(&capture("EasyMeter_Q3A_A1064V1009"), 4096);
    assert_eq!(dec.stats().rejected_for(RejectReason::Checksum), 3);
    assert_eq!(dec.stats().accepted, 4);
    assert_eq!(out.len(), 7);
    let (_, dec) = decode(&capture("dzg_dwsb20_2th_3byte"), 4096);
    assert_eq!(dec.stats().rejected_for(RejectReason::Checksum), 2);
}

#[test]
fn a_flipped_bit_is_a_checksum_rejection() {
    let mut bytes = capture("ITRON_OpenWay-3.HZ");
    bytes[100] ^= 0x04;
    let (out, _) = decode(&bytes, 16);
    assert_eq!(reasons(&out), vec![Err(RejectReason::Checksum)]);
}

/// Builds one GetList response message by hand from SML 1.04 (TL bytes written out):
/// actSensorTime = `time`, one entry 1-0:1.8.0 = 12345 × 10^-1 Wh, one 1-0:16.7.0 = -250 W.
fn get_list(time: &[u8]) -> Vec<u8> {
    let mut m = vec![
        0x76, // message: list of 6
        0x02, 0x01, // transactionId: 1-byte octet string
        0x62, 0x00, // groupNo
        0x62, 0x00, // abortOnError
        0x72, 0x63, 0x07, 0x01, // body: choice 0x0701 GetList.Res
        0x77, // 7 fields
        0x01, // clientId absent
        0x03, 0xAB, 0xCD, // serverId
        0x01, // listName absent
    ];
    m.extend_from_slice(time);
    m.extend_from_slice(&[
        0x72, // valList: 2 entries
        0x77, 0x07, 1, 0, 1, 8, 0, 255, 0x01, 0x01, 0x62, 30, 0x52, 0xFF, 0x63, 0x30, 0x39, 0x01,
        0x77, 0x07, 1, 0, 16, 7, 0, 255, 0x01, 0x01, 0x62, 27, 0x52, 0x00, 0x53, 0xFF, 0x06, 0x01,
        0x01, // listSignature
        0x01, // actGatewayTime
        0x63, 0x00, 0x00, // message CRC (not checked: the frame CRC covers it)
        0x00, // endOfSmlMsg
    ]);
    m
}

#[test]
fn hand_built_frame_with_timestamps() {
    // SML_Time choice 2 (UTC timestamp 0x6A000000 = 1778384896).
    let frame = sml::encode_frame(&get_list(&[0x72, 0x62, 0x02, 0x65, 0x6A, 0x00, 0x00, 0x00]));
    let (out, _) = decode(&frame, 3);
    let d = out[0].as_ref().unwrap();
    // 12345 × 0.1 Wh floors to 1234 Wh; -250 W is 250 W export.
    assert_eq!(d.reading.get(Q::ImportWh), Some(1234));
    assert_eq!(d.reading.get(Q::ImportW), Some(0));
    assert_eq!(d.reading.get(Q::ExportW), Some(250));
    assert_eq!(d.reading.meter_id.as_ref().unwrap().as_str(), "abcd");
    assert_eq!(d.reading.time.unwrap().unix, 1_778_384_896);
    assert_eq!(d.reading.time.unwrap().offset_s, 0);
    // Choice 3: local timestamp with offset 60 min and season offset 60 min: +02:00.
    let local = [
        0x72, 0x62, 0x03, 0x73, 0x65, 0x6A, 0x00, 0x00, 0x00, 0x53, 0x00, 0x3C, 0x53, 0x00, 0x3C,
    ];
    let (out, _) = decode(&sml::encode_frame(&get_list(&local)), 64);
    let t = out[0].as_ref().unwrap().reading.time.unwrap();
    assert_eq!((t.unix, t.offset_s), (1_778_384_896, 7200));
    // Choice 1 (seconds since power-up) is no wall time.
    let (out, _) = decode(
        &sml::encode_frame(&get_list(&[0x72, 0x62, 0x01, 0x65, 0, 0, 1, 0])),
        64,
    );
    assert_eq!(out[0].as_ref().unwrap().reading.time, None);
}

#[test]
fn a_frame_without_values_is_a_payload_rejection() {
    // An SML_Close.Res only.
    let close = [
        0x76, 0x02, 0x01, 0x62, 0x00, 0x62, 0x00, 0x72, 0x63, 0x02, 0x01, 0x71, 0x01, 0x63, 0x00,
        0x00, 0x00,
    ];
    let (out, _) = decode(&sml::encode_frame(&close), 64);
    assert_eq!(reasons(&out), vec![Err(RejectReason::Payload)]);
}

#[test]
fn garbage_and_endless_frames_keep_memory_bounded() {
    let mut dec = SmlDecoder::new();
    for i in 0..50_000u32 {
        dec.push(&[(i % 27) as u8; 4]);
        assert!(dec.next().is_none());
    }
    assert_eq!(dec.stats().skipped_bytes, 200_000);
    let mut dec = SmlDecoder::new();
    dec.push(&[0x1B, 0x1B, 0x1B, 0x1B, 1, 1, 1, 1]);
    let mut got = Vec::new();
    for _ in 0..100 {
        dec.push(&[0x77; 1000]);
        while let Some(r) = dec.next() {
            got.push(r.unwrap_err().reason);
        }
    }
    assert_eq!(got, vec![RejectReason::Oversized]);
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2048), chunk in 1usize..64) {
        let _ = decode(&bytes, chunk);
    }

    #[test]
    fn mutated_captures_never_panic(pos in 0usize..1060, byte in proptest::num::u8::ANY, cut in 0usize..1060) {
        let mut bytes = capture("ISKRA_MT631-D1A52-K0z-H01_without_PIN");
        let pos = pos % bytes.len();
        bytes[pos] = byte;
        bytes.truncate(cut.max(1));
        let _ = decode(&bytes, 7);
    }
}
