//! The vault commands end to end through the real `hearth` binary: init, collect from the
//! demo meter, import (raw DSMR capture and JSON Lines), export CSV, verify, passwd,
//! backup/restore, wrong passphrases, and SIGKILL during collection.

use hearth_meter_io::simulator::Simulator;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// 2026-01-15T12:00:00Z.
const T0: i64 = 1_768_478_400;

struct Env {
    dir: tempfile::TempDir,
    vault: PathBuf,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let vault = dir.path().join("v.hearth");
        Env { dir, vault }
    }

    fn cmd(&self, pass: &str, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_hearth"));
        c.env("HEARTH_INSECURE_TEST_KDF", "1");
        c.arg("--vault")
            .arg(&self.vault)
            .args(args)
            .env("HEARTH_PASSPHRASE", pass)
            .env_remove("HEARTH_VAULT")
            .env("CI", "true")
            .stdin(Stdio::null());
        c
    }

    fn run(&self, pass: &str, args: &[&str]) -> Output {
        self.cmd(pass, args).output().unwrap()
    }

    fn ok(&self, pass: &str, args: &[&str]) -> String {
        let out = self.run(pass, args);
        assert!(
            out.status.success(),
            "hearth {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn init(&self) {
        self.ok(
            "pw-words",
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

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn demo(count: u64) -> String {
    format!("demo:7?pace=fast&start={T0}&count={count}")
}

/// The simulator's own telegrams, written as a raw capture file.
fn capture(path: &Path, start: i64, n: usize) {
    let mut sim = Simulator::new(7, start);
    let mut bytes = Vec::new();
    for _ in 0..n {
        bytes.extend(sim.next_telegram());
    }
    std::fs::write(path, bytes).unwrap();
}

fn csv_lines(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn init_collect_export_verify() {
    let env = Env::new();
    env.init();
    // A second init never overwrites.
    assert!(!env.run("pw-words", &["init"]).status.success());
    env.ok("pw-words", &["collect", "--source", &demo(7200)]);
    let report = env.ok("pw-words", &["verify"]);
    assert!(report.contains("(7200 readings), 0 damaged"), "{report}");

    let hours = env.ok(
        "pw-words",
        &[
            "export",
            "--from",
            "2026-01-15T12:00:00Z",
            "--to",
            "2026-01-15T14:00:00Z",
            "--resolution",
            "1h",
        ],
    );
    let rows = csv_lines(&hours);
    assert_eq!(rows.len(), 3, "{hours}");
    let col = |name: &str| rows[0].iter().position(|h| h == name).unwrap();
    assert_eq!(rows[1][col("time")], "2026-01-15T13:00:00+01:00");
    assert_eq!(rows[2][col("time")], "2026-01-15T14:00:00+01:00");
    assert_eq!(rows[0].last().map(String::as_str), Some("export_w_max"));

    // The hourly energy equals the difference of the raw registers at the hour edges.
    let raw = env.ok(
        "pw-words",
        &[
            "export",
            "--from",
            "2026-01-15T12:00:00Z",
            "--to",
            "2026-01-15T14:00:00Z",
            "--resolution",
            "raw",
        ],
    );
    let raw = csv_lines(&raw);
    assert_eq!(raw.len(), 7201);
    let kwh = |row: &Vec<String>, c: usize| -> i64 { row[c].replace('.', "").parse().unwrap() };
    let imp = col("import_kwh");
    let first_hour = kwh(&raw[3601], imp) - kwh(&raw[1], imp);
    let second_hour = kwh(&raw[7200], imp) - kwh(&raw[3601], imp);
    assert_eq!(kwh(&rows[1], imp), first_hour);
    assert_eq!(kwh(&rows[2], imp), second_hour);

    // Decimal comma: `;` separators and `,` decimals.
    let out = env.path("day.csv");
    env.ok(
        "pw-words",
        &[
            "export",
            "--from",
            "2026-01-15",
            "--to",
            "2026-01-16",
            "--resolution",
            "1d",
            "--decimal-comma",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("time;meter_id;protocol;"), "{text}");
    assert_eq!(text.lines().count(), 2);
}

#[test]
fn wrong_passphrase_is_a_clear_error_and_passwd_changes_it() {
    let env = Env::new();
    env.init();
    let out = env.run("nope", &["verify"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("wrong passphrase"), "{err}");
    let mut c = env.cmd("pw-words", &["passwd"]);
    c.env("HEARTH_NEW_PASSPHRASE", "new words");
    assert!(c.output().unwrap().status.success());
    assert!(!env.run("pw-words", &["verify"]).status.success());
    env.ok("new words", &["verify"]);
    // --passphrase-file takes the first line.
    let pf = env.path("pass.txt");
    std::fs::write(&pf, "new words\nignored\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .env("HEARTH_INSECURE_TEST_KDF", "1")
        .arg("--vault")
        .arg(&env.vault)
        .arg("--passphrase-file")
        .arg(&pf)
        .arg("verify")
        .env_remove("HEARTH_PASSPHRASE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // No passphrase at all and no terminal: a clear error, not a hang.
    let out = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .env("HEARTH_INSECURE_TEST_KDF", "1")
        .arg("--vault")
        .arg(&env.vault)
        .arg("verify")
        .env_remove("HEARTH_PASSPHRASE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("HEARTH_PASSPHRASE"));
}

#[test]
fn import_raw_and_json_lines_twice_changes_nothing() {
    let env = Env::new();
    env.init();
    let cap = env.path("meter.p1");
    capture(&cap, T0, 1800);
    env.ok("pw-words", &["import", cap.to_str().unwrap()]);
    env.ok("pw-words", &["import", cap.to_str().unwrap()]);
    let report = env.ok("pw-words", &["verify"]);
    assert!(report.contains("(1800 readings)"), "{report}");
    // JSON Lines of the following half hour, as `hearth decode` would print them.
    let mut sim = Simulator::new(7, T0);
    for _ in 0..1800 {
        sim.step();
    }
    let mut jsonl = String::new();
    for _ in 0..1800 {
        sim.step();
        jsonl.push_str(&sim.reading().to_json());
        jsonl.push('\n');
    }
    let jl = env.path("more.jsonl");
    std::fs::write(&jl, jsonl).unwrap();
    env.ok("pw-words", &["import", jl.to_str().unwrap()]);
    let report = env.ok("pw-words", &["verify"]);
    assert!(report.contains("(3600 readings)"), "{report}");
    let raw = env.ok("pw-words", &["export", "--resolution", "raw"]);
    assert_eq!(raw.lines().count(), 3601);
}

#[test]
fn backup_and_restore_merge_into_another_vault() {
    let a = Env::new();
    a.init();
    a.ok("pw-words", &["collect", "--source", &demo(3600)]);
    let backup = a.path("a.backup");
    a.ok("pw-words", &["backup", "--out", backup.to_str().unwrap()]);
    let b = Env::new();
    b.init();
    let mut c = b.cmd("pw-words", &["restore", backup.to_str().unwrap()]);
    c.env("HEARTH_BACKUP_PASSPHRASE", "pw-words");
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("3600 readings in the backup: 3600 added, 0 already present")
    );
    let again = b.ok("pw-words", &["restore", backup.to_str().unwrap()]);
    assert!(again.contains("0 added, 3600 already present"), "{again}");
    assert_eq!(
        a.ok("pw-words", &["export", "--resolution", "1m"]),
        b.ok("pw-words", &["export", "--resolution", "1m"])
    );
}

#[test]
fn sigkill_during_collect_never_corrupts() {
    let env = Env::new();
    env.init();
    // The first run lasts past one checkpoint (10 s); the others are killed at once-ish.
    let mut last_n = 0;
    for (round, ms) in [10_800u64, 700, 1300].into_iter().enumerate() {
        let mut child = env
            .cmd(
                "pw-words",
                &[
                    "collect",
                    "--source",
                    &format!("demo:7?pace=fast&start={T0}"),
                ],
            )
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(ms));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let report = env.ok("pw-words", &["verify"]);
        assert!(report.contains(", 0 damaged"), "round {round}: {report}");
        let n: u64 = report
            .split('(')
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .and_then(|s| s.parse().ok())
            .unwrap();
        assert!(n >= last_n, "round {round}: stored readings never shrink");
        last_n = n;
    }
    assert!(last_n > 0, "the first run checkpointed");
    // Every stored second is there once, with no hole: rows = last - first + 1.
    let raw = env.ok("pw-words", &["export", "--resolution", "raw"]);
    let rows = csv_lines(&raw);
    let times: Vec<i64> = rows[1..]
        .iter()
        .map(|r| r[0].parse::<jiff::Timestamp>().unwrap().as_second())
        .collect();
    assert_eq!(times.len() as u64, last_n);
    assert_eq!(times[0], T0);
    assert!(
        times.windows(2).all(|w| w[1] == w[0] + 1),
        "contiguous seconds"
    );
}
