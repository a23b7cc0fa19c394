//! Box tokens: the JWT grant of a server-auth app, the client-credentials
//! grant, or a developer token; held for the run and fetched again when
//! Box answers 401 (once per request) or when it is about to run out.

use super::args::{BoxArgs, BoxAuth};
use super::config::{AppConfig, read_app_config};
use crate::error::{Error, Exit, Result};
use crate::http::url::{encode_query_value, shown};
use crate::http::{Client, Method, Request, TokenSource, sign_rs256_jwt};
use crate::secret::{self, Secret};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::RsaKeyPair;
use serde_json::{Value, json};
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How far ahead the JWT assertion expires (Box allows up to 60 s).
pub const ASSERTION_SECONDS: u64 = 45;

const JWT_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// For whom a token is asked: the app's enterprise, or a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    /// "enterprise" or "user".
    pub kind: String,
    pub id: String,
}

/// How a token is had.
pub enum Grant {
    Jwt {
        app: Box<AppConfig>,
        subject: Subject,
    },
    ClientCredentials {
        client_id: String,
        client_secret: Secret,
        subject: Subject,
    },
    Developer(Secret),
}

impl fmt::Debug for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Grant::Jwt { app, subject } => f
                .debug_struct("Jwt")
                .field("app", app)
                .field("subject", subject)
                .finish(),
            Grant::ClientCredentials {
                client_id, subject, ..
            } => f
                .debug_struct("ClientCredentials")
                .field("client_id", client_id)
                .field("subject", subject)
                .finish_non_exhaustive(),
            Grant::Developer(_) => f.write_str("Developer(***)"),
        }
    }
}

impl Grant {
    /// The grant the flags and the environment configure: --auth, else
    /// JWT with --config (BOX_CONFIG), else client credentials with
    /// BOX_CLIENT_ID, else BOX_TOKEN. Everything is read and checked now
    /// (the key decrypted): a missing or bad setting is exit 78, a
    /// combination that makes no sense 64.
    pub fn from_args(args: &BoxArgs) -> Result<Grant> {
        let mode = match args.auth {
            Some(mode) => mode,
            None if args.config.is_some() => BoxAuth::Jwt,
            None if env_set("BOX_CLIENT_ID") => BoxAuth::Ccg,
            None if env_set("BOX_TOKEN") || env_set("BOX_TOKEN_FILE") => BoxAuth::Token,
            None => {
                return Err(Error::config(
                    "no Box credentials: give --config (or BOX_CONFIG) for a JWT app, or set BOX_CLIENT_ID, BOX_CLIENT_SECRET, BOX_SUBJECT_TYPE and BOX_SUBJECT_ID for client credentials, or BOX_TOKEN",
                ));
            }
        };
        if args.passphrase_env.is_some() && mode != BoxAuth::Jwt {
            return Err(Error::usage(format!(
                "--passphrase-env is for --auth jwt, not --auth {}",
                mode.name()
            )));
        }
        let user = |id: &str| Subject {
            kind: "user".into(),
            id: id.into(),
        };
        match mode {
            BoxAuth::Jwt => {
                let path = args.config.as_deref().ok_or_else(|| {
                    Error::config(
                        "--auth jwt needs --config FILE (or BOX_CONFIG): the app's box_config.json",
                    )
                })?;
                let app = read_app_config(path, args.passphrase_env.as_deref())?;
                let subject = match (&args.as_user, &app.enterprise_id) {
                    (Some(id), _) => user(id),
                    (None, Some(enterprise)) => Subject {
                        kind: "enterprise".into(),
                        id: enterprise.clone(),
                    },
                    (None, None) => {
                        return Err(Error::config(format!(
                            "--config {}: no enterpriseID in it; give --as-user ID to act as a user",
                            path.display()
                        )));
                    }
                };
                Ok(Grant::Jwt {
                    app: Box::new(app),
                    subject,
                })
            }
            BoxAuth::Ccg => {
                let mut missing = Vec::new();
                let mut plain = |name: &'static str| {
                    let value = std::env::var(name).unwrap_or_default();
                    if value.trim().is_empty() {
                        missing.push(name);
                    }
                    value.trim().to_string()
                };
                let client_id = plain("BOX_CLIENT_ID");
                let subject = match &args.as_user {
                    Some(id) => user(id),
                    None => Subject {
                        kind: plain("BOX_SUBJECT_TYPE"),
                        id: plain("BOX_SUBJECT_ID"),
                    },
                };
                let client_secret = secret::optional_from_env("BOX_CLIENT_SECRET")?;
                if client_secret.is_none() {
                    missing.push("BOX_CLIENT_SECRET");
                }
                if !missing.is_empty() {
                    return Err(Error::config(format!(
                        "--auth ccg: not set: {}",
                        missing.join(", ")
                    )));
                }
                if !matches!(subject.kind.as_str(), "enterprise" | "user") {
                    return Err(Error::config("BOX_SUBJECT_TYPE must be enterprise or user"));
                }
                Ok(Grant::ClientCredentials {
                    client_id,
                    client_secret: client_secret.unwrap_or_else(|| Secret::new("")),
                    subject,
                })
            }
            BoxAuth::Token => {
                if args.as_user.is_some() {
                    return Err(Error::usage(
                        "--as-user is for --auth jwt and ccg: a developer token acts as its own user",
                    ));
                }
                Ok(Grant::Developer(secret::from_env("BOX_TOKEN")?))
            }
        }
    }

    /// jwt, ccg or token.
    pub fn mode(&self) -> BoxAuth {
        match self {
            Grant::Jwt { .. } => BoxAuth::Jwt,
            Grant::ClientCredentials { .. } => BoxAuth::Ccg,
            Grant::Developer(_) => BoxAuth::Token,
        }
    }
}

fn env_set(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty())
}

/// The token held, and when to fetch a new one.
struct Held {
    token: Secret,
    refresh_at: Option<Instant>,
}

/// The [`TokenSource`] of the Box client.
pub struct BoxTokens {
    grant: Grant,
    token_url: String,
    held: Mutex<Option<Held>>,
    fetched: AtomicU32,
}

impl fmt::Debug for BoxTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoxTokens")
            .field("grant", &self.grant)
            .field("token_url", &shown(&self.token_url))
            .finish_non_exhaustive()
    }
}

impl BoxTokens {
    pub fn new(grant: Grant, token_url: String) -> BoxTokens {
        BoxTokens {
            grant,
            token_url,
            held: Mutex::new(None),
            fetched: AtomicU32::new(0),
        }
    }

    /// How many tokens were fetched in this run.
    pub fn fetched(&self) -> u32 {
        self.fetched.load(Ordering::Relaxed)
    }

    pub fn grant(&self) -> &Grant {
        &self.grant
    }

    /// The form body of the token request.
    fn grant_form(&self) -> Result<String> {
        let pairs: Vec<(&str, String)> = match &self.grant {
            Grant::Jwt { app, subject } => {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let assertion = sign_assertion(
                    &app.key,
                    &app.public_key_id,
                    &assertion_claims(&app.client_id, subject, &self.token_url, now, &jti()?),
                )?;
                vec![
                    ("grant_type", JWT_GRANT.into()),
                    ("assertion", assertion),
                    ("client_id", app.client_id.clone()),
                    ("client_secret", app.client_secret.expose().into()),
                ]
            }
            Grant::ClientCredentials {
                client_id,
                client_secret,
                subject,
            } => vec![
                ("grant_type", "client_credentials".into()),
                ("client_id", client_id.clone()),
                ("client_secret", client_secret.expose().into()),
                ("box_subject_type", subject.kind.clone()),
                ("box_subject_id", subject.id.clone()),
            ],
            Grant::Developer(_) => return Err(Error::software("no grant for a developer token")),
        };
        Ok(pairs
            .iter()
            .map(|(name, value)| format!("{name}={}", encode_query_value(value)))
            .collect::<Vec<_>>()
            .join("&"))
    }

    /// Ask Box for a token. A refusal (400, 401, 403) is exit 77 with
    /// Box's error code; 429 and 5xx were retried by the client.
    fn fetch(&self, client: &Client) -> Result<Held> {
        let what = match self.grant.mode() {
            BoxAuth::Jwt => "Box JWT grant",
            _ => "Box client-credentials grant",
        };
        let request = Request::with_body(
            Method::Post,
            self.token_url.clone(),
            "application/x-www-form-urlencoded",
            self.grant_form()?.into_bytes(),
        )
        .header("accept", "application/json");
        let started = Instant::now();
        let response = client.send_without_auth(&request)?;
        self.fetched.fetch_add(1, Ordering::Relaxed);
        let value = response.json().ok();
        let code = value
            .as_ref()
            .and_then(|v| v.get("error"))
            .and_then(Value::as_str)
            .map(|c| format!(" ({})", c.chars().take(60).collect::<String>()))
            .unwrap_or_default();
        match response.status {
            200..=299 => {}
            400 | 401 | 403 => {
                return Err(Error::new(
                    Exit::NoPerm,
                    format!(
                        "{what} at {}: HTTP {}{code}: the grant was refused (check the app's key and public key id, client id and secret, the enterprise or user, and that the app is authorized in the enterprise)",
                        shown(&self.token_url),
                        response.status
                    ),
                ));
            }
            _ => {
                return Err(response
                    .error()
                    .unwrap_or_else(|| Error::unavailable("the token request failed"))
                    .context(what));
            }
        }
        let token = value
            .as_ref()
            .and_then(|v| v.get("access_token"))
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Error::unavailable(format!(
                    "{what} at {}: HTTP {} without an access_token",
                    shown(&self.token_url),
                    response.status
                ))
            })?;
        let lifetime = value
            .as_ref()
            .and_then(|v| v.get("expires_in"))
            .and_then(Value::as_u64);
        // Fetch again a minute before Box's expiry, so that no request
        // leaves with a token that runs out on the way.
        let refresh_at =
            lifetime.map(|secs| started + Duration::from_secs(secs.saturating_sub(60).max(1)));
        Ok(Held {
            token: Secret::new(token),
            refresh_at,
        })
    }
}

impl TokenSource for BoxTokens {
    fn token(&self, client: &Client) -> Result<Secret> {
        if let Grant::Developer(token) = &self.grant {
            return Ok(token.clone());
        }
        let mut held = self
            .held
            .lock()
            .map_err(|_| Error::software("the token lock is poisoned"))?;
        if let Some(h) = held.as_ref()
            && h.refresh_at.is_none_or(|at| Instant::now() < at)
        {
            return Ok(h.token.clone());
        }
        let fresh = self.fetch(client)?;
        let token = fresh.token.clone();
        *held = Some(fresh);
        Ok(token)
    }

    fn forget(&self) -> bool {
        if matches!(self.grant, Grant::Developer(_)) {
            return false;
        }
        if let Ok(mut held) = self.held.lock() {
            *held = None;
        }
        true
    }
}

/// The claims of a JWT grant's assertion, `now` in seconds since the epoch.
pub fn assertion_claims(
    client_id: &str,
    subject: &Subject,
    audience: &str,
    now: u64,
    jti: &str,
) -> Value {
    json!({
        "iss": client_id,
        "sub": subject.id,
        "box_sub_type": subject.kind,
        "aud": audience,
        "jti": jti,
        "exp": now + ASSERTION_SECONDS,
    })
}

/// A random JWT id: 48 hex characters (Box wants 16 to 128).
fn jti() -> Result<String> {
    let mut bytes = [0u8; 24];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Error::software("no random numbers for the JWT id"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// An RS256 JWT with key id `kid` over `claims`.
pub fn sign_assertion(key: &RsaKeyPair, kid: &str, claims: &Value) -> Result<String> {
    sign_rs256_jwt(key, kid, claims)
        .map_err(|_| Error::software("signing the JWT assertion failed"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boxapi::config::parse_app_config;
    use crate::http::verified_jwt;

    fn fixture_app() -> Result<AppConfig> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/sandbox/box-app.key.pem");
        let pem = std::fs::read_to_string(path).unwrap_or_default();
        parse_app_config(
            &json!({
                "boxAppSettings": {"clientID": "cid", "clientSecret": "cs3cret",
                    "appAuth": {"publicKeyID": "sbkey001", "privateKey": pem,
                                "passphrase": "sandbox-box-passphrase"}},
                "enterpriseID": "900001"
            }),
            None,
        )
    }

    #[test]
    fn the_assertion_has_boxs_claims_and_verifies() -> Result<()> {
        let app = fixture_app()?;
        let subject = Subject {
            kind: "enterprise".into(),
            id: "900001".into(),
        };
        let aud = "https://api.box.com/oauth2/token";
        let id = jti()?;
        assert_eq!(id.len(), 48);
        assert_ne!(id, jti()?);
        let claims = assertion_claims("cid", &subject, aud, 1_000, &id);
        let jwt = sign_assertion(&app.key, "sbkey001", &claims)?;
        let (header, body) = verified_jwt(&jwt, &app.key);
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["kid"], "sbkey001");
        assert_eq!(body["iss"], "cid");
        assert_eq!(body["sub"], "900001");
        assert_eq!(body["box_sub_type"], "enterprise");
        assert_eq!(body["aud"], aud);
        assert_eq!(body["exp"], 1_045);
        assert_eq!(body["jti"], id.as_str());
        Ok(())
    }

    #[test]
    fn grant_forms_carry_the_subject_and_debug_hides_secrets() -> Result<()> {
        let tokens = BoxTokens::new(
            Grant::ClientCredentials {
                client_id: "cid".into(),
                client_secret: Secret::new("cs3cret"),
                subject: Subject {
                    kind: "user".into(),
                    id: "42".into(),
                },
            },
            "https://h/oauth2/token".into(),
        );
        let form = tokens.grant_form()?;
        assert_eq!(
            form,
            "grant_type=client_credentials&client_id=cid&client_secret=cs3cret&box_subject_type=user&box_subject_id=42"
        );
        assert!(!format!("{tokens:?}").contains("cs3cret"));
        let jwt = BoxTokens::new(
            Grant::Jwt {
                app: Box::new(fixture_app()?),
                subject: Subject {
                    kind: "enterprise".into(),
                    id: "900001".into(),
                },
            },
            "https://h/oauth2/token".into(),
        );
        let form = jwt.grant_form()?;
        assert!(form.starts_with(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="
        ));
        assert!(form.ends_with("&client_id=cid&client_secret=cs3cret"));
        assert!(!format!("{jwt:?}").contains("cs3cret"));
        let developer = BoxTokens::new(Grant::Developer(Secret::new("dev-t0ken")), String::new());
        assert!(!developer.forget());
        assert!(!format!("{developer:?}").contains("dev-t0ken"));
        Ok(())
    }
}
