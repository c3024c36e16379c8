//! Input files that are hostile by size, by kind or by content, end to end
//! through the `surgesim` binary.
//!
//! - bounded input: a rate file or trace that is `/dev/zero`, or has a
//!   1 GiB line (a sparse file), or an unterminated quote followed by
//!   megabytes of rows, is refused with exit 2 naming the file and line,
//!   under an address-space limit far below the file's size; a megabyte
//!   value in a scenario is echoed clipped;
//! - non-regular files (FIFOs) as trace, rate file, empirical
//!   distribution, `extends` target or scenario are refused at once, with
//!   no writer on the other end;
//! - files that are not scenarios (what `extends` names, an empirical
//!   CSV, a trace, a rate file) are named, never quoted;
//! - an `[slo]` block that `check` refuses is refused by every command;
//! - messages that say what is wrong: a window before `clock_start`, a
//!   rate above its limit, a duration out of range, a key nested too deep.
//!
//! Every case asserts exit 2, a short stderr and no panic; the process is
//! watched so that a hang fails the test instead of blocking the suite.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// A run that has not ended by then is a hang (generous: nothing here
/// needs more than a second).
const HANG: Duration = Duration::from_secs(120);

/// Virtual memory allowed to a run that reads a huge input, in KiB: far
/// below the 1 GiB the input would take if it were buffered whole.
const ADDRESS_SPACE_KIB: u64 = 512 * 1024;

/// Longest stderr a refused input may produce.
const SHORT: usize = 2000;

/// A valid scenario; `{arrivals}` and `{duration}` are filled in by [`scenario`].
const BASE: &str = r#"name = "inputs"
seed = 1
duration = "5m"
bin = "1m"
clock_start = "06:30"

[arrivals]
{arrivals}

[[classes]]
name = "a"
share = 1.0
duration = {duration}

[primary]
workers = 20
calls_per_worker = 2
"#;

fn scenario(arrivals: &str, duration: &str) -> String {
    BASE.replace("{arrivals}", arrivals).replace("{duration}", duration)
}

const POISSON: &str = "kind = \"poisson\"\nrate = 1.0";

struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `surgesim args…` in `dir` (under an address-space limit when
/// `limit`), with stdout and stderr going to files, and fails the test if
/// it does not end within [`HANG`].
fn run_in(dir: &Path, args: &[&str], limit: bool) -> Ran {
    let bin = env!("CARGO_BIN_EXE_surgesim");
    let (out_path, err_path) = (dir.join(".stdout"), dir.join(".stderr"));
    let mut cmd = if limit {
        let mut c = Command::new("sh");
        c.arg("-c").arg(format!("ulimit -v {ADDRESS_SPACE_KIB} && exec \"$0\" \"$@\"")).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    let mut child = cmd
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out_path).unwrap())
        .stderr(fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("surgesim starts");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > HANG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("surgesim {args:?} did not end within {HANG:?}");
        }
        sleep(Duration::from_millis(20));
    };
    let read = |p: &Path| String::from_utf8_lossy(&fs::read(p).unwrap()).into_owned();
    Ran { code: status.code(), stdout: read(&out_path), stderr: read(&err_path) }
}

/// Asserts exit 2, a short stderr without a panic, containing each of
/// `expect`; returns stderr.
#[track_caller]
fn refused(r: &Ran, what: &str, expect: &[&str]) -> String {
    let e = &r.stderr;
    assert!(!e.contains("panicked"), "{what}: panicked:\n{e}");
    assert_eq!(
        r.code,
        Some(2),
        "{what}: expected exit 2 (a signal is None)\n--- stdout\n{}\n--- stderr\n{e}",
        r.stdout
    );
    assert!(e.len() < SHORT, "{what}: {} bytes of stderr:\n{}", e.len(), &e[..SHORT.min(e.len())]);
    for x in expect {
        assert!(e.contains(x), "{what}: stderr lacks {x:?}:\n{e}");
    }
    e.clone()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    fs::write(dir.join(name), text).unwrap();
    name.to_string()
}

/// A file of `header` followed by zero bytes up to 1 GiB, without a line
/// end: sparse, so it costs no disk.
fn one_gib_line(dir: &Path, name: &str, header: &str) -> String {
    let mut f = fs::File::create(dir.join(name)).unwrap();
    f.write_all(header.as_bytes()).unwrap();
    f.set_len(1 << 30).unwrap();
    name.to_string()
}

fn mkfifo(dir: &Path, name: &str) -> String {
    let ok = Command::new("mkfifo").arg(dir.join(name)).status().expect("mkfifo runs").success();
    assert!(ok, "mkfifo {name}");
    name.to_string()
}

// ---------------------------------------------------------------------------
// 1. Bounded input
// ---------------------------------------------------------------------------

#[test]
fn a_rate_file_or_trace_that_is_dev_zero_is_refused() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let rate = write(d, "rate.toml", &scenario("kind = \"poisson\"\nrate_file = \"/dev/zero\"", "\"30s\""));
    let trace = write(d, "trace.toml", &scenario("kind = \"trace\"\nfile = \"/dev/zero\"", "\"30s\""));
    for (sc, field) in [(rate, "`arrivals.rate_file`"), (trace, "`arrivals.file`")] {
        let r = run_in(d, &["validate", &sc], true);
        refused(&r, &sc, &[&sc, field, "/dev/zero", "not a regular file"]);
    }
}

#[test]
fn a_line_of_a_gibibyte_is_refused_within_bounded_memory() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let cases = [
        (
            "rate file",
            one_gib_line(d, "rate.csv", "t_s,per_s\n"),
            "kind = \"poisson\"\nrate_file = \"rate.csv\"",
            "\"30s\"",
        ),
        ("trace", one_gib_line(d, "trace.csv", "arrival\n"), "kind = \"trace\"\nfile = \"trace.csv\"", "\"30s\""),
        ("empirical", one_gib_line(d, "secs.csv", "secs\n"), POISSON, "{ dist = \"empirical\", file = \"secs.csv\" }"),
    ];
    for (what, file, arrivals, duration) in cases {
        let sc = write(d, "big.toml", &scenario(arrivals, duration));
        for cmd in ["validate", "run"] {
            let args: Vec<&str> = if cmd == "run" { vec!["run", &sc, "--out", "out"] } else { vec!["validate", &sc] };
            let r = run_in(d, &args, true);
            refused(&r, &format!("{what} ({cmd})"), &[&file, "line 2", "1 MiB"]);
            assert!(!d.join("out").exists(), "{what}: an output folder was written");
        }
    }
}

#[test]
fn an_unterminated_quote_does_not_swallow_the_rest_of_the_trace() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let mut text = String::from("arrival\n1\n\"2\n");
    while text.len() < 3 << 20 {
        text.push_str("3\n");
    }
    write(d, "q.csv", &text);
    let sc = write(d, "q.toml", &scenario("kind = \"trace\"\nfile = \"q.csv\"", "\"30s\""));
    let r = run_in(d, &["validate", &sc], true);
    refused(&r, "unterminated quote", &["q.csv", "line 3", "1 MiB"]);
}

#[test]
fn a_megabyte_value_in_a_scenario_is_echoed_clipped() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let huge = "x".repeat(1 << 20);
    let cases = [
        ("string where a number goes", BASE.replace("seed = 1", &format!("seed = \"{huge}\""))),
        ("unquoted text after a value", BASE.replace("seed = 1", &format!("seed = 1 {huge}"))),
        ("unknown distribution", scenario(POISSON, &format!("{{ dist = \"{huge}\" }}"))),
        ("malformed duration", scenario(POISSON, &format!("\"{huge}\""))),
        ("unknown field", BASE.replace("seed = 1", &format!("{huge} = 1"))),
        ("name too long", BASE.replace("name = \"inputs\"", &format!("name = \"{huge}\""))),
    ];
    for (what, text) in cases {
        let sc = write(d, "long.toml", &text.replace("{arrivals}", POISSON).replace("{duration}", "\"30s\""));
        let r = run_in(d, &["validate", &sc], false);
        refused(&r, what, &["long.toml"]);
    }
    // A --set value is clipped too (100 kB: one argument may not exceed 128 KiB).
    let sc = write(d, "ok.toml", &scenario(POISSON, "\"30s\""));
    let set = format!("arrivals.kind={}", &huge[..100_000]);
    let r = run_in(d, &["run", &sc, "--set", &set, "--out", "out"], false);
    refused(&r, "--set", &["ok.toml", "…"]);
}

#[test]
fn a_scenario_file_larger_than_the_limit_is_refused() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let mut text = scenario(POISSON, "\"30s\"");
    text.push_str(&format!("# {}\n", "x".repeat(20 << 20)));
    let sc = write(d, "huge.toml", &text);
    let r = run_in(d, &["validate", &sc], true);
    refused(&r, "a 20 MiB scenario", &["huge.toml", "16 MiB"]);
}

// ---------------------------------------------------------------------------
// 2. Non-regular files: refused at once, read never
// ---------------------------------------------------------------------------

#[test]
fn fifos_are_refused_without_waiting_for_a_writer() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let fifo = mkfifo(d, "pipe");
    let cases = [
        ("trace", scenario("kind = \"trace\"\nfile = \"pipe\"", "\"30s\""), "`arrivals.file`"),
        ("rate file", scenario("kind = \"poisson\"\nrate_file = \"pipe\"", "\"30s\""), "`arrivals.rate_file`"),
        ("empirical", scenario(POISSON, "{ dist = \"empirical\", file = \"pipe\" }"), "`classes[0].duration.file`"),
        ("extends", "extends = \"pipe\"\n".to_string(), "`extends`"),
    ];
    for (what, text, field) in cases {
        let sc = write(d, "fifo.toml", &text);
        for args in [vec!["validate", sc.as_str()], vec!["run", sc.as_str(), "--out", "out"]] {
            let r = run_in(d, &args, false);
            refused(&r, what, &["fifo.toml", field, "pipe", "not a regular file"]);
        }
    }
    let r = run_in(d, &["run", &fifo, "--out", "out"], false);
    refused(&r, "scenario", &["pipe", "not a regular file"]);
    assert!(!d.join("out").exists(), "an output folder was written");
}

// ---------------------------------------------------------------------------
// 3. Files that are not scenarios are named, never quoted
// ---------------------------------------------------------------------------

const SECRET: &str = "root:$6$s3cr3tHASH:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n";

#[test]
fn files_that_are_not_scenarios_are_never_quoted() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    write(d, "shadow", SECRET);
    let cases = [
        ("extends", "extends = \"shadow\"\n".to_string(), vec!["`extends`", "not a scenario file", "line 1"]),
        (
            "empirical",
            scenario(POISSON, "{ dist = \"empirical\", file = \"shadow\" }"),
            vec!["`classes[0].duration.file`", "line 2", "not a duration"],
        ),
        (
            "empirical column",
            scenario(POISSON, "{ dist = \"empirical\", file = \"shadow\", column = \"secs\" }"),
            vec!["`classes[0].duration.file`", "no column \"secs\""],
        ),
        (
            "trace",
            scenario("kind = \"trace\"\nfile = \"shadow\"", "\"30s\""),
            vec!["`arrivals.file`", "no arrival column"],
        ),
        (
            "rate file",
            scenario("kind = \"poisson\"\nrate_file = \"shadow\"", "\"30s\""),
            vec!["`arrivals.rate_file`", "t_s and per_s"],
        ),
    ];
    for (what, text, expect) in cases {
        let sc = write(d, "leak.toml", &text);
        let r = run_in(d, &["validate", &sc], false);
        let e = refused(&r, what, &expect);
        assert!(e.contains("shadow"), "{what}: the file is not named:\n{e}");
        for secret in ["s3cr3t", "root:", "daemon"] {
            assert!(!e.contains(secret) && !r.stdout.contains(secret), "{what}: {secret:?} echoed:\n{e}");
        }
    }
}

#[test]
fn trace_cells_are_not_quoted_but_their_line_and_column_are_named() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let cases: [(&str, &str, &[&str]); 3] = [
        ("arrival,class\n1,a\nSECRET1,a\n", "bad arrival", &["line 3", "arrival"]),
        ("arrival,duration\n1,SECRET2\n", "bad duration", &["line 2", "duration"]),
        ("arrival,class\n1,SECRET3\n", "unknown class", &["line 2", "unknown class", "\"a\""]),
    ];
    for (csv, what, expect) in cases {
        write(d, "t.csv", csv);
        let sc = write(d, "t.toml", &scenario("kind = \"trace\"\nfile = \"t.csv\"", "\"30s\""));
        let r = run_in(d, &["validate", &sc], false);
        let e = refused(&r, what, expect);
        assert!(!e.contains("SECRET"), "{what}: a cell is echoed:\n{e}");
    }
}

// ---------------------------------------------------------------------------
// 4. One SLO rule for every command
// ---------------------------------------------------------------------------

#[test]
fn a_misspelt_slo_metric_is_refused_by_every_command() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let sc = write(d, "slo.toml", &format!("{}\n[slo]\nmax_faild = 1\n", scenario(POISSON, "\"30s\"")));
    let commands: [&[&str]; 6] = [
        &["validate", "slo.toml"],
        &["run", "slo.toml", "--out", "out"],
        &["check", "slo.toml"],
        &["trace", "slo.toml", "-o", "t.csv"],
        &["compare", "slo.toml", "slo.toml", "--out", "out"],
        &["sweep", "slo.toml", "--vary", "primary.workers=10..20:10", "--out", "out"],
    ];
    for args in commands {
        let r = run_in(d, args, false);
        let what = format!("surgesim {}", args[0]);
        // The list of valid metrics is long but bounded; allow for it.
        assert_eq!(r.code, Some(2), "{what}: expected exit 2\n{}", r.stderr);
        for x in [sc.as_str(), "max_faild", "unknown metric"] {
            assert!(r.stderr.contains(x), "{what}: stderr lacks {x:?}:\n{}", r.stderr);
        }
        assert!(!d.join("out").exists() && !d.join("t.csv").exists(), "{what} wrote output");
    }
}

// ---------------------------------------------------------------------------
// 5. Messages that say what is wrong
// ---------------------------------------------------------------------------

#[test]
fn a_window_before_clock_start_says_so() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let sc = write(d, "w.toml", &scenario(POISSON, "\"30s\"").replace("duration = \"5m\"", "duration = \"1h\""));
    let cases: [(&str, &[&str]); 4] = [
        ("06:00..07:00", &["before clock_start", "06:30:00..07:30:00"]),
        ("07:00..08:00", &["ends after the run", "06:30:00..07:30:00"]),
        ("08:00..08:10", &["starts after the run ends"]),
        ("06:50..06:40", &["must end after it starts"]),
    ];
    for (w, expect) in cases {
        let r = run_in(d, &["run", &sc, "--window", w, "--out", "out"], false);
        let e = refused(&r, w, expect);
        assert!(e.contains("`window`") && e.contains(w), "{w}:\n{e}");
        if w != "06:50..06:40" {
            assert!(!e.contains("must end after it starts"), "{w}: misleading message:\n{e}");
        }
    }
}

#[test]
fn a_rate_above_the_limit_names_the_limit() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    write(d, "r.csv", "t_s,per_s\n0,1\n60,1e12\n");
    let sc = write(d, "r.toml", &scenario("kind = \"poisson\"\nrate_file = \"r.csv\"", "\"30s\""));
    let r = run_in(d, &["validate", &sc], false);
    let e = refused(&r, "rate 1e12", &["r.csv", "line 3", "above the limit", "1e9"]);
    assert!(!e.contains(">= 0"), "misleading message:\n{e}");
}

#[test]
fn a_duration_too_long_is_out_of_range_not_malformed() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let text = scenario(POISSON, "\"9999999999h\"");
    let line = 1 + text.lines().position(|l| l.contains("9999999999h")).unwrap();
    let sc = write(d, "d.toml", &text);
    let r = run_in(d, &["validate", &sc], false);
    let e = refused(&r, "9999999999h", &["d.toml", &format!("line {line}"), "out of range", "10^12"]);
    assert!(!e.contains("malformed"), "misleading message:\n{e}");
}

#[test]
fn a_key_nested_too_deeply_is_reported_with_its_line() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let deep = ["k"; 200].join(".");
    for (what, extra) in [("dotted key", format!("[x]\n{deep} = 1\n")), ("table name", format!("[x.{deep}]\n"))] {
        let text = format!("{}{extra}", scenario(POISSON, "\"30s\""));
        let line = text.lines().count();
        let sc = write(d, "deep.toml", &text);
        let r = run_in(d, &["validate", &sc], false);
        refused(&r, what, &["deep.toml", &format!("line {line}"), "nested too deeply"]);
    }
}
