//! What can go wrong opening, writing and reading a vault, in words a homeowner can act on.

use std::path::PathBuf;

/// Every failure of the vault API. Each variant's message is meant to be shown as is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The passphrase does not unlock this vault.
    #[error("wrong passphrase: it does not unlock this vault")]
    WrongPassphrase,
    /// The vault has no OS-keyring slot (it was never turned on, or was turned off), so a
    /// keyring secret cannot open it.
    #[error(
        "the OS keyring is not set up for this vault (it was turned off); unlock it with your \
         passphrase"
    )]
    NoSecretSlot,
    /// The secret from the OS keyring does not open this vault's keyring slot.
    #[error(
        "the key kept in the OS keyring does not unlock this vault (it belongs to another vault \
         or was replaced); unlock it with your passphrase and turn the keyring on again"
    )]
    WrongSecret,
    /// Opening for writing found the file or its directory read-only (read-only medium,
    /// permissions).
    #[error(
        "The vault at {0} is on read-only storage (or not writable by you): collecting needs \
         write access; you can still read and export it."
    )]
    ReadOnlyStorage(PathBuf),
    /// The file exists but is not a Hearth vault (or its header is damaged).
    #[error("{0} is not a Hearth vault (or its header is damaged)")]
    NotAVault(PathBuf),
    /// The vault was written by a newer Hearth.
    #[error("this vault uses format version {found}; this Hearth reads up to version {supported}")]
    UnsupportedVersion {
        /// Version in the file.
        found: u32,
        /// Newest version this build reads.
        supported: u32,
    },
    /// `create` was asked to overwrite an existing file.
    #[error("{0} already exists; refusing to overwrite it")]
    AlreadyExists(PathBuf),
    /// No vault at the given path.
    #[error("no vault at {0}; create one with `hearth init`")]
    Missing(PathBuf),
    /// A sealed record failed authentication: damaged, swapped or moved.
    #[error("damaged data in the vault ({what}): it failed its integrity check")]
    Damaged {
        /// Which record (`raw chunk at 2026-01-01T10:00:00Z`, `setting tariffs`).
        what: String,
    },
    /// The Argon2 parameters are unusable (too little memory, zero passes).
    #[error("invalid key-derivation parameters: {0}")]
    KdfParams(String),
    /// The operating system could not provide random bytes.
    #[error("the system random number generator failed")]
    Random,
    /// The writer-lock side file beside the vault (`v.hearth.writer-lock`) cannot be used:
    /// damaged, a folder, or not writable. It holds no readings, only the lock.
    #[error(
        "the lock file beside the vault, {path}, {problem}; if no other Hearth is using the \
         vault, delete it and try again (it holds no readings, Hearth makes a new one)"
    )]
    WriterLock {
        /// The side file.
        path: PathBuf,
        /// What is wrong with it.
        problem: WriterLockProblem,
    },
    /// A write-only collector was pointed at a vault that has no write-only key yet.
    #[error(
        "this vault has no write-only key yet: unlock Hearth once with your passphrase; it \
         then makes the key a write-only collector needs"
    )]
    NoWriteKey,
    /// Another process holds the writer lock.
    #[error("another Hearth process (a collector or import) is already writing to this vault")]
    Busy,
    /// An earlier write failed; the handle stopped writing to keep the file consistent.
    #[error(
        "an earlier write to the vault failed (disk full?); open the vault again to continue \
         from its last checkpoint"
    )]
    Poisoned,
    /// This handle was opened read-only.
    #[error("this vault was opened read-only")]
    ReadOnly,
    /// A backup file could not be used.
    #[error("backup: {0}")]
    Backup(String),
    /// SQLite reported an error (disk full, locked by another writer, I/O).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Reading or writing a file failed.
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
    /// CSV writing failed.
    #[error("CSV export failed: {0}")]
    Csv(#[from] csv::Error),
    /// Key-derivation settings above the ceilings (from a vault or backup header, or options):
    /// refused before deriving anything, so they cannot make Hearth hang or run out of memory.
    #[error(
        "the key-derivation settings ({memory_kib} KiB of memory, {iterations} passes, \
         {parallelism} lanes) ask for more than Hearth allows (at most 2 GiB, 16 passes, 16 \
         lanes): a vault or backup asking for them is damaged or was tampered with"
    )]
    KdfTooCostly {
        /// Memory asked, KiB.
        memory_kib: u32,
        /// Passes asked.
        iterations: u32,
        /// Lanes asked.
        parallelism: u32,
    },
    /// Key-derivation settings below the floor (or unusable): a stolen copy would be quick to
    /// guess.
    #[error(
        "the key-derivation settings ({memory_kib} KiB of memory, {iterations} passes, \
         {parallelism} lanes) are too weak: Hearth needs at least 19 MiB (19456 KiB), 2 passes \
         and 1 lane, or a stolen copy of the vault could be guessed quickly"
    )]
    KdfTooWeak {
        /// Memory asked, KiB.
        memory_kib: u32,
        /// Passes asked.
        iterations: u32,
        /// Lanes asked.
        parallelism: u32,
    },
    /// Rekeying found a table this build does not know how to re-seal (written by a newer
    /// Hearth); nothing was changed.
    #[error(
        "this vault holds records this Hearth cannot re-seal (table {0}, from a newer \
         Hearth?); nothing was changed, the old key still opens it"
    )]
    UnknownRecords(String),
    /// The file holds an SQLite object no Hearth file has (a trigger, a view, or in a backup an
    /// unknown table): it was not made by Hearth or was tampered with, and is not read.
    #[error(
        "{} holds {kind} `{name}`, which no Hearth file has: it was not made by Hearth or was \
         tampered with, so Hearth does not read it",
        path.display()
    )]
    UnexpectedSchema {
        /// The file.
        path: PathBuf,
        /// `a trigger`, `a view`, `a table`, `an index`.
        kind: &'static str,
        /// The object's name (at most 40 characters).
        name: String,
    },
}

/// What is wrong with a vault's writer-lock side file ([`VaultError::WriterLock`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WriterLockProblem {
    /// Its bytes are not a lock file (overwritten, cut, or another program's file).
    #[error("is damaged")]
    Damaged,
    /// A folder has its name.
    #[error("is a folder, not a file")]
    Folder,
    /// It cannot be opened for reading and writing (its permissions).
    #[error("cannot be opened for writing (check its permissions)")]
    NoAccess,
}

/// Shorthand for vault results.
pub type Result<T, E = VaultError> = std::result::Result<T, E>;
