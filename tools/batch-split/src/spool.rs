//! `--spool DIR`: a folder of JSON files, one record per file, used as a
//! queue. Files are peeked, not removed; they move to `sent/` or `error/`
//! only after the command's exit code says where they belong.

use crate::TOOL;
use crate::args::NameTemplate;
use crate::batcher::{Batcher, Framing, Limits};
use crate::exec::{Outcome, run_batch, unreceipted};
use crate::sinks::{SpillSink, create_private_dir};
use common::error::Location;
use common::io::Output;
use common::lock::StateLock;
use common::{Error, Result, cli};
use serde_json::Value;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// What a spool run needs to know.
#[derive(Debug)]
pub struct Spool<'a> {
    pub dir: &'a Path,
    pub command: &'a str,
    pub reject_codes: &'a [i32],
    pub all: bool,
    /// An invalid file changed more recently than this is left in place.
    pub settle: Duration,
    pub limits: Limits,
    /// `Some` with `--array`.
    pub array: Option<&'a Framing>,
    pub names: &'a NameTemplate,
}

#[derive(Debug, Default)]
struct Counts {
    sent: usize,
    rejected: usize,
    invalid: usize,
    left: usize,
    /// Entries left in place without being sent: invalid files perhaps
    /// still being written, files that cannot be read, and entries that
    /// are not regular files.
    kept: usize,
}

impl Spool<'_> {
    pub fn run(&self, receipts: &mut Output) -> Result<Outcome> {
        match fs::metadata(self.dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(Error::no_input(format!("{}: not a folder", self.shown()))),
            Err(e) => return Err(Error::io(format!("spool {}", self.shown()), e)),
        }
        let _lock = StateLock::acquire(&self.dir.join(".lock"))?;
        let mut counts = Counts::default();
        let queued = self.list(&mut counts)?;
        if queued.is_empty() {
            if counts.kept == 0 {
                say(&format!("spool {} is empty; nothing to send", self.shown()));
            } else {
                self.report(&counts);
            }
            return Ok(Outcome::Done);
        }
        let (spill, batch_files) = self.take_batches(&queued, &mut counts)?;
        let count = spill.batches.len() as u64;
        let mut outcome = Outcome::Done;
        let mut first_reject = None;
        for (batch, files) in spill.batches.iter().zip(&batch_files) {
            let (code, receipt) = run_batch(self.command, batch, count, receipts)?;
            // The files move before the receipt is written: a receipt that
            // cannot be written must never leave sent records queued.
            let (moved, placed) = if code == 0 {
                counts.sent += files.len();
                (self.move_all(files, "sent"), "sent")
            } else if self.reject_codes.contains(&code) {
                counts.rejected += files.len();
                first_reject.get_or_insert_with(|| Outcome::Failed {
                    code,
                    message: format!(
                        "batch {} of {count} ({}) was rejected: the command exited with {code}; {} in {}",
                        batch.info.index,
                        batch.name,
                        crate::count(files.len(), "its file is", "its files are"),
                        self.dir.join("error").display()
                    ),
                });
                (self.move_all(files, "error"), "error")
            } else {
                let index = batch.info.index as usize;
                counts.left = batch_files[index - 1..].iter().map(Vec::len).sum();
                outcome = Outcome::Failed {
                    code,
                    message: format!(
                        "batch {} of {count} ({}): the command exited with {code}; its files stay in the spool for the next run",
                        batch.info.index, batch.name
                    ),
                };
                (Ok(()), "")
            };
            let written = crate::write_receipt(&receipt, receipts);
            if let Err(e) = moved {
                self.report(&counts);
                return Err(e);
            }
            if let Err(e) = written {
                let index = batch.info.index as usize;
                let first_left = if placed.is_empty() { index - 1 } else { index };
                counts.left = batch_files[first_left..].iter().map(Vec::len).sum();
                self.report(&counts);
                let placed = match placed {
                    "" => ", its files stay in the spool".to_string(),
                    sub => format!(", its files are in {}", self.dir.join(sub).display()),
                };
                let later = if counts.left > 0 {
                    "; their files stay in the spool"
                } else {
                    ""
                };
                return Err(unreceipted(e, batch, count, code, &placed, later));
            }
            if placed.is_empty() {
                break;
            }
        }
        self.report(&counts);
        Ok(match (outcome, first_reject) {
            (Outcome::Done, Some(reject)) => reject,
            (outcome, _) => outcome,
        })
    }

    fn shown(&self) -> String {
        self.dir.display().to_string()
    }

    /// Regular files in the spool, oldest first (by mtime, then name). Dot
    /// files, `*.tmp` and `*.part` (files still being written) and folders
    /// are not records. Anything else that is not a regular file (a
    /// symbolic link, a named pipe) is left where it is, with a warning:
    /// it is not read (a pipe could block the run) nor moved.
    fn list(&self, counts: &mut Counts) -> Result<Vec<(PathBuf, SystemTime)>> {
        let read = |e| Error::io(format!("reading spool {}", self.shown()), e);
        let mut found: Vec<(SystemTime, OsString)> = Vec::new();
        let mut odd: Vec<(OsString, &str)> = Vec::new();
        for entry in fs::read_dir(self.dir).map_err(read)? {
            let entry = entry.map_err(read)?;
            let name = entry.file_name();
            if !is_record_name(&name) {
                continue;
            }
            // Not followed: a symbolic link is seen as one.
            let metadata = match entry.metadata() {
                Ok(m) => m,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(read(e)),
            };
            let kind = metadata.file_type();
            if kind.is_dir() {
                continue;
            }
            if !kind.is_file() {
                odd.push((name, describe_kind(kind)));
                continue;
            }
            let modified = metadata.modified().map_err(read)?;
            found.push((modified, name));
        }
        odd.sort();
        for (name, kind) in odd {
            cli::warn(
                TOOL,
                format!(
                    "{}: not a regular file ({kind}); left in the spool",
                    self.dir.join(name).display()
                ),
            );
            counts.kept += 1;
        }
        found.sort();
        Ok(found
            .into_iter()
            .map(|(modified, name)| (self.dir.join(name), modified))
            .collect())
    }

    /// Read files in order into batches, setting aside the ones that are
    /// not a JSON object. Without `--all`, stop when the first batch is full.
    fn take_batches(
        &self,
        queued: &[(PathBuf, SystemTime)],
        counts: &mut Counts,
    ) -> Result<(SpillSink, Vec<Vec<PathBuf>>)> {
        let ext = if self.array.is_some() {
            "json"
        } else {
            "ndjson"
        };
        let spill = SpillSink::new(self.names.clone(), ext)?;
        let framing = self
            .array
            .cloned()
            .unwrap_or_else(|| Framing::lines(Vec::new()));
        let mut batcher = Batcher::new(spill, framing, self.limits);
        let mut files: Vec<Vec<PathBuf>> = Vec::new();
        for (path, modified) in queued {
            let bytes = match fs::read(path) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => {
                    // One file that cannot be read must not block the queue.
                    let problem = Error::io(format!("{}: cannot read", path.display()), e);
                    cli::warn(TOOL, format!("{}; left in the spool", problem.message()));
                    counts.kept += 1;
                    continue;
                }
            };
            // A BOM (some Windows tools write one) is not part of the JSON.
            let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
            let record = match compact_object(body, &path.display().to_string()) {
                Ok(record) => record,
                Err(problem) if self.settling(*modified) => {
                    cli::warn(
                        TOOL,
                        format!(
                            "{problem}; changed less than {} ago (--settle), so it may still be being written: left in the spool",
                            crate::count(self.settle.as_secs() as usize, "second", "seconds")
                        ),
                    );
                    counts.kept += 1;
                    continue;
                }
                Err(problem) => {
                    let moved = self.move_to(path, "error")?;
                    cli::warn(TOOL, format!("{problem}; set aside as {}", moved.display()));
                    counts.invalid += 1;
                    continue;
                }
            };
            let newline: &[u8] = if self.array.is_some() { b"" } else { b"\n" };
            let len = (record.len() + newline.len()) as u64;
            if !self.all && batcher.index() > 0 && batcher.would_start_batch(len) {
                break;
            }
            batcher.push(&[&record, newline], 0, || {
                Location::file(path.display().to_string())
            })?;
            let index = batcher.index() as usize;
            files.resize_with(index, Vec::new);
            files[index - 1].push(path.clone());
        }
        Ok((batcher.finish()?.named(), files))
    }

    /// Whether a file changed at `modified` is too recent to be judged:
    /// its producer may not have finished writing it. A time in the future
    /// (a clock set differently) counts as recent.
    fn settling(&self, modified: SystemTime) -> bool {
        !self.settle.is_zero()
            && SystemTime::now()
                .duration_since(modified)
                .map_or(true, |age| age < self.settle)
    }

    fn move_all(&self, files: &[PathBuf], sub: &str) -> Result<()> {
        for file in files {
            self.move_to(file, sub)?;
        }
        Ok(())
    }

    /// Rename a file into `DIR/sub/` (0700, created if needed), never over
    /// an earlier file of the same name: `a.json` becomes `a.1.json`, ...
    fn move_to(&self, file: &Path, sub: &str) -> Result<PathBuf> {
        let folder = self.dir.join(sub);
        create_private_dir(&folder)?;
        let name = file.file_name().unwrap_or(OsStr::new("record"));
        let mut target = folder.join(name);
        let mut n = 0;
        while fs::symlink_metadata(&target).is_ok() {
            n += 1;
            target = folder.join(with_suffix(name, n));
        }
        fs::rename(file, &target).map_err(|e| {
            Error::write(
                format!("moving {} to {}", file.display(), folder.display()),
                e,
            )
        })?;
        Ok(target)
    }

    /// One line on stderr with what happened, when anything did.
    fn report(&self, counts: &Counts) {
        let mut parts = Vec::new();
        if counts.sent > 0 {
            parts.push(format!("{} sent", counts.sent));
        }
        if counts.rejected > 0 {
            parts.push(format!("{} rejected into error/", counts.rejected));
        }
        if counts.invalid > 0 {
            parts.push(format!("{} set aside as invalid", counts.invalid));
        }
        let left = counts.left + counts.kept;
        if left > 0 {
            parts.push(format!("{left} left in the spool"));
        }
        if !parts.is_empty() {
            say(&format!("{}: {}", self.shown(), parts.join(", ")));
        }
    }
}

/// What a spool entry that is not a regular file or a folder is.
fn describe_kind(kind: fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a named pipe";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_block_device() || kind.is_char_device() {
            return "a device";
        }
    }
    if kind.is_symlink() {
        "a symbolic link"
    } else {
        "not a file"
    }
}

fn is_record_name(name: &OsStr) -> bool {
    let name = name.to_string_lossy();
    !(name.starts_with('.') || name.ends_with(".tmp") || name.ends_with(".part"))
}

/// `a.json` with n = 2 is `a.2.json`; `a` is `a.2`.
fn with_suffix(name: &OsStr, n: u32) -> OsString {
    let path = Path::new(name);
    let stem = path.file_stem().unwrap_or(name).to_string_lossy();
    match path.extension() {
        Some(ext) => format!("{stem}.{n}.{}", ext.to_string_lossy()).into(),
        None => format!("{stem}.{n}").into(),
    }
}

/// The file as one compact line of JSON, or why it is not a record.
/// The reason names the file and position, never the content.
fn compact_object(bytes: &[u8], file: &str) -> std::result::Result<Vec<u8>, String> {
    match common::ndjson::parse_document::<Value>(bytes, file) {
        Ok(value @ Value::Object(_)) => serde_json::to_vec(&value).map_err(|e| e.to_string()),
        Ok(_) => Err(format!("{file}: expected one JSON object")),
        Err(e) => Err(e.to_string()),
    }
}

/// An informational line on stderr.
fn say(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{TOOL}: {message}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_and_names() {
        assert_eq!(with_suffix(OsStr::new("a.json"), 2), "a.2.json");
        assert_eq!(with_suffix(OsStr::new("event"), 1), "event.1");
        assert!(is_record_name(OsStr::new("e-1.json")));
        for skipped in [".lock", ".e.json", "e.json.tmp", "e.json.part"] {
            assert!(!is_record_name(OsStr::new(skipped)), "{skipped}");
        }
    }

    #[test]
    fn invalid_records_are_named_without_content() {
        let bad = compact_object(b"{\"name\": \"Jane", "s/e.json").err();
        let bad = bad.unwrap_or_default();
        assert!(bad.starts_with("s/e.json: line 1: not valid JSON"), "{bad}");
        assert!(!bad.contains("Jane"));
        assert_eq!(
            compact_object(b"[1]", "s/e.json").err().unwrap_or_default(),
            "s/e.json: expected one JSON object"
        );
        assert_eq!(
            compact_object(b"{ \"b\" : 1,\n \"a\": 2 }\n", "f").ok(),
            Some(b"{\"b\":1,\"a\":2}".to_vec())
        );
    }
}
