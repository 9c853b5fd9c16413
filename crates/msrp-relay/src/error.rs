//! Errors of the driver (DESIGN.md house style rule 4: typed per crate).

use std::net::SocketAddr;

/// What can stop the relay from starting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    /// A listener could not be bound.
    #[error("MSRP listener {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The TLS certificate or key could not be loaded.
    #[error("MSRP TLS: {0}")]
    Tls(String),
    /// The relay's own URI could not be formed from the host and port.
    #[error("MSRP relay URI for {host}: {reason}")]
    Uri {
        /// The advertised host.
        host: String,
        /// What was wrong with it.
        reason: String,
    },
}
