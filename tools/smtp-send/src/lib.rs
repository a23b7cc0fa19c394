//! smtp-send: send a mail with files attached over SMTP, with STARTTLS or
//! implicit TLS, verified certificates and AUTH.
#![forbid(unsafe_code)]

mod args;
mod message;
mod send;

use args::{Args, Options};
use clap::{ArgMatches, Command, CommandFactory};
use common::doc::{Example, ToolDoc};
use common::receipt::Receipt;
use common::retry::RetryPolicy;
use common::text::plural_s;
use common::{Error, Exit, Result};
use std::io::Write;
use std::time::Duration;

pub(crate) const TOOL: &str = "smtp-send";

pub const DOC: ToolDoc = ToolDoc {
    name: TOOL,
    description: &[include_str!("../doc/description.txt")],
    examples: &[
        Example {
            what: "End-of-day flow: mail the master patient file to the health network's secure mailbox (STARTTLS; server, login, sender and recipients from HEALTH_NETWORK_*)",
            command: "smtp-send --env-prefix HEALTH_NETWORK --subject 'Appointments 2020-05-07' --body 'The master patient file for 2020-05-07 is attached.' --attach data/2020-05-07/patient_appointments_master.csv >> log/2020-05-07_eod.jsonl",
        },
        Example {
            what: "Business requisitions in: the notification mail with the error list, to the liaisons",
            command: "smtp-send --env-prefix HEALTH_NETWORK --to liaisons@city.example --subject 'Business requisitions: file rejected' --body-file log/bz-in-errors.txt",
        },
        Example {
            what: "A report from a pipe, over implicit TLS to a server with a private CA",
            command: "db-extract -f weekly.sql | smtp-send --server smtps://mail.example.org --ca-file /etc/phtools/mail-ca.pem --user reports --password-env REPORTS_SMTP_PASSWORD --from reports@example.org --to lab@example.org --subject 'Weekly report' --attach - --name weekly.csv",
        },
        Example {
            what: "See the message that would be sent, without connecting",
            command: "smtp-send --dry-run --from ops@example.org --to lab@example.org --subject 'Test' --attach report.csv > message.eml",
        },
    ],
    environment: &[
        (
            "SMTP_SERVER, SMTP_PORT",
            "The server and its port, when --server is not given (the port also applies to a --server without one).",
        ),
        (
            "SMTP_USERNAME",
            "The user to log in as, when --user is not given.",
        ),
        (
            "SMTP_PASSWORD, SMTP_PASSWORD_FILE",
            "The password, or a file holding it (one trailing newline removed), when --password-env is not given.",
        ),
        (
            "SMTP_FROM, SMTP_TO",
            "The sender and the recipients (a comma-separated list), when --from and --to are not given.",
        ),
        (
            "P_SMTP_URL, P_SMTP_PORT, P_USER_NAME, P_USER_PWD, P_MAIL_FROM, P_MAIL_TO",
            "With --env-prefix P, these replace the SMTP_* variables above (P_USER_PWD_FILE too). The end-of-day flow uses HEALTH_NETWORK. A value missing from them is exit 78.",
        ),
        (
            "NAME, NAME_FILE",
            "With --password-env NAME: the password, or a file holding it.",
        ),
        (
            "SSL_CERT_FILE, SSL_CERT_DIR",
            "Where the system's trusted CA certificates are read from, when not in the usual places (/etc/ssl/certs).",
        ),
    ],
    auth: &[],
    security: &[include_str!("../doc/security.txt")],
    exit_codes: &[
        Exit::Usage,
        Exit::Data,
        Exit::NoInput,
        Exit::Unavailable,
        Exit::Io,
        Exit::TempFail,
        Exit::NoPerm,
        Exit::Config,
    ],
    other_exit_status: &[],
    broken_pipe: None,
    see_also: &["sftp-put(1)", "db-extract(1)", "csv-shape(1)"],
};

pub fn command() -> Command {
    common::cli::with_doc(Args::command(), &DOC)
}

pub fn run(matches: &ArgMatches) -> Result<()> {
    let options = Options::from_matches(matches)?;
    let built = message::build(&options)?;
    let size = built.bytes.len() as u64;
    if let Some(max) = options.max_size
        && size > max
    {
        return Err(Error::data(format!(
            "the message is {size} bytes as built (attachments encoded), over --max-size {max}; nothing was sent"
        )));
    }
    if options.args.dry_run {
        let mut out = std::io::stdout().lock();
        out.write_all(&built.bytes)
            .and_then(|()| out.flush())
            .map_err(|e| Error::write("writing <stdout>", e))?;
        common::cli::info(
            TOOL,
            format!(
                "dry run: {size} bytes, {} recipient{}, {} attachment{}; nothing was sent",
                built.recipients.len(),
                plural_s(built.recipients.len()),
                built.attachments.len(),
                plural_s(built.attachments.len()),
            ),
        );
        return Ok(());
    }
    let Some(server) = options.server.as_ref() else {
        return Err(Error::software("no server outside a dry run"));
    };
    let login = match &options.user {
        Some(user) => Some((user.clone(), options.password()?)),
        None if options.args.password_env.is_some() => {
            return Err(options
                .env
                .missing("--user", &options.env.user, "user for the password"));
        }
        None => None,
    };
    let delivery = send::Delivery {
        server,
        tls: send::tls_parameters(server, options.args.ca_file.as_deref())?,
        login,
        timeout: options.timeout,
    };
    let policy = RetryPolicy {
        retries: options.args.retries,
        max_time: options.args.max_time.map(Duration::from_secs),
        ..RetryPolicy::default()
    };
    let accepted = send::deliver(&delivery, &built.envelope, &built.bytes, &policy, TOOL)?;
    let receipt = Receipt {
        status: Some(accepted.code),
        remote_id: accepted.queue_id,
        message_id: Some(built.message_id.clone()),
        recipients: Some(built.recipients),
        attachments: Some(built.attachments),
        ..Receipt::for_bytes(TOOL, &server.url(), &built.message_id, &built.bytes)
    };
    let mut out = std::io::stdout().lock();
    receipt
        .write_to(&mut out)
        .and_then(|()| out.flush())
        .map_err(|e| Error::write("writing the receipt to <stdout>", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    common::examples_test!(DOC, command);
}
