//! Background collection: runs `hearth_app::collect` on a meter source (or the simulated demo
//! meter) into the session, updates the live view and tells the window. Runs on Tauri's async
//! runtime, independent of any window being open.

use crate::state::Progress;
use hearth_app::collect::{self, SourceSetup, Watcher};
use hearth_app::demo::DemoHistory;
use hearth_app::follow::{self, Follower};
use hearth_app::live::Live;
use hearth_app::{Clock as _, Session};
use hearth_meter::dsmr::DsmrDecoder;
use hearth_meter::{MeterTime, Reading, Rejection};
use hearth_meter_io::reader::{ReaderOptions, Status};
use hearth_meter_io::simulator::Simulator;
use hearth_meter_io::source::Source;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tauri::{Emitter, Manager, Runtime};

/// The event carrying each new [`hearth_app::live::LiveReading`].
pub const LIVE_EVENT: &str = "live";

/// Seconds since the epoch from the system clock (receive time).
pub fn now_unix() -> i64 {
    hearth_app::SystemClock.now_unix()
}

/// The machine's UTC offset at `unix` (charts show local time).
pub fn local_offset(unix: i64) -> i32 {
    MeterTime::in_zone(unix, &jiff::tz::TimeZone::system()).offset_s
}

/// Starts the simulated meter (`hearth_meter_io::simulator`) on its own thread; its past comes
/// from [`DemoHistory`].
///
/// With `history_days > 0` the meter first lives through that many past days at full speed,
/// storing one reading a minute (registers stay exact), so every screen has data; meanwhile a
/// second simulator of the same household feeds the Now screen. Then the meter runs in real
/// time: one DSMR 5 telegram a second, framed and decoded by `hearth_meter::dsmr::DsmrDecoder`
/// exactly like a real meter's bytes, shown live and stored in the vault.
pub fn spawn_demo<R: Runtime>(
    app: tauri::AppHandle<R>,
    live: Arc<Mutex<Live>>,
    store: Arc<Mutex<Session>>,
    preparing: Progress,
    seed: u64,
    history_days: u32,
) {
    let started = now_unix();
    let caught_up = Arc::new(AtomicBool::new(history_days == 0));
    if history_days > 0 {
        // The Now screen does not wait for the history: a twin of the household shows live.
        // (Its registers start where a new meter's do, so they jump once when the real one
        // takes over; the vault only ever sees the real one.)
        let (app, live, caught_up) = (app.clone(), live.clone(), caught_up.clone());
        std::thread::spawn(move || {
            // Starting ten minutes back fills the live chart at once (past seconds are not paced).
            let mut twin = Simulator::new(seed, started - 600);
            let mut decoder = DsmrDecoder::new();
            while !caught_up.load(Ordering::Relaxed) {
                pace(twin.next_unix());
                if caught_up.load(Ordering::Relaxed) {
                    break;
                }
                let telegram = twin.next_telegram();
                let shown = lock(&live).ingest(&mut decoder, &telegram, now_unix());
                for (_, dto) in shown {
                    let _ = app.emit(LIVE_EVENT, dto);
                }
            }
        });
    }
    std::thread::spawn(move || {
        let mut past = DemoHistory::new(seed, started, history_days);
        if history_days > 0 {
            *lock(&preparing) = Some(past.progress());
            while let Some(mut day) = past.next_day(now_unix()) {
                // The past, at full speed: no live clock check.
                let appended = lock(&store).append(&mut day, now_unix(), false, Instant::now());
                if let Err(e) = appended {
                    eprintln!("hearth-desktop: demo history not stored: {e}");
                }
                *lock(&preparing) = Some(past.progress());
            }
            if let Some(v) = lock(&store).vault_mut() {
                let _ = v.flush();
            }
            *lock(&preparing) = None;
            caught_up.store(true, Ordering::Relaxed);
        }
        let mut meter = past.into_meter();
        let mut decoder = DsmrDecoder::new();
        loop {
            pace(meter.next_unix());
            let telegram = meter.next_telegram();
            let now = now_unix();
            let shown = lock(&live).ingest(&mut decoder, &telegram, now);
            let mut readings: Vec<Reading> = shown.iter().map(|(r, _)| r.clone()).collect();
            let appended = lock(&store).append(&mut readings, now, true, Instant::now());
            if let Err(e) = appended {
                eprintln!("hearth-desktop: reading not stored: {e}");
            }
            for (_, dto) in shown {
                let _ = app.emit(LIVE_EVENT, dto);
            }
        }
    });
}

/// The event carrying the meter connection's state for a human (`connected to ...`).
pub const SOURCE_EVENT: &str = "source-status";

/// A collection running on a real meter source; [`Collecting::stop`] ends it through its
/// last checkpoint (a pulse sensor's register is stored once more).
pub struct Collecting {
    stop: tokio::sync::oneshot::Sender<()>,
    done: std::sync::mpsc::Receiver<()>,
}

impl Collecting {
    /// Asks the collection to stop and waits for it, at most `wait`.
    pub fn stop(self, wait: Duration) {
        let _ = self.stop.send(());
        let _ = self.done.recv_timeout(wait);
    }
}

/// What the window sees of a collection: each reading in the live view and as a
/// [`LIVE_EVENT`], rejected frames and implausible values counted, connection changes as [`SOURCE_EVENT`]s. A reading
/// the vault refuses is said on stderr and collection goes on.
struct Window<R: Runtime> {
    app: tauri::AppHandle<R>,
    live: Arc<Mutex<Live>>,
}

impl<R: Runtime> Watcher for Window<R> {
    fn decoded(&mut self, reading: &Reading, received_unix: i64) {
        let dto = lock(&self.live).record(reading, received_unix);
        let _ = self.app.emit(LIVE_EVENT, dto);
    }

    fn rejected(&mut self, _rejection: &Rejection) {
        lock(&self.live).record_rejection();
    }

    fn implausible(&mut self, dropped: hearth_app::live::LiveDropped) {
        lock(&self.live).record_implausible(dropped);
    }

    fn status(&mut self, status: &Status) {
        let _ = self.app.emit(SOURCE_EVENT, status.to_string());
    }

    fn not_kept(
        &mut self,
        error: hearth_vault::VaultError,
    ) -> Result<(), hearth_vault::VaultError> {
        eprintln!("hearth-desktop: reading not stored: {error}");
        Ok(())
    }
}

/// Reads a real meter source (serial port, LAN bridge, MQTT, pulse sensor, capture file)
/// with `hearth_app::collect`, exactly as `hearth collect` does: protocol auto-detection
/// (decrypting with the setup's keys), readings without a meter time stamped in the vault's
/// time zone `tz`, live readings dated in the future refused, a pulse sensor's register kept
/// at start and stop. Each reading is shown live and stored (or kept in memory while locked).
/// Reconnects are the reader's job.
pub fn spawn_reader<R: Runtime>(
    app: tauri::AppHandle<R>,
    live: Arc<Mutex<Live>>,
    store: Arc<Mutex<Session>>,
    source: Source,
    setup: SourceSetup,
    tz: jiff::tz::TimeZone,
) -> Collecting {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (done_tx, done) = std::sync::mpsc::channel();
    tauri::async_runtime::spawn(async move {
        let is_live = collect::is_live(&source);
        let clock = hearth_app::clock::system();
        let mut window = Window {
            app: app.clone(),
            live,
        };
        let reader = collect::reader(source, setup, tz, clock.clone(), ReaderOptions::default());
        match reader {
            Ok(mut reader) => {
                let mut keeper: &Mutex<Session> = &store;
                let ended = collect::run(
                    &mut reader,
                    &mut keeper,
                    &mut window,
                    is_live,
                    clock.as_ref(),
                    async {
                        let _ = stopped.await;
                    },
                )
                .await;
                if let Err(e) = ended {
                    eprintln!("hearth-desktop: collection stopped: {e}");
                }
            }
            Err(e) => {
                let _ = app.emit(SOURCE_EVENT, format!("stopped: {e}"));
            }
        }
        let _ = done_tx.send(());
    });
    Collecting { stop, done }
}

/// The event telling the window that the app took over writing from a collector that stopped.
pub const TOOK_OVER_EVENT: &str = "took-over";

/// Follows the vault another process writes ([`hearth_app::follow`]): every
/// [`follow::POLL`] the readings it stored go to the live view (the newest also as a
/// [`LIVE_EVENT`]). Once that process stops, the session takes over writing, this app collects
/// from the saved source, and the window hears [`TOOK_OVER_EVENT`]. Ends when the session no
/// longer follows (locked) or a newer follower starts.
pub fn spawn_follower<R: Runtime>(app: tauri::AppHandle<R>) {
    let state = app.state::<crate::state::AppState>();
    let (live, store, epoch) = (
        state.live.clone(),
        state.store.clone(),
        state.follower.clone(),
    );
    let me = epoch.fetch_add(1, Ordering::SeqCst) + 1;
    std::thread::spawn(move || {
        let mut follower = Follower::new();
        let mut said = String::new();
        while epoch.load(Ordering::SeqCst) == me {
            let Some(look) = follow::look(&store, &mut follower, now_unix()) else {
                return;
            };
            // A problem is said once, not at every look.
            let problem = look
                .problem
                .as_ref()
                .map(|e| e.to_string())
                .unwrap_or_default();
            if !problem.is_empty() && problem != said {
                eprintln!("hearth-desktop: following the vault: {problem}");
            }
            said = problem;
            let shown = {
                let mut live = lock(&live);
                live.seed(&look.earlier);
                let now = now_unix();
                let mut newest = None;
                for r in &look.newer {
                    newest = Some(live.record(r, now));
                }
                newest
            };
            if let Some(dto) = shown {
                let _ = app.emit(LIVE_EVENT, dto);
            }
            if look.took_over {
                crate::commands::session::collect_saved_source(&app);
                let _ = app.emit(TOOK_OVER_EVENT, ());
                return;
            }
            std::thread::sleep(follow::POLL);
        }
    });
}

/// Sleeps until the wall clock reaches `unix` (returns at once if it already has).
fn pace(unix: i64) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let due = Duration::from_secs(u64::try_from(unix).unwrap_or(0));
    if due > now {
        std::thread::sleep(due - now);
    }
}

/// Locks a mutex, carrying on with the data if another thread panicked while holding it.
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
