//! The SIP message layer of Herald: a zero-copy parser over [`bytes::Bytes`], a
//! serializer, URIs, typed headers parsed on demand, multipart bodies, and the
//! datagram and stream framing of RFC 3261 §18.3. No I/O.
//!
//! # Layout
//! - `error`: [`ParseError`], which carries the status and reason a server
//!   answers with (`400 Missing Call-ID`).
//! - `message`: [`SipMessage`] (parse, raw header access, edit, serialize) and
//!   [`MessageBuilder`] (canonical messages).
//! - `framing`: [`parse_datagram`] and the incremental [`StreamDecoder`], with
//!   RFC 5626 CRLF keep-alives.
//! - `name`: [`HeaderName`], full and compact forms.
//! - `scan`: character classes, quoted strings, comma lists, [`Params`].
//! - `uri`: [`Uri`] (`sip`, `sips`, `tel`, `pres`, `im`, others), [`Host`],
//!   RFC 3261 §19.1.4 comparison.
//! - `headers`: [`NameAddr`] and the typed headers (Via, From/To, Contact,
//!   CSeq, Event, Subscription-State, ...), plus [`SipMessage::check_core`] and
//!   [`SipMessage::validate`].
//! - `auth`: digest challenges, credentials, Authentication-Info.
//! - `misc`: Date, Retry-After, Timestamp, Warning, User-Agent/Server.
//! - `multipart`: multipart/mixed and multipart/related bodies.
//!
//! # Parsing in three depths
//! 1. [`SipMessage::parse`] / the framers: start line, header lines, UTF-8,
//!    Content-Length. Cheap; header values stay text.
//! 2. [`SipMessage::check_core`]: what every element needs before it can even
//!    answer: Via, From, To, Call-ID, CSeq (method matching the request),
//!    Max-Forwards and the Request-URI.
//! 3. [`SipMessage::validate`]: every header this crate knows, and multipart
//!    bodies. What `herald lint` runs.

pub mod auth;
mod error;
mod framing;
mod headers;
mod message;
pub mod misc;
pub mod multipart;
mod name;
mod scan;
mod uri;

pub use error::{ErrorKind, ParseError, Result};
pub use framing::{Datagram, Frame, StreamDecoder, parse_datagram};
pub use headers::*;
pub use message::{MessageBuilder, Method, SipMessage};
pub use name::HeaderName;
pub use scan::{Param, ParamIter, Params, unquote};
pub use uri::{AbsoluteUri, Host, ImUri, SipUri, TelUri, Uri, parse_hostport, unescape};
