//! The probe's order and timing, on fake ports with a fake clock (a pseudo-terminal ignores the
//! baud rate, and real windows would make the tests slow): a fake meter speaks at one setting
//! and sends garbage at the same cadence at every other one, as a real line does. Time passes
//! only when the probe reads, so every window and early end is exact and nothing waits.

use hearth_meter::auto::Detected;
use hearth_meter_io::SerialSettings;
use hearth_meter_io::detect::{
    Evidence, Holder, Line, OpenFailure, Plan, PortProblem, Ports, ProbeEvent, probe_port,
    probe_ports,
};
use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
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

const S: fn(u64) -> Duration = Duration::from_secs;
const MS: fn(u64) -> Duration = Duration::from_millis;

/// What a fake port does.
#[derive(Clone)]
enum Behaviour {
    /// Sends `frames[k % len]` starting at `first + k * every`, at `speaks_at`'s pace; at any
    /// other setting the same bytes arrive as garbage (0x80..=0xBF) at the same times.
    Meter {
        speaks_at: SerialSettings,
        frames: Vec<Vec<u8>>,
        first: Duration,
        every: Duration,
    },
    /// Answers the IEC 62056-21 sign-on at 300 baud 7E1 with its identification line.
    SignOn(&'static str),
    Silent,
    Fails(OpenFailure),
}

#[derive(Clone)]
struct FakePort {
    behaviour: Behaviour,
    clock: Arc<Mutex<Duration>>,
    /// Each open: the setting and the fake time.
    opens: Arc<Mutex<Vec<(SerialSettings, Duration)>>>,
}

impl FakePort {
    fn new(behaviour: Behaviour) -> FakePort {
        FakePort {
            behaviour,
            clock: Arc::default(),
            opens: Arc::default(),
        }
    }

    fn opens(&self) -> Vec<(SerialSettings, Duration)> {
        self.opens.lock().unwrap().clone()
    }
}

struct FakePorts(HashMap<String, FakePort>);

impl Ports for FakePorts {
    fn open(&self, path: &str, settings: SerialSettings) -> Result<Box<dyn Line>, OpenFailure> {
        let port = self.0.get(path).ok_or(OpenFailure::Missing)?;
        if let Behaviour::Fails(f) = &port.behaviour {
            return Err(f.clone());
        }
        let now = *port.clock.lock().unwrap();
        port.opens.lock().unwrap().push((settings, now));
        Ok(Box::new(FakeLine {
            port: port.clone(),
            settings,
            delivered_until: now,
            answer: None,
        }))
    }
}

struct FakeLine {
    port: FakePort,
    settings: SerialSettings,
    /// Bytes due up to this time were delivered (or were sent before the line opened).
    delivered_until: Duration,
    /// A sign-on answer due at a time.
    answer: Option<(Duration, Vec<u8>)>,
}

/// Bytes arrive in pieces of this size.
const PIECE: usize = 64;

impl FakeLine {
    /// The next piece due after `delivered_until`: its arrival time and bytes.
    fn next_piece(&self) -> Option<(Duration, Vec<u8>)> {
        if let Some((at, bytes)) = &self.answer {
            return Some((*at, bytes.clone()));
        }
        let Behaviour::Meter {
            speaks_at,
            frames,
            first,
            every,
        } = &self.port.behaviour
        else {
            return None;
        };
        let byte_time = Duration::from_secs(10) / speaks_at.baud;
        let mut k = 0u32;
        loop {
            let start = *first + *every * k;
            let frame = &frames[k as usize % frames.len()];
            for (j, piece) in frame.chunks(PIECE).enumerate() {
                let at = start + byte_time * (j * PIECE + piece.len()) as u32;
                if at > self.delivered_until {
                    let bytes = if self.settings == *speaks_at {
                        piece.to_vec()
                    } else {
                        piece.iter().map(|b| 0x80 | (b & 0x3F)).collect()
                    };
                    return Some((at, bytes));
                }
            }
            k += 1;
        }
    }
}

impl Line for FakeLine {
    fn read(&mut self, buf: &mut [u8], wait: Duration) -> std::io::Result<usize> {
        let mut clock = self.port.clock.lock().unwrap();
        let until = *clock + wait;
        match self.next_piece() {
            Some((at, bytes)) if at <= until => {
                *clock = (*clock).max(at);
                self.delivered_until = at;
                self.answer = None;
                buf[..bytes.len()].copy_from_slice(&bytes);
                Ok(bytes.len())
            }
            _ => {
                *clock = until;
                self.delivered_until = until;
                Ok(0)
            }
        }
    }

    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if let Behaviour::SignOn(id) = &self.port.behaviour
            && self.settings == SerialSettings::IEC_START
            && bytes == b"/?!\r\n"
        {
            let now = *self.port.clock.lock().unwrap();
            self.answer = Some((now + MS(400), format!("{id}\r\n").into_bytes()));
        }
        Ok(())
    }

    fn now(&self) -> Duration {
        *self.port.clock.lock().unwrap()
    }
}

fn ports(list: &[(&str, &FakePort)]) -> FakePorts {
    FakePorts(
        list.iter()
            .map(|(p, f)| ((*p).to_owned(), (*f).clone()))
            .collect(),
    )
}

fn probe_one(port: &FakePort) -> hearth_meter_io::detect::PortReport {
    probe_port(
        "/dev/fake",
        &ports(&[("/dev/fake", port)]),
        &Plan::default(),
        &AtomicBool::new(false),
        &|_| {},
    )
}

fn settings_tried(port: &FakePort) -> Vec<SerialSettings> {
    port.opens().into_iter().map(|(s, _)| s).collect()
}

fn meter(speaks_at: SerialSettings, frame: &[u8], first: Duration, every: Duration) -> FakePort {
    FakePort::new(Behaviour::Meter {
        speaks_at,
        frames: vec![frame.to_vec()],
        first,
        every,
    })
}

#[test]
fn a_han_meter_at_2400_8e1_is_found_there_and_each_wrong_setting_ends_after_two_bursts() {
    // A Kaifa list every 2 s: garbage at 115200 8N1 and 9600 7E1, a frame at 2400 8E1.
    let port = meter(
        SerialSettings::HAN_MBUS,
        fixture!("han/kaifa_no_list_2.hdlc"),
        MS(500),
        S(2),
    );
    let report = probe_one(&port);
    let m = report.result.expect("found");
    assert_eq!(m.settings, SerialSettings::HAN_MBUS);
    assert_eq!(m.detected, Detected::Dlms);
    let Evidence::Reading(r) = &m.evidence else {
        panic!("{:?}", m.evidence)
    };
    assert_eq!(
        r.meter_id.as_ref().map(|id| id.as_str()),
        Some("6970631402614476")
    );
    let opens = port.opens();
    assert_eq!(
        settings_tried(&port),
        [
            SerialSettings::DSMR4,
            SerialSettings::DSMR2,
            SerialSettings::HAN_MBUS
        ]
    );
    // Two whole bursts of garbage (from 0.5 s and 2.5 s, 123 bytes at 2400 baud: 0.51 s
    // each) end 115200 8N1 once the second burst is over and 250 ms quiet (3.27 s, seen at
    // the next 100-ms poll), not after the 11-s window; 9600 7E1 ends two bursts later.
    assert!((MS(3_260)..MS(3_400)).contains(&opens[1].1), "{opens:?}");
    assert!((MS(7_260)..MS(7_400)).contains(&opens[2].1), "{opens:?}");
    assert_eq!(report.attempts[0].sniffed, None);
    assert!(report.attempts.iter().all(|a| a.bytes > 0));
}

#[test]
fn a_10_s_meter_is_heard_in_the_first_window_and_found_in_its_first_whole_frame() {
    // DSMR 4.2 every 10 s, the first frame 9.5 s after the probe opens the port.
    let port = meter(
        SerialSettings::DSMR4,
        fixture!("dsmr/v4_2.p1"),
        MS(9_500),
        S(10),
    );
    let report = probe_one(&port);
    let m = report.result.expect("found");
    assert_eq!(
        (m.settings, m.detected),
        (SerialSettings::DSMR4, Detected::Dsmr)
    );
    assert_eq!(settings_tried(&port), [SerialSettings::DSMR4]);
    assert!(*port.clock.lock().unwrap() < S(10));
}

#[test]
fn a_10_s_dsmr_2_2_meter_at_9600_7e1_costs_one_whole_window_at_115200() {
    // One burst of garbage in 11 s proves nothing, so 115200 8N1 listens the whole window.
    let port = meter(SerialSettings::DSMR2, fixture!("dsmr/v2_2.p1"), S(3), S(10));
    let report = probe_one(&port);
    let m = report.result.expect("found");
    assert_eq!(
        (m.settings, m.detected),
        (SerialSettings::DSMR2, Detected::Dsmr)
    );
    let opens = port.opens();
    assert_eq!(opens.len(), 2);
    assert_eq!(opens[1].1, S(11));
    assert_eq!(report.attempts[0].detected, None);
    assert!(report.attempts[0].bytes > 0);
}

#[test]
fn a_silent_port_listens_one_whole_window_then_only_asks_in_iec_mode() {
    let port = FakePort::new(Behaviour::Silent);
    let report = probe_one(&port);
    assert_eq!(
        settings_tried(&port),
        [SerialSettings::DSMR4, SerialSettings::IEC_START]
    );
    assert_eq!(port.opens()[1].1, S(11));
    let problem = report.result.expect_err("nothing");
    assert_eq!(
        problem,
        PortProblem::Silent {
            path: "/dev/fake".into(),
            listened: S(11)
        }
    );
    assert!(
        problem
            .to_string()
            .starts_with("Nothing came from /dev/fake in 11 s. Check that the cable"),
        "{problem}"
    );
}

#[test]
fn an_optical_meter_answers_the_sign_on_and_becomes_the_sign_on_source() {
    let port = FakePort::new(Behaviour::SignOn("/ISK5MT174-0001"));
    let report = probe_one(&port);
    let m = report.result.expect("found");
    assert_eq!(
        (m.settings, m.detected),
        (SerialSettings::IEC_START, Detected::Iec62056_21)
    );
    assert_eq!(
        m.evidence,
        Evidence::Identification("/ISK5MT174-0001".into())
    );
    assert_eq!(
        m.source("/dev/fake").to_string(),
        "serial:/dev/fake?protocol=iec62056-21&mode=c"
    );
}

#[test]
fn a_busy_port_a_forbidden_one_and_a_missing_one_say_why_at_once() {
    let cases = [
        (
            OpenFailure::Busy(Some(Holder::ModemManager)),
            "/dev/fake is in use by ModemManager, which opens new serial devices to look for \
             modems. Run `sudo systemctl disable --now ModemManager`",
        ),
        (
            OpenFailure::Busy(Some(Holder::Hearth)),
            "/dev/fake is in use by another Hearth",
        ),
        (
            OpenFailure::Busy(None),
            "/dev/fake is in use by another program",
        ),
        (
            OpenFailure::PermissionDenied,
            "Hearth may not open /dev/fake: your user is not in the 'dialout' group, which may \
             use serial ports. Run `sudo usermod -aG dialout $USER` in a terminal, then log out \
             and back in, and try again.",
        ),
        (
            OpenFailure::Missing,
            "/dev/fake is not there: is the meter cable plugged in?",
        ),
    ];
    for (failure, words) in cases {
        let port = FakePort::new(Behaviour::Fails(failure.clone()));
        let report = probe_one(&port);
        assert_eq!(report.attempts.len(), 1, "{failure:?}");
        let problem = report.result.expect_err("a problem");
        assert!(problem.to_string().starts_with(words), "{problem}");
    }
}

#[test]
fn garbage_then_a_valid_frame_is_found() {
    let mut stream = vec![0x55u8; 300];
    stream.extend_from_slice(fixture!("dsmr/v5.p1"));
    let port = meter(SerialSettings::DSMR4, &stream, MS(500), S(1));
    let m = probe_one(&port).result.expect("found");
    assert_eq!(
        (m.settings, m.detected),
        (SerialSettings::DSMR4, Detected::Dsmr)
    );
}

#[test]
fn a_frame_failing_its_crc_does_not_end_the_search_and_the_next_good_one_is_found() {
    // A 10-s meter: a damaged telegram at 8 s, a good one at 18 s (after the 11-s window).
    let good = fixture!("dsmr/v4_2.p1").to_vec();
    let text = String::from_utf8(good.clone()).unwrap();
    let bad = text.replace("001581.123", "001581.124").into_bytes();
    let port = FakePort::new(Behaviour::Meter {
        speaks_at: SerialSettings::DSMR4,
        frames: vec![bad, good],
        first: S(8),
        every: S(10),
    });
    let report = probe_one(&port);
    let m = report.result.expect("found");
    assert_eq!(m.settings, SerialSettings::DSMR4);
    assert_eq!(settings_tried(&port), [SerialSettings::DSMR4]);
    assert_eq!(report.attempts[0].rejected, 1);
    let Evidence::Reading(r) = &m.evidence else {
        panic!()
    };
    assert_eq!(r.get(hearth_meter::Quantity::ImportT1Wh), Some(1_581_123));
}

#[test]
fn only_damaged_frames_say_so() {
    let text = String::from_utf8(fixture!("dsmr/v5.p1").to_vec()).unwrap();
    let bad = text.replace("(00.244*kW)", "(00.245*kW)").into_bytes();
    let port = meter(SerialSettings::DSMR4, &bad, MS(500), S(1));
    let problem = probe_one(&port).result.expect_err("nothing good");
    assert!(
        matches!(
            problem,
            PortProblem::Unrecognised {
                looks_like: Some(Detected::Dsmr),
                ..
            }
        ),
        "{problem:?}"
    );
    assert!(
        problem
            .to_string()
            .contains("looks like dsmr data, but none of its"),
        "{problem}"
    );
}

#[test]
fn an_encrypted_smarty_meter_is_found_needing_its_key_and_its_frame_is_kept() {
    let frame = fixture!("dsmr/sagemcom_t210_d_r.encrypted.bin");
    let port = meter(SerialSettings::DSMR4, frame, MS(500), S(10));
    let report = probe_one(&port);
    assert_eq!(
        report.verdict(),
        "dsmr (encrypted) at 115200 8N1, needs the key"
    );
    let m = report.result.expect("found");
    assert!(m.needs_key());
    let Evidence::Encrypted(capture) = &m.evidence else {
        panic!()
    };
    assert_eq!(capture.detected(), Detected::Smarty);
    assert!(capture.bytes().ends_with(frame));
}

#[test]
fn every_port_is_probed_at_once_and_tells_its_progress() {
    let dsmr = meter(SerialSettings::DSMR4, fixture!("dsmr/v5.p1"), MS(200), S(1));
    let silent = FakePort::new(Behaviour::Silent);
    let denied = FakePort::new(Behaviour::Fails(OpenFailure::PermissionDenied));
    let fakes = ports(&[("/dev/a", &dsmr), ("/dev/b", &silent), ("/dev/c", &denied)]);
    let events = Mutex::new(Vec::new());
    let paths: Vec<String> = ["/dev/a", "/dev/b", "/dev/c"].map(String::from).into();
    let reports = probe_ports(
        &paths,
        &fakes,
        &Plan::default(),
        &AtomicBool::new(false),
        &|e| events.lock().unwrap().push(e.clone()),
    );
    assert_eq!(
        reports.iter().map(|r| r.path.as_str()).collect::<Vec<_>>(),
        paths
    );
    assert!(reports[0].result.is_ok());
    assert!(matches!(reports[1].result, Err(PortProblem::Silent { .. })));
    assert!(matches!(
        reports[2].result,
        Err(PortProblem::PermissionDenied { .. })
    ));
    let events = events.into_inner().unwrap();
    let of = |p: &str| -> Vec<ProbeEvent> {
        events
            .iter()
            .filter(|e| match e {
                ProbeEvent::PortStarted { path }
                | ProbeEvent::Listening { path, .. }
                | ProbeEvent::BytesHeard { path, .. }
                | ProbeEvent::Found { path, .. }
                | ProbeEvent::PortFinished { path, .. } => path == p,
            })
            .cloned()
            .collect()
    };
    let a = of("/dev/a");
    assert_eq!(
        a[..2],
        [
            ProbeEvent::PortStarted {
                path: "/dev/a".into()
            },
            ProbeEvent::Listening {
                path: "/dev/a".into(),
                settings: SerialSettings::DSMR4,
                window: S(11)
            }
        ]
    );
    assert!(matches!(a[2], ProbeEvent::BytesHeard { bytes, .. } if bytes > 0));
    assert_eq!(
        a[a.len() - 2..],
        [
            ProbeEvent::Found {
                path: "/dev/a".into(),
                settings: SerialSettings::DSMR4,
                detected: Detected::Dsmr,
                needs_key: false
            },
            ProbeEvent::PortFinished {
                path: "/dev/a".into(),
                found: true,
                verdict: "dsmr at 115200 8N1".into()
            }
        ]
    );
    let c = of("/dev/c");
    assert_eq!(c.len(), 2);
    assert!(
        matches!(&c[1], ProbeEvent::PortFinished { found: false, verdict, .. }
        if verdict.contains("sudo usermod -aG dialout $USER"))
    );
}

#[test]
fn a_stopped_probe_ends_at_once() {
    let port = FakePort::new(Behaviour::Silent);
    let report = probe_port(
        "/dev/fake",
        &ports(&[("/dev/fake", &port)]),
        &Plan::default(),
        &AtomicBool::new(true),
        &|_| {},
    );
    assert_eq!(
        report.result,
        Err(PortProblem::Stopped {
            path: "/dev/fake".into()
        })
    );
}

#[test]
fn an_encrypted_han_port_is_found_as_dlms_needing_its_key() {
    let frame = fixture!("han/kaifa_no_list_2.gcm.hdlc");
    let port = meter(SerialSettings::HAN_MBUS, frame, MS(700), S(2));
    let report = probe_one(&port);
    assert_eq!(report.verdict(), "dlms at 2400 8E1, needs the key");
    let m = report.result.expect("found");
    let Evidence::Encrypted(capture) = &m.evidence else {
        panic!("{:?}", m.evidence)
    };
    assert_eq!(capture.detected(), Detected::Dlms);
    assert!(capture.bytes().ends_with(frame));
}

#[test]
fn a_raven_usb_stick_is_found_by_a_fragment_that_parses() {
    // aioraven's InstantaneousDemand: Demand 0x10 x Multiplier 4 / Divisor 2 = 32 kW, from
    // meter 0xFEDCBA9876543210 (a USB CDC device: any baud rate works, the first one does).
    let xml = fixture!("raven/aioraven_responses.xml");
    // (The file holds a non-UTF-8 byte further on, on purpose; this line is plain text.)
    let demand = xml
        .split(|&b| b == b'\n')
        .map(String::from_utf8_lossy)
        .find(|l| l.starts_with("<InstantaneousDemand>"))
        .unwrap();
    let port = meter(
        SerialSettings::DSMR4,
        format!("{demand}\r\n").as_bytes(),
        MS(300),
        S(8),
    );
    let m = probe_one(&port).result.expect("found");
    assert_eq!(
        (m.settings, m.detected),
        (SerialSettings::DSMR4, Detected::Raven)
    );
    let Evidence::Reading(r) = &m.evidence else {
        panic!("{:?}", m.evidence)
    };
    assert_eq!(r.get(hearth_meter::Quantity::ImportW), Some(32_000));
    assert_eq!(
        r.meter_id.as_ref().map(|id| id.redacted()).as_deref(),
        Some("…3210")
    );
}
