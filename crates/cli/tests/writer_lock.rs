//! The writer-lock side file beside a vault (`v.hearth.writer-lock`) through the real
//! `hearth` binary (issue 17, finding 12): damaged, or a folder, it is named with what to do
//! instead of SQLite's "file is not a database"; a 0-byte one (what a crash can leave) just
//! works; and commands that only read never need it.

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// 2026-01-15T12:00:00Z.
const T0: i64 = 1_768_478_400;

fn hearth(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hearth"))
        .current_dir(dir)
        .arg("--vault")
        .arg("v.hearth")
        .args(args)
        .env("HEARTH_PASSPHRASE", "pw-words")
        .env("HEARTH_INSECURE_TEST_KDF", "1")
        .env_remove("HEARTH_VAULT")
        .env("CI", "true")
        .stdin(Stdio::null())
        .output()
        .expect("run hearth")
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = hearth(dir, args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "hearth {args:?} failed: {err}");
    String::from_utf8(out.stdout).expect("utf-8")
}

/// A vault in Amsterdam with `n` demo readings from `T0 + offset` seconds.
fn collect(dir: &Path, offset: i64, n: usize) -> Output {
    let source = format!("demo:7?pace=fast&start={}&count={n}", T0 + offset);
    hearth(dir, &["collect", "--source", &source])
}

fn vault_with_readings(dir: &Path) {
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
    let out = collect(dir, 0, 30);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn raw_rows(dir: &Path) -> usize {
    ok(dir, &["export", "--resolution", "raw"]).lines().count() - 1
}

/// What a writing command says about the side file `v.hearth.writer-lock`, `problem` being
/// "is damaged" or "is a folder, not a file".
fn expected_message(problem: &str) -> String {
    format!(
        "the lock file beside the vault, v.hearth.writer-lock, {problem}; if no other Hearth is \
         using the vault, delete it and try again (it holds no readings, Hearth makes a new one)"
    )
}

/// Every writing command refuses with the message (exit 1), reading commands work, and
/// nothing stored changes; after deleting the side file, collecting works again.
fn refused_by_writers_then_recovered(dir: &Path, problem: &str) {
    let expected = expected_message(problem);
    std::fs::write(dir.join("more.jsonl"), "").expect("jsonl");
    let writers: [Vec<&str>; 3] = [
        vec!["collect", "--source", "demo:7?pace=fast&count=5"],
        vec!["import", "more.jsonl"],
        vec!["passwd", "--new-passphrase-file", "new-pw"],
    ];
    std::fs::write(dir.join("new-pw"), "another passphrase\n").expect("pw");
    for args in &writers {
        let out = hearth(dir, args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(&expected), "{args:?} said: {err}");
        assert!(!err.contains("not a database"), "{args:?} said: {err}");
    }
    assert_eq!(raw_rows(dir), 30);
    ok(dir, &["verify"]);
}

#[test]
fn a_damaged_writer_lock_is_named_with_what_to_do() {
    let dir = tempfile::tempdir().expect("dir");
    vault_with_readings(dir.path());
    let lock = dir.path().join("v.hearth.writer-lock");
    // The repro: the side file overwritten with something else.
    std::fs::write(&lock, "this is not a lock file\n".repeat(64)).expect("damage");
    refused_by_writers_then_recovered(dir.path(), "is damaged");
    std::fs::remove_file(&lock).expect("delete as told");
    let out = collect(dir.path(), 30, 10);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(raw_rows(dir.path()), 40);
}

#[test]
fn a_lock_file_cut_to_its_first_kilobyte_is_damaged_too() {
    let dir = tempfile::tempdir().expect("dir");
    vault_with_readings(dir.path());
    let lock = dir.path().join("v.hearth.writer-lock");
    // A real lock file whose pages after the header are overwritten.
    let mut bytes = std::fs::read(&lock).expect("lock file made by collect");
    assert!(bytes.len() > 200, "{} bytes", bytes.len());
    bytes[100..].fill(0xff);
    std::fs::write(&lock, bytes).expect("damage");
    refused_by_writers_then_recovered(dir.path(), "is damaged");
}

#[test]
fn a_folder_named_like_the_writer_lock_is_named() {
    let dir = tempfile::tempdir().expect("dir");
    vault_with_readings(dir.path());
    let lock = dir.path().join("v.hearth.writer-lock");
    std::fs::remove_file(&lock).expect("old lock");
    std::fs::create_dir(&lock).expect("folder");
    refused_by_writers_then_recovered(dir.path(), "is a folder, not a file");
    std::fs::remove_dir(&lock).expect("delete as told");
    let out = collect(dir.path(), 30, 10);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(raw_rows(dir.path()), 40);
}

#[test]
fn a_zero_byte_writer_lock_left_by_a_crash_just_works() {
    let dir = tempfile::tempdir().expect("dir");
    vault_with_readings(dir.path());
    let lock = dir.path().join("v.hearth.writer-lock");
    std::fs::write(&lock, b"").expect("truncate");
    let out = collect(dir.path(), 30, 10);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(raw_rows(dir.path()), 40);
    ok(dir.path(), &["verify"]);
}
