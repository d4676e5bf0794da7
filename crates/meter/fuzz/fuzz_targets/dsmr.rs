//! Fuzzes the DSMR framer and telegram parser: any bytes, split at a fuzzer-chosen point,
//! must never panic, must give the same frames in any split, and must keep memory bounded.
#![no_main]

use hearth_meter::Decoder;
use hearth_meter::dsmr::{DsmrDecoder, MAX_FRAME, parse_telegram};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, data)) = data.split_first() else {
        return;
    };
    let _ = parse_telegram(data);
    let mut whole = DsmrDecoder::with_key([0x42; 16]);
    whole.push(data);
    let mut a = Vec::new();
    while let Some(r) = whole.next() {
        a.push(r);
    }
    let cut = usize::from(split) * data.len() / 256;
    let mut parts = DsmrDecoder::with_key([0x42; 16]);
    let mut b = Vec::new();
    for part in [&data[..cut], &data[cut..]] {
        parts.push(part);
        assert!(parts.buffered() <= MAX_FRAME + part.len());
        while let Some(r) = parts.next() {
            b.push(r);
        }
    }
    assert_eq!(a, b);
});
