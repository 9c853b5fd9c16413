//! Non-INVITE server transaction (RFC 3261 §17.2.2): Trying discards request
//! retransmissions; Proceeding re-sends the last provisional; Completed
//! re-sends the final and refuses another final from the TU; Timer J ends it
//! after 64*T1 on UDP, at once on TCP.

mod common;

use common::*;
use sip_proto::{Input, ProtoError, TransactionState, Transport};

#[test]
fn each_state_answers_retransmissions_as_the_rfc_says() {
    let mut net = Net::udp();
    let from = net.nowhere();
    let msg = request(
        "MESSAGE",
        Transport::Udp,
        from.remote,
        "z9hG4bKj1",
        "call-j1",
        5,
        None,
    );
    let retransmit = |net: &mut Net| {
        let from = net.nowhere();
        net.input(
            B,
            Input::Received {
                msg: msg.clone(),
                peer: from,
            },
        )
        .unwrap()
    };
    let key = retransmit(&mut net).unwrap();
    assert_eq!(net.node(B).layer.state(key), Some(TransactionState::Trying));
    // Trying: discarded, nothing sent.
    assert_eq!(retransmit(&mut net), Some(key));
    assert!(net.node(B).transmits().is_empty());
    // Proceeding: the provisional again.
    net.respond(B, key, response(&msg, 100));
    assert_eq!(
        net.node(B).layer.state(key),
        Some(TransactionState::Proceeding)
    );
    net.run_until(ms(500));
    retransmit(&mut net);
    assert_eq!(net.node(B).sent_at("SIP/2.0 100"), [ms(0), ms(500)]);
    // Completed: the final again.
    net.run_until(secs(1));
    net.respond(B, key, response(&msg, 202));
    assert_eq!(
        net.node(B).layer.state(key),
        Some(TransactionState::Completed)
    );
    net.run_until(secs(3));
    retransmit(&mut net);
    assert_eq!(net.node(B).sent_at("SIP/2.0 202"), [secs(1), secs(3)]);
    // Another final is refused (§17.2.2: discarded), nothing sent.
    let err = net
        .input(
            B,
            Input::SendResponse {
                key,
                msg: response(&msg, 500),
            },
        )
        .unwrap_err();
    assert!(matches!(
        err,
        ProtoError::ResponseRefused { status: 500, .. }
    ));
    assert!(net.node(B).sent_at("SIP/2.0 500").is_empty());
    // Only one request reached the TU.
    assert_eq!(net.node(B).requests().len(), 1);
    // Timer J: 64*T1 after the final.
    net.settle();
    assert_eq!(net.node(B).terminated_at(key), Some(secs(33)));
    // After J a retransmission would be a new transaction.
    assert!(retransmit(&mut net).is_some_and(|k| k != key));
}

#[test]
fn tcp_timer_j_is_zero() {
    let mut net = Net::tcp();
    let msg = request_from(&net, A, "OPTIONS", "z9hG4bKj2");
    let ckey = net.send_request(A, B, msg);
    net.run_for(ms(10));
    let (skey, sreq) = only_request(&net, B);
    net.respond(B, skey, response(&sreq, 200));
    assert_eq!(net.node(B).terminated_at(skey), Some(ms(10)));
    net.run_for(ms(10));
    // And Timer K is zero on the client.
    assert_eq!(net.node(A).responses(ckey), [200]);
    assert_eq!(net.node(A).terminated_at(ckey), Some(ms(20)));
}
