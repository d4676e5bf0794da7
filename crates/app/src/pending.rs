//! Readings that arrive while the vault is locked: kept in memory compressed (the vault's own
//! chunk codec), bounded, oldest given up first and counted, and written in order on unlock.

use hearth_meter::Reading;
use hearth_vault::{Vault, VaultError, codec};
use std::collections::VecDeque;

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

/// One sealed block of readings that arrived while locked.
pub(crate) struct Block {
    /// [`codec::encode`] of the readings.
    pub(crate) bytes: Box<[u8]>,
    /// How many readings it holds.
    pub(crate) readings: usize,
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
    /// Readings given up (the oldest blocks over the cap, a block that did not decode, or all of
    /// them after a second write in a row failed).
    pub(crate) dropped: u64,
    /// Writes to the vault that failed in a row.
    pub(crate) failures: u32,
}

impl Pending {
    pub(crate) fn new(cap_bytes: usize) -> Self {
        Pending {
            blocks: VecDeque::new(),
            open: Vec::new(),
            bytes: 0,
            cap_bytes,
            dropped: 0,
            failures: 0,
        }
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
                        "hearth: {} readings collected while locked are lost: {e}",
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
