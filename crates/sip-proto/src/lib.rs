//! Herald's sans-IO SIP engine: the transaction layer (RFC 3261 §17 with the
//! RFC 6026 corrections), dialogs (§12), CANCEL (§9) and the stateless pieces
//! every element needs (§8.2.6 responses, §18.2 `received`/`rport` and response
//! routing). No sockets, no tasks, no clock: time comes in as an argument and
//! everything to send comes out of `poll_output`.
//!
//! # Layout
//! - `transaction`: [`TransactionLayer`] with its [`Input`] and [`Output`],
//!   the four state machines (`client.rs`, `server.rs`) and matching
//!   (`matching.rs`: branch + sent-by + method, the RFC 2543 fallback).
//! - `timers`: [`Timers`] (T1, T2, T4 and the derived Timers A–M) and
//!   [`TimerName`].
//! - `transport`: [`Transport`], [`FlowId`] and [`Peer`]: what the driver
//!   names its sockets and connections by.
//! - `ids`: the identifier newtypes [`TransactionKey`], [`CallId`], [`Tag`],
//!   [`Branch`].
//! - `cancel`: [`cancel_request`] (§9.1); the server side is
//!   [`TransactionLayer::find_cancel_target`].
//! - `stateless`: [`response_builder`], [`stateless_response`],
//!   [`reason_phrase`], [`stamp_received`], [`response_route`].
//! - `dialog`: [`Dialog`] (its strings in one allocation), built by
//!   [`Dialog::new`] from [`DialogParts`] or from messages; [`DialogId`],
//!   [`DialogState`] (§12).
//! - `event`: SIP events (RFC 6665): [`EventRegistry`] of [`EventPackage`]s
//!   with the SUBSCRIBE checks, [`ServerSubscription`] (notifier,
//!   `event/server.rs`), [`ClientSubscription`] (subscriber,
//!   `event/client.rs`), [`SubState`], [`Refusal`].
//! - `publication`: PUBLISH classification for an event state compositor
//!   (RFC 3903): [`classify_publish`], [`check_content_type`], [`new_etag`]
//!   (and [`random_token`], what it and subscription tags are made of).
//! - `error`: [`ProtoError`] and [`DialogError`].
//!
//! # Driving the transaction layer
//!
//! One driver (in `sip-net`) owns the sockets and the clock and runs this loop:
//!
//! 1. Wait for the first of: a datagram or stream frame, a request from the
//!    transaction user (TU), or the deadline from
//!    [`TransactionLayer::poll_timeout`].
//! 2. A received message: parse it; for a request, call [`stamp_received`]
//!    with the source address; then
//!    `handle_input(now, Input::Received { msg, peer })`. A TU action:
//!    `Input::SendRequest`, `Input::SendResponse`, `Input::SendStateless`. A
//!    deadline: [`TransactionLayer::handle_timeout`]`(now)`.
//! 3. Drain [`TransactionLayer::poll_output`] until it returns `None`:
//!    [`Output::Transmit`] goes to the socket (on failure, feed back
//!    `Input::TransportError { key }`); everything else goes to the TU.
//! 4. Ask [`TransactionLayer::poll_timeout`] again and go back to 1.
//!
//! Every call takes `now`; the layer never reads a clock, so tests run it on a
//! virtual clock (see `simple-testkit`) through every RFC timer in
//! microseconds. `handle_timeout` may be called early or spuriously.
//!
//! Retransmissions happen only on unreliable transports ([`Transport::Udp`]);
//! on reliable ones the timers that wait for stray retransmissions (D, I, J,
//! K) are zero and the transaction ends at once.

mod cancel;
mod dialog;
mod error;
mod event;
mod ids;
mod publication;
mod stateless;
mod timers;
mod transaction;
mod transport;

pub use cancel::cancel_request;
pub use dialog::{Dialog, DialogId, DialogParts, DialogState};
pub use error::{DialogError, ProtoError};
pub use event::{
    ClientEvent, ClientSubscription, EventPackage, EventRegistry, NotifyInfo, Refusal,
    ServerSubscription, SubState, SubscribeParams, TerminationReason,
};
pub use ids::{Branch, CallId, Tag, TransactionKey};
pub use publication::{
    PublishLimits, PublishOp, check_content_type, classify_publish, new_etag, random_token,
};
pub use stateless::{
    ResponseRoute, ResponseTarget, reason_phrase, response_builder, response_builder_with_room,
    response_route, stamp_received, stateless_response,
};
pub use timers::{TimerName, Timers};
pub use transaction::{
    DEFAULT_MAX_TRANSACTIONS, Input, Output, TransactionKind, TransactionLayer, TransactionState,
    Transmit,
};
pub use transport::{FlowId, Peer, Transport};
