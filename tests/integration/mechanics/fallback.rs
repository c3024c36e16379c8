//! Fallback health modes, its concurrency limit, cold starts and idle
//! timeouts, through the library.

use surgesim::experiment::{self, Stat};
use surgesim::model::RunOptions;
use surgesim::observe::FailReason;

use super::{check_z, failed_by, fallback_only, load_mech, metric, run0, run_logged, EPS};
use crate::common::erlang_b;

/// Broken fallback: every eligible call that found the primary full fails
/// with fallback_start_failed, nothing is served by the fallback, and the
/// ineligible class is untouched by it (worker_not_available only).
#[test]
fn broken_fallback_fails_every_eligible_overflow_with_fallback_start_failed() {
    let sc = load_mech("fallback-degraded", &["fallback.health=broken"]);
    let r = run_logged(&sc);
    let (e, o) = (&r.classes[0], &r.classes[1]);
    assert_eq!(r.totals.served_fallback, 0);
    assert!(failed_by(e, FailReason::FallbackStartFailed) > 100, "the primary overflows: {e:?}");
    assert_eq!(e.failed(), failed_by(e, FailReason::FallbackStartFailed), "every eligible failure: {e:?}");
    assert_eq!(e.arrived, e.served_primary + failed_by(e, FailReason::FallbackStartFailed), "{e:?}");
    assert_eq!(o.failed(), failed_by(o, FailReason::WorkerNotAvailable), "{o:?}");
    assert!(o.failed() > 0);
    let log = r.end.failure_log.as_ref().unwrap();
    for f in log.iter().filter(|f| f.reason == FailReason::FallbackStartFailed) {
        assert_eq!(f.busy_primary, f.capacity_primary, "a start failure only after the primary overflowed: {f:?}");
        assert_eq!(f.class, 0);
    }
}

/// Healthy fallback with ample concurrency: no eligible call fails, and
/// every eligible overflow is served by the fallback.
#[test]
fn healthy_fallback_with_ample_concurrency_fails_no_eligible_call() {
    let sc = load_mech("fallback-degraded", &["fallback.health=healthy"]);
    let r = run0(&sc);
    let (e, o) = (&r.classes[0], &r.classes[1]);
    assert_eq!(e.failed(), 0, "{e:?}");
    assert_eq!(r.totals.failed_fallback_eligible, 0);
    assert!(e.served_fallback > 1000, "the fallback carries the overflow: {e:?}");
    assert_eq!(e.arrived, e.served_primary + e.served_fallback);
    assert!(o.failed() > 0, "the ineligible class still overflows: {o:?}");
}

/// Degraded fallback: each start fails with probability p, independently;
/// the fraction of failed starts among fallback invocations (served +
/// failed starts) is p within 3 binomial standard errors.
#[test]
fn degraded_fallback_fails_a_fraction_p_of_starts() {
    for p in [0.05, 0.25, 0.5, 0.9] {
        let sc =
            fallback_only(2.0, "10s", "1h", "1m", &format!("max_concurrency = 1000\nhealth = {{ degraded = {p} }}"));
        let r = run0(&sc);
        let failed = failed_by(&r.totals, FailReason::FallbackStartFailed) as f64;
        let n = r.totals.served_fallback as f64 + failed;
        assert_eq!(n, metric(&sc, &r, "fallback_invocations"));
        assert_eq!(r.totals.arrived as f64, n, "every call invokes the fallback once");
        let se = (p * (1.0 - p) / n).sqrt();
        let frac = failed / n;
        check_z(&format!("degraded p = {p}: failed starts / {n} invocations"), frac, p, se, 0.0);
    }
}

/// `{ degraded = 0 }` never fails and `{ degraded = 1 }` always does.
#[test]
fn degraded_extremes_are_healthy_and_broken() {
    let ok = run0(&fallback_only(2.0, "10s", "10m", "1m", "max_concurrency = 1000\nhealth = { degraded = 0.0 }"));
    assert_eq!(ok.totals.failed(), 0);
    let bad = run0(&fallback_only(2.0, "10s", "10m", "1m", "max_concurrency = 1000\nhealth = { degraded = 1.0 }"));
    assert_eq!(bad.totals.served_fallback, 0);
    assert_eq!(failed_by(&bad.totals, FailReason::FallbackStartFailed), bad.totals.arrived);
}

// ---------------------------------------------------------------------------
// Fallback capacity: concurrency limit, cold start, idle timeout (library)
// ---------------------------------------------------------------------------

/// At max_concurrency, further starts are throttled (fallback_throttled):
/// the fallback's busy level never exceeds the limit, a throttled call
/// found it exactly at the limit, and with no cold start the fallback is
/// an M/D/c/c loss system whose blocking is Erlang B (mean over 20
/// replications within 3 SE of the replications).
#[test]
fn fallback_concurrency_limit_throttles_at_the_limit() {
    let (c, rate, call) = (5_u64, 0.5, 10.0);
    let sc = fallback_only(rate, "10s", "30m", "1m", &format!("max_concurrency = {c}\ncold_start = \"0s\""));
    let r = run_logged(&sc);
    let throttled = failed_by(&r.totals, FailReason::FallbackThrottled);
    assert!(throttled > 0);
    assert_eq!(r.totals.arrived, r.totals.served_fallback + throttled, "a throttled call is the only failure");
    for f in r.end.failure_log.as_ref().unwrap() {
        assert_eq!(f.reason, FailReason::FallbackThrottled);
        assert_eq!(f.fallback_busy as u64, c, "throttled below the limit: {f:?}");
    }
    for (i, b) in r.bins.iter().enumerate() {
        let avg = b.areas.fallback_busy as f64 / 60e6;
        assert!(avg <= c as f64 + EPS, "bin {i}: fallback busy {avg} above max_concurrency {c}");
    }
    let agg = experiment::run(&sc, 20, RunOptions::default());
    let rates: Vec<f64> = agg.runs.iter().map(|r| r.totals.failed() as f64 / r.totals.arrived as f64).collect();
    let s = Stat::of(&rates);
    let exact = erlang_b(c, rate * call);
    let se = s.sd / (rates.len() as f64).sqrt();
    check_z("fallback blocking at max_concurrency 5, vs Erlang B(5, 5)", s.mean, exact, se, 0.0);
}

/// The cold start is paid by the call: with `idle_timeout = 0s` every
/// start is cold and every fallback call waits exactly the 2 s cold start
/// (the mean wait is exactly 2 s), and the fallback is busy 2 s longer per
/// call than without a cold start (same calls: common random numbers).
#[test]
fn cold_start_is_paid_by_the_call() {
    let cold =
        fallback_only(1.0, "10s", "30m", "1m", "max_concurrency = 1000\ncold_start = \"2s\"\nidle_timeout = \"0s\"");
    let r = run0(&cold);
    let n = r.totals.served_fallback;
    assert!(n > 1000);
    assert_eq!(r.end.fallback_cold_starts, n, "idle_timeout 0 s: every start is cold");
    assert!((r.wait_mean_s - 2.0).abs() < 1e-9, "mean wait {} s, cold start 2 s", r.wait_mean_s);
    assert!(
        (r.wait_p50_s - 2.0).abs() < 0.01 && (r.wait_max_s - 2.0).abs() < 0.01,
        "{} {}",
        r.wait_p50_s,
        r.wait_max_s
    );
    let warm =
        fallback_only(1.0, "10s", "30m", "1m", "max_concurrency = 1000\ncold_start = \"0s\"\nidle_timeout = \"0s\"");
    let r0 = run0(&warm);
    assert_eq!(r0.totals.arrived, r.totals.arrived, "common random numbers: the same calls");
    let extra = metric(&cold, &r, "fallback_seconds") - metric(&warm, &r0, "fallback_seconds");
    // Calls still running at the end are cut off, each losing at most 2 s.
    let lo = 2.0 * (n as f64) - 2.0 * r.end.in_service_end as f64;
    assert!(
        extra <= 2.0 * n as f64 + 1e-6 && extra >= lo - 1e-6,
        "extra busy time {extra} s for {n} cold starts of 2 s"
    );
}

/// Warm reuse vs cold after expiry. Poisson arrivals at λ = 0.1/s of
/// 10 ms calls (so calls almost never overlap, λ·d = 0.001) and no cold
/// start delay: a call finds a warm instance iff the previous call's
/// instance went idle less than `idle_timeout` (τ) ago, i.e. iff the gap
/// since the previous arrival is below τ + d. The gaps are independent
/// exponentials, so cold starts (after the first call) are Bernoulli with
/// p = exp(−λ(τ + d)), up to O(λd) from overlapping calls; the fraction is
/// checked within 3 binomial SE.
#[test]
fn idle_timeout_expires_warm_instances() {
    let (lambda, d) = (0.1_f64, 0.01_f64);
    for tau in [0.0, 5.0, 10.0, 30.0] {
        let sc = fallback_only(
            lambda,
            "10ms",
            "3h",
            "10m",
            &format!("max_concurrency = 100\ncold_start = \"0s\"\nidle_timeout = \"{tau}s\""),
        );
        let r = run0(&sc);
        let n = r.totals.served_fallback as f64;
        assert_eq!(n, r.totals.arrived as f64);
        let cold = metric(&sc, &r, "fallback_cold_starts");
        let p = (-lambda * (tau + d)).exp();
        if tau == 0.0 {
            assert_eq!(cold, n, "idle_timeout 0: no instance is ever reused");
            continue;
        }
        let frac = (cold - 1.0) / (n - 1.0);
        let se = (p * (1.0 - p) / (n - 1.0)).sqrt();
        check_z(&format!("idle_timeout {tau} s: cold fraction vs exp(−λ(τ+d))"), frac, p, se, lambda * d);
    }
}
