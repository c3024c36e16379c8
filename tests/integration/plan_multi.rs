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
