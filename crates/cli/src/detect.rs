//! `hearth detect`: find the serial ports on this machine and which meter protocol each one
//! speaks at which settings, with a preview of what it sends.
//!
//! Every port is probed at once ([`hearth_app::setup::find_meters`]): the first setting listens
//! up to `--seconds` (11 by default, for meters that send every 10 s), a wrong setting ends
//! after two bursts of garbage, and a port stops at its first frame that passes its checks.
//! The result is a table on stdout (or JSON with `--json`, with the source string to save);
//! progress goes to stderr. Exit status is 0 whenever detection ran, whether or not a meter
//! answered.

use crate::Global;
use hearth_app::setup::{self, FoundMeter, PortResult};
use hearth_meter_io::detect::{self, Plan, PortInfo, ProbeEvent};
use serde_json::json;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// Options of `hearth detect`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Probe only this port (repeat for more); any device path works, listed or not.
    #[arg(long = "port", value_name = "PATH")]
    pub ports: Vec<String>,
    /// Longest listen at each setting, in seconds (DSMR 4 and older meters send every 10 s).
    #[arg(long, value_name = "N", default_value_t = 11.0)]
    pub seconds: f64,
    /// Only list the ports, do not probe them.
    #[arg(long)]
    pub list: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs the command.
pub fn run(_global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    if !(args.seconds.is_finite() && args.seconds > 0.0 && args.seconds <= 600.0) {
        anyhow::bail!("--seconds must be between 0 and 600");
    }
    let mut out = std::io::stdout().lock();
    if args.list {
        let ports = detect::list_ports()?;
        if ports.is_empty() {
            eprintln!("hearth: {}", setup::FindError::NoPorts);
        }
        let rows: Vec<PortResult> = Vec::new();
        return print(&mut out, &args, &ports, &rows).map(|()| ExitCode::SUCCESS);
    }
    let plan = Plan::with_window(Duration::from_secs_f64(args.seconds));
    let progress = |e: &ProbeEvent| match e {
        ProbeEvent::Listening {
            path,
            settings,
            window,
        } => eprintln!(
            "hearth: {path}: listening at {settings} (up to {} s)",
            window.as_secs_f64()
        ),
        ProbeEvent::PortFinished { path, verdict, .. } => eprintln!("hearth: {path}: {verdict}"),
        _ => {}
    };
    let results = match setup::find_meters(&args.ports, &plan, &AtomicBool::new(false), &progress) {
        Ok(r) => r,
        Err(setup::FindError::NoPorts) => {
            eprintln!("hearth: {}", setup::FindError::NoPorts);
            Vec::new()
        }
        Err(e) => return Err(e.into()),
    };
    let ports: Vec<PortInfo> = results.iter().map(|r| r.port.clone()).collect();
    print(&mut out, &args, &ports, &results)?;
    Ok(ExitCode::SUCCESS)
}

fn print(
    out: &mut impl std::io::Write,
    args: &Args,
    ports: &[PortInfo],
    results: &[PortResult],
) -> anyhow::Result<()> {
    let result_of = |i: usize| results.get(i);
    if args.json {
        let rows: Vec<_> = ports
            .iter()
            .enumerate()
            .map(|(i, port)| json_row(port, result_of(i)))
            .collect();
        writeln!(out, "{}", serde_json::Value::Array(rows))?;
        return Ok(());
    }
    let rows: Vec<[String; 4]> = ports
        .iter()
        .enumerate()
        .map(|(i, port)| text_row(port, result_of(i)))
        .collect();
    write_table(out, &rows)?;
    for r in results {
        if let Ok(found) = &r.outcome {
            writeln!(out, "use: hearth collect --source {}", found.source_text)?;
            if let Some(line) = preview_line(found) {
                writeln!(out, "     {line}")?;
            }
        }
    }
    Ok(())
}

/// `meter …1234, 244 W now`, or what to do next.
fn preview_line(found: &FoundMeter) -> Option<String> {
    match &found.preview {
        Some(p) => {
            let mut parts = Vec::new();
            if let Some(id) = &p.meter_id_end {
                parts.push(format!("meter …{id}"));
            }
            if let Some(w) = p.watts {
                parts.push(format!("{w} W now"));
            }
            (!parts.is_empty()).then(|| parts.join(", "))
        }
        None if found.needs_key() => {
            Some("encrypted: add --key KEY (from your grid operator) to hearth collect".to_owned())
        }
        None => found.note.clone(),
    }
}

fn text_row(port: &PortInfo, result: Option<&PortResult>) -> [String; 4] {
    let (settings, protocol) = match result.map(|r| &r.outcome) {
        Some(Ok(f)) => (f.settings.to_string(), f.protocol.to_owned()),
        Some(Err(problem)) => ("-".to_owned(), problem.to_string()),
        None => ("-".to_owned(), "not probed".to_owned()),
    };
    [port.path.clone(), port.description(), settings, protocol]
}
fn write_table(out: &mut impl std::io::Write, rows: &[[String; 4]]) -> std::io::Result<()> {
    let header = ["PORT", "DESCRIPTION", "SETTINGS", "PROTOCOL"];
    let mut widths = header.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |out: &mut dyn std::io::Write, cells: [&str; 4]| {
        writeln!(
            out,
            "{:w0$}  {:w1$}  {:w2$}  {}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        )
    };
    line(out, header)?;
    for row in rows {
        line(out, [&row[0], &row[1], &row[2], &row[3]])?;
    }
    Ok(())
}

fn json_row(port: &PortInfo, result: Option<&PortResult>) -> serde_json::Value {
    let (vid, pid, manufacturer, product) = match &port.kind {
        detect::PortKind::Usb {
            vid,
            pid,
            manufacturer,
            product,
        } => (
            Some(format!("{vid:04x}")),
            Some(format!("{pid:04x}")),
            manufacturer.clone(),
            product.clone(),
        ),
        _ => (None, None, None, None),
    };
    let found = result.and_then(|r| r.outcome.as_ref().ok());
    let preview = found.and_then(|f| f.preview.as_ref());
    json!({
        "port": port.path,
        "description": port.description(),
        "usb_vid": vid,
        "usb_pid": pid,
        "manufacturer": manufacturer,
        "product": product,
        "settings": found.map(|f| f.settings.to_string()),
        "source": found.map(|f| f.source_text.clone()),
        "protocol": found.map(|f| f.detected.protocol().name()),
        "encrypted": found.map(FoundMeter::needs_key),
        "meter_id_end": preview.and_then(|p| p.meter_id_end.clone()),
        "watts": preview.and_then(|p| p.watts),
        "note": found.and_then(|f| f.note.clone()),
        "problem": result.and_then(|r| r.outcome.as_ref().err().map(ToString::to_string)),
        "verdict": result.map(|r| match &r.outcome {
            Ok(f) => format!("{} at {}", f.protocol, f.settings),
            Err(p) => p.to_string(),
        }),
    })
}
