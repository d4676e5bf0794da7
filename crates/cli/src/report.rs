//! `hearth report`: energy and cost for a period under one or more contracts (a bill check).
//!
//! Readings come from the vault (quarter-hour rollups) or, with `--readings FILE.jsonl`, from
//! JSON Lines as `hearth decode` prints them. Contracts come from `--tariff FILE` (repeatable),
//! or else from the vault's settings named `tariff/<name>` (contract TOML). The JSON output is
//! the design §5 contract: `from`, `to`, `import_kwh`, `export_kwh`, `estimated_kwh` and one
//! `contracts` entry per contract with its `cost` split into energy, tax, fixed, capacity,
//! gas, export credit, VAT and total, and a top-level `gas_m3` (gas used, priced only by a
//! contract with `[gas]`).

use crate::Global;
use anyhow::{Context, bail};
use hearth_app::bounded_read::{Cap, Lines};
use hearth_insight::{Contract, Money, Report, Usage, UsageBuilder, UsageOptions, UsageStats};
use hearth_meter::Reading;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};

pub(crate) use hearth_app::costs::{kwh, m3};
use std::process::ExitCode;

/// Output format.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One JSON object (design §5).
    Json,
    /// A table for people.
    Text,
}

/// Options of `hearth report`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// First local date of the period (YYYY-MM-DD).
    #[arg(long, value_parser = hearth_app::period::parse_day)]
    pub from: Date,
    /// First local date after the period (exclusive).
    #[arg(long, value_parser = hearth_app::period::parse_day)]
    pub to: Date,
    /// A contract file (TOML); repeat to compare contracts. Default: the vault's contracts.
    #[arg(long = "tariff", value_name = "FILE")]
    pub tariffs: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Read readings from JSON Lines (`hearth decode` output) instead of the vault.
    #[arg(long, value_name = "FILE.jsonl")]
    pub readings: Option<PathBuf>,
}

/// Runs the command.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    if args.to <= args.from {
        bail!(
            "--to ({}) must be after --from ({}); --to is the first day not included",
            args.to,
            args.from
        );
    }
    let mut input = Input::open(global, args.readings.as_deref())?;
    let contracts = load_contracts(&args.tariffs, input.vault.as_ref())?;
    let tz = zone(&contracts, input.vault.as_ref());
    let from = local_midnight(args.from, &tz)?;
    let to = local_midnight(args.to, &tz)?;
    let (report, stats) = match &input.vault {
        Some(v) => {
            let r = hearth_app::costs::report(v, &contracts, from, to)?;
            (r.report, r.stats)
        }
        None => {
            let usage = input.usage(from, to)?;
            (
                hearth_insight::report(&usage, &contracts, from, to)?,
                usage.stats,
            )
        }
    };
    warn_about_input(stats);
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => writeln!(out, "{}", report_json(&report, args.from, args.to))?,
        Format::Text => write_text(&mut out, &report, args.from, args.to, &contracts)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Where readings come from.
pub(crate) struct Input {
    file: Option<PathBuf>,
    pub(crate) vault: Option<hearth_vault::Vault>,
}

impl Input {
    /// The readings file if given, else the vault (read-only, so collection can go on).
    pub(crate) fn open(global: &Global, readings: Option<&Path>) -> anyhow::Result<Input> {
        if let Some(f) = readings {
            return Ok(Input {
                file: Some(f.to_owned()),
                vault: None,
            });
        }
        let vault = crate::unlock::open_reader(global)?;
        Ok(Input {
            file: None,
            vault: Some(vault),
        })
    }

    /// Streams the readings of `[from, to)` into quarter hours (a day of margin on each side
    /// so intervals that cross the edges are split exactly); from the vault, its quarter-hour
    /// rollups exactly as the desktop reads them ([`hearth_app::usage::from_vault`]).
    pub(crate) fn usage(&mut self, from: Timestamp, to: Timestamp) -> anyhow::Result<Usage> {
        if let Some(v) = &self.vault {
            return Ok(hearth_app::usage::from_vault(v, from, to)?);
        }
        let mut b = UsageBuilder::new(from, to, UsageOptions::default());
        if let Some(path) = &self.file {
            let f = std::fs::File::open(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let mut bad = 0u64;
            let mut implausible = 0u64;
            let lines = Lines::new(std::io::BufReader::new(f), Cap::JSON_LINE);
            for (i, line) in lines.enumerate() {
                let line = line.with_context(|| format!("cannot read {}", path.display()))?;
                if line.trim().is_empty() {
                    continue;
                }
                match Reading::from_json(&line) {
                    Ok(mut r) => {
                        // Checked as an import checks it (`hearth_meter::plausible`).
                        implausible += hearth_meter::plausible::check(&mut r).len() as u64;
                        b.push(&r);
                    }
                    Err(e) => {
                        bad += 1;
                        if bad <= 3 {
                            eprintln!("hearth: {}:{}: skipped: {e}", path.display(), i + 1);
                        }
                    }
                }
            }
            if bad > 3 {
                eprintln!(
                    "hearth: {bad} lines of {} were not readings and were skipped",
                    path.display()
                );
            }
            if implausible > 0 {
                eprintln!(
                    "hearth: {}: {implausible} implausible field(s) dropped (the rest of each \
                     reading kept)",
                    path.display()
                );
            }
        }
        Ok(b.finish())
    }
}

/// Contracts from files (each `prices_csv` beside its file), or the vault's stored ones
/// (`tariff/<name>` settings, with their price files stored beside them).
pub(crate) fn load_contracts(
    files: &[PathBuf],
    vault: Option<&hearth_vault::Vault>,
) -> anyhow::Result<Vec<Contract>> {
    let mut out = Vec::new();
    for f in files {
        out.push(
            hearth_app::contracts::load_file(f).with_context(|| format!("in {}", f.display()))?,
        );
    }
    if files.is_empty()
        && let Some(v) = vault
    {
        out = hearth_app::contracts::load_stored(v)?;
    }
    // What a contract does that is probably not meant (overlapping periods): said, not fatal.
    for (i, c) in out.iter().enumerate() {
        let source = files.get(i).map_or_else(
            || format!("stored contract \"{}\"", c.name),
            |f| f.display().to_string(),
        );
        for w in &c.warnings {
            eprintln!("hearth: warning: in {source}: {w}");
        }
    }
    Ok(out)
}

/// Local dates are read in the first contract's zone, else the vault's, else the system's.
pub(crate) fn zone(contracts: &[Contract], vault: Option<&hearth_vault::Vault>) -> TimeZone {
    contracts
        .first()
        .map(|c| c.time_zone.clone())
        .or_else(|| vault.map(|v| v.time_zone().clone()))
        .unwrap_or_else(TimeZone::system)
}

pub(crate) fn local_midnight(d: Date, tz: &TimeZone) -> anyhow::Result<Timestamp> {
    hearth_meter::time::local_midnight(d, tz)
        .with_context(|| format!("{d} has no midnight in this time zone"))
}

pub(crate) fn warn_about_input(s: UsageStats) {
    if s.damaged > 0 {
        eprintln!(
            "hearth: {} damaged part(s) of the vault skipped: their quarter hours count as \
             missing (`hearth verify` names them)",
            s.damaged
        );
    }
    if s.resets > 0 {
        eprintln!(
            "hearth: {} register reset(s) or meter change(s): energy across them is not counted",
            s.resets
        );
    }
    if s.implausible > 0 {
        eprintln!(
            "hearth: {} impossible register jump(s) ignored",
            s.implausible
        );
    }
    if s.gas_resets > 0 {
        eprintln!(
            "hearth: {} gas register reset(s) or gas meter change(s): gas across them is not \
             counted",
            s.gas_resets
        );
    }
    if s.gas_implausible > 0 {
        eprintln!(
            "hearth: {} impossible gas register jump(s) ignored",
            s.gas_implausible
        );
    }
    if s.out_of_order > 0 {
        eprintln!(
            "hearth: {} reading(s) out of time order skipped",
            s.out_of_order
        );
    }
}

pub(crate) fn money(m: Money) -> f64 {
    m.to_f64_cents()
}

fn report_json(r: &Report, from: Date, to: Date) -> Value {
    let contracts: Vec<Value> = r
        .contracts
        .iter()
        .map(|c| {
            let k = &c.cost;
            json!({
                "name": c.name,
                "currency": c.currency,
                "cost": {
                    "energy": money(k.energy),
                    "tax": money(k.tax),
                    "fixed": money(k.fixed),
                    "capacity": money(k.capacity),
                    "gas": money(k.gas),
                    "export_credit": money(k.export_credit),
                    "vat": money(k.vat),
                    "total": money(k.total),
                },
            })
        })
        .collect();
    json!({
        "from": from.to_string(),
        "to": to.to_string(),
        "import_kwh": kwh(r.import_mwh),
        "export_kwh": kwh(r.export_mwh),
        "estimated_kwh": kwh(r.estimated_mwh),
        "gas_m3": m3(r.gas_cm3),
        "contracts": contracts,
    })
}

fn write_text(
    out: &mut impl Write,
    r: &Report,
    from: Date,
    to: Date,
    contracts: &[Contract],
) -> std::io::Result<()> {
    writeln!(
        out,
        "Period        {from} to {to} (last day {})",
        to.yesterday().unwrap_or(to)
    )?;
    writeln!(out, "Imported      {:>10.3} kWh", kwh(r.import_mwh))?;
    writeln!(out, "Exported      {:>10.3} kWh", kwh(r.export_mwh))?;
    if r.estimated_mwh > 0 {
        writeln!(
            out,
            "  estimated   {:>10.3} kWh (spread over gaps in the readings)",
            kwh(r.estimated_mwh)
        )?;
    }
    if r.gas_cm3 != 0 {
        writeln!(out, "Gas           {:>10.3} m³", m3(r.gas_cm3))?;
    }
    if r.missing_s > 0 {
        writeln!(
            out,
            "  no readings for {:.1} hours of the period",
            r.missing_s as f64 / 3600.0
        )?;
    }
    if contracts.is_empty() {
        writeln!(
            out,
            "\nNo contract given: pass --tariff FILE (examples in assets/tariffs/)."
        )?;
    }
    for (c, contract) in r.contracts.iter().zip(contracts) {
        let k = &c.cost;
        let cur = &c.currency;
        writeln!(out, "\n{} ({cur})", c.name)?;
        if k.priced.0 >= k.priced.1 {
            writeln!(out, "  not valid in this period")?;
            continue;
        }
        if (k.priced.0, k.priced.1) != (r.from, r.to) {
            let tz = &contract.time_zone;
            let show = |u: i64| hearth_meter::MeterTime::in_zone(u, tz).to_string();
            writeln!(
                out,
                "  valid for part of the period: {} to {}",
                show(k.priced.0),
                show(k.priced.1)
            )?;
        }
        for p in k
            .periods
            .iter()
            .filter(|p| p.import_mwh != 0 || p.export_mwh != 0)
        {
            writeln!(
                out,
                "  {:<12} {:>10.3} kWh in {:>10} {:>10.3} kWh out {:>10}",
                p.name,
                kwh(p.import_mwh),
                p.energy.to_string(),
                kwh(p.export_mwh),
                p.export_credit.to_string()
            )?;
        }
        for (label, m) in [
            ("energy", k.energy),
            ("tax", k.tax),
            ("fixed", k.fixed),
            ("capacity", k.capacity),
            ("gas", k.gas),
            ("export credit", -k.export_credit),
            ("VAT", k.vat),
        ] {
            if m != Money::ZERO {
                writeln!(out, "  {label:<14} {:>12}", m.to_string())?;
            }
        }
        for m in &k.months {
            writeln!(
                out,
                "    capacity {}: {:.3} kW -> {} (pays {})",
                m.month.strftime("%Y-%m"),
                m.demand_w as f64 / 1000.0,
                m.charge,
                m.paid
            )?;
        }
        writeln!(out, "  {:<14} {:>12}", "total", k.total.to_string())?;
    }
    Ok(())
}
