//! Primero v2: token login, and cases (list with filters and paging, show, create, PATCH)
//! behind the bearer token.
//!
//! Seeded from tests/fixtures/sandbox/primero-cases.json: the UNICEF Cambodia sample cases
//! in v2 shape, plus synthetic ones (see tests/sandbox/README.md).

mod cases;

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::Utc;
use serde_json::{Map, Value, json};

use crate::apis::support::{iso_millis, random_bytes};
use crate::control::lock;
use crate::http::{Api, Request, Response};

pub const USER: &str = "primero_user";
pub const PASSWORD: &str = "primero-secret";

/// Tokens last 60 minutes; a login may ask for less with `x-sandbox-token-ttl: SECONDS`.
const TOKEN_LIFETIME: Duration = Duration::from_secs(60 * 60);

const SEED: &str = include_str!("../../../fixtures/sandbox/primero-cases.json");

fn seed() -> &'static [Map<String, Value>] {
    static CASES: OnceLock<Vec<Map<String, Value>>> = OnceLock::new();
    CASES.get_or_init(|| {
        let seed: Value = serde_json::from_str(SEED).expect("the Primero seed is valid JSON");
        seed["cases"]
            .as_array()
            .map(|cases| {
                cases
                    .iter()
                    .filter_map(|c| c.as_object().cloned())
                    .collect()
            })
            .unwrap_or_default()
    })
}

struct Store {
    cases: Vec<Map<String, Value>>,
    tokens: Vec<(String, Instant)>,
}

// Counts only: neither case content nor tokens in Debug output.
impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("cases", &self.cases.len())
            .field("tokens", &self.tokens.len())
            .finish()
    }
}

impl Store {
    fn seeded() -> Store {
        Store {
            cases: seed().to_vec(),
            tokens: Vec::new(),
        }
    }
}

/// The Primero stand-in.
#[derive(Debug)]
pub struct Primero {
    store: Mutex<Store>,
}

impl Default for Primero {
    fn default() -> Primero {
        Primero {
            store: Mutex::new(Store::seeded()),
        }
    }
}

enum TokenCheck {
    Valid,
    Expired,
    Missing,
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A token shaped like Primero's devise-jwt tokens (header.claims.signature).
fn mint_token(lifetime: Duration) -> String {
    let now = Utc::now().timestamp();
    let claims = json!({
        "sub": "1", "scp": "user", "aud": null, "iat": now,
        "exp": now + lifetime.as_secs() as i64,
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    format!(
        "{}.{}.{}",
        b64(br#"{"alg":"HS256","typ":"JWT"}"#),
        b64(claims.to_string().as_bytes()),
        b64(&random_bytes(32))
    )
}

impl Primero {
    pub fn new() -> Primero {
        Primero::default()
    }

    fn login(&self, req: &Request) -> Response {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let user = &body["user"];
        if user["user_name"] != USER || user["password"] != PASSWORD {
            return Response::json(401, &json!({"error": "Invalid User name or password."}));
        }
        let lifetime = req
            .header("x-sandbox-token-ttl")
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map_or(TOKEN_LIFETIME, Duration::from_secs);
        let token = mint_token(lifetime);
        let mut store = lock(&self.store);
        store.tokens.retain(|(_, until)| *until > Instant::now());
        store
            .tokens
            .push((token.clone(), Instant::now() + lifetime));
        let body = if req
            .header("x-sandbox-token-in-body")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"))
        {
            json!({"id": 1, "user_name": USER})
        } else {
            json!({"id": 1, "user_name": USER, "token": token})
        };
        Response::json(200, &body).with_header("authorization", &format!("Bearer {token}"))
    }

    fn logout(&self, req: &Request) -> Response {
        if let Some(token) = req.bearer() {
            lock(&self.store).tokens.retain(|(t, _)| t != token);
        }
        Response::json(200, &json!({"data": {}}))
    }

    fn check_token(&self, req: &Request) -> TokenCheck {
        let Some(token) = req.bearer() else {
            return TokenCheck::Missing;
        };
        let store = lock(&self.store);
        match store.tokens.iter().find(|(t, _)| t == token) {
            Some((_, until)) if *until > Instant::now() => TokenCheck::Valid,
            Some(_) => TokenCheck::Expired,
            None => TokenCheck::Missing,
        }
    }

    fn list(&self, req: &Request) -> Response {
        let query = cases::ListQuery::parse(&req.query);
        let store = lock(&self.store);
        let (data, total) = query.run(&store.cases);
        Response::json(
            200,
            &json!({"data": data, "metadata": {"total": total, "per": query.per, "page": query.page}}),
        )
    }

    fn show(&self, id: &str, resource: &str) -> Response {
        let store = lock(&self.store);
        match store.cases.iter().find(|c| c["id"] == id) {
            Some(case) => Response::json(200, &json!({"data": case})),
            None => not_found(resource),
        }
    }

    fn create(&self, req: &Request, resource: &str) -> Response {
        let data = match record_data(req, resource) {
            Ok(data) => data,
            Err(refusal) => return refusal,
        };
        let mut store = lock(&self.store);
        let id = match data.get("id").and_then(Value::as_str) {
            Some(id) if store.cases.iter().any(|c| c["id"] == id) => {
                return Response::json(
                    409,
                    &cases::errors(
                        409,
                        "Conflict: A record with this id already exists",
                        resource,
                        None,
                    ),
                );
            }
            Some(id) => id.to_string(),
            None => uuid::Uuid::new_v4().to_string(),
        };
        let now = iso_millis(Utc::now());
        let mut case = Map::new();
        case.insert("id".into(), id.into());
        case.insert("status".into(), "open".into());
        case.insert("record_state".into(), true.into());
        cases::merge(&mut case, &data);
        let case_id = match case.get("case_id").and_then(Value::as_str) {
            Some(case_id) => case_id.to_string(),
            None => uuid::Uuid::new_v4().to_string(),
        };
        let display: String = case_id
            .chars()
            .skip(case_id.chars().count().saturating_sub(7))
            .collect();
        case.insert("case_id".into(), case_id.into());
        case.entry("case_id_display")
            .or_insert_with(|| display.clone().into());
        case.entry("short_id").or_insert_with(|| display.into());
        case.insert("created_at".into(), now.clone().into());
        case.insert("last_updated_at".into(), now.into());
        store.cases.push(case.clone());
        Response::json(200, &json!({"data": case}))
    }

    fn update(&self, id: &str, req: &Request, resource: &str) -> Response {
        let data = match record_data(req, resource) {
            Ok(data) => data,
            Err(refusal) => return refusal,
        };
        let mut store = lock(&self.store);
        let Some(case) = store.cases.iter_mut().find(|c| c["id"] == id) else {
            return not_found(resource);
        };
        cases::merge(case, &data);
        case.insert("last_updated_at".into(), iso_millis(Utc::now()).into());
        Response::json(200, &json!({"data": case}))
    }
}

fn not_found(resource: &str) -> Response {
    Response::json(404, &cases::errors(404, "Not Found", resource, None))
}

/// The `data` object of a create or update, validated; else the 422 to answer.
fn record_data(req: &Request, resource: &str) -> Result<Map<String, Value>, Response> {
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let Some(data) = body.get("data").and_then(Value::as_object) else {
        return Err(Response::json(
            422,
            &cases::errors(
                422,
                "param is missing or the value is empty: data",
                resource,
                None,
            ),
        ));
    };
    let invalid = cases::invalid_fields(data);
    if !invalid.is_empty() {
        return Err(Response::json(
            422,
            &cases::errors(422, "Invalid Record JSON", resource, Some(json!(invalid))),
        ));
    }
    Ok(data.clone())
}

impl Api for Primero {
    fn name(&self) -> &'static str {
        "primero"
    }

    fn handle(&self, req: &Request) -> Response {
        let resource = req.path.as_str();
        let path = resource.trim_end_matches('/');
        let method = req.method.as_str();
        if path == "/api/v2/tokens" {
            return match method {
                "POST" => self.login(req),
                "DELETE" => self.logout(req),
                _ => not_found(resource),
            };
        }
        let case_id = match path.strip_prefix("/api/v2/cases") {
            Some("") => None,
            Some(rest) => match rest.strip_prefix('/') {
                Some(id) if !id.contains('/') => Some(id),
                _ => return not_found(resource),
            },
            None => return not_found(resource),
        };
        match self.check_token(req) {
            TokenCheck::Valid => {}
            TokenCheck::Missing => {
                return Response::json(
                    401,
                    &json!({"error": "You need to sign in or sign up before continuing."}),
                );
            }
            TokenCheck::Expired => {
                return Response::json(
                    401,
                    &cases::errors(401, "Signature has expired", resource, None),
                );
            }
        }
        match (method, case_id) {
            ("GET", None) => self.list(req),
            ("POST", None) => self.create(req, resource),
            ("GET", Some(id)) => self.show(id, resource),
            ("PATCH", Some(id)) => self.update(id, req, resource),
            _ => not_found(resource),
        }
    }

    fn state(&self) -> Value {
        json!({"cases": lock(&self.store).cases})
    }

    fn reset(&self) {
        *lock(&self.store) = Store::seeded();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_spans_three_pages_and_passes_validation() {
        let cases = seed();
        assert!(cases.len() > 40, "{}", cases.len());
        for case in cases {
            assert!(case["id"].is_string() && case["case_id"].is_string());
            assert!(case["created_at"].is_string() && case["last_updated_at"].is_string());
            assert_eq!(
                cases::invalid_fields(case),
                Vec::<String>::new(),
                "{}",
                case["id"]
            );
        }
        let mut ids: Vec<&Value> = cases.iter().map(|c| &c["id"]).collect();
        ids.sort_by_key(|v| v.as_str());
        ids.dedup();
        assert_eq!(ids.len(), cases.len());
    }

    #[test]
    fn debug_output_shows_counts_not_cases() {
        let shown = format!("{:?}", Primero::new());
        assert!(shown.contains("cases: 48"), "{shown}");
        assert!(!shown.contains("name_first"), "{shown}");
    }

    #[test]
    fn tokens_look_like_jwts() {
        let token = mint_token(TOKEN_LIFETIME);
        assert_eq!(token.split('.').count(), 3);
    }
}
