//! `hearth export`: readings or interval totals as CSV (RFC 4180, UTF-8, design.md §3 names
//! plus `estimated`), streamed to stdout or a file chunk by chunk by the export use case the
//! desktop shares (`hearth_app::export`: never over the vault, an existing file only with
//! `--force`).

use crate::Global;
use crate::unlock::open_reader;
use hearth_app::export::{self, Request};
use hearth_vault::Resolution;
use std::io::BufWriter;
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
    /// Write to this file instead of standard output (never the vault itself; an existing
    /// file only with `--force`).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace the `--out` file if it exists.
    #[arg(long, requires = "out")]
    pub force: bool,
}

/// Runs the command.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let vault = open_reader(global)?;
    let (from, to) = export::range(args.from.as_deref(), args.to.as_deref(), vault.time_zone())?;
    let req = Request {
        from,
        to,
        resolution: args.resolution,
        decimal_comma: args.decimal_comma,
    };
    let n = match &args.out {
        Some(path) => export::to_file(&vault, &req, path, args.force, |_| {})?,
        None => {
            let out = BufWriter::new(std::io::stdout().lock());
            match export::to_writer(&vault, &req, out, |_| {}) {
                Ok(n) => n,
                // The reader went away (`hearth export | head`): an ordinary ending.
                Err(e) => {
                    let e = anyhow::Error::from(e);
                    if crate::is_broken_pipe(&e) {
                        return Ok(ExitCode::SUCCESS);
                    }
                    return Err(e);
                }
            }
        }
    };
    eprintln!("exported {n} rows ({})", args.resolution);
    Ok(ExitCode::SUCCESS)
}
