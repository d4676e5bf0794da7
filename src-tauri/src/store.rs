//! The vault as the shell holds it: where it lives, whether it is unlocked, and readings that
//! arrived while it was locked (kept in memory compressed, bounded, and written on unlock).

use hearth_meter::Reading;
use hearth_vault::{CreateOptions, KdfParams, Vault, VaultError, codec};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Readings kept while locked are sealed into a compressed block every this many (an hour at
/// one per second). Measured on two simulated days of 1-s DSMR 5 readings: blocks of 600
/// readings take 3.53 bytes a reading, 1 800 take 2.81, 3 600 take 2.66 and 7 200 take 2.68, so
/// longer blocks save nothing and only make the open batch (plain readings, about 500 bytes
/// each) bigger.
pub const BLOCK_READINGS: usize = 3_600;

/// At most this many bytes of compressed blocks wait in memory while the vault is locked; the
/// oldest block goes (its readings counted as dropped) when a new one would pass it. The open
/// batch comes on top: at most [`BLOCK_READINGS`] plain readings, about 2 MiB.
///
/// Blocks are the vault's own chunk codec ([`hearth_vault::codec::encode`]) over
/// [`BLOCK_READINGS`] readings. Measured: a day of 1-s readings from `hearth_meter_io`'s
/// simulated three-phase DSMR 5 meter with gas and solar, decoded from its telegrams by the
/// DSMR decoder, takes 2.57 to 3.02 bytes a reading (seeds 1 to 3, a January and a June day;
/// the worst single hour 3.84). 32 MiB therefore holds about 128 days at 3.02 bytes a reading
/// (101 days at the worst hour's 3.84, and still 48 days at the codec's 8-byte ceiling for any
/// hour), where the old limit, plain readings, kept one day in over 40 MiB.
pub const PENDING_CAP_BYTES: usize = 32 << 20;

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

/// The vault file and, when unlocked, the open handle.
pub struct Store {
    path: PathBuf,
    vault: Option<Vault>,
    pending: Pending,
}

/// One sealed block of readings that arrived while locked.
struct Block {
    /// [`codec::encode`] of the readings.
    bytes: Box<[u8]>,
    /// How many readings it holds.
    readings: usize,
}

/// Readings that arrived while the vault was locked, oldest first: sealed blocks, then the
/// open batch.
struct Pending {
    blocks: VecDeque<Block>,
    open: Vec<Reading>,
    /// Bytes held by `blocks`.
    bytes: usize,
    /// Most bytes `blocks` may hold.
    cap_bytes: usize,
    /// Readings given up (the oldest blocks over the cap, a block that did not decode, or all of
    /// them after a second write in a row failed).
    dropped: u64,
    /// Writes to the vault that failed in a row.
    failures: u32,
}

impl Pending {
    fn new(cap_bytes: usize) -> Self {
        Pending {
            blocks: VecDeque::new(),
            open: Vec::new(),
            bytes: 0,
            cap_bytes,
            dropped: 0,
            failures: 0,
        }
    }

    fn len(&self) -> usize {
        self.blocks.iter().map(|b| b.readings).sum::<usize>() + self.open.len()
    }

    fn push(&mut self, r: &Reading) {
        if self.open.capacity() == 0 {
            self.open.reserve_exact(BLOCK_READINGS);
        }
        self.open.push(r.clone());
        if self.open.len() >= BLOCK_READINGS {
            self.seal();
        }
    }

    /// Encodes the open batch into a block, then drops the oldest blocks while over the cap.
    fn seal(&mut self) {
        if self.open.is_empty() {
            return;
        }
        let bytes = codec::encode(&self.open).into_boxed_slice();
        self.bytes += bytes.len();
        self.blocks.push_back(Block {
            bytes,
            readings: self.open.len(),
        });
        self.open.clear();
        while self.bytes > self.cap_bytes {
            let Some(old) = self.blocks.pop_front() else {
                break;
            };
            self.bytes -= old.bytes.len();
            self.dropped += old.readings as u64;
        }
    }

    /// Appends everything to `vault` in order (block by block, then the open batch) and
    /// flushes; only then is it forgotten. On a vault error everything stays for the next
    /// unlock (a failed write rolls the vault back to its last checkpoint, and appending
    /// readings it already holds again is harmless: equal times are skipped as duplicates),
    /// but a second failure in a row gives them up, so that a vault which keeps refusing them
    /// can still be unlocked. A block that does not decode is counted as dropped and the rest
    /// is still written.
    fn write_to(&mut self, vault: &mut Vault) -> Result<(), VaultError> {
        let result = self.try_write_to(vault);
        match &result {
            Ok(()) => self.failures = 0,
            Err(e) => {
                self.failures += 1;
                if self.failures >= 2 {
                    let lost = self.len();
                    eprintln!(
                        "hearth-desktop: {lost} readings collected while locked are given up: \
                         the vault refused them twice ({e})"
                    );
                    self.dropped += lost as u64;
                    self.blocks.clear();
                    self.bytes = 0;
                    self.open = Vec::new();
                    self.failures = 0;
                }
            }
        }
        result
    }

    fn try_write_to(&mut self, vault: &mut Vault) -> Result<(), VaultError> {
        if self.blocks.is_empty() && self.open.is_empty() {
            return Ok(());
        }
        for block in &mut self.blocks {
            if block.readings == 0 {
                continue;
            }
            match codec::decode(&block.bytes) {
                Ok(readings) => vault.append(&readings)?,
                Err(e) => {
                    eprintln!(
                        "hearth-desktop: {} readings collected while locked are lost: {e}",
                        block.readings
                    );
                    self.dropped += block.readings as u64;
                    self.bytes -= block.bytes.len();
                    *block = Block {
                        bytes: Box::default(),
                        readings: 0,
                    };
                }
            }
        }
        if !self.open.is_empty() {
            vault.append(&self.open)?;
        }
        vault.flush()?;
        self.blocks.clear();
        self.bytes = 0;
        self.open = Vec::new();
        Ok(())
    }
}

impl Store {
    /// A store for the vault file at `path` (which may not exist yet).
    pub fn new(path: PathBuf) -> Self {
        Store {
            path,
            vault: None,
            pending: Pending::new(PENDING_CAP_BYTES),
        }
    }

    /// The vault file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Setup, locked or open.
    pub fn status(&self) -> Status {
        if self.vault.is_some() {
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

    /// Creates the vault file (slow: runs the key derivation). Call without holding a lock.
    pub fn create_vault(
        path: &Path,
        passphrase: &str,
        kdf: KdfParams,
    ) -> Result<Vault, VaultError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        Vault::create(
            path,
            passphrase,
            &CreateOptions {
                kdf,
                time_zone: None,
            },
        )
    }

    /// Installs an unlocked vault and writes what waited in memory.
    /// If that fails, the vault is not installed and what was not yet written keeps waiting.
    pub fn install(&mut self, mut vault: Vault) -> Result<(), VaultError> {
        self.pending.write_to(&mut vault)?;
        self.vault = Some(vault);
        Ok(())
    }

    /// Flushes and closes the vault; its key leaves memory. Readings now wait in memory.
    pub fn lock(&mut self) -> Result<(), VaultError> {
        match self.vault.take() {
            Some(v) => v.close(),
            None => Ok(()),
        }
    }

    /// Stores readings (or keeps them in memory while locked); flushes when due.
    pub fn append(&mut self, readings: &[Reading], now: Instant) -> Result<(), VaultError> {
        match &mut self.vault {
            Some(v) => {
                v.append(readings)?;
                v.flush_due(now)?;
            }
            None => {
                for r in readings {
                    self.pending.push(r);
                }
            }
        }
        Ok(())
    }

    /// Readings waiting for an unlock.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Bytes of compressed readings waiting for an unlock (the open batch not counted).
    pub fn pending_bytes(&self) -> usize {
        self.pending.bytes
    }

    /// Readings collected while locked that were given up: the oldest, when more than
    /// [`PENDING_CAP_BYTES`] waited.
    pub fn dropped(&self) -> u64 {
        self.pending.dropped
    }

    /// Sets the memory bound of readings waiting while locked (tests use a small one).
    #[cfg(test)]
    fn set_pending_cap(&mut self, bytes: usize) {
        self.pending.cap_bytes = bytes;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_meter::{MeterTime, Protocol, Quantity};
    use hearth_meter_io::simulator::Simulator;
    use hearth_vault::Resolution;

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
    fn locked_store(name: &str) -> (Store, PathBuf) {
        let dir = std::env::temp_dir().join(format!("hearth-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("vault.hearth");
        Store::create_vault(&path, "pw", KdfParams::INSECURE_FOR_TESTS)
            .and_then(Vault::close)
            .expect("create");
        let s = Store::new(path);
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
        let mut s = Store::new(path.clone());
        assert_eq!(s.status(), Status::Setup);
        let v = Store::create_vault(&path, "pw", KdfParams::INSECURE_FOR_TESTS).expect("create");
        s.install(v).expect("install");
        assert_eq!(s.status(), Status::Open);
        let t0 = 1_767_225_600; // 2026-01-01T00:00:00Z
        s.append(&[reading(t0, 1000), reading(t0 + 1, 1001)], Instant::now())
            .expect("append");
        s.lock().expect("lock");
        assert_eq!(s.status(), Status::Locked);
        s.append(&[reading(t0 + 2, 1002)], Instant::now())
            .expect("pending");
        assert_eq!(s.pending(), 1);
        assert!(matches!(
            Vault::open(&path, "wrong"),
            Err(VaultError::WrongPassphrase)
        ));
        s.install(Vault::open(&path, "pw").expect("open"))
            .expect("install");
        assert_eq!(s.pending(), 0);
        assert_eq!(s.vault().and_then(|v| v.last_time()), Some(t0 + 2));
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
            s.append(&batch, Instant::now()).expect("kept");
        }
        assert_eq!(s.pending(), n);
        assert_eq!(s.dropped(), 0);
        // 72 full blocks, nothing left open; 30 days at this rate (10 times three) fit the cap.
        assert_eq!(s.pending.blocks.len(), 72);
        assert!(s.pending.open.is_empty());
        let bytes = s.pending_bytes();
        println!(
            "three simulated days: {bytes} B compressed = {:.3} B/reading",
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
            .map(|c| codec::encode(c).len())
            .collect();
        // Room for exactly the last three blocks: blocks 0 and 1 must go, 2 to 4 stay.
        let cap = size[2] + size[3] + size[4];
        s.set_pending_cap(cap);
        for r in &all {
            s.append(std::slice::from_ref(r), Instant::now())
                .expect("kept");
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
        s.append(&all[..BLOCK_READINGS - 1], Instant::now())
            .expect("kept");
        assert_eq!(s.pending(), BLOCK_READINGS - 1);
        assert_eq!(s.pending_bytes(), 0, "still one open batch");
        s.append(&all[BLOCK_READINGS - 1..BLOCK_READINGS], Instant::now())
            .expect("kept");
        assert_eq!(s.pending(), BLOCK_READINGS);
        assert_eq!(
            s.pending_bytes(),
            codec::encode(&all[..BLOCK_READINGS]).len(),
            "the first block sealed"
        );
        // One call that fills the second block and opens a third.
        s.append(&all[BLOCK_READINGS..], Instant::now())
            .expect("kept");
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
        s.append(&all, Instant::now()).expect("kept");
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
        s.append(&all, Instant::now()).expect("kept");
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
        s.append(&all, Instant::now()).expect("kept");
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
}
