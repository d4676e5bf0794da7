//! Always-on base load (the low of night-time power) and constant loads that appeared since a
//! date (a lasting step up in that nightly low).

use super::message::amount;
use super::{Ctx, Evidence, Tip, TipKind, TipMessage, mad, median, percentile};
use jiff::civil::Date;

/// Local night window used for the base load: 00:00 to 05:00.
const NIGHT_END_MIN: u16 = 5 * 60;
/// Measured quarter hours a night needs to count.
const MIN_NIGHT_SLOTS: usize = 12;
/// Hours in a (non-leap) year, for W -> Wh per year.
const HOURS_PER_YEAR: i64 = 8_760;

/// One night's base load: the 10th percentile of its measured quarter-hour means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Night {
    pub(crate) date: Date,
    pub(crate) watts: i64,
}

pub(crate) fn nightly_bases(ctx: &Ctx<'_>) -> Vec<Night> {
    let mut out = Vec::new();
    let mut values: Vec<i64> = Vec::new();
    let mut date: Option<Date> = None;
    let mut flush = |date: Option<Date>, values: &mut Vec<i64>| {
        if let Some(d) = date
            && values.len() >= MIN_NIGHT_SLOTS
        {
            values.sort_unstable();
            if let Some(w) = percentile(values, 10) {
                out.push(Night { date: d, watts: w });
            }
        }
        values.clear();
    };
    for (i, s) in ctx.usage.slots().iter().enumerate() {
        let l = ctx.local[i];
        if l.minute >= NIGHT_END_MIN {
            continue;
        }
        if date != Some(l.date) {
            flush(date, &mut values);
            date = Some(l.date);
        }
        if s.is_measured() {
            values.push(s.import_w());
        }
    }
    flush(date, &mut values);
    out
}

pub(crate) fn base_load(ctx: &Ctx<'_>, nights: &[Night]) -> Option<Tip> {
    if nights.len() < 7 {
        return None;
    }
    let watts: Vec<i64> = nights.iter().map(|n| n.watts).collect();
    let base = median(&watts)?;
    if base < 10 {
        return None;
    }
    let wh_per_year = base * HOURS_PER_YEAR;
    let (money, currency) = ctx.money_for(wh_per_year, ctx.mean_import_rate());
    // Monthly trend: median nightly base per month.
    let mut series: Vec<(String, i64)> = Vec::new();
    let mut i = 0;
    while i < nights.len() {
        let m = nights[i].date.first_of_month();
        let j = nights[i..]
            .iter()
            .position(|n| n.date.first_of_month() != m)
            .map_or(nights.len(), |k| i + k);
        let w: Vec<i64> = nights[i..j].iter().map(|n| n.watts).collect();
        if let Some(med) = median(&w) {
            series.push((m.strftime("%Y-%m").to_string(), med));
        }
        i = j;
    }
    let message = TipMessage::BaseLoad {
        watts: base,
        kwh_per_year: wh_per_year / 1000,
        cost: amount(money, currency.as_ref()),
    };
    Some(Tip {
        kind: TipKind::BaseLoad,
        summary: message.english(),
        message,
        wh_per_year,
        money_per_year: money,
        currency,
        confidence: (0.4 + nights.len() as f64 / 60.0).min(0.95),
        evidence: Evidence {
            watts: Some(base),
            series,
            ..Evidence::default()
        },
    })
}

pub(crate) fn new_constant_load(ctx: &Ctx<'_>, nights: &[Night]) -> Option<Tip> {
    const SIDE: usize = 14;
    const WINDOW: usize = 30;
    let n = nights.len();
    if n < 2 * SIDE {
        return None;
    }
    let w: Vec<i64> = nights.iter().map(|x| x.watts).collect();
    // The split with the clearest lasting step up in the nightly base.
    let mut best: Option<(f64, usize, i64, i64)> = None;
    for k in SIDE..=n - SIDE {
        let before = &w[k.saturating_sub(WINDOW)..k];
        let after = &w[k..(k + WINDOW).min(n)];
        let (Some(mb), Some(ma)) = (median(before), median(after)) else {
            continue;
        };
        let step = ma - mb;
        let noise = (mad(before) + mad(after) + 5) as f64;
        let score = step as f64 / noise;
        if step >= 30 && score >= 3.0 && best.is_none_or(|b| score > b.0) {
            best = Some((score, k, step, mb));
        }
    }
    let (score, k, step, before) = best?;
    // The first night from which the base stays above halfway up the step.
    let half = before + step / 2;
    let since_idx = (k.saturating_sub(SIDE)..n)
        .find(|&j| {
            let next = &w[j..(j + 7).min(n)];
            w[j] >= half && next.iter().filter(|v| **v >= half).count() * 2 > next.len()
        })
        .unwrap_or(k);
    let since = nights[since_idx].date;
    let wh_per_year = step * HOURS_PER_YEAR;
    let (money, currency) = ctx.money_for(wh_per_year, ctx.mean_import_rate());
    let message = TipMessage::NewConstantLoad {
        since,
        watts: step,
        kwh_per_year: wh_per_year / 1000,
        cost: amount(money, currency.as_ref()),
    };
    Some(Tip {
        kind: TipKind::NewConstantLoad,
        summary: message.english(),
        message,
        wh_per_year,
        money_per_year: money,
        currency,
        confidence: (score / 10.0).clamp(0.5, 0.95),
        evidence: Evidence {
            since: Some(since),
            watts: Some(step),
            series: nights[since_idx.saturating_sub(SIDE)..(since_idx + SIDE).min(n)]
                .iter()
                .map(|x| (x.date.to_string(), x.watts))
                .collect(),
            ..Evidence::default()
        },
    })
}
