//! One request per NDJSON record: URL and file names from templates,
//! optional upsert by lookup, one result line per record, and the exit
//! code of the worst outcome.

use crate::TOOL;
use crate::args::{Follow, Options, Save, Upsert};
use crate::follow;
use crate::template::{Missing, Template, field_text, file_name_safe, fitting_file_name};
use common::http::url::encode_path_segment;
use common::http::{Attempt, Client, Method, Request, Response};
use common::io::{open_input, write_atomic};
use common::json::id_text;
use common::ndjson::{LineReader, parse_object};
use common::progress::ProgressLine;
use common::result::{BOOKKEEPING, RecordResult};
use common::text::count;
use common::{Error, Exit, Result};
use serde_json::{Map, Value};
use std::io::Write;
use std::time::Duration;

/// How bad a failed record is: the exit code is the worst seen.
/// 77 (not allowed) > 75 (temporary) > 69 (refused) > 65 (bad record).
fn rank(exit: Exit) -> u8 {
    match exit {
        Exit::NoPerm => 4,
        Exit::TempFail => 3,
        Exit::Data => 1,
        _ => 2,
    }
}

/// Failures that are not about one record: every later record would
/// fail the same way, so the run stops.
fn is_fatal(error: &Error) -> bool {
    matches!(
        error.exit(),
        Exit::Usage | Exit::Config | Exit::NoPerm | Exit::NoInput | Exit::Io | Exit::Software
    )
}

/// The record being handled, for messages and templates.
struct Current<'a> {
    record: &'a Map<String, Value>,
    n: u64,
    line: u64,
    date: &'a str,
    /// --show-values: messages show the URLs made from the record.
    show_values: bool,
}

impl Current<'_> {
    fn at(&self) -> String {
        format!("record {} (line {})", self.n, self.line)
    }

    /// A template value: {date}, {n}, or the record's field.
    fn value(&self, name: &str) -> Option<String> {
        match name {
            "date" => Some(self.date.to_string()),
            "n" => Some(self.n.to_string()),
            _ => field_text(self.record, name),
        }
    }

    /// A URL from `template`: an empty value is refused like a missing one,
    /// since `/cases/{id}` would become the collection `/cases/` and
    /// `?number={n}` a query that matches records without one.
    fn render_url(&self, template: &Template, what: &str) -> Result<String> {
        let value = |name: &str| field_text(self.record, name).filter(|text| !text.is_empty());
        template
            .render(value, encode_path_segment)
            .map_err(|Missing(field)| missing_in_url(what, &field))
    }

    /// `request`, to a URL made from `template`, shown in messages as the
    /// template (its values hidden) unless --show-values.
    fn shown_as_template(&self, request: Request, template: &Template) -> Request {
        if self.show_values {
            request
        } else {
            request.shown_as(&template.text())
        }
    }

    fn file_name(&self, template: &Template, what: &str) -> Result<String> {
        let name = template
            .render(|name| self.value(name), file_name_safe)
            .map_err(|Missing(field)| missing(what, &field))?;
        fitting_file_name(name, what, template)
    }
}

fn missing_in_url(what: &str, field: &str) -> Error {
    Error::data(format!(
        "{what}'s field {{{field}}} is missing, null, empty, or not a string or number"
    ))
}

fn missing(what: &str, field: &str) -> Error {
    Error::data(format!(
        "{what}'s field {{{field}}} is missing, null, or not a string or number"
    ))
}

/// What became of one record.
#[derive(Default)]
struct Outcome {
    result: RecordResult,
    /// Why it failed (None when ok or skipped), with its exit class.
    error: Option<Error>,
    /// What could not be taken from the answer of an accepted record.
    extract_error: Option<Error>,
    /// A failure of the run after the record was accepted (saving its
    /// answer): the record's result line is written, then the run stops.
    stop: Option<Error>,
    skipped: bool,
}

/// The run's counts and its worst failure.
#[derive(Default)]
struct Tally {
    records: u64,
    failed: u64,
    skipped: u64,
    worst: Option<Error>,
    first: Option<String>,
    /// Records accepted without the id --id-from takes.
    without_id: u64,
    first_without_id: Option<String>,
}

impl Tally {
    fn fail(&mut self, at: &str, error: Error) {
        self.failed += 1;
        if self.first.is_none() {
            self.first = Some(format!("{at}: {}", error.message()));
        }
        let worse = self
            .worst
            .as_ref()
            .is_none_or(|w| rank(error.exit()) > rank(w.exit()));
        if worse {
            self.worst = Some(error);
        }
    }

    /// An accepted record whose id could not be taken: warned at once, and
    /// a data error (65) at the end unless a worse failure came.
    fn without_id(&mut self, at: &str, error: &Error) {
        common::cli::warn(
            TOOL,
            format!(
                "{at}: accepted, without its id: {}; its result line has extract_error",
                error.message()
            ),
        );
        self.without_id += 1;
        self.first_without_id.get_or_insert_with(|| at.to_string());
    }

    /// The run's error, if a record failed or came without its id.
    fn into_error(self, fail_fast: bool) -> Option<Error> {
        let stopped = if fail_fast {
            ", stopped (--fail-fast)"
        } else {
            ""
        };
        let without_id = |stopped: &str| {
            format!(
                "{} accepted without the id --id-from takes, delivered all the same (extract_error in their result lines){stopped}; the first: {}",
                count(self.without_id, "record", "records"),
                self.first_without_id.as_deref().unwrap_or_default()
            )
        };
        let Some(worst) = &self.worst else {
            return (self.without_id > 0).then(|| Error::data(without_id(stopped)));
        };
        let also = if self.without_id > 0 {
            format!("; {}", without_id(""))
        } else {
            String::new()
        };
        Some(Error::new(
            worst.exit(),
            format!(
                "{} of {} failed{stopped}; the first: {}{also}",
                self.failed,
                count(self.records, "record", "records"),
                self.first.as_deref().unwrap_or_default()
            ),
        ))
    }
}

pub fn run(options: &Options, client: &Client) -> Result<()> {
    client.check_url(&options.url.sample())?;
    if let Some(upsert) = &options.upsert {
        client.check_url(&upsert.lookup.sample())?;
        client.check_url(&upsert.update_url.sample())?;
    }
    if let Some(save) = &options.save {
        common::io::create_private_dir(&save.dir)
            .map_err(|e| Error::write(format!("creating --save-dir {}", save.dir.display()), e))?;
    }
    if !options.dry_run {
        client.check_secrets()?;
    }
    let date = chrono::Local::now().format("%Y-%m-%d").to_string();
    let mut reader = LineReader::new(open_input(options.body.as_deref())?);
    let name = reader.name().to_string();
    let mut out = std::io::stdout().lock();
    let mut tally = Tally::default();
    let mut progress = ProgressLine::new(TOOL)
        .at_most_every(Duration::from_millis(200))
        .after_the_first_interval()
        .erased_at_end();
    while let Some((line, bytes)) = reader.next_line()? {
        tally.records += 1;
        let n = tally.records;
        let record = match parse_object(bytes, &name, line) {
            Ok(record) => record,
            Err(error) => {
                // No result line: without the record there is no key.
                tally.fail(&format!("record {n}"), error);
                if options.fail_fast {
                    break;
                }
                continue;
            }
        };
        let current = Current {
            record: &record,
            n,
            line,
            date: &date,
            show_values: client.show_values(),
        };
        let outcome = match handle(options, client, &current) {
            Ok(outcome) => outcome,
            Err(fatal) => {
                progress.finish();
                return Err(fatal.context(current.at()));
            }
        };
        outcome
            .result
            .write_to(&mut out)
            .and_then(|()| out.flush())
            .map_err(|e| Error::write("writing a result to <stdout>", e))?;
        if let Some(stop) = outcome.stop {
            progress.finish();
            return Err(stop.context(current.at()));
        }
        if outcome.skipped {
            tally.skipped += 1;
        }
        let failed = outcome.error.is_some() || outcome.extract_error.is_some();
        if let Some(error) = outcome.error {
            tally.fail(&current.at(), error);
        }
        if let Some(error) = &outcome.extract_error {
            progress.finish();
            tally.without_id(&current.at(), error);
        }
        progress.show(|| format!("{} records, {} failed", tally.records, tally.failed));
        if failed && options.fail_fast {
            break;
        }
    }
    progress.finish();
    if tally.skipped > 0 {
        common::cli::warn(
            TOOL,
            format!(
                "{} with _op \"deleted\" not sent (--delete-method DELETE sends them)",
                count(tally.skipped, "record", "records")
            ),
        );
    }
    match tally.into_error(options.fail_fast) {
        None => Ok(()),
        Some(error) => Err(error),
    }
}

/// Send one record. Err is a failure of the run, not of the record.
fn handle(options: &Options, client: &Client, current: &Current) -> Result<Outcome> {
    let record = current.record;
    let mut result = RecordResult::for_record(record, false);
    if let Some(field) = &options.key_field {
        result.key = record.get(field).cloned().unwrap_or(Value::Null);
    }
    let fail = |mut result: RecordResult, error: Error| {
        result.error = Some(error.message().to_string());
        Ok(Outcome {
            result,
            error: Some(error),
            ..Outcome::default()
        })
    };
    let deleted = record.get("_op").and_then(Value::as_str) == Some("deleted");
    if deleted && options.delete_method.is_none() {
        result.error = Some("not sent: _op is deleted (--delete-method sends it)".into());
        return Ok(Outcome {
            result,
            skipped: true,
            ..Outcome::default()
        });
    }
    let url = match current.render_url(&options.url, "the URL template") {
        Ok(url) => url,
        Err(error) => return fail(result, error),
    };
    let request = if deleted {
        let method = options.delete_method.unwrap_or(Method::Delete);
        let mut request = Request::new(method, &url);
        request.body = Some(Vec::new());
        request
    } else {
        match body_of(record, options.body_field.as_deref()) {
            Ok(body) => Request::with_body(options.method, &url, &options.content_type, body),
            Err(error) => return fail(result, error),
        }
    };
    let request = current.shown_as_template(request, &options.url);
    let saved = match save_names(options.save.as_ref(), current) {
        Ok(names) => names,
        Err(error) => return fail(result, error),
    };
    if let (Some(save), Some((request_name, _)), false) = (&options.save, &saved, deleted) {
        let body = request.body.as_deref().unwrap_or_default();
        save_file(save, request_name, &save.request, body, current.show_values)?;
    }

    if options.dry_run {
        let upsert = options.upsert.as_ref().filter(|_| !deleted);
        if let Some(upsert) = upsert {
            match current.render_url(&upsert.lookup, "--lookup") {
                Ok(lookup) => {
                    let lookup = current.shown_as_template(Request::get(lookup), &upsert.lookup);
                    dry_run_line(client, current, &lookup);
                }
                Err(error) => return fail(result, error),
            }
        }
        dry_run_line(client, current, &request);
        result.ok = true;
        result.dry_run = true;
        return Ok(Outcome {
            result,
            ..Outcome::default()
        });
    }

    let sent = match options.upsert.as_ref().filter(|_| !deleted) {
        Some(upsert) => upsert_record(client, upsert, current, &request),
        None => client.send(&request).map(|response| (response, None)),
    };
    let (response, looked_up) = match sent {
        Ok(sent) => sent,
        Err(error) if is_fatal(&error) => return Err(error),
        Err(error) => return fail(result, error),
    };
    result.status = Some(i64::from(response.status));
    let mut answer = response;
    let mut error = answer.error();
    if error.is_none() && options.follow == Some(Follow::Dhis2Job) {
        let limit = client
            .policy()
            .max_time
            .unwrap_or(follow::DEFAULT_FOLLOW_TIME);
        match follow::dhis2_job(client, &answer, options.poll_interval, limit) {
            Ok(report) => {
                error = follow::dhis2_report_error(&report);
                answer = report;
            }
            Err(e) if is_fatal(&e) => return Err(e),
            Err(e) => error = Some(e),
        }
    }
    let stop = match (&options.save, &saved) {
        (Some(save), Some((_, name))) => save_file(
            save,
            name,
            &save.response,
            &answer.body,
            current.show_values,
        )
        .err(),
        _ => None,
    };
    if let Some(error) = error {
        return Ok(Outcome {
            stop,
            ..fail(result, error)?
        });
    }
    result.ok = true;
    let mut extract_error = None;
    result.remote_id = match (&options.id_from, looked_up) {
        (Some(filter), looked_up) => match crate::remote_id(filter, &answer) {
            Ok(id) => Some(id),
            // The match the lookup found is the record's id all the same.
            Err(_) if looked_up.is_some() => looked_up,
            Err(error) => {
                result.extract_error = Some(error.message().to_string());
                extract_error = Some(error);
                None
            }
        },
        (None, looked_up) => looked_up,
    };
    Ok(Outcome {
        result,
        extract_error,
        stop,
        ..Outcome::default()
    })
}

/// Write one saved body (0600, atomically) as `name` in --save-dir. An
/// error names the file by its template, not by the record's values.
fn save_file(
    save: &Save,
    name: &str,
    template: &Template,
    bytes: &[u8],
    show_values: bool,
) -> Result<()> {
    let path = save.dir.join(name);
    write_atomic(&path, bytes).map_err(|error| {
        if show_values {
            return error;
        }
        let shown = save.dir.join(template.text());
        let message = error
            .message()
            .replace(&path.display().to_string(), &shown.display().to_string());
        Error::new(error.exit(), message)
    })
}

fn dry_run_line(client: &Client, current: &Current, request: &Request) {
    common::cli::info(
        TOOL,
        format!("dry run: {}: {}", current.at(), client.describe(request)),
    );
}

/// The body: the record without the bookkeeping fields, or one field (a
/// string as its text, anything else as JSON).
fn body_of(record: &Map<String, Value>, body_field: Option<&str>) -> Result<Vec<u8>> {
    let json = |v: &Value| serde_json::to_vec(v).map_err(|e| Error::software(e.to_string()));
    match body_field {
        Some(field) => match record.get(field) {
            None | Some(Value::Null) => Err(Error::data(format!(
                "the --body-field {field:?} is missing or null"
            ))),
            Some(Value::String(text)) => Ok(text.clone().into_bytes()),
            Some(value) => json(value),
        },
        None => {
            let mut body = record.clone();
            for field in BOOKKEEPING {
                body.remove(field);
            }
            json(&Value::Object(body))
        }
    }
}

/// The request's and the answer's file names, when bodies are saved.
fn save_names(save: Option<&Save>, current: &Current) -> Result<Option<(String, String)>> {
    let Some(save) = save else {
        return Ok(None);
    };
    let request = current.file_name(&save.request, "--save-name")?;
    let response = current.file_name(&save.response, "--save-response-name")?;
    Ok(Some((request, response)))
}

/// Look the record up, then create or update it. A temporary failure of
/// either step starts again from the lookup, so that a create that went
/// through before a timeout is updated, not made twice. Gives the answer
/// of the write and the id of the match it updated.
fn upsert_record(
    client: &Client,
    upsert: &Upsert,
    current: &Current,
    create: &Request,
) -> Result<(Response, Option<String>)> {
    let lookup_url = current.render_url(&upsert.lookup, "--lookup")?;
    client.retry(|_| {
        let lookup = Request::get(&lookup_url).header("accept", "application/json");
        let lookup = current.shown_as_template(lookup, &upsert.lookup);
        let found = match client.try_once(&lookup) {
            Attempt::Done(found) => found,
            Attempt::Retry { error, retry_after } => {
                return Attempt::Retry {
                    error: error.context("lookup"),
                    retry_after,
                };
            }
            Attempt::Fail(error) => return Attempt::Fail(error.context("lookup")),
        };
        if found.error().is_some() {
            // A refused lookup is the record's outcome, with its status.
            return Attempt::Done((found, None));
        }
        let matches = match found.json().and_then(|v| upsert.records.run(&v)) {
            Ok(matches) => matches,
            Err(error) => {
                return Attempt::Fail(Error::unavailable(format!(
                    "lookup: {}: the answer does not fit --lookup-records: {}",
                    found.at(),
                    error.message()
                )));
            }
        };
        let (write, looked_up) = match matches.as_slice() {
            [] => (create.clone(), None),
            [one] => {
                let id = upsert
                    .id
                    .first(one)
                    .ok()
                    .flatten()
                    .as_ref()
                    .and_then(id_text);
                let Some(id) = id else {
                    return Attempt::Fail(Error::unavailable(format!(
                        "lookup: {}: the match has no id (--lookup-id)",
                        found.at()
                    )));
                };
                let url = upsert.update_url.render(
                    |name| match name {
                        "remote_id" => Some(id.clone()),
                        _ => field_text(current.record, name),
                    },
                    encode_path_segment,
                );
                let url = match url {
                    Ok(url) => url,
                    Err(Missing(field)) => {
                        return Attempt::Fail(missing("--update-url", &field));
                    }
                };
                let mut update = create.clone();
                update.method = upsert.update_method;
                update.url = url;
                (
                    current.shown_as_template(update, &upsert.update_url),
                    Some(id),
                )
            }
            more => {
                return Attempt::Fail(Error::unavailable(format!(
                    "lookup: {}: {} matches; an upsert needs 0 or 1",
                    found.at(),
                    more.len()
                )));
            }
        };
        match client.try_once(&write) {
            Attempt::Done(response) => Attempt::Done((response, looked_up)),
            Attempt::Retry { error, retry_after } => Attempt::Retry { error, retry_after },
            Attempt::Fail(error) => Attempt::Fail(error),
        }
    })
}
