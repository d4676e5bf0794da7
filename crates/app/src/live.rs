//! The live view's memory: the latest reading and the last minutes of power, bounded in size,
//! drawn as the Now chart.
//!
//! The collector records every decoded reading here; the face reads it. Time is the reading's own
//! (meter time when present, else receive time), so charts are reproducible and a meter whose
//! clock jumps back does not leave a tangle of lines: samples later than the new time are dropped.

use crate::history::{Format, Image};
use hearth_charts::ChartError;
use hearth_charts::downsample::Point;
use hearth_charts::line::{Line, LineChart};
use hearth_charts::theme::Theme;
use hearth_insight::Lang;
use hearth_meter::{Decoder, Quantity, Reading};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// One phase of the live reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "PhaseDto"))]
pub struct LivePhase {
    /// `L1`, `L2`, `L3`.
    pub name: String,
    /// Power drawn on this phase (W).
    pub import_w: Option<i64>,
    /// Power fed back on this phase (W).
    pub export_w: Option<i64>,
    /// Voltage (V).
    pub voltage_v: Option<f64>,
    /// Current (A).
    pub current_a: Option<f64>,
}

/// The latest reading, for the Now screen and the `live` event (read back by the tray).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "LiveDto"))]
pub struct LiveReading {
    /// Meter time (RFC 3339 with the meter's offset), if the meter sent one.
    pub time: Option<String>,
    /// The reading's time as unix seconds (meter time, else receive time).
    pub unix: i64,
    /// Power drawn from the grid (W).
    pub import_w: Option<i64>,
    /// Power fed to the grid (W).
    pub export_w: Option<i64>,
    /// Import minus export (W); negative while exporting.
    pub net_w: i64,
    /// Phases present in the reading.
    pub phases: Vec<LivePhase>,
    /// Import register, all tariffs (kWh).
    pub import_kwh: Option<f64>,
    /// Export register, all tariffs (kWh).
    pub export_kwh: Option<f64>,
    /// Gas register (m³).
    pub gas_m3: Option<f64>,
    /// Active tariff (1-based).
    pub tariff: Option<i64>,
    /// Telegrams decoded so far.
    pub accepted: u64,
    /// Telegrams rejected so far.
    pub rejected: u64,
}

/// Scales a stored integer by its quantity's decimals (Wh -> kWh, dV -> V, mA -> A, dm³ -> m³).
fn scaled(r: &Reading, q: Quantity) -> Option<f64> {
    r.get(q)
        .map(|v| v as f64 / 10f64.powi(i32::from(q.decimals())))
}

impl LiveReading {
    /// What to show of a reading received at `unix` (used when the meter sent no time).
    pub fn from_reading(r: &Reading, unix: i64, accepted: u64, rejected: u64) -> Self {
        let import_w = r.get(Quantity::ImportW);
        let export_w = r.get(Quantity::ExportW);
        let phases = [
            (
                "L1",
                Quantity::L1ImportW,
                Quantity::L1ExportW,
                Quantity::L1Dv,
                Quantity::L1Ma,
            ),
            (
                "L2",
                Quantity::L2ImportW,
                Quantity::L2ExportW,
                Quantity::L2Dv,
                Quantity::L2Ma,
            ),
            (
                "L3",
                Quantity::L3ImportW,
                Quantity::L3ExportW,
                Quantity::L3Dv,
                Quantity::L3Ma,
            ),
        ]
        .into_iter()
        .filter(|(_, i, e, v, a)| [*i, *e, *v, *a].iter().any(|q| r.get(*q).is_some()))
        .map(|(name, i, e, v, a)| LivePhase {
            name: name.to_string(),
            import_w: r.get(i),
            export_w: r.get(e),
            voltage_v: scaled(r, v),
            current_a: scaled(r, a),
        })
        .collect();
        LiveReading {
            time: r.time.map(|t| t.to_string()),
            unix: r.time.map_or(unix, |t| t.unix),
            import_w,
            export_w,
            net_w: import_w.unwrap_or(0) - export_w.unwrap_or(0),
            phases,
            import_kwh: scaled(r, Quantity::ImportWh),
            export_kwh: scaled(r, Quantity::ExportWh),
            gas_m3: scaled(r, Quantity::GasDm3),
            tariff: r.get(Quantity::Tariff),
            accepted,
            rejected,
        }
    }
}

/// How much history the live chart can show.
pub const KEEP_S: i64 = 30 * 60;

/// One power sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sample {
    unix: i64,
    import_w: Option<i64>,
    export_w: Option<i64>,
}

/// Latest reading, counters and recent power.
#[derive(Debug, Default)]
pub struct Live {
    samples: VecDeque<Sample>,
    latest: Option<LiveReading>,
    accepted: u64,
    rejected: u64,
}

impl Live {
    /// Records a decoded reading received at `received_unix`; returns what the UI should show.
    pub fn record(&mut self, r: &Reading, received_unix: i64) -> LiveReading {
        self.accepted += 1;
        let dto = LiveReading::from_reading(r, received_unix, self.accepted, self.rejected);
        let s = Sample {
            unix: dto.unix,
            import_w: r.get(Quantity::ImportW),
            export_w: r.get(Quantity::ExportW),
        };
        // A clock that went back: forget the samples "from the future".
        while self.samples.back().is_some_and(|b| b.unix >= s.unix) {
            self.samples.pop_back();
        }
        self.samples.push_back(s);
        while self
            .samples
            .front()
            .is_some_and(|f| f.unix <= s.unix - KEEP_S)
        {
            self.samples.pop_front();
        }
        self.latest = Some(dto.clone());
        dto
    }

    /// Fills the chart with stored readings (the minutes before the app started), so the Now
    /// chart draws before the meter's first telegram. Only while no live sample has arrived;
    /// readings without a time are skipped, and the latest reading (the numbers on the Now
    /// screen) stays empty until the meter speaks.
    pub fn seed(&mut self, readings: &[Reading]) {
        if !self.samples.is_empty() {
            return;
        }
        for r in readings {
            let Some(t) = r.time else { continue };
            if self.samples.back().is_some_and(|b| b.unix >= t.unix) {
                continue;
            }
            self.samples.push_back(Sample {
                unix: t.unix,
                import_w: r.get(Quantity::ImportW),
                export_w: r.get(Quantity::ExportW),
            });
        }
        if let Some(newest) = self.samples.back().map(|s| s.unix) {
            self.samples.retain(|s| s.unix > newest - KEEP_S);
        }
    }

    /// Feeds received bytes through a decoder into the live view; returns each decoded reading
    /// (to store) with what to show, in order. Rejected frames are counted, not returned.
    pub fn ingest(
        &mut self,
        decoder: &mut dyn Decoder,
        bytes: &[u8],
        received_unix: i64,
    ) -> Vec<(Reading, LiveReading)> {
        decoder.push(bytes);
        let mut out = Vec::new();
        while let Some(frame) = decoder.next() {
            match frame {
                Ok(decoded) => {
                    let shown = self.record(&decoded.reading, received_unix);
                    out.push((decoded.reading, shown));
                }
                Err(_) => self.record_rejection(),
            }
        }
        out
    }

    /// Counts a rejected frame.
    pub fn record_rejection(&mut self) {
        self.rejected += 1;
        if let Some(l) = &mut self.latest {
            l.rejected = self.rejected;
        }
    }

    /// The latest reading, if any arrived.
    pub fn latest(&self) -> Option<&LiveReading> {
        self.latest.as_ref()
    }

    /// How many power samples are held.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// No samples yet.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Net power (import - export) over the last `minutes` before the latest sample, as an SVG
    /// with time labels at `utc_offset_s` (the machine's local time: store UTC, show local).
    pub fn chart(
        &self,
        minutes: u32,
        width: u32,
        height: u32,
        dark: bool,
        utc_offset_s: i32,
    ) -> Result<String, ChartError> {
        let size = (width, height);
        match self.chart_in(minutes, size, dark, utc_offset_s, Lang::En, Format::Svg)? {
            Image::Svg(s) => Ok(s),
            Image::Png(_) => Ok(String::new()),
        }
    }

    /// [`chart`](Self::chart) with its words in `lang`, drawn as SVG or PNG.
    pub fn chart_in(
        &self,
        minutes: u32,
        (width, height): (u32, u32),
        dark: bool,
        utc_offset_s: i32,
        lang: Lang,
        format: Format,
    ) -> Result<Image, ChartError> {
        let span = i64::from(minutes.clamp(1, (KEEP_S / 60) as u32)) * 60;
        let to = self.samples.back().map_or(0, |s| s.unix) + 1;
        let from = to - span;
        let net: Vec<Point> = self
            .samples
            .iter()
            .filter(|s| s.import_w.is_some() || s.export_w.is_some())
            .map(|s| {
                Point::new(
                    s.unix,
                    (s.import_w.unwrap_or(0) - s.export_w.unwrap_or(0)) as f64,
                )
            })
            .collect();
        let title = lang.power_last_minutes(span / 60);
        let chart = LineChart {
            title: &title,
            unit: "W",
            width,
            height,
            theme: if dark { Theme::DARK } else { Theme::LIGHT },
            from,
            to,
            utc_offset_s,
            lines: vec![Line {
                name: lang.net_power(),
                points: &net,
                colour: 0,
                max_gap_s: 10,
                estimated: false,
                envelope: &[],
            }],
        };
        Ok(match format {
            Format::Svg => Image::Svg(chart.to_svg()?),
            Format::Png(scale) => Image::Png(chart.to_png(scale)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_meter::dsmr::DsmrDecoder;
    use hearth_meter::{MeterTime, Protocol};
    use hearth_meter_io::simulator::Simulator;

    fn reading(unix: i64, import_w: i64, export_w: i64) -> Reading {
        let mut r = Reading::new(Protocol::Dsmr);
        r.time = Some(MeterTime {
            unix,
            offset_s: 3600,
        });
        r.set(Quantity::ImportW, import_w);
        r.set(Quantity::ExportW, export_w);
        r
    }

    #[test]
    fn keeps_a_bounded_window() {
        let mut live = Live::default();
        for t in 0..(KEEP_S + 100) {
            live.record(&reading(1_000_000 + t, 500, 0), 0);
        }
        // Samples strictly newer than latest - KEEP_S: exactly KEEP_S of them.
        assert_eq!(live.len(), KEEP_S as usize);
        assert_eq!(
            live.latest().map(|l| l.accepted),
            Some((KEEP_S + 100) as u64)
        );
    }

    #[test]
    fn clock_jumping_back_drops_later_samples() {
        let mut live = Live::default();
        for t in [100, 101, 102, 103] {
            live.record(&reading(t, 1, 0), 0);
        }
        live.record(&reading(101, 2, 0), 0);
        // 101..103 dropped, 100 kept, the new 101 appended.
        assert_eq!(live.len(), 2);
        assert_eq!(live.latest().map(|l| l.unix), Some(101));
    }

    #[test]
    fn stored_minutes_fill_the_chart_until_the_meter_speaks() {
        let mut live = Live::default();
        // 40 stored minutes at 10-s steps, one without a time, one out of order: only the
        // last 30 minutes (180 samples, strictly newer than newest - KEEP_S) are kept.
        let mut stored: Vec<Reading> = (0..240).map(|i| reading(10_000 + i * 10, 800, 0)).collect();
        stored.insert(100, reading(10_000, 1, 0));
        let mut untimed = reading(0, 5, 0);
        untimed.time = None;
        stored.push(untimed);
        live.seed(&stored);
        assert_eq!(live.len(), 180);
        assert!(
            live.latest().is_none(),
            "no live numbers before the meter speaks"
        );
        // The chart draws from them: its time axis ends at the newest stored sample.
        assert!(live.chart(10, 600, 240, false, 0).is_ok());
        // The first telegram appends (and the oldest, 10_600 = 12_400 - KEEP_S, falls out);
        // seeding again once live data exists changes nothing.
        live.record(&reading(12_400, 900, 0), 0);
        live.seed(&[reading(12_500, 1, 0)]);
        assert_eq!(live.len(), 180);
        assert_eq!(live.latest().map(|l| l.unix), Some(12_400));
    }

    #[test]
    fn rejections_show_in_the_latest() {
        let mut live = Live::default();
        live.record_rejection();
        live.record(&reading(5, 1, 0), 0);
        live.record_rejection();
        let l = live.latest().cloned();
        assert_eq!(l.map(|l| (l.accepted, l.rejected)), Some((1, 2)));
    }

    #[test]
    fn chart_labels_use_the_given_offset() {
        let mut live = Live::default();
        // 2025-11-26T14:05:00Z shown at +01:00 -> labels 15:0x.
        for t in 0..120 {
            live.record(&reading(1_764_165_900 + t, 300 + t, 0), 0);
        }
        let svg = live.chart(2, 600, 240, false, 3600).unwrap_or_default();
        assert!(svg.contains("<title>Power, last 2 minutes</title>"));
        assert!(svg.contains("\n15:0"), "labels at +01:00");
        assert!(!svg.contains("\n14:0"), "not UTC");
        // One data line, in the first palette colour (axes are polylines too, in other colours).
        let data_lines = svg
            .split("<polyline")
            .filter(|p| {
                p.split('>')
                    .next()
                    .is_some_and(|tag| tag.contains("stroke=\"#0072B2\""))
            })
            .count();
        assert_eq!(data_lines, 1);
    }

    #[test]
    fn simulator_telegrams_reach_the_live_view_and_garbage_is_counted() {
        // 2026-01-15T12:00:00Z; the simulator's own reading is the reference.
        let mut meter = Simulator::new(7, 1_768_478_400);
        let mut decoder = DsmrDecoder::new();
        let mut live = Live::default();
        let t1 = meter.next_telegram();
        let expected = meter.reading();
        let shown = live.ingest(&mut decoder, &t1, 0);
        assert_eq!(shown.len(), 1);
        // What gets stored is what the decoder read: every value equal to the simulator's own
        // reading (the decoder may add extras the simulator does not model, such as the
        // power-failure log).
        let got = &shown[0].0;
        assert_eq!(
            (got.time, got.meter_id.clone()),
            (expected.time, expected.meter_id.clone())
        );
        for q in Quantity::ALL {
            assert_eq!(got.get(q), expected.get(q), "{}", q.name());
        }
        let shown: Vec<LiveReading> = shown.into_iter().map(|(_, d)| d).collect();
        let want_net = expected.get(Quantity::ImportW).unwrap_or(0)
            - expected.get(Quantity::ExportW).unwrap_or(0);
        assert_eq!(shown[0].net_w, want_net);
        assert_eq!(shown[0].unix, 1_768_478_400);
        assert_eq!(shown[0].time.as_deref(), Some("2026-01-15T13:00:00+01:00"));
        // A telegram with one flipped byte fails its CRC: counted, not shown.
        let mut bad = meter.next_telegram();
        bad[20] ^= 0x01;
        assert!(live.ingest(&mut decoder, &bad, 0).is_empty());
        // Split across pushes, the next one still decodes.
        let t3 = meter.next_telegram();
        let (a, b) = t3.split_at(100);
        assert!(live.ingest(&mut decoder, a, 0).is_empty());
        let shown = live.ingest(&mut decoder, b, 0);
        assert_eq!(shown.len(), 1);
        let shown: Vec<LiveReading> = shown.into_iter().map(|(_, d)| d).collect();
        assert_eq!((shown[0].accepted, shown[0].rejected), (2, 1));
        assert_eq!(shown[0].unix, 1_768_478_402);
    }
}
