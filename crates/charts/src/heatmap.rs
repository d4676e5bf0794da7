//! Heatmaps: hour of day (rows) by day (columns), for spotting habits and always-on load.

use crate::error::{ChartError, draw_err};
use crate::line::format_value;
use crate::render::{self, Draw, FAMILY};
use crate::theme::{Theme, scale};
use plotters::coord::Shift;
use plotters::prelude::*;

/// One column of the heatmap: a day and its 24 hourly values (`None` = no data).
#[derive(Debug, Clone, PartialEq)]
pub struct HeatDay {
    /// Axis label (`1 Mar`); only some are shown.
    pub label: String,
    /// Energy (or mean power) per local hour 0..23.
    pub hours: [Option<f64>; 24],
}

/// An hour-by-day heatmap.
#[derive(Debug, Clone)]
pub struct Heatmap<'a> {
    /// Title above the chart.
    pub title: &'a str,
    /// Unit of the cell values, shown with the scale's maximum.
    pub unit: &'a str,
    /// Size in pixels.
    pub width: u32,
    /// Size in pixels.
    pub height: u32,
    /// Colours.
    pub theme: Theme,
    /// Days, left to right.
    pub days: &'a [HeatDay],
}

impl Heatmap<'_> {
    /// The largest finite cell value (the top of the colour scale), or 0 without data.
    pub fn max_value(&self) -> f64 {
        self.days
            .iter()
            .flat_map(|d| d.hours.iter().flatten())
            .filter(|v| v.is_finite())
            .fold(0.0, |a: f64, b| a.max(*b))
    }

    /// Draws the heatmap as an SVG document. Cells without data are left as background.
    pub fn to_svg(&self) -> Result<String, ChartError> {
        render::svg(self)
    }

    /// Draws the heatmap as a PNG image of `width × scale` by `height × scale` pixels (`scale` 1
    /// to [`MAX_SCALE`](crate::render::MAX_SCALE)), with the same drawing as
    /// [`to_svg`](Self::to_svg).
    ///
    /// ```
    /// # use hearth_charts::{heatmap::{HeatDay, Heatmap}, theme::Theme};
    /// let days = [HeatDay { label: "1 Mar".into(), hours: [Some(0.4); 24] }];
    /// let chart = Heatmap { title: "Use by hour", unit: "kWh", width: 300, height: 200, theme: Theme::LIGHT, days: &days };
    /// let png = chart.to_png(3).unwrap();
    /// assert_eq!(&png[16..24], &[0, 0, 3, 132, 0, 0, 2, 88]); // IHDR: 900 x 600
    /// ```
    pub fn to_png(&self, scale: u32) -> Result<Vec<u8>, ChartError> {
        render::png(self, scale)
    }
}

impl Draw for Heatmap<'_> {
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
        let n = self.days.len().max(1);
        let max = self.max_value();
        root.fill(&self.theme.background).map_err(draw_err)?;
        let fg = self.theme.foreground;
        let caption = format!(
            "{} (brightest = {} {})",
            self.title,
            format_value(max),
            self.unit
        );
        let mut chart = ChartBuilder::on(root)
            .caption(caption, (FAMILY, 16 * s).into_font().color(&fg))
            .margin(8 * s)
            .x_label_area_size(26 * s)
            .y_label_area_size(40 * s)
            .build_cartesian_2d(0f64..n as f64, 0f64..24f64)
            .map_err(draw_err)?;
        let days = self.days;
        let step = n.div_ceil(8);
        let x_fmt = move |x: &f64| {
            let i = x.floor() as usize;
            if (x - x.floor()).abs() < 1e-9 && i.checked_rem(step) == Some(0) {
                days.get(i).map(|d| d.label.clone()).unwrap_or_default()
            } else {
                String::new()
            }
        };
        let y_fmt = |h: &f64| format!("{:02}h", *h as u32);
        chart
            .configure_mesh()
            .disable_mesh()
            .axis_style(fg.stroke_width(s))
            .label_style((FAMILY, 13 * s).into_font().color(&fg))
            .x_labels(n + 1)
            .x_label_formatter(&x_fmt)
            .y_labels(7)
            .y_label_formatter(&y_fmt)
            .draw()
            .map_err(draw_err)?;
        let cells = self.days.iter().enumerate().flat_map(|(d, day)| {
            day.hours.iter().enumerate().filter_map(move |(h, v)| {
                let v = (*v)?;
                let x = if max > 0.0 { v / max } else { 0.0 };
                Some(Rectangle::new(
                    [(d as f64, h as f64), (d as f64 + 1.0, h as f64 + 1.0)],
                    scale(x).filled(),
                ))
            })
        });
        chart.draw_series(cells).map_err(draw_err)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Decoded;

    #[test]
    fn one_cell_per_value_coloured_by_scale() {
        let mut a = [None; 24];
        a[0] = Some(1.0);
        a[12] = Some(4.0);
        let mut b = [None; 24];
        b[18] = Some(2.0);
        let days = [
            HeatDay {
                label: "1 Mar".into(),
                hours: a,
            },
            HeatDay {
                label: "2 Mar".into(),
                hours: b,
            },
        ];
        let h = Heatmap {
            title: "Use by hour",
            unit: "kWh",
            width: 400,
            height: 300,
            theme: Theme::LIGHT,
            days: &days,
        };
        assert_eq!(h.max_value(), 4.0);
        let svg = h.to_svg().unwrap();
        assert!(svg.contains("<title>Use by hour</title>"));
        assert!(svg.contains("brightest = 4 kWh"));
        // Max cell is the top of the scale (#FDE725); 1/4 -> scale(0.25) = stop 1 (#3B528B);
        // 2/4 -> scale(0.5) = stop 2 (#21918C).
        assert_eq!(svg.matches("fill=\"#FDE725\"").count(), 1);
        assert_eq!(svg.matches("fill=\"#3B528B\"").count(), 1);
        assert_eq!(svg.matches("fill=\"#21918C\"").count(), 1);
        assert!(crate::line::texts(&svg).contains(&"1 Mar".to_string()));
    }

    #[test]
    fn png_colours_cells_by_the_scale() {
        // One day, all hours equal: every cell is the top of the scale (#FDE725), covering the
        // whole plot area; the corner stays the dark background.
        let days = [HeatDay {
            label: "1 Mar".into(),
            hours: [Some(2.0); 24],
        }];
        let h = Heatmap {
            title: "Use by hour",
            unit: "kWh",
            width: 300,
            height: 240,
            theme: Theme::DARK,
            days: &days,
        };
        let png = Decoded::new(&h.to_png(1).unwrap());
        assert_eq!((png.width, png.height), (300, 240));
        assert_eq!(png.pixel(0, 0), Theme::DARK.background);
        let top = RGBColor(253, 231, 37);
        assert_eq!(png.pixel(170, 120), top);
        // Plot area is about 240 x 170 px.
        assert!(png.count_all(top) > 200 * 150);
    }

    #[test]
    fn empty_heatmap_draws() {
        let h = Heatmap {
            title: "t",
            unit: "kWh",
            width: 400,
            height: 300,
            theme: Theme::DARK,
            days: &[],
        };
        assert_eq!(h.max_value(), 0.0);
        assert!(h.to_svg().is_ok());
    }
}
