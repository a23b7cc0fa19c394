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
    description: &[
        "Databases. sqlite:FILE opens an existing SQLite file (it is never created); SQLite is built in. postgres://USER@HOST:PORT/DB (or postgresql://) is PostgreSQL; add ?host=/run/postgresql for a Unix socket. mysql://USER@HOST:PORT/DB (or mariadb://) is MariaDB or MySQL; add ?socket=/run/mysqld/mysqld.sock for a Unix socket. The password comes from the URL in DATABASE_URL, or from the variable named by --password-env (or the file named by its _FILE twin), never from the command line: a --db URL with a password is refused (exit 64). Connections are unencrypted, so a host that is not loopback needs --insecure-plaintext.",
        "Input. CSV with a header row (the default, as the liaisons' files come) or NDJSON (--from ndjson, as index-diff and json-map write it). The whole input is read first, into a private temporary file in $TMPDIR, so that a malformed record stops the run before anything connects, and memory stays flat. Fields are matched to the table's columns by name: the same name, or else the one column whose name differs only in case. Every field is written, or with --columns only those named; the --key columns are always used, to find the row. A field the table does not have is exit 65 naming it, before anything is written. index-diff's bookkeeping fields (_key, _op, _hash, _remote_id) are not written unless --columns or --key names them; a record with _op deleted is exit 65, as db-load does not delete rows.",
        "Modes. --mode insert adds each record as a row; a key that exists fails on the table's unique key. --mode update changes the row whose --key columns equal the record's and sets the other fields; a key that matches no row, or more than one, fails the record. --mode upsert (the default, as a rerun must never duplicate a row) inserts the row, or updates it where the key exists: INSERT ... ON CONFLICT (key) DO UPDATE in PostgreSQL and SQLite, INSERT ... ON DUPLICATE KEY UPDATE in MariaDB/MySQL. It needs a primary key or a unique index on exactly the --key columns, and says so (exit 64) before anything is written when there is none. MariaDB/MySQL update the row on a conflict with any unique index of the table, not only the key's. A composite key is several columns: --key business_code,hash.",
        "Values and NULL. Values are bound as statement parameters, never written into the SQL; table and column names are quoted (\"name\", or `name` for MariaDB/MySQL) and may not hold quotes, backticks or control characters. An empty CSV field is NULL (as db-extract writes NULL), so that a declined request's empty slots_approved clears an integer column; --keep-empty writes it as an empty string instead. In NDJSON, null is NULL, \"\" is an empty string, and a field a record does not have is not written for that record (insert: the column's default; update: left as it is). Values are sent as text and the server reads them as the column's type: PostgreSQL parses each by the type of its column, MariaDB/MySQL run in strict mode for the session (a value that does not fit fails instead of being cut short), and SQLite stores them by the column's affinity, with JSON numbers bound as numbers. true and false (JSON booleans, or that text) become 1 and 0 in SQLite BOOLEAN and MariaDB/MySQL TINYINT(1) columns. JSON arrays and objects are written as JSON text.",
        "One transaction. All records are applied in one transaction, each inside a savepoint, so that one run finds every failing record: a constraint (NOT NULL, unique, foreign key, check), a value the column's type refuses, an empty key, or with --mode update a key that matches no row. If any record fails, nothing is applied: each failing record gets one line on stderr, Row N: column: reason (N is the row as a spreadsheet shows it, the header being row 1, or the NDJSON line; the column is the table's name when the engine does not say which; the reason never carries a value), then one summary error line, and the exit status is 65. --each-commit commits each record on its own instead: failing records are listed the same way, the others stay applied, and the exit status is 65 if any failed. SQLite takes its write lock at the start (BEGIN IMMEDIATE) and enforces foreign keys. A MariaDB/MySQL table whose storage engine cannot roll back (MyISAM) is refused unless --each-commit.",
        "Results. stdout gets one JSON line per record, in input order: {\"_key\": ..., \"_op\": ..., \"_hash\": ..., \"_remote_id\": ..., \"ok\": true} with an \"error\" (column: reason, never a value) when ok is false. _key is the record's own _key (from index-diff) or else built from the --key columns: a string, or an array of strings for a composite key; _op, _hash and _remote_id are copied when the record has them. This is the shape index-diff --commit reads, so db-load can sit between index-diff and its commit. The lines are written once the transaction has ended: after the commit, or after the rollback, when every record's ok is false (the records that were fine say \"rolled back: another row failed\"), so that index-diff marks nothing delivered that was not committed. With --each-commit each line is written as its record commits. A summary line on stderr gives the count of rows applied. Empty input (no records) connects to nothing, writes nothing and exits 0.",
        "Dry run. --dry-run reads and checks the input, connects, checks the columns against the table, and applies every record inside the transaction, then rolls it back: the result lines and the failing rows are those of a real run, with \"dry_run\": true on every line, and index-diff --commit marks none of them delivered.",
        "Errors. Connection refused, a timeout, a lock wait or a server shutting down is exit 75; a wrong password or a missing permission is exit 77; a database that does not exist is exit 78; a table or column that does not exist, a malformed input, or failing records is exit 65. Such an error stops the run and rolls the transaction back (with --each-commit, records committed before it stay, with their result lines). Messages name the file, row and column, never a value: values are cut out of the engine's messages. A column name or key from the data is printed in a message only when it is at most 128 bytes long and has no control character; otherwise it is named by its position (column 3). A CSV header may have at most 1,000,000 columns, and JSON may nest at most 128 levels (the record's object being the first); beyond either, the exit status is 65, naming the file and row or line.",
    ],
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
