//! Experiments: one run collected into its [`RunResult`] ([`simulate`], the
//! only place a result is built from a model outcome), many independent
//! runs of one scenario in parallel, and their aggregation into means and
//! confidence intervals.
//!
//! Run `r` always uses the streams of `(seed, r)`, and results are gathered
//! in run order whatever thread finished first, so the aggregate is
//! identical under any thread count.

use rayon::prelude::*;
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::model::{self, Outcome, RunOptions};
use crate::observe::{Bin, Counts};
use crate::result::RunResult;
use crate::scenario::Scenario;

/// Mean and 95 % confidence interval (Student t) of one metric over runs.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Stat {
    pub mean: f64,
    /// Sample standard deviation (0 with one run).
    pub sd: f64,
    /// 95 % confidence interval of the mean; absent with fewer than 2 runs.
    pub ci95: Option<[f64; 2]>,
    /// Runs in which the metric applied.
    pub n: usize,
}

/// t quantile for a two-sided interval at `confidence` with `df` degrees of freedom.
pub fn t_quantile(confidence: f64, df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df).expect("df > 0").inverse_cdf(0.5 + confidence / 2.0)
}

impl Stat {
    pub fn of(values: &[f64]) -> Stat {
        Stat::with_confidence(values, 0.95)
    }

    pub fn with_confidence(values: &[f64], confidence: f64) -> Stat {
        let n = values.len();
        if n == 0 {
            return Stat { mean: f64::NAN, sd: 0.0, ci95: None, n };
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        if n < 2 {
            return Stat { mean, sd: 0.0, ci95: None, n };
        }
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let sd = var.sqrt();
        let half = t_quantile(confidence, (n - 1) as f64) * sd / (n as f64).sqrt();
        Stat { mean, sd, ci95: Some([mean - half, mean + half]), n }
    }

    /// Half-width of the interval (0 without one).
    pub fn half_width(&self) -> f64 {
        self.ci95.map_or(0.0, |[lo, hi]| (hi - lo) / 2.0)
    }
}

/// Simulates run `run` of `sc` (its random streams derive from the
/// scenario seed and `run`) and collects what it measured.
pub fn simulate(sc: &Scenario, run: u64, opts: RunOptions) -> RunResult {
    collect(sc, run, model::run(sc, run, opts))
}

fn collect(sc: &Scenario, run: u64, f: Outcome) -> RunResult {
    let o = &f.obs;
    let mean = if o.waits_n == 0 { 0.0 } else { o.wait_sum_us as f64 / o.waits_n as f64 / 1e6 };
    let ab = o.totals.abandoned;
    RunResult {
        run,
        duration_s: sc.duration.as_secs_f64(),
        totals: o.totals.clone(),
        classes: o.classes.clone(),
        window: o.window.as_ref().map(|w| w.2.clone()),
        bins: o.bins.clone(),
        areas: o.areas(),
        wait_mean_s: mean,
        wait_p50_s: o.wait_quantile(0.5),
        wait_p90_s: o.wait_quantile(0.9),
        wait_p95_s: o.wait_quantile(0.95),
        wait_p99_s: o.wait_quantile(0.99),
        wait_max_s: o.wait_quantile(1.0),
        abandon_wait_mean_s: if ab == 0 { 0.0 } else { o.abandon_wait_sum_us as f64 / ab as f64 / 1e6 },
        peak_in_flight: o.peak_in_system,
        peak_busy_primary: o.peak_busy_primary,
        end: f.end,
        detection_s: f.detected_at,
        broken_since_s: f.broken_since,
        saturation: f.saturation.iter().map(|&(a, b)| (a.as_secs_f64(), b.as_secs_f64())).collect(),
        drain_can_cut: sc.primary.drain_can_cut(),
        retries: sc.clients.as_ref().map(|c| crate::result::RetryResult {
            retrying_end: f.retrying_end.unwrap_or(0),
            recovery_time_s: c
                .surge_end
                .and_then(|s| crate::result::recovery_time(&o.bins, sc.bin.0, s.0, c.recovered_below)),
            cut_off_attempts: c.retries_cut_offs(),
        }),
        cost: sc.cost.clone(),
        service_levels: sc.service_levels.iter().map(|s| s.0.clone()).collect(),
        surge: sc.surge_draws(run),
    }
}

/// Runs `replications` runs of `sc` (indices `first..first + replications`) in parallel.
pub fn run_replications(sc: &Scenario, first: u64, replications: u64, opts: RunOptions) -> Vec<RunResult> {
    (first..first + replications).into_par_iter().map(|r| simulate(sc, r, opts)).collect()
}

/// The runs of one scenario, aggregated.
#[derive(Clone, Debug)]
pub struct Aggregate {
    pub runs: Vec<RunResult>,
    pub class_names: Vec<String>,
    /// Every metric of [`RunResult::metrics`], in its order.
    pub metrics: Vec<(String, Stat)>,
}

impl Aggregate {
    pub fn new(sc: &Scenario, runs: Vec<RunResult>) -> Aggregate {
        let names: Vec<String> = sc.classes.iter().map(|c| c.name.clone()).collect();
        let per_run: Vec<Vec<(String, Option<f64>)>> = runs.iter().map(|r| r.metrics(&names)).collect();
        let metrics = match per_run.first() {
            None => Vec::new(),
            Some(first) => first
                .iter()
                .enumerate()
                .map(|(i, (name, _))| {
                    let vals: Vec<f64> = per_run.iter().filter_map(|m| m[i].1).collect();
                    (name.clone(), Stat::of(&vals))
                })
                .collect(),
        };
        Aggregate { runs, class_names: names, metrics }
    }

    pub fn metric(&self, name: &str) -> Option<&Stat> {
        self.metrics.iter().find(|(n, _)| n == name).map(|(_, s)| s)
    }

    /// The per-run values of a metric (runs where it applied), in run order.
    pub fn metric_values(&self, name: &str) -> Vec<f64> {
        self.runs
            .iter()
            .filter_map(|r| r.metrics(&self.class_names).into_iter().find(|(n, _)| n == name).and_then(|(_, v)| v))
            .collect()
    }

    pub fn mean(&self, name: &str) -> f64 {
        self.metric(name).map_or(f64::NAN, |s| s.mean)
    }

    /// Bins summed over runs (divide by the run count for means).
    pub fn bin_sums(&self) -> Vec<Bin> {
        let Some(first) = self.runs.first() else { return Vec::new() };
        let mut out = vec![Bin::default(); first.bins.len()];
        for r in &self.runs {
            for (o, b) in out.iter_mut().zip(&r.bins) {
                o.counts.add(&b.counts);
                o.areas.merge(&b.areas);
                o.peak_busy_primary += b.peak_busy_primary;
            }
        }
        out
    }

    /// Totals summed over runs.
    pub fn total_counts(&self) -> Counts {
        let mut c = Counts::default();
        for r in &self.runs {
            c.add(&r.totals);
        }
        c
    }
}

/// Runs and aggregates in one call.
pub fn run(sc: &Scenario, replications: u64, opts: RunOptions) -> Aggregate {
    Aggregate::new(sc, run_replications(sc, 0, replications, opts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn student_t_interval() {
        let s = Stat::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(s.mean, 2.5);
        // t(0.975, 3) = 3.182446; sd = 1.290994
        let half = 3.182446305 * 1.2909944487 / 2.0;
        let [lo, hi] = s.ci95.unwrap();
        assert!((lo - (2.5 - half)).abs() < 1e-6 && (hi - (2.5 + half)).abs() < 1e-6);
        assert_eq!(Stat::of(&[5.0]).ci95, None);
    }
}
