//! Erlang B: blocking of M/M/c/c, and its insensitivity: the same blocking
//! for any service distribution of the same mean.

use surgesim::experiment;
use surgesim::model::RunOptions;

use super::{assert_pure_loss, check, deterministic, exponential, load, lognormal, Est, Single, MEAN_S, REPS};
use crate::common::erlang_b;

/// Blocking of M/G/c/c (c = workers × calls_per_worker) at `a` Erlang.
#[allow(clippy::too_many_arguments)]
fn blocking_case(what: &str, seed: u64, workers: u32, cpw: u32, a: f64, service: String, duration: &str, warmup: &str) {
    let c = workers as u64 * cpw as u64;
    let sc = Single {
        name: "erlang-b",
        seed,
        duration,
        warmup,
        rate: a / MEAN_S,
        service,
        workers,
        calls_per_worker: cpw,
        admission: None,
    };
    let (_, agg) = sc.run();
    assert_pure_loss(what, &agg);
    check(&format!("{what}: blocking of M/G/{c}/{c} at {a} Erlang"), Est::metric(&agg, "failure_rate"), erlang_b(c, a));
}

// Sizes: a relative SE of about 0.3–0.6 % on each (far below the guard),
// for 32 k (c = 10) to 165 k (c = 1000) calls per run.

#[test]
fn erlang_b_c10_load_0_9() {
    blocking_case("exp", 101, 10, 1, 9.0, exponential(MEAN_S), "30h", "10m");
}

#[test]
fn erlang_b_c10_load_1_1() {
    blocking_case("exp", 102, 10, 1, 11.0, exponential(MEAN_S), "30h", "10m");
}

#[test]
fn erlang_b_c100_load_0_9() {
    blocking_case("exp", 103, 100, 1, 90.0, exponential(MEAN_S), "15h", "10m");
}

#[test]
fn erlang_b_c100_load_1_0() {
    blocking_case("exp", 104, 100, 1, 100.0, exponential(MEAN_S), "10h", "10m");
}

/// 1000 slots as 50 workers × 20 calls: blocking is per slot.
#[test]
fn erlang_b_c1000_load_1_0() {
    blocking_case("exp", 105, 50, 20, 1000.0, exponential(MEAN_S), "1h30m", "10m");
}

#[test]
fn erlang_b_c1000_load_1_1() {
    blocking_case("exp", 106, 1000, 1, 1100.0, exponential(MEAN_S), "1h15m", "10m");
}

// ---------------------------------------------------------------------------
// (b) Insensitivity: Erlang B holds for any service distribution of the mean.
// ---------------------------------------------------------------------------

#[test]
fn insensitivity_lognormal_c10() {
    // σ = 1.5: the squared coefficient of variation is e^{σ²} − 1 ≈ 8.5.
    // Warm-ups of 3 h = 360 mean service times: P(S > 3 h) ≈ 2e-6.
    blocking_case("lognormal σ=1.5", 201, 10, 1, 9.0, lognormal(MEAN_S, 1.5), "50h", "3h");
}

#[test]
fn insensitivity_lognormal_c100() {
    blocking_case("lognormal σ=1.5", 202, 100, 1, 100.0, lognormal(MEAN_S, 1.5), "15h", "3h");
}

#[test]
fn insensitivity_lognormal_c1000() {
    blocking_case("lognormal σ=1", 203, 100, 10, 1100.0, lognormal(MEAN_S, 1.0), "1h30m", "30m");
}

#[test]
fn insensitivity_deterministic_c10() {
    blocking_case("deterministic", 204, 10, 1, 9.0, deterministic(MEAN_S), "30h", "10m");
}

#[test]
fn insensitivity_deterministic_c100() {
    blocking_case("deterministic", 205, 100, 1, 100.0, deterministic(MEAN_S), "10h", "10m");
}

#[test]
fn insensitivity_deterministic_c1000() {
    blocking_case("deterministic", 206, 1000, 1, 1100.0, deterministic(MEAN_S), "1h15m", "10m");
}

/// Two classes with different service laws form one M/G/c/c whose service
/// time is their mixture (mean 0.3·10 s + 0.7·50 s = 38 s). Blocking is
/// Erlang B at the mixture's load, and by PASTA every class sees the same
/// blocking probability.
#[test]
fn insensitivity_two_class_mixture() {
    let (c, a, mean) = (100u64, 95.0, 0.3 * 10.0 + 0.7 * 50.0);
    let toml = format!(
        "name = \"mixture\"\nseed = 207\nduration = \"15h\"\nwarmup = \"10m\"\n\
         [arrivals]\nkind = \"poisson\"\nrate = {:?}\n\
         [[classes]]\nname = \"short\"\nshare = 0.3\nduration = {}\n\
         [[classes]]\nname = \"long\"\nshare = 0.7\nduration = {}\n\
         [primary]\nworkers = {c}\n",
        a / mean,
        exponential(10.0),
        deterministic(50.0)
    );
    let sc = load(&toml);
    let agg = experiment::run(&sc, REPS, RunOptions::default());
    assert_pure_loss("mixture", &agg);
    let b = erlang_b(c, a);
    check("mixture: overall blocking", Est::metric(&agg, "failure_rate"), b);
    check("mixture: blocking of class short", Est::metric(&agg, "class.short.failure_rate"), b);
    check("mixture: blocking of class long", Est::metric(&agg, "class.long.failure_rate"), b);
    // The class split itself: share 0.3 of arrivals, SE from replications.
    let frac: Vec<f64> = agg.runs.iter().map(|r| r.classes[0].arrived as f64 / r.totals.arrived as f64).collect();
    check("mixture: share of class short", Est::values(&frac), 0.3);
}
