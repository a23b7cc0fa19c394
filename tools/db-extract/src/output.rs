//! Rows out as CSV or NDJSON, one cell at a time, without building values.

use crate::args::Format;
use common::io::Output;
use common::{Error, Result};
use std::io::Write;

/// One value of a row, already in its output form.
#[derive(Clone, Copy, Debug)]
pub enum Cell<'a> {
    Null,
    /// A number in exact decimal text (ASCII digits, sign, point, exponent):
    /// a bare JSON number in NDJSON.
    Number(&'a [u8]),
    Bool(bool),
    Text(&'a str),
    /// Text that db-extract formatted itself (dates, times, uuids, NaN):
    /// ASCII that needs neither CSV quotes nor JSON escapes.
    Formatted(&'a [u8]),
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
                    Cell::Number(t) | Cell::Formatted(t) => line.extend_from_slice(t),
                    Cell::Text(t) => push_csv_field(line, t.as_bytes()),
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
                    Cell::Number(t) => line.extend_from_slice(t),
                    Cell::Bool(true) => line.extend_from_slice(b"true"),
                    Cell::Bool(false) => line.extend_from_slice(b"false"),
                    Cell::Text(t) => common::ndjson::write_json_string(line, t.as_bytes()),
                    Cell::Formatted(t) => {
                        line.push(b'"');
                        line.extend_from_slice(t);
                        line.push(b'"');
                    }
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
    out: &mut Vec<u8>,
) -> bool {
    let wide: f64 = value.into();
    out.clear();
    if wide.is_nan() {
        out.extend_from_slice(b"NaN");
        false
    } else if wide.is_infinite() {
        out.extend_from_slice(if wide > 0.0 {
            b"Infinity"
        } else {
            b"-Infinity"
        });
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

/// An integer's decimal digits, without core::fmt (a hot path: every
/// integer cell of every row).
pub fn push_int(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    push_digits(out, n.unsigned_abs(), 1);
}

/// `n` in decimal, zero-padded to at least `width` digits.
pub fn push_digits(out: &mut Vec<u8>, mut n: u64, width: usize) {
    if width == 2 && n < 100 {
        // Months, days, hours, minutes and seconds.
        let pair = n as usize * 2;
        out.extend_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
        return;
    }
    let mut buf = [b'0'; 20];
    let mut start = buf.len();
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        start -= 2;
        buf[start..start + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    }
    if n >= 10 {
        let pair = n as usize * 2;
        start -= 2;
        buf[start..start + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    } else {
        start -= 1;
        buf[start] = b'0' + n as u8;
    }
    start = start.min(buf.len().saturating_sub(width));
    out.extend_from_slice(&buf[start..]);
}

const DIGIT_PAIRS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// `YYYY-MM-DD` (a year outside 0..=9999 gets a sign, as ISO 8601 extends it).
pub fn write_date(out: &mut Vec<u8>, (year, month, day): (i64, u32, u32)) {
    if !(0..=9999).contains(&year) {
        out.push(if year < 0 { b'-' } else { b'+' });
    }
    push_digits(out, year.unsigned_abs(), 4);
    out.push(b'-');
    push_digits(out, u64::from(month), 2);
    out.push(b'-');
    push_digits(out, u64::from(day), 2);
}

/// `HH:MM:SS` and `.ffffff` without trailing zeros when there is a fraction.
pub fn write_time(out: &mut Vec<u8>, hours: u64, minutes: u32, seconds: u32, micros: u32) {
    push_digits(out, hours, 2);
    out.push(b':');
    push_digits(out, u64::from(minutes), 2);
    out.push(b':');
    push_digits(out, u64::from(seconds), 2);
    if micros != 0 {
        out.push(b'.');
        let mut micros = micros;
        let mut width = 6usize;
        while micros.is_multiple_of(10) {
            micros /= 10;
            width = width.saturating_sub(1);
        }
        push_digits(out, u64::from(micros), width);
    }
}

/// Microseconds since 1970-01-01T00:00:00 to `YYYY-MM-DDTHH:MM:SS[.ffffff]`.
pub fn write_timestamp_micros(out: &mut Vec<u8>, micros: i64) {
    let days = micros.div_euclid(86_400_000_000);
    let in_day = micros.rem_euclid(86_400_000_000) as u64;
    write_date(out, civil_from_days(days));
    out.push(b'T');
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
        let mut s = Vec::new();
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
            assert_eq!(String::from_utf8_lossy(&s), want);
        }
        float(0.1f32, &mut s);
        assert_eq!(s, b"0.1");
    }

    #[test]
    fn digits_match_core_fmt() {
        let mut s = Vec::new();
        for n in [
            0,
            7,
            -7,
            10,
            99,
            100,
            12345,
            -98765,
            i64::MAX,
            i64::MIN,
            1_000_003,
        ] {
            s.clear();
            push_int(&mut s, n);
            assert_eq!(String::from_utf8_lossy(&s), n.to_string());
        }
        for (n, width) in [
            (0, 2),
            (5, 2),
            (42, 2),
            (7, 4),
            (2024, 4),
            (12345, 4),
            (120, 6),
        ] {
            s.clear();
            push_digits(&mut s, n, width);
            assert_eq!(String::from_utf8_lossy(&s), format!("{n:0width$}"));
        }
        for year in [-12345, -1, 0, 5, 999, 2024, 9999, 10000, 123456] {
            s.clear();
            write_date(&mut s, (year, 1, 9));
            let want = if (0..=9999).contains(&year) {
                format!("{year:04}-01-09")
            } else {
                format!("{year:+05}-01-09")
            };
            assert_eq!(String::from_utf8_lossy(&s), want);
        }
        for micros in [0, 1, 10, 500_000, 120, 999_999, 100_000] {
            s.clear();
            write_time(&mut s, 123, 4, 5, micros);
            let fraction = format!("{micros:06}");
            let fraction = fraction.trim_end_matches('0');
            let want = if micros == 0 {
                "123:04:05".to_string()
            } else {
                format!("123:04:05.{fraction}")
            };
            assert_eq!(String::from_utf8_lossy(&s), want);
        }
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
        let mut s = Vec::new();
        write_timestamp_micros(&mut s, 1_715_058_000_000_000 + 120);
        assert_eq!(s, b"2024-05-07T05:00:00.00012");
        s.clear();
        write_timestamp_micros(&mut s, -1);
        assert_eq!(s, b"1969-12-31T23:59:59.999999");
    }
}
