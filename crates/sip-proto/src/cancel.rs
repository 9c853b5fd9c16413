//! CANCEL (RFC 3261 §9), client side. The server side — finding the INVITE
//! transaction a CANCEL matches — is
//! [`TransactionLayer::find_cancel_target`](crate::TransactionLayer::find_cancel_target).

use sip_msg::{HeaderName, MessageBuilder, Method, SipMessage};

use crate::error::ProtoError;
use crate::stateless::first_value;

/// Builds the CANCEL for an INVITE we sent (§9.1): same Request-URI, Call-ID,
/// To, From (tags included) and CSeq number with method CANCEL, a single Via
/// equal to the INVITE's top Via (so it carries the same branch and the server
/// can match it, §9.2), the INVITE's Route header fields, and Max-Forwards.
///
/// The TU sends it as a new client transaction, and only after a provisional
/// response arrived for the INVITE (§9.1: the client transaction is in
/// Proceeding).
pub fn cancel_request(invite: &SipMessage) -> Result<SipMessage, ProtoError> {
    match invite.method() {
        Some(Method::Invite) => {}
        Some(_) => return Err(ProtoError::CancelNonInvite),
        None => return Err(ProtoError::NotARequest),
    }
    let seq = invite.cseq()?.seq;
    invite.from()?;
    invite.to()?;
    invite.call_id()?;
    invite.via()?;
    same_hop_request(
        invite,
        "CANCEL",
        invite.header(HeaderName::To).unwrap_or_default(),
        seq,
    )
}

/// A request that travels hop by hop with an INVITE we sent: CANCEL (§9.1)
/// and the ACK for a non-2xx final (§17.1.1.3) share these rules — the
/// INVITE's Request-URI, top Via (same branch), Max-Forwards, Route, From,
/// Call-ID and CSeq number, with `method`; only the To differs (the INVITE's
/// for CANCEL, the response's for ACK).
pub(crate) fn same_hop_request(
    invite: &SipMessage,
    method: &str,
    to: &str,
    seq: u32,
) -> Result<SipMessage, ProtoError> {
    let via = first_value(invite, HeaderName::Via).unwrap_or_default();
    let mut b = MessageBuilder::request(method, invite.request_uri_str().unwrap_or_default())
        .header(HeaderName::Via, &via)
        .header(
            HeaderName::MaxForwards,
            invite.header(HeaderName::MaxForwards).unwrap_or("70"),
        );
    for route in invite.header_lines(HeaderName::Route) {
        b = b.header(HeaderName::Route, route);
    }
    b.header(
        HeaderName::From,
        invite.header(HeaderName::From).unwrap_or_default(),
    )
    .header(HeaderName::To, to)
    .header(
        HeaderName::CallId,
        invite.header(HeaderName::CallId).unwrap_or_default(),
    )
    .header(HeaderName::CSeq, &format!("{seq} {method}"))
    .build()
    .map_err(ProtoError::Build)
}
