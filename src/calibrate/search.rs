//! The two searches of [`super::calibrate`].
//!
//! - [`bisect`] (one parameter, one target): the simulated mean on common
//!   random numbers is taken to be monotone in the parameter. The range's
//!   ends must bracket the observation (else the observation is
//!   unreachable and the message names the bound it presses against);
//!   bisection then narrows the bracket to 10⁻⁴ of the range (one unit for
//!   integers) and the estimate interpolates linearly inside it. Each end of
//!   the confidence set is found by bisection between the estimate (in the
//!   set) and the range's end (if that is outside it) to 10⁻³ of the range,
//!   and reported at the outer side of its last bracket. This assumes the set
//!   is an interval, as it is when mean and spread change monotonically.
//! - [`nested_grid`] (otherwise): a grid of G points per parameter over the
//!   ranges, then twice a grid of G per parameter over the bounding box of
//!   the plausible points found so far, one step wider on every side (or,
//!   when none is plausible, one step around the smallest Σz²). The
//!   estimate is the evaluated point with the smallest Σz²: the global
//!   minimiser over the points evaluated, on a deterministic objective;
//!   between them it is a guess. Each parameter's interval is the extent of
//!   the plausible points widened by the last grid's step (rounded
//!   outward), so a set narrower than a step is still covered.

use super::{show, CalibError, End, Eval, Evaluator, Param};

/// Method, estimate, intervals, and the labelled points spanning the set.
pub(super) type Found = (&'static str, Eval, Vec<[End; 2]>, Vec<(String, Vec<f64>)>);

pub(super) fn bisect(ev: &mut Evaluator) -> Result<Found, CalibError> {
    let p = ev.spec.params[0].clone();
    let t = ev.spec.targets[0].clone();
    let y = t.observed;
    let lo = ev.eval(&[p.lo], "bracket")?;
    let hi = ev.eval(&[p.hi], "bracket")?;
    let (fl, fh) = (lo.mean[0] - y, hi.mean[0] - y);
    if fl != 0.0 && fh != 0.0 && fl.signum() == fh.signum() {
        let (which, at) = if fl.abs() <= fh.abs() { ("lower", p.lo) } else { ("upper", p.hi) };
        let side = if fl > 0.0 { "above" } else { "below" };
        return Err(CalibError::Unreachable(format!(
            "--target {}={}: unreachable inside --vary {}={}..{}: the simulated mean (common random numbers, {} replications) \
             is {} at {} and {} at {}, both {side} the observation; it presses against the {which} bound {}={}: widen the range there",
            t.metric,
            crate::fmt::num(y),
            p.path,
            show(&p, p.lo),
            show(&p, p.hi),
            ev.spec.replications,
            crate::fmt::sig(lo.mean[0], 6),
            show(&p, p.lo),
            crate::fmt::sig(hi.mean[0], 6),
            show(&p, p.hi),
            p.path,
            show(&p, at),
        )));
    }
    let (mut a, mut fa, mut b) = (p.lo, fl, p.hi);
    let mut fb = fh;
    while (b - a).abs() > p.resolution() && fa != 0.0 && fb != 0.0 {
        let mid = p.snap((a + b) / 2.0);
        if mid <= a || mid >= b {
            break;
        }
        let fm = ev.eval(&[mid], "bisect")?.mean[0] - y;
        if fm == 0.0 || fm.signum() == fa.signum() {
            (a, fa) = (mid, fm);
        } else {
            (b, fb) = (mid, fm);
        }
    }
    let x = if fa == 0.0 {
        a
    } else if fb == 0.0 {
        b
    } else {
        a + (b - a) * fa / (fa - fb)
    };
    let mut est = ev.eval(&[x], "estimate")?;
    for c in [a, b] {
        let e = ev.eval(&[c], "bisect")?;
        if (e.mean[0] - y).abs() < (est.mean[0] - y).abs() {
            est = e;
        }
    }
    if !est.in_set {
        return Err(CalibError::Unreachable(format!(
            "--target {}={}: no value of {} in {}..{} makes it plausible: the mean jumps across it (closest {} at {}={})",
            t.metric,
            crate::fmt::num(y),
            p.path,
            show(&p, p.lo),
            show(&p, p.hi),
            crate::fmt::sig(est.mean[0], 6),
            p.path,
            show(&p, est.theta[0])
        )));
    }
    let x = est.theta[0];
    let (lo_end, lo_in) = end(ev, &p, x, p.lo)?;
    let (hi_end, hi_in) = end(ev, &p, x, p.hi)?;
    let points = vec![
        ("estimate".to_string(), vec![x]),
        ("set low end".to_string(), vec![lo_in]),
        ("set high end".to_string(), vec![hi_in]),
    ];
    Ok((
        "bisection on common random numbers; set ends by bisection from the estimate",
        est,
        vec![[lo_end, hi_end]],
        points,
    ))
}

/// The end of the set between `inside` and `bound`, and the last value
/// found inside it.
fn end(ev: &mut Evaluator, p: &Param, inside: f64, bound: f64) -> Result<(End, f64), CalibError> {
    if ev.eval(&[bound], "set")?.in_set {
        return Ok((End { value: bound, at_bound: true }, bound));
    }
    let tol = if p.integer { 1.0 } else { (p.hi - p.lo) * 1e-3 };
    let (mut i, mut o) = (inside, bound);
    while (o - i).abs() > tol {
        let mid = p.snap((i + o) / 2.0);
        if mid == i || mid == o {
            break;
        }
        if ev.eval(&[mid], "set")?.in_set {
            i = mid;
        } else {
            o = mid;
        }
    }
    Ok((End { value: o, at_bound: false }, i))
}

fn lattice(boxes: &[(f64, f64)], g: usize) -> Vec<Vec<f64>> {
    let mut out = vec![Vec::new()];
    for &(a, b) in boxes {
        let mut next = Vec::with_capacity(out.len() * g);
        for prefix in &out {
            for i in 0..g {
                let mut p = prefix.clone();
                p.push(a + (b - a) * i as f64 / (g - 1) as f64);
                next.push(p);
            }
        }
        out = next;
    }
    out
}

pub(super) fn nested_grid(ev: &mut Evaluator) -> Result<Found, CalibError> {
    let params = ev.spec.params.clone();
    let d = params.len();
    let g = if ev.spec.grid > 0 { ev.spec.grid } else { [21, 9, 7][d - 1] };
    let mut boxes: Vec<(f64, f64)> = params.iter().map(|p| (p.lo, p.hi)).collect();
    let mut steps = vec![0.0; d];
    for round in 0..3 {
        steps = boxes
            .iter()
            .zip(&params)
            .map(|(&(a, b), p)| {
                let s = (b - a) / (g - 1) as f64;
                if p.integer {
                    s.max(1.0)
                } else {
                    s
                }
            })
            .collect();
        for point in lattice(&boxes, g) {
            ev.eval(&point, if round == 0 { "grid" } else { "refine" })?;
        }
        if round == 2 {
            break;
        }
        let passing: Vec<&Eval> = ev.evals.iter().filter(|e| e.in_set).collect();
        let around: Vec<&Eval> = if passing.is_empty() { vec![best(&ev.evals)] } else { passing };
        boxes = (0..d)
            .map(|j| {
                let lo = around.iter().map(|e| e.theta[j]).fold(f64::INFINITY, f64::min);
                let hi = around.iter().map(|e| e.theta[j]).fold(f64::NEG_INFINITY, f64::max);
                ((lo - steps[j]).max(params[j].lo), (hi + steps[j]).min(params[j].hi))
            })
            .collect();
    }
    let est = best(&ev.evals).clone();
    let passing: Vec<&Eval> = ev.evals.iter().filter(|e| e.in_set).collect();
    if passing.is_empty() {
        let pressed: Vec<String> = params
            .iter()
            .zip(&est.theta)
            .filter_map(|(p, &x)| {
                if x <= p.lo {
                    Some(format!("the lower bound {}={}", p.path, show(p, p.lo)))
                } else if x >= p.hi {
                    Some(format!("the upper bound {}={}", p.path, show(p, p.hi)))
                } else {
                    None
                }
            })
            .collect();
        let targets =
            ev.spec.targets.iter().map(|t| format!("{}={}", t.metric, crate::fmt::num(t.observed))).collect::<Vec<_>>();
        let closest =
            params.iter().zip(&est.theta).map(|(p, &x)| format!("{}={}", p.path, show(p, x))).collect::<Vec<_>>();
        let why = if pressed.is_empty() {
            "no point inside the ranges makes them plausible together (the model cannot reproduce them jointly)"
                .to_string()
        } else {
            format!("the closest point presses against {}: widen the range there", pressed.join(" and "))
        };
        return Err(CalibError::Unreachable(format!(
            "--target {}: unreachable: {why}; closest at {} (largest |z| {})",
            targets.join(" --target "),
            closest.join(", "),
            crate::fmt::sig(est.distance(), 3)
        )));
    }
    let mut ci = Vec::with_capacity(d);
    let mut points = vec![("estimate".to_string(), est.theta.clone())];
    for (j, p) in params.iter().enumerate() {
        let min = passing.iter().min_by(|a, b| a.theta[j].total_cmp(&b.theta[j])).expect("not empty");
        let max = passing.iter().max_by(|a, b| a.theta[j].total_cmp(&b.theta[j])).expect("not empty");
        let out = |x: f64, down: bool| {
            let v = if down { x - steps[j] } else { x + steps[j] };
            let v = if p.integer {
                if down {
                    v.floor()
                } else {
                    v.ceil()
                }
            } else {
                crate::sweep::axis::round12(v)
            };
            v.clamp(p.lo, p.hi)
        };
        let lo = if min.theta[j] <= p.lo {
            End { value: p.lo, at_bound: true }
        } else {
            End { value: out(min.theta[j], true), at_bound: false }
        };
        let hi = if max.theta[j] >= p.hi {
            End { value: p.hi, at_bound: true }
        } else {
            End { value: out(max.theta[j], false), at_bound: false }
        };
        ci.push([lo, hi]);
        for (label, e) in [(format!("lowest {}", p.path), min), (format!("highest {}", p.path), max)] {
            if !points.iter().any(|(_, t)| *t == e.theta) {
                points.push((label, e.theta.clone()));
            }
        }
    }
    Ok(("nested grids on common random numbers; estimate: smallest sum of z squared", est, ci, points))
}

fn best(evals: &[Eval]) -> &Eval {
    evals.iter().min_by(|a, b| a.objective().total_cmp(&b.objective())).expect("at least one point evaluated")
}
