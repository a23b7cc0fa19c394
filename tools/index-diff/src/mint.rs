//! Remote ids minted for new keys.

use crate::args::Mint;
use rand::Rng;

const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const ALPHANUMERIC: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// A new remote id of the given kind, from the OS-seeded thread generator.
pub fn mint(kind: Mint) -> String {
    match kind {
        Mint::Dhis2Uid => dhis2_uid(&mut rand::rng()),
        Mint::Uuid => uuid::Uuid::new_v4().to_string(),
    }
}

/// A dhis2 uid: 11 characters, a letter then 10 letters or digits, each
/// drawn uniformly (as dhis2's own CodeGenerator does).
pub fn dhis2_uid<R: Rng>(rng: &mut R) -> String {
    let mut uid = String::with_capacity(11);
    uid.push(char::from(LETTERS[rng.random_range(0..LETTERS.len())]));
    for _ in 0..10 {
        uid.push(char::from(
            ALPHANUMERIC[rng.random_range(0..ALPHANUMERIC.len())],
        ));
    }
    uid
}

/// Whether a text has the shape of a dhis2 uid.
#[cfg(test)]
fn is_dhis2_uid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 11
        && bytes[0].is_ascii_alphabetic()
        && bytes.iter().all(u8::is_ascii_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dhis2_uids_have_the_shape_and_use_every_character() {
        let mut seen_first = std::collections::HashSet::new();
        let mut seen_rest = std::collections::HashSet::new();
        for _ in 0..5000 {
            let uid = mint(Mint::Dhis2Uid);
            assert!(is_dhis2_uid(&uid), "{uid}");
            seen_first.insert(uid.as_bytes()[0]);
            seen_rest.extend(uid.bytes().skip(1));
        }
        assert_eq!(seen_first.len(), 52);
        assert_eq!(seen_rest.len(), 62);
    }

    #[test]
    fn uuids_are_version_4() {
        let id = mint(Mint::Uuid);
        let parsed = uuid::Uuid::parse_str(&id).map(|u| u.get_version_num());
        assert_eq!(parsed.ok(), Some(4));
        assert_ne!(mint(Mint::Uuid), id);
    }
}
