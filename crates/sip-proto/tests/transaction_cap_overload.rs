//! The transaction layer is bounded (DESIGN.md rule 11): beyond the cap a new
//! request makes no transaction and comes out as `Overloaded`, for the TU to
//! answer 503 statelessly; a request the TU sends is refused.

mod common;

use common::*;
use simple_testkit::LinkConfig;
use sip_proto::{
    Input, Output, ProtoError, Tag, Timers, TransactionLayer, Transport, stateless_response,
};

#[test]
fn beyond_the_cap_requests_are_overloaded() {
    let layers = vec![
        TransactionLayer::new(Timers::default()),
        TransactionLayer::new(Timers::default()).with_max_transactions(2),
    ];
    let mut net = Net::with_layers(Transport::Udp, LinkConfig::default(), layers);
    assert_eq!(net.node(B).layer.max_transactions(), 2);
    for b in ["z9hG4bKo1", "z9hG4bKo2", "z9hG4bKo3"] {
        let msg = request_from(&net, A, "OPTIONS", b);
        net.send_request(A, B, msg);
    }
    net.run_for(ms(10));
    assert_eq!(net.node(B).layer.len(), 2);
    assert_eq!(net.node(B).requests().len(), 2);
    let (msg, peer) = net
        .node(B)
        .log
        .iter()
        .find_map(|e| match &e.output {
            Output::Overloaded { msg, peer } => Some((msg.clone(), *peer)),
            _ => None,
        })
        .unwrap();
    assert_eq!(msg.via().unwrap().branch(), Some("z9hG4bKo3"));
    // The TU answers 503 statelessly.
    let busy = stateless_response(&msg, 503, Some(&Tag::from("ovl"))).unwrap();
    let r = net
        .input(B, Input::SendStateless { msg: busy, peer })
        .unwrap();
    assert_eq!(r, None);
    let t = net
        .node(B)
        .log
        .iter()
        .rev()
        .find_map(|e| match &e.output {
            Output::Transmit(t) => Some(t.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(t.key, None);
    assert!(start_line(&t.bytes).starts_with("SIP/2.0 503"));
    net.run_for(ms(10));
    // A's third transaction got the 503.
    assert_eq!(net.node(A).sent_at("OPTIONS").len(), 3);
    // B's own sends are refused at the cap.
    let msg = request_from(&net, B, "OPTIONS", "z9hG4bKo4");
    let peer = net.peer(A);
    assert_eq!(
        net.input(B, Input::SendRequest { msg, peer }).unwrap_err(),
        ProtoError::TooManyTransactions(2)
    );
}
