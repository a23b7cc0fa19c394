//! Words for counts in messages: `1 file`, `2 files`.

use std::fmt::Display;

/// A count and its noun: `1 file`, `0 entries`.
pub fn count<N: Copy + Display + PartialEq + From<u8>>(n: N, one: &str, many: &str) -> String {
    format!("{n} {}", noun(n, one, many))
}

/// The noun for a count: `one` for exactly 1, `many` otherwise.
pub fn noun<'a, N: PartialEq + From<u8>>(n: N, one: &'a str, many: &'a str) -> &'a str {
    if n == N::from(1) { one } else { many }
}

/// The plural ending for a count: `""` for exactly 1, `"s"` otherwise.
pub fn plural_s<N: PartialEq + From<u8>>(n: N) -> &'static str {
    noun(n, "", "s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(count(1u64, "file", "files"), "1 file");
        assert_eq!(count(0usize, "entry", "entries"), "0 entries");
        assert_eq!(
            count(2u64, "later batch was", "later batches were"),
            "2 later batches were"
        );
        assert_eq!(noun(1usize, "column", "columns"), "column");
        assert_eq!(noun(3usize, "column", "columns"), "columns");
        assert_eq!(plural_s(1u64), "");
        assert_eq!(plural_s(0usize), "s");
        assert_eq!(plural_s(11u64), "s");
    }
}
