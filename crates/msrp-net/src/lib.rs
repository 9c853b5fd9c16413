//! An MSRP endpoint (RFC 4975) over TCP or TLS for tokio: what a client uses to
//! take part in a session — connect to its first hop (a peer or a relay),
//! AUTH to a relay (RFC 4976 §5.1) for a Use-Path, send messages in chunks
//! and wait for each chunk's transaction response, receive messages
//! reassembled from their chunks (answering each SEND per RFC 4975 §7.2).
//!
//! # Layout
//! - `endpoint`: [`Endpoint`], [`Received`], [`AuthGrant`] and
//!   [`EndpointError`].
//!
//! # Driving it
//! One task owns an [`Endpoint`]. [`Endpoint::send_message`] returns once
//! every chunk has its 200; frames that arrive meanwhile (a peer's SENDs)
//! are answered and queued, and [`Endpoint::recv_message`] hands them out
//! in order. Time-outs are the caller's (`tokio::time::timeout`).
//! Over TCP ([`Endpoint::connect`]) or TLS ([`Endpoint::connect_tls`]).
//! Not yet: WebSocket (RFC 7977), several concurrent outgoing messages,
//! REPORT generation.

mod endpoint;

pub use endpoint::{AuthGrant, Endpoint, EndpointError, Received};
