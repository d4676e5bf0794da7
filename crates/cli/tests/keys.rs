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
    // (Opened without it, such a vault still opens: see the test below.)
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

/// The same, with the escape (cheap test vaults).
fn hearth_cheap(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut all = vec![("HEARTH_INSECURE_TEST_KDF", "1")];
    all.extend_from_slice(env);
    hearth(dir, args, &all)
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "{}", stderr(&out));
    stderr(&out)
}

#[test]
fn rekey_and_passwd_rekey_replace_the_key_and_say_so() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    let init = ["init", "--kdf-memory-kib", "8", "--kdf-iterations", "1"];
    ok(hearth_cheap(d, &init, &[PW]));
    let demo = "demo:7?pace=fast&start=1768478400&count=600";
    ok(hearth_cheap(d, &["collect", "--source", demo], &[PW]));
    // passwd alone says what it does not protect, and how to.
    let err = ok(hearth_cheap(
        d,
        &["passwd"],
        &[PW, ("HEARTH_NEW_PASSPHRASE", "second words")],
    ));
    assert_eq!(
        err,
        "Passphrase changed. The old one no longer opens this vault as it is now (older backups \
         keep theirs).\nCopies of the old key still open this vault's data: an older backup's \
         header put into a copy of the file, or a keyring secret saved before. `hearth rekey` \
         replaces the key and re-seals everything, so they open nothing any more.\n"
    );
    let second = ("HEARTH_PASSPHRASE", "second words");
    ok(hearth_cheap(
        d,
        &["backup", "--out", "old.hearth"],
        &[second],
    ));
    // rekey: every record re-sealed; the count is what verify checks plus the settings and
    // the writer state.
    let err = ok(hearth_cheap(d, &["rekey"], &[second]));
    assert!(
        err.starts_with("New data key: ") && err.contains(" records re-sealed. Old headers"),
        "{err}"
    );
    let out = hearth_cheap(d, &["verify"], &[second]);
    assert!(out.status.success(), "{}", stderr(&out));
    let verified = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(verified.contains("(600 readings)"), "{verified}");
    // passwd --rekey: the new passphrase only; the old backup still restores with its own.
    let err = ok(hearth_cheap(
        d,
        &["passwd", "--rekey"],
        &[second, ("HEARTH_NEW_PASSPHRASE", "third words")],
    ));
    assert!(
        err.starts_with("Passphrase changed.\nNew data key: "),
        "{err}"
    );
    let out = hearth_cheap(d, &["verify"], &[second]);
    assert_eq!(out.status.code(), Some(1));
    let third = ("HEARTH_PASSPHRASE", "third words");
    let out = hearth_cheap(d, &["verify"], &[third]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("(600 readings)"));
    ok(hearth_cheap(
        d,
        &["restore", "old.hearth"],
        &[third, ("HEARTH_BACKUP_PASSPHRASE", "second words")],
    ));
}

/// A vault an older build made below today's floor (8 MiB, 1 pass: `init` once took that)
/// still opens with its passphrase, and the first open for writing wraps its key again at the
/// default settings; the readings are untouched.
#[test]
fn a_vault_made_below_the_floor_still_opens_and_the_next_write_strengthens_it() {
    use hearth_vault::{KdfParams, Vault};
    let dir = tempfile::tempdir().expect("dir");
    let vault = dir.path().join("v.hearth");
    let weak = KdfParams {
        memory_kib: 8192,
        iterations: 1,
        parallelism: 1,
    };
    let then = [PW, ("HEARTH_INSECURE_TEST_KDF", "1")];
    for args in [
        &["init", "--kdf-memory-kib", "8192", "--kdf-iterations", "1"][..],
        &["collect", "--source", "demo:1?pace=fast&count=30"],
    ] {
        let out = hearth(dir.path(), args, &then);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    assert_eq!(Vault::inspect(&vault).expect("inspect").kdf, weak);
    // Today, without the escape: reading leaves it as it is.
    let out = hearth(dir.path(), &["verify"], &[PW]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(Vault::inspect(&vault).expect("inspect").kdf, weak);
    // Writing wraps the key again at the default settings.
    let out = hearth(
        dir.path(),
        &["collect", "--source", "demo:1?pace=fast&count=30"],
        &[PW],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        Vault::inspect(&vault).expect("inspect").kdf,
        KdfParams::default()
    );
    let out = hearth(dir.path(), &["verify"], &[PW]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("0 damaged"), "{said}");
}
