//! Recurring large loads (washing machine, dishwasher, EV) found from steps in quarter-hour
//! power, what moving them to cheaper hours would save, and the solar variant: using exported
//! energy at home instead of buying it back later.

use super::base::Night;
use super::message::Amount;
use super::{Ctx, Evidence, Tip, TipKind, TipMessage};
use crate::money::Money;

/// A load starts when the quarter-hour mean rises this far above the night's base (W)...
const START_W: i64 = 1_000;
/// ...and lasts while it stays this far above it (W).
const HOLD_W: i64 = 250;
/// Longer than this (slots) is a continuous load, not a cycle.
const MAX_SLOTS: usize = 48;
/// A load may move this many slots earlier or later (12 hours).
const SHIFT_SLOTS: i64 = 48;

/// One large load: where it starts and its energy above the base load per slot (mWh).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Event {
    pub(crate) start: usize,
    pub(crate) mwh: Vec<i64>,
}

impl Event {
    fn energy(&self) -> i64 {
        self.mwh.iter().sum()
    }
}

pub(crate) fn events(ctx: &Ctx<'_>, nights: &[Night]) -> Vec<Event> {
    let slots = ctx.usage.slots();
    if nights.is_empty() {
        return Vec::new();
    }
    // Base per slot: that local date's night base, else the latest before it.
    let mut base = vec![None; slots.len()];
    let mut n = 0;
    for (i, b) in base.iter_mut().enumerate() {
        let d = ctx.local[i].date;
        while n + 1 < nights.len() && nights[n + 1].date <= d {
            n += 1;
        }
        if nights[n].date <= d {
            *b = Some(nights[n].watts);
        }
    }
    let above = |i: usize| -> Option<i64> {
        let s = slots.get(i)?;
        if !s.is_measured() {
            return None;
        }
        Some(s.import_w() - base[i]?)
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < slots.len() {
        if above(i).is_some_and(|a| a >= START_W) {
            let mut start = i;
            let floor = out.last().map_or(0, |e: &Event| e.start + e.mwh.len());
            while start > floor && above(start - 1).is_some_and(|a| a >= HOLD_W) {
                start -= 1;
            }
            let mut end = i + 1;
            while end < slots.len() && above(end).is_some_and(|a| a >= HOLD_W) {
                end += 1;
            }
            if end - start <= MAX_SLOTS {
                let mwh = (start..end)
                    .map(|k| (slots[k].import() - base[k].unwrap_or(0) * 250).max(0))
                    .collect();
                out.push(Event { start, mwh });
            }
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// (actual cost, cheapest cost, best start slot) of one event under the current contract.
fn shift_cost(ctx: &Ctx<'_>, e: &Event) -> Option<(Money, Money, usize)> {
    let cost_at = |start: i64| -> Option<Money> {
        let mut m = Money::ZERO;
        for (k, mwh) in e.mwh.iter().enumerate() {
            let i = usize::try_from(start + k as i64).ok()?;
            if i >= ctx.usage.slots().len() {
                return None;
            }
            m += ctx.import_rate(i)?.of_mwh(*mwh);
        }
        Some(m)
    };
    let actual = cost_at(e.start as i64)?;
    let (mut best, mut best_at) = (actual, e.start);
    for d in -SHIFT_SLOTS..=SHIFT_SLOTS {
        let s = e.start as i64 + d;
        if let Some(c) = cost_at(s)
            && c < best
        {
            best = c;
            best_at = s as usize;
        }
    }
    Some((actual, best, best_at))
}

pub(crate) fn load_shift(ctx: &Ctx<'_>, events: &[Event]) -> Vec<Tip> {
    let Some(currency) = ctx.currency() else {
        return Vec::new();
    };
    let days = (ctx.covered_s / 86_400).max(1) as usize;
    let mut left: Vec<&Event> = events.iter().collect();
    let mut tips = Vec::new();
    for _ in 0..3 {
        // The two-hour window of start times with the most loads.
        let hour = |e: &Event| usize::from(ctx.local[e.start].minute / 60);
        let mut counts = [0usize; 24];
        for e in &left {
            counts[hour(e)] += 1;
        }
        let Some((h, n)) = (0..24)
            .map(|h| (h, counts[h] + counts[(h + 1) % 24]))
            .max_by_key(|x| (x.1, 24 - x.0))
        else {
            break;
        };
        if n < 8 || n * 5 < days {
            break;
        }
        let (group, rest): (Vec<&Event>, Vec<&Event>) = left
            .iter()
            .partition(|e| hour(e) == h || hour(e) == (h + 1) % 24);
        left = rest;
        let (mut saving, mut energy, mut slots_n) = (Money::ZERO, 0i64, 0usize);
        let mut best_hours = [0usize; 24];
        for e in &group {
            if let Some((actual, best, at)) = shift_cost(ctx, e) {
                saving += actual - best;
                best_hours[usize::from(ctx.local[at].minute / 60)] += usize::from(best < actual);
            }
            energy += e.energy();
            slots_n += e.mwh.len();
        }
        let per_year = ctx.per_year_money(saving);
        if per_year < Money::units(1) {
            continue;
        }
        let watts = energy * 4 / 1000 / slots_n.max(1) as i64;
        let minutes = slots_n * 15 / group.len().max(1);
        let to_hour = (0..24)
            .max_by_key(|h| (best_hours[*h], 24 - h))
            .unwrap_or(0);
        let wh_per_year = ctx.per_year_mwh(energy) / 1000;
        let mut times: Vec<i64> = group
            .iter()
            .map(|e| ctx.usage.slot_start(e.start))
            .collect();
        times.sort_unstable();
        let times = times.split_off(times.len().saturating_sub(10));
        let message = TipMessage::LoadShift {
            watts,
            minutes: minutes as i64,
            runs: group.len() as i64,
            days: days as i64,
            from_hour: h as u8,
            until_hour: ((h + 2) % 24) as u8,
            better_hour: to_hour as u8,
            saving: Amount {
                money: per_year,
                currency: currency.clone(),
            },
        };
        tips.push(Tip {
            kind: TipKind::LoadShift,
            summary: message.english(),
            message,
            wh_per_year,
            money_per_year: Some(per_year),
            currency: Some(currency.clone()),
            confidence: (0.3 + group.len() as f64 / days as f64).min(0.9),
            evidence: Evidence {
                watts: Some(watts),
                times,
                ..Evidence::default()
            },
        });
    }
    tips
}

pub(crate) fn solar(ctx: &Ctx<'_>, events: &[Event]) -> Option<Tip> {
    let (contract, _, _) = ctx.current.as_ref()?;
    if contract.net_metering {
        // Export already cancels import at the import price: moving loads gains (almost) nothing.
        return None;
    }
    let slots = ctx.usage.slots();
    let (mut exp_e, mut exp_v) = (0i64, Money::ZERO);
    let mut by_hour = [0i64; 24];
    for (i, s) in slots.iter().enumerate() {
        let e = s.export();
        if e > 0 {
            exp_e += e;
            exp_v += ctx.export_rate(i)?.of_mwh(e);
            by_hour[usize::from(ctx.local[i].minute / 60)] += e;
        }
    }
    let export_per_year = ctx.per_year_mwh(exp_e);
    if export_per_year < 100_000_000 {
        return None;
    }
    // Loads that ran while nothing was exported that day at that hour: candidates to move.
    let (mut load_e, mut load_v) = (0i64, Money::ZERO);
    for e in events {
        let overlaps_export =
            (e.start..e.start + e.mwh.len()).any(|i| slots.get(i).is_some_and(|s| s.export() > 0));
        if overlaps_export {
            continue;
        }
        for (k, mwh) in e.mwh.iter().enumerate() {
            if let Some(r) = ctx.import_rate(e.start + k) {
                load_e += mwh;
                load_v += r.of_mwh(*mwh);
            }
        }
    }
    if load_e == 0 || exp_e == 0 {
        return None;
    }
    let movable = load_e.min(exp_e);
    // Value per moved kWh: its average import price minus the average export credit.
    let gain = load_v.mul_ratio(i128::from(movable), i128::from(load_e))
        - exp_v.mul_ratio(i128::from(movable), i128::from(exp_e));
    let per_year = ctx.per_year_money(gain);
    if per_year < Money::units(1) {
        return None;
    }
    let peak = by_hour.iter().copied().max().unwrap_or(0);
    let sunny: Vec<usize> = (0..24)
        .filter(|h| by_hour[*h] * 2 >= peak && peak > 0)
        .collect();
    let (first, last) = (
        sunny.first().copied().unwrap_or(12),
        sunny.last().copied().unwrap_or(12) + 1,
    );
    let currency = contract.currency.clone();
    let message = TipMessage::Solar {
        export_kwh_per_year: export_per_year / 1_000_000,
        from_hour: first as u8,
        until_hour: last as u8,
        saving: Amount {
            money: per_year,
            currency: currency.clone(),
        },
    };
    Some(Tip {
        kind: TipKind::Solar,
        summary: message.english(),
        message,
        wh_per_year: ctx.per_year_mwh(movable) / 1000,
        money_per_year: Some(per_year),
        currency: Some(currency),
        confidence: 0.6,
        evidence: Evidence {
            watts: None,
            series: (0..24)
                .map(|h| (format!("{h:02}:00"), by_hour[h] / 1000))
                .collect(),
            ..Evidence::default()
        },
    })
}
