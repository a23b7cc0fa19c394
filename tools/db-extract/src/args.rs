//! Flags, and their validation into [`Options`] before any connection.

use clap::parser::ValueSource;
use clap::{ArgMatches, Parser};
use common::db::{BoundQuery, DbUrl, bind};
use common::{Error, Result};
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::time::Duration;

pub use common::records::Format;

/// Run a SQL query with bound parameters and stream the rows as CSV or NDJSON.
///
/// The database is SQLite (built in), PostgreSQL, or MariaDB/MySQL. The query
/// comes from --query, --query-file or standard input; `?` placeholders take
/// the --param values in order and `:NAME` placeholders the --named values,
/// in every engine. Every value is bound as text and the database converts it
/// to the type the query gives it.
#[derive(Parser, Debug)]
#[command(name = "db-extract", version)]
pub struct Args {
    /// Database URL: sqlite:FILE, sqlite::memory:, postgres://USER@HOST:PORT/DB,
    /// mysql://USER@HOST:PORT/DB (or mariadb://). A URL with a password is
    /// refused here (it would show in ps): put it in DATABASE_URL or use
    /// --password-env.
    #[arg(long, value_name = "URL", env = "DATABASE_URL", hide_env_values = true)]
    pub db: Option<String>,

    /// Read the database password from environment variable NAME (or from the
    /// file named by NAME_FILE). It replaces a password in the URL.
    #[arg(long, value_name = "NAME")]
    pub password_env: Option<String>,

    /// The SQL query (one statement).
    #[arg(short, long, value_name = "SQL", conflicts_with = "query_file")]
    pub query: Option<String>,

    /// Read the SQL query from FILE. Without --query and --query-file, the query is read from stdin.
    #[arg(short = 'f', long, value_name = "FILE")]
    pub query_file: Option<PathBuf>,

    /// Bind VALUE to the next `?` placeholder (repeatable, in order). Every `?`
    /// needs exactly one --param.
    #[arg(short, long, value_name = "VALUE", allow_hyphen_values = true)]
    pub param: Vec<String>,

    /// Bind VALUE to every `:NAME` placeholder (repeatable).
    #[arg(short, long, value_name = "NAME=VALUE")]
    pub named: Vec<String>,

    /// Output format: CSV lines end with LF; NDJSON gives one object per row.
    #[arg(long, value_enum, default_value = "csv", value_name = "FORMAT")]
    pub to: Format,

    /// Write to FILE instead of stdout. The file appears (mode 0600) only once
    /// every row is written; a failed query leaves no file.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Give up connecting after SECS seconds, and stop the query after SECS
    /// seconds (exit 75). Without it, connecting gives up after 30 seconds
    /// and the query has no limit.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,

    /// Print the SQL as it would be sent (placeholders rewritten for the
    /// engine) and the number of bound parameters, never their values; do not
    /// connect.
    #[arg(long)]
    pub dry_run: bool,

    /// Allow an unencrypted connection to a host that is not loopback (TLS to
    /// databases is not supported yet).
    #[arg(long)]
    pub insecure_plaintext: bool,
}

/// Validated options.
#[derive(Debug)]
pub struct Options {
    pub url: DbUrl,
    pub query: BoundQuery,
    pub to: Format,
    pub output: Option<PathBuf>,
    pub timeout: Option<Duration>,
    pub dry_run: bool,
    pub insecure_plaintext: bool,
}

impl Options {
    pub fn from_matches(matches: &ArgMatches) -> Result<Options> {
        let args = Args::from_arg_matches_checked(matches)?;
        let url = DbUrl::from_flags(
            args.db.as_deref(),
            matches.value_source("db") == Some(ValueSource::CommandLine),
            args.password_env.as_deref(),
        )?;
        let named = args
            .named
            .iter()
            .map(|pair| common::cli::parse_pair("--named", pair))
            .collect::<Result<Vec<_>>>()?;
        let sql = read_query(&args)?;
        let query = bind(&sql, url.engine, &args.param, &named)?;
        Ok(Options {
            url,
            query,
            to: args.to,
            output: args.output,
            timeout: args.timeout.map(Duration::from_secs),
            dry_run: args.dry_run,
            insecure_plaintext: args.insecure_plaintext,
        })
    }
}

impl Args {
    fn from_arg_matches_checked(matches: &ArgMatches) -> Result<Args> {
        use clap::FromArgMatches;
        Args::from_arg_matches(matches).map_err(|e| Error::usage(e.to_string()))
    }
}

/// The query text, without trailing semicolons and space (engines differ on them).
fn read_query(args: &Args) -> Result<String> {
    let text = if let Some(q) = &args.query {
        q.clone()
    } else if let Some(path) = &args.query_file {
        let name = path.display();
        if path.as_os_str() == "-" {
            read_stdin()?
        } else {
            std::fs::read_to_string(path)
                .map_err(|e| Error::io(format!("cannot read {name}"), e))?
        }
    } else {
        if std::io::stdin().is_terminal() {
            return Err(Error::usage(
                "no query: give --query SQL, --query-file FILE, or the SQL on stdin",
            ));
        }
        read_stdin()?
    };
    let trimmed = text
        .trim_end_matches(|c: char| c == ';' || c.is_whitespace())
        .trim_start();
    if trimmed.is_empty() {
        return Err(Error::usage("the query is empty"));
    }
    Ok(trimmed.to_string())
}

fn read_stdin() -> Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| Error::io("reading the query from <stdin>", e))?;
    Ok(text)
}
