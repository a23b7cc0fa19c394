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
    description: &[
        "Input is NDJSON by default (--from ndjson). Each line is copied byte for byte with an LF ending; blank lines are dropped and a leading BOM is removed. Each line must be one JSON object: a line that is not (a truncated line, say) is exit 65 naming the file and line, never its content; batches before it are delivered, none after it. With --from csv, the header row is repeated at the top of every batch and each record is copied as it appears in the input (found with a CSV parser, so a quoted line break never splits a record); a BOM is removed. A CSV row whose field count differs from the header's is exit 65, naming the row and column; so is a quoted field still open at the end of the input (a stray quote that would swallow every later row into one record), naming the row where it opens.",
        "A batch holds at most --size records and, with --max-bytes, at most that many bytes as written: the repeated CSV header, the records, and with --array the brackets, commas and final newline. A record that alone would exceed --max-bytes is not refused and not lost: it becomes a batch of its own, with a warning naming its line or row.",
        "Choose where batches go. --out-dir DIR writes one file per batch, named by --name, each with mode 0600 and appearing under its name only when complete; one receipt line per file goes to stdout (tool, target, name, bytes, sha256, records, time). Files of the same name in DIR are replaced, so delivery is at least once: a run that was killed may leave finished files whose receipts were never printed, and a rerun on the same input writes every batch again, replacing them, and prints a receipt for each; a batch being written when the run was killed never appears under its name, and the hidden temp file it leaves (.NAME.PID.SUFFIX.tmp) is removed by the next run writing to DIR. In names, {n} is the batch number zero-padded to 4 digits, or to W digits with {n:W}; with --exec and --spool, where the count is known before the first name is given, to as many digits as the last batch number has. --out-dir writes while reading, so past batch 9999 its names have 5 digits and a shell glob no longer lists them in batch order (the receipts are always in order): batch-split warns at batch 10000, and --name 'batch-{n:6}.{ext}' avoids it. --array alone writes each batch as one JSON array per line on stdout, with no receipts; --wrap KEY makes each one an object {\"KEY\":[...]}, the payload shape ReqCheck wants. --exec CMD runs CMD with sh -c once per batch. Without any of the three, batch-split exits 64. With --array and --from csv, each record becomes an object of strings keyed by the header.",
        "With --exec, the whole input is read first and the batches are spilled to a private temporary folder (mode 0700, .batch-split.PID.SUFFIX.tmp in $TMPDIR, removed at the end; one that a killed run left is removed by the next run): bad input stops the run before any command starts, and BATCH_COUNT is known. This costs disk, not memory. Each command gets its batch on stdin (a file, so a command that reads slowly or not at all never stalls batch-split), inherits stdout and stderr, and is followed on stdout by batch-split's receipt for that batch, whose status is the command's exit code (128 + signal if killed). Both are JSON lines, so a pipeline can append stdout to its audit log. batch-split stops at the first batch whose command fails and exits with that command's exit code; --keep-going runs every batch and exits with the first failure's code. If sh cannot be started (looked up on PATH), batch-split exits 78 naming the command, and runs no batch from there on.",
        "--spool DIR reads a queue of JSON files, one record per file (a leading BOM is dropped): regular files only, oldest first by modification time then name, skipping dot files, *.tmp and *.part (files still being written) and folders; other entries (symbolic links, named pipes) and files that cannot be read are left in place with a one-line warning each, and the rest of the queue goes on. Up to --size records (and --max-bytes) form a batch, given to --exec as NDJSON (each record re-serialised compactly on one line) or as one JSON array with --array. Files are not removed while the command runs. On exit 0 they are moved to DIR/sent/; on an exit code given with --reject-code they are moved to DIR/error/ and batch-split exits with that code once done; on any other code they stay in place for the next run and batch-split exits with that code. A file that is not a JSON object (or nests deeper than 128 levels) is moved to DIR/error/ on its own, with a one-line warning naming the file and never its content, and does not block the batch; if it was changed less than --settle seconds ago (default 10), its producer may still be writing it, so it is left in place with a warning and judged again next run. Moves are renames inside DIR; sent/ and error/ are created 0700; a name already taken there gets a numbered suffix (a.json, a.1.json, ...), so nothing is overwritten. A lock on DIR/.lock makes a second, overlapping run exit 75. One run sends one batch; --all sends batches until every file present at the start has been handled. A summary line on stderr gives the counts when anything happened; an empty spool exits 0 and says so on stderr.",
        "Receipts are the audit trail of batches that had effects, so with --out-dir, --exec or --spool a receipt that cannot be written to stdout (a closed pipe, a full disk) is exit 74, not a quiet end: batch-split stops there, runs no later batch, and says which batches have no receipt (with --spool, the files of a batch that ran are moved first, so they are never sent twice). With --array alone, a closed stdout ends the run quietly, as for any filter.",
        "Empty input gives no batches and exit 0, and the command is not run. No message ever contains a record's value. A column name or key from the data is printed in a message only when it is at most 128 bytes long and has no control character; otherwise it is named by its position (column 3). A CSV header may have at most 1,000,000 columns, and JSON may nest at most 128 levels (the record's object being the first); beyond either, the exit status is 65, naming the file and row or line.",
    ],
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
