#![allow(clippy::unwrap_used)]
//! csv-shape on hostile input: names from the data in messages, nesting,
//! header width, and a bounded property test. All data here is invented.

use common::testing::{
    SENTINEL, Workdir, header_with_repeat, hostile_input, long_name, nested_record,
};
use proptest::prelude::*;

const BIN: &str = env!("CARGO_BIN_EXE_csv-shape");

/// Run on `stdin`; the exit code and stderr, checked for the sentinel.
fn run(w: &Workdir, args: &[&str], stdin: &[u8]) -> (i32, String) {
    w.run_contained(args, stdin, &csv_shape::DOC)
}

#[test]
fn a_name_from_the_data_that_is_long_or_has_control_characters_is_named_by_position() {
    let mut bad_utf8 = format!("id,name,\"ssn\n1,{SENTINEL},1\n2,Bo,2\"\n3,Al,").into_bytes();
    bad_utf8.extend_from_slice(b"\xff\n");
    let mut long_header = format!("id,{}\n1,", long_name()).into_bytes();
    long_header.extend_from_slice(b"\xff\n");
    let twice = format!("id,\"n\n{SENTINEL}\",x,\"n\n{SENTINEL}\"\n1,2,3,4\n");
    let long_key = format!(
        "{{\"id\":\"1\"}}\n{{\"id\":\"2\",\"{}\":\"3\"}}\n",
        long_name()
    );
    let control_key = format!("{{\"id\":\"1\"}}\n{{\"id\":\"2\",\"a\\n{SENTINEL}\":\"3\"}}\n");
    let cases: &[(&[&str], &[u8], &str)] = &[
        (&[], &bad_utf8, "<stdin>: row 2, column 3: not valid UTF-8"),
        (
            &[],
            &long_header,
            "<stdin>: row 2, column 2: not valid UTF-8",
        ),
        (
            &["--to", "ndjson"],
            twice.as_bytes(),
            "<stdin>: row 1, column 4: column appears twice",
        ),
        (
            &["--from", "ndjson"],
            long_key.as_bytes(),
            "<stdin>: line 2, column 2: key is not among",
        ),
        (
            &["--from", "ndjson"],
            control_key.as_bytes(),
            "<stdin>: line 2, column 2: key is not among",
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
        let (code, stderr) = run(&w, &["--to", "ndjson"], input.as_bytes());
        assert_eq!(code, 65, "{stderr}");
        let want = format!("row 1, column \"c{copies}\": column appears twice");
        assert!(stderr.contains(&want), "{stderr}");
    }
}

#[test]
fn json_nests_up_to_the_one_limit_and_no_deeper() {
    use common::ndjson::MAX_DEPTH;
    let cases = [(MAX_DEPTH, 0), (MAX_DEPTH + 1, 65), (10_000, 65)];
    let w = Workdir::new(BIN);
    for args in [
        &["--from", "ndjson"][..],
        &["--from", "ndjson", "--to", "ndjson"],
    ] {
        for (depth, want) in cases {
            let input = format!(
                "{{\"id\":\"0\",\"name\":\"a\",\"v\":1}}\n{}",
                nested_record(depth)
            );
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
fn a_header_wider_than_the_limit_is_refused() {
    use common::csv::MAX_COLUMNS;
    let cases = [(MAX_COLUMNS, 0), (MAX_COLUMNS + 1, 65)];
    let w = Workdir::new(BIN);
    for (width, want) in cases {
        let input = format!("{}\n", vec!["a"; width].join(","));
        let (code, stderr) = run(&w, &[], input.as_bytes());
        assert_eq!(code, want, "{width}: {stderr}");
        if want == 65 {
            assert!(
                stderr.contains("<stdin>: row 1: the header has"),
                "{stderr}"
            );
        }
    }
}

// ------------------------------------------------------------ property test

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn hostile_input_ends_in_a_documented_code_without_a_value_or_a_partial_file(input in hostile_input(b"id,name\n")) {
        let w = Workdir::new(BIN);
        let arg_sets: &[&[&str]] = &[
            &["-o", "out.csv"],
            &["--to", "ndjson", "-o", "out.csv"],
            &["--from", "ndjson", "-o", "out.csv"],
            &["--pad-ragged", "--skip-empty-rows", "--to", "ndjson", "-o", "out.csv"],
        ];
        for args in arg_sets {
            let (code, _) = run(&w, args, &input);
            if code != 0 {
                prop_assert!(!w.path("out.csv").exists(), "{args:?}: a failed run left out.csv");
            }
            let _ = std::fs::remove_file(w.path("out.csv"));
        }
    }
}
