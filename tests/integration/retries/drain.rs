//! Calls a drain cuts off, retried (`on = ["drain_timeout"]`): the cut-off
//! is a failed attempt, the call starts over, and fewer calls end cut off
//! than when nobody redials, on the same seed.

use surgesim::scenario::clients::DRAIN_TIMEOUT;

use super::metastable::conserved;
use super::{runs, scenario, values};

/// Single-call workers scaled out on a surge and in again by a step
/// policy that removes the newest workers, busy or not, with a 5 s drain
/// grace: calls of 2 minutes on average are cut off by the dozen.
/// `clients`: a `[clients]` table, or nothing.
fn cut_off(clients: &str) -> String {
    format!(
        r#"
name = "drain-retry"
seed = 7
duration = "40m"
bin = "1m"
[arrivals]
kind = "poisson"
rate = [ {{ at = "0m", per_s = 0.2 }}, {{ at = "5m", per_s = 0.6 }}, {{ at = "15m", per_s = 0.2 }}, {{ at = "25m", per_s = 0.6 }}, {{ at = "32m", per_s = 0.2 }} ]
[[classes]]
name = "all"
share = 1.0
duration = {{ dist = "exponential", mean = "2m" }}
[primary]
workers = 30
calls_per_worker = 1
scale_down_victim = "newest"
drain_grace = "5s"
[primary.autoscaler]
policy = "step"
steps = [ {{ above = 0.8, add = 10 }} ]
scale_in = {{ below = 0.6, remove = 10 }}
interval = "30s"
min = 10
max = 90
provision_delay = "20s"
{clients}
"#
    )
}

const RETRY: &str = r#"
[clients]
retry = { attempts = 4, on = ["worker_not_available", "drain_timeout"], delay = "3s" }
"#;

const NO_DRAIN_RETRY: &str = r#"
[clients]
retry = { attempts = 4, on = ["worker_not_available"], delay = "3s" }
"#;

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

#[test]
fn cut_off_calls_retry_and_are_conserved() {
    let reps = 4;
    let retry = runs(&scenario(&cut_off(RETRY)), reps);
    conserved(&retry, "drain retry");
    let cut = values(&retry, "failed_attempts_drain_timeout");
    assert_eq!(cut.len(), reps as usize, "the metric applies where a drain cuts calls off");
    assert!(mean(&cut) >= 20.0, "the case cuts calls off: {cut:?}");
    for r in &retry.runs {
        let c = &r.totals;
        // Every distinct call ends once or is still in flight.
        let retrying = r.retries.as_ref().unwrap().retrying_end;
        let ends = c.served_primary + c.served_fallback + c.failed() + r.end.waiting_end + retrying;
        assert_eq!(c.arrived, ends, "run {}: calls", r.run);
        assert!(c.attempts > c.arrived, "run {}: cut-off calls redialled", r.run);
        // A cut-off call not retried (out of attempts) fails as drain_timeout;
        // every cut-off is a failed attempt.
        assert!(c.drain_timeout <= c.failed_attempts[DRAIN_TIMEOUT], "run {}", r.run);
    }
    let attempts = values(&retry, "attempts");
    let (arrived, retries) = (values(&retry, "arrived"), values(&retry, "retries"));
    for ((a, n), k) in attempts.iter().zip(&arrived).zip(&retries) {
        assert_eq!(*a, n + k, "attempts = arrived + retries");
    }

    // The same seed (common random numbers), cut-offs not retried (`on`
    // without drain_timeout): a cut-off ends its call, as without clients,
    // and many more calls end cut off.
    let with = values(&retry, "failed_drain_timeout");
    let not_on = runs(&scenario(&cut_off(NO_DRAIN_RETRY)), reps);
    conserved(&not_on, "drain not retried");
    assert!(values(&not_on, "failed_attempts_drain_timeout").is_empty(), "a cut-off is no attempt here");
    let without = values(&not_on, "failed_drain_timeout");
    assert!(mean(&with) < 0.5 * mean(&without), "retried, fewer calls end cut off: {with:?} against {without:?}");
    // Nobody redials at all (no [clients]).
    let none = values(&runs(&scenario(&cut_off("")), reps), "failed_drain_timeout");
    assert!(mean(&with) < 0.5 * mean(&none), "retried, fewer calls end cut off: {with:?} against {none:?}");
}

#[test]
fn cut_offs_are_attempts_only_where_they_are_retried() {
    // Unlimited grace: nothing is ever cut off, so there is nothing to retry.
    let text = cut_off(RETRY).replace("drain_grace = \"5s\"", "drain_grace = \"unlimited\"");
    let err = surgesim::scenario::load_str(&text, "t.toml", std::path::Path::new("."), &[]).unwrap_err().to_string();
    assert!(err.contains("clients.retry.on") && err.contains("drain_timeout"), "{err}");
    // Retries on other reasons only: no failed_attempts_drain_timeout
    // metric, with a drain that cuts calls off (failed_drain_timeout) or not.
    for (grace, cut) in [("unlimited", false), ("5s", true)] {
        let text = cut_off(NO_DRAIN_RETRY).replace("drain_grace = \"5s\"", &format!("drain_grace = {grace:?}"));
        let agg = runs(&scenario(&text), 1);
        let names: Vec<String> = agg.runs[0].metrics(&agg.class_names).into_iter().map(|(k, _)| k).collect();
        assert!(!names.iter().any(|k| k == "failed_attempts_drain_timeout"), "grace {grace}");
        assert_eq!(names.iter().any(|k| k == "failed_drain_timeout"), cut, "grace {grace}");
    }
}

#[test]
fn a_retried_cut_off_is_answered_once_for_the_service_levels() {
    // Calls wait up to a minute; a cut-off call answered again counts one answer.
    let clients = r#"
[admission]
max_wait = "1m"
[report]
service_level_thresholds = ["5s"]
[clients]
retry = { attempts = 4, on = ["abandoned", "drain_timeout"], delay = "3s" }
"#;
    let agg = runs(&scenario(&cut_off(clients)), 3);
    conserved(&agg, "drain retry with a queue");
    assert!(mean(&values(&agg, "failed_attempts_drain_timeout")) >= 20.0);
    for r in &agg.runs {
        for (what, c) in [("totals", &r.totals)].into_iter().chain(r.bins.iter().map(|b| ("bin", &b.counts))) {
            let answered = c.served_primary + c.served_fallback + c.drain_timeout;
            assert!(c.answered_within[0] <= answered, "run {} {what}: {c:?}", r.run);
            assert!(c.waited <= answered + c.abandoned, "run {} {what}: {c:?}", r.run);
        }
        let sl = values(&agg, "service_level_5s");
        assert!(sl.iter().all(|&x| (0.0..=1.0).contains(&x)), "{sl:?}");
    }
}
