//! Sweeps, shards, merge and the planner: end to end through the binary
//! (determinism across threads and shards, plots, exit codes) and through
//! the library where per-run values or exact answers are needed
//! (monotonicity on common random numbers, Erlang B).
//!
//! Scenarios are written inline into temporary folders; every command runs
//! with a temporary working directory, so nothing lands in the repository.

use std::fs;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use surgesim::model::RunOptions;
use surgesim::result::metric_names;
use surgesim::slo::Objective;
use surgesim::sweep::plan::{self, Decision, PlanSpec};
use surgesim::sweep::runs::run_points;
use surgesim::sweep::{Axis, AxisValue, BaseScenario, Grid};

use crate::common::{assert_exit, erlang_b, ok, read, surgesim};

// ---------------------------------------------------------------------------
// Scenarios and helpers
// ---------------------------------------------------------------------------

/// A small pool under a short surge, with queueing: a few thousand calls a run.
const SURGE: &str = r#"
name = "surge"
seed = 5
duration = "6m"
bin = "1m"
warmup = "2m"
window = "00:02..00:04"
clock_start = "00:00"
[arrivals]
kind = "poisson"
rate = 5.0
spike = { at = "2m", multiplier = 2.0, ramp = "30s", hold = "1m", decay = "1m" }
[[classes]]
name = "short"
share = 0.5
duration = { dist = "exponential", mean = "20s" }
[[classes]]
name = "long"
share = 0.5
duration = { dist = "lognormal", median = "40s", p95 = "2m" }
[primary]
workers = 20
calls_per_worker = 10
[admission]
max_wait = "5s"
queue_limit = 10
[cost]
primary_worker_hour = 0.12
"#;

/// M/M/c/c: Poisson arrivals at 2/s, exponential 10 s calls (A = 20
/// Erlang), one call per worker, no queue, no autoscaler, no fallback.
const MMCC: &str = r#"
name = "mmcc"
seed = 11
duration = "2h"
warmup = "5m"
bin = "1h"
[arrivals]
kind = "poisson"
rate = 2.0
[[classes]]
name = "all"
share = 1.0
duration = { dist = "exponential", mean = "10s" }
[primary]
workers = 20
calls_per_worker = 1
"#;

/// A temporary folder holding `name` with `text`.
fn scenario(name: &str, text: &str) -> (TempDir, String) {
    let tmp = TempDir::new().unwrap();
    let path = tmp.path().join(name);
    fs::write(&path, text).unwrap();
    (tmp, path.display().to_string())
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// A non-empty PNG and an SVG with content.
#[track_caller]
fn assert_plots(dir: &Path, stem: &str) {
    let png = read(dir, &format!("{stem}.png"));
    assert!(png.len() > 1000 && png.starts_with(b"\x89PNG"), "{stem}.png is not a PNG");
    let svg = String::from_utf8(read(dir, &format!("{stem}.svg"))).unwrap();
    assert!(svg.contains("<svg") && svg.len() > 1000, "{stem}.svg is empty");
}

const GRID: [&str; 6] =
    ["--vary", "primary.workers=8..20:4", "--vary", "arrivals.spike.multiplier=1.5..2.5:0.5", "-r", "4"];

// ---------------------------------------------------------------------------
// Determinism: threads and shards
// ---------------------------------------------------------------------------

#[test]
fn sweep_csv_is_byte_identical_under_1_and_2_threads_and_when_sharded() {
    let (tmp, sc) = scenario("surge.toml", SURGE);
    let cwd = tmp.path();
    let sweep = |extra: &[&str]| {
        let mut args = vec!["sweep", &sc];
        args.extend_from_slice(&GRID);
        args.extend_from_slice(extra);
        ok(cwd, &args)
    };
    let t1 = cwd.join("t1");
    let t2 = cwd.join("t2");
    let out = sweep(&["--threads", "1", "--out", &s(&t1)]);
    sweep(&["--threads", "2", "--out", &s(&t2)]);
    let csv = read(&t1, "sweep.csv");
    assert_eq!(csv, read(&t2, "sweep.csv"), "sweep.csv differs between 1 and 2 threads");

    // The table: 4 × 3 points, the first --vary slowest, columns by path.
    let text = String::from_utf8(csv.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 13);
    assert!(lines[0].starts_with("point,primary.workers,arrivals.spike.multiplier,headroom_pct,arrived_mean,"));
    assert!(lines[0].contains(",window.failed_mean,window.failed_ci_lo,window.failed_ci_hi,"));
    // Calls may wait here, so the service-level metrics close the row.
    assert!(lines[0].contains(",primary_worker_seconds_ci_hi,service_level_20s_mean,"));
    assert!(lines[0].ends_with(",abandon_rate_ci_hi"));
    assert!(lines[1].starts_with("0,8,1.5,") && lines[2].starts_with("1,8,2,") && lines[4].starts_with("3,12,1.5,"));
    // headroom: 8 × 10 slots for 5/s × mean duration at the start.
    let mean_s =
        0.5 * 20.0 + 0.5 * (40f64.ln() + 0.5 * ((120f64.ln() - 40f64.ln()) / 1.6448536269514722).powi(2)).exp();
    let headroom: f64 = lines[1].split(',').nth(3).unwrap().parse().unwrap();
    assert!((headroom - (80.0 / (5.0 * mean_s) - 1.0) * 100.0).abs() < 1e-9, "headroom {headroom}");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("primary.workers") && table.contains("headroom_%") && table.contains("failure_rate"));
    assert_plots(&t1, "headroom");
    assert_eq!(
        String::from_utf8(read(&t1, "sweep.txt")).unwrap(),
        table.lines().take(14).collect::<Vec<_>>().join("\n") + "\n"
    );

    // Two shards (two threads each way), then merge: the same bytes.
    let p1 = cwd.join("p1");
    let p2 = cwd.join("p2");
    sweep(&["--shard", "2/2", "--threads", "1", "--out", &s(&p2)]);
    sweep(&["--shard", "1/2", "--out", &s(&p1)]);
    let part = String::from_utf8(read(&p1, "sweep.part.csv")).unwrap();
    assert_eq!(part.lines().count(), 1 + 6);
    let manifest: serde_json::Value = serde_json::from_slice(&read(&p2, "manifest.json")).unwrap();
    assert_eq!(manifest["points"], serde_json::json!([1, 3, 5, 7, 9, 11]));
    assert_eq!(manifest["replications"], 4);
    let merged = cwd.join("merged");
    ok(cwd, &["merge", &s(&p2), &s(&p1), "--out", &s(&merged)]);
    assert_eq!(read(&merged, "sweep.csv"), csv, "merged sweep.csv differs from the unsharded one");
    assert_eq!(read(&merged, "sweep.txt"), read(&t1, "sweep.txt"));
    assert_plots(&merged, "headroom");

    // The default folders.
    sweep(&["--shard", "1/2"]);
    assert!(cwd.join("notebooks-out/surge/sweep-shard-1-of-2/sweep.part.csv").is_file());
    ok(cwd, &["merge", &s(&p1), &s(&p2)]);
    assert_eq!(read(&cwd.join("notebooks-out/surge/sweep"), "sweep.csv"), csv);
}

#[test]
fn merge_refuses_incomplete_repeated_and_foreign_parts() {
    let (tmp, sc) = scenario("surge.toml", SURGE);
    let cwd = tmp.path();
    let part = |dir: &str, shard: &str, reps: &str| {
        let out = s(&cwd.join(dir));
        ok(cwd, &["sweep", &sc, "--vary", "primary.workers=10..20:5", "-r", reps, "--shard", shard, "--out", &out]);
        out
    };
    let a = part("a", "1/3", "2");
    let b = part("b", "2/3", "2");
    let c = part("c", "3/3", "2");
    let other = part("other", "3/3", "3");
    let merged = cwd.join("merged");
    for (parts, needle) in [
        (vec![&a, &b], "missing shard(s) 3/3"),
        (vec![&a, &b, &b], "both shard 2/3"),
        (vec![&a, &b, &other], "not from the same sweep: their replications differ"),
        (vec![&a, &b, &s(&cwd.join("nowhere"))], "cannot read manifest.json"),
    ] {
        let mut args = vec!["merge"];
        args.extend(parts.iter().map(|p| p.as_str()));
        let m = s(&merged);
        args.extend(["--out", &m]);
        let out = surgesim(cwd, &args);
        assert_exit(&args, &out, 2);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: expected {needle:?} in\n{err}");
        assert!(!merged.exists(), "a failed merge wrote {}", merged.display());
    }
    // An interrupted part: its rows are not the points its manifest lists.
    let csv = fs::read_to_string(cwd.join("c/sweep.part.csv")).unwrap();
    fs::write(cwd.join("c/sweep.part.csv"), csv.lines().next().unwrap().to_string() + "\n").unwrap();
    let out = surgesim(cwd, &["merge", &a, &b, &c]);
    assert_exit(&["merge"], &out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing [2]"));
}

// ---------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------

#[test]
fn bad_vary_exits_2_naming_the_range_and_writes_nothing() {
    let (tmp, sc) = scenario("surge.toml", SURGE);
    let cwd = tmp.path();
    for (vary, needle) in [
        ("primary.wokers=10..20:5", "unknown field `wokers`"),
        ("primary.workers=1.5..3:0.5", "primary.workers=1.5"),
        ("primary.workers=20..10:5", "empty"),
        ("primary.workers=10..20:0", "positive"),
        ("primary.workers=10..20:-1", "positive"),
        ("primary.workers=10..20", "STEP"),
        ("primary.workers=ten..20:5", "FROM"),
        ("primary.workers=0..10:5", "out of range"),
        ("name=1..2:1", "name=1"),
    ] {
        let args = ["sweep", &sc, "--vary", vary, "-r", "2"];
        let out = surgesim(cwd, &args);
        assert_exit(&args, &out, 2);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("--vary {vary}")), "{vary}: the message does not name the range:\n{err}");
        assert!(err.contains(needle), "{vary}: expected {needle:?} in\n{err}");
    }
    // The second of two ranges is the one named.
    let args = ["sweep", &sc, "--vary", "primary.workers=10..20:5", "--vary", "admission.queue_limit=-1..1:1"];
    let out = surgesim(cwd, &args);
    assert_exit(&args, &out, 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--vary admission.queue_limit=-1..1:1") && !err.contains("primary.workers=10..20"), "{err}");
    for args in [
        vec!["sweep", &sc, "--vary", "primary.workers=10..20:5", "--shard", "3/2"],
        vec!["plan", &sc, "--vary", "primary.workers=10..20", "--slo", "failure_rat<=0.1"],
        vec!["plan", &sc, "--vary", "primary.workerz=10..20", "--slo", "failure_rate<=0.1"],
        vec!["plan", &sc, "--vary", "primary.workers=10..20", "--slo", "failure_rate<=0.1", "--confidence", "1.5"],
    ] {
        let out = surgesim(cwd, &args);
        assert_exit(&args, &out, 2);
    }
    assert!(!cwd.join("notebooks-out").exists(), "a rejected command wrote output");
}

// ---------------------------------------------------------------------------
// Common random numbers: more workers never fail more calls, run by run
// ---------------------------------------------------------------------------

#[test]
fn more_workers_never_fail_more_calls_in_any_replication() {
    for text in [MMCC.replace("2h", "20m"), SURGE.to_string()] {
        let base = BaseScenario::from_text(text, "inline.toml".into(), ".".into(), vec![], None);
        let grid = Grid::new(vec![Axis::parse("--vary", "primary.workers=10..30:2").unwrap()]);
        let scenarios = base.load_grid(&grid).unwrap();
        let points: Vec<_> = grid.points().into_iter().zip(scenarios).collect();
        let results = run_points(&points, 6, RunOptions::default(), &|| {});
        let failed: Vec<Vec<f64>> = results.iter().map(|r| r.values("failed").unwrap()).collect();
        for rep in 0..6 {
            for w in failed.windows(2) {
                assert!(w[1][rep] <= w[0][rep], "replication {rep}: failed rose from {} to {}", w[0][rep], w[1][rep]);
            }
        }
        assert!(failed[0].iter().all(|&f| f > 0.0), "the smallest pool should fail calls");
        // Common random numbers: every point saw the same arrivals.
        let arrived: Vec<Vec<f64>> = results.iter().map(|r| r.values("arrived").unwrap()).collect();
        assert!(arrived.windows(2).all(|w| w[0] == w[1]));
    }
}

// ---------------------------------------------------------------------------
// The planner against theory: Erlang B
// ---------------------------------------------------------------------------

/// What a probe's decision guarantees, checked against the exact value
/// `exact` of its metric: a pass means the upper confidence bound meets the
/// target, so the exact value must too (a pass above the target is a false
/// pass, which the 95 % interval makes a 2.5 % event); mirrored for a fail;
/// an undecided probe spent every replication and its interval straddles
/// the target.
#[track_caller]
fn check_decision(what: &str, decision: Decision, ci: [f64; 2], runs: u64, exact: f64, target: f64, max: u64) {
    let [lo, hi] = ci;
    match decision {
        Decision::Pass => assert!(hi <= target && exact <= target, "{what}: passed, interval {ci:?}, exact {exact}"),
        Decision::Fail => assert!(lo > target && exact > target, "{what}: failed, interval {ci:?}, exact {exact}"),
        Decision::Undecided => {
            assert!(lo <= target && target < hi && runs == max, "{what}: undecided, interval {ci:?}, {runs} runs")
        }
    }
}

/// M/M/c/c at 20 Erlang against a 5 % loss target: Erlang B gives c = 26
/// (B(25) = 0.0502 is just above the target, B(26) = 0.0372 well below).
/// The planner must answer exactly 26: a pass at 25 would be a false pass,
/// and 26 is decided with 8 replications. Bisection probes the value just
/// below its answer, and that probe did not pass.
#[test]
fn planner_finds_the_erlang_b_answer_for_a_loss_system() {
    let target = 0.05;
    let expected = (1..200).find(|&c| erlang_b(c, 20.0) <= target).unwrap();
    assert_eq!(expected, 26); // B(25, 20) = 0.0502, B(26, 20) = 0.0372

    let base = BaseScenario::from_text(MMCC.into(), "mmcc.toml".into(), ".".into(), vec![], None);
    let sc = base.scenario().unwrap();
    let spec = PlanSpec {
        objective: Objective::parse("failure_rate<=0.05", &metric_names(&sc)).unwrap(),
        confidence: 0.95,
        first_batch: 8,
        max_replications: 64,
    };
    let axis = Axis::parse("--vary", "primary.workers=10..60:1").unwrap();
    let outcome =
        plan::plan(&axis.values, false, &spec, |v| base.load_point(&[&axis], &[v]), |_| {}).expect("valid values");
    let Some(AxisValue::Int(c)) = outcome.answer else { panic!("no answer: {outcome:?}") };
    assert_eq!(c, expected as i64, "planner says {c}, Erlang B says {expected}: {outcome:#?}");
    // Bisection over 51 values: the top, then at most ceil(log2(51)) = 6 more.
    assert!(outcome.probes.len() <= 7, "{} probes", outcome.probes.len());
    for p in &outcome.probes {
        let c = p.value.as_f64() as u64;
        let ci = p.ci.expect("at least 8 replications give an interval");
        check_decision(&format!("c = {c}"), p.decision, ci, p.runs, erlang_b(c, 20.0), target, 64);
    }
    let at = |v: i64| outcome.probes.iter().find(|p| p.value == AxisValue::Int(v));
    assert_eq!(at(c).map(|p| p.decision), Some(Decision::Pass), "the answer was probed and passed");
    assert!(at(c - 1).is_some_and(|p| p.decision != Decision::Pass), "c − 1 was probed and not met: {outcome:#?}");

    // Decreasing: the largest arrival rate 26 slots carry at the target.
    // Erlang B: 2.0/s (20 Erlang) gives 0.0372, 2.1/s gives 0.0508, so the
    // answer on the 0.1 grid is exactly 2.0.
    assert!(erlang_b(26, 20.0) <= target && erlang_b(26, 21.0) > target);
    let rate = Axis::parse("--vary", "arrivals.rate=1.5..3:0.1").unwrap();
    let base26 = BaseScenario::from_text(
        MMCC.into(),
        "mmcc.toml".into(),
        ".".into(),
        vec!["primary.workers=26".parse().unwrap()],
        None,
    );
    let out = plan::plan(&rate.values, true, &spec, |v| base26.load_point(&[&rate], &[v]), |_| {}).unwrap();
    let best = out.answer.expect("an answer").as_f64();
    assert!((best - 2.0).abs() < 1e-9, "largest rate {best}, Erlang B gives 2.0/s: {out:#?}");
    for p in &out.probes {
        let r = p.value.as_f64();
        let ci = p.ci.expect("an interval");
        check_decision(&format!("rate {r}"), p.decision, ci, p.runs, erlang_b(26, 10.0 * r), target, 64);
    }
}

/// The CLI's answer line names exactly the Erlang B answer (30 min runs,
/// up to 32 replications: 26 is decided, 25 is not met).
#[test]
fn plan_cli_writes_its_evidence_and_exits_1_when_nothing_in_range_meets_the_slo() {
    let (tmp, sc) = scenario("mmcc.toml", &MMCC.replace("2h", "30m"));
    let cwd = tmp.path();
    let args =
        ["plan", &sc, "--vary", "primary.workers=15..40", "--slo", "failure_rate<=0.05", "--max-replications", "32"];
    let out = ok(cwd, &args);
    let text = String::from_utf8_lossy(&out.stdout);
    let answer = text.lines().find_map(|l| l.strip_prefix("answer: primary.workers = ")).expect("an answer line");
    assert_eq!(answer.split_whitespace().next(), Some("26"), "{text}");
    let dir = cwd.join("notebooks-out/mmcc/plan");
    let csv = String::from_utf8(read(&dir, "plan.csv")).unwrap();
    assert!(csv.starts_with("probe,primary.workers,runs,mean,ci_lo,ci_hi,objective,decision\n"));
    assert!(csv.lines().nth(1).unwrap().starts_with("1,40,"), "the top of the range is probed first:\n{csv}");
    assert!(String::from_utf8(read(&dir, "plan.txt")).unwrap().contains("answer: primary.workers = 26 "));

    let args =
        ["plan", &sc, "--vary", "primary.workers=5..15", "--slo", "failure_rate<=0.05", "--max-replications", "8"];
    let out = surgesim(cwd, &args);
    assert_exit(&args, &out, 1);
    assert!(String::from_utf8_lossy(&out.stdout).contains("no value in range meets the SLO"));
}

/// For each capacity the frontier brackets the rate at which Erlang B
/// reaches 5 % (10 s calls): the bracket is at most 1 % of the range wide
/// (the method's stopping rule), its low end passed and its high end did
/// not, each decision consistent with Erlang B at that rate (see
/// [`check_decision`]).
#[test]
fn frontier_is_monotone_in_capacity_and_drawn() {
    let (tmp, sc) = scenario("mmcc.toml", &MMCC.replace("2h", "30m"));
    let cwd = tmp.path();
    let out_dir: PathBuf = cwd.join("f");
    let args = [
        "plan",
        &sc,
        "--vary",
        "primary.workers=20..30",
        "--step",
        "5",
        "--frontier",
        "arrivals.rate=1..4",
        "--slo",
        "failure_rate<=0.05",
        "--max-replications",
        "16",
        "--out",
        &s(&out_dir),
    ];
    ok(cwd, &args);
    let csv = String::from_utf8(read(&out_dir, "frontier.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 3, "{csv}");
    let best: Vec<f64> = rows.iter().map(|r| r[1].parse().unwrap()).collect();
    assert!(best.windows(2).all(|w| w[0] <= w[1]), "frontier not monotone: {best:?}");
    let probes = String::from_utf8(read(&out_dir, "frontier-probes.csv")).unwrap();
    assert!(probes.starts_with("probe,primary.workers,arrivals.rate,runs,mean,ci_lo,ci_hi,objective,decision\n"));
    let probes: Vec<Vec<&str>> = probes.lines().skip(1).map(|l| l.split(',').collect()).collect();
    for (r, c) in rows.iter().zip([20u64, 25, 30]) {
        assert_eq!((r[0], r[4]), (c.to_string().as_str(), "found"), "{csv}");
        let (lo, hi): (f64, f64) = (r[2].parse().unwrap(), r[3].parse().unwrap());
        assert!(hi - lo <= 0.03 + 1e-9, "bracket [{lo}, {hi}] wider than 1% of the range");
        for p in probes.iter().filter(|p| p[1] == c.to_string()) {
            let rate: f64 = p[2].parse().unwrap();
            let decision = match p[8] {
                "pass" => Decision::Pass,
                "fail" => Decision::Fail,
                _ => Decision::Undecided,
            };
            let ci = [p[5].parse().unwrap(), p[6].parse().unwrap()];
            let what = format!("c = {c}, rate {rate}");
            check_decision(&what, decision, ci, p[3].parse().unwrap(), erlang_b(c, 10.0 * rate), 0.05, 16);
            if rate == lo {
                assert_eq!(decision, Decision::Pass, "{what}: the bracket's low end passed");
            }
            if rate == hi {
                assert_ne!(decision, Decision::Pass, "{what}: the bracket's high end was not met");
            }
        }
        assert!(probes.iter().any(|p| p[1] == c.to_string() && p[2].parse::<f64>().unwrap() == lo));
        assert!(probes.iter().any(|p| p[1] == c.to_string() && p[2].parse::<f64>().unwrap() == hi));
    }
    assert_plots(&out_dir, "frontier");
}
