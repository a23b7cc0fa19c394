//! HTTP/1.1 over TLS (or plain TCP): one thread per connection, keep-alive,
//! Content-Length and chunked bodies, and dispatch to the control endpoints or an API.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use rustls::{ServerConfig, ServerConnection, StreamOwned};
use serde_json::json;

use crate::control::{self, Injected, Log, Received};
use crate::http::{Api, Request, Response, decode_form};

/// How often an idle connection looks at the stop flag.
const POLL: Duration = Duration::from_millis(500);
/// An idle keep-alive connection is closed after this long.
const IDLE_LIMIT: Duration = Duration::from_secs(120);
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 1 << 30;

#[derive(Debug)]
pub(crate) struct Shared {
    pub apis: Vec<Box<dyn Api>>,
    pub log: Log,
    pub scheme: &'static str,
    pub port: u16,
    pub stop: AtomicBool,
    pub connections: AtomicU64,
}

impl std::fmt::Debug for dyn Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Api({})", self.name())
    }
}

pub(crate) fn serve(listener: TcpListener, shared: Arc<Shared>, tls: Option<Arc<ServerConfig>>) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let shared = Arc::clone(&shared);
        let tls = tls.clone();
        thread::spawn(move || {
            // A connection that fails only concerns its client.
            let _ = connection(stream, &shared, tls);
        });
    }
}

fn connection(
    stream: TcpStream,
    shared: &Shared,
    tls: Option<Arc<ServerConfig>>,
) -> io::Result<()> {
    let id = shared.connections.fetch_add(1, Ordering::SeqCst) + 1;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(POLL))?;
    match tls {
        Some(config) => {
            let conn = ServerConnection::new(config).map_err(io::Error::other)?;
            let mut tls_stream = StreamOwned::new(conn, stream);
            if serve_requests(&mut tls_stream, shared, id)? == Close::Graceful {
                tls_stream.conn.send_close_notify();
                tls_stream.flush()?;
            }
            Ok(())
        }
        None => serve_requests(&mut { stream }, shared, id).map(|_| ()),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Close {
    Graceful,
    Abrupt,
}

struct Head {
    method: String,
    target: String,
    minor_version: u8,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn has_token(&self, name: &str, token: &str) -> bool {
        self.header(name)
            .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    }

    fn keep_alive(&self) -> bool {
        if self.has_token("connection", "close") {
            false
        } else {
            self.minor_version >= 1 || self.has_token("connection", "keep-alive")
        }
    }
}

fn bad_input(message: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

fn serve_requests<S: Read + Write>(s: &mut S, shared: &Shared, id: u64) -> io::Result<Close> {
    let mut buf = Vec::new();
    loop {
        let head = match read_head(s, &mut buf, shared) {
            Ok(Some(head)) => head,
            Ok(None) => return Ok(Close::Graceful),
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                write_response(s, &Response::text(400, "bad request\n"), false, false)?;
                return Ok(Close::Graceful);
            }
            Err(e) => return Err(e),
        };
        if head.has_token("expect", "100-continue") {
            s.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
            s.flush()?;
        }
        let body = match read_body(s, &mut buf, &head, shared) {
            Ok(Some(body)) => body,
            Ok(None) => return Ok(Close::Abrupt),
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                write_response(s, &Response::text(400, "bad request body\n"), false, false)?;
                return Ok(Close::Graceful);
            }
            Err(e) => return Err(e),
        };
        let keep_alive = head.keep_alive();
        let is_head = head.method == "HEAD";
        match dispatch(shared, head, body, id) {
            None => return Ok(Close::Abrupt),
            Some(response) => write_response(s, &response, keep_alive, is_head)?,
        }
        if !keep_alive || shared.stop.load(Ordering::SeqCst) {
            return Ok(Close::Graceful);
        }
    }
}

/// Reads more bytes into `buf`; false at end of stream (or idle too long, or stopping).
fn read_more<S: Read>(s: &mut S, buf: &mut Vec<u8>, shared: &Shared) -> io::Result<bool> {
    let mut chunk = [0u8; 16 * 1024];
    let mut idle = Duration::ZERO;
    loop {
        match s.read(&mut chunk) {
            Ok(0) => return Ok(false),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return Ok(true);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                idle += POLL;
                if idle >= IDLE_LIMIT || shared.stop.load(Ordering::SeqCst) {
                    return Ok(false);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
            Err(e) => return Err(e),
        }
    }
}

fn read_head<S: Read>(s: &mut S, buf: &mut Vec<u8>, shared: &Shared) -> io::Result<Option<Head>> {
    loop {
        if !buf.is_empty() {
            let mut headers = [httparse::EMPTY_HEADER; 128];
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(buf) {
                Ok(httparse::Status::Complete(len)) => {
                    let head = Head {
                        method: req.method.unwrap_or("").to_string(),
                        target: req.path.unwrap_or("/").to_string(),
                        minor_version: req.version.unwrap_or(1),
                        headers: req
                            .headers
                            .iter()
                            .map(|h| {
                                let value = String::from_utf8_lossy(h.value).into_owned();
                                (h.name.to_ascii_lowercase(), value)
                            })
                            .collect(),
                    };
                    buf.drain(..len);
                    return Ok(Some(head));
                }
                Ok(httparse::Status::Partial) if buf.len() <= MAX_HEAD => {}
                _ => return Err(bad_input("bad request head")),
            }
        }
        if !read_more(s, buf, shared)? {
            return Ok(None);
        }
    }
}

/// Makes sure `buf` holds at least `len` bytes; false when the stream ended first.
fn fill<S: Read>(s: &mut S, buf: &mut Vec<u8>, len: usize, shared: &Shared) -> io::Result<bool> {
    while buf.len() < len {
        if !read_more(s, buf, shared)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// One CRLF-terminated line (without the CRLF), or None at end of stream.
fn read_line<S: Read>(s: &mut S, buf: &mut Vec<u8>, shared: &Shared) -> io::Result<Option<String>> {
    loop {
        if let Some(end) = buf.windows(2).position(|w| w == b"\r\n") {
            let line = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 2);
            return Ok(Some(line));
        }
        if buf.len() > MAX_HEAD {
            return Err(bad_input("chunk line too long"));
        }
        if !read_more(s, buf, shared)? {
            return Ok(None);
        }
    }
}

fn read_body<S: Read>(
    s: &mut S,
    buf: &mut Vec<u8>,
    head: &Head,
    shared: &Shared,
) -> io::Result<Option<Vec<u8>>> {
    if head.has_token("transfer-encoding", "chunked") {
        let mut body = Vec::new();
        loop {
            let Some(line) = read_line(s, buf, shared)? else {
                return Ok(None);
            };
            let size_text = line.split(';').next().unwrap_or("").trim();
            let size =
                usize::from_str_radix(size_text, 16).map_err(|_| bad_input("bad chunk size"))?;
            if size == 0 {
                // Trailers, up to the empty line.
                loop {
                    match read_line(s, buf, shared)? {
                        None => return Ok(None),
                        Some(l) if l.is_empty() => return Ok(Some(body)),
                        Some(_) => {}
                    }
                }
            }
            if body.len() + size > MAX_BODY {
                return Err(bad_input("body too large"));
            }
            if !fill(s, buf, size + 2, shared)? {
                return Ok(None);
            }
            body.extend_from_slice(&buf[..size]);
            buf.drain(..size + 2);
        }
    }
    let len = match head.header("content-length") {
        None => 0,
        Some(v) => v
            .trim()
            .parse::<usize>()
            .map_err(|_| bad_input("bad content-length"))?,
    };
    if len > MAX_BODY {
        return Err(bad_input("body too large"));
    }
    if !fill(s, buf, len, shared)? {
        return Ok(None);
    }
    // Split rather than drain: a drained copy goes byte by byte in unoptimised builds.
    let rest = buf.split_off(len);
    Ok(Some(std::mem::replace(buf, rest)))
}

/// The answer to one request; None drops the connection.
fn dispatch(shared: &Shared, head: Head, body: Vec<u8>, connection: u64) -> Option<Response> {
    let (path, raw_query) = match head.target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (head.target.clone(), String::new()),
    };
    let host = head.header("host").unwrap_or("").to_string();
    let authority = if host.is_empty() {
        format!("127.0.0.1:{}", shared.port)
    } else {
        host.clone()
    };
    // The body moves into the request (no third copy of a large upload).
    let request = |prefix: &str, body: Vec<u8>| Request {
        method: head.method.clone(),
        path: match &path[prefix.len()..] {
            "" => "/".to_string(),
            rest => rest.to_string(),
        },
        query: decode_form(&raw_query),
        raw_query: raw_query.clone(),
        headers: head.headers.clone(),
        body,
        base_url: format!("{}://{authority}{prefix}", shared.scheme),
        host: host.clone(),
    };
    if under(&path, "_sandbox") {
        return Some(control::handle(
            &shared.log,
            &shared.apis,
            &request("/_sandbox", body),
        ));
    }
    let Some(api) = shared.apis.iter().find(|a| under(&path, a.name())) else {
        return Some(Response::json(
            404,
            &json!({"error": "no sandbox API at this path"}),
        ));
    };
    let received = Received {
        method: head.method.clone(),
        path: path.clone(),
        query: raw_query.clone(),
        headers: head.headers.clone(),
        body: body.clone(),
        status: 0,
        connection,
    };
    let seq = shared.log.arrived(api.name(), received);
    let (delay_ms, answer) = match shared.log.take_fault(&head.method, &path) {
        Some(Injected::Drop { delay_ms }) => (delay_ms, None),
        Some(Injected::Answer { delay_ms, response }) => (delay_ms, Some(Some(response))),
        Some(Injected::Delay { delay_ms }) => (delay_ms, Some(None)),
        None => (0, Some(None)),
    };
    thread::sleep(Duration::from_millis(delay_ms));
    let response = match answer {
        None => {
            shared.log.answered(seq, 0);
            return None;
        }
        Some(Some(response)) => response,
        Some(None) => {
            let req = request(&format!("/{}", api.name()), body);
            catch_unwind(AssertUnwindSafe(|| api.handle(&req))).unwrap_or_else(|_| {
                Response::json(500, &json!({"error": "the sandbox API panicked"}))
            })
        }
    };
    shared.log.answered(seq, response.status);
    Some(response)
}

/// Whether `path` is "/name" or below it.
fn under(path: &str, name: &str) -> bool {
    path.strip_prefix('/')
        .and_then(|p| p.strip_prefix(name))
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

fn write_response<S: Write>(
    s: &mut S,
    response: &Response,
    keep_alive: bool,
    is_head: bool,
) -> io::Result<()> {
    let status = response.status;
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status)).into_bytes();
    for (name, value) in &response.headers {
        if !matches!(
            name.as_str(),
            "content-length" | "connection" | "transfer-encoding"
        ) {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
    }
    let no_body = status == 204 || status == 304 || (100..200).contains(&status);
    if !no_body {
        out.extend_from_slice(format!("content-length: {}\r\n", response.body.len()).as_bytes());
    }
    let connection = if keep_alive { "keep-alive" } else { "close" };
    out.extend_from_slice(format!("connection: {connection}\r\n\r\n").as_bytes());
    let send_body = !no_body && !is_head;
    // A small body goes in the same write as the head; a large one is not copied.
    if send_body && response.body.len() <= 64 * 1024 {
        out.extend_from_slice(&response.body);
        s.write_all(&out)?;
    } else {
        s.write_all(&out)?;
        if send_body {
            s.write_all(&response.body)?;
        }
    }
    s.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        416 => "Range Not Satisfiable",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}
