//! Shell-style name patterns for --glob: `*` (any run of characters, also
//! none), `?` (one character), `[...]` (one character of a set, with `a-z`
//! ranges, negated by a leading `!` or `^`) and `\` (the next character as
//! it is). A pattern matches a whole name, case-sensitively; `*` also
//! matches a leading dot.

use common::{Error, Result};

/// A compiled pattern.
#[derive(Clone, Debug)]
pub struct Glob {
    tokens: Vec<Token>,
}

#[derive(Clone, Debug)]
enum Token {
    Char(char),
    AnyChar,
    Star,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl Token {
    /// Whether this token (one that is not `*`) matches `c`.
    fn matches_one(&self, c: char) -> bool {
        match self {
            Token::Char(want) => *want == c,
            Token::AnyChar => true,
            Token::Star => false,
            Token::Class { negated, ranges } => {
                ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated
            }
        }
    }
}

impl Glob {
    /// Compile `pattern`; a `[` without its `]`, a trailing `\` or an empty
    /// pattern is a usage error naming the flag.
    pub fn parse(pattern: &str) -> Result<Glob> {
        let bad = |why: &str| Error::usage(format!("--glob {pattern:?}: {why}"));
        if pattern.is_empty() {
            return Err(bad("an empty pattern matches no name"));
        }
        let mut tokens = Vec::new();
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            let token = match c {
                '*' => {
                    // Consecutive stars are one star.
                    if matches!(tokens.last(), Some(Token::Star)) {
                        continue;
                    }
                    Token::Star
                }
                '?' => Token::AnyChar,
                '\\' => Token::Char(chars.next().ok_or_else(|| bad("it ends with a lone \\"))?),
                '[' => {
                    let negated = chars.next_if(|c| matches!(c, '!' | '^')).is_some();
                    let mut ranges = Vec::new();
                    let mut first = true;
                    loop {
                        let c = chars.next().ok_or_else(|| bad("a [ has no closing ]"))?;
                        let lo = match c {
                            ']' if !first => break,
                            '\\' => chars.next().ok_or_else(|| bad("a [ has no closing ]"))?,
                            other => other,
                        };
                        first = false;
                        let range = chars.peek() == Some(&'-')
                            && chars.clone().nth(1).is_some_and(|next| next != ']');
                        if range {
                            chars.next();
                            let hi = match chars.next() {
                                Some('\\') => {
                                    chars.next().ok_or_else(|| bad("a [ has no closing ]"))?
                                }
                                Some(hi) => hi,
                                None => return Err(bad("a [ has no closing ]")),
                            };
                            if hi < lo {
                                return Err(bad(&format!(
                                    "the range {lo}-{hi} in [...] is backwards"
                                )));
                            }
                            ranges.push((lo, hi));
                        } else {
                            ranges.push((lo, lo));
                        }
                    }
                    Token::Class { negated, ranges }
                }
                other => Token::Char(other),
            };
            tokens.push(token);
        }
        Ok(Glob { tokens })
    }

    /// Whether the whole of `name` matches.
    pub fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().collect();
        let tokens = &self.tokens;
        let (mut t, mut n) = (0, 0);
        // Where the last star was, and the name position it now covers up to.
        let mut star: Option<(usize, usize)> = None;
        while n < name.len() {
            match tokens.get(t) {
                Some(Token::Star) => {
                    star = Some((t, n));
                    t += 1;
                    continue;
                }
                Some(token) if token.matches_one(name[n]) => {
                    t += 1;
                    n += 1;
                    continue;
                }
                _ => {}
            }
            // Let the last star take one more character, and try again.
            match star {
                Some((star_t, star_n)) => {
                    star = Some((star_t, star_n + 1));
                    t = star_t + 1;
                    n = star_n + 1;
                }
                None => return false,
            }
        }
        tokens[t..].iter().all(|token| matches!(token, Token::Star))
    }
}

/// Whether `name` passes the --glob patterns: any of them, or all names
/// when none was given.
pub fn any_matches(globs: &[Glob], name: &str) -> bool {
    globs.is_empty() || globs.iter().any(|g| g.matches(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(pattern: &str) -> Glob {
        match Glob::parse(pattern) {
            Ok(g) => g,
            Err(e) => panic!("{pattern}: {e}"),
        }
    }

    #[test]
    fn stars_and_question_marks() {
        let csv = glob("*.csv");
        for name in [
            "a.csv",
            ".csv",
            "business_requisition_2020-05-07_1000.csv",
            "x.csv.csv",
        ] {
            assert!(csv.matches(name), "{name}");
        }
        for name in ["a.CSV", "a.csv.bak", "acsv", "a.cs"] {
            assert!(!csv.matches(name), "{name}");
        }
        let q = glob("report_??.pdf");
        assert!(q.matches("report_01.pdf"));
        assert!(!q.matches("report_1.pdf") && !q.matches("report_001.pdf"));
        assert!(glob("*").matches("") && glob("*").matches("anything at all"));
        assert!(glob("a*b*c").matches("aXXbYYc") && glob("a*b*c").matches("abc"));
        assert!(!glob("a*b*c").matches("aXXbYY"));
        assert!(glob("**x").matches("x") && glob("*x*").matches("yxy"));
        assert!(glob("*a*a*a*b").matches("aaaaaaaaaaaaaaab"));
        assert!(!glob("*a*a*a*b").matches("aaaaaaaaaaaaaaaa"));
        assert!(glob("é*").matches("éte") && glob("?").matches("é"));
    }

    #[test]
    fn classes_ranges_negation_and_escapes() {
        let digits = glob("[0-9][0-9]-*.csv");
        assert!(digits.matches("05-07.csv") && !digits.matches("5a-07.csv"));
        let not = glob("[!.]*");
        assert!(not.matches("a.csv") && !not.matches(".hidden"));
        assert!(glob("[^.]*").matches("b") && !glob("[^.]*").matches(".b"));
        let set = glob("[abc-]");
        for name in ["a", "b", "c", "-"] {
            assert!(set.matches(name), "{name}");
        }
        assert!(!set.matches("d"));
        assert!(glob("[]]").matches("]") && glob("[!]]").matches("x"));
        assert!(glob(r"\*.csv").matches("*.csv") && !glob(r"\*.csv").matches("a.csv"));
        assert!(glob(r"[\]]").matches("]"));
        assert!(glob("a[.]b").matches("a.b") && !glob("a[.]b").matches("axb"));
    }

    #[test]
    fn bad_patterns_are_usage_errors() {
        for pattern in ["", "[abc", "a\\", "[z-a]", "[", "[!"] {
            let code = Glob::parse(pattern).err().map(|e| e.code());
            assert_eq!(code, Some(64), "{pattern:?}");
        }
    }

    #[test]
    fn no_pattern_lets_every_name_through() {
        assert!(any_matches(&[], "x"));
        let globs = [glob("*.csv"), glob("*.xlsx")];
        assert!(any_matches(&globs, "a.xlsx") && any_matches(&globs, "a.csv"));
        assert!(!any_matches(&globs, "a.pdf"));
    }
}
