//! EasyMeter Q3D mode-D pushes (German optical eye): auto-detection reads them as
//! IEC 62056-21, with the signed total power `1-0:16.7.0*255`, not as DSMR.

use hearth_meter::auto::{AutoDecoder, Detected, decoder};
use hearth_meter::{Decoded, Decoder, Protocol, Quantity as Q, Rejection};

fn fixture(path: &str) -> Vec<u8> {
    let p = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn run(d: &mut dyn Decoder, bytes: &[u8], chunk: usize) -> Vec<Result<Decoded, Rejection>> {
    let mut out = Vec::new();
    for piece in bytes.chunks(chunk.max(1)) {
        d.push(piece);
        while let Some(r) = d.next() {
            out.push(r);
        }
    }
    while let Some(r) = d.finish() {
        out.push(r);
    }
    out
}

/// Auto-detects `bytes` (whole, and in 1- and 7-byte pieces) and checks it gives what the
/// IEC 62056-21 decoder gives.
fn as_iec(bytes: &[u8]) -> Vec<Decoded> {
    let mut direct = decoder(Protocol::Iec62056_21, None).unwrap();
    let want = run(direct.as_mut(), bytes, bytes.len());
    for chunk in [1, 7, bytes.len()] {
        let mut auto = AutoDecoder::new();
        assert_eq!(run(&mut auto, bytes, chunk), want, "chunk {chunk}");
        assert_eq!(auto.detected(), Some(Detected::Iec62056_21));
    }
    want.into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("rejected: {e}")))
        .collect()
}

fn id(d: &Decoded) -> String {
    d.reading.meter_id.as_ref().unwrap().as_str().to_string()
}

#[test]
fn easymeter_q3d_total_power_is_read_by_auto_detection() {
    // An import telegram, then an export one (16.7.0 negative).
    let out = as_iec(&fixture("iec62056_21/easymeter_q3d.txt"));
    assert_eq!(out.len(), 2);
    for d in &out {
        assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
        assert_eq!(d.reading.protocol, Protocol::Iec62056_21);
        assert_eq!(id(d), "1ESY1160000042");
        // 12345.6789012 kWh: registers are floored to the Wh.
        assert_eq!(d.reading.get(Q::ImportWh), Some(12_345_678));
    }
    let r = &out[0].reading;
    for (q, v) in [
        (Q::ExportWh, 987_654),
        (Q::ImportW, 370),
        (Q::ExportW, 0),
        (Q::L1ImportW, 150),
        (Q::L2ImportW, 120),
        (Q::L3ImportW, 100),
    ] {
        assert_eq!(r.get(q), Some(v), "{q:?}");
    }
    let r = &out[1].reading;
    for (q, v) in [
        (Q::ExportWh, 987_654),
        (Q::ImportW, 0),
        (Q::ExportW, 413),
        (Q::L1ExportW, 200),
        (Q::L2ExportW, 112),
        (Q::L3ExportW, 100),
    ] {
        assert_eq!(r.get(q), Some(v), "{q:?}");
    }
    // As DSMR (what auto-detection chose before), the power was lost.
    let mut dsmr = decoder(Protocol::Dsmr, None).unwrap();
    let as_dsmr = run(dsmr.as_mut(), &fixture("iec62056_21/easymeter_q3d.txt"), 64);
    assert_eq!(as_dsmr[0].as_ref().unwrap().reading.get(Q::ImportW), None);
}

#[test]
fn the_easymeter_telegrams_dsmr_parser_collected_read_the_same_as_iec() {
    let d = &as_iec(&fixture("dsmr/esy5q3da1004_v304.p1"))[0];
    assert_eq!(id(d), "1ESY1336001560");
    for (q, v) in [
        (Q::ImportWh, 32_549_506),
        (Q::L1ImportW, 557),
        (Q::L2ImportW, 522),
        (Q::L3ImportW, 609),
        (Q::ImportW, 1688),
    ] {
        assert_eq!(d.reading.get(q), Some(v), "{q:?}");
    }
    let d = &as_iec(&fixture("dsmr/esy5q3db1024_v304.p1"))[0];
    assert_eq!(id(d), "1ESY1313002565");
    for (q, v) in [
        (Q::ImportWh, 52_185_782),
        (Q::ExportWh, 19_949_322),
        (Q::ImportW, 2125),
    ] {
        assert_eq!(d.reading.get(q), Some(v), "{q:?}");
    }
}

#[test]
fn other_mode_d_meters_writing_the_f_group_are_iec_and_dsmr_stays_dsmr() {
    // An eBZ DD3-style push: `*255` on every code, `16.7.0` total power, no CRC.
    let ebz = b"/EBZ5DD32R06DTA_107\r\n\r\n1-0:0.0.0*255(1EBZ0100000042)\r\n\
1-0:1.8.0*255(000125.25688570*kWh)\r\n1-0:16.7.0*255(000259.20*W)\r\n!\r\n";
    let d = &as_iec(ebz)[0];
    assert_eq!(d.reading.get(Q::ImportW), Some(259));
    assert_eq!(d.reading.get(Q::ImportWh), Some(125_256));
    // DSMR 2.2, 3 (no CRC) and 5 are still DSMR.
    for name in [
        "v2_2.p1",
        "v3.p1",
        "v5.p1",
        "iskra_ie.p1",
        "amshan_kamstrup.p1",
    ] {
        let mut auto = AutoDecoder::new();
        let out = run(&mut auto, &fixture(&format!("dsmr/{name}")), 3);
        assert_eq!(auto.detected(), Some(Detected::Dsmr), "{name}");
        assert!(out.iter().all(Result::is_ok), "{name}");
    }
}
