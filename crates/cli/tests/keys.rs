//! Issue 18 through the real `hearth` binary: key-derivation settings below the floor and
//! short passphrases are refused by `init` and `passwd`, without the test-only escape
//! (`HEARTH_INSECURE_TEST_KDF`) every other CLI test sets.

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// `hearth --vault v.hearth ARGS` in `dir`, without the insecure-KDF escape.
fn hearth(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hearth"));
    c.current_dir(dir)
        .args(["--vault", "v.hearth"])
        .args(args)
        .env_remove("HEARTH_VAULT")
        .env_remove("HEARTH_PASSPHRASE")
        .env_remove("HEARTH_NEW_PASSPHRASE")
        .env_remove("HEARTH_INSECURE_TEST_KDF")
        .env("CI", "true")
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run hearth")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const PW: (&str, &str) = ("HEARTH_PASSPHRASE", "correct horse");

#[test]
fn init_refuses_settings_below_the_floor_and_short_passphrases() {
    let dir = tempfile::tempdir().expect("dir");
    // Just below the floor, each way (not `INSECURE_FOR_TESTS` itself, which a test build
    // of the vault crate lets through when another package's tests turn `test-support` on).
    for (mem, passes) in [("19455", "2"), ("19456", "1"), ("8192", "1")] {
        let out = hearth(
            dir.path(),
            &["init", "--kdf-memory-kib", mem, "--kdf-iterations", passes],
            &[PW],
        );
        assert_eq!(out.status.code(), Some(1), "{mem} KiB, {passes} passes");
        assert_eq!(
            stderr(&out),
            format!(
                "hearth: Argon2 memory must be 19456 to 2097152 KiB and passes 2 to 16 (asked \
                 {mem} KiB, {passes} passes)\n"
            )
        );
        assert!(!dir.path().join("v.hearth").exists());
    }
    // The test-only escape lets the same settings through.
    let out = hearth(
        dir.path(),
        &["init", "--kdf-memory-kib", "8192", "--kdf-iterations", "1"],
        &[PW, ("HEARTH_INSECURE_TEST_KDF", "1")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // ... and opening that vault without it is refused before deriving anything.
    let out = hearth(dir.path(), &["verify"], &[PW]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(
            "the key-derivation settings (8192 KiB of memory, 1 passes, 1 lanes) are too weak"
        ),
        "{}",
        stderr(&out)
    );
    std::fs::remove_file(dir.path().join("v.hearth")).expect("rm");
    // A 7-character passphrase is refused as in the app; the floor itself works.
    let out = hearth(
        dir.path(),
        &["init", "--kdf-memory-kib", "19456", "--kdf-iterations", "2"],
        &[("HEARTH_PASSPHRASE", "7 chars")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "hearth: the passphrase is too short (7 characters); choose at least 8, a few words \
         only you know\n"
    );
    assert!(!dir.path().join("v.hearth").exists());
    let out = hearth(
        dir.path(),
        &["init", "--kdf-memory-kib", "19456", "--kdf-iterations", "2"],
        &[PW],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // passwd: the same passphrase floor.
    let out = hearth(
        dir.path(),
        &["passwd"],
        &[PW, ("HEARTH_NEW_PASSPHRASE", "short")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "hearth: the passphrase is too short (5 characters); choose at least 8, a few words \
         only you know\n"
    );
    let out = hearth(dir.path(), &["verify"], &[PW]);
    assert!(out.status.success(), "{}", stderr(&out));
}
