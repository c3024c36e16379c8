//! One way to write every file surgesim writes, atomically: a reader sees
//! the old file (or folder) or the new one, never a half-written one.
//!
//! - [`file`]: single files named by the user (`--json`, `--junit`,
//!   `--write-baseline`, `trace -o`) and the plots: written to a temporary
//!   sibling, then renamed into place. A device, FIFO or socket is written
//!   through (never replaced); a symbolic link's target is replaced, never
//!   the link.
//! - [`folder`]: output folders (`--out`): written into a staging folder
//!   beside them, under a lock, then exchanged with the old folder in one
//!   step.
//! - `recover`: what an interrupted run left beside an output folder, put
//!   right by the next run into it.
//! - `sys`: the system calls behind them (`flock`, `renameat2`).
//!
//! Every file is created with mode 0666 and every folder with 0777, less
//! the umask, as a newly created file or folder would be.

pub mod file;
pub mod folder;
mod recover;
mod sys;

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::Path;

use sha2::{Digest, Sha256};

pub use file::{write_file, write_via_path, write_with};
pub use folder::Staged;

/// A marker file identifying a folder surgesim wrote (and may replace).
pub const MARKER: &str = ".surgesim-output";

/// The longest file name (one path component, in bytes) file systems allow.
pub const NAME_MAX: usize = 255;

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("output folder {path} exists and was not written by surgesim (no {MARKER} in it): refusing to replace it; choose another --out or pass --force")]
    Foreign { path: String },
    #[error("cannot write {path}: {reason}")]
    Io { path: String, reason: std::io::Error },
    #[error("output path {path} is a file, not a folder: choose another --out")]
    NotAFolder { path: String },
    #[error("cannot write {path}: it is a folder, not a file; choose a file name")]
    NotAFile { path: String },
    #[error("output folder {path} is being written by another surgesim run{}: wait for it to finish or choose another --out", pid.map_or(String::new(), |p| format!(" (process {p})")))]
    Busy { path: String, pid: Option<u32> },
    #[error("output folder {path} {reason}: choose another --out")]
    Refused { path: String, reason: String },
}

impl OutputError {
    /// The file or folder the error is about, as named to the user.
    pub fn path(&self) -> &str {
        match self {
            OutputError::Foreign { path }
            | OutputError::Io { path, .. }
            | OutputError::NotAFolder { path }
            | OutputError::NotAFile { path }
            | OutputError::Busy { path, .. }
            | OutputError::Refused { path, .. } => path,
        }
    }
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |reason| OutputError::Io { path: path.display().to_string(), reason }
}

/// The folder `path` is in (`.` for a bare name).
pub(crate) fn parent_of(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// The stem of the hidden names made beside `name` (`.STEM.partial-…`,
/// `.STEM.lock`): the name itself or, past 200 bytes, its first 180 bytes
/// and a digest of the whole, so that the names stay under [`NAME_MAX`].
pub(crate) fn stem(name: &OsStr) -> String {
    let name = name.to_string_lossy();
    if name.len() <= 200 {
        return name.into_owned();
    }
    let mut cut = 180;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    let digest = Sha256::digest(name.as_bytes());
    let mut s = format!("{}~", &name[..cut]);
    for b in &digest[..6] {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Removes a file, a link or a whole folder at `path`.
pub(crate) fn remove_any(path: &Path) -> std::io::Result<()> {
    if std::fs::symlink_metadata(path)?.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
}

/// Flushes a folder's entries (a rename) to disk; best effort.
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_get_a_short_distinct_stem() {
        assert_eq!(stem(OsStr::new("out")), "out");
        let a = "a".repeat(250);
        let b = format!("{}b", "a".repeat(249));
        assert!(stem(OsStr::new(&a)).len() + ".partial-4294967295.old".len() < NAME_MAX);
        assert_ne!(stem(OsStr::new(&a)), stem(OsStr::new(&b)));
        let wide = "é".repeat(120);
        assert!(stem(OsStr::new(&wide)).len() < 200);
    }
}
