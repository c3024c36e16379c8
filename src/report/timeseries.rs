//! `timeseries.csv`: one row per bin. Counts are of calls that *arrived* in
//! the bin; `*_avg` columns are time-weighted averages over the bin. With
//! several runs every cell is the mean over runs, so sums over bins equal
//! the means in `summary.json`.
//!
//! The per-bin means are computed once, by [`bin_means`], and feed both this
//! file and the timeline plot, so the two can never disagree.
//!
//! Column names are the metric names of `summary.json` where the quantity is
//! the same (`arrived`, `failed_<reason>`, `busy_primary_avg`…). The column
//! once called `arrivals` is now `arrived`; a copy under the old name
//! ([`DEPRECATED_ARRIVALS`]) stays last in the row for one release.
//!
//! With service-level thresholds, the service-level metrics of each bin
//! (`waited`, `service_level_20s`, `asa_s`…) come just before that last
//! column; without them the file has none of these columns.

use crate::experiment::Aggregate;
use crate::observe::{Counts, FailReason, REASONS};
use crate::report::num;
use crate::result::{is_service_level_count, push_service_levels};
use crate::scenario::Scenario;
use crate::time::{format_clock, TICKS_PER_SEC};

/// One time bin averaged over runs. Counts are means of calls that arrived
/// in the bin; levels are time-weighted averages over the bin.
#[derive(Clone, Debug, PartialEq)]
pub struct BinMean {
    /// Start of the bin, in ticks after t = 0.
    pub t0: u64,
    /// End of the bin (the run's end for a short last bin), in ticks.
    pub t1: u64,
    pub arrived: f64,
    pub served_primary: f64,
    pub served_fallback: f64,
    /// Turned away, abandoned or cut off by a drain.
    pub failed: f64,
    /// Turned away, indexed by [`crate::observe::FailReason`] as `usize`.
    pub failed_by: [f64; 4],
    /// Cut off by a drain (a column only where a drain can cut calls off).
    pub drain_timeout: f64,
    pub abandoned: f64,
    pub failed_fallback_eligible: f64,
    pub busy_primary: f64,
    pub capacity_primary: f64,
    pub workers_ready: f64,
    pub workers_billed: f64,
    pub fallback_busy: f64,
    pub waiting: f64,
    /// Mean over runs of the bin's peak of busy primary slots.
    pub peak_busy_primary: f64,
    /// Attempts made in the bin, first and retried (with `[clients]`; else 0).
    pub attempts: f64,
}

impl BinMean {
    /// Start in seconds after t = 0.
    pub fn start_s(&self) -> f64 {
        self.t0 as f64 / TICKS_PER_SEC as f64
    }

    /// End in seconds after t = 0.
    pub fn end_s(&self) -> f64 {
        self.t1 as f64 / TICKS_PER_SEC as f64
    }

    /// Width in seconds.
    pub fn span_s(&self) -> f64 {
        (self.t1 - self.t0) as f64 / TICKS_PER_SEC as f64
    }

    /// Average free primary capacity (capacity minus busy slots).
    pub fn headroom(&self) -> f64 {
        self.capacity_primary - self.busy_primary
    }
}

/// The bins of `agg`, each averaged over its runs (empty without runs).
pub fn bin_means(sc: &Scenario, agg: &Aggregate) -> Vec<BinMean> {
    let n = agg.runs.len().max(1) as f64;
    let bin = sc.bin.0.max(1);
    let end = sc.duration.0;
    let tick = TICKS_PER_SEC as f64;
    agg.bin_sums()
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let t0 = (i as u64).saturating_mul(bin).min(end);
            let t1 = t0.saturating_add(bin).min(end);
            let span = (t1 - t0) as f64 / tick;
            let avg = |area: u128| area as f64 / tick / span / n;
            let mean = |v: u64| v as f64 / n;
            let (c, a) = (&b.counts, &b.areas);
            BinMean {
                t0,
                t1,
                arrived: mean(c.arrived),
                served_primary: mean(c.served_primary),
                served_fallback: mean(c.served_fallback),
                failed: mean(c.failed()),
                failed_by: c.failed_by.map(mean),
                drain_timeout: mean(c.drain_timeout),
                abandoned: mean(c.abandoned),
                failed_fallback_eligible: mean(c.failed_fallback_eligible),
                busy_primary: avg(a.busy_primary),
                capacity_primary: avg(a.capacity_primary),
                workers_ready: avg(a.workers_ready),
                workers_billed: avg(a.workers_billed),
                fallback_busy: avg(a.fallback_busy),
                waiting: avg(a.waiting),
                peak_busy_primary: mean(b.peak_busy_primary),
                attempts: mean(c.attempts),
            }
        })
        .collect()
}

/// The old name of the `arrived` column, kept as a last, duplicate column
/// through 0.1.x so that readers by name keep working; it goes in 0.2.
pub const DEPRECATED_ARRIVALS: &str = "arrivals";

/// The column names, in order; `drain`: with `failed_drain_timeout`
/// (where a drain can cut calls off).
pub fn columns(drain: bool) -> Vec<String> {
    let mut c: Vec<String> =
        ["t_start_s", "t_end_s", "clock", "arrived", "served_primary", "served_fallback", "failed"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    c.extend(REASONS.iter().map(|r| format!("failed_{}", r.name())));
    if drain {
        c.push(format!("failed_{}", FailReason::DrainTimeout.name()));
    }
    c.extend(
        [
            "abandoned",
            "failed_fallback_eligible",
            "busy_primary_avg",
            "capacity_primary_avg",
            "headroom_avg",
            "workers_ready_avg",
            "workers_billed_avg",
            "fallback_busy_avg",
            "waiting_avg",
            "peak_busy_primary",
            DEPRECATED_ARRIVALS,
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    c
}

/// The service-level columns of each bin (none without thresholds), named
/// as the metrics of `summary.json`: counts are means over runs; ratios and
/// mean waits are pooled over runs (the bin's sums over every run divided),
/// empty where their denominator is zero.
fn service_levels(sc: &Scenario, agg: &Aggregate) -> Vec<Vec<String>> {
    if sc.service_levels.is_empty() {
        return Vec::new();
    }
    let labels: Vec<String> = sc.service_levels.iter().map(|s| s.0.clone()).collect();
    let n = agg.runs.len().max(1) as f64;
    agg.bin_sums()
        .iter()
        .map(|b| {
            let mut m = Vec::new();
            push_service_levels(&mut m, "", &b.counts, &labels);
            m.into_iter()
                .map(|(k, v)| {
                    let v = v.unwrap_or(f64::NAN);
                    num(if is_service_level_count(&k) { v / n } else { v })
                })
                .collect()
        })
        .collect()
}

/// The column names of `sc`'s file: the service-level columns (with
/// thresholds) and, with `[clients]`, `attempts` and `retries` (attempts
/// made in the bin, all and retried) come before the deprecated last column.
pub fn columns_for(sc: &Scenario) -> Vec<String> {
    let mut c = columns(sc.primary.drain_can_cut());
    let last = c.pop().expect("columns");
    if !sc.service_levels.is_empty() {
        let labels: Vec<String> = sc.service_levels.iter().map(|s| s.0.clone()).collect();
        let mut names = Vec::new();
        push_service_levels(&mut names, "", &Counts::default(), &labels);
        c.extend(names.into_iter().map(|(k, _)| k));
    }
    if sc.clients.is_some() {
        c.extend(["attempts".to_string(), "retries".to_string()]);
    }
    c.push(last);
    c
}

/// The bytes of `timeseries.csv`.
pub fn to_csv(sc: &Scenario, agg: &Aggregate) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let sl_rows = service_levels(sc, agg);
    w.write_record(columns_for(sc)).expect("in-memory write");
    let drain = sc.primary.drain_can_cut();
    let mut sl_rows = sl_rows.into_iter();
    for b in bin_means(sc, agg) {
        let mut row = vec![
            num(b.t0 as f64 / 1e6),
            num(b.t1 as f64 / 1e6),
            format_clock(sc.clock_start as f64 + b.t0 as f64 / 1e6),
            num(b.arrived),
            num(b.served_primary),
            num(b.served_fallback),
            num(b.failed),
        ];
        row.extend(REASONS.iter().map(|r| num(b.failed_by[*r as usize])));
        if drain {
            row.push(num(b.drain_timeout));
        }
        row.extend([
            num(b.abandoned),
            num(b.failed_fallback_eligible),
            num(b.busy_primary),
            num(b.capacity_primary),
            num(b.headroom()),
            num(b.workers_ready),
            num(b.workers_billed),
            num(b.fallback_busy),
            num(b.waiting),
            num(b.peak_busy_primary),
        ]);
        row.extend(sl_rows.next().unwrap_or_default());
        if sc.clients.is_some() {
            // Attempts count at their own time, first arrivals at theirs: a
            // bin's retries are its attempts beyond its first arrivals.
            row.extend([num(b.attempts), num((b.attempts - b.arrived).max(0.0))]);
        }
        row.push(num(b.arrived));
        w.write_record(&row).expect("in-memory write");
    }
    w.into_inner().expect("in-memory flush")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::experiment;
    use crate::model::RunOptions;
    use crate::scenario;

    #[test]
    fn bins_tile_the_run_and_sum_to_the_summary_means() {
        // 10 min in 3-minute bins: three whole bins and a 1-minute one.
        let sc = scenario::load_str(
            r#"
            name = "bins"
            duration = "10m"
            bin = "3m"
            [arrivals]
            kind = "poisson"
            rate = 5.0
            [[classes]]
            name = "all"
            share = 1.0
            duration = { dist = "exponential", mean = "30s" }
            [primary]
            workers = 12
            "#,
            "t.toml",
            Path::new("."),
            &[],
        )
        .expect("valid scenario");
        let agg = experiment::run(&sc, 3, RunOptions::default());
        let bins = bin_means(&sc, &agg);
        let edges: Vec<(f64, f64)> = bins.iter().map(|b| (b.start_s(), b.end_s())).collect();
        assert_eq!(edges, [(0.0, 180.0), (180.0, 360.0), (360.0, 540.0), (540.0, 600.0)]);
        for name in ["arrived", "served_primary", "failed", "failed_worker_not_available"] {
            let sum: f64 = bins
                .iter()
                .map(|b| match name {
                    "arrived" => b.arrived,
                    "served_primary" => b.served_primary,
                    "failed" => b.failed,
                    _ => b.failed_by[crate::observe::FailReason::WorkerNotAvailable as usize],
                })
                .sum();
            let want = agg.mean(name);
            assert!(want > 0.0, "{name} should be positive in this scenario");
            assert!((sum - want).abs() <= 1e-9 * want, "{name}: bins sum to {sum}, summary says {want}");
        }
        assert!(bin_means(&sc, &experiment::Aggregate::new(&sc, Vec::new())).is_empty());
    }
}
