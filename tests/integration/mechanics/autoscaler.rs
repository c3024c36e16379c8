//! Autoscaler policies and presets on the bundled scenarios (through the
//! CLI), and target-utilization's convergence (through the library).

use std::fs;

use surgesim::experiment::Stat;

use super::replay::{
    check_bounds_and_cooldowns, check_capacity_follows_log, decisions, min_down_gap, min_up_gap, target_steps,
    Decision, Provisioning,
};
use super::{check_z, load_mech, load_text, mech, mech_path, run0, run_cli, EPS, Z};

/// target-utilization on a rate step: capacity follows each decision after
/// exactly the provisioning delay; min, max and both cooldowns hold; the
/// load drives the pool to max and back to min, so both bounds are exercised.
#[test]
fn cli_target_utilization_capacity_follows_decisions_after_the_delay_within_bounds_and_cooldowns() {
    let out = run_cli(&mech("autoscaler-target"), &[]);
    let log = out.scaling();
    let ts = out.timeseries();
    assert_eq!(ts.f(1, "t_start_s"), 5.0, "5 s bins");
    check_capacity_follows_log(&ts, &log, 5, 10, &Provisioning::fixed(60.0));
    check_bounds_and_cooldowns(&log, 2, 16, 45.0, 120.0);
    assert!(log.iter().any(|d| d.to == 16), "the 4 calls/s phase (20 workers wanted) should reach max = 16: {log:?}");
    assert!(log.iter().any(|d| d.to == 2), "the 0.2 call/s phase (1 worker wanted) should stop at min = 2: {log:?}");
    assert!(log.iter().any(|d| d.to < d.from) && log.iter().any(|d| d.to > d.from));
    for i in 0..ts.len() {
        let w = ts.f(i, "workers_ready_avg");
        assert!((2.0 - EPS..=16.0 + EPS).contains(&w), "bin {i}: {w} workers ready, outside [2, 16]");
    }
    // The cooldowns matter here: without them, decisions come closer.
    let free = load_mech(
        "autoscaler-target",
        &["primary.autoscaler.scale_up_cooldown=0s", "primary.autoscaler.scale_down_cooldown=0s"],
    );
    let free_log = decisions(&run0(&free));
    let gap = min_up_gap(&free_log);
    assert!(gap < 45.0, "without a cooldown the smallest scale-up gap is {gap} s; the cooldown check proves nothing");
    let down_gap = min_down_gap(&free_log);
    assert!(down_gap < 120.0, "without a cooldown the smallest scale-down gap is {down_gap} s");
}

/// The step policy adds exactly `add` workers per scale-up (or stops at
/// max) and removes exactly `remove` per scale-in.
#[test]
fn cli_step_policy_adds_and_removes_exactly_its_steps() {
    let out = run_cli(&mech("autoscaler-step"), &[]);
    let log = out.scaling();
    check_capacity_follows_log(&out.timeseries(), &log, 8, 10, &Provisioning::fixed(30.0));
    check_bounds_and_cooldowns(&log, 4, 40, 30.0, 0.0);
    let ups: Vec<&Decision> = log.iter().filter(|d| d.to > d.from).collect();
    let downs: Vec<&Decision> = log.iter().filter(|d| d.to < d.from).collect();
    assert!(ups.len() >= 3 && downs.len() >= 3, "the step scenario should scale both ways: {log:?}");
    for d in ups {
        assert!(d.to - d.from == 3 || d.to == 40, "a step scale-up adds exactly 3: {d:?}");
    }
    for d in downs {
        assert!(d.from - d.to == 1 || d.to == 4, "a step scale-in removes exactly 1: {d:?}");
    }
}

/// The scheduled policy raises the minimum at `at`; the capacity reaches
/// it exactly one provisioning delay later, and nothing else moves it.
#[test]
fn cli_scheduled_policy_prewarms_at_at_plus_the_provisioning_delay() {
    let out = run_cli(&mech("autoscaler-scheduled"), &[]);
    let log = out.scaling();
    assert_eq!(
        log,
        vec![Decision { at: 300.0, from: 4, to: 12, cause: "schedule".into(), ready: Some((390.0, 390.0)) }],
        "one scheduled decision at 5 m, ready at 6 m 30 s"
    );
    let ts = out.timeseries();
    check_capacity_follows_log(&ts, &log, 4, 10, &Provisioning::fixed(90.0));
    for i in 0..ts.len() {
        let (a, b, w) = (ts.f(i, "t_start_s"), ts.f(i, "t_end_s"), ts.f(i, "workers_ready_avg"));
        if b <= 390.0 {
            assert_eq!(w, 4.0, "bin [{a}, {b}) is before the scheduled workers are ready");
        } else if a >= 390.0 {
            assert_eq!(w, 12.0, "bin [{a}, {b}) is after the scheduled workers are ready");
        }
    }
}

/// A schedule that lowers the minimum again (pre-warming for a surge,
/// then back to normal) should let the scheduled policy return to it.
#[test]
fn scheduled_policy_follows_a_schedule_that_lowers_the_minimum() {
    let sc = load_mech("autoscaler-scheduled", &["primary.autoscaler.schedule=[{at=\"5m\",min=12},{at=\"9m\",min=4}]"]);
    let r = run0(&sc);
    let log = decisions(&r);
    let last = log.last().expect("decisions");
    assert_eq!(last.to, 4, "after the schedule's min = 4 at 9 m the pool should return to 4 workers: {log:?}");
    assert!(last.at >= 540.0 && last.at <= 540.0 + 15.0, "at the 9 m entry or the next evaluation: {log:?}");
}

/// No policy: the capacity is fixed whatever the load, and no decision is
/// logged (no scaling.csv).
#[test]
fn cli_policy_none_keeps_the_capacity_fixed_under_overload() {
    let out = run_cli(&mech("fallback-degraded"), &[]);
    assert!(!out.dir.join("scaling.csv").exists(), "policy none decides nothing");
    let ts = out.timeseries();
    for i in 0..ts.len() {
        assert_eq!(ts.f(i, "workers_ready_avg"), 3.0, "bin {i}: the 3 workers stay");
        assert_eq!(ts.f(i, "capacity_primary_avg"), 15.0);
    }
    let s = out.summary();
    assert!(
        s["classes"]["other"]["failed_by_reason"]["worker_not_available"].as_f64().unwrap() > 0.0,
        "the overload is real (the ineligible class fails) and no scaler answers it"
    );
}

/// k8s-hpa preset: each scale-up at most max(4, 100 %) of the current
/// count (and the limit binds on the surge), 15 s evaluations, and the
/// 300 s scale-down stabilisation holds the surge's size after the surge.
#[test]
fn cli_k8s_hpa_preset_limits_steps_up_and_stabilises_scale_down() {
    let out = run_cli(&mech("preset-k8s-hpa"), &[]);
    let log = out.scaling();
    check_capacity_follows_log(&out.timeseries(), &log, 1, 10, &Provisioning::fixed(20.0));
    check_bounds_and_cooldowns(&log, 1, 60, 0.0, 0.0);
    for d in &log {
        assert_eq!(d.at % 15.0, 0.0, "decisions on the 15 s sync period: {d:?}");
        if d.to > d.from {
            assert!(d.to - d.from <= d.from.max(4), "scale-up beyond max(4 pods, 100 %): {d:?}");
        }
    }
    assert!(
        log.iter().any(|d| d.to > d.from && d.to - d.from == d.from.max(4) && d.to < 60),
        "the surge should hit the step-up limit: {log:?}"
    );
    // Surge: 8 calls/s × 30 s = 240 calls → 40 workers at target 0.6; the
    // highest wish of any 300 s window in the surge is at least that minus
    // 3 Poisson SDs. After the drop at 480 s, stabilisation keeps the pool
    // there until 480 + 300 s (less one interval of partial surge load).
    let (a_surge, a_low, per_worker) = (240.0_f64, 15.0_f64, 6.0);
    let floor = (a_surge - Z * a_surge.sqrt()) / per_worker;
    let target = target_steps(1, &log);
    for t in (480..765).step_by(5) {
        let w = target.at(t as f64);
        assert!(w >= floor, "at {t} s the pool ({w}) fell below the stabilised surge size ({floor:.1})");
    }
    let low = ((a_low + Z * a_low.sqrt()) / per_worker).ceil();
    let shrunk_at = log.iter().find(|d| d.at > 480.0 && (d.to as f64) <= low).map(|d| d.at);
    assert!(shrunk_at.is_some_and(|t| t >= 765.0), "the pool reached the low-load size at {shrunk_at:?}");
    // Without the preset's behaviour (same policy, interval and target), the
    // first surge decision more than doubles and the pool shrinks within a
    // minute of the drop: the checks above would fail.
    let text = fs::read_to_string(mech_path("preset-k8s-hpa"))
        .unwrap()
        .replace("preset = \"k8s-hpa\"", "policy = \"target-utilization\"");
    let bare = decisions(&run0(&load_text(&text)));
    assert!(bare.iter().any(|d| d.to > d.from && d.to - d.from > d.from.max(4)), "{bare:?}");
    assert!(bare.iter().any(|d| d.at > 480.0 && d.at < 560.0 && (d.to as f64) <= low), "{bare:?}");
}

/// keda preset: starts at zero workers; the first launch (0 → 1) is at
/// the first 30 s poll after the first arrival; calls that arrive before
/// that worker is ready fail; after the last arrival the pool returns to
/// zero, no sooner than the 300 s cooldown.
#[test]
fn cli_keda_preset_scales_from_zero_after_the_first_arrival_and_back_to_zero() {
    let out = run_cli(&mech("preset-keda"), &[]);
    let log = out.scaling();
    let ts = out.timeseries();
    check_capacity_follows_log(&ts, &log, 0, 10, &Provisioning::fixed(30.0));
    let rows_with_arrivals: Vec<usize> = (0..ts.len()).filter(|&i| ts.f(i, "arrivals") > 0.0).collect();
    let (first, last) = (rows_with_arrivals[0], *rows_with_arrivals.last().unwrap());
    let first_arrival_bin = (ts.f(first, "t_start_s"), ts.f(first, "t_end_s"));
    assert!(first_arrival_bin.0 >= 180.0, "no call arrives before 3 m");
    let act = &log[0];
    assert_eq!((act.from, act.to), (0, 1), "activation from zero: {act:?}");
    assert_eq!(act.at % 30.0, 0.0, "KEDA polls every 30 s: {act:?}");
    assert!(
        act.at > first_arrival_bin.0 && act.at <= first_arrival_bin.1 + 30.0,
        "activation at {} s: expected the first poll after the first arrival (in [{}, {}))",
        act.at,
        first_arrival_bin.0,
        first_arrival_bin.1
    );
    for i in 0..ts.len() {
        let (a, b) = (ts.f(i, "t_start_s"), ts.f(i, "t_end_s"));
        if b <= act.at + 30.0 {
            assert_eq!(ts.f(i, "workers_ready_avg"), 0.0, "bin [{a}, {b}): no worker before activation + delay");
            assert_eq!(ts.f(i, "failed_worker_not_available"), ts.f(i, "arrivals"), "bin [{a}, {b}): nothing serves");
        }
    }
    assert!(ts.f(first, "failed") > 0.0, "the first calls find no worker");
    let zero = log.last().unwrap();
    assert_eq!(zero.to, 0, "back to zero at the end: {log:?}");
    assert!(zero.at >= ts.f(last, "t_start_s") + 300.0, "scale to zero at {} s, before the 300 s cooldown", zero.at);
    assert_eq!(ts.f(ts.len() - 1, "workers_ready_avg"), 0.0);
}

/// asg preset with a warm pool of 3: 60 s evaluations; the first 3
/// launches are ready after warm_pool_delay (30 s), later ones after the
/// preset's 300 s provisioning delay.
#[test]
fn cli_asg_preset_warm_pool_launches_ready_in_30s_then_300s() {
    let out = run_cli(&mech("preset-asg-warm-pool"), &[]);
    let log = out.scaling();
    let p = Provisioning { delay: 300.0, warm_pool: 3, warm_delay: 30.0 };
    check_capacity_follows_log(&out.timeseries(), &log, 4, 10, &p);
    check_bounds_and_cooldowns(&log, 2, 40, 0.0, 300.0);
    for d in &log {
        assert_eq!(d.at % 60.0, 0.0, "decisions on the 60 s period: {d:?}");
    }
    let ups: Vec<&Decision> = log.iter().filter(|d| d.to > d.from).collect();
    assert!(log.iter().take_while(|d| d.to > d.from).map(|d| d.to - d.from).sum::<u32>() > 3, "beyond the warm pool");
    let first = ups[0];
    assert_eq!(first.ready.unwrap().0, first.at + 30.0, "the first launch comes from the warm pool: {first:?}");
    let cold = ups.last().unwrap();
    assert_eq!(
        cold.ready,
        Some((cold.at + 300.0, cold.at + 300.0)),
        "once the pool is used up, a cold launch: {cold:?}"
    );
}

// ---------------------------------------------------------------------------
// Target-utilization converges (library)
// ---------------------------------------------------------------------------

/// Mean and standard deviation of ceil(X / k) for X ~ Poisson(a).
fn poisson_ceil_moments(a: f64, k: f64) -> (f64, f64) {
    let (mut p, mut m1, mut m2) = ((-a).exp(), 0.0, 0.0);
    let top = (a + 40.0 * a.sqrt() + 40.0) as u64;
    for n in 0..=top {
        if n > 0 {
            p *= a / n as f64;
        }
        let v = (n as f64 / k).ceil();
        m1 += p * v;
        m2 += p * v * v;
    }
    (m1, (m2 - m1 * m1).sqrt())
}

/// Steady Poisson load: λ = 20 calls/s of exactly 10 s, so the calls in
/// service at any instant are Poisson(A = 200). At target 0.5 and 10 calls
/// per worker (5 calls per worker at target), target-utilization with
/// tolerance 0 and no provisioning delay wants ceil(X / 5) workers for the
/// X in service it samples at each 15 s evaluation; samples 15 s apart
/// share no call (10 s calls), so they are independent.
/// - At the end, the pool is within ceil(A/5) ± (3·√A/5 + 1) workers.
/// - Over the last 50 minutes, the mean of the per-evaluation counts (the
///   15 s bins line up with the evaluations) is E[ceil(X/5)] within 3 SE,
///   SE = sd(ceil(X/5)) / √n; their SD matches too. The capacity never
///   binds (capacity ≥ 2 × the sampled load), so no call fails.
#[test]
fn target_utilization_converges_to_ceil_of_load_over_target() {
    let sc = load_text(
        r#"
name = "converge"
seed = 2024
duration = "1h"
bin = "15s"
[arrivals]
kind = "poisson"
rate = 20.0
[[classes]]
name = "call"
share = 1.0
duration = "10s"
[primary]
workers = 1
calls_per_worker = 10
[primary.autoscaler]
policy = "target-utilization"
target = 0.5
tolerance = 0.0
interval = "15s"
provision_delay = "0s"
min = 1
max = 1000
"#,
    );
    let r = run0(&sc);
    let (a, per_worker) = (200.0_f64, 10.0 * 0.5);
    let expected = (a / per_worker).ceil();
    let end = r.end.scale_log.last().expect("the scaler moved").to as f64;
    let tol = Z * a.sqrt() / per_worker + 1.0;
    assert!((end - expected).abs() <= tol, "final pool {end}, expected {expected} ± {tol:.1}");

    let late: Vec<f64> = r.bins[40..]
        .iter()
        .map(|b| b.areas.workers_ready as f64 / surgesim::time::TICKS_PER_SEC as f64 / 15.0)
        .collect();
    let n = late.len() as f64;
    let (mean_exact, sd_exact) = poisson_ceil_moments(a, per_worker);
    let s = Stat::of(&late);
    let se = sd_exact / n.sqrt();
    check_z("mean pool over the last 50 min, vs E[ceil(X/5)]", s.mean, mean_exact, se, 0.0);
    // SD of a sample SD of n normal-ish values: sd / √(2(n−1)).
    let se_sd = sd_exact / (2.0 * (n - 1.0)).sqrt();
    check_z("SD of the pool, vs SD(ceil(X/5))", s.sd, sd_exact, se_sd, 0.0);
    let failed_late: u64 = r.bins[40..].iter().map(|b| b.counts.failed()).sum();
    assert_eq!(failed_late, 0, "capacity never binds once converged");
}
