#![allow(clippy::unwrap_used)]
//! index-diff through its binary. All data is synthetic.

use common::result::RecordResult;
use common::testing::{
    Workdir, assert_one_line_without, mode_of, ndjson_values, stderr_of, stdout_of,
};
use serde_json::{Map, Value, json};
use std::collections::HashSet;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

fn wd() -> Workdir {
    Workdir::new(env!("CARGO_BIN_EXE_index-diff"))
}

/// Run and expect exit 0: the output records and the stderr.
fn run_ok(wrk: &Workdir, args: &[&str], stdin: &str) -> (Vec<Value>, String) {
    let out = wrk.run(args).write_stdin(stdin).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {:?} {}",
        out.status.code(),
        stderr_of(&out)
    );
    (ndjson_values(&stdout_of(&out)), stderr_of(&out))
}

/// Run and expect `code`: the one-line stderr, checked for the tool's prefix.
fn run_fails(wrk: &Workdir, args: &[&str], stdin: &str, code: i32) -> String {
    let out = wrk.run(args).write_stdin(stdin).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}: {} {}",
        stdout_of(&out),
        stderr_of(&out)
    );
    assert!(out.stdout.is_empty(), "{args:?}: {}", stdout_of(&out));
    let err = stderr_of(&out);
    assert!(err.starts_with("index-diff: error: "), "{err}");
    assert_one_line_without(&err, &[]);
    err
}

/// NDJSON with one synthetic record per (id, value).
fn people(rows: &[(&str, &str)]) -> String {
    rows.iter()
        .map(|(id, v)| format!("{{\"id\":\"{id}\",\"name\":\"Sam Sample {id}\",\"v\":\"{v}\"}}\n"))
        .collect()
}

/// `n` synthetic records with ids r001...
fn many(n: usize) -> String {
    (1..=n)
        .map(|i| format!("{{\"id\":\"r{i:03}\",\"name\":\"Sam Sample {i}\",\"dose\":{i}}}\n"))
        .collect()
}

/// The result lines a sink would write for these records.
fn results(records: &[Value], ok: impl Fn(&Value) -> bool) -> String {
    let mut out = Vec::new();
    for record in records {
        let map = record.as_object().unwrap();
        RecordResult::for_record(map, ok(record))
            .write_to(&mut out)
            .unwrap();
    }
    String::from_utf8(out).unwrap()
}

fn all_ok(records: &[Value]) -> String {
    results(records, |_| true)
}

fn index_of(wrk: &Workdir, name: &str) -> Map<String, Value> {
    serde_json::from_str(&wrk.read(name)).unwrap()
}

fn ops(records: &[Value]) -> Vec<(String, String)> {
    records
        .iter()
        .map(|r| {
            (
                r["_key"].to_string(),
                r["_op"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn key_op(key: &str, op: &str) -> (String, String) {
    (format!("\"{key}\""), op.to_string())
}

const DIFF: &[&str] = &["--index", "state.json", "--key", "id"];
const COMMIT: &[&str] = &["--commit", "--index", "state.json"];

fn with(base: &[&'static str], more: &[&'static str]) -> Vec<&'static str> {
    base.iter().chain(more).copied().collect()
}

// --- the three ops ---------------------------------------------------------------

#[test]
fn new_changed_and_deleted() {
    let wrk = wd();
    let first = people(&[("a", "1"), ("b", "1"), ("c", "1")]);
    let (emitted, err) = run_ok(&wrk, DIFF, &first);
    assert_eq!(
        ops(&emitted),
        [key_op("a", "new"), key_op("b", "new"), key_op("c", "new")]
    );
    assert!(err.contains("started a new index"), "{err}");
    assert!(
        err.contains("3 records: 3 new, 0 changed, 0 unchanged, 0 deleted"),
        "{err}"
    );
    // The record comes out whole, with the four fields appended.
    assert_eq!(emitted[0]["name"], "Sam Sample a");
    assert_eq!(emitted[0]["_remote_id"], Value::Null);
    assert_eq!(emitted[0]["_hash"].as_str().unwrap().len(), 64);
    let keys: Vec<&String> = emitted[0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["id", "name", "v", "_key", "_op", "_remote_id", "_hash"]
    );

    // Delivered with ids from the remote.
    let mut lines = String::new();
    for (record, id) in emitted.iter().zip(["R-1", "R-2", "R-3"]) {
        let mut out = Vec::new();
        RecordResult::for_record(record.as_object().unwrap(), true)
            .with_remote_id(id)
            .with_status(201)
            .write_to(&mut out)
            .unwrap();
        lines.push_str(&String::from_utf8(out).unwrap());
    }
    let (none, err) = run_ok(&wrk, COMMIT, &lines);
    assert!(none.is_empty());
    assert!(
        err.contains("commit: 3 delivered, 0 failed, 0 skipped"),
        "{err}"
    );
    let index = index_of(&wrk, "state.json");
    assert_eq!(index["a"]["remote_id"], "R-1");
    assert_eq!(index["a"]["delivered"], true);
    assert_eq!(index["a"]["hash"], emitted[0]["_hash"]);

    // Unchanged: nothing to emit.
    let (again, err) = run_ok(&wrk, DIFF, &first);
    assert!(again.is_empty());
    assert!(
        err.contains("3 records: 0 new, 0 changed, 3 unchanged"),
        "{err}"
    );

    // b changes, c is gone, d is new.
    let second = people(&[("a", "1"), ("b", "2"), ("d", "1")]);
    let args = with(DIFF, &["--emit", "new,changed,deleted"]);
    let (emitted, err) = run_ok(&wrk, &args, &second);
    assert_eq!(
        ops(&emitted),
        [
            key_op("b", "changed"),
            key_op("d", "new"),
            key_op("c", "deleted")
        ]
    );
    assert_eq!(emitted[0]["_remote_id"], "R-2");
    assert_ne!(emitted[0]["_hash"], index["b"]["hash"]);
    assert_eq!(
        emitted[2],
        json!({"_key": "c", "_op": "deleted", "_remote_id": "R-3"})
    );
    assert!(
        err.contains("index-diff: warning: key c is gone from the input"),
        "{err}"
    );
    assert!(
        err.contains("1 new, 1 changed, 1 unchanged, 1 deleted"),
        "{err}"
    );
    // Marked deleted at diff time, not emitted again.
    assert_eq!(index_of(&wrk, "state.json")["c"]["deleted"], true);
    let (again, _) = run_ok(&wrk, &args, &second);
    assert_eq!(ops(&again), [key_op("b", "changed"), key_op("d", "new")]);
}

#[test]
fn default_emit_never_marks_absent_keys_deleted() {
    let wrk = wd();
    let (emitted, _) = run_ok(&wrk, DIFF, &people(&[("a", "1"), ("b", "1")]));
    run_ok(&wrk, COMMIT, &all_ok(&emitted));
    let (emitted, err) = run_ok(&wrk, DIFF, &people(&[("a", "1")]));
    assert!(emitted.is_empty());
    assert!(!err.contains("warning"), "{err}");
    assert_eq!(index_of(&wrk, "state.json")["b"]["deleted"], false);
}

#[test]
fn a_deleted_key_that_comes_back_is_changed_with_its_id() {
    let wrk = wd();
    let both = people(&[("a", "1"), ("b", "1")]);
    let (emitted, _) = run_ok(&wrk, &with(DIFF, &["--mint", "uuid"]), &both);
    let id_b = emitted[1]["_remote_id"].clone();
    run_ok(&wrk, COMMIT, &all_ok(&emitted));
    let args = with(DIFF, &["--emit", "new,changed,deleted"]);
    let (gone, _) = run_ok(&wrk, &args, &people(&[("a", "1")]));
    assert_eq!(ops(&gone), [key_op("b", "deleted")]);
    run_ok(&wrk, COMMIT, &all_ok(&gone));
    assert_eq!(index_of(&wrk, "state.json")["b"]["deleted"], true);
    let (back, _) = run_ok(&wrk, &args, &both);
    assert_eq!(ops(&back), [key_op("b", "changed")]);
    assert_eq!(back[0]["_remote_id"], id_b);
    run_ok(&wrk, COMMIT, &all_ok(&back));
    assert_eq!(index_of(&wrk, "state.json")["b"]["deleted"], false);
}

#[test]
fn a_failed_delete_comes_back() {
    let wrk = wd();
    let (emitted, _) = run_ok(&wrk, DIFF, &people(&[("a", "1"), ("b", "1")]));
    run_ok(&wrk, COMMIT, &all_ok(&emitted));
    let args = with(DIFF, &["--emit", "deleted"]);
    let (gone, _) = run_ok(&wrk, &args, &people(&[("a", "1")]));
    assert_eq!(ops(&gone), [key_op("b", "deleted")]);
    let (_, err) = run_ok(&wrk, COMMIT, &results(&gone, |_| false));
    assert!(err.contains("0 delivered, 1 failed"), "{err}");
    assert_eq!(index_of(&wrk, "state.json")["b"]["deleted"], false);
    let (again, _) = run_ok(&wrk, &args, &people(&[("a", "1")]));
    assert_eq!(ops(&again), [key_op("b", "deleted")]);
}

#[test]
fn a_failed_change_keeps_the_old_hash() {
    let wrk = wd();
    let (emitted, _) = run_ok(&wrk, DIFF, &people(&[("a", "1")]));
    run_ok(&wrk, COMMIT, &all_ok(&emitted));
    let old = index_of(&wrk, "state.json")["a"]["hash"].clone();
    let (changed, _) = run_ok(&wrk, DIFF, &people(&[("a", "2")]));
    run_ok(&wrk, COMMIT, &results(&changed, |_| false));
    assert_eq!(index_of(&wrk, "state.json")["a"]["hash"], old);
    let (again, _) = run_ok(&wrk, DIFF, &people(&[("a", "2")]));
    assert_eq!(ops(&again), [key_op("a", "changed")]);
}

// --- keys and hashes -------------------------------------------------------------

#[test]
fn composite_keys_are_arrays() {
    let wrk = wd();
    let input = "{\"site\":\"s1\",\"visit\":1,\"dose\":\"a\"}\n{\"site\":\"s1\",\"visit\":2,\"dose\":\"a\"}\n";
    let args = ["--index", "state.json", "--key", "site,visit"];
    let (emitted, _) = run_ok(&wrk, &args, input);
    assert_eq!(emitted[0]["_key"], json!(["s1", "1"]));
    assert_eq!(emitted[1]["_key"], json!(["s1", "2"]));
    run_ok(&wrk, COMMIT, &all_ok(&emitted));
    let index = index_of(&wrk, "state.json");
    let keys: Vec<&String> = index.keys().collect();
    assert_eq!(keys, ["[\"s1\",\"1\"]", "[\"s1\",\"2\"]"]);
    assert_eq!(index["[\"s1\",\"1\"]"]["delivered"], true);
    let (again, _) = run_ok(&wrk, &args, input);
    assert!(again.is_empty());
    // A deleted composite key comes out as an array too.
    let args = [
        "--index",
        "state.json",
        "--key",
        "site,visit",
        "--emit",
        "deleted",
    ];
    let (gone, _) = run_ok(&wrk, &args, &input[..input.find('\n').unwrap() + 1]);
    assert_eq!(
        gone,
        [json!({"_key": ["s1", "2"], "_op": "deleted", "_remote_id": null})]
    );
}

#[test]
fn hash_exclude_ignores_those_columns() {
    let wrk = wd();
    let args = with(DIFF, &["--hash-exclude", "seen_at, batch"]);
    let v1 = "{\"id\":\"a\",\"dose\":\"1\",\"seen_at\":\"2024-01-01\",\"batch\":7}\n";
    let (emitted, _) = run_ok(&wrk, &args, v1);
    run_ok(&wrk, COMMIT, &all_ok(&emitted));
    // Only excluded columns and key order differ: unchanged.
    let v2 = "{\"batch\":8,\"seen_at\":\"2024-02-02\",\"dose\":\"1\",\"id\":\"a\"}\n";
    let (same, _) = run_ok(&wrk, &args, v2);
    assert!(same.is_empty());
    // Without the exclusion, the same change is a change.
    let (changed, _) = run_ok(&wrk, DIFF, v2);
    assert_eq!(ops(&changed), [key_op("a", "changed")]);
    let v3 = "{\"id\":\"a\",\"dose\":\"2\",\"seen_at\":\"2024-01-01\",\"batch\":7}\n";
    let (changed, _) = run_ok(&wrk, &args, v3);
    assert_eq!(ops(&changed), [key_op("a", "changed")]);
}

#[test]
fn own_fields_in_the_input_are_replaced_and_not_hashed() {
    let wrk = wd();
    let (emitted, _) = run_ok(&wrk, DIFF, "{\"id\":\"a\",\"v\":1}\n");
    let fed_back = format!("{}\n", emitted[0]);
    let (again, _) = run_ok(&wrk, DIFF, &fed_back);
    assert_eq!(again[0]["_hash"], emitted[0]["_hash"]);
    assert_eq!(again[0], emitted[0]);
}

#[test]
fn numeric_keys_are_their_text() {
    let wrk = wd();
    let (emitted, _) = run_ok(&wrk, DIFF, "{\"id\":12345678901234567890,\"v\":1}\n");
    assert_eq!(emitted[0]["_key"], "12345678901234567890");
}

// --- CSV -----------------------------------------------------------------------

#[test]
fn csv_with_tilde_delimiter_and_bom() {
    let wrk = wd();
    wrk.create(
        "kobo.csv",
        "\u{feff}_uuid~FACILITY~Q1\r\nu-1~Clinic A~yes, often\r\nu-2~Clinic \"B\"~no\r\n",
    );
    let args = [
        "--index",
        "state.json",
        "--key",
        "_uuid",
        "--from",
        "csv",
        "-d",
        "~",
        "--mint",
        "dhis2-uid",
        "kobo.csv",
    ];
    let (emitted, _) = run_ok(&wrk, &args, "");
    assert_eq!(emitted.len(), 2);
    assert_eq!(emitted[0]["_uuid"], "u-1");
    assert_eq!(emitted[0]["Q1"], "yes, often");
    assert_eq!(emitted[1]["FACILITY"], "Clinic \"B\"");
    assert_eq!(emitted[1]["_key"], "u-2");
    // A CSV record hashes like the same NDJSON object of strings.
    let as_json = "{\"Q1\":\"yes, often\",\"FACILITY\":\"Clinic A\",\"_uuid\":\"u-1\"}\n";
    let (from_json, _) = run_ok(&wrk, &["--index", "other.json", "--key", "_uuid"], as_json);
    assert_eq!(from_json[0]["_hash"], emitted[0]["_hash"]);
}

#[test]
fn csv_in_latin1_is_transcoded() {
    let wrk = wd();
    wrk.create("in.csv", b"id;site\nk1;Clinique Ren\xe9e\n");
    let args = [
        "--index",
        "state.json",
        "--key",
        "id",
        "--from",
        "csv",
        "-d",
        ";",
        "--encoding",
        "latin1",
        "in.csv",
    ];
    let (emitted, _) = run_ok(&wrk, &args, "");
    assert_eq!(emitted[0]["site"], "Clinique Ren\u{e9}e");
    // Without it, the bytes are not UTF-8: exit 65 naming row and column.
    let utf8 = [&args[..8], &args[10..]].concat();
    let err = run_fails(&wrk, &utf8, "", 65);
    assert!(err.contains("in.csv: row 2, column \"site\""), "{err}");
    let err = run_fails(&wrk, &with(DIFF, &["--encoding", "latin1"]), "", 64);
    assert!(
        err.contains("--encoding applies only with --from csv"),
        "{err}"
    );
}

#[test]
fn csv_errors_name_row_and_column() {
    let wrk = wd();
    let csv = ["--index", "state.json", "--key", "id", "--from", "csv"];
    let err = run_fails(&wrk, &csv, "name,v\nSam Secret,1\n", 65);
    assert!(
        err.contains("row 1, column \"id\": the key column is not in the header"),
        "{err}"
    );
    let err = run_fails(&wrk, &csv, "id,name\nk1,Sam Secret\n,Kim Secret\n", 65);
    assert!(
        err.contains("<stdin>: row 3, column \"id\": the key is empty"),
        "{err}"
    );
    assert_one_line_without(&err, &["Secret"]);
    let err = run_fails(&wrk, &csv, "id,name\nk1,Sam Secret,extra\n", 65);
    assert!(err.contains("row 2"), "{err}");
    assert_one_line_without(&err, &["Secret"]);
    assert!(!wrk.path("state.json").exists());
}

// --- SIPCA -----------------------------------------------------------------------

#[test]
fn sipca_index_round_trip() {
    let wrk = wd();
    let sipca = r#"{
    "kobo-1": {"dhis2_uuid": "Abcdefghij1", "uploaded": true, "deleted": false, "note": "kept"},
    "kobo-2": {"dhis2_uuid": "Bbcdefghij2", "uploaded": false, "deleted": false},
    "kobo-3": {"dhis2_uuid": "Cbcdefghij3", "uploaded": true, "deleted": true}
}"#;
    wrk.create("event_index.json", sipca);
    let input = people(&[("kobo-1", "1"), ("kobo-2", "1"), ("kobo-4", "1")]);
    let args = [
        "--index",
        "event_index.json",
        "--key",
        "id",
        "--mint",
        "dhis2-uid",
    ];
    let (emitted, _) = run_ok(&wrk, &args, &input);
    // kobo-1 was uploaded without a hash: unchanged, its hash the baseline.
    // kobo-2 is pending: new again, with its id. kobo-4 is new: minted.
    assert_eq!(
        ops(&emitted),
        [key_op("kobo-2", "new"), key_op("kobo-4", "new")]
    );
    assert_eq!(emitted[0]["_remote_id"], "Bbcdefghij2");
    let minted = emitted[1]["_remote_id"].as_str().unwrap().to_string();
    let index = index_of(&wrk, "event_index.json");
    assert_eq!(index["kobo-1"]["hash"].as_str().unwrap().len(), 64);
    assert_eq!(index["kobo-4"]["dhis2_uuid"], minted.as_str());
    assert_eq!(index["kobo-4"]["uploaded"], false);

    let commit = ["--commit", "--index", "event_index.json"];
    run_ok(&wrk, &commit, &all_ok(&emitted));
    let index = index_of(&wrk, "event_index.json");
    let keys: Vec<&String> = index.keys().collect();
    assert_eq!(keys, ["kobo-1", "kobo-2", "kobo-3", "kobo-4"]);
    for (key, id, uploaded, deleted) in [
        ("kobo-1", "Abcdefghij1", true, false),
        ("kobo-2", "Bbcdefghij2", true, false),
        ("kobo-3", "Cbcdefghij3", true, true),
        ("kobo-4", minted.as_str(), true, false),
    ] {
        let entry = &index[key];
        assert_eq!(entry["dhis2_uuid"], id, "{key}");
        assert_eq!(entry["uploaded"], uploaded, "{key}");
        assert_eq!(entry["deleted"], deleted, "{key}");
        assert!(entry.get("remote_id").is_none() && entry.get("delivered").is_none());
    }
    assert_eq!(index["kobo-1"]["note"], "kept");
    // Nothing left to send.
    let (none, _) = run_ok(&wrk, &args, &input);
    assert!(none.is_empty());
}

#[test]
fn format_picks_a_new_index_and_must_match_an_old_one() {
    let wrk = wd();
    let (emitted, _) = run_ok(
        &wrk,
        &with(DIFF, &["--format", "sipca", "--mint", "dhis2-uid"]),
        &people(&[("a", "1")]),
    );
    assert_eq!(index_of(&wrk, "state.json")["a"]["uploaded"], false);
    run_ok(&wrk, COMMIT, &all_ok(&emitted));
    assert_eq!(index_of(&wrk, "state.json")["a"]["uploaded"], true);
    let before = wrk.read("state.json");
    let err = run_fails(&wrk, &with(DIFF, &["--format", "native"]), "", 64);
    assert!(err.contains("--format native contradicts"), "{err}");
    assert_eq!(wrk.read("state.json"), before);
}

// --- duplicates ------------------------------------------------------------------

#[test]
fn duplicate_keys_are_an_error_naming_both_lines() {
    let wrk = wd();
    let (emitted, _) = run_ok(&wrk, DIFF, &people(&[("a", "1")]));
    run_ok(&wrk, COMMIT, &all_ok(&emitted));
    let before = fs::read(wrk.path("state.json")).unwrap();
    let input = people(&[
        ("b", "1"),
        ("dup-Secret", "1"),
        ("c", "1"),
        ("dup-Secret", "2"),
    ]);
    let err = run_fails(&wrk, &with(DIFF, &["--mint", "uuid"]), &input, 65);
    assert!(
        err.contains("<stdin>: lines 2 and 4 have the same key"),
        "{err}"
    );
    assert!(err.contains("column id"), "{err}");
    assert_one_line_without(&err, &["Secret"]);
    assert_eq!(fs::read(wrk.path("state.json")).unwrap(), before);
    // --show-values names the key, for debugging on a safe machine.
    let err = run_fails(&wrk, &with(DIFF, &["--show-values"]), &input, 65);
    assert!(err.contains("dup-Secret"), "{err}");
}

#[test]
fn on_duplicate_last_keeps_the_last() {
    let wrk = wd();
    let input = people(&[("a", "1"), ("b", "first"), ("c", "1"), ("b", "last")]);
    let args = with(DIFF, &["--on-duplicate", "last", "--mint", "dhis2-uid"]);
    let (emitted, err) = run_ok(&wrk, &args, &input);
    assert_eq!(
        ops(&emitted),
        [key_op("a", "new"), key_op("c", "new"), key_op("b", "new")]
    );
    assert_eq!(emitted[2]["v"], "last");
    assert!(err.contains("4 records: 3 new"), "{err}");
    assert!(err.contains("1 record replaced by a later one"), "{err}");
    assert_eq!(index_of(&wrk, "state.json").len(), 3);
}

// --- errors ------------------------------------------------------------------------

#[test]
fn missing_or_bad_keys_are_exit_65_without_values() {
    let wrk = wd();
    for (line, want) in [
        (
            "{\"name\":\"Sam Secret\"}",
            "line 2, column \"id\": the key column is missing",
        ),
        ("{\"id\":null,\"name\":\"Sam Secret\"}", "the key is null"),
        ("{\"id\":\"\",\"name\":\"Sam Secret\"}", "the key is empty"),
        (
            "{\"id\":{\"x\":\"Secret\"}}",
            "the key is not a string or a number",
        ),
        ("[\"Secret\"]", "line 2: expected a JSON object"),
        ("{\"id\":\"Secret", "line 2: not valid JSON"),
    ] {
        let input = format!("{{\"id\":\"ok\"}}\n{line}\n");
        let err = run_fails(&wrk, DIFF, &input, 65);
        assert!(err.contains(want), "{line}: {err}");
        assert_one_line_without(&err, &["Secret"]);
        assert!(!wrk.path("state.json").exists());
    }
}

#[test]
fn bad_flags_are_exit_64_before_any_io() {
    let wrk = wd();
    for args in [
        &["--index", "state.json"][..],
        &["--index", "state.json", "--key", "id", "--emit", "new,gone"],
        &["--index", "state.json", "--key", "id", "-d", "~"],
        &["--index", "state.json", "--key", "id", "--from", "xml"],
        &["--index", "state.json", "--key", "id", "--mint", "serial"],
        &["--index", "state.json", "--key", "id", "--allow-empty"],
        &["--index", "state.json", "--commit", "--key", "id"],
        &["--key", "id"],
    ] {
        let out = wrk.run(args).output().unwrap();
        assert_eq!(out.status.code(), Some(64), "{args:?}");
    }
    assert!(!wrk.path("state.json").exists());
    assert!(!wrk.path("state.json.lock").exists());
}

#[test]
fn missing_input_file_is_exit_66() {
    let wrk = wd();
    let err = run_fails(&wrk, &with(DIFF, &["nope.ndjson"]), "", 66);
    assert!(err.contains("nope.ndjson"), "{err}");
}

#[test]
fn corrupt_and_truncated_indexes_are_exit_65_and_left_alone() {
    let wrk = wd();
    let (emitted, _) = run_ok(&wrk, DIFF, &many(5));
    run_ok(&wrk, COMMIT, &all_ok(&emitted));
    let good = wrk.read("state.json");
    let corrupt = good.replacen("\"delivered\": true", "\"delivered\": \"Secret\"", 1);
    let cases = [
        (
            "truncated",
            good[..good.len() / 2].to_string(),
            "ends too early",
        ),
        ("empty", String::new(), "ends too early"),
        ("corrupt", corrupt, "\"delivered\" is not true or false"),
        (
            "garbage",
            "{\"r001\": {\"remote_id\": Secret}}".to_string(),
            "line 1, column",
        ),
    ];
    for (what, text, want) in cases {
        wrk.create("state.json", &text);
        for args in [DIFF.to_vec(), COMMIT.to_vec()] {
            let input = if args == DIFF {
                many(5)
            } else {
                all_ok(&emitted)
            };
            let err = run_fails(&wrk, &args, &input, 65);
            assert!(err.contains("state.json: line "), "{what}: {err}");
            assert!(err.contains(want), "{what}: {err}");
            assert!(err.contains("left as it is"), "{what}: {err}");
            assert_one_line_without(&err, &["Secret"]);
            assert_eq!(wrk.read("state.json"), text, "{what}");
        }
    }
}

// --- empty input -------------------------------------------------------------------

#[test]
fn empty_input() {
    let wrk = wd();
    let (none, err) = run_ok(&wrk, DIFF, "");
    assert!(none.is_empty());
    assert!(err.contains("0 records"), "{err}");
    assert_eq!(wrk.read("state.json"), "{}\n");
    let (emitted, _) = run_ok(&wrk, DIFF, &people(&[("a", "1"), ("b", "1")]));
    run_ok(&wrk, COMMIT, &all_ok(&emitted));
    // Without deleted, empty input changes nothing.
    let (none, _) = run_ok(&wrk, DIFF, "\n\n");
    assert!(none.is_empty());
    // With deleted, it would delete everything: refused unless asked for.
    let before = wrk.read("state.json");
    let snapshot = with(DIFF, &["--emit", "new,changed,deleted"]);
    let err = run_fails(&wrk, &snapshot, "", 65);
    assert!(
        err.contains("no records") && err.contains("--allow-empty"),
        "{err}"
    );
    assert_eq!(wrk.read("state.json"), before);
    let err = run_fails(
        &wrk,
        &[
            "--index",
            "state.json",
            "--key",
            "id",
            "--from",
            "csv",
            "--emit",
            "deleted",
        ],
        "id,v\n",
        65,
    );
    assert!(err.contains("no records"), "{err}");
    let (gone, _) = run_ok(&wrk, &with(&snapshot, &["--allow-empty"]), "");
    assert_eq!(ops(&gone), [key_op("a", "deleted"), key_op("b", "deleted")]);
    // Nothing live is left: an empty snapshot is fine now.
    let (none, _) = run_ok(&wrk, &snapshot, "");
    assert!(none.is_empty());
}

// --- commit ------------------------------------------------------------------------

#[test]
fn commit_of_unknown_keys_creates_the_index() {
    let wrk = wd();
    let lines = "{\"_key\":\"x1\",\"_hash\":null,\"_remote_id\":null,\"ok\":true,\"remote_id\":\"R9\"}\n{\"_key\":\"x2\",\"_remote_id\":null,\"ok\":false,\"status\":500,\"error\":\"HTTP 500\"}\n";
    let (_, err) = run_ok(&wrk, COMMIT, lines);
    assert!(err.contains("1 delivered, 1 failed, 0 skipped"), "{err}");
    let index = index_of(&wrk, "state.json");
    assert_eq!(index.len(), 1);
    assert_eq!(index["x1"]["remote_id"], "R9");
    assert_eq!(index["x1"]["delivered"], true);
    assert_eq!(mode_of(&wrk.path("state.json")), 0o600);
}

#[test]
fn malformed_result_lines_fail_after_the_valid_ones_are_committed() {
    let wrk = wd();
    let (emitted, _) = run_ok(&wrk, DIFF, &people(&[("a", "1"), ("b", "1")]));
    let good = all_ok(&emitted);
    let mut lines: Vec<&str> = good.lines().collect();
    lines.insert(1, "{\"ok\":true,\"name\":\"Sam Secret\"}");
    lines.insert(2, "[\"Secret\"]");
    lines.insert(3, "{\"_key\":\"a\",\"ok\":\"Secret\"}");
    let text = lines.join("\n") + "\n";
    let err = run_fails(&wrk, &["--commit", "--index", "state.json", "-"], &text, 65);
    assert!(
        err.contains("line 2: no _key; line 3: not a JSON object; line 4"),
        "{err}"
    );
    assert!(
        err.contains("the other lines were committed (commit: 2 delivered, 0 failed, 3 skipped)"),
        "{err}"
    );
    assert_one_line_without(&err, &["Secret"]);
    let index = index_of(&wrk, "state.json");
    assert_eq!(index["a"]["delivered"], true);
    assert_eq!(index["b"]["delivered"], true);
}

// --- the crash scenario ------------------------------------------------------------

#[test]
fn crash_scenario_resends_exactly_the_undelivered_with_the_same_ids() {
    let wrk = wd();
    wrk.create("in.ndjson", many(100));
    let args = with(DIFF, &["--mint", "dhis2-uid", "in.ndjson"]);
    let (first, _) = run_ok(&wrk, &args, "");
    assert_eq!(first.len(), 100);
    // The ids are in the index, pending, before anyone sends anything.
    let index = index_of(&wrk, "state.json");
    for record in &first {
        let entry = &index[record["_key"].as_str().unwrap()];
        assert_eq!(entry["remote_id"], record["_remote_id"]);
        assert_eq!(entry["delivered"], false);
    }
    // 60 delivered, 10 failed, 30 never answered: the sender was killed
    // while writing the 71st line.
    let mut lines = results(&first[..60], |_| true);
    lines.push_str(&results(&first[60..70], |_| false));
    let cut = results(&first[70..71], |_| true);
    lines.push_str(&cut[..cut.len() / 2]);
    let (_, err) = run_ok(&wrk, COMMIT, &lines);
    assert!(
        err.contains("commit: 60 delivered, 10 failed, 1 skipped"),
        "{err}"
    );
    assert!(
        err.contains("warning: <stdin>: line 71 is cut short"),
        "{err}"
    );

    let (second, _) = run_ok(&wrk, &args, "");
    let keys = |records: &[Value]| -> Vec<String> {
        records
            .iter()
            .map(|r| r["_key"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(keys(&second), keys(&first[60..]));
    for (again, before) in second.iter().zip(&first[60..]) {
        assert_eq!(again["_op"], "new");
        assert_eq!(again["_remote_id"], before["_remote_id"]);
        assert_eq!(again["_hash"], before["_hash"]);
    }
    let index = index_of(&wrk, "state.json");
    let delivered = index.values().filter(|e| e["delivered"] == true).count();
    assert_eq!(delivered, 60);
    assert_eq!(index.len(), 100);
}

#[test]
fn minted_dhis2_uids_have_the_shape_and_are_unique() {
    let wrk = wd();
    let (emitted, _) = run_ok(&wrk, &with(DIFF, &["--mint", "dhis2-uid"]), &many(999));
    let mut seen = HashSet::new();
    let mut first_chars = HashSet::new();
    for record in &emitted {
        let uid = record["_remote_id"].as_str().unwrap();
        let bytes = uid.as_bytes();
        assert_eq!(bytes.len(), 11, "{uid}");
        assert!(bytes[0].is_ascii_alphabetic(), "{uid}");
        assert!(bytes.iter().all(u8::is_ascii_alphanumeric), "{uid}");
        first_chars.insert(bytes[0]);
        assert!(seen.insert(uid.to_string()), "{uid} twice");
    }
    // Upper and lower case letters both start uids.
    assert!(first_chars.iter().any(u8::is_ascii_uppercase));
    assert!(first_chars.iter().any(u8::is_ascii_lowercase));
}

#[test]
fn minted_uuids_are_version_4() {
    let wrk = wd();
    let (emitted, _) = run_ok(&wrk, &with(DIFF, &["--mint", "uuid"]), &many(3));
    for record in &emitted {
        let id = record["_remote_id"].as_str().unwrap();
        assert_eq!(id.len(), 36, "{id}");
        assert_eq!(&id[14..15], "4", "{id}");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
    }
}

// --- lock ---------------------------------------------------------------------------

/// Holds `path` with flock(1) until dropped; returns once the lock is held.
struct HeldLock(Child);

impl HeldLock {
    fn take(wrk: &Workdir, path: &str) -> HeldLock {
        let mut child = Command::new("flock")
            .current_dir(wrk.root())
            .args([path, "sh", "-c", "echo held; exec cat"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("flock(1) from util-linux");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line, "held\n");
        HeldLock(child)
    }
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        // End of input ends cat, and with it the lock.
        drop(self.0.stdin.take());
        let _ = self.0.wait();
    }
}

#[test]
fn a_second_run_while_the_lock_is_held_exits_75() {
    let wrk = wd();
    let (emitted, _) = run_ok(&wrk, DIFF, &people(&[("a", "1")]));
    let before = wrk.read("state.json");
    {
        let _held = HeldLock::take(&wrk, "state.json.lock");
        for (args, input) in [
            (with(DIFF, &["--mint", "uuid"]), people(&[("b", "1")])),
            (COMMIT.to_vec(), all_ok(&emitted)),
        ] {
            let err = run_fails(&wrk, &args, &input, 75);
            assert!(
                err.contains("state.json.lock is locked by another run"),
                "{err}"
            );
            assert_eq!(wrk.read("state.json"), before);
        }
    }
    run_ok(&wrk, COMMIT, &all_ok(&emitted));
    assert_eq!(index_of(&wrk, "state.json")["a"]["delivered"], true);
}

#[test]
fn commit_reads_all_results_before_taking_the_lock() {
    let wrk = wd();
    let (emitted, _) = run_ok(&wrk, DIFF, &people(&[("a", "1")]));
    let held = HeldLock::take(&wrk, "state.json.lock");
    let mut commit = Command::new(env!("CARGO_BIN_EXE_index-diff"))
        .current_dir(wrk.root())
        .args(COMMIT)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // While its input is open the commit waits for it, lock or not; it
    // only looks at the lock once the sender is done.
    let mut stdin = commit.stdin.take().unwrap();
    stdin.write_all(all_ok(&emitted).as_bytes()).unwrap();
    drop(held);
    drop(stdin);
    let out = commit.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(index_of(&wrk, "state.json")["a"]["delivered"], true);
}

// --- backups and files ----------------------------------------------------------------

#[test]
fn backup_dir_keeps_initial_and_final_copies() {
    let wrk = wd();
    let (emitted, _) = run_ok(
        &wrk,
        &with(DIFF, &["--backup-dir", "log/backups"]),
        &many(2),
    );
    // A new index has nothing to back up before the run.
    assert!(!wrk.path("log/backups").exists() || backups(&wrk).is_empty());
    let after_diff = wrk.read("state.json");
    run_ok(
        &wrk,
        &with(COMMIT, &["--backup-dir", "log/backups"]),
        &all_ok(&emitted),
    );
    let after_commit = wrk.read("state.json");
    run_ok(
        &wrk,
        &with(DIFF, &["--backup-dir", "log/backups"]),
        &many(2),
    );
    run_ok(
        &wrk,
        &with(DIFF, &["--backup-dir", "log/backups"]),
        &many(2),
    );
    assert_eq!(mode_of(&wrk.path("log/backups")), 0o700);
    let names = backups(&wrk);
    assert_eq!(names.len(), 3, "{names:?}");
    let finals: Vec<&String> = names
        .iter()
        .filter(|n| n.contains("_state_final"))
        .collect();
    let initials: Vec<&String> = names
        .iter()
        .filter(|n| n.contains("_state_initial"))
        .collect();
    assert_eq!((finals.len(), initials.len()), (1, 2), "{names:?}");
    for name in &names {
        // YYYY-MM-DD_HHMMSS_state_...
        let bytes = name.as_bytes();
        assert!(
            bytes[..4].iter().all(u8::is_ascii_digit) && bytes[4] == b'-' && bytes[10] == b'_',
            "{name}"
        );
        assert!(name.ends_with(".json"), "{name}");
        let path = wrk.path(&format!("log/backups/{name}"));
        assert_eq!(mode_of(&path), 0o600);
        let text = fs::read_to_string(path).unwrap();
        assert!(text == after_diff || text == after_commit, "{name}");
    }
    assert_eq!(
        wrk.read(&format!("log/backups/{}", finals[0])),
        after_commit
    );
}

fn backups(wrk: &Workdir) -> Vec<String> {
    common::testing::names_in(&wrk.path("log/backups"))
}

#[test]
fn the_index_is_private_and_written_only_when_it_changes() {
    let wrk = wd();
    let (emitted, _) = run_ok(&wrk, DIFF, &people(&[("a", "1")]));
    run_ok(&wrk, COMMIT, &all_ok(&emitted));
    assert_eq!(mode_of(&wrk.path("state.json")), 0o600);
    let stamp = fs::metadata(wrk.path("state.json"))
        .unwrap()
        .modified()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    run_ok(&wrk, DIFF, &people(&[("a", "1")]));
    let again = fs::metadata(wrk.path("state.json"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(stamp, again);
    // No temporary files are left beside it.
    assert_eq!(
        common::testing::names_in(wrk.root()),
        ["state.json", "state.json.lock"]
    );
}

#[test]
fn pending_keys_without_mint_come_back_until_delivered() {
    let wrk = wd();
    let (first, _) = run_ok(&wrk, DIFF, &people(&[("a", "1")]));
    let (second, _) = run_ok(&wrk, DIFF, &people(&[("a", "1")]));
    assert_eq!(first, second);
    run_ok(&wrk, COMMIT, &all_ok(&second));
    let (third, _) = run_ok(&wrk, DIFF, &people(&[("a", "1")]));
    assert!(third.is_empty());
}

#[test]
fn help_shows_the_pipeline_example() {
    let wrk = wd();
    let out = wrk.run(["--help"]).output().unwrap();
    assert!(out.status.success());
    let help = stdout_of(&out);
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains("| http-post --each ... | index-diff --commit --index state.json"),
        "{help}"
    );
}
