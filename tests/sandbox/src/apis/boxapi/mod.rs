//! Box: JWT and client-credentials tokens, folders, simple and chunked uploads, new
//! versions, downloads through a redirect, move and delete. Files are held in memory
//! (the current content of each file, one copy), under the prefix "/box":
//! `/box/oauth2/token`, `/box/2.0/...`, `/box/upload/api/2.0/...`, `/box/dl/...`.

mod auth;
mod chunked;
mod items;
mod multipart;
mod tree;
mod upload;

use std::sync::Mutex;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::control::lock;
use crate::http::{Api, Request, Response};

pub use auth::BoxApp;

/// The default app (its public key is tests/fixtures/sandbox/box-app.pub.pem).
pub const CLIENT_ID: &str = "sandbox-box-client";
pub const CLIENT_SECRET: &str = "sandbox-box-secret";
pub const PUBLIC_KEY_ID: &str = "sbkey001";
pub const ENTERPRISE_ID: &str = "900001";
/// The passphrase of tests/fixtures/sandbox/box-app.key.pem.
pub const PASSPHRASE: &str = "sandbox-box-passphrase";
/// The default app's public key.
pub const PUBLIC_KEY_PEM: &str = include_str!("../../../../fixtures/sandbox/box-app.pub.pem");
/// The default app's private key: encrypted PKCS#8, unlocked by PASSPHRASE.
pub const PRIVATE_KEY_PEM: &str = include_str!("../../../../fixtures/sandbox/box-app.key.pem");
/// A developer token that works until tokens are expired (or the sandbox is reset).
pub const DEVELOPER_TOKEN: &str = "sandboxBoxDeveloperToken00000000";
/// How long an issued access token lasts.
pub const TOKEN_SECONDS: i64 = 3600;
/// The part size of upload sessions.
pub const PART_SIZE: u64 = 8_388_608;
/// The smallest file an upload session accepts (without `x-sandbox-part-size`).
pub const MIN_SESSION_FILE_SIZE: u64 = 20_000_000;

/// The seeded folders (ids and names), see the README.
pub const ROOT: &str = "0";
pub const PARENT: &str = "100001";
pub const DAILY_DRIVE_THRU: &str = "100002";
pub const TRANSPORTATION: &str = "100003";
pub const BUSINESS_LIAISONS: &str = "100004";
pub const TO_CITY: &str = "100005";
pub const FROM_CITY: &str = "100006";
pub const PROCESSED: &str = "100007";
pub const SUCCESS: &str = "100008";
pub const ERROR: &str = "100009";
pub const PRINTER_PDFS: &str = "100010";
/// The seeded files in `from city`.
pub const APPROVALS_1: &str = "200001";
pub const APPROVALS_2: &str = "200002";

/// A JWT app's box_config.json, in the shape Box's developer console
/// hands it out, for the sandbox's enterprise.
pub fn app_config(
    client_id: &str,
    client_secret: &str,
    public_key_id: &str,
    private_key_pem: &str,
    passphrase: &str,
) -> Value {
    json!({
        "boxAppSettings": {"clientID": client_id, "clientSecret": client_secret,
            "appAuth": {"publicKeyID": public_key_id, "privateKey": private_key_pem,
                        "passphrase": passphrase}},
        "enterpriseID": ENTERPRISE_ID
    })
}

/// The default app's box_config.json, with `passphrase` (PASSPHRASE
/// unlocks its key).
pub fn default_app_config(passphrase: &str) -> Value {
    app_config(
        CLIENT_ID,
        CLIENT_SECRET,
        PUBLIC_KEY_ID,
        PRIVATE_KEY_PEM,
        passphrase,
    )
}

struct Store {
    auth: auth::Auth,
    tree: tree::Tree,
    sessions: chunked::Sessions,
}

impl Store {
    fn seed() -> Store {
        Store {
            auth: auth::Auth::seed(),
            tree: tree::Tree::seed(),
            sessions: chunked::Sessions::default(),
        }
    }
}

/// The Box stand-in.
pub struct BoxCom {
    store: Mutex<Store>,
}

impl std::fmt::Debug for BoxCom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let store = lock(&self.store);
        f.debug_struct("BoxCom")
            .field("folders", &store.tree.folder_count())
            .field("files", &store.tree.file_count())
            .field("sessions", &store.sessions.len())
            .finish_non_exhaustive()
    }
}

impl Default for BoxCom {
    fn default() -> BoxCom {
        BoxCom::new()
    }
}

impl BoxCom {
    pub fn new() -> BoxCom {
        BoxCom {
            store: Mutex::new(Store::seed()),
        }
    }

    fn api(&self, req: &Request, upload: bool, rest: &str) -> Response {
        if let Err(response) = lock(&self.store).auth.check_bearer(req) {
            return response;
        }
        let segments: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
        let method = req.method.as_str();
        let mut store = lock(&self.store);
        let store = &mut *store;
        match (upload, method, segments.as_slice()) {
            (false, "POST", ["folders"]) => items::create_folder(&mut store.tree, req),
            (false, "GET", ["folders", id]) => items::get_folder(&store.tree, req, id),
            (false, "GET", ["folders", id, "items"]) => items::list(&store.tree, req, id),
            (false, "OPTIONS", ["files", "content"]) => upload::preflight(&store.tree, req),
            (false, "GET", ["files", id]) => items::get_file(&store.tree, req, id),
            (false, "PUT", ["files", id]) => items::update_file(&mut store.tree, req, id),
            (false, "DELETE", ["files", id]) => items::delete_file(&mut store.tree, req, id),
            (false, "GET", ["files", id, "content"]) => items::download(&mut store.tree, req, id),
            (true, "POST", ["files", "content"]) => upload::simple(&mut store.tree, req),
            (true, "POST", ["files", "upload_sessions"]) => chunked::create(store, req, None),
            (true, "POST", ["files", id, "upload_sessions"]) => {
                chunked::create(store, req, Some(*id))
            }
            (true, "GET", ["files", "upload_sessions", sid]) => {
                chunked::status(&store.sessions, req, sid)
            }
            (true, "PUT", ["files", "upload_sessions", sid]) => {
                chunked::part(&mut store.sessions, req, sid)
            }
            (true, "DELETE", ["files", "upload_sessions", sid]) => {
                chunked::abort(&mut store.sessions, sid)
            }
            (true, "GET", ["files", "upload_sessions", sid, "parts"]) => {
                chunked::parts(&store.sessions, req, sid)
            }
            (true, "POST", ["files", "upload_sessions", sid, "commit"]) => {
                chunked::commit(store, req, sid)
            }
            (true, "POST", ["files", id, "content"]) => upload::version(&mut store.tree, req, id),
            _ => error(404, "not_found", "Not Found"),
        }
    }

    fn control_action(&self, action: &str, req: &Request) -> Option<Response> {
        if req.method != "POST" {
            return None;
        }
        let body = match req.json() {
            Ok(body) => body,
            Err(_) if req.body.iter().all(u8::is_ascii_whitespace) => json!({}),
            Err(response) => return Some(response),
        };
        let mut store = lock(&self.store);
        Some(match action {
            "expire-tokens" => {
                let expired = store.auth.expire_all();
                Response::json(200, &json!({"expired": expired}))
            }
            "apps" => match serde_json::from_value::<BoxApp>(body) {
                Ok(app) => match store.auth.register(&app) {
                    Ok(()) => Response::json(
                        201,
                        &json!({"client_id": app.client_id, "public_key_id": app.public_key_id,
                                "enterprise_id": app.enterprise_id}),
                    ),
                    Err(why) => Response::json(400, &json!({"error": why})),
                },
                Err(_) => Response::json(
                    400,
                    &json!({"error": "an app needs client_id, client_secret, public_key_id, public_key_pem and enterprise_id"}),
                ),
            },
            "folders" => {
                let parent = body["parent_id"].as_str().unwrap_or(ROOT);
                let name = body["name"].as_str().unwrap_or("");
                match store.tree.add_folder_checked(parent, name) {
                    Ok(id) => Response::json(201, &json!({"id": id})),
                    Err(why) => Response::json(400, &json!({"error": why})),
                }
            }
            "files" => {
                let parent = body["parent_id"].as_str().unwrap_or(ROOT);
                let name = body["name"].as_str().unwrap_or("");
                let content = match (&body["content"], &body["content_base64"]) {
                    (Value::String(text), _) => text.as_bytes().to_vec(),
                    (_, Value::String(b64)) => {
                        match base64::engine::general_purpose::STANDARD.decode(b64) {
                            Ok(bytes) => bytes,
                            Err(_) => {
                                return Some(Response::json(
                                    400,
                                    &json!({"error": "content_base64 is not base64"}),
                                ));
                            }
                        }
                    }
                    _ => Vec::new(),
                };
                let sha1 = sha1_hex(&content);
                let size = content.len();
                match store.tree.add_file_checked(parent, name, content, &sha1) {
                    Ok(id) => Response::json(201, &json!({"id": id, "sha1": sha1, "size": size})),
                    Err(why) => Response::json(400, &json!({"error": why})),
                }
            }
            _ => return None,
        })
    }
}

impl Api for BoxCom {
    fn name(&self) -> &'static str {
        "box"
    }

    fn handle(&self, req: &Request) -> Response {
        let path = req.path.as_str();
        if path == "/oauth2/token" {
            return match req.method.as_str() {
                "POST" => lock(&self.store).auth.token(req),
                _ => error(405, "method_not_allowed", "Method Not Allowed"),
            };
        }
        if let Some(key) = path.strip_prefix("/dl/") {
            return match req.method.as_str() {
                "GET" | "HEAD" => lock(&self.store).tree.serve_download(key),
                _ => error(405, "method_not_allowed", "Method Not Allowed"),
            };
        }
        if let Some(rest) = path.strip_prefix("/upload/api/2.0/") {
            return self.api(req, true, rest);
        }
        if let Some(rest) = path.strip_prefix("/2.0/") {
            return self.api(req, false, rest);
        }
        error(404, "not_found", "Not Found")
    }

    fn state(&self) -> Value {
        let store = lock(&self.store);
        let mut state = store.tree.state();
        state["sessions"] = store.sessions.state();
        let auth = store.auth.state();
        if let (Value::Object(state), Value::Object(auth)) = (&mut state, auth) {
            state.extend(auth);
        }
        state
    }

    fn reset(&self) {
        *lock(&self.store) = Store::seed();
    }

    fn control(&self, action: &str, req: &Request) -> Option<Response> {
        self.control_action(action, req)
    }
}

/// Box's error shape: `{"type":"error","status","code","help_url","message","request_id"}`.
pub(crate) fn error(status: u16, code: &str, message: &str) -> Response {
    error_with(status, code, message, None)
}

/// The same with a `context_info`.
pub(crate) fn error_with(
    status: u16,
    code: &str,
    message: &str,
    context_info: Option<Value>,
) -> Response {
    let mut body = json!({
        "type": "error", "status": status, "code": code,
        "help_url": "http://developers.box.com/docs/#errors",
        "message": message,
        "request_id": super::support::random_alnum(16).to_ascii_lowercase(),
    });
    if let Some(context_info) = context_info {
        body["context_info"] = context_info;
    }
    Response::json(status, &body)
}

/// The hex SHA-1 of `bytes` (what Box calls `sha1`).
pub(crate) fn sha1_hex(bytes: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, bytes).as_ref())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// "2026-11-23T17:05:16+00:00", as Box writes times.
pub(crate) fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// Whether the client asked for `context_info.conflicts` as a list (`x-sandbox-conflicts-as`),
/// else `default`.
pub(crate) fn conflicts_as_list(req: &Request, default: bool) -> bool {
    match req.header("x-sandbox-conflicts-as").map(str::trim) {
        Some(v) if v.eq_ignore_ascii_case("list") => true,
        Some(v) if v.eq_ignore_ascii_case("object") => false,
        _ => default,
    }
}
