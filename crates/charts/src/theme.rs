//! Colours for charts: light and dark themes on a colour-blind-safe palette (Okabe & Ito 2008),
//! and a perceptually ordered scale for heatmaps.

use plotters::style::RGBColor;

/// The colours one chart is drawn with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Page behind the chart.
    pub background: RGBColor,
    /// Text and axes.
    pub foreground: RGBColor,
    /// Light grid lines.
    pub grid: RGBColor,
    /// Series colours, distinguishable with the common forms of colour blindness.
    pub series: [RGBColor; 6],
}

/// Palette index for imported electricity (blue). Tariff bands of import use 0, 1, ...
pub const IMPORT: usize = 0;
/// Palette index for exported electricity (bluish green), distinct from the import bands.
pub const EXPORT: usize = 2;
/// Palette index for gas (vermillion).
pub const GAS: usize = 3;

/// Okabe-Ito: blue, orange, bluish green, vermillion, reddish purple, sky blue.
const OKABE_ITO: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(213, 94, 0),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
];

impl Theme {
    /// Dark text on white.
    pub const LIGHT: Theme = Theme {
        background: RGBColor(255, 255, 255),
        foreground: RGBColor(33, 37, 41),
        grid: RGBColor(226, 230, 234),
        series: OKABE_ITO,
    };

    /// Light text on a dark page; the palette is brightened for contrast.
    pub const DARK: Theme = Theme {
        background: RGBColor(27, 31, 36),
        foreground: RGBColor(222, 226, 230),
        grid: RGBColor(56, 62, 70),
        series: [
            RGBColor(86, 180, 233),
            RGBColor(240, 180, 40),
            RGBColor(40, 200, 150),
            RGBColor(240, 120, 40),
            RGBColor(220, 150, 190),
            RGBColor(150, 210, 245),
        ],
    };

    /// Series colour `i`, wrapping round the palette.
    pub fn colour(&self, i: usize) -> RGBColor {
        self.series[i % self.series.len()]
    }

    /// The same theme with the palette turned so series 0 is drawn in colour `first`: a
    /// single-series chart in its own colour, e.g. gas bars with `Theme::LIGHT.starting_with(GAS)`.
    ///
    /// ```
    /// use hearth_charts::theme::{EXPORT, Theme};
    /// let t = Theme::DARK.starting_with(EXPORT);
    /// assert_eq!(t.colour(0), Theme::DARK.colour(EXPORT));
    /// assert_eq!(t.colour(1), Theme::DARK.colour(EXPORT + 1));
    /// ```
    pub fn starting_with(mut self, first: usize) -> Theme {
        let n = self.series.len();
        self.series.rotate_left(first % n);
        self
    }
}

/// Stops of the viridis scale (dark purple -> blue -> green -> yellow): ordered in lightness, so
/// it reads correctly in grey and with colour blindness.
const VIRIDIS: [(f64, f64, f64); 5] = [
    (68.0, 1.0, 84.0),
    (59.0, 82.0, 139.0),
    (33.0, 145.0, 140.0),
    (94.0, 201.0, 98.0),
    (253.0, 231.0, 37.0),
];

/// The heatmap colour for `x` in `0..=1` (clamped; NaN counts as 0).
pub fn scale(x: f64) -> RGBColor {
    let x = if x.is_nan() { 0.0 } else { x.clamp(0.0, 1.0) };
    let pos = x * (VIRIDIS.len() - 1) as f64;
    let i = (pos.floor() as usize).min(VIRIDIS.len() - 2);
    let f = pos - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |p: f64, q: f64| (p + (q - p) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_hits_its_stops_and_clamps() {
        assert_eq!(scale(0.0), RGBColor(68, 1, 84));
        assert_eq!(scale(0.5), RGBColor(33, 145, 140));
        assert_eq!(scale(1.0), RGBColor(253, 231, 37));
        assert_eq!(scale(7.0), RGBColor(253, 231, 37));
        assert_eq!(scale(-1.0), RGBColor(68, 1, 84));
        assert_eq!(scale(f64::NAN), RGBColor(68, 1, 84));
        // Halfway between stop 0 and 1 (x = 0.125): (63.5, 41.5, 111.5) rounded away from zero.
        assert_eq!(scale(0.125), RGBColor(64, 42, 112));
    }

    #[test]
    fn a_turned_palette_keeps_every_colour() {
        let t = Theme::LIGHT.starting_with(GAS);
        assert_eq!(t.colour(0), RGBColor(213, 94, 0));
        assert_eq!(t.colour(2), RGBColor(86, 180, 233));
        assert_eq!(t.colour(3), RGBColor(0, 114, 178));
        assert_eq!(Theme::LIGHT.starting_with(6), Theme::LIGHT);
        assert_eq!(t.background, Theme::LIGHT.background);
    }

    #[test]
    fn palette_wraps() {
        assert_eq!(Theme::LIGHT.colour(0), Theme::LIGHT.colour(6));
        assert_ne!(Theme::LIGHT.colour(0), Theme::LIGHT.colour(1));
    }
}
