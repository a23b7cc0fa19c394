//! Opening inputs and outputs. `-` means stdin or stdout; files written with
//! record content are created 0600 and appear under their final name only
//! once complete (temp file in the same directory, fsync, rename). The temp
//! files an interrupted run left in a folder are removed by the next run
//! that writes there.

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
        remove_stale_temp_files(&dir);
        let tag = format!("{}.{:016x}", std::process::id(), unique_suffix());
        let temp = dir.join(temp_name(&file_name.to_string_lossy(), &tag, TEMP_KIND));
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
        // Held until the file has its final name: a temp file nobody holds
        // locked was left by a run that died (see remove_stale_temp_files).
        // Where the file system has no locks, the pid and the age decide.
        let _ = file.try_lock();
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
    pub fn commit(self) -> Result<()> {
        self.publish(|temp, path| fs::rename(temp, path))
    }

    /// Like [`AtomicFile::commit`], but never replacing a file already
    /// under the final name: that is an error (74), and the temp file is
    /// removed.
    pub fn commit_new(self) -> Result<()> {
        self.publish(|temp, path| {
            fs::hard_link(temp, path)?;
            fs::remove_file(temp)
        })
    }

    fn publish(mut self, put: impl Fn(&Path, &Path) -> io::Result<()>) -> Result<()> {
        let what = || format!("writing {}", self.path.display());
        let Some(writer) = self.file.take() else {
            return Err(Error::software("atomic file committed twice"));
        };
        let file = writer
            .into_inner()
            .map_err(|e| Error::write(what(), e.into_error()))?;
        file.sync_all().map_err(|e| Error::write(what(), e))?;
        // The lock stays until the name is final, so that no cleaner takes
        // a complete file for an abandoned one.
        put(&self.temp, &self.path).map_err(|e| Error::write(what(), e))?;
        self.renamed = true;
        drop(file);
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

/// The folder a file is in: `.` for a bare name.
pub fn parent_dir(path: &Path) -> PathBuf {
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

/// The longest file name (in bytes) that Linux file systems, and SFTP
/// servers on them, take.
pub const NAME_MAX: usize = 255;

/// The last part of an [`AtomicFile`]'s temp name.
const TEMP_KIND: &str = "tmp";

/// A hidden name beside `name` for a file not yet complete,
/// `.NAME.TAG.KIND`; when that would pass [`NAME_MAX`] bytes, NAME is cut
/// (on a character boundary) so that it fits, and TAG and KIND are kept
/// whole. So a temp name fits wherever the final name fits.
pub fn temp_name(name: &str, tag: &str, kind: &str) -> String {
    let room = NAME_MAX.saturating_sub(tag.len() + kind.len() + 3);
    format!(".{}.{tag}.{kind}", cut_to_bytes(name, room))
}

/// The longest start of `text` of at most `max` bytes that ends on a
/// character boundary.
fn cut_to_bytes(text: &str, max: usize) -> &str {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The pid in an [`AtomicFile`] temp name, `.NAME.PID.SUFFIX.tmp` (SUFFIX
/// hex digits); None for any other name.
fn temp_file_pid(file_name: &str) -> Option<u32> {
    let rest = file_name
        .strip_prefix('.')?
        .strip_suffix(TEMP_KIND)?
        .strip_suffix('.')?;
    let (rest, suffix) = rest.rsplit_once('.')?;
    let (_name, pid) = rest.rsplit_once('.')?;
    let hex =
        !suffix.is_empty() && suffix.len() <= 20 && suffix.bytes().all(|b| b.is_ascii_hexdigit());
    let digits = !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit());
    if hex && digits {
        pid.parse().ok()
    } else {
        None
    }
}

/// How old a temp file with no lock on it must be before it counts as
/// abandoned although its pid is running (the pid was reused, or its
/// writer is between creating and locking it).
const ABANDONED_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Remove the temp files that runs killed while writing left in `dir`:
/// names of [`AtomicFile`]'s pattern that no running writer holds locked,
/// whose pid is no longer running (or that are older than a minute: a pid
/// can be reused). Done once per folder per process, quietly: a file that
/// cannot be removed is left for a later run. The number removed.
pub fn remove_stale_temp_files(dir: &Path) -> usize {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static CLEANED: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    let cleaned = CLEANED.get_or_init(|| Mutex::new(HashSet::new()));
    let first_time = cleaned
        .lock()
        .map(|mut done| done.insert(dir.to_path_buf()))
        .unwrap_or(false);
    if !first_time {
        return 0;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(|entry| entry.ok())
        .filter(|entry| {
            let name = entry.file_name();
            let Some(pid) = name.to_str().and_then(temp_file_pid) else {
                return false;
            };
            let path = entry.path();
            is_abandoned(&path, pid) && fs::remove_file(&path).is_ok()
        })
        .count()
}

/// A regular file that no process holds locked, whose writer is gone.
fn is_abandoned(path: &Path, pid: u32) -> bool {
    let Ok(meta) = path.symlink_metadata() else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    let Ok(file) = File::open(path) else {
        return false;
    };
    if file.try_lock().is_err() {
        return false;
    }
    let old = meta
        .modified()
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age > ABANDONED_AFTER);
    old || !process_running(pid)
}

/// A private folder (0700) for a run's scratch files with record content,
/// in `$TMPDIR` under a temp name of the tool's, `.TOOL.PID.SUFFIX.tmp`,
/// removed with everything in it when dropped. Its `.lock` file is held
/// locked while it lives, so that [`TempFolder::create`] can remove the
/// folders that runs of the same tool killed before their end left behind
/// (no lock held, and their pid gone or older than a minute), which would
/// otherwise keep patient data in `$TMPDIR` for good.
#[derive(Debug)]
pub struct TempFolder {
    path: PathBuf,
    _lock: File,
}

/// The lock file inside a [`TempFolder`].
const TEMP_FOLDER_LOCK: &str = ".lock";

impl TempFolder {
    /// Create the folder of `tool` in `$TMPDIR`, after removing the ones
    /// its killed runs left there.
    pub fn create(tool: &str) -> io::Result<TempFolder> {
        TempFolder::create_in(&std::env::temp_dir(), tool)
    }

    /// Like [`TempFolder::create`], in `parent`.
    pub fn create_in(parent: &Path, tool: &str) -> io::Result<TempFolder> {
        remove_stale_temp_folders(parent, tool);
        let tag = format!("{}.{:016x}", std::process::id(), unique_suffix());
        let path = parent.join(temp_name(tool, &tag, TEMP_KIND));
        let mut builder = fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(&path)?;
        let lock = File::create(path.join(TEMP_FOLDER_LOCK)).inspect(|file| {
            let _ = file.try_lock();
        });
        match lock {
            Ok(lock) => Ok(TempFolder { path, _lock: lock }),
            Err(e) => {
                let _ = fs::remove_dir_all(&path);
                Err(e)
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempFolder {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Remove the [`TempFolder`]s of `tool` in `parent` that killed runs left.
/// The number removed.
pub fn remove_stale_temp_folders(parent: &Path, tool: &str) -> usize {
    let Ok(entries) = fs::read_dir(parent) else {
        return 0;
    };
    let prefix = format!(".{tool}.");
    entries
        .filter_map(|entry| entry.ok())
        .filter(|entry| {
            let name = entry.file_name();
            let Some(name) = name.to_str().filter(|name| name.starts_with(&prefix)) else {
                return false;
            };
            let Some(pid) = temp_file_pid(name) else {
                return false;
            };
            let path = entry.path();
            let is_folder = path.symlink_metadata().is_ok_and(|meta| meta.is_dir());
            is_folder
                && is_abandoned(&path.join(TEMP_FOLDER_LOCK), pid)
                && fs::remove_dir_all(&path).is_ok()
        })
        .count()
}

/// Whether a process with this pid runs, as /proc shows; where there is no
/// /proc, it is taken to run, and only the age of its files counts.
fn process_running(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.join("self").exists() || proc.join(pid.to_string()).exists()
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

    /// A name of `bytes` bytes or just under, made of `piece` (one at least).
    fn name_of(piece: &str, bytes: usize) -> String {
        piece.repeat((bytes / piece.len()).max(1))
    }

    #[test]
    fn temp_folders_are_private_removed_on_drop_and_left_ones_swept() -> Result<()> {
        let tmp = tempfile::tempdir()?;
        let gone = u32::MAX - 1;
        // Left by a killed run: its pid is gone and nobody holds its lock.
        let left = tmp.path().join(format!(".batch-split.{gone}.00ff.tmp"));
        fs::create_dir(&left)?;
        fs::write(left.join(TEMP_FOLDER_LOCK), "")?;
        fs::write(left.join("00000001.batch"), "a record")?;
        // Another tool's, and a live one of the same tool: both kept.
        let other = tmp.path().join(format!(".index-diff.{gone}.00ff.tmp"));
        fs::create_dir(&other)?;
        let live = TempFolder::create_in(tmp.path(), "batch-split")?;
        assert!(!left.exists(), "the killed run's folder is still there");
        assert!(other.exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(live.path())?.permissions().mode() & 0o777;
            assert_eq!(mode, 0o700);
        }
        let second = TempFolder::create_in(tmp.path(), "batch-split")?;
        assert!(live.path().exists(), "a live folder was swept");
        let path = live.path().to_path_buf();
        drop(live);
        assert!(!path.exists());
        drop(second);
        Ok(())
    }

    #[test]
    fn temp_names_fit_wherever_the_final_name_fits() -> Result<()> {
        let dir = tempfile::tempdir()?;
        for piece in ["a", "é", "日", "😀"] {
            for bytes in [1, 200, 230, 240, 255] {
                let name = name_of(piece, bytes);
                let case = format!("{} bytes of {piece}", name.len());
                let temp = temp_name(&name, "4194304.0123456789abcdef", "tmp");
                assert!(temp.len() <= NAME_MAX, "{case}: {}", temp.len());
                assert!(temp.ends_with(".4194304.0123456789abcdef.tmp"), "{case}");
                let kept = &temp[1..temp.len() - ".4194304.0123456789abcdef.tmp".len()];
                assert!(name.starts_with(kept), "{case}");
                if name.len() <= 200 {
                    assert_eq!(kept, name, "{case}: cut although it fits");
                }
                // And the file system takes both names.
                let path = dir.path().join(&name);
                let mut f = AtomicFile::create(&path)?;
                f.write_all(case.as_bytes())?;
                f.commit()?;
                assert_eq!(fs::read_to_string(&path)?, case);
                fs::remove_file(&path)?;
            }
        }
        Ok(())
    }

    #[test]
    fn only_temp_names_of_atomic_files_give_a_pid() {
        for (name, pid) in [
            (".a.csv.4242.0123456789abcdef.tmp", Some(4242)),
            (".a.b.c.7.1234567890123.tmp", Some(7)),
            (".x.1.ff.tmp", Some(1)),
            ("a.csv.4242.0123456789abcdef.tmp", None),
            (".a.csv.tmp", None),
            (".a.csv.x42.00ff.tmp", None),
            (".a.csv.42.zz.tmp", None),
            (".a.csv.42.00ff.part", None),
            (".42.00ff.tmp", None),
        ] {
            assert_eq!(temp_file_pid(name), pid, "{name}");
        }
    }

    #[test]
    fn stale_temp_files_are_removed_and_live_ones_kept() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let ours = std::process::id();
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        // Beyond Linux's largest pid, so never running.
        let gone = 99_999_999u32;
        let old = |name: &str| -> Result<()> {
            let f = File::create(dir.path().join(name))?;
            f.set_modified(hour_ago)?;
            Ok(())
        };
        for name in [
            format!(".a.csv.{gone}.0123456789abcdef.tmp"),
            format!(".b.csv.{gone}.1234567890123.tmp"),
            format!(".c.csv.{ours}.0000000000000001.tmp"),
            ".notes.txt".to_string(),
            format!("d.csv.{gone}.0123456789abcdef.tmp"),
            format!(".e.csv.{gone}.0123456789abcdef.part"),
        ] {
            fs::write(dir.path().join(name), b"partial")?;
        }
        old(&format!(".f.csv.{ours}.0000000000000002.tmp"))?;
        fs::create_dir(dir.path().join(format!(".g.{gone}.00ff.tmp")))?;
        let mut live = AtomicFile::create(&dir.path().join("h.csv"))?;
        live.write_all(b"being written")?;
        live.flush()?;
        let live_temp = live.temp.clone();
        fs::File::options()
            .write(true)
            .open(&live_temp)?
            .set_modified(hour_ago)?;

        assert_eq!(
            remove_stale_temp_files(dir.path()),
            0,
            "already cleaned by create"
        );
        let mut left: Vec<String> = fs::read_dir(dir.path())?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<io::Result<_>>()?;
        left.sort();
        let mut want = vec![
            format!(".c.csv.{ours}.0000000000000001.tmp"),
            format!(".e.csv.{gone}.0123456789abcdef.part"),
            format!(".g.{gone}.00ff.tmp"),
            ".notes.txt".to_string(),
            live_temp
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            format!("d.csv.{gone}.0123456789abcdef.tmp"),
        ];
        want.sort();
        assert_eq!(left, want);
        live.commit()?;
        assert_eq!(fs::read(dir.path().join("h.csv"))?, b"being written");
        Ok(())
    }

    #[test]
    fn commit_new_never_replaces_a_file() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("copy.json");
        let mut first = AtomicFile::create(&path)?;
        first.write_all(b"first")?;
        first.commit_new()?;
        let mut second = AtomicFile::create(&path)?;
        second.write_all(b"second")?;
        assert_eq!(second.commit_new().map_err(|e| e.code()), Err(74));
        assert_eq!(fs::read(&path)?, b"first");
        assert_eq!(fs::read_dir(dir.path())?.count(), 1);
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
