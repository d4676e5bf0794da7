//! Keys: a random 256-bit data key seals everything; it is stored only wrapped (sealed) by a
//! key derived from the passphrase with Argon2id, whose parameters and salt sit in the header.
//! Changing the passphrase rewraps the data key and touches nothing else. Key material lives
//! in zeroizing buffers on the heap ([`Key`]): it is wiped when dropped, and moving the
//! structures that hold it moves a pointer, leaving no copy behind. Argon2's own state (its
//! hashes and its memory) is wiped too.
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

/// The environment variable that lets tests use key-derivation settings below the floor
/// ([`KdfParams::MINIMUM`]): `HEARTH_INSECURE_TEST_KDF=1`. Test suites only: it makes a
/// stolen copy of such a vault quick to guess. The ceilings hold whatever it says.
pub const INSECURE_TEST_KDF_ENV: &str = "HEARTH_INSECURE_TEST_KDF";

impl KdfParams {
    /// Deliberately weak parameters for tests and benches only (8 KiB, 1 pass). Below the
    /// floor, so accepted only in this crate's tests, with its `test-support` feature, or with
    /// [`INSECURE_TEST_KDF_ENV`] set to `1`.
    pub const INSECURE_FOR_TESTS: KdfParams = KdfParams {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    };

    /// Least memory, in KiB (19 MiB, OWASP's Argon2id minimum).
    pub const MIN_MEMORY_KIB: u32 = 19 * 1024;
    /// Most memory, in KiB (2 GiB): more than a household computer should be asked for; a
    /// header asking more is damaged or hostile.
    pub const MAX_MEMORY_KIB: u32 = 2 * 1024 * 1024;
    /// Fewest passes.
    pub const MIN_ITERATIONS: u32 = 2;
    /// Most passes: 16 passes over 2 GiB is already minutes; `u32::MAX` would never end.
    pub const MAX_ITERATIONS: u32 = 16;
    /// Fewest lanes.
    pub const MIN_PARALLELISM: u32 = 1;
    /// Most lanes.
    pub const MAX_PARALLELISM: u32 = 16;

    /// The weakest settings Hearth accepts without [`INSECURE_TEST_KDF_ENV`]: 19 MiB, 2 passes,
    /// 1 lane (tens of milliseconds; for small machines and throwaway vaults such as the demo).
    pub const MINIMUM: KdfParams = KdfParams {
        memory_kib: Self::MIN_MEMORY_KIB,
        iterations: Self::MIN_ITERATIONS,
        parallelism: Self::MIN_PARALLELISM,
    };

    /// Whether a key may be derived with these settings, checked before any derivation
    /// (whether they come from a vault header, a backup header or the user's options):
    /// above the ceilings ([`Self::MAX_MEMORY_KIB`], [`Self::MAX_ITERATIONS`],
    /// [`Self::MAX_PARALLELISM`]) always refused, so a hostile header cannot make Hearth spin
    /// or allocate gigabytes; below the floor ([`Self::MINIMUM`]) refused unless tests allow
    /// it (see [`INSECURE_TEST_KDF_ENV`]); settings Argon2 cannot use at all (no pass, no
    /// lane, less than 8 KiB per lane) always refused.
    pub fn check(&self) -> Result<()> {
        let (m, t, p) = (self.memory_kib, self.iterations, self.parallelism);
        if m > Self::MAX_MEMORY_KIB || t > Self::MAX_ITERATIONS || p > Self::MAX_PARALLELISM {
            return Err(VaultError::KdfTooCostly {
                memory_kib: m,
                iterations: t,
                parallelism: p,
            });
        }
        let unusable = t == 0 || p == 0 || m < 8 * p;
        let weak = m < Self::MIN_MEMORY_KIB || t < Self::MIN_ITERATIONS;
        if unusable || (weak && !self.weak_allowed_for_tests()) {
            return Err(VaultError::KdfTooWeak {
                memory_kib: m,
                iterations: t,
                parallelism: p,
            });
        }
        Ok(())
    }

    /// The test-only escape below the floor: [`Self::INSECURE_FOR_TESTS`] exactly, in a test
    /// build of this crate or with the `test-support` feature; any usable settings with
    /// [`INSECURE_TEST_KDF_ENV`]`=1` (how the CLI's tests run the real binary).
    fn weak_allowed_for_tests(&self) -> bool {
        (cfg!(any(test, feature = "test-support")) && *self == Self::INSECURE_FOR_TESTS)
            || std::env::var_os(INSECURE_TEST_KDF_ENV).is_some_and(|v| v == "1")
    }

    /// Whether a key may be derived to open an existing header: the ceilings and Argon2's own
    /// limits as in [`Self::check`], but not the floor. A vault an older build made with
    /// weaker settings still opens (deriving with weak settings costs nothing, and lowering
    /// a header's settings does not unwrap its key); a writer opening it with the passphrase
    /// then wraps its key again at [`KdfParams::default`].
    pub(crate) fn check_existing(&self) -> Result<()> {
        match self.check() {
            Err(VaultError::KdfTooWeak { .. }) => {
                let (m, t, p) = (self.memory_kib, self.iterations, self.parallelism);
                if t == 0 || p == 0 || m < 8 * p {
                    self.check()
                } else {
                    Ok(())
                }
            }
            other => other,
        }
    }

    /// Derives the 256-bit passphrase key, after [`Self::check_existing`] (new wrappings
    /// check [`Self::check`] first). Argon2's working memory is
    /// ours ([`Zeroizing`]), so it is wiped afterwards like Argon2's own hashes (its `zeroize`
    /// feature): the key could otherwise be recomputed from what is left in freed memory.
    pub(crate) fn derive(&self, passphrase: &str, salt: &[u8]) -> Result<Key> {
        self.check_existing()?;
        let params =
            argon2::Params::new(self.memory_kib, self.iterations, self.parallelism, Some(32))
                .map_err(|e| VaultError::KdfParams(e.to_string()))?;
        let mut memory = Zeroizing::new(vec![argon2::Block::default(); params.block_count()]);
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = zeroed_key();
        argon
            .hash_password_into_with_memory(
                passphrase.as_bytes(),
                salt,
                &mut out[..],
                &mut memory[..],
            )
            .map_err(|e| VaultError::KdfParams(e.to_string()))?;
        Ok(out)
    }
}

/// A 256-bit key (data key, passphrase key): on the heap, wiped when dropped.
pub(crate) type Key = Box<Zeroizing<[u8; 32]>>;

/// A zeroed [`Key`] to fill in place (never built on the stack and moved).
pub(crate) fn zeroed_key() -> Key {
    Box::new(Zeroizing::new([0u8; 32]))
}

/// A new random [`Key`], filled in place.
pub(crate) fn random_key() -> Result<Key> {
    let mut key = zeroed_key();
    getrandom::fill(&mut key[..]).map_err(|_| VaultError::Random)?;
    Ok(key)
}

/// A second [`Key`] holding the same bytes (for another handle on the vault).
pub(crate) fn copy_key(key: &[u8; 32]) -> Key {
    let mut copy = zeroed_key();
    copy.copy_from_slice(key);
    copy
}

/// A key for one purpose derived from the data key: keyed BLAKE2b-256 with the purpose as its
/// personalisation (at most 16 bytes), so the manifest's MAC key and the setting-name key
/// reveal nothing of the data key or of each other.
pub(crate) fn subkey(data_key: &[u8; 32], purpose: &[u8]) -> Key {
    use blake2::digest::{FixedOutput, Update, consts::U32};
    let mut mac =
        blake2::Blake2bMac::<U32>::new_with_salt_and_personal(Some(data_key), b"", purpose)
            .expect("a 32-byte key and a purpose of at most 16 bytes");
    mac.update(b"hearth subkey");
    let mut key = zeroed_key();
    key.copy_from_slice(&mac.finalize_fixed());
    key
}

/// A [`Key`] from a 32-byte opened plaintext; `None` if it is not 32 bytes.
fn key_from(plain: &[u8]) -> Option<Key> {
    if plain.len() != 32 {
        return None;
    }
    let mut key = zeroed_key();
    key.copy_from_slice(plain);
    Some(key)
}

/// Random bytes from the operating system.
pub(crate) fn random<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|_| VaultError::Random)?;
    Ok(b)
}

fn wrap_aad(vault_id: &[u8; 16]) -> Aad<'_> {
    Aad {
        format: 1,
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
    // A new wrapping is never below the floor.
    params.check()?;
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
) -> Result<Key> {
    let kek = params.derive(passphrase, salt)?;
    let plain = Sealer::new(&kek)
        .open(&wrap_aad(vault_id), wrapped)
        .ok_or(VaultError::WrongPassphrase)?;
    key_from(&plain).ok_or(VaultError::WrongPassphrase)
}

/// The one slot kind so far: the secret lives in the OS keyring.
pub(crate) const KEYRING_SLOT: &str = "keyring";

fn slot_aad<'a>(vault_id: &'a [u8; 16], slot: &'a str) -> Aad<'a> {
    Aad {
        format: 1,
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
) -> Result<Key> {
    let plain = Sealer::new(secret)
        .open(&slot_aad(vault_id, slot), wrapped)
        .ok_or(VaultError::WrongSecret)?;
    key_from(&plain).ok_or(VaultError::WrongSecret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation_in_our_own_wiped_memory_gives_argon2s_usual_key() {
        // The same key as Argon2's own `hash_password_into` (which allocates and frees its
        // memory unwiped), so vaults made before open as before.
        let salt = b"0123456789abcdef";
        for kdf in [KdfParams::INSECURE_FOR_TESTS, KdfParams::MINIMUM] {
            let params =
                argon2::Params::new(kdf.memory_kib, kdf.iterations, kdf.parallelism, Some(32))
                    .unwrap();
            let mut want = [0u8; 32];
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
                .hash_password_into(b"correct horse", salt, &mut want)
                .unwrap();
            assert_eq!(**kdf.derive("correct horse", salt).unwrap(), want);
        }
    }

    #[test]
    fn keys_are_filled_in_place_and_copied_exactly() {
        let a = random_key().unwrap();
        let b = random_key().unwrap();
        assert_ne!(**a, **b);
        assert_eq!(**copy_key(&a), **a);
        assert_eq!(key_from(&[7u8; 32]).map(|k| **k), Some([7u8; 32]));
        assert!(key_from(&[7u8; 31]).is_none());
        assert!(key_from(&[7u8; 33]).is_none());
    }

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
        assert_eq!(**unwrap(&id, &w, "pw", &p, &salt).unwrap(), dk);
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
            **unwrap_from_slot(&id, KEYRING_SLOT, &ws, &secret).unwrap(),
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
            Err(VaultError::KdfTooWeak {
                memory_kib: 1,
                iterations: 1,
                parallelism: 1
            })
        ));
    }
}
