//! Usage from the vault's quarter-hour rollups: the one loop that the desktop's Costs and Tips
//! and `hearth report` / `hearth tips` share, so they cannot drift apart.
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

use crate::usage::{SLOT_S, Usage, UsageBuilder, UsageOptions};
use hearth_meter::ENERGY_REGISTERS;
use hearth_vault::{Resolution, Row, Vault, VaultError};
use jiff::Timestamp;

impl Usage {
    /// Streams the vault's quarter-hour rollups of `[from, to)` into quarter hours (a day of
    /// margin on each side, so intervals crossing the edges split exactly), with the first and
    /// last quarter hour of the data booked over the seconds its readings cover.
    ///
    /// A damaged rollup chunk is skipped and counted in
    /// [`UsageStats::damaged`](crate::UsageStats::damaged); its quarter hours count as missing.
    /// A damaged raw chunk at either end is passed over by [`Vault::reading_span`], which then
    /// ends at the nearest intact reading. Other storage errors are returned.
    pub fn from_vault(vault: &Vault, from: Timestamp, to: Timestamp) -> Result<Usage, VaultError> {
        let mut b = UsageBuilder::new(from, to, UsageOptions::default());
        // Rows are booked only inside the span of stored readings. Without it (an empty vault
        // has no rows anyway; a damaged edge chunk) every row counts as a whole quarter hour.
        let span = match vault.reading_span() {
            Ok(span) => span,
            Err(VaultError::Damaged { .. }) => {
                b.skip_damaged();
                None
            }
            Err(e) => return Err(e),
        };
        let (first, last) = span.unwrap_or((i64::MIN, i64::MAX));
        let margin = 86_400;
        let rows = vault.readings(
            from.as_second().saturating_sub(margin),
            to.as_second().saturating_add(margin),
            Resolution::Quarter,
        )?;
        for row in rows {
            let Ok(row) = row else {
                b.skip_damaged();
                continue;
            };
            let start = row.start();
            let (a, z) = (start.max(first), (start + SLOT_S).min(last));
            if a < z {
                b.push_rollup(a, z, |q| row.used(q), row.estimated);
            } else if has_energy(&row) {
                // Energy outside the span read a moment earlier: the writer checkpointed in
                // between. Booked over its whole quarter hour, as nothing better is known.
                b.push_rollup(start, start + SLOT_S, |q| row.used(q), row.estimated);
            }
            // Otherwise it is the quarter hour that starts at the newest reading: no energy and
            // no time covered yet.
        }
        Ok(b.finish())
    }
}

/// Whether a rollup row holds any import or export energy.
fn has_energy(row: &Row) -> bool {
    ENERGY_REGISTERS
        .iter()
        .any(|&q| row.used(q).is_some_and(|wh| wh != 0))
}
