//! Failures without an answer (TLS, the network), in a few words.

use super::Method;
use crate::error::{Error, Exit};
use std::time::Duration;

/// A failure without an answer: TLS is 77, the network 75 (retried).
/// `shown` is the URL as messages show it ([`super::Request::shown`]).
pub(super) fn transport_error(method: Method, shown: &str, e: ureq::Error) -> Error {
    let at = format!("{method} {shown}");
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
        ureq::Error::ConnectProxyFailed(reason) => proxy_refused(&at, &reason),
        other => Error::unavailable(format!("{at}: {other}")),
    }
}

/// The proxy did not open the tunnel: its status read as a server's
/// (407 is its login refused, 77; a 502 or 503 is temporary, 75), and no
/// answer at all is temporary.
fn proxy_refused(at: &str, reason: &str) -> Error {
    let status = reason
        .strip_prefix("proxy server responded ")
        .and_then(|rest| rest.split('/').next())
        .and_then(|code| code.parse::<u16>().ok());
    match status {
        Some(status) => {
            let exit = super::response::status_exit(status).unwrap_or(Exit::Unavailable);
            let why = if status == 407 {
                ": check the user and password of the proxy variable"
            } else {
                ""
            };
            Error::new(
                exit,
                format!("{at}: the proxy refused the tunnel with HTTP {status}{why}"),
            )
        }
        None => Error::temp_fail(format!("{at}: the proxy did not answer the tunnel request")),
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
pub(super) fn describe_wait(wait: Duration) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxy_refusing_the_tunnel_gives_the_exit_of_its_status() {
        for (reason, code) in [
            (
                "proxy server responded 407/Proxy Authentication Required",
                77,
            ),
            ("proxy server responded 403/Forbidden", 77),
            ("proxy server responded 502/Bad Gateway", 75),
            ("proxy server responded 503/Service Unavailable", 75),
            ("proxy server responded 400/Bad Request", 69),
            ("proxy server did not respond", 75),
        ] {
            assert_eq!(
                proxy_refused("GET https://h/x", reason).code(),
                code,
                "{reason}"
            );
        }
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
}
