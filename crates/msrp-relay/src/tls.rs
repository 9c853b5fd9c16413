//! The rustls server configuration for `msrps:` listeners (RFC 4976 §9.2:
//! a relay acts as a TLS server), from PEM files, with the `ring` provider
//! (DESIGN.md deps.md §2). Client certificates are not asked for: RFC 4976
//! §9.2 has clients authenticate with AUTH, not with certificates.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::RelayError;

fn err(what: &str, e: impl std::fmt::Display) -> RelayError {
    RelayError::Tls(format!("{what}: {e}"))
}

/// A TLS server configuration from a PEM certificate chain (leaf first) and
/// a PEM private key. Reads the files once, synchronously.
pub fn server_config_from_pem_files(
    cert: &Path,
    key: &Path,
) -> Result<Arc<ServerConfig>, RelayError> {
    let cert_pem =
        std::fs::read(cert).map_err(|e| err(&format!("reading {}", cert.display()), e))?;
    let key_pem = std::fs::read(key).map_err(|e| err(&format!("reading {}", key.display()), e))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err("certificate PEM", e))?;
    if chain.is_empty() {
        return Err(RelayError::Tls("no certificate in the PEM".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| err("private key PEM", e))?;
    let config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| err("protocol versions", e))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| err("certificate and key", e))?;
    Ok(Arc::new(config))
}
