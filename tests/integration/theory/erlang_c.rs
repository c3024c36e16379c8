//! Erlang C (M/M/c with unlimited patience), Little's law, Erlang A (M/M/c
//! with abandonment) and the mean number in service of M/G/∞.

use surgesim::experiment::Aggregate;

use super::{check, check_scaled, erlang_a, erlang_c, exponential, lognormal, rejected, secs, Est, Single, MEAN_S};

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
