//! `[slo]` blocks and baselines for `surgesim check`, scenario variants
//! (`extends`), flags, and inputs that would exhaust memory or run for hours
//! if they were not refused up front.

use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::{all_bad, check_bad, column, fx};
use crate::common::{assert_exit, bin, entries, stderr, stdout, summary, surgesim, total};

#[test]
fn bad_slo_blocks_and_baselines_exit_2() {
    all_bad(&[
        (
            "misspelt metric",
            &["check", "fx:slo/misspelt-metric.toml"],
            &["misspelt-metric.toml", "[slo] `max_faild_calls`", "unknown metric `faild_calls`", "failure_rate"],
        ),
        (
            "non-numeric threshold",
            &["check", "fx:slo/non-numeric-threshold.toml"],
            &["non-numeric-threshold.toml", "`max_failure_rate`", "not a number"],
        ),
        (
            "key without max_/min_",
            &["check", "fx:slo/no-prefix.toml"],
            &["no-prefix.toml", "`failure_rate`", "max_<metric>"],
        ),
        (
            "replications = 0",
            &["check", "fx:slo/replications-zero.toml"],
            &["replications-zero.toml", "`replications`"],
        ),
        ("confidence = 2", &["check", "fx:slo/confidence-two.toml"], &["confidence-two.toml", "`confidence`"]),
        (
            "one bad file among good ones",
            &["check", "fx:slo/ok.toml", "fx:slo/confidence-two.toml"],
            &["confidence-two.toml", "`confidence`"],
        ),
        ("folder with no [slo] scenarios", &["check", "fx:no-slo"], &["no scenario with an [slo] block"]),
        ("path that does not exist", &["check", "fx:no-such-folder"], &["no-such-folder"]),
        (
            "baseline that is not JSON",
            &["check", "fx:slo/ok.toml", "--baseline", "fx:baseline-not-json.json"],
            &["baseline-not-json.json", "not a surgesim baseline", "line 1"],
        ),
        (
            "baseline naming an unknown metric",
            &["check", "fx:slo/ok.toml", "--baseline", "fx:baseline-unknown-metric.json"],
            &["baseline-unknown-metric.json", "slo-ok", "`failure_ratio`", "failure_rate"],
        ),
        (
            "baseline that does not exist",
            &["check", "fx:slo/ok.toml", "--baseline", "fx:no-such-baseline.json"],
            &["no-such-baseline.json"],
        ),
        ("negative tolerance", &["check", "fx:slo/ok.toml", "--tolerance=-1"], &["--tolerance"]),
    ]);
}

#[test]
fn a_valid_slo_block_is_checked() {
    let tmp = TempDir::new().unwrap();
    let sc = fx("slo/ok.toml");
    let args = ["check", sc.as_str()];
    let out = surgesim(tmp.path(), &args);
    assert_exit(&args, &out, 0);
    assert!(stdout(&out).contains("PASS"), "{}", stdout(&out));
}

// ---------------------------------------------------------------------------
// 3. Variants (`extends`)
// ---------------------------------------------------------------------------

#[test]
fn bad_variants_exit_2() {
    all_bad(&[
        ("extends a missing file", &["run", "fx:variants/extends-missing.toml"], &["no-such-base.toml", "cannot read"]),
        (
            "variant with an unknown top-level key",
            &["run", "fx:variants/unknown-key.toml"],
            &["unknown-key.toml", "`seed`", "only name, description and [overrides]"],
        ),
        (
            "override path that does not exist",
            &["run", "fx:variants/bad-override-path.toml"],
            &["bad-override-path.toml", "primary.wrokers", "unknown field `wrokers`"],
        ),
        ("extends cycle a → b → a", &["run", "fx:variants/cycle-a.toml"], &["cycle-", "`extends`", "cycle"]),
        ("extends cycle via validate", &["validate", "fx:variants/cycle-b.toml"], &["cycle-", "`extends`", "cycle"]),
        ("extends itself", &["run", "fx:variants/self.toml"], &["self.toml", "`extends`", "cycle"]),
        (
            "compare of a base and a cyclic variant",
            &["compare", "fx:variants/base.toml", "fx:variants/cycle-a.toml"],
            &["`extends`", "cycle"],
        ),
    ]);
}

#[test]
fn an_extends_cycle_fails_fast() {
    let tmp = TempDir::new().unwrap();
    let sc = fx("variants/cycle-a.toml");
    let t = Instant::now();
    let out = surgesim(tmp.path(), &["validate", sc.as_str()]);
    assert_exit(&["validate", "cycle-a.toml"], &out, 2);
    assert!(t.elapsed() < Duration::from_secs(30), "an extends cycle took {:?}", t.elapsed());
}

#[test]
fn a_valid_variant_is_accepted() {
    let tmp = TempDir::new().unwrap();
    let sc = fx("variants/good.toml");
    let args = ["validate", sc.as_str()];
    let out = surgesim(tmp.path(), &args);
    assert_exit(&args, &out, 0);
    assert!(stdout(&out).contains("good-variant"), "{}", stdout(&out));
}

/// The error for a missing base names the variant that points to it and
/// its `extends` field, not only the base (it used to name the base only).
#[test]
fn extends_missing_names_the_variant_and_field() {
    all_bad(&[(
        "extends a missing file",
        &["run", "fx:variants/extends-missing.toml"],
        &["extends-missing.toml", "`extends`", "no-such-base.toml"],
    )]);
}

/// Errors in a variant's [overrides] table name that table (they used to be
/// reported as if they came from the command line, `--set …`).
#[test]
fn override_errors_name_the_overrides_table_not_set() {
    let tmp = TempDir::new().unwrap();
    let sc = fx("variants/bad-override-path.toml");
    let out_dir = tmp.path().join("out").display().to_string();
    let out = surgesim(tmp.path(), &["run", sc.as_str(), "--out", out_dir.as_str()]);
    assert_exit(&["run", "bad-override-path.toml"], &out, 2);
    let err = stderr(&out);
    assert!(err.contains("[overrides]") && !err.contains("--set"), "{err}");
}

/// Relative files resolve against the folder of the scenario that names
/// them, as load() documents: a file named in a variant's [overrides]
/// against the variant's folder (it used to resolve against the base's).
#[test]
fn a_file_named_by_a_variant_resolves_against_the_variant() {
    let tmp = TempDir::new().unwrap();
    let sc = fx("variants/sub/override-file.toml");
    let out_dir = tmp.path().join("out");
    let o = out_dir.display().to_string();
    let args = ["run", sc.as_str(), "--out", o.as_str()];
    let out = surgesim(tmp.path(), &args);
    assert_exit(&args, &out, 0);
    assert_eq!(total(&summary(&out_dir), "arrived"), 5.0, "sub/local.csv has 5 rows");
}

// ---------------------------------------------------------------------------
// 4. Flags
// ---------------------------------------------------------------------------

#[test]
fn bad_flags_exit_2() {
    all_bad(&[
        ("compare with one scenario", &["compare", "fx:ok.toml"], &["SCENARIOS", "2 values required"]),
        ("run --max-calls 10", &["run", "fx:ok.toml", "--max-calls", "10"], &["hostile-ok", "--max-calls"]),
        ("trace --max-calls 10", &["trace", "fx:ok.toml", "-o", "t.csv", "--max-calls", "10"], &["--max-calls"]),
        ("bin of 1us: 3e8 bins", &["run", "fx:ok.toml", "--set", "bin=1us"], &["ok.toml", "`bin`", "300000000 bins"]),
        (
            "bin rounding to 0",
            &["run", "fx:ok.toml", "--set", "bin=0.0000001"],
            &["ok.toml", "`bin`", "longer than 0s"],
        ),
        ("negative bin", &["run", "fx:ok.toml", "--set", "bin=-60"], &["ok.toml", "bin=-60", "negative duration"]),
        ("bin of 1e300 s", &["run", "fx:ok.toml", "--set", "bin=1e300"], &["ok.toml", "out of range"]),
        ("bin NaN", &["run", "fx:ok.toml", "--set", "bin=nan"], &["ok.toml", "bin=nan"]),
        (
            "a year in 1 s bins",
            &["run", "fx:ok.toml", "--set", "duration=365d", "--set", "bin=1s"],
            &["ok.toml", "`bin`", "at most 1000000"],
        ),
        (
            "sweep over a billion values",
            &["sweep", "fx:ok.toml", "--vary", "primary.workers=1..1000000000:1"],
            &["--vary", "1000000000 values"],
        ),
        ("sweep with step 0", &["sweep", "fx:ok.toml", "--vary", "primary.workers=1..10:0"], &["--vary", "STEP"]),
        ("--replications 0 for compare", &["compare", "fx:ok.toml", "fx:ok.toml", "-r", "0"], &["--replications"]),
    ]);
}

#[test]
fn trace_to_an_unwritable_path_exits_2_and_leaves_nothing() {
    let tmp = TempDir::new().unwrap();
    let sc = fx("ok.toml");
    fs::write(tmp.path().join("a-file"), "x").unwrap();
    fs::create_dir(tmp.path().join("a-folder")).unwrap();
    let keep = entries(tmp.path());
    let cases = [
        ("missing parent folder", tmp.path().join("no-such-dir").join("t.csv"), "no-such-dir"),
        ("parent is a file", tmp.path().join("a-file").join("t.csv"), "a-file"),
        ("target is a folder", tmp.path().join("a-folder"), "a-folder"),
    ];
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(id, target, name)| {
            let t = target.display().to_string();
            check_bad(id, tmp.path(), &["trace", &sc, "-o", &t], &["cannot write", name], &keep)
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(entries(&tmp.path().join("a-folder")).is_empty(), "a temporary file was left in a-folder");
}

#[test]
fn a_bin_wider_than_the_run_gives_one_row() {
    let tmp = TempDir::new().unwrap();
    let out_dir = tmp.path().join("out");
    let (sc, o) = (fx("ok.toml"), out_dir.display().to_string());
    let args = ["run", sc.as_str(), "--set", "bin=1000d", "--out", o.as_str()];
    let out = surgesim(tmp.path(), &args);
    assert_exit(&args, &out, 0);
    assert_eq!(column(&out_dir, "t_start_s"), vec![0.0]);
    assert_eq!(column(&out_dir, "t_end_s"), vec![300.0], "the single bin ends with the run");
    assert_eq!(column(&out_dir, "arrivals")[0], total(&summary(&out_dir), "arrived"));
}

/// Runs `surgesim args…` in `cwd` under `ulimit -v` (KiB) and a wall-clock
/// limit, for inputs that might exhaust memory or never finish: returns
/// the output, with `None` as the code when the limit killed it.
fn surgesim_limited(cwd: &Path, args: &[&str], mem_kib: u64, limit: Duration) -> (Option<i32>, String) {
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {mem_kib}; exec \"$0\" \"$@\""))
        .arg(bin())
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh starts");
    let t = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            return (status.code(), err);
        }
        if t.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return (None, format!("still running after {limit:?}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `--max-calls NaN` is refused (exit 2). It used to disable the budget
/// (every `calls > NaN` comparison is false), so a run of 5·10^10 calls
/// started and ran for hours.
#[test]
fn max_calls_nan_is_refused() {
    let tmp = TempDir::new().unwrap();
    let sc = fx("ok.toml");
    let o = tmp.path().join("out").display().to_string();
    let args = [
        "run",
        &sc,
        "--max-calls",
        "NaN",
        "--set",
        "duration=600d",
        "--set",
        "bin=1d",
        "--set",
        "arrivals.rate=1000",
        "--out",
        &o,
    ];
    let (code, err) = surgesim_limited(tmp.path(), &args, 4_000_000, Duration::from_secs(20));
    assert!(code == Some(2) && err.contains("--max-calls"), "exit {code:?}, expected 2 naming --max-calls: {err}");
}

/// The number of workers (each costs memory), of initial calls (each an
/// event pushed before the run) and how far an autoscaler may scale are
/// bounded: each input below exits 2 naming its field, before running. (They
/// used to validate, then abort on a failed allocation or run for minutes.)
#[test]
fn absurd_pool_sizes_are_refused_before_running() {
    let cases: [(&str, &[&str], &str); 3] = [
        ("4e9 workers", &["--set", "primary.workers=4294967295"], "`primary.workers`"),
        (
            "10^9 initial calls",
            &[
                "--set",
                "primary.workers=100000",
                "--set",
                "primary.calls_per_worker=100000",
                "--set",
                "initial.calls_in_flight=1000000000",
            ],
            // 10^10 slots: refused for the pool size before the calls.
            "`primary.workers`",
        ),
        (
            "autoscaler to 4e9 workers",
            &[
                "--set",
                "primary.autoscaler.policy=target-utilization",
                "--set",
                "primary.autoscaler.target=0.000001",
                "--set",
                "primary.autoscaler.max=4294967295",
                "--set",
                "primary.workers=1",
            ],
            "`primary.autoscaler.max`",
        ),
    ];
    let mut failures = Vec::new();
    for (id, extra, field) in cases {
        let tmp = TempDir::new().unwrap();
        let sc = fx("ok.toml");
        let o = tmp.path().join("out").display().to_string();
        let mut args = vec!["run", sc.as_str()];
        args.extend_from_slice(extra);
        args.extend(["--out", o.as_str()]);
        let (code, err) = surgesim_limited(tmp.path(), &args, 4_000_000, Duration::from_secs(30));
        if code != Some(2) || !err.contains(field) {
            failures.push(format!(
                "[{id}] exit {code:?}, expected 2 naming {field}:\n{}",
                err.lines().next().unwrap_or("")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
