//! Headroom curves: a metric (mean with its interval) against the first
//! varied parameter, one curve per combination of the other parameters.
//!
//! Curves are read from a [`Table`] (never from in-memory results), so a
//! merged sweep draws exactly what the unsharded sweep draws.

use super::rows::Table;

/// One point of a curve.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct CurvePoint {
    pub x: f64,
    pub mean: f64,
    /// Interval bounds (the mean itself when there is no interval).
    pub lo: f64,
    pub hi: f64,
}

/// One curve, labelled by the values of the parameters it holds fixed.
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    pub label: String,
    pub points: Vec<CurvePoint>,
}

/// `metric` against the column `paths[0]`; one curve per distinct value of
/// the columns `paths[1..]`, in the order they first appear. Empty when a
/// column is missing.
pub fn curves(table: &Table, paths: &[String], metric: &str) -> Vec<Curve> {
    let cols: Option<Vec<usize>> = paths.iter().map(|p| table.column(p)).collect();
    let (Some(cols), Some(mean), Some(lo), Some(hi)) = (
        cols,
        table.column(&format!("{metric}_mean")),
        table.column(&format!("{metric}_ci_lo")),
        table.column(&format!("{metric}_ci_hi")),
    ) else {
        return Vec::new();
    };
    let Some((&x_col, rest)) = cols.split_first() else { return Vec::new() };
    let mut out: Vec<Curve> = Vec::new();
    for r in 0..table.rows.len() {
        let label = rest
            .iter()
            .zip(&paths[1..])
            .map(|(&c, p)| format!("{p}={}", table.rows[r][c]))
            .collect::<Vec<_>>()
            .join(", ");
        let m = table.number(r, mean);
        let (l, h) = (table.number(r, lo), table.number(r, hi));
        let point = CurvePoint {
            x: table.number(r, x_col),
            mean: m,
            lo: if l.is_nan() { m } else { l },
            hi: if h.is_nan() { m } else { h },
        };
        match out.iter_mut().find(|c| c.label == label) {
            Some(c) => c.points.push(point),
            None => out.push(Curve { label, points: vec![point] }),
        }
    }
    for c in &mut out {
        c.points.sort_by(|a, b| a.x.total_cmp(&b.x));
    }
    out
}
