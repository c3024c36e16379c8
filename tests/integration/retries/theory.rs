//! Retrial queues against theory: the M/M/1 retrial queue with the
//! classical linear policy (each call in orbit retries after an exponential
//! delay of mean 1/θ, unlimited attempts) has an exact stationary law
//! (Falin & Templeton, *Retrial Queues*, 1997, §1.2): the server is busy a
//! fraction ρ = λ/μ of the time and the orbit holds on average
//! ρ²/(1 − ρ) + λρ/(θ(1 − ρ)) calls. The M/M/3 retrial queue has no closed
//! form; its truncated Markov chain is solved here. The orbit's mean is
//! read through Little's law on the retry rate: retries per second = θ × E[orbit].

use super::{mean_se, runs, scenario, values};

/// A retrial queue: `c` servers, Poisson(λ) arrivals, exponential service
/// of mean 1 s, blocked calls retry after an exponential delay of mean 1/θ.
fn retrial(c: u32, lambda: f64, theta: f64, seed: u64, duration: &str) -> String {
    format!(
        r#"
        name = "retrial"
        seed = {seed}
        duration = "{duration}"
        warmup = "10m"
        [arrivals]
        kind = "poisson"
        rate = {lambda}
        [[classes]]
        name = "all"
        share = 1.0
        duration = {{ dist = "exponential", mean = "1s" }}
        [primary]
        workers = {c}
        [clients]
        retry = {{ attempts = 0, on = ["worker_not_available"], delay = {{ dist = "exponential", mean = {mean} }} }}
        "#,
        mean = 1.0 / theta
    )
}

/// Per-run busy servers (mean) and orbit size (retries per s / θ).
fn measure(c: u32, lambda: f64, theta: f64, seed: u64, duration: &str, reps: u64) -> (Vec<f64>, Vec<f64>) {
    let sc = scenario(&retrial(c, lambda, theta, seed, duration));
    let agg = runs(&sc, reps);
    let secs = sc.duration.as_secs_f64();
    let busy = values(&agg, "busy_primary_avg");
    let orbit: Vec<f64> = values(&agg, "retries").iter().map(|r| r / secs / theta).collect();
    (busy, orbit)
}

fn within_3se(what: &str, xs: &[f64], exact: f64) {
    let (m, se) = mean_se(xs);
    assert!((m - exact).abs() <= 3.0 * se, "{what}: {m} ± {se} (SE), exact {exact}");
    // The test must be able to fail: its SE is a few percent at most.
    assert!(se < 0.05 * exact, "{what}: SE {se} too wide against {exact}");
}

fn mm1_case(lambda: f64, theta: f64, seed: u64) {
    let rho = lambda;
    let (busy, orbit) = measure(1, lambda, theta, seed, "4h", 16);
    within_3se(&format!("M/M/1 retrial ρ={rho}: busy fraction"), &busy, rho);
    let exact = rho * rho / (1.0 - rho) + lambda * rho / (theta * (1.0 - rho));
    within_3se(&format!("M/M/1 retrial ρ={rho}: mean orbit"), &orbit, exact);
}

#[test]
fn mm1_retrial_light_load() {
    mm1_case(0.4, 0.5, 171);
}

#[test]
fn mm1_retrial_heavy_load() {
    mm1_case(0.7, 2.0, 172);
}

/// Stationary law of the M/M/c retrial queue with the orbit truncated at
/// `jmax` (Gauss–Seidel on the balance equations): (mean busy, mean orbit).
fn mmc_retrial_exact(c: usize, lambda: f64, mu: f64, theta: f64, jmax: usize) -> (f64, f64) {
    let n = (c + 1) * (jmax + 1);
    let idx = |i: usize, j: usize| j * (c + 1) + i;
    // Incoming transitions of each state: (from, rate); and its total outflow.
    let mut inc: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
    let mut out = vec![0.0; n];
    for j in 0..=jmax {
        for i in 0..=c {
            let s = idx(i, j);
            let mut go = |to: usize, r: f64| {
                inc[to].push((s, r));
                out[s] += r;
            };
            if i < c {
                go(idx(i + 1, j), lambda);
                if j > 0 {
                    go(idx(i + 1, j - 1), j as f64 * theta);
                }
            } else if j < jmax {
                go(idx(c, j + 1), lambda);
            }
            if i > 0 {
                go(idx(i - 1, j), i as f64 * mu);
            }
        }
    }
    let mut p = vec![1.0 / n as f64; n];
    for _ in 0..20_000 {
        let mut delta: f64 = 0.0;
        for s in 0..n {
            let v = inc[s].iter().map(|&(f, r)| p[f] * r).sum::<f64>() / out[s];
            delta = delta.max((v - p[s]).abs());
            p[s] = v;
        }
        let total: f64 = p.iter().sum();
        p.iter_mut().for_each(|x| *x /= total);
        if delta < 1e-14 {
            break;
        }
    }
    let (mut busy, mut orbit) = (0.0, 0.0);
    for j in 0..=jmax {
        for i in 0..=c {
            busy += i as f64 * p[idx(i, j)];
            orbit += j as f64 * p[idx(i, j)];
        }
    }
    (busy, orbit)
}

#[test]
fn mm3_retrial_against_its_markov_chain() {
    let (lambda, theta) = (2.2, 0.5);
    let (busy_x, orbit_x) = mmc_retrial_exact(3, lambda, 1.0, theta, 400);
    // Without retries lost calls would not come back: busy < λ; with them, all are served.
    assert!((busy_x - lambda).abs() < 1e-6, "the chain serves every call: {busy_x}");
    let (busy, orbit) = measure(3, lambda, theta, 173, "4h", 16);
    within_3se("M/M/3 retrial: busy servers", &busy, busy_x);
    within_3se("M/M/3 retrial: mean orbit", &orbit, orbit_x);
}
