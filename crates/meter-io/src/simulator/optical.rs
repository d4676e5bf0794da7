//! A simulated IEC 62056-21 meter behind a pseudo-terminal, as an optical head sees it: it
//! says nothing until asked, answers the sign-on request `/?!` CR LF (at 300 baud) with its
//! identification line, waits for the option select `ACK V Z Y` CR LF in mode C, and sends its
//! readout `STX data ! CR LF ETX BCC` at the speed agreed, then falls back to 300 baud.
//!
//! A pseudo-terminal carries bytes whatever its speed setting, so the meter checks the line
//! speed itself: the terminal's settings are shared by both ends, and the speed the reader set
//! on its end is read back here before each message. A message due at a speed the line is not
//! at goes out as noise, as it would on a real optical link. Everything the meter heard and
//! did is kept in order ([`OpticalMeter::exchanges`]) for tests to check the conversation.

use super::pty::PtyError;
use serialport::{SerialPort as _, TTYPort};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The meter's shortest reaction time before answering (IEC 62056-21 §6: 200 ms).
const REACTION: Duration = Duration::from_millis(200);
/// The longest the meter waits for the option select, and for the reader to reach the agreed
/// speed (the standard's longest reaction time is 1.5 s).
const PATIENCE: Duration = Duration::from_millis(1500);

/// One thing the simulated meter heard or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exchange {
    /// A sign-on request `/?ADDRESS!` CR LF arrived while the line was at `baud`.
    SignOn {
        /// The device address in the request (empty for `/?!`).
        address: String,
        /// The line speed when it arrived.
        baud: u32,
    },
    /// An option select arrived: the whole message (`ACK V Z Y` CR LF) and the line speed.
    OptionSelect {
        /// The message as received.
        message: Vec<u8>,
        /// The line speed when it arrived.
        baud: u32,
    },
    /// A readout went out at `baud`, the line at that speed.
    Readout {
        /// The readout's number, from 0.
        number: u64,
        /// The speed it was sent at.
        baud: u32,
    },
    /// A message was due at `meter` baud but the line was at `line` baud: it went out as
    /// noise.
    WrongSpeed {
        /// The speed the meter spoke at.
        meter: u32,
        /// The speed the line was set to.
        line: u32,
    },
    /// Bytes that are no request the meter knows.
    Unexpected(Vec<u8>),
}

/// An IEC 62056-21 meter on a pseudo-terminal: open [`OpticalMeter::path`] like an optical
/// head's `/dev/ttyUSB0`.
#[derive(Debug)]
pub struct OpticalMeter {
    path: PathBuf,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    exchanges: Arc<Mutex<Vec<Exchange>>>,
}

/// The speed named by a baud character: `0`-`6` (mode C) or `A`-`F` (mode B).
fn speed_of(z: u8) -> Option<u32> {
    const SPEEDS: [u32; 7] = [300, 600, 1200, 2400, 4800, 9600, 19_200];
    match z {
        b'0'..=b'6' => Some(SPEEDS[usize::from(z - b'0')]),
        b'A'..=b'F' => Some(SPEEDS[usize::from(z - b'A') + 1]),
        _ => None,
    }
}

struct Line {
    master: TTYPort,
    slave: TTYPort,
    stop: mpsc::Receiver<()>,
    log: Arc<Mutex<Vec<Exchange>>>,
    pending: Vec<u8>,
}

enum Heard {
    Line(Vec<u8>),
    Nothing,
    Stop,
}

impl Line {
    fn note(&self, e: Exchange) {
        if let Ok(mut log) = self.log.lock() {
            log.push(e);
        }
    }

    fn speed(&self) -> u32 {
        self.slave.baud_rate().unwrap_or(0)
    }

    fn stopped(&self) -> bool {
        !matches!(self.stop.try_recv(), Err(mpsc::TryRecvError::Empty))
    }

    /// The next CR LF-terminated message, or nothing within `wait`.
    fn hear(&mut self, wait: Duration) -> Heard {
        let until = Instant::now() + wait;
        loop {
            if let Some(end) = self.pending.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.pending.drain(..end + 2).collect();
                return Heard::Line(line);
            }
            if self.stopped() {
                return Heard::Stop;
            }
            if Instant::now() >= until {
                return Heard::Nothing;
            }
            let mut chunk = [0u8; 256];
            match self.master.read(&mut chunk) {
                Ok(n) => self.pending.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => return Heard::Stop,
            }
        }
    }

    /// Waits up to [`PATIENCE`] for the line to be at `baud`.
    fn line_reaches(&self, baud: u32) -> bool {
        let until = Instant::now() + PATIENCE;
        while self.speed() != baud {
            if Instant::now() >= until || self.stopped() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        true
    }

    /// Sends `bytes` at `baud`: as they are when the line is at that speed, as noise when not.
    fn say(&mut self, bytes: &[u8], baud: u32) -> std::io::Result<bool> {
        let line = self.speed();
        if line == baud {
            self.master.write_all(bytes)?;
            Ok(true)
        } else {
            self.note(Exchange::WrongSpeed { meter: baud, line });
            self.master.write_all(&vec![0xFF; bytes.len()])?;
            Ok(false)
        }
    }
}

impl OpticalMeter {
    /// Starts a meter identifying as `/IDENTIFICATION` (e.g. `ISk5MT174-0001`: maker `ISk`,
    /// baud character `5`) whose readout number `n` (from 0, one per sign-on that got as far)
    /// carries the data lines `readout(n)` (`address(value*unit)` CR LF each; the meter adds
    /// `!` CR LF, STX, ETX and the BCC). `None` leaves that readout out: the meter goes quiet
    /// after its identification (and the option select), as a confused meter does.
    pub fn spawn(
        identification: &str,
        mut readout: impl FnMut(u64) -> Option<String> + Send + 'static,
    ) -> Result<OpticalMeter, PtyError> {
        let (master, slave) = TTYPort::pair()?;
        let path = PathBuf::from(slave.name().ok_or(PtyError::NoPath)?);
        let (stop, stopped) = mpsc::channel::<()>();
        let exchanges = Arc::new(Mutex::new(Vec::new()));
        let ident = format!("/{identification}\r\n").into_bytes();
        let z = ident.get(4).copied().unwrap_or(b'0');
        let mut line = Line {
            master,
            slave,
            stop: stopped,
            log: Arc::clone(&exchanges),
            pending: Vec::new(),
        };
        let thread = std::thread::Builder::new()
            .name("optical-meter".into())
            .spawn(move || {
                let mut number = 0u64;
                loop {
                    let request = match line.hear(Duration::from_millis(200)) {
                        Heard::Stop => break,
                        Heard::Nothing => continue,
                        Heard::Line(l) => l,
                    };
                    let baud = line.speed();
                    let Some(address) = request
                        .iter()
                        .position(|&b| b == b'/')
                        .map(|at| &request[at..])
                        .and_then(|r| r.strip_prefix(b"/?"))
                        .and_then(|r| r.strip_suffix(b"!\r\n"))
                    else {
                        line.note(Exchange::Unexpected(request));
                        continue;
                    };
                    line.note(Exchange::SignOn {
                        address: String::from_utf8_lossy(address).into_owned(),
                        baud,
                    });
                    std::thread::sleep(REACTION);
                    match line.say(&ident, 300) {
                        Ok(true) => {}
                        Ok(false) => continue,
                        Err(_) => break,
                    }
                    // Mode C waits for the option select; mode B switches unasked; mode A
                    // stays at 300.
                    let speed = match (z, speed_of(z)) {
                        (b'0'..=b'6', Some(offered)) => match line.hear(PATIENCE) {
                            Heard::Stop => break,
                            Heard::Nothing => continue,
                            Heard::Line(ack) => {
                                let at = line.speed();
                                line.note(Exchange::OptionSelect {
                                    message: ack.clone(),
                                    baud: at,
                                });
                                match ack.as_slice() {
                                    [0x06, b'0', asked, b'0', b'\r', b'\n'] => {
                                        match speed_of(*asked) {
                                            Some(s) if s <= offered && asked.is_ascii_digit() => s,
                                            _ => continue,
                                        }
                                    }
                                    _ => continue,
                                }
                            }
                        },
                        (_, Some(mode_b)) => mode_b,
                        (_, None) => 300,
                    };
                    std::thread::sleep(REACTION);
                    // The reader switches on its side; give it the standard's time to.
                    line.line_reaches(speed);
                    let Some(data) = readout(number) else {
                        number += 1;
                        continue;
                    };
                    let mut block = vec![0x02];
                    block.extend_from_slice(data.as_bytes());
                    block.extend_from_slice(b"!\r\n\x03");
                    let bcc = block[1..].iter().fold(0u8, |a, b| a ^ b);
                    block.push(bcc);
                    match line.say(&block, speed) {
                        Ok(true) => {
                            line.note(Exchange::Readout {
                                number,
                                baud: speed,
                            });
                            number += 1;
                        }
                        Ok(false) => {}
                        Err(_) => break,
                    }
                }
                // Dropping the master here hangs up the terminal: the reader sees the head go.
            })?;
        Ok(OpticalMeter {
            path,
            stop: Some(stop),
            thread: Some(thread),
            exchanges,
        })
    }

    /// The device path to open (`/dev/pts/N`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Everything heard and done so far, in order.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.exchanges.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Takes the head off the meter: stops it and closes the terminal.
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

impl Drop for OpticalMeter {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baud_characters() {
        assert_eq!(speed_of(b'0'), Some(300));
        assert_eq!(speed_of(b'5'), Some(9600));
        assert_eq!(speed_of(b'6'), Some(19_200));
        assert_eq!(speed_of(b'A'), Some(600));
        assert_eq!(speed_of(b'E'), Some(9600));
        assert_eq!(speed_of(b'7'), None);
        assert_eq!(speed_of(b'G'), None);
    }
}
