//! Queries: rows of one series over a time range, streamed chunk by chunk so a year of
//! one-second readings never sits in memory at once. Pick the resolution with
//! [`Resolution::for_points`] (the coarsest series that still fills the chart).

use crate::error::{Result, VaultError};
use crate::resolution::{Resolution, offset_at};
use crate::rollup::Bucket;
use crate::vault::{SERIES_MAIN, Vault};
use hearth_meter::reading::Kind;
use hearth_meter::{ENERGY_REGISTERS, MeterTime, Quantity, Reading};
use rusqlite::params;
use std::collections::VecDeque;

/// One row of a query.
///
/// For [`Resolution::Raw`] the reading is the stored reading itself (registers are meter
/// totals). For every other resolution the reading describes the interval starting at
/// `reading.time`: registers (`import_kwh`, `gas_m3`, ...) hold the energy or volume used in the
/// interval, instantaneous values (`import_w`, `l1_v`, ...) their mean, states their last value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The series the row comes from.
    pub resolution: Resolution,
    /// Interval start (or reading time) and values, see above. Time carries the local offset.
    pub reading: Reading,
    /// Lowest import power in the interval, W.
    pub import_w_min: Option<i64>,
    /// Highest import power in the interval, W.
    pub import_w_max: Option<i64>,
    /// Lowest export power in the interval, W.
    pub export_w_min: Option<i64>,
    /// Highest export power in the interval, W.
    pub export_w_max: Option<i64>,
    /// Some of the interval's energy was spread over a gap in the readings.
    pub estimated: bool,
    /// Readings that fell into the interval (1 for raw rows, 0 for a row inside a gap).
    pub samples: u32,
}

impl Row {
    /// Interval start (or reading time), Unix seconds.
    pub fn start(&self) -> i64 {
        self.reading.time.map_or(0, |t| t.unix)
    }

    fn from_raw(r: Reading) -> Row {
        let imp = r.get(Quantity::ImportW);
        let exp = r.get(Quantity::ExportW);
        Row {
            resolution: Resolution::Raw,
            reading: r,
            import_w_min: imp,
            import_w_max: imp,
            export_w_min: exp,
            export_w_max: exp,
            estimated: false,
            samples: 1,
        }
    }

    fn from_bucket(res: Resolution, b: &Bucket, offset_s: i32) -> Row {
        let mut reading = Reading::default();
        reading.time = Some(MeterTime {
            unix: b.start,
            offset_s,
        });
        for q in Quantity::ALL {
            if let Some(v) = b.get(q) {
                reading.set(q, v);
            }
        }
        let has_import = b.get(Quantity::ImportW).is_some();
        let has_export = b.get(Quantity::ExportW).is_some();
        Row {
            resolution: res,
            reading,
            import_w_min: has_import.then_some(b.minmax[0]),
            import_w_max: has_import.then_some(b.minmax[1]),
            export_w_min: has_export.then_some(b.minmax[2]),
            export_w_max: has_export.then_some(b.minmax[3]),
            estimated: b.estimated,
            samples: b.samples,
        }
    }

    /// Energy (or volume, or count) used in the interval for a register quantity.
    pub fn used(&self, q: Quantity) -> Option<i64> {
        (q.kind() == Kind::Register && self.resolution != Resolution::Raw)
            .then(|| self.reading.get(q))
            .flatten()
    }
}

/// A streaming iterator over the rows of `[from, to)`, oldest first. A damaged chunk yields
/// one `Err` item and iteration continues with the next chunk.
pub struct Rows<'v> {
    vault: &'v Vault,
    res: Resolution,
    from: i64,
    to: i64,
    windows: VecDeque<i64>,
    buffered: VecDeque<Row>,
}

impl Vault {
    /// Rows of one series whose time (interval start) lies in `[from, to)` (Unix seconds).
    /// A writer sees what it has flushed.
    pub fn readings(&self, from: i64, to: i64, res: Resolution) -> Result<Rows<'_>> {
        // Rollup chunks are keyed by the UTC window holding each bucket start; raw chunks by
        // the hour. Start at the window that contains `from`.
        let windows = self.windows(res, res.chunk_start(from), to)?;
        Ok(Rows {
            vault: self,
            res,
            from,
            to,
            windows: windows.into(),
            buffered: VecDeque::new(),
        })
    }

    /// Rows for a chart of about `points` points over `[from, to)`: the coarsest series that
    /// still fills them.
    pub fn readings_for_points(&self, from: i64, to: i64, points: u32) -> Result<Rows<'_>> {
        self.readings(from, to, Resolution::for_points(from, to, points))
    }

    /// The times (Unix seconds) of the oldest and newest stored reading that carries an
    /// energy register (import or export, total or per tariff), `None` for an empty vault. The
    /// rollups hold energy only between these two instants, so the first and last rollup
    /// intervals cover less than their nominal length; readings with power only (a RAVEn's
    /// demand between two summations) have no energy behind them and do not count. If the
    /// 48 stored raw hours at an end hold no such reading (a meter that sends no energy
    /// register), that end is the oldest or newest reading of any kind there. Like
    /// [`Vault::readings`], a writer sees what it has flushed. A raw chunk that fails to
    /// decode is skipped (the next one from that end is read).
    pub fn reading_span(&self) -> Result<Option<(i64, i64)>> {
        let (Some(first), Some(last)) = (self.edge_reading(false)?, self.edge_reading(true)?)
        else {
            return Ok(None);
        };
        Ok(Some((first, last)))
    }

    /// The time of the oldest (`newest == false`) or newest stored reading with an energy
    /// register: the raw chunks from that end until one holds such a reading.
    fn edge_reading(&self, newest: bool) -> Result<Option<i64>> {
        let order = if newest { "DESC" } else { "ASC" };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT window_start FROM chunk WHERE series = ?1 AND res = ?2
             ORDER BY window_start {order}"
        ))?;
        let mut windows = stmt.query(params![SERIES_MAIN, Resolution::Raw.code()])?;
        // The edge reading of any kind, should no reading near this end carry energy.
        let mut any: Option<i64> = None;
        let mut read = 0;
        while let Some(row) = windows.next()? {
            if read == EDGE_WINDOWS {
                break;
            }
            read += 1;
            let window: i64 = row.get(0)?;
            let Ok(readings) = self.raw_chunk(window) else {
                continue;
            };
            let readings = readings.unwrap_or_default();
            let times = |energy: bool| {
                readings
                    .iter()
                    .filter(move |r| {
                        !energy || ENERGY_REGISTERS.iter().any(|&q| r.get(q).is_some())
                    })
                    .filter_map(|r| r.time.map(|t| t.unix))
            };
            let edge = if newest {
                times(true).max()
            } else {
                times(true).min()
            };
            if edge.is_some() {
                return Ok(edge);
            }
            if any.is_none() {
                any = if newest {
                    times(false).max()
                } else {
                    times(false).min()
                };
            }
        }
        Ok(any)
    }
}

/// How many raw hours from each end [`Vault::reading_span`] reads for a reading with energy.
const EDGE_WINDOWS: usize = 48;

impl Iterator for Rows<'_> {
    type Item = Result<Row, VaultError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(row) = self.buffered.pop_front() {
                return Some(Ok(row));
            }
            let window = self.windows.pop_front()?;
            let (from, to) = (self.from, self.to);
            let in_range = |t: i64| from <= t && t < to;
            if self.res == Resolution::Raw {
                match self.vault.raw_chunk(window) {
                    Err(e) => return Some(Err(e)),
                    Ok(readings) => self.buffered.extend(
                        readings
                            .unwrap_or_default()
                            .into_iter()
                            .filter(|r| r.time.is_some_and(|t| in_range(t.unix)))
                            .map(Row::from_raw),
                    ),
                }
            } else {
                match self.vault.rollup_chunk(self.res, window) {
                    Err(e) => return Some(Err(e)),
                    Ok(buckets) => {
                        let tz = &self.vault.tz;
                        let res = self.res;
                        self.buffered.extend(
                            buckets
                                .unwrap_or_default()
                                .iter()
                                .filter(|b| in_range(b.start))
                                .map(|b| Row::from_bucket(res, b, offset_at(tz, b.start))),
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{CreateOptions, KdfParams, Vault};
    use hearth_meter::{MeterTime, Protocol, Quantity, Reading};

    fn reading(unix: i64, wh: i64) -> Reading {
        let mut r = Reading::new(Protocol::Dsmr);
        r.time = Some(MeterTime::utc(unix));
        r.set(Quantity::ImportWh, wh);
        r
    }

    #[test]
    fn reading_span_is_the_oldest_and_newest_flushed_reading() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("v.hearth");
        let options = CreateOptions {
            kdf: KdfParams::INSECURE_FOR_TESTS,
            time_zone: Some("Europe/Amsterdam".into()),
        };
        let mut v = Vault::create(&path, "pw", &options).expect("create");
        assert_eq!(v.reading_span().expect("span"), None, "an empty vault");
        // 2026-01-05T10:07:30Z, then every 10 s for 3 h: three raw (hour) chunks, the last
        // reading at 13:07:20Z.
        let t0 = 1_767_607_650;
        let rs: Vec<Reading> = (0..1080).map(|k| reading(t0 + 10 * k, 100 + k)).collect();
        let reader = Vault::open_read_only(&path, "pw").expect("reader");
        v.append(&rs).expect("append");
        assert_eq!(
            reader.reading_span().expect("span"),
            None,
            "a reader sees nothing before the checkpoint"
        );
        v.flush().expect("flush");
        for vault in [&v, &reader] {
            assert_eq!(
                vault.reading_span().expect("span"),
                Some((t0, t0 + 10_790)),
                "10:07:30Z to 13:07:20Z"
            );
        }
        // A late reading from the hour before (09:59:59Z) becomes the oldest once merged.
        v.append(&[reading(t0 - 451, 99)]).expect("late");
        v.flush().expect("flush");
        assert_eq!(
            reader.reading_span().expect("span"),
            Some((t0 - 451, t0 + 10_790))
        );
    }
}
