//! Tips about the contract itself: the cheapest of the contracts entered (and presets) over
//! the last year, and the capacity charge with the peaks that set it.

use super::base::Night;
use super::message::{Amount, PeakBasis};
use super::{ContractTotal, Ctx, Evidence, Tip, TipKind, TipMessage, median, percentile};
use crate::contract::Capacity;
use crate::cost::{local_slots, price_hypothetical};
use crate::money::Money;
use jiff::Timestamp;

fn range(ctx: &Ctx<'_>) -> Option<(Timestamp, Timestamp)> {
    Some((
        Timestamp::from_second(ctx.usage.start()).ok()?,
        Timestamp::from_second(ctx.usage.end()).ok()?,
    ))
}

pub(crate) fn cheapest_contract(ctx: &Ctx<'_>) -> Option<Tip> {
    let (current, _, _) = ctx.current.as_ref()?;
    let (from, to) = range(ctx)?;
    let mut priced: Vec<(String, Money, bool)> = Vec::new();
    for c in ctx.contracts.iter().chain(ctx.alternatives) {
        if c.currency != current.currency || priced.iter().any(|p| p.0 == c.name) {
            continue;
        }
        let local = local_slots(ctx.usage, &c.time_zone);
        if let Ok(cost) = price_hypothetical(ctx.usage, c, &local, from, to) {
            priced.push((
                c.name.clone(),
                // Electricity only: a contract that also prices gas is not dearer for it.
                ctx.per_year_money(cost.electricity_total),
                std::ptr::eq(c, *current),
            ));
        }
    }
    if priced.len() < 2 {
        return None;
    }
    priced.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    let mine = priced.iter().find(|p| p.2)?.1;
    let best = &priced[0];
    let saving = mine - best.1;
    if best.2 || saving < Money::units(1).max(mine.mul_ratio(1, 100)) {
        return None;
    }
    let days = ctx.covered_s / 86_400;
    let message = TipMessage::CheapestContract {
        days,
        cheapest: best.0.clone(),
        current: current.name.clone(),
        saving: Amount {
            money: saving,
            currency: current.currency.clone(),
        },
    };
    Some(Tip {
        kind: TipKind::CheapestContract,
        summary: message.english(),
        message,
        wh_per_year: 0,
        money_per_year: Some(saving),
        currency: Some(current.currency.clone()),
        confidence: (days as f64 / 365.0).clamp(0.3, 0.9),
        evidence: Evidence {
            contracts: priced
                .into_iter()
                .map(|(name, per_year, _)| ContractTotal { name, per_year })
                .collect(),
            ..Evidence::default()
        },
    })
}

pub(crate) fn capacity_peak(ctx: &Ctx<'_>, nights: &[Night]) -> Option<Tip> {
    let (c, local, _) = ctx.current.as_ref()?;
    let cap = c.capacity.as_ref()?;
    let (from, to) = range(ctx)?;
    let cost = price_hypothetical(ctx.usage, c, local, from, to).ok()?;
    let slots = ctx.usage.slots();
    let mut saving = Money::ZERO;
    let mut latest: Option<(i64, Vec<i64>, i64)> = None;
    for m in &cost.months {
        let idx: Vec<usize> = (0..slots.len())
            .filter(|&i| local[i].date.first_of_month() == m.month && slots[i].has_data())
            .collect();
        if idx.is_empty() || m.charge == Money::ZERO {
            continue;
        }
        let (target_w, target_charge) = match cap {
            Capacity::MonthlyPeak { min_w, .. } => {
                // Peaks shaved to the level of the month's other 99 % of quarter hours.
                let mut w: Vec<i64> = idx.iter().map(|&i| slots[i].import_w()).collect();
                w.sort_unstable();
                let p99 = percentile(&w, 99).unwrap_or(0);
                let billed = m.demand_w.max(*min_w);
                let target = p99.max(*min_w);
                (
                    target,
                    m.charge
                        .mul_ratio(i128::from(target), i128::from(billed.max(1))),
                )
            }
            Capacity::Top3DailyHourly { steps } => {
                // No day's peak hour above a typical day's peak hour.
                let maxima = daily_hourly_maxima(ctx, local, &idx);
                let target = median(&maxima).unwrap_or(0);
                let step = steps.iter().find(|s| s.up_to_w >= target).or(steps.last());
                (target, step.map_or(Money::ZERO, |s| s.per_month))
            }
        };
        if target_charge < m.charge {
            saving += (m.charge - target_charge).mul_ratio(m.paid.0, m.charge.0);
        }
        latest = Some((m.demand_w, m.peaks.clone(), target_w));
    }
    let per_year = ctx.per_year_money(saving);
    if per_year < Money::units(1) {
        return None;
    }
    let (peak_w, peaks, target_w) = latest?;
    let base = median(&nights.iter().map(|n| n.watts).collect::<Vec<_>>()).unwrap_or(0);
    let message = TipMessage::CapacityPeak {
        basis: match cap {
            Capacity::MonthlyPeak { .. } => PeakBasis::QuarterHour,
            Capacity::Top3DailyHourly { .. } => PeakBasis::TopThreeHours,
        },
        peak_w,
        latest: peaks
            .last()
            .map(|t| hearth_meter::MeterTime::in_zone(*t, &c.time_zone)),
        above_base_w: (peak_w - base).max(0),
        target_w,
        saving: Amount {
            money: per_year,
            currency: c.currency.clone(),
        },
    };
    Some(Tip {
        kind: TipKind::CapacityPeak,
        summary: message.english(),
        message,
        wh_per_year: 0,
        money_per_year: Some(per_year),
        currency: Some(c.currency.clone()),
        confidence: 0.8,
        evidence: Evidence {
            watts: Some(peak_w),
            times: peaks,
            series: cost
                .months
                .iter()
                .map(|m| (m.month.strftime("%Y-%m").to_string(), m.demand_w))
                .collect(),
            ..Evidence::default()
        },
    })
}

/// Each local day's highest hourly import (mWh per hour = mean mW), over slots `idx`.
fn daily_hourly_maxima(ctx: &Ctx<'_>, local: &[crate::cost::LocalSlot], idx: &[usize]) -> Vec<i64> {
    let slots = ctx.usage.slots();
    let mut out: Vec<(jiff::civil::Date, i64)> = Vec::new();
    let mut k = 0;
    while k < idx.len() {
        let i = idx[k];
        let hour_start = ctx.usage.slot_start(i) - i64::from(local[i].minute % 60) * 60;
        let mut sum = 0;
        while k < idx.len() && ctx.usage.slot_start(idx[k]) < hour_start + 3600 {
            sum += slots[idx[k]].import();
            k += 1;
        }
        let w = sum / 1000;
        match out.last_mut() {
            Some(d) if d.0 == local[i].date => d.1 = d.1.max(w),
            _ => out.push((local[i].date, w)),
        }
    }
    out.into_iter().map(|d| d.1).collect()
}
