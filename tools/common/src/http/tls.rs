//! TLS: rustls with ring, the system's CAs and those of --ca-file.

use crate::error::{Error, Result};
use std::sync::Arc;

/// rustls with ring, trusting the system's CAs and those of `ca_file`.
pub(super) fn config(ca_file: Option<&std::path::Path>) -> Result<ureq::tls::TlsConfig> {
    let roots = root_certificates(ca_file)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .root_certs(ureq::tls::RootCerts::Specific(Arc::new(roots)))
        .unversioned_rustls_crypto_provider(provider)
        .build())
}

/// The system's trusted CAs, and those of `ca_file`.
fn root_certificates(
    ca_file: Option<&std::path::Path>,
) -> Result<Vec<ureq::tls::Certificate<'static>>> {
    let mut roots: Vec<ureq::tls::Certificate<'static>> = rustls_native_certs::load_native_certs()
        .certs
        .iter()
        .map(|der| ureq::tls::Certificate::from_der(der.as_ref()).to_owned())
        .collect();
    if let Some(path) = ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| Error::io(format!("cannot read --ca-file {}", path.display()), e))?;
        let before = roots.len();
        for item in ureq::tls::parse_pem(&pem) {
            if let Ok(ureq::tls::PemItem::Certificate(cert)) = item {
                roots.push(cert.to_owned());
            }
        }
        if roots.len() == before {
            return Err(Error::config(format!(
                "--ca-file {}: no PEM certificate in it",
                path.display()
            )));
        }
    }
    Ok(roots)
}
