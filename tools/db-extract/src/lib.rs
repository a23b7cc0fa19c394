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
    description: &[
        "Databases. sqlite:FILE opens an existing SQLite file (it is never created) and sqlite::memory: an empty in-memory database; SQLite is built in. postgres://USER@HOST:PORT/DB (or postgresql://) is PostgreSQL; add ?host=/run/postgresql for a Unix socket. mysql://USER@HOST:PORT/DB (or mariadb://) is MariaDB or MySQL; add ?socket=/run/mysqld/mysqld.sock for a Unix socket. User, password and database name may be %-encoded. Connections are unencrypted, so a host that is not loopback needs --insecure-plaintext (use an SSH tunnel instead where you can).",
        "Passwords. The password comes from the URL in DATABASE_URL, or from the variable named by --password-env (or the file named by its _FILE twin), never from the command line: a --db URL with a password is refused (exit 64), because every user on the machine can read command lines in ps. A URL without a password may be given with --db.",
        "Read-only. The query runs in a read-only transaction (PostgreSQL default_transaction_read_only, MariaDB/MySQL SET SESSION TRANSACTION READ ONLY; SQLite opens the file read-only). A statement that writes fails with exit 65.",
        "Parameters. ? placeholders take the --param values in order, :NAME placeholders the --named values (a name may appear several times), in all three engines; for PostgreSQL they are rewritten to $1, $2, ... . Placeholders inside string literals, quoted identifiers and comments are left alone, and PostgreSQL's :: casts are not placeholders. A placeholder without a value, or a value without a placeholder, is exit 64 before anything connects: unlike the sqlite3 shell, nothing is silently bound to NULL. Write PostgreSQL's jsonb ? operators as functions (jsonb_exists) and array slices with spaces (a[1 : n]).",
        "Every value is bound as text, and the database converts it to the type the query gives the placeholder, as if it had been written as a quoted literal. For dates, write a half-open range: WHERE ts >= ? AND ts < ? with --param 2024-05-07 --param 2024-05-08 selects the whole day of 7 May whether ts is a DATE or a TIMESTAMP column, in SQLite (dates stored as ISO text such as 2024-05-07 or 2024-05-07 05:00:00, which compare as text), PostgreSQL and MariaDB/MySQL (which read the text as a date). Equality (day = ?) is right for DATE columns only. Avoid CAST(? AS DATE) and ts <= ?: SQLite's CAST turns 2024-05-07 into the number 2024, and <= '2024-05-07' stops at midnight, leaving out the rest of that day.",
        "Output. CSV (the default) has a header row, even for an empty result; NDJSON has one object per row, keys in column order, and nothing for an empty result (duplicate column names are an error there: alias them). NULL is an empty CSV field and JSON null. Integers, decimals and floats are written as numbers: decimals (NUMERIC, DECIMAL) exactly, with their scale, and bigints in full, so cast to text in the query if a consumer reads JSON numbers as doubles. Floats are the shortest text that reads back the same; NaN and infinities are text. Booleans are true and false. Dates are YYYY-MM-DD and timestamps YYYY-MM-DDTHH:MM:SS with a fraction only when there is one; PostgreSQL's timestamptz is given in UTC with a Z. Binary values (bytea, BLOB) are base64. JSON columns are text. MariaDB and MySQL have no boolean type: BOOLEAN is TINYINT(1), and the server sends it as a small integer like any other, so it comes out as a number (1 or 0); json-map turns it into true/false where a consumer needs that. SQLite has no types of its own: a column declared BOOLEAN gives true/false for 1/0, a column declared DATE, DATETIME or TIMESTAMP holding YYYY-MM-DD HH:MM:SS text gets ISO 8601's T, and a DECIMAL column holds whatever SQLite stored (a float, unless the value was stored as text).",
        "Streaming. Rows are written as they arrive (PostgreSQL through a row stream, MariaDB/MySQL through the binary protocol's row iterator, SQLite one step at a time), so memory stays flat however many rows there are. PostgreSQL types other than the usual ones (numbers, text, json, bytea, dates, times, uuid, enums) are refused with the column's name: cast them to text in the query.",
        "Errors. Connection refused, a timeout, a lock wait or a server shutting down is exit 75; a wrong password or a missing permission is exit 77; a database that does not exist is exit 78; an SQL error is exit 65 with the engine's message. Messages never carry a bound value or a row value: values are cut out of the engine's message.",
    ],
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
        if n == 1 { "" } else { "s" }
    )
    .map_err(|e| Error::write("writing <stdout>", e))
}
