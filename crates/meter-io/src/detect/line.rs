//! The ports a probe opens, as a trait: the machine's serial ports ([`SerialPorts`]) in use, a
//! fake in tests (a pseudo-terminal ignores the baud rate, so only a fake can show which setting
//! a meter answers at, and a fake clock shows the probe's timing without waiting).

use crate::settings::SerialSettings;
use std::io::{Read as _, Write as _};
use std::time::{Duration, Instant};

/// Opens ports for a probe.
pub trait Ports: Sync {
    /// Opens `path` at `settings`, with anything received before discarded.
    fn open(&self, path: &str, settings: SerialSettings) -> Result<Box<dyn Line>, OpenFailure>;
}

/// An open port.
pub trait Line: Send {
    /// Waits up to `wait` for bytes; `Ok(0)` when none came in that time.
    fn read(&mut self, buf: &mut [u8], wait: Duration) -> std::io::Result<usize>;
    /// Sends `bytes` (the IEC 62056-21 sign-on).
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()>;
    /// The time on the clock this line's bytes are timed by, from any fixed point (the
    /// monotonic clock for a real port, the fake's own clock in tests).
    fn now(&self) -> Duration;
}

/// Why a port could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OpenFailure {
    /// No such device (unplugged, or a mistyped path).
    Missing,
    /// The user may not open it (not in the `dialout` group).
    PermissionDenied,
    /// Another program holds it, if known which.
    Busy(Option<Holder>),
    /// Anything else, as the system said it.
    Other(String),
}

/// The program that holds a busy port.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Holder {
    /// Another Hearth (the desktop app's collector, or `hearth collect`).
    Hearth,
    /// ModemManager, which opens new serial devices to look for modems.
    ModemManager,
    /// Another program, by its process name.
    Program(String),
}

/// The machine's serial ports, through the `serialport` crate.
#[derive(Debug, Clone, Copy, Default)]
pub struct SerialPorts;

impl Ports for SerialPorts {
    fn open(&self, path: &str, settings: SerialSettings) -> Result<Box<dyn Line>, OpenFailure> {
        let port = settings
            .builder(path)
            .timeout(Duration::from_millis(100))
            .open()
            .map_err(|e| open_failure(path, &e))?;
        // Bytes that came before the line had these settings mean nothing at them.
        let _ = port.clear(serialport::ClearBuffer::Input);
        Ok(Box::new(SerialLine {
            port,
            timeout: Duration::from_millis(100),
            epoch: Instant::now(),
        }))
    }
}

struct SerialLine {
    port: Box<dyn serialport::SerialPort>,
    timeout: Duration,
    epoch: Instant,
}

impl Line for SerialLine {
    fn read(&mut self, buf: &mut [u8], wait: Duration) -> std::io::Result<usize> {
        let wait = wait.max(Duration::from_millis(1));
        if wait != self.timeout {
            self.port.set_timeout(wait)?;
            self.timeout = wait;
        }
        match self.port.read(buf) {
            Ok(n) => Ok(n),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::TimedOut | std::io::ErrorKind::Interrupted
                ) =>
            {
                Ok(0)
            }
            Err(e) => Err(e),
        }
    }

    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.port.write_all(bytes)?;
        self.port.flush()
    }

    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }
}

/// What an error from opening `path` means. `serialport` reports a port locked by another
/// program (`EBUSY` from `TIOCEXCL`, or its `flock`) as `NoDevice`; a missing one as
/// `NotFound`.
pub fn open_failure(path: &str, e: &serialport::Error) -> OpenFailure {
    match e.kind() {
        serialport::ErrorKind::Io(std::io::ErrorKind::NotFound) => OpenFailure::Missing,
        serialport::ErrorKind::Io(std::io::ErrorKind::PermissionDenied) => {
            OpenFailure::PermissionDenied
        }
        serialport::ErrorKind::NoDevice => OpenFailure::Busy(holder(path)),
        _ => OpenFailure::Other(e.to_string()),
    }
}

/// Who holds `path` open: a process with a file descriptor on the device (Linux `/proc`,
/// where readable), else ModemManager when it runs (it grabs new USB serial devices), else
/// unknown.
pub fn holder(path: &str) -> Option<Holder> {
    let device = std::fs::canonicalize(path).ok()?;
    let processes = std::fs::read_dir("/proc").ok()?;
    let mut modem_manager = false;
    for entry in processes.flatten() {
        let pid = entry.file_name();
        if !pid.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        let comm = comm.trim();
        modem_manager |= comm == "ModemManager";
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        if fds
            .flatten()
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target == device))
        {
            return Some(holder_named(comm));
        }
    }
    modem_manager.then_some(Holder::ModemManager)
}

/// The holder a process name (`/proc/PID/comm`) stands for.
pub fn holder_named(comm: &str) -> Holder {
    if comm.starts_with("hearth") {
        Holder::Hearth
    } else if comm == "ModemManager" {
        Holder::ModemManager
    } else {
        Holder::Program(comm.to_owned())
    }
}
