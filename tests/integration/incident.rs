//! The 07:00 incident replay: calibration against the report's figures and
//! the counterfactuals' ordering, through the library.

use surgesim::experiment::{self, Aggregate};
use surgesim::model::RunOptions;
use surgesim::scenario;

use crate::common::repo;

const REPLICATIONS: u64 = 20;

fn run(path: &str) -> Aggregate {
    let sc = scenario::load(&repo(path), &[]).expect("bundled scenario loads");
    experiment::run(&sc, REPLICATIONS, RunOptions::default())
}

/// The report: 3,028 failed calls 07:00–07:15, 1,122 of them fallback-eligible.
/// Over the scenario's fixed seed and replications 0..20, the means must lie
/// within 3 % and 5 % of those figures.
#[test]
fn replay_reproduces_the_reported_failures() {
    let agg = run("scenarios/incident-2025-07-25.toml");
    let failed = agg.metric("window.failed").unwrap();
    let eligible = agg.metric("window.failed_fallback_eligible").unwrap();
    assert!((failed.mean / 3028.0 - 1.0).abs() <= 0.03, "window failed {} (±{})", failed.mean, failed.half_width());
    assert!((eligible.mean / 1122.0 - 1.0).abs() <= 0.05, "window eligible {}", eligible.mean);
    // Every reported failure is the user-visible worker-not-available error:
    // non-eligible calls fail on the full primary, eligible ones at the
    // broken fallback.
    let wna = agg.mean("window.failed_worker_not_available");
    let fsf = agg.mean("window.failed_fallback_start_failed");
    assert_eq!(wna + fsf, failed.mean);
    assert_eq!(fsf, eligible.mean);
    // Plausible outside the window: (almost) nothing fails before 07:00 and
    // the system has recovered after 07:15.
    for r in &agg.runs {
        let bin_s = 60.0;
        let before: u64 = r.bins[..30].iter().map(|b| b.counts.failed()).sum();
        let after: u64 = r.bins[(45.0 * 60.0 / bin_s) as usize..].iter().map(|b| b.counts.failed()).sum();
        assert!(before <= 5, "run {}: {before} failures before 07:00", r.run);
        assert!(after <= 30, "run {}: {after} failures after 07:15", r.run);
    }
}

/// With a healthy fallback the eligible failures disappear, and what is left
/// is at most the incident's non-eligible failures plus noise (paired on
/// common random numbers: replication by replication).
#[test]
fn healthy_fallback_saves_the_eligible_calls() {
    let base = run("scenarios/incident-2025-07-25.toml");
    let healthy = run("scenarios/incident-2025-07-25/fallback-healthy.toml");
    let b_failed = base.metric_values("window.failed");
    let b_eligible = base.metric_values("window.failed_fallback_eligible");
    let h_failed = healthy.metric_values("window.failed");
    assert_eq!(healthy.mean("window.failed_fallback_eligible"), 0.0);
    assert!(healthy.mean("window.failed") < base.mean("window.failed"));
    // Paired differences: healthy − (base − eligible); its mean must not be
    // significantly above 0 (3 standard errors).
    let d: Vec<f64> = h_failed.iter().zip(&b_failed).zip(&b_eligible).map(|((h, b), e)| h - (b - e)).collect();
    let n = d.len() as f64;
    let mean = d.iter().sum::<f64>() / n;
    let sd = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    assert!(
        mean <= 3.0 * sd / n.sqrt() + 1e-9,
        "healthy exceeds non-eligible failures by {mean} (se {})",
        sd / n.sqrt()
    );
    assert!(healthy.mean("served_fallback") > 0.0);
}

/// Each remediation helps, and the canary run reports its detection.
#[test]
fn counterfactuals_each_save_failures() {
    let base = run("scenarios/incident-2025-07-25.toml").mean("window.failed");
    for v in ["canary-1m", "warm-plus-25", "fast-provisioning", "arch-guard"] {
        let agg = run(&format!("scenarios/incident-2025-07-25/{v}.toml"));
        let f = agg.metric("window.failed").unwrap();
        assert!(f.mean + 3.0 * f.half_width() < base, "{v}: {} vs base {base}", f.mean);
        if v == "canary-1m" {
            let d = agg.metric("detection_time_s").unwrap();
            // Broken from 06:50 (1200 s), probes every minute: detected within one interval.
            assert_eq!(d.n, REPLICATIONS as usize);
            assert!(d.mean >= 1200.0 && d.mean <= 1260.0, "detection at {}", d.mean);
        }
    }
}
