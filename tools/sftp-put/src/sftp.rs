//! The SFTP protocol (version 3, as OpenSSH speaks it) over an SSH channel.
//!
//! libssh2 has an SFTP layer, but the ssh2 crate cannot send OpenSSH's
//! `posix-rename@openssh.com` or `fsync@openssh.com` extensions through it,
//! and they are what make the replacement of a file atomic and durable. The
//! few requests an upload needs are small, so they are spoken here, over
//! the channel ssh2 gives: writes are pipelined (many requests in flight,
//! like OpenSSH's sftp), which is what makes a transfer fast.

use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Write};

const FXP_INIT: u8 = 1;
const FXP_VERSION: u8 = 2;
const FXP_OPEN: u8 = 3;
const FXP_CLOSE: u8 = 4;
const FXP_WRITE: u8 = 6;
const FXP_REMOVE: u8 = 13;
const FXP_MKDIR: u8 = 14;
const FXP_STAT: u8 = 17;
const FXP_RENAME: u8 = 18;
const FXP_STATUS: u8 = 101;
const FXP_HANDLE: u8 = 102;
const FXP_ATTRS: u8 = 105;
const FXP_EXTENDED: u8 = 200;
const FXP_EXTENDED_REPLY: u8 = 201;

const FXF_WRITE: u32 = 0x02;
const FXF_CREAT: u32 = 0x08;
const FXF_TRUNC: u32 = 0x10;
const FXF_EXCL: u32 = 0x20;

const ATTR_SIZE: u32 = 0x1;
const ATTR_UIDGID: u32 = 0x2;
const ATTR_PERMISSIONS: u32 = 0x4;
const ATTR_ACMODTIME: u32 = 0x8;
const ATTR_EXTENDED: u32 = 0x8000_0000;

pub const FX_OK: u32 = 0;
pub const FX_NO_SUCH_FILE: u32 = 2;
pub const FX_PERMISSION_DENIED: u32 = 3;
pub const FX_NO_CONNECTION: u32 = 6;
pub const FX_CONNECTION_LOST: u32 = 7;

/// A write request carries this much at most (OpenSSH's sftp default), unless
/// the server's limits@openssh.com allows more, up to [`MAX_CHUNK`].
const DEFAULT_CHUNK: usize = 32 * 1024;
const MAX_CHUNK: usize = 255 * 1024;
/// Requests and bytes in flight before waiting for the first reply.
const MAX_IN_FLIGHT: usize = 64;
const MAX_IN_FLIGHT_BYTES: usize = 8 * 1024 * 1024;
/// No reply of ours is near this; a bigger length means a broken stream.
const MAX_REPLY: usize = 1024 * 1024;

/// What went wrong with a request.
#[derive(Debug)]
pub enum SftpError {
    /// The server answered with a status other than OK.
    Status { code: u32, message: String },
    /// The channel or the connection failed: the session is gone.
    Transport(io::Error),
    /// The server said something that is not SFTP.
    Protocol(String),
}

impl std::fmt::Display for SftpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SftpError::Status { code, message } => {
                let name = match *code {
                    1 => "end of file",
                    FX_NO_SUCH_FILE => "no such file",
                    FX_PERMISSION_DENIED => "permission denied",
                    4 => "failure",
                    5 => "bad message",
                    FX_NO_CONNECTION => "no connection",
                    FX_CONNECTION_LOST => "connection lost",
                    8 => "operation unsupported",
                    _ => "error",
                };
                if message.is_empty() || message.eq_ignore_ascii_case(name) {
                    write!(f, "{name} (SFTP status {code})")
                } else {
                    write!(f, "{name}: {message} (SFTP status {code})")
                }
            }
            SftpError::Transport(e) => write!(f, "connection lost: {e}"),
            SftpError::Protocol(what) => write!(f, "SFTP protocol error: {what}"),
        }
    }
}

impl From<io::Error> for SftpError {
    fn from(e: io::Error) -> Self {
        SftpError::Transport(e)
    }
}

type SftpResult<T> = Result<T, SftpError>;

/// The attributes of a remote file that an upload looks at.
#[derive(Clone, Copy, Debug, Default)]
pub struct Attrs {
    pub size: Option<u64>,
    pub permissions: Option<u32>,
}

impl Attrs {
    pub fn is_dir(&self) -> bool {
        self.permissions.is_some_and(|p| p & 0o170000 == 0o040000)
    }
}

/// An open remote file.
#[derive(Debug)]
pub struct Handle(Vec<u8>);

/// An SFTP session on a channel: anything that reads and writes bytes.
pub struct Sftp<C> {
    channel: C,
    next_id: u32,
    extensions: HashMap<String, String>,
    chunk: usize,
}

impl<C> std::fmt::Debug for Sftp<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sftp")
            .field("extensions", &self.extensions)
            .field("chunk", &self.chunk)
            .finish()
    }
}

impl<C: Read + Write> Sftp<C> {
    /// Say hello (version 3) and learn the server's extensions.
    pub fn start(channel: C) -> SftpResult<Sftp<C>> {
        let mut sftp = Sftp {
            channel,
            next_id: 1,
            extensions: HashMap::new(),
            chunk: DEFAULT_CHUNK,
        };
        let mut init = Packet::new(FXP_INIT);
        init.u32(3);
        sftp.send(&init.finish())?;
        let (kind, body) = sftp.recv()?;
        if kind != FXP_VERSION {
            return Err(SftpError::Protocol(format!(
                "expected the version reply, got packet type {kind}"
            )));
        }
        let mut r = Reader(&body);
        let version = r.u32()?;
        if version < 3 {
            return Err(SftpError::Protocol(format!(
                "the server speaks SFTP version {version}, 3 is needed"
            )));
        }
        while !r.0.is_empty() {
            let name = r.string_lossy()?;
            let data = r.string_lossy()?;
            sftp.extensions.insert(name, data);
        }
        if sftp.has_extension("limits@openssh.com", "1") {
            sftp.learn_limits()?;
        }
        Ok(sftp)
    }

    pub fn has_extension(&self, name: &str, version: &str) -> bool {
        self.extensions.get(name).is_some_and(|v| v == version)
    }

    /// Raise the write size to what the server says it takes.
    fn learn_limits(&mut self) -> SftpResult<()> {
        let id = self.id();
        let mut p = Packet::new(FXP_EXTENDED);
        p.u32(id).string(b"limits@openssh.com");
        self.send(&p.finish())?;
        let (kind, body) = self.recv_for(id)?;
        if kind == FXP_EXTENDED_REPLY {
            let mut r = Reader(&body[4..]);
            let _max_packet = r.u64()?;
            let _max_read = r.u64()?;
            let max_write = r.u64()?;
            if max_write > 0 {
                self.chunk = usize::try_from(max_write)
                    .unwrap_or(MAX_CHUNK)
                    .min(MAX_CHUNK);
            }
        }
        Ok(())
    }

    /// The attributes of `path`, or None when it does not exist.
    pub fn stat(&mut self, path: &str) -> SftpResult<Option<Attrs>> {
        let id = self.id();
        let mut p = Packet::new(FXP_STAT);
        p.u32(id).string(path.as_bytes());
        self.send(&p.finish())?;
        let (kind, body) = self.recv_for(id)?;
        match kind {
            FXP_ATTRS => Ok(Some(Reader(&body[4..]).attrs()?)),
            FXP_STATUS => match status_of(&body)? {
                SftpError::Status {
                    code: FX_NO_SUCH_FILE,
                    ..
                } => Ok(None),
                e => Err(e),
            },
            _ => Err(unexpected(kind)),
        }
    }

    pub fn mkdir(&mut self, path: &str) -> SftpResult<()> {
        let id = self.id();
        let mut p = Packet::new(FXP_MKDIR);
        p.u32(id).string(path.as_bytes()).u32(0);
        self.send(&p.finish())?;
        self.expect_ok(id)
    }

    /// Create `path` for writing, with mode 0600; it must not exist yet.
    pub fn create_new(&mut self, path: &str) -> SftpResult<Handle> {
        let id = self.id();
        let mut p = Packet::new(FXP_OPEN);
        p.u32(id)
            .string(path.as_bytes())
            .u32(FXF_WRITE | FXF_CREAT | FXF_TRUNC | FXF_EXCL)
            .u32(ATTR_PERMISSIONS)
            .u32(0o600);
        self.send(&p.finish())?;
        let (kind, body) = self.recv_for(id)?;
        match kind {
            FXP_HANDLE => Ok(Handle(Reader(&body[4..]).string()?.to_vec())),
            FXP_STATUS => Err(status_of(&body)?),
            _ => Err(unexpected(kind)),
        }
    }

    /// Write everything `source` gives, from offset 0, with many requests in
    /// flight. `progress` hears each chunk as it is read. Returns the bytes
    /// written; a read error of the source comes back as `Err(Ok(e))`.
    pub fn write_from(
        &mut self,
        handle: &Handle,
        source: &mut dyn Read,
        progress: &mut dyn FnMut(&[u8]),
    ) -> Result<u64, Result<io::Error, SftpError>> {
        let mut in_flight: VecDeque<(u32, usize)> = VecDeque::new();
        let mut bytes_in_flight = 0;
        let mut offset = 0u64;
        let mut eof = false;
        let mut packet = Vec::with_capacity(self.chunk + 64);
        loop {
            while !eof
                && in_flight.len() < MAX_IN_FLIGHT
                && bytes_in_flight + self.chunk <= MAX_IN_FLIGHT_BYTES
            {
                let id = self.id();
                // Length, header, then the data read straight into the
                // packet, so that each request is one write to the channel.
                packet.clear();
                packet.extend_from_slice(&[0; 4]);
                let mut header = Packet::new(FXP_WRITE);
                header.u32(id).string(&handle.0).u64(offset);
                packet.extend_from_slice(&header.body);
                let data_at = packet.len() + 4;
                packet.resize(data_at + self.chunk, 0);
                let n = fill(source, &mut packet[data_at..]).map_err(Ok)?;
                if n == 0 {
                    eof = true;
                    break;
                }
                packet.truncate(data_at + n);
                progress(&packet[data_at..]);
                packet[data_at - 4..data_at].copy_from_slice(&(n as u32).to_be_bytes());
                let length = (packet.len() as u32 - 4).to_be_bytes();
                packet[..4].copy_from_slice(&length);
                self.channel.write_all(&packet).map_err(|e| Err(e.into()))?;
                in_flight.push_back((id, n));
                bytes_in_flight += n;
                offset += n as u64;
                if n < self.chunk {
                    eof = true;
                }
            }
            let Some((id, n)) = in_flight.pop_front() else {
                break;
            };
            self.expect_ok(id).map_err(Err)?;
            bytes_in_flight -= n;
        }
        Ok(offset)
    }

    /// Ask the server to flush the file to disk (fsync@openssh.com), when
    /// it offers that. Returns whether it was done.
    pub fn fsync(&mut self, handle: &Handle) -> SftpResult<bool> {
        if !self.has_extension("fsync@openssh.com", "1") {
            return Ok(false);
        }
        let id = self.id();
        let mut p = Packet::new(FXP_EXTENDED);
        p.u32(id).string(b"fsync@openssh.com").string(&handle.0);
        self.send(&p.finish())?;
        self.expect_ok(id)?;
        Ok(true)
    }

    pub fn close(&mut self, handle: Handle) -> SftpResult<()> {
        let id = self.id();
        let mut p = Packet::new(FXP_CLOSE);
        p.u32(id).string(&handle.0);
        self.send(&p.finish())?;
        self.expect_ok(id)
    }

    pub fn remove(&mut self, path: &str) -> SftpResult<()> {
        let id = self.id();
        let mut p = Packet::new(FXP_REMOVE);
        p.u32(id).string(path.as_bytes());
        self.send(&p.finish())?;
        self.expect_ok(id)
    }

    /// Rename with SFTP's own RENAME, which fails when `to` exists.
    pub fn rename(&mut self, from: &str, to: &str) -> SftpResult<()> {
        let id = self.id();
        let mut p = Packet::new(FXP_RENAME);
        p.u32(id).string(from.as_bytes()).string(to.as_bytes());
        self.send(&p.finish())?;
        self.expect_ok(id)
    }

    /// Rename with rename(2)'s semantics: an existing `to` is replaced in
    /// one step. Only when [`Sftp::has_posix_rename`].
    pub fn posix_rename(&mut self, from: &str, to: &str) -> SftpResult<()> {
        let id = self.id();
        let mut p = Packet::new(FXP_EXTENDED);
        p.u32(id)
            .string(b"posix-rename@openssh.com")
            .string(from.as_bytes())
            .string(to.as_bytes());
        self.send(&p.finish())?;
        self.expect_ok(id)
    }

    pub fn has_posix_rename(&self) -> bool {
        self.has_extension("posix-rename@openssh.com", "1")
    }

    fn id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        id
    }

    fn send(&mut self, packet: &[u8]) -> SftpResult<()> {
        self.channel.write_all(packet)?;
        Ok(())
    }

    /// One packet: its type and the bytes after it.
    fn recv(&mut self) -> SftpResult<(u8, Vec<u8>)> {
        let mut length = [0u8; 4];
        self.channel.read_exact(&mut length)?;
        let length = u32::from_be_bytes(length) as usize;
        if length == 0 || length > MAX_REPLY {
            return Err(SftpError::Protocol(format!("a reply of {length} bytes")));
        }
        let mut body = vec![0u8; length];
        self.channel.read_exact(&mut body)?;
        let kind = body[0];
        body.remove(0);
        Ok((kind, body))
    }

    /// The reply to request `id` (OpenSSH answers in order).
    fn recv_for(&mut self, id: u32) -> SftpResult<(u8, Vec<u8>)> {
        let (kind, body) = self.recv()?;
        let got = Reader(&body).u32()?;
        if got != id {
            return Err(SftpError::Protocol(format!(
                "a reply to request {got} while waiting for {id}"
            )));
        }
        Ok((kind, body))
    }

    fn expect_ok(&mut self, id: u32) -> SftpResult<()> {
        let (kind, body) = self.recv_for(id)?;
        if kind != FXP_STATUS {
            return Err(unexpected(kind));
        }
        match status_of(&body)? {
            SftpError::Status { code: FX_OK, .. } => Ok(()),
            e => Err(e),
        }
    }
}

/// Read until `buf` is full or the source ends.
fn fill(source: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match source.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// A STATUS body (after the type) as an error value; code 0 is OK.
fn status_of(body: &[u8]) -> SftpResult<SftpError> {
    let mut r = Reader(&body[4..]);
    let code = r.u32()?;
    let message = if r.0.is_empty() {
        String::new()
    } else {
        r.string_lossy()?
    };
    Ok(SftpError::Status { code, message })
}

fn unexpected(kind: u8) -> SftpError {
    SftpError::Protocol(format!("unexpected reply of type {kind}"))
}

/// A request being built: the length is put in front by [`Packet::finish`].
struct Packet {
    body: Vec<u8>,
}

impl Packet {
    fn new(kind: u8) -> Packet {
        Packet { body: vec![kind] }
    }
    fn u32(&mut self, v: u32) -> &mut Packet {
        self.body.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn u64(&mut self, v: u64) -> &mut Packet {
        self.body.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn string(&mut self, s: &[u8]) -> &mut Packet {
        self.u32(s.len() as u32);
        self.body.extend_from_slice(s);
        self
    }
    fn finish(&self) -> Vec<u8> {
        let mut out = (self.body.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(&self.body);
        out
    }
}

/// Reading the fields of a reply.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> SftpResult<&'a [u8]> {
        if self.0.len() < n {
            return Err(SftpError::Protocol("a reply too short".into()));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u32(&mut self) -> SftpResult<u32> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> SftpResult<u64> {
        Ok((u64::from(self.u32()?) << 32) | u64::from(self.u32()?))
    }
    fn string(&mut self) -> SftpResult<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    fn string_lossy(&mut self) -> SftpResult<String> {
        Ok(String::from_utf8_lossy(self.string()?).into_owned())
    }
    fn attrs(&mut self) -> SftpResult<Attrs> {
        let flags = self.u32()?;
        let mut attrs = Attrs::default();
        if flags & ATTR_SIZE != 0 {
            attrs.size = Some(self.u64()?);
        }
        if flags & ATTR_UIDGID != 0 {
            self.take(8)?;
        }
        if flags & ATTR_PERMISSIONS != 0 {
            attrs.permissions = Some(self.u32()?);
        }
        if flags & ATTR_ACMODTIME != 0 {
            self.take(8)?;
        }
        if flags & ATTR_EXTENDED != 0 {
            for _ in 0..self.u32()? {
                self.string()?;
                self.string()?;
            }
        }
        Ok(attrs)
    }
}
