//! The multi-knob planner: the cheapest combination of several parameters
//! that meets every objective with the stated confidence, and the
//! cost–metric Pareto frontier of a grid.
//!
//! # Assumptions
//! 1. *Capacity helps*: every objective's metric improves (never worsens)
//!    as any one parameter grows, the others fixed. The combinations that
//!    meet the objectives then form an up-set of the grid: for each value
//!    of the outer parameters, the inner (last) parameter has a boundary,
//!    the smallest value meeting them, and a larger outer value never
//!    moves that boundary up.
//! 2. *Capacity costs*: the minimised metric (e.g. `cost_total`) never
//!    falls as any one parameter grows.
//!
//! # Method
//! The outer parameters' combinations are taken in grid order (the first
//! parameter slowest). For each, the inner parameter's boundary is found
//! by bisection with batched replications exactly as by
//! [`super::plan`] (8 replications, doubling while the interval straddles
//! a threshold; still undecided at the maximum counts as not met), every
//! probe judging every objective on the same runs:
//! - the cheapest inner value is probed first; if its mean cost is already
//!   no lower than the best answer so far, the whole combination is
//!   *pruned* (by assumption 2 nothing in it is cheaper);
//! - if it meets every objective, it is the combination's boundary;
//! - otherwise the bisection runs up to the smallest boundary of the
//!   combinations already solved that this one dominates (assumption 1),
//!   or the top of the range.
//!
//! The answer is the boundary point of least mean cost (ties: the first in
//! grid order). Every probe uses replication indices `0..n` (common random
//! numbers), so configurations are compared on the same calls.
//!
//! # Guarantees and limits
//! Under both assumptions, and when every probe's decision is right, the
//! answer is the cheapest combination on the grid meeting every objective.
//! Each decision holds at the stated confidence, but over many probes some
//! may err; a metric that is not monotone (e.g. fallback cold starts that
//! make more fallback slots *worse*) breaks the bisection, and a cost that
//! varies from run to run (autoscaled capacity) makes pruning compare
//! means. Cost: at most one probe per pruned combination and about
//! log2(inner values) + 2 per other one.

use rayon::prelude::*;

use super::axis::{Axis, AxisValue};
use super::error::SweepError;
use super::grid::Grid;
use super::plan::Decision;
use crate::experiment::{run_replications, simulate, Aggregate, Stat};
use crate::model::RunOptions;
use crate::scenario::Scenario;
use crate::slo::{Objective, Verdict};

/// How combinations are judged and what is minimised.
#[derive(Clone, Debug)]
pub struct MixSpec {
    pub objectives: Vec<Objective>,
    /// The metric minimised (e.g. `cost_total`).
    pub minimize: String,
    /// Two-sided confidence level of each interval.
    pub confidence: f64,
    pub first_batch: u64,
    pub max_replications: u64,
}

/// What a probe found at one combination.
#[derive(Clone, Debug, PartialEq)]
pub struct MixProbe {
    /// A value per parameter, in the order given.
    pub values: Vec<AxisValue>,
    pub runs: u64,
    /// The minimised metric over the runs.
    pub cost: Stat,
    /// One verdict per objective, in the order given.
    pub verdicts: Vec<Verdict>,
    pub decision: Decision,
    /// The combination was pruned after this probe: its cheapest value
    /// already cost no less than the best answer.
    pub pruned: bool,
}

/// Runs batches of replications of `sc` until every objective is decided.
pub fn probe(sc: &Scenario, values: Vec<AxisValue>, spec: &MixSpec) -> MixProbe {
    let max = spec.max_replications.max(2);
    let mut target = spec.first_batch.clamp(2, max);
    let mut runs = Vec::new();
    loop {
        let have = runs.len() as u64;
        runs.extend(run_replications(sc, have, target - have, RunOptions::default()));
        let agg = Aggregate::new(sc, runs);
        let verdicts: Vec<Verdict> = spec.objectives.iter().map(|o| o.judge(&agg, spec.confidence)).collect();
        let clear_fail = verdicts.iter().any(Verdict::clearly_fails);
        let decision = Decision::after_batch(verdicts.iter().all(|v| v.pass), clear_fail, target >= max);
        if let Some(decision) = decision {
            let cost = Stat::with_confidence(&agg.metric_values(&spec.minimize), spec.confidence);
            return MixProbe { values, runs: target, cost, verdicts, decision, pruned: false };
        }
        runs = agg.runs;
        target = (target * 2).min(max);
    }
}

/// The probes made and the answer.
#[derive(Clone, Debug, PartialEq)]
pub struct MixOutcome {
    /// In the order probed.
    pub probes: Vec<MixProbe>,
    /// Index in `probes` of the cheapest combination meeting every objective.
    pub answer: Option<usize>,
    /// Outer combinations searched and pruned.
    pub combinations: usize,
    pub pruned: usize,
}

/// Searches the grid of `axes` (the last one bisected) for the cheapest
/// combination meeting every objective; `load` builds a combination's
/// scenario, `on_probe` sees each probe as it completes.
pub fn search(
    axes: &[Axis],
    spec: &MixSpec,
    load: impl Fn(&[AxisValue]) -> Result<Scenario, SweepError>,
    mut on_probe: impl FnMut(&MixProbe),
) -> Result<MixOutcome, SweepError> {
    let (inner, outer) = axes.split_last().expect("at least one axis");
    let n = inner.len();
    let outer_grid = (!outer.is_empty()).then(|| Grid::new(outer.to_vec()));
    let combos = outer_grid.as_ref().map_or(1, Grid::len);
    let mut probes: Vec<MixProbe> = Vec::new();
    // Solved combinations: outer indices and the boundary's inner index.
    let mut solved: Vec<(Vec<usize>, usize)> = Vec::new();
    let mut best: Option<(f64, usize)> = None;
    let mut pruned = 0;
    for c in 0..combos {
        let (idx, outer_values) = match &outer_grid {
            Some(g) => {
                let p = g.point(c);
                (indices(outer, c), p.values)
            }
            None => (Vec::new(), Vec::new()),
        };
        let mut run = |probes: &mut Vec<MixProbe>, i: usize| -> Result<usize, SweepError> {
            let mut values = outer_values.clone();
            values.push(inner.values[i]);
            let p = probe(&load(&values)?, values, spec);
            on_probe(&p);
            probes.push(p);
            Ok(probes.len() - 1)
        };
        let first = run(&mut probes, 0)?;
        if best.is_some_and(|(cost, _)| probes[first].cost.mean >= cost) {
            probes[first].pruned = true;
            pruned += 1;
            continue;
        }
        let boundary = if probes[first].decision.met() {
            Some((0, first))
        } else {
            // The smallest boundary among solved combinations this one dominates.
            let cap = solved
                .iter()
                .filter(|(o, _)| o.iter().zip(&idx).all(|(a, b)| a <= b))
                .map(|&(_, b)| b)
                .min()
                .filter(|&b| b > 0)
                .unwrap_or(n - 1);
            let top = if cap > 0 { Some(run(&mut probes, cap)?) } else { None };
            match top {
                Some(t) if probes[t].decision.met() => {
                    // Invariant: `lo` is not met, `hi` is.
                    let (mut lo, mut hi, mut at) = (0, cap, t);
                    while hi - lo > 1 {
                        let mid = lo + (hi - lo) / 2;
                        let m = run(&mut probes, mid)?;
                        if probes[m].decision.met() {
                            (hi, at) = (mid, m);
                        } else {
                            lo = mid;
                        }
                    }
                    Some((hi, at))
                }
                _ => None,
            }
        };
        if let Some((b, at)) = boundary {
            solved.push((idx, b));
            let cost = probes[at].cost.mean;
            if best.is_none_or(|(c, _)| cost < c) {
                best = Some((cost, at));
            }
        }
    }
    Ok(MixOutcome { probes, answer: best.map(|(_, at)| at), combinations: combos, pruned })
}

/// The mixed-radix indices of outer combination `c` (last axis fastest).
fn indices(axes: &[Axis], mut c: usize) -> Vec<usize> {
    let mut out = vec![0; axes.len()];
    for (slot, a) in out.iter_mut().zip(axes).rev() {
        *slot = c % a.len();
        c /= a.len();
    }
    out
}

/// One combination of the Pareto grid.
#[derive(Clone, Debug, PartialEq)]
pub struct ParetoPoint {
    pub values: Vec<AxisValue>,
    pub cost: Stat,
    pub metric: Stat,
    /// No other combination costs no more and does at least as well on
    /// the metric, one of them strictly.
    pub on_frontier: bool,
}

/// Runs every combination of `grid` with `replications` replications
/// (indices `0..R`, common random numbers; all pairs in parallel) and marks
/// the cost–metric Pareto frontier. `lower_better` says which way the
/// metric improves. Means are compared; points where either metric did
/// not apply are never on the frontier.
pub fn pareto(
    grid: &Grid,
    replications: u64,
    minimize: &str,
    metric: &str,
    lower_better: bool,
    confidence: f64,
    load: impl Fn(&[AxisValue]) -> Result<Scenario, SweepError> + Sync,
) -> Result<Vec<ParetoPoint>, SweepError> {
    let points = grid.points();
    let scenarios: Vec<Scenario> = points.par_iter().map(|p| load(&p.values)).collect::<Result<_, _>>()?;
    let reps = replications.max(1) as usize;
    let pick = |sc: &Scenario, r: u64| -> (f64, f64) {
        let names: Vec<String> = sc.classes.iter().map(|c| c.name.clone()).collect();
        let all = simulate(sc, r, RunOptions::default()).metrics(&names);
        let get = |m: &str| all.iter().find(|(n, _)| n == m).and_then(|(_, v)| *v).unwrap_or(f64::NAN);
        (get(minimize), get(metric))
    };
    let flat: Vec<(f64, f64)> =
        (0..points.len() * reps).into_par_iter().map(|j| pick(&scenarios[j / reps], (j % reps) as u64)).collect();
    let mut out: Vec<ParetoPoint> = points
        .iter()
        .zip(flat.chunks(reps))
        .map(|(p, runs)| {
            let stat = |f: fn(&(f64, f64)) -> f64| {
                let v: Vec<f64> = runs.iter().map(f).filter(|x| !x.is_nan()).collect();
                Stat::with_confidence(&v, confidence)
            };
            ParetoPoint { values: p.values.clone(), cost: stat(|r| r.0), metric: stat(|r| r.1), on_frontier: false }
        })
        .collect();
    mark_frontier(&mut out, lower_better);
    Ok(out)
}

/// Marks the non-dominated points: by cost, then by metric (best first),
/// a point is on the frontier when its metric is strictly better than
/// every cheaper-or-equal point's before it.
pub fn mark_frontier(points: &mut [ParetoPoint], lower_better: bool) {
    let sign = if lower_better { 1.0 } else { -1.0 };
    let mut order: Vec<usize> =
        (0..points.len()).filter(|&i| points[i].cost.mean.is_finite() && points[i].metric.mean.is_finite()).collect();
    order.sort_by(|&a, &b| {
        let (pa, pb) = (&points[a], &points[b]);
        pa.cost.mean.total_cmp(&pb.cost.mean).then((sign * pa.metric.mean).total_cmp(&(sign * pb.metric.mean)))
    });
    let mut best = f64::INFINITY;
    for i in order {
        let m = sign * points[i].metric.mean;
        if m < best {
            best = m;
            points[i].on_frontier = true;
        }
    }
}
