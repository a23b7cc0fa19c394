//! index-diff: compare records with the index of what was already
//! delivered, emit the new, changed and deleted ones with their keys,
//! hashes and remote ids, and, after a sink has sent them, commit its
//! per-record results to the index.
#![forbid(unsafe_code)]

mod args;
mod backup;
mod commit;
mod diff;
mod hash;
mod index;
mod key;
mod mint;
mod read;
mod record;

use args::{Args, DiffOptions, Mode, Options};
use clap::{ArgMatches, Command, CommandFactory};
use common::doc::{Example, ToolDoc};
use common::io::open_input;
use common::lock::StateLock;
use common::{Exit, Result, cli};
use index::Index;
use std::path::{Path, PathBuf};

pub(crate) const TOOL: &str = "index-diff";

pub const DOC: ToolDoc = ToolDoc {
    name: TOOL,
    description: &[
        "index-diff makes a rerun safe for flows that must not send a record twice or lose one. It is used in two phases. The diff reads records (NDJSON by default, or CSV with --from csv) and compares each, by its key (--key, one column or several for a composite key) and by a content hash, with the index of what was delivered. It emits on stdout, as NDJSON, the records to send, each with four fields added: _key (the key, a string, or an array of strings for a composite key), _op (new, changed or deleted), _remote_id (the id already known, or the one minted now, or null) and _hash (the content hash, 64 hex digits). A sink sends them and writes one result line per record. The commit (--commit) reads those result lines and marks exactly the delivered keys in the index. A record whose result is missing or failed stays undelivered, so the next diff emits it again.",
        "Ops: new is a key the index does not know, or knows but never saw delivered (pending); changed is a delivered key whose hash differs, or a key marked deleted that appears again; deleted is a key of the index that is not marked deleted and is absent from the input, and is emitted only when --emit names it (default: new,changed). Name deleted only when the input is a full snapshot, as a Kobo export is: an incremental feed would mark everything it does not carry deleted. Unchanged records are not emitted. Records come out in input order, deleted ones last in index order, carrying only _key, _op and _remote_id. Deleted keys are marked deleted in the index by the diff itself and each is reported on stderr as a warning with its key (the remote copy is removed by hand, as in SIPCA); a failed result for a deleted record un-marks it, so it comes back. An input with no records, with --emit naming deleted and an index holding live keys, would delete everything: it is exit 65 unless --allow-empty. Otherwise an empty input emits nothing and exits 0.",
        "The key is the value of the --key column (a JSON number's text is accepted); with several columns, the index key is the compact JSON array of the values as strings, such as [\"a\",\"1\"]. A missing, null, empty or non-scalar key is exit 65 naming the file, line or row, and column. A key seen twice in one input is exit 65 naming both lines or rows, with nothing emitted and the index untouched; --on-duplicate last keeps the last record with that key and does not emit the earlier ones. The content hash is the sha256 of the record as a JSON object (a CSV record as an object of strings) without the --hash-exclude columns and without _key, _op, _remote_id and _hash, its object keys sorted by their UTF-8 bytes at every depth, written compactly; numbers keep their text as written.",
        "--mint dhis2-uid gives each new key an 11-character dhis2 uid (a letter, then 10 letters or digits, uniformly random, from the OS-seeded generator); --mint uuid gives a version 4 UUID. A minted id is written to the index as pending before any output is written, so a rerun after a failed or interrupted send emits the key with the same id: the remote may have created the record before the failure, and a fresh id would make a duplicate there. A delivered entry without a hash (as SIPCA's index holds) counts as unchanged, and its current hash is recorded as the baseline, so a running SIPCA deployment switches over without sending everything again.",
        "The diff reads the whole input before it writes anything, spilling the output to a private temporary file (mode 0600, in $TMPDIR, removed at the end), so memory holds only the index, about one small entry per key. On a data error nothing is emitted and the index is left as it was. Once the input is read, the index is written (if anything in it changed), the lock is released, and the output is copied to stdout. A summary line on stderr gives the counts of records, new, changed, unchanged and deleted.",
        "The commit reads every result line first (keeping them in a private temporary file in $TMPDIR, so that memory holds only the index), so in index-diff ... | sender | index-diff --commit it takes the lock only once the diff has finished. A result line is a JSON object with _key, _op, _hash and _remote_id copied from the record it answers, ok (true or false), and optionally remote_id (the id the remote gave, which wins over _remote_id), status and error. With ok true, the key is marked delivered with that hash and remote id (a key the index does not know is added as delivered), and deleted if _op is deleted. With ok false, the entry stays as it was: a pending key stays pending and a changed one keeps its old hash. A last line without a newline that is not JSON (the sender was stopped while writing it) is skipped with a warning, and its record is sent again. Other lines that are not result lines (not a JSON object, no _key, no ok) do not stop the valid lines from being committed, and then make the exit status 65, naming the lines, never their content. A summary line on stderr gives the counts delivered, failed and skipped.",
        "The state file (--index) is a JSON object keyed by record key, one entry per line. Native entries: {\"remote_id\": \"...\", \"delivered\": true, \"deleted\": false, \"hash\": \"<64 hex>\", \"at\": \"<RFC 3339 time of the last change>\"}. SIPCA's event_index.json entries, {\"dhis2_uuid\": \"...\", \"uploaded\": true, \"deleted\": false}, are read and written as they are, with index-diff's own hash and at added. The shape is detected from an existing index; --format picks it for a new one (default native), and a --format that contradicts the file is exit 64. Fields index-diff does not know are kept, and so is the order of keys (new keys are added at the end). A missing index is started afresh (the diff says so on stderr; the commit creates it too). A corrupt, truncated or empty index file is exit 65 naming its line and column, and is never overwritten. Every write is atomic: a temporary file in the same folder, fsync, rename, mode 0600; a run killed while writing leaves the index as it was, and the temp file it left (.NAME.PID.SUFFIX.tmp) is removed by the next run.",
        "While a diff or a commit runs, it holds a lock on INDEX.lock (for example state.json.lock); a second run meanwhile exits 75 with one line saying so. The lock covers one phase only: between the diff and the commit of one run, a second run could diff the same records again. Run the whole diff, send and commit pipeline under flock(1) on a separate flow lock file, so that two cron runs never overlap between phases (see EXAMPLES). --backup-dir DIR (created with mode 0700) keeps a copy of the index from before the diff as DIR/YYYY-MM-DD_HHMMSS_NAME_initial.json and from after the commit as DIR/YYYY-MM-DD_HHMMSS_NAME_final.json, NAME being the index file's name without .json; a name already taken gets a numbered suffix, so nothing is overwritten; copies have mode 0600 and, like the index, appear under their name only once complete.",
        "No message contains a record's value: errors name the file, line or row, and column. Keys appear only in the warnings about deleted keys, and, with --show-values, in errors about keys. A column name or key from the data is printed in a message only when it is at most 128 bytes long and has no control character; otherwise it is named by its position (column 3). A CSV header may have at most 1,000,000 columns, and JSON may nest at most 128 levels (the record's object being the first); beyond either, the exit status is 65, naming the file and row or line.",
    ],
    examples: &[
        Example {
            what: "Kobo -> dhis2: mint a dhis2 uid for each new submission of the ~-separated export, send each event, and commit the results",
            command: "index-diff --index state.json --key _uuid --mint dhis2-uid --from csv -d '~' kobo.csv | http-post --each ... | index-diff --commit --index state.json",
        },
        Example {
            what: "The same from cron, as one run under a flow lock, so that a second run never starts between the diff and the commit",
            command: "flock -n kobo-dhis2.flow.lock sh -c 'index-diff --index event_index.json --key _uuid --mint dhis2-uid --emit new,changed,deleted --from csv -d \"~\" --backup-dir log/ kobo.csv | http-post --each ... | index-diff --commit --index event_index.json --backup-dir log/'",
        },
        Example {
            what: "Primero -> OSCaR: keep only new and changed cases of an incremental feed, ignoring the update time in the hash",
            command: "index-diff --index oscar_index.json --key case_id --hash-exclude last_updated_at cases.ndjson > to_send.ndjson",
        },
        Example {
            what: "Printer PDFs: skip files already uploaded, by name and sha256",
            command: "index-diff --index box_uploads.json --key name,sha256 pdfs.ndjson",
        },
        Example {
            what: "Commit result lines a sink wrote to a file",
            command: "index-diff --commit --index oscar_index.json results.ndjson",
        },
    ],
    environment: &[(
        "TMPDIR",
        "Where the diff spills its output before writing it to stdout, and the commit keeps the result lines it has read (default /tmp).",
    )],
    auth: &[],
    security: &[],
    exit_codes: &[
        Exit::Ok,
        Exit::Usage,
        Exit::Data,
        Exit::NoInput,
        Exit::Io,
        Exit::TempFail,
    ],
    other_exit_status: &[],
    broken_pipe: None,
    see_also: &["http-post(1)", "db-load(1)", "batch-split(1)", "flock(1)"],
};

pub fn command() -> Command {
    cli::with_doc(Args::command(), &DOC)
}

pub fn run(matches: &ArgMatches) -> Result<()> {
    let options = Options::from_matches(matches)?;
    match &options.mode {
        Mode::Diff(diff) => run_diff(&options, diff),
        Mode::Commit => run_commit(&options),
    }
}

fn run_diff(options: &Options, diff_options: &DiffOptions) -> Result<()> {
    let lock = StateLock::acquire(&lock_path(&options.index))?;
    if let Some(dir) = &options.backup_dir {
        backup::backup(&options.index, dir, "initial")?;
    }
    let mut index = Index::load(&options.index, options.format)?;
    let input = open_input(options.input.as_deref())?;
    let diffed = diff::diff(diff_options, &mut index, input, options.show_values)?;
    if diffed.dirty {
        index.save(&options.index)?;
    }
    drop(lock);
    if !index.existed {
        cli::info(
            TOOL,
            format!(
                "{} did not exist; started a new index",
                options.index.display()
            ),
        );
    }
    let counts = diffed.counts.summary();
    diffed.write_output(&index, diff_options.key.len() > 1)?;
    cli::info(TOOL, counts);
    Ok(())
}

fn run_commit(options: &Options) -> Result<()> {
    let input = open_input(options.input.as_deref())?;
    let mut results = commit::read_results(input)?;
    let lock = StateLock::acquire(&lock_path(&options.index))?;
    let mut index = Index::load(&options.index, options.format)?;
    let done = results.apply(&mut index, index::now_stamp())?;
    if !results.is_empty() || !index.existed {
        index.save(&options.index)?;
    }
    if let Some(dir) = &options.backup_dir {
        backup::backup(&options.index, dir, "final")?;
    }
    drop(lock);
    if let Some(warning) = results.truncated_warning() {
        cli::warn(TOOL, warning);
    }
    let summary = format!(
        "commit: {} delivered, {} failed, {} skipped",
        done.delivered, done.failed, done.skipped
    );
    match results.bad_lines_error(&summary) {
        // One line: what was wrong, and what was committed all the same.
        Some(e) => Err(e),
        None => {
            cli::info(TOOL, summary);
            Ok(())
        }
    }
}

/// The lock file of an index: `state.json` is locked on `state.json.lock`.
fn lock_path(index: &Path) -> PathBuf {
    let mut name = index.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

pub(crate) use common::text::count;
