//! One request: the body from stdin, a file or nothing; one receipt.

use crate::TOOL;
use crate::args::{Follow, Options};
use crate::follow;
use common::http::url::shown;
use common::http::{Client, Request, Response};
use common::io::{AtomicFile, open_input};
use common::receipt::Receipt;
use common::{Error, Result};
use serde_json::{Map, Value};
use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::Path;

pub fn run(options: &Options, client: &Client) -> Result<()> {
    let url = options.url.text();
    client.check_url(&url)?;
    let (name, body) = if options.no_body {
        (String::new(), Vec::new())
    } else {
        let mut input = open_input(options.body.as_deref())?;
        let mut body = Vec::new();
        input
            .reader
            .read_to_end(&mut body)
            .map_err(|e| Error::io(format!("reading {}", input.name), e))?;
        let name = match &options.body {
            Some(path) if path.as_os_str() != "-" => path.display().to_string(),
            _ => "-".to_string(),
        };
        (name, body)
    };
    let content_type = if options.no_body {
        ""
    } else {
        &options.content_type
    };
    let request = Request::with_body(options.method, &url, content_type, body);
    let target = shown(&url);

    if options.dry_run {
        common::cli::info(TOOL, format!("dry run: {}", client.describe(&request)));
        let receipt = Receipt {
            dry_run: true,
            ..receipt_for(&target, &name, &request)
        };
        return write_receipt(options, &receipt);
    }

    client.check_secrets()?;
    let mut response = client.send(&request)?;
    let mut report_error = None;
    if let Some(Follow::Dhis2Job) = options.follow
        && response.is_success()
    {
        let limit = client
            .policy()
            .max_time
            .unwrap_or(follow::DEFAULT_FOLLOW_TIME);
        response = follow::dhis2_job(client, &response, options.poll_interval, limit)?;
        report_error = follow::dhis2_report_error(&response);
    }
    let saved = match &options.response {
        Some(path) => write_response(path, &response),
        None => Ok(()),
    };
    if let Some(error) = response.error() {
        saved?;
        return Err(
            match options.exit_on.iter().find(|(s, _)| *s == response.status) {
                Some(&(_, code)) => Error::passthrough(code, error.message()),
                None => error,
            },
        );
    }
    if let Some(error) = report_error {
        saved?;
        return Err(error);
    }
    // Accepted: the receipt is written whatever fails from here on, so
    // that the request is never sent again.
    let mut receipt = Receipt {
        status: Some(i64::from(response.status)),
        ..receipt_for(&target, &name, &request)
    };
    let extract_error = extract(options, &response, &mut receipt);
    write_receipt(options, &receipt)?;
    saved?;
    match extract_error {
        None => Ok(()),
        Some(error) => Err(Error::data(format!(
            "{}: HTTP {}: accepted, and its receipt written with extract_error: {}",
            response.at(),
            response.status,
            error.message()
        ))),
    }
}

/// The remote id (--id-from) and the --receipt-field values from an
/// accepted answer, into the receipt. What cannot be taken is left out and
/// named in extract_error (and returned), without a value.
fn extract(options: &Options, response: &Response, receipt: &mut Receipt) -> Option<Error> {
    let mut problems = Vec::new();
    if let Some(filter) = &options.id_from {
        match crate::remote_id(filter, response) {
            Ok(id) => receipt.remote_id = Some(id),
            Err(error) => problems.push(error.message().to_string()),
        }
    }
    if !options.receipt_fields.is_empty() {
        match response.json() {
            Ok(answer) => {
                let mut fields = Map::new();
                for (name, filter) in &options.receipt_fields {
                    match filter.first(&answer) {
                        Ok(value) => {
                            fields.insert(name.clone(), value.unwrap_or(Value::Null));
                        }
                        Err(error) => problems.push(error.message().to_string()),
                    }
                }
                receipt.fields = Some(fields).filter(|f| !f.is_empty());
            }
            Err(error) => problems.push(format!("--receipt-field: {}", error.message())),
        }
    }
    problems.dedup();
    let error = (!problems.is_empty()).then(|| Error::data(problems.join("; ")))?;
    receipt.extract_error = Some(error.message().to_string());
    Some(error)
}

fn receipt_for(target: &str, name: &str, request: &Request) -> Receipt {
    let body = request.body.as_deref().unwrap_or_default();
    Receipt::for_bytes(TOOL, target, name, body)
}

/// The answer's body to FILE (0600, atomically) or to stdout.
fn write_response(path: &Path, response: &Response) -> Result<()> {
    if path.as_os_str() == "-" {
        let mut out = std::io::stdout().lock();
        return out
            .write_all(&response.body)
            .and_then(|()| out.flush())
            .map_err(|e| Error::write("writing the answer to <stdout>", e));
    }
    let mut file = AtomicFile::create(path)?;
    file.write_all(&response.body)
        .map_err(|e| Error::write(format!("writing {}", path.display()), e))?;
    file.commit()
}

/// The receipt on stdout (unless the answer went there) and appended to --receipt.
fn write_receipt(options: &Options, receipt: &Receipt) -> Result<()> {
    if let Some(path) = &options.receipt {
        let mut line = Vec::new();
        receipt
            .write_to(&mut line)
            .map_err(|e| Error::write("writing the receipt", e))?;
        let mut open = OpenOptions::new();
        open.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
        open.open(path)
            .and_then(|mut f| f.write_all(&line))
            .map_err(|e| Error::write(format!("appending the receipt to {}", path.display()), e))?;
    }
    let answer_on_stdout = options
        .response
        .as_deref()
        .is_some_and(|p| p.as_os_str() == "-");
    if !answer_on_stdout {
        let mut out = std::io::stdout().lock();
        receipt
            .write_to(&mut out)
            .and_then(|()| out.flush())
            .map_err(|e| Error::write("writing the receipt to <stdout>", e))?;
    }
    Ok(())
}
