//! Output of a chart as SVG text (for the app) or a PNG image (for saving), both drawn by the same
//! code through plotters' `DrawingBackend`, with text measured and drawn in one embedded font.
//!
//! Every chart type implements the crate-private `Draw` trait once; its public `to_svg` and
//! `to_png` call `render::svg` and `render::png` here. PNG pixels come from plotters' `BitMapBackend` (RGB, in
//! memory) and are encoded with the `png` crate.

use crate::error::{ChartError, check_size, draw_err};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::sync::Once;

/// DejaVu Sans (Bitstream Vera + Arev licence, see `assets/fonts/`), embedded so text looks the
/// same on every machine and no system font is looked up.
static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// The font family every chart asks plotters for.
pub(crate) const FAMILY: &str = "sans-serif";

/// Largest PNG scale factor (4x a 1920-px chart is already 7680 px wide, the largest side).
pub const MAX_SCALE: u32 = 4;

/// Largest magnitude a value axis reaches: far beyond any household (a petawatt), and small
/// enough that plotters' tick search stays finite (an infinite axis makes it loop forever).
const AXIS_LIMIT: f64 = 1e15;

/// Clamps a value-axis end to `±AXIS_LIMIT` (NaN counts as 0), so absurd readings still draw.
pub(crate) fn axis_end(v: f64) -> f64 {
    if v.is_nan() {
        0.0
    } else {
        v.clamp(-AXIS_LIMIT, AXIS_LIMIT)
    }
}

/// Registers the embedded font with plotters (once per process). plotters' `ab_glyph` font
/// table is global, and every text measurement (SVG too) needs the family registered.
fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType file checked in with the crate (a test draws text with
        // it); if registration could ever fail, drawing text reports a `ChartError::Draw`.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

/// A chart that can be drawn on any plotters backend.
pub(crate) trait Draw {
    /// The title, also the SVG `<title>`.
    fn title(&self) -> &str;
    /// A longer text alternative for the SVG `<desc>`, if the chart has one.
    fn desc(&self) -> Option<String> {
        None
    }
    /// Size in CSS pixels (before any PNG scale).
    fn size(&self) -> (u32, u32);
    /// Draws the chart on `root`, with every length (fonts, margins, strokes) multiplied by
    /// `scale`. Called with scale 1 for SVG.
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        scale: u32,
    ) -> Result<(), ChartError>;
}

/// Draws `chart` as an SVG document with a `<title>` (and `<desc>`) for screen readers.
pub(crate) fn svg(chart: &impl Draw) -> Result<String, ChartError> {
    let (width, height) = chart.size();
    check_size(width, height)?;
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        chart.draw(&root, 1)?;
        root.present().map_err(draw_err)?;
    }
    Ok(with_title(svg, chart.title(), chart.desc().as_deref()))
}

/// Draws `chart` as a PNG image of `size × scale` pixels, with the title in an `iTXt` chunk.
pub(crate) fn png(chart: &impl Draw, scale: u32) -> Result<Vec<u8>, ChartError> {
    if !(1..=MAX_SCALE).contains(&scale) {
        return Err(ChartError::Scale {
            scale,
            max: MAX_SCALE,
        });
    }
    let (width, height) = chart.size();
    check_size(width, height)?;
    let (w, h) = (width * scale, height * scale);
    check_size(w, h)?;
    register_font();
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        chart.draw(&root, scale)?;
        root.present().map_err(draw_err)?;
    }
    encode(&rgb, (w, h), png::ColorType::Rgb, Some(chart.title()))
}

/// Encodes 8-bit pixels (`Rgb` or `Rgba`) as a PNG, with the title in an `iTXt` chunk if given.
///
/// Fast compression: charts are large flat areas, where it is within a few per cent of the
/// default level at a fraction of the time.
pub(crate) fn encode(
    pixels: &[u8],
    (width, height): (u32, u32),
    colour: png::ColorType,
    title: Option<&str>,
) -> Result<Vec<u8>, ChartError> {
    let png_err = |e: png::EncodingError| ChartError::Png(e.to_string());
    let mut out = Vec::with_capacity(pixels.len() / 8);
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(colour);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    if let Some(title) = title {
        encoder
            .add_itxt_chunk("Title".to_string(), title.to_string())
            .map_err(png_err)?;
    }
    let mut writer = encoder.write_header().map_err(png_err)?;
    writer.write_image_data(pixels).map_err(png_err)?;
    writer.finish().map_err(png_err)?;
    Ok(out)
}

/// Escapes text for SVG character data.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Adds an SVG `<title>` (read by screen readers), and a `<desc>` when given, right after the
/// opening `<svg ...>` tag.
pub(crate) fn with_title(svg: String, title: &str, desc: Option<&str>) -> String {
    match svg
        .find("<svg")
        .and_then(|i| svg[i..].find('>').map(|j| i + j + 1))
    {
        Some(at) => {
            let mut out = String::with_capacity(svg.len() + title.len() + 64);
            out.push_str(&svg[..at]);
            out.push_str("\n<title>");
            out.push_str(&escape(title));
            out.push_str("</title>");
            if let Some(desc) = desc {
                out.push_str("\n<desc>");
                out.push_str(&escape(desc));
                out.push_str("</desc>");
            }
            out.push_str(&svg[at..]);
            out
        }
        None => svg,
    }
}

/// A decoded PNG for tests: size, RGB pixels and text chunks.
#[cfg(test)]
pub(crate) struct Decoded {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) rgb: Vec<u8>,
    pub(crate) title: Option<String>,
}

#[cfg(test)]
impl Decoded {
    /// Decodes `bytes` after checking the PNG signature and that IHDR is the first chunk.
    pub(crate) fn new(bytes: &[u8]) -> Decoded {
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
        assert_eq!(&bytes[12..16], b"IHDR", "IHDR comes first");
        let ihdr_w = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
        let ihdr_h = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut rgb = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut rgb).unwrap();
        assert_eq!(frame.color_type, png::ColorType::Rgb);
        assert_eq!((frame.width, frame.height), (ihdr_w, ihdr_h));
        rgb.truncate(frame.buffer_size());
        let title = reader
            .info()
            .utf8_text
            .iter()
            .find(|c| c.keyword == "Title")
            .and_then(|c| c.get_text().ok());
        Decoded {
            width: ihdr_w,
            height: ihdr_h,
            rgb,
            title,
        }
    }

    /// The pixel at (x, y).
    pub(crate) fn pixel(&self, x: u32, y: u32) -> RGBColor {
        let i = (y as usize * self.width as usize + x as usize) * 3;
        RGBColor(self.rgb[i], self.rgb[i + 1], self.rgb[i + 2])
    }

    /// How many pixels are exactly `colour` inside the box `[x0, x1) × [y0, y1)`.
    pub(crate) fn count(
        &self,
        colour: RGBColor,
        (x0, y0): (u32, u32),
        (x1, y1): (u32, u32),
    ) -> usize {
        (y0..y1.min(self.height))
            .flat_map(|y| (x0..x1.min(self.width)).map(move |x| (x, y)))
            .filter(|&(x, y)| self.pixel(x, y) == colour)
            .count()
    }

    /// How many pixels are exactly `colour` anywhere.
    pub(crate) fn count_all(&self, colour: RGBColor) -> usize {
        self.count(colour, (0, 0), (self.width, self.height))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_and_desc_are_escaped_after_the_svg_tag() {
        let svg = "<svg width=\"1\">\n<rect/></svg>".to_string();
        assert_eq!(
            with_title(svg.clone(), "A & <B>", Some("1 < 2")),
            "<svg width=\"1\">\n<title>A &amp; &lt;B&gt;</title>\n<desc>1 &lt; 2</desc>\n<rect/></svg>"
        );
        assert_eq!(
            with_title(svg, "T", None),
            "<svg width=\"1\">\n<title>T</title>\n<rect/></svg>"
        );
        assert_eq!(with_title("no svg".into(), "T", None), "no svg");
    }

    #[test]
    fn axis_ends_are_finite() {
        assert_eq!(axis_end(2500.0), 2500.0);
        assert_eq!(axis_end(-40.5), -40.5);
        assert_eq!(axis_end(f64::INFINITY), 1e15);
        assert_eq!(axis_end(-f64::MAX), -1e15);
        assert_eq!(axis_end(f64::NAN), 0.0);
    }

    #[test]
    fn the_embedded_font_measures_text() {
        register_font();
        // DejaVu Sans is wider than the 0.7 em guess plotters makes without a font, and "W"
        // is wider than "i".
        let font = (FAMILY, 20).into_font();
        let ((_, _), (w_wide, _)) = font.layout_box("WWWW").unwrap();
        let ((_, _), (w_narrow, _)) = font.layout_box("iiii").unwrap();
        assert!(w_wide > 2 * w_narrow, "{w_wide} vs {w_narrow}");
    }
}
