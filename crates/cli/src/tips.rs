//! `hearth tips`: savings tips computed from the household's own readings (design §5).
//!
//! By default the last 12 months up to now; `--from/--to` choose another period (and then
//! "now" is the end of it). Contracts come from `--tariff FILE` (the first valid now is the
//! current one, the others are compared against it) or the vault's stored contracts. The JSON
//! output is an array of tips with `kind`, `summary`, `kwh_per_year`, `money_per_year`,
//! `currency`, `confidence` and `evidence`. `--lang nl|de|fr|nb|sv|da|fi` words the summaries
//! (and the text format's own lines) in that language, as the desktop does; the JSON's field names and
//! evidence values (dates, times, numbers) are the same in every language.

use crate::Global;
use crate::report::{
    Format, Input, kwh, load_contracts, local_midnight, money, warn_about_input, zone,
};
use anyhow::bail;
use hearth_insight::Lang;
use hearth_insight::tips::{Tip, tips};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde_json::{Map, Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Options of `hearth tips`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A contract file (TOML); repeat to compare. Default: the vault's contracts.
    #[arg(long = "tariff", value_name = "FILE")]
    pub tariffs: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// First local date to look at (default: a year before today).
    #[arg(long, requires = "to", value_parser = hearth_app::period::parse_day)]
    pub from: Option<Date>,
    /// First local date not looked at (exclusive); also taken as "now".
    #[arg(long, requires = "from", value_parser = hearth_app::period::parse_day)]
    pub to: Option<Date>,
    /// Read readings from JSON Lines (`hearth decode` output) instead of the vault.
    #[arg(long, value_name = "FILE.jsonl")]
    pub readings: Option<PathBuf>,
    /// The language of the tips' sentences.
    #[arg(long, value_enum, default_value = "en")]
    pub lang: LangArg,
}

/// A language `hearth tips` speaks.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LangArg {
    /// English.
    En,
    /// Dutch.
    Nl,
    /// German.
    De,
    /// French.
    Fr,
    /// Norwegian Bokmål.
    Nb,
    /// Swedish.
    Sv,
    /// Danish.
    Da,
    /// Finnish.
    Fi,
}

impl From<LangArg> for Lang {
    fn from(l: LangArg) -> Lang {
        match l {
            LangArg::En => Lang::En,
            LangArg::Nl => Lang::Nl,
            LangArg::De => Lang::De,
            LangArg::Fr => Lang::Fr,
            LangArg::Nb => Lang::Nb,
            LangArg::Sv => Lang::Sv,
            LangArg::Da => Lang::Da,
            LangArg::Fi => Lang::Fi,
        }
    }
}

/// Runs the command.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let mut input = Input::open(global, args.readings.as_deref())?;
    let contracts = load_contracts(&args.tariffs, input.vault.as_ref())?;
    let tz = zone(&contracts, input.vault.as_ref());
    let (from, to) = match (args.from, args.to) {
        (Some(f), Some(t)) => {
            if t <= f {
                bail!("--to ({t}) must be after --from ({f})");
            }
            (local_midnight(f, &tz)?, local_midnight(t, &tz)?)
        }
        // The one place a clock is read: the command line's "now".
        _ => hearth_app::tips::window(Timestamp::now(), &tz)?,
    };
    let (found, stats) = match &input.vault {
        Some(v) => {
            let t = hearth_app::tips::tips(v, &contracts, from, to, &tz)?;
            (t.tips, t.stats)
        }
        None => {
            let usage = input.usage(from, to)?;
            (tips(&usage, &contracts, &[], to, &tz), usage.stats)
        }
    };
    warn_about_input(stats);
    let lang = Lang::from(args.lang);
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let arr: Vec<Value> = found.iter().map(|t| tip_json(t, lang, &tz)).collect();
            writeln!(out, "{}", Value::Array(arr))?;
        }
        Format::Text => {
            if found.is_empty() {
                writeln!(out, "{}", lang.no_tips())?;
            }
            for t in &found {
                writeln!(
                    out,
                    "* {} {}",
                    lang.tip_summary(&t.message),
                    lang.tip_confidence(t.confidence)
                )?;
            }
            if contracts.is_empty() {
                writeln!(out, "\n{}", lang.tips_need_a_contract())?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn tip_json(t: &Tip, lang: Lang, tz: &TimeZone) -> Value {
    let e = &t.evidence;
    let mut ev = Map::new();
    if let Some(s) = e.since {
        ev.insert("since".into(), json!(s.to_string()));
    }
    if let Some(w) = e.watts {
        ev.insert("watts".into(), json!(w));
    }
    if !e.times.is_empty() {
        let times: Vec<String> = e
            .times
            .iter()
            .map(|u| hearth_meter::MeterTime::in_zone(*u, tz).to_string())
            .collect();
        ev.insert("times".into(), json!(times));
    }
    if !e.contracts.is_empty() {
        let cs: Vec<Value> = e
            .contracts
            .iter()
            .map(|c| json!({ "name": c.name, "per_year": money(c.per_year) }))
            .collect();
        ev.insert("contracts".into(), Value::Array(cs));
    }
    if !e.series.is_empty() {
        let s: Vec<Value> = e
            .series
            .iter()
            .map(|(l, v)| json!({ "label": l, "value": v }))
            .collect();
        ev.insert("series".into(), Value::Array(s));
    }
    json!({
        "kind": t.kind.name(),
        "summary": lang.tip_summary(&t.message),
        "kwh_per_year": kwh(t.wh_per_year.saturating_mul(1000)),
        "money_per_year": t.money_per_year.map(money),
        "currency": t.currency,
        "confidence": (t.confidence * 100.0).round() / 100.0,
        "evidence": Value::Object(ev),
    })
}
