//! The files --move-to and --delete act on: the ids given with --id, or
//! read from NDJSON on standard input, such as box-get's receipts and
//! listings or box-put's receipts.

use common::error::Location;
use common::io::Input;
use common::ndjson::LineReader;
use common::{Error, Result};
use serde_json::{Map, Value};

/// The tools whose receipts name Box files by `remote_id`.
const BOX_TOOLS: &[&str] = &["box-get", "box-put"];

/// A file to act on, and what its line said about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRef {
    pub id: String,
    /// Where it was read (`<stdin>: line 3`), or None for --id.
    pub source: Option<String>,
    /// The content's sha256, when a receipt gave it (carried to our receipt).
    pub sha256: Option<String>,
    /// The file's etag when the line was written: the move or delete is
    /// refused when the file has changed since (If-Match).
    pub etag: Option<String>,
}

/// The ids of --id, checked, each once.
pub fn from_flags(ids: &[String]) -> Result<Vec<FileRef>> {
    let mut refs = Vec::new();
    for id in ids {
        check_id(id).map_err(|why| Error::usage(format!("--id: {why}")))?;
        push_once(
            &mut refs,
            FileRef {
                id: id.clone(),
                source: None,
                sha256: None,
                etag: None,
            },
        );
    }
    Ok(refs)
}

/// Read every line of `input` before anything is done, so that a bad line
/// stops the run before the first file moves: each line is a JSON object
/// with the file's id in `remote_id` (receipts) or `id` (listings).
pub fn from_ndjson(input: Input) -> Result<Vec<FileRef>> {
    let mut reader = LineReader::new(input);
    let name = reader.name().to_string();
    let mut refs = Vec::new();
    while let Some((line, object)) = reader.next_object()? {
        let at = Location::line(name.clone(), line);
        let file = file_ref(&object).map_err(|why| Error::data_at(&at, why))?;
        push_once(
            &mut refs,
            FileRef {
                source: Some(at.to_string()),
                ..file
            },
        );
    }
    Ok(refs)
}

/// The file one line names.
fn file_ref(object: &Map<String, Value>) -> Result<FileRef, String> {
    if let Some(tool) = object.get("tool") {
        let tool = tool.as_str().unwrap_or_default();
        if !BOX_TOOLS.contains(&tool) {
            return Err(format!(
                "a receipt of {tool:?}, not of box-get or box-put: its remote_id is not a Box file"
            ));
        }
    }
    if let Some(kind) = object.get("type")
        && kind.as_str() != Some("file")
    {
        return Err("an entry that is not a file (\"type\" is not \"file\")".into());
    }
    let id = match (object.get("remote_id"), object.get("id")) {
        (Some(id), _) | (None, Some(id)) => match id {
            Value::String(text) => text.clone(),
            Value::Number(number) => number.to_string(),
            _ => return Err("the file id (remote_id or id) is not a string or a number".into()),
        },
        (None, None) => return Err("no file id: the line has neither remote_id nor id".into()),
    };
    check_id(&id)?;
    let sha256 = object
        .get("sha256")
        .and_then(Value::as_str)
        .filter(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_string);
    // A listing has the etag at the top, box-get's receipts among their
    // fields, box-put's there as "version".
    let fields = object.get("fields");
    let etag = [
        object.get("etag"),
        fields.and_then(|f| f.get("etag")),
        fields.and_then(|f| f.get("version")),
    ]
    .into_iter()
    .flatten()
    .find_map(|v| match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    });
    Ok(FileRef {
        id,
        source: None,
        sha256,
        etag,
    })
}

/// Box ids are digits; anything else would not name a file in a URL path.
fn check_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > 40 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err("a Box file id is a number of up to 40 digits".into());
    }
    Ok(())
}

/// Keep the first mention of each id: a file is moved or deleted once.
fn push_once(refs: &mut Vec<FileRef>, file: FileRef) {
    if !refs.iter().any(|r| r.id == file.id) {
        refs.push(file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<FileRef>> {
        from_ndjson(Input {
            name: "<stdin>".into(),
            reader: Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
        })
    }

    #[test]
    fn receipts_and_listings_give_their_ids_once() -> Result<()> {
        let sha = "a".repeat(64);
        let text = format!(
            "{{\"tool\":\"box-get\",\"name\":\"a.csv\",\"remote_id\":\"2001\",\"sha256\":\"{sha}\",\"fields\":{{\"etag\":\"3\"}}}}\n\n{{\"type\":\"file\",\"id\":\"2002\",\"name\":\"b.csv\",\"etag\":\"0\"}}\n{{\"id\":2003}}\n{{\"tool\":\"box-put\",\"remote_id\":\"2001\"}}\n"
        );
        let refs = read(&text)?;
        let ids: Vec<&str> = refs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["2001", "2002", "2003"]);
        assert_eq!(refs[0].sha256.as_deref(), Some(sha.as_str()));
        assert_eq!(refs[1].sha256, None);
        let etags: Vec<Option<&str>> = refs.iter().map(|r| r.etag.as_deref()).collect();
        assert_eq!(etags, [Some("3"), Some("0"), None]);
        assert_eq!(refs[2].source.as_deref(), Some("<stdin>: line 4"));
        Ok(())
    }

    #[test]
    fn lines_that_name_no_box_file_are_data_errors() {
        for (text, why) in [
            ("{\"type\":\"folder\",\"id\":\"1005\"}\n", "not a file"),
            ("{\"tool\":\"sftp-put\",\"remote_id\":\"7\"}\n", "sftp-put"),
            ("{\"name\":\"a.csv\"}\n", "neither remote_id nor id"),
            ("{\"id\":\"../2001\"}\n", "digits"),
            ("{\"id\":true}\n", "not a string or a number"),
            ("[1]\n", "line 1"),
        ] {
            let error = read(text).err();
            assert!(
                error
                    .as_ref()
                    .is_some_and(|e| e.code() == 65 && e.message().contains(why)),
                "{text}: {error:?}"
            );
        }
        let at = read("{\"id\":\"1\"}\n{\"id\":\"x\"}\n").err();
        assert!(at.is_some_and(|e| e.message().starts_with("<stdin>: line 2: ")));
    }

    #[test]
    fn flag_ids_are_checked() {
        assert!(from_flags(&["12".into(), "12".into()]).is_ok_and(|r| r.len() == 1));
        assert_eq!(
            from_flags(&["12a".into()]).map_err(|e| e.code()).err(),
            Some(64)
        );
    }
}
