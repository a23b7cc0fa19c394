#![allow(clippy::unwrap_used)]
//! index-diff on hostile input: names from the data in messages, nesting,
//! header width, and a bounded property test. All data here is invented.

use common::testing::{
    SENTINEL, Workdir, header_with_repeat, hostile_input, long_name, nested_record,
};
use proptest::prelude::*;

const BIN: &str = env!("CARGO_BIN_EXE_index-diff");

/// Diff `stdin` against `state.json`, keyed by id; the exit code and
/// stderr, checked for the sentinel.
fn diff(w: &Workdir, from: &str, stdin: &[u8]) -> (i32, String) {
    let args = ["--index", "state.json", "--key", "id", "--from", from];
    w.run_contained(&args, stdin, &index_diff::DOC)
}

#[test]
fn a_name_from_the_data_that_is_long_or_has_control_characters_is_named_by_position() {
    let mut runaway = format!("id,name,\"ssn\n1,{SENTINEL},1\n2,Bo,2\"\n3,Al,").into_bytes();
    runaway.extend_from_slice(b"\xff\n");
    let short_row = format!("id,name,\"ssn\n1,{SENTINEL},1\n2,Bo,2\"\n3,Al\n").into_bytes();
    let mut long_header = format!("id,{}\n1,", long_name()).into_bytes();
    long_header.extend_from_slice(b"\xff\n");
    let twice = format!("id,\"n\n{SENTINEL}\",x,\"n\n{SENTINEL}\"\n1,2,3,4\n").into_bytes();
    let cases: &[(&[u8], &str)] = &[
        (&runaway, "<stdin>: row 2, column 3: not valid UTF-8"),
        (&long_header, "<stdin>: row 2, column 2: not valid UTF-8"),
        (&short_row, "<stdin>: row 2, column 3: the row has 2 fields"),
        (
            &twice,
            "<stdin>: row 1, column 4: the column name appears twice",
        ),
    ];
    for (stdin, want) in cases {
        let w = Workdir::new(BIN);
        let (code, stderr) = diff(&w, "csv", stdin);
        assert_eq!(code, 65, "{stderr}");
        assert!(stderr.contains(want), "{stderr}");
        assert!(!w.path("state.json").exists());
    }
}

#[test]
fn a_repeated_column_is_still_found_among_many() {
    let cases = [(4999, 17), (1, 0), (2500, 2499)];
    for (at, copies) in cases {
        let header = header_with_repeat(5000, at, copies);
        let input = format!("id,{header}\n1,{}\n", vec!["1"; 5000].join(","));
        let w = Workdir::new(BIN);
        let (code, stderr) = diff(&w, "csv", input.as_bytes());
        assert_eq!(code, 65, "{stderr}");
        let want = format!("row 1, column \"c{copies}\": the column name appears twice");
        assert!(stderr.contains(&want), "{stderr}");
        assert!(!w.path("state.json").exists());
    }
}

#[test]
fn json_nests_up_to_the_one_limit_and_no_deeper() {
    use common::ndjson::MAX_DEPTH;
    let cases = [(MAX_DEPTH, 0), (MAX_DEPTH + 1, 65), (10_000, 65)];
    for (depth, want) in cases {
        let w = Workdir::new(BIN);
        let (code, stderr) = diff(&w, "ndjson", nested_record(depth).as_bytes());
        assert_eq!(code, want, "depth {depth}: {stderr}");
        if want == 65 {
            assert!(stderr.contains("<stdin>: line 1: "), "{stderr}");
            assert!(stderr.contains("nested deeper than"), "{stderr}");
        }
    }
}

#[test]
fn a_header_wider_than_the_limit_is_refused() {
    use common::csv::MAX_COLUMNS;
    let w = Workdir::new(BIN);
    let input = format!("id,{}\n", vec!["a"; MAX_COLUMNS].join(","));
    let (code, stderr) = diff(&w, "csv", input.as_bytes());
    assert_eq!(code, 65, "{stderr}");
    assert!(
        stderr.contains("<stdin>: row 1: the header has more than 1000000 columns"),
        "{stderr}"
    );
}

// ------------------------------------------------------------ property test

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn hostile_input_ends_in_a_documented_code_and_a_failure_leaves_the_index(
        csv in hostile_input(b"id,name\n"),
        ndjson in hostile_input(b"{\"id\":\"1\"}\n"),
    ) {
        for (from, input) in [("csv", &csv), ("ndjson", &ndjson)] {
            let w = Workdir::new(BIN);
            w.create("state.json", "{}\n");
            let (code, _) = diff(&w, from, input);
            if code != 0 {
                prop_assert_eq!(w.read("state.json"), "{}\n", "--from {}", from);
            }
        }
    }
}
