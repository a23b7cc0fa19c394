//! The message: addresses, body and attachments, built with lettre into the
//! exact RFC 5322 bytes that are sent (or printed by --dry-run).

use crate::args::{EnvNames, Options, env_value};
use common::io::{STDIN_NAME, open_input};
use common::receipt::FileDigest;
use common::{Error, Result};
use lettre::Message;
use lettre::address::Envelope;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Attachment, Body, Mailbox, Mailboxes, MultiPart, SinglePart};
use std::io::Read;
use std::path::Path;

/// A message ready to send: its bytes, envelope and what the receipt names.
#[derive(Debug)]
pub struct Built {
    pub bytes: Vec<u8>,
    pub envelope: Envelope,
    pub message_id: String,
    pub recipients: Vec<String>,
    pub attachments: Vec<FileDigest>,
}

/// The MIME type for a file name, from its extension.
pub fn mime_type(name: &str) -> &'static str {
    let ext = Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "csv" => "text/csv",
        "tsv" | "tab" => "text/tab-separated-values",
        "txt" | "log" => "text/plain",
        "json" => "application/json",
        "ndjson" | "jsonl" => "application/x-ndjson",
        "xml" => "application/xml",
        "html" | "htm" => "text/html",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "7z" => "application/x-7z-compressed",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        _ => "application/octet-stream",
    }
}

/// Parse addresses from one flag value or variable (a comma-separated list).
fn mailboxes(text: &str, source: &str) -> Result<Vec<Mailbox>> {
    let parsed: Mailboxes = text
        .parse()
        .map_err(|e| Error::usage(format!("{source}: not a mail address list: {e}")))?;
    Ok(parsed.into_iter().collect())
}

/// The addresses of a repeatable flag, or of its variable when the flag is absent.
fn recipients(values: &[String], flag: &str, var: Option<&str>) -> Result<Vec<Mailbox>> {
    let mut out = Vec::new();
    if values.is_empty() {
        if let Some(var) = var
            && let Some(text) = env_value(var)
        {
            out.extend(mailboxes(&text, var)?);
        }
    } else {
        for value in values {
            out.extend(mailboxes(value, flag)?);
        }
    }
    Ok(out)
}

fn sender(options: &Options) -> Result<Mailbox> {
    let env: &EnvNames = &options.env;
    let (text, source) = match &options.args.from {
        Some(text) => (text.clone(), "--from"),
        None => (
            env_value(&env.from).ok_or_else(|| env.missing("--from", &env.from, "sender"))?,
            env.from.as_str(),
        ),
    };
    let mut list = mailboxes(&text, source)?;
    match (list.pop(), list.is_empty()) {
        (Some(one), true) => Ok(one),
        _ => Err(Error::usage(format!(
            "{source}: give exactly one sender address"
        ))),
    }
}

fn read_all(path: &Path, what: &str) -> Result<Vec<u8>> {
    let mut input = open_input(Some(path))?;
    let mut bytes = Vec::new();
    input
        .reader
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(format!("reading {what} {}", input.name), e))?;
    Ok(bytes)
}

/// The body text, from --body, --body-file or nothing.
fn body_text(options: &Options) -> Result<String> {
    if let Some(text) = &options.args.body {
        return Ok(text.clone());
    }
    let Some(path) = &options.args.body_file else {
        return Ok(String::new());
    };
    let bytes = read_all(path, "the body")?;
    String::from_utf8(bytes).map_err(|_| {
        let name = if path.as_os_str() == "-" {
            STDIN_NAME.to_string()
        } else {
            path.display().to_string()
        };
        Error::data(format!("{name}: the body is not UTF-8 text"))
    })
}

/// The attachments' names and bytes, in flag order.
fn attachments(options: &Options) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut stdin_used = false;
    for path in &options.args.attach {
        let name = if path.as_os_str() == "-" {
            if stdin_used {
                return Err(Error::usage(
                    "--attach - can be given once (stdin is read once)",
                ));
            }
            if options
                .args
                .body_file
                .as_deref()
                .is_some_and(|p| p.as_os_str() == "-")
            {
                return Err(Error::usage(
                    "--attach - and --body-file - both read stdin: give one a file",
                ));
            }
            stdin_used = true;
            options
                .args
                .name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .ok_or_else(|| {
                    Error::usage("--attach - reads stdin and needs --name NAME for it")
                })?
        } else {
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| {
                    Error::usage(format!("--attach {}: not a file name", path.display()))
                })?
        };
        if name.contains(['/', '\\']) || name.chars().any(char::is_control) {
            return Err(Error::usage(
                "--name: give a file name without a folder or control characters",
            ));
        }
        let bytes = read_all(path, "attachment")?;
        out.push((name, bytes));
    }
    Ok(out)
}

/// Build the message from the options: read the body and the attachments,
/// and format it as it will be sent.
pub fn build(options: &Options) -> Result<Built> {
    let env = &options.env;
    let from = sender(options)?;
    let to = recipients(&options.args.to, "--to", Some(&env.to))?;
    let cc = recipients(&options.args.cc, "--cc", None)?;
    let bcc = recipients(&options.args.bcc, "--bcc", None)?;
    if to.is_empty() && cc.is_empty() && bcc.is_empty() {
        return Err(env.missing("--to", &env.to, "recipient"));
    }
    let message_id = format!("<{}@{}>", uuid::Uuid::new_v4(), from.email.domain());
    let mut builder = Message::builder()
        .from(from)
        .subject(options.args.subject.clone())
        .message_id(Some(message_id.clone()))
        .date_now();
    for mailbox in to {
        builder = builder.to(mailbox);
    }
    for mailbox in cc {
        builder = builder.cc(mailbox);
    }
    for mailbox in bcc {
        builder = builder.bcc(mailbox);
    }

    let text = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(Body::new(body_text(options)?));
    let files = attachments(options)?;
    let mut digests = Vec::new();
    let message = if files.is_empty() {
        builder.singlepart(text)
    } else {
        let mut parts = MultiPart::mixed().singlepart(text);
        for (name, bytes) in files {
            digests.push(FileDigest::of(&name, &bytes));
            let content_type = ContentType::parse(mime_type(&name))
                .map_err(|_| Error::software("a MIME type in the table does not parse"))?;
            // Base64 always, so that every byte (line endings too) arrives as read.
            let body = Body::new_with_encoding(bytes, ContentTransferEncoding::Base64)
                .map_err(|_| Error::software("base64 was refused for an attachment"))?;
            parts = parts.singlepart(Attachment::new(name).body(body, content_type));
        }
        builder.multipart(parts)
    }
    .map_err(|e| Error::usage(format!("cannot build the message: {e}")))?;

    let envelope = message.envelope().clone();
    let recipients = envelope.to().iter().map(ToString::to_string).collect();
    Ok(Built {
        bytes: message.formatted(),
        envelope,
        message_id,
        recipients,
        attachments: digests,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_types_from_extensions() {
        assert_eq!(mime_type("patient_appointments_master.csv"), "text/csv");
        assert_eq!(mime_type("REQ.PDF"), "application/pdf");
        assert_eq!(mime_type("a.ndjson"), "application/x-ndjson");
        assert_eq!(mime_type("noext"), "application/octet-stream");
        assert_eq!(mime_type("x.unknown"), "application/octet-stream");
        for name in ["a.csv", "a.pdf", "a.xlsx", "a.docx", "a.json", "a.bin"] {
            assert!(ContentType::parse(mime_type(name)).is_ok(), "{name}");
        }
    }

    #[test]
    fn address_lists_split_on_commas_outside_quotes() {
        let list = mailboxes("\"Doe, Jane\" <jane@example.org>, ops@example.org", "--to")
            .unwrap_or_default();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].email.to_string(), "jane@example.org");
        assert!(mailboxes("not an address", "--to").is_err());
    }
}
