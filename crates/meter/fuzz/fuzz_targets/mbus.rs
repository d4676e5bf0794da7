//! Fuzzes the wired M-Bus long-frame framer of Austrian DLMS meters: any bytes, cut at a
//! fuzzer-chosen point, never panic and give the same APDUs and rejections in any split; and
//! any APDU split into frames by `encode_frames` is joined back unchanged.
#![no_main]

#[path = "split.rs"]
mod split;

use hearth_meter::Rejection;
use hearth_meter::dlms::mbus::{MAX_APDU_LEN, MbusFramer, encode_frames};
use libfuzzer_sys::fuzz_target;

fn apdus(parts: &[&[u8]]) -> Vec<Result<Vec<u8>, Rejection>> {
    let mut framer = MbusFramer::new();
    let mut out = Vec::new();
    for part in parts {
        framer.push(part);
        while let Some(r) = framer.next_apdu() {
            out.push(r.map(<[u8]>::to_vec));
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, data)) = data.split_first() else {
        return;
    };
    let at = split::cut(split, data.len());
    let whole = apdus(&[data]);
    assert_eq!(whole, apdus(&[&data[..at], &data[at..]]), "cut at {at}");

    // Round trip: the bytes as an APDU in segments of 1..=250 bytes (at most 16 segments, the
    // CI field's sequence count).
    let segment = usize::from(split).max(1);
    let apdu = &data[..data.len().min(MAX_APDU_LEN).min(16 * segment)];
    if apdu.is_empty() {
        return;
    }
    let wire = encode_frames(apdu, segment);
    let at = split::cut(split, wire.len());
    let got = apdus(&[&wire[..at], &wire[at..]]);
    assert_eq!(got, vec![Ok(apdu.to_vec())], "segments of {segment}");
});
