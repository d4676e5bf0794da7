//! The reader over the demo meter, files and TCP bridges: events in order, exact counts,
//! recorded pace, reconnects with backoff, the silence watchdog, and the LAN-only rule.

mod common;

use common::TestDecoder;
use hearth_meter::dsmr::DsmrDecoder;
use hearth_meter::{Quantity, RejectReason};
use hearth_meter_io::simulator::Simulator;
use hearth_meter_io::{Connection, Event, OpenError, Reader, ReaderOptions, Source, Status};
use std::time::Duration;
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpListener;
use tokio::time::Instant;

/// 2026-01-15T18:00:00+01:00.
const START: i64 = 1_768_496_400;

fn quick() -> ReaderOptions {
    ReaderOptions {
        backoff_initial: Duration::from_millis(50),
        backoff_max: Duration::from_millis(200),
        silence: Duration::from_millis(300),
        reopen_after_silence: Duration::from_millis(900),
        ..ReaderOptions::default()
    }
}

fn telegrams(seed: u64, start: i64, n: usize) -> Vec<Vec<u8>> {
    let mut sim = Simulator::new(seed, start);
    (0..n).map(|_| sim.next_telegram()).collect()
}

async fn next(reader: &mut Reader) -> Event {
    tokio::time::timeout(Duration::from_secs(20), reader.next())
        .await
        .expect("an event within 20 s")
        .expect("the reader has not ended")
}

#[tokio::test]
async fn fast_demo_decodes_to_the_simulators_own_readings() {
    let source: Source = format!("demo:5?pace=fast&start={START}&count=300")
        .parse()
        .unwrap();
    let mut reader = Reader::new(source, DsmrDecoder::new());
    let mut expected = Simulator::new(5, START);
    assert_eq!(
        next(&mut reader).await,
        Event::Status(Status::Connected {
            to: "demo meter (seed 5)".into()
        })
    );
    for i in 0..300 {
        expected.step();
        match next(&mut reader).await {
            Event::Decoded(d) => {
                assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
                assert_eq!(d.reading, expected.reading(), "telegram {i}");
            }
            other => panic!("telegram {i}: {other:?}"),
        }
    }
    assert_eq!(next(&mut reader).await, Event::Status(Status::Finished));
    assert_eq!(reader.next().await, None);
    assert_eq!(reader.stats().accepted, 300);
    assert_eq!(reader.stats().rejected(), 0);
}

#[tokio::test(start_paused = true)]
async fn live_demo_sends_one_telegram_per_second() {
    let source: Source = format!("demo:9?start={START}").parse().unwrap();
    let mut reader = Reader::new(source, TestDecoder::default());
    assert!(matches!(
        next(&mut reader).await,
        Event::Status(Status::Connected { .. })
    ));
    let t0 = Instant::now();
    let mut times = Vec::new();
    for _ in 0..5 {
        match next(&mut reader).await {
            Event::Decoded(d) => times.push(d.reading.time.unwrap().unix),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(times, (START..START + 5).collect::<Vec<_>>());
    // The first telegram comes at once, the fifth four (virtual) seconds later.
    assert_eq!(t0.elapsed().as_secs(), 4);
}

#[tokio::test]
async fn file_replay_keeps_good_frames_and_counts_the_damaged_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("capture.p1");
    let mut bytes = Vec::new();
    for (i, mut t) in telegrams(3, START, 50).into_iter().enumerate() {
        if i == 25 {
            t[60] ^= 0x20; // one flipped bit: the CRC must catch it
        }
        bytes.extend_from_slice(&t);
    }
    std::fs::write(&path, &bytes).unwrap();
    let mut reader = Reader::new(
        Source::File {
            path: path.clone(),
            pace: Default::default(),
        },
        DsmrDecoder::new(),
    );
    let mut decoded = Vec::new();
    let mut rejected = Vec::new();
    let mut statuses = Vec::new();
    while let Some(e) = reader.next().await {
        match e {
            Event::Decoded(d) => decoded.push(d.reading.time.unwrap().unix - START),
            Event::Rejected(r) => rejected.push(r.reason),
            Event::Status(s) => statuses.push(s),
        }
    }
    let expected: Vec<i64> = (0..50).filter(|i| *i != 25).collect();
    assert_eq!(decoded, expected);
    assert_eq!(rejected, vec![RejectReason::Checksum]);
    assert_eq!(
        statuses,
        vec![
            Status::Connected {
                to: format!("file {}", path.display())
            },
            Status::Finished
        ]
    );
    assert_eq!(reader.bytes_read(), bytes.len() as u64);
}

#[tokio::test(start_paused = true)]
async fn recorded_pace_follows_the_telegram_clock_with_long_gaps_shortened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("paced.p1");
    let all = telegrams(4, START, 4_000);
    // Telegrams at +0, +1, +2, +12 (a 10 s gap) and +3612 (an hour gap, replayed as 60 s).
    let picked = [0, 1, 2, 12, 3_612];
    let bytes: Vec<u8> = picked.iter().flat_map(|&i| all[i].clone()).collect();
    std::fs::write(&path, bytes).unwrap();
    let source: Source = format!("file:{}?pace=recorded", path.display())
        .parse()
        .unwrap();
    let mut reader = Reader::new(source, TestDecoder::default());
    let t0 = Instant::now();
    let mut at = Vec::new();
    while let Some(e) = reader.next().await {
        if let Event::Decoded(_) = e {
            at.push(t0.elapsed().as_secs());
        }
    }
    assert_eq!(at, vec![0, 1, 2, 12, 72]);
}

#[tokio::test(start_paused = true)]
async fn recorded_pace_of_real_captures_uses_meter_time_or_the_nominal_interval() {
    // Real telegrams strung into one capture (virtual time: the test takes no real time):
    //   v2_2 x3      no meter time; DSMR 2.2 meters send every 10 s   -> 0, 10, 20
    //   v5           2017-01-02 19:20:02; the one before had no time,
    //                so DSMR 5's nominal 1 s                           -> 21
    //   unpadded_crc 2026-02-15 20:05:23, nine years later: 60 s       -> 81
    //   v4_2         2016-11-13 20:57:57, before the previous: no wait -> 81
    //   sagemcom     2022-10-06 15:50:14 (DSMR 5), years later: 60 s   -> 141
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("strung.p1");
    let v2_2: &[u8] = include_bytes!("fixtures/dsmr/v2_2.p1");
    let parts: [&[u8]; 7] = [
        v2_2,
        v2_2,
        v2_2,
        include_bytes!("fixtures/dsmr/v5.p1"),
        include_bytes!("fixtures/dsmr/unpadded_crc.p1"),
        include_bytes!("fixtures/dsmr/v4_2.p1"),
        include_bytes!("fixtures/dsmr/sagemcom_t210_d_r.p1"),
    ];
    std::fs::write(&path, parts.concat()).unwrap();
    let source: Source = format!("file:{}?pace=recorded", path.display())
        .parse()
        .unwrap();
    let mut reader = Reader::new(source, DsmrDecoder::new());
    let t0 = Instant::now();
    let mut at = Vec::new();
    while let Some(e) = reader.next().await {
        match e {
            Event::Decoded(_) => at.push(t0.elapsed()),
            Event::Rejected(r) => panic!("{r}"),
            Event::Status(_) => {}
        }
    }
    let secs = |s: u64| Duration::from_secs(s);
    assert_eq!(
        at,
        [0, 10, 20, 21, 81, 81, 141].map(secs),
        "exact virtual release times"
    );
}

#[test]
fn nominal_intervals_by_protocol_and_version() {
    use hearth_meter::{Protocol, Reading};
    use hearth_meter_io::reader::nominal_interval;
    let with_version = |v: Option<&str>| {
        let mut r = Reading::new(Protocol::Dsmr);
        r.dsmr_version = v.map(str::to_owned);
        nominal_interval(&r).as_secs()
    };
    assert_eq!(with_version(Some("50")), 1);
    assert_eq!(with_version(Some("50217")), 1); // eMUCS 1.7.1 (Fluvius)
    assert_eq!(with_version(Some("42")), 10);
    assert_eq!(with_version(None), 10); // DSMR 2.2 and 3 have no version line
    let of = |p| nominal_interval(&Reading::new(p)).as_secs();
    assert_eq!(of(Protocol::Sml), 1);
    assert_eq!(of(Protocol::Dlms), 10);
    assert_eq!(of(Protocol::Iec62056_21), 10);
}

#[tokio::test]
async fn a_missing_file_fails_once_and_ends() {
    let mut reader = Reader::new(
        "file:/nonexistent/hearth/capture.p1".parse().unwrap(),
        TestDecoder::default(),
    );
    assert_eq!(
        next(&mut reader).await,
        Event::Status(Status::Failed {
            reason: "/nonexistent/hearth/capture.p1 does not exist".into()
        })
    );
    assert_eq!(reader.next().await, None);
}

#[tokio::test]
async fn tcp_bridge_reconnects_after_it_goes_away() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let first = telegrams(6, START, 10);
    let second = telegrams(6, START + 10, 5);
    let bridge = tokio::spawn(async move {
        // First session: ten telegrams in awkward pieces, then the bridge drops the link.
        let (mut s, _) = listener.accept().await.unwrap();
        let all: Vec<u8> = first.concat();
        for piece in all.chunks(333) {
            s.write_all(piece).await.unwrap();
        }
        drop(s);
        // Second session after the reader comes back.
        let (mut s, _) = listener.accept().await.unwrap();
        s.write_all(&second.concat()).await.unwrap();
        s.shutdown().await.unwrap();
    });
    let source: Source = format!("tcp:127.0.0.1:{port}").parse().unwrap();
    let mut reader = Reader::with_options(source, TestDecoder::default(), quick());
    let mut story = Vec::new();
    let mut times = Vec::new();
    while times.len() < 15 {
        match next(&mut reader).await {
            Event::Decoded(d) => times.push(d.reading.time.unwrap().unix - START),
            Event::Rejected(r) => panic!("{r}"),
            Event::Status(s) => story.push(match s {
                Status::Connected { .. } => "connected",
                Status::Disconnected { .. } => "disconnected",
                Status::Reconnecting { .. } => "reconnecting",
                other => panic!("{other:?}"),
            }),
        }
    }
    assert_eq!(times, (0..15).collect::<Vec<_>>());
    assert_eq!(
        story,
        ["connected", "disconnected", "reconnecting", "connected"]
    );
    bridge.await.unwrap();
}

#[tokio::test]
async fn an_unreachable_bridge_backs_off_exponentially() {
    // Bind, learn a free port, close it again: connecting is refused.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    let source: Source = format!("tcp:127.0.0.1:{port}").parse().unwrap();
    let mut reader = Reader::with_options(source, TestDecoder::default(), quick());
    let mut waits = Vec::new();
    while waits.len() < 4 {
        match next(&mut reader).await {
            Event::Status(Status::Reconnecting { after, reason }) => {
                assert!(reason.contains("cannot connect"), "{reason}");
                waits.push(after.as_millis());
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(waits, [50, 100, 200, 200]);
}

#[tokio::test]
async fn a_silent_bridge_is_reported_then_reopened() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let bridge = tokio::spawn(async move {
        // Accept and say nothing, twice.
        let (a, _) = listener.accept().await.unwrap();
        let (b, _) = listener.accept().await.unwrap();
        (a, b)
    });
    let source: Source = format!("tcp:127.0.0.1:{port}").parse().unwrap();
    let mut reader = Reader::with_options(source, TestDecoder::default(), quick());
    let mut story = Vec::new();
    while story.last() != Some(&"connected") || story.len() < 2 {
        story.push(match next(&mut reader).await {
            Event::Status(Status::Connected { .. }) => "connected",
            Event::Status(Status::Silent { for_ }) => match for_.as_millis() {
                300 => "silent 0.3 s",
                600 => "silent 0.6 s",
                900 => "silent 0.9 s",
                other => panic!("silent {other} ms"),
            },
            Event::Status(Status::Disconnected { reason }) => {
                assert_eq!(reason, "nothing received for 0.9 s");
                "disconnected"
            }
            Event::Status(Status::Reconnecting { .. }) => "reconnecting",
            other => panic!("{other:?}"),
        });
    }
    assert_eq!(
        story,
        [
            "connected",
            "silent 0.3 s",
            "silent 0.6 s",
            "silent 0.9 s",
            "disconnected",
            "reconnecting",
            "connected"
        ]
    );
    drop(bridge.await.unwrap());
}

#[tokio::test]
async fn a_public_bridge_is_refused_without_the_override() {
    // An address literal: nothing is resolved or sent, the check comes first.
    let mut reader = Reader::new("tcp:8.8.8.8:23".parse().unwrap(), TestDecoder::default());
    match next(&mut reader).await {
        Event::Status(Status::Failed { reason }) => assert_eq!(
            reason,
            "8.8.8.8 is not on your local network; Hearth only connects to bridges at home \
             (add ?allow_public to the source to override)"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(reader.next().await, None);
    let mut reader = Reader::new(
        "tcp:[2a00:1450:4001::1]:23".parse().unwrap(),
        TestDecoder::default(),
    );
    assert!(matches!(
        next(&mut reader).await,
        Event::Status(Status::Failed { .. })
    ));
}

#[tokio::test]
async fn power_reaches_the_reading() {
    // The demo through the test decoder: the import power of the first telegram is the
    // simulator's own sample.
    let source: Source = format!("demo:1?pace=fast&start={START}&count=1")
        .parse()
        .unwrap();
    let mut reader = Reader::new(source, TestDecoder::default());
    let mut sim = Simulator::new(1, START);
    let w = i64::from(sim.step().import_w);
    let _connected = next(&mut reader).await;
    match next(&mut reader).await {
        Event::Decoded(d) => assert_eq!(d.reading.get(Quantity::ImportW), Some(w)),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_runs_in_a_spawned_task() {
    // The desktop shell and `hearth collect` run the reader on its own task and forward
    // events over a channel: the reader and its future must be `Send`.
    let source: Source = format!("demo:2?pace=fast&start={START}&count=20")
        .parse()
        .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let task = tokio::spawn(async move {
        let mut reader = Reader::new(source, DsmrDecoder::new());
        while let Some(e) = reader.next().await {
            if let Event::Decoded(d) = e
                && tx.send(d.reading.time.unwrap().unix).await.is_err()
            {
                break;
            }
        }
        reader.stats().accepted
    });
    let mut got = Vec::new();
    while let Some(t) = rx.recv().await {
        got.push(t - START);
    }
    assert_eq!(got, (0..20).collect::<Vec<_>>());
    assert_eq!(task.await.unwrap(), 20);
}

#[tokio::test]
async fn a_connection_gives_the_raw_bytes() {
    let source: Source = format!("demo:4?pace=fast&start={START}&count=3")
        .parse()
        .unwrap();
    let mut conn = Connection::open(&source, &ReaderOptions::default())
        .await
        .unwrap();
    let mut buf = vec![0; 64 * 1024];
    let mut raw = Vec::new();
    loop {
        let n = conn.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    assert_eq!(raw, telegrams(4, START, 3).concat());
    let refused = Connection::open(
        &"tcp:203.0.113.9:2001".parse().unwrap(),
        &ReaderOptions::default(),
    )
    .await;
    assert!(matches!(refused, Err(OpenError::Fatal(_))));
}
