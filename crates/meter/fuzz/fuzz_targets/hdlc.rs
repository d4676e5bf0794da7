//! Fuzzes the HDLC framer: any bytes, cut at a fuzzer-chosen point, never panic and give the
//! same frames and rejections in any split; and any information field wrapped by
//! `encode_frame` comes back out unchanged, whatever noise precedes it.
#![no_main]

#[path = "split.rs"]
mod split;

use hearth_meter::Rejection;
use hearth_meter::hdlc::{HdlcFramer, encode_frame};
use libfuzzer_sys::fuzz_target;

/// (dest, src, control, info) of each frame, or the rejection.
type Frames = Vec<Result<(Vec<u8>, Vec<u8>, u8, Vec<u8>), Rejection>>;

fn frames(parts: &[&[u8]]) -> Frames {
    let mut framer = HdlcFramer::new();
    let mut out = Vec::new();
    for part in parts {
        framer.push(part);
        while let Some(r) = framer.next_frame() {
            out.push(r.map(|f| (f.dest.to_vec(), f.src.to_vec(), f.control, f.info.to_vec())));
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, data)) = data.split_first() else {
        return;
    };
    let at = split::cut(split, data.len());
    let whole = frames(&[data]);
    assert_eq!(whole, frames(&[&data[..at], &data[at..]]), "cut at {at}");

    // Round trip: the bytes as an information field (an 11-bit length leaves 2,037 bytes),
    // after the input's bytes up to the first flag as noise.
    let info = &data[..data.len().min(2037)];
    let noise: Vec<u8> = data
        .iter()
        .copied()
        .take_while(|&b| b != 0x7E)
        .take(64)
        .collect();
    let mut wire = noise;
    wire.extend(encode_frame(info));
    let at = split::cut(split, wire.len());
    let got = frames(&[&wire[..at], &wire[at..]]);
    assert_eq!(
        got.len(),
        1,
        "one encoded frame, {} results: {got:?}",
        got.len()
    );
    match &got[0] {
        Ok((dest, src, control, got_info)) => {
            assert_eq!(
                (dest.as_slice(), src.as_slice(), *control),
                (&[0x41u8][..], &[0x08u8, 0x83][..], 0x13)
            );
            assert_eq!(got_info.as_slice(), info);
        }
        Err(r) => panic!("an encoded frame was rejected: {r}"),
    }
});
