//! Heatmaps: hour of day (rows) by day (columns), for spotting habits and always-on load.

use crate::error::{ChartError, check_size, draw_err};
use crate::line::{format_value, with_title};
use crate::theme::{Theme, scale};
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
        check_size(self.width, self.height)?;
        let n = self.days.len().max(1);
        let max = self.max_value();
        let mut svg = String::new();
        {
            let root =
                SVGBackend::with_string(&mut svg, (self.width, self.height)).into_drawing_area();
            root.fill(&self.theme.background).map_err(draw_err)?;
            let fg = self.theme.foreground;
            let caption = format!(
                "{} (brightest = {} {})",
                self.title,
                format_value(max),
                self.unit
            );
            let mut chart = ChartBuilder::on(&root)
                .caption(caption, ("sans-serif", 16).into_font().color(&fg))
                .margin(8)
                .x_label_area_size(26)
                .y_label_area_size(40)
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
                .axis_style(fg)
                .label_style(("sans-serif", 13).into_font().color(&fg))
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
            root.present().map_err(draw_err)?;
        }
        Ok(with_title(svg, self.title))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
