//! Pinned digests of the bundled scenarios' outputs, so that any byte-level
//! change to what surgesim writes is seen, and updated on purpose.
//!
//! Every `scenarios/**/*.toml` is run with `-r 3` through the binary; each
//! output file but the PNGs (whose encoder is not ours to pin) is hashed
//! with SHA-256 (first 16 hex digits), and so is the run's combined stdout
//! and stderr (with the output folder's path replaced by `T`); then the
//! incident and its counterfactuals go through `compare -r 3`. The lines
//! are compared with `tests/integration/digests.txt`, which has the same
//! format as the project's digest script.
//!
//! After a deliberate change of outputs, rewrite the file with
//! `SURGESIM_UPDATE_DIGESTS=1 cargo test --test integration digests`, and
//! say in the commit which lines changed and why.

use std::fs::{self, File};
use std::path::Path;
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};
use tempfile::TempDir;

use crate::common::{bin, repo};

const DIGESTS: &str = "tests/integration/digests.txt";

/// The first 16 hex digits of the SHA-256 of `bytes`.
fn hex16(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Every `.toml` under `dir` (relative to the repository), sorted bytewise.
fn bundled(dir: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![repo(dir)];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "toml") {
                let rel = p.strip_prefix(repo("")).unwrap().to_string_lossy().into_owned();
                found.push(rel);
            }
        }
    }
    found.sort();
    found
}

/// Runs `surgesim args…` in `cwd` with stdout and stderr into one file, in
/// the order written (as `>log 2>&1` does); returns that text.
fn run_logged(cwd: &Path, args: &[&str], log: &Path) -> Vec<u8> {
    let f = File::create(log).unwrap();
    let status = Command::new(bin())
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::from(f.try_clone().unwrap()))
        .stderr(Stdio::from(f))
        .status()
        .expect("surgesim starts");
    let text = fs::read(log).unwrap();
    assert!(status.success(), "surgesim {args:?}: {status}\n{}", String::from_utf8_lossy(&text));
    text
}

/// The digest lines of the current build.
fn digests() -> String {
    let tmp = TempDir::new().unwrap();
    let t = tmp.path().display().to_string();
    let mut lines = Vec::new();
    for f in bundled("scenarios") {
        let name = f.replace('/', "_");
        let out = tmp.path().join(&name);
        let (scenario, out_s) = (repo(&f).display().to_string(), out.display().to_string());
        let log = run_logged(tmp.path(), &["run", &scenario, "-r", "3", "--out", &out_s], &tmp.path().join("log"));
        // As `ls` lists them: hidden files (the folder's marker) left out.
        let mut files: Vec<String> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        files.sort();
        for o in files {
            let bytes = fs::read(out.join(&o)).unwrap();
            if o.ends_with(".png") {
                assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{f}: {o} is not a PNG");
                continue;
            }
            lines.push(format!("{f} {o} {}", hex16(&bytes)));
        }
        let stdout = String::from_utf8_lossy(&log).replace(&t, "T");
        lines.push(format!("{f} stdout {}", hex16(stdout.as_bytes())));
    }
    let mut args = vec!["compare".to_string(), repo("scenarios/incident-2025-07-25.toml").display().to_string()];
    args.extend(bundled("scenarios/incident-2025-07-25").iter().map(|f| repo(f).display().to_string()));
    args.extend(["-r".into(), "3".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let log = run_logged(tmp.path(), &args, &tmp.path().join("compare.log"));
    lines.push(format!("compare {}", hex16(&log)));
    lines.join("\n") + "\n"
}

#[test]
fn bundled_scenario_outputs_match_the_pinned_digests() {
    let now = digests();
    let path = repo(DIGESTS);
    if std::env::var_os("SURGESIM_UPDATE_DIGESTS").is_some_and(|v| v == "1") {
        fs::write(&path, &now).unwrap();
        eprintln!("rewrote {DIGESTS}");
        return;
    }
    let pinned = fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {DIGESTS}: {e}"));
    let (old, new): (Vec<&str>, Vec<&str>) = (pinned.lines().collect(), now.lines().collect());
    let mut diff: Vec<String> = old.iter().filter(|l| !new.contains(l)).map(|l| format!("- {l}")).collect();
    diff.extend(new.iter().filter(|l| !old.contains(l)).map(|l| format!("+ {l}")));
    if diff.is_empty() && old != new {
        diff.push("(the same lines in another order)".into());
    }
    assert!(
        diff.is_empty(),
        "the bundled scenarios' outputs differ from {DIGESTS}:\n{}\n\
         If the change is deliberate: SURGESIM_UPDATE_DIGESTS=1 cargo test --test integration digests",
        diff.join("\n")
    );
}
