//! Reading the input: each record is parsed, its key found and its hash
//! computed, and a [`Decider`] decides, in input order, whether it is
//! emitted; only then is its output line built.
//!
//! (A reading thread beside the diff was tried; on the two-core machine it
//! was measured on, it gave no speed.)

use crate::args::{DiffOptions, Format};
use crate::hash::{ContentHasher, Hash, is_own_field, json_names};
use crate::key::index_key;
use crate::record::{KeyValue, RawRecord, key_value};
use common::csv::Encoding;
use common::error::Location;
use common::io::Input;
use common::ndjson::{LineReader, write_json_string};
use common::result::BOOKKEEPING;
use common::{Error, Result};
use std::borrow::Cow;

/// Decides, record by record, what is emitted, and emits it.
pub trait Decider {
    /// What [`Decider::decide`] found for a record to emit.
    type Decision;
    /// One record: its input row (CSV, the header being row 1) or line
    /// (NDJSON), its index key and its hash. `Some` when it is to be emitted.
    fn decide(&mut self, row: u64, key: &str, hash: Hash) -> Result<Option<Self::Decision>>;
    /// Emit a record, given its output line so far: `{"name":value,...,`
    /// (or `{` when it has no fields to keep).
    fn emit(
        &mut self,
        row: u64,
        key: &str,
        hash: Hash,
        decision: Self::Decision,
        fields: &[u8],
    ) -> Result<()>;
}

/// Reads the input of a diff.
#[derive(Debug)]
pub struct Reading {
    file: String,
    key: Vec<String>,
    from: Format,
    delimiter: u8,
    encoding: Encoding,
    hasher: ContentHasher,
    line: Vec<u8>,
}

/// Read every record of `input` into `sink`; stops at the first error.
pub fn read_all(options: &DiffOptions, input: Input, sink: &mut impl Decider) -> Result<()> {
    let reading = Reading {
        file: input.name.clone(),
        key: options.key.clone(),
        from: options.from,
        delimiter: options.delimiter,
        encoding: options.encoding,
        hasher: ContentHasher::new(&options.hash_exclude),
        line: Vec::with_capacity(4096),
    };
    match reading.from {
        Format::Ndjson => reading.ndjson(input, sink),
        Format::Csv => reading.csv(input, sink),
    }
}

impl Reading {
    fn ndjson(mut self, input: Input, sink: &mut impl Decider) -> Result<()> {
        let mut lines = LineReader::new(input);
        while let Some((line, bytes)) = lines.next_line()? {
            let record = RawRecord::parse(bytes, &self.file, line)?;
            let key = self.ndjson_key(&record, line)?;
            let hash = self.hasher.record(&record);
            let Some(decision) = sink.decide(line, &key, hash)? else {
                continue;
            };
            let buf = &mut self.line;
            buf.clear();
            let own = record.fields.iter().any(|(name, _)| is_own_field(name));
            match bytes.trim_ascii_end().strip_suffix(b"}") {
                // The line as it is, up to its closing brace.
                Some(head) if !own && !record.fields.is_empty() => {
                    buf.extend_from_slice(head.trim_ascii_end());
                    buf.push(b',');
                }
                _ => {
                    buf.push(b'{');
                    for (name, value) in &record.fields {
                        if is_own_field(name) {
                            continue;
                        }
                        write_json_string(buf, name.as_bytes());
                        buf.push(b':');
                        buf.extend_from_slice(value.as_bytes());
                        buf.push(b',');
                    }
                }
            }
            sink.emit(line, &key, hash, decision, buf)?;
        }
        Ok(())
    }

    /// The index key: borrowed from the line for a single key column
    /// without escapes.
    fn ndjson_key<'a>(&self, record: &RawRecord<'a>, line: u64) -> Result<Cow<'a, str>> {
        if let [column] = self.key.as_slice() {
            return self.key_part(record, column, line);
        }
        let mut parts = Vec::with_capacity(self.key.len());
        for column in &self.key {
            parts.push(self.key_part(record, column, line)?.into_owned());
        }
        Ok(Cow::Owned(index_key(parts)))
    }

    fn key_part<'a>(
        &self,
        record: &RawRecord<'a>,
        column: &str,
        line: u64,
    ) -> Result<Cow<'a, str>> {
        let problem = match key_value(record.get(column)) {
            KeyValue::Text(text) => return Ok(text),
            KeyValue::Missing => "the key column is missing",
            KeyValue::Null => "the key is null",
            KeyValue::Empty => "the key is empty",
            KeyValue::Other => "the key is not a string or a number",
        };
        let at = Location::line(self.file.as_str(), line).column(column);
        Err(Error::data_at(&at, problem))
    }

    fn csv(mut self, input: Input, sink: &mut impl Decider) -> Result<()> {
        let options = common::csv::ReadOptions {
            delimiter: self.delimiter,
            encoding: self.encoding,
            flexible: false,
        };
        let mut reader = common::csv::reader(input, options)?;
        let file = self.file.clone();
        let Some(headers) = common::csv::read_headers(&mut reader, &file)? else {
            return Ok(());
        };
        if let Some(i) = common::csv::first_repeated(&headers) {
            return Err(Error::data_at(
                &Location::row(file.as_str(), 1).field(i, &headers[i]),
                "the column name appears twice in the header",
            ));
        }
        let mut key_columns = Vec::with_capacity(self.key.len());
        for column in &self.key {
            match headers.iter().position(|h| h == column) {
                Some(i) => key_columns.push(i),
                None => {
                    return Err(Error::data_at(
                        &Location::row(file.as_str(), 1).column(column.as_str()),
                        "the key column is not in the header",
                    ));
                }
            }
        }
        let order = self.hasher.csv_order(&headers);
        let names = json_names(&headers);
        let kept: Vec<usize> = (0..headers.len())
            .filter(|&i| !BOOKKEEPING.contains(&headers[i].as_str()))
            .collect();
        let mut record = csv::ByteRecord::new();
        let mut row = 1;
        loop {
            row += 1;
            let more = reader
                .read_byte_record(&mut record)
                .map_err(|e| common::csv::read_error(&file, row, e))?;
            if !more {
                return Ok(());
            }
            common::csv::check_width(&record, &headers, &file, row)?;
            common::csv::check_utf8(&record, &headers, &file, row)?;
            let mut parts = Vec::with_capacity(key_columns.len());
            for &i in &key_columns {
                let value = String::from_utf8_lossy(&record[i]);
                if value.is_empty() {
                    return Err(Error::data_at(
                        &Location::row(file.as_str(), row).field(i, &headers[i]),
                        "the key is empty",
                    ));
                }
                parts.push(value.into_owned());
            }
            let key = index_key(parts);
            let hash = self.hasher.csv(&names, &order, &record);
            let Some(decision) = sink.decide(row, &key, hash)? else {
                continue;
            };
            let buf = &mut self.line;
            buf.clear();
            buf.push(b'{');
            for &i in &kept {
                buf.extend_from_slice(&names[i]);
                buf.push(b':');
                write_json_string(buf, &record[i]);
                buf.push(b',');
            }
            sink.emit(row, &key, hash, decision, buf)?;
        }
    }
}
