#![allow(clippy::unwrap_used)]
//! smtp-send through its binary, against the real SMTP server of
//! tests/servers/smtp.sh (run the tests under tests/servers/with-servers.sh).
//! The tests read what the server received: the stored .eml with its
//! envelope, and the log of every command line. All data is invented.

use common::hash::sha256_hex;
use common::testing::{Workdir, server_url, stderr_of, stdout_of};
use mail_parser::{MessageParser, MimeHeaders};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

const BIN: &str = env!("CARGO_BIN_EXE_smtp-send");
const TOOL: &str = "smtp-send";

/// The variables the tool reads by default; a test sets only what it means to.
const TOOL_VARS: &[&str] = &[
    "SMTP_SERVER",
    "SMTP_PORT",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "SMTP_PASSWORD_FILE",
    "SMTP_FROM",
    "SMTP_TO",
    "HEALTH_NETWORK_SMTP_URL",
    "HEALTH_NETWORK_SMTP_PORT",
    "HEALTH_NETWORK_USER_NAME",
    "HEALTH_NETWORK_USER_PWD",
    "HEALTH_NETWORK_MAIL_FROM",
    "HEALTH_NETWORK_MAIL_TO",
];

/// The test server's listeners and files.
struct Smtp {
    starttls: String,
    implicit: String,
    plain: String,
    user: String,
    password: String,
    ca: PathBuf,
    maildir: PathBuf,
    log: PathBuf,
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"))
}

impl Smtp {
    fn get() -> Option<Smtp> {
        let starttls = server_url("TEST_SMTP_STARTTLS")?;
        Some(Smtp {
            starttls,
            implicit: var("TEST_SMTP_IMPLICIT"),
            plain: var("TEST_SMTP_PLAIN"),
            user: var("TEST_SMTP_USER"),
            password: var("TEST_SMTP_PASSWORD"),
            ca: var("TEST_SMTP_CA").into(),
            maildir: var("TEST_SMTP_MAILDIR").into(),
            log: var("TEST_SMTP_LOG").into(),
        })
    }

    /// The stored message whose Message-ID is `id`, and its envelope.
    fn received(&self, id: &str) -> (Vec<u8>, Value) {
        let needle = format!("Message-ID: {id}\r\n");
        for entry in std::fs::read_dir(&self.maildir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "eml") {
                let bytes = std::fs::read(&path).unwrap();
                if contains(&bytes, needle.as_bytes()) {
                    let meta = std::fs::read(path.with_extension("json")).unwrap();
                    return (bytes, serde_json::from_slice(&meta).unwrap());
                }
            }
        }
        panic!("no message {id} in {}", self.maildir.display())
    }

    /// Every stored message from `sender` (the tests use a unique one each).
    fn count_from(&self, sender: &str) -> usize {
        std::fs::read_dir(&self.maildir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .filter(|p| {
                let meta: Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
                meta["mail_from"] == sender
            })
            .count()
    }

    /// The command lines a listener received.
    fn commands(&self, listener: &str) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap()
            .lines()
            .filter_map(|l| l.strip_prefix(&format!("{listener} ")))
            .map(String::from)
            .collect()
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A sender address no other test uses, to find this test's mail and commands.
fn unique(tag: &str) -> String {
    format!("{tag}-{}@example.org", std::process::id())
}

/// The tool with none of its variables from the test's environment.
fn tool(w: &Workdir, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = w.run(args);
    for name in TOOL_VARS {
        cmd.env_remove(name);
    }
    cmd
}

fn run(mut cmd: assert_cmd::Command) -> Output {
    cmd.output().unwrap()
}

/// Expect exit `code`; every stderr line is the tool's, the last one the
/// error, and none carries any of `secrets`. The stderr.
fn expect_failure(out: &Output, code: i32, secrets: &[&str]) -> String {
    let err = stderr_of(out);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert!(stdout_of(out).is_empty(), "no receipt on failure");
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines
            .last()
            .is_some_and(|l| l.starts_with("smtp-send: error: ")),
        "{err}"
    );
    assert!(lines.iter().all(|l| l.starts_with("smtp-send: ")), "{err}");
    for secret in secrets {
        assert!(!err.contains(secret), "stderr leaks a secret: {err}");
    }
    err
}

fn ok(out: &Output) -> Value {
    assert!(out.status.success(), "stderr: {}", stderr_of(out));
    let text = stdout_of(out);
    assert_eq!(text.lines().count(), 1, "one receipt line: {text}");
    serde_json::from_str(&text).unwrap()
}

/// A closed loopback port: bound, then let go.
fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    addr.to_string()
}

/// Bytes that survive only an exact transfer: every byte value, bare LF,
/// CR, CRLF, a line starting with a dot, and a long line.
fn awkward_binary() -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..=255u8).collect();
    bytes.extend_from_slice(b"\n.\r\n.hidden\rCR only\n");
    bytes.extend(std::iter::repeat_n(b'x', 3000));
    bytes.extend((0..=255u8).rev());
    bytes
}

const CSV: &str = "car_number,ereqnumber,name\n1,A1B2,\"Doe, Jane\"\n2,C3D4,Zoë Ångström\n.\n";

#[test]
fn a_mail_with_two_attachments_arrives_and_parses_back_to_the_same_bytes() {
    let Some(s) = Smtp::get() else { return };
    let w = Workdir::new(BIN);
    w.create("patient_appointments_master.csv", CSV);
    let pdf = awkward_binary();
    w.create("requisition.pdf", &pdf);
    let from = unique("eod");
    let mut cmd = tool(
        &w,
        &[
            "--server",
            &s.starttls,
            "--ca-file",
            s.ca.to_str().unwrap(),
            "--user",
            &s.user,
            "--from",
            &format!("EOD flow <{from}>"),
            "--to",
            "network@example.org, \"Lab, Central\" <lab@example.org>",
            "--cc",
            "copy@example.org",
            "--bcc",
            "audit@example.org",
            "--subject",
            "Appointments 2020-05-07 – Zoë",
            "--body",
            "The master file is attached.\nLine two: é.",
            "--attach",
            "patient_appointments_master.csv",
            "--attach",
            "requisition.pdf",
        ],
    );
    cmd.env("SMTP_PASSWORD", &s.password);
    let receipt = ok(&run(cmd));

    let id = receipt["message_id"].as_str().unwrap().to_string();
    let (eml, envelope) = s.received(&id);
    // The server got exactly the bytes the receipt describes.
    assert_eq!(receipt["sha256"], sha256_hex(&eml));
    assert_eq!(receipt["bytes"], eml.len());
    assert_eq!(receipt["name"], id);
    assert_eq!(receipt["tool"], TOOL);
    assert_eq!(receipt["target"], format!("smtp://{}", s.starttls));
    assert_eq!(receipt["status"], 250);
    assert!(receipt["remote_id"].is_string());
    assert_eq!(envelope["listener"], "starttls");
    assert_eq!(envelope["authenticated"], true);
    assert_eq!(envelope["mail_from"], from);
    let rcpt: Vec<&str> = envelope["rcpt_tos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        rcpt,
        [
            "network@example.org",
            "lab@example.org",
            "copy@example.org",
            "audit@example.org"
        ]
    );
    assert_eq!(receipt["recipients"].as_array().unwrap().len(), 4);

    let message = MessageParser::default().parse(&eml).unwrap();
    assert_eq!(message.subject(), Some("Appointments 2020-05-07 – Zoë"));
    assert_eq!(
        message.message_id(),
        Some(id.trim_matches(['<', '>'].as_ref()))
    );
    assert_eq!(
        message
            .body_text(0)
            .unwrap()
            .replace("\r\n", "\n")
            .trim_end(),
        "The master file is attached.\nLine two: é."
    );
    assert!(message.bcc().is_none(), "Bcc must not be a header");
    assert!(!contains(&eml, b"audit@example.org"));
    let attachments: Vec<_> = message.attachments().collect();
    assert_eq!(attachments.len(), 2);
    let expected: [(&str, &[u8], &str); 2] = [
        ("patient_appointments_master.csv", CSV.as_bytes(), "csv"),
        ("requisition.pdf", &pdf, "pdf"),
    ];
    for (part, (name, bytes, subtype)) in attachments.iter().zip(expected) {
        assert_eq!(part.attachment_name(), Some(name));
        assert_eq!(part.contents(), bytes, "{name} arrived changed");
        assert_eq!(part.content_type().unwrap().subtype(), Some(subtype));
    }
    for (i, (name, bytes, _)) in expected.iter().enumerate() {
        let digest = &receipt["attachments"][i];
        assert_eq!(digest["name"], *name);
        assert_eq!(digest["bytes"], bytes.len());
        assert_eq!(digest["sha256"], sha256_hex(bytes));
    }
}

#[test]
fn a_server_without_starttls_is_77_and_no_plaintext_auth_is_attempted() {
    let Some(s) = Smtp::get() else { return };
    let w = Workdir::new(BIN);
    w.create("a.csv", CSV);
    let from = unique("nostarttls");
    let mut cmd = tool(
        &w,
        &[
            "--server",
            &s.plain,
            "--user",
            &s.user,
            "--from",
            &from,
            "--to",
            "lab@example.org",
            "--attach",
            "a.csv",
        ],
    );
    cmd.env("SMTP_PASSWORD", &s.password);
    let err = expect_failure(&run(cmd), 77, &[&s.password]);
    assert!(err.contains("does not offer STARTTLS"), "{err}");
    let plain = s.commands("plain");
    // The client did talk to this listener (EHLO), and the listener offers
    // AUTH in clear, yet no AUTH and no mail ever reached it.
    assert!(plain.iter().any(|c| c.starts_with("EHLO")), "{plain:?}");
    assert!(
        !plain
            .iter()
            .any(|c| c.to_ascii_uppercase().starts_with("AUTH")),
        "{plain:?}"
    );
    assert!(!plain.iter().any(|c| c.contains(&from)), "{plain:?}");
    assert_eq!(s.count_from(&from), 0);
}

#[test]
fn an_unknown_ca_is_77_and_nothing_is_sent() {
    let Some(s) = Smtp::get() else { return };
    let w = Workdir::new(BIN);
    let from = unique("unknownca");
    for server in [s.starttls.clone(), format!("smtps://{}", s.implicit)] {
        let mut cmd = tool(
            &w,
            &[
                "--server",
                &server,
                "--user",
                &s.user,
                "--from",
                &from,
                "--to",
                "lab@example.org",
                "--body",
                "x",
            ],
        );
        cmd.env("SMTP_PASSWORD", &s.password)
            .env_remove("SSL_CERT_FILE");
        let err = expect_failure(&run(cmd), 77, &[&s.password]);
        assert!(err.contains("not trusted"), "{err}");
    }
    assert_eq!(s.count_from(&from), 0);
}

#[test]
fn a_wrong_password_is_77_and_never_shown() {
    let Some(s) = Smtp::get() else { return };
    let w = Workdir::new(BIN);
    let from = unique("wrongpw");
    let wrong = "Wr0ng-Pa55word-7f3c";
    let mut cmd = tool(
        &w,
        &[
            "--server",
            &s.starttls,
            "--ca-file",
            s.ca.to_str().unwrap(),
            "--user",
            &s.user,
            "--password-env",
            "MY_SMTP_PW",
            "--from",
            &from,
            "--to",
            "lab@example.org",
            "--retries",
            "3",
        ],
    );
    cmd.env("MY_SMTP_PW", wrong);
    let out = run(cmd);
    let err = expect_failure(&out, 77, &[wrong]);
    assert!(
        err.contains("535") && err.contains("login was refused"),
        "{err}"
    );
    assert_eq!(
        err.lines().count(),
        1,
        "a refused login is not retried: {err}"
    );
    assert_eq!(s.count_from(&from), 0);
}

#[test]
fn a_secret_never_appears_in_stderr_the_receipt_or_the_eml() {
    let Some(s) = Smtp::get() else { return };
    let w = Workdir::new(BIN);
    w.create("a.csv", CSV);
    w.create("pw", format!("{}\n", s.password));
    let from = unique("secret");
    let args = [
        "--server",
        &s.starttls,
        "--ca-file",
        s.ca.to_str().unwrap(),
        "--from",
        &from,
        "--to",
        "lab@example.org",
        "--subject",
        "s",
        "--body",
        "b",
        "--attach",
        "a.csv",
    ];
    // The password from a file (SMTP_PASSWORD_FILE), the user from SMTP_USERNAME.
    let mut cmd = tool(&w, &args);
    cmd.env("SMTP_USERNAME", &s.user)
        .env("SMTP_PASSWORD_FILE", w.path("pw"));
    let out = run(cmd);
    let receipt = ok(&out);
    let (eml, envelope) = s.received(receipt["message_id"].as_str().unwrap());
    assert_eq!(envelope["authenticated"], true);
    // AUTH PLAIN sends base64("\0user\0password"): look for that too.
    assert_eq!(
        (base64(b"Man"), base64(b"Ma")),
        ("TWFu".into(), "TWE=".into())
    );
    let plain = format!("\0{}\0{}", s.user, s.password);
    let encoded = base64(plain.as_bytes());
    for text in [
        String::from_utf8_lossy(&eml).into_owned(),
        stdout_of(&out),
        stderr_of(&out),
    ] {
        assert!(!text.contains(&s.password), "the password leaked: {text}");
        assert!(!text.contains(&encoded), "the AUTH string leaked");
    }
    // Nor in a dry run's message, nor when the login fails.
    let mut cmd = tool(&w, &[&args[..], &["--dry-run", "--user", &s.user]].concat());
    cmd.env("SMTP_PASSWORD", &s.password);
    let out = run(cmd);
    assert!(out.status.success());
    assert!(!stdout_of(&out).contains(&s.password) && !stderr_of(&out).contains(&s.password));
    let mut cmd = tool(&w, &[&args[..], &["--user", "nobody"]].concat());
    cmd.env("SMTP_PASSWORD", &s.password);
    expect_failure(&run(cmd), 77, &[&s.password, &encoded]);
}

/// Standard base64, for the leak check.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn implicit_tls_delivers() {
    let Some(s) = Smtp::get() else { return };
    let w = Workdir::new(BIN);
    let from = unique("implicit");
    for server in [format!("smtps://{}", s.implicit), s.implicit.clone()] {
        let mut cmd = tool(
            &w,
            &[
                "--server",
                &server,
                "--tls",
                "implicit",
                "--ca-file",
                s.ca.to_str().unwrap(),
                "--from",
                &from,
                "--to",
                "lab@example.org",
                "--body",
                "over TLS from the start",
            ],
        );
        cmd.env("SMTP_USERNAME", &s.user)
            .env("SMTP_PASSWORD", &s.password);
        let receipt = ok(&run(cmd));
        assert_eq!(receipt["target"], format!("smtps://{}", s.implicit));
        let (_, envelope) = s.received(receipt["message_id"].as_str().unwrap());
        assert_eq!(envelope["listener"], "implicit");
        assert_eq!(envelope["authenticated"], true);
    }
}

#[test]
fn env_prefix_reads_the_runbook_variables() {
    let Some(s) = Smtp::get() else { return };
    let w = Workdir::new(BIN);
    w.create("patient_appointments_master.csv", CSV);
    let from = unique("healthnetwork");
    let (host, port) = s.starttls.rsplit_once(':').unwrap();
    let mut cmd = tool(
        &w,
        &[
            "--env-prefix",
            "HEALTH_NETWORK",
            "--ca-file",
            s.ca.to_str().unwrap(),
            "--subject",
            "Appointments 2020-05-07",
            "--attach",
            "patient_appointments_master.csv",
        ],
    );
    cmd.env("HEALTH_NETWORK_SMTP_URL", host)
        .env("HEALTH_NETWORK_SMTP_PORT", port)
        .env("HEALTH_NETWORK_USER_NAME", &s.user)
        .env("HEALTH_NETWORK_USER_PWD", &s.password)
        .env("HEALTH_NETWORK_MAIL_FROM", &from)
        .env(
            "HEALTH_NETWORK_MAIL_TO",
            "inbox@health.example, backup@health.example",
        )
        // The defaults are not read when a prefix is given.
        .env("SMTP_SERVER", "192.0.2.1")
        .env("SMTP_PASSWORD", "not-this-one");
    let receipt = ok(&run(cmd));
    let (_, envelope) = s.received(receipt["message_id"].as_str().unwrap());
    assert_eq!(envelope["authenticated"], true);
    assert_eq!(envelope["mail_from"], from);
    assert_eq!(
        envelope["rcpt_tos"],
        serde_json::json!(["inbox@health.example", "backup@health.example"])
    );

    // A variable missing from the prefixed set is configuration: 78, named.
    let mut cmd = tool(&w, &["--env-prefix", "HEALTH_NETWORK", "--body", "x"]);
    cmd.env("HEALTH_NETWORK_SMTP_URL", host)
        .env("HEALTH_NETWORK_MAIL_FROM", &from);
    let err = expect_failure(&run(cmd), 78, &[]);
    assert!(err.contains("HEALTH_NETWORK_MAIL_TO"), "{err}");
    let mut cmd = tool(&w, &["--env-prefix", "HEALTH_NETWORK", "--body", "x"]);
    cmd.env("HEALTH_NETWORK_SMTP_URL", host)
        .env("HEALTH_NETWORK_MAIL_FROM", &from)
        .env("HEALTH_NETWORK_MAIL_TO", "a@example.org")
        .env("HEALTH_NETWORK_USER_NAME", &s.user);
    let err = expect_failure(&run(cmd), 78, &[]);
    assert!(err.contains("HEALTH_NETWORK_USER_PWD"), "{err}");
}

#[test]
fn smtp_4xx_is_retried_then_75() {
    let Some(s) = Smtp::get() else { return };
    let w = Workdir::new(BIN);
    let rcpt = format!("tempfail-{}@example.org", std::process::id());
    let mut cmd = tool(
        &w,
        &[
            "--server",
            &s.starttls,
            "--ca-file",
            s.ca.to_str().unwrap(),
            "--user",
            &s.user,
            "--from",
            &unique("tempfail"),
            "--to",
            &rcpt,
            "--body",
            "x",
            "--retries",
            "2",
        ],
    );
    cmd.env("SMTP_PASSWORD", &s.password);
    let err = expect_failure(&run(cmd), 75, &[&s.password]);
    assert!(err.contains("451") && err.contains("3 attempts"), "{err}");
    assert_eq!(err.matches("warning: attempt").count(), 2, "{err}");
    let tries = s
        .commands("starttls")
        .iter()
        .filter(|c| c.starts_with("RCPT") && c.contains(&rcpt))
        .count();
    assert_eq!(tries, 3, "one RCPT per attempt");
}

#[test]
fn smtp_5xx_is_69_and_not_retried() {
    let Some(s) = Smtp::get() else { return };
    let w = Workdir::new(BIN);
    let rcpt = format!("reject-{}@example.org", std::process::id());
    let mut cmd = tool(
        &w,
        &[
            "--server",
            &s.starttls,
            "--ca-file",
            s.ca.to_str().unwrap(),
            "--user",
            &s.user,
            "--from",
            &unique("reject"),
            "--to",
            &rcpt,
            "--body",
            "x",
            "--retries",
            "3",
        ],
    );
    cmd.env("SMTP_PASSWORD", &s.password);
    let err = expect_failure(&run(cmd), 69, &[&s.password]);
    assert!(err.contains("550"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let tries = s
        .commands("starttls")
        .iter()
        .filter(|c| c.starts_with("RCPT") && c.contains(&rcpt))
        .count();
    assert_eq!(tries, 1);
}

#[test]
fn a_refused_connection_is_retried_then_75() {
    let w = Workdir::new(BIN);
    let server = closed_port();
    let out = run(tool(
        &w,
        &[
            "--server",
            &server,
            "--from",
            "a@example.org",
            "--to",
            "b@example.org",
            "--retries",
            "1",
        ],
    ));
    let err = expect_failure(&out, 75, &[]);
    assert!(
        err.contains("connecting") && err.contains("2 attempts"),
        "{err}"
    );
}

#[test]
fn tls_none_is_for_loopback_only() {
    let w = Workdir::new(BIN);
    let err = expect_failure(
        &run(tool(
            &w,
            &[
                "--server",
                "mail.example.org",
                "--tls",
                "none",
                "--from",
                "a@example.org",
                "--to",
                "b@example.org",
            ],
        )),
        64,
        &[],
    );
    assert!(err.contains("loopback"), "{err}");
    let Some(s) = Smtp::get() else { return };
    let from = unique("tlsnone");
    let receipt = ok(&run(tool(
        &w,
        &[
            "--server",
            &s.plain,
            "--tls",
            "none",
            "--from",
            &from,
            "--to",
            "b@example.org",
            "--body",
            "local relay",
        ],
    )));
    let (_, envelope) = s.received(receipt["message_id"].as_str().unwrap());
    assert_eq!(envelope["listener"], "plain");
    assert_eq!(envelope["authenticated"], false);
}

#[test]
fn max_size_is_65_before_connecting() {
    let w = Workdir::new(BIN);
    w.create("big.csv", "x".repeat(10_000));
    // The server is a closed port: reaching it would be 75, not 65.
    let server = closed_port();
    let base = [
        "--server",
        &server,
        "--from",
        "a@example.org",
        "--to",
        "b@example.org",
        "--attach",
        "big.csv",
    ];
    let err = expect_failure(
        &run(tool(&w, &[&base[..], &["--max-size", "8K"]].concat())),
        65,
        &[],
    );
    assert!(err.contains("--max-size") && !err.contains("xxxx"), "{err}");
    expect_failure(
        &run(tool(
            &w,
            &[&base[..], &["--max-size", "8K", "--dry-run"]].concat(),
        )),
        65,
        &[],
    );
    expect_failure(
        &run(tool(&w, &[&base[..], &["--max-size", "8Q"]].concat())),
        64,
        &[],
    );
    // Under the limit, it goes on to connect (and fails there).
    expect_failure(
        &run(tool(
            &w,
            &[&base[..], &["--max-size", "1M", "--retries", "0"]].concat(),
        )),
        75,
        &[],
    );
}

#[test]
fn dry_run_writes_the_whole_message_and_connects_to_nothing() {
    let w = Workdir::new(BIN);
    w.create("report.csv", CSV);
    let server = closed_port();
    let mut cmd = tool(
        &w,
        &[
            "--dry-run",
            "--server",
            &server,
            "--from",
            "ops@example.org",
            "--to",
            "lab@example.org",
            "--bcc",
            "audit@example.org",
            "--subject",
            "Test",
            "--body-file",
            "-",
            "--attach",
            "report.csv",
        ],
    );
    cmd.write_stdin("body from stdin\n");
    let out = run(cmd);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let eml = out.stdout.clone();
    let message = MessageParser::default().parse(&eml).unwrap();
    assert_eq!(message.subject(), Some("Test"));
    assert!(message.message_id().is_some());
    assert!(message.header("Date").is_some());
    assert!(message.header("MIME-Version").is_some());
    assert!(!contains(&eml, b"audit@example.org"));
    assert_eq!(message.body_text(0).unwrap().trim_end(), "body from stdin");
    let part = message.attachments().next().unwrap();
    assert_eq!(part.attachment_name(), Some("report.csv"));
    assert_eq!(part.contents(), CSV.as_bytes());
    let err = stderr_of(&out);
    assert!(
        err.starts_with("smtp-send: dry run:") && err.contains("nothing was sent"),
        "{err}"
    );
    // Neither a server nor a password is needed.
    let out = run(tool(
        &w,
        &[
            "--dry-run",
            "--from",
            "ops@example.org",
            "--to",
            "lab@example.org",
            "--user",
            "u",
        ],
    ));
    assert!(out.status.success(), "{}", stderr_of(&out));
}

#[test]
fn attach_stdin_needs_a_name() {
    let w = Workdir::new(BIN);
    let base = [
        "--dry-run",
        "--from",
        "a@example.org",
        "--to",
        "b@example.org",
        "--attach",
        "-",
    ];
    let mut cmd = tool(&w, &[&base[..], &["--name", "weekly.csv"]].concat());
    cmd.write_stdin(CSV);
    let out = run(cmd);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let message = MessageParser::default().parse(&out.stdout).unwrap();
    let part = message.attachments().next().unwrap();
    assert_eq!(part.attachment_name(), Some("weekly.csv"));
    assert_eq!(part.contents(), CSV.as_bytes());
    assert_eq!(part.content_type().unwrap().subtype(), Some("csv"));

    let err = expect_failure(&run(tool(&w, &base)), 64, &[]);
    assert!(err.contains("--name"), "{err}");
    expect_failure(
        &run(tool(
            &w,
            &[&base[..], &["--attach", "-", "--name", "x.csv"]].concat(),
        )),
        64,
        &[],
    );
    expect_failure(
        &run(tool(&w, &[&base[..], &["--name", "../x.csv"]].concat())),
        64,
        &[],
    );
    expect_failure(
        &run(tool(
            &w,
            &[
                "--dry-run",
                "--from",
                "a@example.org",
                "--to",
                "b@example.org",
                "--name",
                "x.csv",
            ],
        )),
        64,
        &[],
    );
}

#[test]
fn bad_inputs_and_missing_configuration() {
    let w = Workdir::new(BIN);
    let to = ["--from", "a@example.org", "--to", "b@example.org"];
    // A missing attachment is 66, naming the file.
    let err = expect_failure(
        &run(tool(
            &w,
            &[&to[..], &["--dry-run", "--attach", "missing.csv"]].concat(),
        )),
        66,
        &[],
    );
    assert!(err.contains("missing.csv"), "{err}");
    // No server, no sender, no recipient: usage, naming flag and variable.
    let err = expect_failure(&run(tool(&w, &to)), 64, &[]);
    assert!(
        err.contains("--server") && err.contains("SMTP_SERVER"),
        "{err}"
    );
    let err = expect_failure(
        &run(tool(&w, &["--dry-run", "--to", "b@example.org"])),
        64,
        &[],
    );
    assert!(err.contains("SMTP_FROM"), "{err}");
    let err = expect_failure(
        &run(tool(&w, &["--dry-run", "--from", "a@example.org"])),
        64,
        &[],
    );
    assert!(err.contains("SMTP_TO"), "{err}");
    expect_failure(
        &run(tool(
            &w,
            &[
                "--dry-run",
                "--from",
                "not an address",
                "--to",
                "b@example.org",
            ],
        )),
        64,
        &[],
    );
    // A user without a password is configuration.
    let err = expect_failure(
        &run(tool(
            &w,
            &[&to[..], &["--server", "127.0.0.1:1", "--user", "u"]].concat(),
        )),
        78,
        &[],
    );
    assert!(err.contains("SMTP_PASSWORD"), "{err}");
    // There is no flag for the password, and a password in --server is refused unseen.
    let out = run(tool(&w, &[&to[..], &["--password", "hunter2"]].concat()));
    assert_eq!(out.status.code(), Some(64));
    assert!(!stderr_of(&out).contains("hunter2"));
    let err = expect_failure(
        &run(tool(
            &w,
            &[&to[..], &["--server", "smtp://u:hunter2@mail.example.org"]].concat(),
        )),
        64,
        &["hunter2"],
    );
    assert!(err.contains("password"), "{err}");
    // A --ca-file that is not PEM is configuration; a missing one is 66.
    w.create("not.pem", "hello");
    let server = closed_port();
    expect_failure(
        &run(tool(
            &w,
            &[&to[..], &["--server", &server, "--ca-file", "not.pem"]].concat(),
        )),
        78,
        &[],
    );
    expect_failure(
        &run(tool(
            &w,
            &[&to[..], &["--server", &server, "--ca-file", "none.pem"]].concat(),
        )),
        66,
        &[],
    );
    // A body that is not UTF-8 is a data error.
    w.create("body.bin", [0xff, 0xfe, 0x00]);
    expect_failure(
        &run(tool(
            &w,
            &[&to[..], &["--dry-run", "--body-file", "body.bin"]].concat(),
        )),
        65,
        &[],
    );
}

#[test]
fn help_shows_examples_and_exit_codes() {
    let w = Workdir::new(BIN);
    let out = w.ok(&["--help"]);
    assert!(out.contains("--env-prefix HEALTH_NETWORK"), "{out}");
    assert!(out.contains("77 not allowed"), "{out}");
    assert!(Path::new(BIN).exists());
}
