//! The multi-knob plan against a known optimum, its Pareto frontier,
//! families of surges drawn per replication, quantile SLOs over
//! replications, and their bad input.

use std::fs;
use std::path::Path;

use tempfile::TempDir;

use crate::common::{assert_exit, erlang_b, read, stderr, stdout, surgesim};

/// A loss system at A = 5 Erlang (0.5 calls/s of 10 s mean) where every
/// call may overflow to the fallback, which starts at once: P primary
/// slots and F fallback slots make one M/M/c/c system with c = P + F, and
/// the loss is Erlang B(5, P + F) whatever the mix.
fn mix_scenario(primary_price: f64, fallback_price: f64) -> String {
    format!(
        r#"
name = "mix"
seed = 5
duration = "2h"
warmup = "5m"
bin = "1h"
[arrivals]
kind = "poisson"
rate = 0.5
[[classes]]
name = "all"
share = 1.0
duration = {{ dist = "exponential", mean = "10s" }}
fallback_eligible = true
[primary]
workers = 4
calls_per_worker = 1
[fallback]
max_concurrency = 4
[cost]
primary_worker_hour = {primary_price}
fallback_slot_hour = {fallback_price}
"#
    )
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    p.display().to_string()
}

const TARGET: f64 = 0.027;

/// The evidence rows of plan.csv as (header, rows).
fn csv_rows(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(bytes);
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r.records().map(|x| x.unwrap().iter().map(String::from).collect()).collect();
    (header, rows)
}

fn col(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

/// Runs the plan with the given prices and returns (P, F) of its answer
/// and the output folder's tempdir.
fn plan_answer(primary_price: f64, fallback_price: f64, extra: &[&str]) -> ((i64, i64), TempDir) {
    let tmp = TempDir::new().unwrap();
    let sc = write(tmp.path(), "mix.toml", &mix_scenario(primary_price, fallback_price));
    let slo = format!("failure_rate<={TARGET}");
    let mut args = vec![
        "plan",
        &sc,
        "--vary",
        "primary.workers=1..10",
        "--vary",
        "fallback.max_concurrency=1..10",
        "--slo",
        &slo,
        "--minimize",
        "cost_total",
        "--max-replications",
        "64",
    ];
    args.extend_from_slice(extra);
    let out = surgesim(tmp.path(), &args);
    assert_exit(&args, &out, 0);
    let (h, rows) = csv_rows(&read(&tmp.path().join("notebooks-out/mix/plan"), "plan.csv"));
    let answers: Vec<&Vec<String>> = rows.iter().filter(|r| r[col(&h, "role")] == "answer").collect();
    assert_eq!(answers.len(), 1, "one answer row: {rows:?}");
    let a = answers[0];
    assert_eq!(a[col(&h, "decision")], "pass");
    let p: i64 = a[col(&h, "primary.workers")].parse().unwrap();
    let f: i64 = a[col(&h, "fallback.max_concurrency")].parse().unwrap();
    // Every probe's decision agrees with Erlang B at c = P + F.
    for r in &rows {
        let c: u64 = r[col(&h, "primary.workers")].parse::<u64>().unwrap()
            + r[col(&h, "fallback.max_concurrency")].parse::<u64>().unwrap();
        match r[col(&h, "decision")].as_str() {
            "pass" => assert!(erlang_b(c, 5.0) <= TARGET, "c = {c} passed: {r:?}"),
            "fail" => assert!(erlang_b(c, 5.0) > TARGET, "c = {c} failed: {r:?}"),
            _ => {}
        }
    }
    assert!(stdout(&out).contains("answer: primary.workers = "), "{}", stdout(&out));
    ((p, f), tmp)
}

/// The cheapest mix: the total c = P + F must be the smallest c with
/// B(5, c) ≤ target (Erlang B, computed here), all of it of the cheaper
/// kind but the one slot of the other kind the grid starts at.
#[test]
fn the_cheapest_mix_is_the_erlang_b_total_of_the_cheaper_kind() {
    let c = (1..100).find(|&c| erlang_b(c, 5.0) <= TARGET).unwrap() as i64;
    assert_eq!(c, 10); // B(9, 5) = 0.0363, B(10, 5) = 0.0184
    let (answer, _t) = plan_answer(1.0, 2.0, &[]);
    assert_eq!(answer, (c - 1, 1), "primary cheaper: all primary but the one fallback slot");
    let (answer, _t) = plan_answer(2.0, 1.0, &[]);
    assert_eq!(answer, (1, c - 1), "prices reversed: the mirror answer");
}

/// `--pareto failure_rate`: every combination of the grid, and the
/// frontier of cost against loss. Along the frontier, cost up means loss
/// strictly down; no combination beats a frontier point on both; and
/// every combination off it is matched or beaten by one on it.
#[test]
fn the_pareto_frontier_is_monotone_and_undominated() {
    let (_, tmp) = plan_answer(1.0, 2.0, &["--pareto", "failure_rate", "--pareto-replications", "4"]);
    let dir = tmp.path().join("notebooks-out/mix/plan");
    for f in ["pareto.csv", "pareto.svg", "pareto.png"] {
        assert!(read(&dir, f).len() > 100, "{f}");
    }
    let (h, rows) = csv_rows(&read(&dir, "pareto.csv"));
    assert_eq!(rows.len(), 100, "10 × 10 combinations");
    let pts: Vec<(f64, f64, bool)> = rows
        .iter()
        .map(|r| {
            (
                r[col(&h, "cost_total_mean")].parse().unwrap(),
                r[col(&h, "failure_rate_mean")].parse().unwrap(),
                r[col(&h, "on_frontier")] == "true",
            )
        })
        .collect();
    let mut front: Vec<(f64, f64)> = pts.iter().filter(|p| p.2).map(|p| (p.0, p.1)).collect();
    front.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!(front.len() >= 3, "{front:?}");
    for w in front.windows(2) {
        assert!(w[1].0 > w[0].0 && w[1].1 < w[0].1, "not monotone: {w:?}");
    }
    for &(c, m) in &front {
        assert!(!pts.iter().any(|p| p.0 <= c && p.1 <= m && (p.0 < c || p.1 < m)), "({c}, {m}) is dominated");
    }
    for p in pts.iter().filter(|p| !p.2) {
        assert!(front.iter().any(|&(c, m)| c <= p.0 && m <= p.1), "{p:?} is not matched by the frontier");
    }
}

// ---------------------------------------------------------------------------
// Families of surges
// ---------------------------------------------------------------------------

/// 1 call/s for 10 minutes and a spike at 2m held 1m whose multiplier is
/// lognormal with median 2.5 and 95th percentile 4, drawn per replication.
const FAMILY: &str = r#"
name = "family"
seed = 3
duration = "10m"
bin = "1m"
[arrivals]
kind = "poisson"
rate = 1.0
spike = { at = "2m", multiplier = { dist = "lognormal", median = 2.5, p95 = 4 }, hold = "1m" }
[[classes]]
name = "all"
share = 1.0
duration = "5s"
[primary]
workers = 50
calls_per_worker = 1
"#;

fn load(text: &str) -> surgesim::scenario::Scenario {
    surgesim::scenario::load_str(text, "family.toml", Path::new("."), &[]).unwrap()
}

/// Per-run values of `metric` over replications `0..n`.
fn per_run(sc: &surgesim::scenario::Scenario, n: u64, metric: &str) -> Vec<f64> {
    let agg = surgesim::experiment::run(sc, n, surgesim::model::RunOptions::default());
    agg.metric_values(metric)
}

/// Standard normal CDF Φ.
fn phi(z: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    Normal::new(0.0, 1.0).unwrap().cdf(z)
}

/// The multipliers drawn over 400 replications follow their law
/// (Kolmogorov–Smirnov at 1 %: D ≤ 1.628/√n), and each run's arrivals
/// follow its own draw: Σ(arrived − (600 + 60·(m − 1))) is within 3
/// standard errors of 0 (Poisson counts, variance = mean).
#[test]
fn drawn_multipliers_follow_their_law_and_drive_the_arrivals() {
    let sc = load(FAMILY);
    let n = 400;
    let m = per_run(&sc, n, "surge.arrivals.spike.multiplier");
    assert_eq!(m.len(), n as usize);
    let mu = 2.5f64.ln();
    let sigma = (4.0f64 / 2.5).ln() / 1.644_853_626_951_472;
    let mut x = m.clone();
    x.sort_by(f64::total_cmp);
    let nf = n as f64;
    let d = x
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let f = phi((v.ln() - mu) / sigma);
            (f - i as f64 / nf).abs().max(((i + 1) as f64 / nf - f).abs())
        })
        .fold(0.0, f64::max);
    assert!(d <= 1.628 / nf.sqrt(), "KS distance {d} above the 1% critical value {}", 1.628 / nf.sqrt());
    let arrived = per_run(&sc, n, "arrived");
    let (mut dev, mut var) = (0.0, 0.0);
    for (a, m) in arrived.iter().zip(&m) {
        let expect = 600.0 + 60.0 * (m - 1.0);
        dev += a - expect;
        var += expect;
    }
    assert!(dev.abs() <= 3.0 * var.sqrt(), "arrivals off their drawn surges by {dev} (se {})", var.sqrt());
    // Not one surge: the draws differ between replications.
    assert!(x[0] < 2.0 && x[x.len() - 1] > 3.5, "{} .. {}", x[0], x[x.len() - 1]);
}

/// The same draws under 1 and 2 threads: summary.json byte for byte, with
/// the drawn multiplier among its metrics. A plain multiplier draws nothing.
#[test]
fn draws_do_not_depend_on_the_thread_count() {
    let tmp = TempDir::new().unwrap();
    let sc = write(tmp.path(), "family.toml", FAMILY);
    let mut outs = Vec::new();
    for t in ["1", "2"] {
        let dir = tmp.path().join(format!("t{t}")).display().to_string();
        let args = ["run", sc.as_str(), "-r", "12", "--threads", t, "--out", &dir];
        assert_exit(&args, &surgesim(tmp.path(), &args), 0);
        outs.push(read(Path::new(&dir), "summary.json"));
    }
    assert!(outs[0] == outs[1], "--threads 1 and 2 differ");
    let s: serde_json::Value = serde_json::from_slice(&outs[0]).unwrap();
    let stat = &s["metrics"]["surge.arrivals.spike.multiplier"];
    assert!(stat["sd"].as_f64().unwrap() > 0.1 && stat["n"] == 12, "{stat}");
    let plain = load(&FAMILY.replace(r#"{ dist = "lognormal", median = 2.5, p95 = 4 }"#, "2.5"));
    assert!(plain.surge.is_none());
    assert!(!surgesim::result::metric_names(&plain).iter().any(|m| m.starts_with("surge.")));
}

/// The binomial CDF P(B ≤ k), B ~ Binomial(n, q), term by term.
fn binom_cdf(n: usize, q: f64, k: usize) -> f64 {
    let mut c = 1.0;
    let mut sum = 0.0;
    for j in 0..=k.min(n) {
        if j > 0 {
            c *= (n - j + 1) as f64 / j as f64;
        }
        sum += c * q.powi(j as i32) * (1.0 - q).powi((n - j) as i32);
    }
    sum
}

/// `check` with `"max_p90(arrived)"` over 60 replications: the estimate is
/// the order statistic x(⌈0.9·60⌉) = x(54) and the interval [x(l), x(u)]
/// with u the first index where P(B ≤ u − 1) ≥ 0.975 and l the last where
/// P(B ≥ l) ≥ 0.975 (B ~ Binomial(60, 0.9)); a threshold at x(u) passes,
/// just below it fails.
#[test]
fn a_quantile_slo_is_judged_on_the_right_order_statistics() {
    let n = 60usize;
    let sc = load(FAMILY);
    let mut x = per_run(&sc, n as u64, "arrived");
    x.sort_by(f64::total_cmp);
    let u = (1..=n).find(|&k| binom_cdf(n, 0.9, k - 1) >= 0.975).unwrap();
    let l = (1..=n).rev().find(|&k| 1.0 - binom_cdf(n, 0.9, k - 1) >= 0.975).unwrap();
    assert!(l < 54 && 54 < u && u < n, "l {l}, u {u}");
    let tmp = TempDir::new().unwrap();
    for (threshold, pass) in [(x[u - 1], true), (x[u - 1] - 0.5, false)] {
        let text = format!("{FAMILY}[slo]\nreplications = {n}\n\"max_p90(arrived)\" = {threshold}\n");
        let file = write(tmp.path(), "q.toml", &text);
        let json = tmp.path().join("check.json").display().to_string();
        let args = ["check", file.as_str(), "--json", &json];
        let out = surgesim(tmp.path(), &args);
        assert_exit(&args, &out, if pass { 0 } else { 1 });
        assert!(stdout(&out).contains("p90(arrived) <="), "{}", stdout(&out));
        let r: serde_json::Value = serde_json::from_slice(&fs::read(&json).unwrap()).unwrap();
        let v = &r["scenarios"][0]["verdicts"][0];
        assert_eq!(v["mean"].as_f64(), Some(x[53]), "estimate x(54): {v}");
        assert_eq!(v["ci"][0].as_f64(), Some(x[l - 1]), "lower bound x({l}): {v}");
        assert_eq!(v["ci"][1].as_f64(), Some(x[u - 1]), "upper bound x({u}): {v}");
        assert_eq!(v["pass"].as_bool(), Some(pass), "{v}");
    }
}

// ---------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------

/// Every mistake exits 2 with a message naming the flag or the field.
#[test]
fn bad_plans_and_families_exit_2_naming_the_flag_or_field() {
    let tmp = TempDir::new().unwrap();
    let sc = write(tmp.path(), "mix.toml", &mix_scenario(1.0, 2.0));
    let v1 = "primary.workers=1..3";
    let v2 = "fallback.max_concurrency=1..3";
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--vary", v1, "--vary", v2, "--slo", "failure_rate<=0.1"], "--minimize"),
        (
            vec!["--vary", v1, "--vary", v2, "--slo", "failure_rate<=0.1", "--minimize", "cost_totl"],
            "--minimize cost_totl",
        ),
        (
            vec![
                "--vary",
                v1,
                "--vary",
                v2,
                "--slo",
                "failure_rate<=0.1",
                "--minimize",
                "cost_total",
                "--pareto",
                "nope",
            ],
            "--pareto nope",
        ),
        (vec!["--vary", v1, "--vary", v2, "--slo", "p95(failed<=1", "--minimize", "cost_total"], "--slo"),
        (
            vec!["--vary", v1, "--vary", "primary.workers=2..4", "--slo", "failed<=1", "--minimize", "cost_total"],
            "already varied",
        ),
        (vec!["--vary", v1, "--slo", "failed<=1", "--slo", "arrived>=1"], "--minimize"),
        (
            vec!["--vary", v1, "--vary", "primary.workerz=1..2", "--slo", "failed<=1", "--minimize", "cost_total"],
            "primary.workerz",
        ),
    ];
    for (extra, needle) in cases {
        let mut args = vec!["plan", sc.as_str()];
        args.extend(extra);
        let out = surgesim(tmp.path(), &args);
        assert_exit(&args, &out, 2);
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }
    let spike = r#"{ dist = "lognormal", median = 2.5, p95 = 4 }"#;
    let bad_files = [
        (FAMILY.replace(spike, r#"{ dist = "lognormal", median = 2.5 }"#), "arrivals.spike.multiplier.p95"),
        (FAMILY.replace(spike, r#"{ dist = "weibull", mean = 2 }"#), "arrivals.spike.multiplier.dist"),
        (FAMILY.replace(r#"hold = "1m""#, r#"hold = { dist = "uniform", min = "1m" }"#), "arrivals.spike.hold.max"),
        (
            FAMILY
                .replace("rate = 1.0", r#"rate = [{ at = "0s", per_s = { dist = "gamma", shape = -1, scale = 1 } }]"#),
            "arrivals.rate[0].per_s.shape",
        ),
        (format!("{FAMILY}[cost]\nfallback_slot_hour = 1\n"), "cost.fallback_slot_hour"),
        (format!("{FAMILY}[slo]\n\"max_p100(failed)\" = 1\n"), "max_p100(failed)"),
    ];
    for (text, needle) in bad_files {
        let file = write(tmp.path(), "bad.toml", &text);
        let args = ["run", file.as_str(), "--out", "o"];
        let out = surgesim(tmp.path(), &args);
        assert_exit(&args, &out, 2);
        assert!(stderr(&out).contains(needle), "{needle}: {}", stderr(&out));
    }
}
