//! `hearth decode --explain`: per frame, how a capture is read (DLMS: framing, security, APDU,
//! layout, each element; DSMR, SML, IEC 62056-21, RAVEn: checksum, each line, entry or
//! element), meter ids masked; and `unknown-layout` counted by `--stats`.

use std::path::PathBuf;
use std::process::{Command, Output};

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../meter/tests/fixtures")
        .join(name)
        .to_str()
        .unwrap()
        .to_owned()
}

fn hearth(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hearth"))
        .arg("decode")
        .args(args)
        .env_remove("HEARTH_METER_KEY")
        .env_remove("HEARTH_METER_AUTH_KEY")
        .output()
        .expect("the hearth binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

#[test]
fn explains_a_slovenian_iskra_list_element_by_element() {
    let out = hearth(&[
        "--explain",
        &fixture("han/iskra_am550_si_ljubljana_instant.hdlc"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    let expected = [
        "frame 1: HDLC frame, information field 119 bytes, checksums good",
        "  security: none",
        "  APDU: data-notification, invoke id 0x00012345, date-time 2024-03-10 14:05:30 (UTC+01:00)",
        "  list 1: positional (values without OBIS codes)",
        "  layout: iskra-si-ljubljana-instant (Iskra AM550 (Slovenia, Elektro Ljubljana, 5-second and 1-second list 16820005))",
        "    #1   octet-string          \"…5678\" (16 bytes)           -      -> 0-0:42.0.0 meter id",
        "    #2   octet-string          \"16820005\"                   -      -> unmapped: list identifier",
        "    #3   double-long-unsigned  2150                         10^0   -> 1-0:1.7.0 import_w",
        "    #4   double-long-unsigned  0                            10^0   -> 1-0:2.7.0 export_w",
        "    #5   double-long-unsigned  120                          10^0   -> 1-0:3.7.0 reactive_import_var",
        "    #6   double-long-unsigned  310                          10^0   -> 1-0:4.7.0 reactive_export_var",
        "    #7   long-unsigned         2334                         10^-1  -> 1-0:32.7.0 l1_v",
        "    #8   long-unsigned         2318                         10^-1  -> 1-0:52.7.0 l2_v",
        "    #9   long-unsigned         2351                         10^-1  -> 1-0:72.7.0 l3_v",
        "    #10  long-unsigned         512                          10^-2  -> 1-0:31.7.0 l1_a",
        "    #11  long-unsigned         278                          10^-2  -> 1-0:51.7.0 l2_a",
        "    #12  long-unsigned         180                          10^-2  -> 1-0:71.7.0 l3_a",
        "    #13  double-long-unsigned  1150                         10^0   -> 1-0:21.7.0 l1_import_w",
        "    #14  double-long-unsigned  620                          10^0   -> 1-0:41.7.0 l2_import_w",
        "    #15  double-long-unsigned  380                          10^0   -> 1-0:61.7.0 l3_import_w",
        "    #16  double-long-unsigned  0                            10^0   -> 1-0:22.7.0 l1_export_w",
        "    #17  double-long-unsigned  0                            10^0   -> 1-0:42.7.0 l2_export_w",
        "    #18  double-long-unsigned  0                            10^0   -> 1-0:62.7.0 l3_export_w",
        "  result: reading meter_id=…5678 import_w=2150 export_w=0 l1_v=233.4 l2_v=231.8 l3_v=235.1 l1_a=5.120 l2_a=2.780 l3_a=1.800 l1_import_w=1150 l2_import_w=620 l3_import_w=380 l1_export_w=0 l2_export_w=0 l3_export_w=0 reactive_import_var=120 reactive_export_var=310",
    ];
    assert_eq!(lines, expected);
    // The meter id never shows in full.
    assert!(!stdout.contains("ISK1030712345678"));
}

#[test]
fn explains_why_an_unknown_layout_is_refused() {
    let out = hearth(&[
        "--explain",
        &fixture("han/iskra_am550_si_unknown_layout.hdlc"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[4],
        "  layout: unknown layout: 9 values: octet-string, double-long-unsigned ×8"
    );
    assert_eq!(
        lines[5],
        "    #1   octet-string          \"…1111\" (16 bytes)           -      -> unmapped"
    );
    assert_eq!(
        lines[6],
        "    #2   double-long-unsigned  625                          -      -> unmapped"
    );
    assert_eq!(
        lines.last().unwrap(),
        &"  result: rejected, unknown-layout: a list of values without OBIS codes in no known layout (signature: 9 values: octet-string, double-long-unsigned ×8); layouts of the same length whose types or markers differ: kaifa-no-list-2-1ph, iskra-si-ljubljana-1ph, am550-at-wiener-netze"
    );
    assert!(!stdout.contains("ISK1030700001111"));
}

#[test]
fn an_encrypted_frame_without_key_names_the_masked_system_title() {
    let out = hearth(&["--explain", &fixture("han/kaifa_no_list_2.gcm.hdlc")]);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout).lines().collect::<Vec<_>>(),
        [
            "frame 1: HDLC frame, information field 139 bytes, checksums good",
            "  security: general-glo-ciphering, system title KFM …0001, security control 0x30, frame counter 291: key missing",
            "  result: rejected, missing-key: the meter encrypts its data; enter the encryption key from your grid operator",
        ]
    );
}

#[test]
fn unknown_layouts_are_counted_by_stats_and_nothing_is_printed() {
    let out = hearth(&[
        "--stats",
        &fixture("han/iskra_am550_si_unknown_layout.hdlc"),
    ]);
    assert_eq!(
        text(&out.stdout),
        "0 accepted, 1 rejected (unknown-layout 1)\n"
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "hearth: 1 frame(s) in a layout Hearth does not know for this meter: nothing of them was stored; `hearth decode --explain FILE` shows what the meter sent (meter ids masked), for a report\n"
    );
}

#[test]
fn explains_a_dsmr_telegram_with_its_crc_and_the_meter_id_masked() {
    for args in [
        &["--explain", &fixture("dsmr/v5.p1")][..],
        &["--explain", "--protocol", "dsmr", &fixture("dsmr/v5.p1")],
    ] {
        let out = hearth(args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(
            lines[..5],
            [
                "frame 1: DSMR telegram, 884 bytes from '/' to '!', header /ISk5\\2MT382-1000",
                "  checksum: CRC-16/ARC sent 6EEE, computed 6EEE: good",
                "    line 3   1-3:0.2.8        (50)                           -> dsmr_version",
                "    line 4   0-0:1.0.0        (170102192002W)                -> time",
                "    line 5   0-0:96.1.1       (…3037)                        -> meter_id …5507",
            ]
        );
        assert!(!stdout.contains("K8EG004046395507"));
        assert!(!stdout.contains("4B384547303034303436333935353037"));
    }
}

#[test]
fn explains_a_dsmr_crc_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let damaged = dir.path().join("damaged.p1");
    let good = std::fs::read_to_string(fixture("dsmr/v5.p1")).unwrap();
    std::fs::write(&damaged, good.replace("(0230.0*V)", "(0280.0*V)")).unwrap();
    let out = hearth(&["--explain", damaged.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[1].starts_with("  checksum: CRC-16/ARC sent 6EEE, computed ")
            && lines[1].ends_with(
                ": mismatch (the telegram was damaged in transit; nothing of it is stored)"
            ),
        "{stdout}"
    );
    assert!(
        lines
            .last()
            .unwrap()
            .starts_with("  result: rejected, checksum: CRC "),
        "{stdout}"
    );
}

#[test]
fn explains_sml_iec_and_raven_captures() {
    let out = hearth(&["--explain", &fixture("sml/EMH_eHZ-HW8E2A5L0EK2P.bin")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(
        stdout.lines().take(3).collect::<Vec<_>>(),
        [
            "frame 1: SML transport frame, 316 bytes",
            "  checksum: CRC-16/X-25 sent 35C5, computed 35C5: good",
            "    list 1   server id        \"…c8c6\" (10 bytes)             -      -> meter_id …c8c6",
        ]
    );
    let out = hearth(&[
        "--explain",
        "--protocol",
        "iec62056-21",
        &fixture("iec62056_21/easymeter_q3d.txt"),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(
        stdout.lines().nth(2),
        Some("    line 2   1-0:0.0.0*255    (…0042)                        -> meter_id …0042")
    );
    assert!(!stdout.contains("1ESY1160000042"));
    let out = hearth(&["--explain", &fixture("raven/aioraven_responses.xml")]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(
            "    #2       MeterMacId       …3210                          -> meter_id …3210\n"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("FEDCBA9876543210"));
}

#[test]
fn glow_payloads_are_not_explained() {
    let out = hearth(&[
        "--explain",
        "--protocol",
        "glow",
        &fixture("glow/eventhub_to_timescale.jsonl"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr)
            .contains("--explain reads DLMS/COSEM, DSMR, SML, IEC 62056-21 and RAVEn captures"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn explains_a_block_transfer_and_a_push_object_list() {
    let out = hearth(&["--explain", &fixture("han/landisgyr_e450_at_gbt.hdlc")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[..3],
        [
            "frame 1: HDLC frame, information field 58 bytes, checksums good",
            "  APDU: general-block-transfer block 1, 48 bytes",
            "  result: waiting for the next block",
        ]
    );
    let last = lines
        .iter()
        .position(|l| l.starts_with("frame 8:"))
        .unwrap();
    assert_eq!(
        lines[last..],
        [
            "frame 8: HDLC frame, information field 21 bytes, checksums good",
            "  security: none",
            "  APDU: general-block-transfer block 8 (last), 14 bytes, joined to 350 bytes: data-notification, invoke id 0x00A1B2C3, no date-time",
            "  list 1: push object list (capture objects, then their values)",
            "    #2   octet-string          0-8:25.9.0                   -      -> unmapped: logical name of 0-8:25.9.0",
            "    #3   octet-string          \"…3512\" (16 bytes)           -      -> 0-0:96.1.0 meter id",
            "    #4   octet-string          2024-03-10 14:10:00 (UTC+01:00) -      -> 0-0:1.0.0 time",
            "    #5   double-long-unsigned  362                          10^0   -> 1-0:1.7.0 import_w",
            "    #6   double-long-unsigned  0                            10^0   -> 1-0:2.7.0 export_w",
            "    #7   double-long-unsigned  5123456                      10^0   -> 1-0:1.8.0 import_kwh",
            "    #8   double-long-unsigned  1234567                      10^0   -> 1-0:2.8.0 export_kwh",
            "    #9   double-long-unsigned  456789                       10^0   -> 1-0:3.8.0 reactive_import_kvarh",
            "    #10  double-long-unsigned  987654                       10^0   -> 1-0:4.8.0 reactive_export_kvarh",
            "    #11  long-unsigned         158                          10^-2  -> 1-0:31.7.0 l1_a",
            "    #12  structure             {-2, 33}                     -      -> scaler and unit of 1-0:31.7.0 (applied to its value)",
            "    #13  long-unsigned         2297                         10^-1  -> 1-0:32.7.0 l1_v",
            "    #14  structure             {-1, 35}                     -      -> scaler and unit of 1-0:32.7.0 (applied to its value)",
            "  result: reading meter_id=…3512 import_kwh=5123.456 export_kwh=1234.567 import_w=362 export_w=0 l1_v=229.7 l1_a=1.580 reactive_import_kvarh=456.789 reactive_export_kvarh=987.654",
        ]
    );
    assert!(!stdout.contains("LGZ1030655933512"));
}
