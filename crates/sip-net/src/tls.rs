//! rustls configurations (with the `ring` provider, deps.md §2) for `tls:`
//! and `wss:` listeners and for outbound TLS connects.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};

use crate::config::TlsSource;
use crate::error::NetError;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn tls_err(what: &str, e: impl std::fmt::Display) -> NetError {
    NetError::Tls(format!("{what}: {e}"))
}

fn certs(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, NetError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls_err("certificate PEM", e))?;
    if certs.is_empty() {
        return Err(NetError::Tls("no certificate in the PEM".into()));
    }
    Ok(certs)
}

/// The server configuration for `src`. Loading files is synchronous: it
/// happens once, at bind.
pub(crate) fn server_config(src: &TlsSource) -> Result<Arc<ServerConfig>, NetError> {
    let (cert_pem, key_pem) = match src {
        TlsSource::Files { cert_pem, key_pem } => (
            std::fs::read(cert_pem)
                .map_err(|e| tls_err(&format!("reading {}", cert_pem.display()), e))?,
            std::fs::read(key_pem)
                .map_err(|e| tls_err(&format!("reading {}", key_pem.display()), e))?,
        ),
        TlsSource::Pem { cert, key } => (cert.clone(), key.clone()),
    };
    let chain = certs(&cert_pem)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| tls_err("private key PEM", e))?;
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err("protocol versions", e))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| tls_err("certificate and key", e))?;
    Ok(Arc::new(config))
}

/// A TLS client configuration trusting exactly the CA certificates in
/// `ca_pem`: for [`NetConfig::tls_client`](crate::NetConfig::tls_client) in
/// tests and private deployments. (Public CAs need a root store such as
/// `webpki-roots`; not a dependency of this crate.)
pub fn client_config_trusting(ca_pem: &[u8]) -> Result<Arc<ClientConfig>, NetError> {
    let mut roots = RootCertStore::empty();
    for cert in certs(ca_pem)? {
        roots.add(cert).map_err(|e| tls_err("CA certificate", e))?;
    }
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err("protocol versions", e))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
