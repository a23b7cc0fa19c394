//! `--where` conditions: `COL=VALUE`, `COL!=VALUE`, `COL~REGEX`, `COL!~REGEX`.

use common::{Error, Result};
use regex::bytes::Regex;

#[derive(Debug, Clone)]
pub enum Test {
    Equals(Vec<u8>),
    Matches(Regex),
}

/// One condition on one column, by output name.
#[derive(Debug, Clone)]
pub struct Filter {
    pub column: String,
    pub test: Test,
    pub negate: bool,
}

impl Filter {
    /// Split at the first `=` or `~`; a `!` just before it negates.
    pub fn parse(text: &str) -> Result<Filter> {
        let at = text.find(['=', '~']).ok_or_else(|| {
            Error::usage("--where takes COL=VALUE, COL!=VALUE, COL~REGEX or COL!~REGEX")
        })?;
        let (mut column, rest) = text.split_at(at);
        let negate = column.ends_with('!');
        if negate {
            column = &column[..column.len() - 1];
        }
        if column.is_empty() {
            return Err(Error::usage(
                "--where has a condition without a column name",
            ));
        }
        let operand = &rest[1..];
        let test = if rest.starts_with('~') {
            let regex = Regex::new(operand).map_err(|e| {
                let detail = e.to_string();
                let last = detail
                    .lines()
                    .last()
                    .unwrap_or("invalid")
                    .trim()
                    .to_string();
                Error::usage(format!(
                    "--where {column:?}: bad regular expression: {last}"
                ))
            })?;
            Test::Matches(regex)
        } else {
            Test::Equals(operand.as_bytes().to_vec())
        };
        Ok(Filter {
            column: column.to_string(),
            test,
            negate,
        })
    }

    pub fn keeps(&self, value: &[u8]) -> bool {
        let hit = match &self.test {
            Test::Equals(v) => v == value,
            Test::Matches(r) => r.is_match(value),
        };
        hit != self.negate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators() -> Result<()> {
        let f = Filter::parse("state=MI")?;
        assert!(f.keeps(b"MI") && !f.keeps(b"OH") && f.column == "state");
        let f = Filter::parse("state!=MI")?;
        assert!(!f.keeps(b"MI") && f.keeps(b""));
        let f = Filter::parse("code~^[0-9]+$")?;
        assert!(f.keeps(b"123") && !f.keeps(b"12a"));
        let f = Filter::parse("code!~x")?;
        assert!(f.keeps(b"abc") && !f.keeps(b"axc"));
        let f = Filter::parse("a=b=c")?;
        assert!(f.keeps(b"b=c"));
        assert_eq!(
            Filter::parse("nothing").map_err(|e| e.code()).err(),
            Some(64)
        );
        assert_eq!(Filter::parse("=x").map_err(|e| e.code()).err(), Some(64));
        assert_eq!(Filter::parse("a~(").map_err(|e| e.code()).err(), Some(64));
        Ok(())
    }
}
