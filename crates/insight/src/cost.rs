//! Pricing quarter-hour energy under a contract: energy, tax, fixed charges, capacity, gas,
//! export credit and VAT, exactly, for any range ("bill check").
//!
//! Every quarter hour is priced at its own local moment in the contract's time zone (so DST
//! days of 23 and 25 hours, holidays and weekday rules fall where the clock says). Fixed and
//! capacity charges follow local calendar days and months; a partial month pays
//! days/days_in_month of its monthly amounts, a partial day its share of the day's seconds.
//! Gas (a contract's `[gas]`) is the m³ of the priced quarter hours × (price + tax) plus its
//! own standing charges, which follow days and months the same way; VAT is on the whole sum.

use crate::contract::{Capacity, Contract, Pricing, Tag, find_period};
use crate::money::{Money, Price};
use crate::usage::{SLOT_S, Usage};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// The cost of a range under one contract. All amounts exclude VAT except `vat` and `total`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cost {
    /// Imported energy at its prices (after net metering).
    pub energy: Money,
    /// Tax per kWh on imported energy (after net metering).
    pub tax: Money,
    /// Daily and monthly fixed charges.
    pub fixed: Money,
    /// Capacity (demand) charges.
    pub capacity: Money,
    /// Gas: m³ × (price + tax) plus the gas standing charges; zero without `[gas]`.
    pub gas: Money,
    /// Credit for exported energy (a positive number, subtracted in `total`).
    pub export_credit: Money,
    /// VAT on `energy + tax + fixed + capacity + gas - export_credit`.
    pub vat: Money,
    /// What the bill comes to.
    pub total: Money,
    /// What the electricity alone comes to with its VAT (`total` without gas and the VAT on
    /// it), to compare contracts that do and do not price gas.
    pub electricity_total: Money,
    /// Gas used in the priced quarter hours, cm³ (counted with or without `[gas]`).
    pub gas_cm3: i64,
    /// Imported energy priced, mWh.
    pub import_mwh: i64,
    /// Exported energy credited, mWh.
    pub export_mwh: i64,
    /// The part of the range the contract was valid for (unix seconds, `[from, to)`); empty
    /// (`from == to`) when the contract did not apply at all.
    pub priced: (i64, i64),
    /// Energy and money per import period name (the order of first appearance).
    pub periods: Vec<PeriodCost>,
    /// Capacity detail per local month.
    pub months: Vec<MonthDemand>,
    /// Imported energy the meter did not tag with its tariff although the contract's periods
    /// follow the meter's switch (`meter_tariff`): priced by the first period matching the
    /// moment, which may not be what the supplier billed. mWh.
    pub untagged_mwh: i64,
}

/// Energy and money of one period name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeriodCost {
    /// Period name (`flat` or `dynamic` for those pricings).
    pub name: String,
    /// Imported energy, mWh (before net metering).
    pub import_mwh: i64,
    /// Exported energy during this period's moments, mWh.
    pub export_mwh: i64,
    /// Energy cost before net metering and tax.
    pub energy: Money,
    /// Export credit before net metering.
    pub export_credit: Money,
}

/// The demand that set a month's capacity charge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonthDemand {
    /// First local day of the month.
    pub month: Date,
    /// Belgium: highest 15-minute mean import; Norway: mean of the top-3 daily hourly
    /// peaks. In W.
    pub demand_w: i64,
    /// Start of each peak interval (unix seconds): one quarter hour or three hours.
    pub peaks: Vec<i64>,
    /// The month's whole charge before pro rata.
    pub charge: Money,
    /// What the range pays of it (pro rata days).
    pub paid: Money,
}

/// Why a range could not be priced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PricingError {
    /// A dynamic price file does not cover a moment that has energy.
    #[error(
        "contract \"{contract}\": the price file has no {side} price for {at}; use a price file that covers the whole range"
    )]
    NoPrice {
        /// Contract name.
        contract: String,
        /// `import` or `export`.
        side: &'static str,
        /// The moment (RFC 3339).
        at: String,
    },
}

/// A quarter hour's local calendar position in a zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalSlot {
    /// Local date.
    pub date: Date,
    /// Local minute of the day at the slot's start.
    pub minute: u16,
}

/// The local date and minute of every slot of `usage` in `tz`.
pub fn local_slots(usage: &Usage, tz: &TimeZone) -> Vec<LocalSlot> {
    (0..usage.slots().len())
        .map(|i| local_slot(usage.slot_start(i), tz))
        .collect()
}

/// The local date and minute of an instant.
pub fn local_slot(unix: i64, tz: &TimeZone) -> LocalSlot {
    let ts = Timestamp::from_second(unix).unwrap_or(Timestamp::UNIX_EPOCH);
    let dt = tz.to_datetime(ts);
    LocalSlot {
        date: dt.date(),
        minute: dt.hour() as u16 * 60 + dt.minute() as u16,
    }
}

/// Start of a local day in `tz`, unix seconds.
pub fn day_start(date: Date, tz: &TimeZone) -> i64 {
    hearth_meter::time::local_midnight(date, tz).map_or(0, |t| t.as_second())
}

/// Looks up the price of energy on one side at a moment: (name index, price).
pub(crate) struct Side<'a> {
    pricing: &'a Pricing,
    /// Period index -> name index.
    name_of: Vec<usize>,
    names: Vec<String>,
}

impl<'a> Side<'a> {
    pub(crate) fn new(pricing: &'a Pricing) -> Side<'a> {
        let mut names: Vec<String> = Vec::new();
        let mut name_of = Vec::new();
        match pricing {
            Pricing::Flat(_) => names.push("flat".into()),
            Pricing::Dynamic { .. } => names.push("dynamic".into()),
            Pricing::Periods(ps) => {
                for p in ps {
                    let i = names.iter().position(|n| *n == p.name).unwrap_or_else(|| {
                        names.push(p.name.clone());
                        names.len() - 1
                    });
                    name_of.push(i);
                }
            }
        }
        Side {
            pricing,
            name_of,
            names,
        }
    }

    /// `None` only for a dynamic price file without this moment.
    pub(crate) fn rate(
        &self,
        unix: i64,
        day_type: u8,
        minute: u16,
        tag: Tag,
    ) -> Option<(usize, Price)> {
        match self.pricing {
            Pricing::Flat(p) => Some((0, *p)),
            Pricing::Dynamic { prices, markup } => prices.at(unix).map(|p| (0, p + *markup)),
            Pricing::Periods(ps) => {
                // Validation guarantees coverage for tagged energy, and untagged energy matches
                // whatever a tagged lookup matches, so this falls back only defensively.
                let i =
                    find_period(ps, day_type, minute, tag).unwrap_or(ps.len().saturating_sub(1));
                ps.get(i).map(|p| (self.name_of[i], p.price))
            }
        }
    }

    /// The name index at a moment, whatever the price (for net metering by name).
    pub(crate) fn name_at(&self, day_type: u8, minute: u16, tag: Tag) -> usize {
        match self.pricing {
            Pricing::Periods(ps) => {
                find_period(ps, day_type, minute, tag).map_or(0, |i| self.name_of[i])
            }
            _ => 0,
        }
    }
}

/// Prices `usage` over `[from, to)` (clipped to the contract's validity) under `contract`.
pub fn price(
    usage: &Usage,
    contract: &Contract,
    from: Timestamp,
    to: Timestamp,
) -> Result<Cost, PricingError> {
    let local = local_slots(usage, &contract.time_zone);
    price_with(
        usage,
        contract,
        &local,
        from.as_second(),
        to.as_second(),
        true,
    )
}

/// Prices like [`price`] but ignores the contract's validity (what-if comparisons), reusing
/// precomputed local slots for the contract's zone.
pub fn price_hypothetical(
    usage: &Usage,
    contract: &Contract,
    local: &[LocalSlot],
    from: Timestamp,
    to: Timestamp,
) -> Result<Cost, PricingError> {
    price_with(
        usage,
        contract,
        local,
        from.as_second(),
        to.as_second(),
        false,
    )
}

fn price_with(
    usage: &Usage,
    c: &Contract,
    local: &[LocalSlot],
    from: i64,
    to: i64,
    honour_validity: bool,
) -> Result<Cost, PricingError> {
    let tz = &c.time_zone;
    let (mut pf, mut pt) = (from.max(usage.start()), to.min(usage.end()));
    if honour_validity {
        let (vf, vt) = c.validity();
        if let Some(vf) = vf {
            pf = pf.max(vf.as_second());
        }
        if let Some(vt) = vt {
            pt = pt.min(vt.as_second());
        }
    }
    let mut cost = Cost {
        priced: (pf, pf.max(pt)),
        ..Cost::default()
    };
    if pf >= pt {
        return Ok(cost);
    }
    let (i0, i1) = (usage.slot_index(pf), usage.slot_index(pt + SLOT_S - 1));
    let import = Side::new(&c.import);
    let export = Side::new(&c.export);
    let n_names = import.names.len();
    let mut imp_e = vec![0i64; n_names];
    let mut imp_c = vec![Money::ZERO; n_names];
    let mut exp_e = vec![0i64; n_names];
    let mut exp_c = vec![Money::ZERO; n_names];
    let no_price = |side: &'static str, unix: i64| PricingError::NoPrice {
        contract: c.name.clone(),
        side,
        at: hearth_meter::MeterTime::in_zone(unix, tz).to_string(),
    };
    for i in i0..i1 {
        let slot = &usage.slots()[i];
        let (Some(ls), t) = (local.get(i), usage.slot_start(i)) else {
            continue;
        };
        let day = c.day_type(ls.date);
        for tag in Tag::ALL {
            let e = slot.import_mwh[tag.index()];
            if e != 0
                && tag == Tag::Untagged
                && let Pricing::Periods(ps) = &c.import
            {
                let follows_meter = find_period(ps, day, ls.minute, tag)
                    .is_some_and(|i| ps[i].meter_tariff.is_some());
                if follows_meter {
                    cost.untagged_mwh += e;
                }
            }
            if e != 0 {
                let (n, p) = import
                    .rate(t, day, ls.minute, tag)
                    .ok_or_else(|| no_price("import", t))?;
                imp_e[n] += e;
                imp_c[n] += p.of_mwh(e);
            }
            let e = slot.export_mwh[tag.index()];
            if e != 0 {
                let (_, p) = export
                    .rate(t, day, ls.minute, tag)
                    .ok_or_else(|| no_price("export", t))?;
                let n = import.name_at(day, ls.minute, tag);
                exp_e[n] += e;
                exp_c[n] += p.of_mwh(e);
            }
        }
    }
    let mut taxable = 0i64;
    for n in 0..n_names {
        cost.import_mwh += imp_e[n];
        cost.export_mwh += exp_e[n];
        cost.periods.push(PeriodCost {
            name: import.names[n].clone(),
            import_mwh: imp_e[n],
            export_mwh: exp_e[n],
            energy: imp_c[n],
            export_credit: exp_c[n],
        });
        if c.net_metering {
            // Export first cancels import of the same period name; what remains of each side
            // keeps its own average price.
            let cancel = imp_e[n].min(exp_e[n]).max(0);
            cost.energy += imp_c[n].mul_ratio(i128::from(imp_e[n] - cancel), i128::from(imp_e[n]));
            cost.export_credit +=
                exp_c[n].mul_ratio(i128::from(exp_e[n] - cancel), i128::from(exp_e[n]));
            taxable += imp_e[n] - cancel;
        } else {
            cost.energy += imp_c[n];
            cost.export_credit += exp_c[n];
            taxable += imp_e[n];
        }
    }
    cost.tax = c.tax_per_kwh.of_mwh(taxable);

    // Local days in the priced range, with the seconds of each that are covered.
    let days = covered_days(tz, pf, pt);
    let (n, d) = day_sum(days.iter());
    cost.fixed += c.fixed_per_day.mul_ratio(n, d);
    for month in months_of(&days) {
        cost.fixed += month_share(c.fixed_per_month, month, &days);
    }
    if let Some(cap) = &c.capacity {
        cost.months = capacity(usage, local, cap, i0, i1, &days);
        cost.capacity = cost.months.iter().map(|m| m.paid).sum();
    }
    cost.gas_cm3 = usage.gas_cm3(i0..i1);
    if let Some(gas) = &c.gas {
        // A price per m³ of cm³ has the scale of a price per kWh of mWh (a million each).
        cost.gas = (gas.price_per_m3 + gas.tax_per_m3).of_mwh(cost.gas_cm3);
        cost.gas += gas.per_day.mul_ratio(n, d);
        for month in months_of(&days) {
            cost.gas += month_share(gas.per_month, month, &days);
        }
    }
    let electricity = cost.energy + cost.tax + cost.fixed + cost.capacity - cost.export_credit;
    cost.electricity_total = electricity + c.vat.of(electricity);
    let before_vat = electricity + cost.gas;
    cost.vat = c.vat.of(before_vat);
    cost.total = before_vat + cost.vat;
    Ok(cost)
}

/// A local day and how much of it a range covers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CoveredDay {
    pub(crate) date: Date,
    pub(crate) covered_s: i64,
    pub(crate) len_s: i64,
}

pub(crate) fn covered_days(tz: &TimeZone, from: i64, to: i64) -> Vec<CoveredDay> {
    let mut out = Vec::new();
    let mut date = local_slot(from, tz).date;
    let mut start = day_start(date, tz);
    while start < to {
        let Ok(next) = date.tomorrow() else { break };
        let end = day_start(next, tz);
        if end <= start {
            break;
        }
        let covered = end.min(to) - start.max(from);
        if covered > 0 {
            out.push(CoveredDay {
                date,
                covered_s: covered,
                len_s: end - start,
            });
        }
        date = next;
        start = end;
    }
    out
}

/// The number of days covered (a sum of fractions of days, exact) as `(num, den)`.
fn day_sum<'a>(days: impl Iterator<Item = &'a CoveredDay>) -> (i128, i128) {
    let (mut n, mut d) = (0i128, 1i128);
    for day in days {
        let (a, b) = (i128::from(day.covered_s), i128::from(day.len_s));
        n = n * b + a * d;
        d *= b;
        let g = gcd(n, d);
        if g > 1 {
            n /= g;
            d /= g;
        }
    }
    (n, d)
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The first days of the months the covered days fall in, in order.
fn months_of(days: &[CoveredDay]) -> Vec<Date> {
    let mut out: Vec<Date> = Vec::new();
    for d in days {
        let m = d.date.first_of_month();
        if out.last() != Some(&m) {
            out.push(m);
        }
    }
    out
}

/// A monthly amount × covered days of that month / days in the month.
fn month_share(amount: Money, month: Date, days: &[CoveredDay]) -> Money {
    let (n, d) = day_sum(days.iter().filter(|d| d.date.first_of_month() == month));
    amount.mul_ratio(n, d * i128::from(month.days_in_month()))
}

fn capacity(
    usage: &Usage,
    local: &[LocalSlot],
    cap: &Capacity,
    i0: usize,
    i1: usize,
    days: &[CoveredDay],
) -> Vec<MonthDemand> {
    let mut months: Vec<MonthDemand> = Vec::new();
    // Group the priced slots by local month, in order.
    let mut i = i0;
    while i < i1 {
        let Some(first) = local.get(i) else { break };
        let month = first.date.first_of_month();
        let mut j = i;
        while j < i1
            && local
                .get(j)
                .is_some_and(|l| l.date.first_of_month() == month)
        {
            j += 1;
        }
        let (demand_w, peaks, charge) = match cap {
            Capacity::MonthlyPeak {
                price_per_kw_year,
                min_w,
            } => {
                let (mut best, mut at) = (0i64, usage.slot_start(i));
                for k in i..j {
                    let mw = usage.slots()[k].import() * 4;
                    if mw > best {
                        best = mw;
                        at = usage.slot_start(k);
                    }
                }
                let billed_mw = best.max(min_w * 1000);
                let year = Money(price_per_kw_year.0.saturating_mul(i128::from(billed_mw)));
                (best / 1000, vec![at], year.mul_ratio(1, 12))
            }
            Capacity::Top3DailyHourly { steps } => {
                let (mean_mw, hours) = top3_daily_hourly(usage, local, i, j);
                let step = steps
                    .iter()
                    .find(|s| s.up_to_w * 1000 >= mean_mw)
                    .or(steps.last());
                (
                    mean_mw / 1000,
                    hours,
                    step.map_or(Money::ZERO, |s| s.per_month),
                )
            }
        };
        let paid = month_share(charge, month, days);
        months.push(MonthDemand {
            month,
            demand_w,
            peaks,
            charge,
            paid,
        });
        i = j;
    }
    months
}

/// The mean (mW) of the three highest daily hourly imports (on three different days) among
/// slots `i..j`, and the start of each of those hours.
pub(crate) fn top3_daily_hourly(
    usage: &Usage,
    local: &[LocalSlot],
    i: usize,
    j: usize,
) -> (i64, Vec<i64>) {
    // (date, daily max mWh, hour start) per day.
    let mut daily: Vec<(Date, i64, i64)> = Vec::new();
    let mut k = i;
    while k < j {
        let Some(&l) = local.get(k) else { break };
        let hour_start = usage.slot_start(k) - i64::from(l.minute % 60) * 60;
        let mut sum = 0;
        let mut m = k;
        while m < j && usage.slot_start(m) < hour_start + 3600 {
            sum += usage.slots()[m].import();
            m += 1;
        }
        match daily.last_mut() {
            Some(d) if d.0 == l.date => {
                if sum > d.1 {
                    d.1 = sum;
                    d.2 = hour_start;
                }
            }
            _ => daily.push((l.date, sum, hour_start)),
        }
        k = m.max(k + 1);
    }
    daily.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
    let top: Vec<_> = daily.iter().take(3).collect();
    if top.is_empty() {
        return (0, Vec::new());
    }
    // An hour's kWh is its mean kW; mWh per hour is mean mW.
    let mean = top.iter().map(|d| d.1).sum::<i64>() / top.len() as i64;
    let mut hours: Vec<i64> = top.iter().map(|d| d.2).collect();
    hours.sort_unstable();
    (mean, hours)
}

/// What one more kWh costs (import) or earns (export) at a moment under a contract, with
/// tax and VAT included: the marginal rates tips use to value moving or saving energy.
pub struct Rates<'a> {
    contract: &'a Contract,
    import: Side<'a>,
    export: Side<'a>,
}

impl<'a> Rates<'a> {
    /// Rates of `contract`.
    pub fn new(contract: &'a Contract) -> Rates<'a> {
        Rates {
            contract,
            import: Side::new(&contract.import),
            export: Side::new(&contract.export),
        }
    }

    /// Import price + tax, plus VAT, at `unix` whose local position in the contract's zone
    /// is `at`; `None` where a dynamic price is missing.
    pub fn import(&self, unix: i64, at: &LocalSlot) -> Option<Price> {
        let day = self.contract.day_type(at.date);
        let (_, p) = self.import.rate(unix, day, at.minute, Tag::Untagged)?;
        Some((p + self.contract.tax_per_kwh).with_percent(self.contract.vat))
    }

    /// Export credit plus VAT at a moment.
    pub fn export(&self, unix: i64, at: &LocalSlot) -> Option<Price> {
        let day = self.contract.day_type(at.date);
        let (_, p) = self.export.rate(unix, day, at.minute, Tag::Untagged)?;
        Some(p.with_percent(self.contract.vat))
    }
}
