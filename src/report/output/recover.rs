//! Putting right what an interrupted run left beside an output folder.
//!
//! This runs under the folder's lock, so no other surgesim is writing the
//! folder, and these entries beside it are leftovers of runs that were
//! killed or crashed (whatever their process id):
//! - `.STEM.partial-PID`: a staging folder (empty when killed while
//!   simulating, part-written, or the previous output on its way out after
//!   the exchange);
//! - `.STEM.partial-PID.old`: the previous output, moved aside by the
//!   two-rename fallback of a run killed before the new one took its place;
//! - `.NAME.old`: the same, as earlier versions named it.
//!
//! When the output folder is missing and an `.old` folder holds a complete
//! output (it has the marker), that folder is moved back: the last complete
//! result stays readable while this run simulates. The rest is removed.
//! Failures here are not fatal: the run goes on, and the next one tries again.

use std::fs;
use std::path::{Path, PathBuf};

use super::{remove_any, MARKER};

pub(super) fn recover(parent: &Path, stem: &str, name: &str, target: &Path) {
    let Ok(entries) = fs::read_dir(parent) else { return };
    let partial = format!(".{stem}.partial-");
    let legacy = format!(".{name}.old");
    let mut old: Vec<PathBuf> = Vec::new();
    let mut rest: Vec<PathBuf> = Vec::new();
    for e in entries.flatten() {
        let file_name = e.file_name();
        let n = file_name.to_string_lossy();
        let path = e.path();
        if path == target {
            continue;
        }
        if n == legacy {
            old.push(path);
            continue;
        }
        let Some(tail) = n.strip_prefix(&partial) else { continue };
        let (pid, is_old) = match tail.strip_suffix(".old") {
            Some(pid) => (pid, true),
            None => (tail, false),
        };
        if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if is_old {
            old.push(path);
        } else {
            rest.push(path);
        }
    }
    old.sort();
    if fs::symlink_metadata(target).is_err() {
        if let Some(i) = old.iter().position(|p| p.join(MARKER).is_file()) {
            let back = old.remove(i);
            let _ = fs::rename(&back, target);
        }
    }
    for p in old.iter().chain(&rest) {
        let _ = remove_any(p);
    }
}
