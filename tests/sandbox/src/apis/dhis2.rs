//! dhis2: the tracker importer for events (async jobs, their notifications and reports)
//! and the program metadata, behind Basic auth or a personal access token.
//!
//! The seed is one event program for the SIPCA flow, in
//! tests/fixtures/sandbox/dhis2-metadata.json (see tests/sandbox/README.md).

mod checks;
mod draft;
mod event;
mod metadata;
mod params;
mod tracker;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::apis::support::dhis2_uid;
use crate::control::lock;
use crate::http::{Api, Request, Response};
use draft::Refusal;
use event::Event;
use params::{Params, ReportMode};

pub const USER: &str = "admin";
pub const PASSWORD: &str = "district";
/// The personal access token (`Authorization: ApiToken <pat>`).
pub const PAT: &str = "d2pat_sandbox0000000000000000000000";

/// How long an async job runs at least; it also needs one poll before this to complete,
/// so a client sees `completed: false` at least once.
const JOB_RUNS_FOR: Duration = Duration::from_millis(300);

#[derive(Debug)]
struct Job {
    id: String,
    started: Instant,
    started_at: DateTime<Utc>,
    polled: bool,
    done_at: Option<DateTime<Utc>>,
    notification_uids: [String; 2],
    report: Value,
}

impl Job {
    /// One poll of the job: it completes at a poll after the first, once it has run long enough.
    fn poll(&mut self) {
        if self.done_at.is_none() {
            if self.polled && self.started.elapsed() >= JOB_RUNS_FOR {
                self.done_at = Some(Utc::now());
            }
            self.polled = true;
        }
    }

    /// Newest first, as dhis2 lists them.
    fn notifications(&self) -> Value {
        let note = |uid: &str, t: DateTime<Utc>, message: String, completed: bool| {
            json!({"uid": uid, "level": "INFO", "category": "TRACKER_IMPORT_JOB",
                   "time": local_time(t), "message": message, "completed": completed})
        };
        let mut notes = Vec::new();
        if let Some(done) = self.done_at {
            let took = (done - self.started_at).num_milliseconds() as f64 / 1000.0;
            notes.push(note(
                &self.notification_uids[1],
                done,
                format!("({USER}) Import:Done took {took:.2} sec."),
                true,
            ));
        }
        notes.push(note(
            &self.notification_uids[0],
            self.started_at,
            format!("({USER}) Import:Start"),
            false,
        ));
        Value::Array(notes)
    }
}

#[derive(Default)]
struct Store {
    events: Vec<Event>,
    jobs: Vec<Job>,
}

// Counts only: no data values in Debug output.
impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("events", &self.events.len())
            .field("jobs", &self.jobs.len())
            .finish()
    }
}

/// The dhis2 stand-in; starts with the SIPCA program and no events.
#[derive(Debug, Default)]
pub struct Dhis2 {
    store: Mutex<Store>,
}

impl Dhis2 {
    pub fn new() -> Dhis2 {
        Dhis2::default()
    }

    fn import(&self, req: &Request) -> Response {
        let params = match Params::parse(|name| req.query(name).map(str::to_string)) {
            Ok(p) => p,
            Err(message) => return web_message(400, &message),
        };
        if let Some(kind) = req
            .header("content-type")
            .filter(|k| !k.to_ascii_lowercase().contains("json"))
        {
            return web_message(415, &format!("Content type '{kind}' not supported"));
        }
        let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
            return web_message(400, "JSON parse error: the body is not valid JSON.");
        };
        let mut store = lock(&self.store);
        let report = match tracker::import(metadata::seed(), &mut store.events, &params, &body) {
            Ok(report) => report,
            Err(Refusal::BadRequest(message)) => return web_message(400, &message),
            Err(Refusal::Unprocessable(message)) => return web_message(422, &message),
        };
        if !params.asynchronous {
            let status = if report["status"] == "ERROR" {
                409
            } else {
                200
            };
            return Response::json(status, &tracker::shape_report(&report, params.report_mode));
        }
        let job = Job {
            id: dhis2_uid(),
            started: Instant::now(),
            started_at: Utc::now(),
            polled: false,
            done_at: None,
            notification_uids: [dhis2_uid(), dhis2_uid()],
            report,
        };
        let answer = json!({
            "httpStatus": "OK",
            "httpStatusCode": 200,
            "status": "OK",
            "message": "Tracker job added",
            "response": {
                "responseType": "JobConfigurationWebMessageResponse",
                "id": job.id,
                "created": local_time(job.started_at),
                "jobType": "TRACKER_IMPORT_JOB",
                "location": format!("{}/api/tracker/jobs/{}", req.base_url, job.id),
            }
        });
        store.jobs.push(job);
        Response::json(200, &answer)
    }

    fn job(&self, id: &str) -> Response {
        let mut store = lock(&self.store);
        match store.jobs.iter_mut().find(|j| j.id == id) {
            Some(job) => {
                job.poll();
                Response::json(200, &job.notifications())
            }
            None => web_message(404, &format!("Job with id {id} could not be found.")),
        }
    }

    fn job_report(&self, id: &str, req: &Request) -> Response {
        let mode = match ReportMode::parse(req.query("reportMode")) {
            Ok(mode) => mode,
            Err(message) => return web_message(400, &message),
        };
        let store = lock(&self.store);
        match store.jobs.iter().find(|j| j.id == id) {
            Some(job) if job.done_at.is_some() => {
                Response::json(200, &tracker::shape_report(&job.report, mode))
            }
            _ => web_message(404, &format!("Summary for job {id} does not exist")),
        }
    }

    fn program(&self, id: &str, req: &Request) -> Response {
        match metadata::seed().raw_program(id) {
            Some(program) => match req.query("fields").filter(|f| !f.is_empty()) {
                Some(fields) => Response::json(
                    200,
                    &metadata::filter_fields(program, &metadata::parse_fields(fields)),
                ),
                None => Response::json(200, program),
            },
            None => web_message(404, &format!("Program with id {id} could not be found.")),
        }
    }
}

fn authorised(req: &Request) -> bool {
    if let Some((user, password)) = req.basic_auth() {
        return user == USER && password == PASSWORD;
    }
    let Some((scheme, token)) = req
        .header("authorization")
        .and_then(|v| v.trim().split_once(' '))
    else {
        return false;
    };
    scheme.eq_ignore_ascii_case("apitoken") && token.trim() == PAT
}

/// dhis2's WebMessage error shape.
fn web_message(status: u16, message: &str) -> Response {
    let reason = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        _ => "Error",
    };
    Response::json(
        status,
        &json!({"httpStatus": reason, "httpStatusCode": status, "status": "ERROR", "message": message}),
    )
}

/// dhis2's server-local timestamps ("2024-05-01T10:00:00.123", no zone).
fn local_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()
}

/// "/api/41/tracker/jobs/x.json" -> ["tracker", "jobs", "x"]: the version segment and a
/// ".json" suffix are optional in dhis2's URLs.
fn api_segments(path: &str) -> Option<Vec<&str>> {
    let rest = path.strip_prefix("/api/")?;
    let rest = rest.strip_suffix(".json").unwrap_or(rest);
    let mut segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    if segments
        .first()
        .is_some_and(|s| s.chars().all(|c| c.is_ascii_digit()))
    {
        segments.remove(0);
    }
    Some(segments)
}

impl Api for Dhis2 {
    fn name(&self) -> &'static str {
        "dhis2"
    }

    fn handle(&self, req: &Request) -> Response {
        if !authorised(req) {
            return web_message(401, "Unauthorized");
        }
        let segments = api_segments(&req.path).unwrap_or_default();
        let method = req.method.as_str();
        let (allowed, response) = match segments.as_slice() {
            ["tracker"] => ("POST", (method == "POST").then(|| self.import(req))),
            ["tracker", "jobs", id] => ("GET", (method == "GET").then(|| self.job(id))),
            ["tracker", "jobs", id, "report"] => {
                ("GET", (method == "GET").then(|| self.job_report(id, req)))
            }
            ["programs", id] => ("GET", (method == "GET").then(|| self.program(id, req))),
            _ => return web_message(404, &format!("No endpoint {}", req.path)),
        };
        response.unwrap_or_else(|| {
            web_message(405, &format!("Request method '{method}' is not supported"))
                .with_header("allow", allowed)
        })
    }

    fn state(&self) -> Value {
        let store = lock(&self.store);
        let events: Vec<Value> = store.events.iter().map(Event::to_json).collect();
        let jobs: Vec<Value> = store
            .jobs
            .iter()
            .map(|j| json!({"id": j.id, "completed": j.done_at.is_some(), "status": j.report["status"]}))
            .collect();
        json!({"events": events, "jobs": jobs})
    }

    fn reset(&self) {
        *lock(&self.store) = Store::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_drop_the_version_and_the_suffix() {
        assert_eq!(api_segments("/api/tracker"), Some(vec!["tracker"]));
        assert_eq!(
            api_segments("/api/41/programs/SIPCAprg001.json"),
            Some(vec!["programs", "SIPCAprg001"])
        );
        assert_eq!(api_segments("/other"), None);
    }
}
