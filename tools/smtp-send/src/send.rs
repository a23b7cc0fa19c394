//! The SMTP conversation, one step at a time, so that each failure gets the
//! exit status of the step it happened in: connect and greeting, STARTTLS
//! (required, never skipped), AUTH, then MAIL, RCPT and DATA.
//!
//! lettre's `SmtpTransport` does the same steps with `Tls::Required` or
//! `Tls::Wrapper`, but its one error for all of them cannot tell a refused
//! login from a refused recipient; `SmtpConnection` is the same code, step
//! by step.

use crate::args::{Server, TlsMode};
use common::retry::{Attempt, RetryPolicy};
use common::secret::Secret;
use common::{Error, Exit, Result};
use lettre::address::Envelope;
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, SmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::{ClientId, Extension};
use lettre::transport::smtp::response::Response;
use std::error::Error as _;
use std::path::Path;
use std::time::Duration;

/// What the server said when it took the message.
#[derive(Debug)]
pub struct Accepted {
    pub code: i64,
    /// The queue id, when the reply names one ("queued as ID").
    pub queue_id: Option<String>,
}

/// The step a failure happened in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Connect,
    StartTls,
    Auth,
    Send,
}

impl Step {
    fn describe(self) -> &'static str {
        match self {
            Step::Connect => "connecting",
            Step::StartTls => "STARTTLS",
            Step::Auth => "AUTH",
            Step::Send => "sending the message",
        }
    }
}

/// Everything one attempt needs.
pub struct Delivery<'a> {
    pub server: &'a Server,
    pub tls: Option<TlsParameters>,
    pub login: Option<(String, Secret)>,
    pub timeout: Duration,
}

impl std::fmt::Debug for Delivery<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("server", &self.server)
            .field("tls", &self.tls.is_some())
            .field("login", &self.login)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// TLS parameters for the server's name: the system's roots, plus the CAs of
/// `ca_file`. Certificates and host names are always verified.
pub fn tls_parameters(server: &Server, ca_file: Option<&Path>) -> Result<Option<TlsParameters>> {
    if server.tls == TlsMode::None {
        return Ok(None);
    }
    let mut builder = TlsParameters::builder(server.host.clone());
    if let Some(path) = ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| Error::io(format!("cannot read --ca-file {}", path.display()), e))?;
        let not_pem = || {
            Error::config(format!(
                "--ca-file {}: no PEM certificate in it",
                path.display()
            ))
        };
        if !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
            return Err(not_pem());
        }
        let certificate = Certificate::from_pem(&pem).map_err(|_| not_pem())?;
        builder = builder.add_root_certificate(certificate);
    }
    builder
        .build_rustls()
        .map(Some)
        .map_err(|e| Error::config(format!("TLS setup: {e}")))
}

/// Send `bytes` with retries; the server's acceptance or the final error.
pub fn deliver(
    delivery: &Delivery,
    envelope: &Envelope,
    bytes: &[u8],
    policy: &RetryPolicy,
    tool: &str,
) -> Result<Accepted> {
    let result = policy.run(
        |_| attempt(delivery, envelope, bytes),
        |n, error: &Error, wait| {
            common::cli::warn(
                tool,
                format!(
                    "attempt {n} failed: {}; retrying in {:.1}s",
                    error.message(),
                    wait.as_secs_f64()
                ),
            )
        },
    );
    result.map_err(|(error, attempts)| {
        if error.exit() == Exit::TempFail && attempts > 1 {
            error.context(format!("gave up after {attempts} attempts"))
        } else {
            error
        }
    })
}

fn attempt(d: &Delivery, envelope: &Envelope, bytes: &[u8]) -> Attempt<Accepted, Error> {
    match converse(d, envelope, bytes) {
        Ok(accepted) => Attempt::Done(accepted),
        Err(error) if error.exit() == Exit::TempFail => Attempt::Retry {
            error,
            retry_after: None,
        },
        Err(error) => Attempt::Fail(error),
    }
}

fn converse(d: &Delivery, envelope: &Envelope, bytes: &[u8]) -> Result<Accepted> {
    let server = d.server;
    let hello = ClientId::default();
    let fail = |step: Step| move |e: SmtpError| classify(server, step, &e);
    let wrapper = match server.tls {
        TlsMode::Implicit => d.tls.as_ref(),
        _ => None,
    };
    let mut conn = SmtpConnection::connect(
        (server.host.as_str(), server.port),
        Some(d.timeout),
        &hello,
        wrapper,
        None,
    )
    .map_err(fail(Step::Connect))?;
    if server.tls == TlsMode::Starttls {
        let Some(tls) = d.tls.as_ref() else {
            return Err(Error::software("STARTTLS without TLS parameters"));
        };
        if !conn.server_info().supports_feature(Extension::StartTls) {
            conn.abort();
            return Err(Error::new(
                Exit::NoPerm,
                format!(
                    "{} does not offer STARTTLS: nothing was sent, no password and no mail (a server that hides STARTTLS may be an attacker in the middle; use --tls implicit if it speaks TLS on another port)",
                    server.url()
                ),
            ));
        }
        conn.starttls(tls, &hello).map_err(fail(Step::StartTls))?;
    }
    if let Some((user, password)) = &d.login {
        let credentials = Credentials::new(user.clone(), password.expose().to_string());
        conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials)
            .map_err(fail(Step::Auth))?;
    }
    // lettre ends DATA with CRLF.CRLF, whose first CRLF ends the last line:
    // without this, the server would store one empty line more than was built.
    let payload = bytes.strip_suffix(b"\r\n").unwrap_or(bytes);
    let response = conn.send(envelope, payload).map_err(fail(Step::Send))?;
    let _ = conn.quit();
    Ok(accepted(&response))
}

fn accepted(response: &Response) -> Accepted {
    let code = response.code().to_string().parse().unwrap_or(250);
    let queue_id = response
        .message()
        .find_map(|line| line.split_once("queued as ").map(|(_, id)| id))
        .and_then(|id| id.split_whitespace().next())
        .map(|id| clean(id, 64));
    Accepted { code, queue_id }
}

/// Turn lettre's error into ours, by step and by kind: TLS and login
/// failures are 77, 4xx and network trouble 75 (retried), 5xx 69.
fn classify(server: &Server, step: Step, e: &SmtpError) -> Error {
    let at = server.url();
    if let Some(tls) = rustls_error(e) {
        let hint = match tls {
            rustls::Error::InvalidCertificate(_) => {
                "; the certificate is not trusted (--ca-file adds a CA)"
            }
            _ => "",
        };
        return Error::new(
            Exit::NoPerm,
            format!("TLS with {at} failed: {tls}{hint}; nothing was sent"),
        );
    }
    if let Some(code) = e.status() {
        let code_text = code.to_string();
        let auth_code = matches!(code_text.as_str(), "530" | "534" | "535" | "538");
        // A reply to AUTH may quote what was sent: show only its code.
        let said = if step == Step::Auth {
            String::new()
        } else {
            server_text(e)
        };
        let message = format!("{}: {at} answered {code_text}{said}", step.describe());
        return if e.is_transient() {
            Error::temp_fail(message)
        } else if step == Step::Auth || auth_code {
            Error::new(
                Exit::NoPerm,
                format!("{message}: the login was refused (user name or password)"),
            )
        } else if step == Step::StartTls {
            Error::new(
                Exit::NoPerm,
                format!("{message}: TLS could not be started; nothing was sent"),
            )
        } else {
            Error::unavailable(message)
        };
    }
    if step == Step::Auth && e.is_client() {
        return Error::new(
            Exit::NoPerm,
            format!("AUTH: {at} offers neither AUTH PLAIN nor AUTH LOGIN here; nothing was sent"),
        );
    }
    if e.is_client() {
        return Error::unavailable(format!(
            "{}: {at}: {}",
            step.describe(),
            clean(&e.to_string(), 200)
        ));
    }
    // Network, connection, timeout, a cut or garbled reply: try again later.
    Error::temp_fail(format!("{}: {at}: {}", step.describe(), network_text(e)))
}

/// A rustls error anywhere in the chain (the handshake runs on the first
/// read, so it comes wrapped in an I/O error).
fn rustls_error(e: &SmtpError) -> Option<&rustls::Error> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = e.source();
    while let Some(err) = next {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(tls) = inner.downcast_ref::<rustls::Error>()
        {
            return Some(tls);
        }
        next = err.source();
    }
    None
}

/// ": the server's text", cleaned and cut, or nothing.
fn server_text(e: &SmtpError) -> String {
    match e.source() {
        Some(text) => {
            let text = clean(&text.to_string(), 200);
            if text.is_empty() {
                String::new()
            } else {
                format!(" {text}")
            }
        }
        None => String::new(),
    }
}

fn network_text(e: &SmtpError) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    let text = e
        .source()
        .map(ToString::to_string)
        .unwrap_or_else(|| e.to_string());
    let text = match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    clean(&text, 200)
}

/// One line of at most `max` characters, without control characters.
fn clean(text: &str, max: usize) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let trimmed = one_line.split_whitespace().collect::<Vec<_>>().join(" ");
    match trimmed.char_indices().nth(max) {
        Some((i, _)) => format!("{}...", &trimmed[..i]),
        None => trimmed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_makes_one_short_line() {
        assert_eq!(clean("a\r\nb\tc  ", 100), "a b c");
        assert_eq!(clean("abcdef", 3), "abc...");
    }
}
