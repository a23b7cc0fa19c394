//! The content hash of a record: sha256 of a canonical JSON form, so that
//! the same content gives the same hash whatever its key order or format.
//!
//! The canonical form is the record as a JSON object (a CSV record as an
//! object of strings) without the `--hash-exclude` columns and without
//! index-diff's own fields, object keys sorted by their UTF-8 bytes at
//! every depth, serialized compactly. Numbers keep their text as written.

use crate::record::RawRecord;
use common::ndjson::write_json_string;
use common::result::BOOKKEEPING;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::borrow::Cow;

/// A sha256 digest.
pub type Hash = [u8; 32];

/// Whether a field is one of index-diff's own (`common::result::BOOKKEEPING`),
/// which are never part of the hash.
pub fn is_own_field(name: &str) -> bool {
    name.starts_with('_') && BOOKKEEPING.contains(&name)
}

/// Column names as JSON strings, written once for every record.
pub fn json_names(headers: &[String]) -> Vec<Vec<u8>> {
    headers
        .iter()
        .map(|name| {
            let mut json = Vec::with_capacity(name.len() + 2);
            write_json_string(&mut json, name.as_bytes());
            json
        })
        .collect()
}

fn skipped(exclude: &[String], column: &str) -> bool {
    is_own_field(column) || exclude.iter().any(|c| c == column)
}

/// A field name as a JSON string. A name borrowed from the input line had
/// no escapes there, so it needs none.
fn write_name(out: &mut Vec<u8>, name: &str, borrowed: bool) {
    if borrowed {
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.push(b'"');
    } else {
        write_json_string(out, name.as_bytes());
    }
}

/// Hashes records, reusing one buffer.
#[derive(Debug)]
pub struct ContentHasher {
    exclude: Vec<String>,
    buf: Vec<u8>,
    /// The fields of the record being hashed, in hash order.
    order: Vec<usize>,
}

impl ContentHasher {
    pub fn new(exclude: &[String]) -> Self {
        ContentHasher {
            exclude: exclude.to_vec(),
            buf: Vec::with_capacity(4096),
            order: Vec::with_capacity(64),
        }
    }

    /// Whether a top-level column is left out of the hash.
    pub fn skips(&self, column: &str) -> bool {
        skipped(&self.exclude, column)
    }

    /// The hash of an NDJSON record. A name that appears twice counts
    /// once, with its last value, as a JSON parser would keep it.
    pub fn record(&mut self, record: &RawRecord) -> Hash {
        self.buf.clear();
        let fields = &record.fields;
        self.order.clear();
        let exclude = &self.exclude;
        self.order
            .extend((0..fields.len()).filter(|&i| !skipped(exclude, &fields[i].0)));
        // Stable: of equal names, the last stays last.
        self.order.sort_by(|&a, &b| fields[a].0.cmp(&fields[b].0));
        self.buf.push(b'{');
        let mut first = true;
        for (n, &i) in self.order.iter().enumerate() {
            let (name, value) = &fields[i];
            if self
                .order
                .get(n + 1)
                .is_some_and(|&next| fields[next].0 == *name)
            {
                continue;
            }
            if !first {
                self.buf.push(b',');
            }
            first = false;
            write_name(&mut self.buf, name, matches!(name, Cow::Borrowed(_)));
            self.buf.push(b':');
            write_raw_canonical(&mut self.buf, value);
        }
        self.buf.push(b'}');
        Sha256::digest(&self.buf).into()
    }

    /// The order in which a CSV header's columns enter the hash: sorted by
    /// name, without the skipped ones.
    pub fn csv_order(&self, headers: &[String]) -> Vec<usize> {
        let mut order: Vec<usize> = (0..headers.len())
            .filter(|&i| !self.skips(&headers[i]))
            .collect();
        order.sort_by(|&a, &b| headers[a].cmp(&headers[b]));
        order
    }

    /// The hash of a CSV record (fields checked to be UTF-8), its columns
    /// taken in `order` (from [`ContentHasher::csv_order`]); `names` are
    /// the column names as JSON strings (from [`json_names`]).
    pub fn csv(&mut self, names: &[Vec<u8>], order: &[usize], record: &csv::ByteRecord) -> Hash {
        self.buf.clear();
        self.buf.push(b'{');
        for (n, &i) in order.iter().enumerate() {
            if n > 0 {
                self.buf.push(b',');
            }
            self.buf.extend_from_slice(&names[i]);
            self.buf.push(b':');
            write_json_string(&mut self.buf, record.get(i).unwrap_or_default());
        }
        self.buf.push(b'}');
        Sha256::digest(&self.buf).into()
    }
}

/// A raw value in canonical form: a string without escapes, a number,
/// true, false and null are already canonical as written.
fn write_raw_canonical(out: &mut Vec<u8>, text: &str) {
    match text.as_bytes().first() {
        Some(b'"') if text.contains('\\') => match serde_json::from_str::<String>(text) {
            Ok(s) => write_json_string(out, s.as_bytes()),
            Err(_) => out.extend_from_slice(text.as_bytes()),
        },
        Some(b'{' | b'[') => match nested_value(text) {
            Ok(value) => write_canonical(out, &value),
            Err(_) => out.extend_from_slice(text.as_bytes()),
        },
        _ => out.extend_from_slice(text.as_bytes()),
    }
}

/// A field's array or object, from a record already checked to nest no
/// deeper than `common::ndjson::MAX_DEPTH` (serde_json's own limit is lifted).
fn nested_value(text: &str) -> serde_json::Result<Value> {
    use serde::Deserialize;
    let mut reader = serde_json::Deserializer::from_str(text);
    reader.disable_recursion_limit();
    Value::deserialize(&mut reader)
}

fn write_fields(out: &mut Vec<u8>, fields: &[(&String, &Value)]) {
    out.push(b'{');
    for (n, (key, value)) in fields.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        write_json_string(out, key.as_bytes());
        out.push(b':');
        write_canonical(out, value);
    }
    out.push(b'}');
}

fn write_canonical(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::String(s) => write_json_string(out, s.as_bytes()),
        Value::Array(items) => {
            out.push(b'[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                write_canonical(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut fields: Vec<(&String, &Value)> = map.iter().collect();
            fields.sort_unstable_by(|a, b| a.0.cmp(b.0));
            write_fields(out, &fields);
        }
    }
}

/// Lower-case hex of a hash, appended to `out`.
pub fn push_hex(out: &mut Vec<u8>, hash: &Hash) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in hash {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 0xf)]);
    }
}

/// Parse 64 hex digits (either case).
pub fn parse_hex(text: &str) -> Option<Hash> {
    /// The value of each byte as a hex digit; 0xff for not a digit.
    const DIGIT: [u8; 256] = {
        let mut table = [0xffu8; 256];
        let mut i = 0;
        while i < 10 {
            table[b'0' as usize + i] = i as u8;
            i += 1;
        }
        let mut i = 0;
        while i < 6 {
            table[b'a' as usize + i] = 10 + i as u8;
            table[b'A' as usize + i] = 10 + i as u8;
            i += 1;
        }
        table
    };
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut hash = [0u8; 32];
    let mut invalid = 0u8;
    for (out, pair) in hash.iter_mut().zip(bytes.chunks_exact(2)) {
        let (high, low) = (DIGIT[usize::from(pair[0])], DIGIT[usize::from(pair[1])]);
        invalid |= (high | low) & 0xf0;
        *out = high << 4 | low;
    }
    (invalid == 0).then_some(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_of(h: &mut ContentHasher, text: &str) -> Hash {
        let record = RawRecord::parse(text.as_bytes(), "t", 1);
        h.record(&record.unwrap_or(RawRecord { fields: Vec::new() }))
    }

    #[test]
    fn key_order_and_own_fields_do_not_change_the_hash() {
        let mut h = ContentHasher::new(&["seen_at".to_string()]);
        let a = hash_of(&mut h, r#"{"b": {"y": 1, "x": [true, null]}, "a": "1"}"#);
        let b = hash_of(
            &mut h,
            r#"{"_op": "new", "a": "1", "seen_at": "2024-01-01",
                "b": {"x": [true, null], "y": 1}, "_hash": "00"}"#,
        );
        assert_eq!(a, b);
        let c = hash_of(&mut h, r#"{"a": "2", "b": {"x": [true, null], "y": 1}}"#);
        assert_ne!(a, c);
    }

    #[test]
    fn the_canonical_form_is_sorted_compact_json() {
        let mut h = ContentHasher::new(&[]);
        let got = hash_of(
            &mut h,
            r#"{"b": "2", "e": "caf\u00e9", "a": {"d": 1.50, "c": "x\"y"}, "b": "3"}"#,
        );
        let want: Hash =
            Sha256::digest(r#"{"a":{"c":"x\"y","d":1.50},"b":"3","e":"café"}"#.as_bytes()).into();
        assert_eq!(got, want);
    }

    #[test]
    fn csv_records_hash_like_objects_of_strings() {
        let mut h = ContentHasher::new(&["skip".to_string()]);
        let headers: Vec<String> = ["b", "skip", "a"].map(String::from).to_vec();
        let order = h.csv_order(&headers);
        let record = csv::ByteRecord::from(vec!["2", "zz", "1"]);
        let from_csv = h.csv(&json_names(&headers), &order, &record);
        let from_json = hash_of(&mut h, r#"{"a": "1", "b": "2"}"#);
        assert_eq!(from_csv, from_json);
    }

    #[test]
    fn hex_round_trips() {
        let hash: Hash = Sha256::digest(b"abc").into();
        let mut text = Vec::new();
        push_hex(&mut text, &hash);
        let text = String::from_utf8_lossy(&text).into_owned();
        assert_eq!(text, common::hash::hex(&hash));
        assert_eq!(parse_hex(&text), Some(hash));
        assert_eq!(parse_hex(&text.to_uppercase()), Some(hash));
        assert_eq!(parse_hex("abc"), None);
        assert_eq!(parse_hex(&"g".repeat(64)), None);
    }
}
