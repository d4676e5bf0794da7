//! `hearth collect --source homewizard:127.0.0.1:PORT` through the real `hearth` binary, against
//! a fake HomeWizard Wi-Fi P1 meter on loopback (a std `TcpListener` thread answering `GET /api`
//! and `GET /api/v1/telegram` as HomeWizard documents, with a real DSMR 5 telegram from the
//! fixtures): the telegram polled over and over is stored once with its exact values; the local
//! API switched off is reported with where to switch it on; a public address is refused.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn hearth(vault: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hearth"));
    c.env("HEARTH_INSECURE_TEST_KDF", "1");
    c.arg("--vault")
        .arg(vault)
        .env("HEARTH_PASSPHRASE", "pw-words")
        .env_remove("HEARTH_VAULT")
        .stdin(Stdio::null());
    c
}

fn init_vault(vault: &Path) {
    let init = hearth(vault)
        .args(["init", "--time-zone", "Europe/Amsterdam"])
        .args(["--kdf-memory-kib", "8", "--kdf-iterations", "1"])
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
}

fn v5_telegram() -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../meter-io/tests/fixtures/dsmr/v5.p1"),
    )
    .unwrap()
}

/// A fake P1 meter on loopback: `/api` names an `HWE-P1`, `/api/v1/telegram` answers `telegram`
/// with `status`. Returns the port and the count of telegram requests.
fn fake_p1(status: &'static str, telegram: Vec<u8>) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let polls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&polls);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut request = Vec::new();
            let mut byte = [0u8; 1];
            while !request.ends_with(b"\r\n\r\n") && conn.read(&mut byte).unwrap_or(0) == 1 {
                request.push(byte[0]);
            }
            let (status, body) = if request.starts_with(b"GET /api HTTP/1.1\r\n") {
                (
                    "200 OK",
                    br#"{"product_type": "HWE-P1", "product_name": "P1 Meter", "api_version": "v1"}"#
                        .to_vec(),
                )
            } else {
                counted.fetch_add(1, Ordering::SeqCst);
                (status, telegram.clone())
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(head.as_bytes());
            let _ = conn.write_all(&body);
        }
    });
    (port, polls)
}

/// Runs `hearth collect` on `source` until `polls` telegram requests were made (or 20 s), then
/// stops it with SIGTERM.
fn collect_until(vault: &Path, source: &str, polls: &AtomicUsize, at_least: usize) -> Output {
    let collector = hearth(vault)
        .args(["collect", "--source", source])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while polls.load(Ordering::SeqCst) < at_least && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = collector.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    collector.wait_with_output().unwrap()
}

#[test]
fn a_homewizard_p1_meter_polled_again_and_again_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("v.hearth");
    init_vault(&vault);
    let (port, polls) = fake_p1("200 OK", v5_telegram());
    let out = collect_until(&vault, &format!("homewizard:127.0.0.1:{port}"), &polls, 3);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains(&format!("HomeWizard P1 meter 127.0.0.1:{port}")),
        "{log}"
    );
    assert!(polls.load(Ordering::SeqCst) >= 3);
    assert!(
        log.contains("stopped: 1 readings stored, 0 duplicates"),
        "{log}"
    );

    // The values are the telegram's own: 4.426 + 2.399 kWh imported, 0.244 kW.
    let export = hearth(&vault)
        .args(["export", "--from", "2000-01-01", "--to", "2100-01-01"])
        .args(["--resolution", "raw", "--format", "csv"])
        .output()
        .unwrap();
    assert!(export.status.success());
    let csv = String::from_utf8(export.stdout).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 1, "{csv}");
    let cell = |name: &str| {
        let i = header.iter().position(|h| *h == name).expect(name);
        rows[0][i]
    };
    assert_eq!(cell("import_kwh_t1"), "4.426");
    assert_eq!(cell("import_kwh_t2"), "2.399");
    assert_eq!(cell("export_kwh_t1"), "2.444");
    assert_eq!(cell("import_w"), "244");
}

#[test]
fn the_local_api_switched_off_is_reported_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("v.hearth");
    init_vault(&vault);
    let (port, polls) = fake_p1(
        "403 Forbidden",
        br#"{"error": {"id": 202, "description": "API not enabled"}}"#.to_vec(),
    );
    let out = collect_until(&vault, &format!("homewizard:127.0.0.1:{port}"), &polls, 2);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains(
            "turn on 'Local API' in the HomeWizard Energy app (Settings → Meters → your P1 \
             meter → Local API)"
        ),
        "{log}"
    );
    assert!(log.contains("stopped: 0 readings stored"), "{log}");
}

#[test]
fn a_public_homewizard_address_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("v.hearth");
    init_vault(&vault);
    let out = hearth(&vault)
        .args(["collect", "--source", "homewizard:8.8.8.8"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("8.8.8.8"), "{err}");
    assert!(err.contains("is not on your local network"), "{err}");
}
