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
//! Run with `cargo test --test theory -- --nocapture` to see each estimate,
//! its exact value, SE and z-score.

use std::fmt::Write as _;
use std::path::Path;

use surgesim::experiment::{self, Aggregate, Stat};
use surgesim::model::RunOptions;
use surgesim::observe::{Areas, Counts};
use surgesim::result::RunResult;
use surgesim::scenario::{self, Scenario};

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

/// Erlang B blocking probability of M/G/c/c with offered load `a` Erlang,
/// by the stable recursion B(0) = 1, B(k) = A·B(k−1) / (k + A·B(k−1)).
fn erlang_b(c: u64, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    b
}

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
        assert_eq!((t.abandoned, t.served_fallback, r.waiting_end), (0, 0, 0), "{what}: run {} queued", r.run);
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

// ---------------------------------------------------------------------------
// (a) Erlang B: M/M/c/c blocking.
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// (c) Erlang C: M/M/c with unlimited patience.
// ---------------------------------------------------------------------------

/// Checks mean wait, the wait quantiles and the mean queue length of M/M/c
/// against Erlang C: P(W > t) = C·e^{−(cμ−λ)t}, E[W] = C/(cμ−λ),
/// L_q = λ·E[W]. RunResult does not expose P(W > 0) directly; it is checked
/// through E[W]·(cμ−λ) and through every quantile the tail formula places
/// clearly above 0.
fn erlang_c_case(what: &str, seed: u64, c: u32, a: f64, duration: &str, warmup: &str) -> Aggregate {
    let lambda = a / MEAN_S;
    let sc = Single {
        name: "erlang-c",
        seed,
        duration,
        warmup,
        rate: lambda,
        service: exponential(MEAN_S),
        workers: c,
        calls_per_worker: 1,
        // Nobody gives up within the run: an M/M/c queue.
        admission: Some("max_wait = \"1000h\""),
    };
    let (_, agg) = sc.run();
    for r in &agg.runs {
        let t = &r.totals;
        assert_eq!((rejected(t), t.abandoned, t.served_fallback), (0, 0, 0), "{what}: run {} lost calls", r.run);
    }
    let cw = erlang_c(c as u64, a);
    let rate_out = c as f64 / MEAN_S - lambda; // cμ − λ
    let wq = cw / rate_out;
    println!("{what}: C({c}, {a}) = {cw:.6}, cμ − λ = {rate_out:.6}/s");
    let w = Est::metric(&agg, "wait_mean_s");
    check(&format!("{what}: mean wait (s)"), w, wq);
    check(
        &format!("{what}: P(wait > 0) via E[W]·(cμ−λ)"),
        Est { mean: w.mean * rate_out, se: w.se * rate_out, n: w.n },
        cw,
    );
    for (q, name) in [(0.5, "wait_p50_s"), (0.9, "wait_p90_s"), (0.95, "wait_p95_s"), (0.99, "wait_p99_s")] {
        // Quantile q is (ln C − ln(1 − q))/(cμ − λ) when 1 − q < C. Skip
        // levels so close to the atom at 0 that the estimate is often 0.
        if 1.0 - q < 0.8 * cw {
            let exact = (cw / (1.0 - q)).ln() / rate_out;
            check(&format!("{what}: wait quantile {q} (s)"), Est::metric(&agg, name), exact);
        }
    }
    check(&format!("{what}: mean number waiting"), Est::metric(&agg, "waiting_avg"), lambda * wq);
    agg
}

// Sizes: the relaxation time of M/M/c is about 1/(cμ(1−√ρ)²): 19 min for
// c = 10 at ρ = 0.9 and 8 min for c = 100 at ρ = 0.95. 40 runs of 200 h
// and 50 h (216 k and 570 k calls each) give a relative SE of about 0.8 %
// and 1.7 % on the mean wait, and 1.6 % and 2.3 % on the 99th percentile.

#[test]
fn erlang_c_c10_load_0_9() {
    erlang_c_case("M/M/10", 301, 10, 9.0, "200h", "10h");
}

#[test]
fn erlang_c_c100_load_0_95() {
    erlang_c_case("M/M/100", 302, 100, 95.0, "50h", "2h");
}

// ---------------------------------------------------------------------------
// (d) Little's law, and Erlang A.
// ---------------------------------------------------------------------------

/// Per run, time-average number waiting minus λ × mean time in queue of the
/// calls that left the queue (served ones with their wait, abandoned ones
/// with the time they waited), λ being the scenario's rate. Its expectation
/// is 0 up to an edge effect of order λ·Var(W)/T (calls that straddle the
/// ends of the reported span), below 0.3 SE at these run lengths.
fn little_differences(agg: &Aggregate, lambda: f64) -> (Est, Est) {
    let mut diff = Vec::new();
    let mut lq = Vec::new();
    for r in &agg.runs {
        let t = &r.totals;
        let left = (t.served_primary + t.abandoned) as f64;
        let time_in_queue = r.wait_mean_s * t.served_primary as f64 + r.abandon_wait_mean_s * t.abandoned as f64;
        let avg_waiting = secs(r.areas.waiting) / r.duration_s;
        diff.push(avg_waiting - lambda * time_in_queue / left);
        lq.push(avg_waiting);
    }
    (Est::values(&diff), Est::values(&lq))
}

#[test]
fn littles_law_unlimited_patience() {
    let (c, a) = (20u32, 18.0);
    let lambda = a / MEAN_S;
    let sc = Single {
        name: "little",
        seed: 401,
        duration: "50h",
        warmup: "5h",
        rate: lambda,
        service: exponential(MEAN_S),
        workers: c,
        calls_per_worker: 1,
        admission: Some("max_wait = \"1000h\""),
    };
    let (_, agg) = sc.run();
    let (d, lq) = little_differences(&agg, lambda);
    check_scaled("Little (no abandonment): waiting_avg − λ·E[wait]", d, 0.0, lq.mean);
    // And against theory, for good measure.
    let exact_lq = lambda * erlang_c(c as u64, a) / (c as f64 / MEAN_S - lambda);
    check("Little (no abandonment): waiting_avg vs Erlang C", lq, exact_lq);
}

/// M/M/c+M: exponential patience (mean 60 s). Little's law over every call
/// that waited, served or abandoned; the mean queue length against the exact
/// birth–death solution; and the abandoned fraction against γ·L_q/λ (each
/// waiting call gives up at rate γ).
#[test]
fn littles_law_and_erlang_a_with_abandonment() {
    let (c, a, patience) = (100u32, 105.0, 60.0);
    let lambda = a / MEAN_S;
    let gamma = 1.0 / patience;
    let sc = Single {
        name: "erlang-a",
        seed: 402,
        duration: "10h",
        warmup: "2h",
        rate: lambda,
        service: exponential(MEAN_S),
        workers: c,
        calls_per_worker: 1,
        admission: Some("patience = { dist = \"exponential\", mean = \"60s\" }"),
    };
    let (_, agg) = sc.run();
    for r in &agg.runs {
        assert_eq!(rejected(&r.totals), 0, "run {}: calls turned away without a queue limit", r.run);
        assert!(r.totals.abandoned > 0, "run {}: nobody abandoned", r.run);
    }
    let (d, lq) = little_differences(&agg, lambda);
    check_scaled("Little (abandonment): waiting_avg − λ·E[time in queue]", d, 0.0, lq.mean);
    let (exact_lq, _) = erlang_a(c as u64, lambda, 1.0 / MEAN_S, gamma);
    check("Erlang A: mean number waiting", lq, exact_lq);
    let ab: Vec<f64> = agg.runs.iter().map(|r| r.totals.abandoned as f64 / r.totals.arrived as f64).collect();
    check("Erlang A: fraction abandoned", Est::values(&ab), gamma * exact_lq / lambda);
}

// ---------------------------------------------------------------------------
// M/G/∞: mean number in service.
// ---------------------------------------------------------------------------

/// With far more slots than calls (10 000 slots for a mean of 300 busy),
/// the number busy is Poisson with mean λ·E[S] whatever the service law.
/// The warm-up must outlast the service times: 1 h for the lognormal
/// (E[(S − 1 h)+] ≈ 0.003 s, a bias of 0.01 % on the mean busy), and 2 min
/// for the uniform, which never exceeds 60 s.
#[test]
fn infinite_server_mean_busy() {
    let lambda = 10.0;
    for (i, (what, service, warmup)) in [
        ("lognormal σ=1.2", lognormal(MEAN_S, 1.2), "1h"),
        ("uniform 0–60 s", "{ dist = \"uniform\", min = \"0s\", max = \"60s\" }".into(), "2m"),
    ]
    .into_iter()
    .enumerate()
    {
        let sc = Single {
            name: "mg-inf",
            seed: 501 + i as u64,
            duration: "1h30m",
            warmup,
            rate: lambda,
            service,
            workers: 1000,
            calls_per_worker: 10,
            admission: None,
        };
        let (_, agg) = sc.run();
        for r in &agg.runs {
            assert_eq!(rejected(&r.totals) + r.totals.abandoned, 0, "{what}: run {} blocked a call", r.run);
        }
        check(&format!("M/G/∞ {what}: mean busy"), Est::metric(&agg, "busy_primary_avg"), lambda * MEAN_S);
        check(
            &format!("M/G/∞ {what}: utilisation"),
            Est::metric(&agg, "utilisation_primary"),
            lambda * MEAN_S / 10_000.0,
        );
    }
}

// ---------------------------------------------------------------------------
// (e) Conservation of calls on random-ish scenarios.
// ---------------------------------------------------------------------------

/// SplitMix64: a tiny deterministic generator for scenario shapes.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[(self.next() % xs.len() as u64) as usize]
    }

    fn coin(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// A scenario mixing classes, service laws, loads, queueing with and without
/// abandonment, queue limits, a fallback in various health, an autoscaler,
/// a spike and a reporting window.
fn random_scenario(i: u64) -> String {
    let mut g = Mix(0x5eed_0000 + i);
    let duration_min = g.pick(&[20u64, 30, 45]);
    let mut s = String::new();
    writeln!(s, "name = \"conservation-{i}\"\nseed = {}\nclock_start = \"08:00\"", 1000 + i).unwrap();
    writeln!(s, "duration = \"{duration_min}m\"\nbin = {:?}", g.pick(&["1m", "7m", "10m"])).unwrap();
    writeln!(s, "warmup = {:?}", g.pick(&["0s", "5m", "15m"])).unwrap();
    if g.coin(0.5) {
        writeln!(s, "window = \"08:05..08:13\"").unwrap();
    }
    let rate = 2.0 + 18.0 * g.unit();
    writeln!(s, "[arrivals]\nkind = \"poisson\"\nrate = {rate:.3}").unwrap();
    if g.coin(0.5) {
        let m = g.pick(&[1.5, 2.0, 3.0]);
        writeln!(s, "spike = {{ at = \"8m\", multiplier = {m:?}, ramp = \"1m\", hold = \"5m\", decay = \"2m\" }}")
            .unwrap();
    }
    let shares: &[&str] = g.pick(&[&["1.0"][..], &["0.3", "0.7"], &["0.25", "0.5", "0.25"]]);
    let mut mean_service = 0.0;
    for (k, share) in shares.iter().enumerate() {
        let m = 10.0 + 110.0 * g.unit();
        mean_service += share.parse::<f64>().unwrap() * m;
        let dist = match g.next() % 5 {
            0 => exponential(m.round()),
            1 => format!("{{ dist = \"lognormal\", median = \"{:.0}s\", p95 = \"{:.0}s\" }}", m, 3.0 * m),
            2 => deterministic(m.round()),
            3 => format!("{{ dist = \"gamma\", shape = 2.0, mean = \"{:.0}s\" }}", m),
            _ => format!("{{ dist = \"uniform\", min = \"{:.0}s\", max = \"{:.0}s\" }}", m / 2.0, 1.5 * m),
        };
        writeln!(
            s,
            "[[classes]]\nname = \"k{k}\"\nshare = {share}\nduration = {dist}\nfallback_eligible = {}",
            g.coin(0.6)
        )
        .unwrap();
    }
    let load = g.pick(&[0.7, 1.0, 1.3]);
    let slots = (rate * mean_service / load).ceil() as u32;
    let cpw = g.pick(&[1u32, 4, 10]);
    let workers = slots.div_ceil(cpw).max(1);
    writeln!(s, "[primary]\nworkers = {workers}\ncalls_per_worker = {cpw}").unwrap();
    match g.next() % 5 {
        0 | 1 => {}
        2 | 3 => writeln!(
            s,
            "[primary.autoscaler]\npolicy = \"target-utilization\"\ntarget = 0.7\ninterval = \"30s\"\n\
             provision_delay = \"2m\"\nmin = {}\nmax = {}",
            workers.div_ceil(2),
            workers * 3
        )
        .unwrap(),
        _ => writeln!(
            s,
            "[primary.autoscaler]\npolicy = \"step\"\nsteps = [{{ above = 0.8, add = {} }}]\n\
             scale_in = {{ below = 0.4, remove = 1 }}\ninterval = \"20s\"\n\
             provision_delay = {{ dist = \"uniform\", min = \"30s\", max = \"3m\" }}\nmin = 1\nmax = {}",
            workers.div_ceil(4),
            workers * 2
        )
        .unwrap(),
    }
    if g.coin(0.6) {
        let health =
            g.pick(&["\"healthy\"", "{ degraded = 0.3 }", "{ broken_from = \"10m\", broken_until = \"20m\" }"]);
        let cold = g.pick(&["\"2s\"", "{ dist = \"lognormal\", median = \"1s\", p95 = \"5s\" }"]);
        // A large pool, or a small one that throttles.
        let max_concurrency = g.pick(&[slots / 5 + 1, slots / 50 + 1]);
        writeln!(
            s,
            "[fallback]\nmax_concurrency = {max_concurrency}\ncold_start = {cold}\nidle_timeout = \"2m\"\n\
             health = {health}"
        )
        .unwrap();
        if g.coin(0.5) {
            writeln!(s, "burst_limit = {}\nscale_rate = 5\nscale_interval = \"30s\"", max_concurrency / 4 + 1).unwrap();
        }
        if health.contains("broken") && g.coin(0.7) {
            let action = g.pick(&["stop_routing = true", "fix_fallback = true"]);
            writeln!(s, "[fallback.canary]\ninterval = \"1m\"\non_detect = {{ after = \"2m\", {action} }}").unwrap();
        }
    }
    match g.next() % 4 {
        0 => {}
        1 => writeln!(s, "[admission]\nmax_wait = \"30s\"").unwrap(),
        2 => writeln!(s, "[admission]\npatience = {}\nqueue_limit = {}", exponential(60.0), slots / 10 + 1).unwrap(),
        _ => writeln!(s, "[admission]\npatience = {}", lognormal(120.0, 1.0)).unwrap(),
    }
    s
}

fn assert_counts_le(what: &str, part: &Counts, whole: &Counts) {
    let p = [part.arrived, part.served_primary, part.served_fallback, part.abandoned, part.failed_fallback_eligible];
    let w =
        [whole.arrived, whole.served_primary, whole.served_fallback, whole.abandoned, whole.failed_fallback_eligible];
    assert!(p.iter().zip(&w).all(|(a, b)| a <= b), "{what}: {part:?} exceeds {whole:?}");
    assert!(part.failed_by.iter().zip(&whole.failed_by).all(|(a, b)| a <= b), "{what}: {part:?} exceeds {whole:?}");
}

fn outcomes(c: &Counts) -> u64 {
    c.served_primary + c.served_fallback + rejected(c) + c.abandoned
}

fn check_conservation(name: &str, sc: &Scenario, r: &RunResult) {
    let what = format!("{name} run {}", r.run);
    let t = &r.totals;
    // Every call that arrived in the reported span was served, failed,
    // abandoned, or is still waiting.
    assert_eq!(
        t.arrived,
        outcomes(t) + r.waiting_end,
        "{what}: arrived {} ≠ served_primary {} + served_fallback {} + turned away {} + abandoned {} + waiting_end {}",
        t.arrived,
        t.served_primary,
        t.served_fallback,
        rejected(t),
        t.abandoned,
        r.waiting_end
    );
    assert!(
        t.failed_fallback_eligible <= rejected(t) + t.abandoned,
        "{what}: more failures of eligible calls than failures: {t:?}"
    );
    // Classes partition the totals; each class conserves its calls, and
    // their calls still waiting add up to waiting_end.
    assert_eq!(r.classes.len(), sc.classes.len());
    let mut sum = Counts::default();
    let mut still_waiting = 0;
    for (k, c) in r.classes.iter().enumerate() {
        assert!(c.arrived >= outcomes(c), "{what}: class {k}: more outcomes than arrivals: {c:?}");
        still_waiting += c.arrived - outcomes(c);
        if !sc.classes[k].fallback_eligible {
            assert_eq!(c.failed_fallback_eligible, 0, "{what}: class {k} is not eligible");
            assert_eq!(c.served_fallback, 0, "{what}: class {k} is not eligible but used the fallback");
        }
        sum.add(c);
    }
    assert_eq!(&sum, t, "{what}: classes do not sum to the totals");
    assert_eq!(still_waiting, r.waiting_end, "{what}: per-class calls still waiting ≠ waiting_end");
    // Bins partition the totals (counts by arrival) and the areas (time).
    let mut sum = Counts::default();
    let mut areas = Areas::default();
    for b in &r.bins {
        sum.add(&b.counts);
        let (o, a) = (&mut areas, &b.areas);
        o.busy_primary += a.busy_primary;
        o.capacity_primary += a.capacity_primary;
        o.workers_ready += a.workers_ready;
        o.workers_billed += a.workers_billed;
        o.fallback_busy += a.fallback_busy;
        o.waiting += a.waiting;
    }
    assert_eq!(&sum, t, "{what}: bins do not sum to the totals");
    assert_eq!(areas, r.areas, "{what}: bin areas do not sum to the run's areas");
    assert_eq!(r.bins.len() as u64, sc.duration.0.div_ceil(sc.bin.0), "{what}: bin count");
    // The window is a subset of the calls.
    if let Some(w) = &r.window {
        assert_counts_le(&format!("{what}: window"), w, t);
        assert!(w.arrived >= outcomes(w), "{what}: window has more outcomes than arrivals");
    }
}

/// `RunResult::peak_pending_events` is documented as "bounded by calls in
/// flight" (src/result.rs), and DESIGN.md wants memory to grow with calls in
/// flight, never with total calls: calls that waited and were served leave
/// no stale abandonment events behind.
#[test]
fn pending_events_bounded_by_calls_in_flight() {
    let sc = Single {
        name: "pending",
        seed: 601,
        duration: "5h",
        warmup: "0s",
        rate: 95.0 / MEAN_S,
        service: exponential(MEAN_S),
        workers: 100,
        calls_per_worker: 1,
        admission: Some("max_wait = \"1000h\""),
    };
    let sc = load(&sc.toml());
    let r = surgesim::experiment::simulate(&sc, 0, RunOptions::default());
    // One end or abandonment event per call in the system, the next
    // arrival, and a few periodic events.
    let bound = r.peak_in_flight as usize + 16;
    assert!(
        r.peak_pending_events <= bound,
        "peak pending events {} > peak calls in flight {} + 16 ({} calls arrived, {} served)",
        r.peak_pending_events,
        r.peak_in_flight,
        r.totals.arrived,
        r.totals.served_primary
    );
    // The queue's storage, counted in slots: each tier is bounded by a
    // multiple of the peak pending events (src/engine.rs, `allocated`): top,
    // sorted run, scratch and side heap by 2x each (vector doubling), the
    // chunks by 2 x (1 + CHUNK = 8) x; plus the initial reservation of one
    // slot per primary slot and 16.
    let slots_bound = 26 * r.peak_pending_events + 100 + 16;
    assert!(
        r.queue_slots <= slots_bound,
        "the queue holds {} slots for a peak of {} pending events (bound {slots_bound})",
        r.queue_slots,
        r.peak_pending_events
    );
    assert!(
        r.queue_slots * 10 < r.totals.arrived as usize,
        "the queue's storage ({} slots) grows with total calls ({})",
        r.queue_slots,
        r.totals.arrived
    );
}

#[test]
fn conservation_on_random_scenarios() {
    let mut seen = Counts::default();
    let (mut waiting_end, mut scale_events, mut windows) = (0, 0, 0);
    for i in 0..40 {
        let text = random_scenario(i);
        let sc = load(&text);
        let agg = experiment::run(&sc, 2, RunOptions::default());
        for r in &agg.runs {
            check_conservation(&sc.name, &sc, r);
            seen.add(&r.totals);
            waiting_end += r.waiting_end;
            scale_events += r.scale_log.len();
            windows += r.window.is_some() as usize;
        }
    }
    println!(
        "conservation: all scenarios together: {seen:?}, waiting at the end {waiting_end}, \
         scaling decisions {scale_events}, runs with a window {windows}"
    );
    // The scenarios must exercise every outcome, or the identities above
    // would hold trivially.
    let names = ["worker_not_available", "fallback_start_failed", "fallback_throttled", "queue_full"];
    for (reason, n) in names.iter().zip(seen.failed_by) {
        assert!(n > 0, "no scenario produced a failure {reason}");
    }
    assert!(seen.served_fallback > 0 && seen.abandoned > 0 && waiting_end > 0, "{seen:?}, waiting {waiting_end}");
    assert!(scale_events > 0 && windows > 0, "no autoscaling ({scale_events}) or no window ({windows})");
}
