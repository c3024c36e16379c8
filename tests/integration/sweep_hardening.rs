//! Hostile input to `check`, `sweep`, `plan` and `merge`: symlink cycles
//! under `check DIR`, baselines without an entry, grids too large to set
//! up, a `--step` that misses the end of a planning range, and part
//! folders whose manifest or rows were edited before `merge`.
//!
//! Every command runs the built binary in a temporary working directory,
//! so nothing lands in the repository.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use surgesim::model::RunOptions;
use surgesim::sweep::runs::{run_lazily, run_points, BLOCK_RUNS};
use surgesim::sweep::{Axis, BaseScenario, Grid, Manifest};

// ---------------------------------------------------------------------------
// Scenarios and helpers
// ---------------------------------------------------------------------------

/// A few calls a run: 1/s for 10 s, 5 s calls, plenty of workers.
fn tiny(name: &str) -> String {
    format!(
        r#"
name = "{name}"
seed = 5
duration = "10s"
bin = "10s"
[arrivals]
kind = "poisson"
rate = 1.0
[[classes]]
name = "all"
share = 1.0
duration = {{ dist = "exponential", mean = "5s" }}
[primary]
workers = 20
calls_per_worker = 1
[slo]
replications = 2
max_failure_rate = 0.5
"#
    )
}

/// M/M/c/c: Poisson arrivals at 2/s, exponential 10 s calls (A = 20
/// Erlang), one call per worker, no queue.
const MMCC: &str = r#"
name = "mmcc"
seed = 11
duration = "20m"
warmup = "5m"
bin = "5m"
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

/// Runs the binary in `cwd`; a run still going after two minutes is killed
/// and fails the test (a hang guard, not a timing check). Fails on a panic.
fn surgesim(cwd: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_surgesim"))
        .current_dir(cwd)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("surgesim {args:?} did not finish (hang)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code() != Some(101) && !err.contains("panicked"), "surgesim {args:?} panicked\n{err}");
    out
}

/// Runs and checks the exit code; returns (stdout, stderr).
#[track_caller]
fn expect(cwd: &Path, args: &[&str], code: i32) -> (String, String) {
    let out = surgesim(cwd, args);
    let (so, se) =
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    assert_eq!(out.status.code(), Some(code), "surgesim {args:?}\n--- stdout\n{so}\n--- stderr\n{se}");
    (so, se)
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    p
}

// ---------------------------------------------------------------------------
// 14.8: `check DIR` through symlinked folders
// ---------------------------------------------------------------------------

#[cfg(unix)]
#[test]
fn check_follows_links_without_cycling_and_checks_each_file_once() {
    use std::os::unix::fs::symlink;
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("scenarios");
    fs::create_dir_all(dir.join("sub")).unwrap();
    write(&dir, "a.toml", &tiny("tiny-a"));
    // Two links back up the tree (a cycle each) and a link to the file.
    symlink("..", dir.join("sub/up")).unwrap();
    symlink("../..", dir.join("sub/up2")).unwrap();
    symlink("../a.toml", dir.join("sub/b.toml")).unwrap();
    let (out, err) = expect(tmp.path(), &["check", "scenarios", "scenarios/a.toml"], 0);
    let rows = out.lines().filter(|l| l.starts_with("tiny-a ")).count();
    assert_eq!(rows, 1, "the scenario is reported {rows} times:\n{out}");
    assert!(out.contains(", 1 scenario(s) checked"), "{out}");
    assert!(err.contains("scenarios/sub/b.toml is the same file as scenarios/a.toml"), "{err}");
    assert!(err.contains("scenarios/sub/up is folder scenarios again"), "{err}");
    assert!(err.contains("scenarios/a.toml is the same file as scenarios/a.toml"), "{err}");
}

// ---------------------------------------------------------------------------
// 14.15: a baseline without an entry for a scenario
// ---------------------------------------------------------------------------

#[test]
fn check_warns_about_and_counts_scenarios_the_baseline_lacks() {
    let tmp = TempDir::new().unwrap();
    let cwd = tmp.path();
    write(cwd, "a.toml", &tiny("tiny-a"));
    write(cwd, "b.toml", &tiny("tiny-b"));
    expect(cwd, &["check", "a.toml", "--write-baseline", "only-a.json"], 0);
    expect(cwd, &["check", "a.toml", "b.toml", "--write-baseline", "both.json"], 0);
    let (out, err) = expect(cwd, &["check", "a.toml", "b.toml", "--baseline", "only-a.json"], 0);
    assert!(err.contains("baseline only-a.json has no entry for scenario tiny-b (b.toml)"), "{err}");
    assert!(!err.contains("scenario tiny-a"), "{err}");
    assert!(out.contains("2 scenario(s) checked, 1 without a baseline entry"), "{out}");
    let (out, err) = expect(cwd, &["check", "a.toml", "b.toml", "--baseline", "both.json"], 0);
    assert!(!err.contains("no entry"), "{err}");
    assert!(out.contains("2 scenario(s) checked, 0 without a baseline entry"), "{out}");
    // Without --baseline the summary line is as before.
    let (out, _) = expect(cwd, &["check", "a.toml", "b.toml"], 0);
    assert!(out.lines().any(|l| l.ends_with(", 2 scenario(s) checked")), "{out}");
}

// ---------------------------------------------------------------------------
// 14.9: grids too large to set up
// ---------------------------------------------------------------------------

#[test]
fn a_grid_above_the_stated_limit_is_refused_before_anything_is_loaded() {
    let tmp = TempDir::new().unwrap();
    let cwd = tmp.path();
    write(cwd, "tiny.toml", &tiny("tiny"));
    let limit = surgesim::sweep::grid::MAX_POINTS.to_string();
    let (help, _) = expect(cwd, &["sweep", "--help"], 0);
    assert!(help.contains(&format!("At most {limit} points")), "the limit is not stated in --help:\n{help}");
    // 10^4 × 10^3 = 10^7 points.
    let args =
        ["sweep", "tiny.toml", "--vary", "primary.workers=1..10000:1", "--vary", "primary.calls_per_worker=1..1000:1"];
    let (out, err) = expect(cwd, &args, 2);
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("the grid has 10000000 points") && err.contains(&format!("at most {limit}")), "{err}");
    assert!(err.contains("primary.workers=1..10000:1 (10000 values)"), "{err}");
    // The frontier bisects every capacity: the same limit.
    let args = [
        "plan",
        "tiny.toml",
        "--vary",
        "primary.workers=1..200000",
        "--step",
        "1",
        "--frontier",
        "arrivals.rate=1..2",
        "--slo",
        "failure_rate<=0.1",
    ];
    let (_, err) = expect(cwd, &args, 2);
    assert!(err.contains("200000 points") && err.contains(&format!("at most {limit}")), "{err}");
    assert!(!cwd.join("notebooks-out").exists(), "a refused command wrote output");
}

#[test]
fn running_a_block_at_a_time_gives_the_results_of_one_pass() {
    let base = BaseScenario::from_text(tiny("tiny"), "tiny.toml".into(), ".".into(), vec![], None);
    let grid = Grid::new(vec![Axis::parse("--vary", "arrivals.rate=0.5..3:0.5").unwrap()]);
    // 1024 replications: blocks of 4 points, so the 6 points span two blocks.
    let reps = 1024;
    assert!(BLOCK_RUNS / reps < grid.len(), "the grid fits one block: the test would prove nothing");
    let points: Vec<_> = grid.points().into_iter().zip(base.load_grid(&grid).unwrap()).collect();
    let whole = run_points(&points, reps as u64, RunOptions::default(), &|| {});
    let mut lazy = Vec::new();
    run_lazily(
        grid.points().into_iter(),
        reps as u64,
        RunOptions::default(),
        |p| base.load_at(&grid, p.index),
        &|| {},
        |r| lazy.push(r),
    )
    .unwrap();
    assert_eq!(lazy.len(), whole.len());
    for (a, b) in lazy.iter().zip(&whole) {
        assert_eq!(a.point, b.point);
        assert_eq!(a.per_run, b.per_run, "point {}", a.point.index);
    }
}

// ---------------------------------------------------------------------------
// 14.14: a step larger than the range
// ---------------------------------------------------------------------------

/// Erlang B blocking probability with `c` servers and `a` Erlang.
fn erlang_b(c: u32, a: f64) -> f64 {
    (1..=c).fold(1.0, |b, k| a * b / (k as f64 + a * b))
}

#[test]
fn plan_probes_the_end_of_the_range_when_the_step_misses_it() {
    // 20 Erlang: 10 slots lose about half the calls, 30 slots under 1 %.
    assert!(erlang_b(10, 20.0) > 0.4 && erlang_b(30, 20.0) < 0.01);
    let tmp = TempDir::new().unwrap();
    let cwd = tmp.path();
    write(cwd, "mmcc.toml", MMCC);
    let args = [
        "plan",
        "mmcc.toml",
        "--vary",
        "primary.workers=10..30",
        "--step",
        "100",
        "--slo",
        "failure_rate<=0.05",
        "--max-replications",
        "16",
        "--out",
        "p",
    ];
    let (out, _) = expect(cwd, &args, 0);
    assert!(out.contains("(2 values, step 100, and TO 30)"), "{out}");
    assert!(out.contains("answer: primary.workers = 30 is the smallest value"), "{out}");
    let csv = fs::read_to_string(cwd.join("p/plan.csv")).unwrap();
    let probed: Vec<&str> = csv.lines().skip(1).map(|l| l.split(',').nth(1).unwrap()).collect();
    assert_eq!(probed, ["30", "10"], "{csv}");
}

// ---------------------------------------------------------------------------
// 14.10: edited parts
// ---------------------------------------------------------------------------

const VARY: &str = "primary.workers=10..20:5";

/// `sweep tiny.toml --vary VARY -r reps --shard shard --out dir` plus `extra`.
fn part(cwd: &Path, dir: &str, shard: &str, reps: &str, extra: &[&str]) -> PathBuf {
    let mut args = vec!["sweep", "tiny.toml", "--vary", VARY, "-r", reps, "--shard", shard, "--out", dir];
    args.extend(extra);
    expect(cwd, &args, 0);
    cwd.join(dir)
}

fn copy_part(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for f in ["manifest.json", "sweep.part.csv"] {
        fs::copy(from.join(f), to.join(f)).unwrap();
    }
}

fn edit_json(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let p = dir.join("manifest.json");
    let mut v: serde_json::Value = serde_json::from_slice(&fs::read(&p).unwrap()).unwrap();
    edit(&mut v);
    fs::write(&p, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

/// Replaces cell `col` of the first row of `sweep.part.csv`; with `reseal`,
/// rewrites the manifest as whoever recomputes every digest would.
fn edit_cell(dir: &Path, col: usize, value: &str, reseal: bool) {
    let p = dir.join("sweep.part.csv");
    let text = fs::read_to_string(&p).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut cells: Vec<&str> = lines[1].split(',').collect();
    cells[col] = value;
    lines[1] = cells.join(",");
    let csv = lines.join("\n") + "\n";
    fs::write(&p, &csv).unwrap();
    if reseal {
        let name = s(dir);
        let m = Manifest::from_json(&name, &fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
        let grid = Grid::new(vec![Axis::parse("--vary", VARY).unwrap()]);
        let forged = Manifest::new(m.sweep.clone(), m.shard, m.seed, &grid, csv.as_bytes());
        fs::write(dir.join("manifest.json"), forged.to_json()).unwrap();
    }
}

#[test]
fn merge_refuses_parts_whose_manifest_or_rows_were_edited() {
    let tmp = TempDir::new().unwrap();
    let cwd = tmp.path();
    write(cwd, "tiny.toml", &tiny("tiny"));
    let p1 = part(cwd, "p1", "1/2", "2", &[]);
    let p2 = part(cwd, "p2", "2/2", "2", &[]);
    // Untouched parts merge into the bytes of an unsharded sweep.
    expect(cwd, &["sweep", "tiny.toml", "--vary", VARY, "-r", "2", "--out", "whole"], 0);
    expect(cwd, &["merge", "p1", "p2", "--out", "merged"], 0);
    assert_eq!(fs::read(cwd.join("merged/sweep.csv")).unwrap(), fs::read(cwd.join("whole/sweep.csv")).unwrap());
    let digest_of_p1 = {
        let m: serde_json::Value = serde_json::from_slice(&fs::read(p1.join("manifest.json")).unwrap()).unwrap();
        m["scenario_digest"].clone()
    };

    // Another seed, given this sweep's scenario digest.
    let seed = part(cwd, "other-seed", "2/2", "2", &["--seed", "99"]);
    edit_json(&seed, |m| m["scenario_digest"] = digest_of_p1.clone());
    // Three replications, claiming two.
    let reps = part(cwd, "lying-reps", "2/2", "3", &[]);
    edit_json(&reps, |m| m["replications"] = 2.into());
    // A metric cell changed, digests left alone.
    copy_part(&p2, &cwd.join("edited-row"));
    edit_cell(&cwd.join("edited-row"), 3, "-1", false);
    // Parameter cells off the grid, every digest recomputed.
    copy_part(&p2, &cwd.join("off-grid"));
    edit_cell(&cwd.join("off-grid"), 1, "16", true);
    copy_part(&p2, &cwd.join("nan-cell"));
    edit_cell(&cwd.join("nan-cell"), 1, "NaN", true);
    // A manifest of the previous format.
    copy_part(&p2, &cwd.join("old-format"));
    edit_json(&cwd.join("old-format"), |m| m["format"] = "surgesim-sweep-part/1".into());

    for (dir, needle) in [
        ("other-seed", "manifest.json field `scenario_digest`"),
        ("lying-reps", "manifest.json field `replications` (2) was edited"),
        ("edited-row", "sweep.part.csv does not match field `csv_sha256`"),
        ("off-grid", "point 1: column `primary.workers` is \"16\", but point 1 of the grid has 15"),
        ("nan-cell", "point 1: column `primary.workers` is \"NaN\""),
        ("old-format", "format \"surgesim-sweep-part/1\", expected \"surgesim-sweep-part/2\""),
    ] {
        let args = ["merge", "p1", dir, "--out", "refused"];
        let (_, err) = expect(cwd, &args, 2);
        assert!(err.contains(&format!("part {dir}: ")), "{dir}: the message does not name the part:\n{err}");
        assert!(err.contains(needle), "{dir}: expected {needle:?} in\n{err}");
        assert!(!cwd.join("refused").exists(), "{dir}: a refused merge wrote output");
    }
    // Unedited parts of another seed: the seeds (and digests) differ.
    let seed2 = part(cwd, "seed-99", "2/2", "2", &["--seed", "99"]);
    let (_, err) = expect(cwd, &["merge", "p1", &s(&seed2), "--out", "refused"], 2);
    assert!(err.contains("not from the same sweep"), "{err}");
}
