//! The writer: appending readings to the open raw chunk and the rollups, merging late
//! readings, rebuilding rollups, and checkpoints (flush) that make it all durable in one
//! transaction.

use super::{SERIES_MAIN, Vault};
use crate::codec;
use crate::error::{Result, VaultError};
use crate::manifest::Entry;
use crate::resolution::{Resolution, bucket_of};
use crate::rollup::{self, Builder, ClosedChunk, Prev, PrevScan};
use crate::seal::RecordKind;
use hearth_meter::reading::Kind;
use hearth_meter::{Protocol, Reading};
use jiff::tz::TimeZone;
use rusqlite::{Connection, params};
use std::time::{Duration, Instant};

/// The open chunk is written at least this often by [`Vault::flush_due`].
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(10);
/// How far a reading may be dated after the clock given to [`Vault::set_clock`].
pub const FUTURE_GRACE_SECONDS: i64 = 3600;
/// Closed chunks written before an automatic checkpoint during long imports.
const CHECKPOINT_CHUNKS: usize = 48;
/// Late readings buffered before they are merged into their chunks.
const LATE_BUFFER: usize = 200_000;

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

impl Vault {
    pub(super) fn writer(&mut self) -> Result<&mut Writer> {
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

    pub(crate) fn begin(&mut self) -> Result<()> {
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
                    // The same time again: a duplicate, unless it brings quantities the stored
                    // reading lacks (a supplier interval beside a meter reading, a meter's
                    // second list in the same second), which are merged in.
                    match w.open_raw.last_mut() {
                        Some(x) if x.time.map(|x| x.unix) == Some(t) => {
                            if adds_to(x, r) {
                                let before = x.clone();
                                merge_into(x, r);
                                let mut extra = x.clone();
                                // What the builder has not seen yet: the new quantities
                                // (or, where a meter's reading took a supplier's place, all
                                // but the interval energy already booked).
                                for (q, _) in before.quantities() {
                                    if before.protocol == x.protocol || q.kind() == Kind::Interval {
                                        extra.clear(q);
                                    }
                                }
                                w.builder.push_extra(&extra, t);
                                w.stats.late += 1;
                                w.dirty = true;
                            } else {
                                w.stats.duplicates += 1;
                            }
                        }
                        // Not in memory (a reopened writer): merged like a late reading.
                        _ => {
                            w.dirty = true;
                            w.late.push(r.clone());
                        }
                    }
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
            self.save_manifest()?;
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
        self.note_written(&Entry::WRITER_STATE, &sealed)?;
        self.save_manifest()?;
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
        self.note_written(&Entry::chunk(SERIES_MAIN, res.code(), window), &sealed)?;
        if let Some(w) = &mut self.writer {
            w.written += 1;
        }
        Ok(())
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
    pub(super) fn newest_readings_mixed(&self) -> Result<bool> {
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
    pub(super) fn rebuild_rollups(&mut self, from: i64) -> Result<()> {
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
        // Glitches and swaps before the start stay; those after it are found again.
        builder.events = self
            .writer()?
            .builder
            .events
            .range(..(start, 0, false))
            .copied()
            .collect();
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
            if let Some(m) = self.manifest.as_mut() {
                m.forget_chunks_from(&self.conn, SERIES_MAIN, res.code(), w)?;
            }
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
        if start != i64::MIN {
            // Supplier intervals that began before the start and run into it.
            let before = start.saturating_sub(rollup::MAX_INTERVAL_SECONDS);
            for window in
                self.windows(Resolution::Raw, Resolution::Raw.chunk_start(before), start)?
            {
                for r in self.raw_chunk(window)?.unwrap_or_default() {
                    if let Some(t) = r.time.map(|t| t.unix)
                        && (before..start).contains(&t)
                    {
                        self.writer()?.builder.book_intervals(&r, t);
                    }
                }
            }
        }
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
}

impl Drop for Vault {
    fn drop(&mut self) {
        if self.writer.as_ref().is_some_and(|w| !w.poisoned) {
            let _ = self.flush();
        }
    }
}

pub(super) fn new_writer(tz: TimeZone, lock: Connection) -> Writer {
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

/// Whether `new` carries a quantity `stored` (a reading at the same time) lacks.
fn adds_to(stored: &Reading, new: &Reading) -> bool {
    new.quantities().any(|(q, _)| stored.get(q).is_none())
}

/// Merges `new` into `stored`, a reading at the same time: quantities `stored` lacks are
/// added, those it has are kept. A meter's reading beside a supplier download's is the meter's
/// (identity and every value) plus the download's interval energy: a supplier reading's
/// register could only be one made up by builds before interval energy.
fn merge_into(stored: &mut Reading, new: &Reading) {
    if stored.protocol == Protocol::Supplier && new.protocol != Protocol::Supplier {
        let mut merged = new.clone();
        for (q, v) in stored.quantities() {
            if q.kind() == Kind::Interval && merged.get(q).is_none() {
                merged.set(q, v);
            }
        }
        *stored = merged;
        return;
    }
    for (q, v) in new.quantities() {
        if stored.get(q).is_none() {
            stored.set(q, v);
        }
    }
}

/// Merges time-sorted `late` readings into time-sorted `existing`. On equal times the
/// readings are merged ([`merge_into`]): existing values win, and a late reading that adds
/// nothing is a duplicate. Returns the merged list and how many late readings were duplicates.
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
            match out.last_mut() {
                Some(x) if key(x) == key(y) => {
                    if adds_to(x, y) {
                        merge_into(x, y);
                    } else {
                        dups += 1;
                    }
                }
                _ => out.push(y.clone()),
            }
        }
    }
    (out, dups)
}
