//! Flags, and their validation into [`Options`] before any I/O starts.

use clap::{ArgMatches, FromArgMatches, Parser, ValueEnum};
use common::csv::{Encoding, InputEncoding};
use common::records::InputFormat;
use common::{Error, Result};
use std::path::PathBuf;

pub use common::records::Format;

/// The shape of the state file's entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum IndexFormat {
    /// {"remote_id", "delivered", "deleted", "hash", "at"}.
    Native,
    /// SIPCA's event_index.json: {"dhis2_uuid", "uploaded", "deleted"}, plus "hash" and "at".
    Sipca,
}

/// How a new key gets its remote id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Mint {
    /// An 11-character dhis2 uid: a letter, then 10 letters or digits.
    #[value(name = "dhis2-uid")]
    Dhis2Uid,
    /// A random (version 4) UUID.
    Uuid,
}

/// What to do with a key that appears twice in one input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OnDuplicate {
    /// Exit 65 naming both rows; nothing is emitted.
    Error,
    /// Keep the last record with the key; the earlier ones are not emitted.
    Last,
}

/// Compare records with the index of what was delivered; emit new, changed and deleted records.
#[derive(Parser, Debug)]
#[command(name = "index-diff", version, about)]
pub struct Args {
    /// Input file: records (diff) or result lines (--commit); `-` or none reads stdin.
    #[arg(value_name = "INPUT")]
    pub input: Option<PathBuf>,

    /// The state file: a JSON object keyed by record key. Locked on INDEX.lock while in use.
    #[arg(long, value_name = "STATE.json")]
    pub index: PathBuf,

    /// Read result lines from a sink and mark those records delivered, instead of diffing.
    #[arg(long, conflicts_with_all = ["key", "emit", "mint", "hash_exclude", "from", "delimiter",
          "encoding", "on_duplicate", "allow_empty"])]
    pub commit: bool,

    /// The key column, or several separated by commas for a composite key.
    #[arg(long, value_name = "COL[,COL..]", required_unless_present = "commit")]
    pub key: Option<String>,

    /// Which ops to emit, separated by commas: new, changed, deleted. Give deleted only when
    /// the input is a full snapshot [default: new,changed].
    #[arg(long, value_name = "OPS")]
    pub emit: Option<String>,

    /// Mint a remote id for each new key, kept in the index as pending until delivered.
    #[arg(long, value_enum, value_name = "KIND")]
    pub mint: Option<Mint>,

    /// Columns left out of the content hash, separated by commas (e.g. a submission time).
    #[arg(long, value_name = "COLS")]
    pub hash_exclude: Option<String>,

    #[command(flatten)]
    pub input_format: InputFormat,

    #[command(flatten)]
    pub input_encoding: InputEncoding,

    /// What a key seen twice in one input does [default: error].
    #[arg(long, value_enum, value_name = "WHAT")]
    pub on_duplicate: Option<OnDuplicate>,

    /// The shape of a new index. An existing index's shape is detected; a --format that
    /// contradicts it is exit 64 [default: native].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<IndexFormat>,

    /// Copy the index to DIR before the run (DATE_NAME_initial.json) and after --commit
    /// (DATE_NAME_final.json). DIR is created with mode 0700.
    #[arg(long, value_name = "DIR")]
    pub backup_dir: Option<PathBuf>,

    /// With --emit deleted, accept an empty input, which marks every key deleted.
    #[arg(long)]
    pub allow_empty: bool,

    /// Put key values in error messages, for debugging on a safe machine.
    #[arg(long)]
    pub show_values: bool,
}

/// Which ops go to the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Emit {
    pub new: bool,
    pub changed: bool,
    pub deleted: bool,
}

/// The checked flags of a diff.
#[derive(Debug)]
pub struct DiffOptions {
    pub key: Vec<String>,
    pub emit: Emit,
    pub mint: Option<Mint>,
    pub hash_exclude: Vec<String>,
    pub from: Format,
    pub delimiter: u8,
    pub encoding: Encoding,
    pub on_duplicate: OnDuplicate,
    pub allow_empty: bool,
}

/// What the run does.
#[derive(Debug)]
pub enum Mode {
    Diff(DiffOptions),
    Commit,
}

/// The flags, checked and parsed, before any I/O.
#[derive(Debug)]
pub struct Options {
    pub index: PathBuf,
    pub input: Option<PathBuf>,
    pub format: Option<IndexFormat>,
    pub backup_dir: Option<PathBuf>,
    pub show_values: bool,
    pub mode: Mode,
}

impl Options {
    /// Check the flags together, before any I/O.
    pub fn from_matches(matches: &ArgMatches) -> Result<Options> {
        let args = Args::from_arg_matches(matches).map_err(|e| Error::usage(e.to_string()))?;
        if args.index.file_name().is_none() || args.index.as_os_str() == "-" {
            return Err(Error::usage("--index takes the path of a file"));
        }
        let mode = if args.commit {
            Mode::Commit
        } else {
            Mode::Diff(args.diff_options()?)
        };
        Ok(Options {
            index: args.index,
            input: args.input,
            format: args.format,
            backup_dir: args.backup_dir,
            show_values: args.show_values,
            mode,
        })
    }
}

impl Args {
    fn diff_options(&self) -> Result<DiffOptions> {
        let key = common::cli::parse_list("--key", self.key.as_deref().unwrap_or_default())?;
        if let Some(twice) = key.iter().enumerate().find(|(i, k)| key[..*i].contains(k)) {
            return Err(Error::usage(format!(
                "--key names the column {:?} twice",
                twice.1
            )));
        }
        let emit = match &self.emit {
            None => Emit {
                new: true,
                changed: true,
                deleted: false,
            },
            Some(text) => parse_emit(text)?,
        };
        let hash_exclude = match &self.hash_exclude {
            None => Vec::new(),
            Some(text) => common::cli::parse_list("--hash-exclude", text)?,
        };
        let from = self.input_format.format();
        let delimiter = self.input_format.delimiter()?;
        self.input_format
            .csv_only("--encoding", self.input_encoding.encoding.is_some())?;
        if self.allow_empty && !emit.deleted {
            return Err(Error::usage(
                "--allow-empty applies only with --emit naming deleted",
            ));
        }
        if self.mint.is_some() && !emit.new {
            return Err(Error::usage(
                "--mint gives ids to new records, but --emit does not name new",
            ));
        }
        Ok(DiffOptions {
            key,
            emit,
            mint: self.mint,
            hash_exclude,
            from,
            delimiter,
            encoding: self.input_encoding.encoding.unwrap_or_default(),
            on_duplicate: self.on_duplicate.unwrap_or(OnDuplicate::Error),
            allow_empty: self.allow_empty,
        })
    }
}

fn parse_emit(text: &str) -> Result<Emit> {
    let mut emit = Emit {
        new: false,
        changed: false,
        deleted: false,
    };
    for op in common::cli::parse_list("--emit", text)? {
        match op.as_str() {
            "new" => emit.new = true,
            "changed" => emit.changed = true,
            "deleted" => emit.deleted = true,
            _ => {
                return Err(Error::usage(format!(
                    "--emit knows new, changed and deleted, not {op:?}"
                )));
            }
        }
    }
    Ok(emit)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checked flags of an index-diff command line.
    fn options(args: &[&str]) -> Result<Options> {
        let mut all = vec!["index-diff"];
        all.extend_from_slice(args);
        let matches = <Args as clap::CommandFactory>::command()
            .try_get_matches_from(all)
            .map_err(|e| Error::usage(e.to_string()))?;
        Options::from_matches(&matches)
    }

    #[test]
    fn bad_flag_combinations_are_usage_errors() {
        for args in [
            &["--index", "s.json", "--key", "a,,b"][..],
            &["--index", "s.json", "--key", "a,a"],
            &["--index", "s.json", "--key", "a", "--emit", "new,gone"],
            &["--index", "s.json", "--key", "a", "-d", "~"],
            &["--index", "s.json", "--key", "a", "--allow-empty"],
            &[
                "--index", "s.json", "--key", "a", "--emit", "changed", "--mint", "uuid",
            ],
            &["--index", "s.json"],
            &["--index", "-", "--key", "a"],
            &["--index", "s.json", "--commit", "--key", "a"],
        ] {
            assert_eq!(
                options(args).map(|_| ()).map_err(|e| e.code()),
                Err(64),
                "{args:?}"
            );
        }
    }

    #[test]
    fn defaults() -> Result<()> {
        let p = options(&["--index", "s.json", "--key", "a, b"])?;
        let Mode::Diff(d) = p.mode else {
            return Err(Error::software("not a diff"));
        };
        assert_eq!(d.key, ["a", "b"]);
        assert!(d.emit.new && d.emit.changed && !d.emit.deleted);
        assert_eq!((d.from, d.delimiter), (Format::Ndjson, b','));
        assert!(matches!(
            options(&["--index", "s.json", "--commit"])?.mode,
            Mode::Commit
        ));
        Ok(())
    }
}
