#![allow(clippy::unwrap_used)]
//! json-map through its binary. All data here is invented.

use common::testing::{
    Workdir, assert_one_line_without, mode_of, ndjson_values, stderr_of, stdout_of,
};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_json-map");

/// Invented patient names that must never show up in a diagnostic.
const SECRET_FIRST: &str = "Quillonia";
const SECRET_LAST: &str = "Brackenwhistle";

fn wrk() -> Workdir {
    Workdir::new(BIN)
}

/// Run and expect `code`; (stdout, stderr), the stderr one line that
/// leaks neither invented name.
fn fails(w: &Workdir, args: &[&str], code: i32) -> (String, String) {
    let (out, err) = w.fails_with_stdout(args, code);
    assert_one_line_without(&err, &[SECRET_FIRST, SECRET_LAST]);
    (out, err)
}

fn people(w: &Workdir) -> std::path::PathBuf {
    w.create(
        "people.ndjson",
        format!(
            "{{\"id\":1,\"first\":\"{SECRET_FIRST}\",\"last\":\"{SECRET_LAST}\",\"zip\":\"02139\",\"race\":\"2106-3\"}}\n\
             {{\"id\":2,\"first\":\"Ann\",\"last\":\"Okafor\",\"zip\":\"10001\",\"race\":\"2054-5\"}}\n"
        ),
    )
}

// ---- values ----------------------------------------------------------------

#[test]
fn identity_keeps_key_order_big_integers_and_decimals_exactly() {
    let w = wrk();
    let input = "{\"id\":12345678901234567890123,\"z\":1,\"a\":9007199254740993,\"m\":{\"y\":1,\"b\":2},\"f\":1.50,\"e\":1e400,\"n\":-0.0}\n{\"id\":9007199254740993}\n";
    w.create("in.ndjson", input);
    assert_eq!(w.ok(&[".", "in.ndjson"]), input);
}

#[test]
fn big_integers_survive_a_mapping() {
    let w = wrk();
    w.create(
        "in.ndjson",
        "{\"id\":12345678901234567890123,\"n\":9007199254740993}\n",
    );
    assert_eq!(
        w.ok(&["{n, id}", "in.ndjson"]),
        "{\"n\":9007199254740993,\"id\":12345678901234567890123}\n"
    );
}

#[test]
fn maps_records_in_order_with_string_building() {
    let w = wrk();
    people(&w);
    let out = w.ok(&[
        "{id: .id, name: (.last + \", \" + .first), zip: .zip}",
        "people.ndjson",
    ]);
    assert_eq!(
        ndjson_values(&out),
        vec![
            json!({"id": 1, "name": format!("{SECRET_LAST}, {SECRET_FIRST}"), "zip": "02139"}),
            json!({"id": 2, "name": "Okafor, Ann", "zip": "10001"}),
        ]
    );
    // Output key order is the constructed order, not sorted.
    assert!(out.starts_with("{\"id\":1,\"name\":"), "{out}");
}

#[test]
fn a_filter_can_write_zero_or_several_lines_per_record() {
    let w = wrk();
    people(&w);
    assert_eq!(
        w.ok(&[".id, .zip", "people.ndjson"]),
        "1\n\"02139\"\n2\n\"10001\"\n"
    );
    assert_eq!(w.ok(&["select(.id == 2) | .id", "people.ndjson"]), "2\n");
    assert_eq!(w.ok(&["empty", "people.ndjson"]), "");
}

#[test]
fn non_object_values_and_strings_with_escapes_round_trip() {
    let w = wrk();
    let input = "[1,\"a\"]\n\"tab\\there \\\"q\\\" \\u0001 é\"\nnull\ntrue\n";
    assert_eq!(w.ok_stdin(&["."], input), input);
}

#[test]
fn strings_are_escaped_like_the_other_tools_write_them() {
    // The workspace writes JSON strings as serde_json does: control
    // characters escaped, DEL and non-ASCII text as they are.
    let w = wrk();
    let input = "{\"s\":\"a\\u007fb\\u001f\\n\u{e9}\",\"k\\u007f\":1}\n";
    let value: serde_json::Value = serde_json::from_str(input.trim_end()).unwrap();
    let expected = format!("{}\n", serde_json::to_string(&value).unwrap());
    assert_eq!(w.ok_stdin(&["."], input), expected);
    // Bytes that are not UTF-8 become U+FFFD: the line stays valid JSON.
    assert_eq!(
        w.ok(&[
            "-n",
            "[\"/w==\" | @base64d, (\"/w==\" | @base64d | tobytes)]"
        ]),
        "[\"\u{fffd}\",\"\u{fffd}\"]\n"
    );
}

#[test]
fn raw_output_prints_strings_without_quotes() {
    let w = wrk();
    w.create("heartbeat.json", "{\"last_update_date\":\"2024-03-01\"}\n");
    assert_eq!(
        w.ok(&[
            "-r",
            ".last_update_date // \"1970-01-01\"",
            "heartbeat.json"
        ]),
        "2024-03-01\n"
    );
    w.create("empty_heartbeat.json", "{}\n");
    assert_eq!(
        w.ok(&[
            "--raw-output",
            ".last_update_date // \"1970-01-01\"",
            "empty_heartbeat.json"
        ]),
        "1970-01-01\n"
    );
    // Non-strings stay JSON under -r.
    assert_eq!(w.ok_stdin(&["-r", ".a"], "{\"a\":[1]}\n"), "[1]\n");
}

#[test]
fn compact_flag_is_accepted() {
    let w = wrk();
    assert_eq!(w.ok_stdin(&["-c", "."], "{ \"a\" : 1 }\n"), "{\"a\":1}\n");
}

// ---- input -------------------------------------------------------------------

#[test]
fn reads_stdin_with_dash_or_no_file() {
    let w = wrk();
    assert_eq!(w.ok_stdin(&[".a"], "{\"a\":1}\n"), "1\n");
    assert_eq!(w.ok_stdin(&[".a", "-"], "{\"a\":2}\n"), "2\n");
}

#[test]
fn empty_input_writes_nothing() {
    let w = wrk();
    w.create("empty.ndjson", "");
    assert_eq!(w.ok(&[".", "empty.ndjson"]), "");
    assert_eq!(w.ok_stdin(&["{a: .b}"], "\n  \n\r\n"), "");
}

#[test]
fn blank_lines_bom_and_crlf_are_accepted() {
    let w = wrk();
    w.create("in.ndjson", "\u{feff}{\"a\":1}\r\n\r\n{\"a\":2}\r\n");
    assert_eq!(w.ok(&[".a", "in.ndjson"]), "1\n2\n");
}

#[test]
fn missing_input_file_is_66() {
    let w = wrk();
    let (_, err) = fails(&w, &[".", "nope.ndjson"], 66);
    assert!(err.contains("nope.ndjson"), "{err}");
}

#[test]
fn invalid_json_line_is_65_naming_file_and_line_not_the_value() {
    let w = wrk();
    w.create(
        "in.ndjson",
        format!("{{\"a\":1}}\n\n{{\"name\": \"{SECRET_FIRST}\" \"x\"}}\n{{\"a\":3}}\n"),
    );
    let (out, err) = fails(&w, &[".a", "in.ndjson"], 65);
    assert!(err.contains("in.ndjson: line 3: not valid JSON"), "{err}");
    assert_eq!(out, "1\n");
}

#[test]
fn json_extensions_are_not_accepted_as_input() {
    let w = wrk();
    for line in [
        "{\"a\":NaN}",
        "{\"a\":1} # note",
        "{1:2}",
        "{\"a\":1} {\"b\":2}",
    ] {
        w.create("in.ndjson", format!("{line}\n"));
        let (_, err) = fails(&w, &[".", "in.ndjson"], 65);
        assert!(err.contains("in.ndjson: line 1: not valid JSON"), "{err}");
    }
}

#[test]
fn invalid_utf8_line_is_65() {
    let w = wrk();
    w.create("in.ndjson", b"{\"a\":\"\xff\"}\n".as_slice());
    let (_, err) = fails(&w, &[".", "in.ndjson"], 65);
    assert!(err.contains("in.ndjson: line 1: not valid UTF-8"), "{err}");
}

// ---- filter ------------------------------------------------------------------

#[test]
fn filter_from_file_takes_the_input_as_first_argument() {
    let w = wrk();
    people(&w);
    w.create("shape.jq", "# keep the id\n{id}\n");
    assert_eq!(
        w.ok(&["-f", "shape.jq", "people.ndjson"]),
        "{\"id\":1}\n{\"id\":2}\n"
    );
    assert_eq!(
        w.ok_stdin(&["--from-file", "shape.jq"], "{\"id\":7,\"x\":1}\n"),
        "{\"id\":7}\n"
    );
    let (_, err) = fails(&w, &["-f", "shape.jq", "a.ndjson", "b.ndjson"], 64);
    assert!(err.contains("at most one argument"), "{err}");
    let (_, err) = fails(&w, &["-f", "missing.jq", "people.ndjson"], 66);
    assert!(err.contains("missing.jq"), "{err}");
}

#[test]
fn missing_filter_is_64() {
    let w = wrk();
    let (_, err) = fails(&w, &[], 64);
    assert!(err.contains("FILTER"), "{err}");
}

#[test]
fn compile_errors_are_64_with_line_and_column() {
    let w = wrk();
    people(&w);
    let (_, err) = fails(&w, &["{id: .id,\n  name: (.last +)}", "people.ndjson"], 64);
    assert!(err.contains("filter:2:17:"), "{err}");
    let (_, err) = fails(&w, &[".id | frobnicate(1)", "people.ndjson"], 64);
    assert!(
        err.contains("filter:1:7: undefined filter frobnicate/1"),
        "{err}"
    );
    let (_, err) = fails(&w, &["[.a, .b", "people.ndjson"], 64);
    assert!(err.contains("filter:1:1: unclosed ["), "{err}");
    let (_, err) = fails(&w, &["$ ", "people.ndjson"], 64);
    assert!(
        err.contains("filter:1:2: expected identifier, found the end of the filter"),
        "{err}"
    );
    let (_, err) = fails(&w, &["$nothere", "people.ndjson"], 64);
    assert!(
        err.contains("filter:1:1: undefined variable $nothere"),
        "{err}"
    );
    w.create("bad.jq", "{id}\n| .x |\n");
    let (_, err) = fails(&w, &["-f", "bad.jq", "people.ndjson"], 64);
    assert!(err.contains("bad.jq:3:1:"), "{err}");
}

#[test]
fn include_and_input_are_not_available() {
    let w = wrk();
    let (_, err) = fails(&w, &["include \"x\"; .", "-"], 64);
    assert!(err.contains("not supported"), "{err}");
    let (_, err) = fails(&w, &["input", "-"], 64);
    assert!(err.contains("undefined filter input/0"), "{err}");
}

#[test]
fn runtime_error_is_65_naming_line_without_the_value() {
    let w = wrk();
    w.create(
        "in.ndjson",
        format!(
            "{{\"name\":{{\"first\":\"Ann\"}}}}\n{{\"name\":\"{SECRET_FIRST} {SECRET_LAST}\"}}\n{{\"name\":{{\"first\":\"Bo\"}}}}\n"
        ),
    );
    let (out, err) = fails(&w, &[".name.first", "in.ndjson"], 65);
    assert_eq!(out, "\"Ann\"\n");
    assert!(
        err.contains("in.ndjson: line 2: filter error: cannot index a string with a string"),
        "{err}"
    );
    let (_, err) = fails(&w, &[".name + 1", "in.ndjson"], 65);
    assert!(
        err.contains("line 1: filter error: cannot calculate an object + a number"),
        "{err}"
    );
    let (_, err) = fails(&w, &[".name | error(\"bad name: \\(.)\")", "in.ndjson"], 65);
    assert!(err.contains("--show-values"), "{err}");
}

#[test]
fn show_values_puts_the_value_in_the_message() {
    let w = wrk();
    w.create("in.ndjson", format!("{{\"name\":\"{SECRET_FIRST}\"}}\n"));
    let out = w
        .run(["--show-values", ".name.first", "in.ndjson"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    assert!(
        stderr_of(&out).contains(SECRET_FIRST),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn messages_written_in_the_filter_are_shown() {
    let w = wrk();
    w.create("in.ndjson", "{\"facility\":\"F9\"}\n");
    let (_, err) = fails(
        &w,
        &[
            "if .facility == \"F1\" then . else error(\"unknown facility\") end",
            "in.ndjson",
        ],
        65,
    );
    assert!(
        err.contains("in.ndjson: line 1: filter error: unknown facility"),
        "{err}"
    );
}

/// Run and expect exit 0; (stdout, stderr).
fn ok_with_stderr(w: &Workdir, args: &[&str]) -> (String, String) {
    let out = w.run(args).output().unwrap();
    assert!(out.status.success(), "{args:?} failed: {}", stderr_of(&out));
    (stdout_of(&out), stderr_of(&out))
}

#[test]
fn debug_and_stderr_print_no_value_without_show_values() {
    let w = wrk();
    people(&w);
    for filter in ["debug | .id", "stderr | .id", "debug(.first) | .id"] {
        let (out, err) = ok_with_stderr(&w, &[filter, "people.ndjson"]);
        assert_eq!(out, "1\n2\n", "{filter}");
        assert_eq!(err.lines().count(), 2, "{filter}: {err}");
        for value in [SECRET_FIRST, SECRET_LAST, "02139"] {
            assert!(!err.contains(value), "{filter} leaks {value}: {err}");
        }
        assert!(err.contains("--show-values shows it"), "{err}");
    }
    let (_, err) = ok_with_stderr(&w, &["debug | .id", "people.ndjson"]);
    assert!(
        err.starts_with(
            "json-map: debug: people.ndjson: line 1: an object (value hidden; --show-values shows it)\n"
        ),
        "{err}"
    );
    let (_, err) = ok_with_stderr(&w, &["stderr | .id", "people.ndjson"]);
    assert!(
        err.starts_with("json-map: stderr: people.ndjson: line 1: an object"),
        "{err}"
    );
    let (_, err) = ok_with_stderr(&w, &["debug(.first) | .id", "people.ndjson"]);
    assert!(err.contains("line 2: a string (value hidden"), "{err}");
    // A message written in the filter holds no record value: shown.
    let (_, err) = ok_with_stderr(&w, &["debug(\"zip checked\") | .id", "people.ndjson"]);
    assert!(
        err.starts_with("json-map: debug: people.ndjson: line 1: \"zip checked\"\n"),
        "{err}"
    );
    // Slurp and --null-input name what they can.
    let (_, err) = ok_with_stderr(&w, &["-s", "debug | length", "people.ndjson"]);
    assert_eq!(
        err,
        "json-map: debug: people.ndjson: an array (value hidden; --show-values shows it)\n"
    );
}

#[test]
fn debug_and_stderr_print_values_with_show_values_as_jq_does() {
    let w = wrk();
    people(&w);
    let (out, err) = ok_with_stderr(&w, &["--show-values", "debug | .id", "people.ndjson"]);
    assert_eq!(out, "1\n2\n");
    assert!(
        err.starts_with(&format!(
            "[\"DEBUG:\",{{\"id\":1,\"first\":\"{SECRET_FIRST}\","
        )),
        "{err}"
    );
    let (out, err) = ok_with_stderr(&w, &["--show-values", "stderr | .id", "people.ndjson"]);
    assert_eq!(out, "1\n2\n");
    assert!(err.contains(SECRET_LAST), "{err}");
    // jq 1.7: a string raw and without a newline.
    let (out, err) = ok_with_stderr(
        &w,
        &["--show-values", ".first | stderr | empty", "people.ndjson"],
    );
    assert_eq!(out, "");
    assert_eq!(err, format!("{SECRET_FIRST}Ann"));
}

#[test]
fn halt_stops_reading_writes_what_came_before_and_exits_0() {
    let w = wrk();
    people(&w);
    let (out, err) = ok_with_stderr(&w, &[".id, (select(.id == 1) | halt)", "people.ndjson"]);
    assert_eq!(out, "1\n");
    assert_eq!(err, "");
    // Across chunks and threads: nothing after the halting record.
    w.create("many.ndjson", many_records(30_000));
    let (out, _) = ok_with_stderr(
        &w,
        &[
            "--threads",
            "4",
            ".id, (select(.id == 20000) | halt)",
            "many.ndjson",
        ],
    );
    let expected: String = (0..=20_000).map(|i| format!("{i}\n")).collect();
    assert!(out == expected, "output has {} lines", out.lines().count());
}

#[test]
fn halt_error_exits_5_and_hides_its_message_without_show_values() {
    let w = wrk();
    people(&w);
    let (out, err) = fails(&w, &[".id, (.first | halt_error)", "people.ndjson"], 5);
    assert_eq!(out, "1\n");
    assert_eq!(
        err,
        "json-map: error: people.ndjson: line 1: the filter called halt_error with a string (message hidden; --show-values shows it)\n"
    );

    let out = w
        .run([
            "--show-values",
            ".id, (.first | halt_error)",
            "people.ndjson",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(stdout_of(&out), "1\n");
    assert_eq!(
        stderr_of(&out),
        format!("json-map: error: people.ndjson: line 1: halt_error: {SECRET_FIRST}\n")
    );

    // A message written in the filter is shown; the exit code is the filter's.
    let (_, err) = fails(
        &w,
        &[
            "select(.id == 2) | \"unknown facility\\n\" | halt_error(3)",
            "people.ndjson",
        ],
        3,
    );
    assert_eq!(
        err,
        "json-map: error: people.ndjson: line 2: halt_error: unknown facility\n"
    );
    let (_, err) = fails(&w, &["-n", "{a: 1} | halt_error"], 5);
    assert!(err.contains("halt_error with an object"), "{err}");
    let (_, err) = fails(&w, &["-n", "halt_error(300)"], 65);
    assert!(err.contains("outside 0 to 255"), "{err}");
}

#[test]
fn a_failing_record_leaves_none_of_its_outputs() {
    let w = wrk();
    w.create("in.ndjson", "{\"a\":1,\"b\":\"x\"}\n");
    let (out, _) = fails(&w, &[".a, (.b + 1)", "in.ndjson"], 65);
    assert_eq!(out, "");
}

#[test]
fn standard_library_dates_regex_formats_and_env() {
    let w = wrk();
    w.create(
        "in.ndjson",
        "{\"dob\":\"1980-11-02\",\"t\":\"2024-01-05T10:20:30Z\",\"phone\":\"(617) 555-0100\",\"v\":[1,\"a,b\",null]}\n",
    );
    let filter = r#"{
        dob: (.dob | strptime("%Y-%m-%d") | mktime | strftime("%Y%m%d")),
        t: (.t | fromdate | strftime("%Y%m%d%H%M%S")),
        back: (.t | fromdate | todate),
        digits: (.phone | gsub("[^0-9]"; "")),
        area: (.phone | capture("\\((?<area>[0-9]+)\\)").area),
        has: (.phone | test("555")),
        b64: ("hi" | @base64),
        csv: (.v | @csv),
        tsv: (["a", "b c"] | @tsv),
        home: $ENV.JSON_MAP_TEST_HOME,
        home2: env.JSON_MAP_TEST_HOME
    }"#;
    let out = w
        .run([filter, "in.ndjson"])
        .env("JSON_MAP_TEST_HOME", "/home/test")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(
        ndjson_values(&stdout_of(&out)),
        vec![json!({
            "dob": "19801102",
            "t": "20240105102030",
            "back": "2024-01-05T10:20:30Z",
            "digits": "6175550100",
            "area": "617",
            "has": true,
            "b64": "aGk=",
            "csv": "1,\"a,b\",",
            "tsv": "a\tb c",
            "home": "/home/test",
            "home2": "/home/test"
        })]
    );
}

#[test]
fn village_code_is_zero_padded() {
    let w = wrk();
    w.create(
        "cases.ndjson",
        "{\"village_code\":\"1020304\"}\n{\"village_code\":12030405}\n",
    );
    assert_eq!(
        w.ok(&[
            ".village_code |= (\"00000000\" + tostring)[-8:]",
            "cases.ndjson"
        ]),
        "{\"village_code\":\"01020304\"}\n{\"village_code\":\"12030405\"}\n"
    );
}

// ---- variables ---------------------------------------------------------------

#[test]
fn arg_and_argjson_bind_variables() {
    let w = wrk();
    people(&w);
    let out = w.ok(&[
        "--arg",
        "site",
        "north",
        "--argjson",
        "limits",
        "{\"max\":12345678901234567890123}",
        "--arg",
        "flow",
        "reqcheck",
        "{id, site: $site, flow: $flow, max: $limits.max, named: $ARGS.named.site}",
        "people.ndjson",
    ]);
    assert_eq!(
        out.lines().next().unwrap(),
        "{\"id\":1,\"site\":\"north\",\"flow\":\"reqcheck\",\"max\":12345678901234567890123,\"named\":\"north\"}"
    );
}

#[test]
fn variable_values_may_start_with_a_dash() {
    let w = wrk();
    assert_eq!(
        w.ok(&["-n", "--argjson", "n", "-1", "--arg", "s", "-x", "[$n, $s]"]),
        "[-1,\"-x\"]\n"
    );
}

#[test]
fn output_is_always_valid_json() {
    let w = wrk();
    assert_eq!(
        w.ok(&["-n", "[nan, (\"hi\" | tobytes)]"]),
        "[null,\"hi\"]\n"
    );
    let (_, err) = fails(&w, &["-n", "{(1): 2}"], 65);
    assert!(err.contains("object key is not a string"), "{err}");
}

#[test]
fn bad_argjson_is_64_naming_the_variable() {
    let w = wrk();
    let (_, err) = fails(&w, &["--argjson", "limits", "{max:", "."], 64);
    assert!(err.contains("--argjson limits"), "{err}");
    assert!(!err.contains("{max:"), "{err}");
}

#[test]
fn bad_or_duplicate_variable_names_are_64() {
    let w = wrk();
    fails(&w, &["--arg", "1x", "v", "."], 64);
    fails(&w, &["--arg", "ENV", "v", "."], 64);
    let (_, err) = fails(&w, &["--arg", "a", "1", "--argjson", "a", "2", "."], 64);
    assert!(err.contains("$a is bound twice"), "{err}");
}

#[test]
fn json_lookup_maps_codes() {
    let w = wrk();
    w.create(
        "race_codes.json",
        "{\"white\":\"2106-3\",\"black\":\"2054-5\",\"asian\":\"2028-9\"}",
    );
    w.create(
        "events.ndjson",
        "{\"id\":1,\"race\":\"asian\"}\n{\"id\":2,\"race\":\"unknown\"}\n",
    );
    assert_eq!(
        w.ok(&[
            "--lookup",
            "race=race_codes.json",
            ".Patient_race = $race[.race]",
            "events.ndjson"
        ]),
        "{\"id\":1,\"race\":\"asian\",\"Patient_race\":\"2028-9\"}\n{\"id\":2,\"race\":\"unknown\",\"Patient_race\":null}\n"
    );
}

#[test]
fn lookup_files_may_start_with_a_bom() {
    let w = wrk();
    w.create("codes.json", "\u{feff}{\"asian\":\"2028-9\"}\n");
    // A quoted first header after the BOM stays one clean column name.
    w.create("codes.csv", "\u{feff}\"race\",code\nasian,2028-9\n");
    w.create("in.ndjson", "{\"race\":\"asian\"}\n");
    assert_eq!(
        w.ok(&[
            "--lookup",
            "j=codes.json",
            "--lookup",
            "c=codes.csv",
            "[$j[.race], $c[.race]]",
            "in.ndjson"
        ]),
        "[\"2028-9\",{\"race\":\"asian\",\"code\":\"2028-9\"}]\n"
    );
}

#[test]
fn csv_lookup_is_keyed_by_first_column() {
    let w = wrk();
    w.create(
        "services.csv",
        "\u{feff}code,oscar_service,category\r\nS1,Counselling,health\r\nS2,\"Shelter, family\",housing\r\n",
    );
    // Same table without the .csv extension: recognised by content.
    w.create(
        "services.table",
        "code,oscar_service,category\nS1,Counselling,health\n",
    );
    w.create(
        "cases.ndjson",
        "{\"service\":\"S2\"}\n{\"service\":\"S1\"}\n",
    );
    let out = w.ok(&[
        "--lookup",
        "services=services.csv",
        "--lookup",
        "other=services.table",
        "{s: $services[.service], c: $other[.service].category}",
        "cases.ndjson",
    ]);
    assert_eq!(
        out,
        "{\"s\":{\"code\":\"S2\",\"oscar_service\":\"Shelter, family\",\"category\":\"housing\"},\"c\":null}\n\
         {\"s\":{\"code\":\"S1\",\"oscar_service\":\"Counselling\",\"category\":\"health\"},\"c\":\"health\"}\n"
    );
}

#[test]
fn missing_lookup_is_66() {
    let w = wrk();
    let (_, err) = fails(&w, &["--lookup", "race=nope.json", ".", "-"], 66);
    assert!(err.contains("nope.json"), "{err}");
}

#[test]
fn lookup_with_an_unclosed_quote_is_65_naming_file_and_row() {
    let w = wrk();
    w.create(
        "names.csv",
        format!("code,name\nA,Ann\nB,\"{SECRET_FIRST}\nC,{SECRET_LAST}\n"),
    );
    w.create("in.ndjson", "{\"code\":\"A\"}\n");
    let (out, err) = fails(&w, &["--lookup", "t=names.csv", ".", "in.ndjson"], 65);
    assert_eq!(out, "");
    assert!(
        err.contains("names.csv: row 3: a quoted field opens here and is never closed"),
        "{err}"
    );
}

#[test]
fn malformed_lookups_are_65_naming_file_and_place() {
    let w = wrk();
    w.create(
        "codes.json",
        format!("{{\n\"a\": \"{SECRET_FIRST}\",\n\"b\" 2\n}}"),
    );
    let (_, err) = fails(&w, &["--lookup", "codes=codes.json", ".", "-"], 65);
    assert!(err.contains("codes.json: line 3: not valid JSON"), "{err}");

    w.create("short.csv", format!("code,name\nA,{SECRET_FIRST}\nB\n"));
    let (_, err) = fails(&w, &["--lookup", "t=short.csv", ".", "-"], 65);
    assert!(err.contains("short.csv: row 3"), "{err}");

    w.create(
        "dup.csv",
        format!("code,name\n{SECRET_LAST},x\n{SECRET_LAST},y\n"),
    );
    let (_, err) = fails(&w, &["--lookup", "t=dup.csv", ".", "-"], 65);
    assert!(
        err.contains("dup.csv: row 3, column \"code\": duplicate lookup key (first on row 2)"),
        "{err}"
    );

    w.create("empty.json", "  \n");
    let (_, err) = fails(&w, &["--lookup", "t=empty.json", ".", "-"], 65);
    assert!(err.contains("empty.json"), "{err}");

    fails(&w, &["--lookup", "noequals", ".", "-"], 64);
}

// ---- modes -------------------------------------------------------------------

#[test]
fn slurp_wraps_all_records_in_one_payload() {
    let w = wrk();
    people(&w);
    let out = w.ok(&["--slurp", "{patient_data: .}", "people.ndjson"]);
    let values = ndjson_values(&out);
    assert_eq!(values.len(), 1);
    assert_eq!(values[0]["patient_data"].as_array().unwrap().len(), 2);
    assert_eq!(values[0]["patient_data"][1]["first"], "Ann");
    // On empty input the filter runs once over [].
    assert_eq!(
        w.ok_stdin(&["-s", "{patient_data: .}"], ""),
        "{\"patient_data\":[]}\n"
    );
}

#[test]
fn slurp_errors_name_the_file() {
    let w = wrk();
    people(&w);
    let (_, err) = fails(&w, &["--slurp", ".[0].first + 1", "people.ndjson"], 65);
    assert!(
        err.contains("people.ndjson: filter error: cannot calculate a string + a number"),
        "{err}"
    );
    w.create("bad.ndjson", "{\"a\":1}\n{oops\n");
    let (_, err) = fails(&w, &["--slurp", ".", "bad.ndjson"], 65);
    assert!(err.contains("bad.ndjson: line 2: not valid JSON"), "{err}");
}

#[test]
fn null_input_runs_once_without_reading() {
    let w = wrk();
    assert_eq!(
        w.ok(&["-n", "--arg", "d", "2024-01-01", "{since: $d}"]),
        "{\"since\":\"2024-01-01\"}\n"
    );
    assert_eq!(w.ok(&["--null-input", "1, 2"]), "1\n2\n");
    fails(&w, &["-n", ".", "people.ndjson"], 64);
}

#[test]
fn conflicting_flags_are_64() {
    let w = wrk();
    fails_usage(&w, &["--slurp", "--null-input", "."]);
    fails_usage(&w, &["--rejects", "r.ndjson", "."]);
    fails_usage(&w, &["--slurp", "--keep-going", "."]);
    fails_usage(&w, &["--threads", "0", "."]);
}

fn fails_usage(w: &Workdir, args: &[&str]) {
    let out = w.run(args).output().unwrap();
    assert_eq!(out.status.code(), Some(64), "{args:?}: {}", stderr_of(&out));
}

// ---- keep going ----------------------------------------------------------------

#[test]
fn keep_going_writes_failing_lines_to_rejects_and_exits_65() {
    let w = wrk();
    let bad_json = format!("{{\"first\": \"{SECRET_FIRST}\", oops}}");
    let bad_type = format!("{{\"id\":3,\"first\":{{\"given\":\"{SECRET_LAST}\"}}}}");
    w.create(
        "in.ndjson",
        format!(
            "{{\"id\":1,\"first\":\"Ann\"}}\n{bad_json}\n{bad_type}\n\n{{\"id\":5,\"first\":\"Bo\"}}\n"
        ),
    );
    let out = w
        .run([
            "--keep-going",
            "--rejects",
            "rejects.ndjson",
            "{id, first: (.first | ascii_downcase)}",
            "in.ndjson",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65), "{}", stderr_of(&out));
    assert_eq!(
        stdout_of(&out),
        "{\"id\":1,\"first\":\"ann\"}\n{\"id\":5,\"first\":\"bo\"}\n"
    );
    assert_eq!(
        w.read("rejects.ndjson"),
        format!("{bad_json}\n{bad_type}\n")
    );
    assert_eq!(mode_of(&w.path("rejects.ndjson")), 0o600);

    let err = stderr_of(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert!(lines[0].starts_with("json-map: warning: in.ndjson: line 2: not valid JSON"));
    assert!(lines[1].starts_with(
        "json-map: warning: in.ndjson: line 3: filter error: cannot use an object as string"
    ));
    assert!(lines[2].starts_with("json-map: error: in.ndjson: 2 of 4 records failed"));
    assert!(lines[2].contains("rejects.ndjson"));
    for value in [SECRET_FIRST, SECRET_LAST] {
        assert!(!err.contains(value), "{err}");
    }
}

#[test]
fn keep_going_without_rejects_skips_and_reports() {
    let w = wrk();
    w.create("in.ndjson", "{\"a\":1}\n{\"a\":\"x\"}\n{\"a\":3}\n");
    let out = w
        .run(["--keep-going", ".a + 1", "in.ndjson"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    assert_eq!(stdout_of(&out), "2\n4\n");
    let err = stderr_of(&out);
    assert_eq!(err.lines().count(), 2, "{err}");
    assert!(err.contains("in.ndjson: line 2: filter error"), "{err}");
}

#[test]
fn keep_going_with_no_failure_exits_0_and_leaves_empty_rejects() {
    let w = wrk();
    w.create("in.ndjson", "{\"a\":1}\n");
    let out = w.ok(&["--keep-going", "--rejects", "rej.ndjson", ".a", "in.ndjson"]);
    assert_eq!(out, "1\n");
    assert_eq!(w.read("rej.ndjson"), "");
}

// ---- parallel path -------------------------------------------------------------

fn many_records(n: usize) -> String {
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!(
            "{{\"id\":{i},\"first\":\"F{i}\",\"last\":\"L{}\"}}\n",
            i % 97
        ));
    }
    text
}

#[test]
fn large_input_keeps_input_order_across_threads() {
    let w = wrk();
    w.create("big.ndjson", many_records(50_000));
    for threads in ["2", "4"] {
        let out = w.ok(&[
            "--threads",
            threads,
            "{id, name: (.last + \", \" + .first)}, (select(.id % 1000 == 0) | .id)",
            "big.ndjson",
        ]);
        let mut lines = out.lines();
        for i in 0..50_000 {
            let expected = format!("{{\"id\":{i},\"name\":\"L{}, F{i}\"}}", i % 97);
            assert_eq!(lines.next(), Some(expected.as_str()), "record {i}");
            if i % 1000 == 0 {
                assert_eq!(lines.next(), Some(i.to_string().as_str()));
            }
        }
        assert_eq!(lines.next(), None);
    }
}

#[test]
fn large_input_reports_the_first_failure_in_input_order() {
    let w = wrk();
    let mut text = many_records(50_000);
    // Lines 30001 and 45001 fail (ids 30000 and 45000); line 45001 is in a later chunk.
    text = text.replace(
        "{\"id\":30000,\"first\":\"F30000\"",
        "{\"id\":30000,\"first\":7",
    );
    text = text.replace(
        "{\"id\":45000,\"first\":\"F45000\"",
        "{\"id\":45000,\"first\":8",
    );
    w.create("big.ndjson", text);
    let (out, err) = fails(
        &w,
        &[
            "--threads",
            "3",
            "{id, name: (.last + \", \" + .first)}",
            "big.ndjson",
        ],
        65,
    );
    assert!(
        err.contains("big.ndjson: line 30001: filter error"),
        "{err}"
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 30_000);
    assert_eq!(
        lines[29_999],
        format!("{{\"id\":29999,\"name\":\"L{}, F29999\"}}", 29_999 % 97)
    );

    let out = w
        .run([
            "--keep-going",
            "--rejects",
            "rej.ndjson",
            "{id, name: (.last + \", \" + .first)}",
            "big.ndjson",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    assert_eq!(stdout_of(&out).lines().count(), 49_998);
    let rejects = w.read("rej.ndjson");
    let ids: Vec<_> = ndjson_values(&rejects)
        .iter()
        .map(|v| v["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!(30000), json!(45000)]);
}

// ---- help ----------------------------------------------------------------------

#[test]
fn help_shows_examples_and_exits_0() {
    let w = wrk();
    let out = w.ok(&["--help"]);
    assert!(out.contains("--lookup"), "{out}");
    assert!(out.contains("{patient_data: .}"), "{out}");
    assert!(out.contains("--keep-going"), "{out}");
}
