//! What the load needs of an engine, and how a failed row is described:
//! the columns to blame and a reason that never carries a value.

use crate::input::Val;
use common::Result;
use common::db::Redactor;

/// The savepoint around each row, so that a failed row is undone alone
/// (PostgreSQL would otherwise abort the whole transaction).
pub const ROW_SAVEPOINT: &str = "db_load_row";

/// One bound value: the table column it goes to, and the value (None is NULL).
pub type Bind<'a> = (usize, Option<&'a Val>);

/// Why one row failed: the columns to blame (empty when the engine does not
/// say), and the reason, without values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowFailure {
    pub columns: Vec<String>,
    pub reason: String,
}

impl RowFailure {
    pub fn new(columns: Vec<String>, reason: impl Into<String>) -> RowFailure {
        RowFailure {
            columns,
            reason: reason.into(),
        }
    }
}

/// One engine's connection, with the table it writes.
pub trait Store {
    /// Statements without rows or values: BEGIN, SAVEPOINT, COMMIT, ...
    /// Any failure stops the run.
    fn batch(&mut self, sql: &str) -> Result<()>;

    /// How this engine opens a write transaction.
    fn begin(&mut self) -> Result<()> {
        self.batch("BEGIN")
    }

    /// Run one row's statement: the number of rows it matched, or why the
    /// row failed. An error that is not the row's fault (connection lost,
    /// permission denied, timeout) is `Err` and stops the run.
    fn execute(&mut self, sql: &str, values: &[Bind<'_>]) -> Result<Result<u64, RowFailure>>;
}

/// The reasons every engine shares, so that a row list reads the same on all three.
pub fn not_null() -> String {
    "no value, and the column is NOT NULL".into()
}

pub fn duplicate(index: Option<&str>) -> String {
    match index {
        Some(name) => format!("another row already has this value (unique index {name})"),
        None => "another row already has this value (unique index)".into(),
    }
}

pub fn no_parent(constraint: Option<&str>) -> String {
    match constraint {
        Some(name) => format!("no matching row in the referenced table (foreign key {name})"),
        None => "no matching row in the referenced table (foreign key)".into(),
    }
}

pub fn check_failed(constraint: &str) -> String {
    format!("fails check constraint {constraint}")
}

/// An engine message about a bad value, cut before the value it quotes:
/// `invalid input syntax for type integer: "abc"` becomes
/// `invalid input syntax for type integer`.
pub fn before_quoted_value(message: &str) -> String {
    let cut = message.find(['"', '\'']).unwrap_or(message.len());
    message[..cut]
        .trim_end()
        .trim_end_matches(':')
        .trim_end()
        .to_string()
}

/// The message with the row's own values removed, in case the engine (or
/// a trigger) quoted one.
pub fn scrub(message: &str, values: &[Bind<'_>]) -> String {
    let texts: Vec<String> = values
        .iter()
        .filter_map(|(_, v)| v.and_then(Val::text))
        .map(String::from)
        .collect();
    Redactor::new(&texts).scrub(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_are_cut() {
        assert_eq!(
            before_quoted_value("invalid input syntax for type integer: \"Jane\""),
            "invalid input syntax for type integer"
        );
        assert_eq!(
            before_quoted_value("Incorrect integer value: 'x' for column `t`.`n` at row 1"),
            "Incorrect integer value"
        );
        assert_eq!(
            before_quoted_value("value too long for type character varying(3)"),
            "value too long for type character varying(3)"
        );
        let v = Val::Text("Jane Doe".into());
        assert_eq!(
            scrub("trigger says Jane Doe is bad", &[(0, Some(&v)), (1, None)]),
            "trigger says (value not shown) is bad"
        );
    }
}
