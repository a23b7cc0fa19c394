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
    let args = &options.args;
    client.check_url(&args.url)?;
    let (name, body) = if args.no_body {
        (String::new(), Vec::new())
    } else {
        let mut input = open_input(args.body.as_deref())?;
        let mut body = Vec::new();
        input
            .reader
            .read_to_end(&mut body)
            .map_err(|e| Error::io(format!("reading {}", input.name), e))?;
        let name = match &args.body {
            Some(path) if path.as_os_str() != "-" => path.display().to_string(),
            _ => "-".to_string(),
        };
        (name, body)
    };
    let content_type = if args.no_body { "" } else { &args.content_type };
    let request = Request::with_body(args.method, &args.url, content_type, body);
    let target = shown(&args.url);

    if args.dry_run {
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
    if let Some(Follow::Dhis2Job) = args.follow
        && response.is_success()
    {
        let limit = client
            .policy()
            .max_time
            .unwrap_or(follow::DEFAULT_FOLLOW_TIME);
        response = follow::dhis2_job(client, &response, args.poll_interval, limit)?;
        report_error = follow::dhis2_report_error(&response);
    }
    if let Some(path) = &args.response {
        write_response(path, &response)?;
    }
    if let Some(error) = response.error() {
        return Err(
            match options.exit_on.iter().find(|(s, _)| *s == response.status) {
                Some(&(_, code)) => Error::passthrough(code, error.message()),
                None => error,
            },
        );
    }
    if let Some(error) = report_error {
        return Err(error);
    }
    let mut receipt = Receipt {
        status: Some(i64::from(response.status)),
        ..receipt_for(&target, &name, &request)
    };
    if options.id_from.is_some() || !options.receipt_fields.is_empty() {
        let answer = response.json()?;
        if let Some(filter) = &options.id_from {
            receipt.remote_id = filter.first(&answer)?.as_ref().and_then(crate::id_text);
        }
        let mut fields = Map::new();
        for (name, filter) in &options.receipt_fields {
            let value = filter.first(&answer)?.unwrap_or(Value::Null);
            fields.insert(name.clone(), value);
        }
        if !fields.is_empty() {
            receipt.fields = Some(fields);
        }
    }
    write_receipt(options, &receipt)
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
    let args = &options.args;
    if let Some(path) = &args.receipt {
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
    let answer_on_stdout = args
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
