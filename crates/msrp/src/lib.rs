//! The MSRP message layer of Herald (RFC 4975, with the relay extensions of
//! RFC 4976): an incremental frame decoder, the frame model and serializer,
//! MSRP URIs, chunking and reassembly, responses and REPORTs. Sans-IO: no
//! sockets, no tasks, no clock.
//!
//! # Layout
//! - `error`: [`ParseError`] ([`ErrorKind`]), carrying the status and reason a
//!   node answers with and whether the connection must close.
//! - `status`: the status codes of RFC 4975 §10 / RFC 4976 §10.3 and
//!   [`reason_phrase`].
//! - `ident`: [`TransactionId`] and [`MessageId`] (`ident`, §9), random ones
//!   with ≥ 64 bits (§7.1).
//! - `uri`: [`MsrpUri`] (`msrp:`/`msrps:`, §6, §9), [`Host`], §6.1
//!   comparison, [`parse_path`] / [`format_path`].
//! - `headers`: header [`names`] and typed values: [`ByteRange`],
//!   [`SuccessReport`], [`FailureReport`], [`StatusHeader`], [`DigestParams`].
//! - `frame`: [`Frame`] (start line, [`Header`]s in order, optional body,
//!   [`Continuation`] flag), [`Method`], [`FrameBuilder`], the serializer,
//!   responses per §7.2, [`Frame::forward_hop`] for relays.
//! - `decoder`: [`Decoder`] with [`Limits`]: the incremental stream decoder.
//! - `chunk`: [`Chunker`] (§7.1.1) and [`Reassembler`] (§7.3.1).
//! - `report`: who is owed a response or a REPORT (§7.1.2–§7.1.4, §7.2), and
//!   building success and failure REPORTs.
//!
//! # Driving it
//! One [`Decoder`] per connection. The driver appends what it reads to a
//! `BytesMut` and calls [`Decoder::decode`] until it returns `Ok(None)`:
//!
//! - `Ok(Some(frame))`: a request or a response. A request that is owed one
//!   ([`report::response_owed`]) is answered with [`Frame::response`] on the
//!   same connection (§7.2); a relay renames the transaction
//!   ([`Frame::renew_transaction_id`]) and calls [`Frame::forward_hop`] before
//!   forwarding (RFC 4976 §6.4). Chunks of SEND requests go to a
//!   [`Reassembler`] at endpoints.
//! - `Ok(None)`: read more. Nothing was consumed, so the same buffer is passed
//!   again with the new bytes appended; the decoder resumes its search where it
//!   stopped (a long body costs one pass).
//! - `Err(e)`: if `e.must_close()`, close the connection. Otherwise the bad
//!   frame is gone (or is being dropped as it arrives), send `e.answer()` if it
//!   is `Some` (400, or 413 for an oversized body), and carry on.
//! - On EOF, [`Decoder::decode_eof`] tells a clean end from a truncated frame.
//!
//! To send, [`Frame::encode_into`] a `BytesMut`. A driver that interleaves a
//! long SEND with other traffic (§7.1.1: chunks over 2048 bytes must be
//! interruptible) writes [`Frame::encode_head_into`], part of the body, and
//! [`Frame::encode_tail_into`] with flag `+`, then continues in a new chunk.
//! Timers (30 s for a response when Failure-Report is `yes`, §7.1.1; RFC 4976
//! §6.4.1 for relays) belong to the driver, which owns the clock.

mod chunk;
mod decoder;
mod error;
mod frame;
mod headers;
mod ident;
pub mod report;
pub mod status;
mod uri;

pub use chunk::{
    Chunker, INTERRUPTIBLE_ABOVE, Message, Reassembler, Reassembly, ReassemblyError,
    ReassemblyErrorKind, ReassemblyLimits,
};
pub use decoder::{Decoder, Limits};
pub use error::{ErrorKind, ParseError, Result};
pub use frame::{Continuation, Frame, FrameBuilder, Header, MAX_NON_SEND_BODY, Method, StartLine};
pub use headers::{
    ByteRange, DigestParam, DigestParams, FailureReport, StatusHeader, SuccessReport, names,
};
pub use ident::{MessageId, TransactionId};
pub use status::reason_phrase;
pub use uri::{DEFAULT_PORT, Host, MsrpUri, format_path, parse_path};
