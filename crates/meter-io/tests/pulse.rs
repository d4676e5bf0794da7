//! The pulse-sensor source through a real pseudo-terminal: a fake optical sensor writes its
//! pulses (one byte, one line, or a running count per flash) into one end, the reader opens
//! the other by path as it opens `/dev/ttyUSB0`. Checks the exact register after N pulses,
//! debounced bursts, missed pulses recovered from a running count, and that unplugging and
//! replugging the sensor keeps counting and never books negative energy.

use hearth_meter::{MeterTime, Protocol, Quantity};
use hearth_meter_io::simulator::PtyMeter;
use hearth_meter_io::{Event, PulseSource, Reader, ReaderOptions, Source, Status};
use std::collections::VecDeque;
use std::path::Path;
use std::time::Duration;

/// The receive time the tests' clock gives: 2026-01-15T12:00:00Z.
const RECEIVED: i64 = 1_768_478_400;

fn quick() -> ReaderOptions {
    ReaderOptions {
        backoff_initial: Duration::from_millis(50),
        backoff_max: Duration::from_millis(200),
        ..ReaderOptions::default()
    }
}

fn point(link: &Path, target: &Path) {
    let tmp = link.with_extension("new");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp).unwrap();
    std::fs::rename(&tmp, link).unwrap();
}

/// A sensor writing `chunks` one per `interval`, then staying quiet (the cable still in).
fn sensor(chunks: &[&[u8]], interval: Duration) -> PtyMeter {
    let mut left: VecDeque<Vec<u8>> = chunks.iter().map(|c| c.to_vec()).collect();
    PtyMeter::spawn_with(move || left.pop_front(), interval).unwrap()
}

fn pulse_source(link: &Path, query: &str) -> PulseSource {
    match format!("pulse:{}?{query}", link.display()).parse() {
        Ok(Source::Pulse(p)) => p,
        other => panic!("not a pulse source: {other:?}"),
    }
}

fn reader(source: PulseSource, start_wh: i64) -> Reader {
    Reader::pulse(source, start_wh, quick())
        .unwrap()
        .with_clock(|| MeterTime::utc(RECEIVED))
}

async fn next(reader: &mut Reader) -> Event {
    tokio::time::timeout(Duration::from_secs(20), reader.next())
        .await
        .expect("an event within 20 s")
        .expect("the reader has not ended")
}

/// Registers of the readings, until one shows `want`; every reading is checked for its
/// shape and the register for never going down.
async fn until_register(reader: &mut Reader, want: i64, seen: &mut Vec<i64>) {
    loop {
        match next(reader).await {
            Event::Decoded(d) => {
                let r = &d.reading;
                assert_eq!(r.protocol, Protocol::Pulse);
                assert_eq!(r.time, Some(MeterTime::utc(RECEIVED)));
                let wh = r.get(Quantity::ImportWh).expect("a register");
                if let Some(last) = seen.last() {
                    assert!(wh >= *last, "register went down: {last} then {wh}");
                }
                assert!(wh <= want, "register {wh} passed the expected {want}");
                seen.push(wh);
                if wh == want {
                    return;
                }
            }
            Event::Rejected(r) => panic!("rejected: {r}"),
            Event::Status(_) => {}
        }
    }
}

/// Two more readings: the register stays where it is (nothing booked twice).
async fn stays(reader: &mut Reader, want: i64) {
    let mut n = 0;
    while n < 2 {
        if let Event::Decoded(d) = next(reader).await {
            assert_eq!(d.reading.get(Quantity::ImportWh), Some(want));
            n += 1;
        }
    }
}

#[tokio::test]
async fn exact_register_after_n_pulses() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("ttyPulse");
    // Ten flashes, one byte each.
    let s = sensor(&[&b"*"[..]; 10], Duration::from_millis(40));
    point(&link, s.path());
    let source = pulse_source(&link, "imp_per_kwh=800&format=byte&debounce_ms=0");
    let mut reader = reader(source, 5_000_000);
    assert_eq!(
        next(&mut reader).await,
        Event::Status(Status::Connected {
            to: format!("pulse sensor on {} (800 imp/kWh)", link.display())
        })
    );
    // 10 pulses at 800 imp/kWh = 12.5 Wh, rounded down: 5 000 012.
    let mut seen = Vec::new();
    until_register(&mut reader, 5_000_012, &mut seen).await;
    stays(&mut reader, 5_000_012).await;
    let stats = reader.pulse_stats().unwrap();
    assert_eq!((stats.accepted, stats.debounced), (10, 0));
    assert_eq!(reader.pulse_register_wh(), Some(5_000_012));
    assert_eq!(reader.stats().accepted as usize, seen.len() + 2);
}

#[tokio::test]
async fn bursts_are_debounced() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("ttyPulse");
    // Five flashes 300 ms apart, each seen three times by a bouncing sensor (one write).
    let s = sensor(&[&b"P\nP\nP\n"[..]; 5], Duration::from_millis(300));
    point(&link, s.path());
    let source = pulse_source(&link, "imp_per_kwh=1000&format=line&debounce_ms=60");
    let mut reader = reader(source, 0);
    let mut seen = Vec::new();
    until_register(&mut reader, 5, &mut seen).await;
    stays(&mut reader, 5).await;
    let stats = reader.pulse_stats().unwrap();
    assert_eq!((stats.accepted, stats.debounced), (5, 10));
}

#[tokio::test]
async fn unplug_and_replug_keep_counting_and_missed_pulses_are_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("ttyPulse");
    // A counting sensor that had counted 10 before Hearth started (the baseline), then 11,
    // 12 and 14: the line for 13 was lost, the count still books it.
    let a = sensor(
        &[b"count=10\n", b"count=11\n", b"count=12\n", b"count=14\n"],
        Duration::from_millis(400),
    );
    point(&link, a.path());
    let source = pulse_source(&link, "imp_per_kwh=1000&format=count");
    let mut reader = reader(source, 2_000_000);
    let mut seen = Vec::new();
    until_register(&mut reader, 2_000_004, &mut seen).await;

    // Unplugged: the sensor restarts from 0 on another terminal behind the same path.
    a.unplug();
    let mut lost = false;
    loop {
        match next(&mut reader).await {
            Event::Status(Status::Disconnected { .. }) => lost = true,
            Event::Status(Status::Reconnecting { .. }) | Event::Decoded(_) => {}
            other => panic!("unexpected after unplugging: {other:?}"),
        }
        if lost {
            break;
        }
    }
    let b = sensor(&[b"count=1\n", b"count=2\n"], Duration::from_millis(400));
    point(&link, b.path());
    // count=1 after 14: a restart, its one pulse booked; count=2: one more. Never negative.
    until_register(&mut reader, 2_000_006, &mut seen).await;
    stays(&mut reader, 2_000_006).await;
    let stats = reader.pulse_stats().unwrap();
    assert_eq!((stats.accepted, stats.resets), (6, 1));
    drop(b);
}

#[tokio::test]
async fn a_zero_meter_constant_fails_clearly() {
    let source = PulseSource {
        imp_per_kwh: 0,
        ..pulse_source(Path::new("/dev/ttyUSB9"), "")
    };
    let err = Reader::pulse(source.clone(), 0, quick()).unwrap_err();
    assert!(err.to_string().contains("at least 1 imp/kWh"), "{err}");
    // Through the generic constructor: a Failed status, then the end.
    let mut reader = Reader::for_source(Source::Pulse(source), quick());
    match next(&mut reader).await {
        Event::Status(Status::Failed { reason }) => {
            assert!(reason.contains("at least 1 imp/kWh"), "{reason}")
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    assert_eq!(reader.next().await, None);
}

#[tokio::test]
async fn readings_come_once_a_second_while_pulses_stream() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("ttyPulse");
    // 200 flashes 15 ms apart (3 s): far more pulses than readings.
    let s = sensor(&[&b"*"[..]; 200], Duration::from_millis(15));
    point(&link, s.path());
    let source = pulse_source(&link, "imp_per_kwh=10000&format=byte&debounce_ms=0");
    let mut reader = reader(source, 0);
    let start = tokio::time::Instant::now();
    let mut readings = 0;
    while start.elapsed() < Duration::from_millis(2_500) {
        if let Event::Decoded(_) = next(&mut reader).await {
            readings += 1;
        }
    }
    // One per second: 2 in the first 2.5 s (a third only if the last wait ran over).
    assert!((2..=3).contains(&readings), "{readings} readings in 2.5 s");
    // 200 pulses at 10 000 imp/kWh = 20 Wh once the stream is through.
    let mut seen = Vec::new();
    until_register(&mut reader, 20, &mut seen).await;
    assert_eq!(reader.pulse_stats().unwrap().accepted, 200);
}
