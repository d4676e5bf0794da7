//! Probing ports for a meter: every port at once, each setting in turn, listening long enough
//! for a meter that sends every 10 s, and stopping a port at its first frame whose checksum
//! holds (decoded by the same decoders collection uses, [`AutoDecoder`]).
//!
//! The order and the windows follow from how meters talk:
//!
//! - Push meters (P1, HAN, SML) send on their own, whatever the line's settings: at a wrong
//!   baud rate their bytes still arrive, as garbage, at the same cadence. So the first push
//!   setting listens the whole [`Plan::window`] (11 s: DSMR 2.2 to 4 send every 10 s); a port
//!   silent all that time is silent at every push setting, which are then skipped.
//! - At a setting where bytes come in bursts (one burst a frame) but no protocol's start is
//!   seen, two whole bursts (each begun and ended inside the window) without a frame prove the
//!   setting wrong, and the next one is tried at once: a meter sending every second costs two
//!   seconds a setting, not eleven.
//! - A frame that fails its checksum (damaged bytes) does not end the search: it shows the
//!   setting is probably right, so the window is extended to one more whole window after it.
//! - A burst still arriving when the window ends gets to finish.
//! - The IEC 62056-21 sign-on comes last (300 baud 7E1, `/?!` CR LF); an optical meter answers
//!   within 1.5 s with its identification line.
//!
//! What counts as found: a frame that decodes into a reading (DSMR with a valid CRC, or a DSMR
//! 2.2/3 telegram without one that decodes; HDLC with a valid FCS; SML with a valid CRC; an
//! IEC 62056-21 readout with a valid BCC; RAVEn XML that parses); an encrypted frame (Smarty,
//! DLMS): found, needs the key, and the bytes are kept to check a key against
//! ([`Capture`]); a frame whose checksum holds but whose value list has no known layout; or an
//! IEC 62056-21 identification line answering the sign-on (the reader's conversation then
//! checks the readout's BCC).

use super::line::{Holder, Line, OpenFailure, Ports};
use crate::settings::SerialSettings;
use crate::source::{IecSource, Source};
use hearth_meter::auto::{AutoDecoder, Detected};
use hearth_meter::{Decoder as _, Reading, RejectReason};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Bytes of a setting kept for a key check (an encrypted frame is at most a few KiB).
const CAPTURE_LIMIT: usize = 64 * 1024;

/// How long to listen, and at what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The settings, in order (IEC 62056-21's 300 baud 7E1 is the sign-on).
    pub settings: Vec<SerialSettings>,
    /// The longest listen at a push setting (and the whole listen at the first one on a
    /// silent port).
    pub window: Duration,
    /// The listen after the IEC 62056-21 sign-on.
    pub sign_on_window: Duration,
    /// Silence that separates two bursts (frames) of bytes.
    pub burst_gap: Duration,
    /// Whole bursts without any protocol's start that end a setting early (0: never).
    pub wrong_after_bursts: u32,
    /// How long a burst still arriving at the end of the window may go on.
    pub burst_grace: Duration,
    /// How often the stop flag is looked at while waiting.
    pub poll: Duration,
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            settings: SerialSettings::COMMON.to_vec(),
            window: Duration::from_secs(11),
            sign_on_window: Duration::from_secs(4),
            burst_gap: Duration::from_millis(250),
            wrong_after_bursts: 2,
            burst_grace: Duration::from_secs(2),
            poll: Duration::from_millis(100),
        }
    }
}

impl Plan {
    /// The default plan with `window` at each push setting (the sign-on listen is capped by
    /// it too).
    pub fn with_window(window: Duration) -> Plan {
        let d = Plan::default();
        Plan {
            window,
            sign_on_window: d.sign_on_window.min(window),
            ..d
        }
    }
}

/// What a probe has to tell while it runs, for a progress display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeEvent {
    /// Probing `path` begins.
    PortStarted {
        /// The port.
        path: String,
    },
    /// Listening at `settings` for up to `window` (longer if a frame is damaged).
    Listening {
        /// The port.
        path: String,
        /// The setting.
        settings: SerialSettings,
        /// The planned listen.
        window: Duration,
    },
    /// A new burst of bytes came in at `settings`; `bytes` so far at this setting.
    BytesHeard {
        /// The port.
        path: String,
        /// The setting.
        settings: SerialSettings,
        /// Bytes received at this setting so far.
        bytes: usize,
    },
    /// A meter was found.
    Found {
        /// The port.
        path: String,
        /// The setting.
        settings: SerialSettings,
        /// The protocol.
        detected: Detected,
        /// Whether its frames are encrypted (the key is asked for next).
        needs_key: bool,
    },
    /// Probing `path` ended: `verdict` in words (what was found, or why nothing was).
    PortFinished {
        /// The port.
        path: String,
        /// Whether a meter was found.
        found: bool,
        /// The verdict, for a homeowner.
        verdict: String,
    },
}

/// The bytes of an encrypted meter heard at the setting it was found at, up to and including
/// its first whole frame: a key is checked against them.
#[derive(Clone, PartialEq, Eq)]
pub struct Capture {
    detected: Detected,
    bytes: Vec<u8>,
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture")
            .field("detected", &self.detected)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

impl Capture {
    /// A capture of `bytes` from a meter recognised as `detected`.
    pub fn new(detected: Detected, bytes: Vec<u8>) -> Capture {
        Capture { detected, bytes }
    }

    /// What the meter was recognised as (`Smarty`, or `Dlms` for an encrypted HAN port).
    pub fn detected(&self) -> Detected {
        self.detected
    }

    /// The bytes heard.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// What showed that a meter is on the port.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Evidence {
    /// A frame that passed its checksum and decoded: its reading.
    Reading(Box<Reading>),
    /// An encrypted frame; the key is needed to read it.
    Encrypted(Capture),
    /// A frame whose checksum holds but whose values come in a layout Hearth does not know.
    UnknownLayout(String),
    /// The identification line an IEC 62056-21 meter sent in answer to the sign-on.
    Identification(String),
}

/// A meter found on a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meter {
    /// The settings it talks at.
    pub settings: SerialSettings,
    /// Its protocol.
    pub detected: Detected,
    /// What showed it.
    pub evidence: Evidence,
}

impl Meter {
    /// Whether its frames are encrypted (the key is needed before collecting).
    pub fn needs_key(&self) -> bool {
        matches!(self.evidence, Evidence::Encrypted(_))
    }

    /// The source that reads it on `path`: the sign-on conversation for a meter that answered
    /// the IEC 62056-21 sign-on, the port at its settings for every meter that pushes.
    pub fn source(&self, path: &str) -> Source {
        if matches!(self.evidence, Evidence::Identification(_)) {
            Source::Iec62056(IecSource::sign_on(path))
        } else {
            Source::Serial {
                path: path.to_owned(),
                settings: self.settings,
            }
        }
    }
}

/// Why no meter was found on a port, in words a homeowner can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PortProblem {
    /// The device is not there.
    #[error("{path} is not there: is the meter cable plugged in?")]
    Missing {
        /// The port.
        path: String,
    },
    /// Not allowed to open it.
    #[error(
        "Hearth may not open {path}: your user is not in the 'dialout' group, which may use \
         serial ports. Run `sudo usermod -aG dialout $USER` in a terminal, then log out and \
         back in, and try again."
    )]
    PermissionDenied {
        /// The port.
        path: String,
    },
    /// Another program holds it.
    #[error("{}", busy_words(path, holder.as_ref()))]
    Busy {
        /// The port.
        path: String,
        /// Who holds it, if that can be told.
        holder: Option<Holder>,
    },
    /// Nothing came at any setting.
    #[error(
        "Nothing came from {path} in {} s. Check that the cable sits firmly in the meter's \
         P1 (or HAN) port and that the port is switched on: some grid operators enable it only \
         on request. An optical head must sit on the meter's infrared eye.",
        listened.as_secs_f64()
    )]
    Silent {
        /// The port.
        path: String,
        /// How long the first setting listened.
        listened: Duration,
    },
    /// Bytes came, but no frame that passed its checks.
    #[error("{}", unrecognised_words(path, *bytes, *looks_like, *rejected))]
    Unrecognised {
        /// The port.
        path: String,
        /// Bytes received over all settings.
        bytes: usize,
        /// A protocol whose start was seen, if any.
        looks_like: Option<Detected>,
        /// Frames rejected (checksum, framing).
        rejected: u64,
    },
    /// The port stopped answering while being probed (unplugged).
    #[error("{path} stopped answering ({reason}): was the cable pulled out?")]
    Lost {
        /// The port.
        path: String,
        /// What the system said.
        reason: String,
    },
    /// Any other failure to open the port.
    #[error("Hearth cannot open {path}: {reason}")]
    Other {
        /// The port.
        path: String,
        /// What the system said.
        reason: String,
    },
    /// The probe was stopped before it finished.
    #[error("stopped before {path} was probed to the end")]
    Stopped {
        /// The port.
        path: String,
    },
}

fn busy_words(path: &str, holder: Option<&Holder>) -> String {
    match holder {
        Some(Holder::Hearth) => format!(
            "{path} is in use by another Hearth (the desktop app or `hearth collect` reading \
             the meter already): stop that one first, or keep it; it already reads this port."
        ),
        Some(Holder::ModemManager) => format!(
            "{path} is in use by ModemManager, which opens new serial devices to look for \
             modems. Run `sudo systemctl disable --now ModemManager` (unless you use a mobile \
             modem), unplug the cable, plug it back in, and try again."
        ),
        Some(Holder::Program(name)) => {
            format!("{path} is in use by another program ({name}). Close it and try again.")
        }
        None => format!(
            "{path} is in use by another program (a second Hearth, a terminal program, or \
             ModemManager). Close it and try again."
        ),
    }
}

fn unrecognised_words(
    path: &str,
    bytes: usize,
    looks_like: Option<Detected>,
    rejected: u64,
) -> String {
    match looks_like {
        Some(d) if rejected > 0 => format!(
            "{path} sends what looks like {} data, but none of its {rejected} frames passed its \
             check: bytes are damaged on the way. Try another cable, or plug it in firmly.",
            super::detected_name(d)
        ),
        _ => format!(
            "{bytes} bytes came from {path}, but not in any format Hearth knows at any of the \
             usual settings. Is this the meter cable? If it is, enter its settings by hand \
             (serial:{path}:BAUD:FRAME)."
        ),
    }
}

/// What probing one port found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortReport {
    /// The port.
    pub path: String,
    /// The meter, or why none was found.
    pub result: Result<Meter, PortProblem>,
    /// Every setting tried, in order.
    pub attempts: Vec<super::Attempt>,
}

impl PortReport {
    /// A one-line verdict: `dsmr at 115200 8N1`, `dsmr (encrypted) at 115200 8N1, needs the
    /// key`, or the problem.
    pub fn verdict(&self) -> String {
        match &self.result {
            Ok(m) => {
                let mut v = format!("{} at {}", super::detected_name(m.detected), m.settings);
                if m.needs_key() {
                    v.push_str(", needs the key");
                }
                v
            }
            Err(p) => p.to_string(),
        }
    }
}

/// Probes every port in `paths` at once (a thread each) with `plan`, telling `on_event` what
/// happens; the reports come back in the order of `paths`. `stop` ends every probe early.
pub fn probe_ports(
    paths: &[String],
    ports: &dyn Ports,
    plan: &Plan,
    stop: &AtomicBool,
    on_event: &(dyn Fn(&ProbeEvent) + Sync),
) -> Vec<PortReport> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = paths
            .iter()
            .map(|p| scope.spawn(move || probe_port(p, ports, plan, stop, on_event)))
            .collect();
        handles
            .into_iter()
            .zip(paths)
            .map(|(h, path)| {
                h.join().unwrap_or_else(|_| PortReport {
                    path: path.clone(),
                    result: Err(PortProblem::Other {
                        path: path.clone(),
                        reason: "the probe failed".into(),
                    }),
                    attempts: Vec::new(),
                })
            })
            .collect()
    })
}

/// Probes one port with `plan` (see the module docs for the order and the windows).
pub fn probe_port(
    path: &str,
    ports: &dyn Ports,
    plan: &Plan,
    stop: &AtomicBool,
    on_event: &(dyn Fn(&ProbeEvent) + Sync),
) -> PortReport {
    on_event(&ProbeEvent::PortStarted {
        path: path.to_owned(),
    });
    let mut attempts = Vec::new();
    let mut silent = false;
    let mut result = None;
    for &settings in &plan.settings {
        if stop.load(Ordering::Relaxed) {
            result = Some(Err(PortProblem::Stopped {
                path: path.to_owned(),
            }));
            break;
        }
        let asks = settings == SerialSettings::IEC_START;
        if silent && !asks {
            continue;
        }
        let window = if asks {
            plan.sign_on_window
        } else {
            plan.window
        };
        let mut line = match ports.open(path, settings) {
            Ok(line) => line,
            Err(failure) => {
                let problem = open_problem(path, failure);
                attempts.push(super::Attempt {
                    settings,
                    bytes: 0,
                    detected: None,
                    error: Some(problem.to_string()),
                    sniffed: None,
                    rejected: 0,
                });
                result = Some(Err(problem));
                break;
            }
        };
        on_event(&ProbeEvent::Listening {
            path: path.to_owned(),
            settings,
            window,
        });
        let heard = listen(
            line.as_mut(),
            Setting {
                path,
                settings,
                asks,
                window,
            },
            plan,
            stop,
            on_event,
        );
        silent |= heard.attempt.bytes == 0 && !asks && heard.attempt.error.is_none();
        attempts.push(heard.attempt);
        if let Some(end) = heard.end {
            result = Some(end);
            break;
        }
    }
    let result = result.unwrap_or_else(|| Err(nothing_found(path, &attempts, plan)));
    if let Ok(m) = &result {
        on_event(&ProbeEvent::Found {
            path: path.to_owned(),
            settings: m.settings,
            detected: m.detected,
            needs_key: m.needs_key(),
        });
    }
    let report = PortReport {
        path: path.to_owned(),
        result,
        attempts,
    };
    on_event(&ProbeEvent::PortFinished {
        path: path.to_owned(),
        found: report.result.is_ok(),
        verdict: report.verdict(),
    });
    report
}

fn open_problem(path: &str, failure: OpenFailure) -> PortProblem {
    let path = path.to_owned();
    match failure {
        OpenFailure::Missing => PortProblem::Missing { path },
        OpenFailure::PermissionDenied => PortProblem::PermissionDenied { path },
        OpenFailure::Busy(holder) => PortProblem::Busy { path, holder },
        OpenFailure::Other(reason) => PortProblem::Other { path, reason },
    }
}

fn nothing_found(path: &str, attempts: &[super::Attempt], plan: &Plan) -> PortProblem {
    let bytes: usize = attempts.iter().map(|a| a.bytes).sum();
    if bytes == 0 {
        PortProblem::Silent {
            path: path.to_owned(),
            listened: plan.window,
        }
    } else {
        PortProblem::Unrecognised {
            path: path.to_owned(),
            bytes,
            looks_like: attempts.iter().find_map(|a| a.sniffed),
            rejected: attempts.iter().map(|a| a.rejected).sum(),
        }
    }
}

struct Setting<'a> {
    path: &'a str,
    settings: SerialSettings,
    asks: bool,
    window: Duration,
}

struct Heard {
    attempt: super::Attempt,
    /// The port's probe ends here: a meter, or a problem.
    end: Option<Result<Meter, PortProblem>>,
}

/// Bursts of bytes (frames, or the garbage a frame becomes at a wrong setting).
#[derive(Default)]
struct Bursts {
    last: Option<Duration>,
    in_burst: bool,
    current_whole: bool,
    whole: u32,
}

impl Bursts {
    /// Notes bytes at `t`; whether they begin a new burst.
    fn note(&mut self, t: Duration, start: Duration, gap: Duration) -> bool {
        let new = match self.last {
            None => true,
            Some(last) => t.saturating_sub(last) > gap,
        };
        if new {
            self.end();
            self.in_burst = true;
            // The first burst is whole only if it began after a silence since the port opened.
            self.current_whole = self.last.is_some() || t.saturating_sub(start) > gap;
        }
        self.last = Some(t);
        new
    }

    fn tick(&mut self, now: Duration, gap: Duration) {
        if self.in_burst && self.last.is_some_and(|l| now.saturating_sub(l) > gap) {
            self.end();
        }
    }

    fn end(&mut self) {
        if self.in_burst {
            self.whole += u32::from(self.current_whole);
            self.in_burst = false;
        }
    }
}

fn listen(
    line: &mut dyn Line,
    s: Setting<'_>,
    plan: &Plan,
    stop: &AtomicBool,
    on_event: &(dyn Fn(&ProbeEvent) + Sync),
) -> Heard {
    let mut attempt = super::Attempt {
        settings: s.settings,
        bytes: 0,
        detected: None,
        error: None,
        sniffed: None,
        rejected: 0,
    };
    let start = line.now();
    let mut deadline = start + s.window;
    let hard_end = start + s.window * 3;
    let mut decoder = AutoDecoder::new();
    let mut capture: Vec<u8> = Vec::new();
    let mut bursts = Bursts::default();
    let mut buf = [0u8; 1024];
    if s.asks {
        // IEC 62056-21 sign-on: ask any meter on the line for its identification.
        if let Err(e) = line.write(b"/?!\r\n") {
            attempt.error = Some(e.to_string());
        }
    }
    let found = |attempt: &mut super::Attempt, detected: Detected, evidence: Evidence| {
        attempt.detected = Some(detected);
        Some(Ok(Meter {
            settings: s.settings,
            detected,
            evidence,
        }))
    };
    loop {
        let now = line.now();
        bursts.tick(now, plan.burst_gap);
        if now >= deadline && !(bursts.in_burst && now < deadline + plan.burst_grace) {
            break;
        }
        if stop.load(Ordering::Relaxed) {
            return Heard {
                attempt,
                end: Some(Err(PortProblem::Stopped {
                    path: s.path.to_owned(),
                })),
            };
        }
        if !s.asks
            && plan.wrong_after_bursts > 0
            && decoder.detected().is_none()
            && bursts.whole >= plan.wrong_after_bursts
        {
            break;
        }
        let wait = deadline.saturating_sub(now).min(plan.poll);
        let wait = if wait.is_zero() { plan.poll } else { wait };
        let n = match line.read(&mut buf, wait) {
            Ok(n) => n,
            Err(e) => {
                attempt.error = Some(e.to_string());
                return Heard {
                    attempt,
                    end: Some(Err(PortProblem::Lost {
                        path: s.path.to_owned(),
                        reason: e.to_string(),
                    })),
                };
            }
        };
        if n == 0 {
            continue;
        }
        let t = line.now();
        attempt.bytes += n;
        if bursts.note(t, start, plan.burst_gap) {
            on_event(&ProbeEvent::BytesHeard {
                path: s.path.to_owned(),
                settings: s.settings,
                bytes: attempt.bytes,
            });
        }
        capture.extend_from_slice(&buf[..n]);
        if capture.len() > CAPTURE_LIMIT {
            let cut = capture.len() - CAPTURE_LIMIT;
            capture.drain(..cut);
        }
        decoder.push(&buf[..n]);
        attempt.sniffed = attempt.sniffed.or(decoder.detected());
        while let Some(result) = decoder.next() {
            let detected = decoder.detected().unwrap_or(Detected::Dsmr);
            match result {
                Ok(d) if !d.reading.is_empty() => {
                    let end = found(
                        &mut attempt,
                        detected,
                        Evidence::Reading(Box::new(d.reading)),
                    );
                    return Heard { attempt, end };
                }
                Ok(_) => {}
                Err(r) => match r.reason {
                    RejectReason::MissingKey => {
                        let evidence = Evidence::Encrypted(Capture::new(detected, capture));
                        let end = found(&mut attempt, detected, evidence);
                        return Heard { attempt, end };
                    }
                    RejectReason::UnknownLayout => {
                        let end = found(&mut attempt, detected, Evidence::UnknownLayout(r.detail));
                        return Heard { attempt, end };
                    }
                    _ => {
                        // Damaged, not wrong: most likely the right setting; give the meter
                        // one more whole window to send a good frame.
                        attempt.rejected += 1;
                        deadline = deadline.max((t + s.window).min(hard_end));
                    }
                },
            }
        }
        if s.asks
            && let Some(id) = identification(&capture)
        {
            let end = found(
                &mut attempt,
                Detected::Iec62056_21,
                Evidence::Identification(id),
            );
            return Heard { attempt, end };
        }
    }
    Heard { attempt, end: None }
}

/// The first IEC 62056-21 identification line among the complete lines of `bytes` (an optical
/// head may echo the sign-on before it).
fn identification(bytes: &[u8]) -> Option<String> {
    let complete = &bytes[..bytes.iter().rposition(|&b| b == b'\n')?];
    complete
        .split(|&b| b == b'\n')
        .find(|line| is_iec_identification(line))
        .map(|line| String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(line)).into_owned())
}

/// `/XXXZident` CR: `/`, three maker characters, a baud-rate character, an identification.
pub(crate) fn is_iec_identification(line: &[u8]) -> bool {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line.len() >= 6
        && line.len() <= 40
        && line[0] == b'/'
        && line[1..4].iter().all(u8::is_ascii_alphabetic)
        && line[4].is_ascii_alphanumeric()
        && line[5..].iter().all(|b| b.is_ascii_graphic() || *b == b' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identification_lines() {
        assert!(is_iec_identification(b"/ISK5ME162-0033\r"));
        assert!(is_iec_identification(b"/LGZ4ZMD3104100.B23"));
        assert!(!is_iec_identification(b"/?!\r"));
        assert!(!is_iec_identification(b"1-0:1.8.0(000123.456*kWh)"));
        assert!(!is_iec_identification(b"/A\x80CD5xyz"));
        // An echoed sign-on first, then the answer; an unfinished line is not read yet.
        assert_eq!(
            identification(b"/?!\r\n/ISK5ME162-0033\r\n").as_deref(),
            Some("/ISK5ME162-0033")
        );
        assert_eq!(identification(b"/?!\r\n/ISK5ME16"), None);
    }

    #[test]
    fn problems_in_words() {
        let busy = PortProblem::Busy {
            path: "/dev/ttyUSB0".into(),
            holder: Some(Holder::ModemManager),
        };
        assert!(
            busy.to_string().starts_with(
                "/dev/ttyUSB0 is in use by ModemManager, which opens new serial devices"
            )
        );
        let denied = PortProblem::PermissionDenied {
            path: "/dev/ttyUSB0".into(),
        };
        assert!(
            denied
                .to_string()
                .contains("'dialout' group, which may use serial ports. Run `sudo usermod -aG dialout $USER` in a terminal, then log out and back in")
        );
        let silent = PortProblem::Silent {
            path: "/dev/ttyUSB0".into(),
            listened: Duration::from_secs(11),
        };
        assert!(
            silent
                .to_string()
                .starts_with("Nothing came from /dev/ttyUSB0 in 11 s. Check that the cable")
        );
    }
}
