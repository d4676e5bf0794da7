//! `hearth export --out` through the real binary: it never writes over the vault (issue 17:
//! `hearth --vault v.hearth export --out v.hearth` used to truncate it and lose everything),
//! and replaces an existing file only with `--force`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// 2026-01-15T12:00:00Z.
const T0: i64 = 1_768_478_400;

/// Runs `hearth --vault v.hearth ARGS` in `dir` (so relative paths are relative to it).
fn hearth(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hearth"))
        .env("HEARTH_INSECURE_TEST_KDF", "1")
        .current_dir(dir)
        .arg("--vault")
        .arg("v.hearth")
        .args(args)
        .env("HEARTH_PASSPHRASE", "pw-words")
        .env_remove("HEARTH_VAULT")
        .env("CI", "true")
        .stdin(Stdio::null())
        .output()
        .expect("run hearth")
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = hearth(dir, args);
    assert!(
        out.status.success(),
        "hearth {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Runs a command that must fail, and returns its stderr.
fn refused(dir: &Path, args: &[&str]) -> String {
    let out = hearth(dir, args);
    assert!(!out.status.success(), "hearth {args:?} succeeded");
    assert!(out.stdout.is_empty());
    String::from_utf8(out.stderr).expect("utf-8")
}

/// A vault with 600 readings of the demo meter, one a second from `T0`.
fn vault(dir: &Path) -> PathBuf {
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
    let source = format!("demo:7?pace=fast&start={T0}&count=600");
    ok(dir, &["collect", "--source", &source]);
    dir.join("v.hearth")
}

#[test]
fn export_out_the_vault_itself_is_refused_and_the_vault_is_intact() {
    let dir = tempfile::tempdir().expect("dir");
    let dir = dir.path();
    let file = vault(dir);
    let raw = ok(dir, &["export", "--resolution", "raw"]);
    assert_eq!(raw.lines().count(), 601, "header and 600 readings");
    let bytes = std::fs::read(&file).expect("vault");

    // Exactly the command that used to destroy the vault, with and without --force.
    for args in [
        &["export", "--out", "v.hearth"][..],
        &["export", "--out", "v.hearth", "--force"],
        &["export", "--out", "./sub/../v.hearth", "--force"],
    ] {
        std::fs::create_dir_all(dir.join("sub")).expect("sub");
        let err = refused(dir, args);
        let name = args[2];
        assert_eq!(
            err,
            format!(
                "hearth: {name} is your Hearth vault (or one of its working files). Writing the \
                 export there would destroy your readings; choose another file.\n"
            ),
            "{args:?}"
        );
        assert!(
            std::fs::read(&file).expect("vault") == bytes,
            "{args:?}: vault changed"
        );
    }
    // Its write-ahead log is the vault's too (nothing is created in its place).
    let err = refused(dir, &["export", "--out", "v.hearth-wal", "--force"]);
    assert!(err.contains("v.hearth-wal is your Hearth vault"), "{err}");
    // The vault opens and holds every reading.
    assert!(ok(dir, &["verify"]).contains("(600 readings), 0 damaged"));
    assert_eq!(ok(dir, &["export", "--resolution", "raw"]), raw);
}

#[test]
fn an_existing_file_is_replaced_only_with_force() {
    let dir = tempfile::tempdir().expect("dir");
    let dir = dir.path();
    vault(dir);
    let raw = ok(dir, &["export", "--resolution", "raw"]);
    let notes = dir.join("notes.csv");
    std::fs::write(&notes, "my own notes\n").expect("notes");
    let err = refused(
        dir,
        &["export", "--resolution", "raw", "--out", "notes.csv"],
    );
    assert_eq!(
        err,
        "hearth: notes.csv already exists. Choose another file, or replace it on purpose \
         (hearth export --force).\n"
    );
    assert_eq!(
        std::fs::read_to_string(&notes).expect("kept"),
        "my own notes\n"
    );
    let args = [
        "export",
        "--resolution",
        "raw",
        "--out",
        "notes.csv",
        "--force",
    ];
    assert_eq!(ok(dir, &args), "");
    assert_eq!(std::fs::read_to_string(&notes).expect("csv"), raw);
    // A new file needs no --force.
    ok(dir, &["export", "--resolution", "raw", "--out", "new.csv"]);
    assert_eq!(
        std::fs::read_to_string(dir.join("new.csv")).expect("csv"),
        raw
    );
}
