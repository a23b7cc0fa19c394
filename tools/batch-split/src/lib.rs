//! batch-split: cut a CSV or NDJSON record stream into batches of N records
//! (and at most B bytes): files in a folder, JSON arrays on stdout, or a
//! command run once per batch. `--spool` turns a folder of JSON files into
//! a queue that a command drains batch by batch.
#![forbid(unsafe_code)]

mod args;
mod batcher;
mod commit;
mod exec;
mod records;
mod sinks;
mod spool;

use args::{Args, Format, Mode, Options};
use batcher::BatchSink;
use clap::{ArgMatches, Command, CommandFactory};
use common::doc::{Example, ToolDoc};
use common::io::{Output, open_input};
use common::receipt::Receipt;
use common::{Error, Exit, Result};
use exec::Outcome;
use std::io::Write;

pub(crate) const TOOL: &str = "batch-split";

pub const DOC: ToolDoc = ToolDoc {
    name: TOOL,
    description: &[include_str!("../doc/description.txt")],
    examples: &[
        Example {
            what: "ReqCheck: post patient records 500 at a time as {\"patient_data\":[...]}, one request per batch, receipts to the audit log",
            command: "json-map -f patient_data.jq patients.ndjson | batch-split -n 500 --array --wrap patient_data --exec 'http-post \"$REQCHECK_URL/patient_data\"' >> \"log/$(date +%F)_reqcheck.jsonl\"",
        },
        Example {
            what: "ReportStream: send up to 500 queued test events; a 400 (http-post exit 69) sets the batch aside in spool/error/",
            command: "batch-split --spool spool/ --size 500 --reject-code 69 --exec 'json-map -f reportstream.jq | csv-shape --from ndjson | http-post \"$REPORTSTREAM_URL/api/reports\"'",
        },
        Example {
            what: "Printer: cut a CSV into files of 1000 records, each with the header",
            command: "batch-split --from csv -n 1000 --out-dir out/ patients_form_print.csv",
        },
        Example {
            what: "Keep each payload under 1 MB, with file names of your own",
            command: "batch-split --array --max-bytes 1000000 --out-dir payloads/ --name 'payload-{n}.json' records.ndjson",
        },
    ],
    environment: &[
        (
            "BATCH_INDEX",
            "Set for the --exec command: the batch number, from 1.",
        ),
        (
            "BATCH_COUNT",
            "Set for the --exec command: how many batches this run has.",
        ),
        (
            "BATCH_RECORDS",
            "Set for the --exec command: how many records this batch has.",
        ),
        (
            "BATCH_NAME",
            "Set for the --exec command: the batch's name from --name, e.g. batch-0001.ndjson.",
        ),
        (
            "TMPDIR",
            "Where --exec and --spool spill batches before running the command (default /tmp).",
        ),
    ],
    auth: &[],
    security: &[],
    exit_codes: &[
        Exit::Ok,
        Exit::Usage,
        Exit::Data,
        Exit::NoInput,
        Exit::Unavailable,
        Exit::Io,
        Exit::TempFail,
        Exit::Config,
    ],
    other_exit_status: &[(
        "other",
        "With --exec, the exit code of the first batch command that failed (128 + signal if it was killed); with --spool and --reject-code, that code once the refused files are in DIR/error/.",
    )],
    broken_pipe: Some(
        "A broken pipe on standard output ends --array alone quietly with 0. With --out-dir, --exec or --spool it is exit 74, since a batch that had effects would be left without a receipt.",
    ),
    see_also: &["http-post(1)", "json-map(1)", "csv-shape(1)", "split(1)"],
};

pub fn command() -> Command {
    common::cli::with_doc(Args::command(), &DOC)
}

pub fn run(matches: &ArgMatches) -> Result<()> {
    let options = Options::from_matches(matches)?;
    let mut out = Output::stdout();
    let result = split(&options, &mut out);
    // Receipts already printed must reach stdout, whatever happened after.
    // Only plain output (--array alone) may end quietly on a broken pipe:
    // otherwise batches had effects that their receipts must record.
    let flushed = match (out.finish(), &options.mode) {
        (Err(e), Mode::Files(_) | Mode::Exec { .. } | Mode::Spool { .. }) => {
            Err(Error::new(Exit::Io, e.message()))
        }
        (flushed, _) => flushed,
    };
    let outcome = result?;
    flushed?;
    match outcome {
        Outcome::Done => Ok(()),
        Outcome::Failed { code, message } => exit_with(code, message),
    }
}

fn split(options: &Options, out: &mut Output) -> Result<Outcome> {
    match &options.mode {
        Mode::Files(dir) => {
            let sink = sinks::FilesSink::new(dir, options.names.clone(), options.ext(), out)?;
            read_input(options, sink)?.finish()?;
            Ok(Outcome::Done)
        }
        Mode::Stdout => {
            read_input(options, sinks::StdoutSink { out })?;
            Ok(Outcome::Done)
        }
        Mode::Exec {
            command,
            keep_going,
        } => {
            let spill = read_input(
                options,
                sinks::SpillSink::new(options.names.clone(), options.ext())?,
            )?
            .named();
            exec::run_all(command, &spill.batches, *keep_going, out)
        }
        Mode::Spool {
            dir,
            command,
            reject_codes,
            all,
            settle,
        } => spool::Spool {
            dir,
            command,
            reject_codes,
            all: *all,
            settle: *settle,
            limits: options.limits,
            array: options.array.as_ref(),
            names: &options.names,
        }
        .run(out),
    }
}

fn read_input<S: BatchSink>(options: &Options, sink: S) -> Result<S> {
    let input = open_input(options.input.as_deref())?;
    match options.from {
        Format::Ndjson => records::read_ndjson(input, options.array.as_ref(), options.limits, sink),
        Format::Csv => records::read_csv(
            input,
            options.delimiter,
            options.array.as_ref(),
            options.limits,
            sink,
        ),
    }
}

/// Receipts could not be written to stdout after batches had effects
/// (files written, commands run): exit 74 saying what happened, never the
/// quiet exit of a broken pipe on plain output. `after` says where the run
/// stands.
pub(crate) fn receipt_error(err: std::io::Error, after: impl std::fmt::Display) -> Error {
    let failed = Error::write("writing receipts to <stdout>", err);
    Error::new(Exit::Io, format!("{}; {after}", failed.message()))
}

/// Write one receipt line and flush it, so that a closed stdout is noticed
/// at the batch it concerns.
pub(crate) fn write_receipt(receipt: &Receipt, out: &mut Output) -> std::io::Result<()> {
    receipt.write_to(out)?;
    out.flush()
}

pub(crate) use common::text::count;

/// Exit with a batch command's own code, whatever it is.
fn exit_with(code: i32, message: String) -> Result<()> {
    Err(Error::passthrough(code, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    common::examples_test!(DOC, command, Options::from_matches);
}
