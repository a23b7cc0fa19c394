//! The sandbox: an HTTPS stand-in for the SaaS APIs of APIS.md (ReqCheck, ReportStream,
//! dhis2, Primero, OSCaR, Box), with fault injection, for the tools' tests and the demo.
//!
//! ```no_run
//! let sb = sandbox::Sandbox::start()?;
//! let heartbeat = format!("{}/reqcheck/heartbeat", sb.url());
//! sb.fault(sandbox::Fault { path: "/reqcheck/heartbeat".into(), count: 2, status: 503,
//!                           retry_after: Some(1), ..Default::default() });
//! // ... run a tool with --ca-file sb.ca_file() against `heartbeat` ...
//! assert_eq!(sb.received("reqcheck").len(), 3);
//! # Ok::<(), std::io::Error>(())
//! ```

#![forbid(unsafe_code)]

pub mod apis;
mod control;
pub mod http;
mod server;
mod tls;

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};

pub use control::{Fault, Received};
pub use http::{Api, Request, Response};

use server::Shared;

/// How to start a sandbox.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Serve plain http:// instead of HTTPS.
    pub plain_http: bool,
    /// The loopback port; 0 picks a free one.
    pub port: u16,
}

/// A running sandbox on 127.0.0.1; dropping it stops it.
#[derive(Debug)]
pub struct Sandbox {
    shared: Arc<Shared>,
    addr: SocketAddr,
    url: String,
    ca_pem: String,
    ca_path: PathBuf,
    _ca_dir: tempfile::TempDir,
    listener: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// HTTPS on a free loopback port, with a fresh CA.
    pub fn start() -> io::Result<Sandbox> {
        Sandbox::start_with(Options::default())
    }

    pub fn start_with(options: Options) -> io::Result<Sandbox> {
        let listener = TcpListener::bind(("127.0.0.1", options.port))?;
        let addr = listener.local_addr()?;
        let certs = tls::generate()?;
        let ca_dir = tempfile::Builder::new().prefix("sandbox-ca-").tempdir()?;
        let ca_path = ca_dir.path().join("ca.pem");
        std::fs::write(&ca_path, &certs.ca_pem)?;
        let scheme = if options.plain_http { "http" } else { "https" };
        let shared = Arc::new(Shared {
            apis: apis::all(),
            log: Default::default(),
            scheme,
            port: addr.port(),
            stop: AtomicBool::new(false),
            connections: Default::default(),
        });
        let tls = (!options.plain_http).then_some(certs.config);
        let serving = Arc::clone(&shared);
        let handle = thread::Builder::new()
            .name("sandbox-listener".into())
            .spawn(move || server::serve(listener, serving, tls))?;
        Ok(Sandbox {
            shared,
            addr,
            url: format!("{scheme}://127.0.0.1:{}", addr.port()),
            ca_pem: certs.ca_pem,
            ca_path,
            _ca_dir: ca_dir,
            listener: Some(handle),
        })
    }

    /// "https://127.0.0.1:PORT" (no trailing slash).
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The base URL of one API: "https://127.0.0.1:PORT/primero".
    pub fn api_url(&self, api: &str) -> String {
        format!("{}/{api}", self.url)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// A PEM file with the CA that signed the server certificate.
    pub fn ca_file(&self) -> &Path {
        &self.ca_path
    }

    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Every request seen for that API, in order of arrival, with the status answered.
    pub fn received(&self, api: &str) -> Vec<Received> {
        self.shared.log.received(api)
    }

    /// Same as POST /_sandbox/faults.
    pub fn fault(&self, fault: Fault) {
        self.shared.log.add_fault(fault);
    }

    /// The API's stored records (null for an unknown API).
    pub fn state(&self, api: &str) -> serde_json::Value {
        self.shared
            .apis
            .iter()
            .find(|a| a.name() == api)
            .map_or(serde_json::Value::Null, |a| a.state())
    }

    /// Same as POST /_sandbox/reset: empties received, faults and state, and reseeds.
    pub fn reset(&self) {
        self.shared.log.clear();
        self.shared.apis.iter().for_each(|a| a.reset());
    }

    /// The names of the APIs served, in URL-prefix order.
    pub fn api_names(&self) -> Vec<&'static str> {
        self.shared.apis.iter().map(|a| a.name()).collect()
    }

    /// Same as `POST /_sandbox/{api}/{action}` with a JSON body: the status and JSON answer,
    /// or None when the API has no such action.
    pub fn control(
        &self,
        api: &str,
        action: &str,
        body: &serde_json::Value,
    ) -> Option<(u16, serde_json::Value)> {
        let api = self.shared.apis.iter().find(|a| a.name() == api)?;
        let request = Request {
            method: "POST".into(),
            path: format!("/{}/{action}", api.name()),
            raw_query: String::new(),
            query: Vec::new(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
            base_url: format!("{}/_sandbox", self.url),
            host: format!("127.0.0.1:{}", self.addr.port()),
        };
        let response = api.control(action, &request)?;
        let answer = serde_json::from_slice(&response.body).unwrap_or(serde_json::Value::Null);
        Some((response.status, answer))
    }

    /// Box: every token issued so far (and the developer token) answers 401 from now on.
    pub fn box_expire_tokens(&self) {
        let _ = self.control("box", "expire-tokens", &serde_json::json!({}));
    }

    /// Box: registers an app (or adds a public key to a known client id); Err says why not.
    pub fn box_register_app(&self, app: &apis::boxapi::BoxApp) -> Result<(), String> {
        let body = serde_json::to_value(app).map_err(|e| e.to_string())?;
        match self.control("box", "apps", &body) {
            Some((201, _)) => Ok(()),
            Some((_, answer)) => Err(answer["error"].as_str().unwrap_or("refused").to_string()),
            None => Err("no Box control action".into()),
        }
    }

    /// Box: a folder made directly in the store (no token needed); its id, or Err why not.
    pub fn box_add_folder(&self, parent_id: &str, name: &str) -> Result<String, String> {
        let body = serde_json::json!({"parent_id": parent_id, "name": name});
        box_created(self.control("box", "folders", &body))
    }

    /// Box: a file made directly in the store (no token needed); its id, or Err why not.
    pub fn box_add_file(
        &self,
        parent_id: &str,
        name: &str,
        content: &[u8],
    ) -> Result<String, String> {
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(content);
        let body =
            serde_json::json!({"parent_id": parent_id, "name": name, "content_base64": encoded});
        box_created(self.control("box", "files", &body))
    }
}

fn box_created(answer: Option<(u16, serde_json::Value)>) -> Result<String, String> {
    match answer {
        Some((201, answer)) => Ok(answer["id"].as_str().unwrap_or_default().to_string()),
        Some((_, answer)) => Err(answer["error"].as_str().unwrap_or("refused").to_string()),
        None => Err("no Box control action".into()),
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the listener out of accept().
        let _ = TcpStream::connect(self.addr);
        if let Some(handle) = self.listener.take() {
            let _ = handle.join();
        }
    }
}
