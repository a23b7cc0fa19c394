//! One file: uploaded as a new file; when the name is in use, a new
//! version, left alone, or a failure, as --on-conflict says. Content that
//! Box already has (the same sha1) is not uploaded again, unless --force.

use crate::args::{MIN_SESSION_BYTES, OnConflict, Options};
use crate::chunked::{self, Opened};
use crate::simple::{upload_request, uploaded_entry};
use crate::source::Local;
use common::boxapi::{BoxClient, Conflict, conflicts};
use common::http::url::encode_path_segment;
use common::{Error, Result};
use serde_json::{Value, json};

/// What happened to a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Uploaded as a new file.
    Upload,
    /// Uploaded as a new version of the file of that name.
    Version,
    /// Box's file of that name has the same content: nothing sent.
    Unchanged,
    /// Box's file of that name differs and was left alone (--on-conflict skip).
    Skipped,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Upload => "upload",
            Action::Version => "version",
            Action::Unchanged => "unchanged",
            Action::Skipped => "skipped",
        }
    }
}

/// The outcome of one file.
#[derive(Debug)]
pub struct Delivered {
    pub action: Action,
    /// The HTTP status of the answer that delivered it (None when nothing was sent).
    pub status: Option<u16>,
    /// The Box file: id, etag, sha1, ...
    pub file: Value,
    /// "simple" or "chunked", when something was uploaded.
    pub method: Option<&'static str>,
}

/// Whether a file goes in an upload session.
pub fn is_chunked(options: &Options, bytes: u64) -> bool {
    bytes > options.args.chunked_threshold && bytes >= MIN_SESSION_BYTES
}

/// Upload one file into `folder`.
pub fn deliver(
    client: &BoxClient,
    options: &Options,
    folder: &str,
    local: &mut Local,
) -> Result<Delivered> {
    let timeout = options.args.boxapi.transport.timeout;
    let chunked = is_chunked(options, local.bytes);
    let method = if chunked { "chunked" } else { "simple" };
    let found = if chunked {
        match chunked::upload_new(client, folder, local, timeout)? {
            Opened::Uploaded(status, file) => {
                return uploaded(Action::Upload, status, file, method, local);
            }
            Opened::NameInUse(found) => found,
        }
    } else {
        let attributes = attributes(local, Some(folder));
        let request = upload_request(client.upload("/files/content"), &attributes, local, timeout)?;
        let response = client.send(&request)?;
        if response.status == 409 {
            conflicts(&response.json()?)
        } else {
            let response = client
                .check(response)
                .map_err(|e| e.context(format!("{}: upload", local.label)))?;
            let file = uploaded_entry(&response.json()?, &response.at())?;
            return uploaded(Action::Upload, response.status, file, method, local);
        }
    };
    let existing = existing_file(client, folder, local, &found)?;
    match decide(options, local, &existing)? {
        Some(action) => Ok(Delivered {
            action,
            status: None,
            file: existing,
            method: None,
        }),
        None => {
            let id = text(&existing, "id");
            let (status, file) = if chunked {
                chunked::upload_version(client, &id, local, timeout)?
            } else {
                let url = client.upload(&format!("/files/{}/content", encode_path_segment(&id)));
                let request = upload_request(url, &attributes(local, None), local, timeout)?;
                let response = client
                    .send_checked(&request)
                    .map_err(|e| e.context(format!("{}: new version of file {id}", local.label)))?;
                let file = uploaded_entry(&response.json()?, &response.at())?;
                (response.status, file)
            };
            uploaded(Action::Version, status, file, method, local)
        }
    }
}

/// What --on-conflict does with a name in use by `existing`: Some(action)
/// when nothing is to be sent, None for a new version; --on-conflict fail
/// is exit 69.
pub fn decide(options: &Options, local: &Local, existing: &Value) -> Result<Option<Action>> {
    let same = existing
        .get("sha1")
        .and_then(Value::as_str)
        .is_some_and(|sha1| sha1.eq_ignore_ascii_case(&local.sha1));
    match options.args.on_conflict {
        OnConflict::Fail => Err(Error::unavailable(format!(
            "{}: the folder already has a file named {:?} (file {}); not uploaded (--on-conflict fail)",
            local.label,
            local.name,
            text(existing, "id")
        ))),
        OnConflict::Skip if same => Ok(Some(Action::Unchanged)),
        OnConflict::Skip => Ok(Some(Action::Skipped)),
        OnConflict::Version if same && !options.args.force => Ok(Some(Action::Unchanged)),
        OnConflict::Version => Ok(None),
    }
}

/// The file a 409 named: a file (not a folder), with its sha1 and etag
/// (asked for when the answer lacks them).
fn existing_file(
    client: &BoxClient,
    folder: &str,
    local: &Local,
    found: &[Conflict],
) -> Result<Value> {
    let Some(conflict) = found.first() else {
        return Err(Error::unavailable(format!(
            "{}: Box says the name {:?} is in use in folder {folder} (409) but names no item",
            local.label, local.name
        )));
    };
    if conflict.kind == "folder" || conflict.kind == "web_link" {
        return Err(Error::unavailable(format!(
            "{}: the name {:?} in folder {folder} is taken by a {} ({}), not a file",
            local.label, local.name, conflict.kind, conflict.id
        )));
    }
    if conflict.sha1.is_some() && conflict.etag.is_some() {
        return Ok(json!({
            "type": "file", "id": conflict.id, "name": conflict.name.as_deref().unwrap_or(&local.name),
            "sha1": conflict.sha1, "etag": conflict.etag,
        }));
    }
    client.file_info(&conflict.id)
}

fn uploaded(
    action: Action,
    status: u16,
    file: Value,
    method: &'static str,
    local: &Local,
) -> Result<Delivered> {
    if let Some(sha1) = file.get("sha1").and_then(Value::as_str)
        && !sha1.eq_ignore_ascii_case(&local.sha1)
    {
        return Err(Error::unavailable(format!(
            "{}: Box's sha1 of the uploaded file (file {}) differs from the file's",
            local.label,
            text(&file, "id")
        )));
    }
    Ok(Delivered {
        action,
        status: Some(status),
        file,
        method: Some(method),
    })
}

/// The attributes part: the name, the parent for a new file, and the
/// file's modification time.
fn attributes(local: &Local, parent: Option<&str>) -> Value {
    let mut attributes = json!({"name": local.name});
    if let Some(parent) = parent {
        attributes["parent"] = json!({"id": parent});
    }
    if let Some(modified) = &local.modified_at {
        attributes["content_modified_at"] = json!(modified);
    }
    attributes
}

/// A field of an item as text ("" when missing).
pub fn text(value: &Value, field: &str) -> String {
    match value.get(field) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}
