//! `hearth decode` and `hearth import` on readers' raw DLMS dumps (hex text, bare APDUs) and
//! on the Austrian M-Bus meters, through the built binary.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../meter/tests/fixtures/han")
        .join(name)
}

/// The T210-D fixture's encryption key.
const T210D_KEY: &str = "53616753543231304454657374204B32";

fn hearth(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .args(args)
        .env_remove("HEARTH_METER_KEY")
        .env_remove("HEARTH_METER_AUTH_KEY")
        .env_remove("HEARTH_VAULT")
        .env("HEARTH_INSECURE_TEST_KDF", "1")
        .env("HEARTH_PASSPHRASE", "pw-words-long")
        .env("CI", "true")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the hearth binary runs");
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.unwrap_or_default().to_vec();
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn decode_reads_hex_dumps_and_bare_apdus_by_auto_detection_and_as_dlms() {
    let hex = fixture("kaifa_no_list_2.apdu.hex");
    for args in [vec![], vec!["--protocol", "dlms"]] {
        let mut a = vec!["decode"];
        a.extend(&args);
        a.push(hex.to_str().unwrap());
        let v = json_lines(&hearth(&a, None));
        assert_eq!(v.len(), 3, "{args:?}");
        assert!(
            v.iter()
                .all(|r| r["import_w"] == 9745 && r["protocol"] == "dlms")
        );
    }
    // Binary bare APDUs on standard input: the last one ends with the input.
    let bin = std::fs::read(fixture("kaifa_no_list_2.apdu.bin")).unwrap();
    let v = json_lines(&hearth(&["decode", "-"], Some(&bin)));
    assert_eq!(v.len(), 3);
    // The T210-D frames in an ESPHome log, with the meter key.
    let log = fixture("sagemcom_t210d_netznoe.esphome.log");
    let v = json_lines(&hearth(
        &["decode", "--key", T210D_KEY, log.to_str().unwrap()],
        None,
    ));
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["import_kwh"].to_string(), "4751.002");
    assert_eq!(v[0]["export_w"], 9);
    assert_eq!(v[0]["time"], "2024-11-15T14:45:45+01:00");
    // Without the key: nothing read, exit 1, the reason told.
    let out = hearth(&["decode", log.to_str().unwrap()], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing-key"));
}

#[test]
fn import_takes_raw_dumps() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("v.hearth");
    let v = vault.to_str().unwrap();
    let init = hearth(
        &[
            "--vault",
            v,
            "init",
            "--time-zone",
            "Europe/Vienna",
            "--kdf-memory-kib",
            "8",
            "--kdf-iterations",
            "1",
        ],
        None,
    );
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    // Three copies of one notification (one reading), then the T210-D log with its key.
    let bin = fixture("kaifa_no_list_2.apdu.bin");
    let log = fixture("sagemcom_t210d_netznoe.esphome.log");
    for args in [
        vec!["import", bin.to_str().unwrap()],
        vec!["import", "--key", T210D_KEY, log.to_str().unwrap()],
    ] {
        let mut a = vec!["--vault", v];
        a.extend(args);
        let out = hearth(&a, None);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = hearth(&["--vault", v, "export", "--resolution", "raw"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.contains("4751.002"), "{csv}");
}
