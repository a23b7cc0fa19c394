//! `--types`: how a text value is written as a JSON value, and JSON text output.

use common::ndjson::write_json_string;
use common::{Error, Result};
use serde_json::Value;
use std::io::{self, Write};

/// The JSON type a column's values are written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    String,
    Int,
    Num,
    Bool,
    Json,
}

impl ValueType {
    pub fn parse(name: &str) -> Result<ValueType> {
        Ok(match name.trim() {
            "string" | "str" => ValueType::String,
            "int" | "integer" => ValueType::Int,
            "num" | "number" | "float" => ValueType::Num,
            "bool" | "boolean" => ValueType::Bool,
            "json" => ValueType::Json,
            other => {
                return Err(Error::usage(format!(
                    "--types: unknown type {other:?} (use string, int, num, bool or json)"
                )));
            }
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::Int => "int",
            ValueType::Num => "num",
            ValueType::Bool => "bool",
            ValueType::Json => "json",
        }
    }

    /// Write `text` as this type. `Ok(false)` means it does not convert.
    /// An empty text is null for every type but string.
    pub fn write_text(self, out: &mut Vec<u8>, text: &[u8]) -> io::Result<bool> {
        if self == ValueType::String {
            write_json_string(out, text);
            return Ok(true);
        }
        let trimmed = text.trim_ascii();
        if trimmed.is_empty() {
            out.write_all(b"null")?;
            return Ok(true);
        }
        match self {
            ValueType::String => {
                write_json_string(out, text);
                Ok(true)
            }
            ValueType::Int => match normalise_int(trimmed) {
                Some((negative, digits)) => {
                    if negative {
                        out.write_all(b"-")?;
                    }
                    out.write_all(digits)?;
                    Ok(true)
                }
                None => Ok(false),
            },
            ValueType::Num => {
                // Written from the text, never through f64, so no digit is lost.
                let Some(number) = normalise_num(trimmed) else {
                    return Ok(false);
                };
                let finite = std::str::from_utf8(&number)
                    .ok()
                    .and_then(|s| s.parse::<f64>().ok())
                    .is_some_and(f64::is_finite);
                if finite {
                    out.extend_from_slice(&number);
                }
                Ok(finite)
            }
            ValueType::Bool => match parse_bool(trimmed) {
                Some(b) => {
                    out.write_all(if b { b"true" } else { b"false" })?;
                    Ok(true)
                }
                None => Ok(false),
            },
            ValueType::Json => match serde_json::from_slice::<Value>(trimmed) {
                Ok(v) => {
                    serde_json::to_writer(&mut *out, &v)?;
                    Ok(true)
                }
                Err(_) => Ok(false),
            },
        }
    }

    /// Whether a JSON (non-string, non-null) value already has this type.
    pub fn accepts(self, value: &Value) -> bool {
        match self {
            ValueType::String => false,
            ValueType::Int => value.as_number().is_some_and(|n| {
                let text = n.to_string();
                normalise_int(text.as_bytes()).is_some()
            }),
            ValueType::Num => value.is_number(),
            ValueType::Bool => value.is_boolean(),
            ValueType::Json => true,
        }
    }
}

/// `[+-]?[0-9]+` without its sign and leading zeros.
fn normalise_int(text: &[u8]) -> Option<(bool, &[u8])> {
    let (negative, digits) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let start = digits
        .iter()
        .position(|&b| b != b'0')
        .unwrap_or(digits.len() - 1);
    let digits = &digits[start..];
    Some((negative && digits != b"0", digits))
}

/// A decimal number in JSON's grammar: `+` and leading zeros dropped, a
/// bare `.5` or `5.` completed or trimmed. `None` if it is not a number.
fn normalise_num(text: &[u8]) -> Option<Vec<u8>> {
    let (negative, rest) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let mantissa_end = rest
        .iter()
        .position(|&b| b == b'e' || b == b'E')
        .unwrap_or(rest.len());
    let (mantissa, exponent) = rest.split_at(mantissa_end);
    let (int, fraction) = match mantissa.iter().position(|&b| b == b'.') {
        Some(dot) => (&mantissa[..dot], &mantissa[dot + 1..]),
        None => (mantissa, &b""[..]),
    };
    if int.is_empty() && fraction.is_empty() {
        return None;
    }
    let int = match int.iter().position(|&b| b != b'0') {
        Some(start) => &int[start..],
        None => &b"0"[..],
    };
    let mut out = Vec::with_capacity(text.len() + 1);
    if negative {
        out.push(b'-');
    }
    out.extend_from_slice(int);
    if !fraction.is_empty() {
        out.push(b'.');
        out.extend_from_slice(fraction);
    }
    out.extend_from_slice(exponent);
    is_json_number(&out).then_some(out)
}

/// JSON's number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn is_json_number(text: &[u8]) -> bool {
    let mut i = 0;
    let n = text.len();
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < n && text[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < n && text[i] == b'-' {
        i += 1;
    }
    let start = i;
    let int = digits(&mut i);
    if int == 0 || (int > 1 && text[start] == b'0') {
        return false;
    }
    if i < n && text[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if i < n && (text[i] == b'e' || text[i] == b'E') {
        i += 1;
        if i < n && (text[i] == b'+' || text[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == n
}

fn parse_bool(text: &[u8]) -> Option<bool> {
    const TRUE: [&[u8]; 5] = [b"true", b"t", b"yes", b"y", b"1"];
    const FALSE: [&[u8]; 5] = [b"false", b"f", b"no", b"n", b"0"];
    if TRUE.iter().any(|t| text.eq_ignore_ascii_case(t)) {
        Some(true)
    } else if FALSE.iter().any(|t| text.eq_ignore_ascii_case(t)) {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(t: ValueType, text: &str) -> Option<String> {
        let mut out = Vec::new();
        match t.write_text(&mut out, text.as_bytes()) {
            Ok(true) => Some(String::from_utf8_lossy(&out).into_owned()),
            _ => None,
        }
    }

    #[test]
    fn conversions() {
        assert_eq!(conv(ValueType::Int, "007").as_deref(), Some("7"));
        assert_eq!(conv(ValueType::Int, "-0").as_deref(), Some("0"));
        assert_eq!(conv(ValueType::Int, " +12 ").as_deref(), Some("12"));
        assert_eq!(
            conv(ValueType::Int, "123456789012345678901234567890").as_deref(),
            Some("123456789012345678901234567890")
        );
        assert_eq!(conv(ValueType::Int, "1.5"), None);
        assert_eq!(conv(ValueType::Int, "").as_deref(), Some("null"));
        assert_eq!(conv(ValueType::Num, "1.50").as_deref(), Some("1.50"));
        assert_eq!(conv(ValueType::Num, ".5").as_deref(), Some("0.5"));
        assert_eq!(conv(ValueType::Num, "NaN"), None);
        assert_eq!(conv(ValueType::Num, "1e400"), None);
        // Long values keep every digit (an f64 would round them).
        assert_eq!(
            conv(ValueType::Num, "00123456789012345678").as_deref(),
            Some("123456789012345678")
        );
        assert_eq!(
            conv(ValueType::Num, "+0012345678901234567.8900").as_deref(),
            Some("12345678901234567.8900")
        );
        assert_eq!(conv(ValueType::Num, "5.").as_deref(), Some("5"));
        assert_eq!(conv(ValueType::Num, "-.5e3").as_deref(), Some("-0.5e3"));
        assert_eq!(conv(ValueType::Num, "."), None);
        assert_eq!(conv(ValueType::Num, "1.2.3"), None);
        assert_eq!(conv(ValueType::Num, "12abc"), None);
        assert_eq!(conv(ValueType::Bool, "Yes").as_deref(), Some("true"));
        assert_eq!(conv(ValueType::Bool, "0").as_deref(), Some("false"));
        assert_eq!(conv(ValueType::Bool, "maybe"), None);
        assert_eq!(
            conv(ValueType::Json, "[1,{\"a\":2}]").as_deref(),
            Some("[1,{\"a\":2}]")
        );
        assert_eq!(conv(ValueType::String, "").as_deref(), Some("\"\""));
    }
}
