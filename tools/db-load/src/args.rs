//! Flags, and their validation into [`Options`] before any input is read.

use clap::parser::ValueSource;
use clap::{ArgMatches, FromArgMatches, Parser, ValueEnum};
use common::db::DbUrl;
use common::{Error, Result};
use std::path::PathBuf;
use std::time::Duration;

pub use common::records::Format;

/// What each record does to the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Add a row; a key that exists already fails on the table's unique key.
    Insert,
    /// Change the row with the record's key; a key that matches no row fails.
    Update,
    /// Add the row, or change it where the key exists (needs a unique key on --key).
    Upsert,
}

impl Mode {
    /// The past participle for summaries: "3 rows updated".
    pub fn done(self) -> &'static str {
        match self {
            Mode::Insert => "inserted",
            Mode::Update => "updated",
            Mode::Upsert => "upserted",
        }
    }
}

/// Apply CSV or NDJSON records to a database table, in one transaction.
///
/// Each record becomes one row: inserted, updated by key, or upserted. The
/// record's fields are matched to the table's columns by name. If any record
/// fails, nothing is applied, and every failing record is listed on stderr
/// as `Row N: column: reason`, without values. One result line per record on
/// stdout says what happened to it, for `index-diff --commit`.
#[derive(Parser, Debug)]
#[command(name = "db-load", version)]
pub struct Args {
    /// Input file of records; `-` or none reads stdin.
    #[arg(value_name = "INPUT")]
    pub input: Option<PathBuf>,

    /// Database URL: sqlite:FILE, postgres://USER@HOST:PORT/DB, mysql://USER@HOST:PORT/DB
    /// (or mariadb://). A URL with a password is refused here (it would show in ps): put it
    /// in DATABASE_URL or use --password-env.
    #[arg(long, value_name = "URL", env = "DATABASE_URL", hide_env_values = true)]
    pub db: Option<String>,

    /// Read the database password from environment variable NAME (or from the file named by
    /// NAME_FILE). It replaces a password in the URL.
    #[arg(long, value_name = "NAME")]
    pub password_env: Option<String>,

    /// The table to write: NAME, or SCHEMA.NAME (MariaDB/MySQL: DATABASE.NAME).
    #[arg(short, long, value_name = "TABLE")]
    pub table: String,

    /// The key column, or several separated by commas for a composite key. Update and upsert
    /// find the row by it; the result lines carry it.
    #[arg(short, long, value_name = "COL[,COL..]")]
    pub key: String,

    /// What to do with each record. Upsert needs a primary key or unique index on exactly
    /// the --key columns.
    #[arg(short, long, value_enum, default_value = "upsert", value_name = "MODE")]
    pub mode: Mode,

    /// Write only these columns (comma-separated); the --key columns are always used to find
    /// the row. Without it, every input column is written.
    #[arg(short, long, value_name = "A,B,..")]
    pub columns: Option<String>,

    /// Input format; every CSV value is text.
    #[arg(long, value_enum, default_value = "csv", value_name = "FORMAT")]
    pub from: Format,

    /// CSV field delimiter: one ASCII character, or \t for tab.
    #[arg(short, long, value_name = "CHAR", default_value = ",")]
    pub delimiter: String,

    /// CSV: write an empty field as an empty string. Without it, an empty field is NULL.
    #[arg(long)]
    pub keep_empty: bool,

    /// Commit each record on its own: a failing record is reported and the others stay
    /// applied (exit 65 at the end if any failed).
    #[arg(long)]
    pub each_commit: bool,

    /// Do everything inside the transaction, then roll it back; the result lines say
    /// "dry_run": true.
    #[arg(long)]
    pub dry_run: bool,

    /// Give up connecting after SECS seconds, and stop a statement after SECS seconds (exit
    /// 75). SQLite stops the whole load at SECS seconds. Without it, connecting gives up
    /// after 30 seconds.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,

    /// Allow an unencrypted connection to a host that is not loopback (TLS to databases is
    /// not supported yet).
    #[arg(long)]
    pub insecure_plaintext: bool,
}

/// A table name, maybe with its schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableName {
    pub schema: Option<String>,
    pub name: String,
}

impl std::fmt::Display for TableName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// Validated options.
#[derive(Debug)]
pub struct Options {
    pub input: Option<PathBuf>,
    pub url: DbUrl,
    pub table: TableName,
    pub key: Vec<String>,
    pub mode: Mode,
    pub columns: Option<Vec<String>>,
    pub from: Format,
    pub delimiter: u8,
    pub keep_empty: bool,
    pub each_commit: bool,
    pub dry_run: bool,
    pub timeout: Option<Duration>,
    pub insecure_plaintext: bool,
}

impl Options {
    pub fn from_matches(matches: &ArgMatches) -> Result<Options> {
        let args = Args::from_arg_matches(matches).map_err(|e| Error::usage(e.to_string()))?;
        let table = parse_table(&args.table)?;
        let key = unique_names("--key", &args.key)?;
        let columns = match &args.columns {
            Some(text) => Some(unique_names("--columns", text)?),
            None => None,
        };
        if args.keep_empty && args.from == Format::Ndjson {
            return Err(Error::usage(
                "--keep-empty is for CSV input: NDJSON says null or \"\" itself",
            ));
        }
        let delimiter = common::records::parse_delimiter(&args.delimiter)?;
        let url = DbUrl::from_flags(
            args.db.as_deref(),
            matches.value_source("db") == Some(ValueSource::CommandLine),
            args.password_env.as_deref(),
        )?;
        Ok(Options {
            input: args.input,
            url,
            table,
            key,
            mode: args.mode,
            columns,
            from: args.from,
            delimiter,
            keep_empty: args.keep_empty,
            each_commit: args.each_commit,
            dry_run: args.dry_run,
            timeout: args.timeout.map(Duration::from_secs),
            insecure_plaintext: args.insecure_plaintext,
        })
    }
}

/// `NAME` or `SCHEMA.NAME`, each part a valid identifier.
fn parse_table(text: &str) -> Result<TableName> {
    let (schema, name) = match text.split_once('.') {
        Some((schema, name)) => (Some(schema), name),
        None => (None, text),
    };
    for part in schema.iter().chain([&name]) {
        check_identifier(part).map_err(|why| Error::usage(format!("--table {text:?}: {why}")))?;
    }
    Ok(TableName {
        schema: schema.map(String::from),
        name: name.to_string(),
    })
}

/// A comma-separated list of column names, each valid and given once.
fn unique_names(flag: &str, text: &str) -> Result<Vec<String>> {
    let names = common::cli::parse_list(flag, text)?;
    for (i, name) in names.iter().enumerate() {
        check_identifier(name).map_err(|why| Error::usage(format!("{flag} {name:?}: {why}")))?;
        if names[..i].contains(name) {
            return Err(Error::usage(format!("{flag} names {name:?} twice")));
        }
    }
    Ok(names)
}

/// Why a name cannot be an identifier: db-load quotes every identifier, and
/// refuses the characters that could end the quoting.
pub fn check_identifier(name: &str) -> std::result::Result<(), String> {
    if name.is_empty() {
        Err("a name is empty".into())
    } else if name.len() > 128 {
        Err("a name is longer than 128 bytes".into())
    } else if name.chars().any(|c| c == '"' || c == '`' || c.is_control()) {
        Err("a name has a quote, backtick or control character".into())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_and_identifiers() {
        assert_eq!(
            parse_table("public.requests").ok(),
            Some(TableName {
                schema: Some("public".into()),
                name: "requests".into()
            })
        );
        assert_eq!(
            parse_table("Patient Type").map(|t| t.name).ok(),
            Some("Patient Type".to_string())
        );
        for bad in ["", "a.", ".b", "a\"b", "x`y", "a.b.c\n"] {
            assert_eq!(
                parse_table(bad).map_err(|e| e.code()).err(),
                Some(64),
                "{bad}"
            );
        }
        assert!(unique_names("--key", "a,b").is_ok());
        assert!(unique_names("--key", "a,a").is_err());
        assert!(unique_names("--key", "a,,b").is_err());
    }
}
