//! An MSRP relay (RFC 4976) over the `msrp` message layer (RFC 4975):
//! clients authenticate with AUTH (HTTP Digest, §5.1, §9.1) and get a
//! Use-Path URI carrying an unguessable token; requests whose first To-Path
//! URI is such a token are forwarded, hop by hop, only from or to the
//! client that obtained it (§6.4, §9.4), so the relay is never open.
//!
//! # Layout
//! - `auth`: [`AuthRequest`], [`AuthVerdict`] and the [`AuthBackend`] trait
//!   the application implements to check digest credentials (Herald: its
//!   registrar's authenticator over the store's users).
//! - `relay`: [`Relay`], the sans-IO core: session table (tokens, owners,
//!   expiry), forwarding rules, hop-by-hop transactions and their 30 s
//!   timers, failure REPORTs, AUTH state per connection, connection limits,
//!   local sessions (the application's own MSRP endpoints, e.g. a chat room
//!   focus, RFC 7701). [`RelayConfig`], [`Output`], [`Outgoing`], [`ConnId`],
//!   [`NextHop`], [`LocalEvent`], [`LocalSend`].
//! - `driver`: [`RelayServer`], the tokio driver: listeners (TCP, and TLS
//!   for `msrps:`), a reader and a writer task per connection, framing with
//!   [`msrp::Decoder`], outbound connections to next hops reused per RFC
//!   4975 §5.4, byte-bounded send queues (backpressure), the clock;
//!   WebSocket connections (RFC 7977) the application upgraded, adopted
//!   with [`RelayHandle::adopt_websocket`], one frame per message.
//!   [`DriverConfig`], [`ListenSpec`].
//! - `tls`: [`server_config_from_pem_files`] for `msrps:` listeners.
//! - `error`: [`RelayError`], [`LocalSendError`].
//!
//! # Driving the core
//! [`Relay`] reads no clock and touches no socket. The driver:
//!
//! - on an accepted connection calls [`Relay::handle_accept`] (which applies
//!   the connection limits) and uses the [`ConnId`] it returns; on a
//!   WebSocket connection (RFC 7977) [`Relay::handle_accept_websocket`];
//! - feeds every decoded frame to [`Relay::handle_frame`] and every decoder
//!   error to [`Relay::handle_parse_error`];
//! - after each call drains [`Relay::poll_output`]: [`Output::Send`] queues
//!   bytes on a connection, [`Output::Connect`] opens one to a next hop (the
//!   id is already allocated; frames for it may follow at once),
//!   [`Output::Close`] closes a connection after what is queued on it,
//!   [`Output::Authenticate`] asks the [`AuthBackend`] and hands the verdict
//!   to [`Relay::handle_auth_verdict`], [`Output::Local`] goes to the
//!   application;
//! - reports every closed connection (and every failed connect) with
//!   [`Relay::handle_closed`];
//! - calls [`Relay::handle_timeout`] at [`Relay::poll_timeout`] (the driver
//!   here also checks once a second).
//!
//! Every call takes `now`: tests drive the core on a virtual clock.
//!
//! # What a relay does with a request (RFC 4976 §6)
//! 1. The first To-Path URI must name this relay, or the connection is
//!    dropped (§6.2). On a WebSocket connection a `;ws` URI with one of
//!    our host names does too (RFC 7977 §8.1); Use-Path is still a TCP URI
//!    of ours, what the far end connects to (RFC 7977 §5.2.2).
//! 2. AUTH to this relay: digest challenge (401), then a token, Use-Path,
//!    Expires within bounds (423 with Min-Expires / Max-Expires otherwise)
//!    and Authentication-Info (§6.3, §9.1).
//! 3. Anything else is forwarded when the URI's token is live (481
//!    otherwise) and the request either arrived on the token owner's
//!    connection (it goes on to the next hop) or is addressed to the owner
//!    (one URI left; the owner's connection carries it); everything else is
//!    403, as is a request naming the relay without a token (§6.4, §9.4).
//! 4. A request whose To-Path ends at a local session ([`Relay::open_local`]),
//!    directly or after the sender's own token, is answered here (SEND: 200,
//!    or 413 / 415 / 506) and handed to the application; the session is
//!    bound to the connection it first came on, which carries what the
//!    application sends back ([`Relay::send_local`], RFC 4975 §5.4: the
//!    offerer connects) and whose loss ends the session.
//! 5. A SEND with Failure-Report `yes` is answered 200 at once; the
//!    forwarded copy gets a new transaction id; an error response from the
//!    next hop, no response in 30 s, or a lost connection becomes a failure
//!    REPORT to the sender (§6.4.1, §6.4.3).

mod auth;
mod driver;
mod error;
mod relay;
mod tls;

pub use auth::{AuthBackend, AuthRequest, AuthVerdict};
pub use driver::{DriverConfig, ListenSpec, RelayHandle, RelayServer};
pub use error::{LocalSendError, RelayError};
pub use relay::{
    AuthId, ConnId, ExpiryBounds, LocalEvent, LocalSend, NextHop, Outgoing, Output, Relay,
    RelayConfig,
};
pub use tls::server_config_from_pem_files;
