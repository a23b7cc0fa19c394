//! SQLite: the catalog from PRAGMAs, values bound with SQLite's own types,
//! and constraint messages turned into columns.

use crate::args::TableName;
use crate::input::Val;
use crate::store::{self, Bind, RowFailure, Store};
use crate::table::{Column, Table, push_grouped, quote};
use common::db::errors::sqlite_error;
use common::db::{Engine, Redactor};
use common::{Error, Result};
use rusqlite::types::Value as Sql;

/// Foreign keys are enforced (SQLite leaves them off unless asked), and
/// enough statement shapes are kept prepared for NDJSON's varying fields.
pub fn prepare(conn: &rusqlite::Connection, target: &str) -> Result<()> {
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(|e| sqlite_error(&e, target, &Redactor::default()))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

pub fn catalog(conn: &rusqlite::Connection, table: &TableName, target: &str) -> Result<Table> {
    let fail = |e: rusqlite::Error| sqlite_error(&e, target, &Redactor::default());
    let schema = quote(Engine::Sqlite, table.schema.as_deref().unwrap_or("main"));
    let name = quote(Engine::Sqlite, &table.name);
    let pragma = |what: &str, of: &str| format!("PRAGMA {schema}.{what}({of})");

    let mut columns = Vec::new();
    let mut primary: Vec<(i64, String)> = Vec::new();
    let mut stmt = conn.prepare(&pragma("table_info", &name)).map_err(fail)?;
    let mut rows = stmt.query([]).map_err(fail)?;
    while let Some(row) = rows.next().map_err(fail)? {
        let column: String = row.get(1).map_err(fail)?;
        let ty: String = row.get(2).map_err(fail)?;
        let pk: i64 = row.get(5).map_err(fail)?;
        if pk > 0 {
            primary.push((pk, column.clone()));
        }
        columns.push(Column { name: column, ty });
    }
    if columns.is_empty() {
        return Err(Error::data(format!("{target}: there is no table {table}")));
    }
    primary.sort();
    let mut out = Table {
        display: table.to_string(),
        columns,
        ..Table::default()
    };
    if !primary.is_empty() {
        let cols = primary.into_iter().map(|(_, c)| c).collect();
        out.unique.push(("PRIMARY KEY".into(), cols));
    }

    let mut indexes = Vec::new();
    let mut stmt = conn.prepare(&pragma("index_list", &name)).map_err(fail)?;
    let mut rows = stmt.query([]).map_err(fail)?;
    while let Some(row) = rows.next().map_err(fail)? {
        let index: String = row.get(1).map_err(fail)?;
        let unique: bool = row.get(2).map_err(fail)?;
        let partial: bool = row.get(4).map_err(fail)?;
        if unique && !partial {
            indexes.push(index);
        }
    }
    for index in indexes {
        let mut stmt = conn
            .prepare(&pragma("index_info", &quote(Engine::Sqlite, &index)))
            .map_err(fail)?;
        let names: Vec<Option<String>> = stmt
            .query_map([], |row| row.get(2))
            .map_err(fail)?
            .collect::<std::result::Result<_, _>>()
            .map_err(fail)?;
        // An index on an expression has no name for that part.
        if let Some(cols) = names.into_iter().collect::<Option<Vec<String>>>() {
            out.unique.push((index, cols));
        }
    }

    let mut stmt = conn
        .prepare(&pragma("foreign_key_list", &name))
        .map_err(fail)?;
    let mut rows = stmt.query([]).map_err(fail)?;
    while let Some(row) = rows.next().map_err(fail)? {
        let id: i64 = row.get(0).map_err(fail)?;
        let parent: String = row.get(2).map_err(fail)?;
        let from: String = row.get(3).map_err(fail)?;
        let label = format!("{FOREIGN_KEY}{id} to {parent}");
        push_grouped(&mut out.constraints, label, from);
    }
    Ok(out)
}

/// SQLite's foreign keys have no names: they are kept as "foreign key N to PARENT".
const FOREIGN_KEY: &str = "foreign key ";

pub struct SqliteStore<'a> {
    conn: &'a rusqlite::Connection,
    table: &'a Table,
    target: String,
}

impl<'a> SqliteStore<'a> {
    pub fn new(conn: &'a rusqlite::Connection, table: &'a Table, target: &str) -> Self {
        SqliteStore {
            conn,
            table,
            target: target.to_string(),
        }
    }

    fn to_sql(&self, column: usize, value: Option<&Val>) -> Sql {
        let bool_as_int = || self.table.columns[column].stores_bool_as_int(Engine::Sqlite);
        match value {
            None | Some(Val::Null) => Sql::Null,
            Some(Val::Bool(b)) => Sql::Integer(i64::from(*b)),
            Some(Val::Text(s)) if bool_as_int() && s.eq_ignore_ascii_case("true") => {
                Sql::Integer(1)
            }
            Some(Val::Text(s)) if bool_as_int() && s.eq_ignore_ascii_case("false") => {
                Sql::Integer(0)
            }
            Some(Val::Num(s)) => {
                if let Ok(i) = s.parse::<i64>() {
                    Sql::Integer(i)
                } else if let Some(f) = s.parse::<f64>().ok().filter(|f| f.is_finite()) {
                    Sql::Real(f)
                } else {
                    Sql::Text(s.clone())
                }
            }
            Some(Val::Text(s) | Val::Json(s)) => Sql::Text(s.clone()),
        }
    }

    /// The columns and reason of a constraint or type failure.
    fn diagnose(&self, message: &str, values: &[Bind<'_>]) -> RowFailure {
        let column_of = |qualified: &str| {
            let name = qualified.trim();
            name.rsplit_once('.').map_or(name, |(_, c)| c).to_string()
        };
        if let Some(rest) = message.strip_prefix("NOT NULL constraint failed: ") {
            return RowFailure::new(vec![column_of(rest)], store::not_null());
        }
        if let Some(rest) = message.strip_prefix("UNIQUE constraint failed: ") {
            let columns: Vec<String> = rest.split(',').map(column_of).collect();
            let index = self.table.unique.iter().find(|(_, c)| *c == columns);
            return RowFailure::new(columns, store::duplicate(index.map(|(n, _)| n.as_str())));
        }
        if message.starts_with("FOREIGN KEY constraint failed") {
            let columns = self
                .table
                .constraints
                .iter()
                .filter(|(label, _)| label.starts_with(FOREIGN_KEY))
                .flat_map(|(_, c)| c.iter().cloned())
                .filter(|c| self.row_has(c, values))
                .collect();
            return RowFailure::new(columns, store::no_parent(None));
        }
        if let Some(rest) = message.strip_prefix("CHECK constraint failed: ") {
            return RowFailure::new(self.table.columns_in(rest), store::check_failed(rest));
        }
        if let Some((reason, column)) = message
            .strip_prefix("cannot store ")
            .and_then(|_| message.rsplit_once(" column "))
        {
            return RowFailure::new(vec![column_of(column)], format!("{reason} column"));
        }
        if message == "datatype mismatch" {
            // An INTEGER PRIMARY KEY (the rowid) given something else.
            let rowid = self.table.unique.iter().find_map(|(name, c)| {
                (name == "PRIMARY KEY" && c.len() == 1).then(|| c[0].clone())
            });
            let columns = rowid
                .filter(|c| self.row_has(c, values))
                .into_iter()
                .collect();
            return RowFailure::new(
                columns,
                "datatype mismatch: the rowid key takes integers only",
            );
        }
        RowFailure::new(Vec::new(), store::scrub(message, values))
    }

    fn row_has(&self, column: &str, values: &[Bind<'_>]) -> bool {
        values
            .iter()
            .any(|(c, v)| self.table.columns[*c].name == column && v.is_some())
    }
}

impl Store for SqliteStore<'_> {
    fn batch(&mut self, sql: &str) -> Result<()> {
        self.conn
            .execute_batch(sql)
            .map_err(|e| sqlite_error(&e, &self.target, &Redactor::default()))
    }

    /// The write lock is taken at the start, so that waiting for another
    /// writer happens before any row (up to --timeout, or 30 seconds).
    fn begin(&mut self) -> Result<()> {
        self.batch("BEGIN IMMEDIATE")
    }

    fn execute(&mut self, sql: &str, values: &[Bind<'_>]) -> Result<Result<u64, RowFailure>> {
        let params: Vec<Sql> = values.iter().map(|(c, v)| self.to_sql(*c, *v)).collect();
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .map_err(|e| sqlite_error(&e, &self.target, &Redactor::default()))?;
        match stmt.execute(rusqlite::params_from_iter(params)) {
            Ok(n) => Ok(Ok(n as u64)),
            Err(rusqlite::Error::SqliteFailure(failure, message))
                if matches!(
                    failure.code,
                    rusqlite::ErrorCode::ConstraintViolation
                        | rusqlite::ErrorCode::TypeMismatch
                        | rusqlite::ErrorCode::TooBig
                ) =>
            {
                let text = message.unwrap_or_else(|| failure.to_string());
                Ok(Err(self.diagnose(&text, values)))
            }
            Err(e) => {
                let texts: Vec<String> = values
                    .iter()
                    .filter_map(|(_, v)| v.and_then(Val::text).map(String::from))
                    .collect();
                Err(sqlite_error(&e, &self.target, &Redactor::new(&texts)))
            }
        }
    }
}
