//! The bundled metastable scenario and its variants, and the conservation
//! of calls and attempts with retries.

use std::path::Path;

use surgesim::experiment::Aggregate;
use surgesim::scenario::{self, Scenario};

use super::{runs, values};
use crate::common::repo;

fn load(rel: &str, sets: &[&str]) -> Scenario {
    let o: Vec<_> = sets.iter().map(|s| s.parse().expect("an override")).collect();
    scenario::load(Path::new(&repo(rel)), &o).expect("a bundled scenario")
}

/// The surge of the bundled scenario: 10 min from 10 min.
const SURGE_END_S: f64 = 1200.0;
const SURGE_S: f64 = 600.0;

fn attempt_failure_rate(c: &surgesim::observe::Counts) -> f64 {
    let failed: u64 = c.failed_attempts.iter().sum();
    failed as f64 / c.attempts.max(1) as f64
}

#[test]
fn failures_outlast_the_surge_by_three_times_its_length() {
    let sc = load("scenarios/metastable.toml", &[]);
    let agg = runs(&sc, 3);
    let bin = sc.bin.as_secs_f64();
    for r in &agg.runs {
        assert_eq!(r.retries.as_ref().and_then(|x| x.recovery_time_s), None, "run {} recovered", r.run);
        for (i, b) in r.bins.iter().enumerate() {
            let t0 = i as f64 * bin;
            if t0 >= SURGE_END_S && t0 + bin <= SURGE_END_S + 3.0 * SURGE_S {
                let rate = attempt_failure_rate(&b.counts);
                assert!(rate > 0.5, "run {}: bin at {t0} s has only {rate} of its attempts failing", r.run);
                assert!(b.counts.arrived > 0 && b.counts.failed() > b.counts.arrived / 2);
            }
        }
    }
}

#[test]
fn budget_queue_limit_and_warm_pool_each_recover_within_the_surge_length() {
    for v in ["budget", "queue-limit", "warm-pool"] {
        let sc = load(&format!("scenarios/metastable/{v}.toml"), &[]);
        let agg = runs(&sc, 3);
        let rec = values(&agg, "recovery_time_s");
        assert_eq!(rec.len(), 3, "{v}: some runs never recovered: {rec:?}");
        assert!(rec.iter().all(|&t| t < SURGE_S), "{v}: recovery times {rec:?} s");
    }
}

/// Backoff with jitter spreads the same four attempts per call over time;
/// against a sustained overload that is not less work, and the system
/// stays failing.
#[test]
fn backoff_with_jitter_alone_does_not_recover() {
    let sc = load("scenarios/metastable/backoff-jitter.toml", &[]);
    let agg = runs(&sc, 2);
    assert!(values(&agg, "recovery_time_s").is_empty());
}

pub(super) fn conserved(agg: &Aggregate, what: &str) {
    for r in &agg.runs {
        let m: std::collections::HashMap<String, f64> =
            r.metrics(&agg.class_names).into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect();
        let g = |k: &str| *m.get(k).unwrap_or_else(|| panic!("{what}: no metric {k}"));
        // Cut-offs are attempts only where clients redial after one.
        let cut = m.get("failed_attempts_drain_timeout").copied();
        // Every distinct call ends exactly once, or is in flight at the end.
        let ends = g("served_primary") + g("served_fallback") + g("failed") + g("waiting_end") + g("retrying_end");
        assert_eq!(g("arrived"), ends, "{what} run {}: calls", r.run);
        // Every failed attempt is retried, ends its call, or waits to retry at the end.
        let failed_attempts: f64 = surgesim::scenario::clients::ATTEMPT_REASONS
            .iter()
            .map(|n| if *n == "drain_timeout" { cut.unwrap_or(0.0) } else { g(&format!("failed_attempts_{n}")) })
            .sum();
        // Calls turned away, hung up or (where that is an attempt) cut off for good.
        let final_failures: f64 = ["worker_not_available", "fallback_start_failed", "fallback_throttled", "queue_full"]
            .iter()
            .map(|n| g(&format!("failed_{n}")))
            .sum::<f64>()
            + g("abandoned")
            + cut.map_or(0.0, |_| g("failed_drain_timeout"));
        assert_eq!(
            failed_attempts,
            g("retries") + final_failures + g("retrying_end"),
            "{what} run {}: attempts",
            r.run
        );
        assert_eq!(g("attempts"), g("arrived") + g("retries"));
        let bins: u64 = r.bins.iter().map(|b| b.counts.attempts).sum();
        assert_eq!(bins as f64, g("attempts"), "{what}: attempts per bin sum to the total");
    }
}

#[test]
fn calls_and_attempts_are_conserved() {
    for (rel, sets) in [
        ("scenarios/metastable.toml", vec!["warmup=0s"]),
        ("scenarios/metastable/budget.toml", vec!["warmup=0s"]),
        ("scenarios/metastable/queue-limit.toml", vec!["warmup=0s"]),
        ("scenarios/incident-2025-07-25/customers-retry.toml", vec!["warmup=0s"]),
    ] {
        let sc = load(rel, &sets);
        conserved(&runs(&sc, 2), rel);
    }
}

/// Retries never exceed the budget: per bin of the budget's window, the
/// retries made are at most the fraction of the first attempts of that bin
/// and the two before (a retry is allowed when its call fails, 1 s before
/// it is made, against the window ending then).
#[test]
fn the_budget_caps_retries() {
    let sc = load("scenarios/metastable/budget.toml", &["bin=10s"]);
    let agg = runs(&sc, 2);
    for r in &agg.runs {
        let mut any = 0;
        for w in r.bins.windows(3) {
            let retries = w[2].counts.attempts - w[2].counts.arrived;
            any += retries;
            let firsts: u64 = w.iter().map(|b| b.counts.arrived).sum();
            assert!(retries as f64 <= 0.1 * firsts as f64, "{retries} retries against {firsts} first attempts");
        }
        assert!(any > 0, "the budget allowed no retry at all");
    }
}

/// The value printed on `row`'s line of the terminal table.
fn table_cell(table: &str, row: &str) -> Option<String> {
    table
        .lines()
        .find_map(|l| l.strip_prefix(row).filter(|rest| rest.starts_with(' ')).map(|rest| rest.trim().to_string()))
}

#[test]
fn the_terminal_table_shows_attempts_and_recovery() {
    use surgesim::report::table::render;
    let sc = load("scenarios/metastable.toml", &["duration=\"40m\""]);
    let agg = runs(&sc, 3);
    let table = render(&sc, &agg);
    let amp: Vec<f64> = agg.runs.iter().map(|r| r.totals.attempts as f64 / r.totals.arrived as f64).collect();
    let mean = amp.iter().sum::<f64>() / amp.len() as f64;
    let cell = table_cell(&table, "retry_amplification").expect("a retry_amplification row");
    let printed: f64 = cell.split(' ').next().unwrap().parse().expect("a number");
    assert!((printed - mean).abs() < 1e-3 * mean, "printed {printed}, attempts/arrived {mean}");
    assert!(mean > 2.0, "the base scenario amplifies its load ({mean})");
    for row in ["attempts", "retries", "retrying_end"] {
        assert!(table_cell(&table, row).is_some(), "no {row} row in\n{table}");
    }
    assert_eq!(table_cell(&table, "recovery_time_s").as_deref(), Some("never (0/3 runs)"), "{table}");
    // Recovered in every run: a plain value, no count of runs.
    let sc = load("scenarios/metastable/budget.toml", &["duration=\"40m\""]);
    let table = render(&sc, &runs(&sc, 3));
    let rec = table_cell(&table, "recovery_time_s").expect("a recovery row");
    assert!(!rec.contains("runs") && rec.split(' ').next().unwrap().parse::<f64>().is_ok(), "{rec}");
    // Without [clients], no attempt rows.
    let sc = scenario::load(Path::new(&repo("scenarios/spike-3x.toml")), &[]).unwrap();
    let table = render(&sc, &runs(&sc, 2));
    assert!(table_cell(&table, "attempts").is_none() && table_cell(&table, "recovery_time_s").is_none(), "{table}");
}
