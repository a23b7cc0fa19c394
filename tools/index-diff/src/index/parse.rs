//! Reading the state file into compact entries.
//!
//! A file in the shape index-diff writes (`{`, one `"key": {...}` member
//! per line, `}`) is read line by line, each line parsed from a slice,
//! which is several times faster than a streaming parse. Any other layout
//! (SIPCA's file as Python wrote it, say) and any file that does not fit
//! that shape exactly is read by the general streaming parser, which also
//! gives the line and column of any error.

use super::{DELETED, DELIVERED, Entries, Entry, Extra};
use crate::args::IndexFormat;
use crate::hash::parse_hex;
use crate::key::Key;
use common::{Error, Result};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek};

const BUFFER: usize = 256 * 1024;

/// A key, its entry, and the format the entry's field names show.
type Member = (Key, (Entry, Option<IndexFormat>));

/// The entries of an index file and the format their field names show.
pub fn read(file: File, name: &str) -> Result<(Entries, Option<IndexFormat>)> {
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut reader = BufReader::with_capacity(BUFFER, file);
    if let Some(read) = read_lines(&mut reader, size).map_err(|e| read_error(name, e))? {
        return Ok(read);
    }
    let mut file = reader.into_inner();
    file.rewind().map_err(|e| read_error(name, e))?;
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(BUFFER, file));
    let mut detected = None;
    let entries = de
        .deserialize_any(IndexVisitor {
            detected: &mut detected,
        })
        .and_then(|entries| de.end().map(|()| entries))
        .map_err(|e| corrupt(name, &e))?;
    Ok((entries, detected))
}

fn read_error(name: &str, err: io::Error) -> Error {
    Error::io(format!("reading the index {name}"), err)
}

/// The fast path: `None` when the file is not exactly in the line shape.
fn read_lines(
    reader: &mut BufReader<File>,
    size: u64,
) -> io::Result<Option<(Entries, Option<IndexFormat>)>> {
    let mut line = Vec::with_capacity(1024);
    if reader.read_until(b'\n', &mut line)? == 0 || trim_newline(&line) != b"{" {
        return Ok(None);
    }
    let mut entries = Entries::default();
    let mut detected = None;
    // Whether the previous member ended with a comma (so another follows).
    let mut more = false;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(None);
        }
        let text = trim_newline(&line);
        if text == b"}" {
            if more {
                return Ok(None);
            }
            // Only whitespace may follow.
            line.clear();
            while reader.read_until(b'\n', &mut line)? > 0 {
                if !line.iter().all(u8::is_ascii_whitespace) {
                    return Ok(None);
                }
                line.clear();
            }
            return Ok(Some((entries, detected)));
        }
        if !entries.is_empty() && !more {
            return Ok(None);
        }
        let (member, comma) = match text.strip_suffix(b",") {
            Some(member) => (member, true),
            None => (text, false),
        };
        more = comma;
        let Some((key, (entry, format))) = parse_member(member) else {
            return Ok(None);
        };
        if detected.is_none() {
            detected = format;
        }
        if entries.is_empty() {
            // Lines are alike: size the table once instead of growing it.
            let estimate = size / (line.len() as u64).max(1);
            entries.reserve(usize::try_from(estimate).unwrap_or(0).min(1 << 26));
        }
        entries.insert(key, entry);
    }
}

fn trim_newline(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// `"key": {...}` on one line: exactly as index-diff writes it, read
/// without a JSON parser, else with one.
fn parse_member(member: &[u8]) -> Option<Member> {
    parse_own_member(member).or_else(|| parse_any_member(member))
}

/// A member in exactly the layout [`super::Index::write_to`] uses, with no
/// escapes and no fields of others; `None` for anything else.
fn parse_own_member(member: &[u8]) -> Option<Member> {
    let mut p = Cursor(member);
    let key = p.plain_string()?;
    p.literal(b": {\"")?;
    let format = if p.literal(b"remote_id\": ").is_some() {
        IndexFormat::Native
    } else {
        p.literal(b"dhis2_uuid\": ")?;
        IndexFormat::Sipca
    };
    let mut entry = Entry::default();
    if p.literal(b"null").is_none() {
        entry.remote_id = Some(p.plain_string()?.into());
    }
    p.literal(match format {
        IndexFormat::Native => b", \"delivered\": ",
        IndexFormat::Sipca => b", \"uploaded\": ",
    })?;
    entry.set(DELIVERED, p.boolean()?);
    p.literal(b", \"deleted\": ")?;
    entry.set(DELETED, p.boolean()?);
    if p.literal(b", \"hash\": \"").is_some() {
        entry.hash = Some(parse_hex(std::str::from_utf8(p.take(64)?).ok()?)?);
        p.literal(b"\"")?;
    }
    if p.literal(b", \"at\": \"").is_some() {
        let at = p.take(20)?;
        if !at
            .iter()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\\'))
        {
            return None;
        }
        let mut stamp = [0u8; 20];
        stamp.copy_from_slice(at);
        entry.at = Some(stamp);
        p.literal(b"\"")?;
    }
    p.literal(b"}")?;
    if !p.0.is_empty() {
        return None;
    }
    Some((Key::new(key), (entry, Some(format))))
}

/// Reads the fixed layout of index-diff's own lines.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn literal(&mut self, text: &[u8]) -> Option<()> {
        self.0 = self.0.strip_prefix(text)?;
        Some(())
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }
    fn boolean(&mut self) -> Option<bool> {
        if self.literal(b"true").is_some() {
            Some(true)
        } else {
            self.literal(b"false").map(|()| false)
        }
    }
    /// A JSON string without escapes or control characters.
    fn plain_string(&mut self) -> Option<&'a str> {
        let rest = self.0.strip_prefix(b"\"")?;
        let end = memchr::memchr(b'"', rest)?;
        let text = &rest[..end];
        if text.iter().any(|&b| b < 0x20 || b == b'\\') {
            return None;
        }
        self.0 = &rest[end + 1..];
        std::str::from_utf8(text).ok()
    }
}

/// `"key": {...}` on one line, in any layout serde_json reads.
fn parse_any_member(member: &[u8]) -> Option<Member> {
    if member.first() != Some(&b'"') {
        return None;
    }
    let mut end = None;
    let mut escaped = false;
    let mut has_escape = false;
    for (i, &b) in member.iter().enumerate().skip(1) {
        if escaped {
            escaped = false;
        } else if b == b'\\' {
            escaped = true;
            has_escape = true;
        } else if b == b'"' {
            end = Some(i);
            break;
        }
    }
    let end = end?;
    let key = if has_escape {
        Key::new(&serde_json::from_slice::<String>(&member[..=end]).ok()?)
    } else {
        let raw = &member[1..end];
        if raw.iter().any(|&b| b < 0x20) {
            return None;
        }
        Key::new(std::str::from_utf8(raw).ok()?)
    };
    let rest = member[end + 1..].trim_ascii_start().strip_prefix(b":")?;
    let mut de = serde_json::Deserializer::from_slice(rest);
    let entry = EntrySeed.deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some((key, entry))
}

/// A parse error as exit 65 with the place, never the text.
fn corrupt(name: &str, err: &serde_json::Error) -> Error {
    if err.is_io() {
        return read_error(name, io::Error::other(err.to_string()));
    }
    let what = if err.is_eof() {
        "it ends too early: truncated or empty".to_string()
    } else {
        let text = err.to_string();
        text.split(" at line ")
            .next()
            .unwrap_or("syntax error")
            .to_string()
    };
    Error::data(format!(
        "{name}: line {}, column {}: not a valid index ({what}); it is left as it is",
        err.line(),
        err.column()
    ))
}

/// serde_json's field name for a number read with arbitrary precision.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// The top level: an object of entries.
struct IndexVisitor<'a> {
    detected: &'a mut Option<IndexFormat>,
}

/// Anything but an object, said without the value (serde's own message
/// would quote a string).
macro_rules! refuse_non_objects {
    ($message:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Err(E::custom($message))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Err(E::custom($message))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Err(E::custom($message))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Err(E::custom($message))
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Err(E::custom($message))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Err(E::custom($message))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(de::Error::custom($message))
        }
    };
}

const NOT_AN_INDEX: &str = "the index is not a JSON object keyed by record key";
const NOT_AN_ENTRY: &str = "an entry is not a JSON object";

impl<'de> Visitor<'de> for IndexVisitor<'_> {
    type Value = Entries;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object keyed by record key")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = Entries::default();
        while let Some(key) = map.next_key::<String>()? {
            if key == NUMBER_TOKEN {
                return Err(de::Error::custom(NOT_AN_INDEX));
            }
            let (entry, format) = map.next_value_seed(EntrySeed)?;
            if self.detected.is_none() {
                *self.detected = format;
            }
            entries.insert(Key::new(&key), entry);
        }
        Ok(entries)
    }

    refuse_non_objects!(NOT_AN_INDEX);
}

/// One entry, and the format its field names show.
struct EntrySeed;

impl<'de> DeserializeSeed<'de> for EntrySeed {
    type Value = (Entry, Option<IndexFormat>);
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(EntryVisitor)
    }
}

struct EntryVisitor;

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = (Entry, Option<IndexFormat>);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an index entry (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entry = Entry::default();
        let mut format = None;
        let mut extra: Vec<(String, Value)> = Vec::new();
        while let Some(field) = map.next_key_seed(FieldSeed)? {
            match field {
                Field::RemoteId(found) => {
                    format.get_or_insert(found);
                    entry.remote_id = map.next_value_seed(scalar(|value| match value {
                        Scalar::Null => Ok(None),
                        Scalar::Str(s) => Ok(Some(s.into())),
                        _ => Err(wrong_type(found.id_name(), "a string or null")),
                    }))?;
                }
                Field::Delivered(found) => {
                    format.get_or_insert(found);
                    let on = map.next_value_seed(scalar(|value| match value {
                        Scalar::Bool(on) => Ok(on),
                        _ => Err(wrong_type(found.delivered_name(), "true or false")),
                    }))?;
                    entry.set(DELIVERED, on);
                }
                Field::Deleted => {
                    let on = map.next_value_seed(scalar(|value| match value {
                        Scalar::Bool(on) => Ok(on),
                        _ => Err(wrong_type("deleted", "true or false")),
                    }))?;
                    entry.set(DELETED, on);
                }
                Field::Hash => {
                    entry.hash = map.next_value_seed(scalar(|value| match value {
                        Scalar::Null => Ok(None),
                        Scalar::Str(s) => parse_hex(s)
                            .map(Some)
                            .ok_or_else(|| wrong_type("hash", "64 hex digits")),
                        _ => Err(wrong_type("hash", "64 hex digits")),
                    }))?;
                }
                Field::At => {
                    // Anything but our own 20-byte stamp is kept as it is.
                    let value: Value = map.next_value()?;
                    match &value {
                        Value::String(s) if s.len() == 20 && s.is_ascii() => {
                            let mut at = [0u8; 20];
                            at.copy_from_slice(s.as_bytes());
                            entry.at = Some(at);
                        }
                        _ => extra.push(("at".to_string(), value)),
                    }
                }
                Field::Other(name) if name == NUMBER_TOKEN => {
                    return Err(de::Error::custom(NOT_AN_ENTRY));
                }
                Field::Other(name) => extra.push((name, map.next_value()?)),
            }
        }
        if !extra.is_empty() {
            entry.extra = Some(Box::new(Extra(extra)));
        }
        Ok((entry, format))
    }

    refuse_non_objects!(NOT_AN_ENTRY);
}

fn wrong_type(field: &str, want: &str) -> String {
    format!("an entry's \"{field}\" is not {want}")
}

impl IndexFormat {
    fn id_name(self) -> &'static str {
        match self {
            IndexFormat::Native => "remote_id",
            IndexFormat::Sipca => "dhis2_uuid",
        }
    }
    fn delivered_name(self) -> &'static str {
        match self {
            IndexFormat::Native => "delivered",
            IndexFormat::Sipca => "uploaded",
        }
    }
}

/// A field of an entry, named without allocating for the known ones.
enum Field {
    RemoteId(IndexFormat),
    Delivered(IndexFormat),
    Deleted,
    Hash,
    At,
    Other(String),
}

struct FieldSeed;

impl<'de> DeserializeSeed<'de> for FieldSeed {
    type Value = Field;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Field, D::Error> {
        deserializer.deserialize_identifier(FieldVisitor)
    }
}

struct FieldVisitor;

impl Visitor<'_> for FieldVisitor {
    type Value = Field;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: de::Error>(self, name: &str) -> Result<Field, E> {
        Ok(match name {
            "remote_id" => Field::RemoteId(IndexFormat::Native),
            "dhis2_uuid" => Field::RemoteId(IndexFormat::Sipca),
            "delivered" => Field::Delivered(IndexFormat::Native),
            "uploaded" => Field::Delivered(IndexFormat::Sipca),
            "deleted" => Field::Deleted,
            "hash" => Field::Hash,
            "at" => Field::At,
            other => Field::Other(other.to_string()),
        })
    }
}

/// A field value as far as the known fields care.
enum Scalar<'s> {
    Null,
    Bool(bool),
    Str(&'s str),
    Other,
}

/// Reads one value and hands it to a check that turns it into a `T` or
/// says what is wrong (without the value), without building a `Value`.
struct ScalarSeed<F>(F);

/// A [`ScalarSeed`]; the bound makes the closure take any lifetime.
fn scalar<T, F>(check: F) -> ScalarSeed<F>
where
    F: for<'s> FnOnce(Scalar<'s>) -> Result<T, String>,
{
    ScalarSeed(check)
}

impl<'de, T, F> DeserializeSeed<'de> for ScalarSeed<F>
where
    F: for<'s> FnOnce(Scalar<'s>) -> Result<T, String>,
{
    type Value = T;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        deserializer.deserialize_any(ScalarVisitor(self.0))
    }
}

struct ScalarVisitor<F>(F);

impl<'de, T, F> Visitor<'de> for ScalarVisitor<F>
where
    F: for<'s> FnOnce(Scalar<'s>) -> Result<T, String>,
{
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value")
    }
    fn visit_bool<E: de::Error>(self, on: bool) -> Result<T, E> {
        (self.0)(Scalar::Bool(on)).map_err(E::custom)
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        (self.0)(Scalar::Str(text)).map_err(E::custom)
    }
    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        (self.0)(Scalar::Null).map_err(E::custom)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<T, E> {
        (self.0)(Scalar::Other).map_err(E::custom)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<T, E> {
        (self.0)(Scalar::Other).map_err(E::custom)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<T, E> {
        (self.0)(Scalar::Other).map_err(E::custom)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<T, A::Error> {
        (self.0)(Scalar::Other).map_err(de::Error::custom)
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<T, A::Error> {
        // Also a number, under arbitrary precision.
        (self.0)(Scalar::Other).map_err(de::Error::custom)
    }
}
