//! The scaler against the systems it models: the Kubernetes HPA's replica
//! calculator and behaviour rules, KEDA's two loops, the metric pipeline
//! (scrape interval, window, lag; what each metric sees at saturation) and
//! the bad input of the new fields.
//!
//! Every expected value is worked out here from the documented algorithm,
//! never read from the code under test.

use std::path::Path;

use surgesim::model::autoscaler::{Observation, ScaleEvent, Scaler};
use surgesim::model::{run, RunOptions};
use surgesim::scenario::{load_str, Scenario};
use surgesim::time::Tick;

use crate::common::{assert_exit, stderr, surgesim};

/// A scenario: `rate` is the arrivals' TOML rate table, `extra` goes under
/// `[primary.autoscaler]` and `tail` after it.
fn scenario(workers: u32, rate: &str, autoscaler: &str, tail: &str) -> String {
    format!(
        r#"name = "scaler-test"
seed = 3
duration = "20m"
bin = "5s"

[arrivals]
kind = "poisson"
rate = {rate}

[[classes]]
name = "call"
share = 1.0
duration = "20s"

[primary]
workers = {workers}
calls_per_worker = 10

[primary.autoscaler]
{autoscaler}
{tail}"#
    )
}

fn load(text: &str) -> Scenario {
    load_str(text, "scaler-test.toml", Path::new("."), &[]).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn scale_log(text: &str) -> Vec<ScaleEvent> {
    run(&load(text), 0, RunOptions { failure_log: false }).end.scale_log
}

fn secs(e: &ScaleEvent) -> f64 {
    e.at.as_secs_f64()
}

// ---------------------------------------------------------------------------
// (1) Kubernetes HPA cases.
//
// Sources: Kubernetes docs, "Horizontal Pod Autoscaling", section "Algorithm
// details": desiredReplicas = ceil(currentReplicas × currentMetricValue /
// desiredMetricValue), skipped while the ratio is within the tolerance
// (0.1 by default, `--horizontal-pod-autoscaler-tolerance`); the replica
// calculator (pkg/controller/podautoscaler/replica_calculator.go) applies
// the same rule. Rate limits and stabilisation: same page, "Default
// behavior" and "Stabilization window"; the horizontal controller
// (horizontal.go, calculateScaleUpLimitWithScalingRules /
// calculateScaleDownLimitWithBehaviors) keeps ceil(start × (1 + p/100)) or
// start + pods on the way up (the larger with selectPolicy Max) and
// ceil(start × (1 − p/100)) on the way down.
// ---------------------------------------------------------------------------

const SLOTS: u32 = 10;

/// The HPA's replica calculator for a utilisation metric.
fn hpa_desired(current: u32, utilisation: f64, target: f64, tolerance: f64) -> u32 {
    let ratio = utilisation / target;
    if (ratio - 1.0).abs() <= tolerance {
        current
    } else {
        (current as f64 * ratio).ceil() as u32
    }
}

/// The default scale-up limit per 15 s period: 100 % or 4 pods, the larger.
fn hpa_up_limit(current: u32) -> u32 {
    let by_percent = (current as f64 * 2.0).ceil() as u32;
    by_percent.max(current + 4)
}

/// A scale-down percent policy: keep at least ceil(current × (1 − p/100)).
fn hpa_down_limit(current: u32, percent: f64) -> u32 {
    (current as f64 * (1.0 - percent / 100.0)).ceil() as u32
}

/// What the scaler sees when every one of `current` ready pods runs at
/// `utilisation` (demand in slots, as the utilisation metric converts it).
fn seen(current: u32, utilisation: f64) -> Observation {
    Observation {
        current,
        ready: current,
        calls_per_worker: SLOTS,
        demand: utilisation * current as f64 * SLOTS as f64,
        active: true,
        min: 1,
    }
}

fn hpa_scenario(target: f64, extra: &str) -> Scenario {
    load(&scenario(10, "1.0", &format!("preset = \"k8s-hpa\"\ntarget = {target}\nmin = 1\nmax = 1000\n{extra}"), ""))
}

#[test]
fn hpa_replica_calculator_table() {
    // (current, utilisation, target, scale-down percent limit, stabilisation off)
    let cases: &[(u32, f64, f64, Option<f64>)] = &[
        (10, 0.90, 0.5, None),       // ratio 1.8: up to 18
        (10, 0.54, 0.5, None),       // ratio 1.08: inside the tolerance, hold
        (10, 0.56, 0.5, None),       // ratio 1.12: outside, ceil(11.2) = 12
        (10, 0.46, 0.5, None),       // ratio 0.92: inside, hold
        (10, 0.44, 0.5, None),       // ratio 0.88: down to ceil(8.8) = 9
        (3, 0.80, 0.5, None),        // ceil(4.8) = 5
        (2, 1.00, 0.1, None),        // ratio 10: 20 wanted, the rate limit allows 6
        (10, 1.00, 0.1, None),       // 100 wanted, 100 % allows 20
        (10, 0.30, 0.5, None),       // down to 6 at once (100 % per period)
        (15, 0.10, 0.5, Some(10.0)), // 3 wanted; 10 % keeps ceil(13.5) = 14
        (5, 0.10, 0.5, Some(10.0)),  // 10 % of 5 keeps ceil(4.5) = 5: no change
    ];
    for &(current, util, target, down_pct) in cases {
        let extra = match down_pct {
            Some(p) => format!("scale_down_stabilization = \"0s\"\nmax_step_down_percent = {p}"),
            None => "scale_down_stabilization = \"0s\"".into(),
        };
        let sc = hpa_scenario(target, &extra);
        let mut scaler = Scaler::new(&sc.primary.autoscaler);
        let desired = hpa_desired(current, util, target, 0.1);
        let expected = if desired > current {
            desired.min(hpa_up_limit(current))
        } else {
            desired.max(down_pct.map_or(0, |p| hpa_down_limit(current, p)))
        };
        let got = scaler.evaluate(Tick::ZERO, &seen(current, util)).unwrap_or(current);
        assert_eq!(got, expected, "current {current}, utilisation {util}, target {target}, down limit {down_pct:?}");
    }
}

#[test]
fn hpa_scale_up_rate_limit_per_period() {
    // Saturated pods and a target of 0.1: each 15 s period the count grows
    // by the limit, never by the ratio (10×).
    let sc = hpa_scenario(0.1, "");
    let mut scaler = Scaler::new(&sc.primary.autoscaler);
    let mut current = 1;
    for k in 1..=6u64 {
        let want = hpa_desired(current, 1.0, 0.1, 0.1).min(1000);
        let expected = want.min(hpa_up_limit(current));
        let got = scaler.evaluate(Tick::from_secs(15 * k), &seen(current, 1.0)).unwrap_or(current);
        assert_eq!(got, expected, "period {k} from {current}");
        current = got;
    }
}

#[test]
fn hpa_stabilisation_window_holds_scale_down() {
    // The default 300 s scale-down window: a recommendation of 20 at 0 s
    // holds the pool at 20 until it leaves the window, then the highest
    // recommendation left (10) applies.
    let sc = hpa_scenario(0.5, "");
    let window: u64 = 300;
    let mut scaler = Scaler::new(&sc.primary.autoscaler);
    assert_eq!(scaler.evaluate(Tick::ZERO, &seen(20, 0.5)), None);
    let mut first_down = None;
    for k in 1..=30u64 {
        let t = 15 * k;
        if let Some(to) = scaler.evaluate(Tick::from_secs(t), &seen(20, 0.25)) {
            first_down = Some((t, to));
            break;
        }
    }
    // Recommendations older than now − window drop out (strictly after the
    // cutoff stay): the first tick at or after 0 + 300 s.
    let expected_at = window.div_ceil(15) * 15;
    assert_eq!(first_down, Some((expected_at, hpa_desired(20, 0.25, 0.5, 0.1))));
}

// ---------------------------------------------------------------------------
// (2) KEDA: "ScaledObject specification": pollingInterval 30 s drives
// 0 ↔ 1 (activation), cooldownPeriod 300 s counts from the last active
// trigger and applies to N → 0 only; 1 ↔ N is the HPA's at 15 s.
// ---------------------------------------------------------------------------

const POLL: u64 = 30;

/// A KEDA scenario; `queue` lets calls wait (the concurrency metric then
/// sees the backlog).
fn keda(start: u64, end: u64, per_s: f64, extra: &str, queue: bool) -> String {
    scenario(
        0,
        &format!(
            "[ {{ at = \"0s\", per_s = 0.0 }}, {{ at = \"{start}s\", per_s = {per_s} }}, {{ at = \"{end}s\", per_s = 0.0 }} ]"
        ),
        &format!("preset = \"keda\"\ntarget = 0.5\nmax = 1000\n{extra}"),
        if queue { "[admission]\nmax_wait = \"10m\"" } else { "" },
    )
}

#[test]
fn keda_activates_at_the_first_poll_after_the_load() {
    let (start, end) = (100, 400);
    let log = scale_log(&keda(start, end, 2.0, "", false));
    // At 2 calls/s the first call arrives within the 20 s before the next
    // poll with probability 1 − e^−40.
    let expected = start.div_ceil(POLL) * POLL;
    let first = &log[0];
    assert_eq!((secs(first), first.from, first.to, first.cause), (expected as f64, 0, 1, "activation"));
}

#[test]
fn keda_grows_one_to_n_at_the_hpa_pace() {
    // Demand far above capacity (20 calls/s of 20 s calls queue up): each
    // HPA sync (15 s) grows by its rate limit, max(100 %, 4 pods).
    // Workers start at once here (the preset's pod start would delay the
    // first ready worker past the first sync): this test is about the pace.
    let log = scale_log(&keda(100, 1200, 20.0, "provision_delay = \"0s\"", true));
    let activation = secs(&log[0]);
    let policy: Vec<&ScaleEvent> = log.iter().filter(|e| e.cause == "policy").take(4).collect();
    assert_eq!(policy.len(), 4, "{log:?}");
    let mut expected_at = activation + 15.0;
    let mut from = 1;
    for e in policy {
        assert_eq!(secs(e), expected_at, "{log:?}");
        assert_eq!((e.from, e.to), (from, hpa_up_limit(from)), "{log:?}");
        from = e.to;
        expected_at += 15.0;
    }
}

#[test]
fn keda_returns_to_zero_only_after_the_cooldown_since_the_last_active_trigger() {
    let (start, end, duration) = (100u64, 400u64, 20u64);
    // Stabilisation off, so the HPA brings N down to 1 as soon as the load
    // stops: the cooldown must not hold that back.
    let log = scale_log(&keda(start, end, 2.0, "scale_down_stabilization = \"0s\"", false));
    // The trigger is active at a poll that finds calls in the system or
    // arrivals since the previous poll. The last call arrives in
    // (end − 10 s, end] (probability 1 − e^−20), so the first poll at or
    // after `end` is active; calls never wait (no queue), so none is in
    // service at or after end + duration.
    let last_active = end.div_ceil(POLL).max((end + duration - 1) / POLL) * POLL;
    let expected = (last_active + 300).div_ceil(POLL) * POLL;
    let to_zero: Vec<&ScaleEvent> = log.iter().filter(|e| e.to == 0).collect();
    assert_eq!(to_zero.len(), 1, "{log:?}");
    assert_eq!((secs(to_zero[0]), to_zero[0].cause), (expected as f64, "cooldown"), "{log:?}");
    let hpa_down = log.iter().find(|e| e.cause == "policy" && e.to < e.from && e.to >= 1);
    assert!(hpa_down.is_some_and(|e| secs(e) < (end + duration + 30) as f64), "1 <-> N is not held: {log:?}");
}

#[test]
fn keda_single_loop_is_still_reachable_by_fields() {
    // polling_interval = 0, interval 30 s and a 300 s scale-down cooldown:
    // the preset's former behaviour (one loop, cooldown on every change).
    let log = scale_log(&keda(
        100,
        400,
        2.0,
        "polling_interval = \"0s\"\ninterval = \"30s\"\nscale_down_cooldown = \"300s\"",
        false,
    ));
    assert!(log.iter().all(|e| e.cause == "policy"), "{log:?}");
    assert!(log.iter().all(|e| secs(e) as u64 % 30 == 0), "{log:?}");
}

// ---------------------------------------------------------------------------
// (3) The metric pipeline.
// ---------------------------------------------------------------------------

#[test]
fn first_scale_up_lands_where_scrape_window_and_lag_put_it() {
    let (step, interval, scrape, window, lag) = (300u64, 15u64, 10u64, 30u64, 25u64);
    let text = |pipeline: &str| {
        scenario(
            2,
            &format!("[ {{ at = \"0s\", per_s = 0.0 }}, {{ at = \"{step}s\", per_s = 20.0 }} ]"),
            &format!(
                "policy = \"target-utilization\"\ntarget = 0.5\nmin = 2\nmax = 1000\ninterval = \"{interval}s\"\n{pipeline}"
            ),
            "[admission]\nmax_wait = \"10m\"",
        )
    };
    // Scrapes at multiples of 10 s; the first one after the step sees the
    // queue (arrivals at 20/s: one within 10 s with probability 1 − e^−200),
    // it becomes visible `lag` later and the scaler acts at its next tick.
    // Its window then holds that sample and earlier zeros: mean ≥ 1/3 of
    // ~200 calls, far above the 10 slots' worth that hold 2 workers.
    let first_scrape = (step / scrape + 1) * scrape;
    let expected = (first_scrape + lag).div_ceil(interval) * interval;
    let log = scale_log(&text(&format!(
        "metric = \"concurrency\"\nscrape_interval = \"{scrape}s\"\nwindow = \"{window}s\"\nmetric_lag = \"{lag}s\""
    )));
    assert_eq!(secs(&log[0]), expected as f64, "{log:?}");
    // Without the pipeline: the first tick after the step.
    let log = scale_log(&text(""));
    assert_eq!(secs(&log[0]), ((step / interval + 1) * interval) as f64, "{log:?}");
}

#[test]
fn utilisation_saturates_at_one_and_arrival_rate_sees_every_call() {
    let (workers, target, duration_s, tick) = (2u32, 0.5, 20.0, 15.0);
    let first_decision = |metric: &str, per_s: f64| {
        let log = scale_log(&scenario(
            workers,
            &format!("{per_s}"),
            &format!(
                "policy = \"target-utilization\"\ntarget = {target}\nmin = 2\nmax = 100000\nmetric = \"{metric}\"\nscale_down_stabilization = \"0s\""
            ),
            "",
        ));
        assert_eq!(secs(&log[0]), tick, "{log:?}");
        log[0].to
    };
    for per_s in [20.0, 40.0] {
        // Every slot busy, most calls turned away: utilisation 1.0 whatever
        // the load, so ceil(workers × 1.0 / target).
        assert_eq!(first_decision("utilisation", per_s), hpa_desired(workers, 1.0, target, 0.0), "{per_s}/s");
        // The arrival rate counts every call: N ~ Poisson(λ × 15 s) calls in
        // the first tick, seen as N/15 per second, i.e. N/15 × 20 s of work:
        // ceil(that / (10 × target)) workers. Four standard errors plus the
        // ceiling's one.
        let mean = per_s * duration_s / (SLOTS as f64 * target);
        let se = (per_s * tick).sqrt() / tick * duration_s / (SLOTS as f64 * target);
        let got = first_decision("arrival_rate", per_s) as f64;
        assert!((got - mean).abs() <= 4.0 * se + 1.0, "{per_s}/s: {got} workers, expected {mean} ± {}", 4.0 * se);
    }
}

// ---------------------------------------------------------------------------
// (4) Bad input: exit 2 naming the field.
// ---------------------------------------------------------------------------

#[test]
fn bad_scaler_fields_exit_2_naming_the_field() {
    let base = "policy = \"target-utilization\"\ntarget = 0.5\nmax = 10";
    let cases = [
        ("metric = 3", "metric"),
        ("metric = \"cpu\"", "metric"),
        ("metric_lag = -5", "metric_lag"),
        ("metric_lag = \"soon\"", "metric_lag"),
        ("scrape_interval = \"0s\"", "scrape_interval"),
        ("scrape_interval = true", "scrape_interval"),
        ("warmup = -1", "warmup"),
        ("polling_interval = \"30s\"\nmin = 1", "polling_interval"),
        ("cooldown_period = \"5m\"", "cooldown_period"),
        ("cooldown_period = [1]", "cooldown_period"),
    ];
    let dir = tempfile::TempDir::new().unwrap();
    for (field, name) in cases {
        let text = scenario(1, "1.0", &format!("{base}\n{field}"), "");
        std::fs::write(dir.path().join("bad.toml"), &text).unwrap();
        let args = ["validate", "bad.toml"];
        let out = surgesim(dir.path(), &args);
        assert_exit(&args, &out, 2);
        let err = stderr(&out);
        assert!(err.contains(name), "{field}: the message does not name {name}: {err}");
    }
}
