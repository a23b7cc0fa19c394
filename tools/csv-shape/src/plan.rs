//! The output layout, worked out once from the input's column names.

use crate::args::{Format, Options};
use crate::filter::Filter;
use crate::types::ValueType;
use common::error::Location;
use common::text::noun;
use common::{Error, Result};

/// Where an output column's value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The input field at this index.
    Field(usize),
    /// Nothing: an --add-empty column the input lacks.
    Empty,
    /// The --row-number sequence.
    RowNumber,
}

/// How the input maps onto the output (as db-load's `Plan` maps it onto a
/// table): worked out once from the header, before any row is written.
#[derive(Debug)]
pub struct Plan {
    /// Output column names.
    pub names: Vec<String>,
    pub sources: Vec<Source>,
    /// The --types type of each output column.
    pub types: Vec<Option<ValueType>>,
    /// Each --where condition with the input field it reads (None: an absent --add-empty column).
    pub filters: Vec<(Option<usize>, Filter)>,
    /// Input field index of each --require column (None: the row-number column).
    pub required: Vec<(String, Option<usize>)>,
    /// Whether an output column is the --row-number sequence.
    pub numbered: bool,
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Plan {
    /// Build the layout for an input with columns `input` (as named in the
    /// input, before --rename). `at` locates the header in messages.
    pub fn build(options: &Options, input: &[String], at: &Location) -> Result<Plan> {
        let mut current: Vec<String> = input.to_vec();
        for (old, new) in &options.renames {
            let hits: Vec<usize> = positions(input, old);
            match hits.as_slice() {
                [i] => current[*i] = new.clone(),
                [] if options.add_empty.contains(new) => {}
                [] => {
                    return Err(Error::data_at(
                        &at.clone().column(old),
                        "column to rename is not in the input",
                    ));
                }
                _ => return Err(ambiguous(at, old)),
            }
        }
        let find = |name: &str| -> Result<Option<usize>> {
            match positions(&current, name).as_slice() {
                [] => Ok(None),
                [i] => Ok(Some(*i)),
                _ => Err(ambiguous(at, name)),
            }
        };
        let row_number = options.row_number.as_deref();
        if let Some(name) = row_number
            && find(name)?.is_some()
        {
            return Err(Error::data_at(
                &at.clone().column(name),
                "the --row-number column is already in the input",
            ));
        }

        let mut required = Vec::new();
        let mut missing: Vec<&str> = Vec::new();
        for name in &options.require {
            if Some(name.as_str()) == row_number {
                required.push((name.clone(), None));
                continue;
            }
            match find(name)? {
                Some(i) => required.push((name.clone(), Some(i))),
                None => missing.push(name),
            }
        }
        if !missing.is_empty() {
            return Err(Error::data_at(
                at,
                format!(
                    "missing required {} {}",
                    noun(missing.len(), "column", "columns"),
                    quoted(&missing)
                ),
            ));
        }

        let mut names = Vec::new();
        let mut sources = Vec::new();
        match &options.select {
            Some(select) => {
                let mut missing: Vec<&str> = Vec::new();
                for name in select {
                    let source = if Some(name.as_str()) == row_number {
                        Source::RowNumber
                    } else {
                        match find(name)? {
                            Some(i) => Source::Field(i),
                            None if options.add_empty.contains(name) => Source::Empty,
                            None => {
                                missing.push(name);
                                continue;
                            }
                        }
                    };
                    names.push(name.clone());
                    sources.push(source);
                }
                if !missing.is_empty() {
                    let hint = if missing
                        .iter()
                        .any(|m| options.renames.iter().any(|(old, _)| old == m))
                    {
                        " (--select takes names after --rename)"
                    } else {
                        " (list layout columns with no source in --add-empty)"
                    };
                    return Err(Error::data_at(
                        at,
                        format!(
                            "selected {} not in the input: {}{hint}",
                            noun(missing.len(), "column", "columns"),
                            quoted(&missing)
                        ),
                    ));
                }
            }
            None => {
                for (i, name) in current.iter().enumerate() {
                    names.push(name.clone());
                    sources.push(Source::Field(i));
                }
                for name in &options.add_empty {
                    if find(name)?.is_none() && Some(name.as_str()) != row_number {
                        names.push(name.clone());
                        sources.push(Source::Empty);
                    }
                }
            }
        }
        if let Some(name) = row_number
            && !sources.contains(&Source::RowNumber)
        {
            names.insert(0, name.to_string());
            sources.insert(0, Source::RowNumber);
        }

        if options.to == Format::Ndjson
            && let Some(i) = common::csv::first_repeated(&names)
        {
            let at = match sources[i] {
                Source::Field(field) => at.clone().field(field, &names[i]),
                Source::Empty | Source::RowNumber => at.clone().column(&names[i]),
            };
            return Err(Error::data_at(
                &at,
                "column appears twice in the output; NDJSON keys must be unique (use --rename or --select)",
            ));
        }

        let mut types = vec![None; names.len()];
        for (column, ty) in &options.types {
            let mut found = false;
            for (i, name) in names.iter().enumerate() {
                if name == column {
                    types[i] = Some(*ty);
                    found = true;
                }
            }
            if !found {
                return Err(Error::data_at(
                    &at.clone().column(column),
                    "--types column is not in the output",
                ));
            }
        }

        let mut filters = Vec::new();
        for filter in &options.filters {
            let field = match find(&filter.column)? {
                Some(i) => Some(i),
                None if options.add_empty.contains(&filter.column) => None,
                None => {
                    return Err(Error::data_at(
                        &at.clone().column(&filter.column),
                        "--where column is not in the input",
                    ));
                }
            };
            filters.push((field, filter.clone()));
        }

        Ok(Plan {
            numbered: sources.contains(&Source::RowNumber),
            names,
            sources,
            types,
            filters,
            required,
        })
    }
}

fn positions(names: &[String], name: &str) -> Vec<usize> {
    names
        .iter()
        .enumerate()
        .filter(|(_, n)| *n == name)
        .map(|(i, _)| i)
        .collect()
}

fn ambiguous(at: &Location, name: &str) -> Error {
    Error::data_at(
        &at.clone().column(name),
        "the column name appears more than once in the input header",
    )
}
