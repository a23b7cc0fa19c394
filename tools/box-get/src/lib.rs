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
        "Folders. --folder ID names a folder by its id (0 is the root; a folder's id is the number at the end of its address in Box's web app). --path names it by its path from --root (default 0): each name is looked up among the entries of its parent folder. A name that is not there is exit 69.",
        "Listing. --list writes one JSON object per entry to standard output: type, id, name, size, sha1, etag and modified_at, those that Box gives (a folder has no sha1). The folder is read --page-size entries at a time (offset and limit, up to Box's 1000), each page written and flushed as it arrives, so memory holds one page however big the folder. --glob keeps the entries whose name matches any of its patterns: * (any characters, a leading dot too), ? (one character), [a-z], [!a-z] or [^a-z] (one of, or none of, a set), and \\ before a character to take it as it is; a pattern matches the whole name, case-sensitively; quote it for the shell. --type file or --type folder keeps one kind.",
        "Downloads. --out-dir DIR (created 0700 when missing) downloads the files of the folder that --glob keeps; folders and web links are skipped. The listing is read to its end first, then each file is fetched: GET /files/ID/content is answered with a redirect to Box's download host, which is followed without the Authorization header (the address carries its own short-lived grant); an answer 202 with Retry-After (the file is not ready yet) is asked again after that wait. The content goes to a temporary file in DIR (mode 0600, .NAME.PID.SUFFIX.tmp, NAME shortened when needed so that any name up to 255 bytes can be written; one that a killed run left is removed by the next run) while its sha1 and sha256 are computed; when the sha1 equals Box's, the file is synced and renamed to DIR/NAME, replacing a file of that name in one step (a reader sees the old file or the new one, never a part), and its receipt is written. --no-clobber leaves a file that is already in DIR alone instead, with a note on stderr and no receipt.",
        "Checks. A download whose sha1 differs from Box's is removed; nothing is left under its name. Box is then asked for the file's sha1 again, since a new version may have been uploaded after the listing, and the download is tried again, within --retries; when the retries run out the exit status is 75, as for any transfer that keeps failing. A file for which Box gives no sha1 is not downloaded (exit 69), and so is a file whose name could not be a plain local file name (empty, . or .., or with a slash, a backslash or NUL).",
        "Moves and deletes. --move-to PATH (from --root) or --move-to-folder ID, and --delete, act on files by id: those of --id, or, without it, the NDJSON lines of standard input: the remote_id of box-get's (and box-put's) receipts, or the id of --list entries. Every line is read and checked before the first file is touched: a line without an id, an entry that is not a file, or a receipt of another tool is exit 65, naming the line; an id given twice is acted on once. A move (PUT /files/ID with the new parent) takes the file out of its folder in the same step, so the flow's rule \"removed from the inbound folder only after it has been moved\" holds by construction: there is no copy to delete. When the line gives the file's etag (box-get's receipts and listings, box-put's receipts), the move or delete is sent with If-Match: a file that has changed on Box since the line was written (a new version uploaded after the download) is left as it is, with exit 75, so that the next run reads it again instead of filing away a version nobody read. --mkdir creates the folders of PATH that are missing. When the target folder already has a file of that name, --on-conflict rename (the default) moves it as NAME (2).EXT, or the first free number up to 99, and fail leaves it where it is (exit 69). A file already in the target folder is left there, with its receipt. --delete reads the file's info for the receipt, then sends it to Box's trash (DELETE /files/ID). Files are done in the order given; the first failure stops the run, after the receipts of the files done before it. Empty input does nothing, without even looking up the folder (exit 0).",
        "Dry run. With --move-to or --delete, --dry-run resolves the target folder, reads each file's info and writes the receipts it would write, marked \"dry_run\":true, but creates, moves and deletes nothing. A missing folder of PATH is named in a note on stderr (with --mkdir) or is exit 69 (without).",
        "Receipts. One JSON line per file on standard output, written when the file is in place: tool, target (the folder read or moved to, as --path or --move-to gave it, else folder ID; for a delete, the folder the file was in), name (the file's name, in the target folder for a move), bytes, sha256 (of the content downloaded; for a move or a delete, carried from the input line, and left out when the line has none), remote_id (the Box file id), time, dry_run (true, with --dry-run only), and fields: action (download, move or delete), folder_id (the folder read, moved to, or deleted from), from_folder_id (a move's source), sha1 and etag as Box gives them, and path (where a download was written). A receipt never holds the content of a file.",
        "Requests. Network failures and the temporary statuses (see Statuses) are retried (--retries, --retry-delay, --max-time, honouring Retry-After), then exit 75. A 401 re-issues the token once (JWT and client credentials) and sends the request again. Other 401 and 403 answers are exit 77, a missing folder or file (404) and other refusals exit 69. Messages name the folder or file id and the request, never a token, a secret or the content of a file.",
        common::http::doc::STATUSES,
        "Summary. At the end, one line on stderr, such as box-get: 3 files downloaded (5120 bytes), box-get: 12 entries in 1 page or box-get: 2 files moved to Parent/processed/success; --quiet leaves it out.",
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
    security: &[
        "Secrets (the app's private key and its passphrase, the client secret, tokens) are read from the config file and the environment only, never from flags, and never appear in messages, receipts or debug output. HTTPS certificates are verified against the system's CAs and --ca-file; plain http:// is allowed only to a loopback host. The download host gets no Authorization header.",
        "Downloaded files are created with mode 0600 and appear under their name only once complete and checked. File content never reaches standard error.",
    ],
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
