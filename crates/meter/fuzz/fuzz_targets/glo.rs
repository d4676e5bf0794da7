//! Fuzzes the general-glo-ciphering parser and decryption: errors, never panics.
#![no_main]

use hearth_meter::glo::{self, Key};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = Key::new([7; 16]);
    let _ = glo::frame_len(data);
    let _ = glo::decrypt(data, &key, Some(&key));
    let _ = glo::decrypt(data, &key, None);
});
