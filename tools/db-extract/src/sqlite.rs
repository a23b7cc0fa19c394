//! SQLite: the statement is stepped row by row.

use crate::output::{Cell, RowWriter, float, push_int};
use common::Result;
use common::db::errors::sqlite_error;
use common::db::{BoundQuery, Redactor};
use rusqlite::types::ValueRef;

/// How a column's declared type changes its values: SQLite has no date or
/// boolean type, so the declaration is what says what a value means.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Declared {
    Other,
    Bool,
    Temporal,
}

fn declared(decl: Option<&str>) -> Declared {
    let decl = decl.unwrap_or("").to_ascii_uppercase();
    if decl.contains("BOOL") {
        Declared::Bool
    } else if decl.contains("DATE") || decl.contains("TIME") {
        Declared::Temporal
    } else {
        Declared::Other
    }
}

/// `YYYY-MM-DD HH:MM[:SS[.fff]]` as stored by SQLite's own functions gets
/// ISO 8601's `T`; anything else stays as stored.
fn iso_datetime(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let shaped = b.len() >= 16
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b' '
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16);
    shaped.then(|| format!("{}T{}", &text[..10], &text[11..]))
}

pub fn extract(
    conn: &rusqlite::Connection,
    query: &BoundQuery,
    writer: &mut RowWriter,
    target: &str,
    redactor: &Redactor,
) -> Result<()> {
    let error = |e: rusqlite::Error| sqlite_error(&e, target, redactor);
    let mut stmt = conn.prepare(&query.sql).map_err(error)?;
    if stmt.parameter_count() != query.values.len() {
        return Err(common::Error::usage(format!(
            "the query has {} placeholders SQLite sees but db-extract binds {}: write placeholders as ? or :NAME only",
            stmt.parameter_count(),
            query.values.len()
        )));
    }
    let names: Vec<String> = stmt.column_names().map(|n| n.to_string()).collect();
    let kinds: Vec<Declared> = stmt.columns().map(|c| declared(c.decl_type())).collect();
    writer.header(&names)?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(query.values.iter()))
        .map_err(error)?;
    let mut scratch = Vec::new();
    let mut row_number = 0u64;
    while let Some(row) = rows.next().map_err(error)? {
        row_number += 1;
        for (i, kind) in kinds.iter().enumerate() {
            let value = row.get_ref(i).map_err(error)?;
            match value {
                ValueRef::Null => writer.cell(Cell::Null)?,
                ValueRef::Integer(n) if *kind == Declared::Bool && (n == 0 || n == 1) => {
                    writer.cell(Cell::Bool(n == 1))?
                }
                ValueRef::Integer(n) => {
                    scratch.clear();
                    push_int(&mut scratch, n);
                    writer.cell(Cell::Number(&scratch))?;
                }
                ValueRef::Real(f) => {
                    if float(f, &mut scratch) {
                        writer.cell(Cell::Number(&scratch))?;
                    } else {
                        writer.cell(Cell::Formatted(&scratch))?;
                    }
                }
                ValueRef::Text(bytes) => {
                    let text = std::str::from_utf8(bytes).map_err(|_| {
                        common::Error::data(format!(
                            "{target}: result row {row_number}, column {:?}: text is not valid UTF-8",
                            names[i]
                        ))
                    })?;
                    match iso_datetime(text).filter(|_| *kind == Declared::Temporal) {
                        Some(iso) => writer.cell(Cell::Text(&iso))?,
                        None => writer.cell(Cell::Text(text))?,
                    }
                }
                ValueRef::Blob(bytes) => writer.cell(Cell::Bytes(bytes))?,
            }
        }
        writer.end_row()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sqlite_datetime_text_gets_a_t() {
        assert_eq!(
            iso_datetime("2024-05-07 05:00:00").as_deref(),
            Some("2024-05-07T05:00:00")
        );
        assert_eq!(
            iso_datetime("2024-05-07 05:00").as_deref(),
            Some("2024-05-07T05:00")
        );
        assert_eq!(iso_datetime("2024-05-07"), None);
        assert_eq!(iso_datetime("May 7 2024 05:00"), None);
    }
}
