//! Changing the vault's passphrase and replacing its data key, for both faces (`hearth
//! passwd`, `hearth rekey` and, later, the desktop). Changing the passphrase rewrites only the
//! wrapped data key, so it takes a second whatever the vault's size, but the data key stays:
//! an old copy of the header (an older backup, a copy of the file) still opens with the old
//! passphrase, also what is written later. Rekeying ([`rekey`]) replaces the data key and
//! re-seals everything, so old headers, old keyring secrets and old backups' keys open
//! nothing in the vault any more (the old backups themselves keep their own key).

use hearth_vault::{RekeyReport, Vault, VaultError};

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

/// Replaces the data key of `vault` (its writer, opened with `passphrase`: the new key is
/// wrapped under it) and closes it; see [`Vault::rekey`]. The OS-keyring slot, if any, is
/// removed: the caller turns the keyring on again (a new secret) if the user wants it.
/// `progress(done, total)` is called after each record.
pub fn rekey(
    mut vault: Vault,
    passphrase: &str,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<RekeyReport, PassphraseError> {
    let report = vault.rekey(passphrase, None, progress)?;
    vault.close()?;
    Ok(report)
}

/// Sets `new` as the passphrase and replaces the data key in one go (`hearth passwd
/// --rekey`): the checks of [`change`], then [`rekey`] with the new passphrase.
pub fn change_and_rekey(
    vault: Vault,
    new: &str,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<RekeyReport, PassphraseError> {
    check_new(new)?;
    rekey(vault, new, progress)
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
    fn change_and_rekey_sets_the_new_passphrase_and_removes_the_keyring_slot() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("v.hearth");
        let options = CreateOptions {
            kdf: KdfParams::INSECURE_FOR_TESTS,
            time_zone: None,
        };
        let mut v = Vault::create(&path, "old words", &options).expect("vault");
        v.put_setting("note", b"kept").expect("setting");
        v.enable_secret_slot().expect("slot");
        assert!(matches!(
            change_and_rekey(v, "short", &mut |_, _| {}),
            Err(PassphraseError::Short { chars: 5 })
        ));
        let v = Vault::open(&path, "old words").expect("unchanged");
        let mut last = (0, 0);
        let report = change_and_rekey(v, "new words", &mut |d, t| last = (d, t)).expect("rekey");
        assert!(report.keyring_slot_removed);
        // Three records: the settings `vault.time_zone` and `vault.write_key` (written by
        // `create`) and `note`; no chunk and no writer state before the first reading.
        assert_eq!((report.resealed, report.damaged), (3, 0));
        assert_eq!(last, (3, 3));
        assert!(matches!(
            Vault::open(&path, "old words"),
            Err(VaultError::WrongPassphrase)
        ));
        let v = Vault::open_read_only(&path, "new words").expect("new");
        assert_eq!(
            v.get_setting("note").expect("note").map(|n| n.to_vec()),
            Some(b"kept".to_vec())
        );
        assert!(!v.secret_slot_enabled().expect("slot"));
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
