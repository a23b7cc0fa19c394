//! Copies of the index kept in a backup folder, like SIPCA's log folder.

use common::io::AtomicFile;
use common::{Error, Result};
use std::fs::File;
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};

/// Copy the index into `dir` as `<YYYY-MM-DD_HHMMSS>_<stem>_<suffix>.json`
/// (a numbered name if that is taken; never overwriting), mode 0600,
/// appearing under its name only once complete.
/// `dir` is created with mode 0700. A missing index is not copied.
pub fn backup(index: &Path, dir: &Path, suffix: &str) -> Result<Option<PathBuf>> {
    let mut source = match File::open(index) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::io(
                format!("cannot open the index {}", index.display()),
                e,
            ));
        }
    };
    create_private_dir(dir)?;
    let stem = index
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "index".into());
    let date = chrono::Local::now().format("%Y-%m-%d_%H%M%S");
    let base = format!("{date}_{stem}_{suffix}");
    for n in 0u32.. {
        let name = match n {
            0 => format!("{base}.json"),
            n => format!("{base}.{n}.json"),
        };
        let path = dir.join(name);
        if path.symlink_metadata().is_ok() {
            continue;
        }
        // Under a temp name until complete, then linked in without
        // replacing anything: a run killed halfway leaves no short copy.
        let mut copy = AtomicFile::create(&path)?;
        io::copy(
            &mut BufReader::with_capacity(256 * 1024, &mut source),
            &mut copy,
        )
        .map_err(|e| Error::write(format!("writing the backup {}", path.display()), e))?;
        copy.commit_new()?;
        return Ok(Some(path));
    }
    Err(Error::software("no free backup name"))
}

fn create_private_dir(dir: &Path) -> Result<()> {
    common::io::create_private_dir(dir)
        .map_err(|e| Error::write(format!("cannot create {}", dir.display()), e))
}
