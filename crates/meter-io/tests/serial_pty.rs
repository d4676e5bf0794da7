//! The serial source through a real pseudo-terminal pair: a fake meter thread writes simulator
//! telegrams into one end, the reader opens the other by path, exactly as it opens
//! `/dev/ttyUSB0`. Unplugging closes the fake end; a new terminal behind the same path (a
//! symlink, as udev's `/dev/serial/by-id/...` links are) proves the reconnect.

mod common;

use common::TestDecoder;
use hearth_meter::dsmr::DsmrDecoder;
use hearth_meter_io::simulator::{PtyMeter, Simulator};
use hearth_meter_io::{Event, Reader, ReaderOptions, Source, Status};
use std::path::Path;
use std::time::Duration;

/// 2026-01-15T18:00:00+01:00.
const START: i64 = 1_768_496_400;
const FAST: Duration = Duration::from_millis(20);

fn quick() -> ReaderOptions {
    ReaderOptions {
        backoff_initial: Duration::from_millis(50),
        backoff_max: Duration::from_millis(200),
        silence: Duration::from_millis(300),
        reopen_after_silence: Duration::from_secs(60),
        ..ReaderOptions::default()
    }
}

async fn next(reader: &mut Reader) -> Event {
    tokio::time::timeout(Duration::from_secs(20), reader.next())
        .await
        .expect("an event within 20 s")
        .expect("the reader has not ended")
}

fn point(link: &Path, target: &Path) {
    let tmp = link.with_extension("new");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp).unwrap();
    std::fs::rename(&tmp, link).unwrap();
}

fn serial(path: &Path) -> Source {
    format!("serial:{}:115200:8N1", path.display())
        .parse()
        .unwrap()
}

/// The next decoded telegram's time offset from START, skipping status events.
async fn next_reading(reader: &mut Reader) -> i64 {
    loop {
        match next(reader).await {
            Event::Decoded(d) => return d.reading.time.unwrap().unix - START,
            Event::Rejected(r) => panic!("rejected: {r}"),
            Event::Status(_) => {}
        }
    }
}

#[tokio::test]
async fn reads_a_meter_by_path_and_survives_unplug_and_replug() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("ttyP1");
    let meter = PtyMeter::spawn(Simulator::new(8, START), FAST).unwrap();
    point(&link, meter.path());

    let mut reader = Reader::with_options(serial(&link), DsmrDecoder::new(), quick());
    assert_eq!(
        next(&mut reader).await,
        Event::Status(Status::Connected {
            to: format!("serial port {} (115200 8N1)", link.display())
        })
    );
    // The meter started before the reader opened the port; whatever arrives is whole,
    // consecutive telegrams.
    let first = next_reading(&mut reader).await;
    for i in 1..10 {
        assert_eq!(next_reading(&mut reader).await, first + i);
    }

    // Pull the cable.
    meter.unplug();
    let mut story = Vec::new();
    loop {
        match next(&mut reader).await {
            Event::Decoded(_) => {} // telegrams still in flight
            Event::Status(Status::Disconnected { reason }) => {
                assert!(reason.starts_with(&link.display().to_string()), "{reason}");
                story.push("disconnected");
            }
            Event::Status(Status::Reconnecting { after, reason }) => {
                story.push("reconnecting");
                if story.len() >= 3 {
                    // The path is gone: each retry fails and waits longer.
                    assert!(reason.contains("is not there"), "{reason}");
                    assert!(after >= Duration::from_millis(100));
                    break;
                }
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(story, ["disconnected", "reconnecting", "reconnecting"]);
    assert!(!reader.is_connected());

    // Plug a meter back in behind the same path: a fresh simulator continuing the clock.
    let meter = PtyMeter::spawn(Simulator::new(8, START + 1000), FAST).unwrap();
    point(&link, meter.path());
    loop {
        match next(&mut reader).await {
            Event::Status(Status::Connected { .. }) => break,
            Event::Status(Status::Reconnecting { .. }) => {}
            other => panic!("{other:?}"),
        }
    }
    let first = next_reading(&mut reader).await;
    assert!(first >= 1000);
    assert_eq!(next_reading(&mut reader).await, first + 1);
    assert_eq!(reader.stats().rejected(), 0);
}

#[tokio::test]
async fn a_port_that_appears_later_is_picked_up() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("ttyLate");
    let mut reader = Reader::with_options(serial(&link), TestDecoder::default(), quick());
    match next(&mut reader).await {
        Event::Status(Status::Reconnecting { after, reason }) => {
            assert_eq!(after, Duration::from_millis(50));
            assert_eq!(
                reason,
                format!("{} is not there (is the cable plugged in?)", link.display())
            );
        }
        other => panic!("{other:?}"),
    }
    let meter = PtyMeter::spawn(Simulator::new(2, START), FAST).unwrap();
    point(&link, meter.path());
    loop {
        match next(&mut reader).await {
            Event::Status(Status::Connected { .. }) => break,
            Event::Status(Status::Reconnecting { .. }) => {}
            other => panic!("{other:?}"),
        }
    }
    let a = next_reading(&mut reader).await;
    assert_eq!(next_reading(&mut reader).await, a + 1);
}

#[tokio::test]
async fn a_meter_that_stops_talking_is_reported_silent() {
    let meter = PtyMeter::spawn_with(|| None, FAST).unwrap();
    let mut reader = Reader::with_options(serial(meter.path()), TestDecoder::default(), quick());
    assert!(matches!(
        next(&mut reader).await,
        Event::Status(Status::Connected { .. })
    ));
    let e = next(&mut reader).await;
    assert_eq!(
        e,
        Event::Status(Status::Silent {
            for_: Duration::from_millis(300)
        })
    );
    if let Event::Status(s) = e {
        assert_eq!(s.to_string(), "no data from the meter for 0.3 s");
    }
    assert_eq!(
        next(&mut reader).await,
        Event::Status(Status::Silent {
            for_: Duration::from_millis(600)
        })
    );
}

#[tokio::test]
async fn garbage_on_the_line_is_skipped_and_telegrams_still_come_through() {
    // A meter whose line also carries noise between telegrams.
    let mut sim = Simulator::new(12, START);
    let mut n = 0u32;
    let meter = PtyMeter::spawn_with(
        move || {
            n += 1;
            let mut chunk: Vec<u8> = (0..97u32).map(|i| (i * 37 + n) as u8 & 0x7F).collect();
            chunk.retain(|&b| b != b'/');
            chunk.extend_from_slice(&sim.next_telegram());
            Some(chunk)
        },
        FAST,
    )
    .unwrap();
    let mut reader = Reader::with_options(serial(meter.path()), DsmrDecoder::new(), quick());
    let a = next_reading(&mut reader).await;
    for i in 1..5 {
        assert_eq!(next_reading(&mut reader).await, a + i);
    }
    assert!(reader.stats().skipped_bytes > 0);
}
