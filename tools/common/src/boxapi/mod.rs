//! Box for box-put and box-get: the app's token (JWT, client credentials or
//! a developer token), held for the run and fetched again once when Box
//! answers 401; folders listed page by page and paths resolved by name
//! (created with mkdir, reused on 409); file info, moves, deletes and
//! downloads. Requests go through [`crate::http::Client`], so the
//! temporary statuses (408, 429, most 5xx) are retried with Retry-After,
//! TLS is verified, and errors name the
//! method and URL, never a secret or a body.

mod args;
mod config;
pub mod doc;
mod files;
mod folders;
mod token;

pub use args::{BoxArgs, BoxAuth, DEFAULT_API_URL, DEFAULT_UPLOAD_URL, token_url_for};
pub use config::{AppConfig, parse_app_config, read_app_config, unlock_key};
pub use folders::{Conflict, FolderItems, PathPlan, conflicts};
pub use token::{BoxTokens, Grant, Subject, assertion_claims, sign_assertion};

use crate::error::{Error, Result};
use crate::http::{Client, Request, Response};
use crate::retry::RetryPolicy;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a 202 ("not ready yet": a commit, a download) is waited for
/// in all, without --max-time.
pub const PENDING_WAIT: Duration = Duration::from_secs(600);

/// The Box client of a run.
#[derive(Debug)]
pub struct BoxClient {
    client: Client,
    tokens: Arc<BoxTokens>,
    api_url: String,
    upload_url: String,
    token_url: String,
}

impl BoxClient {
    /// Check the flags, read the credentials (the app's key decrypted) and
    /// set the client up; nothing is sent. Bad or missing credentials are
    /// exit 78, bad URLs and flag combinations 64.
    pub fn new(tool: &'static str, args: &BoxArgs) -> Result<BoxClient> {
        let api_url = args.api_url.trim_end_matches('/').to_string();
        let upload_url = args.upload_url.trim_end_matches('/').to_string();
        let token_url = args.token_url();
        let grant = Grant::from_args(args)?;
        let tokens = Arc::new(BoxTokens::new(grant, token_url.clone()));
        let client = Client::with_token_source(tool, &args.transport, tokens.clone())?;
        for (flag, url) in [
            ("--api-url", &api_url),
            ("--upload-url", &upload_url),
            ("--token-url", &token_url),
        ] {
            client.check_url(url).map_err(|e| e.context(flag))?;
        }
        Ok(BoxClient {
            client,
            tokens,
            api_url,
            upload_url,
            token_url,
        })
    }

    /// The HTTP client (with the token), for requests of a tool's own.
    pub fn http(&self) -> &Client {
        &self.client
    }

    /// The retry policy of the flags.
    pub fn policy(&self) -> RetryPolicy {
        self.client.policy()
    }

    /// jwt, ccg or token.
    pub fn auth_mode(&self) -> BoxAuth {
        self.tokens.grant().mode()
    }

    /// How many tokens were fetched so far in this run.
    pub fn tokens_fetched(&self) -> u32 {
        self.tokens.fetched()
    }

    /// `PATH` under the API URL (`/folders/0` -> `https://api.box.com/2.0/folders/0`).
    pub fn api(&self, path: &str) -> String {
        format!("{}{path}", self.api_url)
    }

    /// `PATH` under the upload URL.
    pub fn upload(&self, path: &str) -> String {
        format!("{}{path}", self.upload_url)
    }

    /// The token URL in use.
    pub fn token_url(&self) -> &str {
        &self.token_url
    }

    /// Send a request with the token: every final answer comes back (check
    /// it with [`BoxClient::check`]); the temporary statuses were retried,
    /// and a 401 fetched a new token and sent the request once more.
    pub fn send(&self, request: &Request) -> Result<Response> {
        self.client.send(request)
    }

    /// [`BoxClient::send`], then [`BoxClient::check`].
    pub fn send_checked(&self, request: &Request) -> Result<Response> {
        let response = self.send(request)?;
        self.check(response)
    }

    /// The answer if it is a success, else its error, with the exit of the
    /// client's table (`http::status_exit`), and Box's error code (such as
    /// item_name_in_use) when the answer has one.
    pub fn check(&self, response: Response) -> Result<Response> {
        match error_of(&response) {
            None => Ok(response),
            Some(error) => Err(error),
        }
    }

    /// Send `request` again while Box answers 202 (not ready: a commit
    /// being assembled), waiting its Retry-After (1 s when it gives
    /// none), for --max-time or [`PENDING_WAIT`] in all. Independent of
    /// --retries, which count failures, not waits.
    pub fn send_until_ready(&self, request: &Request) -> Result<Response> {
        let started = Instant::now();
        let limit = self
            .policy()
            .max_time
            .unwrap_or(PENDING_WAIT)
            .max(Duration::from_secs(1));
        loop {
            let response = self.send(request)?;
            if response.status != 202 {
                return Ok(response);
            }
            let wait = response.retry_after().unwrap_or(Duration::from_secs(1));
            if started.elapsed() + wait > limit {
                return Err(Error::temp_fail(format!(
                    "{}: HTTP 202: still not ready after {} s",
                    response.at(),
                    started.elapsed().as_secs()
                )));
            }
            std::thread::sleep(wait);
        }
    }
}

/// What a Box answer's status means, as an error (None for 2xx): the
/// client's mapping, with Box's error code added.
pub fn error_of(response: &Response) -> Option<Error> {
    let error = response.error()?;
    match box_error_code(response) {
        Some(code) => Some(Error::new(
            error.exit(),
            format!("{} ({code})", error.message()),
        )),
        None => Some(error),
    }
}

/// Box's error code of an answer (`{"type":"error","code":"..."}`), when
/// it is a plain word (it never carries a value).
pub fn box_error_code(response: &Response) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(&response.body).ok()?;
    let code = value.get("code").or_else(|| value.get("error"))?.as_str()?;
    let plain = !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    plain.then(|| code.to_string())
}
