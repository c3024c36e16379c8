//! Calls cut off by a drain in every output: the `failed_drain_timeout`
//! column of summary.json (totals, window, classes, metrics), the table and
//! timeseries.csv, and the `drain_timeout` outcome of `surgesim trace`; and
//! no such column where no drain can cut a call.

use std::fs;
use std::path::Path;

use serde_json::Value;
use tempfile::TempDir;

use crate::common::{num, ok, read, run_ok, stdout, summary};

/// Four single-slot workers; calls of 1000 s at t = 0 and 1 s; a step
/// policy that sees utilisation 2/4 at its first evaluation (t = 10 s) and
/// removes 3 workers. With `newest` both calls are on removed workers (they
/// took the two most recently ready ones, admission using the most recently
/// freed worker first), so a 30 s grace cuts both off at 10 + 30 = 40 s;
/// with `least_loaded` and unlimited grace none is cut off. A third call at
/// 50 s of 5 s finds the remaining worker idle with `newest` (it is served)
/// and busy with the call of t = 0 with `least_loaded` (it is turned away).
fn write_case(dir: &Path, victim: &str, grace: &str) -> String {
    let toml = format!(
        "name = \"drain-outputs\"\nseed = 1\nduration = \"10m\"\nbin = \"1m\"\nwindow = \"0s..2m\"\n\
         [arrivals]\nkind = \"trace\"\nfile = \"calls.csv\"\n\
         [[classes]]\nname = \"call\"\nshare = 1.0\nduration = \"1000s\"\n\
         [primary]\nworkers = 4\ncalls_per_worker = 1\nscale_down_victim = {victim:?}\ndrain_grace = {grace:?}\n\
         [primary.autoscaler]\npolicy = \"step\"\nsteps = [ {{ above = 0.99, add = 1 }} ]\n\
         scale_in = {{ below = 0.9, remove = 3 }}\ninterval = \"10s\"\nmin = 1\nmax = 4\n"
    );
    fs::write(dir.join("calls.csv"), "arrival,duration\n0,1000\n1,1000\n50,5\n").unwrap();
    let path = dir.join("drain.toml");
    fs::write(&path, toml).unwrap();
    path.display().to_string()
}

/// The rows of a CSV as maps from column name to cell.
fn csv_rows(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(bytes);
    let head = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r.records().map(|rec| rec.unwrap().iter().map(str::to_string).collect()).collect();
    (head, rows)
}

/// `failed` equals the sum of the per-reason counts plus abandoned.
fn assert_reasons_add_up(s: &Value, section: &str) {
    let sec = s.pointer(section).unwrap_or_else(|| panic!("no {section}"));
    let by: f64 = sec["failed_by_reason"].as_object().unwrap().values().map(|v| v.as_f64().unwrap()).sum();
    assert_eq!(
        sec["failed"].as_f64().unwrap(),
        by,
        "{section}: failed vs failed_by_reason {}",
        sec["failed_by_reason"]
    );
}

#[test]
fn drain_timeout_has_its_column_wherever_failed_is_counted() {
    let tmp = TempDir::new().unwrap();
    let sc = write_case(tmp.path(), "newest", "30s");
    let (_t, out) = run_ok(&sc, &[]);
    let s = summary(&out);
    for section in ["/totals", "/window", "/classes/call"] {
        assert_reasons_add_up(&s, section);
        let sec = s.pointer(section).unwrap();
        assert_eq!(sec["failed_by_reason"]["drain_timeout"].as_f64(), Some(2.0), "{section}");
        assert_eq!(sec["failed"].as_f64(), Some(2.0), "{section}");
    }
    assert_eq!(num(&s, "metrics.failed_drain_timeout.mean"), 2.0);
    assert_eq!(s.pointer("/metrics/window.failed_drain_timeout/mean").and_then(Value::as_f64), Some(2.0));
    assert_eq!(num(&s, "metrics.served_primary.mean"), 1.0);
    let table = String::from_utf8(read(&out, "summary.txt")).unwrap();
    assert!(table.lines().any(|l| l.starts_with("failed_drain_timeout") && l.contains('2')), "{table}");

    let (head, rows) = csv_rows(&read(&out, "timeseries.csv"));
    let col = |name: &str| head.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}: {head:?}"));
    let reasons: Vec<usize> = head
        .iter()
        .enumerate()
        .filter(|(_, h)| h.starts_with("failed_") && *h != "failed_fallback_eligible")
        .map(|(i, _)| i)
        .collect();
    assert!(reasons.contains(&col("failed_drain_timeout")));
    let f = |row: &Vec<String>, i: usize| row[i].parse::<f64>().unwrap();
    let mut cut = 0.0;
    for row in &rows {
        let by: f64 = reasons.iter().map(|&i| f(row, i)).sum::<f64>() + f(row, col("abandoned"));
        assert_eq!(f(row, col("failed")), by, "row {row:?}");
        cut += f(row, col("failed_drain_timeout"));
    }
    assert_eq!(cut, 2.0, "both cut-off calls arrived in the first bin");
    assert_eq!(f(&rows[0], col("failed_drain_timeout")), 2.0);
}

#[test]
fn no_drain_timeout_column_where_no_drain_can_cut_a_call() {
    let tmp = TempDir::new().unwrap();
    let sc = write_case(tmp.path(), "least_loaded", "unlimited");
    let (_t, out) = run_ok(&sc, &[]);
    let s = summary(&out);
    assert!(s.pointer("/totals/failed_by_reason/drain_timeout").is_none());
    assert!(s.pointer("/metrics/failed_drain_timeout").is_none());
    assert_eq!(num(&s, "totals.failed"), 1.0);
    assert_reasons_add_up(&s, "/totals");
    let (head, _) = csv_rows(&read(&out, "timeseries.csv"));
    assert!(!head.iter().any(|h| h == "failed_drain_timeout"), "{head:?}");
    assert!(!String::from_utf8(read(&out, "summary.txt")).unwrap().contains("drain_timeout"));
}

#[test]
fn the_trace_says_drain_timeout_and_ends_a_cut_off_call_at_the_cut() {
    let tmp = TempDir::new().unwrap();
    for (victim, grace, want) in [
        (
            "newest",
            "30s",
            [("drain_timeout", "40.000000"), ("drain_timeout", "40.000000"), ("served_primary", "55.000000")],
        ),
        (
            "least_loaded",
            "unlimited",
            [("served_primary", "1000.000000"), ("served_primary", "1001.000000"), ("worker_not_available", "")],
        ),
    ] {
        let sc = write_case(tmp.path(), victim, grace);
        let o = ok(tmp.path(), &["trace", &sc, "-o", "t.csv"]);
        assert!(stdout(&o).contains("wrote 3 calls"), "{}", stdout(&o));
        let (head, rows) = csv_rows(&fs::read(tmp.path().join("t.csv")).unwrap());
        assert_eq!(head, ["arrival", "duration", "class", "outcome", "end"]);
        let got: Vec<(&str, &str)> = rows.iter().map(|r| (r[3].as_str(), r[4].as_str())).collect();
        assert_eq!(got, want, "victim {victim}, grace {grace}");
    }
}
