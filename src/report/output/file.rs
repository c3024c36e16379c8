//! Writing one file atomically: into a fresh temporary sibling
//! (`.NAME.partial-PID-N`), flushed to disk, then renamed over the target,
//! so a failed or interrupted write never leaves a half-written file under
//! the final name.
//!
//! What the target is decides how:
//! - absent or a regular file: replaced as above;
//! - a symbolic link: its target is written as above; the link stays;
//! - a device, FIFO or socket (`/dev/null`, `/dev/stdout`, a named pipe):
//!   written through in place, never replaced by a regular file;
//! - a folder: refused.
//!
//! Temporary files are created like any new file: mode 0666 less the umask
//! (so the renamed file has the mode the umask gives a new file).

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::{io, parent_of, stem, sync_dir, OutputError};

/// Writes `bytes` to `path` (see the module notes).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    write_with(path, |w| w.write_all(bytes).map_err(io(path)))
}

/// Writes `path` with `write`, which gets a buffered writer. On an error
/// from `write`, the target is left as it was (unless it is written
/// through: a FIFO or device has then had part of the output).
pub fn write_with<T, E: From<OutputError>>(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<T, E>,
) -> Result<T, E> {
    match destination(path)? {
        Dest::Through(p) => {
            let file = OpenOptions::new().write(true).open(&p).map_err(io(&p))?;
            let mut w = BufWriter::new(file);
            let t = write(&mut w)?;
            w.flush().map_err(io(&p))?;
            Ok(t)
        }
        Dest::Replace(p) => {
            let (tmp, file) = Temp::beside(&p, None)?;
            let mut w = BufWriter::new(file);
            let t = write(&mut w)?;
            let file = w.into_inner().map_err(|e| io(&p)(e.into_error()))?;
            file.sync_all().map_err(io(&p))?;
            drop(file);
            tmp.rename_to(&p)?;
            Ok(t)
        }
    }
}

/// Writes `path` through a writer that needs a path of its own, such as
/// plotters' `BitMapBackend` (which picks the encoder from the extension):
/// `write` gets a fresh temporary path ending in `.ext`, which then
/// replaces `path` (or is copied into it, for a device or FIFO).
pub fn write_via_path<T, E: From<OutputError>>(
    path: &Path,
    ext: &str,
    write: impl FnOnce(&Path) -> Result<T, E>,
) -> Result<T, E> {
    match destination(path)? {
        Dest::Through(p) => {
            let (tmp, file) = Temp::beside(&std::env::temp_dir().join("surgesim"), Some(ext))?;
            drop(file);
            let t = write(&tmp.0)?;
            let bytes = fs::read(&tmp.0).map_err(io(&tmp.0))?;
            drop(tmp);
            write_with(&p, |w| w.write_all(&bytes).map_err(io(&p)))?;
            Ok(t)
        }
        Dest::Replace(p) => {
            let (tmp, file) = Temp::beside(&p, Some(ext))?;
            drop(file);
            let t = write(&tmp.0)?;
            File::open(&tmp.0).and_then(|f| f.sync_all()).map_err(io(&p))?;
            tmp.rename_to(&p)?;
            Ok(t)
        }
    }
}

/// How a target is written.
enum Dest {
    /// A device, FIFO or socket: opened and written in place.
    Through(PathBuf),
    /// A regular file or nothing (the final path, links followed): replaced.
    Replace(PathBuf),
}

fn destination(path: &Path) -> Result<Dest, OutputError> {
    match fs::metadata(path) {
        Ok(m) if m.is_dir() => Err(OutputError::NotAFile { path: path.display().to_string() }),
        Ok(m) if !m.is_file() => Ok(Dest::Through(path.to_path_buf())),
        Ok(_) if is_link(path) => Ok(Dest::Replace(fs::canonicalize(path).map_err(io(path))?)),
        Ok(_) => Ok(Dest::Replace(path.to_path_buf())),
        Err(e) if e.kind() == io::ErrorKind::NotFound && is_link(path) => Ok(Dest::Replace(link_end(path)?)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => match path.file_name() {
            Some(_) => Ok(Dest::Replace(path.to_path_buf())),
            None => Err(OutputError::NotAFile { path: path.display().to_string() }),
        },
        Err(e) => Err(io(path)(e)),
    }
}

fn is_link(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Where a chain of symbolic links ends (a path that does not exist yet).
fn link_end(path: &Path) -> Result<PathBuf, OutputError> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        if !is_link(&p) {
            return Ok(p);
        }
        let to = fs::read_link(&p).map_err(io(&p))?;
        p = if to.is_absolute() { to } else { parent_of(&p).join(to) };
    }
    Err(io(path)(io::Error::other("too many levels of symbolic links")))
}

/// A temporary file, removed on drop unless renamed into place.
struct Temp(PathBuf);

impl Temp {
    /// A new file `.NAME.partial-PID-N[.ext]` in the folder of `path`.
    fn beside(path: &Path, ext: Option<&str>) -> Result<(Temp, File), OutputError> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let dir = parent_of(path);
        let name = stem(path.file_name().unwrap_or(path.as_os_str()));
        let ext = ext.map_or(String::new(), |e| format!(".{e}"));
        loop {
            let seq = SEQ.fetch_add(1, Ordering::Relaxed);
            let tmp = dir.join(format!(".{name}.partial-{}-{seq}{ext}", std::process::id()));
            // OpenOptions creates files with mode 0666 less the umask.
            match OpenOptions::new().write(true).create_new(true).open(&tmp) {
                Ok(f) => return Ok((Temp(tmp), f)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io(path)(e)),
            }
        }
    }

    fn rename_to(mut self, path: &Path) -> Result<(), OutputError> {
        fs::rename(&self.0, path).map_err(io(path))?;
        self.0 = PathBuf::new();
        sync_dir(parent_of(path));
        Ok(())
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.0.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.0);
        }
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

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let tmp = tempfile::TempDir::new().unwrap();
        let p = tmp.path().join("a.json");
        write_file(&p, b"old").unwrap();
        let r: Result<(), OutputError> = write_with(&p, |w| {
            w.write_all(b"half").map_err(io(&p))?;
            Err(io(&p)(io::Error::other("disk on fire")))
        });
        assert!(r.is_err());
        assert_eq!(fs::read(&p).unwrap(), b"old");
        assert_eq!(names(tmp.path()), ["a.json"]);
    }

    #[test]
    fn a_link_is_kept_and_its_target_replaced() {
        let tmp = tempfile::TempDir::new().unwrap();
        let real = tmp.path().join("real.json");
        let link = tmp.path().join("link.json");
        fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink("real.json", &link).unwrap();
        write_file(&link, b"new").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read(&real).unwrap(), b"new");
        // A dangling link: its target is created.
        let dangling = tmp.path().join("d.json");
        std::os::unix::fs::symlink("made.json", &dangling).unwrap();
        write_file(&dangling, b"made").unwrap();
        assert_eq!(fs::read(tmp.path().join("made.json")).unwrap(), b"made");
        assert_eq!(names(tmp.path()), ["d.json", "link.json", "made.json", "real.json"]);
    }

    #[test]
    fn via_path_gets_a_path_with_the_extension() {
        let tmp = tempfile::TempDir::new().unwrap();
        let p = tmp.path().join("plot.picture");
        write_via_path(&p, "png", |t: &Path| -> Result<(), OutputError> {
            assert_eq!(t.extension().unwrap(), "png");
            fs::write(t, b"pixels").map_err(io(t))
        })
        .unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"pixels");
        assert_eq!(names(tmp.path()), ["plot.picture"]);
    }

    #[test]
    fn a_folder_is_refused() {
        let tmp = tempfile::TempDir::new().unwrap();
        assert!(matches!(write_file(tmp.path(), b"x"), Err(OutputError::NotAFile { .. })));
    }
}
