//! Charts: downsampling series to the pixels available and drawing them with plotters (SVG for
//! the app, PNG for saved images).
//!
//! Chart types: [`line::LineChart`] (power over time with a min/max band), [`bars::BarChart`]
//! (energy, gas or export per period, stacked by tariff band), [`heatmap::Heatmap`] (hour by
//! day) and [`duration::LoadDurationChart`] (load-duration curve with the base load). Each has
//! `to_svg()` and `to_png(scale)`, drawn by the same code (see [`render`]); text uses an
//! embedded DejaVu Sans, so PNGs look the same on every machine.
//!
//! The crate is pure: it takes numbers (unix seconds and values already in display units) and
//! returns SVG text or PNG bytes. It reads no clock and knows no time-zone rules; the caller
//! passes the UTC offset for time labels. Large series are summarised per pixel column with
//! [`downsample::min_max`] (mean line plus a min/max band) so a one-second spike is never lost
//! when years are shown.
//!
//! ```
//! use hearth_charts::{downsample::Point, line::{Line, LineChart}, theme::Theme};
//! let points: Vec<Point> = (0..120).map(|s| Point::new(1_764_165_900 + s, 350.0)).collect();
//! let chart = LineChart {
//!     title: "Power, last 2 minutes",
//!     unit: "W",
//!     width: 640,
//!     height: 240,
//!     theme: Theme::LIGHT,
//!     from: 1_764_165_900,
//!     to: 1_764_166_020,
//!     utc_offset_s: 3600,
//!     lines: vec![Line { name: "Import", points: &points, colour: 0, max_gap_s: 5, estimated: false, envelope: &[] }],
//! };
//! let svg = chart.to_svg().unwrap();
//! assert!(svg.contains("<title>Power, last 2 minutes</title>"));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bars;
pub mod downsample;
pub mod duration;
pub mod error;
pub mod heatmap;
pub mod line;
pub mod render;
pub mod theme;
pub mod timeaxis;

pub use error::ChartError;
