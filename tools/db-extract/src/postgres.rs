//! PostgreSQL: rows stream from query_raw in binary form and are decoded here
//! by column type, NUMERIC exactly from its base-10000 digits.

use crate::output::{
    Cell, RowWriter, civil_from_days, float, push_digits, push_int, write_date, write_time,
    write_timestamp_micros,
};
use common::db::errors::postgres_error;
use common::db::{BoundQuery, PgTextParam, Redactor};
use common::{Error, Result};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{FromSql, Kind, Type};

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
    let mut scratch = Vec::new();
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
    s: &mut Vec<u8>,
    writer: &mut RowWriter,
) -> Option<Result<()>> {
    s.clear();
    let cell = match decode {
        Decode::Bool => return Some(writer.cell(Cell::Bool(*raw.first()? != 0))),
        Decode::Int2 => {
            push_int(s, i64::from(i16::from_be_bytes(be(raw)?)));
            Cell::Number(s)
        }
        Decode::Int4 => {
            push_int(s, i64::from(i32::from_be_bytes(be(raw)?)));
            Cell::Number(s)
        }
        Decode::Int8 => {
            push_int(s, i64::from_be_bytes(be(raw)?));
            Cell::Number(s)
        }
        Decode::Oid => {
            push_int(s, i64::from(u32::from_be_bytes(be(raw)?)));
            Cell::Number(s)
        }
        Decode::Float4 => {
            if float(f32::from_be_bytes(be(raw)?), s) {
                Cell::Number(s)
            } else {
                Cell::Formatted(s)
            }
        }
        Decode::Float8 => {
            if float(f64::from_be_bytes(be(raw)?), s) {
                Cell::Number(s)
            } else {
                Cell::Formatted(s)
            }
        }
        Decode::Numeric => {
            if numeric(raw, s)? {
                Cell::Number(s)
            } else {
                Cell::Formatted(s)
            }
        }
        Decode::Text => Cell::Text(std::str::from_utf8(raw).ok()?),
        Decode::Jsonb => match raw.split_first() {
            Some((1, rest)) => Cell::Text(std::str::from_utf8(rest).ok()?),
            _ => return None,
        },
        Decode::Char => {
            // One byte, read as a Latin-1 character; it may need quotes.
            let mut buf = [0; 4];
            let c = char::from(*raw.first()?).encode_utf8(&mut buf);
            return Some(writer.cell(Cell::Text(c)));
        }
        Decode::Bytea => Cell::Bytes(raw),
        Decode::Date => {
            match i32::from_be_bytes(be(raw)?) {
                i32::MAX => s.extend_from_slice(b"infinity"),
                i32::MIN => s.extend_from_slice(b"-infinity"),
                days => write_date(s, civil_from_days(PG_EPOCH_DAYS + i64::from(days))),
            }
            Cell::Formatted(s)
        }
        Decode::Timestamp | Decode::TimestampTz => {
            match i64::from_be_bytes(be(raw)?) {
                i64::MAX => s.extend_from_slice(b"infinity"),
                i64::MIN => s.extend_from_slice(b"-infinity"),
                micros => {
                    write_timestamp_micros(s, micros.checked_add(PG_EPOCH_DAYS * 86_400_000_000)?);
                    if decode == Decode::TimestampTz {
                        s.push(b'Z');
                    }
                }
            }
            Cell::Formatted(s)
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
                s.push(if east < 0 { b'-' } else { b'+' });
                push_digits(s, east.unsigned_abs() / 3600, 2);
                s.push(b':');
                push_digits(s, east.unsigned_abs() / 60 % 60, 2);
            }
            Cell::Formatted(s)
        }
        Decode::Uuid => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            let bytes: [u8; 16] = be(raw)?;
            for (i, b) in bytes.iter().enumerate() {
                if matches!(i, 4 | 6 | 8 | 10) {
                    s.push(b'-');
                }
                s.push(HEX[usize::from(b >> 4)]);
                s.push(HEX[usize::from(b & 0xf)]);
            }
            Cell::Formatted(s)
        }
    };
    Some(writer.cell(cell))
}

/// NUMERIC's binary form to exact decimal text with its scale. Some(false)
/// for NaN and the infinities, which are not JSON numbers.
fn numeric(raw: &[u8], s: &mut Vec<u8>) -> Option<bool> {
    let word = |i: usize| raw.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let ndigits = usize::from(word(0)?);
    let weight = i64::from(word(2)? as i16);
    let sign = word(4)?;
    let dscale = usize::from(word(6)?);
    match sign {
        0xC000 => {
            s.extend_from_slice(b"NaN");
            return Some(false);
        }
        0xD000 => {
            s.extend_from_slice(b"Infinity");
            return Some(false);
        }
        0xF000 => {
            s.extend_from_slice(b"-Infinity");
            return Some(false);
        }
        _ => {}
    }
    // The base-10000 digits, read in place: group g has weight (weight - g).
    let digits = raw.get(8..8 + 2 * ndigits)?;
    let mut nonzero = false;
    for pair in digits.chunks_exact(2) {
        let d = u16::from_be_bytes([pair[0], pair[1]]);
        if d > 9999 {
            return None;
        }
        nonzero |= d != 0;
    }
    let digit = |group: i64| -> u64 {
        usize::try_from(group)
            .ok()
            .and_then(|g| digits.get(2 * g..2 * g + 2))
            .map_or(0, |b| u64::from(u16::from_be_bytes([b[0], b[1]])))
    };
    if sign == 0x4000 && nonzero {
        s.push(b'-');
    }
    if weight < 0 {
        s.push(b'0');
    } else {
        for g in 0..=weight {
            push_digits(s, digit(g), if g == 0 { 1 } else { 4 });
        }
    }
    if dscale > 0 {
        s.push(b'.');
        let mut left = dscale;
        let mut g = weight + 1;
        while left > 0 {
            let mut group = [0u8; 4];
            let d = digit(g);
            for (k, place) in [1000, 100, 10, 1].into_iter().enumerate() {
                group[k] = b'0' + (d / place % 10) as u8;
            }
            let take = left.min(4);
            s.extend_from_slice(&group[..take]);
            left -= take;
            g += 1;
        }
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
            let mut s = Vec::new();
            assert_eq!(numeric(&raw, &mut s), Some(true));
            assert_eq!(String::from_utf8_lossy(&s), want);
        }
        let mut s = Vec::new();
        assert_eq!(numeric(&encode(&[], 0, 0xC000, 0), &mut s), Some(false));
        assert_eq!(s, b"NaN");
    }
}
