//! Only DSMR 2.2 and 3 telegrams may come without a CRC. A DSMR 4 or 5 telegram whose CRC was
//! lost (stripped, cut off, or a bit flip that turns a `)` into the end mark `!`) is rejected
//! with a counted reason, by the stateless parser and by the streaming decoder (whose layout
//! memory also knows a meter that sends CRCs by its header). Real captures, damaged by hand.

use hearth_meter::dsmr::{DsmrDecoder, parse_telegram};
use hearth_meter::{Decoder, Quantity as Q, RejectReason};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/dsmr/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The capture with its CRC digits removed: `…\r\n!` and a line end.
fn without_crc(capture: &[u8]) -> Vec<u8> {
    let bang = capture.iter().rposition(|&b| b == b'!').unwrap();
    let mut t = capture[..=bang].to_vec();
    t.extend_from_slice(b"\r\n");
    t
}

/// The capture with the `)` that closes the first line starting with `line` turned into `!`
/// (0x29 → 0x21: one bit).
fn flipped(capture: &[u8], line: &[u8]) -> Vec<u8> {
    let at = capture.windows(line.len()).position(|w| w == line).unwrap();
    let close = at + capture[at..].iter().position(|&b| b == b')').unwrap();
    let mut t = capture.to_vec();
    assert_eq!(t[close] ^ b'!', 0x08);
    t[close] = b'!';
    t
}

/// Pushes `telegrams` one by one through one decoder: each one's result (`Ok` value of
/// import_w, or the rejection reason).
fn stream(telegrams: &[Vec<u8>]) -> (Vec<Result<Option<i64>, RejectReason>>, DsmrDecoder) {
    let mut d = DsmrDecoder::new();
    let mut out = Vec::new();
    for t in telegrams {
        d.push(t);
        while let Some(r) = d.next() {
            out.push(r.map(|d| d.reading.get(Q::ImportW)).map_err(|r| r.reason));
        }
    }
    (out, d)
}

#[test]
fn dsmr_4_and_5_without_their_crc_are_rejected() {
    for (name, version) in [
        ("v5.p1", "50"),
        ("v4_2.p1", "42"),
        ("v5_two_mbus.p1", "50"),
        ("sagemcom_t210_d_r.p1", "50"),
        // eMUCS (Belgium) declares its version as 0-0:96.1.4.
        ("fluvius_v171.p1", "50217"),
    ] {
        let bare = without_crc(&fixture(name));
        let want = format!(
            "the telegram declares DSMR version {version} but has no CRC (only DSMR 2.2 and 3 \
             send none): damaged in transit"
        );
        let r = parse_telegram(&bare).unwrap_err();
        assert_eq!(r.reason, RejectReason::Checksum, "{name}");
        assert_eq!(r.detail, want, "{name}");
        // The streaming decoder: the first telegram read in full, the second from the
        // remembered layout; both rejected and counted.
        let mut d = DsmrDecoder::new();
        for _ in 0..2 {
            d.push(&bare);
            let r = d.next().unwrap().unwrap_err();
            assert_eq!(
                (r.reason, r.detail.as_str()),
                (RejectReason::Checksum, &*want)
            );
        }
        assert_eq!(d.stats().rejected_for(RejectReason::Checksum), 2, "{name}");
        assert_eq!(d.stats().accepted, 0, "{name}");
        // With its CRC the same capture still reads.
        assert!(parse_telegram(&fixture(name)).is_ok(), "{name}");
    }
}

#[test]
fn a_bit_flip_that_ends_the_telegram_early_is_rejected() {
    let v5 = fixture("v5.p1");
    let want = "framing: the end mark '!' is inside a line and no CRC follows: the telegram was \
                damaged or cut short";
    // In a value line, and in the version line itself (which then declares nothing).
    for line in [&b"1-0:1.8.1("[..], b"1-3:0.2.8(", b"0-0:96.1.1("] {
        let bad = flipped(&v5, line);
        let r = parse_telegram(&bad).unwrap_err();
        assert_eq!(r.to_string(), want);
        // In a stream between good telegrams: rejected, and the next one reads again.
        let (out, d) = stream(&[v5.clone(), bad, v5.clone()]);
        assert_eq!(
            out,
            vec![Ok(Some(244)), Err(RejectReason::Framing), Ok(Some(244))]
        );
        assert_eq!(d.stats().rejected_for(RejectReason::Framing), 1);
        // The rest of the damaged telegram, up to its real `!CRC`, is noise.
        assert!(d.stats().skipped_bytes > 0);
    }
    // The same in a DSMR 3 telegram, which has no CRC to catch it.
    let v3 = fixture("v3.p1");
    let (out, _) = stream(&[v3.clone(), flipped(&v3, b"1-0:1.8.2("), v3]);
    assert_eq!(
        out,
        vec![Ok(Some(1190)), Err(RejectReason::Framing), Ok(Some(1190))]
    );
}

#[test]
fn a_meter_known_to_send_crcs_cannot_drop_one() {
    // The Irish Iskra declares no version, but sends a CRC. A bit flip that makes a line start
    // with `!` (`1-0` → `!-0`: 0x31 → 0x21) ends the telegram at a line start, CRC-less.
    let iskra = fixture("iskra_ie.p1");
    let at = iskra.windows(4).position(|w| w == b"\n1-0").unwrap() + 1;
    let mut bad = iskra.clone();
    bad[at] = b'!';
    let (out, d) = stream(&[iskra.clone(), bad.clone(), iskra.clone()]);
    assert!(out[0].is_ok() && out[2].is_ok());
    assert_eq!(out[1], Err(RejectReason::Checksum));
    assert_eq!(d.stats().rejected_for(RejectReason::Checksum), 1);
    let mut d = DsmrDecoder::new();
    d.push(&iskra);
    d.push(&bad);
    assert!(d.next().unwrap().is_ok());
    assert_eq!(
        d.next().unwrap().unwrap_err().detail,
        "a telegram without a CRC from a meter that sends one (its earlier telegrams had one): \
         damaged in transit"
    );
}

#[test]
fn dsmr_2_2_and_3_without_crc_still_read() {
    for (name, import_w) in [
        ("v2_2.p1", Some(1010)),
        ("v3.p1", Some(1190)),
        ("esy5q3db1024_v304.p1", Some(2125)),
    ] {
        let capture = fixture(name);
        assert_eq!(
            parse_telegram(&capture).unwrap().reading.get(Q::ImportW),
            import_w,
            "{name}"
        );
        // Three in a row: read in full, then from the remembered layout.
        let (out, d) = stream(&[capture.clone(), capture.clone(), capture]);
        assert_eq!(out, vec![Ok(import_w); 3], "{name}");
        assert_eq!(d.stats().rejected(), 0, "{name}");
    }
}
