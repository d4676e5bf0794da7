//! The streaming DSMR decoder under any byte split, noise, damage and hostile input.

use hearth_meter::checksum::crc16_arc;
use hearth_meter::dsmr::{DsmrDecoder, MAX_FRAME};
use hearth_meter::glo::Key;
use hearth_meter::{Decoded, Decoder, Quantity as Q, RejectReason, Rejection};
use proptest::prelude::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/dsmr/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A telegram with a correct CRC (computed by the shared reference CRC, not the decoder's).
fn telegram(lines: &[&str], eol: &str) -> Vec<u8> {
    let mut t = format!("/TST5\\2TEST{eol}{eol}");
    for l in lines {
        t.push_str(l);
        t.push_str(eol);
    }
    t.push('!');
    let crc = crc16_arc(t.as_bytes());
    format!("{t}{crc:04X}{eol}").into_bytes()
}

/// Every plain capture, the Smarty frame, and some noise between them.
fn stream() -> Vec<u8> {
    let mut s = Vec::new();
    for name in [
        "v2_2.p1",
        "v3.p1",
        "v4_2.p1",
        "v5.p1",
        "v5_two_mbus.p1",
        "fluvius_v171.p1",
        "fluvius_v171_alt.p1",
        "iskra_ie.p1",
        "sagemcom_t210_d_r.p1",
        "sagemcom_t210_d_r.encrypted.bin",
        "unpadded_crc.p1",
        "v5_eon_hu.p1",
        "amshan_a_landisgyr_360.p1",
        "amshan_b.p1",
        "amshan_c.p1",
        "amshan_d_landisgyr_360.p1",
        "amshan_kamstrup.p1",
        "esy5q3da1004_v304.p1",
        "esy5q3db1024_v304.p1",
    ] {
        let mut capture = fixture(name);
        if name == "amshan_b.p1" {
            // Published without the CRC a DSMR 4.2 telegram has (rejected without it): the
            // CRC of its text, from the shared reference CRC.
            capture.truncate(capture.len() - 2);
            let crc = crc16_arc(&capture);
            capture.extend_from_slice(format!("{crc:04X}\r\n").as_bytes());
        }
        s.extend_from_slice(&capture);
        s.extend_from_slice(b"\x00\xFFnoise\r\n");
    }
    s
}

fn decoder() -> DsmrDecoder {
    DsmrDecoder::with_keys(
        Key::from_hex("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap(),
        Some(Key::from_hex("BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB").unwrap()),
    )
}

fn run(
    d: &mut DsmrDecoder,
    chunks: impl IntoIterator<Item = Vec<u8>>,
) -> Vec<Result<Decoded, Rejection>> {
    let mut out = Vec::new();
    for c in chunks {
        d.push(&c);
        while let Some(r) = d.next() {
            out.push(r);
        }
    }
    out
}

#[test]
fn the_whole_stream_decodes_every_telegram() {
    let mut d = decoder();
    let out = run(&mut d, [stream()]);
    assert_eq!(out.len(), 19);
    assert!(out.iter().all(Result::is_ok));
    assert_eq!(d.stats().accepted, 19);
    assert_eq!(d.stats().rejected(), 0);
    // Noise: 7 bytes between frames (CR LF not counted) x 19, plus the EasyMeter trailers
    // ("  25818685" + "DE0...3" = 10 + 33, "  25803103" + 33 x 0xFF = 10 + 33).
    assert_eq!(d.stats().skipped_bytes, 19 * 7 + 43 + 43);
    assert_eq!(d.buffered(), 0);
}

#[test]
fn byte_at_a_time_equals_all_at_once() {
    let s = stream();
    let whole = run(&mut decoder(), [s.clone()]);
    let bytes = run(&mut decoder(), s.iter().map(|&b| vec![b]));
    assert_eq!(whole, bytes);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_split_gives_the_same_frames(cuts in proptest::collection::vec(0usize..30_000, 0..40)) {
        let s = stream();
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (s.len() + 1)).collect();
        cuts.sort_unstable();
        let mut chunks = Vec::new();
        let mut prev = 0;
        for c in cuts.into_iter().chain([s.len()]) {
            chunks.push(s[prev..c].to_vec());
            prev = c;
        }
        let whole = run(&mut decoder(), [s.clone()]);
        prop_assert_eq!(run(&mut decoder(), chunks), whole);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_memory_stays_bounded(
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..2048), 0..24),
    ) {
        let mut d = decoder();
        for c in &chunks {
            d.push(c);
            while d.next().is_some() {}
            prop_assert!(d.buffered() <= MAX_FRAME + c.len());
        }
    }

    #[test]
    fn dsmr_like_garbage_never_panics(
        parts in proptest::collection::vec(
            prop_oneof![
                Just(b"/".to_vec()), Just(b"!".to_vec()), Just(b"\r\n".to_vec()),
                Just(b"1-0:1.8.1(".to_vec()), Just(b")".to_vec()), Just(b"*kWh".to_vec()),
                Just(b"0-1:24.3.0(".to_vec()), Just(b"(".to_vec()), Just(vec![0xDB, 0x08]),
                "[0-9A-F.]{0,12}".prop_map(String::into_bytes),
            ],
            0..200,
        ),
    ) {
        let s: Vec<u8> = parts.concat();
        let mut d = decoder();
        d.push(&s);
        let mut frames = 0u64;
        while let Some(r) = d.next() {
            frames += 1;
            if let Ok(decoded) = r {
                prop_assert!(decoded.diagnostics.len() <= 64);
            }
        }
        prop_assert_eq!(frames, d.stats().accepted + d.stats().rejected());
    }
}

#[test]
fn endless_garbage_is_dropped_not_buffered() {
    let mut d = DsmrDecoder::new();
    for _ in 0..1000 {
        d.push(&[b'x'; 1024]);
        assert!(d.next().is_none());
        assert_eq!(d.buffered(), 0);
    }
    assert_eq!(d.stats().skipped_bytes, 1_024_000);
}

#[test]
fn a_telegram_without_end_is_rejected_as_oversized() {
    let mut d = DsmrDecoder::new();
    d.push(b"/XXX5 no end\r\n");
    let mut rejected = Vec::new();
    for _ in 0..40 {
        d.push(&[b'1'; 1024]);
        while let Some(r) = d.next() {
            rejected.push(r.unwrap_err().reason);
        }
        assert!(d.buffered() <= MAX_FRAME + 1024);
    }
    assert_eq!(rejected, vec![RejectReason::Oversized]);
    // The decoder recovers on the next telegram.
    d.push(&fixture("v5.p1"));
    assert_eq!(
        d.next().unwrap().unwrap().reading.get(Q::ImportW),
        Some(244)
    );
}

#[test]
fn a_cut_telegram_resynchronises_on_the_next_header() {
    let v5 = fixture("v5.p1");
    // Cut mid-line (bytes lost on the wire), then a whole telegram.
    let mut s = v5[..400].to_vec();
    s.extend_from_slice(&v5);
    // Cut at a line end.
    let eol = v5.windows(2).rposition(|w| w == b"\r\n").unwrap() - 40;
    let eol = eol + v5[eol..].windows(2).position(|w| w == b"\r\n").unwrap() + 2;
    s.extend_from_slice(&v5[..eol]);
    s.extend_from_slice(&v5);
    // A `/` inside a value is content, not a new telegram.
    s.extend_from_slice(&telegram(
        &["0-0:96.13.0(a/b)", "1-0:1.7.0(00.244*kW)"],
        "\r\n",
    ));
    let mut d = DsmrDecoder::new();
    let out = run(&mut d, [s]);
    let summary: Vec<Result<Option<i64>, RejectReason>> = out
        .iter()
        .map(|r| {
            r.as_ref()
                .map(|d| d.reading.get(Q::ImportW))
                .map_err(|e| e.reason)
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            Err(RejectReason::Framing),
            Ok(Some(244)),
            Err(RejectReason::Framing),
            Ok(Some(244)),
            Ok(Some(244)),
        ]
    );
    assert_eq!(d.stats().rejected_for(RejectReason::Framing), 2);
}

#[test]
fn crc_errors_are_counted_and_the_next_telegram_still_decodes() {
    let v5 = fixture("v5.p1");
    let mut bad = v5.clone();
    let at = bad.windows(8).position(|w| w == b"0230.0*V").unwrap();
    bad[at + 3] = b'1';
    let mut d = DsmrDecoder::new();
    let out = run(&mut d, [bad, v5]);
    assert_eq!(out.len(), 2);
    let r = out[0].as_ref().unwrap_err();
    assert_eq!(r.reason, RejectReason::Checksum);
    assert!(r.detail.contains("6EEE"), "{}", r.detail);
    assert!(out[1].is_ok());
    assert_eq!(d.stats().rejected_for(RejectReason::Checksum), 1);
    assert_eq!(d.stats().accepted, 1);
}

#[test]
fn bad_lines_become_diagnostics_and_the_rest_is_kept() {
    let t = telegram(
        &[
            "1-3:0.2.8(50)",
            "0-0:1.0.0(260329030000S)",
            "1-0:1.8.1(000100.000*kWh)",
            "1-0:1.8.2(garbage*kWh)", // line 6: not a number
            "1-0:2.8.1()",            // line 7: empty value
            "1-0:1.7.0(01.500*MJ)",   // line 8: wrong unit
            "this is not obis",       // line 9
            "1-0:32.7.0(229.9*V",     // line 10: not closed
            "1-0:31.7.0(5)",          // no unit: amperes assumed
            "1-0:21.7.0(00.750)",     // no unit: kW assumed
            "0-0:96.13.0()",          // empty text message: fine
            "1-0:99.99.0(1)",         // unknown code: skipped silently
            "0-1:24.1.0(003)",
            "0-1:24.2.1(260329030000S)(01234.567*m3)",
        ],
        "\n", // line ends without CR
    );
    let mut d = DsmrDecoder::new();
    d.push(&t);
    let dec = d.next().unwrap().unwrap();
    let lines: Vec<(u32, &str)> = dec
        .diagnostics
        .iter()
        .map(|x| (x.line, x.code.as_str()))
        .collect();
    assert_eq!(
        lines,
        vec![
            (6, "1-0:1.8.2"),
            (7, "1-0:2.8.1"),
            (8, "1-0:1.7.0"),
            (9, "this is not obis"),
            (10, "1-0:32.7.0"),
        ]
    );
    let r = &dec.reading;
    assert_eq!(r.get(Q::ImportT1Wh), Some(100_000));
    assert_eq!(r.get(Q::ImportWh), Some(100_000));
    assert_eq!(r.get(Q::ImportT2Wh), None);
    assert_eq!(r.get(Q::ExportT1Wh), None);
    assert_eq!(r.get(Q::ImportW), None);
    assert_eq!(r.get(Q::L1Dv), None);
    assert_eq!(r.get(Q::L1Ma), Some(5000));
    assert_eq!(r.get(Q::L1ImportW), Some(750));
    assert_eq!(r.get(Q::GasDm3), Some(1_234_567));
    assert_eq!(
        r.time.map(|t| t.to_string()).as_deref(),
        Some("2026-03-29T03:00:00+02:00")
    );
}

#[test]
fn lowercase_crc_is_accepted() {
    let mut t = telegram(&["1-0:1.7.0(00.123*kW)"], "\r\n");
    let n = t.len();
    t[n - 6..n - 2].make_ascii_lowercase();
    let mut d = DsmrDecoder::new();
    d.push(&t);
    assert_eq!(
        d.next().unwrap().unwrap().reading.get(Q::ImportW),
        Some(123)
    );
}

#[test]
fn dst_nights_keep_meter_time_monotonic() {
    let at = |ts: &str| {
        let line = format!("0-0:1.0.0({ts})");
        let mut d = DsmrDecoder::new();
        d.push(&telegram(&[&line], "\r\n"));
        d.next().unwrap().unwrap().reading.time.unwrap()
    };
    // Spring, 29 March 2026: 01:59:59 CET is followed one second later by 03:00:00 CEST.
    let (a, b) = (at("260329015959W"), at("260329030000S"));
    assert_eq!(b.unix - a.unix, 1);
    assert_eq!(b.to_string(), "2026-03-29T03:00:00+02:00");
    // Autumn, 25 October 2026: 02:30 happens twice, told apart by the flag, an hour apart.
    let (c, e) = (at("261025023000S"), at("261025023000W"));
    assert_eq!(e.unix - c.unix, 3600);
    assert_eq!(c.unix, 1_792_888_200); // 2026-10-25T00:30:00Z
    // An impossible timestamp is a diagnostic, not a rejected telegram.
    let mut d = DsmrDecoder::new();
    d.push(&telegram(
        &["0-0:1.0.0(261325023000W)", "1-0:1.7.0(00.001*kW)"],
        "\r\n",
    ));
    let dec = d.next().unwrap().unwrap();
    assert_eq!(dec.reading.time, None);
    assert_eq!(dec.reading.get(Q::ImportW), Some(1));
    assert_eq!(dec.diagnostics.len(), 1);
    assert_eq!(dec.diagnostics[0].line, 3);
}

#[test]
fn a_stray_db_byte_in_noise_does_not_swallow_telegrams() {
    let mut s = vec![0xDB, 0x00, 0x12];
    s.extend_from_slice(&fixture("v5.p1"));
    let mut d = DsmrDecoder::new();
    let out = run(&mut d, [s]);
    assert_eq!(out.len(), 1);
    assert!(out[0].is_ok());
}
