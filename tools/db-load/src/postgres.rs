//! PostgreSQL: the catalog from pg_attribute, pg_index and pg_constraint;
//! every value bound as text for the server to parse as the column's type;
//! a bad value found by casting each of the row's values on its own.

use crate::args::TableName;
use crate::input::Val;
use crate::store::{self, Bind, ROW_SAVEPOINT, RowFailure, Store};
use crate::table::{Column, Table, push_grouped, quote_table};
use common::db::errors::postgres_error;
use common::db::{Engine, PgTextParam, Redactor};
use common::{Error, Result};
use postgres::error::DbError;
use postgres::types::ToSql;
use std::collections::HashMap;

pub fn catalog(client: &mut postgres::Client, table: &TableName, target: &str) -> Result<Table> {
    let fail = |e: postgres::Error| postgres_error(&e, target, &Redactor::default());
    let regclass = quote_table(Engine::Postgres, table);
    let name = PgTextParam(&regclass);
    let pairs = |client: &mut postgres::Client, sql: &str| -> Result<Vec<(String, String)>> {
        let rows = client.query(sql, &[&name]).map_err(fail)?;
        rows.iter()
            .map(|r| Ok((r.try_get(0).map_err(fail)?, r.try_get(1).map_err(fail)?)))
            .collect()
    };
    let columns = pairs(
        client,
        "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod)
         FROM pg_attribute a
         WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY a.attnum",
    )?;
    if columns.is_empty() {
        return Err(Error::data(format!("{target}: there is no table {table}")));
    }
    let mut out = Table {
        display: table.to_string(),
        columns: columns
            .into_iter()
            .map(|(name, ty)| Column { name, ty })
            .collect(),
        ..Table::default()
    };
    // Unique indexes (a unique or primary key constraint has one of the same
    // name), without their INCLUDE columns.
    let unique = pairs(
        client,
        "SELECT c.relname::text, a.attname::text
         FROM pg_index i
         JOIN pg_class c ON c.oid = i.indexrelid
         JOIN pg_attribute a ON a.attrelid = i.indrelid
              AND a.attnum = ANY ((i.indkey::int2[])[0:i.indnkeyatts - 1])
         WHERE i.indrelid = to_regclass($1) AND i.indisunique
               AND i.indpred IS NULL AND i.indexprs IS NULL",
    )?;
    group_into(&mut out.unique, unique);
    let constraints = pairs(
        client,
        "SELECT c.conname::text, a.attname::text
         FROM pg_constraint c
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
         WHERE c.conrelid = to_regclass($1) AND c.contype IN ('c', 'f', 'x')",
    )?;
    group_into(&mut out.constraints, constraints);
    Ok(out)
}

fn group_into(groups: &mut Vec<(String, Vec<String>)>, pairs: Vec<(String, String)>) {
    for (name, column) in pairs {
        push_grouped(groups, name, column);
    }
}

pub struct PgStore<'a> {
    client: &'a mut postgres::Client,
    table: &'a Table,
    statements: HashMap<String, postgres::Statement>,
    target: String,
}

impl<'a> PgStore<'a> {
    pub fn new(client: &'a mut postgres::Client, table: &'a Table, target: &str) -> Self {
        PgStore {
            client,
            table,
            statements: HashMap::new(),
            target: target.to_string(),
        }
    }

    fn fatal(&self, e: &postgres::Error, values: &[Bind<'_>]) -> Error {
        let texts: Vec<String> = values
            .iter()
            .filter_map(|(_, v)| v.and_then(Val::text).map(String::from))
            .collect();
        postgres_error(e, &self.target, &Redactor::new(&texts))
    }

    /// The columns and reason of a failed row. The row's savepoint is
    /// rolled back first, as the probes need a live transaction.
    fn diagnose(&mut self, db: &DbError, values: &[Bind<'_>]) -> Result<RowFailure> {
        let code = db.code().code();
        let constraint = db.constraint();
        let columns_of = |name: Option<&str>| {
            name.and_then(|n| self.table.columns_of(n))
                .unwrap_or_else(|| key_columns_in_detail(db.detail()))
        };
        let failure = match code {
            "23502" => RowFailure::new(
                db.column().map(String::from).into_iter().collect(),
                store::not_null(),
            ),
            "23505" => RowFailure::new(columns_of(constraint), store::duplicate(constraint)),
            "23503" => RowFailure::new(columns_of(constraint), store::no_parent(constraint)),
            "23514" => RowFailure::new(
                columns_of(constraint),
                store::check_failed(constraint.unwrap_or("(unnamed)")),
            ),
            "23P01" => RowFailure::new(
                columns_of(constraint),
                format!(
                    "conflicts with another row (exclusion constraint {})",
                    constraint.unwrap_or("(unnamed)")
                ),
            ),
            c if c.starts_with("22") => {
                self.batch(&format!("ROLLBACK TO SAVEPOINT {ROW_SAVEPOINT}"))?;
                let mut columns = self.probe(values)?;
                if columns.is_empty() && c == "22001" {
                    columns = self.too_long(values);
                }
                let reason = store::scrub(&store::before_quoted_value(db.message()), values);
                RowFailure::new(columns, format!("{reason} (SQLSTATE {c})"))
            }
            c => RowFailure::new(
                Vec::new(),
                format!("{} (SQLSTATE {c})", store::scrub(db.message(), values)),
            ),
        };
        Ok(failure)
    }

    /// The columns whose value the server cannot read as the column's type:
    /// each value cast on its own, inside a savepoint of its own.
    fn probe(&mut self, values: &[Bind<'_>]) -> Result<Vec<String>> {
        let mut bad = Vec::new();
        for (column, value) in values {
            let Some(text) = value.and_then(|v| pg_text(v)) else {
                continue;
            };
            let Column { name, ty } = &self.table.columns[*column];
            self.batch("SAVEPOINT db_load_probe")?;
            let cast = format!("SELECT CAST($1 AS {ty})");
            match self.client.execute(cast.as_str(), &[&PgTextParam(text)]) {
                Ok(_) => {}
                Err(e) if e.code().is_some_and(|c| c.code().starts_with("22")) => {
                    bad.push(name.clone());
                    self.batch("ROLLBACK TO SAVEPOINT db_load_probe")?;
                }
                Err(e) => return Err(self.fatal(&e, values)),
            }
            self.batch("RELEASE SAVEPOINT db_load_probe")?;
        }
        Ok(bad)
    }

    /// An explicit cast to varchar(n) cuts the value short instead of
    /// failing, so length errors are found by counting.
    fn too_long(&self, values: &[Bind<'_>]) -> Vec<String> {
        values
            .iter()
            .filter_map(|(column, value)| {
                let Column { name, ty } = &self.table.columns[*column];
                let limit: usize = ty
                    .strip_suffix(')')
                    .and_then(|t| t.rsplit_once('('))
                    .filter(|(base, _)| base.starts_with("character") || base.starts_with("bit"))
                    .and_then(|(_, n)| n.parse().ok())?;
                let text = value.and_then(|v| pg_text(v))?;
                (text.chars().count() > limit).then(|| name.clone())
            })
            .collect()
    }
}

/// The text the server parses as the column's type (None is NULL).
fn pg_text(value: &Val) -> Option<&str> {
    value.text()
}

/// The columns of a unique or foreign key message's detail,
/// `Key (a, b)=(...) already exists.`, without the values after them.
fn key_columns_in_detail(detail: Option<&str>) -> Vec<String> {
    detail
        .and_then(|d| d.strip_prefix("Key ("))
        .and_then(|rest| rest.split_once(")=("))
        .map(|(columns, _)| {
            columns
                .split(", ")
                .map(|c| c.trim_matches('"').to_string())
                .collect()
        })
        .unwrap_or_default()
}

impl Store for PgStore<'_> {
    fn batch(&mut self, sql: &str) -> Result<()> {
        self.client
            .batch_execute(sql)
            .map_err(|e| postgres_error(&e, &self.target, &Redactor::default()))
    }

    fn execute(&mut self, sql: &str, values: &[Bind<'_>]) -> Result<Result<u64, RowFailure>> {
        let statement = match self.statements.get(sql) {
            Some(s) => s.clone(),
            None => {
                let s = self
                    .client
                    .prepare(sql)
                    .map_err(|e| postgres_error(&e, &self.target, &Redactor::default()))?;
                self.statements.insert(sql.to_string(), s.clone());
                s
            }
        };
        let params: Vec<Option<PgTextParam<'_>>> = values
            .iter()
            .map(|(_, v)| v.and_then(pg_text).map(PgTextParam))
            .collect();
        let refs: Vec<&(dyn ToSql + Sync)> =
            params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        match self.client.execute(&statement, &refs) {
            Ok(n) => Ok(Ok(n)),
            Err(e) => match e.as_db_error() {
                Some(db) if is_row_error(db.code().code()) => {
                    let db = db.clone();
                    self.diagnose(&db, values).map(Err)
                }
                _ => Err(self.fatal(&e, values)),
            },
        }
    }
}

/// Errors that are the row's fault: bad values (22), constraints (23), and
/// exceptions raised by triggers (P0001).
fn is_row_error(code: &str) -> bool {
    code.starts_with("22") || code.starts_with("23") || code == "P0001"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detail_gives_columns_not_values() {
        assert_eq!(
            key_columns_in_detail(Some("Key (code, \"Hash\")=(Jane, 1) already exists.")),
            ["code", "Hash"]
        );
        assert!(key_columns_in_detail(Some("Failing row contains (Jane).")).is_empty());
        assert!(key_columns_in_detail(None).is_empty());
    }
}
