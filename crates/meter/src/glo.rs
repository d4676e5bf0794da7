//! DLMS general-glo-ciphering: AES-128-GCM frames (Luxembourg Smarty, encrypted HAN ports).
//!
//! A ciphered APDU looks like this (DLMS Green Book, "general-glo-ciphering", tag 0xDB):
//!
//! ```text
//! DB | 08 | system title (8) | length (BER) | SC (1) | frame counter (4) | ciphertext | tag (12)
//! ```
//!
//! `length` counts everything after it (SC, counter, ciphertext, tag). The security control
//! byte `SC` says what protects the frame: bit 0x10 authentication, bit 0x20 encryption (so
//! 0x30 is both, what Smarty and most HAN ports send); its low nibble names the security suite
//! (0 = AES-128-GCM). The GCM nonce is system title ‖ frame counter, the authentication tag is
//! 12 bytes, and the associated data is SC ‖ authentication key (AK).
//!
//! [`parse`] reads the header without a key (system title and frame counter are public);
//! [`decrypt`] (or [`GloFrame::decrypt`]) checks the tag and returns the plaintext APDU.
//! Passing no authentication key decrypts without checking the tag: use it only when the
//! utility gave out the encryption key alone, and validate the plaintext by its own checksum.

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::aes::Aes128;
use aes_gcm::aes::cipher::{Array, BlockCipherEncrypt};
use aes_gcm::{AesGcm, Tag};
use std::fmt;

/// The first byte of a general-glo-ciphering APDU.
pub const TAG_GENERAL_GLO_CIPHERING: u8 = 0xDB;
/// Length of the GCM authentication tag DLMS uses.
pub const AUTH_TAG_LEN: usize = 12;
/// Security control bit: the frame carries an authentication tag.
pub const SC_AUTHENTICATED: u8 = 0x10;
/// Security control bit: the payload is encrypted.
pub const SC_ENCRYPTED: u8 = 0x20;

/// The authentication key Luxembourg Smarty meters use for the associated data when the
/// utility hands out only the encryption key (`00112233445566778899AABBCCDDEEFF`).
pub const SMARTY_AUTH_KEY: Key = Key([
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF,
]);

/// AES-128-GCM with DLMS's 96-bit nonce and 12-byte tag.
type DlmsGcm = AesGcm<Aes128, U12, U12>;

/// A 128-bit key (the utility's encryption key or authentication key). `Debug` never shows it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Key(pub [u8; 16]);

impl Key {
    /// Wraps 16 raw bytes.
    pub const fn new(bytes: [u8; 16]) -> Self {
        Key(bytes)
    }

    /// Reads a key written as 32 hexadecimal digits (upper or lower case; spaces, `:` and a
    /// leading `0x` are ignored, as utilities print keys in many ways).
    pub fn from_hex(text: &str) -> Result<Key, GloError> {
        let text = text.trim();
        let text = text
            .strip_prefix("0x")
            .or_else(|| text.strip_prefix("0X"))
            .unwrap_or(text);
        let mut out = [0u8; 16];
        let mut n = 0usize;
        let mut high: Option<u8> = None;
        for c in text.bytes() {
            if c == b' ' || c == b':' || c == b'-' {
                continue;
            }
            let v = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return Err(GloError::KeyFormat),
            };
            match high.take() {
                None => high = Some(v),
                Some(h) => {
                    if n >= 16 {
                        return Err(GloError::KeyFormat);
                    }
                    out[n] = h << 4 | v;
                    n += 1;
                }
            }
        }
        if n != 16 || high.is_some() {
            return Err(GloError::KeyFormat);
        }
        Ok(Key(out))
    }

    /// The raw key bytes.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(…)")
    }
}

/// Why a ciphered frame could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GloError {
    /// The bytes do not start with 0xDB.
    #[error("not an encrypted DLMS frame (starts with 0x{0:02X}, expected 0xDB)")]
    NotGlo(u8),
    /// The frame ends before its header or before the length it announces.
    #[error("the encrypted frame is cut short ({got} of {needed} bytes)")]
    Truncated {
        /// Bytes the header says the frame has.
        needed: usize,
        /// Bytes that were there.
        got: usize,
    },
    /// The system title or length field is malformed.
    #[error("the encrypted frame's header is malformed ({0})")]
    Header(&'static str),
    /// A security control byte this reader does not handle (compression, another suite,
    /// neither encrypted nor authenticated).
    #[error("the encrypted frame uses security control 0x{0:02X}, which is not supported")]
    UnsupportedSecurity(u8),
    /// The authentication tag did not match: wrong key(s), or damaged bytes.
    #[error("the frame failed authentication: the key is wrong or the bytes were damaged")]
    Authentication,
    /// A key that is not 32 hexadecimal digits.
    #[error("a meter key is 32 hexadecimal digits (16 bytes)")]
    KeyFormat,
}

/// The header and body of one general-glo-ciphering APDU, borrowed from the input.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct GloFrame<'a> {
    /// The sender's system title (manufacturer code and serial number; personal data).
    pub system_title: [u8; 8],
    /// The security control byte (0x30 = authenticated and encrypted).
    pub security_control: u8,
    /// The invocation (frame) counter: goes up with every frame.
    pub frame_counter: u32,
    /// The ciphertext (or plaintext, if only authenticated), without the tag.
    pub ciphertext: &'a [u8],
    /// The 12-byte authentication tag, empty when the frame is not authenticated.
    pub auth_tag: &'a [u8],
    /// How many bytes of the input this APDU occupies (header included).
    pub len: usize,
}

impl fmt::Debug for GloFrame<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GloFrame")
            .field(
                "security_control",
                &format_args!("0x{:02X}", self.security_control),
            )
            .field("frame_counter", &self.frame_counter)
            .field("ciphertext_len", &self.ciphertext.len())
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// How many bytes a general-glo-ciphering APDU at the start of `bytes` occupies, once enough
/// of its header is there: `Ok(None)` means "need more bytes to tell". Used by streaming
/// framers to know where a frame ends.
pub fn frame_len(bytes: &[u8]) -> Result<Option<usize>, GloError> {
    let Some(&first) = bytes.first() else {
        return Ok(None);
    };
    if first != TAG_GENERAL_GLO_CIPHERING {
        return Err(GloError::NotGlo(first));
    }
    let Some(&title_len) = bytes.get(1) else {
        return Ok(None);
    };
    if title_len != 8 {
        return Err(GloError::Header("system title is not 8 bytes"));
    }
    let at = 10;
    let Some(&l0) = bytes.get(at) else {
        return Ok(None);
    };
    let (len, len_bytes) = match l0 {
        0..=0x7F => (usize::from(l0), 1),
        0x81 => match bytes.get(at + 1) {
            Some(&b) => (usize::from(b), 2),
            None => return Ok(None),
        },
        0x82 => match bytes.get(at + 1..at + 3) {
            Some(b) => (usize::from(b[0]) << 8 | usize::from(b[1]), 3),
            None => return Ok(None),
        },
        _ => return Err(GloError::Header("length field is not 1 to 3 bytes")),
    };
    if len < 5 {
        return Err(GloError::Header(
            "length shorter than security byte and counter",
        ));
    }
    Ok(Some(at + len_bytes + len))
}

/// Reads the header of a general-glo-ciphering APDU (no key needed). Bytes after the APDU
/// are ignored; [`GloFrame::len`] says where it ended.
pub fn parse(apdu: &[u8]) -> Result<GloFrame<'_>, GloError> {
    let total = match frame_len(apdu)? {
        Some(n) => n,
        None => {
            return Err(GloError::Truncated {
                needed: 16,
                got: apdu.len(),
            });
        }
    };
    let Some(frame) = apdu.get(..total) else {
        return Err(GloError::Truncated {
            needed: total,
            got: apdu.len(),
        });
    };
    let mut system_title = [0u8; 8];
    system_title.copy_from_slice(&frame[2..10]);
    let len_bytes = match frame[10] {
        0x81 => 2,
        0x82 => 3,
        _ => 1,
    };
    let body = &frame[10 + len_bytes..];
    let security_control = body[0];
    let frame_counter = u32::from_be_bytes([body[1], body[2], body[3], body[4]]);
    let rest = &body[5..];
    // Bit 0x80 is compression (not supported); bit 0x40 picks the broadcast key (same
    // cipher); suites 0 and 1 are both AES-128-GCM.
    if security_control & 0x80 != 0 || security_control & 0x0F > 1 {
        return Err(GloError::UnsupportedSecurity(security_control));
    }
    let (ciphertext, auth_tag) = match security_control & 0x30 {
        0x30 | SC_AUTHENTICATED => {
            if rest.len() < AUTH_TAG_LEN {
                return Err(GloError::Header("shorter than its authentication tag"));
            }
            rest.split_at(rest.len() - AUTH_TAG_LEN)
        }
        SC_ENCRYPTED => (rest, &rest[rest.len()..]),
        _ => return Err(GloError::UnsupportedSecurity(security_control)),
    };
    Ok(GloFrame {
        system_title,
        security_control,
        frame_counter,
        ciphertext,
        auth_tag,
        len: total,
    })
}

impl GloFrame<'_> {
    /// The GCM nonce: system title ‖ frame counter.
    pub fn nonce(&self) -> [u8; 12] {
        let mut iv = [0u8; 12];
        iv[..8].copy_from_slice(&self.system_title);
        iv[8..].copy_from_slice(&self.frame_counter.to_be_bytes());
        iv
    }

    /// Checks the tag (when the frame has one and `auth_key` is given) and returns the
    /// plaintext APDU. With `auth_key = None` the tag is not checked: the caller must
    /// validate the plaintext another way (DSMR CRC, a DLMS structure that parses).
    pub fn decrypt(&self, key: &Key, auth_key: Option<&Key>) -> Result<Vec<u8>, GloError> {
        let sc = self.security_control;
        let authenticated = sc & SC_AUTHENTICATED != 0;
        let encrypted = sc & SC_ENCRYPTED != 0;
        match (authenticated, auth_key) {
            (true, Some(ak)) => {
                let cipher = DlmsGcm::new(&Array::from(key.0));
                let nonce = Array::from(self.nonce());
                let tag =
                    Tag::<U12>::try_from(self.auth_tag).map_err(|_| GloError::Authentication)?;
                let mut aad =
                    Vec::with_capacity(17 + if encrypted { 0 } else { self.ciphertext.len() });
                aad.push(sc);
                aad.extend_from_slice(&ak.0);
                if encrypted {
                    let mut buf = self.ciphertext.to_vec();
                    cipher
                        .decrypt_inout_detached(&nonce, &aad, buf.as_mut_slice().into(), &tag)
                        .map_err(|_| GloError::Authentication)?;
                    Ok(buf)
                } else {
                    // Authentication only: the data is plaintext and part of the AAD.
                    aad.extend_from_slice(self.ciphertext);
                    let mut empty: [u8; 0] = [];
                    cipher
                        .decrypt_inout_detached(&nonce, &aad, empty.as_mut_slice().into(), &tag)
                        .map_err(|_| GloError::Authentication)?;
                    Ok(self.ciphertext.to_vec())
                }
            }
            _ if encrypted => Ok(ctr_decrypt(key, &self.nonce(), self.ciphertext)),
            _ => Ok(self.ciphertext.to_vec()),
        }
    }
}

/// GCM's counter-mode keystream alone (counter blocks start at nonce ‖ 00000002), for frames
/// that are encrypted but not authenticated, or whose authentication key is unknown.
fn ctr_decrypt(key: &Key, nonce: &[u8; 12], data: &[u8]) -> Vec<u8> {
    let aes = Aes128::new(&Array::from(key.0));
    let mut out = data.to_vec();
    let mut counter: u32 = 2;
    for chunk in out.chunks_mut(16) {
        let mut block = [0u8; 16];
        block[..12].copy_from_slice(nonce);
        block[12..].copy_from_slice(&counter.to_be_bytes());
        let mut block = Array::from(block);
        aes.encrypt_block(&mut block);
        for (b, k) in chunk.iter_mut().zip(block.iter()) {
            *b ^= k;
        }
        counter = counter.wrapping_add(1);
    }
    out
}

/// Parses and decrypts one general-glo-ciphering APDU (see [`GloFrame::decrypt`]).
pub fn decrypt(apdu: &[u8], key: &Key, auth_key: Option<&Key>) -> Result<Vec<u8>, GloError> {
    parse(apdu)?.decrypt(key, auth_key)
}

/// Seals `plaintext` as a general-glo-ciphering APDU with security control 0x30 (what meters
/// send). For tests and the simulated meter; a real meter does this itself.
pub fn encrypt(
    system_title: [u8; 8],
    frame_counter: u32,
    plaintext: &[u8],
    key: &Key,
    auth_key: &Key,
) -> Vec<u8> {
    let cipher = DlmsGcm::new(&Array::from(key.0));
    let mut iv = [0u8; 12];
    iv[..8].copy_from_slice(&system_title);
    iv[8..].copy_from_slice(&frame_counter.to_be_bytes());
    let nonce = Array::from(iv);
    let sc = SC_AUTHENTICATED | SC_ENCRYPTED;
    let mut aad = [0u8; 17];
    aad[0] = sc;
    aad[1..].copy_from_slice(&auth_key.0);
    let mut body = plaintext.to_vec();
    // Encryption cannot fail below GCM's 64 GiB plaintext limit; an empty tag would only
    // make the frame fail authentication, never panic.
    let tag = cipher
        .encrypt_inout_detached(&nonce, &aad, body.as_mut_slice().into())
        .map(|t| t.to_vec())
        .unwrap_or_default();
    let len = 5 + body.len() + tag.len();
    let mut out = Vec::with_capacity(len + 13);
    out.push(TAG_GENERAL_GLO_CIPHERING);
    out.push(8);
    out.extend_from_slice(&system_title);
    match len {
        0..=0x7F => out.push(len as u8),
        0x80..=0xFF => out.extend_from_slice(&[0x81, len as u8]),
        _ => out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]),
    }
    out.push(sc);
    out.extend_from_slice(&frame_counter.to_be_bytes());
    out.extend_from_slice(&body);
    out.extend_from_slice(&tag);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_from_hex_accepts_common_spellings() {
        let k = Key::from_hex("000102030405060708090a0b0c0d0e0f").unwrap();
        assert_eq!(k.0[15], 0x0F);
        assert_eq!(
            Key::from_hex("0x00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F").unwrap(),
            k
        );
        assert_eq!(Key::from_hex("0001"), Err(GloError::KeyFormat));
        assert_eq!(
            Key::from_hex("zz0102030405060708090a0b0c0d0e0f"),
            Err(GloError::KeyFormat)
        );
        assert_eq!(
            Key::from_hex("000102030405060708090a0b0c0d0e0f00"),
            Err(GloError::KeyFormat)
        );
        assert_eq!(format!("{k:?}"), "Key(…)");
    }

    #[test]
    fn round_trip_and_tamper() {
        let key = Key([7; 16]);
        let ak = Key([9; 16]);
        let sealed = encrypt(*b"ABCDEFGH", 0x0102_0304, b"hello meter", &key, &ak);
        // DB 08 title(8) len SC FC(4) data(11) tag(12): len = 5 + 11 + 12 = 28.
        assert_eq!(sealed.len(), 11 + 28);
        assert_eq!(sealed[10], 28);
        let f = parse(&sealed).unwrap();
        assert_eq!(f.frame_counter, 0x0102_0304);
        assert_eq!(&f.system_title, b"ABCDEFGH");
        assert_eq!(f.decrypt(&key, Some(&ak)).unwrap(), b"hello meter");
        // Without the AK the tag is not checked, the plaintext still comes out.
        assert_eq!(f.decrypt(&key, None).unwrap(), b"hello meter");
        assert_eq!(
            f.decrypt(&Key([8; 16]), Some(&ak)),
            Err(GloError::Authentication)
        );
        assert_eq!(f.decrypt(&key, Some(&key)), Err(GloError::Authentication));
        let mut bad = sealed.clone();
        bad[20] ^= 1;
        assert_eq!(
            decrypt(&bad, &key, Some(&ak)),
            Err(GloError::Authentication)
        );
    }

    #[test]
    fn long_lengths_and_truncation() {
        let key = Key([1; 16]);
        let data = vec![0x5A; 300];
        let sealed = encrypt([0; 8], 1, &data, &key, &key);
        // 5 + 300 + 12 = 317 = 0x013D, written 82 01 3D.
        assert_eq!(&sealed[10..13], &[0x82, 0x01, 0x3D]);
        assert_eq!(frame_len(&sealed), Ok(Some(13 + 317)));
        assert_eq!(decrypt(&sealed, &key, Some(&key)).unwrap(), data);
        for cut in 0..sealed.len() {
            assert!(decrypt(&sealed[..cut], &key, Some(&key)).is_err());
        }
        assert_eq!(frame_len(&sealed[..11]), Ok(None));
        assert_eq!(parse(&[0x7E, 0]), Err(GloError::NotGlo(0x7E)));
    }

    #[test]
    fn unsupported_security_is_an_error() {
        let key = Key([1; 16]);
        let mut sealed = encrypt([0; 8], 1, b"x", &key, &key);
        sealed[11] = 0x32; // suite 2 is AES-256
        assert_eq!(parse(&sealed), Err(GloError::UnsupportedSecurity(0x32)));
        sealed[11] = 0xB0; // compressed
        assert_eq!(parse(&sealed), Err(GloError::UnsupportedSecurity(0xB0)));
        sealed[11] = 0x00; // neither encrypted nor authenticated
        assert_eq!(parse(&sealed), Err(GloError::UnsupportedSecurity(0x00)));
    }
}
