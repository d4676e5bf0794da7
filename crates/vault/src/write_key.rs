//! The vault's write-only key: an X25519 key pair with which a process that holds no
//! passphrase (the desktop app while locked; later a collector box) seals data it can store
//! but never read back. Only an unlocked vault opens it.
//!
//! # The key pair
//!
//! - The **private half** (with a copy of the public half) is one setting, [`SETTING`],
//!   sealed under the data key like every other setting. Rekeying, `verify`, backups and
//!   anything else that handles settings therefore handle it without knowing about it: after
//!   a rekey the same pair is sealed under the new data key, and what was sealed to it before
//!   still opens.
//! - The **public half** is also kept in the clear, in the table `write_key` (one row), so
//!   that a process without the passphrase can read it ([`Vault::write_key_public`]). It is
//!   not in `key_slot`, which a rekey empties.
//! - [`Vault::create`] makes the pair; opening an older vault as the writer adds one.
//! - Every writer open compares the clear public key with the sealed copy. Someone who can
//!   write the file could otherwise put their own public key there and have everything
//!   sealed while locked sealed to them. A replaced clear key is put back from the sealed
//!   copy and counted ([`Vault::write_key_replacements`]). A missing row is put back without
//!   being counted: a crash between storing the pair and its clear half leaves just that.
//!   Between the replacement and the next writer open, whatever was sealed to the clear key
//!   read from the file (not to the key taken from an unlocked vault) is open to whoever
//!   replaced it, and cannot be opened by the vault (it is counted as lost).
//!
//! # A sealed block
//!
//! `version (1 byte, 0x01) | ephemeral public key (32) | nonce (24) | ciphertext | tag (16)`:
//! 73 bytes more than the payload, which is not padded (whoever stores blocks where their
//! size matters pads them first). Per block: a fresh X25519 key pair, its agreement with the
//! vault's public key, HKDF-SHA256 over the shared secret (salt: the vault id; info: a label
//! and both public keys) giving a one-time XChaCha20-Poly1305 key, a random 24-byte nonce,
//! and associated data naming the vault id and what the block is (a caller's label, e.g.
//! `app.locked-readings`). A shared secret of all zeros (a public key of low order, which
//! anyone could "open") is refused on both sides.
//!
//! Private keys are wiped when dropped (x25519-dalek's `zeroize`); so are the derived
//! one-time keys and ciphers, and the opened payloads.

use crate::error::{Result, VaultError};
use crate::vault::Vault;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use rusqlite::{OptionalExtension, params};
use sha2::Sha256;
use std::path::Path;
use x25519_dalek::StaticSecret;
use zeroize::Zeroizing;

/// The setting that holds the sealed private half (and a copy of the public half).
pub const SETTING: &str = "vault.write_key";

/// The clear table of the public half; created by writer opens (`CREATE TABLE IF NOT EXISTS`).
pub(crate) const TABLE: &str = "
CREATE TABLE IF NOT EXISTS write_key (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    public BLOB NOT NULL
);
";

/// Envelope version byte of a sealed block.
const BLOCK_V1: u8 = 1;
/// Bytes a sealed block adds to its payload: version, ephemeral public key, nonce, tag.
pub const BLOCK_OVERHEAD: usize = 1 + 32 + 24 + 16;
/// Version byte of the sealed private record.
const RECORD_V1: u8 = 1;
/// `version | secret (32) | public (32) | replacements (u32 LE)`.
const RECORD_LEN: usize = 1 + 32 + 32 + 4;
/// HKDF info label (followed by the ephemeral and the vault's public key).
const INFO: &[u8] = b"hearth write-only block v1";
/// Associated-data label (followed by the vault id and the caller's label).
const AAD: &[u8] = b"hearth-write-v1\0";

/// The public half of a vault's write-only key, with the id of the vault it belongs to (part
/// of every block's associated data). Not secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKey {
    vault_id: [u8; 16],
    key: [u8; 32],
}

impl PublicKey {
    /// A public key from its parts (as [`PublicKey::vault_id`] and [`PublicKey::to_bytes`]
    /// give them).
    pub fn from_parts(vault_id: [u8; 16], key: [u8; 32]) -> Self {
        PublicKey { vault_id, key }
    }

    /// The X25519 public key.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.key
    }

    /// The id of the vault whose key this is.
    pub fn vault_id(&self) -> [u8; 16] {
        self.vault_id
    }

    /// [`seal_to`] this key.
    pub fn seal(&self, label: &str, payload: &[u8]) -> Result<Vec<u8>> {
        seal_to(self, label, payload)
    }
}

/// Seals `payload` so that only the vault whose public key this is, unlocked, opens it
/// ([`Vault::open_sealed_block`] with the same `label`). Needs no secret; keeps none.
pub fn seal_to(public: &PublicKey, label: &str, payload: &[u8]) -> Result<Vec<u8>> {
    let recipient = x25519_dalek::PublicKey::from(public.key);
    let ephemeral = secret_from_random()?;
    let ephemeral_public = x25519_dalek::PublicKey::from(&ephemeral);
    let cipher = block_cipher(
        &ephemeral,
        &recipient,
        ephemeral_public.as_bytes(),
        &public.key,
        &public.vault_id,
    )?;
    drop(ephemeral);
    let mut nonce = [0u8; 24];
    getrandom::fill(&mut nonce).map_err(|_| VaultError::Random)?;
    let aad = block_aad(&public.vault_id, label);
    let ct = cipher
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: payload,
                aad: &aad,
            },
        )
        .map_err(|_| VaultError::Damaged {
            what: "encryption failed".into(),
        })?;
    let mut out = Vec::with_capacity(BLOCK_OVERHEAD + payload.len());
    out.push(BLOCK_V1);
    out.extend_from_slice(ephemeral_public.as_bytes());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// A fresh secret from the OS's random bytes.
fn secret_from_random() -> Result<StaticSecret> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    getrandom::fill(&mut bytes[..]).map_err(|_| VaultError::Random)?;
    Ok(StaticSecret::from(*bytes))
}

/// The one-time cipher of a block: HKDF-SHA256 over the agreement of `secret` (the block's
/// ephemeral secret when sealing, the vault's when opening) and `other` (the other side's
/// public key), salted with the vault id, its info naming the block's ephemeral public key and
/// the vault's public key in that order.
fn block_cipher(
    secret: &StaticSecret,
    other: &x25519_dalek::PublicKey,
    ephemeral: &[u8; 32],
    vault_public: &[u8; 32],
    vault_id: &[u8; 16],
) -> Result<XChaCha20Poly1305> {
    let shared = secret.diffie_hellman(other);
    if !shared.was_contributory() {
        return Err(VaultError::Damaged {
            what: "write-only key (a public key of low order)".into(),
        });
    }
    let mut info = Vec::with_capacity(INFO.len() + 64);
    info.extend_from_slice(INFO);
    info.extend_from_slice(ephemeral);
    info.extend_from_slice(vault_public);
    let mut key = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(Some(vault_id), shared.as_bytes())
        .expand(&info, &mut key[..])
        .map_err(|_| VaultError::Damaged {
            what: "key derivation failed".into(),
        })?;
    Ok(XChaCha20Poly1305::new((&*key).into()))
}

fn block_aad(vault_id: &[u8; 16], label: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD.len() + 16 + label.len());
    aad.extend_from_slice(AAD);
    aad.extend_from_slice(vault_id);
    aad.extend_from_slice(label.as_bytes());
    aad
}

/// The key pair as the sealed setting holds it.
struct Pair {
    secret: StaticSecret,
    public: [u8; 32],
    replacements: u32,
}

impl Pair {
    fn new() -> Result<Pair> {
        let secret = secret_from_random()?;
        let public = x25519_dalek::PublicKey::from(&secret).to_bytes();
        Ok(Pair {
            secret,
            public,
            replacements: 0,
        })
    }

    fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut v = Zeroizing::new(Vec::with_capacity(RECORD_LEN));
        v.push(RECORD_V1);
        v.extend_from_slice(self.secret.as_bytes());
        v.extend_from_slice(&self.public);
        v.extend_from_slice(&self.replacements.to_le_bytes());
        v
    }

    /// `None` unless well formed, with the public half matching the private one.
    fn decode(bytes: &[u8]) -> Option<Pair> {
        if bytes.len() != RECORD_LEN || bytes[0] != RECORD_V1 {
            return None;
        }
        let mut secret = Zeroizing::new([0u8; 32]);
        secret.copy_from_slice(&bytes[1..33]);
        let secret = StaticSecret::from(*secret);
        let public: [u8; 32] = bytes[33..65].try_into().ok()?;
        if x25519_dalek::PublicKey::from(&secret).to_bytes() != public {
            return None;
        }
        let replacements = u32::from_le_bytes(bytes[65..69].try_into().ok()?);
        Some(Pair {
            secret,
            public,
            replacements,
        })
    }
}

/// What [`ensure`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Check {
    /// The clear public key equals the sealed one.
    Intact,
    /// The vault had no pair (new, or older than write-only keys): one was made.
    Created,
    /// The clear public key was missing and was put back.
    Restored,
    /// The clear public key was another one: put back, and counted.
    Replaced,
    /// The sealed record did not open or was malformed: a new pair was made (what was sealed
    /// to the old one no longer opens).
    Renewed,
}

/// On a writer open and at creation: makes the pair if the vault has none, and puts the clear
/// public key back from the sealed copy if it is missing or another one.
pub(crate) fn ensure(vault: &mut Vault) -> Result<Check> {
    vault.conn.execute_batch(TABLE)?;
    let stored = match vault.get_setting(SETTING) {
        Ok(Some(bytes)) => Some(Pair::decode(&bytes)),
        Ok(None) => None,
        Err(VaultError::Damaged { .. }) => Some(None),
        Err(e) => return Err(e),
    };
    let (pair, check) = match stored {
        None => (Pair::new()?, Check::Created),
        Some(None) => (Pair::new()?, Check::Renewed),
        Some(Some(mut pair)) => match read_public(&vault.conn)? {
            Some(clear) if clear == pair.public => return Ok(Check::Intact),
            None => (pair, Check::Restored),
            Some(_) => {
                pair.replacements = pair.replacements.saturating_add(1);
                (pair, Check::Replaced)
            }
        },
    };
    // The sealed pair first: a crash before the clear half is written leaves a missing row,
    // which the next writer open puts back; never a clear key without its private half.
    if check != Check::Restored {
        vault.put_setting(SETTING, &pair.encode())?;
    }
    vault.conn.execute(
        "INSERT OR REPLACE INTO write_key (id, public) VALUES (1, ?1)",
        params![&pair.public[..]],
    )?;
    Ok(check)
}

/// The clear public key; `None` without the table or its row. A row that is not 32 bytes is
/// damage.
fn read_public(conn: &rusqlite::Connection) -> Result<Option<[u8; 32]>> {
    let has_table: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'write_key'",
        [],
        |r| r.get(0),
    )?;
    if !has_table {
        return Ok(None);
    }
    let row: Option<Vec<u8>> = conn
        .query_row("SELECT public FROM write_key WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?;
    match row {
        None => Ok(None),
        Some(bytes) => bytes.try_into().map(Some).map_err(|_| VaultError::Damaged {
            what: "the vault's public write-only key".into(),
        }),
    }
}

impl Vault {
    /// The vault's public write-only key as the file holds it in the clear, read without any
    /// key (like [`Vault::inspect`]): what a process without the passphrase seals to
    /// ([`seal_to`]). `None` for a vault not yet opened by a build with write-only keys. Works
    /// on read-only storage and while a writer runs. Whoever can write the file can replace
    /// it; prefer [`Vault::write_key`] when the vault is unlocked.
    pub fn write_key_public(path: &Path) -> Result<Option<PublicKey>> {
        let conn = crate::vault::reader_connection(path)?;
        let header = crate::schema::Header::read(&conn, path)?;
        crate::schema::check_objects(&conn, path, false)?;
        Ok(read_public(&conn)?.map(|key| PublicKey {
            vault_id: header.vault_id,
            key,
        }))
    }

    /// The vault's public write-only key from its sealed record (so not one someone put in
    /// the file's clear copy); `None` for a vault without one (opened only read-only since
    /// before write-only keys).
    pub fn write_key(&self) -> Result<Option<PublicKey>> {
        Ok(self.pair()?.map(|pair| PublicKey {
            vault_id: self.header.vault_id,
            key: pair.public,
        }))
    }

    /// How often a writer open found the clear public key replaced by another one (and put
    /// the vault's own back): anything but 0 means someone wrote to the vault file.
    pub fn write_key_replacements(&self) -> Result<u32> {
        Ok(self.pair()?.map_or(0, |p| p.replacements))
    }

    /// Opens a block sealed to this vault's public key with [`seal_to`] and the same `label`.
    /// [`VaultError::Damaged`] when it was sealed to another key (another vault, a replaced
    /// clear key), with another label, or changed in any byte.
    pub fn open_sealed_block(&self, label: &str, block: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let damaged = || VaultError::Damaged {
            what: format!("block sealed to the write-only key ({label})"),
        };
        let pair = self.pair()?.ok_or_else(damaged)?;
        if block.len() < BLOCK_OVERHEAD || block[0] != BLOCK_V1 {
            return Err(damaged());
        }
        let ephemeral: [u8; 32] = block[1..33].try_into().map_err(|_| damaged())?;
        let nonce: [u8; 24] = block[33..57].try_into().map_err(|_| damaged())?;
        let cipher = block_cipher(
            &pair.secret,
            &x25519_dalek::PublicKey::from(ephemeral),
            &ephemeral,
            &pair.public,
            &self.header.vault_id,
        )
        .map_err(|_| damaged())?;
        let aad = block_aad(&self.header.vault_id, label);
        cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &block[57..],
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| damaged())
    }

    fn pair(&self) -> Result<Option<Pair>> {
        match self.get_setting(SETTING)? {
            None => Ok(None),
            Some(bytes) => Pair::decode(&bytes).map(Some).ok_or(VaultError::Damaged {
                what: format!("setting {SETTING}"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_and_a_mismatched_public_half_is_refused() {
        let pair = Pair::new().unwrap();
        let bytes = pair.encode();
        assert_eq!(bytes.len(), RECORD_LEN);
        let back = Pair::decode(&bytes).unwrap();
        assert_eq!(back.secret.as_bytes(), pair.secret.as_bytes());
        assert_eq!((back.public, back.replacements), (pair.public, 0));
        let mut bad = bytes.to_vec();
        bad[40] ^= 1;
        assert!(Pair::decode(&bad).is_none());
        assert!(Pair::decode(&bytes[..RECORD_LEN - 1]).is_none());
    }

    #[test]
    fn the_block_key_is_the_same_on_both_sides_and_bound_to_the_vault_id() {
        let vault = Pair::new().unwrap();
        let eph = secret_from_random().unwrap();
        let eph_pub = x25519_dalek::PublicKey::from(&eph);
        let vault_pub = x25519_dalek::PublicKey::from(vault.public);
        let id = [3u8; 16];
        let (e, v) = (eph_pub.as_bytes(), &vault.public);
        let sealer = block_cipher(&eph, &vault_pub, e, v, &id).unwrap();
        let opener = block_cipher(&vault.secret, &eph_pub, e, v, &id).unwrap();
        let other_id = block_cipher(&vault.secret, &eph_pub, e, v, &[4; 16]).unwrap();
        // The keys named in the info, swapped: another key.
        let swapped = block_cipher(&vault.secret, &eph_pub, v, e, &id).unwrap();
        let nonce = XNonce::from([9u8; 24]);
        let ct = sealer.encrypt(&nonce, &b"abc"[..]).unwrap();
        assert_eq!(opener.decrypt(&nonce, &ct[..]).unwrap(), b"abc");
        assert!(other_id.decrypt(&nonce, &ct[..]).is_err());
        assert!(swapped.decrypt(&nonce, &ct[..]).is_err());
    }
}
