//! Box's token endpoint (JWT and client-credentials grants), the apps it knows, and the
//! bearer check of every API call.

use std::collections::{HashMap, HashSet};

use base64::Engine as _;
use ring::signature::{
    RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_2048_8192_SHA384, RSA_PKCS1_2048_8192_SHA512,
    UnparsedPublicKey,
};
use rustls_pki_types::SubjectPublicKeyInfoDer;
use rustls_pki_types::pem::PemObject;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{CLIENT_ID, CLIENT_SECRET, DEVELOPER_TOKEN, ENTERPRISE_ID, PUBLIC_KEY_ID};
use super::{PUBLIC_KEY_PEM, TOKEN_SECONDS, error};
use crate::apis::reportstream::jwt::spki_to_pkcs1;
use crate::apis::support::random_alnum;
use crate::http::{Request, Response, decode_form};

const JWT_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// The furthest ahead a JWT's `exp` may be.
const MAX_EXP_AHEAD: i64 = 60;

/// An app to register at run time (`POST /_sandbox/box/apps`, `Sandbox::box_register_app`).
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct BoxApp {
    pub client_id: String,
    pub client_secret: String,
    pub public_key_id: String,
    /// The RSA public key as a SubjectPublicKeyInfo PEM (`BEGIN PUBLIC KEY`).
    pub public_key_pem: String,
    pub enterprise_id: String,
}

impl std::fmt::Debug for BoxApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoxApp")
            .field("client_id", &self.client_id)
            .field("public_key_id", &self.public_key_id)
            .field("enterprise_id", &self.enterprise_id)
            .finish_non_exhaustive()
    }
}

struct App {
    client_id: String,
    client_secret: String,
    enterprise_id: String,
    /// (public key id, PKCS#1 RSAPublicKey DER).
    keys: Vec<(String, Vec<u8>)>,
}

struct Token {
    expires_at: i64,
    expired: bool,
}

pub(super) struct Auth {
    apps: Vec<App>,
    tokens: HashMap<String, Token>,
    used_jtis: HashSet<String>,
    /// What each successful grant was (no secrets, no tokens).
    grants: Vec<Value>,
    developer_token_valid: bool,
}

/// The PKCS#1 key inside a `BEGIN PUBLIC KEY` PEM.
fn rsa_key(pem: &str) -> Result<Vec<u8>, &'static str> {
    let spki = SubjectPublicKeyInfoDer::from_pem_slice(pem.as_bytes())
        .map_err(|_| "public_key_pem is not a PEM public key (BEGIN PUBLIC KEY)")?;
    spki_to_pkcs1(spki.as_ref())
        .map(<[u8]>::to_vec)
        .ok_or("public_key_pem is not an RSA public key")
}

/// Box's token errors: `400 {"error","error_description"}`.
fn grant_error(error: &str, description: &str) -> Response {
    Response::json(
        400,
        &json!({"error": error, "error_description": description}),
    )
}

fn invalid_grant(description: &str) -> Response {
    grant_error("invalid_grant", description)
}

impl Auth {
    pub(super) fn seed() -> Auth {
        let key = rsa_key(PUBLIC_KEY_PEM).expect("the fixture holds an RSA public key");
        Auth {
            apps: vec![App {
                client_id: CLIENT_ID.into(),
                client_secret: CLIENT_SECRET.into(),
                enterprise_id: ENTERPRISE_ID.into(),
                keys: vec![(PUBLIC_KEY_ID.into(), key)],
            }],
            tokens: HashMap::new(),
            used_jtis: HashSet::new(),
            grants: Vec::new(),
            developer_token_valid: true,
        }
    }

    /// Adds an app, or updates the one with that client id (adding or replacing the key).
    pub(super) fn register(&mut self, app: &BoxApp) -> Result<(), &'static str> {
        if [
            &app.client_id,
            &app.client_secret,
            &app.public_key_id,
            &app.enterprise_id,
        ]
        .iter()
        .any(|s| s.is_empty())
        {
            return Err("client_id, client_secret, public_key_id and enterprise_id are required");
        }
        let key = rsa_key(&app.public_key_pem)?;
        match self.apps.iter_mut().find(|a| a.client_id == app.client_id) {
            Some(known) => {
                known.client_secret = app.client_secret.clone();
                known.enterprise_id = app.enterprise_id.clone();
                known.keys.retain(|(kid, _)| *kid != app.public_key_id);
                known.keys.push((app.public_key_id.clone(), key));
            }
            None => self.apps.push(App {
                client_id: app.client_id.clone(),
                client_secret: app.client_secret.clone(),
                enterprise_id: app.enterprise_id.clone(),
                keys: vec![(app.public_key_id.clone(), key)],
            }),
        }
        Ok(())
    }

    /// Every token issued so far (and the developer token) answers 401 from now on.
    pub(super) fn expire_all(&mut self) -> usize {
        self.developer_token_valid = false;
        let mut count = 0;
        for token in self.tokens.values_mut().filter(|t| !t.expired) {
            token.expired = true;
            count += 1;
        }
        count
    }

    pub(super) fn state(&self) -> Value {
        let apps: Vec<Value> = self
            .apps
            .iter()
            .map(|a| {
                let kids: Vec<&str> = a.keys.iter().map(|(kid, _)| kid.as_str()).collect();
                json!({"client_id": a.client_id, "public_key_ids": kids,
                       "enterprise_id": a.enterprise_id})
            })
            .collect();
        json!({"tokens_issued": self.grants.len(), "grants": self.grants, "apps": apps})
    }

    /// `Authorization: Bearer` with a live token; else 401 with `WWW-Authenticate`.
    pub(super) fn check_bearer(&self, req: &Request) -> Result<(), Response> {
        let Some(token) = req.bearer() else {
            return Err(error(401, "unauthorized", "Unauthorized")
                .with_header("www-authenticate", "Bearer realm=\"Service\""));
        };
        let now = chrono::Utc::now().timestamp();
        let live = if token == DEVELOPER_TOKEN {
            self.developer_token_valid
        } else {
            self.tokens
                .get(token)
                .is_some_and(|t| !t.expired && t.expires_at > now)
        };
        if live {
            Ok(())
        } else {
            Err(error(401, "unauthorized", "Unauthorized").with_header(
                "www-authenticate",
                "Bearer realm=\"Service\", error=\"invalid_token\", error_description=\"The access token provided is invalid.\"",
            ))
        }
    }

    /// `POST /oauth2/token` with a form body.
    pub(super) fn token(&mut self, req: &Request) -> Response {
        let form = decode_form(&String::from_utf8_lossy(&req.body));
        let field = |name: &str| {
            form.iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
                .filter(|v| !v.is_empty())
        };
        let grant_type = field("grant_type");
        if !matches!(grant_type, Some(JWT_GRANT | "client_credentials")) {
            return match grant_type {
                None => grant_error(
                    "invalid_request",
                    "Invalid grant_type parameter or parameter missing",
                ),
                Some(_) => grant_error("unsupported_grant_type", "Grant type is not supported"),
            };
        }
        let app = match (field("client_id"), field("client_secret")) {
            (Some(id), Some(secret)) => self
                .apps
                .iter()
                .find(|a| a.client_id == id && a.client_secret == secret),
            _ => None,
        };
        let Some(app) = app else {
            return grant_error("invalid_client", "The client credentials are invalid");
        };
        let now = chrono::Utc::now().timestamp();
        let grant = if grant_type == Some(JWT_GRANT) {
            let Some(assertion) = field("assertion") else {
                return grant_error("invalid_request", "The assertion parameter is missing");
            };
            let audience = format!("{}/oauth2/token", req.base_url);
            match check_assertion(app, assertion, &audience, now) {
                Ok(checked) => checked,
                Err(response) => return response,
            }
        } else {
            let sub_type = field("box_subject_type").unwrap_or("");
            let sub = field("box_subject_id").unwrap_or("");
            if !subject_ok(app, sub_type, sub) {
                return invalid_grant("Grant credentials are invalid");
            }
            json!({"grant_type": "client_credentials", "client_id": app.client_id,
                   "box_sub_type": sub_type, "sub": sub})
        };
        if let Some(jti) = grant["jti"].as_str()
            && !self.used_jtis.insert(jti.to_string())
        {
            return invalid_grant("A unique 'jti' value is required.");
        }
        let mut grant = grant;
        if let Some(grant) = grant.as_object_mut() {
            grant.remove("jti");
        }
        self.grants.push(grant);
        let token = random_alnum(32);
        self.tokens.insert(
            token.clone(),
            Token {
                expires_at: now + TOKEN_SECONDS,
                expired: false,
            },
        );
        Response::json(
            200,
            &json!({"access_token": token, "expires_in": TOKEN_SECONDS,
                    "token_type": "bearer", "restricted_to": [],
                    "issued_token_type": "urn:ietf:params:oauth:token-type:access_token"}),
        )
    }
}

/// An enterprise subject must be the app's enterprise; a user subject, a numeric id.
fn subject_ok(app: &App, sub_type: &str, sub: &str) -> bool {
    match sub_type {
        "enterprise" => sub == app.enterprise_id,
        "user" => !sub.is_empty() && sub.bytes().all(|b| b.is_ascii_digit()),
        _ => false,
    }
}

/// Checks a JWT assertion; the grant's record (with its `jti`) when it holds.
fn check_assertion(app: &App, jwt: &str, audience: &str, now: i64) -> Result<Value, Response> {
    let (header, claims) = verify(jwt, app)?;
    if claims["iss"] != app.client_id.as_str() {
        return Err(invalid_grant("Please check the 'iss' claim."));
    }
    if claims["aud"] != audience {
        return Err(invalid_grant("Please check the 'aud' claim."));
    }
    let sub_type = claims["box_sub_type"].as_str().unwrap_or("");
    let sub = match &claims["sub"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    if !matches!(sub_type, "enterprise" | "user") {
        return Err(invalid_grant("Please check the 'box_sub_type' claim."));
    }
    if !subject_ok(app, sub_type, &sub) {
        return Err(invalid_grant("Please check the 'sub' claim."));
    }
    let Some(exp) = claims["exp"].as_i64() else {
        return Err(invalid_grant("Please check the 'exp' claim."));
    };
    if exp <= now {
        return Err(invalid_grant(
            "Current date/time MUST be before the expiration date/time listed in the 'exp' claim",
        ));
    }
    if exp > now + MAX_EXP_AHEAD {
        return Err(invalid_grant(
            "Please check the 'exp' claim: it must be at most 60 seconds in the future.",
        ));
    }
    let jti = claims["jti"].as_str().unwrap_or("");
    if !(16..=128).contains(&jti.chars().count()) {
        return Err(invalid_grant(
            "Please check the 'jti' claim: 16 to 128 characters.",
        ));
    }
    Ok(
        json!({"grant_type": "jwt", "client_id": app.client_id, "box_sub_type": sub_type,
                 "sub": sub, "alg": header["alg"], "kid": header["kid"], "jti": jti}),
    )
}

/// Header and claims of a JWT signed RS256, RS384 or RS512 by one of the app's keys (by `kid`).
fn verify(jwt: &str, app: &App) -> Result<(Value, Value), Response> {
    let not_a_jwt = || invalid_grant("Invalid JWT: the assertion is not a signed JWT.");
    let mut parts = jwt.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(not_a_jwt());
    };
    let decode = |part: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part.trim_end_matches('='))
            .map_err(|_| not_a_jwt())
    };
    let header_json: Value = serde_json::from_slice(&decode(header)?).map_err(|_| not_a_jwt())?;
    let claims_json: Value = serde_json::from_slice(&decode(claims)?).map_err(|_| not_a_jwt())?;
    let algorithm = match header_json["alg"].as_str() {
        Some("RS256") => &RSA_PKCS1_2048_8192_SHA256,
        Some("RS384") => &RSA_PKCS1_2048_8192_SHA384,
        Some("RS512") => &RSA_PKCS1_2048_8192_SHA512,
        _ => {
            return Err(invalid_grant(
                "Please check the 'alg' header: RS256, RS384 or RS512.",
            ));
        }
    };
    let kid = header_json["kid"].as_str().unwrap_or("");
    let Some((_, key)) = app.keys.iter().find(|(k, _)| k == kid) else {
        return Err(invalid_grant(
            "Please check the 'kid' header: no public key of the app has that id.",
        ));
    };
    let signing_input = &jwt[..header.len() + 1 + claims.len()];
    UnparsedPublicKey::new(algorithm, key)
        .verify(signing_input.as_bytes(), &decode(signature)?)
        .map_err(|_| {
            invalid_grant(
                "Signature verification error. The public key identified by \"kid\" must correspond to the private key used for signing.",
            )
        })?;
    Ok((header_json, claims_json))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_app_has_the_fixture_key() {
        let auth = Auth::seed();
        assert_eq!(auth.apps[0].keys[0].0, PUBLIC_KEY_ID);
        assert_eq!(auth.apps[0].keys[0].1[0], 0x30);
    }

    #[test]
    fn bad_assertions_are_refused_without_panics() {
        let auth = Auth::seed();
        for jwt in ["", "a.b", "a.b.c.d", "!!.!!.!!", "e30.e30.AAAA"] {
            let response = check_assertion(&auth.apps[0], jwt, "x", 0).expect_err("refused");
            assert_eq!(response.status, 400, "{jwt}");
        }
    }

    #[test]
    fn debug_hides_the_secret() {
        let app = BoxApp {
            client_id: "c".into(),
            client_secret: "topsecret".into(),
            ..Default::default()
        };
        assert!(!format!("{app:?}").contains("topsecret"));
    }
}
