//! The survivable-surge frontier (`frontier.svg` / `frontier.png`): for each
//! capacity, the largest stress that still met the objective, with the
//! bisection bracket (up to the smallest stress that failed) as the band.
//! Drawn by the headroom figure.

use std::path::Path;

use super::headroom::Headroom;
use super::{save, Curve, CurvePoint, PlotError};

impl CurvePoint {
    /// A frontier point at capacity `x`: `largest_met` is the line, the band
    /// reaches up to `smallest_failed` (nothing above when no stress failed).
    pub fn bracket(x: f64, largest_met: f64, smallest_failed: Option<f64>) -> CurvePoint {
        CurvePoint { x, mean: largest_met, lo: largest_met, hi: smallest_failed.unwrap_or(largest_met) }
    }
}

/// The frontier `curve` (points from [`CurvePoint::bracket`]) against the
/// capacity axis `x_label`; `stress` names the stressed parameter.
pub fn frontier(
    title: &str,
    x_label: &str,
    stress: &str,
    curve: &Curve,
    svg: &Path,
    png: &Path,
) -> Result<(), PlotError> {
    let y_label = format!("largest {stress} (band: bisection bracket)");
    let fig = Headroom::from(title, x_label, &y_label, std::slice::from_ref(curve));
    save(&fig, svg, png)
}
