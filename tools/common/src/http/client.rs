//! The client: one ureq agent for the run, the shared flags checked, and
//! the --dry-run description of a request.

use super::args::{AuthScheme, HttpArgs, TransportArgs, parse_header};
use super::{DEFAULT_MAX_RESPONSE_BYTES, Request, auth, proxy, redacted, tls, url};
use crate::error::{Error, Result};
use crate::retry::RetryPolicy;
use crate::secret::Secret;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Where a client built with [`Client::with_token_source`] gets its bearer
/// token: an API's own grant (the Box app's JWT or client credentials),
/// fetched when first needed and held for the run.
pub trait TokenSource: Send + Sync {
    /// The token for `Authorization: Bearer`, fetched when none is held.
    /// A fetch sends its request with [`Client::send_without_auth`]; a
    /// refused grant is its own error (exit 77), never retried.
    fn token(&self, client: &Client) -> Result<Secret>;

    /// A request was answered 401: drop the token held. True when another
    /// can be fetched, and the request is then sent once more; false for a
    /// fixed token, whose 401 is final.
    fn forget(&self) -> bool;
}

/// The client: one agent for every request of the run.
pub struct Client {
    pub(super) tool: &'static str,
    /// One agent for the run, sending each request on its route (see [`proxy`]).
    pub(super) agent: proxy::RoutedAgent,
    pub(super) auth: auth::Auth,
    pub(super) headers: Vec<(String, String)>,
    pub(super) policy: RetryPolicy,
    pub(super) insecure_plaintext: bool,
    pub(super) show_values: bool,
    pub(super) max_response_bytes: u64,
    /// --timeout: a request's limit, or each read's and write's in a long transfer.
    pub(super) timeout: Duration,
    pub(super) token_source: Option<Arc<dyn TokenSource>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("tool", &self.tool)
            .field("auth", &self.auth)
            .field("headers", &redacted(&self.headers, false))
            .field("policy", &self.policy)
            .field("token_source", &self.token_source.is_some())
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
        let mut client = Client::build(tool, &args.transport, auth, args.user_agent.as_deref())?;
        client.headers = headers;
        client.insecure_plaintext = args.insecure_plaintext;
        client.show_values = args.show_values;
        Ok(client)
    }

    /// A client for an API with its own token grant: the transport flags
    /// only, and `Authorization: Bearer` from `source` on every request
    /// except those of [`Client::send_without_auth`]. A 401 asks the
    /// source to forget its token, then the request is sent once more with
    /// a new one (when the source can fetch one).
    pub fn with_token_source(
        tool: &'static str,
        args: &TransportArgs,
        source: Arc<dyn TokenSource>,
    ) -> Result<Client> {
        let mut client = Client::build(tool, args, auth::Auth::none(), None)?;
        client.token_source = Some(source);
        Ok(client)
    }

    fn build(
        tool: &'static str,
        args: &TransportArgs,
        auth: auth::Auth,
        user_agent: Option<&str>,
    ) -> Result<Client> {
        let tls = tls::config(args.ca_file.as_deref())?;
        let proxy = proxy::Proxy::from_env()?;
        let user_agent = user_agent.map_or_else(
            || format!("{tool}/{}", env!("CARGO_PKG_VERSION")),
            str::to_string,
        );
        let config = ureq::Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_global(Some(Duration::from_secs(args.timeout)))
            .user_agent(user_agent)
            .proxy(None)
            .build();
        let policy = RetryPolicy {
            retries: args.retries,
            base_delay: Duration::from_millis(args.retry_delay),
            max_time: args.max_time.map(Duration::from_secs),
            ..RetryPolicy::default()
        };
        Ok(Client {
            tool,
            agent: proxy::RoutedAgent::new(config, proxy),
            auth,
            headers: Vec::new(),
            policy,
            insecure_plaintext: false,
            show_values: false,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            timeout: Duration::from_secs(args.timeout),
            token_source: None,
        })
    }

    /// The tool's name, for its warnings.
    pub fn tool(&self) -> &'static str {
        self.tool
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
    /// no hop in clear off this machine (exit 64) unless
    /// --insecure-plaintext: plain http only to loopback, and a plain http
    /// proxy on another machine only without a user and password (see
    /// [`proxy`]).
    pub fn check_url(&self, url: &str) -> Result<()> {
        let origin = url::origin(url)?;
        let uri: ureq::http::Uri = url
            .parse()
            .map_err(|_| Error::usage(format!("URL {}: not a valid URL", url::shown(url))))?;
        proxy::check_route(
            url,
            &origin,
            self.agent.route(&uri),
            self.insecure_plaintext,
        )
    }

    /// One line for --dry-run: method, URL without its query values,
    /// headers with every value but a harmless one's as `***` (see
    /// [`redacted`]; auth headers by name only, since a dry run logs in to
    /// nothing), and the body's size.
    pub fn describe(&self, request: &Request) -> String {
        let mut headers = redacted(&self.headers, self.show_values);
        headers.extend(redacted(&request.headers, self.show_values));
        let auth_names = if self.token_source.is_some() {
            &["authorization"][..]
        } else {
            auth::header_names(self.auth.scheme)
        };
        headers.extend(auth_names.iter().map(|name| format!("{name}: ***")));
        let url = match request.url.split_once('?') {
            Some((_, query)) => {
                let names: Vec<&str> = query
                    .split('&')
                    .map(|pair| pair.split('=').next().unwrap_or(pair))
                    .collect();
                format!("{}?{}", request.shown(), names.join("=...&") + "=...")
            }
            None => request.shown(),
        };
        let body = match &request.body {
            Some(body) => format!("{} bytes", body.len()),
            None => "no body".into(),
        };
        format!("{} {url} [{}] {body}", request.method, headers.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::super::Method;
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
    fn dry_run_lines_show_only_harmless_header_values() -> Result<()> {
        let headers = [
            "-H",
            "X-Password: v4lue-7731",
            "-H",
            "Accept: application/json",
            "-H",
            "X-Api-Key: k3y-7731",
        ];
        let request =
            Request::with_body(Method::Post, "https://h/x", "text/csv", b"a,b\n".to_vec());
        for (show_values, line) in [
            (
                &[][..],
                "POST https://h/x [X-Password: ***, Accept: application/json, X-Api-Key: ***, content-type: text/csv] 4 bytes",
            ),
            (
                &["--show-values"][..],
                "POST https://h/x [X-Password: v4lue-7731, Accept: application/json, X-Api-Key: ***, content-type: text/csv] 4 bytes",
            ),
        ] {
            let client = Client::new("t", &args(&[&headers[..], show_values].concat()))?;
            assert_eq!(client.describe(&request), line);
        }
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
