//! Issue 18, finding 4, through the `hearth` binary under umask 022: the folder Hearth makes
//! for a vault is 0700; the vault, its side files and backups are 0600; a vault an older build
//! left 0644 is tightened when it is next written.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// `hearth ARGS` under `umask 022`, with a cheap key derivation for `init`.
fn hearth(args: &[&str]) -> std::process::Output {
    let mut script = String::from("umask 022 && exec \"$0\"");
    for (i, _) in args.iter().enumerate() {
        script.push_str(&format!(" \"${}\"", i + 1));
    }
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_hearth"))
        .args(args)
        .env("HEARTH_PASSPHRASE", "private files test")
        .env_remove("HEARTH_VAULT")
        .env("CI", "true")
        .stdin(Stdio::null())
        .output()
        .expect("hearth runs");
    assert!(
        out.status.success(),
        "hearth {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).expect("exists").permissions().mode() & 0o777
}

/// Every file in `dir` whose name starts with `prefix`, with its mode.
fn modes(dir: &Path, prefix: &str) -> Vec<(String, u32)> {
    let mut out: Vec<(String, u32)> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry"))
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .filter(|(n, _)| n.starts_with(prefix))
        .map(|(n, p)| (n, mode(&p)))
        .collect();
    out.sort();
    out
}

#[test]
fn the_vault_its_side_files_folder_and_backups_are_private_under_umask_022() {
    let tmp = tempfile::tempdir().expect("dir");
    let dir = tmp.path().join("data/hearth");
    let vault = dir.join("v.hearth");
    let v = vault.to_str().expect("utf-8");
    hearth(&["--vault", v, "init", "--time-zone", "UTC"]);
    hearth(&[
        "--vault",
        v,
        "collect",
        "--source",
        "demo:7?pace=fast&start=1768478400&count=120",
    ]);
    assert_eq!(mode(&tmp.path().join("data")), 0o700);
    assert_eq!(mode(&dir), 0o700);
    let files = modes(&dir, "v.hearth");
    assert!(
        files.iter().any(|(n, _)| n == "v.hearth.writer-lock"),
        "{files:?}"
    );
    assert!(files.iter().all(|(_, m)| *m == 0o600), "{files:?}");
    let backup = tmp.path().join("v.backup");
    hearth(&[
        "--vault",
        v,
        "backup",
        "--out",
        backup.to_str().expect("utf-8"),
    ]);
    assert_eq!(mode(&backup), 0o600);
}

#[test]
fn a_vault_an_older_build_left_readable_to_all_is_tightened_when_written() {
    let tmp = tempfile::tempdir().expect("dir");
    let vault = tmp.path().join("v.hearth");
    let v = vault.to_str().expect("utf-8");
    hearth(&["--vault", v, "init", "--time-zone", "UTC"]);
    for (name, _) in modes(tmp.path(), "v.hearth") {
        let p = tmp.path().join(name);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    hearth(&[
        "--vault",
        v,
        "collect",
        "--source",
        "demo:7?pace=fast&start=1768478400&count=10",
    ]);
    let files = modes(tmp.path(), "v.hearth");
    assert!(files.iter().all(|(_, m)| *m == 0o600), "{files:?}");
}
