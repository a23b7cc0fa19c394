//! The table as the engine's catalog describes it, the plan that maps the
//! input's fields onto its columns, and the SQL of each statement shape.

use crate::args::{Mode, Options, TableName};
use crate::input::Loaded;
use common::db::Engine;
use common::error::Location;
use common::{Error, Result};
use std::collections::HashMap;

/// One column of the table.
#[derive(Clone, Debug)]
pub struct Column {
    pub name: String,
    /// The declared type, as the catalog gives it (PostgreSQL: with its modifier).
    pub ty: String,
}

impl Column {
    /// A boolean column where the engine has no boolean type (SQLite's
    /// BOOLEAN, MariaDB's TINYINT(1)): true and false are stored as 1 and 0.
    pub fn stores_bool_as_int(&self, engine: Engine) -> bool {
        let ty = self.ty.to_ascii_lowercase();
        match engine {
            Engine::Sqlite => ty.contains("bool"),
            Engine::Mysql => ty.starts_with("tinyint(1)") || ty.starts_with("bool"),
            Engine::Postgres => false,
        }
    }
}

/// What db-load needs to know of a table.
#[derive(Debug, Default)]
pub struct Table {
    pub display: String,
    pub columns: Vec<Column>,
    /// The primary key and the unique indexes (without a predicate or an
    /// expression): name and columns.
    pub unique: Vec<(String, Vec<String>)>,
    /// Other constraints (checks, foreign keys): name and columns.
    pub constraints: Vec<(String, Vec<String>)>,
    /// The storage engine, when it cannot roll back (MariaDB's MyISAM, ...).
    pub not_transactional: Option<String>,
}

/// Add `column` to the group called `name` (an index or a constraint, as
/// the catalog lists them one column per row), starting the group if new.
pub fn push_grouped(groups: &mut Vec<(String, Vec<String>)>, name: String, column: String) {
    match groups.iter_mut().find(|(n, _)| *n == name) {
        Some((_, columns)) => columns.push(column),
        None => groups.push((name, vec![column])),
    }
}

impl Table {
    /// The column an input name refers to: the same name, or else the one
    /// column whose name differs only in case.
    pub fn resolve(&self, name: &str) -> Option<usize> {
        if let Some(i) = self.columns.iter().position(|c| c.name == name) {
            return Some(i);
        }
        let mut matches = self
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.name.eq_ignore_ascii_case(name));
        match (matches.next(), matches.next()) {
            (Some((i, _)), None) => Some(i),
            _ => None,
        }
    }

    /// The columns of a constraint or unique index, by its name.
    pub fn columns_of(&self, constraint: &str) -> Option<Vec<String>> {
        self.unique
            .iter()
            .chain(&self.constraints)
            .find(|(name, _)| name == constraint)
            .map(|(_, columns)| columns.clone())
    }

    /// The table's columns that appear as whole words in `text` (a check
    /// constraint's expression).
    pub fn columns_in(&self, text: &str) -> Vec<String> {
        let words: Vec<&str> = text
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
            .filter(|w| !w.is_empty())
            .collect();
        self.columns
            .iter()
            .filter(|c| words.iter().any(|w| w.eq_ignore_ascii_case(&c.name)))
            .map(|c| c.name.clone())
            .collect()
    }
}

/// Quote an identifier for the engine. Names with quotes are refused
/// earlier; doubling them here keeps the quoting sound regardless.
pub fn quote(engine: Engine, name: &str) -> String {
    match engine {
        Engine::Mysql => format!("`{}`", name.replace('`', "``")),
        _ => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

pub fn quote_table(engine: Engine, table: &TableName) -> String {
    match &table.schema {
        Some(schema) => format!("{}.{}", quote(engine, schema), quote(engine, &table.name)),
        None => quote(engine, &table.name),
    }
}

/// One statement: its SQL, and the field bound to each placeholder in order.
#[derive(Clone, Debug)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<usize>,
}

/// How the input maps onto the table.
#[derive(Debug)]
pub struct Plan {
    pub engine: Engine,
    pub mode: Mode,
    table_sql: String,
    /// For each input field, its column in the table.
    pub field_columns: Vec<usize>,
    /// The fields of the key, in --key order.
    pub key_fields: Vec<usize>,
    statements: HashMap<Vec<usize>, Option<Statement>>,
}

impl Plan {
    /// Check the fields, the key and the mode against the table, before
    /// anything is written.
    pub fn new(options: &Options, loaded: &Loaded, table: &Table, engine: Engine) -> Result<Plan> {
        let at = Location::file(&loaded.name);
        let mut field_columns = Vec::with_capacity(loaded.fields.len());
        let mut unknown = Vec::new();
        for field in &loaded.fields {
            match table.resolve(field) {
                Some(i) => field_columns.push(i),
                None => unknown.push(format!("{field:?}")),
            }
        }
        if !unknown.is_empty() {
            let (what, are) = if unknown.len() == 1 {
                ("column", "is")
            } else {
                ("columns", "are")
            };
            return Err(Error::data(format!(
                "{at}: {what} {} {are} not in table {} (write only some columns with --columns)",
                unknown.join(", "),
                table.display
            )));
        }
        let key_fields: Vec<usize> = options
            .key
            .iter()
            .map(|k| {
                loaded
                    .fields
                    .iter()
                    .position(|f| f == k)
                    .ok_or_else(|| Error::software(format!("key field {k:?} was not kept")))
            })
            .collect::<Result<_>>()?;
        let key_columns: Vec<&str> = key_fields
            .iter()
            .map(|&f| table.columns[field_columns[f]].name.as_str())
            .collect();
        if options.mode == Mode::Upsert && !has_unique(table, &key_columns) {
            return Err(Error::usage(format!(
                "--mode upsert needs a primary key or a unique index on exactly ({}) in table {}, and there is none: add one (CREATE UNIQUE INDEX ... ON {} ({})), or use --mode update or insert",
                key_columns.join(", "),
                table.display,
                table.display,
                key_columns.join(", "),
            )));
        }
        if options.mode == Mode::Update && loaded.fields.len() == key_fields.len() {
            return Err(Error::usage(
                "--mode update has nothing to set: every column written is a --key column (name the others in --columns)",
            ));
        }
        if let Some(engine_name) = &table.not_transactional
            && (!options.each_commit || options.dry_run)
        {
            let why = if options.dry_run {
                "a dry run would leave its rows applied: convert it to InnoDB"
            } else {
                "a failed row would leave the others applied: convert it to InnoDB, or pass --each-commit"
            };
            return Err(Error::usage(format!(
                "table {} uses the {engine_name} storage engine, which cannot roll back, so {why}",
                table.display
            )));
        }
        Ok(Plan {
            engine,
            mode: options.mode,
            table_sql: quote_table(engine, &options.table),
            field_columns,
            key_fields,
            statements: HashMap::new(),
        })
    }

    /// The statement for a record with these fields present, or None when
    /// an update would have nothing to set.
    pub fn statement(&mut self, present: &[usize], table: &Table) -> Option<Statement> {
        if let Some(s) = self.statements.get(present) {
            return s.clone();
        }
        let built = self.build(present, table);
        self.statements.insert(present.to_vec(), built.clone());
        built
    }

    fn build(&self, present: &[usize], table: &Table) -> Option<Statement> {
        let engine = self.engine;
        let name = |field: usize| quote(engine, &table.columns[self.field_columns[field]].name);
        let mut n = 0;
        let mut placeholder = || {
            n += 1;
            if engine == Engine::Postgres {
                format!("${n}")
            } else {
                "?".to_string()
            }
        };
        let others: Vec<usize> = present
            .iter()
            .copied()
            .filter(|f| !self.key_fields.contains(f))
            .collect();
        let t = &self.table_sql;
        match self.mode {
            Mode::Update => {
                if others.is_empty() {
                    return None;
                }
                let set: Vec<String> = others
                    .iter()
                    .map(|&f| format!("{} = {}", name(f), placeholder()))
                    .collect();
                let wh: Vec<String> = self
                    .key_fields
                    .iter()
                    .map(|&f| format!("{} = {}", name(f), placeholder()))
                    .collect();
                let mut params = others.clone();
                params.extend(&self.key_fields);
                Some(Statement {
                    sql: format!(
                        "UPDATE {t} SET {} WHERE {}",
                        set.join(", "),
                        wh.join(" AND ")
                    ),
                    params,
                })
            }
            Mode::Insert | Mode::Upsert => {
                let columns: Vec<String> = present.iter().map(|&f| name(f)).collect();
                let values: Vec<String> = present.iter().map(|_| placeholder()).collect();
                let mut sql = format!(
                    "INSERT INTO {t} ({}) VALUES ({})",
                    columns.join(", "),
                    values.join(", ")
                );
                if self.mode == Mode::Upsert {
                    let keys: Vec<String> = self.key_fields.iter().map(|&f| name(f)).collect();
                    sql.push_str(&match (engine, others.is_empty()) {
                        (Engine::Mysql, true) => {
                            format!(" ON DUPLICATE KEY UPDATE {0} = {0}", keys[0])
                        }
                        (Engine::Mysql, false) => format!(
                            " ON DUPLICATE KEY UPDATE {}",
                            others
                                .iter()
                                .map(|&f| format!("{0} = VALUES({0})", name(f)))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        (_, true) => format!(" ON CONFLICT ({}) DO NOTHING", keys.join(", ")),
                        (_, false) => format!(
                            " ON CONFLICT ({}) DO UPDATE SET {}",
                            keys.join(", "),
                            others
                                .iter()
                                .map(|&f| format!("{0} = EXCLUDED.{0}", name(f)))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    });
                }
                Some(Statement {
                    sql,
                    params: present.to_vec(),
                })
            }
        }
    }
}

/// Whether a primary key or unique index covers exactly these columns.
fn has_unique(table: &Table, key: &[&str]) -> bool {
    table.unique.iter().any(|(_, columns)| {
        columns.len() == key.len() && key.iter().all(|k| columns.iter().any(|c| c == k))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        let column = |name: &str| Column {
            name: name.into(),
            ty: "text".into(),
        };
        Table {
            display: "t".into(),
            columns: vec![
                column("code"),
                column("hash"),
                column("Slots"),
                column("note"),
            ],
            unique: vec![("t_key".into(), vec!["code".into(), "hash".into()])],
            ..Table::default()
        }
    }

    fn plan(engine: Engine, mode: Mode) -> Plan {
        Plan {
            engine,
            mode,
            table_sql: quote_table(
                engine,
                &TableName {
                    schema: None,
                    name: "t".into(),
                },
            ),
            field_columns: vec![0, 1, 2, 3],
            key_fields: vec![0, 1],
            statements: HashMap::new(),
        }
    }

    #[test]
    fn names_resolve_exactly_then_by_case() {
        let t = table();
        assert_eq!(t.resolve("Slots"), Some(2));
        assert_eq!(t.resolve("slots"), Some(2));
        assert_eq!(t.resolve("nope"), None);
        assert_eq!(
            t.columns_in("(slots >= 0 AND note <> '')"),
            ["Slots", "note"]
        );
        assert!(has_unique(&t, &["hash", "code"]));
        assert!(!has_unique(&t, &["code"]));
    }

    #[test]
    fn statements_per_engine_and_mode() {
        let t = table();
        let sql = |engine, mode, present: &[usize]| {
            plan(engine, mode)
                .statement(present, &t)
                .map(|s| (s.sql, s.params))
        };
        assert_eq!(
            sql(Engine::Postgres, Mode::Update, &[0, 1, 2]),
            Some((
                "UPDATE \"t\" SET \"Slots\" = $1 WHERE \"code\" = $2 AND \"hash\" = $3".into(),
                vec![2, 0, 1]
            ))
        );
        assert_eq!(sql(Engine::Sqlite, Mode::Update, &[0, 1]), None);
        assert_eq!(
            sql(Engine::Sqlite, Mode::Upsert, &[0, 1, 3]).map(|s| s.0),
            Some(
                "INSERT INTO \"t\" (\"code\", \"hash\", \"note\") VALUES (?, ?, ?) ON CONFLICT (\"code\", \"hash\") DO UPDATE SET \"note\" = EXCLUDED.\"note\""
                    .into()
            )
        );
        assert_eq!(
            sql(Engine::Mysql, Mode::Upsert, &[0, 1, 2]).map(|s| s.0),
            Some(
                "INSERT INTO `t` (`code`, `hash`, `Slots`) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE `Slots` = VALUES(`Slots`)"
                    .into()
            )
        );
        assert_eq!(
            sql(Engine::Mysql, Mode::Upsert, &[0, 1]).map(|s| s.0),
            Some(
                "INSERT INTO `t` (`code`, `hash`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `code` = `code`"
                    .into()
            )
        );
        assert_eq!(
            sql(Engine::Postgres, Mode::Insert, &[0, 1]).map(|s| s.0),
            Some("INSERT INTO \"t\" (\"code\", \"hash\") VALUES ($1, $2)".into())
        );
    }
}
