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
use common::http::{Client, Response};
use common::jq::Filter;
use common::json::id_text;
use common::{Error, Result};

pub use doc::DOC;

pub(crate) const TOOL: &str = "http-post";

pub fn command() -> Command {
    common::cli::with_doc(Args::command(), &DOC)
}

pub fn run(matches: &ArgMatches) -> Result<()> {
    let options = Options::from_matches(matches)?;
    let client = Client::new(TOOL, &options.http)?;
    if options.each {
        each::run(&options, &client)
    } else {
        single::run(&options, &client)
    }
}

/// The remote id --id-from takes from an accepted answer. An answer that is
/// not JSON, a filter error, or no string or number is an error (65) that
/// names the filter, never a value: the request stays delivered.
pub(crate) fn remote_id(filter: &Filter, answer: &Response) -> Result<String> {
    let json = answer
        .json()
        .map_err(|e| Error::data(format!("--id-from: {}", e.message())))?;
    let value = filter
        .first(&json)
        .map_err(|e| Error::data(e.message().to_string()))?;
    value.as_ref().and_then(id_text).ok_or_else(|| {
        Error::data("--id-from: no id in the answer (a string or a number)".to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    common::examples_test!(DOC, command, Options::from_matches);
}
