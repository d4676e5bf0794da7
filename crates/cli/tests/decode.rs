//! `hearth decode` end to end: the built binary on real captures, files and stdin.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../meter/tests/fixtures/dsmr")
        .join(name)
}

fn hearth(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .arg("decode")
        .args(args)
        .env_remove("HEARTH_METER_KEY")
        .env_remove("HEARTH_METER_AUTH_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the hearth binary runs");
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.unwrap_or_default().to_vec();
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"))
}

#[test]
fn a_dsmr5_capture_becomes_one_json_line_with_canonical_names() {
    let out = hearth(&[fixture("v5.p1").to_str().unwrap()], None);
    assert!(out.status.success());
    let stdout = lines(&out.stdout);
    assert_eq!(stdout.len(), 1);
    let v = json(&stdout[0]);
    assert_eq!(v["time"], "2017-01-02T19:20:02+01:00");
    assert_eq!(v["protocol"], "dsmr");
    assert_eq!(v["import_kwh_t1"].to_string(), "4.426");
    assert_eq!(v["import_kwh"].to_string(), "6.825");
    assert_eq!(v["import_w"], 244);
    assert_eq!(v["l1_v"].to_string(), "230.0");
    assert_eq!(v["l1_a"].to_string(), "0.48");
    assert_eq!(v["gas_m3"].to_string(), "0.107");
    assert_eq!(v["gas_time"], "2017-01-02T16:10:05+01:00");
    // The JSON text keeps the fixed decimals of each unit.
    assert!(stdout[0].contains("\"l1_a\":0.480"), "{}", stdout[0]);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn stdin_stream_with_a_damaged_telegram() {
    let v5 = std::fs::read(fixture("v5.p1")).unwrap();
    let mut bad = v5.clone();
    let at = bad.windows(6).position(|w| w == b"00.244").unwrap();
    bad[at + 5] = b'9';
    let mut input = v5.clone();
    input.extend_from_slice(&bad);
    input.extend_from_slice(&std::fs::read(fixture("fluvius_v171.p1")).unwrap());
    let out = hearth(&["-"], Some(&input));
    assert!(out.status.success());
    let stdout = lines(&out.stdout);
    assert_eq!(stdout.len(), 2);
    assert_eq!(json(&stdout[1])["demand_peak_month_w"], 2589);
    let stderr = lines(&out.stderr);
    assert_eq!(stderr.len(), 1, "{stderr:?}");
    assert!(
        stderr[0].contains("frame 2 rejected: checksum"),
        "{}",
        stderr[0]
    );
}

#[test]
fn stats_prints_only_the_summary() {
    let v5 = std::fs::read(fixture("v5.p1")).unwrap();
    let mut input = v5.repeat(250);
    input.extend_from_slice(&v5[..500]); // a telegram cut short by the next one
    input.extend_from_slice(&v5);
    let out = hearth(&["--stats"], Some(&input));
    assert!(out.status.success());
    assert!(out.stderr.is_empty(), "no per-frame lines with --stats");
    assert_eq!(
        lines(&out.stdout),
        vec!["251 accepted, 1 rejected (framing 1)"]
    );
    let out = hearth(&["--stats", fixture("v4_2.p1").to_str().unwrap()], None);
    assert_eq!(lines(&out.stdout), vec!["1 accepted, 0 rejected"]);
}

#[test]
fn smarty_needs_the_key() {
    let file = fixture("sagemcom_t210_d_r.encrypted.bin");
    let file = file.to_str().unwrap();
    let out = hearth(
        &[
            "--key",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "--auth-key",
            "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
            file,
        ],
        None,
    );
    assert!(out.status.success());
    let stdout = lines(&out.stdout);
    assert_eq!(stdout.len(), 1);
    assert_eq!(json(&stdout[0])["import_kwh"].to_string(), "6545.766");
    // Explicit protocol, no tag check: the telegram's CRC vouches for it.
    let out = hearth(
        &[
            "--protocol",
            "dsmr",
            "--key",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "--auth-key",
            "none",
            file,
        ],
        None,
    );
    assert_eq!(lines(&out.stdout).len(), 1);
    // No key: a rejected frame and no reading, exit 1 (#17: nothing usable was read).
    let out = hearth(&[file], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(lines(&out.stderr)[0].contains("missing-key"));
    // Wrong key: authentication.
    let out = hearth(&["--key", "00112233445566778899AABBCCDDEEFF", file], None);
    assert!(lines(&out.stderr)[0].contains("authentication"));
}

#[test]
fn unreadable_input_and_bad_keys_fail() {
    let out = hearth(&["/nonexistent/capture.p1"], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open"));
    let out = hearth(&["--key", "1234", "-"], Some(b""));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("32 hexadecimal digits"));
}

#[test]
fn garbage_is_read_reported_and_fails() {
    // Bytes but no reading: said, and exit 1 so a script notices (#17).
    let out = hearth(&[], Some(&[0x55u8; 10_000]));
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no meter frame found in "));
    // Empty input is not a failure: nothing was asked of it.
    let out = hearth(&[], Some(b""));
    assert!(out.status.success());
    // One good telegram among garbage is a success.
    let mut mixed = vec![0x55u8; 1_000];
    mixed.extend_from_slice(&std::fs::read(fixture("v5.p1")).unwrap());
    let out = hearth(&[], Some(&mixed));
    assert!(out.status.success());
    assert_eq!(lines(&out.stdout).len(), 1);
}

#[test]
fn glow_payloads_decode_including_a_last_line_without_newline() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../meter/tests/fixtures/glow/eventhub_to_timescale.jsonl");
    let mut input = std::fs::read(path).unwrap();
    while input.last() == Some(&b'\n') {
        input.pop();
    }
    let out = hearth(&["--protocol", "glow"], Some(&input));
    assert!(out.status.success());
    let readings = lines(&out.stdout);
    assert_eq!(readings.len(), 2, "electricity and gas: {readings:?}");
    // Values from the capture: import 5071.527 kWh, 0.902 kW; gas 1357.208 m³.
    assert!(
        readings[0].contains(r#""import_kwh":5071.527"#),
        "{}",
        readings[0]
    );
    assert!(readings[0].contains(r#""import_w":902"#), "{}", readings[0]);
    assert!(readings[0].contains(r#""protocol":"glow""#));
    assert!(
        readings[1].contains(r#""gas_m3":1357.208"#),
        "{}",
        readings[1]
    );
    let out = hearth(&["--protocol", "glow", "--stats"], Some(&input));
    assert_eq!(lines(&out.stdout), vec!["2 accepted, 0 rejected"]);
}
