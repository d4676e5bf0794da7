//! Changing the vault's passphrase, for both faces (`hearth passwd` and, later, the
//! desktop): only the wrapped data key is rewritten, the data is not re-encrypted, so it
//! takes a second whatever the vault's size. Older backups keep the passphrase they had.

use hearth_vault::{Vault, VaultError};

/// Why the passphrase was not changed.
#[derive(Debug, thiserror::Error)]
pub enum PassphraseError {
    /// The new passphrase is empty.
    #[error("the passphrase is empty; choose a few words only you know")]
    Empty,
    /// The new passphrase is only white space.
    #[error("the passphrase is only spaces; choose a few words only you know")]
    Blank,
    /// The new passphrase is shorter than [`MIN_CHARS`].
    #[error(
        "the passphrase is too short ({chars} characters); choose at least {MIN_CHARS}, a few \
         words only you know"
    )]
    Short {
        /// Characters given.
        chars: usize,
    },
    /// The vault could not be written.
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// What changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Changed {
    /// The OS keyring still unlocks the vault (its slot does not depend on the passphrase).
    pub keyring_still_unlocks: bool,
}

/// The fewest characters (Unicode scalar values) a new passphrase may have, in the CLI and the
/// desktop app alike.
pub const MIN_CHARS: usize = 8;

/// Whether `new` may become a passphrase: not empty, not only white space (which a stray key
/// press or a blank line in a file gives, and anyone guesses), and at least [`MIN_CHARS`]
/// characters. The one rule for `hearth init`, `hearth passwd` and the app.
pub fn check_new(new: &str) -> Result<(), PassphraseError> {
    let chars = new.chars().count();
    if new.is_empty() {
        Err(PassphraseError::Empty)
    } else if new.trim().is_empty() {
        Err(PassphraseError::Blank)
    } else if chars < MIN_CHARS {
        Err(PassphraseError::Short { chars })
    } else {
        Ok(())
    }
}

/// Sets `new` as the passphrase of `vault` (its writer, opened with the current passphrase:
/// whoever changes it must know it, the keyring does not vouch for that) and closes it.
pub fn change(mut vault: Vault, new: &str) -> Result<Changed, PassphraseError> {
    check_new(new)?;
    vault.change_passphrase(new, None)?;
    let keyring_still_unlocks = vault.secret_slot_enabled()?;
    vault.close()?;
    Ok(Changed {
        keyring_still_unlocks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_vault::{CreateOptions, KdfParams};

    #[test]
    fn the_new_passphrase_opens_the_vault_and_the_old_one_no_longer_does() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("v.hearth");
        let options = CreateOptions {
            kdf: KdfParams::INSECURE_FOR_TESTS,
            time_zone: None,
        };
        let v = Vault::create(&path, "old words", &options).expect("vault");
        let changed = change(v, "new words").expect("change");
        assert!(!changed.keyring_still_unlocks);
        assert!(matches!(
            Vault::open(&path, "old words"),
            Err(VaultError::WrongPassphrase)
        ));
        Vault::open(&path, "new words").expect("opens with the new one");
    }

    #[test]
    fn an_empty_passphrase_is_refused_and_the_old_one_still_opens() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("v.hearth");
        let options = CreateOptions {
            kdf: KdfParams::INSECURE_FOR_TESTS,
            time_zone: None,
        };
        let v = Vault::create(&path, "old words", &options).expect("vault");
        assert!(matches!(change(v, ""), Err(PassphraseError::Empty)));
        Vault::open(&path, "old words").expect("unchanged");
        let v = Vault::open(&path, "old words").expect("writer");
        assert!(matches!(change(v, " \t  "), Err(PassphraseError::Blank)));
        Vault::open(&path, "old words").expect("unchanged");
    }

    #[test]
    fn a_passphrase_needs_eight_characters_counted_as_characters_not_bytes() {
        assert!(matches!(
            check_new("seven c"),
            Err(PassphraseError::Short { chars: 7 })
        ));
        // 7 characters, 14 bytes: still too short.
        assert!(matches!(
            check_new("ééééééé"),
            Err(PassphraseError::Short { chars: 7 })
        ));
        assert!(check_new("eight ch").is_ok());
        assert!(check_new("éééééééé").is_ok());
        assert_eq!(
            PassphraseError::Short { chars: 2 }.to_string(),
            "the passphrase is too short (2 characters); choose at least 8, a few words only you \
             know"
        );
    }
}
