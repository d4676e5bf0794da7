//! Verification: every record's authentication and decoding checked, damage listed.

use super::{SERIES_MAIN, Vault};
use crate::error::Result;
use crate::resolution::Resolution;
use crate::rollup::Builder;
use crate::seal::RecordKind;
use crate::wire::Malformed;
use rusqlite::{OptionalExtension, params};

/// What [`Vault::verify`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Records that authenticated and decoded.
    pub ok: u64,
    /// Raw readings in the authenticated raw chunks.
    pub readings: u64,
    /// Records that failed, described for a human (kind, resolution, UTC window).
    pub damaged: Vec<String>,
}

impl Vault {
    /// Checks every record's authentication and decoding; damaged ones are listed, not fatal.
    pub fn verify(&self) -> Result<VerifyReport> {
        let mut report = VerifyReport::default();
        let mut stmt = self.conn.prepare(
            "SELECT res, window_start FROM chunk WHERE series = ?1 ORDER BY res, window_start",
        )?;
        let keys = stmt
            .query_map(params![SERIES_MAIN], |r| {
                Ok((r.get::<_, u8>(0)?, r.get::<_, i64>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        for (code, window) in keys {
            let Some(res) = Resolution::ALL.into_iter().find(|r| r.code() == code) else {
                report
                    .damaged
                    .push(format!("chunk with unknown resolution {code}"));
                continue;
            };
            let outcome = if res == Resolution::Raw {
                self.raw_chunk(window)
                    .map(|r| r.map_or(0, |v| v.len() as u64))
            } else {
                self.rollup_chunk(res, window).map(|_| 0)
            };
            match outcome {
                Ok(n) => {
                    report.ok += 1;
                    report.readings += n;
                }
                Err(e) => report.damaged.push(e.to_string()),
            }
        }
        for name in self.setting_names()? {
            match self.get_setting(&name) {
                Ok(_) => report.ok += 1,
                Err(e) => report.damaged.push(e.to_string()),
            }
        }
        let state: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT sealed FROM writer_state WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?;
        if let Some(s) = state {
            let ok = self
                .sealer
                .open(&self.aad(RecordKind::WriterState, 0, 0, b""), &s)
                .is_some_and(|p| {
                    Builder::decode_state(self.tz.clone(), &p, |res, window, len| {
                        match self.rollup_chunk(res, window) {
                            Ok(Some(b)) if b.len() >= len => Ok(Vec::new()),
                            _ => Err(Malformed),
                        }
                    })
                    .is_ok()
                });
            if ok {
                report.ok += 1;
            } else {
                report
                    .damaged
                    .push("writer state failed its integrity check".into());
            }
        }
        Ok(report)
    }
}
