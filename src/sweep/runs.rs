//! Running a sweep: every (point, replication) pair in one parallel
//! iterator, reduced at once to the few numbers a sweep reports.
//!
//! Flattening the pairs (rather than points, then replications inside)
//! lets rayon balance the load when points differ in cost, and keeps every
//! core busy with few points and many replications or the reverse. Each
//! run is reduced to its [`SWEEP_METRICS`] values inside the parallel
//! closure, so memory is O(points × replications × metrics) however long
//! the runs are. Results are collected in pair order: deterministic under
//! any thread count.
//!
//! [`run_lazily`] does the same a block of points at a time, loading each
//! block's scenarios just before it runs: memory then stays bounded by one
//! block of scenarios whatever the size of the grid.

use rayon::prelude::*;

use super::grid::Point;
use crate::experiment::{simulate, Stat};
use crate::model::RunOptions;
use crate::result::RunResult;
use crate::scenario::Scenario;

/// The metrics a sweep reports, in column order (names of
/// [`RunResult::metrics`]). `window.failed` only when the scenario has a
/// reporting window.
pub const SWEEP_METRICS: [&str; 11] = [
    "arrived",
    "failed",
    "failure_rate",
    "failed_fallback_eligible",
    "window.failed",
    "abandoned",
    "wait_p95_s",
    "utilisation_primary",
    "peak_utilisation_primary",
    "cost_total",
    "primary_worker_seconds",
];

/// The sweep metrics that apply to `sc`: [`SWEEP_METRICS`], then, with
/// service-level thresholds, `service_level_<T>` for each, `asa_s` and
/// `abandon_rate`.
pub fn metrics_for(sc: &Scenario) -> Vec<String> {
    let mut m: Vec<String> =
        SWEEP_METRICS.iter().filter(|m| **m != "window.failed" || sc.window.is_some()).map(|m| m.to_string()).collect();
    if !sc.service_levels.is_empty() {
        m.extend(sc.service_levels.iter().map(|(label, _)| format!("service_level_{label}")));
        m.extend(["asa_s".to_string(), "abandon_rate".to_string()]);
    }
    m
}

/// Mean call duration in seconds, over the classes weighted by share.
pub fn mean_duration_s(sc: &Scenario) -> f64 {
    let total: f64 = sc.classes.iter().map(|c| c.share).sum();
    sc.classes.iter().map(|c| c.share * c.duration.mean()).sum::<f64>() / total.max(f64::MIN_POSITIVE)
}

/// Provisioned headroom at the start, in percent: the initial primary
/// slots (workers × calls per worker) over the slots the starting load
/// keeps busy on average (Little's law: λ(0) × mean duration, λ(0) from
/// [`crate::arrivals::ArrivalSpec::starting_rate`]), minus one.
/// 0 % means exactly enough slots for the mean starting load, 50 % half as
/// many again, −20 % a fifth too few. Infinite when the starting load is 0.
pub fn headroom_pct(sc: &Scenario) -> f64 {
    let offered = sc.arrivals.starting_rate(sc.duration) * mean_duration_s(sc);
    if offered <= 0.0 {
        return f64::INFINITY;
    }
    (sc.initial_slots() as f64 / offered - 1.0) * 100.0
}

/// The sweep metrics of one run, in `metrics` order (NaN where one does
/// not apply).
pub fn run_values(sc: &Scenario, r: &RunResult, metrics: &[String]) -> Vec<f64> {
    let names: Vec<String> = sc.classes.iter().map(|c| c.name.clone()).collect();
    let all = r.metrics(&names);
    metrics.iter().map(|m| all.iter().find(|(n, _)| n == m).and_then(|(_, v)| *v).unwrap_or(f64::NAN)).collect()
}

/// What a sweep measured at one point.
#[derive(Clone, Debug)]
pub struct PointResult {
    pub point: Point,
    pub headroom_pct: f64,
    /// Metric names, in column order.
    pub metrics: Vec<String>,
    /// `per_run[r][m]`: metric `m` of replication `r`.
    pub per_run: Vec<Vec<f64>>,
    /// Mean and 95 % interval of each metric over the replications.
    pub stats: Vec<Stat>,
}

impl PointResult {
    /// The per-replication values of one metric, in replication order.
    pub fn values(&self, metric: &str) -> Option<Vec<f64>> {
        let i = self.metrics.iter().position(|m| *m == metric)?;
        Some(self.per_run.iter().map(|r| r[i]).collect())
    }

    pub fn stat(&self, metric: &str) -> Option<&Stat> {
        self.metrics.iter().position(|m| *m == metric).map(|i| &self.stats[i])
    }
}

/// Runs replications `0..replications` of every point, all pairs in
/// parallel; calls `progress` after each run (from any thread). The
/// result is in point order.
pub fn run_points(
    points: &[(Point, Scenario)],
    replications: u64,
    opts: RunOptions,
    progress: &(dyn Fn() + Sync),
) -> Vec<PointResult> {
    let reps = replications as usize;
    let metrics: Vec<Vec<String>> = points.iter().map(|(_, sc)| metrics_for(sc)).collect();
    let flat: Vec<Vec<f64>> = (0..points.len() * reps)
        .into_par_iter()
        .map(|j| {
            let (p, r) = (j / reps, j % reps);
            let sc = &points[p].1;
            let values = run_values(sc, &simulate(sc, r as u64, opts), &metrics[p]);
            progress();
            values
        })
        .collect();
    let mut chunks = flat.chunks(reps.max(1));
    points
        .iter()
        .zip(metrics)
        .map(|((point, sc), metrics)| {
            let per_run: Vec<Vec<f64>> = if reps == 0 { Vec::new() } else { chunks.next().unwrap_or(&[]).to_vec() };
            let stats = (0..metrics.len())
                .map(|m| {
                    let v: Vec<f64> = per_run.iter().map(|r| r[m]).filter(|x| !x.is_nan()).collect();
                    Stat::of(&v)
                })
                .collect();
            PointResult { point: point.clone(), headroom_pct: headroom_pct(sc), metrics, per_run, stats }
        })
        .collect()
}

/// Runs in one block: points are taken until their runs reach this (at
/// least one point per block), enough to keep every core busy.
pub const BLOCK_RUNS: usize = 4096;

/// [`run_points`] over `points` a block at a time: `load` builds a point's
/// scenario just before its block runs, and `each` receives the results in
/// point order. The results are those of [`run_points`] over all points.
pub fn run_lazily<E: Send>(
    points: impl Iterator<Item = Point>,
    replications: u64,
    opts: RunOptions,
    load: impl Fn(&Point) -> Result<Scenario, E> + Sync,
    progress: &(dyn Fn() + Sync),
    mut each: impl FnMut(PointResult),
) -> Result<(), E> {
    let per_block = (BLOCK_RUNS / (replications as usize).max(1)).max(1);
    let mut points = points.peekable();
    while points.peek().is_some() {
        let block: Vec<Point> = points.by_ref().take(per_block).collect();
        let block: Vec<(Point, Scenario)> =
            block.into_par_iter().map(|p| load(&p).map(|sc| (p, sc))).collect::<Result<_, E>>()?;
        run_points(&block, replications, opts, progress).into_iter().for_each(&mut each);
    }
    Ok(())
}
