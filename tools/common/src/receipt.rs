//! Receipts: one JSON line per delivered item, with no record content.

use crate::hash::sha256_hex;
use crate::time::now_rfc3339;
use serde::Serialize;
use std::io::{self, Write};

/// What a sink (or a batch runner) delivered. Never carries record content.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Receipt {
    pub tool: String,
    pub target: String,
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<i64>,
    /// Where a file transfer put the file on the server (sftp-put).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_path: Option<String>,
    pub time: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// A mail's Message-ID header, with its angle brackets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// A mail's envelope recipients (To, Cc and Bcc).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipients: Option<Vec<String>>,
    /// The files a mail carried, each with its own size and hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<FileDigest>>,
    /// Values a sink took from the remote's answer, by name (http-post
    /// --receipt-field): ids and statuses, never record content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<serde_json::Map<String, serde_json::Value>>,
    /// What could not be taken from the answer of a request the remote
    /// accepted (http-post --id-from, --receipt-field); never a value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extract_error: Option<String>,
}

/// A file inside a delivered item (a mail's attachment): name, size, hash.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FileDigest {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

impl FileDigest {
    pub fn of(name: &str, bytes: &[u8]) -> FileDigest {
        FileDigest {
            name: name.into(),
            bytes: bytes.len() as u64,
            sha256: sha256_hex(bytes),
        }
    }
}

impl Receipt {
    /// A receipt for `bytes` delivered to `target` as `name`, stamped now.
    pub fn for_bytes(tool: &str, target: &str, name: &str, bytes: &[u8]) -> Receipt {
        Receipt {
            tool: tool.into(),
            target: target.into(),
            name: name.into(),
            bytes: bytes.len() as u64,
            sha256: sha256_hex(bytes),
            time: now_rfc3339(),
            ..Receipt::default()
        }
    }

    /// Write the receipt as one JSON line.
    pub fn write_to<W: Write>(&self, out: &mut W) -> io::Result<()> {
        serde_json::to_writer(&mut *out, self)?;
        out.write_all(b"\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_is_one_json_line_with_hash() -> io::Result<()> {
        let r = Receipt::for_bytes("t", "dir", "a.csv", b"abc");
        let mut out = Vec::new();
        r.write_to(&mut out)?;
        let text = String::from_utf8_lossy(&out);
        assert!(text.ends_with("}\n") && text.matches('\n').count() == 1);
        assert!(text.contains(
            "\"sha256\":\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\""
        ));
        assert!(!text.contains("dry_run"));
        assert!(!text.contains("message_id") && !text.contains("attachments"));
        assert!(!text.contains("fields"));
        Ok(())
    }

    #[test]
    fn fields_from_the_answer_are_one_object() -> io::Result<()> {
        let mut fields = serde_json::Map::new();
        fields.insert("reqcheck_status".into(), "partial_failure".into());
        fields.insert("error_objects_ids".into(), serde_json::json!([3, 7]));
        let r = Receipt {
            status: Some(201),
            fields: Some(fields),
            ..Receipt::for_bytes("t", "https://h/patient_data", "-", b"{}")
        };
        let mut out = Vec::new();
        r.write_to(&mut out)?;
        let v: serde_json::Value = serde_json::from_slice(&out)?;
        assert_eq!(v["status"], 201);
        assert_eq!(v["fields"]["reqcheck_status"], "partial_failure");
        assert_eq!(v["fields"]["error_objects_ids"], serde_json::json!([3, 7]));
        Ok(())
    }

    #[test]
    fn mail_fields_are_additive() -> io::Result<()> {
        let r = Receipt {
            message_id: Some("<a@b>".into()),
            recipients: Some(vec!["x@b".into()]),
            attachments: Some(vec![FileDigest::of("a.csv", b"abc")]),
            ..Receipt::for_bytes("t", "smtp://h:587", "<a@b>", b"mail")
        };
        let mut out = Vec::new();
        r.write_to(&mut out)?;
        let v: serde_json::Value = serde_json::from_slice(&out)?;
        assert_eq!(v["message_id"], "<a@b>");
        assert_eq!(v["recipients"][0], "x@b");
        assert_eq!(v["attachments"][0]["name"], "a.csv");
        assert_eq!(v["attachments"][0]["bytes"], 3);
        assert_eq!(
            v["attachments"][0]["sha256"],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        Ok(())
    }
}
