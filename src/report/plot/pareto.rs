//! The cost–metric Pareto frontier of a multi-knob plan (`pareto.svg` /
//! `pareto.png`): the minimised cost on x, the metric on y, the frontier
//! as the first curve and, when the first parameter takes at most ten
//! values, one curve per value of it (the other parameters growing along
//! it). The frontier's band is the metric's confidence interval. Drawn by
//! the headroom figure.

use std::path::Path;

use super::headroom::Headroom;
use super::{save, Curve, CurvePoint, PlotError};
use crate::sweep::mix::ParetoPoint;

fn point(p: &ParetoPoint) -> CurvePoint {
    let [lo, hi] = p.metric.ci95.unwrap_or([p.metric.mean; 2]);
    CurvePoint { x: p.cost.mean, mean: p.metric.mean, lo, hi }
}

/// Draws `points` (from [`crate::sweep::mix::pareto`]); `paths` names the
/// parameters, `cost` and `metric` the axes.
pub fn pareto(
    title: &str,
    paths: &[String],
    cost: &str,
    metric: &str,
    points: &[ParetoPoint],
    svg: &Path,
    png: &Path,
) -> Result<(), PlotError> {
    let mut curves = vec![Curve {
        label: "Pareto frontier".into(),
        points: points.iter().filter(|p| p.on_frontier).map(point).collect(),
    }];
    let mut firsts: Vec<String> = Vec::new();
    for p in points {
        let v = p.values[0].to_string();
        if !firsts.contains(&v) {
            firsts.push(v);
        }
    }
    if paths.len() > 1 && firsts.len() <= 10 {
        for v in firsts {
            curves.push(Curve {
                label: format!("{} = {v}", paths[0]),
                // No bands here: they would hide one another and the frontier's.
                points: points
                    .iter()
                    .filter(|p| p.values[0].to_string() == v)
                    .map(|p| CurvePoint { lo: p.metric.mean, hi: p.metric.mean, ..point(p) })
                    .collect(),
            });
        }
    }
    let y_label = format!("{metric} (mean; band: confidence interval)");
    let fig = Headroom::from(title, cost, &y_label, &curves);
    save(&fig, svg, png)
}
