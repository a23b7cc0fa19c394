//! One compiled filter with its variables: parse a line, run the filter,
//! serialise the results. Lives on one thread (jaq values are `Rc`).

use crate::effects;
use crate::json_text::write_json;
use crate::program::{Filter, Program};
use common::error::Location;
use common::jq::{self, Data, describe};
use common::{Error, Result};
use jaq_core::{Ctx, Exn};
use jaq_json::Val;
use std::io::Write;

/// How results are written.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    pub raw_output: bool,
    pub show_values: bool,
}

/// Why a record's run stopped early.
pub enum Stop {
    /// Bad JSON or a filter error; nothing of the record was written.
    Failed(Error),
    /// The filter called `halt` or `halt_error`; what it wrote before stays.
    Halted(Halt),
}

/// A call of `halt` or `halt_error`: stop reading input and exit.
#[derive(Debug)]
pub struct Halt {
    code: i32,
    /// "FILE: line N: " of the record that halted.
    place: String,
    /// What `halt_error` said, as the message line should say it.
    message: Option<String>,
}

impl Halt {
    /// The end of the run: `halt` exits 0; `halt_error` prints its message
    /// on one line and exits with its code (5 unless given).
    pub fn finish(self) -> Result<()> {
        let Halt {
            code,
            place,
            message,
        } = self;
        if !(0..=255).contains(&code) {
            return Err(Error::data(format!(
                "{place}the filter called halt with exit code {code}, outside 0 to 255"
            )));
        }
        let text = match message {
            Some(message) => format!("{place}{message}"),
            None if code == 0 => return Ok(()),
            None => format!("{place}the filter called halt({code})"),
        };
        if code == 0 {
            let _ = writeln!(std::io::stderr().lock(), "json-map: {text}");
            return Ok(());
        }
        Err(Error::passthrough(code, text))
    }
}

/// A filter ready to run, with its context (variables) built once.
pub struct Mapper<'f> {
    filter: &'f Filter,
    ctx: Ctx<'f, Data>,
    code: &'f str,
    settings: Settings,
}

impl<'f> Mapper<'f> {
    /// A mapper for the records of `file` (none with --null-input); it
    /// sets up the calling thread's `debug`/`stderr` state.
    pub fn new(
        program: &'f Program,
        filter: &'f Filter,
        vars: jaq_core::Vars<Val>,
        settings: Settings,
        file: Option<&str>,
    ) -> Self {
        effects::init(program.code(), file, settings.show_values);
        Mapper {
            filter,
            ctx: Ctx::new(&filter.lut, vars),
            code: program.code(),
            settings,
        }
    }

    /// Run the filter on one input line, appending its results to `out`.
    /// On failure nothing of this record stays in `out`, and the message
    /// names the file and line but no value.
    pub fn map_line(
        &self,
        file: &str,
        line: u64,
        bytes: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Stop> {
        let start = out.len();
        effects::set_line(Some(line));
        let value = parse_line(bytes, file, line).map_err(Stop::Failed)?;
        match self.run(value, out) {
            Ok(()) => Ok(()),
            Err(Stop::Failed(what)) => {
                out.truncate(start);
                let what = what.message().to_string();
                Err(Stop::Failed(Error::data_at(
                    &Location::line(file, line),
                    what,
                )))
            }
            Err(halted) => Err(halted),
        }
    }

    /// Run the filter on one value. A failure's message is a description
    /// without values and without a place (the caller adds it).
    pub fn run(&self, input: Val, out: &mut Vec<u8>) -> Result<(), Stop> {
        for result in self.filter.id.run((self.ctx.clone(), input)) {
            match result {
                Ok(value) => {
                    let written = self.write(&value, out);
                    jq::drop_flat(value);
                    written.map_err(|what| Stop::Failed(Error::data(what)))?;
                }
                Err(exn) => return Err(self.stop(exn)),
            }
        }
        Ok(())
    }

    fn write(&self, value: &Val, out: &mut Vec<u8>) -> Result<(), String> {
        match value {
            Val::TStr(s) | Val::BStr(s) if self.settings.raw_output => out.extend_from_slice(s),
            _ => write_json(value, out)?,
        }
        out.push(b'\n');
        Ok(())
    }

    fn stop(&self, exn: Exn<'_, Val>) -> Stop {
        let what = match exn.get_err() {
            Ok(err) => {
                let mut what = describe::runtime_error(err, self.code, self.settings.show_values);
                if what.ends_with(describe::HIDDEN) {
                    what.push_str(" (--show-values prints it)");
                }
                what
            }
            Err(exn) => match exn.get_halt() {
                Ok(code) => {
                    return Stop::Halted(Halt {
                        code,
                        place: effects::place(),
                        message: effects::take_halt_message(),
                    });
                }
                Err(_) => "filter error: the filter stopped unexpectedly".to_string(),
            },
        };
        Stop::Failed(Error::data(what))
    }
}

/// Parse one NDJSON line strictly (RFC 8259 JSON, UTF-8) into a jaq value.
pub fn parse_line(bytes: &[u8], file: &str, line: u64) -> Result<Val> {
    let at = || Location::line(file, line);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Error::data_at(
            &at(),
            format!("not valid UTF-8 at byte {}", e.valid_up_to() + 1),
        )
    })?;
    // jaq's reader also takes comments, NaN and byte strings, and recurses
    // as deep as the text nests; records must be JSON within the one limit.
    common::ndjson::parse_json::<serde::de::IgnoredAny>(text.as_bytes(), file, line)?;
    jaq_json::read::parse_single(bytes).map_err(|_| Error::data_at(&at(), "not valid JSON"))
}
