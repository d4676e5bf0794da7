//! Heatmaps: hour of day (rows) by day (columns), for spotting habits and always-on load.
//!
//! In SVG the cells are one small embedded PNG (a pixel per cell, scaled up without smoothing)
//! rather than a rectangle each: a year is 8760 cells, which as SVG elements is a megabyte the
//! web view must parse and lay out on every page change; as a picture it is a few kilobytes.
//! Axes and labels stay vector. PNG output draws the cells directly.

use crate::error::{ChartError, draw_err};
use crate::line::format_value;
use crate::render::{self, Draw, FAMILY};
use crate::theme::{Theme, scale};
use base64::Engine;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::cell::Cell;
use std::ops::Range;

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

    /// Draws the heatmap as an SVG document: vector axes and labels, and the cells as an
    /// embedded PNG with one pixel per cell (`image-rendering: pixelated`). Cells without data
    /// are transparent, so the background shows.
    pub fn to_svg(&self) -> Result<String, ChartError> {
        let frame = Frame {
            map: self,
            plot: Cell::new(None),
        };
        let svg = render::svg(&frame)?;
        let (Some((xs, ys)), Some(end)) = (frame.plot.take(), svg.rfind("</svg>")) else {
            return Ok(svg);
        };
        if self.days.is_empty() {
            return Ok(svg);
        }
        let png = self.cells_png()?;
        let data = base64::engine::general_purpose::STANDARD.encode(png);
        let image = format!(
            "<image x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" preserveAspectRatio=\"none\" \
             image-rendering=\"optimizeSpeed\" style=\"image-rendering:pixelated\" \
             href=\"data:image/png;base64,{data}\"/>\n",
            xs.start,
            ys.start,
            xs.end - xs.start,
            ys.end - ys.start,
        );
        let mut out = String::with_capacity(svg.len() + image.len());
        out.push_str(&svg[..end]);
        out.push_str(&image);
        out.push_str(&svg[end..]);
        Ok(out)
    }

    /// The cells as an RGBA PNG, one pixel per cell: a column per day, hour 23 in the top row
    /// (as on the chart's axis), transparent where there is no value.
    fn cells_png(&self) -> Result<Vec<u8>, ChartError> {
        let max = self.max_value();
        let w = self.days.len();
        let mut rgba = vec![0u8; w * 24 * 4];
        for (d, day) in self.days.iter().enumerate() {
            for (h, v) in day.hours.iter().enumerate() {
                let Some(v) = v else { continue };
                let RGBColor(r, g, b) = scale(if max > 0.0 { v / max } else { 0.0 });
                let i = ((23 - h) * w + d) * 4;
                rgba[i..i + 4].copy_from_slice(&[r, g, b, 255]);
            }
        }
        let width = u32::try_from(w).map_err(|_| ChartError::Png("too many days".into()))?;
        render::encode(&rgba, (width, 24), png::ColorType::Rgba, None)
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

/// The heatmap without its cells, remembering where the plot area landed (for the SVG image).
struct Frame<'a, 'b> {
    map: &'a Heatmap<'b>,
    plot: Cell<Option<(Range<i32>, Range<i32>)>>,
}

impl Draw for Frame<'_, '_> {
    fn title(&self) -> &str {
        self.map.title
    }

    fn size(&self) -> (u32, u32) {
        self.map.size()
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        s: u32,
    ) -> Result<(), ChartError> {
        self.plot.set(Some(self.map.draw_with(root, s, false)?));
        Ok(())
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
        self.draw_with(root, s, true).map(|_| ())
    }
}

impl Heatmap<'_> {
    /// Draws the frame (title, axes, labels) and, with `cells`, one rectangle per cell; returns
    /// the plot area's pixel ranges.
    fn draw_with<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        s: u32,
        cells: bool,
    ) -> Result<(Range<i32>, Range<i32>), ChartError> {
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
            // Ticks only where a day is labelled (about eight), not one per day.
            .build_cartesian_2d(
                (0i64..n as i64)
                    .with_key_points((0..n).step_by(n.div_ceil(8)).map(|i| i as i64).collect()),
                0f64..24f64,
            )
            .map_err(draw_err)?;
        let days = self.days;
        let x_fmt = move |x: &i64| {
            usize::try_from(*x)
                .ok()
                .and_then(|i| days.get(i))
                .map(|d| d.label.clone())
                .unwrap_or_default()
        };
        let y_fmt = |h: &f64| format!("{:02}h", *h as u32);
        chart
            .configure_mesh()
            .disable_mesh()
            .axis_style(fg.stroke_width(s))
            .label_style((FAMILY, 13 * s).into_font().color(&fg))
            .x_labels(9)
            .x_label_formatter(&x_fmt)
            .y_labels(7)
            .y_label_formatter(&y_fmt)
            .draw()
            .map_err(draw_err)?;
        let area = chart.plotting_area().get_pixel_range();
        if !cells {
            return Ok(area);
        }
        let cells = self.days.iter().enumerate().flat_map(|(d, day)| {
            day.hours.iter().enumerate().filter_map(move |(h, v)| {
                let v = (*v)?;
                let x = if max > 0.0 { v / max } else { 0.0 };
                Some(Rectangle::new(
                    [(d as i64, h as f64), (d as i64 + 1, h as f64 + 1.0)],
                    scale(x).filled(),
                ))
            })
        });
        chart.draw_series(cells).map_err(draw_err)?;
        Ok(area)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Decoded;
    use base64::Engine;

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
        assert!(crate::line::texts(&svg).contains(&"1 Mar".to_string()));
        // No rectangle per cell: one embedded picture, a pixel per cell, hour 23 on top.
        assert_eq!(svg.matches("<image").count(), 1);
        let (w, hgt, rgba) = embedded_png(&svg);
        assert_eq!((w, hgt), (2, 24));
        let px = |day: usize, hour: usize| {
            let i = ((23 - hour) * 2 + day) * 4;
            [rgba[i], rgba[i + 1], rgba[i + 2], rgba[i + 3]]
        };
        // Max cell is the top of the scale (#FDE725); 1/4 -> scale(0.25) = stop 1 (#3B528B);
        // 2/4 -> scale(0.5) = stop 2 (#21918C); hours without data are transparent.
        assert_eq!(px(0, 12), [0xFD, 0xE7, 0x25, 255]);
        assert_eq!(px(0, 0), [0x3B, 0x52, 0x8B, 255]);
        assert_eq!(px(1, 18), [0x21, 0x91, 0x8C, 255]);
        let opaque = rgba.chunks(4).filter(|p| p[3] != 0).count();
        assert_eq!(opaque, 3);
        assert_eq!(px(1, 0), [0, 0, 0, 0]);
    }

    /// The one `data:` PNG in an SVG, decoded: width, height and RGBA pixels.
    fn embedded_png(svg: &str) -> (u32, u32, Vec<u8>) {
        let start = svg.find("data:image/png;base64,").unwrap() + 22;
        let end = start + svg[start..].find('"').unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&svg[start..end])
            .unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut buf).unwrap();
        assert_eq!(frame.color_type, png::ColorType::Rgba);
        buf.truncate(frame.buffer_size());
        (frame.width, frame.height, buf)
    }

    #[test]
    fn the_cell_picture_fills_the_plot_area_and_a_year_stays_small() {
        // A year of hours: 8760 cells. As one picture the SVG stays far below the megabyte
        // a rectangle per cell took; the picture covers exactly the area the PNG output
        // fills with cells.
        let days: Vec<HeatDay> = (0..365)
            .map(|d| HeatDay {
                label: format!("{d}"),
                hours: std::array::from_fn(|h| Some(((d * 24 + h) % 97) as f64)),
            })
            .collect();
        let h = Heatmap {
            title: "Year",
            unit: "kWh",
            width: 800,
            height: 300,
            theme: Theme::LIGHT,
            days: &days,
        };
        let svg = h.to_svg().unwrap();
        assert!(svg.len() < 60_000, "{} bytes", svg.len());
        let (w, hgt, _) = embedded_png(&svg);
        assert_eq!((w, hgt), (365, 24));
        let attr = |name: &str| -> i32 {
            let tag = &svg[svg.find("<image").unwrap()..];
            let at = tag.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
            tag[at..at + tag[at..].find('"').unwrap()].parse().unwrap()
        };
        let (x, y, iw, ih) = (attr("x"), attr("y"), attr("width"), attr("height"));
        // The same chart drawn to pixels has its cells inside the picture's box and plain
        // background just outside it.
        let png = Decoded::new(&h.to_png(1).unwrap());
        let bg = Theme::LIGHT.background;
        assert_ne!(png.pixel((x + 2) as u32, (y + 2) as u32), bg);
        assert_ne!(png.pixel((x + iw - 3) as u32, (y + ih - 3) as u32), bg);
        assert_eq!(png.pixel((x + iw + 3) as u32, (y + 2) as u32), bg);
        assert_eq!(png.pixel((x + 2) as u32, (y - 3) as u32), bg);
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
