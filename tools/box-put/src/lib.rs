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
        include_str!("../doc/description.txt"),
        common::http::doc::STATUSES,
        include_str!("../doc/description-after-statuses.txt"),
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
    security: &[include_str!("../doc/security.txt")],
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
                        common::text::noun(plan.missing.len(), "folder", "folders"),
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
        let prefix = if dry_run { "dry run: " } else { "" };
        let files = common::text::count(total, "file", "files");
        format!("{prefix}{files}: {}", parts.join(", "))
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
