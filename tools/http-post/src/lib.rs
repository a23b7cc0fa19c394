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

    /// Split a shell command line into words (single quotes only), up to
    /// its first redirection.
    fn words(line: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut word = String::new();
        let (mut quoted, mut started) = (false, false);
        for c in line.chars() {
            match c {
                '\'' => {
                    quoted = !quoted;
                    started = true;
                }
                c if c.is_whitespace() && !quoted => {
                    if started {
                        words.push(std::mem::take(&mut word));
                        started = false;
                    }
                }
                c => {
                    word.push(c);
                    started = true;
                }
            }
        }
        if started {
            words.push(word);
        }
        let end = words
            .iter()
            .position(|w| w.starts_with(['<', '>', '|']))
            .unwrap_or(words.len());
        words.truncate(end);
        words
    }

    #[test]
    fn every_example_parses_and_validates() {
        for example in DOC.examples {
            let argv = words(example.command);
            assert_eq!(argv[0], TOOL, "{}", example.command);
            let matches = command()
                .try_get_matches_from(&argv)
                .unwrap_or_else(|e| panic!("{}: {e}", example.command));
            if let Err(e) = Options::from_matches(&matches) {
                panic!("{}: {e}", example.command);
            }
        }
    }
}
