//! `?` and `:name` placeholders, found outside string literals, quoted
//! identifiers and comments, and rewritten for the engine: `$1, $2, ...` for
//! PostgreSQL, `?` for SQLite and MariaDB/MySQL. Values are bound as text.

use super::url::Engine;
use crate::error::{Error, Result};
use crate::text::plural_s;
use std::fmt;

/// A query ready to run: the rewritten SQL and its values in the order the
/// engine binds them.
#[derive(Clone, PartialEq, Eq)]
pub struct BoundQuery {
    pub sql: String,
    pub values: Vec<String>,
}

impl fmt::Debug for BoundQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values are record content: never shown.
        write!(
            f,
            "BoundQuery({:?}, {} values)",
            self.sql,
            self.values.len()
        )
    }
}

/// One placeholder found in the SQL.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Slot {
    /// The n-th `?` (from 0).
    Positional(usize),
    Named(String),
}

/// Bind `positional` values to `?` in order and `named` values to `:NAME`.
/// A placeholder without a value, or a value without a placeholder, is a
/// usage error (64) before anything runs; messages name placeholders, never
/// values.
pub fn bind(
    sql: &str,
    engine: Engine,
    positional: &[String],
    named: &[(String, String)],
) -> Result<BoundQuery> {
    for (i, (name, _)) in named.iter().enumerate() {
        if named[..i].iter().any(|(n, _)| n == name) {
            return Err(Error::usage(format!("--named {name} is given twice")));
        }
        if !is_name(name) {
            return Err(Error::usage(format!(
                "--named {name:?}: a name is letters, digits and _, not starting with a digit"
            )));
        }
    }
    let (pieces, slots) = scan(sql, engine);
    let questions = slots
        .iter()
        .filter(|s| matches!(s, Slot::Positional(_)))
        .count();
    if questions != positional.len() {
        return Err(Error::usage(format!(
            "the query has {questions} ? placeholder{} and {} --param value{} were given: every ? needs exactly one --param, in order",
            plural_s(questions),
            positional.len(),
            plural_s(positional.len())
        )));
    }
    for slot in &slots {
        if let Slot::Named(name) = slot
            && !named.iter().any(|(n, _)| n == name)
        {
            return Err(Error::usage(format!(
                "placeholder :{name} has no value: add --named {name}=VALUE"
            )));
        }
    }
    for (name, _) in named {
        if !slots.contains(&Slot::Named(name.clone())) {
            return Err(Error::usage(format!(
                "--named {name} matches no :{name} placeholder in the query"
            )));
        }
    }

    let mut out = String::with_capacity(sql.len() + 8);
    let mut values = Vec::new();
    // PostgreSQL numbers each distinct value once; a name used twice reuses its number.
    let mut numbered: Vec<Slot> = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        out.push_str(piece);
        let Some(slot) = slots.get(i) else { break };
        let value = match slot {
            Slot::Positional(k) => &positional[*k],
            Slot::Named(name) => named
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v)
                .ok_or_else(|| Error::software("named placeholder lost its value"))?,
        };
        if engine == Engine::Postgres {
            let number = match numbered.iter().position(|s| s == slot) {
                Some(n) => n + 1,
                None => {
                    numbered.push(slot.clone());
                    values.push(value.clone());
                    numbered.len()
                }
            };
            out.push('$');
            out.push_str(&number.to_string());
        } else {
            out.push('?');
            values.push(value.clone());
        }
    }
    Ok(BoundQuery { sql: out, values })
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Split the SQL around its placeholders: `pieces` has one more element than
/// `slots`, and the SQL is `pieces[0] slot[0] pieces[1] ...`.
fn scan(sql: &str, engine: Engine) -> (Vec<&str>, Vec<Slot>) {
    let b = sql.as_bytes();
    let mut pieces = Vec::new();
    let mut slots = Vec::new();
    let mut start = 0;
    let mut questions = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' => {
                // PostgreSQL backslash-escapes only in E'...'; MariaDB/MySQL always (by default).
                let e_string = engine == Engine::Postgres
                    && i > 0
                    && (b[i - 1] == b'E' || b[i - 1] == b'e')
                    && (i < 2 || !is_ident_byte(b[i - 2]));
                i = skip_quoted(b, i, b'\'', engine == Engine::Mysql || e_string);
            }
            b'"' => i = skip_quoted(b, i, b'"', engine == Engine::Mysql),
            b'`' if engine != Engine::Postgres => i = skip_quoted(b, i, b'`', false),
            b'[' if engine == Engine::Sqlite => {
                i = b[i..]
                    .iter()
                    .position(|&c| c == b']')
                    .map_or(b.len(), |p| i + p + 1);
            }
            b'-' if b.get(i + 1) == Some(&b'-')
                && (engine != Engine::Mysql
                    || b.get(i + 2).is_none_or(|c| c.is_ascii_whitespace())) =>
            {
                i = skip_line(b, i);
            }
            b'#' if engine == Engine::Mysql => i = skip_line(b, i),
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = skip_block_comment(b, i, engine == Engine::Postgres)
            }
            b'$' if engine == Engine::Postgres && (i == 0 || !is_ident_byte(b[i - 1])) => {
                i = skip_dollar_quoted(sql, i);
            }
            b'?' => {
                pieces.push(&sql[start..i]);
                slots.push(Slot::Positional(questions));
                questions += 1;
                i += 1;
                start = i;
            }
            b':' if b.get(i + 1) == Some(&b':') => i += 2,
            b':' if b
                .get(i + 1)
                .is_some_and(|&c| c.is_ascii_alphabetic() || c == b'_')
                && (i == 0 || b[i - 1] != b':') =>
            {
                let end = b[i + 1..]
                    .iter()
                    .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_'))
                    .map_or(b.len(), |p| i + 1 + p);
                pieces.push(&sql[start..i]);
                slots.push(Slot::Named(sql[i + 1..end].to_string()));
                i = end;
                start = i;
            }
            _ => i += 1,
        }
    }
    pieces.push(&sql[start..]);
    (pieces, slots)
}

/// From an opening quote at `i`, the index after its closing quote (a doubled
/// quote stays inside; with `backslash`, so does an escaped one).
fn skip_quoted(b: &[u8], mut i: usize, quote: u8, backslash: bool) -> usize {
    i += 1;
    while i < b.len() {
        if backslash && b[i] == b'\\' {
            i += 2;
        } else if b[i] == quote {
            if b.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return i + 1;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

fn skip_line(b: &[u8], i: usize) -> usize {
    b[i..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |p| i + p + 1)
}

fn skip_block_comment(b: &[u8], mut i: usize, nests: bool) -> usize {
    let mut depth = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
            if !nests {
                depth = 1;
            }
        } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

/// PostgreSQL's `$tag$ ... $tag$`. A `$` that opens no such quote (a `$1`)
/// is passed over.
fn skip_dollar_quoted(sql: &str, i: usize) -> usize {
    let b = sql.as_bytes();
    let tag_end = b[i + 1..]
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80))
        .map(|p| i + 1 + p);
    match tag_end {
        Some(end) if b[end] == b'$' && !b.get(i + 1).is_some_and(|c| c.is_ascii_digit()) => {
            let tag = &sql[i..=end];
            match sql[end + 1..].find(tag) {
                Some(p) => end + 1 + p + tag.len(),
                None => b.len(),
            }
        }
        _ => i + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    fn named(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn question_marks_become_dollar_numbers_for_postgres_only() -> Result<()> {
        let sql = "select * from t where a >= ? and b < ?";
        let q = bind(sql, Engine::Postgres, &s(&["1", "2"]), &[])?;
        assert_eq!(q.sql, "select * from t where a >= $1 and b < $2");
        assert_eq!(q.values, s(&["1", "2"]));
        for engine in [Engine::Sqlite, Engine::Mysql] {
            assert_eq!(bind(sql, engine, &s(&["1", "2"]), &[])?.sql, sql);
        }
        Ok(())
    }

    #[test]
    fn literals_identifiers_and_comments_keep_their_marks() -> Result<()> {
        let cases = [
            (
                Engine::Postgres,
                "select '?', \"a?\", E'\\'?', $$ ? $$, $t$ :x $t$, x::date -- ?\n, ? /* ? /* ? */ ? */ from t",
                "select '?', \"a?\", E'\\'?', $$ ? $$, $t$ :x $t$, x::date -- ?\n, $1 /* ? /* ? */ ? */ from t",
            ),
            (
                Engine::Mysql,
                "select 'it\\'s ?', \"?\", `a?` # ?\n, ?, 1--1, @v:=? -- ?",
                "select 'it\\'s ?', \"?\", `a?` # ?\n, ?, 1--1, @v:=? -- ?",
            ),
            (
                Engine::Sqlite,
                "select [a?], `b?`, 'c''?', ? /* ? */",
                "select [a?], `b?`, 'c''?', ? /* ? */",
            ),
        ];
        for (engine, sql, want) in cases {
            let positional = if engine == Engine::Mysql {
                s(&["1", "2"])
            } else {
                s(&["1"])
            };
            let q = bind(sql, engine, &positional, &[])?;
            assert_eq!(q.sql, want, "{engine:?}");
        }
        Ok(())
    }

    #[test]
    fn named_placeholders_bind_by_name_and_reuse_numbers() -> Result<()> {
        let sql = "select :day as a, ? as b, :day as c, :other_1 as d";
        let values = named(&[("day", "2024-05-07"), ("other_1", "x")]);
        let q = bind(sql, Engine::Postgres, &s(&["p"]), &values)?;
        assert_eq!(q.sql, "select $1 as a, $2 as b, $1 as c, $3 as d");
        assert_eq!(q.values, s(&["2024-05-07", "p", "x"]));
        let q = bind(sql, Engine::Mysql, &s(&["p"]), &values)?;
        assert_eq!(q.sql, "select ? as a, ? as b, ? as c, ? as d");
        assert_eq!(q.values, s(&["2024-05-07", "p", "2024-05-07", "x"]));
        Ok(())
    }

    #[test]
    fn unbound_and_surplus_values_are_usage_errors_naming_no_value() {
        type Case = (&'static str, Vec<String>, Vec<(String, String)>);
        let cases: [Case; 5] = [
            ("select ?, ?", s(&["secret-1"]), vec![]),
            ("select ?", s(&["secret-1", "secret-2"]), vec![]),
            ("select :a", vec![], vec![]),
            ("select 1", vec![], named(&[("a", "secret-1")])),
            (
                "select :a",
                vec![],
                named(&[("a", "secret-1"), ("a", "secret-2")]),
            ),
        ];
        for (sql, positional, named) in cases {
            let err = bind(sql, Engine::Sqlite, &positional, &named).err();
            let message = err
                .as_ref()
                .map(|e| e.message().to_string())
                .unwrap_or_default();
            assert_eq!(err.map(|e| e.code()), Some(64), "{sql}");
            assert!(!message.contains("secret"), "{message}");
        }
    }
}
