//! Upload sessions for big files: the session gives the part size; every
//! part but the last is exactly that long and goes with its Content-Range
//! and `Digest: sha=<base64 sha1>`; the commit lists the parts and carries
//! the whole file's Digest, and is sent again while Box answers 202. Any
//! failure after the session is open aborts it (DELETE), so that nothing
//! half-uploaded is left behind.

use crate::TOOL;
use crate::progress::Progress;
use crate::simple::{upload_timeout, uploaded_entry};
use crate::source::{Local, sha1_base64};
use common::boxapi::{BoxClient, Conflict, conflicts};
use common::http::url::encode_path_segment;
use common::http::{Method, Request};
use common::{Error, Result};
use serde_json::{Value, json};

/// An open upload session.
#[derive(Debug)]
struct Session {
    id: String,
    part_size: u64,
    total_parts: u64,
}

/// What opening a session for a new file came to.
#[derive(Debug)]
pub enum Opened {
    Uploaded(u16, Value),
    NameInUse(Vec<Conflict>),
}

/// Upload `local` as a new file named `local.name` in `folder`.
pub fn upload_new(
    client: &BoxClient,
    folder: &str,
    local: &mut Local,
    timeout_secs: u64,
) -> Result<Opened> {
    let body = json!({"folder_id": folder, "file_size": local.bytes, "file_name": local.name});
    let request = json_request(client.upload("/files/upload_sessions"), &body);
    let response = client.send(&request)?;
    if response.status == 409 {
        return Ok(Opened::NameInUse(conflicts(&response.json()?)));
    }
    let response = client
        .check(response)
        .map_err(|e| e.context(format!("{}: opening an upload session", local.label)))?;
    let session = session_of(&response.json()?, local, &response.at())?;
    send_parts_and_commit(client, &session, local, timeout_secs)
        .map(|(status, entry)| Opened::Uploaded(status, entry))
}

/// Upload `local` as a new version of file `file_id`.
pub fn upload_version(
    client: &BoxClient,
    file_id: &str,
    local: &mut Local,
    timeout_secs: u64,
) -> Result<(u16, Value)> {
    let body = json!({"file_size": local.bytes, "file_name": local.name});
    let url = client.upload(&format!(
        "/files/{}/upload_sessions",
        encode_path_segment(file_id)
    ));
    let response = client
        .send_checked(&json_request(url, &body))
        .map_err(|e| e.context(format!("{}: opening an upload session", local.label)))?;
    let session = session_of(&response.json()?, local, &response.at())?;
    send_parts_and_commit(client, &session, local, timeout_secs)
}

/// The parts, then the commit; on any failure the session is aborted.
fn send_parts_and_commit(
    client: &BoxClient,
    session: &Session,
    local: &mut Local,
    timeout_secs: u64,
) -> Result<(u16, Value)> {
    match parts_and_commit(client, session, local, timeout_secs) {
        Ok(done) => Ok(done),
        Err(error) => {
            abort(client, session, &local.label);
            Err(error)
        }
    }
}

fn parts_and_commit(
    client: &BoxClient,
    session: &Session,
    local: &mut Local,
    timeout_secs: u64,
) -> Result<(u16, Value)> {
    let session_url = client.upload(&format!(
        "/files/upload_sessions/{}",
        encode_path_segment(&session.id)
    ));
    let mut progress = Progress::new(&local.name, local.bytes);
    let mut parts = Vec::new();
    for number in 0..session.total_parts {
        let offset = number * session.part_size;
        let len = session.part_size.min(local.bytes - offset);
        let data = local.read_range(offset, usize::try_from(len).unwrap_or(usize::MAX))?;
        let mut request = Request::with_body(
            Method::Put,
            session_url.clone(),
            "application/octet-stream",
            data,
        )
        .header(
            "content-range",
            format!("bytes {offset}-{}/{}", offset + len - 1, local.bytes),
        )
        .header("accept", "application/json");
        let digest = format!(
            "sha={}",
            sha1_base64(request.body.as_deref().unwrap_or(&[]))
        );
        request = request.header("digest", digest);
        request.timeout = Some(upload_timeout(timeout_secs, len));
        let response = client.send_checked(&request).map_err(|e| {
            e.context(format!(
                "{}: part {} of {}",
                local.label,
                number + 1,
                session.total_parts
            ))
        })?;
        let part = response
            .json()?
            .get("part")
            .filter(|p| p.is_object())
            .cloned()
            .ok_or_else(|| {
                Error::unavailable(format!(
                    "{}: the answer to part {} names no part",
                    response.at(),
                    number + 1
                ))
            })?;
        parts.push(part);
        progress.advance(len);
    }
    progress.finish();
    let mut body = json!({"parts": parts});
    if let Some(modified) = &local.modified_at {
        body["attributes"] = json!({"content_modified_at": modified});
    }
    let request = json_request(format!("{session_url}/commit"), &body)
        .header("digest", format!("sha={}", local.sha1_base64));
    let response = client
        .send_until_ready(&request)
        .and_then(|response| client.check(response))
        .map_err(|e| e.context(format!("{}: committing the upload session", local.label)))?;
    let entry = uploaded_entry(&response.json()?, &response.at())?;
    Ok((response.status, entry))
}

/// Abort the session; a failure to do so is a warning (the session
/// expires on its own), the upload's own error is what counts.
fn abort(client: &BoxClient, session: &Session, label: &str) {
    let url = client.upload(&format!(
        "/files/upload_sessions/{}",
        encode_path_segment(&session.id)
    ));
    if let Err(error) = client.send_checked(&Request::new(Method::Delete, url)) {
        common::cli::warn(
            TOOL,
            format!(
                "{label}: the upload session could not be aborted (Box drops it when it expires): {}",
                error.message()
            ),
        );
    }
}

fn json_request(url: String, body: &Value) -> Request {
    Request::with_body(
        Method::Post,
        url,
        "application/json",
        body.to_string().into_bytes(),
    )
    .header("accept", "application/json")
}

/// The session of Box's answer, its parts checked against the file size.
fn session_of(value: &Value, local: &Local, at: &str) -> Result<Session> {
    let bad = |why: &str| Error::unavailable(format!("{at}: the upload session {why}"));
    let id = match value.get("id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(bad("has no id")),
    };
    let part_size = value
        .get("part_size")
        .and_then(Value::as_u64)
        .filter(|&size| size > 0)
        .ok_or_else(|| bad("has no part_size"))?;
    let expected = local.bytes.div_ceil(part_size);
    let total_parts = value
        .get("total_parts")
        .and_then(Value::as_u64)
        .unwrap_or(expected);
    if total_parts != expected {
        return Err(bad(&format!(
            "asks for {total_parts} parts of {part_size} bytes for {} bytes",
            local.bytes
        )));
    }
    Ok(Session {
        id,
        part_size,
        total_parts,
    })
}
