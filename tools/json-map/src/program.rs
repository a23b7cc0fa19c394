//! The jq program: its text, the variables bound by flags, compilation with
//! the standard library, and compile errors located by line and column.
//!
//! jaq's values are reference-counted and stay on one thread, so a
//! [`Program`] holds only sendable sources; each worker thread compiles its
//! own filter and builds its own variable values from them.

use common::{Error, Result};
use jaq_core::load::{self, Arena, File, Loader};
use jaq_core::{Compiler, Vars, data::JustLut};
use jaq_json::Val;
use std::sync::Arc;

/// The kind of data the filters run on: JSON values, no extra context.
pub type Data = JustLut<Val>;
/// A compiled filter.
pub type Filter = jaq_core::Filter<Data>;

/// A value bound to a `$NAME` variable.
#[derive(Clone, Debug)]
pub enum Global {
    /// `--arg NAME VALUE`
    Str(String),
    /// `--argjson NAME JSON`, already checked to be valid JSON.
    Json(Arc<[u8]>),
    /// `--lookup NAME=FILE`, as JSON text.
    Lookup(Arc<[u8]>),
}

/// A filter with its variables, ready to compile on any thread.
#[derive(Debug)]
pub struct Program {
    /// "filter" for a filter given inline, else the path of the filter file.
    origin: String,
    code: String,
    globals: Vec<(String, Global)>,
}

impl Program {
    pub fn new(origin: String, code: String, globals: Vec<(String, Global)>) -> Self {
        Program {
            origin,
            code,
            globals,
        }
    }

    /// The filter's text (used to tell messages written in the filter from
    /// messages that may carry record values).
    pub fn code(&self) -> &str {
        &self.code
    }

    /// Variable names in the order [`Program::vars`] gives their values.
    fn var_names(&self) -> Vec<String> {
        let user = self.globals.iter().map(|(name, _)| format!("${name}"));
        user.chain(["$ENV".to_string(), "$ARGS".to_string()])
            .collect()
    }

    /// Parse and compile the filter with jaq's standard library.
    /// A bad filter is exit 64 naming the line and column.
    pub fn compile(&self) -> Result<Filter> {
        let arena = Arena::default();
        // Later definitions shadow earlier ones: ours replace `halt_error`.
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs())
            .chain(crate::effects::defs());
        let file = File {
            code: self.code.as_str(),
            path: (),
        };
        let modules = Loader::new(defs)
            .load(&arena, file)
            .map_err(|errs| self.load_error(errs))?;
        load::import(&modules, |_| {
            Err("importing data files is not supported".into())
        })
        .map_err(|errs| self.load_error(errs))?;

        // jaq's `debug` and `stderr` natives print values; ours do not.
        let std_funs =
            jaq_std::funs::<Data>().filter(|(name, ..)| !crate::effects::REPLACED.contains(name));
        let funs = jaq_core::funs::<Data>()
            .chain(std_funs)
            .chain(crate::effects::funs())
            .chain(jaq_json::funs::<Data>())
            .chain(jaq_fmts::funs::<Data>());
        let names = self.var_names();
        Compiler::default()
            .with_funs(funs)
            .with_global_vars(names.iter().map(String::as_str))
            .compile(modules)
            .map_err(|errs| {
                let found =
                    errs.into_iter()
                        .flat_map(|(_file, errs)| errs)
                        .map(|(found, undefined)| {
                            let what = match undefined {
                                jaq_core::compile::Undefined::Filter(arity) => {
                                    format!("undefined filter {found}/{arity}")
                                }
                                other => format!("undefined {} {found}", other.as_str()),
                            };
                            (found, what)
                        });
                self.located(found.collect())
            })
    }

    /// The values of the variables, built on the calling thread.
    pub fn vars(&self) -> Result<Vars<Val>> {
        let mut values = Vec::with_capacity(self.globals.len() + 2);
        let mut named = jaq_json::Map::default();
        for (name, global) in &self.globals {
            let value = match global {
                Global::Str(s) => Val::from(s.clone()),
                Global::Json(json) | Global::Lookup(json) => jaq_json::read::parse_single(json)
                    .map_err(|_| {
                        Error::software(format!("${name}: checked JSON did not parse again"))
                    })?,
            };
            if !matches!(global, Global::Lookup(_)) {
                named.insert(Val::from(name.clone()), value.clone());
            }
            values.push(value);
        }
        let env = std::env::vars().map(|(k, v)| (Val::from(k), Val::from(v)));
        values.push(Val::obj(env.collect()));
        let args = [
            (
                Val::from("positional".to_string()),
                Val::Arr(Vec::new().into()),
            ),
            (Val::from("named".to_string()), Val::obj(named)),
        ];
        values.push(Val::obj(args.into_iter().collect()));
        Ok(Vars::new(values))
    }

    fn load_error(&self, errs: load::Errors<&str, ()>) -> Error {
        let mut found = Vec::new();
        for (_file, err) in errs {
            match err {
                load::Error::Io(items) => {
                    for (path, _why) in items {
                        found.push((path, "include and import are not supported".to_string()));
                    }
                }
                load::Error::Lex(items) => {
                    for (expected, at) in items {
                        let what = match expected {
                            load::lex::Expect::Delim(open) => {
                                found.push((open, format!("unclosed {open} ({})", unexpected(at))));
                                continue;
                            }
                            other => format!("expected {}, {}", other.as_str(), unexpected(at)),
                        };
                        found.push((at, what));
                    }
                }
                load::Error::Parse(items) => {
                    for (expected, at) in items {
                        let what = format!("expected {}, {}", expected.as_str(), unexpected(at));
                        found.push((at, what));
                    }
                }
            }
        }
        self.located(found)
    }

    /// One message for the first problem (by position), with the count of others.
    fn located(&self, mut found: Vec<(&str, String)>) -> Error {
        found.sort_by_key(|(at, _)| offset_in(&self.code, at).unwrap_or(usize::MAX));
        let more = found.len().saturating_sub(1);
        let Some((at, what)) = found.into_iter().next() else {
            return Error::usage(format!("{}: the filter does not compile", self.origin));
        };
        let place = match offset_in(&self.code, at) {
            Some(offset) => {
                let (line, column) = line_column(&self.code, offset);
                format!("{}:{line}:{column}", self.origin)
            }
            None => self.origin.clone(),
        };
        let more = match more {
            0 => String::new(),
            n => format!(" (and {n} more problem{})", if n == 1 { "" } else { "s" }),
        };
        Error::usage(format!("{place}: {what}{more}"))
    }
}

fn unexpected(at: &str) -> String {
    match at.chars().next() {
        None => "found the end of the filter".to_string(),
        Some(_) => {
            let token: String = at.chars().take(20).collect();
            let token = token.split_whitespace().next().unwrap_or("");
            format!("found {token:?}")
        }
    }
}

/// The byte offset of `part` in `whole`, if `part` is a slice of it.
fn offset_in(whole: &str, part: &str) -> Option<usize> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    (start + part.len() <= whole.len()).then_some(start)
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_column("abc", 0), (1, 1));
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("é.x", 3), (1, 3));
    }
}
