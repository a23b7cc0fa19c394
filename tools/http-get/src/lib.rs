//! http-get: GET JSON from an API with auth and pagination, and write its
//! records as NDJSON, page by page.
#![forbid(unsafe_code)]

mod args;
mod paging;

use args::{Options, Paginate};
use clap::{ArgMatches, Command, CommandFactory};
use common::doc::{Example, ToolDoc};
use common::http::{Client, Request};
use common::text::plural_s;
use common::{Error, Result};
use paging::{Page, Pager};
use serde_json::Value;
use std::io::Write;

pub use args::Args;

pub(crate) const TOOL: &str = "http-get";

pub const DOC: ToolDoc = ToolDoc {
    name: TOOL,
    description: &[
        include_str!("../doc/description.txt"),
        common::http::doc::STATUSES,
        include_str!("../doc/description-after-statuses.txt"),
    ],
    examples: &[
        Example {
            what: "Primero to OSCaR: the cases changed since the cursor, 100 a page (token login as HTTP_USER)",
            command: "http-get https://primero.example.org/api/v2/cases --auth primero --query \"last_updated_at=$(cat state/primero.cursor)..\" --query remote=true --paginate page --per 100 --records '.data[]' > cases.ndjson",
        },
        Example {
            what: "OSCaR to Primero: the clients changed since midnight of the cursor's day and referred externally",
            command: "http-get https://oscar.example.org/api/v1/organizations/clients --auth oscar --query \"since_date='2023-08-24 00:00:00'\" --query referred_external=true --records '.data[]'",
        },
        Example {
            what: "SIPCA mapping: the dhis2 program's stages and data elements, as one record",
            command: "http-get https://dhis2.example.org/api/programs/Wn5wGd1yqkT --auth basic --query 'fields=programStages[id,name,programStageDataElements[compulsory,dataElement[name,valueType,id,optionSet[name,id,valueType,options[name,code]]]]]' > program.ndjson",
        },
        Example {
            what: "An API paged by its Link header, with a bearer token from a file and a private CA",
            command: "HTTP_TOKEN_FILE=/etc/phtools/api.token http-get https://api.example.org/v1/items --auth bearer --ca-file /etc/phtools/ca.pem --paginate link",
        },
    ],
    environment: common::http::doc::ENVIRONMENT,
    auth: common::http::doc::AUTH,
    security: &[include_str!("../doc/security.txt")],
    exit_codes: common::http::doc::EXIT_CODES,
    other_exit_status: &[],
    broken_pipe: None,
    see_also: &["http-post(1)", "json-map(1)", "index-diff(1)"],
};

pub fn command() -> Command {
    common::cli::with_doc(Args::command(), &DOC)
}

pub fn run(matches: &ArgMatches) -> Result<()> {
    let options = Options::from_matches(matches)?;
    let client = Client::new(TOOL, &options.args.http)?;
    client.check_url(&options.url)?;
    client.check_secrets()?;
    let mut pager = Pager::new(&options)?;
    let mut out = std::io::stdout().lock();
    let mut line = Vec::new();
    let mut records = 0u64;
    let mut previous_page: Option<Vec<u8>> = None;
    while let Some(url) = pager.next_url() {
        let number = pager.fetched + 1;
        let at_page = |e: Error| match options.args.paginate {
            Paginate::None => e,
            _ => e.context(format!("page {number}")),
        };
        let request = Request::get(url).header("accept", "application/json");
        let response = client.send_checked(&request).map_err(at_page)?;
        let body = if response.body.iter().all(u8::is_ascii_whitespace) {
            None
        } else {
            Some(response.json().map_err(at_page)?)
        };
        line.clear();
        let count = match &body {
            Some(body) => write_records(&options, body, &mut line).map_err(at_page)?,
            None => 0,
        };
        // A server that ignores the paging parameters answers the same
        // records again and again: stop before writing them twice.
        if count > 0 && previous_page.as_deref() == Some(&response.body[..]) {
            return Err(at_page(Error::unavailable(
                "the answer is the same as the page before: the server does not page this way (check --paginate and its parameter names)",
            )));
        }
        out.write_all(&line)
            .and_then(|()| out.flush())
            .map_err(|e| Error::write("writing <stdout>", e))?;
        records += count;
        let links = response
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("link"))
            .map(|(_, value)| value.as_str())
            .collect();
        let page = Page {
            url: &response.url,
            links,
            body: body.as_ref(),
            records: count,
        };
        pager.advance(&page).map_err(at_page)?;
        if options.args.paginate != Paginate::None {
            previous_page = Some(response.body);
        }
    }
    if !options.args.quiet {
        common::cli::info(
            TOOL,
            format!(
                "{records} record{} in {} page{}",
                plural_s(records),
                pager.fetched,
                plural_s(pager.fetched)
            ),
        );
    }
    Ok(())
}

/// Pick the records of one page and append them to `out`, one line each.
/// Nothing is appended when one of them is not an object.
fn write_records(options: &Options, page: &Value, out: &mut Vec<u8>) -> Result<u64> {
    let picked = match (&options.records, page) {
        (Some(filter), _) => filter.run(page)?,
        (None, Value::Array(items)) => items.clone(),
        (None, Value::Object(_)) => vec![page.clone()],
        (None, other) => {
            return Err(Error::data(format!(
                "the answer is {}, not an object or an array of objects (give --records)",
                kind(other)
            )));
        }
    };
    for (i, record) in picked.iter().enumerate() {
        if !record.is_object() {
            return Err(Error::data(format!(
                "record {} is {}, not an object (NDJSON records are objects{})",
                i + 1,
                kind(record),
                if options.records.is_some() {
                    "; check --records"
                } else {
                    "; give --records"
                }
            )));
        }
        serde_json::to_writer(&mut *out, record)
            .map_err(|_| Error::software("a JSON value did not serialise"))?;
        out.push(b'\n');
    }
    Ok(picked.len() as u64)
}

/// The type of a JSON value, with its article, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    common::examples_test!(DOC, command, Options::from_matches);
}
