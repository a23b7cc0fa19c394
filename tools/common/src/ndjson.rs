//! NDJSON: one JSON object per line. Blank lines are skipped; line numbers
//! in messages count from 1 and include blank lines.

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

/// Parse one NDJSON line as an object; errors name the file, line and
/// column of the syntax error, never the text.
pub fn parse_object(bytes: &[u8], file: &str, line: u64) -> Result<Map<String, Value>> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::data_at(
            &Location::line(file, line),
            "expected a JSON object",
        )),
        Err(e) => Err(json_syntax_error(&e, file, line)),
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
