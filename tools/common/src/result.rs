//! Per-record results: the line a sink writes for each record it handled
//! in per-record mode (`http-post --each`, `db-load`), and that
//! `index-diff --commit` reads to mark records delivered.
//!
//! A result carries the record's bookkeeping fields (`_key`, `_op`,
//! `_hash`, `_remote_id`, as index-diff added them) and the outcome, never
//! the record's content.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use std::io::{self, Write};

/// The outcome of delivering one record.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RecordResult {
    /// The record's key: a string, or an array of strings for a composite key.
    #[serde(rename = "_key", default)]
    pub key: Value,
    /// `new`, `changed` or `deleted`, as index-diff emitted the record.
    #[serde(
        rename = "_op",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text_or_null"
    )]
    pub op: Option<String>,
    /// The record's content hash (64 hex digits), as index-diff emitted it.
    #[serde(
        rename = "_hash",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text_or_null"
    )]
    pub hash: Option<String>,
    /// The remote id the record already had (known or minted), or null.
    #[serde(rename = "_remote_id", default, deserialize_with = "text_or_null")]
    pub known_remote_id: Option<String>,
    /// Whether the remote accepted the record.
    pub ok: bool,
    /// The id the remote gave; it wins over `_remote_id`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text_or_null"
    )]
    pub remote_id: Option<String>,
    /// The HTTP status, or another status code of the sink.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<i64>,
    /// Why the record failed. Never record content: a status text, an
    /// error class, a column name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What could not be taken from the answer of a record the remote
    /// accepted (http-post --id-from). The record stays delivered: `ok` is
    /// true and index-diff commits it; never a value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extract_error: Option<String>,
    /// A dry run's result: what would have happened, with nothing written.
    /// Never counts as delivered, whatever `ok` says.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
}

/// The fields a result copies from its record.
pub const KEY: &str = "_key";
pub const OP: &str = "_op";
pub const HASH: &str = "_hash";
pub const REMOTE_ID: &str = "_remote_id";

/// The fields index-diff adds to a record for its own bookkeeping: never
/// part of its hash, never sent by http-post, copied to results and not
/// loaded by db-load unless named.
pub const BOOKKEEPING: [&str; 4] = [KEY, OP, HASH, REMOTE_ID];

impl RecordResult {
    /// The result for `record`, copying its `_key`, `_op`, `_hash` and
    /// `_remote_id` (a missing `_key` stays null; a numeric remote id
    /// becomes its text).
    pub fn for_record(record: &Map<String, Value>, ok: bool) -> RecordResult {
        RecordResult {
            key: record.get(KEY).cloned().unwrap_or(Value::Null),
            op: record.get(OP).and_then(as_text),
            hash: record.get(HASH).and_then(as_text),
            known_remote_id: record.get(REMOTE_ID).and_then(as_text),
            ok,
            ..RecordResult::default()
        }
    }

    /// Set the id the remote gave.
    pub fn with_remote_id(mut self, id: impl Into<String>) -> Self {
        self.remote_id = Some(id.into());
        self
    }

    /// Set the status code.
    pub fn with_status(mut self, status: i64) -> Self {
        self.status = Some(status);
        self
    }

    /// Set why the record failed (never its content).
    pub fn with_error(mut self, error: impl Into<String>) -> Self {
        self.error = Some(error.into());
        self
    }

    /// Whether the record reached the remote: accepted, and not in a dry run.
    pub fn delivered(&self) -> bool {
        self.ok && !self.dry_run
    }

    /// The remote id to keep: the one the remote gave, else the known one.
    pub fn effective_remote_id(&self) -> Option<&str> {
        self.remote_id
            .as_deref()
            .or(self.known_remote_id.as_deref())
    }

    /// Write the result as one JSON line.
    pub fn write_to<W: Write>(&self, out: &mut W) -> io::Result<()> {
        serde_json::to_writer(&mut *out, self)?;
        out.write_all(b"\n")
    }

    /// Parse one result line. The error says what is wrong with its shape,
    /// never what the line holds.
    pub fn parse(line: &[u8]) -> Result<RecordResult, String> {
        // Most lines are well formed: read them straight into the struct,
        // and look closer only to say what is wrong with the others.
        if let Ok(result) = serde_json::from_slice::<RecordResult>(line)
            && !result.key.is_null()
        {
            return Ok(result);
        }
        let value: Value = serde_json::from_slice(line).map_err(|e| {
            let text = e.to_string();
            let what = text.split(" at line ").next().unwrap_or("syntax error");
            format!("not valid JSON at character {} ({what})", e.column())
        })?;
        let Value::Object(map) = value else {
            return Err("not a JSON object".into());
        };
        match map.get(KEY) {
            None | Some(Value::Null) => return Err("no _key".into()),
            Some(_) => {}
        }
        match map.get("ok") {
            Some(Value::Bool(_)) => {}
            None => return Err("no \"ok\"".into()),
            Some(_) => return Err("\"ok\" is not true or false".into()),
        }
        serde_json::from_value(Value::Object(map)).map_err(|_| {
            "a field has the wrong type (_op, _hash, _remote_id and remote_id are strings or null, status a whole number, error and extract_error strings, dry_run true or false)"
                .to_string()
        })
    }
}

/// A string as itself, a number as its text; anything else is none.
fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A string, a number (as its text) or null.
fn text_or_null<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        _ => Err(serde::de::Error::custom("expected a string or null")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn copies_bookkeeping_fields_not_content() -> io::Result<()> {
        let rec = record(json!({
            "name": "Sam Sample", "_key": ["a", "1"], "_op": "new",
            "_remote_id": "Abc123def45", "_hash": "ab".repeat(32)
        }));
        let result = RecordResult::for_record(&rec, true).with_status(201);
        let mut out = Vec::new();
        result.write_to(&mut out)?;
        let text = String::from_utf8_lossy(&out);
        assert!(!text.contains("Sam"), "{text}");
        assert!(text.ends_with("}\n") && text.matches('\n').count() == 1);
        let back: Value = serde_json::from_str(&text)?;
        assert_eq!(
            back,
            json!({"_key": ["a", "1"], "_op": "new", "_hash": "ab".repeat(32),
                   "_remote_id": "Abc123def45", "ok": true, "status": 201})
        );
        Ok(())
    }

    #[test]
    fn remote_id_wins_and_round_trips() {
        let rec = record(json!({"_key": "k1", "_remote_id": null}));
        let result = RecordResult::for_record(&rec, true);
        assert_eq!(result.effective_remote_id(), None);
        let result = result.with_remote_id("srv-9");
        assert_eq!(result.effective_remote_id(), Some("srv-9"));
        let rec = record(json!({"_key": "k1", "_remote_id": 42}));
        let failed = RecordResult::for_record(&rec, false).with_error("HTTP 500");
        assert_eq!(failed.effective_remote_id(), Some("42"));
        let mut out = Vec::new();
        assert!(failed.write_to(&mut out).is_ok());
        assert_eq!(RecordResult::parse(&out), Ok(failed));
    }

    #[test]
    fn parse_names_the_shape_problem_without_values() {
        let cases: [(&[u8], &str); 6] = [
            (b"{\"_key\":\"k\",\"ok\":tr", "not valid JSON"),
            (b"[1,2]", "not a JSON object"),
            (b"{\"ok\":true}", "no _key"),
            (b"{\"_key\":\"k\"}", "no \"ok\""),
            (b"{\"_key\":\"k\",\"ok\":\"Secret\"}", "not true or false"),
            (
                b"{\"_key\":\"k\",\"ok\":true,\"_hash\":{\"Secret\":1}}",
                "wrong type",
            ),
        ];
        for (line, want) in cases {
            let err = RecordResult::parse(line).err().unwrap_or_default();
            assert!(err.contains(want), "{err}");
            assert!(!err.contains("Secret"), "{err}");
        }
        let ok = RecordResult::parse(br#"{"_key":"k","ok":true,"remote_id":7,"extra":1}"#);
        assert_eq!(ok.map(|r| r.remote_id), Ok(Some("7".to_string())));
    }

    #[test]
    fn an_extract_error_leaves_the_record_delivered() {
        let rec = record(json!({"_key": "k1", "_remote_id": "7"}));
        let accepted = RecordResult {
            extract_error: Some("--id-from: no id in the answer".into()),
            ..RecordResult::for_record(&rec, true).with_status(201)
        };
        let mut out = Vec::new();
        assert!(accepted.write_to(&mut out).is_ok());
        let text = String::from_utf8_lossy(&out);
        assert!(
            text.contains(
                r#""ok":true,"status":201,"extract_error":"--id-from: no id in the answer""#
            ),
            "{text}"
        );
        let back = RecordResult::parse(&out);
        assert_eq!(back.as_ref().map(RecordResult::delivered), Ok(true));
        assert_eq!(
            back.as_ref().map(|r| r.effective_remote_id()),
            Ok(Some("7"))
        );
        assert_eq!(back, Ok(accepted));
    }

    #[test]
    fn dry_run_is_written_only_when_set_and_never_delivered() -> io::Result<()> {
        let rec = record(json!({"_key": "k1"}));
        let mut out = Vec::new();
        RecordResult::for_record(&rec, true).write_to(&mut out)?;
        assert!(!String::from_utf8_lossy(&out).contains("dry_run"));
        let dry = RecordResult {
            dry_run: true,
            ..RecordResult::for_record(&rec, true)
        };
        let mut out = Vec::new();
        dry.write_to(&mut out)?;
        assert!(String::from_utf8_lossy(&out).contains("\"dry_run\":true"));
        let back = RecordResult::parse(&out);
        assert_eq!(back.as_ref().map(RecordResult::delivered), Ok(false));
        assert_eq!(back.map(|r| r.ok), Ok(true));
        Ok(())
    }
}
