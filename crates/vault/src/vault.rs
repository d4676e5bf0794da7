//! The vault handle: create and open (one writer, any number of readers), append readings,
//! checkpoint, settings, passphrase change, the OS-keyring key slot and verification. Queries
//! live in `query`, backups in `backup`.

use crate::codec;
use crate::error::{Result, VaultError};
use crate::keys::{self, KEYRING_SLOT, KdfParams};
use crate::resolution::{Resolution, bucket_of};
use crate::rollup::{self, Builder, ClosedChunk, Prev, PrevScan, RollupCounts};
use crate::schema::{FORMAT_VERSION, Header, SCHEMA, SLOT_TABLE, read_slot};
use crate::seal::{Aad, RecordKind, Sealer};
use crate::wire::Malformed;
use hearth_meter::Reading;
use jiff::tz::TimeZone;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use std::fs::OpenOptions;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// The only series so far: the household's main meter.
pub(crate) const SERIES_MAIN: u32 = 0;
/// The open chunk is written at least this often by [`Vault::flush_due`].
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(10);
/// How far a reading may be dated after the clock given to [`Vault::set_clock`].
pub const FUTURE_GRACE_SECONDS: i64 = 3600;
/// Closed chunks written before an automatic checkpoint during long imports.
const CHECKPOINT_CHUNKS: usize = 48;
/// Late readings buffered before they are merged into their chunks.
const LATE_BUFFER: usize = 200_000;
/// Setting that holds the vault's time zone (IANA name).
const TZ_SETTING: &str = "vault.time_zone";

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
}

/// What unlocks the data key: the passphrase, or the secret of the OS-keyring slot.
#[derive(Clone, Copy)]
enum Key<'a> {
    Passphrase(&'a str),
    Secret(&'a [u8; 32]),
}

/// What the writer has done since it was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IngestStats {
    /// Readings stored.
    pub stored: u64,
    /// Readings ignored because a reading with the same time is already stored.
    pub duplicates: u64,
    /// Readings older than the newest stored one (clock jumped back, backfill, restore),
    /// merged into their chunks.
    pub late: u64,
    /// Readings without any time, which cannot be stored.
    pub untimed: u64,
    /// Readings dated too far after the caller's clock (see [`Vault::set_clock`]).
    pub future: u64,
}

/// What [`Vault::verify`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Records that authenticated and decoded.
    pub ok: u64,
    /// Raw readings in the authenticated raw chunks.
    pub readings: u64,
    /// Records that failed, described for a human (kind, resolution, UTC window).
    pub damaged: Vec<String>,
}

pub(crate) struct Writer {
    pub builder: Builder,
    pub open_window: Option<i64>,
    pub open_raw: Vec<Reading>,
    pub last_time: Option<i64>,
    pub late: Vec<Reading>,
    pub rebuild_from: Option<i64>,
    pub stats: IngestStats,
    pub in_tx: bool,
    pub written: usize,
    pub last_flush: Instant,
    pub flush_interval: Duration,
    /// Something changed since the last checkpoint.
    pub dirty: bool,
    /// Readings dated after this are refused (set from the collector's clock).
    pub not_after: i64,
    /// A write failed: memory and disk may disagree, so nothing more is written.
    pub poisoned: bool,
    _lock: Connection,
}

/// An open vault. Open it once as the writer ([`Vault::open`]) and as often as needed for
/// reading ([`Vault::open_read_only`]); readers see what the writer last flushed.
pub struct Vault {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    pub(crate) header: Header,
    pub(crate) sealer: Sealer,
    data_key: Zeroizing<[u8; 32]>,
    pub(crate) tz: TimeZone,
    pub(crate) writer: Option<Writer>,
    writer_state_rebuilt: bool,
}

fn lock_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".writer-lock");
    PathBuf::from(p)
}

/// Takes the single-writer lock: an exclusive SQLite lock on a small side file, held for
/// the life of the connection and released by the OS if the process dies.
fn take_writer_lock(path: &Path) -> Result<Connection> {
    let busy =
        |e: &rusqlite::Error| e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy);
    let lock = Connection::open(lock_path(path))?;
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
        Err(e) if busy(&e) => Err(VaultError::Busy),
        Err(e) => Err(VaultError::Sqlite(e)),
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
        let lock = take_writer_lock(path)?;
        let conn = Connection::open(path)?;
        configure(&conn)?;
        conn.execute_batch(SCHEMA)?;
        let vault_id: [u8; 16] = keys::random()?;
        let salt: [u8; 16] = keys::random()?;
        let data_key = Zeroizing::new(keys::random::<32>()?);
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
        let mut v = Vault {
            conn,
            path: path.to_path_buf(),
            sealer: Sealer::new(&data_key),
            header,
            data_key,
            tz: tz.clone(),
            writer: Some(new_writer(tz, lock)),
            writer_state_rebuilt: false,
        };
        v.write_setting(TZ_SETTING, tz_name.as_bytes())?;
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
        if !path.exists() {
            return Err(VaultError::Missing(path.to_path_buf()));
        }
        check_directory_writable(path)?;
        let lock = take_writer_lock(path)?;
        let conn = Connection::open(path)?;
        // SQLite quietly opens a file it may not write read-only; writing would fail later.
        if conn.is_readonly(rusqlite::MAIN_DB)? {
            return Err(VaultError::ReadOnlyStorage(path.to_path_buf()));
        }
        configure(&conn)?;
        let mut v = Vault::unlock(conn, path, key)?;
        // Vaults made before key slots existed get the (empty) table on their first write open.
        v.conn.execute_batch(SLOT_TABLE)?;
        v.resume(lock)?;
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
        })
    }

    /// Whether the vault at `path` has an OS-keyring slot (header only, no key needed).
    pub fn has_secret_slot(path: &Path) -> Result<bool> {
        Ok(Vault::inspect(path)?.secret_slot)
    }

    fn unlock(conn: Connection, path: &Path, key: Key<'_>) -> Result<Vault> {
        let header = Header::read(&conn, path)?;
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
        };
        let mut v = Vault {
            conn,
            path: path.to_path_buf(),
            sealer: Sealer::new(&data_key),
            header,
            data_key,
            tz: TimeZone::UTC,
            writer: None,
            writer_state_rebuilt: false,
        };
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
                let decoded =
                    this.sealer
                        .open(&this.aad(RecordKind::WriterState, 0, 0, b""), &sealed)
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

    /// Whether opening found the writer's checkpoint state unreadable and rebuilt it from the
    /// stored chunks (nothing stored was lost; callers may tell the user).
    pub fn writer_state_rebuilt(&self) -> bool {
        self.writer_state_rebuilt
    }

    /// The vault's time zone (local days and months of the rollups).
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// Where the vault file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The vault's random id as 32 lowercase hex digits (the OS-keyring entry's user name).
    pub fn id_hex(&self) -> String {
        hex(&self.header.vault_id)
    }

    /// Ingest counters of this writer session.
    pub fn stats(&self) -> IngestStats {
        self.writer.as_ref().map(|w| w.stats).unwrap_or_default()
    }

    /// Meter swaps and gaps seen by the rollups (all sessions).
    pub fn rollup_counts(&self) -> RollupCounts {
        self.writer
            .as_ref()
            .map(|w| w.builder.counts)
            .unwrap_or_default()
    }

    /// The newest stored reading time (writer only; includes unflushed readings).
    pub fn last_time(&self) -> Option<i64> {
        self.writer.as_ref().and_then(|w| w.last_time)
    }

    pub(crate) fn aad<'a>(
        &'a self,
        kind: RecordKind,
        resolution: u8,
        window_start: i64,
        name: &'a [u8],
    ) -> Aad<'a> {
        Aad {
            vault_id: &self.header.vault_id,
            kind,
            series: SERIES_MAIN,
            resolution,
            window_start,
            name,
        }
    }

    fn writer(&mut self) -> Result<&mut Writer> {
        match self.writer.as_mut() {
            None => Err(VaultError::ReadOnly),
            Some(w) if w.poisoned => Err(VaultError::Poisoned),
            Some(w) => Ok(w),
        }
    }

    /// After a failed write: roll back to the last checkpoint and refuse further writes.
    fn poison(&mut self) {
        if let Some(w) = &mut self.writer {
            if w.in_tx {
                let _ = self.conn.execute_batch("ROLLBACK");
                w.in_tx = false;
            }
            w.poisoned = true;
        }
    }

    fn begin(&mut self) -> Result<()> {
        let w = self.writer.as_mut().ok_or(VaultError::ReadOnly)?;
        if !w.in_tx {
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
            w.in_tx = true;
        }
        Ok(())
    }

    /// Stores readings. Readings must carry a time; equal times are duplicates (ignored and
    /// counted); older ones are merged into their chunks at the next [`Vault::flush`]. Data
    /// reaches the disk at the next flush: call [`Vault::flush_due`] after each append when
    /// collecting live, and [`Vault::flush`] at the end of an import.
    pub fn append(&mut self, readings: &[Reading]) -> Result<()> {
        let result = self.append_inner(readings);
        if matches!(result, Err(ref e) if !matches!(e, VaultError::ReadOnly | VaultError::Poisoned))
        {
            self.poison();
        }
        result
    }

    fn append_inner(&mut self, readings: &[Reading]) -> Result<()> {
        self.writer()?;
        for r in readings {
            let Some(time) = r.time else {
                self.writer()?.stats.untimed += 1;
                continue;
            };
            let t = time.unix;
            let w = self.writer()?;
            if t > w.not_after {
                w.stats.future += 1;
                continue;
            }
            match w.last_time {
                Some(last) if t == last => {
                    w.stats.duplicates += 1;
                    continue;
                }
                Some(last) if t < last => {
                    w.dirty = true;
                    w.late.push(r.clone());
                    if w.late.len() >= LATE_BUFFER {
                        self.merge_late()?;
                    }
                    continue;
                }
                _ => {}
            }
            let window = Resolution::Raw.chunk_start(t);
            if w.open_window != Some(window) {
                let old = w.open_window.replace(window);
                // The next window fills about as many: allocate once rather than regrow.
                let cap = w.open_raw.len();
                let full = std::mem::replace(&mut w.open_raw, Vec::with_capacity(cap));
                if let Some(old) = old
                    && !full.is_empty()
                {
                    self.begin()?;
                    self.write_raw(old, &full)?;
                }
            }
            let w = self.writer()?;
            w.open_raw.push(r.clone());
            w.builder.push(r, t);
            w.last_time = Some(t);
            w.stats.stored += 1;
            w.dirty = true;
            if !w.builder.closed.is_empty() {
                self.write_closed()?;
            }
            if self.writer()?.written >= CHECKPOINT_CHUNKS {
                self.flush()?;
            }
        }
        Ok(())
    }

    /// Tells the writer the current time (Unix seconds, from the caller's clock): readings
    /// dated more than [`FUTURE_GRACE_SECONDS`] after it are refused and counted as `future`,
    /// so one garbage timestamp from a meter cannot make every later reading look late.
    /// Collectors call it before each append; imports of old files need not.
    pub fn set_clock(&mut self, now_unix: i64) -> Result<()> {
        self.writer()?.not_after = now_unix.saturating_add(FUTURE_GRACE_SECONDS);
        Ok(())
    }

    /// Sets how often [`Vault::flush_due`] flushes (default and maximum: [`FLUSH_INTERVAL`]).
    pub fn set_flush_interval(&mut self, interval: Duration) -> Result<()> {
        self.writer()?.flush_interval = interval.min(FLUSH_INTERVAL);
        Ok(())
    }

    /// Flushes if the flush interval ([`FLUSH_INTERVAL`] by default) has passed since the last flush (`now` from the caller's
    /// monotonic clock). Returns whether it flushed.
    pub fn flush_due(&mut self, now: Instant) -> Result<bool> {
        let w = self.writer()?;
        if now.saturating_duration_since(w.last_flush) >= w.flush_interval {
            self.flush()?;
            if let Some(w) = &mut self.writer {
                w.last_flush = now;
            }
            return Ok(true);
        }
        Ok(false)
    }

    /// Checkpoint: merges late readings, seals the open raw chunk and the open rollup chunks,
    /// saves the writer state and commits, all in one transaction. After a crash the vault
    /// reopens exactly at the last checkpoint.
    pub fn flush(&mut self) -> Result<()> {
        let result = self.begin().and_then(|()| self.flush_inner());
        if matches!(result, Err(ref e) if !matches!(e, VaultError::ReadOnly | VaultError::Poisoned))
        {
            self.poison();
        }
        result
    }

    fn flush_inner(&mut self) -> Result<()> {
        if !self.writer()?.dirty {
            self.conn.execute_batch("COMMIT")?;
            self.writer()?.in_tx = false;
            return Ok(());
        }
        if !self.writer()?.late.is_empty() {
            self.merge_late()?;
        }
        let (window, raw) = {
            let w = self.writer()?;
            (w.open_window, std::mem::take(&mut w.open_raw))
        };
        if let Some(window) = window
            && !raw.is_empty()
        {
            let r = self.write_raw(window, &raw);
            self.writer()?.open_raw = raw;
            r?;
        }
        if let Some(from) = self.writer()?.rebuild_from.take() {
            self.rebuild_rollups(from)?;
        }
        self.write_closed()?;
        let snapshot = self.writer()?.builder.snapshot();
        for c in &snapshot {
            self.write_rollup(c)?;
        }
        let mut state = Vec::new();
        self.writer()?.builder.encode_state(&mut state);
        let sealed = self
            .sealer
            .seal(&self.aad(RecordKind::WriterState, 0, 0, b""), &state)?;
        self.conn.execute(
            "INSERT OR REPLACE INTO writer_state (id, sealed) VALUES (1, ?1)",
            params![sealed],
        )?;
        self.conn.execute_batch("COMMIT")?;
        let w = self.writer()?;
        w.in_tx = false;
        w.written = 0;
        w.dirty = false;
        Ok(())
    }

    /// Flushes and closes the writer (also done, errors ignored, when the vault is dropped).
    pub fn close(mut self) -> Result<()> {
        if self.writer.as_ref().is_some_and(|w| !w.poisoned) {
            self.flush()?;
        }
        self.writer = None;
        Ok(())
    }

    fn write_closed(&mut self) -> Result<()> {
        let closed = std::mem::take(&mut self.writer()?.builder.closed);
        for c in &closed {
            self.write_rollup(c)?;
        }
        Ok(())
    }

    fn write_rollup(&mut self, c: &ClosedChunk) -> Result<()> {
        self.begin()?;
        let payload = rollup::encode_buckets(&c.buckets);
        self.put_chunk(c.res, c.window, &payload)
    }

    pub(crate) fn write_raw(&mut self, window: i64, readings: &[Reading]) -> Result<()> {
        self.begin()?;
        let payload = codec::encode(readings);
        self.put_chunk(Resolution::Raw, window, &payload)
    }

    fn put_chunk(&mut self, res: Resolution, window: i64, payload: &[u8]) -> Result<()> {
        let sealed = self.sealer.seal(
            &self.aad(RecordKind::Chunk, res.code(), window, b""),
            payload,
        )?;
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO chunk (series, res, window_start, sealed)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![SERIES_MAIN, res.code(), window, sealed])?;
        if let Some(w) = &mut self.writer {
            w.written += 1;
        }
        Ok(())
    }

    /// The opened payload of one chunk, if stored.
    pub(crate) fn chunk_payload(
        &self,
        res: Resolution,
        window: i64,
    ) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let sealed: Option<Vec<u8>> = self
            .conn
            .prepare_cached(
                "SELECT sealed FROM chunk WHERE series = ?1 AND res = ?2 AND window_start = ?3",
            )?
            .query_row(params![SERIES_MAIN, res.code(), window], |r| r.get(0))
            .optional()?;
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        self.sealer
            .open(
                &self.aad(RecordKind::Chunk, res.code(), window, b""),
                &sealed,
            )
            .map(Some)
            .ok_or_else(|| damaged(res, window))
    }

    /// The readings of one raw chunk.
    pub(crate) fn raw_chunk(&self, window: i64) -> Result<Option<Vec<Reading>>> {
        match self.chunk_payload(Resolution::Raw, window)? {
            None => Ok(None),
            Some(p) => codec::decode(&p)
                .map(Some)
                .map_err(|_| damaged(Resolution::Raw, window)),
        }
    }

    /// The buckets of one rollup chunk.
    pub(crate) fn rollup_chunk(
        &self,
        res: Resolution,
        window: i64,
    ) -> Result<Option<Vec<rollup::Bucket>>> {
        match self.chunk_payload(res, window)? {
            None => Ok(None),
            Some(p) => rollup::decode_buckets(&p)
                .map(Some)
                .map_err(|_| damaged(res, window)),
        }
    }

    /// Chunk windows of a series in `[from, to)`, oldest first.
    pub(crate) fn windows(&self, res: Resolution, from: i64, to: i64) -> Result<Vec<i64>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT window_start FROM chunk WHERE series = ?1 AND res = ?2
             AND window_start >= ?3 AND window_start < ?4 ORDER BY window_start",
        )?;
        let rows = stmt.query_map(params![SERIES_MAIN, res.code(), from, to], |r| r.get(0))?;
        Ok(rows.collect::<Result<Vec<i64>, _>>()?)
    }

    fn newest_raw_window(&self) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row(
                "SELECT max(window_start) FROM chunk WHERE series = ?1 AND res = 0",
                params![SERIES_MAIN],
                |r| r.get::<_, Option<i64>>(0),
            )
            .optional()?
            .flatten())
    }

    /// The last stored raw reading strictly before `t`.
    fn last_raw_before(&self, t: i64) -> Result<Option<Reading>> {
        let mut windows = self.windows(Resolution::Raw, i64::MIN, t)?;
        windows.reverse();
        for w in windows {
            if let Some(rs) = self.raw_chunk(w)?
                && let Some(r) = rs.iter().rev().find(|r| r.time.is_some_and(|x| x.unix < t))
            {
                return Ok(Some(r.clone()));
            }
        }
        Ok(None)
    }

    /// Each register's last value before `t` (and the time of the reading that carried it),
    /// from the raw readings of up to [`rollup::PRIME_SECONDS`] before the last one: readings
    /// need not all carry the same registers. A raw chunk that fails to decode is skipped.
    fn registers_before(&self, t: i64) -> Result<Option<Prev>> {
        let mut scan = PrevScan::new();
        let mut windows = self.windows(Resolution::Raw, i64::MIN, t)?;
        windows.reverse();
        for w in windows {
            if scan.done_before(w + Resolution::Raw.nominal_seconds()) {
                break;
            }
            let Ok(Some(rs)) = self.raw_chunk(w) else {
                continue;
            };
            for r in rs.iter().rev() {
                if let Some(x) = r.time.map(|x| x.unix)
                    && x < t
                {
                    scan.visit(r, x);
                }
            }
        }
        Ok(scan.finish())
    }

    /// Whether the newest raw hour holds readings that do not all carry the same registers
    /// (RAVEn, Glow, HAN list 1/2/3): rollups a version-1 writer built from such readings
    /// missed energy and are rebuilt. A damaged or missing chunk counts as uniform.
    fn newest_readings_mixed(&self) -> Result<bool> {
        let Some(window) = self.newest_raw_window()? else {
            return Ok(false);
        };
        let Ok(Some(rs)) = self.raw_chunk(window) else {
            return Ok(false);
        };
        let masks = rs.iter().map(rollup::register_mask);
        let mut masks = masks.peekable();
        let Some(&first) = masks.peek() else {
            return Ok(false);
        };
        Ok(first == 0 || masks.any(|m| m != first))
    }

    /// Merges buffered late readings into their raw chunks (existing readings win on equal
    /// times) and marks the rollups for rebuilding from the earliest one.
    fn merge_late(&mut self) -> Result<()> {
        let mut late = std::mem::take(&mut self.writer()?.late);
        late.sort_by_key(|r| r.time.map_or(i64::MIN, |t| t.unix));
        let mut i = 0;
        while i < late.len() {
            let window = Resolution::Raw.chunk_start(late[i].time.map_or(0, |t| t.unix));
            let mut j = i;
            while j < late.len()
                && Resolution::Raw.chunk_start(late[j].time.map_or(0, |t| t.unix)) == window
            {
                j += 1;
            }
            let open = self.writer()?.open_window == Some(window);
            let existing = if open {
                std::mem::take(&mut self.writer()?.open_raw)
            } else {
                self.raw_chunk(window)?.unwrap_or_default()
            };
            let (merged, dups) = merge_sorted(existing, &late[i..j]);
            let w = self.writer()?;
            w.stats.duplicates += dups;
            w.stats.late += (j - i) as u64 - dups;
            let earliest = late[i].time.map_or(window, |t| t.unix);
            w.rebuild_from = Some(w.rebuild_from.map_or(earliest, |x| x.min(earliest)));
            if open {
                w.open_raw = merged;
            } else {
                self.write_raw(window, &merged)?;
            }
            i = j;
        }
        Ok(())
    }

    /// Recomputes every rollup from the local month of the last reading before `from`
    /// (so every step that could have changed is replayed) up to the newest reading.
    fn rebuild_rollups(&mut self, from: i64) -> Result<()> {
        self.begin()?;
        let month = |t: i64, tz: &TimeZone| bucket_of(Resolution::Month, tz, t).0;
        let start = if from == i64::MIN {
            i64::MIN
        } else {
            let anchor = self
                .last_raw_before(from)?
                .and_then(|r| r.time)
                .map_or(from, |t| t.unix);
            month(anchor, &self.tz)
        };
        let mut builder = Builder::new(self.tz.clone());
        builder.clip = start;
        if start != i64::MIN {
            builder.set_prev(self.registers_before(start)?);
        }
        for (i, res) in Resolution::ROLLUPS.into_iter().enumerate() {
            let w = if start == i64::MIN {
                i64::MIN
            } else {
                res.chunk_start(start)
            };
            let kept: Vec<_> = if start == i64::MIN {
                Vec::new()
            } else {
                self.rollup_chunk(res, w)?
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|b| b.start < start)
                    .collect()
            };
            self.conn.execute(
                "DELETE FROM chunk WHERE series = ?1 AND res = ?2 AND window_start >= ?3",
                params![SERIES_MAIN, res.code(), w],
            )?;
            builder.levels[i].window = w;
            builder.levels[i].chunk = kept;
        }
        let raw_from = if start == i64::MIN {
            i64::MIN
        } else {
            Resolution::Raw.chunk_start(start)
        };
        let mut last = builder.prev.as_ref().map_or(i64::MIN, |p| p.t);
        self.writer()?.builder = builder;
        for window in self.windows(Resolution::Raw, raw_from, i64::MAX)? {
            let readings = self.raw_chunk(window)?.unwrap_or_default();
            for r in &readings {
                let Some(t) = r.time.map(|t| t.unix) else {
                    continue;
                };
                if t >= start && t > last {
                    self.writer()?.builder.push(r, t);
                    last = t;
                }
            }
            self.write_closed()?;
        }
        Ok(())
    }

    /// Stores a setting (tariffs, meter keys, preferences), sealed. Commits at once.
    pub fn put_setting(&mut self, name: &str, value: &[u8]) -> Result<()> {
        self.writer()?;
        self.flush()?;
        self.write_setting(name, value)
    }

    fn write_setting(&mut self, name: &str, value: &[u8]) -> Result<()> {
        let sealed = self
            .sealer
            .seal(&self.aad(RecordKind::Setting, 0, 0, name.as_bytes()), value)?;
        self.conn.execute(
            "INSERT OR REPLACE INTO setting (name, sealed) VALUES (?1, ?2)",
            params![name, sealed],
        )?;
        Ok(())
    }

    /// Reads a setting; `None` if never stored.
    pub fn get_setting(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let sealed: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT sealed FROM setting WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .optional()?;
        match sealed {
            None => Ok(None),
            Some(s) => self
                .sealer
                .open(&self.aad(RecordKind::Setting, 0, 0, name.as_bytes()), &s)
                .map(Some)
                .ok_or_else(|| VaultError::Damaged {
                    what: format!("setting {name}"),
                }),
        }
    }

    /// Names of all stored settings.
    pub fn setting_names(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT name FROM setting ORDER BY name")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<Vec<String>, _>>()?)
    }

    /// Changes the passphrase: rewraps the data key under a new salt (and optionally new
    /// Argon2id parameters). No data is re-encrypted.
    pub fn change_passphrase(
        &mut self,
        new_passphrase: &str,
        kdf: Option<KdfParams>,
    ) -> Result<()> {
        self.writer()?;
        self.flush()?;
        let kdf = kdf.unwrap_or(self.header.kdf);
        let salt: [u8; 16] = keys::random()?;
        let wrapped = keys::wrap(
            &self.header.vault_id,
            &self.data_key,
            new_passphrase,
            &kdf,
            &salt,
        )?;
        let mut header = self.header.clone();
        header.kdf = kdf;
        header.salt = salt;
        header.wrapped_key = wrapped;
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        let r = header.write(&self.conn);
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        r?;
        self.header = header;
        Ok(())
    }

    /// Sets up the OS-keyring key slot: draws a new random 256-bit secret, stores the data key
    /// wrapped under it in the vault and returns the secret for the caller to put in the OS
    /// keyring (service `hearth`, user [`Vault::id_hex`]). Replaces an earlier slot, whose
    /// secret then no longer opens the vault. Writer only.
    pub fn enable_secret_slot(&mut self) -> Result<Zeroizing<[u8; 32]>> {
        self.writer()?;
        self.flush()?;
        let secret = Zeroizing::new(keys::random::<32>()?);
        let wrapped =
            keys::wrap_for_slot(&self.header.vault_id, KEYRING_SLOT, &self.data_key, &secret)?;
        self.write_durably(|conn| {
            conn.execute(
                "INSERT OR REPLACE INTO key_slot (kind, wrapped_key) VALUES (?1, ?2)",
                params![KEYRING_SLOT, wrapped],
            )
        })?;
        Ok(secret)
    }

    /// Removes the OS-keyring key slot, so the secret in the keyring opens nothing any more
    /// (the caller deletes the keyring entry too). Returns whether there was a slot. Writer
    /// only.
    pub fn disable_secret_slot(&mut self) -> Result<bool> {
        self.writer()?;
        self.flush()?;
        let removed = self.write_durably(|conn| {
            conn.execute(
                "DELETE FROM key_slot WHERE kind = ?1",
                params![KEYRING_SLOT],
            )
        })?;
        Ok(removed > 0)
    }

    /// Whether this vault has an OS-keyring key slot.
    pub fn secret_slot_enabled(&self) -> Result<bool> {
        Ok(read_slot(&self.conn, KEYRING_SLOT)?.is_some())
    }

    /// Runs one key-material write with `synchronous = FULL`.
    fn write_durably<T>(
        &mut self,
        write: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T> {
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        let r = write(&self.conn);
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        Ok(r?)
    }

    /// Checks every record's authentication and decoding; damaged ones are listed, not fatal.
    pub fn verify(&self) -> Result<VerifyReport> {
        let mut report = VerifyReport::default();
        let mut stmt = self.conn.prepare(
            "SELECT res, window_start FROM chunk WHERE series = ?1 ORDER BY res, window_start",
        )?;
        let keys = stmt
            .query_map(params![SERIES_MAIN], |r| {
                Ok((r.get::<_, u8>(0)?, r.get::<_, i64>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        for (code, window) in keys {
            let Some(res) = Resolution::ALL.into_iter().find(|r| r.code() == code) else {
                report
                    .damaged
                    .push(format!("chunk with unknown resolution {code}"));
                continue;
            };
            let outcome = if res == Resolution::Raw {
                self.raw_chunk(window)
                    .map(|r| r.map_or(0, |v| v.len() as u64))
            } else {
                self.rollup_chunk(res, window).map(|_| 0)
            };
            match outcome {
                Ok(n) => {
                    report.ok += 1;
                    report.readings += n;
                }
                Err(e) => report.damaged.push(e.to_string()),
            }
        }
        for name in self.setting_names()? {
            match self.get_setting(&name) {
                Ok(_) => report.ok += 1,
                Err(e) => report.damaged.push(e.to_string()),
            }
        }
        let state: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT sealed FROM writer_state WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?;
        if let Some(s) = state {
            let ok = self
                .sealer
                .open(&self.aad(RecordKind::WriterState, 0, 0, b""), &s)
                .is_some_and(|p| {
                    Builder::decode_state(self.tz.clone(), &p, |res, window, len| {
                        match self.rollup_chunk(res, window) {
                            Ok(Some(b)) if b.len() >= len => Ok(Vec::new()),
                            _ => Err(Malformed),
                        }
                    })
                    .is_ok()
                });
            if ok {
                report.ok += 1;
            } else {
                report
                    .damaged
                    .push("writer state failed its integrity check".into());
            }
        }
        Ok(report)
    }
}

impl Drop for Vault {
    fn drop(&mut self) {
        if self.writer.as_ref().is_some_and(|w| !w.poisoned) {
            let _ = self.flush();
        }
    }
}

fn new_writer(tz: TimeZone, lock: Connection) -> Writer {
    Writer {
        builder: Builder::new(tz),
        open_window: None,
        open_raw: Vec::new(),
        last_time: None,
        late: Vec::new(),
        rebuild_from: None,
        stats: IngestStats::default(),
        in_tx: false,
        written: 0,
        last_flush: Instant::now(),
        flush_interval: FLUSH_INTERVAL,
        dirty: false,
        not_after: i64::MAX,
        poisoned: false,
        _lock: lock,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
fn reader_connection(path: &Path) -> Result<Connection> {
    if !path.exists() {
        return Err(VaultError::Missing(path.to_path_buf()));
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(5))?;
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
    Ok(())
}

pub(crate) fn damaged(res: Resolution, window: i64) -> VaultError {
    let when = jiff::Timestamp::from_second(window)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| window.to_string());
    VaultError::Damaged {
        what: format!("{} chunk starting {when}", res.name()),
    }
}

/// Merges time-sorted `late` readings into time-sorted `existing`; existing readings win
/// on equal times. Returns the merged list and how many late readings were duplicates.
fn merge_sorted(existing: Vec<Reading>, late: &[Reading]) -> (Vec<Reading>, u64) {
    let key = |r: &Reading| r.time.map_or(i64::MIN, |t| t.unix);
    let mut out: Vec<Reading> = Vec::with_capacity(existing.len() + late.len());
    let mut dups = 0;
    let mut a = existing.into_iter().peekable();
    let mut b = late.iter().peekable();
    loop {
        let take_existing = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => key(x) <= key(y),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        if take_existing {
            out.extend(a.next());
        } else if let Some(y) = b.next() {
            if out.last().map(key) == Some(key(y)) {
                dups += 1;
            } else {
                out.push(y.clone());
            }
        }
    }
    (out, dups)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Resolution;
    use hearth_meter::{MeterTime, Protocol, Quantity};

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
        drop(reader);
        let db = Connection::open(&path).expect("sqlite");
        db.execute("UPDATE writer_state SET sealed = ?1", params![sealed])
            .expect("state");
        db.execute("DELETE FROM chunk WHERE res > 0", [])
            .expect("rollups");
        drop(db);
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
}
