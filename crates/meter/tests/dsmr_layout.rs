//! The streaming decoder remembers the previous telegram's layout to read the next one
//! faster; these tests hold it to the stateless parser's result on every fixture and on
//! telegrams whose digits, bytes and lengths change from one to the next.

use hearth_meter::checksum::crc16_arc;
use hearth_meter::dsmr::{DsmrDecoder, parse_telegram};
use hearth_meter::{Decoded, Decoder, Quantity as Q, Rejection};
use proptest::prelude::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/dsmr/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const PLAIN: [&str; 18] = [
    "v2_2.p1",
    "v3.p1",
    "v4_2.p1",
    "v5.p1",
    "v5_two_mbus.p1",
    "fluvius_v171.p1",
    "fluvius_v171_alt.p1",
    "iskra_ie.p1",
    "sagemcom_t210_d_r.p1",
    "unpadded_crc.p1",
    "v5_eon_hu.p1",
    "amshan_a_landisgyr_360.p1",
    "amshan_b.p1",
    "amshan_c.p1",
    "amshan_d_landisgyr_360.p1",
    "amshan_kamstrup.p1",
    "esy5q3da1004_v304.p1",
    "esy5q3db1024_v304.p1",
];

/// The text `/` … `!` of a capture (the first telegram in it).
fn text_of(capture: &[u8]) -> Vec<u8> {
    let start = capture.iter().position(|&b| b == b'/').unwrap();
    let end = start + capture[start..].iter().position(|&b| b == b'!').unwrap();
    capture[start..=end].to_vec()
}

/// A whole telegram with a correct CRC for `text` (the shared reference CRC).
fn with_crc(text: &[u8]) -> Vec<u8> {
    with_crc_xor(text, 0)
}

/// A whole telegram whose CRC is the right one xor `flip` (wrong unless `flip` is 0).
fn with_crc_xor(text: &[u8], flip: u16) -> Vec<u8> {
    let mut t = text.to_vec();
    t.extend_from_slice(format!("{:04X}\r\n", crc16_arc(text) ^ flip).as_bytes());
    t
}

/// Feeds telegrams one by one through one decoder and checks each result against the
/// stateless parser's.
fn same_as_stateless(telegrams: &[Vec<u8>]) -> Result<(), TestCaseError> {
    let mut d = DsmrDecoder::new();
    for (i, t) in telegrams.iter().enumerate() {
        d.push(t);
        let got: Option<Result<Decoded, Rejection>> = d.next();
        let want = parse_telegram(t);
        // `==` on readings leaves out the extras: compare them too.
        let extras = |r: Option<&Result<Decoded, Rejection>>| {
            r.and_then(|r| r.as_ref().ok())
                .map(|d| d.reading.extras.clone())
        };
        prop_assert_eq!(extras(got.as_ref()), extras(Some(&want)));
        prop_assert_eq!(got, Some(want), "telegram {}", i);
        prop_assert!(d.next().is_none());
    }
    Ok(())
}

#[test]
fn every_fixture_twice_in_a_row_reads_the_same() {
    for name in PLAIN {
        let t = with_crc(&text_of(&fixture(name)));
        same_as_stateless(&[t.clone(), t.clone(), t]).unwrap();
    }
}

#[test]
fn changed_values_are_read_from_the_remembered_layout() {
    // The v5 capture, then the same telegram with other digits in its values: power 0.244 kW
    // becomes 9.871 kW, the T1 register 4.426 kWh becomes 123456.789 kWh, the clock moves on,
    // the gas register moves on.
    let v5 = text_of(&fixture("v5.p1"));
    let s = String::from_utf8(v5.clone()).unwrap();
    let next = s
        .replace("1-0:1.7.0(00.244*kW)", "1-0:1.7.0(09.871*kW)")
        .replace("1-0:1.8.1(000004.426*kWh)", "1-0:1.8.1(123456.789*kWh)")
        .replace("0-0:1.0.0(170102192002W)", "0-0:1.0.0(170102192003W)")
        .replace("(00000.107*m3)", "(00001.108*m3)");
    let mut d = DsmrDecoder::new();
    d.push(&with_crc(&v5));
    assert_eq!(
        d.next().unwrap().unwrap().reading.get(Q::ImportW),
        Some(244)
    );
    d.push(&with_crc(next.as_bytes()));
    let r = d.next().unwrap().unwrap().reading;
    assert_eq!(r.get(Q::ImportW), Some(9871));
    assert_eq!(r.get(Q::ImportT1Wh), Some(123_456_789));
    // 123456789 + 2399 Wh (T2 unchanged).
    assert_eq!(r.get(Q::ImportWh), Some(123_459_188));
    // 2017-01-02 19:20:03 CET = 18:20:03Z = 1483381203.
    assert_eq!(r.time.map(|t| t.unix), Some(1_483_381_203));
    assert_eq!(r.get(Q::GasDm3), Some(1108));
    same_as_stateless(&[with_crc(&v5), with_crc(next.as_bytes())]).unwrap();
}

/// A change to one byte of a telegram: a digit for a digit anywhere, or any byte from a set
/// that matters to the parser.
#[derive(Debug, Clone)]
enum Change {
    Digit(usize, u8),
    Byte(usize, u8),
    Remove(usize),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        6 => (any::<usize>(), b'0'..=b'9').prop_map(|(i, d)| Change::Digit(i, d)),
        2 => (
            any::<usize>(),
            prop::sample::select(b"()*.,-+!/:\r\n0-9aAkKWwSsVv \x00\xFF".to_vec())
        )
            .prop_map(|(i, b)| Change::Byte(i, b)),
        1 => any::<usize>().prop_map(Change::Remove),
    ]
}

fn apply(text: &[u8], changes: &[Change]) -> Vec<u8> {
    // Keep the leading `/` and the final `!` so it stays one telegram.
    let mut t = text.to_vec();
    for c in changes {
        let inner = t.len() - 2;
        match *c {
            Change::Digit(i, d) => {
                let i = 1 + i % inner;
                if t[i].is_ascii_digit() {
                    t[i] = d;
                }
            }
            Change::Byte(i, b) => {
                let i = 1 + i % inner;
                if b != b'!' && b != b'/' {
                    t[i] = b;
                }
            }
            Change::Remove(i) => {
                if inner > 1 {
                    t.remove(1 + i % inner);
                }
            }
        }
    }
    t
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// A stream of telegrams from one capture with random changes: the decoder's result for
    /// each equals the stateless parser's.
    #[test]
    fn a_changing_stream_reads_as_the_stateless_parser(
        which in 0..PLAIN.len(),
        edits in prop::collection::vec(
            (prop::collection::vec(change(), 0..4), prop_oneof![4 => Just(0u16), 1 => 1u16..]),
            1..6,
        ),
    ) {
        let text = text_of(&fixture(PLAIN[which]));
        let mut telegrams = vec![with_crc(&text)];
        for (e, flip) in &edits {
            // Sometimes with a wrong CRC: rejected, the remembered layout unchanged.
            telegrams.push(with_crc_xor(&apply(&text, e), *flip));
            // The same changed telegram again: now it may be the remembered layout.
            telegrams.push(with_crc(&apply(&text, e)));
            telegrams.push(with_crc_xor(&apply(&text, e), *flip));
        }
        same_as_stateless(&telegrams)?;
    }

    /// One capture with only its digits changing, telegram after telegram (what a meter
    /// sends): every CRC, right or wrong, is judged as the stateless parser judges it.
    #[test]
    fn changing_digits_keep_the_crc_exact(
        which in 0..PLAIN.len(),
        steps in prop::collection::vec(
            (prop::collection::vec((any::<usize>(), b'0'..=b'9'), 1..12), prop_oneof![3 => Just(0u16), 1 => 1u16..]),
            1..8,
        ),
    ) {
        let mut text = text_of(&fixture(PLAIN[which]));
        let mut telegrams = vec![with_crc(&text)];
        for (digits, flip) in &steps {
            let changes: Vec<Change> = digits.iter().map(|&(i, d)| Change::Digit(i, d)).collect();
            text = apply(&text, &changes);
            telegrams.push(with_crc_xor(&text, *flip));
        }
        same_as_stateless(&telegrams)?;
    }
}
