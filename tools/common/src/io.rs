//! Opening inputs and outputs. `-` means stdin or stdout; files written with
//! record content are created 0600 and appear under their final name only
//! once complete (temp file in the same directory, fsync, rename).

use crate::error::{Error, Result};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

const BUFFER: usize = 256 * 1024;

/// An input stream with the name to use in messages.
pub struct Input {
    pub name: String,
    pub reader: Box<dyn Read + Send>,
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input").field("name", &self.name).finish()
    }
}

impl Input {
    /// Drop a UTF-8 byte order mark from the start of the stream, so that
    /// a parser never sees it (a quoted first CSV header stays quoted).
    pub fn skip_bom(self) -> Result<Input> {
        let Input { name, mut reader } = self;
        let mut head = [0u8; 3];
        let mut n = 0;
        while n < head.len() {
            match reader.read(&mut head[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io(format!("reading {name}"), e)),
            }
        }
        let keep = if head[..n] == *b"\xEF\xBB\xBF" { 0 } else { n };
        let prefix = io::Cursor::new(head[..keep].to_vec());
        Ok(Input {
            name,
            reader: Box::new(prefix.chain(reader)),
        })
    }
}

/// The name messages use for standard input.
pub const STDIN_NAME: &str = "<stdin>";

/// Open `path` for reading; `-` (or none) is stdin. A missing or unreadable
/// file is exit 66 naming the path.
pub fn open_input(path: Option<&Path>) -> Result<Input> {
    match path {
        None => Ok(stdin_input()),
        Some(p) if p.as_os_str() == "-" => Ok(stdin_input()),
        Some(p) => {
            let name = p.display().to_string();
            if p.is_dir() {
                return Err(Error::no_input(format!(
                    "{name}: is a directory, not a file"
                )));
            }
            let file = File::open(p).map_err(|e| Error::io(format!("cannot open {name}"), e))?;
            Ok(Input {
                name,
                reader: Box::new(BufReader::with_capacity(BUFFER, file)),
            })
        }
    }
}

fn stdin_input() -> Input {
    Input {
        name: STDIN_NAME.to_string(),
        reader: Box::new(BufReader::with_capacity(BUFFER, io::stdin())),
    }
}

/// Where a tool writes its data: stdout, or a file that appears atomically.
pub enum Output {
    Stdout(BufWriter<io::Stdout>),
    File(AtomicFile),
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Output::Stdout(_) => f.write_str("Output::Stdout"),
            Output::File(a) => write!(f, "Output::File({})", a.path.display()),
        }
    }
}

impl Output {
    /// Stdout for `None` or `-`, else an atomic file with mode 0600.
    pub fn open(path: Option<&Path>) -> Result<Output> {
        match path {
            None => Ok(Output::stdout()),
            Some(p) if p.as_os_str() == "-" => Ok(Output::stdout()),
            Some(p) => Ok(Output::File(AtomicFile::create(p)?)),
        }
    }

    pub fn stdout() -> Output {
        Output::Stdout(BufWriter::with_capacity(BUFFER, io::stdout()))
    }

    /// The name to use in messages.
    pub fn name(&self) -> String {
        match self {
            Output::Stdout(_) => "<stdout>".into(),
            Output::File(a) => a.path.display().to_string(),
        }
    }

    /// Flush stdout, or sync and rename the file into place.
    pub fn finish(self) -> Result<()> {
        match self {
            Output::Stdout(mut w) => w.flush().map_err(|e| Error::write("writing <stdout>", e)),
            Output::File(a) => a.commit(),
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Stdout(w) => w.write(buf),
            Output::File(a) => a.write(buf),
        }
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Output::Stdout(w) => w.write_all(buf),
            Output::File(a) => a.write_all(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Stdout(w) => w.flush(),
            Output::File(a) => a.flush(),
        }
    }
}

/// A file written under a temporary name in its final directory and renamed
/// into place by [`AtomicFile::commit`]. Dropped without a commit, the
/// temporary file is removed and nothing appears under the final name.
pub struct AtomicFile {
    path: PathBuf,
    temp: PathBuf,
    file: Option<BufWriter<File>>,
    /// Set once the temporary file has its final name; until then, Drop
    /// removes it, also when a commit fails halfway (disk full on flush).
    renamed: bool,
}

impl std::fmt::Debug for AtomicFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AtomicFile")
            .field("path", &self.path)
            .finish()
    }
}

impl AtomicFile {
    /// Create `path`'s temporary twin with mode 0600.
    pub fn create(path: &Path) -> Result<AtomicFile> {
        Self::create_with_mode(path, 0o600)
    }

    pub fn create_with_mode(path: &Path, mode: u32) -> Result<AtomicFile> {
        let dir = parent_dir(path);
        let file_name = path
            .file_name()
            .ok_or_else(|| Error::usage(format!("{}: not a file name", path.display())))?;
        let temp = dir.join(format!(
            ".{}.{}.{}.tmp",
            file_name.to_string_lossy(),
            std::process::id(),
            unique_suffix()
        ));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(mode);
        }
        let file = options
            .open(&temp)
            .map_err(|e| Error::write(format!("cannot create {}", path.display()), e))?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            temp,
            file: Some(BufWriter::with_capacity(BUFFER, file)),
            renamed: false,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flush, fsync, rename into place, and fsync the directory.
    pub fn commit(mut self) -> Result<()> {
        let what = || format!("writing {}", self.path.display());
        let Some(writer) = self.file.take() else {
            return Err(Error::software("atomic file committed twice"));
        };
        let file = writer
            .into_inner()
            .map_err(|e| Error::write(what(), e.into_error()))?;
        file.sync_all().map_err(|e| Error::write(what(), e))?;
        drop(file);
        fs::rename(&self.temp, &self.path).map_err(|e| Error::write(what(), e))?;
        self.renamed = true;
        // Make the rename itself durable.
        if let Ok(dir) = File::open(parent_dir(&self.path)) {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    fn writer(&mut self) -> io::Result<&mut BufWriter<File>> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("atomic file already committed"))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer()?.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer()?.write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.writer()?.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.renamed {
            drop(self.file.take());
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Create a folder and its missing parents with mode 0700 (on Unix); a
/// folder that is already there is left as it is. The caller names the
/// folder in its error.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Write `bytes` to `path` atomically with mode 0600.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes)
        .map_err(|e| Error::write(format!("writing {}", path.display()), e))?;
    file.commit()
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn unique_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    nanos ^ (COUNTER.fetch_add(1, Ordering::Relaxed) << 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_file_appears_only_on_commit_with_mode_0600() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("out.csv");
        let mut f = AtomicFile::create(&path)?;
        f.write_all(b"a,b\n")?;
        assert!(!path.exists());
        f.commit()?;
        assert_eq!(fs::read(&path)?, b"a,b\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path)?.permissions().mode() & 0o777, 0o600);
        }
        Ok(())
    }

    #[test]
    fn failed_commit_leaves_no_temp_file() -> Result<()> {
        let dir = tempfile::tempdir()?;
        // Renaming a file onto an existing folder fails after the flush.
        let path = dir.path().join("taken");
        fs::create_dir(&path)?;
        fs::write(path.join("keep"), b"x")?;
        let mut f = AtomicFile::create(&path)?;
        f.write_all(b"patient data")?;
        assert!(f.commit().is_err());
        let names: Vec<_> = fs::read_dir(dir.path())?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("taken")]);
        Ok(())
    }

    #[test]
    fn dropped_atomic_file_leaves_nothing() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("out.csv");
        {
            let mut f = AtomicFile::create(&path)?;
            f.write_all(b"partial")?;
        }
        assert_eq!(fs::read_dir(dir.path())?.count(), 0);
        Ok(())
    }

    #[test]
    fn skip_bom_drops_only_a_bom() -> Result<()> {
        for (raw, want) in [
            (&b"\xEF\xBB\xBF\"a\",b\n"[..], &b"\"a\",b\n"[..]),
            (b"ab", b"ab"),
            (b"", b""),
        ] {
            let input = Input {
                name: "t".into(),
                reader: Box::new(raw),
            }
            .skip_bom()?;
            let mut out = Vec::new();
            input.reader.take(100).read_to_end(&mut out)?;
            assert_eq!(out, want);
        }
        Ok(())
    }

    #[test]
    fn missing_input_is_exit_66() {
        let err = open_input(Some(Path::new("/nonexistent/x.csv"))).map(|_| ());
        assert_eq!(err.map_err(|e| e.code()), Err(66));
    }
}
