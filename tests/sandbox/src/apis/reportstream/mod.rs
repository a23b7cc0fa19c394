//! ReportStream: a token for a signed client assertion, and CSV reports checked
//! against the sender's column list and code maps.

pub(crate) mod jwt;
mod report;

pub use report::COLUMNS;

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use chrono::{SecondsFormat, TimeZone, Utc};
use serde_json::{Value, json};

use crate::control::lock;
use crate::http::{Api, Request, Response};

pub const ORG: &str = "simple_report";
/// The sender's key id, JWT issuer and subject.
pub const SENDER: &str = "simple_report.default";
pub const SCOPE: &str = "simple_report.*.report";
pub const FUNCTION_KEY: &str = "rs-function-key";
pub const TOKEN_SECONDS: i64 = 300;
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Leeway for the sender's clock.
const SKEW_SECONDS: i64 = 60;
/// The options ReportStream knows; SimpleReport sends SkipInvalidItems.
const OPTIONS: &[&str] = &[
    "None",
    "ValidatePayload",
    "CheckConnections",
    "SkipSend",
    "SendImmediately",
    "SkipInvalidItems",
];

#[derive(Debug, Default)]
struct Store {
    /// Issued token -> expiry (unix seconds).
    tokens: HashMap<String, i64>,
    used_jtis: HashSet<String>,
    reports: Vec<Value>,
}

/// The ReportStream stand-in; starts with no reports.
#[derive(Debug)]
pub struct ReportStream {
    sender_key: Vec<u8>,
    store: Mutex<Store>,
}

impl Default for ReportStream {
    fn default() -> ReportStream {
        ReportStream::new()
    }
}

impl ReportStream {
    pub fn new() -> ReportStream {
        ReportStream {
            sender_key: jwt::sender_key(),
            store: Mutex::default(),
        }
    }

    fn token(&self, req: &Request) -> Response {
        let now = Utc::now().timestamp();
        match self.check_assertion(req, now) {
            Ok(()) => {
                let token = format!("rs-sandbox-{}", uuid::Uuid::new_v4().simple());
                let expires_at = now + TOKEN_SECONDS;
                lock(&self.store).tokens.insert(token.clone(), expires_at);
                Response::json(
                    200,
                    &json!({"access_token": token, "token_type": "bearer",
                            "expires_in": TOKEN_SECONDS, "expires_at_seconds": expires_at,
                            "scope": SCOPE}),
                )
            }
            Err(why) => unauthorized(why),
        }
    }

    fn check_assertion(&self, req: &Request, now: i64) -> Result<(), &'static str> {
        if req.query("grant_type") != Some("client_credentials") {
            return Err("grant_type must be client_credentials");
        }
        if req.query("client_assertion_type") != Some(ASSERTION_TYPE) {
            return Err("client_assertion_type must be the JWT bearer type");
        }
        if req.query("scope") != Some(SCOPE) {
            return Err("scope must be simple_report.*.report");
        }
        let assertion = req
            .query("client_assertion")
            .ok_or("client_assertion is missing")?;
        let (header, claims) = jwt::verify(assertion, &self.sender_key)?;
        if header["kid"] != SENDER {
            return Err("the JWT kid is not a known sender key");
        }
        if claims["iss"] != SENDER || claims["sub"] != SENDER {
            return Err("the JWT iss and sub must be the sender");
        }
        if !audience_matches(&claims["aud"], &req.host) {
            return Err("the JWT aud is not this host");
        }
        let exp = claims["exp"].as_i64().ok_or("the JWT has no numeric exp")?;
        if exp <= now - SKEW_SECONDS {
            return Err("the JWT has expired");
        }
        if exp > now + TOKEN_SECONDS + SKEW_SECONDS {
            return Err("the JWT exp is too far ahead");
        }
        let jti = claims["jti"]
            .as_str()
            .filter(|j| !j.is_empty())
            .ok_or("the JWT has no jti")?;
        if !lock(&self.store).used_jtis.insert(jti.to_string()) {
            return Err("the JWT jti was used before");
        }
        Ok(())
    }

    fn authorized(&self, req: &Request) -> bool {
        if req.header("x-functions-key") == Some(FUNCTION_KEY) {
            return true;
        }
        let now = Utc::now().timestamp();
        req.bearer()
            .and_then(|t| lock(&self.store).tokens.get(t).copied())
            .is_some_and(|expires_at| expires_at > now)
    }

    fn report(&self, req: &Request, endpoint: &str) -> Response {
        if !self.authorized(req) {
            return unauthorized("no valid token or function key");
        }
        let client = req.header("client").unwrap_or("");
        if client.is_empty() {
            return invalid(parameter_error(
                "client",
                "Expected a 'client' request header",
            ));
        }
        if client != ORG && client != SENDER {
            return invalid(parameter_error(
                "client",
                "The 'client' header names no known sender",
            ));
        }
        let option = req.query("option");
        if option.is_some_and(|o| !OPTIONS.contains(&o)) {
            return invalid(parameter_error(
                "option",
                "The 'option' parameter is not a known option",
            ));
        }
        let content_type = req
            .header("content-type")
            .and_then(|c| c.split(';').next())
            .map(|c| c.trim().to_ascii_lowercase())
            .unwrap_or_default();
        if req.body.iter().all(u8::is_ascii_whitespace) {
            return invalid(report::report_error(
                None,
                "Expected a body: the report is empty",
            ));
        }
        let (item_count, tracking_ids, warnings) = match content_type.as_str() {
            "text/csv" => match report::check_csv(&req.body) {
                Ok(checked) => (checked.item_count, checked.tracking_ids, checked.warnings),
                Err(errors) => return answer(400, None, 0, errors, Vec::new()),
            },
            "application/hl7-v2" | "application/fhir+ndjson" => (
                report::count_items(&content_type, &req.body),
                Vec::new(),
                Vec::new(),
            ),
            _ => {
                return invalid(parameter_error(
                    "content-type",
                    "Expected content type text/csv, application/hl7-v2 or application/fhir+ndjson",
                ));
            }
        };
        let mut store = lock(&self.store);
        let submission_id = store.reports.len() as u64 + 1;
        let id = uuid::Uuid::new_v4().to_string();
        store.reports.push(json!({
            "id": id, "submissionId": submission_id, "endpoint": endpoint, "client": client,
            "contentType": content_type, "option": option, "itemCount": item_count,
            "trackingIds": tracking_ids, "warningCount": warnings.len(),
        }));
        answer(
            201,
            Some((id, submission_id)),
            item_count,
            Vec::new(),
            warnings,
        )
    }
}

impl Api for ReportStream {
    fn name(&self) -> &'static str {
        "reportstream"
    }

    fn handle(&self, req: &Request) -> Response {
        match (req.method.as_str(), req.path.as_str()) {
            ("POST", "/api/token") => self.token(req),
            ("POST", "/api/reports") => self.report(req, "reports"),
            ("POST", "/api/waters") => self.report(req, "waters"),
            _ => Response::json(404, &json!({"error": "Not Found"})),
        }
    }

    fn state(&self) -> Value {
        let store = lock(&self.store);
        json!({"reports": store.reports, "tokens_issued": store.tokens.len()})
    }

    fn reset(&self) {
        *lock(&self.store) = Store::default();
    }
}

/// `aud` is the host the client connected to, with or without the port.
fn audience_matches(aud: &Value, host: &str) -> bool {
    let host_only = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    let ok = |a: &str| !host.is_empty() && (a == host || a == host_only);
    match aud {
        Value::String(a) => ok(a),
        Value::Array(list) => list.iter().filter_map(Value::as_str).any(ok),
        _ => false,
    }
}

fn unauthorized(why: &str) -> Response {
    Response::text(401, &format!("Unauthorized: {why}\n"))
}

fn parameter_error(field: &str, message: &str) -> Value {
    json!({"scope": "parameter", "indices": [], "trackingIds": [], "field": field, "message": message})
}

fn invalid(error: Value) -> Response {
    answer(400, None, 0, vec![error], Vec::new())
}

/// The submission answer of APIS.md; `id` is None when the report was refused.
fn answer(
    status: u16,
    id: Option<(String, u64)>,
    item_count: usize,
    errors: Vec<Value>,
    warnings: Vec<Value>,
) -> Response {
    let now = Utc::now();
    let timestamp = now.to_rfc3339_opts(SecondsFormat::Millis, true);
    let accepted = id.is_some();
    let sending_at = Utc
        .timestamp_opt(now.timestamp() + 60, 0)
        .single()
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true));
    let destinations = if accepted {
        json!([{"organization_id": "sandbox_phd", "service": "elr",
                "itemCount": item_count, "sending_at": sending_at}])
    } else {
        json!([])
    };
    let (id, submission_id) =
        id.map_or((Value::Null, Value::Null), |(id, s)| (json!(id), json!(s)));
    Response::json(
        status,
        &json!({
            "id": id, "submissionId": submission_id,
            "overallStatus": if accepted { "Received" } else { "Error" },
            "timestamp": timestamp, "reportItemCount": item_count,
            "destinations": destinations,
            "destinationCount": if accepted { 1 } else { 0 },
            "errorCount": errors.len(), "warningCount": warnings.len(),
            "errors": errors, "warnings": warnings,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_bearer(token: &str) -> Request {
        Request {
            method: "POST".into(),
            path: "/api/reports".into(),
            raw_query: String::new(),
            query: Vec::new(),
            headers: vec![("authorization".into(), format!("Bearer {token}"))],
            body: Vec::new(),
            base_url: "https://127.0.0.1:1/reportstream".into(),
            host: "127.0.0.1:1".into(),
        }
    }

    #[test]
    fn an_expired_token_is_refused() {
        let rs = ReportStream::new();
        let now = Utc::now().timestamp();
        lock(&rs.store).tokens.insert("old".into(), now - 1);
        lock(&rs.store).tokens.insert("fresh".into(), now + 100);
        assert!(!rs.authorized(&with_bearer("old")));
        assert!(rs.authorized(&with_bearer("fresh")));
        assert!(!rs.authorized(&with_bearer("never-issued")));
    }

    #[test]
    fn the_audience_is_the_host_with_or_without_port() {
        assert!(audience_matches(&json!("127.0.0.1:8443"), "127.0.0.1:8443"));
        assert!(audience_matches(&json!("127.0.0.1"), "127.0.0.1:8443"));
        assert!(audience_matches(&json!("[::1]"), "[::1]:8443"));
        assert!(!audience_matches(
            &json!("127.0.0.1:9999"),
            "127.0.0.1:8443"
        ));
        assert!(!audience_matches(&json!(""), ""));
        assert!(!audience_matches(&json!(42), "127.0.0.1"));
    }
}
