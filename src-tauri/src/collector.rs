//! Background collection: reads the meter source, decodes frames, updates the live view and
//! tells the window. Runs on Tauri's async runtime, independent of any window being open.

use crate::dto::LiveDto;
use crate::live::Live;
use crate::state::Progress;
use crate::store::Store;
use hearth_meter::auto::AutoDecoder;
use hearth_meter::dsmr::DsmrDecoder;
use hearth_meter::{Decoder, MeterTime, Reading};
use hearth_meter_io::reader::{Event, Reader, ReaderOptions};
use hearth_meter_io::simulator::Simulator;
use hearth_meter_io::source::Source;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tauri::{Emitter, Runtime};

/// The event carrying each new [`LiveDto`].
pub const LIVE_EVENT: &str = "live";

/// Feeds received bytes through a decoder into the live view; returns each decoded reading
/// (to store) with what to show, in order. Rejected frames are counted, not returned.
pub fn ingest(
    decoder: &mut dyn Decoder,
    bytes: &[u8],
    live: &mut Live,
    received_unix: i64,
) -> Vec<(Reading, LiveDto)> {
    decoder.push(bytes);
    let mut out = Vec::new();
    while let Some(frame) = decoder.next() {
        match frame {
            Ok(decoded) => {
                let dto = live.record(&decoded.reading, received_unix);
                out.push((decoded.reading, dto));
            }
            Err(_) => live.record_rejection(),
        }
    }
    out
}

/// Seconds since the epoch from the system clock (receive time; only the shell reads the clock).
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The machine's UTC offset at `unix` (charts show local time).
pub fn local_offset(unix: i64) -> i32 {
    MeterTime::in_zone(unix, &jiff::tz::TimeZone::system()).offset_s
}

/// Days of history generated per vault append while preparing the demo.
const DAY: i64 = 86_400;

/// Starts the simulated meter (`hearth_meter_io::simulator`) on its own thread.
///
/// With `history_days > 0` the meter first lives through that many past days at full speed,
/// storing one reading a minute (registers stay exact), so every screen has data; meanwhile a
/// second simulator of the same household feeds the Now screen. Then the meter runs in real
/// time: one DSMR 5 telegram a second, framed and decoded by `hearth_meter::dsmr::DsmrDecoder`
/// exactly like a real meter's bytes, shown live and stored in the vault.
pub fn spawn_demo<R: Runtime>(
    app: tauri::AppHandle<R>,
    live: Arc<Mutex<Live>>,
    store: Arc<Mutex<Store>>,
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
                let shown = ingest(&mut decoder, &telegram, &mut lock(&live), now_unix());
                for (_, dto) in shown {
                    let _ = app.emit(LIVE_EVENT, dto);
                }
            }
        });
    }
    std::thread::spawn(move || {
        let mut meter = Simulator::new(seed, started - i64::from(history_days) * DAY);
        if history_days > 0 {
            *lock(&preparing) = Some((0, history_days));
            let mut batch = Vec::with_capacity(1440);
            let mut day = 0u32;
            while meter.next_unix() < now_unix() {
                let t = meter.step().time.unix;
                if t % 60 == 0 {
                    batch.push(meter.reading());
                }
                if t % DAY == 0 || meter.next_unix() >= now_unix() {
                    if let Err(e) = lock(&store).append(&batch, Instant::now()) {
                        eprintln!("hearth-desktop: demo history not stored: {e}");
                    }
                    batch.clear();
                    day = (day + 1).min(history_days);
                    *lock(&preparing) = Some((day, history_days));
                }
            }
            if let Some(v) = lock(&store).vault_mut() {
                let _ = v.flush();
            }
            *lock(&preparing) = None;
            caught_up.store(true, Ordering::Relaxed);
        }
        let mut decoder = DsmrDecoder::new();
        loop {
            pace(meter.next_unix());
            let telegram = meter.next_telegram();
            let now = now_unix();
            let shown = ingest(&mut decoder, &telegram, &mut lock(&live), now);
            let readings: Vec<Reading> = shown.iter().map(|(r, _)| r.clone()).collect();
            if let Err(e) = lock(&store).append(&readings, Instant::now()) {
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

/// Reads a real meter source (serial port, LAN bridge, MQTT, capture file) through
/// `hearth_meter_io::Reader` with protocol auto-detection (decrypting with the meter's `keys`
/// when it has them), on Tauri's async runtime: each
/// decoded reading is shown live and stored (or kept in memory while locked); connection
/// changes are sent to the window as [`SOURCE_EVENT`]. Reconnects are the reader's job.
/// Aborting the returned task stops reading (the source is closed).
pub fn spawn_reader<R: Runtime>(
    app: tauri::AppHandle<R>,
    live: Arc<Mutex<Live>>,
    store: Arc<Mutex<Store>>,
    source: Source,
    mqtt_password: Option<String>,
    pulse_start_wh: i64,
    keys: Option<hearth_meter::auto::Keys>,
) -> tauri::async_runtime::JoinHandle<()> {
    tauri::async_runtime::spawn(async move {
        let tz = jiff::tz::TimeZone::system();
        let options = ReaderOptions::default();
        let reader = match source {
            Source::Mqtt(m) => {
                Reader::for_source(Source::Mqtt(m), options).with_password(mqtt_password)
            }
            Source::Pulse(p) => match Reader::pulse(p, pulse_start_wh, options) {
                Ok(r) => r,
                Err(e) => {
                    let _ = app.emit(SOURCE_EVENT, format!("stopped: {e}"));
                    return;
                }
            },
            other => {
                let decoder = keys.map_or_else(AutoDecoder::new, AutoDecoder::with_keys);
                Reader::with_options(other, decoder, options)
            }
        };
        let mut reader = reader.with_clock(move || MeterTime::in_zone(now_unix(), &tz));
        while let Some(event) = reader.next().await {
            match event {
                Event::Decoded(d) => {
                    let dto = lock(&live).record(&d.reading, now_unix());
                    if let Err(e) = lock(&store).append(&[d.reading], Instant::now()) {
                        eprintln!("hearth-desktop: reading not stored: {e}");
                    }
                    let _ = app.emit(LIVE_EVENT, dto);
                }
                Event::Rejected(_) => lock(&live).record_rejection(),
                Event::Status(s) => {
                    let _ = app.emit(SOURCE_EVENT, s.to_string());
                }
            }
        }
    })
}

/// The newest stored import register (so a pulse sensor's count continues across restarts).
pub fn last_import_wh(vault: &hearth_vault::Vault) -> i64 {
    let Some(last) = vault.last_time() else {
        return 0;
    };
    let Ok(rows) = vault.readings(last - 3600, last + 1, hearth_vault::Resolution::Raw) else {
        return 0;
    };
    rows.flatten()
        .filter_map(|r| r.reading.get(hearth_meter::Quantity::ImportWh))
        .last()
        .unwrap_or(0)
}

/// The stored readings of the [`crate::live::KEEP_S`] seconds up to the newest one, oldest
/// first, so the Now chart can draw them before the meter's first telegram (ten seconds on
/// some meters); empty when the newest stored reading is older than that before `now` or the
/// vault cannot be read.
pub fn recent_readings(vault: &hearth_vault::Vault, now: i64) -> Vec<Reading> {
    let keep = crate::live::KEEP_S;
    let Some(last) = vault.last_time().filter(|last| *last > now - keep) else {
        return Vec::new();
    };
    match vault.readings(last - keep + 1, last + 1, hearth_vault::Resolution::Raw) {
        Ok(rows) => rows.flatten().map(|r| r.reading).collect(),
        Err(_) => Vec::new(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_meter::Quantity;

    #[test]
    fn simulator_telegrams_reach_the_live_view_and_garbage_is_counted() {
        // 2026-01-15T12:00:00Z; the simulator's own reading is the reference.
        let mut meter = Simulator::new(7, 1_768_478_400);
        let mut decoder = DsmrDecoder::new();
        let mut live = Live::default();
        let t1 = meter.next_telegram();
        let expected = meter.reading();
        let shown = ingest(&mut decoder, &t1, &mut live, 0);
        assert_eq!(shown.len(), 1);
        // What gets stored is what the decoder read: every value equal to the simulator's own
        // reading (the decoder may add extras the simulator does not model, such as the
        // power-failure log).
        let got = &shown[0].0;
        assert_eq!(
            (got.time, got.meter_id.clone()),
            (expected.time, expected.meter_id.clone())
        );
        for q in Quantity::ALL {
            assert_eq!(got.get(q), expected.get(q), "{}", q.name());
        }
        let shown: Vec<LiveDto> = shown.into_iter().map(|(_, d)| d).collect();
        let want_net = expected.get(Quantity::ImportW).unwrap_or(0)
            - expected.get(Quantity::ExportW).unwrap_or(0);
        assert_eq!(shown[0].net_w, want_net);
        assert_eq!(shown[0].unix, 1_768_478_400);
        assert_eq!(shown[0].time.as_deref(), Some("2026-01-15T13:00:00+01:00"));
        // A telegram with one flipped byte fails its CRC: counted, not shown.
        let mut bad = meter.next_telegram();
        bad[20] ^= 0x01;
        assert!(ingest(&mut decoder, &bad, &mut live, 0).is_empty());
        // Split across pushes, the next one still decodes.
        let t3 = meter.next_telegram();
        let (a, b) = t3.split_at(100);
        assert!(ingest(&mut decoder, a, &mut live, 0).is_empty());
        let shown = ingest(&mut decoder, b, &mut live, 0);
        assert_eq!(shown.len(), 1);
        let shown: Vec<LiveDto> = shown.into_iter().map(|(_, d)| d).collect();
        assert_eq!((shown[0].accepted, shown[0].rejected), (2, 1));
        assert_eq!(shown[0].unix, 1_768_478_402);
    }
}
