#![allow(clippy::unwrap_used)]
//! csv-shape through its binary. All data here is invented.

use common::testing::{
    Rng, Workdir, assert_one_line_without, csv_rows, mode_of, ndjson_values, stderr_of,
};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_csv-shape");

fn wrk() -> Workdir {
    Workdir::new(BIN)
}

/// Run and expect a usage error (64) from flag parsing.
fn usage(w: &Workdir, args: &[&str]) {
    let out = w.run(args).output().unwrap();
    assert_eq!(out.status.code(), Some(64), "{args:?}: {}", stderr_of(&out));
}

fn rows(text: &str) -> Vec<Vec<String>> {
    csv_rows(text)
}

fn row(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------- fixtures

fn fixture_rows(name: &str) -> Vec<Vec<String>> {
    let bytes = std::fs::read(
        common::testing::fixtures_dir()
            .join("masstesting")
            .join(name),
    )
    .unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    rows(text)
}

const FIXTURES: [&str; 6] = [
    "Business_Request_Template.csv",
    "New_Appointment_Template.csv",
    "Retest_Template.csv",
    "patient_appointments.csv",
    "patient_appointments_master.csv",
    "patients_form_print.csv",
];

#[test]
fn every_fixture_round_trips_as_csv_and_through_ndjson() {
    let w = wrk();
    for name in FIXTURES {
        w.fixture(&format!("masstesting/{name}"));
        let expected = fixture_rows(name);
        let out = w.ok(&[name]);
        assert!(!out.contains('\r'), "{name}: output has CR");
        assert!(out.ends_with('\n'), "{name}: output lacks a final newline");
        assert_eq!(rows(&out), expected, "{name}");

        let ndjson = w.ok(&["--to", "ndjson", name]);
        let values = ndjson_values(&ndjson);
        assert_eq!(values.len(), expected.len() - 1, "{name}");
        w.create("x.ndjson", &ndjson);
        let back = w.ok(&["--from", "ndjson", "x.ndjson"]);
        assert_eq!(rows(&back), expected, "{name} via NDJSON");
    }
}

#[test]
fn bom_is_stripped_from_the_first_header() {
    let w = wrk();
    w.fixture("masstesting/New_Appointment_Template.csv");
    w.fixture("masstesting/Retest_Template.csv");
    let out = w.ok(&[
        "--select",
        "appt_date,business_code",
        "--skip-empty-rows",
        "New_Appointment_Template.csv",
    ]);
    assert_eq!(
        rows(&out),
        vec![
            row(&["appt_date", "business_code"]),
            row(&["5/1/20", "123456DT"])
        ]
    );
    // No final newline in this one; both records are there.
    let out = w.ok(&["--select", "first_name,appt_type", "Retest_Template.csv"]);
    assert_eq!(
        rows(&out),
        vec![
            row(&["first_name", "appt_type"]),
            row(&["Jane", "new"]),
            row(&["John", "reschedule"])
        ]
    );
    let ndjson = w.ok(&["--to", "ndjson", "Retest_Template.csv"]);
    assert_eq!(ndjson_values(&ndjson)[0]["first_name"], json!("Jane"));
}

#[test]
fn bom_before_a_quoted_header_is_stripped() {
    let w = wrk();
    let out = w.ok_stdin(
        &["--select", "first name"],
        b"\xEF\xBB\xBF\"first name\",b\r\nAda,1\r\n",
    );
    assert_eq!(rows(&out), vec![row(&["first name"]), row(&["Ada"])]);
}

#[test]
fn business_template_trailing_empty_rows_are_skipped() {
    let w = wrk();
    w.fixture("masstesting/Business_Request_Template.csv");
    let all = w.ok(&["Business_Request_Template.csv"]);
    assert_eq!(rows(&all).len(), 18);
    let out = w.ok(&[
        "--skip-empty-rows",
        "--require",
        "business_code,hash",
        "Business_Request_Template.csv",
    ]);
    let got = rows(&out);
    assert_eq!(got.len(), 2);
    assert_eq!(got[1][4], "836799PA");
    assert_eq!(got[1][15], "816783PA");
}

#[test]
fn quoted_header_with_a_space_is_selectable() {
    let w = wrk();
    w.fixture("masstesting/patient_appointments.csv");
    let out = w.ok(&["--select", "Patient Type,name", "patient_appointments.csv"]);
    assert_eq!(
        rows(&out),
        vec![
            row(&["Patient Type", "name"]),
            row(&["Critical Infrastructure Employee", "Doe, Jane"]),
            row(&["General Public", "Doe, John"]),
        ]
    );
    assert!(out.contains("\"Doe, Jane\""));
}

#[test]
fn master_file_columns_file_layout_with_row_number_and_add_empty() {
    let w = wrk();
    w.fixture("masstesting/patient_appointments_master.csv");
    let layout = fixture_rows("patient_appointments_master.csv")[0].clone();
    // The "database" lacks car_number and two layout columns.
    let dropped = ["car_number", "county", "middle_initial"];
    let keep: Vec<&str> = layout
        .iter()
        .map(String::as_str)
        .filter(|c| !dropped.contains(c))
        .collect();
    let source = w.ok(&[
        "--select",
        &keep.join(","),
        "patient_appointments_master.csv",
    ]);
    w.create("db.csv", source);
    let mut columns = String::from("# master layout\n\n");
    for c in &layout {
        columns.push_str(&format!("  {c}\n"));
    }
    w.create("master_columns.txt", columns);
    let out = w.ok(&[
        "--columns-file",
        "master_columns.txt",
        "--row-number",
        "car_number",
        "--add-empty",
        "county,middle_initial",
        "db.csv",
    ]);
    assert_eq!(rows(&out), fixture_rows("patient_appointments_master.csv"));
}

// ---------------------------------------------------------------- input

#[test]
fn stdin_by_dash_or_no_argument() {
    let w = wrk();
    let input = b"a,b\n1,2\n";
    assert_eq!(
        rows(&w.ok_stdin(&["-"], input)),
        vec![row(&["a", "b"]), row(&["1", "2"])]
    );
    assert_eq!(
        rows(&w.ok_stdin(&[], input)),
        vec![row(&["a", "b"]), row(&["1", "2"])]
    );
}

#[test]
fn delimiters_tilde_and_tab() {
    let w = wrk();
    w.create(
        "kobo.csv",
        "_uuid~ASSESSMENT_DATE~FACILITY\nu-1~2024-03-01~Clinic A\n",
    );
    let out = w.ok(&["-d", "~", "--to", "ndjson", "kobo.csv"]);
    assert_eq!(
        ndjson_values(&out),
        vec![json!({"_uuid": "u-1", "ASSESSMENT_DATE": "2024-03-01", "FACILITY": "Clinic A"})]
    );
    let out = w.ok_stdin(&["-t"], b"a\tb\n1\t2,3\n");
    assert_eq!(rows(&out), vec![row(&["a", "b"]), row(&["1", "2,3"])]);
    let out = w.ok_stdin(&["-d", "\\t", "--out-delimiter", ";"], b"a\tb\n1\t2\n");
    assert_eq!(out, "a;b\n1;2\n");
    w.fails(&["-d", "ab", "kobo.csv"], 64);
}

#[test]
fn crlf_input_and_no_final_newline() {
    let w = wrk();
    let out = w.ok_stdin(&[], b"a,b\r\n1,2\r\n3,4");
    assert_eq!(out, "a,b\n1,2\n3,4\n");
}

#[test]
fn invalid_utf8_is_exit_65_naming_row_and_column_not_the_value() {
    let w = wrk();
    w.create(
        "bad.csv",
        b"name,city\nAda,Springfield\nJos\xe9 Sample,Riverton\n",
    );
    let err = w.fails(&["bad.csv"], 65);
    assert!(err.contains("bad.csv: row 3, column \"name\""), "{err}");
    assert!(!err.contains("Jos"), "{err}");
    // Only the selected-away column is bad: still an error.
    let err = w.fails(&["--select", "city", "bad.csv"], 65);
    assert!(err.contains("row 3, column \"name\""), "{err}");
    // A multi-byte character split by a delimiter is caught too.
    w.create("split.csv", b"a,b\n\xc3,\xa9\n");
    let err = w.fails(&["split.csv"], 65);
    assert!(err.contains("row 2, column \"a\""), "{err}");
}

#[test]
fn invalid_utf8_header_is_65_naming_its_position() {
    let w = wrk();
    w.create("h.csv", b"id,n\xe4me\n1,Ada\n");
    let err = w.fails(&["h.csv"], 65);
    assert!(
        err.contains("h.csv: row 1, column 2: header is not valid UTF-8"),
        "{err}"
    );
    let out = w.ok(&["--encoding", "latin1", "h.csv"]);
    assert_eq!(rows(&out)[0], row(&["id", "n\u{e4}me"]));
}

#[test]
fn latin1_and_windows_1252_are_transcoded() {
    let w = wrk();
    w.create("l1.csv", b"name\nJos\xe9\n");
    let out = w.ok(&["--encoding", "latin1", "l1.csv"]);
    assert_eq!(rows(&out), vec![row(&["name"]), row(&["José"])]);
    w.create("w.csv", b"name\n\x93Ada\x94\n");
    let out = w.ok(&["--encoding", "windows-1252", "--to", "ndjson", "w.csv"]);
    assert_eq!(
        ndjson_values(&out),
        vec![json!({"name": "\u{201c}Ada\u{201d}"})]
    );
}

#[test]
fn empty_input_gives_empty_output() {
    let w = wrk();
    w.create("empty.csv", "");
    for args in [
        vec!["empty.csv"],
        vec!["--to", "ndjson", "empty.csv"],
        vec!["--from", "ndjson", "empty.csv"],
        vec!["--select", "a", "--require", "b", "--bom", "empty.csv"],
    ] {
        assert_eq!(w.ok(&args), "", "{args:?}");
    }
    w.ok(&["-o", "out.csv", "empty.csv"]);
    assert_eq!(w.read("out.csv"), "");
}

#[test]
fn header_only_gives_header_only() {
    let w = wrk();
    w.create("h.csv", "a,b,c\r\n");
    assert_eq!(w.ok(&["--select", "c,a", "h.csv"]), "c,a\n");
    assert_eq!(w.ok(&["--to", "ndjson", "h.csv"]), "");
}

#[test]
fn missing_input_is_exit_66() {
    let w = wrk();
    let err = w.fails(&["nope.csv"], 66);
    assert!(err.contains("nope.csv"), "{err}");
}

// ---------------------------------------------------------------- columns

const PEOPLE: &str = "id,first,last,zip\n1,Ada,Abbot,01234\n2,Ben,Brook,48226\n";

#[test]
fn select_reorders_and_missing_selected_column_is_65() {
    let w = wrk();
    w.create("p.csv", PEOPLE);
    let out = w.ok(&["--select", "zip, id", "p.csv"]);
    assert_eq!(
        rows(&out),
        vec![
            row(&["zip", "id"]),
            row(&["01234", "1"]),
            row(&["48226", "2"])
        ]
    );
    let err = w.fails(&["--select", "id,dob,email", "p.csv"], 65);
    assert!(
        err.contains("p.csv: row 1: selected columns not in the input: \"dob\", \"email\""),
        "{err}"
    );
    w.fails(&["--select", "id,,zip", "p.csv"], 64);
    usage(&w, &["--select", "id", "--columns-file", "c.txt", "p.csv"]);
}

#[test]
fn columns_file_errors() {
    let w = wrk();
    w.create("p.csv", PEOPLE);
    let err = w.fails(&["--columns-file", "none.txt", "p.csv"], 66);
    assert!(err.contains("none.txt"), "{err}");
    w.create("blank.txt", "# nothing\n\n");
    let err = w.fails(&["--columns-file", "blank.txt", "p.csv"], 78);
    assert!(err.contains("blank.txt"), "{err}");
    w.create("cols.txt", "last\r\n# comment\nfirst\n");
    let out = w.ok(&["--columns-file", "cols.txt", "p.csv"]);
    assert_eq!(rows(&out)[0], row(&["last", "first"]));
}

#[test]
fn rename_then_select_by_new_names() {
    let w = wrk();
    w.create("p.csv", PEOPLE);
    let out = w.ok(&[
        "--rename",
        "first=first_name",
        "-r",
        "last=last_name",
        "--select",
        "last_name,first_name",
        "p.csv",
    ]);
    assert_eq!(rows(&out)[0], row(&["last_name", "first_name"]));
    assert_eq!(rows(&out)[1], row(&["Abbot", "Ada"]));
    // Without --select the new names take the old places.
    let out = w.ok(&["--rename", "zip=zip_code", "p.csv"]);
    assert_eq!(rows(&out)[0], row(&["id", "first", "last", "zip_code"]));
    // The old name is gone after renaming.
    let err = w.fails(
        &["--rename", "first=first_name", "--select", "first", "p.csv"],
        65,
    );
    assert!(
        err.contains("\"first\"") && err.contains("after --rename"),
        "{err}"
    );
    let err = w.fails(&["--rename", "dob=birth_date", "p.csv"], 65);
    assert!(err.contains("column \"dob\""), "{err}");
    w.fails(&["--rename", "first", "p.csv"], 64);
    w.fails(&["--rename", "a=b", "--rename", "a=c", "p.csv"], 64);
}

#[test]
fn require_names_every_missing_column_at_once() {
    let w = wrk();
    w.create("p.csv", PEOPLE);
    w.ok(&["--require", "id,zip", "p.csv"]);
    let err = w.fails(
        &[
            "--require",
            "id,business_code",
            "--require",
            "hash",
            "p.csv",
        ],
        65,
    );
    assert!(
        err.contains("p.csv: row 1: missing required columns \"business_code\", \"hash\""),
        "{err}"
    );
    let err = w.fails(&["--require", "hash", "p.csv"], 65);
    assert!(err.contains("missing required column \"hash\""), "{err}");
}

#[test]
fn add_empty_keeps_layout_columns_in_place() {
    let w = wrk();
    w.create("p.csv", PEOPLE);
    let out = w.ok(&[
        "--select",
        "id,middle,last,ssn",
        "--add-empty",
        "middle,ssn",
        "p.csv",
    ]);
    assert_eq!(
        rows(&out),
        vec![
            row(&["id", "middle", "last", "ssn"]),
            row(&["1", "", "Abbot", ""]),
            row(&["2", "", "Brook", ""]),
        ]
    );
    // A column that does exist keeps its values.
    let out = w.ok(&["--select", "first", "--add-empty", "first", "p.csv"]);
    assert_eq!(rows(&out)[1], row(&["Ada"]));
    // Without --select, absent ones are appended.
    let out = w.ok(&["--add-empty", "county,zip", "p.csv"]);
    assert_eq!(
        rows(&out)[0],
        row(&["id", "first", "last", "zip", "county"])
    );
    w.fails(&["--select", "id", "--add-empty", "middle", "p.csv"], 64);
}

#[test]
fn row_number_first_or_in_its_selected_place_counting_output_rows() {
    let w = wrk();
    w.create("p.csv", "first,state\nAda,MI\nBen,OH\nCleo,MI\n,\n");
    let out = w.ok(&["--row-number", "car_number", "--where", "state=MI", "p.csv"]);
    assert_eq!(
        rows(&out),
        vec![
            row(&["car_number", "first", "state"]),
            row(&["1", "Ada", "MI"]),
            row(&["2", "Cleo", "MI"]),
        ]
    );
    let out = w.ok(&[
        "--row-number",
        "n",
        "--select",
        "first,n",
        "--skip-empty-rows",
        "--to",
        "ndjson",
        "p.csv",
    ]);
    assert_eq!(
        ndjson_values(&out),
        vec![
            json!({"first": "Ada", "n": "1"}),
            json!({"first": "Ben", "n": "2"}),
            json!({"first": "Cleo", "n": "3"}),
        ]
    );
    let err = w.fails(&["--row-number", "first", "p.csv"], 65);
    assert!(err.contains("column \"first\""), "{err}");
}

// ---------------------------------------------------------------- rows

#[test]
fn ragged_rows_are_65_unless_padded() {
    let w = wrk();
    w.create(
        "r.csv",
        "name,dob,zip\nSam Sample,2001-02-03,01234\nAl Example\n",
    );
    let err = w.fails(&["r.csv"], 65);
    assert!(
        err.contains("r.csv: row 3: has 1 field, expected 3"),
        "{err}"
    );
    assert!(!err.contains("Al Example"), "{err}");
    let out = w.ok(&["--pad-ragged", "r.csv"]);
    assert_eq!(rows(&out)[2], row(&["Al Example", "", ""]));

    w.create("long.csv", "a,b\n1,2,,\n3,4,secret-value\n");
    let err = w.fails(&["--pad-ragged", "long.csv"], 65);
    assert!(
        err.contains("long.csv: row 3: has 3 fields, expected 2"),
        "{err}"
    );
    assert!(!err.contains("secret-value"), "{err}");
    w.create("long2.csv", "a,b\n1,2,,\n");
    let out = w.ok(&["--pad-ragged", "--to", "ndjson", "long2.csv"]);
    assert_eq!(ndjson_values(&out), vec![json!({"a": "1", "b": "2"})]);
}

#[test]
fn skip_empty_rows_applies_before_the_field_count() {
    let w = wrk();
    w.create("e.csv", "a,b,c\n1,2,3\n,\n,,\n\n4,5,6\n");
    let out = w.ok(&["--skip-empty-rows", "e.csv"]);
    assert_eq!(
        rows(&out),
        vec![
            row(&["a", "b", "c"]),
            row(&["1", "2", "3"]),
            row(&["4", "5", "6"])
        ]
    );
}

#[test]
fn where_conditions_all_must_hold() {
    let w = wrk();
    w.create(
        "t.csv",
        "id,state,result\n1,MI,POSITIVE\n2,OH,NEGATIVE\n3,MI,NEGATIVE\n4,MI,inconclusive\n",
    );
    let ids = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["--select", "id"];
        a.extend_from_slice(args);
        a.push("t.csv");
        rows(&w.ok(&a))
            .into_iter()
            .skip(1)
            .map(|r| r[0].clone())
            .collect()
    };
    assert_eq!(ids(&["--where", "state=MI"]), ["1", "3", "4"]);
    assert_eq!(ids(&["--where", "state!=MI"]), ["2"]);
    assert_eq!(ids(&["-w", "result~^(POS|NEG)"]), ["1", "2", "3"]);
    assert_eq!(ids(&["-w", "result!~^[A-Z]+$"]), ["4"]);
    assert_eq!(ids(&["-w", "state=MI", "-w", "result~NEG"]), ["3"]);
    // --where reads names after --rename, and columns not selected.
    assert_eq!(ids(&["--rename", "state=st", "-w", "st=OH"]), ["2"]);
    let err = w.fails(&["--where", "county=Wayne", "t.csv"], 65);
    assert!(err.contains("column \"county\""), "{err}");
    assert!(!err.contains("Wayne"), "{err}");
    w.fails(&["--where", "result~(", "t.csv"], 64);
    w.fails(&["--where", "result", "t.csv"], 64);
}

// ---------------------------------------------------------------- output

#[test]
fn csv_output_options() {
    let w = wrk();
    w.create("p.csv", PEOPLE);
    let out = w.ok(&["--crlf", "--select", "id,first", "p.csv"]);
    assert_eq!(out, "id,first\r\n1,Ada\r\n2,Ben\r\n");
    let out = w.ok(&["--quote-all", "--select", "id", "p.csv"]);
    assert_eq!(out, "\"id\"\n\"1\"\n\"2\"\n");
    let out = w.ok(&["--bom", "--select", "id", "p.csv"]);
    assert_eq!(out, "\u{feff}id\n1\n2\n");
    let out = w.ok(&["--out-delimiter", "|", "--select", "id,first", "p.csv"]);
    assert_eq!(out, "id|first\n1|Ada\n2|Ben\n");
    for flag in ["--crlf", "--quote-all", "--bom"] {
        w.fails(&["--to", "ndjson", flag, "p.csv"], 64);
    }
}

#[test]
fn quote_spaces_writes_like_phps_fputcsv() {
    let w = wrk();
    // The printer's file was written by PHP's fputcsv: it comes out byte for byte.
    let fixture = std::fs::read_to_string(
        common::testing::fixtures_dir()
            .join("masstesting")
            .join("patient_appointments.csv"),
    )
    .unwrap();
    w.create("f.csv", &fixture);
    let out = w.ok(&["--quote-spaces", "f.csv"]);
    assert_eq!(out.trim_end(), fixture.trim_end());
    assert_eq!(
        out.lines().next(),
        Some("car_number,start_datetime,name,dob,\"Patient Type\"")
    );
    // Quotes doubled; delimiters, tabs and line breaks quoted; plain and empty fields not.
    w.create(
        "q.csv",
        "a,b,c\n\"say \"\"hi\"\"\",\"x\ty\",\n\"1,2\",\"l1\nl2\",z\n",
    );
    let out = w.ok(&["--quote-spaces", "q.csv"]);
    assert_eq!(
        out,
        "a,b,c\n\"say \"\"hi\"\"\",\"x\ty\",\n\"1,2\",\"l1\nl2\",z\n"
    );
    assert_eq!(rows(&out), rows(&w.read("q.csv")));
    let out = w.ok(&["--quote-spaces", "--out-delimiter", ";", "q.csv"]);
    assert_eq!(
        out,
        "a;b;c\n\"say \"\"hi\"\"\";\"x\ty\";\n1,2;\"l1\nl2\";z\n"
    );
    // A row of one empty field stays a row; --quote-all wins.
    w.create("e.csv", "a,b\n,x\n");
    assert_eq!(
        w.ok(&["--quote-spaces", "--select", "a", "e.csv"]),
        "a\n\"\"\n"
    );
    assert_eq!(
        w.ok(&["--quote-spaces", "--quote-all", "e.csv"]),
        "\"a\",\"b\"\n\"\",\"x\"\n"
    );
    w.fails(&["--to", "ndjson", "--quote-spaces", "e.csv"], 64);
}

#[test]
fn output_file_is_0600_and_absent_after_an_error() {
    let w = wrk();
    w.create("p.csv", PEOPLE);
    assert_eq!(w.ok(&["-o", "out.csv", "p.csv"]), "");
    assert_eq!(rows(&w.read("out.csv")), rows(PEOPLE));
    assert_eq!(mode_of(&w.path("out.csv")), 0o600);
    w.create("bad.csv", "a,b\n1,2\n3\n");
    w.fails(&["--output", "bad-out.csv", "bad.csv"], 65);
    assert!(!w.path("bad-out.csv").exists());
    assert_eq!(std::fs::read_dir(w.root()).unwrap().count(), 3);
    let err = w.fails(&["-o", "no/such/dir/out.csv", "p.csv"], 74);
    assert!(err.contains("no/such/dir/out.csv"), "{err}");
}

#[test]
fn ndjson_values_stay_strings_unless_typed() {
    let w = wrk();
    w.create(
        "t.csv",
        "id,zip,count,ratio,flag,tags,note\n007,01234,042,1.50,Yes,\"[1,2]\",\"a \"\"quoted\"\"\nline\"\n008,,,,,,\n",
    );
    let out = w.ok(&["--to", "ndjson", "t.csv"]);
    let values = ndjson_values(&out);
    assert_eq!(values[0]["id"], json!("007"));
    assert_eq!(values[0]["zip"], json!("01234"));
    assert_eq!(values[0]["note"], json!("a \"quoted\"\nline"));
    assert_eq!(values[1]["zip"], json!(""));
    let out = w.ok(&[
        "--to",
        "ndjson",
        "--types",
        "count:int,ratio:num",
        "--types",
        "flag:bool,tags:json,zip:string",
        "t.csv",
    ]);
    assert!(out.contains("\"ratio\":1.50"), "{out}");
    let values = ndjson_values(&out);
    assert_eq!(values[0]["count"], json!(42));
    assert_eq!(values[0]["flag"], json!(true));
    assert_eq!(values[0]["tags"], json!([1, 2]));
    assert_eq!(values[0]["zip"], json!("01234"));
    assert_eq!(values[1]["count"], json!(null));
    assert_eq!(values[1]["ratio"], json!(null));
    assert_eq!(values[1]["flag"], json!(null));
    assert_eq!(values[1]["zip"], json!(""));
    // Key order is the column order.
    assert!(out.starts_with("{\"id\":\"007\",\"zip\":"), "{out}");
}

#[test]
fn type_conversion_failure_names_row_and_column_not_the_value() {
    let w = wrk();
    w.create("t.csv", "id,slots\n1,4\n2,four-ish\n");
    let err = w.fails(&["--to", "ndjson", "--types", "slots:int", "t.csv"], 65);
    assert!(
        err.contains("t.csv: row 3, column \"slots\": value is not a valid int"),
        "{err}"
    );
    assert!(!err.contains("four-ish"), "{err}");
    let out = w
        .run([
            "--to",
            "ndjson",
            "--types",
            "slots:int",
            "--show-values",
            "t.csv",
        ])
        .output()
        .unwrap();
    assert!(stderr_of(&out).contains("four-ish"));
    w.fails(&["--to", "ndjson", "--types", "slots:date", "t.csv"], 64);
    w.fails(&["--to", "ndjson", "--types", "slots", "t.csv"], 64);
    w.fails(&["--types", "slots:int", "t.csv"], 64);
    let err = w.fails(&["--to", "ndjson", "--types", "dob:int", "t.csv"], 65);
    assert!(err.contains("column \"dob\""), "{err}");
}

#[test]
fn duplicate_output_names_cannot_become_ndjson_keys() {
    let w = wrk();
    w.create("d.csv", "a,a\n1,2\n");
    assert_eq!(rows(&w.ok(&["d.csv"])).len(), 2);
    let err = w.fails(&["--to", "ndjson", "d.csv"], 65);
    assert!(err.contains("column \"a\""), "{err}");
    w.fails(&["--select", "a", "d.csv"], 65);
}

// ---------------------------------------------------------------- NDJSON input

#[test]
fn ndjson_to_csv_columns_from_first_record_or_select() {
    let w = wrk();
    w.create(
        "r.ndjson",
        "{\"id\":\"001\",\"n\":5,\"ok\":true,\"tags\":[1,\"x\"],\"sub\":{\"k\":null},\"none\":null}\n\n{\"id\":\"002\",\"n\":12345678901234567890123}\n",
    );
    let out = w.ok(&["--from", "ndjson", "r.ndjson"]);
    assert_eq!(
        rows(&out),
        vec![
            row(&["id", "n", "ok", "tags", "sub", "none"]),
            row(&["001", "5", "true", "[1,\"x\"]", "{\"k\":null}", ""]),
            row(&["002", "12345678901234567890123", "", "", "", ""]),
        ]
    );
    let out = w.ok(&[
        "--from",
        "ndjson",
        "--rename",
        "id=patient_id",
        "--select",
        "n,patient_id",
        "r.ndjson",
    ]);
    assert_eq!(rows(&out)[0], row(&["n", "patient_id"]));
    assert_eq!(rows(&out)[2], row(&["12345678901234567890123", "002"]));
}

#[test]
fn ndjson_later_key_outside_the_columns_is_an_error_unless_selected_away() {
    let w = wrk();
    w.create(
        "r.ndjson",
        "{\"id\":\"1\"}\n{\"id\":\"2\",\"dob\":\"2001-01-01\"}\n",
    );
    let err = w.fails(&["--from", "ndjson", "r.ndjson"], 65);
    assert!(err.contains("r.ndjson: line 2, column \"dob\""), "{err}");
    assert!(!err.contains("2001"), "{err}");
    let out = w.ok(&["--from", "ndjson", "--select", "id", "r.ndjson"]);
    assert_eq!(rows(&out), vec![row(&["id"]), row(&["1"]), row(&["2"])]);
    // A selected key must be in the first record unless it may be empty.
    let err = w.fails(&["--from", "ndjson", "--select", "id,dob", "r.ndjson"], 65);
    assert!(err.contains("\"dob\""), "{err}");
    let out = w.ok(&[
        "--from",
        "ndjson",
        "--select",
        "id,dob",
        "--add-empty",
        "dob",
        "r.ndjson",
    ]);
    assert_eq!(rows(&out)[2], row(&["2", "2001-01-01"]));
}

#[test]
fn ndjson_to_ndjson_keeps_types_and_filters() {
    let w = wrk();
    w.create(
        "r.ndjson",
        "{\"id\":\"1\",\"n\":5,\"org\":\"demo\"}\n{\"id\":\"2\",\"n\":\"6\",\"org\":\"agency-a\"}\n{\"id\":\"3\",\"n\":null,\"org\":\"\"}\n",
    );
    let out = w.ok(&[
        "--from",
        "ndjson",
        "--to",
        "ndjson",
        "--where",
        "org!=demo",
        "--types",
        "n:int",
        "r.ndjson",
    ]);
    assert_eq!(
        ndjson_values(&out),
        vec![
            json!({"id": "2", "n": 6, "org": "agency-a"}),
            json!({"id": "3", "n": null, "org": ""}),
        ]
    );
    let out = w.ok(&[
        "--from", "ndjson", "--to", "ndjson", "--where", "n=5", "r.ndjson",
    ]);
    assert_eq!(
        ndjson_values(&out),
        vec![json!({"id": "1", "n": 5, "org": "demo"})]
    );
}

#[test]
fn ndjson_require_is_checked_on_every_record_and_skip_empty() {
    let w = wrk();
    w.create(
        "r.ndjson",
        "{\"id\":\"1\",\"hash\":\"h1\"}\n{\"id\":\"\",\"hash\":null}\n{\"id\":\"3\"}\n",
    );
    let out = w.ok(&[
        "--from",
        "ndjson",
        "--select",
        "id",
        "--skip-empty-rows",
        "r.ndjson",
    ]);
    assert_eq!(rows(&out), vec![row(&["id"]), row(&["1"]), row(&["3"])]);
    let err = w.fails(&["--from", "ndjson", "--require", "hash", "r.ndjson"], 65);
    assert!(
        err.contains("r.ndjson: line 3: missing required key \"hash\""),
        "{err}"
    );
}

#[test]
fn ndjson_bad_lines_name_the_line_not_the_value() {
    let w = wrk();
    w.create(
        "r.ndjson",
        "{\"name\":\"Ada Sample\"}\n{\"name\": \"Ben Sample\"\n",
    );
    let err = w.fails(&["--from", "ndjson", "r.ndjson"], 65);
    assert!(err.contains("r.ndjson: line 2"), "{err}");
    assert!(!err.contains("Ben"), "{err}");
    w.create("a.ndjson", "[1,2]\n");
    let err = w.fails(&["--from", "ndjson", "a.ndjson"], 65);
    assert!(err.contains("a.ndjson: line 1"), "{err}");
    w.fails(
        &["--from", "ndjson", "--encoding", "latin1", "a.ndjson"],
        64,
    );
}

#[test]
fn ndjson_records_keyed_otherwise_than_the_first_are_read_by_key() {
    let w = wrk();
    // Keys in another order, a key left out, a repeated key (the last value
    // counts, in the place of the first) and escaped keys and values.
    w.create(
        "r.ndjson",
        concat!(
            "{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}\n",
            "{\"c\":\"6\",\"a\":\"4\"}\n",
            "{\"b\":\"x\",\"a\":\"7\",\"b\":\"8\",\"c\":9}\n",
            "{\"\\u0061\":\"q\\\"\\u00e9\",\"b\":null,\"c\":[1]}\n",
            "{\"a\":\"x\",\"a\":\"\",\"b\":null,\"c\":\"\"}\n",
        ),
    );
    let out = w.ok(&["--from", "ndjson", "r.ndjson"]);
    assert_eq!(
        rows(&out),
        vec![
            row(&["a", "b", "c"]),
            row(&["1", "2", "3"]),
            row(&["4", "", "6"]),
            row(&["7", "8", "9"]),
            row(&["q\"\u{e9}", "", "[1]"]),
            row(&["", "", ""]),
        ]
    );
    // The row whose keys' last values are all empty is skipped.
    let out = w.ok(&["--from", "ndjson", "--skip-empty-rows", "r.ndjson"]);
    assert_eq!(rows(&out).len(), 5);
    let err = w.fails(&["--from", "ndjson", "--require", "b", "r.ndjson"], 65);
    assert!(
        err.contains("r.ndjson: line 2: missing required key \"b\""),
        "{err}"
    );
    let out = w.ok(&[
        "--from", "ndjson", "--to", "ndjson", "--select", "c,a", "r.ndjson",
    ]);
    assert_eq!(
        ndjson_values(&out)[1..3],
        [json!({"c": "6", "a": "4"}), json!({"c": 9, "a": "7"})]
    );
}

#[test]
fn ndjson_line_that_is_no_object_or_not_json_is_told_apart() {
    let w = wrk();
    for (line, what) in [
        ("[1]", "expected a JSON object"),
        ("\"Ada\"", "expected a JSON object"),
        ("[1,", "not valid JSON at character"),
        (
            "{\"a\":\"1\"} x",
            "not valid JSON at character 11 (trailing characters)",
        ),
        ("{\"a\":\"\\ud800\"}", "not valid JSON at character"),
    ] {
        w.create("r.ndjson", format!("{{\"a\":\"1\"}}\n{line}\n"));
        let err = w.fails(&["--from", "ndjson", "r.ndjson"], 65);
        assert!(
            err.contains(&format!("r.ndjson: line 2: {what}")),
            "{line}: {err}"
        );
        assert!(!err.contains("Ada"), "{err}");
    }
}

// ---------------------------------------------------------------- streaming

#[test]
fn many_rows_keep_order_and_errors_count_records() {
    let w = wrk();
    let mut text = String::from("id,v\n");
    for i in 0..5000 {
        text.push_str(&format!("{i},v{i}\n"));
    }
    w.create("big.csv", &text);
    let out = w.ok(&["--select", "v,id", "big.csv"]);
    let got = rows(&out);
    assert_eq!(got.len(), 5001);
    assert_eq!(got[4000], row(&["v3999", "3999"]));
    text.push_str("bad\n");
    for i in 0..100 {
        text.push_str(&format!("{i},v{i}\n"));
    }
    w.create("bad.csv", &text);
    let err = w.fails(&["-o", "out.csv", "bad.csv"], 65);
    assert!(err.contains("bad.csv: row 5002: has 1 field,"), "{err}");
    assert!(!w.path("out.csv").exists());
}

#[test]
fn help_shows_examples() {
    let w = wrk();
    let out = w.ok(&["--help"]);
    assert!(
        out.contains("--skip-empty-rows --require business_code,hash"),
        "{out}"
    );
    usage(&w, &["--no-such-flag"]);
}

// ---------------------------------------------------------------- properties

/// Up to 4 pieces that stress CSV quoting, line endings and leading zeros.
fn random_field(rng: &mut Rng) -> String {
    const PIECES: [&str; 12] = [
        "a", "Zed", " ", ",", "\"", "\n", "\r\n", "é", "0", "007", "~", "\t",
    ];
    rng.text_of(&PIECES, 5)
}

fn random_table(rng: &mut Rng) -> Vec<Vec<String>> {
    let width = 1 + rng.below(5);
    let height = rng.below(8);
    let mut table = vec![(0..width).map(|i| format!("c{i}")).collect::<Vec<_>>()];
    for _ in 0..height {
        let mut r: Vec<String> = (0..width).map(|_| random_field(rng)).collect();
        // csv skips blank lines: a one-column empty row cannot survive a round trip.
        if width == 1 && r[0].is_empty() {
            r[0] = "x".into();
        }
        table.push(r);
    }
    table
}

fn to_csv(table: &[Vec<String>], crlf: bool) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(if crlf {
            csv::Terminator::CRLF
        } else {
            csv::Terminator::Any(b'\n')
        })
        .from_writer(Vec::new());
    for r in table {
        writer.write_record(r).unwrap();
    }
    writer.into_inner().unwrap()
}

#[test]
fn property_select_all_in_order_is_identity_and_ndjson_round_trips() {
    let w = wrk();
    let mut rng = Rng(0x5eed_cafe_f00d_1234);
    for case in 0..40 {
        let table = random_table(&mut rng);
        let input = to_csv(&table, case % 2 == 0);
        w.create("in.csv", &input);
        let all = table[0].join(",");
        let out = w.ok(&["--select", &all, "in.csv"]);
        assert_eq!(rows(&out), table, "case {case}: select all");
        let plain = w.ok(&["in.csv"]);
        assert_eq!(rows(&plain), table, "case {case}: no flags");

        let ndjson = w.ok(&["--to", "ndjson", "in.csv"]);
        assert_eq!(ndjson_values(&ndjson).len(), table.len() - 1, "case {case}");
        w.create("in.ndjson", &ndjson);
        let back = w.ok(&["--from", "ndjson", "--select", &all, "in.ndjson"]);
        let expected = if table.len() == 1 {
            Vec::new()
        } else {
            table.clone()
        };
        assert_eq!(rows(&back), expected, "case {case}: CSV -> NDJSON -> CSV");
    }
}

#[test]
fn unclosed_quote_is_65_naming_its_row_and_nothing_is_written() {
    let w = wrk();
    // Without the check, rows 4 and 5 would silently become part of row 3's field.
    w.create(
        "in.csv",
        "id,name,notes\n1,Ann Example,ok\n2,Bo Sample,\"Zebra note\n3,Cy Test,x\n4,Di Demo,y\n",
    );
    let err = w.fails(&["--select", "id,name", "-o", "out.csv", "in.csv"], 65);
    assert!(
        err.contains("in.csv: row 3: a quoted field opens here and is never closed"),
        "{err}"
    );
    assert_one_line_without(&err, &["Bo Sample", "Zebra", "Cy Test"]);
    assert!(!w.path("out.csv").exists());
    let entries = std::fs::read_dir(w.root()).unwrap().count();
    assert_eq!(entries, 1, "only the input is left");
    // A literal quote inside an unquoted field is not an open quote.
    w.create("height.csv", "id,height\n1,5'10\"\n2,6'1\"\n");
    assert_eq!(
        rows(&w.ok(&["height.csv"])),
        vec![
            vec!["id", "height"],
            vec!["1", "5'10\""],
            vec!["2", "6'1\""]
        ]
    );
}

#[test]
fn typed_numbers_keep_every_digit() {
    let w = wrk();
    w.create(
        "in.csv",
        "id,amount\n00123456789012345678,+0012345678901234567.8900\n2,.5\n",
    );
    let out = w.ok(&["--to", "ndjson", "--types", "id:num,amount:num", "in.csv"]);
    assert_eq!(
        out,
        "{\"id\":123456789012345678,\"amount\":12345678901234567.8900}\n{\"id\":2,\"amount\":0.5}\n"
    );
}

#[test]
fn a_data_error_exits_while_stdin_is_still_open() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    // A ragged row early in a stream whose writer never closes it.
    let mut child = Command::new(BIN)
        .args(["--select", "a"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut text = String::from("a,b\n1\n");
    // One full batch (1024 records) and part of the next: the parser then
    // waits for more input while the first batch fails.
    for i in 0..1100 {
        text.push_str(&format!("{i},x\n"));
    }
    stdin.write_all(text.as_bytes()).unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > Duration::from_secs(10) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(stdin);
    let Some(status) = status else {
        let _ = child.kill();
        panic!("csv-shape kept waiting for input after a data error");
    };
    assert_eq!(status.code(), Some(65));
}
