//! Auto-detection: each protocol's real capture is recognised from its bytes, and the
//! auto decoder gives exactly what that protocol's own decoder gives.

use hearth_meter::auto::{AuthKey, AutoDecoder, Detected, Keys, SNIFF_LIMIT, decoder};
use hearth_meter::glo::Key;
use hearth_meter::{Decoded, Decoder, Protocol, Quantity as Q, Rejection};
use proptest::prelude::*;

fn fixture(path: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn drain(d: &mut dyn Decoder, bytes: &[u8], chunk: usize) -> Vec<Result<Decoded, Rejection>> {
    let mut out = Vec::new();
    for c in bytes.chunks(chunk.max(1)) {
        d.push(c);
        while let Some(r) = d.next() {
            out.push(r);
        }
    }
    out
}

/// Auto-detects `bytes` (whole and byte by byte) and compares with the protocol's decoder.
fn same_as_direct(
    bytes: &[u8],
    want: Detected,
    keys: Option<Keys>,
) -> Vec<Result<Decoded, Rejection>> {
    let new = || keys.map_or_else(AutoDecoder::new, AutoDecoder::with_keys);
    let mut auto = new();
    let got = drain(&mut auto, bytes, bytes.len());
    assert_eq!(auto.detected(), Some(want));
    let mut direct = decoder(want.protocol(), keys.as_ref()).unwrap();
    let expected = drain(direct.as_mut(), bytes, bytes.len());
    assert_eq!(got, expected);
    let mut auto = new();
    assert_eq!(drain(&mut auto, bytes, 1), expected, "byte by byte");
    assert_eq!(
        auto.stats().accepted,
        expected.iter().filter(|r| r.is_ok()).count() as u64
    );
    got
}

#[test]
fn dsmr_captures() {
    let mut s = b"\x00\x00 line noise \r\n".to_vec();
    for name in [
        "v5.p1",
        "v2_2.p1",
        "fluvius_v171.p1",
        "amshan_kamstrup.p1",
        "esy5q3da1004_v304.p1",
    ] {
        s.extend_from_slice(&fixture(&format!("dsmr/{name}")));
    }
    let out = same_as_direct(&s, Detected::Dsmr, None);
    assert_eq!(out.len(), 5);
    let r = &out[0].as_ref().unwrap().reading;
    assert_eq!(r.protocol, Protocol::Dsmr);
    assert_eq!(r.get(Q::ImportT1Wh), Some(4426));
    assert_eq!(
        out[4].as_ref().unwrap().reading.get(Q::ImportWh),
        Some(32_549_506)
    );
}

#[test]
fn smarty_frames() {
    let keys = Keys {
        key: Key::from_hex("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap(),
        auth_key: AuthKey::Key(Key::from_hex("BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB").unwrap()),
    };
    let frame = fixture("dsmr/sagemcom_t210_d_r.encrypted.bin");
    let out = same_as_direct(&frame.repeat(3), Detected::Smarty, Some(keys));
    assert_eq!(out.len(), 3);
    assert_eq!(
        out[2].as_ref().unwrap().reading.get(Q::ImportWh),
        Some(6_545_766)
    );
}

#[test]
fn dlms_hdlc_frames() {
    let mut s = fixture("han/kamstrup_se_real.hdlc");
    s.extend_from_slice(&fixture("han/aidon_no_list_2.hdlc"));
    let out = same_as_direct(&s, Detected::Dlms, None);
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(Result::is_ok));
    assert_eq!(out[0].as_ref().unwrap().reading.protocol, Protocol::Dlms);
    // Encrypted HAN: the keys go to the DLMS decoder.
    let keys = Keys {
        key: Key::from_hex("000102030405060708090A0B0C0D0E0F").unwrap(),
        auth_key: AuthKey::Key(Key::from_hex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF").unwrap()),
    };
    let sealed = same_as_direct(
        &fixture("han/kaifa_no_list_2.gcm.hdlc"),
        Detected::Dlms,
        Some(keys),
    );
    let plain = same_as_direct(&fixture("han/kaifa_no_list_2.hdlc"), Detected::Dlms, None);
    assert_eq!(sealed.len(), 1);
    assert_eq!(
        sealed[0].as_ref().unwrap().reading,
        plain[0].as_ref().unwrap().reading
    );
}

#[test]
fn sml_stream() {
    let s = fixture("sml/DZG_DVS-7412.2_jmberg.bin");
    let out = same_as_direct(&s, Detected::Sml, None);
    assert!(!out.is_empty());
    assert!(out.iter().any(|r| {
        r.as_ref()
            .is_ok_and(|d| d.reading.protocol == Protocol::Sml)
    }));
}

#[test]
fn raven_xml() {
    let s = fixture("raven/aioraven_responses.xml");
    let out = same_as_direct(&s, Detected::Raven, None);
    assert!(out.iter().any(|r| {
        r.as_ref()
            .is_ok_and(|d| d.reading.protocol == Protocol::Raven)
    }));
}

#[test]
fn iec62056_21_mode_c_readout() {
    // Built from the standard: ident, STX, data, `!`, CR LF, ETX, BCC (XOR after STX to ETX).
    let mut block = b"1.8.0(001234.567*kWh)\r\n!\r\n\x03".to_vec();
    let bcc = block.iter().fold(0u8, |a, b| a ^ b);
    block.push(bcc);
    let mut s = b"/ISK5ME162-0033\r\n\x02".to_vec();
    s.extend_from_slice(&block);
    let out = same_as_direct(&s, Detected::Iec62056_21, None);
    assert_eq!(out.len(), 1);
    let r = &out[0].as_ref().unwrap().reading;
    assert_eq!(r.protocol, Protocol::Iec62056_21);
    assert_eq!(r.get(Q::ImportWh), Some(1_234_567));
}

#[test]
fn silence_and_garbage_stay_bounded() {
    let mut d = AutoDecoder::new();
    for i in 0..500u32 {
        let chunk: Vec<u8> = (0..1000u32)
            .map(|j| ((i * 7919 + j * 31) % 251) as u8 | 0x40)
            .collect();
        d.push(&chunk);
        assert!(d.next().is_none());
    }
    assert_eq!(d.detected(), None);
    assert!(d.stats().skipped_bytes >= 500_000 - SNIFF_LIMIT as u64);
    // Then a meter starts talking.
    d.push(&fixture("dsmr/v5.p1"));
    assert_eq!(d.detected(), Some(Detected::Dsmr));
    assert!(d.next().unwrap().is_ok());
}

#[test]
fn a_stalled_candidate_does_not_block_detection_forever() {
    // `7E A7 FF` announces a 2047-byte HDLC frame that never closes; DSMR follows.
    let mut s = vec![0x7E, 0xA7, 0xFF];
    for _ in 0..6 {
        s.extend_from_slice(&fixture("dsmr/v5.p1"));
    }
    let mut d = AutoDecoder::new();
    let out = drain(&mut d, &s, 256);
    assert_eq!(d.detected(), Some(Detected::Dsmr));
    // Past SNIFF_LIMIT bytes the candidate is dropped and the buffer sniffed again: the DSMR
    // telegrams behind it were kept, so all six decode.
    assert_eq!(out.iter().filter(|r| r.is_ok()).count(), 6);
    assert_eq!(d.stats().skipped_bytes, 3);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..1024), 0..16),
    ) {
        let mut d = AutoDecoder::new();
        for c in &chunks {
            d.push(c);
            while d.next().is_some() {}
        }
    }
}
