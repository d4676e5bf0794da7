//! Savings tips computed from the household's own quarter hours (design §5).
//!
//! Each tip is quantified in kWh and money per year under the user's current contract (the
//! first one given that is valid at `now`), carries the evidence behind it and says how sure
//! it is (`confidence`, 0..1). A tip is silent when the data does not support it: too few
//! nights, no recurring load, a saving below a few units of currency a year. Everything is a
//! pure function of the usage, the contracts, `now` and the household's time zone.

mod base;
mod contracts;
mod message;
mod shift;
mod unusual;
mod words;

pub use message::{Amount, PeakBasis, TipMessage};

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
    /// One or two sentences for the homeowner, in English (`message.english()`).
    pub summary: String,
    /// What the summary says, as data, to word it in another language.
    pub message: TipMessage,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UsageOptions;
    use hearth_meter::{MeterTime, Protocol, Quantity, Reading};

    /// 2026-01-05T00:00 in Amsterdam (CET, +01:00).
    const MON_5_JAN: i64 = 1_767_567_600;
    const DAY: i64 = 86_400;

    fn contract(toml: &str) -> Contract {
        Contract::parse(toml).expect("contract")
    }

    /// 28 days of quarter-hour readings from `MON_5_JAN`, import power from `w(unix)`.
    fn household(w: impl Fn(i64) -> i64) -> (Usage, i64) {
        let (from, to) = (MON_5_JAN, MON_5_JAN + 28 * DAY);
        let mut wh_x4 = 40_000_000i64; // register in Wh × 4 (quarter hours)
        let mut readings = Vec::new();
        let mut t = from - 3600;
        while t <= to + 3600 {
            let mut r = Reading::new(Protocol::Dsmr);
            r.time = Some(MeterTime::utc(t));
            r.set(Quantity::ImportWh, wh_x4 / 4);
            r.set(Quantity::ExportWh, 0);
            readings.push(r);
            wh_x4 += w(t);
            t += 900;
        }
        let ts = |s: i64| Timestamp::from_second(s).expect("time");
        (
            Usage::from_readings(readings, ts(from), ts(to), UsageOptions::default()),
            to,
        )
    }

    fn run(usage: &Usage, contracts: &[&str], now: i64) -> Vec<Tip> {
        let cs: Vec<Contract> = contracts.iter().map(|c| contract(c)).collect();
        let tz = TimeZone::get("Europe/Amsterdam").expect("tz");
        tips(
            usage,
            &cs,
            &[],
            Timestamp::from_second(now).expect("now"),
            &tz,
        )
    }

    const FLAT_30: &str =
        "name = \"Flat 0.30\"\ntime_zone = \"Europe/Amsterdam\"\n[import]\nprice_per_kwh = 0.30\n";
    const FLAT_25: &str =
        "name = \"Flat 0.25\"\ntime_zone = \"Europe/Amsterdam\"\n[import]\nprice_per_kwh = 0.25\n";

    #[test]
    fn the_cheapest_contract_compares_electricity_only() {
        // The household of the test below plus 0.4 m³ of gas an hour, read every quarter hour
        // (100 dm³ each). A contract that also prices gas (here 1.00 per m³, about 3 500 a
        // year) is not dearer for it: the saving is still 87.60, and the cheaper electricity
        // with gas gives no tip at all.
        let (from, to) = (MON_5_JAN, MON_5_JAN + 28 * DAY);
        let mut readings = Vec::new();
        let (mut wh_x4, mut dm3) = (40_000_000i64, 1_000_000i64);
        let mut t = from - 3600;
        while t <= to + 3600 {
            let mut r = Reading::new(Protocol::Dsmr);
            r.time = Some(MeterTime::utc(t));
            r.set(Quantity::ImportWh, wh_x4 / 4);
            r.set(Quantity::ExportWh, 0);
            r.set(Quantity::GasDm3, dm3);
            readings.push(r);
            wh_x4 += 200;
            dm3 += 100;
            t += 900;
        }
        let ts = |s: i64| Timestamp::from_second(s).expect("time");
        let u = Usage::from_readings(readings, ts(from), ts(to), UsageOptions::default());
        assert_eq!(u.gas_cm3(0..u.slots().len()), 28 * 96 * 100_000);
        let with_gas = |c: &str| format!("{c}[gas]\nprice_per_m3 = 1.00\n");
        let tips = run(&u, &[&with_gas(FLAT_30), FLAT_25], to);
        let saving = tips.iter().find_map(|t| match &t.message {
            TipMessage::CheapestContract { saving, .. } => Some(saving.money),
            _ => None,
        });
        assert_eq!(saving, Some(Money::parse("87.60").expect("money")));
        let tips = run(&u, &[&with_gas(FLAT_25), FLAT_30], to);
        assert!(
            tips.iter().all(|t| t.kind != TipKind::CheapestContract),
            "{tips:#?}"
        );
    }

    #[test]
    fn base_load_and_contract_messages_hold_the_sentence_numbers() {
        // 200 W for 28 days: 200 × 8760 h = 1752 kWh a year; at 0.30 = 525.60, at 0.25 =
        // 438.00; the cheaper contract saves 87.60 (shown €88).
        let (u, now) = household(|_| 200);
        let tips = run(&u, &[FLAT_30, FLAT_25], now);
        let eur = |m: &str| Amount {
            money: Money::parse(m).expect("money"),
            currency: "EUR".into(),
        };
        assert_eq!(tips.len(), 2, "{tips:#?}");
        assert_eq!(
            tips[0].message,
            TipMessage::BaseLoad {
                watts: 200,
                kwh_per_year: 1752,
                cost: Some(eur("525.60")),
            }
        );
        assert_eq!(
            tips[1].message,
            TipMessage::CheapestContract {
                days: 28,
                cheapest: "Flat 0.25".into(),
                current: "Flat 0.30".into(),
                saving: eur("87.60"),
            }
        );
        assert_eq!(
            tips[1].summary,
            "Over your last 28 days of use, \"Flat 0.25\" would have cost about €88 a year less than \"Flat 0.30\"."
        );
        for t in &tips {
            assert_eq!(t.summary, t.message.english());
            assert_eq!(t.message.amount().map(|a| a.money), t.money_per_year);
            assert_eq!(t.message.amount().map(|a| a.currency.clone()), t.currency);
        }
    }

    #[test]
    fn without_a_contract_the_message_has_no_money() {
        let (u, now) = household(|_| 200);
        let tips = run(&u, &[], now);
        assert_eq!(
            tips.iter().map(|t| &t.message).collect::<Vec<_>>(),
            [&TipMessage::BaseLoad {
                watts: 200,
                kwh_per_year: 1752,
                cost: None,
            }]
        );
        assert_eq!(
            tips[0].summary,
            "Your home never uses less than about 200 W, even at night: about 1752 kWh a year. \
             Devices on standby, routers, fridges and pumps make up this always-on load."
        );
    }

    #[test]
    fn load_shift_message_holds_hours_runs_and_days() {
        // A 2 kW cycle 19:00-20:00 local (18:00-19:00 UTC in January) on a 200 W base, every
        // day of 28, under day 0.31 / night (22:00-07:00 weekdays, weekends) 0.21 + tax 0.05:
        // 20 weekday cycles of 2 kWh save 0.10/kWh each = 4.00 in 28 days, 52.14… a year.
        const DAY_NIGHT: &str = "name = \"Day/night\"\ntime_zone = \"Europe/Amsterdam\"\n[import]\ntax_per_kwh = 0.05\n[[import.period]]\nname = \"night\"\ndays = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]\nfrom = \"22:00\"\nto = \"07:00\"\nprice_per_kwh = 0.21\n[[import.period]]\nname = \"weekend\"\ndays = [\"sat\", \"sun\", \"hol\"]\nprice_per_kwh = 0.21\n[[import.period]]\nname = \"day\"\nprice_per_kwh = 0.31\n";
        let (u, now) = household(|t| {
            if t.rem_euclid(DAY) / 3600 == 18 {
                2_200
            } else {
                200
            }
        });
        let tips = run(&u, &[DAY_NIGHT], now);
        let shift = tips
            .iter()
            .find(|t| t.kind == TipKind::LoadShift)
            .expect("shift tip");
        let TipMessage::LoadShift {
            watts,
            minutes,
            runs,
            days,
            from_hour,
            until_hour,
            better_hour,
            saving,
        } = &shift.message
        else {
            panic!("{:?}", shift.message)
        };
        assert_eq!(
            (*watts, *minutes, *runs, *days),
            (2_000, 60, 28, 28),
            "{shift:#?}"
        );
        // Every start is at 19:00; the windows 18-20 and 19-21 both hold all 28 and the
        // earlier one wins the tie. The cheapest start is at 22:00, the night rate.
        assert_eq!((*from_hour, *until_hour, *better_hour), (18, 20, 22));
        assert_eq!(saving.whole_units(), 52);
        assert_eq!(shift.summary, shift.message.english());
    }
}
