//! Plots: the incident timeline (`timeline.svg` / `timeline.png`), headroom
//! curves with confidence bands (`headroom.svg` / `headroom.png`) and the
//! survivable-surge frontier (`frontier.svg` / `frontier.png`), the
//! cost–metric Pareto frontier (`pareto.svg` / `pareto.png`), and the
//! observed-against-fitted figure of `surgesim fit` (`fit.svg` / `fit.png`).
//!
//! This file holds what every figure shares: the curve types, the bundled
//! font, colours, the header and axis labels, and the atomic save. Each
//! figure has its own file ([`timeline`], [`headroom`], [`frontier`]) and
//! implements [`Figure`]; the legend and the clock axis are helpers of
//! their own.
//!
//! Text is drawn with a bundled DejaVu Sans (plotters' `ab_glyph` feature),
//! so the PNGs are legible on machines with no fonts installed; the SVGs
//! carry their text as `<text>` elements. Each file is written through
//! [`crate::report::output`] (a temporary sibling renamed into place), so a
//! failed draw never leaves a half-written picture under the final name.
//!
//! Odd data never panics: NaN and infinite values are skipped, empty inputs
//! give empty axes with a note, and degenerate ranges are padded.

mod fit;
mod frontier;
mod headroom;
mod legend;
mod pareto;
mod time_axis;
mod timeline;

#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

pub use fit::fit_figure;
pub use frontier::frontier;
pub use headroom::headroom;
pub use pareto::pareto;
pub use timeline::timeline;

/// DejaVu Sans (see `fonts/LICENSE`), registered for every family name.
static FONT: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
const SANS: &str = "sans-serif";

/// A plot that could not be drawn or written.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw {path}: {message}")]
pub struct PlotError {
    /// The file being written.
    pub path: String,
    /// The plotters (or file system) error text.
    pub message: String,
}

impl PlotError {
    fn new(path: &Path, message: impl ToString) -> PlotError {
        PlotError { path: path.display().to_string(), message: message.to_string() }
    }
}

/// One point of a curve: a mean and its interval at `x`.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct CurvePoint {
    pub x: f64,
    pub mean: f64,
    /// Interval bounds (the mean itself when there is no interval).
    pub lo: f64,
    pub hi: f64,
}

/// One labelled curve of a [`headroom`] or [`frontier`] plot.
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    pub label: String,
    pub points: Vec<CurvePoint>,
}

// ---------------------------------------------------------------------------
// Rendering to files
// ---------------------------------------------------------------------------

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Something drawable on any plotters backend.
trait Figure {
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

fn ensure_font() -> Result<(), String> {
    static OK: OnceLock<bool> = OnceLock::new();
    let ok = *OK.get_or_init(|| {
        [SANS, "serif", "monospace"].iter().all(|family| register_font(family, FontStyle::Normal, FONT).is_ok())
    });
    if ok {
        Ok(())
    } else {
        Err("the bundled font could not be loaded".into())
    }
}

/// Writes `fig` as an SVG at `svg` and a PNG at `png`.
fn save<F: Figure>(fig: &F, svg: &Path, png: &Path) -> Result<(), PlotError> {
    ensure_font().map_err(|e| PlotError::new(svg, e))?;
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, fig.size()).into_drawing_area();
        fig.draw(&root).map_err(|e| PlotError::new(svg, e))?;
        root.present().map_err(|e| PlotError::new(svg, e))?;
    }
    crate::report::output::write_file(svg, text.as_bytes()).map_err(|e| PlotError::new(svg, e))?;
    // The bitmap backend picks the encoder from the extension, hence the
    // `.png` temporary whatever the target is called.
    crate::report::output::write_via_path(png, "png", |tmp| {
        let root = BitMapBackend::new(tmp, fig.size()).into_drawing_area();
        fig.draw(&root).map_err(|e| PlotError::new(png, e))?;
        root.present().map_err(|e| PlotError::new(png, e))
    })
}

impl From<crate::report::output::OutputError> for PlotError {
    fn from(e: crate::report::output::OutputError) -> PlotError {
        PlotError { path: e.path().to_string(), message: e.to_string() }
    }
}

// ---------------------------------------------------------------------------
// Shared colours and drawing helpers
// ---------------------------------------------------------------------------

const INK: RGBColor = RGBColor(33, 33, 33);
const MUTED: RGBColor = RGBColor(96, 96, 96);
const GRID: RGBColor = RGBColor(226, 226, 226);

/// Colours of curves, in order.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Height of the title and subtitle band at the top of every figure.
const HEADER: u32 = 70;

fn font(size: u32) -> TextStyle<'static> {
    TextStyle::from((SANS, size as f64).into_font()).color(&INK)
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// `(lo, hi)` widened so it is never empty: a degenerate range is padded
/// around its value, and `(0, 1)` stands in for no data.
fn padded(lo: f64, hi: f64) -> (f64, f64) {
    if !lo.is_finite() || !hi.is_finite() || lo > hi {
        return (0.0, 1.0);
    }
    let span = hi - lo;
    if span <= f64::EPSILON * hi.abs().max(lo.abs()).max(1.0) {
        let pad = (hi.abs() * 0.1).max(1.0);
        return (lo - pad, hi + pad);
    }
    (lo, hi)
}

/// Draws a title and a grey subtitle in the top [`HEADER`] pixels.
fn draw_header<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, title: &str, subtitle: &str) -> DrawResult<DB> {
    area.draw(&Text::new(title.to_string(), (24, 12), font(24)))?;
    if !subtitle.is_empty() {
        area.draw(&Text::new(subtitle.to_string(), (24, 44), font(14).color(&MUTED)))?;
    }
    Ok(())
}

/// Axis tick label: 4 significant digits, no trailing zeros; M and G
/// suffixes for millions and billions.
fn axis_label(v: &f64) -> String {
    let v = if v.abs() < 1e-12 { 0.0 } else { *v };
    let sig = |x: f64| crate::report::sig(x, 4);
    match v.abs() {
        a if a >= 1e9 => format!("{}G", sig(v / 1e9)),
        a if a >= 1e6 => format!("{}M", sig(v / 1e6)),
        _ => sig(v),
    }
}
