//! A reader that goes away is an ordinary ending (issue 17, finding 5): `hearth collect …
//! 2>&1 | head -1` and `hearth export … | head` exit 0, and `collect` and `import` still store
//! and checkpoint every reading when stderr is closed under them. Through the real binary,
//! with pipes whose reading end is closed before the command writes anything.

use hearth_meter::checksum::crc16_arc;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

fn hearth(vault: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hearth"));
    c.env("HEARTH_INSECURE_TEST_KDF", "1");
    c.arg("--vault")
        .arg(vault)
        .env("HEARTH_PASSPHRASE", "pw-words")
        .env_remove("HEARTH_VAULT")
        .env("CI", "true")
        .stdin(Stdio::null());
    c
}

fn init_vault(vault: &Path) {
    let init = hearth(vault)
        .args(["init", "--time-zone", "Europe/Amsterdam"])
        .args(["--kdf-memory-kib", "8", "--kdf-iterations", "1"])
        .output()
        .unwrap();
    assert!(init.status.success(), "{init:?}");
}

/// `n` DSMR 5 telegrams, one a second from 2026-01-15 18:00:00 (winter time), 1 Wh apart.
fn capture(n: u32) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        let mut t = format!(
            "/ISk5\\2MT382-1000\r\n\r\n1-3:0.2.8(50)\r\n0-0:1.0.0(2601151800{:02}W)\r\n\
             1-0:1.8.1(001000.{:03}*kWh)\r\n1-0:1.7.0(00.244*kW)\r\n!",
            i, i
        );
        let crc = crc16_arc(t.as_bytes());
        t.push_str(&format!("{crc:04X}\r\n"));
        out.extend_from_slice(t.as_bytes());
    }
    out
}

/// Runs `cmd` with stdout and stderr going to pipes whose readers close at once (`2>&1 |
/// head -1` once `head` has gone); its exit code.
fn with_readers_gone(cmd: &mut Command) -> Option<i32> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    child.wait().unwrap().code()
}

/// The raw readings in the vault, as export lines (header first).
fn raw_rows(vault: &Path) -> usize {
    let out = hearth(vault)
        .args(["export", "--resolution", "raw", "--from", "2026-01-01"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap().lines().count() - 1
}

#[test]
fn collect_and_import_store_everything_when_their_output_goes_away() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.p1");
    std::fs::write(&file, capture(60)).unwrap();

    let vault = dir.path().join("collect.hearth");
    init_vault(&vault);
    let source = format!("file:{}", file.display());
    let code = with_readers_gone(hearth(&vault).args(["collect", "--source", &source]));
    assert_eq!(code, Some(0));
    assert_eq!(raw_rows(&vault), 60);

    let vault = dir.path().join("import.hearth");
    init_vault(&vault);
    let code = with_readers_gone(hearth(&vault).arg("import").arg(&file));
    assert_eq!(code, Some(0));
    assert_eq!(raw_rows(&vault), 60);
}

#[test]
fn export_and_decode_end_quietly_when_their_reader_goes_away() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.p1");
    std::fs::write(&file, capture(60)).unwrap();
    let vault = dir.path().join("v.hearth");
    init_vault(&vault);
    let imported = hearth(&vault).arg("import").arg(&file).output().unwrap();
    assert!(imported.status.success(), "{imported:?}");

    // `export … 2>&1 | head`: both streams gone.
    let export = || {
        let mut c = hearth(&vault);
        c.args(["export", "--resolution", "raw", "--from", "2026-01-01"]);
        c
    };
    assert_eq!(with_readers_gone(&mut export()), Some(0));
    // `export … | head` with stderr still open: nothing said, exit 0.
    let mut child = export()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0), "{log}");
    assert_eq!(log, "");

    let code = with_readers_gone(hearth(&vault).arg("decode").arg(&file));
    assert_eq!(code, Some(0));
}
