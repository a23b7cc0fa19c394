#![allow(clippy::unwrap_used)]
//! http-get through its binary, against the in-process sandbox (Primero,
//! OSCaR, dhis2 over HTTPS with a test CA) and, for Link paging and odd
//! servers, a small plain-HTTP server on loopback written here. The tests
//! check what the servers received as well as what came out. All data is
//! invented.

use assert_cmd::Command;
use common::testing::{HTTP_VARS, Run, assert_one_line_without};
use sandbox::{Fault, Received, Sandbox};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_http-get");

fn http_get(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(BIN);
    for var in HTTP_VARS {
        cmd.env_remove(var);
    }
    Run::of(cmd.envs(env.iter().copied()).args(args))
}

fn ok(args: &[&str], env: &[(&str, &str)]) -> Run {
    let run = http_get(args, env);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    run
}

fn fails(args: &[&str], env: &[(&str, &str)], code: i32) -> Run {
    let run = http_get(args, env);
    assert_eq!(
        run.code, code,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    let last = run.stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("http-get: error: "), "{}", run.stderr);
    run
}

// ---------------------------------------------------------------- a local server

/// What the local server answers: status, extra headers, body.
type Answer = (u16, Vec<(String, String)>, String);

/// A request the local server saw: its target (path and query) and headers.
type Seen = (String, Vec<(String, String)>);

/// A plain-HTTP server on loopback that answers each request (its path
/// and query) with `answer`, and keeps every request line it saw.
struct Local {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Local {
    fn start(answer: impl Fn(&str, &str) -> Answer + Send + Sync + 'static) -> Local {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let own = base.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                let mut headers = Vec::new();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                        break;
                    }
                    if let Some((n, v)) = h.trim_end().split_once(':') {
                        headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
                    }
                }
                log.lock().unwrap().push((target.clone(), headers));
                let (status, extra, body) = answer(&own, &target);
                let mut head = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
                    body.len()
                );
                for (n, v) in extra {
                    head.push_str(&format!("{n}: {v}\r\n"));
                }
                head.push_str("\r\n");
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(body.as_bytes());
                let _ = stream.flush();
                let mut rest = [0u8; 1];
                let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(10)));
                let _ = stream.read(&mut rest);
            }
        });
        Local { base, seen }
    }

    fn targets(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|(t, _)| t.clone())
            .collect()
    }

    fn headers(&self, i: usize) -> Vec<(String, String)> {
        self.seen.lock().unwrap()[i].1.clone()
    }
}

/// The number a request's target gives the query parameter `name`, or 0.
fn number_param(target: &str, name: &str) -> usize {
    target
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix(name)?.strip_prefix('='))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn link(target: &str) -> Vec<(String, String)> {
    vec![(
        "link".into(),
        format!("<{target}>; rel=\"next\", <{target}>; rel=\"last\""),
    )]
}

// ---------------------------------------------------------------- Primero

const PRIMERO_ENV: &[(&str, &str)] = &[
    ("HTTP_USER", "primero_user"),
    ("HTTP_PASSWORD", "primero-secret"),
];

/// A fresh sandbox, and the way to its Primero cases: the listing's URL
/// and the sandbox's CA.
struct Primero {
    sb: Sandbox,
    url: String,
    ca: String,
}

impl Primero {
    fn start() -> Primero {
        let sb = Sandbox::start().unwrap();
        let url = format!("{}/api/v2/cases", sb.api_url("primero"));
        let ca = sb.ca_file().display().to_string();
        Primero { sb, url, ca }
    }

    /// `URL --auth primero --ca-file CA`, then `more`.
    fn args<'a>(&'a self, more: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec![
            self.url.as_str(),
            "--auth",
            "primero",
            "--ca-file",
            &self.ca,
        ];
        args.extend_from_slice(more);
        args
    }

    /// The GETs of the cases listing the sandbox received (not the login).
    fn case_lists(&self) -> Vec<Received> {
        self.sb
            .received("primero")
            .into_iter()
            .filter(|r| r.method == "GET" && r.path == "/primero/api/v2/cases")
            .collect()
    }
}

/// The seeded cases, read from the fixture the sandbox is seeded from.
fn seeded_cases() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/sandbox/primero-cases.json"
    );
    let seed: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    seed["cases"].as_array().unwrap().clone()
}

/// The records' ids, sorted.
fn sorted_ids(records: &[Value]) -> Vec<&str> {
    let mut ids: Vec<&str> = records.iter().map(|r| r["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    ids
}

fn query_pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn primero_pages_through_every_case_once() {
    let primero = Primero::start();
    let more = ["--paginate", "page", "--per", "20", "--records", ".data[]"];
    let run = ok(&primero.args(&more), PRIMERO_ENV);
    let records = run.values();
    let seeded = seeded_cases();
    assert_eq!(
        sorted_ids(&records),
        sorted_ids(&seeded),
        "every case exactly once"
    );
    assert_eq!(
        run.stderr,
        format!("http-get: {} records in 3 pages\n", seeded.len())
    );

    let lists = primero.case_lists();
    assert_eq!(lists.len(), 3);
    for (i, list) in lists.iter().enumerate() {
        let pairs = query_pairs(&list.query);
        assert_eq!(param(&pairs, "page"), Some((i + 1).to_string().as_str()));
        assert_eq!(param(&pairs, "per"), Some("20"));
        assert!(
            list.header("authorization")
                .is_some_and(|a| a.starts_with("Bearer "))
        );
        assert_eq!(list.header("accept"), Some("application/json"));
    }
    let logins = primero
        .sb
        .received("primero")
        .iter()
        .filter(|r| r.path.ends_with("/tokens"))
        .count();
    assert_eq!(logins, 1, "one login for the run");
}

#[test]
fn primero_filter_syntax_goes_through_query() {
    let primero = Primero::start();
    let since = "2023-08-24T00:00:00Z";
    let updated_since = format!("last_updated_at={since}..");
    let more = [
        "--paginate",
        "page",
        "--per",
        "10",
        "--query",
        &updated_since,
        "--query",
        "remote=true",
        "--records",
        ".data[]",
    ];
    let run = ok(&primero.args(&more), PRIMERO_ENV);
    let seeded = seeded_cases();
    let recent: Vec<Value> = seeded
        .iter()
        .filter(|c| c["last_updated_at"].as_str().unwrap() >= since)
        .cloned()
        .collect();
    assert!(!recent.is_empty() && recent.len() < seeded.len());
    assert_eq!(sorted_ids(&run.values()), sorted_ids(&recent));

    let lists = primero.case_lists();
    assert_eq!(lists.len(), recent.len().div_ceil(10));
    for list in &lists {
        // The colons are encoded, the range dots are not, and the server reads it back.
        assert!(
            list.query
                .contains("last_updated_at=2023-08-24T00%3A00%3A00Z.."),
            "{}",
            list.query
        );
        let pairs = query_pairs(&list.query);
        assert_eq!(
            param(&pairs, "last_updated_at"),
            Some("2023-08-24T00:00:00Z..")
        );
        assert_eq!(param(&pairs, "remote"), Some("true"));
    }
}

#[test]
fn records_default_and_filtered() {
    let primero = Primero::start();
    // Without --records an object answer is one record: the page itself.
    let run = ok(&primero.args(&["--query", "per=5"]), PRIMERO_ENV);
    let records = run.values();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["data"].as_array().unwrap().len(), 5);
    assert_eq!(records[0]["metadata"]["total"], json!(seeded_cases().len()));
    assert_eq!(run.stderr, "http-get: 1 record in 1 page\n");

    // A filter building records; --quiet drops the summary.
    let more = [
        "--query",
        "per=3",
        "--quiet",
        "--records",
        ".data[] | {id, case_id}",
    ];
    let run = ok(&primero.args(&more), PRIMERO_ENV);
    let records = run.values();
    assert_eq!(records.len(), 3);
    for r in &records {
        assert_eq!(
            r.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["id", "case_id"]
        );
    }
    assert_eq!(run.stderr, "");
}

#[test]
fn records_that_are_not_objects_are_refused_without_values() {
    let primero = Primero::start();
    let more = [
        "--paginate",
        "page",
        "--per",
        "20",
        "--records",
        ".data[].case_id",
    ];
    let run = fails(&primero.args(&more), PRIMERO_ENV, 65);
    assert_eq!(run.stdout, "", "nothing of the page is written");
    let first_case_id = seeded_cases()[0]["case_id"].as_str().unwrap().to_string();
    assert_one_line_without(&run.stderr, &[&first_case_id]);
    assert!(
        run.stderr
            .contains("page 1: record 1 is a string, not an object"),
        "{}",
        run.stderr
    );

    // A filter error names the flag, not the value.
    let more = ["--records", ".data[].case_id.x"];
    let run = fails(&primero.args(&more), PRIMERO_ENV, 65);
    assert_one_line_without(&run.stderr, &[&first_case_id]);
    assert!(
        run.stderr
            .contains("--records: filter error: cannot index a string"),
        "{}",
        run.stderr
    );

    // A filter that does not compile is a usage error before any request.
    let before = primero.sb.received("primero").len();
    let run = fails(&primero.args(&["--records", ".data[]]"]), PRIMERO_ENV, 64);
    assert!(
        run.stderr.contains("--records: column 8:"),
        "{}",
        run.stderr
    );
    assert_eq!(primero.sb.received("primero").len(), before);
}

#[test]
fn empty_result_writes_nothing_and_exits_0() {
    let primero = Primero::start();
    let more = [
        "--paginate",
        "page",
        "--query",
        "last_updated_at=2099-01-01T00:00:00Z..",
        "--records",
        ".data[]",
    ];
    let run = ok(&primero.args(&more), PRIMERO_ENV);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, "http-get: 0 records in 1 page\n");
    assert_eq!(primero.case_lists().len(), 1);
}

#[test]
fn wrong_password_is_77_without_the_secret() {
    let primero = Primero::start();
    let secret = "not-the-primero-secret-4711";
    let run = fails(
        &primero.args(&["--paginate", "page", "--records", ".data[]"]),
        &[("HTTP_USER", "primero_user"), ("HTTP_PASSWORD", secret)],
        77,
    );
    assert_eq!(run.stdout, "");
    assert_one_line_without(&run.stderr, &[secret, "primero_user"]);
    assert!(
        primero.case_lists().is_empty(),
        "no listing without a login"
    );
}

#[test]
fn missing_password_is_78_before_any_request() {
    let primero = Primero::start();
    let run = fails(&primero.args(&[]), &[("HTTP_USER", "primero_user")], 78);
    assert!(run.stderr.contains("HTTP_PASSWORD"), "{}", run.stderr);
    assert!(primero.sb.received("primero").is_empty());
}

#[test]
fn a_503_is_retried_then_the_page_arrives() {
    let primero = Primero::start();
    primero.sb.fault(Fault {
        path: "/primero/api/v2/cases".into(),
        method: Some("GET".into()),
        count: 2,
        status: 503,
        retry_after: Some(1),
        ..Default::default()
    });
    let more = [
        "--paginate",
        "page",
        "--per",
        "20",
        "--records",
        ".data[]",
        "--retry-delay",
        "1",
    ];
    let run = ok(&primero.args(&more), PRIMERO_ENV);
    assert_eq!(
        run.values().len(),
        seeded_cases().len(),
        "no page lost or doubled"
    );
    let lists = primero.case_lists();
    let statuses: Vec<u16> = lists.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 503, 200, 200, 200]);
    assert!(
        lists[..3].iter().all(|r| r.query == lists[0].query),
        "the same page asked again"
    );
    let warnings = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("http-get: warning: "))
        .count();
    assert_eq!(warnings, 2, "{}", run.stderr);
}

#[test]
fn a_404_is_69_after_one_request() {
    let primero = Primero::start();
    let missing = format!("{}/no-such-case-0000", primero.url);
    let run = fails(
        &[&missing, "--auth", "primero", "--ca-file", &primero.ca],
        PRIMERO_ENV,
        69,
    );
    assert!(run.stderr.contains("404"), "{}", run.stderr);
    let gets: Vec<Received> = primero
        .sb
        .received("primero")
        .into_iter()
        .filter(|r| r.method == "GET")
        .collect();
    assert_eq!(gets.len(), 1);
    assert_eq!(gets[0].status, 404);
}

/// What a status comes to end to end: the exit code, and how many requests
/// the server saw with --retries 2 (three for a temporary status, one else).
#[test]
fn each_status_gives_its_exit_code_and_only_temporary_ones_are_retried() {
    for (status, code, requests) in [
        (408, 75, 3),
        (425, 75, 3),
        (429, 75, 3),
        (500, 75, 3),
        (503, 75, 3),
        (507, 75, 3),
        (501, 69, 1),
        (505, 69, 1),
        (508, 69, 1),
        (404, 69, 1),
        (511, 77, 1),
    ] {
        let server = Local::start(move |_, _| (status, vec![], String::new()));
        let url = format!("{}/cases", server.base);
        let run = fails(&[&url, "--retries", "2", "--retry-delay", "1"], &[], code);
        assert!(
            run.stderr.contains(&status.to_string()),
            "{status}: {}",
            run.stderr
        );
        assert_eq!(server.targets().len(), requests, "{status}: {}", run.stderr);
    }
}

#[test]
fn an_unknown_ca_is_77_and_nothing_is_sent() {
    let primero = Primero::start();
    let run = fails(
        &[&primero.url, "--auth", "primero", "--retries", "0"],
        PRIMERO_ENV,
        77,
    );
    assert_one_line_without(&run.stderr, &["primero-secret"]);
    assert!(
        primero.sb.received("primero").is_empty(),
        "no request got through TLS"
    );
}

// ---------------------------------------------------------------- OSCaR

#[test]
fn oscar_sign_in_headers_and_since_date_quoting() {
    let sb = Sandbox::start().unwrap();
    let url = format!("{}/api/v1/organizations/clients", sb.api_url("oscar"));
    let ca = sb.ca_file().display().to_string();
    let run = ok(
        &[
            &url,
            "--auth",
            "oscar",
            "--ca-file",
            &ca,
            "--query",
            "since_date='2023-08-24 00:00:00'",
            "--query",
            "referred_external=true",
            "--records",
            ".data[]",
        ],
        &[
            ("HTTP_USER", "oscar@example.org"),
            ("HTTP_PASSWORD", "oscar-secret"),
        ],
    );
    let received = sb.received("oscar");
    let sign_in = received
        .iter()
        .find(|r| r.path.ends_with("/admin_auth/sign_in"))
        .unwrap();
    assert_eq!(sign_in.method, "POST");
    let list: Vec<&Received> = received
        .iter()
        .filter(|r| r.path.ends_with("/organizations/clients"))
        .collect();
    assert_eq!(list.len(), 1);
    let list = list[0];
    for name in ["access-token", "client", "uid"] {
        assert!(
            list.header(name).is_some_and(|v| !v.is_empty()),
            "{name} sent back"
        );
    }
    assert_eq!(list.header("uid"), Some("oscar@example.org"));
    assert!(
        list.query
            .contains("since_date=%272023-08-24%2000%3A00%3A00%27"),
        "{}",
        list.query
    );
    let pairs = query_pairs(&list.query);
    assert_eq!(param(&pairs, "since_date"), Some("'2023-08-24 00:00:00'"));
    let records = run.values();
    assert!(!records.is_empty());
    for r in &records {
        assert!(r["global_id"].is_string(), "{r}");
    }
}

// ---------------------------------------------------------------- dhis2

#[test]
fn dhis2_program_metadata_is_one_record() {
    let sb = Sandbox::start().unwrap();
    let url = format!("{}/api/programs/SIPCAprg001", sb.api_url("dhis2"));
    let ca = sb.ca_file().display().to_string();
    let fields = "programStages[id,name,programStageDataElements[compulsory,dataElement[name,valueType,id,optionSet[name,id,valueType,options[name,code]]]]]";
    let run = ok(
        &[
            &url,
            "--auth",
            "basic",
            "--ca-file",
            &ca,
            "--query",
            &format!("fields={fields}"),
        ],
        &[("HTTP_USER", "admin"), ("HTTP_PASSWORD", "district")],
    );
    let records = run.values();
    assert_eq!(records.len(), 1);
    let stages = records[0]["programStages"].as_array().unwrap();
    assert!(!stages.is_empty());
    assert!(stages[0]["programStageDataElements"].is_array());
    let received = sb.received("dhis2");
    assert_eq!(received.len(), 1);
    assert!(
        !received[0].query.contains('['),
        "brackets are encoded: {}",
        received[0].query
    );
    assert_eq!(
        param(&query_pairs(&received[0].query), "fields"),
        Some(fields)
    );

    // The same with a personal access token; a wrong one is 77 without the token.
    let pat = "d2pat_sandbox0000000000000000000000";
    let run = ok(
        &[&url, "--auth", "dhis2-token", "--ca-file", &ca],
        &[("HTTP_TOKEN", pat)],
    );
    assert_eq!(run.values().len(), 1);
    let wrong = "d2pat_wrong00000000000000000000000000";
    let run = fails(
        &[&url, "--auth", "dhis2-token", "--ca-file", &ca],
        &[("HTTP_TOKEN", wrong)],
        77,
    );
    assert_one_line_without(&run.stderr, &[wrong]);
}

/// A CONNECT proxy on loopback: each tunnel's request head is kept, then
/// bytes are copied both ways to the host it names (sandbox.test being
/// 127.0.0.1).
fn connect_proxy() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let heads = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&heads);
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let mut reader = BufReader::new(client.try_clone().unwrap());
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
                head.push_str(&line);
            }
            let target = head
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .replace("sandbox.test:", "127.0.0.1:");
            log.lock().unwrap().push(head);
            let Ok(server) = std::net::TcpStream::connect(&target) else {
                continue;
            };
            let mut client_w = client;
            client_w
                .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .unwrap();
            let (mut server_r, mut server_w) = (server.try_clone().unwrap(), server);
            let mut client_r = reader;
            std::thread::spawn(move || std::io::copy(&mut client_r, &mut server_w));
            std::thread::spawn(move || std::io::copy(&mut server_r, &mut client_w));
        }
    });
    (url, heads)
}

#[test]
fn https_tunnels_through_a_connect_proxy_but_loopback_and_no_proxy_hosts_do_not() {
    let sb = Sandbox::start().unwrap();
    let path = "/dhis2/api/programs/SIPCAprg001";
    let by_name = format!("https://sandbox.test:{}{path}", sb.port());
    let loopback = format!("{}{path}", sb.url());
    let ca = sb.ca_file().display().to_string();
    let (proxy, heads) = connect_proxy();
    let creds = [("HTTP_USER", "admin"), ("HTTP_PASSWORD", "district")];
    let args = |url| [url, "--auth", "basic", "--ca-file", &ca, "--retries", "0"];

    // Through the proxy: one CONNECT to the sandbox; the certificate checked
    // is still the sandbox's, and the credentials stay inside the tunnel.
    let env = [creds[0], creds[1], ("HTTPS_PROXY", proxy.as_str())];
    let run = ok(&args(&by_name), &env);
    assert_eq!(run.values().len(), 1);
    let seen = heads.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let connect = format!("CONNECT sandbox.test:{} ", sb.port());
    assert!(seen[0].starts_with(&connect), "{}", seen[0]);
    assert!(
        !seen[0].contains("district") && !seen[0].contains("Basic"),
        "{}",
        seen[0]
    );
    assert_eq!(sb.received("dhis2").len(), 1);

    // A loopback target is reached directly, whichever variable names the proxy.
    for var in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
    ] {
        ok(
            &args(&loopback),
            &[creds[0], creds[1], (var, proxy.as_str())],
        );
    }
    assert_eq!(
        heads.lock().unwrap().len(),
        1,
        "the proxy saw a loopback request"
    );
    assert_eq!(sb.received("dhis2").len(), 6);

    // NO_PROXY names the host: straight there (where sandbox.test does not
    // resolve); the proxy sees nothing more.
    let env = [
        creds[0],
        creds[1],
        ("https_proxy", proxy.as_str()),
        ("NO_PROXY", "other.test, sandbox.test"),
    ];
    fails(&args(&by_name), &env, 75);
    assert_eq!(heads.lock().unwrap().len(), 1);
    assert_eq!(sb.received("dhis2").len(), 6);
}

mod netns;

/// The listener of [`netns::Netns::listen`], when this binary is run again
/// inside a namespace; nothing otherwise.
#[test]
#[ignore = "run by the namespace tests, inside their namespace"]
fn netns_listener() {
    netns::serve_if_asked();
}

/// In a namespace with no route off the machine: a loopback target is
/// reached directly whichever variable names a proxy, and a plain http://
/// proxy on another machine is refused before anything is sent to it when
/// it would carry a password or a plain http:// request.
#[test]
fn proxies_in_a_namespace_with_no_route_off_the_machine() {
    let Some(ns) = netns::Netns::new("http-get") else {
        return;
    };
    let proxy = ns.listen(&format!("{}:3128", netns::OFF_MACHINE), 403);
    let target = ns.listen("127.0.0.1:8080", 200);
    let run = |url: &str, env: &[(&str, &str)]| {
        let mut cmd = assert_cmd::Command::from_std(ns.command(BIN));
        for var in HTTP_VARS {
            cmd.env_remove(var);
        }
        let creds = [("HTTP_USER", "alice"), ("HTTP_PASSWORD", "pa55-7731")];
        let args = [url, "--auth", "basic", "--retries", "0", "--timeout", "5"];
        Run::of(cmd.envs(creds).envs(env.iter().copied()).args(args))
    };
    let off = format!("http://{}:3128", netns::OFF_MACHINE);
    let off_login = format!("http://u:pr0xy-pw@{}:3128", netns::OFF_MACHINE);

    for var in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "HTTPS_PROXY"] {
        let sent = run("http://127.0.0.1:8080/cases", &[(var, off_login.as_str())]);
        assert_eq!(sent.code, 0, "{var}: {}", sent.stderr);
        assert_eq!(sent.values(), [json!({})], "{var}");
    }
    assert_eq!(target.received().matches("GET /cases ").count(), 4);
    assert!(target.received().contains("authorization: Basic"));

    for (url, proxy_value) in [
        ("https://example.org/cases", &off_login),
        ("http://example.org/cases", &off),
    ] {
        let refused = run(url, &[("HTTP_PROXY", proxy_value.as_str())]);
        assert_eq!(refused.code, 64, "{url}: {}", refused.stderr);
        assert_one_line_without(&refused.stderr, &["pr0xy-pw", "pa55-7731"]);
    }
    assert_eq!(proxy.received(), "", "nothing reached the proxy");

    // HTTPS through the same proxy without a password: only the CONNECT
    // crosses in clear (refused by this stand-in with 403: 77, as from a server).
    let tunnelled = run("https://example.org/cases", &[("HTTP_PROXY", off.as_str())]);
    assert_eq!(tunnelled.code, 77, "{}", tunnelled.stderr);
    let seen = proxy.received();
    assert!(seen.starts_with("CONNECT example.org:443 "), "{seen}");
    assert!(
        !seen.to_ascii_lowercase().contains("authorization"),
        "{seen}"
    );
}

// ---------------------------------------------------------------- paging on a local server

#[test]
fn link_paging_follows_next_until_there_is_none() {
    let server = Local::start(|base, target| match target {
        "/items?sort=id" => (
            200,
            link("/items?sort=id&after=2"),
            r#"[{"id":1},{"id":2}]"#.into(),
        ),
        "/items?sort=id&after=2" => (
            200,
            link(&format!("{base}/items?sort=id&after=4")),
            r#"[{"id":3},{"id":4}]"#.into(),
        ),
        "/items?sort=id&after=4" => (
            200,
            vec![],
            r#"[{"id":5,"n":12345678901234567890.50}]"#.into(),
        ),
        _ => (404, vec![], "{}".into()),
    });
    let url = format!("{}/items", server.base);
    let run = ok(
        &[
            &url,
            "--query",
            "sort=id",
            "--paginate",
            "link",
            "--auth",
            "bearer",
        ],
        &[("HTTP_TOKEN", "tok-abc-123")],
    );
    assert_eq!(
        run.stdout,
        "{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n{\"id\":4}\n{\"id\":5,\"n\":12345678901234567890.50}\n"
    );
    assert_eq!(run.stderr, "http-get: 5 records in 3 pages\n");
    assert_eq!(
        server.targets(),
        [
            "/items?sort=id",
            "/items?sort=id&after=2",
            "/items?sort=id&after=4"
        ]
    );
    for i in 0..3 {
        let headers = server.headers(i);
        assert!(headers.contains(&("authorization".into(), "Bearer tok-abc-123".into())));
    }
}

#[test]
fn link_to_another_origin_is_refused() {
    let other = Local::start(|_, _| (200, vec![], r#"[{"id":"elsewhere"}]"#.into()));
    let other_url = format!("{}/steal", other.base.replace("127.0.0.1", "localhost"));
    let server = Local::start(move |_, _| (200, link(&other_url), r#"[{"id":1}]"#.into()));
    let run = fails(
        &[&server.base, "--paginate", "link", "--auth", "bearer"],
        &[("HTTP_TOKEN", "tok-never-elsewhere")],
        69,
    );
    assert_eq!(run.stdout, "{\"id\":1}\n", "the first page stays written");
    assert_one_line_without(&run.stderr, &["tok-never-elsewhere"]);
    assert!(
        run.stderr
            .contains("page 1: the Link header's next page is on another origin"),
        "{}",
        run.stderr
    );
    assert!(
        other.targets().is_empty(),
        "nothing was sent to the other origin"
    );
    assert_eq!(server.targets().len(), 1);
}

#[test]
fn offset_paging_stops_at_a_short_page_or_the_total() {
    // 7 items, 3 a page, the total announced: offsets 0, 3, 6.
    let items = |from: usize, to: usize| {
        let list: Vec<Value> = (from..to.min(7)).map(|i| json!({"n": i})).collect();
        json!({"items": list, "total": 7}).to_string()
    };
    let server = Local::start(move |_, target| {
        let offset = number_param(target, "skip");
        (200, vec![], items(offset, offset + 3))
    });
    let run = ok(
        &[
            &server.base,
            "--paginate",
            "offset",
            "--per",
            "3",
            "--offset-param",
            "skip",
            "--limit-param",
            "take",
            "--total",
            ".total",
            "--records",
            ".items[]",
        ],
        &[],
    );
    let ns: Vec<i64> = run
        .values()
        .iter()
        .map(|r| r["n"].as_i64().unwrap())
        .collect();
    assert_eq!(ns, [0, 1, 2, 3, 4, 5, 6]);
    assert_eq!(
        server.targets(),
        ["/?skip=0&take=3", "/?skip=3&take=3", "/?skip=6&take=3"]
    );

    // Without a total, the short page ends it; exactly a multiple ends with an empty page.
    let server = Local::start(|_, target| {
        let offset = number_param(target, "offset");
        let list: Vec<Value> = (offset..(offset + 2).min(4))
            .map(|i| json!({"n": i}))
            .collect();
        (200, vec![], Value::Array(list).to_string())
    });
    let run = ok(&[&server.base, "--paginate", "offset", "--per", "2"], &[]);
    assert_eq!(run.values().len(), 4);
    assert_eq!(
        server.targets(),
        [
            "/?offset=0&limit=2",
            "/?offset=2&limit=2",
            "/?offset=4&limit=2"
        ]
    );
    assert_eq!(run.stderr, "http-get: 4 records in 3 pages\n");
}

#[test]
fn a_server_ignoring_the_page_parameter_is_caught() {
    let server = Local::start(|_, _| (200, vec![], r#"{"data":[{"id":1},{"id":2}]}"#.into()));
    let run = fails(
        &[
            &server.base,
            "--paginate",
            "page",
            "--per",
            "2",
            "--records",
            ".data[]",
        ],
        &[],
        69,
    );
    assert_eq!(
        run.stdout, "{\"id\":1}\n{\"id\":2}\n",
        "the same records are not written twice"
    );
    assert!(
        run.stderr
            .contains("page 2: the answer is the same as the page before"),
        "{}",
        run.stderr
    );
}

#[test]
fn max_pages_with_more_left_is_69() {
    let server = Local::start(|_, target| {
        let page = number_param(target, "page");
        (
            200,
            vec![],
            json!({"data": [{"page": page}], "metadata": {"total": 10}}).to_string(),
        )
    });
    let run = fails(
        &[
            &server.base,
            "--paginate",
            "page",
            "--per",
            "1",
            "--max-pages",
            "2",
            "--first-page",
            "0",
            "--records",
            ".data[]",
        ],
        &[],
        69,
    );
    let pages: Vec<u64> = run
        .values()
        .iter()
        .map(|r| r["page"].as_u64().unwrap())
        .collect();
    assert_eq!(pages, [0, 1]);
    assert!(
        run.stderr.contains("--max-pages 2 reached"),
        "{}",
        run.stderr
    );
    // Exactly at the total, the same limit is no error.
    let run = ok(
        &[
            &server.base,
            "--paginate",
            "page",
            "--per",
            "1",
            "--max-pages",
            "2",
            "--records",
            ".data[]",
            "--total",
            "2",
        ],
        &[],
    );
    assert_eq!(run.values().len(), 2);
}

#[test]
fn answers_that_are_not_json_or_not_records() {
    let server = Local::start(|_, target| match target {
        "/text" => (200, vec![], "<html>Jane Roe</html>".into()),
        "/number" => (200, vec![], "42".into()),
        "/mixed" => (200, vec![], r#"[{"id":1},"Jane Roe"]"#.into()),
        "/empty" => (200, vec![], String::new()),
        _ => (404, vec![], "{}".into()),
    });
    let run = fails(&[&format!("{}/text", server.base)], &[], 69);
    assert_one_line_without(&run.stderr, &["Jane"]);
    assert!(run.stderr.contains("not JSON"), "{}", run.stderr);
    let run = fails(&[&format!("{}/number", server.base)], &[], 65);
    assert!(
        run.stderr
            .contains("the answer is a number, not an object or an array"),
        "{}",
        run.stderr
    );
    let run = fails(&[&format!("{}/mixed", server.base)], &[], 65);
    assert_eq!(run.stdout, "");
    assert_one_line_without(&run.stderr, &["Jane"]);
    assert!(
        run.stderr.contains("record 2 is a string"),
        "{}",
        run.stderr
    );
    let run = ok(&[&format!("{}/empty", server.base)], &[]);
    assert_eq!(
        (run.stdout.as_str(), run.stderr.as_str()),
        ("", "http-get: 0 records in 1 page\n")
    );
}

#[test]
fn usage_errors_before_any_request() {
    let server = Local::start(|_, _| (200, vec![], "[]".into()));
    for (args, needle) in [
        (vec!["--query", "novalue"], "--query takes NAME=VALUE"),
        (
            vec!["--paginate", "page", "--query", "page=2"],
            "--query page: --paginate page sets",
        ),
        (
            vec!["--paginate", "offset", "--query", "limit=2"],
            "--query limit",
        ),
        (vec!["--total", "..."], "--total: column"),
        (vec!["--per", "0"], "--per"),
    ] {
        let mut all = vec![server.base.as_str()];
        all.extend(args);
        let run = http_get(&all, &[]);
        assert_eq!(run.code, 64, "{all:?}: {}", run.stderr);
        assert!(run.stderr.contains(needle), "{all:?}: {}", run.stderr);
    }
    let run = fails(&["http://192.0.2.1/x"], &[], 64);
    assert!(run.stderr.contains("loopback"), "{}", run.stderr);
    assert!(server.targets().is_empty());
}

#[test]
fn a_failure_after_retries_is_75_and_earlier_pages_stay_written() {
    let server = Local::start(|_, target| {
        if target.contains("page=1&") {
            (200, vec![], r#"{"data":[{"id":1},{"id":2}]}"#.into())
        } else {
            (
                503,
                vec![("retry-after".into(), "0".into())],
                r#"{"error":"down"}"#.into(),
            )
        }
    });
    let run = fails(
        &[
            &server.base,
            "--paginate",
            "page",
            "--per",
            "2",
            "--records",
            ".data[]",
            "--retries",
            "2",
            "--retry-delay",
            "1",
        ],
        &[],
        75,
    );
    assert_eq!(run.stdout, "{\"id\":1}\n{\"id\":2}\n");
    let last = run.stderr.lines().last().unwrap();
    assert!(
        last.starts_with("http-get: error: page 2: gave up after 3 attempts"),
        "{}",
        run.stderr
    );
    assert!(last.contains("503"), "{last}");
    assert_eq!(server.targets().len(), 4);
}

#[test]
fn each_page_is_written_before_the_next_is_fetched() {
    // Page 2 is answered only once the test has read page 1 from the pipe
    // (or after 10 s, and then the test fails): records stream page by page.
    let released = Arc::new(AtomicBool::new(false));
    let waited_for_release = Arc::new(AtomicBool::new(false));
    let (r, w) = (Arc::clone(&released), Arc::clone(&waited_for_release));
    let server = Local::start(move |_, target| {
        if target.contains("page=1&") {
            return (200, vec![], r#"{"data":[{"id":1},{"id":2}]}"#.into());
        }
        let start = Instant::now();
        while !r.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(5));
        }
        w.store(r.load(Ordering::SeqCst), Ordering::SeqCst);
        (200, vec![], r#"{"data":[{"id":3}]}"#.into())
    });
    let mut child = std::process::Command::new(BIN)
        .args([
            &server.base,
            "--paginate",
            "page",
            "--per",
            "2",
            "--records",
            ".data[]",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert_eq!(first, "{\"id\":1}\n");
    released.store(true, Ordering::SeqCst);
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(rest, "{\"id\":2}\n{\"id\":3}\n");
    assert!(
        waited_for_release.load(Ordering::SeqCst),
        "page 1 reached the pipe before page 2 was asked for"
    );
}
