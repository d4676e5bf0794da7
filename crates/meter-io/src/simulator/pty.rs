//! The simulated meter behind a pseudo-terminal: a device path that behaves like
//! `/dev/ttyUSB0` with a P1 cable on a real meter, for trying `hearth detect` and the serial
//! source without hardware, and for tests that go through the real serial code path.
//!
//! A thread plays the meter: it writes one chunk (a telegram) per interval into the terminal's
//! master side. [`PtyMeter::unplug`] closes the master, exactly what the reading side sees when
//! a USB cable is pulled: its reads fail and the device path disappears.

use super::Simulator;
use serialport::{SerialPort as _, TTYPort};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Why the pseudo-terminal meter could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PtyError {
    /// The operating system gave no pseudo-terminal.
    #[error("could not create a pseudo-terminal: {0}")]
    Open(#[from] serialport::Error),
    /// The pseudo-terminal has no device path.
    #[error("the pseudo-terminal has no device path")]
    NoPath,
    /// The meter thread could not start.
    #[error("could not start the simulated meter thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// A meter on a pseudo-terminal: open [`PtyMeter::path`] like any serial port.
#[derive(Debug)]
pub struct PtyMeter {
    path: PathBuf,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl PtyMeter {
    /// Starts `simulator` sending one telegram per `interval` (DSMR 5 meters: one second).
    pub fn spawn(mut simulator: Simulator, interval: Duration) -> Result<PtyMeter, PtyError> {
        PtyMeter::spawn_with(move || Some(simulator.next_telegram()), interval)
    }

    /// Sends whatever `next_chunk` returns, one chunk per `interval`; `None` keeps the line
    /// silent for that interval (a meter that stopped talking, the cable still plugged in).
    pub fn spawn_with(
        mut next_chunk: impl FnMut() -> Option<Vec<u8>> + Send + 'static,
        interval: Duration,
    ) -> Result<PtyMeter, PtyError> {
        let (mut master, slave) = TTYPort::pair()?;
        let path = PathBuf::from(slave.name().ok_or(PtyError::NoPath)?);
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("pty-meter".into())
            .spawn(move || {
                // Holding the slave side keeps the terminal's raw settings while no reader has
                // it open; bytes written then wait in its buffer (or time out when it is full,
                // like a meter talking to nobody).
                let _slave = slave;
                loop {
                    if let Some(chunk) = next_chunk() {
                        match master.write_all(&chunk) {
                            Ok(()) => {}
                            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                            Err(_) => break,
                        }
                    }
                    match stopped.recv_timeout(interval) {
                        Err(mpsc::RecvTimeoutError::Timeout) => {}
                        _ => break,
                    }
                }
                // Dropping `master` here hangs up the terminal: readers see the cable go.
            })?;
        Ok(PtyMeter {
            path,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The device path to open (`/dev/pts/N`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Pulls the cable: stops the meter and closes the terminal. Readers' next read fails and
    /// the device path goes away.
    pub fn unplug(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for PtyMeter {
    fn drop(&mut self) {
        self.shutdown();
    }
}
