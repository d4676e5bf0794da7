//! Every DSMR capture in `tests/fixtures/dsmr/`, decoded through the streaming decoder, with
//! every value asserted. Expected numbers are read off the telegram text by hand and converted
//! to the stored units (Wh, W, dV, mA, dm³, MJ): `000004.426*kWh` is 4426 Wh, `0230.0*V` is
//! 2300 dV, `0.48*A` is 480 mA. The list of quantities is complete: anything extra fails.

use hearth_meter::dsmr::{DsmrDecoder, parse_telegram};
use hearth_meter::glo::Key;
use hearth_meter::{Decoded, Decoder, Quantity as Q, RejectReason};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/dsmr/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Decodes a file holding one telegram; it must give exactly one accepted frame.
fn decode(name: &str) -> Decoded {
    decode_bytes(name, &fixture(name))
}

/// [`decode`] of the bytes of one telegram.
fn decode_bytes(name: &str, bytes: &[u8]) -> Decoded {
    let mut d = DsmrDecoder::new();
    d.push(bytes);
    // CRC-less telegrams end at the line end after `!`, which every capture has.
    let first = d.next().unwrap_or_else(|| panic!("{name}: no frame"));
    let decoded = first.unwrap_or_else(|r| panic!("{name}: rejected: {r}"));
    assert!(d.next().is_none(), "{name}: one frame only");
    assert_eq!(d.stats().accepted, 1);
    assert_eq!(d.stats().rejected(), 0);
    decoded
}

fn check(d: &Decoded, expected: &[(Q, i64)]) {
    let got: Vec<(Q, i64)> = d.reading.quantities().collect();
    let mut want = expected.to_vec();
    want.sort_by_key(|(q, _)| *q);
    assert_eq!(got, want);
}

fn time(t: Option<hearth_meter::MeterTime>) -> String {
    t.map(|t| t.to_string()).unwrap_or_default()
}

fn id(d: &Decoded) -> &str {
    d.reading.meter_id.as_ref().map_or("", |m| m.as_str())
}

#[test]
fn dsmr_2_2_with_legacy_gas_on_the_next_line() {
    let d = decode("v2_2.p1");
    assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
    assert_eq!(d.reading.time, None);
    assert_eq!(d.reading.dsmr_version, None);
    assert_eq!(id(&d), "00000000000000");
    check(
        &d,
        &[
            (Q::Tariff, 1),
            (Q::ImportWh, 2002),
            (Q::ImportT1Wh, 1001),
            (Q::ImportT2Wh, 1001),
            (Q::ExportWh, 2002),
            (Q::ExportT1Wh, 1001),
            (Q::ExportT2Wh, 1001),
            (Q::ImportW, 1010),
            (Q::ExportW, 0),
            (Q::GasDm3, 1001),
        ],
    );
    // No S/W flag: local time by Amsterdam rules (November: CET).
    assert_eq!(time(d.reading.gas_time), "2016-11-07T19:00:00+01:00");
}

#[test]
fn dsmr_3() {
    let d = decode("v3.p1");
    assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
    assert_eq!(id(&d), "K8EG004046395507");
    check(
        &d,
        &[
            (Q::Tariff, 2),
            (Q::ImportWh, 24_691_356),
            (Q::ImportT1Wh, 12_345_678),
            (Q::ImportT2Wh, 12_345_678),
            (Q::ExportWh, 24_691_356),
            (Q::ExportT1Wh, 12_345_678),
            (Q::ExportT2Wh, 12_345_678),
            (Q::ImportW, 1190),
            (Q::ExportW, 0),
            (Q::GasDm3, 1001),
        ],
    );
    assert_eq!(time(d.reading.gas_time), "2009-02-12T16:00:00+01:00");
}

#[test]
fn dsmr_4_2_kaifa() {
    let d = decode("v4_2.p1");
    assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
    assert_eq!(d.reading.dsmr_version.as_deref(), Some("42"));
    assert_eq!(time(d.reading.time), "2016-11-13T20:57:57+01:00");
    // Hex that does not decode to printable ASCII stays as sent.
    assert_eq!(id(&d), "3960221976967177082151037881335713");
    check(
        &d,
        &[
            (Q::Tariff, 2),
            (Q::ImportWh, 3_016_829),
            (Q::ImportT1Wh, 1_581_123),
            (Q::ImportT2Wh, 1_435_706),
            (Q::ExportWh, 0),
            (Q::ExportT1Wh, 0),
            (Q::ExportT2Wh, 0),
            (Q::ImportW, 2027),
            (Q::ExportW, 0),
            (Q::L1Ma, 0),
            (Q::L2Ma, 6000),
            (Q::L3Ma, 2000),
            (Q::L1ImportW, 170),
            (Q::L2ImportW, 1247),
            (Q::L3ImportW, 209),
            (Q::L1ExportW, 0),
            (Q::L2ExportW, 0),
            (Q::L3ExportW, 0),
            (Q::PowerFailures, 15),
            (Q::LongPowerFailures, 7),
            (Q::VoltageSagsL1, 0),
            (Q::VoltageSagsL2, 0),
            (Q::VoltageSagsL3, 0),
            (Q::VoltageSwellsL1, 0),
            (Q::VoltageSwellsL2, 0),
            (Q::VoltageSwellsL3, 0),
            (Q::GasDm3, 981_443),
        ],
    );
    assert_eq!(time(d.reading.gas_time), "2016-11-29T20:00:00+01:00");
}

#[test]
fn dsmr_5_with_odd_digits() {
    let d = decode("v5.p1");
    assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
    assert_eq!(d.reading.dsmr_version.as_deref(), Some("50"));
    assert_eq!(time(d.reading.time), "2017-01-02T19:20:02+01:00");
    assert_eq!(id(&d), "K8EG004046395507");
    check(
        &d,
        &[
            (Q::Tariff, 2),
            (Q::ImportWh, 6825),
            (Q::ImportT1Wh, 4426),
            (Q::ImportT2Wh, 2399),
            (Q::ExportWh, 2444),
            (Q::ExportT1Wh, 2444),
            (Q::ExportT2Wh, 0),
            (Q::ImportW, 244),
            (Q::ExportW, 0),
            // `0230.0*V` and `0.48*A`: extra and missing digits are fine.
            (Q::L1Dv, 2300),
            (Q::L2Dv, 2300),
            (Q::L3Dv, 2290),
            (Q::L1Ma, 480),
            (Q::L2Ma, 440),
            (Q::L3Ma, 860),
            (Q::L1ImportW, 70),
            (Q::L2ImportW, 32),
            (Q::L3ImportW, 142),
            (Q::L1ExportW, 0),
            (Q::L2ExportW, 0),
            (Q::L3ExportW, 0),
            (Q::PowerFailures, 13),
            (Q::LongPowerFailures, 0),
            (Q::VoltageSagsL1, 0),
            (Q::VoltageSagsL2, 0),
            (Q::VoltageSagsL3, 0),
            (Q::VoltageSwellsL1, 0),
            (Q::VoltageSwellsL2, 0),
            (Q::VoltageSwellsL3, 0),
            (Q::GasDm3, 107),
        ],
    );
    assert_eq!(time(d.reading.gas_time), "2017-01-02T16:10:05+01:00");
}

#[test]
fn dsmr_5_two_mbus_devices_picks_the_connected_one() {
    let d = decode("v5_two_mbus.p1");
    assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
    assert_eq!(time(d.reading.time), "2020-04-26T22:33:25+02:00");
    assert_eq!(id(&d), "E0044007382246019");
    check(
        &d,
        &[
            (Q::Tariff, 1),
            (Q::ImportWh, 2_375_582),
            (Q::ImportT1Wh, 2_130_115),
            (Q::ImportT2Wh, 245_467),
            (Q::ExportWh, 0),
            (Q::ExportT1Wh, 0),
            (Q::ExportT2Wh, 0),
            (Q::ImportW, 111),
            (Q::ExportW, 0),
            (Q::L1Dv, 2299),
            (Q::L2Dv, 2292),
            (Q::L3Dv, 2229),
            (Q::L1Ma, 0),
            (Q::L2Ma, 0),
            (Q::L3Ma, 1000),
            (Q::L1ImportW, 56),
            (Q::L2ImportW, 0),
            (Q::L3ImportW, 55),
            (Q::L1ExportW, 0),
            (Q::L2ExportW, 0),
            (Q::L3ExportW, 0),
            (Q::PowerFailures, 5),
            (Q::LongPowerFailures, 3),
            (Q::VoltageSagsL1, 1),
            (Q::VoltageSagsL2, 1),
            (Q::VoltageSagsL3, 192),
            (Q::VoltageSwellsL1, 1),
            (Q::VoltageSwellsL2, 1),
            (Q::VoltageSwellsL3, 1),
            // Channel 1 has no device (empty id, placeholder value); channel 2 is the gas meter.
            (Q::GasDm3, 246_138),
        ],
    );
    assert_eq!(time(d.reading.gas_time), "2020-04-26T22:30:01+02:00");
}

#[test]
fn fluvius_emucs_1_7_1_capacity_tariff_gas_and_water() {
    let d = decode("fluvius_v171.p1");
    assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
    assert_eq!(d.reading.dsmr_version.as_deref(), Some("50217"));
    assert_eq!(time(d.reading.time), "2020-05-12T13:54:09+02:00");
    assert_eq!(id(&d), "1SAG3101021605");
    check(
        &d,
        &[
            (Q::Tariff, 1),
            (Q::ImportWh, 15_792),
            (Q::ImportT1Wh, 34),
            (Q::ImportT2Wh, 15_758),
            (Q::ExportWh, 11),
            (Q::ExportT1Wh, 0),
            (Q::ExportT2Wh, 11),
            (Q::ImportW, 0),
            (Q::ExportW, 0),
            (Q::L1Dv, 2347),
            (Q::L2Dv, 2347),
            (Q::L3Dv, 2347),
            (Q::L1Ma, 0),
            (Q::L2Ma, 0),
            (Q::L3Ma, 0),
            (Q::L1ImportW, 0),
            (Q::L2ImportW, 0),
            (Q::L3ImportW, 0),
            (Q::L1ExportW, 0),
            (Q::L2ExportW, 0),
            (Q::L3ExportW, 0),
            (Q::DemandCurrentW, 2351),
            (Q::DemandPeakMonthW, 2589),
            (Q::GasDm3, 112_384),
            (Q::WaterDm3, 872_234),
        ],
    );
    assert_eq!(
        time(d.reading.demand_peak_month_time),
        "2020-05-09T13:45:58+02:00"
    );
    assert_eq!(time(d.reading.gas_time), "2020-05-12T13:45:58+02:00");
    assert_eq!(time(d.reading.water_time), "2020-05-12T13:45:58+02:00");
}

#[test]
fn fluvius_emucs_alt_winter() {
    let d = decode("fluvius_v171_alt.p1");
    assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
    assert_eq!(time(d.reading.time), "2023-11-02T12:15:48+01:00");
    assert_eq!(id(&d), "1SAG3100721326");
    check(
        &d,
        &[
            (Q::Tariff, 1),
            (Q::ImportWh, 571_562),
            (Q::ImportT1Wh, 301_548),
            (Q::ImportT2Wh, 270_014),
            (Q::ExportWh, 5),
            (Q::ExportT1Wh, 5),
            (Q::ExportT2Wh, 0),
            (Q::ImportW, 338),
            (Q::ExportW, 0),
            (Q::L1Dv, 2329),
            (Q::L2Dv, 2281),
            (Q::L3Dv, 2281),
            (Q::L1Ma, 270),
            (Q::L2Ma, 880),
            (Q::L3Ma, 520),
            (Q::L1ImportW, 47),
            (Q::L2ImportW, 179),
            (Q::L3ImportW, 111),
            (Q::L1ExportW, 0),
            (Q::L2ExportW, 0),
            (Q::L3ExportW, 0),
            (Q::DemandCurrentW, 52),
            (Q::DemandPeakMonthW, 3064),
            (Q::GasDm3, 92_287),
            (Q::WaterDm3, 8_579),
        ],
    );
    assert_eq!(
        time(d.reading.demand_peak_month_time),
        "2023-11-02T11:45:00+01:00"
    );
    assert_eq!(time(d.reading.gas_time), "2023-11-02T12:10:02+01:00");
    assert_eq!(time(d.reading.water_time), "2023-11-02T12:15:32+01:00");
}

#[test]
fn iskra_ireland_with_a_raw_control_byte_in_the_header() {
    let d = decode("iskra_ie.p1");
    assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
    assert_eq!(time(d.reading.time), "2023-02-02T13:27:47+02:00");
    // 0-0:96.1.0 beats 1-0:0.0.0 as the equipment identifier.
    assert_eq!(id(&d), "09610");
    check(
        &d,
        &[
            (Q::Tariff, 1),
            (Q::ImportWh, 20_363),
            (Q::ImportT1Wh, 10_181),
            (Q::ImportT2Wh, 10_182),
            (Q::ExportWh, 20_563),
            (Q::ExportT1Wh, 10_281),
            (Q::ExportT2Wh, 10_282),
            (Q::ImportW, 170),
            (Q::ExportW, 270),
            (Q::L1Dv, 2425),
            (Q::L2Dv, 2417),
            (Q::L3Dv, 2433),
            (Q::L1Ma, 0),
            (Q::L2Ma, 0),
            (Q::L3Ma, 0),
            (Q::L1ImportW, 217),
            (Q::L2ImportW, 417),
            (Q::L3ImportW, 617),
            (Q::L1ExportW, 227),
            (Q::L2ExportW, 427),
            (Q::L3ExportW, 627),
        ],
    );
}

fn check_sagemcom(d: &Decoded) {
    assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
    assert_eq!(d.reading.dsmr_version.as_deref(), Some("50"));
    assert_eq!(time(d.reading.time), "2022-10-06T15:50:14+02:00");
    check(
        d,
        &[
            (Q::ImportWh, 6_545_766),
            (Q::ImportT1Wh, 5_017_120),
            (Q::ImportT2Wh, 1_528_646),
            (Q::ExportWh, 58),
            (Q::ExportT1Wh, 0),
            (Q::ExportT2Wh, 58),
            (Q::ImportW, 286),
            (Q::ExportW, 0),
            (Q::ReactiveImportVarh, 747),
            (Q::ReactiveExportVarh, 3_897_726),
            (Q::ReactiveImportVar, 0),
            (Q::ReactiveExportVar, 166),
        ],
    );
}

#[test]
fn sagemcom_t210_plain() {
    check_sagemcom(&decode("sagemcom_t210_d_r.p1"));
}

#[test]
fn smarty_encrypted_frame() {
    let sealed = fixture("sagemcom_t210_d_r.encrypted.bin");
    let key = Key::from_hex("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap();
    let ak = Key::from_hex("BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB").unwrap();
    let mut d = DsmrDecoder::with_keys(key, Some(ak));
    // Byte by byte, the way a serial port may deliver it.
    let mut out = Vec::new();
    for b in &sealed {
        d.push(std::slice::from_ref(b));
        while let Some(r) = d.next() {
            out.push(r);
        }
    }
    assert_eq!(out.len(), 1);
    check_sagemcom(out[0].as_ref().unwrap());

    // Without a key: counted as missing-key. With the wrong key: authentication.
    let mut d = DsmrDecoder::new();
    d.push(&sealed);
    assert_eq!(
        d.next().unwrap().unwrap_err().reason,
        RejectReason::MissingKey
    );
    assert_eq!(d.stats().rejected_for(RejectReason::MissingKey), 1);
    let mut d = DsmrDecoder::with_key([0xAA; 16]);
    d.push(&sealed);
    // The Smarty default AK is not the fixture's AK: the tag check fails.
    assert_eq!(
        d.next().unwrap().unwrap_err().reason,
        RejectReason::Authentication
    );
    let mut d = DsmrDecoder::with_keys(Key::new([0x11; 16]), None);
    d.push(&sealed);
    assert_eq!(
        d.next().unwrap().unwrap_err().reason,
        RejectReason::Authentication
    );
    // Right key, no AK: the tag is skipped and the telegram's CRC vouches for it.
    let mut d = DsmrDecoder::with_keys(key, None);
    d.push(&sealed);
    check_sagemcom(&d.next().unwrap().unwrap());
    assert_eq!(d.stats().accepted, 1);
}

#[test]
fn heat_meter_with_an_unpadded_crc() {
    let d = decode("unpadded_crc.p1");
    assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
    assert_eq!(time(d.reading.time), "2026-02-15T20:05:23+01:00");
    assert_eq!(id(&d), "ADC3100000158491");
    // 240.860 GJ = 240860 MJ.
    check(&d, &[(Q::HeatMj, 240_860)]);
    assert_eq!(time(d.reading.heat_time), "2026-02-15T20:05:23+01:00");
}

#[test]
fn eon_hungary_keeps_the_telegram_and_flags_the_odd_power_factor() {
    let d = decode("v5_eon_hu.p1");
    assert_eq!(time(d.reading.time), "2023-07-24T15:07:30+02:00");
    assert_eq!(id(&d), "890082200002160");
    check(
        &d,
        &[
            (Q::Tariff, 1),
            (Q::ImportWh, 173_640),
            (Q::ImportT1Wh, 47_719),
            (Q::ImportT2Wh, 125_921),
            (Q::ExportWh, 627_177),
            (Q::ExportT1Wh, 401_829),
            (Q::ExportT2Wh, 225_348),
            (Q::ImportW, 0),
            (Q::ExportW, 2601),
            (Q::L1Dv, 2404),
            (Q::L2Dv, 2391),
            (Q::L3Dv, 2412),
            (Q::L1Ma, 3000),
            (Q::L2Ma, 4000),
            (Q::L3Ma, 3000),
            (Q::ReactiveImportVarh, 123),
            (Q::ReactiveExportVarh, 303_131),
        ],
    );
    // `1-0:13.7.0(4.556)` is no power factor (outside -1..1): one diagnostic, line 32.
    assert_eq!(d.diagnostics.len(), 1);
    assert_eq!(d.diagnostics[0].line, 32);
    assert_eq!(d.diagnostics[0].code, "1-0:13.7.0");
}

fn check_amshan(name: &str, time_text: &str, expected: &[(Q, i64)]) {
    let d = decode(name);
    assert!(d.diagnostics.is_empty(), "{name}: {:?}", d.diagnostics);
    assert_eq!(time(d.reading.time), time_text, "{name}");
    check(&d, expected);
}

#[test]
fn swedish_landis_gyr_e360() {
    check_amshan(
        "amshan_a_landisgyr_360.p1",
        "2021-02-22T16:19:00+01:00",
        &[
            (Q::ImportWh, 896_020),
            (Q::ExportWh, 48_792),
            (Q::ReactiveImportVarh, 518_309),
            (Q::ReactiveExportVarh, 23_732),
            (Q::ImportW, 0),
            (Q::ExportW, 20),
            (Q::ReactiveImportVar, 0),
            (Q::ReactiveExportVar, 308),
            (Q::L1ImportW, 0),
            (Q::L2ImportW, 0),
            (Q::L3ImportW, 63),
            (Q::L1ExportW, 12),
            (Q::L2ExportW, 71),
            (Q::L3ExportW, 0),
            (Q::L1Dv, 2301),
            (Q::L2Dv, 2322),
            (Q::L3Dv, 2304),
            (Q::L1Ma, 600),
            (Q::L2Ma, 600),
            (Q::L3Ma, 300),
        ],
    );
    check_amshan(
        "amshan_d_landisgyr_360.p1",
        "2022-02-04T11:06:50+01:00",
        &[
            (Q::ImportWh, 10_501_076),
            (Q::ExportWh, 0),
            (Q::ReactiveImportVarh, 1_761_087),
            (Q::ReactiveExportVarh, 8_391),
            (Q::ImportW, 2301),
            (Q::ExportW, 0),
            (Q::ReactiveImportVar, 135),
            (Q::ReactiveExportVar, 0),
            (Q::L1ImportW, 622),
            (Q::L2ImportW, 667),
            (Q::L3ImportW, 1011),
            (Q::L1ExportW, 0),
            (Q::L2ExportW, 0),
            (Q::L3ExportW, 0),
            (Q::L1Dv, 2321),
            (Q::L2Dv, 2331),
            (Q::L3Dv, 2319),
            (Q::L1Ma, 2800),
            (Q::L2Ma, 2900),
            (Q::L3Ma, 4800),
        ],
    );
}

#[test]
fn swedish_sagemcom_ell5_and_kamstrup() {
    check_amshan(
        "amshan_c.p1",
        "2020-10-20T08:52:22+01:00",
        &[
            (Q::ImportWh, 1_605_055),
            (Q::ExportWh, 131),
            (Q::ReactiveImportVarh, 3_642),
            (Q::ReactiveExportVarh, 185_707),
            (Q::ImportW, 6000),
            (Q::ExportW, 0),
            (Q::ReactiveImportVar, 200),
            (Q::ReactiveExportVar, 470),
            (Q::L1ImportW, 3172),
            (Q::L2ImportW, 441),
            (Q::L3ImportW, 2386),
            (Q::L1ExportW, 0),
            (Q::L2ExportW, 0),
            (Q::L3ExportW, 0),
            (Q::L1Dv, 2344),
            (Q::L2Dv, 2333),
            (Q::L3Dv, 2351),
            (Q::L1Ma, 13_600),
            (Q::L2Ma, 2000),
            (Q::L3Ma, 10_200),
        ],
    );
    // Starts with a stray line end before `/`.
    check_amshan(
        "amshan_kamstrup.p1",
        "2022-04-08T13:50:21+01:00",
        &[
            (Q::ImportWh, 60_995_424),
            (Q::ExportWh, 0),
            (Q::ReactiveImportVarh, 12_696),
            (Q::ReactiveExportVarh, 12_541_802),
            (Q::ImportW, 2202),
            (Q::ExportW, 0),
            (Q::ReactiveImportVar, 0),
            (Q::ReactiveExportVar, 505),
            (Q::L1ImportW, 1947),
            (Q::L2ImportW, 63),
            (Q::L3ImportW, 192),
            (Q::L1ExportW, 0),
            (Q::L2ExportW, 0),
            (Q::L3ExportW, 0),
            (Q::L1Dv, 2355),
            (Q::L2Dv, 2395),
            (Q::L3Dv, 2391),
            (Q::L1Ma, 8300),
            (Q::L2Ma, 400),
            (Q::L3Ma, 1400),
        ],
    );
}

#[test]
fn austrian_xmx5_dsmr_4_2_as_published_without_crc_is_rejected() {
    // The capture was published without its CRC; a DSMR 4.2 telegram always has one.
    let mut d = DsmrDecoder::new();
    d.push(&fixture("amshan_b.p1"));
    let r = d.next().unwrap().unwrap_err();
    assert_eq!(r.reason, RejectReason::Checksum);
    assert_eq!(d.stats().rejected_for(RejectReason::Checksum), 1);
    assert_eq!(d.stats().accepted, 0);
}

#[test]
fn austrian_xmx5_dsmr_4_2_with_its_crc() {
    // The same telegram with the CRC of its text (CRC-16/ARC by the shared reference).
    let mut t = fixture("amshan_b.p1");
    assert!(t.ends_with(b"\r\n!\r\n"));
    t.truncate(t.len() - 2);
    let crc = hearth_meter::checksum::crc16_arc(&t);
    t.extend_from_slice(format!("{crc:04X}\r\n").as_bytes());
    let d = decode_bytes("amshan_b.p1 + CRC", &t);
    assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
    assert_eq!(d.reading.dsmr_version.as_deref(), Some("42"));
    assert_eq!(time(d.reading.time), "2018-09-24T13:21:32+02:00");
    assert_eq!(id(&d), "E2206017647934515");
    check(
        &d,
        &[
            (Q::Tariff, 2),
            (Q::ImportWh, 21_833_830),
            (Q::ImportT1Wh, 11_522_839),
            (Q::ImportT2Wh, 10_310_991),
            (Q::ExportWh, 0),
            (Q::ExportT1Wh, 0),
            (Q::ExportT2Wh, 0),
            (Q::ImportW, 503),
            (Q::ExportW, 0),
            (Q::PowerFailures, 15),
            (Q::LongPowerFailures, 5),
            (Q::VoltageSagsL1, 2),
            (Q::VoltageSagsL2, 2),
            (Q::VoltageSagsL3, 2),
            (Q::VoltageSwellsL1, 0),
            (Q::VoltageSwellsL2, 0),
            (Q::VoltageSwellsL3, 0),
            (Q::L1Ma, 1000),
            (Q::L2Ma, 1000),
            (Q::L3Ma, 1000),
            (Q::L1ImportW, 86),
            (Q::L2ImportW, 250),
            (Q::L3ImportW, 166),
            (Q::L1ExportW, 0),
            (Q::L2ExportW, 0),
            (Q::L3ExportW, 0),
            (Q::GasDm3, 4_890_857),
        ],
    );
    assert_eq!(time(d.reading.gas_time), "2018-09-24T13:00:00+02:00");
}

#[test]
fn easymeter_with_obis_suffix_and_trailing_noise() {
    let d = decode("esy5q3da1004_v304.p1");
    assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
    assert_eq!(id(&d), "1ESY1336001560");
    // 32549.5061662 kWh rounds to 32549506 Wh; 521.62 W to 522 W.
    check(
        &d,
        &[
            (Q::ImportWh, 32_549_506),
            (Q::L1ImportW, 557),
            (Q::L2ImportW, 522),
            (Q::L3ImportW, 609),
            (Q::ImportW, 1688),
        ],
    );
    let d = decode("esy5q3db1024_v304.p1");
    assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
    assert_eq!(id(&d), "1ESY1313002565");
    check(
        &d,
        &[
            (Q::ImportWh, 52_185_783),
            (Q::ExportWh, 19_949_322),
            (Q::L1ImportW, 748),
            (Q::L2ImportW, 737),
            (Q::L3ImportW, 640),
            (Q::ImportW, 2125),
        ],
    );
}

#[test]
fn parse_telegram_checks_one_frame() {
    let v5 = fixture("v5.p1");
    let d = parse_telegram(&v5).unwrap();
    assert_eq!(d.reading.get(Q::ImportW), Some(244));
    // Without the final line end, and with the CRC in lower case.
    let mut text = v5.clone();
    text.truncate(text.len() - 2);
    let n = text.len();
    text[n - 4..].make_ascii_lowercase();
    assert_eq!(
        parse_telegram(&text).unwrap().reading.get(Q::ImportW),
        Some(244)
    );
    // One flipped digit: CRC error.
    let mut bad = v5.clone();
    let at = bad.windows(6).position(|w| w == b"00.244").unwrap();
    bad[at + 5] = b'5';
    assert_eq!(
        parse_telegram(&bad).unwrap_err().reason,
        RejectReason::Checksum
    );
    // DSMR 2.2 without a line end after `!`.
    let v22 = fixture("v2_2.p1");
    let d = parse_telegram(&v22[..v22.len() - 2]).unwrap();
    assert_eq!(d.reading.get(Q::GasDm3), Some(1001));
    assert_eq!(
        parse_telegram(b"garbage").unwrap_err().reason,
        RejectReason::Framing
    );
}
