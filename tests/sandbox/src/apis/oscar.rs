//! OSCaR v1: devise_token_auth sign-in, and the organisation endpoints for clients
//! (list since a date, upsert, update links), which need the sign-in headers back.
//!
//! Seeded from tests/fixtures/sandbox/oscar-clients.json: the UNICEF Cambodia sample
//! clients plus synthetic ones (see tests/sandbox/README.md).

use std::sync::{Mutex, OnceLock};

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

use crate::apis::support::{parse_date, parse_time, random_from, scalar_text};
use crate::control::lock;
use crate::http::{Api, Request, Response};

pub const EMAIL: &str = "oscar@example.org";
pub const PASSWORD: &str = "oscar-secret";

const SEED: &str = include_str!("../../../fixtures/sandbox/oscar-clients.json");

const RECORD_ERROR: &str = "Record error. Please check OSCaR logs for details.";

/// Genders OSCaR accepts (or empty).
const GENDERS: &[&str] = &["male", "female", "other", "prefer_not_to_say", "unknown"];

const CROCKFORD: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

#[derive(Clone)]
struct Client {
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    fields: Map<String, Value>,
}

impl Client {
    fn text(&self, key: &str) -> Option<String> {
        self.fields
            .get(key)
            .and_then(scalar_text)
            .filter(|s| !s.is_empty())
    }

    fn referred(&self) -> bool {
        self.fields.get("is_referred").and_then(Value::as_bool) == Some(true)
    }
}

fn seed() -> &'static [Client] {
    static CLIENTS: OnceLock<Vec<Client>> = OnceLock::new();
    CLIENTS.get_or_init(|| {
        let seed: Value = serde_json::from_str(SEED).expect("the OSCaR seed is valid JSON");
        let time = |v: &Value| v.as_str().and_then(parse_time).unwrap_or_default();
        seed["clients"]
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| Client {
                        created_at: time(&e["created_at"]),
                        updated_at: time(&e["updated_at"]),
                        fields: e["client"].as_object().cloned().unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    })
}

struct Session {
    access_token: String,
    client: String,
    expiry: DateTime<Utc>,
}

struct Store {
    clients: Vec<Client>,
    sessions: Vec<Session>,
}

// Counts only: neither client content nor tokens in Debug output.
impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("clients", &self.clients.len())
            .field("sessions", &self.sessions.len())
            .finish()
    }
}

impl Store {
    fn seeded() -> Store {
        Store {
            clients: seed().to_vec(),
            sessions: Vec::new(),
        }
    }
}

/// The OSCaR stand-in.
#[derive(Debug)]
pub struct Oscar {
    store: Mutex<Store>,
}

impl Default for Oscar {
    fn default() -> Oscar {
        Oscar {
            store: Mutex::new(Store::seeded()),
        }
    }
}

/// devise_token_auth's tokens: 22 characters of URL-safe base64.
fn token() -> String {
    random_from(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
        22,
    )
}

/// A new global id: a ULID (26 Crockford base32 characters, time first).
fn global_id() -> String {
    let mut millis = Utc::now().timestamp_millis().max(0) as u64;
    let mut time = [b'0'; 10];
    for slot in time.iter_mut().rev() {
        *slot = CROCKFORD[(millis % 32) as usize];
        millis /= 32;
    }
    String::from_utf8_lossy(&time).into_owned() + &random_from(CROCKFORD, 16)
}

fn record_error(external_id: Option<&Value>) -> Response {
    match external_id {
        Some(id) => Response::json(422, &json!({"external_id": id, "message": RECORD_ERROR})),
        None => Response::json(422, &json!({"data": {"message": RECORD_ERROR}})),
    }
}

/// `since_date` as OSCaR's clients send it: `'2020-07-14 00:00:00'`, quotes included.
fn since(raw: &str) -> Option<DateTime<Utc>> {
    parse_time(raw.trim().trim_matches(|c| c == '\'' || c == '"'))
}

impl Oscar {
    pub fn new() -> Oscar {
        Oscar::default()
    }

    fn sign_in(&self, req: &Request) -> Response {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        if body["email"] != EMAIL || body["password"] != PASSWORD {
            return Response::json(
                401,
                &json!({"success": false, "errors": ["Invalid login credentials. Please try again."]}),
            );
        }
        let session = Session {
            access_token: token(),
            client: token(),
            expiry: Utc::now() + Duration::days(14),
        };
        let user = json!({"data": {
            "id": 20, "email": EMAIL, "provider": "email", "uid": EMAIL,
            "first_name": "External User", "last_name": "External User",
            "roles": "case worker", "admin": true, "organization_id": null,
            "preferred_language": "en"
        }});
        let response = Response::json(200, &user)
            .with_header("access-token", &session.access_token)
            .with_header("token-type", "Bearer")
            .with_header("client", &session.client)
            .with_header("expiry", &session.expiry.timestamp().to_string())
            .with_header("uid", EMAIL);
        let mut store = lock(&self.store);
        store.sessions.retain(|s| s.expiry > Utc::now());
        store.sessions.push(session);
        response
    }

    fn signed_in(&self, req: &Request) -> bool {
        let (Some(token), Some(client), Some(uid)) = (
            req.header("access-token"),
            req.header("client"),
            req.header("uid"),
        ) else {
            return false;
        };
        uid == EMAIL
            && lock(&self.store)
                .sessions
                .iter()
                .any(|s| s.access_token == token && s.client == client && s.expiry > Utc::now())
    }

    /// OSCaR's query, precedence included: `created_at >= t OR updated_at >= t AND
    /// referred_external`, so clients created since `t` come back referred or not.
    fn list(&self, req: &Request) -> Response {
        let since = match req.query("since_date").filter(|s| !s.is_empty()) {
            None => None,
            Some(raw) => match since(raw) {
                Some(t) => Some(t),
                None => {
                    return Response::json(
                        400,
                        &json!({"errors": ["since_date is not a date and time."]}),
                    );
                }
            },
        };
        let referred = req
            .query("referred_external")
            .is_some_and(|s| !s.is_empty());
        let store = lock(&self.store);
        let mut hits: Vec<&Client> = store
            .clients
            .iter()
            .filter(|c| match since {
                Some(t) => c.created_at >= t || (c.updated_at >= t && (!referred || c.referred())),
                None => !referred || c.referred(),
            })
            .collect();
        hits.sort_by_key(|c| std::cmp::Reverse(c.updated_at));
        let data: Vec<&Map<String, Value>> = hits.iter().map(|c| &c.fields).collect();
        Response::json(200, &json!({"data": data}))
    }

    fn upsert(&self, req: &Request) -> Response {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let Some(org) = body.get("organization").and_then(Value::as_object) else {
            return record_error(None);
        };
        let external_id = org.get("external_id");
        if org
            .get("organization_name")
            .and_then(scalar_text)
            .is_none_or(|s| s.is_empty())
        {
            return record_error(None);
        }
        let text = |key: &str| org.get(key).and_then(scalar_text).filter(|s| !s.is_empty());
        let dob_ok = text("date_of_birth").is_none_or(|d| parse_date(&d).is_some());
        let gender_ok = text("gender").is_none_or(|g| GENDERS.contains(&g.as_str()));
        let services_ok = org.get("services").is_none_or(|s| {
            s.is_null() || s.as_array().is_some_and(|a| a.iter().all(Value::is_object))
        });
        if !(dob_ok && gender_ok && services_ok) {
            return record_error(Some(external_id.unwrap_or(&Value::Null)));
        }
        let mut store = lock(&self.store);
        let by_global = text("global_id").and_then(|g| {
            store
                .clients
                .iter()
                .position(|c| c.text("global_id") == Some(g.clone()))
        });
        let found = by_global.or_else(|| {
            text("external_id").and_then(|e| {
                store
                    .clients
                    .iter()
                    .position(|c| c.text("external_id") == Some(e.clone()))
            })
        });
        let now = Utc::now();
        let index = match found {
            Some(i) => i,
            None => {
                if text("external_id").is_none() {
                    return record_error(Some(external_id.unwrap_or(&Value::Null)));
                }
                let mut fields = Map::new();
                fields.insert(
                    "slug".into(),
                    format!(
                        "{}-{}",
                        random_from(b"abcdefghijklmnopqrstuvwxyz", 4),
                        store.clients.len() + 2000
                    )
                    .into(),
                );
                fields.insert("global_id".into(), global_id().into());
                fields.insert("is_referred".into(), true.into());
                fields.insert("status".into(), "Referred".into());
                store.clients.push(Client {
                    created_at: now,
                    updated_at: now,
                    fields,
                });
                store.clients.len() - 1
            }
        };
        let client = &mut store.clients[index];
        for (key, value) in org {
            if key != "global_id" && key != "transaction_id" {
                client.fields.insert(key.clone(), value.clone());
            }
        }
        client.updated_at = now;
        Response::json(
            200,
            &json!({
                "external_id": client.fields.get("external_id").cloned().unwrap_or(Value::Null),
                "global_id": client.fields.get("global_id").cloned().unwrap_or(Value::Null),
                "message": "Record saved.",
            }),
        )
    }

    /// Sets external ids by global id; unknown global ids are listed as errors and make
    /// the answer a 422 (the known ones are still saved).
    fn update_links(&self, req: &Request) -> Response {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let Some(links) = body
            .get("data")
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
        else {
            return record_error(None);
        };
        let mut errors = Vec::new();
        let mut store = lock(&self.store);
        let now = Utc::now();
        for (index, link) in links.iter().enumerate() {
            let global = link
                .get("global_id")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty());
            let client = global.and_then(|g| {
                store
                    .clients
                    .iter_mut()
                    .find(|c| c.text("global_id").as_deref() == Some(g))
            });
            match client {
                Some(client) => {
                    for key in ["external_id", "external_id_display"] {
                        if let Some(v) = link.get(key) {
                            client.fields.insert(key.into(), v.clone());
                        }
                    }
                    client.updated_at = now;
                }
                None => errors.push(json!({
                    "index": index,
                    "global_id": global,
                    "message": "Record not found.",
                })),
            }
        }
        if errors.is_empty() {
            Response::json(200, &json!({"data": {"message": "Record saved."}}))
        } else {
            Response::json(
                422,
                &json!({"data": {"message": RECORD_ERROR, "errors": errors}}),
            )
        }
    }
}

impl Api for Oscar {
    fn name(&self) -> &'static str {
        "oscar"
    }

    fn handle(&self, req: &Request) -> Response {
        let path = req.path.trim_end_matches('/');
        let method = req.method.as_str();
        if path == "/api/v1/admin_auth/sign_in" && method == "POST" {
            return self.sign_in(req);
        }
        let route = match (method, path) {
            ("GET", "/api/v1/organizations/clients") => Oscar::list,
            ("POST", "/api/v1/organizations/clients/upsert") => Oscar::upsert,
            ("PUT", "/api/v1/organizations/clients/update_links") => Oscar::update_links,
            _ => return Response::json(404, &json!({"status": 404, "error": "Not Found"})),
        };
        if !self.signed_in(req) {
            return Response::json(
                401,
                &json!({"errors": ["You need to sign in or sign up before continuing."]}),
            );
        }
        route(self, req)
    }

    fn state(&self) -> Value {
        let store = lock(&self.store);
        let clients: Vec<Value> = store
            .clients
            .iter()
            .map(|c| {
                let mut v = Value::Object(c.fields.clone());
                v["created_at"] = c.created_at.to_rfc3339().into();
                v["updated_at"] = c.updated_at.to_rfc3339().into();
                v
            })
            .collect();
        json!({"clients": clients})
    }

    fn reset(&self) {
        *lock(&self.store) = Store::seeded();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_dates_arrive_quoted() {
        let want = parse_time("2020-07-14T00:00:00Z");
        assert_eq!(since("'2020-07-14 00:00:00'"), want);
        assert_eq!(since("2020-07-14 00:00:00"), want);
        assert_eq!(since("'not a date'"), None);
    }

    #[test]
    fn debug_output_shows_counts_not_clients() {
        let shown = format!("{:?}", Oscar::new());
        assert!(shown.contains("clients: 27"), "{shown}");
        assert!(!shown.contains("given_name"), "{shown}");
    }

    #[test]
    fn global_ids_are_ulids() {
        let id = global_id();
        assert_eq!(id.len(), 26);
        assert!(id.bytes().all(|b| CROCKFORD.contains(&b)));
    }

    #[test]
    fn the_seed_has_unique_global_ids() {
        let clients = seed();
        assert!(clients.len() > 20);
        let mut ids: Vec<String> = clients.iter().filter_map(|c| c.text("global_id")).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), clients.len());
    }
}
