//! db-extract: run a SQL query with bound parameters, stream rows as CSV or NDJSON.
#![forbid(unsafe_code)]

mod args;
mod mysql;
mod output;
mod postgres;
mod sqlite;

use args::{Args, Options};
use clap::{ArgMatches, Command, CommandFactory};
use common::db::{ConnectOptions, Connection, Redactor};
use common::doc::{Example, ToolDoc};
use common::io::Output;
use common::{Error, Exit, Result};
use output::RowWriter;
use std::io::Write;

pub const DOC: ToolDoc = ToolDoc {
    name: "db-extract",
    description: &[include_str!("../doc/description.txt")],
    examples: &[
        Example {
            what: "EOD flow: the appointments of one day from the scheduling database (URL with its password in DATABASE_URL)",
            command: "db-extract --query-file pipelines/eod/appointments.sql --param 2020-05-07 --param 2020-05-08 -o data/2020-05-07/appointments.csv",
        },
        Example {
            what: "ReqCheck flow: the doses changed since the last import date, as NDJSON for json-map",
            command: "db-extract --db postgres://reqcheck@127.0.0.1/immunizations --password-env REQCHECK_DB_PASSWORD --to ndjson --query-file pipelines/reqcheck/vaccine_dose_data.sql --param \"$LAST_IMPORT\"",
        },
        Example {
            what: "Business requisitions out: the requests of a time window, by name",
            command: "db-extract --db sqlite:demo.db --named start='2020-05-07 10:00' --named end='2020-05-07 11:00' --query 'SELECT * FROM business_requests WHERE created_at >= :start AND created_at < :end'",
        },
        Example {
            what: "Check what would run, without connecting",
            command: "db-extract --db postgres://app@127.0.0.1/sched --dry-run --query 'SELECT id FROM appointments WHERE day = ?' --param 2020-05-07",
        },
    ],
    environment: &[
        (
            "DATABASE_URL",
            "The database URL, used when --db is not given. The one place a password may be written in a URL.",
        ),
        (
            "NAME, NAME_FILE",
            "With --password-env NAME: the password, or a file holding it (one trailing newline removed).",
        ),
    ],
    auth: &[],
    security: &[],
    exit_codes: &[
        Exit::Usage,
        Exit::Data,
        Exit::NoInput,
        Exit::Io,
        Exit::TempFail,
        Exit::NoPerm,
        Exit::Config,
    ],
    other_exit_status: &[],
    broken_pipe: None,
    see_also: &[
        "csv-shape(1)",
        "json-map(1)",
        "sqlite3(1)",
        "psql(1)",
        "mariadb(1)",
    ],
};

pub fn command() -> Command {
    common::cli::with_doc(Args::command(), &DOC)
}

pub fn run(matches: &ArgMatches) -> Result<()> {
    let options = Options::from_matches(matches)?;
    if options.dry_run {
        return dry_run(&options);
    }
    let redactor = Redactor::new(&options.query.values);
    let target = options.url.to_string();
    let mut connection = Connection::open(
        &options.url,
        &ConnectOptions {
            timeout: options.timeout,
            read_only: true,
            allow_plaintext: options.insecure_plaintext,
        },
    )?;
    let mut writer = RowWriter::new(options.to, Output::open(options.output.as_deref())?)?;
    let query = &options.query;
    match &mut connection {
        Connection::Sqlite(c) => sqlite::extract(c, query, &mut writer, &target, &redactor)?,
        Connection::Postgres(c) => postgres::extract(c, query, &mut writer, &target, &redactor)?,
        Connection::Mysql(c) => mysql::extract(c, query, &mut writer, &target, &redactor)?,
    }
    writer.finish()
}

/// The SQL as the engine would get it, and how many values it would bind.
fn dry_run(options: &Options) -> Result<()> {
    let n = options.query.values.len();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}\n-- {}: {n} bound parameter{}, not run",
        options.query.sql,
        options.url.engine.name(),
        common::text::plural_s(n)
    )
    .map_err(|e| Error::write("writing <stdout>", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    common::examples_test!(DOC, command);
}
