//! Bar charts of energy per period (hour, day, month): stacked by tariff band, estimated periods
//! drawn faded with an outline, and an optional marker for the same period one step back.

use crate::error::{ChartError, draw_err};
use crate::line::format_value;
use crate::render::{self, Draw, FAMILY};
use crate::theme::Theme;
use plotters::coord::Shift;
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
        render::svg(self)
    }

    /// Draws the chart as a PNG image of `width × scale` by `height × scale` pixels (`scale` 1 to
    /// [`MAX_SCALE`](crate::render::MAX_SCALE)), with the same drawing as [`to_svg`](Self::to_svg).
    ///
    /// ```
    /// # use hearth_charts::{bars::{Bar, BarChart}, theme::Theme};
    /// let bars = [Bar { label: "Mon".into(), segments: vec![4.5, 2.0], estimated: false, previous: None }];
    /// let chart = BarChart {
    ///     title: "Energy per day",
    ///     unit: "kWh",
    ///     width: 400,
    ///     height: 200,
    ///     theme: Theme::DARK,
    ///     bands: &["Day", "Night"],
    ///     bars: &bars,
    /// };
    /// let png = chart.to_png(1).unwrap();
    /// assert_eq!(&png[16..24], &[0, 0, 1, 144, 0, 0, 0, 200]); // IHDR: 400 x 200
    /// ```
    pub fn to_png(&self, scale: u32) -> Result<Vec<u8>, ChartError> {
        render::png(self, scale)
    }
}

impl Draw for BarChart<'_> {
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
        hi = render::axis_end(hi) * 1.1;
        root.fill(&self.theme.background).map_err(draw_err)?;
        let fg = self.theme.foreground;
        let mut chart = ChartBuilder::on(root)
            .caption(self.title, (FAMILY, 16 * s).into_font().color(&fg))
            .margin(8 * s)
            .x_label_area_size(26 * s)
            .y_label_area_size(56 * s)
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
            .light_line_style(self.theme.grid.mix(0.35).stroke_width(s))
            .bold_line_style(self.theme.grid.stroke_width(s))
            .axis_style(fg.stroke_width(s))
            .label_style((FAMILY, 13 * s).into_font().color(&fg))
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
                let v = render::axis_end(*v);
                rects.push(Rectangle::new([(x0, y), (x1, y + v)], style));
                y += v;
            }
            if bar.estimated && y > 0.0 {
                outlines.push(Rectangle::new([(x0, 0.0), (x1, y)], fg.stroke_width(s)));
            }
            if let Some(p) = bar
                .previous
                .filter(|p| p.is_finite() && *p > 0.0)
                .map(render::axis_end)
            {
                markers.push(PathElement::new(
                    vec![(x0 - 0.06, p), (x1 + 0.06, p)],
                    fg.stroke_width(2 * s),
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
                        let (w, h) = (12 * s as i32, 5 * s as i32);
                        Rectangle::new([(x, y - h), (x + w, y + h)], c.filled())
                    });
            }
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
    use crate::render::Decoded;

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
    fn gas_and_export_are_single_series_in_their_own_colour_and_unit() {
        use crate::theme::{EXPORT, GAS};
        let gas = [
            bar("06h", &[0.12], false, None),
            bar("07h", &[0.35], false, None),
            bar("08h", &[0.04], true, None),
        ];
        let mut c = chart(&["Gas"], &gas);
        c.title = "Gas per hour";
        c.unit = "m³";
        c.theme = Theme::LIGHT.starting_with(GAS);
        let svg = c.to_svg().unwrap();
        // Vermillion (#D55E00) bars, two solid and one faded; no blue; no legend for one band.
        assert_eq!(svg.matches("opacity=\"1\" fill=\"#D55E00\"").count(), 2);
        assert_eq!(svg.matches("opacity=\"0.35\" fill=\"#D55E00\"").count(), 1);
        assert_eq!(svg.matches("#0072B2").count(), 0);
        let labels = crate::line::texts(&svg);
        assert!(labels.contains(&"m³".to_string()), "{labels:?}");
        assert!(!labels.contains(&"Gas".to_string()));
        // Ticks of a 0..0.385 m³ axis keep their decimals.
        assert!(labels.contains(&"0.10".to_string()), "{labels:?}");

        let export = [
            bar("Mon", &[6.5], false, None),
            bar("Tue", &[9.0], false, None),
        ];
        let mut c = chart(&["Export"], &export);
        c.theme = Theme::DARK.starting_with(EXPORT);
        let svg = c.to_svg().unwrap();
        // Dark-theme bluish green.
        assert_eq!(svg.matches("fill=\"#28C896\"").count(), 2);
        assert!(crate::line::texts(&svg).contains(&"kWh".to_string()));
    }

    #[test]
    fn png_fills_the_bars() {
        // One 4 kWh bar on a 0..4.4 axis: the middle of the plot, low down, is bar colour, and
        // the corner is the background.
        let bars = [bar("Mon", &[4.0], false, None)];
        let c = chart(&["All"], &bars);
        let png = Decoded::new(&c.to_png(2).unwrap());
        assert_eq!((png.width, png.height), (1280, 520));
        assert_eq!(png.title.as_deref(), Some("Energy per day"));
        assert_eq!(png.pixel(1, 1), Theme::LIGHT.background);
        let blue = Theme::LIGHT.colour(0);
        assert_eq!(png.pixel(700, 400), blue);
        // The bar is 76 % of a ~1100-px plot wide and most of ~420 px high.
        assert!(png.count_all(blue) > 700 * 300);
    }

    #[test]
    fn extreme_values_do_not_hang_or_panic() {
        // Two f64::MAX segments sum to infinity; the axis is clamped instead of looping forever.
        let bars = [bar("a", &[f64::MAX, f64::MAX], false, Some(f64::MAX))];
        let c = chart(&["Day", "Night"], &bars);
        assert!(c.to_svg().is_ok());
        assert!(c.to_png(1).is_ok());
    }

    #[test]
    fn no_bars_still_draws() {
        let svg = chart(&["All"], &[]).to_svg().unwrap();
        assert!(svg.contains("<title>Energy per day</title>"));
    }
}
