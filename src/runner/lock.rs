//! One writer per run directory: every command that writes a run directory (`run`, `run --resume`,
//! `rescore`, `merge --out`) holds an exclusive lock on `DIR/.evalrun.lock` for its whole life.
//!
//! The lock is the operating system's (`flock` / `LockFileEx`, through fs4), so it vanishes with the
//! process: a lock file left by a killed run is no obstacle. The file holds the holder's process id,
//! only to name it when a second writer is refused (exit 2). The file is never removed: removing it
//! would let a third process lock a fresh file while a second still waits on the old one.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use fs4::{FileExt, TryLockError};

use crate::error::UsageError;

/// The lock file's name inside a run directory.
pub const LOCK_FILE: &str = ".evalrun.lock";

/// An exclusive lock on a run directory, released when dropped (or when the process ends).
#[derive(Debug)]
pub struct RunLock {
    // Kept open: closing the file would release the lock.
    _file: File,
    dir: PathBuf,
}

impl RunLock {
    /// Lock the existing directory `dir`, or refuse (a [`UsageError`], exit 2) naming it and the
    /// process that holds it.
    pub fn acquire(dir: &Path) -> Result<RunLock> {
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open the lock file {}", path.display()))?;
        // `FileExt::try_lock`, not std's inherent method (Rust 1.89, above our rust-version).
        match FileExt::try_lock(&file) {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let holder = match pid.trim() {
                    "" => "another evalrun process".to_string(),
                    pid => format!("another evalrun process (pid {pid})"),
                };
                return Err(UsageError::new(format!(
                    "{} is being written by {holder}; wait for it to end, or write to another --out \
                     (lock file {})",
                    dir.display(),
                    path.display()
                ))
                .into());
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", path.display()))
            }
        }
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| writeln!(file, "{}", std::process::id()))
            .and_then(|()| file.flush())
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(RunLock {
            _file: file,
            dir: dir.to_path_buf(),
        })
    }

    /// Create the run directory `dir` when missing (a usage error when it names a file), then lock it.
    pub fn create(dir: &Path, flag: &str) -> Result<RunLock> {
        ensure_dir(dir, flag)?;
        RunLock::acquire(dir)
    }

    /// The locked run directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Create the run directory `dir` when missing; an existing file of that name is a usage error
/// naming `flag` (exit 2).
pub fn ensure_dir(dir: &Path, flag: &str) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(UsageError::new(format!(
            "{flag} {}: a file of that name exists; {flag} names a run directory",
            dir.display()
        ))
        .into());
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("could not create run directory {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_naming_the_holder_and_freed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let first = RunLock::acquire(dir.path()).unwrap();
        let err = RunLock::acquire(dir.path()).unwrap_err();
        let msg = format!("{err:#}");
        assert!(err.is::<UsageError>(), "{msg}");
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        assert!(msg.contains(&dir.path().display().to_string()), "{msg}");
        drop(first);
        let again = RunLock::acquire(dir.path()).unwrap();
        assert_eq!(again.dir(), dir.path());
    }

    #[test]
    fn a_file_where_the_directory_should_be_is_a_usage_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("taken");
        std::fs::write(&file, "x").unwrap();
        let err = RunLock::create(&file, "--out").unwrap_err();
        assert!(err.is::<UsageError>());
        assert!(format!("{err}").contains("--out"), "{err}");
    }
}
