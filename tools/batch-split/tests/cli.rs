#![allow(clippy::unwrap_used)]
//! batch-split through its binary.

use common::hash::sha256_hex;
use common::testing::{
    Rng, Workdir, assert_one_line_without, csv_rows, mode_of, ndjson_values, stderr_of, stdout_of,
};
use serde_json::{Value, json};
use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

fn wd() -> Workdir {
    Workdir::new(env!("CARGO_BIN_EXE_batch-split"))
}

/// NDJSON with `n` synthetic records.
fn people(n: usize) -> String {
    (1..=n)
        .map(|i| format!("{{\"id\":{i},\"name\":\"Sam Sample {i}\"}}\n"))
        .collect()
}

/// The files of a folder, sorted by name, with their content.
fn files_in(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

fn names_in(dir: &Path) -> Vec<String> {
    files_in(dir).into_iter().map(|(n, _)| n).collect()
}

/// The files left in a spool folder, without its lock file.
fn queued_in(dir: &Path) -> Vec<String> {
    names_in(dir).into_iter().filter(|n| n != ".lock").collect()
}

// --- --out-dir, --size, receipts ---------------------------------------------

#[test]
fn ndjson_files_of_n_records_with_receipts() {
    let wrk = wd();
    wrk.create("in.ndjson", people(5));
    let out = wrk
        .run(["-n", "2", "--out-dir", "out/batches", "in.ndjson"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(out.stderr.is_empty());
    let files = files_in(&wrk.path("out/batches"));
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "batch-0001.ndjson",
            "batch-0002.ndjson",
            "batch-0003.ndjson"
        ]
    );
    let all = people(5);
    let lines: Vec<&str> = all.split_inclusive('\n').collect();
    assert_eq!(files[0].1, lines[0..2].concat());
    assert_eq!(files[1].1, lines[2..4].concat());
    assert_eq!(files[2].1, lines[4]);
    assert_eq!(mode_of(&wrk.path("out/batches")), 0o700);
    let receipts = ndjson_values(&stdout_of(&out));
    assert_eq!(receipts.len(), 3);
    for ((name, content), receipt) in files.iter().zip(&receipts) {
        assert_eq!(mode_of(&wrk.path(&format!("out/batches/{name}"))), 0o600);
        assert_eq!(receipt["tool"], "batch-split");
        assert_eq!(receipt["target"], "out/batches");
        assert_eq!(receipt["name"], name.as_str());
        assert_eq!(receipt["bytes"], content.len());
        assert_eq!(receipt["sha256"], sha256_hex(content.as_bytes()));
        assert!(receipt["time"].as_str().unwrap().ends_with('Z'));
        assert!(!receipt.to_string().contains("Sam Sample"));
    }
    let counts: Vec<u64> = receipts
        .iter()
        .map(|r| r["records"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [2, 2, 1]);
}

#[test]
fn default_size_is_500_and_stdin_works() {
    let wrk = wd();
    let out = wrk
        .run(["--out-dir", "out"])
        .write_stdin(people(1001))
        .output()
        .unwrap();
    assert!(out.status.success());
    let counts: Vec<u64> = ndjson_values(&stdout_of(&out))
        .iter()
        .map(|r| r["records"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [500, 500, 1]);
}

#[test]
fn ndjson_lines_copied_byte_for_byte_blank_lines_dropped_lf_endings() {
    let wrk = wd();
    let input = "\u{feff}{\"a\":  1 }\r\n\n   \n{\"b\":\"x\"}\n\n{\"c\":[1, 2]}";
    let out = wrk
        .run(["--out-dir", "o", "-n", "10"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        wrk.read("o/batch-0001.ndjson"),
        "{\"a\":  1 }\n{\"b\":\"x\"}\n{\"c\":[1, 2]}\n"
    );
    // Checked, not rewritten: a line that is not JSON is a data error.
    wrk.fails_stdin(&["--out-dir", "p"], "not json\n", 65);
    assert!(names_in(&wrk.path("p")).is_empty());
}

#[test]
fn name_template_and_extensions() {
    let wrk = wd();
    wrk.create("in.ndjson", people(3));
    wrk.run([
        "-n",
        "2",
        "--array",
        "--out-dir",
        "payloads",
        "--name",
        "payload-{n}.json",
        "in.ndjson",
    ])
    .assert()
    .success();
    assert_eq!(
        names_in(&wrk.path("payloads")),
        ["payload-0001.json", "payload-0002.json"]
    );
    let first: Value = serde_json::from_str(&wrk.read("payloads/payload-0001.json")).unwrap();
    assert_eq!(first.as_array().unwrap().len(), 2);
    wrk.run([
        "--array",
        "--out-dir",
        "x",
        "--name",
        "p_{n}.{ext}",
        "in.ndjson",
    ])
    .assert()
    .success();
    assert_eq!(names_in(&wrk.path("x")), ["p_0001.json"]);
    wrk.create("in.csv", "a\n1\n");
    wrk.run([
        "--from",
        "csv",
        "--out-dir",
        "y",
        "--name",
        "{n}.{ext}",
        "in.csv",
    ])
    .assert()
    .success();
    assert_eq!(names_in(&wrk.path("y")), ["0001.csv"]);
}

#[test]
fn batch_numbers_past_9999_keep_names_in_order() {
    let wrk = wd();
    let many: String = (1..=10_001).map(|i| format!("{{\"id\":{i}}}\n")).collect();
    wrk.create("many.ndjson", &many);
    // With --exec the count is known: every name gets as many digits as the last.
    let out = wrk
        .run([
            "-n",
            "1",
            "--exec",
            "echo \"$BATCH_NAME\" > name; exit 1",
            "many.ndjson",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(wrk.read("name"), "batch-00001.ndjson\n");
    assert_eq!(
        ndjson_values(&stdout_of(&out))[0]["name"],
        "batch-00001.ndjson"
    );
    assert!(stderr_of(&out).contains("batch 1 of 10001 (batch-00001.ndjson)"));
    // Fewer than 10000 batches keep 4 digits.
    wrk.run([
        "-n",
        "2",
        "--exec",
        "echo \"$BATCH_NAME\" > name; exit 1",
        "many.ndjson",
    ])
    .assert()
    .code(1);
    assert_eq!(wrk.read("name"), "batch-0001.ndjson\n");

    // --out-dir streams, so the count is not known: 4 digits, and a warning
    // when batch 10000 comes; {n:W} sets the width.
    let out = wrk
        .run(["-n", "1", "--out-dir", "o", "many.ndjson"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out),
        "batch-split: warning: batch 10000: batch numbers now have 5 digits, so a shell glob lists batch-10000.ndjson before batch-9999.ndjson; for more than 9999 batches give {n} a width, such as --name 'batch-{n:6}.{ext}'\n"
    );
    let names = names_in(&wrk.path("o"));
    assert_eq!(names.len(), 10_001);
    assert!(names.contains(&"batch-10001.ndjson".to_string()));
    let out = wrk
        .run([
            "-n",
            "1",
            "--out-dir",
            "w",
            "--name",
            "b{n:6}-{n}.{ext}",
            "many.ndjson",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(out.stderr.is_empty());
    let names = names_in(&wrk.path("w"));
    assert_eq!(names[0], "b000001-000001.ndjson");
    assert_eq!(names[10_000], "b010001-010001.ndjson");
}

#[test]
fn bad_name_templates_are_usage_errors() {
    let wrk = wd();
    for name in [
        "fixed.json",
        "../x-{n}",
        "b-{n}-{date}",
        "b-{n:0}",
        "b-{n:x}",
        "b-{n:}",
        "b-{n:21}",
        "b-{n:4}-{n:6}",
    ] {
        let err = wrk.fails_stdin(&["--out-dir", "o", "--name", name], people(1), 64);
        assert!(err.contains("--name"), "{name}: {err}");
    }
    assert!(!wrk.path("o").join("fixed.json").exists());
}

// --- --max-bytes ---------------------------------------------------------------

#[test]
fn max_bytes_boundary_exact_fit_and_one_over() {
    let wrk = wd();
    // Three lines of 10 bytes each with the newline.
    let input = "{\"a\":\"1\"}\n{\"a\":\"2\"}\n{\"a\":\"3\"}\n";
    for (max, expect) in [
        ("20", vec![20, 10]),
        ("19", vec![10, 10, 10]),
        ("30", vec![30]),
    ] {
        let out = wrk
            .run(["--max-bytes", max, "--out-dir", &format!("o{max}")])
            .write_stdin(input)
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(out.stderr.is_empty(), "{}", stderr_of(&out));
        let bytes: Vec<u64> = ndjson_values(&stdout_of(&out))
            .iter()
            .map(|r| r["bytes"].as_u64().unwrap())
            .collect();
        assert_eq!(bytes, expect, "--max-bytes {max}");
    }
    // --size still applies under --max-bytes.
    let out = wrk
        .run(["--max-bytes", "1000", "-n", "1", "--out-dir", "n1"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert_eq!(ndjson_values(&stdout_of(&out)).len(), 3);
}

#[test]
fn max_bytes_counts_array_brackets_and_commas() {
    let wrk = wd();
    // Records are 9 bytes; "[r,r]\n" is 2 * 9 + 4 = 22 bytes.
    let input = "{\"a\":\"1\"}\n{\"a\":\"2\"}\n{\"a\":\"3\"}\n";
    for (max, lines) in [("22", 2), ("21", 3)] {
        let out = wrk
            .run(["--array", "--max-bytes", max])
            .write_stdin(input)
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = stdout_of(&out);
        assert_eq!(text.lines().count(), lines, "{max}: {text}");
        assert!(
            text.split_inclusive('\n')
                .all(|l| l.len() <= max.parse().unwrap())
        );
    }
}

#[test]
fn record_over_max_bytes_is_its_own_batch_with_a_warning() {
    let wrk = wd();
    let input = "{\"a\":1}\n{\"name\":\"Jane Doe, a long value\"}\n{\"a\":2}\n";
    let out = wrk
        .run(["--max-bytes", "16", "--out-dir", "o", "in.ndjson"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(66));
    wrk.create("in.ndjson", input);
    let out = wrk
        .run(["--max-bytes", "16", "--out-dir", "o", "in.ndjson"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let files = files_in(&wrk.path("o"));
    assert_eq!(files.len(), 3);
    assert_eq!(files[1].1, "{\"name\":\"Jane Doe, a long value\"}\n");
    let stderr = stderr_of(&out);
    assert_one_line_without(&stderr, &["Jane"]);
    assert!(
        stderr.starts_with("batch-split: warning: in.ndjson: line 2: "),
        "{stderr}"
    );
    assert!(stderr.contains("--max-bytes 16"), "{stderr}");
}

#[test]
fn zero_or_bad_limits_are_usage_errors() {
    let wrk = wd();
    for args in [
        vec!["-n", "0", "--array"],
        vec!["--max-bytes", "0", "--array"],
        vec!["-n", "many", "--array"],
    ] {
        let out = wrk.run(&args).write_stdin(people(1)).output().unwrap();
        assert_eq!(out.status.code(), Some(64), "{args:?}");
    }
}

// --- CSV -------------------------------------------------------------------------

const CSV: &str = "id,name,notes\n1,Sam Sample,\"line one\nline two\"\n2,\"Al, Example\",plain\n3,Cy Test,\"say \"\"hi\"\"\"\n";

#[test]
fn csv_header_repeated_and_quoted_newlines_kept_whole() {
    let wrk = wd();
    wrk.create("in.csv", CSV);
    let out = wrk
        .run(["--from", "csv", "-n", "1", "--out-dir", "out", "in.csv"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let files = files_in(&wrk.path("out"));
    assert_eq!(files.len(), 3);
    assert_eq!(
        files[0].1,
        "id,name,notes\n1,Sam Sample,\"line one\nline two\"\n"
    );
    assert_eq!(
        csv_rows(&files[1].1),
        [
            vec!["id", "name", "notes"],
            vec!["2", "Al, Example", "plain"]
        ]
    );
    assert_eq!(
        csv_rows(&files[2].1),
        [
            vec!["id", "name", "notes"],
            vec!["3", "Cy Test", "say \"hi\""]
        ]
    );
    assert_eq!(files[2].0, "batch-0003.csv");
    let receipts = ndjson_values(&stdout_of(&out));
    assert_eq!(receipts[0]["records"], 1);
    assert_eq!(receipts[0]["sha256"], sha256_hex(files[0].1.as_bytes()));
}

#[test]
fn csv_crlf_bom_and_blank_lines_copied_as_they_are() {
    let wrk = wd();
    wrk.create("in.csv", "\u{feff}a,b\r\n1,2\r\n\r\n3,4\r\n5,6");
    wrk.run(["--from", "csv", "-n", "2", "--out-dir", "o", "in.csv"])
        .assert()
        .success();
    assert_eq!(wrk.read("o/batch-0001.csv"), "a,b\r\n1,2\r\n\r\n3,4\r\n");
    assert_eq!(wrk.read("o/batch-0002.csv"), "a,b\r\n5,6");
}

#[test]
fn csv_max_bytes_counts_the_repeated_header() {
    let wrk = wd();
    // Header 6 bytes, records 4 bytes: 6 + 4 + 4 = 14.
    wrk.create("in.csv", "id,nm\n1,a\n2,b\n3,c\n");
    let out = wrk
        .run([
            "--from",
            "csv",
            "--max-bytes",
            "14",
            "--out-dir",
            "o",
            "in.csv",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(wrk.read("o/batch-0001.csv"), "id,nm\n1,a\n2,b\n");
    assert_eq!(wrk.read("o/batch-0002.csv"), "id,nm\n3,c\n");
    let out = wrk
        .run([
            "--from",
            "csv",
            "--max-bytes",
            "13",
            "--out-dir",
            "p",
            "in.csv",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(names_in(&wrk.path("p")).len(), 3);
}

#[test]
fn csv_delimiters() {
    let wrk = wd();
    wrk.create("semi.csv", "a;b\n1;\"x;y\"\n2;z\n");
    wrk.run([
        "--from",
        "csv",
        "-d",
        ";",
        "-n",
        "1",
        "--out-dir",
        "s",
        "semi.csv",
    ])
    .assert()
    .success();
    assert_eq!(wrk.read("s/batch-0001.csv"), "a;b\n1;\"x;y\"\n");
    wrk.create("tab.tsv", "a\tb\n1\tx y\n");
    let out = wrk
        .run(["--from", "csv", "-d", "\\t", "--array", "tab.tsv"])
        .output()
        .unwrap();
    assert_eq!(
        ndjson_values(&stdout_of(&out)),
        [json!([{"a": "1", "b": "x y"}])]
    );
    wrk.fails_stdin(&["-d", ";", "--array"], people(1), 64);
    let out = wrk
        .run(["--from", "csv", "-d", ";;", "--array", "semi.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
}

#[test]
fn ragged_csv_row_is_65_naming_file_row_and_column_not_value() {
    let wrk = wd();
    wrk.create(
        "in.csv",
        "name,dob,zip\nSam Sample,2001-01-01,48201\nJane Doe,1999-09-09\nAl,2000-01-01,1\n",
    );
    let out = wrk
        .run(["--from", "csv", "-n", "1", "--out-dir", "o", "in.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    let stderr = stderr_of(&out);
    assert_one_line_without(&stderr, &["Jane", "1999"]);
    assert_eq!(
        stderr.trim_end(),
        "batch-split: error: in.csv: row 3, column \"zip\": the row has 2 fields, the header has 3"
    );
    // The batch finished before the bad row is delivered, with its receipt.
    assert_eq!(names_in(&wrk.path("o")), ["batch-0001.csv"]);
    assert_eq!(ndjson_values(&stdout_of(&out)).len(), 1);

    wrk.create("long.csv", "a,b\n1,2,Secret\n");
    let out = wrk
        .run(["--from", "csv", "--array", "long.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    assert!(stderr_of(&out).contains("long.csv: row 2, column 3"));
    assert_one_line_without(&stderr_of(&out), &["Secret"]);
}

#[test]
fn unclosed_quote_is_65_and_the_merged_record_is_never_delivered() {
    let wrk = wd();
    // Row 2 opens a quote that never closes: a parser alone would make rows
    // 2 to 4 one record.
    wrk.create("in.csv", "a,b,c\n1,2,\"x\n4,5,6\n7,8,9\n");
    let out = wrk
        .run(["--from", "csv", "-n", "1", "--out-dir", "o", "in.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    let stderr = stderr_of(&out);
    assert_one_line_without(&stderr, &["4,5,6"]);
    assert_eq!(
        stderr.trim_end(),
        "batch-split: error: in.csv: row 2: a quoted field opens here and is never closed before the end of the input"
    );
    assert!(names_in(&wrk.path("o")).is_empty());
    assert!(stdout_of(&out).is_empty());

    // With good rows first, their batches are delivered; the bad one is not.
    wrk.create("late.csv", "a,b,c\n0,0,0\n1,2,\"x\n4,5,6\n");
    let out = wrk
        .run(["--from", "csv", "-n", "1", "--out-dir", "late", "late.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    assert!(stderr_of(&out).contains("late.csv: row 3: a quoted field opens here"));
    assert_eq!(
        files_in(&wrk.path("late")),
        [("batch-0001.csv".to_string(), "a,b,c\n0,0,0\n".to_string())]
    );

    // The record before the bad one keeps its CRLF ending.
    wrk.create("crlf.csv", "a,b\r\n0,0\r\n1,\"x\r\n2,3\r\n");
    let out = wrk
        .run(["--from", "csv", "-n", "1", "--out-dir", "crlf", "crlf.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    assert_eq!(wrk.read("crlf/batch-0001.csv"), "a,b\r\n0,0\r\n");
    assert_eq!(names_in(&wrk.path("crlf")), ["batch-0001.csv"]);

    // A tab delimiter is followed too; --exec runs nothing.
    wrk.create("in.tsv", "a\tb\n1\t\"x\n2\t3\n");
    let out = wrk
        .run([
            "--from",
            "csv",
            "-d",
            "\\t",
            "-n",
            "1",
            "--exec",
            "touch ran_$BATCH_INDEX",
            "in.tsv",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    assert!(stderr_of(&out).contains("in.tsv: row 2: a quoted field opens here"));
    assert!(!wrk.path("ran_1").exists());
    assert!(stdout_of(&out).is_empty());

    // A quote that closes at the very end, an escaped quote, and a quote
    // inside an unquoted field are all fine, after a BOM too.
    wrk.create("ok.csv", "\u{feff}\"a\",b\nx\"y,\"say \"\"hi\"\"\nthere\"");
    let out = wrk
        .run(["--from", "csv", "--exec", "cat > got", "ok.csv"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(wrk.read("got"), "\"a\",b\nx\"y,\"say \"\"hi\"\"\nthere\"");
}

#[test]
fn csv_array_makes_objects_of_strings() {
    let wrk = wd();
    wrk.create("in.csv", CSV);
    let out = wrk
        .run(["--from", "csv", "-n", "2", "--array", "in.csv"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        ndjson_values(&stdout_of(&out)),
        [
            json!([
                {"id": "1", "name": "Sam Sample", "notes": "line one\nline two"},
                {"id": "2", "name": "Al, Example", "notes": "plain"}
            ]),
            json!([{"id": "3", "name": "Cy Test", "notes": "say \"hi\""}]),
        ]
    );
    wrk.create("dup.csv", "a,a\n1,2\n");
    let out = wrk
        .run(["--from", "csv", "--array", "dup.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    assert!(stderr_of(&out).contains("dup.csv: row 1, column \"a\""));
    wrk.create("latin.csv", b"a,b\n1,caf\xe9\n");
    let out = wrk
        .run(["--from", "csv", "--array", "latin.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    assert!(stderr_of(&out).contains("latin.csv: row 2, column \"b\": not valid UTF-8"));
    // Copied batches keep the bytes, whatever the encoding.
    wrk.create("latin1.csv", b"caf\xe9,b\n1,caf\xe9\n");
    wrk.run(["--from", "csv", "--out-dir", "l", "latin1.csv"])
        .assert()
        .success();
    assert_eq!(
        fs::read(wrk.path("l/batch-0001.csv")).unwrap(),
        b"caf\xe9,b\n1,caf\xe9\n"
    );
    let out = wrk
        .run(["--from", "csv", "--array", "latin1.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    assert!(stderr_of(&out).contains("latin1.csv: row 1, column 1"));
}

#[test]
fn fixture_master_file_in_batches_of_one() {
    let wrk = wd();
    let path = wrk.fixture("masstesting/patient_appointments_master.csv");
    let input = fs::read_to_string(&path).unwrap();
    let rows = csv_rows(&input);
    let out = wrk
        .run([
            "--from",
            "csv",
            "-n",
            "1",
            "--out-dir",
            "o",
            "patient_appointments_master.csv",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let files = files_in(&wrk.path("o"));
    assert_eq!(files.len(), rows.len() - 1);
    for (i, (_, content)) in files.iter().enumerate() {
        assert_eq!(csv_rows(content), [rows[0].clone(), rows[i + 1].clone()]);
    }
}

// --- --array on stdout, mode choice, empty input ----------------------------------

#[test]
fn array_lines_on_stdout() {
    let wrk = wd();
    let out = wrk
        .run(["-n", "2", "--array"])
        .write_stdin("{\"a\":1}\n{\"b\":[1,2]}\n\n{\"c\":12345678901234567890}\n")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        stdout_of(&out),
        "[{\"a\":1},{\"b\":[1,2]}]\n[{\"c\":12345678901234567890}]\n"
    );
}

#[test]
fn wrap_puts_each_array_under_a_key() {
    let wrk = wd();
    // Records are 7 bytes; {"patient_data":[r,r]}\n is 20 + 15 = 35 bytes.
    let input = "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n";
    let out = wrk
        .run(["--array", "--wrap", "patient_data", "--max-bytes", "35"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        stdout_of(&out),
        "{\"patient_data\":[{\"a\":1},{\"a\":2}]}\n{\"patient_data\":[{\"a\":3}]}\n"
    );
    wrk.create("in.csv", "id\n1\n");
    wrk.run([
        "--from",
        "csv",
        "--array",
        "--wrap",
        "a \"key\"",
        "--exec",
        "cat > got",
        "in.csv",
    ])
    .assert()
    .success();
    assert_eq!(
        ndjson_values(&wrk.read("got")),
        [json!({"a \"key\"": [{"id": "1"}]})]
    );
    let out = wrk
        .run(["--wrap", "k", "--out-dir", "o"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
}

#[test]
fn array_checks_ndjson_lines_are_objects() {
    let wrk = wd();
    wrk.create("in.ndjson", "{\"a\":1}\n{\"name\": \"Jane Doe\"\n");
    let out = wrk.run(["--array", "in.ndjson"]).output().unwrap();
    assert_eq!(out.status.code(), Some(65));
    let stderr = stderr_of(&out);
    assert_one_line_without(&stderr, &["Jane"]);
    assert!(
        stderr.starts_with("batch-split: error: in.ndjson: line 2: not valid JSON"),
        "{stderr}"
    );
    wrk.create("arr.ndjson", "{\"a\":1}\n[\"Jane\"]\n");
    let out = wrk.run(["--array", "arr.ndjson"]).output().unwrap();
    assert_eq!(out.status.code(), Some(65));
    assert!(stderr_of(&out).contains("arr.ndjson: line 2: expected a JSON object"));
}

#[test]
fn ndjson_lines_are_checked_without_array_too() {
    let wrk = wd();
    let mut input = people(2);
    input.push_str("{\"id\":1,\"na\n");
    input.push_str(&people(2));
    wrk.create("in.ndjson", &input);
    let out = wrk
        .run(["-n", "1", "--out-dir", "o", "in.ndjson"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    let stderr = stderr_of(&out);
    assert_one_line_without(&stderr, &["\"na", "Sam"]);
    assert!(
        stderr.starts_with("batch-split: error: in.ndjson: line 3: not valid JSON at character"),
        "{stderr}"
    );
    // The batches before the bad line are delivered with receipts; none after it.
    assert_eq!(
        names_in(&wrk.path("o")),
        ["batch-0001.ndjson", "batch-0002.ndjson"]
    );
    assert_eq!(ndjson_values(&stdout_of(&out)).len(), 2);

    // Lines that are JSON but not objects; with --exec nothing runs.
    for (bad, what) in [
        ("[\"Jane\"]", "expected a JSON object"),
        ("\"Jane\"", "expected a JSON object"),
        ("42", "expected a JSON object"),
        ("{\"a\":1} {\"Jane\":2}", "not valid JSON at character"),
    ] {
        let stderr = wrk.fails_stdin(
            &["-n", "1", "--exec", "touch ran_$BATCH_INDEX"],
            format!("{{\"a\":1}}\n  \n{bad}\n"),
            65,
        );
        assert_one_line_without(&stderr, &["Jane"]);
        assert!(
            stderr.starts_with(&format!("batch-split: error: <stdin>: line 3: {what}")),
            "{stderr}"
        );
        assert!(!wrk.path("ran_1").exists());
    }
}

#[test]
fn ndjson_check_names_the_first_bad_line_and_commits_no_batch_after_it() {
    let wrk = wd();
    // Many small batches, committed in parallel: two bad lines, the first wins.
    let lines: Vec<String> = (1..=400)
        .map(|i| match i {
            61 => "{\"name\":\"Jane".to_string(),
            301 => "[]".to_string(),
            _ => format!("{{\"id\":{i}}}"),
        })
        .collect();
    wrk.create("in.ndjson", lines.join("\n") + "\n");
    for _ in 0..3 {
        let out = wrk
            .run(["-n", "2", "--out-dir", "o", "in.ndjson"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(65));
        assert!(
            stderr_of(&out).starts_with("batch-split: error: in.ndjson: line 61: not valid JSON"),
            "{}",
            stderr_of(&out)
        );
        let names = names_in(&wrk.path("o"));
        assert_eq!(names.len(), 30, "{names:?}");
        assert_eq!(names.last().unwrap(), "batch-0030.ndjson");
        assert_eq!(ndjson_values(&stdout_of(&out)).len(), 30);
        fs::remove_dir_all(wrk.path("o")).unwrap();
    }

    // One big batch, checked partly before it is handed over: no file at all.
    let big: String = (1..=20_000)
        .map(|i| {
            if i == 15_000 {
                "{\"name\":\"Jane\",}\n".to_string()
            } else {
                format!(
                    "{{\"id\":{i},\"name\":\"Sam Sample {i}\",\"notes\":\"{}\"}}\n",
                    "x".repeat(60)
                )
            }
        })
        .collect();
    wrk.create("big.ndjson", &big);
    let out = wrk
        .run(["-n", "100000", "--out-dir", "big", "big.ndjson"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    assert!(
        stderr_of(&out).starts_with("batch-split: error: big.ndjson: line 15000: not valid JSON")
    );
    assert!(names_in(&wrk.path("big")).is_empty());
    assert!(stdout_of(&out).is_empty());
    // Valid, it is one file equal to the input.
    wrk.create(
        "big.ndjson",
        big.replace("{\"name\":\"Jane\",}", "{\"name\":\"Jane\"}"),
    );
    let out = wrk
        .run(["-n", "100000", "--out-dir", "big", "big.ndjson"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(
        fs::read(wrk.path("big/batch-0001.ndjson")).unwrap(),
        fs::read(wrk.path("big.ndjson")).unwrap()
    );
}

#[test]
fn no_destination_is_a_usage_error() {
    let wrk = wd();
    let out = wrk
        .run(["-n", "2"])
        .write_stdin(people(2))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(out.stdout.is_empty());
    assert!(stderr_of(&out).contains("choose where batches go: --out-dir DIR, --array"));
    let out = wrk
        .run(["--out-dir", "o", "--exec", "cat"])
        .write_stdin(people(2))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
}

#[test]
fn empty_input_gives_no_batches_and_runs_nothing() {
    let wrk = wd();
    for (args, input) in [
        (vec!["--out-dir", "o"], ""),
        (vec!["--out-dir", "o"], "\n\n"),
        (vec!["--array"], ""),
        (vec!["--from", "csv", "--out-dir", "o"], ""),
        (vec!["--from", "csv", "--out-dir", "o"], "id,name\n"),
        (vec!["--exec", "touch ran"], ""),
        (vec!["--from", "csv", "--exec", "touch ran"], "id,name\n"),
    ] {
        let out = wrk.run(&args).write_stdin(input).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(out.stderr.is_empty(), "{args:?}");
        assert!(!wrk.path("ran").exists());
        if wrk.path("o").exists() {
            assert!(names_in(&wrk.path("o")).is_empty());
        }
    }
}

#[test]
fn missing_input_is_66() {
    let wrk = wd();
    let out = wrk.run(["--array", "nope.ndjson"]).output().unwrap();
    assert_eq!(out.status.code(), Some(66));
    assert!(stderr_of(&out).contains("nope.ndjson"));
}

#[test]
fn help_shows_the_flow_examples() {
    let wrk = wd();
    let out = wrk.run(["--help"]).output().unwrap();
    assert!(out.status.success());
    let help = stdout_of(&out);
    for text in [
        "--spool spool/",
        "--reject-code 69",
        "--from csv -n 1000 --out-dir out/",
    ] {
        assert!(help.contains(text), "{text}");
    }
}

// --- --exec ---------------------------------------------------------------------------

#[test]
fn exec_gives_each_batch_on_stdin_with_its_environment() {
    let wrk = wd();
    let out = wrk
        .run([
            "-n",
            "2",
            "--exec",
            "cat > got_$BATCH_INDEX; echo \"$BATCH_INDEX $BATCH_COUNT $BATCH_RECORDS $BATCH_NAME\" > env_$BATCH_INDEX; echo '{\"child\":'$BATCH_INDEX'}'",
        ])
        .write_stdin(people(5))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let all = people(5);
    let lines: Vec<&str> = all.split_inclusive('\n').collect();
    assert_eq!(wrk.read("got_1"), lines[0..2].concat());
    assert_eq!(wrk.read("got_2"), lines[2..4].concat());
    assert_eq!(wrk.read("got_3"), lines[4]);
    assert_eq!(wrk.read("env_1"), "1 3 2 batch-0001.ndjson\n");
    assert_eq!(wrk.read("env_3"), "3 3 1 batch-0003.ndjson\n");
    // The child's stdout comes first, then batch-split's receipt for that batch.
    let lines = ndjson_values(&stdout_of(&out));
    assert_eq!(lines.len(), 6);
    for (i, pair) in lines.chunks(2).enumerate() {
        assert_eq!(pair[0], json!({"child": i + 1}));
        let receipt = &pair[1];
        assert_eq!(receipt["target"], "exec");
        assert_eq!(receipt["status"], 0);
        assert_eq!(receipt["name"], format!("batch-{:04}.ndjson", i + 1));
        let got = wrk.read(&format!("got_{}", i + 1));
        assert_eq!(receipt["sha256"], sha256_hex(got.as_bytes()));
        assert_eq!(receipt["bytes"], got.len());
    }
}

#[test]
fn exec_with_array_and_csv() {
    let wrk = wd();
    wrk.create("in.csv", CSV);
    wrk.run([
        "--from",
        "csv",
        "-n",
        "2",
        "--exec",
        "cat > got_$BATCH_INDEX",
        "in.csv",
    ])
    .assert()
    .success();
    assert_eq!(
        csv_rows(&wrk.read("got_2")),
        [
            vec!["id", "name", "notes"],
            vec!["3", "Cy Test", "say \"hi\""]
        ]
    );
    wrk.run(["--array", "-n", "3", "--exec", "cat > arr_$BATCH_INDEX"])
        .write_stdin(people(4))
        .assert()
        .success();
    let first: Value = serde_json::from_str(&wrk.read("arr_1")).unwrap();
    assert_eq!(first.as_array().unwrap().len(), 3);
    assert_eq!(first[2]["id"], 3);
}

#[test]
fn exec_stops_at_first_failing_batch_with_its_code() {
    let wrk = wd();
    let out = wrk
        .run([
            "-n",
            "1",
            "--exec",
            "touch ran_$BATCH_INDEX; [ $BATCH_INDEX -ne 2 ] || exit 3",
        ])
        .write_stdin(people(3))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(wrk.path("ran_1").exists() && wrk.path("ran_2").exists());
    assert!(!wrk.path("ran_3").exists());
    let stderr = stderr_of(&out);
    assert_one_line_without(&stderr, &["Sam"]);
    assert!(
        stderr.contains("batch 2 of 3 (batch-0002.ndjson): the command exited with 3"),
        "{stderr}"
    );
    let statuses: Vec<i64> = ndjson_values(&stdout_of(&out))
        .iter()
        .map(|r| r["status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [0, 3]);
    // A shared code such as 75 passes through too.
    let out = wrk
        .run(["--exec", "exit 75"])
        .write_stdin(people(1))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(75));
}

#[test]
fn exec_spills_to_a_private_folder_that_is_removed_afterwards() {
    let wrk = wd();
    fs::create_dir(wrk.path("tmp")).unwrap();
    let record = "p=$(readlink /proc/self/fd/0); stat -c %a \"$p\" > file_mode; stat -c %a \"$(dirname \"$p\")\" > dir_mode";
    wrk.run(["--exec", record])
        .env("TMPDIR", wrk.path("tmp"))
        .write_stdin(people(2))
        .assert()
        .success();
    assert_eq!(wrk.read("file_mode"), "600\n");
    assert_eq!(wrk.read("dir_mode"), "700\n");
    assert!(names_in(&wrk.path("tmp")).is_empty());
    assert_eq!(fs::read_dir(wrk.path("tmp")).unwrap().count(), 0);
    // Also when a batch fails with a code of its own, and on bad input.
    let out = wrk
        .run(["--exec", "exit 3"])
        .env("TMPDIR", wrk.path("tmp"))
        .write_stdin(people(2))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let out = wrk
        .run(["--array", "--exec", "true"])
        .env("TMPDIR", wrk.path("tmp"))
        .write_stdin("{\"a\":1}\nnot json\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    assert_eq!(fs::read_dir(wrk.path("tmp")).unwrap().count(), 0);
}

#[test]
fn exec_shell_that_cannot_start_is_78_naming_the_command() {
    let wrk = wd();
    fs::create_dir(wrk.path("empty")).unwrap();
    let out = wrk
        .run(["-n", "1", "--exec", "cat > got"])
        .env("PATH", wrk.path("empty"))
        .write_stdin(people(2))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78));
    let stderr = stderr_of(&out);
    assert_one_line_without(&stderr, &["Sam"]);
    assert_eq!(
        stderr.trim_end(),
        "batch-split: error: cannot start sh (looked up on PATH) to run the --exec command 'cat > got': No such file or directory; batch 1 of 2 (batch-0001.ndjson) and those after it were not run"
    );
    assert!(stdout_of(&out).is_empty());
    assert!(!wrk.path("got").exists());
}

#[test]
fn exec_killed_by_a_signal_is_128_plus_the_signal() {
    let wrk = wd();
    let out = wrk
        .run(["--exec", "kill -TERM $$"])
        .write_stdin(people(1))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(143));
    assert_eq!(ndjson_values(&stdout_of(&out))[0]["status"], 143);
    assert!(
        stderr_of(&out).contains("batch 1 of 1 (batch-0001.ndjson): the command exited with 143")
    );
}

#[test]
fn keep_going_runs_every_batch_and_exits_with_the_first_failure() {
    let wrk = wd();
    let out = wrk
        .run([
            "-n",
            "1",
            "--keep-going",
            "--exec",
            "touch ran_$BATCH_INDEX; exit $((BATCH_INDEX * 2 - 2))",
        ])
        .write_stdin(people(3))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    for i in 1..=3 {
        assert!(wrk.path(&format!("ran_{i}")).exists());
    }
    let statuses: Vec<i64> = ndjson_values(&stdout_of(&out))
        .iter()
        .map(|r| r["status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [0, 2, 4]);
    let stderr = stderr_of(&out);
    assert_eq!(stderr.lines().count(), 3, "{stderr}");
    assert!(
        stderr.contains(
            "2 of 3 batches failed; the first, batch 2 (batch-0002.ndjson), exited with 2"
        )
    );
    let out = wrk
        .run(["--keep-going", "--array"])
        .write_stdin(people(1))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
}

#[test]
fn exec_reads_all_input_first_so_bad_input_runs_nothing() {
    let wrk = wd();
    let mut input = people(4);
    input.push_str("{\"name\":\"Jane\"\n");
    let out = wrk
        .run(["-n", "1", "--array", "--exec", "touch ran_$BATCH_INDEX"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    assert!(stderr_of(&out).contains("<stdin>: line 5"));
    assert!(!wrk.path("ran_1").exists());
}

#[test]
fn exec_big_batches_do_not_stall_whether_or_not_the_command_reads() {
    let wrk = wd();
    let big = people(60_000);
    wrk.run(["-n", "50000", "--exec", "true"])
        .write_stdin(big.clone())
        .timeout(Duration::from_secs(60))
        .assert()
        .success();
    wrk.run(["-n", "50000", "--exec", "cat > got_$BATCH_INDEX"])
        .write_stdin(big.clone())
        .timeout(Duration::from_secs(60))
        .assert()
        .success();
    assert_eq!(wrk.read("got_1") + &wrk.read("got_2"), big);
}

// --- receipts to a closed stdout ----------------------------------------------

/// Waits in a shell until the file `closed` exists.
const UNTIL_CLOSED: &str = "while [ ! -e closed ]; do sleep 0.01; done";

/// Run batch-split with stdout into a pipe whose reader goes away, as in
/// `batch-split ... | head -1`: the reader closes the pipe, then creates
/// `closed`. With `late`, batch-split starts only after that. Returns the
/// exit code and stderr.
fn into_closed_pipe(wrk: &Workdir, args: &[&str], late: bool) -> (i32, String) {
    let wait = if late { UNTIL_CLOSED } else { ":" };
    let script =
        format!("{{ {wait}; \"$BS\" \"$@\"; echo $? > rc; }} 2> err | (exec 0<&-; touch closed)");
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("sh")
        .args(args)
        .current_dir(wrk.root())
        .env("BS", env!("CARGO_BIN_EXE_batch-split"))
        .status()
        .unwrap();
    assert!(status.success());
    (wrk.read("rc").trim().parse().unwrap(), wrk.read("err"))
}

#[test]
fn exec_receipt_to_a_closed_stdout_is_74_and_stops() {
    let wrk = wd();
    wrk.create("in.ndjson", people(3));
    let command = format!("touch ran_$BATCH_INDEX; {UNTIL_CLOSED}");
    let (code, stderr) =
        into_closed_pipe(&wrk, &["-n", "1", "--exec", &command, "in.ndjson"], false);
    assert_eq!(code, 74, "{stderr}");
    assert_one_line_without(&stderr, &["Sam"]);
    assert_eq!(
        stderr.trim_end(),
        "batch-split: error: writing receipts to <stdout>: Broken pipe; batch 1 of 3 (batch-0001.ndjson) ran and the command exited with 0, but its receipt was not written; 2 later batches were not run"
    );
    assert!(wrk.path("ran_1").exists());
    assert!(!wrk.path("ran_2").exists());

    // --keep-going does not go on without an audit trail.
    fs::remove_file(wrk.path("closed")).unwrap();
    let command = format!("touch kept_$BATCH_INDEX; {UNTIL_CLOSED}; exit 3");
    let (code, stderr) = into_closed_pipe(
        &wrk,
        &["-n", "1", "--keep-going", "--exec", &command, "in.ndjson"],
        false,
    );
    assert_eq!(code, 74, "{stderr}");
    assert!(stderr.contains("ran and the command exited with 3, but its receipt was not written"));
    assert!(!wrk.path("kept_2").exists());
}

#[test]
fn spool_moves_sent_files_before_a_receipt_that_cannot_be_written() {
    let wrk = wd();
    event(&wrk, "a.json", "{\"x\":1}", 30);
    event(&wrk, "b.json", "{\"x\":2}", 20);
    let command = format!("cat >> got; {UNTIL_CLOSED}");
    let (code, stderr) = into_closed_pipe(
        &wrk,
        &["--spool", "spool", "-n", "1", "--all", "--exec", &command],
        false,
    );
    assert_eq!(code, 74, "{stderr}");
    // The batch that ran is in sent/, so it is not sent again; the next stays queued.
    assert_eq!(names_in(&wrk.path("spool/sent")), ["a.json"]);
    assert_eq!(queued_in(&wrk.path("spool")), ["b.json"]);
    assert_eq!(wrk.read("got"), "{\"x\":1}\n");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert_eq!(lines[0], "batch-split: spool: 1 sent, 1 left in the spool");
    assert_eq!(
        lines[1],
        "batch-split: error: writing receipts to <stdout>: Broken pipe; batch 1 of 2 (batch-0001.ndjson) ran and the command exited with 0, its files are in spool/sent, but its receipt was not written; 1 later batch was not run; their files stay in the spool"
    );
}

#[test]
fn out_dir_receipts_to_a_closed_stdout_are_74_naming_the_batches_without_one() {
    let wrk = wd();
    wrk.create("in.ndjson", people(200));
    let (code, stderr) = into_closed_pipe(&wrk, &["-n", "2", "--out-dir", "o", "in.ndjson"], true);
    assert_eq!(code, 74, "{stderr}");
    assert_one_line_without(&stderr, &["Sam"]);
    // Every file written is named as having no receipt; none is half-written.
    let written = names_in(&wrk.path("o"));
    assert!(!written.is_empty());
    let expected = if written.len() == 1 {
        "batch 1 is".to_string()
    } else {
        format!("batches 1 to {} are", written.len())
    };
    assert_eq!(
        stderr.trim_end(),
        format!(
            "batch-split: error: writing receipts to <stdout>: Broken pipe; {expected} in o without a receipt; stopped before the end of the input"
        )
    );
    assert_eq!(
        written.last().unwrap(),
        &format!("batch-{:04}.ndjson", written.len())
    );

    // --array alone writes plain output: a closed pipe ends it quietly.
    let (code, stderr) = into_closed_pipe(&wrk, &["-n", "2", "--array", "in.ndjson"], true);
    assert_eq!((code, stderr.as_str()), (0, ""));
}

// --- --spool -------------------------------------------------------------------------

/// A spool event file with a given age, so that "oldest first" is testable.
fn event(wrk: &Workdir, name: &str, content: &str, age_secs: u64) {
    let path = wrk.create(&format!("spool/{name}"), content);
    let time = SystemTime::now() - Duration::from_secs(age_secs);
    fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(time)
        .unwrap();
}

#[test]
fn spool_sends_oldest_first_and_moves_to_sent_on_success() {
    let wrk = wd();
    // Name order is the reverse of age order.
    event(&wrk, "a.json", "{\"Result_ID\": \"r-3\"}", 10);
    event(
        &wrk,
        "b.json",
        "{\n  \"Result_ID\": \"r-2\",\n  \"n\": 1.50\n}\n",
        20,
    );
    event(&wrk, "c.json", "{\"Result_ID\":\"r-1\"}", 30);
    let out = wrk
        .run([
            "--spool",
            "spool",
            "--exec",
            "cat > got; echo \"$BATCH_INDEX $BATCH_COUNT $BATCH_RECORDS\" > env",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(
        wrk.read("got"),
        "{\"Result_ID\":\"r-1\"}\n{\"Result_ID\":\"r-2\",\"n\":1.50}\n{\"Result_ID\":\"r-3\"}\n"
    );
    assert_eq!(wrk.read("env"), "1 1 3\n");
    assert!(queued_in(&wrk.path("spool")).is_empty());
    assert_eq!(
        names_in(&wrk.path("spool/sent")),
        ["a.json", "b.json", "c.json"]
    );
    assert_eq!(mode_of(&wrk.path("spool/sent")), 0o700);
    // The files are moved unchanged.
    assert_eq!(wrk.read("spool/sent/a.json"), "{\"Result_ID\": \"r-3\"}");
    let receipts = ndjson_values(&stdout_of(&out));
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0]["records"], 3);
    assert_eq!(receipts[0]["status"], 0);
    assert_eq!(
        receipts[0]["sha256"],
        sha256_hex(wrk.read("got").as_bytes())
    );
    assert_eq!(stderr_of(&out), "batch-split: spool: 3 sent\n");
}

#[test]
fn spool_takes_size_files_per_run_and_all_keeps_going() {
    let wrk = wd();
    for i in 1..=5 {
        event(
            &wrk,
            &format!("e{i}.json"),
            &format!("{{\"i\":{i}}}"),
            100 - i,
        );
    }
    wrk.run(["--spool", "spool", "-n", "2", "--exec", "cat > got"])
        .assert()
        .success();
    assert_eq!(wrk.read("got"), "{\"i\":1}\n{\"i\":2}\n");
    assert_eq!(
        queued_in(&wrk.path("spool")),
        ["e3.json", "e4.json", "e5.json"]
    );
    let out = wrk
        .run([
            "--spool",
            "spool",
            "--size",
            "2",
            "--all",
            "--array",
            "--exec",
            "cat > got_$BATCH_INDEX; echo $BATCH_COUNT > count",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(wrk.read("got_1"), "[{\"i\":3},{\"i\":4}]\n");
    assert_eq!(wrk.read("got_2"), "[{\"i\":5}]\n");
    event(&wrk, "f.json", "{\"i\":6}", 1);
    wrk.run([
        "--spool",
        "spool",
        "--array",
        "--wrap",
        "events",
        "--exec",
        "cat > wrapped",
    ])
    .assert()
    .success();
    assert_eq!(wrk.read("wrapped"), "{\"events\":[{\"i\":6}]}\n");
    assert_eq!(wrk.read("count"), "2\n");
    assert_eq!(ndjson_values(&stdout_of(&out)).len(), 2);
    assert_eq!(names_in(&wrk.path("spool/sent")).len(), 6);
}

#[test]
fn spool_max_bytes_limits_the_batch() {
    let wrk = wd();
    for i in 1..=3 {
        event(
            &wrk,
            &format!("e{i}.json"),
            &format!("{{\"i\":{i}}}"),
            100 - i,
        );
    }
    // Each line is 8 bytes.
    wrk.run([
        "--spool",
        "spool",
        "--max-bytes",
        "16",
        "--exec",
        "cat > got",
    ])
    .assert()
    .success();
    assert_eq!(wrk.read("got"), "{\"i\":1}\n{\"i\":2}\n");
    assert_eq!(queued_in(&wrk.path("spool")), ["e3.json"]);
}

#[test]
fn spool_reject_code_moves_the_batch_to_error_and_exits_with_it() {
    let wrk = wd();
    event(&wrk, "a.json", "{\"x\":1}", 20);
    event(&wrk, "b.json", "{\"x\":2}", 10);
    let out = wrk
        .run([
            "--spool",
            "spool",
            "--reject-code",
            "69",
            "--reject-code",
            "65",
            "--exec",
            "exit 69",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(69));
    assert_eq!(names_in(&wrk.path("spool/error")), ["a.json", "b.json"]);
    assert!(!wrk.path("spool/sent").exists());
    let stderr = stderr_of(&out);
    assert!(stderr.contains("spool: 2 rejected into error/"), "{stderr}");
    assert!(
        stderr.contains("batch 1 of 1 (batch-0001.ndjson) was rejected"),
        "{stderr}"
    );
    assert_eq!(ndjson_values(&stdout_of(&out))[0]["status"], 69);
}

#[test]
fn spool_other_failures_leave_files_in_place_and_pass_the_code() {
    let wrk = wd();
    event(&wrk, "a.json", "{\"x\":1}", 20);
    event(&wrk, "b.json", "{\"x\":2}", 10);
    for code in ["75", "1"] {
        let out = wrk
            .run([
                "--spool",
                "spool",
                "--reject-code",
                "69",
                "--exec",
                &format!("exit {code}"),
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code.parse().unwrap()));
        assert_eq!(queued_in(&wrk.path("spool")), ["a.json", "b.json"]);
        assert!(stderr_of(&out).contains("2 left in the spool"));
        assert!(stderr_of(&out).contains("stay in the spool for the next run"));
    }
    assert!(!wrk.path("spool/sent").exists() && !wrk.path("spool/error").exists());
}

#[test]
fn spool_all_stops_at_a_failure_and_keeps_later_files() {
    let wrk = wd();
    for i in 1..=3 {
        event(
            &wrk,
            &format!("e{i}.json"),
            &format!("{{\"i\":{i}}}"),
            100 - i,
        );
    }
    let out = wrk
        .run([
            "--spool",
            "spool",
            "-n",
            "1",
            "--all",
            "--exec",
            "[ $BATCH_INDEX -ne 2 ] || exit 75",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(75));
    assert_eq!(names_in(&wrk.path("spool/sent")), ["e1.json"]);
    assert_eq!(queued_in(&wrk.path("spool")), ["e2.json", "e3.json"]);
    assert!(stderr_of(&out).contains("1 sent, 2 left in the spool"));
}

#[test]
fn spool_invalid_files_are_set_aside_without_blocking_the_batch() {
    let wrk = wd();
    event(&wrk, "a.json", "{\"x\":1}", 40);
    event(&wrk, "b.json", "{\"name\": \"Jane Doe\", ", 30);
    event(&wrk, "c.json", "[\"Jane Doe\"]", 20);
    event(&wrk, "d.json", "{\"x\":2}", 10);
    let out = wrk
        .run(["--spool", "spool", "-n", "2", "--exec", "cat > got"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(wrk.read("got"), "{\"x\":1}\n{\"x\":2}\n");
    assert_eq!(names_in(&wrk.path("spool/error")), ["b.json", "c.json"]);
    assert_eq!(names_in(&wrk.path("spool/sent")), ["a.json", "d.json"]);
    assert_eq!(wrk.read("spool/error/b.json"), "{\"name\": \"Jane Doe\", ");
    let stderr = stderr_of(&out);
    assert!(!stderr.contains("Jane"), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    assert!(lines[0].starts_with("batch-split: warning: spool/b.json: line 1: not valid JSON"));
    assert!(lines[0].ends_with("set aside as spool/error/b.json"));
    assert!(lines[1].starts_with("batch-split: warning: spool/c.json: expected one JSON object"));
    assert_eq!(
        lines[2],
        "batch-split: spool: 2 sent, 2 set aside as invalid"
    );
}

#[test]
fn spool_file_with_a_bom_is_read() {
    let wrk = wd();
    event(&wrk, "a.json", "\u{feff}{\"x\": 1}\r\n", 20);
    event(&wrk, "b.json", "{\"x\":2}", 10);
    let out = wrk
        .run(["--spool", "spool", "--exec", "cat > got"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(wrk.read("got"), "{\"x\":1}\n{\"x\":2}\n");
    assert_eq!(names_in(&wrk.path("spool/sent")), ["a.json", "b.json"]);
    assert!(!wrk.path("spool/error").exists());
    assert_eq!(stderr_of(&out), "batch-split: spool: 2 sent\n");
}

#[test]
fn spool_invalid_file_changed_within_settle_seconds_is_left_in_place() {
    let wrk = wd();
    event(&wrk, "a.json", "{\"x\":1}", 30);
    // Still being written by its producer, perhaps.
    event(&wrk, "b.json", "{\"name\": \"Jane", 0);
    let out = wrk
        .run(["--spool", "spool", "--exec", "cat > got"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(wrk.read("got"), "{\"x\":1}\n");
    assert_eq!(queued_in(&wrk.path("spool")), ["b.json"]);
    assert!(!wrk.path("spool/error").exists());
    let stderr = stderr_of(&out);
    assert!(!stderr.contains("Jane"), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(lines[0].starts_with("batch-split: warning: spool/b.json: line 1: not valid JSON"));
    assert!(
        lines[0].ends_with(
            "; changed less than 10 seconds ago (--settle), so it may still be being written: left in the spool"
        ),
        "{stderr}"
    );
    assert_eq!(lines[1], "batch-split: spool: 1 sent, 1 left in the spool");

    // Older than --settle, it is set aside; --settle 0 sets it aside at once.
    let out = wrk
        .run(["--spool", "spool", "--settle", "0", "--exec", "cat > got"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(names_in(&wrk.path("spool/error")), ["b.json"]);
    assert!(queued_in(&wrk.path("spool")).is_empty());
    assert!(stderr_of(&out).ends_with("batch-split: spool: 1 set aside as invalid\n"));
    event(&wrk, "c.json", "[", 5);
    wrk.run(["--spool", "spool", "--settle", "3", "--exec", "cat > got"])
        .assert()
        .success();
    assert_eq!(names_in(&wrk.path("spool/error")), ["b.json", "c.json"]);

    let out = wrk
        .run(["--settle", "5", "--exec", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
}

#[test]
fn spool_files_of_the_same_age_go_by_name() {
    let wrk = wd();
    for name in ["c.json", "a.json", "b.json"] {
        event(&wrk, name, &format!("{{\"f\":\"{name}\"}}"), 0);
    }
    let same = SystemTime::now() - Duration::from_secs(5);
    for name in ["a.json", "b.json", "c.json"] {
        fs::File::options()
            .write(true)
            .open(wrk.path(&format!("spool/{name}")))
            .unwrap()
            .set_modified(same)
            .unwrap();
    }
    wrk.run(["--spool", "spool", "--exec", "cat > got"])
        .assert()
        .success();
    assert_eq!(
        wrk.read("got"),
        "{\"f\":\"a.json\"}\n{\"f\":\"b.json\"}\n{\"f\":\"c.json\"}\n"
    );
}

#[test]
fn spool_ignores_dot_files_temp_files_and_folders() {
    let wrk = wd();
    event(&wrk, "a.json", "{\"x\":1}", 10);
    wrk.create("spool/.hidden.json", "{\"x\":2}");
    wrk.create("spool/b.json.tmp", "{\"x\":");
    wrk.create("spool/c.json.part", "{\"x\":");
    wrk.create("spool/sub/d.json", "{\"x\":4}");
    wrk.run(["--spool", "spool", "--exec", "cat > got"])
        .assert()
        .success();
    assert_eq!(wrk.read("got"), "{\"x\":1}\n");
    assert_eq!(
        queued_in(&wrk.path("spool")),
        [".hidden.json", "b.json.tmp", "c.json.part"]
    );
    assert!(wrk.path("spool/sub/d.json").exists());
    assert!(!wrk.path("spool/error").exists());
}

#[test]
fn spool_entries_that_are_not_regular_files_are_left_with_a_warning() {
    let wrk = wd();
    event(&wrk, "a.json", "{\"x\":1}", 40);
    fs::create_dir_all(wrk.path("spool")).unwrap();
    std::os::unix::fs::symlink("missing.json", wrk.path("spool/b.json")).unwrap();
    std::os::unix::fs::symlink("a.json", wrk.path("spool/b2.json")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(wrk.path("spool/c.json"))
        .status()
        .unwrap();
    assert!(fifo.success());
    event(&wrk, "d.json", "{\"x\":2}", 10);
    let out = wrk
        .run(["--spool", "spool", "--exec", "cat > got"])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(wrk.read("got"), "{\"x\":1}\n{\"x\":2}\n");
    assert_eq!(names_in(&wrk.path("spool/sent")), ["a.json", "d.json"]);
    for left in ["b.json", "b2.json", "c.json"] {
        assert!(fs::symlink_metadata(wrk.path(&format!("spool/{left}"))).is_ok());
    }
    assert_eq!(
        stderr_of(&out),
        "batch-split: warning: spool/b.json: not a regular file (a symbolic link); left in the spool\n\
         batch-split: warning: spool/b2.json: not a regular file (a symbolic link); left in the spool\n\
         batch-split: warning: spool/c.json: not a regular file (a named pipe); left in the spool\n\
         batch-split: spool: 2 sent, 3 left in the spool\n"
    );
}

#[test]
fn spool_file_that_cannot_be_read_does_not_block_the_queue() {
    use std::os::unix::fs::PermissionsExt;
    let wrk = wd();
    event(&wrk, "a.json", "{\"x\":1}", 40);
    event(&wrk, "b.json", "{\"name\":\"Jane\"}", 30);
    event(&wrk, "c.json", "{\"x\":2}", 20);
    fs::set_permissions(wrk.path("spool/b.json"), fs::Permissions::from_mode(0o000)).unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_batch-split"));
    if fs::read(wrk.path("spool/b.json")).is_ok() {
        // Permissions do not stop this user (root): run as nobody instead.
        for dir in [wrk.root().to_path_buf(), wrk.path("spool")] {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o777)).unwrap();
        }
        command = std::process::Command::new("setpriv");
        command.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]);
        command.arg(env!("CARGO_BIN_EXE_batch-split"));
    }
    let out = command
        .args(["--spool", "spool", "--exec", "cat > got"])
        .current_dir(wrk.root())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(wrk.read("got"), "{\"x\":1}\n{\"x\":2}\n");
    assert_eq!(queued_in(&wrk.path("spool")), ["b.json"]);
    assert_eq!(
        stderr_of(&out),
        "batch-split: warning: spool/b.json: cannot read: Permission denied; left in the spool\n\
         batch-split: spool: 2 sent, 1 left in the spool\n"
    );
}

#[test]
fn spool_name_clash_in_sent_gets_a_suffix() {
    let wrk = wd();
    wrk.create("spool/sent/a.json", "earlier");
    wrk.create("spool/sent/a.1.json", "earlier too");
    event(&wrk, "a.json", "{\"x\":1}", 10);
    wrk.run(["--spool", "spool", "--exec", "cat >/dev/null"])
        .assert()
        .success();
    assert_eq!(wrk.read("spool/sent/a.json"), "earlier");
    assert_eq!(wrk.read("spool/sent/a.1.json"), "earlier too");
    assert_eq!(wrk.read("spool/sent/a.2.json"), "{\"x\":1}");
}

#[test]
fn empty_spool_exits_0_and_says_so() {
    let wrk = wd();
    fs::create_dir(wrk.path("spool")).unwrap();
    let out = wrk
        .run(["--spool", "spool", "--exec", "touch ran"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    assert_eq!(
        stderr_of(&out),
        "batch-split: spool spool is empty; nothing to send\n"
    );
    assert!(!wrk.path("ran").exists());
}

#[test]
fn spool_usage_and_missing_folder() {
    let wrk = wd();
    let out = wrk
        .run(["--spool", "nowhere", "--exec", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(66));
    assert!(stderr_of(&out).contains("nowhere"));
    fs::create_dir(wrk.path("spool")).unwrap();
    for args in [
        vec!["--spool", "spool"],
        vec!["--spool", "spool", "--exec", "true", "--from", "csv"],
        vec!["--spool", "spool", "--exec", "true", "--out-dir", "o"],
        vec!["--spool", "spool", "--exec", "true", "in.ndjson"],
        vec!["--spool", "spool", "--exec", "true", "--keep-going"],
        vec!["--exec", "true", "--reject-code", "69"],
        vec!["--exec", "true", "--all"],
        vec!["--spool", "spool", "--exec", "true", "--reject-code", "0"],
    ] {
        let out = wrk.run(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(64), "{args:?}");
    }
}

#[test]
fn spool_lock_makes_a_second_run_exit_75() {
    let wrk = wd();
    event(&wrk, "a.json", "{\"x\":1}", 10);
    let mut first = std::process::Command::new(env!("CARGO_BIN_EXE_batch-split"))
        .current_dir(wrk.root())
        .args(["--spool", "spool", "--exec", "touch started; sleep 2"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !wrk.path("started").exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "first run never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = wrk
        .run(["--spool", "spool", "--exec", "touch second"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(75));
    assert_one_line_without(&stderr_of(&out), &[]);
    assert!(stderr_of(&out).contains("locked"));
    assert!(!wrk.path("second").exists());
    assert!(first.wait().unwrap().success());
    assert_eq!(names_in(&wrk.path("spool/sent")), ["a.json"]);
}

// --- property: batches put back together are the input ----------------------------

/// Up to 11 characters that stress CSV and JSON quoting.
fn random_text(rng: &mut Rng) -> String {
    rng.text_of(&["a", "Z", " ", ",", "\"", "\n", "é", "1", ";", "{"], 12)
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) || text.is_empty() {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Check the files named by the receipts against the limits, and return
/// their contents in order.
fn batches_from_receipts(wrk: &Workdir, dir: &str, stdout: &str) -> Vec<(String, u64)> {
    ndjson_values(stdout)
        .iter()
        .map(|r| {
            let content =
                fs::read_to_string(wrk.path(dir).join(r["name"].as_str().unwrap())).unwrap();
            assert_eq!(r["sha256"], sha256_hex(content.as_bytes()));
            (content, r["records"].as_u64().unwrap())
        })
        .collect()
}

#[test]
fn property_batches_concatenate_to_the_input() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for case in 0..24 {
        let wrk = wd();
        let size = 1 + rng.below(7) as u64;
        let max_bytes = if rng.below(2) == 0 {
            None
        } else {
            Some(40 + rng.below(200) as u64)
        };
        let mut args = vec![
            "-n".to_string(),
            size.to_string(),
            "--out-dir".into(),
            "o".into(),
        ];
        if let Some(max) = max_bytes {
            args.extend(["--max-bytes".to_string(), max.to_string()]);
        }
        let records = rng.below(30);
        let csv = case % 2 == 1;
        let (input, header) = if csv {
            let eol = if rng.below(2) == 0 { "\n" } else { "\r\n" };
            let header = format!("id,text,more{eol}");
            let mut input = header.clone();
            for i in 0..records {
                input.push_str(&format!(
                    "{i},{},{}{eol}",
                    csv_field(&random_text(&mut rng)),
                    csv_field(&random_text(&mut rng))
                ));
            }
            args.extend(["--from".to_string(), "csv".into()]);
            (input, header)
        } else {
            let input: String = (0..records)
                .map(|i| format!("{}\n", json!({"id": i, "text": random_text(&mut rng)})))
                .collect();
            (input, String::new())
        };
        wrk.create("in", &input);
        args.push("in".into());
        let out = wrk.run(&args).output().unwrap();
        assert!(out.status.success(), "case {case}: {}", stderr_of(&out));
        let batches = batches_from_receipts(&wrk, "o", &stdout_of(&out));
        let mut joined = header.clone();
        let mut total = 0;
        for (content, count) in &batches {
            assert!(content.starts_with(&header), "case {case}");
            assert!(*count >= 1 && *count <= size, "case {case}");
            if let Some(max) = max_bytes
                && *count > 1
            {
                assert!(
                    content.len() as u64 <= max,
                    "case {case}: {} > {max}",
                    content.len()
                );
            }
            joined.push_str(&content[header.len()..]);
            total += count;
        }
        if records == 0 {
            assert!(batches.is_empty());
            continue;
        }
        assert_eq!(joined, input, "case {case}: {args:?}");
        assert_eq!(total, records as u64, "case {case}");
        // Greedy: a batch closes only when the next record would not fit.
        for pair in batches.windows(2) {
            let (content, count) = &pair[0];
            if *count < size {
                let next_record_len = {
                    let next = &pair[1].0[header.len()..];
                    if csv {
                        // First record of the next batch: up to its own line end outside quotes.
                        let mut quoted = false;
                        let mut end = next.len();
                        for (i, c) in next.char_indices() {
                            match c {
                                '"' => quoted = !quoted,
                                '\n' if !quoted => {
                                    end = i + 1;
                                    break;
                                }
                                _ => {}
                            }
                        }
                        end
                    } else {
                        next.find('\n').unwrap() + 1
                    }
                };
                let max = max_bytes.unwrap();
                assert!(
                    content.len() + next_record_len > max as usize,
                    "case {case}: batch closed early"
                );
            }
        }
    }
}

#[test]
fn property_array_batches_hold_every_record_in_order() {
    let mut rng = Rng(0x0ddb_a11c_0ffe_e002);
    for case in 0..12 {
        let wrk = wd();
        let records: Vec<Value> = (0..rng.below(40))
            .map(|i| json!({"id": i, "text": random_text(&mut rng)}))
            .collect();
        let input: String = records.iter().map(|r| format!("{r}\n")).collect();
        let size = 1 + rng.below(9) as u64;
        let max = 30 + rng.below(300) as u64;
        let out = wrk
            .run([
                "--array",
                "-n",
                &size.to_string(),
                "--max-bytes",
                &max.to_string(),
            ])
            .write_stdin(input)
            .output()
            .unwrap();
        assert!(out.status.success(), "case {case}");
        let text = stdout_of(&out);
        let mut seen = Vec::new();
        for line in text.split_inclusive('\n') {
            let batch: Vec<Value> = serde_json::from_str(line).unwrap();
            assert!(!batch.is_empty() && batch.len() as u64 <= size);
            assert!(batch.len() == 1 || line.len() as u64 <= max, "case {case}");
            seen.extend(batch);
        }
        assert_eq!(seen, records, "case {case}");
    }
}
