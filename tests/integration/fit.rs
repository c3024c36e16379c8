//! `surgesim fit`, end to end through the binary.
//!
//! - The closed loop: a known scenario (a base rate with a ×2.5 spike, a
//!   lognormal and a gamma class, a capacity that fails calls in the spike)
//!   → `surgesim trace` (with outcomes and ends) → `surgesim fit` → the
//!   fitted rate within 3 standard errors of the true rate in at least 95 %
//!   of bins, the spike's start within one bin, the true duration medians
//!   and class shares inside the reported 95 % intervals, the right law
//!   chosen for each class, and a scenario `surgesim validate` accepts.
//!   Every expected value is the scenario's own parameter or worked out
//!   here from it, never read from the code under test.
//! - Bad logs: exit 2, stderr names the line or the column, nothing quoted
//!   from the log, and nothing written.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

fn surgesim(cwd: &Path, args: &[&str]) -> Output {
    let out = Command::cargo_bin("surgesim")
        .expect("the surgesim binary is built for integration tests")
        .current_dir(cwd)
        .args(args)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .expect("surgesim starts");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{args:?} panicked:\n{stderr}");
    out
}

fn ok(cwd: &Path, args: &[&str]) -> String {
    let out = surgesim(cwd, args);
    assert_eq!(out.status.code(), Some(0), "{args:?}:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

// ---------------------------------------------------------------------------
// The closed loop
// ---------------------------------------------------------------------------

const BASE: f64 = 20.0;
const MULT: f64 = 2.5;
const SPIKE_FROM_S: f64 = 1200.0;
const SPIKE_TO_S: f64 = 2100.0;
const SHORT_SHARE: f64 = 0.37;
const SHORT_MEDIAN_S: f64 = 45.0;
const LONG_SHAPE: f64 = 2.0;
const LONG_SCALE_S: f64 = 60.0;

fn known_scenario() -> String {
    format!(
        r#"name = "closed-loop"
seed = 20250725
duration = "60m"
warmup = "5m"
bin = "1m"
[arrivals]
kind = "poisson"
rate = {BASE}
spike = {{ at = "20m", multiplier = {MULT}, hold = "15m" }}
[[classes]]
name = "short"
share = {SHORT_SHARE}
duration = {{ dist = "lognormal", median = "{SHORT_MEDIAN_S}s", p95 = "2m" }}
[[classes]]
name = "long"
share = {}
duration = {{ dist = "gamma", shape = {LONG_SHAPE}, scale = "{LONG_SCALE_S}s" }}
[primary]
workers = 3000
"#,
        1.0 - SHORT_SHARE
    )
}

fn true_rate(t_s: f64) -> f64 {
    if (SPIKE_FROM_S..SPIKE_TO_S).contains(&t_s) {
        BASE * MULT
    } else {
        BASE
    }
}

/// Median of a gamma law of shape 2: 1 − e^(−y)(1 + y) = 1/2 for y = x/θ.
fn gamma2_median(scale: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, 20.0);
    for _ in 0..100 {
        let y: f64 = 0.5 * (lo + hi);
        if 1.0 - (-y).exp() * (1.0 + y) < 0.5 {
            lo = y;
        } else {
            hi = y;
        }
    }
    0.5 * (lo + hi) * scale
}

fn class<'a>(fit: &'a Value, name: &str) -> &'a Value {
    fit["classes"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("class {name}"))
}

fn pair(v: &Value) -> (f64, f64) {
    (v[0].as_f64().unwrap(), v[1].as_f64().unwrap())
}

#[test]
fn closed_loop_recovers_rates_spike_shares_and_laws() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    fs::write(dir.join("known.toml"), known_scenario()).unwrap();
    ok(dir, &["trace", "known.toml", "-o", "calls.csv"]);
    let log = fs::read_to_string(dir.join("calls.csv")).unwrap();
    assert!(log.starts_with("arrival,duration,class,outcome,end\n"));
    // The capacity fails calls in the spike, so the log has failures to include.
    assert!(log.contains(",worker_not_available,"), "the scenario should fail some calls");
    // In flight at the start, counted here from the log's columns.
    let mut in_flight = 0u64;
    for row in log.lines().skip(1) {
        let f: Vec<&str> = row.split(',').collect();
        let (t, end) = (f[0].parse::<f64>().unwrap(), f[4]);
        if t < 0.0 && !end.is_empty() && end.parse::<f64>().unwrap() > 0.0 {
            in_flight += 1;
        }
    }

    fs::create_dir(dir.join("fit")).unwrap();
    ok(dir, &["fit", "calls.csv", "-o", "fit/fitted.toml", "--bin", "1m"]);
    for f in ["fitted.toml", "fit.json", "fit.svg", "fit.png"] {
        assert!(dir.join("fit").join(f).is_file(), "{f} written");
    }
    ok(dir, &["validate", "fit/fitted.toml"]);
    let fit: Value = serde_json::from_str(&fs::read_to_string(dir.join("fit/fit.json")).unwrap()).unwrap();

    // Rates: every bin's fitted rate against the truth, with the truth's
    // Poisson standard error √(λ·w)/w.
    let w = 60.0;
    let bins = fit["rate"]["bins"].as_array().unwrap();
    assert_eq!(bins.len(), 60);
    let within = bins
        .iter()
        .filter(|b| {
            let t = b["t_start_s"].as_f64().unwrap();
            let lambda = true_rate(t);
            (b["fitted_per_s"].as_f64().unwrap() - lambda).abs() <= 3.0 * (lambda * w).sqrt() / w
        })
        .count();
    assert!(within * 100 >= 95 * bins.len(), "{within} of {} bins within 3 SE", bins.len());
    // The spike: the highest segment starts within one bin of 20m.
    let segs = fit["rate"]["segments"].as_array().unwrap();
    let top = segs.iter().max_by(|a, b| a["per_s"].as_f64().unwrap().total_cmp(&b["per_s"].as_f64().unwrap())).unwrap();
    let start = top["from_s"].as_f64().unwrap();
    assert!((start - SPIKE_FROM_S).abs() <= w, "spike found at {start} s, true {SPIKE_FROM_S} s");

    // Shares and medians inside their reported 95 % intervals.
    for (name, share, median) in
        [("short", SHORT_SHARE, SHORT_MEDIAN_S), ("long", 1.0 - SHORT_SHARE, gamma2_median(LONG_SCALE_S))]
    {
        let c = class(&fit, name);
        let (lo, hi) = pair(&c["share_ci95"]);
        assert!(lo <= share && share <= hi, "{name}: share {share} outside [{lo}, {hi}]");
        let (lo, hi) = pair(&c["durations"]["empirical"]["median_ci95"]);
        assert!(lo <= median && median <= hi, "{name}: median {median} s outside [{lo}, {hi}]");
        // Failed calls' durations are left out, and said so.
        assert!(c["unserved_skipped"].as_u64().unwrap() > 0, "{name}: failed calls counted apart");
    }
    assert_eq!(class(&fit, "short")["durations"]["chosen"], "lognormal");
    assert_eq!(class(&fit, "long")["durations"]["chosen"], "gamma");
    assert_eq!(fit["in_flight_at_start"]["calls"].as_u64(), Some(in_flight));

    // The scenario: estimates commented, placeholders marked.
    let toml = fs::read_to_string(dir.join("fit/fitted.toml")).unwrap();
    for line in toml.lines().filter(|l| l.trim_start().starts_with("{ at =") || l.starts_with("share =")) {
        assert!(line.contains('#'), "estimate without a comment: {line}");
    }
    for field in ["workers =", "calls_per_worker =", "policy =", "fallback_eligible ="] {
        assert!(
            toml.lines().any(|l| l.starts_with(field) && l.contains("# PLACEHOLDER")),
            "{field} is not marked PLACEHOLDER"
        );
    }
    assert!(toml.contains("dist = \"lognormal\"") && toml.contains("dist = \"gamma\""));
}

#[test]
fn rfc3339_logs_take_their_start_and_clock_from_the_first_arrival() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    let log = "timestamp,end,outcome,class\n\
               2025-07-25T06:59:50-07:00,2025-07-25T07:00:20-07:00,served,a\n\
               2025-07-25T07:00:10-07:00,2025-07-25T07:01:10-07:00,served,a\n\
               2025-07-25T07:00:30-07:00,,worker_not_available,b\n\
               2025-07-25T07:01:30-07:00,2025-07-25T07:01:40-07:00,served_fallback,b\n";
    fs::write(dir.join("log.csv"), log).unwrap();
    ok(dir, &["fit", "log.csv", "-o", "s.toml"]);
    let fit: Value = serde_json::from_str(&fs::read_to_string(dir.join("fit.json")).unwrap()).unwrap();
    // Start: the first arrival floored to the minute; clock in the log's zone.
    assert_eq!(fit["origin"], "2025-07-25T06:59:00-07:00");
    assert_eq!(fit["clock_start"], "06:59:00");
    // Durations from ends: 30 s, 60 s (a), 10 s (b; the failed call has none).
    assert_eq!(class(&fit, "a")["durations"]["n"], 2);
    assert_eq!(class(&fit, "b")["durations"]["n"], 1);
    assert_eq!(class(&fit, "b")["without_duration"], 1);
    assert_eq!(fit["rate"]["bins"].as_array().unwrap().len(), 3);
    // With --origin at 07:00 the first call is before the start, in flight at it.
    ok(dir, &["fit", "log.csv", "-o", "s.toml", "--origin", "2025-07-25T14:00:00Z", "--clock-start", "07:00"]);
    let fit: Value = serde_json::from_str(&fs::read_to_string(dir.join("fit.json")).unwrap()).unwrap();
    assert_eq!(fit["rows_before_start"], 1);
    assert_eq!(fit["in_flight_at_start"]["calls"], 1);
    assert_eq!(fit["clock_start"], "07:00:00");
    ok(dir, &["validate", "s.toml"]);
}

// ---------------------------------------------------------------------------
// Bad logs
// ---------------------------------------------------------------------------

/// Files in `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    v.sort();
    v
}

/// Fits `log` (bytes) with `extra` flags: exit 2, stderr has every `expect`
/// and none of `secret`, and the output folder stays empty.
fn check_bad(name: &str, log: &[u8], extra: &[&str], expect: &[&str]) {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    fs::write(dir.join("log.csv"), log).unwrap();
    let out_dir: PathBuf = dir.join("out");
    fs::create_dir(&out_dir).unwrap();
    let mut args = vec!["fit", "log.csv", "-o", "out/s.toml"];
    args.extend_from_slice(extra);
    let out = surgesim(dir, &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{name}: exit code; stderr:\n{stderr}");
    for e in expect {
        assert!(stderr.contains(e), "{name}: stderr lacks {e:?}:\n{stderr}");
    }
    assert!(!stderr.contains("zzsecret"), "{name}: stderr quotes the log:\n{stderr}");
    assert!(entries(&out_dir).is_empty(), "{name}: wrote {:?}", entries(&out_dir));
    assert_eq!(entries(dir), vec!["log.csv", "out"], "{name}: wrote beside the log");
}

/// A bad log: name, bytes, extra flags, what stderr must say.
type BadCase<'a> = (&'a str, &'a [u8], &'a [&'a str], &'a [&'a str]);

#[test]
fn bad_logs_exit_2_naming_the_row_or_column_and_write_nothing() {
    let cases: &[BadCase] = &[
        ("unsorted rows", b"arrival,duration\n1,5\n3,5\n2,5\n4,5\n", &[], &["line 4", "out of time order"]),
        // fit reads a log once and has no sorting mode: a log a trace
        // scenario would replay with `sort = true` is still refused.
        ("unsorted first rows", b"arrival,duration\n10,5\n9,5\n", &[], &["line 3", "out of time order"]),
        ("no arrival column", b"when,duration\n1,5\n", &[], &["line 1", "`arrival` column"]),
        (
            "mixed time zones",
            b"arrival\n2025-07-25T07:00:00Z\n2025-07-25T07:00:01+02:00\n",
            &[],
            &["line 3", "mixed time zones"],
        ),
        ("seconds and timestamps", b"arrival\n5\n2025-07-25T07:00:01Z\n", &[], &["line 3", "mixed time formats"]),
        ("negative duration", b"arrival,duration\n1,5\n2,-5\n", &[], &["line 3", "duration"]),
        ("NaN duration", b"arrival,duration\n1,NaN\n", &[], &["line 2", "duration"]),
        ("end before arrival", b"arrival,end\n10,4\n", &[], &["line 2", "end"]),
        (
            "unknown outcome",
            b"arrival,outcome\n1,served\n2,zzsecret\n",
            &[],
            &["line 3", "outcome", "worker_not_available"],
        ),
        ("header only", b"arrival,duration,class,outcome\n", &[], &["no calls"]),
        ("empty file", b"", &[], &["empty log"]),
        ("--origin on a seconds log", b"arrival\n1\n", &["--origin", "2025-07-25T07:00:00Z"], &["line 2", "--origin"]),
        ("bad --bin", b"arrival\n1\n", &["--bin", "0s"], &["--bin"]),
    ];
    for (name, log, extra, expect) in cases {
        check_bad(name, log, extra, expect);
    }
}

#[test]
fn a_missing_log_exits_2_and_writes_nothing() {
    let tmp = TempDir::new().unwrap();
    let out = surgesim(tmp.path(), &["fit", "nope.csv", "-o", "s.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.csv"));
    assert!(entries(tmp.path()).is_empty());
}

#[test]
fn a_log_of_arrivals_only_gives_placeholder_durations_that_validate() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    fs::write(dir.join("log.csv"), "arrival,class\n0.5,\n1.5,a\n70,a\n").unwrap();
    ok(dir, &["fit", "log.csv", "-o", "s.toml"]);
    let toml = fs::read_to_string(dir.join("s.toml")).unwrap();
    assert!(toml.lines().any(|l| l.starts_with("duration = {") && l.contains("# PLACEHOLDER")), "{toml}");
    // An empty class cell is a class of its own; no ends, no in-flight count.
    let fit: Value = serde_json::from_str(&fs::read_to_string(dir.join("fit.json")).unwrap()).unwrap();
    assert_eq!(class(&fit, "unclassified")["calls"], 1);
    assert_eq!(class(&fit, "a")["without_duration"], 2);
    assert!(fit["in_flight_at_start"].is_null());
    ok(dir, &["validate", "s.toml"]);
}

/// Device files and giant rows: `/dev/zero` is refused unopened (not a
/// regular file), and a 2 MiB row ends in exit 2 naming its line, with a
/// short stderr (nothing of the row is echoed).
#[test]
fn devices_and_giant_rows_are_refused_with_a_short_message() {
    let tmp = TempDir::new().unwrap();
    let out = surgesim(tmp.path(), &["fit", "/dev/zero", "-o", "s.toml"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/dev/zero"));
    let mut log = b"arrival,duration\n1,5\n2,".to_vec();
    log.extend(std::iter::repeat_n(b'7', 2 << 20));
    log.extend_from_slice(b"\n3,5\n");
    fs::write(tmp.path().join("big.csv"), &log).unwrap();
    let out = surgesim(tmp.path(), &["fit", "big.csv", "-o", "s.toml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("line 3") && stderr.len() < 2_000, "{}", &stderr[..stderr.len().min(500)]);
    assert_eq!(entries(tmp.path()), vec!["big.csv"]);
}
