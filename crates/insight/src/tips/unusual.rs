//! Unusual use: the last seven days against the household's own typical week (the median of
//! the same weekday and hour over earlier weeks), flagged only when the difference is larger
//! than how much ordinary weeks already vary, so it does not cry wolf.

use super::message::amount;
use super::{Ctx, Evidence, Tip, TipKind, TipMessage, mad, median};
use std::collections::HashMap;

const WEEK_S: i64 = 7 * 86_400;

/// A week's deviation from typical: (total mWh, typical mWh, per hour (start, mWh)).
type Deviation = (i64, i64, Vec<(i64, i64)>);

/// A complete local hour: its start, (weekday, hour) key and energy in mWh.
struct Hour {
    start: i64,
    key: (i8, u16),
    mwh: i64,
}

fn hours(ctx: &Ctx<'_>) -> Vec<Hour> {
    let slots = ctx.usage.slots();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 4 <= slots.len() {
        let l = ctx.local[i];
        if !l.minute.is_multiple_of(60) {
            i += 1;
            continue;
        }
        let same_hour = (i..i + 4)
            .all(|k| ctx.local[k].date == l.date && ctx.local[k].minute / 60 == l.minute / 60);
        if same_hour && (i..i + 4).all(|k| slots[k].is_measured()) {
            out.push(Hour {
                start: ctx.usage.slot_start(i),
                key: (l.date.weekday().to_monday_zero_offset(), l.minute / 60),
                mwh: (i..i + 4).map(|k| slots[k].import()).sum(),
            });
        }
        i += 4;
    }
    out
}

pub(crate) fn unusual(ctx: &Ctx<'_>) -> Option<Tip> {
    let end = ctx.now.min(ctx.usage.end());
    let week_start = end - WEEK_S;
    let all = hours(ctx);
    let history: Vec<&Hour> = all.iter().filter(|h| h.start < week_start).collect();
    let weeks = (week_start - ctx.usage.start()) / WEEK_S;
    if weeks < 4 {
        return None;
    }
    let mut typical: HashMap<(i8, u16), Vec<i64>> = HashMap::new();
    for h in &history {
        typical.entry(h.key).or_default().push(h.mwh);
    }
    let typical: HashMap<(i8, u16), i64> = typical
        .into_iter()
        .filter(|(_, v)| v.len() >= 3)
        .filter_map(|(k, v)| Some((k, median(&v)?)))
        .collect();
    // How far one week strays from typical: this week, and every earlier whole week.
    let deviation = |from: i64, to: i64| -> Option<Deviation> {
        let (mut dev, mut base, mut n) = (0i64, 0i64, 0usize);
        let mut per_hour = Vec::new();
        for h in all.iter().filter(|h| (from..to).contains(&h.start)) {
            if let Some(t) = typical.get(&h.key) {
                dev += h.mwh - t;
                base += t;
                n += 1;
                per_hour.push((h.start, h.mwh - t));
            }
        }
        (n >= 7 * 24 * 3 / 4).then_some((dev, base, per_hour))
    };
    let (dev, base, mut per_hour) = deviation(week_start, end)?;
    let earlier: Vec<i64> = (1..=weeks)
        .filter_map(|w| deviation(week_start - w * WEEK_S, end - w * WEEK_S).map(|d| d.0))
        .collect();
    if earlier.len() < 4 {
        return None;
    }
    // Robust spread of ordinary weeks (MAD scaled to a standard deviation).
    let sigma = mad(&earlier) * 14_826 / 10_000 + 1;
    let threshold = (3 * sigma).max(base * 15 / 100).max(7_000_000);
    if dev <= threshold {
        return None;
    }
    let z = dev as f64 / sigma as f64;
    let wh_per_year = dev * 365 / 7 / 1000;
    let (money, currency) = ctx.money_for(wh_per_year, ctx.mean_import_rate());
    per_hour.sort_by_key(|h| std::cmp::Reverse(h.1));
    let times: Vec<i64> = per_hour.iter().take(5).map(|h| h.0).collect();
    let hours_n = per_hour.len().max(1) as i64;
    let message = TipMessage::Unusual {
        extra_mwh: dev,
        percent: dev * 100 / base.max(1),
        cost: amount(money, currency.as_ref()),
    };
    Some(Tip {
        kind: TipKind::Unusual,
        summary: message.english(),
        message,
        wh_per_year,
        money_per_year: money,
        currency,
        confidence: (z / 6.0).clamp(0.5, 0.95),
        evidence: Evidence {
            watts: Some(dev / hours_n / 1000),
            times,
            ..Evidence::default()
        },
    })
}
