//! A lock on a state file or folder, held for the length of a run.

use crate::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// An exclusive advisory lock (flock) on a lock file. Released on drop,
/// and by the kernel if the process dies, so a crash never leaves it stuck.
#[derive(Debug)]
pub struct StateLock {
    _file: File,
    path: PathBuf,
}

impl StateLock {
    /// Take the lock at `path` without waiting. If another run holds it,
    /// that is exit 75 (temporary: rerun later) with a one-line message.
    pub fn acquire(path: &Path) -> Result<StateLock> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| Error::write(format!("cannot open lock {}", path.display()), e))?;
        match file.try_lock() {
            Ok(()) => Ok(StateLock {
                _file: file,
                path: path.to_path_buf(),
            }),
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::temp_fail(format!(
                "{} is locked by another run; try again when it has finished",
                path.display()
            ))),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(Error::write(format!("cannot lock {}", path.display()), e))
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_with_75_until_released() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join(".lock");
        let first = StateLock::acquire(&path)?;
        assert_eq!(
            StateLock::acquire(&path).map(|_| ()).map_err(|e| e.code()),
            Err(75)
        );
        drop(first);
        assert!(StateLock::acquire(&path).is_ok());
        Ok(())
    }
}
