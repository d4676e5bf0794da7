//! `hearth detect` end to end: the binary probes a pseudo-terminal that a simulated meter
//! writes to, and prints which protocol it speaks at which settings, as JSON and as a table.

use hearth_meter_io::simulator::{PtyMeter, Simulator};
use std::process::Command;
use std::time::Duration;

fn hearth(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .args(args)
        .env("CI", "true")
        .output()
        .expect("hearth runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn json_names_the_protocol_and_settings_of_a_simulated_meter() {
    let meter =
        PtyMeter::spawn(Simulator::new(3, 1_768_496_400), Duration::from_millis(100)).unwrap();
    let path = meter.path().display().to_string();
    let (ok, stdout, stderr) = hearth(&["detect", "--port", &path, "--seconds", "2", "--json"]);
    assert!(ok, "{stderr}");
    let rows: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let row = &rows[0];
    assert_eq!(rows.as_array().map(Vec::len), Some(1));
    assert_eq!(row["port"], path.as_str());
    assert_eq!(row["settings"], "115200 8N1");
    assert_eq!(row["source"], format!("serial:{path}:115200:8N1"));
    assert_eq!(row["protocol"], "dsmr");
    assert_eq!(row["encrypted"], false);
    assert_eq!(row["verdict"], "dsmr at 115200 8N1");
    assert_eq!(row["attempts"][0]["settings"], "115200 8N1");
}

#[test]
fn the_table_says_nothing_heard_for_a_silent_port_and_why_for_a_missing_one() {
    let silent = PtyMeter::spawn_with(|| None, Duration::from_millis(100)).unwrap();
    let silent_path = silent.path().display().to_string();
    let (ok, stdout, stderr) = hearth(&[
        "detect",
        "--port",
        &silent_path,
        "--port",
        "/dev/hearth-missing",
        "--seconds",
        "0.3",
    ]);
    assert!(ok, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[0].starts_with("PORT"));
    assert!(lines[0].contains("DESCRIPTION") && lines[0].ends_with("PROTOCOL"));
    assert!(lines[1].starts_with(&silent_path), "{stdout}");
    assert!(lines[1].ends_with("nothing heard"), "{stdout}");
    assert!(lines[2].starts_with("/dev/hearth-missing"), "{stdout}");
    assert!(
        lines[2].ends_with("/dev/hearth-missing is not there"),
        "{stdout}"
    );
}

#[test]
fn bad_seconds_are_refused() {
    let (ok, _, stderr) = hearth(&["detect", "--seconds", "0", "--list"]);
    assert!(!ok);
    assert!(
        stderr.contains("--seconds must be between 0 and 600"),
        "{stderr}"
    );
}
