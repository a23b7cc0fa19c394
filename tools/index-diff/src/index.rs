//! The state file: a JSON object keyed by record key, one small entry per
//! key, read with a hand-written visitor so that memory stays about one
//! compact [`Entry`] per key.
//!
//! Native entries are `{"remote_id", "delivered", "deleted", "hash", "at"}`;
//! SIPCA's event_index.json entries are `{"dhis2_uuid", "uploaded",
//! "deleted"}`, to which index-diff adds its own `hash` and `at`. Fields it
//! does not know are kept as they are, and key order is kept.

use crate::args::IndexFormat;
use crate::hash::{Hash, push_hex};
use crate::key::Key;
use common::ndjson::write_json_string;
use common::{Error, Result};
use indexmap::IndexMap;
use serde_json::Value;
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

mod parse;

/// A timestamp as the index stores it: RFC 3339 UTC with seconds, 20 bytes.
pub type Stamp = [u8; 20];

/// The current time as a [`Stamp`].
pub fn now_stamp() -> Stamp {
    let text = common::time::now_rfc3339();
    let mut stamp = [b'0'; 20];
    if text.len() == 20 {
        stamp.copy_from_slice(text.as_bytes());
    }
    stamp
}

const DELIVERED: u8 = 1;
const DELETED: u8 = 1 << 1;
/// Known only for this run (a new key without a minted id): never written.
const TRANSIENT: u8 = 1 << 2;
/// Marked deleted by this run: emitted after the other records.
const DELETED_NOW: u8 = 1 << 3;
/// Its hash was recorded by this run as a baseline, not delivered.
const BASELINE: u8 = 1 << 4;
/// Seen in this run's input, as which op (two bits).
const OP_SHIFT: u8 = 5;
const OP_MASK: u8 = 0b11 << OP_SHIFT;

/// The entries by key, in file order.
pub type Entries = IndexMap<Key, Entry, foldhash::fast::RandomState>;

/// Fields of an entry that index-diff does not know, in file order. Boxed
/// in [`Entry`], so that entries without any cost one pointer.
#[derive(Debug, Default)]
pub struct Extra(pub Vec<(String, Value)>);

/// What a record seen in this run came out as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    New = 1,
    Changed = 2,
    Unchanged = 3,
}

/// What the index knows about one key.
#[derive(Debug, Default)]
pub struct Entry {
    remote_id: Option<Box<str>>,
    hash: Option<Hash>,
    at: Option<Stamp>,
    /// The input row or line where this run saw the key, 0 if not seen.
    pub row: u64,
    flags: u8,
    /// Fields index-diff does not know, kept for the round trip.
    extra: Option<Box<Extra>>,
}

impl Entry {
    /// A pending entry: known to this run, not delivered.
    pub fn pending(remote_id: Option<String>, at: Stamp) -> Entry {
        Entry {
            remote_id: remote_id.map(String::into_boxed_str),
            at: Some(at),
            ..Entry::default()
        }
    }

    /// An entry that lives only for this run and is never written.
    pub fn this_run_only() -> Entry {
        Entry {
            flags: TRANSIENT,
            ..Entry::default()
        }
    }

    fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
    fn set(&mut self, flag: u8, on: bool) {
        if on {
            self.flags |= flag;
        } else {
            self.flags &= !flag;
        }
    }

    pub fn remote_id(&self) -> Option<&str> {
        self.remote_id.as_deref()
    }
    pub fn delivered(&self) -> bool {
        self.has(DELIVERED)
    }
    pub fn deleted(&self) -> bool {
        self.has(DELETED)
    }
    pub fn transient(&self) -> bool {
        self.has(TRANSIENT)
    }
    pub fn deleted_now(&self) -> bool {
        self.has(DELETED_NOW)
    }
    /// The delivered hash; none when unknown, or only a baseline of this run.
    pub fn delivered_hash(&self) -> Option<&Hash> {
        if self.has(BASELINE) {
            None
        } else {
            self.hash.as_ref()
        }
    }
    pub fn seen(&self) -> Option<Seen> {
        match (self.flags & OP_MASK) >> OP_SHIFT {
            1 => Some(Seen::New),
            2 => Some(Seen::Changed),
            3 => Some(Seen::Unchanged),
            _ => None,
        }
    }

    pub fn mark_seen(&mut self, seen: Seen, row: u64) {
        self.flags = (self.flags & !OP_MASK) | ((seen as u8) << OP_SHIFT);
        self.row = row;
    }

    /// Record `hash` as the delivered content of an entry that had none.
    pub fn set_baseline(&mut self, hash: Hash, at: Stamp) {
        self.hash = Some(hash);
        self.set(BASELINE, true);
        self.stamp(at);
    }

    /// Give a pending key the id minted for it.
    pub fn set_remote_id(&mut self, id: String, at: Stamp) {
        self.remote_id = Some(id.into_boxed_str());
        self.stamp(at);
    }

    /// Mark the key deleted by this run.
    pub fn mark_deleted_now(&mut self, at: Stamp) {
        self.set(DELETED, true);
        self.set(DELETED_NOW, true);
        self.stamp(at);
    }

    /// The remote accepted this key: delivered, with its hash and id.
    pub fn commit_ok(
        &mut self,
        hash: Option<Hash>,
        remote_id: Option<&str>,
        deleted: bool,
        at: Stamp,
    ) {
        self.set(DELIVERED, true);
        self.set(TRANSIENT, false);
        self.set(BASELINE, false);
        if hash.is_some() {
            self.hash = hash;
        }
        if let Some(id) = remote_id {
            self.remote_id = Some(id.into());
        }
        self.set(DELETED, deleted);
        self.stamp(at);
    }

    /// A delete that failed: the key is live again, so it comes back.
    pub fn unmark_deleted(&mut self, at: Stamp) {
        self.set(DELETED, false);
        self.stamp(at);
    }

    fn stamp(&mut self, at: Stamp) {
        self.at = Some(at);
        if let Some(extra) = &mut self.extra {
            extra.0.retain(|(name, _)| name != "at");
        }
    }
}

/// The index in memory.
#[derive(Debug)]
pub struct Index {
    pub entries: Entries,
    pub format: IndexFormat,
    /// The state file existed before this run.
    pub existed: bool,
}

impl Index {
    /// Read the index at `path`. A missing file gives an empty index
    /// (`existed` false). A file that is not a valid index is exit 65
    /// naming its line and column, never what it holds. The temp files
    /// that killed runs left beside it are removed first (under the lock).
    pub fn load(path: &Path, format: Option<IndexFormat>) -> Result<Index> {
        common::io::remove_stale_temp_files(&common::io::parent_dir(path));
        let name = path.display().to_string();
        let file = match File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(Index {
                    entries: Entries::default(),
                    format: format.unwrap_or(IndexFormat::Native),
                    existed: false,
                });
            }
            Err(e) => return Err(Error::io(format!("cannot open the index {name}"), e)),
        };
        let (entries, detected) = parse::read(file, &name)?;
        let format = match (format, detected) {
            (Some(asked), Some(found)) if asked != found => {
                return Err(Error::usage(format!(
                    "--format {} contradicts the index {name}, whose entries are {}",
                    format_name(asked),
                    format_name(found)
                )));
            }
            (Some(asked), _) => asked,
            (None, found) => found.unwrap_or(IndexFormat::Native),
        };
        Ok(Index {
            entries,
            format,
            existed: true,
        })
    }

    /// Whether any key is live: written, and not deleted.
    pub fn has_live_keys(&self) -> bool {
        self.entries
            .values()
            .any(|e| !e.transient() && !e.deleted())
    }

    /// Write the index to `out`: one entry per line.
    pub fn write_to<W: Write>(&self, out: &mut W) -> io::Result<()> {
        let (id_field, delivered_field) = match self.format {
            IndexFormat::Native => ("remote_id", "delivered"),
            IndexFormat::Sipca => ("dhis2_uuid", "uploaded"),
        };
        let mut line = Vec::with_capacity(512);
        out.write_all(b"{")?;
        let mut first = true;
        for (key, entry) in self.entries.iter().filter(|(_, e)| !e.transient()) {
            line.clear();
            line.extend_from_slice(if first { b"\n" } else { b",\n" });
            first = false;
            write_json_string(&mut line, key.as_bytes());
            line.extend_from_slice(b": {\"");
            line.extend_from_slice(id_field.as_bytes());
            line.extend_from_slice(b"\": ");
            match &entry.remote_id {
                Some(id) => write_json_string(&mut line, id.as_bytes()),
                None => line.extend_from_slice(b"null"),
            }
            line.extend_from_slice(b", \"");
            line.extend_from_slice(delivered_field.as_bytes());
            line.extend_from_slice(b"\": ");
            line.extend_from_slice(bool_text(entry.delivered()));
            line.extend_from_slice(b", \"deleted\": ");
            line.extend_from_slice(bool_text(entry.deleted()));
            if let Some(hash) = &entry.hash {
                line.extend_from_slice(b", \"hash\": \"");
                push_hex(&mut line, hash);
                line.push(b'"');
            }
            if let Some(at) = &entry.at {
                line.extend_from_slice(b", \"at\": \"");
                line.extend_from_slice(at);
                line.push(b'"');
            }
            for (name, value) in entry.extra.iter().flat_map(|x| x.0.iter()) {
                line.extend_from_slice(b", ");
                write_json_string(&mut line, name.as_bytes());
                line.extend_from_slice(b": ");
                serde_json::to_writer(&mut line, value)?;
            }
            line.push(b'}');
            out.write_all(&line)?;
        }
        out.write_all(if first { b"}\n" } else { b"\n}\n" })
    }

    /// Write the index atomically (temp file, fsync, rename; mode 0600).
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut file = common::io::AtomicFile::create(path)?;
        self.write_to(&mut file)
            .map_err(|e| Error::write(format!("writing the index {}", path.display()), e))?;
        file.commit()
    }
}

fn bool_text(on: bool) -> &'static [u8] {
    if on { b"true" } else { b"false" }
}

fn format_name(format: IndexFormat) -> &'static str {
    match format {
        IndexFormat::Native => "native",
        IndexFormat::Sipca => "sipca",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str, format: Option<IndexFormat>) -> Result<Index> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("state.json");
        std::fs::write(&path, text)?;
        Index::load(&path, format)
    }

    fn written(index: &Index) -> String {
        let mut out = Vec::new();
        assert!(index.write_to(&mut out).is_ok());
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn sipca_round_trips_with_unknown_fields() -> Result<()> {
        let text = "{\n\"k1\": {\"dhis2_uuid\": \"Abc123def45\", \"uploaded\": true, \"deleted\": false, \"note\": {\"x\": [1, 2.50]}},\n\"k2\": {\"dhis2_uuid\": null, \"uploaded\": false, \"deleted\": false}\n}\n";
        let index = load_text(text, None)?;
        assert_eq!(index.format, IndexFormat::Sipca);
        assert_eq!(
            written(&index),
            text.replace("{\"x\": [1, 2.50]}", "{\"x\":[1,2.50]}")
        );
        Ok(())
    }

    #[test]
    fn native_entries_and_empty_index() -> Result<()> {
        let hash = "ab".repeat(32);
        let text = format!(
            "{{\n\"[\\\"a\\\",\\\"1\\\"]\": {{\"remote_id\": \"r1\", \"delivered\": true, \"deleted\": true, \"hash\": \"{hash}\", \"at\": \"2024-05-01T10:00:00Z\"}}\n}}\n"
        );
        let index = load_text(&text, None)?;
        assert_eq!(index.format, IndexFormat::Native);
        assert_eq!(written(&index), text);
        let empty = load_text(" {} ", Some(IndexFormat::Sipca))?;
        assert_eq!(empty.format, IndexFormat::Sipca);
        assert_eq!(written(&empty), "{}\n");
        Ok(())
    }

    #[test]
    fn every_layout_reads_the_same() -> Result<()> {
        let hash = "0f".repeat(32);
        // As index-diff writes it (read line by line without a parser)...
        let own = format!(
            "{{\n\"k\\\"1\": {{\"remote_id\": \"r1\", \"delivered\": true, \"deleted\": false, \"hash\": \"{hash}\", \"at\": \"2024-05-01T10:00:00Z\"}},\n\"k2\": {{\"remote_id\": null, \"delivered\": false, \"deleted\": true, \"x\": [1]}}\n}}\n"
        );
        let index = load_text(&own, None)?;
        assert_eq!(written(&index), own);
        // ...and as another program may (the streaming parser).
        let value: serde_json::Value =
            serde_json::from_str(&own).map_err(|e| Error::data(e.to_string()))?;
        for other in [
            serde_json::to_string_pretty(&value).unwrap_or_default(),
            serde_json::to_string(&value).unwrap_or_default(),
            own.replace(",\n\"k2\"", "\n,\"k2\""),
        ] {
            assert_eq!(written(&load_text(&other, None)?), own, "{other}");
        }
        Ok(())
    }

    #[test]
    fn corrupt_indexes_are_exit_65_without_values() {
        for (text, want) in [
            ("", "truncated or empty"),
            ("{\"k1\": {\"remote_id\": \"Secret\", \"deli", "truncated"),
            ("[\"Secret\"]", "not a JSON object"),
            ("\"Secret\"", "not a JSON object"),
            ("12345", "not a JSON object"),
            ("{\"k1\": \"Secret\"}", "an entry is not a JSON object"),
            ("{\"k1\": 12345}", "an entry is not a JSON object"),
            (
                "{\"k1\": {\"delivered\": \"Secret\"}}",
                "\"delivered\" is not true or false",
            ),
            (
                "{\"k1\": {\"hash\": \"Secret\"}}",
                "\"hash\" is not 64 hex digits",
            ),
            ("{\"k1\": {}} x", "trailing"),
        ] {
            let err = load_text(text, None).map(|_| ()).err();
            let (code, message) = err.map(|e| (e.code(), e.to_string())).unwrap_or_default();
            assert_eq!(code, 65, "{text}: {message}");
            assert!(message.contains(want), "{text}: {message}");
            assert!(message.contains("line 1, column"), "{message}");
            assert!(!message.contains("Secret"), "{message}");
        }
    }

    #[test]
    fn format_contradicting_the_file_is_a_usage_error() {
        let err = load_text("{\"k\": {\"uploaded\": true}}", Some(IndexFormat::Native));
        assert_eq!(err.map(|_| ()).map_err(|e| e.code()), Err(64));
    }
}
