//! Reading the input records, whole, before anything connects: a malformed
//! record stops the run before anything is written, and every field name is
//! known in time to check it against the table. Records wait in a private
//! temporary file (mode 0600, removed on exit), so memory stays flat.

use crate::args::{Format, Options};
use common::error::Location;
use common::io::Input;
use common::result::{BOOKKEEPING, HASH, KEY, OP, REMOTE_ID};
use common::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, Write};

/// One input value, as the record gave it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Val {
    Null,
    Text(String),
    Bool(bool),
    /// A JSON number, as written.
    Num(String),
    /// A JSON array or object, as compact JSON text.
    Json(String),
}

impl Val {
    /// The value as text, for binding and for scrubbing it from messages.
    pub fn text(&self) -> Option<&str> {
        match self {
            Val::Null => None,
            Val::Bool(true) => Some("true"),
            Val::Bool(false) => Some("false"),
            Val::Text(s) | Val::Num(s) | Val::Json(s) => Some(s),
        }
    }

    /// Whether the value cannot be a key: null or empty.
    pub fn is_empty(&self) -> bool {
        self.text().is_none_or(str::is_empty)
    }

    fn from_json(value: Value) -> Val {
        match value {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(b),
            Value::Number(n) => Val::Num(n.to_string()),
            Value::String(s) => Val::Text(s),
            other => Val::Json(other.to_string()),
        }
    }
}

/// One record: its place in the input, its bookkeeping fields, and the
/// values of the fields db-load writes (None where an NDJSON record lacks
/// the field).
#[derive(Debug, Serialize, Deserialize)]
pub struct Record {
    /// CSV: the row as a spreadsheet shows it (the header is row 1); NDJSON: the line.
    pub row: u64,
    pub key: Value,
    pub op: Option<String>,
    pub hash: Option<String>,
    pub remote_id: Option<String>,
    /// In the order of [`Loaded::fields`]; shorter when later records brought new fields.
    pub values: Vec<Option<Val>>,
}

impl Record {
    pub fn value(&self, field: usize) -> Option<&Val> {
        self.values.get(field).and_then(Option::as_ref)
    }
}

/// The whole input, read.
#[derive(Debug)]
pub struct Loaded {
    /// The input's name for messages.
    pub name: String,
    /// The names of the fields to write, in the input's order (CSV: the header's).
    pub fields: Vec<String>,
    pub count: u64,
    spool: Spool,
}

impl Loaded {
    /// The records, in input order.
    pub fn records(self) -> Result<impl Iterator<Item = Result<Record>>> {
        self.spool.read()
    }
}

/// Which input fields to keep.
struct Keep<'a> {
    columns: Option<&'a [String]>,
    key: &'a [String],
}

impl Keep<'_> {
    fn keeps(&self, name: &str) -> bool {
        if self.key.iter().any(|k| k == name) {
            return true;
        }
        match self.columns {
            Some(columns) => columns.iter().any(|c| c == name),
            None => !BOOKKEEPING.contains(&name),
        }
    }
}

pub fn read(input: Input, options: &Options) -> Result<Loaded> {
    let keep = Keep {
        columns: options.columns.as_deref(),
        key: &options.key,
    };
    match options.from {
        Format::Csv => read_csv(input, options, &keep),
        Format::Ndjson => read_ndjson(input, options, &keep),
    }
}

fn read_csv(input: Input, options: &Options, keep: &Keep) -> Result<Loaded> {
    let name = input.name.clone();
    let mut reader = common::csv::reader(
        input,
        common::csv::ReadOptions {
            delimiter: options.delimiter,
            ..Default::default()
        },
    )?;
    let mut loaded = Loaded {
        name: name.clone(),
        fields: Vec::new(),
        count: 0,
        spool: Spool::new()?,
    };
    let Some(headers) = common::csv::read_headers(&mut reader, &name)? else {
        return Ok(loaded);
    };
    let header_at = Location::row(&name, 1);
    if let Some(i) = common::csv::first_repeated(&headers) {
        return Err(Error::data_at(
            &header_at.clone().field(i, &headers[i]),
            "the header names this column twice",
        ));
    }
    let wanted = options.key.iter().chain(options.columns.iter().flatten());
    let missing: Vec<String> = wanted
        .filter(|w| !headers.contains(w))
        .map(|w| format!("{w:?}"))
        .collect();
    if !missing.is_empty() {
        return Err(Error::data(format!(
            "{header_at}: the header has no column {} (named by --key or --columns)",
            missing.join(", ")
        )));
    }
    let kept: Vec<usize> = (0..headers.len())
        .filter(|&i| keep.keeps(&headers[i]))
        .collect();
    for &i in &kept {
        crate::args::check_identifier(&headers[i]).map_err(|why| {
            let at = match headers[i].is_empty() {
                true => header_at.clone().position(i),
                false => header_at.clone().field(i, &headers[i]),
            };
            Error::data_at(&at, format!("bad column name: {why}"))
        })?;
    }
    loaded.fields = kept.iter().map(|&i| headers[i].clone()).collect();
    let position = |name: &str| headers.iter().position(|h| h == name);
    let bookkeeping = BOOKKEEPING.map(position);
    let key_at: Vec<usize> = options
        .key
        .iter()
        .filter_map(|k| loaded.fields.iter().position(|f| f == k))
        .collect();

    let mut record = csv::ByteRecord::new();
    let mut row = 1u64;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(common::csv::read_error(&name, row + 1, e)),
        }
        row += 1;
        common::csv::check_width(&record, &headers, &name, row)?;
        common::csv::check_utf8(&record, &headers, &name, row)?;
        let field = |i: usize| std::str::from_utf8(&record[i]).unwrap_or_default();
        let text = |i: Option<usize>| i.map(field).filter(|t| !t.is_empty()).map(String::from);
        let values: Vec<Option<Val>> = kept
            .iter()
            .map(|&i| {
                let t = field(i);
                Some(if t.is_empty() && !options.keep_empty {
                    Val::Null
                } else {
                    Val::Text(t.to_string())
                })
            })
            .collect();
        let key = match text(bookkeeping[0]) {
            Some(k) => Value::String(k),
            None => build_key(&key_at, &values),
        };
        let op = text(bookkeeping[1]);
        check_op(op.as_deref(), &Location::row(&name, row))?;
        loaded.spool.push(&Record {
            row,
            key,
            op,
            hash: text(bookkeeping[2]),
            remote_id: text(bookkeeping[3]),
            values,
        })?;
        loaded.count += 1;
    }
    Ok(loaded)
}

fn read_ndjson(input: Input, options: &Options, keep: &Keep) -> Result<Loaded> {
    let mut reader = common::ndjson::LineReader::new(input);
    let name = reader.name().to_string();
    let mut loaded = Loaded {
        name: name.clone(),
        fields: Vec::new(),
        count: 0,
        spool: Spool::new()?,
    };
    // The key's fields come first, so that every record has their places.
    loaded.fields.extend(options.key.iter().cloned());
    let mut places: HashMap<String, usize> = loaded
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| (f.clone(), i))
        .collect();
    while let Some((line, mut map)) = reader.next_object()? {
        let at = Location::line(&name, line);
        let op = text_of(&map, OP);
        check_op(op.as_deref(), &at)?;
        let mut values: Vec<Option<Val>> = vec![None; loaded.fields.len()];
        let given_key = map.get(KEY).filter(|k| !k.is_null()).cloned();
        let bookkeeping = (text_of(&map, HASH), text_of(&map, REMOTE_ID));
        for (position, (field, value)) in std::mem::take(&mut map).into_iter().enumerate() {
            if !keep.keeps(&field) {
                continue;
            }
            let i = match places.get(&field) {
                Some(&i) => i,
                None => {
                    crate::args::check_identifier(&field).map_err(|why| {
                        Error::data_at(
                            &at.clone().field(position, &field),
                            format!("bad column name: {why}"),
                        )
                    })?;
                    places.insert(field.clone(), loaded.fields.len());
                    loaded.fields.push(field);
                    values.push(None);
                    loaded.fields.len() - 1
                }
            };
            values[i] = Some(Val::from_json(value));
        }
        let key_at: Vec<usize> = (0..options.key.len()).collect();
        let key = given_key.unwrap_or_else(|| build_key(&key_at, &values));
        loaded.spool.push(&Record {
            row: line,
            key,
            op,
            hash: bookkeeping.0,
            remote_id: bookkeeping.1,
            values,
        })?;
        loaded.count += 1;
    }
    Ok(loaded)
}

/// A bookkeeping field as text (a number as its text), if it has one.
fn text_of(map: &Map<String, Value>, field: &str) -> Option<String> {
    match map.get(field) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// db-load writes rows; it never deletes one.
fn check_op(op: Option<&str>, at: &Location) -> Result<()> {
    if op == Some("deleted") {
        return Err(Error::data_at(
            &at.clone().column(OP),
            "a deleted record: db-load inserts and updates rows, it does not delete them (leave deleted out of index-diff --emit)",
        ));
    }
    Ok(())
}

/// The record's key for its result line, from the --key fields: a string,
/// or an array of strings for a composite key (as index-diff writes `_key`).
fn build_key(key_at: &[usize], values: &[Option<Val>]) -> Value {
    let part = |i: &usize| {
        let text = values
            .get(*i)
            .and_then(Option::as_ref)
            .and_then(Val::text)
            .unwrap_or_default();
        Value::String(text.to_string())
    };
    match key_at {
        [one] => part(one),
        many => Value::Array(many.iter().map(part).collect()),
    }
}

/// Records in a private temporary file, one JSON line each.
struct Spool {
    out: BufWriter<File>,
}

impl std::fmt::Debug for Spool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Spool")
    }
}

pub const SPOOL: &str = "a temporary file in $TMPDIR";

impl Spool {
    fn new() -> Result<Spool> {
        let file =
            tempfile::tempfile().map_err(|e| Error::write(format!("cannot create {SPOOL}"), e))?;
        Ok(Spool {
            out: BufWriter::with_capacity(256 * 1024, file),
        })
    }

    fn push(&mut self, record: &Record) -> Result<()> {
        serde_json::to_writer(&mut self.out, record)
            .map_err(std::io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"))
            .map_err(|e| Error::write(format!("writing {SPOOL}"), e))
    }

    fn read(self) -> Result<impl Iterator<Item = Result<Record>>> {
        let mut file = self
            .out
            .into_inner()
            .map_err(|e| Error::write(format!("writing {SPOOL}"), e.into_error()))?;
        file.rewind()
            .map_err(|e| Error::io(format!("reading {SPOOL}"), e))?;
        let lines = BufReader::with_capacity(256 * 1024, file).lines();
        Ok(lines.map(|line| {
            let line = line.map_err(|e| Error::io(format!("reading {SPOOL}"), e))?;
            serde_json::from_str(&line)
                .map_err(|_| Error::software(format!("{SPOOL} holds a line db-load cannot read")))
        }))
    }
}
