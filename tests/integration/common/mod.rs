//! Helpers shared by every topic: where the fixtures and bundled scenarios
//! are, running the `surgesim` binary (a panic or a hang fails the test
//! whatever it expects otherwise), reading what a run wrote, and the Erlang
//! B formula several topics compare with.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

/// Longest any single invocation may take: a hang (e.g. an `extends` cycle)
/// fails the test instead of blocking the suite.
pub const TIMEOUT: Duration = Duration::from_secs(300);

/// A scenario long enough to be interrupted or caught mid-run: a day at
/// 2,000 calls/s.
pub const LONG_RUN: &str = r#"
name = "long-run"
duration = "24h"
bin = "1h"
[arrivals]
kind = "poisson"
rate = 2000.0
[[classes]]
name = "a"
share = 1.0
duration = { dist = "exponential", mean = "30s" }
[primary]
workers = 7000
calls_per_worker = 10
"#;

/// A path inside the repository.
pub fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// `tests/fixtures/`.
pub fn fixtures() -> PathBuf {
    repo("tests/fixtures")
}

/// Absolute path of `tests/fixtures/REL`, as a string for the command line.
pub fn fixture(rel: &str) -> String {
    fixtures().join(rel).display().to_string()
}

/// The binary under test.
pub fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("surgesim")
}

/// Runs `surgesim args…` in `cwd` and returns its output. Fails the test if
/// the process panicked (the message or the panic exit code 101), was
/// killed, or hit [`TIMEOUT`].
pub fn surgesim<S: AsRef<str>>(cwd: &Path, args: &[S]) -> Output {
    let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
    let out = Command::cargo_bin("surgesim")
        .expect("the surgesim binary is built for integration tests")
        .current_dir(cwd)
        .args(&args)
        .timeout(TIMEOUT)
        .output()
        .expect("surgesim starts");
    assert_no_panic(&args, &out);
    out
}

/// No invocation may panic or die of a signal.
pub fn assert_no_panic(args: &[&str], out: &Output) {
    let (o, e) = (stdout(out), stderr(out));
    assert!(
        !o.contains("panicked") && !e.contains("panicked") && out.status.code() != Some(101),
        "surgesim {args:?} panicked (exit {:?})\n--- stdout\n{o}\n--- stderr\n{e}",
        out.status.code()
    );
    assert!(out.status.code().is_some(), "surgesim {args:?} was killed (a signal or the {TIMEOUT:?} timeout)\n{e}");
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts exit code `code`, with both streams in the failure message.
#[track_caller]
pub fn assert_exit<S: AsRef<str> + std::fmt::Debug>(args: &[S], out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "surgesim {args:?}: expected exit {code}\n--- stdout\n{}\n--- stderr\n{}",
        stdout(out),
        stderr(out)
    );
}

/// `surgesim args…` in `cwd`, expecting exit 0.
#[track_caller]
pub fn ok(cwd: &Path, args: &[&str]) -> Output {
    let out = surgesim(cwd, args);
    assert_exit(args, &out, 0);
    out
}

/// `surgesim run SCENARIO extra… --out DIR` in a fresh folder; asserts exit 0
/// and the three files every run writes. Returns the temporary folder (keep
/// it alive) and the output folder.
#[track_caller]
pub fn run_ok(scenario: &str, extra: &[&str]) -> (TempDir, PathBuf) {
    let tmp = TempDir::new().unwrap();
    let out_dir = tmp.path().join("out");
    let mut args = vec!["run", scenario];
    args.extend_from_slice(extra);
    let out_s = out_dir.display().to_string();
    args.extend(["--out", &out_s]);
    ok(tmp.path(), &args);
    for f in ["summary.json", "timeseries.csv", "summary.txt"] {
        assert!(out_dir.join(f).is_file(), "surgesim {args:?} did not write {f}");
    }
    (tmp, out_dir)
}

/// The names in a folder (hidden ones included), sorted.
pub fn entries(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

pub fn read(dir: &Path, name: &str) -> Vec<u8> {
    fs::read(dir.join(name)).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.join(name).display()))
}

pub fn summary(dir: &Path) -> Value {
    serde_json::from_slice(&read(dir, "summary.json")).expect("summary.json is JSON")
}

/// A number of summary.json by its dotted path (`totals.arrived`).
pub fn num(v: &Value, path: &str) -> f64 {
    let mut cur = v;
    for k in path.split('.') {
        cur = cur.get(k).unwrap_or_else(|| panic!("summary.json has no `{path}` (missing `{k}`)"));
    }
    cur.as_f64().unwrap_or_else(|| panic!("summary.json `{path}` is not a number: {cur}"))
}

/// `totals.KEY` of summary.json.
pub fn total(s: &Value, key: &str) -> f64 {
    num(s, &format!("totals.{key}"))
}

/// Erlang B blocking probability of M/G/c/c with offered load `a` Erlang,
/// by the stable recursion B(0) = 1, B(k) = A·B(k−1) / (k + A·B(k−1)).
pub fn erlang_b(c: u64, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    b
}
