//! The survivable-surge frontier: for each capacity on a grid, the largest
//! value of a stress parameter (e.g. `arrivals.spike.multiplier`) that
//! still meets the objective.
//!
//! # Assumption
//! Raising the stress parameter never helps: the values that meet the
//! objective are the low end of its range.
//!
//! # Method
//! Per capacity, bisection on the stress range `[FROM, TO]`: FROM is
//! probed first (failing there: nothing in range survives), then TO
//! (passing there: the frontier lies at or above TO), then the bracket
//! `[largest pass, smallest fail]` is halved until it is at most 1 % of
//! the range wide (at least 1 for an integer range). Each probe is a
//! [`plan::probe`](super::plan::probe): batched replications, undecided
//! counts as failing. Capacities are independent and run in parallel;
//! results come back in grid order.

use rayon::prelude::*;

use super::axis::{round12, AxisValue, Range};
use super::error::SweepError;
use super::plan::{probe, PlanSpec, Probe};
use crate::scenario::Scenario;

/// Where the frontier lies relative to the stress range.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Bracketed inside the range.
    Found,
    /// TO itself meets the objective: the frontier is at or above TO.
    AboveRange,
    /// FROM already fails: no value in range survives.
    BelowRange,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Found => "found",
            Status::AboveRange => "at_or_above_range",
            Status::BelowRange => "below_range",
        }
    }
}

/// The frontier at one capacity.
#[derive(Clone, Debug, PartialEq)]
pub struct FrontierPoint {
    pub capacity: AxisValue,
    pub status: Status,
    /// Largest stress value known to meet the objective.
    pub largest_met: Option<f64>,
    /// Smallest stress value known not to.
    pub smallest_failed: Option<f64>,
    pub probes: Vec<Probe>,
}

impl FrontierPoint {
    /// Replications spent at this capacity.
    pub fn runs(&self) -> u64 {
        self.probes.iter().map(|p| p.runs).sum()
    }
}

/// Width of the final bracket: 1 % of the range (at least 1 for integers).
pub fn tolerance(stress: &Range) -> f64 {
    let width = stress.to.as_f64() - stress.from.as_f64();
    match (stress.from, stress.to) {
        (AxisValue::Int(_), AxisValue::Int(_)) => (width / 100.0).max(1.0),
        _ => width / 100.0,
    }
}

fn midpoint(stress: &Range, lo: f64, hi: f64) -> AxisValue {
    match (stress.from, stress.to) {
        (AxisValue::Int(_), AxisValue::Int(_)) => AxisValue::Int(((lo + hi) / 2.0).floor() as i64),
        _ => AxisValue::Float(round12((lo + hi) / 2.0)),
    }
}

/// The frontier at one capacity; `load(stress)` builds the scenario.
pub fn frontier_at(
    capacity: AxisValue,
    stress: &Range,
    spec: &PlanSpec,
    load: impl Fn(AxisValue) -> Result<Scenario, SweepError>,
) -> Result<FrontierPoint, SweepError> {
    let mut probes = Vec::new();
    let mut met = |v: AxisValue| -> Result<bool, SweepError> {
        let p = probe(&load(v)?, v, spec);
        let ok = p.decision.met();
        probes.push(p);
        Ok(ok)
    };
    let (from, to) = (stress.from.as_f64(), stress.to.as_f64());
    let (status, lo, hi) = if !met(stress.from)? {
        (Status::BelowRange, None, Some(from))
    } else if met(stress.to)? {
        (Status::AboveRange, Some(to), None)
    } else {
        let (mut lo, mut hi) = (from, to);
        let tol = tolerance(stress);
        while hi - lo > tol {
            let mid = midpoint(stress, lo, hi);
            let m = mid.as_f64();
            if m <= lo || m >= hi {
                break;
            }
            if met(mid)? {
                lo = m;
            } else {
                hi = m;
            }
        }
        (Status::Found, Some(lo), Some(hi))
    };
    Ok(FrontierPoint { capacity, status, largest_met: lo, smallest_failed: hi, probes })
}

/// The frontier at every capacity, in parallel, in the order given.
pub fn frontier(
    capacities: &[AxisValue],
    stress: &Range,
    spec: &PlanSpec,
    load: impl Fn(AxisValue, AxisValue) -> Result<Scenario, SweepError> + Sync,
) -> Result<Vec<FrontierPoint>, SweepError> {
    let results: Vec<Result<FrontierPoint, SweepError>> =
        capacities.par_iter().map(|&c| frontier_at(c, stress, spec, |s| load(c, s))).collect();
    results.into_iter().collect()
}
