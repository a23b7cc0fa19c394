//! The app's box_config.json and its private key: an encrypted PKCS#8 PEM,
//! decrypted with the passphrase in the file or from --passphrase-env.
//! Every failure here is exit 78 and names the file and the field, never a
//! value.

use crate::error::{Error, Result};
use crate::secret::{self, Secret};
use ring::signature::RsaKeyPair;
use serde_json::Value;
use std::fmt;
use std::path::Path;

/// What a JWT grant needs from box_config.json.
pub struct AppConfig {
    pub client_id: String,
    pub client_secret: Secret,
    pub public_key_id: String,
    pub enterprise_id: Option<String>,
    pub key: RsaKeyPair,
}

impl fmt::Debug for AppConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppConfig")
            .field("client_id", &self.client_id)
            .field("public_key_id", &self.public_key_id)
            .field("enterprise_id", &self.enterprise_id)
            .finish_non_exhaustive()
    }
}

/// Read `path` and unlock its key: with the passphrase of the variable
/// named `passphrase_env` when given, else with appAuth.passphrase.
pub fn read_app_config(path: &Path, passphrase_env: Option<&str>) -> Result<AppConfig> {
    let shown = path.display();
    let text = std::fs::read(path)
        .map_err(|e| Error::config(format!("--config {shown}: cannot read it: {}", e.kind())))?;
    let value: Value = serde_json::from_slice(&text).map_err(|e| {
        Error::config(format!(
            "--config {shown}: not JSON (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let passphrase = match passphrase_env {
        Some(name) => Some(secret::from_env(name)?),
        None => None,
    };
    parse_app_config(&value, passphrase).map_err(|e| e.context(format!("--config {shown}")))
}

/// The fields of a parsed box_config.json, the key unlocked.
pub fn parse_app_config(value: &Value, passphrase: Option<Secret>) -> Result<AppConfig> {
    let settings = value
        .get("boxAppSettings")
        .filter(|v| v.is_object())
        .ok_or_else(|| Error::config("no boxAppSettings object in it (is it Box's app config?)"))?;
    let text = |v: &Value, field: &str| -> Result<String> {
        match v.get(field) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            _ => Err(Error::config(format!(
                "{field} is missing or empty (expected a string)"
            ))),
        }
    };
    let named = |v: &Value, path: &str, field: &str| {
        text(v, field).map_err(|e| Error::config(format!("{path}.{}", e.message())))
    };
    let client_id = named(settings, "boxAppSettings", "clientID")?;
    let client_secret = Secret::new(named(settings, "boxAppSettings", "clientSecret")?);
    let app_auth = settings
        .get("appAuth")
        .filter(|v| v.is_object())
        .ok_or_else(|| {
            Error::config("boxAppSettings.appAuth is missing (a JWT app's config has it)")
        })?;
    let public_key_id = named(app_auth, "boxAppSettings.appAuth", "publicKeyID")?;
    let pem = Secret::new(named(app_auth, "boxAppSettings.appAuth", "privateKey")?);
    let passphrase = match passphrase {
        Some(given) => Some(given),
        None => match app_auth.get("passphrase") {
            Some(Value::String(s)) if !s.is_empty() => Some(Secret::new(s.clone())),
            _ => None,
        },
    };
    let enterprise_id = match value.get("enterpriseID") {
        Some(Value::String(s)) if !s.trim().is_empty() && s.trim() != "0" => {
            Some(s.trim().to_string())
        }
        Some(Value::Number(n)) if n.to_string() != "0" => Some(n.to_string()),
        _ => None,
    };
    let key = unlock_key(&pem, passphrase.as_ref())?;
    Ok(AppConfig {
        client_id,
        client_secret,
        public_key_id,
        enterprise_id,
        key,
    })
}

/// The RSA key of a PEM: an encrypted PKCS#8 key unlocked with
/// `passphrase`, or a plain PKCS#8 one.
pub fn unlock_key(pem: &Secret, passphrase: Option<&Secret>) -> Result<RsaKeyPair> {
    use pkcs8::der::Document;
    // box_config.json keeps the PEM's line breaks as \n; some copies have them as text.
    let pem_text = pem.expose().replace("\\n", "\n");
    let (label, document) = Document::from_pem(pem_text.trim())
        .map_err(|_| Error::config("boxAppSettings.appAuth.privateKey is not a PEM private key"))?;
    match label {
        "ENCRYPTED PRIVATE KEY" => {
            let passphrase = passphrase.ok_or_else(|| {
                Error::config(
                    "the private key is encrypted and no passphrase is given (appAuth.passphrase, or --passphrase-env NAME)",
                )
            })?;
            let info = pkcs8::EncryptedPrivateKeyInfo::try_from(document.as_bytes())
                .map_err(|_| Error::config("the encrypted private key is malformed"))?;
            let plain = info.decrypt(passphrase.expose()).map_err(|_| {
                Error::config(
                    "the private key could not be decrypted: wrong passphrase, or an encryption this tool does not know",
                )
            })?;
            // A wrong passphrase can decrypt to bytes that pass the padding check.
            RsaKeyPair::from_pkcs8(plain.as_bytes()).map_err(|_| {
                Error::config(
                    "the private key could not be decrypted: wrong passphrase, or not an RSA key",
                )
            })
        }
        "PRIVATE KEY" => RsaKeyPair::from_pkcs8(document.as_bytes())
            .map_err(|_| Error::config("the private key is not a usable RSA key")),
        _ => Err(Error::config(
            "boxAppSettings.appAuth.privateKey is not a PKCS#8 private key (BEGIN ENCRYPTED PRIVATE KEY)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PASSPHRASE: &str = "sandbox-box-passphrase";

    fn fixture_pem() -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/sandbox/box-app.key.pem");
        std::fs::read_to_string(path).unwrap_or_default()
    }

    fn config(pem: &str, passphrase: &str) -> Value {
        json!({
            "boxAppSettings": {
                "clientID": "sandbox-box-client",
                "clientSecret": "sandbox-box-secret",
                "appAuth": {"publicKeyID": "sbkey001", "privateKey": pem, "passphrase": passphrase}
            },
            "enterpriseID": "900001"
        })
    }

    fn outcome(result: Result<AppConfig>) -> (i32, String) {
        match result {
            Ok(_) => (0, String::new()),
            Err(e) => (e.code(), e.message().to_string()),
        }
    }

    #[test]
    fn the_fixture_app_config_unlocks() -> Result<()> {
        let app = parse_app_config(&config(&fixture_pem(), PASSPHRASE), None)?;
        assert_eq!(app.client_id, "sandbox-box-client");
        assert_eq!(app.public_key_id, "sbkey001");
        assert_eq!(app.enterprise_id.as_deref(), Some("900001"));
        assert_eq!(app.client_secret.expose(), "sandbox-box-secret");
        let debug = format!("{app:?}");
        assert!(
            !debug.contains("sandbox-box-secret") && !debug.contains("PRIVATE"),
            "{debug}"
        );
        // A passphrase from the environment wins over the file's.
        let given = Some(Secret::new(PASSPHRASE));
        assert!(parse_app_config(&config(&fixture_pem(), "wrong"), given).is_ok());
        Ok(())
    }

    #[test]
    fn a_wrong_passphrase_is_a_config_error_without_the_passphrase() {
        let (code, message) = outcome(parse_app_config(
            &config(&fixture_pem(), "not-the-passphrase"),
            None,
        ));
        assert_eq!(code, 78);
        assert!(message.contains("passphrase"), "{message}");
        assert!(!message.contains("not-the-passphrase"), "{message}");
    }

    #[test]
    fn missing_fields_are_named() {
        let mut value = config(&fixture_pem(), PASSPHRASE);
        if let Some(auth) = value["boxAppSettings"]["appAuth"].as_object_mut() {
            auth.remove("publicKeyID");
        }
        let (code, message) = outcome(parse_app_config(&value, None));
        assert_eq!(code, 78);
        assert!(message.contains("appAuth.publicKeyID"), "{message}");

        let (code, message) = outcome(parse_app_config(&json!({"x": 1}), None));
        assert_eq!(code, 78);
        assert!(message.contains("boxAppSettings"), "{message}");

        let (code, message) = outcome(parse_app_config(&config("not a pem", PASSPHRASE), None));
        assert_eq!(code, 78);
        assert!(message.contains("not a PEM"), "{message}");

        let mut value = config(&fixture_pem(), PASSPHRASE);
        if let Some(auth) = value["boxAppSettings"]["appAuth"].as_object_mut() {
            auth.remove("passphrase");
        }
        let (code, message) = outcome(parse_app_config(&value, None));
        assert_eq!(code, 78);
        assert!(message.contains("no passphrase"), "{message}");
    }

    #[test]
    fn unreadable_or_broken_files_are_config_errors() {
        let missing = read_app_config(Path::new("/nonexistent/box_config.json"), None);
        let (code, message) = outcome(missing);
        assert_eq!(code, 78);
        assert!(
            message.contains("/nonexistent/box_config.json"),
            "{message}"
        );
        let dir = tempfile::tempdir().ok();
        let Some(dir) = dir else { return };
        let path = dir.path().join("box_config.json");
        let _ = std::fs::write(&path, "{\"boxAppSettings\": \"secret-ish");
        let (code, message) = outcome(read_app_config(&path, None));
        assert_eq!(code, 78);
        assert!(message.contains("not JSON (line 1"), "{message}");
        assert!(!message.contains("secret-ish"), "{message}");
    }
}
