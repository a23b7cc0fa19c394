//! box-get: list a Box folder, download its files checked against Box's
//! sha1, and move or delete files by id once a flow is done with them.
#![forbid(unsafe_code)]

mod args;
mod download;
mod entry;
mod glob;
mod ids;
mod list;
mod moves;

use args::{Action, Options};
use clap::{ArgMatches, Command, CommandFactory};
use common::Result;
use common::boxapi::BoxClient;
use common::doc::{Example, ToolDoc};

pub use args::Args;

pub(crate) const TOOL: &str = "box-get";

pub const DOC: ToolDoc = ToolDoc {
    name: TOOL,
    description: &[
        include_str!("../doc/description.txt"),
        common::http::doc::STATUSES,
        include_str!("../doc/description-after-statuses.txt"),
    ],
    examples: &[
        Example {
            what: "Business requisitions in: the CSV files the liaisons dropped, listed",
            command: "box-get --path 'Parent/Business Liaisons/from city' --glob '*.csv' --list",
        },
        Example {
            what: "... downloaded into the day's inbox folder, one receipt per file appended to the flow's log",
            command: "box-get --path 'Parent/Business Liaisons/from city' --glob '*.csv' --out-dir inbox/2020-05-07 >> log/2020-05-07_bz-in.jsonl",
        },
        Example {
            what: "... a file that passed validation and was applied, moved to processed/success by its receipt",
            command: "printf '%s\\n' \"$receipt\" | box-get --move-to Parent/processed/success >> log/2020-05-07_bz-in.jsonl",
        },
        Example {
            what: "... one that failed, moved by its id to processed/error, keeping an older file of that name there",
            command: "box-get --move-to Parent/processed/error --on-conflict rename --id 200001",
        },
        Example {
            what: "Delete the files of a receipt log from Box, after looking at what would go",
            command: "box-get --delete --dry-run < receipts.jsonl && box-get --delete < receipts.jsonl",
        },
    ],
    environment: common::boxapi::doc::ENVIRONMENT,
    auth: common::boxapi::doc::AUTH,
    security: &[include_str!("../doc/security.txt")],
    exit_codes: common::http::doc::EXIT_CODES,
    other_exit_status: &[],
    broken_pipe: None,
    see_also: &["box-put(1)", "csv-shape(1)", "db-load(1)"],
};

pub fn command() -> Command {
    common::cli::with_doc(Args::command(), &DOC)
}

pub fn run(matches: &ArgMatches) -> Result<()> {
    let options = Options::from_matches(matches)?;
    // The files to move or delete are read and checked before any request.
    let files = match &options.action {
        Action::Move(_) | Action::Delete => Some(moves::files_to_act_on(&options)?),
        Action::List | Action::Download(_) => None,
    };
    if files.as_ref().is_some_and(Vec::is_empty) {
        // Nothing piped in (an empty receipt log): no folder is looked up
        // or created, and no credentials are needed.
        if !options.args.quiet {
            common::cli::info(TOOL, "no files to act on: standard input is empty");
        }
        return Ok(());
    }
    let client = BoxClient::new(TOOL, &options.args.boxapi)?;
    match (&options.action, files) {
        (Action::List, _) => list::run(&client, &options),
        (Action::Download(dir), _) => download::run(&client, &options, dir),
        (Action::Move(destination), Some(files)) => {
            moves::move_files(&client, &options, destination, &files)
        }
        (Action::Delete, Some(files)) => moves::delete_files(&client, &options, &files),
        _ => Err(common::Error::software(
            "no files read for --move-to or --delete",
        )),
    }
}

pub(crate) use common::text::count;

#[cfg(test)]
mod tests {
    use super::*;

    common::examples_test!(DOC, command, Options::from_matches);

    #[test]
    fn counts_say_one_or_many() {
        assert_eq!(count(1, "file", "files"), "1 file");
        assert_eq!(count(0, "entry", "entries"), "0 entries");
    }
}
