//! The request and response types that API modules see, and the `Api` trait.

use base64::Engine as _;
use serde_json::Value;

/// One request, as an API module sees it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The path after the API prefix, e.g. "/api/v2/cases/abc" ("/" for the bare prefix).
    pub path: String,
    /// The query string as sent, without '?'.
    pub raw_query: String,
    /// The query pairs, percent-decoded ('+' is a space).
    pub query: Vec<(String, String)>,
    /// Header names lowercased, in the order sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Scheme, host and API prefix, e.g. "https://127.0.0.1:PORT/primero": for Location and links.
    pub base_url: String,
    /// The Host header as sent (empty when absent).
    pub host: String,
}

impl Request {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first query parameter of that name, decoded.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON; a 400 answer when it does not parse.
    pub fn json(&self) -> Result<Value, Response> {
        serde_json::from_slice(&self.body).map_err(|_| {
            Response::json(
                400,
                &serde_json::json!({"error": "the request body is not valid JSON"}),
            )
        })
    }

    /// User and password from an `Authorization: Basic` header.
    pub fn basic_auth(&self) -> Option<(String, String)> {
        let value = self.header("authorization")?;
        let (scheme, encoded) = value.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, password) = text.split_once(':')?;
        Some((user.to_string(), password.to_string()))
    }

    /// The token of an `Authorization: Bearer` header (scheme case-insensitive).
    pub fn bearer(&self) -> Option<&str> {
        let value = self.header("authorization")?.trim();
        let (scheme, token) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim())
            .filter(|t| !t.is_empty())
    }
}

/// One answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(status: u16, v: &Value) -> Response {
        Response {
            status,
            headers: vec![(
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: serde_json::to_vec(v).unwrap_or_default(),
        }
    }

    pub fn text(status: u16, s: &str) -> Response {
        Response {
            status,
            headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
            body: s.as_bytes().to_vec(),
        }
    }

    pub fn empty(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_string()));
        self
    }
}

/// One stand-in API, served under the prefix "/{name}".
pub trait Api: Send + Sync {
    /// "reqcheck": the prefix "/reqcheck" and the name in received/state.
    fn name(&self) -> &'static str;
    /// Answers one request; an unknown path is a 404 in the API's own error shape.
    fn handle(&self, req: &Request) -> Response;
    /// The stored records, for assertions.
    fn state(&self) -> Value;
    /// Back to the seed.
    fn reset(&self);
    /// An API-specific control action, `POST /_sandbox/{name}/{action}` (`req.path` is
    /// "/{name}/{action}"); None when the API has no such action (a 404).
    fn control(&self, _action: &str, _req: &Request) -> Option<Response> {
        None
    }
}

/// Decodes a query string or form body: '+' is a space, %XX a byte.
pub fn decode_form(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_and_percent() {
        assert_eq!(
            decode_form("a=1+2&b=%2Fx%3d&c&d=%zz&e=%4"),
            vec![
                ("a".into(), "1 2".into()),
                ("b".into(), "/x=".into()),
                ("c".into(), "".into()),
                ("d".into(), "%zz".into()),
                ("e".into(), "%4".into()),
            ]
        );
    }
}
