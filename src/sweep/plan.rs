//! The planner: the cheapest value of one parameter that meets an
//! objective with the stated confidence.
//!
//! # Assumption
//! The metric improves monotonically as the parameter grows (or, with
//! `decreasing`, as it shrinks), so the values that meet the objective
//! form one end of the grid and the answer is the boundary: the smallest
//! passing value (with `decreasing`, the largest).
//!
//! # Method
//! Bisection over the grid. At each probed value, replications run in
//! batches (8, then doubling: 16, 32, … up to the maximum) until the
//! decision is statistically clear: for `metric <= X`, *pass* when the
//! upper confidence bound is at most X, *fail* when the lower bound
//! exceeds X (mirrored for `>=`). A value still undecided at the maximum
//! is treated as not met — conservatively — and reported as undecided.
//! Every value uses replication indices `0..n` (common random numbers), so
//! neighbouring values are compared on the same calls.
//!
//! Cost: about log2(grid size) + 1 probes, each at most `max_replications`
//! runs.

use super::axis::AxisValue;
use super::error::SweepError;
use crate::experiment::{run_replications, Aggregate};
use crate::model::RunOptions;
use crate::scenario::Scenario;
use crate::slo::Objective;

/// How values are judged.
#[derive(Clone, Debug)]
pub struct PlanSpec {
    pub objective: Objective,
    /// Two-sided confidence level of the interval (e.g. 0.95).
    pub confidence: f64,
    /// First batch of replications (at least 2).
    pub first_batch: u64,
    /// Most replications spent on one value (at least 2).
    pub max_replications: u64,
}

/// The outcome of one probe.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The confidence bound is on the good side of the threshold.
    Pass,
    /// The opposite bound is on the bad side.
    Fail,
    /// Neither at the maximum replications: treated as not met.
    Undecided,
}

impl Decision {
    /// The decision after a batch: pass or fail when the bounds say so,
    /// undecided at the largest batch, `None` (take more runs) otherwise.
    pub fn after_batch(pass: bool, clear_fail: bool, at_max: bool) -> Option<Decision> {
        if pass {
            Some(Decision::Pass)
        } else if clear_fail {
            Some(Decision::Fail)
        } else if at_max {
            Some(Decision::Undecided)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Decision::Pass => "pass",
            Decision::Fail => "fail",
            Decision::Undecided => "undecided",
        }
    }

    /// Whether the value counts as meeting the objective.
    pub fn met(self) -> bool {
        self == Decision::Pass
    }
}

/// The evidence at one probed value.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    /// The value of the parameter probed.
    pub value: AxisValue,
    /// Replications run (indices `0..runs`).
    pub runs: u64,
    pub mean: f64,
    /// Confidence interval of the mean.
    pub ci: Option<[f64; 2]>,
    pub decision: Decision,
}

/// Runs batches of replications of `sc` until `spec` decides.
pub fn probe(sc: &Scenario, value: AxisValue, spec: &PlanSpec) -> Probe {
    let max = spec.max_replications.max(2);
    let mut target = spec.first_batch.clamp(2, max);
    let mut runs = Vec::new();
    loop {
        let have = runs.len() as u64;
        runs.extend(run_replications(sc, have, target - have, RunOptions::default()));
        let agg = Aggregate::new(sc, runs);
        let v = spec.objective.judge(&agg, spec.confidence);
        let decision = Decision::after_batch(v.pass, v.clearly_fails(), target >= max);
        if let Some(decision) = decision {
            return Probe { value, runs: target, mean: v.mean, ci: v.ci, decision };
        }
        runs = agg.runs;
        target = (target * 2).min(max);
    }
}

/// The probes made and the answer.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanOutcome {
    /// In the order probed.
    pub probes: Vec<Probe>,
    /// The boundary value meeting the objective, if any in range.
    pub answer: Option<AxisValue>,
}

/// Bisects `values` (increasing) for the boundary; `load` builds the
/// scenario of a value, `on_probe` sees each probe as it completes.
pub fn plan(
    values: &[AxisValue],
    decreasing: bool,
    spec: &PlanSpec,
    load: impl Fn(AxisValue) -> Result<Scenario, SweepError>,
    mut on_probe: impl FnMut(&Probe),
) -> Result<PlanOutcome, SweepError> {
    // `order` runs from the worst value to the best: met values form its tail.
    let mut order = values.to_vec();
    if decreasing {
        order.reverse();
    }
    let mut probes = Vec::new();
    let mut met = |v: AxisValue| -> Result<bool, SweepError> {
        let p = probe(&load(v)?, v, spec);
        on_probe(&p);
        let ok = p.decision.met();
        probes.push(p);
        Ok(ok)
    };
    let Some(&best) = order.last() else { return Ok(PlanOutcome { probes: Vec::new(), answer: None }) };
    if !met(best)? {
        return Ok(PlanOutcome { probes, answer: None });
    }
    // Invariant: order[hi] is met; order[lo] is not (lo = −1: unknown).
    let (mut lo, mut hi) = (-1isize, order.len() as isize - 1);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if met(order[mid as usize])? {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(PlanOutcome { probes, answer: Some(order[hi as usize]) })
}
