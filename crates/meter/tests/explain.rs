//! `--explain` for the text and SML protocols (issue 19): DSMR, SML, IEC 62056-21 and RAVEn
//! frames explained line by line on real captures, the checksum sent against the one computed,
//! a value dropped as implausible told on its line, and meter ids never shown in full.

use hearth_meter::explain::{ExplainKeys, explain_capture};
use hearth_meter::{Protocol, dsmr};
use std::path::PathBuf;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

fn explain(protocol: Option<Protocol>, bytes: &[u8]) -> String {
    let tz = hearth_meter::dlms::default_time_zone();
    explain_capture(protocol, bytes, ExplainKeys::default(), &tz)
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// A DSMR telegram's text (`/` … `!`) with the CRC-16/ARC it should carry.
fn with_crc(text: &str) -> String {
    format!("{text}{:04X}\r\n", dsmr::crc16(text.as_bytes()))
}

#[test]
fn a_dsmr_5_telegram_line_by_line() {
    let out = explain(None, &fixture("dsmr/v5.p1"));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..8],
        [
            "frame 1: DSMR telegram, 884 bytes from '/' to '!', header /ISk5\\2MT382-1000",
            "  checksum: CRC-16/ARC sent 6EEE, computed 6EEE: good",
            "    line 3   1-3:0.2.8        (50)                           -> dsmr_version",
            "    line 4   0-0:1.0.0        (170102192002W)                -> time",
            "    line 5   0-0:96.1.1       (…3037)                        -> meter_id …5507",
            "    line 6   1-0:1.8.1        (000004.426*kWh)               -> import_kwh_t1",
            "    line 7   1-0:1.8.2        (000002.399*kWh)               -> import_kwh_t2",
            "    line 8   1-0:2.8.1        (000002.444*kWh)               -> export_kwh_t1",
        ]
    );
    for expected in [
        "    line 15  1-0:99.97.0      (0)(0-0:96.7.19)               -> power_failure_log (empty: nothing to keep)",
        "    line 22  0-0:96.13.0      ()                             -> text_message (empty: nothing to keep)",
        "    line 23  1-0:32.7.0       (0230.0*V)                     -> l1_v",
        "    line 26  1-0:31.7.0       (0.48*A)                       -> l1_a",
        "    line 35  0-1:24.1.0       (003)                          -> M-Bus channel 1: device type (tells gas, water or heat)",
        "    line 36  0-1:96.1.0       (…3839)                        -> M-Bus channel 1: equipment id (not stored)",
        "    line 37  0-1:24.2.1       (170102161005W)(00000.107*m3)  -> gas_m3, gas_time",
        "    line 39  0-2:96.1.0       ()                             -> M-Bus channel 2: equipment id (not stored)",
    ] {
        assert!(lines.contains(&expected), "{expected}\n{out}");
    }
    assert!(
        lines.last().unwrap().starts_with(
            "  result: reading meter_id=…5507 tariff=2 import_kwh=6.825 import_kwh_t1=4.426"
        ),
        "{out}"
    );
    // The meter id (K8EG004046395507), in clear or as the hex the meter sends, never shows;
    // nor does the gas meter's.
    for whole in [
        "K8EG004046395507",
        "4B384547303034303436333935353037",
        "3232323241424344313233343536373839",
    ] {
        assert!(!out.contains(whole), "{whole}");
    }
}

#[test]
fn a_dsmr_crc_mismatch_is_explained_and_nothing_kept() {
    let good = String::from_utf8(fixture("dsmr/v5.p1")).unwrap();
    // One digit changed in transit: 0.244 kW became 0.254 kW.
    let bad = good.replace("(00.244*kW)", "(00.254*kW)");
    let out = explain(Some(Protocol::Dsmr), bad.as_bytes());
    let lines: Vec<&str> = out.lines().collect();
    // The CRC the meter sent (6EEE) against the one of the damaged bytes.
    let computed = dsmr::crc16(&bad.as_bytes()[..bad.find('!').unwrap() + 1]);
    assert_eq!(
        lines[1],
        format!(
            "  checksum: CRC-16/ARC sent 6EEE, computed {computed:04X}: mismatch (the telegram \
             was damaged in transit; nothing of it is stored)"
        )
    );
    assert_ne!(computed, 0x6EEE);
    assert_eq!(
        *lines.last().unwrap(),
        format!("  result: rejected, checksum: CRC {computed:04X} computed, telegram says 6EEE")
    );
}

#[test]
fn an_implausible_dsmr_value_is_told_as_dropped_on_its_line() {
    let text = "/ISk5\\2MT382-1000\r\n\r\n1-3:0.2.8(50)\r\n0-0:96.1.1(4B384547303034303436333935353037)\r\n\
                1-0:1.7.0(00.244*kW)\r\n1-0:32.7.0(4000.0*V)\r\n1-0:31.7.0(001*A)\r\n!";
    let out = explain(None, with_crc(text).as_bytes());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[2..],
        [
            "    line 3   1-3:0.2.8        (50)                           -> dsmr_version",
            "    line 4   0-0:96.1.1       (…3037)                        -> meter_id …5507",
            "    line 5   1-0:1.7.0        (00.244*kW)                    -> import_w",
            "    line 6   1-0:32.7.0       (4000.0*V)                     -> l1_v; l1_v dropped, 4000.0 is implausible: a household voltage is 0 or between 80 and 300 V",
            "    line 7   1-0:31.7.0       (001*A)                        -> l1_a",
            "  result: reading meter_id=…5507 import_w=244 l1_a=1.000",
            "  note: #0 (l1_v): l1_v 4000.0 dropped: a household voltage is 0 or between 80 and 300 V",
        ]
    );
}

#[test]
fn a_dsmr_line_that_cannot_be_read_says_why() {
    let text = "/ISk5\\2MT382-1000\r\n\r\n1-0:1.7.0(00.244*kV)\r\n1-0:2.7.0(00.000*kW)\r\n!";
    let out = explain(None, with_crc(text).as_bytes());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[2],
        "    line 3   1-0:1.7.0        (00.244*kV)                    -> nothing kept; not read: unexpected unit 'kV'"
    );
}

#[test]
fn an_sml_frame_entry_by_entry_with_the_server_id_masked() {
    let bytes = fixture("sml/EMH_eHZ-HW8E2A5L0EK2P.bin");
    let out = explain(None, &bytes);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..12],
        [
            "frame 1: SML transport frame, 316 bytes",
            "  checksum: CRC-16/X-25 sent 35C5, computed 35C5: good",
            "    list 1   server id        \"…c8c6\" (10 bytes)             -      -> meter_id …c8c6",
            "    entry 1  129-129:199.130.3 \"…EMH\" (3 bytes)               -      -> unmapped",
            "    entry 2  1-0:0.0.9        \"…c8c6\" (10 bytes)             -      -> meter_id …c8c6",
            "    entry 3  1-0:1.8.0        83916488 Wh                    10^-1  -> import_kwh",
            "    entry 4  1-0:1.8.1        83914476 Wh                    10^-1  -> import_kwh_t1",
            "    entry 5  1-0:1.8.2        2012 Wh                        10^-1  -> import_kwh_t2",
            "    entry 6  1-0:15.7.0       1635 W                         10^-1  -> not stored: power without a direction",
            "    entry 7  129-129:199.130.5 \"…b17d\" (48 bytes)             -      -> unmapped",
            "  result: reading meter_id=…c8c6 import_kwh=8391.648 import_kwh_t1=8391.447 import_kwh_t2=0.201",
            "  note: #0 (1-0:15.7.0): the meter sends its power (164 W) without a direction, so it cannot be told as import or export; not stored (the registers still give the energy)",
        ]
    );
    // The server id 06 45 4D 48 01 02 71 53 C8 C6 never shows in full.
    assert!(!out.contains("06454d4801027153c8c6"));
    // The capture ends inside a 13th frame: nothing read, nothing rejected.
    assert_eq!(
        lines[lines.len() - 2..],
        [
            "frame 13: SML transport frame, unfinished",
            "  result: skipped, the capture ends inside this frame",
        ]
    );
}

#[test]
fn an_sml_crc_mismatch_is_explained() {
    let mut bytes = fixture("sml/EMH_eHZ-HW8E2A5L0EK2P.bin");
    bytes.truncate(316);
    // A bit flipped in the import register's value.
    let at = bytes.windows(4).position(|w| w == [0x05, 0x0D, 0x00, 0x2E]);
    let at = at.map_or(200, |i| i + 3);
    bytes[at] ^= 0x01;
    let out = explain(Some(Protocol::Sml), &bytes);
    let lines: Vec<&str> = out.lines().collect();
    let computed = hearth_meter::checksum::crc16_x25(&bytes[..314]);
    assert_eq!(
        lines[1],
        format!(
            "  checksum: CRC-16/X-25 sent 35C5, computed {computed:04X}: mismatch (the frame was \
             damaged in transit; nothing of it is stored)"
        )
    );
    assert_eq!(
        lines[2],
        format!(
            "  result: rejected, checksum: SML CRC 0x{computed:04X} expected, frame says 0x35C5"
        )
    );
}

#[test]
fn an_easymeter_mode_d_readout_line_by_line() {
    let out = explain(None, &fixture("iec62056_21/easymeter_q3d.txt"));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..12],
        [
            "frame 1: IEC 62056-21 readout, mode D (no STX, ETX or BCC), identification /ESY5Q3DA1024 V3.04",
            "  checksum: none (mode D sends no BCC)",
            "    line 2   1-0:0.0.0*255    (…0042)                        -> meter_id …0042",
            "    line 3   1-0:1.8.0*255    (00012345.6789012*kWh)         -> import_kwh",
            "    line 4   1-0:2.8.0*255    (00000987.6543210*kWh)         -> export_kwh",
            "    line 5   1-0:16.7.0*255   (000370.35*W)                  -> import_w / export_w (signed total power)",
            "    line 6   1-0:36.7.0*255   (000150.10*W)                  -> l1_import_w / l1_export_w (signed)",
            "    line 7   1-0:56.7.0*255   (000120.05*W)                  -> l2_import_w / l2_export_w (signed)",
            "    line 8   1-0:76.7.0*255   (000100.20*W)                  -> l3_import_w / l3_export_w (signed)",
            "    line 9   1-0:96.5.5*255   (82)                           -> unmapped",
            "    line 10  0-0:96.1.255*255 (…0042)                        -> meter_id …0042",
            "  result: reading meter_id=…0042 import_kwh=12345.678 export_kwh=987.654 import_w=370 export_w=0 l1_import_w=150 l2_import_w=120 l3_import_w=100 l1_export_w=0 l2_export_w=0 l3_export_w=0",
        ]
    );
    assert!(!out.contains("1ESY1160000042"));
}

/// A mode C readout: STX, the data lines, `!`, ETX and the BCC (XOR of the bytes after STX
/// up to ETX), with `bcc_delta` added to the BCC to damage it.
fn mode_c(bcc_delta: u8) -> Vec<u8> {
    let mut b = b"/ISK5ME162-0033\r\n\x021.8.0(001234.567*kWh)\r\n32.7.0(230.1*V)\r\n\
                  31.7.0(612.0*A)\r\n0.0.0(12345678)\r\n!\r\n\x03"
        .to_vec();
    let stx = b.iter().position(|&c| c == 0x02).unwrap();
    let bcc = b[stx + 1..].iter().fold(0u8, |a, c| a ^ c);
    b.push(bcc.wrapping_add(bcc_delta));
    b
}

#[test]
fn a_mode_c_readout_with_its_bcc_and_a_current_dropped() {
    let bytes = mode_c(0);
    assert_eq!(*bytes.last().unwrap(), 0x55);
    let out = explain(None, &bytes);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "frame 1: IEC 62056-21 readout, mode C (STX … ETX BCC), identification /ISK5ME162-0033",
            "  checksum: BCC sent 55, computed 55: good",
            "    line 1   1.8.0            (001234.567*kWh)               -> import_kwh",
            "    line 2   32.7.0           (230.1*V)                      -> l1_v",
            "    line 3   31.7.0           (612.0*A)                      -> l1_a; l1_a dropped, 612.000 is implausible: a household current is within ±500 A",
            "    line 4   0.0.0            (…5678)                        -> meter_id …5678",
            "  result: reading meter_id=…5678 import_kwh=1234.567 l1_v=230.1",
            "  note: #0 (l1_a): l1_a 612.000 dropped: a household current is within ±500 A",
        ]
    );
    assert!(!out.contains("12345678"));
}

#[test]
fn a_mode_c_bcc_mismatch_is_explained() {
    let out = explain(Some(Protocol::Iec62056_21), &mode_c(1));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[1],
        "  checksum: BCC sent 56, computed 55: mismatch (the readout was damaged in transit; nothing of it is stored)"
    );
    assert_eq!(
        *lines.last().unwrap(),
        "  result: rejected, checksum: BCC 0x55 expected, readout says 0x56"
    );
    assert!(!out.contains("12345678"));
}

#[test]
fn raven_fragments_element_by_element() {
    let out = explain(None, &fixture("raven/aioraven_responses.xml"));
    let frames: Vec<&str> = out.split("frame ").collect();
    assert_eq!(
        frames[11].lines().collect::<Vec<_>>(),
        [
            "11: RAVEn <InstantaneousDemand> fragment, 395 bytes (XML carries no checksum)",
            "    #1       DeviceMacId      …CDEF                          -> unmapped",
            "    #2       MeterMacId       …3210                          -> meter_id …3210",
            "    #3       TimeStamp        0x29bd58a7                     -> time (seconds since 2000-01-01 UTC)",
            "    #4       Demand           0xFFFFFFF0                     -> import_w / export_w (signed kW × Multiplier / Divisor)",
            "    #5       Multiplier       0x00000004                     -> scales Demand and the summations",
            "    #6       Divisor          0x00000002                     -> scales Demand and the summations",
            "    #7       DigitsRight      0x02                           -> unmapped",
            "    #8       DigitsLeft       0x04                           -> unmapped",
            "    #9       SuppressLeadingZero Y                              -> unmapped",
            "  result: reading meter_id=…3210 import_w=0 export_w=32000",
        ]
    );
    assert_eq!(
        frames[1].lines().last().unwrap(),
        "  result: skipped, this fragment carries no reading (only InstantaneousDemand and CurrentSummationDelivered do)"
    );
    for whole in [
        "FEDCBA9876543210",
        "0123456789ABCDEF",
        "8675309",
        "p@ssw0rd",
    ] {
        assert!(!out.contains(whole), "{whole}");
    }
}

#[test]
fn a_hex_dump_of_a_netz_noe_apdu_with_its_meter_number() {
    let hex = fixture("han/kaifa_ma309_netznoe.plain.hex");
    let out = explain(None, &hex);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..4],
        [
            "frame 1: bare APDU, 243 bytes, read from hex text",
            "  security: none",
            "  APDU: data-notification, invoke id 0x80012345, date-time 2024-11-15 14:45:30 (UTC+01:00)",
            "  list 1: pairs of OBIS code and value",
        ]
    );
    assert_eq!(
        lines[lines.len() - 3..],
        [
            "    #33  long-unsigned         950                          10^-3  -> 1-0:13.7.0 power_factor",
            "    #35  octet-string          \"…0001\" (12 bytes)           -      -> meter id (the meter number: the last value, after the power factor, without OBIS code)",
            "  result: reading meter_id=…0001 import_kwh=12345.678 export_kwh=2345.678 import_w=1234 export_w=0 l1_v=230.1 l2_v=231.5 l3_v=229.8 l1_a=3.120 l2_a=1.050 l3_a=1.200 power_factor=0.950",
        ]
    );
    assert!(!out.contains("1KFM99990001"));
}

#[test]
fn a_trailing_value_after_anything_but_the_power_factor_stays_unmapped() {
    // The same list with the power factor's code turned into 1-0:14.7.0 (frequency): the
    // value after it is no documented meter number, so it is not read as one.
    let hex = String::from_utf8(fixture("han/kaifa_ma309_netznoe.plain.hex")).unwrap();
    assert_eq!(hex.matches("01 00 0D 07 00 FF").count(), 1);
    let changed = hex.replace("01 00 0D 07 00 FF", "01 00 0E 07 00 FF");
    let out = explain(Some(Protocol::Dlms), changed.as_bytes());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[lines.len() - 4..],
        [
            "    #33  long-unsigned         950                          10^-3  -> 1-0:14.7.0 unmapped",
            "    #35  octet-string          \"…0001\" (12 bytes)           -      -> unmapped: no OBIS code",
            "  result: reading import_kwh=12345.678 export_kwh=2345.678 import_w=1234 export_w=0 l1_v=230.1 l2_v=231.5 l3_v=229.8 l1_a=3.120 l2_a=1.050 l3_a=1.200",
            "  note: #35 (list): value without an OBIS code; ignored",
        ]
    );
}

#[test]
fn every_capture_is_explained_with_the_verdict_hearth_decode_reaches() {
    // For each capture of the text and SML protocols, the explained frames' verdicts are the
    // decoder's results, in order (readings plausibility-checked as `hearth decode` stores
    // them; rejections with their reasons).
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let tz = hearth_meter::dlms::default_time_zone();
    let mut checked = 0;
    for (folder, protocol) in [
        ("dsmr", Protocol::Dsmr),
        ("sml", Protocol::Sml),
        ("iec62056_21", Protocol::Iec62056_21),
        ("raven", Protocol::Raven),
    ] {
        for entry in std::fs::read_dir(dir.join(folder)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            if name.ends_with(".json")
                || name.ends_with(".md")
                || name.ends_with(".keys")
                || name == "FILES"
                || name.contains(".encrypted.")
                || name.ends_with(".hdlc")
            {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let explained: Vec<_> =
                explain_capture(Some(protocol), &bytes, ExplainKeys::default(), &tz)
                    .into_iter()
                    .filter_map(|e| e.outcome)
                    .map(|o| o.map(|d| d.reading).map_err(|r| r.reason))
                    .collect();
            let mut d = hearth_meter::auto::decoder(protocol, None).unwrap();
            d.push(&bytes);
            let mut decoded = Vec::new();
            while let Some(r) = d.next() {
                decoded.push(r.map(|d| d.reading).map_err(|r| r.reason));
            }
            while let Some(r) = d.finish() {
                decoded.push(r.map(|d| d.reading).map_err(|r| r.reason));
            }
            assert_eq!(explained, decoded, "{folder}/{name}");
            checked += 1;
        }
    }
    assert!(checked >= 40, "{checked}");
}
