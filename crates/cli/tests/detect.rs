//! `hearth detect` end to end: the binary probes pseudo-terminals that meters write to, and
//! prints which protocol each speaks at which settings, the source to save and a preview (the
//! meter id's last four characters, watts now), as JSON and as a table.

use hearth_meter_io::detect::Ports as _;
use hearth_meter_io::simulator::PtyMeter;
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

const V5: &[u8] = include_bytes!("../../meter/tests/fixtures/dsmr/v5.p1");

#[test]
fn json_names_the_protocol_settings_source_and_preview_of_a_meter() {
    let meter = PtyMeter::spawn_with(|| Some(V5.to_vec()), Duration::from_millis(200)).unwrap();
    let path = meter.path().display().to_string();
    let (ok, stdout, stderr) = hearth(&["detect", "--port", &path, "--seconds", "3", "--json"]);
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
    assert_eq!(row["problem"], serde_json::Value::Null);
    // 0-0:96.1.1(4B38…3037) is hex for "K8EG004046395507"; 1-0:1.7.0(00.244*kW), 2.7.0 zero.
    assert_eq!(row["meter_id_end"], "5507");
    assert_eq!(row["watts"], 244);
    assert!(
        stderr.contains(&format!(
            "hearth: {path}: listening at 115200 8N1 (up to 3 s)"
        )),
        "{stderr}"
    );
    // The full meter id is never printed.
    assert!(!stdout.contains("K8EG004046395507"), "{stdout}");
}

#[test]
fn the_table_says_what_to_use_and_shows_the_preview() {
    let meter = PtyMeter::spawn_with(|| Some(V5.to_vec()), Duration::from_millis(200)).unwrap();
    let path = meter.path().display().to_string();
    let (ok, stdout, stderr) = hearth(&["detect", "--port", &path, "--seconds", "3"]);
    assert!(ok, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(lines[1].starts_with(&path) && lines[1].ends_with("115200 8N1  dsmr"));
    assert_eq!(
        lines[2],
        format!("use: hearth collect --source serial:{path}:115200:8N1")
    );
    assert_eq!(lines[3], "     meter …5507, 244 W now");
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
    assert!(
        lines[1].contains(&format!(
            "Nothing came from {silent_path} in 0.3 s. Check that"
        )),
        "{stdout}"
    );
    assert!(lines[2].starts_with("/dev/hearth-missing"), "{stdout}");
    assert!(
        lines[2].ends_with("/dev/hearth-missing is not there: is the meter cable plugged in?"),
        "{stdout}"
    );
}

#[test]
fn a_port_another_program_holds_is_named_busy() {
    let meter = PtyMeter::spawn_with(|| None, Duration::from_millis(100)).unwrap();
    let path = meter.path().display().to_string();
    // Held the way Hearth's collector holds a port: exclusively.
    let _held = match hearth_meter_io::detect::SerialPorts
        .open(&path, hearth_meter_io::SerialSettings::DSMR4)
    {
        Ok(line) => line,
        Err(e) => panic!("{e:?}"),
    };
    let (ok, stdout, stderr) = hearth(&["detect", "--port", &path, "--seconds", "1", "--json"]);
    assert!(ok, "{stderr}");
    let rows: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let problem = rows[0]["problem"].as_str().expect("a problem");
    // This test process holds it: named by its process name.
    let me = std::fs::read_to_string("/proc/self/comm").unwrap_or_default();
    assert!(
        problem.starts_with(&format!(
            "{path} is in use by another program ({}). Close it and try again.",
            me.trim()
        )),
        "{problem}"
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
