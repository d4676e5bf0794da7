//! Line charts over time: power in watts, with a min/max envelope when samples outnumber pixels,
//! breaks where data is missing, and dashed lines for estimated values.

use crate::downsample::{Bucket, Point, merge, min_max, split_at_gaps};
use crate::error::{ChartError, draw_err};
use crate::render::{self, Draw, FAMILY};
use crate::theme::Theme;
use crate::timeaxis::{LabelFormat, label, ticks};
use plotters::coord::Shift;
use plotters::prelude::*;

/// One line on a [`LineChart`].
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    /// Legend name (`Import`).
    pub name: &'a str,
    /// Samples sorted by time, in the chart's unit.
    pub points: &'a [Point],
    /// Palette index of the colour.
    pub colour: usize,
    /// A step longer than this (seconds) is drawn as a break, not a line across the hole.
    pub max_gap_s: i64,
    /// Estimated values (spread over a gap): drawn dashed.
    pub estimated: bool,
    /// A precomputed min/max band (from rollups) drawn under the line; empty for none.
    /// When the points are many more than the pixels, a band is computed from them instead.
    pub envelope: &'a [Bucket],
}

/// A time-series chart of one quantity.
#[derive(Debug, Clone)]
pub struct LineChart<'a> {
    /// Title above the chart (also what a screen reader gets).
    pub title: &'a str,
    /// The y-axis unit (`W`).
    pub unit: &'a str,
    /// Size in pixels.
    pub width: u32,
    /// Size in pixels.
    pub height: u32,
    /// Colours.
    pub theme: Theme,
    /// Visible range, unix seconds, `from < to`.
    pub from: i64,
    /// End of the visible range (exclusive).
    pub to: i64,
    /// UTC offset for the time labels.
    pub utc_offset_s: i32,
    /// The lines, drawn in order.
    pub lines: Vec<Line<'a>>,
}

/// How many samples per pixel column before a line is drawn as mean + min/max envelope.
const SAMPLES_PER_PIXEL: usize = 2;

impl LineChart<'_> {
    /// Draws the chart as an SVG document.
    pub fn to_svg(&self) -> Result<String, ChartError> {
        render::svg(self)
    }

    /// Draws the chart as a PNG image of `width × scale` by `height × scale` pixels (`scale` 1 to
    /// [`MAX_SCALE`](crate::render::MAX_SCALE); 2 suits a high-DPI screen), with the same
    /// drawing as [`to_svg`](Self::to_svg).
    ///
    /// ```
    /// # use hearth_charts::{downsample::Point, line::{Line, LineChart}, theme::Theme};
    /// let points: Vec<Point> = (0..60).map(|s| Point::new(s, 300.0)).collect();
    /// let chart = LineChart {
    ///     title: "Power",
    ///     unit: "W",
    ///     width: 320,
    ///     height: 160,
    ///     theme: Theme::LIGHT,
    ///     from: 0,
    ///     to: 60,
    ///     utc_offset_s: 0,
    ///     lines: vec![Line { name: "Import", points: &points, colour: 0, max_gap_s: 5, estimated: false, envelope: &[] }],
    /// };
    /// let png = chart.to_png(2).unwrap();
    /// assert_eq!(&png[1..4], b"PNG");
    /// assert_eq!(&png[16..24], &[0, 0, 2, 128, 0, 0, 1, 64]); // IHDR: 640 x 320
    /// ```
    pub fn to_png(&self, scale: u32) -> Result<Vec<u8>, ChartError> {
        render::png(self, scale)
    }
}

impl Draw for LineChart<'_> {
    fn title(&self) -> &str {
        self.title
    }

    fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        s: u32,
    ) -> Result<(), ChartError> {
        if self.to <= self.from {
            return Err(ChartError::EmptyRange);
        }
        // Summarise first, so the y range and the drawing see the same data.
        let plot_px = self.width.saturating_sub(70).max(1) as usize;
        let prepared: Vec<Prepared<'_>> = self
            .lines
            .iter()
            .map(|l| {
                let visible = visible(l.points, self.from, self.to);
                if visible.len() > plot_px * SAMPLES_PER_PIXEL {
                    Prepared::Buckets(min_max(visible, self.from, self.to, plot_px))
                } else {
                    Prepared::Points(visible)
                }
            })
            .collect();
        // A precomputed band finer than the pixels (a year of hourly rollups) is merged to one
        // bucket per pixel column: the same extremes in a tenth of the SVG.
        let envelopes: Vec<std::borrow::Cow<'_, [Bucket]>> = self
            .lines
            .iter()
            .map(|l| {
                if l.envelope.len() > plot_px * SAMPLES_PER_PIXEL {
                    merge(l.envelope, self.from, self.to, plot_px).into()
                } else {
                    l.envelope.into()
                }
            })
            .collect();
        let (mut lo, mut hi) = (0.0f64, 0.0f64);
        for p in &prepared {
            let (a, b) = p.range();
            lo = lo.min(a);
            hi = hi.max(b);
        }
        for b in envelopes.iter().flat_map(|e| e.iter()) {
            if b.min.is_finite() && b.max.is_finite() {
                lo = lo.min(b.min);
                hi = hi.max(b.max);
            }
        }
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
            .x_label_area_size(26 * s)
            .y_label_area_size(56 * s)
            .build_cartesian_2d(
                (self.from..self.to).with_key_points(ticks(
                    self.from,
                    self.to,
                    self.utc_offset_s,
                    7,
                )),
                lo..hi,
            )
            .map_err(draw_err)?;
        let fmt = LabelFormat::for_span(self.to - self.from);
        let offset = self.utc_offset_s;
        let x_fmt = |t: &i64| label(*t, offset, fmt);
        let y_fmt = |v: &f64| format_value(*v);
        chart
            .configure_mesh()
            .light_line_style(self.theme.grid.mix(0.35).stroke_width(s))
            .bold_line_style(self.theme.grid.stroke_width(s))
            .axis_style(fg.stroke_width(s))
            .label_style((FAMILY, 13 * s).into_font().color(&fg))
            .x_labels(7)
            .y_labels(6)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .y_desc(self.unit)
            .draw()
            .map_err(draw_err)?;

        // Points far outside the view (a meter clock that jumped years) or absurd values would
        // overflow plotters' pixel maths: pin them well outside the plot, where clipping hides
        // the difference.
        let span = self.to - self.from;
        let (t_lo, t_hi) = (
            self.from.saturating_sub(span.saturating_mul(1000)),
            self.to.saturating_add(span.saturating_mul(1000)),
        );
        let at = |t: i64, v: f64| (t.clamp(t_lo, t_hi), render::axis_end(v));
        for ((line, prep), envelope) in self.lines.iter().zip(&prepared).zip(&envelopes) {
            let colour = self.theme.colour(line.colour);
            let style = ShapeStyle {
                color: colour.to_rgba(),
                filled: false,
                stroke_width: 2 * s,
            };
            let series: Vec<Vec<(i64, f64)>> = match prep {
                Prepared::Points(p) => split_at_gaps(p, line.max_gap_s)
                    .into_iter()
                    .map(|run| run.iter().map(|p| at(p.t, p.v)).collect())
                    .collect(),
                Prepared::Buckets(b) => {
                    // Envelope first so the mean line sits on top of it; a precomputed band
                    // (drawn below) already holds these extremes.
                    let gap = line.max_gap_s.max(bucket_width(b) * 2);
                    let own_band = if envelope.is_empty() {
                        bucket_runs(b, gap)
                    } else {
                        Vec::new()
                    };
                    for run in own_band {
                        let mut poly: Vec<(i64, f64)> =
                            run.iter().map(|b| at(b.mid(), b.max)).collect();
                        poly.extend(run.iter().rev().map(|b| at(b.mid(), b.min)));
                        chart
                            .draw_series(std::iter::once(Polygon::new(
                                poly,
                                colour.mix(0.25).filled(),
                            )))
                            .map_err(draw_err)?;
                    }
                    bucket_runs(b, gap)
                        .into_iter()
                        .map(|run| run.iter().map(|b| at(b.mid(), b.mean)).collect())
                        .collect()
                }
            };
            if !envelope.is_empty() {
                let gap = line.max_gap_s.max(bucket_width(envelope) * 2);
                for run in bucket_runs(envelope, gap) {
                    let mut poly: Vec<(i64, f64)> =
                        run.iter().map(|b| at(b.mid(), b.max)).collect();
                    poly.extend(run.iter().rev().map(|b| at(b.mid(), b.min)));
                    chart
                        .draw_series(std::iter::once(Polygon::new(
                            poly,
                            colour.mix(0.25).filled(),
                        )))
                        .map_err(draw_err)?;
                }
            }
            let mut first = true;
            let legend_len = 16 * s as i32;
            for run in series {
                let drawn = if line.estimated {
                    chart.draw_series(DashedLineSeries::new(run, 6 * s, 4 * s, style))
                } else {
                    chart.draw_series(LineSeries::new(run, style))
                }
                .map_err(draw_err)?;
                if first {
                    drawn.label(line.name).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + legend_len, y)], style)
                    });
                    first = false;
                }
            }
        }
        if self.lines.len() > 1 {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(self.theme.background.mix(0.8))
                .border_style(self.theme.grid)
                .label_font((FAMILY, 13 * s).into_font().color(&fg))
                .draw()
                .map_err(draw_err)?;
        }
        Ok(())
    }
}

enum Prepared<'a> {
    Points(&'a [Point]),
    Buckets(Vec<Bucket>),
}

impl Prepared<'_> {
    fn range(&self) -> (f64, f64) {
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        match self {
            Prepared::Points(p) => {
                for p in p.iter().filter(|p| p.v.is_finite()) {
                    lo = lo.min(p.v);
                    hi = hi.max(p.v);
                }
            }
            Prepared::Buckets(b) => {
                for b in b {
                    lo = lo.min(b.min);
                    hi = hi.max(b.max);
                }
            }
        }
        if lo > hi { (0.0, 0.0) } else { (lo, hi) }
    }
}

/// The samples inside `[from, to)`, plus one either side so lines run to the edges.
fn visible(points: &[Point], from: i64, to: i64) -> &[Point] {
    let start = points.partition_point(|p| p.t < from).saturating_sub(1);
    let end = (points.partition_point(|p| p.t < to) + 1).min(points.len());
    if start >= end {
        &[]
    } else {
        &points[start..end]
    }
}

fn bucket_width(b: &[Bucket]) -> i64 {
    b.first().map_or(1, |b| (b.end - b.start).max(1))
}

fn bucket_runs(b: &[Bucket], max_gap: i64) -> Vec<&[Bucket]> {
    let mut runs = Vec::new();
    let mut start = 0;
    for i in 1..b.len() {
        if b[i].mid() - b[i - 1].mid() > max_gap {
            runs.push(&b[start..i]);
            start = i;
        }
    }
    if start < b.len() {
        runs.push(&b[start..]);
    }
    runs
}

/// An axis value without needless decimals (`1500`, `2.5`, `0.25`).
pub fn format_value(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        let s = format!("{v:.1}");
        s.strip_suffix(".0").map_or(s.clone(), str::to_string)
    } else {
        format!("{v:.2}")
    }
}

/// The text of every `<text>` element, trimmed (plotters writes it on its own line).
#[cfg(test)]
pub(crate) fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..];
            Some(body[..body.find("</text>")?].trim().to_string())
        })
        .collect()
}

/// How many `<polyline>`s are stroked in `colour` (`#0072B2`): data lines, not axes.
#[cfg(test)]
pub(crate) fn lines_in(svg: &str, colour: &str) -> usize {
    let needle = format!("stroke=\"{colour}\"");
    svg.split("<polyline")
        .skip(1)
        .filter(|p| p[..p.find('>').unwrap_or(0)].contains(&needle))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Decoded;

    fn chart<'a>(lines: Vec<Line<'a>>, from: i64, to: i64) -> LineChart<'a> {
        LineChart {
            title: "Power <live>",
            unit: "W",
            width: 600,
            height: 240,
            theme: Theme::LIGHT,
            from,
            to,
            utc_offset_s: 3600,
            lines,
        }
    }

    fn line(points: &[Point]) -> Line<'_> {
        Line {
            name: "Import",
            points,
            colour: 0,
            max_gap_s: 5,
            estimated: false,
            envelope: &[],
        }
    }

    #[test]
    fn draws_a_line_with_title_and_local_time_labels() {
        // 60 one-second samples from 2025-11-26T14:05:00Z; labels shown at +01:00 -> 15:05:xx.
        let t0 = 1_764_165_900;
        let p: Vec<Point> = (0..60)
            .map(|i| Point::new(t0 + i, 400.0 + i as f64))
            .collect();
        let svg = chart(vec![line(&p)], t0, t0 + 60).to_svg().unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("<title>Power &lt;live&gt;</title>"));
        let labels = texts(&svg);
        assert!(
            labels.iter().any(|l| l.starts_with("15:05:")),
            "local-time labels: {labels:?}"
        );
        assert!(!labels.iter().any(|l| l.starts_with("14:05:")), "not UTC");
        assert_eq!(lines_in(&svg, "#0072B2"), 1);
        // No envelope for 60 samples on 530 px.
        assert_eq!(svg.matches("<polygon").count(), 0);
    }

    #[test]
    fn a_gap_breaks_the_line() {
        let t0 = 1_000_000;
        let mut p: Vec<Point> = (0..20).map(|i| Point::new(t0 + i, 100.0)).collect();
        p.extend((40..60).map(|i| Point::new(t0 + i, 100.0)));
        let svg = chart(vec![line(&p)], t0, t0 + 60).to_svg().unwrap();
        assert_eq!(lines_in(&svg, "#0072B2"), 2);
    }

    #[test]
    fn many_samples_become_an_envelope() {
        // 10 000 samples on ~530 px: one polygon (min/max band) and one mean line.
        let p: Vec<Point> = (0..10_000)
            .map(|i| Point::new(i, (i % 7) as f64 * 100.0))
            .collect();
        let svg = chart(vec![line(&p)], 0, 10_000).to_svg().unwrap();
        assert_eq!(svg.matches("<polygon").count(), 1);
        assert_eq!(lines_in(&svg, "#0072B2"), 1);
    }

    #[test]
    fn estimated_lines_are_dashed_and_two_lines_get_a_legend() {
        let p: Vec<Point> = (0..30).map(|i| Point::new(i, 200.0)).collect();
        let q: Vec<Point> = (0..30).map(|i| Point::new(i, 50.0)).collect();
        let mut est = line(&q);
        est.name = "Export";
        est.estimated = true;
        let svg = chart(vec![line(&p), est], 0, 30).to_svg().unwrap();
        let labels = texts(&svg);
        assert!(labels.contains(&"Import".to_string()) && labels.contains(&"Export".to_string()));
        // The dashed line is drawn as many short segments, the solid one as one polyline + legend.
        assert!(lines_in(&svg, "#0072B2") > 5);
    }

    #[test]
    fn a_given_envelope_is_drawn_and_widens_the_y_range() {
        // Hourly means of 500 W with a 4000 W peak in the band: the band is drawn and the
        // y axis reaches 4000 (labels go up in 500s or 1000s, so "4000" appears).
        let means: Vec<Point> = (0..24)
            .map(|h| Point::new(h * 3600 + 1800, 500.0))
            .collect();
        let band: Vec<Bucket> = (0..24)
            .map(|h| Bucket {
                start: h * 3600,
                end: (h + 1) * 3600,
                min: 100.0,
                max: if h == 18 { 4000.0 } else { 900.0 },
                mean: 500.0,
                count: 3600,
            })
            .collect();
        let mut l = line(&means);
        l.max_gap_s = 3600;
        l.envelope = &band;
        let svg = chart(vec![l], 0, 86_400).to_svg().unwrap();
        assert_eq!(svg.matches("<polygon").count(), 1);
        assert!(
            texts(&svg).contains(&"4000".to_string()),
            "{:?}",
            texts(&svg)
        );
    }

    #[test]
    fn a_fine_envelope_is_merged_to_the_pixels_and_keeps_its_peak() {
        // A year of hourly rollups (8760 means and bands) on 600 px (530 px of plot): one
        // polygon, the precomputed band merged to at most one bucket per pixel column (two
        // vertices each), no second band from the means, and the single 7000 W hour still
        // sets the top of the y axis (labelled in 2000s).
        let hours = 8760;
        let means: Vec<Point> = (0..hours)
            .map(|h| Point::new(h * 3600 + 1800, 400.0 + (h % 24) as f64 * 10.0))
            .collect();
        let band: Vec<Bucket> = (0..hours)
            .map(|h| Bucket {
                start: h * 3600,
                end: (h + 1) * 3600,
                min: 150.0,
                max: if h == 4321 { 7000.0 } else { 1200.0 },
                mean: 400.0 + (h % 24) as f64 * 10.0,
                count: 3600,
            })
            .collect();
        let mut l = line(&means);
        l.max_gap_s = 3 * 3600;
        l.envelope = &band;
        let svg = chart(vec![l], 0, hours * 3600).to_svg().unwrap();
        assert_eq!(svg.matches("<polygon").count(), 1);
        let polygon = &svg[svg.find("<polygon").unwrap()..];
        let polygon = &polygon[..polygon.find("/>").unwrap()];
        let vertices = polygon.matches(',').count();
        assert!(
            (2 * 500..=2 * 530).contains(&vertices),
            "{vertices} vertices"
        );
        assert!(svg.len() < 40_000, "{} bytes", svg.len());
        // Without the spike the axis would end near 1300 W.
        assert!(
            texts(&svg).contains(&"6000".to_string()),
            "{:?}",
            texts(&svg)
        );
    }

    #[test]
    fn empty_data_still_draws_axes() {
        let svg = chart(vec![line(&[])], 0, 60).to_svg().unwrap();
        assert!(svg.contains("<title>"));
        assert_eq!(lines_in(&svg, "#0072B2"), 0);
    }

    #[test]
    fn bad_requests_are_errors() {
        let mut c = chart(vec![], 0, 60);
        c.width = 10;
        assert!(matches!(
            c.to_svg(),
            Err(ChartError::Size { width: 10, .. })
        ));
        assert_eq!(chart(vec![], 60, 60).to_svg(), Err(ChartError::EmptyRange));
    }

    #[test]
    fn png_has_the_requested_size_and_the_line_where_expected() {
        // A flat 300 W line: the y axis runs 0..324 W (300 + 8 %), so the line lies in the top
        // part of the plot and nothing blue is drawn in the bottom third.
        let p: Vec<Point> = (0..60).map(|i| Point::new(i, 300.0)).collect();
        let c = chart(vec![line(&p)], 0, 60);
        let blue = Theme::LIGHT.colour(0);
        for scale in [1, 2] {
            let png = Decoded::new(&c.to_png(scale).unwrap());
            assert_eq!((png.width, png.height), (600 * scale, 240 * scale));
            assert_eq!(png.title.as_deref(), Some("Power <live>"));
            assert_eq!(png.pixel(0, 0), Theme::LIGHT.background);
            let (w, h) = (png.width, png.height);
            let top = png.count(blue, (0, 0), (w, h / 3));
            let bottom = png.count(blue, (0, 2 * h / 3), (w, h));
            // A 2-px line over ~500 px at scale 1 is about 1000 pixels (4x at scale 2).
            assert!(top > 800 * (scale * scale) as usize, "scale {scale}: {top}");
            assert_eq!(bottom, 0, "scale {scale}");
        }
    }

    #[test]
    fn png_dark_theme_and_bad_scales() {
        let p: Vec<Point> = (0..60).map(|i| Point::new(i, 300.0)).collect();
        let mut c = chart(vec![line(&p)], 0, 60);
        c.theme = Theme::DARK;
        let png = Decoded::new(&c.to_png(1).unwrap());
        assert_eq!(png.pixel(0, 0), Theme::DARK.background);
        assert!(png.count_all(Theme::DARK.colour(0)) > 800);
        for bad in [0, 5] {
            assert_eq!(
                c.to_png(bad),
                Err(ChartError::Scale {
                    scale: bad,
                    max: crate::render::MAX_SCALE
                })
            );
        }
        // 2000 px at 4x is more than the largest side.
        c.width = 2000;
        assert!(matches!(
            c.to_png(4),
            Err(ChartError::Size { width: 8000, .. })
        ));
        assert_eq!(chart(vec![], 60, 60).to_png(1), Err(ChartError::EmptyRange));
    }

    #[test]
    fn extreme_values_do_not_hang_or_panic() {
        // An infinite y axis would make plotters' tick search loop forever: it is clamped.
        let p = [
            Point::new(0, f64::MAX),
            Point::new(1, -f64::MAX),
            Point::new(2, 1e300),
        ];
        let c = chart(vec![line(&p)], 0, 3);
        assert!(c.to_svg().is_ok());
        assert!(c.to_png(1).is_ok());
    }

    #[test]
    fn a_point_decades_away_does_not_overflow() {
        // The sample after a 60-s view comes from a meter clock 80 years ahead.
        let p = [
            Point::new(0, 100.0),
            Point::new(30, 120.0),
            Point::new(2_524_608_000, 100.0),
        ];
        let mut l = line(&p);
        l.max_gap_s = i64::MAX;
        let c = chart(vec![l], 0, 60);
        assert!(c.to_svg().is_ok());
        assert!(c.to_png(1).is_ok());
    }

    #[test]
    fn values_format_compactly() {
        assert_eq!(format_value(1500.0), "1500");
        assert_eq!(format_value(2.5), "2.5");
        assert_eq!(format_value(3.0), "3");
        assert_eq!(format_value(0.25), "0.25");
        assert_eq!(format_value(0.0), "0");
        assert_eq!(format_value(-250.4), "-250");
    }
}
