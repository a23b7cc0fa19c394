//! Reading records: CSV (by byte records, reused) and NDJSON, through the plan into the sink.

use crate::args::{Format, Options};
use crate::plan::{Plan, Source};
use crate::record::{Field, Record};
use crate::sink::{Cell, Row, RowError, RowWriter};
use common::csv::{Encoding, ReadOptions, read_error, read_headers};
use common::error::Location;
use common::io::{Output, open_input};
use common::ndjson::{LineReader, check_depth, json_syntax_error, parse_object};
use common::{Error, Result};
use csv::ByteRecord;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::mpsc;

struct CsvRow<'a>(&'a ByteRecord);

impl Row for CsvRow<'_> {
    fn cell(&self, field: usize) -> Cell<'_> {
        // A short row under --pad-ragged reads as empty fields.
        Cell::Text(self.0.get(field).unwrap_or(b""))
    }
}

struct JsonRow<'a> {
    record: &'a Record<'a>,
    /// Where each column's value is among the record's fields: `None` when
    /// the record is keyed as the first one (`Record::aligned`), so that
    /// column i is field i.
    slots: Option<&'a [Option<usize>]>,
}

impl Row for JsonRow<'_> {
    fn cell(&self, field: usize) -> Cell<'_> {
        let at = match self.slots {
            None => Some(field),
            Some(slots) => slots[field],
        };
        match at.and_then(|j| self.record.fields.get(j)).map(|(_, v)| v) {
            None | Some(Field::Null) => Cell::Null,
            Some(Field::Text(s)) => Cell::Text(s.as_bytes()),
            Some(Field::Json(v)) => Cell::Json(v),
        }
    }
}

/// The next record of `lines`, with its line number.
fn next_record<'a>(lines: &'a mut LineReader, name: &str) -> Result<Option<(u64, Record<'a>)>> {
    let Some((line, bytes)) = lines.next_line()? else {
        return Ok(None);
    };
    check_depth(bytes, name, line)?;
    match Record::parse(bytes) {
        Ok(record) => Ok(Some((line, record))),
        // The message of serde_json's own reading of the line, which tells
        // a line that is no object from a syntax error and where.
        Err(e) => Err(match parse_object(bytes, name, line) {
            Err(err) => err,
            Ok(_) => json_syntax_error(&e, name, line),
        }),
    }
}

/// The sink, with its header written, and the output's name.
fn open_sink(options: &Options, out: Output, plan: &Plan) -> Result<(RowWriter, String)> {
    let name = out.name();
    let what = || format!("writing {name}");
    let mut sink = match options.to {
        Format::Csv => RowWriter::csv(out, options.write, options.quote_spaces)
            .map_err(|e| Error::write(what(), e))?,
        Format::Ndjson => RowWriter::ndjson(out),
    };
    sink.start(&plan.names)
        .map_err(|e| Error::write(what(), e))?;
    Ok((sink, name))
}

/// Turn a row error into the tool's error at `at` (row or line), naming the column.
fn row_error(err: RowError, plan: &Plan, at: Location, options: &Options, out: &str) -> Error {
    match err {
        RowError::Io(e) => Error::write(format!("writing {out}"), e),
        RowError::Convert { column, ty, value } => {
            let mut what = format!("value is not a valid {} (--types)", ty.name());
            if options.show_values {
                what.push_str(&format!(": {value:?}"));
            }
            let name = &plan.names[column];
            let at = match plan.sources[column] {
                Source::Field(i) => at.field(i, name),
                Source::Empty | Source::RowNumber => at.column(name),
            };
            Error::data_at(&at, what)
        }
    }
}

/// Everything but a UTF-8 check per field: one pass over the record's bytes,
/// and field starts checked only when there is non-ASCII text.
fn record_is_utf8(record: &ByteRecord) -> bool {
    let bytes = record.as_slice();
    if bytes.is_ascii() {
        return true;
    }
    if std::str::from_utf8(bytes).is_err() {
        return false;
    }
    (0..record.len()).all(|i| {
        record
            .range(i)
            .is_none_or(|r| bytes.get(r.start).is_none_or(|&b| b & 0xC0 != 0x80))
    })
}

pub fn run_csv(options: &Options) -> Result<()> {
    let input = open_input(options.input.as_deref())?;
    let name = input.name.clone();
    let mut reader = common::csv::reader(
        input,
        ReadOptions {
            delimiter: options.delimiter,
            encoding: options.encoding,
            flexible: true,
        },
    )?;
    let out = Output::open(options.output.as_deref())?;
    let Some(headers) = read_headers(&mut reader, &name)? else {
        return out.finish();
    };
    let plan = Plan::build(options, &headers, &Location::row(&name, 1))?;
    let (mut sink, out_name) = open_sink(options, out, &plan)?;

    let width = headers.len();
    let check_utf8 = options.encoding == Encoding::Utf8;
    let mut written: u64 = 0;
    let mut process = |record: &ByteRecord, row: u64| -> Result<()> {
        if options.skip_empty_rows && record.as_slice().is_empty() {
            return Ok(());
        }
        if record.len() != width {
            check_ragged(
                record,
                width,
                options.pad_ragged,
                &Location::row(&name, row),
            )?;
        }
        if check_utf8 && !record_is_utf8(record) {
            common::csv::check_utf8(record, &headers, &name, row)?;
        }
        for (field, filter) in &plan.filters {
            let value = field.and_then(|i| record.get(i)).unwrap_or(b"");
            if !filter.keeps(value) {
                return Ok(());
            }
        }
        written += 1;
        sink.write(&plan, &CsvRow(record), written)
            .map_err(|e| row_error(e, &plan, Location::row(&name, row), options, &out_name))
    };

    // Parsing is the larger half of the work: it runs on its own thread and
    // hands over batches of records, which come back empty for reuse.
    let (batches, receive_batches) = mpsc::sync_channel::<Result<Batch>>(BATCHES_IN_FLIGHT);
    let (recycle, receive_recycled) = mpsc::sync_channel::<Batch>(BATCHES_IN_FLIGHT + 2);
    let reader_name = name.clone();
    let parser = std::thread::spawn(move || {
        parse_batches(reader, &reader_name, &batches, &receive_recycled);
    });
    let mut result = Ok(());
    for batch in &receive_batches {
        let step = batch.and_then(|batch| {
            for (k, record) in batch.records[..batch.len].iter().enumerate() {
                process(record, batch.first_row + k as u64)?;
            }
            let _ = recycle.try_send(batch);
            Ok(())
        });
        if let Err(e) = step {
            result = Err(e);
            break;
        }
    }
    // Dropping the receiver stops the parser at its next batch. After an
    // error, the parser is not waited for: it may be blocked reading a
    // stdin that stays open, and the process is about to exit anyway.
    drop(receive_batches);
    result?;
    if parser.join().is_err() {
        return Err(Error::software("the CSV parsing thread panicked"));
    }
    sink.finish()
}

const BATCH_RECORDS: usize = 1024;
const BATCHES_IN_FLIGHT: usize = 4;

/// Parsed records and the row number of the first.
struct Batch {
    records: Vec<ByteRecord>,
    len: usize,
    first_row: u64,
}

/// Read records into batches until the input ends, a read fails (sent as
/// the last message) or the receiver goes away.
fn parse_batches<R: Read>(
    mut reader: csv::Reader<R>,
    name: &str,
    batches: &mpsc::SyncSender<Result<Batch>>,
    recycled: &mpsc::Receiver<Batch>,
) {
    let mut row: u64 = 1;
    loop {
        let mut batch = recycled.try_recv().unwrap_or_else(|_| Batch {
            records: Vec::with_capacity(BATCH_RECORDS),
            len: 0,
            first_row: 0,
        });
        batch.len = 0;
        batch.first_row = row + 1;
        let mut failure = None;
        let mut done = false;
        while batch.len < BATCH_RECORDS {
            if batch.records.len() == batch.len {
                batch.records.push(ByteRecord::new());
            }
            match reader.read_byte_record(&mut batch.records[batch.len]) {
                Ok(true) => {
                    batch.len += 1;
                    row += 1;
                }
                Ok(false) => {
                    done = true;
                    break;
                }
                Err(e) => {
                    failure = Some(read_error(name, row + 1, e));
                    break;
                }
            }
        }
        if batch.len > 0 && batches.send(Ok(batch)).is_err() {
            return;
        }
        if let Some(e) = failure {
            let _ = batches.send(Err(e));
            return;
        }
        if done {
            return;
        }
    }
}

fn check_ragged(record: &ByteRecord, width: usize, pad: bool, at: &Location) -> Result<()> {
    let n = record.len();
    if pad && (n < width || record.iter().skip(width).all(<[u8]>::is_empty)) {
        return Ok(());
    }
    let hint = match (pad, n < width) {
        (false, true) => " (--pad-ragged pads short rows)",
        (true, false) => " (the extra fields are not empty)",
        _ => "",
    };
    Err(Error::data_at(
        at,
        format!(
            "has {}, expected {width} as in the header{hint}",
            common::text::count(n, "field", "fields")
        ),
    ))
}

/// NDJSON in: the first record gives the columns, then each record is
/// checked and written in turn.
pub fn run_ndjson(options: &Options) -> Result<()> {
    let mut lines = LineReader::new(open_input(options.input.as_deref())?);
    let name = lines.name().to_string();
    let out = Output::open(options.output.as_deref())?;
    let Some((first_line, first)) = next_record(&mut lines, &name)? else {
        return out.finish();
    };
    let columns = JsonColumns::from_first(&first, options);
    let plan = Plan::build(options, &columns.keys, &Location::line(&name, first_line))?;
    let (writer, out_name) = open_sink(options, out, &plan)?;
    let mut records = JsonRecords {
        options,
        plan: &plan,
        columns: &columns,
        writer,
        name: &name,
        out_name: &out_name,
        slots: Vec::new(),
        written: 0,
    };
    records.write(first_line, &first)?;
    drop(first);
    while let Some((line, record)) = next_record(&mut lines, &name)? {
        records.write(line, &record)?;
    }
    records.writer.finish()
}

/// The columns an NDJSON input is read into, from its first record.
struct JsonColumns {
    /// The first record's keys (the last of a repeated key counts, in the
    /// place of its first), then the --add-empty keys it lacks.
    keys: Vec<String>,
    /// How many of `keys` are the first record's: records keyed as the
    /// first one is are read by position.
    first_keys: usize,
    /// Each key's place in `keys`.
    index: HashMap<String, usize>,
    /// Without --select the first record's keys are the columns, and a later
    /// key outside them would be lost, so it is an error.
    closed: bool,
}

impl JsonColumns {
    fn from_first(first: &Record, options: &Options) -> JsonColumns {
        let mut keys: Vec<String> = Vec::with_capacity(first.fields.len());
        let mut seen = HashSet::with_capacity(first.fields.len());
        for key in first.keys() {
            if seen.insert(key) {
                keys.push(key.to_string());
            }
        }
        let first_keys = keys.len();
        // An --add-empty key the first record lacks may still come in later
        // records: read it where it is, rather than writing it always empty.
        for name in &options.add_empty {
            let key = options
                .renames
                .iter()
                .find(|(_, new)| new == name)
                .map_or(name, |(old, _)| old);
            if !keys.contains(key) {
                keys.push(key.clone());
            }
        }
        let index = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), i))
            .collect();
        JsonColumns {
            keys,
            first_keys,
            index,
            closed: options.select.is_none(),
        }
    }

    /// Fill `slots` with where each column's value is among the fields of a
    /// record not keyed as the first one (the last of a repeated key counts).
    fn place(
        &self,
        record: &Record,
        slots: &mut Vec<Option<usize>>,
        at: impl Fn() -> Location,
    ) -> Result<()> {
        slots.clear();
        slots.resize(self.keys.len(), None);
        for (j, (key, _)) in record.fields.iter().enumerate() {
            match self.index.get(key.as_ref()) {
                Some(&i) => slots[i] = Some(j),
                None if self.closed => {
                    return Err(Error::data_at(
                        &at().field(j, key),
                        "key is not among the first record's keys, which are the columns (list every column with --select)",
                    ));
                }
                None => {}
            }
        }
        Ok(())
    }

    /// Whether the record has column `i`.
    fn has(&self, row: &JsonRow, i: usize) -> bool {
        match row.slots {
            None => i < self.first_keys,
            Some(slots) => slots[i].is_some(),
        }
    }

    /// Whether field `j` of the record is the one that counts for its key:
    /// its column's, or the last of a key outside the columns.
    fn counts(&self, row: &JsonRow, j: usize, key: &str) -> bool {
        match (row.slots, self.index.get(key)) {
            (None, _) => true,
            (Some(slots), Some(&i)) => slots[i] == Some(j),
            (Some(_), None) => !row.record.fields[j + 1..].iter().any(|(k, _)| k == key),
        }
    }

    /// Whether every key's last value is empty (a column or not), as
    /// --skip-empty-rows takes it.
    fn is_empty(&self, row: &JsonRow) -> bool {
        row.record.fields.iter().enumerate().all(|(j, (key, v))| {
            !self.counts(row, j, key)
                || match v {
                    Field::Null => true,
                    Field::Text(s) => s.is_empty(),
                    Field::Json(_) => false,
                }
        })
    }
}

/// NDJSON records through the plan into the writer, one at a time.
struct JsonRecords<'a> {
    options: &'a Options,
    plan: &'a Plan,
    columns: &'a JsonColumns,
    writer: RowWriter,
    /// The input's name and the output's, for messages.
    name: &'a str,
    out_name: &'a str,
    /// Where each column's value is in a record not keyed as the first one.
    slots: Vec<Option<usize>>,
    written: u64,
}

impl JsonRecords<'_> {
    /// Check the record of input line `line` and write it unless
    /// --skip-empty-rows or a filter drops it.
    fn write(&mut self, line: u64, record: &Record) -> Result<()> {
        let name = self.name;
        let at = || Location::line(name, line);
        let aligned = record.aligned(&self.columns.keys, self.columns.first_keys);
        if !aligned {
            self.columns.place(record, &mut self.slots, at)?;
        }
        let row = JsonRow {
            record,
            slots: (!aligned).then_some(self.slots.as_slice()),
        };
        self.check_required(&row, at)?;
        let empty = self.options.skip_empty_rows && self.columns.is_empty(&row);
        if empty || !self.filters_keep(&row) {
            return Ok(());
        }
        self.written += 1;
        self.writer
            .write(self.plan, &row, self.written)
            .map_err(|e| row_error(e, self.plan, at(), self.options, self.out_name))
    }

    /// Whether every --filter keeps the row (one on a column the input
    /// lacks sees an empty value).
    fn filters_keep(&self, row: &JsonRow) -> bool {
        self.plan.filters.iter().all(|(field, filter)| match field {
            Some(i) => filter.keeps(&row.text(*i)),
            None => filter.keeps(b""),
        })
    }

    /// A data error naming the --require keys the record lacks.
    fn check_required(&self, row: &JsonRow, at: impl Fn() -> Location) -> Result<()> {
        let missing: Vec<String> = self
            .plan
            .required
            .iter()
            .filter(|(_, i)| i.is_some_and(|i| !self.columns.has(row, i)))
            .map(|(n, _)| format!("{n:?}"))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(Error::data_at(
            &at(),
            format!("missing required key {}", missing.join(", ")),
        ))
    }
}
