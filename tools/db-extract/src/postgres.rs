//! PostgreSQL: rows stream from query_raw in binary form and are decoded here
//! by column type, NUMERIC exactly from its base-10000 digits.

use crate::output::{
    Cell, RowWriter, civil_from_days, float, write_date, write_time, write_timestamp_micros,
};
use common::db::errors::postgres_error;
use common::db::{BoundQuery, PgTextParam, Redactor};
use common::{Error, Result};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{FromSql, Kind, Type};
use std::fmt::Write as _;

/// A column's raw bytes, whatever its type.
struct Raw<'a>(Option<&'a [u8]>);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(
        _ty: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(Some(raw)))
    }
    fn from_sql_null(
        _ty: &Type,
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(None))
    }
    fn accepts(_ty: &Type) -> bool {
        true
    }
}

/// What db-extract does with a column's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Decode {
    Bool,
    Int2,
    Int4,
    Int8,
    Oid,
    Float4,
    Float8,
    Numeric,
    Text,
    Jsonb,
    Char,
    Bytea,
    Date,
    Time,
    TimeTz,
    Timestamp,
    TimestampTz,
    Uuid,
}

fn decode_of(ty: &Type) -> Option<Decode> {
    if let Kind::Domain(inner) = ty.kind() {
        return decode_of(inner);
    }
    if let Kind::Enum(_) = ty.kind() {
        return Some(Decode::Text);
    }
    Some(match *ty {
        Type::BOOL => Decode::Bool,
        Type::INT2 => Decode::Int2,
        Type::INT4 => Decode::Int4,
        Type::INT8 => Decode::Int8,
        Type::OID => Decode::Oid,
        Type::FLOAT4 => Decode::Float4,
        Type::FLOAT8 => Decode::Float8,
        Type::NUMERIC => Decode::Numeric,
        Type::TEXT
        | Type::VARCHAR
        | Type::BPCHAR
        | Type::NAME
        | Type::UNKNOWN
        | Type::JSON
        | Type::XML => Decode::Text,
        Type::JSONB => Decode::Jsonb,
        Type::CHAR => Decode::Char,
        Type::BYTEA => Decode::Bytea,
        Type::DATE => Decode::Date,
        Type::TIME => Decode::Time,
        Type::TIMETZ => Decode::TimeTz,
        Type::TIMESTAMP => Decode::Timestamp,
        Type::TIMESTAMPTZ => Decode::TimestampTz,
        Type::UUID => Decode::Uuid,
        _ if ty.name() == "citext" => Decode::Text,
        _ => return None,
    })
}

/// Days from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_DAYS: i64 = 10_957;

pub fn extract(
    client: &mut postgres::Client,
    query: &BoundQuery,
    writer: &mut RowWriter,
    target: &str,
    redactor: &Redactor,
) -> Result<()> {
    let error = |e: postgres::Error| postgres_error(&e, target, redactor);
    let stmt = client.prepare(&query.sql).map_err(error)?;
    if stmt.params().len() != query.values.len() {
        return Err(Error::usage(format!(
            "the query has {} placeholders PostgreSQL sees but db-extract binds {}: write placeholders as ? or :NAME, not $1",
            stmt.params().len(),
            query.values.len()
        )));
    }
    let names: Vec<String> = stmt
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    let mut decoders = Vec::with_capacity(names.len());
    for column in stmt.columns() {
        decoders.push(decode_of(column.type_()).ok_or_else(|| {
            Error::data(format!(
                "column {:?} has type {}, which db-extract does not read: cast it in the query ({}::text)",
                column.name(),
                column.type_().name(),
                column.name()
            ))
        })?);
    }
    writer.header(&names)?;
    let params = query.values.iter().map(|v| PgTextParam(v));
    let mut rows = client.query_raw(&stmt, params).map_err(error)?;
    let mut scratch = String::new();
    let mut row_number = 0u64;
    while let Some(row) = rows.next().map_err(error)? {
        row_number += 1;
        for (i, decode) in decoders.iter().enumerate() {
            let Raw(raw) = row.try_get(i).map_err(error)?;
            let Some(raw) = raw else {
                writer.cell(Cell::Null)?;
                continue;
            };
            let bad = || {
                Error::data(format!(
                    "{target}: result row {row_number}, column {:?}: the server sent a value db-extract cannot decode",
                    names[i]
                ))
            };
            write_value(*decode, raw, &mut scratch, writer).ok_or_else(bad)??;
        }
        writer.end_row()?;
    }
    Ok(())
}

fn be<const N: usize>(raw: &[u8]) -> Option<[u8; N]> {
    raw.try_into().ok()
}

/// Write one non-NULL value; None when the bytes do not have the type's shape.
fn write_value(
    decode: Decode,
    raw: &[u8],
    s: &mut String,
    writer: &mut RowWriter,
) -> Option<Result<()>> {
    s.clear();
    let number = |s: &mut String, n: &dyn std::fmt::Display| {
        let _ = write!(s, "{n}");
    };
    let cell = match decode {
        Decode::Bool => return Some(writer.cell(Cell::Bool(*raw.first()? != 0))),
        Decode::Int2 => {
            number(s, &i16::from_be_bytes(be(raw)?));
            Cell::Number(s)
        }
        Decode::Int4 => {
            number(s, &i32::from_be_bytes(be(raw)?));
            Cell::Number(s)
        }
        Decode::Int8 => {
            number(s, &i64::from_be_bytes(be(raw)?));
            Cell::Number(s)
        }
        Decode::Oid => {
            number(s, &u32::from_be_bytes(be(raw)?));
            Cell::Number(s)
        }
        Decode::Float4 => {
            if float(f32::from_be_bytes(be(raw)?), s) {
                Cell::Number(s)
            } else {
                Cell::Text(s)
            }
        }
        Decode::Float8 => {
            if float(f64::from_be_bytes(be(raw)?), s) {
                Cell::Number(s)
            } else {
                Cell::Text(s)
            }
        }
        Decode::Numeric => {
            if numeric(raw, s)? {
                Cell::Number(s)
            } else {
                Cell::Text(s)
            }
        }
        Decode::Text => Cell::Text(std::str::from_utf8(raw).ok()?),
        Decode::Jsonb => match raw.split_first() {
            Some((1, rest)) => Cell::Text(std::str::from_utf8(rest).ok()?),
            _ => return None,
        },
        Decode::Char => {
            s.push(char::from(*raw.first()?));
            Cell::Text(s)
        }
        Decode::Bytea => Cell::Bytes(raw),
        Decode::Date => {
            match i32::from_be_bytes(be(raw)?) {
                i32::MAX => s.push_str("infinity"),
                i32::MIN => s.push_str("-infinity"),
                days => write_date(s, civil_from_days(PG_EPOCH_DAYS + i64::from(days))),
            }
            Cell::Text(s)
        }
        Decode::Timestamp | Decode::TimestampTz => {
            match i64::from_be_bytes(be(raw)?) {
                i64::MAX => s.push_str("infinity"),
                i64::MIN => s.push_str("-infinity"),
                micros => {
                    write_timestamp_micros(s, micros.checked_add(PG_EPOCH_DAYS * 86_400_000_000)?);
                    if decode == Decode::TimestampTz {
                        s.push('Z');
                    }
                }
            }
            Cell::Text(s)
        }
        Decode::Time | Decode::TimeTz => {
            let micros = u64::try_from(i64::from_be_bytes(be(raw.get(..8)?)?)).ok()?;
            let seconds = micros / 1_000_000;
            write_time(
                s,
                seconds / 3600,
                (seconds / 60 % 60) as u32,
                (seconds % 60) as u32,
                (micros % 1_000_000) as u32,
            );
            if decode == Decode::TimeTz {
                // Stored as seconds west of UTC.
                let east = -i64::from(i32::from_be_bytes(be(raw.get(8..12)?)?));
                let sign = if east < 0 { '-' } else { '+' };
                let _ = write!(
                    s,
                    "{sign}{:02}:{:02}",
                    east.abs() / 3600,
                    east.abs() / 60 % 60
                );
            }
            Cell::Text(s)
        }
        Decode::Uuid => {
            let bytes: [u8; 16] = be(raw)?;
            for (i, b) in bytes.iter().enumerate() {
                if matches!(i, 4 | 6 | 8 | 10) {
                    s.push('-');
                }
                let _ = write!(s, "{b:02x}");
            }
            Cell::Text(s)
        }
    };
    Some(writer.cell(cell))
}

/// NUMERIC's binary form to exact decimal text with its scale. Some(false)
/// for NaN and the infinities, which are not JSON numbers.
fn numeric(raw: &[u8], s: &mut String) -> Option<bool> {
    let word = |i: usize| raw.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let ndigits = usize::from(word(0)?);
    let weight = i64::from(word(2)? as i16);
    let sign = word(4)?;
    let dscale = usize::from(word(6)?);
    match sign {
        0xC000 => {
            s.push_str("NaN");
            return Some(false);
        }
        0xD000 => {
            s.push_str("Infinity");
            return Some(false);
        }
        0xF000 => {
            s.push_str("-Infinity");
            return Some(false);
        }
        _ => {}
    }
    let mut digits = Vec::with_capacity(ndigits);
    for k in 0..ndigits {
        let d = word(8 + 2 * k)?;
        if d > 9999 {
            return None;
        }
        digits.push(d);
    }
    let digit = |group: i64| -> u16 {
        // Group g has weight (weight - g); index from the first stored group.
        usize::try_from(group)
            .ok()
            .and_then(|g| digits.get(g).copied())
            .unwrap_or(0)
    };
    if sign == 0x4000 && digits.iter().any(|&d| d != 0) {
        s.push('-');
    }
    if weight < 0 {
        s.push('0');
    } else {
        for g in 0..=weight {
            if g == 0 {
                let _ = write!(s, "{}", digit(g));
            } else {
                let _ = write!(s, "{:04}", digit(g));
            }
        }
    }
    if dscale > 0 {
        s.push('.');
        let mut fraction = String::with_capacity(dscale + 4);
        let mut g = weight + 1;
        while fraction.len() < dscale {
            let _ = write!(fraction, "{:04}", digit(g));
            g += 1;
        }
        s.push_str(&fraction[..dscale]);
    }
    Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(ndigits: &[u16], weight: i16, sign: u16, dscale: u16) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&(ndigits.len() as u16).to_be_bytes());
        v.extend_from_slice(&weight.to_be_bytes());
        v.extend_from_slice(&sign.to_be_bytes());
        v.extend_from_slice(&dscale.to_be_bytes());
        for d in ndigits {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v
    }

    #[test]
    fn numeric_is_exact() {
        let cases: [(Vec<u8>, &str); 8] = [
            (encode(&[12, 5000], 0, 0, 2), "12.50"),
            (encode(&[], 0, 0, 0), "0"),
            (encode(&[], 0, 0, 3), "0.000"),
            (encode(&[1], 2, 0, 0), "100000000"),
            (encode(&[1234, 5678, 9012], 1, 0x4000, 4), "-12345678.9012"),
            (encode(&[5], -1, 0, 4), "0.0005"),
            (
                encode(&[9007, 1992, 5474, 993], 3, 0, 0),
                "9007199254740993",
            ),
            (encode(&[1, 2345, 6789, 123], 0, 0, 11), "1.23456789012"),
        ];
        for (raw, want) in cases {
            let mut s = String::new();
            assert_eq!(numeric(&raw, &mut s), Some(true));
            assert_eq!(s, want);
        }
        let mut s = String::new();
        assert_eq!(numeric(&encode(&[], 0, 0xC000, 0), &mut s), Some(false));
        assert_eq!(s, "NaN");
    }
}
