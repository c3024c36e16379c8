//! `summary.json`: every metric with its mean and confidence interval, plus
//! the nested totals a person reads first.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::experiment::{Aggregate, Stat};
use crate::observe::{FailReason, REASONS};
use crate::scenario::Scenario;
use crate::time::{format_clock, format_day_clock};

#[derive(Serialize)]
pub struct Summary<'a> {
    /// Version of surgesim that produced the file.
    pub surgesim_version: &'static str,
    pub scenario: &'a str,
    pub description: &'a str,
    pub seed: u64,
    pub replications: usize,
    /// Clock label of t = 0.
    pub clock_start: String,
    pub duration_s: f64,
    pub bin_s: f64,
    pub warmup_s: f64,
    /// The reporting window, if one was given: its bounds and the means of
    /// the same totals for the calls that arrived in it.
    pub window: Option<Window>,
    /// Confidence level of every `ci95`.
    pub confidence: f64,
    /// Means of the main totals (calls that arrived in the reported span).
    pub totals: Totals,
    /// Means of the same totals per call class.
    pub classes: BTreeMap<&'a str, Totals>,
    /// Every metric: mean, sd, 95 % interval, runs it applied to.
    pub metrics: BTreeMap<&'a str, &'a Stat>,
    pub warnings: &'a [String],
}

/// The window section: `[from_s, to_s)` from the start, the same bounds as
/// clock labels (`+1d07:00:00` on a later day), and the window's totals.
#[derive(Serialize)]
pub struct Window {
    pub from_s: f64,
    pub to_s: f64,
    pub from_clock: String,
    pub to_clock: String,
    #[serde(flatten)]
    pub totals: Totals,
}

#[derive(Serialize)]
pub struct Totals {
    pub arrived: f64,
    pub served_primary: f64,
    pub served_fallback: f64,
    pub failed: f64,
    pub failed_by_reason: BTreeMap<&'static str, f64>,
    pub abandoned: f64,
    pub failed_fallback_eligible: f64,
    pub failure_rate: f64,
    /// With service-level thresholds: the group's service-level metrics
    /// (`service_level_20s`, `asa_s`, …), their means over the runs in
    /// which they applied (`null` where none did).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub service_levels: BTreeMap<String, Option<f64>>,
}

/// The service-level metrics of the group `prefix` (names without it).
fn service_levels(sc: &Scenario, agg: &Aggregate, prefix: &str) -> BTreeMap<String, Option<f64>> {
    if sc.service_levels.is_empty() {
        return BTreeMap::new();
    }
    let per_label = ["answered_within_", "service_level_", "service_level_all_"];
    let names = sc
        .service_levels
        .iter()
        .flat_map(|(label, _)| per_label.map(|p| format!("{p}{label}")))
        .chain(["waited", "asa_s", "wait_mean_all_s", "abandon_rate"].map(String::from));
    names
        .map(|k| {
            let v = agg.metric(&format!("{prefix}{k}")).filter(|s| s.n > 0).map(|s| s.mean);
            (k, v)
        })
        .collect()
}

fn totals(sc: &Scenario, agg: &Aggregate, prefix: &str) -> Totals {
    let m = |k: &str| agg.mean(&format!("{prefix}{k}"));
    Totals {
        arrived: m("arrived"),
        served_primary: m("served_primary"),
        served_fallback: m("served_fallback"),
        failed: m("failed"),
        failed_by_reason: REASONS
            .iter()
            .map(|r| (r.name(), m(&format!("failed_{}", r.name()))))
            .chain([("abandoned", m("abandoned"))])
            .chain(drain_timeout(agg, prefix))
            .collect(),
        abandoned: m("abandoned"),
        failed_fallback_eligible: m("failed_fallback_eligible"),
        failure_rate: m("failure_rate"),
        service_levels: service_levels(sc, agg, prefix),
    }
}

/// The `drain_timeout` entry, where a drain can cut calls off.
fn drain_timeout(agg: &Aggregate, prefix: &str) -> Option<(&'static str, f64)> {
    let name = FailReason::DrainTimeout.name();
    agg.metric(&format!("{prefix}failed_{name}")).map(|s| (name, s.mean))
}

pub fn summary<'a>(sc: &'a Scenario, agg: &'a Aggregate) -> Summary<'a> {
    let cs = sc.clock_start as f64;
    Summary {
        surgesim_version: env!("CARGO_PKG_VERSION"),
        scenario: &sc.name,
        description: &sc.description,
        seed: sc.seed,
        replications: agg.runs.len(),
        clock_start: format_clock(cs),
        duration_s: sc.duration.as_secs_f64(),
        bin_s: sc.bin.as_secs_f64(),
        warmup_s: sc.warmup.as_secs_f64(),
        window: sc.window.map(|(a, b)| Window {
            from_s: a.as_secs_f64(),
            to_s: b.as_secs_f64(),
            from_clock: format_day_clock(cs + a.as_secs_f64()),
            to_clock: format_day_clock(cs + b.as_secs_f64()),
            totals: totals(sc, agg, "window."),
        }),
        confidence: 0.95,
        totals: totals(sc, agg, ""),
        classes: sc.classes.iter().map(|c| (c.name.as_str(), totals(sc, agg, &format!("class.{}.", c.name)))).collect(),
        metrics: agg.metrics.iter().map(|(k, s)| (k.as_str(), s)).collect(),
        warnings: &sc.warnings,
    }
}

/// The JSON text of `summary.json`.
pub fn to_string(sc: &Scenario, agg: &Aggregate) -> String {
    let mut s = serde_json::to_string_pretty(&summary(sc, agg)).expect("summary serialises");
    s.push('\n');
    s
}
