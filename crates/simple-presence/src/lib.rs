//! Herald's presence agent: PUBLISH (RFC 3903), SUBSCRIBE/NOTIFY for the
//! `presence` event package (RFC 3856, centralized model) and the
//! composition of every publication of a presentity into one PIDF document
//! (`simple_pidf::compose`).
//!
//! # Layout
//! - `config`: [`PresenceConfig`] — expiry limits, retry policy, whether
//!   registration state feeds presence.
//! - `agent`: [`PresenceAgent`], the whole state machine: publications per
//!   presentity, subscriptions (notifier side, `sip_proto::ServerSubscription`),
//!   the composed document cache, NOTIFY flow control per watcher. It returns
//!   [`Effects`] — responses, NOTIFYs and store writes — for its driver to carry
//!   out, so it is pure: no sockets, no tasks, time passed in as Unix ms.
//! - `authz`: who sees what — RFC 5025 rules through `simple_policy`, and
//!   [`DefaultPolicy`] for users without rules. Watcher information (RFC
//!   3857/3858, package `presence.winfo`) lives in `agent` beside the
//!   subscriptions it reports on.
//! - `persist`: conversions between the agent's state and the
//!   `simple_store` rows ([`simple_store::Publication`],
//!   [`simple_store::Subscription`]).
//!
//! # Driving the agent
//! The driver (Herald's router) owns the transaction layer and the store:
//! 1. At start, [`PresenceAgent::restore`] with what the store's
//!    `load_live_publications` / `load_live_subscriptions` returned.
//! 2. A PUBLISH for a local presentity, after authentication:
//!    [`PresenceAgent::handle_publish`]. A SUBSCRIBE for a local presentity
//!    (initial) or for one of our dialogs (refresh):
//!    [`PresenceAgent::handle_subscribe`].
//! 3. Each NOTIFY in [`Effects::notifies`] is sent in a new client
//!    transaction; the driver reports its key with
//!    [`PresenceAgent::notify_sent`] and its outcome with
//!    [`PresenceAgent::handle_notify_result`].
//! 4. About once a second, [`PresenceAgent::tick`]: expiry of publications
//!    and subscriptions, and registration changes of watched presentities.
//! 5. [`Effects::store`] goes to the store; a response with
//!    `after_commit` is sent only once that write is durable (a PUBLISH's
//!    200 carries an entity tag the client will use after our restart).
//!
//! # Durability
//! Publications are durable before their 200. Subscriptions are written
//! behind the 200 (the immediate NOTIFY must not wait for the disk); a crash
//! in that window loses the subscription, and the watcher's next refresh gets
//! 481 and subscribes again (RFC 6665 §4.1.2.2). The NOTIFY CSeq survives a
//! restart strictly increasing: the store keeps a high-water mark reserved in
//! blocks ([`CSEQ_BLOCK`]) ahead of the CSeqs actually used.

mod agent;
mod authz;
mod config;
mod persist;

pub use agent::{
    CSEQ_BLOCK, Effects, OutNotify, PRESENCE, PRESENCE_WINFO, PresenceAgent, Response, StoreOps,
    SubscribeAuth, presentity_uri,
};
pub use authz::DefaultPolicy;
pub use config::PresenceConfig;
