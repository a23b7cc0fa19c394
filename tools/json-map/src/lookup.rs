//! Lookup tables for `--lookup NAME=FILE`: a JSON document as it is, or a
//! CSV file turned into an object keyed by its first column.

use common::error::Location;
use common::io::Input;
use common::{Error, Result};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// Read a lookup file and return it as JSON text. A missing file is exit
/// 66; a malformed one is exit 65 naming the file and line or row.
pub fn load(path: &Path) -> Result<Vec<u8>> {
    let name = path.display().to_string();
    if path.is_dir() {
        return Err(Error::no_input(format!(
            "lookup {name}: is a directory, not a file"
        )));
    }
    let file = File::open(path).map_err(|e| Error::io(format!("cannot read lookup {name}"), e))?;
    let mut input = Input {
        name: name.clone(),
        reader: Box::new(file),
    }
    .skip_bom()?;
    let mut bytes = Vec::new();
    input
        .reader
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(format!("cannot read lookup {name}"), e))?;
    if is_csv(path, &bytes) {
        csv_table(&name, bytes)
    } else {
        check_json(&name, &bytes)?;
        Ok(bytes)
    }
}

/// By extension (.csv, .json), else by content: JSON starts with `{` or `[`.
fn is_csv(path: &Path, bytes: &[u8]) -> bool {
    match path.extension().and_then(|e| e.to_str()) {
        Some(ext) if ext.eq_ignore_ascii_case("csv") => true,
        Some(ext) if ext.eq_ignore_ascii_case("json") => false,
        _ => !matches!(
            bytes.iter().find(|b| !b.is_ascii_whitespace()),
            Some(b'{' | b'[') | None
        ),
    }
}

/// One JSON document nested no deeper than the one limit (`MAX_DEPTH`);
/// errors name the file and the line (a document may span many lines).
fn check_json(name: &str, bytes: &[u8]) -> Result<()> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::data(format!(
            "lookup {name}: the file is empty (expected a JSON object or a CSV table)"
        )));
    }
    common::ndjson::parse_document::<serde::de::IgnoredAny>(bytes, name)
        .map(drop)
        .map_err(|e| e.context("lookup"))
}

/// `key,a,b` rows become `{"<key>": {"key": .., "a": .., "b": ..}}`.
fn csv_table(name: &str, bytes: Vec<u8>) -> Result<Vec<u8>> {
    let input = Input {
        name: name.to_string(),
        reader: Box::new(std::io::Cursor::new(bytes)),
    };
    let mut reader = common::csv::reader(input, common::csv::ReadOptions::default())?;
    let Some(headers) = common::csv::read_headers(&mut reader, name)? else {
        return Ok(b"{}".to_vec());
    };
    let mut first_seen = HashMap::new();
    for (i, header) in headers.iter().enumerate() {
        if let Some(j) = first_seen.insert(header.as_str(), i) {
            return Err(Error::data_at(
                &Location::row(name, 1).column(header.clone()),
                format!(
                    "lookup header names column {} and column {} the same",
                    j + 1,
                    i + 1
                ),
            ));
        }
    }

    let mut table = Map::new();
    let mut key_rows: HashMap<String, u64> = HashMap::new();
    let mut record = csv::ByteRecord::new();
    let mut row = 1;
    loop {
        row += 1;
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(common::csv::read_error(name, row, e)),
        }
        common::csv::check_utf8(&record, &headers, name, row)?;
        if record.len() != headers.len() {
            return Err(Error::data_at(
                &Location::row(name, row),
                format!(
                    "lookup row has {} fields, the header has {}",
                    record.len(),
                    headers.len()
                ),
            ));
        }
        let field = |i: usize| String::from_utf8_lossy(&record[i]).into_owned();
        let key = field(0);
        if let Some(first) = key_rows.insert(key.clone(), row) {
            return Err(Error::data_at(
                &Location::row(name, row).column(headers[0].clone()),
                format!("duplicate lookup key (first on row {first})"),
            ));
        }
        let object: Map<String, Value> = headers
            .iter()
            .enumerate()
            .map(|(i, h)| (h.clone(), Value::String(field(i))))
            .collect();
        table.insert(key, Value::Object(object));
    }
    serde_json::to_vec(&Value::Object(table))
        .map_err(|e| Error::software(format!("lookup {name}: {e}")))
}
