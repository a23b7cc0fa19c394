//! The flags of the Box tools: the app's credentials, the endpoints, and
//! the shared transport flags (TLS trust, timeouts, retries).

use crate::http::TransportArgs;
use clap::ValueEnum;
use std::path::PathBuf;

/// Box's API, as the real service has it.
pub const DEFAULT_API_URL: &str = "https://api.box.com/2.0";
/// Box's upload host.
pub const DEFAULT_UPLOAD_URL: &str = "https://upload.box.com/api/2.0";

/// How the tool gets its Box token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BoxAuth {
    /// The app's JWT (server authentication) from box_config.json.
    Jwt,
    /// Client credentials from BOX_CLIENT_ID and BOX_CLIENT_SECRET.
    Ccg,
    /// A developer token from BOX_TOKEN, for trying things by hand.
    Token,
}

impl BoxAuth {
    /// The value as given to --auth.
    pub fn name(self) -> &'static str {
        match self {
            BoxAuth::Jwt => "jwt",
            BoxAuth::Ccg => "ccg",
            BoxAuth::Token => "token",
        }
    }
}

/// The shared Box flags; tools put them in their own clap struct with
/// `#[command(flatten)]`.
#[derive(clap::Args, Clone, Debug)]
pub struct BoxArgs {
    /// The app's box_config.json, for JWT auth (the private key in it is
    /// decrypted with its passphrase, or with --passphrase-env).
    #[arg(
        long,
        env = "BOX_CONFIG",
        hide_env_values = true,
        value_name = "FILE",
        help_heading = "Box"
    )]
    pub config: Option<PathBuf>,

    /// Read the private key's passphrase from environment variable NAME
    /// (or from the file named by NAME_FILE) instead of box_config.json.
    #[arg(long, value_name = "NAME", help_heading = "Box")]
    pub passphrase_env: Option<String>,

    /// jwt, ccg or token (see AUTH). Default: jwt when --config or
    /// BOX_CONFIG is given, else ccg when BOX_CLIENT_ID is set, else token
    /// when BOX_TOKEN is set.
    #[arg(
        long,
        value_enum,
        value_name = "MODE",
        hide_possible_values = true,
        help_heading = "Box"
    )]
    pub auth: Option<BoxAuth>,

    /// Act as this Box user (jwt, ccg): the token is asked for the user
    /// instead of the app's enterprise.
    #[arg(long, value_name = "ID", help_heading = "Box")]
    pub as_user: Option<String>,

    /// Box's API.
    #[arg(long, env = "BOX_API_URL", hide_env_values = true, value_name = "URL",
          default_value = DEFAULT_API_URL, help_heading = "Box")]
    pub api_url: String,

    /// Box's upload API.
    #[arg(long, env = "BOX_UPLOAD_URL", hide_env_values = true, value_name = "URL",
          default_value = DEFAULT_UPLOAD_URL, help_heading = "Box")]
    pub upload_url: String,

    /// Where tokens are asked for. Default: the API URL with its last path
    /// segment replaced by oauth2/token (https://api.box.com/oauth2/token).
    #[arg(long, value_name = "URL", help_heading = "Box")]
    pub token_url: Option<String>,

    /// TLS trust, timeouts and retries.
    #[command(flatten)]
    pub transport: TransportArgs,
}

impl BoxArgs {
    /// --retries: the attempts after the first.
    pub fn retries(&self) -> u32 {
        self.transport.retries
    }

    /// The token URL: --token-url, else the API URL with its last path
    /// segment replaced by oauth2/token.
    pub fn token_url(&self) -> String {
        if let Some(url) = &self.token_url {
            return url.clone();
        }
        token_url_for(&self.api_url)
    }
}

/// `https://api.box.com/2.0` -> `https://api.box.com/oauth2/token`.
pub fn token_url_for(api_url: &str) -> String {
    let api = api_url.trim_end_matches('/');
    let path_start = api
        .find("://")
        .map(|i| i + 3)
        .and_then(|host| api[host..].find('/').map(|slash| host + slash));
    match path_start {
        Some(start) => {
            let last = api.rfind('/').unwrap_or(start);
            format!("{}/oauth2/token", &api[..last])
        }
        None => format!("{api}/oauth2/token"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_url_replaces_the_last_segment() {
        assert_eq!(
            token_url_for(DEFAULT_API_URL),
            "https://api.box.com/oauth2/token"
        );
        assert_eq!(
            token_url_for("https://127.0.0.1:4443/box/2.0/"),
            "https://127.0.0.1:4443/box/oauth2/token"
        );
        assert_eq!(
            token_url_for("https://h.example"),
            "https://h.example/oauth2/token"
        );
    }
}
