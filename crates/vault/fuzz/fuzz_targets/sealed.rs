//! Fuzzes sealing and the rollup bucket codec through `hearth_vault::fuzzing` (fixed test key):
//! arbitrary bytes never open as a sealed chunk; any payload sealed opens to itself, and any
//! single flipped bit or cut makes it fail to open; arbitrary bytes as a rollup chunk decode
//! to buckets or nothing, and decoded buckets survive encode → decode.
#![no_main]

use hearth_vault::fuzzing::{decode_buckets, encode_buckets, open_chunk, seal_chunk};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    assert_eq!(open_chunk(data), None, "random bytes opened");

    let Some((&pick, payload)) = data.split_first() else {
        return;
    };
    let sealed = seal_chunk(payload).expect("sealing works");
    assert_eq!(open_chunk(&sealed).as_deref(), Some(payload));
    let mut bad = sealed.clone();
    let at = usize::from(pick) * bad.len() / 256;
    bad[at] ^= 1 << (pick % 8);
    assert_eq!(open_chunk(&bad), None, "a flipped bit opened");
    let cut = usize::from(pick) * sealed.len() / 256;
    assert_eq!(open_chunk(&sealed[..cut]), None, "a cut record opened");

    if let Some(buckets) = decode_buckets(data) {
        assert_eq!(decode_buckets(&encode_buckets(&buckets)), Some(buckets));
    }
});
