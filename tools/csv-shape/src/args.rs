//! Flags, and their validation into [`Options`] before any input is read.

use crate::filter::Filter;
use crate::types::ValueType;
use clap::{ArgMatches, FromArgMatches, Parser};
use common::csv::{Encoding, InputEncoding};
use common::records::{csv_only, parse_delimiter};
use common::{Error, Result};
use std::path::{Path, PathBuf};

pub use common::records::Format;

/// Select, rename, reorder, validate and filter CSV columns; convert CSV <-> NDJSON.
///
/// csv-shape is a filter for structure: it decides which columns go out, under
/// which names, in which order, and which rows. Computing new values belongs in
/// json-map. Every column name given to --select, --columns-file, --require,
/// --add-empty, --where, --types and --row-number is an output name, that is a
/// name after --rename.
#[derive(Parser, Debug)]
#[command(name = "csv-shape", version)]
pub struct Args {
    /// Input file; `-` or none reads stdin.
    #[arg(value_name = "FILE")]
    pub input: Option<PathBuf>,

    /// Write to FILE instead of stdout. The file appears (mode 0600) only once complete.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Input format.
    #[arg(long, value_enum, default_value = "csv", value_name = "FORMAT")]
    pub from: Format,

    /// Output format. NDJSON values are strings unless --types says otherwise.
    #[arg(long, value_enum, default_value = "csv", value_name = "FORMAT")]
    pub to: Format,

    /// Input field delimiter: one ASCII character, or `\t` (Kobo exports use `~`). Default `,`.
    #[arg(short, long, value_name = "CHAR", conflicts_with = "tab")]
    pub delimiter: Option<String>,

    /// Input is tab-separated (same as -d '\t').
    #[arg(short, long)]
    pub tab: bool,

    #[command(flatten)]
    pub input_encoding: InputEncoding,

    /// Output only these columns, in this order (comma-separated output names).
    #[arg(short, long, value_name = "A,B,...", conflicts_with = "columns_file")]
    pub select: Option<String>,

    /// Like --select, with one column name per line in FILE (blank lines and lines
    /// starting with `#` are ignored; spaces around a name are trimmed).
    #[arg(long, value_name = "FILE")]
    pub columns_file: Option<PathBuf>,

    /// Rename input column OLD to NEW (repeatable). Other flags refer to NEW.
    #[arg(short, long, value_name = "OLD=NEW")]
    pub rename: Vec<String>,

    /// Fail (exit 65) unless the input has these columns; all missing ones are
    /// named in one message. With NDJSON every record must have the keys.
    #[arg(long, value_name = "A,B,...")]
    pub require: Vec<String>,

    /// Columns of the layout that may have no source: written empty when the input
    /// lacks them, in their --select place (appended at the end without --select).
    #[arg(long, value_name = "A,B,...")]
    pub add_empty: Vec<String>,

    /// Add a 1-based sequence of output rows named NAME: first, or at NAME's place in --select.
    #[arg(long, value_name = "NAME")]
    pub row_number: Option<String>,

    /// Drop rows whose every field is empty (checked before the field count).
    #[arg(long)]
    pub skip_empty_rows: bool,

    /// Pad short rows with empty fields. Long rows stay an error unless their
    /// extra fields are all empty, in which case those are dropped.
    #[arg(long)]
    pub pad_ragged: bool,

    /// Keep rows where COL=VALUE, COL!=VALUE, COL~REGEX or COL!~REGEX (repeatable;
    /// every condition must hold). Regexes are unanchored: use ^ and $.
    #[arg(short, long, value_name = "COND")]
    pub r#where: Vec<String>,

    /// NDJSON output types, COL:TYPE,... with TYPE one of string, int, num (float),
    /// bool, json. An empty value becomes null. Without it every value is a string.
    #[arg(long, value_name = "COL:TYPE,...")]
    pub types: Vec<String>,

    /// CSV output: end lines with CRLF instead of LF.
    #[arg(long)]
    pub crlf: bool,

    /// CSV output: quote every field, not only those that need it.
    #[arg(long)]
    pub quote_all: bool,

    /// CSV output: also quote fields holding a space or a tab, as PHP's fputcsv
    /// does (for partners whose files look like that). --quote-all wins.
    #[arg(long)]
    pub quote_spaces: bool,

    /// CSV output: start with a UTF-8 byte order mark (for spreadsheet users).
    #[arg(long)]
    pub bom: bool,

    /// CSV output field delimiter. Default `,`.
    #[arg(long, value_name = "CHAR")]
    pub out_delimiter: Option<String>,

    /// Put the offending value in data error messages. Only on a safe machine: values are patient data.
    #[arg(long)]
    pub show_values: bool,
}

/// The flags, checked and parsed, before any input is opened.
#[derive(Debug)]
pub struct Options {
    pub input: Option<PathBuf>,
    pub output: Option<PathBuf>,
    pub from: Format,
    pub to: Format,
    pub delimiter: u8,
    pub encoding: Encoding,
    pub select: Option<Vec<String>>,
    pub renames: Vec<(String, String)>,
    pub require: Vec<String>,
    pub add_empty: Vec<String>,
    pub row_number: Option<String>,
    pub skip_empty_rows: bool,
    pub pad_ragged: bool,
    pub filters: Vec<Filter>,
    pub types: Vec<(String, ValueType)>,
    pub write: common::csv::WriteOptions,
    pub quote_spaces: bool,
    pub show_values: bool,
}

impl Options {
    pub fn from_matches(matches: &ArgMatches) -> Result<Options> {
        let args = Args::from_arg_matches(matches).map_err(|e| Error::usage(e.to_string()))?;
        let delimiter = match (&args.delimiter, args.tab) {
            (Some(d), _) => parse_delimiter(d)?,
            (None, true) => b'\t',
            (None, false) => b',',
        };
        let out_delimiter = args
            .out_delimiter
            .as_deref()
            .map(|d| {
                parse_delimiter(d).map_err(|_| {
                    Error::usage("--out-delimiter takes one ASCII character (or \\t for tab)")
                })
            })
            .transpose()?;
        if args.to == Format::Ndjson {
            for (set, flag) in [
                (args.crlf, "--crlf"),
                (args.quote_all, "--quote-all"),
                (args.quote_spaces, "--quote-spaces"),
                (args.bom, "--bom"),
                (out_delimiter.is_some(), "--out-delimiter"),
            ] {
                if set {
                    return Err(Error::usage(format!("{flag} applies to --to csv only")));
                }
            }
        }
        let encoding = args.input_encoding.encoding.unwrap_or_default();
        csv_only("--encoding", args.from, encoding != Encoding::Utf8)?;
        let select = match (&args.select, &args.columns_file) {
            (Some(list), _) => Some(common::cli::parse_list("--select", list)?),
            (None, Some(path)) => Some(read_columns_file(path)?),
            (None, None) => None,
        };
        let mut renames = Vec::new();
        for pair in &args.rename {
            let (old, new) = common::cli::parse_pair("--rename", pair)?;
            if new.is_empty() {
                return Err(Error::usage(
                    "--rename takes OLD=NEW, got an empty new name",
                ));
            }
            if renames.iter().any(|(o, _): &(String, String)| *o == old) {
                return Err(Error::usage(format!("--rename names column {old:?} twice")));
            }
            renames.push((old, new));
        }
        let require = lists("--require", &args.require)?;
        let add_empty = lists("--add-empty", &args.add_empty)?;
        if let Some(select) = &select
            && let Some(name) = add_empty.iter().find(|n| !select.contains(n))
        {
            return Err(Error::usage(format!(
                "--add-empty column {name:?} is not in the selected columns"
            )));
        }
        if args.row_number.as_deref() == Some("") {
            return Err(Error::usage("--row-number needs a column name"));
        }
        let filters = args
            .r#where
            .iter()
            .map(|c| Filter::parse(c))
            .collect::<Result<Vec<_>>>()?;
        let mut types = Vec::new();
        for item in lists("--types", &args.types)? {
            let (column, name) = item.rsplit_once(':').ok_or_else(|| {
                Error::usage(format!("--types takes COL:TYPE, got {item:?} without ':'"))
            })?;
            if column.is_empty() {
                return Err(Error::usage("--types has an empty column name"));
            }
            types.push((column.to_string(), ValueType::parse(name)?));
        }
        if !types.is_empty() && args.to != Format::Ndjson {
            return Err(Error::usage("--types applies to --to ndjson only"));
        }
        Ok(Options {
            input: args.input,
            output: args.output,
            from: args.from,
            to: args.to,
            delimiter,
            encoding,
            select,
            renames,
            require,
            add_empty,
            row_number: args.row_number,
            skip_empty_rows: args.skip_empty_rows,
            pad_ragged: args.pad_ragged,
            filters,
            types,
            write: common::csv::WriteOptions {
                crlf: args.crlf,
                quote_all: args.quote_all,
                bom: args.bom,
                delimiter: out_delimiter,
                // The row writer quotes by hand with --quote-spaces.
                quoted_by_caller: false,
            },
            quote_spaces: args.quote_spaces,
            show_values: args.show_values,
        })
    }
}

fn lists(flag: &str, values: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for value in values {
        out.extend(common::cli::parse_list(flag, value)?);
    }
    Ok(out)
}

/// One column name per line; blank lines and `#` comments are skipped.
fn read_columns_file(path: &Path) -> Result<Vec<String>> {
    let name = path.display();
    let bytes = std::fs::read(path).map_err(|e| Error::io(format!("cannot read {name}"), e))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Error::config(format!("{name}: not valid UTF-8")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let columns: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    if columns.is_empty() {
        return Err(Error::config(format!(
            "{name}: no column names in the file"
        )));
    }
    Ok(columns)
}
