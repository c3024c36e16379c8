//! Reports: the files and tables derived from an [`Aggregate`].
//!
//! Files are written atomically: a run's files are written into a fresh
//! staging folder next to the output folder, which then replaces the output
//! folder with a rename. An interrupted run leaves at most a staging folder
//! (named `.DIR.partial-*`), never a half-written result that looks whole.

pub mod causes;
pub mod html;
pub mod json;
pub mod markdown;
pub mod plot;
pub mod table;
pub mod timeseries;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A marker file identifying a folder surgesim wrote (and may replace).
pub const MARKER: &str = ".surgesim-output";

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("output folder {path} exists and was not written by surgesim (no {MARKER} in it): refusing to replace it; choose another --out or pass --force")]
    Foreign { path: String },
    #[error("cannot write {path}: {reason}")]
    Io { path: String, reason: std::io::Error },
    #[error("output path {path} is a file, not a folder: choose another --out")]
    NotAFolder { path: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |reason| OutputError::Io { path: path.display().to_string(), reason }
}

/// A set of output files being prepared; [`Staged::commit`] publishes them.
pub struct Staged {
    target: PathBuf,
    staging: PathBuf,
}

impl Staged {
    /// Prepares to (re)write the folder `target`. Refuses a folder that
    /// exists, is not empty and lacks the marker, unless `force`.
    pub fn begin(target: &Path, force: bool) -> Result<Staged, OutputError> {
        if target.exists() && !target.is_dir() {
            return Err(OutputError::NotAFolder { path: target.display().to_string() });
        }
        if target.exists() && !force {
            let ours = target.join(MARKER).exists();
            let empty = fs::read_dir(target).map_err(io(target))?.next().is_none();
            if !ours && !empty {
                return Err(OutputError::Foreign { path: target.display().to_string() });
            }
        }
        let parent = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        fs::create_dir_all(parent).map_err(io(parent))?;
        let base = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
        let staging = parent.join(format!(".{base}.partial-{}", std::process::id()));
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(io(&staging))?;
        }
        fs::create_dir_all(&staging).map_err(io(&staging))?;
        Ok(Staged { target: target.to_path_buf(), staging })
    }

    /// Writes one file into the staging folder.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<(), OutputError> {
        let p = self.staging.join(name);
        let mut f = fs::File::create(&p).map_err(io(&p))?;
        f.write_all(bytes).map_err(io(&p))?;
        f.sync_all().map_err(io(&p))
    }

    /// Where a file will end up.
    pub fn final_path(&self, name: &str) -> PathBuf {
        self.target.join(name)
    }

    /// The staging folder (for writers that need a path, e.g. plots).
    pub fn staging_path(&self, name: &str) -> PathBuf {
        self.staging.join(name)
    }

    /// Publishes the staged folder in place of the target.
    pub fn commit(self) -> Result<PathBuf, OutputError> {
        self.write(MARKER, b"written by surgesim; this folder is replaced as a whole on the next run\n")?;
        if self.target.exists() {
            let old = self.staging.with_extension("old");
            fs::rename(&self.target, &old).map_err(io(&self.target))?;
            fs::rename(&self.staging, &self.target).map_err(io(&self.target))?;
            fs::remove_dir_all(&old).map_err(io(&old))?;
        } else {
            fs::rename(&self.staging, &self.target).map_err(io(&self.target))?;
        }
        Ok(self.target.clone())
    }

    /// Drops the staged files.
    pub fn abort(self) {
        let _ = fs::remove_dir_all(&self.staging);
    }
}

/// Formats a float for CSV/terminal: the shortest exact form, integers
/// without a fraction.
pub fn num(v: f64) -> String {
    if v.is_nan() {
        return String::new();
    }
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Rounds to `digits` significant digits for display.
pub fn sig(v: f64, digits: usize) -> String {
    if v == 0.0 || !v.is_finite() {
        return num(v);
    }
    let mag = v.abs().log10().floor() as i32;
    let decimals = (digits as i32 - 1 - mag).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}
