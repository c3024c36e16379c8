//! The output folder (`--out`): written whole, or not at all.
//!
//! [`Staged::begin`], before anything is simulated:
//! 1. resolves the folder (`out/.` is `out`; a symbolic link is followed to
//!    the folder it names, which is then replaced, not the link) and refuses
//!    what cannot work: the current folder or one containing it, a dangling
//!    link, a name over 255 bytes, a file;
//! 2. creates missing parent folders (removed again if the run goes no
//!    further);
//! 3. takes the lock `.NAME.lock` beside the folder: a second run into the
//!    same folder meanwhile is refused at once as busy (exit 2) rather than
//!    left to wait behind a run of unknown length;
//! 4. puts right what interrupted runs left (see `recover`);
//! 5. refuses a non-empty folder without the marker, unless `force`;
//! 6. creates the staging folder `.NAME.partial-PID`.
//!
//! [`Staged::commit`] writes the marker, judges the folder in place again
//! (a folder swapped in during the run is not replaced without `force`),
//! then exchanges the staging folder with it in one step
//! (`renameat2(RENAME_EXCHANGE)`), so the output path never goes missing;
//! where that is unsupported, two renames, whose leftovers the next run
//! recovers. The previous output is then removed, and the lock file too.
//!
//! Dropping a [`Staged`] without committing removes the staging folder,
//! the lock file and the parent folders it created.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use super::{io, parent_of, recover, remove_any, stem, sync_dir, sys, OutputError, MARKER, NAME_MAX};

/// A set of output files being prepared; [`Staged::commit`] publishes them.
pub struct Staged {
    /// The folder as the user named it, for messages.
    shown: PathBuf,
    /// The folder, resolved to an absolute path without links.
    target: PathBuf,
    /// `.STEM.partial-PID` beside the target (empty until made, and once moved).
    staging: PathBuf,
    stem: String,
    force: bool,
    lock: Option<Lock>,
    /// Parent folders this run created, outermost first.
    created: Vec<PathBuf>,
    committed: bool,
}

impl Staged {
    /// Prepares to (re)write the folder `target` (see the module notes).
    pub fn begin(target: &Path, force: bool) -> Result<Staged, OutputError> {
        let shown = target.to_path_buf();
        let refused = |reason: String| OutputError::Refused { path: shown.display().to_string(), reason };
        let lexical: PathBuf = target.components().filter(|c| *c != Component::CurDir).collect();
        if lexical.as_os_str().is_empty() {
            return Err(refused("is the current folder, which surgesim would replace as a whole".into()));
        }
        let resolved = absolute(&lexical, true).map_err(refused)?;
        let contains_cwd =
            std::env::current_dir().and_then(fs::canonicalize).is_ok_and(|cwd| cwd.starts_with(&resolved));
        let Some(name) = resolved.file_name().filter(|_| !contains_cwd) else {
            return Err(refused(
                "is the current folder or contains it, which surgesim would replace as a whole".into(),
            ));
        };
        if fs::metadata(&resolved).is_ok_and(|m| !m.is_dir()) {
            return Err(OutputError::NotAFolder { path: shown.display().to_string() });
        }
        let name = name.to_string_lossy().into_owned();
        let parent = parent_of(&resolved).to_path_buf();
        let mut st = Staged {
            stem: stem(name.as_ref()),
            shown,
            target: resolved,
            staging: PathBuf::new(),
            force,
            lock: None,
            created: Vec::new(),
            committed: false,
        };
        // From here on, dropping `st` undoes what was done.
        make_parents(&parent, &mut st.created)?;
        st.lock = Some(Lock::take(&parent.join(format!(".{}.lock", st.stem)), &st.shown)?);
        recover::recover(&parent, &st.stem, &name, &st.target);
        if fs::symlink_metadata(&st.target).is_ok() {
            st.judge(&st.target)?;
        }
        let staging = parent.join(format!(".{}.partial-{}", st.stem, std::process::id()));
        fs::create_dir(&staging).map_err(io(&staging))?;
        st.staging = staging;
        Ok(st)
    }

    /// Writes one file into the staging folder.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<(), OutputError> {
        let p = self.staging.join(name);
        let mut f = File::create(&p).map_err(io(&p))?;
        f.write_all(bytes).map_err(io(&p))?;
        f.sync_all().map_err(io(&p))
    }

    /// Where a file will end up.
    pub fn final_path(&self, name: &str) -> PathBuf {
        self.shown.join(name)
    }

    /// A file's path in the staging folder (for writers that need a path,
    /// e.g. plots, which write it through [`super::write_via_path`]).
    pub fn staging_path(&self, name: &str) -> PathBuf {
        self.staging.join(name)
    }

    /// Runs `write` on the staged folder, then commits it; on an error the
    /// staged files are dropped.
    pub fn finish<E: From<OutputError>>(self, write: impl FnOnce(&Staged) -> Result<(), E>) -> Result<PathBuf, E> {
        write(&self)?;
        Ok(self.commit()?)
    }

    /// Publishes the staged folder in place of the target; returns the
    /// folder as the user named it.
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        self.write(MARKER, b"written by surgesim; this folder is replaced as a whole on the next run\n")?;
        sync_dir(&self.staging);
        self.publish(true)?;
        sync_dir(parent_of(&self.target));
        Ok(self.shown.clone())
    }

    /// Drops the staged files.
    pub fn abort(self) {}

    /// Moves the staging folder into place; `exchange: false` takes the
    /// two-rename fallback even where the exchange is supported.
    fn publish(&mut self, exchange: bool) -> Result<(), OutputError> {
        if fs::symlink_metadata(&self.target).is_err() {
            match fs::rename(&self.staging, &self.target) {
                Ok(()) => {
                    self.moved();
                    return Ok(());
                }
                // Something took the name meanwhile: judged below.
                Err(_) if fs::symlink_metadata(&self.target).is_ok() => {}
                Err(e) => return Err(io(&self.target)(e)),
            }
        }
        // A folder may have been swapped in since `begin`: judged again.
        self.judge(&self.target)?;
        if exchange && sys::exchange(&self.staging, &self.target).map_err(io(&self.target))? {
            // The previous folder is now at the staging path; judged once
            // more, for a swap between the check above and the exchange.
            if let Err(e) = self.judge(&self.staging) {
                return Err(self.undo(e, |st| sys::exchange(&st.staging, &st.target).map(|_| ())));
            }
            let _ = remove_any(&self.staging);
            self.moved();
            return Ok(());
        }
        let parent = parent_of(&self.target);
        let old = parent.join(format!(".{}.partial-{}.old", self.stem, std::process::id()));
        fs::rename(&self.target, &old).map_err(io(&self.target))?;
        if let Err(e) = self.judge(&old) {
            return Err(self.undo(e, |st| fs::rename(&old, &st.target)));
        }
        if let Err(e) = fs::rename(&self.staging, &self.target) {
            return Err(self.undo(io(&self.target)(e), |st| fs::rename(&old, &st.target)));
        }
        let _ = remove_any(&old);
        self.moved();
        Ok(())
    }

    /// Puts the previous folder back after a late refusal.
    fn undo(&mut self, e: OutputError, back: impl FnOnce(&Staged) -> std::io::Result<()>) -> OutputError {
        match back(self) {
            Ok(()) => e,
            Err(reason) => {
                // Never delete what could not be put back.
                self.moved();
                OutputError::Io { path: self.shown.display().to_string(), reason }
            }
        }
    }

    /// The staging folder is gone (published): nothing to clean up but the lock.
    fn moved(&mut self) {
        self.staging = PathBuf::new();
        self.committed = true;
    }

    /// Refuses to replace `path` unless it is a folder that is empty or
    /// has the marker (any folder, with `force`).
    fn judge(&self, path: &Path) -> Result<(), OutputError> {
        let m = fs::symlink_metadata(path).map_err(io(path))?;
        if !m.is_dir() {
            return Err(OutputError::NotAFolder { path: self.shown.display().to_string() });
        }
        if self.force {
            return Ok(());
        }
        let ours = path.join(MARKER).is_file();
        let empty = fs::read_dir(path).map_err(io(path))?.next().is_none();
        if ours || empty {
            Ok(())
        } else {
            Err(OutputError::Foreign { path: self.shown.display().to_string() })
        }
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.staging.as_os_str().is_empty() {
            let _ = remove_any(&self.staging);
        }
        self.lock = None;
        if !self.committed {
            for d in self.created.iter().rev() {
                let _ = fs::remove_dir(d);
            }
        }
    }
}

/// `path` made absolute with its links resolved, when it or its nearest
/// existing ancestor exists; the error is a reason for refusing it.
fn absolute(path: &Path, top: bool) -> Result<PathBuf, String> {
    if let Some(Component::Normal(name)) = path.components().next_back() {
        let len = name.as_encoded_bytes().len();
        if len > NAME_MAX {
            let short: String = name.to_string_lossy().chars().take(24).collect();
            return Err(format!(
                "has a name of {len} bytes ({short}…), over the {NAME_MAX} that file systems allow \
                 (a long scenario name makes a long default folder name)"
            ));
        }
    }
    match fs::symlink_metadata(path) {
        Ok(m) => fs::canonicalize(path).map_err(|e| {
            if m.file_type().is_symlink() {
                let to = fs::read_link(path).map_or_else(|_| "?".into(), |t| t.display().to_string());
                let what = if top { "is".to_string() } else { format!("lies under {}, which is", path.display()) };
                format!("{what} a symbolic link to {to}, which does not exist")
            } else {
                format!("cannot be resolved: {e}")
            }
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let Some(Component::Normal(name)) = path.components().next_back() else {
                return Err("cannot be resolved".into());
            };
            Ok(absolute(parent_of(path), false)?.join(name))
        }
        Err(e) => Err(format!("cannot be resolved: {e}")),
    }
}

/// Creates the missing folders of `dir`, outermost first, recording each.
fn make_parents(dir: &Path, created: &mut Vec<PathBuf>) -> Result<(), OutputError> {
    let mut missing = Vec::new();
    let mut p = Some(dir);
    while let Some(d) = p.filter(|d| !d.as_os_str().is_empty() && fs::symlink_metadata(d).is_err()) {
        missing.push(d.to_path_buf());
        p = d.parent();
    }
    for d in missing.into_iter().rev() {
        match fs::create_dir(&d) {
            Ok(()) => created.push(d),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io(&d)(e)),
        }
    }
    Ok(())
}

/// The lock on an output folder: `.STEM.lock` beside it, locked with
/// `flock` and holding the owner's process id (for the busy message).
/// Released (and the file removed) on drop, or by the system if the
/// process dies; a leftover lock file is simply reused.
struct Lock {
    _file: File,
    path: PathBuf,
}

impl Lock {
    fn take(path: &Path, shown: &Path) -> Result<Lock, OutputError> {
        let busy = |pid| OutputError::Busy { path: shown.display().to_string(), pid };
        // A holder removes the file before releasing it: a lock won on a
        // file no longer at `path` is worth nothing, so open it again.
        for _ in 0..100 {
            let mut file =
                OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path).map_err(io(path))?;
            if !sys::try_lock(&file).map_err(io(path))? {
                let mut s = String::new();
                let _ = (&file).take(16).read_to_string(&mut s);
                return Err(busy(s.trim().parse().ok()));
            }
            if sys::is_file_at(&file, path) {
                let _ = file.set_len(0).and_then(|()| writeln!(file, "{}", std::process::id()));
                return Ok(Lock { _file: file, path: path.to_path_buf() });
            }
        }
        Err(busy(None))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still held (the file closes after this).
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    fn publish_with(dir: &Path, text: &str, exchange: bool) -> Result<PathBuf, OutputError> {
        let mut st = Staged::begin(&dir.join("out"), false)?;
        st.write("a.txt", text.as_bytes())?;
        st.write(MARKER, b"x")?;
        st.publish(exchange)?;
        Ok(dir.join("out"))
    }

    #[test]
    fn the_fallback_replaces_the_folder_and_leaves_nothing() {
        let tmp = tempfile::TempDir::new().unwrap();
        publish_with(tmp.path(), "one", false).unwrap();
        publish_with(tmp.path(), "two", false).unwrap();
        assert_eq!(fs::read_to_string(tmp.path().join("out/a.txt")).unwrap(), "two");
        assert_eq!(names(tmp.path()), ["out"]);
    }

    #[test]
    fn the_fallback_puts_back_a_folder_swapped_in_during_the_run() {
        let tmp = tempfile::TempDir::new().unwrap();
        publish_with(tmp.path(), "one", true).unwrap();
        let mut st = Staged::begin(&tmp.path().join("out"), false).unwrap();
        st.write("a.txt", b"two").unwrap();
        fs::remove_dir_all(tmp.path().join("out")).unwrap();
        fs::create_dir(tmp.path().join("out")).unwrap();
        fs::write(tmp.path().join("out/mine.txt"), "mine").unwrap();
        assert!(matches!(st.publish(false), Err(OutputError::Foreign { .. })));
        drop(st);
        assert_eq!(names(&tmp.path().join("out")), ["mine.txt"]);
        assert_eq!(names(tmp.path()), ["out"]);
    }
}
