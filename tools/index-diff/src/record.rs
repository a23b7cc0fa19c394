//! An NDJSON record as its top-level fields, each value left as the raw
//! JSON text of the line: copied to the output as it is, and parsed only
//! where the key or the hash needs it.

use common::error::Location;
use common::ndjson::{check_depth, json_syntax_error};
use common::{Error, Result};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// One record's top-level fields in input order: names, and values as
/// their JSON text.
#[derive(Debug)]
pub struct RawRecord<'a> {
    pub fields: Vec<(Cow<'a, str>, &'a str)>,
}

impl<'a> RawRecord<'a> {
    /// Parse one NDJSON line; errors name the file and line, never the text.
    /// A line nested deeper than `MAX_DEPTH` is a data error.
    pub fn parse(bytes: &'a [u8], file: &str, line: u64) -> Result<RawRecord<'a>> {
        if let Some(fields) = scan_flat(bytes) {
            return Ok(RawRecord { fields });
        }
        check_depth(bytes, file, line)?;
        let mut de = serde_json::Deserializer::from_slice(bytes);
        de.disable_recursion_limit();
        let fields = de
            .deserialize_any(RecordVisitor)
            .and_then(|fields| de.end().map(|()| fields));
        match fields {
            Ok(fields) => Ok(RawRecord {
                fields: fields.into_iter().map(|(k, v)| (k, v.get())).collect(),
            }),
            Err(e) if e.is_data() => Err(Error::data_at(
                &Location::line(file, line),
                "expected a JSON object",
            )),
            Err(e) => Err(json_syntax_error(&e, file, line)),
        }
    }

    /// The value of a field (the last one, if the name appears twice).
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.fields
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| *v)
    }
}

/// The common case without a JSON parser: an object whose values are
/// strings without escapes, numbers, true, false or null. `None` for
/// anything else (nested values, escapes, invalid JSON), which the parser
/// then reads or refuses.
fn scan_flat(bytes: &[u8]) -> Option<Vec<(Cow<'_, str>, &str)>> {
    // One check for the whole line: every piece cut at an ASCII byte is
    // then valid UTF-8 too.
    let text = std::str::from_utf8(bytes).ok()?;
    let b = text.as_bytes();
    let mut fields = Vec::with_capacity(16);
    let mut i = skip_space(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_space(b, i + 1);
    if b.get(i) == Some(&b'}') {
        return (skip_space(b, i + 1) == b.len()).then_some(fields);
    }
    loop {
        let name_end = plain_string_end(b, i)?;
        let name = &text[i + 1..name_end - 1];
        i = skip_space(b, name_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_space(b, i + 1);
        let value_end = match b.get(i)? {
            b'"' => plain_string_end(b, i)?,
            b'-' | b'0'..=b'9' => number_end(b, i)?,
            b't' if b[i..].starts_with(b"true") => i + 4,
            b'f' if b[i..].starts_with(b"false") => i + 5,
            b'n' if b[i..].starts_with(b"null") => i + 4,
            _ => return None,
        };
        fields.push((Cow::Borrowed(name), &text[i..value_end]));
        i = skip_space(b, value_end);
        match b.get(i)? {
            b',' => i = skip_space(b, i + 1),
            b'}' => return (skip_space(b, i + 1) == b.len()).then_some(fields),
            _ => return None,
        }
    }
}

fn skip_space(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// The end (after the closing quote) of a string at `i` without escapes
/// or control characters.
fn plain_string_end(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let rest = &b[i + 1..];
    let close = memchr::memchr2(b'"', b'\\', rest)?;
    if rest[close] != b'"' || rest[..close].iter().any(|&c| c < 0x20) {
        return None;
    }
    Some(i + 1 + close + 1)
}

/// The end of a JSON number at `i`: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
fn number_end(b: &[u8], mut i: usize) -> Option<usize> {
    let digits = |b: &[u8], i: usize| b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i)? {
        b'0' => i += 1,
        b'1'..=b'9' => i += digits(b, i),
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        let n = digits(b, i + 1);
        if n == 0 {
            return None;
        }
        i += 1 + n;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let n = digits(b, i);
        if n == 0 {
            return None;
        }
        i += n;
    }
    Some(i)
}

/// What a key field holds.
#[derive(Debug, PartialEq, Eq)]
pub enum KeyValue<'a> {
    Text(Cow<'a, str>),
    Missing,
    Null,
    Empty,
    Other,
}

/// Read a key value: a non-empty string, or a number's text.
pub fn key_value(raw: Option<&str>) -> KeyValue<'_> {
    let Some(text) = raw else {
        return KeyValue::Missing;
    };
    match text.as_bytes().first() {
        Some(b'"') => match string_value(text) {
            Some(s) if s.is_empty() => KeyValue::Empty,
            Some(s) => KeyValue::Text(s),
            None => KeyValue::Other,
        },
        Some(b'-' | b'0'..=b'9') => KeyValue::Text(Cow::Borrowed(text)),
        Some(b'n') => KeyValue::Null,
        _ => KeyValue::Other,
    }
}

/// The text of a raw JSON string, borrowed when it has no escapes.
pub fn string_value(raw: &str) -> Option<Cow<'_, str>> {
    if !raw.contains('\\') {
        return raw
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .map(Cow::Borrowed);
    }
    serde_json::from_str::<String>(raw).ok().map(Cow::Owned)
}

struct RecordVisitor;

impl<'de> Visitor<'de> for RecordVisitor {
    type Value = Vec<(Cow<'de, str>, &'de RawValue)>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Vec::with_capacity(16);
        while let Some(name) = map.next_key_seed(NameSeed)? {
            let value: &RawValue = map.next_value()?;
            fields.push((name, value));
        }
        Ok(fields)
    }

    // Anything but an object is a data error; the caller words it.
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Err(E::custom("not an object"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Err(E::custom("not an object"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Err(E::custom("not an object"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(E::custom("not an object"))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Err(E::custom("not an object"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Err(E::custom("not an object"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(de::Error::custom("not an object"))
    }
}

/// A field name, borrowed from the line when it has no escapes.
struct NameSeed;

impl<'de> DeserializeSeed<'de> for NameSeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(NameVisitor)
    }
}

struct NameVisitor;

impl<'de> Visitor<'de> for NameVisitor {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_borrowed_str<E: de::Error>(self, name: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(name))
    }
    fn visit_str<E: de::Error>(self, name: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_keep_their_raw_text() -> Result<()> {
        let line = br#"{"a": [1, 2], "b\u0041": "x\"y", "n": 1.50, "a": null}"#;
        let record = RawRecord::parse(line, "t", 1)?;
        let names: Vec<&str> = record.fields.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(names, ["a", "bA", "n", "a"]);
        assert_eq!(record.get("a"), Some("null"));
        assert_eq!(record.get("n"), Some("1.50"));
        Ok(())
    }

    /// The parser's reading of a line, for comparison with the scanner's.
    fn parsed(line: &[u8]) -> Option<Vec<(String, String)>> {
        let mut de = serde_json::Deserializer::from_slice(line);
        let fields = de.deserialize_any(RecordVisitor).ok()?;
        de.end().ok()?;
        Some(
            fields
                .into_iter()
                .map(|(k, v)| (k.into_owned(), v.get().to_string()))
                .collect(),
        )
    }

    #[test]
    fn the_scanner_reads_flat_objects_as_the_parser_does() {
        for line in [
            &b"{}"[..],
            b" { } ",
            b"{\"a\":1}",
            b"{\"a\" : \"x y\" , \"b\":-0.5e+10,\"c\":true,\"d\":false,\"e\":null,\"f\":0}",
            b"{\"caf\xc3\xa9\":\"\xe2\x82\xac 5\",\"n\":12345678901234567890123}",
            b"{\"a\":1,\"a\":2}\t",
        ] {
            let scanned = scan_flat(line).map(|fields| {
                fields
                    .into_iter()
                    .map(|(k, v)| (k.into_owned(), v.to_string()))
                    .collect::<Vec<_>>()
            });
            assert!(scanned.is_some(), "{}", String::from_utf8_lossy(line));
            assert_eq!(scanned, parsed(line), "{}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn the_scanner_leaves_everything_else_to_the_parser() {
        for line in [
            // Valid, but not flat: the parser reads these.
            &b"{\"a\":{\"b\":1}}"[..],
            b"{\"a\":[1]}",
            b"{\"a\\u0041\":1}",
            b"{\"a\":\"x\\ny\"}",
            // Invalid: the parser says why.
            b"",
            b"[1]",
            b"{\"a\":01}",
            b"{\"a\":1.}",
            b"{\"a\":-}",
            b"{\"a\":1e}",
            b"{\"a\":tru}",
            b"{\"a\":truex}",
            b"{\"a\":1,}",
            b"{\"a\":1 \"b\":2}",
            b"{\"a\" 1}",
            b"{\"a\":1} x",
            b"{\"a\":\"tab\there\"}",
            b"{\"a\":\"\xff\"}",
            b"{\"a\":\"open}",
            b"{a:1}",
            b"{\"a\":1",
        ] {
            assert!(
                scan_flat(line).is_none(),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn keys() -> Result<()> {
        let record = RawRecord::parse(
            br#"{"s":"k1","e":"","n":42,"z":null,"o":{},"x":"a\/b"}"#,
            "t",
            1,
        )?;
        assert_eq!(key_value(record.get("s")), KeyValue::Text("k1".into()));
        assert_eq!(key_value(record.get("n")), KeyValue::Text("42".into()));
        assert_eq!(key_value(record.get("x")), KeyValue::Text("a/b".into()));
        assert_eq!(key_value(record.get("e")), KeyValue::Empty);
        assert_eq!(key_value(record.get("z")), KeyValue::Null);
        assert_eq!(key_value(record.get("o")), KeyValue::Other);
        assert_eq!(key_value(record.get("none")), KeyValue::Missing);
        Ok(())
    }

    #[test]
    fn errors_say_where_not_what() {
        for (line, want) in [
            (&b"[\"Secret\"]"[..], "expected a JSON object"),
            (b"\"Secret\"", "expected a JSON object"),
            (b"12", "expected a JSON object"),
            (b"{\"a\": \"Secret", "not valid JSON"),
            (b"{\"a\": 1} x", "not valid JSON"),
        ] {
            let err = RawRecord::parse(line, "in.ndjson", 7).map(|_| ()).err();
            let text = err.map(|e| e.to_string()).unwrap_or_default();
            assert!(text.starts_with("in.ndjson: line 7: "), "{text}");
            assert!(text.contains(want), "{text}");
            assert!(!text.contains("Secret"), "{text}");
        }
    }
}
