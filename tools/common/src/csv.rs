//! CSV reading and writing with the workspace conventions: RFC 4180, UTF-8,
//! a header row, BOM stripped, CRLF or LF in, LF out (CRLF on request).

use crate::error::{Error, Location, Result};
use crate::io::Input;
use std::io::{self, Read, Write};

/// How input bytes are turned into UTF-8.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Encoding {
    /// UTF-8; invalid bytes are a data error naming the row and column.
    #[default]
    Utf8,
    /// ISO-8859-1: every byte is the code point of the same number.
    Latin1,
    /// Windows-1252 (Latin-1 with typographic characters in 0x80..0x9F).
    #[value(name = "windows-1252", alias = "cp1252")]
    Windows1252,
}

/// `--encoding` of a tool that reads CSV, flattened into its flags; none
/// given is UTF-8.
#[derive(clap::Args, Debug)]
pub struct InputEncoding {
    /// CSV input encoding; latin1 and windows-1252 are transcoded to UTF-8. With utf8 (the
    /// default) invalid bytes are a data error naming the row and column.
    #[arg(long, value_enum, value_name = "ENCODING")]
    pub encoding: Option<Encoding>,
}

/// Options for reading CSV.
#[derive(Clone, Copy, Debug)]
pub struct ReadOptions {
    pub delimiter: u8,
    pub encoding: Encoding,
    /// Accept rows whose field count differs from the header's.
    pub flexible: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            delimiter: b',',
            encoding: Encoding::Utf8,
            flexible: false,
        }
    }
}

/// Build a CSV reader over an input: a BOM is dropped, then the bytes are
/// transcoded where asked. Headers are read as the first record by the
/// caller (`has_headers(false)`), so that row numbers in messages count the
/// header as row 1.
pub fn reader(input: Input, options: ReadOptions) -> Result<csv::Reader<Box<dyn Read + Send>>> {
    let input = input.skip_bom()?;
    // Quotes and delimiters are ASCII, so the check can run before transcoding.
    let guarded = QuoteGuard::new(input.reader, options.delimiter);
    let source: Box<dyn Read + Send> = match options.encoding {
        Encoding::Utf8 => Box::new(guarded),
        Encoding::Latin1 => Box::new(Latin1Reader::new(guarded)),
        Encoding::Windows1252 => Box::new(
            encoding_rs_io::DecodeReaderBytesBuilder::new()
                .encoding(Some(encoding_rs::WINDOWS_1252))
                .build(guarded),
        ),
    };
    Ok(csv::ReaderBuilder::new()
        .delimiter(options.delimiter)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(256 * 1024)
        .from_reader(source))
}

/// Turn a csv crate error into a data error at the right place.
pub fn read_error(file: &str, row: u64, err: csv::Error) -> Error {
    match err.kind() {
        csv::ErrorKind::Io(e) if UnclosedQuote::is(e) => Error::data_at(
            &Location::row(file, row),
            "a quoted field opens here and is never closed before the end of the input",
        ),
        csv::ErrorKind::Io(e) if HeaderTooWide::is(e) => Error::data_at(
            &Location::row(file, row),
            format!("the header has more than {MAX_COLUMNS} columns, the most allowed"),
        ),
        csv::ErrorKind::Io(e) => Error::io(
            format!("reading {file}"),
            io::Error::new(e.kind(), e.to_string()),
        ),
        csv::ErrorKind::Utf8 { err, .. } => Error::data_at(
            &Location::row(file, row),
            format!(
                "field {} is not valid UTF-8 (try --encoding latin1 or windows-1252)",
                err.field() + 1
            ),
        ),
        _ => Error::data_at(&Location::row(file, row), "malformed CSV"),
    }
}

/// The column at `index` (from 0) of a row under `headers`: by its name
/// when that shows in a message, else by position.
pub fn column_at(at: Location, headers: &[String], index: usize) -> Location {
    match headers.get(index) {
        Some(name) => at.field(index, name),
        None => at.position(index),
    }
}

/// Check that every field of a record is UTF-8, naming the first column that is not.
pub fn check_utf8(
    record: &csv::ByteRecord,
    headers: &[String],
    file: &str,
    row: u64,
) -> Result<()> {
    for (i, field) in record.iter().enumerate() {
        if std::str::from_utf8(field).is_err() {
            return Err(Error::data_at(
                &column_at(Location::row(file, row), headers, i),
                "not valid UTF-8 (try --encoding latin1 or windows-1252)",
            ));
        }
    }
    Ok(())
}

/// A row must have the header's number of fields; the message names the
/// first column missing, or the first one too many.
pub fn check_width(
    record: &csv::ByteRecord,
    headers: &[String],
    file: &str,
    row: u64,
) -> Result<()> {
    let (got, want) = (record.len(), headers.len());
    if got == want {
        return Ok(());
    }
    let fields = crate::text::count(got, "field", "fields");
    Err(Error::data_at(
        &column_at(Location::row(file, row), headers, got.min(want)),
        format!("the row has {fields}, the header has {want}"),
    ))
}

/// The most columns a header may have. Each column costs every tool a
/// name and a place in its lookups, so a header of millions of columns
/// (a line without its line breaks, a runaway file) would take gigabytes;
/// no table or partner format the tools serve comes near this. The
/// [`QuoteGuard`] counts them as the header is read, so that a wider one
/// is refused before it is held.
pub const MAX_COLUMNS: usize = 1_000_000;

/// Read the header row. Empty input gives `None`. Headers must be UTF-8.
pub fn read_headers<R: Read>(
    reader: &mut csv::Reader<R>,
    file: &str,
) -> Result<Option<Vec<String>>> {
    let mut record = csv::ByteRecord::new();
    match reader.read_byte_record(&mut record) {
        Ok(false) => Ok(None),
        Ok(true) => {
            let mut headers = Vec::with_capacity(record.len());
            for (i, field) in record.iter().enumerate() {
                let name = std::str::from_utf8(field).map_err(|_| {
                    Error::data_at(
                        &Location::row(file, 1).position(i),
                        "header is not valid UTF-8 (try --encoding latin1 or windows-1252)",
                    )
                })?;
                headers.push(name.to_string());
            }
            Ok(Some(headers))
        }
        Err(e) => Err(read_error(file, 1, e)),
    }
}

/// The index of the first name that an earlier one repeats, in one pass.
pub fn first_repeated<S: AsRef<str>>(names: &[S]) -> Option<usize> {
    let mut seen = std::collections::HashSet::with_capacity(names.len());
    names.iter().position(|name| !seen.insert(name.as_ref()))
}

/// The end of the input came inside a quoted field.
#[derive(Debug)]
pub struct UnclosedQuote;

impl std::fmt::Display for UnclosedQuote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a quoted field is never closed")
    }
}

impl std::error::Error for UnclosedQuote {}

impl UnclosedQuote {
    /// Whether an I/O error is this one.
    pub fn is(err: &io::Error) -> bool {
        err.get_ref().is_some_and(|e| e.is::<UnclosedQuote>())
    }
}

/// The header has more than [`MAX_COLUMNS`] fields.
#[derive(Debug)]
pub struct HeaderTooWide;

impl std::fmt::Display for HeaderTooWide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the header has more than {MAX_COLUMNS} columns")
    }
}

impl std::error::Error for HeaderTooWide {}

impl HeaderTooWide {
    /// Whether an I/O error is this one.
    pub fn is(err: &io::Error) -> bool {
        err.get_ref().is_some_and(|e| e.is::<HeaderTooWide>())
    }
}

/// Counts the fields of the header (the first record) as its bytes pass.
#[derive(Debug, Default)]
struct HeaderWidth {
    /// Delimiters outside quotes: one fewer than the fields.
    delimiters: usize,
    in_quotes: bool,
    /// A quote inside a quoted field: it closes the field unless a quote follows.
    pending_quote: bool,
    /// Not at the start of a field (where a quote opens a quoted one).
    inside_field: bool,
}

/// Where the header is after some of its bytes.
#[derive(Debug, PartialEq, Eq)]
enum HeaderScan {
    Open,
    Ended,
    TooWide,
}

impl HeaderWidth {
    fn scan(&mut self, bytes: &[u8], delimiter: u8) -> HeaderScan {
        for &b in bytes {
            if self.in_quotes {
                if !self.pending_quote {
                    self.pending_quote = b == b'"';
                    continue;
                }
                self.pending_quote = false;
                if b == b'"' {
                    continue;
                }
                self.in_quotes = false;
            }
            match b {
                b'\n' | b'\r' => return HeaderScan::Ended,
                b if b == delimiter => {
                    self.delimiters += 1;
                    self.inside_field = false;
                    if self.delimiters >= MAX_COLUMNS {
                        return HeaderScan::TooWide;
                    }
                }
                b'"' if !self.inside_field => self.in_quotes = true,
                _ => self.inside_field = true,
            }
        }
        HeaderScan::Open
    }
}

/// Follows the quoting of a CSV stream as it is read and fails at the end
/// of the input if a quoted field is still open. Without it, the parser
/// ends the open field at the end of the input and every row after the
/// stray quote silently becomes part of one field.
///
/// Only quote characters are visited (memchr), so the cost is small: a
/// quote opens a field when it is the first byte of a field (after a
/// delimiter or a line break, or at the start); inside a quoted field, a
/// doubled quote is an escaped one and a single quote closes the field.
/// A quote in the middle of an unquoted field is a literal character.
pub struct QuoteGuard<R> {
    inner: R,
    delimiter: u8,
    in_quotes: bool,
    /// The last byte of the previous read, to know what precedes a quote.
    previous: Option<u8>,
    /// A quote inside a quoted field was the last byte read: it closes the
    /// field unless the next byte is a quote too.
    pending_quote: bool,
    /// The header's width so far, until it ends.
    header: Option<HeaderWidth>,
}

impl<R> std::fmt::Debug for QuoteGuard<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuoteGuard")
            .field("in_quotes", &self.in_quotes)
            .finish()
    }
}

impl<R: Read> QuoteGuard<R> {
    pub fn new(inner: R, delimiter: u8) -> Self {
        QuoteGuard {
            inner,
            delimiter,
            in_quotes: false,
            previous: None,
            pending_quote: false,
            header: Some(HeaderWidth::default()),
        }
    }

    fn follow(&mut self, bytes: &[u8]) {
        let mut i = 0;
        if self.pending_quote {
            self.pending_quote = false;
            if bytes[0] == b'"' {
                i = 1; // an escaped quote: still inside the field
            } else {
                self.in_quotes = false;
            }
        }
        while let Some(found) = memchr::memchr(b'"', &bytes[i..]) {
            let q = i + found;
            if self.in_quotes {
                match bytes.get(q + 1) {
                    Some(b'"') => i = q + 2,
                    Some(_) => {
                        self.in_quotes = false;
                        i = q + 1;
                    }
                    None => {
                        self.pending_quote = true;
                        i = q + 1;
                    }
                }
            } else {
                let before = if q == 0 {
                    self.previous
                } else {
                    Some(bytes[q - 1])
                };
                let starts_field = match before {
                    None | Some(b'\n' | b'\r') => true,
                    Some(b) => b == self.delimiter,
                };
                self.in_quotes = starts_field;
                i = q + 1;
            }
        }
        self.previous = bytes.last().copied();
    }
}

impl<R: Read> Read for QuoteGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            if self.in_quotes && !self.pending_quote {
                return Err(io::Error::new(io::ErrorKind::InvalidData, UnclosedQuote));
            }
            return Ok(0);
        }
        if let Some(header) = &mut self.header {
            match header.scan(&buf[..n], self.delimiter) {
                HeaderScan::Open => {}
                HeaderScan::Ended => self.header = None,
                HeaderScan::TooWide => {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, HeaderTooWide));
                }
            }
        }
        self.follow(&buf[..n]);
        Ok(n)
    }
}

/// Options for writing CSV.
#[derive(Clone, Copy, Debug, Default)]
pub struct WriteOptions {
    pub crlf: bool,
    pub quote_all: bool,
    pub bom: bool,
    pub delimiter: Option<u8>,
    /// The caller quotes fields itself (csv-shape's --quote-spaces): the
    /// writer adds no quotes.
    pub quoted_by_caller: bool,
}

/// Build a CSV writer. With `bom`, the UTF-8 BOM is written first.
pub fn writer<W: Write>(mut out: W, options: WriteOptions) -> io::Result<csv::Writer<W>> {
    if options.bom {
        out.write_all(b"\xEF\xBB\xBF")?;
    }
    let mut builder = csv::WriterBuilder::new();
    builder
        .delimiter(options.delimiter.unwrap_or(b','))
        .buffer_capacity(256 * 1024)
        .terminator(if options.crlf {
            csv::Terminator::CRLF
        } else {
            csv::Terminator::Any(b'\n')
        })
        .quote_style(if options.quoted_by_caller {
            csv::QuoteStyle::Never
        } else if options.quote_all {
            csv::QuoteStyle::Always
        } else {
            csv::QuoteStyle::Necessary
        });
    Ok(builder.from_writer(out))
}

/// Decodes ISO-8859-1 bytes into UTF-8.
struct Latin1Reader<R> {
    inner: R,
    pending: Vec<u8>,
    start: usize,
}

impl<R: Read> Latin1Reader<R> {
    fn new(inner: R) -> Self {
        Latin1Reader {
            inner,
            pending: Vec::new(),
            start: 0,
        }
    }
}

impl<R: Read> Read for Latin1Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.start == self.pending.len() {
            let mut raw = vec![0u8; buf.len().max(2) / 2];
            let n = self.inner.read(&mut raw)?;
            if n == 0 {
                return Ok(0);
            }
            self.pending.clear();
            self.start = 0;
            for &b in &raw[..n] {
                let mut utf8 = [0u8; 2];
                self.pending
                    .extend_from_slice(char::from(b).encode_utf8(&mut utf8).as_bytes());
            }
        }
        let n = buf.len().min(self.pending.len() - self.start);
        buf[..n].copy_from_slice(&self.pending[self.start..self.start + n]);
        self.start += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_flag() {
        #[derive(clap::Parser, Debug)]
        struct Flags {
            #[command(flatten)]
            input: InputEncoding,
        }
        let parsed = |args: &[&str]| {
            <Flags as clap::Parser>::try_parse_from([&["tool"], args].concat())
                .map(|f| f.input.encoding)
                .map_err(|_| 64)
        };
        for (args, expected) in [
            (&[][..], Ok(None)),
            (&["--encoding", "utf8"], Ok(Some(Encoding::Utf8))),
            (&["--encoding", "latin1"], Ok(Some(Encoding::Latin1))),
            (
                &["--encoding", "windows-1252"],
                Ok(Some(Encoding::Windows1252)),
            ),
            (&["--encoding", "cp1252"], Ok(Some(Encoding::Windows1252))),
            (&["--encoding", "ebcdic"], Err(64)),
        ] {
            assert_eq!(parsed(args), expected, "{args:?}");
        }
    }

    #[test]
    fn latin1_decodes_every_byte() -> io::Result<()> {
        let mut out = String::new();
        Latin1Reader::new(&b"caf\xe9 \x80"[..]).read_to_string(&mut out)?;
        assert_eq!(out, "caf\u{e9} \u{80}");
        Ok(())
    }

    fn unclosed(text: &[u8], chunk: usize) -> bool {
        // Feed in small reads to cross every boundary case.
        struct Chunks<'a>(&'a [u8], usize);
        impl Read for Chunks<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut out = Vec::new();
        match QuoteGuard::new(Chunks(text, chunk), b',').read_to_end(&mut out) {
            Ok(_) => false,
            Err(e) => UnclosedQuote::is(&e),
        }
    }

    #[test]
    fn quote_guard_finds_only_unclosed_quotes() {
        let closed: &[&[u8]] = &[
            b"a,b\n1,2\n",
            b"a,b\n\"x\ny\",2\n",
            b"a,b\n\"say \"\"hi\"\"\",2",
            b"h\n5'10\",x\n",
            b"a,b\r\n\"\",\"\"\r\n",
            b"a,b\n\"q\"tail,2\n",
            b"\"\"\"\"",
        ];
        let open: &[&[u8]] = &[
            b"a,b,c\n1,2,\"x\n4,5,6\n7,8,9\n",
            b"a\n\"",
            b"a,b\n\"say \"\"hi\"\",2\n",
            b"a\r\n\"x",
        ];
        for chunk in [1, 2, 3, 64] {
            for text in closed {
                assert!(
                    !unclosed(text, chunk),
                    "closed, chunk {chunk}: {}",
                    String::from_utf8_lossy(text)
                );
            }
            for text in open {
                assert!(
                    unclosed(text, chunk),
                    "open, chunk {chunk}: {}",
                    String::from_utf8_lossy(text)
                );
            }
        }
    }

    #[test]
    fn unclosed_quote_is_a_data_error_naming_the_row() {
        let input = Input {
            name: "in.csv".into(),
            reader: Box::new(&b"a,b,c\n1,2,3\n4,5,\"Sam\n7,8,9\n"[..]),
        };
        let mut rdr = reader(input, ReadOptions::default())
            .map_err(|e| e.to_string())
            .unwrap_or_else(|e| panic!("{e}"));
        let mut record = csv::ByteRecord::new();
        let mut row = 0;
        let err = loop {
            row += 1;
            match rdr.read_byte_record(&mut record) {
                Ok(true) => continue,
                Ok(false) => panic!("no error"),
                Err(e) => break read_error("in.csv", row, e),
            }
        };
        assert_eq!(err.code(), 65);
        assert!(
            err.to_string()
                .starts_with("in.csv: row 3: a quoted field opens here"),
            "{err}"
        );
        assert!(!err.to_string().contains("Sam"));
    }

    #[test]
    fn the_first_repeated_name_is_found() {
        let cases: &[(&[&str], Option<usize>)] = &[
            (&[], None),
            (&["a", "b", "c"], None),
            (&["a", "b", "a"], Some(2)),
            (&["a", "b", "b", "a"], Some(2)),
            (&["", "x", ""], Some(2)),
            (&["A", "a"], None),
        ];
        for (names, want) in cases {
            assert_eq!(first_repeated(names), *want, "{names:?}");
        }
    }

    #[test]
    fn columns_are_named_only_when_their_name_shows() {
        let headers: Vec<String> = ["id", "ssn\n1,Sam,123", "dob"].map(String::from).to_vec();
        let cases = [
            (0, "in.csv: row 4, column \"id\""),
            (1, "in.csv: row 4, column 2"),
            (3, "in.csv: row 4, column 4"),
        ];
        for (index, want) in cases {
            let at = column_at(Location::row("in.csv", 4), &headers, index);
            assert_eq!(at.to_string(), want);
        }
    }

    #[test]
    fn the_header_width_is_counted_outside_quotes() {
        let cases: &[(&[u8], usize, HeaderScan)] = &[
            (b"a,b,c\n1,2,3,4,5", 2, HeaderScan::Ended),
            (b"a,\"b,\n,c\",d\r\n", 2, HeaderScan::Ended),
            (b"a,\"b\"\",\"\"c\",d", 2, HeaderScan::Open),
            (b"5'10\",x,y\n", 2, HeaderScan::Ended),
            (b"a,b", 1, HeaderScan::Open),
        ];
        for (bytes, delimiters, end) in cases {
            for chunk in [1, 2, 64] {
                // As the guard reads: no scan once the header has ended.
                let mut width = HeaderWidth::default();
                let last = bytes
                    .chunks(chunk)
                    .map(|c| width.scan(c, b','))
                    .find(|s| *s != HeaderScan::Open);
                assert_eq!(last.as_ref().unwrap_or(&HeaderScan::Open), end);
                assert_eq!(
                    width.delimiters,
                    *delimiters,
                    "{}",
                    String::from_utf8_lossy(bytes)
                );
            }
        }
        let wide = vec![b','; MAX_COLUMNS];
        assert_eq!(
            HeaderWidth::default().scan(&wide[1..], b','),
            HeaderScan::Open
        );
        assert_eq!(
            HeaderWidth::default().scan(&wide, b','),
            HeaderScan::TooWide
        );
    }
}
