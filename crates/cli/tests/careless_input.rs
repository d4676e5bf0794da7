//! Issue 17's careless and hostile inputs through the real `hearth` binary (findings 6 to 9
//! and two of 12's oddities), each with the repro as its data: times without an
//! offset, a failed `init`, imports from pipes and standard input, files of which nothing can
//! be used, backwards backup ranges, blank passphrases and a 0-byte vault file.

use hearth_meter_io::simulator::Simulator;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// 2026-01-15T12:00:00Z = 13:00 in Amsterdam.
const T0: i64 = 1_768_478_400;

/// `hearth --vault v.hearth ARGS` in `dir`, passphrase `pw-words`, stdin empty.
fn hearth(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hearth"));
    c.env("HEARTH_INSECURE_TEST_KDF", "1");
    c.current_dir(dir)
        .arg("--vault")
        .arg("v.hearth")
        .env("HEARTH_PASSPHRASE", "pw-words")
        .env_remove("HEARTH_VAULT")
        .env("CI", "true")
        .stdin(Stdio::null());
    c
}

fn run(dir: &Path, args: &[&str]) -> Output {
    hearth(dir).args(args).output().expect("run hearth")
}

fn ok(dir: &Path, args: &[&str]) -> (String, String) {
    let out = run(dir, args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "hearth {args:?} failed: {err}");
    (String::from_utf8(out.stdout).expect("utf-8"), err)
}

/// A command that must exit 1; returns its stderr.
fn refused(out: Output, what: &str) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{what} did not fail: {err}");
    err
}

const INIT: [&str; 7] = [
    "init",
    "--time-zone",
    "Europe/Amsterdam",
    "--kdf-memory-kib",
    "8",
    "--kdf-iterations",
    "1",
];

/// A vault in Amsterdam with `n` readings of the demo meter, one a second from `T0`.
fn vault(dir: &Path, n: usize) {
    ok(dir, &INIT);
    if n > 0 {
        let source = format!("demo:7?pace=fast&start={T0}&count={n}");
        ok(dir, &["collect", "--source", &source]);
    }
}

/// The times (first column) of `hearth export --resolution raw` rows, header left out.
fn exported_times(dir: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["export", "--resolution", "raw"];
    args.extend_from_slice(extra);
    let (out, _) = ok(dir, &args);
    out.lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap_or_default().to_string())
        .collect()
}

/// `n` DSMR 5 telegrams of the simulated meter, one a second from `T0`.
fn telegrams(n: usize) -> Vec<u8> {
    let mut sim = Simulator::new(7, T0);
    (0..n).flat_map(|_| sim.next_telegram()).collect()
}

// Finding 6: `--from 2026-01-15T18:00:30` started at 18:00:00, `--to` with a time exported
// nothing with exit 0, and `report --from 2026-02-01T12:00` was the whole day.
#[test]
fn a_time_without_an_offset_is_local_to_the_second_never_cut_to_its_date() {
    let dir = tempfile::tempdir().expect("dir");
    let dir = dir.path();
    vault(dir, 600);
    let times = exported_times(
        dir,
        &[
            "--from",
            "2026-01-15T13:05:30",
            "--to",
            "2026-01-15T13:05:40",
        ],
    );
    assert_eq!(times.len(), 10, "{times:?}");
    assert_eq!(times[0], "2026-01-15T13:05:30+01:00");
    assert_eq!(times[9], "2026-01-15T13:05:39+01:00");
    // The same with a space, and the same moment with its offset.
    assert_eq!(
        exported_times(
            dir,
            &[
                "--from",
                "2026-01-15 13:05:30",
                "--to",
                "2026-01-15T12:05:40Z"
            ]
        ),
        times
    );
    // Only an end: everything before 13:00:05 local.
    assert_eq!(
        exported_times(dir, &["--to", "2026-01-15T13:00:05"]).len(),
        5
    );
    // A time the clocks skip names no moment: refused, with the way out.
    let err = refused(
        run(dir, &["export", "--from", "2026-03-29T02:30"]),
        "a skipped time",
    );
    assert!(
        err.contains("\"2026-03-29T02:30\" does not exist in Europe/Amsterdam"),
        "{err}"
    );
    let err = refused(
        run(dir, &["export", "--from", "2025-10-26T02:30"]),
        "a repeated time",
    );
    assert!(err.contains("happens twice in Europe/Amsterdam"), "{err}");
    // Report and tips periods are whole days: a time is refused, not dropped.
    for cmd in ["report", "tips"] {
        let out = run(
            dir,
            &[cmd, "--from", "2026-02-01T12:00", "--to", "2026-02-02"],
        );
        assert_eq!(out.status.code(), Some(2), "{cmd}: clap's usage error");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("has a time of day, but periods here are whole local days"),
            "{cmd}: {err}"
        );
    }
}

/// What is in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

// Finding 7: `init --time-zone Europe/Amsterdm` said "backup: unknown time zone", left a
// working vault in UTC, and the corrected `init` was then refused.
#[test]
fn a_failed_init_leaves_nothing_and_the_corrected_one_succeeds() {
    let dir = tempfile::tempdir().expect("dir");
    let dir = dir.path();
    let err = refused(
        run(
            dir,
            &[
                "init",
                "--time-zone",
                "Europe/Amsterdm",
                "--kdf-memory-kib",
                "8",
            ],
        ),
        "a misspelt zone",
    );
    assert_eq!(
        err,
        "hearth: unknown time zone \"Europe/Amsterdm\"; give one like Europe/Amsterdam (an \
         IANA name)\n"
    );
    assert_eq!(listing(dir), Vec::<String>::new());
    // Argon2 settings no key can be derived with (the file was left unusable).
    for (mem, passes) in [
        ("1", "1"),
        ("8", "0"),
        ("4194305", "1"),
        ("2097153", "2"),
        ("19456", "17"),
    ] {
        let err = refused(
            run(
                dir,
                &["init", "--kdf-memory-kib", mem, "--kdf-iterations", passes],
            ),
            "bad Argon2 settings",
        );
        assert!(
            err.contains("Argon2 memory must be 19456 to 2097152 KiB and passes 2 to 16"),
            "{err}"
        );
        assert_eq!(listing(dir), Vec::<String>::new());
    }
    // A folder that does not exist yet is made, and removed again when init fails.
    let out = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .env("HEARTH_INSECURE_TEST_KDF", "1")
        .current_dir(dir)
        .args(["--vault", "new/sub/v.hearth", "init"])
        .args(["--kdf-memory-kib", "0"])
        .env("HEARTH_PASSPHRASE", "pw-words")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    refused(out, "bad Argon2 settings in a new folder");
    assert_eq!(listing(dir), Vec::<String>::new());
    // TZ naming no zone: refused, never a quiet UTC.
    let out = hearth(dir)
        .args(["init", "--kdf-memory-kib", "8"])
        .env("TZ", "Mars/Olympus")
        .output()
        .expect("run");
    let err = refused(out, "TZ=Mars/Olympus");
    assert!(
        err.contains("the system's time zone TZ=\"Mars/Olympus\" is not one Hearth knows"),
        "{err}"
    );
    assert_eq!(listing(dir), Vec::<String>::new());
    // The corrected init works, in the zone given.
    let (_, err) = ok(dir, &INIT);
    assert!(err.contains("(time zone Europe/Amsterdam)"), "{err}");
    ok(dir, &["verify"]);
}

// Finding 12: a passphrase of only spaces was accepted by init and passwd.
#[test]
fn a_passphrase_of_only_spaces_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let dir = dir.path();
    let out = hearth(dir)
        .args(INIT)
        .env("HEARTH_PASSPHRASE", "   ")
        .output()
        .expect("run");
    let err = refused(out, "init with a blank passphrase");
    assert_eq!(
        err,
        "hearth: the passphrase is only spaces; choose a few words only you know\n"
    );
    assert_eq!(listing(dir), Vec::<String>::new());
    vault(dir, 0);
    let out = hearth(dir)
        .arg("passwd")
        .env("HEARTH_NEW_PASSPHRASE", " \t ")
        .output()
        .expect("run");
    let err = refused(out, "passwd to a blank passphrase");
    assert!(err.contains("the passphrase is only spaces"), "{err}");
    ok(dir, &["verify"]);
}

// Finding 12: a 0-byte vault file got a database header (1024 bytes, and a lock side file)
// from a command that then said it is not a Hearth vault.
#[test]
fn read_only_commands_leave_a_zero_byte_vault_file_as_it_is() {
    let dir = tempfile::tempdir().expect("dir");
    let dir = dir.path();
    std::fs::write(dir.join("v.hearth"), b"").expect("empty file");
    let source = format!("demo:7?pace=fast&start={T0}&count=5");
    for args in [
        &["verify"][..],
        &["export", "--resolution", "raw"],
        &["collect", "--source", &source],
    ] {
        let err = refused(run(dir, args), "a 0-byte vault");
        assert!(err.contains("is not a Hearth vault"), "{args:?}: {err}");
        assert_eq!(
            std::fs::metadata(dir.join("v.hearth")).expect("file").len(),
            0
        );
        assert_eq!(listing(dir), ["v.hearth"], "{args:?}");
    }
}

/// Runs `hearth import ARGS` with `input` on stdin (written from a thread), at most 60 s.
fn import_piped(dir: &Path, args: &[&str], input: Vec<u8>) -> Output {
    let mut child = hearth(dir)
        .arg("import")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = wait_at_most(child, Duration::from_secs(60));
    writer.join().expect("writer");
    out
}

fn wait_at_most(mut child: std::process::Child, limit: Duration) -> Output {
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("hearth import hung for {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

// Finding 8: `cat x.p1 | hearth import /dev/stdin` stored 59 of 60 readings and said "0 frames
// rejected"; for JSON Lines the first line failed; `import -` was unsupported.
#[test]
fn importing_from_standard_input_or_a_pipe_loses_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let dir = dir.path();
    vault(dir, 0);
    for name in ["-", "/dev/stdin"] {
        let out = import_piped(dir, &[name], telegrams(60));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: {err}");
        assert!(err.contains("imported 60 readings"), "{name}: {err}");
    }
    let times = exported_times(dir, &[]);
    assert_eq!(times.len(), 60);
    assert_eq!(times[0], "2026-01-15T13:00:00+01:00");
    // JSON Lines on stdin: the first line is a reading like the others.
    let lines = "{\"time\":\"2026-01-15T14:00:00+01:00\",\"import_kwh\":1.000}\n\
                 {\"time\":\"2026-01-15T14:00:10+01:00\",\"import_kwh\":1.002}\n";
    let out = import_piped(dir, &["-"], lines.as_bytes().to_vec());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("imported 2 readings"), "{err}");
    assert!(!err.contains("-:1:"), "the first line was refused: {err}");
    assert_eq!(exported_times(dir, &[]).len(), 62);
}

// Finding 8: a FIFO is opened once, so a writer that exits does not leave the import waiting
// for a second one.
#[test]
fn a_fifo_whose_writer_exits_is_read_once_to_its_end() {
    let dir = tempfile::tempdir().expect("dir");
    let dir = dir.path();
    vault(dir, 0);
    let fifo = dir.join("x.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, telegrams(60)).expect("write fifo"))
    };
    let child = hearth(dir)
        .args(["import", "x.fifo"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let out = wait_at_most(child, Duration::from_secs(60));
    writer.join().expect("writer");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("imported 60 readings"), "{err}");
    assert_eq!(exported_times(dir, &[]).len(), 60);
}

fn supplier_fixture() -> String {
    std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/supplier/octopus_2024-03-31.csv"),
    )
    .expect("fixture")
}

// Finding 9: files of which nothing was imported exited 0.
#[test]
fn a_file_of_which_nothing_is_usable_fails_the_import_and_is_named_with_why() {
    let dir = tempfile::tempdir().expect("dir");
    let dir = dir.path();
    vault(dir, 0);
    let write = |name: &str, bytes: &[u8]| std::fs::write(dir.join(name), bytes).expect("file");
    write("rows.jsonl", b"{\"time\":\"yesterday\"}\nnot json\n");
    write("untimed.jsonl", b"{\"import_kwh\":1.000}\n");
    // A gzipped capture: gzip's magic, then what follows.
    write(
        "day.p1.gz",
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x4b\x4c\x04\x00",
    );
    // `Date,From,To,kWh` is read since (tests/supplier_layouts.rs); rows whose end is not
    // after their start are not.
    write(
        "dates.csv",
        b"Date,From,To,kWh\n2026-01-15,01:00,00:30,0.25\n2026-01-15,02:00,02:00,0.5\n",
    );
    // A DSMR telegram whose checksum does not match: a frame, rejected.
    let mut bad = telegrams(1);
    let at = bad.iter().position(|&b| b == b'(').expect("a value") + 1;
    bad[at] ^= 0x01;
    write("bad.p1", &bad);
    let cases: [(&str, &str); 5] = [
        ("rows.jsonl", "none of its 2 line(s) is a reading"),
        (
            "untimed.jsonl",
            "none of its 1 reading(s) could be stored: they have no time",
        ),
        ("day.p1.gz", "it is compressed (gzip); unpack it first"),
        ("dates.csv", "none of its 2 row(s) could be read (line 2: "),
        (
            "bad.p1",
            "no meter reading found in it (1 frame(s) rejected)",
        ),
    ];
    for (name, why) in cases {
        let err = refused(run(dir, &["import", name]), name);
        let told = format!("hearth: {name}: nothing imported: {why}");
        assert!(err.contains(&told), "{name}: {err}");
    }
    // A good file beside a bad one: the good one is stored, the command still fails.
    std::fs::write(dir.join("x.p1"), telegrams(60)).expect("capture");
    let err = refused(run(dir, &["import", "bad.p1", "x.p1"]), "a mixed import");
    assert!(err.contains("imported 60 readings"), "{err}");
    assert!(err.contains("hearth: bad.p1: nothing imported"), "{err}");
    // Bytes without a single frame (a serial line read at the wrong speed) are told, and fail
    // like every file of which nothing was used (as `system_input.rs` holds for noise).
    std::fs::write(dir.join("noise.p1"), b"hello, this is not a meter\n").expect("noise");
    let err = refused(run(dir, &["import", "noise.p1"]), "noise");
    assert!(
        err.contains(
            "hearth: noise.p1: nothing imported: no meter reading found in it (0 frame(s) rejected)"
        ),
        "{err}"
    );
    assert_eq!(exported_times(dir, &[]).len(), 60);
}

// Finding 9: a JSON Lines file with a byte-order mark, a supplier CSV saved as `.txt` and one
// with a title line before its header were not imported.
#[test]
fn content_decides_a_byte_order_mark_is_dropped_and_a_title_line_is_passed_over() {
    let dir = tempfile::tempdir().expect("dir");
    let dir = dir.path();
    vault(dir, 0);
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(
        b"{\"time\":\"2026-01-15T14:00:00+01:00\",\"import_kwh\":1.000}\n\
          {\"time\":\"2026-01-15T14:00:10+01:00\",\"import_kwh\":1.002}\n",
    );
    std::fs::write(dir.join("bom.jsonl"), bom).expect("file");
    let (_, err) = ok(dir, &["import", "bom.jsonl"]);
    assert!(err.contains("imported 2 readings"), "{err}");
    assert!(err.contains("0 frames rejected"), "{err}");

    let csv = supplier_fixture();
    std::fs::write(dir.join("octopus.txt"), &csv).expect("file");
    let (_, err) = ok(dir, &["import", "octopus.txt"]);
    assert!(
        err.contains("octopus.txt: 46 intervals read: 46 new, 0 already imported"),
        "{err}"
    );
    // The same download with a title line (and a BOM) before its header: nothing new.
    let titled = format!("\u{feff}Electricity consumption, meter ending 6726\n\n{csv}");
    std::fs::write(dir.join("titled.csv"), titled).expect("file");
    let (_, err) = ok(dir, &["import", "titled.csv"]);
    assert!(
        err.contains("titled.csv: 46 intervals read: 0 new, 46 already imported"),
        "{err}"
    );
}

// Finding 9: `backup --from` later than `--to` wrote an empty backup.
#[test]
fn a_backup_range_that_ends_before_it_starts_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let dir = dir.path();
    vault(dir, 60);
    let err = refused(
        run(
            dir,
            &[
                "backup",
                "--out",
                "b.hbak",
                "--from",
                "2026-01-16",
                "--to",
                "2026-01-15",
            ],
        ),
        "a backwards range",
    );
    assert!(
        err.contains("the range ends (2026-01-15) before it starts (2026-01-16)"),
        "{err}"
    );
    assert!(!dir.join("b.hbak").exists());
}
