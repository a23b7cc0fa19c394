//! A network namespace for the tests of where requests go: it has only a
//! loopback interface, so nothing sent in it can leave the machine, and
//! 192.0.2.1 (TEST-NET-1) on that interface stands in for a proxy on
//! another machine. Listeners run inside it as the test binary itself, run
//! again on its `netns_listener` test (see [`serve_if_asked`]). Shared by
//! the http-get and http-post tests.
#![allow(dead_code, clippy::unwrap_used, clippy::print_stdout)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The address that stands in for a host on another machine.
pub const OFF_MACHINE: &str = "192.0.2.1";

/// A namespace, deleted when dropped (a failed test included).
pub struct Netns {
    name: String,
    /// Where the listeners note what they got.
    dir: PathBuf,
}

impl Netns {
    /// A fresh namespace, or None after printing "skipped" when this does
    /// not run as root. iproute2 is installed when `ip` is missing.
    pub fn new(tag: &str) -> Option<Netns> {
        if !is_root() {
            println!("skipped: a network namespace needs root");
            return None;
        }
        let ensure = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/ensure-packages.sh"
        );
        let status = Command::new(ensure).arg("ip:iproute2").status().unwrap();
        assert!(status.success(), "cannot install iproute2");
        let name = format!("phtools-{tag}-{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        ip(&["netns", "add", &name]);
        let dir = std::env::temp_dir().join(&name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        let netns = Netns { name, dir };
        netns.ip(&["link", "set", "lo", "up"]);
        netns.ip(&["addr", "add", &format!("{OFF_MACHINE}/32"), "dev", "lo"]);
        Some(netns)
    }

    fn ip(&self, args: &[&str]) {
        ip(&[&["netns", "exec", &self.name, "ip"][..], args].concat());
    }

    /// `program` to be run inside the namespace.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name]).arg(program);
        cmd
    }

    /// A listener inside on `addr` (HOST:PORT) that notes the head of each
    /// request it gets and answers `status` with the body `{}`.
    pub fn listen(&self, addr: &str, status: u16) -> Listener {
        let log = self.dir.join(addr.replace([':', '.'], "_"));
        let ready = log.with_extension("ready");
        let child = self
            .command(std::env::current_exe().unwrap())
            .args(["--exact", "netns_listener", "--ignored", "--nocapture"])
            .env("NETNS_LISTEN", addr)
            .env("NETNS_LOG", &log)
            .env("NETNS_STATUS", status.to_string())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut listener = Listener { child, log };
        let start = Instant::now();
        while !ready.exists() {
            let exited = listener.child.try_wait().unwrap();
            assert!(exited.is_none(), "the listener on {addr} ended: {exited:?}");
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "no listener on {addr}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        listener
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A listener in a namespace; stopped when dropped.
pub struct Listener {
    child: Child,
    log: PathBuf,
}

impl Listener {
    /// The heads of the requests it got, one after the other.
    pub fn received(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The listener's side, for the `netns_listener` test of each test binary:
/// when NETNS_LISTEN is set, listen there, append the head of each request
/// to NETNS_LOG, read its body, and answer NETNS_STATUS with `{}`.
pub fn serve_if_asked() {
    let Ok(addr) = std::env::var("NETNS_LISTEN") else {
        return;
    };
    let log = PathBuf::from(std::env::var("NETNS_LOG").unwrap());
    let status = std::env::var("NETNS_STATUS").unwrap();
    let listener = TcpListener::bind(&addr).unwrap();
    std::fs::write(log.with_extension("ready"), "").unwrap();
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = String::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
            head.push_str(&line);
        }
        append(&log, &head);
        let _ = reader.by_ref().take(length).read_to_end(&mut Vec::new());
        let answer = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
        );
        let _ = stream.write_all(answer.as_bytes());
    }
}

fn append(log: &Path, text: &str) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}
