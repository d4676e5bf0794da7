//! Decoding and storing on two threads: a meter file is read and decoded on a thread of its
//! own while the importing thread stores what it emits (coding, compressing, sealing,
//! SQLite), so the two overlap on two cores. Readings travel in order, in batches over a
//! bounded channel, so memory stays bounded however large the file.

use super::{Event, FileError};
use hearth_meter::Reading;
use hearth_meter::plausible::Implausible;
use hearth_meter::record::RecordError;
use hearth_vault::Vault;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

/// Readings travel from the decoding thread to the vault in batches of this many: small
/// enough that the vault starts soon after decoding does, large enough that handing a batch
/// over costs nothing next to decoding it.
const BATCH: usize = 1024;
/// Batches decoded ahead of the vault at most: bounded memory (32 k readings, about 16 MB)
/// however large the file, and enough slack that the decoder seldom waits for the vault
/// when the two threads share busy cores.
const AHEAD: usize = 32;
/// Progress is told every this many readings of a file.
const PROGRESS_EVERY: u64 = 1_000_000;
/// Bytes read are told every this many bytes of a file.
const BYTES_EVERY: u64 = 1 << 20;

/// Bytes read of a file so far (by whichever thread reads it), and its size when known: a
/// progress bar's two numbers.
#[derive(Clone, Debug)]
pub(super) struct Counted {
    read: Arc<AtomicU64>,
    /// The file's size (`None` for standard input or a pipe).
    pub total: Option<u64>,
    /// The bytes last told in an [`Event::Read`], so the same figure is never told twice.
    told: Arc<AtomicU64>,
}

impl Counted {
    pub(super) fn new(total: Option<u64>) -> Counted {
        Counted {
            read: Arc::new(AtomicU64::new(0)),
            total,
            told: Arc::new(AtomicU64::new(u64::MAX)),
        }
    }

    /// Tells the bytes read so far, unless that figure was told already.
    pub(super) fn tell(&self, path: &std::path::Path, on: &mut dyn FnMut(Event<'_>)) {
        let bytes = self.bytes();
        if self.told.swap(bytes, Ordering::Relaxed) != bytes {
            on(Event::Read {
                path,
                bytes,
                total: self.total,
            });
        }
    }

    /// Bytes read so far.
    pub(super) fn bytes(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }

    /// `inner`, counting what is read from it.
    pub(super) fn reader<R: Read + Send + 'static>(&self, inner: R) -> Box<dyn Read + Send> {
        Box::new(Counting {
            inner,
            read: Arc::clone(&self.read),
        })
    }
}

/// A reader that counts its bytes into a [`Counted`].
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// What the decoding thread sends to the storing one.
enum Message {
    /// Readings to store, in order.
    Batch(Vec<Reading>),
    /// A line that is not a reading.
    Unreadable { line: u64, error: RecordError },
    /// A field dropped from the reading of a line as implausible (the rest was kept).
    Implausible { line: u64, found: Implausible },
}

/// The decoding thread's end of the channel: collects readings into batches.
pub(super) struct Sink {
    batch: Vec<Reading>,
    full: mpsc::SyncSender<Message>,
    used: mpsc::Receiver<Vec<Reading>>,
    open: bool,
}

impl Sink {
    /// Emits a reading; `false` once the vault has failed (the producer should stop).
    pub(super) fn reading(&mut self, r: Reading) -> bool {
        self.batch.push(r);
        if self.batch.len() >= BATCH {
            let fresh = match self.used.try_recv() {
                Ok(mut used) => {
                    used.clear();
                    used
                }
                Err(_) => Vec::with_capacity(BATCH),
            };
            let full = std::mem::replace(&mut self.batch, fresh);
            self.open = self.full.send(Message::Batch(full)).is_ok();
        }
        self.open
    }

    /// Tells of a line that is not a reading; `false` once the vault has failed.
    pub(super) fn unreadable(&mut self, line: u64, error: RecordError) -> bool {
        self.open = self.full.send(Message::Unreadable { line, error }).is_ok();
        self.open
    }

    /// Tells of a field dropped as implausible from the reading of `line` (sent before that
    /// reading, which waits in the batch); `false` once the vault has failed.
    pub(super) fn implausible(&mut self, line: u64, found: Implausible) -> bool {
        self.open = self.full.send(Message::Implausible { line, found }).is_ok();
        self.open
    }
}

/// Runs `produce` (reading and decoding the file at `path`) on a thread of its own and
/// stores what it emits in the vault on this one. Readings reach the vault in the order they
/// were emitted, in batches of [`BATCH`]; at most [`AHEAD`] messages wait between the two.
/// The sink returns `false` once the vault has failed: the producer then stops early.
/// Returns the number of readings offered to the vault and what `produce` returned.
pub(super) fn run<T: Send>(
    vault: &mut Vault,
    path: &Path,
    counted: &Counted,
    on: &mut dyn FnMut(Event<'_>),
    produce: impl FnOnce(&mut Sink) -> Result<T, FileError> + Send,
) -> Result<(u64, T), FileError> {
    let (full_tx, full_rx) = mpsc::sync_channel::<Message>(AHEAD);
    // Stored batches go back to the producer, which drops their readings and reuses their
    // memory: readings are freed by the thread that allocated them (freeing them here would
    // contend for the producer's allocator arena, which costs more than it saves).
    let (used_tx, used_rx) = mpsc::channel::<Vec<Reading>>();
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || {
            let mut sink = Sink {
                batch: Vec::with_capacity(BATCH),
                full: full_tx,
                used: used_rx,
                open: true,
            };
            let out = produce(&mut sink);
            // After a read error the readings of the unfinished batch are not stored, as
            // before decoding had a thread of its own.
            if sink.open && out.is_ok() && !sink.batch.is_empty() {
                let _ = sink.full.send(Message::Batch(sink.batch));
            }
            out
        });
        let mut n = 0u64;
        let mut next_report = PROGRESS_EVERY;
        let mut next_bytes = BYTES_EVERY;
        let mut stored = Ok(());
        for message in full_rx.iter() {
            let batch = match message {
                Message::Batch(batch) => batch,
                Message::Unreadable { line, error } => {
                    on(Event::UnreadableLine {
                        path,
                        line,
                        error: &error,
                    });
                    continue;
                }
                Message::Implausible { line, found } => {
                    on(Event::ImplausibleField {
                        path,
                        line,
                        found: &found,
                    });
                    continue;
                }
            };
            if let Err(e) = vault.append(&batch) {
                stored = Err(e);
                break;
            }
            n += batch.len() as u64;
            if n >= next_report {
                on(Event::Progress { path, readings: n });
                next_report += PROGRESS_EVERY;
            }
            let bytes = counted.bytes();
            if bytes >= next_bytes {
                counted.tell(path, on);
                next_bytes = (bytes / BYTES_EVERY + 1) * BYTES_EVERY;
            }
            let _ = used_tx.send(batch);
        }
        // A failed vault stops the producer: its next send finds no receiver.
        drop(full_rx);
        let produced = producer.join().map_err(|_| FileError::DecoderFailed)?;
        stored?;
        Ok((n, produced?))
    })
}
