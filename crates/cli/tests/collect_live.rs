//! `hearth collect` from a live source: a LAN bridge on loopback streams a real-format capture
//! (the demo recording, 60 DSMR 5 telegrams), and SIGTERM makes the collector save what it has
//! before exiting, so every telegram ends up in the vault.

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
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

/// Creates a vault with cheap key derivation (tests only), in `zone` when given.
fn init_vault(vault: &Path, zone: Option<&str>) {
    let mut cmd = hearth(vault);
    cmd.arg("init");
    if let Some(zone) = zone {
        cmd.args(["--time-zone", zone]);
    }
    let init = cmd
        .args(["--kdf-memory-kib", "8", "--kdf-iterations", "1"])
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
}

/// Every raw reading in the vault, as CSV.
fn export_raw(vault: &Path) -> std::process::Output {
    hearth(vault)
        .args(["export", "--from", "2000-01-01", "--to", "2100-01-01"])
        .args(["--resolution", "raw", "--format", "csv"])
        .output()
        .unwrap()
}

fn demo_capture() -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../assets/demo/hearth-demo-60s.p1"),
    )
    .unwrap()
}

#[test]
fn a_lan_bridge_is_collected_and_sigterm_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("v.hearth");
    init_vault(&vault, Some("Europe/Amsterdam"));

    let capture = demo_capture();
    let telegrams = capture.iter().filter(|&&b| b == b'!').count();
    assert_eq!(telegrams, 60, "the demo recording holds 60 telegrams");

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let bridge = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        // Like a ser2net bridge: the bytes in small pieces.
        for piece in capture.chunks(97) {
            conn.write_all(piece).unwrap();
        }
        conn.flush().unwrap();
        // Keep the connection open until the collector is stopped.
        std::thread::sleep(Duration::from_secs(3));
    });

    let mut collector = hearth(&vault)
        .args(["collect", "--source", &format!("tcp:127.0.0.1:{port}")])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2000));
    // SIGTERM, as a service manager stops it.
    let pid = collector.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = collector.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "collector did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = collector.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(status.success(), "collector failed: {log}");
    assert!(log.contains("60 readings stored"), "{log}");
    bridge.join().unwrap();

    // Every telegram is in the vault: the raw CSV has a header and 60 rows.
    let export = export_raw(&vault);
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let csv = String::from_utf8(export.stdout).unwrap();
    assert_eq!(csv.lines().count(), 61, "{csv}");
}

#[test]
fn a_public_bridge_address_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("v.hearth");
    init_vault(&vault, None);
    let out = hearth(&vault)
        .args(["collect", "--source", "tcp:8.8.8.8:23"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("8.8.8.8"), "{err}");
}

#[test]
fn the_real_time_demo_saves_its_readings_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("v.hearth");
    init_vault(&vault, None);
    let collector = hearth(&vault)
        .args(["collect", "--source", "demo:3"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // One telegram per second; stopped long before the 10-second checkpoint.
    std::thread::sleep(Duration::from_millis(3500));
    let pid = collector.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = collector.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    let stored: u64 = log
        .split("stopped: ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no summary in {log}"));
    assert!(
        (3..=5).contains(&stored),
        "{stored} readings in 3.5 s: {log}"
    );
    let export = export_raw(&vault);
    let csv = String::from_utf8(export.stdout).unwrap();
    assert_eq!(
        csv.lines().count() as u64,
        stored + 1,
        "all of them are in the vault"
    );
}

/// The first `n` telegrams of the demo recording (one per second of meter time).
fn first_telegrams(n: usize) -> Vec<u8> {
    let capture = demo_capture();
    let mut end = 0;
    for _ in 0..n {
        let bang = end + capture[end..].iter().position(|&b| b == b'!').unwrap();
        // `!` + four hex digits of CRC + CR LF.
        end = bang + 7;
    }
    capture[..end].to_vec()
}

#[test]
fn a_capture_replays_at_its_recorded_pace() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("v.hearth");
    init_vault(&vault, Some("Europe/Amsterdam"));
    let capture = dir.path().join("three.p1");
    std::fs::write(&capture, first_telegrams(3)).unwrap();
    let source = format!("file:{}?pace=recorded", capture.display());
    let started = Instant::now();
    let out = hearth(&vault)
        .args(["collect", "--source", &source])
        .output()
        .unwrap();
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Meter times 18:00:00, :01 and :02: the replay waits one second between telegrams (an
    // as-fast-as-possible replay takes milliseconds), and stops at the end of the file.
    assert!(took >= Duration::from_secs(2), "took {took:?}: {stderr}");
    assert!(took < Duration::from_secs(30), "took {took:?}: {stderr}");
    assert!(stderr.contains("3 readings stored"), "{stderr}");
    let csv = String::from_utf8(export_raw(&vault).stdout).unwrap();
    let times: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(
        times,
        [
            "2026-01-15T18:00:00+01:00",
            "2026-01-15T18:00:01+01:00",
            "2026-01-15T18:00:02+01:00"
        ]
    );
}
