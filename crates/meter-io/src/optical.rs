//! Reading an IEC 62056-21 meter through an optical head: the sign-on conversation of
//! protocol modes A, B and C (IEC 62056-21 §6.3 messages, §6.4 modes), repeated every interval.
//!
//! One cycle, as [`crate::source::IecSource`] describes it:
//!
//! ```text
//! reader (300 baud 7E1)        /?!  CR LF                        sign-on request
//! meter                        /ISk5MT174-0001 CR LF             identification, Z = '5'
//! reader (mode C only)         ACK '0' '5' '0' CR LF             option select: normal
//!                                                                protocol, 9600 baud, readout
//! reader                       ~250 ms later: port to 9600 baud  (the ACK is on the wire
//!                                                                for 200 ms at 300 baud)
//! meter (9600 baud)            STX data... ! CR LF ETX BCC       the readout
//! reader                       port back to 300 baud at the next sign-on
//! ```
//!
//! Every byte the meter sends (identification and readout) is handed on unchanged for the
//! decoder ([`hearth_meter::iec62056_21::Iec62056Decoder`] reads exactly this stream). A meter
//! that does not answer, stops mid-readout, or never ends its readout ends the read with a
//! `TimedOut` error whose text says what happened; the reader then reopens the port with
//! backoff. Every step is cancel-safe: the state lives in [`Conversation`], and dropping a
//! pending [`Conversation::read`] loses no byte and repeats no message.

use crate::source::{IecMode, IecSource};
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::time::{Instant, sleep_until, timeout_at};
use tokio_serial::{SerialPort as _, SerialStream};

const STX: u8 = 0x02;
const ETX: u8 = 0x03;
const ACK: u8 = 0x06;
/// Longest identification line looked at (`/XXXZ` and up to 16 characters, with room for
/// the `\W` enhanced-capability characters some meters add).
const MAX_IDENT_LINE: usize = 64;
/// Bits per character at 7E1: start, 7 data, parity, stop.
const BITS_PER_CHAR: u64 = 10;
/// Margin after the option select has left the port before switching speed: the meter reacts
/// no sooner than 200 ms after the message (the reaction time of IEC 62056-21 §6), so the
/// switch lands inside that window.
const SWITCH_MARGIN: Duration = Duration::from_millis(50);
/// Pause after a readout before the next sign-on, whatever the interval: the meter needs a
/// moment to fall back to 300 baud.
const MIN_PAUSE: Duration = Duration::from_secs(1);
/// The largest readout waited for ([`hearth_meter::iec62056_21::MAX_BLOCK_LEN`]).
const MAX_READOUT: u64 = hearth_meter::iec62056_21::MAX_BLOCK_LEN as u64;

/// The speed of a mode C baud character `0`-`6` (IEC 62056-21 §6.3, baud rate identification).
pub fn mode_c_speed(z: u8) -> Option<u32> {
    Some(match z {
        b'0' => 300,
        b'1' => 600,
        b'2' => 1200,
        b'3' => 2400,
        b'4' => 4800,
        b'5' => 9600,
        b'6' => 19_200,
        _ => return None,
    })
}

/// The speed of a mode B baud character `A`-`F` (`G`-`I` are reserved).
pub fn mode_b_speed(z: u8) -> Option<u32> {
    Some(match z {
        b'A' => 600,
        b'B' => 1200,
        b'C' => 2400,
        b'D' => 4800,
        b'E' => 9600,
        b'F' => 19_200,
        _ => return None,
    })
}

/// What the reader does after an identification line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Mode C: send this option select message, then switch to this speed.
    OptionSelect {
        /// `ACK 0 Z 0 CR LF`.
        message: [u8; 6],
        /// The speed named by its `Z`.
        baud: u32,
    },
    /// Mode B: the meter switches by itself right after the identification.
    Switch {
        /// The speed named by the identification.
        baud: u32,
    },
    /// Mode A: the readout follows at 300 baud.
    Stay,
}

/// The reply to the identification line `/XXXZ...` (without CR LF) of a meter read in `mode`,
/// never faster than `max_baud`; `None` if the line is not an identification (an echo of our
/// own request, noise).
pub fn answer(ident: &[u8], mode: IecMode, max_baud: Option<u32>) -> Option<Answer> {
    if ident.len() < 5 || ident[0] != b'/' || ident[1] == b'?' {
        return None;
    }
    if !ident[1..]
        .iter()
        .all(|b| b.is_ascii_graphic() || *b == b' ')
    {
        return None;
    }
    let z = ident[4];
    if let Some(offered) = mode_c_speed(z) {
        let cap = if mode == IecMode::A {
            300
        } else {
            max_baud.unwrap_or(u32::MAX)
        };
        // The fastest speed the meter offers and the source allows (300 always works).
        let (letter, baud) = (b'0'..=z)
            .rev()
            .filter_map(|c| mode_c_speed(c).map(|s| (c, s)))
            .find(|&(_, s)| s <= cap.max(300) && s <= offered)
            .unwrap_or((b'0', 300));
        return Some(Answer::OptionSelect {
            message: [ACK, b'0', letter, b'0', b'\r', b'\n'],
            baud,
        });
    }
    if let Some(baud) = mode_b_speed(z) {
        return Some(Answer::Switch { baud });
    }
    Some(Answer::Stay)
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Waiting for the next sign-on.
    Idle { at: Instant },
    /// The sign-on is out (or going out); collecting the identification line.
    Identification { deadline: Instant },
    /// The option select is out (or going out); switch to `baud` at `at`.
    Switch { at: Instant, baud: u32 },
    /// Reading the readout up to ETX and its BCC.
    Readout {
        /// No byte by then: the meter stopped.
        quiet_until: Instant,
        /// The readout must be complete by then.
        until: Instant,
        got: u64,
        stx: bool,
        etx: bool,
    },
}

/// A meter read through repeated sign-on conversations on an open port.
#[derive(Debug)]
pub(crate) struct Conversation {
    port: SerialStream,
    source: IecSource,
    answer_timeout: Duration,
    phase: Phase,
    /// Bytes still to write (the sign-on, the option select).
    out: Vec<u8>,
    /// The identification line being collected.
    line: Vec<u8>,
    /// When the current cycle's sign-on went out.
    cycle_start: Instant,
    /// The speed the port is set to.
    speed: u32,
}

fn timed_out(reason: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::TimedOut, reason)
}

impl Conversation {
    /// Starts conversations on `port`, open at 300 baud 7E1; the first sign-on goes out at once.
    pub(crate) fn new(port: SerialStream, source: IecSource, answer_timeout: Duration) -> Self {
        let now = Instant::now();
        Conversation {
            port,
            source,
            answer_timeout,
            phase: Phase::Idle { at: now },
            out: Vec::new(),
            line: Vec::new(),
            cycle_start: now,
            speed: 300,
        }
    }

    /// How long the line may stay quiet between two readouts without anything being wrong.
    pub(crate) fn quiet_between_readouts(&self) -> Duration {
        Duration::from_secs(u64::from(self.source.interval_s)) + self.answer_timeout * 2
    }

    fn set_speed(&mut self, baud: u32) -> std::io::Result<()> {
        if self.speed != baud {
            self.port
                .set_baud_rate(baud)
                .map_err(|e| std::io::Error::other(format!("cannot set {baud} baud: {e}")))?;
            self.speed = baud;
        }
        Ok(())
    }

    fn start_cycle(&mut self) -> std::io::Result<()> {
        self.set_speed(300)?;
        // Whatever arrived between readouts (a late tail, an echo) is not an answer.
        let _ = self.port.clear(tokio_serial::ClearBuffer::Input);
        let now = Instant::now();
        self.cycle_start = now;
        self.out = self.source.sign_on_request();
        self.line.clear();
        self.phase = Phase::Identification {
            deadline: now + self.answer_timeout,
        };
        Ok(())
    }

    fn start_readout(&mut self, now: Instant) {
        let transfer =
            Duration::from_millis(MAX_READOUT * BITS_PER_CHAR * 1000 / u64::from(self.speed));
        self.phase = Phase::Readout {
            quiet_until: now + self.answer_timeout,
            until: now + self.answer_timeout + transfer,
            got: 0,
            stx: false,
            etx: false,
        };
    }

    /// Follows the conversation through bytes the meter sent.
    fn observe(&mut self, bytes: &[u8], now: Instant) {
        let mut rest = bytes;
        while let Some((&b, tail)) = rest.split_first() {
            rest = tail;
            match &mut self.phase {
                Phase::Identification { .. } => {
                    if b != b'\n' {
                        if self.line.len() < MAX_IDENT_LINE {
                            self.line.push(b);
                        } else {
                            self.line.clear();
                        }
                        continue;
                    }
                    let line = std::mem::take(&mut self.line);
                    let line = line.strip_suffix(b"\r").unwrap_or(&line);
                    let start = line.iter().position(|&c| c == b'/').unwrap_or(line.len());
                    match answer(&line[start..], self.source.mode, self.source.baud) {
                        None => {}
                        Some(Answer::OptionSelect { message, baud }) => {
                            self.out = message.to_vec();
                            let on_wire = Duration::from_millis(
                                message.len() as u64 * BITS_PER_CHAR * 1000 / u64::from(self.speed),
                            );
                            self.phase = Phase::Switch {
                                at: now + on_wire + SWITCH_MARGIN,
                                baud,
                            };
                            // The meter says nothing until it has the option select.
                            return;
                        }
                        Some(Answer::Switch { baud }) => {
                            self.phase = Phase::Switch { at: now, baud };
                            return;
                        }
                        Some(Answer::Stay) => self.start_readout(now),
                    }
                }
                Phase::Readout {
                    quiet_until,
                    got,
                    stx,
                    etx,
                    ..
                } => {
                    *got += 1;
                    *quiet_until = now + self.answer_timeout;
                    if *etx {
                        // The BCC: the readout is complete (the decoder checks it).
                        let next = (self.cycle_start
                            + Duration::from_secs(u64::from(self.source.interval_s)))
                        .max(now + MIN_PAUSE);
                        self.phase = Phase::Idle { at: next };
                        return;
                    }
                    if b == STX {
                        *stx = true;
                    } else if b == ETX && *stx {
                        *etx = true;
                    }
                }
                Phase::Idle { .. } | Phase::Switch { .. } => return,
            }
        }
    }

    /// Reads the meter's next bytes, driving the conversation as needed; see the module docs.
    pub(crate) async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            while !self.out.is_empty() {
                let n = self.port.write(&self.out).await?;
                if n == 0 {
                    return Err(std::io::Error::from(std::io::ErrorKind::WriteZero));
                }
                self.out.drain(..n);
            }
            let deadline = match self.phase {
                Phase::Idle { at } => {
                    sleep_until(at).await;
                    self.start_cycle()?;
                    continue;
                }
                Phase::Switch { at, baud } => {
                    sleep_until(at).await;
                    self.set_speed(baud)?;
                    self.start_readout(Instant::now());
                    continue;
                }
                Phase::Identification { deadline } => deadline,
                Phase::Readout {
                    quiet_until, until, ..
                } => quiet_until.min(until),
            };
            match timeout_at(deadline, self.port.read(buf)).await {
                Ok(Ok(n)) => {
                    if n > 0 {
                        self.observe(&buf[..n], Instant::now());
                    }
                    return Ok(n);
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Err(timed_out(self.timeout_reason())),
            }
        }
    }

    /// Why the current step timed out, for the homeowner.
    fn timeout_reason(&self) -> String {
        let wait = crate::reader::seconds(self.answer_timeout);
        match self.phase {
            Phase::Readout { until, .. } if Instant::now() >= until => format!(
                "the readout did not end (wrong speed or noise on the line at {} baud)",
                self.speed
            ),
            Phase::Readout { got: 0, .. } if self.speed != 300 => format!(
                "the meter sent no readout after the switch to {} baud (if this repeats, limit \
                 the speed with baud=2400 or mode=a in the source)",
                self.speed
            ),
            Phase::Readout { got: 0, .. } => {
                format!("the meter sent no readout within {wait} of its identification")
            }
            Phase::Readout { .. } => "the meter stopped in the middle of its readout".to_owned(),
            _ => format!(
                "the meter did not answer the sign-on within {wait} (is the optical head \
                 on the meter's eye, cable side down?)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_follow_the_baud_character() {
        // Mode C, '5' = 9600 baud: ACK 0 5 0 CR LF.
        assert_eq!(
            answer(b"/ISk5MT174-0001", IecMode::C, None),
            Some(Answer::OptionSelect {
                message: *b"\x06050\r\n",
                baud: 9600
            })
        );
        // Capped at 2400 ('3'); mode A stays at 300 ('0').
        assert_eq!(
            answer(b"/ISk5MT174-0001", IecMode::C, Some(2400)),
            Some(Answer::OptionSelect {
                message: *b"\x06030\r\n",
                baud: 2400
            })
        );
        assert_eq!(
            answer(b"/ISk5MT174-0001", IecMode::A, Some(9600)),
            Some(Answer::OptionSelect {
                message: *b"\x06000\r\n",
                baud: 300
            })
        );
        // A cap that is no standard speed rounds down to one.
        assert_eq!(
            answer(b"/LGZ6ZMD3104100.B23", IecMode::C, Some(5000)),
            Some(Answer::OptionSelect {
                message: *b"\x06040\r\n",
                baud: 4800
            })
        );
        // Enhanced capability `\2` after Z changes nothing.
        assert_eq!(
            answer(b"/ISk5\\2MT382-1004", IecMode::C, None),
            Some(Answer::OptionSelect {
                message: *b"\x06050\r\n",
                baud: 9600
            })
        );
        // Mode B: 'E' = 9600 baud, switched without asking.
        assert_eq!(
            answer(b"/ABCE12345", IecMode::C, Some(2400)),
            Some(Answer::Switch { baud: 9600 })
        );
        // Mode A: any other character; reserved ones too.
        assert_eq!(answer(b"/ABCHxyz", IecMode::C, None), Some(Answer::Stay));
        assert_eq!(answer(b"/ABC9xyz", IecMode::C, None), Some(Answer::Stay));
        // Our own echoed request, short lines and binary noise are no identification.
        assert_eq!(answer(b"/?!", IecMode::C, None), None);
        assert_eq!(answer(b"/?12345678!", IecMode::C, None), None);
        assert_eq!(answer(b"/ISK", IecMode::C, None), None);
        assert_eq!(answer(b"/IS\x80K5x", IecMode::C, None), None);
        assert_eq!(answer(b"1.8.0(1*kWh)", IecMode::C, None), None);
    }

    #[test]
    fn every_speed_character() {
        let c: Vec<u32> = (b'0'..=b'6').filter_map(mode_c_speed).collect();
        assert_eq!(c, crate::source::IEC_SPEEDS);
        let b: Vec<u32> = (b'A'..=b'F').filter_map(mode_b_speed).collect();
        assert_eq!(b, crate::source::IEC_SPEEDS[1..]);
        assert_eq!(mode_c_speed(b'7'), None);
        assert_eq!(mode_b_speed(b'G'), None);
    }
}
