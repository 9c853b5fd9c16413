//! CANCEL (RFC 3261 §9): the client builds it from the INVITE (same branch,
//! Request-URI, Call-ID, From, To, CSeq number); it is a transaction of its
//! own on both sides; the server finds the INVITE it cancels with
//! `find_cancel_target`; responses to the CANCEL and to the INVITE go to their
//! own client transactions.

mod common;

use bytes::Bytes;
use common::*;
use sip_msg::{HeaderName, SipMessage};
use sip_proto::{ProtoError, TransactionKind, TransactionState, cancel_request};

#[test]
fn cancel_is_built_from_the_invite() {
    let raw = "INVITE sip:bob@example.test SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKc0, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKold\r\n\
Max-Forwards: 69\r\n\
Route: <sip:p1.example.test;lr>\r\n\
Route: <sip:p2.example.test;lr>\r\n\
From: \"Alice\" <sip:alice@example.test>;tag=a1\r\n\
To: <sip:bob@example.test>\r\n\
Call-ID: c0@example.test\r\n\
CSeq: 314 INVITE\r\n\
Contact: <sip:alice@192.0.2.1>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 3\r\n\r\nv=0";
    let invite = SipMessage::parse(Bytes::from_static(raw.as_bytes())).unwrap();
    let cancel = cancel_request(&invite).unwrap();
    assert_eq!(cancel.method_str(), Some("CANCEL"));
    assert_eq!(cancel.request_uri_str(), Some("sip:bob@example.test"));
    // A single Via: the INVITE's top one.
    let vias: Vec<&str> = cancel.header_lines(HeaderName::Via).collect();
    assert_eq!(vias, ["SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKc0"]);
    let routes: Vec<&str> = cancel.header_lines(HeaderName::Route).collect();
    assert_eq!(
        routes,
        ["<sip:p1.example.test;lr>", "<sip:p2.example.test;lr>"]
    );
    assert_eq!(
        cancel.header(HeaderName::From),
        invite.header(HeaderName::From)
    );
    assert_eq!(cancel.header(HeaderName::To), invite.header(HeaderName::To));
    assert_eq!(cancel.call_id().unwrap(), "c0@example.test");
    assert_eq!(cancel.header(HeaderName::CSeq), Some("314 CANCEL"));
    assert_eq!(cancel.max_forwards().unwrap(), Some(69));
    assert!(cancel.body().is_empty());
    // Only INVITEs are cancelled.
    let bye = request(
        "BYE",
        sip_proto::Transport::Udp,
        "192.0.2.1:5060".parse().unwrap(),
        "z9hG4bKb",
        "c",
        2,
        Some("t"),
    );
    assert_eq!(
        cancel_request(&bye).unwrap_err(),
        ProtoError::CancelNonInvite
    );
}

#[test]
fn cancel_end_to_end() {
    let mut net = Net::udp();
    let invite = request_from(&net, A, "INVITE", "z9hG4bKc1");
    let ikey = net.send_request(A, B, invite.clone());
    net.run_for(ms(10));
    let (skey, sreq) = only_request(&net, B);
    net.respond(B, skey, response(&sreq, 180));
    net.run_for(ms(10));
    assert_eq!(
        net.node(A).layer.state(ikey),
        Some(TransactionState::Proceeding)
    );
    // §9.1: CANCEL after a provisional, as a new client transaction.
    let ckey = net.send_request(A, B, cancel_request(&invite).unwrap());
    assert_ne!(ckey, ikey);
    assert_eq!(
        net.node(A).layer.kind(ckey),
        Some(TransactionKind::ClientNonInvite)
    );
    net.run_for(ms(10));
    // B: the CANCEL is a new server transaction, not a retransmission.
    let reqs = net.node(B).requests();
    assert_eq!(reqs.len(), 2);
    let (cskey, creq) = reqs[1].clone();
    assert_ne!(cskey, skey);
    assert_eq!(creq.method_str(), Some("CANCEL"));
    assert_eq!(net.node(B).layer.find_cancel_target(&creq), Some(skey));
    // The TU answers 200 to the CANCEL and 487 to the INVITE (§9.2).
    net.respond(B, cskey, response(&creq, 200));
    net.respond(B, skey, response(&sreq, 487));
    net.run_for(ms(10));
    assert_eq!(net.node(A).responses(ckey), [200]);
    assert_eq!(net.node(A).responses(ikey), [180, 487]);
    // The 487 is ACKed by A's INVITE transaction, matched by B.
    net.run_for(ms(10));
    assert_eq!(net.node(A).sent_at("ACK").len(), 1);
    assert_eq!(
        net.node(B).layer.state(skey),
        Some(TransactionState::Confirmed)
    );
}

#[test]
fn cancel_matching_nothing_finds_nothing() {
    let mut net = Net::udp();
    let invite = request_from(&net, A, "INVITE", "z9hG4bKc2");
    net.send_request(A, B, invite.clone());
    net.run_for(ms(10));
    // Another branch: no target (the TU answers 481).
    let other = request_from(&net, A, "INVITE", "z9hG4bKc3");
    let cancel = cancel_request(&other).unwrap();
    assert_eq!(net.node(B).layer.find_cancel_target(&cancel), None);
    // Same branch but another sent-by (§17.2.3 rule 2): no target either.
    let mut spoofed = cancel_request(&invite).unwrap();
    spoofed.pop_first_value(HeaderName::Via);
    spoofed.push_front(
        HeaderName::Via,
        "SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bKc2",
    );
    assert_eq!(net.node(B).layer.find_cancel_target(&spoofed), None);
    // A CANCEL for a non-INVITE transaction finds nothing.
    let options = request_from(&net, A, "OPTIONS", "z9hG4bKc4");
    net.send_request(A, B, options.clone());
    net.run_for(ms(10));
    let raw = String::from_utf8(options.to_bytes().to_vec())
        .unwrap()
        .replacen("OPTIONS sip", "CANCEL sip", 1)
        .replace("1 OPTIONS", "1 CANCEL");
    let cancel = SipMessage::parse(Bytes::from(raw)).unwrap();
    assert_eq!(net.node(B).layer.find_cancel_target(&cancel), None);
}
