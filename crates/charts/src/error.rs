//! Why a chart could not be drawn.

use thiserror::Error;

/// A chart that could not be drawn.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChartError {
    /// The requested picture is too small (or too large) to hold a chart.
    #[error("a chart needs between {min}x{min} and {max}x{max} pixels, {width}x{height} was asked")]
    Size {
        /// Requested width.
        width: u32,
        /// Requested height.
        height: u32,
        /// Smallest side allowed.
        min: u32,
        /// Largest side allowed.
        max: u32,
    },
    /// The time range to show is empty or reversed.
    #[error("the time range to show is empty")]
    EmptyRange,
    /// plotters failed while drawing.
    #[error("the chart could not be drawn: {0}")]
    Draw(String),
    /// A PNG was asked at a scale outside `1..=max`.
    #[error("a chart image can be saved at 1x to {max}x its size, {scale}x was asked")]
    Scale {
        /// Requested scale.
        scale: u32,
        /// Largest scale allowed.
        max: u32,
    },
    /// The PNG encoder failed.
    #[error("the chart image could not be written: {0}")]
    Png(String),
}

/// Smallest chart side in pixels.
pub const MIN_SIDE: u32 = 64;
/// Largest chart side in pixels (8K).
pub const MAX_SIDE: u32 = 7680;

/// Checks a requested size.
pub(crate) fn check_size(width: u32, height: u32) -> Result<(), ChartError> {
    if (MIN_SIDE..=MAX_SIDE).contains(&width) && (MIN_SIDE..=MAX_SIDE).contains(&height) {
        Ok(())
    } else {
        Err(ChartError::Size {
            width,
            height,
            min: MIN_SIDE,
            max: MAX_SIDE,
        })
    }
}

/// Turns any plotters error into ours.
pub(crate) fn draw_err(e: impl std::fmt::Display) -> ChartError {
    ChartError::Draw(e.to_string())
}
