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
    description: &[include_str!("../doc/description.txt")],
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

#[cfg(test)]
mod tests {
    use super::*;

    common::examples_test!(DOC, command, Options::from_matches);
}
