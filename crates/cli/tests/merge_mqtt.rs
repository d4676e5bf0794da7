//! A collector box reading an MQTT broker that needs a password (issue 21 item 5): the
//! write-only collector cannot read the vault's sealed `mqtt/password`, so it takes
//! `--mqtt-password-file`; through the real `hearth` binary and a real mosquitto broker on
//! loopback that refuses anonymous clients (Debian's `mosquitto` and `mosquitto-clients`, as
//! `plausible_mqtt.rs` uses them), the box's reading reaches the laptop by `hearth merge`.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const USER: &str = "hearth-box";
const PASSWORD: &str = "broker words 42";

fn hearth(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hearth"));
    c.env("HEARTH_INSECURE_TEST_KDF", "1")
        .env_remove("HEARTH_VAULT")
        .env_remove("HEARTH_PASSPHRASE")
        .env("XDG_DATA_HOME", data)
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

/// A mosquitto broker on 127.0.0.1 that takes only `USER` with `PASSWORD`, killed when
/// dropped.
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
        let passwords = dir.path().join("passwords");
        let made = Command::new(find("mosquitto_passwd", "mosquitto"))
            .arg("-b")
            .arg("-c")
            .arg(&passwords)
            .args([USER, PASSWORD])
            .stdin(Stdio::null())
            .output()
            .expect("mosquitto_passwd runs");
        assert!(made.status.success(), "{made:?}");
        let conf = dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {}\n\
                 persistence false\n",
                passwords.display()
            ),
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
            .args(["-u", USER, "-P", PASSWORD])
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
fn a_box_reads_a_broker_that_needs_a_password_from_a_file_and_the_laptop_merges_it() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let laptop = dir.path().join("laptop");
    let vault = dir.path().join("v.hearth");
    let folder = dir.path().join("Sync");
    std::fs::create_dir(&folder).unwrap();
    let laptop_run = |args: &[&str]| {
        let out = hearth(&laptop)
            .arg("--vault")
            .arg(&vault)
            .env("HEARTH_PASSPHRASE", "laptop words")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    laptop_run(&["init", "--time-zone", "Europe/London"]);
    laptop_run(&["merge", folder.to_str().unwrap()]);

    let box_data = dir.path().join("box");
    let source = format!("mqtt://{USER}@127.0.0.1:{}/glow/+/SENSOR/+", broker.port);
    // Without the password the broker refuses the box, and says so.
    let refused_log = dir.path().join("refused.log");
    let mut child = hearth(&box_data)
        .args(["collect", "--write-only", "--folder"])
        .arg(&folder)
        .args(["--source", &source])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&refused_log).unwrap())
        .spawn()
        .unwrap();
    wait_for(
        &refused_log,
        &mut child,
        "refused the user name or password; trying again",
    );
    child.kill().unwrap();
    child.wait().unwrap();

    let password_file = dir.path().join("mqtt-password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    let log = dir.path().join("collect.log");
    let mut child = hearth(&box_data)
        .args(["collect", "--write-only", "--folder"])
        .arg(&folder)
        .args(["--source", &source])
        .arg("--mqtt-password-file")
        .arg(&password_file)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    wait_for(&log, &mut child, "connected to MQTT broker");
    let text = include_str!("fixtures/glow/eventhub_to_timescale.jsonl");
    let (topic, captured) = text.lines().next().unwrap().split_once(' ').unwrap();
    broker.publish(topic, captured);
    // Payloads of one topic arrive in order: once this one is rejected, the first is kept.
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
    assert!(
        log.contains("stopped: 1 readings sealed for the vault"),
        "{log}"
    );
    assert!(
        !log.contains(PASSWORD),
        "the password is never shown: {log}"
    );

    let merged = laptop_run(&["merge", folder.to_str().unwrap()]);
    assert!(
        merged.contains("merged 1 new file(s): 1 readings, 1 new, 0 already here"),
        "{merged}"
    );
    let csv = laptop_run(&["export", "--resolution", "raw"]);
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
        [(
            "2022-12-26T14:02:28+00:00".to_owned(),
            "5071.527".to_owned(),
            "902".to_owned()
        )]
    );
}
