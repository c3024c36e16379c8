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

mod autoscaler;
mod canary;
mod end_to_end;
mod fallback;
mod replay;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tempfile::TempDir;

use surgesim::experiment::simulate;
use surgesim::model::RunOptions;
use surgesim::observe::FailReason;
use surgesim::result::RunResult;
use surgesim::scenario::{self, overrides::Override, Scenario};

use crate::common::{repo, run_ok};
use replay::Decision;

/// Acceptance band of every statistical check, in standard errors.
const Z: f64 = 3.0;
/// Float slack for averages read back from CSV (areas are exact integers
/// of worker-microseconds; the division and formatting add rounding only).
const EPS: f64 = 1e-6;

// ---------------------------------------------------------------------------
// Helpers: scenarios and library runs
// ---------------------------------------------------------------------------

fn mech_path(name: &str) -> PathBuf {
    repo("scenarios/mechanics").join(format!("{name}.toml"))
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
/// `cargo test --test integration mechanics:: -- --nocapture`).
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
    let (tmp, dir) = run_ok(scenario, extra);
    Out { _tmp: tmp, dir }
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
