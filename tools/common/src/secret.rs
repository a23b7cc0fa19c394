//! Secrets come from environment variables or files, never from arguments.

use crate::error::{Error, Result};
use std::fmt;

/// A secret value. Its Debug and Display never show it.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Read secret `NAME` from the environment, or from the file named by
/// `NAME_FILE` (one trailing newline removed). Missing is exit 78.
pub fn from_env(name: &str) -> Result<Secret> {
    optional_from_env(name)?
        .ok_or_else(|| Error::config(format!("{name} is not set (set {name} or {name}_FILE)")))
}

/// Like [`from_env`], but a missing variable is `None`.
pub fn optional_from_env(name: &str) -> Result<Option<Secret>> {
    if let Ok(value) = std::env::var(name)
        && !value.is_empty()
    {
        return Ok(Some(Secret(value)));
    }
    let file_var = format!("{name}_FILE");
    match std::env::var_os(&file_var) {
        Some(path) if !path.is_empty() => {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                Error::config(format!(
                    "{file_var}: cannot read {}: {}",
                    std::path::Path::new(&path).display(),
                    e.kind()
                ))
            })?;
            let text = text.strip_suffix('\n').unwrap_or(&text);
            let text = text.strip_suffix('\r').unwrap_or(text);
            Ok(Some(Secret(text.to_string())))
        }
        _ => Ok(None),
    }
}

/// Check that every variable is set, naming all the missing ones at once.
pub fn require_all(names: &[&str]) -> Result<()> {
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| {
            std::env::var_os(n).is_none_or(|v| v.is_empty())
                && std::env::var_os(format!("{n}_FILE")).is_none_or(|v| v.is_empty())
        })
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::config(format!("not set: {}", missing.join(", "))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_formats_its_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "*** Secret(***)");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn missing_secret_is_config_error() {
        let err = from_env("COMMON_TEST_SURELY_UNSET_VAR").map(|_| ());
        assert_eq!(err.map_err(|e| e.code()), Err(78));
    }
}
