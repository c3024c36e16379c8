//! The output folder: replaced as a whole on a rerun, a foreign folder
//! refused unless forced, a file in its place refused; the no-panic check
//! itself; `surgesim bench --quick`.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Output;

use tempfile::TempDir;

use super::small;
use crate::common::{assert_exit, assert_no_panic, entries, read, stderr, stdout, surgesim};

fn run_into(cwd: &Path, out_dir: &Path, extra: &[&str]) -> Output {
    let sc = small();
    let out_s = out_dir.display().to_string();
    let mut args = vec!["run", sc.as_str(), "--out", out_s.as_str()];
    args.extend_from_slice(extra);
    surgesim(cwd, &args)
}

#[test]
fn rerunning_into_the_same_folder_replaces_it() {
    let tmp = TempDir::new().unwrap();
    let out_dir = tmp.path().join("out");
    let first = run_into(tmp.path(), &out_dir, &[]);
    assert_exit(&["run #1"], &first, 0);
    let before = read(&out_dir, "summary.json");
    // A stale file inside a folder surgesim wrote goes away on the next run:
    // the folder is replaced as a whole.
    fs::write(out_dir.join("stale.txt"), "from an earlier run").unwrap();
    for i in 2..=3 {
        let again = run_into(tmp.path(), &out_dir, &[]);
        assert_exit(&["run again"], &again, 0);
        assert_eq!(read(&out_dir, "summary.json"), before, "run #{i} changed summary.json");
        assert!(!out_dir.join("stale.txt").exists(), "run #{i} did not replace the folder");
    }
    assert_eq!(entries(tmp.path()), BTreeSet::from(["out".to_string()]), "staging folders were left behind");
}

#[test]
fn an_empty_existing_folder_is_used() {
    let tmp = TempDir::new().unwrap();
    let out_dir = tmp.path().join("out");
    fs::create_dir(&out_dir).unwrap();
    let out = run_into(tmp.path(), &out_dir, &[]);
    assert_exit(&["run into an empty folder"], &out, 0);
    assert!(out_dir.join("summary.json").is_file());
}

#[test]
fn a_foreign_folder_is_refused_unless_forced() {
    let tmp = TempDir::new().unwrap();
    let out_dir = tmp.path().join("out");
    fs::create_dir(&out_dir).unwrap();
    fs::write(out_dir.join("notes.txt"), "mine").unwrap();

    let refused = run_into(tmp.path(), &out_dir, &[]);
    assert_exit(&["run into a foreign folder"], &refused, 2);
    let err = stderr(&refused);
    assert!(err.contains(&out_dir.display().to_string()) && err.contains("--force"), "unhelpful refusal: {err}");
    assert_eq!(entries(&out_dir), BTreeSet::from(["notes.txt".to_string()]), "the foreign folder was touched");
    assert_eq!(fs::read_to_string(out_dir.join("notes.txt")).unwrap(), "mine");
    assert_eq!(entries(tmp.path()), BTreeSet::from(["out".to_string()]), "a staging folder was left behind");

    let forced = run_into(tmp.path(), &out_dir, &["--force"]);
    assert_exit(&["run --force into a foreign folder"], &forced, 0);
    assert!(out_dir.join("summary.json").is_file() && out_dir.join("timeseries.csv").is_file());
    assert_eq!(entries(tmp.path()), BTreeSet::from(["out".to_string()]), "a staging folder was left behind");
}

#[test]
fn an_out_path_that_is_a_file_is_refused() {
    let tmp = TempDir::new().unwrap();
    let out_file = tmp.path().join("out");
    fs::write(&out_file, "not a folder").unwrap();
    let out = run_into(tmp.path(), &out_file, &[]);
    assert_exit(&["run --out FILE"], &out, 2);
    assert!(stderr(&out).contains(&out_file.display().to_string()), "stderr does not name the path");
    assert_eq!(fs::read_to_string(&out_file).unwrap(), "not a folder");
    assert_eq!(entries(tmp.path()), BTreeSet::from(["out".to_string()]));
}

/// Regression: with --force and an --out that is a regular file, the file
/// was renamed to `.out.old`, the outputs published, and then removing the
/// renamed *file* as a folder failed: exit 2 with `.out.old` left behind.
/// Now it either replaces the file cleanly or refuses and leaves it.
#[test]
fn force_over_a_file_either_replaces_it_cleanly_or_refuses() {
    let tmp = TempDir::new().unwrap();
    let out_file = tmp.path().join("out");
    fs::write(&out_file, "not a folder").unwrap();
    let out = run_into(tmp.path(), &out_file, &["--force"]);
    match out.status.code() {
        Some(0) => assert!(out_file.join("summary.json").is_file()),
        Some(2) => assert_eq!(fs::read_to_string(&out_file).unwrap(), "not a folder"),
        c => panic!("exit {c:?}"),
    }
    assert_eq!(entries(tmp.path()), BTreeSet::from(["out".to_string()]), "files were left behind");
}

// ---------------------------------------------------------------------------
// 6. The no-panic helper itself
// ---------------------------------------------------------------------------

#[test]
#[should_panic(expected = "panicked")]
fn the_panic_check_catches_a_panic_message() {
    let fake = Output {
        status: std::process::ExitStatus::default(),
        stdout: Vec::new(),
        stderr: b"thread 'main' panicked at src/x.rs:1:1".to_vec(),
    };
    assert_no_panic(&["run", "x.toml"], &fake);
}

/// `surgesim bench --quick` measures the queue and the loss model against
/// its floor and prints one row each, with the engine's ratio to the floor
/// (what is printed, not how fast: timings are never asserted).
#[test]
fn bench_prints_the_standard_cases_and_the_ratio_to_the_floor() {
    let tmp = TempDir::new().unwrap();
    let args = ["bench", "--quick", "--repeat", "1"];
    let out = surgesim(tmp.path(), &args);
    assert_exit(&args, &out, 0);
    let text = stdout(&out);
    let rows = [
        "event queue, hold model",
        "std BinaryHeap",
        "loss model, 6,000 Erlang",
        "floor: the same model",
        "earlier floor",
    ];
    for row in rows {
        let line = text.lines().find(|l| l.starts_with(row) || l.trim_start().starts_with(row));
        let line = line.unwrap_or_else(|| panic!("no row {row:?} in\n{text}"));
        assert!(line.contains(" M ") && line.contains("/s"), "row {row:?} has a rate: {line}");
    }
    let ratio = text.split("engine speed / floor speed = ").nth(1).expect("the ratio is printed");
    let r: f64 = ratio.split_whitespace().next().unwrap().parse().expect("a number");
    assert!(r.is_finite() && r > 0.0, "{r}");
    assert_eq!(entries(tmp.path()), BTreeSet::new(), "bench writes no files");
}
