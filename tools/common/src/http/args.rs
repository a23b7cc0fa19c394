//! The flags every HTTP tool shares: auth, TLS, headers, timeouts, retries.
//! Tools put them in their own clap struct with `#[command(flatten)]`.

use crate::error::{Error, Result};
use clap::ValueEnum;
use std::path::PathBuf;

/// How requests are authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AuthScheme {
    /// No authentication.
    None,
    /// HTTP Basic with the user and password from the environment (ReqCheck, dhis2).
    Basic,
    /// `Authorization: Bearer <token>` with the token from the environment.
    Bearer,
    /// `Authorization: ApiToken <token>`: a dhis2 personal access token.
    #[value(name = "dhis2-token")]
    Dhis2Token,
    /// `x-functions-key: <token>`: an Azure function key (ReportStream's older auth).
    FunctionKey,
    /// A token from ReportStream's /api/token for a client assertion signed
    /// with the sender's private key.
    ReportstreamJwt,
    /// A token from Primero's /api/v2/tokens login.
    Primero,
    /// OSCaR's sign_in: access-token, client and uid sent back on every request.
    Oscar,
}

impl AuthScheme {
    /// The value as given to --auth.
    pub fn name(self) -> &'static str {
        match self {
            AuthScheme::None => "none",
            AuthScheme::Basic => "basic",
            AuthScheme::Bearer => "bearer",
            AuthScheme::Dhis2Token => "dhis2-token",
            AuthScheme::FunctionKey => "function-key",
            AuthScheme::ReportstreamJwt => "reportstream-jwt",
            AuthScheme::Primero => "primero",
            AuthScheme::Oscar => "oscar",
        }
    }

    /// Schemes that log in first and hold a session: a 401 means the
    /// session ran out, so they log in again once and replay the request.
    pub fn has_session(self) -> bool {
        matches!(
            self,
            AuthScheme::ReportstreamJwt | AuthScheme::Primero | AuthScheme::Oscar
        )
    }
}

/// The shared HTTP flags.
#[derive(clap::Args, Clone, Debug)]
pub struct HttpArgs {
    /// Authentication: none, basic, bearer, dhis2-token, function-key,
    /// reportstream-jwt, primero or oscar (see AUTH). Secrets come from the
    /// environment only.
    #[arg(long, value_enum, value_name = "SCHEME", default_value_t = AuthScheme::None,
          hide_possible_values = true, help_heading = "HTTP")]
    pub auth: AuthScheme,

    /// Read the user name (basic, primero, oscar) from environment variable
    /// NAME, or from the file named by NAME_FILE.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "HTTP_USER",
        help_heading = "HTTP"
    )]
    pub user_env: String,

    /// Read the password (basic, primero, oscar) from environment variable
    /// NAME, or from the file named by NAME_FILE.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "HTTP_PASSWORD",
        help_heading = "HTTP"
    )]
    pub password_env: String,

    /// Read the token (bearer, dhis2-token, function-key) from environment
    /// variable NAME, or from the file named by NAME_FILE.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "HTTP_TOKEN",
        help_heading = "HTTP"
    )]
    pub token_env: String,

    /// reportstream-jwt: the sender's RSA private key (PEM, PKCS#8 or PKCS#1).
    #[arg(long, value_name = "PATH", help_heading = "HTTP")]
    pub private_key_file: Option<PathBuf>,

    /// reportstream-jwt: the sender's client id (e.g. simple_report.default),
    /// used as the key id, issuer and subject of the client assertion.
    #[arg(long, value_name = "ID", help_heading = "HTTP")]
    pub client_id: Option<String>,

    /// reportstream-jwt: the token scope. Default: ORG.*.report, ORG being
    /// the client id up to its first dot.
    #[arg(long, value_name = "SCOPE", help_heading = "HTTP")]
    pub scope: Option<String>,

    /// Where to log in (primero, oscar) or get a token (reportstream-jwt).
    /// Default: the request URL up to /api/, then /api/v2/tokens (primero),
    /// /api/v1/admin_auth/sign_in (oscar) or /api/token (reportstream-jwt).
    #[arg(
        long,
        visible_alias = "token-url",
        value_name = "URL",
        help_heading = "HTTP"
    )]
    pub login_url: Option<String>,

    /// Add a header to every request (repeatable). Dry runs and messages
    /// show the values of Accept, Accept-Encoding, Content-Length,
    /// Content-Type and User-Agent only; --show-values shows the others,
    /// but never one named like *token*, *key*, *secret* or *auth*.
    #[arg(
        short = 'H',
        long = "header",
        value_name = "'NAME: VALUE'",
        help_heading = "HTTP"
    )]
    pub headers: Vec<String>,

    /// TLS trust, timeouts and retries (shared with the Box tools).
    #[command(flatten)]
    pub transport: TransportArgs,

    /// The User-Agent header. Default: TOOL/VERSION.
    #[arg(long, value_name = "TEXT", help_heading = "HTTP")]
    pub user_agent: Option<String>,

    /// Allow plain http:// to hosts other than loopback: secrets and
    /// records then cross the network in clear.
    #[arg(long, help_heading = "HTTP")]
    pub insecure_plaintext: bool,

    /// Put the start of the response body in error messages (for debugging
    /// on a safe machine: it may hold record content).
    #[arg(long, help_heading = "HTTP")]
    pub show_values: bool,
}

/// The transport flags of every HTTP tool, the Box tools included: TLS
/// trust, timeouts and retries.
#[derive(clap::Args, Clone, Debug)]
pub struct TransportArgs {
    /// Also trust the CA certificates in FILE (PEM), on top of the system's.
    #[arg(long, value_name = "FILE", help_heading = "HTTP")]
    pub ca_file: Option<PathBuf>,

    /// Give up on one request after SECS seconds (connect, send and answer).
    #[arg(long, value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..), help_heading = "HTTP")]
    pub timeout: u64,

    /// Retry a connection failure, a timeout, or a temporary status (408,
    /// 425, 429, 5xx but 501, 505, 506, 508, 510 and 511) up to N times,
    /// with exponential backoff and jitter, honouring Retry-After.
    #[arg(long, value_name = "N", default_value_t = 3, help_heading = "HTTP")]
    pub retries: u32,

    /// The first wait before a retry, in milliseconds; each later one
    /// doubles, up to 30 s.
    #[arg(long, value_name = "MS", default_value_t = 500, help_heading = "HTTP")]
    pub retry_delay: u64,

    /// Start no new attempt of a request after SECS seconds in all.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..),
          help_heading = "HTTP")]
    pub max_time: Option<u64>,
}

/// Parse `-H 'Name: value'` into a name and a value. The value is never
/// echoed in an error: it may be a key.
pub fn parse_header(text: &str) -> Result<(String, String)> {
    let bad = |why: &str| Error::usage(format!("-H takes 'NAME: VALUE': {why}"));
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| bad("no ':' after the name"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(bad("no header name"));
    }
    if !name.bytes().all(is_token_byte) {
        return Err(bad(&format!(
            "header name {name:?} has a character not allowed in it"
        )));
    }
    let value = value.trim();
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(bad(&format!("the value of {name} has a line break")));
    }
    Ok((name.to_string(), value.to_string()))
}

/// The characters of an HTTP token (RFC 9110): header names and methods.
pub(crate) fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_parse_and_refuse_without_echoing_values() {
        assert_eq!(
            parse_header("client: simple_report").ok(),
            Some(("client".into(), "simple_report".into()))
        );
        assert_eq!(
            parse_header("X-Api-Version:2021-09-21").ok(),
            Some(("X-Api-Version".into(), "2021-09-21".into()))
        );
        for bad in [
            "no-colon-s3cret",
            ": s3cret",
            "bad name: s3cret",
            "x: a\nb s3cret",
        ] {
            let e = parse_header(bad).err();
            assert!(
                e.as_ref()
                    .is_some_and(|e| e.code() == 64 && !e.message().contains("s3cret")),
                "{bad}: {e:?}"
            );
        }
    }
}
