//! `hearth export`: readings or interval totals as CSV (RFC 4180, UTF-8, design.md §3 names
//! plus `estimated`), streamed to stdout or a file chunk by chunk.

use crate::Global;
use crate::unlock::open_reader;
use anyhow::{Context as _, bail};
use hearth_vault::{CsvOptions, Resolution, write_csv};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Export formats.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    /// Comma-separated values (semicolons with `--decimal-comma`).
    #[default]
    Csv,
}

/// Options of `hearth export`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// First local date (`2026-01-01`, midnight in the vault's time zone) or RFC 3339 time.
    /// Default: the beginning.
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// End, exclusive: a local date or RFC 3339 time. Default: no end.
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// raw (every reading), 1m, 15m, 1h, 1d or 1mo (energy used per interval).
    #[arg(long, default_value = "1h")]
    pub resolution: Resolution,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
    /// Decimal comma and `;` between fields, for spreadsheets in such locales.
    #[arg(long, alias = "locale-decimal-comma")]
    pub decimal_comma: bool,
    /// Write to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Runs the command.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let vault = open_reader(global)?;
    let tz = vault.time_zone().clone();
    let from = args
        .from
        .as_deref()
        .map(|s| parse_bound(s, &tz))
        .transpose()?
        .unwrap_or(i64::MIN / 2);
    let to = args
        .to
        .as_deref()
        .map(|s| parse_bound(s, &tz))
        .transpose()?
        .unwrap_or(i64::MAX / 2);
    if to <= from {
        bail!("--to must be after --from");
    }
    let options = CsvOptions {
        decimal_comma: args.decimal_comma,
    };
    let rows = vault.readings(from, to, args.resolution)?;
    let n = match &args.out {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            let mut w = BufWriter::new(file);
            let n = write_csv(rows, args.resolution, &tz, &mut w, &options)?;
            w.flush()?;
            n
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = BufWriter::new(stdout.lock());
            let n = write_csv(rows, args.resolution, &tz, &mut w, &options)?;
            w.flush()?;
            n
        }
    };
    eprintln!("exported {n} rows ({})", args.resolution);
    Ok(ExitCode::SUCCESS)
}

/// A local date (midnight in `tz`) or an RFC 3339 instant, as Unix seconds.
pub(crate) fn parse_bound(s: &str, tz: &TimeZone) -> anyhow::Result<i64> {
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Ok(ts.as_second());
    }
    let date: Date = s.parse().with_context(|| {
        format!("'{s}' is not a date (2026-01-31) or a time (2026-01-31T12:00:00+01:00)")
    })?;
    let zoned = date
        .to_zoned_datetime(tz.clone())
        .with_context(|| format!("'{s}' does not exist in the vault's time zone"))?;
    Ok(zoned.timestamp().as_second())
}
