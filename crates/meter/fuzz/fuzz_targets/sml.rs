//! Fuzzes the SML decoder: transport escapes, TL fields, CRC, GetList responses. Any bytes,
//! cut at a fuzzer-chosen point, never panic and give the same readings and rejections in any
//! split (for inputs below the frame size limit, past which a split changes when a frame
//! counts as oversized); the same bytes as a frame body, wrapped by `encode_frame`, always pass
//! the transport checks (escapes, padding, CRC) and come out as exactly one result.
#![no_main]

#[path = "split.rs"]
mod split;

use hearth_meter::sml::{
    MAX_FRAME_LEN, SmlDecoder, decode_frame, decode_messages, encode_frame, parse_value,
};
use hearth_meter::{Decoder, RejectReason};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, data)) = data.split_first() else {
        return;
    };
    if data.len() <= MAX_FRAME_LEN {
        split::same_whatever_the_split(|| Box::new(SmlDecoder::new()), split, data);
    } else {
        split::run(&mut SmlDecoder::new(), &[data]);
    }
    let _ = decode_frame(data);
    let _ = decode_messages(data);
    let mut rest = data;
    for _ in 0..64 {
        match parse_value(rest) {
            Ok((_, r)) if r.len() < rest.len() => rest = r,
            _ => break,
        }
    }

    // Round trip through the transport layer.
    let body = &data[..data.len().min(4096)];
    let wire = encode_frame(body);
    let mut d = SmlDecoder::new();
    let at = split::cut(split, wire.len());
    let got = split::run(&mut d, &[&wire[..at], &wire[at..]]);
    assert_eq!(
        got.len(),
        1,
        "one encoded frame, {} results: {got:?}",
        got.len()
    );
    if let Err(r) = &got[0] {
        assert_eq!(
            r.reason,
            RejectReason::Payload,
            "an encoded frame failed transport: {r}"
        );
    }
    assert_eq!(d.stats().accepted + d.stats().rejected(), 1);
});
