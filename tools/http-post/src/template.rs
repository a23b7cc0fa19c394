//! Templates: `{field}` placeholders filled from a record, for URLs
//! (values percent-encoded) and for file names (values made safe).

use common::io::NAME_MAX;
use common::{Error, Result};
use serde_json::{Map, Value};

/// A parsed template: literal text and field names, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(String),
}

/// What a placeholder could not be filled with. Names the field, never a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Missing(pub String);

impl Template {
    /// Parse `text`; `flag` names it in errors. `{` and `}` must pair up
    /// around a field name (letters, digits, `_`, `-`, `.` for a nested field).
    pub fn parse(flag: &str, text: &str) -> Result<Template> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or_else(|| Error::usage(format!("{flag}: a '{{' without its '}}'")))?;
            let name = &after[..close];
            let valid = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
            if !valid {
                return Err(Error::usage(format!(
                    "{flag}: {{{name}}} is not a field name (letters, digits, _, - and . for a nested field)"
                )));
            }
            parts.push(Part::Field(name.to_string()));
            rest = &after[close + 1..];
        }
        if rest.contains('}') {
            return Err(Error::usage(format!("{flag}: a '}}' without its '{{'")));
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template { parts })
    }

    /// A template of literal text only (one request's URL, taken as given).
    pub fn literal(text: &str) -> Template {
        Template {
            parts: vec![Part::Text(text.to_string())],
        }
    }

    /// The template with each field's value from `value_of`, passed through `encode`.
    pub fn render(
        &self,
        value_of: impl Fn(&str) -> Option<String>,
        encode: impl Fn(&str) -> String,
    ) -> Result<String, Missing> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Field(name) => {
                    let value = value_of(name).ok_or_else(|| Missing(name.clone()))?;
                    out.push_str(&encode(&value));
                }
            }
        }
        Ok(out)
    }

    /// The template with every field as `x`, to check the URL's shape early.
    pub fn sample(&self) -> String {
        self.render(|_| Some("x".into()), str::to_string)
            .unwrap_or_default()
    }

    /// The template as given, `{field}` in place of each value: what
    /// messages show instead of a URL or a file name made from a record.
    pub fn text(&self) -> String {
        self.render(|name| Some(format!("{{{name}}}")), str::to_string)
            .unwrap_or_default()
    }

    /// Whether the template has no field: the same text for every record.
    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|part| matches!(part, Part::Text(_)))
    }
}

/// Check a file name template before anything is sent (64): not empty, not
/// `.` or `..`, and its literal text alone within [`NAME_MAX`] bytes.
pub fn check_file_name(flag: &str, template: &Template) -> Result<()> {
    let text = template.text();
    if template.is_literal() && matches!(text.as_str(), "" | "." | "..") {
        return Err(Error::usage(format!(
            "{flag} {text:?} names a folder, not a file: give a file name"
        )));
    }
    let literal = template.render(|_| Some(String::new()), str::to_string);
    let literal_bytes = literal.map_or(0, |l| l.len());
    if literal_bytes > NAME_MAX {
        return Err(Error::usage(format!(
            "{flag} is {literal_bytes} bytes without its fields; a file name has at most {NAME_MAX}"
        )));
    }
    Ok(())
}

/// A file name made from a record: too long for the file system is that
/// record's error (65), naming the template, never the value.
pub fn fitting_file_name(name: String, flag: &str, template: &Template) -> Result<String> {
    if name.len() > NAME_MAX {
        return Err(Error::data(format!(
            "{flag} {}: the record's values make a name of {} bytes; a file name has at most {NAME_MAX}",
            template.text(),
            name.len()
        )));
    }
    Ok(name)
}

/// A record's field as template text: a string as is, a number or a
/// boolean as its text; null, missing, an object or an array give None.
/// `a.b` looks into nested objects when there is no field named `a.b`.
pub fn field_text(record: &Map<String, Value>, name: &str) -> Option<String> {
    let value = match record.get(name) {
        Some(v) => v,
        None => {
            let mut parts = name.split('.');
            let first = record.get(parts.next()?)?;
            parts.try_fold(first, |v, part| v.get(part))?
        }
    };
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A template value made safe for a file name: no `/`, `\` or control
/// characters, no `..`, no leading dot.
pub fn file_name_safe(value: &str) -> String {
    let mut safe: String = value
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    while safe.contains("..") {
        safe = safe.replace("..", "_");
    }
    if safe.starts_with('.') || safe.is_empty() {
        safe.insert(0, '_');
    }
    safe
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn parses_and_renders() -> Result<()> {
        let t = Template::parse("URL", "https://h/api/v2/cases/{id}?x={a.b}")?;
        let rec = record(json!({"id": "c 1/2", "a": {"b": 7}}));
        let url = t.render(
            |n| field_text(&rec, n),
            common::http::url::encode_path_segment,
        );
        assert_eq!(url.as_deref(), Ok("https://h/api/v2/cases/c%201%2F2?x=7"));
        let rec = record(json!({"id": null}));
        assert_eq!(
            t.render(|n| field_text(&rec, n), str::to_string),
            Err(Missing("id".into()))
        );
        assert_eq!(
            Template::parse("URL", "https://h/x")?,
            Template::literal("https://h/x")
        );
        Ok(())
    }

    #[test]
    fn bad_templates_are_usage_errors() {
        for bad in ["a{b", "a}b", "a{}b", "a{b c}"] {
            assert_eq!(
                Template::parse("--save-name", bad)
                    .map_err(|e| e.code())
                    .err(),
                Some(64),
                "{bad}"
            );
        }
    }

    #[test]
    fn templates_show_their_fields_not_values() -> Result<()> {
        let t = Template::parse("URL", "https://h/cases/{name}/x?n={a.b}")?;
        assert_eq!(t.text(), "https://h/cases/{name}/x?n={a.b}");
        assert!(!t.is_literal() && Template::literal("a").is_literal());
        Ok(())
    }

    #[test]
    fn file_name_templates_are_checked_before_any_record() -> Result<()> {
        let code = |text: &str| {
            Template::parse("--save-name", text)
                .and_then(|t| check_file_name("--save-name", &t))
                .map_err(|e| e.code())
        };
        let long = "x".repeat(NAME_MAX + 1);
        for (text, want) in [
            (".", Err(64)),
            ("..", Err(64)),
            ("", Err(64)),
            (long.as_str(), Err(64)),
            ("{n}.json", Ok(())),
            ("...", Ok(())),
            (".{n}", Ok(())),
        ] {
            assert_eq!(code(text), want, "{text:?}");
        }
        let t = Template::parse("--save-name", "{name}.json")?;
        let name = "S".repeat(NAME_MAX);
        let e = fitting_file_name(name + ".json", "--save-name", &t).err();
        assert!(e.is_some_and(|e| e.code() == 65 && !e.message().contains("SSS")));
        Ok(())
    }

    #[test]
    fn file_names_are_made_safe() {
        assert_eq!(file_name_safe("a/b"), "a_b");
        assert_eq!(file_name_safe("../../etc"), "____etc");
        assert_eq!(file_name_safe(".hidden"), "_.hidden");
        assert_eq!(file_name_safe(""), "_");
        assert_eq!(file_name_safe("Kh1-ab_c.json"), "Kh1-ab_c.json");
    }
}
