//! sftp-put: upload files over SFTP with strict host keys, a temporary name
//! then a rename, and the remote size checked.
#![forbid(unsafe_code)]

mod args;
mod known_hosts;
mod session;
mod sftp;
mod upload;

use args::{Args, Options};
use clap::{ArgMatches, Command, CommandFactory};
use common::doc::{Example, ToolDoc};
use common::receipt::Receipt;
use common::retry::Attempt;
use common::{Error, Exit, Result};
use std::collections::VecDeque;
use std::io::Write;
use upload::{Local, TOOL};

pub const DOC: ToolDoc = ToolDoc {
    name: "sftp-put",
    description: &[
        "Connection. The server comes from --host or P_HOST, the port from --port or P_PORT (default 22), the user from --user or P_USERNAME, where P is the --env-prefix (default SFTP): the end-of-day flow gives --env-prefix PRINT_SFTP and so reads the runbook's PRINT_SFTP_HOST, PRINT_SFTP_USERNAME and PRINT_SFTP_PASSWORD. A flag wins over its variable.",
        "Login. The tool tries, in this order, the key file of --identity (or P_IDENTITY) with the passphrase from the variable named by --passphrase-env, the keys of a running ssh-agent (SSH_AUTH_SOCK), and the password in P_PASSWORD (or in the file named by P_PASSWORD_FILE). A password is never taken from the command line, where every user of the machine could read it in ps. When none of them is accepted, the exit status is 77 and the message names what was tried.",
        "Uploads. Every FILE goes into --remote-dir (default: the folder the login starts in; --mkdir creates it and its parents). It is written under a hidden temporary name in that folder (.NAME.RANDOM.part, mode 0600), flushed to disk on the server (fsync@openssh.com, when offered), its size on the server compared with the bytes sent, and then renamed to NAME. With OpenSSH's posix-rename@openssh.com extension the rename replaces an existing NAME in one step, so a reader sees the old file or the new one, never a part. Servers without it refuse to rename over an existing file; there the old NAME is first renamed aside (.NAME.RANDOM.old), the new file renamed in and the old one removed, so for a moment there is no NAME, but never a partial one; if the second rename fails the old file is put back.",
        "Failures. Nothing is left under a final name by a failed upload. The temporary file is removed when the connection still works; when the connection itself was lost, the next attempt removes it. Connection failures, timeouts and a lost connection are retried (--retries, with growing waits), resending only the files not yet delivered, then the exit status is 75. An untrusted host key or a refused login is exit 77 at once; a refusal by the server (a missing folder without --mkdir, no permission) is exit 69. Files named on the command line are opened before anything connects: a missing one is exit 66 and nothing is sent. Standard input (-, with --name) is first copied to an unnamed temporary file, so that a retry can send it again.",
        "Output. One JSON receipt per delivered file on standard output, written as soon as the file is in place: tool, target (sftp://USER@HOST:PORT/~/DIR for a folder under the login folder, sftp://USER@HOST:PORT/DIR for an absolute one), name, bytes, sha256, remote_path and time; with --dry-run also \"dry_run\":true. On a terminal, standard error shows the progress of each file.",
        "Speed. Writes are pipelined as OpenSSH's sftp does (up to 64 requests in flight, each as large as the server's limits@openssh.com allows, up to 255 KiB), so a transfer is not held back by the round-trip time.",
    ],
    examples: &[
        Example {
            what: "EOD flow: the printer files into the day's folder on the printing company's drop (PRINT_SFTP_HOST, PRINT_SFTP_USERNAME and PRINT_SFTP_PASSWORD set)",
            command: "sftp-put --env-prefix PRINT_SFTP --known-hosts pipelines/eod/known_hosts --remote-dir drop/2020-05-07 --mkdir data/2020-05-07/patient_appointments.csv data/2020-05-07/patients_form_print.csv",
        },
        Example {
            what: "Check the connection, the host key and the login without writing anything",
            command: "sftp-put --dry-run --host sftp.example.org --user print --identity ~/.ssh/print_ed25519 --host-key-sha256 SHA256:ZXs9uIdkwmD9dQ/kbt5jrwWt9T6qIJ8XvvKlXkx6wIs report.csv",
        },
        Example {
            what: "Upload standard input under a name",
            command: "csv-shape --select car_number,name appointments.csv | sftp-put --env-prefix PRINT_SFTP --name cars.csv -",
        },
    ],
    environment: &[
        (
            "SFTP_HOST, SFTP_PORT, SFTP_USERNAME",
            "The server, its port and the user, when --host, --port and --user are not given. With --env-prefix P, P_HOST, P_PORT and P_USERNAME instead.",
        ),
        (
            "SFTP_PASSWORD, SFTP_PASSWORD_FILE",
            "The password, or a file holding it (one trailing newline removed). With --env-prefix P, P_PASSWORD and P_PASSWORD_FILE.",
        ),
        (
            "SFTP_IDENTITY",
            "The private key file, when --identity is not given (P_IDENTITY with --env-prefix P).",
        ),
        (
            "SFTP_KNOWN_HOSTS",
            "The known_hosts file, when --known-hosts is not given (P_KNOWN_HOSTS with --env-prefix P). The default is ~/.ssh/known_hosts.",
        ),
        (
            "NAME, NAME_FILE",
            "With --passphrase-env NAME: the passphrase of the key, or a file holding it.",
        ),
        ("SSH_AUTH_SOCK", "The ssh-agent to ask for keys, when set."),
        ("HOME", "Where ~/.ssh/known_hosts is."),
    ],
    auth: &[],
    security: &[
        "Host keys. Before anything of ours is sent (no user name, no password, no byte of a file), the server's host key must match a key listed for the host in the known_hosts file (--known-hosts, P_KNOWN_HOSTS, else ~/.ssh/known_hosts) or one of the --host-key-sha256 fingerprints. known_hosts is read as OpenSSH writes it: plain names, [host]:port for ports other than 22, wildcard patterns with ! negation, hashed names (|1|salt|hash, HMAC-SHA1, from ssh-keygen -H or HashKnownHosts) and @revoked lines; @cert-authority lines are ignored, since certificates are not supported. The server is asked to prove a key of a type that is listed for it; with --host-key-sha256, whose fingerprint does not say the type, it is asked for its ed25519 key first, then ECDSA, then RSA, so give the fingerprint of the first of these the server has (a mismatch names the type and fingerprint the server showed). A host that is not listed, a key that differs, or a revoked key is exit 77, and the message gives the key's type and SHA256 fingerprint to check with the server's owner. There is no trust on first use and no option that skips the check: add the key to known_hosts (ssh-keyscan, then compare the fingerprint out of band) or pass its fingerprint.",
        "Encryption. The SSH transport is libssh2's, with OpenSSL. Only authenticated ciphers and counter modes are offered (AES-GCM, chacha20-poly1305, AES-CTR): never CBC, arcfour or none, whatever the server accepts.",
        "Secrets. Passwords and passphrases come only from the environment or from files (P_PASSWORD, P_PASSWORD_FILE, --passphrase-env NAME), never from arguments, and never appear in messages, receipts or debug output. Messages name files, folders, the server and the user, not the content of a file.",
        "Files. A file is created on the server with mode 0600 (the server's umask may only narrow it) and keeps that mode under its final name, since files that carry patient data should be readable by their owner only; the receiving side decides who else may read them.",
    ],
    exit_codes: &[
        Exit::Usage,
        Exit::NoInput,
        Exit::Unavailable,
        Exit::Io,
        Exit::TempFail,
        Exit::NoPerm,
        Exit::Config,
    ],
    other_exit_status: &[],
    broken_pipe: None,
    see_also: &["sftp(1)", "ssh-keygen(1)", "ssh-keyscan(1)", "sshd(8)"],
};

pub fn command() -> Command {
    common::cli::with_doc(Args::command(), &DOC)
}

pub fn run(matches: &ArgMatches) -> Result<()> {
    let options = Options::from_matches(matches)?;
    let mut pending: VecDeque<Local> = upload::open_sources(&options.sources)?.into();
    let mut stale: Vec<String> = Vec::new();
    let mut out = std::io::stdout().lock();
    let attempts = options.retry.run(
        |_| upload_pending(&options, &mut pending, &mut stale, &mut out),
        |n, error, wait| {
            common::cli::warn(
                TOOL,
                format!(
                    "{error}; retry {n} of {} in {:.1}s",
                    options.retry.retries,
                    wait.as_secs_f64()
                ),
            );
        },
    );
    match attempts {
        Ok(()) => Ok(()),
        Err((error, n)) if error.exit() == Exit::TempFail && n > 1 => {
            Err(error.context(format!("gave up after {n} attempts")))
        }
        Err((error, _)) => Err(error),
    }
}

/// One attempt: connect, clear what an earlier attempt left, make sure the
/// folder is there, and upload the files not delivered yet.
fn upload_pending(
    options: &Options,
    pending: &mut VecDeque<Local>,
    stale: &mut Vec<String>,
    out: &mut impl Write,
) -> Attempt<(), Error> {
    let mut connection = match session::connect(options) {
        Attempt::Done(c) => c,
        Attempt::Retry { error, retry_after } => return Attempt::Retry { error, retry_after },
        Attempt::Fail(error) => return Attempt::Fail(error),
    };
    let sftp = &mut connection.sftp;
    stale.retain(|path| sftp.remove(path).is_err() && sftp.stat(path).ok().flatten().is_some());
    match upload::prepare_remote_dir(sftp, options) {
        Attempt::Done(()) => {}
        other => return other,
    }
    while let Some(local) = pending.front_mut() {
        let receipt = if options.dry_run {
            match dry_receipt(options, local) {
                Ok(receipt) => receipt,
                Err(e) => return Attempt::Fail(e),
            }
        } else {
            match upload::upload_with_temp_name(sftp, options, local, stale) {
                Attempt::Done(receipt) => receipt,
                Attempt::Retry { error, retry_after } => {
                    return Attempt::Retry { error, retry_after };
                }
                Attempt::Fail(error) => return Attempt::Fail(error),
            }
        };
        if let Err(e) = receipt.write_to(out).and_then(|()| out.flush()) {
            return Attempt::Fail(Error::write("writing the receipt to <stdout>", e));
        }
        pending.pop_front();
    }
    Attempt::Done(())
}

/// The receipt an upload would give, marked dry.
fn dry_receipt(options: &Options, local: &mut Local) -> Result<Receipt> {
    let (sha256, bytes) = upload::hash_local(local)?;
    Ok(Receipt {
        tool: TOOL.into(),
        target: options.target(),
        name: local.remote_name.clone(),
        bytes,
        sha256,
        remote_path: Some(options.remote_path(&local.remote_name)),
        time: common::time::now_rfc3339(),
        dry_run: true,
        ..Receipt::default()
    })
}
