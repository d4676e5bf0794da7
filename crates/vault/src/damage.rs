//! Damage on purpose, for other crates' tests (feature `test-support`): what a bad disk
//! sector or a lost page does to a closed vault file, done here so that no crate but the
//! vault speaks SQLite.

use crate::error::{Result, VaultError};
use std::path::Path;

fn db(path: &Path) -> Result<rusqlite::Connection> {
    rusqlite::Connection::open(path).map_err(VaultError::from)
}

/// Flips one bit in the middle of the newest sealed chunk of resolution code `res` (0 raw,
/// 2 quarter hours, ...); returns that chunk's window start.
pub fn flip_newest_chunk(path: &Path, res: u8) -> Result<i64> {
    let db = db(path)?;
    let (window, mut sealed): (i64, Vec<u8>) = db.query_row(
        "SELECT window_start, sealed FROM chunk WHERE res = ?1 ORDER BY window_start DESC",
        [res],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mid = sealed.len() / 2;
    sealed[mid] ^= 0x20;
    db.execute(
        "UPDATE chunk SET sealed = ?1 WHERE res = ?2 AND window_start = ?3",
        rusqlite::params![sealed, res, window],
    )?;
    Ok(window)
}

/// Removes the chunk of resolution code `res` whose window starts at `window_start`, as a lost
/// page would; returns how many chunks went (0 or 1).
pub fn delete_chunk(path: &Path, res: u8, window_start: i64) -> Result<usize> {
    Ok(db(path)?.execute(
        "DELETE FROM chunk WHERE res = ?1 AND window_start = ?2",
        rusqlite::params![res, window_start],
    )?)
}

/// Replaces the clear copy of the vault's public write-only key with `public` (32 bytes), as
/// someone who can write the file but holds no key could; returns how many rows changed.
pub fn replace_clear_write_key(path: &Path, public: [u8; 32]) -> Result<usize> {
    Ok(db(path)?.execute(
        "UPDATE write_key SET public = ?1 WHERE id = 1",
        rusqlite::params![public.to_vec()],
    )?)
}
