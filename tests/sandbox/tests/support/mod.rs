//! HTTPS calls to a sandbox through ureq, trusting its CA, and checks on
//! what it answers.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;

use sandbox::{Options, Sandbox};
use serde_json::Value;
use ureq::tls::{Certificate, RootCerts, TlsConfig};

/// One answer: status, headers (names lowercased) and body text.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("the answer is JSON")
    }
}

/// An agent that trusts the sandbox's CA and keeps connections alive.
pub fn agent(sb: &Sandbox) -> ureq::Agent {
    agent_with_redirects(sb, 10)
}

/// The same that hands back redirects instead of following them.
pub fn agent_without_redirects(sb: &Sandbox) -> ureq::Agent {
    agent_with_redirects(sb, 0)
}

fn agent_with_redirects(sb: &Sandbox, max_redirects: u32) -> ureq::Agent {
    let pem = std::fs::read(sb.ca_file()).expect("the CA file is readable");
    let ca = Certificate::from_pem(&pem).expect("the CA file is PEM");
    let tls = TlsConfig::builder()
        .root_certs(RootCerts::new_with_certs(&[ca]))
        .build();
    ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .max_redirects(max_redirects)
        .build()
        .into()
}

/// A sandbox and an agent that trusts it.
pub fn start() -> (Sandbox, ureq::Agent) {
    let sb = Sandbox::start().expect("the sandbox starts");
    let agent = agent(&sb);
    (sb, agent)
}

/// A sandbox serving plain HTTP, for requests written byte by byte.
pub fn start_plain() -> Sandbox {
    Sandbox::start_with(Options {
        plain_http: true,
        ..Default::default()
    })
    .expect("the sandbox starts")
}

fn answer(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
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

/// One request of any method; `body` is sent as JSON when given.
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
    answer(match body {
        Some(body) => agent.run(
            request
                .header("content-type", "application/json")
                .body(body.to_string())
                .expect("a request"),
        ),
        None => agent.run(request.body(()).expect("a request")),
    })
}

/// One request of any method with a raw body.
pub fn send(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    answer(agent.run(request.body(body.to_vec()).expect("a request")))
}

fn post_request(
    agent: &ureq::Agent,
    url: &str,
    headers: &[(&str, &str)],
) -> ureq::RequestBuilder<ureq::typestate::WithBody> {
    let mut request = agent.post(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request
}

/// POST `body` with the given headers.
pub fn post(agent: &ureq::Agent, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    answer(post_request(agent, url, headers).send(body))
}

/// POST without a body.
pub fn post_empty(agent: &ureq::Agent, url: &str, headers: &[(&str, &str)]) -> Answer {
    answer(post_request(agent, url, headers).send_empty())
}

pub fn get(agent: &ureq::Agent, url: &str) -> Answer {
    answer(agent.get(url).call())
}

/// Writes raw bytes to a plain-HTTP sandbox and reads until the server closes.
pub fn raw_exchange(sb: &Sandbox, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", sb.port())).expect("connect");
    stream.write_all(request).expect("write");
    let mut out = Vec::new();
    stream.read_to_end(&mut out).expect("read until close");
    String::from_utf8_lossy(&out).into_owned()
}

/// Asserts that none of `values` appears in `text` (error bodies name fields, not values).
pub fn assert_no_values(text: &str, values: &[&str]) {
    for v in values {
        assert!(!text.contains(v), "{v:?} leaked into {text}");
    }
}

pub const REQCHECK_AUTH: (&str, &str) = ("authorization", "Basic cmVxY2hlY2s6cmVxY2hlY2stc2VjcmV0");

/// Base64url without padding, as in JWTs.
pub fn b64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// An RSA key pair from a PKCS#8 PEM (unencrypted).
pub fn rsa_key_pair(pem: &[u8]) -> ring::signature::RsaKeyPair {
    use rustls_pki_types::PrivatePkcs8KeyDer;
    use rustls_pki_types::pem::PemObject;
    let der = PrivatePkcs8KeyDer::from_pem_slice(pem).unwrap();
    ring::signature::RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).unwrap()
}

/// A JWT of `header` and `claims`, signed by `key` with `encoding`
/// (RSA_PKCS1_SHA256 for RS256).
pub fn sign_jwt(
    key: &ring::signature::RsaKeyPair,
    encoding: &'static dyn ring::signature::RsaEncoding,
    header: &Value,
    claims: &Value,
) -> String {
    let input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        encoding,
        &ring::rand::SystemRandom::new(),
        input.as_bytes(),
        &mut signature,
    )
    .unwrap();
    format!("{input}.{}", b64url(&signature))
}
