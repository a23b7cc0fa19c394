//! Rows out as CSV or NDJSON, one cell at a time, without building values.

use crate::args::Format;
use common::io::Output;
use common::{Error, Result};
use std::fmt::Write as _;
use std::io::Write;

/// One value of a row, already in its output form.
#[derive(Clone, Copy, Debug)]
pub enum Cell<'a> {
    Null,
    /// A number in exact decimal text: a bare JSON number in NDJSON.
    Number(&'a str),
    Bool(bool),
    Text(&'a str),
    /// Binary: base64 text.
    Bytes(&'a [u8]),
}

pub struct RowWriter {
    inner: Inner,
    name: String,
    scratch: String,
}

enum Inner {
    /// RFC 4180 as common::csv::writer writes it by default (LF, quotes only
    /// where needed), built here a row at a time: the csv crate's per-field
    /// state machine was a fifth of db-extract's time on a million rows.
    Csv {
        out: Output,
        /// The header waits for the first row or the end, so that a query
        /// that fails before its first row writes nothing.
        header: Option<Vec<String>>,
        line: Vec<u8>,
        column: usize,
    },
    Ndjson {
        out: Output,
        /// Each column's `"name":`, JSON-escaped once.
        keys: Vec<Vec<u8>>,
        line: Vec<u8>,
        column: usize,
    },
}

impl std::fmt::Debug for RowWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RowWriter({})", self.name)
    }
}

impl RowWriter {
    pub fn new(format: Format, out: Output) -> Result<RowWriter> {
        let name = out.name();
        let inner = match format {
            Format::Csv => Inner::Csv {
                out,
                header: None,
                line: Vec::with_capacity(4096),
                column: 0,
            },
            Format::Ndjson => Inner::Ndjson {
                out,
                keys: Vec::new(),
                line: Vec::with_capacity(4096),
                column: 0,
            },
        };
        Ok(RowWriter {
            inner,
            name,
            scratch: String::new(),
        })
    }

    /// The column names: CSV's header row; NDJSON's keys, which must differ.
    pub fn header(&mut self, names: &[String]) -> Result<()> {
        match &mut self.inner {
            Inner::Csv { header, .. } => *header = Some(names.to_vec()),
            Inner::Ndjson { keys, .. } => {
                for (i, name) in names.iter().enumerate() {
                    if let Some(j) = names[..i].iter().position(|n| n == name) {
                        return Err(Error::data(format!(
                            "columns {} and {} are both named {name:?}, and NDJSON keys must differ: give one an alias (AS ...)",
                            j + 1,
                            i + 1
                        )));
                    }
                    let mut key = Vec::with_capacity(name.len() + 4);
                    key.push(if i == 0 { b'{' } else { b',' });
                    common::ndjson::write_json_string(&mut key, name.as_bytes());
                    key.push(b':');
                    keys.push(key);
                }
            }
        }
        Ok(())
    }

    pub fn cell(&mut self, cell: Cell<'_>) -> Result<()> {
        match &mut self.inner {
            Inner::Csv {
                out,
                header,
                line,
                column,
            } => {
                if let Some(names) = header.take() {
                    write_csv_header(out, &names, &self.name)?;
                }
                if *column > 0 {
                    line.push(b',');
                }
                *column += 1;
                match cell {
                    Cell::Null => {}
                    Cell::Number(t) | Cell::Text(t) => push_csv_field(line, t.as_bytes()),
                    Cell::Bool(true) => line.extend_from_slice(b"true"),
                    Cell::Bool(false) => line.extend_from_slice(b"false"),
                    Cell::Bytes(b) => {
                        self.scratch.clear();
                        base64(b, &mut self.scratch);
                        line.extend_from_slice(self.scratch.as_bytes());
                    }
                }
            }
            Inner::Ndjson {
                keys, line, column, ..
            } => {
                line.extend_from_slice(&keys[*column]);
                *column += 1;
                match cell {
                    Cell::Null => line.extend_from_slice(b"null"),
                    Cell::Number(t) => line.extend_from_slice(t.as_bytes()),
                    Cell::Bool(true) => line.extend_from_slice(b"true"),
                    Cell::Bool(false) => line.extend_from_slice(b"false"),
                    Cell::Text(t) => common::ndjson::write_json_string(line, t.as_bytes()),
                    Cell::Bytes(b) => {
                        self.scratch.clear();
                        base64(b, &mut self.scratch);
                        line.push(b'"');
                        line.extend_from_slice(self.scratch.as_bytes());
                        line.push(b'"');
                    }
                }
            }
        }
        Ok(())
    }

    pub fn end_row(&mut self) -> Result<()> {
        let (out, line, column) = match &mut self.inner {
            Inner::Csv {
                out,
                header,
                line,
                column,
            } => {
                if let Some(names) = header.take() {
                    write_csv_header(out, &names, &self.name)?;
                }
                end_csv_record(line);
                (out, line, column)
            }
            Inner::Ndjson {
                out, line, column, ..
            } => {
                if *column == 0 {
                    line.push(b'{');
                }
                line.extend_from_slice(b"}\n");
                (out, line, column)
            }
        };
        *column = 0;
        let result = out.write_all(line);
        line.clear();
        result.map_err(|e| Error::write(format!("writing {}", self.name), e))
    }

    /// Flush, or move the output file into place.
    pub fn finish(self) -> Result<()> {
        let out = match self.inner {
            Inner::Csv {
                mut out, header, ..
            } => {
                if let Some(names) = header {
                    write_csv_header(&mut out, &names, &self.name)?;
                }
                out
            }
            Inner::Ndjson { out, .. } => out,
        };
        out.finish()
    }
}

fn write_csv_header(out: &mut Output, names: &[String], name: &str) -> Result<()> {
    let mut line = Vec::new();
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            line.push(b',');
        }
        push_csv_field(&mut line, n.as_bytes());
    }
    end_csv_record(&mut line);
    out.write_all(&line)
        .map_err(|e| Error::write(format!("writing {name}"), e))
}

/// A field, in quotes (doubled inside) only when it holds a comma, a quote
/// or a line break.
fn push_csv_field(line: &mut Vec<u8>, field: &[u8]) {
    if !field
        .iter()
        .any(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
    {
        line.extend_from_slice(field);
        return;
    }
    line.push(b'"');
    for (i, piece) in field.split(|&b| b == b'"').enumerate() {
        if i > 0 {
            line.extend_from_slice(b"\"\"");
        }
        line.extend_from_slice(piece);
    }
    line.push(b'"');
}

/// A record with no bytes at all (one empty field) is written as `""`, so
/// that it is not read back as a blank line.
fn end_csv_record(line: &mut Vec<u8>) {
    if line.is_empty() {
        line.extend_from_slice(b"\"\"");
    }
    line.push(b'\n');
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8], out: &mut String) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * k)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
}

/// A float as the shortest text that reads back the same, as a JSON number
/// (exponent form for very large and very small magnitudes); NaN and the
/// infinities as text.
pub fn float<F: Into<f64> + std::fmt::Display + std::fmt::LowerExp + Copy>(
    value: F,
    out: &mut String,
) -> bool {
    let wide: f64 = value.into();
    out.clear();
    if wide.is_nan() {
        out.push_str("NaN");
        false
    } else if wide.is_infinite() {
        out.push_str(if wide > 0.0 { "Infinity" } else { "-Infinity" });
        false
    } else {
        let magnitude = wide.abs();
        if magnitude != 0.0 && !(1e-5..1e17).contains(&magnitude) {
            let _ = write!(out, "{value:e}");
        } else {
            let _ = write!(out, "{value}");
        }
        true
    }
}

/// Days since 1970-01-01 to a civil date (proleptic Gregorian).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `YYYY-MM-DD` (a year outside 0..=9999 gets a sign, as ISO 8601 extends it).
pub fn write_date(out: &mut String, (year, month, day): (i64, u32, u32)) {
    if (0..=9999).contains(&year) {
        let _ = write!(out, "{year:04}-{month:02}-{day:02}");
    } else {
        let _ = write!(out, "{year:+05}-{month:02}-{day:02}");
    }
}

/// `HH:MM:SS` and `.ffffff` without trailing zeros when there is a fraction.
pub fn write_time(out: &mut String, hours: u64, minutes: u32, seconds: u32, micros: u32) {
    let _ = write!(out, "{hours:02}:{minutes:02}:{seconds:02}");
    if micros != 0 {
        let fraction = format!("{micros:06}");
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
}

/// Microseconds since 1970-01-01T00:00:00 to `YYYY-MM-DDTHH:MM:SS[.ffffff]`.
pub fn write_timestamp_micros(out: &mut String, micros: i64) {
    let days = micros.div_euclid(86_400_000_000);
    let in_day = micros.rem_euclid(86_400_000_000) as u64;
    write_date(out, civil_from_days(days));
    out.push('T');
    let seconds = in_day / 1_000_000;
    write_time(
        out,
        seconds / 3600,
        (seconds / 60 % 60) as u32,
        (seconds % 60) as u32,
        (in_day % 1_000_000) as u32,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_pads() {
        for (raw, want) in [
            (&b""[..], ""),
            (b"\x00\xff\x10", "AP8Q"),
            (b"ab", "YWI="),
            (b"a", "YQ=="),
        ] {
            let mut s = String::new();
            base64(raw, &mut s);
            assert_eq!(s, want);
        }
    }

    #[test]
    fn floats_are_shortest_and_json() {
        let mut s = String::new();
        let cases: [(f64, &str, bool); 6] = [
            (0.1, "0.1", true),
            (-2.5, "-2.5", true),
            (1e300, "1e300", true),
            (1.5e-7, "1.5e-7", true),
            (f64::NAN, "NaN", false),
            (f64::NEG_INFINITY, "-Infinity", false),
        ];
        for (v, want, finite) in cases {
            assert_eq!(float(v, &mut s), finite);
            assert_eq!(s, want);
        }
        float(0.1f32, &mut s);
        assert_eq!(s, "0.1");
    }

    #[test]
    fn csv_fields_quote_as_the_csv_crate_does() {
        let rows: [&[&str]; 6] = [
            &["a", "b,c", "say \"hi\"", "two\nlines", "cr\r", ""],
            &[""],
            &["", ""],
            &[],
            &["\"", " lead", "trail ", "#x", "x'y"],
            &["\u{e9}t\u{e9}", "\t", ";"],
        ];
        for row in rows {
            let mut want = csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(Vec::new());
            want.write_record(row).expect("in memory");
            let want = want.into_inner().expect("in memory");
            let mut line = Vec::new();
            for (i, field) in row.iter().enumerate() {
                if i > 0 {
                    line.push(b',');
                }
                push_csv_field(&mut line, field.as_bytes());
            }
            end_csv_record(&mut line);
            assert_eq!(line, want, "{row:?}");
        }
    }

    #[test]
    fn dates_and_timestamps() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_850), (2024, 5, 7));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        let mut s = String::new();
        write_timestamp_micros(&mut s, 1_715_058_000_000_000 + 120);
        assert_eq!(s, "2024-05-07T05:00:00.00012");
        s.clear();
        write_timestamp_micros(&mut s, -1);
        assert_eq!(s, "1969-12-31T23:59:59.999999");
    }
}
