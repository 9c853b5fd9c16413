//! Transport errors (RFC 3261 §17.1.4, §17.2.4, RFC 6026 §7.1): client and
//! non-INVITE server transactions inform the TU and terminate; an INVITE
//! server transaction informs the TU and stays, to absorb retransmissions.

mod common;

use common::*;
use sip_proto::{Input, Output, ProtoError, TransactionState};

fn transport_errors(net: &Net, i: usize) -> usize {
    net.node(i)
        .log
        .iter()
        .filter(|e| matches!(e.output, Output::TransportError { .. }))
        .count()
}

#[test]
fn client_transaction_terminates() {
    let mut net = Net::udp();
    let msg = request_from(&net, A, "INVITE", "z9hG4bKte1");
    let key = net.send_request(A, B, msg);
    net.input(A, Input::TransportError { key }).unwrap();
    assert_eq!(transport_errors(&net, A), 1);
    assert_eq!(net.node(A).terminated_at(key), Some(ms(0)));
    // The key is dead now.
    assert_eq!(
        net.input(A, Input::TransportError { key }).unwrap_err(),
        ProtoError::UnknownTransaction(key)
    );
}

#[test]
fn invite_server_stays_non_invite_server_goes() {
    let mut net = Net::udp();
    let invite = request_from(&net, A, "INVITE", "z9hG4bKte2");
    net.send_request(A, B, invite.clone());
    let options = request_from(&net, A, "OPTIONS", "z9hG4bKte3");
    net.send_request(A, B, options);
    net.run_for(ms(10));
    let reqs = net.node(B).requests();
    let (ikey, ireq) = reqs[0].clone();
    let (okey, _) = reqs[1].clone();
    net.respond(B, ikey, response(&ireq, 486));
    net.input(B, Input::TransportError { key: ikey }).unwrap();
    net.input(B, Input::TransportError { key: okey }).unwrap();
    assert_eq!(transport_errors(&net, B), 2);
    assert_eq!(
        net.node(B).layer.state(ikey),
        Some(TransactionState::Completed)
    );
    assert_eq!(net.node(B).layer.state(okey), None);
    // The INVITE transaction still absorbs a retransmission (answering it).
    let peer = net.peer(A);
    let before = net.node(B).sent_at("SIP/2.0 486").len();
    net.input(B, Input::Received { msg: invite, peer }).unwrap();
    assert_eq!(net.node(B).sent_at("SIP/2.0 486").len(), before + 1);
    assert_eq!(net.node(B).requests().len(), 2);
}
