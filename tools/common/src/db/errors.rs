//! Engine errors to the shared exit codes, with messages that carry no
//! parameter value and no row value:
//!
//! - connection refused, timeouts, lock waits, server shutting down: 75
//! - authentication and permission: 77
//! - a database that does not exist: 78
//! - anything else the engine rejects (syntax, unknown column, bad value): 65

use crate::error::{Error, Exit};

/// Removes bound values from engine messages, which sometimes quote them
/// (`invalid input syntax for type date: "..."`).
#[derive(Default)]
pub struct Redactor {
    values: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} values)", self.values.len())
    }
}

impl Redactor {
    pub fn new(values: &[String]) -> Self {
        let mut values: Vec<String> = values.iter().filter(|v| !v.is_empty()).cloned().collect();
        // Longest first, so that a value inside another does not leave a piece behind.
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        Redactor { values }
    }

    /// The message with every bound value replaced. A one-character value is
    /// replaced only where quoted, so that ordinary words survive.
    pub fn scrub(&self, message: &str) -> String {
        let mut text = message.to_string();
        for value in &self.values {
            if value.chars().count() > 1 {
                text = text.replace(value.as_str(), "(value not shown)");
            } else {
                for q in ['"', '\''] {
                    text = text.replace(&format!("{q}{value}{q}"), "(value not shown)");
                }
            }
        }
        text
    }
}

/// Cut quoted text out of a message about a bad value, where the quoted text
/// is the value: `invalid input syntax for type integer: "Jane"` becomes
/// `invalid input syntax for type integer: (value not shown)`.
fn redact_value_quotes(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(['"', '\'']) {
        let quote = rest[start..].chars().next().unwrap_or('"');
        let after = &rest[start + 1..];
        match after.find(quote) {
            Some(end) => {
                out.push_str(&rest[..start]);
                out.push_str("(value not shown)");
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out.push_str(rest);
    out
}

/// A connection-time failure: `cannot connect to URL: why`.
fn connect_error(exit: Exit, target: &str, why: &str) -> Error {
    let mut why = why.to_string();
    while let Some(start) = why.find(" (os error ") {
        let end = why[start..].find(')').map_or(why.len(), |e| start + e + 1);
        why.replace_range(start..end, "");
    }
    Error::new(exit, format!("cannot connect to {target}: {why}"))
}

fn io_reason(err: &std::io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// SQLite. `target` names the database in messages.
pub fn sqlite_error(err: &rusqlite::Error, target: &str, redactor: &Redactor) -> Error {
    use rusqlite::ErrorCode as C;
    match err {
        rusqlite::Error::SqliteFailure(failure, message) => {
            let text = redactor.scrub(message.as_deref().unwrap_or(&failure.to_string()));
            let exit = match failure.code {
                C::DatabaseBusy | C::DatabaseLocked | C::OperationInterrupted => Exit::TempFail,
                C::PermissionDenied | C::AuthorizationForStatementDenied => Exit::NoPerm,
                C::CannotOpen => Exit::NoInput,
                C::SystemIoFailure | C::DiskFull => Exit::Io,
                _ => Exit::Data,
            };
            let text = if failure.code == C::OperationInterrupted {
                "the query ran past --timeout and was stopped".to_string()
            } else {
                text
            };
            match exit {
                Exit::NoInput => Error::new(exit, format!("cannot open {target}: {text}")),
                _ => Error::new(exit, format!("{target}: {text}")),
            }
        }
        rusqlite::Error::InvalidParameterCount(..) => {
            Error::usage(format!("{target}: {}", redactor.scrub(&err.to_string())))
        }
        other => Error::data(format!("{target}: {}", redactor.scrub(&other.to_string()))),
    }
}

/// PostgreSQL.
pub fn postgres_error(err: &postgres::Error, target: &str, redactor: &Redactor) -> Error {
    if let Some(db) = err.as_db_error() {
        let code = db.code().code();
        let exit = match code {
            "28P01" | "28000" | "42501" => Exit::NoPerm,
            "3D000" => Exit::Config,
            "57014" | "57P01" | "57P02" | "57P03" | "53300" | "40001" | "40P01" | "55P03" => {
                Exit::TempFail
            }
            c if c.starts_with("08") => Exit::TempFail,
            _ => Exit::Data,
        };
        let mut text = db.message().to_string();
        if code.starts_with("22") {
            text = redact_value_quotes(&text);
        }
        if code == "57014" {
            text = format!("{text} (--timeout)");
        }
        let text = redactor.scrub(&text);
        return if code.starts_with("28") || code == "3D000" {
            connect_error(exit, target, &format!("{text} (SQLSTATE {code})"))
        } else {
            Error::new(exit, format!("{target}: {text} (SQLSTATE {code})"))
        };
    }
    // No server message: look for the I/O error underneath.
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return connect_error(Exit::TempFail, target, &io_reason(io));
        }
        source = s.source();
    }
    let text = err.to_string();
    let exit = if text.starts_with("authentication") {
        Exit::NoPerm
    } else if text.starts_with("invalid") {
        Exit::Usage
    } else if text.starts_with("error serializing") || text.starts_with("error deserializing") {
        Exit::Data
    } else {
        Exit::TempFail
    };
    connect_error(exit, target, &redactor.scrub(&text))
}

/// MariaDB and MySQL.
pub fn mysql_error(err: &mysql::Error, target: &str, redactor: &Redactor) -> Error {
    match err {
        mysql::Error::MySqlError(e) => {
            let exit = match e.code {
                1044 | 1045 | 1142 | 1143 | 1227 | 1698 => Exit::NoPerm,
                1049 => Exit::Config,
                1040 | 1053 | 1205 | 1213 | 1969 | 3024 | 2006 | 2013 => Exit::TempFail,
                _ => Exit::Data,
            };
            let mut text = e.message.clone();
            if e.state.starts_with("22") || matches!(e.code, 1265 | 1292 | 1366 | 1367 | 1411) {
                text = redact_value_quotes(&text);
            }
            let text = redactor.scrub(&text);
            if matches!(e.code, 1044 | 1045 | 1049 | 1698) {
                connect_error(exit, target, &format!("{text} (error {})", e.code))
            } else {
                Error::new(exit, format!("{target}: {text} (error {})", e.code))
            }
        }
        mysql::Error::IoError(io) => connect_error(Exit::TempFail, target, &io_reason(io)),
        // A broken or timed-out connection can also surface from the packet
        // codec; like an I/O error, it is worth a later retry.
        mysql::Error::CodecError(e) => {
            connect_error(Exit::TempFail, target, &redactor.scrub(&e.to_string()))
        }
        mysql::Error::DriverError(d) => {
            use mysql::DriverError as D;
            let exit = match d {
                D::MismatchedStmtParams(..) | D::Params(_) | D::MixedParams => Exit::Usage,
                D::UnknownAuthPlugin(_)
                | D::OldMysqlPasswordDisabled
                | D::CleartextPluginDisabled => Exit::NoPerm,
                _ => Exit::TempFail,
            };
            connect_error(exit, target, &redactor.scrub(&d.to_string()))
        }
        mysql::Error::UrlError(_) => Error::usage(format!("{target}: bad connection options")),
        other => Error::data(format!("{target}: {}", redactor.scrub(&other.to_string()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_bound_values() {
        let r = Redactor::new(&["2024-13-45".into(), "x".into(), String::new()]);
        assert_eq!(
            r.scrub("invalid input syntax for type date: \"2024-13-45\""),
            "invalid input syntax for type date: \"(value not shown)\""
        );
        assert_eq!(r.scrub("column x of 'x'"), "column x of (value not shown)");
    }

    #[test]
    fn value_quotes_are_cut_from_bad_value_messages() {
        assert_eq!(
            redact_value_quotes("invalid input syntax for type integer: \"Jane Doe\""),
            "invalid input syntax for type integer: (value not shown)"
        );
        assert_eq!(
            redact_value_quotes("Incorrect datetime value: 'x' for column `t`.`ts` at row 1"),
            "Incorrect datetime value: (value not shown) for column `t`.`ts` at row 1"
        );
        assert_eq!(redact_value_quotes("no quotes here"), "no quotes here");
    }
}
