//! What a [`SipServer`](crate::SipServer) listens on and how it bounds itself
//! (DESIGN.md house style rule 11).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sip_proto::{DEFAULT_MAX_TRANSACTIONS, Timers, Transport};

/// One listening socket: UDP, TCP, TLS, or an HTTP listener for WS/WSS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenerSpec {
    /// The transport.
    pub transport: Transport,
    /// The address to bind (port 0 picks a free one; see
    /// [`SipServer::local_addrs`](crate::SipServer::local_addrs)).
    pub addr: SocketAddr,
}

impl ListenerSpec {
    /// A listener.
    pub fn new(transport: Transport, addr: SocketAddr) -> Self {
        ListenerSpec { transport, addr }
    }
}

/// Where the TLS certificate chain and private key come from (PEM). Used by
/// `tls:` and `wss:` listeners.
#[derive(Debug, Clone)]
pub enum TlsSource {
    /// PEM files on disk.
    Files {
        /// The certificate chain, leaf first.
        cert_pem: PathBuf,
        /// The private key (PKCS#8, PKCS#1 or SEC1).
        key_pem: PathBuf,
    },
    /// PEM text in memory (tests, keys from a secret store).
    Pem {
        /// The certificate chain, leaf first.
        cert: Vec<u8>,
        /// The private key.
        key: Vec<u8>,
    },
}

impl TlsSource {
    /// PEM files on disk.
    pub fn files(cert_pem: impl Into<PathBuf>, key_pem: impl Into<PathBuf>) -> Self {
        TlsSource::Files {
            cert_pem: cert_pem.into(),
            key_pem: key_pem.into(),
        }
    }
}

/// Everything [`SipServer::bind`](crate::SipServer::bind) needs. Every limit
/// has a default (see [`Default`]); tests shorten the timeouts.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// The sockets to listen on.
    pub listeners: Vec<ListenerSpec>,
    /// Certificate and key for `tls:` and `wss:` listeners.
    pub tls: Option<TlsSource>,
    /// The TLS client configuration used when the server opens a TLS
    /// connection itself (a request to a TLS target whose flow is closed).
    /// `None`: such connects fail with a transport error. See
    /// [`client_config_trusting`](crate::client_config_trusting).
    pub tls_client: Option<Arc<rustls::ClientConfig>>,
    /// RFC 3261 timer values for the transaction layer.
    pub timers: Timers,
    /// Cap on live transactions (beyond it requests get 503, RFC 3261
    /// §21.5.4).
    pub max_transactions: usize,
    /// Largest message accepted on a stream or WebSocket (RFC 3261 §18.3;
    /// beyond it: 513 and the connection closes). Default 65535.
    pub max_message_size: usize,
    /// A connection with no traffic for this long is closed. Default 600 s.
    pub idle_timeout: Duration,
    /// Cap on open connections (TCP, TLS, WebSocket, both directions); beyond
    /// it new connections are closed at once. Default 10 000.
    pub max_connections: usize,
    /// Messages queued for one connection before it counts as stuck and is
    /// dropped (the driver never waits on a peer). Default 256.
    pub connection_queue: usize,
    /// Bound on an outbound TCP connect plus TLS handshake, and on an inbound
    /// TLS handshake. Default 10 s.
    pub connect_timeout: Duration,
    /// How long [`SipServer::run`](crate::SipServer::run) lets live
    /// transactions finish after shutdown is requested. Default 32 s (64*T1,
    /// the longest a non-INVITE transaction can wait for its final response).
    pub drain_timeout: Duration,
    /// Extra HTTP routes served on every `ws:`/`wss:` listener (XCAP under
    /// `/xcap-root`, say). The SIP WebSocket upgrade is this router's
    /// fallback: any path it does not route upgrades to SIP (RFC 7118).
    pub http_routes: Option<axum::Router>,
    /// WebSocket subprotocols served on every `ws:`/`wss:` listener besides
    /// `sip` (MSRP, RFC 7977): an upgrade offering one of them, on any path
    /// the routes do not take, is handed to it. Empty by default: an upgrade
    /// offering none of `sip` and these gets 400.
    pub ws_subprotocols: Vec<crate::WsSubprotocol>,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            listeners: Vec::new(),
            tls: None,
            tls_client: None,
            timers: Timers::default(),
            max_transactions: DEFAULT_MAX_TRANSACTIONS,
            max_message_size: 65_535,
            idle_timeout: Duration::from_secs(600),
            max_connections: 10_000,
            connection_queue: 256,
            connect_timeout: Duration::from_secs(10),
            drain_timeout: Duration::from_secs(32),
            http_routes: None,
            ws_subprotocols: Vec::new(),
        }
    }
}
