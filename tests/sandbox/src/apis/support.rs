//! Small helpers shared by the dhis2, Primero and OSCaR stand-ins: random ids and tokens,
//! and the timestamp formats those APIs speak.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use serde_json::Value;

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `n` random bytes (from the OS, through uuid's v4 generator).
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + 16);
    while out.len() < n {
        out.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    }
    out.truncate(n);
    out
}

/// `n` random characters out of `alphabet`.
pub fn random_from(alphabet: &[u8], n: usize) -> String {
    random_bytes(n)
        .into_iter()
        .map(|b| char::from(alphabet[usize::from(b) % alphabet.len()]))
        .collect()
}

/// `n` random letters and digits.
pub fn random_alnum(n: usize) -> String {
    random_from(ALNUM, n)
}

/// A dhis2 uid: 11 characters, a letter then letters and digits.
pub fn dhis2_uid() -> String {
    random_from(&ALNUM[..52], 1) + &random_alnum(10)
}

/// Whether `s` has the shape of a dhis2 uid.
pub fn is_dhis2_uid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 11 && b[0].is_ascii_alphabetic() && b.iter().all(u8::is_ascii_alphanumeric)
}

/// "2024-05-01T10:00:00.123Z".
pub fn iso_millis(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A point in time from the forms these APIs use: RFC 3339, "YYYY-MM-DDTHH:MM:SS[.fff]"
/// or "YYYY-MM-DD HH:MM:SS" (taken as UTC), or a bare date (midnight UTC).
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Some(t.and_utc());
        }
    }
    parse_date(s)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// A calendar date written "YYYY-MM-DD" (exactly that shape).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    shaped
        .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .flatten()
}

/// The text of a scalar JSON value as these APIs compare it ("9", "true", "x"); None for
/// null, arrays and objects.
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_have_the_dhis2_shape() {
        for _ in 0..200 {
            let uid = dhis2_uid();
            assert!(is_dhis2_uid(&uid), "{uid}");
        }
        assert!(!is_dhis2_uid("1bcdefghijk"));
        assert!(!is_dhis2_uid("abcdefghij"));
        assert!(!is_dhis2_uid("abcdefghij-"));
    }

    #[test]
    fn times_in_the_forms_the_apis_use() {
        let want = "2023-08-24T00:00:00.000Z";
        for s in [
            "2023-08-24T00:00:00Z",
            "2023-08-24T02:00:00+02:00",
            "2023-08-24T00:00:00.000",
            "2023-08-24 00:00:00",
            "2023-08-24",
        ] {
            assert_eq!(parse_time(s).map(iso_millis).as_deref(), Some(want), "{s}");
        }
        assert!(parse_time("24/08/2023").is_none());
        assert!(parse_date("2023-02-30").is_none());
        assert!(parse_date("2023-2-3").is_none());
        assert!(parse_date("2023/02/03").is_none());
    }
}
