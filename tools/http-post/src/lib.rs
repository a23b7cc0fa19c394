//! http-post: POST, PUT or PATCH a body, or one request per NDJSON record,
//! with auth, retries and saved responses.
#![forbid(unsafe_code)]

mod args;
mod doc;
mod each;
mod follow;
mod single;
mod template;

use args::{Args, Options};
use clap::{ArgMatches, Command, CommandFactory};
use common::Result;
use common::http::Client;
use serde_json::Value;

pub use doc::DOC;

pub(crate) const TOOL: &str = "http-post";

pub fn command() -> Command {
    common::cli::with_doc(Args::command(), &DOC)
}

pub fn run(matches: &ArgMatches) -> Result<()> {
    let options = Options::from_matches(matches)?;
    let client = Client::new(TOOL, &options.args.http)?;
    if options.args.each {
        each::run(&options, &client)
    } else {
        single::run(&options, &client)
    }
}

/// A remote id as text: a string (not empty) as is, a number as its digits.
pub(crate) fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    common::examples_test!(DOC, command, Options::from_matches);
}
