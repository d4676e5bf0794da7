//! Plausibility on the MQTT path (issue 17 "Done when" bullet 3, issue 19 item 2), through
//! the real `hearth` binary and a real mosquitto broker on loopback (Debian's `mosquitto` and
//! `mosquitto-clients`, as `collect_sources.rs` uses them): a Glow payload saying 900 kW is
//! stored without its power, the rest of it kept, and `collect` counts the field dropped.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn hearth(vault: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hearth"));
    c.arg("--vault")
        .arg(vault)
        .env("HEARTH_PASSPHRASE", "pw-words")
        .env("HEARTH_INSECURE_TEST_KDF", "1")
        .env_remove("HEARTH_VAULT")
        .env("CI", "true")
        .stdin(Stdio::null());
    c
}

fn find(program: &str, package: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"] {
        let p = Path::new(dir).join(program);
        if p.exists() {
            return p;
        }
    }
    panic!(
        "`{program}` is not installed: this test needs a real broker on loopback. Install the \
         Debian package `{package}` (apt-get install -y mosquitto mosquitto-clients)"
    );
}

/// A mosquitto broker on 127.0.0.1 and a free port, killed when dropped.
struct Broker {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Broker {
    fn start() -> Broker {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"),
        )
        .unwrap();
        let child = Command::new(find("mosquitto", "mosquitto"))
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto starts");
        let until = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < until, "mosquitto did not start listening");
            std::thread::sleep(Duration::from_millis(20));
        }
        Broker {
            child,
            port,
            _dir: dir,
        }
    }

    fn publish(&self, topic: &str, payload: &str) {
        let status = Command::new(find("mosquitto_pub", "mosquitto-clients"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-q", "1"])
            .args(["-t", topic, "-m", payload])
            .stdin(Stdio::null())
            .status()
            .expect("mosquitto_pub runs");
        assert!(status.success(), "mosquitto_pub failed");
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `text` is in the file at `log`.
fn wait_for(log: &Path, child: &mut Child, text: &str) {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let now = std::fs::read_to_string(log).unwrap_or_default();
        if now.contains(text) {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the collector ended ({status}) before {text:?}: {now}");
        }
        assert!(Instant::now() < until, "no {text:?} within 30 s: {now}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_glow_payload_over_mqtt_with_900_kw_is_stored_without_its_power() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("v.hearth");
    let init = hearth(&vault)
        .args(["init", "--time-zone", "Europe/London"])
        .args(["--kdf-memory-kib", "8", "--kdf-iterations", "1"])
        .output()
        .unwrap();
    assert!(init.status.success());

    let log = dir.path().join("collect.log");
    let mut child = hearth(&vault)
        .args(["collect", "--source"])
        .arg(format!("mqtt://127.0.0.1:{}/glow/+/SENSOR/+", broker.port))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    wait_for(&log, &mut child, "connected to MQTT broker");

    let text = include_str!("fixtures/glow/eventhub_to_timescale.jsonl");
    let (topic, captured) = text.lines().next().unwrap().split_once(' ').unwrap();
    // The captured payload as it is (902 W), and ten seconds later saying 900 kW.
    broker.publish(topic, captured);
    let absurd = captured
        .replace("2022-12-26T14:02:28Z", "2022-12-26T14:02:38Z")
        .replace("\"cumulative\":5071.527", "\"cumulative\":5071.530")
        .replace("\"value\":0.902", "\"value\":900");
    broker.publish(topic, &absurd);
    // Payloads of one topic arrive in order: once this one is rejected, both are stored.
    broker.publish(topic, "this is not JSON");
    wait_for(&log, &mut child, "rejected:");
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "{log}");
    assert!(log.contains("stopped: 2 readings stored"), "{log}");
    assert!(
        log.contains("\n1 implausible field(s) dropped from readings\n"),
        "{log}"
    );

    let out = hearth(&vault)
        .args(["export", "--resolution", "raw"])
        .output()
        .unwrap();
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let rows: Vec<(String, String, String)> = lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (
                cells[col("time")].to_owned(),
                cells[col("import_kwh")].to_owned(),
                cells[col("import_w")].to_owned(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                "2022-12-26T14:02:28+00:00".to_owned(),
                "5071.527".to_owned(),
                "902".to_owned()
            ),
            (
                "2022-12-26T14:02:38+00:00".to_owned(),
                "5071.530".to_owned(),
                String::new()
            ),
        ]
    );
}
