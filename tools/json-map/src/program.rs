//! The jq program: its text, the variables bound by flags, compilation with
//! the standard library, and compile errors located by line and column.
//!
//! jaq's values are reference-counted and stay on one thread, so a
//! [`Program`] holds only sendable sources; each worker thread compiles its
//! own filter and builds its own variable values from them.

use common::jq::{self, Data};
use common::{Error, Result};
use jaq_core::Vars;
use jaq_json::Val;
use std::sync::Arc;

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
        // Our `debug`, `stderr` and `halt_error` do not print values as jaq's do.
        let mut funs = Vec::from(crate::effects::funs());
        funs.extend(jaq_fmts::funs::<Data>());
        let names = self.var_names();
        let vars: Vec<&str> = names.iter().map(String::as_str).collect();
        jq::compile(&self.code, crate::effects::defs(), funs, &vars).map_err(|problems| {
            problems.usage(&self.origin, |line, column| format!(":{line}:{column}"))
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
        let env = std::env::vars()
            .filter(|(k, _)| k != crate::supervise::MARKER)
            .map(|(k, v)| (Val::from(k), Val::from(v)));
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
}
