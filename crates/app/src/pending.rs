//! Readings that arrive while the vault is locked: sealed in blocks to the vault's write-only
//! key ([`hearth_vault::write_key`]), which this process can seal to but not open; bounded,
//! oldest given up first and counted; opened with the vault and written in order on unlock.
//!
//! What a memory dump of the locked app holds of them: the sealed blocks (their sizes and
//! how many there are, nothing else), and in the clear only the open batch, the last
//! [`BLOCK_READINGS`] readings or fewer (ten minutes at one a second). The open batch's buffer
//! is overwritten once its readings are sealed, and the codec bytes are wiped; strings a
//! reading carries on the heap (meter id, DSMR version) and the compressor's own working
//! memory are freed without being wiped. The readings on their way in (the reader's last
//! telegram, the live view) are outside this module.
//!
//! A vault that has no write-only key yet (made by an older build and not unlocked since) has
//! nothing to seal to: its blocks are only compressed, as before, until it is unlocked once.

use hearth_meter::{Protocol, Reading};
use hearth_vault::write_key::PublicKey;
use hearth_vault::{Vault, VaultError, codec};
use std::collections::VecDeque;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// Readings kept while locked are sealed into a block every this many (ten minutes at one a
/// second): only these stay in the clear. Measured on two simulated days of 1-s readings
/// (`hearth_meter_io`'s DSMR 5 household, seeds 1 to 3, January and June), codec plus the
/// [`BLOCK_OVERHEAD`](hearth_vault::write_key::BLOCK_OVERHEAD) of sealing: blocks of 300 readings take 4.56 to 4.74 bytes a reading,
/// 600 take 3.90 to 4.05, 1 800 take 2.87 to 2.98 and 3 600 take 2.56 to 2.76. Ten minutes
/// in the clear instead of an hour costs about a third more memory per reading; encoding and
/// sealing take 0.2 ms a block.
pub const BLOCK_READINGS: usize = 600;

/// At most this many bytes of sealed blocks wait in memory while the vault is locked; the
/// oldest block goes (its readings counted as dropped) when a new one would pass it. The open
/// batch comes on top: at most [`BLOCK_READINGS`] plain readings, about 300 KiB.
///
/// A block is the vault's own chunk codec ([`hearth_vault::codec::encode`]) over
/// [`BLOCK_READINGS`] readings, sealed ([`BLOCK_OVERHEAD`](hearth_vault::write_key::BLOCK_OVERHEAD), 73 bytes more). Measured as for
/// [`BLOCK_READINGS`]: 3.90 to 4.05 bytes a reading, the worst block 4.64. 32 MiB therefore
/// holds about 96 days at 4.05 bytes a reading (84 days at the worst block's 4.64 plus
/// overhead, and still 44 days at the codec's 8-byte ceiling for any block).
pub const PENDING_CAP_BYTES: usize = 32 << 20;

/// The label every block is sealed under (part of its associated data).
const LABEL: &str = "app.locked-readings";

/// One block of readings that arrived while locked.
pub(crate) struct Block {
    /// [`codec::encode`] of the readings, sealed to the vault's write-only key (or, when the
    /// vault had none, as encoded).
    pub(crate) bytes: Box<[u8]>,
    /// How many readings it holds.
    pub(crate) readings: usize,
    /// Whether `bytes` is sealed.
    pub(crate) sealed: bool,
}

/// Readings that arrived while the vault was locked, oldest first: sealed blocks, then the
/// open batch.
pub(crate) struct Pending {
    pub(crate) blocks: VecDeque<Block>,
    pub(crate) open: Vec<Reading>,
    /// Bytes held by `blocks`.
    pub(crate) bytes: usize,
    /// Most bytes `blocks` may hold.
    pub(crate) cap_bytes: usize,
    /// Readings given up (the oldest blocks over the cap, a block that did not open or decode,
    /// or all of them after a second write in a row failed).
    pub(crate) dropped: u64,
    /// Writes to the vault that failed in a row.
    pub(crate) failures: u32,
    /// What blocks are sealed to: the key the vault held when it was locked; else, once looked
    /// up, its clear copy in the vault file.
    key: Option<PublicKey>,
    /// Whether the vault file's clear key was looked up since the last lock.
    key_looked_up: bool,
    /// The vault file (for its clear public key when the session started locked).
    path: PathBuf,
}

impl Pending {
    pub(crate) fn new(cap_bytes: usize, path: PathBuf) -> Self {
        Pending {
            blocks: VecDeque::new(),
            open: Vec::new(),
            bytes: 0,
            cap_bytes,
            dropped: 0,
            failures: 0,
            key: None,
            key_looked_up: false,
            path,
        }
    }

    /// At lock: from now on blocks are sealed to `key`, the one the unlocked vault holds
    /// sealed (not the file's clear copy, which whoever can write the file could replace).
    /// `None` (a vault without one): the file is looked at when the first block is sealed.
    pub(crate) fn seal_to(&mut self, key: Option<PublicKey>) {
        self.key = key;
        self.key_looked_up = false;
    }

    pub(crate) fn len(&self) -> usize {
        self.blocks.iter().map(|b| b.readings).sum::<usize>() + self.open.len()
    }

    pub(crate) fn push(&mut self, r: &Reading) {
        if self.open.capacity() == 0 {
            self.open.reserve_exact(BLOCK_READINGS);
        }
        self.open.push(r.clone());
        if self.open.len() >= BLOCK_READINGS {
            self.seal();
        }
    }

    /// The key blocks are sealed to: the one given at lock, else the vault file's clear copy
    /// (a session that started locked), looked up once.
    fn key(&mut self) -> Option<PublicKey> {
        if self.key.is_none() && !self.key_looked_up {
            self.key_looked_up = true;
            self.key = Vault::write_key_public(&self.path).ok().flatten();
        }
        self.key
    }

    /// Seals the open batch into a block and wipes its buffer, then drops the oldest blocks
    /// while over the cap.
    fn seal(&mut self) {
        if self.open.is_empty() {
            return;
        }
        let plain = Zeroizing::new(codec::encode(&self.open));
        let sealed = match self.key().map(|k| k.seal(LABEL, &plain)) {
            Some(Ok(sealed)) => Some(sealed),
            // Only a failing random number generator or a public key of low order (one that
            // anyone could open; not the vault's) end here: kept compressed, as without a key.
            Some(Err(e)) => {
                eprintln!("hearth: readings collected while locked are kept unsealed: {e}");
                None
            }
            None => None,
        };
        let block = match sealed {
            Some(bytes) => Block {
                bytes: bytes.into_boxed_slice(),
                readings: self.open.len(),
                sealed: true,
            },
            None => Block {
                bytes: Box::from(&plain[..]),
                readings: self.open.len(),
                sealed: false,
            },
        };
        drop(plain);
        wipe(&mut self.open);
        self.bytes += block.bytes.len();
        self.blocks.push_back(block);
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
    /// can still be unlocked. A block that does not open (sealed to another key) or decode is
    /// counted as dropped and the rest is still written.
    pub(crate) fn write_to(&mut self, vault: &mut Vault) -> Result<(), VaultError> {
        let result = self.try_write_to(vault);
        match &result {
            Ok(()) => self.failures = 0,
            Err(e) => {
                self.failures += 1;
                if self.failures >= 2 {
                    let lost = self.len();
                    eprintln!(
                        "hearth: {lost} readings collected while locked are given up: \
                         the vault refused them twice ({e})"
                    );
                    self.dropped += lost as u64;
                    self.blocks.clear();
                    self.bytes = 0;
                    wipe(&mut self.open);
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
            let decoded = if block.sealed {
                match vault.open_sealed_block(LABEL, &block.bytes) {
                    Ok(plain) => codec::decode(&plain).map_err(|e| e.to_string()),
                    Err(e @ VaultError::Damaged { .. }) => Err(e.to_string()),
                    Err(e) => return Err(e),
                }
            } else {
                codec::decode(&block.bytes).map_err(|e| e.to_string())
            };
            match decoded {
                Ok(readings) => vault.append(&readings)?,
                Err(e) => {
                    eprintln!(
                        "hearth: {} readings collected while locked are lost: {e}",
                        block.readings
                    );
                    self.dropped += block.readings as u64;
                    self.bytes -= block.bytes.len();
                    *block = Block {
                        bytes: Box::default(),
                        readings: 0,
                        sealed: false,
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
        wipe(&mut self.open);
        self.open = Vec::new();
        Ok(())
    }
}

/// Empties `open`, first overwriting every slot of its buffer with a blank reading, so that the
/// values of readings already sealed do not stay behind in the buffer's spare capacity.
fn wipe(open: &mut Vec<Reading>) {
    let capacity = open.capacity();
    open.clear();
    open.resize(capacity, Reading::new(Protocol::Dsmr));
    // The blank readings are "read", so the writes are not optimised away.
    std::hint::black_box(&mut *open);
    open.clear();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Session;
    use hearth_meter_io::simulator::Simulator;
    use hearth_vault::write_key::BLOCK_OVERHEAD;
    use hearth_vault::{CreateOptions, KdfParams, Resolution};
    use std::time::Instant;

    /// 2026-01-12T00:00:00Z.
    const START: i64 = 1_768_176_000;

    fn simulated(seed: u64, n: usize) -> Vec<Reading> {
        let mut meter = Simulator::new(seed, START);
        (0..n)
            .map(|_| {
                meter.step();
                meter.reading()
            })
            .collect()
    }

    fn new_vault(dir: &std::path::Path) -> (PathBuf, Vault) {
        let path = dir.join("vault.hearth");
        let options = CreateOptions {
            kdf: KdfParams::INSECURE_FOR_TESTS,
            time_zone: Some("UTC".into()),
        };
        let v = Vault::create(&path, "pw-words", &options).expect("create");
        (path, v)
    }

    fn stored(vault: &Vault) -> Vec<Reading> {
        vault
            .readings(i64::MIN / 2, i64::MAX / 2, Resolution::Raw)
            .expect("query")
            .map(|row| row.expect("row").reading)
            .collect()
    }

    /// Whether any 16 bytes in a row of `needle` occur in `haystack`.
    fn shares_16_bytes(haystack: &[u8], needle: &[u8]) -> bool {
        needle
            .windows(16)
            .any(|n| haystack.windows(16).any(|h| h == n))
    }

    /// The held blocks are not the readings' codec bytes (which anyone reading the process's
    /// memory could decode), in whole or in part.
    fn assert_sealed(p: &Pending, all: &[Reading]) {
        for (i, (block, readings)) in p.blocks.iter().zip(all.chunks(BLOCK_READINGS)).enumerate() {
            let encoded = codec::encode(readings);
            assert!(block.sealed, "block {i}");
            assert_eq!(
                block.bytes.len(),
                encoded.len() + BLOCK_OVERHEAD,
                "block {i}"
            );
            assert!(block.bytes[..] != encoded[..], "block {i}");
            assert!(!block.bytes.starts_with(&encoded[..8]), "block {i}");
            assert!(!shares_16_bytes(&block.bytes, &encoded), "block {i}");
            assert!(codec::decode(&block.bytes).is_err(), "block {i}");
        }
    }

    #[test]
    fn blocks_held_after_locking_are_sealed_and_come_back_exactly() {
        let dir = tempfile::tempdir().expect("dir");
        let (path, v) = new_vault(dir.path());
        let mut p = Pending::new(PENDING_CAP_BYTES, path.clone());
        // As `Session::lock` does: the key the unlocked vault holds.
        p.seal_to(v.write_key().expect("key"));
        v.close().expect("close");
        let all = simulated(7, 3 * BLOCK_READINGS + 5);
        for r in &all {
            p.push(r);
        }
        assert_eq!((p.blocks.len(), p.open.len()), (3, 5));
        assert_sealed(&p, &all);
        assert_eq!(
            p.bytes,
            p.blocks.iter().map(|b| b.bytes.len()).sum::<usize>()
        );

        let mut v = Vault::open(&path, "pw-words").expect("unlock");
        p.write_to(&mut v).expect("written");
        assert_eq!((p.len(), p.bytes, p.dropped), (0, 0, 0));
        assert!(stored(&v) == all, "every reading back, exactly");
    }

    #[test]
    fn a_session_that_started_locked_seals_to_the_vault_files_public_key() {
        let dir = tempfile::tempdir().expect("dir");
        let (path, v) = new_vault(dir.path());
        v.close().expect("close");
        // Never unlocked in this process: no key given at lock.
        let mut p = Pending::new(PENDING_CAP_BYTES, path.clone());
        let all = simulated(8, BLOCK_READINGS + 1);
        for r in &all {
            p.push(r);
        }
        assert_sealed(&p, &all);
        let mut v = Vault::open(&path, "pw-words").expect("unlock");
        p.write_to(&mut v).expect("written");
        assert!(stored(&v) == all);
    }

    #[test]
    fn a_block_sealed_to_another_vault_is_counted_as_lost_and_the_rest_written() {
        let dir = tempfile::tempdir().expect("dir");
        let (path, v) = new_vault(dir.path());
        let other = tempfile::tempdir().expect("dir");
        let (_other_path, w) = new_vault(other.path());
        let mut p = Pending::new(PENDING_CAP_BYTES, path.clone());
        p.seal_to(w.write_key().expect("key"));
        let all = simulated(9, 2 * BLOCK_READINGS + 3);
        for r in &all[..BLOCK_READINGS] {
            p.push(r);
        }
        p.seal_to(v.write_key().expect("key"));
        for r in &all[BLOCK_READINGS..] {
            p.push(r);
        }
        v.close().expect("close");
        let mut v = Vault::open(&path, "pw-words").expect("unlock");
        p.write_to(&mut v).expect("written");
        assert_eq!(p.dropped, BLOCK_READINGS as u64);
        assert!(stored(&v) == all[BLOCK_READINGS..]);
    }

    #[test]
    fn without_a_write_only_key_blocks_are_kept_compressed_and_still_written() {
        let dir = tempfile::tempdir().expect("dir");
        // No vault file to read a key from (as for a vault from before write-only keys).
        let mut p = Pending::new(PENDING_CAP_BYTES, dir.path().join("none.hearth"));
        let all = simulated(10, BLOCK_READINGS + 2);
        for r in &all {
            p.push(r);
        }
        assert!(!p.blocks[0].sealed);
        assert_eq!(
            &p.blocks[0].bytes[..],
            &codec::encode(&all[..BLOCK_READINGS])[..]
        );
        let (_path, mut v) = new_vault(dir.path());
        p.write_to(&mut v).expect("written");
        assert!(stored(&v) == all);
    }

    #[test]
    fn blocks_sealed_while_locked_open_after_the_vault_was_rekeyed_meanwhile() {
        let dir = tempfile::tempdir().expect("dir");
        let (path, v) = new_vault(dir.path());
        let mut s = Session::new(path.clone());
        s.install(v).expect("install");
        s.lock().expect("lock");
        // In memory (written write-only, the locked app would hold the writer lock, and the
        // rekey below would have to wait for the unlock).
        s.keep_in_memory();
        let all = simulated(11, 2 * BLOCK_READINGS + 9);
        let mut batch = all.clone();
        s.append(&mut batch, 0, false, Instant::now())
            .expect("kept");
        assert_eq!(s.pending(), all.len());
        assert_eq!(
            s.pending_bytes(),
            all.chunks(BLOCK_READINGS)
                .take(2)
                .map(|c| codec::encode(c).len() + BLOCK_OVERHEAD)
                .sum::<usize>()
        );
        // While the app is locked, `hearth rekey` (another process) replaces the data key.
        let mut v = Vault::open(&path, "pw-words").expect("open");
        v.rekey(
            "new words",
            Some(KdfParams::INSECURE_FOR_TESTS),
            &mut |_, _| {},
        )
        .expect("rekey");
        v.close().expect("close");
        s.install(Vault::open(&path, "new words").expect("unlock"))
            .expect("install");
        assert_eq!((s.pending(), s.dropped()), (0, 0));
        assert!(stored(s.vault().expect("open")) == all);
    }

    #[test]
    fn wiping_the_open_batch_keeps_its_buffer_and_empties_it() {
        let mut open = Vec::with_capacity(BLOCK_READINGS);
        open.extend(simulated(12, 10));
        let buffer = open.as_ptr();
        wipe(&mut open);
        assert!(open.is_empty());
        assert_eq!(open.capacity(), BLOCK_READINGS);
        assert_eq!(
            open.as_ptr(),
            buffer,
            "no new buffer (the old one is overwritten)"
        );
    }
}
