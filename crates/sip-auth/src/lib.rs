//! SIP HTTP Digest authentication for Herald: RFC 7616 as RFC 8760 brings it
//! to SIP (MD5, SHA-256, SHA-512-256 and their `-sess` variants), with the
//! RFC 3261 §22 rules and the RFC 2069 compatibility form. Pure code: no I/O,
//! no clock (time comes in as unix seconds), no randomness (the caller
//! supplies secrets and cnonces). Headers are parsed by `sip-msg`
//! ([`sip_msg::auth`]); this crate computes and checks digests and writes
//! header values.
//!
//! # Layout
//! - `algorithm`: [`Algorithm`] and `H()`, [`ha1`] (the stored form of a
//!   user), [`userhash`] (RFC 7616 §3.4.4).
//! - `compute`: [`Qop`] and the response / rspauth computation shared by
//!   both sides (RFC 7616 §3.4.1–§3.4.3, §3.5).
//! - `nonce`: [`NonceKey`] and [`NonceStatus`]: stateless HMAC nonces.
//! - `replay`: [`NonceCounts`]: the bounded nonce-count window against
//!   replays.
//! - `challenge`: [`ChallengeSpec`], the WWW-Authenticate /
//!   Proxy-Authenticate value.
//! - `server`: [`verify`], [`Verified`], [`check_realm`],
//!   [`authentication_info`].
//! - `client`: [`authorize`] and [`ClientCredentials`].
//! - `error`: [`AuthError`].
//!
//! # Server contract
//!
//! An authenticating element (registrar: 401 with WWW-Authenticate /
//! Authorization; proxy: 407 with Proxy-Authenticate / Proxy-Authorization,
//! RFC 3261 §22.3) holds one [`NonceKey`] and one [`NonceCounts`] and, per
//! request at time `now`:
//!
//! 1. Take the credentials (parsed by `sip-msg`) whose realm is ours
//!    ([`check_realm`]); none → challenge: one [`ChallengeSpec`] per offered
//!    algorithm, strongest first (RFC 8760 §2.3), all with one
//!    [`NonceKey::issue`] nonce.
//! 2. Find the user by [`Verified::username`] (or, with `userhash=true`, by
//!    the stored [`userhash`]) and the HA1 for the credentials' algorithm;
//!    unknown user → challenge again (same answer as a wrong password).
//! 3. [`NonceKey::check`]: `Invalid` → challenge again.
//! 4. [`verify`]: an error with [`AuthError::is_bad_request`] → 400, any
//!    other → challenge again. A right response with a `Stale` nonce →
//!    challenge with `stale=true` (RFC 7616 §3.3).
//! 5. [`NonceCounts::accept`] with the nonce and `nc` (1 for credentials
//!    without qop): refused → challenge with `stale=true`, so a client whose
//!    requests got reordered beyond the window recovers.
//! 6. Accept; optionally add [`authentication_info`] to the response
//!    (`nextnonce` when the nonce nears its end).
//!
//! The client side is [`authorize`]: given a parsed challenge, the
//! credentials, and a fresh cnonce and the nonce count, it produces the
//! Authorization value.

mod algorithm;
mod challenge;
mod client;
mod compute;
mod error;
mod nonce;
mod replay;
mod server;

pub use algorithm::{Algorithm, ha1, userhash};
pub use challenge::ChallengeSpec;
pub use client::{ClientCredentials, authorize};
pub use compute::Qop;
pub use error::AuthError;
pub use nonce::{MAX_CLOCK_SKEW_SECS, NonceKey, NonceStatus};
pub use replay::{NC_WINDOW, NonceCounts};
pub use server::{Verified, authentication_info, check_realm, verify};
