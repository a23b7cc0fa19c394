//! Flags and environment, validated into [`Options`] before anything connects.

use crate::known_hosts::parse_fingerprint;
use clap::{ArgMatches, FromArgMatches, Parser};
use common::retry::RetryPolicy;
use common::secret::{Secret, optional_from_env};
use common::{Error, Result};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Upload files over SFTP: strict host keys, a temporary name then a rename,
/// and the remote size checked.
///
/// Each FILE is uploaded under a temporary name in the remote folder, its
/// size checked on the server, and then renamed over its final name, so
/// that nobody ever sees a half-written file there. The server's host key
/// must match known_hosts or --host-key-sha256 before anything else is sent.
/// One JSON receipt per file goes to stdout.
#[derive(Parser, Debug)]
#[command(name = "sftp-put", version)]
pub struct Args {
    /// Files to upload; `-` reads stdin and needs --name.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,

    /// The remote name of the one FILE (required for `-`; default: the file's own name).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// The server [env: P_HOST].
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,

    /// The server's port [env: P_PORT] [default: 22].
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,

    /// The user to log in as [env: P_USERNAME].
    #[arg(long, short = 'u', value_name = "USER")]
    pub user: Option<String>,

    /// The prefix P of the environment variables read: P_HOST, P_PORT,
    /// P_USERNAME, P_PASSWORD, P_IDENTITY, P_KNOWN_HOSTS. The end-of-day flow
    /// uses PRINT_SFTP.
    #[arg(long, value_name = "P", default_value = "SFTP")]
    pub env_prefix: String,

    /// Log in with this private key file [env: P_IDENTITY].
    #[arg(long, short = 'i', value_name = "FILE")]
    pub identity: Option<PathBuf>,

    /// Read the passphrase of the --identity key from environment variable
    /// NAME (or from the file named by NAME_FILE).
    #[arg(long, value_name = "NAME")]
    pub passphrase_env: Option<String>,

    /// Trust the host keys listed in FILE, in OpenSSH's known_hosts format,
    /// hashed names included [env: P_KNOWN_HOSTS] [default: ~/.ssh/known_hosts].
    #[arg(long, value_name = "FILE")]
    pub known_hosts: Option<PathBuf>,

    /// Trust only the host key with this fingerprint, as `ssh-keygen -lf`
    /// prints it (SHA256:...); repeatable, for a key rotation. Replaces known_hosts.
    #[arg(long, value_name = "SHA256:FP", conflicts_with = "known_hosts")]
    pub host_key_sha256: Vec<String>,

    /// The remote folder to upload into, relative to the login folder unless
    /// it starts with / [default: the login folder].
    #[arg(long, value_name = "DIR")]
    pub remote_dir: Option<String>,

    /// Create the remote folder and its missing parents (like mkdir -p).
    #[arg(long)]
    pub mkdir: bool,

    /// Retry a failed connection or transfer this many times, with backoff.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retries: u32,

    /// Give up on connecting, or on a server that stops answering, after SECS seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,

    /// Connect, check the host key and log in, check the remote folder, and
    /// print the receipts marked dry, but write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Replace files with SFTP's plain RENAME even when the server offers
    /// posix-rename: the fallback for other servers, kept testable.
    #[arg(long, hide = true)]
    pub plain_rename: bool,
}

/// A file to upload.
#[derive(Debug)]
pub struct Source {
    /// The local path; None for stdin.
    pub path: Option<PathBuf>,
    /// The name in messages: the path, or <stdin>.
    pub label: String,
    /// The name on the server.
    pub remote_name: String,
}

/// How the server's key is trusted.
#[derive(Debug)]
pub enum Trust {
    KnownHosts(PathBuf),
    Fingerprints(Vec<String>),
}

/// How to log in; tried in this order: key file, agent, password.
#[derive(Debug)]
pub struct Credentials {
    pub identity: Option<PathBuf>,
    pub passphrase: Option<Secret>,
    pub agent: bool,
    pub password: Option<Secret>,
}

/// Validated options.
#[derive(Debug)]
pub struct Options {
    pub sources: Vec<Source>,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub credentials: Credentials,
    pub trust: Trust,
    /// The remote folder without a trailing slash; empty for the login folder.
    pub remote_dir: String,
    pub mkdir: bool,
    pub retry: RetryPolicy,
    pub timeout: Duration,
    pub dry_run: bool,
    pub plain_rename: bool,
}

impl Options {
    pub fn from_matches(matches: &ArgMatches) -> Result<Options> {
        let args = Args::from_arg_matches(matches).map_err(|e| Error::usage(e.to_string()))?;
        let sources = sources(&args)?;
        // Flags alone first, so that their mistakes show whatever the environment holds.
        let fingerprints = args
            .host_key_sha256
            .iter()
            .map(|fp| parse_fingerprint(fp))
            .collect::<Result<Vec<_>>>()?;
        let prefix = args.env_prefix.trim_end_matches('_');
        if prefix.is_empty()
            || !prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(Error::usage(
                "--env-prefix takes a variable name prefix such as PRINT_SFTP",
            ));
        }
        let var = |suffix: &str| format!("{prefix}_{suffix}");
        let env = |suffix: &str| std::env::var(var(suffix)).ok().filter(|v| !v.is_empty());

        let host = args.host.clone().or_else(|| env("HOST")).ok_or_else(|| {
            Error::config(format!("no server: give --host or set {}", var("HOST")))
        })?;
        let port = match (args.port, env("PORT")) {
            (Some(port), _) => port,
            (None, Some(text)) => text
                .trim()
                .parse()
                .ok()
                .filter(|&port: &u16| port > 0)
                .ok_or_else(|| Error::config(format!("{} is not a port number", var("PORT"))))?,
            (None, None) => 22,
        };
        let user = args
            .user
            .clone()
            .or_else(|| env("USERNAME"))
            .ok_or_else(|| {
                Error::config(format!("no user: give --user or set {}", var("USERNAME")))
            })?;

        let identity = args
            .identity
            .clone()
            .or_else(|| env("IDENTITY").map(PathBuf::from));
        if let Some(path) = &identity {
            std::fs::File::open(path)
                .map_err(|e| Error::io(format!("cannot read the key {}", path.display()), e))?;
        }
        let passphrase = match &args.passphrase_env {
            Some(name) => Some(common::secret::from_env(name)?),
            None => None,
        };
        let agent = std::env::var_os("SSH_AUTH_SOCK").is_some_and(|s| !s.is_empty());
        let password = optional_from_env(&var("PASSWORD"))?;
        if identity.is_none() && !agent && password.is_none() {
            return Err(Error::config(format!(
                "no credentials: set {} (or {}_FILE), give --identity or set {}, or run an ssh-agent",
                var("PASSWORD"),
                var("PASSWORD"),
                var("IDENTITY")
            )));
        }

        let trust = if fingerprints.is_empty() {
            let path = match args
                .known_hosts
                .clone()
                .or_else(|| env("KNOWN_HOSTS").map(PathBuf::from))
            {
                Some(path) => path,
                None => default_known_hosts()?,
            };
            Trust::KnownHosts(path)
        } else {
            Trust::Fingerprints(fingerprints)
        };

        Ok(Options {
            sources,
            host,
            port,
            user,
            credentials: Credentials {
                identity,
                passphrase,
                agent,
                password,
            },
            trust,
            remote_dir: remote_dir(args.remote_dir.as_deref())?,
            mkdir: args.mkdir,
            retry: RetryPolicy {
                retries: args.retries,
                ..RetryPolicy::default()
            },
            timeout: Duration::from_secs(args.timeout),
            dry_run: args.dry_run,
            plain_rename: args.plain_rename,
        })
    }

    /// Where the receipts say the files went, as an SFTP URI: the path is
    /// absolute, and `/~/` starts one relative to the login folder.
    pub fn target(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let path = if self.remote_dir.starts_with('/') {
            self.remote_dir.clone()
        } else if self.remote_dir.is_empty() {
            "/~".to_string()
        } else {
            format!("/~/{}", self.remote_dir)
        };
        format!("sftp://{}@{host}:{}{path}", self.user, self.port)
    }

    /// The remote path of a file named `name` in the remote folder.
    pub fn remote_path(&self, name: &str) -> String {
        if self.remote_dir.is_empty() {
            name.to_string()
        } else if self.remote_dir == "/" {
            format!("/{name}")
        } else {
            format!("{}/{name}", self.remote_dir)
        }
    }
}

fn sources(args: &Args) -> Result<Vec<Source>> {
    if args.name.is_some() && args.files.len() > 1 {
        return Err(Error::usage("--name names one file: give one FILE with it"));
    }
    let mut sources: Vec<Source> = Vec::new();
    for path in &args.files {
        let stdin = path.as_os_str() == "-";
        let remote_name = match (&args.name, stdin) {
            (Some(name), _) => name.clone(),
            (None, true) => return Err(Error::usage("- reads stdin and needs --name")),
            (None, false) => path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        check_remote_name(&remote_name)?;
        if sources.iter().any(|s| s.remote_name == remote_name) {
            return Err(Error::usage(format!(
                "two files would be uploaded as {remote_name:?}"
            )));
        }
        sources.push(Source {
            path: (!stdin).then(|| path.clone()),
            label: if stdin {
                common::io::STDIN_NAME.to_string()
            } else {
                path.display().to_string()
            },
            remote_name,
        });
    }
    Ok(sources)
}

fn check_remote_name(name: &str) -> Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0') {
        return Err(Error::usage(format!(
            "{name:?} is not a file name: a remote name has no / (use --remote-dir for the folder)"
        )));
    }
    Ok(())
}

fn remote_dir(dir: Option<&str>) -> Result<String> {
    let Some(dir) = dir else {
        return Ok(String::new());
    };
    if dir.contains('\0') {
        return Err(Error::usage("--remote-dir has a NUL character"));
    }
    let trimmed = dir.trim_end_matches('/');
    Ok(match trimmed {
        "" if dir.starts_with('/') => "/".to_string(),
        "" | "." => String::new(),
        t => t.to_string(),
    })
}

fn default_known_hosts() -> Result<PathBuf> {
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(home) => Ok(Path::new(&home).join(".ssh/known_hosts")),
        None => Err(Error::config(
            "HOME is not set, so there is no ~/.ssh/known_hosts: give --known-hosts or --host-key-sha256",
        )),
    }
}
