//! `hearth collect` from the UK sources through the real `hearth` binary: a Glow device's MQTT
//! payloads via a real mosquitto broker on loopback (Debian's `mosquitto`, started per test on
//! a free port; `mosquitto_pub` from `mosquitto-clients` publishes), including a bad payload
//! and a broker restart mid-run; and an optical pulse sensor on a pseudo-terminal, unplugged
//! and replugged, and the collector restarted. The collector is stopped with SIGTERM (its
//! checkpoint), then `hearth export` shows exact kWh and W.

use hearth_meter_io::simulator::PtyMeter;
use std::collections::VecDeque;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The tests of this file run one at a time: a pseudo-terminal's sides are inherited by any
/// process spawned while they are open (mosquitto, `hearth collect`), and a sensor whose
/// terminal another process still holds cannot be unplugged.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

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

/// Creates a vault in UK time with cheap key derivation (tests only).
fn init_vault(vault: &Path) {
    let init = hearth(vault)
        .args(["init", "--time-zone", "Europe/London"])
        .args(["--kdf-memory-kib", "8", "--kdf-iterations", "1"])
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
}

/// An export as rows of named cells.
fn export(vault: &Path, resolution: &str) -> Vec<Vec<(String, String)>> {
    let out = hearth(vault)
        .args(["export", "--from", "2000-01-01", "--to", "2100-01-01"])
        .args(["--resolution", resolution, "--format", "csv"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    lines
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split(',').map(str::to_owned))
                .collect()
        })
        .collect()
}

fn cell<'a>(row: &'a [(String, String)], name: &str) -> &'a str {
    row.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no column {name}"))
}

/// "12.345" → 12345, exactly (kWh → Wh, m³ → dm³).
fn thousandths(text: &str) -> i64 {
    let (int, frac) = text.split_once('.').unwrap();
    assert_eq!(frac.len(), 3, "{text}");
    int.parse::<i64>().unwrap() * 1000 + frac.parse::<i64>().unwrap()
}

/// The energy used over the whole vault, Wh, from the daily rollups.
fn used_wh(vault: &Path) -> i64 {
    export(vault, "1d")
        .iter()
        .map(|r| cell(r, "import_kwh"))
        .filter(|v| !v.is_empty())
        .map(thousandths)
        .sum()
}

/// A running `hearth collect`, its stderr in a file that the test reads as it grows.
struct Collector {
    child: Option<Child>,
    log: PathBuf,
}

impl Collector {
    fn start(vault: &Path, source: &str) -> Collector {
        let log = vault.with_extension("collect.log");
        let child = hearth(vault)
            .args(["collect", "--source", source])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Collector {
            child: Some(child),
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `text` has appeared `times` times in the log.
    fn wait_for(&mut self, text: &str, times: usize) {
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let log = self.log();
            if log.matches(text).count() >= times {
                return;
            }
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!("the collector ended ({status}) before {text:?}: {log}");
            }
            assert!(
                Instant::now() < until,
                "no {text:?} ×{times} within 30 s: {log}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, as a service manager stops it; returns the whole log once it has exited.
    fn stop(mut self) -> String {
        let mut child = self.child.take().unwrap();
        let pid = child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let until = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < until, "the collector ignored SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        };
        let log = self.log();
        assert!(status.success(), "the collector failed: {log}");
        log
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

// ---------------------------------------------------------------------------------------
// MQTT

fn find(program: &str, package: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"] {
        let p = Path::new(dir).join(program);
        if p.exists() {
            return p;
        }
    }
    panic!(
        "`{program}` is not installed: the MQTT tests need a real broker on loopback. \
         Install the Debian package `{package}` (apt-get install -y mosquitto mosquitto-clients)"
    );
}

/// A mosquitto broker on 127.0.0.1 and a free port, killed when dropped.
struct Broker {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
}

impl Broker {
    fn start() -> Broker {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("mosquitto.conf"),
            format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"),
        )
        .unwrap();
        let mut broker = Broker {
            child: None,
            port,
            dir,
        };
        broker.spawn();
        broker
    }

    fn spawn(&mut self) {
        let child = Command::new(find("mosquitto", "mosquitto"))
            .arg("-c")
            .arg(self.dir.path().join("mosquitto.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto starts");
        self.child = Some(child);
        let until = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < until, "mosquitto did not start listening");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
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
        self.stop();
    }
}

/// The real Glow capture: `(topic, payload)` of the electricity and the gas message.
fn glow_capture() -> Vec<(String, String)> {
    let text = include_str!("fixtures/glow/eventhub_to_timescale.jsonl");
    text.lines()
        .map(|l| {
            let (t, p) = l.split_once(' ').unwrap();
            (t.to_owned(), p.to_owned())
        })
        .collect()
}

/// The captured electricity payload with another time, import register and power.
fn electricity(captured: &str, timestamp: &str, cumulative: &str, kw: &str) -> String {
    let p = captured
        .replace("2022-12-26T14:02:28Z", timestamp)
        .replace(
            "\"cumulative\":5071.527",
            &format!("\"cumulative\":{cumulative}"),
        )
        .replace("\"value\":0.902", &format!("\"value\":{kw}"));
    assert_ne!(p, captured);
    p
}

#[test]
fn glow_over_mqtt_exact_readings_a_bad_payload_and_a_broker_restart() {
    let _one = one_at_a_time();
    let mut broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("v.hearth");
    init_vault(&vault);
    let source = format!("mqtt://127.0.0.1:{}/glow/+/SENSOR/+", broker.port);
    let mut collector = Collector::start(&vault, &source);
    collector.wait_for("connected to MQTT broker", 1);

    let capture = glow_capture();
    let (topic, captured) = (&capture[0].0, &capture[0].1);
    assert_eq!(topic, "glow/BCDDC2C4ABD0/SENSOR/electricitymeter");
    broker.publish(topic, captured);
    broker.publish(&capture[1].0, &capture[1].1);
    broker.publish(
        topic,
        &electricity(captured, "2022-12-26T14:02:38Z", "5071.530", "1.234"),
    );
    // A bad payload is counted and reported, and collection goes on. Payloads of one topic
    // arrive in order, so once it is reported the ones before it are stored.
    broker.publish(topic, "this is not JSON");
    collector.wait_for("rejected:", 1);

    // The broker goes away and comes back on the same port: the collector reconnects on its
    // own and stores what is published afterwards.
    broker.stop();
    collector.wait_for("disconnected", 1);
    broker.spawn();
    collector.wait_for("connected to MQTT broker", 2);
    broker.publish(
        topic,
        &electricity(captured, "2022-12-26T14:02:48Z", "5071.534", "0.456"),
    );
    // An absurd register (10^12 kWh) is refused like any bad payload.
    broker.publish(
        topic,
        &electricity(captured, "2022-12-26T14:02:58Z", "1000000000000", "0.5"),
    );
    collector.wait_for("rejected:", 2);
    let log = collector.stop();
    assert!(log.contains("stopped: 4 readings stored"), "{log}");
    assert!(
        log.contains("1 late (merged into place)"),
        "the gas reading: {log}"
    );
    assert!(log.contains("2 rejected (payload 2)"), "{log}");

    let raw = export(&vault, "raw");
    let rows: Vec<(&str, &str, &str, &str)> = raw
        .iter()
        .map(|r| {
            (
                cell(r, "time"),
                cell(r, "import_kwh"),
                cell(r, "import_w"),
                cell(r, "gas_m3"),
            )
        })
        .collect();
    // The documented Glow fields: import "cumulative" kWh, "power" kW → W, the gas meter's
    // "cumulativevol" m³; each at the payload's own timestamp (GMT in December).
    assert_eq!(
        rows,
        [
            ("2022-12-26T14:02:13+00:00", "", "", "1357.208"),
            ("2022-12-26T14:02:28+00:00", "5071.527", "902", ""),
            ("2022-12-26T14:02:38+00:00", "5071.530", "1234", ""),
            ("2022-12-26T14:02:48+00:00", "5071.534", "456", ""),
        ]
    );
    assert!(raw[1..].iter().all(|r| cell(r, "export_kwh") == "0.000"));
    // Used that day: 5071.534 − 5071.527 kWh = 7 Wh.
    assert_eq!(used_wh(&vault), 7);
}

// ---------------------------------------------------------------------------------------
// Pulse sensor

/// Points `link` at `target` (how udev points /dev/serial/by-id at the sensor's tty).
fn point(link: &Path, target: &Path) {
    let tmp = link.with_extension("new");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp).unwrap();
    std::fs::rename(&tmp, link).unwrap();
}

/// A sensor writing one byte per flash, `flashes` of them 40 ms apart, then staying quiet
/// (the cable still in).
fn sensor(flashes: usize) -> PtyMeter {
    let mut left: VecDeque<Vec<u8>> = (0..flashes).map(|_| b"*".to_vec()).collect();
    PtyMeter::spawn_with(move || left.pop_front(), Duration::from_millis(40)).unwrap()
}

/// The import registers of the raw rows, Wh, oldest first.
fn registers(vault: &Path) -> Vec<i64> {
    export(vault, "raw")
        .iter()
        .map(|r| thousandths(cell(r, "import_kwh")))
        .collect()
}

#[test]
fn a_pulse_sensor_unplugged_replugged_and_the_collector_restarted() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("v.hearth");
    init_vault(&vault);
    let link = dir.path().join("ttyPulse");
    let source = format!(
        "pulse:{}?imp_per_kwh=1000&format=byte&debounce_ms=0",
        link.display()
    );

    // Ten flashes, then the sensor is unplugged and another one (five flashes) plugged in
    // behind the same path. The collector starts first (and retries until the sensor is
    // there), so it does not inherit the sensor's side of the terminal.
    let mut collector = Collector::start(&vault, &source);
    let a = sensor(10);
    point(&link, a.path());
    collector.wait_for("connected to pulse sensor", 1);
    std::thread::sleep(Duration::from_millis(1500));
    a.unplug();
    collector.wait_for("disconnected", 1);
    let b = sensor(5);
    point(&link, b.path());
    collector.wait_for("connected to pulse sensor", 2);
    std::thread::sleep(Duration::from_millis(1500));
    let log = collector.stop();
    // 15 pulses at 1000 imp/kWh = 15 Wh, from 0 in a new vault.
    assert!(
        log.contains("pulse sensor: 15 pulses counted, 0 ignored as bounce"),
        "{log}"
    );
    assert!(log.contains("register 0.015 kWh"), "{log}");
    let regs = registers(&vault);
    assert_eq!(regs.first(), Some(&0), "counting starts at 0: {regs:?}");
    assert_eq!(regs.last(), Some(&15), "{regs:?}");
    assert!(
        regs.windows(2).all(|w| w[0] <= w[1]),
        "never down: {regs:?}"
    );
    assert_eq!(used_wh(&vault), 15);
    drop(b);

    // The collector restarted: the register continues from the vault's last one.
    let mut collector = Collector::start(&vault, &source);
    let c = sensor(5);
    point(&link, c.path());
    collector.wait_for("connected to pulse sensor", 1);
    std::thread::sleep(Duration::from_millis(1500));
    let log = collector.stop();
    assert!(log.contains("5 pulses counted"), "{log}");
    assert!(log.contains("register 0.020 kWh"), "{log}");
    let regs = registers(&vault);
    assert_eq!(regs.last(), Some(&20), "{regs:?}");
    assert!(
        regs.windows(2).all(|w| w[0] <= w[1]),
        "never down: {regs:?}"
    );
    assert_eq!(used_wh(&vault), 20);
    drop(c);
}
