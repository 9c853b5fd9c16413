//! INVITE client transaction, Accepted (RFC 6026 §7.2, §8.4): a 2xx moves the
//! transaction to Accepted with Timer M = 64*T1; every further 2xx (a
//! retransmission or another fork) goes to the TU; the transaction never ACKs
//! a 2xx; after Timer M a 2xx is stray.

mod common;

use common::*;
use sip_msg::HeaderName;
use sip_proto::{Input, Output, Tag, TransactionState, reason_phrase, response_builder};

#[test]
fn every_2xx_reaches_the_tu_until_timer_m() {
    let mut net = Net::udp();
    let invite = request_from(&net, A, "INVITE", "z9hG4bKm1");
    let key = net.send_request(A, B, invite);
    net.run_for(ms(10));
    let (skey, sreq) = only_request(&net, B);
    let ok = response(&sreq, 200);
    net.respond(B, skey, ok.clone());
    net.run_for(ms(10)); // at 20 ms
    assert_eq!(net.node(A).responses(key), [200]);
    assert_eq!(
        net.node(A).layer.state(key),
        Some(TransactionState::Accepted)
    );
    // B's TU retransmits its 2xx (§13.3.1.4): A's TU sees it again.
    net.run_until(ms(510));
    net.respond(B, skey, ok.clone());
    net.run_for(ms(10));
    assert_eq!(net.node(A).responses(key), [200, 200]);
    // A 2xx from another fork (other To tag) also goes up.
    let fork = response_builder(&sreq, 200, reason_phrase(200), Some(&Tag::from("fork2")))
        .unwrap()
        .header(HeaderName::Contact, "<sip:bob@192.0.2.9>")
        .build()
        .unwrap();
    let peer = net.peer(B);
    net.input(A, Input::Received { msg: fork, peer }).unwrap();
    assert_eq!(net.node(A).responses(key), [200, 200, 200]);
    // The transaction itself never sent an ACK.
    assert!(net.node(A).sent_at("ACK").is_empty());
    // Timer M: 64*T1 after the first 2xx (20 ms).
    net.run_until(secs(40));
    assert_eq!(net.node(A).terminated_at(key), Some(ms(32_020)));
    // Now a 2xx matches nothing: stray (RFC 6026 §8.9).
    let peer = net.peer(B);
    let r = net.input(A, Input::Received { msg: ok, peer }).unwrap();
    assert_eq!(r, None);
    assert_eq!(net.node(A).stray_responses().len(), 1);
    assert!(matches!(
        net.node(A).log.last().map(|e| &e.output),
        Some(Output::StrayResponse { .. })
    ));
}
