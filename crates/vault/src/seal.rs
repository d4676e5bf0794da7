//! Sealing: every record the vault stores is padded to a size class and encrypted with
//! XChaCha20-Poly1305 under the data key, with associated data that names the record (vault
//! id, kind, series, resolution, time window or setting name). A record copied to another row,
//! another vault or another time fails authentication instead of being read as genuine.
//! Format 2 vaults seal their records under another domain string than format 1, so a record
//! of one format never opens as the other (a format-2 vault whose header is set back to 1 to
//! shed its integrity manifest reads as damaged, not as an older vault).
//!
//! Envelope: `version (1 byte, 0x01) | nonce (24 random bytes) | ciphertext | tag (16)`.
//! Plaintext inside: `length (u32 LE) | payload | zero padding` up to the size class.

use crate::error::{Result, VaultError};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

/// Envelope version byte.
pub(crate) const ENVELOPE_V1: u8 = 1;
/// Bytes added by the envelope: version + nonce + tag.
pub(crate) const OVERHEAD: usize = 1 + 24 + 16;
/// Smallest padded plaintext.
const MIN_CLASS: usize = 64;

/// Which kind of record a sealed blob is; part of the associated data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum RecordKind {
    /// The data key, wrapped by the passphrase key.
    WrappedKey = 1,
    /// A chunk of raw readings or rollup buckets.
    Chunk = 2,
    /// A user setting.
    Setting = 3,
    /// The writer's resumable state.
    WriterState = 4,
    /// The data key wrapped for a key slot (the OS keyring's random secret).
    KeySlot = 5,
    /// The sealed root of the integrity manifest (format 2).
    ManifestRoot = 6,
}

/// The identity a sealed record is bound to.
pub(crate) struct Aad<'a> {
    /// The vault format the record belongs to (1 or 2): picks the domain string. Key
    /// wrapping uses 1 in every format.
    pub format: u32,
    pub vault_id: &'a [u8; 16],
    pub kind: RecordKind,
    pub series: u32,
    pub resolution: u8,
    pub window_start: i64,
    pub name: &'a [u8],
}

impl Aad<'_> {
    fn bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(48 + self.name.len());
        v.extend_from_slice(if self.format >= 2 {
            b"hearth-vault-v2\0"
        } else {
            b"hearth-vault-v1\0"
        });
        v.extend_from_slice(self.vault_id);
        v.push(self.kind as u8);
        v.extend_from_slice(&self.series.to_le_bytes());
        v.push(self.resolution);
        v.extend_from_slice(&self.window_start.to_le_bytes());
        v.extend_from_slice(self.name);
        v
    }
}

/// The padded plaintext size for a payload of `len` bytes: at least 64, then rounded up to
/// the next multiple of 1/8 of the payload's power of two, so the sealed length reveals only
/// the order of magnitude of the compressed size (at most 12.5 % padding).
pub(crate) fn size_class(len: usize) -> usize {
    let framed = len + 4;
    if framed <= MIN_CLASS {
        return MIN_CLASS;
    }
    let top = usize::BITS - 1 - framed.leading_zeros();
    let step = 1usize << top.saturating_sub(3);
    framed.div_ceil(step) * step
}

/// A cipher keyed with the vault's data key. The cipher (which holds the key) is on the heap
/// and wiped when dropped (`chacha20poly1305`'s `zeroize` feature), so moving a `Sealer`, or
/// the vault holding one, leaves no copy of the key behind.
pub(crate) struct Sealer {
    cipher: Box<XChaCha20Poly1305>,
}

impl Sealer {
    pub(crate) fn new(key: &[u8; 32]) -> Self {
        Sealer {
            cipher: Box::new(XChaCha20Poly1305::new(key.into())),
        }
    }

    /// Pads and encrypts `payload` bound to `aad`.
    pub(crate) fn seal(&self, aad: &Aad<'_>, payload: &[u8]) -> Result<Vec<u8>> {
        let class = size_class(payload.len());
        let len = u32::try_from(payload.len()).map_err(|_| VaultError::Damaged {
            what: "record larger than 4 GiB".into(),
        })?;
        let mut padded = Zeroizing::new(Vec::with_capacity(class));
        padded.extend_from_slice(&len.to_le_bytes());
        padded.extend_from_slice(payload);
        padded.resize(class, 0);
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce).map_err(|_| VaultError::Random)?;
        let aad_bytes = aad.bytes();
        let ct = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &padded,
                    aad: &aad_bytes,
                },
            )
            .map_err(|_| VaultError::Damaged {
                what: "encryption failed".into(),
            })?;
        let mut out = Vec::with_capacity(1 + 24 + ct.len());
        out.push(ENVELOPE_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Authenticates and decrypts a sealed record; `None` when it is damaged, truncated, of
    /// an unknown version, or bound to another identity.
    pub(crate) fn open(&self, aad: &Aad<'_>, sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if sealed.len() < OVERHEAD + 4 || sealed[0] != ENVELOPE_V1 {
            return None;
        }
        let nonce_bytes: [u8; 24] = sealed[1..25].try_into().ok()?;
        let nonce = &XNonce::from(nonce_bytes);
        let aad_bytes = aad.bytes();
        let plain = Zeroizing::new(
            self.cipher
                .decrypt(
                    nonce,
                    Payload {
                        msg: &sealed[25..],
                        aad: &aad_bytes,
                    },
                )
                .ok()?,
        );
        let len = u32::from_le_bytes(plain.get(..4)?.try_into().ok()?) as usize;
        let payload = plain.get(4..4usize.checked_add(len)?)?;
        Some(Zeroizing::new(payload.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aad(window_start: i64) -> Aad<'static> {
        Aad {
            format: 2,
            vault_id: &[7; 16],
            kind: RecordKind::Chunk,
            series: 0,
            resolution: 0,
            window_start,
            name: b"",
        }
    }

    #[test]
    fn size_classes_hide_small_differences() {
        assert_eq!(size_class(0), 64);
        assert_eq!(size_class(60), 64);
        assert_eq!(size_class(61), 72); // 65 framed -> top bit 64, step 8 -> 72
        // 1000 + 4 framed -> top 512, step 64 -> 1024.
        assert_eq!(size_class(1000), 1024);
        assert_eq!(size_class(1020), 1024);
        assert_eq!(size_class(1021), 1152); // 1025 framed -> top 1024, step 128
        for n in [1usize, 100, 5000, 70_000] {
            let c = size_class(n);
            assert!(
                c >= n + 4 && (c == 64 || c * 8 <= (n + 4) * 9 + 8),
                "{n} -> {c}"
            );
        }
    }

    #[test]
    fn round_trip_and_every_tamper_is_detected() {
        let s = Sealer::new(&[1; 32]);
        let sealed = s.seal(&aad(3600), b"hello meter").unwrap();
        assert_eq!(sealed.len(), OVERHEAD + 64);
        assert_eq!(&s.open(&aad(3600), &sealed).unwrap()[..], b"hello meter");
        // Moved to another hour.
        assert!(s.open(&aad(7200), &sealed).is_none());
        // The same identity in the other format.
        let mut v1 = aad(3600);
        v1.format = 1;
        assert!(s.open(&v1, &sealed).is_none());
        // Another key.
        assert!(Sealer::new(&[2; 32]).open(&aad(3600), &sealed).is_none());
        // Any flipped bit.
        for i in [0, 1, 30, sealed.len() - 1] {
            let mut bad = sealed.clone();
            bad[i] ^= 0x10;
            assert!(s.open(&aad(3600), &bad).is_none(), "byte {i}");
        }
        // Truncated.
        assert!(s.open(&aad(3600), &sealed[..40]).is_none());
        assert!(s.open(&aad(3600), &[]).is_none());
        // Two seals of the same data differ (random nonce).
        assert_ne!(
            s.seal(&aad(3600), b"x").unwrap(),
            s.seal(&aad(3600), b"x").unwrap()
        );
    }
}
