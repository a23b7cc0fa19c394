//! Copies of the index kept in a backup folder, like SIPCA's log folder.

use common::{Error, Result};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Copy the index into `dir` as `<YYYY-MM-DD_HHMMSS>_<stem>_<suffix>.json`
/// (a numbered name if that is taken; never overwriting), mode 0600.
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
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = match options.open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(Error::write(
                    format!("cannot create the backup {}", path.display()),
                    e,
                ));
            }
        };
        let what = || format!("writing the backup {}", path.display());
        let mut out = BufWriter::new(file);
        copy(&mut source, &mut out).map_err(|e| Error::write(what(), e))?;
        let file = out
            .into_inner()
            .map_err(|e| Error::write(what(), e.into_error()))?;
        file.sync_all().map_err(|e| Error::write(what(), e))?;
        return Ok(Some(path));
    }
    Err(Error::software("no free backup name"))
}

fn copy(source: &mut File, out: &mut impl Write) -> io::Result<u64> {
    let mut reader = BufReader::with_capacity(256 * 1024, source);
    let mut buf = [0u8; 64 * 1024];
    let mut total = 0;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            return Ok(total);
        }
        out.write_all(&buf[..n])?;
        total += n as u64;
    }
}

fn create_private_dir(dir: &Path) -> Result<()> {
    common::io::create_private_dir(dir)
        .map_err(|e| Error::write(format!("cannot create {}", dir.display()), e))
}
