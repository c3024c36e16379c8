//! Mechanism tests: each mechanism of the model (autoscaler policies and
//! presets, the scaler's guard rails, fallback health modes, cold starts,
//! idle timeouts, concurrency limits, canaries and their actions) checked
//! against what it must do, at library level where that is most precise and
//! end to end through `surgesim run` / `surgesim validate` on the bundled
//! scenarios in `scenarios/mechanics/`.
//!
//! Deterministic checks are exact: with deterministic call durations and a
//! deterministic provisioning delay, the capacity a scaling log implies can
//! be replayed worker by worker ([`replay`]) and compared bin by bin with
//! `timeseries.csv`. Statistical checks use fixed seeds and accept an
//! estimate within 3 standard errors of the exact value, the standard error
//! coming from the estimator (binomial for per-call outcomes, Poisson for
//! sampled load, replications where outcomes are correlated); nothing is
//! tuned to the seed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

use surgesim::experiment::{self, simulate, Stat};
use surgesim::model::RunOptions;
use surgesim::observe::FailReason;
use surgesim::result::RunResult;
use surgesim::scenario::{self, overrides::Override, Scenario};

/// Acceptance band of every statistical check, in standard errors.
const Z: f64 = 3.0;
/// Float slack for averages read back from CSV (areas are exact integers
/// of worker-microseconds; the division and formatting add rounding only).
const EPS: f64 = 1e-6;

// ---------------------------------------------------------------------------
// Helpers: scenarios and library runs
// ---------------------------------------------------------------------------

fn mech_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join("mechanics").join(format!("{name}.toml"))
}

fn mech(name: &str) -> String {
    mech_path(name).display().to_string()
}

/// Loads a bundled mechanics scenario with `--set`-style overrides.
fn load_mech(name: &str, sets: &[&str]) -> Scenario {
    let ov: Vec<Override> = sets.iter().map(|s| s.parse().expect("override parses")).collect();
    scenario::load(&mech_path(name), &ov).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn load_text(text: &str) -> Scenario {
    scenario::load_str(text, "inline.toml", Path::new("."), &[]).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn run0(sc: &Scenario) -> RunResult {
    simulate(sc, 0, RunOptions::default())
}

fn run_logged(sc: &Scenario) -> RunResult {
    simulate(sc, 0, RunOptions { failure_log: true })
}

/// A metric of one run, by its summary.json name.
fn metric(sc: &Scenario, r: &RunResult, name: &str) -> f64 {
    let names: Vec<String> = sc.classes.iter().map(|c| c.name.clone()).collect();
    r.metrics(&names)
        .into_iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("no metric {name}"))
        .1
        .unwrap_or(f64::NAN)
}

/// A scenario whose primary never has a slot (zero workers; a `scheduled`
/// policy that never schedules any), so that every call of its one
/// eligible class goes to the fallback described by `fallback` (TOML lines
/// of `[fallback]`). Arrivals are Poisson at `rate`, calls last `call`.
fn fallback_only(rate: f64, call: &str, duration: &str, bin: &str, fallback: &str) -> Scenario {
    load_text(&format!(
        r#"
name = "fallback-only"
seed = 101
duration = "{duration}"
bin = "{bin}"
[arrivals]
kind = "poisson"
rate = {rate}
[[classes]]
name = "eligible"
share = 1.0
duration = "{call}"
fallback_eligible = true
[primary]
workers = 0
calls_per_worker = 1
[primary.autoscaler]
policy = "scheduled"
schedule = [ {{ at = "0s", min = 0 }} ]
min = 0
max = 1
[fallback]
{fallback}
"#
    ))
}

/// Passes when `estimate` is within `Z` standard errors (plus a known
/// `bias` bound) of `exact`; prints the numbers (see them with
/// `cargo test --test mechanics -- --nocapture`).
#[track_caller]
fn check_z(what: &str, estimate: f64, exact: f64, se: f64, bias: f64) {
    let z = (estimate - exact) / se;
    eprintln!("{what}: estimate {estimate:.5}, exact {exact:.5}, SE {se:.5}, z = {z:+.2}");
    assert!(se > 0.0 && se.is_finite(), "{what}: SE {se}");
    assert!(
        (estimate - exact).abs() < Z * se + bias,
        "{what}: estimate {estimate}, exact {exact}, SE {se}, z = {z:.2}"
    );
}

fn failed_by(c: &surgesim::observe::Counts, r: FailReason) -> u64 {
    c.failed_by[r as usize]
}

// ---------------------------------------------------------------------------
// Helpers: the CLI and its files
// ---------------------------------------------------------------------------

/// The output folder of one `surgesim run` (kept alive with its TempDir).
struct Out {
    _tmp: TempDir,
    dir: PathBuf,
}

/// `surgesim run SCENARIO extra… --out DIR` in a fresh folder; asserts exit 0.
fn run_cli(scenario: &str, extra: &[&str]) -> Out {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("out");
    let dir_s = dir.display().to_string();
    let mut args = vec!["run", scenario];
    args.extend_from_slice(extra);
    args.extend(["--out", &dir_s]);
    let out = cli(tmp.path(), &args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "surgesim {args:?}\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Out { _tmp: tmp, dir }
}

fn cli(cwd: &Path, args: &[&str]) -> Output {
    let out = Command::cargo_bin("surgesim").unwrap().current_dir(cwd).args(args).output().unwrap();
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!all.contains("panicked") && out.status.code() != Some(101), "surgesim {args:?} panicked:\n{all}");
    out
}

/// A CSV file read into strings, with lookup by column name.
struct Csv {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Csv {
    fn read(path: &Path) -> Csv {
        let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let header = r.headers().unwrap().iter().map(str::to_string).collect();
        let rows = r.records().map(|rec| rec.unwrap().iter().map(str::to_string).collect()).collect();
        Csv { header, rows }
    }

    fn col(&self, name: &str) -> usize {
        self.header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name} in {:?}", self.header))
    }

    fn s(&self, row: usize, name: &str) -> &str {
        &self.rows[row][self.col(name)]
    }

    fn f(&self, row: usize, name: &str) -> f64 {
        let v = self.s(row, name);
        v.parse().unwrap_or_else(|_| panic!("column {name} row {row}: {v:?} is not a number"))
    }

    fn len(&self) -> usize {
        self.rows.len()
    }
}

impl Out {
    fn summary(&self) -> Value {
        serde_json::from_slice(&fs::read(self.dir.join("summary.json")).unwrap()).unwrap()
    }

    /// `metrics.NAME.mean` of summary.json.
    fn metric(&self, name: &str) -> f64 {
        self.summary()["metrics"][name]["mean"].as_f64().unwrap_or_else(|| panic!("summary.json: no metric {name}"))
    }

    fn timeseries(&self) -> Csv {
        Csv::read(&self.dir.join("timeseries.csv"))
    }

    fn scaling(&self) -> Vec<Decision> {
        let path = self.dir.join("scaling.csv");
        if !path.exists() {
            return Vec::new();
        }
        let c = Csv::read(&path);
        (0..c.len())
            .map(|i| {
                let ready = match c.s(i, "ready_first_s") {
                    "" => None,
                    _ => Some((c.f(i, "ready_first_s"), c.f(i, "ready_last_s"))),
                };
                Decision {
                    at: c.f(i, "t_s"),
                    from: c.f(i, "from") as u32,
                    to: c.f(i, "to") as u32,
                    cause: c.s(i, "cause").to_string(),
                    ready,
                }
            })
            .collect()
    }

    fn failures(&self) -> Csv {
        Csv::read(&self.dir.join("failures.csv"))
    }
}

// ---------------------------------------------------------------------------
// Helpers: scaling decisions and the capacity they imply
// ---------------------------------------------------------------------------

/// One scaling decision, from scaling.csv or a run's scale log.
#[derive(Clone, Debug, PartialEq)]
struct Decision {
    at: f64,
    from: u32,
    to: u32,
    cause: String,
    ready: Option<(f64, f64)>,
}

fn decisions(r: &RunResult) -> Vec<Decision> {
    r.scale_log
        .iter()
        .map(|e| Decision {
            at: e.at.as_secs_f64(),
            from: e.from,
            to: e.to,
            cause: e.cause.to_string(),
            ready: e.ready.map(|(a, b)| (a.as_secs_f64(), b.as_secs_f64())),
        })
        .collect()
}

/// How launched workers become ready: a deterministic provisioning delay,
/// and a warm pool whose instances start in `warm_delay`.
struct Provisioning {
    delay: f64,
    warm_pool: u32,
    warm_delay: f64,
}

impl Provisioning {
    fn fixed(delay: f64) -> Provisioning {
        Provisioning { delay, warm_pool: 0, warm_delay: 0.0 }
    }
}

/// A piecewise-constant count over time: `(from time, value)` points.
struct Steps(Vec<(f64, f64)>);

impl Steps {
    fn at(&self, t: f64) -> f64 {
        self.0.iter().take_while(|p| p.0 <= t).last().map_or(f64::NAN, |p| p.1)
    }

    /// Time average over `[a, b)`.
    fn avg(&self, a: f64, b: f64) -> f64 {
        let mut area = 0.0;
        for (i, &(t, v)) in self.0.iter().enumerate() {
            let end = self.0.get(i + 1).map_or(f64::INFINITY, |p| p.0);
            let (lo, hi) = (t.max(a), end.min(b));
            if hi > lo {
                area += v * (hi - lo);
            }
        }
        area / (b - a)
    }

    /// Largest value taken anywhere in `[a, b]`.
    fn max_on(&self, a: f64, b: f64) -> f64 {
        let mut m = self.at(a);
        for &(t, v) in &self.0 {
            if t > a && t <= b {
                m = m.max(v);
            }
        }
        m
    }
}

/// The worker target (ready + provisioning) over time: `initial`, then the
/// `to` of each decision from its time on.
fn target_steps(initial: u32, log: &[Decision]) -> Steps {
    let mut s = vec![(f64::NEG_INFINITY, initial as f64)];
    s.extend(log.iter().map(|d| (d.at, d.to as f64)));
    Steps(s)
}

/// Replays a scaling log worker by worker, the way the model documents it:
/// a scale-up launches `to − from` workers, each ready after the warm-pool
/// delay while the warm pool lasts and after the provisioning delay
/// otherwise; a scale-down cancels the newest launches first, then removes
/// ready workers at once (drained workers take no calls), which refill the
/// warm pool. Launches due at a decision's instant are ready before it
/// (the provisioning delays used here are at least one evaluation interval,
/// so their events were queued first).
///
/// Returns the ready-worker count over time, and for each decision the
/// `(first, last)` ready times it should log. Asserts that each decision's
/// `from` is the replayed ready + provisioning count.
fn replay(initial: u32, p: &Provisioning, log: &[Decision]) -> (Steps, Vec<Option<(f64, f64)>>) {
    let mut ready = initial as i64;
    let mut provisioning: Vec<f64> = Vec::new(); // ready times, in launch order
    let mut warm_left = p.warm_pool;
    let mut steps = vec![(f64::NEG_INFINITY, ready as f64)];
    let mut predicted = Vec::new();
    let flush = |upto: f64, ready: &mut i64, provisioning: &mut Vec<f64>, steps: &mut Vec<(f64, f64)>| loop {
        let next = provisioning
            .iter()
            .enumerate()
            .filter(|(_, &t)| t <= upto)
            .min_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, &t)| (i, t));
        let Some((i, t)) = next else { break };
        provisioning.remove(i);
        *ready += 1;
        steps.push((t, *ready as f64));
    };
    for d in log {
        flush(d.at, &mut ready, &mut provisioning, &mut steps);
        assert_eq!(
            d.from as i64,
            ready + provisioning.len() as i64,
            "decision {d:?}: `from` should be ready ({ready}) + provisioning ({})",
            provisioning.len()
        );
        if d.to > d.from {
            let (mut first, mut last) = (f64::INFINITY, f64::NEG_INFINITY);
            for _ in d.from..d.to {
                let delay = if warm_left > 0 {
                    warm_left -= 1;
                    p.warm_delay
                } else {
                    p.delay
                };
                provisioning.push(d.at + delay);
                first = first.min(d.at + delay);
                last = last.max(d.at + delay);
            }
            predicted.push(Some((first, last)));
        } else {
            let mut n = d.from - d.to;
            while n > 0 && provisioning.pop().is_some() {
                n -= 1;
            }
            ready -= n as i64;
            warm_left = (warm_left + n).min(p.warm_pool);
            steps.push((d.at, ready as f64));
            predicted.push(None);
        }
    }
    flush(f64::INFINITY, &mut ready, &mut provisioning, &mut steps);
    (Steps(steps), predicted)
}

/// Checks timeseries.csv against a scaling log:
/// - every scale-up logs the ready times the replay predicts;
/// - in every bin, workers_ready_avg equals the replayed ready count's
///   average (capacity appears exactly when the delay has passed, never
///   before) and capacity_primary_avg is `cpw` × that;
/// - independently of the replay: the ready count in a bin never exceeds
///   the largest target at any time one provisioning delay (the shortest
///   possible one) earlier, nor the largest target in the bin itself.
fn check_capacity_follows_log(ts: &Csv, log: &[Decision], initial: u32, cpw: u32, p: &Provisioning) {
    let (ready, predicted) = replay(initial, p, log);
    for (d, want) in log.iter().zip(&predicted) {
        assert_eq!(&d.ready, want, "decision {d:?}: logged ready times differ from the replay");
    }
    let target = target_steps(initial, log);
    let shortest = if p.warm_pool > 0 { p.delay.min(p.warm_delay) } else { p.delay };
    for i in 0..ts.len() {
        let (a, b) = (ts.f(i, "t_start_s"), ts.f(i, "t_end_s"));
        let got = ts.f(i, "workers_ready_avg");
        let want = ready.avg(a, b);
        assert!(
            (got - want).abs() < EPS,
            "bin [{a}, {b}): workers_ready_avg {got}, replay of the scaling log gives {want}"
        );
        let cap = ts.f(i, "capacity_primary_avg");
        assert!((cap - cpw as f64 * got).abs() < EPS * cpw as f64, "bin [{a}, {b}): capacity {cap} ≠ {cpw} × {got}");
        let bound = target.max_on(a - shortest, b - shortest).min(target.max_on(a, b));
        assert!(
            got <= bound + EPS,
            "bin [{a}, {b}): {got} workers ready, but at most {bound} were decided {shortest} s (the provisioning delay) earlier"
        );
    }
}

/// Asserts the scaler's bounds and cooldowns on a log.
fn check_bounds_and_cooldowns(log: &[Decision], min: u32, max: u32, up_cooldown: f64, down_cooldown: f64) {
    for d in log {
        assert!((min..=max).contains(&d.to), "decision {d:?} leaves [min {min}, max {max}]");
    }
    let policy: Vec<&Decision> = log.iter().filter(|d| d.cause == "policy").collect();
    for w in policy.windows(2) {
        let (prev, d) = (w[0], w[1]);
        if d.to > d.from {
            if let Some(last_up) = policy.iter().rev().find(|e| e.at < d.at && e.to > e.from) {
                assert!(
                    d.at - last_up.at >= up_cooldown,
                    "scale-up {d:?} only {} s after {last_up:?}",
                    d.at - last_up.at
                );
            }
        } else {
            assert!(d.at - prev.at >= down_cooldown, "scale-down {d:?} only {} s after {prev:?}", d.at - prev.at);
        }
    }
}

/// Smallest gap between consecutive policy scale-ups.
fn min_up_gap(log: &[Decision]) -> f64 {
    let ups: Vec<f64> = log.iter().filter(|d| d.cause == "policy" && d.to > d.from).map(|d| d.at).collect();
    ups.windows(2).map(|w| w[1] - w[0]).fold(f64::INFINITY, f64::min)
}

/// Smallest gap between a policy scale-down and the policy change before it.
fn min_down_gap(log: &[Decision]) -> f64 {
    let policy: Vec<&Decision> = log.iter().filter(|d| d.cause == "policy").collect();
    policy.windows(2).filter(|w| w[1].to < w[1].from).map(|w| w[1].at - w[0].at).fold(f64::INFINITY, f64::min)
}

// ---------------------------------------------------------------------------
// Autoscaler policies (CLI, on the bundled scenarios)
// ---------------------------------------------------------------------------

/// target-utilization on a rate step: capacity follows each decision after
/// exactly the provisioning delay; min, max and both cooldowns hold; the
/// load drives the pool to max and back to min, so both bounds are exercised.
#[test]
fn cli_target_utilization_capacity_follows_decisions_after_the_delay_within_bounds_and_cooldowns() {
    let out = run_cli(&mech("autoscaler-target"), &[]);
    let log = out.scaling();
    let ts = out.timeseries();
    assert_eq!(ts.f(1, "t_start_s"), 5.0, "5 s bins");
    check_capacity_follows_log(&ts, &log, 5, 10, &Provisioning::fixed(60.0));
    check_bounds_and_cooldowns(&log, 2, 16, 45.0, 120.0);
    assert!(log.iter().any(|d| d.to == 16), "the 4 calls/s phase (20 workers wanted) should reach max = 16: {log:?}");
    assert!(log.iter().any(|d| d.to == 2), "the 0.2 call/s phase (1 worker wanted) should stop at min = 2: {log:?}");
    assert!(log.iter().any(|d| d.to < d.from) && log.iter().any(|d| d.to > d.from));
    for i in 0..ts.len() {
        let w = ts.f(i, "workers_ready_avg");
        assert!((2.0 - EPS..=16.0 + EPS).contains(&w), "bin {i}: {w} workers ready, outside [2, 16]");
    }
    // The cooldowns matter here: without them, decisions come closer.
    let free = load_mech(
        "autoscaler-target",
        &["primary.autoscaler.scale_up_cooldown=0s", "primary.autoscaler.scale_down_cooldown=0s"],
    );
    let free_log = decisions(&run0(&free));
    let gap = min_up_gap(&free_log);
    assert!(gap < 45.0, "without a cooldown the smallest scale-up gap is {gap} s; the cooldown check proves nothing");
    let down_gap = min_down_gap(&free_log);
    assert!(down_gap < 120.0, "without a cooldown the smallest scale-down gap is {down_gap} s");
}

/// The step policy adds exactly `add` workers per scale-up (or stops at
/// max) and removes exactly `remove` per scale-in.
#[test]
fn cli_step_policy_adds_and_removes_exactly_its_steps() {
    let out = run_cli(&mech("autoscaler-step"), &[]);
    let log = out.scaling();
    check_capacity_follows_log(&out.timeseries(), &log, 8, 10, &Provisioning::fixed(30.0));
    check_bounds_and_cooldowns(&log, 4, 40, 30.0, 0.0);
    let ups: Vec<&Decision> = log.iter().filter(|d| d.to > d.from).collect();
    let downs: Vec<&Decision> = log.iter().filter(|d| d.to < d.from).collect();
    assert!(ups.len() >= 3 && downs.len() >= 3, "the step scenario should scale both ways: {log:?}");
    for d in ups {
        assert!(d.to - d.from == 3 || d.to == 40, "a step scale-up adds exactly 3: {d:?}");
    }
    for d in downs {
        assert!(d.from - d.to == 1 || d.to == 4, "a step scale-in removes exactly 1: {d:?}");
    }
}

/// The scheduled policy raises the minimum at `at`; the capacity reaches
/// it exactly one provisioning delay later, and nothing else moves it.
#[test]
fn cli_scheduled_policy_prewarms_at_at_plus_the_provisioning_delay() {
    let out = run_cli(&mech("autoscaler-scheduled"), &[]);
    let log = out.scaling();
    assert_eq!(
        log,
        vec![Decision { at: 300.0, from: 4, to: 12, cause: "schedule".into(), ready: Some((390.0, 390.0)) }],
        "one scheduled decision at 5 m, ready at 6 m 30 s"
    );
    let ts = out.timeseries();
    check_capacity_follows_log(&ts, &log, 4, 10, &Provisioning::fixed(90.0));
    for i in 0..ts.len() {
        let (a, b, w) = (ts.f(i, "t_start_s"), ts.f(i, "t_end_s"), ts.f(i, "workers_ready_avg"));
        if b <= 390.0 {
            assert_eq!(w, 4.0, "bin [{a}, {b}) is before the scheduled workers are ready");
        } else if a >= 390.0 {
            assert_eq!(w, 12.0, "bin [{a}, {b}) is after the scheduled workers are ready");
        }
    }
}

/// A schedule that lowers the minimum again (pre-warming for a surge,
/// then back to normal) should let the scheduled policy return to it.
#[test]
fn scheduled_policy_follows_a_schedule_that_lowers_the_minimum() {
    let sc = load_mech("autoscaler-scheduled", &["primary.autoscaler.schedule=[{at=\"5m\",min=12},{at=\"9m\",min=4}]"]);
    let r = run0(&sc);
    let log = decisions(&r);
    let last = log.last().expect("decisions");
    assert_eq!(last.to, 4, "after the schedule's min = 4 at 9 m the pool should return to 4 workers: {log:?}");
    assert!(last.at >= 540.0 && last.at <= 540.0 + 15.0, "at the 9 m entry or the next evaluation: {log:?}");
}

/// No policy: the capacity is fixed whatever the load, and no decision is
/// logged (no scaling.csv).
#[test]
fn cli_policy_none_keeps_the_capacity_fixed_under_overload() {
    let out = run_cli(&mech("fallback-degraded"), &[]);
    assert!(!out.dir.join("scaling.csv").exists(), "policy none decides nothing");
    let ts = out.timeseries();
    for i in 0..ts.len() {
        assert_eq!(ts.f(i, "workers_ready_avg"), 3.0, "bin {i}: the 3 workers stay");
        assert_eq!(ts.f(i, "capacity_primary_avg"), 15.0);
    }
    let s = out.summary();
    assert!(
        s["classes"]["other"]["failed_by_reason"]["worker_not_available"].as_f64().unwrap() > 0.0,
        "the overload is real (the ineligible class fails) and no scaler answers it"
    );
}

/// k8s-hpa preset: each scale-up at most max(4, 100 %) of the current
/// count (and the limit binds on the surge), 15 s evaluations, and the
/// 300 s scale-down stabilisation holds the surge's size after the surge.
#[test]
fn cli_k8s_hpa_preset_limits_steps_up_and_stabilises_scale_down() {
    let out = run_cli(&mech("preset-k8s-hpa"), &[]);
    let log = out.scaling();
    check_capacity_follows_log(&out.timeseries(), &log, 1, 10, &Provisioning::fixed(20.0));
    check_bounds_and_cooldowns(&log, 1, 60, 0.0, 0.0);
    for d in &log {
        assert_eq!(d.at % 15.0, 0.0, "decisions on the 15 s sync period: {d:?}");
        if d.to > d.from {
            assert!(d.to - d.from <= d.from.max(4), "scale-up beyond max(4 pods, 100 %): {d:?}");
        }
    }
    assert!(
        log.iter().any(|d| d.to > d.from && d.to - d.from == d.from.max(4) && d.to < 60),
        "the surge should hit the step-up limit: {log:?}"
    );
    // Surge: 8 calls/s × 30 s = 240 calls → 40 workers at target 0.6; the
    // highest wish of any 300 s window in the surge is at least that minus
    // 3 Poisson SDs. After the drop at 480 s, stabilisation keeps the pool
    // there until 480 + 300 s (less one interval of partial surge load).
    let (a_surge, a_low, per_worker) = (240.0_f64, 15.0_f64, 6.0);
    let floor = (a_surge - Z * a_surge.sqrt()) / per_worker;
    let target = target_steps(1, &log);
    for t in (480..765).step_by(5) {
        let w = target.at(t as f64);
        assert!(w >= floor, "at {t} s the pool ({w}) fell below the stabilised surge size ({floor:.1})");
    }
    let low = ((a_low + Z * a_low.sqrt()) / per_worker).ceil();
    let shrunk_at = log.iter().find(|d| d.at > 480.0 && (d.to as f64) <= low).map(|d| d.at);
    assert!(shrunk_at.is_some_and(|t| t >= 765.0), "the pool reached the low-load size at {shrunk_at:?}");
    // Without the preset's behaviour (same policy, interval and target), the
    // first surge decision more than doubles and the pool shrinks within a
    // minute of the drop: the checks above would fail.
    let text = fs::read_to_string(mech_path("preset-k8s-hpa"))
        .unwrap()
        .replace("preset = \"k8s-hpa\"", "policy = \"target-utilization\"");
    let bare = decisions(&run0(&load_text(&text)));
    assert!(bare.iter().any(|d| d.to > d.from && d.to - d.from > d.from.max(4)), "{bare:?}");
    assert!(bare.iter().any(|d| d.at > 480.0 && d.at < 560.0 && (d.to as f64) <= low), "{bare:?}");
}

/// keda preset: starts at zero workers; the first launch (0 → 1) is at
/// the first 30 s poll after the first arrival; calls that arrive before
/// that worker is ready fail; after the last arrival the pool returns to
/// zero, no sooner than the 300 s cooldown.
#[test]
fn cli_keda_preset_scales_from_zero_after_the_first_arrival_and_back_to_zero() {
    let out = run_cli(&mech("preset-keda"), &[]);
    let log = out.scaling();
    let ts = out.timeseries();
    check_capacity_follows_log(&ts, &log, 0, 10, &Provisioning::fixed(30.0));
    let rows_with_arrivals: Vec<usize> = (0..ts.len()).filter(|&i| ts.f(i, "arrivals") > 0.0).collect();
    let (first, last) = (rows_with_arrivals[0], *rows_with_arrivals.last().unwrap());
    let first_arrival_bin = (ts.f(first, "t_start_s"), ts.f(first, "t_end_s"));
    assert!(first_arrival_bin.0 >= 180.0, "no call arrives before 3 m");
    let act = &log[0];
    assert_eq!((act.from, act.to), (0, 1), "activation from zero: {act:?}");
    assert_eq!(act.at % 30.0, 0.0, "KEDA polls every 30 s: {act:?}");
    assert!(
        act.at > first_arrival_bin.0 && act.at <= first_arrival_bin.1 + 30.0,
        "activation at {} s: expected the first poll after the first arrival (in [{}, {}))",
        act.at,
        first_arrival_bin.0,
        first_arrival_bin.1
    );
    for i in 0..ts.len() {
        let (a, b) = (ts.f(i, "t_start_s"), ts.f(i, "t_end_s"));
        if b <= act.at + 30.0 {
            assert_eq!(ts.f(i, "workers_ready_avg"), 0.0, "bin [{a}, {b}): no worker before activation + delay");
            assert_eq!(ts.f(i, "failed_worker_not_available"), ts.f(i, "arrivals"), "bin [{a}, {b}): nothing serves");
        }
    }
    assert!(ts.f(first, "failed") > 0.0, "the first calls find no worker");
    let zero = log.last().unwrap();
    assert_eq!(zero.to, 0, "back to zero at the end: {log:?}");
    assert!(zero.at >= ts.f(last, "t_start_s") + 300.0, "scale to zero at {} s, before the 300 s cooldown", zero.at);
    assert_eq!(ts.f(ts.len() - 1, "workers_ready_avg"), 0.0);
}

/// asg preset with a warm pool of 3: 60 s evaluations; the first 3
/// launches are ready after warm_pool_delay (30 s), later ones after the
/// preset's 300 s provisioning delay.
#[test]
fn cli_asg_preset_warm_pool_launches_ready_in_30s_then_300s() {
    let out = run_cli(&mech("preset-asg-warm-pool"), &[]);
    let log = out.scaling();
    let p = Provisioning { delay: 300.0, warm_pool: 3, warm_delay: 30.0 };
    check_capacity_follows_log(&out.timeseries(), &log, 4, 10, &p);
    check_bounds_and_cooldowns(&log, 2, 40, 0.0, 300.0);
    for d in &log {
        assert_eq!(d.at % 60.0, 0.0, "decisions on the 60 s period: {d:?}");
    }
    let ups: Vec<&Decision> = log.iter().filter(|d| d.to > d.from).collect();
    assert!(log.iter().take_while(|d| d.to > d.from).map(|d| d.to - d.from).sum::<u32>() > 3, "beyond the warm pool");
    let first = ups[0];
    assert_eq!(first.ready.unwrap().0, first.at + 30.0, "the first launch comes from the warm pool: {first:?}");
    let cold = ups.last().unwrap();
    assert_eq!(
        cold.ready,
        Some((cold.at + 300.0, cold.at + 300.0)),
        "once the pool is used up, a cold launch: {cold:?}"
    );
}

// ---------------------------------------------------------------------------
// Target-utilization converges (library)
// ---------------------------------------------------------------------------

/// Mean and standard deviation of ceil(X / k) for X ~ Poisson(a).
fn poisson_ceil_moments(a: f64, k: f64) -> (f64, f64) {
    let (mut p, mut m1, mut m2) = ((-a).exp(), 0.0, 0.0);
    let top = (a + 40.0 * a.sqrt() + 40.0) as u64;
    for n in 0..=top {
        if n > 0 {
            p *= a / n as f64;
        }
        let v = (n as f64 / k).ceil();
        m1 += p * v;
        m2 += p * v * v;
    }
    (m1, (m2 - m1 * m1).sqrt())
}

/// Steady Poisson load: λ = 20 calls/s of exactly 10 s, so the calls in
/// service at any instant are Poisson(A = 200). At target 0.5 and 10 calls
/// per worker (5 calls per worker at target), target-utilization with
/// tolerance 0 and no provisioning delay wants ceil(X / 5) workers for the
/// X in service it samples at each 15 s evaluation; samples 15 s apart
/// share no call (10 s calls), so they are independent.
/// - At the end, the pool is within ceil(A/5) ± (3·√A/5 + 1) workers.
/// - Over the last 50 minutes, the mean of the per-evaluation counts (the
///   15 s bins line up with the evaluations) is E[ceil(X/5)] within 3 SE,
///   SE = sd(ceil(X/5)) / √n; their SD matches too. The capacity never
///   binds (capacity ≥ 2 × the sampled load), so no call fails.
#[test]
fn target_utilization_converges_to_ceil_of_load_over_target() {
    let sc = load_text(
        r#"
name = "converge"
seed = 2024
duration = "1h"
bin = "15s"
[arrivals]
kind = "poisson"
rate = 20.0
[[classes]]
name = "call"
share = 1.0
duration = "10s"
[primary]
workers = 1
calls_per_worker = 10
[primary.autoscaler]
policy = "target-utilization"
target = 0.5
tolerance = 0.0
interval = "15s"
provision_delay = "0s"
min = 1
max = 1000
"#,
    );
    let r = run0(&sc);
    let (a, per_worker) = (200.0_f64, 10.0 * 0.5);
    let expected = (a / per_worker).ceil();
    let end = r.scale_log.last().expect("the scaler moved").to as f64;
    let tol = Z * a.sqrt() / per_worker + 1.0;
    assert!((end - expected).abs() <= tol, "final pool {end}, expected {expected} ± {tol:.1}");

    let late: Vec<f64> = r.bins[40..]
        .iter()
        .map(|b| b.areas.workers_ready as f64 / surgesim::time::TICKS_PER_SEC as f64 / 15.0)
        .collect();
    let n = late.len() as f64;
    let (mean_exact, sd_exact) = poisson_ceil_moments(a, per_worker);
    let s = Stat::of(&late);
    let se = sd_exact / n.sqrt();
    check_z("mean pool over the last 50 min, vs E[ceil(X/5)]", s.mean, mean_exact, se, 0.0);
    // SD of a sample SD of n normal-ish values: sd / √(2(n−1)).
    let se_sd = sd_exact / (2.0 * (n - 1.0)).sqrt();
    check_z("SD of the pool, vs SD(ceil(X/5))", s.sd, sd_exact, se_sd, 0.0);
    let failed_late: u64 = r.bins[40..].iter().map(|b| b.counts.failed()).sum();
    assert_eq!(failed_late, 0, "capacity never binds once converged");
}

// ---------------------------------------------------------------------------
// Fallback health modes (library)
// ---------------------------------------------------------------------------

/// Broken fallback: every eligible call that found the primary full fails
/// with fallback_start_failed, nothing is served by the fallback, and the
/// ineligible class is untouched by it (worker_not_available only).
#[test]
fn broken_fallback_fails_every_eligible_overflow_with_fallback_start_failed() {
    let sc = load_mech("fallback-degraded", &["fallback.health=broken"]);
    let r = run_logged(&sc);
    let (e, o) = (&r.classes[0], &r.classes[1]);
    assert_eq!(r.totals.served_fallback, 0);
    assert!(failed_by(e, FailReason::FallbackStartFailed) > 100, "the primary overflows: {e:?}");
    assert_eq!(e.failed(), failed_by(e, FailReason::FallbackStartFailed), "every eligible failure: {e:?}");
    assert_eq!(e.arrived, e.served_primary + failed_by(e, FailReason::FallbackStartFailed), "{e:?}");
    assert_eq!(o.failed(), failed_by(o, FailReason::WorkerNotAvailable), "{o:?}");
    assert!(o.failed() > 0);
    let log = r.failure_log.as_ref().unwrap();
    for f in log.iter().filter(|f| f.reason == FailReason::FallbackStartFailed) {
        assert_eq!(f.busy_primary, f.capacity_primary, "a start failure only after the primary overflowed: {f:?}");
        assert_eq!(f.class, 0);
    }
}

/// Healthy fallback with ample concurrency: no eligible call fails, and
/// every eligible overflow is served by the fallback.
#[test]
fn healthy_fallback_with_ample_concurrency_fails_no_eligible_call() {
    let sc = load_mech("fallback-degraded", &["fallback.health=healthy"]);
    let r = run0(&sc);
    let (e, o) = (&r.classes[0], &r.classes[1]);
    assert_eq!(e.failed(), 0, "{e:?}");
    assert_eq!(r.totals.failed_fallback_eligible, 0);
    assert!(e.served_fallback > 1000, "the fallback carries the overflow: {e:?}");
    assert_eq!(e.arrived, e.served_primary + e.served_fallback);
    assert!(o.failed() > 0, "the ineligible class still overflows: {o:?}");
}

/// Degraded fallback: each start fails with probability p, independently;
/// the fraction of failed starts among fallback invocations (served +
/// failed starts) is p within 3 binomial standard errors.
#[test]
fn degraded_fallback_fails_a_fraction_p_of_starts() {
    for p in [0.05, 0.25, 0.5, 0.9] {
        let sc =
            fallback_only(2.0, "10s", "1h", "1m", &format!("max_concurrency = 1000\nhealth = {{ degraded = {p} }}"));
        let r = run0(&sc);
        let failed = failed_by(&r.totals, FailReason::FallbackStartFailed) as f64;
        let n = r.totals.served_fallback as f64 + failed;
        assert_eq!(n, metric(&sc, &r, "fallback_invocations"));
        assert_eq!(r.totals.arrived as f64, n, "every call invokes the fallback once");
        let se = (p * (1.0 - p) / n).sqrt();
        let frac = failed / n;
        check_z(&format!("degraded p = {p}: failed starts / {n} invocations"), frac, p, se, 0.0);
    }
}

/// `{ degraded = 0 }` never fails and `{ degraded = 1 }` always does.
#[test]
fn degraded_extremes_are_healthy_and_broken() {
    let ok = run0(&fallback_only(2.0, "10s", "10m", "1m", "max_concurrency = 1000\nhealth = { degraded = 0.0 }"));
    assert_eq!(ok.totals.failed(), 0);
    let bad = run0(&fallback_only(2.0, "10s", "10m", "1m", "max_concurrency = 1000\nhealth = { degraded = 1.0 }"));
    assert_eq!(bad.totals.served_fallback, 0);
    assert_eq!(failed_by(&bad.totals, FailReason::FallbackStartFailed), bad.totals.arrived);
}

// ---------------------------------------------------------------------------
// Fallback capacity: concurrency limit, cold start, idle timeout (library)
// ---------------------------------------------------------------------------

/// Erlang B blocking probability of an M/G/c/c loss system with load `a`.
fn erlang_b(c: u64, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    b
}

/// At max_concurrency, further starts are throttled (fallback_throttled):
/// the fallback's busy level never exceeds the limit, a throttled call
/// found it exactly at the limit, and with no cold start the fallback is
/// an M/D/c/c loss system whose blocking is Erlang B (mean over 20
/// replications within 3 SE of the replications).
#[test]
fn fallback_concurrency_limit_throttles_at_the_limit() {
    let (c, rate, call) = (5_u64, 0.5, 10.0);
    let sc = fallback_only(rate, "10s", "30m", "1m", &format!("max_concurrency = {c}\ncold_start = \"0s\""));
    let r = run_logged(&sc);
    let throttled = failed_by(&r.totals, FailReason::FallbackThrottled);
    assert!(throttled > 0);
    assert_eq!(r.totals.arrived, r.totals.served_fallback + throttled, "a throttled call is the only failure");
    for f in r.failure_log.as_ref().unwrap() {
        assert_eq!(f.reason, FailReason::FallbackThrottled);
        assert_eq!(f.fallback_busy as u64, c, "throttled below the limit: {f:?}");
    }
    for (i, b) in r.bins.iter().enumerate() {
        let avg = b.areas.fallback_busy as f64 / 60e6;
        assert!(avg <= c as f64 + EPS, "bin {i}: fallback busy {avg} above max_concurrency {c}");
    }
    let agg = experiment::run(&sc, 20, RunOptions::default());
    let rates: Vec<f64> = agg.runs.iter().map(|r| r.totals.failed() as f64 / r.totals.arrived as f64).collect();
    let s = Stat::of(&rates);
    let exact = erlang_b(c, rate * call);
    let se = s.sd / (rates.len() as f64).sqrt();
    check_z("fallback blocking at max_concurrency 5, vs Erlang B(5, 5)", s.mean, exact, se, 0.0);
}

/// The cold start is paid by the call: with `idle_timeout = 0s` every
/// start is cold and every fallback call waits exactly the 2 s cold start
/// (the mean wait is exactly 2 s), and the fallback is busy 2 s longer per
/// call than without a cold start (same calls: common random numbers).
#[test]
fn cold_start_is_paid_by_the_call() {
    let cold =
        fallback_only(1.0, "10s", "30m", "1m", "max_concurrency = 1000\ncold_start = \"2s\"\nidle_timeout = \"0s\"");
    let r = run0(&cold);
    let n = r.totals.served_fallback;
    assert!(n > 1000);
    assert_eq!(r.fallback_cold_starts, n, "idle_timeout 0 s: every start is cold");
    assert!((r.wait_mean_s - 2.0).abs() < 1e-9, "mean wait {} s, cold start 2 s", r.wait_mean_s);
    assert!(
        (r.wait_p50_s - 2.0).abs() < 0.01 && (r.wait_max_s - 2.0).abs() < 0.01,
        "{} {}",
        r.wait_p50_s,
        r.wait_max_s
    );
    let warm =
        fallback_only(1.0, "10s", "30m", "1m", "max_concurrency = 1000\ncold_start = \"0s\"\nidle_timeout = \"0s\"");
    let r0 = run0(&warm);
    assert_eq!(r0.totals.arrived, r.totals.arrived, "common random numbers: the same calls");
    let extra = metric(&cold, &r, "fallback_seconds") - metric(&warm, &r0, "fallback_seconds");
    // Calls still running at the end are cut off, each losing at most 2 s.
    let lo = 2.0 * (n as f64) - 2.0 * r.in_service_end as f64;
    assert!(
        extra <= 2.0 * n as f64 + 1e-6 && extra >= lo - 1e-6,
        "extra busy time {extra} s for {n} cold starts of 2 s"
    );
}

/// Warm reuse vs cold after expiry. Poisson arrivals at λ = 0.1/s of
/// 10 ms calls (so calls almost never overlap, λ·d = 0.001) and no cold
/// start delay: a call finds a warm instance iff the previous call's
/// instance went idle less than `idle_timeout` (τ) ago, i.e. iff the gap
/// since the previous arrival is below τ + d. The gaps are independent
/// exponentials, so cold starts (after the first call) are Bernoulli with
/// p = exp(−λ(τ + d)), up to O(λd) from overlapping calls; the fraction is
/// checked within 3 binomial SE.
#[test]
fn idle_timeout_expires_warm_instances() {
    let (lambda, d) = (0.1_f64, 0.01_f64);
    for tau in [0.0, 5.0, 10.0, 30.0] {
        let sc = fallback_only(
            lambda,
            "10ms",
            "3h",
            "10m",
            &format!("max_concurrency = 100\ncold_start = \"0s\"\nidle_timeout = \"{tau}s\""),
        );
        let r = run0(&sc);
        let n = r.totals.served_fallback as f64;
        assert_eq!(n, r.totals.arrived as f64);
        let cold = metric(&sc, &r, "fallback_cold_starts");
        let p = (-lambda * (tau + d)).exp();
        if tau == 0.0 {
            assert_eq!(cold, n, "idle_timeout 0: no instance is ever reused");
            continue;
        }
        let frac = (cold - 1.0) / (n - 1.0);
        let se = (p * (1.0 - p) / (n - 1.0)).sqrt();
        check_z(&format!("idle_timeout {tau} s: cold fraction vs exp(−λ(τ+d))"), frac, p, se, lambda * d);
    }
}

// ---------------------------------------------------------------------------
// Canary and its actions (library)
// ---------------------------------------------------------------------------

/// A two-class scenario (eligible "short", ineligible "long") with a small
/// fixed primary, a fallback with `health`, a canary every `interval` and
/// `extra` TOML lines in `[fallback.canary]`.
fn canary_scenario(health: &str, interval: &str, canary_extra: &str, top_extra: &str) -> Scenario {
    load_text(&format!(
        r#"
name = "canary"
seed = 77
duration = "20m"
bin = "30s"
{top_extra}
[arrivals]
kind = "poisson"
rate = 4.0
[[classes]]
name = "short"
share = 0.5
duration = "20s"
fallback_eligible = true
[[classes]]
name = "long"
share = 0.5
duration = "20s"
[primary]
workers = 3
calls_per_worker = 10
[primary.autoscaler]
provision_delay = "90s"
[fallback]
max_concurrency = 200
cold_start = "1s"
health = {health}
[fallback.canary]
interval = "{interval}"
{canary_extra}
"#
    ))
}

/// The canary alerts within one interval of the break: detection_time_s
/// in [break, break + interval], for breaks on and off the probe grid; with
/// failures_to_alert = n it takes n consecutive failed probes.
#[test]
fn canary_detects_within_one_interval_of_the_break() {
    for (brk, interval) in [(300, 60), (301, 60), (359, 60), (100, 45), (37, 300), (600, 7)] {
        let sc = canary_scenario(&format!("{{ broken_from = \"{brk}s\" }}"), &format!("{interval}s"), "", "");
        let r = run0(&sc);
        let det = r.detection_s.unwrap_or_else(|| panic!("break at {brk} s, interval {interval} s: not detected"));
        let (b, i) = (brk as f64, interval as f64);
        assert!(det >= b && det <= b + i, "break {b} s, interval {i} s: detected at {det} s");
        assert_eq!(metric(&sc, &r, "detection_latency_s"), det - b);
    }
    let sc = canary_scenario("{ broken_from = \"301s\" }", "60s", "failures_to_alert = 3", "");
    let det = run0(&sc).detection_s.unwrap();
    assert!((301.0 + 120.0..=301.0 + 180.0).contains(&det), "3 failed probes in a row: detected at {det} s");
    let healthy = run0(&canary_scenario("\"healthy\"", "60s", "", ""));
    assert_eq!(healthy.detection_s, None, "a healthy fallback raises no alert");
}

/// The canary's offset places the probes relative to clock_start, like
/// every other scenario time, also with a warm-up.
#[test]
fn canary_offset_is_relative_to_clock_start_with_a_warmup() {
    let sc = canary_scenario("{ broken_from = \"60s\" }", "5m", "offset = \"30s\"", "warmup = \"7m\"");
    let det = run0(&sc).detection_s.unwrap();
    assert_eq!(det, 330.0, "probes at 30 s + k·5 m: the first after the break at 60 s is 330 s");
}

/// on_detect stop_routing: from the action on, no call is routed to the
/// fallback (no served_fallback, no fallback_start_failed); eligible
/// overflow fails with worker_not_available instead. Here the fallback
/// would have recovered at 7 m, so without the action calls would be
/// served by it again.
#[test]
fn canary_stop_routing_takes_effect_after_its_delay() {
    let sc = canary_scenario(
        "{ broken_from = \"5m\", broken_until = \"7m\" }",
        "60s",
        "on_detect = { after = \"60s\", stop_routing = true }",
        "",
    );
    let r = run_logged(&sc);
    assert_eq!(r.detection_s, Some(300.0));
    let action = 360.0;
    for (i, b) in r.bins.iter().enumerate() {
        let t0 = i as f64 * 30.0;
        if t0 >= action {
            assert_eq!(b.counts.served_fallback, 0, "bin at {t0} s: routed to the fallback after stop_routing");
            assert_eq!(failed_by(&b.counts, FailReason::FallbackStartFailed), 0);
        }
    }
    assert!(r.bins[..10].iter().map(|b| b.counts.served_fallback).sum::<u64>() > 0, "served before the break");
    for f in r.failure_log.as_ref().unwrap() {
        let t = f.at.as_secs_f64();
        if f.reason == FailReason::FallbackStartFailed {
            assert!((300.0..action).contains(&t), "start failure at {t} s, outside [break, action)");
        }
    }
    let late_eligible_wna = r
        .failure_log
        .as_ref()
        .unwrap()
        .iter()
        .filter(|f| f.class == 0 && f.reason == FailReason::WorkerNotAvailable)
        .inspect(|f| assert!(f.at.as_secs_f64() >= action, "eligible call failed unrouted before the action: {f:?}"))
        .count();
    assert!(late_eligible_wna > 0, "after stop_routing, eligible overflow fails with worker_not_available");
    assert!(r.totals.failed_fallback_eligible > failed_by(&r.totals, FailReason::FallbackStartFailed));
    // Without the action the recovered fallback serves again after 7 m.
    let control = run0(&canary_scenario("{ broken_from = \"5m\", broken_until = \"7m\" }", "60s", "", ""));
    assert!(control.bins[14..].iter().map(|b| b.counts.served_fallback).sum::<u64>() > 0);
}

/// on_detect fix_fallback: from the action on, no start fails; here on a
/// degraded fallback (p = 0.5), whose failures would otherwise go on.
#[test]
fn canary_fix_fallback_ends_start_failures_after_its_delay() {
    let sc = canary_scenario("{ degraded = 0.5 }", "60s", "on_detect = { after = \"2m\", fix_fallback = true }", "");
    let r = run_logged(&sc);
    let det = r.detection_s.expect("a degraded fallback fails probes");
    let fix = det + 120.0;
    assert!(fix < 1000.0, "the fix lands inside the run (detected at {det} s)");
    let fbsf: Vec<f64> = r
        .failure_log
        .as_ref()
        .unwrap()
        .iter()
        .filter(|f| f.reason == FailReason::FallbackStartFailed)
        .map(|f| f.at.as_secs_f64())
        .collect();
    assert!(!fbsf.is_empty());
    assert!(
        fbsf.iter().all(|&t| t < fix),
        "start failures after the fix at {fix} s: {:?}",
        fbsf.iter().rev().take(3).collect::<Vec<_>>()
    );
    let served_after: u64 =
        r.bins.iter().enumerate().filter(|(i, _)| *i as f64 * 30.0 >= fix).map(|(_, b)| b.counts.served_fallback).sum();
    assert!(served_after > 0, "the fixed fallback serves");
}

/// on_detect primary_min under a target-utilization policy: a decision
/// with cause on_detect at detection + after, to the new minimum, ready one
/// provisioning delay later; the policy never goes below it afterwards.
#[test]
fn canary_primary_min_raises_the_floor_of_a_scaling_policy() {
    let sc = load_text(
        r#"
name = "floor"
seed = 5
duration = "20m"
bin = "5s"
[arrivals]
kind = "poisson"
rate = 1.0
[[classes]]
name = "short"
share = 1.0
duration = "20s"
fallback_eligible = true
[primary]
workers = 4
calls_per_worker = 10
[primary.autoscaler]
policy = "target-utilization"
target = 0.7
provision_delay = "45s"
min = 2
max = 50
[fallback]
max_concurrency = 100
health = { broken_from = "4m10s" }
[fallback.canary]
interval = "1m"
on_detect = { after = "30s", primary_min = 20 }
"#,
    );
    let r = run0(&sc);
    assert_eq!(r.detection_s, Some(300.0), "first probe after the break at 250 s");
    let log = decisions(&r);
    let raise: Vec<&Decision> = log.iter().filter(|d| d.cause == "on_detect").collect();
    assert_eq!(raise.len(), 1, "{log:?}");
    let d = raise[0];
    assert_eq!((d.at, d.to), (330.0, 20), "{d:?}");
    assert_eq!(d.ready, Some((375.0, 375.0)));
    for e in log.iter().filter(|e| e.at > d.at) {
        assert!(e.to >= 20, "the policy went below the raised floor: {e:?}");
    }
    let before: Vec<&Decision> = log.iter().filter(|e| e.at < d.at).collect();
    assert!(before.iter().all(|e| e.to < 20), "the floor came from the action, not the load: {before:?}");
}

// ---------------------------------------------------------------------------
// Health modes and presets end to end (CLI)
// ---------------------------------------------------------------------------

fn class_num(s: &Value, class: &str, path: &[&str]) -> f64 {
    let mut v = &s["classes"][class];
    for k in path {
        v = &v[*k];
    }
    v.as_f64().unwrap_or_else(|| panic!("summary.json classes.{class}.{path:?} is not a number"))
}

#[test]
fn cli_health_healthy_serves_every_eligible_overflow() {
    let out = run_cli(&mech("fallback-degraded"), &["--set", "fallback.health=healthy"]);
    let s = out.summary();
    assert_eq!(class_num(&s, "eligible", &["failed"]), 0.0);
    assert!(class_num(&s, "eligible", &["served_fallback"]) > 1000.0);
    assert_eq!(out.metric("failed_fallback_eligible"), 0.0);
}

/// The bundled degraded scenario: failed starts / invocations = 0.25
/// within 3 binomial SE; the ineligible class never reaches the fallback.
#[test]
fn cli_health_degraded_fails_a_quarter_of_the_starts() {
    let out = run_cli(&mech("fallback-degraded"), &[]);
    let s = out.summary();
    let failed = class_num(&s, "eligible", &["failed_by_reason", "fallback_start_failed"]);
    let served = class_num(&s, "eligible", &["served_fallback"]);
    let n = out.metric("fallback_invocations");
    assert_eq!(n, failed + served);
    let p = 0.25;
    let se = (p * (1.0 - p) / n).sqrt();
    check_z(&format!("cli degraded p = {p}: failed starts / {n} invocations"), failed / n, p, se, 0.0);
    assert_eq!(class_num(&s, "other", &["failed_by_reason", "fallback_start_failed"]), 0.0);
    assert_eq!(class_num(&s, "eligible", &["failed"]), failed, "only start failures for the eligible class");
}

#[test]
fn cli_health_broken_fails_every_eligible_overflow() {
    let out = run_cli(&mech("fallback-degraded"), &["--set", "fallback.health=broken"]);
    let s = out.summary();
    let fbsf = class_num(&s, "eligible", &["failed_by_reason", "fallback_start_failed"]);
    assert!(fbsf > 0.0);
    assert_eq!(class_num(&s, "eligible", &["failed"]), fbsf, "eligible failures are all start failures");
    assert_eq!(class_num(&s, "eligible", &["arrived"]), class_num(&s, "eligible", &["served_primary"]) + fbsf);
    assert_eq!(out.metric("served_fallback"), 0.0);
}

/// broken_from/broken_until: start failures only in bins inside the broken
/// window (and in failures.csv only at arrival times inside it), nothing
/// served by the fallback there, served before and after.
#[test]
fn cli_health_broken_window_confines_start_failures() {
    let out = run_cli(&mech("fallback-broken-until"), &["--failure-log"]);
    let ts = out.timeseries();
    let (from, until) = (240.0, 480.0);
    let (mut inside, mut before, mut after) = (0.0, 0.0, 0.0);
    for i in 0..ts.len() {
        let (a, b) = (ts.f(i, "t_start_s"), ts.f(i, "t_end_s"));
        let fbsf = ts.f(i, "failed_fallback_start_failed");
        if b <= from || a >= until {
            assert_eq!(fbsf, 0.0, "bin [{a}, {b}) is outside the broken window");
        }
        if a >= from && b <= until {
            assert_eq!(ts.f(i, "served_fallback"), 0.0, "bin [{a}, {b}) is inside the broken window");
            assert_eq!(fbsf, ts.f(i, "failed_fallback_eligible"), "bin [{a}, {b}): all eligible failures");
            inside += fbsf;
        }
        if b <= from {
            before += ts.f(i, "served_fallback");
        }
        if a >= until {
            after += ts.f(i, "served_fallback");
        }
    }
    assert!(inside > 0.0 && before > 0.0 && after > 0.0, "inside {inside}, served before {before}, after {after}");
    let f = out.failures();
    let mut n = 0;
    for i in 0..f.len() {
        if f.s(i, "reason") == "fallback_start_failed" {
            let t = f.f(i, "t_s");
            assert!((from..until).contains(&t), "start failure at {t} s, outside [{from}, {until})");
            n += 1;
        }
    }
    assert_eq!(n as f64, inside);
}

/// image_arch ≠ runtime_arch with no explicit health: broken, with a
/// warning in summary.json and the cause named in causes.csv.
#[test]
fn cli_health_arch_mismatch_breaks_the_fallback() {
    let out = run_cli(
        &mech("fallback-lambda"),
        &["--set", "fallback.image_arch=arm64", "--set", "fallback.runtime_arch=x86_64"],
    );
    let s = out.summary();
    let warnings = s["warnings"].as_array().unwrap();
    assert!(warnings.iter().any(|w| w.as_str().unwrap().contains("image_arch")), "{warnings:?}");
    assert_eq!(out.metric("served_fallback"), 0.0);
    let fbsf = out.metric("failed_fallback_start_failed");
    assert!(fbsf > 0.0);
    assert_eq!(out.metric("failed"), fbsf);
    assert_eq!(out.metric("arrived"), out.metric("served_primary") + fbsf);
    let causes = fs::read_to_string(out.dir.join("causes.csv")).unwrap();
    assert!(causes.contains("image arm64 ≠ runtime x86_64"), "{causes}");
    // The same architectures spelled differently are not a mismatch.
    let same = run_cli(
        &mech("fallback-lambda"),
        &["--set", "fallback.image_arch=aarch64", "--set", "fallback.runtime_arch=arm64"],
    );
    assert_eq!(same.summary()["warnings"].as_array().unwrap().len(), 0);
    assert_eq!(same.metric("failed"), 0.0);
}

/// causes.csv explains a broken fallback by the architectures only when
/// they actually differ (same normalisation as validation).
#[test]
fn causes_do_not_blame_equivalent_architectures() {
    let sc = load_mech(
        "fallback-lambda",
        &["fallback.image_arch=aarch64", "fallback.runtime_arch=arm64", "fallback.health=broken"],
    );
    assert!(sc.warnings.is_empty(), "validation sees no mismatch: {:?}", sc.warnings);
    let r = run0(&sc);
    let causes = surgesim::report::causes::explain(&sc, &r);
    assert!(!causes.is_empty());
    for c in &causes {
        assert!(!c.text.contains("≠"), "blames equal architectures: {}", c.text);
    }
}

/// Lambda preset: cold starts are paid once per execution environment
/// (lognormal median 0.4 s, p95 1.5 s: mean 0.552 s); environments are
/// reused warm for the 10 minutes of the run, so cold starts are a small
/// fraction of the invocations; no call fails at 1,000 concurrency. With
/// idle_timeout = 0 every invocation is cold instead.
#[test]
fn cli_lambda_preset_pays_cold_starts_once_per_environment() {
    let out = run_cli(&mech("fallback-lambda"), &[]);
    assert_eq!(out.metric("failed"), 0.0);
    let served_fb = out.metric("served_fallback");
    let cold = out.metric("fallback_cold_starts");
    assert!(cold > 0.0 && cold < 0.2 * served_fb, "{cold} cold starts for {served_fb} fallback calls");
    // Waits: primary calls wait 0 (no queue), fallback calls wait their cold start.
    let served = out.metric("served_primary") + served_fb;
    let mean_cold = out.metric("wait_mean_s") * served / cold;
    let z95 = 1.6448536269514722;
    let sigma = (1.5_f64 / 0.4).ln() / z95;
    let mean = 0.4 * (sigma * sigma / 2.0).exp();
    let sd = mean * ((sigma * sigma).exp() - 1.0).sqrt();
    let se = sd / cold.sqrt();
    check_z("lambda: mean cold start paid by fallback calls, vs lognormal mean", mean_cold, mean, se, 0.0);
    let expired = run_cli(&mech("fallback-lambda"), &["--set", "fallback.idle_timeout=0s"]);
    assert_eq!(expired.metric("fallback_cold_starts"), expired.metric("served_fallback"));
}

/// The bundled canary scenario: detection at the break (a probe lands on
/// it), the primary floor raised at detection + 1 m with capacity one
/// provisioning delay later, and start failures only between the break
/// and the fix at detection + 3 m.
#[test]
fn cli_canary_mitigation_actions_take_effect_after_their_delays() {
    let out = run_cli(&mech("canary-mitigation"), &["--failure-log"]);
    let det = out.metric("detection_time_s");
    assert!((300.0..=360.0).contains(&det), "break at 300 s, 60 s probes: detected at {det}");
    let log = out.scaling();
    assert_eq!(
        log,
        vec![Decision {
            at: det + 60.0,
            from: 3,
            to: 8,
            cause: "on_detect".into(),
            ready: Some((det + 150.0, det + 150.0))
        }]
    );
    let ts = out.timeseries();
    check_capacity_follows_log(&ts, &log, 3, 10, &Provisioning::fixed(90.0));
    let fix = det + 180.0;
    let f = out.failures();
    let mut n = 0;
    for i in 0..f.len() {
        if f.s(i, "reason") == "fallback_start_failed" {
            let t = f.f(i, "t_s");
            assert!(t >= 300.0 && t < fix, "start failure at {t} s, outside [break 300, fix {fix})");
            n += 1;
        }
    }
    assert!(n > 0);
    let served_after: f64 =
        (0..ts.len()).filter(|&i| ts.f(i, "t_start_s") >= fix).map(|i| ts.f(i, "served_fallback")).sum();
    assert!(served_after > 0.0, "the fixed fallback serves again");
}

// ---------------------------------------------------------------------------
// validate
// ---------------------------------------------------------------------------

#[test]
fn cli_validate_warns_about_an_architecture_mismatch_only() {
    let tmp = TempDir::new().unwrap();
    let base = fs::read_to_string(mech_path("fallback-lambda")).unwrap();
    let write = |name: &str, img: &str, rt: &str| {
        let p = tmp.path().join(name);
        let text = base.replace(
            "preset = \"lambda\"",
            &format!("preset = \"lambda\"\nimage_arch = \"{img}\"\nruntime_arch = \"{rt}\""),
        );
        fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let bad = write("bad.toml", "arm64", "x86_64");
    let out = cli(tmp.path(), &["validate", &bad]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "a mismatch is a warning, not an error: {stdout}");
    assert!(stdout.contains("warning") && stdout.contains("arm64") && stdout.contains("x86_64"), "{stdout}");
    for (img, rt) in [("aarch64", "arm64"), ("amd64", "x86_64"), ("x86_64", "x86_64")] {
        let ok = write("ok.toml", img, rt);
        let out = cli(tmp.path(), &["validate", &ok]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0));
        assert!(!stdout.contains("warning"), "{img} vs {rt} is the same architecture: {stdout}");
    }
}

/// Every bundled mechanics scenario validates, without warnings.
#[test]
fn cli_every_mechanics_scenario_validates() {
    let dir = mech_path("x").parent().unwrap().to_path_buf();
    let mut files: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    assert!(files.len() >= 10, "{files:?}");
    let mut args = vec!["validate"];
    args.extend(files.iter().map(String::as_str));
    let out = cli(&dir, &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.matches(": ok (").count(), files.len(), "{stdout}");
    assert!(!stdout.contains("warning"), "{stdout}");
    for f in &files {
        let text = fs::read_to_string(f).unwrap();
        assert!(text.starts_with("# "), "{f} should open with a comment header explaining it");
    }
}
