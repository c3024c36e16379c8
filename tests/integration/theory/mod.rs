//! Statistical tests of the simulator against queueing theory, through the
//! public library API only.
//!
//! Every statistical check compares an estimate over R independent
//! replications (fixed seeds, run indices 0..R) with an exact value and
//! passes when |estimate − exact| < 3·SE, where SE = sd/√R is the
//! replications' own standard error. Each check also asserts that SE is
//! small next to the exact value, so that a pass means something: a run too
//! short to be decisive fails instead of passing vacuously. Run lengths were
//! sized from the standard errors they give (the comment at each test says
//! which relative SE to expect), never from whether the test passes.
//!
//! Service times have mean 30 s unless said otherwise; every run starts
//! with a warm-up of many mean service times (and, for the queues, many
//! relaxation times), so the measurements are from steady state.
//!
//! Run with `cargo test --test integration theory:: -- --nocapture` to see
//! each estimate, its exact value, SE and z-score.

mod conservation;
mod erlang_b;
mod erlang_c;

use std::fmt::Write as _;
use std::path::Path;

use surgesim::experiment::{self, Aggregate, Stat};
use surgesim::model::RunOptions;
use surgesim::observe::Counts;
use surgesim::scenario::{self, Scenario};

use crate::common::erlang_b;

/// Mean service time of the single-class scenarios, seconds.
const MEAN_S: f64 = 30.0;
/// Replications per statistical check: 40, so that the SE estimate is
/// itself good to about ±11 % and the 3-SE band is close to its normal
/// coverage (99.5 % under Student t with 39 degrees of freedom).
const REPS: u64 = 40;
/// Acceptance band, in standard errors.
const Z: f64 = 3.0;
/// A check is only meaningful when its SE is below this fraction of the
/// exact value (a 3-SE band of at most ±9 %). Most checks below have a
/// relative SE of 0.1–1.5 %; the tail quantiles of the queues come closest.
const MAX_REL_SE: f64 = 0.03;

// ---------------------------------------------------------------------------
// Exact queueing formulas.
// ---------------------------------------------------------------------------

/// Erlang C probability of waiting in M/M/c (requires a < c).
fn erlang_c(c: u64, a: f64) -> f64 {
    assert!(a < c as f64, "Erlang C needs a stable queue");
    let b = erlang_b(c, a);
    let rho = a / c as f64;
    b / (1.0 - rho * (1.0 - b))
}

/// Stationary distribution of the birth–death chain of M/M/c+M (Erlang A):
/// birth rate `lambda`, death rate min(n, c)·mu + max(n − c, 0)·gamma,
/// truncated where the probabilities are negligible. Returns (E[(N − c)+],
/// P(N >= c)).
fn erlang_a(c: u64, lambda: f64, mu: f64, gamma: f64) -> (f64, f64) {
    let n_max = c as usize + 20_000;
    let mut logp = vec![0.0f64; n_max + 1];
    for n in 1..=n_max {
        let death = (n.min(c as usize) as f64) * mu + (n.saturating_sub(c as usize) as f64) * gamma;
        logp[n] = logp[n - 1] + (lambda / death).ln();
    }
    let top = logp.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let p: Vec<f64> = logp.iter().map(|l| (l - top).exp()).collect();
    let total: f64 = p.iter().sum();
    assert!(p[n_max] / total < 1e-300 || p[n_max] == 0.0, "truncation too early");
    let lq = p.iter().enumerate().map(|(n, q)| n.saturating_sub(c as usize) as f64 * q).sum::<f64>() / total;
    let busy_all = p[c as usize..].iter().sum::<f64>() / total;
    (lq, busy_all)
}

// ---------------------------------------------------------------------------
// Scenarios, estimates and checks.
// ---------------------------------------------------------------------------

fn load(toml: &str) -> Scenario {
    scenario::load_str(toml, "theory.toml", Path::new("."), &[]).unwrap_or_else(|e| panic!("{e}\n---\n{toml}"))
}

/// A single-class Poisson scenario on a fixed pool.
struct Single<'a> {
    name: &'a str,
    seed: u64,
    duration: &'a str,
    warmup: &'a str,
    /// Calls per second.
    rate: f64,
    /// The class's `duration = …` value, as TOML.
    service: String,
    workers: u32,
    calls_per_worker: u32,
    /// Lines of an `[admission]` table, if any.
    admission: Option<&'a str>,
}

impl Single<'_> {
    fn toml(&self) -> String {
        let mut s = format!(
            "name = {:?}\nseed = {}\nduration = {:?}\nwarmup = {:?}\n\
             [arrivals]\nkind = \"poisson\"\nrate = {:?}\n\
             [[classes]]\nname = \"all\"\nshare = 1.0\nduration = {}\n\
             [primary]\nworkers = {}\ncalls_per_worker = {}\n",
            self.name,
            self.seed,
            self.duration,
            self.warmup,
            self.rate,
            self.service,
            self.workers,
            self.calls_per_worker
        );
        if let Some(a) = self.admission {
            writeln!(s, "[admission]\n{a}").unwrap();
        }
        s
    }

    fn run(&self) -> (Scenario, Aggregate) {
        let sc = load(&self.toml());
        let agg = experiment::run(&sc, REPS, RunOptions::default());
        (sc, agg)
    }
}

fn exponential(mean_s: f64) -> String {
    format!("{{ dist = \"exponential\", mean = \"{mean_s}s\" }}")
}

fn deterministic(value_s: f64) -> String {
    format!("{{ dist = \"deterministic\", value = \"{value_s}s\" }}")
}

/// Lognormal with the given mean and log-scale sigma (mu = ln mean − σ²/2).
fn lognormal(mean_s: f64, sigma: f64) -> String {
    let mu = mean_s.ln() - sigma * sigma / 2.0;
    format!("{{ dist = \"lognormal\", mu = {mu:?}, sigma = {sigma:?} }}")
}

/// Mean and standard error over replications.
#[derive(Clone, Copy, Debug)]
struct Est {
    mean: f64,
    se: f64,
    n: usize,
}

impl Est {
    fn of(s: &Stat) -> Est {
        Est { mean: s.mean, se: s.sd / (s.n as f64).sqrt(), n: s.n }
    }

    fn values(v: &[f64]) -> Est {
        Est::of(&Stat::of(v))
    }

    fn metric(agg: &Aggregate, name: &str) -> Est {
        Est::of(agg.metric(name).unwrap_or_else(|| panic!("no metric {name:?}")))
    }
}

/// Asserts |estimate − exact| < 3·SE, and that SE < MAX_REL_SE·scale (so the
/// band is narrow enough to mean something). `scale` is the exact value for
/// ordinary checks, and the size of the compared quantities when the exact
/// value is 0 (a difference).
fn check_scaled(what: &str, est: Est, exact: f64, scale: f64) {
    let z = (est.mean - exact) / est.se;
    println!(
        "{what}: estimate {:.6}, exact {exact:.6}, SE {:.6} ({:.2} % of scale), z = {z:+.2}, runs {}",
        est.mean,
        est.se,
        100.0 * est.se / scale.abs(),
        est.n
    );
    assert_eq!(est.n as u64, REPS, "{what}: the metric applied in {} of {REPS} runs", est.n);
    assert!(
        est.se > 0.0 && est.se < MAX_REL_SE * scale.abs(),
        "{what}: SE {} is not in (0, {MAX_REL_SE} × {scale}): too small a run to be decisive \
         (estimate {}, exact {exact})",
        est.se,
        est.mean
    );
    assert!(
        (est.mean - exact).abs() < Z * est.se,
        "{what}: estimate {} vs exact {exact}: off by {z:+.2} SE (SE {}, {} runs)",
        est.mean,
        est.se,
        est.n
    );
}

fn check(what: &str, est: Est, exact: f64) {
    check_scaled(what, est, exact, exact)
}

/// Calls turned away at once, whatever the reason (abandonment excluded).
/// Summed from `failed_by` directly, so the identities below do not depend
/// on which outcomes a helper such as `Counts::failed` chooses to include.
fn rejected(c: &Counts) -> u64 {
    c.failed_by.iter().sum()
}

fn secs(area: u128) -> f64 {
    area as f64 / 1e6
}

/// Every run of a loss system only loses calls for want of a worker.
fn assert_pure_loss(what: &str, agg: &Aggregate) {
    for r in &agg.runs {
        let t = &r.totals;
        assert_eq!(rejected(t), t.failed_by[0], "{what}: run {} failed for reasons other than no worker", r.run);
        assert_eq!((t.abandoned, t.served_fallback, r.end.waiting_end), (0, 0, 0), "{what}: run {} queued", r.run);
        assert!(rejected(t) > 0, "{what}: run {} lost no call at all", r.run);
    }
}

// ---------------------------------------------------------------------------
// The formulas themselves, against independent evaluations.
// ---------------------------------------------------------------------------

#[test]
fn formulas_match_direct_sums() {
    // Erlang B and C from the textbook sums (fine in f64 for small c).
    for &(c, a) in &[(1u64, 0.5f64), (5, 4.0), (10, 9.0), (30, 27.0)] {
        let mut term = 1.0;
        let mut sum = 1.0;
        for k in 1..=c {
            term *= a / k as f64;
            sum += term;
        }
        let b = term / sum;
        assert!((erlang_b(c, a) - b).abs() < 1e-12 * b, "B({c}, {a}): {} vs {b}", erlang_b(c, a));
        let tail = term * c as f64 / (c as f64 - a);
        let cw = tail / (sum - term + tail);
        assert!((erlang_c(c, a) - cw).abs() < 1e-12 * cw, "C({c}, {a}): {} vs {cw}", erlang_c(c, a));
    }
    // M/M/1: B = A/(1+A), C = ρ.
    assert!((erlang_b(1, 0.25) - 0.2).abs() < 1e-15);
    assert!((erlang_c(1, 0.25) - 0.25).abs() < 1e-15);
    // Erlang A with gamma = mu is M/M/∞: N ~ Poisson(A).
    let (c, a) = (20u64, 18.0);
    let (lq, busy_all) = erlang_a(c, a, 1.0, 1.0);
    let mut pmf = (-a).exp();
    let (mut lq_direct, mut below) = (0.0, 0.0);
    for n in 0..2000u64 {
        if n >= 1 {
            pmf *= a / n as f64;
        }
        lq_direct += n.saturating_sub(c) as f64 * pmf;
        if n < c {
            below += pmf;
        }
    }
    assert!((lq - lq_direct).abs() < 1e-9, "Erlang A L_q {lq} vs Poisson {lq_direct}");
    assert!((busy_all - (1.0 - below)).abs() < 1e-9, "Erlang A P(N>=c) {busy_all} vs {}", 1.0 - below);
    // Erlang A with gamma → 0 approaches Erlang C.
    let (lq, busy_all) = erlang_a(10, 9.0, 1.0, 1e-7);
    let cw = erlang_c(10, 9.0);
    assert!((busy_all - cw).abs() < 1e-4, "Erlang A → C: P(wait) {busy_all} vs {cw}");
    assert!((lq - cw * 9.0 / (10.0 - 9.0)).abs() < 1e-2, "Erlang A → C: L_q {lq}");
}
