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
    description: &[
        "The message. From, To, Cc, Subject, Date and a Message-ID (a random UUID at the sender's domain) are set; Bcc recipients are in the envelope only, never in a header. The body (--body or --body-file, UTF-8, empty without either) is text/plain; with attachments the message is multipart/mixed, the body first, then each --attach file in order, base64-encoded so that every byte arrives as read (line endings too), named by its file name (--name for stdin), with a MIME type from its extension: text/csv, text/tab-separated-values, text/plain, application/json, application/x-ndjson, application/xml, text/html, application/pdf, application/zip, application/gzip, Excel and Word types, image/png, image/jpeg, else application/octet-stream. Attachments are read whole into memory; --max-size refuses a message that is larger, as built, with exit 65 before connecting.",
        "The server. --server takes HOST, HOST:PORT, [IPV6]:PORT, smtp://HOST[:PORT] or smtps://HOST[:PORT]. --tls starttls (the default) connects in clear and requires STARTTLS before anything else is sent; --tls implicit speaks TLS from the first byte (the default for port 465 and smtps://); --tls none is refused (exit 64) unless the server is a loopback address. Without a port, starttls uses 587, implicit 465 and none 25.",
        "The conversation. After the greeting and EHLO, a server that does not offer STARTTLS is refused with exit 77 before any AUTH or MAIL: there is no plaintext fallback. After STARTTLS (or from the start with implicit TLS) comes AUTH PLAIN or LOGIN when a user is set, then MAIL FROM, RCPT TO for every To, Cc and Bcc recipient, and DATA. Every step waits at most --timeout seconds for the server.",
        "Outcomes. A refused connection, a timeout, a cut connection and an SMTP 4xx reply are temporary: the whole conversation is tried again up to --retries times with exponential backoff and jitter (within --max-time), then it is exit 75. A 5xx reply is exit 69 and is not retried, except a refused login (any reply to AUTH, and 530, 534, 535 or 538), which is exit 77, as is a failed certificate check. A connection cut after the message was sent but before the server's reply is retried too, so the mail may then arrive twice: delivery is at least once, never silently lost. Messages name the step and the server, and give the server's reply code and text; the text of a reply to AUTH is left out, since a server may quote what it was sent.",
        "The receipt. On success one JSON line goes to stdout: tool, target (smtp://HOST:PORT or smtps://HOST:PORT), name and message_id (the Message-ID, with its angle brackets), bytes and sha256 of the message as sent, recipients (every envelope recipient), attachments (each one's name, bytes and sha256, of the file as read), status (the server's final reply code, 250), remote_id (the queue id, when the reply names one) and time. Neither the subject nor the body is in it.",
        "Dry run. --dry-run builds the message exactly as it would be sent, checks --max-size, and writes it (RFC 5322, CRLF line endings, without the Bcc header) to stdout, with a one-line summary on stderr. It connects to nothing and needs neither a server nor a password.",
    ],
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
    security: &[
        "The password is read only from the environment or from a file named there, never from the command line, where every user of the machine sees it in ps. It never appears in messages, receipts, the --dry-run output or the message sent, and a server's reply to AUTH is reported by its code only.",
        "TLS is rustls. The server's certificate must chain to a CA of the system's store (or of --ca-file) and name the host given to --server (a DNS name or an IP address); there is no flag to skip the check. A failed check is exit 77 and nothing is sent.",
        "With STARTTLS, the tool refuses a server that does not offer it (exit 77) rather than falling back to plaintext: an attacker between the tool and the server can strip STARTTLS from the server's answer, and a client that then carries on would send the password and the patient data in clear. Nothing is sent before TLS is up: no AUTH, no MAIL. AUTH is sent only inside TLS, or to a loopback server with --tls none.",
        "Mail is not end-to-end encrypted: TLS protects the hop from this tool to the server only. Send patient data only to a mailbox that the receiving organisation designates as secure for it.",
    ],
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
