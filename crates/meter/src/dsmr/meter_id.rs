//! The meter's equipment identifier (`0-0:96.1.1` and kin): hex of ASCII on DSMR 4+, clear
//! text on older meters, decoded once per stream and reused while its bytes repeat.

use super::value::hex_digit;
use crate::reading::MeterId;

/// The last meter id read and the bytes it came from: a stream repeats the same id every
/// telegram, so decoding it (and allocating for it) once is enough.
#[derive(Clone, Debug, Default)]
pub(super) struct IdCache {
    bytes: Vec<u8>,
    id: Option<MeterId>,
    /// Whether to remember ids (not for one telegram alone).
    remember: bool,
}

impl IdCache {
    /// A cache that remembers the last id, for a stream.
    pub(super) fn remembering() -> Self {
        IdCache {
            remember: true,
            ..IdCache::default()
        }
    }

    pub(super) fn get(&mut self, text: &[u8]) -> MeterId {
        if let Some(id) = &self.id
            && self.bytes == text
        {
            return id.clone();
        }
        let id = meter_id_of(text);
        if self.remember {
            self.bytes.clear();
            self.bytes.extend_from_slice(text);
            self.id = Some(id.clone());
        }
        id
    }
}

/// [`equipment_id`] as a [`MeterId`], with one allocation for the usual hex of up to 64
/// printable characters.
fn meter_id_of(text: &[u8]) -> MeterId {
    let mut buf = [0u8; 64];
    if !text.is_empty() && text.len().is_multiple_of(2) && text.len() <= 2 * buf.len() {
        let printable = text.chunks_exact(2).zip(buf.iter_mut()).all(|(p, out)| {
            match (hex_digit(p[0]), hex_digit(p[1])) {
                (Some(h), Some(l)) if (0x20..0x7F).contains(&(h << 4 | l)) => {
                    *out = h << 4 | l;
                    true
                }
                _ => false,
            }
        });
        if printable && let Ok(s) = std::str::from_utf8(&buf[..text.len() / 2]) {
            return MeterId::from(s);
        }
    }
    MeterId::new(equipment_id(text))
}

/// Decodes an equipment identifier: DSMR 4+ send it as hex of ASCII; older meters and some
/// variants send it in clear.
fn equipment_id(text: &[u8]) -> String {
    if text.len().is_multiple_of(2) && !text.is_empty() {
        let mut out = Vec::with_capacity(text.len() / 2);
        let printable = text
            .chunks_exact(2)
            .all(|p| match (hex_digit(p[0]), hex_digit(p[1])) {
                (Some(h), Some(l)) if (0x20..0x7F).contains(&(h << 4 | l)) => {
                    out.push(h << 4 | l);
                    true
                }
                _ => false,
            });
        if printable && let Ok(s) = String::from_utf8(out) {
            return s;
        }
    }
    String::from_utf8_lossy(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meter_ids_equal_the_equipment_id_text() {
        for id in [
            &b"4B384547303034303436333935353037"[..],
            b"00000000000000",
            b"ADC3100000158491",
            b"09610",
            b"",
            b"4B",
            b"4b38",
        ] {
            assert_eq!(meter_id_of(id).as_str(), equipment_id(id), "{id:?}");
        }
        // Longer than the stack buffer: the general path, same text.
        let long = b"41".repeat(70);
        assert_eq!(meter_id_of(&long).as_str(), "A".repeat(70));
    }

    #[test]
    fn equipment_ids_are_hex_decoded_when_printable() {
        assert_eq!(
            equipment_id(b"4B384547303034303436333935353037"),
            "K8EG004046395507"
        );
        assert_eq!(equipment_id(b"00000000000000"), "00000000000000");
        assert_eq!(equipment_id(b"ADC3100000158491"), "ADC3100000158491");
        assert_eq!(equipment_id(b"09610"), "09610");
    }
}
