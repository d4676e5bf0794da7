//! Charts: downsampling series to the pixels available and drawing them with plotters
//! (SVG for the app, PNG for saved images).
#![forbid(unsafe_code)]
