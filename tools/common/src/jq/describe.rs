//! Runtime errors described without the values in them.
//!
//! jaq's messages embed the values involved (`cannot index "Jane" with
//! "x"`), which may be patient data. We keep the shape of the message and
//! replace each value by its type: `cannot index a string with a string`.

use jaq_json::Val;

/// What went wrong in the filter, in words that hold no record value unless
/// `show_values` is set.
pub fn runtime_error(err: jaq_core::Error<Val>, filter_code: &str, show_values: bool) -> String {
    let text = match err.into_val() {
        Val::TStr(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        other if show_values => return format!("filter error: {other}"),
        other => {
            let shown = other.to_string();
            let kind = skip_value(&shown).map_or("a value", |(kind, _)| kind);
            return format!("filter error: error() was called with {kind}");
        }
    };
    if show_values {
        return format!("filter error: {text}");
    }
    format!("filter error: {}", redact(&text, filter_code))
}

/// The message with its values replaced by their types, or a generic
/// description when the message cannot be taken apart.
fn redact(text: &str, filter_code: &str) -> String {
    if STATIC.contains(&text) {
        // jaq's own words, "cannot parse as number" among them: keep them whole.
        return text.to_string();
    }
    if let Some(rest) = text.strip_prefix("cannot use ")
        && let Some((kind, rest)) = skip_value(rest)
    {
        let target = rest.strip_prefix(" as ").filter(|t| TYPES.contains(t));
        return match target {
            Some(target) => format!("cannot use {kind} as {target}"),
            None => format!("cannot use {kind} here"),
        };
    }
    if let Some(rest) = text.strip_prefix("cannot index ")
        && let Some((kind, rest)) = skip_value(rest)
    {
        let index = rest.strip_prefix(" with ").and_then(skip_value);
        return match index {
            Some((index, _)) => format!("cannot index {kind} with {index}"),
            None => format!("cannot index {kind}"),
        };
    }
    if let Some(rest) = text.strip_prefix("cannot calculate ")
        && let Some((left, rest)) = skip_value(rest)
    {
        let op = rest.get(1..2).filter(|op| "+-*/%".contains(op));
        let right = rest.get(3..).and_then(skip_value);
        return match (op, right) {
            (Some(op), Some((right, _))) => format!("cannot calculate {left} {op} {right}"),
            _ => format!("cannot calculate with {left}"),
        };
    }
    if let Some(rest) = text.strip_prefix("invalid path expression with input ") {
        let kind = skip_value(rest).map_or("a value", |(kind, _)| kind);
        return format!("invalid path expression (its input is {kind})");
    }
    if text.starts_with("index ") && text.ends_with(" out of bounds") {
        return "array index out of bounds".to_string();
    }
    if let Some(value) = text.strip_suffix(" has no length") {
        let kind = skip_value(value).map_or("a value", |(kind, _)| kind);
        return format!("{kind} has no length");
    }
    for verb in ["parse", "serialise", "convert"] {
        if let Some(rest) = text.strip_prefix(&format!("cannot {verb} "))
            && let Some((kind, rest)) = skip_value(rest)
        {
            let target = rest
                .strip_prefix(" as ")
                .or_else(|| rest.strip_prefix(" to "))
                .and_then(|t| t.split([':', ' ']).next())
                .filter(|t| FORMATS.contains(t));
            let link = if verb == "convert" { "to" } else { "as" };
            return match target {
                Some(target) => format!("cannot {verb} {kind} {link} {target}"),
                None => format!("cannot {verb} {kind}"),
            };
        }
    }
    if text.starts_with("invalid regex flag") {
        return "invalid regex flag".to_string();
    }
    if text.starts_with("invalid regex") {
        return "invalid regex".to_string();
    }
    if text.starts_with("strptime parsing failed") {
        return "strptime cannot read the date with that format".to_string();
    }
    if text.starts_with("failed to parse") {
        return "cannot read a date or time".to_string();
    }
    if text.starts_with("parameter '") && text.contains("is not in the required range") {
        return "date or time out of range".to_string();
    }
    if raised_with_literal(text, filter_code) {
        // Written in the filter: no record value in it.
        return text.to_string();
    }
    HIDDEN.to_string()
}

/// The description of an error raised with a message that may hold record
/// values; a tool that has a way to show values says so after it.
pub const HIDDEN: &str = "the filter raised an error whose message may hold record values";

/// Whether the filter contains `error("<text>")` with the message as a
/// literal, so that the message is the filter author's, not a record's.
fn raised_with_literal(text: &str, filter_code: &str) -> bool {
    let Ok(literal) = serde_json::to_string(text) else {
        return false;
    };
    filter_code.match_indices(&literal).any(|(at, _)| {
        let before = filter_code[..at].trim_end();
        before
            .strip_suffix('(')
            .is_some_and(|b| b.trim_end().ends_with("error"))
    })
}

/// Type names jaq's "cannot use X as T" messages end with.
const TYPES: &[&str] = &[
    "integer",
    "number",
    "string",
    "array",
    "object",
    "boolean",
    "character",
    "iterable (array or object)",
    "rangeable (array or string)",
];

/// Formats named by jaq's parse and serialise errors.
const FORMATS: &[&str] = &[
    "JSON", "CSV", "TSV", "YAML", "XML", "TOML", "CBOR", "time", "bytes",
];

/// Messages of jaq's library that carry no value.
const STATIC: &[&str] = &[
    "cannot parse as number",
    "cannot parse as boolean",
    "split input and separator must be strings",
];

/// The type of the value at the start of `text` as jaq prints it, and the
/// text after that value.
fn skip_value(text: &str) -> Option<(&'static str, &str)> {
    let bytes = text.as_bytes();
    let (kind, end) = match *bytes.first()? {
        b'"' => ("a string", string_end(bytes, 0)?),
        b'b' if bytes.get(1) == Some(&b'"') => ("a byte string", string_end(bytes, 1)?),
        b'[' => ("an array", nested_end(bytes)?),
        b'{' => ("an object", nested_end(bytes)?),
        first => {
            let end = bytes.iter().position(|&b| b == b' ').unwrap_or(bytes.len());
            let kind = match first {
                b'n' => "null",
                b't' | b'f' => "a boolean",
                _ => "a number",
            };
            (kind, end)
        }
    };
    Some((kind, text.get(end..)?))
}

/// The index just past the string whose opening quote is at `quote`.
fn string_end(bytes: &[u8], quote: usize) -> Option<usize> {
    let mut i = quote + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The index just past the array or object that starts at 0.
fn nested_end(bytes: &[u8]) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i = string_end(bytes, i)?;
                continue;
            }
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_types() {
        let r = |t| redact(t, "");
        assert_eq!(
            r(r#"cannot index "Jane Roe" with "first""#),
            "cannot index a string with a string"
        );
        assert_eq!(
            r(r#"cannot use {"a":"x \" with y"} as iterable (array or object)"#),
            "cannot use an object as iterable (array or object)"
        );
        assert_eq!(
            r(r#"cannot calculate "a + b" - 12"#),
            "cannot calculate a string - a number"
        );
        assert_eq!(r("true has no length"), "a boolean has no length");
        assert_eq!(
            r(r#"cannot parse "Jane" as JSON: expected value"#),
            "cannot parse a string as JSON"
        );
        assert_eq!(r("bad value Jane"), HIDDEN);
        assert_eq!(
            redact("unknown facility", "error(\"unknown facility\")"),
            "unknown facility"
        );
    }
}
