//! A written trace replays to identical results; faults: the memory of a
//! long trace replay (peak RSS must not grow with its length) and a run
//! killed half-way (no output folder that looks whole).

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::common::{assert_exit, bin, entries, summary, surgesim, total, LONG_RUN, TIMEOUT};

/// Everything but the arrivals: warm-up, two classes (one eligible for the
/// fallback), an autoscaler with a provisioning delay, a degraded fallback,
/// waiting with a queue limit.
const E2E_COMMON: &str = r#"
seed = 7
clock_start = "07:00"
duration = "10m"
bin = "1m"
warmup = "2m"

[[classes]]
name = "short"
share = 0.4
duration = { dist = "exponential", mean = "20s" }
fallback_eligible = true

[[classes]]
name = "long"
share = 0.6
duration = { dist = "lognormal", median = "40s", p95 = "2m" }

[primary]
workers = 5
calls_per_worker = 4

[primary.autoscaler]
policy = "target-utilization"
target = 0.7
interval = "15s"
provision_delay = "1m"
min = 5
max = 20

[fallback]
max_concurrency = 10
cold_start = "2s"
health = { degraded = 0.2 }

[admission]
max_wait = "10s"
queue_limit = 15
"#;

#[test]
fn a_written_trace_replays_to_identical_results() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    let generated = format!(
        "name = \"e2e\"\n{E2E_COMMON}\n[arrivals]\nkind = \"poisson\"\n\
         rate = [ {{ at = \"0s\", per_s = 1.0 }}, {{ at = \"4m\", per_s = 1.0, to_per_s = 3.0, over = \"1m\" }} ]\n"
    );
    let replay = format!("name = \"e2e\"\n{E2E_COMMON}\n[arrivals]\nkind = \"trace\"\nfile = \"calls.csv\"\n");
    fs::write(dir.join("generated.toml"), generated).unwrap();
    fs::write(dir.join("replay.toml"), replay).unwrap();

    let args = ["trace", "generated.toml", "-o", "calls.csv"];
    let out = surgesim(dir, &args);
    assert_exit(&args, &out, 0);
    let text = fs::read_to_string(dir.join("calls.csv")).unwrap();
    assert!(text.starts_with("arrival,duration,class,outcome,end\n"));
    assert!(text.lines().nth(1).unwrap().starts_with('-'), "the trace starts in the warm-up");

    for (sc, out_dir) in [("generated.toml", "a"), ("replay.toml", "b")] {
        let args = ["run", sc, "--out", out_dir];
        let out = surgesim(dir, &args);
        assert_exit(&args, &out, 0);
    }
    let (a, b) = (summary(&dir.join("a")), summary(&dir.join("b")));
    for key in ["arrived", "served_primary", "served_fallback", "failed", "abandoned", "failed_fallback_eligible"] {
        assert_eq!(total(&a, key), total(&b, key), "totals.{key}");
    }
    assert!(total(&a, "failed") > 0.0 && total(&a, "served_fallback") > 0.0, "the scenario should exercise failures");
    assert_eq!(a["totals"], b["totals"]);
    assert_eq!(a["classes"], b["classes"]);
    assert_eq!(a["metrics"], b["metrics"]);
    assert_eq!(
        fs::read(dir.join("a/timeseries.csv")).unwrap(),
        fs::read(dir.join("b/timeseries.csv")).unwrap(),
        "timeseries.csv differs between the generated run and its replay"
    );
}

// ---------------------------------------------------------------------------
// 6. Faults: memory of a long trace; an interrupted run
// ---------------------------------------------------------------------------

/// Writes a trace of `rows` calls at 1000 calls/s and a scenario spanning it
/// (default bins, so the bin count is the same for every length).
fn long_trace(dir: &Path, rows: u64, sort: bool) -> String {
    let name = format!("long-{rows}-{sort}.toml");
    let csv = format!("long-{rows}.csv");
    if !dir.join(&csv).exists() {
        let mut w = std::io::BufWriter::new(fs::File::create(dir.join(&csv)).unwrap());
        writeln!(w, "arrival").unwrap();
        for i in 0..rows {
            writeln!(w, "{}.{:03}", i / 1000, i % 1000).unwrap();
        }
        w.flush().unwrap();
    }
    let text = format!(
        "name = \"long\"\nduration = \"{}s\"\n[arrivals]\nkind = \"trace\"\nfile = \"{csv}\"\nsort = {sort}\n\
         [[classes]]\nname = \"a\"\nshare = 1.0\nduration = \"1s\"\n[primary]\nworkers = 300\ncalls_per_worker = 4\n",
        rows / 1000
    );
    fs::write(dir.join(&name), text).unwrap();
    name
}

/// `VmHWM` (the peak resident set, KiB) from a `/proc/<pid>/status` text.
fn vm_hwm_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse().ok()
}

/// Peak resident set (KiB) of `surgesim args…`: the child's `VmHWM`, read
/// from `/proc/<pid>/status` every millisecond until it exits. The kernel
/// keeps the high-water mark, so a poll sees every peak reached before it;
/// what a poll can miss is the last millisecond of the run.
fn peak_rss_kib(cwd: &Path, args: &[&str]) -> u64 {
    let mut child = std::process::Command::new(bin())
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("surgesim starts");
    let status_file = format!("/proc/{}/status", child.id());
    let (mut peak, mut polls) = (0, 0u64);
    let t = Instant::now();
    let status = loop {
        // Read before asking whether it exited: an exited child has no
        // memory left to report.
        if let Some(kib) = fs::read_to_string(&status_file).ok().as_deref().and_then(vm_hwm_kib) {
            peak = peak.max(kib);
            polls += 1;
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(t.elapsed() < TIMEOUT, "surgesim {args:?} still running after {TIMEOUT:?}");
        std::thread::sleep(Duration::from_millis(1));
    };
    assert!(status.success(), "surgesim {args:?} failed: {status}");
    assert!(polls >= 10 && peak > 0, "surgesim {args:?}: {polls} readings of VmHWM in {status_file}");
    peak
}

#[test]
fn vm_hwm_is_read_from_a_status_file() {
    let status = "Name:\tsurgesim\nVmPeak:\t  123456 kB\nVmHWM:\t   10752 kB\nVmRSS:\t    9000 kB\n";
    assert_eq!(vm_hwm_kib(status), Some(10_752));
    assert_eq!(vm_hwm_kib("Name:\tzombie\nState:\tZ (zombie)\n"), None);
    // This very process has a peak resident set.
    let own = vm_hwm_kib(&fs::read_to_string("/proc/self/status").unwrap());
    assert!(own.is_some_and(|k| k > 0), "{own:?}");
}

/// A streamed trace of 4 million rows needs no more memory than one of 2
/// million: at most 1 MiB more, which a leak of half a byte per row would
/// exceed. As a control, the sorted path (which reads the trace into
/// memory, 16 bytes a row or more) must grow by at least 2 million × 8
/// bytes, so the measurement can see growth.
#[test]
fn a_long_trace_is_replayed_in_constant_memory() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    let mut peaks = Vec::new();
    for (rows, sort) in [(2_000_000, false), (4_000_000, false), (2_000_000, true), (4_000_000, true)] {
        let sc = long_trace(dir, rows, sort);
        let out_dir = format!("out-{rows}-{sort}");
        let kib = peak_rss_kib(dir, &["run", &sc, "--out", &out_dir]);
        assert_eq!(total(&summary(&dir.join(&out_dir)), "arrived"), rows as f64);
        eprintln!("{rows} rows, sort = {sort}: peak RSS {kib} KiB");
        peaks.push(kib);
    }
    let (s2, s4, q2, q4) = (peaks[0], peaks[1], peaks[2], peaks[3]);
    assert!(s4 <= s2 + 1024, "streaming replay grew from {s2} KiB (2M rows) to {s4} KiB (4M rows)");
    assert!(
        q4 >= q2 + 2_000_000 * 8 / 1024,
        "the sorted control did not grow ({q2} → {q4} KiB): the measurement is blind"
    );
}

/// Starts `surgesim run long.toml --out out` in `dir`, waits until its
/// staging folder exists (the run is under way), then stops it with
/// `signal` ("TERM" via kill(1), "KILL" via Child::kill).
fn interrupt_run(dir: &Path, signal: &str) {
    fs::write(dir.join("long.toml"), LONG_RUN).unwrap();
    let mut child = std::process::Command::new(bin())
        .args(["run", "long.toml", "--out", "out"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let staging = format!(".out.partial-{}", child.id());
    let t = Instant::now();
    while !dir.join(&staging).exists() {
        assert!(child.try_wait().unwrap().is_none(), "the long run ended before it could be interrupted");
        assert!(t.elapsed() < Duration::from_secs(60), "no staging folder {staging} appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "the long run ended before it could be interrupted");
    if signal == "KILL" {
        child.kill().unwrap();
    } else {
        let ok = std::process::Command::new("kill").args([format!("-{signal}"), child.id().to_string()]).status();
        assert!(ok.is_ok_and(|s| s.success()), "kill -{signal} failed");
    }
    let status = child.wait().unwrap();
    assert!(!status.success(), "the interrupted run reported success");
}

#[test]
fn an_interrupted_run_leaves_no_output_folder() {
    for signal in ["TERM", "KILL"] {
        let tmp = TempDir::new().unwrap();
        interrupt_run(tmp.path(), signal);
        assert!(!tmp.path().join("out").exists(), "SIGKILL/TERM left an output folder that looks whole");
        for e in entries(tmp.path()) {
            assert!(e == "long.toml" || e == ".out.lock" || e.starts_with(".out.partial-"), "SIG{signal} left {e}");
        }
    }
}

/// An interrupted re-run leaves the previous, complete result untouched.
#[test]
fn an_interrupted_rerun_keeps_the_previous_result() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    fs::write(dir.join("long.toml"), LONG_RUN).unwrap();
    let args = ["run", "long.toml", "--set", "duration=1m", "--set", "bin=10s", "--out", "out"];
    let out = surgesim(dir, &args);
    assert_exit(&args, &out, 0);
    let before: Vec<(String, Vec<u8>)> = entries(&dir.join("out"))
        .into_iter()
        .map(|f| (f.clone(), fs::read(dir.join("out").join(&f)).unwrap()))
        .collect();
    interrupt_run(dir, "TERM");
    let after: Vec<(String, Vec<u8>)> = entries(&dir.join("out"))
        .into_iter()
        .map(|f| (f.clone(), fs::read(dir.join("out").join(&f)).unwrap()))
        .collect();
    assert!(before == after, "the interrupted re-run changed the previous output folder");
}
