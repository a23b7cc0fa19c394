//! MariaDB and MySQL: the catalog from information_schema, strict mode so
//! that a bad value fails instead of being cut short, values bound as text
//! (booleans as 1 and 0), and the columns read from the server's messages.

use crate::args::TableName;
use crate::input::Val;
use crate::store::{self, Bind, RowFailure, Store};
use crate::table::{Column, Table, push_grouped};
use common::db::errors::mysql_error;
use common::db::{Engine, Redactor};
use common::{Error, Result};
use mysql::prelude::Queryable;
use std::collections::HashMap;

/// Strict mode for this session: without it the server stores a bad value
/// as a truncated or zero one and only warns.
pub fn prepare(conn: &mut mysql::Conn, target: &str) -> Result<()> {
    conn.query_drop(
        "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES')",
    )
    .map_err(|e| mysql_error(&e, target, &Redactor::default()))
}

/// Engines that roll back.
const TRANSACTIONAL: [&str; 3] = ["InnoDB", "RocksDB", "TokuDB"];

pub fn catalog(conn: &mut mysql::Conn, table: &TableName, target: &str) -> Result<Table> {
    let fail = |e: mysql::Error| mysql_error(&e, target, &Redactor::default());
    let schema = match &table.schema {
        Some(s) => s.clone(),
        None => conn
            .query_first::<Option<String>, _>("SELECT DATABASE()")
            .map_err(fail)?
            .flatten()
            .ok_or_else(|| {
                Error::config(format!(
                    "{target}: the URL names no database: add /DATABASE to it, or give --table DATABASE.TABLE"
                ))
            })?,
    };
    let at = (schema.as_str(), table.name.as_str());
    let columns: Vec<(String, String)> = conn
        .exec(
            "SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
            at,
        )
        .map_err(fail)?;
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
    let engine: Option<Option<String>> = conn
        .exec_first(
            "SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
            at,
        )
        .map_err(fail)?;
    if let Some(Some(engine)) = engine
        && !TRANSACTIONAL
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&engine))
    {
        out.not_transactional = Some(engine);
    }
    let unique: Vec<(String, Option<String>)> = conn
        .exec(
            "SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0
             ORDER BY INDEX_NAME, SEQ_IN_INDEX",
            at,
        )
        .map_err(fail)?;
    let mut on_expression = Vec::new();
    for (index, column) in unique {
        match column {
            Some(column) => push_grouped(&mut out.unique, index, column),
            None => on_expression.push(index),
        }
    }
    out.unique.retain(|(name, _)| !on_expression.contains(name));
    let foreign: Vec<(String, String)> = conn
        .exec(
            "SELECT CONSTRAINT_NAME, COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND REFERENCED_TABLE_NAME IS NOT NULL
             ORDER BY CONSTRAINT_NAME, ORDINAL_POSITION",
            at,
        )
        .map_err(fail)?;
    for (name, column) in foreign {
        push_grouped(&mut out.constraints, name, column);
    }
    // MariaDB lists checks with their table; MySQL's view has no TABLE_NAME,
    // and then the columns come from the message alone.
    let checks: Vec<(String, String)> = conn
        .exec(
            "SELECT CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
             WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?",
            at,
        )
        .unwrap_or_default();
    for (name, clause) in checks {
        let columns = out.columns_in(&clause);
        out.constraints.push((name, columns));
    }
    Ok(out)
}

pub struct MysqlStore<'a> {
    conn: &'a mut mysql::Conn,
    table: &'a Table,
    statements: HashMap<String, mysql::Statement>,
    target: String,
}

impl<'a> MysqlStore<'a> {
    pub fn new(conn: &'a mut mysql::Conn, table: &'a Table, target: &str) -> Self {
        MysqlStore {
            conn,
            table,
            statements: HashMap::new(),
            target: target.to_string(),
        }
    }

    fn to_value(&self, column: usize, value: Option<&Val>) -> mysql::Value {
        let bool_as_int = || self.table.columns[column].stores_bool_as_int(Engine::Mysql);
        match value {
            None | Some(Val::Null) => mysql::Value::NULL,
            Some(Val::Bool(b)) => mysql::Value::Int(i64::from(*b)),
            Some(Val::Text(s)) if bool_as_int() && s.eq_ignore_ascii_case("true") => {
                mysql::Value::Int(1)
            }
            Some(Val::Text(s)) if bool_as_int() && s.eq_ignore_ascii_case("false") => {
                mysql::Value::Int(0)
            }
            Some(Val::Text(s) | Val::Num(s) | Val::Json(s)) => {
                mysql::Value::Bytes(s.as_bytes().to_vec())
            }
        }
    }

    fn diagnose(&self, e: &mysql::MySqlError, values: &[Bind<'_>]) -> RowFailure {
        let message = e.message.as_str();
        let table = self.table;
        match e.code {
            1048 => RowFailure::new(
                quoted_after(message, "Column ").into_iter().collect(),
                store::not_null(),
            ),
            1364 => RowFailure::new(
                quoted_after(message, "Field ").into_iter().collect(),
                store::not_null(),
            ),
            1062 => {
                let index = quoted_after(message, "for key ").map(|k| {
                    k.rsplit_once('.')
                        .map_or(k.clone(), |(_, name)| name.to_string())
                });
                let columns = index.as_deref().and_then(|i| table.columns_of(i));
                RowFailure::new(
                    columns.unwrap_or_default(),
                    store::duplicate(index.as_deref()),
                )
            }
            1216 | 1452 => {
                let name = quoted_after(message, "CONSTRAINT ");
                let columns = message
                    .split_once("FOREIGN KEY (")
                    .and_then(|(_, rest)| rest.split_once(')'))
                    .map(|(list, _)| {
                        list.split(", ")
                            .map(|c| c.trim_matches('`').to_string())
                            .collect()
                    })
                    .or_else(|| name.as_deref().and_then(|n| table.columns_of(n)))
                    .unwrap_or_default();
                RowFailure::new(columns, store::no_parent(name.as_deref()))
            }
            4025 | 3819 => {
                // MariaDB names a column's own check after the column, and
                // writes it as `table.column` in the message.
                let name = quoted_after(message, "CONSTRAINT ")
                    .or_else(|| quoted_after(message, "Check constraint "))
                    .map(|n| match n.split_once('.') {
                        Some((t, rest)) if t == table.display.rsplit('.').next().unwrap_or("") => {
                            rest.to_string()
                        }
                        _ => n,
                    })
                    .unwrap_or_else(|| "(unnamed)".into());
                let columns = table.columns_of(&name).unwrap_or_default();
                RowFailure::new(columns, store::check_failed(&name))
            }
            code => match message.split_once(" for column ") {
                Some((what, column)) => {
                    let reason = store::scrub(&store::before_quoted_value(what), values);
                    RowFailure::new(
                        last_quoted(column).into_iter().collect(),
                        format!("{reason} (error {code})"),
                    )
                }
                None => RowFailure::new(
                    Vec::new(),
                    format!("{} (error {code})", store::scrub(message, values)),
                ),
            },
        }
    }
}

/// The name quoted ('name' or `name`) right after `prefix` in `message`.
fn quoted_after(message: &str, prefix: &str) -> Option<String> {
    let rest = &message[message.find(prefix)? + prefix.len()..];
    let quote = rest.chars().next().filter(|q| *q == '\'' || *q == '`')?;
    let inner = &rest[1..];
    inner.find(quote).map(|end| inner[..end].to_string())
}

/// The last name of `db`.`t`.`c` or 'c' at the start of `text`.
fn last_quoted(text: &str) -> Option<String> {
    let end = text.find(" at row").unwrap_or(text.len());
    let name = text[..end].trim();
    let last = name.rsplit('.').next().unwrap_or(name);
    let unquoted = last.trim_matches(|c| c == '`' || c == '\'');
    (!unquoted.is_empty()).then(|| unquoted.to_string())
}

/// `Rows matched: 1  Changed: 0  Warnings: 0`: an UPDATE's affected rows
/// count only the rows it changed, and a record equal to its row is a match.
fn rows_matched(info: &str) -> Option<u64> {
    let rest = &info[info.find("Rows matched: ")? + "Rows matched: ".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Errors that are the row's fault: bad values and constraints.
fn is_row_error(e: &mysql::MySqlError) -> bool {
    e.state.starts_with("22")
        || e.state.starts_with("23")
        || matches!(
            e.code,
            1264 | 1265 | 1292 | 1364 | 1366 | 1406 | 1644 | 3819 | 4025
        )
}

impl Store for MysqlStore<'_> {
    fn batch(&mut self, sql: &str) -> Result<()> {
        self.conn
            .query_drop(sql)
            .map_err(|e| mysql_error(&e, &self.target, &Redactor::default()))
    }

    fn begin(&mut self) -> Result<()> {
        self.batch("START TRANSACTION")
    }

    fn execute(&mut self, sql: &str, values: &[Bind<'_>]) -> Result<Result<u64, RowFailure>> {
        let statement = match self.statements.get(sql) {
            Some(s) => s.clone(),
            None => {
                let s = self
                    .conn
                    .prep(sql)
                    .map_err(|e| mysql_error(&e, &self.target, &Redactor::default()))?;
                self.statements.insert(sql.to_string(), s.clone());
                s
            }
        };
        let params: Vec<mysql::Value> = values.iter().map(|(c, v)| self.to_value(*c, *v)).collect();
        match self.conn.exec_drop(&statement, params) {
            Ok(()) => {
                let affected = self.conn.affected_rows();
                Ok(Ok(rows_matched(&self.conn.info_str()).unwrap_or(affected)))
            }
            Err(mysql::Error::MySqlError(e)) if is_row_error(&e) => {
                Ok(Err(self.diagnose(&e, values)))
            }
            Err(e) => {
                let texts: Vec<String> = values
                    .iter()
                    .filter_map(|(_, v)| v.and_then(Val::text).map(String::from))
                    .collect();
                Err(mysql_error(&e, &self.target, &Redactor::new(&texts)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_messages() {
        assert_eq!(
            quoted_after("Duplicate entry 'Jane' for key 'uc'", "for key "),
            Some("uc".into())
        );
        assert_eq!(
            quoted_after("CONSTRAINT `pos` failed for `db`.`t`", "CONSTRAINT "),
            Some("pos".into())
        );
        assert_eq!(
            last_quoted("`db`.`t`.`slots` at row 1"),
            Some("slots".into())
        );
        assert_eq!(last_quoted("'c' at row 1"), Some("c".into()));
        assert_eq!(
            rows_matched("Rows matched: 12  Changed: 0  Warnings: 0"),
            Some(12)
        );
        assert_eq!(rows_matched(""), None);
    }
}
