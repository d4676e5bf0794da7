//! One Hearth per data directory (`hearth_desktop::instance`), on a private session bus: a
//! second start asks the first to show its window; without a bus, Hearth runs alone.
#![cfg(target_os = "linux")]

use hearth_desktop::instance::{Claim, TIMEOUT, bus_name, claim};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

#[test]
fn one_name_per_data_directory() {
    // FNV-1a 64 of "/home/ann/.local/share/hearth", computed independently with Python:
    // h = 0xcbf29ce484222325; for b in path: h = ((h ^ b) * 0x100000001b3) % 2**64
    assert_eq!(
        bus_name(Path::new("/home/ann/.local/share/hearth")),
        "org.hearth.Desktop.db95fe01d1a482398"
    );
    assert_ne!(
        bus_name(Path::new("/home/ann/.local/share/hearth")),
        bus_name(Path::new("/home/bob/.local/share/hearth"))
    );
}

/// A private session bus (dbus-daemon, installed by scripts/setup.sh), gone when dropped.
struct Bus(Child, String);

impl Bus {
    fn start() -> Bus {
        let mut child = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (Debian package dbus-daemon)");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.as_mut().expect("stdout")),
            &mut line,
        )
        .expect("bus address");
        Bus(child, line.trim().to_owned())
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_second_start_asks_the_first_to_show_its_window() {
    let bus = Bus::start();
    let dir = Path::new("/home/ann/.local/share/hearth");
    let Claim::First {
        requests: shown,
        quitting,
    } = claim(dir, Some(&bus.1), true)
    else {
        panic!("the first start owns the directory");
    };
    assert!(shown.try_recv().is_err(), "nothing asked yet");
    assert!(matches!(claim(dir, Some(&bus.1), true), Claim::Running));
    shown
        .recv_timeout(Duration::from_secs(5))
        .expect("the first was asked to show its window");
    // A login start (--minimized) finds Hearth running and asks nothing.
    assert!(matches!(claim(dir, Some(&bus.1), false), Claim::Running));
    assert!(shown.recv_timeout(Duration::from_millis(300)).is_err());
    // Another data directory is another Hearth.
    let other = claim(
        Path::new("/home/bob/.local/share/hearth"),
        Some(&bus.1),
        true,
    );
    assert!(matches!(other, Claim::First { .. }));
    // A Hearth that is quitting no longer answers for its directory: a start in that moment
    // waits (2 s at most) for the name instead of believing it shown.
    quitting.store(true, Ordering::SeqCst);
    let t0 = Instant::now();
    let late = claim(dir, Some(&bus.1), true);
    assert!(
        matches!(&late, Claim::Alone(why) if why.contains("does not answer")),
        "{late:?}"
    );
    assert!(
        t0.elapsed() >= TIMEOUT && t0.elapsed() < TIMEOUT * 2,
        "{:?}",
        t0.elapsed()
    );
    assert!(shown.try_recv().is_err(), "a quitting Hearth shows nothing");
}

#[test]
fn without_a_bus_hearth_runs_alone() {
    let claim = claim(
        Path::new("/tmp/x"),
        Some("unix:path=/nonexistent/bus"),
        true,
    );
    let Claim::Alone(why) = claim else {
        panic!("no bus, no check: {claim:?}");
    };
    assert!(why.starts_with("no session bus"), "{why}");
}
