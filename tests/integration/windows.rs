//! The reporting window in every form: clock times against `clock_start`,
//! `+Nd` day offsets, durations and seconds from the start. The same span
//! written three ways counts the same calls; a window on day 2 of a 48 h run
//! is counted from that day's bins; reversed, empty or out-of-range windows
//! exit 2 naming the window; summary.json holds the bounds and the totals
//! in one `window` section.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use serde_json::Value;
use tempfile::TempDir;

use crate::common::{assert_exit, fixture, num, read, run_ok, stderr, summary, surgesim};

/// Sum of a timeseries.csv column over the bins that start in `[from_s, to_s)`.
fn bins_sum(dir: &Path, column: &str, from_s: f64, to_s: f64) -> f64 {
    let text = String::from_utf8(read(dir, "timeseries.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no column {name}"));
    let (t0, c) = (col("t_start_s"), col(column));
    lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|r| (from_s..to_s).contains(&r[t0].parse::<f64>().unwrap()))
        .map(|r| r[c].parse::<f64>().unwrap())
        .sum()
}

#[test]
fn a_clock_window_a_duration_window_and_a_seconds_window_count_the_same_calls() {
    // small.toml starts at 07:00 with 30 s bins: minutes 1 to 3 three ways.
    let runs: Vec<(TempDir, std::path::PathBuf)> = ["07:01..07:03", "1m..3m", "60..180"]
        .iter()
        .map(|w| run_ok(&fixture("small.toml"), &["-r", "2", "--window", w]))
        .collect();
    let first = read(&runs[0].1, "summary.json");
    for (w, (_, dir)) in ["1m..3m", "60..180"].iter().zip(&runs[1..]) {
        assert!(read(dir, "summary.json") == first, "--window {w}: summary.json differs from --window 07:01..07:03");
        assert_eq!(read(dir, "summary.txt"), read(&runs[0].1, "summary.txt"), "--window {w}: summary.txt differs");
    }
    let (dir, s) = (&runs[0].1, summary(&runs[0].1));
    assert_eq!((num(&s, "window.from_s"), num(&s, "window.to_s")), (60.0, 180.0));
    // The window's counts are the bins it covers (arrival-time counting).
    for m in ["arrived", "failed", "served_primary", "failed_fallback_eligible"] {
        let want = bins_sum(dir, m, 60.0, 180.0);
        let got = num(&s, &format!("window.{m}"));
        assert!((got - want).abs() <= 1e-9 * want.max(1.0), "window.{m} = {got}, bins 60..180 s sum to {want}");
        assert_eq!(s["metrics"][format!("window.{m}")]["mean"].as_f64(), Some(got), "metrics window.{m}");
    }
    let inside = num(&s, "window.arrived");
    assert!(inside > 0.0 && inside < num(&s, "totals.arrived"), "window.arrived = {inside}");
}

/// A two-day run from 06:00 with hourly bins, written to `dir`.
fn two_days(dir: &Path, window: &str) -> String {
    let path = dir.join("two-days.toml");
    fs::write(
        &path,
        format!(
            r#"name = "two-days"
seed = 7
clock_start = "06:00"
duration = "48h"
bin = "1h"
window = "{window}"

[arrivals]
kind = "poisson"
rate = 0.05

[[classes]]
name = "all"
share = 1.0
duration = {{ dist = "exponential", mean = "2m" }}

[primary]
workers = 1
calls_per_worker = 10
"#
        ),
    )
    .unwrap();
    path.display().to_string()
}

#[test]
fn a_day_two_window_in_a_48_hour_run_counts_that_days_bins() {
    let t = TempDir::new().unwrap();
    let sc = two_days(t.path(), "+1d07:00..+1d09:00");
    let (_o, dir) = run_ok(&sc, &["--report"]);
    let s = summary(&dir);
    // 07:00 on day 2 is 25 h after 06:00 on day 1.
    assert_eq!((num(&s, "window.from_s"), num(&s, "window.to_s")), (25.0 * 3600.0, 27.0 * 3600.0));
    assert_eq!(
        (s["window"]["from_clock"].as_str(), s["window"]["to_clock"].as_str()),
        (Some("+1d07:00:00"), Some("+1d09:00:00"))
    );
    let want = bins_sum(&dir, "arrived", 25.0 * 3600.0, 27.0 * 3600.0);
    assert!(want > 0.0);
    assert_eq!(num(&s, "window.arrived"), want, "window.arrived against the bins of 07:00-09:00 on day 2");
    let table = String::from_utf8(read(&dir, "summary.txt")).unwrap();
    assert!(table.contains("window +1d07:00:00..+1d09:00:00"), "summary.txt:\n{table}");
    let html = String::from_utf8(read(&dir, "report.html")).unwrap();
    assert!(html.contains("+1d07:00:00 – +1d09:00:00"), "report.html does not state the day-2 window");

    // The same span from the start, and plain 07:00 on day 1 is a different one.
    for w in ["25h..27h", "90000..97200"] {
        let (_o2, d2) = run_ok(&sc, &["--window", w]);
        assert!(
            read(&d2, "summary.json") == read(&dir, "summary.json"),
            "--window {w} differs from +1d07:00..+1d09:00"
        );
    }
    let (_o3, d3) = run_ok(&sc, &["--window", "07:00..09:00"]);
    let s3 = summary(&d3);
    assert_eq!(num(&s3, "window.from_s"), 3600.0, "a plain clock time is its first time after clock_start");
    assert_eq!(num(&s3, "window.arrived"), bins_sum(&d3, "arrived", 3600.0, 3.0 * 3600.0));
}

#[test]
fn reversed_empty_and_out_of_range_windows_exit_2_naming_the_window() {
    let small = fixture("small.toml"); // 07:00 to 07:05
    let cases = [
        ("07:03..07:01", "must end after it starts"),
        ("3m..1m", "must end after it starts"),
        ("120..120", "must end after it starts"),
        ("06:00..07:01", "before clock_start (07:00:00)"),
        ("07:01..07:09", "ends after the run"),
        ("4m..6m", "ends after the run"),
        ("5m..6m", "starts after the run ends"),
        ("+1d07:01..+1d07:02", "starts after the run ends"),
        ("07:01..3m", "same form"),
        ("1m-3m", "expected FROM..TO"),
    ];
    let t = TempDir::new().unwrap();
    for (w, why) in cases {
        let args = ["run", small.as_str(), "--window", w, "--out", "o"];
        let out = surgesim(t.path(), &args);
        assert_exit(&args, &out, 2);
        let e = stderr(&out);
        assert!(e.contains("window") && e.contains(&format!("{w:?}")) && e.contains(why), "--window {w}:\n{e}");
        assert!(!t.path().join("o").exists(), "--window {w}: an output folder was written");
    }
    // The same from the scenario's own field, named with the file.
    let sc = two_days(t.path(), "+2d07:00..+2d05:00");
    let args = ["validate", sc.as_str()];
    let out = surgesim(t.path(), &args);
    assert_exit(&args, &out, 2);
    let e = stderr(&out);
    assert!(e.contains("two-days.toml") && e.contains("window") && e.contains("\"+2d07:00..+2d05:00\""), "{e}");
}

#[test]
fn summary_json_holds_the_window_bounds_and_totals_in_one_section() {
    let (_t, dir) = run_ok(&fixture("small.toml"), &["--window", "07:01:30..07:04"]);
    let s = summary(&dir);
    assert!(s.get("window_totals").is_none(), "window_totals is gone: the counts sit in `window`");
    let w = s["window"].as_object().expect("window is an object");
    let keys: BTreeSet<&str> = w.keys().map(String::as_str).collect();
    let mut want: BTreeSet<&str> = s["totals"].as_object().unwrap().keys().map(String::as_str).collect();
    want.extend(["from_s", "to_s", "from_clock", "to_clock"]);
    assert_eq!(keys, want, "the window section: bounds, then the same totals as `totals`");
    assert_eq!(w["from_s"], Value::from(90.0));
    assert_eq!(w["to_s"], Value::from(240.0));
    assert_eq!(w["from_clock"], "07:01:30");
    assert_eq!(w["to_clock"], "07:04:00");
    assert!(w["failed_by_reason"].is_object());
    // The metrics keep their names.
    assert!(s["metrics"]["window.failed"]["mean"].is_number());

    let (_t2, plain) = run_ok(&fixture("small.toml"), &[]);
    assert_eq!(summary(&plain)["window"], Value::Null, "no window: `window` is null");
}
