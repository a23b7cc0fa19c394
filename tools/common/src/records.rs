//! The record formats the filters read and write, and the record-format
//! flags they share: one definition of each flag, its help and its checks.

use crate::error::{Error, Result};

/// A record format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// RFC 4180 CSV with a header row.
    Csv,
    /// One JSON object per line.
    Ndjson,
}

/// `--from` and `-d/--delimiter` of a filter whose input is NDJSON unless
/// `--from csv` says otherwise (batch-split, index-diff). Flatten it into
/// the tool's flags; [`InputFormat::format`] and
/// [`InputFormat::delimiter`] give the checked values.
#[derive(clap::Args, Debug)]
pub struct InputFormat {
    /// Input format [default: ndjson].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub from: Option<Format>,

    /// CSV field delimiter: one ASCII character, or \t for tab [default: ,].
    #[arg(short, long, value_name = "CHAR")]
    pub delimiter: Option<String>,
}

impl InputFormat {
    /// The input's format.
    pub fn format(&self) -> Format {
        self.from.unwrap_or(Format::Ndjson)
    }

    /// The CSV field delimiter; a usage error when given without `--from csv`.
    pub fn delimiter(&self) -> Result<u8> {
        match &self.delimiter {
            None => Ok(b','),
            Some(text) => {
                self.csv_only("--delimiter", true)?;
                parse_delimiter(text)
            }
        }
    }

    /// A usage error when `flag`, a CSV input flag, was `given` without `--from csv`.
    pub fn csv_only(&self, flag: &str, given: bool) -> Result<()> {
        csv_only(flag, self.format(), given)
    }
}

/// A usage error when `flag`, a CSV input flag, was `given` with an input
/// that is not CSV.
pub fn csv_only(flag: &str, from: Format, given: bool) -> Result<()> {
    if given && from != Format::Csv {
        return Err(Error::usage(format!("{flag} applies only with --from csv")));
    }
    Ok(())
}

/// Parse a delimiter flag: one ASCII character, or `\t` / `tab`.
pub fn parse_delimiter(text: &str) -> Result<u8> {
    match text {
        "\\t" | "tab" | "\t" => Ok(b'\t'),
        s if s.len() == 1 && s.is_ascii() => Ok(s.as_bytes()[0]),
        _ => Err(Error::usage(
            "--delimiter takes one ASCII character (or \\t for tab)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Flags {
        #[command(flatten)]
        input: InputFormat,
    }

    /// The checked format and delimiter of a command line, or its exit code.
    fn checked(args: &[&str]) -> std::result::Result<(Format, u8), i32> {
        let flags = Flags::try_parse_from([&["tool"], args].concat()).map_err(|_| 64)?;
        let delimiter = flags.input.delimiter().map_err(|e| e.code())?;
        Ok((flags.input.format(), delimiter))
    }

    #[test]
    fn input_format_flags() {
        for (args, expected) in [
            (&[][..], Ok((Format::Ndjson, b','))),
            (&["--from", "csv"], Ok((Format::Csv, b','))),
            (&["--from", "csv", "-d", "~"], Ok((Format::Csv, b'~'))),
            (
                &["--from", "csv", "--delimiter", "\\t"],
                Ok((Format::Csv, b'\t')),
            ),
            (&["--from", "ndjson"], Ok((Format::Ndjson, b','))),
            (&["-d", ";"], Err(64)),
            (&["--from", "ndjson", "-d", ";"], Err(64)),
            (&["--from", "csv", "-d", "ab"], Err(64)),
            (&["--from", "xml"], Err(64)),
        ] {
            assert_eq!(checked(args), expected, "{args:?}");
        }
    }

    #[test]
    fn csv_only_flags() {
        let ndjson = InputFormat {
            from: None,
            delimiter: None,
        };
        let csv = InputFormat {
            from: Some(Format::Csv),
            delimiter: None,
        };
        let refused = ndjson
            .csv_only("--encoding", true)
            .map_err(|e| e.to_string());
        assert!(
            refused.is_err_and(|e| e.contains("--encoding applies only with --from csv")),
            "--encoding without --from csv"
        );
        assert!(ndjson.csv_only("--encoding", false).is_ok());
        assert!(csv.csv_only("--encoding", true).is_ok());
    }

    #[test]
    fn delimiters() {
        assert_eq!(parse_delimiter("~").ok(), Some(b'~'));
        assert_eq!(parse_delimiter("\\t").ok(), Some(b'\t'));
        assert_eq!(parse_delimiter("tab").ok(), Some(b'\t'));
        assert!(parse_delimiter("ab").is_err());
        assert!(parse_delimiter("é").is_err());
    }
}
