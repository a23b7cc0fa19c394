//! Command-line flags, and their validation into a [`Options`] before any
//! record is read.

use crate::lookup;
use crate::program::{Global, Program};
use clap::{ArgAction, ArgMatches, FromArgMatches, Parser};
use common::{Error, Result};
use std::path::PathBuf;

/// Transform NDJSON records with a jq filter.
///
/// Each input line is one JSON value; the filter runs on each and every
/// result is written as one compact JSON line (a filter that yields nothing
/// writes nothing, one that yields two values writes two lines). Key order
/// is kept and integers of any size pass through exactly.
#[derive(Parser, Debug)]
#[command(name = "json-map", version)]
pub struct Args {
    /// The jq filter, e.g. '{id, name: (.last + ", " + .first)}'. With
    /// --from-file this argument is the input FILE instead.
    #[arg(value_name = "FILTER")]
    pub filter: Option<String>,

    /// NDJSON input file; `-` or none reads stdin.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// Read the filter from this file; the first argument is then the input FILE.
    #[arg(short = 'f', long = "from-file", value_name = "FILTER_FILE")]
    pub from_file: Option<PathBuf>,

    /// Bind $NAME to the string VALUE (repeatable).
    #[arg(long, num_args = 2, value_names = ["NAME", "VALUE"], action = ArgAction::Append, allow_hyphen_values = true)]
    pub arg: Vec<String>,

    /// Bind $NAME to the JSON value JSON (repeatable). Bad JSON is exit 64.
    #[arg(long, num_args = 2, value_names = ["NAME", "JSON"], action = ArgAction::Append, allow_hyphen_values = true)]
    pub argjson: Vec<String>,

    /// Bind $NAME to a lookup table read from FILE (repeatable): a JSON
    /// document, or a CSV file (extension .csv, or content that does not
    /// start with `{` or `[`) whose first column is the key and whose rows
    /// become objects keyed by the header, e.g. `$race[.race]`.
    #[arg(long, value_name = "NAME=FILE")]
    pub lookup: Vec<String>,

    /// Run the filter once over an array of all records (single-threaded);
    /// on empty input that array is `[]`. The array is one level of nesting
    /// more than its records.
    #[arg(short, long, conflicts_with_all = ["null_input", "keep_going"])]
    pub slurp: bool,

    /// Run the filter once with `null` as input; no input is read.
    #[arg(short = 'n', long, conflicts_with = "keep_going")]
    pub null_input: bool,

    /// Write string results as raw text, without quotes or escapes.
    #[arg(short = 'r', long)]
    pub raw_output: bool,

    /// Accepted for jq compatibility; output is always compact.
    #[arg(short = 'c', long, hide = true)]
    pub compact_output: bool,

    /// Do not stop at a record that fails (bad JSON or a filter error):
    /// report it on stderr (file, line, kind of error; no values), skip it,
    /// go on, and exit 65 at the end if any record failed.
    #[arg(long)]
    pub keep_going: bool,

    /// With --keep-going, write each failing input line unchanged to FILE
    /// (mode 0600, appears complete at the end of the run).
    #[arg(long, value_name = "FILE", requires = "keep_going")]
    pub rejects: Option<PathBuf>,

    /// Include record values in error messages and in what `debug`,
    /// `stderr` and `halt_error` print (for debugging on a safe machine;
    /// they may hold patient data).
    #[arg(long)]
    pub show_values: bool,

    /// Worker threads for parsing, filtering and writing [default: the
    /// number of CPUs, at least 2].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
}

/// How the filter is fed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Once per input line, in parallel chunks.
    PerRecord,
    /// Once over an array of every record.
    Slurp,
    /// Once with `null`.
    NullInput,
}

/// Validated options.
#[derive(Debug)]
pub struct Options {
    pub program: Program,
    pub input: Option<PathBuf>,
    pub mode: Mode,
    pub raw_output: bool,
    pub keep_going: bool,
    pub rejects: Option<PathBuf>,
    pub show_values: bool,
    pub threads: usize,
}

impl Options {
    /// The checked flags: parsed, then [`Args::into_options`].
    pub fn from_matches(matches: &ArgMatches) -> Result<Options> {
        Args::from_arg_matches(matches)
            .map_err(|e| Error::usage(e.to_string()))?
            .into_options()
    }
}

impl Args {
    /// Check the flags, read the filter and lookup files, and compile the
    /// filter once so that a bad one fails before any input is read.
    pub fn into_options(self) -> Result<Options> {
        let (origin, code, input) = match (&self.from_file, self.filter, self.file) {
            (Some(path), first, None) => (
                path.display().to_string(),
                read_filter_file(path)?,
                first.map(PathBuf::from),
            ),
            (Some(_), _, Some(_)) => {
                return Err(Error::usage(
                    "with --from-file, give at most one argument: the input FILE",
                ));
            }
            (None, Some(filter), file) => ("filter".to_string(), filter, file),
            (None, None, _) => {
                return Err(Error::usage(
                    "give a FILTER (or --from-file FILTER_FILE); try '.' to pass records through",
                ));
            }
        };
        let mode = if self.slurp {
            Mode::Slurp
        } else if self.null_input {
            if input.is_some() {
                return Err(Error::usage(
                    "--null-input reads no input; leave out the FILE argument",
                ));
            }
            Mode::NullInput
        } else {
            Mode::PerRecord
        };

        let mut globals = Vec::new();
        for pair in self.arg.chunks(2) {
            if let [name, value] = pair {
                globals.push((checked_name("--arg", name)?, Global::Str(value.clone())));
            }
        }
        for pair in self.argjson.chunks(2) {
            if let [name, json] = pair {
                let name = checked_name("--argjson", name)?;
                let checked = common::ndjson::parse_json::<serde::de::IgnoredAny>(
                    json.as_bytes(),
                    "--argjson",
                    1,
                );
                if checked.is_err() {
                    return Err(Error::usage(format!(
                        "--argjson {name}: the value {}",
                        argjson_fault(json)
                    )));
                }
                globals.push((name, Global::Json(json.as_bytes().into())));
            }
        }
        for spec in &self.lookup {
            let (name, path) = common::cli::parse_pair("--lookup", spec)?;
            let name = checked_name("--lookup", &name)?;
            let json = lookup::load(&PathBuf::from(path))?;
            globals.push((name, Global::Lookup(json.into())));
        }
        let mut seen = std::collections::HashSet::new();
        for (name, _) in &globals {
            if !seen.insert(name.as_str()) {
                return Err(Error::usage(format!(
                    "${name} is bound twice (by --arg, --argjson or --lookup)"
                )));
            }
        }

        let program = Program::new(origin, code, globals);
        program.compile()?;
        let threads = match self.threads {
            Some(n) => usize::from(n),
            None => std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(2)
                .max(2),
        };
        Ok(Options {
            program,
            input: input.filter(|p| p.as_os_str() != "-"),
            mode,
            raw_output: self.raw_output,
            keep_going: self.keep_going,
            rejects: self.rejects,
            show_values: self.show_values,
            threads,
        })
    }
}

fn read_filter_file(path: &std::path::Path) -> Result<String> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::io(format!("cannot read filter file {}", path.display()), e))?;
    String::from_utf8(bytes)
        .map_err(|_| Error::usage(format!("{}: the filter is not valid UTF-8", path.display())))
}

/// Why an --argjson value was refused: too deep, or not JSON.
fn argjson_fault(json: &str) -> String {
    if common::ndjson::nesting_depth(json.as_bytes()) > common::ndjson::MAX_DEPTH {
        format!("has {}", common::ndjson::too_deep_message())
    } else {
        "is not valid JSON".to_string()
    }
}

/// A variable name as jq spells it: letters, digits and `_`, not starting
/// with a digit; `ENV` and `ARGS` are taken.
fn checked_name(flag: &str, name: &str) -> Result<String> {
    let name = name.strip_prefix('$').unwrap_or(name);
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(Error::usage(format!(
            "{flag}: {name:?} is not a variable name (letters, digits and _, not starting with a digit)"
        )));
    }
    if name == "ENV" || name == "ARGS" {
        return Err(Error::usage(format!(
            "{flag}: ${name} is predefined; choose another name"
        )));
    }
    Ok(name.to_string())
}
