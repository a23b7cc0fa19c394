//! Connecting: TCP, the SSH handshake, the host key check (before anything
//! of ours is sent), the login, and the SFTP channel.

use crate::args::{Credentials, Options, Trust};
use crate::known_hosts::{self, Verdict};
use crate::sftp::{Sftp, SftpError};
use common::retry::Attempt;
use common::{Error, Exit};
use ssh2::{ErrorCode, MethodType, Session};
use std::net::{TcpStream, ToSocketAddrs};

/// Ciphers, best first: authenticated or counter modes only, never CBC,
/// arcfour or none, whatever the server would accept. chacha20-poly1305
/// first, as OpenSSH orders them: it costs libssh2 about half the CPU of
/// its AES-GCM, which runs through OpenSSL one block at a time.
const CIPHERS: &str = "chacha20-poly1305@openssh.com,aes128-gcm@openssh.com,aes256-gcm@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr";
/// Host key algorithms when the trusted key's type is not known
/// (--host-key-sha256): the modern ones first.
const HOST_KEY_ORDER: &[&str] = &[
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "rsa-sha2-512",
    "rsa-sha2-256",
];

// libssh2 error codes that mean the connection failed or stalled, which
// another attempt may not meet.
const TRANSPORT_ERRORS: &[i32] = &[
    -1,  // SOCKET_NONE
    -2,  // BANNER_RECV
    -3,  // BANNER_SEND
    -4,  // INVALID_MAC
    -7,  // SOCKET_SEND
    -8,  // KEY_EXCHANGE_FAILURE
    -9,  // TIMEOUT
    -12, // DECRYPT
    -13, // SOCKET_DISCONNECT
    -26, // CHANNEL_CLOSED
    -27, // CHANNEL_EOF_SENT
    -30, // SOCKET_TIMEOUT
    -43, // SOCKET_RECV
    -45, // BAD_SOCKET
];
const KEX_FAILURE: i32 = -5;

/// A logged-in session with its SFTP channel.
pub struct Connection {
    pub sftp: Sftp<ssh2::Channel>,
    // Kept alive for the channel's sake.
    _session: Session,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("sftp", &self.sftp)
            .finish()
    }
}

/// One attempt at a connection: temporary failures can be retried, an
/// untrusted host key or a refused login cannot.
pub fn connect(options: &Options) -> Attempt<Connection, Error> {
    match try_connect(options) {
        Ok(connection) => Attempt::Done(connection),
        Err(error) if error.exit() == Exit::TempFail => Attempt::Retry {
            error,
            retry_after: None,
        },
        Err(error) => Attempt::Fail(error),
    }
}

fn try_connect(options: &Options) -> Result<Connection, Error> {
    let server = format!("{}:{}", options.host, options.port);
    let stream = open_tcp(&options.host, options.port, options.timeout)
        .map_err(|e| Error::temp_fail(format!("cannot connect to {server}: {e}")))?;
    let _ = stream.set_nodelay(true);
    let mut session =
        Session::new().map_err(|e| Error::software(format!("libssh2: {}", e.message())))?;
    session.set_tcp_stream(stream);
    session.set_timeout(u32::try_from(options.timeout.as_millis()).unwrap_or(u32::MAX));

    let known = match &options.trust {
        Trust::KnownHosts(path) => Some(read_known_hosts(path, options)?),
        Trust::Fingerprints(_) => None,
    };
    let host_keys = host_key_preference(&session, known.as_deref());
    let prefs = [
        (MethodType::HostKey, host_keys.as_str()),
        (MethodType::CryptCs, CIPHERS),
        (MethodType::CryptSc, CIPHERS),
    ];
    for (method, pref) in prefs {
        session
            .method_pref(method, pref)
            .map_err(|e| Error::software(format!("libssh2 preferences: {}", e.message())))?;
    }
    session.handshake().map_err(|e| {
        let restricted = known.as_ref().is_some_and(|k| !k.is_empty());
        match e.code() {
            ErrorCode::Session(KEX_FAILURE) if restricted => Error::new(
                Exit::NoPerm,
                format!(
                    "host key of {server} not trusted: the server offers no key of the types {} lists for it ({host_keys})",
                    trust_source(options)
                ),
            ),
            _ => classify(&format!("SSH handshake with {server}"), &e),
        }
    })?;

    check_host_key(&session, known.as_deref(), options, &server)?;
    log_in(&session, &options.user, &options.credentials, &server)?;

    let mut channel = session
        .channel_session()
        .map_err(|e| classify(&format!("opening a channel on {server}"), &e))?;
    channel
        .subsystem("sftp")
        .map_err(|e| classify(&format!("starting SFTP on {server}"), &e))?;
    let sftp = Sftp::start(channel).map_err(|e| match e {
        SftpError::Transport(_) => Error::temp_fail(format!("starting SFTP on {server}: {e}")),
        e => Error::unavailable(format!("starting SFTP on {server}: {e}")),
    })?;
    Ok(Connection {
        sftp,
        _session: session,
    })
}

fn open_tcp(host: &str, port: u16, timeout: std::time::Duration) -> std::io::Result<TcpStream> {
    let mut last = None;
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("the name has no address")))
}

/// A libssh2 failure: connection trouble is temporary, the rest refused.
fn classify(doing: &str, e: &ssh2::Error) -> Error {
    match e.code() {
        ErrorCode::Session(code) if TRANSPORT_ERRORS.contains(&code) => {
            Error::temp_fail(format!("{doing}: {}", e.message()))
        }
        _ => Error::unavailable(format!("{doing}: {}", e.message())),
    }
}

fn trust_source(options: &Options) -> String {
    match &options.trust {
        Trust::KnownHosts(path) => path.display().to_string(),
        Trust::Fingerprints(_) => "--host-key-sha256".into(),
    }
}

fn read_known_hosts(
    path: &std::path::Path,
    options: &Options,
) -> Result<Vec<known_hosts::KnownKey>, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::new(
            Exit::NoPerm,
            format!(
                "host key of {} unknown: cannot read {}: {} (there is no trust on first use: add the server's key after checking its fingerprint, or give --host-key-sha256)",
                known_hosts::host_entry_name(&options.host, options.port),
                path.display(),
                describe_io(&e)
            ),
        )
    })?;
    Ok(known_hosts::keys_for(&text, &options.host, options.port))
}

/// An I/O error without Rust's " (os error N)".
fn describe_io(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// The host key algorithms to offer: those of the keys trusted for this
/// host when known_hosts lists any (so that the server proves the key we
/// know), else the modern ones.
fn host_key_preference(session: &Session, known: Option<&[known_hosts::KnownKey]>) -> String {
    let supported = session
        .supported_algs(MethodType::HostKey)
        .unwrap_or_default();
    let mut wanted: Vec<&str> = Vec::new();
    for key in known.unwrap_or_default().iter().filter(|k| !k.revoked) {
        for alg in known_hosts::algorithms_for(&key.key_type) {
            if !wanted.contains(alg) {
                wanted.push(alg);
            }
        }
    }
    if wanted.is_empty() {
        wanted = HOST_KEY_ORDER.to_vec();
    }
    wanted
        .into_iter()
        .filter(|alg| supported.is_empty() || supported.contains(alg))
        .collect::<Vec<_>>()
        .join(",")
}

fn check_host_key(
    session: &Session,
    known: Option<&[known_hosts::KnownKey]>,
    options: &Options,
    server: &str,
) -> Result<(), Error> {
    let Some((blob, _)) = session.host_key() else {
        return Err(Error::unavailable(format!("{server} sent no host key")));
    };
    let fingerprint = known_hosts::fingerprint(blob);
    let key_type = known_hosts::blob_key_type(blob)
        .unwrap_or("unknown")
        .to_string();
    let verdict = match (&options.trust, known) {
        (Trust::Fingerprints(fps), _) => {
            if fps.contains(&fingerprint) {
                Verdict::Match
            } else {
                Verdict::Mismatch
            }
        }
        (Trust::KnownHosts(_), Some(known)) => known_hosts::verdict(known, blob),
        (Trust::KnownHosts(_), None) => Verdict::Unknown,
    };
    let source = trust_source(options);
    let name = known_hosts::host_entry_name(&options.host, options.port);
    let why = match verdict {
        Verdict::Match => return Ok(()),
        Verdict::Mismatch => format!(
            "HOST KEY MISMATCH for {name}: the server's {key_type} key {fingerprint} is not the one {source} trusts; it may have been replaced, or someone may be intercepting the connection"
        ),
        Verdict::Unknown => format!(
            "host key of {name} unknown: {source} has no entry for it (the server's {key_type} key is {fingerprint}; there is no trust on first use: check that fingerprint with the server's owner, then add the key or give --host-key-sha256)"
        ),
        Verdict::Revoked => format!(
            "host key of {name} is revoked in {source}: the server's {key_type} key {fingerprint}"
        ),
    };
    Err(Error::new(Exit::NoPerm, why))
}

/// Log in with the key file, then the agent, then the password.
fn log_in(
    session: &Session,
    user: &str,
    credentials: &Credentials,
    server: &str,
) -> Result<(), Error> {
    let mut tried: Vec<String> = Vec::new();
    let mut key_problem = None;
    let transport = |e: &ssh2::Error| match e.code() {
        ErrorCode::Session(code) if TRANSPORT_ERRORS.contains(&code) => Some(Error::temp_fail(
            format!("logging in to {server}: {}", e.message()),
        )),
        _ => None,
    };
    if let Some(path) = &credentials.identity {
        tried.push(format!("the key {}", path.display()));
        let passphrase = credentials.passphrase.as_ref().map(|p| p.expose());
        match session.userauth_pubkey_file(user, None, path, passphrase) {
            Ok(()) => return Ok(()),
            Err(e) => {
                if let Some(err) = transport(&e) {
                    return Err(err);
                }
                // -16 FILE, -48 KEYFILE_AUTH_FAILED: the key could not be used at all.
                if matches!(e.code(), ErrorCode::Session(-16 | -48)) {
                    key_problem = Some(format!(
                        "; the key {} could not be read (a wrong passphrase, or a format libssh2 does not read)",
                        path.display()
                    ));
                }
            }
        }
    }
    if credentials.agent && !session.authenticated() {
        tried.push("the ssh-agent's keys".into());
        if let Ok(mut agent) = session.agent()
            && agent.connect().is_ok()
            && agent.list_identities().is_ok()
        {
            for identity in agent.identities().unwrap_or_default() {
                if agent.userauth(user, &identity).is_ok() {
                    return Ok(());
                }
            }
        }
    }
    if let Some(password) = &credentials.password {
        tried.push("the password".into());
        match session.userauth_password(user, password.expose()) {
            Ok(()) => return Ok(()),
            Err(e) => {
                if let Some(err) = transport(&e) {
                    return Err(err);
                }
            }
        }
    }
    if session.authenticated() {
        return Ok(());
    }
    Err(Error::new(
        Exit::NoPerm,
        format!(
            "login as {user} refused by {server}: tried {}{}",
            tried.join(", "),
            key_problem.unwrap_or_default()
        ),
    ))
}
