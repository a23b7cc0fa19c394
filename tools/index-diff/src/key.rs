//! Index keys, stored inline when short (a UUID fits), so that a lookup
//! compares the key in the same cache lines as its entry instead of
//! following a pointer to it: with a million keys in random order, each
//! trip to memory counts.

use indexmap::Equivalent;
use std::hash::{Hash, Hasher};

/// The longest key kept inline.
const INLINE: usize = 38;

/// The index key of a record: the value of a single key column, or the
/// compact JSON array of the values of a composite key.
pub fn index_key(mut parts: Vec<String>) -> String {
    if parts.len() == 1 {
        parts.pop().unwrap_or_default()
    } else {
        serde_json::to_string(&parts).unwrap_or_default()
    }
}

/// A record key as the index holds it.
#[derive(Clone)]
pub enum Key {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<str>),
}

impl Key {
    pub fn new(text: &str) -> Key {
        if text.len() <= INLINE {
            let mut bytes = [0u8; INLINE];
            bytes[..text.len()].copy_from_slice(text.as_bytes());
            Key::Inline {
                len: text.len() as u8,
                bytes,
            }
        } else {
            Key::Heap(text.into())
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Key::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Key::Heap(text) => text.as_bytes(),
        }
    }

    /// The key as text (it was made from text, so it is UTF-8).
    pub fn as_str(&self) -> &str {
        match self {
            Key::Inline { .. } => std::str::from_utf8(self.as_bytes()).unwrap_or_default(),
            Key::Heap(text) => text,
        }
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Key {}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A key to look up, hashed and compared like a [`Key`] without building one.
#[derive(Debug, Clone, Copy)]
pub struct Lookup<'a>(pub &'a str);

impl Hash for Lookup<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.as_bytes().hash(state);
    }
}

impl Equivalent<Key> for Lookup<'_> {
    fn equivalent(&self, key: &Key) -> bool {
        self.0.as_bytes() == key.as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn keys_inline_and_on_the_heap_hash_and_compare_alike() {
        let state = foldhash::fast::RandomState::default();
        for text in ["", "k1", &"u".repeat(38), &"long".repeat(20), "caf\u{e9}"] {
            let key = Key::new(text);
            assert_eq!(key.as_str(), text);
            assert_eq!(state.hash_one(&key), state.hash_one(Lookup(text)));
            assert!(Lookup(text).equivalent(&key));
            assert!(!Lookup("other").equivalent(&key));
        }
        assert!(matches!(Key::new(&"u".repeat(38)), Key::Inline { .. }));
        assert!(matches!(Key::new(&"u".repeat(39)), Key::Heap(_)));
        assert_eq!(std::mem::size_of::<Key>(), 40);
    }
}
