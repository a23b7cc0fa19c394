//! Flags, validated into [`Options`] before anything is read or sent.

use clap::{ArgMatches, FromArgMatches, Parser, ValueEnum};
use common::boxapi::BoxArgs;
use common::{Error, Result};
use std::path::PathBuf;

/// Box's advice: direct uploads up to 50 MB, upload sessions above.
pub const DEFAULT_CHUNKED_THRESHOLD: u64 = 50_000_000;

/// Box opens upload sessions only for files of 20 MB or more.
pub const MIN_SESSION_BYTES: u64 = 20_000_000;

/// What to do when the folder already has a file of that name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OnConflict {
    /// Upload a new version of the file in Box (unless its content is the
    /// same, see --force).
    Version,
    /// Leave the file in Box as it is.
    Skip,
    /// Stop with exit 69.
    Fail,
}

/// Upload files to a Box folder: JWT or client-credentials auth, a new
/// version on a name in use, upload sessions for big files.
///
/// Each FILE goes into the folder of --folder, or of --path found by name
/// from --root (created with --mkdir). Files up to --chunked-threshold go
/// in one request that Box checks against the file's sha1; larger ones in
/// an upload session of checked parts, committed only when every part has
/// arrived. One JSON receipt per file goes to stdout.
#[derive(Parser, Debug)]
#[command(name = "box-put", version)]
pub struct Args {
    /// Files to upload; `-` reads stdin and needs --name.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,

    /// The id of the folder to upload into.
    #[arg(
        long,
        value_name = "ID",
        conflicts_with = "path",
        help_heading = "Folder"
    )]
    pub folder: Option<String>,

    /// The folder to upload into, by name from --root, such as
    /// 'Parent/Daily Drive Thru Documents/05-07-2020'.
    #[arg(long, value_name = "PATH", help_heading = "Folder")]
    pub path: Option<String>,

    /// The folder --path starts from (0 is the user's root, "All Files").
    #[arg(
        long,
        value_name = "ID",
        default_value = "0",
        requires = "path",
        help_heading = "Folder"
    )]
    pub root: String,

    /// Create the folders of --path that are missing.
    #[arg(long, requires = "path", help_heading = "Folder")]
    pub mkdir: bool,

    /// The name in Box of the one FILE (required for `-`; default: the
    /// file's own name).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// When the folder already has a file of that name: version (a new
    /// version of it), skip (leave it) or fail (exit 69). Identical
    /// content (the same sha1) is never uploaded again, unless --force.
    #[arg(long, value_enum, value_name = "WHAT", default_value_t = OnConflict::Version)]
    pub on_conflict: OnConflict,

    /// With --on-conflict version: upload a new version even when the file
    /// in Box has the same content (sha1).
    #[arg(long)]
    pub force: bool,

    /// Upload files larger than BYTES in an upload session of parts
    /// (Box opens sessions for files of 20 MB or more only).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_CHUNKED_THRESHOLD)]
    pub chunked_threshold: u64,

    /// Resolve the folder (creating nothing: missing folders are named on
    /// stderr) and check each name for a conflict; upload nothing, and
    /// print the receipts marked dry.
    #[arg(long)]
    pub dry_run: bool,

    /// No summary line on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    #[command(flatten)]
    pub boxapi: BoxArgs,
}

/// A file to upload.
#[derive(Debug)]
pub struct Source {
    /// The local path; None for stdin.
    pub path: Option<PathBuf>,
    /// The name in messages: the path, or <stdin>.
    pub label: String,
    /// The name in Box.
    pub name: String,
}

/// Where the files go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Folder(String),
    Path { root: String, path: String },
}

/// Validated options.
#[derive(Debug)]
pub struct Options {
    pub args: Args,
    pub sources: Vec<Source>,
    pub target: Target,
}

impl Options {
    pub fn from_matches(matches: &ArgMatches) -> Result<Options> {
        let args = Args::from_arg_matches(matches).map_err(|e| Error::usage(e.to_string()))?;
        let target = match (&args.folder, &args.path) {
            (Some(id), None) => {
                check_id("--folder", id)?;
                Target::Folder(id.clone())
            }
            (None, Some(path)) => {
                check_id("--root", &args.root)?;
                if path.split('/').all(str::is_empty) {
                    return Err(Error::usage(
                        "--path is empty; give --folder ID for a folder by its id",
                    ));
                }
                Target::Path {
                    root: args.root.clone(),
                    path: path.clone(),
                }
            }
            _ => {
                return Err(Error::usage(
                    "give the folder to upload into: --folder ID, or --path PATH (from --root, default 0)",
                ));
            }
        };
        if args.force && args.on_conflict != OnConflict::Version {
            return Err(Error::usage("--force is for --on-conflict version"));
        }
        if args.chunked_threshold == 0 {
            return Err(Error::usage("--chunked-threshold must be 1 or more"));
        }
        let sources = sources(&args)?;
        Ok(Options {
            args,
            sources,
            target,
        })
    }
}

/// The files and their names in Box.
fn sources(args: &Args) -> Result<Vec<Source>> {
    if args.name.is_some() && args.files.len() > 1 {
        return Err(Error::usage("--name is for one FILE only"));
    }
    let stdin_count = args.files.iter().filter(|f| f.as_os_str() == "-").count();
    if stdin_count > 1 {
        return Err(Error::usage("- (stdin) can be given once"));
    }
    let mut sources = Vec::new();
    for file in &args.files {
        let source = if file.as_os_str() == "-" {
            let name = args
                .name
                .clone()
                .ok_or_else(|| Error::usage("- (stdin) needs --name"))?;
            Source {
                path: None,
                label: "<stdin>".into(),
                name,
            }
        } else {
            let name = match &args.name {
                Some(name) => name.clone(),
                None => file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .ok_or_else(|| Error::usage(format!("{}: not a file name", file.display())))?,
            };
            Source {
                path: Some(file.clone()),
                label: file.display().to_string(),
                name,
            }
        };
        check_name(&source.name)?;
        sources.push(source);
    }
    Ok(sources)
}

/// Box's rules for names: 1 to 255 characters, no / or \, not . or ..,
/// no leading or trailing space.
pub fn check_name(name: &str) -> Result<()> {
    let why = if name.is_empty() {
        Some("is empty")
    } else if name.chars().count() > 255 {
        Some("is longer than Box's 255 characters")
    } else if name.contains(['/', '\\']) {
        Some("has a / or \\ in it, which Box does not allow")
    } else if name == "." || name == ".." {
        Some("is . or .., which Box does not allow")
    } else if name.starts_with(' ') || name.ends_with(' ') {
        Some("starts or ends with a space, which Box does not allow")
    } else if name.chars().any(char::is_control) {
        Some("has a control character in it")
    } else {
        None
    };
    match why {
        Some(why) => Err(Error::usage(format!("the name {name:?} {why}"))),
        None => Ok(()),
    }
}

/// Box ids are digits (0 is the root folder); letters, - and _ are let
/// through, nothing that could change a URL.
fn check_id(flag: &str, id: &str) -> Result<()> {
    let plain = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    if id.is_empty() || !id.bytes().all(plain) {
        return Err(Error::usage(format!(
            "{flag} takes a Box id, such as 0 or 123456789"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_boxs_rules() {
        for good in ["a.csv", "05-07-2020 report.pdf", "é.txt"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "a\\b",
            " a",
            "a ",
            "a\nb",
            &"x".repeat(256),
        ] {
            assert_eq!(check_name(bad).map_err(|e| e.code()), Err(64), "{bad:?}");
        }
    }
}
