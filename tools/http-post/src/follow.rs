//! Following what a request started: a dhis2 async tracker job, polled
//! until a notification says it completed, then its import report.

use common::http::url::{resolve, shown};
use common::http::{Client, Request, Response};
use common::{Error, Result};
use serde_json::Value;
use std::time::{Duration, Instant};

/// How long to poll when --max-time does not say.
pub const DEFAULT_FOLLOW_TIME: Duration = Duration::from_secs(600);

/// The job's report for the answer to a tracker POST. An answer that is
/// itself a report (async=false) is taken as is.
pub fn dhis2_job(
    client: &Client,
    posted: &Response,
    poll: Duration,
    limit: Duration,
) -> Result<Response> {
    let answer = posted.json()?;
    let location = answer
        .pointer("/response/location")
        .and_then(Value::as_str)
        .filter(|l| !l.is_empty());
    let Some(location) = location else {
        if is_report(&answer) {
            return Ok(posted.clone());
        }
        return Err(Error::unavailable(format!(
            "{}: the answer has no response.location to follow (is async=false set, or is this not /api/tracker?)",
            posted.at()
        )));
    };
    let job = resolve(&posted.url, location);
    let started = Instant::now();
    loop {
        let notes = client
            .send_checked(&Request::get(&job).header("accept", "application/json"))?
            .json()?;
        let completed = notes.as_array().is_some_and(|list| {
            list.iter()
                .any(|n| n.get("completed").and_then(Value::as_bool) == Some(true))
        });
        if completed {
            break;
        }
        if started.elapsed() + poll > limit {
            return Err(Error::temp_fail(format!(
                "GET {}: the dhis2 job did not complete within {} s (--max-time)",
                shown(&job),
                limit.as_secs()
            )));
        }
        std::thread::sleep(poll);
    }
    let report_url = format!("{}/report", job.trim_end_matches('/'));
    client.send_checked(&Request::get(report_url).header("accept", "application/json"))
}

fn is_report(value: &Value) -> bool {
    value.get("validationReport").is_some() || value.get("bundleReport").is_some()
}

/// Whether a dhis2 import report says OK; if not, why, by its error codes
/// (never the messages, which quote values).
pub fn dhis2_report_error(report: &Response) -> Option<Error> {
    let value = match report.json() {
        Ok(v) => v,
        Err(e) => return Some(e),
    };
    let status = value.get("status").and_then(Value::as_str).unwrap_or("");
    if status == "OK" {
        return None;
    }
    let mut codes: Vec<&str> = value
        .pointer("/validationReport/errorReports")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|e| e.get("errorCode").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    codes.sort_unstable();
    codes.dedup();
    let status = if status.is_empty() { "missing" } else { status };
    let mut message = format!(
        "{}: the dhis2 import report's status is {status}",
        report.at()
    );
    if !codes.is_empty() {
        message.push_str(&format!(" ({})", codes.join(", ")));
    }
    Some(Error::unavailable(message))
}
