//! Database URLs: `sqlite:PATH`, `sqlite::memory:`, `postgres://...`,
//! `mysql://...` and `mariadb://...`. A URL's password never shows in
//! Debug or Display.

use crate::error::{Error, Result};
use crate::secret::Secret;
use std::fmt;
use std::path::PathBuf;

/// The three engines the database tools speak to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
    /// MariaDB and MySQL.
    Mysql,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "SQLite",
            Engine::Postgres => "PostgreSQL",
            Engine::Mysql => "MariaDB/MySQL",
        }
    }
}

/// Where a SQLite database lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SqliteTarget {
    File(PathBuf),
    Memory,
}

/// A parsed database URL.
#[derive(Clone, PartialEq, Eq)]
pub struct DbUrl {
    pub engine: Engine,
    /// For SQLite only.
    pub sqlite: Option<SqliteTarget>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    password: Option<String>,
    pub database: Option<String>,
    /// A Unix socket: the socket's folder for PostgreSQL (`?host=/run/postgresql`),
    /// the socket file for MariaDB (`?socket=/run/mysqld/mysqld.sock`).
    pub socket: Option<String>,
}

impl DbUrl {
    /// Parse a URL. Errors never repeat the URL, which may hold a password.
    pub fn parse(text: &str) -> Result<DbUrl> {
        let text = text.trim();
        let (scheme, rest) = text.split_once(':').ok_or_else(|| {
            Error::usage(
                "database URL has no scheme: expected sqlite:PATH, postgres://... or mysql://...",
            )
        })?;
        let engine = match scheme.to_ascii_lowercase().as_str() {
            "sqlite" | "sqlite3" => return Self::parse_sqlite(rest),
            "postgres" | "postgresql" => Engine::Postgres,
            "mysql" | "mariadb" => Engine::Mysql,
            other => {
                return Err(Error::usage(format!(
                    "database URL scheme {other:?} is not one of sqlite, postgres, postgresql, mysql, mariadb"
                )));
            }
        };
        let rest = rest
            .strip_prefix("//")
            .ok_or_else(|| Error::usage(format!("a {scheme} URL starts with {scheme}://")))?;
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = match rest.split_once('/') {
            Some((a, p)) => (a, p),
            None => (rest, ""),
        };
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(u) => match u.split_once(':') {
                Some((name, pass)) => (
                    Some(decode(name, "user name")?),
                    Some(decode(pass, "password")?),
                ),
                None => (Some(decode(u, "user name")?), None),
            },
        };
        let (host, port) = split_host_port(hostport)?;
        let mut url = DbUrl {
            engine,
            sqlite: None,
            host,
            port,
            user: user.filter(|u| !u.is_empty()),
            password,
            database: Some(decode(path, "database name")?).filter(|d| !d.is_empty()),
            socket: None,
        };
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match (engine, key) {
                (Engine::Postgres, "host") | (Engine::Mysql, "socket") => {
                    url.socket = Some(decode(value, key)?);
                }
                (Engine::Postgres, "sslmode") if value == "disable" || value == "prefer" => {}
                (Engine::Postgres, "sslmode") | (_, "ssl" | "ssl-mode" | "sslmode" | "tls") => {
                    return Err(Error::usage(
                        "TLS to the database is not supported yet: connect over loopback or a Unix socket (an SSH tunnel or stunnel for a remote server)",
                    ));
                }
                _ => {
                    return Err(Error::usage(format!(
                        "unknown {} URL parameter {key:?} (known: {})",
                        engine.name(),
                        if engine == Engine::Postgres {
                            "host, sslmode=disable"
                        } else {
                            "socket"
                        }
                    )));
                }
            }
        }
        if url.host.is_none() && url.socket.is_none() {
            url.host = Some("localhost".into());
        }
        Ok(url)
    }

    fn parse_sqlite(rest: &str) -> Result<DbUrl> {
        let path = rest.strip_prefix("//").unwrap_or(rest);
        let target = match path {
            "" => {
                return Err(Error::usage(
                    "sqlite: URL has no path: use sqlite:FILE or sqlite::memory:",
                ));
            }
            ":memory:" => SqliteTarget::Memory,
            p => SqliteTarget::File(PathBuf::from(p)),
        };
        Ok(DbUrl {
            engine: Engine::Sqlite,
            sqlite: Some(target),
            host: None,
            port: None,
            user: None,
            password: None,
            database: None,
            socket: None,
        })
    }

    /// The URL a tool connects to, from `--db` (or `DATABASE_URL`, which
    /// clap fills in) and `--password-env`. No URL is a configuration error
    /// (78). A password in a URL typed on the command line is refused (64),
    /// since every user on the machine can read command lines in ps.
    pub fn from_flags(
        db: Option<&str>,
        db_on_command_line: bool,
        password_env: Option<&str>,
    ) -> Result<DbUrl> {
        let Some(text) = db.filter(|t| !t.trim().is_empty()) else {
            return Err(Error::config(
                "no database: give --db URL or set DATABASE_URL",
            ));
        };
        let mut url = DbUrl::parse(text)?;
        if url.has_password() && db_on_command_line {
            return Err(Error::usage(
                "--db has a password, which other users see in ps: put the URL in DATABASE_URL, or the password in a variable named by --password-env",
            ));
        }
        if let Some(name) = password_env {
            url.set_password(crate::secret::from_env(name)?);
        }
        Ok(url)
    }

    /// Whether the URL carries a password.
    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }

    /// The password from the URL, if any.
    pub fn password(&self) -> Option<Secret> {
        self.password.clone().map(Secret::new)
    }

    /// Replace the password (from `--password-env`).
    pub fn set_password(&mut self, password: Secret) {
        self.password = Some(password.expose().to_string());
    }

    /// Whether traffic stays on this machine: SQLite, a Unix socket, or a
    /// loopback host. Only then is a plaintext connection allowed by default.
    pub fn is_local(&self) -> bool {
        if self.engine == Engine::Sqlite || self.socket.is_some() {
            return true;
        }
        match self.host.as_deref() {
            None => true,
            Some(h) if h.eq_ignore_ascii_case("localhost") => true,
            Some(h) => h
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback()),
        }
    }
}

/// The URL without its password, for messages: `postgres://app@db:5432/sched`.
impl fmt::Display for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.engine, &self.sqlite) {
            (Engine::Sqlite, Some(SqliteTarget::Memory)) => return f.write_str("sqlite::memory:"),
            (Engine::Sqlite, Some(SqliteTarget::File(p))) => {
                return write!(f, "sqlite:{}", p.display());
            }
            _ => {}
        }
        let scheme = if self.engine == Engine::Postgres {
            "postgres"
        } else {
            "mysql"
        };
        write!(f, "{scheme}://")?;
        if let Some(user) = &self.user {
            write!(f, "{user}@")?;
        }
        if let Some(host) = &self.host {
            f.write_str(host)?;
        }
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        if let Some(db) = &self.database {
            write!(f, "/{db}")?;
        }
        if let Some(socket) = &self.socket {
            let key = if self.engine == Engine::Postgres {
                "host"
            } else {
                "socket"
            };
            write!(f, "?{key}={socket}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "DbUrl({self}{})",
            if self.password.is_some() {
                ", password ***"
            } else {
                ""
            }
        )
    }
}

fn split_host_port(text: &str) -> Result<(Option<String>, Option<u16>)> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| Error::usage("database URL has an unclosed [ in its host"))?;
        (format!("[{h}]"), after.strip_prefix(':'))
    } else {
        match text.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (text.to_string(), None),
        }
    };
    let port = match port {
        None | Some("") => None,
        Some(p) => Some(
            p.parse::<u16>()
                .map_err(|_| Error::usage("database URL port is not a number from 1 to 65535"))?,
        ),
    };
    Ok((Some(decode(&host, "host")?).filter(|h| !h.is_empty()), port))
}

/// Percent-decoding; `what` names the part in an error, never its value.
fn decode(text: &str, what: &str) -> Result<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| Error::usage(format!("database URL {what} has a bad %-escape")))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .map_err(|_| Error::usage(format!("database URL {what} is not UTF-8 after %-decoding")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_engines() -> Result<()> {
        let u = DbUrl::parse("postgres://app:p%40ss@db.example.org:5433/sched")?;
        assert_eq!(u.engine, Engine::Postgres);
        assert_eq!(u.host.as_deref(), Some("db.example.org"));
        assert_eq!(u.port, Some(5433));
        assert_eq!(u.user.as_deref(), Some("app"));
        assert_eq!(
            u.password().map(|p| p.expose().to_string()),
            Some("p@ss".into())
        );
        assert_eq!(u.database.as_deref(), Some("sched"));
        assert!(!u.is_local());
        assert_eq!(u.to_string(), "postgres://app@db.example.org:5433/sched");
        assert!(!format!("{u:?}").contains("p@ss"));

        let u = DbUrl::parse("mariadb://root@127.0.0.1/x")?;
        assert_eq!(
            (u.engine, u.port, u.is_local()),
            (Engine::Mysql, None, true)
        );
        let u = DbUrl::parse("mysql://u@[::1]:3306/x?socket=/run/mysqld/mysqld.sock")?;
        assert_eq!(u.host.as_deref(), Some("[::1]"));
        assert_eq!(u.socket.as_deref(), Some("/run/mysqld/mysqld.sock"));
        let u = DbUrl::parse("postgresql:///sched?host=/run/postgresql")?;
        assert_eq!(
            (u.host, u.socket.as_deref()),
            (None, Some("/run/postgresql"))
        );

        assert_eq!(
            DbUrl::parse("sqlite:data/x.db")?.sqlite,
            Some(SqliteTarget::File("data/x.db".into()))
        );
        assert_eq!(
            DbUrl::parse("sqlite:///abs/x.db")?.sqlite,
            Some(SqliteTarget::File("/abs/x.db".into()))
        );
        assert_eq!(
            DbUrl::parse("sqlite::memory:")?.sqlite,
            Some(SqliteTarget::Memory)
        );
        Ok(())
    }

    #[test]
    fn bad_urls_are_usage_errors_without_the_url() {
        for bad in [
            "nothing",
            "oracle://u:hunter2@h/db",
            "postgres:h/db",
            "postgres://u:hunter2@h:99999/db",
            "postgres://u:hunter2@h/db?sslmode=require",
            "mysql://u:hunter2@h/db?charset=x",
            "sqlite:",
        ] {
            let err = DbUrl::parse(bad).map(|_| ()).err();
            let message = err
                .as_ref()
                .map(|e| e.message().to_string())
                .unwrap_or_default();
            assert_eq!(err.map(|e| e.code()), Some(64), "{bad}");
            assert!(!message.contains("hunter2"), "{message}");
        }
    }
}
