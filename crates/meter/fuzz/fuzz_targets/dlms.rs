//! Fuzzes the DLMS/COSEM push decoder: HDLC or M-Bus framing, general-block-transfer, the
//! data-notification APDU, A-XDR values (compact arrays included) and the general-glo-ciphering
//! path. Arbitrary bytes at an arbitrary split never panic, through a decoder without keys
//! and ones holding the public test keys of the Kaifa capture (so seeds from
//! `kaifa_no_list_2.gcm.hdlc` decrypt and the GCM path runs); the same bytes as one
//! information field or APDU go straight to `decode_info` and the A-XDR value parser. And the
//! bytes as an APDU, sent in general-block-transfer blocks of a fuzzer-chosen size (one HDLC
//! frame each), decode to what the APDU decodes to directly.
#![no_main]

#[path = "split.rs"]
mod split;

use hearth_meter::dlms::{DlmsDecoder, axdr, block_transfer};
use hearth_meter::glo::Key;
use hearth_meter::hdlc::encode_frame;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// Encryption key of `tests/fixtures/han/kaifa_no_list_2.gcm.keys` (a published test key).
const EK: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
/// Its authentication key.
const AK: [u8; 16] = [
    0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF,
];

/// Decoder 0 has no keys, 1 both test keys, 2 only the encryption key (no GCM tag check).
fn decoder(i: usize) -> DlmsDecoder {
    match i {
        0 => DlmsDecoder::new(),
        1 => DlmsDecoder::new().with_key(Key::new(EK), Some(Key::new(AK))),
        _ => DlmsDecoder::new().with_key(Key::new(EK), None),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, data)) = data.split_first() else {
        return;
    };
    let at = split::cut(split, data.len());
    // Which framing wins is decided by the first good frame, which may depend on where the
    // bytes are cut (an M-Bus frame that completes first); so no differential here: the
    // framers have their own targets (`hdlc`, `mbus`).
    for i in 0..3 {
        split::run(&mut decoder(i), &[&data[..at], &data[at..]]);
    }

    static DECODERS: OnceLock<[DlmsDecoder; 3]> = OnceLock::new();
    let decoders = DECODERS.get_or_init(|| [decoder(0), decoder(1), decoder(2)]);
    for d in decoders {
        let _ = d.decode_info(data);
    }
    let mut rest = data;
    for _ in 0..64 {
        match axdr::parse_value(rest) {
            Ok((_, r)) if r.len() < rest.len() => rest = r,
            _ => break,
        }
    }

    // General-block-transfer round trip.
    // (An APDU: no LLC header, which belongs to the HDLC information field, not inside a
    // block transfer; and not itself a block transfer.)
    let apdu = &data[..data.len().min(4000)];
    if apdu.is_empty() || apdu[0] == block_transfer::TAG || apdu[0] == 0xE6 {
        return;
    }
    let mut wire = Vec::new();
    for block in block_transfer::encode_blocks(apdu, usize::from(split).max(1)) {
        let mut info = vec![0xE6, 0xE7, 0x00];
        info.extend(block);
        wire.extend(encode_frame(&info));
    }
    for (i, d) in decoders.iter().enumerate() {
        let Ok(direct) = d.decode_info(apdu) else {
            continue;
        };
        let got = split::run(&mut decoder(i), &[&wire]);
        assert!(
            got.contains(&Ok(direct)),
            "block transfer decoded otherwise: {got:?}"
        );
    }
});
