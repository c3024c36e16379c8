//! The canary and its actions (stop routing, fix the fallback, raise the
//! primary floor), through the library.

use surgesim::observe::FailReason;
use surgesim::scenario::Scenario;

use super::replay::{decisions, Decision};
use super::{failed_by, load_text, metric, run0, run_logged};

/// A two-class scenario (eligible "short", ineligible "long") with a small
/// fixed primary, a fallback with `health`, a canary every `interval` and
/// `extra` TOML lines in `[fallback.canary]`.
fn canary_scenario(health: &str, interval: &str, canary_extra: &str, top_extra: &str) -> Scenario {
    load_text(&format!(
        r#"
name = "canary"
seed = 77
duration = "20m"
bin = "30s"
{top_extra}
[arrivals]
kind = "poisson"
rate = 4.0
[[classes]]
name = "short"
share = 0.5
duration = "20s"
fallback_eligible = true
[[classes]]
name = "long"
share = 0.5
duration = "20s"
[primary]
workers = 3
calls_per_worker = 10
[primary.autoscaler]
provision_delay = "90s"
[fallback]
max_concurrency = 200
cold_start = "1s"
health = {health}
[fallback.canary]
interval = "{interval}"
{canary_extra}
"#
    ))
}

/// The canary alerts within one interval of the break: detection_time_s
/// in [break, break + interval], for breaks on and off the probe grid; with
/// failures_to_alert = n it takes n consecutive failed probes.
#[test]
fn canary_detects_within_one_interval_of_the_break() {
    for (brk, interval) in [(300, 60), (301, 60), (359, 60), (100, 45), (37, 300), (600, 7)] {
        let sc = canary_scenario(&format!("{{ broken_from = \"{brk}s\" }}"), &format!("{interval}s"), "", "");
        let r = run0(&sc);
        let det = r.detection_s.unwrap_or_else(|| panic!("break at {brk} s, interval {interval} s: not detected"));
        let (b, i) = (brk as f64, interval as f64);
        assert!(det >= b && det <= b + i, "break {b} s, interval {i} s: detected at {det} s");
        assert_eq!(metric(&sc, &r, "detection_latency_s"), det - b);
    }
    let sc = canary_scenario("{ broken_from = \"301s\" }", "60s", "failures_to_alert = 3", "");
    let det = run0(&sc).detection_s.unwrap();
    assert!((301.0 + 120.0..=301.0 + 180.0).contains(&det), "3 failed probes in a row: detected at {det} s");
    let healthy = run0(&canary_scenario("\"healthy\"", "60s", "", ""));
    assert_eq!(healthy.detection_s, None, "a healthy fallback raises no alert");
}

/// The canary's offset places the probes relative to clock_start, like
/// every other scenario time, also with a warm-up.
#[test]
fn canary_offset_is_relative_to_clock_start_with_a_warmup() {
    let sc = canary_scenario("{ broken_from = \"60s\" }", "5m", "offset = \"30s\"", "warmup = \"7m\"");
    let det = run0(&sc).detection_s.unwrap();
    assert_eq!(det, 330.0, "probes at 30 s + k·5 m: the first after the break at 60 s is 330 s");
}

/// on_detect stop_routing: from the action on, no call is routed to the
/// fallback (no served_fallback, no fallback_start_failed); eligible
/// overflow fails with worker_not_available instead. Here the fallback
/// would have recovered at 7 m, so without the action calls would be
/// served by it again.
#[test]
fn canary_stop_routing_takes_effect_after_its_delay() {
    let sc = canary_scenario(
        "{ broken_from = \"5m\", broken_until = \"7m\" }",
        "60s",
        "on_detect = { after = \"60s\", stop_routing = true }",
        "",
    );
    let r = run_logged(&sc);
    assert_eq!(r.detection_s, Some(300.0));
    let action = 360.0;
    for (i, b) in r.bins.iter().enumerate() {
        let t0 = i as f64 * 30.0;
        if t0 >= action {
            assert_eq!(b.counts.served_fallback, 0, "bin at {t0} s: routed to the fallback after stop_routing");
            assert_eq!(failed_by(&b.counts, FailReason::FallbackStartFailed), 0);
        }
    }
    assert!(r.bins[..10].iter().map(|b| b.counts.served_fallback).sum::<u64>() > 0, "served before the break");
    for f in r.end.failure_log.as_ref().unwrap() {
        let t = f.at.as_secs_f64();
        if f.reason == FailReason::FallbackStartFailed {
            assert!((300.0..action).contains(&t), "start failure at {t} s, outside [break, action)");
        }
    }
    let late_eligible_wna = r
        .end
        .failure_log
        .as_ref()
        .unwrap()
        .iter()
        .filter(|f| f.class == 0 && f.reason == FailReason::WorkerNotAvailable)
        .inspect(|f| assert!(f.at.as_secs_f64() >= action, "eligible call failed unrouted before the action: {f:?}"))
        .count();
    assert!(late_eligible_wna > 0, "after stop_routing, eligible overflow fails with worker_not_available");
    assert!(r.totals.failed_fallback_eligible > failed_by(&r.totals, FailReason::FallbackStartFailed));
    // Without the action the recovered fallback serves again after 7 m.
    let control = run0(&canary_scenario("{ broken_from = \"5m\", broken_until = \"7m\" }", "60s", "", ""));
    assert!(control.bins[14..].iter().map(|b| b.counts.served_fallback).sum::<u64>() > 0);
}

/// on_detect fix_fallback: from the action on, no start fails; here on a
/// degraded fallback (p = 0.5), whose failures would otherwise go on.
#[test]
fn canary_fix_fallback_ends_start_failures_after_its_delay() {
    let sc = canary_scenario("{ degraded = 0.5 }", "60s", "on_detect = { after = \"2m\", fix_fallback = true }", "");
    let r = run_logged(&sc);
    let det = r.detection_s.expect("a degraded fallback fails probes");
    let fix = det + 120.0;
    assert!(fix < 1000.0, "the fix lands inside the run (detected at {det} s)");
    let fbsf: Vec<f64> = r
        .end
        .failure_log
        .as_ref()
        .unwrap()
        .iter()
        .filter(|f| f.reason == FailReason::FallbackStartFailed)
        .map(|f| f.at.as_secs_f64())
        .collect();
    assert!(!fbsf.is_empty());
    assert!(
        fbsf.iter().all(|&t| t < fix),
        "start failures after the fix at {fix} s: {:?}",
        fbsf.iter().rev().take(3).collect::<Vec<_>>()
    );
    let served_after: u64 =
        r.bins.iter().enumerate().filter(|(i, _)| *i as f64 * 30.0 >= fix).map(|(_, b)| b.counts.served_fallback).sum();
    assert!(served_after > 0, "the fixed fallback serves");
}

/// on_detect primary_min under a target-utilization policy: a decision
/// with cause on_detect at detection + after, to the new minimum, ready one
/// provisioning delay later; the policy never goes below it afterwards.
#[test]
fn canary_primary_min_raises_the_floor_of_a_scaling_policy() {
    let sc = load_text(
        r#"
name = "floor"
seed = 5
duration = "20m"
bin = "5s"
[arrivals]
kind = "poisson"
rate = 1.0
[[classes]]
name = "short"
share = 1.0
duration = "20s"
fallback_eligible = true
[primary]
workers = 4
calls_per_worker = 10
[primary.autoscaler]
policy = "target-utilization"
target = 0.7
provision_delay = "45s"
min = 2
max = 50
[fallback]
max_concurrency = 100
health = { broken_from = "4m10s" }
[fallback.canary]
interval = "1m"
on_detect = { after = "30s", primary_min = 20 }
"#,
    );
    let r = run0(&sc);
    assert_eq!(r.detection_s, Some(300.0), "first probe after the break at 250 s");
    let log = decisions(&r);
    let raise: Vec<&Decision> = log.iter().filter(|d| d.cause == "on_detect").collect();
    assert_eq!(raise.len(), 1, "{log:?}");
    let d = raise[0];
    assert_eq!((d.at, d.to), (330.0, 20), "{d:?}");
    assert_eq!(d.ready, Some((375.0, 375.0)));
    for e in log.iter().filter(|e| e.at > d.at) {
        assert!(e.to >= 20, "the policy went below the raised floor: {e:?}");
    }
    let before: Vec<&Decision> = log.iter().filter(|e| e.at < d.at).collect();
    assert!(before.iter().all(|e| e.to < 20), "the floor came from the action, not the load: {before:?}");
}
