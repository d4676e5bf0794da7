//! Keys: a random 256-bit data key seals everything; it is stored only wrapped (sealed) by a
//! key derived from the passphrase with Argon2id, whose parameters and salt sit in the header.
//! Changing the passphrase rewraps the data key and touches nothing else. Key material lives
//! in zeroizing buffers and is wiped when dropped.
//!
//! Key slots: besides the passphrase, the data key may also be wrapped under a random 256-bit
//! secret kept outside the file (the OS keyring), for unattended collection. A random secret
//! needs no key stretching: it is sealed directly with XChaCha20-Poly1305.

use crate::error::{Result, VaultError};
use crate::seal::{Aad, RecordKind, Sealer};
use zeroize::Zeroizing;

/// Argon2id cost parameters, stored in the vault header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for KdfParams {
    /// 64 MiB, 3 passes, 1 lane: about half a second on a laptop, memory-hard against GPUs.
    fn default() -> Self {
        KdfParams {
            memory_kib: 64 * 1024,
            iterations: 3,
            parallelism: 1,
        }
    }
}

impl KdfParams {
    /// Deliberately weak parameters for tests and benches only (8 KiB, 1 pass).
    pub const INSECURE_FOR_TESTS: KdfParams = KdfParams {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    };

    /// Derives the 256-bit passphrase key.
    pub(crate) fn derive(&self, passphrase: &str, salt: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
        let params =
            argon2::Params::new(self.memory_kib, self.iterations, self.parallelism, Some(32))
                .map_err(|e| VaultError::KdfParams(e.to_string()))?;
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(passphrase.as_bytes(), salt, out.as_mut())
            .map_err(|e| VaultError::KdfParams(e.to_string()))?;
        Ok(out)
    }
}

/// Random bytes from the operating system.
pub(crate) fn random<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|_| VaultError::Random)?;
    Ok(b)
}

fn wrap_aad(vault_id: &[u8; 16]) -> Aad<'_> {
    Aad {
        vault_id,
        kind: RecordKind::WrappedKey,
        series: 0,
        resolution: 0,
        window_start: 0,
        name: b"data-key",
    }
}

/// Seals the data key under the passphrase key.
pub(crate) fn wrap(
    vault_id: &[u8; 16],
    data_key: &[u8; 32],
    passphrase: &str,
    params: &KdfParams,
    salt: &[u8; 16],
) -> Result<Vec<u8>> {
    let kek = params.derive(passphrase, salt)?;
    Sealer::new(&kek).seal(&wrap_aad(vault_id), data_key)
}

/// Opens the wrapped data key; a failure can only mean the passphrase is wrong (or the
/// header was tampered with, which we cannot tell apart and report the same way).
pub(crate) fn unwrap(
    vault_id: &[u8; 16],
    wrapped: &[u8],
    passphrase: &str,
    params: &KdfParams,
    salt: &[u8],
) -> Result<Zeroizing<[u8; 32]>> {
    let kek = params.derive(passphrase, salt)?;
    let plain = Sealer::new(&kek)
        .open(&wrap_aad(vault_id), wrapped)
        .ok_or(VaultError::WrongPassphrase)?;
    let key: [u8; 32] = plain[..]
        .try_into()
        .map_err(|_| VaultError::WrongPassphrase)?;
    Ok(Zeroizing::new(key))
}

/// The one slot kind so far: the secret lives in the OS keyring.
pub(crate) const KEYRING_SLOT: &str = "keyring";

fn slot_aad<'a>(vault_id: &'a [u8; 16], slot: &'a str) -> Aad<'a> {
    Aad {
        vault_id,
        kind: RecordKind::KeySlot,
        series: 0,
        resolution: 0,
        window_start: 0,
        name: slot.as_bytes(),
    }
}

/// Seals the data key under a slot's random secret, bound to the vault and the slot kind.
pub(crate) fn wrap_for_slot(
    vault_id: &[u8; 16],
    slot: &str,
    data_key: &[u8; 32],
    secret: &[u8; 32],
) -> Result<Vec<u8>> {
    Sealer::new(secret).seal(&slot_aad(vault_id, slot), data_key)
}

/// Opens a slot's wrapped data key; a failure means the secret is not this slot's.
pub(crate) fn unwrap_from_slot(
    vault_id: &[u8; 16],
    slot: &str,
    wrapped: &[u8],
    secret: &[u8; 32],
) -> Result<Zeroizing<[u8; 32]>> {
    let plain = Sealer::new(secret)
        .open(&slot_aad(vault_id, slot), wrapped)
        .ok_or(VaultError::WrongSecret)?;
    let key: [u8; 32] = plain[..].try_into().map_err(|_| VaultError::WrongSecret)?;
    Ok(Zeroizing::new(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passphrase_key_is_deterministic_and_a_wrong_passphrase_is_typed() {
        let p = KdfParams::INSECURE_FOR_TESTS;
        let a = p.derive("correct horse", b"0123456789abcdef").unwrap();
        let b = p.derive("correct horse", b"0123456789abcdef").unwrap();
        let c = p.derive("correct hors", b"0123456789abcdef").unwrap();
        assert_eq!(*a, *b);
        assert_ne!(*a, *c);
        let id = [9u8; 16];
        let salt = [3u8; 16];
        let dk = [42u8; 32];
        let w = wrap(&id, &dk, "pw", &p, &salt).unwrap();
        assert_eq!(*unwrap(&id, &w, "pw", &p, &salt).unwrap(), dk);
        assert!(matches!(
            unwrap(&id, &w, "pW", &p, &salt),
            Err(VaultError::WrongPassphrase)
        ));
        assert!(matches!(
            unwrap(&[8; 16], &w, "pw", &p, &salt),
            Err(VaultError::WrongPassphrase)
        ));
        let bad = KdfParams { memory_kib: 1, ..p };
        // Slots: the same data key under a random secret, bound to vault and slot kind.
        let secret = [77u8; 32];
        let ws = wrap_for_slot(&id, KEYRING_SLOT, &dk, &secret).unwrap();
        assert_eq!(
            *unwrap_from_slot(&id, KEYRING_SLOT, &ws, &secret).unwrap(),
            dk
        );
        for (vid, slot, sec) in [
            ([8u8; 16], KEYRING_SLOT, secret),
            (id, "other", secret),
            (id, KEYRING_SLOT, [78u8; 32]),
        ] {
            assert!(matches!(
                unwrap_from_slot(&vid, slot, &ws, &sec),
                Err(VaultError::WrongSecret)
            ));
        }
        // The passphrase-wrapped key is not a slot and vice versa (different record kind).
        assert!(unwrap_from_slot(&id, KEYRING_SLOT, &w, &secret).is_err());
        assert!(matches!(
            bad.derive("pw", &salt),
            Err(VaultError::KdfParams(_))
        ));
    }
}
