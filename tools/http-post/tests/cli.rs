//! http-post through its binary, against the sandbox of remote APIs.

use common::testing::{
    HTTP_VARS, Run, SENTINEL, Workdir, assert_one_line_without, mode_of, ndjson_values,
};
use sandbox::{Fault, Options, Sandbox};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_http-post");

const REQCHECK_PASSWORD: &str = "reqcheck-secret";
const PRIMERO_PASSWORD: &str = "primero-secret";
const OSCAR_PASSWORD: &str = "oscar-secret";
const DHIS2_PAT: &str = "d2pat_sandbox0000000000000000000000";
const FUNCTION_KEY: &str = "rs-function-key";

/// A fresh sandbox, and a fresh folder to run http-post in.
fn start() -> (Sandbox, Workdir) {
    let sb = Sandbox::start().unwrap_or_else(|e| panic!("cannot start the sandbox: {e}"));
    (sb, Workdir::new(BIN))
}

/// Run http-post with `args`, the sandbox's CA (when given), quick retries,
/// only the variables of `env`, and `stdin`.
fn http_post(
    wrk: &Workdir,
    sb: Option<&Sandbox>,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: &str,
) -> Run {
    let mut cmd = wrk.command();
    for var in HTTP_VARS {
        cmd.env_remove(var);
    }
    if let Some(sb) = sb {
        cmd.arg("--ca-file").arg(sb.ca_file());
    }
    if !args.contains(&"--retry-delay") {
        cmd.args(["--retry-delay", "1"]);
    }
    cmd.args(args)
        .envs(env.iter().copied())
        .write_stdin(stdin.as_bytes().to_vec());
    Run::of(&mut cmd)
}

fn ok(run: &Run) {
    assert_eq!(run.code, 0, "stdout {} stderr {}", run.stdout, run.stderr);
}

fn reqcheck_env() -> [(&'static str, &'static str); 2] {
    [
        ("HTTP_USER", "reqcheck"),
        ("HTTP_PASSWORD", REQCHECK_PASSWORD),
    ]
}

fn primero_env() -> [(&'static str, &'static str); 2] {
    [
        ("HTTP_USER", "primero_user"),
        ("HTTP_PASSWORD", PRIMERO_PASSWORD),
    ]
}

fn patient(number: u64) -> Value {
    json!({"patient_number": number, "first_name": "Sam", "last_name": "Sample",
           "dob": "2015-04-01", "hd_mpfile_updated_at": "2024-05-01T10:00:00Z"})
}

/// ReqCheck's patient_data URL in the sandbox.
fn patient_data_url(sb: &Sandbox) -> String {
    format!("{}/reqcheck/patient_data", sb.url())
}

/// POST one patient to ReqCheck's patient_data with Basic auth.
fn post_patient(wrk: &Workdir, sb: &Sandbox, number: u64) -> Run {
    let body = json!({"patient_data": [patient(number)]}).to_string();
    let url = patient_data_url(sb);
    http_post(
        wrk,
        Some(sb),
        &["--auth", "basic", &url],
        &reqcheck_env(),
        &body,
    )
}

/// How many patients ReqCheck holds.
fn patients_stored(sb: &Sandbox) -> Option<usize> {
    sb.state("reqcheck")["patients"].as_array().map(Vec::len)
}

/// The status of each request `api` received, in order (0: none was sent).
fn statuses(sb: &Sandbox, api: &str) -> Vec<u16> {
    sb.received(api).iter().map(|r| r.status).collect()
}

#[test]
fn reqcheck_heartbeat_with_basic_auth_and_an_empty_body() {
    let (sb, wrk) = start();
    let url = format!("{}/reqcheck/heartbeat", sb.url());
    let run = http_post(
        &wrk,
        Some(&sb),
        &[
            "--auth",
            "basic",
            "--no-body",
            "--response",
            "heartbeat.json",
            "--receipt-field",
            "last_update_date=.last_update_date",
            &url,
        ],
        &reqcheck_env(),
        "",
    );
    ok(&run);
    let receipt = &run.values()[0];
    assert_eq!(receipt["tool"], "http-post");
    assert_eq!(receipt["target"], url);
    assert_eq!(receipt["status"], 200);
    assert_eq!(receipt["bytes"], 0);
    assert_eq!(receipt["fields"], json!({"last_update_date": null}));
    let answer: Value = serde_json::from_str(&wrk.read("heartbeat.json")).unwrap_or_default();
    assert_eq!(answer["last_update_date_timestamp"], Value::Null);
    assert_eq!(mode_of(&wrk.path("heartbeat.json")), 0o600);
    let seen = sb.received("reqcheck");
    assert_eq!(seen.len(), 1);
    assert_eq!((seen[0].method.as_str(), seen[0].body.len()), ("POST", 0));
    assert_eq!(seen[0].header("content-length"), Some("0"));
    assert!(
        seen[0]
            .header("authorization")
            .is_some_and(|a| a.starts_with("Basic "))
    );
    // --response - puts the answer on stdout; the receipt then goes only to --receipt.
    let run = http_post(
        &wrk,
        Some(&sb),
        &[
            "--auth",
            "basic",
            "--no-body",
            "--response",
            "-",
            "--receipt",
            "r.jsonl",
            &url,
        ],
        &reqcheck_env(),
        "",
    );
    ok(&run);
    assert_eq!(run.values()[0], answer);
    assert_eq!(ndjson_values(&wrk.read("r.jsonl"))[0]["status"], 200);
}

#[test]
fn reqcheck_patient_data_puts_the_import_status_in_the_receipt() {
    let (sb, wrk) = start();
    let mut bad = patient(2);
    bad["favourite_colour"] = "blue".into();
    let body = json!({"patient_data": [patient(1), bad]}).to_string();
    wrk.create("batch.json", &body);
    let url = patient_data_url(&sb);
    let run = http_post(
        &wrk,
        Some(&sb),
        &[
            "--auth",
            "basic",
            "--body",
            "batch.json",
            "--receipt-field",
            "reqcheck_status=.status",
            "--receipt-field",
            "error_objects_ids=.error_objects_ids",
            "--id-from",
            ".data_import_id",
            "--receipt",
            "audit.jsonl",
            &url,
        ],
        &reqcheck_env(),
        "",
    );
    ok(&run);
    let receipt = &run.values()[0];
    assert_eq!(receipt["status"], 201);
    assert_eq!(receipt["name"], "batch.json");
    assert_eq!(receipt["bytes"], body.len());
    assert_eq!(receipt["remote_id"], "1");
    assert_eq!(
        receipt["fields"],
        json!({"reqcheck_status": "partial_failure", "error_objects_ids": [1]})
    );
    assert!(!run.stdout.contains("Sample"));
    assert_eq!(ndjson_values(&wrk.read("audit.jsonl")), run.values());
    assert_eq!(patients_stored(&sb), Some(1));
}

#[test]
fn a_wrong_password_is_77_and_no_secret_reaches_stderr() {
    let (sb, wrk) = start();
    let url = format!("{}/reqcheck/heartbeat", sb.url());
    let wrong = "not-the-reqcheck-secret";
    let run = http_post(
        &wrk,
        Some(&sb),
        &["--auth", "basic", "--no-body", &url],
        &[("HTTP_USER", "reqcheck"), ("HTTP_PASSWORD", wrong)],
        "",
    );
    assert_eq!(run.code, 77, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("http-post: error: POST "),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("401"), "{}", run.stderr);
    assert_one_line_without(&run.stderr, &[wrong, "reqcheck:", "cmVxY2hlY2s"]);
    assert!(run.stdout.is_empty());
    // Unset, the password is configuration (78), and nothing is sent.
    let run = run_unset(&wrk, &sb, &url);
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(run.stderr.contains("HTTP_PASSWORD"), "{}", run.stderr);
    assert_eq!(sb.received("reqcheck").len(), 1);
}

fn run_unset(wrk: &Workdir, sb: &Sandbox, url: &str) -> Run {
    http_post(
        wrk,
        Some(sb),
        &["--auth", "basic", "--no-body", url],
        &[("HTTP_USER", "reqcheck")],
        "",
    )
}

#[test]
fn two_503_with_retry_after_then_success_create_one_record_in_three_requests() {
    let (sb, wrk) = start();
    sb.fault(Fault {
        path: "/reqcheck/patient_data".into(),
        method: Some("POST".into()),
        count: 2,
        status: 503,
        retry_after: Some(1),
        ..Default::default()
    });
    let started = std::time::Instant::now();
    let run = post_patient(&wrk, &sb, 7);
    ok(&run);
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "Retry-After honoured"
    );
    assert_eq!(statuses(&sb, "reqcheck"), [503, 503, 201]);
    assert_eq!(patients_stored(&sb), Some(1));
    assert_eq!(
        run.stderr.lines().count(),
        2,
        "one warning per wait: {}",
        run.stderr
    );
    assert!(run.stderr.contains("retrying in 1.0 s"), "{}", run.stderr);
}

#[test]
fn a_400_is_one_request_and_exit_69() {
    let (sb, wrk) = start();
    let url = patient_data_url(&sb);
    let run = http_post(
        &wrk,
        Some(&sb),
        &["--auth", "basic", "--response", "answer.json", &url],
        &reqcheck_env(),
        r#"{"patients": []}"#,
    );
    assert_eq!(run.code, 69, "{}", run.stderr);
    assert_one_line_without(
        &run.stderr,
        &[REQCHECK_PASSWORD, "patient_data key missing"],
    );
    assert!(run.stderr.contains("400 Bad Request"), "{}", run.stderr);
    assert_eq!(sb.received("reqcheck").len(), 1);
    // The answer is kept whatever its status; --show-values puts it in the error.
    assert!(wrk.read("answer.json").contains("patient_data key missing"));
    let run = http_post(
        &wrk,
        Some(&sb),
        &["--auth", "basic", "--show-values", &url],
        &reqcheck_env(),
        "{}",
    );
    assert_eq!(run.code, 69);
    assert!(
        run.stderr.contains("patient_data key missing"),
        "{}",
        run.stderr
    );
}

#[test]
fn exit_on_gives_a_status_its_own_exit_code() {
    let (sb, wrk) = start();
    let url = patient_data_url(&sb);
    let post = |flags: &[&str], body: &str| {
        let mut args = vec!["--auth", "basic"];
        args.extend_from_slice(flags);
        args.push(&url);
        http_post(&wrk, Some(&sb), &args, &reqcheck_env(), body)
    };
    // A 400 with --exit-on 400=65: 65, and the same error line as without.
    let plain = post(&[], "{}");
    let mapped = post(&["--exit-on", "404=3", "--exit-on", "400=65"], "{}");
    assert_eq!((plain.code, mapped.code), (69, 65), "{}", mapped.stderr);
    assert_eq!(plain.stderr, mapped.stderr);
    assert!(mapped.stdout.is_empty(), "no receipt for a refusal");
    // Another status keeps its own code, and a success is still 0.
    assert_eq!(post(&["--exit-on", "404=3"], "{}").code, 69);
    let ok = post(
        &["--exit-on", "400=65"],
        r#"{"patient_data": [{"patient_number": "p-1"}]}"#,
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert_eq!(sb.received("reqcheck").len(), 4);
    // Bad pairs and --each are usage errors, before anything is sent.
    for bad in ["400", "400=0", "200=65", "400=126", "x=65"] {
        let run = post(&["--exit-on", bad], "{}");
        assert_eq!(run.code, 64, "{bad}: {}", run.stderr);
        assert!(
            run.stderr.contains("--exit-on takes STATUS=CODE"),
            "{}",
            run.stderr
        );
    }
    let each = post(&["--each", "--exit-on", "400=65"], "{}\n");
    assert_eq!(each.code, 64, "{}", each.stderr);
    assert!(
        each.stderr.contains("--exit-on is for one request"),
        "{}",
        each.stderr
    );
    assert_eq!(sb.received("reqcheck").len(), 4);
}

#[test]
fn an_unknown_ca_is_77_and_nothing_is_sent() {
    let (sb, wrk) = start();
    let url = format!("{}/reqcheck/heartbeat", sb.url());
    let run = http_post(
        &wrk,
        None,
        &["--auth", "basic", "--no-body", &url],
        &reqcheck_env(),
        "",
    );
    assert_eq!(run.code, 77, "{}", run.stderr);
    assert!(run.stderr.contains("certificate"), "{}", run.stderr);
    assert_one_line_without(&run.stderr, &[REQCHECK_PASSWORD]);
    assert!(sb.received("reqcheck").is_empty());
}

#[test]
fn plain_http_to_loopback_is_allowed_and_to_another_host_refused() {
    let sb = Sandbox::start_with(Options {
        plain_http: true,
        ..Options::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let wrk = Workdir::new(BIN);
    let url = format!("{}/reqcheck/heartbeat", sb.url());
    assert!(url.starts_with("http://127.0.0.1:"));
    ok(&http_post(
        &wrk,
        None,
        &["--auth", "basic", "--no-body", &url],
        &reqcheck_env(),
        "",
    ));
    assert_eq!(sb.received("reqcheck").len(), 1);
    let far = "http://reqcheck.example.org/heartbeat";
    let run = http_post(
        &wrk,
        None,
        &["--auth", "basic", "--no-body", far],
        &reqcheck_env(),
        "",
    );
    assert_eq!(run.code, 64, "{}", run.stderr);
    assert!(run.stderr.contains("loopback"), "{}", run.stderr);
}

#[test]
fn each_record_gets_a_result_and_one_invalid_record_does_not_stop_the_others() {
    let (sb, wrk) = start();
    let url = patient_data_url(&sb);
    let records: Vec<String> = (1..=4)
        .map(|n| {
            let key = format!("P{n}");
            let hash = format!("{n}").repeat(64);
            // Record 3 lacks its payload's key: ReqCheck answers 400.
            let wrapper = if n == 3 { "patients" } else { "patient_data" };
            json!({"_key": key, "_op": "new", "_hash": hash, "_remote_id": null,
                   wrapper: [patient(n)]})
            .to_string()
        })
        .collect();
    let run = http_post(
        &wrk,
        Some(&sb),
        &[
            "--each",
            "--auth",
            "basic",
            "--id-from",
            ".data_import_id",
            &url,
        ],
        &reqcheck_env(),
        &records.join("\n"),
    );
    let again = http_post(
        &wrk,
        Some(&sb),
        &["--each", "--dry-run", "--key-field", "_hash", &url],
        &[],
        &records[0],
    );
    assert_eq!(again.values()[0]["_key"], "1".repeat(64));
    assert_eq!(run.code, 69, "{}", run.stderr);
    assert_one_line_without(&run.stderr, &[REQCHECK_PASSWORD, "Sample"]);
    assert!(
        run.stderr.contains("1 of 4 records failed"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("record 3 (line 3)"), "{}", run.stderr);
    let results = run.values();
    assert_eq!(results.len(), 4);
    let oks: Vec<bool> = results.iter().map(|r| r["ok"] == true).collect();
    assert_eq!(oks, [true, true, false, true]);
    assert_eq!(results[0]["_key"], "P1");
    assert_eq!(results[0]["_op"], "new");
    assert_eq!(results[0]["_hash"], "1".repeat(64));
    assert_eq!(results[0]["status"], 201);
    assert_eq!(results[0]["remote_id"], "1");
    assert_eq!(results[2]["status"], 400);
    assert!(
        results[2]["error"]
            .as_str()
            .is_some_and(|e| e.contains("400"))
    );
    assert!(!run.stdout.contains("Sample"));
    // The bookkeeping fields are not sent; the others were delivered, on one connection.
    let seen = sb.received("reqcheck");
    assert_eq!(seen.len(), 4);
    assert!(
        seen.iter()
            .all(|r| !r.text().contains("_hash") && !r.text().contains("_key"))
    );
    assert!(
        seen.iter().all(|r| r.connection == seen[0].connection),
        "keep-alive"
    );
    assert_eq!(patients_stored(&sb), Some(3));
}

#[test]
fn fail_fast_stops_and_deleted_records_are_skipped_with_a_result() {
    let (sb, wrk) = start();
    let url = patient_data_url(&sb);
    let input = [
        json!({"_key": "P9", "_op": "deleted", "_hash": null, "_remote_id": "9"}),
        json!({"_key": "P1", "patients": []}),
        json!({"_key": "P2", "patient_data": [patient(2)]}),
    ]
    .map(|v| v.to_string())
    .join("\n");
    let run = http_post(
        &wrk,
        Some(&sb),
        &["--each", "--fail-fast", "--auth", "basic", &url],
        &reqcheck_env(),
        &input,
    );
    assert_eq!(run.code, 69, "{}", run.stderr);
    let results = run.values();
    assert_eq!(results.len(), 2, "{}", run.stdout);
    assert_eq!(
        (results[0]["_key"].clone(), results[0]["ok"].clone()),
        ("P9".into(), false.into())
    );
    assert!(
        results[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("deleted"))
    );
    assert_eq!(results[1]["status"], 400);
    assert_eq!(sb.received("reqcheck").len(), 1);
    assert!(run.stderr.contains("--fail-fast"), "{}", run.stderr);
}

#[test]
fn a_dropped_connection_is_retried() {
    let (sb, wrk) = start();
    sb.fault(Fault {
        path: "/reqcheck/patient_data".into(),
        count: 1,
        drop: true,
        ..Default::default()
    });
    let run = post_patient(&wrk, &sb, 5);
    ok(&run);
    assert_eq!(statuses(&sb, "reqcheck"), [0, 201]);
    assert_eq!(patients_stored(&sb), Some(1));
    assert_eq!(run.values()[0]["status"], 201);
}

/// A valid SIPCA event for the sandbox's dhis2 program.
fn sipca_event(uid: &str, beds: &str) -> Value {
    json!({
        "event": uid, "program": "SIPCAprg001", "programStage": "SIPCAstg001",
        "orgUnit": "OrgUnitA001", "status": "COMPLETED",
        "occurredAt": "2024-03-05", "completedAt": "2024-03-05",
        "dataValues": [
            {"dataElement": "SIPCAde0002", "value": beds},
            {"dataElement": "SIPCAde0004", "value": "true"},
            {"dataElement": "SIPCAde0005", "value": "YES"}
        ]
    })
}

#[test]
fn dhis2_jobs_are_followed_to_their_reports_and_bodies_saved_under_sipca_names() {
    let (sb, wrk) = start();
    let url = format!(
        "{}/dhis2/api/tracker?async=true&importStrategy=CREATE_AND_UPDATE",
        sb.url()
    );
    let records = [
        ("kobo-1", "EvtGood0001", "24"),
        ("kobo/../2", "EvtBad00002", "many"),
    ]
    .map(|(kobo, uid, beds)| {
        json!({"_key": kobo, "_remote_id": uid, "_kobo": kobo,
                   "payload": {"events": [sipca_event(uid, beds)]}})
        .to_string()
    })
    .join("\n");
    let run = http_post(
        &wrk,
        Some(&sb),
        &[
            "--each",
            "--auth",
            "dhis2-token",
            "--body-field",
            "payload",
            "--follow",
            "dhis2-job",
            "--poll-interval",
            "0.1",
            "--save-dir",
            "events_payload",
            "--save-name",
            "{date}__{_kobo}_{_remote_id}.json",
            "--save-response-name",
            "{date}__{_kobo}_{_remote_id}_response_event_payload.json",
            &url,
        ],
        &[("HTTP_TOKEN", DHIS2_PAT)],
        &records,
    );
    assert_eq!(run.code, 69, "{}", run.stderr);
    assert_one_line_without(&run.stderr, &[DHIS2_PAT, "many"]);
    let results = run.values();
    assert_eq!(results[0]["ok"], true, "{}", run.stdout);
    assert_eq!(results[0]["status"], 200);
    assert_eq!(results[0]["_remote_id"], "EvtGood0001");
    assert_eq!(results[1]["ok"], false);
    let error = results[1]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("status is ERROR") && error.contains("E1302"),
        "{error}"
    );
    // The job was polled until completed, then its report fetched, with the token each time.
    let seen = sb.received("dhis2");
    let job_polls = seen
        .iter()
        .filter(|r| r.path.contains("/jobs/") && !r.path.ends_with("/report"));
    assert!(job_polls.count() >= 4, "two jobs, each polled until done");
    assert_eq!(
        seen.iter().filter(|r| r.path.ends_with("/report")).count(),
        2
    );
    assert!(
        seen.iter()
            .all(|r| r.header("authorization") == Some(&format!("ApiToken {DHIS2_PAT}")))
    );
    let events = sb.state("dhis2")["events"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(events.len(), 1);
    // The request and the report, under SIPCA's names, mode 0600, values made safe.
    let date = chrono_today();
    let request = format!("events_payload/{date}__kobo-1_EvtGood0001.json");
    let report = format!("events_payload/{date}__kobo-1_EvtGood0001_response_event_payload.json");
    let sent: Value = serde_json::from_str(&wrk.read(&request)).unwrap_or_default();
    assert_eq!(sent["events"][0]["event"], "EvtGood0001");
    let kept: Value = serde_json::from_str(&wrk.read(&report)).unwrap_or_default();
    assert_eq!(kept["status"], "OK");
    assert_eq!(mode_of(&wrk.path(&request)), 0o600);
    assert_eq!(mode_of(&wrk.path(&report)), 0o600);
    let bad = format!("events_payload/{date}__kobo___2_EvtBad00002_response_event_payload.json");
    assert!(
        wrk.path(&bad).exists(),
        "{:?}",
        std::fs::read_dir(wrk.path("events_payload"))
            .map(|d| d.flatten().map(|e| e.file_name()).collect::<Vec<_>>())
    );
}

fn chrono_today() -> String {
    let out = std::process::Command::new("date")
        .arg("+%Y-%m-%d")
        .output()
        .unwrap_or_else(|e| panic!("date: {e}"));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn primero_case(key: &str, oscar_number: &str, name: &str) -> String {
    json!({"_key": key, "_hash": "a".repeat(64), "_remote_id": null,
           "data": {"oscar_number": oscar_number, "name_first": name, "sex": "female"}})
    .to_string()
}

/// NDJSON of [`primero_case`]s: (key, oscar number, first name) each.
fn primero_cases(cases: &[(&str, &str, &str)]) -> String {
    let lines: Vec<String> = cases
        .iter()
        .map(|(key, oscar_number, name)| primero_case(key, oscar_number, name))
        .collect();
    lines.join("\n")
}

/// Primero's cases in the sandbox: where they are created, and the flags
/// of an upsert by oscar number (a lookup, then a PATCH of the match).
struct Cases {
    url: String,
    lookup: String,
    update: String,
}

impl Cases {
    fn of(sb: &Sandbox) -> Cases {
        let url = format!("{}/primero/api/v2/cases", sb.url());
        Cases {
            lookup: format!("{url}?remote=true&oscar_number={{data.oscar_number}}"),
            update: format!("{url}/{{remote_id}}"),
            url,
        }
    }

    /// `--each --auth primero`, then `more`, then the URL.
    fn each<'a>(&'a self, more: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec!["--each", "--auth", "primero"];
        args.extend_from_slice(more);
        args.push(&self.url);
        args
    }

    /// Like [`Cases::each`], with the upsert's lookup and update flags.
    fn upsert<'a>(&'a self, more: &[&'a str]) -> Vec<&'a str> {
        let lookup = ["--lookup", &self.lookup, "--update-url", &self.update];
        self.each(&[&lookup, more].concat())
    }
}

/// Hold the next create in Primero for `delay_ms` before it is made and answered.
fn delay_next_create(sb: &Sandbox, delay_ms: u64) {
    sb.fault(Fault {
        path: "/primero/api/v2/cases".into(),
        method: Some("POST".into()),
        count: 1,
        status: 0,
        delay_ms,
        ..Default::default()
    });
}

fn cases_with(sb: &Sandbox, oscar_number: &str) -> Vec<Value> {
    sb.state("primero")["cases"]
        .as_array()
        .map(|cases| {
            cases
                .iter()
                .filter(|c| c["oscar_number"] == oscar_number)
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn primero_upsert_by_lookup_creates_updates_and_refuses_two_matches() {
    let (sb, wrk) = start();
    let cases = Cases::of(&sb);
    // Two cases share an oscar number: made first, with plain --each.
    let twins = primero_cases(&[
        ("T1", "TWIN0000000000000000000000", "Ana"),
        ("T2", "TWIN0000000000000000000000", "Ana"),
    ]);
    ok(&http_post(
        &wrk,
        Some(&sb),
        &cases.each(&[]),
        &primero_env(),
        &twins,
    ));
    let seeded = "01ED6NGKY1NVK3VDWXKR0S2XX5";
    let input = primero_cases(&[
        ("K1", seeded, "Updated"),
        ("K2", "NEW00000000000000000000000", "Created"),
        ("K3", "TWIN0000000000000000000000", "Ana"),
    ]);
    let run = http_post(
        &wrk,
        Some(&sb),
        &cases.upsert(&["--id-from", ".data.id"]),
        &primero_env(),
        &input,
    );
    assert_eq!(run.code, 69, "{}", run.stderr);
    assert_one_line_without(&run.stderr, &[PRIMERO_PASSWORD, "Updated", "Created"]);
    let results = run.values();
    let seeded_case = cases_with(&sb, seeded);
    assert_eq!(seeded_case.len(), 1);
    assert_eq!(seeded_case[0]["name_first"], "Updated");
    assert_eq!(
        (results[0]["ok"].clone(), results[0]["remote_id"].clone()),
        (true.into(), seeded_case[0]["id"].clone())
    );
    let created = cases_with(&sb, "NEW00000000000000000000000");
    assert_eq!(created.len(), 1);
    assert_eq!(results[1]["remote_id"], created[0]["id"]);
    assert_eq!(results[2]["ok"], false);
    assert!(
        results[2]["error"]
            .as_str()
            .is_some_and(|e| e.contains("2 matches")),
        "{}",
        run.stdout
    );
    assert_eq!(cases_with(&sb, "TWIN0000000000000000000000").len(), 2);
    let methods: Vec<String> = sb
        .received("primero")
        .iter()
        .skip(3) // the twins' login and two POSTs
        .map(|r| format!("{} {}", r.method, r.path.rsplit('/').next().unwrap_or("")))
        .collect();
    let patch = format!("PATCH {}", seeded_case[0]["id"].as_str().unwrap_or(""));
    assert_eq!(
        methods,
        [
            "POST tokens",
            "GET cases",
            &patch,
            "GET cases",
            "POST cases",
            "GET cases"
        ]
    );
}

#[test]
fn an_upsert_retried_after_a_timeout_starts_again_from_the_lookup() {
    let (sb, wrk) = start();
    let cases = Cases::of(&sb);
    // The create goes through, but only after the client gave up waiting.
    delay_next_create(&sb, 1500);
    let more = [
        "--timeout",
        "1",
        "--retry-delay",
        "2500",
        "--id-from",
        ".data.id",
    ];
    let run = http_post(
        &wrk,
        Some(&sb),
        &cases.upsert(&more),
        &primero_env(),
        &primero_case("K1", "SLOW0000000000000000000000", "Once"),
    );
    ok(&run);
    assert!(run.stderr.contains("timed out"), "{}", run.stderr);
    let made = cases_with(&sb, "SLOW0000000000000000000000");
    assert_eq!(made.len(), 1, "created once, then updated");
    assert_eq!(run.values()[0]["remote_id"], made[0]["id"]);
    let methods: Vec<String> = sb
        .received("primero")
        .iter()
        .map(|r| r.method.clone())
        .collect();
    assert_eq!(methods, ["POST", "GET", "POST", "GET", "PATCH"]);
}

#[test]
fn primero_reads_a_header_only_token_and_a_wrong_password_stops_at_the_login() {
    let (sb, wrk) = start();
    let cases = Cases::of(&sb);
    let input = primero_cases(&[("A", "HDR1", "One"), ("B", "HDR2", "Two")]);
    let run1 = http_post(
        &wrk,
        Some(&sb),
        &cases.each(&["-H", "x-sandbox-token-in-body: false"]),
        &primero_env(),
        &input,
    );
    ok(&run1);
    assert_eq!(
        statuses(&sb, "primero"),
        [200, 200, 200],
        "one login, two creates"
    );
    let wrong = "wrong-primero-secret";
    let run2 = http_post(
        &wrk,
        Some(&sb),
        &cases.each(&[]),
        &[("HTTP_USER", "primero_user"), ("HTTP_PASSWORD", wrong)],
        &input,
    );
    assert_eq!(run2.code, 77, "{}", run2.stderr);
    assert!(run2.stderr.contains("record 1"), "{}", run2.stderr);
    assert_one_line_without(&run2.stderr, &[wrong, "primero_user"]);
    assert!(
        run2.stdout.is_empty(),
        "no result for a record never sent: {}",
        run2.stdout
    );
    assert_eq!(
        sb.received("primero").len(),
        4,
        "one refused login, no retry"
    );
}

#[test]
fn primero_token_expiry_mid_run_logs_in_once_more_and_replays() {
    let (sb, wrk) = start();
    let cases = Cases::of(&sb);
    let input = primero_cases(&[("E1", "EXP1", "Exp"), ("E2", "EXP2", "Exp")]);
    // One-second tokens; the first create is held past its token's end.
    delay_next_create(&sb, 1200);
    let run = http_post(
        &wrk,
        Some(&sb),
        &cases.each(&["-H", "x-sandbox-token-ttl: 1"]),
        &primero_env(),
        &input,
    );
    ok(&run);
    let seen: Vec<String> = sb
        .received("primero")
        .iter()
        .map(|r| format!("{} {}", r.path.rsplit('/').next().unwrap_or(""), r.status))
        .collect();
    assert_eq!(
        seen,
        [
            "tokens 200",
            "cases 401",
            "tokens 200",
            "cases 200",
            "cases 200"
        ]
    );
    assert_eq!(run.values().iter().filter(|r| r["ok"] == true).count(), 2);
    assert_eq!(cases_with(&sb, "EXP1").len(), 1);
}

#[test]
fn oscar_upserts_with_the_sign_in_headers_sent_back() {
    let (sb, wrk) = start();
    let url = format!("{}/oscar/api/v1/organizations/clients/upsert/", sb.url());
    let client = json!({"_key": "case-1", "organization": {
        "external_id": "ext-0001", "external_id_display": "0001", "given_name": "Dara",
        "family_name": "Sok", "gender": "male", "date_of_birth": "2014-02-03",
        "organization_name": "cif", "organization_id": "cif", "services": []}});
    let env = [
        ("HTTP_USER", "oscar@example.org"),
        ("HTTP_PASSWORD", OSCAR_PASSWORD),
    ];
    let run = http_post(
        &wrk,
        Some(&sb),
        &["--each", "--auth", "oscar", "--id-from", ".global_id", &url],
        &env,
        &format!("{client}\n{client}"),
    );
    ok(&run);
    let results = run.values();
    assert_eq!(results.len(), 2);
    assert!(
        results[0]["remote_id"]
            .as_str()
            .is_some_and(|id| id.len() == 26)
    );
    assert_eq!(
        results[0]["remote_id"], results[1]["remote_id"],
        "the second is an update"
    );
    let seen = sb.received("oscar");
    assert_eq!(seen.len(), 3);
    assert!(seen[0].path.ends_with("/sign_in"));
    for upsert in &seen[1..] {
        assert!(upsert.header("access-token").is_some_and(|t| !t.is_empty()));
        assert!(upsert.header("client").is_some_and(|t| !t.is_empty()));
        assert_eq!(upsert.header("uid"), Some("oscar@example.org"));
    }
    let wrong = "wrong-oscar-secret";
    let run = http_post(
        &wrk,
        Some(&sb),
        &["--each", "--auth", "oscar", &url],
        &[("HTTP_USER", "oscar@example.org"), ("HTTP_PASSWORD", wrong)],
        &client.to_string(),
    );
    assert_eq!(run.code, 77, "{}", run.stderr);
    assert_one_line_without(&run.stderr, &[wrong, "oscar@example.org"]);
}

/// A ReportStream CSV: the sender's columns, one row with a bad gender code.
fn reportstream_csv() -> String {
    let columns = "Patient_last_name,Patient_first_name,Patient_middle_name,Patient_suffix,Patient_race,Patient_DOB,Patient_gender,Patient_ethnicity,Patient_street,Patient_street_2,Patient_city,Patient_county,Patient_state,Patient_zip_code,Patient_country,Patient_phone_number,Patient_email,Patient_ID,Patient_role,Patient_tribal_affiliation,Patient_preferred_language,Employed_in_healthcare,Resident_congregate_setting,Result_ID,Corrected_result_ID,Test_correction_reason,Test_result_status,Order_result_status,Observation_result_status,Test_result_code,Specimen_collection_date_time,Ordering_provider_ID,First_test,Symptomatic_for_disease,Illness_onset_date,Testing_lab_name,Testing_lab_CLIA,Testing_lab_state,Testing_lab_street,Testing_lab_street_2,Testing_lab_zip_code,Testing_lab_county,Testing_lab_phone_number,Testing_lab_city,Processing_mode_code,Ordering_facility_city,Ordering_facility_county,Ordering_facility_name,Organization_name,Ordering_facility_phone_number,Ordering_facility_email,Ordering_facility_state,Ordering_facility_street,Ordering_facility_street_2,Ordering_facility_zip_code,Ordering_provider_last_name,Ordering_provider_first_name,Ordering_provider_street,Ordering_provider_street_2,Ordering_provider_city,Ordering_provider_state,Ordering_provider_zip_code,Ordering_provider_county,Ordering_provider_phone_number,Ordered_test_code,Specimen_source_site_code,Specimen_type_code,Instrument_ID,Device_ID,Test_date,Date_result_released,Order_test_date,Site_of_care";
    let n = columns.split(',').count();
    let mut row = vec![String::new(); n];
    let at = |name: &str| columns.split(',').position(|c| c == name).unwrap_or(0);
    row[at("Result_ID")] = "RES-1".into();
    row[at("Patient_gender")] = "X".into();
    row[at("Patient_last_name")] = "Sample".into();
    format!("{columns}\n{}\n", row.join(","))
}

#[test]
fn reportstream_with_a_signed_client_assertion_and_with_a_function_key() {
    let (sb, wrk) = start();
    let key = common::testing::fixtures_dir().join("sandbox/reportstream-sender.key.pem");
    let key = key.to_string_lossy().into_owned();
    let url = format!(
        "{}/reportstream/api/reports?option=SkipInvalidItems",
        sb.url()
    );
    let csv = reportstream_csv();
    let common_args = [
        "-H",
        "client: simple_report",
        "--content-type",
        "text/csv",
        "--receipt-field",
        "warnings=[.warnings[].trackingIds[]] | unique",
        "--id-from",
        ".id",
    ];
    let mut args = vec![
        "--auth",
        "reportstream-jwt",
        "--private-key-file",
        &key,
        "--client-id",
        "simple_report.default",
    ];
    args.extend(common_args);
    args.push(&url);
    let run1 = http_post(&wrk, Some(&sb), &args, &[], &csv);
    ok(&run1);
    let receipt = &run1.values()[0];
    assert_eq!(receipt["status"], 201);
    assert_eq!(receipt["fields"]["warnings"], json!(["RES-1"]));
    assert!(
        receipt["remote_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
    let seen = sb.received("reportstream");
    assert_eq!(seen.len(), 2);
    assert!(seen[0].path.ends_with("/api/token") && seen[0].body.is_empty());
    assert!(
        seen[0].query.contains("scope=simple_report.%2A.report"),
        "{}",
        seen[0].query
    );
    assert!(
        seen[1]
            .header("authorization")
            .is_some_and(|a| a.starts_with("Bearer rs-sandbox-"))
    );

    let mut args = vec!["--auth", "function-key"];
    args.extend(common_args);
    args.push(&url);
    ok(&http_post(
        &wrk,
        Some(&sb),
        &args,
        &[("HTTP_TOKEN", FUNCTION_KEY)],
        &csv,
    ));
    assert_eq!(
        sb.received("reportstream")[2].header("x-functions-key"),
        Some(FUNCTION_KEY)
    );

    // A client id the sandbox does not know: the token is refused, 77.
    let wrong_id = [
        "--auth",
        "reportstream-jwt",
        "--private-key-file",
        &key,
        "--client-id",
        "other_org.default",
        "-H",
        "client: simple_report",
        "--content-type",
        "text/csv",
        &url,
    ];
    let run3 = http_post(&wrk, Some(&sb), &wrong_id, &[], &csv);
    assert_eq!(run3.code, 77, "{}", run3.stderr);
    assert_one_line_without(&run3.stderr, &["PRIVATE KEY", "Sample"]);
    // A wrong function key: 401, 77.
    let mut args = vec!["--auth", "function-key"];
    args.extend(common_args);
    args.push(&url);
    let run4 = http_post(
        &wrk,
        Some(&sb),
        &args,
        &[("HTTP_TOKEN", "wrong-function-key")],
        &csv,
    );
    assert_eq!(run4.code, 77, "{}", run4.stderr);
    assert_one_line_without(&run4.stderr, &["wrong-function-key", FUNCTION_KEY]);
}

#[test]
fn bearer_and_dhis2_token_headers_and_their_refusals() {
    let (sb, wrk) = start();
    let url = format!("{}/dhis2/api/tracker?async=false", sb.url());
    let body = json!({"events": [sipca_event("EvtBearer01", "3")]}).to_string();
    let run1 = http_post(
        &wrk,
        Some(&sb),
        &["--auth", "dhis2-token", "--token-env", "D2_PAT", &url],
        &[("D2_PAT", DHIS2_PAT)],
        &body,
    );
    ok(&run1);
    let wrong = "d2pat_wrong000000000000000000000000";
    let run2 = http_post(
        &wrk,
        Some(&sb),
        &["--auth", "bearer", &url],
        &[("HTTP_TOKEN", wrong)],
        &body,
    );
    assert_eq!(run2.code, 77, "{}", run2.stderr);
    assert_one_line_without(&run2.stderr, &[wrong]);
    let seen = sb.received("dhis2");
    assert_eq!(
        seen[0].header("authorization"),
        Some(&format!("ApiToken {DHIS2_PAT}")[..])
    );
    assert_eq!(
        seen[1].header("authorization"),
        Some(&format!("Bearer {wrong}")[..])
    );
    assert_eq!(seen.len(), 2, "401 is not retried");
}

#[test]
fn dry_run_sends_nothing_needs_no_secret_and_redacts() {
    let (sb, wrk) = start();
    let cases = Cases::of(&sb);
    let input = primero_cases(&[("K1", "DRY1", "Dry"), ("K2", "DRY2", "Run")]);
    let run = http_post(
        &wrk,
        Some(&sb),
        &cases.upsert(&[
            "--dry-run",
            "-H",
            "X-Api-Key: k3y-value",
            "--save-dir",
            "out",
            "--save-name",
            "{_key}-{n}.json",
        ]),
        &[],
        &input,
    );
    ok(&run);
    let results = run.values();
    assert_eq!(results.len(), 2);
    assert!(
        results
            .iter()
            .all(|r| r["dry_run"] == true && r["ok"] == true)
    );
    assert_eq!(
        run.stderr.lines().count(),
        4,
        "lookup and create per record: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("GET ") && run.stderr.contains("oscar_number=..."),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("authorization: ***") && run.stderr.contains("X-Api-Key: ***"));
    assert!(
        !run.stderr.contains("k3y-value") && !run.stderr.contains("DRY1"),
        "{}",
        run.stderr
    );
    assert!(wrk.read("out/K2-2.json").contains("DRY2"));
    for api in sb.api_names() {
        assert!(sb.received(api).is_empty(), "{api} received a request");
    }
    // One request, dry: the receipt says so.
    let single = format!("{}/reqcheck/heartbeat", sb.url());
    let run = http_post(
        &wrk,
        Some(&sb),
        &["--dry-run", "--auth", "basic", "--no-body", &single],
        &[],
        "",
    );
    ok(&run);
    assert_eq!(run.values()[0]["dry_run"], true);
    assert!(
        run.stderr.starts_with("http-post: dry run: POST "),
        "{}",
        run.stderr
    );
    assert!(sb.received("reqcheck").is_empty());
}

#[test]
fn usage_errors_name_the_flag() {
    let wrk = Workdir::new(BIN);
    let cases: [(&[&str], &str); 7] = [
        (
            &["--each", "--response", "x", "https://h/api/x"],
            "--response",
        ),
        (&["--lookup", "https://h/x", "https://h/api/x"], "--each"),
        (
            &[
                "--each",
                "--save-dir",
                "d",
                "--save-name",
                "a/{n}.json",
                "https://h/x",
            ],
            "--save-dir",
        ),
        (&["--id-from", ".[", "https://h/x"], "--id-from"),
        (&["--each", "https://h/api/{unclosed"], "URL template"),
        (
            &[
                "--each",
                "--save-dir",
                "d",
                "--save-name",
                ".",
                "https://h/x",
            ],
            "--save-name \".\"",
        ),
        (
            &[
                "--each",
                "--save-dir",
                "d",
                "--save-name",
                "..",
                "https://h/x",
            ],
            "--save-name \"..\"",
        ),
    ];
    for (args, want) in cases {
        let out = http_post(&wrk, None, args, &[], "");
        assert_eq!(out.code, 64, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(want), "{args:?}: {}", out.stderr);
    }
    // A record without the URL template's field is a data error for that record.
    let out = http_post(
        &wrk,
        None,
        &["--each", "--dry-run", "https://h.example/api/cases/{id}"],
        &[],
        "{\"_key\":\"k\",\"name\":\"Sam\"}\n",
    );
    assert_eq!(out.code, 65, "{}", out.stderr);
    assert!(
        out.stderr.contains("{id}") && !out.stderr.contains("Sam"),
        "{}",
        out.stderr
    );
    assert_eq!(out.values()[0]["ok"], false);
}

/// The answer of the next `count` requests under `prefix` (any method).
fn answer_next(sb: &Sandbox, prefix: &str, count: u32, status: u16) {
    sb.fault(Fault {
        path: format!("{prefix}*"),
        count,
        status,
        body: Some(json!({"id": null, "status": "accepted"})),
        ..Default::default()
    });
}

#[test]
fn an_accepted_request_keeps_its_receipt_when_nothing_can_be_extracted() {
    let (sb, wrk) = start();
    let url = patient_data_url(&sb);
    let body = json!({"patient_data": [patient(1)]}).to_string();
    // (extraction flags, what extract_error names, the receipt's remote_id and fields)
    let cases: [(&[&str], &str, Value, Value); 3] = [
        (
            &["--id-from", ".no_such_id"],
            "--id-from",
            Value::Null,
            Value::Null,
        ),
        (
            &[
                "--id-from",
                ".data_import_id",
                "--receipt-field",
                "s=.status|error(\"boom\")",
            ],
            "--receipt-field s",
            "2".into(),
            Value::Null,
        ),
        (
            &[
                "--receipt-field",
                "s=.status",
                "--id-from",
                ".status|tonumber",
            ],
            "--id-from",
            Value::Null,
            json!({"s": "success"}),
        ),
    ];
    for (n, (flags, names, remote_id, fields)) in cases.into_iter().enumerate() {
        let mut args = vec!["--auth", "basic", "--receipt", "audit.jsonl"];
        args.extend_from_slice(flags);
        args.push(&url);
        let run = http_post(&wrk, Some(&sb), &args, &reqcheck_env(), &body);
        assert_eq!(run.code, 65, "{flags:?}: {}", run.stderr);
        assert_one_line_without(&run.stderr, &["Sample", REQCHECK_PASSWORD]);
        assert!(run.stderr.contains("accepted"), "{}", run.stderr);
        let receipt = &run.values()[0];
        assert_eq!(receipt["status"], 201, "{flags:?}");
        assert_eq!(receipt["remote_id"], remote_id, "{flags:?}");
        assert_eq!(receipt["fields"], fields, "{flags:?}");
        let error = receipt["extract_error"].as_str().unwrap_or_default();
        assert!(error.starts_with(names), "{flags:?}: {error}");
        // One request per run: the next run has the receipt and sends nothing again.
        assert_eq!(sb.received("reqcheck").len(), n + 1);
        assert_eq!(ndjson_values(&wrk.read("audit.jsonl")).len(), n + 1);
    }
}

#[test]
fn each_record_accepted_without_its_id_is_delivered_warned_and_65() {
    let (sb, wrk) = start();
    let url = patient_data_url(&sb);
    let input = (1..=3)
        .map(|n| json!({"_key": format!("P{n}"), "patient_data": [patient(n)]}).to_string())
        .collect::<Vec<_>>()
        .join("\n");
    let run = http_post(
        &wrk,
        Some(&sb),
        &[
            "--each",
            "--auth",
            "basic",
            "--id-from",
            ".no_such_id",
            &url,
        ],
        &reqcheck_env(),
        &input,
    );
    assert_eq!(run.code, 65, "{}", run.stderr);
    let results = run.values();
    assert_eq!(results.len(), 3);
    for (n, result) in results.iter().enumerate() {
        assert_eq!(result["ok"], true, "{result}");
        assert_eq!(result["status"], 201, "{result}");
        assert_eq!(result["remote_id"], Value::Null, "{result}");
        assert_eq!(
            result["extract_error"],
            "--id-from: no id in the answer (a string or a number)"
        );
        let warning = format!(
            "record {} (line {}): accepted, without its id",
            n + 1,
            n + 1
        );
        assert!(run.stderr.contains(&warning), "{}", run.stderr);
    }
    let last = run.stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains("3 records accepted without the id"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("Sample"), "{}", run.stderr);
    assert_eq!(sb.received("reqcheck").len(), 3);
    assert_eq!(patients_stored(&sb), Some(3));
}

/// What the server answers (status, how many times), the URL template,
/// more flags, and the exit code.
type UrlCase<'a> = (Option<(u16, u32)>, &'a str, &'a [&'a str], i32);

#[test]
fn a_record_value_in_the_url_reaches_no_message() {
    let (sb, wrk) = start();
    let prefix = "/reqcheck/patient_data/";
    let template = format!("{}{prefix}{{name}}", sb.url());
    let shown = format!("{}{prefix}{{name}}", sb.url());
    let input = json!({"_key": "k1", "name": SENTINEL}).to_string();
    let unreachable = "http://127.0.0.1:9/cases/{name}".to_string();
    let cases: [UrlCase; 4] = [
        (Some((422, 1)), &template, &[], 69),
        (Some((503, 3)), &template, &["--retries", "2"], 75),
        (None, &unreachable, &["--retries", "1"], 75),
        (None, &template, &["--dry-run"], 0),
    ];
    for (status, url, flags, code) in cases {
        if let Some((status, count)) = status {
            answer_next(&sb, prefix, count, status);
        }
        let mut args = vec!["--each"];
        args.extend_from_slice(flags);
        args.push(url);
        let run = http_post(&wrk, Some(&sb), &args, &[], &input);
        assert_eq!(run.code, code, "{status:?} {flags:?}: {}", run.stderr);
        assert!(!run.stdout.contains(SENTINEL), "{}", run.stdout);
        let where_shown = if url == unreachable {
            "/cases/{name}"
        } else {
            &shown
        };
        assert!(run.stderr.contains(where_shown), "{}", run.stderr);
        if code != 0 {
            let error = run.values()[0]["error"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            assert!(error.contains(where_shown), "{error}");
        }
    }
    // --show-values shows the URL as sent.
    let mut cmd = wrk.command();
    cmd.args(["--each", "--dry-run", "--show-values", &template])
        .write_stdin(input.as_bytes().to_vec());
    let out = cmd.output().unwrap_or_else(|e| panic!("{e}"));
    assert!(common::testing::stderr_of(&out).contains(&format!("{prefix}{SENTINEL}")));
}

#[test]
fn dot_segments_in_values_are_percent_encoded() {
    let (sb, wrk) = start();
    let prefix = "/reqcheck/patient_data/";
    answer_next(&sb, prefix, 4, 201);
    let input = ["..", ".", "a..b", "..."]
        .map(|name| json!({"_key": name, "name": name}).to_string())
        .join("\n");
    let url = format!("{}{prefix}{{name}}", sb.url());
    let run = http_post(&wrk, Some(&sb), &["--each", &url], &[], &input);
    ok(&run);
    let paths: Vec<String> = sb
        .received("reqcheck")
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(
        paths,
        ["%2E%2E", "%2E", "a..b", "%2E%2E%2E"].map(|p| format!("{prefix}{p}"))
    );
}

#[test]
fn an_empty_value_in_a_url_template_fails_its_record_and_sends_nothing_for_it() {
    let (sb, wrk) = start();
    let prefix = "/reqcheck/patient_data/";
    answer_next(&sb, prefix, 1, 201);
    let input = [("k1", ""), ("k2", "b")]
        .map(|(key, name)| json!({"_key": key, "name": name}).to_string())
        .join("\n");
    let url = format!("{}{prefix}{{name}}", sb.url());
    let run = http_post(&wrk, Some(&sb), &["--each", &url], &[], &input);
    assert_eq!(run.code, 65, "{}", run.stderr);
    let results = run.values();
    assert_eq!(results[0]["ok"], json!(false));
    assert_eq!(
        results[0]["error"],
        json!("the URL template's field {name} is missing, null, empty, or not a string or number")
    );
    assert_eq!(results[1]["ok"], json!(true));
    let paths: Vec<String> = sb
        .received("reqcheck")
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(paths, [format!("{prefix}b")]);
}

#[test]
fn a_login_url_that_cannot_be_derived_names_the_host_not_the_templated_path() {
    let wrk = Workdir::new(BIN);
    let input = json!({"_key": "k", "name": SENTINEL}).to_string();
    let env = [("HTTP_USER", "u"), ("HTTP_PASSWORD", "p")];
    let args = [
        "--each",
        "--auth",
        "primero",
        "https://127.0.0.1:9/cases/{name}",
    ];
    let run = http_post(&wrk, None, &args, &env, &input);
    assert_eq!(run.code, 64, "{}", run.stderr);
    assert!(
        run.stderr.contains("on https://127.0.0.1:9 "),
        "{}",
        run.stderr
    );
}

#[test]
fn a_save_name_too_long_fails_its_record_only_and_the_save_dir_is_private() {
    let (sb, wrk) = start();
    let url = patient_data_url(&sb);
    let long = format!("{SENTINEL}{}", "x".repeat(300));
    let input = [("P1", long.as_str()), ("P2", "short")]
        .map(|(key, name)| {
            json!({"_key": key, "name": name, "patient_data": [patient(1)]}).to_string()
        })
        .join("\n");
    let run = http_post(
        &wrk,
        Some(&sb),
        &[
            "--each",
            "--auth",
            "basic",
            "--save-dir",
            "saved/bodies",
            "--save-name",
            "{name}.json",
            &url,
        ],
        &reqcheck_env(),
        &input,
    );
    assert_eq!(run.code, 65, "{}", run.stderr);
    assert!(!run.stdout.contains(SENTINEL), "{}", run.stdout);
    let results = run.values();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["ok"], false);
    let error = results[0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("--save-name {name}.json"), "{error}");
    assert_eq!(
        (results[1]["ok"].clone(), results[1]["status"].clone()),
        (true.into(), 201.into())
    );
    assert_eq!(sb.received("reqcheck").len(), 1);
    assert!(wrk.path("saved/bodies/short.json").exists());
    for dir in ["saved", "saved/bodies"] {
        assert_eq!(mode_of(&wrk.path(dir)), 0o700, "{dir}");
    }
}
