//! Creating and opening a vault: the plaintext header, the key-derivation function and the
//! key slots that unwrap the data key, the single-writer lock, read-only connections, and
//! the writer resuming from its last checkpoint.

use super::settings::{self, TZ_SETTING};
use super::writer::new_writer;
use super::{Vault, hex};
use crate::error::{Result, VaultError};
use crate::keys::{self, KEYRING_SLOT, KdfParams};
use crate::manifest::{self, Entry, Integrity, Manifest};
use crate::private;
use crate::resolution::Resolution;
use crate::rollup::Builder;
use crate::schema::{self, FORMAT_VERSION, Header, SCHEMA, SLOT_TABLE, read_slot};
use crate::seal::{RecordKind, Sealer};
use crate::wire::Malformed;
use jiff::tz::TimeZone;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::fs::OpenOptions;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Options for [`Vault::create`].
#[derive(Clone, Debug, Default)]
pub struct CreateOptions {
    /// Argon2id cost (use [`KdfParams::INSECURE_FOR_TESTS`] only in tests).
    pub kdf: KdfParams,
    /// IANA time zone for local days and months (`Europe/Amsterdam`); `None` = the system's.
    pub time_zone: Option<String>,
}

/// What the plaintext header of a vault says, readable without any key
/// ([`Vault::inspect`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaultInfo {
    /// The vault's random id, 32 lowercase hex digits (not personal data; names the vault's
    /// OS-keyring entry).
    pub id_hex: String,
    /// The format version in the file.
    pub format: u32,
    /// Whether an OS-keyring key slot is set up ([`Vault::enable_secret_slot`]).
    pub secret_slot: bool,
    /// The Argon2id settings the passphrase key is derived with.
    pub kdf: KdfParams,
}

/// What unlocks the data key: the passphrase, the secret of the OS-keyring slot, or the data
/// key itself, held by an open handle ([`Vault::writer_from`]).
#[derive(Clone, Copy)]
enum Key<'a> {
    Passphrase(&'a str),
    Secret(&'a [u8; 32]),
    Held(&'a [u8; 32]),
}

fn lock_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".writer-lock");
    PathBuf::from(p)
}

/// Takes the single-writer lock: an exclusive SQLite lock on a small side file, held for
/// the life of the connection and released by the OS if the process dies. A 0-byte side
/// file (what a crash while it was being made can leave) is simply taken; one that cannot be
/// used (damaged, a folder, not writable) is [`VaultError::WriterLock`], naming it, rather
/// than SQLite's words about "a database".
fn take_writer_lock(path: &Path) -> Result<Connection> {
    let lock_file = lock_path(path);
    // Made (or kept) private before SQLite opens it; a race with another creator is fine.
    if private::create_file(&lock_file).is_err() {
        private::tighten(&lock_file);
    }
    let lock = Connection::open(&lock_file).map_err(|e| lock_error(&lock_file, e))?;
    lock.busy_timeout(Duration::ZERO)?;
    let taken = lock
        .pragma_update(None, "locking_mode", "EXCLUSIVE")
        .and_then(|()| {
            lock.execute_batch(
                "BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS writer (id INTEGER); COMMIT;",
            )
        });
    match taken {
        Ok(()) => Ok(lock),
        Err(e) => Err(lock_error(&lock_file, e)),
    }
}

/// What a failure to take the writer lock on `lock_file` means for the homeowner.
fn lock_error(lock_file: &Path, e: rusqlite::Error) -> VaultError {
    use crate::error::WriterLockProblem as Problem;
    use rusqlite::ErrorCode as Code;
    let unusable = |problem| VaultError::WriterLock {
        path: lock_file.to_path_buf(),
        problem,
    };
    match e.sqlite_error_code() {
        Some(Code::DatabaseBusy) => VaultError::Busy,
        Some(Code::NotADatabase | Code::DatabaseCorrupt) => unusable(Problem::Damaged),
        Some(Code::CannotOpen | Code::ReadOnly | Code::PermissionDenied) => {
            if lock_file.is_dir() {
                unusable(Problem::Folder)
            } else {
                unusable(Problem::NoAccess)
            }
        }
        _ => VaultError::Sqlite(e),
    }
}

fn time_zone_named(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or(TimeZone::UTC)
}
impl Vault {
    /// Creates a new vault at `path` protected by `passphrase`. Fails if the file exists.
    pub fn create(path: &Path, passphrase: &str, options: &CreateOptions) -> Result<Vault> {
        if path.exists() {
            return Err(VaultError::AlreadyExists(path.to_path_buf()));
        }
        // Key-derivation bounds before anything is written.
        options.kdf.check()?;
        let lock = take_writer_lock(path)?;
        // Only the owner may read it, whatever the umask; SQLite's -wal and -shm follow.
        private::create_file(path)?;
        let conn = Connection::open(path)?;
        configure(&conn)?;
        conn.execute_batch(SCHEMA)?;
        conn.execute_batch(manifest::TABLES)?;
        let vault_id: [u8; 16] = keys::random()?;
        let salt: [u8; 16] = keys::random()?;
        let data_key = keys::random_key()?;
        let wrapped_key = keys::wrap(&vault_id, &data_key, passphrase, &options.kdf, &salt)?;
        let header = Header {
            format: FORMAT_VERSION,
            vault_id,
            kdf: options.kdf,
            salt,
            wrapped_key,
        };
        conn.pragma_update(None, "synchronous", "FULL")?;
        header.write(&conn)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let tz_name = options
            .time_zone
            .clone()
            .or_else(|| TimeZone::system().iana_name().map(str::to_string))
            .unwrap_or_else(|| "UTC".to_string());
        let tz = TimeZone::get(&tz_name)
            .map_err(|_| VaultError::Backup(format!("unknown time zone '{tz_name}'")))?;
        let manifest = Manifest::build(&conn, manifest::key_for(&data_key))?;
        let mut v = Vault {
            conn,
            path: path.to_path_buf(),
            sealer: Sealer::new(&data_key),
            header,
            names_key: Some(settings::names_key(&data_key)),
            manifest: Some(manifest),
            integrity: Integrity::Intact,
            data_key,
            tz: tz.clone(),
            writer: Some(new_writer(tz, lock)),
            writer_state_rebuilt: false,
            inbox: Default::default(),
        };
        v.begin()?;
        v.write_setting(TZ_SETTING, tz_name.as_bytes())?;
        v.flush()?;
        crate::write_key::ensure(&mut v)?;
        Ok(v)
    }

    /// Opens an existing vault as its single writer. Fails with [`VaultError::Busy`] if
    /// another process is writing, and [`VaultError::WrongPassphrase`] for a wrong passphrase.
    /// On read-only storage (or without write permission) it fails with
    /// [`VaultError::ReadOnlyStorage`]; [`Vault::open_read_only`] still works there.
    pub fn open(path: &Path, passphrase: &str) -> Result<Vault> {
        Vault::open_writer(path, Key::Passphrase(passphrase))
    }

    /// Opens an existing vault as its single writer with the secret kept in the OS keyring
    /// (see [`Vault::enable_secret_slot`]). Fails with [`VaultError::NoSecretSlot`] when the
    /// vault has no keyring slot (turned off) and [`VaultError::WrongSecret`] when the secret
    /// is not this vault's.
    pub fn open_with_secret(path: &Path, secret: &[u8; 32]) -> Result<Vault> {
        Vault::open_writer(path, Key::Secret(secret))
    }

    fn open_writer(path: &Path, key: Key<'_>) -> Result<Vault> {
        let (conn, lock) = writer_connection(path)?;
        let mut v = Vault::unlock(conn, path, key)?;
        // Vaults made before key slots existed get the (empty) table on their first write open.
        v.conn.execute_batch(SLOT_TABLE)?;
        if v.header.format < 2 {
            v.upgrade_to_format_2()?;
        }
        v.resume(lock)?;
        crate::write_key::ensure(&mut v)?;
        // Readings a write-only collector left (`crate::write_only`).
        v.inbox = crate::write_only::take_in(&mut v)?;
        // A vault an older build made below today's key-derivation floor: its key is wrapped
        // again at the default settings, now that the passphrase is at hand.
        if let (Key::Passphrase(passphrase), Err(VaultError::KdfTooWeak { .. })) =
            (key, v.header.kdf.check())
        {
            v.change_passphrase(passphrase, Some(KdfParams::default()))?;
        }
        Ok(v)
    }

    /// Opens an existing vault for reading only; works while another process writes, and on
    /// read-only storage (a CD, a read-only mount, a copy without write permission).
    pub fn open_read_only(path: &Path, passphrase: &str) -> Result<Vault> {
        Vault::unlock(reader_connection(path)?, path, Key::Passphrase(passphrase))
    }

    /// [`Vault::open_read_only`] with the secret kept in the OS keyring.
    pub fn open_read_only_with_secret(path: &Path, secret: &[u8; 32]) -> Result<Vault> {
        Vault::unlock(reader_connection(path)?, path, Key::Secret(secret))
    }

    /// A second handle on this vault's file for reading only, with the same key (no key
    /// derivation, no passphrase): history, costs and exports read through it beside the
    /// writer without holding the writer. It sees what the writer has checkpointed, at most
    /// [`FLUSH_INTERVAL`](crate::FLUSH_INTERVAL) behind the writer's newest readings.
    pub fn reader(&self) -> Result<Vault> {
        Ok(Vault {
            conn: reader_connection(&self.path)?,
            path: self.path.clone(),
            sealer: Sealer::new(&self.data_key),
            header: self.header.clone(),
            names_key: self.names_key.as_ref().map(|k| keys::copy_key(k)),
            // A reader never writes: it checks records against the rows the file holds.
            manifest: self
                .manifest
                .as_ref()
                .map(|_| Manifest::reader(manifest::key_for(&self.data_key))),
            integrity: self.integrity.clone(),
            data_key: keys::copy_key(&self.data_key),
            tz: self.tz.clone(),
            writer: None,
            writer_state_rebuilt: false,
            inbox: Default::default(),
        })
    }

    /// Opens this handle's vault file again as its single writer, with the data key this
    /// handle holds: no passphrase, no key derivation. A reader beside a collector takes over
    /// writing this way when the collector stops. [`VaultError::Busy`] while another writer
    /// runs; a key that no longer opens the vault (replaced meanwhile by a rekey) is
    /// [`VaultError::Damaged`], as an old key put back is.
    pub fn writer_from(&self) -> Result<Vault> {
        Vault::open_writer(&self.path, Key::Held(&self.data_key))
    }

    /// Reads the plaintext header without any key: the vault id and whether an OS-keyring
    /// slot is set up. Works on read-only storage and while a writer runs.
    pub fn inspect(path: &Path) -> Result<VaultInfo> {
        let conn = reader_connection(path)?;
        let header = Header::read(&conn, path)?;
        let secret_slot = read_slot(&conn, KEYRING_SLOT)
            .map_err(|_| VaultError::NotAVault(path.to_path_buf()))?
            .is_some();
        Ok(VaultInfo {
            id_hex: hex(&header.vault_id),
            format: header.format,
            secret_slot,
            kdf: header.kdf,
        })
    }

    /// Whether the vault at `path` has an OS-keyring slot (header only, no key needed).
    pub fn has_secret_slot(path: &Path) -> Result<bool> {
        Ok(Vault::inspect(path)?.secret_slot)
    }

    fn unlock(conn: Connection, path: &Path, key: Key<'_>) -> Result<Vault> {
        let header = Header::read(&conn, path)?;
        schema::check_objects(&conn, path, false)?;
        let data_key = match key {
            Key::Passphrase(passphrase) => keys::unwrap(
                &header.vault_id,
                &header.wrapped_key,
                passphrase,
                &header.kdf,
                &header.salt,
            )?,
            Key::Secret(secret) => {
                let wrapped = read_slot(&conn, KEYRING_SLOT)?.ok_or(VaultError::NoSecretSlot)?;
                keys::unwrap_from_slot(&header.vault_id, KEYRING_SLOT, &wrapped, secret)?
            }
            Key::Held(key) => keys::copy_key(key),
        };
        let sealer = Sealer::new(&data_key);
        let (names_key, manifest, integrity) = if header.format >= 2 {
            let (m, integrity) = Manifest::load(
                &conn,
                &sealer,
                &header.vault_id,
                manifest::key_for(&data_key),
            )?;
            (Some(settings::names_key(&data_key)), Some(m), integrity)
        } else {
            (None, None, Integrity::NoManifest)
        };
        let mut v = Vault {
            conn,
            path: path.to_path_buf(),
            sealer,
            header,
            names_key,
            manifest,
            integrity,
            data_key,
            tz: TimeZone::UTC,
            writer: None,
            writer_state_rebuilt: false,
            inbox: Default::default(),
        };
        // A root that does not open is damage only if the key opens the records: an old
        // header or key slot put back unwraps an old key, which must open nothing.
        if matches!(v.integrity, Integrity::Broken(_)) {
            let rows = v.setting_rows()?;
            if !rows.is_empty() && rows.iter().all(Result::is_err) {
                return Err(VaultError::Damaged {
                    what: "no record opens with this key (an old header or key slot put back?)"
                        .into(),
                });
            }
        }
        if let Some(name) = v.get_setting(TZ_SETTING)? {
            v.tz = time_zone_named(&String::from_utf8_lossy(&name));
        }
        Ok(v)
    }

    /// Restores the writer's state from the last checkpoint.
    fn resume(&mut self, lock: Connection) -> Result<()> {
        let mut w = new_writer(self.tz.clone(), lock);
        let state: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT sealed FROM writer_state WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?;
        let mut rebuild = false;
        match state {
            Some(sealed) => {
                // The writer state is a cache of what the raw chunks already hold: if it cannot
                // be opened or read (a damaged page, a state written by another build), it is
                // rebuilt from the chunks rather than blocking collection for good.
                let this = &*self;
                let current = this.manifest.is_none()
                    || manifest::is_current(&this.conn, &Entry::WRITER_STATE, &sealed)?;
                let decoded =
                    current
                        .then(|| {
                            this.sealer
                                .open(&this.aad(RecordKind::WriterState, 0, 0, b""), &sealed)
                        })
                        .flatten()
                        .and_then(|plain| {
                            Builder::decode_state(this.tz.clone(), &plain, |res, window, len| {
                                match this.rollup_chunk(res, window) {
                                    Ok(Some(mut buckets)) if buckets.len() >= len => {
                                        buckets.truncate(len);
                                        Ok(buckets)
                                    }
                                    _ => Err(Malformed),
                                }
                            })
                            .ok()
                        });
                match decoded {
                    Some(builder) => {
                        // A checkpoint from before registers were tracked one by one: its
                        // rollups lack energy if readings carried different registers.
                        if builder.legacy && self.newest_readings_mixed()? {
                            rebuild = true;
                        }
                        w.builder = builder;
                    }
                    None => {
                        self.writer_state_rebuilt = true;
                        rebuild = self.newest_raw_window()?.is_some();
                    }
                }
            }
            // A vault made from a backup, or older than its first checkpoint: rebuild.
            None => rebuild = self.newest_raw_window()?.is_some(),
        }
        w.last_time = w.builder.prev.as_ref().map(|p| p.t);
        self.writer = Some(w);
        if rebuild {
            if let Some(w) = &mut self.writer {
                w.dirty = true;
            }
            self.begin()?;
            self.rebuild_rollups(i64::MIN)?;
            self.flush()?;
            if let Some(w) = &mut self.writer {
                w.last_time = w.builder.prev.as_ref().map(|p| p.t);
            }
        }
        // The open raw chunk continues where the last checkpoint left it.
        let last_time = self.writer.as_ref().and_then(|w| w.last_time);
        if let Some(t) = last_time {
            let window = Resolution::Raw.chunk_start(t);
            let readings = self.raw_chunk(window)?.unwrap_or_default();
            if let Some(w) = &mut self.writer {
                w.open_window = Some(window);
                w.open_raw = readings;
            }
        }
        Ok(())
    }
}

/// The writer lock and a writable connection to an existing vault file (not yet read):
/// what every writer, keyed or write-only, starts from.
pub(crate) fn writer_connection(path: &Path) -> Result<(Connection, Connection)> {
    if !path.exists() {
        return Err(VaultError::Missing(path.to_path_buf()));
    }
    refuse_empty_file(path)?;
    check_directory_writable(path)?;
    let lock = take_writer_lock(path)?;
    // A vault an older build made under umask 022 becomes its owner's alone.
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        private::tighten(Path::new(&p));
    }
    let conn = Connection::open(path)?;
    // SQLite quietly opens a file it may not write read-only; writing would fail later.
    if conn.is_readonly(rusqlite::MAIN_DB)? {
        return Err(VaultError::ReadOnlyStorage(path.to_path_buf()));
    }
    configure(&conn)?;
    Ok((conn, lock))
}

/// Whether an I/O error means "you may not write here" (read-only mount, permissions).
fn is_read_only(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ReadOnlyFilesystem | ErrorKind::PermissionDenied
    )
}

/// Before opening for writing: the vault's directory must be writable, since SQLite creates
/// the write-ahead log, its index and the writer lock beside the file. Without this SQLite
/// reports "unable to open database file" at some later step, which tells a homeowner nothing.
/// (The file itself is checked through SQLite once open: opening it here and closing it would
/// drop the POSIX locks this process's other connections hold on it.)
fn check_directory_writable(path: &Path) -> Result<()> {
    let read_only = || VaultError::ReadOnlyStorage(path.to_path_buf());
    let mut probe = path.as_os_str().to_owned();
    probe.push(".write-probe");
    let probe = PathBuf::from(probe);
    match OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&probe)
    {
        Ok(file) => {
            drop(file);
            // Another opener may have removed it already.
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) if is_read_only(&e) => Err(read_only()),
        Err(e) => Err(e.into()),
    }
}

/// A read-only connection. On storage where SQLite cannot create the write-ahead log's
/// shared-memory index (a read-only mount or directory), it falls back to opening the file as
/// immutable: no locks, no WAL, which is exact for a vault whose writer closed cleanly (a
/// clean close folds the WAL into the file and removes it).
/// A file of 0 bytes is not a vault: refused before SQLite opens it, which would write a
/// database header into it (and so change a file the user only asked to read).
fn refuse_empty_file(path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() && m.len() == 0 => Err(VaultError::NotAVault(path.to_path_buf())),
        _ => Ok(()),
    }
}

pub(crate) fn reader_connection(path: &Path) -> Result<Connection> {
    if !path.exists() {
        return Err(VaultError::Missing(path.to_path_buf()));
    }
    refuse_empty_file(path)?;
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    defend(&conn)?;
    let probe = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    });
    match probe {
        Err(e)
            if matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::ReadOnly)
            ) =>
        {
            drop(conn);
            let conn = Connection::open_with_flags(
                immutable_uri(path),
                flags | OpenFlags::SQLITE_OPEN_URI,
            )?;
            defend(&conn)?;
            Ok(conn)
        }
        // Anything else (not a database, damaged) is reported by the header check.
        _ => Ok(conn),
    }
}

/// `file:` URI for `path` with `immutable=1`; every byte outside the unreserved set is
/// percent-encoded so any path survives.
fn immutable_uri(path: &Path) -> String {
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()).to_vec();
    #[cfg(not(unix))]
    let bytes = path.to_string_lossy().replace('\\', "/").into_bytes();
    let mut uri = String::from("file:");
    for &b in &bytes {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str("?immutable=1");
    uri
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(5))?;
    // Small pages: sealed chunks are a few KiB and spill into overflow pages, whose unused
    // tails are the main waste. Only takes effect when the file is created.
    conn.pragma_update(None, "page_size", 1024)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Deleted and overwritten records (a removed key slot, an old wrapped key) are zeroed in
    // the file, not left in free space.
    conn.pragma_update(None, "secure_delete", "ON")?;
    defend(conn)
}

/// No SQL from the file's schema runs with more than plain-data power (`trusted_schema` off,
/// SQLite's defensive mode): a hostile file cannot call functions or write through its schema.
fn defend(conn: &Connection) -> Result<()> {
    conn.pragma_update(None, "trusted_schema", "OFF")?;
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
    use rusqlite::params;

    fn only(t: i64, q: Quantity, v: i64) -> Reading {
        let mut r = Reading::new(Protocol::Raven);
        r.time = Some(MeterTime::utc(t));
        r.set(q, v);
        r
    }

    /// Stores `readings`, then replaces the writer state by a version-1 one (as written by a
    /// build before per-register tracking, after its last reading) and deletes the rollups,
    /// then opens the vault for writing again.
    fn reopened_from_a_version_1_state(readings: &[Reading]) -> (tempfile::TempDir, Vault) {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("v.hearth");
        let options = CreateOptions {
            kdf: KdfParams::INSECURE_FOR_TESTS,
            time_zone: Some("UTC".into()),
        };
        let mut v = Vault::create(&path, "pw", &options).expect("create");
        v.append(readings).expect("append");
        v.close().expect("close");
        let reader = Vault::open_read_only(&path, "pw").expect("reader");
        let last = readings.last().expect("readings");
        let t = last.time.expect("time").unix;
        let mut old = Builder::new(TimeZone::UTC);
        old.push(last, t);
        let mut state = Vec::new();
        old.encode_state_v1(&mut state);
        let sealed = reader
            .sealer
            .seal(&reader.aad(RecordKind::WriterState, 0, 0, b""), &state)
            .expect("seal");
        let db = Connection::open(&path).expect("sqlite");
        db.execute("UPDATE writer_state SET sealed = ?1", params![sealed])
            .expect("state");
        db.execute("DELETE FROM chunk WHERE res > 0", [])
            .expect("rollups");
        // As that build left it: the manifest names these records.
        reader.manifest_for_copy(&db).expect("manifest");
        drop((db, reader));
        let v = Vault::open(&path, "pw").expect("open");
        assert!(!v.writer_state_rebuilt(), "a version-1 state is not damage");
        (dir, v)
    }

    fn hourly_import(v: &Vault, from: i64) -> Vec<Option<i64>> {
        v.readings(from, from + 7200, Resolution::Hour)
            .expect("rows")
            .map(|r| r.expect("intact").used(Quantity::ImportWh))
            .collect()
    }

    #[test]
    fn a_version_1_state_over_readings_with_different_registers_rebuilds_the_rollups() {
        let t = 1_767_268_800; // 2026-01-01T12:00:00Z
        // Demand every 8 s, the summation every 240 s with 60 Wh per step: 900 Wh an hour.
        let mut rs = Vec::new();
        for j in 0..900 {
            let x = t + 8 * j;
            if j % 30 == 0 {
                rs.push(only(x, Quantity::ImportWh, 1_000 + 60 * (j / 30)));
            }
            rs.push(only(x + 4, Quantity::ImportW, 900));
        }
        let (_dir, v) = reopened_from_a_version_1_state(&rs);
        assert_eq!(hourly_import(&v, t), [Some(900), Some(840)]);
    }

    #[test]
    fn a_version_1_state_over_uniform_readings_is_kept() {
        let t = 1_767_268_800;
        let rs: Vec<Reading> = (0..720)
            .map(|k| {
                let mut r = only(t + 10 * k, Quantity::ImportWh, 5_000 + k);
                r.set(Quantity::ImportW, 360);
                r
            })
            .collect();
        let (_dir, v) = reopened_from_a_version_1_state(&rs);
        // Not rebuilt (those rollups were right): the deleted rollups stay deleted.
        assert_eq!(hourly_import(&v, t), []);
    }

    /// A vault in UTC with three readings, closed; returns its folder and path.
    fn closed_vault() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("v.hearth");
        let options = CreateOptions {
            kdf: KdfParams::INSECURE_FOR_TESTS,
            time_zone: Some("UTC".into()),
        };
        let mut v = Vault::create(&path, "pw", &options).expect("create");
        let t = 1_767_268_800;
        let rs: Vec<Reading> = (0..3)
            .map(|k| only(t + 10 * k, Quantity::ImportWh, 5_000 + k))
            .collect();
        v.append(&rs).expect("append");
        v.close().expect("close");
        (dir, path)
    }

    fn raw_count(v: &Vault) -> usize {
        v.readings(0, i64::MAX / 2, Resolution::Raw)
            .expect("rows")
            .count()
    }

    /// Opening for writing with the lock file replaced by `damage` fails naming the side
    /// file and what to do; readers still work; deleting the side file (as the message says)
    /// opens the vault with every reading.
    fn refused_then_recovered(damage: impl Fn(&Path), problem: crate::WriterLockProblem) {
        let (_dir, path) = closed_vault();
        let lock = lock_path(&path);
        damage(&lock);
        let Err(e) = Vault::open(&path, "pw") else {
            panic!("a {problem:?} writer lock was taken");
        };
        assert!(
            matches!(&e, VaultError::WriterLock { path: p, problem: q } if *p == lock && *q == problem),
            "{e:?}"
        );
        let message = e.to_string();
        let detail = problem.to_string();
        assert_eq!(
            message,
            format!(
                "the lock file beside the vault, {}, {detail}; if no other Hearth is using the \
                 vault, delete it and try again (it holds no readings, Hearth makes a new one)",
                lock.display()
            )
        );
        assert!(message.contains("v.hearth.writer-lock"), "{message}");
        // Reading needs no lock.
        let reader = Vault::open_read_only(&path, "pw").expect("reader");
        assert_eq!(raw_count(&reader), 3);
        drop(reader);
        if lock.is_dir() {
            std::fs::remove_dir_all(&lock).expect("delete folder");
        } else {
            std::fs::remove_file(&lock).expect("delete lock");
        }
        let v = Vault::open(&path, "pw").expect("open after deleting the lock file");
        assert_eq!(raw_count(&v), 3);
    }

    #[test]
    fn a_damaged_writer_lock_is_named_with_what_to_do() {
        // The issue's repro: text over the side file.
        refused_then_recovered(
            |lock| std::fs::write(lock, "damaged\n".repeat(100)).expect("write"),
            crate::WriterLockProblem::Damaged,
        );
        // 8 KiB of bytes that are no SQLite file at all.
        refused_then_recovered(
            |lock| {
                let bytes: Vec<u8> = (0..8192u32).map(|i| (i * 7 + 3) as u8).collect();
                std::fs::write(lock, bytes).expect("write");
            },
            crate::WriterLockProblem::Damaged,
        );
        // A real lock file whose schema page is overwritten: SQLite's "malformed" error.
        refused_then_recovered(
            |lock| {
                let mut bytes = std::fs::read(lock).expect("lock file");
                assert!(bytes.len() >= 1024, "{} bytes", bytes.len());
                for b in &mut bytes[100..1024] {
                    *b = 0xA5;
                }
                std::fs::write(lock, bytes).expect("write");
            },
            crate::WriterLockProblem::Damaged,
        );
    }

    #[test]
    fn a_folder_in_place_of_the_writer_lock_is_named() {
        refused_then_recovered(
            |lock| {
                let _ = std::fs::remove_file(lock);
                std::fs::create_dir(lock).expect("folder");
                std::fs::write(lock.join("inside"), "x").expect("file inside");
            },
            crate::WriterLockProblem::Folder,
        );
    }

    #[cfg(unix)]
    #[test]
    fn an_unwritable_writer_lock_is_named_unless_running_as_root() {
        use std::os::unix::fs::PermissionsExt as _;
        let probe = tempfile::NamedTempFile::new().expect("probe");
        std::fs::set_permissions(probe.path(), std::fs::Permissions::from_mode(0o000))
            .expect("chmod");
        if std::fs::File::open(probe.path()).is_ok() {
            eprintln!("SKIPPED: running as root, who can open any file; permissions unobservable");
            return;
        }
        refused_then_recovered(
            |lock| {
                std::fs::set_permissions(lock, std::fs::Permissions::from_mode(0o000))
                    .expect("chmod");
            },
            crate::WriterLockProblem::NoAccess,
        );
    }

    #[test]
    fn a_reader_takes_over_writing_with_its_key_once_the_writer_is_gone() {
        let (_dir, path) = closed_vault();
        let mut collector = Vault::open(&path, "pw").expect("writer");
        let reader = Vault::open_read_only(&path, "pw").expect("reader");
        assert!(collector.is_writer() && !reader.is_writer());
        // The collector holds the lock: no second writer, with the held key or otherwise.
        assert!(matches!(reader.writer_from(), Err(VaultError::Busy)));
        collector
            .append(&[only(1_767_268_900, Quantity::ImportWh, 5_010)])
            .expect("append");
        collector.close().expect("close");
        // Gone: the reader's key opens the writer, which resumes after the collector's last
        // reading and takes new ones.
        let mut writer = reader.writer_from().expect("taken over");
        assert!(writer.is_writer());
        assert_eq!(writer.last_time(), Some(1_767_268_900));
        writer
            .append(&[only(1_767_268_910, Quantity::ImportWh, 5_011)])
            .expect("append");
        assert!(matches!(reader.writer_from(), Err(VaultError::Busy)));
        writer.close().expect("close");
        assert_eq!(raw_count(&reader), 5);
    }

    #[test]
    fn a_held_key_replaced_by_a_rekey_opens_no_writer() {
        let (_dir, path) = closed_vault();
        let reader = Vault::open_read_only(&path, "pw").expect("reader");
        let mut other = Vault::open(&path, "pw").expect("writer");
        other
            .rekey("pw", Some(KdfParams::INSECURE_FOR_TESTS), &mut |_, _| {})
            .expect("rekey");
        other.close().expect("close");
        assert!(
            matches!(reader.writer_from(), Err(VaultError::Damaged { .. })),
            "the old key must open nothing"
        );
        // The passphrase still opens it, with every reading.
        assert_eq!(raw_count(&Vault::open(&path, "pw").expect("open")), 3);
    }

    #[test]
    fn a_zero_byte_writer_lock_left_by_a_crash_just_works() {
        let (_dir, path) = closed_vault();
        let lock = lock_path(&path);
        std::fs::write(&lock, b"").expect("truncate");
        let mut v = Vault::open(&path, "pw").expect("open over a 0-byte lock file");
        assert_eq!(raw_count(&v), 3);
        // It is a real lock again: a second writer is refused.
        assert!(matches!(Vault::open(&path, "pw"), Err(VaultError::Busy)));
        v.append(&[only(1_767_268_900, Quantity::ImportWh, 5_010)])
            .expect("append");
        v.close().expect("close");
        assert_eq!(
            raw_count(&Vault::open_read_only(&path, "pw").expect("r")),
            4
        );
        // A 0-byte lock file beside a vault still to be made does not stop `create`.
        let fresh = path.with_file_name("w.hearth");
        std::fs::write(lock_path(&fresh), b"").expect("0-byte lock");
        let options = CreateOptions {
            kdf: KdfParams::INSECURE_FOR_TESTS,
            time_zone: Some("UTC".into()),
        };
        Vault::create(&fresh, "pw", &options).expect("create over a 0-byte lock file");
    }
}
