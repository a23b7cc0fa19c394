//! Answers: the status and what it means as an exit code, Retry-After, and
//! the redaction of sensitive headers in messages and Debug output.

use super::{MAX_RETRY_AFTER, Method, url};
use crate::error::{Error, Exit, Result};
use std::fmt;
use std::io::Read;
use std::time::{Duration, SystemTime};

/// A final answer: status, headers (names lower-case) and the body, read
/// whole up to the client's cap. Its Debug shows the body by its length.
#[derive(Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The request it answers, for messages.
    pub method: Method,
    /// The URL that answered (after GET redirects).
    pub url: String,
    pub(super) show_values: bool,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("url", &url::shown(&self.url))
            .field("headers", &redacted(&self.headers))
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

impl Response {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as JSON; an answer that is not JSON is exit 69.
    pub fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_slice(&self.body).map_err(|_| {
            Error::unavailable(format!(
                "{}: the answer (HTTP {}, {} bytes) is not JSON",
                self.at(),
                self.status,
                self.body.len()
            ))
        })
    }

    /// The server's Retry-After, when it gave one.
    pub fn retry_after(&self) -> Option<Duration> {
        self.header("retry-after")
            .and_then(|v| parse_retry_after(v, SystemTime::now()))
    }

    /// What the status means, as an error with its exit code: None for
    /// 2xx; 401 and 403 are 77; 408, 429 and 5xx 75; other statuses 69.
    pub fn error(&self) -> Option<Error> {
        let exit = status_exit(self.status)?;
        let mut message = format!("{}: HTTP {}", self.at(), status_text(self.status));
        if exit == Exit::NoPerm {
            message.push_str(": the credentials were refused or do not allow this");
        }
        if self.show_values && !self.body.is_empty() {
            message.push_str(&format!(": body: {}", body_excerpt(&self.body)));
        }
        Some(Error::new(exit, message))
    }

    /// The response if it is a success, else its error.
    pub fn checked(self) -> Result<Response> {
        match self.error() {
            None => Ok(self),
            Some(error) => Err(error),
        }
    }

    /// "METHOD URL" for messages, without query string or user info.
    pub fn at(&self) -> String {
        format!("{} {}", self.method, url::shown(&self.url))
    }
}

/// An answer whose body is read as it arrives (a download), from
/// [`super::Client::send_streaming`]. It reads as the body; its Debug shows
/// no body.
pub struct StreamedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub method: Method,
    pub url: String,
    body: Box<dyn Read + Send>,
}

impl fmt::Debug for StreamedResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamedResponse")
            .field("status", &self.status)
            .field("url", &url::shown(&self.url))
            .field("headers", &redacted(&self.headers))
            .finish_non_exhaustive()
    }
}

impl StreamedResponse {
    pub(super) fn new(
        status: u16,
        headers: Vec<(String, String)>,
        method: Method,
        url: String,
        body: Box<dyn Read + Send>,
    ) -> StreamedResponse {
        StreamedResponse {
            status,
            headers,
            method,
            url,
            body,
        }
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The server's Retry-After, when it gave one.
    pub fn retry_after(&self) -> Option<Duration> {
        self.header("retry-after")
            .and_then(|v| parse_retry_after(v, SystemTime::now()))
    }

    /// "METHOD URL" for messages, without query string or user info.
    pub fn at(&self) -> String {
        format!("{} {}", self.method, url::shown(&self.url))
    }

    /// The body.
    pub fn into_reader(self) -> Box<dyn Read + Send> {
        self.body
    }

    /// The answer with its body read whole, up to `limit` bytes (an error
    /// answer, a redirect): a body cut by the limit is kept cut.
    pub fn into_response(self, limit: u64) -> Response {
        let mut body = Vec::new();
        let _ = self.body.take(limit).read_to_end(&mut body);
        Response {
            status: self.status,
            headers: self.headers,
            body,
            method: self.method,
            url: self.url,
            show_values: false,
        }
    }
}

impl Read for StreamedResponse {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.body.read(buf)
    }
}

/// The exit code a status maps to (None for 2xx).
pub fn status_exit(status: u16) -> Option<Exit> {
    match status {
        200..=299 => None,
        401 | 403 => Some(Exit::NoPerm),
        408 | 429 | 500..=599 => Some(Exit::TempFail),
        _ => Some(Exit::Unavailable),
    }
}

/// Whether a status is worth another attempt.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500..=599)
}

pub(super) fn status_text(status: u16) -> String {
    match ureq::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(reason) => format!("{status} {reason}"),
        None => status.to_string(),
    }
}

/// The start of a body, on one line, for --show-values.
fn body_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(300)]);
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if body.len() > 300 {
        format!("{line}...")
    } else {
        line
    }
}

/// Parse Retry-After: delay seconds, or an HTTP date (a past date is no
/// wait). Capped at [`MAX_RETRY_AFTER`].
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = if let Ok(secs) = value.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
        let when =
            SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(when.timestamp()).ok()?);
        when.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// Whether a header's value must never be shown: credentials and session
/// headers, and any name with token, key, secret or auth in it.
pub fn is_sensitive_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "authorization"
            | "proxy-authorization"
            | "x-functions-key"
            | "access-token"
            | "client"
            | "uid"
            | "cookie"
            | "set-cookie"
    ) || ["token", "key", "secret", "auth"]
        .iter()
        .any(|part| name.contains(part))
}

/// Headers as `name: value`, sensitive values as `***`.
pub fn redacted(headers: &[(String, String)]) -> Vec<String> {
    headers
        .iter()
        .map(|(name, value)| {
            if is_sensitive_header(name) {
                format!("{name}: ***")
            } else {
                format!("{name}: {value}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::Request;
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(parse_retry_after("1", now), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        // RFC 9110's example date is 784111777.
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("86400", now), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }

    #[test]
    fn statuses_map_to_exit_codes() {
        assert_eq!(status_exit(201), None);
        assert_eq!(status_exit(401), Some(Exit::NoPerm));
        assert_eq!(status_exit(403), Some(Exit::NoPerm));
        assert_eq!(status_exit(400), Some(Exit::Unavailable));
        assert_eq!(status_exit(409), Some(Exit::Unavailable));
        assert_eq!(status_exit(422), Some(Exit::Unavailable));
        for s in [408, 429, 500, 502, 503] {
            assert_eq!(status_exit(s), Some(Exit::TempFail), "{s}");
            assert!(is_retryable_status(s));
        }
        assert!(!is_retryable_status(404));
    }

    #[test]
    fn sensitive_headers_are_redacted() {
        for name in [
            "Authorization",
            "x-functions-key",
            "access-token",
            "client",
            "uid",
            "Cookie",
            "X-Api-Key",
            "x-my-secret",
            "X-Auth-User",
            "x-csrf-token",
        ] {
            assert!(is_sensitive_header(name), "{name}");
        }
        for name in ["content-type", "x-api-version", "accept"] {
            assert!(!is_sensitive_header(name), "{name}");
        }
        let request = Request::with_body(
            Method::Post,
            "https://h/api/x?id=P1",
            "text/csv",
            b"a,b\n".to_vec(),
        )
        .header("x-functions-key", "k3y-value")
        .header("x-api-version", "2021-09-21");
        let debug = format!("{request:?}");
        assert!(
            !debug.contains("k3y-value") && !debug.contains("P1"),
            "{debug}"
        );
        assert!(debug.contains("x-api-version: 2021-09-21"), "{debug}");
    }
}
