//! Writing rows as CSV or NDJSON, without allocating per row.

use crate::plan::{Plan, Source};
use crate::types::ValueType;
use common::io::Output;
use common::ndjson::write_json_string;
use serde_json::Value;
use std::borrow::Cow;
use std::io::{self, Write};

/// One input field, as the row writers see it.
#[derive(Debug)]
pub enum Cell<'a> {
    /// Text: every CSV field, and NDJSON strings.
    Text(&'a [u8]),
    /// An NDJSON number, boolean, array or object.
    Json(&'a Value),
    /// An NDJSON null or absent key.
    Null,
}

/// An input row: its fields by input index.
pub trait Row {
    fn cell(&self, field: usize) -> Cell<'_>;

    /// The field as text: null is empty, JSON values are their JSON text.
    fn text(&self, field: usize) -> Cow<'_, [u8]> {
        match self.cell(field) {
            Cell::Text(t) => Cow::Borrowed(t),
            Cell::Null => Cow::Borrowed(b""),
            Cell::Json(v) => Cow::Owned(serde_json::to_vec(v).unwrap_or_default()),
        }
    }
}

/// Why a row could not be written.
#[derive(Debug)]
pub enum RowError {
    Io(io::Error),
    /// Output column `column`'s value does not convert to its --types type.
    Convert {
        column: usize,
        ty: ValueType,
        value: String,
    },
}

impl From<io::Error> for RowError {
    fn from(e: io::Error) -> Self {
        RowError::Io(e)
    }
}

#[derive(Debug)]
pub enum RowWriter {
    Csv {
        writer: Box<csv::Writer<Output>>,
        number: Vec<u8>,
        /// With --quote-spaces: the delimiter, for quoting fields by hand.
        spaces: Option<u8>,
    },
    Ndjson {
        out: Output,
        /// `{"name":` or `,"name":` for each output column.
        keys: Vec<Vec<u8>>,
        line: Vec<u8>,
    },
}

impl RowWriter {
    /// With `quote_spaces` (and not `quote_all`), fields holding a space or
    /// a tab are quoted too, as PHP's fputcsv writes them.
    pub fn csv(
        out: Output,
        options: common::csv::WriteOptions,
        quote_spaces: bool,
    ) -> io::Result<RowWriter> {
        let spaces =
            (quote_spaces && !options.quote_all).then(|| options.delimiter.unwrap_or(b','));
        let options = common::csv::WriteOptions {
            quoted_by_caller: spaces.is_some(),
            ..options
        };
        let writer = common::csv::writer(out, options)?;
        Ok(RowWriter::Csv {
            writer: Box::new(writer),
            number: Vec::with_capacity(20),
            spaces,
        })
    }

    pub fn ndjson(out: Output) -> RowWriter {
        RowWriter::Ndjson {
            out,
            keys: Vec::new(),
            line: Vec::with_capacity(4096),
        }
    }

    /// Write the header (CSV) or prepare the keys (NDJSON).
    pub fn start(&mut self, names: &[String]) -> io::Result<()> {
        match self {
            RowWriter::Csv { writer, spaces, .. } => {
                let lone = names.len() == 1;
                writer
                    .write_record(
                        names
                            .iter()
                            .map(|n| quote(Cow::Borrowed(n.as_bytes()), *spaces, lone)),
                    )
                    .map_err(csv_io)
            }
            RowWriter::Ndjson { keys, .. } => {
                for (i, name) in names.iter().enumerate() {
                    let mut key = vec![if i == 0 { b'{' } else { b',' }];
                    write_json_string(&mut key, name.as_bytes());
                    key.push(b':');
                    keys.push(key);
                }
                Ok(())
            }
        }
    }

    /// Write one row; `number` is its 1-based output row number.
    pub fn write<R: Row>(&mut self, plan: &Plan, row: &R, number: u64) -> Result<(), RowError> {
        match self {
            RowWriter::Csv {
                writer,
                number: buf,
                spaces,
            } => {
                if plan.numbered {
                    buf.clear();
                    write!(buf, "{number}")?;
                }
                let buf = &*buf;
                let (spaces, lone) = (*spaces, plan.sources.len() == 1);
                writer
                    .write_record(plan.sources.iter().map(|s| {
                        let field = match *s {
                            Source::Field(i) => row.text(i),
                            Source::Empty => Cow::Borrowed(&b""[..]),
                            Source::RowNumber => Cow::Borrowed(buf.as_slice()),
                        };
                        quote(field, spaces, lone)
                    }))
                    .map_err(|e| RowError::Io(csv_io(e)))
            }
            RowWriter::Ndjson { out, keys, line } => {
                line.clear();
                if keys.is_empty() {
                    line.extend_from_slice(b"{}\n");
                    return Ok(out.write_all(line)?);
                }
                let mut number_text = [0u8; 20];
                for (k, source) in plan.sources.iter().enumerate() {
                    line.extend_from_slice(&keys[k]);
                    let ty = plan.types[k];
                    let cell = match *source {
                        Source::Field(i) => row.cell(i),
                        Source::Empty => Cell::Text(b""),
                        Source::RowNumber => {
                            let mut cursor = io::Cursor::new(&mut number_text[..]);
                            write!(cursor, "{number}")?;
                            let len = cursor.position() as usize;
                            Cell::Text(&number_text[..len])
                        }
                    };
                    write_cell(line, cell, ty).map_err(|e| match e {
                        RowError::Convert { ty, value, .. } => RowError::Convert {
                            column: k,
                            ty,
                            value,
                        },
                        other => other,
                    })?;
                }
                line.extend_from_slice(b"}\n");
                Ok(out.write_all(line)?)
            }
        }
    }

    pub fn finish(self) -> common::Result<()> {
        let out = match self {
            RowWriter::Csv { mut writer, .. } => {
                let what = format!("writing {}", writer.get_ref().name());
                writer.flush().map_err(|e| common::Error::write(&what, e))?;
                writer.into_inner().map_err(|e| {
                    let err = e.error();
                    common::Error::write(&what, io::Error::new(err.kind(), err.to_string()))
                })?
            }
            RowWriter::Ndjson { out, .. } => out,
        };
        out.finish()
    }
}

fn write_cell(line: &mut Vec<u8>, cell: Cell<'_>, ty: Option<ValueType>) -> Result<(), RowError> {
    let fail = |ty, value: String| RowError::Convert {
        column: 0,
        ty,
        value,
    };
    match (cell, ty) {
        (Cell::Text(t), None) => write_json_string(line, t),
        (Cell::Text(t), Some(ty)) => {
            let mark = line.len();
            if !ty.write_text(line, t)? {
                line.truncate(mark);
                return Err(fail(ty, String::from_utf8_lossy(t).into_owned()));
            }
        }
        (Cell::Null, _) => line.extend_from_slice(b"null"),
        (Cell::Json(v), Some(ValueType::String)) => {
            let text = serde_json::to_vec(v).map_err(io::Error::from)?;
            write_json_string(line, &text);
        }
        (Cell::Json(v), Some(ty)) if !ty.accepts(v) => {
            return Err(fail(ty, v.to_string()));
        }
        (Cell::Json(v), _) => serde_json::to_writer(&mut *line, v).map_err(io::Error::from)?,
    }
    Ok(())
}

/// The csv writer wraps I/O errors; unwrap them so a broken pipe stays one.
/// A CSV writer that writes fields as given: `quote` has quoted them.
/// With `spaces` (the delimiter, for --quote-spaces), the field quoted when
/// it holds the delimiter, a quote, a line break, a space or a tab, quotes
/// doubled; a row of one empty field is `""`, so that it is not a blank line.
fn quote(field: Cow<'_, [u8]>, spaces: Option<u8>, lone: bool) -> Cow<'_, [u8]> {
    let Some(delimiter) = spaces else {
        return field;
    };
    if lone && field.is_empty() {
        return Cow::Borrowed(&b"\"\""[..]);
    }
    if !field
        .iter()
        .any(|&b| b == delimiter || matches!(b, b'"' | b'\r' | b'\n' | b' ' | b'\t'))
    {
        return field;
    }
    let mut quoted = Vec::with_capacity(field.len() + 4);
    quoted.push(b'"');
    for &b in field.iter() {
        if b == b'"' {
            quoted.push(b'"');
        }
        quoted.push(b);
    }
    quoted.push(b'"');
    Cow::Owned(quoted)
}

pub fn csv_io(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}
