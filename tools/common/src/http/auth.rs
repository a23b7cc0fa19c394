//! Authentication schemes: static credentials from the environment, and the
//! session schemes that log in first (ReportStream's token for a signed
//! client assertion, Primero's token login, OSCaR's sign_in headers).

use super::args::{AuthScheme, HttpArgs};
use super::url::{api_base, encode_query_value, origin, shown};
use super::{Client, Method, Request, Response};
use crate::error::{Error, Exit, Result};
use crate::secret::{self, Secret};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The headers an auth scheme adds, by name (for --dry-run, where nothing
/// is read or logged in).
pub(crate) fn header_names(scheme: AuthScheme) -> &'static [&'static str] {
    match scheme {
        AuthScheme::None => &[],
        AuthScheme::FunctionKey => &["x-functions-key"],
        AuthScheme::Oscar => &["access-token", "client", "uid"],
        _ => &["authorization"],
    }
}

/// The scheme's configuration and its session.
pub(crate) struct Auth {
    pub scheme: AuthScheme,
    user_env: String,
    password_env: String,
    token_env: String,
    private_key: Option<RsaKeyPair>,
    client_id: Option<String>,
    scope: Option<String>,
    login_url: Option<String>,
    session: Mutex<Option<Session>>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("scheme", &self.scheme)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// The headers to send, and until when (None: until a 401 says otherwise).
#[derive(Clone, Debug)]
struct Session {
    headers: Vec<(String, Secret)>,
    refresh_at: Option<Instant>,
}

impl Auth {
    pub fn new(args: &HttpArgs) -> Result<Auth> {
        let scheme = args.auth;
        let mut private_key = None;
        if scheme == AuthScheme::ReportstreamJwt {
            let path = args.private_key_file.as_deref().ok_or_else(|| {
                Error::usage("--auth reportstream-jwt needs --private-key-file and --client-id")
            })?;
            let client_id = args.client_id.as_deref().unwrap_or_default();
            if client_id.is_empty() {
                return Err(Error::usage(
                    "--auth reportstream-jwt needs --client-id (the sender, e.g. simple_report.default)",
                ));
            }
            private_key = Some(load_rsa_key(path)?);
        } else {
            for (given, flag) in [
                (args.private_key_file.is_some(), "--private-key-file"),
                (args.client_id.is_some(), "--client-id"),
                (args.scope.is_some(), "--scope"),
            ] {
                if given {
                    return Err(Error::usage(format!(
                        "{flag} is for --auth reportstream-jwt, not --auth {}",
                        scheme.name()
                    )));
                }
            }
        }
        if args.login_url.is_some() && !scheme.has_session() {
            return Err(Error::usage(format!(
                "--login-url is for --auth reportstream-jwt, primero and oscar, not --auth {}",
                scheme.name()
            )));
        }
        if let Some(url) = &args.login_url {
            super::url::origin(url)?;
        }
        Ok(Auth {
            scheme,
            user_env: args.user_env.clone(),
            password_env: args.password_env.clone(),
            token_env: args.token_env.clone(),
            private_key,
            client_id: args.client_id.clone(),
            scope: args.scope.clone(),
            login_url: args.login_url.clone(),
            session: Mutex::new(None),
        })
    }

    /// No scheme: for a client whose token comes from a [`super::TokenSource`].
    pub fn none() -> Auth {
        Auth {
            scheme: AuthScheme::None,
            user_env: String::new(),
            password_env: String::new(),
            token_env: String::new(),
            private_key: None,
            client_id: None,
            scope: None,
            login_url: None,
            session: Mutex::new(None),
        }
    }

    /// Read the scheme's secrets now, so that a missing one is exit 78
    /// before anything is sent.
    pub fn check_secrets(&self) -> Result<()> {
        match self.scheme {
            AuthScheme::None | AuthScheme::ReportstreamJwt => Ok(()),
            AuthScheme::Basic | AuthScheme::Primero | AuthScheme::Oscar => {
                secret::from_env(&self.user_env)?;
                secret::from_env(&self.password_env).map(drop)
            }
            AuthScheme::Bearer | AuthScheme::Dhis2Token | AuthScheme::FunctionKey => {
                secret::from_env(&self.token_env).map(drop)
            }
        }
    }

    fn user_and_password(&self) -> Result<(Secret, Secret)> {
        Ok((
            secret::from_env(&self.user_env)?,
            secret::from_env(&self.password_env)?,
        ))
    }

    /// The login URL for a request to `url`: --login-url, else the URL up
    /// to /api/ followed by `path`.
    fn login_url(&self, url: &str, path: &str) -> Result<String> {
        if let Some(given) = &self.login_url {
            return Ok(given.clone());
        }
        match api_base(url) {
            Some(base) => Ok(format!("{base}{path}")),
            None => Err(Error::usage(format!(
                "--auth {}: cannot derive the login URL from the URL on {} (no /api/ in its path, which is not shown: it may hold a record's value): give --login-url",
                self.scheme.name(),
                origin(url).map_or_else(
                    |_| "its host".to_string(),
                    |o| format!("{}://{}:{}", o.scheme, o.host, o.port)
                )
            ))),
        }
    }

    /// Forget the session, so that the next request logs in again.
    pub fn forget_session(&self) {
        if let Ok(mut session) = self.session.lock() {
            *session = None;
        }
    }

    /// Take new session headers from an answer (OSCaR may rotate its token).
    pub fn note_answer(&self, response: &Response) {
        if self.scheme != AuthScheme::Oscar {
            return;
        }
        if let Some(headers) = oscar_headers(response)
            && let Ok(mut session) = self.session.lock()
            && session.is_some()
        {
            *session = Some(Session {
                headers,
                refresh_at: None,
            });
        }
    }
}

impl Client {
    /// The auth headers for a request to `url`, logging in first when the
    /// scheme has a session and none is held (or it is about to expire).
    pub(crate) fn auth_headers(&self, url: &str) -> Result<Vec<(String, Secret)>> {
        let auth = &self.auth;
        let token = || secret::from_env(&auth.token_env);
        let one = |name: &str, value: String| Ok(vec![(name.to_string(), Secret::new(value))]);
        if let Some(source) = &self.token_source {
            let token = source.token(self)?;
            return one("authorization", format!("Bearer {}", token.expose()));
        }
        match auth.scheme {
            AuthScheme::None => Ok(Vec::new()),
            AuthScheme::Basic => {
                let (user, password) = auth.user_and_password()?;
                let pair = format!("{}:{}", user.expose(), password.expose());
                one("authorization", format!("Basic {}", STANDARD.encode(pair)))
            }
            AuthScheme::Bearer => one("authorization", format!("Bearer {}", token()?.expose())),
            AuthScheme::Dhis2Token => {
                one("authorization", format!("ApiToken {}", token()?.expose()))
            }
            AuthScheme::FunctionKey => one("x-functions-key", token()?.expose().to_string()),
            AuthScheme::ReportstreamJwt | AuthScheme::Primero | AuthScheme::Oscar => {
                if let Ok(session) = auth.session.lock()
                    && let Some(s) = session.as_ref()
                    && s.refresh_at.is_none_or(|at| Instant::now() < at)
                {
                    return Ok(s.headers.clone());
                }
                let session = self.login(url)?;
                let headers = session.headers.clone();
                if let Ok(mut held) = auth.session.lock() {
                    *held = Some(session);
                }
                Ok(headers)
            }
        }
    }

    fn login(&self, url: &str) -> Result<Session> {
        let auth = &self.auth;
        match auth.scheme {
            AuthScheme::ReportstreamJwt => self.reportstream_token(url),
            AuthScheme::Primero => {
                let login = auth.login_url(url, "/api/v2/tokens")?;
                let (user, password) = auth.user_and_password()?;
                let body = serde_json::json!({"user": {
                    "user_name": user.expose(), "password": password.expose()
                }});
                let response = self.login_request(&login, Some(&body))?;
                let from_header = response
                    .header("authorization")
                    .and_then(|v| strip_prefix_ignore_case(v, "Bearer "))
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string);
                let from_body = || {
                    response.json().ok().and_then(|v| {
                        v.get("token")
                            .and_then(|t| t.as_str())
                            .filter(|t| !t.is_empty())
                            .map(str::to_string)
                    })
                };
                let token = from_header.or_else(from_body).ok_or_else(|| {
                    Error::unavailable(format!(
                        "primero login at {}: HTTP {} without a token (neither an Authorization header nor a token in the body)",
                        shown(&login),
                        response.status
                    ))
                })?;
                Ok(Session {
                    headers: vec![(
                        "authorization".into(),
                        Secret::new(format!("Bearer {token}")),
                    )],
                    refresh_at: None,
                })
            }
            AuthScheme::Oscar => {
                let login = auth.login_url(url, "/api/v1/admin_auth/sign_in")?;
                let (user, password) = auth.user_and_password()?;
                let body =
                    serde_json::json!({"email": user.expose(), "password": password.expose()});
                let response = self.login_request(&login, Some(&body))?;
                let headers = oscar_headers(&response).ok_or_else(|| {
                    Error::unavailable(format!(
                        "oscar sign_in at {}: HTTP {} without the access-token, client and uid headers",
                        shown(&login),
                        response.status
                    ))
                })?;
                Ok(Session {
                    headers,
                    refresh_at: None,
                })
            }
            _ => Err(Error::software("login for a scheme without a session")),
        }
    }

    fn reportstream_token(&self, url: &str) -> Result<Session> {
        let auth = &self.auth;
        let (Some(key), Some(client_id)) = (auth.private_key.as_ref(), auth.client_id.as_deref())
        else {
            return Err(Error::software(
                "reportstream-jwt without a key or client id",
            ));
        };
        let token_url = auth.login_url(url, "/api/token")?;
        let audience = super::url::origin(&token_url)?.host;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let jti = uuid::Uuid::new_v4().to_string();
        let assertion = sign_client_assertion(key, client_id, &audience, now, &jti)?;
        let scope = match &auth.scope {
            Some(scope) => scope.clone(),
            None => format!(
                "{}.*.report",
                client_id.split('.').next().unwrap_or(client_id)
            ),
        };
        let separator = if token_url.contains('?') { '&' } else { '?' };
        let full = format!(
            "{token_url}{separator}scope={}&grant_type=client_credentials&client_assertion_type={}&client_assertion={}",
            encode_query_value(&scope),
            encode_query_value("urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            encode_query_value(&assertion),
        );
        let started = Instant::now();
        let response = self.login_request(&full, None)?;
        let value = response.json().ok();
        let token = value
            .as_ref()
            .and_then(|v| v.get("access_token"))
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Error::unavailable(format!(
                    "reportstream token at {}: HTTP {} without an access_token",
                    shown(&token_url),
                    response.status
                ))
            })?;
        let lifetime = value
            .as_ref()
            .and_then(|v| v.get("expires_in"))
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(300);
        // Refresh a little before the server's expiry, so that no request
        // is sent with a token that runs out on the way.
        let refresh_at = started + Duration::from_secs(lifetime.saturating_sub(30).max(1));
        Ok(Session {
            headers: vec![(
                "authorization".into(),
                Secret::new(format!("Bearer {token}")),
            )],
            refresh_at: Some(refresh_at),
        })
    }

    /// POST a login; a refusal of the credentials is exit 77.
    fn login_request(&self, url: &str, body: Option<&serde_json::Value>) -> Result<Response> {
        let mut request = Request::new(Method::Post, url);
        match body {
            Some(json) => {
                request.body = Some(json.to_string().into_bytes());
                request
                    .headers
                    .push(("content-type".into(), "application/json".into()));
            }
            None => request.body = Some(Vec::new()),
        }
        request
            .headers
            .push(("accept".into(), "application/json".into()));
        let response = self.send_with_retries(&request, false)?;
        let what = match self.auth.scheme {
            AuthScheme::ReportstreamJwt => "reportstream token",
            AuthScheme::Primero => "primero login",
            _ => "oscar sign_in",
        };
        match response.status {
            200..=299 => Ok(response),
            400 | 401 | 403 => Err(Error::new(
                Exit::NoPerm,
                format!(
                    "{what} at {}: HTTP {}: the credentials were refused",
                    shown(url),
                    response.status
                ),
            )),
            _ => Err(response
                .error()
                .unwrap_or_else(|| Error::unavailable("login failed"))
                .context(what)),
        }
    }
}

/// OSCaR's session headers from an answer, when all three are there.
fn oscar_headers(response: &Response) -> Option<Vec<(String, Secret)>> {
    let mut headers = Vec::new();
    for name in ["access-token", "client", "uid"] {
        let value = response.header(name).filter(|v| !v.trim().is_empty())?;
        headers.push((name.to_string(), Secret::new(value.trim())));
    }
    Some(headers)
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// Read an RSA private key from a PEM file, PKCS#8 or PKCS#1.
pub fn load_rsa_key(path: &Path) -> Result<RsaKeyPair> {
    let pem = std::fs::read(path).map_err(|e| {
        Error::io(
            format!("cannot read --private-key-file {}", path.display()),
            e,
        )
    })?;
    let bad = |why: &str| Error::config(format!("--private-key-file {}: {why}", path.display()));
    if pem.windows(9).any(|w| w.eq_ignore_ascii_case(b"ENCRYPTED")) {
        return Err(bad(
            "an encrypted key; give the key unencrypted, in a file only the tool's user can read",
        ));
    }
    let key = ureq::tls::PrivateKey::from_pem(&pem).map_err(|_| bad("no PEM private key in it"))?;
    // PKCS#8 (BEGIN PRIVATE KEY) or PKCS#1 (BEGIN RSA PRIVATE KEY).
    RsaKeyPair::from_pkcs8(key.der())
        .or_else(|_| RsaKeyPair::from_der(key.der()))
        .map_err(|_| bad("not a usable RSA key (PKCS#8 or PKCS#1, 2048 bits or more)"))
}

/// A client assertion for ReportStream: an RS256 JWT whose key id, issuer
/// and subject are the client id, for audience `audience` (the token URL's
/// host), valid for 300 s from `now` (seconds since the epoch).
pub fn sign_client_assertion(
    key: &RsaKeyPair,
    client_id: &str,
    audience: &str,
    now: u64,
    jti: &str,
) -> Result<String> {
    let claims = serde_json::json!({
        "iss": client_id, "sub": client_id, "aud": audience,
        "exp": now + 300, "jti": jti,
    });
    sign_rs256_jwt(key, client_id, &claims)
        .map_err(|_| Error::software("signing the client assertion failed"))
}

/// An RS256 JWT over `claims` with key id `kid`; the error is left to the
/// caller to name.
pub fn sign_rs256_jwt(
    key: &RsaKeyPair,
    kid: &str,
    claims: &serde_json::Value,
) -> std::result::Result<String, ring::error::Unspecified> {
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": kid});
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut signature = vec![0u8; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        signing_input.as_bytes(),
        &mut signature,
    )?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    ))
}

/// The header and claims of `jwt`, after checking that its signature
/// verifies with the public half of `key`.
#[cfg(test)]
pub(crate) fn verified_jwt(jwt: &str, key: &RsaKeyPair) -> (serde_json::Value, serde_json::Value) {
    use ring::signature::{KeyPair as _, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    let decode = |s: &str| URL_SAFE_NO_PAD.decode(s).unwrap_or_default();
    let parse = |s: &str| serde_json::from_slice(&decode(s)).unwrap_or_default();
    let public = key.public_key().as_ref().to_vec();
    let verifier = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &public);
    let signed = format!("{}.{}", parts[0], parts[1]);
    let signature = decode(parts[2]);
    assert!(verifier.verify(signed.as_bytes(), &signature).is_ok());
    assert!(verifier.verify(b"other", &signature).is_err());
    (parse(parts[0]), parse(parts[1]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::KeyPair as _;

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/sandbox")
            .join(name)
    }

    fn pem_body(path: &Path) -> Vec<u8> {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
        STANDARD.decode(b64).unwrap_or_default()
    }

    #[test]
    fn client_assertion_verifies_with_the_senders_public_key() -> Result<()> {
        let key = load_rsa_key(&fixture("reportstream-sender.key.pem"))?;
        // The fixture's public key (SPKI) ends with the pair's RSAPublicKey.
        let spki = pem_body(&fixture("reportstream-sender.pub.pem"));
        let public = key.public_key().as_ref().to_vec();
        assert!(
            spki.ends_with(&public),
            "the key pair and the .pub.pem differ"
        );

        let jwt = sign_client_assertion(&key, "simple_report.default", "h.example", 1_000, "j-1")?;
        let (header, claims) = verified_jwt(&jwt, &key);
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["kid"], "simple_report.default");
        assert_eq!(claims["iss"], "simple_report.default");
        assert_eq!(claims["sub"], "simple_report.default");
        assert_eq!(claims["aud"], "h.example");
        assert_eq!(claims["exp"], 1_300);
        assert_eq!(claims["jti"], "j-1");
        Ok(())
    }

    #[test]
    fn bad_key_files_are_named_errors() {
        let missing = load_rsa_key(Path::new("/nonexistent/k.pem")).err();
        assert_eq!(missing.map(|e| e.code()), Some(66));
        let encrypted = load_rsa_key(&fixture("box-app.key.pem")).err();
        assert!(encrypted.is_some_and(|e| e.code() == 78 && e.message().contains("encrypted")));
        let public = load_rsa_key(&fixture("reportstream-sender.pub.pem")).err();
        assert_eq!(public.map(|e| e.code()), Some(78));
    }
}
