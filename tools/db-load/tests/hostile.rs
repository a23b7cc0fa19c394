#![allow(clippy::unwrap_used)]
//! db-load (SQLite) on hostile input: names from the data in messages,
//! nesting, header width, and a bounded property test. All data here is
//! invented.

use common::testing::{
    SENTINEL, Workdir, header_with_repeat, hostile_input, long_name, nested_record,
};
use proptest::prelude::*;

const BIN: &str = env!("CARGO_BIN_EXE_db-load");

/// A workdir with `t.db` holding table t and one row.
fn with_table() -> Workdir {
    let w = Workdir::new(BIN);
    let db = rusqlite::Connection::open(w.path("t.db")).unwrap();
    db.execute_batch(
        "CREATE TABLE t (id TEXT PRIMARY KEY, name TEXT, v TEXT);
         INSERT INTO t VALUES ('0', 'kept', NULL);",
    )
    .unwrap();
    w
}

/// The table's rows, as text.
fn rows(w: &Workdir) -> Vec<String> {
    let db = rusqlite::Connection::open(w.path("t.db")).unwrap();
    let mut query = db.prepare("SELECT id, name, v FROM t ORDER BY id").unwrap();
    let rows = query
        .query_map([], |row| {
            Ok(format!(
                "{:?}|{:?}|{:?}",
                row.get::<_, Option<String>>(0)?,
                row.get::<_, Option<String>>(1)?,
                row.get::<_, Option<String>>(2)?
            ))
        })
        .unwrap();
    rows.map(Result::unwrap).collect()
}

/// Load `stdin` into t (upsert by id); the exit code and stderr, checked
/// for the sentinel.
fn load(w: &Workdir, from: &str, stdin: &[u8]) -> (i32, String) {
    let db = format!("sqlite:{}", w.path("t.db").display());
    let args = [
        "--db", &db, "--table", "t", "--key", "id", "--mode", "upsert", "--from", from,
    ];
    w.run_contained(&args, stdin, &db_load::DOC)
}

#[test]
fn a_name_from_the_data_that_is_long_or_has_control_characters_is_named_by_position() {
    let runaway = format!("id,name,\"ssn\n1,{SENTINEL},1\n2,Bo,2\"\n3,Al,x\n");
    let long_header = format!("id,{}\n1,x\n", long_name());
    let long_key = format!(
        "{{\"id\":\"1\",\"name\":\"x\",\"{}\":\"3\"}}\n",
        long_name()
    );
    let control_key = format!("{{\"id\":\"1\",\"a\\n{SENTINEL}\":\"3\"}}\n");
    let cases = [
        ("csv", &runaway, "<stdin>: row 1, column 3: bad column name"),
        (
            "csv",
            &long_header,
            "<stdin>: row 1, column 2: bad column name",
        ),
        (
            "ndjson",
            &long_key,
            "<stdin>: line 1, column 3: bad column name",
        ),
        (
            "ndjson",
            &control_key,
            "<stdin>: line 1, column 2: bad column name",
        ),
    ];
    for (from, stdin, want) in cases {
        let w = with_table();
        let (code, stderr) = load(&w, from, stdin.as_bytes());
        assert_eq!(code, 65, "{stderr}");
        assert!(stderr.contains(want), "{stderr}");
        assert_eq!(rows(&w), ["Some(\"0\")|Some(\"kept\")|None"]);
    }
}

#[test]
fn a_repeated_column_is_still_found_among_many() {
    let cases = [(4999, 17), (1, 0), (2500, 2499)];
    for (at, copies) in cases {
        let header = header_with_repeat(5000, at, copies);
        let input = format!("id,{header}\n1,{}\n", vec!["1"; 5000].join(","));
        let (code, stderr) = load(&with_table(), "csv", input.as_bytes());
        assert_eq!(code, 65, "{stderr}");
        let want = format!("row 1, column \"c{copies}\": the header names this column twice");
        assert!(stderr.contains(&want), "{stderr}");
    }
}

#[test]
fn json_nests_up_to_the_one_limit_and_no_deeper() {
    use common::ndjson::MAX_DEPTH;
    let cases = [(MAX_DEPTH, 0, 2), (MAX_DEPTH + 1, 65, 1), (10_000, 65, 1)];
    for (depth, want, rows_after) in cases {
        let w = with_table();
        let (code, stderr) = load(&w, "ndjson", nested_record(depth).as_bytes());
        assert_eq!(code, want, "depth {depth}: {stderr}");
        if want == 65 {
            assert!(stderr.contains("<stdin>: line 1: "), "{stderr}");
            assert!(stderr.contains("nested deeper than"), "{stderr}");
        }
        assert_eq!(rows(&w).len(), rows_after);
    }
}

#[test]
fn a_header_wider_than_the_limit_is_refused() {
    use common::csv::MAX_COLUMNS;
    let w = with_table();
    let input = format!("id,{}\n", vec!["a"; MAX_COLUMNS].join(","));
    let (code, stderr) = load(&w, "csv", input.as_bytes());
    assert_eq!(code, 65, "{stderr}");
    assert!(
        stderr.contains("<stdin>: row 1: the header has more than 1000000 columns"),
        "{stderr}"
    );
}

// ------------------------------------------------------------ property test

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn hostile_input_ends_in_a_documented_code_and_a_failure_leaves_the_table(
        csv in hostile_input(b"id,name\n"),
        ndjson in hostile_input(b"{\"id\":\"1\"}\n"),
    ) {
        for (from, input) in [("csv", &csv), ("ndjson", &ndjson)] {
            let w = with_table();
            let before = rows(&w);
            let (code, _) = load(&w, from, input);
            if code != 0 {
                prop_assert_eq!(rows(&w), before, "--from {}", from);
            }
        }
    }
}
