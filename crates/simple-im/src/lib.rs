//! Herald's page-mode instant messaging (RFC 3428): what the server does with a
//! MESSAGE beyond proxying it — the store-and-forward "silo", delivery reports
//! (RFC 5438) and page-mode chat rooms. Pure: no sockets, no tasks, time passed
//! in as Unix ms; Herald's router drives it.
//!
//! # Layout
//! - `cpim`: the `message/cpim` wrapper (RFC 3862): parse, and the IMDN
//!   headers (RFC 5438 §6) inside it.
//! - `imdn`: delivery notifications (RFC 5438 §7.2.1, §9) the server sends
//!   on the recipient's behalf, and the date formats they and the silo use.
//! - `silo`: which MESSAGEs may be stored, the stored row built from one, the
//!   MESSAGE that delivers it later, retry backoff and expiry.
//! - `room`: page-mode chat rooms — membership commands and the relayed copy.

pub mod cpim;
pub mod imdn;
pub mod room;
pub mod silo;
