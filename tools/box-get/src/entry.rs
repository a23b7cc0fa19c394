//! The entries of a folder listing, as box-get writes and reads them.

use common::{Error, Result};
use serde_json::{Map, Value};

/// The fields of a listed entry that box-get writes, in this order; those
/// Box leaves out (a folder has no sha1) are left out.
pub const FIELDS: &[&str] = &["type", "id", "name", "size", "sha1", "etag", "modified_at"];

/// The --list line of one entry: its FIELDS, nothing else.
pub fn line(entry: &Value) -> Map<String, Value> {
    FIELDS
        .iter()
        .filter_map(|&field| match entry.get(field) {
            None | Some(Value::Null) => None,
            Some(value) => Some((field.to_string(), value.clone())),
        })
        .collect()
}

/// A file of a listing, as a download needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileEntry {
    pub id: String,
    pub name: String,
    pub sha1: Option<String>,
    pub etag: Option<String>,
    pub size: Option<u64>,
}

impl FileEntry {
    /// The file an entry (or a file's info) describes; None for a folder or
    /// a web link. An entry without an id or a name is exit 69.
    pub fn of(entry: &Value) -> Result<Option<FileEntry>> {
        if entry_type(entry) != "file" {
            return Ok(None);
        }
        let text = |field: &str| -> Option<String> {
            match entry.get(field)? {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            }
        };
        let (Some(id), Some(name)) = (text("id"), text("name")) else {
            return Err(Error::unavailable(
                "the folder listing has a file entry without an id or a name",
            ));
        };
        Ok(Some(FileEntry {
            id,
            name,
            sha1: text("sha1").filter(|s| !s.is_empty()),
            etag: text("etag"),
            size: entry.get("size").and_then(Value::as_u64),
        }))
    }
}

/// The entry's type ("file", "folder", "web_link"), or "" when it has none.
pub fn entry_type(entry: &Value) -> &str {
    entry
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The entry's name, or "" when it has none.
pub fn entry_name(entry: &Value) -> &str {
    entry
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Refuse a name that is not one plain file name here: Box forbids / and
/// \ in names, but a download must not trust that (exit 69).
pub fn check_local_name(name: &str, id: &str) -> Result<()> {
    let bad = name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']);
    if bad {
        return Err(Error::unavailable(format!(
            "file {id}: Box gives it a name that cannot be a local file name (empty, . or .., or with / \\ or NUL)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lines_keep_the_listed_fields_in_order() {
        let entry = json!({"etag":"1","name":"a.csv","id":"2001","type":"file","sha1":"ab",
                           "size":12,"sequence_id":"1","parent":{"id":"5"},"modified_at":null});
        let line = serde_json::to_string(&line(&entry)).unwrap_or_default();
        assert_eq!(
            line,
            r#"{"type":"file","id":"2001","name":"a.csv","size":12,"sha1":"ab","etag":"1"}"#
        );
    }

    #[test]
    fn files_of_a_listing() -> Result<()> {
        let file = FileEntry::of(
            &json!({"type":"file","id":"2001","name":"a.csv","sha1":"ab","etag":"0","size":3}),
        )?;
        assert_eq!(
            file,
            Some(FileEntry {
                id: "2001".into(),
                name: "a.csv".into(),
                sha1: Some("ab".into()),
                etag: Some("0".into()),
                size: Some(3)
            })
        );
        assert_eq!(
            FileEntry::of(&json!({"type":"folder","id":"5","name":"x"}))?,
            None
        );
        assert_eq!(
            FileEntry::of(&json!({"type":"file","name":"x"})).map_err(|e| e.code()),
            Err(69)
        );
        Ok(())
    }

    #[test]
    fn local_names_are_plain() {
        assert!(check_local_name("a b.csv", "1").is_ok());
        assert!(check_local_name(".hidden", "1").is_ok());
        for name in ["", ".", "..", "a/b", "..\\x", "a\0"] {
            assert!(check_local_name(name, "1").is_err(), "{name:?}");
        }
    }
}
