//! Databases for db-extract and db-load: URLs, connections to SQLite,
//! PostgreSQL and MariaDB/MySQL, placeholders, and engine errors mapped to
//! exit codes.
//!
//! Plaintext is the only transport for now, so a connection to a host that
//! is not loopback needs `allow_plaintext` (the tools' `--insecure-plaintext`).

pub mod errors;
pub mod params;
pub mod url;

pub use errors::Redactor;
pub use params::{BoundQuery, bind};
pub use url::{DbUrl, Engine, SqliteTarget};

use crate::error::{Error, Result};
use std::time::Duration;

/// How to connect.
#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    /// Limit for connecting, and (server-side, where the engine has one) for
    /// each statement. SQLite stops the query at this time after opening.
    pub timeout: Option<Duration>,
    /// Every transaction read-only (SQLite: the file is opened read-only).
    pub read_only: bool,
    /// Allow a plaintext connection to a host that is not loopback.
    pub allow_plaintext: bool,
}

/// How much longer than --timeout a MariaDB/MySQL socket waits.
const SOCKET_TIMEOUT_MARGIN: Duration = Duration::from_secs(2);

/// Connecting without a --timeout still gives up after this long.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// An open connection to one of the three engines.
pub enum Connection {
    Sqlite(rusqlite::Connection),
    Postgres(postgres::Client),
    Mysql(mysql::Conn),
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Connection::Sqlite(_) => "Connection::Sqlite",
            Connection::Postgres(_) => "Connection::Postgres",
            Connection::Mysql(_) => "Connection::Mysql",
        })
    }
}

impl Connection {
    /// Connect. Failures map to exit codes as in [`errors`]; messages name
    /// the URL without its password.
    pub fn open(url: &DbUrl, options: &ConnectOptions) -> Result<Connection> {
        if !url.is_local() && !options.allow_plaintext {
            return Err(Error::usage(format!(
                "{url}: the host is not loopback and TLS to the database is not supported yet; \
                 tunnel the connection (ssh -L, stunnel) or pass --insecure-plaintext"
            )));
        }
        let target = url.to_string();
        let none = Redactor::default();
        match url.engine {
            Engine::Sqlite => open_sqlite(url, options, &target),
            Engine::Postgres => {
                let mut config = postgres::Config::new();
                if let Some(socket) = &url.socket {
                    config.host_path(socket);
                } else if let Some(host) = &url.host {
                    config.host(host.trim_start_matches('[').trim_end_matches(']'));
                }
                config.port(url.port.unwrap_or(5432));
                if let Some(user) = &url.user {
                    config.user(user);
                } else if let Ok(user) = std::env::var("USER") {
                    config.user(&user);
                }
                if let Some(password) = url.password() {
                    config.password(password.expose());
                }
                if let Some(db) = &url.database {
                    config.dbname(db);
                }
                config.application_name("phtools");
                config.connect_timeout(options.timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT));
                let mut settings = Vec::new();
                if options.read_only {
                    settings.push("-c default_transaction_read_only=on".to_string());
                }
                if let Some(t) = options.timeout {
                    settings.push(format!("-c statement_timeout={}", t.as_millis().max(1)));
                }
                if !settings.is_empty() {
                    config.options(&settings.join(" "));
                }
                let client = config
                    .connect(postgres::NoTls)
                    .map_err(|e| errors::postgres_error(&e, &target, &none))?;
                Ok(Connection::Postgres(client))
            }
            Engine::Mysql => {
                let mut builder = mysql::OptsBuilder::new()
                    .ip_or_hostname(
                        url.host
                            .as_ref()
                            .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_string()),
                    )
                    .tcp_port(url.port.unwrap_or(3306))
                    .user(url.user.clone())
                    .pass(url.password().map(|p| p.expose().to_string()))
                    .db_name(url.database.clone())
                    .prefer_socket(false)
                    .stmt_cache_size(0)
                    .tcp_connect_timeout(Some(options.timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT)))
                    // The server's own statement timeout gives the clear
                    // error; the socket timeouts are the safety net behind
                    // it, a little later, for a server that stops answering.
                    .read_timeout(options.timeout.map(|t| t + SOCKET_TIMEOUT_MARGIN))
                    .write_timeout(options.timeout.map(|t| t + SOCKET_TIMEOUT_MARGIN));
                if let Some(socket) = &url.socket {
                    builder = builder.socket(Some(socket.clone()));
                }
                let mut init = vec!["SET NAMES utf8mb4".to_string()];
                if options.read_only {
                    init.push("SET SESSION TRANSACTION READ ONLY".into());
                }
                let builder = builder.init(init);
                let mut conn = mysql::Conn::new(builder)
                    .map_err(|e| errors::mysql_error(&e, &target, &none))?;
                if let Some(t) = options.timeout {
                    set_mysql_statement_timeout(&mut conn, t, &target)?;
                }
                Ok(Connection::Mysql(conn))
            }
        }
    }

    pub fn engine(&self) -> Engine {
        match self {
            Connection::Sqlite(_) => Engine::Sqlite,
            Connection::Postgres(_) => Engine::Postgres,
            Connection::Mysql(_) => Engine::Mysql,
        }
    }

    /// Run statements that return no rows (setup, DDL), separated by `;`.
    pub fn execute_batch(&mut self, sql: &str, target: &str) -> Result<()> {
        let none = Redactor::default();
        match self {
            Connection::Sqlite(c) => c
                .execute_batch(sql)
                .map_err(|e| errors::sqlite_error(&e, target, &none)),
            Connection::Postgres(c) => c
                .batch_execute(sql)
                .map_err(|e| errors::postgres_error(&e, target, &none)),
            Connection::Mysql(c) => {
                use mysql::prelude::Queryable;
                c.query_drop(sql)
                    .map_err(|e| errors::mysql_error(&e, target, &none))
            }
        }
    }
}

fn open_sqlite(url: &DbUrl, options: &ConnectOptions, target: &str) -> Result<Connection> {
    use rusqlite::OpenFlags;
    let none = Redactor::default();
    let conn = match &url.sqlite {
        Some(SqliteTarget::File(path)) => {
            // Opening never creates a file: a wrong path is a missing input, not an empty database.
            if !path.exists() {
                return Err(Error::no_input(format!(
                    "cannot open {target}: no such file"
                )));
            }
            let mut flags = OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
            flags |= if options.read_only {
                OpenFlags::SQLITE_OPEN_READ_ONLY
            } else {
                OpenFlags::SQLITE_OPEN_READ_WRITE
            };
            rusqlite::Connection::open_with_flags(path, flags)
        }
        _ => rusqlite::Connection::open_in_memory(),
    }
    .map_err(|e| errors::sqlite_error(&e, target, &none))?;
    let wait = options.timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    conn.busy_timeout(wait)
        .map_err(|e| errors::sqlite_error(&e, target, &none))?;
    if options.read_only {
        conn.pragma_update(None, "query_only", true)
            .map_err(|e| errors::sqlite_error(&e, target, &none))?;
    }
    if let Some(t) = options.timeout {
        // SQLite has no statement timeout: interrupt whatever runs at the deadline.
        let handle = conn.get_interrupt_handle();
        std::thread::spawn(move || {
            std::thread::sleep(t);
            handle.interrupt();
        });
    }
    Ok(Connection::Sqlite(conn))
}

/// MariaDB calls it max_statement_time (seconds), MySQL max_execution_time (ms).
fn set_mysql_statement_timeout(conn: &mut mysql::Conn, t: Duration, target: &str) -> Result<()> {
    use mysql::prelude::Queryable;
    let mariadb = format!("SET SESSION max_statement_time = {}", t.as_secs_f64());
    match conn.query_drop(mariadb) {
        Ok(()) => Ok(()),
        Err(mysql::Error::MySqlError(e)) if e.code == 1193 => conn
            .query_drop(format!(
                "SET SESSION max_execution_time = {}",
                t.as_millis().max(1)
            ))
            .map_err(|e| errors::mysql_error(&e, target, &Redactor::default())),
        Err(e) => Err(errors::mysql_error(&e, target, &Redactor::default())),
    }
}

/// A parameter bound as text: the server parses it as whatever type the
/// query gives the placeholder (date, timestamp, integer ...), as if it had
/// been written as a quoted literal. Debug never shows the value.
pub struct PgTextParam<'a>(pub &'a str);

impl std::fmt::Debug for PgTextParam<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgTextParam(***)")
    }
}

impl postgres::types::ToSql for PgTextParam<'_> {
    fn to_sql(
        &self,
        _ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>>
    {
        out.extend_from_slice(self.0.as_bytes());
        Ok(postgres::types::IsNull::No)
    }

    fn accepts(_ty: &postgres::types::Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &postgres::types::Type) -> postgres::types::Format {
        postgres::types::Format::Text
    }

    postgres::types::to_sql_checked!();
}
