//! The local files: opened before anything is sent (a missing one is exit
//! 66), standard input copied to an unnamed temporary file so that a retry
//! can send it again, and each file hashed (sha1 for Box, sha256 for the
//! receipt) in one pass.

use crate::args::Source;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::hash::hex;
use common::{Error, Result};
use sha1::{Digest as _, Sha1};
use sha2::Sha256;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

/// A file ready to upload.
#[derive(Debug)]
pub struct Local {
    pub label: String,
    pub name: String,
    file: File,
    pub bytes: u64,
    /// Lower-case hex, as Box gives it.
    pub sha1: String,
    /// The same digest in base64, for the Digest header.
    pub sha1_base64: String,
    pub sha256: String,
    /// The file's modification time (RFC 3339), for content_modified_at.
    pub modified_at: Option<String>,
}

impl Local {
    /// `len` bytes from `offset`.
    pub fn read_range(&mut self, offset: u64, len: usize) -> Result<Vec<u8>> {
        let mut buf = vec![0u8; len];
        self.file
            .seek(SeekFrom::Start(offset))
            .and_then(|_| self.file.read_exact(&mut buf))
            .map_err(|e| Error::io(format!("reading {}", self.label), e))?;
        Ok(buf)
    }

    /// The whole file, after `prefix` and before `suffix`, in one buffer
    /// (a simple upload's body: the file is held once).
    pub fn read_between(&mut self, prefix: &[u8], suffix: &[u8]) -> Result<Vec<u8>> {
        let len = usize::try_from(self.bytes)
            .map_err(|_| Error::usage(format!("{}: too large for one request", self.label)))?;
        let mut body = Vec::with_capacity(prefix.len() + len + suffix.len());
        body.extend_from_slice(prefix);
        self.file
            .seek(SeekFrom::Start(0))
            .map_err(|e| Error::io(format!("reading {}", self.label), e))?;
        let read = (&mut self.file)
            .take(self.bytes)
            .read_to_end(&mut body)
            .map_err(|e| Error::io(format!("reading {}", self.label), e))?;
        if read as u64 != self.bytes {
            return Err(Error::io(
                format!("reading {}", self.label),
                std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the file shrank while it was being uploaded",
                ),
            ));
        }
        body.extend_from_slice(suffix);
        Ok(body)
    }
}

/// Open every source (stdin copied to a temporary file) and hash it.
pub fn open_all(sources: &[Source]) -> Result<Vec<Local>> {
    // Open every named file first: a missing one stops the run before
    // stdin is read or anything is hashed.
    let mut opened = Vec::new();
    for source in sources {
        let file = match &source.path {
            Some(path) => {
                let file = File::open(path)
                    .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
                let meta = file
                    .metadata()
                    .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
                if !meta.is_file() {
                    return Err(Error::no_input(format!(
                        "{}: not a regular file",
                        path.display()
                    )));
                }
                Some(file)
            }
            None => None,
        };
        opened.push((source, file));
    }
    let mut locals = Vec::new();
    for (source, file) in opened {
        let (file, modified_at) = match file {
            Some(file) => {
                let modified = file.metadata().and_then(|m| m.modified()).ok().map(|t| {
                    chrono::DateTime::<chrono::Utc>::from(t)
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                });
                (file, modified)
            }
            None => (spool_stdin()?, None),
        };
        locals.push(hashed(source, file, modified_at)?);
    }
    Ok(locals)
}

/// Standard input in an unnamed temporary file (mode 0600, gone when closed).
fn spool_stdin() -> Result<File> {
    let mut file =
        tempfile::tempfile().map_err(|e| Error::io("creating a temporary file for <stdin>", e))?;
    std::io::copy(&mut std::io::stdin().lock(), &mut file)
        .map_err(|e| Error::io("reading <stdin>", e))?;
    Ok(file)
}

fn hashed(source: &Source, mut file: File, modified_at: Option<String>) -> Result<Local> {
    let read_error = |e: std::io::Error| Error::io(format!("reading {}", source.label), e);
    file.seek(SeekFrom::Start(0)).map_err(read_error)?;
    let (mut sha1, mut sha256) = (Sha1::new(), Sha256::new());
    let mut buf = vec![0u8; 256 * 1024];
    let mut bytes = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_error(e)),
        };
        sha1.update(&buf[..n]);
        sha256.update(&buf[..n]);
        bytes += n as u64;
    }
    let sha1 = sha1.finalize();
    Ok(Local {
        label: source.label.clone(),
        name: source.name.clone(),
        file,
        bytes,
        sha1: hex(&sha1),
        sha1_base64: STANDARD.encode(sha1),
        sha256: hex(&sha256.finalize()),
        modified_at,
    })
}

/// The sha1 of a part, in base64 (the Digest header's form).
pub fn sha1_base64(bytes: &[u8]) -> String {
    STANDARD.encode(Sha1::digest(bytes))
}
