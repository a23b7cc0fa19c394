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
    description: &[include_str!("../doc/description.txt")],
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
    security: &[include_str!("../doc/security.txt")],
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

#[cfg(test)]
mod tests {
    use super::*;

    common::examples_test!(DOC, command);
}
