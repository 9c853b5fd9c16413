//! Herald's SIP transports and the driver that runs the sans-IO transaction
//! layer of `sip-proto` against real sockets: the only SIP crate on tokio.
//!
//! ```no_run
//! # use sip_net::*;
//! # use sip_proto::{Peer, TransactionKey, Transport};
//! # use sip_msg::SipMessage;
//! struct Echo;
//! impl TransactionUser for Echo {
//!     fn on_request(&mut self, ctx: &mut Ctx<'_>, key: TransactionKey, msg: SipMessage, _: Peer) {
//!         let tag = sip_proto::Tag::from("t1");
//!         if let Ok(ok) = sip_proto::stateless_response(&msg, 200, Some(&tag)) {
//!             ctx.respond(key, ok);
//!         }
//!     }
//! }
//! # async fn f() -> Result<(), NetError> {
//! let config = NetConfig {
//!     listeners: vec![ListenerSpec::new(Transport::Udp, "127.0.0.1:5060".parse().unwrap())],
//!     ..NetConfig::default()
//! };
//! let server = SipServer::bind(config).await?;
//! let shutdown = tokio_util::sync::CancellationToken::new();
//! server.run(Echo, shutdown).await
//! # }
//! ```
//!
//! # Layout
//! - `config`: [`NetConfig`], [`ListenerSpec`], [`TlsSource`].
//! - `server`: [`SipServer`]: bind, then run until shutdown and drain.
//! - `driver`: the driver loop, [`TransactionUser`] (the TU boundary),
//!   [`Ctx`] (what a TU can do while called) and [`ServerHandle`] (the same
//!   from other tasks, through a command channel, plus
//!   [`ServerHandle::wake`] to bring async results back into the TU).
//! - `inbound`: the gate every received message passes (parse, core headers,
//!   `received`/`rport`), and the state transport tasks share.
//! - `salvage`: best-effort stateless 400 (or 505, 513, ...) for requests
//!   that do not parse (RFC 3261 §8.2.6 from raw header lines).
//! - `udp`: the UDP receive loop.
//! - `stream`: TCP and TLS: accept loop, outbound connects, per-connection
//!   reader (framing, CRLF keep-alive, idle timeout) and writer (a bounded
//!   queue).
//! - `ws`: WebSocket (RFC 7118) on an axum HTTP server; other WebSocket
//!   subprotocols handed over whole ([`WsSubprotocol`], [`WsConnection`]).
//! - `flow`: the flow table (FlowId → connection writer) and the connection
//!   limit.
//! - `tls`: rustls configurations ([`client_config_trusting`]).
//! - `route`: RFC 3261 §18.1.1 large-request helpers.
//! - `stats`: [`NetStats`] counters.
//! - `error`: [`NetError`].
//!
//! # How it runs
//! Transport tasks (a receive loop per UDP socket, an accept loop per TCP/TLS
//! listener, an axum server per WS/WSS listener, a reader and a writer task
//! per connection) parse and check what they receive and pass good messages
//! to one driver task over a bounded channel. Bad requests are answered
//! right there, statelessly, and so are, on UDP, the requests the TU's
//! [`stateless_hook`](TransactionUser::stateless_hook) answers (one
//! `sendmmsg` per read). The driver owns the
//! [`TransactionLayer`](sip_proto::TransactionLayer) and the TU: it feeds
//! received messages, TU actions and timer deadlines in, and carries the
//! output out — `Transmit`s into a UDP socket's queue, sent with one
//! `sendmmsg(2)` per socket at the end of each driver wake-up (receive side:
//! `recvmmsg(2)`, up to 32 datagrams per call; elsewhere than Linux, one
//! datagram per call), or into a connection's bounded queue (`try_send`),
//! everything else to the TU. The
//! driver never waits on a peer: a connection whose queue is full is dropped
//! and its transactions get transport errors (RFC 3261 §18.4).
//!
//! Flows: every UDP socket and every connection has a
//! [`FlowId`](sip_proto::FlowId). A response goes back over the flow its
//! request came on; a request the TU sends to a [`Peer`](sip_proto::Peer)
//! with an open flow goes over that flow (how a registrar reaches a client
//! behind NAT, RFC 5626, WebSocket included); with a closed flow on TCP/TLS
//! the driver connects to `peer.remote`.

mod config;
mod driver;
mod error;
mod flow;
mod inbound;
mod route;
mod salvage;
mod server;
mod stats;
mod stream;
mod tls;
mod udp;
mod ws;

pub use config::{ListenerSpec, NetConfig, TlsSource};
pub use driver::{Ctx, NO_FLOW, ServerHandle, StatelessHook, TransactionUser};
pub use error::NetError;
pub use route::{UDP_MAX_REQUEST, needs_congestion_control, switch_large_request_to_tcp};
pub use server::SipServer;
pub use stats::NetStats;
pub use tls::client_config_trusting;
pub use ws::{HttpListener, WsConnection, WsIncoming, WsOutgoing, WsSubprotocol};
