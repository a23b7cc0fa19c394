//! Any-method HTTPS calls to a sandbox for the dhis2, Primero and OSCaR tests.
#![allow(dead_code)]

use sandbox::Sandbox;
use serde_json::Value;

pub use crate::support::{Answer, agent};

/// One request; `body` is sent as JSON when given.
pub fn call(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Answer {
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let result = match body {
        Some(body) => agent.run(
            request
                .header("content-type", "application/json")
                .body(body.to_string())
                .expect("a request"),
        ),
        None => agent.run(request.body(()).expect("a request")),
    };
    let mut response = result.expect("the sandbox answers");
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = response.body_mut().read_to_string().expect("a text body");
    Answer {
        status,
        headers,
        body,
    }
}

/// A sandbox and an agent that trusts it.
pub fn start() -> (Sandbox, ureq::Agent) {
    let sb = Sandbox::start().expect("the sandbox starts");
    let agent = agent(&sb);
    (sb, agent)
}

/// Asserts that none of `values` appears in `text` (error bodies name fields, not values).
pub fn assert_no_values(text: &str, values: &[&str]) {
    for v in values {
        assert!(!text.contains(v), "{v:?} leaked into {text}");
    }
}
