//! Host key trust: OpenSSH known_hosts files (plain, wildcard and hashed
//! host names, @revoked lines) and SHA256 fingerprints as `ssh-keygen -lf`
//! prints them. There is no trust on first use: a host that is not listed
//! is refused like one whose key differs.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use common::{Error, Result};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// A key listed for the host we connect to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownKey {
    /// The key type as written, e.g. `ssh-ed25519`.
    pub key_type: String,
    pub blob: Vec<u8>,
    /// On an `@revoked` line: this key must never be accepted.
    pub revoked: bool,
}

/// How the server's key compares with what is trusted.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Match,
    /// The host is listed, with other keys.
    Mismatch,
    /// The host is not listed at all.
    Unknown,
    /// The key is listed as revoked.
    Revoked,
}

/// The name known_hosts uses for a host and port: `host`, or `[host]:port`
/// when the port is not 22.
pub fn host_entry_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// The keys that `text` (a known_hosts file) lists for `host` and `port`.
/// `@cert-authority` lines are skipped: certificates are not supported.
pub fn keys_for(text: &str, host: &str, port: u16) -> Vec<KnownKey> {
    let name = host_entry_name(host, port).to_ascii_lowercase();
    let mut keys = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split_whitespace();
        let mut revoked = false;
        let mut hosts = fields.next().unwrap_or_default();
        if hosts.starts_with('@') {
            match hosts {
                "@revoked" => revoked = true,
                _ => continue,
            }
            hosts = fields.next().unwrap_or_default();
        }
        let (Some(key_type), Some(key)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Ok(blob) = STANDARD.decode(key) else {
            continue;
        };
        if hosts_match(hosts, &name) {
            keys.push(KnownKey {
                key_type: key_type.to_string(),
                blob,
                revoked,
            });
        }
    }
    keys
}

/// Compare the server's key with the keys listed for its host.
pub fn verdict(known: &[KnownKey], server_key: &[u8]) -> Verdict {
    if known.iter().any(|k| k.revoked && k.blob == server_key) {
        Verdict::Revoked
    } else if known.iter().any(|k| !k.revoked && k.blob == server_key) {
        Verdict::Match
    } else if known.iter().any(|k| !k.revoked) {
        Verdict::Mismatch
    } else {
        Verdict::Unknown
    }
}

/// Does a known_hosts host field match `name` (lower case)? A hashed field
/// is `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`; a plain one is a
/// comma-separated list of patterns with `*` and `?`, where a matching
/// `!pattern` rules the line out.
fn hosts_match(field: &str, name: &str) -> bool {
    if let Some(rest) = field.strip_prefix("|1|") {
        let Some((salt, hash)) = rest.split_once('|') else {
            return false;
        };
        let (Ok(salt), Ok(hash)) = (STANDARD.decode(salt), STANDARD.decode(hash)) else {
            return false;
        };
        return hmac_sha1(&salt, name.as_bytes()).as_slice() == hash.as_slice();
    }
    let mut matched = false;
    for pattern in field.split(',') {
        let pattern = pattern.to_ascii_lowercase();
        if let Some(negated) = pattern.strip_prefix('!') {
            if wildcard_match(negated.as_bytes(), name.as_bytes()) {
                return false;
            }
        } else if wildcard_match(pattern.as_bytes(), name.as_bytes()) {
            matched = true;
        }
    }
    matched
}

/// Glob matching with `*` (any run) and `?` (one character).
fn wildcard_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// HMAC-SHA1 (RFC 2104), as OpenSSH hashes known host names.
fn hmac_sha1(key: &[u8], message: &[u8]) -> [u8; 20] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..20].copy_from_slice(&Sha1::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha1::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha1::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// The fingerprint of a key as `ssh-keygen -lf` prints it: `SHA256:` and
/// the unpadded base64 of the SHA-256 of the key blob.
pub fn fingerprint(blob: &[u8]) -> String {
    format!("SHA256:{}", STANDARD_NO_PAD.encode(Sha256::digest(blob)))
}

/// Check a `--host-key-sha256` value: `SHA256:` and 43 characters of
/// unpadded base64 (a trailing `=` is accepted). Gives it normalised.
pub fn parse_fingerprint(text: &str) -> Result<String> {
    let bad = || {
        Error::usage(format!(
            "--host-key-sha256 {text:?} is not a SHA256 fingerprint: give it as ssh-keygen -lf prints it, SHA256: then 43 characters of base64"
        ))
    };
    let body = text.trim().strip_prefix("SHA256:").ok_or_else(bad)?;
    let body = body.trim_end_matches('=');
    match STANDARD_NO_PAD.decode(body) {
        Ok(bytes) if bytes.len() == 32 => Ok(format!("SHA256:{body}")),
        _ => Err(bad()),
    }
}

/// The key type named at the start of a key blob (`ssh-ed25519`, ...).
pub fn blob_key_type(blob: &[u8]) -> Option<&str> {
    let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    std::str::from_utf8(blob.get(4..4 + len)?).ok()
}

/// The host key algorithms that prove a key of `key_type`, best first.
pub fn algorithms_for(key_type: &str) -> &'static [&'static str] {
    match key_type {
        "ssh-ed25519" => &["ssh-ed25519"],
        "ecdsa-sha2-nistp256" => &["ecdsa-sha2-nistp256"],
        "ecdsa-sha2-nistp384" => &["ecdsa-sha2-nistp384"],
        "ecdsa-sha2-nistp521" => &["ecdsa-sha2-nistp521"],
        "ssh-rsa" => &["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIG2a47cgAkKHxIbwsjksZC8fON4z3UE93PtvN9jLgqiI";
    const OTHER: &str = "AAAAC3NzaC1lZDI1NTE5AAAAILMhkLmF6ohrX5rRH6++03gD/yBWvG34ROjktKvAs3sx";

    fn blob(b64: &str) -> Vec<u8> {
        STANDARD.decode(b64).unwrap_or_default()
    }

    #[test]
    fn plain_names_ports_and_wildcards() {
        let text = format!(
            "# comment\n\nprint.example.org,10.0.0.5 ssh-ed25519 {ED} a\n[127.0.0.1]:52222 ssh-ed25519 {OTHER}\n*.example.net,!bad.example.net ssh-ed25519 {ED}\n@cert-authority * ssh-ed25519 {OTHER}\n"
        );
        assert_eq!(keys_for(&text, "print.example.org", 22).len(), 1);
        assert_eq!(keys_for(&text, "PRINT.example.org", 22).len(), 1);
        assert!(keys_for(&text, "print.example.org", 2222).is_empty());
        let local = keys_for(&text, "127.0.0.1", 52222);
        assert_eq!(local.len(), 1);
        assert_eq!(verdict(&local, &blob(OTHER)), Verdict::Match);
        assert_eq!(verdict(&local, &blob(ED)), Verdict::Mismatch);
        assert_eq!(keys_for(&text, "a.example.net", 22).len(), 1);
        assert!(keys_for(&text, "bad.example.net", 22).is_empty());
        assert_eq!(verdict(&[], &blob(ED)), Verdict::Unknown);
    }

    #[test]
    fn hashed_names_as_ssh_keygen_writes_them() {
        // `ssh-keygen -H` of "[127.0.0.1]:52222 ssh-ed25519 ED".
        let salt = [7u8; 20];
        let hash = hmac_sha1(&salt, b"[127.0.0.1]:52222");
        let line = format!(
            "|1|{}|{} ssh-ed25519 {ED}\n",
            STANDARD.encode(salt),
            STANDARD.encode(hash)
        );
        let keys = keys_for(&line, "127.0.0.1", 52222);
        assert_eq!(verdict(&keys, &blob(ED)), Verdict::Match);
        assert!(keys_for(&line, "127.0.0.1", 22).is_empty());
    }

    #[test]
    fn hmac_sha1_matches_rfc_2202() {
        let mac = hmac_sha1(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
        let mac = hmac_sha1(
            &[0xaa; 80],
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "aa4ae5e15272d00e95705637ce8a3b55ed402112");
    }

    #[test]
    fn revoked_keys_are_refused() {
        let text = format!("@revoked * ssh-ed25519 {ED}\nhost ssh-ed25519 {ED}\n");
        assert_eq!(
            verdict(&keys_for(&text, "host", 22), &blob(ED)),
            Verdict::Revoked
        );
    }

    #[test]
    fn fingerprints_as_ssh_keygen_prints_them() {
        // As `ssh-keygen -lf` printed it for this key.
        let fp = fingerprint(&blob(ED));
        assert_eq!(fp, "SHA256:ZXs9uIdkwmD9dQ/kbt5jrwWt9T6qIJ8XvvKlXkx6wIs");
        assert_eq!(parse_fingerprint(&fp).ok(), Some(fp.clone()));
        assert_eq!(parse_fingerprint(&format!("{fp}=")).ok(), Some(fp));
        for bad in ["", "SHA256:", "MD5:aa:bb", "SHA256:abc"] {
            assert_eq!(parse_fingerprint(bad).map_err(|e| e.code()), Err(64));
        }
        assert_eq!(blob_key_type(&blob(ED)), Some("ssh-ed25519"));
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match(b"*", b"anything"));
        assert!(wildcard_match(b"10.0.0.?", b"10.0.0.5"));
        assert!(!wildcard_match(b"10.0.0.?", b"10.0.0.55"));
        assert!(wildcard_match(b"*.org", b"a.b.org"));
        assert!(!wildcard_match(b"*.org", b"a.b.net"));
    }
}
