#![allow(clippy::unwrap_used)]
//! batch-split on hostile input: names from the data in messages, nesting
//! in every JSON reader, header width, and a bounded property test. All
//! data here is invented.

use common::testing::{SENTINEL, Workdir, assert_contained, names_in, stderr_of, temp_files_in};
use proptest::prelude::*;

const BIN: &str = env!("CARGO_BIN_EXE_batch-split");

/// The codes the man page documents, and 0.
fn documented() -> Vec<i32> {
    let mut codes: Vec<i32> = batch_split::DOC
        .exit_codes
        .iter()
        .map(|e| e.code())
        .collect();
    codes.push(0);
    codes
}

/// Run on `stdin`; the exit code and stderr, checked for the sentinel.
fn run(w: &Workdir, args: &[&str], stdin: &[u8]) -> (i32, String) {
    let out = w.run(args).write_stdin(stdin.to_vec()).output().unwrap();
    assert_contained(&out, &documented(), &format!("{args:?}"));
    (out.status.code().unwrap_or(-1), stderr_of(&out))
}

fn long_name() -> String {
    format!("{SENTINEL}{}", "n".repeat(200))
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
    let names: Vec<String> = (0..5000).map(|i| format!("c{i}")).collect();
    let cases = [(4999, 17), (1, 0), (2500, 2499)];
    let w = Workdir::new(BIN);
    for (at, copies) in cases {
        let mut header = names.clone();
        header[at] = names[copies].clone();
        let input = format!("{}\n{}\n", header.join(","), vec!["1"; 5000].join(","));
        let (code, stderr) = run(&w, ARRAY, input.as_bytes());
        assert_eq!(code, 65, "{stderr}");
        let want = format!("row 1, column \"c{copies}\": the column name appears twice");
        assert!(stderr.contains(&want), "{stderr}");
    }
}

/// A record nested `depth` levels deep, the record's object the first.
fn nested(depth: usize) -> String {
    let inner = depth - 1;
    format!(
        "{{\"id\":\"{SENTINEL}\",\"v\":{}1{}}}",
        "[".repeat(inner),
        "]".repeat(inner)
    )
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
            let input = format!("{{\"id\":\"0\"}}\n{}\n", nested(depth));
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
    w.create("spool/a.json", nested(MAX_DEPTH));
    w.create("spool/b.json", nested(MAX_DEPTH + 1));
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

/// Pieces of hostile CSV and NDJSON; every value carries the sentinel.
const PIECES: &[&[u8]] = &[
    b"\"",
    b",",
    b"\n",
    b"\r\n",
    b"\r",
    b"\xEF\xBB\xBF",
    b"\0",
    b"\x01",
    b"\xff",
    b"\xc3",
    b"Sentinel-PHI-7731",
    b"\"Sentinel-PHI-7731\"",
    b"\"\"",
    b"id",
    b"{\"id\":\"Sentinel-PHI-7731\"}",
    b"{\"Sentinel-PHI-7731\":1}",
    b"{\"v\":[[[[[[[[",
    b"]]]]]]]]}",
    b"{",
    b"}",
    b":",
    b"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn",
];

fn hostile_input(head: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(PIECES), 0..40).prop_map(move |pieces| {
        let mut input = head.to_vec();
        input.extend_from_slice(&pieces.concat());
        input
    })
}

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
