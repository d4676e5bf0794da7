//! Savings tips computed from the household's own quarter hours (design §5).
//!
//! Each tip is quantified in kWh and money per year under the user's current contract (the
//! first one given that is valid at `now`), carries the evidence behind it and says how sure
//! it is (`confidence`, 0..1). A tip is silent when the data does not support it: too few
//! nights, no recurring load, a saving below a few units of currency a year. Everything is a
//! pure function of the usage, the contracts, `now` and the household's time zone.

mod base;
mod contracts;
mod shift;
mod unusual;

use crate::contract::Contract;
use crate::cost::{LocalSlot, Rates, local_slots};
use crate::money::{Money, Price};
use crate::usage::Usage;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// Which advice a tip gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TipKind {
    /// The always-on load (night-time low) and what it costs a year.
    BaseLoad,
    /// A constant load that appeared since a date.
    NewConstantLoad,
    /// A recurring large load that would be cheaper at other hours.
    LoadShift,
    /// Another contract would have been cheaper over the last year.
    CheapestContract,
    /// The capacity charge and the peaks that set it.
    CapacityPeak,
    /// Exported solar energy that could be used at home instead.
    Solar,
    /// This week's use against the household's typical week.
    Unusual,
}

impl TipKind {
    /// The JSON name (`base_load`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            TipKind::BaseLoad => "base_load",
            TipKind::NewConstantLoad => "new_constant_load",
            TipKind::LoadShift => "load_shift",
            TipKind::CheapestContract => "cheapest_contract",
            TipKind::CapacityPeak => "capacity_peak",
            TipKind::Solar => "solar",
            TipKind::Unusual => "unusual",
        }
    }
}

/// One contract's total in a comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractTotal {
    /// Contract name.
    pub name: String,
    /// Its total over the compared period, annualised.
    pub per_year: Money,
}

/// The numbers behind a tip.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Evidence {
    /// When the change began (new constant load).
    pub since: Option<Date>,
    /// The power involved, W.
    pub watts: Option<i64>,
    /// Moments that show it (unix seconds): peak quarter hours, load starts, unusual hours.
    pub times: Vec<i64>,
    /// Contracts compared, cheapest first.
    pub contracts: Vec<ContractTotal>,
    /// A small chart: (label, value) pairs, e.g. base load per month in W.
    pub series: Vec<(String, i64)>,
}

/// One savings tip.
#[derive(Clone, Debug, PartialEq)]
pub struct Tip {
    /// What kind of advice.
    pub kind: TipKind,
    /// One or two sentences for the homeowner.
    pub summary: String,
    /// Energy involved per year (used, moved or saved, as the summary says), Wh.
    pub wh_per_year: i64,
    /// Money per year under the current contract, if one is known.
    pub money_per_year: Option<Money>,
    /// Currency of `money_per_year`.
    pub currency: Option<String>,
    /// How sure the tip is, 0..1.
    pub confidence: f64,
    /// The numbers behind it.
    pub evidence: Evidence,
}

/// Everything tips look at, computed once.
pub(crate) struct Ctx<'a> {
    pub(crate) usage: &'a Usage,
    /// Local positions of the slots in the household's zone.
    pub(crate) local: Vec<LocalSlot>,
    /// The current contract, its local slots and rates.
    pub(crate) current: Option<(&'a Contract, Vec<LocalSlot>, Rates<'a>)>,
    pub(crate) contracts: &'a [Contract],
    pub(crate) alternatives: &'a [Contract],
    pub(crate) now: i64,
    /// Seconds of the range covered by readings.
    pub(crate) covered_s: i64,
}

const YEAR_S: i64 = 365 * 86_400;
/// Tips need at least a week of readings.
const MIN_COVERED_S: i64 = 7 * 86_400;

impl Ctx<'_> {
    /// Scales an amount over the covered time to a year.
    pub(crate) fn per_year_money(&self, m: Money) -> Money {
        m.mul_ratio(i128::from(YEAR_S), i128::from(self.covered_s.max(1)))
    }

    pub(crate) fn per_year_mwh(&self, mwh: i64) -> i64 {
        (i128::from(mwh) * i128::from(YEAR_S) / i128::from(self.covered_s.max(1))) as i64
    }

    /// The current contract's import rate at slot `i`.
    pub(crate) fn import_rate(&self, i: usize) -> Option<Price> {
        let (_, local, rates) = self.current.as_ref()?;
        rates.import(self.usage.slot_start(i), local.get(i)?)
    }

    /// The current contract's export rate at slot `i`.
    pub(crate) fn export_rate(&self, i: usize) -> Option<Price> {
        let (_, local, rates) = self.current.as_ref()?;
        rates.export(self.usage.slot_start(i), local.get(i)?)
    }

    /// The time-weighted mean import rate over the covered slots (what a constant load pays).
    pub(crate) fn mean_import_rate(&self) -> Option<Price> {
        self.current.as_ref()?;
        let (mut sum, mut n) = (0i128, 0i128);
        for (i, s) in self.usage.slots().iter().enumerate() {
            if s.has_data()
                && let Some(p) = self.import_rate(i)
            {
                sum += p.0;
                n += 1;
            }
        }
        (n > 0).then(|| Price(crate::money::div_round(sum, n)))
    }

    /// Money for `wh` Wh at `rate`, if a contract is known.
    pub(crate) fn money_for(
        &self,
        wh: i64,
        rate: Option<Price>,
    ) -> (Option<Money>, Option<String>) {
        match (rate, &self.current) {
            (Some(r), Some((c, _, _))) => (
                Some(r.of_mwh(wh.saturating_mul(1000))),
                Some(c.currency.clone()),
            ),
            _ => (None, None),
        }
    }

    pub(crate) fn currency(&self) -> Option<String> {
        self.current.as_ref().map(|(c, _, _)| c.currency.clone())
    }
}

/// Computes every tip the data supports, in a stable order (by kind, then money).
///
/// `contracts` are the user's (the first valid at `now` is current); `alternatives` are
/// presets or offers to compare against. `tz` is the household's zone (nights, weekdays).
pub fn tips(
    usage: &Usage,
    contracts: &[Contract],
    alternatives: &[Contract],
    now: Timestamp,
    tz: &TimeZone,
) -> Vec<Tip> {
    let now = now.as_second();
    let current = contracts
        .iter()
        .find(|c| {
            let (f, t) = c.validity();
            f.is_none_or(|f| f.as_second() <= now) && t.is_none_or(|t| now < t.as_second())
        })
        .or(contracts.first())
        .map(|c| (c, local_slots(usage, &c.time_zone), Rates::new(c)));
    let covered_s = usage
        .slots()
        .iter()
        .map(|s| i64::from(s.measured_s) + i64::from(s.estimated_s))
        .sum::<i64>();
    let ctx = Ctx {
        usage,
        local: local_slots(usage, tz),
        current,
        contracts,
        alternatives,
        now,
        covered_s,
    };
    let mut out = Vec::new();
    if ctx.covered_s < MIN_COVERED_S {
        // Less than a week of readings supports no yearly figure.
        return out;
    }
    let nights = base::nightly_bases(&ctx);
    out.extend(base::base_load(&ctx, &nights));
    out.extend(base::new_constant_load(&ctx, &nights));
    let events = shift::events(&ctx, &nights);
    out.extend(shift::load_shift(&ctx, &events));
    out.extend(contracts::cheapest_contract(&ctx));
    out.extend(contracts::capacity_peak(&ctx, &nights));
    out.extend(shift::solar(&ctx, &events));
    out.extend(unusual::unusual(&ctx));
    out
}

/// Nearest-rank percentile of a sorted slice (`p` in 0..=100).
pub(crate) fn percentile(sorted: &[i64], p: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// The median of an unsorted list.
pub(crate) fn median(values: &[i64]) -> Option<i64> {
    let mut v = values.to_vec();
    v.sort_unstable();
    percentile(&v, 50)
}

/// Median absolute deviation.
pub(crate) fn mad(values: &[i64]) -> i64 {
    let Some(m) = median(values) else { return 0 };
    let dev: Vec<i64> = values.iter().map(|v| (v - m).abs()).collect();
    median(&dev).unwrap_or(0)
}

/// A money amount for a summary: `€73` / `73 NOK` style, whole units.
pub(crate) fn show_money(m: Money, currency: &str) -> String {
    let units = (m.cents() as f64 / 100.0).round() as i64;
    match currency {
        "EUR" => format!("€{units}"),
        "GBP" => format!("£{units}"),
        "USD" => format!("${units}"),
        c => format!("{units} {c}"),
    }
}
