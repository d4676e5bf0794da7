//! Fuzzes the chunk codec's decoder on arbitrary bytes: a typed error or readings, never a
//! panic or a huge allocation (run with `-malloc_limit_mb`). Whatever decodes must survive
//! encode → decode unchanged (the encoder may pick other codings, the readings stay).
#![no_main]

use hearth_vault::codec::{MAX_READINGS, decode, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(readings) = decode(data) else {
        return;
    };
    assert!(readings.len() <= MAX_READINGS);
    let again = encode(&readings);
    assert_eq!(
        decode(&again).as_ref(),
        Ok(&readings),
        "re-encoded chunk differs"
    );
});
