//! DLMS/COSEM over HDLC on real captures (Aidon, Kaifa, Kamstrup; Norway and Sweden), checked
//! field by field against the reference values another decoder (amshan) reads from the same
//! bytes, plus the encrypted Kaifa frame with its public test keys.

use hearth_meter::dlms::DlmsDecoder;
use hearth_meter::glo::Key;
use hearth_meter::{Decoded, Decoder, Quantity as Q, RejectReason, Rejection};
use serde_json::Value;
use std::path::PathBuf;

fn fixture(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/han")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn reference(name: &str) -> serde_json::Map<String, Value> {
    let text = String::from_utf8(fixture(&format!("{name}.reference.json"))).unwrap();
    match serde_json::from_str(&text).unwrap() {
        Value::Object(m) => m,
        _ => panic!("reference is an object"),
    }
}

fn decode_all(dec: &mut DlmsDecoder, bytes: &[u8]) -> Vec<Result<Decoded, Rejection>> {
    dec.push(bytes);
    let mut out = Vec::new();
    while let Some(r) = dec.next() {
        out.push(r);
    }
    out
}

fn decode_one(name: &str) -> Decoded {
    let mut dec = DlmsDecoder::new();
    let mut out = decode_all(&mut dec, &fixture(&format!("{name}.hdlc")));
    assert_eq!(out.len(), 1, "{name}: one frame");
    out.pop()
        .unwrap()
        .unwrap_or_else(|r| panic!("{name}: rejected: {r}"))
}

/// A reference number in the reference's unit, times `scale`, as an exact integer (the
/// references hold at most three decimals).
fn scaled(v: &Value, scale: i64) -> i64 {
    let f = v.as_f64().unwrap();
    let x = f * scale as f64;
    assert!((x - x.round()).abs() < 1e-6, "{f} × {scale} is an integer");
    x.round() as i64
}

/// Checks every field of the reference against the decoded reading.
fn check_against_reference(name: &str) {
    let d = decode_one(name);
    let r = &d.reading;
    let reference = reference(name);
    let mut checked = 0;
    for (key, v) in &reference {
        let (q, scale) = match key.as_str() {
            "active_power_import" => (Q::ImportW, 1),
            "active_power_export" => (Q::ExportW, 1),
            "reactive_power_import" => (Q::ReactiveImportVar, 1),
            "reactive_power_export" => (Q::ReactiveExportVar, 1),
            "active_power_import_total" => (Q::ImportWh, 1),
            "active_power_export_total" => (Q::ExportWh, 1),
            "reactive_power_import_total" => (Q::ReactiveImportVarh, 1),
            "reactive_power_export_total" => (Q::ReactiveExportVarh, 1),
            "active_power_import_l1" => (Q::L1ImportW, 1),
            "active_power_import_l2" => (Q::L2ImportW, 1),
            "active_power_import_l3" => (Q::L3ImportW, 1),
            "active_power_export_l1" => (Q::L1ExportW, 1),
            "active_power_export_l2" => (Q::L2ExportW, 1),
            "active_power_export_l3" => (Q::L3ExportW, 1),
            "current_l1" => (Q::L1Ma, 1000),
            "current_l2" => (Q::L2Ma, 1000),
            "current_l3" => (Q::L3Ma, 1000),
            "voltage_l1" => (Q::L1Dv, 10),
            "voltage_l2" => (Q::L2Dv, 10),
            "voltage_l3" => (Q::L3Dv, 10),
            "meter_id" => {
                let id = r
                    .meter_id
                    .as_ref()
                    .unwrap_or_else(|| panic!("{name}: meter id"));
                assert_eq!(id.as_str(), v.as_str().unwrap(), "{name}: meter id");
                checked += 1;
                continue;
            }
            "meter_datetime" => {
                // The reference prints local wall time, with the offset only when the meter
                // sends a UTC deviation; without one we resolve it in Europe/Oslo rules.
                let t = r.time.unwrap_or_else(|| panic!("{name}: time"));
                let s = t.to_string();
                let want = v.as_str().unwrap().replacen(' ', "T", 1);
                if want.len() > 19 {
                    assert_eq!(s, want, "{name}: time");
                } else {
                    assert_eq!(&s[..19], want, "{name}: time");
                }
                checked += 1;
                continue;
            }
            // Not part of the canonical reading.
            "meter_manufacturer"
            | "meter_type"
            | "list_ver_id"
            | "reactive_power_import_l1"
            | "reactive_power_import_l2"
            | "reactive_power_import_l3"
            | "reactive_power_export_l1"
            | "reactive_power_export_l2"
            | "reactive_power_export_l3" => continue,
            other => panic!("{name}: unmapped reference field {other}"),
        };
        assert_eq!(r.get(q), Some(scaled(v, scale)), "{name}: {key}");
        checked += 1;
    }
    assert!(checked >= 1, "{name}: something was compared");
    assert!(d.diagnostics.is_empty(), "{name}: {:?}", d.diagnostics);
}

#[test]
fn aidon_no_list_1() {
    check_against_reference("aidon_no_list_1");
    // Only the power: no time, no id.
    let d = decode_one("aidon_no_list_1");
    assert_eq!(d.reading.quantities().count(), 1);
    assert_eq!(d.reading.time, None);
}

#[test]
fn aidon_no_list_2() {
    check_against_reference("aidon_no_list_2");
}

#[test]
fn aidon_no_list_3() {
    check_against_reference("aidon_no_list_3");
    // Hand check from the bytes: 1.8.0 = 0x0022AB8A = 2272138 with scaler +1 → 22721380 Wh.
    let d = decode_one("aidon_no_list_3");
    assert_eq!(d.reading.get(Q::ImportWh), Some(22_721_380));
    assert_eq!(d.reading.time.unwrap().unix, 1_579_622_400); // 2020-01-21T16:00:00Z
}

#[test]
fn aidon_se_list() {
    check_against_reference("aidon_se_list");
}

#[test]
fn kaifa_no_list_1() {
    check_against_reference("kaifa_no_list_1");
    let d = decode_one("kaifa_no_list_1");
    assert_eq!(
        d.reading.time.unwrap().to_string(),
        "2019-02-04T23:52:22+01:00"
    );
}

#[test]
fn kaifa_no_list_2() {
    check_against_reference("kaifa_no_list_2");
}

#[test]
fn kaifa_no_list_3() {
    check_against_reference("kaifa_no_list_3");
}

#[test]
fn kaifa_se_list() {
    check_against_reference("kaifa_se_list");
}

#[test]
fn kamstrup_no_list_1_single_phase_real_sample() {
    check_against_reference("kamstrup_no_list_1_single_phase_real_sample");
}

#[test]
fn kamstrup_no_list_1_three_phase() {
    check_against_reference("kamstrup_no_list_1_three_phase");
}

#[test]
fn kamstrup_no_list_2_single_phase() {
    check_against_reference("kamstrup_no_list_2_single_phase");
}

#[test]
fn kamstrup_no_list_2_single_phase_real_sample() {
    check_against_reference("kamstrup_no_list_2_single_phase_real_sample");
    // A November date without a deviation: Oslo winter time.
    let d = decode_one("kamstrup_no_list_2_single_phase_real_sample");
    assert_eq!(
        d.reading.time.unwrap().to_string(),
        "2021-11-24T00:00:25+01:00"
    );
}

#[test]
fn kamstrup_no_list_2_three_phase() {
    check_against_reference("kamstrup_no_list_2_three_phase");
    let d = decode_one("kamstrup_no_list_2_three_phase");
    assert_eq!(
        d.reading.time.unwrap().to_string(),
        "2017-08-16T16:00:05+02:00"
    );
}

#[test]
fn kamstrup_se_list_real_sample() {
    check_against_reference("kamstrup_se_list_real_sample");
}

#[test]
fn kamstrup_se_real() {
    check_against_reference("kamstrup_se_real");
}

fn kaifa_keys() -> (Key, Key) {
    let text = String::from_utf8(fixture("kaifa_no_list_2.gcm.keys")).unwrap();
    let get = |k: &str| {
        let line = text.lines().find(|l| l.starts_with(k)).unwrap();
        Key::from_hex(line.split_once('=').unwrap().1).unwrap()
    };
    (get("encryption_key"), get("authentication_key"))
}

#[test]
fn encrypted_kaifa_frame_decodes_to_the_plain_one() {
    let (ek, ak) = kaifa_keys();
    let mut dec = DlmsDecoder::new().with_key(ek, Some(ak));
    let out = decode_all(&mut dec, &fixture("kaifa_no_list_2.gcm.hdlc"));
    assert_eq!(out.len(), 1);
    let got = out.into_iter().next().unwrap().unwrap();
    assert_eq!(got, decode_one("kaifa_no_list_2"));
    assert_eq!(got.reading.get(Q::ImportW), Some(9745));
    assert_eq!(dec.stats().accepted, 1);
}

#[test]
fn encrypted_frame_with_the_encryption_key_only() {
    let (ek, _) = kaifa_keys();
    let mut dec = DlmsDecoder::new().with_key(ek, None);
    let out = decode_all(&mut dec, &fixture("kaifa_no_list_2.gcm.hdlc"));
    assert_eq!(
        out.into_iter().next().unwrap().unwrap(),
        decode_one("kaifa_no_list_2")
    );
}

#[test]
fn encrypted_frame_without_key_is_a_counted_missing_key() {
    let mut dec = DlmsDecoder::new();
    let out = decode_all(&mut dec, &fixture("kaifa_no_list_2.gcm.hdlc"));
    assert_eq!(out.len(), 1);
    assert_eq!(
        out[0].as_ref().unwrap_err().reason,
        RejectReason::MissingKey
    );
    assert_eq!(dec.stats().rejected_for(RejectReason::MissingKey), 1);
}

#[test]
fn wrong_keys_are_counted_authentication_failures() {
    let (ek, ak) = kaifa_keys();
    let mut wrong = ek.0;
    wrong[0] ^= 1;
    // Wrong encryption key with the right authentication key: the tag fails.
    let mut dec = DlmsDecoder::new().with_key(Key(wrong), Some(ak));
    let out = decode_all(&mut dec, &fixture("kaifa_no_list_2.gcm.hdlc"));
    assert_eq!(
        out[0].as_ref().unwrap_err().reason,
        RejectReason::Authentication
    );
    // Wrong encryption key and no authentication key: the plaintext is garbage.
    let mut dec = DlmsDecoder::new().with_key(Key(wrong), None);
    let out = decode_all(&mut dec, &fixture("kaifa_no_list_2.gcm.hdlc"));
    assert_eq!(
        out[0].as_ref().unwrap_err().reason,
        RejectReason::Authentication
    );
    assert_eq!(dec.stats().rejected_for(RejectReason::Authentication), 1);
}

#[test]
fn every_capture_in_one_stream_any_split() {
    let names = [
        "aidon_no_list_1",
        "aidon_no_list_2",
        "aidon_no_list_3",
        "aidon_se_list",
        "kaifa_no_list_1",
        "kaifa_no_list_2",
        "kaifa_no_list_3",
        "kaifa_se_list",
        "kamstrup_no_list_1_single_phase_real_sample",
        "kamstrup_no_list_1_three_phase",
        "kamstrup_no_list_2_single_phase",
        "kamstrup_no_list_2_single_phase_real_sample",
        "kamstrup_no_list_2_three_phase",
        "kamstrup_se_list_real_sample",
        "kamstrup_se_real",
    ];
    let mut stream = b"\x00\xFFnoise\x7E\x7E".to_vec();
    let mut want = Vec::new();
    for n in names {
        stream.extend_from_slice(&fixture(&format!("{n}.hdlc")));
        stream.extend_from_slice(b"\x55garbage");
        want.push(decode_one(n));
    }
    for chunk in [1, 2, 3, 7, 64, 1000, stream.len()] {
        let mut dec = DlmsDecoder::new();
        let mut got = Vec::new();
        for piece in stream.chunks(chunk) {
            got.extend(decode_all(&mut dec, piece));
        }
        let got: Vec<_> = got.into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(got, want, "chunk {chunk}");
        assert_eq!(dec.stats().accepted, names.len() as u64);
        assert_eq!(dec.stats().rejected(), 0);
        // Noise: 7 bytes in front, 8 after each frame; idle and shared flags are not noise.
        assert_eq!(dec.stats().skipped_bytes, 7 + 8 * names.len() as u64);
    }
}

#[test]
fn damaged_frames_are_counted_and_the_stream_recovers() {
    let good = fixture("kaifa_no_list_2.hdlc");
    let mut flipped = good.clone();
    flipped[60] ^= 0x40; // inside the information field: FCS fails
    let mut truncated = good.clone();
    truncated.truncate(50);
    let mut stream = Vec::new();
    stream.extend_from_slice(&flipped);
    stream.extend_from_slice(&truncated);
    stream.extend_from_slice(&good);
    let mut dec = DlmsDecoder::new();
    let out = decode_all(&mut dec, &stream);
    let reasons: Vec<_> = out
        .iter()
        .map(|r| r.as_ref().map(|_| ()).map_err(|e| e.reason))
        .collect();
    assert_eq!(
        reasons,
        vec![
            Err(RejectReason::Checksum),
            Err(RejectReason::Framing),
            Ok(())
        ]
    );
    assert_eq!(dec.stats().accepted, 1);
    assert_eq!(dec.stats().rejected_for(RejectReason::Checksum), 1);
    assert_eq!(dec.stats().rejected_for(RejectReason::Framing), 1);
}

#[test]
fn a_notification_that_is_not_dlms_is_a_payload_rejection() {
    let frame = hearth_meter::hdlc::encode_frame(b"\xE6\xE7\x00\x0Fgarbage that is no APDU");
    let mut dec = DlmsDecoder::new();
    let out = decode_all(&mut dec, &frame);
    assert_eq!(out[0].as_ref().unwrap_err().reason, RejectReason::Payload);
    let frame = hearth_meter::hdlc::encode_frame(b"\xE6\xE7\x00\xC4\x01\x02");
    let out = decode_all(&mut dec, &frame);
    assert_eq!(out[0].as_ref().unwrap_err().reason, RejectReason::Payload);
}

#[test]
fn odd_objects_become_diagnostics_not_rejections() {
    // An Aidon-style list: 1.8.0 with a voltage unit (35), then a good 1.7.0 = 500 W.
    let apdu: Vec<u8> = [
        &[0xE6, 0xE7, 0x00, 0x0F, 0x40, 0, 0, 0, 0x00, 0x01, 0x02][..],
        &[
            0x02, 0x03, 0x09, 0x06, 1, 0, 1, 8, 0, 255, 0x06, 0, 0, 0, 10, 0x02, 0x02, 0x0F, 0,
            0x16, 35,
        ],
        &[
            0x02, 0x03, 0x09, 0x06, 1, 0, 1, 7, 0, 255, 0x06, 0, 0, 1, 0xF4, 0x02, 0x02, 0x0F, 0,
            0x16, 27,
        ],
    ]
    .concat();
    let mut dec = DlmsDecoder::new();
    let out = decode_all(&mut dec, &hearth_meter::hdlc::encode_frame(&apdu));
    let d = out.into_iter().next().unwrap().unwrap();
    assert_eq!(d.reading.get(Q::ImportW), Some(500));
    assert_eq!(d.reading.get(Q::ImportWh), None);
    assert_eq!(d.diagnostics.len(), 1);
    assert_eq!(d.diagnostics[0].code, "1-0:1.8.0");
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2048), chunk in 1usize..64) {
        let mut dec = DlmsDecoder::new();
        for piece in bytes.chunks(chunk) {
            let _ = decode_all(&mut dec, piece);
        }
    }

    /// A damaged information field with a valid HDLC checksum reaches the DLMS parser.
    #[test]
    fn damaged_apdus_with_good_fcs_never_panic(pos in 0usize..400, byte in proptest::num::u8::ANY, cut in 0usize..400) {
        let frame = fixture("aidon_no_list_3.hdlc");
        let mut info = frame[9..frame.len() - 3].to_vec();
        let pos = pos % info.len();
        info[pos] = byte;
        info.truncate(cut.max(1));
        let (ek, ak) = kaifa_keys();
        let mut dec = DlmsDecoder::new().with_key(ek, Some(ak));
        let _ = decode_all(&mut dec, &hearth_meter::hdlc::encode_frame(&info));
    }
}

/// Austrian meters send the ciphered APDU in wired M-Bus long frames (EN 13757-2), split
/// over two segments. This stream is built by hand from the Kaifa APDU: no public Austrian
/// capture with a clear licence was found.
#[test]
fn encrypted_apdu_over_mbus_segments() {
    let hdlc = fixture("kaifa_no_list_2.gcm.hdlc");
    // HDLC: 7E, format (2), dest 41, src 08 83, control 13, HCS (2), LLC E6 E7 00, APDU, FCS (2), 7E.
    let apdu = &hdlc[12..hdlc.len() - 3];
    assert_eq!(apdu[0], 0xDB);
    let mut wire = b"\xE5\x00noise".to_vec();
    wire.extend(hearth_meter::dlms::mbus::encode_frames(apdu, 100));
    wire.extend(hearth_meter::dlms::mbus::encode_frames(apdu, 64));
    let (ek, ak) = kaifa_keys();
    for chunk in [1, 9, wire.len()] {
        let mut dec = DlmsDecoder::new().with_key(ek, Some(ak));
        let mut got = Vec::new();
        for piece in wire.chunks(chunk) {
            got.extend(decode_all(&mut dec, piece));
        }
        let got: Vec<_> = got.into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(got, vec![decode_one("kaifa_no_list_2"); 2], "chunk {chunk}");
        assert_eq!(dec.stats().rejected(), 0);
    }
}
