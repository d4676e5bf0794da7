//! Fuzzes the IEC 62056-21 readout decoder (modes A-D): any bytes, cut at a fuzzer-chosen
//! point, never panic and give the same readings and rejections in any split (below the block
//! size limit); the bytes as a data block go straight to `decode_block` too.
#![no_main]

#[path = "split.rs"]
mod split;

use hearth_meter::dlms::default_time_zone;
use hearth_meter::iec62056_21::{Iec62056Decoder, MAX_BLOCK_LEN, decode_block};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    let Some((&split, data)) = data.split_first() else {
        return;
    };
    if data.len() <= MAX_BLOCK_LEN {
        split::same_whatever_the_split(|| Box::new(Iec62056Decoder::new()), split, data);
    } else {
        split::run(&mut Iec62056Decoder::new(), &[data]);
    }
    static TZ: OnceLock<jiff::tz::TimeZone> = OnceLock::new();
    let _ = decode_block(data, TZ.get_or_init(default_time_zone));
});
