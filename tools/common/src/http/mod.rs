//! The HTTP client the HTTP tools share: one ureq agent (connections kept
//! alive), rustls with ring and the system's CAs (plus --ca-file), the auth
//! schemes, retries with backoff and Retry-After, and exit codes by status.
//!
//! [`Client::send`] gives back every final answer, 4xx included, so that a
//! per-record tool can record a refusal and go on; [`Response::error`] says
//! what a status means as an [`Error`] with its exit code, and
//! [`Client::send_checked`] does both for a one-request tool. Errors name
//! the method, the URL without its query string, and the status; never a
//! body, unless --show-values.

mod args;
mod auth;
mod client;
pub mod doc;
mod errors;
mod proxy;
mod response;
mod send;
mod tls;
pub mod url;

pub use crate::retry::Attempt;
pub use args::{AuthScheme, HttpArgs, TransportArgs, parse_header};
#[cfg(all(test, feature = "box"))]
pub(crate) use auth::verified_jwt;
pub use auth::{load_rsa_key, sign_client_assertion, sign_rs256_jwt};
pub use client::{Client, TokenSource};
pub use response::{
    Response, StreamedResponse, is_retryable_status, is_sensitive_header, parse_retry_after,
    redacted, status_exit,
};

use std::fmt;
use std::time::Duration;

/// The answers larger than this are refused (exit 69), unless the tool
/// sets its own cap with [`Client::set_max_response_bytes`].
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 64 << 20;

/// The longest Retry-After honoured; a server asking for more gets this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// GET redirects followed; other methods never follow one.
const MAX_REDIRECTS: u32 = 5;

/// A request method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// Parse GET, POST, PUT, PATCH or DELETE (any case).
    pub fn parse(text: &str) -> Option<Method> {
        match text.to_ascii_uppercase().as_str() {
            "GET" => Some(Method::Get),
            "POST" => Some(Method::Post),
            "PUT" => Some(Method::Put),
            "PATCH" => Some(Method::Patch),
            "DELETE" => Some(Method::Delete),
            _ => None,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One request. The body is held whole, so that a retry sends it again.
/// Its Debug shows the values of sensitive headers as `***` and the body
/// by its length only.
#[derive(Clone)]
pub struct Request {
    pub method: Method,
    pub url: String,
    /// Headers of this request, on top of the client's -H headers and auth.
    pub headers: Vec<(String, String)>,
    /// None sends no body (GET); Some(empty) sends Content-Length: 0.
    pub body: Option<Vec<u8>>,
    /// This request's time limit in all, instead of --timeout (a large
    /// upload); --timeout then bounds connecting and each read and write.
    pub timeout: Option<Duration>,
    /// How messages show the URL when it holds record values: its
    /// template, `{field}` in place of each value (see [`Request::shown_as`]).
    pub shown_url: Option<String>,
}

impl Request {
    pub fn new(method: Method, url: impl Into<String>) -> Request {
        Request {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            timeout: None,
            shown_url: None,
        }
    }

    pub fn get(url: impl Into<String>) -> Request {
        Request::new(Method::Get, url)
    }

    /// A request with a body and its Content-Type.
    pub fn with_body(
        method: Method,
        url: impl Into<String>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Request {
        let mut request = Request::new(method, url);
        if !content_type.is_empty() {
            request
                .headers
                .push(("content-type".into(), content_type.into()));
        }
        request.body = Some(body);
        request
    }

    /// Show the URL in messages, and in the answer's, as `template` (the
    /// template the URL was made from, its values hidden), without its query.
    pub fn shown_as(mut self, template: &str) -> Request {
        self.shown_url = Some(url::shown(template));
        self
    }

    /// The URL as messages show it: no query string, no record value.
    pub fn shown(&self) -> String {
        self.shown_url
            .clone()
            .unwrap_or_else(|| url::shown(&self.url))
    }

    /// Add a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Request {
        self.headers.push((name.into(), value.into()));
        self
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &self.shown())
            .field("headers", &redacted(&self.headers, false))
            .field("body_bytes", &self.body.as_ref().map(Vec::len))
            .field("timeout", &self.timeout)
            .finish()
    }
}
