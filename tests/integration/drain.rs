//! Scale-down victims and drain grace, failing fallback starts that hold a
//! slot, and the waiting queue's limits (`max_wait = "unlimited"`, patience
//! together with max_wait), through the library API and the binary.
//!
//! The deterministic cases use trace arrivals with fixed durations, so each
//! expected count follows from the documented rules alone; the statistical
//! case compares with the M/M/c+G formulas (Zeltyn & Mandelbaum 2005), where
//! G, the time a caller may wait, is min(Exp(θ), max_wait).

use std::fs;
use std::path::Path;

use surgesim::experiment::{self, Aggregate, Stat};
use surgesim::model::RunOptions;
use surgesim::observe::{Counts, FailReason};
use surgesim::scenario;
use tempfile::TempDir;

use crate::common::{assert_exit, entries, fixture, read, run_ok, stderr, surgesim};

/// Loads `toml` with `calls.csv` (`arrival,duration` rows) beside it and
/// returns the totals of each of `runs` replications.
fn run_trace(toml: &str, calls: &str, runs: u64) -> Vec<Counts> {
    let dir = TempDir::new().unwrap();
    fs::write(dir.path().join("calls.csv"), format!("arrival,duration\n{calls}")).unwrap();
    let sc = scenario::load_str(toml, "drain.toml", dir.path(), &[]).unwrap_or_else(|e| panic!("{e}\n---\n{toml}"));
    experiment::run(&sc, runs, RunOptions::default()).runs.into_iter().map(|r| r.totals).collect()
}

// ---------------------------------------------------------------------------
// Victims and drain grace.
// ---------------------------------------------------------------------------

/// Four single-slot workers, two calls of 1000 s at t = 0 and 1 s, and a
/// step policy that sees utilisation 2/4 = 0.5 < 0.9 at its first
/// evaluation (t = 10 s) and removes 3 workers (min 1).
///
/// Which workers hold the calls: the four start ready in id order, and
/// admission uses the most recently freed worker first, so the calls land
/// on workers 3 and 2 (the most recently ready). Hence:
/// - `newest` removes workers 3, 2, 1 (the most recently ready first, as a
///   ReplicaSet does): both calls are on removed workers;
/// - `least_loaded` removes 0 and 1 (idle), then 2 (one call, lower id than
///   3): one call is on a removed worker.
///
/// With a 30 s grace the calls on removed workers are cut off at t = 40 s
/// (long before their 1000 s end); with unlimited grace none is.
fn drain_case(victim: &str, grace: &str) -> Counts {
    drain_case_for(victim, grace, 1000)
}

/// [`drain_case`] with calls of `secs` seconds.
fn drain_case_for(victim: &str, grace: &str, secs: u32) -> Counts {
    let toml = format!(
        "name = \"drain\"\nseed = 1\nduration = \"10m\"\nbin = \"1m\"\n\
         [arrivals]\nkind = \"trace\"\nfile = \"calls.csv\"\n\
         [[classes]]\nname = \"call\"\nshare = 1.0\nduration = \"1000s\"\n\
         [primary]\nworkers = 4\ncalls_per_worker = 1\nscale_down_victim = {victim:?}\ndrain_grace = {grace:?}\n\
         [primary.autoscaler]\npolicy = \"step\"\nsteps = [ {{ above = 0.99, add = 1 }} ]\n\
         scale_in = {{ below = 0.9, remove = 3 }}\ninterval = \"10s\"\nmin = 1\nmax = 4\n"
    );
    let mut runs = run_trace(&toml, &format!("0,{secs}\n1,{secs}\n"), 1);
    runs.pop().unwrap()
}

#[test]
fn calls_outliving_the_drain_grace_fail_as_drain_timeout() {
    for (victim, grace, cut) in
        [("newest", "30s", 2), ("least_loaded", "30s", 1), ("least_loaded", "unlimited", 0), ("newest", "unlimited", 0)]
    {
        let t = drain_case(victim, grace);
        let what = format!("victim {victim}, grace {grace}");
        assert_eq!(t.arrived, 2, "{what}");
        assert_eq!(t.drain_timeout, cut, "{what}: calls cut off");
        assert_eq!(t.served_primary, 2 - cut, "{what}: a cut-off call is not served");
        assert_eq!(t.failed(), cut, "{what}: cut-off calls count as failed");
        assert_eq!(FailReason::DrainTimeout.name(), "drain_timeout");
    }
}

#[test]
fn a_grace_longer_than_the_calls_cuts_nothing() {
    // Calls of 100 s end at 100 s and 101 s; the workers were removed at 10 s.
    assert_eq!(drain_case_for("newest", "95s", 100).drain_timeout, 0);
    assert_eq!(
        drain_case_for("newest", "90.5s", 100).drain_timeout,
        1,
        "only the call ending at 101 s outlives 10 + 90.5 s"
    );
}

// ---------------------------------------------------------------------------
// Failing fallback starts.
// ---------------------------------------------------------------------------

/// One primary slot taken for the whole run by the call at t = 0; then
/// eligible calls at 1, 2, 3, 4 and 12.5 s reach a broken fallback with
/// max_concurrency 2 and no waiting. With `start_failure_latency = 10s` the
/// starts at 1 and 2 s hold both slots until 11 and 12 s: the calls at 3 and
/// 4 s are throttled, and the one at 12.5 s finds a slot and fails too:
/// 3 start failures and 2 throttled. Without it every start fails at once
/// and holds nothing: 5 start failures, none throttled.
fn failing_start_case(latency: Option<&str>) -> Counts {
    let extra = latency.map_or(String::new(), |l| format!("start_failure_latency = {l:?}\n"));
    let toml = format!(
        "name = \"failing-start\"\nseed = 1\nduration = \"1m\"\nbin = \"10s\"\n\
         [arrivals]\nkind = \"trace\"\nfile = \"calls.csv\"\n\
         [[classes]]\nname = \"call\"\nshare = 1.0\nduration = \"30s\"\nfallback_eligible = true\n\
         [primary]\nworkers = 1\n\
         [fallback]\nmax_concurrency = 2\nhealth = \"broken\"\n{extra}"
    );
    run_trace(&toml, "0,1000\n1,30\n2,30\n3,30\n4,30\n12.5,30\n", 1).pop().unwrap()
}

#[test]
fn failing_starts_hold_concurrency_slots_for_their_latency() {
    let start_failed = FailReason::FallbackStartFailed as usize;
    let throttled = FailReason::FallbackThrottled as usize;
    let held = failing_start_case(Some("10s"));
    assert_eq!((held.failed_by[start_failed], held.failed_by[throttled]), (3, 2));
    let instant = failing_start_case(None);
    assert_eq!((instant.failed_by[start_failed], instant.failed_by[throttled]), (5, 0));
    for t in [&held, &instant] {
        assert_eq!((t.arrived, t.served_primary, t.served_fallback), (6, 1, 0));
    }
    // A start still failing when the run ends counts as failed.
    let late = failing_start_case(Some("5m"));
    assert_eq!((late.failed_by[start_failed], late.failed_by[throttled], late.failed()), (2, 3, 5));
}

// ---------------------------------------------------------------------------
// The waiting queue.
// ---------------------------------------------------------------------------

#[test]
fn an_unlimited_queue_equals_the_hundred_year_limit() {
    let sc = fixture("small.toml");
    let no_limit = ["--set", "admission.max_wait=unlimited", "--set", "arrivals.rate=9", "-r", "2"];
    let century = ["--set", "admission.max_wait=876000h", "--set", "arrivals.rate=9", "-r", "2"];
    let (_a, da) = run_ok(&sc, &no_limit);
    let (_b, db) = run_ok(&sc, &century);
    let s = crate::common::summary(&da);
    assert!(crate::common::total(&s, "served_primary") > 0.0);
    assert!(
        crate::common::num(&s, "metrics.wait_mean_s.mean") > 0.0,
        "calls must have waited for the case to mean something"
    );
    assert_eq!(entries(&da), entries(&db));
    for f in entries(&da) {
        if !f.starts_with('.') {
            assert!(read(&da, &f) == read(&db, &f), "{f} differs between max_wait = unlimited and 876000h");
        }
    }
}

/// E = Σ_{j<c} a^j/j! ÷ (a^{c−1}/(c−1)!), computed by the stable recursion
/// E_1 = 1, E_{k+1} = 1 + E_k·k/a.
fn e_term(c: u32, a: f64) -> f64 {
    let mut e = 1.0;
    for k in 1..c {
        e = 1.0 + e * k as f64 / a;
    }
    e
}

/// M/M/c+G with patience G = min(Exp(θ), d) (d = ∞: Erlang A): returns
/// (P(abandon), P(V > d)) from J = ∫₀^∞ exp(λH(x) − cμx) dx, H(x) =
/// ∫₀^x P(G > u) du: P(Ab) = (1 + (λ − cμ)J)/(E + λJ), and the offered
/// wait V has density λ·exp(λH(x) − cμx)/(E + λJ) on x > 0 (Zeltyn &
/// Mandelbaum, Queueing Systems 51, 2005).
fn mmc_g(c: u32, lambda: f64, mu: f64, theta: f64, d: f64) -> (f64, f64) {
    let h = |x: f64| (1.0 - (-theta * x.min(d)).exp()) / theta;
    let f = |x: f64| (lambda * h(x) - c as f64 * mu * x).exp();
    // Simpson on [0, top] with the tail beyond top in closed form (H is
    // constant beyond d; for d = ∞ the integrand is below e^{λ/θ − cμx}).
    let top = if d.is_finite() { d } else { 200.0 / (c as f64 * mu) + 50.0 / theta };
    let n = 200_000;
    let step = top / n as f64;
    let mut j = f(0.0) + f(top);
    for i in 1..n {
        j += f(i as f64 * step) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    j *= step / 3.0;
    if d.is_finite() {
        j += (lambda * h(d) - c as f64 * mu * d).exp() / (c as f64 * mu);
    }
    let e = e_term(c, lambda / mu);
    let tail = if d.is_finite() { (lambda * h(d) - c as f64 * mu * d).exp() / (c as f64 * mu) } else { 0.0 };
    ((1.0 + (lambda - c as f64 * mu) * j) / (e + lambda * j), lambda * tail / (e + lambda * j))
}

/// Erlang A by its birth-death chain: P(abandon) = θ·L_q/λ.
fn erlang_a_abandon(c: u32, lambda: f64, mu: f64, theta: f64) -> f64 {
    let mut p = vec![1.0f64];
    for n in 1..20_000usize {
        let death = n.min(c as usize) as f64 * mu + n.saturating_sub(c as usize) as f64 * theta;
        let next = p[n - 1] * lambda / death;
        p.push(next);
        if next < 1e-300 {
            break;
        }
    }
    let total: f64 = p.iter().sum();
    let lq: f64 = p.iter().enumerate().map(|(n, q)| n.saturating_sub(c as usize) as f64 * q).sum::<f64>() / total;
    theta * lq / lambda
}

#[test]
fn the_mmc_g_formula_agrees_with_the_birth_death_chain_and_erlang_b() {
    // Exponential patience, no limit: Erlang A.
    for (c, a, theta) in [(10, 11.0, 1.0 / 60.0), (5, 4.0, 1.0 / 10.0)] {
        let mu = 1.0 / 30.0;
        let (ab, _) = mmc_g(c, a * mu, mu, theta, f64::INFINITY);
        let chain = erlang_a_abandon(c, a * mu, mu, theta);
        assert!((ab - chain).abs() < 1e-6, "c = {c}, a = {a}: formula {ab} vs chain {chain}");
    }
    // A limit of ~0: nobody waits, Erlang B.
    let (ab, _) = mmc_g(10, 11.0 / 30.0, 1.0 / 30.0, 1.0 / 60.0, 1e-9);
    let b = crate::common::erlang_b(10, 11.0);
    assert!((ab - b).abs() < 1e-6, "formula {ab} vs Erlang B {b}");
}

/// Runs the Erlang A case with `max_wait`, 30 replications.
fn erlang_a_runs(max_wait: &str) -> Aggregate {
    let toml = format!(
        "name = \"erlang-a-limit\"\nseed = 7\nduration = \"20h\"\nwarmup = \"1h\"\nbin = \"1h\"\n\
         [arrivals]\nkind = \"poisson\"\nrate = {}\n\
         [[classes]]\nname = \"call\"\nshare = 1.0\nduration = {{ dist = \"exponential\", mean = \"30s\" }}\n\
         [primary]\nworkers = 10\n\
         [admission]\npatience = {{ dist = \"exponential\", mean = \"60s\" }}\nmax_wait = {max_wait:?}\n",
        11.0 / 30.0
    );
    let sc = scenario::load_str(&toml, "erlang-a.toml", Path::new("."), &[]).unwrap();
    experiment::run(&sc, 30, RunOptions::default())
}

fn abandon_fraction(agg: &Aggregate) -> (f64, f64) {
    let v: Vec<f64> = agg.runs.iter().map(|r| r.totals.abandoned as f64 / r.totals.arrived as f64).collect();
    let s = Stat::of(&v);
    (s.mean, s.sd / (s.n as f64).sqrt())
}

/// Patience Exp(mean 60 s) with max_wait 10 s on M/M/10 at 11 Erlang (30 s
/// calls): the limit binds for the callers still waiting after 10 s, which
/// the formula puts at P(V > 10 s)·e^{−10/60} ≈ 12 % of arrivals. Checked: the
/// fraction of arrivals that leave unserved (abandoned either way) against
/// M/M/c+G with G = min(Exp, 20 s), within 3.5 SE of the replications;
/// that it lies clearly above Erlang A's (the same callers, no limit),
/// which the simulation must also match; and that SE is small enough for
/// the two to be told apart.
#[test]
fn patience_with_a_max_wait_matches_mmc_g() {
    let (c, mu, theta, lambda) = (10, 1.0 / 30.0, 1.0 / 60.0, 11.0 / 30.0);
    let (exact_lim, v_over) = mmc_g(c, lambda, mu, theta, 10.0);
    let exact_a = erlang_a_abandon(c, lambda, mu, theta);
    // The limit binds when the offered wait exceeds 10 s and the caller would
    // still be holding on at 10 s.
    let p_bind = v_over * (-theta * 10.0f64).exp();
    println!("P(abandon) with limit {exact_lim:.5}, Erlang A {exact_a:.5}, P(limit binds) {p_bind:.4}");
    assert!(p_bind > 0.05, "the case must make the limit bind for some calls");
    for (max_wait, exact) in [("10s", exact_lim), ("unlimited", exact_a)] {
        let (mean, se) = abandon_fraction(&erlang_a_runs(max_wait));
        println!("max_wait {max_wait}: abandoned {mean:.5} ± {se:.5}, exact {exact:.5}");
        assert!(se > 0.0 && se < 0.02 * exact, "max_wait {max_wait}: SE {se} too large to decide");
        assert!((mean - exact).abs() < 3.5 * se, "max_wait {max_wait}: {mean} vs {exact} (SE {se})");
    }
    // The two exact values are more than 6 of the largest SE allowed apart,
    // so the first check would fail if the limit were ignored.
    assert!(exact_lim - exact_a > 6.0 * 0.02 * exact_lim, "the limit must change the answer measurably");
}

// ---------------------------------------------------------------------------
// Bad input.
// ---------------------------------------------------------------------------

#[test]
fn bad_scale_down_drain_and_queue_fields_exit_2_naming_the_field() {
    let tmp = TempDir::new().unwrap();
    let base = fs::read_to_string(fixture("small.toml")).unwrap();
    let cases = [
        ("[primary]", "scale_down_victim = \"oldest\"", "primary.scale_down_victim"),
        ("[primary]", "scale_down_victim = 3", "scale_down_victim"),
        ("[primary]", "drain_grace = \"soon\"", "drain_grace"),
        ("[primary]", "drain_grace = -5", "drain_grace"),
        ("[admission]", "max_wait = \"forever\"", "max_wait"),
        ("[admission]", "max_wait = \"0s\"\npatience = \"30s\"", "admission.max_wait"),
        (
            "[fallback]",
            "max_concurrency = 5\nstart_failure_latency = { dist = \"exponential\" }",
            "fallback.start_failure_latency",
        ),
        ("[fallback]", "max_concurrency = 5\nstart_failure_latency = -2", "start_failure_latency"),
    ];
    for (table, lines, field) in cases {
        let text = if table == "[admission]" {
            base.replace("max_wait = \"10s\"\n", &format!("{lines}\n"))
        } else if base.contains(&format!("{table}\n")) {
            base.replace(&format!("{table}\n"), &format!("{table}\n{lines}\n"))
        } else {
            format!("{base}\n{table}\n{lines}\n")
        };
        let path = tmp.path().join("bad.toml");
        fs::write(&path, &text).unwrap();
        let args = ["run", path.to_str().unwrap(), "--out", "out"];
        let out = surgesim(tmp.path(), &args);
        assert_exit(&args, &out, 2);
        let err = stderr(&out);
        assert!(err.contains("bad.toml") && err.contains(field), "{lines}: stderr does not name {field}: {err}");
    }
}
