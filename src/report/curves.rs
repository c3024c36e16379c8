//! Headroom curves: a metric (mean with its interval) against the first
//! varied parameter, one curve per combination of the other parameters.
//!
//! Curves are read from a [`Table`] (never from in-memory results), so a
//! merged sweep draws exactly what the unsharded sweep draws. They are the
//! plot's own [`Curve`]s, labelled by the values of the parameters each
//! holds fixed (empty when only one parameter varies).

use crate::report::plot::{Curve, CurvePoint};
use crate::sweep::rows::Table;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_curve_per_value_of_the_other_axes_sorted_by_x() {
        let cells = |r: &[&str]| r.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let table = Table {
            header: cells(&["point", "w", "m", "headroom_pct", "failed_mean", "failed_ci_lo", "failed_ci_hi"]),
            rows: vec![
                cells(&["0", "10", "1.5", "5", "9", "8", "10"]),
                cells(&["1", "10", "2", "5", "12", "", ""]),
                cells(&["2", "20", "1.5", "50", "3", "2", "4"]),
                cells(&["3", "20", "2", "50", "6", "5", "7"]),
            ],
        };
        let c = curves(&table, &["w".into(), "m".into()], "failed");
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].label, "m=1.5");
        assert_eq!(
            c[0].points,
            [CurvePoint { x: 10.0, mean: 9.0, lo: 8.0, hi: 10.0 }, CurvePoint { x: 20.0, mean: 3.0, lo: 2.0, hi: 4.0 }]
        );
        assert_eq!(c[1].points[0], CurvePoint { x: 10.0, mean: 12.0, lo: 12.0, hi: 12.0 });
        assert!(curves(&table, &["w".into()], "nope").is_empty());
        assert_eq!(curves(&table, &["w".into()], "failed")[0].points.len(), 4);
    }
}
