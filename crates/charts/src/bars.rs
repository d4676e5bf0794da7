//! Bar charts of energy per period (hour, day, month): stacked by tariff band, estimated periods
//! drawn faded with an outline, and an optional marker for the same period one step back.

use crate::error::{ChartError, check_size, draw_err};
use crate::line::{format_value, with_title};
use crate::theme::Theme;
use plotters::prelude::*;

/// One bar: a period and its energy per band.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Axis label for the period (`Mon 24`, `14h`, `Nov`).
    pub label: String,
    /// Stacked amounts, one per band of [`BarChart::bands`] (missing ones count as 0).
    pub segments: Vec<f64>,
    /// Part of the period was estimated (spread over a gap).
    pub estimated: bool,
    /// The comparison period's total, drawn as a marker across the bar.
    pub previous: Option<f64>,
}

impl Bar {
    /// The bar's height: its segments summed (negative and non-finite segments are skipped).
    pub fn total(&self) -> f64 {
        self.segments
            .iter()
            .filter(|v| v.is_finite() && **v > 0.0)
            .sum()
    }
}

/// A bar chart of energy per period.
#[derive(Debug, Clone)]
pub struct BarChart<'a> {
    /// Title above the chart.
    pub title: &'a str,
    /// The y-axis unit (`kWh`).
    pub unit: &'a str,
    /// Size in pixels.
    pub width: u32,
    /// Size in pixels.
    pub height: u32,
    /// Colours.
    pub theme: Theme,
    /// Names of the stacked bands (`Day`, `Night`), for the legend; colour = palette index.
    pub bands: &'a [&'a str],
    /// The bars, left to right.
    pub bars: &'a [Bar],
}

impl BarChart<'_> {
    /// Draws the chart as an SVG document.
    pub fn to_svg(&self) -> Result<String, ChartError> {
        check_size(self.width, self.height)?;
        let n = self.bars.len().max(1);
        let mut hi = self
            .bars
            .iter()
            .map(|b| {
                b.total()
                    .max(b.previous.filter(|p| p.is_finite()).unwrap_or(0.0))
            })
            .fold(0.0f64, f64::max);
        if hi <= 0.0 {
            hi = 1.0;
        }
        hi *= 1.1;
        let mut svg = String::new();
        {
            let root =
                SVGBackend::with_string(&mut svg, (self.width, self.height)).into_drawing_area();
            root.fill(&self.theme.background).map_err(draw_err)?;
            let fg = self.theme.foreground;
            let mut chart = ChartBuilder::on(&root)
                .caption(self.title, ("sans-serif", 16).into_font().color(&fg))
                .margin(8)
                .x_label_area_size(26)
                .y_label_area_size(56)
                .build_cartesian_2d(0f64..n as f64, 0f64..hi)
                .map_err(draw_err)?;
            let bars = self.bars;
            // Show at most ~12 labels; each label sits under its bar's centre.
            let step = n.div_ceil(12);
            let x_fmt = move |x: &f64| {
                let i = x.floor();
                if (x - i - 0.5).abs() < 1e-9 && (i as usize).checked_rem(step) == Some(0) {
                    bars.get(i as usize)
                        .map(|b| b.label.clone())
                        .unwrap_or_default()
                } else {
                    String::new()
                }
            };
            let y_fmt = |v: &f64| format_value(*v);
            chart
                .configure_mesh()
                .disable_x_mesh()
                .light_line_style(self.theme.grid.mix(0.35))
                .bold_line_style(self.theme.grid)
                .axis_style(fg)
                .label_style(("sans-serif", 13).into_font().color(&fg))
                .x_labels(n * 2 + 1)
                .x_label_formatter(&x_fmt)
                .y_labels(6)
                .y_label_formatter(&y_fmt)
                .y_desc(self.unit)
                .draw()
                .map_err(draw_err)?;

            let mut rects = Vec::new();
            let mut outlines = Vec::new();
            let mut markers = Vec::new();
            for (i, bar) in self.bars.iter().enumerate() {
                let (x0, x1) = (i as f64 + 0.12, i as f64 + 0.88);
                let mut y = 0.0;
                for (band, v) in bar.segments.iter().enumerate() {
                    if !v.is_finite() || *v <= 0.0 {
                        continue;
                    }
                    let c = self.theme.colour(band);
                    let style = if bar.estimated {
                        c.mix(0.35).filled()
                    } else {
                        c.filled()
                    };
                    rects.push(Rectangle::new([(x0, y), (x1, y + v)], style));
                    y += v;
                }
                if bar.estimated && y > 0.0 {
                    outlines.push(Rectangle::new([(x0, 0.0), (x1, y)], fg.stroke_width(1)));
                }
                if let Some(p) = bar.previous.filter(|p| p.is_finite() && *p > 0.0) {
                    markers.push(PathElement::new(
                        vec![(x0 - 0.06, p), (x1 + 0.06, p)],
                        fg.stroke_width(2),
                    ));
                }
            }
            chart.draw_series(rects).map_err(draw_err)?;
            chart.draw_series(outlines).map_err(draw_err)?;
            chart.draw_series(markers).map_err(draw_err)?;
            if self.bands.len() > 1 {
                for (band, name) in self.bands.iter().enumerate() {
                    let c = self.theme.colour(band);
                    chart
                        .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())
                        .map_err(draw_err)?
                        .label(*name)
                        .legend(move |(x, y)| {
                            Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled())
                        });
                }
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::UpperRight)
                    .background_style(self.theme.background.mix(0.8))
                    .border_style(self.theme.grid)
                    .label_font(("sans-serif", 13).into_font().color(&fg))
                    .draw()
                    .map_err(draw_err)?;
            }
            root.present().map_err(draw_err)?;
        }
        Ok(with_title(svg, self.title))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, segments: &[f64], estimated: bool, previous: Option<f64>) -> Bar {
        Bar {
            label: label.into(),
            segments: segments.to_vec(),
            estimated,
            previous,
        }
    }

    fn chart<'a>(bands: &'a [&'a str], bars: &'a [Bar]) -> BarChart<'a> {
        BarChart {
            title: "Energy per day",
            unit: "kWh",
            width: 640,
            height: 260,
            theme: Theme::LIGHT,
            bands,
            bars,
        }
    }

    #[test]
    fn totals_skip_negative_and_nan() {
        assert_eq!(
            bar("a", &[1.5, 2.0, -1.0, f64::NAN], false, None).total(),
            3.5
        );
    }

    #[test]
    fn draws_one_rect_per_positive_segment_and_labels_bars() {
        let bars = [
            bar("Mon", &[4.0, 2.0], false, None),
            bar("Tue", &[3.0, 0.0], false, None),
            bar("Wed", &[5.0, 1.0], false, None),
        ];
        let svg = chart(&["Day", "Night"], &bars).to_svg().unwrap();
        assert!(svg.contains("<title>Energy per day</title>"));
        let labels = crate::line::texts(&svg);
        for l in ["Mon", "Tue", "Wed", "Day", "Night"] {
            assert!(labels.contains(&l.to_string()), "{l} in {labels:?}");
        }
        // Day colour (Okabe-Ito blue #0072B2) filled 3 times, Night (orange #E69F00) twice,
        // plus one legend swatch each.
        assert_eq!(svg.matches("fill=\"#0072B2\"").count(), 4);
        assert_eq!(svg.matches("fill=\"#E69F00\"").count(), 3);
    }

    #[test]
    fn estimated_bars_are_faded_and_outlined_and_previous_is_marked() {
        let bars = [
            bar("1", &[2.0], true, Some(3.0)),
            bar("2", &[2.0], false, None),
        ];
        let svg = chart(&["All"], &bars).to_svg().unwrap();
        // Faded fill uses opacity 0.35; the solid bar is opaque.
        assert_eq!(svg.matches("opacity=\"0.35\" fill=\"#0072B2\"").count(), 1);
        assert_eq!(svg.matches("opacity=\"1\" fill=\"#0072B2\"").count(), 1);
        // One comparison marker (a 2-px path in the foreground colour #212529).
        assert_eq!(
            svg.matches("stroke=\"#212529\" stroke-width=\"2\"").count(),
            1
        );
    }

    #[test]
    fn no_bars_still_draws() {
        let svg = chart(&["All"], &[]).to_svg().unwrap();
        assert!(svg.contains("<title>Energy per day</title>"));
    }
}
