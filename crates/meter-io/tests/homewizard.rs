//! A HomeWizard Wi-Fi P1 meter through its local API v1, against a fake device on 127.0.0.1 (a
//! std `TcpListener` thread answering as HomeWizard documents: `GET /api`, `GET
//! /api/v1/telegram` with real DSMR telegrams from the fixtures): content-length and chunked
//! bodies, the local API switched off, other devices, a slow-loris device, an oversized body,
//! garbage, the same telegram polled twice (one reading), and a public address refused.

use hearth_meter::dsmr::{DsmrDecoder, parse_telegram};
use hearth_meter::{Quantity, Reading, RejectReason};
use hearth_meter_io::homewizard::http::HttpError;
use hearth_meter_io::homewizard::{self, HomeWizardError};
use hearth_meter_io::network::AddressError;
use hearth_meter_io::{Event, HomeWizardSource, Reader, ReaderOptions, Source, Status};
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// HomeWizard's documented `GET /api` answer of a P1 meter (API v1).
const P1_DEVICE: &str = r#"{"product_type": "HWE-P1", "product_name": "P1 Meter", "serial": "3c39e7aabbcc", "firmware_version": "5.18", "api_version": "v1"}"#;

/// HomeWizard's documented answer when the local API is off.
const API_DISABLED: &str = r#"{"error": {"id": 202, "description": "API not enabled"}}"#;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/dsmr/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// How the fake device answers one request.
enum Reply {
    /// These bytes, then the connection is closed.
    Raw(Vec<u8>),
    /// The first bytes at once, then the second ones one at a time, 50 ms apart, over and over
    /// (a slow-loris device).
    Drip(Vec<u8>, Vec<u8>),
}

fn ok(content_type: &str, body: &[u8]) -> Reply {
    let mut r = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    Reply::Raw(r)
}

fn status(code: u16, text: &str, body: &str) -> Reply {
    Reply::Raw(
        format!(
            "HTTP/1.1 {code} {text}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

/// A chunked answer in pieces of `size` bytes.
fn chunked(body: &[u8], size: usize) -> Reply {
    let mut r =
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_vec();
    for piece in body.chunks(size) {
        r.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        r.extend_from_slice(piece);
        r.extend_from_slice(b"\r\n");
    }
    r.extend_from_slice(b"0\r\n\r\n");
    Reply::Raw(r)
}

/// The requests the fake device received, as text.
type Log = Arc<Mutex<Vec<String>>>;

/// A fake device: `answer(path, n)` for the n-th request (from 0) of each path.
fn device(answer: impl Fn(&str, usize) -> Reply + Send + 'static) -> (SocketAddr, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let log: Log = Arc::default();
    let seen = Arc::clone(&log);
    std::thread::spawn(move || {
        let mut counts = std::collections::HashMap::<String, usize>::new();
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut request = Vec::new();
            let mut byte = [0u8; 1];
            while !request.ends_with(b"\r\n\r\n") && conn.read(&mut byte).unwrap_or(0) == 1 {
                request.push(byte[0]);
            }
            let text = String::from_utf8_lossy(&request).into_owned();
            let path = text.split(' ').nth(1).unwrap_or_default().to_owned();
            seen.lock().unwrap().push(text);
            let n = counts.entry(path.clone()).or_default();
            let reply = answer(&path, *n);
            *n += 1;
            match reply {
                Reply::Raw(bytes) => {
                    let _ = conn.write_all(&bytes);
                }
                Reply::Drip(head, bytes) => {
                    // The client gives up; the write then fails and the drip ends.
                    let _ = conn.write_all(&head);
                    std::thread::spawn(move || {
                        for b in bytes.iter().cycle() {
                            if conn.write_all(&[*b]).is_err() {
                                break;
                            }
                            std::thread::sleep(Duration::from_millis(50));
                        }
                    });
                }
            }
        }
    });
    (addr, log)
}

fn source(addr: SocketAddr) -> HomeWizardSource {
    match format!("homewizard:127.0.0.1:{}", addr.port()).parse() {
        Ok(Source::HomeWizard(h)) => h,
        other => panic!("{other:?}"),
    }
}

fn quick() -> ReaderOptions {
    ReaderOptions {
        backoff_initial: Duration::from_millis(50),
        backoff_max: Duration::from_millis(200),
        connect_timeout: Duration::from_secs(2),
        answer_timeout: Duration::from_millis(600),
        ..ReaderOptions::default()
    }
}

async fn fetch(addr: SocketAddr) -> Result<Vec<u8>, HomeWizardError> {
    tokio::time::timeout(
        Duration::from_secs(20),
        homewizard::fetch_telegram(&source(addr), &quick()),
    )
    .await
    .expect("an answer or an error, never a hang")
}

/// The values of `dsmr/v5.p1`, read from the telegram's own lines.
fn assert_v5(r: &Reading) {
    assert_eq!(r.time.map(|t| t.unix), Some(1_483_381_202)); // 170102192002W
    assert_eq!(r.get(Quantity::ImportT1Wh), Some(4_426));
    assert_eq!(r.get(Quantity::ImportT2Wh), Some(2_399));
    assert_eq!(r.get(Quantity::ExportT1Wh), Some(2_444));
    assert_eq!(r.get(Quantity::ExportT2Wh), Some(0));
    assert_eq!(r.get(Quantity::ImportW), Some(244));
    assert_eq!(r.get(Quantity::ExportW), Some(0));
    assert_eq!(r.get(Quantity::GasDm3), Some(107));
}

/// The values of `dsmr/v5_two_mbus.p1`.
fn assert_two_mbus(r: &Reading) {
    assert_eq!(r.time.map(|t| t.unix), Some(1_587_933_205)); // 200426223325S
    assert_eq!(r.get(Quantity::ImportT1Wh), Some(2_130_115));
    assert_eq!(r.get(Quantity::ImportT2Wh), Some(245_467));
    assert_eq!(r.get(Quantity::ImportW), Some(111));
    assert_eq!(r.get(Quantity::GasDm3), Some(246_138));
}

fn p1_serving(telegram: impl Fn(usize) -> Reply + Send + 'static) -> (SocketAddr, Log) {
    device(move |path, n| match path {
        "/api" => ok("application/json", P1_DEVICE.as_bytes()),
        "/api/v1/telegram" => telegram(n),
        _ => status(404, "Not Found", ""),
    })
}

#[tokio::test]
async fn a_content_length_telegram_is_fetched_byte_for_byte() {
    let v5 = fixture("v5.p1");
    let body = v5.clone();
    let (addr, log) = p1_serving(move |_| ok("text/plain", &body));
    let t = fetch(addr).await.unwrap();
    assert_eq!(t, v5);
    assert_v5(&parse_telegram(&t).unwrap().reading);
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 2);
    assert!(log[0].starts_with("GET /api HTTP/1.1\r\n"), "{}", log[0]);
    assert!(log[1].starts_with("GET /api/v1/telegram HTTP/1.1\r\n"));
    let host = format!("\r\nHost: 127.0.0.1:{}\r\n", addr.port());
    assert!(log[1].contains(&host), "{}", log[1]);
    assert!(log[1].contains("\r\nConnection: close\r\n"));
}

#[tokio::test]
async fn a_chunked_telegram_is_put_back_together() {
    let v5 = fixture("v5_two_mbus.p1");
    let body = v5.clone();
    let (addr, _) = p1_serving(move |_| chunked(&body, 97));
    let t = fetch(addr).await.unwrap();
    assert_eq!(t, v5);
    assert_two_mbus(&parse_telegram(&t).unwrap().reading);
}

#[tokio::test]
async fn a_telegram_without_a_final_line_end_gets_one() {
    let v5 = fixture("v5.p1");
    let bare = v5.strip_suffix(b"\r\n").unwrap().to_vec();
    let (addr, _) = p1_serving(move |_| ok("text/plain", &bare));
    assert_eq!(fetch(addr).await.unwrap(), v5);
}

#[tokio::test]
async fn the_local_api_switched_off_says_where_to_switch_it_on() {
    let (addr, _) = p1_serving(|_| status(403, "Forbidden", API_DISABLED));
    let e = fetch(addr).await.unwrap_err();
    assert_eq!(e, HomeWizardError::LocalApiOff { addr });
    assert_eq!(
        e.to_string(),
        format!(
            "the HomeWizard P1 meter at {addr} does not let Hearth read it: turn on 'Local API' \
             in the HomeWizard Energy app (Settings → Meters → your P1 meter → Local API)"
        )
    );
    // 404 on the telegram: the same advice.
    let (addr, _) = p1_serving(|_| status(404, "Not Found", ""));
    assert_eq!(
        fetch(addr).await.unwrap_err(),
        HomeWizardError::LocalApiOff { addr }
    );
}

#[tokio::test]
async fn other_devices_are_named() {
    let (addr, _) = device(|_, _| status(404, "Not Found", "<html>router</html>"));
    assert_eq!(
        fetch(addr).await.unwrap_err(),
        HomeWizardError::NotHomeWizard {
            addr,
            detail: "GET /api answered 404".into()
        }
    );
    let (addr, _) = device(|_, _| ok("application/json", br#"{"name": "printer"}"#));
    assert!(matches!(
        fetch(addr).await.unwrap_err(),
        HomeWizardError::NotHomeWizard { .. }
    ));
    let socket =
        r#"{"product_type": "HWE-SKT", "product_name": "Energy Socket", "api_version": "v1"}"#;
    let (addr, _) = device(move |_, _| ok("application/json", socket.as_bytes()));
    let e = fetch(addr).await.unwrap_err();
    assert_eq!(
        e,
        HomeWizardError::NotP1 {
            addr,
            product_type: "HWE-SKT".into()
        }
    );
    assert!(e.is_permanent());
    let v2 = r#"{"product_type": "HWE-P1", "api_version": "2.0.0"}"#;
    let (addr, _) = device(move |_, _| ok("application/json", v2.as_bytes()));
    assert_eq!(
        fetch(addr).await.unwrap_err(),
        HomeWizardError::V2Only {
            addr,
            api_version: "2.0.0".into()
        }
    );
}

#[tokio::test]
async fn a_slow_loris_device_times_out() {
    let (addr, _) = p1_serving(|_| Reply::Drip(Vec::new(), b"HTTP/1.1 200 OK\r\n".to_vec()));
    assert_eq!(
        fetch(addr).await.unwrap_err(),
        HomeWizardError::Timeout(addr)
    );
    // Headers in time, then a body that never ends.
    let (addr, _) = p1_serving(|_| {
        Reply::Drip(
            b"HTTP/1.1 200 OK\r\nContent-Length: 900\r\n\r\n".to_vec(),
            b"/ISk5\\2MT382-1000\r\n".to_vec(),
        )
    });
    assert_eq!(
        fetch(addr).await.unwrap_err(),
        HomeWizardError::Timeout(addr)
    );
}

#[tokio::test]
async fn an_oversized_body_is_refused() {
    let limit = homewizard::MAX_BODY;
    // Announced too long: refused before reading it.
    let (addr, _) = p1_serving(|_| {
        Reply::Raw(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n/ISk5".to_vec())
    });
    assert_eq!(
        fetch(addr).await.unwrap_err(),
        HomeWizardError::Http(HttpError::BodyTooLarge { addr, limit })
    );
    // No length, just more and more bytes until the close.
    let (addr, _) = p1_serving(|_| {
        let mut r = b"HTTP/1.1 200 OK\r\n\r\n/".to_vec();
        r.extend(std::iter::repeat_n(b'x', 200_000));
        Reply::Raw(r)
    });
    assert_eq!(
        fetch(addr).await.unwrap_err(),
        HomeWizardError::Http(HttpError::BodyTooLarge { addr, limit })
    );
    // Chunks adding up to too much.
    let (addr, _) = p1_serving(|_| chunked(&vec![b'/'; 100_000], 4096));
    assert_eq!(
        fetch(addr).await.unwrap_err(),
        HomeWizardError::Http(HttpError::BodyTooLarge { addr, limit })
    );
    // Endless headers.
    let (addr, _) = p1_serving(|_| {
        let mut r = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..2000 {
            r.extend_from_slice(format!("X-Pad-{i}: aaaaaaaaaaaaaaaa\r\n").as_bytes());
        }
        Reply::Raw(r)
    });
    assert_eq!(
        fetch(addr).await.unwrap_err(),
        HomeWizardError::Http(HttpError::HeadTooLarge(addr))
    );
}

#[tokio::test]
async fn garbage_is_named_not_decoded() {
    let (addr, _) = device(|_, _| Reply::Raw(b"SSH-2.0-OpenSSH_9.6\r\n\r\n".to_vec()));
    assert_eq!(
        fetch(addr).await.unwrap_err(),
        HomeWizardError::Http(HttpError::Malformed {
            addr,
            detail: "no HTTP/1.x status line"
        })
    );
    let (addr, _) = device(|_, _| Reply::Raw(Vec::new()));
    assert!(matches!(
        fetch(addr).await.unwrap_err(),
        HomeWizardError::Http(HttpError::Malformed { .. })
    ));
    let (addr, _) = p1_serving(|_| ok("text/html", b"<html>hello</html>"));
    assert_eq!(
        fetch(addr).await.unwrap_err(),
        HomeWizardError::NotTelegram { addr }
    );
    let (addr, _) = p1_serving(|_| {
        Reply::Raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec())
    });
    assert_eq!(
        fetch(addr).await.unwrap_err(),
        HomeWizardError::Http(HttpError::Malformed {
            addr,
            detail: "broken chunked framing"
        })
    );
}

#[tokio::test]
async fn nothing_listening_is_refused_with_advice() {
    // A port just freed: nothing listens there.
    let addr = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let e = fetch(addr).await.unwrap_err();
    assert_eq!(e, HomeWizardError::Refused(addr));
    assert!(e.to_string().contains("is the P1 meter plugged in"), "{e}");
}

#[tokio::test]
async fn a_public_address_is_refused_without_allow_public() {
    let Ok(Source::HomeWizard(public)) = "homewizard:8.8.8.8".parse() else {
        panic!("not parsed")
    };
    let e = homewizard::fetch_telegram(&public, &quick())
        .await
        .unwrap_err();
    assert_eq!(
        e,
        HomeWizardError::Address(AddressError::Public("8.8.8.8".parse().unwrap()))
    );
    assert!(e.is_permanent());
    // Through the reader: it fails once, and ends.
    let mut reader = Reader::with_options(
        Source::HomeWizard(public),
        DsmrDecoder::new(),
        ReaderOptions::default(),
    );
    match reader.next().await {
        Some(Event::Status(Status::Failed { reason })) => {
            assert!(
                reason.contains("8.8.8.8 is not on your local network"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(reader.next().await, None);
}

async fn next(reader: &mut Reader) -> Event {
    tokio::time::timeout(Duration::from_secs(20), reader.next())
        .await
        .expect("an event within 20 s")
        .expect("the reader has not ended")
}

#[tokio::test]
async fn the_reader_polls_and_the_same_telegram_twice_is_one_reading() {
    // Polls 0-2 return the same telegram (an older meter between its 10-s telegrams), then
    // the next one.
    let (first, second) = (fixture("v5.p1"), fixture("v5_two_mbus.p1"));
    let (addr, log) = p1_serving(move |n| match n {
        0..=2 => ok("text/plain", &first),
        _ => chunked(&second, 200),
    });
    let mut reader = Reader::with_options(
        Source::HomeWizard(source(addr)),
        DsmrDecoder::new(),
        quick(),
    );
    assert_eq!(
        next(&mut reader).await,
        Event::Status(Status::Connected {
            to: format!("HomeWizard P1 meter {addr}")
        })
    );
    let Event::Decoded(d) = next(&mut reader).await else {
        panic!("a reading")
    };
    assert_v5(&d.reading);
    let Event::Decoded(d) = next(&mut reader).await else {
        panic!("a reading")
    };
    assert_two_mbus(&d.reading);
    assert_eq!(reader.stats().accepted, 2);
    assert_eq!(reader.stats().rejected(), 0);
    let telegram_requests = log
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.starts_with("GET /api/v1/telegram "))
        .count();
    assert_eq!(telegram_requests, 4, "three repeats and the new one");
}

#[tokio::test]
async fn a_telegram_read_before_a_reconnect_is_not_read_again_after_it() {
    let (first, second) = (fixture("v5.p1"), fixture("v5_two_mbus.p1"));
    // A failed poll in between: the reader reconnects, and the meter still has the old one.
    let (addr, _) = p1_serving(move |n| match n {
        0 | 2 => ok("text/plain", &first),
        1 => status(500, "Internal Server Error", ""),
        _ => ok("text/plain", &second),
    });
    let mut reader = Reader::for_source(Source::HomeWizard(source(addr)), quick());
    assert!(matches!(
        next(&mut reader).await,
        Event::Status(Status::Connected { .. })
    ));
    let Event::Decoded(d) = next(&mut reader).await else {
        panic!("a reading")
    };
    assert_v5(&d.reading);
    let reason = format!("the HomeWizard P1 meter at {addr} answered with error 500");
    assert_eq!(
        next(&mut reader).await,
        Event::Status(Status::Disconnected {
            reason: reason.clone()
        })
    );
    assert_eq!(
        next(&mut reader).await,
        Event::Status(Status::Reconnecting {
            after: Duration::from_millis(50),
            reason
        })
    );
    assert!(matches!(
        next(&mut reader).await,
        Event::Status(Status::Connected { .. })
    ));
    let Event::Decoded(d) = next(&mut reader).await else {
        panic!("a reading")
    };
    assert_two_mbus(&d.reading);
    assert_eq!(reader.stats().accepted, 2);
}

#[tokio::test]
async fn a_damaged_telegram_is_rejected_by_its_crc() {
    let mut bad = fixture("v5.p1");
    let at = bad.windows(5).position(|w| w == b"0.244").unwrap();
    bad[at + 2] = b'9'; // 00.944 kW: the CRC no longer matches
    let (addr, _) = p1_serving(move |_| ok("text/plain", &bad));
    let mut reader = Reader::with_options(
        Source::HomeWizard(source(addr)),
        DsmrDecoder::new(),
        quick(),
    );
    assert!(matches!(
        next(&mut reader).await,
        Event::Status(Status::Connected { .. })
    ));
    match next(&mut reader).await {
        Event::Rejected(r) => assert_eq!(r.reason, RejectReason::Checksum),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_local_api_off_is_retried_with_the_advice_then_read() {
    let v5 = fixture("v5.p1");
    // Off for the first two requests, then switched on.
    let (addr, _) = p1_serving(move |n| match n {
        0 | 1 => status(403, "Forbidden", API_DISABLED),
        _ => ok("text/plain", &v5),
    });
    let mut reader = Reader::with_options(
        Source::HomeWizard(source(addr)),
        DsmrDecoder::new(),
        quick(),
    );
    for after in [50, 100] {
        match next(&mut reader).await {
            Event::Status(Status::Reconnecting { after: a, reason }) => {
                assert_eq!(a, Duration::from_millis(after));
                assert!(reason.contains("turn on 'Local API'"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(matches!(
        next(&mut reader).await,
        Event::Status(Status::Connected { .. })
    ));
    let Event::Decoded(d) = next(&mut reader).await else {
        panic!("a reading")
    };
    assert_v5(&d.reading);
}
