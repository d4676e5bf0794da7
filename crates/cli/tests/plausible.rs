//! Issue 17 ("Done when", bullet 3) and issue 19 item 2, through the real `hearth` binary:
//! the plausibility rules apply to JSON Lines imports as they do to decoders. A field no
//! household meter reports is dropped from its reading (the rest stored), each told with its
//! line, and the summary says how many fields were dropped; `hearth decode --stats` and
//! `hearth collect` count them for captures.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs `hearth --vault v.hearth ARGS` in `dir`.
fn hearth(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hearth"))
        .current_dir(dir)
        .args(["--vault", "v.hearth"])
        .args(args)
        .env("HEARTH_PASSPHRASE", "pw-words")
        .env("HEARTH_INSECURE_TEST_KDF", "1")
        .env_remove("HEARTH_VAULT")
        .env("CI", "true")
        .stdin(Stdio::null())
        .output()
        .expect("run hearth")
}

fn ok(dir: &Path, args: &[&str]) -> (String, String) {
    let out = hearth(dir, args);
    let err = String::from_utf8(out.stderr).expect("utf-8");
    assert!(out.status.success(), "hearth {args:?} failed: {err}");
    (String::from_utf8(out.stdout).expect("utf-8"), err)
}

fn vault(dir: &Path) {
    ok(
        dir,
        &[
            "init",
            "--time-zone",
            "Europe/Amsterdam",
            "--kdf-memory-kib",
            "8",
            "--kdf-iterations",
            "1",
        ],
    );
}

/// The raw export as one map per row, column name to cell (empty cells left out).
fn exported(dir: &Path) -> Vec<BTreeMap<String, String>> {
    let (csv, _) = ok(dir, &["export", "--resolution", "raw"]);
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    lines
        .map(|row| {
            header
                .iter()
                .zip(row.split(','))
                .filter(|(_, cell)| !cell.is_empty())
                .map(|(h, cell)| (h.to_string(), cell.to_string()))
                .collect()
        })
        .collect()
}

fn row(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn implausible_json_lines_fields_are_dropped_told_and_counted() {
    let dir = tempfile::tempdir().expect("dir");
    let dir = dir.path();
    vault(dir);
    std::fs::write(
        dir.join("readings.jsonl"),
        // 1: a voltage of 4000 V and 900 kW (the repro): both go, the register stays.
        "{\"time\":\"2026-01-15T12:00:00+01:00\",\"import_kwh\":1.000,\"l1_v\":4000.0,\
          \"import_w\":900000}\n\
         {\"time\":\"2026-01-15T12:00:10+01:00\",\"import_kwh\":1.002,\"l1_v\":230.1,\
          \"l1_a\":2.000,\"import_w\":300}\n\
         {\"time\":\"2026-01-15T12:00:20+01:00\",\"import_kwh\":1.004,\"l2_v\":79.9,\
          \"l3_a\":-500.001,\"export_w\":60001,\"meter_id\":\"1.0.96.1.0.255\"}\n\
         {\"time\":\"2026-01-15T12:00:30+01:00\",\"import_kwh\":1.006,\"l1_v\":230.0,\
          \"l1_a\":1.000,\"l1_import_w\":5000}\n\
         {\"time\":\"1999-12-31T23:59:59Z\",\"import_kwh\":1.008}\n",
    )
    .expect("file");
    let (_, err) = ok(dir, &["import", "readings.jsonl"]);
    for told in [
        "readings.jsonl:1: l1_v 4000.0 dropped: a household voltage is 0 or between 80 and 300 V",
        "readings.jsonl:1: import_w 900000 dropped: a household connection carries at most \
         ±60 kW",
        "readings.jsonl:3: l2_v 79.9 dropped: a household voltage is 0 or between 80 and 300 V",
        "readings.jsonl:3: l3_a -500.001 dropped: a household current is within ±500 A",
        "readings.jsonl:3: export_w 60001 dropped: a household connection carries at most \
         ±60 kW",
        "readings.jsonl:3: meter_id 1.0.96.1.0.255 dropped: a meter id is not an OBIS code",
        "readings.jsonl:4: l1_a 1.000 dropped: the power is more than the phase's voltage and \
         current can carry",
        "readings.jsonl:4: l1_import_w 5000 dropped: the power is more than the phase's \
         voltage and current can carry",
        "readings.jsonl:5: time 1999-12-31T23:59:59+00:00 dropped: a meter time lies between the \
         years 2000 and 2100",
        "readings.jsonl: 9 implausible field(s) dropped (the rest of each reading kept)",
        "9 implausible field(s) dropped from readings",
        // The undated reading cannot be stored; the other four are, what is plausible of them.
        "1 without a time",
    ] {
        assert!(err.contains(told), "{told:?} not in:\n{err}");
    }
    assert!(!err.contains("readings.jsonl:2:"), "{err}");
    let rows = exported(dir);
    let with = |t: &str, more: &[(&str, &str)]| {
        let mut r = row(&[("time", t), ("estimated", "false")]);
        r.extend(row(more));
        r
    };
    assert_eq!(
        rows,
        [
            with("2026-01-15T12:00:00+01:00", &[("import_kwh", "1.000")]),
            with(
                "2026-01-15T12:00:10+01:00",
                &[
                    ("import_kwh", "1.002"),
                    ("import_w", "300"),
                    ("l1_v", "230.1"),
                    ("l1_a", "2.000")
                ]
            ),
            with("2026-01-15T12:00:20+01:00", &[("import_kwh", "1.004")]),
            with(
                "2026-01-15T12:00:30+01:00",
                &[("import_kwh", "1.006"), ("l1_v", "230.0")]
            ),
        ]
    );
}

#[test]
fn decode_stats_count_the_fields_dropped() {
    let dir = tempfile::tempdir().expect("dir");
    let dir = dir.path();
    // An IEC 62056-21 mode D push whose voltage is 23.0 V (a scaler read wrong).
    std::fs::write(
        dir.join("push.txt"),
        "/ISK5ME162-0033\r\n\r\n1.8.0(001234.567*kWh)\r\n32.7.0(23.0*V)\r\n!\r\n",
    )
    .expect("file");
    let (out, _) = ok(dir, &["decode", "--stats", "push.txt"]);
    assert_eq!(
        out,
        "1 accepted, 0 rejected, 1 implausible field(s) dropped\n"
    );
    let (out, err) = ok(dir, &["decode", "--verbose", "push.txt"]);
    assert!(out.contains("\"import_kwh\":1234.567"), "{out}");
    assert!(!out.contains("l1_v"), "{out}");
    assert!(
        err.contains(
            "frame 1, line 0 (l1_v): l1_v 23.0 dropped: a household voltage is 0 or between \
             80 and 300 V"
        ),
        "{err}"
    );
}

/// CRC16/ARC (poly 0xA001 reflected, init 0), computed here independently of the decoder.
fn crc16_arc(bytes: &[u8]) -> u16 {
    let mut crc = 0u16;
    for &b in bytes {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
        }
    }
    crc
}

#[test]
fn collect_counts_the_fields_dropped() {
    let dir = tempfile::tempdir().expect("dir");
    let dir = dir.path();
    vault(dir);
    // The DSMR 5 fixture twice: as it is, and with 0.0 V on L1 (a phase down: plausible)
    // and 300.1 V on L2, a second later, its CRC computed anew.
    let v5 = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../meter/tests/fixtures/dsmr/v5.p1"),
    )
    .expect("fixture");
    let bang = v5.find('!').expect("end");
    let body = v5[..=bang]
        .replace("0-0:1.0.0(170102192002W)", "0-0:1.0.0(170102192003W)")
        .replace("1-0:32.7.0(0230.0*V)", "1-0:32.7.0(0000.0*V)")
        .replace("1-0:52.7.0(0230.0*V)", "1-0:52.7.0(0300.1*V)");
    let crafted = format!("{body}{:04X}\r\n", crc16_arc(body.as_bytes()));
    std::fs::write(dir.join("x.p1"), format!("{v5}{crafted}")).expect("capture");
    let (_, err) = ok(dir, &["collect", "--source", "file:x.p1"]);
    assert!(
        err.contains("stopped: 2 readings stored"),
        "both readings stored: {err}"
    );
    assert!(
        err.contains("\n1 implausible field(s) dropped from readings\n"),
        "{err}"
    );
    let rows = exported(dir);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["l2_v"], "230.0");
    assert_eq!(rows[1]["l1_v"], "0.0");
    assert_eq!(rows[1].get("l2_v"), None);
    assert_eq!(rows[1]["l3_v"], "229.0");
}

#[test]
fn report_readings_drop_implausible_fields_as_an_import_does() {
    let dir = tempfile::tempdir().expect("dir");
    let dir = dir.path();
    std::fs::write(
        dir.join("readings.jsonl"),
        "{\"time\":\"2026-01-05T00:00:00+01:00\",\"import_kwh\":1.000,\"l1_v\":4000.0}\n\
         {\"time\":\"2026-01-05T12:00:00+01:00\",\"import_kwh\":1.500,\"import_w\":900000}\n\
         {\"time\":\"2026-01-06T00:00:00+01:00\",\"import_kwh\":2.000}\n",
    )
    .expect("file");
    let tariff = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/tariffs/nl-flat.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .current_dir(dir)
        .args(["report", "--from", "2026-01-05", "--to", "2026-01-06"])
        .args([
            "--readings",
            "readings.jsonl",
            "--format",
            "json",
            "--tariff",
        ])
        .arg(tariff)
        .env_remove("HEARTH_VAULT")
        .env_remove("HEARTH_PASSPHRASE")
        .stdin(Stdio::null())
        .output()
        .expect("run hearth");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(
            "hearth: readings.jsonl: 2 implausible field(s) dropped (the rest of each reading \
             kept)"
        ),
        "{err}"
    );
    let json = String::from_utf8_lossy(&out.stdout);
    assert!(
        json.contains("\"import_kwh\":1.0"),
        "the registers stay: {json}"
    );
}
