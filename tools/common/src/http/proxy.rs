//! The proxy of the environment and the route of each request: a loopback
//! target is always reached directly, as is a host NO_PROXY names; any
//! other goes through the proxy when one is set. A hop that would carry a
//! secret or a record in clear off this machine is refused before anything
//! is sent, unless --insecure-plaintext: a plain http:// target, and a
//! plain http:// proxy on another machine given a user and password.
//!
//! An https:// target goes through a plain http:// proxy without the flag
//! when the proxy has no credentials: the CONNECT request names only the
//! host and port, which DNS and the TLS handshake show anyway, and
//! everything after it is TLS to the target, whose certificate is checked.

use super::url::{self, Origin};
use crate::error::{Error, Result};
use std::fmt;
use ureq::config::ConfigBuilder;
use ureq::http::{Request, Response, Uri};
use ureq::typestate::HttpCrateScope;
use ureq::{AsSendBody, Body, ProxyProtocol};

/// The variables a proxy is read from; the first one set is used.
const PROXY_VARS: &[&str] = &[
    "ALL_PROXY",
    "all_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
];

/// The variables that list the hosts to reach directly.
const NO_PROXY_VARS: &[&str] = &["NO_PROXY", "no_proxy"];

/// A proxy the environment sets, with the hosts it is bypassed for.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct Proxy {
    /// The variable it came from, for messages.
    var: &'static str,
    proxy: ureq::Proxy,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown())
    }
}

impl Proxy {
    /// The proxy of the first of [`PROXY_VARS`] that is set and not empty,
    /// bypassed for the hosts of NO_PROXY. A value that is not an http://
    /// or https:// proxy is exit 78.
    pub(super) fn from_env() -> Result<Option<Proxy>> {
        let no_proxy = NO_PROXY_VARS.iter().find_map(|var| std::env::var(var).ok());
        for &var in PROXY_VARS {
            if let Ok(value) = std::env::var(var)
                && !value.trim().is_empty()
            {
                return Proxy::parse(var, &value, no_proxy.as_deref()).map(Some);
            }
        }
        Ok(None)
    }

    /// The proxy `value` of variable `var`, bypassed for the hosts,
    /// domain suffixes and addresses of `no_proxy` (comma-separated). The
    /// value is never echoed: it may hold a password.
    pub(super) fn parse(var: &'static str, value: &str, no_proxy: Option<&str>) -> Result<Proxy> {
        let bad = |why: &str| Error::config(format!("{var}: {why}"));
        let not_a_proxy = || bad("not a proxy URL: give http://HOST:PORT or https://HOST:PORT");
        let parsed = ureq::Proxy::new(value.trim()).map_err(|_| not_a_proxy())?;
        let protocol = parsed.protocol();
        if !matches!(protocol, ProxyProtocol::Http | ProxyProtocol::Https) {
            return Err(bad(
                "only an http:// or https:// proxy can be used (not SOCKS)",
            ));
        }
        let mut builder = ureq::Proxy::builder(protocol)
            .host(parsed.host())
            .port(parsed.port());
        if let Some(user) = parsed.username() {
            builder = builder.username(user);
        }
        if let Some(password) = parsed.password() {
            builder = builder.password(password);
        }
        let entries = no_proxy.unwrap_or_default().split(',').map(str::trim);
        for entry in entries.filter(|entry| !entry.is_empty()) {
            builder = builder.no_proxy(entry);
        }
        let proxy = builder.build().map_err(|_| not_a_proxy())?;
        Ok(Proxy { var, proxy })
    }

    /// The proxy for messages: scheme, host and port, and the variable it
    /// came from; never its user or password.
    pub(super) fn shown(&self) -> String {
        let scheme = match self.proxy.protocol() {
            ProxyProtocol::Https => "https",
            _ => "http",
        };
        format!(
            "{scheme}://{}:{} ({})",
            self.proxy.host(),
            self.proxy.port(),
            self.var
        )
    }

    /// Whether the hop to the proxy crosses the network in clear: plain
    /// http:// to a host that is not loopback.
    fn is_plain_off_machine(&self) -> bool {
        self.proxy.protocol() == ProxyProtocol::Http && !url::is_loopback_host(self.proxy.host())
    }

    /// Whether the proxy is given a user or password (sent as Proxy-Authorization).
    fn has_credentials(&self) -> bool {
        self.proxy.username().is_some() || self.proxy.password().is_some()
    }
}

/// How a request reaches its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Route<'a> {
    Direct,
    Through(&'a Proxy),
}

/// The route to `target`: straight to a loopback host or one NO_PROXY
/// names, else through `proxy` when there is one.
pub(super) fn route<'a>(proxy: Option<&'a Proxy>, target: &Uri) -> Route<'a> {
    let loopback = target.host().is_some_and(url::is_loopback_host);
    match proxy {
        Some(proxy) if !loopback && !proxy.proxy.is_no_proxy(target) => Route::Through(proxy),
        _ => Route::Direct,
    }
}

/// Refuse a route that would carry credentials or records in clear off
/// this machine (exit 64), unless `insecure_plaintext`. `url` is named in
/// the message without its query string.
pub(super) fn check_route(
    url: &str,
    target: &Origin,
    route: Route,
    insecure_plaintext: bool,
) -> Result<()> {
    if insecure_plaintext {
        return Ok(());
    }
    if target.scheme == "http" && !url::is_loopback_host(&target.host) {
        return Err(Error::usage(format!(
            "{}: plain http:// sends the credentials and the records in clear: it is allowed only to a loopback host (127.0.0.1, ::1, localhost), or with --insecure-plaintext",
            url::shown(url)
        )));
    }
    if let Route::Through(proxy) = route
        && proxy.is_plain_off_machine()
        && proxy.has_credentials()
    {
        return Err(Error::usage(format!(
            "{}://{}:{}: the proxy {} is plain http:// on another machine, so its user and password would cross the network in clear: use an https:// proxy, one on loopback, or --insecure-plaintext",
            target.scheme,
            target.host,
            target.port,
            proxy.shown()
        )));
    }
    Ok(())
}

/// The run's ureq agent, which sends each request on its route: through
/// the proxy, or straight to its target. Its configuration has no proxy of
/// its own; a request through the proxy gets it as its own configuration.
pub(super) struct RoutedAgent {
    agent: ureq::Agent,
    proxy: Option<Proxy>,
}

impl RoutedAgent {
    /// An agent of `config` (built with `.proxy(None)`) that routes by `proxy`.
    pub(super) fn new(config: ureq::config::Config, proxy: Option<Proxy>) -> RoutedAgent {
        RoutedAgent {
            agent: ureq::Agent::new_with_config(config),
            proxy,
        }
    }

    /// The route to `target`.
    pub(super) fn route(&self, target: &Uri) -> Route<'_> {
        route(self.proxy.as_ref(), target)
    }

    /// The proxy a request goes through, when its route has one.
    fn proxy_for(&self, target: &Uri) -> Option<ureq::Proxy> {
        match self.route(target) {
            Route::Through(proxy) => Some(proxy.proxy.clone()),
            Route::Direct => None,
        }
    }

    /// [`ureq::Agent::configure_request`], with the request's route.
    pub(super) fn configure_request<S: AsSendBody>(
        &self,
        request: Request<S>,
    ) -> ConfigBuilder<HttpCrateScope<S>> {
        let proxy = self.proxy_for(request.uri());
        let builder = self.agent.configure_request(request);
        match proxy {
            Some(proxy) => builder.proxy(Some(proxy)),
            None => builder,
        }
    }

    /// [`ureq::Agent::run`] on the request's route.
    pub(super) fn run<S: AsSendBody>(
        &self,
        request: Request<S>,
    ) -> std::result::Result<Response<Body>, ureq::Error> {
        match self.proxy_for(request.uri()) {
            Some(proxy) => {
                let request = self.agent.configure_request(request).proxy(Some(proxy));
                self.agent.run(request.build())
            }
            None => self.agent.run(request),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Proxies: plain http:// on another machine, without and with a
    /// user and password; plain on loopback; https:// on another machine.
    const OFF: &str = "http://192.0.2.1:3128";
    const OFF_LOGIN: &str = "http://u:pr0xy-pw@192.0.2.1:3128";
    const LOOPBACK_LOGIN: &str = "http://u:pr0xy-pw@127.0.0.1:3128";
    const TLS_LOGIN: &str = "https://u:pr0xy-pw@proxy.example.net:3129";
    const NONE: &str = "";
    /// A NO_PROXY list with a domain suffix in it.
    const SUFFIX: &str = "a.test, .ex.org";

    /// The route of a request and whether it may be sent, for a target,
    /// the proxy variable's value, NO_PROXY and --insecure-plaintext:
    /// "direct" or "proxy", and the exit code of a refusal.
    #[test]
    fn routes_and_their_checks() -> Result<()> {
        for (target, proxy, no_proxy, insecure, expected) in [
            // A loopback target never goes through a proxy.
            ("http://127.0.0.1:9/x", OFF, NONE, false, "direct"),
            ("http://127.0.0.1:9/x", OFF_LOGIN, NONE, false, "direct"),
            ("http://localhost/x", TLS_LOGIN, NONE, false, "direct"),
            ("http://[::1]:8080/x", OFF, NONE, false, "direct"),
            ("https://127.8.9.1/x", OFF, NONE, false, "direct"),
            // Without a proxy: plain http only to loopback, or with the flag.
            ("https://ex.org/x", NONE, NONE, false, "direct"),
            ("http://ex.org/x", NONE, NONE, false, "direct, 64"),
            ("http://ex.org/x", NONE, NONE, true, "direct"),
            // HTTPS through a plain proxy: CONNECT, then TLS to the target;
            // but the proxy's own password would cross the network in clear.
            ("https://ex.org/x", OFF, NONE, false, "proxy"),
            ("https://ex.org/x", OFF_LOGIN, NONE, false, "proxy, 64"),
            ("https://ex.org/x", OFF_LOGIN, NONE, true, "proxy"),
            ("https://ex.org/x", LOOPBACK_LOGIN, NONE, false, "proxy"),
            ("https://ex.org/x", TLS_LOGIN, NONE, false, "proxy"),
            // Plain http through any proxy is plain http to the target.
            ("http://ex.org/x", LOOPBACK_LOGIN, NONE, false, "proxy, 64"),
            ("http://ex.org/x", TLS_LOGIN, NONE, false, "proxy, 64"),
            ("http://ex.org/x", OFF, NONE, true, "proxy"),
            // NO_PROXY: hosts, domain suffixes and * reached directly.
            ("https://ex.org/x", OFF_LOGIN, "ex.org", false, "direct"),
            ("https://b.ex.org/x", OFF_LOGIN, SUFFIX, false, "direct"),
            ("https://ex.org/x", OFF_LOGIN, "*", false, "direct"),
            ("https://ex.org/x", OFF, "other.org", false, "proxy"),
        ] {
            let case =
                format!("{target} via {proxy:?}, NO_PROXY {no_proxy:?}, insecure {insecure}");
            let proxy = match proxy {
                NONE => None,
                value => Some(Proxy::parse("HTTP_PROXY", value, Some(no_proxy))?),
            };
            let origin = url::origin(target)?;
            let uri: Uri = target.parse().map_err(|_| Error::usage(case.clone()))?;
            let route = route(proxy.as_ref(), &uri);
            let checked = check_route(target, &origin, route, insecure);
            let mut outcome = match route {
                Route::Direct => "direct".to_string(),
                Route::Through(_) => "proxy".to_string(),
            };
            if let Err(e) = &checked {
                outcome.push_str(&format!(", {}", e.code()));
                assert!(!e.message().contains("pr0xy-pw"), "{case}: {}", e.message());
            }
            assert_eq!(outcome, expected, "{case}");
        }
        Ok(())
    }

    #[test]
    fn proxy_values_that_cannot_be_used_are_config_errors_without_the_value() -> Result<()> {
        for value in [
            "socks5://u:pr0xy-pw@192.0.2.1:1080",
            "ftp://u:pr0xy-pw@h:21",
            "http://",
        ] {
            let e = Proxy::parse("ALL_PROXY", value, None).err();
            assert!(
                e.as_ref().is_some_and(|e| e.code() == 78
                    && e.message().starts_with("ALL_PROXY: ")
                    && !e.message().contains("pr0xy-pw")),
                "{value}: {e:?}"
            );
        }
        let proxy = Proxy::parse("HTTPS_PROXY", OFF_LOGIN, None)?;
        assert_eq!(proxy.shown(), "http://192.0.2.1:3128 (HTTPS_PROXY)");
        assert_eq!(format!("{proxy:?}"), proxy.shown());
        Ok(())
    }
}
