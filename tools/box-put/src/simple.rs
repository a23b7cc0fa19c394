//! One-request uploads: a multipart/form-data body with the attributes
//! part before the file part (Box refuses the other order), and
//! Content-MD5 holding the sha1, which Box checks the content against.

use crate::source::Local;
use common::http::{Method, Request};
use common::{Error, Result};
use serde_json::Value;
use std::time::Duration;

/// The time a request may take beyond --timeout, per byte of body: one
/// second for every 100 kB, so that a 50 MB upload may take 500 s more.
pub const BYTES_PER_EXTRA_SECOND: u64 = 100_000;

/// A time limit for a request with `bytes` of body.
pub fn upload_timeout(timeout_secs: u64, bytes: u64) -> Duration {
    Duration::from_secs(timeout_secs + bytes / BYTES_PER_EXTRA_SECOND)
}

/// POST the file to `url` (a new file, or a new version of one), with
/// `attributes` (name, parent, content_modified_at).
pub fn upload_request(
    url: String,
    attributes: &Value,
    local: &mut Local,
    timeout_secs: u64,
) -> Result<Request> {
    let boundary = boundary(&local.sha1);
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"attributes\"\r\nContent-Type: application/json\r\n\r\n{attributes}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
        form_file_name(&local.name)
    );
    let tail = format!("\r\n--{boundary}--\r\n");
    let body = local.read_between(head.as_bytes(), tail.as_bytes())?;
    let mut request = Request::with_body(
        Method::Post,
        url,
        &format!("multipart/form-data; boundary={boundary}"),
        body,
    )
    .header("content-md5", local.sha1.as_str())
    .header("accept", "application/json");
    request.timeout = Some(upload_timeout(timeout_secs, local.bytes));
    Ok(request)
}

/// A boundary that the content will not hold: the file's sha1 and a
/// random number (the sha1 cannot appear in the content it is the hash of,
/// except by a collision nobody has found).
fn boundary(sha1: &str) -> String {
    use std::hash::{BuildHasher, RandomState};
    let random = RandomState::new().hash_one(std::time::SystemTime::now());
    format!("box-put-{sha1}-{random:016x}")
}

/// The file part's filename: Box takes the name from the attributes, so
/// this one only has to be a harmless ASCII copy of it.
fn form_file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The file entry of an upload's answer (`{"entries":[{...}]}`).
pub fn uploaded_entry(value: &Value, at: &str) -> Result<Value> {
    value
        .get("entries")
        .and_then(Value::as_array)
        .and_then(|entries| entries.first())
        .filter(|entry| entry.get("id").is_some())
        .cloned()
        .ok_or_else(|| Error::unavailable(format!("{at}: the answer names no file")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_file_names_are_plain_ascii() {
        assert_eq!(form_file_name("a b.csv"), "a b.csv");
        assert_eq!(form_file_name("é\"x\\.pdf"), "__x_.pdf");
        assert!(boundary("abc").starts_with("box-put-abc-"));
        assert_eq!(
            upload_timeout(30, 50_000_000),
            Duration::from_secs(30 + 500)
        );
    }
}
