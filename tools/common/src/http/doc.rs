//! Man-page text every HTTP tool shares: the AUTH section (one entry per
//! `--auth` scheme), the ENVIRONMENT entries of the shared flags and the
//! exit codes of the shared client, so that http-post and http-get say the
//! same thing in the same words.

use crate::Exit;

/// The entries of the AUTH section, for `ToolDoc::auth`.
pub const AUTH: &[(&str, &str)] = &[
    (
        "none",
        "The default: no authentication header is sent (only the -H headers).",
    ),
    (
        "basic",
        "HTTP Basic (ReqCheck, dhis2): Authorization: Basic with the user from HTTP_USER and the password from HTTP_PASSWORD (or the variables named by --user-env and --password-env).",
    ),
    (
        "bearer",
        "Authorization: Bearer with the token from HTTP_TOKEN (or --token-env).",
    ),
    (
        "dhis2-token",
        "A dhis2 personal access token: Authorization: ApiToken with the token from HTTP_TOKEN (or --token-env).",
    ),
    (
        "function-key",
        "ReportStream's older scheme: x-functions-key with the key from HTTP_TOKEN (or --token-env).",
    ),
    (
        "reportstream-jwt",
        "ReportStream's token: a client assertion (a JWT signed RS256 with --private-key-file, with kid, iss and sub set to --client-id, aud the token host, exp five minutes ahead and a random jti) is posted to the token URL (--login-url, default: the request URL up to /api/, then /api/token) with scope (--scope, default ORG.*.report) and grant_type in the query string. The access token is sent as Authorization: Bearer, kept for the run, and fetched again 30 seconds before it runs out.",
    ),
    (
        "primero",
        "Primero v2: the user and password are posted to /api/v2/tokens (--login-url, default: the request URL up to /api/, then /api/v2/tokens); the token is read from the answer's Authorization header, or from the token field of its body, and sent as Authorization: Bearer.",
    ),
    (
        "oscar",
        "OSCaR v1: the user (an e-mail address) and password are posted to /api/v1/admin_auth/sign_in (--login-url, default: the request URL up to /api/, then that path); the access-token, client and uid headers of the answer are sent back on every later request, and replaced when an answer carries new ones.",
    ),
    (
        "Sessions and refusals",
        "The session schemes (reportstream-jwt, primero, oscar) log in once, at the first request. When a request is then answered 401, they log in again once and send it again. A refused login (400, 401 or 403) or a request answered 401 or 403 is exit 77, and the message names the URL, never the user, password or token. Secrets are read from the environment or from files only, never from flags.",
    ),
];

/// The ENVIRONMENT entries of the shared flags, for `ToolDoc::environment`.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "HTTP_USER, HTTP_PASSWORD",
        "The user and password of --auth basic, primero and oscar (other names with --user-env and --password-env).",
    ),
    (
        "HTTP_TOKEN",
        "The token of --auth bearer, dhis2-token and function-key (another name with --token-env).",
    ),
    (
        "NAME_FILE",
        "For each of the variables above: the path of a file holding the value (one trailing newline removed), read when the variable itself is not set.",
    ),
    TRUST,
    PROXY,
];

/// ENVIRONMENT entry of every tool on the shared client: the system's CAs.
pub const TRUST: (&str, &str) = (
    "SSL_CERT_FILE, SSL_CERT_DIR",
    "Where the system's trusted CA certificates are read from, when not in the usual places (/etc/ssl/certs). --ca-file adds to them.",
);

/// ENVIRONMENT entry of every tool on the shared client: an HTTP proxy.
pub const PROXY: (&str, &str) = (
    "ALL_PROXY, HTTPS_PROXY, HTTP_PROXY, NO_PROXY",
    include_str!("../../doc/http/proxy.txt"),
);

/// A DESCRIPTION paragraph of every tool on the shared client: what an
/// answer's status comes to, by RFC 9110 and the RFCs that added statuses.
pub const STATUSES: &str = include_str!("../../doc/http/statuses.txt");

/// The exit codes of a tool built on the shared client, for
/// `ToolDoc::exit_codes`: bad flags, bad input, an unreadable file, a
/// refusal by the server, a local read or write failure, a temporary failure
/// after retries, TLS or a login refused, and a missing secret.
pub const EXIT_CODES: &[Exit] = &[
    Exit::Usage,
    Exit::Data,
    Exit::NoInput,
    Exit::Unavailable,
    Exit::Io,
    Exit::TempFail,
    Exit::NoPerm,
    Exit::Config,
];
