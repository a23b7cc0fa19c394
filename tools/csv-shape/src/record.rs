//! One NDJSON record as csv-shape reads it: its keys and string values
//! borrowed from the line where JSON escapes allow, in the line's order.
//! Building a `serde_json::Map` of owned strings for every record cost more
//! than all the rest of the work on it.

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// A value as csv-shape tells them apart.
#[derive(Debug, PartialEq)]
pub enum Field<'a> {
    Null,
    Text(Cow<'a, str>),
    /// A number, boolean, array or object.
    Json(Value),
}

/// The record's keys and values in the line's order, a repeated key as
/// often as the line has it (the last one counts, as in a JSON object).
#[derive(Debug, Default)]
pub struct Record<'a> {
    pub fields: Vec<(Cow<'a, str>, Field<'a>)>,
}

impl<'a> Record<'a> {
    /// Parse one line. The error's message may differ from what reading the
    /// line as a `serde_json::Value` says (a line that is no object is
    /// refused before the rest is read): the caller words it from that.
    /// The line must be checked first to nest no deeper than
    /// `common::ndjson::MAX_DEPTH`: serde_json's own limit is lifted.
    pub fn parse(line: &'a [u8]) -> serde_json::Result<Self> {
        let mut reader = serde_json::Deserializer::from_slice(line);
        reader.disable_recursion_limit();
        let record = Record::deserialize(&mut reader)?;
        reader.end()?;
        Ok(record)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|(k, _)| k.as_ref())
    }

    /// The value of `key` (its last occurrence).
    #[cfg(test)]
    pub fn get(&self, key: &str) -> Option<&Field<'a>> {
        self.fields
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// Whether the keys are exactly `keys[..n]`, in that order, each once:
    /// then the value of `keys[i]` is `fields[i]` and the rest of `keys` are
    /// absent.
    pub fn aligned(&self, keys: &[String], n: usize) -> bool {
        self.fields.len() == n
            && self
                .fields
                .iter()
                .zip(keys)
                .all(|((k, _), key)| k == key.as_str())
    }
}

impl Field<'_> {
    fn from_raw(raw: &RawValue) -> serde_json::Result<Field<'_>> {
        let text = raw.get();
        match text.as_bytes().first() {
            Some(b'"') if !text.contains('\\') => Ok(Field::Text(Cow::Borrowed(
                text.get(1..text.len() - 1).unwrap_or_default(),
            ))),
            Some(b'"') => serde_json::from_str::<String>(text).map(|s| Field::Text(Cow::Owned(s))),
            Some(b'n') => Ok(Field::Null),
            _ => {
                let mut reader = serde_json::Deserializer::from_str(text);
                reader.disable_recursion_limit();
                Value::deserialize(&mut reader).map(Field::Json)
            }
        }
    }
}

/// A key, borrowed when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for Record<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RecordVisitor;
        impl<'de> Visitor<'de> for RecordVisitor {
            type Value = Record<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Record<'de>, M::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(16));
                while let Some((Key(key), raw)) = map.next_entry::<Key<'de>, &'de RawValue>()? {
                    let value = Field::from_raw(raw).map_err(de::Error::custom)?;
                    fields.push((key, value));
                }
                Ok(Record { fields })
            }
        }
        deserializer.deserialize_map(RecordVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_without_escapes_are_borrowed_and_the_rest_are_parsed() {
        let line =
            br#"{"a":"x y","b\u0041":"q\"t\u00e9","c":null,"d":1.50,"e":[1,{"f":true}],"g":false}"#;
        let r = Record::parse(line).unwrap_or_default();
        let keys: Vec<&str> = r.keys().collect();
        assert_eq!(keys, ["a", "bA", "c", "d", "e", "g"]);
        assert!(matches!(
            &r.fields[0],
            (Cow::Borrowed("a"), Field::Text(Cow::Borrowed("x y")))
        ));
        assert!(matches!(&r.fields[1].0, Cow::Owned(k) if k == "bA"));
        assert_eq!(r.fields[1].1, Field::Text(Cow::Owned("q\"t\u{e9}".into())));
        assert_eq!(r.fields[2].1, Field::Null);
        assert_eq!(
            r.fields[3].1,
            Field::Json(serde_json::from_str("1.50").unwrap_or_default())
        );
        assert_eq!(r.fields[4].1, Field::Json(json!([1, {"f": true}])));
        assert_eq!(r.fields[5].1, Field::Json(json!(false)));
        // Space around a value is not part of it.
        let r = Record::parse(b"{ \"a\" :  \"x\" ,\t\"b\":\tnull }").unwrap_or_default();
        assert_eq!(r.get("a"), Some(&Field::Text("x".into())));
        assert_eq!(r.get("b"), Some(&Field::Null));
    }

    #[test]
    fn the_last_of_a_repeated_key_counts_and_breaks_alignment() {
        let r = Record::parse(br#"{"a":"1","b":"2","a":"3"}"#).unwrap_or_default();
        assert_eq!(r.get("a"), Some(&Field::Text("3".into())));
        assert_eq!(r.get("z"), None);
        let keys = ["a".to_string(), "b".to_string()];
        assert!(!r.aligned(&keys, 2));
        let r = Record::parse(br#"{"a":"1","b":"2"}"#).unwrap_or_default();
        assert!(r.aligned(&keys, 2));
        assert!(!r.aligned(&keys, 1));
    }

    #[test]
    fn a_line_that_is_json_but_no_object_is_a_data_error() {
        for line in [&b"42"[..], b"[1]", b"\"x\"", b"null"] {
            assert!(Record::parse(line).is_err_and(|e| e.is_data()), "{line:?}");
        }
        for line in [&b"{\"a\":"[..], b"{\"a\":1} x", b"{\"a\":\"\x01\"}"] {
            assert!(Record::parse(line).is_err_and(|e| !e.is_data()), "{line:?}");
        }
    }
}
