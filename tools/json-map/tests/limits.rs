#![allow(clippy::unwrap_used)]
//! json-map on values that must fail one record cleanly: `tonumber` on a
//! string that is not one JSON number, and nesting beyond the one limit,
//! in the input or built by the filter. All data here is invented.

use common::ndjson::MAX_DEPTH;
use common::testing::{SENTINEL, Workdir, assert_contained, stderr_of, stdout_of};

const BIN: &str = env!("CARGO_BIN_EXE_json-map");

/// `{"a":` ... `}` nested `depth` objects deep around a sentinel value.
fn objects(depth: usize) -> String {
    format!(
        "{}\"{SENTINEL}\"{}",
        r#"{"a":"#.repeat(depth),
        "}".repeat(depth)
    )
}

/// A record whose key holds `depth - 1` arrays: `depth` levels in all.
fn arrays(depth: usize) -> String {
    let inner = depth - 1;
    format!(
        r#"{{"a":{}"{SENTINEL}"{}}}"#,
        "[".repeat(inner),
        "]".repeat(inner)
    )
}

/// Run json-map on `input` with `args`: exit code (never a signal, never
/// the sentinel on stderr), stdout, stderr.
fn run(args: &[&str], input: &str) -> (i32, String, String) {
    let w = Workdir::new(BIN);
    w.create("in.ndjson", input);
    let mut all = args.to_vec();
    all.push("in.ndjson");
    let out = w.run(&all).output().unwrap();
    assert_contained(&out, &[0, 65], &format!("{args:?}"));
    (
        out.status.code().unwrap_or(-1),
        stdout_of(&out),
        stderr_of(&out),
    )
}

#[test]
fn tonumber_on_a_string_that_is_not_one_number_fails_its_record() {
    let input = format!(
        "{{\"zip\":\"02139\"}}\n{{\"zip\":\"48226-1234\",\"name\":\"{SENTINEL}\"}}\n{{\"zip\":\"10001\"}}\n"
    );
    // One record never becomes two: the zip+4 is an error, not 48226 and -1234.
    let (code, out, err) = run(&[".zip = (.zip|tonumber)"], &input);
    assert_eq!(code, 65);
    assert_eq!(out, "{\"zip\":2139}\n");
    assert_eq!(
        err,
        "json-map: error: in.ndjson: line 2: filter error: cannot parse as number\n"
    );
    let (code, out, err) = run(&["--keep-going", ".zip = (.zip|tonumber)"], &input);
    assert_eq!(code, 65);
    assert_eq!(out, "{\"zip\":2139}\n{\"zip\":10001}\n");
    assert!(
        err.starts_with(
            "json-map: warning: in.ndjson: line 2: filter error: cannot parse as number\n"
        ),
        "{err}"
    );
}

#[test]
fn tonumber_gives_one_json_number_per_literal_or_fails() {
    for (text, want) in [
        ("5.43", Some("5.43")),
        ("1.50", Some("1.50")),
        ("12345678901234567890123", Some("12345678901234567890123")),
        ("-2.5e-7", Some("-2.5e-7")),
        ("1960-05-21", None),
        ("+5.43", None),
        (" 5", None),
        ("5 ", None),
        ("", None),
        ("nan", None),
        ("0x10", None),
        ("1e", None),
    ] {
        let (code, out, _) = run(&[".v | tonumber"], &format!("{{\"v\":\"{text}\"}}\n"));
        match want {
            Some(number) => assert_eq!((code, out), (0, format!("{number}\n")), "{text:?}"),
            None => assert_eq!((code, out), (65, String::new()), "{text:?}"),
        }
    }
}

/// (what, input line, filter): each fails its own record with 65.
fn too_deep_cases() -> Vec<(&'static str, String, &'static str)> {
    vec![
        ("10,000 nested arrays", arrays(10_000), "."),
        ("5,000 nested objects", objects(5_000), "."),
        ("one level past the limit", arrays(MAX_DEPTH + 1), "."),
        (
            "a value built 10,000 deep",
            format!("{{\"a\":\"{SENTINEL}\"}}"),
            "if has(\"a\") then reduce range(10000) as $_ (.; {a: .}) else . end",
        ),
        (
            "a result one level past the limit",
            format!("{{\"a\":\"{SENTINEL}\"}}"),
            "if has(\"a\") then reduce range(128) as $_ (.; [.]) else . end",
        ),
    ]
}

#[test]
fn records_nested_beyond_the_limit_fail_cleanly_and_the_others_come_out() {
    for (what, line, filter) in too_deep_cases() {
        let input = format!("{{\"id\":1}}\n{line}\n{{\"id\":3}}\n");
        let (code, out, err) = run(&[filter], &input);
        assert_eq!(code, 65, "{what}");
        // the first record's results, nothing of the deep one or after it
        let before = run(&[filter], "{\"id\":1}\n").1;
        assert_eq!(out, before, "{what}");
        assert_eq!(err.lines().count(), 1, "{what}: {err}");
        assert!(
            err.starts_with("json-map: error: in.ndjson: line 2: "),
            "{what}: {err}"
        );
        assert!(
            err.contains(&format!(
                "nested deeper than {MAX_DEPTH} levels (the limit)"
            )),
            "{what}: {err}"
        );

        let (code, kept, err) = run(&["--keep-going", filter], &input);
        assert_eq!(code, 65, "{what} --keep-going");
        let after = run(&[filter], "{\"id\":3}\n").1;
        assert_eq!(kept, format!("{before}{after}"), "{what} --keep-going");
        assert!(err.contains("1 of 3 records failed"), "{what}: {err}");
    }
}

#[test]
fn records_at_the_limit_are_mapped() {
    let (code, out, _) = run(&["."], &format!("{}\n", arrays(MAX_DEPTH)));
    assert_eq!((code, out), (0, format!("{}\n", arrays(MAX_DEPTH))));
    let (code, out, _) = run(&[".a | flatten"], &format!("{}\n", arrays(MAX_DEPTH)));
    assert_eq!((code, out), (0, format!("[\"{SENTINEL}\"]\n")));
}

#[test]
fn deep_values_inside_the_filter_are_compared_printed_and_dropped() {
    for filter in [
        "reduce range(10000) as $_ ({}; {a: .}) | empty",
        "reduce range(10000) as $_ ({}; {a: .}) | . == .",
        "reduce range(10000) as $_ ([]; [.]) | tojson | length",
        "reduce range(10000) as $_ (.; [.]) | flatten | length",
    ] {
        let (code, _, err) = run(&[filter], "{\"a\":1}\n");
        assert_eq!(code, 0, "{filter}: {err}");
    }
    for args in [
        &["--null-input", "reduce range(10000) as $_ ({}; {a: .})"][..],
        &["--slurp", "reduce range(10000) as $_ (.; {a: .})"][..],
    ] {
        let w = Workdir::new(BIN);
        w.create("in.ndjson", "{\"a\":1}\n");
        let mut all = args.to_vec();
        if args[0] == "--slurp" {
            all.push("in.ndjson");
        }
        let out = w.run(&all).output().unwrap();
        assert_contained(&out, &[65], &format!("{args:?}"));
        assert!(stderr_of(&out).contains("nested deeper than"), "{args:?}");
    }
}
