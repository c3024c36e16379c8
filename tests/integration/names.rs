//! One name per quantity: the columns of `timeseries.csv` and `sweep.csv`,
//! the keys of `summary.json` and the metric names of `[slo]` agree.
//!
//! Every name is read from the files a real run and a real sweep of a small
//! scenario write (never from the crate's own lists), and every shared name
//! is checked to carry the same number in each file: per-bin columns sum to
//! the total, totals equal the metric means, and a sweep point run on the
//! same seeds gives the same means.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

/// Two classes (one fallback-eligible), a queue, a fallback, a canary on a
/// healthy fallback (so it never alerts) and a reporting window: most
/// columns carry numbers other than zero.
const SCENARIO: &str = r#"
name = "names"
description = "every output column in use"
seed = 11
clock_start = "07:00"
duration = "6m"
bin = "1m"
window = "07:01..07:04"

[arrivals]
kind = "poisson"
rate = 3.0
spike = { at = "2m", multiplier = 4.0, ramp = "10s", hold = "2m", decay = "30s" }

[[classes]]
name = "short"
share = 0.5
duration = { dist = "exponential", mean = "20s" }
fallback_eligible = true

[[classes]]
name = "long"
share = 0.5
duration = { dist = "exponential", mean = "60s" }

[primary]
workers = 4
calls_per_worker = 10

[fallback]
max_concurrency = 5
cold_start = "1s"

[fallback.canary]
interval = "1m"

[admission]
max_wait = "10s"
queue_limit = 10
"#;

/// Columns that place a row, not a quantity.
const PLACE: [&str; 3] = ["t_start_s", "t_end_s", "clock"];
/// Per-bin quantities with no run-level metric of the same meaning.
const BIN_ONLY: [&str; 2] = ["headroom_avg", "workers_billed_avg"];
/// The old name of `arrived`, kept as a last duplicate column for one release.
const DEPRECATED: (&str, &str) = ("arrivals", "arrived");
/// Totals that are ratios, with no per-bin column.
const RATIOS: [&str; 1] = ["failure_rate"];

/// A total that is a ratio or a mean, not a count summing over bins.
fn is_ratio(k: &str) -> bool {
    RATIOS.contains(&k) || k.starts_with("service_level_") || ["asa_s", "wait_mean_all_s", "abandon_rate"].contains(&k)
}
/// Sweep columns that are not metrics (besides the `--vary` paths).
const SWEEP_PLACE: [&str; 2] = ["point", "headroom_pct"];

const REPLICATIONS: &str = "3";
const WORKERS: f64 = 4.0;

fn surgesim(cwd: &Path, args: &[&str]) -> Output {
    let out = Command::cargo_bin("surgesim").expect("binary built").current_dir(cwd).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked") && out.status.code() != Some(101), "surgesim {args:?} panicked: {stderr}");
    out
}

fn ok(out: Output, what: &str) {
    assert!(out.status.success(), "{what} failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// A run's folder and a sweep's folder of [`SCENARIO`]; the sweep's first
/// point is the scenario itself.
struct Outputs {
    _tmp: TempDir,
    scenario: PathBuf,
    run: PathBuf,
    sweep: PathBuf,
}

fn outputs() -> Outputs {
    let tmp = TempDir::new().unwrap();
    let scenario = tmp.path().join("names.toml");
    fs::write(&scenario, SCENARIO).unwrap();
    let (run, sweep) = (tmp.path().join("run"), tmp.path().join("sweep"));
    let sc = scenario.to_str().unwrap();
    ok(surgesim(tmp.path(), &["run", sc, "-r", REPLICATIONS, "--out", run.to_str().unwrap()]), "run");
    let vary = format!("primary.workers={WORKERS}..{}:2", WORKERS + 2.0);
    let args = ["sweep", sc, "--vary", &vary, "-r", REPLICATIONS, "--out", sweep.to_str().unwrap()];
    ok(surgesim(tmp.path(), &args), "sweep");
    Outputs { _tmp: tmp, scenario, run, sweep }
}

/// Header and rows of a CSV file.
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r.records().map(|rec| rec.unwrap().iter().map(str::to_string).collect()).collect();
    (header, rows)
}

fn column(header: &[String], rows: &[Vec<String>], name: &str) -> Vec<f64> {
    let i = header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name} in {header:?}"));
    rows.iter().map(|r| r[i].parse().unwrap_or_else(|_| panic!("{name} = {:?} is not a number", r[i]))).collect()
}

fn summary(dir: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

fn object<'a>(v: &'a Value, key: &str) -> &'a serde_json::Map<String, Value> {
    v[key].as_object().unwrap_or_else(|| panic!("summary.json: {key} is not an object"))
}

/// `totals` (or a class's or the window's totals) flattened to metric names:
/// `failed_by_reason.R` is the metric `failed_R`, or `R` itself when that is
/// a total of its own (`abandoned`).
fn flat_totals(totals: &serde_json::Map<String, Value>) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for (k, v) in totals {
        if k == "service_levels" {
            // The group's service-level metrics, under their own names.
            for (m, x) in v.as_object().unwrap() {
                out.insert(m.clone(), x.as_f64().unwrap_or_else(|| panic!("totals.service_levels.{m} is null")));
            }
        } else if let Some(by) = v.as_object() {
            for (r, x) in by {
                let name = if totals.contains_key(r) { r.clone() } else { format!("failed_{r}") };
                let x = x.as_f64().unwrap();
                if let Some(old) = out.insert(name.clone(), x) {
                    assert_eq!(old, x, "{k}.{r} disagrees with {name}");
                }
            }
        } else {
            let x = v.as_f64().unwrap_or_else(|| panic!("totals.{k} is not a number"));
            if let Some(old) = out.insert(k.clone(), x) {
                assert_eq!(old, x, "{k} disagrees with failed_by_reason");
            }
        }
    }
    out
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn one_name_per_quantity_across_the_output_files() {
    let o = outputs();
    let s = summary(&o.run);
    let metrics = object(&s, "metrics");
    let (ts_header, ts_rows) = read_csv(&o.run.join("timeseries.csv"));

    // timeseries.csv: every quantity column is a summary.json metric name.
    assert_eq!(ts_header.last().map(String::as_str), Some(DEPRECATED.0), "the old name is the last column");
    for c in &ts_header {
        let known = PLACE.contains(&c.as_str()) || BIN_ONLY.contains(&c.as_str()) || c == DEPRECATED.0;
        assert!(known || metrics.contains_key(c), "timeseries.csv column {c} is not a metric of summary.json");
    }
    for c in BIN_ONLY {
        assert!(ts_header.iter().any(|h| h == c), "timeseries.csv lost {c}");
        assert!(!metrics.contains_key(c), "{c} became a metric: drop it from BIN_ONLY");
    }
    assert_eq!(
        column(&ts_header, &ts_rows, DEPRECATED.0),
        column(&ts_header, &ts_rows, DEPRECATED.1),
        "the deprecated column repeats {}",
        DEPRECATED.1
    );

    // summary.json totals: every total is a metric of the same name and
    // value, and every count is a timeseries column summing to it.
    let totals = flat_totals(object(&s, "totals"));
    assert!(totals["arrived"] > 0.0 && totals["failed"] > 0.0, "the scenario should fail calls: {totals:?}");
    assert!(totals["served_fallback"] > 0.0, "the scenario should use the fallback: {totals:?}");
    for (k, v) in &totals {
        let mean = metrics.get(k).unwrap_or_else(|| panic!("totals.{k} is not a metric of summary.json"))["mean"]
            .as_f64()
            .unwrap();
        assert!(close(*v, mean), "totals.{k} = {v}, metrics.{k}.mean = {mean}");
        if is_ratio(k) {
            continue;
        }
        let sum: f64 = column(&ts_header, &ts_rows, k).iter().sum();
        assert!(close(sum, *v), "timeseries.csv {k} sums to {sum}, totals.{k} is {v}");
    }
    let ts_counts: BTreeSet<&String> = ts_header.iter().filter(|c| totals.contains_key(*c) && !is_ratio(c)).collect();
    let ratios = totals.keys().filter(|k| is_ratio(k)).count();
    assert_eq!(ts_counts.len(), totals.len() - ratios, "a total has no timeseries.csv column");

    // Per class and for the window: the same names, as `class.C.` and
    // `window.` metrics.
    for (prefix, group) in object(&s, "classes")
        .iter()
        .map(|(c, t)| (format!("class.{c}."), t))
        .chain(std::iter::once(("window.".to_string(), &s["window"])))
    {
        let mut group = group.as_object().unwrap_or_else(|| panic!("{prefix}: totals missing")).clone();
        // The window section holds its bounds beside its totals.
        for bound in ["from_s", "to_s", "from_clock", "to_clock"] {
            assert_eq!(group.remove(bound).is_some(), prefix == "window.", "{prefix}: {bound}");
        }
        let group = flat_totals(&group);
        assert_eq!(group.keys().collect::<Vec<_>>(), totals.keys().collect::<Vec<_>>(), "{prefix} names differ");
        for (k, v) in group {
            let m = metrics.get(&format!("{prefix}{k}")).unwrap_or_else(|| panic!("no metric {prefix}{k}"));
            assert!(close(v, m["mean"].as_f64().unwrap()), "{prefix}{k}");
        }
    }

    // sweep.csv: every column is a place, the varied path, or a metric name
    // with _mean/_ci_lo/_ci_hi; point 0 is the scenario run on the same seeds.
    let (sw_header, sw_rows) = read_csv(&o.sweep.join("sweep.csv"));
    let mut seen = 0;
    for c in &sw_header {
        if SWEEP_PLACE.contains(&c.as_str()) || c == "primary.workers" {
            continue;
        }
        let Some(m) = c.strip_suffix("_mean") else {
            let base = c.strip_suffix("_ci_lo").or_else(|| c.strip_suffix("_ci_hi"));
            let base = base.unwrap_or_else(|| panic!("sweep.csv column {c} is neither a place nor a metric"));
            assert!(sw_header.contains(&format!("{base}_mean")), "sweep.csv {c} without {base}_mean");
            continue;
        };
        seen += 1;
        let stat = metrics.get(m).unwrap_or_else(|| panic!("sweep.csv column {c}: {m} is not a metric"));
        for end in ["_ci_lo", "_ci_hi"] {
            assert!(sw_header.contains(&format!("{m}{end}")), "sweep.csv lacks {m}{end}");
        }
        assert_eq!(column(&sw_header, &sw_rows, "primary.workers")[0], WORKERS);
        let swept = column(&sw_header, &sw_rows, c)[0];
        let mean = stat["mean"].as_f64().unwrap();
        assert!(close(swept, mean), "sweep.csv {c} = {swept}, summary.json metrics.{m}.mean = {mean}");
    }
    assert!(seen >= 5, "sweep.csv has only {seen} metrics: {sw_header:?}");

    // [slo]: every name shared by timeseries.csv and summary.json is an SLO
    // metric (a loose bound that passes); the old CSV name never was one.
    let shared: Vec<&String> = ts_header.iter().filter(|c| metrics.contains_key(*c)).collect();
    let slo: String = shared.iter().map(|c| format!("max_{c} = 1e18\n")).collect();
    let checked = o.scenario.with_file_name("checked.toml");
    fs::write(&checked, format!("{SCENARIO}\n[slo]\nreplications = 2\n{slo}")).unwrap();
    let dir = checked.parent().unwrap();
    ok(surgesim(dir, &["check", checked.to_str().unwrap()]), "check with every shared name");
    let old = o.scenario.with_file_name("old-name.toml");
    fs::write(&old, format!("{SCENARIO}\n[slo]\nreplications = 2\nmax_{} = 1e18\n", DEPRECATED.0)).unwrap();
    let out = surgesim(dir, &["check", old.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "max_{} should be an unknown metric", DEPRECATED.0);
}

#[test]
fn a_null_mean_is_a_metric_with_no_data() {
    // The canary watches a healthy fallback: it never alerts, so the
    // detection metrics have no value in any run.
    let o = outputs();
    let s = summary(&o.run);
    let metrics = object(&s, "metrics");
    let runs: u64 = REPLICATIONS.parse().unwrap();
    let mut nulls = Vec::new();
    for (name, stat) in metrics {
        let n = stat["n"].as_u64().unwrap_or_else(|| panic!("metrics.{name}.n"));
        if stat["mean"].is_null() {
            nulls.push(name.as_str());
            assert_eq!(n, 0, "metrics.{name}: null mean with data");
            assert!(stat["ci95"].is_null(), "metrics.{name}: an interval without data");
        } else {
            assert!(n > 0 && n <= runs, "metrics.{name}: n = {n}");
        }
    }
    assert!(nulls.contains(&"detection_time_s"), "no alert, yet detection_time_s has a mean: {nulls:?}");
    assert_eq!(metrics["detected"]["mean"].as_f64(), Some(0.0));
}
