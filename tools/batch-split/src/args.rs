//! Flags, and their validation into [`Options`] before any I/O starts.

use crate::batcher::{Framing, Limits};
use clap::{ArgMatches, FromArgMatches, Parser, value_parser};
use common::records::InputFormat;
use common::{Error, Result};
use std::path::PathBuf;
use std::time::Duration;

pub use common::records::Format;

/// Cut a CSV or NDJSON record stream into batches: files, JSON arrays, or a command run per batch.
#[derive(Parser, Debug)]
#[command(name = "batch-split", version, about)]
pub struct Args {
    /// Input file; `-` or none reads stdin.
    #[arg(value_name = "INPUT", conflicts_with = "spool")]
    pub input: Option<PathBuf>,

    #[command(flatten)]
    pub input_format: InputFormat,

    /// Records per batch, at most.
    #[arg(short = 'n', long, value_name = "N", default_value_t = 500,
          value_parser = value_parser!(u64).range(1..))]
    pub size: u64,

    /// Bytes per batch, at most, counting the repeated CSV header or the array brackets.
    /// A record larger than this on its own becomes a batch of its own, with a warning
    /// [default: no limit].
    #[arg(long, value_name = "BYTES", value_parser = value_parser!(u64).range(1..))]
    pub max_bytes: Option<u64>,

    /// Write each batch to a file in DIR (created 0700 if needed; files 0600, each
    /// appearing complete under its name) and print one receipt line per file on stdout.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["exec", "spool"])]
    pub out_dir: Option<PathBuf>,

    /// File name of each batch, also its receipt name and BATCH_NAME with --exec: {n} is the
    /// batch number zero-padded to 4 digits (with --exec and --spool, to as many as the last
    /// batch number has, if more), {n:W} pads it to W digits, {ext} is csv, ndjson, or json
    /// with --array. With --out-dir, past batch 9999 names grow to 5 digits and no longer
    /// sort in order: give a width such as {n:6} for that many batches.
    #[arg(long, value_name = "TEMPLATE", default_value = "batch-{n}.{ext}")]
    pub name: String,

    /// Make each batch one JSON array on one line. Alone, the arrays go to stdout; with
    /// --out-dir or --exec, each file or command input is one array. CSV records become
    /// objects keyed by the header, with string values.
    #[arg(long)]
    pub array: bool,

    /// With --array, make each batch an object with the array under KEY: {"KEY":[...]}.
    #[arg(long, value_name = "KEY", requires = "array")]
    pub wrap: Option<String>,

    /// Run CMD with `sh -c` once per batch, the batch on its stdin. The whole input is read
    /// first, so bad input stops the run before any command starts.
    #[arg(long, value_name = "CMD")]
    pub exec: Option<String>,

    /// With --exec, run every batch even after one fails, then exit with the first failure's code.
    #[arg(long, requires = "exec", conflicts_with = "spool")]
    pub keep_going: bool,

    /// Take the batch from a spool folder of JSON files, one record per file, oldest first;
    /// needs --exec. Files go to DIR/sent/ when the command succeeds.
    #[arg(long, value_name = "DIR", requires = "exec",
          conflicts_with_all = ["from", "delimiter"])]
    pub spool: Option<PathBuf>,

    /// With --spool, a command exit code that means the batch was refused for good: its
    /// files go to DIR/error/ (repeatable).
    #[arg(long, value_name = "CODE", requires = "spool",
          value_parser = value_parser!(i32).range(1..=255))]
    pub reject_code: Vec<i32>,

    /// With --spool, keep taking batches until every file present at the start is handled
    /// [default: one batch per run].
    #[arg(long, requires = "spool")]
    pub all: bool,

    /// With --spool, a file that is not a JSON object and was changed less than SECONDS
    /// ago may still be being written: it is left in place with a warning, not moved to
    /// DIR/error/. 0 sets every invalid file aside at once.
    #[arg(long, value_name = "SECONDS", requires = "spool", default_value_t = 10)]
    pub settle: u64,
}

/// Where batches go.
#[derive(Debug)]
pub enum Mode {
    /// One file per batch in a folder, with receipts on stdout.
    Files(PathBuf),
    /// One JSON array per line on stdout.
    Stdout,
    /// A command per batch.
    Exec { command: String, keep_going: bool },
    /// A spool folder of JSON files, a command per batch.
    Spool {
        dir: PathBuf,
        command: String,
        reject_codes: Vec<i32>,
        all: bool,
        /// How old an invalid file must be to be set aside.
        settle: Duration,
    },
}

/// The flags, checked and parsed, before any I/O.
#[derive(Debug)]
pub struct Options {
    pub input: Option<PathBuf>,
    pub from: Format,
    pub delimiter: u8,
    pub limits: Limits,
    /// How an array batch is framed, with `--array`.
    pub array: Option<Framing>,
    pub names: NameTemplate,
    pub mode: Mode,
}

impl Options {
    /// The `{ext}` of batch names.
    pub fn ext(&self) -> &'static str {
        match (&self.array, self.from) {
            (Some(_), _) => "json",
            (None, Format::Csv) => "csv",
            (None, Format::Ndjson) => "ndjson",
        }
    }
}

impl Options {
    /// Check the flags together and decide the mode, before any I/O.
    pub fn from_matches(matches: &ArgMatches) -> Result<Options> {
        let args = Args::from_arg_matches(matches).map_err(|e| Error::usage(e.to_string()))?;
        let from = args.input_format.format();
        let delimiter = args.input_format.delimiter()?;
        let names = NameTemplate::parse(&args.name)?;
        let mode = match (args.spool, args.out_dir, args.exec) {
            (Some(dir), _, Some(command)) => Mode::Spool {
                dir,
                command,
                reject_codes: args.reject_code,
                all: args.all,
                settle: Duration::from_secs(args.settle),
            },
            (Some(_), _, None) => return Err(Error::usage("--spool needs --exec")),
            (None, Some(dir), _) => Mode::Files(dir),
            (None, None, Some(command)) => Mode::Exec {
                command,
                keep_going: args.keep_going,
            },
            (None, None, None) if args.array => Mode::Stdout,
            (None, None, None) => {
                return Err(Error::usage(
                    "choose where batches go: --out-dir DIR, --array (to stdout) or --exec CMD",
                ));
            }
        };
        Ok(Options {
            input: args.input,
            from,
            delimiter,
            limits: Limits {
                size: args.size,
                max_bytes: args.max_bytes,
            },
            array: args.array.then(|| Framing::array(args.wrap.as_deref())),
            names,
            mode,
        })
    }
}

/// A batch file name with `{n}` (or `{n:W}`) and `{ext}` placeholders.
#[derive(Clone, Debug)]
pub struct NameTemplate {
    text: String,
    /// The width `{n:W}` asks for; without one, 4 digits, or as many as
    /// the last batch number has when the count is known.
    width: Option<usize>,
}

/// The width of batch numbers without `{n:W}`.
pub const DEFAULT_WIDTH: usize = 4;

impl NameTemplate {
    pub fn parse(text: &str) -> Result<NameTemplate> {
        if text.is_empty() || text.contains(['/', '\0']) {
            return Err(Error::usage(
                "--name is a file name without '/', such as 'batch-{n}.{ext}'",
            ));
        }
        let mut rest = text;
        let mut has_number = false;
        let mut width: Option<usize> = None;
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            let close = after.find('}').ok_or_else(|| {
                Error::usage("--name has a '{' without its '}'; the placeholders are {n} and {ext}")
            })?;
            match &after[..close] {
                "n" => has_number = true,
                "ext" => {}
                spec if spec.starts_with("n:") => {
                    let w = spec[2..]
                        .parse::<usize>()
                        .ok()
                        .filter(|w| (1..=20).contains(w))
                        .ok_or_else(|| {
                            Error::usage("--name: in {n:W}, W is a width from 1 to 20, as in {n:6}")
                        })?;
                    if width.is_some_and(|earlier| earlier != w) {
                        return Err(Error::usage("--name gives {n} two different widths"));
                    }
                    width = Some(w);
                    has_number = true;
                }
                _ => {
                    return Err(Error::usage(
                        "--name knows only the placeholders {n}, {n:W} and {ext}",
                    ));
                }
            }
            rest = &after[close + 1..];
        }
        if !has_number {
            return Err(Error::usage(
                "--name needs {n}, so that each batch gets its own file name",
            ));
        }
        Ok(NameTemplate {
            text: text.to_string(),
            width,
        })
    }

    /// Whether `{n:W}` fixed the width.
    pub fn has_width(&self) -> bool {
        self.width.is_some()
    }

    /// The name of batch `number` (1-based) of `count`, when the count is
    /// known: without `{n:W}`, numbers get at least 4 digits, and as many
    /// as `count` has, so that names sort in batch order.
    pub fn render(&self, number: u64, ext: &str, count: Option<u64>) -> String {
        let width = self.width.unwrap_or_else(|| {
            let digits = count.map_or(0, |c| c.to_string().len());
            digits.max(DEFAULT_WIDTH)
        });
        let number = format!("{number:0width$}");
        let mut name = self.text.replace("{ext}", ext).replace("{n}", &number);
        if let Some(w) = self.width {
            name = name.replace(&format!("{{n:{w}}}"), &number);
        }
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        let t = NameTemplate::parse("payload-{n}.{ext}").map_err(|e| e.code());
        assert_eq!(
            t.map(|t| t.render(7, "json", None)),
            Ok("payload-0007.json".to_string())
        );
        assert_eq!(
            NameTemplate::parse("x-{n}.json")
                .map(|t| t.render(12345, "", None))
                .ok(),
            Some("x-12345.json".to_string())
        );
        assert_eq!(
            NameTemplate::parse("x-{n}.json")
                .map(|t| t.render(7, "", Some(123_456)))
                .ok(),
            Some("x-000007.json".to_string())
        );
        assert_eq!(
            NameTemplate::parse("x-{n:2}-{n}")
                .map(|t| t.render(7, "", Some(123_456)))
                .ok(),
            Some("x-07-07".to_string())
        );
        for bad in ["batch.csv", "a/{n}", "{x}-{n}", "{n", ""] {
            assert_eq!(
                NameTemplate::parse(bad).map(|_| ()).map_err(|e| e.code()),
                Err(64),
                "{bad}"
            );
        }
    }
}
