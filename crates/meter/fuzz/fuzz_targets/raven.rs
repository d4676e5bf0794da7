//! Fuzzes the Rainforest RAVEn / EMU-2 XML fragment decoder: any bytes, cut at a
//! fuzzer-chosen point, never panic and give the same readings and rejections in any split
//! (below the fragment size limit); the bytes as the inside of each reading fragment go
//! straight to `decode_fragment` too.
#![no_main]

#[path = "split.rs"]
mod split;

use hearth_meter::raven::{MAX_FRAGMENT_LEN, RavenDecoder, decode_fragment};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, data)) = data.split_first() else {
        return;
    };
    if data.len() <= MAX_FRAGMENT_LEN {
        split::same_whatever_the_split(|| Box::new(RavenDecoder::new()), split, data);
    } else {
        split::run(&mut RavenDecoder::new(), &[data]);
    }
    for kind in [&b"InstantaneousDemand"[..], b"CurrentSummationDelivered"] {
        let _ = decode_fragment(kind, data);
    }
});
