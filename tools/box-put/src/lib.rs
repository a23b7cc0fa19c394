//! box-put: upload files to a Box folder, with JWT or client-credentials
//! auth, a new version when the name is in use, and upload sessions for
//! big files.
#![forbid(unsafe_code)]

mod args;
mod chunked;
mod progress;
mod simple;
mod source;
mod upload;

use args::{Args, Options, Target};
use clap::{ArgMatches, Command, CommandFactory};
use common::boxapi::BoxClient;
use common::doc::{Example, ToolDoc};
use common::receipt::Receipt;
use common::{Error, Result};
use serde_json::{Map, Value, json};
use source::Local;
use std::collections::HashMap;
use std::io::Write;
use upload::{Action, Delivered, text};

pub(crate) const TOOL: &str = "box-put";

pub const DOC: ToolDoc = ToolDoc {
    name: TOOL,
    description: &[
        "Folder. --folder ID uploads into that folder. --path 'A/B/C' finds each folder by name, from --root (default 0, the root of the account's files); a folder that is missing is exit 69, or with --mkdir is created, and one that turns out to exist when it is created (Box's 409, from another run at the same moment) is used. Folder names are matched as Box matches them, regardless of case (an exact match first).",
        "Names. Each FILE keeps its own name, or takes --name when it is the only one; - reads standard input, which needs --name (it is first copied to an unnamed temporary file, so that a retry can send it again). Names follow Box's rules: 1 to 255 characters, no / or \\, not . or .., no space at either end (exit 64). Every FILE is opened and read (sha1 and sha256) before the first upload: a missing one is exit 66 and nothing is sent.",
        "Uploads. A file up to --chunked-threshold (default 50000000 bytes, Box's advice) goes in one multipart request to the upload host: the attributes part (name, parent folder, content_modified_at from the file's modification time) before the file part, and Content-MD5 holding the file's sha1, so that Box refuses content that arrived damaged. A larger file (of at least 20000000 bytes, Box's minimum) goes in an upload session: Box gives the part size, every part but the last is exactly that long and is sent with its Content-Range and a Digest (sha= the base64 sha1 of the part), and the commit lists the parts Box acknowledged with the Digest of the whole file. Box assembles the file only at the commit, so a file is never seen half-uploaded under its name. While the commit answers 202, it is sent again after its Retry-After, for --max-time or ten minutes in all. When a part or the commit fails, the session is aborted (DELETE) before the tool exits. A single request may take --timeout plus one second per 100 kB of its body; --timeout still bounds connecting and each read and write.",
        "Name in use. When the folder already has a file of that name (Box's 409, whose context_info.conflicts names it: an object or a list, both are read), --on-conflict says what to do. version (the default) uploads the file as a new version of that one (POST /files/ID/content, or an upload session for it); skip leaves the file in Box as it is; fail is exit 69. In every case, a file whose sha1 is the one Box has for its current version is not uploaded again: its receipt says \"action\":\"unchanged\". So rerunning a flow does not pile up identical versions; --force uploads a new version all the same. With skip, a file with other content is left alone, with a warning on stderr and \"action\":\"skipped\" in its receipt. A name in use by a folder is exit 69.",
        "Retries. Connection failures, timeouts and the temporary statuses (see Statuses) are retried (--retries, --retry-delay, honouring Retry-After, within --max-time), then exit 75. A simple upload retried after its answer was lost, which Box had in fact received, finds the name in use with the same sha1 and is reported unchanged (with version or skip), not uploaded twice. Other refusals (404 for a missing folder, 400 for a name Box refuses) are exit 69, with Box's error code in the message.",
        common::http::doc::STATUSES,
        "Receipts. One JSON line per file on standard output, written when the file is in place: tool, target (--path as given, or folder ID), name, bytes, sha256, remote_id (the Box file id), status (the HTTP status of the answer that delivered it, absent when nothing was sent), time, and fields: folder_id, sha1, version (the file's etag in Box), action (upload, version, unchanged or skipped) and upload (simple or chunked, when something was uploaded). The receipts of the files delivered before a failure are written; a rerun then finds them unchanged.",
        "Dry run. --dry-run reads the files, gets a token, resolves the folder without creating anything (the folders --mkdir would create are named on stderr), lists the folder to find names in use, and writes the receipts it would write with the action each file would get, marked \"dry_run\":true; it uploads nothing.",
        "Progress. On a terminal, standard error shows the progress of files sent in an upload session. At the end, one summary line on stderr (--quiet leaves it out).",
    ],
    examples: &[
        Example {
            what: "End of day (flow 1), city delivery: the day's three files into the dated folder, created when missing (the JWT app of BOX_CONFIG), receipts to the audit log",
            command: "box-put --path 'Parent/Daily Drive Thru Documents/05-07-2020' --mkdir data/2020-05-07/*.csv >> log/2020-05-07_eod.jsonl",
        },
        Example {
            what: "... and the print file again into transportation, under a dated name",
            command: "box-put --path Parent/transportation --name patients_form_print_2020-05-07.csv data/2020-05-07/patients_form_print.csv",
        },
        Example {
            what: "Business requisitions out (flow 2): the hour's file into the liaisons' folder",
            command: "box-put --path 'Parent/Business Liaisons/to city' business_requisition_2020-05-07_0900.csv",
        },
        Example {
            what: "Printer PDFs (flow 4): each PDF into the day's folder, leaving alone any already there",
            command: "box-put --path 'Parent/Printer PDFs/05-07-2020' --mkdir --on-conflict skip pickbox/2020-05-07/*.pdf",
        },
        Example {
            what: "What a run would do: resolve the folder and check the names, create and upload nothing",
            command: "box-put --dry-run --path 'Parent/Daily Drive Thru Documents/05-08-2020' --mkdir data/2020-05-08/*.csv",
        },
        Example {
            what: "Standard input under a name, into a folder by id, with client-credentials auth (BOX_CLIENT_ID, BOX_CLIENT_SECRET, BOX_SUBJECT_TYPE and BOX_SUBJECT_ID set)",
            command: "csv-shape --select car_number,name appointments.csv | box-put --auth ccg --folder 1234567890 --name cars.csv -",
        },
    ],
    environment: common::boxapi::doc::ENVIRONMENT,
    auth: common::boxapi::doc::AUTH,
    security: &[
        "Secrets (the client secret, the private key and its passphrase, tokens) come from box_config.json, from the environment or from files named there, never from flags, and never appear in messages, receipts or debug output. HTTPS certificates are verified against the system's CAs and --ca-file, with no flag to skip the check (exit 77); plain http:// is allowed to loopback hosts only.",
        "Content. A file's content goes to Box only, checked by its sha1 (Content-MD5, the parts' Digest and the commit's Digest); messages and receipts name files, folders and ids, never content.",
    ],
    exit_codes: common::http::doc::EXIT_CODES,
    other_exit_status: &[],
    broken_pipe: None,
    see_also: &["box-get(1)", "sftp-put(1)", "http-post(1)"],
};

pub fn command() -> Command {
    common::cli::with_doc(Args::command(), &DOC)
}

pub fn run(matches: &ArgMatches) -> Result<()> {
    let options = Options::from_matches(matches)?;
    let client = BoxClient::new(TOOL, &options.args.boxapi)?;
    let mut locals = source::open_all(&options.sources)?;
    let target = match &options.target {
        Target::Folder(id) => format!("folder {id}"),
        Target::Path { path, .. } => path.clone(),
    };
    if options.args.dry_run {
        return dry_run(&client, &options, &target, &locals);
    }
    let folder = match &options.target {
        Target::Folder(id) => id.clone(),
        Target::Path { root, path } => client.resolve_path(root, path, options.args.mkdir)?,
    };
    let mut out = std::io::stdout().lock();
    let mut counts = Counts::default();
    for local in &mut locals {
        let delivered = upload::deliver(&client, &options, &folder, local)?;
        if delivered.action == Action::Skipped {
            common::cli::warn(
                TOOL,
                format!(
                    "{}: Box's file {:?} (file {}) has other content; left as it is (--on-conflict skip)",
                    local.label,
                    local.name,
                    text(&delivered.file, "id")
                ),
            );
        }
        write_receipt(
            &mut out,
            &receipt(&target, Some(&folder), local, &delivered, false),
        )?;
        counts.add(delivered.action);
    }
    if !options.args.quiet {
        common::cli::info(TOOL, counts.summary(false));
    }
    Ok(())
}

/// Resolve the folder without creating it, find the names in use, and
/// write the receipts of what a run would do.
fn dry_run(client: &BoxClient, options: &Options, target: &str, locals: &[Local]) -> Result<()> {
    let folder = match &options.target {
        Target::Folder(id) => Some(id.clone()),
        Target::Path { root, path } => {
            let plan = client.plan_path(root, path)?;
            if plan.id.is_none() {
                let first = plan.missing.first().cloned().unwrap_or_default();
                if !options.args.mkdir {
                    return Err(Error::unavailable(format!(
                        "folder {first:?} not found under folder {root} (--mkdir creates it)"
                    )));
                }
                common::cli::info(
                    TOOL,
                    format!(
                        "dry run: --mkdir would create {} {}",
                        if plan.missing.len() == 1 {
                            "folder"
                        } else {
                            "folders"
                        },
                        plan.missing
                            .iter()
                            .map(|p| format!("{p:?}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
            plan.id
        }
    };
    let mut in_use: HashMap<String, Value> = HashMap::new();
    if let Some(id) = &folder {
        for entry in client.folder_items(id, 1000) {
            let entry = entry?;
            in_use.insert(text(&entry, "name").to_lowercase(), entry);
        }
    }
    let mut out = std::io::stdout().lock();
    let mut counts = Counts::default();
    for local in locals {
        let delivered = match in_use.get(&local.name.to_lowercase()) {
            None => Delivered {
                action: Action::Upload,
                status: None,
                file: Value::Null,
                method: Some(if upload::is_chunked(options, local.bytes) {
                    "chunked"
                } else {
                    "simple"
                }),
            },
            Some(entry) if text(entry, "type") != "file" => {
                return Err(Error::unavailable(format!(
                    "{}: the name {:?} in folder {} is taken by a {} ({}), not a file",
                    local.label,
                    local.name,
                    folder.as_deref().unwrap_or_default(),
                    text(entry, "type"),
                    text(entry, "id")
                )));
            }
            Some(entry) => {
                let action = upload::decide(options, local, entry)?.unwrap_or(Action::Version);
                Delivered {
                    action,
                    status: None,
                    file: entry.clone(),
                    method: None,
                }
            }
        };
        write_receipt(
            &mut out,
            &receipt(target, folder.as_deref(), local, &delivered, true),
        )?;
        counts.add(delivered.action);
    }
    if !options.args.quiet {
        common::cli::info(TOOL, counts.summary(true));
    }
    Ok(())
}

fn receipt(
    target: &str,
    folder: Option<&str>,
    local: &Local,
    delivered: &Delivered,
    dry_run: bool,
) -> Receipt {
    let mut fields = Map::new();
    fields.insert("folder_id".into(), json!(folder));
    fields.insert("sha1".into(), json!(local.sha1));
    let etag = text(&delivered.file, "etag");
    if !etag.is_empty() {
        fields.insert("version".into(), json!(etag));
    }
    fields.insert("action".into(), json!(delivered.action.name()));
    if let Some(method) = delivered.method {
        fields.insert("upload".into(), json!(method));
    }
    let id = text(&delivered.file, "id");
    Receipt {
        tool: TOOL.into(),
        target: target.into(),
        name: local.name.clone(),
        bytes: local.bytes,
        sha256: local.sha256.clone(),
        remote_id: (!id.is_empty()).then_some(id),
        status: delivered.status.map(i64::from),
        time: common::time::now_rfc3339(),
        dry_run,
        fields: Some(fields),
        ..Receipt::default()
    }
}

fn write_receipt(out: &mut impl Write, receipt: &Receipt) -> Result<()> {
    receipt
        .write_to(out)
        .and_then(|()| out.flush())
        .map_err(|e| Error::write("writing <stdout>", e))
}

/// How many files came to what, for the summary line.
#[derive(Debug, Default)]
struct Counts {
    uploaded: u64,
    versions: u64,
    unchanged: u64,
    skipped: u64,
}

impl Counts {
    fn add(&mut self, action: Action) {
        match action {
            Action::Upload => self.uploaded += 1,
            Action::Version => self.versions += 1,
            Action::Unchanged => self.unchanged += 1,
            Action::Skipped => self.skipped += 1,
        }
    }

    fn summary(&self, dry_run: bool) -> String {
        let total = self.uploaded + self.versions + self.unchanged + self.skipped;
        let (uploaded, versions, skipped) = if dry_run {
            (
                "to upload",
                "to upload as new versions",
                "to leave as they are",
            )
        } else {
            ("uploaded", "new versions", "skipped")
        };
        let parts: Vec<String> = [
            (self.uploaded, uploaded),
            (self.versions, versions),
            (self.unchanged, "unchanged"),
            (self.skipped, skipped),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        let files = if total == 1 { "file" } else { "files" };
        let prefix = if dry_run { "dry run: " } else { "" };
        format!("{prefix}{total} {files}: {}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    common::examples_test!(DOC, command, Options::from_matches);

    #[test]
    fn the_summary_counts_what_was_done() {
        let mut counts = Counts::default();
        counts.add(Action::Upload);
        counts.add(Action::Upload);
        counts.add(Action::Unchanged);
        assert_eq!(counts.summary(false), "3 files: 2 uploaded, 1 unchanged");
        counts.add(Action::Version);
        assert_eq!(
            counts.summary(true),
            "dry run: 4 files: 2 to upload, 1 to upload as new versions, 1 unchanged"
        );
    }
}
