//! RFC 3261 §18.1.1: a request too large for UDP goes over a
//! congestion-controlled transport. Helpers for the element that picks the
//! transport (the proxy core, later): the driver itself never changes the
//! transport the TU chose.

use sip_msg::{HeaderName, SipMessage, Via};
use sip_proto::{Peer, Transport};

use crate::driver::NO_FLOW;

/// RFC 3261 §18.1.1: with the path MTU unknown, a request larger than 1300
/// bytes MUST go over a congestion-controlled transport such as TCP.
pub const UDP_MAX_REQUEST: usize = 1300;

/// Does a request of `len` bytes bound for `transport` need TCP instead
/// (§18.1.1)?
pub fn needs_congestion_control(transport: Transport, len: usize) -> bool {
    transport == Transport::Udp && len > UDP_MAX_REQUEST
}

/// Moves a request bound for UDP to TCP when §18.1.1 requires it: rewrites
/// the transport in its top Via (same branch: same transaction) and returns
/// the TCP peer, with [`NO_FLOW`] so the driver reuses or opens a connection.
/// `None` leaves the message alone: not a request, not UDP, small enough, or
/// a top Via that does not parse.
///
/// Only call it when the target accepts TCP (RFC 3263, or a `transport`
/// URI parameter). When the TCP attempt fails §18.1.1 allows retrying over
/// UDP: the caller's decision.
pub fn switch_large_request_to_tcp(msg: &mut SipMessage, peer: Peer) -> Option<Peer> {
    if !msg.is_request() || !needs_congestion_control(peer.transport, msg.wire_len()) {
        return None;
    }
    let top = msg.pop_first_value(HeaderName::Via)?;
    let rewritten = Via::parse(&top)
        .ok()
        .filter(|v| v.transport.eq_ignore_ascii_case("UDP"))
        .and_then(|_| replace_transport(&top, "TCP"));
    match rewritten {
        Some(v) => {
            msg.push_front(HeaderName::Via, &v);
            Some(Peer {
                transport: Transport::Tcp,
                flow: NO_FLOW,
                ..peer
            })
        }
        None => {
            msg.push_front(HeaderName::Via, &top);
            None
        }
    }
}

/// `SIP / 2.0 / UDP sent-by...` with the transport token replaced (the
/// sent-protocol allows LWS around the slashes, §25.1).
fn replace_transport(via: &str, transport: &str) -> Option<String> {
    let mut slashes = via.match_indices('/').map(|(i, _)| i);
    let second = slashes.nth(1)?;
    let after = &via[second + 1..];
    let start = second + 1 + (after.len() - after.trim_start().len());
    let token_len = via[start..]
        .find(|c: char| c.is_ascii_whitespace())
        .unwrap_or(via.len() - start);
    Some(format!(
        "{}{}{}",
        &via[..start],
        transport,
        &via[start + token_len..]
    ))
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use sip_proto::FlowId;

    use super::*;

    fn request(body_len: usize) -> SipMessage {
        let raw = format!(
            "MESSAGE sip:bob@example.test SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n\
Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK0\r\n\
From: <sip:a@example.test>;tag=f\r\nTo: <sip:bob@example.test>\r\nCall-ID: x\r\n\
CSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\nContent-Type: text/plain\r\nContent-Length: {body_len}\r\n\r\n{}",
            "x".repeat(body_len)
        );
        SipMessage::parse(Bytes::from(raw)).unwrap()
    }

    fn udp_peer() -> Peer {
        Peer::new(Transport::Udp, "192.0.2.2:5060".parse().unwrap(), FlowId(3))
    }

    #[test]
    fn large_udp_requests_move_to_tcp() {
        let mut small = request(100);
        assert!(switch_large_request_to_tcp(&mut small, udp_peer()).is_none());
        let mut big = request(1400);
        let p = switch_large_request_to_tcp(&mut big, udp_peer()).unwrap();
        assert_eq!(p.transport, Transport::Tcp);
        assert_eq!(p.flow, NO_FLOW);
        assert_eq!(p.remote, udp_peer().remote);
        let big = SipMessage::parse(big.to_bytes()).unwrap();
        let via = big.via().unwrap();
        assert_eq!(via.transport, "TCP");
        assert_eq!(via.branch(), Some("z9hG4bK1"));
        assert_eq!(big.header_lines(HeaderName::Via).count(), 2);
        assert!(needs_congestion_control(Transport::Udp, 1301));
        assert!(!needs_congestion_control(Transport::Tcp, 5000));
    }

    #[test]
    fn transport_token_replaced_with_lws() {
        assert_eq!(
            replace_transport("SIP / 2.0 / udp h;branch=z9hG4bK1", "TCP").as_deref(),
            Some("SIP / 2.0 / TCP h;branch=z9hG4bK1")
        );
    }
}
