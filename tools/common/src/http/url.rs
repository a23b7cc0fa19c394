//! URLs: checking them, showing them without secrets or record values,
//! deriving login URLs, and percent-encoding template values.

use crate::error::{Error, Result};
use std::net::IpAddr;
use ureq::http::Uri;

/// A URL's scheme, host and port, checked: http or https, a host, no
/// user or password in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub scheme: String,
    pub host: String,
    pub port: u16,
}

/// Check `url` and give its origin. Usage errors (64) never echo the
/// query string, which may hold record values.
pub fn origin(url: &str) -> Result<Origin> {
    let bad = |why: &str| Error::usage(format!("URL {}: {why}", shown(url)));
    let uri: Uri = url
        .parse()
        .map_err(|_| bad("not a valid URL (give scheme://host/path)"))?;
    let scheme = match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("https") => "https",
        Some(s) if s.eq_ignore_ascii_case("http") => "http",
        Some(_) => return Err(bad("the scheme must be https:// (or http:// to loopback)")),
        None => return Err(bad("no scheme: give https://host/path")),
    };
    let authority = uri.authority().ok_or_else(|| bad("no host"))?;
    if authority.as_str().contains('@') {
        return Err(Error::usage(
            "a URL must not hold a user or password (they would show in ps): use --auth and the environment",
        ));
    }
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    if host.is_empty() {
        return Err(bad("no host"));
    }
    let port = authority
        .port_u16()
        .unwrap_or(if scheme == "https" { 443 } else { 80 });
    Ok(Origin {
        scheme: scheme.to_string(),
        host: host.to_ascii_lowercase(),
        port,
    })
}

/// Whether `host` is a loopback name or address (127.0.0.0/8, ::1, localhost).
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The URL for messages: no user or password, no query string, no fragment.
pub fn shown(url: &str) -> String {
    let cut = url.find(['?', '#']).unwrap_or(url.len());
    let url = &url[..cut];
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let authority = authority.rsplit('@').next().unwrap_or(authority);
            format!("{scheme}://{authority}{path}")
        }
        None => url.rsplit('@').next().unwrap_or(url).to_string(),
    }
}

/// The URL up to its `/api/` segment, without a trailing slash: the base
/// from which the login and token URLs are derived, so that a base with a
/// path prefix (`https://host/primero/api/v2/cases`) keeps its prefix.
pub fn api_base(url: &str) -> Option<&str> {
    let cut = url.find(['?', '#']).unwrap_or(url.len());
    let url = &url[..cut];
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let path_start = url[after_scheme..].find('/').map(|i| i + after_scheme)?;
    let path = &url[path_start..];
    if let Some(i) = path.find("/api/") {
        return Some(&url[..path_start + i]);
    }
    path.ends_with("/api").then(|| &url[..url.len() - 4])
}

/// Resolve a Location header (absolute, or a path on the same origin)
/// against the URL it answered.
pub fn resolve(base: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_string();
    }
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let origin_end = base[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(base.len(), |i| i + after_scheme);
    if let Some(rest) = location.strip_prefix("//") {
        let scheme = base.split("://").next().unwrap_or("https");
        return format!("{scheme}://{rest}");
    }
    if location.starts_with('/') {
        return format!("{}{location}", &base[..origin_end]);
    }
    // A relative path: beside the last segment of the base's path.
    let cut = base.find(['?', '#']).unwrap_or(base.len());
    let path_base = &base[..cut];
    let dir_end = path_base.rfind('/').filter(|&i| i >= origin_end);
    match dir_end {
        Some(i) => format!("{}/{location}", &path_base[..i]),
        None => format!("{}/{location}", &base[..origin_end]),
    }
}

/// Percent-encode a value for one path segment: everything but the
/// unreserved characters (RFC 3986), so a `/` in a value cannot change the
/// path; and the dots of a value made only of dots, so that `.` and `..`
/// cannot become dot segments, which servers resolve to the path above.
pub fn encode_path_segment(value: &str) -> String {
    if !value.is_empty() && value.bytes().all(|b| b == b'.') {
        return "%2E".repeat(value.len());
    }
    encode(value, |b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// Percent-encode a value for a query string (`k=v&...`).
pub fn encode_query_value(value: &str) -> String {
    encode(value, |b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

fn encode(value: &str, keep: impl Fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if keep(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_and_loopback() {
        let o = origin("https://Example.org/api/v2/cases?x=1");
        assert_eq!(
            o.ok(),
            Some(Origin {
                scheme: "https".into(),
                host: "example.org".into(),
                port: 443
            })
        );
        assert_eq!(
            origin("http://[::1]:8080/x").map(|o| o.host).ok(),
            Some("::1".into())
        );
        assert_eq!(origin("ftp://h/x").map_err(|e| e.code()).err(), Some(64));
        assert_eq!(origin("h/x").map_err(|e| e.code()).err(), Some(64));
        let e = origin("https://u:s3cret@h/x").err();
        assert!(e.is_some_and(|e| e.code() == 64 && !e.message().contains("s3cret")));
        for host in [
            "127.0.0.1",
            "127.8.9.1",
            "::1",
            "[::1]",
            "localhost",
            "LOCALHOST",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "128.0.0.1",
            "10.0.0.1",
            "example.org",
            "localhost.example.org",
            "::2",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn shown_urls_drop_query_and_userinfo() {
        assert_eq!(
            shown("https://u:pw@h:8443/api/v2/cases?oscar_number=X1#f"),
            "https://h:8443/api/v2/cases"
        );
        assert_eq!(shown("https://h"), "https://h");
    }

    #[test]
    fn default_login_urls_keep_the_path_prefix() {
        assert_eq!(
            api_base("https://h/primero/api/v2/cases?remote=true"),
            Some("https://h/primero")
        );
        assert_eq!(api_base("https://h/api/reports"), Some("https://h"));
        assert_eq!(api_base("https://h:9/oscar/api"), Some("https://h:9/oscar"));
        assert_eq!(api_base("https://h/heartbeat"), None);
        assert_eq!(api_base("https://h/x?next=/api/"), None);
    }

    #[test]
    fn locations_resolve() {
        let base = "https://h:1/dhis2/api/tracker?async=true";
        assert_eq!(resolve(base, "https://o/x"), "https://o/x");
        assert_eq!(
            resolve(base, "/dhis2/api/tracker/jobs/J1"),
            "https://h:1/dhis2/api/tracker/jobs/J1"
        );
        assert_eq!(
            resolve(base, "tracker/jobs/J1"),
            "https://h:1/dhis2/api/tracker/jobs/J1"
        );
        assert_eq!(resolve("https://h", "x"), "https://h/x");
    }

    #[test]
    fn template_values_are_encoded() {
        assert_eq!(encode_path_segment("a b/../c"), "a%20b%2F..%2Fc");
        assert_eq!(
            encode_query_value("2023-08-24 00:00:00"),
            "2023-08-24%2000%3A00%3A00"
        );
        assert_eq!(encode_path_segment("Kh-Ab_9.~"), "Kh-Ab_9.~");
        for (dots, encoded) in [(".", "%2E"), ("..", "%2E%2E"), ("...", "%2E%2E%2E")] {
            assert_eq!(encode_path_segment(dots), encoded);
        }
        assert_eq!(encode_path_segment("a..b"), "a..b");
    }
}
