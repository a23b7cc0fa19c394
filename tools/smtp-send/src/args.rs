//! Flags and environment, validated into [`Options`] before anything is
//! read or sent.

use clap::{ArgMatches, Parser, ValueEnum};
use common::secret::{self, Secret};
use common::{Error, Result};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How the connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TlsMode {
    /// Plain connection, then STARTTLS, which the server must offer (port 587).
    Starttls,
    /// TLS from the first byte (smtps, port 465).
    Implicit,
    /// No encryption: only for a loopback server (127.0.0.1, ::1, localhost).
    None,
}

/// Send a mail with files attached over SMTP, with STARTTLS or implicit TLS,
/// a verified certificate and AUTH.
///
/// The message (From, To, Cc, Subject, a text body and the attachments) is
/// built with lettre and sent to one server. STARTTLS is required when chosen:
/// a server that does not offer it is refused before any credential or data
/// is sent. The password comes from the environment, never from a flag. On
/// success one JSON receipt line goes to stdout.
#[derive(Parser, Debug)]
#[command(name = "smtp-send", version)]
pub struct Args {
    /// The sender, as ADDRESS or "Name <ADDRESS>". Default: SMTP_FROM
    /// (P_MAIL_FROM with --env-prefix P).
    #[arg(long, value_name = "ADDRESS")]
    pub from: Option<String>,

    /// A recipient (repeatable; a comma-separated list is split). Default:
    /// SMTP_TO (P_MAIL_TO with --env-prefix P), a comma-separated list.
    #[arg(long, value_name = "ADDRESS")]
    pub to: Vec<String>,

    /// A copy recipient, shown in the Cc header (repeatable).
    #[arg(long, value_name = "ADDRESS")]
    pub cc: Vec<String>,

    /// A blind copy recipient: in the envelope only, never in a header (repeatable).
    #[arg(long, value_name = "ADDRESS")]
    pub bcc: Vec<String>,

    /// The Subject header.
    #[arg(short, long, value_name = "TEXT", default_value = "")]
    pub subject: String,

    /// The text body (text/plain, UTF-8).
    #[arg(long, value_name = "TEXT", conflicts_with = "body_file")]
    pub body: Option<String>,

    /// Read the text body from FILE (UTF-8; - is stdin).
    #[arg(long, value_name = "FILE")]
    pub body_file: Option<PathBuf>,

    /// Attach FILE (repeatable), as sent, base64-encoded, with a MIME type from
    /// its extension (.csv text/csv, .pdf application/pdf, ...). - reads stdin
    /// and needs --name.
    #[arg(short, long, value_name = "FILE")]
    pub attach: Vec<PathBuf>,

    /// The file name of the attachment read from stdin (--attach -).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// The SMTP server: HOST, HOST:PORT, [IPV6]:PORT, or smtp://HOST[:PORT] or
    /// smtps://HOST[:PORT] (implicit TLS). Default: SMTP_SERVER and SMTP_PORT
    /// (P_SMTP_URL and P_SMTP_PORT with --env-prefix P). The port defaults to
    /// 587, or 465 for implicit TLS.
    #[arg(long, value_name = "HOST[:PORT]")]
    pub server: Option<String>,

    /// starttls (the default), implicit (the default for port 465 and
    /// smtps://), or none (loopback servers only).
    #[arg(long, value_enum, value_name = "MODE")]
    pub tls: Option<TlsMode>,

    /// Also trust the CA certificates in FILE (PEM), on top of the system's.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,

    /// Log in as USER (AUTH PLAIN or LOGIN, only over TLS or to loopback).
    /// Default: SMTP_USERNAME (P_USER_NAME with --env-prefix P). Without a
    /// user, no AUTH is sent.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,

    /// Read the password from environment variable NAME (or from the file
    /// named by NAME_FILE). Default: SMTP_PASSWORD (P_USER_PWD with
    /// --env-prefix P), or their _FILE twins.
    #[arg(long, value_name = "NAME")]
    pub password_env: Option<String>,

    /// Read server, port, user, password, sender and recipients from P_SMTP_URL,
    /// P_SMTP_PORT, P_USER_NAME, P_USER_PWD, P_MAIL_FROM and P_MAIL_TO (the
    /// runbook's names, e.g. HEALTH_NETWORK) instead of the SMTP_* defaults.
    #[arg(long, value_name = "P")]
    pub env_prefix: Option<String>,

    /// Refuse a message larger than SIZE bytes as built, attachments encoded
    /// (exit 65, before connecting). Suffixes K, M and G count 1024s.
    #[arg(long, value_name = "SIZE")]
    pub max_size: Option<String>,

    /// Retry a connection failure, a timeout or an SMTP 4xx reply up to N
    /// times, waiting longer each time (exponential backoff with jitter).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retries: u32,

    /// Give up on a silent server after SECS seconds per step (connect, each reply).
    #[arg(long, value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,

    /// Start no new attempt after SECS seconds in all.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_time: Option<u64>,

    /// Build the message and write it, complete (RFC 5322), to stdout; connect
    /// to nothing and send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// The environment variables the defaults come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvNames {
    pub server: String,
    pub port: String,
    pub user: String,
    pub password: String,
    pub from: String,
    pub to: String,
    /// Set by --env-prefix: a missing value is then configuration (78).
    pub prefixed: bool,
}

impl EnvNames {
    pub fn for_prefix(prefix: Option<&str>) -> Result<EnvNames> {
        let Some(p) = prefix else {
            return Ok(EnvNames {
                server: "SMTP_SERVER".into(),
                port: "SMTP_PORT".into(),
                user: "SMTP_USERNAME".into(),
                password: "SMTP_PASSWORD".into(),
                from: "SMTP_FROM".into(),
                to: "SMTP_TO".into(),
                prefixed: false,
            });
        };
        let p = p.strip_suffix('_').unwrap_or(p);
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(Error::usage(
                "--env-prefix takes a variable name prefix such as HEALTH_NETWORK (letters, digits, _)",
            ));
        }
        Ok(EnvNames {
            server: format!("{p}_SMTP_URL"),
            port: format!("{p}_SMTP_PORT"),
            user: format!("{p}_USER_NAME"),
            password: format!("{p}_USER_PWD"),
            from: format!("{p}_MAIL_FROM"),
            to: format!("{p}_MAIL_TO"),
            prefixed: true,
        })
    }

    /// A missing required value: 78 when it was to come from --env-prefix's
    /// variables, else 64 naming the flag and the variable.
    pub fn missing(&self, flag: &str, var: &str, what: &str) -> Error {
        if self.prefixed {
            Error::config(format!("no {what}: {var} is not set"))
        } else {
            Error::usage(format!("no {what}: give {flag} or set {var}"))
        }
    }
}

/// Where to connect, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Server {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
}

impl Server {
    /// `smtp://host:port` or `smtps://host:port`, for receipts and messages.
    pub fn url(&self) -> String {
        let scheme = if self.tls == TlsMode::Implicit {
            "smtps"
        } else {
            "smtp"
        };
        if self.host.contains(':') {
            format!("{scheme}://[{}]:{}", self.host, self.port)
        } else {
            format!("{scheme}://{}:{}", self.host, self.port)
        }
    }
}

/// Parse a server given as HOST, HOST:PORT, [V6]:PORT, smtp://… or smtps://…,
/// with the port from `port_text` when the server names none, and the TLS
/// mode from `tls`, else the scheme, else the port (465 is implicit).
pub fn parse_server(text: &str, port_text: Option<&str>, tls: Option<TlsMode>) -> Result<Server> {
    if text.contains('@') {
        // Never echo it: the text may hold a password.
        return Err(Error::usage(
            "the server is HOST or HOST:PORT, without a user or password (the password comes from the environment)",
        ));
    }
    let bad = |why: &str| Error::usage(format!("server {text:?}: {why}"));
    let trimmed = text.trim().trim_end_matches('/');
    let (scheme_tls, rest) = if let Some(r) = trimmed.strip_prefix("smtps://") {
        (Some(TlsMode::Implicit), r)
    } else if let Some(r) = trimmed.strip_prefix("smtp://") {
        (None, r)
    } else if trimmed.contains("://") {
        return Err(bad("the only schemes are smtp:// and smtps://"));
    } else {
        (None, trimmed)
    };
    if rest.contains('/') {
        return Err(bad("give HOST or HOST:PORT, without a path"));
    }
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or_else(|| bad("unclosed ["))?;
        match after.strip_prefix(':') {
            Some(p) => (host, Some(p)),
            None if after.is_empty() => (host, None),
            None => return Err(bad("unexpected text after ]")),
        }
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, Some(p)),
            Some(_) => (rest, None), // a bare IPv6 address
            None => (rest, None),
        }
    };
    if host.is_empty() {
        return Err(bad("no host name"));
    }
    let parse_port = |p: &str| {
        p.trim()
            .parse::<u16>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| bad("the port is not a number from 1 to 65535"))
    };
    let port = match (port, port_text) {
        (Some(p), _) => Some(parse_port(p)?),
        (None, Some(p)) if !p.trim().is_empty() => Some(parse_port(p)?),
        _ => None,
    };
    let tls = tls.or(scheme_tls).unwrap_or(match port {
        Some(465) => TlsMode::Implicit,
        _ => TlsMode::Starttls,
    });
    let port = port.unwrap_or(match tls {
        TlsMode::Implicit => 465,
        TlsMode::Starttls => 587,
        TlsMode::None => 25,
    });
    if tls == TlsMode::None && !is_loopback(host) {
        return Err(Error::usage(format!(
            "--tls none sends the password and the mail in clear: it is allowed only for a loopback server (127.0.0.1, ::1, localhost), not {host}"
        )));
    }
    Ok(Server {
        host: host.to_string(),
        port,
        tls,
    })
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Parse a size such as 1048576, 512K, 10M or 1G (1024s).
pub fn parse_size(text: &str) -> Result<u64> {
    let t = text.trim();
    let upper = t.to_ascii_uppercase();
    let upper = upper
        .strip_suffix("IB")
        .or_else(|| upper.strip_suffix('B'))
        .unwrap_or(&upper);
    let (digits, factor) = match upper.chars().last() {
        Some('K') => (&upper[..upper.len() - 1], 1u64 << 10),
        Some('M') => (&upper[..upper.len() - 1], 1 << 20),
        Some('G') => (&upper[..upper.len() - 1], 1 << 30),
        _ => (upper, 1),
    };
    digits
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(factor))
        .filter(|&n| n > 0)
        .ok_or_else(|| {
            Error::usage(format!(
                "--max-size {t:?}: give a positive number of bytes, with an optional K, M or G"
            ))
        })
}

/// Read an environment variable that is not a secret; unset or empty is None.
pub fn env_value(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Validated options. The password is read later, and only for a real send.
#[derive(Debug)]
pub struct Options {
    pub args: Args,
    pub env: EnvNames,
    /// None in a dry run without a server.
    pub server: Option<Server>,
    pub user: Option<String>,
    pub max_size: Option<u64>,
    pub timeout: Duration,
}

impl Options {
    pub fn from_matches(matches: &ArgMatches) -> Result<Options> {
        use clap::FromArgMatches;
        let args = Args::from_arg_matches(matches).map_err(|e| Error::usage(e.to_string()))?;
        let env = EnvNames::for_prefix(args.env_prefix.as_deref())?;
        let server = match args.server.clone().or_else(|| env_value(&env.server)) {
            Some(text) => Some(parse_server(
                &text,
                env_value(&env.port).as_deref(),
                args.tls,
            )?),
            None if args.dry_run => None,
            None => return Err(env.missing("--server", &env.server, "SMTP server")),
        };
        let user = args.user.clone().or_else(|| env_value(&env.user));
        let max_size = args.max_size.as_deref().map(parse_size).transpose()?;
        if args.name.is_some() && !args.attach.iter().any(|p| p.as_os_str() == "-") {
            return Err(Error::usage(
                "--name names the attachment read from stdin: give --attach - too",
            ));
        }
        let timeout = Duration::from_secs(args.timeout);
        Ok(Options {
            args,
            env,
            server,
            user,
            max_size,
            timeout,
        })
    }

    /// The password for `user`: from --password-env, else the default variable.
    pub fn password(&self) -> Result<Secret> {
        match &self.args.password_env {
            Some(name) => secret::from_env(name),
            None => secret::from_env(&self.env.password),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(text: &str, port: Option<&str>, tls: Option<TlsMode>) -> (String, u16, TlsMode) {
        let s = parse_server(text, port, tls).unwrap_or_else(|e| panic!("{text}: {e}"));
        (s.host, s.port, s.tls)
    }

    #[test]
    fn server_forms_ports_and_tls_modes() {
        use TlsMode as T;
        assert_eq!(
            server("mail.example.org", None, None),
            ("mail.example.org".into(), 587, T::Starttls)
        );
        assert_eq!(
            server("mail.example.org:2525", None, None),
            ("mail.example.org".into(), 2525, T::Starttls)
        );
        assert_eq!(
            server("mail.example.org:465", None, None),
            ("mail.example.org".into(), 465, T::Implicit)
        );
        assert_eq!(
            server("mail.example.org", Some("465"), None),
            ("mail.example.org".into(), 465, T::Implicit)
        );
        assert_eq!(
            server("mail.example.org:25", Some("465"), None),
            ("mail.example.org".into(), 25, T::Starttls)
        );
        assert_eq!(
            server("smtps://mail.example.org", None, None),
            ("mail.example.org".into(), 465, T::Implicit)
        );
        assert_eq!(
            server("smtp://mail.example.org:587/", None, None),
            ("mail.example.org".into(), 587, T::Starttls)
        );
        assert_eq!(
            server("mail.example.org:465", None, Some(T::Starttls)),
            ("mail.example.org".into(), 465, T::Starttls)
        );
        assert_eq!(
            server("[::1]:2525", None, Some(T::None)),
            ("::1".into(), 2525, T::None)
        );
        assert_eq!(
            server("localhost", None, Some(T::None)),
            ("localhost".into(), 25, T::None)
        );
        assert_eq!(server("127.0.0.2:25", None, Some(T::None)).1, 25);
        assert_eq!(
            parse_server("::1", None, None)
                .map(|s| s.host)
                .ok()
                .as_deref(),
            Some("::1")
        );
    }

    #[test]
    fn bad_servers_are_usage_errors() {
        for text in [
            "",
            "smtp://",
            "http://mail.example.org",
            "mail.example.org:0",
            "mail.example.org:x",
            "user:pw@mail.example.org",
            "[::1",
        ] {
            assert_eq!(
                parse_server(text, None, None).map_err(|e| e.code()).err(),
                Some(64),
                "{text}"
            );
        }
        let e = parse_server("mail.example.org", None, Some(TlsMode::None)).err();
        assert!(e.is_some_and(|e| e.code() == 64 && e.message().contains("loopback")));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1000").ok(), Some(1000));
        assert_eq!(parse_size("512K").ok(), Some(512 * 1024));
        assert_eq!(parse_size("10M").ok(), Some(10 << 20));
        assert_eq!(parse_size("10MiB").ok(), Some(10 << 20));
        assert_eq!(parse_size("1g").ok(), Some(1 << 30));
        for bad in ["", "0", "-1", "10X", "M"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn env_names_with_and_without_prefix() {
        let d = EnvNames::for_prefix(None).ok();
        assert_eq!(d.map(|n| n.password), Some("SMTP_PASSWORD".into()));
        let p = EnvNames::for_prefix(Some("HEALTH_NETWORK")).ok();
        assert_eq!(
            p.map(|n| [n.server, n.port, n.user, n.password, n.from, n.to]),
            Some([
                "HEALTH_NETWORK_SMTP_URL".into(),
                "HEALTH_NETWORK_SMTP_PORT".into(),
                "HEALTH_NETWORK_USER_NAME".into(),
                "HEALTH_NETWORK_USER_PWD".into(),
                "HEALTH_NETWORK_MAIL_FROM".into(),
                "HEALTH_NETWORK_MAIL_TO".into(),
            ])
        );
        assert!(EnvNames::for_prefix(Some("A-B")).is_err());
        assert!(EnvNames::for_prefix(Some("")).is_err());
    }
}
