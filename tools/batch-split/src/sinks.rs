//! Where batches go: files in a folder, lines on stdout, or spilled to a
//! private folder for a command to read later.

use crate::TOOL;
use crate::args::{DEFAULT_WIDTH, NameTemplate};
use crate::batcher::{BatchInfo, BatchSink};
use crate::commit::{Committer, Unchecked};
use crate::records::check_lines;
use common::io::{AtomicFile, Output, TempFolder};
use common::receipt::Receipt;
use common::{Error, Exit, Result, cli};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Create a folder (and its parents) with mode 0700 if it is missing.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    common::io::create_private_dir(dir)
        .map_err(|e| Error::write(format!("cannot create folder {}", dir.display()), e))
}

/// NDJSON records held back from a batch file until checked: past this
/// many bytes they are checked here and written, so that a big batch does
/// not sit in memory whole (small batches are checked by the commit
/// threads, off the reading thread).
const CHECK_HERE_FROM: usize = 1 << 20;

/// One atomic 0600 file per batch in a folder, and a receipt line per file.
pub struct FilesSink<'o> {
    dir: PathBuf,
    names: NameTemplate,
    ext: &'static str,
    current: Option<(AtomicFile, String)>,
    /// With NDJSON lines to check: the input's name, and the records of the
    /// current batch not yet checked nor written.
    unchecked: Option<Unchecked>,
    committer: Committer,
    finished: bool,
    receipts: &'o mut Output,
}

impl<'o> FilesSink<'o> {
    pub fn new(
        dir: &Path,
        names: NameTemplate,
        ext: &'static str,
        receipts: &'o mut Output,
    ) -> Result<Self> {
        create_private_dir(dir)?;
        // Also when no batch comes: a rerun after a kill cleans up.
        common::io::remove_stale_temp_files(dir);
        Ok(FilesSink {
            dir: dir.to_path_buf(),
            names,
            ext,
            current: None,
            unchecked: None,
            committer: Committer::new(dir.display().to_string()),
            finished: false,
            receipts,
        })
    }

    /// Wait until every file is committed and its receipt printed.
    pub fn finish(mut self) -> Result<()> {
        self.finished = true;
        self.committer.finish(self.receipts)
    }
}

impl Drop for FilesSink<'_> {
    /// On an error, the batches completed before it are still committed
    /// and receipted; the one in progress is discarded.
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.committer.finish(self.receipts);
        }
    }
}

impl BatchSink for FilesSink<'_> {
    fn begin(&mut self, index: u64) -> Result<()> {
        let name = self.names.render(index, self.ext, None);
        let wider = 10u64.pow(DEFAULT_WIDTH as u32);
        if index == wider && !self.names.has_width() {
            let last = self.names.render(wider - 1, self.ext, None);
            cli::warn(
                TOOL,
                format!(
                    "batch {index}: batch numbers now have {} digits, so a shell glob lists {name} before {last}; for more than {} batches give {{n}} a width, such as --name 'batch-{{n:6}}.{{ext}}'",
                    DEFAULT_WIDTH + 1,
                    wider - 1
                ),
            );
        }
        let file = AtomicFile::create(&self.dir.join(&name))?;
        self.current = Some((file, name));
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        match (&mut self.current, &mut self.unchecked) {
            (Some(_), Some(held)) => {
                held.bytes.extend_from_slice(bytes);
                Ok(())
            }
            (Some((file, _)), None) => file
                .write_all(bytes)
                .map_err(|e| Error::write(format!("writing {}", file.path().display()), e)),
            (None, _) => Err(Error::software("batch written before it began")),
        }
    }

    fn record(&mut self, line: u64) -> Result<()> {
        let (Some((file, _)), Some(held)) = (&mut self.current, &mut self.unchecked) else {
            return Ok(());
        };
        held.lines.push(line);
        if held.bytes.len() >= CHECK_HERE_FROM {
            check_lines(&held.bytes, &held.lines, &held.file)?;
            file.write_all(&held.bytes)
                .map_err(|e| Error::write(format!("writing {}", file.path().display()), e))?;
            held.bytes.clear();
            held.lines.clear();
        }
        Ok(())
    }

    fn end(&mut self, info: BatchInfo) -> Result<()> {
        let Some((file, name)) = self.current.take() else {
            return Err(Error::software("batch ended before it began"));
        };
        let receipt = Receipt {
            tool: TOOL.into(),
            target: self.dir.display().to_string(),
            name,
            bytes: info.bytes,
            sha256: info.sha256,
            records: Some(info.records),
            ..Receipt::default()
        };
        let unchecked = self.unchecked.as_mut().map(|held| Unchecked {
            bytes: std::mem::take(&mut held.bytes),
            lines: std::mem::take(&mut held.lines),
            file: Arc::clone(&held.file),
        });
        self.committer
            .commit(info.index, file, receipt, unchecked, self.receipts)
    }

    fn check_lines(&mut self, file: &str) -> bool {
        self.unchecked = Some(Unchecked {
            bytes: Vec::new(),
            lines: Vec::new(),
            file: Arc::from(file),
        });
        true
    }

    /// An earlier batch may have failed its check on a commit thread: that
    /// failure comes first in the input, so it is the one to report.
    fn abort(&mut self, err: Error) -> Error {
        self.finished = true;
        match self.committer.finish(self.receipts) {
            Err(earlier) if earlier.exit() == Exit::Data => earlier,
            _ => err,
        }
    }
}

/// Batches straight to stdout (JSON arrays, one per line).
pub struct StdoutSink<'o> {
    pub out: &'o mut Output,
}

impl BatchSink for StdoutSink<'_> {
    fn begin(&mut self, _index: u64) -> Result<()> {
        Ok(())
    }
    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.out
            .write_all(bytes)
            .map_err(|e| Error::write("writing <stdout>", e))
    }
    fn end(&mut self, _info: BatchInfo) -> Result<()> {
        Ok(())
    }
}

/// A batch spilled to disk, waiting for its command.
#[derive(Debug)]
pub struct Spilled {
    pub path: PathBuf,
    pub name: String,
    pub info: BatchInfo,
}

/// Batches written to a private temporary folder (0700, files 0600),
/// removed when this is dropped; one a killed run left is removed by the
/// next run (common::io::TempFolder).
pub struct SpillSink {
    dir: TempFolder,
    names: NameTemplate,
    ext: &'static str,
    current: Option<(BufWriter<File>, PathBuf)>,
    pub batches: Vec<Spilled>,
}

impl SpillSink {
    pub fn new(names: NameTemplate, ext: &'static str) -> Result<Self> {
        let dir = TempFolder::create(TOOL)
            .map_err(|e| Error::write("cannot create a temporary folder for batches", e))?;
        Ok(SpillSink {
            dir,
            names,
            ext,
            current: None,
            batches: Vec::new(),
        })
    }

    /// Name the batches, now that their count is known: as many digits
    /// for every batch as the last one has.
    pub fn named(mut self) -> Self {
        let count = self.batches.len() as u64;
        for batch in &mut self.batches {
            batch.name = self.names.render(batch.info.index, self.ext, Some(count));
        }
        self
    }

    fn what(path: &Path) -> String {
        format!("writing temporary batch {}", path.display())
    }
}

impl BatchSink for SpillSink {
    fn begin(&mut self, index: u64) -> Result<()> {
        let path = self.dir.path().join(format!("{index:08}.batch"));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options
            .open(&path)
            .map_err(|e| Error::write(Self::what(&path), e))?;
        self.current = Some((BufWriter::with_capacity(256 * 1024, file), path));
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        match &mut self.current {
            Some((file, path)) => file
                .write_all(bytes)
                .map_err(|e| Error::write(Self::what(path), e)),
            None => Err(Error::software("batch written before it began")),
        }
    }

    fn end(&mut self, info: BatchInfo) -> Result<()> {
        let Some((mut file, path)) = self.current.take() else {
            return Err(Error::software("batch ended before it began"));
        };
        file.flush()
            .map_err(|e| Error::write(Self::what(&path), e))?;
        // Named once the count is known: see `named`.
        let name = String::new();
        self.batches.push(Spilled { path, name, info });
        Ok(())
    }
}
