//! Herald's registrar, location service and proxy routing.
//!
//! # Layout
//!
//! - [`register`]: REGISTER processing (RFC 3261 §10.3, RFC 3327 Path,
//!   RFC 5626 outbound) as a pure function of the request, the current
//!   bindings and the time.
//! - [`location`]: the in-memory location service with each binding's flow.
//! - [`auth`]: the digest authentication processor over `sip-auth`.
//! - [`proxy`]: pure proxy pieces (RFC 3261 §16): reaching a binding,
//!   building a branch's copy, loop detection, best-response selection.
//! - [`service`]: the registrar over a `simple-store` backend: REGISTER
//!   decided without waiting (only a user record is read asynchronously),
//!   answered once its bindings are group-committed.
//!
//! The transaction user that drives these (forking, CANCEL, responses) is in
//! the `herald` binary, where it is wired to the transport.

pub mod auth;
pub mod location;
pub mod proxy;
pub mod register;
pub mod service;

pub use auth::{AuthConfig, AuthOutcome, Authenticator, Claimed, DigestRequest};
pub use location::{LiveBinding, Location};
pub use proxy::{BranchFinal, ResponseContext, Target};
pub use register::{RegistrarConfig, Registration, Reply};
pub use service::{CommittedRegisters, PendingCommit, RegisterStep, Registrar, Ticket, now_ms};
