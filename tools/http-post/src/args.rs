//! Flags, validated into [`Options`] before anything is read or sent.

use crate::template::{Template, check_file_name};
use clap::{ArgMatches, Parser, ValueEnum};
use common::http::{HttpArgs, Method};
use common::jq::Filter;
use common::{Error, Result};
use std::path::PathBuf;
use std::time::Duration;

/// What to follow after the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Follow {
    /// A dhis2 async tracker job: poll response.location until completed,
    /// then fetch its report.
    #[value(name = "dhis2-job")]
    Dhis2Job,
}

/// POST, PUT or PATCH a body, or one request per NDJSON record, with auth,
/// retries and saved responses.
///
/// One request: the body is standard input (or --body FILE, or none with
/// --no-body), sent once, with retries; one receipt line goes to stdout.
/// With --each, every NDJSON record of the input is one request to the URL
/// template, and one result line per record goes to stdout, in the shape
/// index-diff --commit reads.
#[derive(Parser, Debug)]
#[command(name = "http-post", version)]
pub struct Args {
    /// The URL. With --each, a template: {field} is the record's field,
    /// percent-encoded (a missing field is an error for that record).
    #[arg(value_name = "URL")]
    pub url: String,

    /// POST, PUT or PATCH.
    #[arg(short = 'X', long, value_name = "METHOD", default_value = "POST",
          value_parser = write_method)]
    pub method: Method,

    /// The Content-Type of the body.
    #[arg(long, value_name = "TYPE", default_value = "application/json")]
    pub content_type: String,

    /// Read the body (with --each, the NDJSON records) from FILE instead of stdin.
    #[arg(long, value_name = "FILE", conflicts_with = "no_body")]
    pub body: Option<PathBuf>,

    /// Send an empty body (Content-Length: 0) and read nothing.
    #[arg(long)]
    pub no_body: bool,

    /// Take the remote id for the receipt or the result from the JSON answer
    /// with this jq filter (e.g. .data.id).
    #[arg(long, value_name = "JQ")]
    pub id_from: Option<String>,

    /// Add NAME to the receipt's "fields", with the value of a jq filter on
    /// the JSON answer (repeatable), e.g. status=.status.
    #[arg(long = "receipt-field", value_name = "NAME=JQ")]
    pub receipt_fields: Vec<String>,

    /// Write the answer's body to FILE (mode 0600, complete or not at all),
    /// whatever its status; - is stdout, and the receipt then goes only to
    /// --receipt.
    #[arg(long, value_name = "FILE")]
    pub response: Option<PathBuf>,

    /// Also append the receipt line to FILE.
    #[arg(long, value_name = "FILE")]
    pub receipt: Option<PathBuf>,

    /// Exit CODE (1-125) when the answer's final status is STATUS (400-599)
    /// instead of the code that status has by default, with the same error
    /// line (repeatable), e.g. 400=65 to tell a refused batch from the other
    /// refusals.
    #[arg(long = "exit-on", value_name = "STATUS=CODE")]
    pub exit_on: Vec<String>,

    /// One request per NDJSON record of the input; one result line per record.
    #[arg(long, help_heading = "Per record")]
    pub each: bool,

    /// Send the value of field F as the body instead of the record (a string
    /// is sent as its text, anything else as JSON).
    #[arg(long, value_name = "F", requires = "each", help_heading = "Per record")]
    pub body_field: Option<String>,

    /// Take the result's key from field F instead of _key.
    #[arg(long, value_name = "F", requires = "each", help_heading = "Per record")]
    pub key_field: Option<String>,

    /// Stop at the first record that fails.
    #[arg(long, requires = "each", help_heading = "Per record")]
    pub fail_fast: bool,

    /// Send records whose _op is "deleted" with this method (DELETE) to the
    /// URL template, without a body. Without it they are skipped, each with a
    /// result that is not ok.
    #[arg(long, value_name = "METHOD", value_parser = any_method, requires = "each",
          help_heading = "Per record")]
    pub delete_method: Option<Method>,

    /// Upsert: GET this URL template first; no match creates (the method
    /// and URL), one match updates (--update-method to --update-url), more
    /// is an error for the record.
    #[arg(long, value_name = "TEMPLATE", requires_all = ["each", "update_url"],
          help_heading = "Upsert")]
    pub lookup: Option<String>,

    /// The matches in the lookup's JSON answer (jq).
    #[arg(
        long,
        value_name = "JQ",
        default_value = ".data[]",
        requires = "lookup",
        help_heading = "Upsert"
    )]
    pub lookup_records: String,

    /// The remote id of a match (jq), for {remote_id} in --update-url.
    #[arg(
        long,
        value_name = "JQ",
        default_value = ".id",
        requires = "lookup",
        help_heading = "Upsert"
    )]
    pub lookup_id: String,

    /// The URL template of an update; {remote_id} is the match's id.
    #[arg(
        long,
        value_name = "TEMPLATE",
        requires = "lookup",
        help_heading = "Upsert"
    )]
    pub update_url: Option<String>,

    /// The method of an update.
    #[arg(long, value_name = "METHOD", default_value = "PATCH", value_parser = write_method,
          requires = "lookup", help_heading = "Upsert")]
    pub update_method: Method,

    /// Save each record's request and answer bodies in DIR (files 0600).
    #[arg(long, value_name = "DIR", requires_all = ["each", "save_name"],
          help_heading = "Saving bodies")]
    pub save_dir: Option<PathBuf>,

    /// The request's file name: {field}, {date} (today, YYYY-MM-DD) and {n}
    /// (the record number).
    #[arg(
        long,
        value_name = "TEMPLATE",
        requires = "save_dir",
        help_heading = "Saving bodies"
    )]
    pub save_name: Option<String>,

    /// The answer's file name. Default: the request's, with _response before .json.
    #[arg(
        long,
        value_name = "TEMPLATE",
        requires = "save_dir",
        help_heading = "Saving bodies"
    )]
    pub save_response_name: Option<String>,

    /// After the request, follow what it started: dhis2-job.
    #[arg(long, value_enum, value_name = "WHAT")]
    pub follow: Option<Follow>,

    /// Seconds between two polls of a followed job (decimals allowed).
    #[arg(long, value_name = "SECS", default_value = "1", requires = "follow",
          value_parser = positive_seconds)]
    pub poll_interval: Duration,

    /// Send nothing and log in nowhere: print each request on stderr (secrets
    /// as ***) and the receipt or results, marked "dry_run": true.
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub http: HttpArgs,
}

fn write_method(text: &str) -> std::result::Result<Method, String> {
    match Method::parse(text) {
        Some(m @ (Method::Post | Method::Put | Method::Patch)) => Ok(m),
        _ => Err("give POST, PUT or PATCH".into()),
    }
}

fn any_method(text: &str) -> std::result::Result<Method, String> {
    match Method::parse(text) {
        Some(Method::Get) | None => Err("give DELETE (or POST, PUT, PATCH)".into()),
        Some(m) => Ok(m),
    }
}

fn positive_seconds(text: &str) -> std::result::Result<Duration, String> {
    match text.trim().parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 3600.0 => Ok(Duration::from_secs_f64(s)),
        _ => Err("give a number of seconds above 0 (at most 3600)".into()),
    }
}

/// The upsert: where to look a record up and how to tell its matches.
#[derive(Debug)]
pub struct Upsert {
    pub lookup: Template,
    pub records: Filter,
    pub id: Filter,
    pub update_url: Template,
    pub update_method: Method,
}

/// Where per-record bodies are saved.
#[derive(Debug)]
pub struct Save {
    pub dir: PathBuf,
    pub request: Template,
    pub response: Template,
}

/// Validated options: what the code reads, each flag parsed once.
#[derive(Debug)]
pub struct Options {
    pub http: HttpArgs,
    /// The URL: a template with --each, else the literal URL.
    pub url: Template,
    pub method: Method,
    pub content_type: String,
    pub body: Option<PathBuf>,
    pub no_body: bool,
    pub id_from: Option<Filter>,
    pub receipt_fields: Vec<(String, Filter)>,
    pub response: Option<PathBuf>,
    pub receipt: Option<PathBuf>,
    /// --exit-on: (HTTP status, exit code) pairs.
    pub exit_on: Vec<(u16, i32)>,
    pub each: bool,
    pub body_field: Option<String>,
    pub key_field: Option<String>,
    pub fail_fast: bool,
    pub delete_method: Option<Method>,
    pub upsert: Option<Upsert>,
    pub save: Option<Save>,
    pub follow: Option<Follow>,
    pub poll_interval: Duration,
    pub dry_run: bool,
}

impl Options {
    pub fn from_matches(matches: &ArgMatches) -> Result<Options> {
        use clap::FromArgMatches;
        let args = Args::from_arg_matches(matches).map_err(|e| Error::usage(e.to_string()))?;
        let single_only = [
            (!args.receipt_fields.is_empty(), "--receipt-field"),
            (args.response.is_some(), "--response"),
            (args.receipt.is_some(), "--receipt"),
            (!args.exit_on.is_empty(), "--exit-on"),
        ];
        if args.each {
            if let Some((_, flag)) = single_only.iter().find(|(given, _)| *given) {
                return Err(Error::usage(format!(
                    "{flag} is for one request; with --each each record has a result line (and --save-dir keeps the answers)"
                )));
            }
            if args.no_body {
                return Err(Error::usage("--no-body is for one request, not --each"));
            }
        }
        let url = if args.each {
            Template::parse("the URL template", &args.url)?
        } else {
            Template::literal(&args.url)
        };
        let id_from = args
            .id_from
            .as_deref()
            .map(|f| Filter::compile_flag("--id-from", f))
            .transpose()?;
        let mut receipt_fields = Vec::new();
        for pair in &args.receipt_fields {
            let (name, filter) = common::cli::parse_pair("--receipt-field", pair)?;
            let filter = Filter::compile_flag(&format!("--receipt-field {name}"), &filter)?;
            receipt_fields.push((name, filter));
        }
        let mut exit_on = Vec::new();
        for pair in &args.exit_on {
            exit_on.push(parse_exit_on(pair)?);
        }
        let upsert = match (&args.lookup, &args.update_url) {
            (Some(lookup), Some(update)) => {
                let update_url = Template::parse("--update-url", update)?;
                Some(Upsert {
                    lookup: Template::parse("--lookup", lookup)?,
                    records: Filter::compile_flag("--lookup-records", &args.lookup_records)?,
                    id: Filter::compile_flag("--lookup-id", &args.lookup_id)?,
                    update_url,
                    update_method: args.update_method,
                })
            }
            _ => None,
        };
        let save = match (&args.save_dir, &args.save_name) {
            (Some(dir), Some(name)) => {
                for (flag, text) in [
                    ("--save-name", Some(name)),
                    ("--save-response-name", args.save_response_name.as_ref()),
                ] {
                    if text.is_some_and(|t| t.contains('/') || t.contains('\\')) {
                        return Err(Error::usage(format!(
                            "{flag} is a file name without folders: put the folder in --save-dir"
                        )));
                    }
                }
                let response_name = match &args.save_response_name {
                    Some(t) => t.clone(),
                    None => default_response_name(name),
                };
                let request = Template::parse("--save-name", name)?;
                let response = Template::parse("--save-response-name", &response_name)?;
                check_file_name("--save-name", &request)?;
                check_file_name("--save-response-name", &response)?;
                Some(Save {
                    dir: dir.clone(),
                    request,
                    response,
                })
            }
            _ => None,
        };
        let options = Options {
            url,
            id_from,
            receipt_fields,
            exit_on,
            upsert,
            save,
            method: args.method,
            content_type: args.content_type,
            body: args.body,
            no_body: args.no_body,
            response: args.response,
            receipt: args.receipt,
            each: args.each,
            body_field: args.body_field,
            key_field: args.key_field,
            fail_fast: args.fail_fast,
            delete_method: args.delete_method,
            follow: args.follow,
            poll_interval: args.poll_interval,
            dry_run: args.dry_run,
            http: args.http,
        };
        Ok(options)
    }
}

/// One --exit-on STATUS=CODE.
fn parse_exit_on(pair: &str) -> Result<(u16, i32)> {
    let bad = || {
        Error::usage(
            "--exit-on takes STATUS=CODE, a status from 400 to 599 and an exit code from 1 to 125, e.g. 400=65",
        )
    };
    let (status, code) = pair.split_once('=').ok_or_else(bad)?;
    let status: u16 = status.trim().parse().map_err(|_| bad())?;
    let code: i32 = code.trim().parse().map_err(|_| bad())?;
    if !(400..=599).contains(&status) || !(1..=125).contains(&code) {
        return Err(bad());
    }
    Ok((status, code))
}

/// The answer's file name from the request's: `_response` before `.json`,
/// or at the end.
pub fn default_response_name(request: &str) -> String {
    match request.strip_suffix(".json") {
        Some(stem) => format!("{stem}_response.json"),
        None => format!("{request}_response"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_names() {
        assert_eq!(
            default_response_name("{date}__{_kobo}_{_remote_id}.json"),
            "{date}__{_kobo}_{_remote_id}_response.json"
        );
        assert_eq!(default_response_name("req-{n}.txt"), "req-{n}.txt_response");
    }

    #[test]
    fn methods_and_intervals() {
        assert_eq!(write_method("patch"), Ok(Method::Patch));
        assert!(write_method("GET").is_err());
        assert_eq!(any_method("delete"), Ok(Method::Delete));
        assert!(any_method("get").is_err());
        assert_eq!(positive_seconds("0.2"), Ok(Duration::from_millis(200)));
        assert!(positive_seconds("0").is_err());
    }
}
