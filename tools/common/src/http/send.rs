//! Sending: auth headers, retries with backoff and Retry-After, the replay
//! after a 401 of a session scheme or a token source, GET redirects, and
//! answers streamed for downloads.

use super::errors::{describe_wait, transport_error};
use super::{
    Attempt, Client, MAX_REDIRECTS, Method, Request, Response, StreamedResponse,
    is_retryable_status, is_sensitive_header, url,
};
use crate::error::{Error, Exit, Result};
use crate::secret::Secret;
use std::time::Duration;

impl Client {
    /// Send `request` with auth and retries. Every final answer comes back
    /// (check it with [`Response::error`]); the errors are a URL refused
    /// (64), a missing secret (78), TLS or login refused (77), the retries
    /// or --max-time used up (75), an answer over the size cap (69). On a
    /// session scheme, or with a token source that can fetch a new token,
    /// a 401 logs in again once and replays the request.
    pub fn send(&self, request: &Request) -> Result<Response> {
        let response = self.send_with_retries(request, true)?;
        if response.status == 401 && self.forget_session() {
            return self.send_with_retries(request, true);
        }
        Ok(response)
    }

    /// [`Client::send`] without the auth headers (the -H headers are
    /// sent): for a token request of a [`super::TokenSource`].
    pub fn send_without_auth(&self, request: &Request) -> Result<Response> {
        self.send_with_retries(request, false)
    }

    /// Send `request` and give back the answer with its body unread, for a
    /// download: retried like [`Client::send`] (a 401 replayed once with a
    /// new session or token), but no redirect is followed, so that the
    /// caller chooses where to go and with which headers. `with_auth`
    /// false sends no auth header (a download URL that carries its own
    /// permission). The body is not capped: --timeout bounds connecting
    /// and each read, and the whole transfer gets --max-time (else an hour).
    pub fn send_streaming(&self, request: &Request, with_auth: bool) -> Result<StreamedResponse> {
        self.check_url(&request.url)?;
        let once = || self.retry(|_| self.attempt_streaming(request, with_auth));
        let response = once()?;
        if with_auth && response.status == 401 && self.forget_session() {
            return once();
        }
        Ok(response)
    }

    /// After a 401: drop the session or token held; true when a new one
    /// can be had, so that the request is worth sending once more.
    fn forget_session(&self) -> bool {
        if let Some(source) = &self.token_source {
            return source.forget();
        }
        if self.auth.scheme.has_session() {
            self.auth.forget_session();
            return true;
        }
        false
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
            Attempt::Done(response) if response.status == 401 && self.forget_session() => {
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

    pub(super) fn send_with_retries(&self, request: &Request, with_auth: bool) -> Result<Response> {
        self.check_url(&request.url)?;
        self.retry(|_| self.attempt(request, with_auth))
    }

    /// The auth headers for `url`, or none when the request goes without.
    fn auth_headers_if(&self, with_auth: bool, url: &str) -> Result<Vec<(String, Secret)>> {
        if with_auth {
            self.auth_headers(url)
        } else {
            Ok(Vec::new())
        }
    }

    fn attempt(&self, request: &Request, with_auth: bool) -> Attempt<Response, Error> {
        let auth_headers = match self.auth_headers_if(with_auth, &request.url) {
            Ok(headers) => headers,
            Err(error) => return Attempt::Fail(error),
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
            let auth = if keep_sensitive {
                Some(auth_headers)
            } else {
                None
            };
            let mut answer = self.exchange(request, &url, auth)?;
            let status = answer.status().as_u16();
            let headers = header_pairs(&answer);
            let body = answer
                .body_mut()
                .with_config()
                .limit(self.max_response_bytes)
                .read_to_vec()
                .map_err(|e| transport_error(request.method, &shown_at(request, &url), e))?;
            let response = Response {
                status,
                headers,
                body,
                method: request.method,
                url: url.clone(),
                shown_url: request.shown_url.clone(),
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
            request.shown()
        )))
    }

    fn attempt_streaming(
        &self,
        request: &Request,
        with_auth: bool,
    ) -> Attempt<StreamedResponse, Error> {
        let auth_headers = match self.auth_headers_if(with_auth, &request.url) {
            Ok(headers) => headers,
            Err(error) => return Attempt::Fail(error),
        };
        let mut streamed = request.clone();
        if streamed.timeout.is_none() {
            streamed.timeout = Some(self.policy.max_time.unwrap_or(STREAMED_BODY_TIME));
        }
        let answer = match self.exchange(&streamed, &request.url, Some(auth_headers.as_slice())) {
            Ok(answer) => answer,
            Err(error) if error.exit() == Exit::TempFail => {
                return Attempt::Retry {
                    error,
                    retry_after: None,
                };
            }
            Err(error) => return Attempt::Fail(error),
        };
        let status = answer.status().as_u16();
        let headers = header_pairs(&answer);
        let reader = answer.into_body().into_reader();
        let response = StreamedResponse::new(
            status,
            headers,
            request.method,
            request.url.clone(),
            Box::new(reader),
        );
        if is_retryable_status(status) {
            let retry_after = response.retry_after();
            let error = Error::temp_fail(format!(
                "{}: HTTP {}",
                response.at(),
                super::response::status_text(status)
            ));
            Attempt::Retry { error, retry_after }
        } else {
            Attempt::Done(response)
        }
    }

    /// One request and the head of its answer. `auth_headers` None sends
    /// neither the auth headers nor any sensitive -H header (a redirect
    /// to another origin).
    fn exchange(
        &self,
        request: &Request,
        url: &str,
        auth_headers: Option<&[(String, Secret)]>,
    ) -> Result<ureq::http::Response<ureq::Body>> {
        let mut builder = ureq::http::Request::builder()
            .method(request.method.as_str())
            .uri(url);
        let plain = self.headers.iter().chain(request.headers.iter());
        for (name, value) in plain {
            if auth_headers.is_some() || !is_sensitive_header(name) {
                builder = builder.header(name.as_str(), value.as_str());
            }
        }
        for (name, value) in auth_headers.unwrap_or_default() {
            builder = builder.header(name.as_str(), value.expose());
        }
        let result = match &request.body {
            Some(body) => builder
                .body(body.as_slice())
                .map(|r| self.run(r, request.timeout)),
            None => builder.body(()).map(|r| self.run(r, request.timeout)),
        };
        let shown = shown_at(request, url);
        let result = result.map_err(|_| {
            Error::usage(format!(
                "{} {shown}: not a valid request (URL or header)",
                request.method
            ))
        })?;
        result.map_err(|e| transport_error(request.method, &shown, e))
    }

    fn run<S: ureq::AsSendBody>(
        &self,
        request: ureq::http::Request<S>,
        timeout: Option<Duration>,
    ) -> std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error> {
        match timeout {
            // A long transfer: its own limit in all, and --timeout for
            // connecting and for each read and write, so that a stall
            // still ends soon.
            Some(limit) => {
                let request = self
                    .agent
                    .configure_request(request)
                    .timeout_global(Some(limit))
                    .timeout_connect(Some(self.timeout))
                    .timeout_per_read(Some(self.timeout))
                    .timeout_per_write(Some(self.timeout))
                    .build();
                self.agent.run(request)
            }
            None => self.agent.run(request),
        }
    }
}

/// `url` (the request's, or where a redirect led) as messages show it: the
/// request's template when its URL holds record values.
fn shown_at(request: &Request, url: &str) -> String {
    request.shown_url.clone().unwrap_or_else(|| url::shown(url))
}

/// The body time of a streamed answer without --max-time.
const STREAMED_BODY_TIME: Duration = Duration::from_secs(3600);

/// An answer's headers, names lower-case (as the http crate keeps them).
fn header_pairs(answer: &ureq::http::Response<ureq::Body>) -> Vec<(String, String)> {
    answer
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}
