//! db-load: apply CSV or NDJSON records to a table (insert, update or upsert
//! by key) in one transaction, with one result line per record.
#![forbid(unsafe_code)]

mod args;
mod input;
mod load;
mod mysql;
mod postgres;
mod sqlite;
mod store;
mod table;

use args::{Args, Options};
use clap::{ArgMatches, Command, CommandFactory};
use common::db::{ConnectOptions, Connection, Engine};
use common::doc::{Example, ToolDoc};
use common::{Exit, Result};
use table::Plan;

pub(crate) const TOOL: &str = "db-load";

pub const DOC: ToolDoc = ToolDoc {
    name: TOOL,
    description: &[include_str!("../doc/description.txt")],
    examples: &[
        Example {
            what: "Business requisitions in: apply the liaisons' approvals, all or nothing (the URL, with its password, in DATABASE_URL)",
            command: "csv-shape --skip-empty-rows --require business_code,hash business_requisition.csv | db-load --table business_requests --key business_code,hash --mode update --columns approved_confirm,slots_approved",
        },
        Example {
            what: "Load only new and changed records, and mark in the index those the database took",
            command: "index-diff --index requests.json --key business_code,hash --from csv requests.csv | db-load --from ndjson --db postgres://app@127.0.0.1/sched --password-env SCHED_DB_PASSWORD --table requests --key business_code,hash | index-diff --commit --index requests.json",
        },
        Example {
            what: "Check a file against the table without changing it",
            command: "db-load --dry-run --db sqlite:demo.db --table business_requests --key business_code,hash --mode update --columns approved_confirm,slots_approved business_requisition.csv > /dev/null",
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
        (
            "TMPDIR",
            "Where the input records and the result lines wait until the transaction has ended (default /tmp).",
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
        "db-extract(1)",
        "index-diff(1)",
        "csv-shape(1)",
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
    let loaded = input::read(common::io::open_input(options.input.as_deref())?, &options)?;
    if loaded.count == 0 {
        return Ok(());
    }
    let target = options.url.to_string();
    let mut connection = Connection::open(
        &options.url,
        &ConnectOptions {
            timeout: options.timeout,
            read_only: false,
            allow_plaintext: options.insecure_plaintext,
        },
    )?;
    match &mut connection {
        Connection::Sqlite(c) => {
            sqlite::prepare(c, &target)?;
            let table = sqlite::catalog(c, &options.table, &target)?;
            let mut plan = Plan::new(&options, &loaded, &table, Engine::Sqlite)?;
            let mut store = sqlite::SqliteStore::new(c, &table, &target);
            load::load(&options, &mut plan, &table, loaded, &mut store)
        }
        Connection::Postgres(c) => {
            let table = postgres::catalog(c, &options.table, &target)?;
            let mut plan = Plan::new(&options, &loaded, &table, Engine::Postgres)?;
            let mut store = postgres::PgStore::new(c, &table, &target);
            load::load(&options, &mut plan, &table, loaded, &mut store)
        }
        Connection::Mysql(c) => {
            mysql::prepare(c, &target)?;
            let table = mysql::catalog(c, &options.table, &target)?;
            let mut plan = Plan::new(&options, &loaded, &table, Engine::Mysql)?;
            let mut store = mysql::MysqlStore::new(c, &table, &target);
            load::load(&options, &mut plan, &table, loaded, &mut store)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    common::examples_test!(DOC, command);
}
