//! Box's folders and files in memory: the seeded tree, names, conflicts, and the JSON
//! forms Box answers with (mini, listing entry, full).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::{Value, json};

use super::{error, error_with, now_text, sha1_hex};
use crate::http::Response;

/// The default `limit` of folder listings (and the items a folder shows).
pub(super) const DEFAULT_LIMIT: usize = 100;
/// Names longer than this are refused.
const MAX_NAME_CHARS: usize = 255;

/// The seed: (id, parent id, name).
const SEED_FOLDERS: &[(&str, &str, &str)] = &[
    ("100001", "0", "Parent"),
    ("100002", "100001", "Daily Drive Thru Documents"),
    ("100003", "100001", "transportation"),
    ("100004", "100001", "Business Liaisons"),
    ("100005", "100004", "to city"),
    ("100006", "100004", "from city"),
    ("100007", "100001", "processed"),
    ("100008", "100007", "success"),
    ("100009", "100007", "error"),
    ("100010", "100001", "Printer PDFs"),
];

/// The seeded files (id, parent id, name, content): synthetic CSV.
const SEED_FILES: &[(&str, &str, &str, &str)] = &[
    (
        "200001",
        "100006",
        "approvals-2020-05-07.csv",
        "request_id,facility,item,quantity,approved\nREQ-0001,Facility A,gloves,200,Y\nREQ-0002,Facility B,masks,150,N\n",
    ),
    (
        "200002",
        "100006",
        "approvals-2020-05-08.csv",
        "request_id,facility,item,quantity,approved\nREQ-0003,Facility C,gowns,40,Y\n",
    ),
];

pub(super) struct Folder {
    pub(super) id: String,
    pub(super) name: String,
    /// None for the root.
    pub(super) parent: Option<String>,
    pub(super) created_at: String,
}

pub(super) struct Version {
    pub(super) id: String,
    pub(super) sha1: String,
    pub(super) size: u64,
}

pub(super) struct File {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) parent: String,
    /// Oldest first; the last is the current one.
    pub(super) versions: Vec<Version>,
    /// The current content (older versions keep only their sha1 and size).
    pub(super) content: Arc<Vec<u8>>,
    pub(super) created_at: String,
    pub(super) modified_at: String,
    pub(super) content_modified_at: String,
}

impl File {
    fn current(&self) -> &Version {
        self.versions.last().expect("a file has a version")
    }

    fn etag(&self) -> String {
        (self.versions.len() - 1).to_string()
    }
}

/// An item found by name in a folder.
pub(super) enum Item<'a> {
    Folder(&'a Folder),
    File(&'a File),
}

impl Item<'_> {
    fn id(&self) -> &str {
        match self {
            Item::Folder(f) => &f.id,
            Item::File(f) => &f.id,
        }
    }
}

pub(super) struct Tree {
    pub(super) folders: BTreeMap<String, Folder>,
    pub(super) files: BTreeMap<String, File>,
    /// Download key -> the content it serves.
    pub(super) downloads: HashMap<String, Arc<Vec<u8>>>,
    next_id: u64,
    next_version: u64,
}

/// 400 `item_name_invalid` / `item_name_too_long`, as Box checks names.
pub(super) fn check_name(name: &str) -> Result<(), Response> {
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(error(400, "item_name_too_long", "Item name too long"));
    }
    let bad = name.is_empty()
        || name == "."
        || name == ".."
        || name.contains(['/', '\\'])
        || name.chars().any(char::is_control)
        || name.trim() != name;
    if bad {
        return Err(error(400, "item_name_invalid", "Item name invalid"));
    }
    Ok(())
}

fn user() -> Value {
    json!({"type": "user", "id": "900101", "name": "Sandbox Service Account",
           "login": "AutomationUser_900001_sandbox@boxdevedition.com"})
}

impl Tree {
    pub(super) fn seed() -> Tree {
        let now = now_text();
        let mut tree = Tree {
            folders: BTreeMap::new(),
            files: BTreeMap::new(),
            downloads: HashMap::new(),
            next_id: 300_000,
            next_version: 500_000,
        };
        let root = Folder {
            id: "0".into(),
            name: "All Files".into(),
            parent: None,
            created_at: now.clone(),
        };
        tree.folders.insert(root.id.clone(), root);
        for (id, parent, name) in SEED_FOLDERS {
            let folder = Folder {
                id: (*id).into(),
                name: (*name).into(),
                parent: Some((*parent).into()),
                created_at: now.clone(),
            };
            tree.folders.insert(folder.id.clone(), folder);
        }
        for (id, parent, name, content) in SEED_FILES {
            let content = content.as_bytes().to_vec();
            let sha1 = sha1_hex(&content);
            tree.insert_file((*id).into(), parent, name, content, &sha1, None);
        }
        tree
    }

    pub(super) fn folder_count(&self) -> usize {
        self.folders.len()
    }

    pub(super) fn file_count(&self) -> usize {
        self.files.len()
    }

    fn new_id(&mut self) -> String {
        self.next_id += 1;
        self.next_id.to_string()
    }

    fn new_version(&mut self, sha1: &str, size: u64) -> Version {
        self.next_version += 1;
        Version {
            id: self.next_version.to_string(),
            sha1: sha1.to_string(),
            size,
        }
    }

    pub(super) fn has_folder(&self, id: &str) -> bool {
        self.folders.contains_key(id)
    }

    pub(super) fn has_file(&self, id: &str) -> bool {
        self.files.contains_key(id)
    }

    /// The item of that name in the folder (names compare case-insensitively, as Box's).
    pub(super) fn find(&self, folder: &str, name: &str) -> Option<Item<'_>> {
        let same = |other: &str| other.to_lowercase() == name.to_lowercase();
        if let Some(f) = self
            .folders
            .values()
            .find(|f| f.parent.as_deref() == Some(folder) && same(&f.name))
        {
            return Some(Item::Folder(f));
        }
        self.files
            .values()
            .find(|f| f.parent == folder && same(&f.name))
            .map(Item::File)
    }

    /// 409 `item_name_in_use` when the name is taken in the folder by another item than `except`.
    pub(super) fn check_free(
        &self,
        folder: &str,
        name: &str,
        except: Option<&str>,
        as_list: bool,
    ) -> Result<(), Response> {
        match self.find(folder, name) {
            Some(item) if Some(item.id()) != except => {
                let mini = self.mini(&item);
                let conflicts = if as_list { json!([mini]) } else { mini };
                Err(error_with(
                    409,
                    "item_name_in_use",
                    "Item with the same name already exists",
                    Some(json!({"conflicts": conflicts})),
                ))
            }
            _ => Ok(()),
        }
    }

    fn insert_file(
        &mut self,
        id: String,
        parent: &str,
        name: &str,
        content: Vec<u8>,
        sha1: &str,
        content_modified_at: Option<String>,
    ) -> String {
        let now = now_text();
        let version = self.new_version(sha1, content.len() as u64);
        let file = File {
            id: id.clone(),
            name: name.into(),
            parent: parent.into(),
            versions: vec![version],
            content: Arc::new(content),
            created_at: now.clone(),
            modified_at: now.clone(),
            content_modified_at: content_modified_at.unwrap_or(now),
        };
        self.files.insert(id.clone(), file);
        id
    }

    /// A new file (the caller checked the parent, the name and conflicts).
    pub(super) fn add_file(
        &mut self,
        parent: &str,
        name: &str,
        content: Vec<u8>,
        sha1: &str,
        content_modified_at: Option<String>,
    ) -> String {
        let id = self.new_id();
        self.insert_file(id, parent, name, content, sha1, content_modified_at)
    }

    /// A new version of a file (the caller checked that it exists).
    pub(super) fn add_version(
        &mut self,
        id: &str,
        content: Vec<u8>,
        sha1: &str,
        new_name: Option<&str>,
    ) {
        let version = self.new_version(sha1, content.len() as u64);
        if let Some(file) = self.files.get_mut(id) {
            let now = now_text();
            file.versions.push(version);
            file.content = Arc::new(content);
            file.modified_at = now.clone();
            file.content_modified_at = now;
            if let Some(name) = new_name {
                file.name = name.to_string();
            }
        }
    }

    pub(super) fn file_etag(&self, id: &str) -> Option<String> {
        self.files.get(id).map(File::etag)
    }

    pub(super) fn file_parent_and_name(&self, id: &str) -> Option<(String, String)> {
        self.files
            .get(id)
            .map(|f| (f.parent.clone(), f.name.clone()))
    }

    /// For the control endpoint and the lib: a folder, refused when the parent is missing or
    /// the name is invalid or taken.
    pub(super) fn add_folder_checked(
        &mut self,
        parent: &str,
        name: &str,
    ) -> Result<String, &'static str> {
        self.check_new(parent, name)?;
        Ok(self.add_folder(parent, name))
    }

    /// For the control endpoint and the lib: a file, with the same checks.
    pub(super) fn add_file_checked(
        &mut self,
        parent: &str,
        name: &str,
        content: Vec<u8>,
        sha1: &str,
    ) -> Result<String, &'static str> {
        self.check_new(parent, name)?;
        Ok(self.add_file(parent, name, content, sha1, None))
    }

    fn check_new(&self, parent: &str, name: &str) -> Result<(), &'static str> {
        if !self.has_folder(parent) {
            return Err("no folder with that parent_id");
        }
        if check_name(name).is_err() {
            return Err("the name is not a valid Box item name");
        }
        if self.find(parent, name).is_some() {
            return Err("the name is taken in that folder");
        }
        Ok(())
    }

    pub(super) fn add_folder(&mut self, parent: &str, name: &str) -> String {
        let id = self.new_id();
        let folder = Folder {
            id: id.clone(),
            name: name.into(),
            parent: Some(parent.into()),
            created_at: now_text(),
        };
        self.folders.insert(id.clone(), folder);
        id
    }

    /// The folder's items: folders first, then files, each by name.
    pub(super) fn children(&self, folder: &str) -> Vec<Item<'_>> {
        let mut folders: Vec<&Folder> = self
            .folders
            .values()
            .filter(|f| f.parent.as_deref() == Some(folder))
            .collect();
        folders.sort_by_key(|f| (f.name.to_lowercase(), f.id.clone()));
        let mut files: Vec<&File> = self.files.values().filter(|f| f.parent == folder).collect();
        files.sort_by_key(|f| (f.name.to_lowercase(), f.id.clone()));
        folders
            .into_iter()
            .map(Item::Folder)
            .chain(files.into_iter().map(Item::File))
            .collect()
    }

    /// The total size of the files under a folder.
    fn folder_size(&self, folder: &str) -> u64 {
        let files: u64 = self
            .files
            .values()
            .filter(|f| f.parent == folder)
            .map(|f| f.current().size)
            .sum();
        let folders: u64 = self
            .folders
            .values()
            .filter(|f| f.parent.as_deref() == Some(folder))
            .map(|f| self.folder_size(&f.id))
            .sum();
        files + folders
    }

    fn mini_folder(folder: &Folder) -> Value {
        if folder.id == "0" {
            return json!({"type": "folder", "id": "0", "sequence_id": null, "etag": null,
                          "name": folder.name});
        }
        json!({"type": "folder", "id": folder.id, "sequence_id": "0", "etag": "0",
               "name": folder.name})
    }

    fn mini_file(file: &File) -> Value {
        let current = file.current();
        json!({"type": "file", "id": file.id,
               "file_version": {"type": "file_version", "id": current.id, "sha1": current.sha1},
               "sequence_id": file.etag(), "etag": file.etag(), "sha1": current.sha1,
               "name": file.name})
    }

    /// The short form Box uses in conflicts.
    fn mini(&self, item: &Item<'_>) -> Value {
        match item {
            Item::Folder(f) => Tree::mini_folder(f),
            Item::File(f) => Tree::mini_file(f),
        }
    }

    /// The entries of a folder listing: the mini form with `size`.
    pub(super) fn entry(&self, item: &Item<'_>) -> Value {
        let mut entry = self.mini(item);
        entry["size"] = json!(match item {
            Item::Folder(f) => self.folder_size(&f.id),
            Item::File(f) => f.current().size,
        });
        entry
    }

    fn path_collection(&self, parent: Option<&str>) -> Value {
        let mut chain = Vec::new();
        let mut next = parent.map(str::to_string);
        while let Some(id) = next {
            let Some(folder) = self.folders.get(&id) else {
                break;
            };
            chain.push(Tree::mini_folder(folder));
            next = folder.parent.clone();
        }
        chain.reverse();
        json!({"total_count": chain.len(), "entries": chain})
    }

    pub(super) fn full_folder(&self, folder: &Folder) -> Value {
        let children = self.children(&folder.id);
        let entries: Vec<Value> = children
            .iter()
            .take(DEFAULT_LIMIT)
            .map(|i| self.mini(i))
            .collect();
        let mut value = Tree::mini_folder(folder);
        let parent = folder
            .parent
            .as_deref()
            .and_then(|p| self.folders.get(p))
            .map_or(Value::Null, Tree::mini_folder);
        let extra = json!({
            "created_at": folder.created_at, "modified_at": folder.created_at,
            "description": "", "size": self.folder_size(&folder.id),
            "path_collection": self.path_collection(folder.parent.as_deref()),
            "created_by": user(), "modified_by": user(), "owned_by": user(),
            "parent": parent, "item_status": "active",
            "item_collection": {"total_count": children.len(), "entries": entries,
                                "offset": 0, "limit": DEFAULT_LIMIT, "order": order()},
        });
        merge(&mut value, extra);
        value
    }

    pub(super) fn full_file(&self, file: &File) -> Value {
        let mut value = Tree::mini_file(file);
        let parent = self
            .folders
            .get(&file.parent)
            .map_or(Value::Null, Tree::mini_folder);
        let extra = json!({
            "description": "", "size": file.current().size,
            "path_collection": self.path_collection(Some(&file.parent)),
            "created_at": file.created_at, "modified_at": file.modified_at,
            "content_created_at": file.created_at,
            "content_modified_at": file.content_modified_at,
            "trashed_at": null, "purged_at": null,
            "created_by": user(), "modified_by": user(), "owned_by": user(),
            "parent": parent, "item_status": "active",
        });
        merge(&mut value, extra);
        value
    }

    /// `{"total_count":1,"entries":[file]}`, the answer of uploads.
    pub(super) fn file_list(&self, id: &str) -> Value {
        let entries: Vec<Value> = self
            .files
            .get(id)
            .map(|f| self.full_file(f))
            .into_iter()
            .collect();
        json!({"total_count": entries.len(), "entries": entries})
    }

    pub(super) fn full_file_by_id(&self, id: &str) -> Value {
        self.files
            .get(id)
            .map_or(Value::Null, |f| self.full_file(f))
    }

    pub(super) fn full_folder_by_id(&self, id: &str) -> Value {
        self.folders
            .get(id)
            .map_or(Value::Null, |f| self.full_folder(f))
    }

    /// What `state("box")` shows of the tree.
    pub(super) fn state(&self) -> Value {
        let folders: Vec<Value> = self
            .folders
            .values()
            .map(|f| json!({"id": f.id, "name": f.name, "parent": f.parent}))
            .collect();
        let files: Vec<Value> = self
            .files
            .values()
            .map(|f| {
                let versions: Vec<Value> = f
                    .versions
                    .iter()
                    .map(|v| json!({"id": v.id, "sha1": v.sha1, "size": v.size}))
                    .collect();
                json!({"id": f.id, "name": f.name, "parent": f.parent, "sha1": f.current().sha1,
                       "size": f.current().size, "etag": f.etag(),
                       "version_count": f.versions.len(), "versions": versions})
            })
            .collect();
        json!({"folders": folders, "files": files})
    }

    /// `GET /dl/{key}`: the bytes, without auth.
    pub(super) fn serve_download(&self, key: &str) -> Response {
        match self.downloads.get(key) {
            Some(content) => Response {
                status: 200,
                headers: vec![("content-type".into(), "application/octet-stream".into())],
                body: content.as_ref().clone(),
            },
            None => error(404, "not_found", "Not Found"),
        }
    }
}

/// Adds the keys of `extra` (an object) to `value` (an object).
pub(super) fn merge(value: &mut Value, extra: Value) {
    if let (Value::Object(value), Value::Object(extra)) = (value, extra) {
        value.extend(extra);
    }
}

pub(super) fn order() -> Value {
    json!([{"by": "type", "direction": "ASC"}, {"by": "name", "direction": "ASC"}])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_as_box_does() {
        for ok in ["a.csv", "Daily Drive Thru Documents", "é"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "a\\b", " a", "a ", "a\nb"] {
            assert_eq!(check_name(bad).expect_err("refused").status, 400, "{bad:?}");
        }
        let long = "x".repeat(256);
        let answer = check_name(&long).expect_err("refused");
        assert!(String::from_utf8_lossy(&answer.body).contains("item_name_too_long"));
        assert!(check_name(&"x".repeat(255)).is_ok());
    }

    #[test]
    fn the_seed_has_the_documented_tree() {
        let tree = Tree::seed();
        assert!(
            matches!(tree.find("100004", "FROM CITY"), Some(Item::Folder(f)) if f.id == "100006")
        );
        let names: Vec<String> = tree
            .children("100006")
            .iter()
            .map(|i| i.id().to_string())
            .collect();
        assert_eq!(names, ["200001", "200002"]);
    }
}
