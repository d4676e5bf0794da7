//! `hearth collect --write-only` (issue 21 item 2): a collector with no passphrase, no keyring
//! and no terminal stores real meter readings that cannot be read back without the
//! passphrase (every reading command refuses, and the file and its -wal/-shm hold none of
//! them in the clear), are all there with it, exactly as a collector holding the passphrase
//! stores them, and a second unlock adds nothing.

mod system;

use hearth_vault::Vault;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use system::{Env, assert_clear_failure, assert_success, hearth, scrub};

/// Six real telegrams (ndokter/dsmr_parser; see tests/fixtures/dsmr/README.md) strung into
/// one capture, oldest first.
const CAPTURE: [&str; 6] = [
    "v4_2.p1",
    "v5.p1",
    "v5_two_mbus.p1",
    "fluvius_v171.p1",
    "fluvius_v171_alt.p1",
    "unpadded_crc.p1",
];

fn capture(env: &Env) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dsmr");
    let mut bytes = Vec::new();
    for name in CAPTURE {
        bytes.extend(std::fs::read(dir.join(name)).expect("fixture"));
    }
    let path = env.path("capture.p1");
    std::fs::write(&path, bytes).expect("capture written");
    path
}

/// `hearth --vault <vault> ARGS` with no passphrase anywhere, no terminal, no keyring.
fn keyless(env: &Env, args: &[&str]) -> Output {
    let mut c = Command::new(hearth());
    c.arg("--vault").arg(&env.vault).args(args);
    scrub(&mut c);
    c.output().expect("hearth runs")
}

/// The vault file, its WAL and its shared-memory index, as bytes.
fn file_bytes(vault: &Path) -> Vec<(String, Vec<u8>)> {
    ["", "-wal", "-shm"]
        .into_iter()
        .filter_map(|suffix| {
            let mut p = vault.as_os_str().to_owned();
            p.push(suffix);
            std::fs::read(&p)
                .ok()
                .map(|b| (format!("v.hearth{suffix}"), b))
        })
        .collect()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// 2016-11-13T20:57:57+01:00 and the other five telegrams' times, as Unix seconds.
const TIMES: [i64; 6] = [
    1_479_067_077,
    1_483_381_202,
    1_587_933_205,
    1_589_284_449,
    1_698_923_748,
    1_771_182_323,
];

#[test]
fn readings_stored_write_only_are_unreadable_without_the_passphrase_and_all_there_with_it() {
    let env = Env::new();
    env.init();
    let cap = capture(&env);
    let source = format!("file:{}", cap.display());
    let out = keyless(&env, &["collect", "--write-only", "--source", &source]);
    assert_success(&out, &["collect", "--write-only"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("stopped: 6 readings sealed for the vault in 1 blocks"),
        "{err}"
    );
    assert_eq!(Vault::inbox_waiting(&env.vault).expect("keyless count"), 1);

    // No plaintext on disk: not a meter id (as sent, hex, or decoded), a register, a
    // timestamp (as the meter sent it, as Hearth writes it, or as a number).
    let mut needles: Vec<Vec<u8>> = [
        "3960221976967177082151037881335713",
        "4B384547303034303436333935353037",
        "K8EG004046395507",
        "E0044007382246019",
        "1SAG3101021605",
        "1SAG3100721326",
        "ADC3100000158491",
        "3016.829",
        "001581.123",
        "000004.426",
        "2375.582",
        "571.562",
        "240.860",
        "161113205757",
        "170102192002",
        "231102121548",
        "260215200523",
        "2016-11-13",
        "2017-01-02",
        "2026-02-15",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    for t in TIMES {
        needles.push(t.to_le_bytes().to_vec());
        needles.push(t.to_be_bytes().to_vec());
        needles.push((t as i32).to_be_bytes().to_vec());
    }
    let files = file_bytes(&env.vault);
    assert!(files.iter().any(|(_, b)| !b.is_empty()));
    for (name, bytes) in &files {
        for n in &needles {
            assert!(
                !contains(bytes, n),
                "{name} holds {:?} in the clear",
                String::from_utf8_lossy(n)
            );
        }
    }

    // Every command that reads needs the passphrase, and leaves the inbox as it is.
    for args in [
        &["export", "--resolution", "raw"][..],
        &["verify"],
        &["report", "--from", "2016-01-01", "--to", "2026-12-31"],
        &["tips"],
        &["backup", "--out", "b.hearth"],
    ] {
        let err = assert_clear_failure(&keyless(&env, args), &format!("{args:?}"));
        assert!(err.contains("no passphrase"), "{args:?}: {err}");
    }
    assert_eq!(Vault::inbox_waiting(&env.vault).expect("count"), 1);

    // With the passphrase: every reading, exactly as a collector holding it stores them.
    let reference = Env::new();
    reference.init();
    reference.ok(&["collect", "--source", &source]);
    let out = env.run(&["export", "--resolution", "raw"]);
    assert_success(&out, &["export"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("took in 6 readings a write-only collector stored (6 new, 0 already here)"),
        "{err}"
    );
    let raw = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(raw, reference.ok(&["export", "--resolution", "raw"]));
    let rows = system::csv_rows(&raw);
    assert_eq!(rows.len(), 6);
    let times: Vec<i64> = rows.iter().map(|r| system::unix(&r[0])).collect();
    assert_eq!(times, TIMES);
    let v5 = &rows[1];
    assert_eq!(v5[1], "K8EG004046395507");
    let col = system::column;
    assert_eq!(
        [
            &v5[col("import_kwh_t1")][..],
            &v5[col("import_kwh_t2")],
            &v5[col("export_kwh_t1")],
            &v5[col("import_w")],
        ],
        ["4.426", "2.399", "2.444", "244"]
    );
    for res in ["1h", "1d"] {
        assert_eq!(
            env.ok(&["export", "--resolution", res]),
            reference.ok(&["export", "--resolution", res]),
            "{res} rollups"
        );
    }
    assert_eq!(Vault::inbox_waiting(&env.vault).expect("count"), 0);

    // A second unlock adds nothing.
    let out = env.run(&["verify"]);
    assert_success(&out, &["verify"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("took in"));
    assert_eq!(env.ok(&["export", "--resolution", "raw"]), raw);
    let v = env.verify();
    assert!(v.success && v.damaged.is_empty(), "{}", v.text);
    assert_eq!(v.readings, 6);
}

#[test]
fn a_vault_without_a_write_key_or_a_pulse_sensor_is_refused_with_what_to_do() {
    let env = Env::new();
    env.init();
    let out = Command::new("python3")
        .arg("-c")
        .arg(
            "import sqlite3, sys\ndb = sqlite3.connect(sys.argv[1])\n\
             db.execute('DELETE FROM write_key')\ndb.commit()\ndb.close()",
        )
        .arg(&env.vault)
        .output()
        .expect("python3 runs (scripts/setup.sh installs it)");
    assert!(out.status.success());
    let source = "demo:7?pace=fast&count=5";
    let err = assert_clear_failure(
        &keyless(&env, &["collect", "--write-only", "--source", source]),
        "no write key",
    );
    assert!(
        err.contains(
            "this vault has no write-only key yet: unlock Hearth once with your passphrase; it \
             then makes the key a write-only collector needs"
        ),
        "{err}"
    );
    // A reader changes nothing in the file: still refused.
    env.ok(&["verify"]);
    assert_clear_failure(
        &keyless(&env, &["collect", "--write-only", "--source", source]),
        "no write key after a reader",
    );
    // Unlocking once as the writer makes it work.
    env.ok(&["collect", "--source", "demo:7?pace=fast&count=1"]);
    let out = keyless(&env, &["collect", "--write-only", "--source", source]);
    assert_success(&out, &["collect", "--write-only"]);
    assert_eq!(Vault::inbox_waiting(&env.vault).expect("count"), 1);

    let err = assert_clear_failure(
        &keyless(
            &env,
            &["collect", "--write-only", "--source", "pulse:/dev/null"],
        ),
        "pulse",
    );
    assert!(
        err.contains("a pulse sensor cannot be collected write-only"),
        "{err}"
    );
}

#[test]
fn a_write_only_collector_and_an_unlocked_writer_never_write_at_once() {
    let env = Env::new();
    env.init();
    let mut child = {
        let mut c = Command::new(hearth());
        c.arg("--vault").arg(&env.vault).args([
            "collect",
            "--write-only",
            "--source",
            "demo:7?pace=real",
        ]);
        scrub(&mut c);
        c.stderr(std::process::Stdio::piped())
            .spawn()
            .expect("collector starts")
    };
    // Wait until it holds the lock: its first status line.
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stderr.take().expect("stderr")),
        &mut first,
    )
    .expect("status line");
    assert!(first.starts_with("collecting from"), "{first}");
    let err = assert_clear_failure(
        &env.run(&["collect", "--source", "demo:7?pace=fast&count=5"]),
        "second writer",
    );
    assert!(err.contains("already writing"), "{err}");
    // Readers still read (what is taken in so far: nothing, the collector holds the lock).
    let v = env.verify();
    assert!(v.success, "{}", v.text);
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
}
