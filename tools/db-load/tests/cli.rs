#![allow(clippy::unwrap_used)]
//! db-load through its binary, against SQLite, PostgreSQL and MariaDB.
//! The same cases run on each engine (see `engine_tests!`); the server
//! engines need tests/servers/with-servers.sh. All data is invented.
//!
//! Every case writes its own tables, named `load_<case>_<pid>`, so that the
//! cases, db-extract's tests and a second test run can share the servers.

use common::db::{ConnectOptions, Connection, DbUrl};
use common::testing::{Workdir, ndjson_values, server_url, stderr_of, stdout_of};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Output;

const BIN: &str = env!("CARGO_BIN_EXE_db-load");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Sqlite,
    Postgres,
    Mariadb,
}

/// One engine's database, a workdir to run the tool in, and the tables the
/// case made (dropped at the end).
struct Db {
    kind: Kind,
    url: String,
    w: Workdir,
    tables: std::cell::RefCell<Vec<String>>,
}

impl Drop for Db {
    fn drop(&mut self) {
        if self.kind == Kind::Sqlite {
            return;
        }
        let tables = self.tables.borrow().join(", ");
        if !tables.is_empty()
            && let Ok(url) = DbUrl::parse(&self.url)
            && let Ok(mut conn) = Connection::open(&url, &ConnectOptions::default())
        {
            let _ = conn.execute_batch(&format!("DROP TABLE IF EXISTS {tables}"), "cleanup");
        }
    }
}

impl Db {
    fn new(kind: Kind, url: String, w: Workdir) -> Db {
        Db {
            kind,
            url,
            w,
            tables: Default::default(),
        }
    }

    fn sqlite() -> Option<Db> {
        let w = Workdir::new(BIN);
        let path = w.create("test.db", "");
        Some(Db::new(
            Kind::Sqlite,
            format!("sqlite:{}", path.display()),
            w,
        ))
    }

    fn postgres() -> Option<Db> {
        let url = server_url("TEST_POSTGRES_URL")?;
        Some(Db::new(Kind::Postgres, url, Workdir::new(BIN)))
    }

    fn mariadb() -> Option<Db> {
        let url = server_url("TEST_MARIADB_URL")?;
        Some(Db::new(Kind::Mariadb, url, Workdir::new(BIN)))
    }

    fn pick<'a>(&self, sqlite: &'a str, postgres: &'a str, mariadb: &'a str) -> &'a str {
        match self.kind {
            Kind::Sqlite => sqlite,
            Kind::Postgres => postgres,
            Kind::Mariadb => mariadb,
        }
    }

    /// A fresh table name of this case, this process.
    fn table(&self, case: &str) -> String {
        let name = format!("load_{case}_{}", std::process::id());
        self.tables.borrow_mut().push(name.clone());
        name
    }

    fn connect(&self) -> Connection {
        let url = DbUrl::parse(&self.url).unwrap();
        Connection::open(&url, &ConnectOptions::default()).unwrap()
    }

    fn setup(&self, sql: &str) {
        self.connect().execute_batch(sql, "setup").unwrap();
    }

    /// A table of visit slots: a text key, a NOT NULL integer with a check,
    /// a nullable text. SQLite's is STRICT, so that a bad value fails there too.
    fn slots(&self, case: &str, rows: &[(&str, i64, Option<&str>)]) -> String {
        let t = self.table(case);
        let ddl = match self.kind {
            Kind::Sqlite => format!(
                "CREATE TABLE {t} (code TEXT PRIMARY KEY, slots INTEGER NOT NULL CHECK (slots >= 0), note TEXT) STRICT"
            ),
            _ => format!(
                "CREATE TABLE {t} (code VARCHAR(20) PRIMARY KEY, slots INTEGER NOT NULL CHECK (slots >= 0), note VARCHAR(40))"
            ),
        };
        let mut sql = format!("DROP TABLE IF EXISTS {t}; {ddl};");
        for (code, slots, note) in rows {
            let note = note.map_or("NULL".to_string(), |n| format!("'{n}'"));
            sql.push_str(&format!(
                " INSERT INTO {t} (code, slots, note) VALUES ('{code}', {slots}, {note});"
            ));
        }
        self.setup(&sql);
        t
    }

    /// The rows of a query, each as `a|b|c` with NULL for null.
    fn rows(&self, sql: &str) -> Vec<String> {
        match self.connect() {
            Connection::Sqlite(c) => {
                let mut stmt = c.prepare(sql).unwrap();
                let n = stmt.column_count();
                stmt.query_map([], |row| {
                    Ok((0..n)
                        .map(|i| match row.get::<_, rusqlite::types::Value>(i).unwrap() {
                            rusqlite::types::Value::Null => "NULL".to_string(),
                            rusqlite::types::Value::Integer(i) => i.to_string(),
                            rusqlite::types::Value::Real(f) => f.to_string(),
                            rusqlite::types::Value::Text(s) => s,
                            rusqlite::types::Value::Blob(_) => "BLOB".to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join("|"))
                })
                .unwrap()
                .map(Result::unwrap)
                .collect()
            }
            Connection::Postgres(mut c) => c
                .simple_query(sql)
                .unwrap()
                .into_iter()
                .filter_map(|m| match m {
                    ::postgres::SimpleQueryMessage::Row(row) => Some(
                        (0..row.len())
                            .map(|i| row.get(i).unwrap_or("NULL").to_string())
                            .collect::<Vec<_>>()
                            .join("|"),
                    ),
                    _ => None,
                })
                .collect(),
            Connection::Mysql(mut c) => {
                use ::mysql::prelude::Queryable;
                let rows: Vec<::mysql::Row> = c.query(sql).unwrap();
                rows.into_iter()
                    .map(|row| {
                        row.unwrap()
                            .into_iter()
                            .map(|v| match v {
                                ::mysql::Value::NULL => "NULL".to_string(),
                                ::mysql::Value::Bytes(b) => String::from_utf8(b).unwrap(),
                                other => format!("{other:?}"),
                            })
                            .collect::<Vec<_>>()
                            .join("|")
                    })
                    .collect()
            }
        }
    }

    fn run_at(&self, url: &str, args: &[&str], stdin: &str) -> Output {
        self.w
            .run(args)
            .env("DATABASE_URL", url)
            .env_remove("PGPASSWORD")
            .write_stdin(stdin.to_string())
            .output()
            .unwrap()
    }

    /// Run; expect exit 0 and one summary line on stderr; the result lines.
    fn ok(&self, args: &[&str], stdin: &str) -> Vec<Value> {
        let out = self.run_at(&self.url, args, stdin);
        let err = stderr_of(&out);
        assert!(out.status.success(), "{:?} {args:?}: {err}", self.kind);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("db-load: "), "{err}");
        ndjson_values(&stdout_of(&out))
    }

    /// Run; expect exit `code`; stdout and stderr, the latter checked to be
    /// `db-load: ...` lines ending with one `db-load: error: ...` line.
    fn fails_at(&self, url: &str, args: &[&str], stdin: &str, code: i32) -> (String, String) {
        let out = self.run_at(url, args, stdin);
        let err = stderr_of(&out);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{:?} {args:?}: {err}",
            self.kind
        );
        assert_lines(&err, &[]);
        (stdout_of(&out), err)
    }

    fn fails(&self, args: &[&str], stdin: &str, code: i32) -> (String, String) {
        self.fails_at(&self.url, args, stdin, code)
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

/// stderr is `db-load: ` lines, the last one the error, and leaks none of `values`.
fn assert_lines(stderr: &str, values: &[&str]) {
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(!lines.is_empty(), "nothing on stderr");
    for line in &lines {
        assert!(line.starts_with("db-load: "), "{stderr}");
    }
    assert!(
        lines[lines.len() - 1].starts_with("db-load: error: "),
        "{stderr}"
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("db-load: error: "))
            .count(),
        1,
        "{stderr}"
    );
    for value in values {
        assert!(
            !stderr.contains(value),
            "stderr leaks a record value {value:?}: {stderr}"
        );
    }
}

/// The `Row N: column: reason` lines of stderr, without the tool's prefix.
fn row_lines(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("db-load: Row "))
        .map(|l| format!("Row {l}"))
        .collect()
}

fn keys_and_ok(results: &[Value]) -> Vec<(Value, bool)> {
    results
        .iter()
        .map(|r| (r["_key"].clone(), r["ok"] == json!(true)))
        .collect()
}

// ------------------------------------------------------------------ cases

fn insert(db: &Db) {
    let t = db.slots("insert", &[]);
    let csv = "code,slots,note\nA1,4,first\nA2,0,\n";
    let results = db.ok(&["--table", &t, "--key", "code", "--mode", "insert"], csv);
    assert_eq!(
        results,
        vec![
            json!({"_key": "A1", "_remote_id": null, "ok": true}),
            json!({"_key": "A2", "_remote_id": null, "ok": true}),
        ]
    );
    assert_eq!(
        db.rows(&format!("SELECT code, slots, note FROM {t} ORDER BY code")),
        ["A1|4|first", "A2|0|NULL"]
    );
    // The same rows again: the primary key refuses them, and nothing changes.
    let (_, err) = db.fails(
        &["--table", &t, "--key", "code", "--mode", "insert"],
        csv,
        65,
    );
    assert_eq!(row_lines(&err).len(), 2, "{err}");
    assert!(
        row_lines(&err)[0].starts_with("Row 2: code: another row already has this value"),
        "{err}"
    );
}

fn update(db: &Db) {
    let t = db.slots("update", &[("A1", 4, Some("keep")), ("A2", 2, None)]);
    // A2 gets the value it already has: a match all the same (MariaDB counts it unchanged).
    let results = db.ok(
        &[
            "--table",
            &t,
            "--key",
            "code",
            "--mode",
            "update",
            "--columns",
            "slots",
        ],
        "code,slots,note\nA1,6,ignored\nA2,2,ignored\n",
    );
    assert_eq!(
        keys_and_ok(&results),
        [(json!("A1"), true), (json!("A2"), true)]
    );
    assert_eq!(
        db.rows(&format!("SELECT code, slots, note FROM {t} ORDER BY code")),
        ["A1|6|keep", "A2|2|NULL"]
    );
}

fn upsert_by_composite_key(db: &Db) {
    let t = db.table("upsert");
    let (code, flag) = (
        db.pick("TEXT", "varchar(20)", "VARCHAR(20)"),
        db.pick("BOOLEAN", "boolean", "BOOLEAN"),
    );
    db.setup(&format!(
        "DROP TABLE IF EXISTS {t};
         CREATE TABLE {t} (business_code {code} NOT NULL, hash {code} NOT NULL, slots INTEGER,
                           approved {flag}, PRIMARY KEY (business_code, hash));
         INSERT INTO {t} VALUES ('B1', 'H1', 3, NULL);"
    ));
    let ndjson = r#"{"business_code":"B1","hash":"H1","slots":5,"approved":true}
{"business_code":"B1","hash":"H2","slots":1,"approved":false}
"#;
    let results = db.ok(
        &[
            "--from",
            "ndjson",
            "--table",
            &t,
            "--key",
            "business_code,hash",
        ],
        ndjson,
    );
    assert_eq!(
        keys_and_ok(&results),
        [(json!(["B1", "H1"]), true), (json!(["B1", "H2"]), true)]
    );
    let (yes, no) = match db.kind {
        Kind::Postgres => ("t", "f"),
        _ => ("1", "0"),
    };
    assert_eq!(
        db.rows(&format!(
            "SELECT business_code, hash, slots, approved FROM {t} ORDER BY hash"
        )),
        [format!("B1|H1|5|{yes}"), format!("B1|H2|1|{no}")]
    );
    // Upsert by a key without a unique index is refused before anything is written.
    let (_, err) = db.fails(
        &["--from", "ndjson", "--table", &t, "--key", "hash"],
        ndjson,
        64,
    );
    assert!(
        err.contains("needs a primary key or a unique index on exactly (hash)"),
        "{err}"
    );
}

fn all_or_nothing(db: &Db) {
    let t = db.slots("all_or_nothing", &[("A1", 4, None)]);
    // Rows 3 (type), 4 (NOT NULL), 5 (check) and 6 (duplicate key) fail; 2 and 7 are fine.
    let csv = "code,slots,note\n\
               B1,1,Sam-Sample-Ok\n\
               B2,Jane-Doe-Secret,x\n\
               B3,,Other-Secret\n\
               B4,-5,Minus-Secret\n\
               A1,2,Dup-Secret\n\
               B5,3,\n";
    let (out, err) = db.fails(
        &["--table", &t, "--key", "code", "--mode", "insert"],
        csv,
        65,
    );
    assert_lines(
        &err,
        &[
            "Jane-Doe-Secret",
            "Other-Secret",
            "Minus-Secret",
            "-5",
            "Dup-Secret",
            "Sam-Sample",
        ],
    );
    let lines = row_lines(&err);
    let heads: Vec<String> = lines
        .iter()
        .map(|l| l.splitn(3, ": ").take(2).collect::<Vec<_>>().join(": "))
        .collect();
    assert_eq!(
        heads,
        [
            "Row 3: slots",
            "Row 4: slots",
            "Row 5: slots",
            "Row 6: code"
        ],
        "{:?}: {err}",
        db.kind
    );
    assert!(
        lines[1].ends_with("no value, and the column is NOT NULL"),
        "{err}"
    );
    assert!(
        err.trim_end()
            .ends_with("4 of 6 rows failed (listed above); nothing was applied, the transaction was rolled back"),
        "{err}"
    );
    // Every result says not applied; the good rows say why.
    let results = ndjson_values(&out);
    assert_eq!(results.len(), 6);
    assert!(results.iter().all(|r| r["ok"] == json!(false)), "{out}");
    assert_eq!(
        results[0]["error"],
        json!("rolled back: another row failed")
    );
    assert_eq!(
        results[5]["error"],
        json!("rolled back: another row failed")
    );
    assert!(
        results[1]["error"].as_str().unwrap().starts_with("slots: "),
        "{out}"
    );
    for value in ["Jane-Doe-Secret", "Minus-Secret", "Dup-Secret"] {
        assert!(!out.contains(value), "{out}");
    }
    assert_eq!(
        db.rows(&format!("SELECT code, slots FROM {t} ORDER BY code")),
        ["A1|4"]
    );
}

fn update_of_a_missing_key_fails_the_run(db: &Db) {
    let t = db.slots("missing_key", &[("A1", 4, None)]);
    let (out, err) = db.fails(
        &["--table", &t, "--key", "code", "--mode", "update"],
        "code,slots\nA1,7\nZ9,1\n",
        65,
    );
    assert_eq!(
        row_lines(&err),
        ["Row 3: code: no row has this key"],
        "{err}"
    );
    assert_eq!(
        keys_and_ok(&ndjson_values(&out)),
        [(json!("A1"), false), (json!("Z9"), false)]
    );
    assert_eq!(db.rows(&format!("SELECT slots FROM {t}")), ["4"]);
}

fn each_commit(db: &Db) {
    let t = db.slots("each_commit", &[]);
    let (out, err) = db.fails(
        &[
            "--table",
            &t,
            "--key",
            "code",
            "--mode",
            "insert",
            "--each-commit",
        ],
        "code,slots\nC1,1\nC2,-1\nC3,3\n",
        65,
    );
    assert_eq!(row_lines(&err).len(), 1, "{err}");
    assert!(row_lines(&err)[0].starts_with("Row 3: "), "{err}");
    assert!(
        err.contains("1 of 3 rows failed (listed above); the other 2 rows were inserted"),
        "{err}"
    );
    assert_eq!(
        keys_and_ok(&ndjson_values(&out)),
        [
            (json!("C1"), true),
            (json!("C2"), false),
            (json!("C3"), true)
        ]
    );
    assert_eq!(
        db.rows(&format!("SELECT code FROM {t} ORDER BY code")),
        ["C1", "C3"]
    );
}

fn columns_limit_what_is_written(db: &Db) {
    let t = db.slots("columns", &[("A1", 4, Some("keep"))]);
    // The extra input columns are neither written nor checked.
    db.ok(
        &["--table", &t, "--key", "code", "--columns", "slots"],
        "code,slots,note,not_a_column\nA1,9,Changed,x\nA2,1,New,y\n",
    );
    assert_eq!(
        db.rows(&format!("SELECT code, slots, note FROM {t} ORDER BY code")),
        ["A1|9|keep", "A2|1|NULL"]
    );
    // A --columns name the input lacks.
    let (_, err) = db.fails(
        &["--table", &t, "--key", "code", "--columns", "slots,nope"],
        "code,slots\nA1,9\n",
        65,
    );
    assert!(
        err.contains("row 1: the header has no column \"nope\""),
        "{err}"
    );
}

fn unknown_column(db: &Db) {
    let t = db.slots("unknown", &[]);
    let (out, err) = db.fails(
        &["--table", &t, "--key", "code"],
        "code,slots,colour,size\nA1,1,Red-Secret,9\n",
        65,
    );
    assert_eq!(out, "");
    assert_lines(&err, &["Red-Secret"]);
    assert!(
        err.contains(&format!(
            "columns \"colour\", \"size\" are not in table {t}"
        )),
        "{err}"
    );
    assert!(db.rows(&format!("SELECT code FROM {t}")).is_empty());
    // Names differing only in case find their column.
    db.ok(&["--table", &t, "--key", "CODE"], "CODE,Slots\nA1,1\n");
    assert_eq!(db.rows(&format!("SELECT code, slots FROM {t}")), ["A1|1"]);
    // A table that does not exist.
    let (_, err) = db.fails(
        &["--table", "load_no_such_table", "--key", "code"],
        "code\nA1\n",
        65,
    );
    assert!(
        err.contains("there is no table load_no_such_table"),
        "{err}"
    );
}

fn null_handling(db: &Db) {
    let t = db.slots("nulls", &[("A1", 4, Some("old")), ("A2", 5, Some("old"))]);
    // CSV: an empty field is NULL, or with --keep-empty an empty string.
    db.ok(
        &["--table", &t, "--key", "code"],
        "code,slots,note\nA1,4,\n",
    );
    db.ok(
        &["--table", &t, "--key", "code", "--keep-empty"],
        "code,slots,note\nA2,5,\n",
    );
    assert_eq!(
        db.rows(&format!("SELECT code, note FROM {t} ORDER BY code")),
        ["A1|NULL", "A2|"]
    );
    // NDJSON: null is NULL, "" is empty, a missing field is left alone.
    db.ok(
        &[
            "--from", "ndjson", "--table", &t, "--key", "code", "--mode", "update",
        ],
        "{\"code\":\"A1\",\"note\":\"\"}\n{\"code\":\"A2\",\"note\":null,\"slots\":6}\n",
    );
    assert_eq!(
        db.rows(&format!("SELECT code, slots, note FROM {t} ORDER BY code")),
        ["A1|4|", "A2|6|NULL"]
    );
    // A NULL key fails its row.
    let (_, err) = db.fails(
        &["--from", "ndjson", "--table", &t, "--key", "code"],
        "{\"code\":null,\"slots\":1}\n{\"slots\":1}\n",
        65,
    );
    assert_eq!(
        row_lines(&err),
        [
            "Row 1: code: the key is empty",
            "Row 2: code: the record has no such field, and it is part of the key"
        ]
    );
}

/// The path of a sibling binary of the workspace, built by `cargo test --workspace`.
fn workspace_bin(name: &str) -> PathBuf {
    let path = std::path::Path::new(BIN).with_file_name(name);
    if !path.exists() {
        // `cargo test -p db-load` builds db-load's binary only.
        let mut cargo = std::process::Command::new(env!("CARGO"));
        cargo.args(["build", "--quiet", "--package", name]);
        if path.parent().and_then(|p| p.file_name()) == Some(std::ffi::OsStr::new("release")) {
            cargo.arg("--release");
        }
        let status = cargo
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(status.success(), "cargo build --package {name} failed");
    }
    path
}

fn results_feed_index_diff_commit(db: &Db) {
    let t = db.table("index_diff");
    let code = db.pick("TEXT", "varchar(20)", "VARCHAR(20)");
    db.setup(&format!(
        "DROP TABLE IF EXISTS {t};
         CREATE TABLE {t} (business_code {code} NOT NULL, hash {code} NOT NULL, slots INTEGER,
                           PRIMARY KEY (business_code, hash));"
    ));
    let index_diff = workspace_bin("index-diff");
    db.w.create(
        "requests.csv",
        "business_code,hash,slots\nB1,H1,3\nB2,H2,4\nB3,H3,5\n",
    );
    let diff = |w: &Workdir| {
        let out = std::process::Command::new(&index_diff)
            .current_dir(w.root())
            .args([
                "--index",
                "state.json",
                "--key",
                "business_code,hash",
                "--from",
                "csv",
                "requests.csv",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        stdout_of(&out)
    };
    let commit = |w: &Workdir, results: &str| {
        let out = std::process::Command::new(&index_diff)
            .current_dir(w.root())
            .args(["--commit", "--index", "state.json"])
            .stdin(std::fs::File::open(w.create("results.ndjson", results)).unwrap())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        stderr_of(&out)
    };
    let todo = diff(&db.w);
    assert_eq!(ndjson_values(&todo).len(), 3);
    let args = [
        "--from",
        "ndjson",
        "--table",
        &t,
        "--key",
        "business_code,hash",
    ];

    // A dry run's results mark nothing delivered.
    let out = db.run_at(&db.url, &[&args[..], &["--dry-run"]].concat(), &todo);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let dry = stdout_of(&out);
    assert!(
        ndjson_values(&dry)
            .iter()
            .all(|r| r["dry_run"] == json!(true) && r["ok"] == json!(true))
    );
    assert!(db.rows(&format!("SELECT hash FROM {t}")).is_empty());
    assert!(commit(&db.w, &dry).contains("0 delivered"));

    // The results of a real load carry index-diff's fields back to it.
    let out = db.run_at(&db.url, &args, &todo);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let results = stdout_of(&out);
    let values = ndjson_values(&results);
    assert_eq!(values[0]["_key"], json!(["B1", "H1"]));
    assert_eq!(values[0]["_op"], json!("new"));
    assert_eq!(values[0]["_hash"].as_str().map(str::len), Some(64));
    assert!(!results.contains("\"slots\""), "{results}");
    assert!(commit(&db.w, &results).contains("3 delivered, 0 failed"));
    // Delivered: the next diff has nothing to send, and db-load nothing to do.
    let again = diff(&db.w);
    assert_eq!(again, "");
    let out = db.run_at(&db.url, &args, &again);
    assert!(out.status.success() && out.stdout.is_empty() && out.stderr.is_empty());
    assert_eq!(
        db.rows(&format!("SELECT hash, slots FROM {t} ORDER BY hash")),
        ["H1|3", "H2|4", "H3|5"]
    );
}

fn auth_failure(db: &Db) {
    if db.kind == Kind::Sqlite {
        return; // SQLite has no login.
    }
    let t = db.slots("auth", &[]);
    let wrong = db.url.replacen("phtools-test", "Wrong-Secret-9", 1);
    let (out, err) = db.fails_at(
        &wrong,
        &["--table", &t, "--key", "code"],
        "code,slots\nA1,1\n",
        77,
    );
    assert_eq!(out, "");
    assert_lines(&err, &["Wrong-Secret-9", "phtools-test"]);
    // --password-env puts the right password back.
    let bare = db.url.replacen(":phtools-test@", "@", 1);
    let out =
        db.w.run([
            "--db",
            &bare,
            "--password-env",
            "TEST_DB_PASSWORD",
            "--table",
            &t,
            "--key",
            "code",
        ])
        .env_remove("DATABASE_URL")
        .env("TEST_DB_PASSWORD", "phtools-test")
        .write_stdin("code,slots\nA1,1\n")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
}

fn connection_refused(db: &Db) {
    let code = if db.kind == Kind::Sqlite { 66 } else { 75 };
    let (out, err) = db.fails_at(
        &db.unreachable_url(),
        &["--table", "t", "--key", "code"],
        "code\nA1\n",
        code,
    );
    assert_eq!(out, "");
    assert!(!err.contains("phtools-test"), "{err}");
}

fn empty_input(db: &Db) {
    // Nothing to do connects to nothing: the unreachable URL is fine.
    for (from, input) in [("csv", ""), ("csv", "code,slots\n"), ("ndjson", "\n\n")] {
        let out = db.run_at(
            &db.unreachable_url(),
            &["--from", from, "--table", "t", "--key", "code"],
            input,
        );
        assert!(out.status.success(), "{from}: {}", stderr_of(&out));
        assert!(out.stdout.is_empty() && out.stderr.is_empty());
    }
}

fn dry_run_leaves_the_table_unchanged(db: &Db) {
    let t = db.slots("dry_run", &[("A1", 4, Some("old"))]);
    let out = db.run_at(
        &db.url,
        &["--table", &t, "--key", "code", "--dry-run"],
        "code,slots,note\nA1,8,new\nA2,1,\n",
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("dry run: 2 rows would be upserted; rolled back"));
    assert_eq!(
        ndjson_values(&stdout_of(&out)),
        vec![
            json!({"_key": "A1", "_remote_id": null, "ok": true, "dry_run": true}),
            json!({"_key": "A2", "_remote_id": null, "ok": true, "dry_run": true}),
        ]
    );
    assert_eq!(
        db.rows(&format!("SELECT code, slots, note FROM {t} ORDER BY code")),
        ["A1|4|old"]
    );
    // A failing row fails the dry run the same way.
    let (out, err) = db.fails(
        &["--table", &t, "--key", "code", "--dry-run"],
        "code,slots\nA1,8\nA2,-1\n",
        65,
    );
    assert!(err.contains("(dry run)"), "{err}");
    assert_eq!(
        ndjson_values(&out)[0],
        json!({"_key": "A1", "_remote_id": null, "ok": false, "error": "rolled back: another row failed", "dry_run": true})
    );
}

common::engine_tests!(
    insert,
    update,
    upsert_by_composite_key,
    all_or_nothing,
    update_of_a_missing_key_fails_the_run,
    each_commit,
    columns_limit_what_is_written,
    unknown_column,
    null_handling,
    results_feed_index_diff_commit,
    auth_failure,
    connection_refused,
    empty_input,
    dry_run_leaves_the_table_unchanged,
);

// ------------------------------------------------------- engine-independent

fn sqlite_db(ddl: &str) -> (Workdir, String) {
    let w = Workdir::new(BIN);
    let path = w.create("t.db", "");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(ddl).unwrap();
    (w, format!("sqlite:{}", path.display()))
}

fn run(w: &Workdir, url: &str, args: &[&str], stdin: &str) -> Output {
    w.run(args)
        .env("DATABASE_URL", url)
        .write_stdin(stdin.to_string())
        .output()
        .unwrap()
}

#[test]
fn bad_flags_are_usage_errors_before_anything_is_read() {
    let w = Workdir::new(BIN);
    for args in [
        vec!["--table", "t"],
        vec!["--table", "t", "--key", "k", "--mode", "merge"],
        vec!["--table", "t\"; DROP TABLE x; --", "--key", "k"],
        vec!["--table", "t", "--key", "k`"],
        vec!["--table", "t", "--key", "k,k"],
        vec!["--table", "t", "--key", "k", "--columns", "a,,b"],
        vec![
            "--table",
            "t",
            "--key",
            "k",
            "--from",
            "ndjson",
            "--keep-empty",
        ],
        vec!["--table", "t", "--key", "k", "--timeout", "0"],
        vec!["--table", "t", "--key", "k", "-d", "ab"],
        vec![
            "--table",
            "t",
            "--key",
            "k",
            "--db",
            "postgres://u@db.example.org/x",
        ],
    ] {
        let out = run(&w, "sqlite::memory:", &args, "k\n1\n");
        assert_eq!(out.status.code(), Some(64), "{args:?}: {}", stderr_of(&out));
    }
}

#[test]
fn password_in_db_flag_is_refused() {
    let w = Workdir::new(BIN);
    let out = w
        .run([
            "--db",
            "postgres://app:Hunter-Two@127.0.0.1/x",
            "--table",
            "t",
            "--key",
            "k",
        ])
        .env_remove("DATABASE_URL")
        .write_stdin("k\n1\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(!stderr_of(&out).contains("Hunter-Two"));
}

#[test]
fn missing_database_is_a_config_error() {
    let w = Workdir::new(BIN);
    let out = w
        .run(["--table", "t", "--key", "k"])
        .env_remove("DATABASE_URL")
        .write_stdin("k\n1\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78), "{}", stderr_of(&out));
}

#[test]
fn help_does_not_show_the_url_from_the_environment() {
    let w = Workdir::new(BIN);
    let out = w
        .run(["--help"])
        .env("DATABASE_URL", "postgres://a:Hunter-Two@h/x")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!stdout_of(&out).contains("Hunter-Two"));
}

#[test]
fn malformed_input_names_file_row_and_column_not_values() {
    let (w, url) = sqlite_db("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)");
    let cases = [
        (
            vec!["--table", "t", "--key", "k"],
            "k,v\nA1,ok\nA2\n",
            "<stdin>: row 3, column \"v\": the row has 1 field",
        ),
        (
            vec!["--table", "t", "--key", "k"],
            "k,v\nA1,\"Open-Secret\n",
            "<stdin>: row 2: a quoted field",
        ),
        (
            vec!["--table", "t", "--key", "k"],
            "k,v,v\nA1,a,b\n",
            "column \"v\": the header names this column twice",
        ),
        (
            vec!["--table", "t", "--key", "nope"],
            "k,v\nA1,a\n",
            "the header has no column \"nope\"",
        ),
        (
            vec!["--from", "ndjson", "--table", "t", "--key", "k"],
            "{\"k\":\"A1\"}\n{\"k\": \"Broken-Secret\"\n",
            "<stdin>: line 2: not valid JSON",
        ),
        (
            vec!["--from", "ndjson", "--table", "t", "--key", "k"],
            "{\"_key\":\"A1\",\"_op\":\"deleted\"}\n",
            "<stdin>: line 1, column \"_op\": a deleted record",
        ),
    ];
    for (args, input, want) in cases {
        let out = run(&w, &url, &args, input);
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(65), "{input}: {err}");
        assert!(err.contains(want), "{err}");
        assert!(!err.contains("Secret"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    // Nothing was written by any of them.
    let conn = rusqlite::Connection::open(w.path("t.db")).unwrap();
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn delimiter_input_file_and_sqlite_types() {
    let (w, url) = sqlite_db(
        "CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER, x REAL, ok BOOLEAN, doc TEXT, note TEXT)",
    );
    w.create("in.csv", "k;n;ok\nA1;7;true\nA2;8;FALSE\n");
    let out = run(
        &w,
        &url,
        &["--table", "t", "--key", "k", "-d", ";", "in.csv"],
        "",
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
    let out = run(
        &w,
        &url,
        &["--from", "ndjson", "--table", "t", "--key", "k", "-"],
        "{\"k\":\"A3\",\"n\":12345678901,\"x\":1.5,\"ok\":true,\"doc\":{\"a\":[1,2]}}\n",
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
    let conn = rusqlite::Connection::open(w.path("t.db")).unwrap();
    let rows: Vec<String> = conn
        .prepare("SELECT k, typeof(n), n, quote(x), quote(ok), quote(doc) FROM t ORDER BY k")
        .unwrap()
        .query_map([], |r| {
            Ok((0..6)
                .map(|i| {
                    r.get::<_, rusqlite::types::Value>(i)
                        .map(|v| format!("{v:?}"))
                })
                .collect::<Result<Vec<_>, _>>()?
                .join(" "))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        rows,
        [
            "Text(\"A1\") Text(\"integer\") Integer(7) Text(\"NULL\") Text(\"1\") Text(\"NULL\")",
            "Text(\"A2\") Text(\"integer\") Integer(8) Text(\"NULL\") Text(\"0\") Text(\"NULL\")",
            "Text(\"A3\") Text(\"integer\") Integer(12345678901) Text(\"1.5\") Text(\"1\") Text(\"'{\\\"a\\\":[1,2]}'\")",
        ]
    );
}

#[test]
fn readme_fixture_matches_its_sql() {
    // tests/fixtures/masstesting/business_requests.sqlite is built from
    // tests/fixtures/business_requests.sql; REGENERATE_FIXTURES=1 rebuilds it.
    let fixtures = common::testing::fixtures_dir();
    let sql = std::fs::read_to_string(fixtures.join("business_requests.sql")).unwrap();
    let fixture = fixtures.join("masstesting/business_requests.sqlite");
    let w = Workdir::new(BIN);
    let fresh = w.path("fresh.sqlite");
    rusqlite::Connection::open(&fresh)
        .unwrap()
        .execute_batch(&sql)
        .unwrap();
    if std::env::var("REGENERATE_FIXTURES").is_ok_and(|v| v == "1") {
        std::fs::copy(&fresh, &fixture).unwrap();
    }
    let dump = |path: &std::path::Path| -> Vec<String> {
        let conn = rusqlite::Connection::open(path).unwrap();
        let mut out: Vec<String> = conn
            .prepare("SELECT type || ' ' || name || ': ' || COALESCE(sql, '') FROM sqlite_master ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let rows = conn
            .prepare("SELECT * FROM business_requests ORDER BY id")
            .unwrap()
            .query_map([], |r| {
                Ok((0..8)
                    .map(|i| {
                        r.get::<_, rusqlite::types::Value>(i)
                            .map(|v| format!("{v:?}"))
                    })
                    .collect::<Result<Vec<_>, _>>()?
                    .join(","))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect::<Vec<_>>();
        out.extend(rows);
        out
    };
    assert_eq!(
        dump(&fixture),
        dump(&fresh),
        "the fixture is stale: run REGENERATE_FIXTURES=1 cargo test -p db-load readme_fixture"
    );
}
