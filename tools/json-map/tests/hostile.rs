#![allow(clippy::unwrap_used)]
//! Generated hostile NDJSON through a few filters: json-map exits only with
//! a documented code, never by a signal (also when the filter runs out of
//! stack), and never shows a record value (each line carries the sentinel)
//! on stderr.

use common::testing::{SENTINEL, Workdir, assert_contained};
use proptest::prelude::*;

const BIN: &str = env!("CARGO_BIN_EXE_json-map");

/// Plain filters, and filters that run jaq out of stack (ended in a child
/// process, json-map exits 65).
const FILTERS: &[&str] = &[
    ".",
    ".a|tonumber",
    "to_entries",
    ".[]?",
    "tostring",
    "def f: [f]; f",
    "def f: {a: f}; .a | f",
    "if .a then reduce range(100000) as $_ (.; [.]) | tojson else . end",
];

/// One value of a record: plain, odd, huge or deep.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(format!("\"{SENTINEL}\"")),
        Just(format!("\"{SENTINEL}-1234\"")),
        Just(format!("\" 5 {SENTINEL}\"")),
        Just(format!("\"{SENTINEL}\\u0000\\n\\\"\"")),
        Just("\"48226-1234\"".to_string()),
        Just("\"+5.43\"".to_string()),
        Just("\"1e\"".to_string()),
        Just("12345678901234567890123456789012345678901234567890".to_string()),
        Just("1e99999".to_string()),
        Just("-0.0".to_string()),
        (1usize..12_000).prop_map(|n| format!("{}\"{SENTINEL}\"{}", "[".repeat(n), "]".repeat(n))),
        (1usize..12_000).prop_map(|n| format!(
            "{}\"{SENTINEL}\"{}",
            "{\"a\":".repeat(n),
            "}".repeat(n)
        )),
        (1usize..3000).prop_map(|n| "[".repeat(n)),
    ]
}

/// One line: a record, or a broken one.
fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => value().prop_map(|v| format!("{{\"a\":{v},\"name\":\"{SENTINEL}\"}}")),
        1 => value(),
        1 => value().prop_map(|v| format!("{{\"a\":{v}")),
        1 => value().prop_map(|v| format!("{{\"a\":{v}}} trailing {SENTINEL}")),
        1 => Just(format!("{{\"a\":NaN,\"b\":\"{SENTINEL}\"}}")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn hostile_lines_end_with_a_documented_code(
        lines in proptest::collection::vec(line(), 1..6),
        filter in 0..FILTERS.len(),
        keep_going in any::<bool>(),
    ) {
        let w = Workdir::new(BIN);
        w.create("in.ndjson", lines.join("\n") + "\n");
        let mut args = vec![FILTERS[filter], "in.ndjson"];
        if keep_going {
            args.insert(0, "--keep-going");
        }
        let out = w.run(&args).output().unwrap();
        // json-map's DOC.exit_codes (64, 65, 66, 74) and 0
        let codes: Vec<i32> = std::iter::once(0)
            .chain(json_map::DOC.exit_codes.iter().map(|e| e.code()))
            .collect();
        assert_contained(&out, &codes, &format!("{args:?} on {lines:?}"));
    }
}
