//! Changing the vault's passphrase and replacing its data key, for both faces (`hearth
//! passwd`, `hearth rekey` and the desktop's Settings). Changing the passphrase rewrites only the
//! wrapped data key, so it takes a second whatever the vault's size, but the data key stays:
//! an old copy of the header (an older backup, a copy of the file) still opens with the old
//! passphrase, also what is written later. Rekeying ([`rekey`]) replaces the data key and
//! re-seals everything, so old headers, old keyring secrets and old backups' keys open
//! nothing in the vault any more (the old backups themselves keep their own key). The
//! desktop does both on the vault its [`Session`] holds open ([`change_open`],
//! [`rekey_open`]): the vault stays open and collection goes on into it afterwards.

use crate::session::Session;
use hearth_vault::{RekeyReport, Vault, VaultError};
use std::sync::{Mutex, MutexGuard, PoisonError};

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
    /// The session holds no open vault (locked, or not created yet).
    #[error("Hearth is locked. Unlock it with your passphrase first.")]
    Locked,
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

/// The session, carrying on with it if another thread panicked while holding it.
fn hold(session: &Mutex<Session>) -> MutexGuard<'_, Session> {
    session.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether `passphrase` opens the vault `session` holds open (a wrong one is
/// [`VaultError::WrongPassphrase`]): whoever changes the passphrase or the key must know it,
/// an open window does not vouch for that. The key derivation (about a second) runs without
/// holding the session, so collection goes on; call it off the UI thread.
pub fn check_current(session: &Mutex<Session>, passphrase: &str) -> Result<(), PassphraseError> {
    let path = {
        let held = hold(session);
        held.vault().ok_or(PassphraseError::Locked)?;
        held.path().to_path_buf()
    };
    Vault::open_read_only(&path, passphrase)?;
    Ok(())
}

/// The desktop's passphrase change: `new` is checked ([`check_new`]), then `current`
/// ([`check_current`]), then `new` wraps the data key of the session's open vault, which stays
/// open. The data key stays too (see the module's note); [`rekey_open`] replaces it.
pub fn change_open(
    session: &Mutex<Session>,
    current: &str,
    new: &str,
) -> Result<Changed, PassphraseError> {
    check_new(new)?;
    check_current(session, current)?;
    let mut held = hold(session);
    let vault = held.vault_mut().ok_or(PassphraseError::Locked)?;
    vault.change_passphrase(new, None)?;
    Ok(Changed {
        keyring_still_unlocks: vault.secret_slot_enabled()?,
    })
}

/// What replacing the data key of an open session did, as the desktop shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rekeyed {
    /// Records sealed again under the new key.
    pub resealed: u64,
    /// Records already damaged, left as they were (`verify` still reports them).
    pub damaged: u64,
    /// The OS-keyring slot was removed: the keyring opens nothing now, and its entry (under
    /// [`Rekeyed::vault_id`]) is stale; turning the keyring on again makes a new one.
    pub keyring_slot_removed: bool,
    /// The vault's id, which names its OS-keyring entry.
    #[serde(skip)]
    pub vault_id: String,
}

/// Replaces the data key of the vault `session` holds open (the desktop's Settings), after
/// checking `current` ([`check_current`]); with `new` (checked first, as [`check_new`]) that
/// becomes the passphrase as well, else the new key is wrapped under `current`. See
/// [`Vault::rekey`]: one transaction, every record re-sealed, every key slot removed.
///
/// The vault stays open in the session with the new key. It is lent out of the session for
/// the transaction ([`Session::lend`]): readings that arrive meanwhile wait in memory, sealed,
/// and are written when it is given back. Readers
/// opened before ([`Vault::reader`]) hold the old key and must be opened again; the desktop
/// opens one per request, from the session, so the next request has the new key.
/// `progress(done, total)` is called once per per cent at most (and for the last record).
pub fn rekey_open(
    session: &Mutex<Session>,
    current: &str,
    new: Option<&str>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Rekeyed, PassphraseError> {
    if let Some(new) = new {
        check_new(new)?;
    }
    check_current(session, current)?;
    // The vault is lent out of the session for the transaction, so readings that arrive
    // meanwhile wait in memory (sealed) rather than for the session, and are written after.
    let mut vault = hold(session).lend().ok_or(PassphraseError::Locked)?;
    let mut shown = u64::MAX;
    let result = vault.rekey(new.unwrap_or(current), None, &mut |done, total| {
        let per_cent = done * 100 / total.max(1);
        if per_cent != shown || done == total {
            shown = per_cent;
            progress(done, total);
        }
    });
    let vault_id = vault.id_hex();
    // Back in the session whatever happened: a failed rekey left it under the old key.
    let back = hold(session).give_back(vault);
    let report = result?;
    back?;
    Ok(Rekeyed {
        resealed: report.resealed,
        damaged: report.damaged,
        keyring_slot_removed: report.keyring_slot_removed,
        vault_id,
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

    /// The open-session use cases: a vault open in a [`Session`], as the desktop holds it.
    /// What an old header (from an older backup or copy of the file) gives is the old data
    /// key, unwrapped with the old passphrase; a reader opened before the change holds exactly
    /// that key, so it stands in for one here (this crate touches no SQLite to put a header
    /// into a file; `crates/vault/tests/revocation.rs` does that to the vault itself).
    mod open {
        use super::super::*;
        use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
        use hearth_vault::{CreateOptions, KdfParams, Resolution};
        use std::path::{Path, PathBuf};
        use std::time::Instant;

        const PASS: &str = "correct horse battery";
        /// 2026-01-01T00:00:00Z.
        const T0: i64 = 1_767_225_600;

        /// `n` readings a second apart from `from`, the register counting on.
        fn readings(from: i64, n: i64) -> Vec<Reading> {
            (0..n)
                .map(|i| {
                    let mut r = Reading::new(Protocol::Dsmr);
                    r.time = Some(MeterTime::utc(from + i));
                    r.set(Quantity::ImportWh, 1_000_000 + from + i - T0);
                    r.set(Quantity::ImportW, 3600);
                    r
                })
                .collect()
        }

        /// Stores readings through the session, as the collector does, and writes them out.
        fn collect(session: &Mutex<Session>, from: i64, n: i64) {
            let mut held = hold(session);
            held.append(&mut readings(from, n), 0, false, Instant::now())
                .expect("append");
            held.vault_mut().expect("open").flush().expect("flush");
        }

        /// A session holding its vault open with 900 readings and the OS-keyring slot on.
        fn open_session(dir: &Path) -> (Mutex<Session>, PathBuf) {
            let path = dir.join("v.hearth");
            let options = CreateOptions {
                kdf: KdfParams::MINIMUM,
                time_zone: Some("UTC".into()),
            };
            let mut vault = Vault::create(&path, PASS, &options).expect("create");
            vault.enable_secret_slot().expect("slot");
            let mut session = Session::new(path.clone());
            session.install(vault).expect("install");
            let session = Mutex::new(session);
            collect(&session, T0, 900);
            (session, path)
        }

        /// A reader of the session's vault, as the desktop's history and costs open one per
        /// request: it holds the data key of the moment.
        fn reader(session: &Mutex<Session>) -> Vault {
            let held = hold(session);
            held.vault().expect("open").reader().expect("reader")
        }

        /// Raw readings a new reader finds, every row intact.
        fn readable(session: &Mutex<Session>) -> usize {
            reader(session)
                .readings(T0 - 60, T0 + 7200, Resolution::Raw)
                .expect("query")
                .collect::<Result<Vec<_>, _>>()
                .expect("every row")
                .len()
        }

        /// Readings that arrive while the rekey runs do not wait for the session (a serial
        /// port's buffer would overflow): they are kept, sealed, and written when it is done.
        #[test]
        fn readings_that_arrive_during_a_rekey_are_kept_and_written_after() {
            let dir = tempfile::tempdir().expect("dir");
            let (session, _) = open_session(dir.path());
            let mut arrived = 0;
            rekey_open(&session, PASS, None, &mut |done, _| {
                // The collector's turn, as a reading comes in halfway through.
                if arrived == 0 && done > 0 {
                    let mut held = session.try_lock().expect("the session is free meanwhile");
                    assert_eq!(held.status(), crate::session::Status::Open);
                    held.append(&mut readings(T0 + 900, 60), 0, false, Instant::now())
                        .expect("kept");
                    assert_eq!(held.pending(), 60);
                    arrived = 60;
                }
            })
            .expect("rekey");
            assert_eq!(arrived, 60);
            assert_eq!(hold(&session).pending(), 0);
            hold(&session)
                .vault_mut()
                .expect("open")
                .flush()
                .expect("flush");
            assert_eq!(readable(&session), 960);
        }

        #[test]
        fn after_a_rekey_in_the_session_the_old_key_opens_nothing_and_history_still_reads() {
            let dir = tempfile::tempdir().expect("dir");
            let (session, path) = open_session(dir.path());
            let old_key = reader(&session);
            let before = old_key.verify().expect("verify");
            assert_eq!((before.readings, before.damaged.len()), (900, 0));
            // A wrong passphrase changes nothing.
            assert!(matches!(
                rekey_open(&session, "not the words", None, &mut |_, _| {}),
                Err(PassphraseError::Vault(VaultError::WrongPassphrase))
            ));
            assert_eq!(old_key.verify().expect("verify").ok, before.ok);

            let mut calls = Vec::new();
            let done =
                rekey_open(&session, PASS, None, &mut |d, t| calls.push((d, t))).expect("rekey");
            // Every record (chunks, settings, writer state): what verify counted.
            assert_eq!((done.resealed, done.damaged), (before.ok, 0));
            assert!(done.keyring_slot_removed);
            assert_eq!(
                done.vault_id,
                hold(&session).vault().expect("open").id_hex()
            );
            assert_eq!(calls.last(), Some(&(before.ok, before.ok)));
            assert!(calls.len() as u64 <= before.ok.min(101), "{calls:?}");
            // Still open: collection goes on into the same session; the keyring slot is gone.
            assert_eq!(hold(&session).status(), crate::Status::Open);
            let slot = hold(&session).vault().expect("open").secret_slot_enabled();
            assert!(!slot.expect("slot"));
            collect(&session, T0 + 3600, 900);
            // History: a reader opened now reads everything.
            assert_eq!(readable(&session), 1800);
            // The old key opens nothing, neither what was there nor what came after.
            let old = old_key.verify().expect("verify");
            assert_eq!((old.ok, old.readings), (0, 0));
            assert!(
                old.damaged.len() as u64 > before.ok,
                "{}",
                old.damaged.len()
            );
            drop(old_key);

            hold(&session).lock().expect("lock");
            assert!(!Vault::inspect(&path).expect("inspect").secret_slot);
            let again = Vault::open_read_only(&path, PASS).expect("the same passphrase");
            let report = again.verify().expect("verify");
            assert_eq!((report.readings, report.damaged.len()), (1800, 0));
        }

        #[test]
        fn a_passphrase_change_alone_leaves_the_old_key_opening_what_is_written_after() {
            // What the desktop's plain "Change passphrase" does not protect, and why it offers
            // the rekey: the data key stays.
            let dir = tempfile::tempdir().expect("dir");
            let (session, path) = open_session(dir.path());
            let old_key = reader(&session);
            assert!(matches!(
                change_open(&session, "not the words", "a new passphrase"),
                Err(PassphraseError::Vault(VaultError::WrongPassphrase))
            ));
            let changed = change_open(&session, PASS, "a new passphrase").expect("change");
            assert!(changed.keyring_still_unlocks);
            collect(&session, T0 + 3600, 900);
            let old = old_key.verify().expect("verify");
            assert_eq!((old.readings, old.damaged.len()), (1800, 0));
            hold(&session).lock().expect("lock");
            assert!(matches!(
                Vault::open_read_only(&path, PASS),
                Err(VaultError::WrongPassphrase)
            ));
            Vault::open_read_only(&path, "a new passphrase").expect("the new one opens it");
        }

        #[test]
        fn a_rekey_with_a_new_passphrase_sets_it_and_is_refused_while_locked() {
            let dir = tempfile::tempdir().expect("dir");
            let (session, path) = open_session(dir.path());
            assert!(matches!(
                rekey_open(&session, PASS, Some("short"), &mut |_, _| {}),
                Err(PassphraseError::Short { chars: 5 })
            ));
            let records = reader(&session).verify().expect("verify").ok;
            let done = rekey_open(&session, PASS, Some("a new passphrase"), &mut |_, _| {})
                .expect("rekey");
            assert_eq!(done.resealed, records);
            collect(&session, T0 + 3600, 10);
            assert_eq!(readable(&session), 910);
            hold(&session).lock().expect("lock");
            assert!(matches!(
                rekey_open(&session, "a new passphrase", None, &mut |_, _| {}),
                Err(PassphraseError::Locked)
            ));
            assert!(matches!(
                change_open(&session, "a new passphrase", "another passphrase"),
                Err(PassphraseError::Locked)
            ));
            assert!(matches!(
                Vault::open_read_only(&path, PASS),
                Err(VaultError::WrongPassphrase)
            ));
            Vault::open_read_only(&path, "a new passphrase").expect("the new one opens it");
        }
    }
}
