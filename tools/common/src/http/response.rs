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
    /// How messages show the URL: the request's [`super::Request::shown`].
    pub(super) shown_url: Option<String>,
    pub(super) show_values: bool,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("url", &self.shown_url())
            .field("headers", &redacted(&self.headers, false))
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

    /// What the status means, as an error with its exit code (see
    /// [`status_exit`]): None for 2xx.
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

    /// "METHOD URL" for messages, without query string, user info or
    /// record values.
    pub fn at(&self) -> String {
        format!("{} {}", self.method, self.shown_url())
    }

    fn shown_url(&self) -> String {
        self.shown_url
            .clone()
            .unwrap_or_else(|| url::shown(&self.url))
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
            .field("headers", &redacted(&self.headers, false))
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
            shown_url: None,
            show_values: false,
        }
    }
}

impl Read for StreamedResponse {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.body.read(buf)
    }
}

/// The exit code a status maps to (None for 2xx), by what RFC 9110
/// section 15 (and the RFCs that added statuses) says another try would do.
pub fn status_exit(status: u16) -> Option<Exit> {
    match status {
        200..=299 => None,
        // The credentials were refused or allow no more: 401, 403, 407
        // (RFC 9110 15.5.2, 15.5.4, 15.5.8); the network itself wants a
        // login first: 511 (RFC 6585 6).
        401 | 403 | 407 | 511 => Some(Exit::NoPerm),
        // The same request may succeed later: 408 (RFC 9110 15.5.9), 425
        // (RFC 8470 5.2), 429 (RFC 6585 4), 507 ("considered to be
        // temporary", RFC 4918 11.5).
        408 | 425 | 429 | 507 => Some(Exit::TempFail),
        // The server cannot do this request, now or later: 501 and 505
        // (RFC 9110 15.6.2, 15.6.6), 506 (RFC 2295 8.1), 508 (RFC 5842
        // 7.2), 510 (RFC 2774 7).
        501 | 505 | 506 | 508 | 510 => Some(Exit::Unavailable),
        // The server failed or is busy: 500, 502, 503, 504 (RFC 9110
        // 15.6.1, 15.6.3 to 15.6.5), and an unknown 5xx, which a client
        // treats as 500 (RFC 9110 15).
        500..=599 => Some(Exit::TempFail),
        // Every other 4xx (RFC 9110 15.5; an unknown one is read as 400),
        // and a 1xx or 3xx that ends an exchange.
        _ => Some(Exit::Unavailable),
    }
}

/// Whether a status is worth another attempt: those that [`status_exit`]
/// calls temporary.
pub fn is_retryable_status(status: u16) -> bool {
    status_exit(status) == Some(Exit::TempFail)
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

/// Whether a header's value must never be shown, not even with
/// --show-values: credentials and session headers, and any name with
/// token, key, secret or auth in it.
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

/// The headers whose values are always shown: they say how a body is
/// written and what reads it, never whom it is about or who sends it.
const HARMLESS_HEADERS: &[&str] = &[
    "accept",
    "accept-encoding",
    "content-length",
    "content-type",
    "user-agent",
];

/// Whether a header's value is shown in messages, Debug and dry runs
/// without --show-values.
pub fn is_harmless_header(name: &str) -> bool {
    HARMLESS_HEADERS
        .iter()
        .any(|harmless| name.eq_ignore_ascii_case(harmless))
}

/// Headers as `name: value` for messages, Debug and dry runs: the value of
/// a harmless header is shown, any other is `***`; `show_values`
/// (--show-values) shows every value but a sensitive header's.
pub fn redacted(headers: &[(String, String)], show_values: bool) -> Vec<String> {
    headers
        .iter()
        .map(|(name, value)| {
            let shown = is_harmless_header(name) || (show_values && !is_sensitive_header(name));
            if shown {
                format!("{name}: {value}")
            } else {
                format!("{name}: ***")
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

    /// Every status the RFCs define, and the unknown ones of each class:
    /// its exit code, and whether it is retried (exactly the 75s).
    #[test]
    fn statuses_map_to_exit_codes_by_rfc() {
        const DONE: Option<Exit> = None;
        const REFUSED: Option<Exit> = Some(Exit::Unavailable);
        const TEMPORARY: Option<Exit> = Some(Exit::TempFail);
        const NOT_ALLOWED: Option<Exit> = Some(Exit::NoPerm);
        let table = [
            // 2xx, success (RFC 9110 15.3), an unknown one included.
            (200, DONE),
            (201, DONE),
            (202, DONE),
            (204, DONE),
            (206, DONE),
            (299, DONE),
            // A 3xx that ends an exchange: not a GET, or too many (RFC 9110 15.4).
            (301, REFUSED),
            (302, REFUSED),
            (303, REFUSED),
            (304, REFUSED),
            (307, REFUSED),
            (308, REFUSED),
            // 4xx, the request is wrong: sending it again changes nothing (RFC 9110 15.5).
            (400, REFUSED),
            (402, REFUSED),
            (404, REFUSED),
            (405, REFUSED),
            (406, REFUSED),
            (409, REFUSED),
            (410, REFUSED),
            (411, REFUSED),
            (412, REFUSED),
            (413, REFUSED),
            (414, REFUSED),
            (415, REFUSED),
            (416, REFUSED),
            (417, REFUSED),
            (421, REFUSED),
            (422, REFUSED),
            (426, REFUSED),
            (428, REFUSED),
            (431, REFUSED),
            (451, REFUSED),
            (499, REFUSED),
            // Credentials refused (RFC 9110 15.5.2, 15.5.4, 15.5.8).
            (401, NOT_ALLOWED),
            (403, NOT_ALLOWED),
            (407, NOT_ALLOWED),
            // The server timed the request out; the client may repeat it (RFC 9110 15.5.9).
            (408, TEMPORARY),
            // Too early: the client can retry (RFC 8470 5.2).
            (425, TEMPORARY),
            // Too many requests, with a Retry-After (RFC 6585 4).
            (429, TEMPORARY),
            // 5xx, the server failed or is busy (RFC 9110 15.6.1, 15.6.3 to 15.6.5).
            (500, TEMPORARY),
            (502, TEMPORARY),
            (503, TEMPORARY),
            (504, TEMPORARY),
            // Insufficient storage, "considered to be temporary" (RFC 4918 11.5).
            (507, TEMPORARY),
            // An unknown 5xx is read as 500 (RFC 9110 15).
            (509, TEMPORARY),
            (520, TEMPORARY),
            (599, TEMPORARY),
            // The server cannot do this request, now or later.
            (501, REFUSED), // RFC 9110 15.6.2, Not Implemented
            (505, REFUSED), // RFC 9110 15.6.6, HTTP Version Not Supported
            (506, REFUSED), // RFC 2295 8.1, Variant Also Negotiates
            (508, REFUSED), // RFC 5842 7.2, Loop Detected
            (510, REFUSED), // RFC 2774 7, Not Extended
            // The network wants a login before it lets anything through (RFC 6585 6).
            (511, NOT_ALLOWED),
            // Outside the classes RFC 9110 defines.
            (100, REFUSED),
            (600, REFUSED),
        ];
        for (status, exit) in table {
            assert_eq!(status_exit(status), exit, "{status}");
            assert_eq!(
                is_retryable_status(status),
                exit == TEMPORARY,
                "{status} retried"
            );
        }
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
        assert!(debug.contains("x-api-version: ***"), "{debug}");
        assert!(debug.contains("content-type: text/csv"), "{debug}");
    }

    /// Only the harmless headers show their values; --show-values shows
    /// the others too, but never a sensitive one's.
    #[test]
    fn header_values_are_shown_only_when_harmless() {
        let value = "v4lue-7731";
        let shown = |name: &str, show_values: bool| {
            redacted(&[(name.into(), value.into())], show_values)
                .join("")
                .contains(value)
        };
        for (name, plain, with_show_values) in [
            ("Content-Type", true, true),
            ("accept", true, true),
            ("Accept-Encoding", true, true),
            ("Content-Length", true, true),
            ("User-Agent", true, true),
            ("X-Password", false, true),
            ("X-Patient-Name", false, true),
            ("x-api-version", false, true),
            ("X-Api-Key", false, false),
            ("Authorization", false, false),
            ("Proxy-Authorization", false, false),
            ("Cookie", false, false),
            ("client", false, false),
        ] {
            assert_eq!(shown(name, false), plain, "{name}");
            assert_eq!(
                shown(name, true),
                with_show_values,
                "{name} with --show-values"
            );
        }
    }
}
