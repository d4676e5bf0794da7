//! Detection through real pseudo-terminals: which protocol at which settings, from simulated
//! and captured meters, and "nothing heard" from a silent or noisy line.

use hearth_meter::auto::Detected;
use hearth_meter_io::detect::{detected_name, list_ports, probe, probe_with};
use hearth_meter_io::simulator::{Exchange, OpticalMeter, PtyMeter, Simulator};
use hearth_meter_io::{SerialSettings, settings::Parity};
use std::time::Duration;

const WINDOW: Duration = Duration::from_millis(1500);

fn replaying(capture: &'static [u8]) -> PtyMeter {
    PtyMeter::spawn_with(move || Some(capture.to_vec()), Duration::from_millis(100)).unwrap()
}

fn path(m: &PtyMeter) -> String {
    m.path().display().to_string()
}

#[test]
fn the_simulated_dsmr5_meter_is_found_at_115200_8n1() {
    let meter =
        PtyMeter::spawn(Simulator::new(1, 1_768_496_400), Duration::from_millis(50)).unwrap();
    let p = probe(&path(&meter), WINDOW);
    let found = p.found.expect("found");
    assert_eq!(found.detected, Detected::Dsmr);
    assert_eq!(found.settings, SerialSettings::DSMR4);
    assert_eq!(p.attempts.len(), 1);
    assert!(p.attempts[0].bytes > 0);
    assert_eq!(p.verdict(), "dsmr at 115200 8N1");
}

#[test]
fn real_captures_are_recognised() {
    let cases: [(&[u8], Detected); 4] = [
        (include_bytes!("fixtures/dsmr/v5.p1"), Detected::Dsmr),
        (include_bytes!("fixtures/dsmr/v2_2.p1"), Detected::Dsmr),
        (
            include_bytes!("fixtures/han/kamstrup_se_real.hdlc"),
            Detected::Dlms,
        ),
        (
            include_bytes!("fixtures/sml/DZG_DVS-7420.2V.G2_mtr0.bin"),
            Detected::Sml,
        ),
    ];
    for (capture, expected) in cases {
        let meter = replaying(capture);
        let p = probe(&path(&meter), WINDOW);
        assert_eq!(
            p.found.map(|f| f.detected),
            Some(expected),
            "{expected:?}: {p:?}"
        );
    }
}

#[test]
fn a_silent_line_skips_the_push_settings_and_asks_in_iec_mode() {
    let meter = PtyMeter::spawn_with(|| None, Duration::from_millis(100)).unwrap();
    let p = probe(&path(&meter), Duration::from_millis(400));
    assert_eq!(p.found, None);
    let tried: Vec<SerialSettings> = p.attempts.iter().map(|a| a.settings).collect();
    assert_eq!(tried, [SerialSettings::DSMR4, SerialSettings::IEC_START]);
    assert_eq!(p.verdict(), "nothing heard");
}

#[test]
fn noise_tries_every_setting_and_says_so() {
    let mut x = 0x1234_5678u32;
    let meter = PtyMeter::spawn_with(
        move || {
            // xorshift32 noise without any protocol's start bytes.
            let mut v = Vec::with_capacity(64);
            while v.len() < 64 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                let b = x as u8;
                if !matches!(b, b'/' | b'<' | 0x7E | 0x1B | 0xDB) {
                    v.push(b);
                }
            }
            Some(v)
        },
        Duration::from_millis(20),
    )
    .unwrap();
    let p = probe(&path(&meter), Duration::from_millis(300));
    assert_eq!(p.found, None);
    assert_eq!(p.attempts.len(), SerialSettings::COMMON.len());
    assert!(p.attempts.iter().all(|a| a.bytes > 0 && a.error.is_none()));
    assert_eq!(p.verdict(), "bytes heard but no protocol recognised");
}

#[test]
fn an_iec_identification_line_is_recognised_at_300_7e1() {
    // An optical IEC 62056-21 meter answers the sign-on `/?!` CR LF with its identification
    // line `/XXXZident` CR LF (IEC 62056-21 §6.3.2; maker ISK, baud character 5). This fake
    // meter repeats the line whether asked or not; the probe sends the sign-on in IEC mode
    // and must recognise the answer.
    let meter = PtyMeter::spawn_with(|| Some(b"/ISK5ME162-0033\r\n".to_vec()), WINDOW).unwrap();
    let p = probe_with(
        &path(&meter),
        &[SerialSettings::new(300, 7, Parity::Even, 1)],
        Duration::from_millis(500),
    );
    assert_eq!(p.found.map(|f| f.detected), Some(Detected::Iec62056_21));
    assert_eq!(p.verdict(), "iec62056-21 at 300 7E1");
    assert_eq!(detected_name(Detected::Iec62056_21), "iec62056-21");
}

/// The listing offers the terminals the kernel has hardware behind (a UART, a USB adapter, a
/// Bluetooth link), never a terminal without a device: not a pseudo-terminal like the simulated
/// meter's, and not the virtual consoles, `/dev/tty`, `/dev/console` or `/dev/ptmx`. The
/// expectations come from sysfs, independently of the serial library the listing uses.
#[cfg(target_os = "linux")]
#[test]
fn listed_ports_are_hardware_terminals_in_order_and_ptys_are_not() {
    use hearth_meter_io::detect::PortKind;
    use std::os::unix::fs::FileTypeExt as _;
    use std::path::Path;

    let meter = PtyMeter::spawn_with(|| None, Duration::from_millis(100)).unwrap();
    let pty = path(&meter);
    assert!(pty.starts_with("/dev/pts/"), "{pty}");
    let listed = list_ports().unwrap();
    let paths: Vec<&str> = listed.iter().map(|p| p.path.as_str()).collect();

    // A pseudo-terminal exists and opens like a serial port, but is not offered: a meter is
    // never on one, and `hearth detect --port PATH` probes it when asked.
    assert!(
        std::fs::metadata(&pty)
            .unwrap()
            .file_type()
            .is_char_device(),
        "{pty}"
    );
    assert!(!paths.contains(&pty.as_str()), "{pty} listed: {listed:?}");

    // Every terminal the kernel has no device behind is left out. /dev/tty, /dev/console and
    // /dev/ptmx are such terminals on every Linux system, so this always checks something.
    let mut virtual_terminals = Vec::new();
    let mut usb_terminals = Vec::new();
    for entry in std::fs::read_dir("/sys/class/tty").unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let device = entry.path().join("device");
        if name.starts_with("rfcomm") {
            continue;
        }
        if !device.exists() {
            virtual_terminals.push(format!("/dev/{name}"));
        } else if std::fs::canonicalize(&device)
            .unwrap()
            .to_string_lossy()
            .contains("/usb")
        {
            usb_terminals.push(format!("/dev/{name}"));
        }
    }
    for always in ["/dev/tty", "/dev/console", "/dev/ptmx"] {
        assert!(
            virtual_terminals.iter().any(|t| t == always),
            "{always}: {virtual_terminals:?}"
        );
    }
    for t in &virtual_terminals {
        assert!(!paths.contains(&t.as_str()), "{t} listed: {listed:?}");
    }

    // Every USB serial adapter the kernel knows is listed, as USB.
    for t in &usb_terminals {
        let port = listed.iter().find(|p| &p.path == t);
        assert!(
            matches!(port.map(|p| &p.kind), Some(PortKind::Usb { .. })),
            "{t}: {listed:?}"
        );
    }

    // What is listed is a character device with hardware (or a Bluetooth link) behind it,
    // described by its kind, each once, USB adapters first and then by path.
    for port in &listed {
        let name = port.path.strip_prefix("/dev/").expect("a /dev path");
        assert!(
            std::fs::metadata(&port.path)
                .unwrap()
                .file_type()
                .is_char_device(),
            "{port:?}"
        );
        assert!(
            name.starts_with("rfcomm")
                || Path::new("/sys/class/tty")
                    .join(name)
                    .join("device")
                    .exists(),
            "{port:?}"
        );
        let description = port.description();
        match &port.kind {
            PortKind::Usb { vid, pid, .. } => {
                assert!(description.starts_with(&format!("USB {vid:04x}:{pid:04x}")))
            }
            PortKind::Pci => assert_eq!(description, "built-in (PCI)"),
            PortKind::Bluetooth => assert_eq!(description, "Bluetooth"),
            _ => assert_eq!(description, "serial port"),
        }
    }
    let mut ordered = listed.clone();
    ordered.sort_by_key(|p| (!matches!(p.kind, PortKind::Usb { .. }), p.path.clone()));
    ordered.dedup_by(|a, b| a.path == b.path);
    assert_eq!(listed, ordered);
}

#[test]
fn an_optical_meter_answering_the_sign_on_is_found_and_read_by_conversation() {
    // The simulated optical meter speaks only when asked: every push setting hears nothing,
    // the sign-on at 300 7E1 gets its identification.
    let meter = OpticalMeter::spawn("ISk5MT174-0001", |_| {
        Some("1.8.0(000001.000*kWh)\r\n".into())
    })
    .unwrap();
    let optical = meter.path().display().to_string();
    let p = probe(&optical, Duration::from_millis(600));
    let found = p.found.expect("found");
    assert_eq!(found.detected, Detected::Iec62056_21);
    assert_eq!(found.settings, SerialSettings::IEC_START);
    assert_eq!(
        found.source(&optical).to_string(),
        format!("serial:{optical}?protocol=iec62056-21&mode=c")
    );
    assert_eq!(
        meter.exchanges()[0],
        Exchange::SignOn {
            address: String::new(),
            baud: 300
        }
    );
    // A pushing meter is read at the settings it was heard at.
    let dsmr =
        PtyMeter::spawn(Simulator::new(1, 1_768_496_400), Duration::from_millis(50)).unwrap();
    let found = probe(&path(&dsmr), WINDOW).found.expect("found");
    assert_eq!(
        found.source(&path(&dsmr)).to_string(),
        format!("serial:{}:115200:8N1", path(&dsmr))
    );
}
