//! `hearth detect`: find the serial ports on this machine and which meter protocol each one
//! speaks at which settings.
//!
//! Every port is probed at once (one thread each) with the settings meters use, listening up
//! to `--seconds` per setting and stopping at the first recognised protocol. The result is a
//! table on stdout (or JSON with `--json`); progress goes to stderr. Exit status is 0 whenever
//! detection ran, whether or not a meter answered.

use crate::Global;
use hearth_meter_io::detect::{self, PortInfo, Probe, detected_name};
use serde_json::json;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

/// Options of `hearth detect`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Probe only this port (repeat for more); any device path works, listed or not.
    #[arg(long = "port", value_name = "PATH")]
    pub ports: Vec<String>,
    /// Seconds to listen at each setting (DSMR 4 and older meters send every 10 s).
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
    let listed = detect::list_ports()?;
    let ports: Vec<PortInfo> = if args.ports.is_empty() {
        listed
    } else {
        args.ports
            .iter()
            .map(|path| {
                listed
                    .iter()
                    .find(|p| &p.path == path)
                    .cloned()
                    .unwrap_or_else(|| PortInfo {
                        path: path.clone(),
                        kind: detect::PortKind::Other,
                    })
            })
            .collect()
    };
    if ports.is_empty() {
        eprintln!("hearth: no serial ports found (is the meter cable plugged in?)");
    }
    let probes: Vec<Option<Probe>> = if args.list {
        ports.iter().map(|_| None).collect()
    } else {
        if !ports.is_empty() {
            eprintln!(
                "hearth: listening on {} port(s) for up to {} s per setting...",
                ports.len(),
                args.seconds
            );
        }
        let window = Duration::from_secs_f64(args.seconds);
        std::thread::scope(|scope| {
            let handles: Vec<_> = ports
                .iter()
                .map(|p| scope.spawn(move || detect::probe(&p.path, window)))
                .collect();
            handles.into_iter().map(|h| h.join().ok()).collect()
        })
    };

    let mut out = std::io::stdout().lock();
    if args.json {
        let rows: Vec<_> = ports
            .iter()
            .zip(&probes)
            .map(|(port, probe)| json_row(port, probe.as_ref()))
            .collect();
        writeln!(out, "{}", serde_json::Value::Array(rows))?;
    } else {
        let rows: Vec<[String; 4]> = ports
            .iter()
            .zip(&probes)
            .map(|(port, probe)| text_row(port, probe.as_ref(), args.list))
            .collect();
        write_table(&mut out, &rows)?;
        for (port, probe) in ports.iter().zip(&probes) {
            if let Some(found) = probe.as_ref().and_then(|p| p.found) {
                writeln!(
                    out,
                    "use: hearth collect --source {}",
                    found.source(&port.path)
                )?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn text_row(port: &PortInfo, probe: Option<&Probe>, listing: bool) -> [String; 4] {
    let (settings, protocol) = match probe {
        Some(p) => match &p.found {
            Some(f) => (f.settings.to_string(), detected_name(f.detected).to_owned()),
            None => ("-".to_owned(), p.verdict()),
        },
        None if listing => ("-".to_owned(), "not probed".to_owned()),
        None => ("-".to_owned(), "probe failed".to_owned()),
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

fn json_row(port: &PortInfo, probe: Option<&Probe>) -> serde_json::Value {
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
    let found = probe.and_then(|p| p.found);
    json!({
        "port": port.path,
        "description": port.description(),
        "usb_vid": vid,
        "usb_pid": pid,
        "manufacturer": manufacturer,
        "product": product,
        "settings": found.map(|f| f.settings.to_string()),
        "source": found.map(|f| f.source(&port.path).to_string()),
        "protocol": found.map(|f| f.detected.protocol().name()),
        "encrypted": found.map(|f| f.detected == hearth_meter::auto::Detected::Smarty),
        "verdict": probe.map(Probe::verdict),
        "attempts": probe.map(|p| p.attempts.iter().map(|a| json!({
            "settings": a.settings.to_string(),
            "bytes": a.bytes,
            "protocol": a.detected.map(|d| d.protocol().name()),
            "error": a.error,
        })).collect::<Vec<_>>()),
    })
}
