//! Filters that print a value on stderr (`debug`, `stderr`, `halt_error`),
//! kept from leaking record values.
//!
//! jaq's own versions print the value itself. Ours print, without
//! --show-values, one line naming the place and the type of the value
//! (`json-map: debug: <stdin>: line 3: a string (value hidden; --show-values
//! shows it)`); a string written in the filter itself, as in
//! `debug("checked zip")`, is shown as written. With --show-values they
//! print what jq prints.
//!
//! Native filters are plain function pointers, so they reach the settings
//! and the record being mapped through a thread-local [`State`]; each
//! worker thread runs its own filter and has its own state. What they print
//! is collected there and written by the caller in input order.

use crate::json_text::write_json;
use common::jq::Data;
use jaq_core::native::{Fun, run, v};
use jaq_core::{Exn, ValXs};
use jaq_json::Val;
use std::cell::RefCell;
use std::rc::Rc;

/// jq definitions replacing jaq's `halt_error`, so that its message goes
/// through [`State`] instead of jaq's `stderr`, and `env`, so that it is
/// `$ENV` (as in jq) without json-map's own `JSON_MAP_CHILD`.
const DEFS: &str = "
def halt_error($exit_code): halt_error_message, halt($exit_code);
def halt_error: halt_error(5);
def env: $ENV;
";

/// [`DEFS`], parsed.
pub fn defs() -> impl Iterator<Item = common::jq::Def> {
    jaq_core::load::parse(DEFS, |p| p.defs())
        .unwrap_or_default()
        .into_iter()
}

/// The natives of this module; they replace jaq's natives of the same names
/// (see [`common::jq::compile`]).
pub fn funs() -> [Fun<Data>; 3] {
    [
        run(("debug_empty", v(0), |cv| effect(&cv.1, Kind::Debug))),
        run(("stderr_empty", v(0), |cv| effect(&cv.1, Kind::Stderr))),
        run(("halt_error_message", v(0), |cv| effect(&cv.1, Kind::Halt))),
    ]
}

#[derive(Default)]
struct State {
    show_values: bool,
    /// The filter's text: strings written in it may be shown.
    code: Rc<str>,
    /// The input file (none with --null-input).
    file: Option<Rc<str>>,
    /// The line of the record being mapped (none for --slurp and --null-input).
    line: Option<u64>,
    /// What `debug` and `stderr` printed, for the caller to write.
    stderr: Vec<u8>,
    /// The message of the last `halt_error`, as the line should say it.
    halt_message: Option<String>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::default();
}

/// Set up the calling thread for a filter.
pub fn init(code: &str, file: Option<&str>, show_values: bool) {
    STATE.with_borrow_mut(|s| {
        *s = State {
            show_values,
            code: code.into(),
            file: file.map(Rc::from),
            ..State::default()
        };
    });
}

/// The record about to be mapped.
pub fn set_line(line: Option<u64>) {
    STATE.with_borrow_mut(|s| {
        s.line = line;
        s.halt_message = None;
    });
}

/// Move what the filter printed on stderr so far to the end of `out`.
pub fn take_stderr(out: &mut Vec<u8>) {
    STATE.with_borrow_mut(|s| out.append(&mut s.stderr));
}

/// The message of the `halt_error` that stopped the filter, if it was one.
pub fn take_halt_message() -> Option<String> {
    STATE.with_borrow_mut(|s| s.halt_message.take())
}

/// "FILE: line N: " (or less) for the record being mapped.
pub fn place() -> String {
    STATE.with_borrow(State::place)
}

#[derive(Clone, Copy)]
enum Kind {
    Debug,
    Stderr,
    Halt,
}

fn effect<'a>(value: &Val, kind: Kind) -> ValXs<'a, Val> {
    STATE.with_borrow_mut(|s| s.record(value, kind));
    Box::new(std::iter::empty::<Result<Val, Exn<'a, Val>>>())
}

impl State {
    fn place(&self) -> String {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => format!("{file}: line {line}: "),
            (Some(file), None) => format!("{file}: "),
            (None, _) => String::new(),
        }
    }

    /// A string value that appears as a literal in the filter.
    fn written_in_filter<'v>(&self, value: &'v Val) -> Option<&'v str> {
        let Val::TStr(bytes) = value else { return None };
        let text = std::str::from_utf8(bytes).ok()?;
        let literal = serde_json::to_string(text).ok()?;
        self.code.contains(&literal).then_some(text)
    }

    fn record(&mut self, value: &Val, kind: Kind) {
        let place = self.place();
        let shown = if self.show_values {
            None
        } else {
            Some(match self.written_in_filter(value) {
                Some(text) => serde_json::to_string(text).unwrap_or_default(),
                None => format!("{} (value hidden; --show-values shows it)", type_of(value)),
            })
        };
        match (kind, shown) {
            (Kind::Debug, None) => {
                // jq: ["DEBUG:",<value>]
                self.stderr.extend_from_slice(b"[\"DEBUG:\",");
                write_value(value, &mut self.stderr);
                self.stderr.extend_from_slice(b"]\n");
            }
            (Kind::Stderr, None) => {
                // jq 1.7: a string raw, anything else as compact JSON; no newline.
                match value {
                    Val::TStr(s) | Val::BStr(s) => self.stderr.extend_from_slice(s),
                    _ => write_value(value, &mut self.stderr),
                }
            }
            (Kind::Debug, Some(shown)) => self
                .stderr
                .extend_from_slice(format!("json-map: debug: {place}{shown}\n").as_bytes()),
            (Kind::Stderr, Some(shown)) => self
                .stderr
                .extend_from_slice(format!("json-map: stderr: {place}{shown}\n").as_bytes()),
            (Kind::Halt, shown) => {
                let text = match (shown, self.written_in_filter(value)) {
                    (Some(_), Some(literal)) => Some(literal.to_string()),
                    (Some(_), None) => None,
                    (None, _) => Some(match value {
                        Val::TStr(s) | Val::BStr(s) => String::from_utf8_lossy(s).into_owned(),
                        _ => {
                            let mut json = Vec::new();
                            write_value(value, &mut json);
                            String::from_utf8_lossy(&json).into_owned()
                        }
                    }),
                };
                let message = match text {
                    Some(text) => format!("halt_error: {}", text.trim_end()),
                    None => format!(
                        "the filter called halt_error with {} (message hidden; --show-values shows it)",
                        type_of(value)
                    ),
                };
                self.halt_message = Some(message);
            }
        }
    }
}

/// Compact JSON, as the output is written (a value JSON cannot hold, such
/// as an object with a number key, as jaq prints it).
fn write_value(value: &Val, out: &mut Vec<u8>) {
    let start = out.len();
    if write_json(value, out).is_err() {
        out.truncate(start);
        out.extend_from_slice(value.to_string().as_bytes());
    }
}

/// The type of a value, in words.
pub fn type_of(value: &Val) -> &'static str {
    match value {
        Val::Null => "null",
        Val::Bool(_) => "a boolean",
        Val::Num(_) => "a number",
        Val::TStr(_) => "a string",
        Val::BStr(_) => "a byte string",
        Val::Arr(_) => "an array",
        Val::Obj(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn halt_error_definitions_parse() {
        assert_eq!(super::defs().count(), 3);
    }
}
