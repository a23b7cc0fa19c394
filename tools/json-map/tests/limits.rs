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
fn slurp_wraps_the_records_in_one_more_level() {
    let input = format!("{}\n", arrays(MAX_DEPTH));
    let (code, out, _) = run(&["--slurp", ".[0]"], &input);
    assert_eq!((code, out), (0, input.clone()));
    let (code, out, err) = run(&["--slurp", "."], &input);
    assert_eq!((code, out.as_str()), (65, ""));
    assert!(err.contains("nested deeper than 128 levels"), "{err}");
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

/// Filters that run jaq out of stack (in a debug build; a release build
/// takes the deep values but not the endless recursion): each stops the run
/// with 65 and one line, --keep-going or not, never with a signal.
const OUT_OF_STACK: &[(&str, &str)] = &[
    ("a recursion without end", "def f: [f]; f"),
    (
        "100,000 levels printed",
        "reduce range(100000) as $_ (0; [.]) | tojson | length",
    ),
    (
        "100,000 levels passed to error",
        "reduce range(100000) as $_ (0; [.]) | error(.)",
    ),
    (
        "1,000,000 levels dropped",
        "reduce range(1000000) as $_ (0; [.]) | empty",
    ),
    (
        "1,000,000 levels compared",
        "reduce range(1000000) as $_ (0; [.]) | . == .",
    ),
];

const RAN_OUT_OF_STACK: &str = "json-map: error: the filter ran out of stack (a recursion without end, or a value nested hundreds of thousands of levels deep)";

#[test]
fn a_filter_that_runs_out_of_stack_stops_the_run_with_65_and_one_line() {
    for &(what, filter) in OUT_OF_STACK {
        let deep_value = !filter.starts_with("def");
        for args in [
            vec!["--null-input", filter],
            vec![filter, "in.ndjson"],
            vec!["--keep-going", filter, "in.ndjson"],
            vec!["--slurp", filter, "in.ndjson"],
        ] {
            let w = Workdir::new(BIN);
            w.create("in.ndjson", format!("{{\"a\":\"{SENTINEL}\"}}\n"));
            let out = w.run(&args).output().unwrap();
            let case = format!("{what}: {args:?}");
            if deep_value && !cfg!(debug_assertions) && out.status.code() == Some(0) {
                continue;
            }
            assert_contained(&out, &[65], &case);
            let err = stderr_of(&out);
            assert_eq!(err.lines().count(), 1, "{case}: {err}");
            assert!(err.starts_with(RAN_OUT_OF_STACK), "{case}: {err}");
            assert_eq!(stdout_of(&out), "", "{case}");
        }
    }
}

#[test]
fn results_written_before_the_stack_ran_out_stay_and_nothing_after() {
    // A first line of over 1 MiB is a chunk of its own: its result is
    // written while the next record runs out of stack.
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(1 << 20));
    let input = format!("{big}\n{{\"boom\":true}}\n{{\"a\":\"{SENTINEL}\"}}\n");
    let filter = "if .boom then (def f: [f]; f) elif .pad then .pad | length else .a end";
    for keep_going in [false, true] {
        let mut args = vec!["--threads", "1", filter];
        if keep_going {
            args.insert(0, "--keep-going");
        }
        let (code, out, err) = run(&args, &input);
        assert_eq!((code, out.as_str()), (65, "1048576\n"), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with(RAN_OUT_OF_STACK), "{err}");
    }
}

#[test]
fn exit_codes_of_the_filters_process_pass_through() {
    for (args, code, stdout) in [
        (&["-n", "1, halt_error(7)"][..], 7, "1\n"),
        (&["-n", "2, halt_error"][..], 5, "2\n"),
        (&["-n", "3, halt"][..], 0, "3\n"),
        (&["-n", "halt_error(0)"][..], 0, ""),
        (&["-n", "error(\"unknown facility\")"][..], 65, ""),
        (&["-n", "nosuchfilter"][..], 64, ""),
        (&["--no-such-flag"][..], 64, ""),
        (&[".", "missing.ndjson"][..], 66, ""),
        (&["--version"][..], 0, "json-map 0.1.0\n"),
    ] {
        let w = Workdir::new(BIN);
        let out = w.run(args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}",
            stderr_of(&out)
        );
        assert_eq!(stdout_of(&out), stdout, "{args:?}");
    }
}

#[test]
fn the_filters_stderr_lines_come_out_whole_and_in_order() {
    let w = Workdir::new(BIN);
    let input: String = (1..=300)
        .map(|i| format!("{{\"id\":{i},\"bad\":{}}}\n", i % 7 == 0))
        .collect();
    w.create("in.ndjson", &input);
    let filter = "debug(\"checked\") | if .bad then error(\"bad record\") else .id end";
    let out = w
        .run(["--keep-going", "--threads", "3", filter, "in.ndjson"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    let mut want = String::new();
    for i in 1..=300 {
        want.push_str(&format!(
            "json-map: debug: in.ndjson: line {i}: \"checked\"\n"
        ));
    }
    for i in (7..=300).step_by(7) {
        want.push_str(&format!(
            "json-map: warning: in.ndjson: line {i}: filter error: bad record\n"
        ));
    }
    want.push_str(
        "json-map: error: in.ndjson: 42 of 300 records failed (reported above); the other records were written\n",
    );
    assert_eq!(stderr_of(&out), want);
}

/// The pid of json-map's filter process started by `parent`, while it runs.
fn filter_process_of(parent: u32) -> Option<u32> {
    let marker = format!("JSON_MAP_CHILD={parent}");
    std::fs::read_dir("/proc")
        .ok()?
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|environ| {
                environ
                    .split(|&b| b == 0)
                    .any(|var| var == marker.as_bytes())
            })
        })
}

/// Wait up to `seconds` for `done`, checking every 20 ms.
fn within(seconds: u64, mut done: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while std::time::Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    done()
}

/// json-map in a process group of its own, reading a stdin that never
/// ends, with its filter process started: (json-map, its stdin, the pid
/// of the filter process).
fn waiting_json_map() -> (std::process::Child, std::process::ChildStdin, u32) {
    use std::os::unix::process::CommandExt;
    let mut parent = std::process::Command::new(BIN)
        .arg(".")
        .process_group(0)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = parent.stdin.take().unwrap();
    let mut child = None;
    assert!(
        within(10, || {
            child = filter_process_of(parent.id());
            child.is_some()
        }),
        "no filter process started"
    );
    (parent, stdin, child.unwrap())
}

fn kill(signal: &str, target: &str) {
    let status = std::process::Command::new("kill")
        .args([signal, "--", target])
        .status()
        .unwrap();
    assert!(status.success(), "kill {signal} {target}");
}

fn exited_within(process: &mut std::process::Child, seconds: u64) -> std::process::ExitStatus {
    let mut status = None;
    assert!(
        within(seconds, || {
            status = process.try_wait().unwrap();
            status.is_some()
        }),
        "still running after {seconds} s"
    );
    status.unwrap()
}

#[test]
fn sigterm_to_the_process_group_ends_both_processes() {
    use std::os::unix::process::ExitStatusExt;
    let (mut parent, _stdin, child) = waiting_json_map();
    kill("-TERM", &format!("-{}", parent.id()));
    let status = exited_within(&mut parent, 5);
    assert_eq!(status.signal(), Some(15), "{status:?}");
    assert!(within(5, || filter_process_of(parent.id()).is_none()));
    assert!(
        !std::path::Path::new(&format!("/proc/{child}/environ")).exists() || {
            std::fs::read(format!("/proc/{child}/environ")).map_or(true, |e| e.is_empty())
        }
    );
}

#[test]
fn the_filter_process_ends_soon_after_json_map_is_killed_alone() {
    let (mut parent, _stdin, _child) = waiting_json_map();
    kill("-KILL", &parent.id().to_string());
    exited_within(&mut parent, 5);
    assert!(
        within(5, || filter_process_of(parent.id()).is_none()),
        "the filter process runs on without json-map"
    );
}

#[test]
fn a_filter_process_killed_from_outside_is_exit_128_plus_the_signal() {
    for (signal, code, name) in [("-TERM", 143, "SIGTERM"), ("-KILL", 137, "SIGKILL")] {
        let (mut parent, _stdin, child) = waiting_json_map();
        kill(signal, &child.to_string());
        let status = exited_within(&mut parent, 5);
        assert_eq!(status.code(), Some(code), "{signal}");
        let mut err = String::new();
        std::io::Read::read_to_string(&mut parent.stderr.take().unwrap(), &mut err).unwrap();
        assert_eq!(
            err,
            format!(
                "json-map: error: the filter's process was ended by {name} from outside; the output may stop at any record\n"
            ),
            "{signal}"
        );
    }
}

#[test]
fn lookup_files_and_argjson_nest_up_to_the_limit() {
    let nested = |depth: usize| format!("{}1{}", "[\n".repeat(depth), "]".repeat(depth));
    let w = Workdir::new(BIN);
    w.create("at.json", nested(MAX_DEPTH));
    w.create("past.json", nested(MAX_DEPTH + 1));
    w.create("far.json", nested(100_000));
    w.create("in.ndjson", "{\"a\":1}\n");
    let out = w.ok(&["--lookup", "t=at.json", "$t | flatten", "in.ndjson"]);
    assert_eq!(out, "[1]\n");
    for (file, line) in [("past.json", MAX_DEPTH + 1), ("far.json", MAX_DEPTH + 1)] {
        let err = w.fails(&["--lookup", &format!("t={file}"), ".", "in.ndjson"], 65);
        assert_eq!(
            err,
            format!(
                "json-map: error: lookup: {file}: line {line}: arrays and objects nested deeper than {MAX_DEPTH} levels (the limit)\n"
            )
        );
    }
    let json = |depth: usize| format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
    let at = json(MAX_DEPTH);
    let out = w.ok(&["--argjson", "v", &at, "$v | flatten", "in.ndjson"]);
    assert_eq!(out, "[1]\n");
    let past = json(MAX_DEPTH + 1);
    let err = w.fails(&["--argjson", "v", &past, ".", "in.ndjson"], 64);
    assert!(err.contains("nested deeper than 128 levels"), "{err}");
}
