//! Shared by the split-differential targets: run a decoder over bytes pushed in one piece or
//! in two pieces, and compare what comes out.
#![allow(dead_code)]

use hearth_meter::{Decoded, Decoder, Rejection};

/// What a decoder produced, in order.
pub type Outcomes = Vec<Result<Decoded, Rejection>>;

/// Where to cut `len` bytes, from a fuzzer byte (0 = the very start, 255 = near the end).
pub fn cut(split: u8, len: usize) -> usize {
    usize::from(split) * len / 256
}

/// Pushes each part in turn, draining the decoder after every push (as a serial loop does),
/// then asks for the end-of-input frame.
pub fn run(d: &mut dyn Decoder, parts: &[&[u8]]) -> Outcomes {
    let mut out = Vec::new();
    for part in parts {
        d.push(part);
        while let Some(r) = d.next() {
            out.push(r);
        }
    }
    if let Some(r) = d.finish() {
        out.push(r);
    }
    out
}

/// Runs fresh decoders from `make` over `data` whole and cut at `split`, and asserts both give
/// the same frames, readings and rejections. Returns the outcomes of the whole run.
pub fn same_whatever_the_split(
    make: impl Fn() -> Box<dyn Decoder>,
    split: u8,
    data: &[u8],
) -> Outcomes {
    let whole = run(make().as_mut(), &[data]);
    let at = cut(split, data.len());
    let parts = run(make().as_mut(), &[&data[..at], &data[at..]]);
    assert_eq!(
        whole, parts,
        "different results when the bytes are cut at {at}"
    );
    whole
}
