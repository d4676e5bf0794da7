//! Fuzzes protocol detection and every decoder behind it: no panic on any bytes.
#![no_main]

use hearth_meter::Decoder;
use hearth_meter::auto::AutoDecoder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut d = AutoDecoder::new();
    for chunk in data.chunks(97) {
        d.push(chunk);
        while d.next().is_some() {}
    }
});
