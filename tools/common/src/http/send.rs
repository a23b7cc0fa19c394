//! Sending: auth headers, retries with backoff and Retry-After, the replay
//! after a 401 of a session scheme, and GET redirects.

use super::errors::{describe_wait, transport_error};
use super::{
    Attempt, Client, MAX_REDIRECTS, Method, Request, Response, is_retryable_status,
    is_sensitive_header, url,
};
use crate::error::{Error, Exit, Result};
use crate::secret::Secret;

impl Client {
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

    pub(super) fn send_with_retries(&self, request: &Request, with_auth: bool) -> Result<Response> {
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
            let mut answer = result.map_err(|e| transport_error(request.method, &url, e))?;
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
                .map_err(|e| transport_error(request.method, &url, e))?;
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
}
