//! The vault session: where the vault lives, opening it (with the passphrase or the OS
//! keyring; as the writer, or read-only beside a running collector), locking it, and the
//! readings that arrive while it is locked. The CLI opens a vault per command; the desktop
//! holds one [`Session`] for its whole run.

use crate::collect;
use crate::pending::{PENDING_CAP_BYTES, Pending};
use hearth_keyring::{Keyring, KeyringError};
use hearth_meter::Reading;
use hearth_vault::write_key::PublicKey;
use hearth_vault::{CreateOptions, KdfParams, Vault, VaultError, WriteOnly};
use jiff::tz::TimeZone;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// After the vault could not be opened write-only while locked (another process writes, a
/// full disk), readings wait in memory and opening it is tried again after this long.
pub const WRITE_ONLY_RETRY: Duration = Duration::from_secs(60);

/// The vault file in the user's data directory (`$XDG_DATA_HOME/hearth/vault.hearth` on
/// Linux), when there is a data directory.
pub fn default_path() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("hearth").join("vault.hearth"))
}

/// Whether a vault is opened to store readings or only to read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The one writer: collects, imports, changes settings.
    Writer,
    /// A reader beside a running collector (or on read-only storage).
    ReadOnly,
}

/// Why the vault did not open.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The vault has no keyring slot.
    #[error("This vault is not kept in the OS keyring. Unlock with your passphrase.")]
    NotInKeyring,
    /// The keyring holds no key for this vault.
    #[error(
        "Your keyring has no key for this vault (it may have been removed). Unlock with your \
         passphrase, then turn the keyring on again."
    )]
    NoKeyringEntry,
    /// The keyring's key does not open this vault (the slot was replaced or removed).
    #[error(
        "The key in your keyring does not open this vault any more. Unlock with your \
         passphrase, then turn the keyring off and on again."
    )]
    KeyringKeyDoesNotFit,
    /// The keyring itself failed (locked, no Secret Service, refused).
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    /// The vault refused (wrong passphrase, damage, busy, not a vault).
    #[error(transparent)]
    Vault(#[from] VaultError),
}

impl OpenError {
    /// Whether the passphrase may still open the vault where the keyring could not.
    pub fn passphrase_may_help(&self) -> bool {
        matches!(
            self,
            OpenError::NotInKeyring
                | OpenError::NoKeyringEntry
                | OpenError::KeyringKeyDoesNotFit
                | OpenError::Keyring(_)
        )
    }
}

/// Opens the vault at `path` with its passphrase.
pub fn open_with_passphrase(
    path: &Path,
    passphrase: &str,
    access: Access,
) -> Result<Vault, OpenError> {
    Ok(match access {
        Access::Writer => Vault::open(path, passphrase)?,
        Access::ReadOnly => Vault::open_read_only(path, passphrase)?,
    })
}

/// Opens the vault at `path` with the secret `keyring` holds for it (the vault's keyring
/// slot).
pub fn open_with_keyring(
    path: &Path,
    keyring: &Keyring,
    access: Access,
) -> Result<Vault, OpenError> {
    let info = Vault::inspect(path)?;
    if !info.secret_slot {
        return Err(OpenError::NotInKeyring);
    }
    let secret = keyring
        .load(&info.id_hex)?
        .ok_or(OpenError::NoKeyringEntry)?;
    let opened = match access {
        Access::Writer => Vault::open_with_secret(path, &secret),
        Access::ReadOnly => Vault::open_read_only_with_secret(path, &secret),
    };
    opened.map_err(|e| match e {
        VaultError::WrongSecret | VaultError::NoSecretSlot => OpenError::KeyringKeyDoesNotFit,
        other => other.into(),
    })
}

/// Creates the vault file and its folder (slow: runs the key derivation), in the system's
/// time zone. Nothing is left behind when it fails (see [`create_new`]).
pub fn create(path: &Path, passphrase: &str, kdf: KdfParams) -> Result<Vault, VaultError> {
    let options = CreateOptions {
        kdf,
        time_zone: None,
    };
    created_or_removed(path, || Vault::create(path, passphrase, &options))
}

/// Argon2id memory a vault may ask for at most, in KiB (2 GiB, the vault's own ceiling): more
/// cannot be derived on a household computer, and the vault would never open.
pub const MAX_KDF_MEMORY_KIB: u32 = KdfParams::MAX_MEMORY_KIB;

/// Why no vault was created. Nothing was left behind.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// The passphrase is empty or only spaces.
    #[error(transparent)]
    Passphrase(#[from] crate::passphrase::PassphraseError),
    /// The time zone given is not in the time zone database.
    #[error("unknown time zone {0:?}; give one like Europe/Amsterdam (an IANA name)")]
    UnknownZone(String),
    /// `TZ` names no time zone Hearth can keep, and none was given.
    #[error(
        "the system's time zone TZ={0:?} is not one Hearth knows; give one with --time-zone, \
         like Europe/Amsterdam"
    )]
    UnknownSystemZone(String),
    /// Argon2 settings no key can be derived with.
    #[error(
        "Argon2 memory must be {} to {MAX_KDF_MEMORY_KIB} KiB and passes {} to {} (asked \
         {memory_kib} KiB, {iterations} passes)",
        KdfParams::MIN_MEMORY_KIB,
        KdfParams::MIN_ITERATIONS,
        KdfParams::MAX_ITERATIONS
    )]
    Kdf {
        /// Memory asked, KiB.
        memory_kib: u32,
        /// Passes asked.
        iterations: u32,
    },
    /// The vault could not be created.
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// The time zone a new vault keeps: the one given, else the system's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewZone {
    /// Its IANA name.
    pub name: String,
    /// The system's zone could not be told (no `TZ`, no `/etc/localtime`): UTC is used.
    pub fell_back_to_utc: bool,
}

/// The zone a new vault keeps: `given` (which must be in the time zone database), else the
/// system's. A `TZ` that names no zone in the database is refused, never quietly UTC.
pub fn new_zone(given: Option<&str>) -> Result<NewZone, CreateError> {
    if let Some(name) = given {
        let name = name.trim();
        return match TimeZone::get(name) {
            Ok(_) => Ok(NewZone {
                name: name.to_string(),
                fell_back_to_utc: false,
            }),
            Err(_) => Err(CreateError::UnknownZone(name.to_string())),
        };
    }
    let tz_var = std::env::var("TZ").ok().filter(|v| !v.trim().is_empty());
    let system = TimeZone::try_system().ok();
    let name = system
        .as_ref()
        .and_then(|z| z.iana_name())
        .filter(|n| TimeZone::get(n).is_ok());
    match (name, tz_var) {
        (Some(name), _) => Ok(NewZone {
            name: name.to_string(),
            fell_back_to_utc: false,
        }),
        (None, Some(var)) => Err(CreateError::UnknownSystemZone(var)),
        (None, None) => Ok(NewZone {
            name: "UTC".to_string(),
            fell_back_to_utc: true,
        }),
    }
}

/// Whether a new vault may use `kdf`: within the vault's bounds ([`KdfParams::check`]: 19 MiB
/// to 2 GiB, 2 to 16 passes, 1 to 16 lanes; below the floor only for tests).
pub fn check_kdf(kdf: KdfParams) -> Result<(), CreateError> {
    if kdf.check().is_err() {
        return Err(CreateError::Kdf {
            memory_kib: kdf.memory_kib,
            iterations: kdf.iterations,
        });
    }
    Ok(())
}

/// Creates a new vault at `path` (and its folder) after checking everything first: the
/// passphrase (not blank), the Argon2 settings and the time zone (see [`new_zone`]). If
/// creating fails midway, what this call created (the file, its side files, its folders) is
/// removed, so the same `init` can be run again.
pub fn create_new(
    path: &Path,
    passphrase: &str,
    kdf: KdfParams,
    time_zone: Option<&str>,
) -> Result<(Vault, NewZone), CreateError> {
    crate::passphrase::check_new(passphrase)?;
    check_kdf(kdf)?;
    let zone = new_zone(time_zone)?;
    if path.exists() {
        return Err(VaultError::AlreadyExists(path.to_path_buf()).into());
    }
    let options = CreateOptions {
        kdf,
        time_zone: Some(zone.name.clone()),
    };
    let vault = created_or_removed(path, || Vault::create(path, passphrase, &options))?;
    Ok((vault, zone))
}

/// Runs `make` (which creates the vault at `path`) after creating `path`'s missing folders;
/// when it fails, removes the vault file, its side files and the folders, but only those
/// that did not exist before.
fn created_or_removed(
    path: &Path,
    make: impl FnOnce() -> Result<Vault, VaultError>,
) -> Result<Vault, VaultError> {
    let mut new_dirs = Vec::new();
    let mut dir = path.parent();
    while let Some(d) = dir.filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        new_dirs.push(d.to_path_buf());
        dir = d.parent();
    }
    if let Some(d) = new_dirs.first() {
        hearth_vault::create_dirs(d)?;
    }
    let side = |suffix: &str| {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        PathBuf::from(p)
    };
    let files = [
        path.to_path_buf(),
        side("-wal"),
        side("-shm"),
        side("-journal"),
        side(".writer-lock"),
        side(".writer-lock-wal"),
        side(".writer-lock-shm"),
        side(".writer-lock-journal"),
    ];
    let existed: Vec<bool> = files.iter().map(|f| f.exists()).collect();
    let made = make();
    if made.is_err() {
        for (f, existed) in files.iter().zip(existed) {
            if !existed {
                let _ = std::fs::remove_file(f);
            }
        }
        for d in &new_dirs {
            let _ = std::fs::remove_dir(d);
        }
    }
    made
}

/// Where the vault stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// No vault yet: the first-run wizard creates one.
    Setup,
    /// A vault exists and waits for the passphrase.
    Locked,
    /// Unlocked: readings are stored and history can be shown.
    Open,
}

/// The vault file and, when unlocked, the open handle. Readings that arrive while locked are
/// stored write-only ([`hearth_vault::write_only`]): sealed to the vault's write-only key in
/// the vault file, which the session can append to but not read, so a crash or a reboot
/// while locked loses at most the last [`hearth_vault::FLUSH_INTERVAL`] of them. They wait in
/// memory instead (sealed in blocks, bounded: [`crate::pending`]) while the vault is lent out
/// or being unlocked, and while it cannot be opened write-only (another process writes it, a
/// vault without a write-only key, a disk error).
pub struct Session {
    path: PathBuf,
    vault: Option<Vault>,
    pending: Pending,
    /// While locked: the vault opened write-only, holding the writer lock.
    write_only: Option<WriteOnly>,
    /// The key write-only readings must be sealed to: the one the unlocked vault held (the
    /// file's clear copy is only trusted when the session never saw the vault open).
    write_key: Option<PublicKey>,
    /// Not before this moment is opening write-only tried again (after a failure).
    write_only_after: Option<Instant>,
    /// An unlock is opening the vault: the writer lock must stay free for it.
    unlocking: bool,
    /// Readings stored write-only since the last lock.
    stored_locked: u64,
    /// Tests of the memory path: never open write-only.
    #[cfg(test)]
    memory_only: bool,
    /// The open vault's time zone, kept while locked: readings without a meter time are
    /// stamped in it.
    time_zone: TimeZone,
    /// The vault is out on loan ([`Session::lend`]): open, but readings wait in memory.
    lent: bool,
}

impl Session {
    /// A session for the vault file at `path` (which may not exist yet), locked.
    pub fn new(path: PathBuf) -> Self {
        Session {
            pending: Pending::new(PENDING_CAP_BYTES, path.clone()),
            path,
            vault: None,
            write_only: None,
            write_key: None,
            write_only_after: None,
            unlocking: false,
            stored_locked: 0,
            #[cfg(test)]
            memory_only: false,
            time_zone: TimeZone::system(),
            lent: false,
        }
    }

    /// The vault file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Setup, locked or open.
    pub fn status(&self) -> Status {
        if self.vault.is_some() || self.lent {
            Status::Open
        } else if self.path.exists() {
            Status::Locked
        } else {
            Status::Setup
        }
    }

    /// The open vault, if unlocked.
    pub fn vault(&self) -> Option<&Vault> {
        self.vault.as_ref()
    }

    /// The open vault for writing, if unlocked.
    pub fn vault_mut(&mut self) -> Option<&mut Vault> {
        self.vault.as_mut()
    }

    /// Installs an unlocked vault and writes what waited in memory.
    /// If that fails, the vault is not installed and what was not yet written keeps waiting.
    pub fn install(&mut self, mut vault: Vault) -> Result<(), VaultError> {
        self.pending.write_to(&mut vault)?;
        self.time_zone = vault.time_zone().clone();
        self.vault = Some(vault);
        self.unlocking = false;
        Ok(())
    }

    /// Before an unlock opens the vault: seals what the write-only handle gathered and
    /// releases the writer lock it holds, so the unlock can take it (and take those readings
    /// in). Until [`Session::install`], [`Session::follow`] or [`Session::unlock_failed`],
    /// readings wait in memory. A seal that fails leaves them in the block given up (at
    /// most the last [`hearth_vault::FLUSH_INTERVAL`]); the error is returned for a log.
    pub fn release_for_unlock(&mut self) -> Result<(), VaultError> {
        self.unlocking = true;
        match self.write_only.take() {
            Some(mut w) => {
                let before = w.stats().stored;
                let sealed = w.flush();
                self.stored_locked += w.stats().stored - before;
                sealed
            }
            None => Ok(()),
        }
    }

    /// The unlock did not open the vault (a wrong passphrase): readings are stored
    /// write-only again.
    pub fn unlock_failed(&mut self) {
        self.unlocking = false;
        self.write_only_after = None;
    }

    /// Takes the open vault out for a long operation on it (a rekey) without locking: the
    /// session stays open, and readings that arrive meanwhile wait in memory, sealed as while
    /// locked, instead of waiting for the session (a serial port's buffer would overflow).
    /// [`Session::give_back`] writes them. `None` when locked (or already lent).
    pub fn lend(&mut self) -> Option<Vault> {
        let v = self.vault.take()?;
        self.pending.seal_to(v.write_key().ok().flatten());
        self.lent = true;
        Some(v)
    }

    /// Puts a lent vault back and writes the readings that waited ([`Session::install`]).
    pub fn give_back(&mut self, vault: Vault) -> Result<(), VaultError> {
        self.lent = false;
        self.install(vault)
    }

    /// Flushes and closes the vault; its key leaves memory. Readings now wait in memory,
    /// sealed to the vault's write-only key (taken from the vault before it closes).
    pub fn lock(&mut self) -> Result<(), VaultError> {
        match self.vault.take() {
            Some(v) => {
                let key = v.write_key().ok().flatten();
                self.pending.seal_to(key);
                self.write_key = key;
                self.write_only_after = None;
                self.stored_locked = 0;
                v.close()
            }
            None => Ok(()),
        }
    }

    /// The write-only handle readings go to while locked: opened on first use, and again
    /// [`WRITE_ONLY_RETRY`] after a failure. `None` while lent or unlocking, or when it
    /// cannot be opened (the readings then wait in memory).
    fn write_only_at(&mut self, now: Instant) -> Option<&mut WriteOnly> {
        #[cfg(test)]
        if self.memory_only {
            return None;
        }
        if self.write_only.is_none() && !self.lent && !self.unlocking {
            let due = self.write_only_after.is_none_or(|after| now >= after);
            if due {
                match self.open_write_only() {
                    Ok(w) => self.write_only = Some(w),
                    Err(e) => {
                        eprintln!(
                            "hearth: readings collected while locked wait in memory: the vault \
                             cannot be opened write-only ({e})"
                        );
                        self.write_only_after = Some(now + WRITE_ONLY_RETRY);
                    }
                }
            }
        }
        self.write_only.as_mut()
    }

    fn open_write_only(&mut self) -> Result<WriteOnly, VaultError> {
        let w = Vault::open_write_only(&self.path)?;
        match self.write_key {
            // The file's clear copy is not the key the vault held sealed: someone changed
            // the file, and readings sealed to it might open with another key.
            Some(held) if held != w.public_key() => Err(VaultError::Damaged {
                what: "the vault file's write-only key is not the one the unlocked vault \
                           holds"
                    .into(),
            }),
            _ => Ok(w),
        }
    }

    /// Stores readings received at `received_unix` (or keeps them in memory while locked);
    /// flushes when due. Readings without a meter time are stamped with the receive time in
    /// the vault's time zone; `live` readings are happening now, so the vault refuses any
    /// dated far past `received_unix` (a meter clock gone wrong), as [`collect::store`] does.
    pub fn append(
        &mut self,
        readings: &mut [Reading],
        received_unix: i64,
        live: bool,
        now: Instant,
    ) -> Result<(), VaultError> {
        if let Some(v) = &mut self.vault {
            return collect::store(v, readings, received_unix, live, now);
        }
        let tz = self.time_zone.clone();
        if let Some(w) = self.write_only_at(now) {
            let before = w.stats().stored;
            match collect::store_write_only(w, readings, received_unix, live, now, &tz) {
                Ok(()) => {
                    self.stored_locked += w.stats().stored - before;
                    return Ok(());
                }
                Err(e) => {
                    // A write failed (a full disk): the handle is given up with the block it
                    // gathered; these readings and the next ones wait in memory.
                    eprintln!("hearth: storing write-only failed, readings wait in memory: {e}");
                    self.write_only = None;
                    self.write_only_after = Some(now + WRITE_ONLY_RETRY);
                }
            }
        }
        collect::stamp(readings, received_unix, &tz);
        for r in readings.iter() {
            self.pending.push(r);
        }
        Ok(())
    }

    /// Readings stored write-only (on disk, sealed) since the vault was locked, counted when
    /// sealed (at least every [`hearth_vault::FLUSH_INTERVAL`]).
    pub fn stored_while_locked(&self) -> u64 {
        self.stored_locked
    }

    /// The open vault's time zone (the last one open while locked).
    pub fn time_zone(&self) -> &TimeZone {
        &self.time_zone
    }

    /// Readings waiting for an unlock.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Bytes of sealed readings waiting for an unlock (the open batch not counted).
    pub fn pending_bytes(&self) -> usize {
        self.pending.bytes
    }

    /// Readings collected while locked that were given up: the oldest, when more than
    /// [`PENDING_CAP_BYTES`] waited.
    pub fn dropped(&self) -> u64 {
        self.pending.dropped
    }

    /// Tests of the memory path (what happens while the vault is lent, being unlocked, or
    /// written by another process): never open write-only.
    #[cfg(test)]
    pub(crate) fn keep_in_memory(&mut self) {
        self.memory_only = true;
    }

    /// Sets the memory bound of readings waiting while locked (tests use a small one).
    #[cfg(test)]
    fn set_pending_cap(&mut self, bytes: usize) {
        self.pending.cap_bytes = bytes;
    }
}

/// Why a long task on the open vault ([`on_loan`]) did not run, or could not hand it back.
#[derive(Debug, thiserror::Error)]
pub enum LoanError {
    /// The vault is locked (or already out on loan).
    #[error("Unlock Hearth first.")]
    Locked,
    /// After the task, what waited in memory could not be written (it keeps waiting).
    #[error(transparent)]
    GiveBack(VaultError),
}

/// Runs `task` on the vault `session` holds open, lent out of it ([`Session::lend`]): a long
/// import or restore does not hold the session, so readings that arrive meanwhile wait in
/// memory, sealed, and are written when the vault is given back, whatever the task did.
pub fn on_loan<T>(
    session: &Mutex<Session>,
    task: impl FnOnce(&mut Vault) -> T,
) -> Result<T, LoanError> {
    let hold = || session.lock().unwrap_or_else(PoisonError::into_inner);
    let mut vault = hold().lend().ok_or(LoanError::Locked)?;
    let done = task(&mut vault);
    hold().give_back(vault).map_err(LoanError::GiveBack)?;
    Ok(done)
}

/// Beside a collector: another process holds the writer lock, and the session reads the
/// vault read-only until that process stops (see [`crate::follow`]).
impl Session {
    /// Puts a vault opened read-only beside another writer in place. Nothing is written to it:
    /// readings waiting in memory keep waiting for [`Session::take_over`].
    pub fn follow(&mut self, vault: Vault) {
        self.time_zone = vault.time_zone().clone();
        self.vault = Some(vault);
        self.unlocking = false;
    }

    /// Whether the session reads beside another writer ([`Session::follow`]).
    pub fn following(&self) -> bool {
        self.vault.as_ref().is_some_and(|v| !v.is_writer())
    }

    /// Becomes the writer, with the key the read-only vault holds (no passphrase), once the
    /// other writer is gone, and writes what waited in memory. `Ok(false)` while the other
    /// process still writes, or when the session is not following.
    pub fn take_over(&mut self) -> Result<bool, VaultError> {
        let Some(reader) = self.vault.as_ref().filter(|v| !v.is_writer()) else {
            return Ok(false);
        };
        let writer = match reader.writer_from() {
            Err(VaultError::Busy) => return Ok(false),
            other => other?,
        };
        self.install(writer)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_creation_that_fails_midway_removes_only_what_it_created() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("new/sub/v.hearth");
        std::fs::create_dir_all(dir.path().join("new")).expect("dir");
        std::fs::write(dir.path().join("new/keep.txt"), b"mine").expect("file");
        let made = created_or_removed(&path, || {
            std::fs::write(&path, b"half a vault")?;
            std::fs::write(dir.path().join("new/sub/v.hearth-wal"), b"wal")?;
            Err(VaultError::KdfParams("midway".into()))
        });
        assert!(matches!(made, Err(VaultError::KdfParams(_))));
        // `new` existed (it holds keep.txt), `new/sub` was made by this run: gone again.
        let mut left: Vec<_> = std::fs::read_dir(dir.path().join("new"))
            .expect("new")
            .map(|e| e.expect("entry").file_name())
            .collect();
        left.sort();
        assert_eq!(left, ["keep.txt"]);
    }

    #[test]
    fn a_new_vault_is_checked_before_anything_is_created() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("v.hearth");
        let kdf = KdfParams::INSECURE_FOR_TESTS;
        assert!(matches!(
            create_new(&path, "pw-words", kdf, Some("Europe/Amsterdm")),
            Err(CreateError::UnknownZone(z)) if z == "Europe/Amsterdm"
        ));
        let slow = KdfParams {
            memory_kib: MAX_KDF_MEMORY_KIB + 1,
            ..kdf
        };
        assert!(matches!(
            create_new(&path, "pw-words", slow, None),
            Err(CreateError::Kdf { .. })
        ));
        assert!(matches!(
            create_new(&path, "  ", kdf, None),
            Err(CreateError::Passphrase(_))
        ));
        assert!(!path.exists());
        let (v, zone) =
            create_new(&path, "pw-words", kdf, Some("Europe/Amsterdam")).expect("created");
        assert_eq!(zone.name, "Europe/Amsterdam");
        assert_eq!(v.time_zone().iana_name(), Some("Europe/Amsterdam"));
    }
    use crate::pending::BLOCK_READINGS;
    use hearth_meter::{MeterTime, Protocol, Quantity};
    use hearth_meter_io::simulator::Simulator;
    use hearth_vault::Resolution;
    use hearth_vault::codec;
    use hearth_vault::write_key::BLOCK_OVERHEAD;

    /// 2026-01-12T00:00:00Z, a Monday.
    const START: i64 = 1_768_176_000;
    const DAY: i64 = 86_400;

    /// The simulated meter's 1-s readings from [`START`] (the same every time for a seed).
    fn simulated(seed: u64) -> impl Iterator<Item = Reading> {
        let mut meter = Simulator::new(seed, START);
        std::iter::repeat_with(move || {
            meter.step();
            meter.reading()
        })
    }

    /// A locked store over a new vault in a fresh directory (removed by the caller).
    fn locked_store(name: &str) -> (Session, PathBuf) {
        let dir = std::env::temp_dir().join(format!("hearth-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("vault.hearth");
        create(&path, "pw", KdfParams::INSECURE_FOR_TESTS)
            .and_then(Vault::close)
            .expect("create");
        let mut s = Session::new(path);
        s.memory_only = true;
        assert_eq!(s.status(), Status::Locked);
        (s, dir)
    }

    /// Every raw reading in the vault, oldest first.
    fn stored(vault: &Vault) -> impl Iterator<Item = Reading> + '_ {
        vault
            .readings(i64::MIN / 2, i64::MAX / 2, Resolution::Raw)
            .expect("query")
            .map(|row| row.expect("row").reading)
    }

    /// Hands readings over as the collectors do (a replay: not live, no clock check).
    fn keep(s: &mut Session, readings: &[Reading]) -> Result<(), VaultError> {
        let mut batch = readings.to_vec();
        s.append(&mut batch, 0, false, Instant::now())
    }

    fn unix(r: &Reading) -> i64 {
        r.time.map_or(i64::MIN, |t| t.unix)
    }

    fn reading(t: i64, wh: i64) -> Reading {
        let mut r = Reading::new(Protocol::Dsmr);
        r.time = Some(MeterTime::utc(t));
        r.set(Quantity::ImportWh, wh);
        r.set(Quantity::ImportW, 3600);
        r
    }

    #[test]
    fn setup_open_lock_pending_unlock() {
        let dir = std::env::temp_dir().join(format!("hearth-store-test-{}", std::process::id()));
        let path = dir.join("sub").join("vault.hearth");
        let mut s = Session::new(path.clone());
        assert_eq!(s.status(), Status::Setup);
        let v = create(&path, "pw", KdfParams::INSECURE_FOR_TESTS).expect("create");
        s.install(v).expect("install");
        assert_eq!(s.status(), Status::Open);
        let t0 = 1_767_225_600; // 2026-01-01T00:00:00Z
        keep(&mut s, &[reading(t0, 1000), reading(t0 + 1, 1001)]).expect("append");
        s.lock().expect("lock");
        assert_eq!(s.status(), Status::Locked);
        // Locked: stored write-only, in the vault file, not in memory.
        keep(&mut s, &[reading(t0 + 2, 1002)]).expect("stored write-only");
        assert_eq!(s.pending(), 0, "nothing waits in memory");
        assert!(
            matches!(Vault::open(&path, "pw"), Err(VaultError::Busy)),
            "the write-only handle holds the writer lock until an unlock releases it"
        );
        s.release_for_unlock().expect("sealed");
        assert_eq!(s.stored_while_locked(), 1);
        assert_eq!(Vault::inbox_waiting(&path).expect("inbox"), 1);
        assert!(matches!(
            Vault::open(&path, "wrong"),
            Err(VaultError::WrongPassphrase)
        ));
        // While an unlock opens the vault, readings wait in memory; a failed unlock goes
        // back to write-only.
        keep(&mut s, &[reading(t0 + 3, 1003)]).expect("in memory");
        assert_eq!(s.pending(), 1);
        s.unlock_failed();
        keep(&mut s, &[reading(t0 + 4, 1004)]).expect("write-only again");
        assert_eq!(s.pending(), 1, "the new one went to the vault file");
        s.release_for_unlock().expect("sealed");
        assert_eq!(s.stored_while_locked(), 2);
        assert_eq!(Vault::inbox_waiting(&path).expect("inbox"), 2);
        let opened = Vault::open(&path, "pw").expect("open");
        assert_eq!(opened.inbox_report().readings, 2, "taken in at the open");
        s.install(opened).expect("install");
        assert_eq!(s.pending(), 0);
        assert_eq!(Vault::inbox_waiting(&path).expect("inbox"), 0);
        let times: Vec<i64> = stored(s.vault().expect("open")).map(|r| unix(&r)).collect();
        assert_eq!(times, (t0..=t0 + 4).collect::<Vec<_>>());
        drop(s);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn locked_readings_are_sealed_to_disk_at_each_checkpoint() {
        let (mut s, dir) = locked_store("write-only-checkpoints");
        s.memory_only = false;
        let path = s.path().to_path_buf();
        let t0 = START;
        let start = Instant::now();
        let mut batch = vec![reading(t0, 5000)];
        s.append(&mut batch, t0, false, start).expect("kept");
        assert_eq!(
            Vault::inbox_waiting(&path).expect("inbox"),
            0,
            "gathered, not yet sealed"
        );
        // Ten seconds later the checkpoint seals what was gathered into the vault file: a
        // crash from here on loses nothing of it.
        let mut batch = vec![reading(t0 + 10, 5001)];
        // (The handle opened after `start`: a second more is a full interval after it.)
        let later = start + hearth_vault::FLUSH_INTERVAL + Duration::from_secs(1);
        s.append(&mut batch, t0 + 10, false, later).expect("kept");
        assert_eq!(Vault::inbox_waiting(&path).expect("inbox"), 1);
        assert_eq!(s.stored_while_locked(), 2);
        assert_eq!(s.pending(), 0);
        drop(s);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_write_only_key_replaced_in_the_file_while_locked_is_never_sealed_to() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("vault.hearth");
        let mut s = Session::new(path.clone());
        s.install(create(&path, "pw", KdfParams::INSECURE_FOR_TESTS).expect("create"))
            .expect("install");
        s.lock().expect("lock");
        // Someone who can write the file (but holds no key) puts their own key in its clear
        // copy, hoping the locked app seals what it collects to it.
        let theirs = [9u8; 32];
        assert_eq!(
            hearth_vault::damage::replace_clear_write_key(&path, theirs).expect("replaced"),
            1
        );
        let start = Instant::now();
        let mut batch = vec![reading(START, 1)];
        s.append(&mut batch, START, false, start).expect("kept");
        assert_eq!(
            s.pending(),
            1,
            "kept in memory, sealed to the key the vault held"
        );
        assert_eq!(Vault::inbox_waiting(&path).expect("inbox"), 0);
        assert!(s.write_only.is_none());
    }

    #[test]
    fn beside_another_writer_locked_readings_wait_in_memory_then_go_to_disk() {
        let (mut s, dir) = locked_store("write-only-busy");
        s.memory_only = false;
        let path = s.path().to_path_buf();
        let other = Vault::open_write_only(&path).expect("another collector");
        let start = Instant::now();
        let mut batch = vec![reading(START, 7000)];
        s.append(&mut batch, START, false, start)
            .expect("in memory");
        assert_eq!(s.pending(), 1, "the other process holds the writer lock");
        drop(other);
        // Not tried again before the retry interval has passed.
        let mut batch = vec![reading(START + 1, 7001)];
        s.append(&mut batch, START + 1, false, start + Duration::from_secs(1))
            .expect("in memory");
        assert_eq!(s.pending(), 2);
        let mut batch = vec![reading(START + 61, 7002)];
        s.append(&mut batch, START + 61, false, start + WRITE_ONLY_RETRY)
            .expect("write-only");
        assert_eq!(s.pending(), 2, "the third went to the vault file");
        s.release_for_unlock().expect("sealed");
        s.install(Vault::open(&path, "pw").expect("open"))
            .expect("install");
        let times: Vec<i64> = stored(s.vault().expect("open")).map(|r| unix(&r)).collect();
        assert_eq!(times, vec![START, START + 1, START + 61]);
        drop(s);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn three_locked_days_come_back_exactly_after_unlock() {
        let (mut s, dir) = locked_store("three-days");
        let n = 3 * DAY as usize;
        // Batches of 7 (the demo and the reader hand over 1 or a few), crossing block edges.
        let mut readings = simulated(1).take(n);
        loop {
            let batch: Vec<Reading> = readings.by_ref().take(7).collect();
            if batch.is_empty() {
                break;
            }
            keep(&mut s, &batch).expect("kept");
        }
        assert_eq!(s.pending(), n);
        assert_eq!(s.dropped(), 0);
        // Full blocks only, nothing left open; 30 days at this rate (10 times three) fit the cap.
        assert_eq!(s.pending.blocks.len(), n / BLOCK_READINGS);
        assert!(s.pending.open.is_empty());
        let bytes = s.pending_bytes();
        println!(
            "three simulated days: {bytes} B sealed = {:.3} B/reading",
            bytes as f64 / n as f64
        );
        assert!(
            bytes * 10 <= PENDING_CAP_BYTES,
            "{bytes} bytes for three days"
        );

        s.install(Vault::open(s.path(), "pw").expect("open"))
            .expect("install");
        assert_eq!(s.pending(), 0);
        assert_eq!(s.pending_bytes(), 0);
        let vault = s.vault().expect("open");
        let stats = vault.stats();
        assert_eq!(
            (stats.stored, stats.late, stats.duplicates),
            (n as u64, 0, 0)
        );
        // Every reading back, equal to what the meter sent, in order.
        let mut expected = simulated(1);
        let mut count = 0;
        let (mut first, mut last) = (None, None);
        for got in stored(vault) {
            let want = expected.next().expect("no more readings than appended");
            assert_eq!(got, want, "reading {count}");
            first.get_or_insert_with(|| want.clone());
            last = Some(want);
            count += 1;
        }
        assert_eq!(count, n);
        let (first, last) = (first.expect("first"), last.expect("last"));
        // One a second from START: the first at START itself.
        assert_eq!(unix(&first), START);
        assert_eq!(unix(&last), START + 3 * DAY - 1);
        // The rollups saw the same readings: the days' energy adds up to the register
        // difference between the first and the last reading.
        for q in [Quantity::ImportWh, Quantity::ExportWh, Quantity::GasDm3] {
            let used: i64 = vault
                .readings(START - DAY, START + 5 * DAY, Resolution::Day)
                .expect("days")
                .map(|row| row.expect("day").used(q).unwrap_or(0))
                .sum();
            let (a, b) = (first.get(q).expect("first"), last.get(q).expect("last"));
            assert!(b > a, "{q:?} moved over three days");
            assert_eq!(used, b - a, "{q:?}");
        }
        drop(s);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_byte_cap_drops_the_oldest_blocks_and_counts_them() {
        let (mut s, dir) = locked_store("cap");
        let all: Vec<Reading> = simulated(2).take(5 * BLOCK_READINGS + 100).collect();
        let size: Vec<usize> = all
            .chunks(BLOCK_READINGS)
            .take(5)
            .map(|c| codec::encode(c).len() + BLOCK_OVERHEAD)
            .collect();
        // Room for exactly the last three blocks: blocks 0 and 1 must go, 2 to 4 stay.
        let cap = size[2] + size[3] + size[4];
        s.set_pending_cap(cap);
        for r in &all {
            keep(&mut s, std::slice::from_ref(r)).expect("kept");
        }
        assert_eq!(s.dropped(), 2 * BLOCK_READINGS as u64);
        assert_eq!(s.pending(), 3 * BLOCK_READINGS + 100);
        assert_eq!(s.pending_bytes(), cap);

        s.install(Vault::open(s.path(), "pw").expect("open"))
            .expect("install");
        let vault = s.vault().expect("open");
        let back: Vec<Reading> = stored(vault).collect();
        assert_eq!(back.len(), 3 * BLOCK_READINGS + 100);
        assert_eq!(unix(&back[0]), START + 2 * BLOCK_READINGS as i64);
        assert!(
            back == all[2 * BLOCK_READINGS..],
            "the newest readings, unchanged"
        );
        drop(s);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn pending_counts_and_order_holds_across_blocks() {
        let (mut s, dir) = locked_store("order");
        let all: Vec<Reading> = simulated(3).take(2 * BLOCK_READINGS + 2).collect();
        keep(&mut s, &all[..BLOCK_READINGS - 1]).expect("kept");
        assert_eq!(s.pending(), BLOCK_READINGS - 1);
        assert_eq!(s.pending_bytes(), 0, "still one open batch");
        keep(&mut s, &all[BLOCK_READINGS - 1..BLOCK_READINGS]).expect("kept");
        assert_eq!(s.pending(), BLOCK_READINGS);
        assert_eq!(
            s.pending_bytes(),
            codec::encode(&all[..BLOCK_READINGS]).len() + BLOCK_OVERHEAD,
            "the first block sealed"
        );
        // One call that fills the second block and opens a third.
        keep(&mut s, &all[BLOCK_READINGS..]).expect("kept");
        assert_eq!(s.pending(), 2 * BLOCK_READINGS + 2);
        assert_eq!(s.pending.blocks.len(), 2);
        assert_eq!(s.pending.open.len(), 2);

        s.install(Vault::open(s.path(), "pw").expect("open"))
            .expect("install");
        let vault = s.vault().expect("open");
        // In order: none arrived late, and each comes back where it was.
        assert_eq!(vault.stats().late, 0);
        let back: Vec<Reading> = stored(vault).collect();
        assert!(back == all, "{} readings back", back.len());
        drop(s);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_block_that_does_not_decode_is_counted_and_the_rest_written() {
        let (mut s, dir) = locked_store("undecodable");
        let all: Vec<Reading> = simulated(4).take(3 * BLOCK_READINGS).collect();
        keep(&mut s, &all).expect("kept");
        assert_eq!(s.pending.blocks.len(), 3);
        // Damage the middle block (memory does not do this; the type says it could).
        s.pending.blocks[1].bytes = Box::from(&b"\x01\x00\x05garbage"[..]);
        s.install(Vault::open(s.path(), "pw").expect("open"))
            .expect("install");
        assert_eq!(s.dropped(), BLOCK_READINGS as u64);
        assert_eq!(s.pending(), 0);
        let back: Vec<Reading> = stored(s.vault().expect("open")).collect();
        assert_eq!(back.len(), 2 * BLOCK_READINGS);
        assert!(back[..BLOCK_READINGS] == all[..BLOCK_READINGS]);
        assert!(back[BLOCK_READINGS..] == all[2 * BLOCK_READINGS..]);
        drop(s);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_vault_that_refuses_the_readings_leaves_them_waiting() {
        let (mut s, dir) = locked_store("refused");
        let all: Vec<Reading> = simulated(5).take(BLOCK_READINGS + 10).collect();
        keep(&mut s, &all).expect("kept");
        // A read-only vault cannot take them: nothing is lost, the store stays locked.
        let read_only = Vault::open_read_only(s.path(), "pw").expect("open read-only");
        assert!(matches!(s.install(read_only), Err(VaultError::ReadOnly)));
        assert_eq!(s.status(), Status::Locked);
        assert_eq!(s.pending(), BLOCK_READINGS + 10);
        assert_eq!(s.dropped(), 0);
        s.install(Vault::open(s.path(), "pw").expect("open"))
            .expect("install");
        let back: Vec<Reading> = stored(s.vault().expect("open")).collect();
        assert!(back == all, "{} readings back", back.len());
        drop(s);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_vault_that_refuses_them_twice_in_a_row_can_still_be_unlocked() {
        let (mut s, dir) = locked_store("refused-twice");
        let all: Vec<Reading> = simulated(6).take(BLOCK_READINGS + 10).collect();
        keep(&mut s, &all).expect("kept");
        for _ in 0..2 {
            let read_only = Vault::open_read_only(s.path(), "pw").expect("open read-only");
            assert!(matches!(s.install(read_only), Err(VaultError::ReadOnly)));
        }
        // Given up after the second refusal, and counted; the next unlock works.
        assert_eq!(
            (s.pending(), s.dropped()),
            (0, (BLOCK_READINGS + 10) as u64)
        );
        s.install(Vault::open(s.path(), "pw").expect("open"))
            .expect("install");
        assert_eq!(s.status(), Status::Open);
        assert_eq!(stored(s.vault().expect("open")).count(), 0);
        drop(s);
        let _ = std::fs::remove_dir_all(&dir);
    }
    /// A new Amsterdam vault, open in a session, in a fresh directory.
    fn amsterdam_session() -> (Session, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("vault.hearth");
        let vault = Vault::create(
            &path,
            "pw",
            &CreateOptions {
                kdf: KdfParams::INSECURE_FOR_TESTS,
                time_zone: Some("Europe/Amsterdam".into()),
            },
        )
        .expect("create");
        let mut s = Session::new(path);
        s.install(vault).expect("install");
        (s, dir)
    }

    #[test]
    fn a_live_reading_dated_in_the_future_is_refused() {
        // The desktop's store appended without telling the vault the time, so a meter whose
        // clock jumped a day ahead booked a day of readings that had not happened.
        let (mut s, _dir) = amsterdam_session();
        let now = 1_767_225_600; // 2026-01-01T00:00:00Z
        let mut batch = vec![reading(now, 1000), reading(now + 86_400, 1001)];
        s.append(&mut batch, now, true, Instant::now())
            .expect("append");
        let v = s.vault().expect("open");
        assert_eq!((v.stats().stored, v.stats().future), (1, 1));
        assert_eq!(v.last_time(), Some(now));
        // A replay of the past is not live: its times are the meter's, whatever the clock.
        let (mut replay, _dir) = amsterdam_session();
        let mut old = vec![reading(now, 1000), reading(now + 86_400, 1002)];
        replay
            .append(&mut old, now, false, Instant::now())
            .expect("append");
        let v = replay.vault().expect("open");
        assert_eq!((v.stats().stored, v.stats().future), (2, 0));
    }

    #[test]
    fn readings_without_a_meter_time_are_stamped_in_the_vaults_zone() {
        // The desktop stamped them in the system's zone (UTC on this machine), the CLI in the
        // vault's: an Amsterdam vault's SML readings must show +01:00 in winter either way.
        let (mut s, _dir) = amsterdam_session();
        let received = 1_767_225_600; // 2026-01-01T00:00:00Z, 01:00 in Amsterdam
        let mut r = Reading::new(Protocol::Sml);
        r.set(Quantity::ImportWh, 5_000);
        s.append(&mut [r.clone()], received, true, Instant::now())
            .expect("append");
        s.vault_mut().expect("open").flush().expect("flush");
        let back: Vec<Reading> = stored(s.vault().expect("open")).collect();
        assert_eq!(back.len(), 1);
        assert_eq!(
            back[0].time,
            Some(MeterTime {
                unix: received,
                offset_s: 3600
            })
        );
        // Locked, it is stamped the same way and written on unlock.
        let path = s.path().to_path_buf();
        s.lock().expect("lock");
        s.append(&mut [r], received + 1, true, Instant::now())
            .expect("kept");
        s.release_for_unlock().expect("sealed");
        assert_eq!(s.stored_while_locked(), 1, "stored write-only");
        s.install(Vault::open(&path, "pw").expect("open"))
            .expect("install");
        let back: Vec<Reading> = stored(s.vault().expect("open")).collect();
        assert_eq!(
            back[1].time,
            Some(MeterTime {
                unix: received + 1,
                offset_s: 3600
            })
        );
    }
}
