#![allow(clippy::unwrap_used)]
//! The server core and the /_sandbox control endpoints, through real HTTPS requests.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sandbox::{Fault, Sandbox};
use serde_json::json;
use support::{REQCHECK_AUTH, agent, get, post, post_empty, raw_exchange, start, start_plain};

fn heartbeat(sb: &Sandbox) -> String {
    format!("{}/reqcheck/heartbeat", sb.url())
}

#[test]
fn a_fault_answers_its_status_with_retry_after_then_runs_out() {
    let (sb, agent) = start();
    sb.fault(Fault {
        path: "/reqcheck/heartbeat".into(),
        count: 2,
        status: 503,
        retry_after: Some(1),
        ..Default::default()
    });
    for _ in 0..2 {
        let answer = post_empty(&agent, &heartbeat(&sb), &[REQCHECK_AUTH]);
        assert_eq!(answer.status, 503);
        assert_eq!(answer.header("retry-after"), Some("1"));
        assert_eq!(answer.json()["status"], 503);
    }
    let answer = post_empty(&agent, &heartbeat(&sb), &[REQCHECK_AUTH]);
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("retry-after"), None);
    let statuses: Vec<u16> = sb.received("reqcheck").iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 503, 200]);
}

#[test]
fn faults_over_http_match_method_and_path_prefix_and_carry_a_body() {
    let (sb, agent) = start();
    let fault = json!({"path": "/reqcheck/*", "method": "PUT", "status": 429,
                       "body": {"error": "slow down"}});
    let created = post(
        &agent,
        &format!("{}/_sandbox/faults", sb.url()),
        &[("content-type", "application/json")],
        fault.to_string().as_bytes(),
    );
    assert_eq!(created.status, 201);
    // POST is not PUT: untouched.
    assert_eq!(
        post_empty(&agent, &heartbeat(&sb), &[REQCHECK_AUTH]).status,
        200
    );
    let mut put = agent
        .put(format!("{}/reqcheck/patient_data", sb.url()))
        .send(&b"{}"[..])
        .unwrap();
    assert_eq!(put.status().as_u16(), 429);
    let body = put.body_mut().read_to_string().unwrap();
    assert_eq!(body, r#"{"error":"slow down"}"#);
    let received = sb.received("reqcheck");
    assert_eq!(received.len(), 2);
    assert_eq!(received[1].method, "PUT");
    assert_eq!(received[1].status, 429);
    // Used up: the next PUT reaches the API (which knows no PUT).
    let again = agent
        .put(format!("{}/reqcheck/patient_data", sb.url()))
        .send(&b"{}"[..])
        .unwrap();
    assert_eq!(again.status().as_u16(), 404);
}

#[test]
fn a_fault_body_is_sent_as_given() {
    let sb = Sandbox::start().unwrap();
    sb.fault(Fault {
        path: "/reqcheck/heartbeat".into(),
        status: 500,
        body: Some(json!({"error": "boom"})),
        ..Default::default()
    });
    let answer = post_empty(&agent(&sb), &heartbeat(&sb), &[REQCHECK_AUTH]);
    assert_eq!(answer.status, 500);
    assert_eq!(answer.json(), json!({"error": "boom"}));
}

#[test]
fn a_bad_fault_is_refused() {
    let sb = Sandbox::start().unwrap();
    let url = format!("{}/_sandbox/faults", sb.url());
    let agent = agent(&sb);
    assert_eq!(post(&agent, &url, &[], b"{\"status\":503}").status, 400);
    assert_eq!(post(&agent, &url, &[], b"not json").status, 400);
}

#[test]
fn a_dropped_request_gets_no_answer_and_is_received_with_status_0() {
    let sb = Sandbox::start().unwrap();
    sb.fault(Fault {
        path: "/reqcheck/heartbeat".into(),
        drop: true,
        ..Default::default()
    });
    let agent = agent(&sb);
    let dropped = agent
        .post(heartbeat(&sb))
        .header(REQCHECK_AUTH.0, REQCHECK_AUTH.1)
        .send_empty();
    assert!(dropped.is_err(), "a dropped request must fail: {dropped:?}");
    assert_eq!(
        post_empty(&agent, &heartbeat(&sb), &[REQCHECK_AUTH]).status,
        200
    );
    let statuses: Vec<u16> = sb.received("reqcheck").iter().map(|r| r.status).collect();
    assert_eq!(statuses, [0, 200]);
}

#[test]
fn a_delay_with_status_0_answers_normally_late() {
    let sb = Sandbox::start().unwrap();
    sb.fault(Fault {
        path: "/reqcheck/heartbeat".into(),
        delay_ms: 400,
        ..Default::default()
    });
    let agent = agent(&sb);
    let started = Instant::now();
    let answer = post_empty(&agent, &heartbeat(&sb), &[REQCHECK_AUTH]);
    assert_eq!(answer.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(400));
    let started = Instant::now();
    post_empty(&agent, &heartbeat(&sb), &[REQCHECK_AUTH]);
    assert!(started.elapsed() < Duration::from_millis(400));
}

#[test]
fn received_over_http_shows_headers_query_and_body() {
    let (sb, agent) = start();
    post(
        &agent,
        &format!("{}/reqcheck/patient_data?a=1&b=x%20y", sb.url()),
        &[REQCHECK_AUTH, ("X-Custom", "yes")],
        br#"{"patient_data":[]}"#,
    );
    post(&agent, &heartbeat(&sb), &[REQCHECK_AUTH], b"plain text");
    let received = get(
        &agent,
        &format!("{}/_sandbox/received?api=reqcheck", sb.url()),
    )
    .json();
    assert_eq!(received[0]["method"], "POST");
    assert_eq!(received[0]["path"], "/reqcheck/patient_data");
    assert_eq!(received[0]["query"], "a=1&b=x%20y");
    assert_eq!(received[0]["headers"]["x-custom"], "yes");
    assert_eq!(received[0]["body"], json!({"patient_data": []}));
    assert_eq!(received[0]["status"], 201);
    assert_eq!(received[1]["body"], "plain text");
    assert_eq!(received[1]["status"], 200);
    assert_eq!(received.as_array().map(Vec::len), Some(2));
    // The library view: the same requests.
    let lib = sb.received("reqcheck");
    assert_eq!(lib[0].header("x-custom"), Some("yes"));
    assert_eq!(lib[1].text(), "plain text");
    // The control requests themselves are not recorded, other APIs see nothing.
    assert!(sb.received("primero").is_empty());
}

#[test]
fn state_and_received_need_a_known_api() {
    let (sb, agent) = start();
    let answer = get(&agent, &format!("{}/_sandbox/state?api=nope", sb.url()));
    assert_eq!(answer.status, 400);
    assert!(
        answer.json()["apis"]
            .as_array()
            .unwrap()
            .contains(&json!("reqcheck"))
    );
    assert_eq!(
        get(&agent, &format!("{}/_sandbox/received", sb.url())).status,
        400
    );
    let state = get(&agent, &format!("{}/_sandbox/state?api=reqcheck", sb.url()));
    assert_eq!(state.status, 200);
    assert_eq!(state.json()["patients"], json!([]));
}

#[test]
fn reset_empties_received_faults_and_state() {
    let (sb, agent) = start();
    let body = json!({"patient_data": [{"patient_number": 7, "first_name": "Ada", "last_name": "Test",
        "dob": "2000-01-01", "hd_mpfile_updated_at": "2024-01-01T00:00:00Z"}]});
    let url = format!("{}/reqcheck/patient_data", sb.url());
    assert_eq!(
        post(&agent, &url, &[REQCHECK_AUTH], body.to_string().as_bytes()).status,
        201
    );
    sb.fault(Fault {
        path: "/reqcheck/heartbeat".into(),
        status: 503,
        ..Default::default()
    });
    assert_eq!(
        sb.state("reqcheck")["patients"].as_array().map(Vec::len),
        Some(1)
    );
    let reset = post_empty(&agent, &format!("{}/_sandbox/reset", sb.url()), &[]);
    assert_eq!(reset.status, 200);
    assert!(sb.received("reqcheck").is_empty());
    assert_eq!(sb.state("reqcheck")["patients"], json!([]));
    assert_eq!(
        post_empty(&agent, &heartbeat(&sb), &[REQCHECK_AUTH]).status,
        200
    );
    // The library call does the same.
    sb.reset();
    assert!(sb.received("reqcheck").is_empty());
}

#[test]
fn unknown_paths_are_404() {
    let (sb, agent) = start();
    assert_eq!(
        get(&agent, &format!("{}/nothing/here", sb.url())).status,
        404
    );
    assert_eq!(get(&agent, &format!("{}/reqcheckx", sb.url())).status, 404);
    assert_eq!(
        get(&agent, &format!("{}/_sandbox/nope", sb.url())).status,
        404
    );
}

#[test]
fn one_connection_serves_several_requests() {
    let (sb, agent) = start();
    for _ in 0..3 {
        assert_eq!(
            post_empty(&agent, &heartbeat(&sb), &[REQCHECK_AUTH]).status,
            200
        );
    }
    let connections: Vec<u64> = sb
        .received("reqcheck")
        .iter()
        .map(|r| r.connection)
        .collect();
    assert_eq!(connections.len(), 3);
    assert!(
        connections.iter().all(|c| *c == connections[0]),
        "{connections:?}"
    );
}

#[test]
fn plain_mode_serves_http_and_keeps_pipelined_requests_in_order() {
    let sb = start_plain();
    assert!(sb.url().starts_with("http://127.0.0.1:"));
    let auth = "Authorization: Basic cmVxY2hlY2s6cmVxY2hlY2stc2VjcmV0\r\n";
    let request = format!(
        "POST /reqcheck/heartbeat HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 0\r\n\r\n\
         POST /reqcheck/heartbeat HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"
    );
    let out = raw_exchange(&sb, request.as_bytes());
    assert_eq!(out.matches("HTTP/1.1 200 OK\r\n").count(), 2, "{out}");
    assert!(out.contains("connection: keep-alive\r\n"));
    assert!(
        out.ends_with("}"),
        "the server closes after the second answer: {out}"
    );
    assert!(out.contains("connection: close\r\n"));
    let received = sb.received("reqcheck");
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].connection, received[1].connection);
}

#[test]
fn chunked_request_bodies_are_joined() {
    let sb = start_plain();
    let body = r#"{"patient_data":[]}"#;
    let (a, b) = body.split_at(7);
    let request = format!(
        "POST /reqcheck/patient_data HTTP/1.1\r\nHost: x\r\n\
         Authorization: Basic cmVxY2hlY2s6cmVxY2hlY2stc2VjcmV0\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
         {:x};ext=1\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\nX-Trailer: 1\r\n\r\n",
        a.len(),
        b.len()
    );
    let out = raw_exchange(&sb, request.as_bytes());
    assert!(out.starts_with("HTTP/1.1 201 Created\r\n"), "{out}");
    assert_eq!(sb.received("reqcheck")[0].body, body.as_bytes());
}

#[test]
fn chunked_request_bodies_over_tls() {
    let sb = Sandbox::start().unwrap();
    let body = br#"{"patient_data":[]}"#;
    let mut reader = &body[..];
    let response = agent(&sb)
        .post(format!("{}/reqcheck/patient_data", sb.url()))
        .header(REQCHECK_AUTH.0, REQCHECK_AUTH.1)
        .send(ureq::SendBody::from_reader(&mut reader))
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let received = &sb.received("reqcheck")[0];
    assert_eq!(received.header("transfer-encoding"), Some("chunked"));
    assert_eq!(received.body, body);
}

#[test]
fn a_bad_request_head_is_400() {
    let sb = start_plain();
    let out = raw_exchange(&sb, b"NOT A REQUEST\r\n\r\n");
    assert!(out.starts_with("HTTP/1.1 400 "), "{out}");
}

#[test]
fn dropping_the_sandbox_stops_it() {
    let sb = Sandbox::start().unwrap();
    let port = sb.port();
    drop(sb);
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn the_binary_writes_the_ca_and_prints_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sandbox"))
        .args(["--port", "0", "--dir"])
        .arg(dir.path().join("sub"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim_end().to_string();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let pem = std::fs::read(dir.path().join("sub/ca.pem")).unwrap();
    let ca = ureq::tls::Certificate::from_pem(&pem).unwrap();
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::new_with_certs(&[ca]))
        .build();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .build()
        .into();
    let answer = post_empty(&agent, &format!("{url}/reqcheck/heartbeat"), &[]);
    assert_eq!(answer.status, 401);
    child.kill().unwrap();
    child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(stderr, format!("sandbox: listening on {url}\n"));
}
