//! Register readings for newly imported intervals, placed around the readings the vault
//! already holds so that nothing stored changes and every sum stays exact.

use super::intervals::{Interval, round_milli};
use crate::reading::{MeterId, Protocol, Quantity, Reading};
use crate::time::MeterTime;
use jiff::tz::TimeZone;

/// Where a register starts when nothing stored is near: 1 GWh, so that counting backwards
/// for earlier downloads imported later stays positive for centuries of household use.
pub const FIRST_REGISTER_WH: i64 = 1_000_000_000;

/// A register reading the vault already holds (from a supplier download or a meter): its
/// time (Unix seconds) and import register (Wh).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stored {
    /// Unix seconds.
    pub time: i64,
    /// The import register, Wh.
    pub wh: i64,
}

/// What [`plan_registers`] decided for the new intervals of one import.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegisterPlan {
    /// New intervals whose energy the readings in `points` carry.
    pub accepted: Vec<Interval>,
    /// New intervals left out because the vault already holds readings inside them: a
    /// meter's own readings are finer than a supplier's half hours, and booking both would
    /// count the energy twice.
    pub covered: Vec<Interval>,
    /// Register readings to store, `(time, Wh)`, oldest first.
    pub points: Vec<(i64, i64)>,
}

/// Register readings for intervals imported after others are already stored, such that
/// nothing stored has to change and every step between neighbouring stored readings books
/// exactly the energy of the intervals it spans.
///
/// `new` are the intervals not imported before (by start, not overlapping). `before` is the
/// last stored reading earlier than the first new start, `span` the stored readings from the
/// first new start to the last new end (both included, oldest first), `after` the first
/// stored reading later than the last new end. Readings without an import register do not
/// count.
///
/// New intervals with no stored reading between them form a chain whose register rises by
/// their energy (a rounded running total, so nothing drifts) and stays flat over holes (Octopus
/// leaves zero half hours out), with a reading at each interval's end and at the start of each
/// contiguous run. Where a chain starts:
/// - continuing a stored reading at its start (it follows stored data directly);
/// - else ending exactly at a stored reading at its end (an earlier download imported after a
///   later one, or supplier history before a meter's own readings, counts backwards from it);
/// - else continuing the last stored reading before it (the hole between books nothing);
/// - else counting backwards from the next stored reading after it;
/// - else at [`FIRST_REGISTER_WH`].
///
/// A stored reading exactly on a boundary between new intervals cuts the chain there.
///
/// A chain that fills a hole between stored readings on both sides cannot also end at the
/// right-hand stored value, which was chosen before the chain's energy was known. It ends one
/// second early at its own total, and the step to the stored reading goes down (the vault's
/// rollups book nothing for a register that goes down; next to a meter's own readings it may
/// go up by what the meter counted beyond the supplier's figures): the last interval's energy falls
/// into its first 1,799 seconds instead of all 1,800; the sums of every half hour, day and
/// month stay exact.
pub fn plan_registers(
    new: &[Interval],
    before: Option<Stored>,
    span: impl IntoIterator<Item = Stored>,
    after: Option<Stored>,
) -> RegisterPlan {
    let n = new.len();
    // For each new interval: the last stored reading at or before its start, the first at or
    // after its end, whether one lies strictly inside it, and whether one is exactly at its
    // start (a run is cut there and continues from it).
    let mut left: Vec<Option<Stored>> = vec![None; n];
    let mut right: Vec<Option<Stored>> = vec![None; n];
    let mut covered = vec![false; n];
    let mut stored_at_start = vec![false; n];
    let (mut i_left, mut i_right, mut i_in) = (0, 0, 0);
    let mut last = before;
    for s in span {
        while i_left < n && new[i_left].start < s.time {
            left[i_left] = last;
            i_left += 1;
        }
        if i_left < n && new[i_left].start == s.time {
            stored_at_start[i_left] = true;
        }
        while i_right < n && new[i_right].end <= s.time {
            right[i_right] = Some(s);
            i_right += 1;
        }
        while i_in < n && new[i_in].end <= s.time {
            i_in += 1;
        }
        if i_in < n && new[i_in].start < s.time {
            covered[i_in] = true;
        }
        last = Some(s);
    }
    left[i_left..].fill(last);
    right[i_right..].fill(after);

    // Runs of contiguous new intervals that no stored reading lies inside.
    let mut plan = RegisterPlan::default();
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < n {
        if covered[i] {
            plan.covered.push(new[i]);
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < n && !covered[j] && !stored_at_start[j] && new[j].start == new[j - 1].end {
            j += 1;
        }
        runs.push((i, j));
        i = j;
    }
    // Runs with no stored reading between them form one chain, flat across their holes.
    let mut g = 0;
    while g < runs.len() {
        let mut h = g + 1;
        while h < runs.len()
            && right[runs[h - 1].1 - 1].is_none_or(|r| r.time > new[runs[h].0].start)
        {
            h += 1;
        }
        let chain = &runs[g..h];
        let (first, last) = (chain[0].0, chain[chain.len() - 1].1 - 1);
        let (s, e) = (new[first].start, new[last].end);
        let total: i128 = chain
            .iter()
            .flat_map(|&(i, j)| &new[i..j])
            .map(|iv| i128::from(iv.energy_milli_wh))
            .sum();
        let (l, r) = (left[first], right[last]);
        let left_abuts = l.is_some_and(|l| l.time == s);
        let right_abuts = r.is_some_and(|r| r.time == e);
        let base = match (l, r) {
            (Some(l), _) if left_abuts => l.wh,
            (_, Some(r)) if right_abuts => r.wh.saturating_sub(round_milli(total)),
            (Some(l), _) => l.wh,
            (None, Some(r)) => r.wh.saturating_sub(round_milli(total)),
            (None, None) => FIRST_REGISTER_WH,
        };
        let mut cum: i128 = 0;
        for &(i, j) in chain {
            if !(i == first && left_abuts) {
                plan.points
                    .push((new[i].start, base.saturating_add(round_milli(cum))));
            }
            for (k, iv) in new[i..j].iter().enumerate() {
                cum += i128::from(iv.energy_milli_wh);
                let wh = base.saturating_add(round_milli(cum));
                match r {
                    Some(r) if right_abuts && i + k == last => {
                        if wh != r.wh && iv.end - 1 > iv.start {
                            plan.points.push((iv.end - 1, wh));
                        }
                    }
                    _ => plan.points.push((iv.end, wh)),
                }
            }
            plan.accepted.extend_from_slice(&new[i..j]);
        }
        g = h;
    }
    plan
}

/// Readings ([`Protocol::Supplier`]) for planned `(time, Wh)` points of `quantity`, times
/// shown in `tz`.
pub fn plan_readings(
    points: &[(i64, i64)],
    quantity: Quantity,
    meter_id: Option<&MeterId>,
    tz: &TimeZone,
) -> Vec<Reading> {
    points
        .iter()
        .map(|&(t, wh)| {
            let mut r = Reading::new(Protocol::Supplier);
            r.time = Some(MeterTime::in_zone(t, tz));
            r.meter_id = meter_id.cloned();
            r.set(quantity, wh);
            r
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An interval of `wh` watt-hours.
    pub(crate) fn iv(start: i64, end: i64, wh: i64) -> Interval {
        Interval {
            start,
            end,
            energy_milli_wh: wh * 1000,
        }
    }

    fn at(time: i64, wh: i64) -> Stored {
        Stored { time, wh }
    }

    #[test]
    fn nothing_stored_starts_at_the_fixed_register_flat_over_holes() {
        let new = [iv(0, 1800, 100), iv(1800, 3600, 200), iv(5400, 7200, 50)];
        let plan = plan_registers(&new, None, [], None);
        let b = FIRST_REGISTER_WH;
        assert_eq!(
            plan.points,
            [
                (0, b),
                (1800, b + 100),
                (3600, b + 300),
                (5400, b + 300),
                (7200, b + 350)
            ]
        );
        assert_eq!(plan.accepted, new);
        assert!(plan.covered.is_empty());
    }

    #[test]
    fn an_earlier_chain_counts_back_from_the_stored_reading_it_ends_at() {
        let new = [iv(0, 1800, 100), iv(1800, 3600, 200)];
        let plan = plan_registers(&new, None, [], Some(at(3600, 5000)));
        // 5000 − (100 + 200) = 4700; the reading at 3600 is the stored one.
        assert_eq!(plan.points, [(0, 4700), (1800, 4800)]);
        // Not abutting: it still counts back, and the hole before the stored one is flat.
        let plan = plan_registers(&new, None, [], Some(at(9000, 5000)));
        assert_eq!(plan.points, [(0, 4700), (1800, 4800), (3600, 5000)]);
    }

    #[test]
    fn a_later_chain_continues_the_stored_reading() {
        let plan = plan_registers(&[iv(3600, 5400, 100)], None, [at(3600, 777)], None);
        assert_eq!(plan.points, [(5400, 877)]);
        let plan = plan_registers(&[iv(3600, 5400, 100)], Some(at(10, 777)), [], None);
        assert_eq!(plan.points, [(3600, 777), (5400, 877)]);
    }

    #[test]
    fn a_filled_hole_ends_one_second_early_and_steps_down() {
        let new = [iv(1800, 3600, 100), iv(3600, 5400, 200)];
        let span = [at(1800, 1000), at(5400, 900)];
        let plan = plan_registers(&new, None, span, None);
        // From 1000: 1100 at 3600, then 1300 one second before the stored 900.
        assert_eq!(plan.points, [(3600, 1100), (5399, 1300)]);
        // When the totals happen to meet, no extra reading.
        let span = [at(1800, 1000), at(5400, 1300)];
        assert_eq!(
            plan_registers(&new, None, span, None).points,
            [(3600, 1100)]
        );
    }

    #[test]
    fn a_stored_reading_on_a_boundary_cuts_the_run() {
        let new = [iv(0, 1800, 100), iv(1800, 3600, 200)];
        let plan = plan_registers(&new, None, [at(1800, 5000)], None);
        // Before it: counting back to 5000 − 100; after it: from 5000.
        assert_eq!(plan.points, [(0, 4900), (3600, 5200)]);
        assert_eq!(plan.accepted, new);
    }

    #[test]
    fn intervals_with_stored_readings_inside_are_left_out() {
        let new = [iv(0, 1800, 100), iv(1800, 3600, 200), iv(3600, 5400, 300)];
        let span = [at(2000, 50), at(2500, 60)];
        let plan = plan_registers(&new, None, span, None);
        assert_eq!(plan.covered, [new[1]]);
        assert_eq!(plan.accepted, [new[0], new[2]]);
        // Before the meter: 50 − 100; after it: from the meter's last reading, 60.
        assert_eq!(
            plan.points,
            [(0, -50), (1800, -50 + 100), (3600, 60), (5400, 360)]
        );
    }

    #[test]
    fn fractions_of_a_watt_hour_do_not_drift() {
        let new: Vec<Interval> = (0..5)
            .map(|k| Interval {
                start: k * 1800,
                end: k * 1800 + 1800,
                energy_milli_wh: 400,
            })
            .collect();
        let b = FIRST_REGISTER_WH;
        let plan = plan_registers(&new, None, [], None);
        // Running totals 0.4, 0.8, 1.2, 1.6, 2.0 Wh, rounded.
        let wh: Vec<i64> = plan.points.iter().map(|p| p.1 - b).collect();
        assert_eq!(wh, [0, 0, 1, 1, 2, 2]);
    }
}
