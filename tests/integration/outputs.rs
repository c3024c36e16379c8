//! What surgesim writes, and how: the output folder is the old one or the
//! new one at every moment (interrupted runs, concurrent runs, folders
//! swapped in during a run); files named on the command line are written
//! through devices, FIFOs and links without replacing them; odd `--out`
//! paths work or are refused before anything is simulated; every file gets
//! the mode the umask gives a new file; and the four output flags are the
//! same on every command.
//!
//! A kill between two steps of a replace is simulated by creating the state
//! it would leave by hand; concurrent runs are real processes.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tempfile::TempDir;

const MARKER: &str = ".surgesim-output";

/// About 1,200 calls: a run of a fraction of a second.
const TINY: &str = r#"
name = "tiny"
duration = "10m"
bin = "1m"
[arrivals]
kind = "poisson"
rate = 2.0
[[classes]]
name = "all"
share = 1.0
duration = { dist = "exponential", mean = "30s" }
[primary]
workers = 100
[slo]
max_failed_calls = 0
"#;

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("surgesim")
}

/// Runs `surgesim args…` in `dir` (under `umask`, when given).
fn surgesim_umask(dir: &Path, umask: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = match umask {
        Some(m) => {
            let mut c = Command::new("sh");
            c.arg("-c").arg(format!("umask {m} && exec \"$0\" \"$@\"")).arg(bin());
            c
        }
        None => Command::new(bin()),
    };
    let out = cmd.args(args).current_dir(dir).output().expect("surgesim starts");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "surgesim {args:?} panicked: {err}");
    out
}

fn surgesim(dir: &Path, args: &[&str]) -> Output {
    surgesim_umask(dir, None, args)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_exit(args: &[&str], o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "surgesim {args:?}: stdout {} stderr {}",
        String::from_utf8_lossy(&o.stdout),
        stderr(o)
    );
}

/// Runs and expects `code`.
fn expect(dir: &Path, args: &[&str], code: i32) -> Output {
    let o = surgesim(dir, args);
    assert_exit(args, &o, code);
    o
}

fn entries(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// A folder with `tiny.toml` and `long.toml` in it.
fn workdir() -> TempDir {
    let tmp = TempDir::new().unwrap();
    fs::write(tmp.path().join("tiny.toml"), TINY).unwrap();
    fs::write(tmp.path().join("long.toml"), crate::common::LONG_RUN).unwrap();
    tmp
}

/// A complete output of `tiny.toml` in `dir/out`, whose summary.json is returned.
fn first_run(dir: &Path) -> Vec<u8> {
    expect(dir, &["run", "tiny.toml", "--out", "out"], 0);
    fs::read(dir.join("out/summary.json")).unwrap()
}

/// Starts `surgesim run long.toml --out out` (with `extra` flags) and
/// returns once its staging folder exists, i.e. it holds the lock and is
/// simulating; `None` if it ended first.
fn start_long(dir: &Path, extra: &[&str]) -> Option<Child> {
    let mut child = Command::new(bin())
        .args(["run", "long.toml", "--out", "out"])
        .args(extra)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let staging = dir.join(format!(".out.partial-{}", child.id()));
    let t = Instant::now();
    while !staging.exists() {
        if child.try_wait().unwrap().is_some() {
            return None;
        }
        assert!(t.elapsed() < Duration::from_secs(120), "no staging folder appeared");
        std::thread::sleep(Duration::from_millis(5));
    }
    Some(child)
}

fn kill(mut child: Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

/// The id of a process that has ended.
fn dead_pid() -> u32 {
    let mut c = Command::new("true").spawn().unwrap();
    let id = c.id();
    c.wait().unwrap();
    id
}

// ---------------------------------------------------------------------------
// 13.5: one set of output flags
// ---------------------------------------------------------------------------

#[test]
fn every_simulating_command_takes_the_same_output_flags() {
    let tmp = TempDir::new().unwrap();
    for cmd in ["run", "sweep", "plan", "compare"] {
        let o = expect(tmp.path(), &[cmd, "--help"], 0);
        let help = String::from_utf8_lossy(&o.stdout);
        for flag in ["--out <OUT>", "--force", "--threads <THREADS>", "--max-calls <MAX_CALLS>"] {
            assert!(help.contains(flag), "`surgesim {cmd} --help` lacks {flag}");
        }
        assert!(help.contains("one run at a time"), "`surgesim {cmd} --help` does not describe --out");
    }
}

// ---------------------------------------------------------------------------
// 14.1: old or new, always
// ---------------------------------------------------------------------------

/// A sampling check (a reader polling while the folder is replaced again
/// and again); the cases after it set up each leftover state exactly.
#[test]
fn the_output_folder_never_goes_missing_across_reruns() {
    let tmp = workdir();
    let dir = tmp.path().to_path_buf();
    first_run(&dir);
    let stop = Arc::new(AtomicBool::new(false));
    let poller = {
        let (stop, dir) = (stop.clone(), dir.clone());
        std::thread::spawn(move || {
            let (mut looks, mut missing) = (0u64, 0u64);
            while !stop.load(Ordering::Relaxed) {
                looks += 1;
                if !dir.join("out").join("summary.json").is_file() {
                    missing += 1;
                }
            }
            (looks, missing)
        })
    };
    for _ in 0..12 {
        expect(&dir, &["run", "tiny.toml", "--out", "out"], 0);
    }
    stop.store(true, Ordering::Relaxed);
    let (looks, missing) = poller.join().unwrap();
    assert!(looks > 0);
    assert_eq!(missing, 0, "out/summary.json was missing {missing} times in {looks} looks");
    assert_eq!(entries(&dir), set(&["long.toml", "out", "tiny.toml"]));
}

/// Killed after the exchange, before the old folder was removed: the old
/// output sits in the staging folder. The next run clears it.
#[test]
fn a_kill_after_the_exchange_is_cleared_by_the_next_run() {
    let tmp = workdir();
    let dir = tmp.path();
    let before = first_run(dir);
    let left = dir.join(format!(".out.partial-{}", dead_pid()));
    fs::create_dir(&left).unwrap();
    fs::write(left.join("summary.json"), "an older output").unwrap();
    fs::write(left.join(MARKER), "x").unwrap();
    expect(dir, &["run", "tiny.toml", "--out", "out"], 0);
    assert_eq!(fs::read(dir.join("out/summary.json")).unwrap(), before);
    assert_eq!(entries(dir), set(&["long.toml", "out", "tiny.toml"]));
}

/// Killed between the two renames of the fallback (or of earlier
/// versions): no `out`, the previous output in `.out.partial-PID.old` (or
/// `.out.old`), the new one complete in `.out.partial-PID`. The next run
/// puts the previous output back before it simulates, and then replaces it.
#[test]
fn a_kill_between_two_renames_is_recovered_before_simulating() {
    for old_name in ["partial-PID.old", "old"] {
        let tmp = workdir();
        let dir = tmp.path();
        let before = first_run(dir);
        let pid = dead_pid();
        let old = dir.join(format!(".out.{}", old_name.replace("PID", &pid.to_string())));
        fs::rename(dir.join("out"), &old).unwrap();
        let staged = dir.join(format!(".out.partial-{pid}"));
        fs::create_dir(&staged).unwrap();
        fs::write(staged.join("summary.json"), "a newer output").unwrap();
        fs::write(staged.join(MARKER), "x").unwrap();
        // Every later run used to fail here ("Directory not empty").
        let child = start_long(dir, &[]).expect("the long run ended before it could be looked at");
        let during = fs::read(dir.join("out/summary.json"));
        kill(child);
        assert_eq!(during.ok(), Some(before.clone()), ".out.{old_name}: the previous output was not put back");
        expect(dir, &["run", "tiny.toml", "--out", "out"], 0);
        assert_eq!(fs::read(dir.join("out/summary.json")).unwrap(), before);
        assert_eq!(entries(dir), set(&["long.toml", "out", "tiny.toml"]), ".out.{old_name}");
    }
}

// ---------------------------------------------------------------------------
// 14.2: one run at a time per folder
// ---------------------------------------------------------------------------

#[test]
fn a_second_run_into_a_busy_folder_exits_2_before_simulating() {
    let tmp = workdir();
    let dir = tmp.path();
    let before = first_run(dir);
    let child = start_long(dir, &[]).expect("the long run ended before it could be looked at");
    let first = child.id();
    for cmd in [&["run", "tiny.toml", "--out", "out"][..], &["compare", "tiny.toml", "tiny.toml", "--out", "out"]] {
        let o = expect(dir, cmd, 2);
        let err = stderr(&o);
        assert!(err.contains("out") && err.contains("another surgesim run"), "{cmd:?}: {err}");
        assert!(err.contains(&format!("process {first}")), "{cmd:?} does not name the run it waits for: {err}");
    }
    assert_eq!(fs::read(dir.join("out/summary.json")).unwrap(), before, "the busy refusal touched the output");
    let left: Vec<String> =
        entries(dir).into_iter().filter(|e| e.contains(".partial-") && *e != format!(".out.partial-{first}")).collect();
    assert!(left.is_empty(), "the refused runs left {left:?}");
    // Killed, the first run releases the lock; its leftovers go with the next run.
    kill(child);
    expect(dir, &["run", "tiny.toml", "--out", "out"], 0);
    assert_eq!(entries(dir), set(&["long.toml", "out", "tiny.toml"]));
}

#[test]
fn concurrent_runs_into_one_folder_never_leak_or_tear_it() {
    let tmp = workdir();
    let dir = tmp.path();
    let before = first_run(dir);
    for _ in 0..6 {
        let kids: Vec<Child> = (0..2)
            .map(|_| {
                Command::new(bin())
                    .args(["run", "tiny.toml", "--out", "out"])
                    .current_dir(dir)
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for k in kids {
            let o = k.wait_with_output().unwrap();
            let err = stderr(&o);
            match o.status.code() {
                Some(0) => {}
                Some(2) => assert!(err.contains("another surgesim run"), "exit 2 for another reason: {err}"),
                c => panic!("exit {c:?}: {err}"),
            }
        }
        assert_eq!(fs::read(dir.join("out/summary.json")).unwrap(), before);
        assert_eq!(entries(dir), set(&["long.toml", "out", "tiny.toml"]));
    }
}

// ---------------------------------------------------------------------------
// 14.3: the marker is judged again when the folder is replaced
// ---------------------------------------------------------------------------

#[test]
fn a_folder_swapped_in_during_the_run_is_not_replaced() {
    let tmp = workdir();
    let dir = tmp.path();
    first_run(dir);
    // Long enough to swap the folder while it simulates; doubled if not.
    for hours in [2, 4, 8, 16, 32] {
        let d = format!("duration={hours}h");
        let Some(child) = start_long(dir, &["--set", &d]) else { continue };
        fs::remove_dir_all(dir.join("out")).unwrap();
        fs::create_dir(dir.join("out")).unwrap();
        fs::write(dir.join("out/notes.txt"), "mine").unwrap();
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(2), "the swapped-in folder was replaced: {}", stderr(&o));
        assert!(stderr(&o).contains("not written by surgesim"), "{}", stderr(&o));
        assert_eq!(entries(&dir.join("out")), set(&["notes.txt"]));
        assert_eq!(fs::read_to_string(dir.join("out/notes.txt")).unwrap(), "mine");
        assert_eq!(entries(dir), set(&["long.toml", "out", "tiny.toml"]));
        return;
    }
    panic!("every run ended before the folder could be swapped");
}

// ---------------------------------------------------------------------------
// 14.4: devices, FIFOs and links are written through, never replaced
// ---------------------------------------------------------------------------

/// `null` and `full` devices to write at: private nodes made in `dir` when
/// the tests run as root (who could replace `/dev/null` itself, should the
/// code under test regress), else `/dev/null` and `/dev/full`, which
/// nobody else can replace.
fn devices(dir: &Path) -> (String, String) {
    let made = [("null", "3"), ("full", "7")].iter().all(|(name, minor)| {
        let p = dir.join(name);
        Command::new("mknod").arg(&p).args(["c", "1", minor]).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
            && fs::metadata(&p).is_ok_and(|m| m.file_type().is_char_device())
    });
    if made {
        (dir.join("null").display().to_string(), dir.join("full").display().to_string())
    } else {
        let _ = fs::remove_file(dir.join("null"));
        let _ = fs::remove_file(dir.join("full"));
        ("/dev/null".into(), "/dev/full".into())
    }
}

#[test]
fn devices_are_written_through_and_stay_devices() {
    let tmp = workdir();
    let dir = tmp.path();
    let (null, full) = devices(dir);
    for flag in ["--json", "--junit", "--write-baseline"] {
        expect(dir, &["check", "tiny.toml", flag, &null], 0);
        let o = expect(dir, &["check", "tiny.toml", flag, &full], 2);
        assert!(stderr(&o).contains(&full) && stderr(&o).contains("space"), "{flag}: {}", stderr(&o));
    }
    expect(dir, &["trace", "tiny.toml", "-o", &null], 0);
    expect(dir, &["trace", "tiny.toml", "-o", &full], 2);
    for dev in [&null, &full] {
        assert!(fs::metadata(dev).unwrap().file_type().is_char_device(), "{dev} was replaced");
    }
}

#[test]
fn a_fifo_is_written_through() {
    let tmp = workdir();
    let dir = tmp.path();
    let fifo = dir.join("pipe");
    let ok = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(ok.success());
    for (args, start) in [
        (vec!["check", "tiny.toml", "--junit", "pipe"], "<?xml"),
        (vec!["check", "tiny.toml", "--json", "pipe"], "{"),
        (vec!["trace", "tiny.toml", "-o", "pipe"], "arrival,duration,class"),
    ] {
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::read_to_string(fifo).unwrap())
        };
        expect(dir, &args, 0);
        // Before joining: a reader of a replaced FIFO would wait forever.
        assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(), "{args:?} replaced the FIFO");
        let got = reader.join().unwrap();
        assert!(got.starts_with(start), "{args:?} sent {:?}", &got[..got.len().min(60)]);
    }
    assert_eq!(entries(dir), set(&["long.toml", "pipe", "tiny.toml"]));
}

#[test]
fn a_link_is_kept_and_its_target_written() {
    let tmp = workdir();
    let dir = tmp.path();
    fs::create_dir(dir.join("real")).unwrap();
    for (flag, name) in [("--json", "r.json"), ("--junit", "r.xml"), ("--write-baseline", "b.json"), ("-o", "t.csv")] {
        let link = format!("link-{name}");
        std::os::unix::fs::symlink(format!("real/{name}"), dir.join(&link)).unwrap();
        // Dangling at first (the target is created), then replaced.
        for _ in 0..2 {
            let args: Vec<&str> = if flag == "-o" {
                vec!["trace", "tiny.toml", "-o", &link]
            } else {
                vec!["check", "tiny.toml", flag, &link]
            };
            expect(dir, &args, 0);
            assert!(
                fs::symlink_metadata(dir.join(&link)).unwrap().file_type().is_symlink(),
                "{flag} replaced the link"
            );
            assert!(fs::metadata(dir.join("real").join(name)).unwrap().len() > 0, "{flag} did not write the target");
        }
    }
    assert_eq!(entries(&dir.join("real")), set(&["b.json", "r.json", "r.xml", "t.csv"]));
}

// ---------------------------------------------------------------------------
// 14.5: odd --out paths work or are refused before simulating
// ---------------------------------------------------------------------------

#[test]
fn dot_paths() {
    let tmp = workdir();
    let dir = tmp.path();
    for out in [".", "./", "..", "sub/..", "sub/../.."] {
        let o = expect(dir, &["run", "tiny.toml", "--out", out], 2);
        if !out.starts_with("sub") {
            assert!(stderr(&o).contains("current folder"), "--out {out}: {}", stderr(&o));
        }
        assert_eq!(entries(dir), set(&["long.toml", "tiny.toml"]), "--out {out} left something");
    }
    expect(dir, &["run", "tiny.toml", "--out", "out/."], 0);
    expect(dir, &["run", "tiny.toml", "--out", "./out/."], 0);
    assert!(dir.join("out/summary.json").is_file());
    assert_eq!(entries(dir), set(&["long.toml", "out", "tiny.toml"]));
}

#[test]
fn links_as_the_output_folder() {
    let tmp = workdir();
    let dir = tmp.path();
    std::os::unix::fs::symlink("nowhere", dir.join("dangling")).unwrap();
    let o = expect(dir, &["run", "tiny.toml", "--out", "dangling"], 2);
    assert!(stderr(&o).contains("dangling") && stderr(&o).contains("does not exist"), "{}", stderr(&o));
    assert_eq!(entries(dir), set(&["dangling", "long.toml", "tiny.toml"]));

    // A link to a surgesim folder: the folder is replaced, the link kept.
    let before = first_run(dir);
    std::os::unix::fs::symlink("out", dir.join("latest")).unwrap();
    for _ in 0..2 {
        let o = expect(dir, &["run", "tiny.toml", "--out", "latest"], 0);
        assert!(String::from_utf8_lossy(&o.stdout).contains("wrote latest"));
        assert!(fs::symlink_metadata(dir.join("latest")).unwrap().file_type().is_symlink());
        assert_eq!(fs::read(dir.join("latest/summary.json")).unwrap(), before);
    }
    assert_eq!(entries(dir), set(&["dangling", "latest", "long.toml", "out", "tiny.toml"]));
}

#[test]
fn long_names() {
    let tmp = workdir();
    let dir = tmp.path();
    let name250 = "a".repeat(250);
    expect(dir, &["run", "tiny.toml", "--out", &name250], 0);
    expect(dir, &["run", "tiny.toml", "--out", &name250], 0);
    assert!(dir.join(&name250).join("summary.json").is_file());
    assert_eq!(entries(dir), set(&[&name250, "long.toml", "tiny.toml"]));
    fs::remove_dir_all(dir.join(&name250)).unwrap();

    let name256 = "b".repeat(256);
    let o = expect(dir, &["run", "tiny.toml", "--out", &name256], 2);
    assert!(stderr(&o).contains("255"), "{}", stderr(&o));

    // A 300-character scenario name and no --out: refused when the scenario
    // is read (a name is at most 100 characters, since it names the output
    // folder), before anything is created.
    let long_name = TINY.replace("name = \"tiny\"", &format!("name = \"{}\"", "n".repeat(300)));
    fs::write(dir.join("named.toml"), long_name).unwrap();
    for args in [
        &["run", "named.toml"][..],
        &["sweep", "named.toml", "--vary", "primary.workers=90..100:10", "-r", "1"],
        &["plan", "named.toml", "--vary", "primary.workers=90..100", "--slo", "failed<=0"],
    ] {
        let o = expect(dir, args, 2);
        assert!(stderr(&o).contains("field `name`") && stderr(&o).contains("100"), "{args:?}: {}", stderr(&o));
        assert_eq!(entries(dir), set(&["long.toml", "named.toml", "tiny.toml"]), "{args:?} left something");
    }
}

#[test]
fn stale_staging_folders_of_dead_runs_are_removed_by_the_next_run() {
    let tmp = workdir();
    let dir = tmp.path();
    // As a killed run leaves them: an empty staging folder and its lock file.
    for _ in 0..3 {
        fs::create_dir(dir.join(format!(".out.partial-{}", dead_pid()))).unwrap();
    }
    fs::write(dir.join(".out.lock"), "1\n").unwrap();
    // Another folder's leftovers are not this run's to judge.
    fs::create_dir(dir.join(".other.partial-1")).unwrap();
    expect(dir, &["run", "tiny.toml", "--out", "out"], 0);
    assert_eq!(entries(dir), set(&[".other.partial-1", "long.toml", "out", "tiny.toml"]));
    // A real kill, then a rerun.
    let child = start_long(dir, &[]).expect("the long run ended before it could be looked at");
    kill(child);
    expect(dir, &["run", "tiny.toml", "--out", "out"], 0);
    assert_eq!(entries(dir), set(&[".other.partial-1", "long.toml", "out", "tiny.toml"]));
}

// ---------------------------------------------------------------------------
// 15.1: the umask decides the modes
// ---------------------------------------------------------------------------

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).permissions().mode() & 0o777
}

#[test]
fn every_file_gets_the_mode_the_umask_gives_a_new_file() {
    for (umask, file_mode, dir_mode) in [("0022", 0o644, 0o755), ("0027", 0o640, 0o750)] {
        let tmp = workdir();
        let dir = tmp.path();
        let m = Some(umask);
        for args in [
            &["run", "tiny.toml", "--out", "out"][..],
            &["check", "tiny.toml", "--json", "r.json", "--junit", "r.xml", "--write-baseline", "b.json"],
            &["trace", "tiny.toml", "-o", "t.csv"],
        ] {
            assert_exit(args, &surgesim_umask(dir, m, args), 0);
        }
        let out = dir.join("out");
        assert_eq!(mode(&out), dir_mode, "umask {umask}: the output folder");
        let mut files: Vec<PathBuf> = fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).collect();
        files.extend(["r.json", "r.xml", "b.json", "t.csv"].map(|f| dir.join(f)));
        assert!(files.len() >= 10 && files.iter().any(|f| f.ends_with("timeline.png")));
        for f in &files {
            assert_eq!(mode(f), file_mode, "umask {umask}: {} has mode {:o}", f.display(), mode(f));
        }
    }
}
