#![allow(clippy::unwrap_used)]
//! db-extract through its binary, against SQLite, PostgreSQL and MariaDB.
//! The same cases run on each engine (see `engine_tests!` at the end); the
//! server engines need tests/servers/with-servers.sh. All data is invented.

use common::db::{ConnectOptions, Connection, DbUrl};
use common::testing::{
    Workdir, assert_one_line_without, csv_rows, server_url, stderr_of, stdout_of,
};

const BIN: &str = env!("CARGO_BIN_EXE_db-extract");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Sqlite,
    Postgres,
    Mariadb,
}

/// One engine's database, and a workdir to run the tool in.
struct Db {
    kind: Kind,
    url: String,
    w: Workdir,
}

impl Db {
    fn sqlite() -> Option<Db> {
        let w = Workdir::new(BIN);
        let path = w.create("test.db", "");
        Some(Db {
            kind: Kind::Sqlite,
            url: format!("sqlite:{}", path.display()),
            w,
        })
    }

    fn postgres() -> Option<Db> {
        Some(Db {
            kind: Kind::Postgres,
            url: server_url("TEST_POSTGRES_URL")?,
            w: Workdir::new(BIN),
        })
    }

    fn mariadb() -> Option<Db> {
        Some(Db {
            kind: Kind::Mariadb,
            url: server_url("TEST_MARIADB_URL")?,
            w: Workdir::new(BIN),
        })
    }

    /// Pick the engine's variant of some SQL.
    fn pick<'a>(&self, sqlite: &'a str, postgres: &'a str, mariadb: &'a str) -> &'a str {
        match self.kind {
            Kind::Sqlite => sqlite,
            Kind::Postgres => postgres,
            Kind::Mariadb => mariadb,
        }
    }

    /// Run setup statements with a read-write connection of the test's own.
    fn setup(&self, sql: &str) {
        let url = DbUrl::parse(&self.url).unwrap();
        let mut conn = Connection::open(&url, &ConnectOptions::default()).unwrap();
        conn.execute_batch(sql, "setup").unwrap();
    }

    /// A table of visits around 7 May 2024, in a TIMESTAMP and a DATE column.
    fn visits(&self, table: &str) {
        let ts = self.pick("TIMESTAMP", "timestamp", "TIMESTAMP NULL");
        self.setup(&format!(
            "DROP TABLE IF EXISTS {table};
             CREATE TABLE {table} (id INTEGER, ts {ts}, day DATE);
             INSERT INTO {table} VALUES
               (1, '2024-05-06 23:59:59', '2024-05-06'),
               (2, '2024-05-07 00:00:00', '2024-05-07'),
               (3, '2024-05-07 13:30:00', '2024-05-07'),
               (4, '2024-05-07 23:59:59', '2024-05-07'),
               (5, '2024-05-08 00:00:00', '2024-05-08');"
        ));
    }

    fn run_with(&self, url: &str, args: &[&str]) -> std::process::Output {
        self.w
            .run(args)
            .env("DATABASE_URL", url)
            .env_remove("PGPASSWORD")
            .output()
            .unwrap()
    }

    /// Run against this database; expect exit 0; the stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run_with(&self.url, args);
        assert!(
            out.status.success(),
            "{:?} {args:?}: {}",
            self.kind,
            stderr_of(&out)
        );
        stdout_of(&out)
    }

    /// Run against `url`; expect exit `code` and one `db-extract: error:` line; the stderr.
    fn fails_at(&self, url: &str, args: &[&str], code: i32) -> String {
        let out = self.run_with(url, args);
        let err = stderr_of(&out);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{:?} {args:?}: {err}",
            self.kind
        );
        assert!(err.starts_with("db-extract: error: "), "{err}");
        assert_one_line_without(&err, &[]);
        err
    }

    fn fails(&self, args: &[&str], code: i32) -> String {
        self.fails_at(&self.url, args, code)
    }

    /// The same server with nothing listening (port 1), or for SQLite a missing file.
    fn unreachable_url(&self) -> String {
        match self.kind {
            Kind::Sqlite => format!("sqlite:{}", self.w.path("missing.db").display()),
            _ => {
                let (head, tail) = self.url.rsplit_once('/').unwrap();
                let (host, _port) = head.rsplit_once(':').unwrap();
                format!("{host}:1/{tail}")
            }
        }
    }
}

fn rows(text: &str) -> Vec<Vec<String>> {
    csv_rows(text)
}

fn row(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// ------------------------------------------------------------------ cases

fn types(db: &Db) {
    let (ts, bin, float, bytes) = match db.kind {
        Kind::Sqlite => ("TIMESTAMP", "BLOB", "REAL", "X'00FF10'"),
        Kind::Postgres => (
            "timestamp",
            "bytea",
            "double precision",
            "'\\x00ff10'::bytea",
        ),
        Kind::Mariadb => ("TIMESTAMP NULL", "BLOB", "DOUBLE", "X'00FF10'"),
    };
    db.setup(&format!(
        "DROP TABLE IF EXISTS types;
         CREATE TABLE types (id INTEGER, i INTEGER, b BIGINT, d DECIMAL(12,2), f {float},
                             ok BOOLEAN, day DATE, ts {ts}, txt TEXT, bin {bin});
         INSERT INTO types VALUES (1, -42, 9007199254740993, 12.50, 0.1, TRUE, '2024-05-07',
                                   '2024-05-07 05:00:00', 'Zoë, \"quoted\"\nline 2 ✓', {bytes});
         INSERT INTO types (id) VALUES (2);"
    ));
    let query = "SELECT i, b, d, f, ok, day, ts, txt, bin FROM types ORDER BY id";
    // SQLite keeps a DECIMAL as a float; MariaDB's BOOLEAN is TINYINT(1).
    let decimal = db.pick("12.5", "12.50", "12.50");
    let boolean = db.pick("true", "true", "1");
    let text = "Zoë, \"quoted\"\nline 2 ✓";
    let csv = db.ok(&["--query", query]);
    assert_eq!(
        rows(&csv),
        vec![
            row(&["i", "b", "d", "f", "ok", "day", "ts", "txt", "bin"]),
            row(&[
                "-42",
                "9007199254740993",
                decimal,
                "0.1",
                boolean,
                "2024-05-07",
                "2024-05-07T05:00:00",
                text,
                "AP8Q"
            ]),
            row(&["", "", "", "", "", "", "", "", ""]),
        ],
        "{:?}",
        db.kind
    );
    let ndjson = db.ok(&["--query", query, "--to", "ndjson"]);
    let lines: Vec<&str> = ndjson.lines().collect();
    assert_eq!(
        lines,
        vec![
            format!(
                r#"{{"i":-42,"b":9007199254740993,"d":{decimal},"f":0.1,"ok":{boolean},"day":"2024-05-07","ts":"2024-05-07T05:00:00","txt":"Zoë, \"quoted\"\nline 2 ✓","bin":"AP8Q"}}"#
            )
            .as_str(),
            r#"{"i":null,"b":null,"d":null,"f":null,"ok":null,"day":null,"ts":null,"txt":null,"bin":null}"#,
        ],
        "{:?}",
        db.kind
    );
}

fn date_params_against_timestamp_and_date(db: &Db) {
    db.visits("visits_dates");
    let ids = |args: &[&str]| -> Vec<String> {
        let out = db.ok(args);
        rows(&out)
            .into_iter()
            .skip(1)
            .map(|r| r[0].clone())
            .collect()
    };
    let day = ["2", "3", "4"];
    // The portable whole-day filter the man page recommends.
    let half_open = "SELECT id FROM visits_dates WHERE ts >= ? AND ts < ? ORDER BY id";
    assert_eq!(
        ids(&[
            "--query",
            half_open,
            "--param",
            "2024-05-07",
            "--param",
            "2024-05-08"
        ]),
        day,
        "{:?}",
        db.kind
    );
    let on_date = "SELECT id FROM visits_dates WHERE day = ? ORDER BY id";
    assert_eq!(
        ids(&["--query", on_date, "--param", "2024-05-07"]),
        day,
        "{:?}",
        db.kind
    );
    let by_range = "SELECT id FROM visits_dates WHERE day >= ? AND day < ? ORDER BY id";
    assert_eq!(
        ids(&["--query", by_range, "-p", "2024-05-07", "-p", "2024-05-08"]),
        day
    );
    // A text parameter against an integer column.
    let by_id = "SELECT id FROM visits_dates WHERE id = ?";
    assert_eq!(
        ids(&["--query", by_id, "--param", "3"]),
        ["3"],
        "{:?}",
        db.kind
    );
}

fn named_params(db: &Db) {
    db.visits("visits_named");
    let query = "SELECT id, :label AS label FROM visits_named
                 WHERE ts >= :start AND ts < :end AND id <> :skip AND ':skip' <> '' -- :nothing
                 ORDER BY id";
    let out = db.ok(&[
        "--query",
        query,
        "--named",
        "start=2024-05-07",
        "--named",
        "end=2024-05-08",
        "--named",
        "skip=3",
        "-n",
        "label=day one",
    ]);
    assert_eq!(
        rows(&out),
        vec![
            row(&["id", "label"]),
            row(&["2", "day one"]),
            row(&["4", "day one"])
        ]
    );
    // A name used twice binds the same value.
    let out = db.ok(&["--query", "SELECT :d AS a, :d AS b", "--named", "d=x"]);
    assert_eq!(rows(&out), vec![row(&["a", "b"]), row(&["x", "x"])]);
}

fn unbound_and_surplus_params(db: &Db) {
    // Refused before connecting: the unreachable URL would otherwise exit 66/75.
    for url in [db.url.clone(), db.unreachable_url()] {
        let query = "SELECT ? AS a, ? AS b";
        let err = db.fails_at(&url, &["--query", query, "--param", "Secret-One"], 64);
        assert!(err.contains("2 ? placeholders and 1 --param"), "{err}");
        let err = db.fails_at(
            &url,
            &[
                "--query",
                "SELECT ? AS a",
                "-p",
                "Secret-One",
                "-p",
                "Secret-Two",
            ],
            64,
        );
        assert_one_line_without(&err, &["Secret-One", "Secret-Two"]);
        let err = db.fails_at(&url, &["--query", "SELECT :a AS a"], 64);
        assert!(err.contains(":a has no value"), "{err}");
        let err = db.fails_at(
            &url,
            &["--query", "SELECT 1 AS a", "--named", "a=Secret-One"],
            64,
        );
        assert_one_line_without(&err, &["Secret-One"]);
    }
}

fn streams_a_large_result(db: &Db) {
    let query = db.pick(
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 200000)
         SELECT n, 'row ' || n AS label FROM c",
        "SELECT n, 'row ' || n AS label FROM generate_series(1, 200000) AS n",
        // MariaDB stops recursion at 1000 rows by default: its sequence engine instead.
        "SELECT seq AS n, CONCAT('row ', seq) AS label FROM seq_1_to_200000",
    );
    let out = db.ok(&["--query", query]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 200_001);
    assert_eq!(lines[0], "n,label");
    assert_eq!(lines[200_000], "200000,row 200000");
}

fn auth_failure(db: &Db) {
    if db.kind == Kind::Sqlite {
        return; // SQLite has no login.
    }
    let wrong = db.url.replacen("phtools-test", "Wrong-Secret-9", 1);
    let err = db.fails_at(&wrong, &["--query", "SELECT 1"], 77);
    assert_one_line_without(&err, &["Wrong-Secret-9", "phtools-test"]);
    // --password-env puts the right password back.
    let bare = db.url.replacen(":phtools-test@", "@", 1);
    let out =
        db.w.run([
            "--db",
            &bare,
            "--password-env",
            "TEST_DB_PASSWORD",
            "--query",
            "SELECT 1 AS one",
        ])
        .env_remove("DATABASE_URL")
        .env("TEST_DB_PASSWORD", "phtools-test")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(stdout_of(&out), "one\n1\n");
}

fn connection_refused(db: &Db) {
    let code = if db.kind == Kind::Sqlite { 66 } else { 75 };
    let err = db.fails_at(&db.unreachable_url(), &["--query", "SELECT 1"], code);
    assert!(!err.contains("phtools-test"), "{err}");
}

fn sql_error_without_values(db: &Db) {
    let err = db.fails(
        &[
            "--query",
            "SELECT * FROM no_such_table WHERE x = ?",
            "--param",
            "Jane-Doe-Secret",
        ],
        65,
    );
    assert_one_line_without(&err, &["Jane-Doe-Secret"]);
    assert!(err.contains("no_such_table"), "{err}");
    if db.kind == Kind::Postgres {
        // PostgreSQL quotes a bad value in its message: it is cut out, bound or stored.
        let err = db.fails(
            &[
                "--query",
                "SELECT CAST(? AS integer)",
                "--param",
                "Jane-Doe-Secret",
            ],
            65,
        );
        assert_one_line_without(&err, &["Jane-Doe-Secret"]);
        db.setup("DROP TABLE IF EXISTS names; CREATE TABLE names (n text); INSERT INTO names VALUES ('Row-Secret');");
        let err = db.fails(&["--query", "SELECT CAST(n AS integer) FROM names"], 65);
        assert_one_line_without(&err, &["Row-Secret"]);
    }
}

fn read_only(db: &Db) {
    db.setup(
        "DROP TABLE IF EXISTS keep; CREATE TABLE keep (n INTEGER); INSERT INTO keep VALUES (1);",
    );
    db.fails(&["--query", "DELETE FROM keep"], 65);
    assert_eq!(
        db.ok(&["--query", "SELECT COUNT(*) AS n FROM keep"]),
        "n\n1\n"
    );
}

fn dry_run(db: &Db) {
    // No connection: the unreachable URL is fine.
    let out =
        db.w.run([
            "--dry-run",
            "--query",
            "SELECT a FROM t WHERE d >= ? AND e = :e AND f = '?'",
            "-p",
            "Secret-Day",
            "-n",
            "e=Secret-E",
        ])
        .env("DATABASE_URL", db.unreachable_url())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = stdout_of(&out);
    let sql = db.pick("?", "$1", "?");
    let second = db.pick("?", "$2", "?");
    assert!(
        text.starts_with(&format!(
            "SELECT a FROM t WHERE d >= {sql} AND e = {second} AND f = '?'\n"
        )),
        "{text}"
    );
    assert!(text.contains("2 bound parameters, not run"), "{text}");
    assert!(!text.contains("Secret"), "{text}");
}

fn empty_result(db: &Db) {
    db.visits("visits_empty");
    let query = "SELECT id, ts FROM visits_empty WHERE id < ?";
    assert_eq!(db.ok(&["--query", query, "--param", "0"]), "id,ts\n");
    assert_eq!(
        db.ok(&["--query", query, "--param", "0", "--to", "ndjson"]),
        ""
    );
}

fn timeout(db: &Db) {
    let query = db.pick(
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT COUNT(*) FROM c",
        "SELECT 1 AS one FROM pg_sleep(10)",
        "SELECT SLEEP(10)",
    );
    let started = std::time::Instant::now();
    db.fails(&["--timeout", "1", "--query", query], 75);
    assert!(started.elapsed().as_secs() < 8);
}

fn output_file_only_when_complete(db: &Db) {
    db.visits("visits_file");
    db.ok(&[
        "--query",
        "SELECT id FROM visits_file ORDER BY id",
        "-o",
        "out.csv",
    ]);
    assert_eq!(db.w.read("out.csv"), "id\n1\n2\n3\n4\n5\n");
    assert_eq!(common::testing::mode_of(&db.w.path("out.csv")), 0o600);
    db.fails(
        &["--query", "SELECT * FROM no_such_table", "-o", "bad.csv"],
        65,
    );
    assert!(!db.w.path("bad.csv").exists());
}

common::engine_tests!(
    types,
    date_params_against_timestamp_and_date,
    named_params,
    unbound_and_surplus_params,
    streams_a_large_result,
    auth_failure,
    connection_refused,
    sql_error_without_values,
    read_only,
    dry_run,
    empty_result,
    timeout,
    output_file_only_when_complete,
);

// ------------------------------------------------------- engine-independent

fn wrk() -> Workdir {
    Workdir::new(BIN)
}

#[test]
fn password_in_db_flag_is_refused() {
    let w = wrk();
    let out = w
        .run([
            "--db",
            "postgres://app:Hunter-Two@127.0.0.1/x",
            "--query",
            "SELECT 1",
        ])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    let err = stderr_of(&out);
    assert!(err.contains("ps"), "{err}");
    assert_one_line_without(&err, &["Hunter-Two"]);
}

#[test]
fn missing_database_is_a_config_error() {
    let w = wrk();
    let out = w
        .run(["--query", "SELECT 1"])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78), "{}", stderr_of(&out));
}

#[test]
fn help_does_not_show_the_url_from_the_environment() {
    let w = wrk();
    let out = w
        .run(["--help"])
        .env("DATABASE_URL", "postgres://a:Hunter-Two@h/x")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!stdout_of(&out).contains("Hunter-Two"));
}

#[test]
fn query_from_file_and_stdin_with_memory_database() {
    let w = wrk();
    w.create("q.sql", "SELECT ? AS day;\n\n");
    let run = |args: &[&str], stdin: &str| {
        let out = w
            .run(args)
            .env("DATABASE_URL", "sqlite::memory:")
            .write_stdin(stdin.to_string())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        stdout_of(&out)
    };
    assert_eq!(
        run(&["-f", "q.sql", "-p", "2024-05-07"], ""),
        "day\n2024-05-07\n"
    );
    assert_eq!(
        run(&["-p", "2024-05-07"], "SELECT ? AS day"),
        "day\n2024-05-07\n"
    );
    assert_eq!(run(&["-f", "-", "-p", "x"], "SELECT ? AS day"), "day\nx\n");
}

#[test]
fn bad_flags_are_usage_errors() {
    let w = wrk();
    for args in [
        vec!["--db", "oracle://x", "--query", "SELECT 1"],
        vec![
            "--db",
            "sqlite::memory:",
            "--query",
            "SELECT 1",
            "--to",
            "xml",
        ],
        vec![
            "--db",
            "sqlite::memory:",
            "--query",
            "SELECT 1",
            "--timeout",
            "0",
        ],
        vec!["--db", "sqlite::memory:", "--query", "  ;  "],
        vec![
            "--db",
            "sqlite::memory:",
            "--query",
            "SELECT 1",
            "--named",
            "noequals",
        ],
        vec![
            "--db",
            "postgres://u@db.example.org/x",
            "--query",
            "SELECT 1",
        ],
    ] {
        let out = w.run(&args).env_remove("DATABASE_URL").output().unwrap();
        assert_eq!(out.status.code(), Some(64), "{args:?}: {}", stderr_of(&out));
    }
    let out = w
        .run(["--query-file", "nope.sql", "--db", "sqlite::memory:"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(66), "{}", stderr_of(&out));
}

#[test]
fn duplicate_names_are_fine_in_csv_but_not_in_ndjson() {
    let w = wrk();
    let q = [
        "--db",
        "sqlite::memory:",
        "--query",
        "SELECT 1 AS a, 2 AS a",
    ];
    assert_eq!(w.ok(&q), "a,a\n1,2\n");
    let mut args = q.to_vec();
    args.extend(["--to", "ndjson"]);
    w.fails(&args, 65);
}

#[test]
fn broken_pipe_exits_quietly() {
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "'{BIN}' --db sqlite::memory: --query 'WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000000) SELECT n FROM c' | head -n 1 >/dev/null; exit ${{PIPESTATUS[0]}}"
        ))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(stderr_of(&out).is_empty(), "{}", stderr_of(&out));
}
