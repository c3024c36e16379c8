//! The system calls behind atomic outputs: `flock` for the output folder's
//! lock, and `renameat2(RENAME_EXCHANGE)` to swap a staged folder with the
//! old one in a single step (Linux). Elsewhere the exchange reports itself
//! unsupported and the caller falls back to two renames.

use std::fs::File;
use std::io;
use std::path::Path;

/// Takes an exclusive lock on `file` without waiting: `false` when another
/// process holds it. The lock ends when the file is closed, also when the
/// process is killed.
#[cfg(unix)]
pub fn try_lock(file: &File) -> io::Result<bool> {
    use std::os::unix::io::AsRawFd;
    loop {
        // SAFETY: flock on a descriptor this File owns; no memory is passed.
        let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if r == 0 {
            return Ok(true);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EWOULDBLOCK) => return Ok(false),
            _ => return Err(e),
        }
    }
}

#[cfg(not(unix))]
pub fn try_lock(_file: &File) -> io::Result<bool> {
    Ok(true)
}

/// Whether the open `file` is the file at `path` now (it was not unlinked
/// or replaced since it was opened).
#[cfg(unix)]
pub fn is_file_at(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
pub fn is_file_at(_file: &File, path: &Path) -> bool {
    path.exists()
}

/// Swaps the entries `a` and `b` (both must exist) atomically. `Ok(false)`
/// when the system or file system cannot: the caller renames instead.
#[cfg(target_os = "linux")]
pub fn exchange(a: &Path, b: &Path) -> io::Result<bool> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let a = CString::new(a.as_os_str().as_bytes())?;
    let b = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: two NUL-terminated paths that outlive the call. The raw
    // system call, so that glibc older than 2.28 (no wrapper) links too.
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        return Ok(true);
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP) => Ok(false),
        _ => Err(e),
    }
}

#[cfg(not(target_os = "linux"))]
pub fn exchange(_a: &Path, _b: &Path) -> io::Result<bool> {
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchange_swaps_two_folders() {
        let tmp = tempfile::TempDir::new().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        std::fs::create_dir(&a).unwrap();
        std::fs::create_dir(&b).unwrap();
        std::fs::write(a.join("x"), "from a").unwrap();
        if exchange(&a, &b).unwrap() {
            assert!(b.join("x").is_file() && !a.join("x").exists());
        }
    }

    #[test]
    fn a_second_lock_on_the_same_file_is_refused() {
        let tmp = tempfile::TempDir::new().unwrap();
        let p = tmp.path().join("lock");
        let first = File::create(&p).unwrap();
        let second = File::open(&p).unwrap();
        assert!(try_lock(&first).unwrap());
        assert!(!try_lock(&second).unwrap());
        drop(first);
        assert!(try_lock(&second).unwrap());
        assert!(is_file_at(&second, &p));
        std::fs::remove_file(&p).unwrap();
        assert!(!is_file_at(&second, &p));
    }
}
