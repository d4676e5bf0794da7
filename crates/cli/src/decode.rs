//! `hearth decode`: meter bytes (a capture file or stdin) in, one JSON reading per line out.
//!
//! Each accepted frame becomes one JSON object with the canonical names (design.md §3) on
//! stdout; each rejected frame one line with its reason on stderr. The input is read in
//! chunks and decoded as it streams, so a year of captures never sits in memory. Exit status
//! is 0 when the input was empty or at least one frame was accepted (however many others were
//! rejected), and 1 when bytes came but not a single reading (garbage, the wrong protocol or
//! baud rate, a missing key), so scripts notice (#17). Every reading is checked for
//! plausibility (`hearth_meter::plausible`): a field no household meter reports is dropped
//! from it (told with `--verbose`, counted in `--stats`).
//!
//! `--explain` prints instead, per frame, how it is read (for a report on a meter Hearth does
//! not know), meter ids masked to their last four characters: for DLMS/COSEM the framing,
//! security, APDU type, the list's layout and each element with its type, raw value, scaler
//! and the field it went to; for DSMR, SML, IEC 62056-21 and RAVEn the checksum sent and
//! computed, and each line, list entry or element with its raw value and the field it went to
//! (or "unmapped"), and any value dropped as implausible.

use crate::Global;
use anyhow::Context as _;
use hearth_meter::Decoder;
use hearth_meter::Protocol;
use hearth_meter::auto::{self, AuthKey, Keys};
use hearth_meter::explain::{self, ExplainKeys};
use hearth_meter::{RejectReason, Stats};
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// The protocols `--protocol` accepts.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ProtocolArg {
    /// Recognise the protocol from the bytes.
    #[default]
    Auto,
    /// DSMR P1 telegrams (NL, BE, LU Smarty, SE, ...).
    Dsmr,
    /// DLMS/COSEM push: HDLC frames (Nordic HAN), wired M-Bus frames (Austria), bare APDUs
    /// (0F, DB, E6 E7 00, E0) and hex text dumps of any of them (one frame per line or
    /// wrapped; spaces or ':' between bytes; a log prefix before the hex is ignored). A bare
    /// encrypted APDU needs --auth-key.
    Dlms,
    /// SML 1.04 (German meters).
    Sml,
    /// IEC 62056-21 optical readouts.
    #[value(name = "iec62056-21")]
    Iec62056_21,
    /// Rainforest RAVEn / EMU-2 XML.
    Raven,
    /// Hildebrand Glow MQTT payloads, one per line (optionally `TOPIC PAYLOAD`, as
    /// `mosquitto_sub -v` prints them).
    Glow,
}

/// Options of `hearth decode`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The meter protocol of the input.
    #[arg(long, value_enum, default_value_t = ProtocolArg::Auto)]
    pub protocol: ProtocolArg,
    /// Keys of a meter that encrypts its frames.
    #[command(flatten)]
    pub keys: crate::meter_keys::KeyArgs,
    /// Print only a summary ("N accepted, N rejected") on stderr, no readings.
    #[arg(long)]
    pub stats: bool,
    /// Also show, on stderr, lines of accepted frames that could not be read.
    #[arg(long, short)]
    pub verbose: bool,
    /// Explain, per frame, how the capture is read: framing, checksum, security, and each
    /// value with its raw text, unit or type, scaler and the field it went to, or "unmapped",
    /// and any value dropped as implausible (meter ids masked to their last four characters).
    /// DSMR, SML, IEC 62056-21, RAVEn and DLMS/COSEM (HDLC, M-Bus or a bare APDU); at most
    /// 4 MiB.
    #[arg(long, conflicts_with = "stats")]
    pub explain: bool,
    /// The capture file; `-` or nothing reads standard input.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
}

fn decoder(args: &Args, keys: Option<Keys>) -> anyhow::Result<Box<dyn Decoder + Send>> {
    let protocol = match args.protocol {
        ProtocolArg::Auto => {
            return Ok(Box::new(crate::meter_keys::auto_decoder(keys)));
        }
        ProtocolArg::Dsmr => Protocol::Dsmr,
        ProtocolArg::Dlms => Protocol::Dlms,
        ProtocolArg::Sml => Protocol::Sml,
        ProtocolArg::Iec62056_21 => Protocol::Iec62056_21,
        ProtocolArg::Raven => Protocol::Raven,
        ProtocolArg::Glow => Protocol::Glow,
    };
    auto::decoder(protocol, keys.as_ref())
        .with_context(|| format!("no decoder for {protocol} in this build"))
}

/// "86400 accepted, 2 rejected (checksum 1, framing 1)", and ", 3 implausible field(s)
/// dropped" when a reading held values no household meter reports.
fn summary(stats: &Stats) -> String {
    let mut s = format!("{} accepted, {} rejected", stats.accepted, stats.rejected());
    let reasons: Vec<String> = RejectReason::ALL
        .iter()
        .filter(|r| stats.rejected_for(**r) > 0)
        .map(|r| format!("{} {}", r.name(), stats.rejected_for(*r)))
        .collect();
    if !reasons.is_empty() {
        s.push_str(&format!(" ({})", reasons.join(", ")));
    }
    if stats.implausible > 0 {
        s.push_str(&format!(
            ", {} implausible field(s) dropped",
            stats.implausible
        ));
    }
    s
}

/// Runs the command.
pub fn run(_global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let keys = args.keys.keys()?;
    if args.explain {
        return explain(&args, keys);
    }
    let mut decoder = decoder(&args, keys)?;
    let mut input: Box<dyn Read> = match &args.file {
        None => Box::new(io::stdin().lock()),
        Some(p) if p.as_os_str() == "-" => Box::new(io::stdin().lock()),
        Some(p) => Box::new(File::open(p).with_context(|| format!("cannot open {}", p.display()))?),
    };
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(64 * 1024, stdout.lock());
    let stderr = io::stderr();
    let mut err = stderr.lock();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut line = String::with_capacity(1024);
    let mut frame: u64 = 0;
    loop {
        let n = match input.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).context("reading the input"),
        };
        decoder.push(&chunk[..n]);
        while let Some(result) = decoder.next() {
            if let Some(code) = emit(&args, result, &mut frame, &mut line, &mut out, &mut err)? {
                return Ok(code);
            }
        }
    }
    // The end of the input may complete a last frame that needs no terminator.
    while let Some(result) = decoder.finish() {
        if let Some(code) = emit(&args, result, &mut frame, &mut line, &mut out, &mut err)? {
            return Ok(code);
        }
    }
    if let Err(e) = out.flush() {
        return broken_pipe_or(e);
    }
    let stats = decoder.stats();
    if args.stats {
        // The summary is the data asked for, so it goes to stdout.
        if let Err(e) = writeln!(out, "{}", summary(stats)).and_then(|()| out.flush()) {
            return broken_pipe_or(e);
        }
    }
    if frame == 0 && stats.skipped_bytes > 0 {
        let _ = writeln!(
            err,
            "hearth: no meter frame found in {} bytes (wrong protocol, baud rate or key?)",
            stats.skipped_bytes
        );
    }
    let unknown = stats.rejected_for(RejectReason::UnknownLayout);
    if unknown > 0 {
        let _ = writeln!(
            err,
            "hearth: {unknown} frame(s) in a layout Hearth does not know for this meter: nothing of them was stored; `hearth decode --explain FILE` shows what the meter sent (meter ids masked), for a report"
        );
    }
    // Bytes came, yet no reading: nothing usable was read.
    let read_something = stats.skipped_bytes > 0 || stats.rejected() > 0;
    Ok(if stats.accepted == 0 && read_something {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Writes one decoded frame (JSON line) or rejection (stderr). `Some(code)` ends the run
/// (the reader of stdout went away).
fn emit(
    args: &Args,
    result: Result<hearth_meter::Decoded, hearth_meter::Rejection>,
    frame: &mut u64,
    line: &mut String,
    out: &mut impl Write,
    err: &mut impl Write,
) -> anyhow::Result<Option<ExitCode>> {
    *frame += 1;
    let frame = *frame;
    if args.stats {
        return Ok(None);
    }
    match result {
        Ok(decoded) => {
            line.clear();
            decoded.reading.write_json(line);
            line.push('\n');
            if let Err(e) = out.write_all(line.as_bytes()) {
                return broken_pipe_or(e).map(Some);
            }
            if args.verbose {
                for d in &decoded.diagnostics {
                    let _ = writeln!(
                        err,
                        "hearth: frame {frame}, line {} ({}): {}",
                        d.line, d.code, d.message
                    );
                }
            }
        }
        Err(rejection) => {
            let _ = writeln!(err, "hearth: frame {frame} rejected: {rejection}");
        }
    }
    Ok(None)
}

/// `--explain`: reads the whole capture (bounded) and prints each frame's explanation.
fn explain(args: &Args, keys: Option<Keys>) -> anyhow::Result<ExitCode> {
    let protocol = match args.protocol {
        ProtocolArg::Auto => None,
        ProtocolArg::Dsmr => Some(Protocol::Dsmr),
        ProtocolArg::Dlms => Some(Protocol::Dlms),
        ProtocolArg::Sml => Some(Protocol::Sml),
        ProtocolArg::Iec62056_21 => Some(Protocol::Iec62056_21),
        ProtocolArg::Raven => Some(Protocol::Raven),
        ProtocolArg::Glow => {
            anyhow::bail!(
                "--explain reads DLMS/COSEM, DSMR, SML, IEC 62056-21 and RAVEn captures; a Glow \
                 payload is JSON, readable as it is"
            )
        }
    };
    let input: Box<dyn Read> = match &args.file {
        None => Box::new(io::stdin().lock()),
        Some(p) if p.as_os_str() == "-" => Box::new(io::stdin().lock()),
        Some(p) => Box::new(File::open(p).with_context(|| format!("cannot open {}", p.display()))?),
    };
    let limit = explain::MAX_CAPTURE;
    let mut bytes = Vec::new();
    input
        .take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .context("reading the input")?;
    if bytes.len() > limit {
        anyhow::bail!(
            "--explain reads at most {} MiB; cut a few frames out of the capture",
            limit >> 20
        );
    }
    let explain_keys = match &keys {
        None => ExplainKeys {
            smarty_default_auth: true,
            ..ExplainKeys::default()
        },
        Some(k) => ExplainKeys {
            key: Some(&k.key),
            auth_key: match &k.auth_key {
                AuthKey::Key(ak) => Some(ak),
                AuthKey::Default | AuthKey::Skip => None,
            },
            smarty_default_auth: matches!(k.auth_key, AuthKey::Default),
        },
    };
    let tz = hearth_meter::dlms::default_time_zone();
    let frames = explain::explain_capture(protocol, &bytes, explain_keys, &tz);
    if frames.is_empty() {
        eprintln!(
            "hearth: no meter frame found to explain (--explain reads DSMR telegrams, SML \
             frames, IEC 62056-21 readouts, RAVEn XML and DLMS/COSEM captures: HDLC, M-Bus or a \
             bare APDU)"
        );
        return Ok(ExitCode::FAILURE);
    }
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    for f in &frames {
        if let Err(e) = write!(out, "{f}") {
            return broken_pipe_or(e);
        }
    }
    if let Err(e) = out.flush() {
        return broken_pipe_or(e);
    }
    Ok(ExitCode::SUCCESS)
}

/// A closed pipe (`hearth decode … | head`) ends the output quietly; other errors are real.
fn broken_pipe_or(e: io::Error) -> anyhow::Result<ExitCode> {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(e).context("writing the readings")
    }
}
