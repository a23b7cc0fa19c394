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
pub mod doc;
pub mod url;

pub use crate::retry::Attempt;
pub use args::{AuthScheme, HttpArgs, parse_header};
pub use auth::{load_rsa_key, sign_client_assertion};

use crate::error::{Error, Exit, Result};
use crate::retry::RetryPolicy;
use crate::secret::Secret;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

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
}

impl Request {
    pub fn new(method: Method, url: impl Into<String>) -> Request {
        Request {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
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
            .field("url", &url::shown(&self.url))
            .field("headers", &redacted(&self.headers))
            .field("body_bytes", &self.body.as_ref().map(Vec::len))
            .finish()
    }
}

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
    show_values: bool,
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

fn status_text(status: u16) -> String {
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

/// The client: one agent for every request of the run.
pub struct Client {
    tool: &'static str,
    agent: ureq::Agent,
    auth: auth::Auth,
    headers: Vec<(String, String)>,
    policy: RetryPolicy,
    insecure_plaintext: bool,
    show_values: bool,
    max_response_bytes: u64,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("tool", &self.tool)
            .field("auth", &self.auth)
            .field("headers", &redacted(&self.headers))
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Check the flags and set the client up: headers, CAs, the private
    /// key of reportstream-jwt. Secrets are read at the first request (or
    /// by [`Client::check_secrets`]); nothing is sent here.
    pub fn new(tool: &'static str, args: &HttpArgs) -> Result<Client> {
        let headers = args
            .headers
            .iter()
            .map(|h| parse_header(h))
            .collect::<Result<Vec<_>>>()?;
        let auth = auth::Auth::new(args)?;
        let roots = root_certificates(args.ca_file.as_deref())?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::Rustls)
            .root_certs(ureq::tls::RootCerts::Specific(Arc::new(roots)))
            .unversioned_rustls_crypto_provider(provider)
            .build();
        let user_agent = args
            .user_agent
            .clone()
            .unwrap_or_else(|| format!("{tool}/{}", env!("CARGO_PKG_VERSION")));
        let config = ureq::Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_global(Some(Duration::from_secs(args.timeout)))
            .user_agent(user_agent)
            .build();
        let policy = RetryPolicy {
            retries: args.retries,
            base_delay: Duration::from_millis(args.retry_delay),
            max_time: args.max_time.map(Duration::from_secs),
            ..RetryPolicy::default()
        };
        Ok(Client {
            tool,
            agent: ureq::Agent::new_with_config(config),
            auth,
            headers,
            policy,
            insecure_plaintext: args.insecure_plaintext,
            show_values: args.show_values,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        })
    }

    /// Refuse answers larger than `bytes` (exit 69).
    pub fn set_max_response_bytes(&mut self, bytes: u64) {
        self.max_response_bytes = bytes;
    }

    /// The retry policy from the flags (for a tool that retries a larger
    /// unit of work itself, such as a lookup and its write).
    pub fn policy(&self) -> RetryPolicy {
        self.policy
    }

    /// The auth scheme in use.
    pub fn auth_scheme(&self) -> AuthScheme {
        self.auth.scheme
    }

    /// Whether --show-values was given.
    pub fn show_values(&self) -> bool {
        self.show_values
    }

    /// Read the scheme's secrets now: a missing one is exit 78 before
    /// anything is sent. Not needed before [`Client::send`], which reads
    /// them itself; skip it in a dry run.
    pub fn check_secrets(&self) -> Result<()> {
        self.auth.check_secrets()
    }

    /// Check a URL before use: http or https, a host, no user info, and
    /// plain http only to loopback (exit 64) unless --insecure-plaintext.
    pub fn check_url(&self, url: &str) -> Result<()> {
        let origin = url::origin(url)?;
        if origin.scheme == "http"
            && !self.insecure_plaintext
            && !url::is_loopback_host(&origin.host)
        {
            return Err(Error::usage(format!(
                "{}: plain http:// sends the credentials and the records in clear: it is allowed only to a loopback host (127.0.0.1, ::1, localhost), or with --insecure-plaintext",
                url::shown(url)
            )));
        }
        Ok(())
    }

    /// One line for --dry-run: method, URL without its query values,
    /// headers with sensitive values as `***` (auth headers by name only,
    /// since a dry run logs in to nothing), and the body's size.
    pub fn describe(&self, request: &Request) -> String {
        let mut headers = redacted(&self.headers);
        headers.extend(redacted(&request.headers));
        headers.extend(
            auth::header_names(self.auth.scheme)
                .iter()
                .map(|name| format!("{name}: ***")),
        );
        let url = match request.url.split_once('?') {
            Some((_, query)) => {
                let names: Vec<&str> = query
                    .split('&')
                    .map(|pair| pair.split('=').next().unwrap_or(pair))
                    .collect();
                format!(
                    "{}?{}",
                    url::shown(&request.url),
                    names.join("=...&") + "=..."
                )
            }
            None => url::shown(&request.url),
        };
        let body = match &request.body {
            Some(body) => format!("{} bytes", body.len()),
            None => "no body".into(),
        };
        format!("{} {url} [{}] {body}", request.method, headers.join(", "))
    }

    /// Send `request` with auth and retries. Every final answer comes back
    /// (check it with [`Response::error`]); the errors are a URL refused
    /// (64), a missing secret (78), TLS or login refused (77), the retries
    /// or --max-time used up (75), an answer over the size cap (69). On a
    /// session scheme a 401 logs in again once and replays the request.
    pub fn send(&self, request: &Request) -> Result<Response> {
        let response = self.send_with_retries(request, true)?;
        if response.status == 401 && self.auth.scheme.has_session() {
            self.auth.forget_session();
            return self.send_with_retries(request, true);
        }
        Ok(response)
    }

    /// [`Client::send`], then the status checked: a non-2xx answer is its error.
    pub fn send_checked(&self, request: &Request) -> Result<Response> {
        self.send(request)?.checked()
    }

    /// One attempt, without retries (a session scheme's 401 still logs in
    /// again once and replays): for a tool that retries a larger unit of
    /// work itself with [`Client::retry`], such as a lookup and its write.
    pub fn try_once(&self, request: &Request) -> Attempt<Response, Error> {
        if let Err(error) = self.check_url(&request.url) {
            return Attempt::Fail(error);
        }
        match self.attempt(request, true) {
            Attempt::Done(response) if response.status == 401 && self.auth.scheme.has_session() => {
                self.auth.forget_session();
                self.attempt(request, true)
            }
            other => other,
        }
    }

    /// Run `attempt` under the retry policy of the flags, with a warning
    /// on stderr before each wait; the last error names the attempts made.
    pub fn retry<T>(&self, attempt: impl FnMut(u32) -> Attempt<T, Error>) -> Result<T> {
        let result = self.policy.run(attempt, |n, error: &Error, wait| {
            crate::cli::warn(
                self.tool,
                format!(
                    "{}; attempt {n} of {}, retrying in {}",
                    error.message(),
                    self.policy.retries + 1,
                    describe_wait(wait)
                ),
            )
        });
        result.map_err(|(error, attempts)| {
            if error.exit() == Exit::TempFail && attempts > 1 {
                error.context(format!("gave up after {attempts} attempts"))
            } else {
                error
            }
        })
    }

    fn send_with_retries(&self, request: &Request, with_auth: bool) -> Result<Response> {
        self.check_url(&request.url)?;
        self.retry(|_| self.attempt(request, with_auth))
    }

    fn attempt(&self, request: &Request, with_auth: bool) -> Attempt<Response, Error> {
        let auth_headers = if with_auth {
            match self.auth_headers(&request.url) {
                Ok(headers) => headers,
                Err(error) => return Attempt::Fail(error),
            }
        } else {
            Vec::new()
        };
        match self.execute(request, &auth_headers) {
            Ok(response) => {
                if with_auth {
                    self.auth.note_answer(&response);
                }
                if is_retryable_status(response.status) {
                    let retry_after = response.retry_after();
                    let error = response
                        .error()
                        .unwrap_or_else(|| Error::temp_fail("retryable status"));
                    Attempt::Retry { error, retry_after }
                } else {
                    Attempt::Done(response)
                }
            }
            Err(error) if error.exit() == Exit::TempFail => Attempt::Retry {
                error,
                retry_after: None,
            },
            Err(error) => Attempt::Fail(error),
        }
    }

    /// One exchange, following GET redirects (without the sensitive
    /// headers when a redirect leaves the origin).
    fn execute(&self, request: &Request, auth_headers: &[(String, Secret)]) -> Result<Response> {
        let mut url = request.url.clone();
        let mut keep_sensitive = true;
        let first_origin = url::origin(&url)?;
        for _ in 0..=MAX_REDIRECTS {
            self.check_url(&url)?;
            let mut builder = ureq::http::Request::builder()
                .method(request.method.as_str())
                .uri(url.as_str());
            let plain = self.headers.iter().chain(request.headers.iter());
            for (name, value) in plain {
                if keep_sensitive || !is_sensitive_header(name) {
                    builder = builder.header(name.as_str(), value.as_str());
                }
            }
            if keep_sensitive {
                for (name, value) in auth_headers {
                    builder = builder.header(name.as_str(), value.expose());
                }
            }
            let built = match &request.body {
                Some(body) => builder.body(body.as_slice()).map(|r| self.agent.run(r)),
                None => builder.body(()).map(|r| self.agent.run(r)),
            };
            let result = built.map_err(|_| {
                Error::usage(format!(
                    "{} {}: not a valid request (URL or header)",
                    request.method,
                    url::shown(&url)
                ))
            })?;
            let mut answer = result.map_err(|e| self.transport_error(request.method, &url, e))?;
            let status = answer.status().as_u16();
            let headers: Vec<(String, String)> = answer
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let body = answer
                .body_mut()
                .with_config()
                .limit(self.max_response_bytes)
                .read_to_vec()
                .map_err(|e| self.transport_error(request.method, &url, e))?;
            let response = Response {
                status,
                headers,
                body,
                method: request.method,
                url: url.clone(),
                show_values: self.show_values,
            };
            let location = response.header("location").map(str::to_string);
            match location {
                Some(location)
                    if request.method == Method::Get
                        && matches!(status, 301 | 302 | 303 | 307 | 308) =>
                {
                    url = url::resolve(&url, &location);
                    if url::origin(&url)? != first_origin {
                        keep_sensitive = false;
                    }
                }
                _ => return Ok(response),
            }
        }
        Err(Error::unavailable(format!(
            "{} {}: more than {MAX_REDIRECTS} redirects",
            request.method,
            url::shown(&request.url)
        )))
    }

    /// A failure without an answer: TLS is 77, the network 75 (retried).
    fn transport_error(&self, method: Method, url: &str, e: ureq::Error) -> Error {
        let at = format!("{method} {}", url::shown(url));
        if let Some(tls) = rustls_error(&e) {
            return Error::new(
                Exit::NoPerm,
                format!("{at}: TLS failed: {}; nothing was sent", describe_tls(tls)),
            );
        }
        match e {
            ureq::Error::Tls(why) => Error::new(Exit::NoPerm, format!("{at}: TLS failed: {why}")),
            ureq::Error::Timeout(_) => Error::temp_fail(format!("{at}: timed out")),
            ureq::Error::HostNotFound => Error::temp_fail(format!("{at}: host not found")),
            ureq::Error::ConnectionFailed => Error::temp_fail(format!("{at}: connection failed")),
            ureq::Error::Io(io) => Error::temp_fail(format!("{at}: {}", describe_io(&io))),
            ureq::Error::Protocol(_) => {
                Error::temp_fail(format!("{at}: the answer is not valid HTTP, or was cut"))
            }
            ureq::Error::BodyExceedsLimit(limit) => {
                Error::unavailable(format!("{at}: the answer is larger than {limit} bytes"))
            }
            ureq::Error::BadUri(_) | ureq::Error::Http(_) => {
                Error::usage(format!("{at}: not a valid request (URL or header)"))
            }
            other => Error::unavailable(format!("{at}: {other}")),
        }
    }
}

/// A TLS failure in a few words, with what to do about a certificate.
fn describe_tls(tls: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    let rustls::Error::InvalidCertificate(cert) = tls else {
        return tls.to_string();
    };
    match cert {
        C::UnknownIssuer => {
            "the server's certificate is signed by a CA that is not trusted (--ca-file adds one)"
                .into()
        }
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            "the server's certificate is for another host name".into()
        }
        C::Expired | C::ExpiredContext { .. } => "the server's certificate has expired".into(),
        C::NotValidYet | C::NotValidYetContext { .. } => {
            "the server's certificate is not valid yet (is the clock right?)".into()
        }
        other => format!("the server's certificate was refused: {other:?}"),
    }
}

/// A network failure in a few words.
fn describe_io(io: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match io.kind() {
        K::UnexpectedEof => "the connection closed before the answer".into(),
        K::ConnectionReset => "the connection was reset".into(),
        K::ConnectionRefused => "the connection was refused".into(),
        K::ConnectionAborted => "the connection was aborted".into(),
        K::BrokenPipe => "the connection closed while sending".into(),
        K::TimedOut => "timed out".into(),
        _ => {
            let text = io.to_string();
            let text = text.split(" (os error").next().unwrap_or(&text);
            text.split(": https://").next().unwrap_or(text).to_string()
        }
    }
}

/// A wait for a warning: "250 ms", "1.5 s".
fn describe_wait(wait: Duration) -> String {
    if wait < Duration::from_secs(1) {
        format!("{} ms", wait.as_millis())
    } else {
        format!("{:.1} s", wait.as_secs_f64())
    }
}

/// A rustls error in a ureq error: directly, or inside an I/O error (the
/// handshake runs in the first read or write).
fn rustls_error(e: &ureq::Error) -> Option<&rustls::Error> {
    match e {
        ureq::Error::Rustls(tls) => Some(tls),
        ureq::Error::Io(io) => {
            let mut next: Option<&(dyn std::error::Error + 'static)> = io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static));
            while let Some(err) = next {
                if let Some(tls) = err.downcast_ref::<rustls::Error>() {
                    return Some(tls);
                }
                next = err.source();
            }
            None
        }
        _ => None,
    }
}

/// The system's trusted CAs, and those of `ca_file`.
fn root_certificates(
    ca_file: Option<&std::path::Path>,
) -> Result<Vec<ureq::tls::Certificate<'static>>> {
    let mut roots: Vec<ureq::tls::Certificate<'static>> = rustls_native_certs::load_native_certs()
        .certs
        .iter()
        .map(|der| ureq::tls::Certificate::from_der(der.as_ref()).to_owned())
        .collect();
    if let Some(path) = ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| Error::io(format!("cannot read --ca-file {}", path.display()), e))?;
        let before = roots.len();
        for item in ureq::tls::parse_pem(&pem) {
            if let Ok(ureq::tls::PemItem::Certificate(cert)) = item {
                roots.push(cert.to_owned());
            }
        }
        if roots.len() == before {
            return Err(Error::config(format!(
                "--ca-file {}: no PEM certificate in it",
                path.display()
            )));
        }
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> HttpArgs {
        use clap::{FromArgMatches, Parser};
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            http: HttpArgs,
        }
        let mut argv = vec!["t"];
        argv.extend_from_slice(extra);
        let matches = <Cli as clap::CommandFactory>::command().get_matches_from(argv);
        match Cli::from_arg_matches(&matches) {
            Ok(cli) => cli.http,
            Err(e) => panic!("{e}"),
        }
    }

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
    fn network_and_tls_failures_are_described_briefly() {
        use std::io::{Error as IoError, ErrorKind};
        assert_eq!(describe_wait(Duration::from_millis(250)), "250 ms");
        assert_eq!(describe_wait(Duration::from_millis(1500)), "1.5 s");
        let eof = IoError::new(
            ErrorKind::UnexpectedEof,
            "peer closed connection: https://docs.rs/x",
        );
        assert_eq!(describe_io(&eof), "the connection closed before the answer");
        let other = IoError::other("failed to lookup address information (os error -2)");
        assert_eq!(describe_io(&other), "failed to lookup address information");
        let unknown = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        assert!(describe_tls(&unknown).contains("--ca-file"));
        let name = rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName);
        assert!(describe_tls(&name).contains("another host name"));
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

    #[test]
    fn dry_run_lines_redact_and_name_auth_headers() -> Result<()> {
        let client = Client::new(
            "t",
            &args(&[
                "--auth",
                "oscar",
                "-H",
                "X-Api-Key: s3cret",
                "-H",
                "client: org",
            ]),
        )?;
        let request = Request::with_body(
            Method::Post,
            "https://h/oscar/api/v1/organizations/clients/upsert/?x=P1&y=2",
            "application/json",
            b"{}".to_vec(),
        );
        let line = client.describe(&request);
        assert_eq!(
            line,
            "POST https://h/oscar/api/v1/organizations/clients/upsert/?x=...&y=... [X-Api-Key: ***, client: ***, content-type: application/json, access-token: ***, client: ***, uid: ***] 2 bytes"
        );
        let debug = format!("{client:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
        Ok(())
    }

    #[test]
    fn plain_http_only_to_loopback() -> Result<()> {
        let client = Client::new("t", &args(&[]))?;
        for url in [
            "http://127.0.0.1:8080/x",
            "http://[::1]/x",
            "http://localhost/x",
            "https://example.org/x",
        ] {
            assert!(client.check_url(url).is_ok(), "{url}");
        }
        let refused = client.check_url("http://example.org/x").err();
        assert!(refused.is_some_and(|e| e.code() == 64 && e.message().contains("loopback")));
        let insecure = Client::new("t", &args(&["--insecure-plaintext"]))?;
        assert!(insecure.check_url("http://example.org/x").is_ok());
        Ok(())
    }

    #[test]
    fn flags_are_checked_before_anything_is_sent() {
        let code = |a: &[&str]| Client::new("t", &args(a)).err().map(|e| e.code());
        assert_eq!(code(&["--auth", "reportstream-jwt"]), Some(64));
        assert_eq!(code(&["--auth", "basic", "--client-id", "x"]), Some(64));
        assert_eq!(
            code(&["--auth", "bearer", "--login-url", "https://h/api/t"]),
            Some(64)
        );
        assert_eq!(code(&["-H", "no colon"]), Some(64));
        assert_eq!(code(&["--ca-file", "/nonexistent/ca.pem"]), Some(66));
        assert_eq!(
            code(&[
                "--auth",
                "primero",
                "--login-url",
                "https://h/api/v2/tokens"
            ]),
            None
        );
    }

    #[test]
    fn missing_secrets_are_config_errors() -> Result<()> {
        let client = Client::new(
            "t",
            &args(&[
                "--auth",
                "bearer",
                "--token-env",
                "COMMON_HTTP_TEST_UNSET_TOKEN",
            ]),
        )?;
        assert_eq!(client.check_secrets().map_err(|e| e.code()), Err(78));
        Ok(())
    }
}
