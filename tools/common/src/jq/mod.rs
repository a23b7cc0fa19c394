//! jq filters given on the command line (`--records '.data[]'`,
//! `--id-from .data.id`), run by jaq with its standard library over
//! `serde_json` values.
//!
//! A filter that does not compile is a usage error (64) naming the flag and
//! the place in the filter. A filter that fails at run time is a data error
//! (65) whose message describes the values by their types only, since the
//! values may be patient data. `debug` and `stderr` print nothing here
//! (jaq's print the value), and `halt` is an error.

pub mod describe;
mod natives;

use crate::{Error, Result};
use jaq_core::load::{self, Arena, File, Loader};
use jaq_core::native::{Fun, run};
use jaq_core::{Compiler, Ctx, Exn, ValXs, Vars, data::JustLut};
use jaq_json::{Num, Val};
use serde_json::Value;
use std::fmt;

/// The kind of data filters run on: JSON values, no extra context.
pub type Data = JustLut<Val>;
/// A jq definition, as jaq parses it (for [`compile`]).
pub type Def = load::parse::Def<&'static str>;

/// A compiled jq filter and the flag it came from.
pub struct Filter {
    filter: jaq_core::Filter<Data>,
    /// The filter's text: messages written in it (`error("no id")`) may be shown.
    code: String,
    /// What errors are prefixed with: the flag (`--records`), or "filter".
    origin: String,
}

impl fmt::Debug for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Filter")
            .field("origin", &self.origin)
            .field("code", &self.code)
            .finish_non_exhaustive()
    }
}

impl Filter {
    /// Compile a filter; errors start with "filter: ".
    pub fn compile(text: &str) -> Result<Filter> {
        Self::compile_flag("filter", text)
    }

    /// Compile the filter given to `flag`; errors start with the flag:
    /// `--records: column 7: expected term, found "]"` (exit 64).
    pub fn compile_flag(flag: &str, text: &str) -> Result<Filter> {
        let filter =
            compile(text, std::iter::empty(), silent_funs().into(), &[]).map_err(|problems| {
                problems.usage(flag, |line, column| {
                    if text.contains('\n') {
                        format!(": line {line}, column {column}")
                    } else {
                        format!(": column {column}")
                    }
                })
            })?;
        Ok(Filter {
            filter,
            code: text.to_string(),
            origin: flag.to_string(),
        })
    }

    /// Every output of the filter on `input`. A runtime error (or an output
    /// JSON cannot hold) is exit 65, and no output is returned.
    pub fn run(&self, input: &Value) -> Result<Vec<Value>> {
        let mut outputs = Vec::new();
        self.for_each(input, |value| {
            outputs.push(value);
            true
        })?;
        Ok(outputs)
    }

    /// The first output of the filter on `input`, if it has one; the rest
    /// is not evaluated. An error before the first output is exit 65.
    pub fn first(&self, input: &Value) -> Result<Option<Value>> {
        let mut first = None;
        self.for_each(input, |value| {
            first = Some(value);
            false
        })?;
        Ok(first)
    }

    /// Hand each output to `take` until it returns false.
    fn for_each(&self, input: &Value, mut take: impl FnMut(Value) -> bool) -> Result<()> {
        let ctx: Ctx<Data> = Ctx::new(&self.filter.lut, Vars::new([]));
        for result in self.filter.id.run((ctx, from_json(input))) {
            let value = result.map_err(|exn| self.failure(exn))?;
            let json = to_json(&value);
            drop_flat(value);
            let value = json.map_err(|what| self.error(what))?;
            if !take(value) {
                break;
            }
        }
        Ok(())
    }

    fn failure(&self, exn: Exn<'_, Val>) -> Error {
        match exn.get_err() {
            Ok(err) => self.error(describe::runtime_error(err, &self.code, false)),
            Err(exn) => match exn.get_halt() {
                Ok(code) => self.error(format!("the filter called halt({code})")),
                Err(_) => self.error("filter error: the filter stopped unexpectedly"),
            },
        }
    }

    fn error(&self, what: impl fmt::Display) -> Error {
        Error::data(format!("{}: {what}", self.origin))
    }
}

/// Natives named as jaq's `debug_empty` and `stderr_empty` (which print the
/// value they are given on stderr) that print nothing.
fn silent_funs() -> [Fun<Data>; 2] {
    fn nothing<'a>() -> ValXs<'a, Val> {
        Box::new(std::iter::empty())
    }
    [
        run(("debug_empty", jaq_core::native::v(0), |_| nothing())),
        run(("stderr_empty", jaq_core::native::v(0), |_| nothing())),
    ]
}

/// Parse and compile `code` with jaq's core, standard and JSON definitions
/// and natives, then `defs` (a later definition shadows an earlier one) and
/// `funs` (a native in `funs` replaces jaq's standard native of its name),
/// with the global variables `vars` (each starting with `$`). Including and
/// importing files is refused.
pub fn compile(
    code: &str,
    defs: impl Iterator<Item = Def>,
    funs: Vec<Fun<Data>>,
    vars: &[&str],
) -> Result<jaq_core::Filter<Data>, Problems> {
    let arena = Arena::default();
    // jaq's definitions of these are slow on every call; see `natives`.
    let replaced_defs = |def: &Def| !natives::REPLACED.contains(&(def.name, def.args.len()));
    let defs = jaq_core::defs()
        .chain(jaq_std::defs())
        .chain(jaq_json::defs())
        .filter(replaced_defs)
        .chain(natives::defs())
        .chain(defs);
    let file = File { code, path: () };
    let problems = |found| Problems::new(code, found);
    let modules = Loader::new(defs)
        .load(&arena, file)
        .map_err(|errs| problems(load_problems(errs)))?;
    load::import(&modules, |_| {
        Err("importing data files is not supported".into())
    })
    .map_err(|errs| problems(load_problems(errs)))?;

    let replaced: Vec<&str> = funs.iter().map(|(name, ..)| *name).collect();
    let std_funs = jaq_std::funs::<Data>().filter(|(name, ..)| !replaced.contains(name));
    let funs = jaq_core::funs::<Data>()
        .chain(std_funs)
        .chain(funs)
        .chain(jaq_json::funs::<Data>())
        .chain(natives::funs());
    Compiler::default()
        .with_funs(funs)
        .with_global_vars(vars.iter().copied())
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
            problems(found.collect())
        })
}

/// Why a filter does not compile: the first problem (by position) and how
/// many others there are.
#[derive(Debug)]
pub struct Problems {
    /// The first problem: its 1-based line and column (in characters),
    /// when jaq said where it is, and what it is.
    first: Option<(Option<(usize, usize)>, String)>,
    others: usize,
}

impl Problems {
    fn new(code: &str, mut found: Vec<(&str, String)>) -> Problems {
        found.sort_by_key(|(at, _)| offset_in(code, at).unwrap_or(usize::MAX));
        let others = found.len().saturating_sub(1);
        let first = found.into_iter().next().map(|(at, what)| {
            let place = offset_in(code, at).map(|offset| line_column(code, offset));
            (place, what)
        });
        Problems { first, others }
    }

    /// The usage error (exit 64) for the filter from `origin` (a flag or a
    /// file): `{origin}{place}: {what} (and N more problems)`, where
    /// `place(line, column)` says where the first problem is.
    pub fn usage(&self, origin: &str, place: impl FnOnce(usize, usize) -> String) -> Error {
        let Some((at, what)) = &self.first else {
            return Error::usage(format!("{origin}: the filter does not compile"));
        };
        let place = at.map_or_else(String::new, |(line, column)| place(line, column));
        let more = match self.others {
            0 => String::new(),
            n => format!(
                " (and {})",
                crate::text::count(n, "more problem", "more problems")
            ),
        };
        Error::usage(format!("{origin}{place}: {what}{more}"))
    }
}

/// A `serde_json` value as a jaq value; numbers keep their digits.
pub fn from_json(value: &Value) -> Val {
    match value {
        Value::Null => Val::Null,
        Value::Bool(b) => Val::Bool(*b),
        Value::Number(n) => {
            let text = n.to_string();
            let num = jaq_json::read::parse_single_num(text.as_bytes());
            Val::Num(num.unwrap_or_else(|| Num::Float(n.as_f64().unwrap_or(f64::NAN))))
        }
        Value::String(s) => Val::from(s.clone()),
        Value::Array(items) => items.iter().map(from_json).collect(),
        Value::Object(map) => Val::obj(
            map.iter()
                .map(|(k, v)| (Val::from(k.clone()), from_json(v)))
                .collect(),
        ),
    }
}

/// A jaq value as a `serde_json` value. NaN becomes null and infinities the
/// largest finite numbers (as jq does); byte strings become text; an object
/// key that is not a string, or nesting deeper than
/// [`MAX_DEPTH`](crate::ndjson::MAX_DEPTH), is an error.
pub fn to_json(value: &Val) -> Result<Value, String> {
    to_json_within(value, 0)
}

/// The depth of an array or object opened inside `depth` levels, or the
/// error for a result nested deeper than [`MAX_DEPTH`](crate::ndjson::MAX_DEPTH).
pub fn one_level_deeper(depth: usize) -> Result<usize, String> {
    if depth < crate::ndjson::MAX_DEPTH {
        Ok(depth + 1)
    } else {
        Err(format!(
            "filter error: a result has {}",
            crate::ndjson::too_deep_message()
        ))
    }
}

/// Drop a value without recursing. A filter can build values nested far
/// deeper than any input (`reduce range(100000) as $_ (0; [.])`), and jaq's
/// values drop their items recursively, one stack frame a level.
pub fn drop_flat(value: Val) {
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        match value {
            Val::Arr(items) => {
                if let Ok(items) = std::rc::Rc::try_unwrap(items) {
                    pending.extend(items);
                }
            }
            Val::Obj(map) => {
                if let Ok(map) = std::rc::Rc::try_unwrap(map) {
                    pending.extend(map.into_iter().flat_map(|(k, v)| [k, v]));
                }
            }
            _ => {}
        }
    }
}

fn to_json_within(value: &Val, depth: usize) -> Result<Value, String> {
    Ok(match value {
        Val::Null => Value::Null,
        Val::Bool(b) => Value::Bool(*b),
        Val::Num(Num::Float(f)) if f.is_nan() => Value::Null,
        Val::Num(num) => {
            let text = match num {
                Num::Float(f) if f.is_infinite() => {
                    format!("{:e}", if *f > 0.0 { f64::MAX } else { f64::MIN })
                }
                other => other.to_string(),
            };
            let number = serde_json::from_str::<serde_json::Number>(&text)
                .map_err(|_| "filter error: a number JSON cannot hold".to_string())?;
            Value::Number(number)
        }
        Val::TStr(s) | Val::BStr(s) => Value::String(String::from_utf8_lossy(s).into_owned()),
        Val::Arr(items) => {
            let depth = one_level_deeper(depth)?;
            let items = items.iter().map(|item| to_json_within(item, depth));
            Value::Array(items.collect::<Result<_, _>>()?)
        }
        Val::Obj(map) => {
            let depth = one_level_deeper(depth)?;
            let mut object = serde_json::Map::with_capacity(map.len());
            for (key, item) in map.iter() {
                let Val::TStr(key) = key else {
                    return Err(
                        "filter error: an object key is not a string (JSON needs string keys)"
                            .to_string(),
                    );
                };
                let item = to_json_within(item, depth)?;
                object.insert(String::from_utf8_lossy(key).into_owned(), item);
            }
            Value::Object(object)
        }
    })
}

/// The problems jaq's loader found, each with the part of the text it is at.
fn load_problems(errs: load::Errors<&str, ()>) -> Vec<(&str, String)> {
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
    found
}

fn unexpected(at: &str) -> String {
    match at.split_whitespace().next() {
        None => "found the end of the filter".to_string(),
        Some(token) => {
            let token: String = token.chars().take(20).collect();
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
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Exit;
    use serde_json::json;

    fn filter(text: &str) -> Filter {
        match Filter::compile_flag("--records", text) {
            Ok(f) => f,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    fn err<T: fmt::Debug>(result: Result<T>) -> Error {
        match result {
            Ok(v) => panic!("expected an error, got {v:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn run_gives_every_output() {
        let page = json!({"data": [{"id": 1}, {"id": 2}], "metadata": {"total": 2}});
        let out = filter(".data[]").run(&page).ok();
        assert_eq!(out, Some(vec![json!({"id": 1}), json!({"id": 2})]));
        assert_eq!(
            filter(".metadata.total").run(&page).ok(),
            Some(vec![json!(2)])
        );
        assert_eq!(filter("empty").run(&page).ok(), Some(vec![]));
    }

    #[test]
    fn first_stops_at_the_first_output() {
        let page = json!({"data": [{"id": "a"}, {"id": "b"}]});
        let f = filter(".data[].id");
        assert_eq!(f.first(&page).ok(), Some(Some(json!("a"))));
        assert_eq!(
            filter(".missing").first(&page).ok(),
            Some(Some(Value::Null))
        );
        assert_eq!(filter("empty").first(&page).ok(), Some(None));
        // the error after the first output is never reached
        let f = filter(r#"1, error("late")"#);
        assert_eq!(f.first(&page).ok(), Some(Some(json!(1))));
    }

    #[test]
    fn numbers_keep_their_digits_and_keys_their_order() {
        let text = r#"{"z":12345678901234567890123,"a":1.50,"m":-0.0,"n":2.5e-7}"#;
        let value: Value = serde_json::from_str(text).unwrap_or_default();
        let out = filter(".").run(&value).unwrap_or_default();
        assert_eq!(serde_json::to_string(&out[0]).ok().as_deref(), Some(text));
        let out = filter(".a + 1, (.z | tostring)")
            .run(&value)
            .unwrap_or_default();
        assert_eq!(out, vec![json!(2.5), json!("12345678901234567890123")]);
    }

    #[test]
    fn nan_is_null_and_bad_keys_fail() {
        assert_eq!(
            filter("nan").run(&Value::Null).ok(),
            Some(vec![Value::Null])
        );
        let e = err(filter("{(1): 2}").run(&Value::Null));
        assert_eq!(e.exit(), Exit::Data);
        assert!(e.message().starts_with("--records: "), "{e}");
    }

    #[test]
    fn results_nested_deeper_than_the_limit_fail_and_drop_flat() {
        let max = crate::ndjson::MAX_DEPTH;
        let at_limit = format!("reduce range({}) as $_ (1; [.])", max);
        let out = filter(&format!("{at_limit} | flatten")).run(&Value::Null);
        assert_eq!(out.ok(), Some(vec![json!([1])]));
        assert!(filter(&at_limit).run(&Value::Null).is_ok());
        for too_deep in [
            format!("reduce range({}) as $_ (1; [.])", max + 1),
            "reduce range(100000) as $_ ({}; {a: .})".to_string(),
        ] {
            let e = err(filter(&too_deep).run(&Value::Null));
            assert_eq!(e.exit(), Exit::Data);
            assert_eq!(
                e.message(),
                format!(
                    "--records: filter error: a result has arrays and objects nested deeper than {max} levels (the limit)"
                )
            );
        }
    }

    #[test]
    fn compile_errors_name_the_flag_and_column() {
        let e = err(Filter::compile_flag("--records", ".data[]]"));
        assert_eq!(e.exit(), Exit::Usage);
        assert!(e.message().starts_with("--records: column 8: "), "{e}");
        let e = err(Filter::compile_flag("--total", ".a |\n nosuchfn"));
        assert_eq!(
            e.message(),
            "--total: line 2, column 2: undefined filter nosuchfn/0"
        );
        let e = err(Filter::compile("$ENV.HOME"));
        assert!(
            e.message().starts_with("filter: column 1: undefined"),
            "{e}"
        );
        let e = err(Filter::compile(r#"include "x"; ."#));
        assert_eq!(e.exit(), Exit::Usage);
    }

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_column("abc", 0), (1, 1));
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("é.x", 3), (1, 3));
    }

    #[test]
    fn runtime_errors_are_data_errors_without_values() {
        let page = json!({"data": "Jane Roe 1999-01-02"});
        let e = err(filter(".data[]").run(&page));
        assert_eq!(e.exit(), Exit::Data);
        assert_eq!(
            e.message(),
            "--records: filter error: cannot use a string as iterable (array or object)"
        );
        let e = err(filter(".data.name").run(&page));
        assert_eq!(
            e.message(),
            "--records: filter error: cannot index a string with a string"
        );
        let e = err(filter("error(.data)").run(&page));
        assert!(!e.message().contains("Jane"), "{e}");
        let e = err(filter(r#"error("no data")"#).run(&page));
        assert_eq!(e.message(), "--records: filter error: no data");
        let e = err(filter("halt").run(&page));
        assert_eq!(e.message(), "--records: the filter called halt(0)");
    }

    #[test]
    fn debug_and_stderr_pass_values_through_silently() {
        let out = filter("debug | stderr | .a").run(&json!({"a": "x"}));
        assert_eq!(out.ok(), Some(vec![json!("x")]));
        let debug = format!("{:?}", filter(".data[]"));
        assert!(debug.contains("--records"), "{debug}");
    }
}
