//! Usage from a store's quarter-hour rollups: the one loop that the desktop's Costs and Tips
//! and `hearth report` / `hearth tips` share, so they cannot drift apart. The store itself is
//! read by the caller (`hearth_app::usage` reads the vault); this module only books rows.
//!
//! A rollup row holds the energy used in its quarter hour, and the vault books energy only
//! between consecutive readings (splitting each step across bucket boundaries in proportion to
//! time). So the quarter hour holding the vault's oldest reading holds energy only from that
//! reading on, and the one holding the newest reading (the quarter in progress while
//! collecting) only up to it. Those two rows are booked over the seconds they really cover:
//! "time covered" is then exact, and every figure that divides energy by it (yearly
//! projections, costs per year, tips) is not low. Every other row covers its whole quarter
//! hour: gaps inside the data are already spread by the vault and flagged estimated, and they
//! are booked as such.
//!
//! A row's gas stays in its own quarter hour whatever the span of the electricity readings:
//! the vault has already split each step of the gas register over the time since its previous
//! gas reading.

use crate::usage::{SLOT_S, Usage, UsageBuilder, UsageOptions};
use hearth_meter::{ENERGY_REGISTERS, Quantity};
use jiff::Timestamp;

/// Margin read on each side of a range, so that intervals crossing its edges split exactly.
pub const ROLLUP_MARGIN_S: i64 = 86_400;

/// One quarter-hour rollup row: the energy each register counted in the quarter hour.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RollupRow {
    /// Start of the quarter hour, Unix seconds.
    pub start: i64,
    /// Energy used in the quarter hour per register, Wh, in the order of
    /// [`ENERGY_REGISTERS`]; `None` where the meter has no such register.
    pub used_wh: [Option<i64>; ENERGY_REGISTERS.len()],
    /// The energy was spread over a gap in the readings (an estimate).
    pub estimated: bool,
    /// Gas used in the quarter hour, dm³ (`None` where the meter has no gas register).
    pub gas_dm3: Option<i64>,
}

impl RollupRow {
    /// The energy used in the quarter hour for an energy register, Wh (`None` for any other
    /// quantity).
    pub fn used(&self, q: Quantity) -> Option<i64> {
        let i = ENERGY_REGISTERS.iter().position(|&r| r == q)?;
        self.used_wh[i]
    }

    /// Whether the row holds any import or export energy.
    fn has_energy(&self) -> bool {
        self.used_wh.iter().any(|wh| wh.is_some_and(|wh| wh != 0))
    }
}

/// One item of a rollup stream: a row, or a stored part that could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rollup {
    /// A quarter-hour row.
    Row(RollupRow),
    /// A damaged part of the store; its quarter hours count as missing.
    Damaged,
}

/// The span of the stored readings, oldest to newest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadingSpan {
    /// The oldest and newest stored reading, Unix seconds.
    Known {
        /// The oldest reading.
        first: i64,
        /// The newest reading.
        last: i64,
    },
    /// No readings are stored.
    Empty,
    /// The span could not be read (a damaged part): counted as damaged, rows not trimmed.
    Damaged,
}

impl Usage {
    /// The range of rollup rows to read for `[from, to)`: a day of margin on each side.
    pub fn rollup_window(from: Timestamp, to: Timestamp) -> (i64, i64) {
        (
            from.as_second().saturating_sub(ROLLUP_MARGIN_S),
            to.as_second().saturating_add(ROLLUP_MARGIN_S),
        )
    }

    /// Books the quarter-hour rollups `rows` (as read over [`Usage::rollup_window`]) into the
    /// quarter hours of `[from, to)`, with the first and last quarter hour of the data (given
    /// by `span`) booked over the seconds its readings cover.
    ///
    /// A [`Rollup::Damaged`] item is counted in
    /// [`UsageStats::damaged`](crate::UsageStats::damaged); its quarter hours count as
    /// missing. A [`ReadingSpan::Damaged`] is counted too, and then every row counts whole.
    pub fn from_rollups(
        from: Timestamp,
        to: Timestamp,
        span: ReadingSpan,
        rows: impl IntoIterator<Item = Rollup>,
    ) -> Usage {
        let mut b = UsageBuilder::new(from, to, UsageOptions::default());
        // Rows are booked only inside the span of stored readings. Without it (an empty store
        // has no rows anyway; a damaged edge) every row counts as a whole quarter hour.
        let (first, last) = match span {
            ReadingSpan::Known { first, last } => (first, last),
            ReadingSpan::Empty => (i64::MIN, i64::MAX),
            ReadingSpan::Damaged => {
                b.skip_damaged();
                (i64::MIN, i64::MAX)
            }
        };
        for row in rows {
            let Rollup::Row(row) = row else {
                b.skip_damaged();
                continue;
            };
            let start = row.start;
            if let Some(dm3) = row.gas_dm3 {
                b.push_gas_rollup(start, dm3);
            }
            let (a, z) = (start.max(first), (start + SLOT_S).min(last));
            if a < z {
                b.push_rollup(a, z, |q| row.used(q), row.estimated);
            } else if row.has_energy() {
                // Energy outside the span read a moment earlier: the writer checkpointed in
                // between. Booked over its whole quarter hour, as nothing better is known.
                b.push_rollup(start, start + SLOT_S, |q| row.used(q), row.estimated);
            }
            // Otherwise it is the quarter hour that starts at the newest reading: no energy and
            // no time covered yet.
        }
        b.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    /// A row of `import` Wh on the import total only.
    fn row(start: i64, import: i64, estimated: bool) -> Rollup {
        let mut used_wh = [None; 6];
        used_wh[0] = Some(import);
        Rollup::Row(RollupRow {
            start,
            used_wh,
            estimated,
            gas_dm3: None,
        })
    }

    #[test]
    fn a_row_reads_its_registers_only() {
        let Rollup::Row(r) = row(0, 60, false) else {
            unreachable!()
        };
        assert_eq!(r.used(Quantity::ImportWh), Some(60));
        assert_eq!(r.used(Quantity::ExportWh), None);
        assert_eq!(r.used(Quantity::ImportW), None);
    }

    #[test]
    fn edges_are_trimmed_to_the_span_and_damage_is_counted() {
        // Quarter hours from 0: the span 300..2_130 trims the first row to 600 s and the third
        // to 330 s; the second counts whole. 40 + 60 + 22 Wh; one damaged part.
        let rows = [
            row(0, 40, false),
            row(900, 60, true),
            Rollup::Damaged,
            row(1_800, 22, false),
        ];
        let span = ReadingSpan::Known {
            first: 300,
            last: 2_130,
        };
        let u = Usage::from_rollups(ts(0), ts(3_600), span, rows);
        let got: Vec<(u16, u16, i64)> = u
            .slots()
            .iter()
            .map(|s| (s.measured_s, s.estimated_s, s.import()))
            .collect();
        assert_eq!(
            got,
            [
                (600, 0, 40_000),
                (0, 900, 60_000),
                (330, 0, 22_000),
                (0, 0, 0)
            ]
        );
        assert_eq!((u.stats.damaged, u.stats.gaps), (1, 1));
        // A damaged span is counted and leaves every row whole.
        let u = Usage::from_rollups(ts(0), ts(3_600), ReadingSpan::Damaged, [row(0, 40, false)]);
        assert_eq!((u.stats.damaged, u.slots()[0].measured_s), (1, 900));
        assert_eq!(
            Usage::rollup_window(ts(100_000), ts(200_000)),
            (13_600, 286_400)
        );
    }
}
