//! Bad input: exit 2, a message naming the file and the line or field, no
//! panic, no output folder. One table of cases over `tests/fixtures/bad/`.

use std::collections::BTreeSet;

use tempfile::TempDir;

use super::fx;
use crate::common::{assert_exit, entries, fixtures, stderr, stdout, surgesim};

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
        &["empirical-bad-value.toml", "`classes[0].duration.file`", "durations-bad.csv", "line 4", "not a duration"],
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
        "admission with patience but max_wait 0s",
        &["run", "fx:bad/admission-both.toml"],
        &["admission-both.toml", "`admission.max_wait`"],
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

/// Every file in tests/fixtures/bad/ is used by some case (or by one of the
/// regression tests below), so a fixture cannot silently stop being tested.
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

/// Regression: with no autoscaler, `workers = 0` passed validation (the
/// implicit bounds allowed it) and a pool with no capacity ran.
#[test]
fn zero_workers_is_rejected() {
    let c = case("zero workers", &["run", "fx:bad/zero-workers.toml"], &["zero-workers.toml", "`primary.workers`"]);
    if let Some(f) = check_bad(&c) {
        panic!("{f}");
    }
}

/// Regression: an integer number of seconds above u64::MAX / 10^6
/// overflowed the conversion to ticks (a panic with overflow checks, a
/// wrapped, wrong duration without them). It is refused, naming the line
/// or the `--set`.
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

/// Regression: a read or TOML error printed its cause in its own message
/// and again as the error's source, so `run` showed the whole TOML error
/// (snippet included) twice. It is printed once.
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
