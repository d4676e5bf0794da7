//! Meter setup end to end on pseudo-terminal meters: real captures sent through real serial
//! ports, all probed at once, found at their own settings, previewed with exact values read
//! independently from each capture, the encrypted one's key checked against the frame the
//! probe kept, and the saved source string read again through the collector's reader.
//!
//! A pseudo-terminal carries bytes at any baud rate, so each meter here reads the baud rate the
//! probe set (both ends of a terminal share it) before every frame, and sends garbage at the
//! same cadence unless it is its own, as a real line does. Only the baud rate: the kernel keeps
//! a pseudo-terminal at 8 bits without parity whatever is asked, so 9600 7E1 and 9600 8N1 look
//! the same here (the fake ports of `hearth-meter-io`'s `tests/probe.rs` tell them apart).

use hearth_app::collect::SourceSetup;
use hearth_app::setup::{self, PreviewError};
use hearth_meter::auto::Detected;
use hearth_meter_io::detect::{Plan, PortInfo, PortKind, SerialPorts};
use hearth_meter_io::{SerialSettings, Source};
use serialport::{SerialPort as _, TTYPort};
use std::io::Write as _;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

macro_rules! fixture {
    ($p:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../meter/tests/fixtures/",
            $p
        ))
    };
}

/// A meter on a pseudo-terminal that speaks only at `speaks_at`.
struct PtyMeter {
    path: String,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl PtyMeter {
    fn spawn(speaks_at: SerialSettings, frame: &'static [u8], every: Duration) -> PtyMeter {
        let (mut master, slave) = TTYPort::pair().expect("a pseudo-terminal");
        let path = slave.name().expect("a path");
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            loop {
                let bytes: Vec<u8> = if slave.baud_rate().ok() == Some(speaks_at.baud) {
                    frame.to_vec()
                } else {
                    frame.iter().map(|b| 0x80 | (b & 0x3F)).collect()
                };
                match master.write_all(&bytes) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                    Err(_) => break,
                }
                if !matches!(
                    stopped.recv_timeout(every),
                    Err(mpsc::RecvTimeoutError::Timeout)
                ) {
                    break;
                }
            }
        });
        PtyMeter {
            path,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn port(&self) -> PortInfo {
        PortInfo {
            path: self.path.clone(),
            kind: PortKind::Other,
        }
    }
}

impl Drop for PtyMeter {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Expect {
    settings: SerialSettings,
    detected: Detected,
    id_end: Option<&'static str>,
    watts: Option<i64>,
}

#[test]
fn meters_at_every_setting_are_found_at_once_and_previewed_exactly() {
    let s = Duration::from_secs;
    let meters = [
        // DSMR 5, one telegram a second. 0-0:96.1.1(4B384547303034303436333935353037) is hex
        // for "K8EG004046395507"; 1-0:1.7.0(00.244*kW) and 1-0:2.7.0(00.000*kW).
        (
            PtyMeter::spawn(SerialSettings::DSMR4, fixture!("dsmr/v5.p1"), s(1)),
            Expect {
                settings: SerialSettings::DSMR4,
                detected: Detected::Dsmr,
                id_end: Some("5507"),
                watts: Some(244),
            },
        ),
        // DSMR 4.2, every 10 s: 0-0:96.1.1(…5713) (not text as hex: kept as sent),
        // 1-0:1.7.0(02.027*kW), 1-0:2.7.0(00.000*kW).
        (
            PtyMeter::spawn(SerialSettings::DSMR4, fixture!("dsmr/v4_2.p1"), s(10)),
            Expect {
                settings: SerialSettings::DSMR4,
                detected: Detected::Dsmr,
                id_end: Some("5713"),
                watts: Some(2_027),
            },
        ),
        // DSMR 2.2 at 9600 7E1 every 10 s, no CRC: 0-0:96.1.1(00000000000000),
        // 1-0:1.7.0(0001.01*kW), 1-0:2.7.0(0000.00*kW).
        (
            PtyMeter::spawn(SerialSettings::DSMR2, fixture!("dsmr/v2_2.p1"), s(10)),
            Expect {
                settings: SerialSettings::DSMR2,
                detected: Detected::Dsmr,
                id_end: Some("0000"),
                watts: Some(1_010),
            },
        ),
        // Norwegian HAN, Kaifa list 2 over HDLC at 2400 8E1 every 2 s; another decoder
        // (amshan, kaifa_no_list_2.reference.json) reads meter id 6970631402614476, active
        // power import 9745 W, export 0.
        (
            PtyMeter::spawn(
                SerialSettings::HAN_MBUS,
                fixture!("han/kaifa_no_list_2.hdlc"),
                s(2),
            ),
            Expect {
                settings: SerialSettings::HAN_MBUS,
                detected: Detected::Dlms,
                id_end: Some("4476"),
                watts: Some(9_745),
            },
        ),
        // Luxembourg Smarty, encrypted: found, needs the key; no preview yet.
        (
            PtyMeter::spawn(
                SerialSettings::DSMR4,
                fixture!("dsmr/sagemcom_t210_d_r.encrypted.bin"),
                s(1),
            ),
            Expect {
                settings: SerialSettings::DSMR4,
                detected: Detected::Smarty,
                id_end: None,
                watts: None,
            },
        ),
    ];
    let ports: Vec<PortInfo> = meters.iter().map(|(m, _)| m.port()).collect();
    let results = setup::find_meters_on(
        &ports,
        &SerialPorts,
        &Plan::default(),
        &AtomicBool::new(false),
        &|_| {},
    );
    for ((meter, expect), result) in meters.iter().zip(&results) {
        assert_eq!(result.port.path, meter.path);
        let found = result
            .outcome
            .as_ref()
            .unwrap_or_else(|e| panic!("{:?}: {e:?}", expect.settings));
        assert_eq!(found.settings, expect.settings, "{}", meter.path);
        assert_eq!(found.detected, expect.detected, "{}", meter.path);
        assert_eq!(
            found.source_text,
            format!(
                "serial:{}:{}:{}",
                meter.path,
                expect.settings.baud,
                expect.settings.frame()
            )
        );
        match &found.preview {
            Some(p) => {
                assert_eq!(p.meter_id_end.as_deref(), expect.id_end, "{}", meter.path);
                assert_eq!(p.watts, expect.watts, "{}", meter.path);
            }
            None => assert_eq!(expect.watts, None),
        }
    }

    // The Smarty meter's key, checked against the frame the probe kept: the public test keys
    // of the fixture (sagemcom_t210_d_r.encrypted.keys) open it: 1-0:1.7.0(000000286*W).
    let smarty = results[4].outcome.as_ref().expect("found");
    assert!(smarty.needs_key());
    let capture = smarty.capture.as_ref().expect("kept");
    let key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let auth = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
    let p = setup::check_key(capture, key, auth).expect("opens");
    assert_eq!(
        (p.protocol, p.watts, p.meter_id_end),
        ("dsmr", Some(286), None)
    );
    assert_eq!(
        setup::check_key(capture, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", auth),
        Err(PreviewError::WrongKey)
    );
    assert_eq!(
        setup::check_key(capture, key, "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBC"),
        Err(PreviewError::WrongAuthKey)
    );
    assert!(matches!(
        setup::check_key(capture, "1234", ""),
        Err(PreviewError::KeyFormat(_))
    ));

    // The saved source strings read again through the collector's reader: the HAN meter
    // answers only at the 2400 8E1 the string carries.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for i in [0, 3] {
        let found = results[i].outcome.as_ref().expect("found");
        let source: Source = found.source_text.parse().expect("parses");
        let p = rt
            .block_on(setup::preview(
                &source,
                SourceSetup::default(),
                Duration::from_secs(5),
            ))
            .expect("a preview");
        assert_eq!(Some(&p), found.preview.as_ref());
    }
    // Without the key, the Smarty source says it needs one; with it, it previews.
    let smarty_source: Source = smarty.source_text.parse().expect("parses");
    assert_eq!(
        rt.block_on(setup::preview(
            &smarty_source,
            SourceSetup::default(),
            Duration::from_secs(5)
        )),
        Err(PreviewError::NeedsKey)
    );
    let keys = hearth_app::meter_keys::parse(key, auth).expect("keys");
    let p = rt
        .block_on(setup::preview(
            &smarty_source,
            SourceSetup {
                keys,
                ..SourceSetup::default()
            },
            Duration::from_secs(5),
        ))
        .expect("a preview");
    assert_eq!(p.watts, Some(286));
}

#[test]
fn a_preview_of_a_silent_source_says_nothing_came() {
    let meter = PtyMeter::spawn(SerialSettings::DSMR4, b"", Duration::from_millis(100));
    let source: Source = format!("serial:{}", meter.path).parse().expect("parses");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let e = rt
        .block_on(setup::preview(
            &source,
            SourceSetup::default(),
            Duration::from_millis(500),
        ))
        .expect_err("nothing");
    assert_eq!(e, PreviewError::Nothing(Duration::from_millis(500)));
    assert!(
        e.to_string()
            .starts_with("Nothing came from the meter in 0.5 s."),
        "{e}"
    );
    // A port that is not there says so at once, not after the timeout.
    let missing: Source = "serial:/dev/hearth-missing".parse().expect("parses");
    assert_eq!(
        rt.block_on(setup::preview(
            &missing,
            SourceSetup::default(),
            Duration::from_secs(600)
        )),
        Err(PreviewError::CannotOpen(
            "/dev/hearth-missing is not there (is the cable plugged in?)".into()
        ))
    );
}

#[test]
fn an_sml_meter_at_9600_8n1_is_found_and_previewed() {
    // German SML at 9600 8N1 every second; smllib (DZG_DVS-7420.2V.G2_mtr0.reference.json)
    // reads 96.1.0 = 0a01445a4700039e2054 and 16.7.0 = 21599 x 10^-2 W = 215.99 W (216).
    // 9600 7E1 is left out of the plan: on a pseudo-terminal it is the same line as 9600 8N1.
    let meter = PtyMeter::spawn(
        SerialSettings::SML,
        fixture!("sml/DZG_DVS-7420.2V.G2_mtr0.bin"),
        Duration::from_secs(1),
    );
    let plan = Plan {
        settings: vec![
            SerialSettings::DSMR4,
            SerialSettings::HAN_MBUS,
            SerialSettings::SML,
            SerialSettings::IEC_START,
        ],
        ..Plan::default()
    };
    let results = setup::find_meters_on(
        &[meter.port()],
        &SerialPorts,
        &plan,
        &AtomicBool::new(false),
        &|_| {},
    );
    let found = results[0].outcome.as_ref().expect("found");
    assert_eq!(
        (found.settings, found.detected),
        (SerialSettings::SML, Detected::Sml)
    );
    assert_eq!(found.source_text, format!("serial:{}:9600:8N1", meter.path));
    let p = found.preview.as_ref().expect("a preview");
    assert_eq!(
        (p.protocol, p.meter_id_end.as_deref(), p.watts),
        ("sml", Some("2054"), Some(216))
    );
}

#[test]
fn an_optical_meter_answers_the_sign_on_and_its_readout_is_previewed() {
    // Silent until asked: the probe listens the whole first window, then signs on at 300 baud.
    let meter = hearth_meter_io::simulator::OpticalMeter::spawn("ISk5MT174-0001", |_| {
        Some("C.1.0(12345678)\r\n1.8.0(001234.567*kWh)\r\n1.7.0(01.234*kW)\r\n".to_owned())
    })
    .expect("an optical meter");
    let path = meter.path().display().to_string();
    let port = PortInfo {
        path: path.clone(),
        kind: PortKind::Other,
    };
    let results = setup::find_meters_on(
        &[port],
        &SerialPorts,
        &Plan::default(),
        &AtomicBool::new(false),
        &|_| {},
    );
    let found = results[0].outcome.as_ref().expect("found");
    assert_eq!(
        (found.settings, found.detected),
        (SerialSettings::IEC_START, Detected::Iec62056_21)
    );
    assert_eq!(
        found.source_text,
        format!("serial:{path}?protocol=iec62056-21&mode=c")
    );
    assert_eq!(found.preview, None);
    assert_eq!(
        found.note.as_deref(),
        Some("An optical meter answered (ISk5MT174-0001); its values come with the first readout.")
    );
    // The reader's conversation asks for the readout; its BCC is checked on the way.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let p = rt
        .block_on(setup::preview(
            &found.source,
            SourceSetup::default(),
            Duration::from_secs(20),
        ))
        .expect("a preview");
    assert_eq!(
        (p.protocol, p.meter_id_end.as_deref(), p.watts, p.import_wh),
        ("iec62056-21", Some("5678"), Some(1_234), Some(1_234_567))
    );
}
