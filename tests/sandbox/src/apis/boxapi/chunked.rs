//! Chunked uploads: sessions for a new file or a new version, parts checked against the
//! session's part boundaries and their `Digest`, a commit that answers 202 the first time
//! and 201 the next, and abort.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Value, json};

use super::items::{id_text, json_body};
use super::tree::check_name;
use super::{MIN_SESSION_FILE_SIZE, PART_SIZE, Store, conflicts_as_list, error, hex};
use crate::apis::support::random_from;
use crate::http::{Request, Response};

const HEX_UPPER: &[u8] = b"0123456789ABCDEF";
/// How long a session lasts (Box's are about a week).
const SESSION_DAYS: i64 = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    Committed,
    Aborted,
}

impl State {
    fn text(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Committed => "committed",
            State::Aborted => "aborted",
        }
    }
}

struct StoredPart {
    part_id: String,
    size: u64,
    sha1: String,
    data: Vec<u8>,
}

struct Session {
    id: String,
    state: State,
    folder_id: String,
    file_name: String,
    /// The file a new version is for.
    file_id: Option<String>,
    file_size: u64,
    part_size: u64,
    total_parts: u64,
    /// By offset.
    parts: BTreeMap<u64, StoredPart>,
    commit_attempts: u32,
    expires_at: String,
    /// The sha1 of the parts as they stand (computed at the first commit, cleared by a new part).
    whole_sha1: Option<Vec<u8>>,
    result_file_id: Option<String>,
}

impl Session {
    fn json(&self, base_url: &str) -> Value {
        let url = format!(
            "{base_url}/upload/api/2.0/files/upload_sessions/{}",
            self.id
        );
        json!({
            "id": self.id, "type": "upload_session",
            "session_expires_at": self.expires_at,
            "part_size": self.part_size, "total_parts": self.total_parts,
            "num_parts_processed": self.parts.len(),
            "session_endpoints": {
                "upload_part": url, "commit": format!("{url}/commit"), "abort": url,
                "list_parts": format!("{url}/parts"), "status": url,
                "log_event": format!("{url}/log"),
            },
        })
    }

    fn parts_json(&self) -> Vec<Value> {
        self.parts
            .iter()
            .map(|(offset, p)| {
                json!({"part_id": p.part_id, "offset": offset, "size": p.size, "sha1": p.sha1})
            })
            .collect()
    }
}

#[derive(Default)]
pub(super) struct Sessions {
    list: BTreeMap<String, Session>,
}

impl Sessions {
    pub(super) fn len(&self) -> usize {
        self.list.len()
    }

    pub(super) fn state(&self) -> Value {
        let list: Vec<Value> = self
            .list
            .values()
            .map(|s| {
                json!({"id": s.id, "state": s.state.text(), "folder_id": s.folder_id,
                       "file_name": s.file_name, "file_id": s.file_id,
                       "file_size": s.file_size, "part_size": s.part_size,
                       "total_parts": s.total_parts, "parts": s.parts_json(),
                       "commit_attempts": s.commit_attempts,
                       "result_file_id": s.result_file_id})
            })
            .collect();
        Value::Array(list)
    }

    /// An open or committed session; 404 for an unknown or aborted one.
    fn get_mut(&mut self, id: &str) -> Result<&mut Session, Response> {
        self.list
            .get_mut(id)
            .filter(|s| s.state != State::Aborted)
            .ok_or_else(|| error(404, "not_found", "Not Found"))
    }
}

fn u64_field(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// `POST .../files/upload_sessions` `{"folder_id","file_size","file_name"}`, or
/// `POST .../files/{id}/upload_sessions` `{"file_size"[,"file_name"]}` for a new version.
pub(super) fn create(store: &mut Store, req: &Request, file_id: Option<&str>) -> Response {
    let body = match json_body(req) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let Some(file_size) = u64_field(&body["file_size"]).filter(|s| *s > 0) else {
        return error(
            400,
            "bad_request",
            "file_size is required (a positive integer)",
        );
    };
    let part_size = match req.header("x-sandbox-part-size") {
        None => PART_SIZE,
        Some(v) => match v.trim().parse::<u64>() {
            Ok(size) if size > 0 => size,
            _ => {
                return error(
                    400,
                    "bad_request",
                    "x-sandbox-part-size must be a positive integer",
                );
            }
        },
    };
    if req.header("x-sandbox-part-size").is_none() && file_size < MIN_SESSION_FILE_SIZE {
        return error(
            400,
            "file_size_too_small",
            "File size is less than the minimum allowed for this API: 20000000",
        );
    }
    let as_list = conflicts_as_list(req, true);
    let tree = &store.tree;
    let (folder_id, file_name) = match file_id {
        None => {
            let (Some(folder_id), Some(name)) =
                (id_text(&body["folder_id"]), body["file_name"].as_str())
            else {
                return error(400, "bad_request", "folder_id and file_name are required");
            };
            if let Err(response) = check_name(name) {
                return response;
            }
            if !tree.has_folder(&folder_id) {
                return error(404, "not_found", "Not Found");
            }
            if let Err(response) = tree.check_free(&folder_id, name, None, as_list) {
                return response;
            }
            (folder_id, name.to_string())
        }
        Some(id) => {
            let Some((parent, current)) = tree.file_parent_and_name(id) else {
                return error(404, "not_found", "Not Found");
            };
            let name = body["file_name"].as_str().map_or(current, str::to_string);
            if let Err(response) = check_name(&name) {
                return response;
            }
            if let Err(response) = tree.check_free(&parent, &name, Some(id), as_list) {
                return response;
            }
            (parent, name)
        }
    };
    let expires = chrono::Utc::now() + chrono::Duration::days(SESSION_DAYS);
    let session = Session {
        id: uuid::Uuid::new_v4()
            .simple()
            .to_string()
            .to_ascii_uppercase(),
        state: State::Open,
        folder_id,
        file_name,
        file_id: file_id.map(str::to_string),
        file_size,
        part_size,
        total_parts: file_size.div_ceil(part_size),
        parts: BTreeMap::new(),
        commit_attempts: 0,
        expires_at: expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        whole_sha1: None,
        result_file_id: None,
    };
    let answer = session.json(&req.base_url);
    store.sessions.list.insert(session.id.clone(), session);
    Response::json(201, &answer)
}

/// `GET .../files/upload_sessions/{id}`.
pub(super) fn status(sessions: &Sessions, req: &Request, id: &str) -> Response {
    match sessions.list.get(id).filter(|s| s.state != State::Aborted) {
        Some(session) => Response::json(200, &session.json(&req.base_url)),
        None => error(404, "not_found", "Not Found"),
    }
}

/// `GET .../files/upload_sessions/{id}/parts`.
pub(super) fn parts(sessions: &Sessions, _req: &Request, id: &str) -> Response {
    match sessions.list.get(id).filter(|s| s.state != State::Aborted) {
        Some(session) => {
            let entries = session.parts_json();
            Response::json(
                200,
                &json!({"total_count": entries.len(), "entries": entries, "offset": 0,
                        "limit": 1000}),
            )
        }
        None => error(404, "not_found", "Not Found"),
    }
}

/// `bytes lo-hi/total`.
fn content_range(value: &str) -> Option<(u64, u64, u64)> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (lo, hi) = range.split_once('-')?;
    Some((
        lo.trim().parse().ok()?,
        hi.trim().parse().ok()?,
        total.trim().parse().ok()?,
    ))
}

/// The bytes of a `Digest: sha=<base64 sha1>` header.
fn digest(req: &Request) -> Result<Vec<u8>, Response> {
    let bad = || {
        error(
            400,
            "bad_request",
            "The Digest header must be sha=<base64 SHA-1>",
        )
    };
    let value = req.header("digest").ok_or_else(bad)?;
    let encoded = value
        .split(',')
        .filter_map(|d| d.trim().split_once('='))
        .find(|(alg, _)| alg.eq_ignore_ascii_case("sha"))
        .map(|(_, v)| v.trim())
        .ok_or_else(bad)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| bad())?;
    if bytes.len() == 20 {
        Ok(bytes)
    } else {
        Err(bad())
    }
}

fn sha1_mismatch() -> Response {
    error(
        412,
        "sha1_mismatch",
        "The SHA1 digest of the content does not match the Digest header",
    )
}

fn range_mismatch(message: &str) -> Response {
    error(416, "range_mismatch", message)
}

/// `PUT .../files/upload_sessions/{id}` with `Content-Range` and `Digest`.
pub(super) fn part(sessions: &mut Sessions, req: &Request, id: &str) -> Response {
    let session = match sessions.get_mut(id) {
        Ok(session) => session,
        Err(response) => return response,
    };
    if session.state == State::Committed {
        return error(
            400,
            "bad_request",
            "The upload session is already committed",
        );
    }
    let Some(range) = req.header("content-range") else {
        return error(400, "bad_request", "The Content-Range header is required");
    };
    let Some((lo, hi, total)) = content_range(range) else {
        return range_mismatch("The Content-Range header is not bytes lo-hi/total");
    };
    if total != session.file_size {
        return range_mismatch("The Content-Range total is not the session's file_size");
    }
    if lo % session.part_size != 0 || lo >= total {
        return range_mismatch("A part must start at a multiple of the part size");
    }
    let expected = session.part_size.min(total - lo);
    if hi != lo + expected - 1 {
        return range_mismatch("Every part must be exactly part_size bytes, except the last");
    }
    if req.body.len() as u64 != expected {
        return range_mismatch("The body length does not match the Content-Range");
    }
    let want = match digest(req) {
        Ok(want) => want,
        Err(response) => return response,
    };
    let got = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &req.body);
    if got.as_ref() != want.as_slice() {
        return sha1_mismatch();
    }
    let stored = StoredPart {
        part_id: random_from(HEX_UPPER, 8),
        size: expected,
        sha1: hex(got.as_ref()),
        data: req.body.clone(),
    };
    let answer = json!({"part": {"part_id": stored.part_id, "offset": lo, "size": stored.size,
                                 "sha1": stored.sha1}});
    session.parts.insert(lo, stored);
    session.whole_sha1 = None;
    Response::json(200, &answer)
}

/// `DELETE .../files/upload_sessions/{id}`: 204, the parts dropped.
pub(super) fn abort(sessions: &mut Sessions, id: &str) -> Response {
    match sessions.list.get_mut(id) {
        Some(session) if session.state == State::Open => {
            session.state = State::Aborted;
            session.parts.clear();
            Response::empty(204)
        }
        _ => error(404, "not_found", "Not Found"),
    }
}

/// Checks the commit's `{"parts":[...]}` against the uploaded parts: all of them, in order.
fn check_parts(session: &Session, body: &Value) -> Result<(), Response> {
    let bad = |message: &str| error(400, "bad_request", message);
    let Some(listed) = body["parts"].as_array() else {
        return Err(bad("The body must hold a parts list"));
    };
    let covered: u64 = session.parts.values().map(|p| p.size).sum();
    if session.parts.len() as u64 != session.total_parts || covered != session.file_size {
        return Err(bad(
            "Parts are missing: upload every part before the commit",
        ));
    }
    if listed.len() != session.parts.len() {
        return Err(bad("The parts list does not name every uploaded part"));
    }
    for (given, (offset, stored)) in listed.iter().zip(&session.parts) {
        let same = given["part_id"] == stored.part_id.as_str()
            && u64_field(&given["offset"]) == Some(*offset)
            && u64_field(&given["size"]) == Some(stored.size)
            && given.get("sha1").is_none_or(|s| {
                s.as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case(&stored.sha1))
            });
        if !same {
            return Err(bad(
                "The parts list does not match the uploaded parts (ids, offsets, sizes, order)",
            ));
        }
    }
    Ok(())
}

/// `POST .../files/upload_sessions/{id}/commit` with `Digest` and `{"parts":[...]}`:
/// 202 with `Retry-After: 1` the first time, then 201 with the file list.
pub(super) fn commit(store: &mut Store, req: &Request, id: &str) -> Response {
    let session = match store.sessions.get_mut(id) {
        Ok(session) => session,
        Err(response) => return response,
    };
    if session.state == State::Committed {
        let file = session.result_file_id.clone().unwrap_or_default();
        return Response::json(201, &store.tree.file_list(&file));
    }
    let want = match digest(req) {
        Ok(want) => want,
        Err(response) => return response,
    };
    let body = match json_body(req) {
        Ok(body) => body,
        Err(response) => return response,
    };
    if let Err(response) = check_parts(session, &body) {
        return response;
    }
    let whole = match &session.whole_sha1 {
        Some(whole) => whole.clone(),
        None => {
            let mut context = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
            session.parts.values().for_each(|p| context.update(&p.data));
            let whole = context.finish().as_ref().to_vec();
            session.whole_sha1 = Some(whole.clone());
            whole
        }
    };
    if whole != want {
        return sha1_mismatch();
    }
    session.commit_attempts += 1;
    if session.commit_attempts == 1 {
        return Response::empty(202).with_header("retry-after", "1");
    }
    // The folder, the name and the file may have changed since the session opened.
    let tree = &store.tree;
    let as_list = conflicts_as_list(req, true);
    let checked = match &session.file_id {
        None if !tree.has_folder(&session.folder_id) => Err(error(404, "not_found", "Not Found")),
        None => tree.check_free(&session.folder_id, &session.file_name, None, as_list),
        Some(file) if !tree.has_file(file) => Err(error(404, "not_found", "Not Found")),
        Some(file) => tree.check_free(&session.folder_id, &session.file_name, Some(file), as_list),
    };
    if let Err(response) = checked {
        return response;
    }
    let mut content = Vec::with_capacity(usize::try_from(session.file_size).unwrap_or(0));
    for part in std::mem::take(&mut session.parts).into_values() {
        content.extend_from_slice(&part.data);
    }
    let sha1 = hex(&whole);
    let modified = body["attributes"]["content_modified_at"]
        .as_str()
        .map(str::to_string);
    let file_id = match session.file_id.clone() {
        None => store.tree.add_file(
            &session.folder_id,
            &session.file_name,
            content,
            &sha1,
            modified,
        ),
        Some(file) => {
            store
                .tree
                .add_version(&file, content, &sha1, Some(&session.file_name));
            file
        }
    };
    session.state = State::Committed;
    session.result_file_id = Some(file_id.clone());
    Response::json(201, &store.tree.file_list(&file_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges_parse() {
        assert_eq!(content_range("bytes 0-9/20"), Some((0, 9, 20)));
        assert_eq!(content_range(" bytes 10-19/20 "), Some((10, 19, 20)));
        assert_eq!(content_range("bytes 0-9"), None);
        assert_eq!(content_range("items 0-9/20"), None);
    }
}
