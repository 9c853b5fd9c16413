//! RFC 2543 fallback matching (RFC 3261 §17.2.3): without the magic cookie in
//! the branch, a request matches by Request-URI, To tag, From tag, Call-ID,
//! CSeq and top Via; an ACK by the same minus the method, with the To tag of
//! the response the transaction sent. RFC 6026 §6: such an ACK reaching an
//! INVITE transaction in Accepted goes to the TU.

// Helpers below unwrap like the tests they serve.
#![allow(clippy::unwrap_used)]

mod common;

use bytes::Bytes;
use common::*;
use sip_msg::SipMessage;
use sip_proto::{Input, TransactionKind, TransactionState};

const SRC: &str = "198.51.100.7:5060";

/// An RFC 2543 request: no branch at all when `branch` is empty.
fn old(
    method: &str,
    cseq_method: &str,
    from_tag: &str,
    to_tag: Option<&str>,
    branch: &str,
) -> SipMessage {
    let branch = if branch.is_empty() {
        String::new()
    } else {
        format!(";branch={branch}")
    };
    let to_tag = to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
    let raw = format!(
        "{method} sip:bob@example.test SIP/2.0\r\n\
Via: SIP/2.0/UDP {SRC}{branch}\r\n\
From: <sip:carol@example.test>;tag={from_tag}\r\n\
To: <sip:bob@example.test>{to_tag}\r\n\
Call-ID: old-1@example.test\r\n\
CSeq: 9 {cseq_method}\r\n\
Contact: <sip:carol@{SRC}>\r\n\
Content-Length: 0\r\n\r\n"
    );
    SipMessage::parse(Bytes::from(raw)).unwrap()
}

fn receive(net: &mut Net, msg: SipMessage) -> Option<sip_proto::TransactionKey> {
    let peer = net.nowhere();
    let peer = sip_proto::Peer {
        remote: SRC.parse().unwrap(),
        ..peer
    };
    net.input(B, Input::Received { msg, peer }).unwrap()
}

#[test]
fn invite_retransmission_and_ack_match_without_a_branch() {
    let mut net = Net::udp();
    let invite = old("INVITE", "INVITE", "c1", None, "");
    let key = receive(&mut net, invite.clone()).unwrap();
    assert_eq!(
        net.node(B).layer.kind(key),
        Some(TransactionKind::ServerInvite)
    );
    net.respond(B, key, response(&invite, 180));
    // The same INVITE again: a retransmission, the 180 is re-sent.
    assert_eq!(receive(&mut net, invite.clone()), Some(key));
    assert_eq!(net.node(B).requests().len(), 1);
    assert_eq!(net.node(B).sent_at("SIP/2.0 180").len(), 2);
    // Another From tag: another transaction.
    let other = receive(&mut net, old("INVITE", "INVITE", "c2", None, "")).unwrap();
    assert_ne!(other, key);
    // A non-cookie branch is no better than none: still the 2543 rules.
    let with_old_branch = receive(&mut net, old("INVITE", "INVITE", "c3", None, "1234")).unwrap();
    assert_ne!(with_old_branch, key);
    assert_eq!(
        receive(&mut net, old("INVITE", "INVITE", "c3", None, "1234")),
        Some(with_old_branch)
    );
    // The final response carries To tag bob1; an ACK with another To tag
    // does not match (it goes to the TU as a transaction-less ACK).
    net.respond(B, key, response(&invite, 486));
    assert_eq!(
        receive(&mut net, old("ACK", "ACK", "c1", Some("nope"), "")),
        None
    );
    assert_eq!(net.node(B).acks().len(), 1);
    assert_eq!(
        net.node(B).layer.state(key),
        Some(TransactionState::Completed)
    );
    // The right To tag confirms the transaction.
    assert_eq!(
        receive(&mut net, old("ACK", "ACK", "c1", Some("bob1"), "")),
        Some(key)
    );
    assert_eq!(
        net.node(B).layer.state(key),
        Some(TransactionState::Confirmed)
    );
    assert_eq!(net.node(B).acks().len(), 1);
}

#[test]
fn ack_in_accepted_goes_to_the_tu() {
    let mut net = Net::udp();
    let invite = old("INVITE", "INVITE", "c1", None, "");
    let key = receive(&mut net, invite.clone()).unwrap();
    net.respond(B, key, response(&invite, 200));
    assert_eq!(
        net.node(B).layer.state(key),
        Some(TransactionState::Accepted)
    );
    // The 2543 ACK for the 2xx computes the same transaction id as the
    // INVITE; RFC 6026 §6: in Accepted it is passed to the TU.
    assert_eq!(
        receive(&mut net, old("ACK", "ACK", "c1", Some("bob1"), "")),
        Some(key)
    );
    assert_eq!(net.node(B).acks().len(), 1);
    // The INVITE retransmission is absorbed.
    let sent = net.node(B).transmits().len();
    assert_eq!(receive(&mut net, invite), Some(key));
    assert_eq!(net.node(B).transmits().len(), sent);
}

#[test]
fn non_invite_and_cancel_without_a_branch() {
    let mut net = Net::udp();
    let options = old("OPTIONS", "OPTIONS", "c1", None, "");
    let key = receive(&mut net, options.clone()).unwrap();
    assert_eq!(receive(&mut net, options), Some(key));
    assert_eq!(net.node(B).requests().len(), 1);
    // A CANCEL for a 2543 INVITE: found by the 2543 fields.
    let invite = old("INVITE", "INVITE", "c5", None, "");
    let ikey = receive(&mut net, invite).unwrap();
    let cancel = old("CANCEL", "CANCEL", "c5", None, "");
    let ckey = receive(&mut net, cancel.clone()).unwrap();
    assert_ne!(ckey, ikey);
    assert_eq!(net.node(B).layer.find_cancel_target(&cancel), Some(ikey));
}
