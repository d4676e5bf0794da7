//! The MQTT source against a real broker on loopback: Debian's `mosquitto`, started by each
//! test on an ephemeral port with a temporary config, and `mosquitto_pub` (package
//! `mosquitto-clients`) publishing a real Glow capture. Checks exact readings, counted
//! rejections of bad payloads, reconnecting after the broker restarts, user name + password,
//! TLS with the broker's own CA (certificates made by `openssl` for the test), and that a
//! public broker address is refused before any connection is tried.

use hearth_meter::{MeterTime, Quantity, RejectReason};
use hearth_meter_io::{Event, Reader, ReaderOptions, Source, Status};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The receive time the tests' clock gives: 2026-01-15T12:00:00Z.
const RECEIVED: i64 = 1_768_478_400;

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

/// A mosquitto broker on 127.0.0.1, killed when dropped.
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
        Broker::start_with(port, tempfile::tempdir().unwrap(), "allow_anonymous true\n")
    }

    fn start_with(port: u16, dir: tempfile::TempDir, auth: &str) -> Broker {
        let conf = dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!("listener {port} 127.0.0.1\n{auth}persistence false\n"),
        )
        .unwrap();
        let mut broker = Broker {
            child: None,
            port,
            dir,
        };
        broker.spawn(&conf);
        broker
    }

    fn spawn(&mut self, conf: &Path) {
        let child = Command::new(find("mosquitto", "mosquitto"))
            .arg("-c")
            .arg(conf)
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

    fn restart(&mut self) {
        self.stop();
        let conf = self.dir.path().join("mosquitto.conf");
        self.spawn(&conf);
    }

    fn publish(&self, topic: &str, payload: &str) {
        self.publish_as(topic, payload, &[]);
    }

    fn publish_as(&self, topic: &str, payload: &str, login: &[&str]) {
        let status = Command::new(find("mosquitto_pub", "mosquitto-clients"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-q", "1"])
            .args(login)
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

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn openssl(dir: &Path, args: &[&str]) {
    let ok = Command::new(find("openssl", "openssl"))
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(ok.success(), "openssl {args:?} failed");
}

/// A CA and a server certificate for `localhost` / 127.0.0.1 signed by it, in `dir`.
fn make_certificates(dir: &Path, ca: &str) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let ca_key = format!("{ca}.key");
    let ca_pem = format!("{ca}.pem");
    let mut args = vec!["req", "-x509"];
    args.extend(ec);
    args.extend([
        "-keyout",
        &ca_key,
        "-out",
        &ca_pem,
        "-days",
        "2",
        "-subj",
        "/CN=Hearth test CA",
    ]);
    openssl(dir, &args);
    if ca != "ca" {
        return;
    }
    let mut args = vec!["req"];
    args.extend(ec);
    args.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    openssl(dir, &args);
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ],
    );
}

fn quick() -> ReaderOptions {
    ReaderOptions {
        backoff_initial: Duration::from_millis(100),
        backoff_max: Duration::from_millis(400),
        connect_timeout: Duration::from_secs(5),
        ..ReaderOptions::default()
    }
}

fn reader(source: &str) -> Reader {
    let source: Source = source.parse().unwrap();
    Reader::for_source(source, quick()).with_clock(|| MeterTime::utc(RECEIVED))
}

async fn next(reader: &mut Reader) -> Event {
    tokio::time::timeout(Duration::from_secs(20), reader.next())
        .await
        .expect("an event within 20 s")
        .expect("the reader has not ended")
}

async fn connected(reader: &mut Reader) {
    loop {
        match next(reader).await {
            Event::Status(Status::Connected { .. }) => return,
            Event::Status(_) => {}
            other => panic!("expected a connection, got {other:?}"),
        }
    }
}

/// The next decoded reading or rejection, skipping status events.
async fn next_frame(reader: &mut Reader) -> Event {
    loop {
        match next(reader).await {
            Event::Status(_) => {}
            frame => return frame,
        }
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

fn check_glow_readings(electricity: &Event, gas: &Event) {
    let Event::Decoded(e) = electricity else {
        panic!("electricity payload not decoded: {electricity:?}")
    };
    let r = &e.reading;
    // "cumulative":5071.527 kWh, export 0.000 kWh, "power":{"value":0.902,"units":"kW"}.
    assert_eq!(r.get(Quantity::ImportWh), Some(5_071_527));
    assert_eq!(r.get(Quantity::ExportWh), Some(0));
    assert_eq!(r.get(Quantity::ImportW), Some(902));
    // "timestamp":"2022-12-26T14:02:28Z" (GMT in December: offset 0), not the receive time.
    assert_eq!(
        r.time,
        Some(MeterTime {
            unix: 1_672_063_348,
            offset_s: 0
        })
    );
    assert_eq!(
        r.meter_id.as_ref().map(|m| m.as_str().to_owned()),
        Some("1013000046890".to_owned())
    );
    let Event::Decoded(g) = gas else {
        panic!("gas payload not decoded: {gas:?}")
    };
    // "cumulativevol":1357.208 m3 = 1 357 208 dm3, at 2022-12-26T14:02:13Z.
    assert_eq!(g.reading.get(Quantity::GasDm3), Some(1_357_208));
    assert_eq!(g.reading.time.map(|t| t.unix), Some(1_672_063_333));
}

#[tokio::test]
async fn glow_payloads_become_exact_readings_and_survive_a_broker_restart() {
    let mut broker = Broker::start();
    let mut reader = reader(&format!("mqtt://127.0.0.1:{}/glow/+/SENSOR/+", broker.port));
    assert_eq!(
        next(&mut reader).await,
        Event::Status(Status::Connected {
            to: format!(
                "MQTT broker 127.0.0.1:{} (glow on glow/+/SENSOR/+)",
                broker.port
            )
        })
    );
    let capture = glow_capture();
    for (topic, payload) in &capture {
        broker.publish(topic, payload);
    }
    // The device's STATE topic is not a reading: ignored, not rejected.
    broker.publish(
        "glow/BCDDC2C4ABD0/STATE",
        r#"{"software":"v1.8.12","hardware":"GLOW-IHD-01-1v4-SMETS2","wifistamac":"BCDDC2C4ABD0"}"#,
    );
    let e = next_frame(&mut reader).await;
    let g = next_frame(&mut reader).await;
    check_glow_readings(&e, &g);
    assert_eq!(reader.stats().accepted, 2);

    // The broker goes away: the reader says so, retries with backoff, and reads again once
    // the broker is back on the same port.
    broker.restart();
    let mut saw_disconnect = false;
    loop {
        match next(&mut reader).await {
            Event::Status(Status::Disconnected { .. }) => saw_disconnect = true,
            Event::Status(Status::Reconnecting { .. }) => {}
            Event::Status(Status::Connected { .. }) => break,
            other => panic!("unexpected while the broker restarts: {other:?}"),
        }
    }
    assert!(saw_disconnect, "the lost broker was reported");
    for (topic, payload) in &capture {
        broker.publish(topic, payload);
    }
    let e = next_frame(&mut reader).await;
    let g = next_frame(&mut reader).await;
    check_glow_readings(&e, &g);
    assert_eq!(reader.stats().accepted, 4);
    assert_eq!(reader.stats().rejected(), 0);
}

#[tokio::test]
async fn bad_payloads_are_counted_rejections() {
    let broker = Broker::start();
    let mut reader = reader(&format!("mqtt://127.0.0.1:{}", broker.port));
    connected(&mut reader).await;
    let topic = "glow/BCDDC2C4ABD0/SENSOR/electricitymeter";
    for payload in [
        "this is not JSON",
        // No register at all.
        r#"{"electricitymeter":{"timestamp":"2022-12-26T14:02:28Z","power":{"value":0.902,"units":"kW"}}}"#,
        // A negative register.
        r#"{"electricitymeter":{"timestamp":"2022-12-26T14:02:28Z","energy":{"import":{"cumulative":-5.0,"units":"kWh"}}}}"#,
        // An absurd register (10^12 kWh).
        r#"{"electricitymeter":{"timestamp":"2022-12-26T14:02:28Z","energy":{"import":{"cumulative":1000000000000,"units":"kWh"}}}}"#,
    ] {
        broker.publish(topic, payload);
        match next_frame(&mut reader).await {
            Event::Rejected(r) => assert_eq!(r.reason, RejectReason::Payload, "{payload}"),
            other => panic!("{payload} was not rejected: {other:?}"),
        }
    }
    // A good one still comes through after them.
    let capture = glow_capture();
    broker.publish(&capture[0].0, &capture[0].1);
    let Event::Decoded(d) = next_frame(&mut reader).await else {
        panic!("good payload not decoded")
    };
    assert_eq!(d.reading.get(Quantity::ImportWh), Some(5_071_527));
    assert_eq!(reader.stats().rejected(), 4);
    assert_eq!(
        reader.stats().rejected_by[RejectReason::ALL
            .iter()
            .position(|r| *r == RejectReason::Payload)
            .unwrap()],
        4
    );
    assert_eq!(reader.stats().accepted, 1);
}

#[tokio::test]
async fn tasmota_readings_without_a_time_get_the_receive_time() {
    let broker = Broker::start();
    let mut reader = reader(&format!(
        "mqtt://127.0.0.1:{}/tele/+/SENSOR?preset=tasmota",
        broker.port
    ));
    connected(&mut reader).await;
    // Tasmota SML (evcc guide shape); values made up. Power_curr is net: -250 W is export.
    broker.publish(
        "tele/meter/SENSOR",
        r#"{"Time":"2026-01-15T13:00:00","SML":{"Total_in":12345.678,"Total_out":42.1,"Power_curr":-250}}"#,
    );
    let Event::Decoded(d) = next_frame(&mut reader).await else {
        panic!("Tasmota payload not decoded")
    };
    let r = &d.reading;
    assert_eq!(r.get(Quantity::ImportWh), Some(12_345_678));
    assert_eq!(r.get(Quantity::ExportWh), Some(42_100));
    assert_eq!(r.get(Quantity::ImportW), Some(0));
    assert_eq!(r.get(Quantity::ExportW), Some(250));
    assert_eq!(r.time, Some(MeterTime::utc(RECEIVED)));
}

#[tokio::test]
async fn a_broker_with_a_password() {
    let mosquitto_passwd = find("mosquitto_passwd", "mosquitto");
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("passwd");
    let ok = Command::new(mosquitto_passwd)
        .args(["-c", "-b"])
        .arg(&pw)
        .args(["hearth", "s3cret-Pa55"])
        .status()
        .unwrap();
    assert!(ok.success());
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let auth = format!("allow_anonymous false\npassword_file {}\n", pw.display());
    let broker = Broker::start_with(port, dir, &auth);
    let source = format!("mqtt://hearth@127.0.0.1:{port}/glow/+/SENSOR/+");

    // A wrong password: a retry with a reason that says so and never shows the password.
    let mut wrong = reader(&source).with_password(Some("wrong-Pa55".into()));
    match next(&mut wrong).await {
        Event::Status(Status::Reconnecting { reason, .. }) => {
            assert!(
                reason.contains("refused the user name or password"),
                "{reason}"
            );
            assert!(!reason.contains("Pa55"));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(!format!("{wrong:?}").contains("Pa55"));

    let mut right = reader(&source).with_password(Some("s3cret-Pa55".into()));
    match next(&mut right).await {
        Event::Status(Status::Connected { to }) => assert!(!to.contains("Pa55"), "{to}"),
        other => panic!("expected a connection, got {other:?}"),
    }
    assert!(!format!("{right:?}").contains("Pa55"));
    let capture = glow_capture();
    broker.publish_as(
        &capture[0].0,
        &capture[0].1,
        &["-u", "hearth", "-P", "s3cret-Pa55"],
    );
    let Event::Decoded(d) = next_frame(&mut right).await else {
        panic!("payload not decoded")
    };
    assert_eq!(d.reading.get(Quantity::ImportWh), Some(5_071_527));
}

#[tokio::test]
async fn a_public_broker_is_refused_without_connecting() {
    // 192.0.2.1 (TEST-NET-1) is not on the local network; nothing answers there, so a
    // connection attempt would take the whole 5 s connect timeout. The refusal is immediate.
    let started = Instant::now();
    let mut reader = reader("mqtt://192.0.2.1/glow/+/SENSOR/+");
    match next(&mut reader).await {
        Event::Status(Status::Failed { reason }) => {
            assert!(reason.contains("not on your local network"), "{reason}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(reader.next().await, None);
    assert_eq!(reader.bytes_read(), 0);
}

#[tokio::test]
async fn tls_with_the_brokers_own_ca() {
    let dir = tempfile::tempdir().unwrap();
    make_certificates(dir.path(), "ca");
    make_certificates(dir.path(), "other-ca");
    let plain = free_port();
    let tls = free_port();
    let d = dir.path().display().to_string();
    let conf = format!(
        "allow_anonymous true\nlistener {tls} 127.0.0.1\ncafile {d}/ca.pem\n\
         certfile {d}/server.pem\nkeyfile {d}/server.key\n"
    );
    // Mosquitto started as root drops to its own user before reading the key: let it.
    use std::os::unix::fs::PermissionsExt as _;
    for (path, mode) in [
        (dir.path().to_owned(), 0o755),
        (dir.path().join("server.key"), 0o644),
    ] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let broker = Broker::start_with(plain, dir, &conf);
    let until = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", tls)).is_err() {
        assert!(Instant::now() < until, "the TLS listener did not start");
        std::thread::sleep(Duration::from_millis(20));
    }

    // A CA that did not sign the broker's certificate: refused, and said so.
    let mut wrong = reader(&format!(
        "mqtt://localhost:{tls}/glow/+/SENSOR/+?ca={d}/other-ca.pem"
    ));
    match next(&mut wrong).await {
        Event::Status(Status::Reconnecting { reason, .. }) => {
            assert!(reason.contains("TLS"), "{reason}")
        }
        other => panic!("expected a TLS refusal, got {other:?}"),
    }

    let mut reader = reader(&format!(
        "mqtt://localhost:{tls}/glow/+/SENSOR/+?ca={d}/ca.pem"
    ));
    assert_eq!(
        next(&mut reader).await,
        Event::Status(Status::Connected {
            to: format!("MQTT broker localhost:{tls} over TLS (glow on glow/+/SENSOR/+)")
        })
    );
    let capture = glow_capture();
    for (topic, payload) in &capture {
        broker.publish(topic, payload);
    }
    let e = next_frame(&mut reader).await;
    let g = next_frame(&mut reader).await;
    check_glow_readings(&e, &g);
}
