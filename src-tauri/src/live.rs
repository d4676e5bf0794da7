//! The live view's memory: the latest reading and the last minutes of power, bounded in size.
//!
//! The collector records every decoded reading here; commands read it. Time is the reading's own
//! (meter time when present, else receive time), so charts are reproducible and a meter whose
//! clock jumps back does not leave a tangle of lines: samples later than the new time are dropped.

use crate::dto::LiveDto;
use hearth_app::history::{Format, Image};
use hearth_charts::ChartError;
use hearth_charts::downsample::Point;
use hearth_charts::line::{Line, LineChart};
use hearth_charts::theme::Theme;
use hearth_insight::Lang;
use hearth_meter::{Quantity, Reading};
use std::collections::VecDeque;

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
    latest: Option<LiveDto>,
    accepted: u64,
    rejected: u64,
}

impl Live {
    /// Records a decoded reading received at `received_unix`; returns what the UI should show.
    pub fn record(&mut self, r: &Reading, received_unix: i64) -> LiveDto {
        self.accepted += 1;
        let dto = LiveDto::from_reading(r, received_unix, self.accepted, self.rejected);
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

    /// Counts a rejected frame.
    pub fn record_rejection(&mut self) {
        self.rejected += 1;
        if let Some(l) = &mut self.latest {
            l.rejected = self.rejected;
        }
    }

    /// The latest reading, if any arrived.
    pub fn latest(&self) -> Option<&LiveDto> {
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
    use hearth_meter::{MeterTime, Protocol};

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
}
