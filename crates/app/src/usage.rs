//! The vault's quarter-hour rollups as usage: the one adapter from the sealed store to
//! [`Usage::from_rollups`] that the desktop's Costs and Tips and `hearth report` / `hearth
//! tips` share, so they cannot drift apart.

use hearth_insight::{ReadingSpan, Rollup, RollupRow, Usage};
use hearth_meter::{ENERGY_REGISTERS, Quantity};
use hearth_vault::{Resolution, Row, Vault, VaultError};
use jiff::Timestamp;

/// Streams the vault's quarter-hour rollups of `[from, to)` into quarter hours (a day of
/// margin on each side, so intervals crossing the edges split exactly), with the first and
/// last quarter hour of the data booked over the seconds its readings cover.
///
/// A damaged rollup chunk is skipped and counted in
/// [`UsageStats::damaged`](hearth_insight::UsageStats::damaged); its quarter hours count as
/// missing. A damaged raw chunk at either end is passed over by [`Vault::reading_span`], which
/// then ends at the nearest intact reading. Other storage errors are returned.
pub fn from_vault(vault: &Vault, from: Timestamp, to: Timestamp) -> Result<Usage, VaultError> {
    let span = match vault.reading_span() {
        Ok(Some((first, last))) => ReadingSpan::Known { first, last },
        Ok(None) => ReadingSpan::Empty,
        Err(VaultError::Damaged { .. }) => ReadingSpan::Damaged,
        Err(e) => return Err(e),
    };
    let (a, z) = Usage::rollup_window(from, to);
    let rows = vault.readings(a, z, Resolution::Quarter)?;
    Ok(Usage::from_rollups(
        from,
        to,
        span,
        rows.map(|row| row.map_or(Rollup::Damaged, |r| Rollup::Row(rollup_row(&r)))),
    ))
}

/// A vault rollup row as insight books it.
fn rollup_row(row: &Row) -> RollupRow {
    RollupRow {
        start: row.start(),
        used_wh: ENERGY_REGISTERS.map(|q| row.used(q)),
        estimated: row.estimated,
        gas_dm3: row.used(Quantity::GasDm3),
    }
}
