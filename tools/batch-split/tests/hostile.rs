#![allow(clippy::unwrap_used)]
//! batch-split on hostile input: names from the data in messages, nesting
//! in every JSON reader, header width, and a bounded property test. All
//! data here is invented.

use common::testing::{
    SENTINEL, Workdir, header_with_repeat, hostile_input, long_name, names_in, nested_record,
    temp_files_in,
};
use proptest::prelude::*;

const BIN: &str = env!("CARGO_BIN_EXE_batch-split");

/// Run on `stdin`; the exit code and stderr, checked for the sentinel.
fn run(w: &Workdir, args: &[&str], stdin: &[u8]) -> (i32, String) {
    w.run_contained(args, stdin, &batch_split::DOC)
}

const ARRAY: &[&str] = &["--from", "csv", "--array"];

#[test]
fn a_name_from_the_data_that_is_long_or_has_control_characters_is_named_by_position() {
    let mut runaway = format!("id,name,\"ssn\n1,{SENTINEL},1\n2,Bo,2\"\n3,Al,").into_bytes();
    runaway.extend_from_slice(b"\xff\n");
    let mut long_header = format!("id,{}\n1,", long_name()).into_bytes();
    long_header.extend_from_slice(b"\xff\n");
    let short_row = format!("id,name,\"ssn\n1,{SENTINEL},1\n2,Bo,2\"\n3,Al\n").into_bytes();
    let twice = format!("id,\"n\n{SENTINEL}\",x,\"n\n{SENTINEL}\"\n1,2,3,4\n").into_bytes();
    let cases: &[(&[&str], &[u8], &str)] = &[
        (ARRAY, &runaway, "<stdin>: row 2, column 3: not valid UTF-8"),
        (
            ARRAY,
            &long_header,
            "<stdin>: row 2, column 2: not valid UTF-8",
        ),
        (
            ARRAY,
            &short_row,
            "<stdin>: row 2, column 3: the row has 2 fields",
        ),
        (
            &["--from", "csv", "--out-dir", "out"],
            &short_row,
            "<stdin>: row 2, column 3: the row has 2 fields",
        ),
        (
            ARRAY,
            &twice,
            "<stdin>: row 1, column 4: the column name appears twice",
        ),
    ];
    let w = Workdir::new(BIN);
    for (args, stdin, want) in cases {
        let (code, stderr) = run(&w, args, stdin);
        assert_eq!(code, 65, "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
    }
}

#[test]
fn a_repeated_column_is_still_found_among_many() {
    let cases = [(4999, 17), (1, 0), (2500, 2499)];
    let w = Workdir::new(BIN);
    for (at, copies) in cases {
        let header = header_with_repeat(5000, at, copies);
        let input = format!("{header}\n{}\n", vec!["1"; 5000].join(","));
        let (code, stderr) = run(&w, ARRAY, input.as_bytes());
        assert_eq!(code, 65, "{stderr}");
        let want = format!("row 1, column \"c{copies}\": the column name appears twice");
        assert!(stderr.contains(&want), "{stderr}");
    }
}

#[test]
fn ndjson_nests_up_to_the_one_limit_and_no_deeper() {
    use common::ndjson::MAX_DEPTH;
    let cases = [(MAX_DEPTH, 0), (MAX_DEPTH + 1, 65), (10_000, 65)];
    let arg_sets: &[&[&str]] = &[
        &["--array"],
        &["--out-dir", "out"],
        &["--out-dir", "out", "-n", "1"],
    ];
    for args in arg_sets {
        for (depth, want) in cases {
            let w = Workdir::new(BIN);
            let input = format!("{{\"id\":\"0\"}}\n{}\n", nested_record(depth));
            let (code, stderr) = run(&w, args, input.as_bytes());
            assert_eq!(code, want, "{args:?} depth {depth}: {stderr}");
            if want == 65 {
                assert!(stderr.contains("<stdin>: line 2: "), "{stderr}");
                assert!(stderr.contains("nested deeper than"), "{stderr}");
            }
        }
    }
}

#[test]
fn spool_files_nest_up_to_the_one_limit_and_no_deeper() {
    use common::ndjson::MAX_DEPTH;
    let w = Workdir::new(BIN);
    w.create("spool/a.json", nested_record(MAX_DEPTH));
    w.create("spool/b.json", nested_record(MAX_DEPTH + 1));
    let args = [
        "--spool",
        "spool",
        "--exec",
        "cat > /dev/null",
        "--settle",
        "0",
        "--all",
    ];
    let (_, stderr) = run(&w, &args, b"");
    assert_eq!(names_in(&w.path("spool/sent")), ["a.json"], "{stderr}");
    assert_eq!(names_in(&w.path("spool/error")), ["b.json"], "{stderr}");
    assert!(stderr.contains("nested deeper than"), "{stderr}");
}

#[test]
fn a_header_wider_than_the_limit_is_refused() {
    use common::csv::MAX_COLUMNS;
    let w = Workdir::new(BIN);
    let input = format!("{}\n", vec!["a"; MAX_COLUMNS + 1].join(","));
    for args in [ARRAY, &["--from", "csv", "--out-dir", "out"]] {
        let (code, stderr) = run(&w, args, input.as_bytes());
        assert_eq!(code, 65, "{stderr}");
        assert!(
            stderr.contains("<stdin>: row 1: the header has more than 1000000 columns"),
            "{stderr}"
        );
    }
}

// ------------------------------------------------------------ property test

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn hostile_input_ends_in_a_documented_code_without_a_partial_file(
        csv in hostile_input(b"id,name\n"),
        ndjson in hostile_input(b"{\"id\":\"1\"}\n"),
    ) {
        let arg_sets: &[(&[&str], &[u8])] = &[
            (&["--from", "csv", "--out-dir", "out", "-n", "2"], &csv),
            (&["--from", "csv", "--array", "--out-dir", "out", "-n", "2"], &csv),
            (&["--out-dir", "out", "-n", "2"], &ndjson),
            (&["--array", "--out-dir", "out", "-n", "2"], &ndjson),
        ];
        for (args, input) in arg_sets {
            let w = Workdir::new(BIN);
            run(&w, args, input);
            if w.path("out").exists() {
                prop_assert!(temp_files_in(&w.path("out")).is_empty(), "{:?}", args);
            }
        }
    }
}
