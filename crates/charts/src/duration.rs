//! Load-duration curves: a period's power values sorted from highest to lowest against the share
//! of time, so a homeowner sees the base load (the flat right end) and how long the peaks last
//! (the left end).
//!
//! Input is one `(mean power, seconds)` pair per interval, as rollups give them; intervals may
//! differ in length and each counts for its duration. [`LoadDuration`] sorts them once and
//! answers the questions the chart and its data table need: the curve itself ([`curve`]), the
//! level reached for a given share of the time ([`LoadDuration::value_at`]), the base load
//! ([`base_load`]) and how long the load was at or above a level
//! ([`LoadDuration::seconds_at_or_above`]). [`LoadDurationChart`] draws it.

use crate::error::{ChartError, draw_err};
use crate::line::format_value;
use crate::render::{self, Draw, FAMILY};
use crate::theme::{self, Theme};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The base load is the level the load stays at or above for all but this share (per cent) of
/// the time: its 5th percentile from the bottom. Lower than the minimum would let one quiet
/// minute decide; the median would count the fridge's off-cycles as "base".
pub const BASE_LOAD_PERCENTILE: f64 = 5.0;

/// A period's intervals sorted by power, highest first, with their running total of time.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LoadDuration {
    /// `(value, seconds from the start of the sorted curve to the end of this interval)`.
    steps: Vec<(f64, i64)>,
}

impl LoadDuration {
    /// Sorts `intervals` (`(mean power, seconds)`) by power, highest first. Intervals with a
    /// non-finite value or a duration of 0 or less are left out.
    pub fn new(intervals: &[(f64, i64)]) -> Self {
        let mut sorted: Vec<(f64, i64)> = intervals
            .iter()
            .copied()
            .filter(|(v, s)| v.is_finite() && *s > 0)
            .collect();
        sorted.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
        let mut cum = 0i64;
        for step in &mut sorted {
            cum = cum.saturating_add(step.1);
            step.1 = cum;
        }
        LoadDuration { steps: sorted }
    }

    /// No interval with a usable value and duration.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The time covered, in seconds.
    pub fn total_s(&self) -> i64 {
        self.steps.last().map_or(0, |s| s.1)
    }

    /// The highest value (the left end of the curve).
    pub fn max(&self) -> Option<f64> {
        self.steps.first().map(|s| s.0)
    }

    /// The lowest value (the right end of the curve).
    pub fn min(&self) -> Option<f64> {
        self.steps.last().map(|s| s.0)
    }

    /// The highest level the load reached or exceeded for at least `share` per cent of the time
    /// (`share` clamped to 0..=100): 0 gives the maximum, 100 the minimum. `None` without data or
    /// for a NaN share.
    pub fn value_at(&self, share: f64) -> Option<f64> {
        if share.is_nan() {
            return None;
        }
        let target = share.clamp(0.0, 100.0) / 100.0 * self.total_s() as f64;
        let i = self.steps.partition_point(|s| (s.1 as f64) < target);
        self.steps.get(i).or(self.steps.last()).map(|s| s.0)
    }

    /// The base load: [`value_at`](Self::value_at) `100 - BASE_LOAD_PERCENTILE`.
    pub fn base_load(&self) -> Option<f64> {
        self.value_at(100.0 - BASE_LOAD_PERCENTILE)
    }

    /// How many seconds the load was at `value` or above (0 for a NaN value).
    pub fn seconds_at_or_above(&self, value: f64) -> i64 {
        let n = self.steps.partition_point(|s| s.0 >= value);
        n.checked_sub(1).map_or(0, |i| self.steps[i].1)
    }

    /// The curve as `points` evenly spaced `(share in per cent, value)` pairs from share 0 to
    /// share 100, each value as in [`value_at`](Self::value_at) (computed in integer seconds, so
    /// shares that fall exactly on an interval's end take that interval's value). One point is
    /// `(0, max)`; none for no data or `points == 0`.
    pub fn curve(&self, points: usize) -> Vec<(f64, f64)> {
        if self.steps.is_empty() || points == 0 {
            return Vec::new();
        }
        if points == 1 {
            return vec![(0.0, self.steps[0].0)];
        }
        let last = (points - 1) as i128;
        let total = i128::from(self.total_s());
        let mut out = Vec::with_capacity(points);
        let mut i = 0;
        for k in 0..points {
            // Point k sits at share k / last of the time: the first interval whose end reaches
            // k * total / last, compared as k * total <= end * last to stay exact.
            let target = k as i128 * total;
            while i + 1 < self.steps.len() && i128::from(self.steps[i].1) * last < target {
                i += 1;
            }
            out.push((100.0 * k as f64 / last as f64, self.steps[i].0));
        }
        out
    }
}

/// The load-duration curve of `intervals` (`(mean power, seconds)`) as `points` evenly spaced
/// `(share in per cent, value)` pairs, highest value first. See [`LoadDuration::curve`].
///
/// ```
/// // One hour at 1000 W and three at 200 W: 1000 W for the first quarter of the time.
/// let c = hearth_charts::duration::curve(&[(200.0, 3 * 3600), (1000.0, 3600)], 5);
/// assert_eq!(c, [(0.0, 1000.0), (25.0, 1000.0), (50.0, 200.0), (75.0, 200.0), (100.0, 200.0)]);
/// ```
pub fn curve(intervals: &[(f64, i64)], points: usize) -> Vec<(f64, f64)> {
    LoadDuration::new(intervals).curve(points)
}

/// The base load of `intervals`: the level the load stayed at or above for all but
/// [`BASE_LOAD_PERCENTILE`] per cent of the time. `None` without data.
pub fn base_load(intervals: &[(f64, i64)]) -> Option<f64> {
    LoadDuration::new(intervals).base_load()
}

/// A load-duration chart: import power sorted high to low over the share of time (filled, so
/// the area is the energy), an optional export curve, and a dashed base-load line labelled with
/// its value.
///
/// ```
/// use hearth_charts::{duration::LoadDurationChart, theme::Theme};
/// // A day of hourly means: 2 h at 2500 W, 16 h at 400 W, 5 h at 180 W, 1 h at 120 W.
/// let mut import = vec![(2500.0, 3600); 2];
/// import.extend([(400.0, 3600); 16]);
/// import.extend([(180.0, 3600); 5]);
/// import.push((120.0, 3600));
/// let chart = LoadDurationChart {
///     title: "Load duration, 26 Nov",
///     desc: "Base load 180 W. Above 1 kW for 2 hours.",
///     unit: "W",
///     width: 640,
///     height: 280,
///     theme: Theme::LIGHT,
///     import: &import,
///     import_name: "Import",
///     export: &[],
///     export_name: "Export",
///     base_load_name: "Base load",
/// };
/// let svg = chart.to_svg().unwrap();
/// assert!(svg.contains("<title>Load duration, 26 Nov</title>"));
/// assert!(svg.contains("Base load 180 W"));
/// let png = chart.to_png(2).unwrap();
/// assert_eq!(&png[16..24], &[0, 0, 5, 0, 0, 0, 2, 48]); // IHDR: 1280 x 560
/// ```
#[derive(Debug, Clone)]
pub struct LoadDurationChart<'a> {
    /// Title above the chart (also the SVG `<title>`).
    pub title: &'a str,
    /// A sentence for screen readers, the SVG `<desc>` (e.g. "Base load 180 W. Above 1 kW for
    /// 2 hours."); empty for none. Compose it from [`LoadDuration`] in the user's language.
    pub desc: &'a str,
    /// The y-axis unit (`W`).
    pub unit: &'a str,
    /// Size in pixels.
    pub width: u32,
    /// Size in pixels.
    pub height: u32,
    /// Colours.
    pub theme: Theme,
    /// Import power per interval: `(mean power, seconds)`, in any order.
    pub import: &'a [(f64, i64)],
    /// Legend name of the import curve (`Import`), shown when there is an export curve.
    pub import_name: &'a str,
    /// Export power per interval (positive values), drawn as a second line; empty for none.
    pub export: &'a [(f64, i64)],
    /// Legend name of the export curve (`Export`).
    pub export_name: &'a str,
    /// Label of the base-load line, followed by its value and unit (`Base load` -> `Base load
    /// 180 W`).
    pub base_load_name: &'a str,
}

impl LoadDurationChart<'_> {
    /// Draws the chart as an SVG document with a `<title>` and (when given) a `<desc>`.
    pub fn to_svg(&self) -> Result<String, ChartError> {
        render::svg(self)
    }

    /// Draws the chart as a PNG image of `width × scale` by `height × scale` pixels (`scale` 1
    /// to [`MAX_SCALE`](crate::render::MAX_SCALE)), with the same drawing as
    /// [`to_svg`](Self::to_svg).
    pub fn to_png(&self, scale: u32) -> Result<Vec<u8>, ChartError> {
        render::png(self, scale)
    }
}

impl Draw for LoadDurationChart<'_> {
    fn title(&self) -> &str {
        self.title
    }

    fn desc(&self) -> Option<String> {
        (!self.desc.is_empty()).then(|| self.desc.to_string())
    }

    fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        s: u32,
    ) -> Result<(), ChartError> {
        let import = LoadDuration::new(self.import);
        let export = LoadDuration::new(self.export);
        // One point per pixel column of the plot is as fine as the eye can see.
        let points = self.width.saturating_sub(70).max(1) as usize + 1;
        // Absurd values are pinned to the (clamped) axis so plotters' pixel maths cannot overflow.
        let pin = |c: Vec<(f64, f64)>| -> Vec<(f64, f64)> {
            c.into_iter()
                .map(|(x, v)| (x, render::axis_end(v)))
                .collect()
        };
        let import_curve = pin(import.curve(points));
        let export_curve = pin(export.curve(points));
        let lo = [import.min(), export.min()]
            .into_iter()
            .flatten()
            .fold(0.0f64, f64::min);
        let hi = [import.max(), export.max()]
            .into_iter()
            .flatten()
            .fold(0.0f64, f64::max);
        let (lo, mut hi) = (render::axis_end(lo), render::axis_end(hi));
        if hi - lo < 1.0 {
            hi = lo + 1.0;
        }
        hi += (hi - lo) * 0.08;

        root.fill(&self.theme.background).map_err(draw_err)?;
        let fg = self.theme.foreground;
        let mut chart = ChartBuilder::on(root)
            .caption(self.title, (FAMILY, 16 * s).into_font().color(&fg))
            .margin(8 * s)
            // Room for half of the "100 %" label centred on the right edge.
            .margin_right(20 * s)
            .x_label_area_size(40 * s)
            .y_label_area_size(56 * s)
            .build_cartesian_2d(0f64..100f64, lo..hi)
            .map_err(draw_err)?;
        // Ticks every 20 % (plotters' choice for 6 labels on 0..100); the axis says how many
        // hours the whole width stands for ("100 % = 24 h"), so peak hours can be read off.
        let hours = import.total_s().max(export.total_s()) as f64 / 3600.0;
        let x_desc = format!("100 % = {} h", format_value(hours));
        let x_fmt = |p: &f64| format!("{} %", p.round());
        let y_fmt = |v: &f64| format_value(*v);
        chart
            .configure_mesh()
            .light_line_style(self.theme.grid.mix(0.35).stroke_width(s))
            .bold_line_style(self.theme.grid.stroke_width(s))
            .axis_style(fg.stroke_width(s))
            .label_style((FAMILY, 13 * s).into_font().color(&fg))
            .x_labels(6)
            .y_labels(6)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .x_desc(x_desc)
            .y_desc(self.unit)
            .draw()
            .map_err(draw_err)?;

        let legend_len = 16 * s as i32;
        let curves = [
            (&import_curve, self.import_name, theme::IMPORT, true),
            (&export_curve, self.export_name, theme::EXPORT, false),
        ];
        for (curve, name, colour, fill) in curves {
            if curve.is_empty() {
                continue;
            }
            let colour = self.theme.colour(colour);
            if fill {
                // The area under the curve is the period's energy.
                let base = lo.max(0.0).min(hi);
                let mut area = curve.clone();
                area.extend([(100.0, base), (0.0, base)]);
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        area,
                        colour.mix(0.25).filled(),
                    )))
                    .map_err(draw_err)?;
            }
            let style = colour.stroke_width(2 * s);
            chart
                .draw_series(LineSeries::new(curve.iter().copied(), style))
                .map_err(draw_err)?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + legend_len, y)], style));
        }

        if let Some(base) = import.base_load().map(render::axis_end) {
            let style = fg.stroke_width(s);
            chart
                .draw_series(DashedLineSeries::new(
                    [(0.0, base), (100.0, base)],
                    6 * s,
                    4 * s,
                    style,
                ))
                .map_err(draw_err)?;
            let text = format!(
                "{} {} {}",
                self.base_load_name,
                format_value(base),
                self.unit
            );
            let font = (FAMILY, 13 * s)
                .into_font()
                .color(&fg)
                .pos(Pos::new(HPos::Right, VPos::Bottom));
            let gap = 4 * s as i32;
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((100.0, base)) + Text::new(text, (-gap, -gap), font),
                ))
                .map_err(draw_err)?;
        }

        if !export_curve.is_empty() {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(self.theme.background.mix(0.8))
                .border_style(self.theme.grid)
                .label_font((FAMILY, 13 * s).into_font().color(&fg))
                .draw()
                .map_err(draw_err)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::line::{lines_in, texts};
    use crate::render::Decoded;

    /// A day of hourly means: 2 h at 2500 W, 16 h at 400 W, 5 h at 180 W, 1 h at 120 W, shuffled.
    fn day() -> Vec<(f64, i64)> {
        let mut v = vec![(400.0, 3600); 16];
        v.insert(3, (2500.0, 3600));
        v.insert(9, (120.0, 3600));
        v.extend([(180.0, 3600); 5]);
        v.insert(20, (2500.0, 3600));
        v
    }

    #[test]
    fn curve_holds_each_value_for_its_share_of_time() {
        // Sorted: 1000 W for 1 h, then 200 W for 3 h (4 h). Shares 0/25/50/75/100 % are
        // 0/1/2/3/4 h: 1000 W reaches the 1 h mark, 200 W the rest.
        assert_eq!(
            curve(&[(200.0, 3 * 3600), (1000.0, 3600)], 5),
            [
                (0.0, 1000.0),
                (25.0, 1000.0),
                (50.0, 200.0),
                (75.0, 200.0),
                (100.0, 200.0)
            ]
        );
    }

    #[test]
    fn curve_weights_by_duration_and_skips_bad_intervals() {
        // Kept: 300 W for 60 s, 100 W for 540 s, 50 W for 300 s (900 s); dropped: a 0-s and a
        // negative interval and a NaN. Points at 0, 300, 600, 900 s: 300 (first end 60 >= 0),
        // 100 (600 >= 300), 100 (600 >= 600), 50.
        let c = curve(
            &[
                (100.0, 540),
                (500.0, 0),
                (900.0, -5),
                (f64::NAN, 100),
                (50.0, 300),
                (300.0, 60),
            ],
            4,
        );
        assert_eq!(
            c,
            [
                (0.0, 300.0),
                (100.0 / 3.0, 100.0),
                (200.0 / 3.0, 100.0),
                (100.0, 50.0)
            ]
        );
    }

    #[test]
    fn degenerate_inputs_give_short_or_empty_curves() {
        assert!(curve(&[], 10).is_empty());
        assert!(curve(&[(5.0, 0), (f64::INFINITY, 10)], 10).is_empty());
        assert!(curve(&[(5.0, 10)], 0).is_empty());
        assert_eq!(curve(&[(5.0, 10), (7.0, 1)], 1), [(0.0, 7.0)]);
        // Durations that overflow i64 saturate instead of panicking.
        let c = curve(&[(1.0, i64::MAX), (2.0, i64::MAX)], 3);
        assert_eq!(c, [(0.0, 2.0), (50.0, 2.0), (100.0, 2.0)]);
        let d = LoadDuration::new(&[]);
        assert!(d.is_empty());
        assert_eq!((d.total_s(), d.max(), d.min()), (0, None, None));
        assert_eq!(d.value_at(50.0), None);
        assert_eq!(d.base_load(), None);
        assert_eq!(d.seconds_at_or_above(0.0), 0);
    }

    #[test]
    fn base_load_is_the_fifth_percentile_from_the_bottom() {
        let d = LoadDuration::new(&day());
        assert_eq!(d.total_s(), 86_400);
        assert_eq!((d.max(), d.min()), (Some(2500.0), Some(120.0)));
        // Sorted ends: 2500 W at 2 h, 400 W at 18 h, 180 W at 23 h, 120 W at 24 h. 95 % of 24 h
        // is 22.8 h, inside the 180 W run: the single 120 W hour (4.2 % < 5 %) is not the base.
        assert_eq!(d.base_load(), Some(180.0));
        assert_eq!(base_load(&day()), Some(180.0));
        assert_eq!(d.value_at(0.0), Some(2500.0));
        assert_eq!(d.value_at(-3.0), Some(2500.0));
        // 2 h / 24 h = 8.33 %: still 2500 W at 8 %, 400 W at 9 %.
        assert_eq!(d.value_at(8.0), Some(2500.0));
        assert_eq!(d.value_at(9.0), Some(400.0));
        assert_eq!(d.value_at(100.0), Some(120.0));
        assert_eq!(d.value_at(250.0), Some(120.0));
        assert_eq!(d.value_at(f64::NAN), None);
    }

    #[test]
    fn time_at_or_above_a_level() {
        let d = LoadDuration::new(&day());
        assert_eq!(d.seconds_at_or_above(1000.0), 2 * 3600);
        assert_eq!(d.seconds_at_or_above(2500.0), 2 * 3600);
        assert_eq!(d.seconds_at_or_above(400.0), 18 * 3600);
        assert_eq!(d.seconds_at_or_above(0.0), 24 * 3600);
        assert_eq!(d.seconds_at_or_above(2500.5), 0);
        assert_eq!(d.seconds_at_or_above(f64::NAN), 0);
    }

    fn chart<'a>(import: &'a [(f64, i64)], export: &'a [(f64, i64)]) -> LoadDurationChart<'a> {
        LoadDurationChart {
            title: "Load duration <day>",
            desc: "Base load 180 W & peaks of 2.5 kW for 2 h.",
            unit: "W",
            width: 640,
            height: 280,
            theme: Theme::LIGHT,
            import,
            import_name: "Import",
            export,
            export_name: "Export",
            base_load_name: "Base load",
        }
    }

    #[test]
    fn svg_has_title_desc_base_load_and_share_ticks() {
        let svg = chart(&day(), &[]).to_svg().unwrap();
        assert!(svg.contains("<title>Load duration &lt;day&gt;</title>"));
        assert!(svg.contains("<desc>Base load 180 W &amp; peaks of 2.5 kW for 2 h.</desc>"));
        let labels = texts(&svg);
        for l in ["Base load 180 W", "0 %", "20 %", "100 %", "100 % = 24 h"] {
            assert!(labels.contains(&l.to_string()), "{l} in {labels:?}");
        }
        // One filled area and one line in the import colour; no legend for a single curve.
        assert_eq!(svg.matches("<polygon").count(), 1);
        assert_eq!(lines_in(&svg, "#0072B2"), 1);
        assert!(!labels.contains(&"Import".to_string()));
    }

    #[test]
    fn export_is_a_second_line_with_a_legend() {
        let export = [(1500.0, 4 * 3600), (0.0, 20 * 3600)];
        let svg = chart(&day(), &export).to_svg().unwrap();
        // Import: area + line (+ legend sample); export: bluish green (#009E73) line + legend.
        assert_eq!(lines_in(&svg, "#009E73"), 2);
        assert_eq!(svg.matches("<polygon").count(), 1);
        let labels = texts(&svg);
        assert!(labels.contains(&"Import".to_string()) && labels.contains(&"Export".to_string()));
    }

    #[test]
    fn no_data_draws_axes_only() {
        let svg = chart(&[], &[]).to_svg().unwrap();
        assert!(svg.contains("<title>"));
        assert_eq!(lines_in(&svg, "#0072B2"), 0);
        assert!(!texts(&svg).iter().any(|t| t.starts_with("Base load")));
        let mut c = chart(&[], &[]);
        c.desc = "";
        assert!(!c.to_svg().unwrap().contains("<desc>"));
    }

    #[test]
    fn extreme_values_do_not_panic() {
        // An infinite axis would make plotters' tick search loop forever: values are clamped.
        for v in [f64::MAX, -f64::MAX, 1e300, f64::MIN_POSITIVE] {
            let import = [(v, 60), (0.0, 60)];
            let c = chart(&import, &import);
            let _ = c.to_svg();
            let _ = c.to_png(1);
        }
    }

    #[test]
    fn png_draws_the_peak_top_left_and_the_base_bottom_right() {
        let import = day();
        let c = chart(&import, &[]);
        let png = Decoded::new(&c.to_png(1).unwrap());
        assert_eq!((png.width, png.height), (640, 280));
        assert_eq!(png.title.as_deref(), Some("Load duration <day>"));
        assert_eq!(png.pixel(0, 0), Theme::LIGHT.background);
        let blue = Theme::LIGHT.colour(theme::IMPORT);
        // The y axis runs 0..2700 W (2500 + 8 %), so the 2500 W peak (first 8 % of the time)
        // is a line near the top on the left, and 120-180 W near the bottom on the right.
        let top_left = png.count(blue, (60, 20), (320, 90));
        let bottom_right = png.count(blue, (320, 200), (640, 260));
        let top_right = png.count(blue, (400, 20), (640, 90));
        assert!(top_left > 20, "{top_left}");
        assert!(bottom_right > 100, "{bottom_right}");
        assert_eq!(top_right, 0);
    }
}
