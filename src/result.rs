//! The result of one run: the one documented struct every output (JSON,
//! CSV, terminal table, plots, SLO checks, sweeps) is derived from.
//!
//! [`RunResult::metrics`] flattens it into named scalars; every scalar
//! metric anywhere in surgesim (summary.json, `[slo]`, `--vary` outputs,
//! baselines) is one of these names. It is built from a run's
//! `model::Outcome` in one place, `experiment::simulate`.

use crate::model::outcome::RunEnd;
use crate::observe::{Areas, Bin, Counts, FailReason, REASONS};
use crate::scenario::{CostSpec, Scenario};
use crate::time::TICKS_PER_SEC;

/// Everything one run measured.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// Replication index (selects the random streams).
    pub run: u64,
    /// Reported span, seconds.
    pub duration_s: f64,
    /// What happened to every call that arrived in the reported span.
    pub totals: Counts,
    /// The same per call class, in scenario order.
    pub classes: Vec<Counts>,
    /// The same for calls that arrived in the reporting window.
    pub window: Option<Counts>,
    /// Time bins of the reported span.
    pub bins: Vec<Bin>,
    /// Time integrals of the levels over the reported span.
    pub areas: Areas,
    /// Waits of served calls (primary queue wait or fallback cold start), seconds.
    pub wait_mean_s: f64,
    pub wait_p50_s: f64,
    pub wait_p90_s: f64,
    pub wait_p95_s: f64,
    pub wait_p99_s: f64,
    pub wait_max_s: f64,
    /// Mean time abandoned calls waited, seconds.
    pub abandon_wait_mean_s: f64,
    /// Most calls in the system (primary + fallback + waiting) at once.
    pub peak_in_flight: u64,
    pub peak_busy_primary: u64,
    /// Counts, logs and sizes the model hands over unchanged.
    pub end: RunEnd,
    /// Reported time the canary raised its alert, seconds (negative: in the warm-up).
    pub detection_s: Option<f64>,
    /// Reported time the fallback became broken, seconds.
    pub broken_since_s: Option<f64>,
    /// Spells (reported seconds) in which arriving calls found the primary full.
    pub saturation: Vec<(f64, f64)>,
    /// Whether a drain can cut calls off (then the counts carry
    /// `failed_drain_timeout`), copied from the scenario.
    pub drain_can_cut: bool,
    /// With `[clients]`: attempts and recovery (`None` without).
    pub retries: Option<RetryResult>,
    /// Prices, copied from the scenario.
    pub(crate) cost: CostSpec,
    /// Labels of the service-level thresholds (`20s`), copied from the
    /// scenario; empty: no service-level metrics.
    pub(crate) service_levels: Vec<String>,
    /// The values a family of surges drew for this run (field path,
    /// value), reported as metrics `surge.<path>`; empty without one.
    pub surge: Vec<(String, f64)>,
}

/// What retrying clients add to a run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RetryResult {
    /// Calls waiting to retry at the end (first arrival in the span).
    pub retrying_end: u64,
    /// Seconds from the surge's end until every later bin has fewer than
    /// `recovered_below` of its attempts failing; `None` when the run ends
    /// before that, or without a single surge.
    pub recovery_time_s: Option<f64>,
    /// A drain's cut-off is an attempt that may be retried (`on` lists
    /// `drain_timeout`): the metrics carry `failed_attempts_drain_timeout`.
    /// Copied from the scenario.
    pub cut_off_attempts: bool,
}

fn secs(area: u128) -> f64 {
    area as f64 / TICKS_PER_SEC as f64
}

impl RunResult {
    /// Every scalar metric, by name, in a fixed order. `None` where a
    /// metric does not apply to this run (e.g. no detection happened).
    pub fn metrics(&self, class_names: &[String]) -> Vec<(String, Option<f64>)> {
        let mut m: Vec<(String, Option<f64>)> = Vec::with_capacity(64);
        let sl = &self.service_levels;
        let drain = self.drain_can_cut;
        push_counts(&mut m, "", &self.totals, drain, sl);
        let a = &self.areas;
        let dur = self.duration_s.max(f64::MIN_POSITIVE);
        let mut put = |k: &str, v: f64| m.push((k.to_string(), Some(v)));
        put("waiting_end", self.end.waiting_end as f64);
        put("wait_mean_s", self.wait_mean_s);
        put("wait_p50_s", self.wait_p50_s);
        put("wait_p90_s", self.wait_p90_s);
        put("wait_p95_s", self.wait_p95_s);
        put("wait_p99_s", self.wait_p99_s);
        put("wait_max_s", self.wait_max_s);
        put("abandon_wait_mean_s", self.abandon_wait_mean_s);
        put("peak_in_flight", self.peak_in_flight as f64);
        put("peak_busy_primary", self.peak_busy_primary as f64);
        put("busy_primary_avg", secs(a.busy_primary) / dur);
        put("capacity_primary_avg", secs(a.capacity_primary) / dur);
        put("workers_ready_avg", secs(a.workers_ready) / dur);
        put("waiting_avg", secs(a.waiting) / dur);
        put("fallback_busy_avg", secs(a.fallback_busy) / dur);
        let util = if a.capacity_primary == 0 { 0.0 } else { a.busy_primary as f64 / a.capacity_primary as f64 };
        put("utilisation_primary", util);
        let peak_util = self
            .bins
            .iter()
            .map(|b| {
                if b.areas.capacity_primary == 0 {
                    0.0
                } else {
                    b.areas.busy_primary as f64 / b.areas.capacity_primary as f64
                }
            })
            .fold(0.0, f64::max);
        put("peak_utilisation_primary", peak_util);
        let worker_s = secs(a.workers_billed);
        let fb_s = secs(a.fallback_busy);
        let invocations =
            (self.totals.served_fallback + self.totals.failed_by[FailReason::FallbackStartFailed as usize]) as f64;
        put("primary_worker_seconds", worker_s);
        put("fallback_invocations", invocations);
        put("fallback_cold_starts", self.end.fallback_cold_starts as f64);
        put("fallback_seconds", fb_s);
        let c = &self.cost;
        let cost_primary = worker_s / 3600.0 * c.primary_worker_hour;
        let mut cost_fallback = invocations * c.fallback_per_invocation + fb_s * c.fallback_per_second;
        if c.fallback_slot_hour > 0.0 {
            cost_fallback += c.fallback_slots * self.duration_s / 3600.0 * c.fallback_slot_hour;
        }
        put("cost_primary", cost_primary);
        put("cost_fallback", cost_fallback);
        // Node metrics only with a node layer, so outputs without one keep their bytes.
        let cost_nodes = self.end.node_seconds.map_or(0.0, |s| s / 3600.0 * c.node_hour);
        if let Some(node_s) = self.end.node_seconds {
            put("node_seconds", node_s);
            put("cost_nodes", cost_nodes);
        }
        put("cost_total", cost_primary + cost_fallback + cost_nodes);
        put("detected", self.detection_s.is_some() as u8 as f64);
        m.push(("detection_time_s".into(), self.detection_s));
        let latency = match (self.detection_s, self.broken_since_s) {
            (Some(d), Some(b)) => Some((d - b).max(0.0)),
            _ => None,
        };
        m.push(("detection_latency_s".into(), latency));
        if let Some(r) = &self.retries {
            push_attempts(&mut m, &self.totals, r.cut_off_attempts);
            m.push(("retrying_end".into(), Some(r.retrying_end as f64)));
            m.push(("recovery_time_s".into(), r.recovery_time_s));
        }
        if let Some(w) = &self.window {
            push_counts(&mut m, "window.", w, drain, sl);
        }
        for (name, c) in class_names.iter().zip(&self.classes) {
            push_counts(&mut m, &format!("class.{name}."), c, drain, sl);
        }
        for (field, v) in &self.surge {
            m.push((format!("surge.{field}"), Some(*v)));
        }
        m
    }
}

/// The counts of one group; `drain`: with `failed_drain_timeout` (only
/// where a drain can cut calls off, so other outputs keep their bytes);
/// `service_levels`: the thresholds' labels (none: no service-level metrics).
fn push_counts(m: &mut Vec<(String, Option<f64>)>, prefix: &str, c: &Counts, drain: bool, service_levels: &[String]) {
    let mut put = |k: &str, v: f64| m.push((format!("{prefix}{k}"), Some(v)));
    put("arrived", c.arrived as f64);
    put("served_primary", c.served_primary as f64);
    put("served_fallback", c.served_fallback as f64);
    put("failed", c.failed() as f64);
    for r in REASONS {
        put(&format!("failed_{}", r.name()), c.failed_by[r as usize] as f64);
    }
    if drain {
        put(&format!("failed_{}", FailReason::DrainTimeout.name()), c.drain_timeout as f64);
    }
    put("abandoned", c.abandoned as f64);
    put("failed_fallback_eligible", c.failed_fallback_eligible as f64);
    let rate = if c.arrived == 0 { 0.0 } else { c.failed() as f64 / c.arrived as f64 };
    put("failure_rate", rate);
    if !service_levels.is_empty() {
        push_service_levels(m, prefix, c, service_levels);
    }
}

/// Whether a service-level metric (named without its group prefix) is a
/// count of calls, rather than a ratio or a mean.
pub fn is_service_level_count(name: &str) -> bool {
    name == "waited" || name.starts_with("answered_within_")
}

/// The service-level metrics of one group (see [`Counts`] for what a wait
/// is), named with `prefix`; ratios with an empty denominator do not apply
/// (`None`). `labels`: the thresholds' labels, in the scenario's order.
pub fn push_service_levels(m: &mut Vec<(String, Option<f64>)>, prefix: &str, c: &Counts, labels: &[String]) {
    let ratio = |a: f64, b: u64| if b == 0 { None } else { Some(a / b as f64) };
    let mut put = |k: &str, v: Option<f64>| m.push((format!("{prefix}{k}"), v));
    put("waited", Some(c.waited as f64));
    let (accepted, answered) = (c.accepted(), c.answered());
    for (label, &within) in labels.iter().zip(&c.answered_within) {
        put(&format!("answered_within_{label}"), Some(within as f64));
        put(&format!("service_level_{label}"), ratio(within as f64, accepted));
        put(&format!("service_level_all_{label}"), ratio(within as f64, c.arrived));
    }
    let secs = |sum: u128| sum as f64 / TICKS_PER_SEC as f64;
    put("asa_s", ratio(secs(c.answer_wait_sum), answered));
    put("wait_mean_all_s", ratio(secs(c.answer_wait_sum + c.abandon_wait_sum), answered + c.abandoned));
    put("abandon_rate", ratio(c.abandoned as f64, accepted));
}

/// With `[clients]`: attempts (first and retried), retries, their ratio
/// to calls, and failed attempts by reason; `drain`: with
/// `failed_attempts_drain_timeout` (only where cut-offs are attempts, so
/// other outputs keep their bytes).
fn push_attempts(m: &mut Vec<(String, Option<f64>)>, c: &Counts, drain: bool) {
    let mut put = |k: &str, v: f64| m.push((k.to_string(), Some(v)));
    put("attempts", c.attempts as f64);
    put("retries", c.attempts.saturating_sub(c.arrived) as f64);
    put("retry_amplification", if c.arrived == 0 { 0.0 } else { c.attempts as f64 / c.arrived as f64 });
    use crate::scenario::clients::{ATTEMPT_REASONS, DRAIN_TIMEOUT};
    for (k, (name, n)) in ATTEMPT_REASONS.iter().zip(c.failed_attempts).enumerate() {
        if k == DRAIN_TIMEOUT && !drain {
            continue;
        }
        put(&format!("failed_attempts_{name}"), n as f64);
    }
}

/// Seconds from `surge_end` until every bin from then on has fewer than
/// `threshold` of its attempts failing (0 if none after it does); `None`
/// when the last bin still fails that much. Bins are `bin` ticks wide.
pub fn recovery_time(bins: &[Bin], bin: u64, surge_end: u64, threshold: f64) -> Option<f64> {
    let rate = |b: &Bin| {
        let c = &b.counts;
        let failed: u64 = c.failed_attempts.iter().sum();
        if c.attempts == 0 {
            0.0
        } else {
            failed as f64 / c.attempts as f64
        }
    };
    let last_bad =
        bins.iter().enumerate().rev().find(|(i, b)| (*i as u64 + 1) * bin > surge_end && rate(b) >= threshold);
    match last_bad {
        None => Some(0.0),
        Some((i, _)) if i + 1 == bins.len() => None,
        Some((i, _)) => Some(((i as u64 + 1) * bin).saturating_sub(surge_end) as f64 / TICKS_PER_SEC as f64),
    }
}

/// The metric names a scenario's runs produce (for validating SLOs,
/// `--vary` outputs and baselines before running anything).
pub fn metric_names(sc: &Scenario) -> Vec<String> {
    let empty = RunResult {
        run: 0,
        duration_s: 1.0,
        totals: Counts::default(),
        classes: vec![Counts::default(); sc.classes.len()],
        window: sc.window.map(|_| Counts::default()),
        bins: vec![],
        areas: Areas::default(),
        wait_mean_s: 0.0,
        wait_p50_s: 0.0,
        wait_p90_s: 0.0,
        wait_p95_s: 0.0,
        wait_p99_s: 0.0,
        wait_max_s: 0.0,
        abandon_wait_mean_s: 0.0,
        peak_in_flight: 0,
        peak_busy_primary: 0,
        end: RunEnd {
            waiting_end: 0,
            in_service_end: 0,
            fallback_cold_starts: 0,
            scale_log: vec![],
            failure_log: None,
            failures_dropped: 0,
            peak_pending_events: 0,
            queue_slots: 0,
            worker_records: 0,
            node_seconds: sc.primary.nodes.as_ref().map(|_| 0.0),
            arrival_error: None,
        },
        detection_s: None,
        broken_since_s: None,
        saturation: vec![],
        drain_can_cut: sc.primary.drain_can_cut(),
        retries: sc
            .clients
            .as_ref()
            .map(|c| RetryResult { cut_off_attempts: c.retries_cut_offs(), ..RetryResult::default() }),
        cost: sc.cost.clone(),
        service_levels: sc.service_levels.iter().map(|s| s.0.clone()).collect(),
        surge: sc.surge.as_ref().map_or_else(Vec::new, |f| f.fields().into_iter().map(|k| (k, 0.0)).collect()),
    };
    let names: Vec<String> = sc.classes.iter().map(|c| c.name.clone()).collect();
    empty.metrics(&names).into_iter().map(|(k, _)| k).collect()
}
