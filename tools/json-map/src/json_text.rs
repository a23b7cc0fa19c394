//! A jq value as one line of compact JSON.

use common::jq;
use common::ndjson::write_json_string;
use jaq_json::{Num, Val};
use std::io::Write;

/// A JSON string; bytes that are not UTF-8 (from `@base64d` or
/// a byte string) become U+FFFD so that the line stays valid JSON.
fn write_text(out: &mut Vec<u8>, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(_) => write_json_string(out, bytes),
        Err(_) => write_json_string(out, String::from_utf8_lossy(bytes).as_bytes()),
    }
}

/// Compact JSON that every JSON reader takes: NaN is written as null and
/// infinities as the largest finite numbers (as jq does), byte strings as
/// text; an object key that is not a string is an error (jq's rule), and
/// so is nesting deeper than the one limit (`common::ndjson::MAX_DEPTH`).
pub fn write_json(value: &Val, out: &mut Vec<u8>) -> Result<(), String> {
    write_json_within(value, out, 0)
}

fn write_json_within(value: &Val, out: &mut Vec<u8>, depth: usize) -> Result<(), String> {
    match value {
        Val::Null => out.extend_from_slice(b"null"),
        Val::Bool(true) => out.extend_from_slice(b"true"),
        Val::Bool(false) => out.extend_from_slice(b"false"),
        Val::TStr(s) | Val::BStr(s) => write_text(out, s),
        Val::Num(Num::Dec(digits)) => out.extend_from_slice(digits.as_bytes()),
        Val::Num(Num::Int(i)) => {
            let _ = write!(out, "{i}");
        }
        Val::Num(Num::Float(f)) if f.is_nan() => out.extend_from_slice(b"null"),
        Val::Num(Num::Float(f)) if f.is_infinite() => {
            let max = if *f > 0.0 { f64::MAX } else { f64::MIN };
            let _ = write!(out, "{max:e}");
        }
        Val::Num(n) => {
            let _ = write!(out, "{n}");
        }
        Val::Arr(items) => {
            let depth = jq::one_level_deeper(depth)?;
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json_within(item, out, depth)?;
            }
            out.push(b']');
        }
        Val::Obj(map) => {
            let depth = jq::one_level_deeper(depth)?;
            out.push(b'{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                match key {
                    Val::TStr(k) => write_text(out, k),
                    _ => {
                        return Err(
                            "filter error: an object key is not a string (JSON needs string keys)"
                                .to_string(),
                        );
                    }
                }
                out.push(b':');
                write_json_within(item, out, depth)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}
