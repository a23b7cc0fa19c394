//! Running `--exec` once per spilled batch.

use crate::TOOL;
use crate::sinks::Spilled;
use common::io::Output;
use common::receipt::Receipt;
use common::time::now_rfc3339;
use common::{Error, Result, cli};
use std::fs::File;
use std::io::Write;
use std::process::{Command, Stdio};

/// How a run ended, when a batch command's exit code must become ours.
#[derive(Debug)]
pub enum Outcome {
    Done,
    /// Exit with `code` after printing `message`.
    Failed {
        code: i32,
        message: String,
    },
}

/// Run the command for one batch, the batch file on its stdin, its stdout
/// and stderr shared with ours. Returns its exit code (128 + signal if it
/// was killed) and the receipt to print after the command's output (once
/// the caller has done what the code calls for).
pub fn run_batch(
    command: &str,
    batch: &Spilled,
    count: u64,
    receipts: &mut Output,
) -> Result<(i32, Receipt)> {
    // Our receipts so far must come before the command's output.
    receipts.flush().map_err(|e| {
        crate::receipt_error(
            e,
            format!(
                "batch {} of {count} ({}) was not run",
                batch.info.index, batch.name
            ),
        )
    })?;
    let stdin = File::open(&batch.path).map_err(|e| {
        Error::io(
            format!("reading temporary batch {}", batch.path.display()),
            e,
        )
    })?;
    let status = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::from(stdin))
        .env("BATCH_INDEX", batch.info.index.to_string())
        .env("BATCH_COUNT", count.to_string())
        .env("BATCH_RECORDS", batch.info.records.to_string())
        .env("BATCH_NAME", &batch.name)
        .status()
        .map_err(|e| {
            // Not missing input: the environment cannot run the command.
            let failed = Error::io(
                format!(
                    "cannot start sh (looked up on PATH) to run the --exec command '{command}'"
                ),
                e,
            );
            Error::config(format!(
                "{}; batch {} of {count} ({}) and those after it were not run",
                failed.message(),
                batch.info.index,
                batch.name
            ))
        })?;
    let code = exit_code(status);
    let receipt = Receipt {
        tool: TOOL.into(),
        target: "exec".into(),
        name: batch.name.clone(),
        bytes: batch.info.bytes,
        sha256: batch.info.sha256.clone(),
        records: Some(batch.info.records),
        status: Some(i64::from(code)),
        time: now_rfc3339(),
        ..Receipt::default()
    };
    Ok((code, receipt))
}

/// The error for a receipt that could not be written after batch `batch`
/// ran: `placed` says where its files are (spool), `later` what became of
/// the batches after it.
pub fn unreceipted(
    err: std::io::Error,
    batch: &Spilled,
    count: u64,
    code: i32,
    placed: &str,
    later: &str,
) -> Error {
    let left = count - batch.info.index;
    let later = if left == 0 {
        "it was the last batch".to_string()
    } else {
        format!(
            "{} not run{later}",
            crate::count(left as usize, "later batch was", "later batches were")
        )
    };
    crate::receipt_error(
        err,
        format!(
            "batch {} of {count} ({}) ran and the command exited with {code}{placed}, but its receipt was not written; {later}",
            batch.info.index, batch.name
        ),
    )
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return 128 + signal;
        }
    }
    status.code().unwrap_or(1)
}

/// Run the command for every batch in order. Without `keep_going`, stop at
/// the first failure; with it, run them all and fail with the first code.
pub fn run_all(
    command: &str,
    batches: &[Spilled],
    keep_going: bool,
    receipts: &mut Output,
) -> Result<Outcome> {
    let count = batches.len() as u64;
    let mut first_failure: Option<(&Spilled, i32)> = None;
    let mut failures = 0;
    for batch in batches {
        let (code, receipt) = run_batch(command, batch, count, receipts)?;
        // Without stdout there is no audit trail: stop, whatever --keep-going says.
        crate::write_receipt(&receipt, receipts)
            .map_err(|e| unreceipted(e, batch, count, code, "", ""))?;
        if code == 0 {
            continue;
        }
        let what = format!(
            "batch {} of {count} ({}): the command exited with {code}",
            batch.info.index, batch.name
        );
        if !keep_going {
            let left = count - batch.info.index;
            let message = if left > 0 {
                format!(
                    "{what}; {} not run",
                    crate::count(left as usize, "later batch was", "later batches were")
                )
            } else {
                what
            };
            return Ok(Outcome::Failed { code, message });
        }
        cli::warn(TOOL, format!("{what}; going on (--keep-going)"));
        failures += 1;
        first_failure.get_or_insert((batch, code));
    }
    Ok(match first_failure {
        None => Outcome::Done,
        Some((batch, code)) => Outcome::Failed {
            code,
            message: format!(
                "{failures} of {count} batches failed; the first, batch {} ({}), exited with {code}",
                batch.info.index, batch.name
            ),
        },
    })
}
