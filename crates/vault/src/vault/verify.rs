//! Verification: every record's authentication and decoding checked, each against the
//! version the integrity manifest names (format 2), damage listed.

use super::{SERIES_MAIN, Vault};
use crate::error::Result;
use crate::manifest::{self, Entry, Integrity};
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
    /// Records that failed, described for a human (kind, resolution, UTC window), and what
    /// the integrity manifest found (records rolled back, removed or added outside Hearth).
    pub damaged: Vec<String>,
    /// Whether the vault has an integrity manifest (format 2), so that a record put back to an
    /// older version of itself is found; `false` for a vault an older Hearth made that no
    /// writer has opened since.
    pub manifest: bool,
}

impl Vault {
    /// Checks every record's authentication and decoding; damaged ones are listed, not fatal.
    /// In format 2 each record must also be the version the integrity manifest names, every
    /// row of the manifest must have its record, and the rows must add up to the sealed root.
    /// A reader checks one snapshot: beside a running collector, a record and its manifest row
    /// always come from the same commit.
    pub fn verify(&self) -> Result<VerifyReport> {
        self.snapshot(|| self.verify_now())
    }

    fn verify_now(&self) -> Result<VerifyReport> {
        let mut report = VerifyReport {
            manifest: self.manifest.is_some(),
            ..VerifyReport::default()
        };
        if let Integrity::Broken(why) = self.integrity() {
            report.damaged.push(format!("integrity manifest: {why}"));
        }
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
        for setting in self.setting_rows()? {
            match setting {
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
            let current = self.manifest.is_none()
                || manifest::is_current(&self.conn, &Entry::WRITER_STATE, &s)?;
            let ok = current
                && self
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
            } else if !current {
                report
                    .damaged
                    .push("writer state is not the version Hearth last wrote (rolled back)".into());
            } else {
                report
                    .damaged
                    .push("writer state failed its integrity check".into());
            }
        }
        if self.manifest.is_some() {
            report.damaged.extend(manifest::orphans(&self.conn)?);
        }
        Ok(report)
    }
}
