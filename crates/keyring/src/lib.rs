//! The OS keyring: keeps the random secret that opens a vault's keyring slot, so `hearth
//! collect` (a systemd user unit, say) and the desktop app can open the vault without anyone
//! typing the passphrase. On Linux it is the Secret Service (gnome-keyring, KWallet,
//! KeePassXC) on the user's session D-Bus: a local socket, nothing leaves the machine.
//!
//! One entry per vault: service `hearth`, user the vault id ([`hearth_vault::Vault::id_hex`]),
//! label `Hearth vault key (PATH)`, secret the 32 bytes as 64 lowercase hex digits (text, so
//! every keyring and its manager shows and stores it intact).
//!
//! ```no_run
//! use hearth_keyring::Keyring;
//! # let vault_id = "00112233445566778899aabbccddeeff";
//! # let secret = [0u8; 32];
//! let keyring = Keyring::interactive();
//! keyring.store(vault_id, std::path::Path::new("/home/me/vault.hearth"), &secret)?;
//! assert_eq!(keyring.load(vault_id)?.as_deref(), Some(&secret));
//! keyring.delete(vault_id)?;
//! # Ok::<(), hearth_keyring::KeyringError>(())
//! ```
//!
//! [`hearth_vault::Vault::id_hex`]: https://docs.rs/hearth-vault
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(target_os = "linux")]
mod secret_service;
#[cfg(all(feature = "test-support", target_os = "linux"))]
pub mod test_support;

use std::path::Path;
use std::time::Duration;
use zeroize::Zeroizing;

/// The Secret Service `service` attribute of Hearth's entries.
pub const SERVICE: &str = "hearth";

/// A vault's keyring secret, wiped from memory when dropped.
pub type Secret = Zeroizing<[u8; 32]>;

/// What can go wrong with the OS keyring, in words a homeowner can act on. Every case leaves
/// the passphrase as the way in.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyringError {
    /// No Secret Service on the session bus (a server without a desktop, no session bus).
    #[error("No keyring service is running (Secret Service). Unlock with your passphrase instead.")]
    NoService {
        /// What the bus said, for logs.
        detail: String,
    },
    /// The keyring is locked and may not (or did not) ask to be unlocked.
    #[error(
        "Your keyring is locked (it unlocks when you log in to your desktop). Unlock with your \
         passphrase instead."
    )]
    Locked,
    /// The keyring has no default collection to put the entry in.
    #[error(
        "Your keyring has no default collection to keep the vault key in; create one (for \
         example \"Login\") in your keyring manager, or unlock with your passphrase."
    )]
    NoCollection,
    /// The entry exists but does not hold a Hearth secret (edited by hand, damaged).
    #[error(
        "The Hearth entry in your keyring is damaged or was edited; turn the keyring off and on \
         again (`hearth keyring off`, `hearth keyring on`)."
    )]
    Damaged,
    /// More than one entry for the same vault (left by another tool or an interrupted run).
    #[error(
        "Your keyring holds {0} Hearth keys for this vault; turn the keyring off and on again."
    )]
    Ambiguous(usize),
    /// No OS keyring backend on this platform yet.
    #[error(
        "The OS keyring is supported on Linux (Secret Service) only so far. Unlock with your \
         passphrase instead."
    )]
    Unsupported,
    /// The keyring service answered with an error.
    #[error("the keyring service failed: {0}")]
    Service(String),
}

/// How the keyring may interact with the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keyring {
    prompt: Duration,
}

impl Keyring {
    /// For unattended use (a collector, a service): never asks the desktop to unlock a locked
    /// keyring; such a keyring is [`KeyringError::Locked`] at once, never a hang.
    pub fn unattended() -> Keyring {
        Keyring {
            prompt: Duration::ZERO,
        }
    }

    /// For a person at the desktop: a locked keyring may show its unlock dialog, waited for up
    /// to two minutes.
    pub fn interactive() -> Keyring {
        Keyring {
            prompt: Duration::from_secs(120),
        }
    }

    /// How long an unlock dialog is waited for (zero: never shown).
    pub fn prompt_timeout(&self) -> Duration {
        self.prompt
    }

    /// Stores `secret` as the vault's entry, replacing any earlier one (in any collection).
    /// `vault_path` only names the entry for the user (its label).
    pub fn store(
        &self,
        vault_id: &str,
        vault_path: &Path,
        secret: &[u8; 32],
    ) -> Result<(), KeyringError> {
        let text = Zeroizing::new(to_hex(secret));
        self.backend()?
            .store(vault_id, &label(vault_path), text.as_bytes())
    }

    /// The vault's secret, or `None` when the keyring has no entry for it.
    pub fn load(&self, vault_id: &str) -> Result<Option<Secret>, KeyringError> {
        match self.backend()?.load(vault_id)? {
            None => Ok(None),
            Some(text) => from_hex(&text).map(Some).ok_or(KeyringError::Damaged),
        }
    }

    /// Whether the keyring has an entry for the vault (the secret is not read, so a locked
    /// keyring can still answer).
    pub fn contains(&self, vault_id: &str) -> Result<bool, KeyringError> {
        Ok(self.backend()?.count(vault_id)? > 0)
    }

    /// Deletes the vault's entries; returns whether there was any.
    pub fn delete(&self, vault_id: &str) -> Result<bool, KeyringError> {
        Ok(self.backend()?.delete(vault_id)? > 0)
    }

    #[cfg(target_os = "linux")]
    fn backend(&self) -> Result<secret_service::Backend, KeyringError> {
        secret_service::Backend::connect(self.prompt)
    }

    #[cfg(not(target_os = "linux"))]
    fn backend(&self) -> Result<Unsupported, KeyringError> {
        Err(KeyringError::Unsupported)
    }
}

/// Stand-in backend where there is none: never constructed.
#[cfg(not(target_os = "linux"))]
enum Unsupported {}

#[cfg(not(target_os = "linux"))]
impl Unsupported {
    fn store(&self, _: &str, _: &str, _: &[u8]) -> Result<(), KeyringError> {
        match *self {}
    }
    fn load(&self, _: &str) -> Result<Option<Zeroizing<Vec<u8>>>, KeyringError> {
        match *self {}
    }
    fn count(&self, _: &str) -> Result<usize, KeyringError> {
        match *self {}
    }
    fn delete(&self, _: &str) -> Result<usize, KeyringError> {
        match *self {}
    }
}

/// The label a keyring manager shows for a vault's entry.
pub fn label(vault_path: &Path) -> String {
    format!("Hearth vault key ({})", vault_path.display())
}

fn to_hex(bytes: &[u8; 32]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(64);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// 64 hex digits (either case, surrounding whitespace ignored) to 32 bytes.
fn from_hex(text: &[u8]) -> Option<Secret> {
    let text = text.trim_ascii();
    if text.len() != 64 {
        return None;
    }
    let digit = |c: u8| {
        char::from(c)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let mut out = Zeroizing::new([0u8; 32]);
    for (o, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        *o = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_round_trip_as_64_hex_digits_and_anything_else_is_refused() {
        let mut secret = [0u8; 32];
        for (i, b) in secret.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37).wrapping_add(5);
        }
        let text = to_hex(&secret);
        // 0*37+5 = 0x05, 1*37+5 = 0x2a, 2*37+5 = 0x4f, ..., 31*37+5 = 1152 mod 256 = 0x80.
        assert!(text.starts_with("052a4f"), "{text}");
        assert!(text.ends_with("80"), "{text}");
        assert_eq!(text.len(), 64);
        assert_eq!(*from_hex(text.as_bytes()).unwrap(), secret);
        assert_eq!(
            *from_hex(format!(" {}\n", text.to_uppercase()).as_bytes()).unwrap(),
            secret
        );
        for bad in [
            &text[..62],
            &format!("{text}00"),
            &format!("{}zz", &text[..62]),
            "",
            "héllo",
        ] {
            assert!(from_hex(bad.as_bytes()).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn the_label_names_the_vault_file_and_the_modes_differ_only_in_prompting() {
        assert_eq!(
            label(Path::new("/home/an/.local/share/hearth/vault.hearth")),
            "Hearth vault key (/home/an/.local/share/hearth/vault.hearth)"
        );
        assert_eq!(Keyring::unattended().prompt_timeout(), Duration::ZERO);
        assert_eq!(
            Keyring::interactive().prompt_timeout(),
            Duration::from_secs(120)
        );
    }

    #[test]
    fn messages_tell_a_homeowner_what_to_do() {
        let e = KeyringError::NoService {
            detail: "org.freedesktop.DBus.Error.ServiceUnknown".into(),
        };
        assert_eq!(
            e.to_string(),
            "No keyring service is running (Secret Service). Unlock with your passphrase instead."
        );
        assert!(KeyringError::Locked.to_string().contains("passphrase"));
        assert!(
            KeyringError::Ambiguous(2)
                .to_string()
                .contains("2 Hearth keys")
        );
    }
}
