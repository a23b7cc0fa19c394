//! Folders: listings page by page (limit and offset), paths resolved by
//! name from a root folder, missing folders created, and the id of an
//! existing item taken from a 409's context_info.conflicts (an object in
//! some answers, a list in others).

use super::BoxClient;
use crate::error::{Error, Result};
use crate::http::url::encode_path_segment;
use crate::http::{Method, Request};
use crate::json::id_text;
use serde_json::{Value, json};
use std::collections::VecDeque;

/// The fields asked for in listings: Box's short form has no size.
pub const LIST_FIELDS: &str = "type,id,name,size,sha1,etag,modified_at";

/// The largest page Box gives.
pub const MAX_PAGE_SIZE: u64 = 1000;

/// An item named in a 409's context_info.conflicts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Conflict {
    /// "file" or "folder".
    pub kind: String,
    pub id: String,
    pub name: Option<String>,
    /// The sha1 of a file's current version.
    pub sha1: Option<String>,
    pub etag: Option<String>,
}

/// The items of a 409 answer's context_info.conflicts, an object or a list.
pub fn conflicts(body: &Value) -> Vec<Conflict> {
    let found = body.get("context_info").and_then(|c| c.get("conflicts"));
    let items: Vec<&Value> = match found {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(object @ Value::Object(_)) => vec![object],
        _ => Vec::new(),
    };
    items
        .into_iter()
        .filter_map(|item| {
            let text = |v: Option<&Value>| match v? {
                Value::String(s) if !s.is_empty() => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            };
            Some(Conflict {
                kind: text(item.get("type")).unwrap_or_default(),
                id: text(item.get("id"))?,
                name: text(item.get("name")),
                sha1: text(item.get("sha1"))
                    .or_else(|| text(item.get("file_version").and_then(|v| v.get("sha1")))),
                etag: text(item.get("etag")),
            })
        })
        .collect()
}

/// A folder's entries, fetched a page at a time as they are read.
#[derive(Debug)]
pub struct FolderItems<'a> {
    client: &'a BoxClient,
    folder: String,
    page_size: u64,
    offset: u64,
    total: Option<u64>,
    buffer: VecDeque<Value>,
    done: bool,
}

impl FolderItems<'_> {
    /// The next page of entries (as Box gives them: type, id, name, size,
    /// sha1, etag, modified_at), None after the last.
    pub fn next_page(&mut self) -> Result<Option<Vec<Value>>> {
        if !self.buffer.is_empty() {
            return Ok(Some(self.buffer.drain(..).collect()));
        }
        if self.done {
            return Ok(None);
        }
        let url = self.client.api(&format!(
            "/folders/{}/items?fields={LIST_FIELDS}&limit={}&offset={}",
            encode_path_segment(&self.folder),
            self.page_size,
            self.offset
        ));
        let response = self
            .client
            .send_checked(&Request::get(url).header("accept", "application/json"))
            .map_err(|e| e.context(format!("listing folder {}", self.folder)))?;
        let value = response.json()?;
        let entries = match value.get("entries") {
            Some(Value::Array(entries)) => entries.clone(),
            _ => {
                return Err(Error::unavailable(format!(
                    "{}: the listing of folder {} has no entries list",
                    response.at(),
                    self.folder
                )));
            }
        };
        if let Some(total) = value.get("total_count").and_then(Value::as_u64) {
            self.total = Some(total);
        }
        self.offset += entries.len() as u64;
        self.done = entries.is_empty()
            || (entries.len() as u64) < self.page_size && self.total.is_none()
            || self.total.is_some_and(|total| self.offset >= total);
        if entries.is_empty() {
            return Ok(None);
        }
        Ok(Some(entries))
    }
}

impl Iterator for FolderItems<'_> {
    type Item = Result<Value>;

    fn next(&mut self) -> Option<Result<Value>> {
        if self.buffer.is_empty() {
            match self.next_page() {
                Ok(Some(page)) => self.buffer.extend(page),
                Ok(None) => return None,
                Err(error) => {
                    self.done = true;
                    return Some(Err(error));
                }
            }
        }
        self.buffer.pop_front().map(Ok)
    }
}

/// What resolving a path found without creating anything (a dry run).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathPlan {
    /// The folder's id, when the whole path exists.
    pub id: Option<String>,
    /// The path of the deepest folder that exists ("" for the root).
    pub existing: String,
    /// The folders that --mkdir would create, from the top.
    pub missing: Vec<String>,
}

impl BoxClient {
    /// The entries of folder `id`, `page_size` a request (1 to 1000):
    /// iterate for the entries, or call `next_page` for whole pages.
    pub fn folder_items(&self, id: &str, page_size: u64) -> FolderItems<'_> {
        FolderItems {
            client: self,
            folder: id.to_string(),
            page_size: page_size.clamp(1, MAX_PAGE_SIZE),
            offset: 0,
            total: None,
            buffer: VecDeque::new(),
            done: false,
        }
    }

    /// The id of the folder at `path` ("A/B/C", by name from folder
    /// `root`). A missing folder is created when `mkdir`, else exit 69;
    /// one that exists already when created (409) is used.
    pub fn resolve_path(&self, root: &str, path: &str, mkdir: bool) -> Result<String> {
        let mut id = root.to_string();
        let mut walked = Vec::new();
        for name in path_segments(path)? {
            walked.push(name);
            let at = walked.join("/");
            id = match self.child_folder(&id, name)? {
                Some(child) => child,
                None if mkdir => self.create_folder(&id, name)?.0,
                None => {
                    return Err(Error::unavailable(format!(
                        "folder {at:?} not found under folder {root} (--mkdir creates it)"
                    )));
                }
            };
        }
        Ok(id)
    }

    /// Resolve `path` as [`BoxClient::resolve_path`] does, creating
    /// nothing: which folders exist, and which --mkdir would create.
    pub fn plan_path(&self, root: &str, path: &str) -> Result<PathPlan> {
        let mut id = root.to_string();
        let mut existing = Vec::new();
        let segments = path_segments(path)?;
        for (i, name) in segments.iter().enumerate() {
            match self.child_folder(&id, name)? {
                Some(child) => {
                    id = child;
                    existing.push(*name);
                }
                None => {
                    let mut missing = Vec::new();
                    let mut at = existing.clone();
                    for name in &segments[i..] {
                        at.push(*name);
                        missing.push(at.join("/"));
                    }
                    return Ok(PathPlan {
                        id: None,
                        existing: existing.join("/"),
                        missing,
                    });
                }
            }
        }
        Ok(PathPlan {
            id: Some(id),
            existing: existing.join("/"),
            missing: Vec::new(),
        })
    }

    /// The id of the folder named `name` in folder `parent`, if there is
    /// one: the exact name first, else the one name that differs only in
    /// case (Box's names are unique regardless of case).
    pub fn child_folder(&self, parent: &str, name: &str) -> Result<Option<String>> {
        let mut other_case = Vec::new();
        for entry in self.folder_items(parent, MAX_PAGE_SIZE) {
            let entry = entry?;
            let (Some("folder"), Some(found), Some(id)) = (
                entry.get("type").and_then(Value::as_str),
                entry.get("name").and_then(Value::as_str),
                entry.get("id").and_then(id_text),
            ) else {
                continue;
            };
            if found == name {
                return Ok(Some(id));
            }
            if found.to_lowercase() == name.to_lowercase() {
                other_case.push(id);
            }
        }
        Ok(match other_case.as_slice() {
            [id] => Some(id.clone()),
            _ => None,
        })
    }

    /// Create folder `name` in `parent`: its id, and whether it was made
    /// now (false: it existed, and Box's 409 named it).
    pub fn create_folder(&self, parent: &str, name: &str) -> Result<(String, bool)> {
        let body = json!({"name": name, "parent": {"id": parent}});
        let request = Request::with_body(
            Method::Post,
            self.api("/folders"),
            "application/json",
            body.to_string().into_bytes(),
        )
        .header("accept", "application/json");
        let response = self.send(&request)?;
        if response.status == 409 {
            let value = response.json()?;
            return match conflicts(&value).into_iter().find(|c| c.kind != "file") {
                Some(folder) => Ok((folder.id, false)),
                None => Err(Error::unavailable(format!(
                    "{}: HTTP 409: the name {name:?} in folder {parent} is taken by a file, not a folder",
                    response.at()
                ))),
            };
        }
        let response = self
            .check(response)
            .map_err(|e| e.context(format!("creating folder {name:?} in folder {parent}")))?;
        let value = response.json()?;
        let id = value.get("id").and_then(id_text).ok_or_else(|| {
            Error::unavailable(format!("{}: the new folder has no id", response.at()))
        })?;
        Ok((id, true))
    }
}

/// The names of a path: split on `/`, empty parts skipped; `.` and `..`
/// are refused (64), since Box folders have no such names.
fn path_segments(path: &str) -> Result<Vec<&str>> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segments.iter().any(|s| *s == "." || *s == "..") {
        return Err(Error::usage(format!(
            "--path {path:?}: . and .. are not folder names on Box"
        )));
    }
    Ok(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicts_come_as_an_object_or_a_list() {
        let object = json!({"type": "error", "status": 409, "code": "item_name_in_use",
            "context_info": {"conflicts": {"type": "file", "id": "12345", "name": "a.csv",
                "etag": "1", "file_version": {"type": "file_version", "id": "9", "sha1": "abc"}}}});
        assert_eq!(
            conflicts(&object),
            vec![Conflict {
                kind: "file".into(),
                id: "12345".into(),
                name: Some("a.csv".into()),
                sha1: Some("abc".into()),
                etag: Some("1".into()),
            }]
        );
        let list = json!({"context_info": {"conflicts": [
            {"type": "folder", "id": 77, "name": "05-07-2020"},
            {"type": "file", "id": "8", "sha1": "def"}]}});
        let found = conflicts(&list);
        assert_eq!(found.len(), 2);
        assert_eq!(
            (found[0].kind.as_str(), found[0].id.as_str()),
            ("folder", "77")
        );
        assert_eq!(found[1].sha1.as_deref(), Some("def"));
        assert!(conflicts(&json!({"code": "item_name_in_use"})).is_empty());
        assert!(conflicts(&json!({"context_info": {"conflicts": [{"type": "file"}]}})).is_empty());
    }

    #[test]
    fn paths_split_on_slashes() -> Result<()> {
        assert_eq!(
            path_segments("/Parent/Daily Drive Thru Documents//05-07-2020/")?,
            vec!["Parent", "Daily Drive Thru Documents", "05-07-2020"]
        );
        assert!(path_segments("")?.is_empty());
        assert_eq!(path_segments("a/../b").map_err(|e| e.code()), Err(64));
        Ok(())
    }
}
