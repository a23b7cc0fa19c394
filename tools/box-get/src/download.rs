//! --out-dir: download the folder's files, each checked against Box's sha1
//! before it appears under its name.

use crate::args::Options;
use crate::entry::{self, FileEntry};
use crate::list;
use crate::{TOOL, count};
use common::boxapi::BoxClient;
use common::hash::hex;
use common::http::Attempt;
use common::io::AtomicFile;
use common::receipt::Receipt;
use common::time::now_rfc3339;
use common::{Error, Exit, Result};
use serde_json::{Map, json};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::Path;

/// Download every matching file into `dir`, one receipt each.
pub fn run(client: &BoxClient, options: &Options, dir: &Path) -> Result<()> {
    let (folder, files) = list::matching_files(client, options)?;
    for file in &files {
        entry::check_local_name(&file.name, &file.id)?;
    }
    create_dir(dir)?;
    // Also when nothing is to be downloaded: a rerun after a kill cleans up.
    common::io::remove_stale_temp_files(dir);
    let target = list::source_name(options);
    let mut out = std::io::stdout().lock();
    let (mut done, mut bytes) = (0u64, 0u64);
    for file in &files {
        let path = dir.join(&file.name);
        if options.args.no_clobber && path.symlink_metadata().is_ok() {
            common::cli::info(
                TOOL,
                format!(
                    "{}: already there, left alone (--no-clobber); file {} not downloaded",
                    path.display(),
                    file.id
                ),
            );
            continue;
        }
        let fetched = fetch_checked(client, options, file, &path)?;
        let mut fields = Map::new();
        fields.insert("action".into(), json!("download"));
        fields.insert("folder_id".into(), json!(folder));
        fields.insert("sha1".into(), json!(fetched.sha1));
        if let Some(etag) = &fetched.etag {
            fields.insert("etag".into(), json!(etag));
        }
        fields.insert("path".into(), json!(path.display().to_string()));
        let receipt = Receipt {
            tool: TOOL.into(),
            target: target.clone(),
            name: file.name.clone(),
            bytes: fetched.bytes,
            sha256: fetched.sha256,
            remote_id: Some(file.id.clone()),
            time: now_rfc3339(),
            fields: Some(fields),
            ..Receipt::default()
        };
        receipt
            .write_to(&mut out)
            .and_then(|()| out.flush())
            .map_err(|e| Error::write("writing the receipt to <stdout>", e))?;
        done += 1;
        bytes += fetched.bytes;
    }
    if !options.args.quiet {
        common::cli::info(
            TOOL,
            format!(
                "{} downloaded ({bytes} bytes)",
                count(done, "file", "files")
            ),
        );
    }
    Ok(())
}

/// What a checked download gave.
#[derive(Debug)]
struct Fetched {
    bytes: u64,
    sha1: String,
    sha256: String,
    etag: Option<String>,
}

/// Download one file to `path` through a temporary file, checking its
/// sha1; a mismatch removes the temporary file, asks Box for the file's
/// sha1 again (a new version may have arrived) and tries again.
fn fetch_checked(
    client: &BoxClient,
    options: &Options,
    file: &FileEntry,
    path: &Path,
) -> Result<Fetched> {
    let mut expected = file.clone();
    let result = client.policy().run(
        |attempt| {
            if attempt > 1 {
                match client.file_info(&file.id).and_then(|info| {
                    FileEntry::of(&info)?.ok_or_else(|| {
                        Error::unavailable(format!("file {}: no longer a file", file.id))
                    })
                }) {
                    Ok(fresh) => expected = fresh,
                    Err(e) => return Attempt::Fail(e),
                }
            }
            let Some(sha1) = expected.sha1.clone() else {
                return Attempt::Fail(Error::unavailable(format!(
                    "file {} ({}): Box gives no sha1 for it, so the download could not be checked; not downloaded",
                    file.id, file.name
                )));
            };
            match fetch_once(client, &file.id, path) {
                Attempt::Done((temp, got)) if got.sha1.eq_ignore_ascii_case(&sha1) => {
                    match temp.commit() {
                        Ok(()) => Attempt::Done(Fetched {
                            etag: expected.etag.clone(),
                            ..got
                        }),
                        Err(e) => Attempt::Fail(e),
                    }
                }
                Attempt::Done((_temp, _)) => Attempt::Retry {
                    // Dropping the temporary file removes it.
                    error: Error::temp_fail(format!(
                        "file {} ({}): the content downloaded does not have the sha1 Box gives for it; nothing was kept",
                        file.id, file.name
                    )),
                    retry_after: None,
                },
                Attempt::Retry { error, retry_after } => Attempt::Retry { error, retry_after },
                Attempt::Fail(error) => Attempt::Fail(error),
            }
        },
        |n, error, wait| {
            common::cli::warn(
                TOOL,
                format!(
                    "{error}; attempt {n} of {}, retrying in {:.1} s",
                    options.args.boxapi.retries() + 1,
                    wait.as_secs_f64()
                ),
            );
        },
    );
    match result {
        Ok(fetched) => Ok(fetched),
        Err((error, n)) if error.exit() == Exit::TempFail && n > 1 => {
            Err(error.context(format!("gave up after {n} attempts")))
        }
        Err((error, _)) => Err(error),
    }
}

/// One download into a temporary file beside `path`, hashed on the way.
/// A failure while reading the answer is temporary; one while writing the
/// local file is not.
fn fetch_once(client: &BoxClient, id: &str, path: &Path) -> Attempt<(AtomicFile, Fetched), Error> {
    // The client has retried its own failures already.
    let mut body = match client.download(id) {
        Ok(body) => body,
        Err(error) => return Attempt::Fail(error),
    };
    let mut temp = match AtomicFile::create(path) {
        Ok(temp) => temp,
        Err(e) => return Attempt::Fail(e),
    };
    let (mut sha1, mut sha256) = (Sha1::new(), Sha256::new());
    let mut bytes = 0u64;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Attempt::Retry {
                    error: Error::temp_fail(format!("file {id}: the download was cut: {e}")),
                    retry_after: None,
                };
            }
        };
        sha1.update(&buf[..n]);
        sha256.update(&buf[..n]);
        bytes += n as u64;
        if let Err(e) = temp.write_all(&buf[..n]) {
            return Attempt::Fail(Error::write(format!("writing {}", path.display()), e));
        }
    }
    Attempt::Done((
        temp,
        Fetched {
            bytes,
            sha1: hex(&sha1.finalize()),
            sha256: hex(&sha256.finalize()),
            etag: None,
        },
    ))
}

/// Make --out-dir (0700) when it is missing.
fn create_dir(dir: &Path) -> Result<()> {
    common::io::create_private_dir(dir)
        .map_err(|e| Error::write(format!("cannot create --out-dir {}", dir.display()), e))
}
