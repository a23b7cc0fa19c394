//! Reading records from NDJSON or CSV and handing them to a [`Batcher`].
//!
//! NDJSON lines and CSV records are copied as they are: no parse unless
//! `--array` needs one. CSV records are found with the csv crate and copied
//! from the original bytes, so quoting and line breaks inside quotes survive.

use crate::batcher::{BatchSink, Batcher, Framing, Limits};
use common::csv::QuoteGuard;
use common::error::Location;
use common::io::Input;
use common::ndjson::{LineReader, parse_json, parse_object};
use common::{Error, Result};
use serde::de::IgnoredAny;
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::io::Read;
use std::rc::Rc;

/// Batch NDJSON lines. Lines are copied byte for byte with an LF ending;
/// blank lines are dropped. Each line must be a JSON object: with `array`
/// it is parsed here; otherwise it is only checked, by the sink where it
/// offers to (on other threads), else here.
pub fn read_ndjson<S: BatchSink>(
    input: Input,
    array: Option<&Framing>,
    limits: Limits,
    mut sink: S,
) -> Result<S> {
    let mut lines = LineReader::new(input);
    let file = lines.name().to_string();
    let framing = array.cloned().unwrap_or_else(|| Framing::lines(Vec::new()));
    let array = array.is_some();
    let check_here = !array && !sink.check_lines(&file);
    let mut batcher = Batcher::new(sink, framing, limits);
    let mut read = || -> Result<()> {
        while let Some((line, bytes)) = lines.next_line()? {
            let at = || Location::line(file.as_str(), line);
            if array {
                parse_object(bytes, &file, line)?;
                batcher.push(&[bytes], line, at)?;
            } else {
                if check_here {
                    check_object(bytes, &file, line)?;
                }
                batcher.push(&[bytes, b"\n"], line, at)?;
            }
        }
        Ok(())
    };
    match read() {
        Ok(()) => batcher.finish(),
        Err(e) => Err(batcher.abort(e)),
    }
}

/// Check that an NDJSON line is one JSON object, without building it.
/// Errors name the file, line and character, never the text.
pub fn check_object(bytes: &[u8], file: &str, line: u64) -> Result<()> {
    parse_json::<IgnoredAny>(bytes, file, line)?;
    if bytes.trim_ascii_start().first() == Some(&b'{') {
        return Ok(());
    }
    Err(Error::data_at(
        &Location::line(file, line),
        "expected a JSON object",
    ))
}

/// Check every record of a batch's NDJSON bytes (each ending with LF),
/// `lines` being their line numbers in the input.
pub fn check_lines(bytes: &[u8], lines: &[u64], file: &str) -> Result<()> {
    let records = bytes.split(|&b| b == b'\n');
    for (record, &line) in records.zip(lines) {
        check_object(record, file, line)?;
    }
    Ok(())
}

/// Everything read from the input that the current record may still need.
#[derive(Default)]
struct Window {
    /// Stream offset of `bytes[0]`.
    start: u64,
    bytes: Vec<u8>,
}

impl Window {
    fn end(&self) -> u64 {
        self.start + self.bytes.len() as u64
    }

    fn slice(&self, from: u64, to: u64) -> &[u8] {
        &self.bytes[(from - self.start) as usize..(to - self.start) as usize]
    }

    /// The offset of the first byte at or after `from` that is not a line
    /// break: where a record really begins (the csv crate may count the LF of
    /// a CRLF, or skipped blank lines, into the next record).
    fn record_start(&self, from: u64) -> u64 {
        let skipped = self.bytes[(from - self.start) as usize..]
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
        from + skipped as u64
    }

    /// Drop bytes before `offset` once enough have piled up.
    fn release_before(&mut self, offset: u64) {
        let done = (offset - self.start) as usize;
        if done >= 1 << 20 {
            self.bytes.drain(..done);
            self.start = offset;
        }
    }
}

/// Keeps a copy of what the csv reader reads, so records can be copied
/// from the original bytes.
struct Tee {
    inner: Box<dyn Read + Send>,
    window: Rc<RefCell<Window>>,
}

impl Read for Tee {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.window.borrow_mut().bytes.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

/// Batch CSV records, repeating the header in each batch. A BOM is dropped.
/// Every record must have as many fields as the header, and a quoted field
/// must close before the end of the input. With `array`, each
/// record becomes a JSON object of strings keyed by the header.
pub fn read_csv<S: BatchSink>(
    input: Input,
    delimiter: u8,
    array: Option<&Framing>,
    limits: Limits,
    sink: S,
) -> Result<S> {
    // Without a BOM, a quoted first header is seen as quoted by the parser
    // and by the quote guard alike.
    let input = input.skip_bom()?;
    let file = input.name.clone();
    let array_framing = array.cloned();
    let array = array.is_some();
    let window = Rc::new(RefCell::new(Window::default()));
    // The guard makes a quote still open at the end of the input an error
    // (read_error: exit 65 naming the row), instead of one record that
    // swallows every row after the stray quote.
    let tee = Tee {
        inner: Box::new(QuoteGuard::new(input.reader, delimiter)),
        window: Rc::clone(&window),
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(256 * 1024)
        .from_reader(tee);
    let mut record = csv::ByteRecord::new();
    if !read_record(&mut reader, &mut record, &file, 1)? {
        return Ok(sink);
    }
    let headers = header_names(&record, array, &file)?;
    let mut next = csv::ByteRecord::new();
    let mut row = 2;
    if !read_record(&mut reader, &mut record, &file, row)? {
        return Ok(sink);
    }
    let mut start = window.borrow().record_start(offset_of(&record));
    let framing = if let Some(framing) = array_framing {
        framing
    } else {
        Framing::lines(window.borrow().slice(0, start).to_vec())
    };
    let mut batcher = Batcher::new(sink, framing, limits);
    let mut object = Vec::new();
    loop {
        common::csv::check_width(&record, &headers, &file, row)?;
        if array {
            check_utf8(&record, &headers, &file, row)?;
            object.clear();
            serde_json::to_writer(&mut object, &to_object(&record, &headers))
                .map_err(|e| Error::software(format!("encoding a record as JSON: {e}")))?;
        }
        // Where this record ends is known once the next one is read; if
        // that read fails, the reader's position says it, and this record,
        // whole and valid, is still delivered before the error.
        let after = reader.position().byte();
        let (more, failed) = match read_record(&mut reader, &mut next, &file, row + 1) {
            Ok(more) => (more, None),
            Err(e) => (false, Some(e)),
        };
        let end = if failed.is_some() {
            window.borrow().record_start(after)
        } else if more {
            window.borrow().record_start(offset_of(&next))
        } else {
            window.borrow().end()
        };
        let at = || Location::row(file.as_str(), row);
        if array {
            batcher.push(&[&object], row, at)?;
        } else {
            batcher.push(&[window.borrow().slice(start, end)], row, at)?;
        }
        window.borrow_mut().release_before(end);
        if let Some(e) = failed {
            return Err(e);
        }
        if !more {
            break;
        }
        std::mem::swap(&mut record, &mut next);
        start = end;
        row += 1;
    }
    batcher.finish()
}

fn read_record<R: Read>(
    reader: &mut csv::Reader<R>,
    record: &mut csv::ByteRecord,
    file: &str,
    row: u64,
) -> Result<bool> {
    reader
        .read_byte_record(record)
        .map_err(|e| common::csv::read_error(file, row, e))
}

fn offset_of(record: &csv::ByteRecord) -> u64 {
    record.position().map_or(0, |p| p.byte())
}

/// `--array` makes JSON strings, which must be UTF-8. (The shared check
/// suggests an --encoding flag, which batch-split does not have.)
fn check_utf8(record: &csv::ByteRecord, headers: &[String], file: &str, row: u64) -> Result<()> {
    match record.iter().position(|f| std::str::from_utf8(f).is_err()) {
        None => Ok(()),
        Some(i) => Err(Error::data_at(
            &common::csv::column_at(Location::row(file, row), headers, i),
            "not valid UTF-8, which --array needs (transcode first: csv-shape --encoding latin1)",
        )),
    }
}

/// The header's names, for messages and `--array` keys. Only `--array`
/// needs them to be UTF-8 and unique; copied batches keep the bytes as they are.
fn header_names(record: &csv::ByteRecord, array: bool, file: &str) -> Result<Vec<String>> {
    let mut names = Vec::with_capacity(record.len());
    for (i, field) in record.iter().enumerate() {
        let field = match i {
            0 => field.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(field),
            _ => field,
        };
        match std::str::from_utf8(field) {
            Ok(name) => names.push(name.to_string()),
            Err(_) if array => {
                return Err(Error::data_at(
                    &Location::row(file, 1).position(i),
                    "the column name is not valid UTF-8, which --array needs (transcode first: csv-shape --encoding latin1)",
                ));
            }
            Err(_) => names.push(String::from_utf8_lossy(field).into_owned()),
        }
    }
    if array {
        check_unique(&names, file)?;
    }
    Ok(names)
}

fn check_unique(headers: &[String], file: &str) -> Result<()> {
    match common::csv::first_repeated(headers) {
        None => Ok(()),
        Some(i) => Err(Error::data_at(
            &Location::row(file, 1).field(i, &headers[i]),
            "the column name appears twice; --array needs unique names",
        )),
    }
}

fn to_object(record: &csv::ByteRecord, headers: &[String]) -> Value {
    let map: Map<String, Value> = headers
        .iter()
        .zip(record.iter())
        .map(|(name, field)| {
            (
                name.clone(),
                Value::String(String::from_utf8_lossy(field).into_owned()),
            )
        })
        .collect();
    Value::Object(map)
}
