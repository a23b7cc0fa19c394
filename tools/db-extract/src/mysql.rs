//! MariaDB and MySQL: rows stream from exec_iter (binary protocol).
//! TINYINT(1), which MariaDB also calls BOOLEAN, is a number: the protocol
//! does not tell it from a small integer.

use crate::output::{Cell, RowWriter, float, push_digits, push_int, write_time};
use common::db::errors::mysql_error;
use common::db::{BoundQuery, Redactor};
use common::{Error, Result};
use mysql::consts::ColumnType as T;
use mysql::prelude::Queryable;
use mysql::{Params, Value};
use std::io::Write as _;

/// The binary character set: the column holds bytes, not text.
const BINARY_CHARSET: u16 = 63;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Number,
    Bytes,
    Text,
    Date,
    DateTime,
    Other,
}

fn shape_of(column: &mysql::Column) -> Shape {
    match column.column_type() {
        T::MYSQL_TYPE_DECIMAL | T::MYSQL_TYPE_NEWDECIMAL => Shape::Number,
        T::MYSQL_TYPE_DATE | T::MYSQL_TYPE_NEWDATE => Shape::Date,
        T::MYSQL_TYPE_DATETIME
        | T::MYSQL_TYPE_DATETIME2
        | T::MYSQL_TYPE_TIMESTAMP
        | T::MYSQL_TYPE_TIMESTAMP2 => Shape::DateTime,
        T::MYSQL_TYPE_BIT | T::MYSQL_TYPE_GEOMETRY => Shape::Bytes,
        T::MYSQL_TYPE_TINY_BLOB
        | T::MYSQL_TYPE_MEDIUM_BLOB
        | T::MYSQL_TYPE_LONG_BLOB
        | T::MYSQL_TYPE_BLOB
        | T::MYSQL_TYPE_VAR_STRING
        | T::MYSQL_TYPE_STRING
        | T::MYSQL_TYPE_VARCHAR
            if column.character_set() == BINARY_CHARSET =>
        {
            Shape::Bytes
        }
        T::MYSQL_TYPE_TINY_BLOB
        | T::MYSQL_TYPE_MEDIUM_BLOB
        | T::MYSQL_TYPE_LONG_BLOB
        | T::MYSQL_TYPE_BLOB
        | T::MYSQL_TYPE_VAR_STRING
        | T::MYSQL_TYPE_STRING
        | T::MYSQL_TYPE_VARCHAR
        | T::MYSQL_TYPE_JSON
        | T::MYSQL_TYPE_ENUM
        | T::MYSQL_TYPE_SET => Shape::Text,
        _ => Shape::Other,
    }
}

pub fn extract(
    conn: &mut mysql::Conn,
    query: &BoundQuery,
    writer: &mut RowWriter,
    target: &str,
    redactor: &Redactor,
) -> Result<()> {
    let error = |e: mysql::Error| mysql_error(&e, target, redactor);
    let stmt = conn.prep(&query.sql).map_err(error)?;
    if usize::from(stmt.num_params()) != query.values.len() {
        return Err(Error::usage(format!(
            "the query has {} placeholders the server sees but db-extract binds {}: write placeholders as ? or :NAME only",
            stmt.num_params(),
            query.values.len()
        )));
    }
    let columns = stmt.columns();
    let names: Vec<String> = columns.iter().map(|c| c.name_str().into_owned()).collect();
    let shapes: Vec<Shape> = columns.iter().map(shape_of).collect();
    writer.header(&names)?;
    let params = if query.values.is_empty() {
        Params::Empty
    } else {
        Params::Positional(
            query
                .values
                .iter()
                .map(|v| Value::Bytes(v.clone().into_bytes()))
                .collect(),
        )
    };
    let mut result = conn.exec_iter(&stmt, params).map_err(error)?;
    let mut scratch = Vec::new();
    for (index, row) in result.by_ref().enumerate() {
        let row = row.map_err(error)?;
        let row_number = index + 1;
        for (i, shape) in shapes.iter().enumerate() {
            let value = row.as_ref(i).unwrap_or(&Value::NULL);
            scratch.clear();
            let cell = match value {
                Value::NULL => Cell::Null,
                Value::Int(n) => {
                    push_int(&mut scratch, *n);
                    Cell::Number(&scratch)
                }
                Value::UInt(n) => {
                    push_digits(&mut scratch, *n, 1);
                    Cell::Number(&scratch)
                }
                Value::Float(f) => {
                    if float(*f, &mut scratch) {
                        Cell::Number(&scratch)
                    } else {
                        Cell::Formatted(&scratch)
                    }
                }
                Value::Double(f) => {
                    if float(*f, &mut scratch) {
                        Cell::Number(&scratch)
                    } else {
                        Cell::Formatted(&scratch)
                    }
                }
                Value::Bytes(bytes) if *shape == Shape::Bytes => Cell::Bytes(bytes),
                Value::Bytes(bytes) => {
                    let text = std::str::from_utf8(bytes).map_err(|_| {
                        Error::data(format!(
                            "{target}: result row {row_number}, column {:?}: text is not valid UTF-8",
                            names[i]
                        ))
                    })?;
                    if *shape == Shape::Number {
                        Cell::Number(text.as_bytes())
                    } else {
                        Cell::Text(text)
                    }
                }
                Value::Date(year, month, day, hour, minute, second, micros) => {
                    let _ = write!(scratch, "{year:04}-{month:02}-{day:02}");
                    if *shape != Shape::Date {
                        scratch.push(b'T');
                        write_time(
                            &mut scratch,
                            u64::from(*hour),
                            u32::from(*minute),
                            u32::from(*second),
                            *micros,
                        );
                    }
                    Cell::Formatted(&scratch)
                }
                Value::Time(negative, days, hours, minutes, seconds, micros) => {
                    if *negative {
                        scratch.push(b'-');
                    }
                    let hours = u64::from(*days) * 24 + u64::from(*hours);
                    write_time(
                        &mut scratch,
                        hours,
                        u32::from(*minutes),
                        u32::from(*seconds),
                        *micros,
                    );
                    Cell::Formatted(&scratch)
                }
            };
            writer.cell(cell)?;
        }
        writer.end_row()?;
    }
    Ok(())
}
