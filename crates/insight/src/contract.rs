//! Energy contracts: the TOML contract file of design §5, read into exact, validated rules.
//!
//! A contract says what a moment's energy costs: a flat price, time-of-use periods (first
//! match wins, by local weekday/holiday and wall time, or by the meter's own tariff switch),
//! or dynamic prices from a CSV file; plus tax per kWh, fixed charges, export credit, net
//! metering, a capacity charge and VAT. Every amount is read from its literal text, so
//! `0.0503` is exactly 0.0503. Errors name the line of the file and say what to change.
//!
//! Parsing reads no files: a dynamic contract names its price file (`prices_csv`), and the
//! caller hands over that file's text ([`PriceFiles`]), read from beside the contract file or
//! from wherever the contract is stored.

use crate::money::{Money, Percent, Price};
use crate::prices::{PriceError, PriceSeries};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use toml::Spanned;

/// Bit for a day type in [`Period::days`]: Monday is bit 0 … Sunday bit 6, holidays bit 7.
pub const HOLIDAY: u8 = 7;
const DAY_NAMES: [&str; 8] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "hol"];
const ALL_DAYS: u8 = 0xff;
/// Minutes in a day; `to = "24:00"` is accepted as the end of the day.
const DAY_MIN: u16 = 24 * 60;

/// A validated contract.
#[derive(Clone, Debug)]
pub struct Contract {
    /// Shown to the user.
    pub name: String,
    /// ISO 4217 code, e.g. `EUR`.
    pub currency: String,
    /// Where periods, days and months are counted.
    pub time_zone: TimeZone,
    /// The zone's name as written.
    pub time_zone_name: String,
    /// First local day the contract applies (inclusive).
    pub valid_from: Option<Date>,
    /// First local day it no longer applies (exclusive).
    pub valid_to: Option<Date>,
    /// VAT on everything (`total = (charges - export credit) × (1 + vat)`).
    pub vat: Percent,
    /// Dates that count as day `hol`.
    pub holidays: Vec<Date>,
    /// Charge per local calendar day.
    pub fixed_per_day: Money,
    /// Charge per calendar month, pro rata days/days_in_month for partial months.
    pub fixed_per_month: Money,
    /// Tax on every imported kWh (after net metering).
    pub tax_per_kwh: Price,
    /// What imported energy costs.
    pub import: Pricing,
    /// What exported energy earns (`Pricing::Flat(0)` when the file has no `[export]`).
    pub export: Pricing,
    /// Export first cancels import of the same period name within the range.
    pub net_metering: bool,
    /// Optional capacity (demand) charge.
    pub capacity: Option<Capacity>,
    /// Optional gas prices (`[gas]`): gas from the meter's gas register is priced only when
    /// the contract has them.
    pub gas: Option<Gas>,
    /// What in the file works but is probably not what was meant (overlapping periods), in
    /// the file's order; for the caller to show, never an error.
    pub warnings: Vec<ContractWarning>,
}

/// How energy is priced.
#[derive(Clone, Debug)]
pub enum Pricing {
    /// One price at every moment.
    Flat(Price),
    /// Time-of-use periods; the first that matches wins.
    Periods(Vec<Period>),
    /// Prices per hour or quarter-hour from a CSV file, plus a markup.
    Dynamic {
        /// The prices.
        prices: PriceSeries,
        /// Added to every price.
        markup: Price,
    },
}

/// One time-of-use period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Period {
    /// Shown to the user; net metering cancels by name.
    pub name: String,
    /// Day types as bits ([`HOLIDAY`] and Monday = bit 0).
    pub days: u8,
    /// Local wall-time window in minutes `[from, to)`; `to < from` wraps midnight. `None` =
    /// the whole day.
    pub window: Option<(u16, u16)>,
    /// Matches only energy the meter registered on this tariff (1 or 2).
    pub meter_tariff: Option<u8>,
    /// Price per kWh.
    pub price: Price,
}

/// A capacity (demand) charge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Capacity {
    /// Belgium: each month pays `price_per_kw_year / 12 × max(min_kw, highest 15-min mean kW)`.
    MonthlyPeak {
        /// Per kW per year.
        price_per_kw_year: Price,
        /// The minimum billed demand, in W.
        min_w: i64,
    },
    /// Norway: the mean of the three highest hourly kWh on three different days of the month
    /// picks a step; a mean above every step pays the last.
    Top3DailyHourly {
        /// Ascending steps.
        steps: Vec<Step>,
    },
}

/// What gas costs (`[gas]`): every m³ from the gas register at `price_per_m3 + tax_per_m3`,
/// plus standing charges per local day and per calendar month (pro rata like `[fixed]`). Every
/// amount excludes VAT, which is on the contract's whole sum.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Gas {
    /// Price per m³ (a [`Price`] per m³ has the scale of a price per kWh).
    pub price_per_m3: Price,
    /// Tax per m³ (e.g. the Dutch energiebelasting on gas).
    pub tax_per_m3: Price,
    /// Standing charge per local calendar day.
    pub per_day: Money,
    /// Standing charge per calendar month, pro rata days/days_in_month for partial months.
    pub per_month: Money,
}

/// One step of a Norwegian capacity ladder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The step applies up to this mean demand, in W (inclusive).
    pub up_to_w: i64,
    /// Charge per month.
    pub per_month: Money,
}

/// Which energy a price lookup is for: registered on meter tariff 1 or 2, or unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tag {
    /// The meter did not say which tariff was active.
    Untagged,
    /// Meter tariff register 1.
    T1,
    /// Meter tariff register 2.
    T2,
}

/// Why a contract file cannot be used. Each message says where and what to change.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContractError {
    /// The file could not be read (by whoever reads contract files: parsing reads none).
    #[error("cannot read the contract file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The TOML is malformed or has an unknown or mistyped field.
    #[error("contract file, line {line}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// What the TOML reader said.
        message: String,
    },
    /// A value is out of range or contradicts another.
    #[error("contract file, line {line}: {message}")]
    Invalid {
        /// 1-based line.
        line: usize,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The dynamic price file is unusable.
    #[error("contract file, line {line}: price file {path}: {source}")]
    Prices {
        /// Line of `prices_csv`.
        line: usize,
        /// The price file.
        path: PathBuf,
        /// The cause.
        source: PriceError,
    },
}

/// Something in a contract file that Hearth uses as written but that is probably not what was
/// meant. Parsing returns these on [`Contract::warnings`]; each displays as one message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContractWarning {
    /// Two time-of-use periods of one side both match some moments. The one listed first
    /// applies there (as for every period: the first that matches wins), so the later one
    /// never does at those moments. A catch-all listed later (no `days`, `from` or `to`) is
    /// the usual way to cover the rest and is not reported.
    OverlappingPeriods {
        /// `"import"` or `"export"`.
        side: &'static str,
        /// The period listed first: it applies where both match.
        first: PeriodAt,
        /// The period listed later: it does not apply there.
        second: PeriodAt,
        /// Day types on which both match, as bits ([`HOLIDAY`] and Monday = bit 0).
        days: u8,
        /// Local wall times at which both match, in minutes `[from, to)`; `to < from` wraps
        /// midnight, `(0, 1440)` is the whole day.
        times: Vec<(u16, u16)>,
    },
}

/// Which time-of-use period a [`ContractWarning`] is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeriodAt {
    /// Its name.
    pub name: String,
    /// The line of its `name` in the file (1-based).
    pub line: usize,
    /// Its day types as bits.
    pub days: u8,
    /// Its window in local minutes (`None` = the whole day).
    pub window: Option<(u16, u16)>,
}

fn hh_mm(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// `Mon, Tue, Sat, holidays` or `every day`.
fn day_list(bits: u8) -> String {
    if bits == ALL_DAYS {
        return "every day".to_owned();
    }
    const SHOWN: [&str; 8] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "holidays"];
    (0..8)
        .filter(|i| bits & (1 << i) != 0)
        .map(|i| SHOWN[i])
        .collect::<Vec<_>>()
        .join(", ")
}

fn window_text(window: Option<(u16, u16)>) -> String {
    match window {
        None | Some((0, DAY_MIN)) => "all day".to_owned(),
        Some((from, to)) => format!("{}-{}", hh_mm(from), hh_mm(to)),
    }
}

impl std::fmt::Display for PeriodAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "\"{}\" (line {}: {} {})",
            self.name,
            self.line,
            day_list(self.days),
            window_text(self.window)
        )
    }
}

impl std::fmt::Display for ContractWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ContractWarning::OverlappingPeriods {
                side,
                first,
                second,
                days,
                times,
            } => {
                let times = times
                    .iter()
                    .map(|w| window_text(Some(*w)))
                    .collect::<Vec<_>>()
                    .join(" and ");
                write!(
                    f,
                    "contract file, line {}: [[{side}.period]] {second} overlaps {first} on {} {times}; \
                     there \"{}\" applies, since the first period that matches wins (change their \
                     days or hours if your contract says otherwise)",
                    second.line,
                    day_list(*days),
                    first.name
                )
            }
        }
    }
}

/// The pairs of periods (first listed, later) that both match some moment, for every later
/// period that is not a catch-all (no days, no window).
fn overlaps(side: &'static str, periods: &[Period], lines: &[usize]) -> Vec<ContractWarning> {
    let mut out = Vec::new();
    let at = |i: usize| PeriodAt {
        name: periods[i].name.clone(),
        line: lines[i],
        days: periods[i].days,
        window: periods[i].window,
    };
    let inside = |w: Option<(u16, u16)>, minute: u16| match w {
        None => true,
        Some((from, to)) if from < to => minute >= from && minute < to,
        Some((from, to)) => minute >= from || minute < to,
    };
    for (j, later) in periods.iter().enumerate() {
        if later.days == ALL_DAYS && later.window.is_none() {
            continue;
        }
        for (i, first) in periods[..j].iter().enumerate() {
            let days = first.days & later.days;
            let same_energy = match (first.meter_tariff, later.meter_tariff) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            if days == 0 || !same_energy {
                continue;
            }
            // Periods start and end on quarter hours, so quarter hours decide.
            let both: Vec<bool> = (0..96u16)
                .map(|q| inside(first.window, q * 15) && inside(later.window, q * 15))
                .collect();
            if !both.contains(&true) {
                continue;
            }
            out.push(ContractWarning::OverlappingPeriods {
                side,
                first: at(i),
                second: at(j),
                days,
                times: quarter_runs(&both),
            });
        }
    }
    out
}

/// Runs of set quarter hours as minute windows, a run through midnight as one window.
fn quarter_runs(set: &[bool]) -> Vec<(u16, u16)> {
    if set.iter().all(|b| *b) {
        return vec![(0, DAY_MIN)];
    }
    let mut runs: Vec<(u16, u16)> = Vec::new();
    let mut q = 0;
    while q < set.len() {
        if set[q] {
            let start = q;
            while q < set.len() && set[q] {
                q += 1;
            }
            runs.push((start as u16 * 15, q as u16 * 15));
        } else {
            q += 1;
        }
    }
    if runs.len() > 1
        && let (Some(&(0, head_end)), Some(&(tail_start, DAY_MIN))) = (runs.first(), runs.last())
    {
        runs.remove(0);
        runs.pop();
        runs.push((tail_start, head_end));
    }
    runs
}

// ---- Raw TOML shape -------------------------------------------------------------------------

type Num = Spanned<toml::Value>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContract {
    name: Spanned<String>,
    currency: Option<Spanned<String>>,
    time_zone: Spanned<String>,
    valid_from: Option<Spanned<toml::value::Datetime>>,
    valid_to: Option<Spanned<toml::value::Datetime>>,
    vat_percent: Option<Num>,
    holidays: Option<Spanned<Vec<Spanned<toml::value::Datetime>>>>,
    fixed: Option<RawFixed>,
    import: Spanned<RawSide>,
    export: Option<Spanned<RawSide>>,
    capacity: Option<Spanned<RawCapacity>>,
    gas: Option<Spanned<RawGas>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGas {
    price_per_m3: Option<Num>,
    tax_per_m3: Option<Num>,
    per_day: Option<Num>,
    per_month: Option<Num>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFixed {
    per_day: Option<Num>,
    per_month: Option<Num>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSide {
    tax_per_kwh: Option<Num>,
    price_per_kwh: Option<Num>,
    period: Option<Vec<Spanned<RawPeriod>>>,
    prices_csv: Option<Spanned<String>>,
    markup_per_kwh: Option<Num>,
    net_metering: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeriod {
    name: Spanned<String>,
    days: Option<Spanned<Vec<String>>>,
    from: Option<Spanned<String>>,
    to: Option<Spanned<String>>,
    meter_tariff: Option<Spanned<i64>>,
    price_per_kwh: Num,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCapacity {
    kind: Spanned<String>,
    price_per_kw_year: Option<Num>,
    min_kw: Option<Num>,
    steps: Option<Vec<Spanned<RawStep>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    up_to_kw: Num,
    per_month: Num,
}

/// Reads TOML values against their source text (for line numbers and exact literals).
struct Source<'a> {
    text: &'a str,
}

impl Source<'_> {
    fn line(&self, at: usize) -> usize {
        let at = at.min(self.text.len());
        self.text.as_bytes()[..at]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    fn invalid(&self, at: usize, message: impl Into<String>) -> ContractError {
        ContractError::Invalid {
            line: self.line(at),
            message: message.into(),
        }
    }

    /// The literal text of a number, to be parsed exactly.
    fn literal<'s>(&'s self, n: &Num, what: &str) -> Result<&'s str, ContractError> {
        match n.get_ref() {
            toml::Value::Integer(_) | toml::Value::Float(_) => {
                Ok(self.text.get(n.span()).unwrap_or_default())
            }
            _ => Err(self.invalid(n.span().start, format!("{what} must be a number"))),
        }
    }

    fn price(&self, n: &Num, what: &str) -> Result<Price, ContractError> {
        let lit = self.literal(n, what)?;
        Price::parse(lit).ok_or_else(|| {
            self.invalid(
                n.span().start,
                format!(
                    "{what} = {lit} is not an amount Hearth can use exactly (at most 12 decimals)"
                ),
            )
        })
    }

    fn money(&self, n: &Num, what: &str) -> Result<Money, ContractError> {
        let lit = self.literal(n, what)?;
        Money::parse(lit)
            .ok_or_else(|| self.invalid(n.span().start, format!("{what} = {lit} is not an amount")))
    }

    /// A non-negative power in kW, returned in W (at most 3 decimals).
    fn kw(&self, n: &Num, what: &str) -> Result<i64, ContractError> {
        let lit = self.literal(n, what)?;
        crate::money::parse_scaled(lit, 3)
            .and_then(|w| i64::try_from(w).ok())
            .filter(|w| *w >= 0)
            .ok_or_else(|| {
                self.invalid(
                    n.span().start,
                    format!(
                        "{what} = {lit} must be a kW value of at least 0 with at most 3 decimals"
                    ),
                )
            })
    }

    fn date(&self, d: &Spanned<toml::value::Datetime>, what: &str) -> Result<Date, ContractError> {
        let v = d.get_ref();
        match (v.date, v.time) {
            (Some(date), None) => Date::new(date.year as i16, date.month as i8, date.day as i8)
                .map_err(|_| self.invalid(d.span().start, format!("{what} is not a real date"))),
            _ => Err(self.invalid(
                d.span().start,
                format!("{what} must be a plain date like 2026-01-01"),
            )),
        }
    }
}

/// The text of the price files a contract names, by the name its `prices_csv` gives them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PriceFiles(BTreeMap<String, String>);

impl PriceFiles {
    /// No price files.
    pub fn new() -> PriceFiles {
        PriceFiles::default()
    }

    /// Adds (or replaces) the CSV text of the file named `name` in `prices_csv`.
    pub fn insert(&mut self, name: impl Into<String>, csv: impl Into<String>) {
        self.0.insert(name.into(), csv.into());
    }

    /// The CSV text of the file named `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Each file's name and CSV text, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, t)| (n.as_str(), t.as_str()))
    }

    /// Whether no file is given.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A price file that a contract names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceFileRef {
    /// The file as `prices_csv` writes it (relative to the contract file).
    pub name: String,
    /// The line of `prices_csv` in the contract, for error messages.
    pub line: usize,
}

impl Contract {
    /// Parses contract TOML that needs no price file (a dynamic contract is an error that
    /// names the missing file; see [`Contract::parse_with_prices`]).
    pub fn parse(text: &str) -> Result<Contract, ContractError> {
        Contract::parse_with_prices(text, &PriceFiles::new())
    }

    /// The contract's name as its TOML gives it (trimmed), before anything else is checked;
    /// fails only on malformed TOML.
    pub fn name_of(text: &str) -> Result<String, ContractError> {
        let src = Source { text };
        Ok(raw_contract(&src)?.name.get_ref().trim().to_owned())
    }

    /// The price files the contract TOML names (`prices_csv` of `[import]`, then `[export]`;
    /// each name once), so the caller can fetch their text. Fails only on malformed TOML.
    pub fn price_files(text: &str) -> Result<Vec<PriceFileRef>, ContractError> {
        let src = Source { text };
        let raw = raw_contract(&src)?;
        let mut out: Vec<PriceFileRef> = Vec::new();
        let sides = std::iter::once(&raw.import).chain(raw.export.as_ref());
        for file in sides.filter_map(|s| s.get_ref().prices_csv.as_ref()) {
            if !out.iter().any(|f| f.name == *file.get_ref()) {
                out.push(PriceFileRef {
                    name: file.get_ref().clone(),
                    line: src.line(file.span().start),
                });
            }
        }
        Ok(out)
    }

    /// Parses contract TOML; `prices` holds the text of each price file it names (by the name
    /// `prices_csv` gives). A named file missing from `prices` is an error.
    pub fn parse_with_prices(text: &str, prices: &PriceFiles) -> Result<Contract, ContractError> {
        let src = Source { text };
        let raw = raw_contract(&src)?;

        let name = raw.name.get_ref().trim().to_owned();
        if name.is_empty() {
            return Err(src.invalid(raw.name.span().start, "name must not be empty"));
        }
        let currency = match &raw.currency {
            Some(c) => {
                let v = c.get_ref();
                if v.len() != 3 || !v.bytes().all(|b| b.is_ascii_uppercase()) {
                    return Err(src.invalid(
                        c.span().start,
                        format!(
                            "currency \"{v}\" must be a three-letter code such as EUR, NOK or GBP"
                        ),
                    ));
                }
                v.clone()
            }
            None => "EUR".to_owned(),
        };
        let tz_name = raw.time_zone.get_ref().clone();
        let time_zone = TimeZone::get(&tz_name).map_err(|_| {
            src.invalid(
                raw.time_zone.span().start,
                format!(
                    "time_zone \"{tz_name}\" is not a known zone; use a name like Europe/Brussels"
                ),
            )
        })?;
        let valid_from = raw
            .valid_from
            .as_ref()
            .map(|d| src.date(d, "valid_from"))
            .transpose()?;
        let valid_to = raw
            .valid_to
            .as_ref()
            .map(|d| src.date(d, "valid_to"))
            .transpose()?;
        if let (Some(f), Some(t), Some(span)) = (valid_from, valid_to, raw.valid_to.as_ref())
            && t <= f
        {
            return Err(src.invalid(
                    span.span().start,
                    "valid_to must be after valid_from (valid_to is the first day it no longer applies)",
                ));
        }
        let vat = match &raw.vat_percent {
            Some(n) => {
                let lit = src.literal(n, "vat_percent")?;
                let p = Percent::parse(lit).filter(|p| p.0 >= 0 && p.0 <= 100_000_000);
                p.ok_or_else(|| {
                    src.invalid(
                        n.span().start,
                        format!("vat_percent = {lit} must be between 0 and 100"),
                    )
                })?
            }
            None => Percent(0),
        };
        let mut holidays = Vec::new();
        if let Some(h) = &raw.holidays {
            for d in h.get_ref() {
                holidays.push(src.date(d, "each holiday")?);
            }
        }
        holidays.sort_unstable();
        holidays.dedup();

        let (fixed_per_day, fixed_per_month) = match &raw.fixed {
            Some(f) => (
                f.per_day
                    .as_ref()
                    .map(|n| src.money(n, "per_day"))
                    .transpose()?,
                f.per_month
                    .as_ref()
                    .map(|n| src.money(n, "per_month"))
                    .transpose()?,
            ),
            None => (None, None),
        };

        let import_side = raw.import.get_ref();
        if import_side.net_metering.is_some() {
            return Err(src.invalid(
                raw.import.span().start,
                "net_metering belongs in [export], not [import]",
            ));
        }
        let tax_per_kwh = import_side
            .tax_per_kwh
            .as_ref()
            .map(|n| src.price(n, "tax_per_kwh"))
            .transpose()?
            .unwrap_or_default();
        let mut warnings = Vec::new();
        let import = side_pricing(
            &src,
            &raw.import,
            "import",
            prices,
            &time_zone,
            &mut warnings,
        )?;
        let (export, net_metering) = match &raw.export {
            Some(e) => {
                if e.get_ref().tax_per_kwh.is_some() {
                    return Err(src.invalid(
                        e.span().start,
                        "tax_per_kwh belongs in [import]; export credit is given before VAT only",
                    ));
                }
                (
                    side_pricing(&src, e, "export", prices, &time_zone, &mut warnings)?,
                    e.get_ref().net_metering.unwrap_or(false),
                )
            }
            None => (Pricing::Flat(Price(0)), false),
        };
        let capacity = raw
            .capacity
            .as_ref()
            .map(|c| capacity(&src, c))
            .transpose()?;
        let gas = raw.gas.as_ref().map(|g| gas(&src, g)).transpose()?;

        Ok(Contract {
            name,
            currency,
            time_zone,
            time_zone_name: tz_name,
            valid_from,
            valid_to,
            vat,
            holidays,
            fixed_per_day: fixed_per_day.unwrap_or_default(),
            fixed_per_month: fixed_per_month.unwrap_or_default(),
            tax_per_kwh,
            import,
            export,
            net_metering,
            capacity,
            gas,
            warnings,
        })
    }

    /// The instants the contract starts and stops applying (`None` = unbounded).
    pub fn validity(&self) -> (Option<Timestamp>, Option<Timestamp>) {
        let at = |d: Date| hearth_meter::time::local_midnight(d, &self.time_zone);
        (self.valid_from.and_then(at), self.valid_to.and_then(at))
    }

    /// The day-type bit index of a local date (0 = Monday … 6 = Sunday, 7 = holiday).
    pub fn day_type(&self, date: Date) -> u8 {
        if self.holidays.binary_search(&date).is_ok() {
            HOLIDAY
        } else {
            date.weekday().to_monday_zero_offset() as u8
        }
    }
}

/// The raw TOML shape; a syntax error names its line.
fn raw_contract(src: &Source<'_>) -> Result<RawContract, ContractError> {
    toml::from_str(src.text).map_err(|e| ContractError::Syntax {
        line: e.span().map_or(1, |s| src.line(s.start)),
        message: e.message().trim().to_owned(),
    })
}

fn side_pricing(
    src: &Source<'_>,
    side: &Spanned<RawSide>,
    which: &'static str,
    files: &PriceFiles,
    tz: &TimeZone,
    warnings: &mut Vec<ContractWarning>,
) -> Result<Pricing, ContractError> {
    let at = side.span().start;
    let s = side.get_ref();
    let chosen = [
        s.price_per_kwh.is_some(),
        s.period.is_some(),
        s.prices_csv.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if chosen != 1 {
        return Err(src.invalid(
            at,
            format!(
                "[{which}] needs exactly one of price_per_kwh (flat), [[{which}.period]] (time of use) or prices_csv (dynamic)"
            ),
        ));
    }
    if s.markup_per_kwh.is_some() && s.prices_csv.is_none() {
        return Err(src.invalid(
            at,
            format!("markup_per_kwh in [{which}] only applies with prices_csv"),
        ));
    }
    if let Some(p) = &s.price_per_kwh {
        return Ok(Pricing::Flat(src.price(p, "price_per_kwh")?));
    }
    if let Some(file) = &s.prices_csv {
        let path = PathBuf::from(file.get_ref());
        let line = src.line(file.span().start);
        let text = files
            .get(file.get_ref())
            .ok_or_else(|| ContractError::Prices {
                line,
                path: path.clone(),
                source: PriceError::NotGiven,
            })?;
        let markup = s
            .markup_per_kwh
            .as_ref()
            .map(|n| src.price(n, "markup_per_kwh"))
            .transpose()?
            .unwrap_or_default();
        let prices = PriceSeries::parse(text, tz).map_err(|source| ContractError::Prices {
            line,
            path,
            source,
        })?;
        return Ok(Pricing::Dynamic { prices, markup });
    }
    let raw_periods = s.period.as_deref().unwrap_or_default();
    let mut periods = Vec::with_capacity(raw_periods.len());
    for rp in raw_periods {
        periods.push(period(src, rp)?);
    }
    check_coverage(src, at, which, &periods)?;
    let lines: Vec<usize> = raw_periods
        .iter()
        .map(|rp| src.line(rp.get_ref().name.span().start))
        .collect();
    warnings.extend(overlaps(which, &periods, &lines));
    Ok(Pricing::Periods(periods))
}

fn period(src: &Source<'_>, rp: &Spanned<RawPeriod>) -> Result<Period, ContractError> {
    let p = rp.get_ref();
    let name = p.name.get_ref().trim().to_owned();
    if name.is_empty() {
        return Err(src.invalid(p.name.span().start, "a period needs a name"));
    }
    let days = match &p.days {
        None => ALL_DAYS,
        Some(d) => {
            let mut bits = 0u8;
            for day in d.get_ref() {
                let lower = day.to_ascii_lowercase();
                let i = DAY_NAMES.iter().position(|n| *n == lower).ok_or_else(|| {
                    src.invalid(
                        d.span().start,
                        format!(
                            "\"{day}\" is not a day; use mon, tue, wed, thu, fri, sat, sun or hol"
                        ),
                    )
                })?;
                bits |= 1 << i;
            }
            if bits == 0 {
                return Err(
                    src.invalid(d.span().start, "days is empty; leave it out for every day")
                );
            }
            bits
        }
    };
    let window = match (&p.from, &p.to) {
        (None, None) => None,
        (Some(f), Some(t)) => {
            let from = wall_time(src, f, false)?;
            let to = wall_time(src, t, true)?;
            if from == to || (from == 0 && to == DAY_MIN) {
                if from == to {
                    return Err(src.invalid(
                        f.span().start,
                        "from and to are equal; leave both out for the whole day",
                    ));
                }
                None
            } else {
                Some((from, to))
            }
        }
        (Some(x), None) | (None, Some(x)) => {
            return Err(src.invalid(
                x.span().start,
                "give both from and to, or neither (whole day)",
            ));
        }
    };
    let meter_tariff = match &p.meter_tariff {
        None => None,
        Some(t) => match *t.get_ref() {
            1 => Some(1),
            2 => Some(2),
            _ => {
                return Err(src.invalid(t.span().start, "meter_tariff must be 1 or 2"));
            }
        },
    };
    Ok(Period {
        name,
        days,
        window,
        meter_tariff,
        price: src.price(&p.price_per_kwh, "price_per_kwh")?,
    })
}

/// `"HH:MM"` on a quarter hour, in minutes; `"24:00"` only as an end.
fn wall_time(src: &Source<'_>, s: &Spanned<String>, is_end: bool) -> Result<u16, ContractError> {
    let text = s.get_ref();
    let bad = || {
        src.invalid(
            s.span().start,
            format!(
                "\"{text}\" is not a time like \"07:00\" on a quarter hour (:00, :15, :30, :45)"
            ),
        )
    };
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: u16 = h.parse().map_err(|_| bad())?;
    let m: u16 = m.parse().map_err(|_| bad())?;
    let v = h * 60 + m;
    if m >= 60 || !m.is_multiple_of(15) || v > DAY_MIN || (v == DAY_MIN && !is_end) {
        return Err(bad());
    }
    Ok(v)
}

/// Every (day type, quarter hour) must be matched for both meter tariffs.
fn check_coverage(
    src: &Source<'_>,
    at: usize,
    which: &str,
    periods: &[Period],
) -> Result<(), ContractError> {
    for day in 0..8u8 {
        for q in 0..96u16 {
            let minute = q * 15;
            for tag in [Tag::T1, Tag::T2] {
                if find_period(periods, day, minute, tag).is_none() {
                    let day_name = [
                        "Monday",
                        "Tuesday",
                        "Wednesday",
                        "Thursday",
                        "Friday",
                        "Saturday",
                        "Sunday",
                        "a holiday",
                    ][day as usize];
                    return Err(src.invalid(
                        at,
                        format!(
                            "no [[{which}.period]] covers {day_name} {:02}:{:02}{}; periods must cover every moment \
                             (add a last period without days, from and to as a catch-all)",
                            minute / 60,
                            minute % 60,
                            match tag {
                                Tag::T1 => " on meter tariff 1",
                                _ => " on meter tariff 2",
                            }
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The first period matching a day type, a local minute of the day and the energy's tag.
/// Untagged energy ignores `meter_tariff` (the meter did not say; the moment decides).
pub fn find_period(periods: &[Period], day: u8, minute: u16, tag: Tag) -> Option<usize> {
    periods.iter().position(|p| {
        if p.days & (1 << day) == 0 {
            return false;
        }
        if let Some((from, to)) = p.window {
            let inside = if from < to {
                minute >= from && minute < to
            } else {
                minute >= from || minute < to
            };
            if !inside {
                return false;
            }
        }
        matches!(
            (p.meter_tariff, tag),
            (None, _) | (_, Tag::Untagged) | (Some(1), Tag::T1) | (Some(2), Tag::T2)
        )
    })
}

/// `[gas]`: a price per m³ is required; tax and standing charges default to zero; nothing may
/// be negative (a credit for gas is not something a supplier bills).
fn gas(src: &Source<'_>, g: &Spanned<RawGas>) -> Result<Gas, ContractError> {
    let r = g.get_ref();
    let not_negative = |n: &Num, what: &str, negative: bool| {
        if negative {
            let lit = src.literal(n, what).unwrap_or_default();
            Err(src.invalid(
                n.span().start,
                format!("{what} = {lit} in [gas] must not be negative"),
            ))
        } else {
            Ok(())
        }
    };
    let price = |n: &Option<Num>, what: &str| -> Result<Price, ContractError> {
        match n {
            None => Ok(Price(0)),
            Some(n) => {
                let p = src.price(n, what)?;
                not_negative(n, what, p.0 < 0)?;
                Ok(p)
            }
        }
    };
    let money = |n: &Option<Num>, what: &str| -> Result<Money, ContractError> {
        match n {
            None => Ok(Money::ZERO),
            Some(n) => {
                let m = src.money(n, what)?;
                not_negative(n, what, m.0 < 0)?;
                Ok(m)
            }
        }
    };
    if r.price_per_m3.is_none() {
        return Err(src.invalid(
            g.span().start,
            "[gas] needs price_per_m3 (the price of one m³ of gas, without tax and VAT)",
        ));
    }
    Ok(Gas {
        price_per_m3: price(&r.price_per_m3, "price_per_m3")?,
        tax_per_m3: price(&r.tax_per_m3, "tax_per_m3")?,
        per_day: money(&r.per_day, "per_day")?,
        per_month: money(&r.per_month, "per_month")?,
    })
}

fn capacity(src: &Source<'_>, c: &Spanned<RawCapacity>) -> Result<Capacity, ContractError> {
    let r = c.get_ref();
    match r.kind.get_ref().as_str() {
        "monthly-15min-peak" => {
            if r.steps.is_some() {
                return Err(src.invalid(c.span().start, "steps belong to kind = \"top3-daily-hourly-peaks\""));
            }
            let price = r.price_per_kw_year.as_ref().ok_or_else(|| {
                src.invalid(c.span().start, "a monthly-15min-peak capacity charge needs price_per_kw_year")
            })?;
            Ok(Capacity::MonthlyPeak {
                price_per_kw_year: src.price(price, "price_per_kw_year")?,
                min_w: r.min_kw.as_ref().map(|n| src.kw(n, "min_kw")).transpose()?.unwrap_or(0),
            })
        }
        "top3-daily-hourly-peaks" => {
            if r.price_per_kw_year.is_some() || r.min_kw.is_some() {
                return Err(src.invalid(
                    c.span().start,
                    "price_per_kw_year and min_kw belong to kind = \"monthly-15min-peak\"; this kind uses steps",
                ));
            }
            let raw_steps = r.steps.as_deref().unwrap_or_default();
            if raw_steps.is_empty() {
                return Err(src.invalid(c.span().start, "a top3-daily-hourly-peaks charge needs steps"));
            }
            let mut steps: Vec<Step> = Vec::new();
            for s in raw_steps {
                let step = Step {
                    up_to_w: src.kw(&s.get_ref().up_to_kw, "up_to_kw")?,
                    per_month: src.money(&s.get_ref().per_month, "per_month")?,
                };
                if steps.last().is_some_and(|prev| prev.up_to_w >= step.up_to_w) {
                    return Err(src.invalid(s.span().start, "steps must be in increasing up_to_kw order"));
                }
                steps.push(step);
            }
            Ok(Capacity::Top3DailyHourly { steps })
        }
        other => Err(src.invalid(
            r.kind.span().start,
            format!("capacity kind \"{other}\" is unknown; use \"monthly-15min-peak\" or \"top3-daily-hourly-peaks\""),
        )),
    }
}
