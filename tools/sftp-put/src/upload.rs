//! One file's upload: a temporary name in the same folder, the remote size
//! checked, then a rename over the final name.

use crate::args::{Options, Source};
use crate::sftp::{Handle, Sftp, SftpError};
use common::hash::hex;
use common::progress::ProgressLine;
use common::receipt::Receipt;
use common::retry::Attempt;
use common::time::now_rfc3339;
use common::{Error, Result};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::time::{Duration, Instant};

pub const TOOL: &str = "sftp-put";

/// A local file ready to upload (stdin is first copied to a temporary file,
/// so that a retry can send it again).
#[derive(Debug)]
pub struct Local {
    pub file: File,
    pub label: String,
    pub remote_name: String,
    pub size: u64,
}

/// Open every input before connecting: a missing file is exit 66 and
/// nothing is sent.
pub fn open_sources(sources: &[Source]) -> Result<Vec<Local>> {
    sources
        .iter()
        .map(|source| {
            let file = match &source.path {
                Some(path) => {
                    if path.is_dir() {
                        return Err(Error::no_input(format!(
                            "{}: is a directory, not a file",
                            source.label
                        )));
                    }
                    File::open(path)
                        .map_err(|e| Error::io(format!("cannot open {}", source.label), e))?
                }
                None => spool_stdin()?,
            };
            let size = file
                .metadata()
                .map_err(|e| Error::io(format!("cannot read {}", source.label), e))?
                .len();
            Ok(Local {
                file,
                label: source.label.clone(),
                remote_name: source.remote_name.clone(),
                size,
            })
        })
        .collect()
}

/// Stdin into an unnamed temporary file (mode 0600, gone when closed).
fn spool_stdin() -> Result<File> {
    let mut file = tempfile::tempfile()
        .map_err(|e| Error::write("spooling <stdin> to a temporary file", e))?;
    io::copy(&mut io::stdin().lock(), &mut file).map_err(|e| Error::io("reading <stdin>", e))?;
    Ok(file)
}

/// The sha256 and length of a local file, read from its start.
pub fn hash_local(local: &mut Local) -> Result<(String, u64)> {
    local
        .file
        .rewind()
        .map_err(|e| Error::io(format!("reading {}", local.label), e))?;
    common::hash::sha256_reader(io::BufReader::with_capacity(1 << 20, &local.file))
        .map_err(|e| Error::io(format!("reading {}", local.label), e))
}

/// Make sure the remote folder is there: create it with its parents under
/// --mkdir (not in a dry run), else fail naming it.
pub fn prepare_remote_dir<C: Read + Write>(
    sftp: &mut Sftp<C>,
    options: &Options,
) -> Attempt<(), Error> {
    let dir = &options.remote_dir;
    if dir.is_empty() || dir == "/" {
        return Attempt::Done(());
    }
    let absolute = dir.starts_with('/');
    let parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    // Walk from the full path back up only when it is missing.
    match sftp.stat(dir) {
        Ok(Some(attrs)) if attrs.is_dir() => return Attempt::Done(()),
        Ok(Some(_)) => {
            return fail(format!("{dir} exists on the server and is not a folder"));
        }
        Ok(None) if !options.mkdir => {
            return fail(format!(
                "the remote folder {dir} does not exist (--mkdir creates it)"
            ));
        }
        Ok(None) if options.dry_run => return Attempt::Done(()),
        Ok(None) => {}
        Err(e) => return sftp_failure(format!("checking the remote folder {dir}"), e),
    }
    let mut path = String::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 || absolute {
            path.push('/');
        }
        path.push_str(part);
        match sftp.stat(&path) {
            Ok(Some(attrs)) if attrs.is_dir() => continue,
            Ok(Some(_)) => {
                return fail(format!("{path} exists on the server and is not a folder"));
            }
            Ok(None) => {}
            Err(e) => return sftp_failure(format!("checking the remote folder {path}"), e),
        }
        if let Err(e) = sftp.mkdir(&path) {
            // Someone else may have made it meanwhile.
            match sftp.stat(&path) {
                Ok(Some(attrs)) if attrs.is_dir() => {}
                _ => return sftp_failure(format!("creating the remote folder {path}"), e),
            }
        }
    }
    Attempt::Done(())
}

/// Upload one file under a temporary name, check its size, rename it into
/// place. On failure the temporary file is removed when the connection
/// still works; otherwise its name goes into `stale`, for the next attempt
/// to remove.
pub fn upload_with_temp_name<C: Read + Write>(
    sftp: &mut Sftp<C>,
    options: &Options,
    local: &mut Local,
    stale: &mut Vec<String>,
) -> Attempt<Receipt, Error> {
    let final_path = options.remote_path(&local.remote_name);
    let temp_path = options.remote_path(&temp_name(&local.remote_name, "part"));
    if let Err(e) = local.file.rewind() {
        return Attempt::Fail(Error::io(format!("reading {}", local.label), e));
    }
    let handle = match sftp.create_new(&temp_path) {
        Ok(handle) => handle,
        Err(e) => return sftp_failure(format!("cannot create {temp_path} on the server"), e),
    };
    let outcome = send_and_rename(sftp, options, local, handle, &temp_path, &final_path);
    if let Err(attempt_error) = &outcome {
        let connection_lost = matches!(attempt_error, Failure::Sftp(_, SftpError::Transport(_)));
        if connection_lost || sftp.remove(&temp_path).is_err() {
            stale.push(temp_path.clone());
        }
    }
    match outcome {
        Ok((sha256, bytes)) => Attempt::Done(Receipt {
            tool: TOOL.into(),
            target: options.target(),
            name: local.remote_name.clone(),
            bytes,
            sha256,
            remote_path: Some(final_path),
            time: now_rfc3339(),
            ..Receipt::default()
        }),
        Err(Failure::Local(e)) => Attempt::Fail(e),
        Err(Failure::Sftp(doing, e)) => sftp_failure(doing, e),
        Err(Failure::Size(message)) => Attempt::Retry {
            error: Error::temp_fail(message),
            retry_after: None,
        },
    }
}

/// Why an upload stopped.
enum Failure {
    Local(Error),
    Sftp(String, SftpError),
    Size(String),
}

fn send_and_rename<C: Read + Write>(
    sftp: &mut Sftp<C>,
    options: &Options,
    local: &mut Local,
    handle: Handle,
    temp_path: &str,
    final_path: &str,
) -> std::result::Result<(String, u64), Failure> {
    let name = local.remote_name.as_str();
    let total = local.size;
    let mut done = 0u64;
    let mut progress = ProgressLine::new(TOOL)
        .at_most_every(Duration::from_millis(200))
        .erased_at_end();
    // The sha256 of what is sent is worked out on a thread of its own, beside
    // the encryption: on two cores that is a tenth of a 200 MB upload. When
    // no thread can be had, it is worked out here.
    let (chunks, hashing) = std::sync::mpsc::sync_channel::<Vec<u8>>(16);
    let (sent, digest) = std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .name("sha256".into())
            .spawn_scoped(scope, move || {
                let mut hasher = Sha256::new();
                for chunk in hashing {
                    hasher.update(&chunk);
                }
                hasher.finalize()
            })
            .ok();
        let mut here = thread.is_none().then(Sha256::new);
        let sent = sftp.write_from(&handle, &mut local.file, &mut |chunk| {
            match here.as_mut() {
                Some(hasher) => hasher.update(chunk),
                // The receiver only ends with this sender.
                None => {
                    let _ = chunks.send(chunk.to_vec());
                }
            }
            done += chunk.len() as u64;
            progress.show(|| upload_progress(name, done, total));
        });
        drop(chunks);
        let digest = match thread {
            Some(thread) => thread.join().ok(),
            None => here.map(Sha256::finalize),
        };
        (sent, digest)
    });
    progress.finish();
    let Some(digest) = digest else {
        return Err(Failure::Local(Error::io(
            format!("hashing {}", local.label),
            io::Error::other("the hashing thread failed"),
        )));
    };
    let bytes = match sent {
        Ok(bytes) => bytes,
        Err(Ok(e)) => {
            return Err(Failure::Local(Error::io(
                format!("reading {}", local.label),
                e,
            )));
        }
        Err(Err(e)) => return Err(Failure::Sftp(format!("uploading {temp_path}"), e)),
    };
    let doing = |what: &'static str| move |e| Failure::Sftp(format!("{what} {temp_path}"), e);
    sftp.fsync(&handle).map_err(doing("flushing"))?;
    sftp.close(handle).map_err(doing("closing"))?;
    let remote = sftp
        .stat(temp_path)
        .map_err(doing("checking the size of"))?;
    let remote_size = remote.and_then(|a| a.size);
    if remote_size != Some(bytes) {
        return Err(Failure::Size(format!(
            "{temp_path} has {} bytes on the server, {bytes} were sent; not renamed",
            remote_size.map_or("no size".to_string(), |s| s.to_string())
        )));
    }
    replace(sftp, options, temp_path, final_path, &local.remote_name)
        .map_err(|e| Failure::Sftp(format!("renaming {temp_path} to {final_path}"), e))?;
    Ok((hex(&digest), bytes))
}

/// Move the temporary file over the final name. With posix-rename the old
/// file is replaced in one step. Without it (servers other than OpenSSH),
/// SFTP's RENAME refuses an existing name, so the old file is first moved
/// aside, the new one renamed in, and the old one removed: a reader may
/// then briefly find no file, but never a partial one; if the second rename
/// fails, the old file is put back.
fn replace<C: Read + Write>(
    sftp: &mut Sftp<C>,
    options: &Options,
    temp_path: &str,
    final_path: &str,
    name: &str,
) -> std::result::Result<(), SftpError> {
    if sftp.has_posix_rename() && !options.plain_rename {
        return sftp.posix_rename(temp_path, final_path);
    }
    let first = match sftp.rename(temp_path, final_path) {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    if matches!(first, SftpError::Transport(_)) || sftp.stat(final_path)?.is_none() {
        return Err(first);
    }
    let aside = options.remote_path(&temp_name(name, "old"));
    sftp.rename(final_path, &aside)?;
    if let Err(e) = sftp.rename(temp_path, final_path) {
        let _ = sftp.rename(&aside, final_path);
        return Err(e);
    }
    let _ = sftp.remove(&aside);
    Ok(())
}

/// A hidden name beside the final one: `.NAME.RANDOM.KIND`, NAME cut when
/// needed so that it fits wherever NAME fits.
pub fn temp_name(name: &str, kind: &str) -> String {
    use std::hash::{BuildHasher, RandomState};
    let random = RandomState::new().hash_one((std::process::id(), Instant::now()));
    common::io::temp_name(name, &format!("{:08x}", random as u32), kind)
}

/// A failed SFTP request: connection trouble can be retried, a refusal not.
pub fn sftp_failure<T>(doing: impl std::fmt::Display, e: SftpError) -> Attempt<T, Error> {
    match e {
        SftpError::Transport(_)
        | SftpError::Status {
            code: crate::sftp::FX_NO_CONNECTION | crate::sftp::FX_CONNECTION_LOST,
            ..
        } => Attempt::Retry {
            error: Error::temp_fail(format!("{doing}: {e}")),
            retry_after: None,
        },
        e => Attempt::Fail(Error::unavailable(format!("{doing}: {e}"))),
    }
}

fn fail<T>(message: String) -> Attempt<T, Error> {
    Attempt::Fail(Error::unavailable(message))
}

/// What the progress line says: `name:  42% of 200.0 MB`.
fn upload_progress(name: &str, done: u64, total: u64) -> String {
    let percent = (done * 100).checked_div(total).unwrap_or(100).min(100);
    format!("{name}: {percent:3}% of {:.1} MB", total as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::temp_name;

    #[test]
    fn remote_temp_names_fit_wherever_the_name_fits() {
        for piece in ["a", "é", "日", "😀"] {
            for bytes in [1, 200, 230, 240, 255] {
                let name = piece.repeat((bytes / piece.len()).max(1));
                for kind in ["part", "old"] {
                    let temp = temp_name(&name, kind);
                    let case = format!("{} bytes of {piece}, {kind}", name.len());
                    assert!(temp.len() <= 255, "{case}: {}", temp.len());
                    assert!(temp.starts_with('.') && temp.ends_with(&format!(".{kind}")));
                    let kept = &temp[1..temp.len() - ".01234567.".len() - kind.len()];
                    assert!(name.starts_with(kept), "{case}");
                    if name.len() <= 230 {
                        assert_eq!(kept, name, "{case}: cut although it fits");
                    }
                }
            }
        }
    }
}
