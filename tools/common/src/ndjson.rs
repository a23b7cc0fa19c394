//! NDJSON: one JSON object per line. Blank lines are skipped; line numbers
//! in messages count from 1 and include blank lines. No JSON text nests
//! deeper than [`MAX_DEPTH`].

use crate::error::{Error, Location, Result};
use crate::io::Input;
use serde_json::{Map, Value};
use std::io::{BufRead, BufReader, Read, Write};

/// Reads NDJSON lines one at a time, reusing one buffer.
pub struct LineReader {
    name: String,
    reader: BufReader<Box<dyn Read + Send>>,
    line: u64,
    buf: Vec<u8>,
}

impl std::fmt::Debug for LineReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineReader")
            .field("name", &self.name)
            .field("line", &self.line)
            .finish()
    }
}

impl LineReader {
    pub fn new(input: Input) -> Self {
        LineReader {
            name: input.name,
            reader: BufReader::with_capacity(256 * 1024, input.reader),
            line: 0,
            buf: Vec::new(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The next non-blank line (without its newline) and its line number.
    pub fn next_line(&mut self) -> Result<Option<(u64, &[u8])>> {
        loop {
            self.buf.clear();
            let n = self
                .reader
                .read_until(b'\n', &mut self.buf)
                .map_err(|e| Error::io(format!("reading {}", self.name), e))?;
            if n == 0 {
                return Ok(None);
            }
            self.line += 1;
            let mut end = self.buf.len();
            while end > 0 && matches!(self.buf[end - 1], b'\n' | b'\r') {
                end -= 1;
            }
            let start = if self.line == 1 && self.buf.starts_with(b"\xEF\xBB\xBF") {
                3.min(end)
            } else {
                0
            };
            if !self.buf[start..end].iter().all(u8::is_ascii_whitespace) {
                return Ok(Some((self.line, &self.buf[start..end])));
            }
        }
    }

    /// The next record as a JSON object.
    pub fn next_object(&mut self) -> Result<Option<(u64, Map<String, Value>)>> {
        let name = self.name.clone();
        match self.next_line()? {
            None => Ok(None),
            Some((line, bytes)) => parse_object(bytes, &name, line).map(|o| Some((line, o))),
        }
    }
}

/// The deepest nesting of arrays and objects that any tool reads, or
/// writes from what it read. Each array or object counts one level, inside
/// the ones around it, and a value that is neither counts none: the record
/// `{"a":1}` is 1 level deep, `{"a":[1]}` 2, `{"a":[{"b":[]}]}` 4. Beyond
/// it a record is a data error (65): readers, printers and comparisons that
/// recurse then need no more stack than this many levels take.
pub const MAX_DEPTH: usize = 128;

/// How deeply the arrays and objects of a JSON text nest, counting brackets
/// outside strings in one pass; invalid JSON is counted as far as it goes.
pub fn nesting_depth(bytes: &[u8]) -> usize {
    let mut deepest = 0;
    scan_nesting(bytes, |depth| {
        deepest = deepest.max(depth);
        true
    });
    deepest
}

/// Refuse a JSON text nested deeper than [`MAX_DEPTH`], with a data error
/// naming the file and line (and no value). It stops at the level too many.
pub fn check_depth(bytes: &[u8], file: &str, line: u64) -> Result<()> {
    if scan_nesting(bytes, |depth| depth <= MAX_DEPTH) {
        Ok(())
    } else {
        Err(too_deep(&Location::line(file, line)))
    }
}

/// The data error for a value nested deeper than [`MAX_DEPTH`] at `at`.
pub fn too_deep(at: &Location) -> Error {
    Error::data_at(at, too_deep_message())
}

/// What [`too_deep`] says, without the place.
pub fn too_deep_message() -> String {
    format!("arrays and objects nested deeper than {MAX_DEPTH} levels (the limit)")
}

/// Call `open(depth)` at each `[` or `{` outside strings with the depth it
/// opens; false from `open` stops the scan, and then this returns false.
fn scan_nesting(bytes: &[u8], mut open: impl FnMut(usize) -> bool) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if !open(depth) {
                    return false;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    true
}

/// Parse one JSON text (a whole line) nested no deeper than [`MAX_DEPTH`];
/// errors name the file, line and column, never the text.
pub fn parse_json<'a, T: serde::Deserialize<'a>>(
    bytes: &'a [u8],
    file: &str,
    line: u64,
) -> Result<T> {
    check_depth(bytes, file, line)?;
    // serde_json's own limit refuses the 128th level; the check above has
    // already bounded what its recursion can meet.
    let mut reader = serde_json::Deserializer::from_slice(bytes);
    reader.disable_recursion_limit();
    T::deserialize(&mut reader)
        .and_then(|value| reader.end().map(|()| value))
        .map_err(|e| json_syntax_error(&e, file, line))
}

/// Parse one JSON text that may span lines (a lookup file, a spool file),
/// nested no deeper than [`MAX_DEPTH`]; a text too deep is refused naming
/// the line where it first passes the limit, a syntax error naming its line
/// and column, never the text.
pub fn parse_document<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8], file: &str) -> Result<T> {
    if let Some(line) = line_too_deep(bytes) {
        return Err(too_deep(&Location::line(file, line)));
    }
    let mut reader = serde_json::Deserializer::from_slice(bytes);
    reader.disable_recursion_limit();
    T::deserialize(&mut reader)
        .and_then(|value| reader.end().map(|()| value))
        .map_err(|e| json_syntax_error(&e, file, u64::try_from(e.line()).unwrap_or(0)))
}

/// The line (from 1) on which a JSON text first nests deeper than
/// [`MAX_DEPTH`]; None when it never does.
fn line_too_deep(bytes: &[u8]) -> Option<u64> {
    if scan_nesting(bytes, |depth| depth <= MAX_DEPTH) {
        return None;
    }
    // How deep a text gets only grows with its length: the first line
    // whose end is past the limit.
    let ends: Vec<usize> = (0..bytes.len())
        .filter(|&i| bytes[i] == b'\n')
        .chain([bytes.len()])
        .collect();
    let before = ends.partition_point(|&end| nesting_depth(&bytes[..end]) <= MAX_DEPTH);
    u64::try_from(before + 1).ok()
}

/// Parse one NDJSON line as an object; errors name the file, line and
/// column of the syntax error, never the text.
pub fn parse_object(bytes: &[u8], file: &str, line: u64) -> Result<Map<String, Value>> {
    match parse_json::<Value>(bytes, file, line)? {
        Value::Object(map) => Ok(map),
        _ => Err(Error::data_at(
            &Location::line(file, line),
            "expected a JSON object",
        )),
    }
}

/// A serde_json syntax error as a data error without the offending text.
pub fn json_syntax_error(err: &serde_json::Error, file: &str, line: u64) -> Error {
    let text = err.to_string();
    let what = text.split(" at line ").next().unwrap_or("syntax error");
    Error::data_at(
        &Location::line(file, line),
        format!("not valid JSON at character {} ({what})", err.column()),
    )
}

/// Append `text` as a JSON string (quoted and escaped). The text is taken
/// as UTF-8 already checked by the caller.
pub fn write_json_string(out: &mut Vec<u8>, text: &[u8]) {
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in text.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&text[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&text[start..]);
    out.push(b'"');
}

/// Write one value as a line.
pub fn write_line<W: Write>(out: &mut W, value: &Value) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(text: &'static str) -> Input {
        Input {
            name: "t.ndjson".into(),
            reader: Box::new(text.as_bytes()),
        }
    }

    #[test]
    fn skips_blank_lines_and_counts_them() -> Result<()> {
        let mut r = LineReader::new(input("{\"a\":1}\n\n  \r\n{\"b\":2}"));
        assert_eq!(r.next_object()?.map(|(l, _)| l), Some(1));
        assert_eq!(r.next_object()?.map(|(l, _)| l), Some(4));
        assert!(r.next_object()?.is_none());
        Ok(())
    }

    #[test]
    fn errors_name_the_line_not_the_value() {
        let mut r = LineReader::new(input("{\"a\":1}\n{\"name\": \"Jane Doe\"\n"));
        assert!(r.next_object().is_ok());
        let err = r.next_object().map(|_| ()).map_err(|e| e.to_string());
        let message = err.err().unwrap_or_default();
        assert!(
            message.starts_with("t.ndjson: line 2: not valid JSON"),
            "{message}"
        );
        assert!(!message.contains("Jane"));
    }

    #[test]
    fn json_strings_escape_like_serde_json() {
        for text in [
            "plain",
            "q\"uote\\back",
            "line\nfeed\r\ttab",
            "\u{1}\u{1f}\u{8}\u{c}",
            "caf\u{e9} \u{1F600}",
        ] {
            let mut out = Vec::new();
            write_json_string(&mut out, text.as_bytes());
            assert_eq!(
                String::from_utf8_lossy(&out),
                serde_json::to_string(text).unwrap_or_default()
            );
        }
    }

    /// `depth` arrays around a record's object: `{"a":[[...]]}`.
    fn nested(depth: usize) -> String {
        let arrays = depth - 1;
        format!(r#"{{"a":{}1{}}}"#, "[".repeat(arrays), "]".repeat(arrays))
    }

    #[test]
    fn nesting_depth_counts_brackets_outside_strings() {
        for (text, depth) in [
            ("1", 0),
            ("{}", 1),
            (r#"{"a":1}"#, 1),
            (r#"{"a":[1]}"#, 2),
            (r#"{"a":[{"b":[]}]}"#, 4),
            (r#"{"a":[1],"b":[2]}"#, 2),
            (r#"{"a":"[[[{{{"}"#, 1),
            (r#"{"a":"\"[[[\\","b":[]}"#, 2),
            ("[[[[", 4),
            ("]]]][", 1),
        ] {
            assert_eq!(nesting_depth(text.as_bytes()), depth, "{text}");
        }
        assert_eq!(nesting_depth(nested(MAX_DEPTH).as_bytes()), MAX_DEPTH);
    }

    #[test]
    fn records_at_the_depth_limit_are_read_and_deeper_ones_refused() {
        let at_limit = nested(MAX_DEPTH);
        assert!(parse_object(at_limit.as_bytes(), "t", 1).is_ok());
        for too_deep in [
            nested(MAX_DEPTH + 1),
            nested(10_000),
            "[".repeat(10_000),
            r#"{"a":"#.repeat(5_000),
        ] {
            let err = parse_object(too_deep.as_bytes(), "t.ndjson", 3).map(|_| ());
            let message = err.map_err(|e| (e.exit(), e.to_string())).err();
            assert_eq!(
                message,
                Some((
                    crate::Exit::Data,
                    format!(
                        "t.ndjson: line 3: arrays and objects nested deeper than {MAX_DEPTH} levels (the limit)"
                    )
                )),
                "{} bytes",
                too_deep.len()
            );
        }
        let mut r = LineReader::new(Input {
            name: "t.ndjson".into(),
            reader: Box::new(std::io::Cursor::new(format!(
                "{}\n{}\n",
                nested(MAX_DEPTH + 1),
                nested(MAX_DEPTH)
            ))),
        });
        assert!(r.next_object().is_err());
        assert_eq!(r.next_object().ok().flatten().map(|(l, _)| l), Some(2));
    }

    #[test]
    fn documents_name_the_line_where_they_pass_the_limit_or_break() {
        let deep = format!(
            "{{\n\"a\":\n{}1{}}}",
            "[".repeat(MAX_DEPTH),
            "]".repeat(MAX_DEPTH)
        );
        let err = parse_document::<Value>(deep.as_bytes(), "f.json").map_err(|e| e.to_string());
        assert_eq!(
            err.err(),
            Some(format!(
                "f.json: line 3: arrays and objects nested deeper than {MAX_DEPTH} levels (the limit)"
            ))
        );
        let at_limit = nested(MAX_DEPTH).replace(':', ":\n");
        assert!(parse_document::<Value>(at_limit.as_bytes(), "f.json").is_ok());
        let broken =
            parse_document::<Value>(b"{\n\"a\": tru }", "f.json").map_err(|e| e.to_string());
        assert!(broken.is_err_and(|e| e.starts_with("f.json: line 2: not valid JSON")));
    }

    #[test]
    fn parse_json_reads_one_value_and_nothing_after_it() {
        assert_eq!(
            parse_json::<Value>(b" [1] ", "t", 1).ok(),
            Some(serde_json::json!([1]))
        );
        let err = parse_json::<Value>(b"[1] [2]", "t", 1).map_err(|e| e.to_string());
        assert!(err.is_err_and(|e| e.starts_with("t: line 1: not valid JSON")));
    }

    #[test]
    fn big_integers_and_key_order_survive() -> Result<()> {
        let map = parse_object(br#"{"z":12345678901234567890123,"a":1}"#, "t", 1)?;
        assert_eq!(
            serde_json::to_string(&map).unwrap_or_default(),
            r#"{"z":12345678901234567890123,"a":1}"#
        );
        Ok(())
    }
}
