//! Flags, validated into [`Options`] before any request is sent.

use crate::glob::Glob;
use clap::{ArgMatches, FromArgMatches, Parser, ValueEnum};
use common::boxapi::BoxArgs;
use common::{Error, Result};
use std::path::PathBuf;

/// The kinds of entries --type keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EntryType {
    File,
    Folder,
}

impl EntryType {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryType::File => "file",
            EntryType::Folder => "folder",
        }
    }
}

/// What --move-to does when the target folder has a file of that name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OnConflict {
    /// Move it as "NAME (2).EXT" (or the first free number up to 99).
    Rename,
    /// Leave the file where it is and exit 69.
    Fail,
}

/// List, download, move and delete files in a Box folder.
///
/// --list writes the entries of a folder (--folder ID, or --path resolved
/// by name from --root) as NDJSON; --out-dir downloads its files, checked
/// against Box's sha1, with one receipt per file; --move-to and --delete act
/// on the files named by --id or by the receipts and entries read from
/// standard input, with one receipt per file.
#[derive(Parser, Debug)]
#[command(name = "box-get", version)]
pub struct Args {
    /// The folder to list or download from, by id (0 is the root).
    #[arg(long, value_name = "ID", help_heading = "Folder")]
    pub folder: Option<String>,

    /// The folder to list or download from, by path: names separated by /,
    /// looked up from --root, e.g. 'Parent/Business Liaisons/from city'.
    #[arg(
        long,
        value_name = "PATH",
        conflicts_with = "folder",
        help_heading = "Folder"
    )]
    pub path: Option<String>,

    /// The folder that --path and --move-to start from.
    #[arg(long, value_name = "ID", default_value = "0", help_heading = "Folder")]
    pub root: String,

    /// Write the folder's entries as NDJSON (type, id, name, size, sha1,
    /// etag, modified_at).
    #[arg(long, help_heading = "Actions")]
    pub list: bool,

    /// Download the folder's files (those --glob keeps) into DIR, created
    /// if missing.
    #[arg(long, value_name = "DIR", help_heading = "Actions")]
    pub out_dir: Option<PathBuf>,

    /// Leave a file alone when DIR already has one of that name (no
    /// receipt; a note on stderr). Without it, the old file is replaced in
    /// one step.
    #[arg(long, requires = "out_dir", help_heading = "Actions")]
    pub no_clobber: bool,

    /// Move the files named by --id or by standard input into the folder at
    /// PATH (from --root).
    #[arg(long, value_name = "PATH", help_heading = "Actions")]
    pub move_to: Option<String>,

    /// Move the files named by --id or by standard input into the folder
    /// with this id.
    #[arg(
        long,
        value_name = "ID",
        conflicts_with = "move_to",
        help_heading = "Actions"
    )]
    pub move_to_folder: Option<String>,

    /// With --move-to: create the folders of PATH that are missing.
    #[arg(long, help_heading = "Actions")]
    pub mkdir: bool,

    /// With --move-to: what to do when the target folder has a file of
    /// the same name.
    #[arg(long, value_enum, value_name = "WHAT", default_value_t = OnConflict::Rename,
          help_heading = "Actions")]
    pub on_conflict: OnConflict,

    /// Delete the files named by --id or by standard input (to Box's trash).
    #[arg(long, help_heading = "Actions")]
    pub delete: bool,

    /// With --move-to or --delete: look everything up and print the
    /// receipts marked dry, but move, create and delete nothing.
    #[arg(long, help_heading = "Actions")]
    pub dry_run: bool,

    /// Keep only entries whose name matches PATTERN (repeatable: any of
    /// them): *, ?, [a-z], [!x], \ escapes; case-sensitive.
    #[arg(long, value_name = "PATTERN", help_heading = "Selection")]
    pub glob: Vec<String>,

    /// Keep only entries of this type (--list); --out-dir takes files only.
    #[arg(
        long = "type",
        value_enum,
        value_name = "TYPE",
        help_heading = "Selection"
    )]
    pub entry_type: Option<EntryType>,

    /// A file id to move or delete (repeatable); without it, the ids are
    /// read from standard input (remote_id or id of each NDJSON line).
    #[arg(long, value_name = "ID", help_heading = "Selection")]
    pub id: Vec<String>,

    /// Entries asked for in each listing request (Box allows up to 1000),
    /// also when a dry run of --move-to reads the names in the target.
    #[arg(long, value_name = "N", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=1000), help_heading = "Folder")]
    pub page_size: u64,

    /// Leave out the summary line on stderr.
    #[arg(long)]
    pub quiet: bool,

    #[command(flatten)]
    pub boxapi: BoxArgs,
}

/// The one thing a run does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    List,
    Download(PathBuf),
    Move(Destination),
    Delete,
}

/// Where --move-to and --move-to-folder send files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    Path(String),
    Folder(String),
}

/// Which folder --list and --out-dir read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Folder(String),
    Path(String),
}

/// The flags, checked, with the patterns compiled.
#[derive(Debug)]
pub struct Options {
    pub args: Args,
    pub action: Action,
    /// The folder of --list and --out-dir (None for --move-to, --delete).
    pub source: Option<Source>,
    pub globs: Vec<Glob>,
}

impl Options {
    pub fn from_matches(matches: &ArgMatches) -> Result<Options> {
        let args = Args::from_arg_matches(matches).map_err(|e| Error::usage(e.to_string()))?;
        let action = action(&args)?;
        check_id("--root", &args.root)?;
        if let Some(id) = &args.folder {
            check_id("--folder", id)?;
        }
        if let Some(id) = &args.move_to_folder {
            check_id("--move-to-folder", id)?;
        }
        let source = match (&args.folder, &args.path) {
            (Some(id), _) => Some(Source::Folder(id.clone())),
            (None, Some(path)) => Some(Source::Path(path.clone())),
            (None, None) => None,
        };
        let globs = args
            .glob
            .iter()
            .map(|p| Glob::parse(p))
            .collect::<Result<Vec<_>>>()?;
        let reads_folder = matches!(action, Action::List | Action::Download(_));
        if reads_folder {
            if source.is_none() {
                return Err(Error::usage(
                    "--list and --out-dir read a folder: give --folder ID or --path PATH",
                ));
            }
            for (given, flag) in [
                (!args.id.is_empty(), "--id"),
                (args.mkdir, "--mkdir"),
                (args.dry_run, "--dry-run"),
            ] {
                if given {
                    return Err(Error::usage(format!(
                        "{flag} goes with --move-to or --delete{}",
                        if flag == "--dry-run" {
                            " (--list shows what --out-dir would download)"
                        } else {
                            ""
                        }
                    )));
                }
            }
            if matches!(action, Action::Download(_)) && args.entry_type == Some(EntryType::Folder) {
                return Err(Error::usage(
                    "--out-dir downloads files: --type folder would keep none",
                ));
            }
        } else {
            for (given, flag) in [
                (source.is_some(), "--folder and --path"),
                (!args.glob.is_empty(), "--glob"),
                (args.entry_type.is_some(), "--type"),
            ] {
                if given {
                    return Err(Error::usage(format!(
                        "{flag} choose the entries of --list and --out-dir; --move-to and --delete act on the files of --id or standard input"
                    )));
                }
            }
        }
        if args.mkdir && !matches!(action, Action::Move(Destination::Path(_))) {
            return Err(Error::usage("--mkdir goes with --move-to PATH"));
        }
        Ok(Options {
            args,
            action,
            source,
            globs,
        })
    }
}

/// Exactly one of --list, --out-dir, --move-to(-folder) and --delete.
fn action(args: &Args) -> Result<Action> {
    let mut actions = Vec::new();
    if args.list {
        actions.push(Action::List);
    }
    if let Some(dir) = &args.out_dir {
        actions.push(Action::Download(dir.clone()));
    }
    if let Some(path) = &args.move_to {
        actions.push(Action::Move(Destination::Path(path.clone())));
    }
    if let Some(id) = &args.move_to_folder {
        actions.push(Action::Move(Destination::Folder(id.clone())));
    }
    if args.delete {
        actions.push(Action::Delete);
    }
    match actions.len() {
        1 => Ok(actions.remove(0)),
        0 => Err(Error::usage(
            "say what to do: --list, --out-dir DIR, --move-to PATH (or --move-to-folder ID) or --delete",
        )),
        _ => Err(Error::usage(
            "give one of --list, --out-dir, --move-to (or --move-to-folder) and --delete per run",
        )),
    }
}

/// Folder ids are digits (0 is the root).
fn check_id(flag: &str, id: &str) -> Result<()> {
    if id.is_empty() || id.len() > 40 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::usage(format!(
            "{flag}: a Box folder id is a number, such as 0 for the root"
        )));
    }
    Ok(())
}
