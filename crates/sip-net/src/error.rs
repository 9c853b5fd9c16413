//! Errors, typed (DESIGN.md house style rule 4).

use std::net::SocketAddr;

use sip_proto::{FlowId, ProtoError, Transport};

/// What `sip-net` could not do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// A listener could not be bound.
    #[error("cannot bind {transport} listener on {addr}: {source}")]
    Bind {
        /// The listener's transport.
        transport: Transport,
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Another socket operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: &'static str,
        /// Why it failed.
        source: std::io::Error,
    },
    /// A `tls:` or `wss:` listener (or a TLS connect) without a TLS
    /// configuration.
    #[error("a {0} listener needs a TLS certificate and key")]
    TlsMissing(Transport),
    /// The certificate or key could not be loaded, or rustls refused them.
    #[error("TLS configuration: {0}")]
    Tls(String),
    /// The transaction layer refused what the TU asked for.
    #[error(transparent)]
    Proto(#[from] ProtoError),
    /// The flow is closed and cannot be re-opened from this side (a WebSocket
    /// client went away; RFC 7118 §5: only the client opens connections).
    #[error("flow {0:?} is closed")]
    FlowClosed(FlowId),
    /// No listener of the needed transport is configured, so nothing can be
    /// sent that way.
    #[error("no {0} transport is configured")]
    NoTransport(Transport),
    /// `max_connections` is reached: no new outbound connection.
    #[error("connection limit reached")]
    TooManyConnections,
    /// The server has stopped; the command was not carried out.
    #[error("the SIP server has stopped")]
    Stopped,
}
