//! Flags, validated into [`Options`] before any request is sent.

use clap::{ArgMatches, FromArgMatches, Parser, ValueEnum};
use common::http::{HttpArgs, url};
use common::jq::Filter;
use common::{Error, Result};

/// How the pages of a listing are walked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Paginate {
    /// One request; the answer is the whole listing.
    None,
    /// page=N and per=SIZE parameters (Primero, Rails APIs).
    Page,
    /// offset=N and limit=SIZE parameters (Box, many REST APIs).
    Offset,
    /// Follow the Link header's rel="next" URL (GitHub-style APIs).
    Link,
}

/// GET JSON from an API with auth and pagination, and write its records as
/// NDJSON.
///
/// Each page is fetched (with the auth scheme, TLS checks and retries of
/// --auth and the HTTP flags), its records are picked with --records (by
/// default: the elements of an array answer, or an object answer as one
/// record), and written to stdout as one JSON object per line, page by page.
/// A summary goes to stderr at the end.
#[derive(Parser, Debug)]
#[command(name = "http-get", version)]
pub struct Args {
    /// The URL to GET (https://, or http:// to a loopback host). Query
    /// parameters are best given with --query, which encodes them.
    #[arg(value_name = "URL")]
    pub url: String,

    /// Add a query parameter (repeatable), percent-encoded: spaces, quotes,
    /// colons and the like may be given as they are, e.g. --query
    /// "since_date='2023-08-24 00:00:00'".
    #[arg(long, value_name = "NAME=VALUE")]
    pub query: Vec<String>,

    /// A jq filter picking the records of one page, e.g. '.data[]'. Each
    /// output must be a JSON object. Default: an array answer gives its
    /// elements, an object answer is one record.
    #[arg(short, long, value_name = "JQ")]
    pub records: Option<String>,

    /// How to walk the pages: none (one request), page, offset or link.
    #[arg(long, value_enum, value_name = "HOW", default_value_t = Paginate::None,
          help_heading = "Paging")]
    pub paginate: Paginate,

    /// Records per page, sent as per= (page) or limit= (offset).
    #[arg(long, value_name = "N", default_value_t = 100,
          value_parser = clap::value_parser!(u64).range(1..), help_heading = "Paging")]
    pub per: u64,

    /// The number of the first page (page).
    #[arg(long, value_name = "N", default_value_t = 1, help_heading = "Paging")]
    pub first_page: u64,

    /// A jq filter giving the total number of records from a page (page,
    /// offset); paging stops when it is reached. A page without it (null)
    /// leaves only the short-page rule.
    #[arg(
        long,
        value_name = "JQ",
        default_value = ".metadata.total",
        help_heading = "Paging"
    )]
    pub total: String,

    /// The name of the page number parameter (page).
    #[arg(
        long,
        value_name = "NAME",
        default_value = "page",
        help_heading = "Paging"
    )]
    pub page_param: String,

    /// The name of the page size parameter (page).
    #[arg(
        long,
        value_name = "NAME",
        default_value = "per",
        help_heading = "Paging"
    )]
    pub per_param: String,

    /// The name of the offset parameter (offset).
    #[arg(
        long,
        value_name = "NAME",
        default_value = "offset",
        help_heading = "Paging"
    )]
    pub offset_param: String,

    /// The name of the page size parameter (offset).
    #[arg(
        long,
        value_name = "NAME",
        default_value = "limit",
        help_heading = "Paging"
    )]
    pub limit_param: String,

    /// Fetch at most N pages. When the listing has more, the pages fetched
    /// are written and the run fails with exit 69, so that a pipeline never
    /// takes a cut listing for the whole one.
    #[arg(long, value_name = "N", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..), help_heading = "Paging")]
    pub max_pages: u64,

    /// Leave out the summary line on stderr.
    #[arg(long)]
    pub quiet: bool,

    #[command(flatten)]
    pub http: HttpArgs,
}

/// The flags, checked, with the filters compiled.
#[derive(Debug)]
pub struct Options {
    pub args: Args,
    /// The URL with the --query parameters appended.
    pub url: String,
    pub records: Option<Filter>,
    pub total: Filter,
}

impl Options {
    pub fn from_matches(matches: &ArgMatches) -> Result<Options> {
        let args = Args::from_arg_matches(matches).map_err(|e| Error::usage(e.to_string()))?;
        url::origin(&args.url)?;
        let records = match &args.records {
            Some(text) => Some(Filter::compile_flag("--records", text)?),
            None => None,
        };
        let total = Filter::compile_flag("--total", &args.total)?;
        let mut pairs = Vec::with_capacity(args.query.len());
        for text in &args.query {
            let (name, value) = common::cli::parse_pair("--query", text)?;
            if paging_params(&args).contains(&name.as_str()) {
                return Err(Error::usage(format!(
                    "--query {name}: --paginate {} sets that parameter on each page",
                    args.paginate
                        .to_possible_value()
                        .map(|v| v.get_name().to_string())
                        .unwrap_or_default()
                )));
            }
            pairs.push((name, value));
        }
        let url = with_query(&args.url, &pairs);
        Ok(Options {
            args,
            url,
            records,
            total,
        })
    }
}

/// The parameters the paging mode sets itself.
fn paging_params(args: &Args) -> Vec<&str> {
    match args.paginate {
        Paginate::None | Paginate::Link => Vec::new(),
        Paginate::Page => vec![&args.page_param, &args.per_param],
        Paginate::Offset => vec![&args.offset_param, &args.limit_param],
    }
}

/// `url` with `name=value` pairs appended to its query string, both
/// percent-encoded (a space is %20, a quote %27).
pub fn with_query(url: &str, pairs: &[(String, String)]) -> String {
    // A fragment is never sent; drop it so the parameters land in the query.
    let base = url.split('#').next().unwrap_or(url);
    let mut out = base.to_string();
    for (name, value) in pairs {
        if !out.contains('?') {
            out.push('?');
        } else if !out.ends_with(['?', '&']) {
            out.push('&');
        }
        out.push_str(&url::encode_query_value(name));
        out.push('=');
        out.push_str(&url::encode_query_value(value));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn query_values_are_encoded_and_appended() {
        let url = with_query(
            "https://h/oscar/api/v1/organizations/clients",
            &pairs(&[
                ("since_date", "'2023-08-24 00:00:00'"),
                ("referred_external", "true"),
            ]),
        );
        assert_eq!(
            url,
            "https://h/oscar/api/v1/organizations/clients?since_date=%272023-08-24%2000%3A00%3A00%27&referred_external=true"
        );
        let url = with_query(
            "https://h/api/v2/cases?remote=true",
            &pairs(&[("last_updated_at", "2023-08-24T00:00:00Z..")]),
        );
        assert_eq!(
            url,
            "https://h/api/v2/cases?remote=true&last_updated_at=2023-08-24T00%3A00%3A00Z.."
        );
        assert_eq!(
            with_query("https://h/x?", &pairs(&[("a", "1")])),
            "https://h/x?a=1"
        );
        assert_eq!(
            with_query("https://h/x#f", &pairs(&[("a b", "&=")])),
            "https://h/x?a%20b=%26%3D"
        );
        assert_eq!(with_query("https://h/x", &[]), "https://h/x");
    }
}
