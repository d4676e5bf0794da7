//! Rainforest RAVEn / EMU-2 XML on every response fragment of aioraven's test suite. The
//! expected numbers are computed by hand from the fragments: value × Multiplier / Divisor kW
//! or kWh, TimeStamp 0x29bd58a7 = 700275879 s after 2000-01-01Z = 2022-03-11T00:47:35Z.

use hearth_meter::raven::{self, RavenDecoder};
use hearth_meter::{Decoded, Decoder, Quantity as Q, RejectReason, Rejection};
use std::path::PathBuf;

fn fixture() -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/raven/aioraven_responses.xml");
    std::fs::read(p).unwrap()
}

fn decode(bytes: &[u8], chunk: usize) -> (Vec<Result<Decoded, Rejection>>, RavenDecoder) {
    let mut dec = RavenDecoder::new();
    let mut out = Vec::new();
    for piece in bytes.chunks(chunk) {
        dec.push(piece);
        while let Some(r) = dec.next() {
            out.push(r);
        }
    }
    (out, dec)
}

const T: i64 = 1_646_959_655; // 946684800 + 0x29bd58a7

#[test]
fn every_fragment_of_the_suite() {
    let bytes = fixture();
    let (out, dec) = decode(&bytes, bytes.len());
    let readings: Vec<_> = out.into_iter().map(|r| r.unwrap()).collect();
    // 6 InstantaneousDemand + 3 CurrentSummationDelivered; 18 other fragments skipped.
    assert_eq!(readings.len(), 9);
    assert_eq!(dec.ignored_fragments(), 18);
    let demand: Vec<(Option<i64>, Option<i64>)> = readings[3..9]
        .iter()
        .map(|d| (d.reading.get(Q::ImportW), d.reading.get(Q::ExportW)))
        .collect();
    // 0x10 × 4 / 2 = 32 kW; 0xFFFFFFF0 = -16 → -32 kW (export).
    assert_eq!(
        demand,
        vec![
            (Some(32_000), Some(0)),
            (Some(0), Some(32_000)),
            (Some(0), Some(32_000)),
            (Some(32_000), Some(0)),
            (Some(32_000), Some(0)),
            (Some(32_000), Some(0)),
        ]
    );
    // CurrentSummationDelivered: 0x10 × 4 / 2 = 32 kWh and 0x08 × 4 / 2 = 16 kWh;
    // 0xC7B = 3195 × 2 / 200 = 31.95 kWh and 0x644 = 1604 × 2 / 200 = 16.04 kWh.
    let sums: Vec<(Option<i64>, Option<i64>)> = readings[..3]
        .iter()
        .map(|d| (d.reading.get(Q::ImportWh), d.reading.get(Q::ExportWh)))
        .collect();
    assert_eq!(
        sums,
        vec![
            (Some(32_000), Some(16_000)),
            (Some(31_950), Some(16_040)),
            (Some(32_000), None)
        ]
    );
    for d in &readings {
        assert_eq!(d.reading.time.unwrap().unix, T);
        assert_eq!(
            d.reading.time.unwrap().to_string(),
            "2022-03-11T00:47:35+00:00"
        );
        assert_eq!(
            d.reading.meter_id.as_ref().unwrap().as_str(),
            "FEDCBA9876543210"
        );
        assert!(d.diagnostics.is_empty());
    }
    // Byte by byte gives the same.
    let (again, _) = decode(&bytes, 1);
    assert_eq!(
        again.into_iter().map(|r| r.unwrap()).collect::<Vec<_>>(),
        readings
    );
}

#[test]
fn broken_fragments_are_rejected_not_panics() {
    let input = b"noise<InstantaneousDemand><Demand>0xZZ</Demand></InstantaneousDemand>\
<CurrentSummationDelivered><TimeStamp>0x10</TimeStamp></CurrentSummationDelivered>\
<InstantaneousDemand><Demand>0x1F4</Demand><Multiplier>0x0</Multiplier><Divisor>0x000003E8</Divisor></InstantaneousDemand>";
    let (out, dec) = decode(input, 7);
    let reasons: Vec<_> = out
        .iter()
        .map(|r| r.as_ref().map(|_| ()).map_err(|e| e.reason))
        .collect();
    assert_eq!(
        reasons,
        vec![
            Err(RejectReason::Payload),
            Err(RejectReason::Payload),
            Ok(())
        ]
    );
    // 0x1F4 = 500 × 1 (zero multiplier means 1) / 1000 = 0.5 kW; no TimeStamp, no time.
    let last = out[2].as_ref().unwrap();
    assert_eq!(last.reading.get(Q::ImportW), Some(500));
    assert_eq!(last.reading.time, None);
    assert_eq!(dec.stats().rejected_for(RejectReason::Payload), 2);
    assert_eq!(dec.stats().skipped_bytes, 5);
}

#[test]
fn an_endless_fragment_is_oversized_and_memory_stays_bounded() {
    let mut dec = RavenDecoder::new();
    dec.push(b"<InstantaneousDemand>");
    let mut oversized = 0;
    for _ in 0..1000 {
        dec.push(&[b'x'; 100]);
        while let Some(r) = dec.next() {
            assert_eq!(r.unwrap_err().reason, RejectReason::Oversized);
            oversized += 1;
        }
    }
    assert_eq!(oversized, 1);
    assert!(dec.stats().skipped_bytes > 90_000);
}

#[test]
fn start_commands_are_xml() {
    assert_eq!(
        raven::command("get_device_info"),
        "<Command><Name>get_device_info</Name></Command>\r\n"
    );
    for c in raven::START_COMMANDS {
        assert!(c.starts_with("<Command><Name>") && c.ends_with("</Command>\r\n"));
    }
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2048), chunk in 1usize..64) {
        let _ = decode(&bytes, chunk);
    }

    #[test]
    fn mutated_fragments_never_panic(pos in 0usize..8410, byte in proptest::num::u8::ANY) {
        let mut bytes = fixture();
        let pos = pos % bytes.len();
        bytes[pos] = byte;
        let _ = decode(&bytes, 97);
    }
}
