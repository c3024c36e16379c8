//! What a run writes: identical files for the same scenario (whatever the
//! thread count), the documented keys of summary.json and columns of
//! timeseries.csv, `--window`, `--set`, and `validate` on the bundled
//! scenarios.

use std::fs;
use std::path::Path;

use serde_json::Value;
use tempfile::TempDir;

use super::{fx, small};
use crate::common::{assert_exit, entries, num, read, repo, run_ok, stderr, stdout, summary, surgesim};

const DETERMINISTIC_FILES: [&str; 2] = ["summary.json", "timeseries.csv"];

#[track_caller]
fn assert_same_files(a: &Path, b: &Path, what: &str) {
    for f in DETERMINISTIC_FILES {
        assert!(read(a, f) == read(b, f), "{what}: {f} differs between {} and {}", a.display(), b.display());
    }
}

#[test]
fn same_scenario_twice_gives_identical_files() {
    let (_t1, a) = run_ok(&small(), &[]);
    let (_t2, b) = run_ok(&small(), &[]);
    assert_same_files(&a, &b, "two runs of small.toml");
}

#[test]
fn thread_count_does_not_change_results() {
    let (_t1, a) = run_ok(&small(), &["--replications", "4", "--threads", "1"]);
    let (_t2, b) = run_ok(&small(), &["--replications", "4", "--threads", "2"]);
    assert_same_files(&a, &b, "--threads 1 vs --threads 2 with --replications 4");
}

#[test]
fn a_different_seed_gives_different_results() {
    let (_t1, a) = run_ok(&small(), &[]);
    let (_t2, b) = run_ok(&small(), &["--seed", "43"]);
    for f in DETERMINISTIC_FILES {
        assert!(read(&a, f) != read(&b, f), "--seed 43 gave the same {f} as the scenario's seed 42");
    }
    assert_eq!(num(&summary(&a), "seed"), 42.0);
    assert_eq!(num(&summary(&b), "seed"), 43.0);
}

// ---------------------------------------------------------------------------
// 3. Output files
// ---------------------------------------------------------------------------

/// The columns DESIGN.md promises in timeseries.csv (more may follow).
const TIMESERIES_COLUMNS: [&str; 10] = [
    "t_start_s",
    "t_end_s",
    "arrivals",
    "failed",
    "failed_fallback_eligible",
    "served_fallback",
    "busy_primary_avg",
    "capacity_primary_avg",
    "headroom_avg",
    "fallback_busy_avg",
];

#[test]
fn summary_json_has_the_documented_keys_and_intervals() {
    let (_t, dir) = run_ok(&small(), &["--replications", "3"]);
    let s = summary(&dir);
    assert_eq!(s["scenario"], "small");
    assert_eq!(s["seed"], 42);
    assert_eq!(s["replications"], 3);
    assert_eq!(s["surgesim_version"], env!("CARGO_PKG_VERSION"));
    assert!(num(&s, "totals.arrived") > 0.0, "nothing arrived");
    let reasons = s["totals"]["failed_by_reason"].as_object().expect("totals.failed_by_reason is an object");
    assert!(reasons.contains_key("worker_not_available"), "failed_by_reason: {reasons:?}");
    let by_reason: f64 = reasons.values().map(|v| v.as_f64().expect("a number")).sum();
    assert!((by_reason - num(&s, "totals.failed")).abs() < 1e-6, "failed_by_reason does not add up to failed");
    for class in ["short", "long"] {
        assert!(num(&s, &format!("classes.{class}.arrived")) > 0.0, "class {class} is missing or empty");
    }

    let metrics = s["metrics"].as_object().expect("metrics is an object");
    assert!(metrics.len() >= 10, "too few metrics: {:?}", metrics.keys());
    for key in ["arrived", "failed", "failure_rate", "served_primary"] {
        assert!(metrics.contains_key(key), "metrics lacks {key}");
    }
    for (k, m) in metrics {
        // A metric that applied in no run (e.g. canary detection times in a
        // scenario without a canary) has no values, hence no interval.
        if m["n"] == 0 {
            assert!(m["mean"].is_null() && m["ci95"].is_null(), "metric {k} applies to no run but has values: {m}");
            continue;
        }
        assert_eq!(m["n"], 3, "metric {k} applied to some runs only: {m}");
        let ci = m["ci95"].as_array().unwrap_or_else(|| panic!("metric {k} has no ci95 with 3 replications: {m}"));
        let mean = m["mean"].as_f64().unwrap_or_else(|| panic!("metric {k} has no mean: {m}"));
        let (lo, hi) = (ci[0].as_f64().unwrap(), ci[1].as_f64().unwrap());
        assert!(ci.len() == 2 && lo <= mean && mean <= hi, "metric {k}: ci95 {ci:?} does not bracket the mean {mean}");
    }
}

#[test]
fn timeseries_csv_has_the_documented_columns_and_adds_up_to_the_totals() {
    let (_t, dir) = run_ok(&small(), &["--replications", "3"]);
    let s = summary(&dir);
    let bytes = read(&dir, "timeseries.csv");
    let mut rdr = csv::Reader::from_reader(&bytes[..]);
    let header: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    for c in TIMESERIES_COLUMNS {
        assert!(header.iter().any(|h| h == c), "timeseries.csv lacks column {c}; it has {header:?}");
    }
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    // small.toml: 5 minutes in 30 s bins.
    assert_eq!(rows.len(), 10, "expected one row per 30 s bin over 5 minutes");
    let cell = |r: &csv::StringRecord, name: &str| -> f64 {
        r[col(name)].parse().unwrap_or_else(|_| panic!("{name} = {:?} is not a number", &r[col(name)]))
    };
    let mut t = 0.0;
    for r in &rows {
        assert_eq!(cell(r, "t_start_s"), t, "bins are not contiguous");
        t = cell(r, "t_end_s");
    }
    assert_eq!(t, 300.0, "the last bin does not end at the end of the run");

    for (column, total) in [
        ("arrivals", "totals.arrived"),
        ("failed", "totals.failed"),
        ("served_primary", "totals.served_primary"),
        ("served_fallback", "totals.served_fallback"),
        ("failed_fallback_eligible", "totals.failed_fallback_eligible"),
    ] {
        if !header.iter().any(|h| h == column) {
            panic!("timeseries.csv lacks column {column}");
        }
        let sum: f64 = rows.iter().map(|r| cell(r, column)).sum();
        let want = num(&s, total);
        assert!(
            (sum - want).abs() <= 1e-6 * want.abs().max(1.0),
            "sum of {column} over bins is {sum}, summary.json {total} is {want}"
        );
    }
    // small.toml is loaded enough that some calls fail (queue full).
    assert!(num(&s, "totals.failed") > 0.0, "small.toml should produce some failures");
}

#[test]
fn a_window_is_reported_in_summary_json() {
    let (_t, dir) = run_ok(&small(), &["--window", "07:01..07:03"]);
    let s = summary(&dir);
    assert_eq!(s["window"]["from_clock"], "07:01:00");
    assert_eq!(s["window"]["to_clock"], "07:03:00");
    let inside = num(&s, "window.arrived");
    assert!(inside > 0.0 && inside < num(&s, "totals.arrived"), "window.arrived = {inside}");
}

// ---------------------------------------------------------------------------
// 4. --set and validate
// ---------------------------------------------------------------------------

#[test]
fn set_primary_workers_changes_the_results() {
    let (_t1, base) = run_ok(&small(), &[]);
    let (_t2, one) = run_ok(&small(), &["--set", "primary.workers=1"]);
    let (b, o) = (summary(&base), summary(&one));
    assert_eq!(num(&o, "metrics.capacity_primary_avg.mean"), 10.0, "1 worker × 10 calls per worker");
    let lost = |s: &Value| num(s, "totals.failed") + num(s, "totals.abandoned");
    assert!(lost(&o) > lost(&b), "one worker lost {} calls, twenty lost {}", lost(&o), lost(&b));
    assert!(num(&o, "totals.failure_rate") > num(&b, "totals.failure_rate"));
}

#[test]
fn set_addresses_array_elements_by_name_and_by_index() {
    let (_t0, base) = run_ok(&small(), &[]);
    let (_t1, by_name) = run_ok(&small(), &["--set", "classes.short.share=0.9", "--set", "classes.long.share=0.1"]);
    let (_t2, by_index) = run_ok(&small(), &["--set", "classes.0.share=0.9", "--set", "classes.1.share=0.1"]);
    let share = |s: &Value| num(s, "classes.short.arrived") / num(s, "totals.arrived");
    assert!(share(&summary(&base)) < 0.55, "small.toml gives 40% to short");
    assert!(share(&summary(&by_name)) > 0.8, "--set classes.short.share=0.9 had no effect");
    assert_same_files(&by_name, &by_index, "classes.short.* vs classes.0.*");
}

#[test]
fn validate_accepts_every_bundled_scenario() {
    let dir = repo("scenarios");
    let mut files: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no scenarios in {}", dir.display());
    let tmp = TempDir::new().unwrap();
    for f in &files {
        let args = ["validate", f.as_str()];
        let out = surgesim(tmp.path(), &args);
        assert_exit(&args, &out, 0);
        assert!(stdout(&out).contains(": ok"), "validate {f} did not say ok: {}", stdout(&out));
    }
    let mut args = vec!["validate"];
    args.extend(files.iter().map(String::as_str));
    let out = surgesim(tmp.path(), &args);
    assert_exit(&args, &out, 0);
    assert!(entries(tmp.path()).is_empty(), "validate wrote files");
}

#[test]
fn validate_warns_about_a_fallback_architecture_mismatch() {
    let tmp = TempDir::new().unwrap();
    let f = fx("arch-mismatch.toml");
    let args = ["validate", f.as_str()];
    let out = surgesim(tmp.path(), &args);
    assert_exit(&args, &out, 0);
    let text = stdout(&out) + &stderr(&out);
    assert!(
        text.contains("arch-mismatch.toml") && text.contains("warning") && text.contains("image_arch"),
        "no architecture warning:\n{text}"
    );

    // The fixtures that are meant to be valid validate without warnings
    // about architecture.
    let f = small();
    let args = ["validate", f.as_str()];
    let out = surgesim(tmp.path(), &args);
    assert_exit(&args, &out, 0);
    assert!(!stdout(&out).contains("image_arch"));
}
