//! Faults, the log of received requests, and the `/_sandbox` control endpoints.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::http::{Api, Request, Response};

/// Fail, delay or drop the next `count` requests to a path.
///
/// `path` is the full path with the API prefix ("/primero/api/v2/cases"); it matches
/// exactly, or as a prefix when it ends with `*`. `status` 0 answers normally (after
/// `delay_ms`), which is how to make a request slow without failing it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Fault {
    pub path: String,
    /// Only requests with this method (any method when absent).
    pub method: Option<String>,
    pub count: u32,
    pub status: u16,
    /// Seconds, sent as `Retry-After`.
    pub retry_after: Option<u64>,
    pub delay_ms: u64,
    /// Close the connection without answering.
    pub drop: bool,
    /// The JSON body of the faulted answer (a small JSON error when absent).
    pub body: Option<Value>,
}

impl Fault {
    fn matches(&self, method: &str, path: &str) -> bool {
        let path_ok = match self.path.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => path == self.path,
        };
        let method_ok = self
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method));
        path_ok && method_ok
    }
}

/// What a matching fault makes of a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Injected {
    /// Close the connection without an answer (after the delay).
    Drop { delay_ms: u64 },
    /// Answer this instead (after the delay).
    Answer { delay_ms: u64, response: Response },
    /// Answer normally, after the delay.
    Delay { delay_ms: u64 },
}

/// One request as the sandbox saw it, with the status it answered (0: dropped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    pub method: String,
    /// The full path as sent, with the API prefix, without the query.
    pub path: String,
    /// The query string as sent, without '?'.
    pub query: String,
    /// Header names lowercased, in the order sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub status: u16,
    /// Which connection it came on (numbered from 1 per sandbox): shows keep-alive.
    pub connection: u64,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON, if it parses.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The HTTP view: headers as an object, the body as JSON when it parses, else text.
    pub fn to_json(&self) -> Value {
        let mut headers = Map::new();
        for (name, value) in &self.headers {
            match headers.get_mut(name) {
                Some(Value::String(prev)) => {
                    prev.push_str(", ");
                    prev.push_str(value);
                }
                _ => {
                    headers.insert(name.clone(), Value::String(value.clone()));
                }
            }
        }
        let body = self.json().unwrap_or_else(|| Value::String(self.text()));
        json!({"method": self.method, "path": self.path, "query": self.query,
               "headers": headers, "body": body, "status": self.status,
               "connection": self.connection})
    }
}

/// The shared, resettable part of a running sandbox.
#[derive(Debug, Default)]
pub struct Log {
    faults: Mutex<Vec<Fault>>,
    /// (sequence number, API name, request): appended on arrival, status set on answer.
    received: Mutex<Vec<(u64, String, Received)>>,
    next_seq: Mutex<u64>,
}

impl Log {
    /// Adds a fault; a count of 0 means 1.
    pub fn add_fault(&self, fault: Fault) {
        let count = fault.count.max(1);
        lock(&self.faults).push(Fault { count, ..fault });
    }

    /// Uses up one count of the first fault that matches.
    pub fn take_fault(&self, method: &str, path: &str) -> Option<Injected> {
        let mut faults = lock(&self.faults);
        let index = faults
            .iter()
            .position(|f| f.count > 0 && f.matches(method, path))?;
        let fault = &mut faults[index];
        fault.count -= 1;
        let fault = if fault.count == 0 {
            faults.remove(index)
        } else {
            fault.clone()
        };
        let delay_ms = fault.delay_ms;
        Some(if fault.drop {
            Injected::Drop { delay_ms }
        } else if fault.status == 0 {
            Injected::Delay { delay_ms }
        } else {
            let body = fault.body.clone().unwrap_or_else(
                || json!({"error": "fault injected by the sandbox", "status": fault.status}),
            );
            let mut response = Response::json(fault.status, &body);
            if let Some(seconds) = fault.retry_after {
                response = response.with_header("retry-after", &seconds.to_string());
            }
            Injected::Answer { delay_ms, response }
        })
    }

    /// Records a request on arrival; returns its sequence number for `answered`.
    pub fn arrived(&self, api: &str, received: Received) -> u64 {
        let seq = {
            let mut next = lock(&self.next_seq);
            *next += 1;
            *next
        };
        lock(&self.received).push((seq, api.to_string(), received));
        seq
    }

    pub fn answered(&self, seq: u64, status: u16) {
        let mut received = lock(&self.received);
        if let Some(entry) = received.iter_mut().rev().find(|(s, _, _)| *s == seq) {
            entry.2.status = status;
        }
    }

    pub fn received(&self, api: &str) -> Vec<Received> {
        lock(&self.received)
            .iter()
            .filter(|(_, name, _)| name == api)
            .map(|(_, _, r)| r.clone())
            .collect()
    }

    pub fn clear(&self) {
        lock(&self.faults).clear();
        lock(&self.received).clear();
    }
}

/// Locks, going on after a panic in another thread (the data stays usable for tests).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Answers `/_sandbox/...`; `req.path` is the part after "/_sandbox".
pub fn handle(log: &Log, apis: &[Box<dyn Api>], req: &Request) -> Response {
    let api = |req: &Request| -> Result<&dyn Api, Response> {
        let name = req.query("api").unwrap_or("");
        apis.iter()
            .map(|a| a.as_ref())
            .find(|a| a.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = apis.iter().map(|a| a.name()).collect();
                Response::json(400, &json!({"error": "unknown api", "apis": names}))
            })
    };
    match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/faults") => {
            let fault = match req.json().map(serde_json::from_value::<Fault>) {
                Ok(Ok(f)) if !f.path.is_empty() => f,
                Ok(_) => {
                    return Response::json(400, &json!({"error": "a fault needs at least a path"}));
                }
                Err(response) => return response,
            };
            let echo = serde_json::to_value(&fault).unwrap_or(Value::Null);
            log.add_fault(fault);
            Response::json(201, &echo)
        }
        ("GET", "/received") => match api(req) {
            Ok(api) => {
                let list: Vec<Value> = log
                    .received(api.name())
                    .iter()
                    .map(Received::to_json)
                    .collect();
                Response::json(200, &Value::Array(list))
            }
            Err(response) => response,
        },
        ("GET", "/state") => match api(req) {
            Ok(api) => Response::json(200, &api.state()),
            Err(response) => response,
        },
        ("POST", "/reset") => {
            log.clear();
            apis.iter().for_each(|a| a.reset());
            Response::json(200, &json!({"reset": true}))
        }
        _ => api_control(apis, req).unwrap_or_else(|| {
            Response::json(404, &json!({"error": "no control endpoint at this path"}))
        }),
    }
}

/// `/_sandbox/{api}/{action}`: the API's own control actions.
fn api_control(apis: &[Box<dyn Api>], req: &Request) -> Option<Response> {
    let (name, action) = req.path.strip_prefix('/')?.split_once('/')?;
    let api = apis.iter().find(|a| a.name() == name)?;
    api.control(action, req)
}
