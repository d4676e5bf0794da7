//! Plausibility on every protocol (issue 19, item 2; issue 17): every real capture in the
//! fixtures passes untouched, and a frame of each protocol made implausible (its checksum made
//! right again) loses only the implausible field, told as a diagnostic and counted.

use hearth_meter::auto::{self, AuthKey, AutoDecoder, Keys};
use hearth_meter::checksum::crc16_x25;
use hearth_meter::dsmr::DsmrDecoder;
use hearth_meter::glo::Key;
use hearth_meter::plausible::Checked;
use hearth_meter::{Decoded, Decoder, Diagnostic, Protocol, Quantity as Q, Rejection};
use std::path::{Path, PathBuf};

fn fixtures(dir: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir)
}

fn fixture(dir: &str, name: &str) -> Vec<u8> {
    std::fs::read(fixtures(dir).join(name)).unwrap()
}

fn decode_all(dec: &mut dyn Decoder, bytes: &[u8]) -> Vec<Result<Decoded, Rejection>> {
    dec.push(bytes);
    let mut out: Vec<_> = std::iter::from_fn(|| dec.next()).collect();
    out.extend(std::iter::from_fn(|| dec.finish()));
    out
}

fn accepted(dec: &mut dyn Decoder, bytes: &[u8]) -> Vec<Decoded> {
    decode_all(dec, bytes)
        .into_iter()
        .filter_map(Result::ok)
        .collect()
}

/// The keys beside a fixture (`NAME.keys` for `NAME.gcm.hdlc` / `NAME.encrypted.bin`).
fn keys_beside(path: &Path) -> Option<Keys> {
    let name = path.file_name()?.to_str()?;
    let stem = name.split('.').next()?;
    let kind = if name.contains(".gcm.") {
        ".gcm.keys"
    } else {
        ".encrypted.keys"
    };
    let text = std::fs::read_to_string(path.with_file_name(format!("{stem}{kind}"))).ok()?;
    let get = |k: &str| {
        let line = text.lines().find(|l| l.starts_with(k))?;
        Key::from_hex(line.split_once('=')?.1.trim()).ok()
    };
    Some(Keys {
        key: get("encryption_key")?,
        auth_key: get("authentication_key").map_or(AuthKey::Skip, AuthKey::Key),
    })
}

/// Every capture in the fixtures (DSMR, HAN, SML, RAVEn, Glow, the demo), decoded as the
/// CLI, import and collect decode it, has not one implausible field: the rules never reject
/// a real meter.
#[test]
fn every_real_capture_is_plausible() {
    let mut files = 0;
    let mut readings = 0;
    for (dir, protocol) in [
        ("dsmr", None),
        ("han", None),
        ("sml", Some(Protocol::Sml)),
        ("raven", Some(Protocol::Raven)),
        ("glow", Some(Protocol::Glow)),
    ] {
        let mut paths: Vec<_> = std::fs::read_dir(fixtures(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let n = p.file_name().unwrap().to_str().unwrap();
                !n.ends_with(".md")
                    && !n.ends_with(".json")
                    && !n.ends_with(".keys")
                    && n != "FILES"
            })
            .collect();
        paths.sort();
        for path in paths {
            let keys = keys_beside(&path);
            let mut dec: Box<dyn Decoder> = match protocol {
                Some(p) => auto::decoder(p, None).unwrap(),
                None => Box::new(match keys {
                    Some(k) => AutoDecoder::with_keys(k),
                    None => AutoDecoder::new(),
                }),
            };
            let out = accepted(dec.as_mut(), &std::fs::read(&path).unwrap());
            let told: Vec<&Diagnostic> = out
                .iter()
                .flat_map(|d| &d.diagnostics)
                .filter(|d| d.message.contains(" dropped: "))
                .collect();
            assert_eq!(told, Vec::<&Diagnostic>::new(), "{}", path.display());
            assert_eq!(dec.stats().implausible, 0, "{}", path.display());
            files += 1;
            readings += out.len();
        }
    }
    let demo =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../assets/demo/hearth-demo-60s.p1");
    let mut dec = AutoDecoder::new();
    readings += accepted(&mut dec, &std::fs::read(demo).unwrap()).len();
    assert_eq!(dec.stats().implausible, 0);
    // Every capture file of the five directories was read, and readings came from them.
    assert!(files >= 70, "{files} files");
    assert!(readings >= 150, "{readings} readings");
}

/// CRC16/ARC (poly 0xA001 reflected, init 0), written out here rather than taken from the
/// crate, so the crafted telegram's checksum is computed independently of the decoder.
fn crc16_arc(bytes: &[u8]) -> u16 {
    let mut crc = 0u16;
    for &b in bytes {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
        }
    }
    crc
}

/// The DSMR 5 fixture with lines replaced, its CRC computed anew.
fn dsmr_with(replacements: &[(&str, &str)]) -> Vec<u8> {
    let text = String::from_utf8(fixture("dsmr", "v5.p1")).unwrap();
    let bang = text.find('!').unwrap();
    let mut body = text[..=bang].to_owned();
    // The fixture's own CRC is what this function computes: the function is right.
    assert_eq!(
        format!("{:04X}", crc16_arc(body.as_bytes())),
        text[bang + 1..bang + 5]
    );
    for (old, new) in replacements {
        assert!(body.contains(old), "{old}");
        body = body.replace(old, new);
    }
    let crc = crc16_arc(body.as_bytes());
    format!("{body}{crc:04X}\r\n").into_bytes()
}

fn only(mut out: Vec<Decoded>) -> Decoded {
    assert_eq!(out.len(), 1);
    out.remove(0)
}

fn dropped(d: &Decoded) -> Vec<(String, String)> {
    d.diagnostics
        .iter()
        .filter(|x| x.message.contains(" dropped: "))
        .map(|x| (x.code.clone(), x.message.clone()))
        .collect()
}

#[test]
fn a_dsmr_telegram_with_an_implausible_voltage_loses_only_that_field() {
    let original = only(accepted(&mut DsmrDecoder::new(), &fixture("dsmr", "v5.p1")));
    let bytes = dsmr_with(&[("1-0:32.7.0(0230.0*V)", "1-0:32.7.0(4000.0*V)")]);
    // Unchecked, the decoder takes 4000 V as it comes (the CRC is right).
    let raw = only(accepted(&mut DsmrDecoder::new(), &bytes));
    assert_eq!(raw.reading.get(Q::L1Dv), Some(40_000));
    let mut expected = original.reading.clone();
    expected.clear(Q::L1Dv);
    // Checked, as the CLI, import and collect decode: only l1_v goes, told and counted.
    let explicit: Box<dyn Decoder> = auto::decoder(Protocol::Dsmr, None).unwrap();
    let auto: Box<dyn Decoder> = Box::new(AutoDecoder::new());
    for mut dec in [explicit, auto] {
        let got = only(accepted(dec.as_mut(), &bytes));
        assert_eq!(got.reading, expected);
        assert_eq!(got.reading.extras, original.reading.extras);
        assert_eq!(
            dropped(&got),
            [(
                "l1_v".to_owned(),
                "l1_v 4000.0 dropped: a household voltage is 0 or between 80 and 300 V".to_owned()
            )]
        );
        assert_eq!(dec.stats().implausible, 1);
        assert_eq!(dec.stats().accepted, 1);
    }
}

#[test]
fn a_dsmr_telegram_breaking_every_rule_keeps_what_is_plausible() {
    let original = only(accepted(&mut DsmrDecoder::new(), &fixture("dsmr", "v5.p1")));
    // L2 at 79.9 V; 900 A on L3; 900 kW imported; the meter id is the hex of an OBIS code.
    let obis_hex: String = "1-0:96.1.0*255"
        .bytes()
        .map(|b| format!("{b:02X}"))
        .collect();
    let bytes = dsmr_with(&[
        ("1-0:52.7.0(0230.0*V)", "1-0:52.7.0(0079.9*V)"),
        ("1-0:71.7.0(0.86*A)", "1-0:71.7.0(900.00*A)"),
        ("1-0:1.7.0(00.244*kW)", "1-0:1.7.0(900.000*kW)"),
        (
            "0-0:96.1.1(4B384547303034303436333935353037)",
            &format!("0-0:96.1.1({obis_hex})"),
        ),
    ]);
    let mut dec = AutoDecoder::new();
    let got = only(accepted(&mut dec, &bytes));
    let mut expected = original.reading.clone();
    for q in [Q::L2Dv, Q::L3Ma, Q::ImportW] {
        expected.clear(q);
    }
    expected.meter_id = None;
    assert_eq!(got.reading, expected);
    let codes: Vec<String> = dropped(&got).into_iter().map(|(c, _)| c).collect();
    assert_eq!(codes, ["l2_v", "l3_a", "import_w", "meter_id"]);
    assert_eq!(dec.stats().implausible, 4);
}

#[test]
fn a_dsmr_phase_whose_power_its_current_cannot_carry_loses_both() {
    let original = only(accepted(&mut DsmrDecoder::new(), &fixture("dsmr", "v5.p1")));
    // 0.48 A at 230 V carries (0.48 + 1 A rounding) × 230 V × 1.1 = 374 W at most: 5 kW on L1
    // contradicts it. (The total 1-0:1.7.0 is then checked against all three phases.)
    let bytes = dsmr_with(&[("1-0:21.7.0(00.070*kW)", "1-0:21.7.0(05.000*kW)")]);
    let mut dec = AutoDecoder::new();
    let got = only(accepted(&mut dec, &bytes));
    let mut expected = original.reading.clone();
    for q in [Q::L1Ma, Q::L1ImportW, Q::L1ExportW] {
        expected.clear(q);
    }
    assert_eq!(got.reading, expected);
    assert_eq!(dec.stats().implausible, 3);
}

/// The Aidon HAN frame with the bytes at `at` replaced, its frame check sequence made right.
fn aidon_with(find: &[u8], new: &[u8]) -> Vec<u8> {
    let mut b = fixture("han", "aidon_no_list_2.hdlc");
    let n = b.len();
    // FCS: CRC-16/X-25 of everything between the flags, little-endian, before the last flag.
    assert_eq!(crc16_x25(&b[1..n - 3]).to_le_bytes(), [b[n - 3], b[n - 2]]);
    let at = b.windows(find.len()).position(|w| w == find).unwrap() + find.len();
    b[at..at + new.len()].copy_from_slice(new);
    let fcs = crc16_x25(&b[1..n - 3]).to_le_bytes();
    b[n - 3..n - 1].copy_from_slice(&fcs);
    b
}

#[test]
fn a_han_frame_with_an_implausible_voltage_loses_only_that_field() {
    let original = only(accepted(
        &mut AutoDecoder::new(),
        &fixture("han", "aidon_no_list_2.hdlc"),
    ));
    assert_eq!(original.reading.get(Q::L1Dv), Some(2_274));
    // 1-0:32.7.0, long-unsigned 0x08E2 (227.4 V) becomes 0x9C40 (4000.0 V).
    let bytes = aidon_with(&[0x01, 0x00, 0x20, 0x07, 0x00, 0xFF, 0x12], &[0x9C, 0x40]);
    for mut dec in [
        auto::decoder(Protocol::Dlms, None).unwrap(),
        Box::new(AutoDecoder::new()),
    ] {
        let got = only(accepted(dec.as_mut(), &bytes));
        let mut expected = original.reading.clone();
        expected.clear(Q::L1Dv);
        assert_eq!(got.reading, expected);
        assert_eq!(
            dropped(&got),
            [(
                "l1_v".to_owned(),
                "l1_v 4000.0 dropped: a household voltage is 0 or between 80 and 300 V".to_owned()
            )]
        );
        assert_eq!(dec.stats().implausible, 1);
    }
}

#[test]
fn a_han_frame_with_an_absurd_current_loses_only_that_field() {
    let original = only(accepted(
        &mut AutoDecoder::new(),
        &fixture("han", "aidon_no_list_2.hdlc"),
    ));
    // 1-0:31.7.0, long 0x000D (1.3 A, scaler -1) becomes 0x2328 (900.0 A), as the Kamstrup
    // frames of issue 19.
    let bytes = aidon_with(&[0x01, 0x00, 0x1F, 0x07, 0x00, 0xFF, 0x10], &[0x23, 0x28]);
    let mut dec = AutoDecoder::new();
    let got = only(accepted(&mut dec, &bytes));
    let mut expected = original.reading.clone();
    expected.clear(Q::L1Ma);
    assert_eq!(got.reading, expected);
    assert_eq!(dropped(&got)[0].0, "l1_a");
    assert_eq!(dec.stats().implausible, 1);
}

#[test]
fn an_sml_frame_with_an_absurd_power_loses_only_that_field() {
    let file = fixture("sml", "ISKRA_MT175_eHZ.bin");
    let end = file
        .windows(5)
        .position(|w| w == [0x1B, 0x1B, 0x1B, 0x1B, 0x1A])
        .unwrap()
        + 8;
    let mut frame = file[..end].to_vec();
    assert_eq!(
        crc16_x25(&frame[..end - 2]).to_le_bytes(),
        [frame[end - 2], frame[end - 1]]
    );
    let original = only(accepted(
        auto::decoder(Protocol::Sml, None).unwrap().as_mut(),
        &frame,
    ));
    assert_eq!(original.reading.get(Q::ImportW), Some(168));
    // 1-0:16.7.0, int32 168 W becomes 1 000 000 W.
    let find = [
        0x01, 0x00, 0x10, 0x07, 0x00, 0xFF, 0x01, 0x01, 0x62, 0x1B, 0x52, 0x00, 0x55,
    ];
    let at = frame.windows(find.len()).position(|w| w == find).unwrap() + find.len();
    frame[at..at + 4].copy_from_slice(&1_000_000u32.to_be_bytes());
    let crc = crc16_x25(&frame[..end - 2]).to_le_bytes();
    frame[end - 2..].copy_from_slice(&crc);
    for mut dec in [
        auto::decoder(Protocol::Sml, None).unwrap(),
        Box::new(AutoDecoder::new()),
    ] {
        let got = only(accepted(dec.as_mut(), &frame));
        let mut expected = original.reading.clone();
        expected.clear(Q::ImportW);
        assert_eq!(got.reading, expected);
        assert_eq!(
            dropped(&got),
            [(
                "import_w".to_owned(),
                "import_w 1000000 dropped: a household connection carries at most ±60 kW"
                    .to_owned()
            )]
        );
        assert_eq!(dec.stats().implausible, 1);
    }
}

#[test]
fn an_iec_readout_with_an_implausible_voltage_loses_only_that_field() {
    let readout = |volts: &str| {
        let data = format!(
            "0.0.0(12345678)\r\n1.8.0(001234.567*kWh)\r\n32.7.0({volts}*V)\r\n\
             31.7.0(1.25*A)\r\n!\r\n"
        );
        let mut out = b"/ISK5ME162-0033\r\n\x02".to_vec();
        let start = out.len();
        out.extend_from_slice(data.as_bytes());
        out.push(0x03);
        let bcc = out[start..].iter().fold(0u8, |a, b| a ^ b);
        out.push(bcc);
        out
    };
    let original = only(accepted(&mut AutoDecoder::new(), &readout("230.1")));
    assert_eq!(original.reading.get(Q::L1Dv), Some(2_301));
    for mut dec in [
        auto::decoder(Protocol::Iec62056_21, None).unwrap(),
        Box::new(AutoDecoder::new()),
    ] {
        let got = only(accepted(dec.as_mut(), &readout("23.0")));
        let mut expected = original.reading.clone();
        expected.clear(Q::L1Dv);
        assert_eq!(got.reading, expected);
        assert_eq!(dropped(&got)[0].0, "l1_v");
        assert_eq!(dec.stats().implausible, 1);
    }
}

#[test]
fn a_raven_fragment_with_an_absurd_demand_or_year_loses_that_field() {
    let demand = |demand: &str, stamp: &str| {
        format!(
            "<InstantaneousDemand><DeviceMacId>0x0123456789ABCDEF</DeviceMacId>\
             <MeterMacId>0xFEDCBA9876543210</MeterMacId><TimeStamp>{stamp}</TimeStamp>\
             <Demand>{demand}</Demand><Multiplier>0x00000004</Multiplier>\
             <Divisor>0x00000002</Divisor></InstantaneousDemand>\n"
        )
        .into_bytes()
    };
    let mut dec = auto::decoder(Protocol::Raven, None).unwrap();
    // 0x10 × 4 / 2 = 32 kW: plausible. 0x100 × 4 / 2 = 512 kW: not.
    let fine = only(accepted(dec.as_mut(), &demand("0x00000010", "0x29bd58a7")));
    assert_eq!(fine.reading.get(Q::ImportW), Some(32_000));
    let got = only(accepted(dec.as_mut(), &demand("0x00000100", "0x29bd58a7")));
    assert_eq!(got.reading.get(Q::ImportW), None);
    assert_eq!(got.reading.get(Q::ExportW), fine.reading.get(Q::ExportW));
    assert_eq!(got.reading.time, fine.reading.time);
    assert_eq!(dropped(&got)[0].0, "import_w");
    // 0xFFFFFFF0 s after 2000-01-01 is in 2136: the time goes, the demand stays.
    let got = only(accepted(dec.as_mut(), &demand("0x00000010", "0xFFFFFFF0")));
    assert_eq!(got.reading.time, None);
    assert_eq!(got.reading.get(Q::ImportW), Some(32_000));
    assert_eq!(
        dropped(&got),
        [(
            "time".to_owned(),
            "time 2136-02-07T06:28:00+00:00 dropped: a meter time lies between the years 2000 and 2100"
                .to_owned()
        )]
    );
    assert_eq!(dec.stats().implausible, 2);
}

#[test]
fn a_glow_payload_with_an_absurd_power_loses_only_that_field() {
    let fixture = fixture("glow", "eventhub_to_timescale.jsonl");
    let text = String::from_utf8(fixture).unwrap();
    let line = text.lines().next().unwrap();
    let original = only(accepted(
        auto::decoder(Protocol::Glow, None).unwrap().as_mut(),
        format!("{line}\n").as_bytes(),
    ));
    let w = original.reading.get(Q::ImportW).unwrap();
    // The payload gives power in kW: the same payload with 900 kW.
    let kw = format!("{}", w as f64 / 1000.0);
    assert!(line.contains(&format!("\"value\":{kw}")), "{kw} in {line}");
    let bad = line.replacen(&format!("\"value\":{kw}"), "\"value\":900", 1);
    let mut dec = auto::decoder(Protocol::Glow, None).unwrap();
    let got = only(accepted(dec.as_mut(), format!("{bad}\n").as_bytes()));
    let mut expected = original.reading.clone();
    expected.clear(Q::ImportW);
    assert_eq!(got.reading, expected);
    assert_eq!(dropped(&got)[0].0, "import_w");
    assert_eq!(dec.stats().implausible, 1);
}

#[test]
fn checking_changes_nothing_else_about_a_decoder() {
    // Rejections and skipped bytes pass through unchanged.
    let mut bytes = b"garbage".to_vec();
    let mut broken = fixture("dsmr", "v5.p1");
    let at = broken.iter().position(|&b| b == b'(').unwrap() + 1;
    broken[at] ^= 1;
    bytes.extend_from_slice(&broken);
    bytes.extend_from_slice(&fixture("dsmr", "v5.p1"));
    let mut plain = DsmrDecoder::new();
    let mut checked = Checked::new(DsmrDecoder::new());
    assert_eq!(
        decode_all(&mut plain, &bytes),
        decode_all(&mut checked, &bytes)
    );
    assert_eq!(plain.stats(), checked.stats());
    assert_eq!(checked.stats().rejected(), 1);
    assert_eq!(checked.stats().accepted, 1);
}

#[test]
fn counts_stay_whole_after_a_field_was_dropped() {
    // An implausible telegram, a damaged one, then a plausible one: the counts after the
    // first drop still follow the decoder's own.
    let mut bytes = dsmr_with(&[("1-0:32.7.0(0230.0*V)", "1-0:32.7.0(4000.0*V)")]);
    let mut broken = fixture("dsmr", "v5.p1");
    let at = broken.iter().position(|&b| b == b'(').unwrap() + 1;
    broken[at] ^= 1;
    bytes.extend_from_slice(&broken);
    bytes.extend_from_slice(b"noise");
    bytes.extend_from_slice(&fixture("dsmr", "v5.p1"));
    let mut plain = DsmrDecoder::new();
    decode_all(&mut plain, &bytes);
    let mut checked = Checked::new(DsmrDecoder::new());
    let out = decode_all(&mut checked, &bytes);
    assert_eq!(out.len(), 3);
    let mut expected = plain.stats().clone();
    expected.implausible = 1;
    assert_eq!(*checked.stats(), expected);
    assert_eq!(
        (
            expected.accepted,
            expected.rejected(),
            expected.skipped_bytes > 0
        ),
        (2, 1, true)
    );
}
