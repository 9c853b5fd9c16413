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

/// Why [`Relay::send_local`](crate::Relay::send_local) did not take a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LocalSendError {
    /// No local session has this id (never opened, closed, or its
    /// connection is gone).
    #[error("no such local MSRP session")]
    NoSession,
    /// The peer has not connected yet and the frames held for it already
    /// fill [`RelayConfig::local_hold_bytes`](crate::RelayConfig).
    #[error("local MSRP session not connected and its hold queue is full")]
    HoldFull,
    /// Only requests are sent to a local session's peer (responses to its
    /// requests are the relay's), and their paths must be valid.
    #[error("not a request the relay can address")]
    BadFrame,
}
