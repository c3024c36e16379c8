//! End-to-end tests of the `surgesim` binary: exit codes, error messages,
//! determinism, output files and the output-folder rules.
//!
//! Every invocation goes through [`surgesim`], which fails the test if the
//! binary panicked. Every run writes into a fresh temporary folder and is
//! started with that folder as its working directory, so nothing lands in
//! the repository (not even the default `notebooks-out/`).
//!
//! Fixtures: `tests/fixtures/small.toml` (a five-minute, two-class scenario
//! with queueing), `tests/fixtures/arch-mismatch.toml` (valid, but
//! `validate` warns) and one small bad scenario per case in
//! `tests/fixtures/bad/`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("fixtures")
}

/// Absolute path of a fixture, as a string for the command line.
fn fx(rel: &str) -> String {
    fixtures().join(rel).display().to_string()
}

fn small() -> String {
    fx("small.toml")
}

/// Runs `surgesim args…` in `cwd` and returns its output. Fails the test if
/// the process panicked (the message or the panic exit code 101), whatever
/// the test expects otherwise.
fn surgesim<S: AsRef<str>>(cwd: &Path, args: &[S]) -> Output {
    let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
    let out = Command::cargo_bin("surgesim")
        .expect("the surgesim binary is built for integration tests")
        .current_dir(cwd)
        .args(&args)
        .output()
        .expect("surgesim starts");
    assert_no_panic(&args, &out);
    out
}

/// No invocation in this file may panic.
fn assert_no_panic(args: &[&str], out: &Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stdout.contains("panicked") && !stderr.contains("panicked") && out.status.code() != Some(101),
        "surgesim {args:?} panicked (exit {:?})\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status.code()
    );
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts exit code `code`, with both streams in the failure message.
#[track_caller]
fn assert_exit(args: &[&str], out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "surgesim {args:?}: expected exit {code}\n--- stdout\n{}\n--- stderr\n{}",
        stdout(out),
        stderr(out)
    );
}

/// `surgesim run SCENARIO extra… --out DIR` in a fresh folder; asserts exit 0.
/// Returns the temporary folder (keep it alive) and the output folder.
fn run_ok(scenario: &str, extra: &[&str]) -> (TempDir, PathBuf) {
    let tmp = TempDir::new().unwrap();
    let out_dir = tmp.path().join("out");
    let mut args = vec!["run", scenario];
    args.extend_from_slice(extra);
    let out_s = out_dir.display().to_string();
    args.extend(["--out", &out_s]);
    let out = surgesim(tmp.path(), &args);
    assert_exit(&args, &out, 0);
    for f in ["summary.json", "timeseries.csv", "summary.txt"] {
        assert!(out_dir.join(f).is_file(), "surgesim {args:?} did not write {f}");
    }
    (tmp, out_dir)
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    fs::read(dir.join(name)).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.join(name).display()))
}

fn summary(dir: &Path) -> Value {
    serde_json::from_slice(&read(dir, "summary.json")).expect("summary.json is JSON")
}

fn num(v: &Value, path: &str) -> f64 {
    let mut cur = v;
    for k in path.split('.') {
        cur = cur.get(k).unwrap_or_else(|| panic!("summary.json has no `{path}` (missing `{k}`)"));
    }
    cur.as_f64().unwrap_or_else(|| panic!("summary.json `{path}` is not a number: {cur}"))
}

/// The names in a folder, sorted.
fn entries(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

// ---------------------------------------------------------------------------
// 1. Bad input: exit 2, a message naming the file and the line or field,
//    no panic, no output folder.
// ---------------------------------------------------------------------------

/// One bad invocation. In `args`, `fx:REL` stands for the fixture
/// `tests/fixtures/REL`; `run` commands get `--out DIR` appended. Every
/// string in `expect` must appear in stderr.
struct Case {
    id: &'static str,
    args: &'static [&'static str],
    expect: &'static [&'static str],
}

const fn case(id: &'static str, args: &'static [&'static str], expect: &'static [&'static str]) -> Case {
    Case { id, args, expect }
}

const BAD: &[Case] = &[
    // --- reading and parsing the file (TOML errors carry the line) ---
    case("missing file", &["run", "fx:bad/does-not-exist.toml"], &["does-not-exist.toml", "cannot read"]),
    case("scenario is a folder", &["run", "fx:bad"], &["bad", "cannot read"]),
    case("TOML syntax error", &["run", "fx:bad/syntax-error.toml"], &["syntax-error.toml", "line 10"]),
    case(
        "unknown top-level field",
        &["run", "fx:bad/unknown-field-top.toml"],
        &["unknown-field-top.toml", "line 5", "unknown field `colour`"],
    ),
    case(
        "unknown nested field",
        &["run", "fx:bad/unknown-field-nested.toml"],
        &["unknown-field-nested.toml", "line 17", "unknown field `wokers`"],
    ),
    case(
        "missing required table",
        &["run", "fx:bad/missing-primary.toml"],
        &["missing-primary.toml", "line", "missing field `primary`"],
    ),
    case(
        "malformed duration string",
        &["run", "fx:bad/malformed-duration.toml"],
        &["malformed-duration.toml", "line 3", "5 parsecs"],
    ),
    case(
        "negative duration number",
        &["run", "fx:bad/negative-duration.toml"],
        &["negative-duration.toml", "line 3", "negative duration"],
    ),
    // --- top-level fields ---
    case("duration 0s", &["run", "fx:bad/duration-zero.toml"], &["duration-zero.toml", "`duration`"]),
    case("bin 0s", &["run", "fx:bad/bin-zero.toml"], &["bin-zero.toml", "`bin`"]),
    case("too many bins", &["run", "fx:bad/too-many-bins.toml"], &["too-many-bins.toml", "`bin`", "bins"]),
    case("name with a slash", &["run", "fx:bad/name-with-slash.toml"], &["name-with-slash.toml", "`name`"]),
    case(
        "malformed clock_start",
        &["run", "fx:bad/clock-start-malformed.toml"],
        &["clock-start-malformed.toml", "`clock_start`", "25:00"],
    ),
    case(
        "window outside the run",
        &["run", "fx:bad/window-outside-run.toml"],
        &["window-outside-run.toml", "`window`"],
    ),
    case("malformed window", &["run", "fx:bad/window-malformed.toml"], &["window-malformed.toml", "`window`"]),
    // --- arrivals ---
    case(
        "unknown arrivals kind",
        &["run", "fx:bad/unknown-arrivals-kind.toml"],
        &["unknown-arrivals-kind.toml", "`arrivals.kind`", "telepathy"],
    ),
    case("negative rate", &["run", "fx:bad/negative-rate.toml"], &["negative-rate.toml", "`arrivals.rate`"]),
    case("NaN rate", &["run", "fx:bad/nan-rate.toml"], &["nan-rate.toml", "`arrivals.rate`", "NaN"]),
    case("infinite rate", &["run", "fx:bad/infinite-rate.toml"], &["infinite-rate.toml", "`arrivals.rate`"]),
    case("zero rate", &["run", "fx:bad/rate-zero.toml"], &["rate-zero.toml", "`arrivals.rate`"]),
    case(
        "empty rate schedule",
        &["run", "fx:bad/rate-empty-schedule.toml"],
        &["rate-empty-schedule.toml", "`arrivals.rate`"],
    ),
    case(
        "rate schedule out of order",
        &["run", "fx:bad/rate-out-of-order.toml"],
        &["rate-out-of-order.toml", "`arrivals.rate[2].at`"],
    ),
    case(
        "first rate point not at 0",
        &["run", "fx:bad/rate-first-not-zero.toml"],
        &["rate-first-not-zero.toml", "`arrivals.rate[0].at`"],
    ),
    case(
        "ramp with to_per_s but no over",
        &["run", "fx:bad/ramp-without-over.toml"],
        &["ramp-without-over.toml", "`arrivals.rate[1].over`"],
    ),
    case(
        "spike multiplier below 1",
        &["run", "fx:bad/spike-multiplier-below-one.toml"],
        &["spike-multiplier-below-one.toml", "`arrivals.spike.multiplier`"],
    ),
    // --- classes and distributions ---
    case("empty classes", &["run", "fx:bad/empty-classes.toml"], &["empty-classes.toml", "`classes`"]),
    case(
        "duplicate class names",
        &["run", "fx:bad/duplicate-class.toml"],
        &["duplicate-class.toml", "`classes[1].name`", "duplicate"],
    ),
    case(
        "shares not summing to 1",
        &["run", "fx:bad/shares-not-one.toml"],
        &["shares-not-one.toml", "`classes[*].share`"],
    ),
    case("share above 1", &["run", "fx:bad/share-above-one.toml"], &["share-above-one.toml", "`classes[0].share`"]),
    case(
        "lognormal p95 <= median",
        &["run", "fx:bad/lognormal-p95-below-median.toml"],
        &["lognormal-p95-below-median.toml", "`classes[0].duration.p95`"],
    ),
    case(
        "unknown distribution",
        &["run", "fx:bad/unknown-dist.toml"],
        &["unknown-dist.toml", "`classes[0].duration.dist`", "weibull"],
    ),
    case(
        "uniform max < min",
        &["run", "fx:bad/uniform-max-below-min.toml"],
        &["uniform-max-below-min.toml", "`classes[0].duration.max`"],
    ),
    case(
        "gamma without shape",
        &["run", "fx:bad/gamma-no-shape.toml"],
        &["gamma-no-shape.toml", "`classes[0].duration.shape`"],
    ),
    case(
        "field not applicable to the distribution",
        &["run", "fx:bad/dist-field-not-applicable.toml"],
        &["dist-field-not-applicable.toml", "`classes[0].duration.p95`"],
    ),
    case(
        "empirical CSV missing",
        &["run", "fx:bad/empirical-missing-csv.toml"],
        &["empirical-missing-csv.toml", "`classes[0].duration.file`", "no-such-durations.csv"],
    ),
    case(
        "empirical CSV with a bad value",
        &["run", "fx:bad/empirical-bad-value.toml"],
        &["empirical-bad-value.toml", "`classes[0].duration.file`", "durations-bad.csv", "line 4", "\"abc\""],
    ),
    case(
        "empirical CSV without the column",
        &["run", "fx:bad/empirical-no-column.toml"],
        &["empirical-no-column.toml", "durations-bad.csv", "\"secs\""],
    ),
    // --- primary pool and autoscaler ---
    case("negative workers", &["run", "fx:bad/negative-workers.toml"], &["negative-workers.toml", "`primary.workers`"]),
    case(
        "zero calls per worker",
        &["run", "fx:bad/zero-calls-per-worker.toml"],
        &["zero-calls-per-worker.toml", "`primary.calls_per_worker`"],
    ),
    case(
        "autoscaler min > max",
        &["run", "fx:bad/autoscaler-min-above-max.toml"],
        &["autoscaler-min-above-max.toml", "`primary.autoscaler.min`"],
    ),
    case(
        "workers outside [min, max]",
        &["run", "fx:bad/workers-outside-bounds.toml"],
        &["workers-outside-bounds.toml", "`primary.workers`"],
    ),
    case(
        "unknown autoscaler policy",
        &["run", "fx:bad/unknown-policy.toml"],
        &["unknown-policy.toml", "`primary.autoscaler.policy`", "predictive"],
    ),
    case(
        "unknown autoscaler preset",
        &["run", "fx:bad/autoscaler-unknown-preset.toml"],
        &["autoscaler-unknown-preset.toml", "`primary.autoscaler.preset`"],
    ),
    case(
        "target-utilization without target",
        &["run", "fx:bad/target-missing.toml"],
        &["target-missing.toml", "`primary.autoscaler.target`"],
    ),
    case(
        "target > 1",
        &["run", "fx:bad/target-above-one.toml"],
        &["target-above-one.toml", "`primary.autoscaler.target`"],
    ),
    case(
        "step policy without steps",
        &["run", "fx:bad/step-without-steps.toml"],
        &["step-without-steps.toml", "`primary.autoscaler.steps`"],
    ),
    // --- fallback, canary, admission ---
    case(
        "fallback without max_concurrency",
        &["run", "fx:bad/fallback-no-max-concurrency.toml"],
        &["fallback-no-max-concurrency.toml", "`fallback.max_concurrency`"],
    ),
    case(
        "fallback health unknown mode",
        &["run", "fx:bad/fallback-health-unknown.toml"],
        &["fallback-health-unknown.toml", "`fallback.health`", "flaky"],
    ),
    case(
        "degraded probability > 1",
        &["run", "fx:bad/fallback-degraded-above-one.toml"],
        &["fallback-degraded-above-one.toml", "`fallback.health.degraded`"],
    ),
    case(
        "canary action with no effect",
        &["run", "fx:bad/canary-action-no-effect.toml"],
        &["canary-action-no-effect.toml", "`fallback.canary.on_detect[0]`"],
    ),
    case(
        "admission with max_wait and patience",
        &["run", "fx:bad/admission-both.toml"],
        &["admission-both.toml", "`admission.patience`"],
    ),
    case(
        "queue_limit when calls cannot wait",
        &["run", "fx:bad/queue-limit-without-wait.toml"],
        &["queue-limit-without-wait.toml", "`admission.queue_limit`"],
    ),
    // --- --set ---
    case(
        "--set unknown path",
        &["run", "fx:small.toml", "--set", "primary.wokers=3"],
        &["small.toml", "--set primary.wokers=3", "unknown field `wokers`"],
    ),
    case(
        "--set without '='",
        &["run", "fx:small.toml", "--set", "primaryworkers"],
        &["--set", "primaryworkers", "path=value"],
    ),
    case(
        "--set with an empty path segment",
        &["run", "fx:small.toml", "--set", "primary..workers=3"],
        &["--set", "primary..workers", "malformed path"],
    ),
    case(
        "--set through a scalar",
        &["run", "fx:small.toml", "--set", "primary.workers.x=1"],
        &["small.toml", "--set primary.workers.x=1", "`primary.workers` is a value"],
    ),
    case(
        "--set of the wrong type",
        &["run", "fx:small.toml", "--set", "primary.workers=abc"],
        &["small.toml", "--set primary.workers=abc", "invalid type"],
    ),
    case(
        "--set of an unknown class name",
        &["run", "fx:small.toml", "--set", "classes.medium.share=0.5"],
        &["small.toml", "`classes`", "\"medium\""],
    ),
    case(
        "--set of a class index out of range",
        &["run", "fx:small.toml", "--set", "classes.7.share=0.5"],
        &["small.toml", "`classes`", "index 7"],
    ),
    case(
        "--set breaking the shares",
        &["run", "fx:small.toml", "--set", "classes.short.share=0.9"],
        &["small.toml", "`classes[*].share`"],
    ),
    case("--set name with a slash", &["run", "fx:small.toml", "--set", "name=a/b"], &["small.toml", "`name`"]),
    case("--set duration 0s", &["run", "fx:small.toml", "--set", "duration=0s"], &["small.toml", "`duration`"]),
    case("--set negative seed", &["run", "fx:small.toml", "--set", "seed=-1"], &["small.toml", "--set seed=-1"]),
    // --- other flags ---
    case("--window malformed", &["run", "fx:small.toml", "--window", "07:00-07:01"], &["small.toml", "`window`"]),
    case(
        "--window outside the run",
        &["run", "fx:small.toml", "--window", "09:00..09:10"],
        &["small.toml", "`window`"],
    ),
    case("--replications 0", &["run", "fx:small.toml", "--replications", "0"], &["--replications"]),
    case("--replications too many", &["run", "fx:small.toml", "--replications", "100001"], &["--replications"]),
    case("expected calls over --max-calls", &["run", "fx:small.toml", "--max-calls", "10"], &["small", "--max-calls"]),
    case("--seed not a number", &["run", "fx:small.toml", "--seed", "abc"], &["--seed", "abc"]),
    case("--threads not a number", &["run", "fx:small.toml", "--threads", "many"], &["--threads", "many"]),
    case("unknown flag", &["run", "fx:small.toml", "--frobnicate"], &["--frobnicate"]),
    case("bench --repeat 0", &["bench", "--repeat", "0"], &["--repeat 0"]),
    case("bench --threads too many", &["bench", "--quick", "--threads", "5000"], &["--threads 5000"]),
    case("run without a scenario", &["run"], &["SCENARIO"]),
    case("unknown subcommand", &["frobnicate", "fx:small.toml"], &["frobnicate"]),
    case("no subcommand", &[], &["Usage"]),
    // --- validate ---
    case("validate a bad file", &["validate", "fx:bad/nan-rate.toml"], &["nan-rate.toml", "`arrivals.rate`"]),
    case(
        "validate a good and a bad file",
        &["validate", "fx:small.toml", "fx:bad/unknown-policy.toml"],
        &["unknown-policy.toml", "`primary.autoscaler.policy`", "1 of 2"],
    ),
    case("validate a missing file", &["validate", "fx:bad/does-not-exist.toml"], &["does-not-exist.toml"]),
    case("validate without a file", &["validate"], &["SCENARIO"]),
];

/// Runs one bad case in a fresh, empty working folder and checks the
/// contract: exit 2, the expected words in stderr, no panic, and nothing
/// written (neither the --out folder, nor a staging folder, nor the default
/// `notebooks-out/`). Returns a description of what went wrong, if anything.
fn check_bad(c: &Case) -> Option<String> {
    let tmp = TempDir::new().unwrap();
    let out_dir = tmp.path().join("out");
    let out_s = out_dir.display().to_string();
    let mut args: Vec<String> =
        c.args.iter().map(|a| a.strip_prefix("fx:").map_or_else(|| a.to_string(), fx)).collect();
    if c.args.first() == Some(&"run") {
        args.extend(["--out".to_string(), out_s]);
    }
    let out = surgesim(tmp.path(), &args);
    let err = stderr(&out);
    let mut problems = Vec::new();
    if out.status.code() != Some(2) {
        problems.push(format!("exit {:?}, expected 2", out.status.code()));
    }
    for e in c.expect {
        if !err.contains(e) {
            problems.push(format!("stderr lacks {e:?}"));
        }
    }
    if out_dir.exists() {
        problems.push("the --out folder was created".into());
    }
    let left = entries(tmp.path());
    if !left.is_empty() {
        problems.push(format!("files were left in the working folder: {left:?}"));
    }
    if problems.is_empty() {
        None
    } else {
        Some(format!(
            "[{}] surgesim {args:?}: {}\n--- stdout\n{}--- stderr\n{err}",
            c.id,
            problems.join("; "),
            stdout(&out)
        ))
    }
}

#[test]
fn bad_input_exits_2_with_a_precise_message_and_writes_nothing() {
    assert!(BAD.len() >= 40, "the table should keep at least 40 cases");
    let ids: BTreeSet<&str> = BAD.iter().map(|c| c.id).collect();
    assert_eq!(ids.len(), BAD.len(), "case ids must be unique");
    let failures: Vec<String> = BAD.iter().filter_map(check_bad).collect();
    assert!(
        failures.is_empty(),
        "{} of {} bad-input cases failed:\n\n{}",
        failures.len(),
        BAD.len(),
        failures.join("\n")
    );
}

/// Every file in tests/fixtures/bad/ is used by some case (or by a test of
/// a known bug below), so a fixture cannot silently stop being tested.
#[test]
fn every_bad_fixture_is_used() {
    let used: BTreeSet<String> = BAD
        .iter()
        .flat_map(|c| c.args.iter())
        .filter_map(|a| a.strip_prefix("fx:bad/"))
        .map(str::to_string)
        .chain(["zero-workers.toml", "huge-duration-int.toml", "durations-bad.csv"].map(String::from))
        .collect();
    for f in entries(&fixtures().join("bad")) {
        assert!(used.contains(&f), "tests/fixtures/bad/{f} is not used by any case");
    }
}

/// Known bug (src/scenario/validate.rs, `validate_primary`): with no
/// autoscaler the implicit bounds are min = max(workers) … so `workers = 0`
/// passes `cx.count(.., min_workers = 0)` and a pool with no capacity runs.
#[test]

fn zero_workers_is_rejected() {
    let c = case("zero workers", &["run", "fx:bad/zero-workers.toml"], &["zero-workers.toml", "`primary.workers`"]);
    if let Some(f) = check_bad(&c) {
        panic!("{f}");
    }
}

/// Known bug (src/scenario/raw.rs `RawDurVisitor::visit_i64` →
/// src/time.rs `Tick::from_secs`): an integer number of seconds above
/// u64::MAX / 1e6 overflows `s * TICKS_PER_SEC` (a panic with overflow
/// checks, a wrapped, wrong duration without them).
#[test]

fn huge_integer_duration_is_rejected() {
    let cases = [
        case(
            "huge integer duration in the file",
            &["run", "fx:bad/huge-duration-int.toml"],
            &["huge-duration-int.toml", "line 3"],
        ),
        case(
            "huge integer duration by --set",
            &["run", "fx:small.toml", "--set", "duration=100000000000000"],
            &["small.toml", "duration"],
        ),
    ];
    let failures: Vec<String> = cases.iter().filter_map(check_bad).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Known bug (src/scenario/load.rs `ScenarioError::{Read, Toml}` with
/// src/main.rs): the variants print `{source}` in their own message and
/// also expose it as the error's source, so main's "caused by:" loop
/// prints the whole TOML error (snippet included) a second time. (`validate`
/// prints only the top message, so it shows the error once; `run` twice.)
#[test]

fn errors_are_printed_once() {
    let tmp = TempDir::new().unwrap();
    for (file, once) in [("bad/syntax-error.toml", "TOML parse error"), ("bad/does-not-exist.toml", "No such file")] {
        let (f, out_dir) = (fx(file), tmp.path().join("out").display().to_string());
        let args = ["run", f.as_str(), "--out", out_dir.as_str()];
        let out = surgesim(tmp.path(), &args);
        assert_exit(&args, &out, 2);
        let err = stderr(&out);
        assert_eq!(err.matches(once).count(), 1, "{once:?} repeated in:\n{err}");
    }
}

// ---------------------------------------------------------------------------
// 2. Determinism
// ---------------------------------------------------------------------------

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
    assert_eq!(s["window"], serde_json::json!(["07:01:00", "07:03:00"]));
    let inside = num(&s, "window_totals.arrived");
    assert!(inside > 0.0 && inside < num(&s, "totals.arrived"), "window_totals.arrived = {inside}");
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
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
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

// ---------------------------------------------------------------------------
// 5. The output folder
// ---------------------------------------------------------------------------

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

/// Known bug (src/report/mod.rs, `Staged::commit`): with --force and an
/// --out that is a regular file, commit renames the file to `.out.old`,
/// moves the staged folder into place, then fails in `remove_dir_all` on
/// the renamed *file*: the outputs are published, yet surgesim exits 2 and
/// leaves `.out.old` behind.
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
