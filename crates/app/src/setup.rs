//! Meter setup, as the wizard and Settings do it: find the meter on every serial port at once
//! ([`find_meters`], with progress events), preview what was found (protocol, the meter id's
//! last four characters, live watts) from its first frame or from any source
//! ([`preview`]: a serial port, a LAN bridge, a Wi-Fi meter), check an encrypted meter's key
//! against a frame it really sent ([`check_key`]), and hand back the whole source string to
//! save, settings and protocol included, so collection starts without another question.

use crate::collect::SourceSetup;
use crate::meter_keys::{self, KeyError};
use hearth_meter::auto::{AuthKey, Detected, Keys};
use hearth_meter::{Decoder as _, Quantity, Reading, RejectReason};
use hearth_meter_io::detect::{
    self, Capture, Evidence, Plan, PortInfo, PortKind, PortProblem, Ports, ProbeEvent,
};
use hearth_meter_io::{Event, ReaderOptions, SerialSettings, Source, Status};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// What a found meter shows before it is saved. Never the full meter id.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "PreviewDto"))]
pub struct Preview {
    /// The protocol (`dsmr`, `dlms`, `sml`, `iec62056-21`, `raven`, ...).
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub protocol: &'static str,
    /// The meter id's last four characters, when the meter sends an id.
    pub meter_id_end: Option<String>,
    /// Power now in watts, import minus export (negative: exporting), when the meter sends it.
    pub watts: Option<i64>,
    /// The import register in Wh, when the meter sends it.
    pub import_wh: Option<i64>,
}

impl Preview {
    /// The preview of a decoded reading.
    pub fn of(reading: &Reading) -> Preview {
        let import = reading.get(Quantity::ImportW);
        let export = reading.get(Quantity::ExportW);
        Preview {
            protocol: reading.protocol.name(),
            meter_id_end: reading.meter_id.as_ref().map(|id| {
                let s = id.as_str();
                let n = s.chars().count();
                s.chars().skip(n.saturating_sub(4)).collect()
            }),
            watts: (import.is_some() || export.is_some())
                .then(|| import.unwrap_or(0) - export.unwrap_or(0)),
            import_wh: reading.get(Quantity::ImportWh),
        }
    }
}

/// A meter found on a serial port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundMeter {
    /// The settings it talks at.
    pub settings: SerialSettings,
    /// What was recognised.
    pub detected: Detected,
    /// The protocol's short name (`dsmr`, `dsmr (encrypted)`, `dlms`, ...).
    pub protocol: &'static str,
    /// The source, complete with settings and protocol.
    pub source: Source,
    /// The same as text: what to save (`serial:/dev/ttyUSB0:115200:8N1`).
    pub source_text: String,
    /// What its first frame showed; `None` for an encrypted meter (ask for the key, then
    /// [`check_key`]), an IEC 62056-21 meter that answered the sign-on (its readout comes
    /// through [`preview`]), or values in an unknown layout.
    pub preview: Option<Preview>,
    /// An encrypted meter's first frame, to check a key against ([`check_key`]).
    pub capture: Option<Capture>,
    /// Anything the homeowner should know about what was found.
    pub note: Option<String>,
}

impl FoundMeter {
    /// Whether the meter's key is needed before collecting.
    pub fn needs_key(&self) -> bool {
        self.capture.is_some()
    }
}

/// What probing one port gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortResult {
    /// The port.
    pub port: PortInfo,
    /// The meter, or why none was found (homeowner words in its `Display`).
    pub outcome: Result<FoundMeter, PortProblem>,
}

/// A probed port as the desktop's window shows it: what was found there and the source to
/// save, or why nothing was, in words.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "FoundPortDto"))]
pub struct PortView {
    /// The device path.
    pub path: String,
    /// What the port is (`USB 0403:6001 FTDI …`).
    pub description: String,
    /// The protocol found.
    pub protocol: Option<String>,
    /// The settings it was found at (`115200 8N1`).
    pub settings: Option<String>,
    /// The whole source to save.
    pub source: Option<String>,
    /// The meter encrypts: its key is asked for and checked next.
    pub needs_key: bool,
    /// What its first frame showed.
    pub preview: Option<Preview>,
    /// Anything the homeowner should know about what was found.
    pub note: Option<String>,
    /// Why nothing was found (with what to do).
    pub problem: Option<String>,
}

impl From<&PortResult> for PortView {
    fn from(r: &PortResult) -> Self {
        let (found, problem) = match &r.outcome {
            Ok(m) => (Some(m), None),
            Err(p) => (None, Some(p.to_string())),
        };
        PortView {
            path: r.port.path.clone(),
            description: r.port.description(),
            protocol: found.map(|m| m.protocol.to_owned()),
            settings: found.map(|m| m.settings.to_string()),
            source: found.map(|m| m.source_text.clone()),
            needs_key: found.is_some_and(FoundMeter::needs_key),
            preview: found.and_then(|m| m.preview.clone()),
            note: found.and_then(|m| m.note.clone()),
            problem,
        }
    }
}

/// A step of the search, as the desktop's window shows it ([`ProbeEvent`] made plain).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "ProbeStepDto"))]
pub struct ProbeStep {
    /// The port.
    pub path: String,
    /// `started`, `listening`, `bytes`, `found` or `finished`.
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub stage: &'static str,
    /// The setting listened at (`2400 8E1`).
    pub settings: Option<String>,
    /// Seconds the listen at this setting may take.
    pub seconds: Option<f64>,
    /// Bytes heard at this setting so far.
    pub bytes: Option<usize>,
    /// The protocol found (`dsmr`, `dlms`, …).
    pub protocol: Option<String>,
    /// At the end: what was found, or why nothing was, in words.
    pub verdict: Option<String>,
}

impl From<&ProbeEvent> for ProbeStep {
    fn from(e: &ProbeEvent) -> Self {
        let step = |path: &String, stage| ProbeStep {
            path: path.clone(),
            stage,
            settings: None,
            seconds: None,
            bytes: None,
            protocol: None,
            verdict: None,
        };
        match e {
            ProbeEvent::PortStarted { path } => step(path, "started"),
            ProbeEvent::Listening {
                path,
                settings,
                window,
            } => ProbeStep {
                settings: Some(settings.to_string()),
                seconds: Some(window.as_secs_f64()),
                ..step(path, "listening")
            },
            ProbeEvent::BytesHeard {
                path,
                settings,
                bytes,
            } => ProbeStep {
                settings: Some(settings.to_string()),
                bytes: Some(*bytes),
                ..step(path, "bytes")
            },
            ProbeEvent::Found {
                path,
                settings,
                detected,
                ..
            } => ProbeStep {
                settings: Some(settings.to_string()),
                protocol: Some(detect::detected_name(*detected).to_owned()),
                ..step(path, "found")
            },
            ProbeEvent::PortFinished { path, verdict, .. } => ProbeStep {
                verdict: Some(verdict.clone()),
                ..step(path, "finished")
            },
        }
    }
}

/// Why the search could not run at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FindError {
    /// No serial port on this machine.
    #[error(
        "No serial port was found on this computer. Plug the meter cable (P1, HAN or optical \
         head) into a USB port and try again. A LAN bridge or a Wi-Fi meter is set up by its \
         address instead."
    )]
    NoPorts,
    /// The port list could not be read.
    #[error("{0}")]
    List(String),
}

/// Finds the meter: probes `only` (device paths), or every serial port on this machine when
/// `only` is empty, all at once with `plan` (use [`Plan::default`]: long enough for a meter
/// that sends every 10 s). Blocking (up to about half a minute when nothing answers; a minute
/// at most): run it on a blocking thread. `on_event` hears the progress, from several threads.
pub fn find_meters(
    only: &[String],
    plan: &Plan,
    stop: &AtomicBool,
    on_event: &(dyn Fn(&ProbeEvent) + Sync),
) -> Result<Vec<PortResult>, FindError> {
    let listed = detect::list_ports().map_err(|e| FindError::List(e.to_string()))?;
    let ports: Vec<PortInfo> = if only.is_empty() {
        listed
    } else {
        only.iter()
            .map(|path| {
                listed
                    .iter()
                    .find(|p| &p.path == path)
                    .cloned()
                    .unwrap_or_else(|| PortInfo {
                        path: path.clone(),
                        kind: PortKind::Other,
                    })
            })
            .collect()
    };
    if ports.is_empty() {
        return Err(FindError::NoPorts);
    }
    Ok(find_meters_on(
        &ports,
        &detect::SerialPorts,
        plan,
        stop,
        on_event,
    ))
}

/// [`find_meters`] on chosen ports opened through `opener` (a fake in tests).
pub fn find_meters_on(
    ports: &[PortInfo],
    opener: &dyn Ports,
    plan: &Plan,
    stop: &AtomicBool,
    on_event: &(dyn Fn(&ProbeEvent) + Sync),
) -> Vec<PortResult> {
    let paths: Vec<String> = ports.iter().map(|p| p.path.clone()).collect();
    let reports = detect::probe_ports(&paths, opener, plan, stop, on_event);
    ports
        .iter()
        .zip(reports)
        .map(|(port, report)| PortResult {
            port: port.clone(),
            outcome: report.result.map(|m| {
                let source = m.source(&port.path);
                let (preview, capture, note) = match m.evidence {
                    Evidence::Reading(r) => (Some(Preview::of(&r)), None, None),
                    Evidence::Encrypted(c) => (
                        None,
                        Some(c),
                        Some(
                            "The meter encrypts its data: enter the key your grid operator \
                             sent (32 hexadecimal digits)."
                                .to_owned(),
                        ),
                    ),
                    Evidence::UnknownLayout(_) => (
                        None,
                        None,
                        Some(
                            "The meter answers, but sends its values in an order Hearth does \
                             not know yet, so none can be shown or stored."
                                .to_owned(),
                        ),
                    ),
                    Evidence::Identification(id) => (
                        None,
                        None,
                        Some(format!(
                            "An optical meter answered ({}); its values come with the first \
                             readout.",
                            id.trim_start_matches('/')
                        )),
                    ),
                    _ => (None, None, None),
                };
                FoundMeter {
                    settings: m.settings,
                    detected: m.detected,
                    protocol: detect::detected_name(m.detected),
                    source_text: source.to_string(),
                    source,
                    preview,
                    capture,
                    note,
                }
            }),
        })
        .collect()
}

/// Why a preview or a key check showed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PreviewError {
    /// The source could not be opened or connected to.
    #[error("{0}")]
    CannotOpen(String),
    /// The connection ended before a frame came.
    #[error("{0}")]
    Lost(String),
    /// Nothing came before the time was up.
    #[error(
        "Nothing came from the meter in {} s. Check the cable or the address, and that the \
         meter's port is switched on.",
        .0.as_secs_f64()
    )]
    Nothing(Duration),
    /// Bytes came, but no frame passed its checks.
    #[error(
        "Data came from the meter, but no frame passed its checks ({0}). Check the cable and \
         the settings."
    )]
    NoFrame(String),
    /// The meter encrypts its frames and no key was given.
    #[error(
        "The meter encrypts its data: enter the key your grid operator sent (32 hexadecimal \
         digits)."
    )]
    NeedsKey,
    /// The key was given, as typed, wrong.
    #[error(transparent)]
    KeyFormat(#[from] KeyError),
    /// No key was typed.
    #[error("Type the meter key (32 hexadecimal digits) your grid operator sent.")]
    NoKey,
    /// The key does not open the meter's frames.
    #[error(
        "This key does not open the meter's data. Check it against the letter from your grid \
         operator (0 and O, 1 and I look alike); if the operator also sent an authentication \
         key, enter it too."
    )]
    WrongKey,
    /// The encryption key is right but the authentication key is not.
    #[error(
        "The meter key is right, but the authentication key is not: check it, or leave it \
         empty if your grid operator sent only one key."
    )]
    WrongAuthKey,
    /// Frames pass their checks but their values come in an unknown layout.
    #[error(
        "The meter answers, but sends its values in an order Hearth does not know yet, so \
         none can be shown or stored."
    )]
    UnknownLayout,
}

/// Reads `source` through the reader collection uses, until its first frame that decodes
/// into a reading (or `timeout`): its preview. Works for every source (serial port, IEC
/// 62056-21 sign-on, LAN bridge, MQTT broker, Wi-Fi meter). `setup` carries the keys of an
/// encrypted meter and an MQTT password (`SourceSetup::default()` when there are none).
pub async fn preview(
    source: &Source,
    setup: SourceSetup,
    timeout: Duration,
) -> Result<Preview, PreviewError> {
    let options = ReaderOptions {
        // Long enough for a 10-s meter between frames: the timeout ends the wait.
        silence: timeout + Duration::from_secs(1),
        ..ReaderOptions::default()
    };
    let mut reader = crate::collect::reader(
        source.clone(),
        setup,
        jiff::tz::TimeZone::UTC,
        crate::clock::system(),
        options,
    )
    .map_err(|e| PreviewError::CannotOpen(e.to_string()))?;
    let mut last_rejection: Option<String> = None;
    let mut lost: Option<String> = None;
    let mut connected = false;
    let first = tokio::time::timeout(timeout, async {
        while let Some(event) = reader.next().await {
            match event {
                Event::Decoded(d) if !d.reading.is_empty() => return Ok(Preview::of(&d.reading)),
                Event::Decoded(_) => {}
                Event::Rejected(r) => match r.reason {
                    RejectReason::MissingKey => return Err(PreviewError::NeedsKey),
                    RejectReason::Authentication => return Err(PreviewError::WrongKey),
                    RejectReason::UnknownLayout => return Err(PreviewError::UnknownLayout),
                    _ => last_rejection = Some(r.to_string()),
                },
                Event::Status(Status::Failed { reason }) => {
                    return Err(PreviewError::CannotOpen(reason));
                }
                // Never opened: say why at once (a missing port, no permission).
                Event::Status(Status::Reconnecting { reason, .. }) if !connected => {
                    return Err(PreviewError::CannotOpen(reason));
                }
                Event::Status(Status::Connected { .. }) => connected = true,
                // The reader opens it again (an optical meter still busy with an earlier
                // sign-on answers the next one); said at the end if nothing comes.
                Event::Status(Status::Disconnected { reason }) => lost = Some(reason),
                Event::Status(_) => {}
            }
        }
        Err(PreviewError::NoFrame(
            last_rejection
                .clone()
                .unwrap_or_else(|| "the source ended".into()),
        ))
    })
    .await;
    match first {
        Ok(result) => result,
        Err(_) if reader.bytes_read() == 0 => Err(match lost {
            Some(reason) => PreviewError::Lost(reason),
            None => PreviewError::Nothing(timeout),
        }),
        Err(_) => Err(PreviewError::NoFrame(last_rejection.unwrap_or_else(|| {
            format!("{} bytes in no known format", reader.bytes_read())
        }))),
    }
}

/// Checks the key (and authentication key: empty for the usual one, `none` for none) as typed
/// against the encrypted frame the probe captured: the preview when it opens the frame, a
/// clear error when it does not. Store the keys ([`meter_keys::store`]) after this succeeds.
pub fn check_key(
    capture: &Capture,
    key_text: &str,
    auth_text: &str,
) -> Result<Preview, PreviewError> {
    let keys = meter_keys::parse(key_text, auth_text)?.ok_or(PreviewError::NoKey)?;
    match open_capture(capture, keys) {
        Err(PreviewError::WrongKey) if !matches!(keys.auth_key, AuthKey::Skip) => {
            // Does the key open it without the tag check? Then the authentication key is wrong.
            let without = Keys {
                auth_key: AuthKey::Skip,
                ..keys
            };
            match open_capture(capture, without) {
                Ok(_) => Err(PreviewError::WrongAuthKey),
                Err(_) => Err(PreviewError::WrongKey),
            }
        }
        other => other,
    }
}

fn open_capture(capture: &Capture, keys: Keys) -> Result<Preview, PreviewError> {
    let mut decoder = meter_keys::auto_decoder(Some(keys));
    decoder.push(capture.bytes());
    let mut verdict = Err(PreviewError::NoFrame(
        "the captured frame is incomplete".into(),
    ));
    let mut results = Vec::new();
    while let Some(result) = decoder.next() {
        results.push(result);
    }
    results.extend(decoder.finish());
    for result in results {
        match result {
            Ok(d) if !d.reading.is_empty() => return Ok(Preview::of(&d.reading)),
            Ok(_) => {}
            Err(r) => match r.reason {
                RejectReason::Authentication | RejectReason::Payload => {
                    verdict = Err(PreviewError::WrongKey);
                }
                RejectReason::UnknownLayout => verdict = Err(PreviewError::UnknownLayout),
                RejectReason::MissingKey => verdict = Err(PreviewError::NeedsKey),
                // A frame cut at the start of the capture, before the one that counts.
                _ => {}
            },
        }
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_meter::{MeterId, Protocol};

    #[test]
    fn a_preview_shows_the_last_four_of_the_id_and_the_net_power() {
        let mut r = Reading::new(Protocol::Dsmr);
        r.meter_id = Some(MeterId::new("E0044007123456789"));
        r.set(Quantity::ImportW, 120);
        r.set(Quantity::ExportW, 2_020);
        let p = Preview::of(&r);
        assert_eq!(p.meter_id_end.as_deref(), Some("6789"));
        assert_eq!(p.watts, Some(-1_900));
        assert_eq!(p.protocol, "dsmr");
        let empty = Preview::of(&Reading::new(Protocol::Sml));
        assert_eq!((empty.meter_id_end, empty.watts), (None, None));
    }
}
