//! Walking the pages of a listing: the URL of each page, and when to stop.

use crate::args::{Options, Paginate, with_query};
use common::http::url::{self, Origin};
use common::jq::Filter;
use common::{Error, Result};
use serde_json::Value;

/// What one fetched page told the pager.
#[derive(Debug)]
pub struct Page<'a> {
    /// The URL that answered.
    pub url: &'a str,
    /// The values of the answer's Link headers.
    pub links: Vec<&'a str>,
    /// The answer as JSON (None for an empty body).
    pub body: Option<&'a Value>,
    /// How many records --records picked from it.
    pub records: u64,
}

/// The state of the walk: where the next page is, if there is one.
#[derive(Debug)]
pub struct Pager<'o> {
    options: &'o Options,
    /// The first URL's origin: a Link to another origin is refused.
    origin: Origin,
    /// Pages fetched so far.
    pub fetched: u64,
    next: Option<String>,
}

impl<'o> Pager<'o> {
    pub fn new(options: &'o Options) -> Result<Pager<'o>> {
        let origin = url::origin(&options.url)?;
        let mut pager = Pager {
            options,
            origin,
            fetched: 0,
            next: None,
        };
        pager.next = Some(pager.numbered_url(0));
        Ok(pager)
    }

    /// The URL of the next page, or None when the listing is done.
    pub fn next_url(&self) -> Option<&str> {
        self.next.as_deref()
    }

    /// Take in the page just fetched and find the next one. Exit 69 for a
    /// Link to another origin, or when --max-pages is reached with pages left.
    pub fn advance(&mut self, page: &Page<'_>) -> Result<()> {
        self.fetched += 1;
        let args = &self.options.args;
        self.next = match args.paginate {
            Paginate::None => None,
            Paginate::Page | Paginate::Offset => {
                // An array answer has nowhere to hold a total.
                let total = match page.body {
                    Some(body @ Value::Object(_)) => total_of(&self.options.total, body)?,
                    _ => None,
                };
                let seen = self.fetched.saturating_mul(args.per);
                let done = page.records == 0
                    || page.records < args.per
                    || total.is_some_and(|total| seen >= total);
                (!done).then(|| self.numbered_url(self.fetched))
            }
            Paginate::Link => match next_link(&page.links) {
                None => None,
                Some(target) => {
                    let next = url::resolve(page.url, target);
                    let origin = url::origin(&next).map_err(|_| {
                        Error::unavailable("the Link header's next URL is not a valid URL")
                    })?;
                    if origin != self.origin {
                        return Err(Error::unavailable(format!(
                            "the Link header's next page is on another origin ({}://{}:{}), \
                             not {}://{}:{}; refusing to send the credentials there",
                            origin.scheme,
                            origin.host,
                            origin.port,
                            self.origin.scheme,
                            self.origin.host,
                            self.origin.port
                        )));
                    }
                    Some(next)
                }
            },
        };
        if self.next.is_some() && self.fetched >= args.max_pages {
            return Err(Error::unavailable(format!(
                "--max-pages {} reached and the listing has more pages; \
                 the records of the pages fetched were written, the rest were not",
                args.max_pages
            )));
        }
        Ok(())
    }

    /// The URL of page `index` (0 for the first) in page and offset modes;
    /// the URL as given otherwise.
    fn numbered_url(&self, index: u64) -> String {
        let args = &self.options.args;
        let per = args.per.to_string();
        let pairs = match args.paginate {
            Paginate::None | Paginate::Link => return self.options.url.clone(),
            Paginate::Page => [
                (
                    args.page_param.clone(),
                    (args.first_page + index).to_string(),
                ),
                (args.per_param.clone(), per),
            ],
            Paginate::Offset => [
                (
                    args.offset_param.clone(),
                    index.saturating_mul(args.per).to_string(),
                ),
                (args.limit_param.clone(), per),
            ],
        };
        with_query(&self.options.url, &pairs)
    }
}

/// The total number of records a page announces: None when the filter
/// gives nothing or null. A number in a string is taken; anything else is
/// exit 65.
fn total_of(filter: &Filter, body: &Value) -> Result<Option<u64>> {
    let bad = |what: &str| Error::data(format!("--total: the page gives {what}, not a count"));
    match filter.first(body)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(n) => Ok(Some(n)),
            None => Err(bad("a number that is not a whole count")),
        },
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| bad("a string")),
        Some(Value::Bool(_)) => Err(bad("a boolean")),
        Some(Value::Array(_)) => Err(bad("an array")),
        Some(Value::Object(_)) => Err(bad("an object")),
    }
}

/// The target of the first `rel="next"` link in Link header values
/// (RFC 8288): `<https://h/x?page=2>; rel="next", <...>; rel="last"`.
pub fn next_link<'a>(values: &[&'a str]) -> Option<&'a str> {
    for value in values {
        let mut rest = *value;
        while let Some(open) = rest.find('<') {
            let after = &rest[open + 1..];
            let close = after.find('>')?;
            let target = &after[..close];
            let params_end = after[close..].find('<').map_or(after.len(), |i| close + i);
            let params = &after[close + 1..params_end];
            if params.split(';').any(is_rel_next) {
                return Some(target.trim());
            }
            rest = &after[params_end..];
        }
    }
    None
}

/// Whether one link parameter is `rel=next` (quoted or not, among other
/// relation types, any case).
fn is_rel_next(param: &str) -> bool {
    let Some((name, value)) = param.split_once('=') else {
        return false;
    };
    name.trim().eq_ignore_ascii_case("rel")
        && value
            .trim()
            .trim_end_matches(',')
            .trim_matches('"')
            .split_ascii_whitespace()
            .any(|rel| rel.eq_ignore_ascii_case("next"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links_are_found() {
        let v = r#"<https://h/x?page=1>; rel="prev", <https://h/x?page=3>; rel="next", <https://h/x?page=9>; rel="last""#;
        assert_eq!(next_link(&[v]), Some("https://h/x?page=3"));
        assert_eq!(
            next_link(&["</items?after=a1>; rel=next"]),
            Some("/items?after=a1")
        );
        assert_eq!(
            next_link(&[
                r#"<https://h/a>; rel="last""#,
                r#"<https://h/b>; title="x"; REL="prefetch Next""#
            ]),
            Some("https://h/b")
        );
        assert_eq!(next_link(&[r#"<https://h/x?page=9>; rel="last""#]), None);
        assert_eq!(next_link(&[]), None);
        assert_eq!(next_link(&["garbage"]), None);
    }

    #[test]
    fn totals_are_counts() {
        let total = Filter::compile_flag("--total", ".metadata.total").ok();
        let Some(total) = total else {
            panic!("the default filter compiles")
        };
        let count = |v: Value| total_of(&total, &v).map_err(|e| e.code());
        assert_eq!(
            count(serde_json::json!({"metadata": {"total": 45}})),
            Ok(Some(45))
        );
        assert_eq!(
            count(serde_json::json!({"metadata": {"total": "45"}})),
            Ok(Some(45))
        );
        assert_eq!(count(serde_json::json!({"data": []})), Ok(None));
        assert_eq!(
            count(serde_json::json!({"metadata": {"total": -1}})),
            Err(65)
        );
        assert_eq!(
            count(serde_json::json!({"metadata": {"total": [1]}})),
            Err(65)
        );
    }
}
